"""Element-wise operations computed in place in a temporary the specialised function owns.

In a specialised gradient (:mod:`s2sad.rewrites`), ``t3 = 0.5 * t2`` where ``t2`` is read
no more becomes ``t3 = np.multiply(_f64_0p5, t2, out=t2)``: the result takes the dead
temporary's memory instead of a fresh array (a page fault per 4 KiB for large arrays, and
one more array alive at once). Only in the function's straight-line code, and only for a
temporary it owns: a name bound once, by an element-wise operation of float64 arrays (a
fresh array nobody else holds), every read of which is an operand of an operation that
keeps no reference to it (``+``, ``*``, a comparison, a NumPy element-wise function) or a
shape read (``unbroadcast(g, t0)``), the operation being its last value read. The result
has the temporary's shape where the other operand is a number; beside an array of the
same rank it is written in place only when the shapes are equal (``out=t if t.shape ==
u.shape else None``: rank does not tell a broadcast axis). Values are the same: the
ufunc is the same, only where it writes changes. Layer 2, above :mod:`s2sad.kinds` (which reads the rule tables).
"""

import ast
from collections import Counter

import numpy as np

from .kinds import Kind, np_name, numpy_rule, unary_elementwise

UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_KEEPS_NOTHING = (ast.BinOp, ast.UnaryOp, ast.Compare)


def _unary_ufunc(func):
    """True if ``func`` is ``np.<name>`` of a ufunc of one operand that maps element by
    element (its stanza: :func:`~s2sad.kinds.unary_elementwise`): it takes ``out=``."""
    name = np_name(func)
    return name is not None and isinstance(getattr(np, name, None), np.ufunc) and \
        unary_elementwise(numpy_rule(name))

class InPlace:
    """The in-place edits of one function, from the operations :class:`Specialiser` met
    (``operations``: ``(node, kinds of its operands)`` in its straight-line code)."""

    def __init__(self, function, env, shape_read):
        self.function, self.env, self.shape_read = function, env, shape_read
        self.parents = {child: node for node in ast.walk(function)
                        for child in ast.iter_child_nodes(node)}
        self.stores = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and
                              not isinstance(n.ctx, ast.Load))
        self.top = {}  # node -> index of its top-level statement
        self.reads = {}  # name -> [(statement index, node)] of its value reads
        self.defined = {}
        for i, stmt in enumerate(function.body):
            for n in ast.walk(stmt):
                self.top[n] = i
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    self.reads.setdefault(n.id, []).append((i, n))
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name):
                self.defined[stmt.targets[0].id] = stmt.value

    def owned(self, name):
        """Is ``name`` a temporary the function owns (see the module docstring)?"""
        value, kind = self.defined.get(name), self.env.get(name)
        if self.stores[name] != 1 or value is None or not (
                isinstance(kind, Kind) and kind.array and kind.fresh and kind.char == "d"):
            return False
        if not (isinstance(value, (ast.BinOp, ast.UnaryOp)) or isinstance(value, ast.Call) and
                _unary_ufunc(value.func)):
            return False
        for _, node in self.reads.get(name, ()):
            parent = self.parents.get(node)
            if not (isinstance(parent, _KEEPS_NOTHING) or self.shape_read(node, self.parents) or
                    isinstance(parent, ast.Call) and _unary_ufunc(parent.func) and
                    node in parent.args):
                return False
        return True

    def last_value_read(self, name, node):
        """Is ``node`` the last read of ``name``'s values (later reads: shape reads only)?"""
        reads = self.reads.get(name, ())
        at = self.top.get(node)
        same = [n for i, n in reads if i == at]
        return same == [node] and all(self.shape_read(n, self.parents)
                                      for i, n in reads if i > at)

    def edit(self, node, kinds, text):
        """The text of ``node`` computed in place, or None; ``kinds``: its operands' kinds;
        ``text(node)``: an operand's text."""
        if isinstance(node, ast.BinOp):
            if type(node.op) not in UFUNCS:
                return None
            for k, (own, other) in enumerate(((node.left, node.right),
                                              (node.right, node.left))):
                if isinstance(own, ast.Name) and self.owned(own.id) and \
                        self.last_value_read(own.id, own):
                    out = self.out(own.id, kinds[1 - k], other)
                    if out is not None:
                        return f"np.{UFUNCS[type(node.op)]}({text(node.left)}, " \
                               f"{text(node.right)}, out={out})"
            return None
        operand = node.operand if isinstance(node, ast.UnaryOp) else \
            node.args[0] if _unary_ufunc(node.func) and len(node.args) == 1 and \
            not node.keywords else None
        if not (isinstance(operand, ast.Name) and self.owned(operand.id) and
                self.last_value_read(operand.id, operand)):
            return None
        if isinstance(node, ast.UnaryOp):
            return f"np.negative({operand.id}, out={operand.id})" \
                if isinstance(node.op, ast.USub) else None
        return f"np.{np_name(node.func)}({operand.id}, out={operand.id})"

    def out(self, name, other, node):
        """What to write ``name OP other`` into: ``name`` beside a number, ``name`` if the
        shapes are equal beside an array of its rank, else None (no in-place)."""
        kind = self.env.get(name)
        if not isinstance(other, Kind) or other.char not in "dl":
            return None
        if not other.array:
            return name
        if other.ndim == kind.ndim and isinstance(node, ast.Name):
            return f"{name} if {name}.shape == {node.id}.shape else None"
        return None


def in_place_edits(function, operations, env, shape_read, span, data, edits):
    """``edits`` with each operation of ``operations`` that can be computed in place
    rewritten so (:class:`InPlace`); ``span(node)``: its ``(start, end)`` in the text
    ``data`` (bytes); an operation overlapping another edit that it does not contain is
    left as it is."""
    finder = InPlace(function, env, shape_read)
    for node, kinds in operations:
        start, end = span(node)
        inner = [e for e in edits if start <= e[0] and e[1] <= end and e != (start, end, e[2])]
        if any(e[0] < end and e[1] > start and e not in inner or
               e[0] == e[1] and e[0] in (start, end) for e in edits):
            continue  # (another edit reaches beyond this operation)

        def text(operand):
            a, b = span(operand)
            piece = data[a:b]
            for e in sorted(e for e in inner if a <= e[0] and e[1] <= b)[::-1]:
                piece = piece[:e[0] - a] + e[2] + piece[e[1] - a:]
            return piece.decode()

        new = finder.edit(node, kinds, text)
        if new is not None:
            edits = [e for e in edits if e not in inner] + [(start, end, new.encode())]
    return edits
