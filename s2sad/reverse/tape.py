"""The tape: what the forward sweep pushes in loops, and what is recomputed instead.

:meth:`_Tape.fill_pops` decides, for each block inside a loop, which values the
backward sweep reads that must be stored per trip (pushed onto ``tape`` and popped
back) and which cheap inactive index arithmetic is recomputed after the pop, with
everything it depends on that is not available there (:meth:`_Tape.recomputable`).
A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

from .. import analysis
from ..astutil import walk
from ..emit import assign, name
from ..errors import InternalError
from ..ir import Assign, Const, For, Var, While, walk_blocks
from .slots import _Slot, _pop


class _Tape:
    """The tape (see the module's docstring)."""

    def fill_pops(self, reads, backward):
        """Decide what each block in a loop pushes; write the matching pops.

        A value the backward sweep reads is popped or recomputed at the start of
        its block's backward code (the slot). Recomputation is a dependency
        closure: cheap inactive index arithmetic (``i - 1``, ``k % n``,
        comparisons of such values) is recomputed after the pop together with
        every value of the block it depends on, and only from values available
        unchanged at that point (:meth:`recomputable`); otherwise it is stored.
        Blocks are decided enclosing ones first, so an inner block knows what
        its enclosing blocks restored. Returns the pushes, and the names the
        recomputations read (the forward sweep must keep them).

        The forward sweep pushes at the end of each block what its slot pops, so
        every path pairs its pushes and pops as long as the backward sweep takes
        the forward trip's path (its ``if`` conditions restored like any other
        value read) and keeps every slot that pops (checked here).
        """
        pushes, recompute_reads = {}, set()
        if not self.pops:  # no block inside a loop: nothing to push (no walk of the sweep)
            return pushes, recompute_reads
        inside_loops = self.names_inside_loops()
        kept = {id(node.statements) for stmt in backward for node in walk(stmt)
                if isinstance(node, _Slot)}
        for site in self.pops:
            recompute_reads |= self.fill_site(site, reads, inside_loops, kept, pushes)
        return pushes, recompute_reads

    def fill_site(self, site, reads, inside_loops, kept, pushes):
        """Fill one block's slot (see :meth:`fill_pops`): its pops (recorded in ``pushes``),
        the carried values restored from the next trip's, and the recomputations; returns
        the names the recomputations read."""
        block, extra, slot = site.block, site.extra, site.slot
        defined = list(dict.fromkeys(extra + analysis.block_defs(block, self.counters)))
        site.defined = set(defined)

        def available(var, site=site):
            """Is ``var`` (not the block's own) unchanged at the slot, as the forward
            trip saw it?"""
            outer = site.parent
            while outer is not None:  # the nearest enclosing block defining it decides
                if var in outer.defined:
                    return var in outer.restored
                outer = outer.parent
            if var in inside_loops:  # a loop's value: only a header binds it again
                return var in site.headers
            return True  # computed outside every loop: one value, the last one

        saved = [n for n in defined if n in reads]
        cheap = self.recomputable(block, extra, site.defined, set(saved), available)
        wanted = _closure([n for n in saved if n in cheap], cheap)
        again = [stmt for stmt in block if any(stmt is cheap[n] for n in wanted)]
        saved = [n for n in saved if n not in wanted]
        restored = set(saved) | wanted
        # a trip's updated value is the next trip's carried value: restore it from
        # there instead of storing it twice
        for phi, out in site.carry_pairs:
            if phi in saved and out in saved:
                saved.remove(out)
                slot.append(assign(out, name(phi)))
        if saved:
            if id(slot) not in kept:  # its pushes would never be popped
                raise InternalError(f"the backward sweep of {self.fn.name} dropped the "
                                    f"block that pops {', '.join(saved)}", self.fn.loc)
            pushes[id(block)] = saved
            slot.append(_pop(saved, self.tape))
        recompute_reads = set()
        for stmt in again:
            slot.append(self.emitter.statement(stmt))
            recompute_reads |= {op.name for op in stmt.operands() if isinstance(op, Var)}
        site.restored = restored
        return recompute_reads

    def recomputable(self, block, extra, defined, saved, available):
        """``{name: statement}`` of the block's cheap inactive values the backward sweep can
        recompute after the pop: from constants, what the pop restores, other such
        values of the block, and values from outside the block that are ``available``
        unchanged there. Nothing that may share memory with an array written in
        place qualifies (its contents at the pop are not those the trip saw)."""
        out = {}
        for stmt in block:
            if not (isinstance(stmt, Assign) and len(stmt.targets) == 1 and
                    stmt.prim.cheap and not stmt.kwargs and
                    stmt.target.name not in self.active and stmt.target.name not in extra):
                continue
            if all(isinstance(op, Const) or isinstance(op, Var) and (
                    op.name in out or op.name in saved if op.name in defined
                    else available(op.name)) and
                    not self.in_written_memory(op.name) for op in stmt.operands()):
                out[stmt.target.name] = stmt
        return out

    def names_inside_loops(self):
        """Names a loop (re)defines on each trip: its body's and condition's values and
        its index (a loop's carried value after the loop is not one of them)."""
        out = set()
        for stmt in walk_blocks(self.fn.body):
            if isinstance(stmt, For):
                out |= analysis.defined_names(stmt.body) | {stmt.target.name}
            elif isinstance(stmt, While):
                out |= analysis.defined_names(stmt.body) | \
                    analysis.defined_names(stmt.cond_block)
        return out


def _closure(names, cheap):
    """``names`` and every value of ``cheap`` (``{name: its statement}``) they need: what a
    recomputation after the pop computes again."""
    wanted, frontier = set(), list(names)
    while frontier:
        var = frontier.pop()
        if var in wanted:
            continue
        wanted.add(var)
        frontier += [op.name for op in cheap[var].operands()
                     if isinstance(op, Var) and op.name in cheap]
    return wanted
