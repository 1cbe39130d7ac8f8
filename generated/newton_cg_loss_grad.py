"""Reverse-mode derivatives of loss (newton_cg.py:19) with respect to w.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np

LAMBDA = (0.001)


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


def grad_loss(w, X, y):
    # forward sweep
    # line 21: z = X @ w
    z = X @ w
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v1 = np.logaddexp(0.0, z)
    v2 = y * z
    v3 = v1 - v2
    v4 = np.mean(v3)
    v5 = 0.5 * LAMBDA
    v6 = w ** 2
    v7 = np.sum(v6)
    v8 = v5 * v7
    out = v4 + v8
    check_scalar(out, 'loss')
    # backward sweep
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v7_bar = v5
    v6_bar = unreduce(v7_bar, v6)
    w_bar = v6_bar * 2 * w
    v3_bar = unreduce(1.0, v3) / np.size(v3)
    v1_bar = unbroadcast(v3_bar, v1)
    v2_bar = unbroadcast(-v3_bar, v2)
    z_bar = unbroadcast(v2_bar * y, z)
    z_bar = z_bar + v1_bar * np.exp(z - v1)
    # line 21: z = X @ w
    w_bar += matmul_bar_b(z_bar, X, w)
    return w_bar


def value_and_grad_loss(w, X, y):
    # forward sweep
    # line 21: z = X @ w
    z = X @ w
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v1 = np.logaddexp(0.0, z)
    v2 = y * z
    v3 = v1 - v2
    v4 = np.mean(v3)
    v5 = 0.5 * LAMBDA
    v6 = w ** 2
    v7 = np.sum(v6)
    v8 = v5 * v7
    out = v4 + v8
    check_scalar(out, 'loss')
    # backward sweep
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v7_bar = v5
    v6_bar = unreduce(v7_bar, v6)
    w_bar = v6_bar * 2 * w
    v3_bar = unreduce(1.0, v3) / np.size(v3)
    v1_bar = unbroadcast(v3_bar, v1)
    v2_bar = unbroadcast(-v3_bar, v2)
    z_bar = unbroadcast(v2_bar * y, z)
    z_bar = z_bar + v1_bar * np.exp(z - v1)
    # line 21: z = X @ w
    w_bar += matmul_bar_b(z_bar, X, w)
    return out, w_bar


def vjp_loss(w, X, y, out_bar):
    # forward sweep
    # line 21: z = X @ w
    z = X @ w
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v1 = np.logaddexp(0.0, z)
    v2 = y * z
    v3 = v1 - v2
    v5 = 0.5 * LAMBDA
    v6 = w ** 2
    # backward sweep
    # line 22: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)
    v4_bar = out_bar
    v8_bar = out_bar
    v7_bar = v8_bar * v5
    v6_bar = unreduce(v7_bar, v6)
    w_bar = v6_bar * 2 * w
    v3_bar = unreduce(v4_bar, v3) / np.size(v3)
    v1_bar = unbroadcast(v3_bar, v1)
    v2_bar = unbroadcast(-v3_bar, v2)
    z_bar = unbroadcast(v2_bar * y, z)
    z_bar = z_bar + v1_bar * np.exp(z - v1)
    # line 21: z = X @ w
    w_bar += matmul_bar_b(z_bar, X, w)
    return w_bar
