"""Short reference versions of the run-time helpers, for modules written to be read.

``s2sad.source(f, plain=True)`` (``s2sad grad --plain``) copies these into the
generated module instead of the helpers of :mod:`s2sad.support` of the same name:
the same results, written as the textbook would, without the fast paths that
skip NumPy's generic functions for small arrays (type tests, ``np.add.reduce``,
stride-0 views, one matrix product for a whole loop). Helpers with no entry here
are copied as they are. Each is recognised as its helper when generated code is
differentiated again (:func:`s2sad.rules.support_rules.helper_copy`).

Layer 1 of the package (README, "The pipeline"), just above :mod:`s2sad.support`.
"""

import numpy as np

from .support import NotScalar, add_bars, tuple_bar


def check_scalar(value, name):
    """Raise NotScalar (a CheckFailed, a ValueError) unless ``value`` is 0-d: a gradient needs
    a scalar."""
    if np.ndim(value) != 0:
        raise NotScalar(name, np.shape(value))


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if isinstance(x, (tuple, list)):  # a tuple's adjoint (tuple_bar) adds element by element
        return g
    shape = np.shape(x)
    extra = np.ndim(g) - len(shape)
    if extra > 0:  # axes broadcasting put in front
        g = np.sum(g, axis=tuple(range(extra)))
    lead = len(shape) - np.ndim(g)  # (g may have fewer axes: a list slot's adjoint reset to 0.0)
    axes = tuple(i - lead for i, n in enumerate(shape[lead:], lead)
                 if n == 1 and np.shape(g)[i - lead] != 1)
    if axes:  # axes of length 1 broadcasting stretched
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g + np.zeros_like(x, dtype=np.result_type(np.asarray(x), g, 1.0))


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into (one per element for a tuple)."""
    if isinstance(x, (tuple, list)):
        return tuple_bar(zeros_bar(e) for e in x)
    if not isinstance(x, np.ndarray):
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))


def scatter_add(x_bar, index, g):
    """``x_bar[index] += g`` in place; repeated integer indices accumulate. A container's slot
    (its element may be another adjoint too) is replaced by the sum."""
    if isinstance(x_bar, (dict, list)) or x_bar.dtype == object:
        x_bar[index] = add_bars(x_bar[index], g)
    else:
        np.add.at(x_bar, index, g)


def matmul_bar_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (1-d operands and batches included)."""
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * b
    if np.ndim(b) == 1:
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if np.ndim(a) == 1:
        return unbroadcast((b @ np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a)


def matmul_bar_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b`` (1-d operands and batches included)."""
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast((np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


def matmul_bar_a_sum(terms, a):
    """The sum of ``matmul_bar_a(g, a, b)`` over a loop's ``(g, b)`` pairs."""
    total = zeros_bar(a)
    for g, b in terms:
        total = total + matmul_bar_a(g, a, b)
    return total


def matmul_bar_b_sum(terms, b):
    """The sum of ``matmul_bar_b(g, a, b)`` over a loop's ``(g, a)`` pairs."""
    total = zeros_bar(b)
    for g, a in terms:
        total = total + matmul_bar_b(g, a, b)
    return total


PLAIN = ["check_scalar", "unbroadcast", "unreduce", "zeros_bar", "scatter_add", "matmul_bar_a", "matmul_bar_b",
         "matmul_bar_a_sum", "matmul_bar_b_sum"]
