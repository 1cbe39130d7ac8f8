"""The rewrites call-time specialisation makes, given the kinds of a function's names.

:class:`Specialiser` follows one generated function with :class:`s2sad.kinds.Kinds` and
records, before each statement, the textual edits the kinds allow: each helper call whose
answer the kinds decide becomes its direct expression (``W.T.dot(g)`` for
``dot_bar_b(g, W, h)`` with ``W`` a matrix and ``h`` a vector, ``np.zeros(w.shape)``,
``w_bar[2] = g``, ``g``), a ``check_scalar`` of a number is deleted.
:func:`specialise_function` applies them to the function's text; the edits are textual
(the function's other lines, comments included, stay as they are), so the specialised
function reads as the generic one does. Layer 2, above :mod:`s2sad.kinds` (which reads the rule tables).
"""

import ast
import re
from collections import Counter

from .inplace import in_place_edits
from .kinds import PRODUCT_HELPERS, Kind, Kinds, int_index, product
from .tape_stand_ins import STAND_IN_HELPER, tape_stand_ins

PRODUCT_BARS = {
    "a": {(2, 2): "{g}.dot({b}.T)", (2, 1): "np.multiply.outer({g}, {b})",
          (1, 2): "{b}.dot({g})", (1, 1): "{g} * {b}"},
    "b": {(2, 2): "{a}.T.dot({g})", (2, 1): "{g}.dot({a})",
          (1, 2): "np.multiply.outer({a}, {g})", (1, 1): "{g} * {a}"},
}


# a Python float beside a float64 array becomes a 0-d float64 array: NumPy converts a Python
# float operand on every call (about 0.3 us), not a 0-d array, and the result is the same
_CONSTANT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_CONSTANT = "_f64_"


def constant_name(value):
    """The name of the 0-d float64 array holding ``value`` in a specialised module
    (``_f64_1p0`` for 1.0, ``_f64_1em05`` for 1e-05)."""
    return _CONSTANT + repr(value).replace(".", "p").replace("-", "m").replace("+", "P")


def constant_lines(text):
    """The lines defining the constants that ``text`` names (:func:`constant_name`), and
    the stand-ins' helper if it calls it (:data:`s2sad.tape_stand_ins.STAND_IN_HELPER`)."""
    names = sorted(set(re.findall(rf"\b{_CONSTANT}[0-9a-zA-Z]+\b", text)))
    values = [float(n[len(_CONSTANT):].replace("p", ".").replace("m", "-").replace("P", "+"))
              for n in names]
    return "".join(f"{name} = np.array({value!r})  # beside arrays, cheaper than a Python "
                   f"float\n" for name, value in zip(names, values)) + \
        (STAND_IN_HELPER if "_stand_in(" in text else "")


class Specialiser(Kinds):
    """The kinds of one function's names (:class:`~s2sad.kinds.Kinds`) and the edits they
    allow; ``edits`` are ``(start, end, bytes)`` spans of the function's text; ``arrays``
    the names its straight-line code binds to arrays."""

    arrays = frozenset()
    ranks = {}  # the rank of each of ``arrays``
    operations = ()  # (node, its operands' kinds) of the straight-line code: see inplace

    def statement(self, stmt, rewrite):
        super().statement(stmt, rewrite)
        if rewrite and not self.depth and isinstance(stmt, ast.Assign) and \
                len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            kind = self.env.get(stmt.targets[0].id)
            if isinstance(kind, Kind) and kind.array and kind.char in "dl?":  # (masks too)
                self.arrays = self.arrays | {stmt.targets[0].id}
                self.ranks = {**self.ranks, stmt.targets[0].id: kind.ndim}

    # ---- rewrites --------------------------------------------------------------------

    def follow_zeros(self, stmt):
        """Keep :attr:`zeros` (arrays of zeros made in the function's straight-line code, and
        the constant indices written into them since) true before ``stmt``: an element not
        yet written is 0, so its first ``scatter_add`` assigns (``w_bar[2] = g``)."""
        if not self.zeros:
            pass
        elif not isinstance(stmt, (ast.Assign, ast.Expr)) or self.depth:
            self.zeros.clear()  # (a loop or a branch: not followed)
        else:
            call = stmt.value
            spared = call.args[0] if isinstance(call, ast.Call) and \
                isinstance(call.func, ast.Name) and call.func.id == "scatter_add" and \
                len(call.args) == 3 and isinstance(call.args[1], ast.Constant) and \
                type(call.args[1].value) is int and call.args[1].value >= 0 else None
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node is not spared:
                    self.zeros.pop(node.id, None)
        if isinstance(stmt, ast.Assign) and not self.depth and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call) and \
                getattr(stmt.value.func, "id", None) == "zeros_bar" and \
                self.direct(stmt.value) is not None:
            self.zeros[stmt.targets[0].id] = set()

    def text(self, node):
        return ast.unparse(node)

    def span(self, node):
        return (self.offsets[node.lineno] + node.col_offset,
                self.offsets[node.end_lineno] + node.end_col_offset)

    def replace_node(self, node, text):
        self.edits.append((*self.span(node), text.encode()))

    def rewrite_expr(self, node):
        """Rewrite the helper calls inside ``node`` whose answer the kinds decide (the
        outermost first: a rewritten call's arguments are kept as they are)."""
        text = self.direct(node) if isinstance(node, ast.Call) else None
        if text is not None:
            self.replace_node(node, text)
            return
        if not self.depth and isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call)):
            self.operations.append((node, (self.kind(node.left), self.kind(node.right))
                                    if isinstance(node, ast.BinOp) else
                                    tuple(self.kind(a) for a in node.args)
                                    if isinstance(node, ast.Call) else None))
        if isinstance(node, ast.BinOp) and isinstance(node.op, _CONSTANT_OPS):
            for constant, other in ((node.left, node.right), (node.right, node.left)):
                kind = self.kind(other)
                if isinstance(constant, ast.Constant) and type(constant.value) is float and \
                        isinstance(kind, Kind) and kind.array and kind.char == "d":
                    self.replace_node(constant, constant_name(constant.value))
        for child in ast.iter_child_nodes(node):
            self.rewrite_expr(child)

    def direct(self, call):
        """The direct expression for a helper call, or None to keep it."""
        helper = call.func.id if isinstance(call.func, ast.Name) else None
        if helper is None or call.keywords:
            return None
        args = [self.kind(a) for a in call.args]
        texts = [self.text(a) for a in call.args]
        if helper in PRODUCT_HELPERS and len(args) == 3:
            a, b = args[1], args[2]
            if product(a, b) is not None:
                template = PRODUCT_BARS[PRODUCT_HELPERS[helper]][(a.ndim, b.ndim)]
                return template.format(g=_paren(call.args[0]), a=_paren(call.args[1]),
                                       b=_paren(call.args[2]))
        if helper == "unbroadcast" and len(args) == 2 and all(
                isinstance(k, Kind) and not k.array for k in args):
            return texts[0]
        if helper == "zeros_bar" and len(args) == 1 and isinstance(args[0], Kind) and \
                args[0].array and args[0].char == "d":
            return f"np.zeros({_paren(call.args[0])}.shape)"
        if helper == "as_gradient" and len(args) == 2 and self.as_is(*args):
            return texts[0]
        return None

    def as_is(self, g, x):
        """True if ``as_gradient(g, x)`` is ``g``: an array of ours for an array of the same
        dtype, or a number for a Python number."""
        if not (isinstance(g, Kind) and isinstance(x, Kind)):
            return False
        if x.array:
            return g.fresh and g.array and g.char == x.char == "d"
        return x.python and not g.array

    def rewrite_statement(self, stmt):
        call = stmt.value
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            return self.rewrite_expr(call)
        args = [self.kind(a) for a in call.args]
        if call.func.id == "check_scalar" and args and isinstance(args[0], Kind) and \
                not args[0].array and not self.alone:  # a number is a scalar: the lines go
            self.edits.append((self.offsets[stmt.lineno], self.offsets[stmt.end_lineno + 1],
                               b""))
        elif call.func.id == "scatter_add" and len(call.args) == 3 and not call.keywords and \
                isinstance(args[0], Kind) and args[0].array and int_index(call.args[1]):
            written = self.zeros.get(getattr(call.args[0], "id", None))
            index = call.args[1]
            first = written is not None and isinstance(index, ast.Constant) and \
                index.value not in written  # (a constant >= 0: -1 may be 2 too)
            if first:
                written.add(index.value)
            self.replace_node(stmt, f"{self.text(call.args[0])}[{self.text(index)}] "
                                    f"{'=' if first else '+='} {self.text(call.args[2])}")
        else:
            self.rewrite_expr(call)



def _paren(node):
    text = ast.unparse(node)
    return text if isinstance(node, (ast.Name, ast.Constant, ast.Attribute, ast.Call,
                                     ast.Subscript)) else f"({text})"


def function_span(source, name):
    """``(start, end)`` of the text of top-level function ``name`` in a generated module
    (from its ``def`` to the next line at column 0), or None."""
    match = re.search(rf"^def {re.escape(name)}\(", source, re.M)
    if match is None:
        return None
    body = source.find("\n", match.end()) + 1
    end = re.compile(r"^\S", re.M).search(source, body)
    return match.start(), len(source) if end is None else end.start()


def _frees(function, arrays, offsets):
    """Edits that free each array bound only by the function's straight-line code (once, or
    again: ``Z_bar = Z_bar + ...``) after the statement of its last use (``del v1, v2``):
    the generated function, like f, would otherwise hold every value of its forward sweep
    until it returns."""
    straight, other = set(), set()
    for stmt in function.body:
        (straight if isinstance(stmt, (ast.Assign, ast.AugAssign)) else other).update(
            n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and
            not isinstance(n.ctx, ast.Load))
    last = {}
    for i, stmt in enumerate(function.body):
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and n.id in arrays and n.id not in other:
                last[n.id] = i
    edits = []
    for i, stmt in enumerate(function.body):
        names = sorted(n for n, k in last.items() if k == i)
        if names and not isinstance(stmt, ast.Return):
            at = offsets[stmt.end_lineno + 1]
            edits.append((at, at, f"{' ' * stmt.col_offset}del {', '.join(names)}\n".encode()))
    return edits


# the helpers' arguments they read only the shape and dtype of (for an array); the adjoint
# of a product's operand (matmul_bar_a(g, a, b)) reads only that operand's rank and shape
SHAPE_READS = {"unbroadcast": 1, "unreduce": 1, "zeros_bar": 0, "unindex": 1,
               "element_count": 0,
               **{helper: 1 if side == "a" else 2 for helper, side in PRODUCT_HELPERS.items()}}
STAND_IN = "{name} = np.ndarray({name}.shape, {name}.dtype, _zero_bytes, 0, {strides})" \
           "  # only its shape is read from here\n"


def _shape_read(node, parents):
    """Is the name ``node`` an argument a helper reads only the shape and dtype of?"""
    call = parents.get(node)
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return False
    position = SHAPE_READS.get(call.func.id)
    return position is not None and position < len(call.args) and call.args[position] is node


def _stand_ins(function, arrays, ranks, offsets):
    """Edits that, after the last statement reading an array's values, bind its name to a
    stand-in of its shape and dtype (a read-only array of zeros with no data of its own:
    strides 0) where later statements read only its shape (``unbroadcast(g, t0)``), so the
    array itself is freed there, not after the backward sweep's last shape read."""
    parents = {child: node for node in ast.walk(function)
               for child in ast.iter_child_nodes(node)}
    stores = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and
                     not isinstance(n.ctx, ast.Load))
    values, shapes, bound = {}, {}, {}
    for i, stmt in enumerate(function.body):
        for n in ast.walk(stmt):
            if not isinstance(n, ast.Name) or n.id not in arrays or stores[n.id] != 1:
                continue
            if not isinstance(n.ctx, ast.Load):
                bound[n.id] = values[n.id] = i
            elif _shape_read(n, parents):
                shapes[n.id] = i
            else:
                values[n.id] = i
    edits = []
    for name, last in shapes.items():
        value = values.get(name)
        if value is None or value >= last or name not in bound or \
                isinstance(function.body[value], ast.Return):
            continue
        stmt = function.body[value]
        at = offsets[stmt.end_lineno + 1]
        strides = "(0,)" if ranks[name] == 1 else f"({', '.join(['0'] * ranks[name])})"
        edits.append((at, at, (" " * stmt.col_offset + STAND_IN.format(
            name=name, strides=strides)).encode()))
    return edits


_EXACT_OPS = (ast.Add, ast.Sub, ast.Mult)  # a Python float's result is NumPy's, bit for bit


class _PythonFloats:
    """Which NumPy float64 scalar adjoints (``v_bar = out * out * v5``) may be Python floats
    (``float(...)``): a Python float times a Python float costs a fifth of a NumPy scalar
    times a Python float. Only where every use is exact: an operand of ``+``, ``-``, ``*`` or
    unary ``-`` beside float64 or int64 values (never ``/`` nor ``**``, which raise for
    Python floats where NumPy gives inf or nan), whose result is bound once in the
    straight-line code to a name used so in turn, or returned (when no parameter is a NumPy
    scalar, whose gradient stays one). The values are NumPy's; only the warnings NumPy gives
    on overflow are not given."""

    def __init__(self, function, env, params):
        self.function, self.env = function, env
        self.parents = {child: node for node in ast.walk(function)
                        for child in ast.iter_child_nodes(node)}
        self.stores = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and
                              not isinstance(n.ctx, ast.Load))
        self.loads = {}
        for n in ast.walk(function):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                self.loads.setdefault(n.id, []).append(n)
        self.top = {id(s) for s in function.body}
        self.returned = all(isinstance(env.get(p), Kind) and (env[p].array or env[p].python)
                            for p in params)
        self.safe = {}

    def edits(self, span):
        edits = []
        for stmt in self.function.body:
            name = self.candidate(stmt)
            if name is not None and self.profits(name) and self.exact(name):
                start, end = span(stmt.value)
                edits += [(start, start, b"float("), (end, end, b")")]
        return edits

    def candidate(self, stmt):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and
                isinstance(stmt.targets[0], ast.Name)):
            return None
        name = stmt.targets[0].id
        return name if name.endswith("_bar") and self.stores[name] == 1 and \
            self.env.get(name) == Kind(0, "d") else None

    def profits(self, name):
        """A use beside a Python number (the slow mixed case)."""
        for use in self.loads.get(name, ()):
            op = self.parents.get(use)
            if isinstance(op, ast.BinOp) and isinstance(op.op, _EXACT_OPS):
                other = self.kind(op.right if op.left is use else op.left)
                if isinstance(other, Kind) and other.python:
                    return True
        return False

    def kind(self, node):
        """The kind of an operand made of names bound at most once and constants."""
        if isinstance(node, ast.Constant):
            if type(node.value) is float or type(node.value) is int and \
                    abs(node.value) < 2 ** 53:
                return Kind(0, "d" if type(node.value) is float else "l", python=True)
            return None
        if isinstance(node, ast.Name) and self.stores[node.id] <= 1:
            kind = self.env.get(node.id)
            if isinstance(kind, Kind) and (kind.char == "d" or kind.array or not kind.python):
                return kind  # (a Python int may be too large for a float)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.kind(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _EXACT_OPS):
            a, b = self.kind(node.left), self.kind(node.right)
            return a and b and Kind(max(a.ndim, b.ndim), "d" if "d" in a.char + b.char else "l",
                                    python=a.python and b.python)
        return None

    def exact(self, name):
        if name not in self.safe:
            self.safe[name] = False  # (a cycle is not exact)
            self.safe[name] = all(self.exact_use(use) for use in self.loads.get(name, ()))
        return self.safe[name]

    def exact_use(self, node):
        parent = self.parents.get(node)
        while isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub) or \
                isinstance(parent, ast.BinOp) and isinstance(parent.op, _EXACT_OPS) and \
                self.kind(parent.right if parent.left is node else parent.left) is not None:
            node, parent = parent, self.parents.get(parent)
        if isinstance(parent, ast.Tuple) and isinstance(self.parents.get(parent), ast.Return):
            parent = self.parents[parent]
        if isinstance(parent, ast.Return):
            return self.returned and id(parent) in self.top
        if isinstance(parent, ast.Assign) and id(parent) in self.top and \
                len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            target = parent.targets[0].id
            return self.stores[target] == 1 and self.exact(target)
        return False


def specialise_function(text, kinds):
    """The text of one generated function (``def ...``) specialised for its parameters'
    ``kinds`` (a list, None where unknown), or None if nothing changes."""
    function = ast.parse(text).body[0]
    data = text.encode()  # (ast's columns count bytes)
    offsets, total = {}, 0
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        offsets[number] = total
        total += len(line)
    offsets[len(offsets) + 1] = total
    params = [a.arg for a in function.args.args]
    specialiser = Specialiser(function, dict(zip(params, kinds)), offsets)
    for _ in range(3):  # until what the lists are given is known
        lists = dict(specialiser.lists)
        specialiser.env = dict(zip(params, kinds))
        specialiser.block(function.body, rewrite=False)
        if specialiser.lists == lists:
            break
    else:
        return None
    specialiser.env = dict(zip(params, kinds))
    specialiser.operations = []
    specialiser.block(function.body, rewrite=True)
    specialiser.edits = in_place_edits(function, specialiser.operations, specialiser.env,
                                       _shape_read, specialiser.span, data, specialiser.edits)
    arrays = specialiser.arrays - set(params)
    specialiser.edits += _frees(function, arrays, offsets)
    specialiser.edits += _stand_ins(function, arrays, specialiser.ranks, offsets)
    specialiser.edits += [(*specialiser.span(node), text.encode()) for node, text in
                          tape_stand_ins(function, specialiser.lists, _shape_read)]
    specialiser.edits += _PythonFloats(function, specialiser.env, params).edits(specialiser.span)
    if not specialiser.edits:
        return None
    for start, end, new in sorted(specialiser.edits, reverse=True):
        data = data[:start] + new + data[end:]
    return data.decode()
