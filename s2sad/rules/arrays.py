"""Rules for the joins, cuts and axis moves of NumPy that are spelled by other ones.

``np.column_stack`` and ``np.dstack`` join pieces along axis 1 and 2, making 1-d (and
2-d) pieces columns (depth slices) first; the adjoint cuts ``g`` back into pieces
(:func:`s2sad.support.unjoin`). ``np.row_stack`` is ``np.vstack`` (an alias NumPy 2
deprecates). Every cut (``np.array_split``, ``np.dsplit``, and ``np.split``'s family in
:mod:`.linear_algebra`) has the join of ``g``'s pieces as its adjoint, for sections or
constant indices alike. ``np.rollaxis`` is ``np.moveaxis`` to a place worked out from
``start``. ``np.select`` gives each choice the adjoint where its condition is the first
that holds (:func:`s2sad.support.select_bar`). ``np.logspace`` and ``np.geomspace`` are
``np.linspace``'s spacing raised to a power: each value's slope in ``start`` and ``stop`` is
the value times its weight (``1 - t``, ``t``) over ``start`` (``stop``), or times ``ln(base)``.
``np.reshape`` and ``np.ravel`` (``.flatten``) undo themselves in the order they were given:
in Fortran order, ``g`` is reshaped back in Fortran order.
``np.pad`` in a mode that copies elements into the border (``'edge'``, ``'reflect'``,
``'symmetric'``, ``'wrap'``) adds each border element's adjoint back to the element it copies
(:func:`s2sad.support.unpad_copies`); its tangent pads the tangent in the same mode.
``np.broadcast_arrays`` and ``np.meshgrid`` give one result per operand, that operand spread:
each adjoint is its result's summed back to the operand's shape.
"""

import numpy as np

from .core import ZERO, RuleNotApplicable, define
from .linear_algebra import _opt, _split



def _in_order(b):
    """``, order='F'`` for a reshape in Fortran order, ``""`` for C order: the adjoint and the
    tangent reshape in the same order. 'A' and 'K' follow the operand's memory layout, which
    the rule cannot see."""
    order = b.const("order", object())
    if order in ("C", None):
        return ""
    if order == "F":
        return ", order='F'"
    raise RuleNotApplicable("np.reshape and np.ravel have derivative rules for order='C' and "
                            "order='F' only (order='A' and 'K' depend on the memory layout)")


define("np.reshape", "a, shape=None, order='C', newshape=None", free=True, result_dtype="keeps",
       methods=("reshape",), view=True, linear="a",
       a=lambda b: f"np.reshape(g, np.shape(a){_in_order(b)})",
       jvp={"a": lambda b: f"np.reshape(a_dot, np.shape(ans){_in_order(b)})"})
define("np.ravel", "a, order='C'",
       array_result=True, free=True, result_dtype="keeps", methods=("ravel", "flatten"), view=True,
       linear="a", a=lambda b: f"np.reshape(g, np.shape(a){_in_order(b)})",
       jvp={"a": lambda b: f"np.ravel(a_dot{_in_order(b)})"})
define("np.column_stack", "tup", array_result=True, linear="tup", tup="unjoin(g, tup, 1)",
       jvp={"tup": "np.column_stack(tup_dot)"})
define("np.dstack", "tup",
       array_result=True, linear="tup", tup="unjoin(g, tup, 2)", jvp={"tup": "np.dstack(tup_dot)"})
if hasattr(np, "row_stack"):  # NumPy < 2.3 (deprecated since 2.0): np.vstack
    define("np.row_stack", "tup, dtype=None, casting='same_kind'", array_result=True, linear="tup",
           tup="unconcatenate(g, tup, 0, 2)", jvp={"tup": "np.vstack(tup_dot)"})
define("np.array_split", "ary, indices_or_sections, axis=0", view=True, linear="ary",
       ary=lambda b: f"np.concatenate(g{_opt(b, 'axis', 0)})", indices_or_sections=ZERO)


def _dsplit(b):
    _split(b)
    return "np.concatenate(g, 2)"


define("np.dsplit", "ary, indices_or_sections", view=True, linear="ary", ary=_dsplit,
       indices_or_sections=ZERO,
       jvp={"ary": lambda b: _dsplit(b) and "np.dsplit(ary_dot, indices_or_sections)"})


def _rollaxis(b):
    """np.rollaxis(a, axis, start) is np.moveaxis(a, axis, to): ``to`` from constants."""
    axis, start = b.const("axis"), b.const("start")
    if not (isinstance(axis, int) and isinstance(start, int)) or \
            start != 0 and (axis < 0 or start < 0):
        raise RuleNotApplicable("np.rollaxis has a derivative rule for constant axes, both "
                                "nonnegative or start=0, only; use np.moveaxis")
    to = start - 1 if axis < start else start
    return f"np.moveaxis(g, {to}, axis)"


define("np.rollaxis", "a, axis, start=0", view=True, linear="a", a=_rollaxis,
       jvp={"a": lambda b: _rollaxis(b) and f"np.rollaxis(a_dot, axis{_opt(b, 'start', 0)})"})
# the first choice whose condition holds; default where none does
define("np.select", "condlist, choicelist, default=0", condlist=ZERO,
       choicelist="select_bar(g, condlist, choicelist)",
       default="unbroadcast(np.where(select_none(condlist), g, 0.0), default)",
       jvp={"choicelist": "np.select(condlist, choicelist_dot)",
            "default": "np.where(select_none(condlist), default_dot, 0.0)"})


def _spaced(kind, end, tangent=False):
    """np.logspace (base ** linspace(start, stop)) and np.geomspace (start ** (1 - t) *
    stop ** t, t the weights of linspace(0, 1)): each value's slope in start (stop)."""
    def rule(b):
        if b.const("axis") != 0:
            raise RuleNotApplicable(f"np.{kind} has derivative rules for axis=0 only")
        t = f"np.linspace(0.0, 1.0, num{_opt(b, 'endpoint', True)})"  # the weights of stop
        weight = f"(1 - {t})" if end == "start" else t
        slope = f"ans * np.log(base) * {weight}" if kind == "logspace" else \
            f"ans * {weight} / {end}"
        if end == "base":  # the exponents: linspace(start, stop)
            exponents = f"np.linspace(start, stop, num{_opt(b, 'endpoint', True)})"
            slope = f"ans * {exponents} / base"
        return f"np.tensordot({slope}, {end}_dot, 0)" if tangent else \
            f"np.sum(g * {slope})"
    return rule


for _kind, _ends, _sig in (
        ("logspace", ("start", "stop", "base"),
         "start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0"),
        ("geomspace", ("start", "stop"), "start, stop, num=50, endpoint=True, dtype=None, axis=0")):
    define(f"np.{_kind}", _sig, array_result=True, num=ZERO,
           **{end: _spaced(_kind, end) for end in _ends},
           jvp={end: _spaced(_kind, end, True) for end in _ends})


# np.pad's modes that copy elements of the array into the border; 'constant' pads with
# constants (the array's adjoint is g's middle), and the others compute the border
_COPIES = ("edge", "reflect", "symmetric", "wrap")


def _pad(b):
    mode = b.const("mode")
    if mode == "constant":
        return "unpad(g, pad_width)"
    if not isinstance(mode, str) or mode not in _COPIES or b.const("reflect_type") != "even":
        raise RuleNotApplicable("np.pad has derivative rules for a constant mode='constant', "
                                "'edge', 'reflect', 'symmetric' or 'wrap' (reflect_type='even') "
                                "only")
    return "unpad_copies(g, pad_width, mode)"


def _pad_dot(b):
    _pad(b)
    return f"np.pad(array_dot, pad_width{_opt(b, 'mode', 'constant')})"


define("np.pad", "array, pad_width, mode='constant', constant_values=0, reflect_type='even'",
       array=_pad, pad_width=ZERO, jvp={"array": _pad_dot})


# --- arrays broadcast against each other: one result per operand --------------------------
# Result k is operand k broadcast (np.broadcast_arrays, a view of it) or spread along
# the grid's axis k (np.meshgrid: 'xy' swaps the first two axes): its adjoint is g[k] summed
# back to the operand's shape; its tangent the operand's tangent spread alike, the others' zero
# (np.zeros_like(ans[j]): forward mode adds the operands' tuples result by result).
_OPERANDS = 16  # (arg0, arg1, ...: more operands than these have no rule, an error)


def _count(b):
    return sum(1 for key in b if key.startswith("arg"))


def _keyword(b, key, default):
    """The constant a keyword of a call bound by position (varargs) has: ``default`` when
    the call does not give it, ``"a variable"`` when it is not a constant."""
    return default if key not in b else b.const(key, "a variable")


def _tangents(b, k, spread):
    """The tuple of the results' tangents that operand k gives: ``spread`` at k, zeros else."""
    return "(" + "".join((spread if j == k else f"np.zeros_like(ans[{j}])") + ", "
                         for j in range(_count(b))) + ")"


def _grid_axis(b, k):
    """The axis of np.meshgrid's results along which operand k is laid out."""
    if _keyword(b, "indexing", "xy") not in ("xy", "ij") or \
            _keyword(b, "sparse", False) is not False or _keyword(b, "copy", True) is not True:
        raise RuleNotApplicable("np.meshgrid has derivative rules for a constant indexing='xy' "
                                "or 'ij', sparse=False and copy=True only")
    swap = _keyword(b, "indexing", "xy") == "xy" and _count(b) > 1
    return {0: 1, 1: 0}.get(k, k) if swap else k


def _meshgrid(k, tangent=False):
    def rule(b):
        axis, n = _grid_axis(b, k), _count(b)
        if tangent:
            shape = tuple(-1 if i == axis else 1 for i in range(n))
            return _tangents(b, k, f"np.reshape(arg{k}_dot, {shape}) + np.zeros_like(ans[{k}])")
        others = tuple(i for i in range(n) if i != axis)
        axes = others[0] if len(others) == 1 else others
        total = f"np.sum(g[{k}], axis={axes})" if others else f"g[{k}]"
        return f"np.reshape({total}, np.shape(arg{k}))"
    return rule


define("np.broadcast_arrays", "", view="each",
       jvp={f"arg{k}": lambda b, k=k: _tangents(b, k, f"arg{k}_dot + np.zeros_like(ans[{k}])")
            for k in range(_OPERANDS)},
       **{f"arg{k}": f"unbroadcast(g[{k}], arg{k})" for k in range(_OPERANDS)}
       ).varargs = True
define("np.meshgrid", "", view="each",
       jvp={f"arg{k}": _meshgrid(k, True) for k in range(_OPERANDS)},
       **{f"arg{k}": _meshgrid(k) for k in range(_OPERANDS)}).varargs = True
