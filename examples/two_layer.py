"""A two-layer network y = V σ(U a), trained by gradient descent on least squares.

Columns of A are the inputs a, columns of Y the targets. The loss

    L(U, V) = 1/(2n) Σ ‖V σ(U a_i) - y_i‖²

is written as a straight-line function of the parameters and the data; s2sad
differentiates it with respect to U and V only (the data are constants), and
the ``__main__`` block below runs plain gradient descent with the gradient
that ``s2sad.value_and_grad`` generates. Backpropagation here is just the
reverse sweep of ``loss``:

    R_bar = R / n,   V_bar = R_bar Hᵀ,   H_bar = Vᵀ R_bar,
    Z_bar = H_bar ⊙ σ(Z) (1 - σ(Z)),   U_bar = Z_bar Aᵀ.

The data come from a random "teacher" network of the same shape plus a
little noise, so the loss can go close to the noise level.
"""

import numpy as np

import s2sad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(U, V, A, Y):
    H = sigmoid(U @ A)
    R = V @ H - Y
    return 0.5 * np.sum(R ** 2) / A.shape[1]


def make_data(rng, n=200, inputs=3, hidden=8, outputs=2, noise=0.01):
    """Inputs A (inputs × n) and targets Y (outputs × n) from a random teacher network."""
    A = rng.standard_normal((inputs, n))
    U, V = rng.standard_normal((hidden, inputs)), rng.standard_normal((outputs, hidden))
    Y = V @ sigmoid(U @ A) + noise * rng.standard_normal((outputs, n))
    return A, Y


def train(steps=2000, learning_rate=0.5, hidden=8, report_every=200, seed=0):
    rng = np.random.default_rng(seed)
    A, Y = make_data(rng)
    U = 0.5 * rng.standard_normal((hidden, A.shape[0]))
    V = 0.5 * rng.standard_normal((Y.shape[0], hidden))
    value_and_grad = s2sad.value_and_grad(loss, wrt=("U", "V"))
    for step in range(steps + 1):
        value, (U_bar, V_bar) = value_and_grad(U, V, A, Y)
        if step % report_every == 0:
            print(f"step {step:5d}   loss {value:.6f}")
        U = U - learning_rate * U_bar
        V = V - learning_rate * V_bar
    return U, V


if __name__ == "__main__":
    train()
