"""Lowering of expressions into three-address statements.

:class:`_Expressions` flattens a nested expression into temporaries ``v1, v2,
...`` (:meth:`lower_expr <_Expressions.lower_expr>`), one primitive per statement,
the last one writing the user's name when there is one; ``and``/``or`` and ``a if
c else b`` become :class:`~s2sad.ir.If` regions; literal arithmetic on numbers is
folded; subscripts become :class:`~s2sad.ir.Index` operands. Calls and names are
:mod:`s2sad.lower.calls`'s. A mixin of :class:`s2sad.lower.lowerer._Lowerer`.

Layer 3 (front end), inside :mod:`s2sad.lower`.
"""

import gast
import numpy as np

from .. import rules
from ..ir import Const, If, Index, Slice, Var
from ..rules.core import rule_name
from ..rules.operators import dict_literal
from .primitives import AttributeRead
from .shared import (_ATTRIBUTES, _BINOPS, _COMPARE, _HINTS, _RETURNED, _UNARY, _UNRESOLVED,
                     _describe, _fold)


_CONCATENATORS = (np.r_, np.c_)  # the index expressions lowered to the joins they are
_MAX_REPEAT = 32  # t * n of a tuple is n - 1 joins for a constant n up to this


class _Expressions:
    """Expressions as three-address statements (see the module's docstring)."""

    def lower_expr(self, node, name=None, names=None):
        """Lower ``node`` and return its operand.

        With ``name`` the last primitive assigns that user name; with ``names``
        it unpacks into several.
        """
        kind = type(node).__name__
        if isinstance(node, gast.Constant):
            return self.constant_result(Const(node.value), name, names, node)
        if isinstance(node, gast.Name):
            return self.constant_result(self.name_operand(node), name, names, node)
        if isinstance(node, gast.Dict):  # {"W": W, "b": b}: a value (inline checked its keys)
            operands = [self.lower_expr(v) for v in node.values]
            keys = tuple(k.value for k in node.keys)
            return self.apply(dict_literal(keys), operands, {}, node, name, names)
        if isinstance(node, gast.Attribute):
            return self.lower_attribute(node, name, names)
        if isinstance(node, gast.BinOp):
            return self.lower_binop(node, name, names)
        if isinstance(node, gast.UnaryOp):
            return self.lower_unary(node, name, names)
        if isinstance(node, gast.Compare):
            return self.lower_comparison(node, name, names)
        if isinstance(node, gast.Call):
            return self.lower_call(node, name, names)
        if isinstance(node, gast.IfExp):
            return self.lower_conditional(node, node.test, node.body, node.orelse, name, names)
        if isinstance(node, gast.BoolOp):
            return self.lower_boolean(node, name, names)
        if isinstance(node, gast.Subscript):
            base = self.lower_expr(node.value)
            if isinstance(base, Const) and any(base.value is c for c in _CONCATENATORS):
                return self.lower_concatenator(node, base.value is np.c_, name, names)
            if isinstance(base, Const) and base.value is np.s_:
                value = self.lower_index_value(node, name, names)
                if value is not None:
                    return value
            index = self.lower_index(node.slice)
            base = self.snapshot_list(base, node)  # hs[-1] of a stack: of its elements now
            return self.apply(rules.OPERATORS["getitem"], [base, index], {}, node, name, names)
        if isinstance(node, (gast.Tuple, gast.List)):
            return self.lower_sequence(node, name, names)
        raise self.error(node, f"s2sad does not support {_describe(node)} in a differentiated "
                               f"function yet", _HINTS.get(kind, "Rewrite the expression without it."))

    def lower_attribute(self, node, name, names):
        """``np.pi``, ``model.lam`` (a constant or a global read), ``x.T`` (an array's
        attribute) or ``self.W`` (an :class:`AttributeRead`)."""
        resolved = self.try_resolve(node)
        if resolved is not _UNRESOLVED:
            return self.constant_result(self.global_operand(node, resolved), name, names, node)
        base = self.lower_expr(node.value)
        prim = rules.OPERATORS[node.attr] if node.attr in _ATTRIBUTES else \
            AttributeRead(node.attr)  # self.W, cfg.lam: a value, never differentiated
        return self.apply(prim, [base], {}, node, name, names)

    def lower_binop(self, node, name, names):
        """``a op b``, folded when both are plain numeric literals."""
        left, right = self.lower_expr(node.left), self.lower_expr(node.right)
        folded = _fold(type(node.op), left, right)
        if folded is not None:
            return self.constant_result(folded, name, names, node)
        op = _BINOPS[type(node.op)]
        if self.joins(op, left, right):
            return self.lower_join(op, left, right, node, name, names)
        return self.apply(rules.OPERATORS[op], [left, right], {}, node, name, names)

    def sequence_kind(self, operand, depth=16):
        """``"tuple"`` or ``"list"`` if ``operand`` is surely one (a literal, a constant, two
        joined), else None: an argument, what a call returned or a loop carried may be an
        array, for which ``+`` is NumPy's sum."""
        if isinstance(operand, Const):
            return type(operand.value).__name__ if type(operand.value) in (tuple, list) else None
        stmt = self.defining.get(operand.name) if isinstance(operand, Var) else None
        if stmt is None or len(stmt.targets) != 1 or depth == 0:
            return None
        made = {rules.OPERATORS["tuple"]: "tuple", rules.OPERATORS["list"]: "list"}
        if stmt.prim in made:
            return made[stmt.prim]
        passed = stmt.prim in (rules.OPERATORS["join"], rules.OPERATORS["copy"])
        return self.sequence_kind(stmt.args[0], depth - 1) if passed else None

    def sequence_length(self, operand, depth=16):
        """How many elements ``operand``, a tuple or list :meth:`sequence_kind` knows, holds
        (a literal's, a constant's, the sum of two joined), or None."""
        if isinstance(operand, Const):
            return len(operand.value) if type(operand.value) in (tuple, list) else None
        stmt = self.defining.get(operand.name) if isinstance(operand, Var) else None
        if stmt is None or len(stmt.targets) != 1 or depth == 0 or \
                self.sequence_kind(operand) is None:
            return None
        if stmt.prim in (rules.OPERATORS["tuple"], rules.OPERATORS["list"]):
            return len(stmt.args)
        lengths = [self.sequence_length(a, depth - 1) for a in stmt.args]
        return None if None in lengths else sum(lengths)

    def lower_sum_of_sequence(self, sequence, start, node, name, names):
        """Python's ``sum(t[, start])`` of a tuple or list of a known length: ``(t[0] + t[1])
        + ...`` (``start + t[0] + ...`` with a start), one addition per element; or None."""
        count = self.sequence_length(sequence)
        if not count:
            return None
        items = [self.apply(rules.OPERATORS["getitem"], [sequence, Index((Const(k),), False)],
                            {}, node, None, None) for k in range(count)]
        total = start if start is not None else items.pop(0) if count >= 2 else Const(0)
        for k, item in enumerate(items):
            last = k == len(items) - 1
            total = self.apply(rules.OPERATORS["add"], [total, item], {}, node,
                               name if last else None, names if last else None)
        return total

    def joins(self, op, left, right):
        """True if ``left op right`` joins tuples (lists) rather than adds or multiplies arrays:
        ``p + q`` of two known to be tuples (two lists), ``t * n`` of one and a constant int.
        Where s2sad cannot know, it is NumPy's operator, whose adjoint checks at run time that
        the shapes agree (a labelled error where they do not, never a wrong value)."""
        if op == "add":
            kind = self.sequence_kind(left)
            return kind is not None and kind == self.sequence_kind(right)
        if op == "mul":
            return any(self.sequence_kind(a) is not None and isinstance(n, Const) and
                       type(n.value) is int and n.value <= _MAX_REPEAT
                       for a, n in ((left, right), (right, left)))
        return False

    def lower_join(self, op, left, right, node, name, names):
        """``p + q`` as ``join(p, q)``; ``t * n`` as ``n - 1`` joins of ``t`` (``()`` for n < 1)."""
        join = rules.OPERATORS["join"]
        if all(isinstance(o, Const) and o.name is None and o.text is None for o in (left, right)):
            value = left.value + right.value if op == "add" else left.value * right.value
            return self.constant_result(Const(value), name, names, node)  # ([0.0] * 3)
        if op == "add":
            return self.apply(join, [left, right], {}, node, name, names)
        seq, count = (left, right.value) if self.sequence_kind(left) else (right, left.value)
        if count < 1:
            empty = () if self.sequence_kind(seq) == "tuple" else []
            return self.constant_result(Const(empty), name, names, node)
        joined = seq
        for k in range(1, count):
            last = k == count - 1
            joined = self.apply(join, [joined, seq], {}, node, name if last else None,
                                names if last else None)
        return self.constant_result(joined, name, names, node) if count == 1 else joined

    def lower_unary(self, node, name, names):
        """``-a``, ``+a``, ``not a``, ``~a`` (a negated literal is a literal)."""
        operand = self.lower_expr(node.operand)
        if isinstance(operand, Const) and isinstance(node.op, (gast.USub, gast.UAdd)) \
                and isinstance(operand.value, (int, float)) and operand.name is None:
            value = -operand.value if isinstance(node.op, gast.USub) else operand.value
            return self.constant_result(Const(value), name, names, node)
        return self.apply(rules.OPERATORS[_UNARY[type(node.op)]], [operand], {}, node,
                          name, names)

    def lower_sequence(self, node, name, names):
        """A tuple or list display: a constant if all its items are literals."""
        elts = [self.lower_expr(e) for e in node.elts]
        if all(isinstance(e, Const) for e in elts):
            values = [e.value for e in elts]
            value = tuple(values) if isinstance(node, gast.Tuple) else values
            if all(e.name is None and e.text is None for e in elts):
                return self.constant_result(Const(value), name, names, node)
        prim = rules.OPERATORS["tuple" if isinstance(node, gast.Tuple) else "list"]
        return self.apply(prim, elts, {}, node, name, names)

    def lower_boolean(self, node, name, names):
        """``a and b`` is ``b if a else a``, ``a or b`` is ``a if a else b``: b runs only if needed."""
        if names is not None:
            raise self.error(node, "s2sad cannot unpack the value of and/or")
        result = self.condition(node.values[0])
        for i, value in enumerate(node.values[1:]):
            saved_block, self.block = self.block, []
            other = self.condition(value)
            block, self.block = self.block, saved_block
            last = i == len(node.values) - 2
            (var,) = self.targets_for(name if last else None, None)
            if isinstance(node.op, gast.And):
                stmt = If(result, block, [], [(var, other, result)], self.p.loc(node))
            else:
                stmt = If(result, [], block, [(var, result, other)], self.p.loc(node))
            self.block.append(stmt)
            result = var
        return result

    def lower_comparison(self, node, name, names):
        """``a < b``; a chain ``a < b <= c`` is ``(a < b) and (b <= c)`` with ``b`` evaluated
        once and ``c`` only if ``a < b`` holds, as Python evaluates it."""
        if names is not None and len(node.ops) > 1:
            raise self.error(node, "s2sad cannot unpack the value of a chained comparison")
        left, right = self.lower_expr(node.left), self.lower_expr(node.comparators[0])
        last = len(node.ops) == 1
        result = self.apply(rules.OPERATORS[_COMPARE[type(node.ops[0])]], [left, right], {}, node,
                            name if last else None, names if last else None)
        for i, (op, comparator) in enumerate(zip(node.ops[1:], node.comparators[1:])):
            saved_block, self.block = self.block, []
            operand = self.lower_expr(comparator)
            other = self.apply(rules.OPERATORS[_COMPARE[type(op)]], [right, operand], {}, node,
                               None, None)
            block, self.block = self.block, saved_block
            (var,) = self.targets_for(name if i == len(node.ops) - 2 else None, None)
            self.block.append(If(result, block, [], [(var, other, result)], self.p.loc(node)))
            result, right = var, operand
        return result

    def lower_conditional(self, node, test, body, orelse, name, names):
        """``body if test else orelse`` as an If region with one merged value."""
        cond = self.condition(test)
        if isinstance(cond, Const) and not isinstance(cond.value, np.ndarray):
            return self.lower_expr(body if cond.value else orelse, name, names)
        saved_block = self.block
        results = []
        blocks = []
        for branch in (body, orelse):
            self.block = []
            results.append(self.lower_expr(branch))
            blocks.append(self.block)
            if results[-1] in self.list_vars:
                raise self.list_error(branch, results[-1], "be chosen by a conditional expression")
        self.block = saved_block
        (var,) = self.targets_for(name, names) if names is None else (None,)
        if var is None:
            raise self.error(node, "s2sad cannot unpack a conditional expression")
        self.block.append(If(cond, blocks[0], blocks[1], [(var, results[0], results[1])],
                             self.p.loc(node)))
        return var

    def constant_result(self, operand, name, names, node):
        """An expression that needed no primitive; give it a statement only if it is named."""
        if name is None and names is None:
            return operand
        if name is _RETURNED:
            return operand
        return self.apply(rules.OPERATORS["copy"], [operand], {}, node, name, names)

    def apply(self, prim, args, kwargs, node, name, names):
        if names is not None and rule_name(prim) is not None and prim is not rules.OPERATORS["copy"] and (
                prim.elementwise or prim.reduction or prim.contraction or
                prim.array_result is True):  # a, b = np.exp(p): one array, then its rows
            whole = self.apply(prim, args, kwargs, node, None, None)
            return self.apply(rules.OPERATORS["copy"], [whole], {}, node, None, names)
        targets = self.targets_for(name, names)
        self.emit(targets, prim, args, kwargs, node)
        return targets[0] if len(targets) == 1 else None

    def pack(self, operands, node):
        if all(isinstance(o, Const) for o in operands):
            return Const(tuple(o.value for o in operands))
        return self.apply(rules.OPERATORS["tuple"], operands, {}, node, None, None)

    def lower_concatenator(self, node, columns, name, names):
        """``np.r_[a, 0:3, b]`` is ``np.concatenate([np.atleast_1d(a), np.arange(0, 3),
        np.atleast_1d(b)])``; ``np.c_[a, b]`` puts each piece of fewer than two axes in a
        column (``np.column_stack([a])``) and joins them on the last axis. A slice is the
        ``np.arange`` (``np.linspace`` for a complex step, ``0:1:5j``) it stands for. String
        directives (``np.r_['0,2', a]``) are refused."""
        spelled = "np.c_" if columns else "np.r_"
        pieces = []
        for part in node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]:
            if isinstance(part, gast.Constant) and isinstance(part.value, str):
                raise self.error(part, f"s2sad lowers {spelled}[a, b, ...] of arrays, numbers "
                                       f"and slices, not its string directive {part.value!r}",
                                 "Write the np.concatenate (or np.stack) call it stands for.")
            piece = self.lower_slice_piece(part) if isinstance(part, gast.Slice) else \
                self.apply(self.numpy_rule(np.atleast_1d), [self.lower_expr(part)], {}, part,
                           None, None)
            if columns:
                listed = self.apply(rules.OPERATORS["list"], [piece], {}, part, None, None)
                piece = self.apply(self.numpy_rule(np.column_stack), [listed], {}, part, None,
                                   None)
            pieces.append(piece)
        listed = self.apply(rules.OPERATORS["list"], pieces, {}, node, None, None)
        return self.apply(self.numpy_rule(np.concatenate), [listed],
                          {"axis": Const(-1 if columns else 0)}, node, name, names)

    def lower_slice_piece(self, part):
        """The ``np.arange`` (or ``np.linspace``) a slice inside ``np.r_``/``np.c_`` stands for."""
        start, stop, step = (None if b is None else self.lower_expr(b)
                             for b in (part.lower, part.upper, part.step))
        if stop is None:
            raise self.error(part, "a slice inside np.r_ or np.c_ needs its end (0:n)")
        start = Const(0) if start is None else start
        if isinstance(step, Const) and isinstance(step.value, complex):
            return self.apply(self.numpy_rule(np.linspace), [start, stop],
                              {"num": Const(int(abs(step.value)))}, part, None, None)
        return self.apply(self.numpy_rule(np.arange), [start, stop, step or Const(1)], {},
                          part, None, None)

    @staticmethod
    def numpy_rule(function):
        return rules.lookup(function)

    def lower_index_value(self, node, name, names):
        """``np.s_[:, i]`` with a part known only when the code runs (the gradient code's index
        of a write, ``scatter_add(g, np.s_[:, i], v)``, differentiated again): the index as
        the value it is, a tuple of its parts (``slice(...)`` for a slice); None where every
        part is a constant (NumPy's own value, folded)."""
        index = self.lower_index(node.slice)
        if not any(isinstance(op, Var) for op in index.operands()):
            return None
        items = [self.apply(rules.lookup(slice), [Const(None) if b is None else b
                                                  for b in (p.lower, p.upper, p.step)],
                            {}, node, None, None) if isinstance(p, Slice) else p
                 for p in index.parts]
        if index.is_tuple:
            return self.apply(rules.OPERATORS["tuple"], items, {}, node, name, names)
        return self.constant_result(items[0], name, names, node)

    def lower_index(self, node):
        parts = node.elts if isinstance(node, gast.Tuple) else [node]
        lowered = []
        for part in parts:
            if isinstance(part, gast.Slice):
                bounds = [None if b is None else self.lower_expr(b)
                          for b in (part.lower, part.upper, part.step)]
                lowered.append(Slice(*bounds))
            else:
                lowered.append(self.lower_expr(part))
        return Index(tuple(lowered), isinstance(node, gast.Tuple))
