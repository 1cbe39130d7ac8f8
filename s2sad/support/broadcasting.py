"""Undoing broadcasting and reductions: :func:`unbroadcast` sums an adjoint over the axes
broadcasting added, :func:`unreduce` spreads a reduction's adjoint back (a stride-0 view for
NumPy arrays), and the adjoints of a branch of ``np.where`` (:func:`masked`) and of
``max``/``min`` (:func:`extremum_bar`, and :func:`extremum_share` with ``initial=`` or
``where=``); the derivatives of ``np.prod`` and ``np.cumprod``, exact where the operand has
zeros (:func:`prod_bar`, :func:`prod_dot`, :func:`cumprod_bar`, :func:`cumprod_dot`).

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .arrays import adjoint_dtype, fits_shape, is_number


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


def masked(g, condition, keep=True):
    """``np.where(condition, g, 0.0)`` (``keep=False``: ``np.where(condition, 0.0, g)``): the
    adjoint of one branch of a ``where``. Where ``condition`` is a boolean array of ``g``'s
    shape and ``g`` a finite float array, a multiplication by the mask: no branch per element,
    several times faster than ``where`` on a data-dependent mask (a zero may be -0.0)."""
    if maskable(g, condition) and all_finite(g):  # (inf * 0 would be nan)
        return g * condition if keep else g * ~condition
    return np.where(condition, g, 0.0) if keep else np.where(condition, 0.0, g)


def masked_rest(g, kept, condition):
    """``masked(g, condition, False)`` given ``kept``, ``masked(g, condition)``: the adjoint of
    a ``where``'s second branch from its first's, ``g - kept``, one pass and no negated mask
    (exact where ``kept`` is finite, so that ``g`` is where it was kept: elsewhere ``kept``
    is 0 and ``g - 0`` is ``g``, infinite or NaN too; a zero may be -0.0)."""
    if maskable(g, condition) and type(kept) is np.ndarray and kept.shape == g.shape and \
            all_finite(kept):
        return g - kept
    return np.where(condition, 0.0, g)


def maskable(g, condition):
    """Is ``g`` a float array and ``condition`` a boolean array of its shape?"""
    return type(g) is np.ndarray and type(condition) is np.ndarray and \
        condition.dtype == np.bool_ and g.shape == condition.shape and g.dtype.kind == "f"


def all_finite(a):
    """True if every entry of the float array ``a`` is finite."""
    return bool(np.isfinite(a).all())


def all_nonzero(a):
    """True if no entry of ``a`` is 0 (a NaN is not): of a NumPy array without a comparison's
    array of booleans, of a number by one comparison."""
    if type(a) is np.float64 or type(a) is float:
        return bool(a != 0)
    if type(a) is np.ndarray:
        return bool(a.all())
    return bool(np.all(a != 0))


def extremum_bar(g, x, ans, axis=None, keepdims=False):
    """The adjoint of ``max``/``min`` of ``x``: ``g`` shared equally among the ties (the
    entries equal to ``ans``): :func:`tie_share` of their mask."""
    if axis is not None and not keepdims:
        ans = np.expand_dims(ans, axis)
    return tie_share(g, x == ans, axis, keepdims)


def tie_share(g, mask, axis=None, keepdims=False):
    """``g``, the adjoint of a ``max``/``min`` over ``axis``, shared equally among the ties
    ``mask`` marks (the forward sweep's ``x == ans``, kept: s2sad.reverse.forward_masks).
    ``g`` is divided by the count of ties first (an array of the reduced shape), then spread
    over the mask. One array of ``x``'s size is made, and no other: the count is summed in
    the smallest unsigned type that holds it (into int64, NumPy casts the mask through a
    buffer of int64s of its size), and a NumPy mask selects by ``np.copyto(where=)`` (a
    product with it would cast it to floats through another such buffer)."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    count = np.sum(mask, axis=axis, keepdims=True, dtype=np.min_scalar_type(np.size(mask)))
    share = g / count
    if type(mask) is not np.ndarray or not count.all():  # (an array library's own; or a
        return share * mask  # NaN max, equal to nothing: its adjoint NaN, as ever, not 0)
    spread = np.zeros(mask.shape, np.result_type(share))
    np.copyto(spread, share, where=mask)
    return spread


def extremum_share(x, ans, initial=None, where=True, axis=None, keepdims=False):
    """Each entry's share of the adjoint of ``max``/``min(x, axis, initial=, where=)``: the
    ties (the entries ``where`` takes that equal ``ans``, and ``initial`` when it equals
    ``ans``) share it equally, so an entry's share is 1 over their count, or 0; ``initial``'s
    is 1 less the entries' shares summed. Constant where the extremum is smooth: no derivative
    of its own."""
    if axis is not None and not keepdims:
        ans = np.expand_dims(ans, axis)
    mask = (x == ans) & where
    count = np.sum(mask, axis=axis, keepdims=True)
    if initial is not None:
        count = count + (ans == initial)
    return mask / count


def quantile_bar(g, x, q, axis=None, keepdims=False):
    """The adjoint of ``np.quantile(x, q, axis)`` (linear interpolation; ``np.median`` is
    q = 0.5): with ``q (n - 1) = k + t``, ``g`` times ``1 - t`` goes to the k-th smallest entry
    and times ``t`` to the next (ties ordered as ``np.argsort`` orders them)."""
    if is_number(g):  # (the seed: a float, of x's precision)
        g = np.asarray(g, dtype=adjoint_dtype(x, g))
    if axis is None:
        flat = np.reshape(x, (-1,))
        return np.reshape(quantile_bar(np.reshape(g, (1,)), flat, q, 0, True), np.shape(x))
    if not keepdims:
        g = np.expand_dims(g, axis)
    n = np.shape(x)[axis]
    position = q * (n - 1)
    k = min(int(np.floor(position)), n - 1)
    t = position - k
    rank = np.argsort(np.argsort(x, axis=axis), axis=axis)  # each entry's place in order
    share = (g * (rank == k)) * (1.0 - t)  # (a Python float keeps g's precision)
    return share + (g * (rank == k + 1)) * t if t else share


def weights_along(w, a, axis):
    """``np.average``'s ``weights`` as an array that broadcasts against ``a``: itself when it has
    ``a``'s rank, else (1-d, the weights along the int ``axis``) with ones for the other axes."""
    if np.ndim(w) == np.ndim(a):
        return w
    shape = [1] * np.ndim(a)
    shape[axis] = -1
    return np.reshape(w, shape)


# --- np.prod and np.cumprod, exact at zeros ---------------------------------------------------
# The derivative of a product is the product of the other factors: ans / x where no factor is 0
# (one division per entry, the fast path), else made without a division.

def prod_bar(g, x, ans, axis=None, keepdims=False):
    """The adjoint of ``ans = np.prod(x, axis)``: ``g`` times each entry's :func:`prod_others`,
    ``g * ans / x`` when no product is 0."""
    if all_nonzero(ans):
        return unreduce(g * ans, x, axis, keepdims) / x
    return unreduce(g, x, axis, keepdims) * prod_others(x, axis)


def prod_dot(t, x, ans, axis=None, keepdims=False):
    """The tangent of ``ans = np.prod(x, axis)`` along ``t``: the sum of ``t`` times each
    entry's :func:`prod_others`, ``t * ans / x`` when no product is 0."""
    if all_nonzero(ans):
        if axis is not None and not keepdims:
            ans = np.expand_dims(ans, axis)
        return np.sum(t * ans / x, axis=axis, keepdims=keepdims)
    return np.sum(t * prod_others(x, axis), axis=axis, keepdims=keepdims)


def prod_others(x, axis=None):
    """The product of the other entries of each entry's lane of ``np.prod(x, axis)``, without a
    division by a zero: the product of the lane's non-zero entries over the entry where the lane
    has no zero; at the zero of a lane of one zero, that product; 0 elsewhere."""
    zero = x == 0
    zeros = np.sum(zero, axis=axis, keepdims=True)
    nonzero = np.where(zero, 1.0, x)
    others = np.prod(nonzero, axis=axis, keepdims=True)  # each lane's non-zero entries
    return np.where(zeros == 0, others / nonzero, np.where(zero & (zeros == 1), others, 0.0))


def prod_others_dot(w, x, axis=None):
    """The tangent of :func:`prod_others` along ``w`` (a symmetric map): for each entry, the
    sum over the other entries of its lane of ``w`` there times the product of the entries but
    those two; without a division by a zero: by the count of the lane's zeros (0, 1, 2, more).
    A NaN or infinite ``w`` makes its lane NaN, as ``0 * w`` would in the products."""
    zero = x == 0
    zeros = np.sum(zero, axis=axis, keepdims=True)
    nonzero = np.where(zero, 1.0, x)
    others = np.prod(nonzero, axis=axis, keepdims=True)  # each lane's non-zero entries
    ratio = np.where(zero, 0.0, w / nonzero)
    ratios = np.sum(ratio, axis=axis, keepdims=True)  # w / x over the lane's non-zero entries
    at_zeros = np.sum(np.where(zero, w, 0.0), axis=axis, keepdims=True)  # w over its zeros
    no_zero = others / nonzero * (ratios - ratio)
    one_zero = others * np.where(zero, ratios, at_zeros / nonzero)
    two_zeros = others * np.where(zero, at_zeros - w, 0.0)
    lanes = np.where(zeros == 0, no_zero,
                     np.where(zeros == 1, one_zero, np.where(zeros == 2, two_zeros, 0.0)))
    return lanes + 0.0 * np.sum(w, axis=axis, keepdims=True)


def cumprod_bar(g, x, ans, axis=None):
    """The adjoint of ``ans = np.cumprod(x, axis)``: the sum over ``k >= i`` of ``g[k]`` times
    ``ans[k]``'s product of the entries other than ``x[i]``: ``ans[k] / x[i]`` where the lane has
    no zero (one reversed cumulative sum and one division); else that before the lane's first
    zero, at the first zero the products that skip it, and 0 after it (every product holds it:
    a product by the mask, so that a NaN or infinite ``g`` gives NaN there as ``0 * g`` does)."""
    if all_nonzero(x):
        spread = cumsum_from_end(g * ans, axis)
        return (spread if axis is not None else np.reshape(spread, np.shape(x))) / x
    if axis is None:  # (np.cumprod flattens x)
        return np.reshape(cumprod_bar(g, np.reshape(x, (-1,)), ans, 0), np.shape(x))
    zero, count, first, _, skip_one, _, nonzero = cumprod_zeros(x, axis)
    return np.where(count == 0, cumsum_from_end(g * ans, axis) / nonzero,
                    cumsum_from_end(g * skip_one, axis) * first)


def cumprod_dot(t, x, ans, axis=None):
    """The tangent of ``ans = np.cumprod(x, axis)`` along ``t``: ``ans * np.cumsum(t / x)`` where
    the lane has no zero; else that before the lane's first zero, and from it on, the only term
    left, the tangent of the first zero times the products that skip it (the other tangents
    times 0: a NaN or infinite one gives NaN, as ``0 * t`` does)."""
    if all_nonzero(x):
        return ans * np.cumsum(t / x, axis)
    if axis is None:  # (np.cumprod flattens x)
        return cumprod_dot(np.reshape(t, (-1,)), np.reshape(x, (-1,)), ans, 0)
    zero, count, first, _, skip_one, _, nonzero = cumprod_zeros(x, axis)
    return np.where(count == 0, ans * np.cumsum(t / nonzero, axis),
                    np.cumsum(t * first, axis) * skip_one)


def cumprod_bar_dot(t, w, x, axis=None):
    """The tangent of ``cumprod_bar(t, x, np.cumprod(x, axis), axis)`` along ``w``: at entry m,
    the sum over ``k >= m`` of ``t[k]`` times the sum over ``i <= k``, ``i != m``, of ``w[i]``
    times the product of the entries up to k but i and m (symmetric in w and the cotangent of
    x: it is a Hessian's). Without a division by a zero: by where m is among its lane's zeros.
    A NaN or infinite t from m on, or w in the lane, makes it NaN."""
    if axis is None:  # (np.cumprod flattens x)
        flat = cumprod_bar_dot(t, np.reshape(w, (-1,)), np.reshape(x, (-1,)), 0)
        return np.reshape(flat, np.shape(x))
    zero, count, first, second, skip_one, skip_two, nonzero = cumprod_zeros(x, axis)
    ans = np.cumprod(x, axis)
    ratios = np.cumsum(np.where(zero, 0.0, w / nonzero), axis)  # w / x up to k, zeros left out
    w_first = np.sum(w * first, axis=axis, keepdims=True)  # w at the lane's first zero
    w_second = np.sum(w * second, axis=axis, keepdims=True)
    at_nonzero = (cumsum_from_end(t * ans * ratios, axis) - w / nonzero *
                  cumsum_from_end(t * ans, axis)) / nonzero + \
        w_first / nonzero * cumsum_from_end(t * skip_one * (count >= 1), axis)
    at_first = cumsum_from_end(t * skip_one * ratios, axis) + \
        w_second * cumsum_from_end(t * skip_two * (count >= 2), axis)
    at_second = w_first * cumsum_from_end(t * skip_two, axis)
    entries = np.where(~zero, at_nonzero, np.where(first, at_first, np.where(second, at_second,
                                                                           0.0)))
    return entries + 0.0 * (cumsum_from_end(t, axis) + np.sum(w, axis=axis, keepdims=True))


def cumprod_dot_dot(w, v, x, axis=None):
    """The tangent of ``cumprod_dot(w, x, np.cumprod(x, axis), axis)`` along ``v`` (symmetric
    in w and v): at k, the sum over ``i != m``, both ``<= k``, of ``w[i] v[m]`` times the
    product of the entries up to k but i and m. Without a division by a zero: by the count of
    zeros up to k (0, 1, 2, more). A NaN or infinite w or v up to k makes it NaN."""
    if axis is None:  # (np.cumprod flattens x)
        return cumprod_dot_dot(np.reshape(w, (-1,)), np.reshape(v, (-1,)), np.reshape(x, (-1,)),
                               0)
    zero, count, first, second, skip_one, skip_two, nonzero = cumprod_zeros(x, axis)
    w_ratios, v_ratios = (np.cumsum(np.where(zero, 0.0, u / nonzero), axis) for u in (w, v))
    both = np.cumsum(np.where(zero, 0.0, w * v / nonzero ** 2), axis)
    w_first, v_first, w_second, v_second = (np.cumsum(u * mask, axis) for u, mask in
                                            ((w, first), (v, first), (w, second), (v, second)))
    no_zero = np.cumprod(x, axis) * (w_ratios * v_ratios - both)
    one_zero = skip_one * (w_first * v_ratios + v_first * w_ratios)
    two_zeros = skip_two * (w_first * v_second + w_second * v_first)
    lanes = np.where(count == 0, no_zero,
                     np.where(count == 1, one_zero, np.where(count == 2, two_zeros, 0.0)))
    return lanes + 0.0 * np.cumsum(w + v, axis)


def cumprod_zeros(x, axis):
    """For the derivatives of ``np.cumprod(x, axis)`` where x has zeros: the mask of the zeros,
    their count up to each entry, the masks of each lane's first and second zero, the
    cumulative products that skip the first zero and the first two, and x with its zeros 1."""
    zero = x == 0
    count = np.cumsum(zero, axis)
    first, second = zero & (count == 1), zero & (count == 2)
    nonzero = np.where(zero, 1.0, x)
    return (zero, count, first, second, np.cumprod(np.where(first, 1.0, x), axis),
            np.cumprod(np.where(first | second, 1.0, x), axis), nonzero)


def cumsum_from_end(t, axis):
    """The sums of ``t`` from each entry to the end of its lane along ``axis`` (of a 1-d ``t``
    for ``axis=None``): the adjoint of ``np.cumsum(t, axis)``."""
    return np.flip(np.cumsum(np.flip(t, axis), axis), axis)
