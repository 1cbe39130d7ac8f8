"""Rules for reductions (``np.sum``, ``np.mean``, ``np.prod``, ``np.max``, ...).

``unreduce(g, a, axis, keepdims)`` spreads the adjoint of a reduced value back
over the reduced axes; the optional arguments are written only when the call
had them, so ``np.sum(x)`` gets the plain ``unreduce(g, x)``.
"""

from .core import define


def axis_args(b):
    """``, axis`` / ``, axis, keepdims`` as the call needs them, or nothing."""
    keepdims = not b.is_none("keepdims") and b.const("keepdims", True) is not False
    if b.is_none("axis") and not keepdims:
        return ""
    return ", axis, keepdims" if keepdims else ", axis"


def _mean(b):
    if axis_args(b):
        return f"unreduce(g, a{axis_args(b)}) * (np.size(ans) / np.size(a))"
    return "unreduce(g, a) / np.size(a)"


R = dict(reduction=True)
define("np.sum", "a, axis=None, dtype=None, out=None, keepdims=False", **R,
       a=lambda b: f"unreduce(g, a{axis_args(b)})")
define("np.mean", "a, axis=None, dtype=None, out=None, keepdims=False", **R, a=_mean)
define("np.prod", "a, axis=None, dtype=None, out=None, keepdims=False", **R,
       a=lambda b: f"unreduce(g * ans, a{axis_args(b)}) / a")
define("np.max", "a, axis=None, out=None, keepdims=False", aliases=("np.amax",), **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})")
define("np.min", "a, axis=None, out=None, keepdims=False", aliases=("np.amin",), **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})")
