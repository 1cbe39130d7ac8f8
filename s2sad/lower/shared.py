"""The lowering's tables and small helpers, shared by the mixins of :mod:`s2sad.lower`.

The operator names of gast's operators (``_BINOPS``, ``_UNARY``, ``_COMPARE``), the
array attributes read as primitives, the modules generated code may spell directly,
the error texts about lists, :class:`_Unreadable` (the value of a list name where it
cannot be read) and pure functions of gast nodes (``_describe``, ``_spelling``,
``_stores``, ``_fold``, ...). No state: nothing here knows a :class:`_Lowerer
<s2sad.lower.lowerer._Lowerer>`.

Layer 3 (front end), the bottom of the :mod:`s2sad.lower` package.
"""

import gast

from ..astutil import walk
from ..ir import Const, Var
from ..parse import dotted_chain, is_user_function


_BINOPS = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
           gast.Pow: "pow", gast.MatMult: "matmul", gast.Mod: "mod", gast.FloorDiv: "floordiv",
           gast.BitAnd: "and_", gast.BitOr: "or_", gast.BitXor: "xor", gast.LShift: "lshift",
           gast.RShift: "rshift"}
_UNARY = {gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert"}
_COMPARE = {gast.Lt: "lt", gast.LtE: "le", gast.Gt: "gt", gast.GtE: "ge", gast.Eq: "eq",
            gast.NotEq: "ne", gast.Is: "is", gast.IsNot: "is_not", gast.In: "in",
            gast.NotIn: "not_in"}
_ATTRIBUTES = ("T", "mT", "real", "imag", "shape", "ndim", "size", "dtype")
# modules whose members generated code may spell directly
_SPELLED_MODULES = {"numpy": "np", "math": "math"}
_UNRESOLVED = object()
_LIST_METHODS = ("append", "pop", "clear")
_MADE_IN_REGION = ("{name} is a list made inside a loop or in one branch of an if; s2sad follows "
                   "a list where it is made and cannot read it after that region")
_MADE_LATER_IN_LOOP = ("{name} is read here before {name} = [] makes a new list later in this "
                       "loop; s2sad follows a list from where it is made")


class _Unreadable:
    """The value of a name where it cannot be read: a list outside the region that made it
    (see ``_Lowerer.hide_lists``)."""

    def __init__(self, message, hint=None):
        self.message = message
        self.hint = hint or "Make the list once, before the loop or the if (t = []), and " \
                            "empty it with t.clear() where a new one is needed."


_RETURNED = object()  # the name hint of a return statement's value
_HINTS = {
    "Lambda": "Write a named helper function with def instead.",
    "IfExp": "Use np.where(condition, a, b) instead.",
    "BoolOp": "Use np.logical_and / np.logical_or, or & and | on boolean arrays.",
    "ListComp": "Write the loop out, or use vectorised NumPy operations.",
    "Dict": "Pass the values as separate arguments.",
}


def _describe(node):
    names = {"IfExp": "a conditional expression (a if c else b)", "BoolOp": "and/or",
             "Lambda": "a lambda expression", "ListComp": "a list comprehension",
             "GeneratorExp": "a generator expression", "DictComp": "a dict comprehension",
             "SetComp": "a set comprehension",
             "Dict": "a dict literal", "Set": "a set literal", "JoinedStr": "an f-string",
             "Starred": "a starred expression", "NamedExpr": "an assignment expression (:=)",
             "Await": "await", "Yield": "yield", "YieldFrom": "yield from", "If": "if",
             "For": "for", "While": "while", "Break": "break", "Continue": "continue",
             "Try": "try", "With": "with", "Raise": "raise", "Assert": "assert",
             "Import": "import", "ImportFrom": "import", "Global": "global",
             "Nonlocal": "nonlocal", "Delete": "del", "FunctionDef": "nested def",
             "ClassDef": "class", "AsyncFunctionDef": "async def"}
    return names.get(type(node).__name__, type(node).__name__)


def _spelling(node):
    chain = dotted_chain(node)
    return ".".join(chain) if chain else "expression"


def _sort_key(name):
    return name


def _stores(stmts, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
               for s in stmts for n in walk(s))


def _user_name(var_name, body_env, outer_env):
    """The user name whose current value in ``outer_env`` is the loop variable ``var_name``."""
    for key, value in outer_env.items():
        if isinstance(value, Var) and value.name == var_name:
            return key
    return var_name


def _assigned_names(fn_node):
    out = set()
    for n in walk(fn_node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
    return out


# run-time helpers on a list of adjoints that s2sad differentiates only as list statements
# (a call on a list made by t = [], see s2sad.structural), by what they are
_NOT_AGAIN = {"add_contents_bar": "reverse mode's adjoint of a list read as a whole, "
                                  "np.stack(t), given no list of adjoints",
              "add_contents_bar_bar": "reverse over reverse's adjoint of np.stack(t) of a list"}


_is_user_function = is_user_function  # (s2sad.parse: one definition)


def _fold(op, left, right):
    """Fold arithmetic on two plain numeric literals (``2 * 3``); None otherwise."""
    if not (isinstance(left, Const) and isinstance(right, Const)):
        return None
    if left.name or right.name or left.text or right.text:
        return None
    a, b = left.value, right.value
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))) or \
            isinstance(a, bool) or isinstance(b, bool):
        return None
    ops = {gast.Add: lambda: a + b, gast.Sub: lambda: a - b, gast.Mult: lambda: a * b}
    if op in ops:
        return Const(ops[op]())
    return None
