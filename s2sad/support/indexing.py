"""Adjoints of reads and writes of parts of arrays and containers: :func:`unindex` (``x[i]``,
of an array, tuple, list or dict) scatters the adjoint into zeros with
:func:`scatter_add` (repeated indices accumulate), with its relatives for ``np.take``,
``np.take_along_axis``, ``np.diagonal``/``np.diag``, named tuples' attributes and
``np.pad``; :func:`setitem_bar`, :func:`written_bar` and :func:`setitem_dot` (``y[i] = v``); and the pieces of
joined arrays (``np.concatenate`` and its kin, ``np.select``), cut back as
:func:`~s2sad.support.arrays.pieces_array`.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .checks import CheckFailed
from .arrays import adjoint_dtype, pieces_array
from .batches import batch_of
from .containers import add_bars, dict_bar, tuple_bar, zeros_bar
from .broadcasting import unbroadcast


def unindex(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``.

    Repeated integer indices accumulate, as they must. For an element of a
    tuple or list (``eigh(a)[1]``, ``params[0]``) it is the tuple of adjoints with
    zeros elsewhere; for an entry of a dict (``params["W"]``), the dict of adjoints.
    """
    if isinstance(x, (tuple, list)) and isinstance(index, slice):  # g: the piece's adjoints
        picked = dict(zip(range(len(x))[index], g))
        return tuple_bar(picked[k] if k in picked else zeros_bar(e) for k, e in enumerate(x))
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


def unindex_axis(g, x, index, axis=None):
    """The adjoint of ``np.take(x, index, axis)``: ``g`` scattered into zeros shaped like ``x``."""
    if axis is None:
        return np.reshape(unindex(g, np.ravel(x), index), np.shape(x))
    return unindex(g, x, (slice(None),) * (axis % np.ndim(x)) + (index,))


def running_extreme_index(ans, axis=0):
    """Where each running extreme ``ans`` of ``np.maximum.accumulate(a, axis)`` (or
    ``np.minimum``'s) was set: the index along ``axis`` of the element that set it, the first
    of equal ones (np.maximum gives a tie to its first operand, the running extreme), so the
    extreme is ``np.take_along_axis(a, index, axis)``."""
    r = np.moveaxis(ans, axis, 0)
    n = np.shape(r)[0]
    changed = np.concatenate([np.ones_like(r[:1], dtype=bool), r[1:] != r[:-1]])
    steps = np.reshape(np.arange(n), (n,) + (1,) * (np.ndim(r) - 1))
    return np.moveaxis(np.maximum.accumulate(np.where(changed, steps, 0), axis=0), 0, axis)


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


def setitem_bar(g, index, old=None):
    """The adjoint of ``y`` in ``y[index] = v``: ``g`` with zeros at ``index`` (a copy). A
    list's slot (the adjoints of a list: a list) gets zeros of the shape of ``old``, what the
    write overwrote (given, as a slot may have held a number and now an array), else of
    ``g``'s there: a rule given the element's adjoint may need an array."""
    if isinstance(g, list):
        return slot_written(g, index, zeros_bar(g[index] if old is None else old))
    y_bar = g.astype(np.result_type(g, 1.0))  # a copy, of g's array type
    y_bar[index] = 0.0
    return y_bar


def written_bar(g, index):
    """The adjoint of ``v`` in ``y[index] = v`` (before ``unbroadcast``) for an index that may
    name an element twice (``y[[0, 0, 1]] = v``): ``g[index]`` at each element's last position,
    whose value NumPy keeps, and zero at the earlier ones, whose values it overwrote. A slot of
    a list (of its adjoints) is one element: ``g[index]``."""
    if isinstance(g, (list, tuple)):
        return g[index]
    taken = g[index]
    order = np.reshape(np.cumsum(np.ones_like(taken, dtype=int)) - 1, np.shape(taken))
    last = np.full_like(g, -1, dtype=int)  # (of g's array type, as the index may be)
    last[index] = order  # each element: the last position written there
    return np.where(last[index] == order, taken, 0.0)


def slot_written(t, index, v):
    """A copy of the list ``t`` (of its own type: a ``tuple_bar`` stays one) with ``v`` at
    ``index``: the tangent of a write into a list's slot."""
    out = type(t)(t)
    out[index] = v
    return out


def setitem_dot(y_dot, index, v_dot):
    """The tangent of ``y[index] = v``: ``y_dot`` with ``v_dot`` written at ``index`` (a copy).
    ``v_dot`` may be a list of tangents (``y[1:] = [a, b, 3.0]``), as ``v`` was a list."""
    if isinstance(y_dot, list):  # a list's slot (the tangents of a list: a list)
        return slot_written(y_dot, index, v_dot)
    out = y_dot.astype(written_dtype(y_dot, v_dot))  # a copy
    out[index] = v_dot
    return out


def written_dtype(y_dot, v_dot):
    """The dtype of ``y_dot`` after ``v_dot`` (an array, a number or a list of them) is written
    into it: a float dtype at least."""
    items = v_dot if isinstance(v_dot, (list, tuple)) else (v_dot,)
    return np.result_type(y_dot, *items, 1.0)


def setitem_dots(y_dot, index, v_dot):
    """:func:`setitem_dot` for a batch of tangents (the directions first); a list of batches
    (``y[1:] = [a, b, 3.0]``) is stacked first, each element's directions first."""
    if isinstance(y_dot, list):  # a list's slot: its elements' batches are each their own
        return slot_written(y_dot, index, v_dot)
    out = y_dot.astype(written_dtype(y_dot, v_dot))  # a copy
    if isinstance(v_dot, (list, tuple)):  # (a constant element's tangent: a zero number)
        v_dot = batch_of([np.broadcast_to(e, np.shape(out)[:1]) if np.ndim(e) == 0 else e
                          for e in v_dot])
    batch = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    if np.ndim(v_dot):  # line the directions up with out's first axis
        shape = np.shape(v_dot)
        v_dot = np.reshape(v_dot, shape[:1] + (1,) * (np.ndim(out[batch]) - len(shape)) +
                           shape[1:])
    out[batch] = v_dot
    return out


def unpad(g, pad_width):
    """The adjoint of ``np.pad(x, pad_width)`` (constant mode): the middle of ``g``."""
    widths = np.broadcast_to(pad_width, (np.ndim(g), 2))
    return g[tuple(slice(lo, n - hi) for (lo, hi), n in zip(widths, np.shape(g)))]


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


def unpad_copies(g, pad_width, mode):
    """The adjoint of ``np.pad(x, pad_width, mode)`` for the modes that copy ``x``'s elements
    into the border (``'edge'``, ``'reflect'``, ``'symmetric'``, ``'wrap'``): ``g`` with each
    border element's adjoint added back to the element it copies.

    ``np.pad`` pads one axis after the other, each a gather along that axis, whose indices are
    the padding of ``np.arange(n)`` in the same mode; the adjoint scatters ``g`` back axis by
    axis, adding where an element was copied more than once.
    """
    widths = np.broadcast_to(pad_width, (np.ndim(g), 2))
    for axis, (lo, hi) in enumerate(widths):
        n = np.shape(g)[axis] - lo - hi
        index = np.pad(np.arange(n), (lo, hi), mode)
        moved = np.moveaxis(g, axis, 0)
        out = np.zeros_like(moved[:n], dtype=adjoint_dtype(moved))
        scatter_add(out, index, moved)
        g = np.moveaxis(out, 0, axis)
    return g
