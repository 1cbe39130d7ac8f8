"""Forward mode's writes: into arrays (``y_1 = setitem(y, index, v)``: ``setitem_dot``, or in
place on a tangent this function owns) and into lists used as stacks (the same statement on
the tangent list ``t_dot`` of a list with active slots: a push of tangents after each push,
a pop after each pop). A mixin of :class:`s2sad.forward.transform._Forward`.

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import gast

from ..emit import _copy, assign, call, name
from ..structural import LIST_ADD_CONTENTS, LIST_APPEND, LIST_CLEAR, LIST_NEW, LIST_SNAPSHOT


class _Writes:
    """Writes into arrays and lists (see the module docstring)."""

    def forward_setitem(self, stmt):
        """``y_1_dot = setitem_dot(y_dot, index, v_dot)``: the tangent of ``y[index] = v``."""
        array, index, value = stmt.array, stmt.index, stmt.value
        a_dot = self.tangent(array)
        v_dot = self.tangent(value) or gast.Constant(value=0.0, kind=None)
        target = self.tangent_name(stmt.target.name)
        self.tangents[stmt.target.name] = target
        if a_dot is not None and a_dot.id in self.owned:  # y_dot[index] = v_dot, in place
            self.owned.discard(a_dot.id)
            self.owned.add(target)
            item = gast.Subscript(value=_copy(a_dot), slice=self.emitter.index_subscript(index),
                                  ctx=gast.Store())
            return [assign(item, v_dot), assign(target, a_dot)]
        a_dot = a_dot or self.zeros(name(array.name))
        if self.in_place:
            self.owned.add(target)
        helper = "setitem_dots" if self.vector else "setitem_dot"
        return [assign(target, call(helper, [a_dot, self.emitter.operand(index), v_dot]))]

    def forward_list_op(self, stmt):
        """The same statement on the tangent list ``t_dot`` of a list with active slots."""
        kind, t = stmt.kind, stmt.list.name
        slots = self.slots.get(t)
        if not slots:
            return []
        t_dot = self.tangent_name(t)
        if kind == LIST_NEW:
            self.tangents[t] = t_dot
            return [assign(t_dot, gast.List(elts=[], ctx=gast.Load()))]

        def method(attr, args=()):
            return call(gast.Attribute(value=name(t_dot), attr=attr, ctx=gast.Load()), args)

        if kind == LIST_CLEAR:
            return [gast.Expr(value=method("clear"))]
        if kind == LIST_SNAPSHOT:
            if stmt.target.name not in self.active:
                return []
            self.tangents[stmt.target.name] = self.tangent_name(stmt.target.name)
            return [assign(self.tangent_name(stmt.target.name), call("tuple", [name(t_dot)]))]
        if kind == LIST_ADD_CONTENTS:  # linear in (t, g): the same on the tangents
            g_dot = self.tangent(stmt.args[1])
            return [] if g_dot is None else \
                [gast.Expr(value=call("add_contents_dots" if self.vector else "add_contents_bar",
                                      [name(t_dot), g_dot]))]
        if kind == LIST_APPEND:
            values, dots = stmt.args[1:], []
            for k, value in enumerate(values):
                if (len(values), k) not in slots:
                    dots.append(None)  # no pop reads this slot's tangent
                else:
                    dots.append(self.tangent(value) or self.zeros_of(value))
            if all(d is None for d in dots):
                pushed = _none()
            elif len(dots) == 1:
                pushed = dots[0]
            else:
                pushed = gast.Tuple(elts=[d or _none() for d in dots], ctx=gast.Load())
            return [gast.Expr(value=method("append", [pushed]))]
        # a pop: the popped tangents, for the targets that need them; pop_bar(t, like) gives
        # zeros like ``like`` from an empty list (pop_dots in vector mode: a zero batch)
        popped = method("pop") if len(stmt.args) == 1 else \
            call("pop_dots", [name(t_dot), self.emitter.operand(stmt.args[1]),
                              name(self.dot_params[0])]) if self.vector else \
            call("pop_bar", [name(t_dot), self.emitter.operand(stmt.args[1])])
        targets = stmt.targets
        live = [k for k, v in enumerate(targets) if (len(targets), k) in slots and
                v.name in self.active]
        if not live:
            return [gast.Expr(value=popped)]
        names_ = []
        for k, v in enumerate(targets):
            if k in live:
                self.tangents[v.name] = self.tangent_name(v.name)
            names_.append(self.tangent_name(v.name) if k in live else "_")
        if len(names_) == 1:
            return [assign(names_[0], popped)]
        return [assign(gast.Tuple(elts=[name(n, store=True) for n in names_], ctx=gast.Store()),
                       popped)]



def _none():
    return gast.Constant(value=None, kind=None)
