"""Rules for the run-time helpers generated code calls (:mod:`s2sad.support`).

Derivative code is itself differentiable: ``grad(grad(f))`` lowers the
generated ``grad_f``, whose adjoint statements call ``unbroadcast``,
``unreduce``, ``matmul_bar_a`` and the rest. Each helper is linear in the
adjoint ``t`` it receives (the other operands pick axes or, like ``a`` in
``matmul_bar_a``, give only a shape), so its tangent is the helper applied to
the tangent, and its adjoint is the transposed operation: ``unbroadcast``
and ``np.sum`` undo each other's broadcasting, ``matmul_bar_a(t, a, b)`` is
``t @ b.T`` so ``t`` gets ``g @ b`` back. Parameters are renamed here (``t``,
``m``) because ``g`` and ``ans`` mean the adjoint and the result in a template.

A generated module carries copies of the helpers (or of their plain versions,
:mod:`s2sad.support_plain`), so :func:`helper_copy` recognises a copy by its name
and source text and maps it to the primitive.
"""

import inspect

from .. import support
from ..helper_sources import HELPER_SOURCE, PLAIN_SOURCE
from .core import ZERO, Primitive, _methods, _signature, split_fields
from .reductions import _reverse_cumsum, axis_args, axis_keywords


HELPER_RULES = {}  # support function -> Primitive; not user-facing, so not in the REGISTRY


def helper(fn, signature, *, jvp=None, **fields):
    """Register the helper ``fn`` of :mod:`s2sad.support`, generated code calls it by name:
    its stanza, as :func:`~s2sad.rules.core.define`'s."""
    params, defaults = _signature(signature)
    vjp, fields = split_fields(fields)
    prim = Primitive(fn.__name__, params, defaults, ("user", fn.__name__), vjp=vjp, jvp=jvp,
                     **fields)
    HELPER_RULES[fn] = prim
    return prim


def _extremum_t(b):
    mask = f"extremum_bar(np.ones_like(m), a, m{axis_args(b)})"
    return f"np.sum(g * {mask}{axis_keywords(b)})"


helper(support.unbroadcast, "t, x", linear="t", view=True, t="g + np.zeros_like(t)", x=ZERO)
helper(support.unreduce, "t, x, axis=None, keepdims=False", linear="t",
       jvp={"t": lambda b: f"unreduce(t_dot, x{axis_args(b)})"},
       t=lambda b: f"np.sum(g{axis_keywords(b)})", x=ZERO, axis=ZERO, keepdims=ZERO)
# the backward sweep's copy of an adjoint it updates in place (a batch of tangents alike)
helper(support.copy_bar, "t", linear="t", batch_safe=True, jvp={"t": "copy_bar(t_dot)"}, t="g")
# Python's sum: each element of the iterable gets t (unbroadcast); the transpose adds them up
helper(support.sum_bar, "t, iterable", linear="t", jvp={"t": "sum_bar(t_dot, iterable)"},
       t="sum(g) + np.zeros_like(t)", iterable=ZERO)
# (t may be broadcast over the index: np.add.at(y, [0, 0], v) of a number v)
helper(support.unindex, "t, x, index",
       dict_operand="key", linear="t", t="unbroadcast(g[index], t)", x=ZERO, index=ZERO)
helper(support.masked, "t, condition, keep=True", linear="t",
       jvp={"t": "masked(t_dot, condition, keep)"}, t="masked(g, condition, keep)",
       condition=ZERO, keep=ZERO)
# masked_rest(t, kept, condition) is masked(t, condition, False) whenever kept is masked(t,
# condition), as generated code makes it: kept's derivative is in t's
helper(support.masked_rest, "t, kept, condition",
       jvp={"t": "masked(t_dot, condition, False)"}, t="masked(g, condition, False)",
       kept=ZERO, condition=ZERO)
helper(support.extremum_bar, "t, a, m, axis=None, keepdims=False", linear="t",
       jvp={"t": lambda b: f"extremum_bar(t_dot, a, m{axis_args(b)})"},
       t=_extremum_t, a=ZERO, m=ZERO, axis=ZERO, keepdims=ZERO)  # (axes: ints, a residual)
helper(support.tie_share, "t, mask, axis=None, keepdims=False", linear="t",
       jvp={"t": lambda b: f"tie_share(t_dot, mask{axis_args(b)})"},
       t=lambda b: f"np.sum(g * tie_share(np.ones_like(t), mask{axis_args(b)}){axis_keywords(b)})",
       mask=ZERO, axis=ZERO, keepdims=ZERO)
helper(support.quantile_bar, "t, x, q, axis=None, keepdims=False", linear="t",
       jvp={"t": lambda b: f"quantile_bar(t_dot, x, q{axis_args(b)})"},
       t=lambda b: f"np.sum(g * quantile_bar(np.ones_like(t), x, q{axis_args(b)}){axis_keywords(b)})",
       x=ZERO, q=ZERO, axis=ZERO, keepdims=ZERO)  # (the weights are constant where defined)
# np.prod's derivatives (t times the products of each entry's other entries, exact at zeros):
# in t each is the other's transpose; in x, prod_others_dot (the tangent of those products, a
# symmetric map, exact at zeros too). p, the product itself, is given along: its derivative is
# in x's. prod_others_dot's own rule in x (third order) is the division formula's: NaN, not a
# wrong number, where x has a zero (exact at the other entries)
def _along(b):
    return "" if b.is_none("axis") else ", axis"


def _kept(b):
    return "keepdims=True" if b.is_none("axis") else "axis=axis, keepdims=True"


P = "t, x, p, axis=None, keepdims=False"
helper(support.prod_bar, P, linear="t", t=lambda b: f"prod_dot(g, x, p{axis_args(b)})",
       x=lambda b: f"prod_others_dot(g * unreduce(t, x{axis_args(b)}), x{_along(b)})",
       p=ZERO, axis=ZERO, keepdims=ZERO,
       jvp={"t": lambda b: f"prod_bar(t_dot, x, p{axis_args(b)})",
            "x": lambda b: f"unreduce(t, x{axis_args(b)}) * prod_others_dot(x_dot, x{_along(b)})"})
helper(support.prod_dot, P, linear="t", t=lambda b: f"prod_bar(g, x, p{axis_args(b)})",
       x=lambda b: f"unreduce(g, x{axis_args(b)}) * prod_others_dot(t, x{_along(b)})",
       p=ZERO, axis=ZERO, keepdims=ZERO,
       jvp={"t": lambda b: f"prod_dot(t_dot, x, p{axis_args(b)})",
            "x": lambda b: f"np.sum(t * prod_others_dot(x_dot, x{_along(b)}){axis_keywords(b)})"})
helper(support.prod_others_dot, "w, x, axis=None", linear="w",
       w=lambda b: f"prod_others_dot(g, x{_along(b)})", axis=ZERO,
       x=lambda b: f"(np.sum(g * ans, {_kept(b)}) - g * ans - w * prod_others_dot(g, x{_along(b)}))"
                   f" / x",
       jvp={"w": lambda b: f"prod_others_dot(w_dot, x{_along(b)})",
            "x": lambda b: f"(np.sum(w * prod_others_dot(x_dot, x{_along(b)}), {_kept(b)}) - "
                           f"w * prod_others_dot(x_dot, x{_along(b)}) - x_dot * ans) / x"})
# np.cumprod's: the same in t; in x, cumprod_bar_dot (symmetric in its t and its x: a Hessian's)
# and cumprod_dot_dot, exact at zeros too. Their own rules in x (third order) are the division
# formulas' derivatives: NaN, not a wrong number, where x has a zero


def _cumsum(b, text):
    return f"np.cumsum({text}{_along(b)})"


def _cumprod_x_dot(b, u):
    """The derivative of cumprod_bar_dot(t, w, x) along u in x, the same as the adjoint of x
    for a cotangent u: the division formula's, with y = np.cumprod(x, axis)."""
    y, ratios = f"np.cumprod(x{_along(b)})", _cumsum(b, f"{u} / x")
    w_ratios, w_squares = _cumsum(b, "w / x"), _cumsum(b, f"w * {u} / x ** 2")
    first = _reverse_cumsum(b, f"t * {y} * ({ratios} * {w_ratios} - {w_squares})", "x")
    second = _reverse_cumsum(b, f"t * {y} * {ratios}", "x")
    third = _reverse_cumsum(b, f"t * {y}", "x")
    return f"({first} - w / x * {second} - {u} * ans + w * {u} / x ** 2 * {third}) / x"


C = "t, x, c, axis=None"
helper(support.cumprod_bar, C, linear="t", t=lambda b: f"cumprod_dot(g, x, c{_along(b)})",
       x=lambda b: f"cumprod_bar_dot(t, g, x{_along(b)})", c=ZERO, axis=ZERO,
       jvp={"t": lambda b: f"cumprod_bar(t_dot, x, c{_along(b)})",
            "x": lambda b: f"cumprod_bar_dot(t, x_dot, x{_along(b)})"})
helper(support.cumprod_dot, C, linear="t", t=lambda b: f"cumprod_bar(g, x, c{_along(b)})",
       x=lambda b: f"cumprod_bar_dot(g, t, x{_along(b)})", c=ZERO, axis=ZERO,
       jvp={"t": lambda b: f"cumprod_dot(t_dot, x, c{_along(b)})",
            "x": lambda b: f"cumprod_dot_dot(t, x_dot, x{_along(b)})"})
helper(support.cumprod_bar_dot, "t, w, x, axis=None", linear="t w", axis=ZERO,
       t=lambda b: f"cumprod_dot_dot(w, g, x{_along(b)})",
       w=lambda b: f"cumprod_bar_dot(t, g, x{_along(b)})",
       x=lambda b: _cumprod_x_dot(b, "g"),
       jvp={"t": lambda b: f"cumprod_bar_dot(t_dot, w, x{_along(b)})",
            "w": lambda b: f"cumprod_bar_dot(t, w_dot, x{_along(b)})",
            "x": lambda b: _cumprod_x_dot(b, "x_dot")})


def _dot_dot_x(b):
    """The adjoint of x in cumprod_dot_dot(w, v, x) for a cotangent g: the division formula's."""
    y = f"np.cumprod(x{_along(b)})"
    first = _reverse_cumsum(b, "g * ans", "x")
    by_v = _reverse_cumsum(b, f"g * {y} * {_cumsum(b, 'v / x')}", "x")
    by_w = _reverse_cumsum(b, f"g * {y} * {_cumsum(b, 'w / x')}", "x")
    last = _reverse_cumsum(b, f"g * {y}", "x")
    return f"({first} - w / x * {by_v} - v / x * {by_w} + 2 * w * v / x ** 2 * {last}) / x"


def _dot_dot_x_dot(b):
    """The derivative of cumprod_dot_dot(w, v, x) along x_dot in x: the division formula's."""
    w_squares, v_squares = _cumsum(b, "w * x_dot / x ** 2"), _cumsum(b, "v * x_dot / x ** 2")
    products = (f"{w_squares} * {_cumsum(b, 'v / x')} + {_cumsum(b, 'w / x')} * {v_squares} - "
                f"2 * {_cumsum(b, 'w * v * x_dot / x ** 3')}")
    return f"ans * {_cumsum(b, 'x_dot / x')} - np.cumprod(x{_along(b)}) * ({products})"


helper(support.cumprod_dot_dot, "w, v, x, axis=None", linear="w v", axis=ZERO,
       w=lambda b: f"cumprod_bar_dot(g, v, x{_along(b)})",
       v=lambda b: f"cumprod_bar_dot(g, w, x{_along(b)})", x=_dot_dot_x,
       jvp={"w": lambda b: f"cumprod_dot_dot(w_dot, v, x{_along(b)})",
            "v": lambda b: f"cumprod_dot_dot(w, v_dot, x{_along(b)})",
            "x": _dot_dot_x_dot})
helper(support.matmul_bar_a, "t, a, b", linear="t b", t="g @ b", a=ZERO, b="matmul_bar_b(t, g, b)")
helper(support.matmul_bar_b, "t, a, b", linear="t a", t="a @ g", a="matmul_bar_a(t, a, g)", b=ZERO)
helper(support.dot_bar_a, "t, a, b", linear="t b", t="np.dot(g, b)", a=ZERO, b="dot_bar_b(t, g, b)")
helper(support.dot_bar_b, "t, a, b", linear="t a", t="np.dot(a, g)", a="dot_bar_a(t, a, g)", b=ZERO)
helper(support.lift, "t, x, m", linear="t", t="np.reshape(g, np.shape(t))", x=ZERO, m=ZERO)
# scatters and cuts (the adjoints of take, take_along_axis, diagonal, diag, concatenate, pad)
# are transposed by the gathers and joins they undo
helper(support.unindex_axis, "t, x, index, axis=None", linear="t", t="np.take(g, index, axis)",
       x=ZERO, index=ZERO, axis=ZERO, jvp={"t": "unindex_axis(t_dot, x, index, axis)"})
helper(support.unindex_along, "t, x, indices, axis", linear="t",
       t="np.take_along_axis(g, indices, axis)", x=ZERO, indices=ZERO, axis=ZERO)
helper(support.undiagonal, "t, x, offset=0, axis1=0, axis2=1", linear="t",
       t="np.diagonal(g, offset, axis1, axis2)", x=ZERO, offset=ZERO, axis1=ZERO, axis2=ZERO,
       jvp={"t": "undiagonal(t_dot, x, offset, axis1, axis2)"})
helper(support.diag_bar, "t, v, k=0", linear="t", t="np.diag(g, k)", v=ZERO, k=ZERO,
       jvp={"t": "diag_bar(t_dot, v, k)"})
helper(support.unconcatenate, "t, arrays, axis=0, ndmin=1", linear="t",
       t=lambda b: "np.vstack(g)" if b.const("ndmin") == 2 else "np.concatenate(g, axis)",
       arrays=ZERO, axis=ZERO, ndmin=ZERO,
       jvp={"t": "unconcatenate(t_dot, arrays, axis, ndmin)"})
helper(support.unjoin, "t, arrays, axis", linear="t", arrays=ZERO, axis=ZERO,
       t=lambda b: "np.dstack(g)" if b.const("axis") == 2 else "np.column_stack(g)")
helper(support.select_bar, "t, condlist, choicelist", linear="t", condlist=ZERO,
       choicelist=ZERO, t="np.select(condlist, g)")
# np.gradient is linear in f: the transpose of its adjoint is np.gradient again
helper(support.gradient_bar, "t, f, h=1.0, axis=None, edge_order=1", linear="t", f=ZERO, h=ZERO,
       axis=ZERO, edge_order=ZERO, t="np.gradient(g, h, axis=axis, edge_order=edge_order)")
# np.interp's slope is constant in x between knots and linear in fp; the adjoint in fp of
# np.interp (of the slope) is linear in t, its transpose np.interp of g (0 outside xp's range
# where left/right was given) (the slope of g); the adjoint's weights move with x at the slope
# of g (of the segment). Neither has a rule in xp (an error if differentiated).
helper(support.interp_slope, "x, xp, fp", linear="fp", x=ZERO,
       fp="interp_slope_bar_fp(g, x, xp, fp)")
helper(support.interp_slope_bar_fp, "t, x, xp, fp", linear="t", x=ZERO, fp=ZERO,
       t="unbroadcast(interp_slope(x, xp, g), t)")
helper(support.interp_bar_fp, "t, x, xp, fp, left=None, right=None", linear="t", fp=ZERO,
       left=ZERO, right=ZERO, x="unbroadcast(t * interp_slope(x, xp, g), x)",
       t=lambda b: "unbroadcast(np.interp(x, xp, g{}), t)".format("".join(
           f", {end}=0.0" for end in ("left", "right") if not b.is_none(end))),
       jvp={"x": "interp_slope_bar_fp(t * x_dot, x, xp, fp)"})
# no rule: second order through np.linalg.multi_dot is a located error, not an inlined loop
helper(support.multi_dot_bar, "t, arrays")
# g[index] at each element's last position (y[index] = v with a repeated index): its transpose
# writes g at index, where the last position wins as well
helper(support.written_bar, "t, index", linear="t", t="setitem_dot(np.zeros_like(t), index, g)",
       index=ZERO)
# np.average's weights along an axis, reshaped to broadcast: a reshape, undone by one
helper(support.weights_along, "t, a, axis", linear="t", t="np.reshape(g, np.shape(t))", a=ZERO,
       axis=ZERO)
helper(support.unpad, "t, pad_width", linear="t", t="np.pad(g, pad_width)", pad_width=ZERO)
helper(support.unpad_copies, "t, pad_width, mode", linear="t", t="np.pad(g, pad_width, mode)",
       pad_width=ZERO, mode=ZERO)
# bilinear, like matmul_bar_a/b: linear in t and in the other factor
helper(support.tensordot_bar_a, "t, a, b, axes=2", linear="t b", t="np.tensordot(g, b, axes)",
       a=ZERO, b="tensordot_bar_b(t, g, b, axes)", axes=ZERO,
       jvp={"t": "tensordot_bar_a(t_dot, a, b, axes)", "b": "tensordot_bar_a(t, a, b_dot, axes)"})
helper(support.tensordot_bar_b, "t, a, b, axes=2", linear="t a", t="np.tensordot(a, g, axes)",
       a="tensordot_bar_a(t, a, g, axes)", b=ZERO, axes=ZERO,
       jvp={"t": "tensordot_bar_b(t_dot, a, b, axes)", "a": "tensordot_bar_b(t, a_dot, b, axes)",
            })
helper(support.kron_bar_a, "t, a, b", linear="t b", t="np.kron(g, b)", a=ZERO,
       b="kron_bar_b(t, g, b)")
helper(support.kron_bar_b, "t, a, b", linear="t a", t="np.kron(a, g)", a="kron_bar_a(t, a, g)",
       b=ZERO)
# the deferred outer products of a loop (s2sad/reverse/deferral.py): sum_k of
# matmul_bar_a(g_k, a, b_k) over a sequence of pairs, bilinear in each pair. Forward mode gives
# a list of pairs a list of tangent pairs (s2sad.forward), so the tangent is the product rule pair
# by pair; the adjoint of the pairs is one pair of adjoints per pair. ``a`` gives a shape only.
def _product(b):
    """``, product`` for the pairs of np.dot (``product="dot"``), nothing for matmul's."""
    return "" if b.const("product", None) == "matmul" else ", product"


for _side in ("a", "b"):  # (product="dot": the pairs of np.dot, see matmul_bar_a_sum)
    _prim = helper(getattr(support, f"matmul_bar_{_side}_sum"),
                   f"terms, {_side}, product='matmul'", batch_safe=True,
                   jvp={"terms": lambda b, s=_side: f"matmul_bar_{s}_sum_dot(terms, terms_dot, "
                                                    f"{s}{_product(b)})",
                        _side: ZERO, "product": ZERO},
                   terms=lambda b, s=_side: f"matmul_bar_{s}_sum_bar(g, terms, {s}{_product(b)})",
                   product=ZERO, **{_side: ZERO})
    _prim.reads_lists = True  # given a list made by t = [], it reads a snapshot, tuple(t)
# a copy of a read-only view (a returned gradient): the identity
helper(support.writable, "t", linear="t", t="g", jvp={"t": "t_dot"})
# a returned gradient in its argument's structure and dtype; a tuple of adjoints: identities
helper(support.as_gradient, "t, x", t="g", x=ZERO, jvp={"t": "as_gradient(t_dot, x)", "x": ZERO})
helper(support.bars, "t, like=None", t="g", like=ZERO, jvp={"t": "bars(t_dot, like)"})
# x.w of a named tuple x (lower.AttributeRead): g at that field, and back
helper(support.unattr, "t, x, name", t="g[x._fields.index(name)]", x=ZERO, name=ZERO,
       jvp={"t": "unattr(t_dot, x, name)", "x": ZERO, "name": ZERO})
helper(support.kept, "t", t="g", jvp={"t": "kept(t_dot)"})
# a piece of a joined tuple's adjoint (the adjoint of p + q of tuples), and its transpose
helper(support.piece_bar, "t, start, stop", linear="t", t="unpiece(g, t, start)", start=ZERO,
       stop=ZERO, jvp={"t": "piece_bar(t_dot, start, stop)"})
helper(support.unpiece, "t, whole, start", linear="t", t="piece_bar(g, start, start + len(t))",
       whole=ZERO, start=ZERO, jvp={"t": "unpiece(t_dot, whole, start)"})
# what a write overwrites, kept (a copy): the identity
helper(support.saved, "t", linear="t", t="g", jvp={"t": "saved(t_dot)"})
# the adjoint of y in y[index] = v (zeros at index, of an array or a list of adjoints): a
# projection, its own transpose
helper(support.setitem_bar, "t, index, old=None", linear="t", t="setitem_bar(g, index, old)",
       index=ZERO, old=ZERO, jvp={"t": "setitem_bar(t_dot, index, old)"})
# y[index] = v on tangents (written_bar's transpose writes with it): linear in both, its
# adjoint the write's own (written_bar: the last position of an element named twice)
helper(support.setitem_dot, "t, index, v", linear="t v", t="setitem_bar(g, index)", index=ZERO,
       v="unbroadcast(written_bar(g, index), v)",
       jvp={"t": "setitem_dot(t_dot, index, np.zeros_like(v))",
            "v": "setitem_dot(np.zeros_like(t), index, v_dot)"})
# run-time checks, zeros to accumulate into, checkpointing's schedules, the ties' shares of a
# max/min (constant where it is smooth): no derivative
for _name in ("check_scalar", "check_tall", "check_real", "check_full_rank", "zeros_bar",
              "element_count", "extremum_share", "select_none", "convolve_pads",
              "trapezoid_weights",
              "running_extreme_index", "written_dtype", "cov_axis", "first_extreme", "revolve_segments", "revolve_actions", "revolve_snaps",
              "keys_of"):
    if hasattr(support, _name):
        HELPER_RULES[getattr(support, _name)] = Primitive(_name, (), {}, ("user", _name),
                                                          differentiable=False, varargs=True)

# d.keys() of a dict value (an argument, a dict of parameters): the tuple of its keys
HELPER_RULES[support.keys_of].dict_operand = "keys"
_methods(HELPER_RULES[support.keys_of], ("keys",))

_BY_NAME = {name: getattr(support, name) for name in support.HELPERS}


# the texts a copy of each helper may have: s2sad.support's, and its plain version's
_SOURCES = {name: {HELPER_SOURCE[name].strip(), PLAIN_SOURCE[name].strip()}
            for name in support.HELPERS}


def _is_copy(obj, name):
    if not inspect.isfunction(obj) or obj.__name__ != name:
        return False
    try:
        return inspect.getsource(obj).strip() in _SOURCES.get(name, ())
    except (OSError, TypeError):
        return False


def is_helper_copy(obj, helper):
    """True if ``obj`` is s2sad.support's ``helper`` or a verbatim copy of it (or of its
    plain version, :mod:`s2sad.support_plain`)."""
    return obj is getattr(support, helper) or _is_copy(obj, helper)


def helper_copy(obj):
    """The primitive of the helper ``obj`` is (or is a verbatim copy of), or None."""
    original = _BY_NAME.get(getattr(obj, "__name__", None))
    if original is None or original not in HELPER_RULES:
        return None
    return HELPER_RULES[original] if obj is original or _is_copy(obj, obj.__name__) else None
