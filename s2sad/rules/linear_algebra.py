"""Rules for products, shape, gather and join operations (``np.linalg``: :mod:`.linalg`).

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
differentiates again. A rule that holds only for some constant
arguments raises :class:`RuleNotApplicable` with the reason.
"""

import numpy as np

from .core import ZERO, RuleNotApplicable, define
from .reductions import guarded

define("np.dot", "a, b", contraction="dot", methods=("dot",), linear="a b",
       a="dot_bar_a(g, a, b)", b="dot_bar_b(g, a, b)")
define("np.matmul", "x1, x2", contraction="matmul", linear="x1 x2", x1="matmul_bar_a(g, x1, x2)",
       x2="matmul_bar_b(g, x1, x2)")
define("np.outer", "a, b",
       array_result=True, linear="a b", a="np.reshape(g @ np.ravel(b), np.shape(a))",
       b="np.reshape(np.ravel(a) @ g, np.shape(b))")
define("np.transpose", "a, axes=None",
       free=True, result_dtype="keeps", methods=("transpose",), view=True,
       linear="a",
       a=lambda b: "np.transpose(g)" if b.is_none("axes") else "np.transpose(g, np.argsort(axes))")
define("np.squeeze", "a, axis=None",
       free=True, methods=("squeeze",), view=True, linear="a", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.reshape(a_dot, np.shape(ans))"})
define("np.expand_dims", "a, axis",
       free=True, view=True, linear="a", a="np.reshape(g, np.shape(a))")
define("np.copy", "a, order='K'", result_dtype="keeps", methods=("copy",), linear="a", a="g",
       jvp={"a": "a_dot"})
for _name in ("np.asanyarray", "np.ascontiguousarray"):
    define(_name, "a, dtype=None", array_result="items", linear="a", view=True, a="g",
           jvp={"a": f"{_name}(a_dot)"})
define("np.real_if_close", "a, tol=100", view=True, linear="a", a="g",  # reals
       jvp={"a": "np.real_if_close(a_dot)"})
define("np.asarray", "a, dtype=None",
       array_result="items", result_dtype="given", view=True, linear="a", a="g",
       jvp={"a": "np.asarray(a_dot)"})
define("np.array", "object, dtype=None",
       array_result="items", result_dtype="given", fancy_index=True,
       linear="object", object="g",
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
define("np.full", "shape, fill_value, dtype=None",
       array_result="shape", result_dtype="given", linear="fill_value",
       fill_value="unbroadcast(g, fill_value)",
       jvp={"fill_value": "fill_value_dot + np.zeros_like(ans)"})


# --- shape operations: each adjoint undoes the rearrangement --------------------------------
def _opt(b, name, default, text=None):
    """``, name`` (or ``text``) when the call's ``name`` is not the constant ``default``."""
    if b.is_none(name) if default is None else b.const(name, object()) == default:
        return ""
    return f", {text or name}"


define("np.swapaxes", "a, axis1, axis2",
       free=True, methods=("swapaxes",), view=True, linear="a", a="np.swapaxes(g, axis1, axis2)")
define("np.moveaxis", "a, source, destination",
       free=True, view=True, linear="a", a="np.moveaxis(g, destination, source)")
define("np.broadcast_to", "array, shape, subok=False", free=True, view=True, linear="array",
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
       jvp={"m": lambda b: f"np.rot90(m_dot, k{_opt(b, 'axes', None)})"})  # (k: axes' place)
for _n in (1, 2, 3):
    define(f"np.atleast_{_n}d", "a",
           array_result=True, linear="a", view=True, a="np.reshape(g, np.shape(a))")
# np.tile(A, reps) is np.kron(np.ones(reps), A): each tile's adjoint adds up
define("np.tile", "A, reps", linear="A", A="kron_bar_b(g, np.ones(reps), A)")
define("np.triu", "m, k=0",
       array_result=True, linear="m", m=lambda b: f"unbroadcast(np.triu(g{_opt(b, 'k', 0)}), m)",
       jvp={"m": lambda b: f"np.triu(m_dot{_opt(b, 'k', 0)})"})
define("np.tril", "m, k=0",
       array_result=True, linear="m", m=lambda b: f"unbroadcast(np.tril(g{_opt(b, 'k', 0)}), m)",
       jvp={"m": lambda b: f"np.tril(m_dot{_opt(b, 'k', 0)})"})


def _diagonal_args(b):
    if b.const("axis1") == 0 and b.const("axis2") == 1:
        return _opt(b, "offset", 0)
    return ", offset, axis1, axis2"


define("np.diagonal", "a, offset=0, axis1=0, axis2=1", methods=("diagonal",), view=True, linear="a",
       a=lambda b: f"undiagonal(g, a{_diagonal_args(b)})",
       jvp={"a": lambda b: f"np.diagonal(a_dot{_diagonal_args(b)})"})
define("np.diag", "v, k=0", view=True,  # (of a 2-d v: its diagonal, a view)
       array_result=True, linear="v", v=lambda b: f"diag_bar(g, v{_opt(b, 'k', 0)})",
       jvp={"v": lambda b: f"np.diag(v_dot{_opt(b, 'k', 0)})"})
define("np.diagflat", "v, k=0", linear="v",  # np.diag(np.ravel(v), k)
       v=lambda b: f"np.reshape(np.diagonal(g{_opt(b, 'k', 0)}), np.shape(v))",
       jvp={"v": lambda b: f"np.diagflat(v_dot{_opt(b, 'k', 0)})"})


# --- gathers: the adjoint scatters g back, adding where an element was read twice ------------
# the indices np.take reads in each mode: wrapped around, or clipped to the axis (n long)
_TAKEN = {"raise": "indices", "wrap": "np.mod(indices, {n})", "clip": "np.clip(indices, 0, {n} - 1)"}


def _take(b):
    mode = b.const("mode")
    if not isinstance(mode, str) or mode not in _TAKEN:
        raise RuleNotApplicable("np.take has derivative rules for a constant mode='raise', "
                                "'wrap' or 'clip' only")
    n = "np.size(a)" if b.is_none("axis") else "np.shape(a)[axis]"
    return f"unindex_axis(g, a, {_TAKEN[mode].format(n=n)}{_opt(b, 'axis', None)})"


def _take_dot(b):
    _take(b)
    return f"np.take(a_dot, indices{_opt(b, 'axis', None)}" \
        f"{_opt(b, 'mode', 'raise', 'mode=mode')})"


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
       array_result=True,
       linear="arrays", arrays=lambda b: f"unconcatenate(g, arrays{_opt(b, 'axis', 0)})",
       jvp={"arrays": lambda b: f"np.concatenate(arrays_dot{_opt(b, 'axis', 0)})"})
define("np.stack", "arrays, axis=0, out=None, dtype=None, casting='same_kind'",
       array_result=True, linear="arrays",
       arrays=lambda b: "g" if b.const("axis") == 0 else "np.moveaxis(g, axis, 0)",
       jvp={"arrays": lambda b: f"np.stack(arrays_dot{_opt(b, 'axis', 0)})"})
define("np.vstack", "tup, dtype=None, casting='same_kind'", array_result=True, linear="tup",
       tup="unconcatenate(g, tup, 0, 2)", jvp={"tup": "np.vstack(tup_dot)"})
define("np.hstack", "tup, dtype=None, casting='same_kind'",
       array_result=True,  # 1-d pieces join on axis 0
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


define("np.full_like", "a, fill_value, dtype=None, order='K', subok=True, shape=None",
       array_result="like",
       result_dtype="given", a=ZERO,
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
       array_result=True,
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
define("np.inner", "a, b", contraction="sum", linear="a b", a="tensordot_bar_a(g, a, b, (-1, -1))",
       b="tensordot_bar_b(g, a, b, (-1, -1))")
define("np.vdot", "a, b", contraction="sum", linear="a b", a="g * np.reshape(b, np.shape(a))",
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
define("np.linalg.matmul", "x1, x2", contraction="matmul", linear="x1 x2",
       x1="matmul_bar_a(g, x1, x2)", x2="matmul_bar_b(g, x1, x2)")
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


# a transposition or a diagonal of one operand ("ij->ji", "ii->i") is a view of it
_EINSUM = define("np.einsum", "", arg0=_einsum_spec, view="any",
                 jvp={"arg0": _einsum_spec, **{f"arg{k}": _einsum_dot(k) for k in range(1, 32)}},
                 **{f"arg{k}": _einsum_bar(k) for k in range(1, 32)})
_EINSUM.varargs = True  # np.einsum(subscripts, *operands)
