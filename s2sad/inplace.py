"""Element-wise operations computed in place in a temporary the specialised function owns.

In a specialised gradient (:mod:`s2sad.rewrites`), ``t3 = 0.5 * t2`` where ``t2`` is read
no more becomes ``t3 = np.multiply(_f64_0p5, t2, out=t2)`` (``np.maximum(0.0, t2)``, a
ufunc of two operands, ``np.maximum(0.0, t2, out=t2)``): the result takes the dead
temporary's memory instead of a fresh array (a page fault per 4 KiB for large arrays, and
one more array alive at once). Only in the function's straight-line code, and only for a
temporary it owns: a name bound once, by an element-wise operation of float64 arrays (a
fresh array nobody else holds), every read of which is an operand of an operation that
keeps no reference to it (``+``, ``*``, a comparison, a NumPy element-wise function, a
reduction, a product or a product's adjoint) or a shape read (``unbroadcast(g, t0)``,
``matmul_bar_a(g, t0, b)``), the operation reading its values last (``t * t`` too: both
operands). A chain follows its first temporary: an operation of an operand computed in
``t`` is computed in ``t`` too (``g * (1 - H * H)`` in ``H``, no array made).

The result must have the temporary's shape: it has beside a number, or beside a value
known to broadcast to it (:meth:`InPlace.fits`: ``unreduce(g, t)``, ``np.exp(t)``, a
reduction of ``t`` with ``keepdims=True``, the adjoint of ``t`` in a product, element-wise
operations of such values); beside another array it is written in place only where the
shapes say so when the code runs (``out=t if t.shape == u.shape else None``, or
``t.shape[1:] == b.shape`` beside a bias of a lower rank: rank does not tell a broadcast
axis). Values are the same: the ufunc is the same, only where it writes changes. Layer 2,
above :mod:`s2sad.kinds` (which reads the rule tables).
"""

import ast
from collections import Counter

import numpy as np

from .kinds import (PRODUCT_HELPERS, Kind, float_reduction, np_name, numpy_rule,
                    unary_elementwise)

UFUNCS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_KEEPS_NOTHING = (ast.BinOp, ast.UnaryOp, ast.Compare)


def _unary_ufunc(func):
    """True if ``func`` is ``np.<name>`` of a ufunc of one operand that maps element by
    element (its stanza: :func:`~s2sad.kinds.unary_elementwise`): it takes ``out=``."""
    name = np_name(func)
    return name is not None and isinstance(getattr(np, name, None), np.ufunc) and \
        unary_elementwise(numpy_rule(name))

def _binary_ufunc(func):
    """True if ``func`` is ``np.<name>`` of a ufunc of two operands that maps element by
    element to a float64 result of float64 operands (``np.maximum``, ``np.arctan2``): it
    takes ``out=``."""
    name = np_name(func)
    prim = numpy_rule(name) if name is not None else None
    return prim is not None and getattr(getattr(np, name, None), "nin", 0) == 2 and \
        prim.elementwise and len(prim.params) == 2 and not prim.view and \
        prim.result_dtype in (None, "promotes") and prim.emit[0] == "call"


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
        self.into = {}  # operation -> the temporary it writes into, whatever the shapes
        self.fitting = {}
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
        return all(self.transient(node) for _, node in self.reads.get(name, ()))

    def transient(self, node):
        """Is the read ``node`` an operand of an operation that keeps no reference to it: an
        operator, a NumPy element-wise function, a reduction, a product or a product's
        adjoint (``matmul_bar_b(g, a, b)``: fresh arrays), or a shape read?"""
        parent = self.parents.get(node)
        if isinstance(parent, _KEEPS_NOTHING) or self.shape_read(node, self.parents):
            return True
        if not (isinstance(parent, ast.Call) and node in parent.args):
            return False
        prim = numpy_rule(np_name(parent.func)) if np_name(parent.func) else None
        return _unary_ufunc(parent.func) or _binary_ufunc(parent.func) or \
            float_reduction(prim) or \
            prim is not None and prim.contraction in ("matmul", "dot") or \
            getattr(parent.func, "id", None) in PRODUCT_HELPERS

    def last_value_read(self, name, node, operands):
        """Are ``operands`` (of the operation ``node``) the last reads of ``name``'s values:
        its other reads in ``node``'s statement and later ones read its shape only?"""
        at = self.top.get(node)
        return all(n in operands or self.shape_read(n, self.parents)
                   for i, n in self.reads.get(name, ()) if i >= at)

    def targets(self, node, operands):
        """The temporaries an operation of ``operands`` may write into, with the operand
        each stands for: one whose values are read last there (``t * t`` too), or the one an
        operand was written into."""
        for k, operand in enumerate(operands):
            if operand in self.into:
                yield k, self.into[operand]
            elif isinstance(operand, ast.Name) and self.owned(operand.id) and \
                    self.last_value_read(operand.id, node, operands):
                yield k, operand.id

    def fits(self, node, name):
        """Is ``node``'s value known to broadcast to the shape of ``name`` (an array bound
        once), so that an element-wise operation of the two has ``name``'s shape? A number;
        ``name``; an element-wise operation of such values; a name bound once to one; what a
        helper gives in the shape of its argument ``x`` (``unreduce(g, x)``, ``unbroadcast(g,
        x)``, the adjoint of ``x`` in a product: adjoints fit their values) or a reduction
        with ``keepdims=True`` of such a value."""
        key = (node, name)
        if key not in self.fitting:
            self.fitting[key] = False  # (while it is decided)
            self.fitting[key] = self._fits(node, name)
        return self.fitting[key]

    def _fits(self, node, name):
        if isinstance(node, ast.Constant):
            return type(node.value) in (int, float)
        if isinstance(node, ast.Name):
            kind = self.env.get(node.id)
            if node.id == name or self.stores[node.id] <= 1 and isinstance(kind, Kind) and \
                    not kind.array:
                return True
            return self.stores[node.id] == 1 and node.id in self.defined and \
                self.fits(self.defined[node.id], name)
        if isinstance(node, ast.BinOp) and type(node.op) in UFUNCS or \
                isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.fits(node.left, name) and self.fits(node.right, name)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.fits(node.operand, name)
        if not isinstance(node, ast.Call) or not node.args:
            return False
        helper = node.func.id if isinstance(node.func, ast.Name) else None
        if helper in ("unreduce", "unbroadcast") and len(node.args) >= 2:
            return self.fits(node.args[1], name)
        if helper in PRODUCT_HELPERS and len(node.args) == 3:
            return self.fits(node.args[1 if PRODUCT_HELPERS[helper] == "a" else 2], name)
        if _unary_ufunc(node.func) and len(node.args) == 1:
            return self.fits(node.args[0], name)
        keepdims = [k.value for k in node.keywords if k.arg == "keepdims"]
        return float_reduction(numpy_rule(np_name(node.func))) and \
            isinstance(keepdims[0] if keepdims else None, ast.Constant) and \
            keepdims[0].value is True and self.fits(node.args[0], name)

    def edit(self, node, kinds, text):
        """The text of ``node`` computed in place, or None; ``kinds``: its operands' kinds;
        ``text(node)``: an operand's text."""
        if isinstance(node, ast.BinOp):
            return self.edit_binary(node, (node.left, node.right), UFUNCS.get(type(node.op)),
                                    kinds, text)
        if isinstance(node, ast.Call) and _binary_ufunc(node.func) and len(node.args) == 2 \
                and not node.keywords and kinds is not None:
            return self.edit_binary(node, tuple(node.args), np_name(node.func), kinds, text)
        operand = node.operand if isinstance(node, ast.UnaryOp) else \
            node.args[0] if _unary_ufunc(node.func) and len(node.args) == 1 and \
            not node.keywords else None
        if operand is None or isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub):
            return None
        for _, name in self.targets(node, (operand,)):
            self.into[node] = name
            function = "negative" if isinstance(node, ast.UnaryOp) else np_name(node.func)
            return f"np.{function}({text(operand)}, out={name})"
        return None

    def edit_binary(self, node, operands, ufunc, kinds, text):
        """``t * u`` or ``np.maximum(t, u)`` (the ufunc ``ufunc``, None: none) as
        ``np.multiply(t, u, out=t)`` (see :meth:`edit`), or None."""
        for k, name in self.targets(node, operands) if ufunc is not None else ():
            out = self.out(name, kinds[1 - k], operands[1 - k])
            if out is not None:
                if out == name:
                    self.into[node] = name
                return f"np.{ufunc}({text(operands[0])}, {text(operands[1])}, out={out})"
        return None

    def out(self, name, other, node):
        """What to write ``name OP other`` into: ``name`` beside a number or a value that
        fits its shape (:meth:`fits`); beside another array, ``name`` if its shape (its
        trailing axes, for an array of a lower rank) is the other's; else None."""
        kind = self.env.get(name)
        if not isinstance(other, Kind) or other.char not in "dl":
            return None
        if not other.array or self.fits(node, name):
            return name
        if other.ndim == kind.ndim and isinstance(node, ast.Name):
            return f"{name} if {name}.shape == {node.id}.shape else None"
        if other.ndim < kind.ndim and isinstance(node, ast.Name):  # (a bias: its trailing axes)
            return f"{name} if {name}.shape[{kind.ndim - other.ndim}:] == {node.id}.shape " \
                   f"else None"
        return None


def in_place_edits(function, operations, env, shape_read, span, data, edits):
    """``edits`` with each operation of ``operations`` that can be computed in place
    rewritten so (:class:`InPlace`); ``span(node)``: its ``(start, end)`` in the text
    ``data`` (bytes); an operation overlapping another edit that it does not contain is
    left as it is."""
    finder = InPlace(function, env, shape_read)
    for node, kinds in operations[::-1]:  # (an operation's operands first: chains)
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
