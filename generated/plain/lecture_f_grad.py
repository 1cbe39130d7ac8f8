"""Reverse-mode derivatives of f (lecture.py:23) with respect to x, y.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_f(x, y):
    # forward sweep
    # line 24: a = y * np.log(x)
    v1 = np.log(x)
    a = y * v1
    # line 25: return a + np.sqrt(a)
    v2 = np.sqrt(a)
    out = a + v2
    check_scalar(out, 'f')
    # backward sweep
    # line 25: return a + np.sqrt(a)
    a_bar = 1.0 + 0.5 / v2
    # line 24: a = y * np.log(x)
    y_bar = a_bar * v1
    x_bar = a_bar * y / x
    return x_bar, y_bar


def value_and_grad_f(x, y):
    # forward sweep
    # line 24: a = y * np.log(x)
    v1 = np.log(x)
    a = y * v1
    # line 25: return a + np.sqrt(a)
    v2 = np.sqrt(a)
    out = a + v2
    check_scalar(out, 'f')
    # backward sweep
    # line 25: return a + np.sqrt(a)
    a_bar = 1.0 + 0.5 / v2
    # line 24: a = y * np.log(x)
    y_bar = a_bar * v1
    x_bar = a_bar * y / x
    return out, (x_bar, y_bar)


def vjp_f(x, y, out_bar):
    # forward sweep
    # line 24: a = y * np.log(x)
    v1 = np.log(x)
    a = y * v1
    # line 25: return a + np.sqrt(a)
    v2 = np.sqrt(a)
    out = a + v2
    # backward sweep
    # line 25: return a + np.sqrt(a)
    a_bar = out_bar + out_bar * 0.5 / v2
    # line 24: a = y * np.log(x)
    y_bar = unbroadcast(a_bar * v1, y)
    x_bar = unbroadcast(a_bar * y, v1) / x
    return as_gradient(x_bar, x), as_gradient(y_bar, y)


# --- run-time helpers the functions above call (NumPy only; reference versions) ---

class CheckFailed(ValueError):
    """A run-time check of generated code failed: the arguments are outside what the derivative
    was made for (a non-scalar output for a gradient, a wide matrix for qr's rule)."""

    arguments_at_fault = True  # the arguments are outside the rule; the code is not at fault


class NotScalar(CheckFailed):
    """The function a gradient is made for returned an array, not a scalar: ``name`` is the
    function's, ``shape`` the array's."""

    def __init__(self, name, shape):
        super().__init__(f"{name} must return a scalar, not shape {shape}; use vjp_{name}")
        self.name = name
        self.shape = shape


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


def fits_shape(g_shape, shape):
    """True if an adjoint of ``g_shape`` is one for a value of ``shape`` (equal, or a
    broadcast of it: a number for an array)."""
    if g_shape == shape:
        return True
    try:
        return np.broadcast_shapes(g_shape, shape) == shape
    except ValueError:
        return False


def as_gradient(g, x):
    """The adjoint ``g`` of the argument ``x`` as the caller gets it: in ``x``'s own structure
    (tuples, lists, dicts and named tuples, nested, as in JAX), with arrays the caller may
    write into (never a read-only view made by unreduce), of ``x``'s floating dtype."""
    if type(g) is np.ndarray and not isinstance(x, (tuple, list)):
        if type(x) is np.ndarray and g.dtype is not x.dtype and x.dtype.kind in "fc":
            return g.astype(x.dtype)
        return g if g.base is None or g.flags.writeable else g.copy()  # (base: the fast test)
    if isinstance(x, (tuple, list)) and not isinstance(g, (tuple, list)) and np.ndim(g) > 0:
        if not fits_shape(np.shape(g), np.shape(x)):  # NumPy read x as an array
            raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple "
                             f"or list of shape {np.shape(x)}")
        g = list(np.broadcast_to(g, np.shape(x)))  # one adjoint per element
    if isinstance(x, (tuple, list)) and isinstance(g, (tuple, list)):
        if len(g) != len(x):
            raise ValueError(f"internal: {len(g)} adjoints for {len(x)} elements")
        items = [as_gradient(e_bar, e) for e_bar, e in zip(g, x)]
        if hasattr(x, "_fields"):  # a named tuple
            return type(x)(*items)
        return type(x)(items) if type(x) in (tuple, list) else tuple(items)
    if isinstance(x, dict) and isinstance(g, dict):
        items = [(k, as_gradient(g[k], e)) for k, e in x.items()]
        return dict(items) if type(x) is dict else type(x)(items)
    if isinstance(x, np.generic) and x.dtype.kind in "fc" and np.ndim(g) == 0:
        return x.dtype.type(g)
    return g
