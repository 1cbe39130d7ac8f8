"""Forward mode's vector mode: a batch of tangents carries the directions on a leading axis.
:func:`stack_directions` makes one batch of per-direction tangents (of the same structure:
tuples, lists, dicts, ragged pieces), :func:`directions` undoes it; :func:`batch_of` and
:func:`read_as_array` read a tuple's tangents as NumPy reads the tuple; :func:`item_dots`
reads one element of a batch, :func:`zeros_dots` makes a zero batch, and :func:`lift` lines a
batch up to broadcast against a result of higher rank.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .arrays import pieces_array, stack
from .lists import structured_like


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
    ``x``'s structure (tuples, lists, dicts), each leaf with the directions first. An empty
    tuple's (a helper's residuals when it keeps none) is a :class:`no_dots`, which holds
    the number of directions no leaf of it can tell."""
    if isinstance(x, (tuple, list)):
        if type(x) is tuple and not x:
            return no_dots((), directions_count(d))
        parts = [zeros_dots(e, d) for e in x]
        return tuple(parts) if type(x) is tuple else type(x)(parts)
    if isinstance(x, dict):
        return type(x)((k, zeros_dots(e, d)) for k, e in x.items())
    if type(x) is np.ndarray and x.dtype == object:  # ragged pieces (pieces_array's)
        return pieces_array([zeros_dots(e, d) for e in x])
    count = directions_count(d)
    if count is None:
        raise ValueError("internal: a zero batch of tangents for a batch that tells no number "
                         "of directions (no array in it)")
    if not hasattr(x, "__array_function__") and not isinstance(x, (float, int, complex, np.generic)):
        return np.zeros((count,))  # no array nor number (the instance self): a number's zeros
    return np.zeros_like(x, dtype=np.result_type(x, 1.0), shape=(count,) + np.shape(x))


class no_dots(tuple):
    """Vector mode's tangent of an empty tuple: empty, with ``count``, the number of
    directions, which :func:`zeros_dots` reads from it (elsewhere a leaf's leading axis
    tells it)."""

    def __new__(cls, items=(), count=None):
        t = super().__new__(cls, items)
        t.count = count
        return t


def directions_count(d):
    """The number of directions of the batch ``d``: the leading axis of its first leaf that
    is an array (a number in it is a zero that broadcasts), or a :class:`no_dots`'s count;
    None if it has neither."""
    if isinstance(d, no_dots):
        return d.count
    if isinstance(d, dict):
        d = tuple(d.values())
    if isinstance(d, (tuple, list)) or type(d) is np.ndarray and d.dtype == object:
        counts = (directions_count(e) for e in d)
        return next((c for c in counts if c is not None), None)
    return np.shape(d)[0] if np.ndim(d) else None


def pop_dots(t_dot, like, d):
    """Vector mode's :func:`~s2sad.support.lists.pop_bar` on a list of tangent batches: the
    batch pushed last, or a zero batch (as many directions as ``d`` has) from an empty list,
    as pop_bar gives zeros like ``like`` from an empty list of adjoints."""
    if t_dot:
        return structured_like(t_dot.pop(), like)
    if isinstance(like, tuple):
        return tuple(None if x is None else zeros_dots(x, d) for x in like)
    return None if like is None else zeros_dots(like, d)


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
    if isinstance(t, (float, int)):  # a zero for any shape (a constant's, a zeroed slot's)
        return t
    batch = np.ndim(t) - np.ndim(x)
    return np.reshape(t, np.shape(t)[:batch] + (1,) * (np.ndim(ans) - np.ndim(x)) + np.shape(x))
