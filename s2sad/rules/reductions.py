"""Rules for reductions (``np.sum``, ``np.mean``, ``np.prod``, ``np.max``, ...).

``unreduce(g, a, axis, keepdims)`` spreads the adjoint of a reduced value back
over the reduced axes; the optional arguments are written only when the call
had them, so ``np.sum(x)`` gets the plain ``unreduce(g, x)``. Tangents are
reduced like the values (``np.sum(a_dot, axis=axis)``).
"""

from .core import define


def axis_args(b):
    """``, axis`` / ``, axis, keepdims`` as the call needs them, or nothing."""
    keepdims = not b.is_none("keepdims") and b.const("keepdims", True) is not False
    if b.is_none("axis") and not keepdims:
        return ""
    return ", axis, keepdims" if keepdims else ", axis"


def axis_keywords(b):
    """``, axis=axis`` / ``, axis=axis, keepdims=keepdims``: a reduction's own arguments."""
    return {"": "", ", axis": ", axis=axis",
            ", axis, keepdims": ", axis=axis, keepdims=keepdims"}[axis_args(b)]


def _prod_dot(b):
    if axis_args(b):
        return f"np.sum(a_dot * unreduce(ans, a{axis_args(b)}) / a{axis_keywords(b)})"
    return "np.sum(a_dot * ans / a)"


def _extremum_dot(b):  # the mean of the tangent over the ties
    share = f"extremum_bar(np.ones_like(ans), a, ans{axis_args(b)})"
    return f"np.sum(a_dot * {share}{axis_keywords(b)})"


def _mean(b):
    if axis_args(b):
        return f"unreduce(g, a{axis_args(b)}) * (np.size(ans) / np.size(a))"
    return "unreduce(g, a) / np.size(a)"


R = dict(reduction=True)
define("np.sum", "a, axis=None, dtype=None, out=None, keepdims=False", **R,
       a=lambda b: f"unreduce(g, a{axis_args(b)})",
       jvp={"a": lambda b: f"np.sum(a_dot{axis_keywords(b)})"})
define("np.mean", "a, axis=None, dtype=None, out=None, keepdims=False", **R, a=_mean,
       jvp={"a": lambda b: f"np.mean(a_dot{axis_keywords(b)})"})
define("np.prod", "a, axis=None, dtype=None, out=None, keepdims=False", **R,
       a=lambda b: f"unreduce(g * ans, a{axis_args(b)}) / a", jvp={"a": _prod_dot})
define("np.max", "a, axis=None, out=None, keepdims=False", aliases=("np.amax",), **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})", jvp={"a": _extremum_dot})
define("np.min", "a, axis=None, out=None, keepdims=False", aliases=("np.amin",), **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})", jvp={"a": _extremum_dot})
