"""Run-time helpers that generated modules carry with them.

Generated code imports NumPy only, so when an adjoint needs a helper (undoing
broadcasting, scattering an indexed adjoint back), the emitter copies the
helper's source from this module into the generated module, once, above the
functions that use it. Each helper is plain NumPy, small, and has its own
derivative rule, so generated code can be differentiated again.

The helpers work on any array type that implements NumPy's dispatch protocols
(``__array_function__``, ``__array_ufunc__``: CuPy, Dask, ...): they make new arrays
with the ``*_like`` constructors or from their operands, never with ``np.array`` or
``np.asarray`` of an operand. Their fast paths (a stride-0 view made with
``np.ndarray``, ``np.add.at``, ``type(g) is np.ndarray`` short cuts) are taken for real
ndarrays only, each with a generic path beside it; ``tests/duck.py`` holds the strict
duck array the tests run them on.
"""

import numpy as np

from .revolve import Revolve, revolve, revolve_actions, revolve_segments, revolve_snaps, \
    revolve_split  # noqa: F401 (binomial checkpointing's schedule: copied into modules too)


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
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
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
    if isinstance(x, (tuple, list)):  # a literal list of numbers
        x = np.asarray(x)
    return np.result_type(x, *more, 1.0)


def writable(g):
    """A returned gradient the caller may change: a copy if ``g`` is a read-only view."""
    if type(g) is np.ndarray and not g.flags.writeable:
        return g.copy()
    return g


def unindex(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``.

    Repeated integer indices accumulate, as they must. For an element of a
    tuple or list (``eigh(a)[1]``, ``params[0]``) it is the tuple of adjoints with
    zeros elsewhere; for an entry of a dict (``params["W"]``), the dict of adjoints.
    """
    if isinstance(x, (tuple, list)):
        return tuple_bar(g if k == index % len(x) else zeros_bar(e) for k, e in enumerate(x))
    if isinstance(x, dict):
        return dict_bar((k, g if k == index else zeros_bar(e)) for k, e in x.items())
    if type(x) is np.ndarray and x.dtype == object and x.ndim == 1 and \
            isinstance(index, (int, np.integer)):  # a piece of ragged pieces (pieces_array)
        return pieces_array([g if k == index % len(x) else zeros_bar(e) for k, e in enumerate(x)])
    x_bar = np.zeros_like(x, dtype=adjoint_dtype(x, g))
    scatter_add(x_bar, index, g)
    return x_bar


def unattr(g, x, name):
    """The adjoint of ``x.name`` for a named tuple ``x``: ``g`` at that field, zeros elsewhere."""
    if not hasattr(x, "_fields"):
        raise CheckFailed(f"s2sad differentiates the attribute .{name} of named tuples only, "
                          f"not of a {type(x).__name__}")
    return unindex(g, x, x._fields.index(name))


def piece_bar(g, start, stop):
    """The adjoint of the piece ``start:stop`` of a tuple or list joined with ``+`` (``p + q``,
    ``t * 2``): those elements of the joined value's adjoint ``g``, a tuple's adjoint (one
    adjoint per element) or an array of them (the adjoint of ``np.array(p)``)."""
    if isinstance(g, (tuple, list)) or type(g) is np.ndarray and g.dtype == object:
        return tuple_bar(g[start:stop])  # (a slice of a tuple_bar is a plain list; ragged
        # pieces, pieces_array's, stay one adjoint each: never stacked into one array)
    if np.ndim(g) == 0:  # a number added to every element (np.sum(p)'s adjoint)
        return tuple_bar([g] * (stop - start))
    return g[start:stop]


def unpiece(g, whole, start):
    """The transpose of :func:`piece_bar`: ``g``, the adjoint of a piece starting at ``start``,
    in the structure of ``whole`` (a joined value's adjoint), with zeros elsewhere."""
    stop = start + len(g)
    if not isinstance(whole, (tuple, list)) and np.ndim(whole) == 0:  # piece_bar repeated it
        return sum(np.sum(e) for e in g)
    if isinstance(whole, (tuple, list)) or type(whole) is np.ndarray and whole.dtype == object:
        pieces = [g[k - start] if start <= k < stop else zeros_bar(e) for k, e in enumerate(whole)]
        return tuple_bar(pieces) if isinstance(whole, (tuple, list)) else pieces_array(pieces)
    out = np.zeros_like(whole, dtype=adjoint_dtype(whole, g))
    out[start:stop] = g
    return out


def add_bars(a, b):
    """``a + b`` for two adjoints, element by element when both are containers of adjoints
    (a plain tuple of adjoints, ``(a_bar, b_bar)``, would concatenate); ``None`` is a zero.
    Containers of different lengths are a bug: an error, never a truncated sum."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            raise ValueError(f"internal: adjoints of {len(a)} and {len(b)} elements added")
        return tuple_bar(add_bars(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return dict_bar((k, add_bars(a.get(k), b.get(k))) for k in {**a, **b})
    return a + b


class tuple_bar(list):
    """The adjoint of a tuple or list: one adjoint per element, added element by element (a
    plain tuple or list would concatenate), and updated in place by ``x_bar[k] += g``."""

    def __add__(self, other):
        if not isinstance(other, (tuple, list)):
            if other is None or np.ndim(other) == 0 and other == 0:  # a zero
                return self
            if np.ndim(other) == 0:
                raise TypeError("internal: a number added to the adjoint of a tuple")
            other = list(other)  # an array of the elements' adjoints (np.stack's adjoint)
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


def kept(t):
    """``t`` with its arrays copied (in tuples and lists too): what the backward sweep's
    restores, which write old values back into arrays, cannot change (has_aux's aux)."""
    if isinstance(t, (tuple, list)):
        return type(t)(kept(e) for e in t)
    return t.copy() if type(t) is np.ndarray else t


def bars(t):
    """A tuple of adjoints (the adjoint of ``a, b = p`` is ``bars((a_bar, b_bar))``), which
    adds to another element by element."""
    return tuple_bar(t)


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


def setitem_bar(g, index):
    """The adjoint of ``y`` in ``y[index] = v``: ``g`` with zeros at ``index`` (a copy)."""
    y_bar = g.astype(np.result_type(g, 1.0))  # a copy, of g's array type
    y_bar[index] = 0.0
    return y_bar


def setitem_dot(y_dot, index, v_dot):
    """The tangent of ``y[index] = v``: ``y_dot`` with ``v_dot`` written at ``index`` (a copy)."""
    out = y_dot.astype(np.result_type(y_dot, v_dot, 1.0))  # a copy
    out[index] = v_dot
    return out


def setitem_dots(y_dot, index, v_dot):
    """:func:`setitem_dot` for a batch of tangents (the directions first)."""
    out = y_dot.astype(np.result_type(y_dot, v_dot, 1.0))  # a copy
    batch = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    if np.ndim(v_dot):  # line the directions up with out's first axis
        shape = np.shape(v_dot)
        v_dot = np.reshape(v_dot, shape[:1] + (1,) * (np.ndim(out[batch]) - len(shape)) +
                           shape[1:])
    out[batch] = v_dot
    return out


def stack_each(items):
    """One tuple from a list of tuples (one per direction): :func:`stack_directions`."""
    return stack_directions(items)


def stack_directions(items):
    """``np.stack(items)``: vector mode's tangents, one per direction, as one batch. Where a
    direction's tangent is a tuple or list (``np.split``'s, ``eigh``'s, a helper's tuple of
    adjoints), the batch is one of the same kind, its element k the batch of every
    direction's element k: pieces of different shapes are batched each on its own."""
    if items and isinstance(items[0], (tuple, list)):
        parts = [stack_directions(list(part)) for part in zip(*items)]
        return tuple(parts) if type(items[0]) is tuple else type(items[0])(parts)
    if items and isinstance(items[0], dict):
        return type(items[0])((k, stack_directions([d[k] for d in items])) for k in items[0])
    if items and type(items[0]) is np.ndarray and items[0].dtype == object:  # ragged pieces
        return pieces_array([stack_directions(list(part)) for part in zip(*items)])
    return stack(items)


def directions(t):
    """A batch of tangents as one tangent per direction (what :func:`stack_directions`
    undoes): an array's rows; for a tuple or list of batches, one tuple or list per
    direction, for a dict, one dict per direction."""
    if isinstance(t, (tuple, list)):
        rows = zip(*[directions(e) for e in t])
        return [tuple(row) for row in rows] if type(t) is tuple else [type(t)(row) for row in rows]
    if isinstance(t, dict):
        rows = zip(*[directions(e) for e in t.values()])
        return [type(t)(zip(t, row)) for row in rows]
    if type(t) is np.ndarray and t.dtype == object:  # ragged pieces (pieces_array's)
        return [pieces_array(list(row)) for row in zip(*[directions(e) for e in t])]
    return t


def batch_of(t):
    """A batch of tangents as one array with the directions first: a tuple or list of
    batches (the tangent of ``(a, b)``) read as an array, as NumPy reads the tuple itself."""
    if isinstance(t, (tuple, list)):
        return np.stack([batch_of(e) for e in t], axis=1)
    return t


def read_as_array(t, ans):
    """The tangent ``t`` of a tuple or list that an operation with result ``ans`` read as an
    array (``np.sin((a, b))``, ``np.sum([a, b])``): its elements' tangents stacked; where
    the result is a tuple or list too (``p + q`` joins, ``p * 2`` repeats, a copy), as it is."""
    if isinstance(ans, (tuple, list)) or not isinstance(t, (tuple, list)):
        return t
    if not t:  # an empty list read as an array: no element, no tangent
        return np.zeros((0,))
    return stack([read_as_array(e, None) for e in t])


def item_dots(t, index):
    """The batch of tangents of ``x[index]`` from the batch ``t`` of ``x``'s: an element of
    a tuple or list of batches, or ``t[:, index]`` of one array."""
    if isinstance(t, (tuple, list, dict)) or type(t) is np.ndarray and t.dtype == object:
        return t[index]
    return t[(slice(None),) + (index if isinstance(index, tuple) else (index,))]


def zeros_dots(x, d):
    """A batch of zero tangents for ``x``, as many directions as the batch ``d`` has: of
    ``x``'s structure (tuples, lists, dicts), each leaf with the directions first."""
    if isinstance(x, (tuple, list)):
        parts = [zeros_dots(e, d) for e in x]
        return tuple(parts) if type(x) is tuple else type(x)(parts)
    if isinstance(x, dict):
        return type(x)((k, zeros_dots(e, d)) for k, e in x.items())
    if type(x) is np.ndarray and x.dtype == object:  # ragged pieces (pieces_array's)
        return pieces_array([zeros_dots(e, d) for e in x])
    while isinstance(d, (tuple, list, dict)):  # the directions of its first leaf
        d = next(iter(d.values())) if isinstance(d, dict) else d[0]
    return np.zeros_like(x, dtype=np.result_type(x, 1.0), shape=np.shape(d)[:1] + np.shape(x))


def scatter_add(x_bar, index, g):
    """``x_bar[index] += g`` in place; repeated integer indices accumulate (``np.add.at``).

    A basic index or a boolean mask names each element once: ``+=`` does, on any array
    type. Integer arrays may repeat an index: ``np.add.at``, which reaches a foreign
    array through its ``__array_ufunc__`` (an array type without ``ufunc.at`` raises).
    """
    if type(index) is int or isinstance(x_bar, (dict, list)):  # a loop's counter, a key
        x_bar[index] += g
        return
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis or
           getattr(p, "dtype", None) == np.bool_ for p in parts):
        x_bar[index] += g  # each element named once
    else:
        np.add.at(x_bar, index, g)


def masked(g, condition, keep=True):
    """``np.where(condition, g, 0.0)`` (``keep=False``: ``np.where(condition, 0.0, g)``): the
    adjoint of one branch of a ``where``. Where ``condition`` is a boolean array of ``g``'s
    shape and ``g`` a finite float array, a multiplication by the mask: no branch per element,
    several times faster than ``where`` on a data-dependent mask (a zero may be -0.0)."""
    if type(g) is np.ndarray and type(condition) is np.ndarray and \
            condition.dtype == np.bool_ and g.shape == condition.shape and \
            g.dtype.kind == "f" and np.isfinite(g).all():  # (inf * 0 would be nan)
        return g * condition if keep else g * ~condition
    return np.where(condition, g, 0.0) if keep else np.where(condition, 0.0, g)


def extremum_bar(g, x, ans, axis=None, keepdims=False):
    """The adjoint of ``max``/``min`` of ``x``: ``g`` shared equally among the ties."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
        ans = np.expand_dims(ans, axis)
    mask = x == ans
    return g * mask / np.sum(mask, axis=axis, keepdims=True)


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


def matmul_bar_b_sum(terms, b, product="matmul"):
    """The sum of ``matmul_bar_b(g, a, b)`` (``dot_bar_b`` for ``product="dot"``, see
    :func:`matmul_bar_a_sum`) over a loop's ``(g, a)`` pairs, as one product."""
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, as_ = stack_pairs(terms)
        return as_.T @ gs
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, as_ = zip(*terms)
        return np.concatenate(as_, axis=0).T @ np.concatenate(gs, axis=0)
    total = zeros_bar(b)
    for g, a in terms:
        total = total + (dot_bar_b(g, a, b) if product == "dot" else matmul_bar_b(g, a, b))
    return total


def product_terms(terms, terms_dot):
    """The pairs whose products sum to the tangent of the sum of products of ``terms``.

    By the product rule, pair ``(g, b)`` with tangents ``(g_dot, b_dot)`` gives
    ``(g_dot, b)`` and ``(g, b_dot)``. A tangent ``None`` is zero and gives no
    pair (a pair's tangent may be ``None`` altogether). Returns ``(pairs, None)``,
    or ``(one list of pairs per direction, K)`` when the tangents carry a leading
    axis of K directions (forward mode's vector mode; there a literal list of pairs of
    one shape has its tangents in one array, directions first).
    """
    if not isinstance(terms_dot, (list, tuple)):  # one array (of any type)
        terms_dot = [(terms_dot[:, i, 0], terms_dot[:, i, 1]) for i in range(len(terms))]
    batch = None
    for pair, dot in zip(terms, terms_dot):
        known = [(x, x_dot) for x, x_dot in zip(pair, () if dot is None else dot)
                 if x_dot is not None]
        if known:
            batch = len(known[0][1]) if np.ndim(known[0][1]) > np.ndim(known[0][0]) else None
            break
    directions = [[] for _ in range(batch or 1)]
    for (g, b), dot in zip(terms, terms_dot):
        g_dot, b_dot = dot if dot is not None else (None, None)
        for k, pairs in enumerate(directions):
            if g_dot is not None:
                pairs.append((g_dot if batch is None else g_dot[k], b))
            if b_dot is not None:
                pairs.append((g, b_dot if batch is None else b_dot[k]))
    return (directions[0], None) if batch is None else (directions, batch)


def matmul_bar_a_sum_dot(terms, terms_dot, a, product="matmul"):
    """The tangent of ``matmul_bar_a_sum(terms, a, product)``; ``terms_dot`` holds the pairs'
    tangents."""
    pairs, batch = product_terms(terms, terms_dot)
    if batch is None:
        return matmul_bar_a_sum(pairs, a, product)
    return np.stack([matmul_bar_a_sum(p, a, product) for p in pairs])


def matmul_bar_b_sum_dot(terms, terms_dot, b, product="matmul"):
    """The tangent of ``matmul_bar_b_sum(terms, b, product)``; ``terms_dot`` holds the pairs'
    tangents."""
    pairs, batch = product_terms(terms, terms_dot)
    if batch is None:
        return matmul_bar_b_sum(pairs, b, product)
    return np.stack([matmul_bar_b_sum(p, b, product) for p in pairs])


def matmul_bar_a_sum_bar(g, terms, a, product="matmul"):
    """The adjoints of the pairs of ``matmul_bar_a_sum(terms, a, product)``: ``(g @ b_k, ...)``
    per pair."""
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, bs = zip(*terms)
        return list(zip(stack(bs) @ g.T, stack(gs) @ g))
    if product == "dot":
        return [(np.dot(g, b), dot_bar_b(t, g, b)) for t, b in terms]
    return [(g @ b, matmul_bar_b(t, g, b)) for t, b in terms]


def matmul_bar_b_sum_bar(g, terms, b, product="matmul"):
    """The adjoints of the pairs of ``matmul_bar_b_sum(terms, b, product)``: ``(a_k @ g, ...)``
    per pair."""
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, as_ = zip(*terms)
        return list(zip(stack(as_) @ g, stack(gs) @ g.T))
    if product == "dot":
        return [(np.dot(a, g), dot_bar_a(t, a, g)) for t, a in terms]
    return [(a @ g, matmul_bar_a(t, a, g)) for t, a in terms]


def pop_bar(t_bar, like):
    """The adjoint of the element ``like`` that ``t.append(like)`` pushed, taken off ``t_bar``.

    In reverse mode a list ``t`` used as a stack has a list of adjoints ``t_bar``
    holding those of its top ``len(t_bar)`` elements; an element below them (never
    popped, nor read by a snapshot) has adjoint zero: zeros like it, ``None`` where
    ``like`` is ``None`` (a position nothing reads; so is a ``None`` in an adjoint).
    """
    if t_bar:
        return t_bar.pop()
    if isinstance(like, tuple):
        return tuple(None if x is None else zeros_bar(x) for x in like)
    return None if like is None else zeros_bar(like)


def add_contents_bar(t_bar, contents_bar):
    """Add the adjoints of ``tuple(t)``, all of ``t``'s elements, to ``t_bar`` (see pop_bar)."""
    t_bar[:0] = [None] * (len(contents_bar) - len(t_bar))
    for k, element_bar in enumerate(contents_bar):
        t_bar[k] = add_bar(t_bar[k], element_bar)


def add_contents_dots(t_dot, contents_dot):
    """Vector mode's :func:`add_contents_bar`: ``contents_dot`` is a batch (the directions
    first) of the tangents of the contents, a tuple of batches or one array of them."""
    if not isinstance(contents_dot, (tuple, list)):
        contents_dot = [contents_dot[:, k] for k in range(np.shape(contents_dot)[1])]
    add_contents_bar(t_dot, contents_dot)


def add_dots(a, b):
    """Vector mode's ``a_dot + b_dot`` where a tuple of batches (the tangent of a tuple of
    adjoints) meets one array batch (np.stack's adjoint's, directions first): added element
    by element along the array's second axis, never along its directions."""
    if isinstance(b, (tuple, list)) and not isinstance(a, (tuple, list)):
        a, b = b, a
    if isinstance(a, (tuple, list)) and not isinstance(b, (tuple, list)) and \
            getattr(b, "dtype", None) != object and np.ndim(b) >= 2 and np.shape(b)[1] == len(a):
        return add_bars(a, [b[:, k] for k in range(len(a))])
    return a + b


def add_bar(a, b):
    """``a + b`` for adjoints that may be ``None`` (zero) or tuples of adjoints."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(a, tuple):
        return tuple(add_bar(x, y) for x, y in zip(a, b))
    return a + b


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


def dot_bar_b(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` (see :func:`dot_bar_a`)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
        return matmul_bar_b(g, a, b)  # np.dot is a @ b here (no np.ndim's cost)
    p, q = np.ndim(a), np.ndim(b)
    if p == 0 or q == 0:
        return unbroadcast(g * a, b)
    if p <= 2 and q <= 2:
        return matmul_bar_b(g, a, b)
    leading = list(range(p - 1))  # a's axes other than the summed one lead g too
    summed = np.tensordot(a, g, axes=(leading, leading))  # (n,) + b's other axes
    return summed if q == 1 else np.moveaxis(summed, 0, -2)


def element_count(x):
    """``np.size(x)``, read from the shape: Dask does not implement ``np.size``, and its
    fallback would compute the whole array to count it."""
    if type(x) is np.ndarray:
        return x.size
    n = 1
    for d in np.shape(x):
        n *= d
    return n


def lift(t, x, ans):
    """A batch of tangents of ``x`` (leading axes) given ``ans``'s rank, to broadcast against it.

    Where ``x`` is a tuple: of a tuple joined to another with ``+`` (``ans`` a tuple too), the
    tangent as it is; of a sum of tuples of adjoints (``ans`` a :class:`tuple_bar`, or ragged
    pieces, :func:`pieces_array`), each element lifted; of a tuple NumPy reads as an array,
    the tuple of batches read as one array first (:func:`batch_of`)."""
    if type(ans) in (tuple, list):
        return t
    if isinstance(ans, (tuple, list)) or type(ans) is np.ndarray and ans.dtype == object:
        if isinstance(t, (tuple, list)) or type(t) is np.ndarray and t.dtype == object:
            parts = [lift(e, x_e, a) for e, x_e, a in zip(t, x, ans)]
            return pieces_array(parts) if type(t) is np.ndarray else type(t)(parts)
    t = batch_of(t)
    batch = np.ndim(t) - np.ndim(x)
    return np.reshape(t, np.shape(t)[:batch] + (1,) * (np.ndim(ans) - np.ndim(x)) + np.shape(x))


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


def unindex_axis(g, x, index, axis=None):
    """The adjoint of ``np.take(x, index, axis)``: ``g`` scattered into zeros shaped like ``x``."""
    if axis is None:
        return np.reshape(unindex(g, np.ravel(x), index), np.shape(x))
    return unindex(g, x, (slice(None),) * (axis % np.ndim(x)) + (index,))


def unindex_along(g, x, indices, axis):
    """The adjoint of ``np.take_along_axis(x, indices, axis)``: ``g`` scattered back like ``x``."""
    if axis is None:
        return np.reshape(unindex(g, np.ravel(x), indices), np.shape(x))
    grid = np.indices(np.shape(g), sparse=True)
    k = axis % np.ndim(g)
    return unindex(g, x, grid[:k] + (indices,) + grid[k + 1:])


def undiagonal(g, x, offset=0, axis1=0, axis2=1):
    """The adjoint of ``np.diagonal(x, offset, axis1, axis2)``: ``g`` on a diagonal of zeros."""
    n = np.shape(g)[-1]
    rows, cols = np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0)
    if type(x) is not np.ndarray or type(g) is not np.ndarray:  # no writes through a view
        m, p = np.shape(x)[axis1], np.shape(x)[axis2]
        place = (np.arange(m)[:, None] == rows) * 1.0, (np.arange(p)[:, None] == cols) * 1.0
        inner = (np.expand_dims(g, -2) * place[0]) @ place[1].T  # (..., m, p)
        return np.moveaxis(inner, (-2, -1), (axis1, axis2))
    x_bar = np.zeros_like(x, dtype=np.result_type(x, g, 1.0))
    np.moveaxis(x_bar, (axis1, axis2), (-2, -1))[..., rows, cols] = g
    return x_bar


def diag_bar(g, v, k=0):
    """The adjoint of ``np.diag(v, k)``: the diagonal of ``g`` if ``v`` is 1-d, else ``g`` on one."""
    return np.diagonal(g, k) if np.ndim(v) == 1 else undiagonal(g, v, k)


def eigh_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it: eigenvector sensitivities."""
    n = np.shape(w)[-1]
    off = 1.0 - np.eye(n)
    return off / (w[..., None, :] - w[..., :, None] + np.eye(n))


def eigh_bar(w, v, w_bar, v_bar):
    """``V (diag(w_bar) + F o (V^T v_bar)) V^T``: the adjoint of ``eigh``'s (symmetric) input."""
    inner = np.expand_dims(w_bar, -1) * np.eye(np.shape(w)[-1])
    if np.any(v_bar):  # F o 0 is 0, even where F is infinite (repeated eigenvalues)
        inner = inner + eigh_gaps(w) * (v.mT @ v_bar)
    return v @ inner @ v.mT


def svd_bar(u, s, vt, u_bar, s_bar, vt_bar):
    """The adjoint of ``a`` in ``u, s, vt = np.linalg.svd(a, full_matrices=False)``
    (distinct nonzero singular values; Townsend's formula, as PyTorch writes it). With
    ``full_matrices=True`` the columns of ``u`` (rows of ``vt``) past ``k`` are not determined
    by ``a``: they must have no adjoint."""
    k, m, n = np.shape(s)[-1], np.shape(u)[-2], np.shape(vt)[-1]
    if np.shape(u)[-1] > k or np.shape(vt)[-2] > k:
        if np.any(u_bar[..., k:]) or np.any(vt_bar[..., k:, :]):
            raise CheckFailed("the columns of a full U (rows of V^T) of np.linalg.svd past "
                              "min(m, n) are not determined by a, so they have no derivative; "
                              "use full_matrices=False")
        u, u_bar, vt, vt_bar = u[..., :k], u_bar[..., :k], vt[..., :k, :], vt_bar[..., :k, :]
    v, v_bar = vt.mT, vt_bar.mT
    gaps = s[..., None, :] ** 2 - s[..., :, None] ** 2 + np.eye(k)  # s_j^2 - s_i^2, 1 on diag
    ug, vg = u.mT @ u_bar, v.mT @ v_bar
    inner = (ug - ug.mT) / gaps * s[..., None, :] + s[..., :, None] * ((vg - vg.mT) / gaps)
    a_bar = u @ (inner + np.expand_dims(s_bar, -1) * np.eye(k)) @ vt
    if m > k:
        a_bar = a_bar + ((u_bar - u @ ug) / s[..., None, :]) @ vt
    if n > k:
        a_bar = a_bar + u @ ((v_bar - v @ vg) / s[..., None, :]).mT
    return a_bar


def svd_dot(u, s, vt, a_dot):
    """The tangent ``(u_dot, s_dot, vt_dot)`` of ``np.linalg.svd(a)``; with
    ``full_matrices=True``, NaN for the columns of ``u`` (rows of ``vt``) ``a`` does not determine."""
    k, m, n = np.shape(s)[-1], np.shape(u)[-2], np.shape(vt)[-1]
    if np.shape(u)[-1] > k or np.shape(vt)[-2] > k:
        u_dot, s_dot, vt_dot = svd_dot(u[..., :k], s, vt[..., :k, :], a_dot)
        return (np.concatenate([u_dot, u[..., k:] * np.nan], -1), s_dot,
                np.concatenate([vt_dot, vt[..., k:, :] * np.nan], -2))
    v = vt.mT
    d = u.mT @ a_dot @ v
    row = s[..., None, :]
    gaps = (row + row.mT) * (row - row.mT)
    f = 1.0 / (gaps + np.eye(k)) - np.eye(k)
    u_dot = u @ (f * (row * d + (row * d).mT))
    v_dot = v @ (f * (row.mT * d + (row.mT * d).mT))
    if m > k:
        dav = a_dot @ v
        u_dot = u_dot + (dav - u @ (u.mT @ dav)) / row
    if n > k:
        dau = a_dot.mT @ u
        v_dot = v_dot + (dau - v @ (vt @ dau)) / row
    return u_dot, np.diagonal(d, axis1=-2, axis2=-1), v_dot.mT


def check_tall(q, r):
    """Raise unless ``q, r = np.linalg.qr(a)`` came from an ``a`` with no more columns than rows."""
    if np.shape(q)[-2] < np.shape(r)[-1]:
        raise CheckFailed("s2sad's derivative of np.linalg.qr needs a with at least as many "
                          "rows as columns")


def qr_bar(q, r, q_bar, r_bar):
    """The adjoint of ``a`` in ``q, r = np.linalg.qr(a)`` (reduced, m >= n, r invertible):
    ``(q_bar + q C^T) r^-T`` with ``C`` the lower triangle of ``r r_bar^T - q_bar^T q``
    copied to the upper (Seeger et al., via the LQ factorisation of ``a^T``)."""
    check_tall(q, r)
    m = r @ r_bar.mT - q_bar.mT @ q
    c = np.tril(m) + np.tril(m, -1).mT
    return np.linalg.solve(r, (q_bar + q @ c.mT).mT).mT


def qr_dot(q, r, a_dot):
    """The tangent ``(q_dot, r_dot)`` of ``q, r = np.linalg.qr(a)`` (reduced, m >= n)."""
    check_tall(q, r)
    a_dot_rinv = np.linalg.solve(r.mT, a_dot.mT).mT
    qt = q.mT @ a_dot_rinv
    lower = np.tril(qt, -1)
    skew = lower - lower.mT
    return q @ (skew - qt) + a_dot_rinv, (qt - skew) @ r


def eigh_dot(w, v, a_dot):
    """The tangent ``(w_dot, v_dot)`` of ``w, v = np.linalg.eigh(a)`` along the symmetric ``a_dot``."""
    m = v.mT @ a_dot @ v
    return np.diagonal(m, axis1=-2, axis2=-1), v @ (eigh_gaps(w) * m)


def check_real(w, name):
    """Raise unless the eigenvalues ``w`` are real: s2sad differentiates real ones only."""
    if np.iscomplexobj(w):
        raise CheckFailed(f"{name} gave complex eigenvalues; s2sad differentiates it where "
                          f"they are real (and distinct) only")


def eig_bar(w, v, w_bar, v_bar):
    """The adjoint of ``a`` in ``w, v = np.linalg.eig(a)`` (real distinct eigenvalues):
    ``V^-T (diag(w_bar) + F o (V^T v_bar')) V^T``, ``v_bar'`` without the part along each
    unit-norm column, which the normalisation does not let move (JAX's rule, transposed)."""
    check_real(w, "np.linalg.eig")
    v_bar = v_bar - v * np.sum(v * v_bar, axis=-2, keepdims=True)
    inner = np.expand_dims(w_bar, -1) * np.eye(np.shape(w)[-1]) + eigh_gaps(w) * (v.mT @ v_bar)
    return np.linalg.solve(v.mT, inner @ v.mT)


def eig_dot(w, v, a_dot):
    """The tangent ``(w_dot, v_dot)`` of ``w, v = np.linalg.eig(a)``: ``M = V^-1 dA V``,
    ``dw = diag(M)``, ``dV = V (F o M)`` less its part along each (unit-norm) column."""
    check_real(w, "np.linalg.eig")
    m = np.linalg.solve(v, a_dot @ v)
    v_dot = v @ (eigh_gaps(w) * m)
    return np.diagonal(m, axis1=-2, axis2=-1), v_dot - v * np.sum(v * v_dot, axis=-2, keepdims=True)


def check_full_rank(a, rank):
    """Raise unless ``a`` (of ``np.linalg.lstsq``) has full column rank."""
    if rank < np.shape(a)[-1]:
        raise CheckFailed("s2sad differentiates np.linalg.lstsq for a of full column rank only "
                          f"(rank {rank} < {np.shape(a)[-1]} columns)")


def lstsq_bar(a, b, ans, g):
    """The adjoints ``(a_bar, b_bar)`` of ``x, residuals, rank, sv = np.linalg.lstsq(a, b)``,
    ``a`` of full column rank: ``z = (A^T A)^-1 x_bar``, ``r = b - A x``,
    ``a_bar = r z^T - A z x^T``, ``b_bar = A z``; then the residuals' (``2 r r_bar``) and the
    singular values' (``U diag(sv_bar) V^T``)."""
    x, residuals, rank, sv = ans
    check_full_rank(a, rank)
    r = b - a @ x
    z = np.linalg.solve(a.mT @ a, g[0])
    a_bar = matmul_bar_a(r, a, z) - matmul_bar_a(a @ z, a, x)
    b_bar = a @ z
    if np.size(residuals):  # a tall: sums of squares of r, each column's
        rg = 2 * r * g[1]
        a_bar, b_bar = a_bar - matmul_bar_a(rg, a, x), b_bar + rg
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return a_bar + (u * g[3]) @ vt, b_bar


def lstsq_dot(a, b, ans, a_dot, b_dot):
    """The tangent of ``np.linalg.lstsq(a, b)``'s four results (as :func:`bars`, so the
    contributions of ``a`` and ``b`` add element by element)."""
    x, residuals, rank, sv = ans
    check_full_rank(a, rank)
    r, moved = b - a @ x, b_dot - a_dot @ x
    x_dot = np.linalg.solve(a.mT @ a, a_dot.mT @ r + a.mT @ moved)
    res_dot = 2 * np.sum(r * moved, axis=0) if np.size(residuals) else np.zeros_like(residuals)
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    sv_dot = np.sum((u.mT @ a_dot) * vt, axis=-1)
    return bars((x_dot, np.reshape(res_dot, np.shape(residuals)), 0, sv_dot))


def convolve_pads(a, v, mode, flipped=False):
    """The zeros ``np.convolve(a, v, mode)`` (``np.correlate``: ``flipped``) cut off the ends of
    the full result: pad ``g`` with them and the adjoint is a 'valid' correlation."""
    n, m = np.shape(a)[0], np.shape(v)[0]
    mode = {0: "valid", 1: "same", 2: "full"}.get(mode, mode)
    if mode.startswith("f"):
        return (0, 0)
    length = max(n, m) if mode.startswith("s") else max(n, m) - min(n, m) + 1
    if mode.startswith("v"):
        start = min(n, m) - 1
    else:  # np.correlate centres 'same' on the other side when v is the longer
        start = n // 2 if flipped and n < m else (min(n, m) - 1) // 2
    return (start, n + m - 1 - start - length)


def interp_slope(x, xp, fp):
    """The slope of ``np.interp(x, xp, fp)`` at ``x``: that of the segment ``x`` is in (the one
    to its right at a knot), 0 outside ``[xp[0], xp[-1]]`` where the value is constant."""
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slopes = np.diff(fp) / np.diff(xp)
    slopes = np.zeros_like(x, shape=np.shape(slopes)) + slopes  # an array of x's type
    return np.where(np.logical_or(x < xp[0], x > xp[-1]), 0.0, slopes[j])


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """The weights of ``np.trapezoid(y, x, dx, axis)`` (a weighted sum of ``y`` along
    ``axis``), shaped to broadcast along that axis: half of each neighbouring step."""
    n = np.shape(y)[axis]
    if x is not None and np.ndim(x) != 1:
        raise CheckFailed("s2sad differentiates np.trapezoid with 1-d sample points x only")
    steps = np.diff(x) if x is not None else dx * np.ones_like(y, shape=(n - 1,))
    w = np.zeros_like(y, shape=(n,), dtype=np.result_type(y, steps, 1.0))
    w[:-1] += steps / 2
    w[1:] += steps / 2
    shape = [1] * np.ndim(y)
    shape[axis] = n
    return np.reshape(w, shape)


def gradient_bar(g, f, h=1.0, axis=None, edge_order=1):
    """The adjoint of ``np.gradient(f, h, axis=axis, edge_order=edge_order)`` (a constant
    spacing ``h``): each axis' difference stencil, transposed (one adjoint per axis)."""
    if np.ndim(h) != 0:
        raise CheckFailed("s2sad differentiates np.gradient with one constant spacing only")
    axes = range(np.ndim(f)) if axis is None else [axis] if np.ndim(axis) == 0 else axis
    axes = list(axes)
    out = np.zeros_like(f, dtype=np.result_type(f, 1.0))
    for ax, t in zip(axes, [g] if len(axes) == 1 else g):
        t = np.moveaxis(t + np.zeros_like(out), ax, 0) / h  # (a number: broadcast)
        r = np.moveaxis(out, ax, 0)  # a view of out
        r[2:] += t[1:-1] / 2
        r[:-2] -= t[1:-1] / 2
        if edge_order == 1:
            r[1] += t[0]
            r[0] -= t[0]
            r[-1] += t[-1]
            r[-2] -= t[-1]
        else:
            r[0] -= 1.5 * t[0]
            r[1] += 2 * t[0]
            r[2] -= 0.5 * t[0]
            r[-1] += 1.5 * t[-1]
            r[-2] -= 2 * t[-1]
            r[-3] += 0.5 * t[-1]
    return out


def chain_matrices(arrays):
    """``np.linalg.multi_dot``'s operands as matrices: a 1-d first one a row, a 1-d last one
    a column."""
    mats = list(arrays)
    if np.ndim(mats[0]) == 1:
        mats[0] = mats[0][None, :]
    if np.ndim(mats[-1]) == 1:
        mats[-1] = mats[-1][:, None]
    return mats


def chain_product(mats, n, like):
    """``mats[0] @ mats[1] @ ...``; the n x n identity if there are none."""
    if not mats:
        return np.eye(n, like=like)
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    return out


def multi_dot_bar(g, arrays):
    """The adjoints of ``np.linalg.multi_dot(arrays)``'s operands (:func:`pieces_array`):
    ``(A_0 ... A_i-1)^T G (A_i+1 ... A_n)^T`` for each, ``G`` the adjoint as a matrix."""
    mats = chain_matrices(arrays)
    rows, cols = np.shape(mats[0])[0], np.shape(mats[-1])[1]
    g = np.reshape(g, (rows, cols))
    bars = []
    for i, a in enumerate(arrays):
        left, right = chain_product(mats[:i], rows, g), chain_product(mats[i + 1:], cols, g)
        bars.append(np.reshape(left.T @ g @ right.T, np.shape(a)))
    return pieces_array(bars)


def multi_dot_dot(arrays, arrays_dot):
    """The tangent of ``np.linalg.multi_dot(arrays)``: the product rule, one term per operand."""
    total = 0.0
    for i in range(len(arrays)):
        total = total + np.linalg.multi_dot(list(arrays[:i]) + [arrays_dot[i]] +
                                            list(arrays[i + 1:]))
    return total


def unconcatenate(g, arrays, axis=0, ndmin=1):
    """The adjoint of ``np.concatenate(arrays, axis)``: ``g`` cut into pieces like ``arrays``.

    ``ndmin=2`` serves ``np.vstack``, which makes 1-d pieces rows first.
    """
    if axis is None:
        sizes, axis = [np.size(a) for a in arrays], 0
    else:
        sizes = [((1,) * (ndmin - np.ndim(a)) + np.shape(a))[axis] for a in arrays]
    return cut_like(g, sizes, axis, arrays)


def unjoin(g, arrays, axis):
    """The adjoint of ``np.column_stack(arrays)`` (``axis=1``) or ``np.dstack(arrays)``
    (``axis=2``): ``g`` cut into pieces like ``arrays``, one wide where a piece had no such axis."""
    sizes = [np.shape(a)[axis] if np.ndim(a) > axis else 1 for a in arrays]
    return cut_like(g, sizes, axis, arrays)


def cut_like(g, sizes, axis, arrays):
    """``g`` cut along ``axis`` into pieces of ``sizes``, each shaped like its array."""
    return pieces_array([np.reshape(p, np.shape(a))
                         for p, a in zip(np.split(g, np.cumsum(sizes)[:-1], axis), arrays)])


def pieces_array(pieces):
    """The adjoint of a list: an array, not a list, so that two adjoints of the same list add
    up piece by piece (``np.stack`` of the pieces, or a 1-d object array of ragged ones)."""
    if len({np.shape(p) for p in pieces}) <= 1:
        return np.stack(pieces)
    ragged = np.empty(len(pieces), dtype=object)
    for i, p in enumerate(pieces):
        ragged[i] = p
    return ragged


def select_none(condlist):
    """Where none of ``np.select``'s conditions holds (where it takes its default)."""
    held = condlist[0]
    for cond in condlist[1:]:
        held = np.logical_or(held, cond)
    return np.logical_not(held)


def select_bar(g, condlist, choicelist):
    """The adjoints of ``np.select(condlist, choicelist, default)``'s choices, as
    :func:`pieces_array`: ``g`` where each is the one selected (its condition the first)."""
    taken = np.zeros_like(g, dtype=bool)
    bars = []
    for cond, choice in zip(condlist, choicelist):
        first = np.logical_and(cond, ~taken)
        bars.append(unbroadcast(np.where(first, g, 0.0), choice))
        taken = np.logical_or(taken, first)
    return pieces_array(bars)


def unpad(g, pad_width):
    """The adjoint of ``np.pad(x, pad_width)`` (constant mode): the middle of ``g``."""
    widths = np.broadcast_to(pad_width, (np.ndim(g), 2))
    return g[tuple(slice(lo, n - hi) for (lo, hi), n in zip(widths, np.shape(g)))]


def tensordot_axes(axes, a, b):
    """The summed axes of ``a`` and of ``b`` in ``np.tensordot(a, b, axes)``, as two lists."""
    if isinstance(axes, (int, np.integer)):
        return list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes))
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # np.inner of a number: a product, no axis summed
        return [], []
    axes_a, axes_b = ([ax] if np.ndim(ax) == 0 else list(ax) for ax in axes)
    return [i % np.ndim(a) for i in axes_a], [i % np.ndim(b) for i in axes_b]


def tensordot_bar_a(g, a, b, axes=2):
    """The adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(axes, a, b)
    free_b = [i for i in range(np.ndim(b)) if i not in axes_b]
    t = np.tensordot(g, b, (list(range(np.ndim(g) - len(free_b), np.ndim(g))), free_b))
    # t's axes: a's free axes, then a's summed axes in the order of their partners in b
    order = [i for i in range(np.ndim(a)) if i not in axes_a] + \
        [axes_a[j] for j in np.argsort(axes_b)]
    return np.transpose(t, np.argsort(order))


def tensordot_bar_b(g, a, b, axes=2):
    """The adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(axes, a, b)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    t = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    # t's axes: b's summed axes in the order of their partners in a, then b's free axes
    order = [axes_b[j] for j in np.argsort(axes_a)] + \
        [i for i in range(np.ndim(b)) if i not in axes_b]
    return np.transpose(t, np.argsort(order))


def kron_bar_a(g, a, b):
    """The adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` weighed by ``b``, summed."""
    n = max(np.ndim(a), np.ndim(b))
    sa, sb = (1,) * (n - np.ndim(a)) + np.shape(a), (1,) * (n - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [d for pair in zip(sa, sb) for d in pair])  # axes a0, b0, a1, b1, ...
    weights = np.reshape(b, [d for s in sb for d in (1, s)])
    return np.reshape(np.sum(blocks * weights, axis=tuple(range(1, 2 * n, 2))), np.shape(a))


def kron_bar_b(g, a, b):
    """The adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` weighed by ``a``, summed."""
    n = max(np.ndim(a), np.ndim(b))
    sa, sb = (1,) * (n - np.ndim(a)) + np.shape(a), (1,) * (n - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [d for pair in zip(sa, sb) for d in pair])  # axes a0, b0, a1, b1, ...
    weights = np.reshape(a, [d for s in sa for d in (s, 1)])
    return np.reshape(np.sum(blocks * weights, axis=tuple(range(0, 2 * n, 2))), np.shape(b))


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


HELPERS = ["CheckFailed", "NotScalar", "check_scalar", "zeros_bar", "unbroadcast", "fits_shape",
           "unreduce",
           "is_number", "adjoint_dtype", "stack", "stack_pairs", "element_count", "unindex", "scatter_add", "masked", "extremum_bar", "matmul_bar_a", "matmul_bar_b",
           "matmul_bar_a_sum", "matmul_bar_b_sum", "product_terms", "matmul_bar_a_sum_dot",
           "matmul_bar_b_sum_dot", "matmul_bar_a_sum_bar", "matmul_bar_b_sum_bar",
           "pop_bar", "add_contents_bar", "add_contents_dots", "add_dots", "add_bar",
           "dot_bar_a", "dot_bar_b", "lift", "unindex_axis", "unindex_along", "undiagonal",
           "diag_bar", "unconcatenate", "unjoin", "cut_like", "pieces_array", "select_none", "select_bar", "unpad", "tensordot_axes", "tensordot_bar_a",
           "tensordot_bar_b", "kron_bar_a", "kron_bar_b", "eigh_gaps", "eigh_bar", "eigh_dot", "svd_bar", "svd_dot", "check_real", "eig_bar", "eig_dot", "check_full_rank", "lstsq_bar", "lstsq_dot", "chain_matrices", "chain_product", "multi_dot_bar", "multi_dot_dot", "convolve_pads", "interp_slope", "trapezoid_weights", "gradient_bar", "check_tall", "qr_bar", "qr_dot",
           "setitem_bar", "setitem_dot", "setitem_dots", "stack_each", "stack_directions",
           "directions", "batch_of", "read_as_array", "item_dots", "zeros_dots",
           "unattr", "piece_bar", "unpiece", "tuple_bar", "dict_bar", "add_bars", "bars", "kept", "as_gradient", "writable",
           "revolve_segments", "revolve_actions", "Revolve", "revolve", "revolve_split",
           "revolve_snaps"]
