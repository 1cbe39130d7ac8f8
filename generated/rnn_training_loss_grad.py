"""Reverse-mode derivatives of loss (rnn_training.py:23) with respect to W, U, v.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_loss(W, U, v, xs, ys):
    tape = []
    # forward sweep
    # line 24: h = np.zeros_like(v)
    h = np.zeros_like(v)
    # line 25: total = 0.0
    total = 0.0
    # line 26: for x, y in zip(xs, ys):
    v1 = len(xs)
    v2 = len(ys)
    v3 = min(v1, v2)
    v4 = range(v3)
    h_1 = h
    total_1 = total
    for v5 in v4:
        x = xs[v5]
        y = ys[v5]
        # line 27: h = np.tanh(W @ h + U @ x)
        v6 = W @ h_1
        v7 = U @ x
        v8 = v6 + v7
        h_2 = np.tanh(v8)
        # line 28: total = total + (v @ h - y) ** 2
        v9 = v @ h_2
        v10 = v9 - y
        v11 = v10 ** 2
        total_2 = total_1 + v11
        tape.append((h_1, total_1, x, v6, v7, v9, v10))
        h_1, total_1 = h_2, total_2
    # line 29: return total / len(ys)
    v12 = len(ys)
    out = total_1 / v12
    check_scalar(out, 'loss')
    # backward sweep
    # line 29: return total / len(ys)
    total_1_bar = 1.0 / v12
    # line 26: for x, y in zip(xs, ys):
    U_bar = zeros_bar(U)
    W_bar = zeros_bar(W)
    v_bar = zeros_bar(v)
    h_1_bar = zeros_bar(h_1)
    U_bar_terms = []
    W_bar_terms = []
    v_bar_terms = []
    for v5 in reversed(v4):
        h_2 = h_1
        h_1, total_1, x, v6, v7, v9, v10 = tape.pop()
        h_2_bar = h_1_bar
        total_2_bar = total_1_bar
        # line 28: total = total + (v @ h - y) ** 2
        total_1_bar = unbroadcast(total_2_bar, total_1)
        v9_bar = unbroadcast(2 * v10 * total_2_bar, v9)
        v_bar_terms.append((v9_bar, h_2))
        if len(v_bar_terms) == 64:
            v_bar += matmul_bar_a_sum(v_bar_terms, v)
            v_bar_terms.clear()
        h_2_bar = h_2_bar + matmul_bar_b(v9_bar, v, h_2)
        # line 27: h = np.tanh(W @ h + U @ x)
        v8_bar = h_2_bar * (1.0 - h_2 * h_2)
        v6_bar = unbroadcast(v8_bar, v6)
        U_bar_terms.append((unbroadcast(v8_bar, v7), x))
        if len(U_bar_terms) == 64:
            U_bar += matmul_bar_a_sum(U_bar_terms, U)
            U_bar_terms.clear()
        W_bar_terms.append((v6_bar, h_1))
        if len(W_bar_terms) == 64:
            W_bar += matmul_bar_a_sum(W_bar_terms, W)
            W_bar_terms.clear()
        h_1_bar = matmul_bar_b(v6_bar, W, h_1)
    U_bar += matmul_bar_a_sum(U_bar_terms, U)
    W_bar += matmul_bar_a_sum(W_bar_terms, W)
    v_bar += matmul_bar_a_sum(v_bar_terms, v)
    return as_gradient(W_bar, W), as_gradient(U_bar, U), as_gradient(v_bar, v)


def value_and_grad_loss(W, U, v, xs, ys):
    tape = []
    # forward sweep
    # line 24: h = np.zeros_like(v)
    h = np.zeros_like(v)
    # line 25: total = 0.0
    total = 0.0
    # line 26: for x, y in zip(xs, ys):
    v1 = len(xs)
    v2 = len(ys)
    v3 = min(v1, v2)
    v4 = range(v3)
    h_1 = h
    total_1 = total
    for v5 in v4:
        x = xs[v5]
        y = ys[v5]
        # line 27: h = np.tanh(W @ h + U @ x)
        v6 = W @ h_1
        v7 = U @ x
        v8 = v6 + v7
        h_2 = np.tanh(v8)
        # line 28: total = total + (v @ h - y) ** 2
        v9 = v @ h_2
        v10 = v9 - y
        v11 = v10 ** 2
        total_2 = total_1 + v11
        tape.append((h_1, total_1, x, v6, v7, v9, v10))
        h_1, total_1 = h_2, total_2
    # line 29: return total / len(ys)
    v12 = len(ys)
    out = total_1 / v12
    check_scalar(out, 'loss')
    # backward sweep
    # line 29: return total / len(ys)
    total_1_bar = 1.0 / v12
    # line 26: for x, y in zip(xs, ys):
    U_bar = zeros_bar(U)
    W_bar = zeros_bar(W)
    v_bar = zeros_bar(v)
    h_1_bar = zeros_bar(h_1)
    U_bar_terms = []
    W_bar_terms = []
    v_bar_terms = []
    for v5 in reversed(v4):
        h_2 = h_1
        h_1, total_1, x, v6, v7, v9, v10 = tape.pop()
        h_2_bar = h_1_bar
        total_2_bar = total_1_bar
        # line 28: total = total + (v @ h - y) ** 2
        total_1_bar = unbroadcast(total_2_bar, total_1)
        v9_bar = unbroadcast(2 * v10 * total_2_bar, v9)
        v_bar_terms.append((v9_bar, h_2))
        if len(v_bar_terms) == 64:
            v_bar += matmul_bar_a_sum(v_bar_terms, v)
            v_bar_terms.clear()
        h_2_bar = h_2_bar + matmul_bar_b(v9_bar, v, h_2)
        # line 27: h = np.tanh(W @ h + U @ x)
        v8_bar = h_2_bar * (1.0 - h_2 * h_2)
        v6_bar = unbroadcast(v8_bar, v6)
        U_bar_terms.append((unbroadcast(v8_bar, v7), x))
        if len(U_bar_terms) == 64:
            U_bar += matmul_bar_a_sum(U_bar_terms, U)
            U_bar_terms.clear()
        W_bar_terms.append((v6_bar, h_1))
        if len(W_bar_terms) == 64:
            W_bar += matmul_bar_a_sum(W_bar_terms, W)
            W_bar_terms.clear()
        h_1_bar = matmul_bar_b(v6_bar, W, h_1)
    U_bar += matmul_bar_a_sum(U_bar_terms, U)
    W_bar += matmul_bar_a_sum(W_bar_terms, W)
    v_bar += matmul_bar_a_sum(v_bar_terms, v)
    return (out,
            (as_gradient(W_bar, W), as_gradient(U_bar, U),
             as_gradient(v_bar, v)))


def vjp_loss(W, U, v, xs, ys, out_bar):
    tape = []
    # forward sweep
    # line 24: h = np.zeros_like(v)
    h = np.zeros_like(v)
    # line 25: total = 0.0
    total = 0.0
    # line 26: for x, y in zip(xs, ys):
    v1 = len(xs)
    v2 = len(ys)
    v3 = min(v1, v2)
    v4 = range(v3)
    h_1 = h
    total_1 = total
    for v5 in v4:
        x = xs[v5]
        y = ys[v5]
        # line 27: h = np.tanh(W @ h + U @ x)
        v6 = W @ h_1
        v7 = U @ x
        v8 = v6 + v7
        h_2 = np.tanh(v8)
        # line 28: total = total + (v @ h - y) ** 2
        v9 = v @ h_2
        v10 = v9 - y
        v11 = v10 ** 2
        total_2 = total_1 + v11
        tape.append((h_1, total_1, x, v6, v7, v9, v10, v11))
        h_1, total_1 = h_2, total_2
    # line 29: return total / len(ys)
    v12 = len(ys)
    out = total_1 / v12
    # backward sweep
    # line 29: return total / len(ys)
    total_1_bar = out_bar / v12
    # line 26: for x, y in zip(xs, ys):
    U_bar = zeros_bar(U)
    W_bar = zeros_bar(W)
    v_bar = zeros_bar(v)
    h_1_bar = zeros_bar(h_1)
    U_bar_terms = []
    W_bar_terms = []
    v_bar_terms = []
    for v5 in reversed(v4):
        h_2 = h_1
        h_1, total_1, x, v6, v7, v9, v10, v11 = tape.pop()
        h_2_bar = h_1_bar
        total_2_bar = total_1_bar
        # line 28: total = total + (v @ h - y) ** 2
        total_1_bar = unbroadcast(total_2_bar, total_1)
        v9_bar = unbroadcast(2 * v10 * unbroadcast(total_2_bar, v11), v9)
        v_bar_terms.append((v9_bar, h_2))
        if len(v_bar_terms) == 64:
            v_bar += matmul_bar_a_sum(v_bar_terms, v)
            v_bar_terms.clear()
        h_2_bar = h_2_bar + matmul_bar_b(v9_bar, v, h_2)
        # line 27: h = np.tanh(W @ h + U @ x)
        v8_bar = h_2_bar * (1.0 - h_2 * h_2)
        v6_bar = unbroadcast(v8_bar, v6)
        U_bar_terms.append((unbroadcast(v8_bar, v7), x))
        if len(U_bar_terms) == 64:
            U_bar += matmul_bar_a_sum(U_bar_terms, U)
            U_bar_terms.clear()
        W_bar_terms.append((v6_bar, h_1))
        if len(W_bar_terms) == 64:
            W_bar += matmul_bar_a_sum(W_bar_terms, W)
            W_bar_terms.clear()
        h_1_bar = matmul_bar_b(v6_bar, W, h_1)
    U_bar += matmul_bar_a_sum(U_bar_terms, U)
    W_bar += matmul_bar_a_sum(W_bar_terms, W)
    v_bar += matmul_bar_a_sum(v_bar_terms, v)
    return as_gradient(W_bar, W), as_gradient(U_bar, U), as_gradient(v_bar, v)


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


def stack(arrays):
    """``np.stack(arrays)``; for ndarrays ``np.array(arrays)``, the same and faster."""
    if set(map(type, arrays)) == {np.ndarray}:
        return np.array(arrays)
    return np.stack(arrays)  # any array type (np.array would convert)


def stack_pairs(terms):
    """The first and the second vectors of the pairs ``terms`` as the rows of two matrices
    (``stack`` of each); for ndarrays, one ``np.concatenate`` of them all, cut in two."""
    items = [x for pair in terms for x in pair]
    if set(map(type, items)) == {np.ndarray}:
        m, k = terms[0][0].shape[0], terms[0][1].shape[0]
        rows = np.concatenate(items)
        if rows.size == len(terms) * (m + k) and items[0].ndim == items[1].ndim == 1:
            rows = rows.reshape(len(terms), m + k)
            return rows[:, :m], rows[:, m:]
    gs, bs = zip(*terms)
    return stack(gs), stack(bs)


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


def matmul_bar_a_sum(terms, a, product="matmul"):
    """The sum of ``matmul_bar_a(g, a, b)`` over a loop's ``(g, b)`` pairs, as one product.

    ``product="dot"`` sums ``dot_bar_a`` instead: the same where the operands have rank 1
    or 2 (np.dot is then a @ b), as in the one-product paths here.
    """
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, bs = stack_pairs(terms)
        return gs.T @ bs
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, bs = zip(*terms)
        return np.concatenate(gs, axis=1) @ np.concatenate(bs, axis=1).T
    total = zeros_bar(a)
    for g, b in terms:
        total = total + (dot_bar_a(g, a, b) if product == "dot" else matmul_bar_a(g, a, b))
    return total


def dot_bar_a(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)``: ``a``'s last axis meets ``b``'s second to
    last (its only one if 1-d); ``g`` has ``a``'s other axes, then ``b``'s other axes."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
        return matmul_bar_a(g, a, b)  # np.dot is a @ b here (no np.ndim's cost)
    p, q = np.ndim(a), np.ndim(b)
    if p == 0 or q == 0:
        return unbroadcast(g * b, a)
    if p <= 2 and q <= 2:
        return matmul_bar_a(g, a, b)
    if q == 1:
        return np.multiply.outer(g, b)
    g_axes = list(range(p - 1, p + q - 3)) + [p + q - 3]  # b's leading axes, then its last
    return np.tensordot(g, b, axes=(g_axes, list(range(q - 2)) + [q - 1]))


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
