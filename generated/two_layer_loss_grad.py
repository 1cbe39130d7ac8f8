"""Reverse-mode derivatives of loss (two_layer.py:29) with respect to U, V.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_loss(U, V, A, Y):
    # forward sweep
    # line 30: H = sigmoid(U @ A)
    sigmoid_z = U @ A
    # line 26: return 1.0 / (1.0 + np.exp(-z))
    v1 = -sigmoid_z
    v2 = np.exp(v1)
    v3 = 1.0 + v2
    H = 1.0 / v3
    # line 31: R = V @ H - Y
    v4 = V @ H
    R = v4 - Y
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v5 = R ** 2
    v6 = np.sum(v5)
    v7 = 0.5 * v6
    v8 = A.shape
    v9 = v8[1]
    out = v7 / v9
    check_scalar(out, 'loss')
    # backward sweep
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v7_bar = 1.0 / v9
    # line 31: R = V @ H - Y
    v4_bar = unbroadcast(2 * R * unreduce(v7_bar * 0.5, v5), v4)
    V_bar = matmul_bar_a(v4_bar, V, H)
    # line 30: H = sigmoid(U @ A)
    U_bar = matmul_bar_a(matmul_bar_b(v4_bar, V, H) * H * H * v2, U, A)
    return as_gradient(U_bar, U), as_gradient(V_bar, V)


def value_and_grad_loss(U, V, A, Y):
    # forward sweep
    # line 30: H = sigmoid(U @ A)
    sigmoid_z = U @ A
    # line 26: return 1.0 / (1.0 + np.exp(-z))
    v1 = -sigmoid_z
    v2 = np.exp(v1)
    v3 = 1.0 + v2
    H = 1.0 / v3
    # line 31: R = V @ H - Y
    v4 = V @ H
    R = v4 - Y
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v5 = R ** 2
    v6 = np.sum(v5)
    v7 = 0.5 * v6
    v8 = A.shape
    v9 = v8[1]
    out = v7 / v9
    check_scalar(out, 'loss')
    # backward sweep
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v7_bar = 1.0 / v9
    # line 31: R = V @ H - Y
    v4_bar = unbroadcast(2 * R * unreduce(v7_bar * 0.5, v5), v4)
    V_bar = matmul_bar_a(v4_bar, V, H)
    # line 30: H = sigmoid(U @ A)
    U_bar = matmul_bar_a(matmul_bar_b(v4_bar, V, H) * H * H * v2, U, A)
    return out, (as_gradient(U_bar, U), as_gradient(V_bar, V))


def vjp_loss(U, V, A, Y, out_bar):
    # forward sweep
    # line 30: H = sigmoid(U @ A)
    sigmoid_z = U @ A
    # line 26: return 1.0 / (1.0 + np.exp(-z))
    v1 = -sigmoid_z
    v2 = np.exp(v1)
    v3 = 1.0 + v2
    H = 1.0 / v3
    # line 31: R = V @ H - Y
    v4 = V @ H
    R = v4 - Y
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v5 = R ** 2
    v6 = np.sum(v5)
    v7 = 0.5 * v6
    v8 = A.shape
    v9 = v8[1]
    out = v7 / v9
    # backward sweep
    # line 32: return 0.5 * np.sum(R ** 2) / A.shape[1]
    v7_bar = unbroadcast(out_bar / v9, v7)
    # line 31: R = V @ H - Y
    v4_bar = unbroadcast(2 * R * unreduce(v7_bar * 0.5, v5), v4)
    V_bar = matmul_bar_a(v4_bar, V, H)
    # line 30: H = sigmoid(U @ A)
    U_bar = matmul_bar_a(matmul_bar_b(v4_bar, V, H) * H * H * v2, U, A)
    return as_gradient(U_bar, U), as_gradient(V_bar, V)


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


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if type(g) is float and type(x) is float:  # the common scalar case, without np.shape
        return g
    # fast paths by type: np.shape and np.sum cost ~0.5 us each, more than small arrays' work
    if type(g) is np.ndarray:
        if type(x) is np.ndarray:
            if g.shape == x.shape:
                return g
            extra = g.ndim - x.ndim
            if extra > 0 and g.shape[extra:] == x.shape:  # leading axes only (a bias): sum them
                return np.add.reduce(g, axis=tuple(range(extra)))
        elif g.shape and isinstance(x, (float, int, np.generic)):  # a number: the total
            if g.size and not any(g.strides) and g.dtype == np.float64:
                return g.item(0) * g.size  # one value repeated (unreduce's view): no pass
            return np.add.reduce(g, axis=None)  # g.sum() without its Python wrapper
    elif isinstance(g, (float, int, np.generic)) and isinstance(x, (float, int, np.generic)):
        return g
    elif isinstance(x, (tuple, list)):  # a tuple's adjoint (tuple_bar) adds element by element
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if isinstance(x, (tuple, list)) and not fits_shape(np.shape(g), shape):  # p + q joins tuples
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple or "
                         f"list read as an array of shape {shape} (is it joined with + or "
                         f"repeated with *? that is differentiated in forward mode only)")
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    # (g may have fewer axes than x: the 0.0 a list slot's adjoint is reset to after a write)
    lead = len(shape) - np.ndim(g)
    axes = tuple(i - lead for i, n in enumerate(shape[lead:], lead)
                 if n == 1 and np.shape(g)[i - lead] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if not fits_shape(np.shape(g), shape):
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a value of "
                         f"shape {shape}")
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


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape.

    For a NumPy array ``x`` the result is a read-only view that repeats ``g`` (stride 0
    along the reduced axes): no array of ``x``'s size is filled; the adjoint statements
    reading it make their own arrays, and ``unbroadcast`` sums it without a pass.
    """
    if axis == 0 and not keepdims and isinstance(x, (tuple, list)) and \
            not all(isinstance(e, (np.ndarray, np.generic, float, int)) for e in x):
        # (a list of arrays of another type, which zeros_like of the list would convert)
        return np.concatenate([np.expand_dims(g + np.zeros_like(e, dtype=adjoint_dtype(e, g)), 0)
                               for e in x])
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    if type(x) is np.ndarray and x.ndim and (type(g) is np.ndarray or is_number(g)):
        if isinstance(g, float) and x.dtype == np.float64:  # the seed 1.0, or any number
            # a numpy scalar is a read-only buffer: the view is read-only too
            return np.ndarray(x.shape, np.float64, np.float64(g), 0, (0,) * x.ndim)
        return np.broadcast_to(np.asarray(g, dtype=np.result_type(x, g, 1.0)), x.shape)
    return g + np.zeros_like(x, dtype=adjoint_dtype(x, g))  # any array type


def is_number(x):
    """Is ``x`` a Python or NumPy number (not an array of any type)?"""
    return isinstance(x, (float, int, np.generic))


def adjoint_dtype(x, *more):
    """The dtype of an adjoint of ``x`` (receiving ``more``): at least floating point."""
    if isinstance(x, (tuple, list)):  # a list of numbers, or of arrays (of any array type)
        return np.result_type(*(adjoint_dtype(e) for e in x), *more, 1.0)
    return np.result_type(x, *more, 1.0)


def matmul_bar_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (1-d operands and batches included)."""
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim == 2:  # matrices: no np.ndim, and dot (@ costs ~0.3 us more)
        if b.shape[1] == 1:
            return g * b.T  # an outer product: one multiply each, as GEMM would, but faster
        return g.dot(b.T)
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
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim <= 2:  # as in matmul_bar_a
        if a.shape[0] == 1 and b.ndim == 2:
            return a.T * g  # an outer product
        if g.ndim == 1:
            return g.dot(a)  # a.T @ g without making the view a.T (an RNN's step: ~3%)
        return a.T.dot(g)
    if np.ndim(a) == 2 and np.ndim(b) <= 2:
        return a.T @ g
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast((np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


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
