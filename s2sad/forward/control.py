"""Forward mode's blocks and structured control flow: each primal statement followed by its
tangent statement; an ``if`` merges tangents as it merges values; a loop carries the
tangents of its carried values (copied where the loop writes into them, so a write never
changes a tangent another name still holds). A mixin of
:class:`s2sad.forward.transform._Forward`.

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import gast

from ..common import writes_into
from ..emit import assign, call, carried_entry, carried_updates, comment, loop_statement, name
from ..ir import Assign, For, If, Raise, Return, Var, While


class _Control:
    """Blocks, ``if`` and loops (see the module docstring)."""

    def note(self, loc, out):
        if loc.line != self._last_line:
            out.append(comment(f"line {loc.line}: {loc.text.strip()}", self.comments))
            self._last_line = loc.line

    def block(self, stmts):
        """Primal and tangent statements of an IR block, in program order."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, Assign):
                self.note(stmt.loc, out)
                out += self.forward_assign(stmt)
            elif isinstance(stmt, Raise):
                self.note(stmt.loc, out)
                out.append(gast.Raise(exc=self.emitter.operand(stmt.exc), cause=None))
            elif isinstance(stmt, If):
                self.note(stmt.loc, out)
                out += self.forward_if(stmt)
            elif isinstance(stmt, (For, While)):
                self.note(stmt.loc, out)
                out += self.forward_loop(stmt)
            elif not isinstance(stmt, Return):
                raise AssertionError(f"unknown statement {stmt!r}")
        return out

    def forward_if(self, stmt):
        """The ``if`` with each branch's tangents, merged like the values they belong to."""
        before = dict(self.tangents)
        branches = []
        for index, block in ((1, stmt.then_block), (2, stmt.else_block)):
            self.tangents = dict(before)
            code = self.block(block)
            code += [assign(merge[0].name, self.emitter.operand(merge[index]))
                     for merge in stmt.merges]
            branches.append((code, self.tangents))
        self.tangents = before
        merged = [(var, a, b) for var, a, b in stmt.merges if var.name in self.active and
                  (isinstance(a, Var) and a.name in branches[0][1] or
                   isinstance(b, Var) and b.name in branches[1][1])]
        for var, a, b in merged:
            target = self.tangent_name(var.name)
            for (code, tangents), source in zip(branches, (a, b)):
                value = name(tangents[source.name]) if isinstance(source, Var) and \
                    source.name in tangents else self.zeros_of(var)
                code.append(assign(target, value))
            self.tangents[var.name] = target
        then_code, else_code = branches[0][0], branches[1][0]
        return [gast.If(test=self.emitter.operand(stmt.cond), body=then_code or [gast.Pass()],
                        orelse=else_code)]

    def forward_loop(self, stmt):
        """The loop with the tangents of its carried values carried along."""
        out = carried_entry(stmt, self.emitter)
        carried = [(v, init, o) for v, init, o in stmt.carried if v.name in self.active]
        written = {v.name for v, _, _ in carried if writes_into(stmt.body, v.name)}
        for var, init, _ in carried:  # a carried tangent is a variable for the whole loop
            target = self.tangent_name(var.name)
            value = self.tangent(init)
            if self.in_place and value is not None and var.name in written and \
                    value.id not in self.owned:
                value = call("saved", [value])  # a copy the loop's writes update in place
            out.append(assign(target, value if value is not None else self.zeros_of(var)))
            self.tangents[var.name] = target
            self.owned.discard(value.id if isinstance(value, gast.Name) else None)
            if var.name in written and self.in_place:
                self.owned.add(target)
        cond_code = self.block(stmt.cond_block) if isinstance(stmt, While) else []
        body = self.block(stmt.body)
        updates = carried_updates(stmt, self.emitter)
        for var, _, o in carried:
            if not (isinstance(o, Var) and o == var):
                value = self.tangent(o)
                if value is None:
                    value = self.zeros_of(var)
                elif self.in_place and var.name in written and value.id not in self.owned:
                    value = call("saved", [value])  # the next trip writes into it again
                updates.append((self.tangents[var.name], value))
        return out + loop_statement(stmt, self.emitter, body, updates, cond_code)
