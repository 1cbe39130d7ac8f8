"""Rules for Python's operators and the syntax forms the lowering produces.

``g`` is the adjoint of the result, ``ans`` the result. Binary operators
broadcast, so each contribution is summed back to its operand's shape with
``unbroadcast`` (the reverse pass drops it where shapes are known to agree).
The element-wise operators' tangent rules are derived from these (``g`` becomes the
operand's tangent ``x_dot``, see :mod:`.core`); ``jvp=`` is written where the tangent
is spelled otherwise. Forward mode broadcasts a lone contribution to ``ans``'s shape.
"""

import numpy as np

from ..ir import Const
from ..structural import ListStatement, SaveItem, WriteItem
from .core import OPERATORS, ZERO, Primitive, RuleNotApplicable, _methods, define_operator, \
    nondiff_operator


def _pow_base(b):
    exponent = b.const("y")
    if exponent == 2:  # g last: (2 * x) * g is one pass when g is a repeated value (unreduce)
        return "unbroadcast(2 * x * g, x)"
    return "unbroadcast(g * y * x ** (y - 1), x)"


def _pow_base_dot(b):
    return "x_dot * 2 * x" if b.const("y") == 2 else "x_dot * y * x ** (y - 1)"


def _div_denominator(b):
    # 1 / y (a reciprocal, a sigmoid's last step) has slope -ans * ans: a product, not a quotient
    x = b.const("x")
    if type(x) in (int, float) and x == 1:
        return "-unbroadcast(g * ans * ans, y)"
    return "-unbroadcast(g * ans, y) / y"  # summed before it is scaled: fewer passes


define_operator("add", "x, y", ("binop", "Add"), cheap=True, sequence_result=True, index_arithmetic=True,
                sequences="overloaded", structure_result=True, x="unbroadcast(g, x)",
                y="unbroadcast(g, y)")
define_operator("sub", "x, y", ("binop", "Sub"), cheap=True, structure_result=True,
                index_arithmetic=True,
                x="unbroadcast(g, x)", y="-unbroadcast(g, y)")
define_operator("mul", "x, y", ("binop", "Mult"), cheap=True, sequence_result=True,
                sequences="overloaded", index_arithmetic=True,
                x="unbroadcast(g * y, x)",
                y="unbroadcast(g * x, y)", jvp={"y": "x * y_dot"})
define_operator("truediv", "x, y", ("binop", "Div"), x="unbroadcast(g / y, x)",
                y=_div_denominator, jvp={"y": "-y_dot * ans / y"})
define_operator("pow", "x, y", ("binop", "Pow"), x=_pow_base,
                y="unbroadcast(g * ans * np.log(x), y)",
                jvp={"x": _pow_base_dot})
define_operator("mod", "x, y", ("binop", "Mod"), cheap=True, index_arithmetic=True,
                x="unbroadcast(g, x)",
                y="unbroadcast(-g * np.floor_divide(x, y), y)")
define_operator("matmul", "x, y", ("binop", "MatMult"), elementwise=False, contraction="matmul",
                x="matmul_bar_a(g, x, y)", y="matmul_bar_b(g, x, y)",
                jvp={"x": "x_dot @ y", "y": "x @ y_dot"})
define_operator("neg", "x", ("unary", "USub"), cheap=True, index_arithmetic=True, x="-g")
define_operator("pos", "x", ("unary", "UAdd"), index_arithmetic=True, x="g")
define_operator("copy", "x", ("copy",), view=True, result_dtype="keeps", sequence_result=True,
                index_arithmetic=True,
                sequences="element", structure_result=True, dict_operand="alias", x="g")


def _index(b):
    """An index is integer or boolean, so it has a zero derivative, when what it indexes is
    an array, list or tuple; any other object (a user's class; ``np.r_[x, y]`` and ``np.c_``
    are lowered to joins before this, s2sad/lower/expressions.py) computes something else
    from it, which s2sad has no rule for."""
    base = b["a"]
    if isinstance(base, Const) and not isinstance(base.value, _INDEXABLE):
        raise RuleNotApplicable(
            f"s2sad has no derivative rule for {base}[...] (subscripting "
            f"{type(base.value).__name__}), and it is applied to a differentiated value",
            "Compute the value with functions s2sad supports (`s2sad rules`), or index "
            "constants only.")
    return None


_INDEXABLE = (np.ndarray, np.generic, list, tuple, str, bytes, range, int, float, complex)

define_operator("getitem", "a, index", ("getitem",), elementwise=False, result_dtype="keeps",
                batch="index", dict_operand="key", view="basic", sequences="element",
                a="unindex(g, a, index)", index=_index, jvp={"a": "a_dot[index]", "index": _index})
# y_1 = setitem(y, index, v) is ``y[index] = v`` (in place in generated code): the adjoint
# of y is g with zeros where v went, v's is what g has there, at the last position of an
# element index names twice (written_bar); reverse mode takes g[index] where the index names
# each element once and zeroes g in place when it owns it (s2sad.reverse.writes)
define_operator("setitem", "a, index, v", ("setitem",), elementwise=False,
                a="setitem_bar(g, index)", index=_index, v="unbroadcast(written_bar(g, index), v)",
                jvp={"a": "setitem_dot(a_dot, index, 0.0)", "index": _index,
                     "v": "setitem_dot(np.zeros_like(a), index, v_dot)"})
# y_old = overwritten(y, index): a copy of what ``y[index] = v`` is about to destroy
OPERATORS["overwritten"] = Primitive("overwritten", ("a", "index"), {}, ("overwritten",),
                                     differentiable=False)
OPERATORS["setitem"].node = WriteItem  # the two statements of a write (s2sad.structural)
OPERATORS["overwritten"].node = SaveItem
define_operator("T", "x", ("attr", "T"), elementwise=False, view=True, result_dtype="keeps",
                x="np.transpose(g)",
                jvp={"x": "np.transpose(x_dot)"})
# x.real of a differentiated value (a real array or number) is x itself, x.imag zeros
define_operator("real", "x", ("attr", "real"), elementwise=False, view=True, result_dtype="keeps",
                real_result=True, x="g", jvp={"x": "x_dot"})
nondiff_operator("imag", ("attr", "imag"), real_result=True)
define_operator("mT", "x", ("attr", "mT"), elementwise=False, view=True,
                batch_safe=True, x="np.swapaxes(g, -1, -2)",
                jvp={"x": "np.swapaxes(x_dot, -1, -2)"})

nondiff_operator("floordiv", ("binop", "FloorDiv"), cheap=True, elementwise=True,
                 index_arithmetic=True)
nondiff_operator("not", ("unary", "Not"), cheap=True, result_dtype="bool")
nondiff_operator("invert", ("unary", "Invert"))
for _name, _op in [("lt", "Lt"), ("le", "LtE"), ("gt", "Gt"), ("ge", "GtE"), ("eq", "Eq"),
                   ("ne", "NotEq"), ("is", "Is"), ("is_not", "IsNot"), ("in", "In"),
                   ("not_in", "NotIn")]:  # (the arithmetic comparisons are cheap index work)
    _arith = _op in ("Lt", "LtE", "Gt", "GtE", "Eq", "NotEq")  # (as an index: a mask)
    nondiff_operator(_name, ("compare", _op), cheap=_arith, fancy_index=_arith,
                     result_dtype="bool" if _arith else None)
for _name, _op in [("and_", "BitAnd"), ("or_", "BitOr"), ("xor", "BitXor"), ("lshift", "LShift"),
                   ("rshift", "RShift")]:
    nondiff_operator(_name, ("binop", _op))
for _attr in ("shape", "ndim", "size", "dtype"):
    nondiff_operator(_attr, ("attr", _attr), scalar_result=_attr in ("ndim", "size"))

define_operator("astype", "x, dtype", ("method", "astype"), elementwise=False, result_dtype="given",
                x="g", dtype=ZERO,
                jvp={"x": "x_dot"})


def _item(b):
    """``x.item()`` (a one-element array) or ``x.item(i)``, the i-th element of the flat array."""
    if b.is_none("index"):
        return "unreduce(g, a)"
    if isinstance(b.const("index", None), tuple):
        raise RuleNotApplicable("s2sad differentiates x.item() and x.item(i) (a flat index)",
                                "Index the array instead: x[i, j].")
    return "unindex_axis(g, a, index)"


# x.item(): the element as a Python number
_methods(define_operator("item", "a, index=None", ("method", "item"), elementwise=False,
                         scalar_result=True, a=_item, index=ZERO,
                         jvp={"a": lambda b: "a_dot.item()" if b.is_none("index") else
                              "a_dot.item(index)"}), ("item",))
# a tuple or list literal ([x, y] in np.array([x, y])): element i gets element i of the adjoint
# (an array by then); forward mode builds the list of the elements' tangents itself
_ELEMENTS = {f"arg{i}": f"g[{i}]" for i in range(256)}
define_operator("tuple", "", ("tuple",), elementwise=False, container=True, sequences="made",
                **_ELEMENTS)
define_operator("list", "", ("list",), elementwise=False, container=True, fancy_index=True,
                sequences="made", **_ELEMENTS)
for _name in ("tuple", "list"):
    OPERATORS[_name].varargs = True

# p + q of two tuples (or two lists) the lowering knows are ones, and t * 2 (joins of t):
# the elements of both in order, so each operand's adjoint is its piece of the adjoint;
# forward mode joins the operands' tangents (zeros for a constant one) the same way
define_operator("join", "x, y", ("binop", "Add"), elementwise=False, container=True,
                sequence_result="joins", sequences="made",
                x="piece_bar(g, 0, len(x))", y="piece_bar(g, len(g) - len(y), len(g))",
                jvp={"x": "x_dot", "y": "y_dot"})


def dict_literal(keys):
    """``{"W": w, "b": b}`` (constant string keys): value k gets entry ``keys[k]`` of the
    adjoint (a dict of adjoints); forward mode builds the dict of the values' tangents."""
    prim = Primitive("dict", (), {}, ("dict", keys), elementwise=False, container=True,
                     vjp={f"arg{i}": f"g[{key!r}]" for i, key in enumerate(keys)})
    prim.varargs = True
    return prim

# stop_gradient(x) is x with no derivative: generated code writes it as a plain copy
OPERATORS["stop_gradient"] = Primitive("stop_gradient", ("x",), {}, ("copy",), differentiable=False,
                                       view=True)

# --- lists used as stacks ---------------------------------------------------------------------
# Generated reverse-mode code keeps values on a list (``tape = []``, ``tape.append((a, b))`` at
# the end of a forward trip, ``a, b = tape.pop()`` at the start of a backward trip) and collects
# deferred outer products on another (``terms.append((g, h))``, ``len(terms)``,
# ``terms.clear()``). The lowering reads that idiom, generated or hand-written, as these
# statements on a list variable ``t`` made by ``t = []``:
#
#     t = list_new()              a new empty list
#     list_append(t, v1, ..., vn)  t.append(v1) (n = 1) or t.append((v1, ..., vn)): no result
#     a1, ..., am = list_pop(t)    the last element, removed (m > 1 unpacks a pushed tuple)
#     a1, ..., am = list_pop(t, z, n) pop_bar(t, z): the same, or zeros like z if t is empty
#                                  (reverse mode's pop of a list of adjoints, support.pop_bar;
#                                  n = len(t) before it, for its adjoint: whether it popped)
#     list_clear(t)                t.clear(): no result
#     list_add_contents(t, g, n)   add_contents_bar(t, g): reverse mode's adjoint of a snapshot,
#                                  g[k] added to t's k-th element (support.add_contents_bar;
#                                  n = len(t) before it, for its adjoint, add_contents_bar_bar)
#     s = list_snapshot(t)         tuple(t): the elements now, as a value (what a helper that
#                                  reads a list, ``reads_lists``, is given: matmul_bar_a_sum)
#
# and ``len(t)`` (no derivative). append, pop and clear are effects on the list: they are kept
# in program order and never pruned (``analysis.regions._impure``); a list is never copied,
# merged by an ``if`` or carried by a loop. A derivative goes through a list as through memory:
# a value pushed and later popped is a copy of it (see ``analysis.list_slot`` for how activity
# follows it). These are structural statements (s2sad.structural.ListStatement, whose kind is
# the primitive's name), not rules: they are not in OPERATORS, and each transform treats them
# itself: forward mode repeats each on a list of tangents ``t_dot`` beside ``t``; reverse
# mode mirrors each on a list of adjoints ``t_bar`` (the adjoint of a
# pop pushes the popped value's adjoint, the adjoint of a push pops it).
LIST_OPS = {name: Primitive(name, ("t",), {}, emit, differentiable=False, varargs=True)
            for name, emit in [("list_new", ("list_new",)),
                               ("list_append", ("list_method", "append")),
                               ("list_pop", ("list_method", "pop")),
                               ("list_clear", ("list_method", "clear")),
                               ("list_snapshot", ("list_snapshot",)),
                               ("list_add_contents", ("list_add_contents",))]}
for _prim in LIST_OPS.values():
    _prim.node = ListStatement  # its name is its kind, one of s2sad.structural.LIST_STATEMENTS
del _prim
