"""Rules for reductions (``np.sum``, ``np.mean``, ``np.prod``, ``np.max``, ``np.var``, ...),
scans (``np.cumsum``, ``np.cumprod``) and differences (``np.diff``).

``unreduce(g, a, axis, keepdims)`` spreads the adjoint of a reduced value back
over the reduced axes; the optional arguments are written only when the call
had them, so ``np.sum(x)`` gets the plain ``unreduce(g, x)``. Tangents are
reduced like the values (``np.sum(a_dot, axis=axis)``).

NumPy's keywords: ``where=`` (``sum``, ``mean``, ``max``, ``min``) is a boolean mask, so the
entries it leaves out get no adjoint (``masked``); ``initial=`` is one more term of a sum, and
one more contestant of a ``max``/``min`` (it gets its share at a tie,
:func:`s2sad.support.extremum_share`); ``correction=`` is NumPy 2's spelling of ``ddof``.
Other keywords (``where=`` of ``var``, ``mean=``, those of ``prod`` and the ``nan``-functions)
are refused where the call is read.

Conventions where the derivative is not classical: ties of ``max``/``min``
(and ``ptp``, ``nanmax``) share the adjoint equally; ``std`` is NaN where it is 0;
the ``nan``-functions give NaN entries no adjoint.

``prod`` and ``cumprod`` (and the ufunc methods that reuse their rules) have run-time helpers
(:func:`s2sad.support.prod_bar`, ``prod_dot``, ``cumprod_bar``, ``cumprod_dot``): the division
by the operand where it has no zero, and exact products of the other entries where it has, so
first and second derivatives are exact at zeros (the third are NaN there: the rules of the
helpers of the second divide by the operand).
"""

import numpy as np

from .core import ZERO, RuleNotApplicable, define


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


def guarded(check, rule):
    """``rule``, applied once ``check`` (which raises RuleNotApplicable) has accepted the call."""
    def checked(b):
        check(b)
        return rule(b) if callable(rule) else rule
    return checked


def where_keyword(b):
    """``, where=where`` when the call gives ``where=`` a mask (or a variable), else nothing."""
    return ", where=where" if "where" in b and b.const("where", b) is not True else ""


def _sum(b):  # the entries where= leaves out get no adjoint
    spread = f"unreduce(g, a{axis_args(b)})"
    return f"masked({spread}, where)" if where_keyword(b) else spread


def _chosen(b):
    """True if a max/min call gives ``initial=`` or ``where=``: the ties are then those of
    :func:`s2sad.support.extremum_share`, which counts ``initial`` among them."""
    return not b.is_none("initial") or bool(where_keyword(b))


def _share(b):
    return f"extremum_share(a, ans, initial, where{axis_args(b)})"


def _extremum(b):
    if _chosen(b):
        return f"unreduce(g, a{axis_args(b)}) * {_share(b)}"
    return f"extremum_bar(g, a, ans{axis_args(b)})"


def _extremum_dot(b):  # the mean of the tangent over the ties
    share = _share(b) if _chosen(b) else f"extremum_bar(np.ones_like(ans), a, ans{axis_args(b)})"
    return f"np.sum(a_dot * {share}{axis_keywords(b)})"


def _initial_share(b):  # initial's share of each result: what the entries leave of 1
    return f"(1 - np.sum({_share(b)}{axis_keywords(b)}))"


def _mean(b):  # g is divided before it is spread: one division per result, not per element
    if where_keyword(b):  # each result's count: the entries where= takes
        count = f"np.sum(np.ones_like(a){axis_keywords(b)}, where=where)"
        return f"masked(unreduce(g / {count}, a{axis_args(b)}), where)"
    if axis_args(b):
        return f"unreduce(g * (element_count(ans) / element_count(a)), a{axis_args(b)})"
    return "unreduce(g / element_count(a), a)"


R = dict(reduction=True)
# the forward sweep keeps the mask of the ties (s2sad.reverse.forward_masks): the same shares
# (with initial= or where= given, the plain VJP: extremum_share)
TIES = {"a": (lambda b: None if _chosen(b) else "a == ans",
              lambda b: f"tie_share(g, mask{axis_args(b)})")}
# initial= adds a number to each sum; where= leaves entries out
define("np.sum", "a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True",
       methods=("sum",), linear="a", **R, batch="reduce", a=_sum,
       initial="unbroadcast(g, initial)", where=ZERO,
       jvp={"a": lambda b: f"np.sum(a_dot{axis_keywords(b)}{where_keyword(b)})",
            "initial": "initial_dot + np.zeros_like(ans)"})
# Python's sum(a[, start]) of an array adds its rows in order: start + a[0] + a[1] + ...
# (a list's elements alike, read when called, broadcasting against each other and start);
# the primal stays Python's own sum, so the value is f's to the last bit. Each tangent is
# made in the result's shape (a part may have fewer axes: vector mode's batch of them would
# not line up with the other part's)
define("sum", "iterable, start=0",
       iterable="sum_bar(g, iterable)", start="unbroadcast(g, start)",
       jvp={"iterable": "sum(iterable_dot, np.zeros_like(ans))",
            "start": "start_dot + np.zeros_like(ans)"})
define("np.mean", "a, axis=None, dtype=None, out=None, keepdims=False, where=True",
       methods=("mean",), linear="a", **R, batch="reduce", a=_mean, where=ZERO,
       jvp={"a": lambda b: f"np.mean(a_dot{axis_keywords(b)}{where_keyword(b)})"})
# the products of each entry's other entries: ans / a, or, where a has zeros, without a division
define("np.prod", "a, axis=None, dtype=None, out=None, keepdims=False", methods=("prod",), **R,
       a=lambda b: f"prod_bar(g, a, ans{axis_args(b)})",
       jvp={"a": lambda b: f"prod_dot(a_dot, a, ans{axis_args(b)})"})
# initial= is one more contestant (its share: _initial_share); where= leaves entries out
M = "a, axis=None, out=None, keepdims=False, initial=None, where=True"
EXTREMUM = dict(a=_extremum, initial=lambda b: f"unbroadcast(g * {_initial_share(b)}, initial)",
                where=ZERO, jvp={"a": _extremum_dot,
                                 "initial": lambda b: f"initial_dot * {_initial_share(b)}"},
                masks=TIES)
define("np.max", M, methods=("max",), aliases=("np.amax",), **R, **EXTREMUM)
define("np.min", M, methods=("min",), aliases=("np.amin",), **R, **EXTREMUM)
define("np.amax", M, **R, **EXTREMUM)
define("np.amin", M, **R, **EXTREMUM)
# NaN entries are left out: the mask a == ans never holds at a NaN
define("np.nanmax", "a, axis=None, out=None, keepdims=False", **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})", jvp={"a": _extremum_dot},
       masks=TIES)
define("np.nanmin", "a, axis=None, out=None, keepdims=False", **R,
       a=lambda b: f"extremum_bar(g, a, ans{axis_args(b)})", jvp={"a": _extremum_dot},
       masks=TIES)


def _ptp(b):  # max - min: each extremum's share, with the tie rule of np.max
    top, bottom = (f"extremum_bar({{}}, a, np.{m}(a{axis_keywords(b)}){axis_args(b)})"
                   for m in ("max", "min"))
    return top.format("g") + " - " + bottom.format("g")


def _ptp_dot(b):
    top, bottom = (f"extremum_bar(np.ones_like(ans), a, np.{m}(a{axis_keywords(b)}){axis_args(b)})"
                   for m in ("max", "min"))
    return f"np.sum(a_dot * ({top} - {bottom}){axis_keywords(b)})"


define("np.ptp", "a, axis=None, out=None, keepdims=False", **R, a=_ptp, jvp={"a": _ptp_dot})


def _quantile(q):
    """The rule of a quantile of ``a`` at ``q`` (an expression of the call's operands): each
    entry's share is its weight in the interpolation (support.quantile_bar)."""
    def check(b):
        if not b.is_none("axis") and not isinstance(b.const("axis", 0), int):
            raise RuleNotApplicable("a quantile has a derivative rule for one axis or all only "
                                    "(not a tuple of axes)")
        if "method" in b and b.const("method", "linear") != "linear":
            raise RuleNotApplicable("a quantile has a derivative rule for method='linear' only")
        if "q" in b and np.ndim(b.const("q", 0.5)) != 0:
            raise RuleNotApplicable("a quantile has a derivative rule for one q at a time")

    def vjp(b):
        check(b)
        return f"quantile_bar(g, a, {q}{axis_args(b)})"

    def jvp(b):
        check(b)
        weights = f"quantile_bar(np.ones_like(ans), a, {q}{axis_args(b)})"
        return f"np.sum(a_dot * {weights}{axis_keywords(b)})"
    return vjp, jvp


_median, _median_dot = _quantile("0.5")
_quantile_a, _quantile_dot = _quantile("q")
_percentile_a, _percentile_dot = _quantile("q / 100")
define("np.median", "a, axis=None, out=None, overwrite_input=False, keepdims=False", **R,
       a=_median, jvp={"a": _median_dot})
define("np.quantile", "a, q, axis=None, out=None, overwrite_input=False, method='linear', "
       "keepdims=False", a=_quantile_a, jvp={"a": _quantile_dot})
define("np.percentile", "a, q, axis=None, out=None, overwrite_input=False, method='linear', "
       "keepdims=False", a=_percentile_a, jvp={"a": _percentile_dot})


def _nanmean(b):
    count = f"np.sum(~np.isnan(a){axis_keywords(b)})"
    return f"np.where(np.isnan(a), 0.0, unreduce(g / {count}, a{axis_args(b)}))"


def _nanmean_dot(b):
    kw = axis_keywords(b)
    return f"np.sum(np.where(np.isnan(a), 0.0, a_dot){kw}) / np.sum(~np.isnan(a){kw})"


define("np.nansum", "a, axis=None, dtype=None, out=None, keepdims=False", **R,
       a=lambda b: f"np.where(np.isnan(a), 0.0, unreduce(g, a{axis_args(b)}))",
       jvp={"a": lambda b: f"np.sum(np.where(np.isnan(a), 0.0, a_dot){axis_keywords(b)})"})
define("np.nanmean", "a, axis=None, dtype=None, out=None, keepdims=False", **R, a=_nanmean,
       jvp={"a": _nanmean_dot})


# --- variance and standard deviation: d var = 2 (a - mean) da / (N - ddof) ------------------
# (the factors of the reduced shape multiply g before unreduce spreads it: fewer full passes)
def _centred(b):
    return "(a - np.mean(a))" if b.is_none("axis") else "(a - np.mean(a, axis=axis, keepdims=True))"


def _ddof(b):
    """The name of the call's ddof: ``correction``, NumPy 2's spelling, when given."""
    return "ddof" if b.is_none("correction") else "correction"


def _dof(b):
    """N - ddof, N the number of values reduced into each result."""
    n = "element_count(a)" if b.is_none("axis") else "element_count(a) / element_count(ans)"
    if b.const(_ddof(b)) == 0:
        return n if b.is_none("axis") else f"({n})"
    return f"({n} - {_ddof(b)})"


V = "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None"
define("np.var", V, methods=("var",), **R,
       a=lambda b: f"unreduce(g * 2 / {_dof(b)}, a{axis_args(b)}) * {_centred(b)}",
       jvp={"a": lambda b: f"np.sum(a_dot * {_centred(b)}{axis_keywords(b)}) * 2 / {_dof(b)}"})
# a std or a 2-norm, with 1 where it is 0: there every value it is divided into is 0 too,
# so the slope is 0 (a subgradient), not 0 / 0
NONZERO = "np.where(ans == 0, 1.0, ans)"
# d std = d var / (2 std); where std is 0 (equal values) the slope is 0, a subgradient (JAX
# gives NaN, which a later mask cannot undo: NaN * 0 is NaN), and exact where std is 0 on a
# neighbourhood (one value, or values a clamp made equal)
define("np.std", V, methods=("std",), **R,
       a=lambda b: f"unreduce(g / {NONZERO} / {_dof(b)}, a{axis_args(b)}) * {_centred(b)}",
       jvp={"a": lambda b: f"np.sum(a_dot * {_centred(b)}{axis_keywords(b)}) / {_dof(b)} / "
                           f"{NONZERO}"})


def _nan_centred(b):  # NaN entries count as the mean: they add nothing
    mean = "np.nanmean(a, keepdims=True)" if b.is_none("axis") else \
        "np.nanmean(a, axis=axis, keepdims=True)"
    return f"np.where(np.isnan(a), 0.0, a - {mean})"


def _nan_dof(b):
    count = f"np.sum(~np.isnan(a){axis_keywords(b)})"
    return f"({count} - {_ddof(b)})" if b.const(_ddof(b)) != 0 else count


define("np.nanvar", V, **R,
       a=lambda b: f"unreduce(g * 2 / {_nan_dof(b)}, a{axis_args(b)}) * {_nan_centred(b)}",
       jvp={"a": lambda b: f"np.sum(a_dot * {_nan_centred(b)}{axis_keywords(b)}) * 2 / "
                           f"{_nan_dof(b)}"})
define("np.nanstd", V, **R,
       a=lambda b: f"unreduce(g / {NONZERO} / {_nan_dof(b)}, a{axis_args(b)}) * "
                   f"{_nan_centred(b)}",
       jvp={"a": lambda b: f"np.sum(a_dot * {_nan_centred(b)}{axis_keywords(b)}) / "
                           f"{_nan_dof(b)} / {NONZERO}"})


def _average(param):
    def rule(b):
        if b.const("returned") is not False:
            raise RuleNotApplicable("np.average has a derivative rule for returned=False only")
        if b.is_none("weights"):
            return _mean(b) if param == "a" else None
        if not b.is_none("axis"):
            return _average_along(b, param)
        return {"a": "g * weights / np.sum(weights)",
                "weights": "g * (a - ans) / np.sum(weights)"}[param]
    return rule


_W = "weights_along(weights, a, axis)"
_SUM_W = f"np.sum({_W} * np.ones_like(a), axis=axis, keepdims=True)"  # each average's sum


def _average_along(b, param, tangent=False):
    """np.average(a, axis, weights) = np.sum(a * w, axis) / np.sum(w, axis), ``w`` the weights
    spread along ``axis`` (weights_along): a's adjoint ``g`` spread times w over the sum, the
    weights' ``g`` spread times (a - ans) over the sum, summed back to the weights' shape."""
    if isinstance(b.const("axis"), tuple):
        raise RuleNotApplicable("np.average with weights has a derivative rule for axis=None or "
                                "an int axis")
    spread = f"unreduce({{}}, a{axis_args(b)})"
    if tangent:
        factor = f"a_dot * {_W}" if param == "a" else \
            f"weights_along(weights_dot, a, axis) * (a - {spread.format('ans')})"
        return f"np.sum({factor} / {_SUM_W}{axis_keywords(b)})"
    if param == "a":
        return f"{spread.format('g')} * {_W} / {_SUM_W}"
    return (f"np.reshape(unbroadcast({spread.format('g')} * (a - {spread.format('ans')}) / "
            f"{_SUM_W}, {_W}), np.shape(weights))")


def _average_dot(param):
    def rule(b):
        _average(param)(b)  # the same conditions
        if b.is_none("weights"):
            return f"np.mean(a_dot{axis_keywords(b)})"
        if not b.is_none("axis"):
            return _average_along(b, param, tangent=True)
        return {"a": f"np.sum(a_dot * weights{axis_keywords(b)}) / np.sum(weights)",
                "weights": f"np.sum(weights_dot * (a - ans){axis_keywords(b)}) / np.sum(weights)"
                }[param]
    return rule


define("np.average", "a, axis=None, weights=None, returned=False, keepdims=False", **R,
       a=_average("a"), weights=_average("weights"),
       jvp={"a": _average_dot("a"), "weights": _average_dot("weights")})


# --- cumulative sums and products, differences --------------------------------------------
def _reverse_cumsum(b, g, a="a"):
    """The adjoint of a cumulative sum of ``a``: the sum of ``g`` from each place to the end."""
    if b.is_none("axis"):  # np.cumsum flattens; np.cumulative_sum needs a 1-d operand
        return f"np.reshape(np.flip(np.cumsum(np.flip({g}))), np.shape({a}))"
    return f"np.flip(np.cumsum(np.flip({g}, axis), axis), axis)"


def _axis(b):
    return "" if b.is_none("axis") else ", axis"


C = "a, axis=None, dtype=None, out=None"
define("np.cumsum", C,
       array_result=True, methods=("cumsum",), linear="a", a=lambda b: _reverse_cumsum(b, "g"),
       jvp={"a": lambda b: f"np.cumsum(a_dot{_axis(b)})"})
# as np.prod's: a division by a where it has no zero, else exact products (support.cumprod_bar)
define("np.cumprod", C, array_result=True, methods=("cumprod",),
       a=lambda b: f"cumprod_bar(g, a, ans{_axis(b)})",
       jvp={"a": lambda b: f"cumprod_dot(a_dot, a, ans{_axis(b)})"})


define("np.nancumsum", C,
       a=lambda b: f"np.where(np.isnan(a), 0.0, {_reverse_cumsum(b, 'g')})",
       jvp={"a": lambda b: f"np.cumsum(np.where(np.isnan(a), 0.0, a_dot){_axis(b)})"})


def _no_initial(b):
    """``, axis=axis`` for np.cumulative_sum/prod, whose result then matches np.cumsum/prod."""
    if b.const("include_initial") is not False:
        raise RuleNotApplicable("np.cumulative_sum/prod have derivative rules for "
                                "include_initial=False only")
    return "" if b.is_none("axis") else ", axis=axis"


if hasattr(np, "cumulative_sum"):  # NumPy 2.1
    C = "x, axis=None, dtype=None, out=None, include_initial=False"
    define("np.cumulative_sum", C, x=guarded(_no_initial, lambda b: _reverse_cumsum(b, "g", "x")),
           jvp={"x": lambda b: f"np.cumulative_sum(x_dot{_no_initial(b)})"})
    define("np.cumulative_prod", C,
           x=guarded(_no_initial, lambda b: f"cumprod_bar(g, x, ans{_axis(b)})"),
           jvp={"x": guarded(_no_initial, lambda b: f"cumprod_dot(x_dot, x, ans{_axis(b)})")})


def _diff(b):
    """The adjoint of n differences is n differences of the zero-padded adjoint, negated.

    The last one pads only the ends that had no ``prepend``/``append`` value: those
    values are constants and their places are cut off the adjoint.
    """
    n = b.const("n")
    if not isinstance(n, int) or n < 0:
        raise RuleNotApplicable("np.diff has a derivative rule for a constant n >= 0 only")
    for end in ("prepend", "append"):
        if not (b.is_none(end) or np.ndim(b.const(end, np.zeros(2))) == 0):
            raise RuleNotApplicable(f"np.diff has a derivative rule for a constant number as "
                                    f"{end} only; use np.concatenate for arrays")
    if n == 0:
        return "g"
    axis = "" if b.const("axis") == -1 else ", axis=axis"
    inner = "g"
    for _ in range(n - 1):
        inner = f"np.diff({inner}{axis}, prepend=0.0, append=0.0)"
    pads = "".join(f", {end}=0.0" for end in ("prepend", "append") if b.is_none(end))
    return ("-" if n % 2 else "") + f"np.diff({inner}{axis}{pads})"


def _diff_dot(b):
    _diff(b)
    n = "" if b.const("n") == 1 else ", n"
    axis = "" if b.const("axis") == -1 else ", axis=axis"
    pads = "".join(f", {end}=0.0" for end in ("prepend", "append") if not b.is_none(end))
    return f"np.diff(a_dot{n}{axis}{pads})"


# np.diff(a, 0) is a itself (an n not known may be 0)
define("np.diff", "a, n=1, axis=-1, prepend=None, append=None", a=_diff, jvp={"a": _diff_dot},
       view=lambda b: b.const("n", 0) == 0)


def _ediff1d(b):
    if not (b.is_none("to_end") and b.is_none("to_begin")):
        raise RuleNotApplicable("np.ediff1d has a derivative rule without to_end/to_begin only; "
                                "use np.diff with prepend/append")
    return "np.reshape(-np.diff(g, prepend=0.0, append=0.0), np.shape(ary))"


define("np.ediff1d", "ary, to_end=None, to_begin=None", ary=_ediff1d,
       jvp={"ary": guarded(_ediff1d, "np.ediff1d(ary_dot)")})
