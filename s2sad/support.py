"""Run-time helpers that generated modules carry with them.

Generated code imports NumPy only, so when an adjoint needs a helper (undoing
broadcasting, scattering an indexed adjoint back), the emitter copies the
helper's source from this module into the generated module, once, above the
functions that use it. Each helper is plain NumPy, small, and has its own
derivative rule, so generated code can be differentiated again.
"""

import numpy as np


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
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


def unindex(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``.

    Repeated integer indices accumulate, as they must.
    """
    x_bar = np.zeros_like(x, dtype=np.result_type(np.asarray(x), g, 1.0))
    np.add.at(x_bar, index, g)
    return x_bar


def extremum_bar(g, x, ans, axis=None, keepdims=False):
    """The adjoint of ``max``/``min`` of ``x``: ``g`` shared equally among the ties."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
        ans = np.expand_dims(ans, axis)
    mask = x == ans
    return g * mask / np.sum(mask, axis=axis, keepdims=True)


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


def matmul_bar_a_sum(terms, a):
    """The sum of ``matmul_bar_a(g, a, b)`` over a loop's ``(g, b)`` pairs, as one product."""
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, bs = zip(*terms)
        return np.array(gs).T @ np.array(bs)
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, bs = zip(*terms)
        return np.concatenate(gs, axis=1) @ np.concatenate(bs, axis=1).T
    total = zeros_bar(a)
    for g, b in terms:
        total = total + matmul_bar_a(g, a, b)
    return total


def matmul_bar_b_sum(terms, b):
    """The sum of ``matmul_bar_b(g, a, b)`` over a loop's ``(g, a)`` pairs, as one product."""
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, as_ = zip(*terms)
        return np.array(as_).T @ np.array(gs)
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, as_ = zip(*terms)
        return np.concatenate(as_, axis=0).T @ np.concatenate(gs, axis=0)
    total = zeros_bar(b)
    for g, a in terms:
        total = total + matmul_bar_b(g, a, b)
    return total


def dot_bar_a(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)`` for operands of at most two dimensions."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    return matmul_bar_a(g, a, b)


def dot_bar_b(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` for operands of at most two dimensions."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    return matmul_bar_b(g, a, b)


def lift(t, x, ans):
    """A batch of tangents of ``x`` (leading axes) given ``ans``'s rank, to broadcast against it."""
    batch = np.ndim(t) - np.ndim(x)
    return np.reshape(t, np.shape(t)[:batch] + (1,) * (np.ndim(ans) - np.ndim(x)) + np.shape(x))


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number)."""
    if not isinstance(x, np.ndarray):
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))


def check_scalar(value, name):
    """Raise ValueError unless ``value`` is 0-d: a gradient needs a scalar output."""
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must return a scalar, not shape {np.shape(value)}; use vjp_{name}")


HELPERS = ["check_scalar", "zeros_bar", "unbroadcast", "unreduce", "unindex", "extremum_bar", "matmul_bar_a", "matmul_bar_b",
           "matmul_bar_a_sum", "matmul_bar_b_sum",
           "dot_bar_a", "dot_bar_b", "lift"]
