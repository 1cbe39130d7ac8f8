"""The backward sweep of blocks, ``if`` and loops.

:meth:`_Control.backward_block` walks a block's statements in reverse and
dispatches each to its rule (assignments, list statements, writes, calls);
an ``if`` is replayed on the same condition with the adjoints merged
(:meth:`_Control.backward_if`); a loop is replayed in reverse, each trip first
popping what its forward block pushed, its carried values' adjoints accumulated
across trips (:meth:`_Control.backward_loop`). A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from .. import analysis
from ..common import writes_into
from ..emit import assign, call, comment, name
from ..errors import NoDerivativeError
from ..ir import Assign, For, If, Var, While
from ..structural import (LIST_APPEND, LIST_NEW, ListStatement, WriteItem, defined_in,
                          is_list_statement)
from .deferral import _terms_sum
from .shared import _has_code, _same, _writes
from .slots import _PopSite, _Slot


class _Control:
    """Blocks, ifs and loops (see the module's docstring)."""

    # -- blocks ----------------------------------------------------------------------
    def backward_block(self, block, defined_extra=()):
        """Adjoint statements of a block, in reverse order, led by its pop if in a loop."""
        out, last_line = [], None
        slot = []
        if self.loop_depth:
            site = _PopSite(block, list(defined_extra), slot, self._carry_pairs,
                            self._sites[-1] if self._sites else None, set(self._headers))
            self.pops.append(site)
            self._sites.append(site)
            self._carry_pairs = []
        for stmt in block:  # each list made here gets its list of adjoints, for the block
            if is_list_statement(stmt, LIST_NEW) and stmt.target.name in self.slots:
                out.append(assign(self.adjoints.adjoint_name(stmt.target.name),
                                  gast.List(elts=[], ctx=gast.Load())))
        for index in reversed(range(len(block))):
            stmt = block[index]
            # the next one processed (a mask the forward sweep keeps has no backward code)
            self.consumer = next((s for s in map(block.__getitem__, range(index - 1, -1, -1))
                                  if not (type(s) is Assign and len(s.targets) == 1 and
                                          s.targets[0].name in self.mask_names)), None)
            if isinstance(stmt, ListStatement):
                statements = self.backward_list_op(stmt)
            elif isinstance(stmt, WriteItem):
                statements = self.backward_setitem(stmt)
            elif isinstance(stmt, Assign):
                if not any(t.name in self.active for t in stmt.targets):
                    continue
                statements = self.backward_assign(stmt)
            elif isinstance(stmt, If):
                statements = self.backward_if(stmt)
            elif isinstance(stmt, (For, While)):
                statements = self.backward_loop(stmt)
            else:  # Return, Raise: nothing flows back
                continue
            if statements:
                if stmt.loc.statement_line != last_line:
                    out.append(comment(f"line {stmt.loc.statement_line}: {stmt.loc.summary}",
                                       self.comments))
                    last_line = stmt.loc.statement_line
                out += statements
        if self.loop_depth:
            self._sites.pop()
            return [_Slot(slot)] + out
        return out

    def backward_if(self, stmt):
        active_merges = [m for m in stmt.merges if m[0].name in self.active
                         and self.adjoints.read(m[0].name) is not None]
        inner = self.touched_inside([stmt])
        if not active_merges and not self.list_effects([stmt]) and not _writes([stmt]):
            return []
        prelude = []
        for var in sorted(inner):
            if self.adjoints.read(var) is not None:
                prelude += self.adjoints.materialize(var)
        before = self.adjoints
        branches = []
        for index, block in ((1, stmt.then_block), (2, stmt.else_block)):
            self.adjoints = before.copy()
            code = []
            for merge in active_merges:
                var, source = merge[0].name, merge[index]
                if isinstance(source, Var) and source.name in self.active:
                    code += self.adjoints.add(source.name, self.adjoints.read(var))
            for merge in active_merges:
                self.adjoints.forget(merge[0].name)
            block_code = self.backward_block(block)
            if block_code and isinstance(block_code[0], _Slot):
                code = block_code[:1] + code + block_code[1:]
            else:
                code += block_code
            branches.append((code, self.adjoints))
        self.adjoints = before.copy()
        for merge in active_merges:
            self.adjoints.forget(merge[0].name)
        # join: an adjoint either branch changed must be the same variable after the if
        for var in sorted(inner):
            states = [adj.read(var) for _, adj in branches]
            if all(_same(s, states[0]) for s in states) and var not in defined_in(stmt):
                if states[0] is not None:
                    self.adjoints.value[var] = states[0]
                    if not all(var in adj.owned for _, adj in branches):
                        self.adjoints.owned.discard(var)
                continue
            if var in defined_in(stmt):
                continue
            for code, adj in branches:
                code += adj.materialize(var)
            self.adjoints.value[var] = name(self.adjoints.adjoint_name(var))
            self.adjoints.owned.discard(var)
        then_code, else_code = branches[0][0], branches[1][0]
        test = self.emitter.operand(stmt.cond)
        if not _has_code(then_code) and not _has_code(else_code):
            return prelude
        if not _has_code(then_code):
            return prelude + [gast.If(test=gast.UnaryOp(op=gast.Not(), operand=test),
                                      body=else_code, orelse=[])]
        return prelude + [gast.If(test=test, body=then_code,
                                  orelse=else_code if _has_code(else_code) else [])]

    def backward_loop(self, stmt):
        carried = [c for c in stmt.carried if c[0].name in self.active]
        inner = self.touched_inside(stmt.body)
        outer = sorted(v for v in inner if v not in defined_in(stmt))
        if isinstance(stmt, While) and self.list_effects(stmt.cond_block):
            raise NoDerivativeError("s2sad cannot differentiate through a list changed in the "
                                    "condition of a while loop", stmt.loc,
                                    "Pop or push in the loop's body instead.")
        if not carried and not outer and not self.list_effects(stmt.body) and \
                not _writes(stmt.body):
            return []
        # an array the loop writes into keeps its adjoint owned from trip to trip, so each
        # trip zeroes what its write took in place (no copy of the whole adjoint per trip)
        written = {phi.name for phi, _, _ in carried if writes_into(stmt.body, phi.name)}
        prelude = self.loop_prelude(carried, outer, written)
        owned_before = {var for var in outer if var in self.adjoints.owned}
        deferred, terms_lists = self.deferred_terms(stmt, outer)
        prelude += terms_lists
        self.deferred.append(deferred)
        # one backward trip: the carry, then the body in reverse, then the carry's adjoint
        self.loop_depth += 1
        body = self.hand_over_carry(carried, written)
        slot, body_code, uses_counter = self.backward_trip(stmt, carried, written)
        self.loop_depth -= 1
        self.deferred.pop()
        if uses_counter:
            header = call("range", [name(self.counters[id(stmt)])])
            target = name("_", store=True)
        else:
            header = call("reversed", [self.emitter.operand(stmt.iterable)])
            target = name(stmt.target.name, store=True)
        loop = gast.For(target=target, iter=header, body=[slot] + body + body_code, orelse=[],
                        type_comment=None)
        return prelude + [loop] + self.after_loop(stmt, carried, outer, owned_before, deferred)

    def loop_prelude(self, carried, outer, written):
        """Before a loop's backward sweep: the adjoints it adds to (those of the values it
        reads from outside and of its carried values) made, the written ones owned."""
        prelude = []
        for var in outer:
            prelude += self.adjoints.materialize(var)
        for phi, _, _ in carried:
            prelude += self.adjoints.materialize(phi.name)
            if phi.name in written:
                prelude += self.own(phi.name)
        return prelude

    def deferred_terms(self, stmt, outer):
        """``({var: (terms list, side, product)}, statements making the lists)`` for the
        outer products of the loop that are deferred (see :meth:`deferrable`)."""
        deferred, statements = {}, []
        for var, (side, product) in sorted(self.deferrable(stmt, outer).items()):
            terms = analysis.unique_name(f"{self.adjoints.adjoint_name(var)}_terms", self._taken)
            deferred[var] = (terms, side, product)
            statements.append(assign(terms, gast.List(elts=[], ctx=gast.Load())))
        return deferred, statements

    def hand_over_carry(self, carried, written):
        """The start of one backward trip: each carried value's adjoint becomes that of the
        value the forward trip updated it to."""
        body = []
        for phi, _, out in carried:
            if isinstance(out, Var) and out.name in self.active and out.name != phi.name:
                body += self.adjoints.materialize(phi.name)
                body.append(assign(self.adjoints.adjoint_name(out.name),
                                   name(self.adjoints.adjoint_name(phi.name))))
                self.adjoints.value[out.name] = name(self.adjoints.adjoint_name(out.name))
                if phi.name in written:  # handed over: the phi's name is bound anew below
                    self.adjoints.owned.add(out.name)
                else:
                    self.adjoints.owned.discard(out.name)
            self.adjoints.forget(phi.name)
        return body

    def backward_trip(self, stmt, carried, written):
        """One backward trip of the loop's body: ``(its pop slot, its statements, whether
        the loop counts its trips)``, ending with the carried values' adjoints made."""
        extra = [phi.name for phi, _, _ in stmt.carried]
        uses_counter = isinstance(stmt, While) or stmt.exits
        if isinstance(stmt, For) and uses_counter:
            extra.append(stmt.target.name)
        if uses_counter:
            self.counters[id(stmt)] = analysis.unique_name("trips", self._taken)
        self._carry_pairs = [(phi.name, out.name) for phi, _, out in stmt.carried
                             if isinstance(out, Var) and out.name in
                             analysis.block_defs(stmt.body, self.counters)]
        headers = [] if uses_counter else [stmt.target.name]  # bound by reversed(...)
        self._headers += headers
        body_code = self.backward_block(stmt.body, defined_extra=extra)
        del self._headers[len(self._headers) - len(headers):]
        slot = body_code[0]
        body_code = body_code[1:]
        for phi, _, _ in carried:
            body_code += self.adjoints.materialize(phi.name)
            if phi.name in written:
                body_code += self.own(phi.name)
            self.adjoints.owned.discard(phi.name)
        return slot, body_code, uses_counter

    def after_loop(self, stmt, carried, outer, owned_before, deferred):
        """After a loop's backward sweep: the deferred products summed, the carried values'
        adjoints handed to their initial values, ownership as it was before the loop."""
        after = []
        for var, (terms, side, product) in deferred.items():
            owned = var in self.adjoints.owned
            after += self.adjoints.add(var, _terms_sum(terms, var, side, product))
            if not owned:
                self.adjoints.owned.discard(var)
        for phi, init, _ in carried:
            if isinstance(init, Var) and init.name in self.active:
                after += self.adjoints.add(init.name, name(self.adjoints.adjoint_name(phi.name)))
            self.adjoints.forget(phi.name)
        for var in defined_in(stmt):
            self.adjoints.forget(var)
        for var in outer:  # the loop may run zero times: ownership is what it was before
            if var not in owned_before:
                self.adjoints.owned.discard(var)
        return after

    def own(self, var):
        """Make the adjoint of ``var`` (a name by now) one the sweep owns: copy if needed (an
        array's, or a list's adjoints: copy_bar)."""
        if var in self.adjoints.owned:
            return []
        self.adjoints.owned.add(var)
        target = self.adjoints.adjoint_name(var)
        return [assign(target, call("copy_bar", [name(target)]))]

    def touched_inside(self, block):
        """Active variables that receive adjoint contributions from statements in ``block``."""
        out = set()
        for stmt in analysis.walk(block):
            if is_list_statement(stmt, LIST_APPEND):
                out.update(self.popped_back(stmt))
            elif isinstance(stmt, Assign) and any(t.name in self.active for t in stmt.targets):
                out.update(v.name for v in stmt.operands()
                           if isinstance(v, Var) and v.name in self.active)
            elif isinstance(stmt, If):
                for _, a, b in stmt.merges:
                    out.update(v.name for v in (a, b) if isinstance(v, Var) and v.name in self.active)
            elif isinstance(stmt, (For, While)):
                for phi, init, o in stmt.carried:
                    out.update(v.name for v in (phi, init, o)
                               if isinstance(v, Var) and v.name in self.active)
        return out
