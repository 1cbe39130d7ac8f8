"""Reverse-mode derivatives of loss (mlp.py:17) with respect to W1, b1, W2, b2.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def check_scalar(value, name):
    """Raise ValueError unless ``value`` is 0-d: a gradient needs a scalar output."""
    if type(value) is not float and np.ndim(value) != 0:
        raise ValueError(f"{name} must return a scalar, not shape {np.shape(value)}; use vjp_{name}")


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if type(g) is float and type(x) is float:  # the common scalar case, without np.shape
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g + np.zeros_like(x, dtype=np.result_type(np.asarray(x), g, 1.0))


def matmul_bar_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (1-d operands and batches included)."""
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return g @ b.T
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * b
    if np.ndim(b) == 1:
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if np.ndim(a) == 1:
        return unbroadcast((b @ np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a)


def matmul_bar_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b`` (1-d operands and batches included)."""
    if np.ndim(a) == 2 and np.ndim(b) <= 2:
        return a.T @ g
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast((np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


def grad_loss(W1, b1, W2, b2, X, Y):
    # forward sweep
    # line 18: H = np.tanh(X @ W1 + b1)
    v1 = X @ W1
    v2 = v1 + b1
    H = np.tanh(v2)
    # line 19: P = H @ W2 + b2
    v3 = H @ W2
    P = v3 + b2
    # line 20: return np.mean((P - Y) ** 2)
    v4 = P - Y
    v5 = v4 ** 2
    out = np.mean(v5)
    check_scalar(out, 'loss')
    # backward sweep
    # line 20: return np.mean((P - Y) ** 2)
    v5_bar = unreduce(1.0, v5) / np.size(v5)
    v4_bar = v5_bar * 2 * v4
    P_bar = unbroadcast(v4_bar, P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    H_bar = matmul_bar_a(v3_bar, H, W2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = H_bar * (1 - H ** 2)
    v1_bar = unbroadcast(v2_bar, v1)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(v1_bar, X, W1)
    return W1_bar, b1_bar, W2_bar, b2_bar


def value_and_grad_loss(W1, b1, W2, b2, X, Y):
    # forward sweep
    # line 18: H = np.tanh(X @ W1 + b1)
    v1 = X @ W1
    v2 = v1 + b1
    H = np.tanh(v2)
    # line 19: P = H @ W2 + b2
    v3 = H @ W2
    P = v3 + b2
    # line 20: return np.mean((P - Y) ** 2)
    v4 = P - Y
    v5 = v4 ** 2
    out = np.mean(v5)
    check_scalar(out, 'loss')
    # backward sweep
    # line 20: return np.mean((P - Y) ** 2)
    v5_bar = unreduce(1.0, v5) / np.size(v5)
    v4_bar = v5_bar * 2 * v4
    P_bar = unbroadcast(v4_bar, P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    H_bar = matmul_bar_a(v3_bar, H, W2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = H_bar * (1 - H ** 2)
    v1_bar = unbroadcast(v2_bar, v1)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(v1_bar, X, W1)
    return out, (W1_bar, b1_bar, W2_bar, b2_bar)


def vjp_loss(W1, b1, W2, b2, X, Y, out_bar):
    # forward sweep
    # line 18: H = np.tanh(X @ W1 + b1)
    v1 = X @ W1
    v2 = v1 + b1
    H = np.tanh(v2)
    # line 19: P = H @ W2 + b2
    v3 = H @ W2
    P = v3 + b2
    # line 20: return np.mean((P - Y) ** 2)
    v4 = P - Y
    v5 = v4 ** 2
    # backward sweep
    # line 20: return np.mean((P - Y) ** 2)
    v5_bar = unreduce(out_bar, v5) / np.size(v5)
    v4_bar = v5_bar * 2 * v4
    P_bar = unbroadcast(v4_bar, P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    H_bar = matmul_bar_a(v3_bar, H, W2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = H_bar * (1 - H ** 2)
    v1_bar = unbroadcast(v2_bar, v1)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(v1_bar, X, W1)
    return W1_bar, b1_bar, W2_bar, b2_bar
