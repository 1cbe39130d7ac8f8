"""The backward sweep of lists used as stacks (``t = []``, ``t.append``, ``t.pop``).

A list with an active slot has a list of adjoints ``t_bar``, made where the
backward sweep of the block making ``t`` starts; each list statement is mirrored on
it in reverse order (the adjoint of ``v = t.pop()`` pushes ``v_bar``, of
``t.append(v)`` pops into ``v_bar``). Reverse over reverse meets the first sweep's own
statements on a ``t_bar``: ``pop_bar`` (its adjoint pushes only if it popped) and
``add_contents_bar`` (:func:`s2sad.support.add_contents_bar_bar`), each given the list's
length before it by the lowering. A mixin of :class:`s2sad.reverse.sweep._Reverse`: it
reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from .. import analysis
from ..emit import assign, call, name
from ..ir import Var
from ..structural import (LIST_ADD_CONTENTS, LIST_CLEAR, LIST_NEW, LIST_POP, LIST_SNAPSHOT,
                          ListStatement)
from .shared import _copy


class _Lists:
    """Lists used as stacks (see the module's docstring)."""

    # -- lists -----------------------------------------------------------------------
    def list_effects(self, block):
        """True if ``block`` (nested regions included) changes or reads a list with a t_bar."""
        return any(isinstance(stmt, ListStatement) and stmt.args and
                   stmt.list.name in self.slots for stmt in analysis.walk(block))

    def popped_bars(self, stmt, slots):
        """What the mirror of ``a1, ..., am = t.pop()`` pushes onto ``t_bar``: the popped
        values' adjoints (zeros in a slot a push reads, None in one none reads)."""
        targets, bars = stmt.targets, []
        for k, v in enumerate(targets):
            if (len(targets), k) not in slots:
                bars.append(None)
                continue
            g = self.adjoints.read(v.name)
            bars.append(_copy(g) if g is not None else call("zeros_bar", [name(v.name)]))
        if all(b is None for b in bars):
            return _nothing()
        if len(bars) == 1:
            return bars[0]
        return gast.Tuple(elts=[b or _nothing() for b in bars], ctx=gast.Load())

    def pushed_back(self, stmt, push):
        """The mirror of a pop, ``push`` (a call): as it is, or for ``pop_bar(t, like, n)``
        only if it popped, if ``t`` held an element (``n = len(t)`` before it); else it made
        zeros, whose adjoint goes nowhere."""
        push = gast.Expr(value=push)
        if len(stmt.args) < 3:
            return [push]
        return [gast.If(test=self.emitter.operand(stmt.args[2]), body=[push], orelse=[])]

    def popped_back(self, stmt):
        """The active values of ``t.append(...)`` whose adjoints come back off ``t_bar``."""
        values, slots = stmt.args[1:], self.slots.get(stmt.args[0].name, ())
        return [v.name for k, v in enumerate(values)
                if (len(values), k) in slots and self.is_active(v)]

    def backward_list_op(self, stmt):
        """The mirror of a statement on a list, on its list of adjoints ``t_bar``."""
        kind = stmt.kind
        if kind == LIST_NEW or stmt.list.name not in self.slots:
            return []
        t = stmt.list.name
        slots, t_bar = self.slots[t], self.adjoints.adjoint_name(t)

        def method(attr, args=()):
            return call(gast.Attribute(value=name(t_bar), attr=attr, ctx=gast.Load()), args)

        if kind == LIST_CLEAR:
            return [gast.Expr(value=method("clear"))]
        if kind == LIST_SNAPSHOT:
            g = self.adjoints.read(stmt.target.name)
            return [] if g is None else \
                [gast.Expr(value=call("add_contents_bar", [name(t_bar), _copy(g)]))]
        if kind == LIST_POP:
            return self.pushed_back(stmt, method("append", [self.popped_bars(stmt, slots)]))
        if kind == LIST_ADD_CONTENTS:  # reverse over reverse: add_contents_bar's own adjoint
            contents, kept = stmt.args[1], self.emitter.operand(stmt.args[2])
            adjoint = call("add_contents_bar_bar", [name(t_bar), self.emitter.operand(contents),
                                                    kept])
            if not (isinstance(contents, Var) and self.is_active(contents)):
                return [gast.Expr(value=adjoint)]  # (t_bar loses the elements it made)
            return self.adjoints.add(contents.name, adjoint)
        # t.append(...): pop the values' adjoints back (zeros if the pushed value was never
        # popped: see support.pop_bar)
        values, live = stmt.args[1:], self.popped_back(stmt)
        like = [name(v.name) if isinstance(v, Var) and v.name in live else _nothing()
                for v in values]
        if not live:
            return [gast.Expr(value=call("pop_bar", [name(t_bar), _nothing()]))]
        if len(values) == 1:
            return self.adjoints.add(values[0].name, call("pop_bar", [name(t_bar), like[0]]))
        temps = [analysis.unique_name(f"{self.adjoints.adjoint_name(v.name)}_popped", self._taken)
                 if isinstance(v, Var) and v.name in live else "_" for v in values]
        out = [assign(gast.Tuple(elts=[name(n, store=True) for n in temps], ctx=gast.Store()),
                      call("pop_bar", [name(t_bar), gast.Tuple(elts=like, ctx=gast.Load())]))]
        for v, temp in zip(values, temps):
            if temp != "_":
                out += self.adjoints.add(v.name, name(temp))
        return out


def _nothing():
    return gast.Constant(value=None, kind=None)
