"""Reverse-mode derivatives of f (sqrt_exp.py:21) with respect to x.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_f(x):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    check_scalar(out, 'f')
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return x_bar


def value_and_grad_f(x):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    check_scalar(out, 'f')
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return out, x_bar


def vjp_f(x, out_bar):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = out_bar * 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return as_gradient(x_bar, x)


# --- run-time helpers the functions above call (NumPy only) ---

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
    # numbers first (np.float64 is a float): np.ndim costs more than the whole of a scalar f
    if isinstance(value, (float, int, np.generic)):
        return
    if (value.ndim if type(value) is np.ndarray else np.ndim(value)) != 0:
        raise NotScalar(name, np.shape(value))


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
