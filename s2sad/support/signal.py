"""Helpers of the signal and calculus rules (:mod:`s2sad.rules.signal`): the zeros
``np.convolve`` cuts off (:func:`convolve_pads`), the slope of ``np.interp`` and its adjoint
in ``fp``, the weights of
``np.trapezoid`` and the adjoint of ``np.gradient``.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .checks import CheckFailed


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


def interp_bar_fp(t, x, xp, fp, left=None, right=None):
    """The adjoint in ``fp`` of ``np.interp(x, xp, fp, left, right)``, given the adjoint ``t``
    of its result: each value of ``fp`` gets ``t`` times its weight in the interpolation,
    ``1 - s`` at the knot left of ``x`` and ``s`` at the one right of it (``s`` the fraction
    of the segment); ``fp[0]`` all of it left of ``xp[0]`` unless ``left`` is given, and
    ``fp[-1]`` right of ``xp[-1]`` unless ``right`` is."""
    t = np.ravel(np.broadcast_to(t, np.shape(x)))  # (never np.asarray: x may be a duck array)
    x = np.ravel(x)
    n = np.shape(fp)[0]
    below, above = x < xp[0], x > xp[-1]
    if n == 1:
        j, s = np.zeros(np.shape(x), dtype=np.intp), np.zeros_like(x)
    else:
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
        knots = np.zeros_like(x, shape=np.shape(xp)) + xp  # an array of x's type
        s = np.where(below, 0.0,
                     np.where(above, 1.0, (x - knots[j]) / (knots[j + 1] - knots[j])))
    if left is not None:
        t = np.where(below, 0.0, t)
    if right is not None:
        t = np.where(above, 0.0, t)
    fp_bar = np.bincount(j, weights=t * (1.0 - s), minlength=n)
    if n > 1:
        fp_bar += np.bincount(j + 1, weights=t * s, minlength=n)
    return fp_bar


def interp_slope_bar_fp(t, x, xp, fp):
    """The adjoint in ``fp`` of :func:`interp_slope` (linear in ``fp``), given the adjoint
    ``t`` of the slopes: ``t / (xp[j + 1] - xp[j])`` to the knot right of ``x``, its negative
    to the one left of it, nothing outside ``[xp[0], xp[-1]]``."""
    t = np.ravel(np.broadcast_to(t, np.shape(x)))
    x = np.ravel(x)
    n = np.shape(fp)[0]
    if n == 1:
        return np.zeros_like(t, shape=(1,))
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
    knots = np.zeros_like(x, shape=np.shape(xp)) + xp  # an array of x's type
    w = np.where(np.logical_or(x < xp[0], x > xp[-1]), 0.0, t / (knots[j + 1] - knots[j]))
    return np.bincount(j + 1, weights=w, minlength=n) - np.bincount(j, weights=w, minlength=n)


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
