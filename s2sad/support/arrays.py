"""Small array utilities the other helpers share: numbers and dtypes (:func:`is_number`,
:func:`adjoint_dtype`), shapes (:func:`fits_shape`, :func:`element_count`), stacking
(:func:`stack`, :func:`stack_pairs`) and the adjoint of a list as an array,
:func:`pieces_array` (``np.stack`` of its pieces, or a 1-d object array of ragged ones), and
:func:`writable`, a returned gradient the caller may change; :func:`cov_axis`, where
``np.cov`` finds the observations; :func:`first_extreme`, which element ``max(t)`` returns.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are. They
import nothing of the package.
"""

import numpy as np


def is_number(x):
    """Is ``x`` a Python or NumPy number (not an array of any type)?"""
    return isinstance(x, (float, int, np.generic))


def adjoint_dtype(x, *more):
    """The dtype of an adjoint of ``x`` (receiving ``more``): at least floating point."""
    if isinstance(x, (tuple, list)):  # a list of numbers, or of arrays (of any array type)
        return np.result_type(*(adjoint_dtype(e) for e in x), *more, 1.0)
    return np.result_type(x, *more, 1.0)


def fits_shape(g_shape, shape):
    """True if an adjoint of ``g_shape`` is one for a value of ``shape`` (equal, or a
    broadcast of it: a number for an array)."""
    if g_shape == shape:
        return True
    try:
        return np.broadcast_shapes(g_shape, shape) == shape
    except ValueError:
        return False


def element_count(x):
    """``np.size(x)``, read from the shape: Dask does not implement ``np.size``, and its
    fallback would compute the whole array to count it."""
    if type(x) is np.ndarray:
        return x.size
    n = 1
    for d in np.shape(x):
        n *= d
    return n


def writable(g):
    """A returned gradient the caller may change: a copy if ``g`` is a read-only view."""
    if type(g) is np.ndarray and not g.flags.writeable:
        return g.copy()
    return g


def saved(v):
    """What a write ``y[index] = ...`` is about to overwrite, kept for the backward sweep:
    ``v.copy()``; a Python number (in a list's slot) is immutable, and kept as it is."""
    return v.copy() if hasattr(v, "copy") else v


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


def pieces_array(pieces):
    """The adjoint of a list: an array, not a list, so that two adjoints of the same list add
    up piece by piece (``np.stack`` of the pieces, or a 1-d object array of ragged ones)."""
    if len({np.shape(p) for p in pieces}) <= 1:
        return np.stack(pieces)
    ragged = np.empty(len(pieces), dtype=object)
    for i, p in enumerate(pieces):
        ragged[i] = p
    return ragged


def cov_axis(m, rowvar=True):
    """The axis of ``np.atleast_2d(m)`` that holds the observations in
    ``np.cov(m, rowvar=rowvar)``, by NumPy's rule: 1 (a variable per row) unless ``rowvar`` is
    false and ``m`` is not 1-d."""
    return 0 if not rowvar and np.ndim(m) != 1 else 1


def first_extreme(t, largest=True):
    """The index of ``max(t)`` (``min(t)``) as Python picks it, the first extreme element, for
    a tuple or list (of numbers or 0-d arrays of any type) or an array's rows (compared as
    Python compares them: one by one, for an array of two or more dimensions)."""
    if not isinstance(t, (tuple, list)) and np.ndim(t) < 2:
        return int(np.argmax(t) if largest else np.argmin(t))
    best = 0
    for k in range(1, len(t)):
        if (t[k] > t[best]) if largest else (t[k] < t[best]):
            best = k
    return best
