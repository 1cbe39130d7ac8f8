"""A 1-d convolution followed by single-head self-attention, trained on a retrieval task.

Each input is a sequence of T steps with two channels: a value channel of
random numbers and a marker channel that is 1 at one step p and 0 elsewhere.
The target is the value *one step after* the marker, x[p + 1, 0]. No single
position can solve this alone: a convolution has to bring the marker and the
next value together, and attention has to find that place among all the others.

    H = layer_norm(tanh(conv1d(X, Wc) + bc)) * gain + bias    (B, T - K + 1, d)
    A = attention(H, Wq, Wk, Wv)                             (B, T - K + 1, d)
    prediction = mean over positions of A, times w_out       (B,)
    loss = mean((prediction - y)^2)

with ``attention(H) = softmax(Q K^T / sqrt(d)) V`` row by row (Q = H Wq,
K = H Wk, V = H Wv, written with ``np.einsum``), a stable ``softmax`` that
subtracts the row maximum, and ``conv1d`` a loop over the K kernel taps, each
a matrix product of a shifted slice of the sequence with one tap's weights.

Every piece is an ordinary helper function in this module, called with
keyword arguments and defaults (``softmax(scores, axis=-1)``,
``layer_norm(..., eps=1e-5)``). s2sad generates one ``fwd_<helper>`` /
``bwd_<helper>`` pair per helper, differentiated only with respect to the
arguments that carry a derivative (``bwd_attention``,
``bwd_layer_norm_wrt_h_gain_bias``, ``bwd_softmax_wrt_z``: X is data): the
forward sweep of ``loss`` calls the ``fwd_`` functions, which return their
residuals, and its backward sweep the ``bwd_`` ones in reverse order.
``conv1d`` loops over its taps, so it gets one ``vjp_conv1d_wrt_w`` instead,
which keeps its loop's tape to itself. The committed module is
generated/attention_loss_grad.py.

``main()`` checks the gradient against finite differences, then trains all
eight parameter arrays by gradient descent with momentum on 64 sequences; the
loss printed every 50 steps goes down, and the trained model is scored on
1000 sequences it has not seen. (This small task has plateaus: with other
seeds the training loss still falls, but some runs take longer to find the
marker and generalise less well.)
"""

import numpy as np

import s2sad

PARAMETERS = ("Wc", "bc", "gain", "bias", "Wq", "Wk", "Wv", "w_out")


def softmax(z, axis=-1):
    """exp(z) normalised along ``axis``; the maximum is subtracted first so exp cannot overflow."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layer_norm(h, gain, bias, eps=1e-5):
    """Normalise each position's feature vector (the last axis) to mean 0 and variance 1."""
    centred = h - np.mean(h, axis=-1, keepdims=True)
    variance = np.mean(centred ** 2, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * gain + bias


def conv1d(x, w):
    """'Valid' 1-d convolution: x (B, T, C), w (K, C, D) -> (B, T - K + 1, D)."""
    taps = w.shape[0]
    steps = x.shape[1] - taps + 1
    out = x[:, 0:steps, :] @ w[0]
    for k in range(1, taps):
        out = out + x[:, k:k + steps, :] @ w[k]
    return out


def attention(H, Wq, Wk, Wv):
    """Single-head scaled dot-product self-attention over the positions of H (B, T, d)."""
    Q = H @ Wq
    K = H @ Wk
    V = H @ Wv
    scores = np.einsum("btd,bsd->bts", Q, K) / np.sqrt(Q.shape[-1])
    weights = softmax(scores, axis=-1)
    return np.einsum("bts,bsd->btd", weights, V)


def loss(Wc, bc, gain, bias, Wq, Wk, Wv, w_out, X, y):
    H = layer_norm(np.tanh(conv1d(X, Wc) + bc), gain, bias)
    A = attention(H, Wq=Wq, Wk=Wk, Wv=Wv)
    prediction = np.mean(A, axis=1) @ w_out
    return np.mean((prediction - y) ** 2)


def data(rng, sequences=64, steps=10):
    """Sequences X (B, T, 2) with a marker at a random step p, and targets y = X[:, p + 1, 0]."""
    X = np.zeros((sequences, steps, 2))
    X[:, :, 0] = rng.standard_normal((sequences, steps))
    where = rng.integers(0, steps - 2, sequences)
    X[np.arange(sequences), where, 1] = 1.0
    return X, X[np.arange(sequences), where + 1, 0]


def initial_parameters(rng, channels=2, width=8, taps=3):
    """Small random weights, in the order of PARAMETERS."""
    return [rng.standard_normal((taps, channels, width)) / np.sqrt(taps * channels),
            np.zeros(width), np.ones(width), np.zeros(width),
            rng.standard_normal((width, width)) / np.sqrt(width),
            rng.standard_normal((width, width)) / np.sqrt(width),
            rng.standard_normal((width, width)) / np.sqrt(width),
            rng.standard_normal(width) / np.sqrt(width)]


def finite_difference_check(rng, eps=1e-6):
    """<grad, u> against a central difference of the loss along a random direction u."""
    X, y = data(rng, sequences=4)
    params = initial_parameters(rng)
    grads = s2sad.grad(loss, wrt=PARAMETERS)(*params, X, y)
    directions = [rng.standard_normal(p.shape) for p in params]
    analytic = sum(np.sum(g * u) for g, u in zip(grads, directions))
    plus = [p + eps * u for p, u in zip(params, directions)]
    minus = [p - eps * u for p, u in zip(params, directions)]
    numeric = (loss(*plus, X, y) - loss(*minus, X, y)) / (2 * eps)
    return analytic, numeric


def train(steps=400, rate=0.02, momentum=0.9, seed=2, report=50):
    """Gradient descent with momentum on 64 sequences; returns (losses reported, weights)."""
    rng = np.random.default_rng(seed)
    X, y = data(rng)
    params = initial_parameters(rng)
    velocity = [np.zeros_like(p) for p in params]
    value_and_grad = s2sad.value_and_grad(loss, wrt=PARAMETERS)
    history = []
    for step in range(steps + 1):
        value, grads = value_and_grad(*params, X, y)
        if step % report == 0:
            history.append(value)
            print(f"step {step:4d}   loss {value:.6f}")
        velocity = [momentum * v - rate * g for v, g in zip(velocity, grads)]
        params = [p + v for p, v in zip(params, velocity)]
    return history, params


def main():
    analytic, numeric = finite_difference_check(np.random.default_rng(1))
    print(f"directional derivative: s2sad {analytic:.10f}, finite differences {numeric:.10f}")
    assert abs(analytic - numeric) <= 1e-6 * max(1.0, abs(numeric))
    losses, params = train()
    print(f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
    X, y = data(np.random.default_rng(100), sequences=1000)
    print(f"on 1000 new sequences: mean squared error {loss(*params, X, y):.4f} "
          f"(always predicting 0: {np.mean(y ** 2):.4f})")


if __name__ == "__main__":
    main()
