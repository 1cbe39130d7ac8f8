"""The adjoints of containers: a tuple or list has one adjoint per element
(:class:`tuple_bar`), a dict one per entry (:class:`dict_bar`); both add element by element
(:func:`add_bars`), where a plain tuple or list would concatenate. :func:`zeros_bar` is a
zero adjoint of any value's structure to accumulate into, :func:`as_gradient` gives an
adjoint back in its argument's own structure and dtype, :func:`bars` makes a tuple of
adjoints, :func:`kept` copies what the backward sweep's restores would change, and
:func:`copy_bar` an adjoint a loop's backward sweep updates in place.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .arrays import fits_shape


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


def keys_of(d):
    """``d.keys()`` as a tuple, which a loop can index (``for k in d.keys()``, and the
    ``d.values()``/``d.items()`` s2sad reads as ``d[k]`` for each ``k``): a dict's keys in
    its order, which have no derivative."""
    return tuple(d.keys())


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


def copy_bar(g):
    """A copy of the adjoint ``g`` the backward sweep may update in place (a loop writing
    into a value zeroes parts of its adjoint trip by trip): of an array, ``np.copy``; of the
    adjoints of a list (or dict), the container, its elements shared: a slot of it is
    replaced, never updated in place (:func:`~s2sad.support.indexing.scatter_add`)."""
    if isinstance(g, (list, dict)):  # (np.copy would make one array of them, or fail)
        return type(g)(g)
    return np.copy(g)


def kept(t):
    """``t`` with its arrays copied (in tuples and lists too): what the backward sweep's
    restores, which write old values back into arrays, cannot change (has_aux's aux)."""
    if isinstance(t, (tuple, list)):
        return type(t)(kept(e) for e in t)
    return t.copy() if type(t) is np.ndarray else t


def bars(t, like=None):
    """The adjoint of ``a, b = p`` given its names' adjoints, ``bars((a_bar, b_bar), p)``: a
    tuple of adjoints, which adds to another element by element; where ``p`` is an array (its
    rows unpacked), the array of the rows' adjoints, as NumPy's arithmetic needs it."""
    if like is None or isinstance(like, (tuple, list, dict)) or np.ndim(like) == 0:
        return tuple_bar(t)
    rows = [np.zeros_like(row) if e is None else np.broadcast_to(e, np.shape(row))
            for e, row in zip(t, like)]
    return np.stack(rows)


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
