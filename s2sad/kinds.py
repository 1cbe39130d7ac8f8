"""Kinds of values in generated code, and the rewrites they allow (call-time specialisation).

A generated function is shape-generic: ``unbroadcast(g, x)``, ``dot_bar_b(g, W, h)``,
``check_scalar(out, 'f')``, ``zeros_bar(w)`` and ``as_gradient(g, x)`` look at their
operands when they run. Once the *kinds* of the arguments are known (a Python number, or
a float64 array of a given rank), most of those questions have one answer in the whole
function: :class:`Kinds` infers the kind of each name of one function of a generated
module from its arguments' kinds, and :mod:`s2sad.rewrites` rewrites each helper call whose
answer is known into the direct expression (``W.T.dot(v2_bar)``, ``w_bar[2] += g``,
``g``), or deletes it (a ``check_scalar`` of a number).

A :class:`Kind` is a number (``ndim == 0``: a Python ``float``/``int`` or a NumPy scalar;
never a 0-d array) or an ``ndarray`` of rank ``ndim >= 1``, with its dtype's letter
(``'d'``: float64, ``'l'``: int64). ``python`` marks a number known to be a Python
``float`` or ``int``; ``fresh`` an array the function made itself (a ufunc's result, a
``zeros_bar``), writable and owning its data. What is not followed (a call of another
function, a comparison, anything of a dtype other than float64 and int64) has no kind
(None), and no call reading it is rewritten, so the generic helper decides at run time.

Loops are followed to a fixed point (the kinds at the top of a body join those before the
loop and after a trip); a list made by ``name = []`` and only pushed to and popped from
gives its pops the join of the kinds pushed. What a NumPy function gives is read from its
stanza in the rule tables (:func:`numpy_rule`: ``elementwise``, ``result_dtype``,
``reduction``, ``contraction``), so a new primitive touches one file. Layer 2, above the
rule tables.
"""

import ast
from dataclasses import dataclass, replace

import numpy as np

from .rules import REGISTRY, all_primitives


@dataclass(frozen=True)
class Kind:
    ndim: int  # 0: a number
    char: str  # the dtype's letter: 'd' float64, 'l' int64
    python: bool = False  # a number known to be a Python float or int
    fresh: bool = False  # an array the function made: writable, owning its data

    @property
    def array(self):
        return self.ndim > 0


FLOAT = Kind(0, "d")  # a NumPy float64 scalar (or a Python float)
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def numpy_rule(attr):
    """The primitive ``np.<attr>`` is (aliases too: ``np.absolute`` is ``np.abs``), or None."""
    try:
        return REGISTRY.get(getattr(np, attr))
    except (AttributeError, TypeError):  # (not NumPy's; or unhashable)
        return None


def unary_elementwise(prim):
    """True if ``prim`` maps a float64 (int64) array or number element by element to a new
    one of its shape, of float64 (of int64 when ``result_dtype="keeps"``, else float64): an
    element-wise primitive of one operand, not a view, whose result dtype is not bool or
    int."""
    return prim is not None and prim.elementwise and len(prim.params) <= 1 and \
        not prim.view and prim.result_dtype in (None, "keeps") and prim.emit[0] == "call"


def float_reduction(prim):
    """True if ``prim(a, axis, keepdims=...)`` of a float64 array reduces it to float64 over
    ``axis`` (``np.sum``, ``np.mean``, ``np.max``): a reduction whose second parameter is the
    axis, of no fixed integral dtype."""
    return prim is not None and prim.reduction and prim.params[1:2] == ("axis",) and \
        prim.result_dtype is None


def _reduction_kind(node, args):
    """The kind of ``np.sum(x)`` (``mean``, ``max``, ``min``) of a float64 array or number
    ``x``, over all axes or one constant axis, with a constant ``keepdims``; else None."""
    options = {k.arg: k.value for k in node.keywords}
    if len(args) > 2 or None in options or not set(options) <= {"axis", "keepdims"} or \
            not isinstance(args[0] if args else None, Kind) or args[0].char != "d":
        return None
    axis = node.args[1] if len(args) == 2 else options.get("axis")
    keepdims = options.get("keepdims")
    if keepdims is not None and not (isinstance(keepdims, ast.Constant) and
                                     type(keepdims.value) is bool):
        return None
    if axis is not None and not (isinstance(axis, ast.Constant) and type(axis.value) is int):
        return None
    x = args[0]
    if keepdims is not None and keepdims.value:
        return Kind(x.ndim, "d", fresh=x.array)
    if axis is None or x.ndim <= 1:
        return FLOAT
    return Kind(x.ndim - 1, "d", fresh=True)


def join(a, b):
    """The kind of a value that is either ``a`` or ``b``."""
    if a == b:
        return a
    if a is None or b is None or isinstance(a, tuple) or isinstance(b, tuple):
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            return tuple(join(x, y) for x, y in zip(a, b))
        return None
    if a.ndim == b.ndim and a.char == b.char:
        return Kind(a.ndim, a.char, a.python and b.python, a.fresh and b.fresh)
    return None


def arith(op, a, b):
    if not (isinstance(a, Kind) and isinstance(b, Kind)) or {a.char, b.char} - {"d", "l"}:
        return None
    char = "d" if "d" in (a.char, b.char) or isinstance(op, ast.Div) else "l"
    if isinstance(op, ast.Pow):
        if char != "d":
            return None  # int ** int may be a float (a negative exponent)
    elif not isinstance(op, _ARITH):
        return None
    if a.array or b.array:
        return Kind(max(a.ndim, b.ndim), char, fresh=True)
    return Kind(0, char, python=a.python and b.python)


def compared(a, b):
    """The kind of ``a < b`` (any comparison) of float64/int64 operands: booleans (``'?'``)."""
    if not (isinstance(a, Kind) and isinstance(b, Kind)) or {a.char, b.char} - {"d", "l"}:
        return None
    ndim = max(a.ndim, b.ndim)
    return Kind(ndim, "?", python=a.python and b.python, fresh=ndim > 0)


def selected(condition, a, b):
    """The kind of ``np.where(condition, a, b)``: a boolean condition, values as for ``a + b``
    (the rank the largest of the three; NumPy gives a float64 array, a 0-d one for numbers,
    which has no kind)."""
    value = arith(ast.Add(), a, b)
    if not (isinstance(condition, Kind) and condition.char == "?" and value is not None):
        return None
    ndim = max(condition.ndim, value.ndim)
    return Kind(ndim, value.char, fresh=True) if ndim else None


# the adjoints of a product, by the operand they are for: a product's stanza says its VJPs
# are matmul_bar_a/b(g, a, b) or dot_bar_a/b (``contraction``)
PRODUCT_HELPERS = {f"{prim.contraction}_bar_{side}": side for prim in all_primitives()
                   if prim.contraction in ("matmul", "dot") for side in "ab"}


def product(a, b):
    """The kind of ``a @ b`` (``np.dot(a, b)``) for float64 operands of rank 1 or 2."""
    if not (isinstance(a, Kind) and isinstance(b, Kind) and a.char == b.char == "d" and
            1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        return None
    ndim = a.ndim + b.ndim - 2
    return Kind(ndim, "d", fresh=ndim > 0)


# helper -> (a, b) ranks -> the direct expression, of g, a and b (float64 operands)
def np_name(func):
    """``"exp"`` for ``np.exp``, else None."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
            func.value.id == "np":
        return func.attr
    return None


def int_index(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def simple_lists(function):
    """Names bound to ``[]`` that the function only appends to, pops from, clears, measures
    (``len``) or hands to a ``*_sum`` helper: their pops give what was pushed."""
    made, other, empty = set(), set(), set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List) and \
                not node.value.elts and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            made.add(node.targets[0].id)
            empty.add(id(node.targets[0]))
    allowed = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.attr in ("append", "pop", "clear"):
            allowed.add(id(node.value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "len" or node.func.id.endswith("_sum")):
            allowed.update(id(a) for a in node.args if isinstance(a, ast.Name))
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id in made and id(node) not in allowed and \
                not isinstance(node.ctx, ast.Store):
            other.add(node.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and \
                node.id in made and id(node) not in empty:
            other.add(node.id)
    return made - other


def _stored(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and
            isinstance(n.ctx, ast.Store)}


def _loops_stored(function):
    """``{id(loop): names it binds}`` for every loop of ``function``."""
    return {id(n): _stored(n) for n in ast.walk(function) if isinstance(n, (ast.For, ast.While))}


class Kinds:
    """The kinds of one function's names, followed statement by statement (see the module
    docstring); with ``rewrite``, each statement is offered to the rewrites of a subclass
    (:class:`s2sad.rewrites.Specialiser`) with the kinds that hold before it."""

    def __init__(self, function, kinds, offsets):
        self.function = function
        self.offsets = offsets  # line number -> offset of its first character in the text
        self.lists = {name: None for name in simple_lists(function)}  # name -> pushed kinds
        self.stored = _loops_stored(function)
        stores = {}
        for n in ast.walk(function):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
        self.ranges = {s.targets[0].id: s.value for s in function.body  # (see counts)
                       if isinstance(s, ast.Assign) and len(s.targets) == 1 and
                       isinstance(s.targets[0], ast.Name) and stores[s.targets[0].id] == 1}
        self.pushed = {}
        self.edits = []
        self.env = dict(kinds)
        self.alone = False
        self.zeros = {}  # see follow_zeros
        self.depth = 0  # loops and branches the statement is in

    # ---- kinds of expressions --------------------------------------------------------

    def kind(self, node):
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Constant):
            if type(node.value) is float:
                return Kind(0, "d", python=True)
            return Kind(0, "l", python=True) if type(node.value) is int else None
        if isinstance(node, ast.Tuple):
            return tuple(self.kind(e) for e in node.elts)
        if isinstance(node, ast.Attribute) and np_name(node) in ("pi", "e"):
            return Kind(0, "d", python=True)  # (the generated module's np is NumPy)
        if isinstance(node, ast.BinOp):
            a, b = self.kind(node.left), self.kind(node.right)
            if isinstance(node.op, ast.MatMult):
                return product(a, b)
            return arith(node.op, a, b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a = self.kind(node.operand)
            return replace(a, fresh=a.array) if isinstance(a, Kind) else None
        if isinstance(node, ast.Subscript) and (int_index(node.slice) or self.kind(
                node.slice) == Kind(0, "l", python=True)):  # (x[i], i a Python int)
            a = self.kind(node.value)
            if isinstance(a, Kind) and a.array and a.char == "d":
                return Kind(a.ndim - 1, "d")  # a view of a row, or a NumPy scalar
            return None
        if isinstance(node, ast.Call):
            return self.call_kind(node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return compared(self.kind(node.left), self.kind(node.comparators[0]))
        return None

    def call_kind(self, node):
        args = [self.kind(a) for a in node.args]
        prim = numpy_rule(np_name(node.func)) if np_name(node.func) else None
        if float_reduction(prim):
            return _reduction_kind(node, args)
        if node.keywords:
            return None
        if unary_elementwise(prim) and len(args) == 1 and isinstance(args[0], Kind) and \
                args[0].char in "dl":
            char = args[0].char if prim.result_dtype == "keeps" else "d"
            return Kind(args[0].ndim, char, fresh=args[0].array)
        if prim is not None and prim.contraction in ("matmul", "dot") and len(args) == 2:
            return product(*args)
        if prim is not None and prim.result_dtype == "promotes" and len(args) == 2:
            return arith(ast.Add(), *args)  # (np.maximum: the same promotion and rank)
        if prim is not None and prim.result_dtype == "promotes" and len(args) == 3:
            return selected(*args)  # np.where(condition, a, b)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "pop" and \
                isinstance(node.func.value, ast.Name) and node.func.value.id in self.lists \
                and not node.args:
            return self.lists[node.func.value.id]
        helper = node.func.id if isinstance(node.func, ast.Name) else None
        if helper == "zeros_bar" and len(args) == 1 and isinstance(args[0], Kind) and \
                args[0].char == "d" and (args[0].array or args[0].python):
            return replace(args[0], fresh=args[0].array)
        if helper == "masked" and len(args) in (2, 3):  # np.where(condition, g, 0.0), fresh
            return selected(args[1], args[0], Kind(0, "d", python=True))
        if helper == "masked_rest" and len(args) == 3:  # np.where(condition, 0.0, g), fresh
            return selected(args[2], Kind(0, "d", python=True), args[0])
        if helper == "tie_share" and 2 <= len(args) <= 4 and all(isinstance(k, Kind)
                                                                  for k in args[:2]) and \
                args[0].char == "d" and args[1].char == "?" and args[1].ndim >= args[0].ndim:
            return Kind(args[1].ndim, "d", fresh=args[1].ndim > 0)  # (g spread over the mask)
        if helper == "element_count" and len(args) == 1:
            return Kind(0, "l", python=True)  # (x.size, or a product of Python ints)
        if helper == "unreduce" and 2 <= len(args) <= 4 and isinstance(args[1], Kind) and \
                args[1].array and args[1].char == "d" and isinstance(args[0], Kind) and \
                args[0].char == "d":
            return Kind(args[1].ndim, "d")  # x's shape (over all axes or some: a view)
        if helper == "unbroadcast" and len(args) == 2 and isinstance(args[0], Kind) and \
                isinstance(args[1], Kind) and not args[0].array and not args[1].array:
            return args[0]
        if helper == "unbroadcast" and len(args) == 2 and all(
                isinstance(k, Kind) and k.array and k.char == "d" for k in args) and \
                args[0].ndim >= args[1].ndim:  # g itself, or g summed to x's shape
            return Kind(args[1].ndim, "d")
        if helper in PRODUCT_HELPERS and len(args) == 3:
            return self.product_bar(helper, args)
        return None

    def product_bar(self, helper, args):
        g, a, b = args
        if product(a, b) is None:
            return None
        return replace(a if PRODUCT_HELPERS[helper] == "a" else b, fresh=True)

    # ---- statements ------------------------------------------------------------------

    def block(self, stmts, rewrite):
        for stmt in stmts:
            self.alone = len(stmts) == 1  # (a statement alone in its block is never deleted)
            self.statement(stmt, rewrite)

    def statement(self, stmt, rewrite):
        if rewrite:
            self.follow_zeros(stmt)
        if isinstance(stmt, ast.Assign):
            if rewrite:
                self.rewrite_expr(stmt.value)
            value = self.kind(stmt.value)
            for target in stmt.targets:
                self.bind(target, value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            if rewrite:
                self.rewrite_expr(stmt.value)
            old = self.env.get(stmt.target.id)
            if not (isinstance(old, Kind) and old.array):  # an array's stays: in place
                self.env[stmt.target.id] = arith(stmt.op, old, self.kind(stmt.value))
        elif isinstance(stmt, ast.Expr):
            self.expression_statement(stmt, rewrite)
        elif isinstance(stmt, ast.Return):
            if rewrite and stmt.value is not None:
                self.rewrite_expr(stmt.value)
        elif isinstance(stmt, (ast.For, ast.While)):
            self.depth += 1
            self.loop(stmt, rewrite)
            self.depth -= 1
        elif isinstance(stmt, ast.If):
            self.depth += 1
            before = dict(self.env)
            self.block(stmt.body, rewrite)
            after_body, self.env = self.env, before
            self.block(stmt.orelse, rewrite)
            self.env = self.joined(after_body, self.env)
            self.depth -= 1
        else:  # not followed: what it binds has no kind, and nothing in it is rewritten
            for name in _stored(stmt):
                self.env[name] = None

    def bind(self, target, value):
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, ast.Tuple) and isinstance(value, tuple) and \
                len(value) == len(target.elts):
            for t, v in zip(target.elts, value):
                self.bind(t, v)
        else:
            for name in _stored(target):
                self.env[name] = None

    def expression_statement(self, stmt, rewrite):
        call = stmt.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, ast.Name) and \
                call.func.value.id in self.lists and len(call.args) == 1:
            name = call.func.value.id
            kind = self.kind(call.args[0])
            self.lists[name] = kind if name not in self.pushed else join(self.lists[name], kind)
            self.pushed[name] = True
        if rewrite:
            self.rewrite_statement(stmt)

    def counts(self, node):
        """Does the iterable ``node`` give Python ints: ``range(...)``, a name bound once in
        the straight-line code to one, ``reversed`` of such?"""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "reversed" and len(node.args) == 1:
            node = node.args[0]
        if isinstance(node, ast.Name):
            node = self.ranges.get(node.id)
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == "range"

    def joined(self, a, b):
        return {k: join(a.get(k), b.get(k)) for k in set(a) | set(b)}

    def loop(self, stmt, rewrite):
        stored = self.stored[id(stmt)]
        before = dict(self.env)
        entry = before
        for _ in range(6):
            self.env = dict(entry)
            self.loop_trip(stmt, rewrite=False)
            after = self.joined(entry, self.env)
            if after == entry:
                break
            entry = after
        else:
            entry = {**entry, **{name: None for name in stored}}
        self.env = dict(entry)
        self.loop_trip(stmt, rewrite)
        self.env = self.joined(entry, self.env)  # no trip, or some
        self.block(stmt.orelse, False)

    def loop_trip(self, stmt, rewrite):
        if isinstance(stmt, ast.For):
            for name in _stored(stmt.target):
                self.env[name] = None
            if isinstance(stmt.target, ast.Name) and self.counts(stmt.iter):
                self.env[stmt.target.id] = Kind(0, "l", python=True)
        elif rewrite:
            self.rewrite_expr(stmt.test)
        self.block(stmt.body, rewrite)
