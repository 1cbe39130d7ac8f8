"""Reverse-mode derivatives of loss (residual_net.py:29) with respect to U, V.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_loss(U, V, X, Y):
    tape = []
    # forward sweep
    # line 30: x = X
    x = X
    # line 31: for U_k, V_k in zip(U, V):
    v1 = len(U)
    v2 = len(V)
    v3 = min(v1, v2)
    v4 = range(v3)
    x_1 = x
    for v5 in v4:
        U_k = U[v5]
        V_k = V[v5]
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        sigmoid_z = V_k @ x_1
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        v6 = -sigmoid_z
        v7 = np.exp(v6)
        v8 = 1.0 + v7
        sigmoid_out = 1.0 / v8
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        v9 = U_k @ sigmoid_out
        x_2 = x_1 + v9
        tape.append((x_1, U_k, V_k, v7, sigmoid_out, v9))
        x_1 = x_2
    # line 33: return np.mean((x - Y) ** 2)
    v10 = x_1 - Y
    v11 = v10 ** 2
    out = np.mean(v11)
    check_scalar(out, 'loss')
    # backward sweep
    # line 33: return np.mean((x - Y) ** 2)
    x_1_bar = unbroadcast(2 * v10 * unreduce(1.0 / element_count(v11), v11),
                          x_1)
    # line 31: for U_k, V_k in zip(U, V):
    U_bar = zeros_bar(U)
    V_bar = zeros_bar(V)
    for v5 in reversed(v4):
        x_1, U_k, V_k, v7, sigmoid_out, v9 = tape.pop()
        x_2_bar = x_1_bar
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = unbroadcast(x_2_bar, x_1)
        v9_bar = unbroadcast(x_2_bar, v9)
        U_k_bar = matmul_bar_a(v9_bar, U_k, sigmoid_out)
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        sigmoid_z_bar = (matmul_bar_b(v9_bar, U_k, sigmoid_out) * sigmoid_out
                         * sigmoid_out * v7)
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = x_1_bar + matmul_bar_b(sigmoid_z_bar, V_k, x_1)
        # line 31: for U_k, V_k in zip(U, V):
        scatter_add(V_bar, v5, matmul_bar_a(sigmoid_z_bar, V_k, x_1))
        scatter_add(U_bar, v5, U_k_bar)
    return as_gradient(U_bar, U), as_gradient(V_bar, V)


def value_and_grad_loss(U, V, X, Y):
    tape = []
    # forward sweep
    # line 30: x = X
    x = X
    # line 31: for U_k, V_k in zip(U, V):
    v1 = len(U)
    v2 = len(V)
    v3 = min(v1, v2)
    v4 = range(v3)
    x_1 = x
    for v5 in v4:
        U_k = U[v5]
        V_k = V[v5]
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        sigmoid_z = V_k @ x_1
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        v6 = -sigmoid_z
        v7 = np.exp(v6)
        v8 = 1.0 + v7
        sigmoid_out = 1.0 / v8
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        v9 = U_k @ sigmoid_out
        x_2 = x_1 + v9
        tape.append((x_1, U_k, V_k, v7, sigmoid_out, v9))
        x_1 = x_2
    # line 33: return np.mean((x - Y) ** 2)
    v10 = x_1 - Y
    v11 = v10 ** 2
    out = np.mean(v11)
    check_scalar(out, 'loss')
    # backward sweep
    # line 33: return np.mean((x - Y) ** 2)
    x_1_bar = unbroadcast(2 * v10 * unreduce(1.0 / element_count(v11), v11),
                          x_1)
    # line 31: for U_k, V_k in zip(U, V):
    U_bar = zeros_bar(U)
    V_bar = zeros_bar(V)
    for v5 in reversed(v4):
        x_1, U_k, V_k, v7, sigmoid_out, v9 = tape.pop()
        x_2_bar = x_1_bar
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = unbroadcast(x_2_bar, x_1)
        v9_bar = unbroadcast(x_2_bar, v9)
        U_k_bar = matmul_bar_a(v9_bar, U_k, sigmoid_out)
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        sigmoid_z_bar = (matmul_bar_b(v9_bar, U_k, sigmoid_out) * sigmoid_out
                         * sigmoid_out * v7)
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = x_1_bar + matmul_bar_b(sigmoid_z_bar, V_k, x_1)
        # line 31: for U_k, V_k in zip(U, V):
        scatter_add(V_bar, v5, matmul_bar_a(sigmoid_z_bar, V_k, x_1))
        scatter_add(U_bar, v5, U_k_bar)
    return out, (as_gradient(U_bar, U), as_gradient(V_bar, V))


def vjp_loss(U, V, X, Y, out_bar):
    tape = []
    # forward sweep
    # line 30: x = X
    x = X
    # line 31: for U_k, V_k in zip(U, V):
    v1 = len(U)
    v2 = len(V)
    v3 = min(v1, v2)
    v4 = range(v3)
    x_1 = x
    for v5 in v4:
        U_k = U[v5]
        V_k = V[v5]
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        sigmoid_z = V_k @ x_1
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        v6 = -sigmoid_z
        v7 = np.exp(v6)
        v8 = 1.0 + v7
        sigmoid_out = 1.0 / v8
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        v9 = U_k @ sigmoid_out
        x_2 = x_1 + v9
        tape.append((x_1, U_k, V_k, v7, sigmoid_out, v9))
        x_1 = x_2
    # line 33: return np.mean((x - Y) ** 2)
    v10 = x_1 - Y
    v11 = v10 ** 2
    out = np.mean(v11)
    # backward sweep
    # line 33: return np.mean((x - Y) ** 2)
    x_1_bar = unbroadcast(
        2 * v10 * unreduce(out_bar / element_count(v11), v11), x_1)
    # line 31: for U_k, V_k in zip(U, V):
    U_bar = zeros_bar(U)
    V_bar = zeros_bar(V)
    for v5 in reversed(v4):
        x_1, U_k, V_k, v7, sigmoid_out, v9 = tape.pop()
        x_2_bar = x_1_bar
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = unbroadcast(x_2_bar, x_1)
        v9_bar = unbroadcast(x_2_bar, v9)
        U_k_bar = matmul_bar_a(v9_bar, U_k, sigmoid_out)
        # line 26: return 1.0 / (1.0 + np.exp(-z))
        sigmoid_z_bar = (matmul_bar_b(v9_bar, U_k, sigmoid_out) * sigmoid_out
                         * sigmoid_out * v7)
        # line 32: x = x + U_k @ sigmoid(V_k @ x)
        x_1_bar = x_1_bar + matmul_bar_b(sigmoid_z_bar, V_k, x_1)
        # line 31: for U_k, V_k in zip(U, V):
        scatter_add(V_bar, v5, matmul_bar_a(sigmoid_z_bar, V_k, x_1))
        scatter_add(U_bar, v5, U_k_bar)
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


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number,
    one zero adjoint per element for a tuple, per entry for a dict)."""
    # float64 arrays first, by the dtype's letter (comparing dtypes costs more than np.zeros)
    if type(x) is np.ndarray and x.dtype.char == "d":
        return np.zeros(x.shape)  # what zeros_like gives here, without its Python-level cost
    if isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, (tuple, list)):
        return tuple_bar(zeros_bar(e) for e in x)
    if isinstance(x, dict):
        return dict_bar((k, zeros_bar(e)) for k, e in x.items())
    if isinstance(x, np.generic):
        return 0.0
    if not hasattr(x, "__array_function__"):  # a range, a sequence NumPy reads as an array
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    if type(x) is np.ndarray and x.dtype == object and x.ndim == 1:  # ragged pieces
        ragged = np.empty(len(x), dtype=object)  # (unconcatenate's): one zero each
        for i, e in enumerate(x):
            ragged[i] = zeros_bar(e)
        return ragged
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))  # any array type


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


def element_count(x):
    """``np.size(x)``, read from the shape: Dask does not implement ``np.size``, and its
    fallback would compute the whole array to count it."""
    if type(x) is np.ndarray:
        return x.size
    n = 1
    for d in np.shape(x):
        n *= d
    return n


def scatter_add(x_bar, index, g):
    """``x_bar[index] += g`` in place; repeated integer indices accumulate (``np.add.at``).

    A basic index or a boolean mask names each element once: ``+=`` does, on any array
    type. Integer arrays may repeat an index: ``np.add.at``, which reaches a foreign
    array through its ``__array_ufunc__`` (an array type without ``ufunc.at`` raises).
    The adjoints of a container (a list, a dict, ragged pieces) hold arrays that may be
    other adjoints too (``unindex`` puts ``g`` in a slot, a copy of the list shares them,
    ``unreduce`` gives read-only views): a slot is replaced by the sum, never added to in
    place.
    """
    if isinstance(x_bar, (dict, list)) or type(x_bar) is np.ndarray and x_bar.dtype == object:
        x_bar[index] = add_bars(x_bar[index], g)  # (a slice of a list: element by element)
        return
    if type(index) is int:  # a loop's counter
        x_bar[index] += g
        return
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis or
           getattr(p, "dtype", None) == np.bool_ for p in parts):
        x_bar[index] += g  # each element named once
    else:
        np.add.at(x_bar, index, g)


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


class tuple_bar(list):
    """The adjoint of a tuple or list: one adjoint per element, added element by element (a
    plain tuple or list would concatenate; an array is one adjoint per row, see
    :func:`add_bars`), and updated in place by ``x_bar[k] += g``."""

    def __add__(self, other):
        if not isinstance(other, (tuple, list)) and np.ndim(other) == 0:
            if other is None or other == 0:  # a zero
                return self
            raise TypeError("internal: a number added to the adjoint of a tuple")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


class dict_bar(dict):
    """The adjoint of a dict: one adjoint per entry, added entry by entry."""

    def __add__(self, other):
        if not isinstance(other, dict):
            if other is None or np.ndim(other) == 0 and other == 0:  # a zero
                return self
            raise TypeError(f"internal: a {type(other).__name__} added to the adjoint "
                            f"of a dict")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


def add_bars(a, b, batch=False):
    """``a + b`` for two adjoints, element by element where a container of adjoints meets
    another or an array (a plain tuple of adjoints, ``(a_bar, b_bar)``, would concatenate):
    the array's rows are the elements' adjoints (``np.stack``'s adjoint), or with ``batch``
    (vector mode's batches of tangents, the directions first) its second axis's. ``None`` is
    a zero. Containers of different lengths are a bug: an error, never a truncated sum."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(b, (tuple, list)) and not isinstance(a, (tuple, list)):
        a, b = b, a
    if isinstance(a, (tuple, list)) and not isinstance(b, (tuple, list, dict)) and \
            np.ndim(b) > batch:  # an array of the elements' adjoints
        if batch and getattr(b, "dtype", None) != object:  # (ragged pieces: one batch each)
            b = [b[:, k] for k in range(np.shape(b)[1])]
        else:
            b = list(b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            raise ValueError(f"internal: adjoints of {len(a)} and {len(b)} elements added")
        return tuple_bar(add_bars(x, y, batch) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return dict_bar((k, add_bars(a.get(k), b.get(k), batch)) for k in {**a, **b})
    return a + b


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
