"""A residual network: a loop over layers whose weights are stacked in arrays.

    x_0 = X,   x_{k+1} = x_k + U_k sigmoid(V_k x_k)   (k = 0..L-1),   loss = mean((x_L - Y)^2)

The L layers' weights are the rows of two stacked arrays, U of shape
(L, d, m) and V of shape (L, m, d); ``loss`` loops over them with
``zip(U, V)`` and applies each layer to a batch of column vectors X (d, N).
``sigmoid`` is a small helper in this module (one return of 4 operations): s2sad
inlines it into each layer's statements (a larger helper would get a
``fwd_sigmoid``/``bwd_sigmoid`` pair). The gradient with respect to U and V is
the one of backpropagation through the layers: the backward sweep visits the
layers from the last to the first, and each layer's adjoint lands in its own
slice of U_bar and V_bar.

The script checks the gradient against central finite differences, then
trains the network by gradient descent to map X to a rotation of X; the loss
printed every 50 steps goes down.
"""

import numpy as np

import s2sad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(U, V, X, Y):
    x = X
    for U_k, V_k in zip(U, V):
        x = x + U_k @ sigmoid(V_k @ x)
    return np.mean((x - Y) ** 2)


def problem(rng, d=2, m=8, layers=4, samples=32):
    """Initial weights, inputs X on the unit circle, and targets Y: X rotated by 60 degrees."""
    angles = rng.uniform(0.0, 2.0 * np.pi, samples)
    X = np.stack([np.cos(angles), np.sin(angles)])
    c, s = np.cos(np.pi / 3), np.sin(np.pi / 3)
    Y = np.array([[c, -s], [s, c]]) @ X
    U = rng.standard_normal((layers, d, m)) * 0.1
    V = rng.standard_normal((layers, m, d))
    return U, V, X, Y


def finite_difference_check(U, V, X, Y, rng, eps=1e-6):
    """Compare <grad, direction> with a central difference along a random direction."""
    U_bar, V_bar = s2sad.grad(loss, wrt=("U", "V"))(U, V, X, Y)
    dU, dV = rng.standard_normal(U.shape), rng.standard_normal(V.shape)
    analytic = np.sum(U_bar * dU) + np.sum(V_bar * dV)
    numeric = (loss(U + eps * dU, V + eps * dV, X, Y)
               - loss(U - eps * dU, V - eps * dV, X, Y)) / (2 * eps)
    return analytic, numeric


def train(steps=300, rate=0.2, seed=0, report=50):
    rng = np.random.default_rng(seed)
    U, V, X, Y = problem(rng)
    value_and_grad = s2sad.value_and_grad(loss, wrt=("U", "V"))
    history = []
    for step in range(steps + 1):
        value, (U_bar, V_bar) = value_and_grad(U, V, X, Y)
        if step % report == 0:
            history.append(value)
            print(f"step {step:4d}   loss {value:.6f}")
        U, V = U - rate * U_bar, V - rate * V_bar
    return history


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    analytic, numeric = finite_difference_check(*problem(rng), rng)
    print(f"directional derivative: s2sad {analytic:.10f}, finite differences {numeric:.10f}")
    assert abs(analytic - numeric) <= 1e-6 * max(1.0, abs(numeric))
    losses = train()
    print(f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
