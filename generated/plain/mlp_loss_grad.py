"""Reverse-mode derivatives of loss (mlp.py:17) with respect to W1, b1, W2, b2.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


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
    P_bar = unbroadcast(2 * v4 * unreduce(1.0 / element_count(v5), v5), P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = matmul_bar_a(v3_bar, H, W2) * (1.0 - H * H)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(unbroadcast(v2_bar, v1), X, W1)
    return (as_gradient(W1_bar, W1), as_gradient(b1_bar, b1),
            as_gradient(W2_bar, W2), as_gradient(b2_bar, b2))


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
    P_bar = unbroadcast(2 * v4 * unreduce(1.0 / element_count(v5), v5), P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = matmul_bar_a(v3_bar, H, W2) * (1.0 - H * H)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(unbroadcast(v2_bar, v1), X, W1)
    return (out,
            (as_gradient(W1_bar, W1), as_gradient(b1_bar, b1),
             as_gradient(W2_bar, W2), as_gradient(b2_bar, b2)))


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
    out = np.mean(v5)
    # backward sweep
    # line 20: return np.mean((P - Y) ** 2)
    P_bar = unbroadcast(2 * v4 * unreduce(out_bar / element_count(v5), v5), P)
    # line 19: P = H @ W2 + b2
    v3_bar = unbroadcast(P_bar, v3)
    b2_bar = unbroadcast(P_bar, b2)
    W2_bar = matmul_bar_b(v3_bar, H, W2)
    # line 18: H = np.tanh(X @ W1 + b1)
    v2_bar = matmul_bar_a(v3_bar, H, W2) * (1.0 - H * H)
    b1_bar = unbroadcast(v2_bar, b1)
    W1_bar = matmul_bar_b(unbroadcast(v2_bar, v1), X, W1)
    return (as_gradient(W1_bar, W1), as_gradient(b1_bar, b1),
            as_gradient(W2_bar, W2), as_gradient(b2_bar, b2))


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


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g + np.zeros_like(x, dtype=np.result_type(np.asarray(x), g, 1.0))


def element_count(x):
    """``np.size(x)``, read from the shape: Dask does not implement ``np.size``, and its
    fallback would compute the whole array to count it."""
    if type(x) is np.ndarray:
        return x.size
    n = 1
    for d in np.shape(x):
        n *= d
    return n


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
