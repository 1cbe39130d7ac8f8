"""Rules for products, shape operations and ``np.linalg``.

Matrix adjoints are written with ``.mT`` (the transpose of the last two axes),
so the same rule serves a matrix and a stack of matrices. Most of these are linear
(``linear="a"``) or bilinear (``linear="a b"``) in their array operands: their tangent
is the operation applied to the tangent, derived from the stanza; ``jvp=`` is written
for the others (the product rule of ``np.linalg``) and where the derived spelling differs.

The adjoint of a rearrangement (``swapaxes``, ``flip``, ``roll``, ...) undoes it;
that of a gather (``take``, ``repeat``, ``sort``, ``diagonal``) scatters ``g``
back, adding where an element was read twice; that of a join
(``concatenate``, ``stack``) cuts ``g`` into its pieces. Where the bookkeeping
needs the operands' ranks, which are known only at run time, a small helper of
:mod:`s2sad.support` does it (``unindex_axis``, ``tensordot_bar_a``, ...).
Templates call only functions that have rules themselves, so derivative code
differentiates again (except through ``eigvalsh``/``svdvals``, whose rules
call ``np.linalg.eigh``/``svd``). A rule that holds only for some constant
arguments raises :class:`RuleNotApplicable` with the reason.
"""

import numpy as np

from .core import ZERO, RuleNotApplicable, define
from .reductions import axis_args, axis_keywords, guarded

define("np.dot", "a, b", methods=("dot",), linear="a b", a="dot_bar_a(g, a, b)", b="dot_bar_b(g, a, b)")
define("np.matmul", "x1, x2", linear="x1 x2", x1="matmul_bar_a(g, x1, x2)",
       x2="matmul_bar_b(g, x1, x2)")
define("np.outer", "a, b", linear="a b", a="np.reshape(g @ np.ravel(b), np.shape(a))",
       b="np.reshape(np.ravel(a) @ g, np.shape(b))")
define("np.transpose", "a, axes=None", methods=("transpose",), view=True, linear="a",
       a=lambda b: "np.transpose(g)" if b.is_none("axes") else "np.transpose(g, np.argsort(axes))")
define("np.reshape", "a, shape=None, order='C', newshape=None", methods=("reshape",), view=True, linear="a",
       a="np.reshape(g, np.shape(a))", jvp={"a": "np.reshape(a_dot, np.shape(ans))"})
define("np.ravel", "a, order='C'", methods=("ravel", "flatten"), view=True, linear="a", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.ravel(a_dot)"})
define("np.squeeze", "a, axis=None", methods=("squeeze",), view=True, linear="a", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.reshape(a_dot, np.shape(ans))"})
define("np.expand_dims", "a, axis", view=True, linear="a", a="np.reshape(g, np.shape(a))")
define("np.copy", "a, order='K'", methods=("copy",), linear="a", a="g", jvp={"a": "a_dot"})
for _name in ("np.asanyarray", "np.ascontiguousarray"):
    define(_name, "a, dtype=None", linear="a", view=True, a="g", jvp={"a": f"{_name}(a_dot)"})
define("np.real_if_close", "a, tol=100", view=True, linear="a", a="g",  # reals
       jvp={"a": "np.real_if_close(a_dot)"})
define("np.asarray", "a, dtype=None", view=True, linear="a", a="g", jvp={"a": "np.asarray(a_dot)"})
define("np.array", "object, dtype=None", linear="object", object="g",
       jvp={"object": "np.array(object_dot)"})


def _trace(b):
    if b.const("axis1") != 0 or b.const("axis2") != 1:
        raise RuleNotApplicable("np.trace has a derivative rule for axis1=0, axis2=1 only")
    k = "" if b.const("offset") == 0 else ", k=offset"
    eye = f"np.eye(np.shape(a)[0], np.shape(a)[1]{k}, like=a)"  # a's array type
    # a[i, j, ...] receives g[...] on the diagonal: g's axes go last, under the eye matrix
    return f"np.transpose(np.expand_dims(np.transpose(g), (-2, -1)) * {eye}.T)"


def _trace_dot(b):
    _trace(b)  # the same conditions
    return "np.trace(a_dot)" if b.const("offset") == 0 else "np.trace(a_dot, offset)"


define("np.trace", "a, offset=0, axis1=0, axis2=1, dtype=None, out=None", methods=("trace",), linear="a", a=_trace,
       jvp={"a": _trace_dot})
define("np.full", "shape, fill_value, dtype=None", linear="fill_value",
       fill_value="unbroadcast(g, fill_value)",
       jvp={"fill_value": "fill_value_dot + np.zeros_like(ans)"})

define("np.linalg.inv", "a", batch_safe=True, a="-ans.mT @ g @ ans.mT", jvp={"a": "-ans @ a_dot @ ans"})
define("np.linalg.solve", "a, b", shared={"w": "np.linalg.solve(a.mT, g)"},
       a="-matmul_bar_a(w, a, ans)", b="w",
       jvp={"a": "-np.linalg.solve(a, a_dot @ ans)", "b": "np.linalg.solve(a, b_dot)"})
define("np.linalg.det", "a", batch_safe=True, a="np.expand_dims(g * ans, (-1, -2)) * np.linalg.inv(a).mT",
       jvp={"a": "ans * np.sum(np.linalg.inv(a).mT * a_dot, axis=(-2, -1))"})


def _norm(b):
    if not b.is_none("ord") and b.const("ord") != "fro":
        raise RuleNotApplicable("np.linalg.norm has a derivative rule for ord=None "
                                "(the 2-norm of a vector, Frobenius of a matrix) only")
    return f"unreduce(g / ans, x{axis_args(b)}) * x"


def _norm_dot(b):
    _norm(b)
    return f"np.sum(x * x_dot{axis_keywords(b)}) / ans"


define("np.linalg.norm", "x, ord=None, axis=None, keepdims=False", reduction=True, x=_norm,
       jvp={"x": _norm_dot})


# --- shape operations: each adjoint undoes the rearrangement --------------------------------
def _opt(b, name, default, text=None):
    """``, name`` (or ``text``) when the call's ``name`` is not the constant ``default``."""
    if b.is_none(name) if default is None else b.const(name, object()) == default:
        return ""
    return f", {text or name}"


define("np.swapaxes", "a, axis1, axis2", methods=("swapaxes",), view=True, linear="a", a="np.swapaxes(g, axis1, axis2)")
define("np.moveaxis", "a, source, destination", view=True, linear="a", a="np.moveaxis(g, destination, source)")
define("np.broadcast_to", "array, shape, subok=False", view=True, linear="array",
       array="unbroadcast(g, array)", jvp={"array": "np.broadcast_to(array_dot, shape)"})
define("np.flip", "m, axis=None", view=True, linear="m", m=lambda b: f"np.flip(g{_opt(b, 'axis', None)})")
define("np.fliplr", "m", view=True, linear="m", m="np.fliplr(g)")
define("np.flipud", "m", view=True, linear="m", m="np.flipud(g)")


def _roll(b):
    back = "-shift" if isinstance(b.const("shift"), int) else "np.negative(shift)"  # or a tuple
    return f"np.roll(g, {back}{_opt(b, 'axis', None)})"


define("np.roll", "a, shift, axis=None", linear="a", a=_roll)
define("np.rot90", "m, k=1, axes=None", view=True, linear="m",  # axes=(0, 1) when not given
       m=lambda b: f"np.rot90(g, -k{_opt(b, 'axes', None)})",
       jvp={"m": lambda b: f"np.rot90(m_dot{_opt(b, 'k', 1)}{_opt(b, 'axes', None)})"})
for _n in (1, 2, 3):
    define(f"np.atleast_{_n}d", "a", linear="a", view=True, a="np.reshape(g, np.shape(a))")
# np.tile(A, reps) is np.kron(np.ones(reps), A): each tile's adjoint adds up
define("np.tile", "A, reps", linear="A", A="kron_bar_b(g, np.ones(reps), A)")
define("np.triu", "m, k=0", linear="m", m=lambda b: f"unbroadcast(np.triu(g{_opt(b, 'k', 0)}), m)",
       jvp={"m": lambda b: f"np.triu(m_dot{_opt(b, 'k', 0)})"})
define("np.tril", "m, k=0", linear="m", m=lambda b: f"unbroadcast(np.tril(g{_opt(b, 'k', 0)}), m)",
       jvp={"m": lambda b: f"np.tril(m_dot{_opt(b, 'k', 0)})"})


def _diagonal_args(b):
    if b.const("axis1") == 0 and b.const("axis2") == 1:
        return _opt(b, "offset", 0)
    return ", offset, axis1, axis2"


define("np.diagonal", "a, offset=0, axis1=0, axis2=1", methods=("diagonal",), view=True, linear="a",
       a=lambda b: f"undiagonal(g, a{_diagonal_args(b)})",
       jvp={"a": lambda b: f"np.diagonal(a_dot{_diagonal_args(b)})"})
define("np.diag", "v, k=0", linear="v", v=lambda b: f"diag_bar(g, v{_opt(b, 'k', 0)})",
       jvp={"v": lambda b: f"np.diag(v_dot{_opt(b, 'k', 0)})"})
define("np.diagflat", "v, k=0", linear="v",  # np.diag(np.ravel(v), k)
       v=lambda b: f"np.reshape(np.diagonal(g{_opt(b, 'k', 0)}), np.shape(v))",
       jvp={"v": lambda b: f"np.diagflat(v_dot{_opt(b, 'k', 0)})"})


# --- gathers: the adjoint scatters g back, adding where an element was read twice ------------
def _take(b):
    if b.const("mode") != "raise":
        raise RuleNotApplicable("np.take has a derivative rule for mode='raise' only")
    return f"unindex_axis(g, a, indices{_opt(b, 'axis', None)})"


def _take_dot(b):
    _take(b)
    return f"np.take(a_dot, indices{_opt(b, 'axis', None)})"


define("np.take", "a, indices, axis=None, out=None, mode='raise'", methods=("take",), linear="a", a=_take,
       indices=ZERO, jvp={"a": _take_dot})
define("np.compress", "condition, a, axis=None, out=None", linear="a", condition=ZERO,
       a=lambda b: f"unindex_axis(g, a, np.flatnonzero(condition){_opt(b, 'axis', None)})")


def _repeat(b):  # np.repeat(a, r, axis) is np.take(a, np.repeat(np.arange(n), r), axis)
    if b.is_none("axis"):
        return "unindex_axis(g, a, np.repeat(np.arange(element_count(a)), repeats))"
    return "unindex_axis(g, a, np.repeat(np.arange(np.shape(a)[axis]), repeats), axis)"


define("np.repeat", "a, repeats, axis=None", methods=("repeat",), linear="a", a=_repeat, repeats=ZERO)
define("np.take_along_axis", "arr, indices, axis=-1", linear="arr", indices=ZERO,
       arr="unindex_along(g, arr, indices, axis)",
       jvp={"arr": "np.take_along_axis(arr_dot, indices, axis)"})


def _sort(b):
    if not b.is_none("order"):
        raise RuleNotApplicable("np.sort has a derivative rule for plain arrays only (no order=)")
    return "unindex_along(g, a, np.argsort(a, axis), axis)"


def _sort_dot(b):
    _sort(b)
    return "np.take_along_axis(a_dot, np.argsort(a, axis), axis)"


# ties (equal entries) keep the adjoint in the order np.argsort gives them
define("np.sort", "a, axis=-1, kind=None, order=None", a=_sort, jvp={"a": _sort_dot})
# np.argpartition moves the entries as np.partition does
define("np.partition", "a, kth, axis=-1, kind='introselect', order=None", kth=ZERO,
       a=guarded(_sort, "unindex_along(g, a, np.argpartition(a, kth, axis), axis)"),
       jvp={"a": guarded(_sort, "np.take_along_axis(a_dot, np.argpartition(a, kth, axis), axis)")})


# --- joins and cuts: the adjoint of a join cuts g into its pieces, and the other way round ---
define("np.concatenate", "arrays, axis=0, out=None, dtype=None, casting='same_kind'",
       linear="arrays", arrays=lambda b: f"unconcatenate(g, arrays{_opt(b, 'axis', 0)})",
       jvp={"arrays": lambda b: f"np.concatenate(arrays_dot{_opt(b, 'axis', 0)})"})
define("np.stack", "arrays, axis=0, out=None, dtype=None, casting='same_kind'", linear="arrays",
       arrays=lambda b: "g" if b.const("axis") == 0 else "np.moveaxis(g, axis, 0)",
       jvp={"arrays": lambda b: f"np.stack(arrays_dot{_opt(b, 'axis', 0)})"})
define("np.vstack", "tup, dtype=None, casting='same_kind'", linear="tup",
       tup="unconcatenate(g, tup, 0, 2)", jvp={"tup": "np.vstack(tup_dot)"})
define("np.hstack", "tup, dtype=None, casting='same_kind'",  # 1-d pieces join on axis 0
       linear="tup", tup="unconcatenate(g, tup, min(1, np.ndim(g) - 1))",
       jvp={"tup": "np.hstack(tup_dot)"})


def _split(b):  # equal sections, or pieces cut at constant indices: g's pieces joined again
    cut = b.const("indices_or_sections")
    if not (isinstance(cut, int) or isinstance(cut, (tuple, list))
            and all(isinstance(i, int) for i in cut)):
        raise RuleNotApplicable("np.split has a derivative rule for a constant number of "
                                "sections or constant indices only")
    return f"np.concatenate(g{_opt(b, 'axis', 0)})"


def _split_dot(b):
    _split(b)
    return f"np.split(ary_dot, indices_or_sections{_opt(b, 'axis', 0)})"


define("np.split", "ary, indices_or_sections, axis=0", view=True, linear="ary", ary=_split,
       indices_or_sections=ZERO, jvp={"ary": _split_dot})
for _name, _join in (("hsplit", "hstack"), ("vsplit", "vstack")):
    define(f"np.{_name}", "ary, indices_or_sections", linear="ary", view=True,
           ary=guarded(_split, f"np.{_join}(g)"), indices_or_sections=ZERO,
           jvp={"ary": guarded(_split, f"np.{_name}(ary_dot, indices_or_sections)")})
if hasattr(np, "unstack"):  # NumPy 2.1
    define("np.unstack", "x, axis=0", view=True, linear="x",
           x=lambda b: f"np.stack(g{_opt(b, 'axis', 0, 'axis=axis')})",
           jvp={"x": lambda b: f"np.unstack(x_dot{_opt(b, 'axis', 0, 'axis=axis')})"})


def _append(part):
    """Cut g where arr ends: np.append(arr, values) is a concatenation (flattened if axis=None)."""
    def rule(b):
        if b.is_none("axis"):
            cut = "np.arange(element_count(arr))" if part == "arr" else \
                "np.arange(element_count(arr), element_count(g))"
            return f"np.reshape(np.take(g, {cut}), np.shape({part}))"
        cut = "np.arange(np.shape(arr)[axis])" if part == "arr" else \
            "np.arange(np.shape(arr)[axis], np.shape(g)[axis])"
        return f"np.take(g, {cut}, axis)"
    return rule


define("np.append", "arr, values, axis=None", arr=_append("arr"), values=_append("values"),
       jvp={"arr": lambda b: f"np.append(arr_dot, np.zeros_like(values){_opt(b, 'axis', None)})",
            "values": lambda b: "np.append(np.zeros_like(arr), values_dot"
                                f"{_opt(b, 'axis', None)})"})


def _pad(b):
    if b.const("mode") != "constant":
        raise RuleNotApplicable("np.pad has a derivative rule for mode='constant' only")
    return "unpad(g, pad_width)"


def _pad_dot(b):
    _pad(b)
    return "np.pad(array_dot, pad_width)"


define("np.pad", "array, pad_width, mode='constant', constant_values=0", array=_pad,
       pad_width=ZERO, jvp={"array": _pad_dot})
define("np.full_like", "a, fill_value, dtype=None, order='K', subok=True, shape=None", a=ZERO,
       fill_value="unbroadcast(g, fill_value)",
       jvp={"fill_value": "fill_value_dot + np.zeros_like(ans)"})


def _linspace(end):
    def rule(b):
        if b.const("retstep") is not False or b.const("axis") != 0:
            raise RuleNotApplicable("np.linspace has derivative rules for retstep=False, "
                                    "axis=0 only")
        t = f"np.linspace(0.0, 1.0, num{_opt(b, 'endpoint', True)})"  # the weights of stop
        return f"np.tensordot({'1 - ' + t if end == 'start' else t}, g, 1)"
    return rule


def _linspace_dot(end):
    def rule(b):
        _linspace(end)(b)
        t = f"np.linspace(0.0, 1.0, num{_opt(b, 'endpoint', True)})"
        return f"np.tensordot({'1 - ' + t if end == 'start' else t}, {end}_dot, 0)"
    return rule


define("np.linspace", "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0",
       start=_linspace("start"), stop=_linspace("stop"), num=ZERO,
       jvp={"start": _linspace_dot("start"), "stop": _linspace_dot("stop")})
define("np.polyval", "p, x", p="np.vander(np.ravel(x), len(p)).T @ np.ravel(g)",
       x="g * np.polyval(np.polyder(p), x)",
       jvp={"p": "np.polyval(p_dot, x)", "x": "x_dot * np.polyval(np.polyder(p), x)"})


# --- products ------------------------------------------------------------------------------
define("np.tensordot", "a, b, axes=2", linear="a b",
       a=lambda b: f"tensordot_bar_a(g, a, b{_opt(b, 'axes', 2)})",
       b=lambda b: f"tensordot_bar_b(g, a, b{_opt(b, 'axes', 2)})")
define("np.linalg.tensordot", "x1, x2, axes=2", linear="x1 x2",
       x1=lambda b: f"tensordot_bar_a(g, x1, x2{_opt(b, 'axes', 2)})",
       x2=lambda b: f"tensordot_bar_b(g, x1, x2{_opt(b, 'axes', 2)})",
       jvp={"x1": lambda b: f"np.linalg.tensordot(x1_dot, x2{_opt(b, 'axes', 2, 'axes=axes')})",
            "x2": lambda b: f"np.linalg.tensordot(x1, x2_dot{_opt(b, 'axes', 2, 'axes=axes')})"})
# np.inner sums over the last axis of both operands
define("np.inner", "a, b", linear="a b", a="tensordot_bar_a(g, a, b, (-1, -1))",
       b="tensordot_bar_b(g, a, b, (-1, -1))")
define("np.vdot", "a, b", linear="a b", a="g * np.reshape(b, np.shape(a))",
       b="g * np.reshape(a, np.shape(b))")
define("np.kron", "a, b", linear="a b", a="kron_bar_a(g, a, b)", b="kron_bar_b(g, a, b)")


def _vecdot_bar(other, mine):
    return lambda b: (f"unbroadcast(np.expand_dims(g, {-1 if b.const('axis') == -1 else 'axis'})"
                      f" * {other}, {mine})")


for _name in ("np.vecdot", "np.linalg.vecdot"):  # sum(x1 * x2, axis), broadcasting
    define(_name, "x1, x2, axis=-1", linear="x1 x2", x1=_vecdot_bar("x2", "x1"),
           x2=_vecdot_bar("x1", "x2"),
           jvp={"x1": lambda b, n=_name: f"{n}(x1_dot, x2{_opt(b, 'axis', -1, 'axis=axis')})",
                "x2": lambda b, n=_name: f"{n}(x1, x2_dot{_opt(b, 'axis', -1, 'axis=axis')})"})


def _cross(b):
    if any(b.const(k) != -1 for k in ("axisa", "axisb", "axisc")):
        raise RuleNotApplicable("np.cross has a derivative rule for vectors along one axis "
                                "(axis=) only")
    return _opt(b, "axis", None, "axis=axis")


# <g, a x b> = <a, b x g> = <b, g x a>: three-vectors only
define("np.cross", "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None", linear="a b",
       a=lambda b: f"unbroadcast(np.cross(b, g{_cross(b)}), a)",
       b=lambda b: f"unbroadcast(np.cross(g, a{_cross(b)}), b)",
       jvp={"a": lambda b: f"np.cross(a_dot, b{_cross(b)})",
            "b": lambda b: f"np.cross(a, b_dot{_cross(b)})"})
define("np.linalg.cross", "x1, x2, axis=-1", linear="x1 x2",
       x1=lambda b: f"unbroadcast(np.linalg.cross(x2, g{_opt(b, 'axis', -1, 'axis=axis')}), x1)",
       x2=lambda b: f"unbroadcast(np.linalg.cross(g, x1{_opt(b, 'axis', -1, 'axis=axis')}), x2)",
       jvp={"x1": lambda b: f"np.linalg.cross(x1_dot, x2{_opt(b, 'axis', -1, 'axis=axis')})",
            "x2": lambda b: f"np.linalg.cross(x1, x2_dot{_opt(b, 'axis', -1, 'axis=axis')})"})
define("np.linalg.matmul", "x1, x2", linear="x1 x2", x1="matmul_bar_a(g, x1, x2)",
       x2="matmul_bar_b(g, x1, x2)")
define("np.linalg.outer", "x1, x2", linear="x1 x2", x1="g @ x2", x2="x1 @ g")
if hasattr(np, "matvec"):  # NumPy 2.2: a matrix times a vector, and a vector times a matrix
    define("np.matvec", "x1, x2", linear="x1 x2",
           x1="unbroadcast(np.einsum('...i,...j->...ij', g, x2), x1)",
           x2="unbroadcast(np.einsum('...ij,...i->...j', x1, g), x2)")
    define("np.vecmat", "x1, x2", linear="x1 x2",
           x1="unbroadcast(np.einsum('...ij,...j->...i', x2, g), x1)",
           x2="unbroadcast(np.einsum('...i,...j->...ij', x1, g), x2)")
for _name in ("np.matrix_transpose", "np.linalg.matrix_transpose"):
    define(_name, "x", linear="x", view=True, x="g.mT", jvp={"x": "x_dot.mT"})
define("np.linalg.diagonal", "x, offset=0", view=True, linear="x",
       x="undiagonal(g, x, offset, -2, -1)",
       jvp={"x": lambda b: f"np.linalg.diagonal(x_dot{_opt(b, 'offset', 0, 'offset=offset')})"})
define("np.linalg.trace", "x, offset=0, dtype=None", linear="x",
       x=lambda b: "np.expand_dims(g, (-2, -1)) * "
                   f"np.eye(np.shape(x)[-2], np.shape(x)[-1]{_opt(b, 'offset', 0)}, like=x)",
       jvp={"x": lambda b: f"np.linalg.trace(x_dot{_opt(b, 'offset', 0, 'offset=offset')})"})


# --- np.linalg: decompositions ---------------------------------------------------------------
# NumPy's cholesky and eigvalsh read the lower triangle of a only, so that is where the adjoint
# goes: entry (i, j), i > j, stands for both (i, j) and (j, i) of the symmetric matrix. For an
# input built symmetric (b + b.T, x @ x.T) the chain rule gives what JAX's symmetrised rule does.
_LOWER = "np.tril({0} + {0}.mT) / (1 + np.eye(np.shape(a)[-1]))"  # from a symmetric adjoint
_SYMMETRIC_DOT = "(np.tril(a_dot) + np.tril(a_dot, -1).mT)"  # the matrix NumPy reads from a_dot


def _cholesky(b):
    if b.const("upper") is not False:
        raise RuleNotApplicable("np.linalg.cholesky has a derivative rule for upper=False only")
    return _LOWER.format("s")


def _cholesky_dot(b):  # dL = L phi(L^-1 dA L^-T), phi: the lower triangle, diagonal halved
    _cholesky(b)
    inner = f"np.linalg.solve(ans, np.linalg.solve(ans, {_SYMMETRIC_DOT}).mT)"
    return f"ans @ (np.tril({inner}) / (1 + np.eye(np.shape(a)[-1])))"


define("np.linalg.cholesky", "a, upper=False", a=_cholesky, jvp={"a": _cholesky_dot},
       shared={"phi": "np.tril(ans.mT @ g) / (1 + np.eye(np.shape(a)[-1]))",
               "s": "np.linalg.solve(ans.mT, np.linalg.solve(ans.mT, phi).mT).mT"})


def _eigvalsh(b):
    if b.const("UPLO") != "L":
        raise RuleNotApplicable("np.linalg.eigh and eigvalsh have derivative rules for UPLO='L' only")
    return _LOWER.format("s")


def _eigvalsh_dot(b):  # dw_i = v_i . dA v_i
    _eigvalsh(b)
    return f"np.sum(np.linalg.eigh(a)[1] * ({_SYMMETRIC_DOT} @ np.linalg.eigh(a)[1]), axis=-2)"


# distinct eigenvalues: at a repeated one the rule picks one of many one-sided derivatives
define("np.linalg.eigvalsh", "a, UPLO='L'", a=_eigvalsh, jvp={"a": _eigvalsh_dot},
       shared={"v": "np.linalg.eigh(a)[1]", "s": "(v * np.expand_dims(g, -2)) @ v.mT"})
def _eigh(b):
    _eigvalsh(b)
    return _LOWER.format("s")


def _eigh_dot(b):  # M = V^T dA V: dw = diag(M), dV = V (F o M), F_ij = 1 / (w_j - w_i)
    _eigvalsh(b)
    return f"eigh_dot(ans[0], ans[1], {_SYMMETRIC_DOT})"


# w, v = eigh(a): a_bar = V (diag(w_bar) + F o (V^T v_bar)) V^T, onto the lower triangle;
# distinct eigenvalues only (F is infinite at a repeated one), as in JAX
define("np.linalg.eigh", "a, UPLO='L'", a=_eigh, UPLO=ZERO, jvp={"a": _eigh_dot},
       shared={"s": "eigh_bar(ans[0], ans[1], g[0], g[1])"})
def _svd(b):
    if b.const("full_matrices") is not False or b.const("compute_uv") is not True or \
            b.const("hermitian") is not False:
        raise RuleNotApplicable("np.linalg.svd has derivative rules for full_matrices=False "
                                "(and compute_uv=True, hermitian=False) only: the extra "
                                "columns of a full U or V are not determined by a")
    return "svd_bar(ans[0], ans[1], ans[2], g[0], g[1], g[2])"


def _svd_dot(b):
    _svd(b)
    return "svd_dot(ans[0], ans[1], ans[2], a_dot)"


# u, s, vt = svd(a, full_matrices=False), distinct nonzero singular values
define("np.linalg.svd", "a, full_matrices=True, compute_uv=True, hermitian=False", a=_svd,
       full_matrices=ZERO, compute_uv=ZERO, hermitian=ZERO,
       jvp={"a": _svd_dot})
def _qr(b):
    if b.const("mode") != "reduced":
        raise RuleNotApplicable("np.linalg.qr has derivative rules for mode='reduced' only")
    return "qr_bar(ans[0], ans[1], g[0], g[1])"


def _qr_dot(b):
    _qr(b)
    return "qr_dot(ans[0], ans[1], a_dot)"


# q, r = qr(a), reduced, a with at least as many rows as columns and full rank
define("np.linalg.qr", "a, mode='reduced'", a=_qr, mode=ZERO, jvp={"a": _qr_dot})
# distinct, nonzero singular values: d s_i = u_i . dA v_i
define("np.linalg.svdvals", "x", shared={"usv": "np.linalg.svd(x, full_matrices=False)"},
       x="(usv[0] * np.expand_dims(g, -2)) @ usv[2]",
       jvp={"x": "np.sum((np.linalg.svd(x, full_matrices=False)[0].mT @ x_dot) * "
                 "np.linalg.svd(x, full_matrices=False)[2], axis=-1)"})
# (sign, log|det a|) is a pair: its adjoint g[1] is that of log|det a|; the sign is constant
define("np.linalg.slogdet", "a", a="np.expand_dims(g[1], (-2, -1)) * np.linalg.inv(a).mT",
       jvp={"a": "(np.zeros_like(ans[0]), np.sum(np.linalg.inv(a).mT * a_dot, axis=(-2, -1)))"})


def _pinv(b):
    if b.const("hermitian") is not False:
        raise RuleNotApplicable("np.linalg.pinv has a derivative rule for hermitian=False only")


def _pinv_bar(b):  # Golub & Pereyra; the rank of a must not change nearby (full rank, say)
    _pinv(b)
    return ("-ans.mT @ g @ ans.mT + (g.mT - a @ ans @ g.mT) @ ans @ ans.mT"
            " + ans.mT @ ans @ (g.mT - g.mT @ ans @ a)")


def _pinv_dot(b):
    _pinv(b)
    return ("-ans @ a_dot @ ans + ans @ ans.mT @ (a_dot.mT - a_dot.mT @ a @ ans)"
            " + (a_dot.mT - ans @ a @ a_dot.mT) @ ans.mT @ ans")


define("np.linalg.pinv", "a, rcond=None, hermitian=False", a=_pinv_bar, jvp={"a": _pinv_dot})


def _power_sum(b, m, middle):
    """The sum over k of m^k @ middle @ m^(n-1-k), written out: n is a small constant."""
    n = b.const("n")
    if not isinstance(n, int) or not 0 <= n <= 8:
        raise RuleNotApplicable("np.linalg.matrix_power has a derivative rule for a constant "
                                "0 <= n <= 8 only; use np.linalg.inv, or a loop of @")

    def power(k):
        return [] if k == 0 else [m] if k == 1 else [f"np.linalg.matrix_power({m}, {k})"]
    return " + ".join(" @ ".join(power(k) + [middle] + power(n - 1 - k)) for k in range(n)) or None


define("np.linalg.matrix_power", "a, n", a=lambda b: _power_sum(b, "a.mT", "g"), n=ZERO,
       jvp={"a": lambda b: _power_sum(b, "a", "a_dot")})


# --- np.linalg: norms ---------------------------------------------------------------------------
def _vector_norm(b):
    if b.const("ord") != 2:
        raise RuleNotApplicable("np.linalg.vector_norm has a derivative rule for ord=2 only")
    return f"unreduce(g / ans, x{axis_args(b)}) * x"


def _vector_norm_dot(b):
    _vector_norm(b)
    return f"np.sum(x * x_dot{axis_keywords(b)}) / ans"


define("np.linalg.vector_norm", "x, axis=None, keepdims=False, ord=2", reduction=True,
       x=_vector_norm, jvp={"x": _vector_norm_dot})


def _matrix_norm(b):
    if b.const("ord") != "fro" or b.const("keepdims") not in (True, False):
        raise RuleNotApplicable("np.linalg.matrix_norm has a derivative rule for ord='fro' and "
                                "a constant keepdims only")
    return "g / ans * x" if b.const("keepdims") is True else "np.expand_dims(g / ans, (-2, -1)) * x"


def _matrix_norm_dot(b):
    _matrix_norm(b)
    keep = "" if b.const("keepdims") is False else ", keepdims=keepdims"
    return f"np.sum(x * x_dot, axis=(-2, -1){keep}) / ans"


define("np.linalg.matrix_norm", "x, keepdims=False, ord='fro'", x=_matrix_norm,
       jvp={"x": _matrix_norm_dot})


# --- np.einsum: the adjoint of an operand is an einsum of g with the other operands ------------
def _einsum_subscripts(b):
    """The input subscripts (one per operand) and the output subscripts of a constant spec."""
    spec = b.const("arg0")
    if not isinstance(spec, str):
        raise RuleNotApplicable("np.einsum has derivative rules for a constant subscripts string "
                                "only (not the interleaved form)")
    inputs, arrow, output = spec.replace(" ", "").partition("->")
    inputs = inputs.split(",")
    if not arrow:  # implicit output: the letters used once, in alphabetical order
        letters = "".join(inputs).replace("...", "")
        output = ("..." if "..." in spec else "") + \
            "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, output


def _canonical(mine, arg):
    """Operand ``arg`` with subscripts ``mine`` ('A...B') as '...AB': its axes moved so the
    '...' axes lead (unbroadcast then sums them), and the moves that undo it."""
    if "..." not in mine or mine.startswith("..."):
        return arg, lambda text: text
    p, q = len(mine.split("...")[0]), len(mine.split("...")[1])
    front, back = tuple(range(p)), tuple(range(-p - q, -q) if q else range(-p, 0))
    return (f"np.moveaxis({arg}, {front}, {back})",
            lambda text: f"np.moveaxis({text}, {back}, {front})")


def _einsum_bar(k):
    """Operand k gets einsum('out,others->k', g, others): a letter only operand k has (summed
    within it) comes from ones shaped like it; a repeated letter (a diagonal) is renamed, tied to
    the first by an identity matrix. Broadcast '...' axes are summed back by unbroadcast, with
    operand k's '...' axes moved to the front first."""
    def rule(b):
        inputs, output = _einsum_subscripts(b)
        mine = inputs[k - 1]
        letters = mine.replace("...", "")
        if "..." in mine:
            letters = mine.split("...")[0] + mine.split("...")[1]
        arg, undo = _canonical(mine, f"arg{k}")
        specs = [output] + [s for i, s in enumerate(inputs) if i != k - 1]
        operands = ["g"] + [f"arg{i + 1}" for i in range(len(inputs)) if i != k - 1]
        unused = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  if c not in "".join(inputs) + output)
        target = ""
        for pos, c in enumerate(letters):
            if c in letters[:pos]:
                fresh = next(unused)
                specs.append(c + fresh)
                operands.append(f"np.eye(np.shape({arg})[{pos - len(letters)}], like=arg{k})")
                target += fresh
            else:
                target += c
        if not set(target) <= set("".join(specs)):  # a letter summed within operand k alone
            specs.append(("..." if "..." in mine else "") + target)
            operands.append(f"np.ones_like({arg})")
        ellipsis = "..." if "..." in output else ""  # then sum the batch axes back
        expr = f"np.einsum('{','.join(specs)}->{ellipsis + target}', {', '.join(operands)})"
        return undo(f"unbroadcast({expr}, {arg})" if ellipsis else expr)
    return rule


def _einsum_dot(k):
    def rule(b):
        _einsum_subscripts(b)
        n = sum(1 for key in b if key.startswith("arg")) - 1
        operands = [f"arg{i}_dot" if i == k else f"arg{i}" for i in range(1, n + 1)]
        return f"np.einsum(arg0, {', '.join(operands)})"
    return rule


def _einsum_spec(b):  # a differentiated first operand: the interleaved form einsum(a, [0, 1], ...)
    _einsum_subscripts(b)


_EINSUM = define("np.einsum", "", arg0=_einsum_spec,
                 jvp={"arg0": _einsum_spec, **{f"arg{k}": _einsum_dot(k) for k in range(1, 32)}},
                 **{f"arg{k}": _einsum_bar(k) for k in range(1, 32)})
_EINSUM.varargs = True  # np.einsum(subscripts, *operands)
