"""Reverse mode's lists used as stacks (:mod:`s2sad.structural`): a list ``t`` has a list of
adjoints ``t_bar`` holding those of its top elements. :func:`pop_bar` takes the adjoint of a
pushed element off it, :func:`add_contents_bar` adds the adjoints of a snapshot
``tuple(t)`` to it (:func:`add_contents_bar_bar`: its own adjoint, reverse over reverse),
and :func:`add_contents_dots`, :func:`add_dots` are vector mode's versions (a batch of
directions first, never added along the directions). Each adds with
:func:`~s2sad.support.containers.add_bars`. :func:`sum_bar` gives the elements of the list
(tuple, array) Python's ``sum`` added their adjoints, one per element.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .arrays import adjoint_dtype
from .containers import add_bars, tuple_bar, zeros_bar
from .broadcasting import unbroadcast, unreduce


def pop_bar(t_bar, like):
    """The adjoint of the element ``like`` that ``t.append(like)`` pushed, taken off ``t_bar``.

    In reverse mode a list ``t`` used as a stack has a list of adjoints ``t_bar``
    holding those of its top ``len(t_bar)`` elements; an element below them (never
    popped, nor read by a snapshot) has adjoint zero: zeros like it, ``None`` where
    ``like`` is ``None`` (a position nothing reads; so is a ``None`` in an adjoint).
    """
    if t_bar:
        return structured_like(t_bar.pop(), like)
    if isinstance(like, tuple):
        return tuple(None if x is None else zeros_bar(x) for x in like)
    return None if like is None else zeros_bar(like)


def structured_like(element_bar, like):
    """An element's adjoint with ``like``'s structure: np.stack's adjoint gives a pushed tuple
    one array, its parts along the first axis (or the second, after vector mode's directions:
    one more axis than the part and the parts' axis)."""
    if not isinstance(like, tuple) or element_bar is None or isinstance(element_bar, (tuple, list)):
        return element_bar
    part = next((x for x in like if x is not None), None)
    axis = np.ndim(element_bar) - 1 - np.ndim(part)
    if axis not in (0, 1) or np.shape(element_bar)[axis] != len(like):
        raise ValueError(f"internal: an adjoint of shape {np.shape(element_bar)} for a pushed "
                         f"tuple of {len(like)} values")
    return tuple(element_bar[k] if axis == 0 else element_bar[:, k] for k in range(len(like)))


def add_contents_bar(t_bar, contents_bar, batch=False):
    """Add the adjoints of ``tuple(t)``, all of ``t``'s elements, to ``t_bar`` (see pop_bar);
    ``batch``: vector mode's, see :func:`add_contents_dots`."""
    t_bar[:0] = [None] * (len(contents_bar) - len(t_bar))
    for k, element_bar in enumerate(contents_bar):
        t_bar[k] = add_bars(t_bar[k], element_bar, batch)


def add_contents_bar_bar(t_bar_bar, contents_bar, kept):
    """Reverse over reverse: the adjoint of ``contents_bar`` in ``add_contents_bar(t_bar,
    contents_bar)``, which ``t_bar`` held ``kept`` elements before.

    ``t_bar_bar`` holds the adjoints of ``t_bar``'s top elements after the call (zero below
    them, see :func:`pop_bar`); element ``k`` of ``contents_bar`` was added into ``t_bar[k]``,
    so it gets that element's. The elements ``t_bar`` held before keep theirs (an addition
    passes its adjoint to both terms); those the call put below them are taken off
    ``t_bar_bar``. ``contents_bar`` may be one array of the elements' adjoints (np.stack's
    adjoint): its adjoint is an array then, its rows the elements'."""
    n, m = len(contents_bar), len(t_bar_bar)
    if m > n:
        raise ValueError(f"internal: adjoints of {m} elements of a list of adjoints of {n}")
    parts = [None] * (n - m) + list(t_bar_bar)
    del t_bar_bar[:max(0, m - kept)]
    if isinstance(contents_bar, (tuple, list)):
        return tuple_bar(zeros_bar(c) if p is None else p for p, c in zip(parts, contents_bar))
    out = np.zeros(np.shape(contents_bar), adjoint_dtype(contents_bar))
    for k, p in enumerate(parts):
        if isinstance(p, (tuple, list)):  # a pushed tuple's parts (structured_like's split)
            for j, q in enumerate(p):
                if q is not None:
                    out[k, j] = q
        elif p is not None:
            out[k] = p
    return out


def add_contents_dots(t_dot, contents_dot):
    """Vector mode's :func:`add_contents_bar`: ``contents_dot`` is a batch (the directions
    first) of the tangents of the contents, a tuple of batches or one array of them."""
    if not isinstance(contents_dot, (tuple, list)):
        contents_dot = [contents_dot[:, k] for k in range(np.shape(contents_dot)[1])]
    add_contents_bar(t_dot, contents_dot, True)


def add_dots(a, b):
    """Vector mode's ``a_dot + b_dot`` where a tuple of batches (the tangent of a tuple of
    adjoints) meets one array batch (np.stack's adjoint's, directions first): added element
    by element along the array's second axis, never along its directions (:func:`add_bars`)."""
    return add_bars(a, b, True)


def sum_bar(g, iterable):
    """The adjoint of ``iterable`` in Python's ``sum(iterable, start)``, ``start + e0 + e1 +
    ...``: each element gets ``g`` summed over the axes broadcasting gave it. A tuple or
    list's elements may differ in shape (``sum([0.5, x])``): one adjoint each (a tuple_bar,
    never one array of them); an array's rows share one shape (``start`` may be larger)."""
    if isinstance(iterable, (tuple, list)):
        return tuple_bar(unbroadcast(g, e) for e in iterable)
    if len(iterable):  # (start may have broadcast each row to its own larger shape)
        g = unbroadcast(g, iterable[0])
    return unreduce(g, iterable, 0)
