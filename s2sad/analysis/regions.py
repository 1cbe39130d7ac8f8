"""Structured regions: definitions, and what the forward sweep needs (layer 4, inside
:mod:`s2sad.analysis`).

:func:`needed_names` is the fixed point of what the forward sweep must compute for
the values the backward sweep (or the tangents) read; :func:`prune` drops the rest.
Statements with effects (:func:`_impure`) are kept whatever reads them.
"""

from dataclasses import replace

from ..ir import Assign, For, If, Raise, Return, While, walk_blocks
from ..structural import LIST_EFFECTS, WriteItem, is_list_statement
from .activity import _vars

walk = walk_blocks


def block_defs(block, counters=None):
    """Variables a block defines at its own level (not inside its nested regions).

    A nested region's merged or carried values count (they are defined at this
    level once the region ends), and so do the trip counters of nested loops.
    """
    out = []
    for stmt in block:
        if isinstance(stmt, Assign):
            out += [t.name for t in stmt.targets]
        elif isinstance(stmt, If):
            out += [m[0].name for m in stmt.merges]
        elif isinstance(stmt, (For, While)):
            out += [c[0].name for c in stmt.carried]
            if counters and id(stmt) in counters:
                out.append(counters[id(stmt)])
    return out




def _impure(stmt):
    """Statements kept whatever reads their results: run-time checks, output, effects on
    lists, writes into arrays (a view of the array sees them), and calls of functions
    without rules (``CACHE.append(x)``: the derivative does what the function does)."""
    return isinstance(stmt, (Raise, WriteItem)) or is_list_statement(stmt, *LIST_EFFECTS) or (
        isinstance(stmt, Assign) and stmt.prim.effects)


def needed_names(body, reads, counters=None):
    """The variables the forward sweep must compute for ``reads`` (a fixed point).

    A loop whose trip counter (``counters``: id(loop) -> name) is read must run
    as it did, so everything deciding its trips is needed too.
    """
    needed = set(reads)
    loops = any(isinstance(stmt, (For, While)) for stmt in walk(body))
    while True:
        before = len(needed)
        _need_block(body, needed, counters or {})
        # (without a loop, one pass from the end is the fixed point: what a statement needs
        # is defined before it, and is visited after it)
        if not loops or len(needed) == before:
            return needed


def _need_block(block, needed, counters):
    """Grow ``needed``; return True if anything in the block must be kept."""
    kept_any = False
    for stmt in reversed(block):
        kept = False
        if isinstance(stmt, Assign):
            kept = _impure(stmt) or any(t.name in needed for t in stmt.targets)
            if kept:
                needed.update(_vars(stmt.operands()))
        elif isinstance(stmt, Raise):
            kept = True
            needed.update(_vars([stmt.exc]))
        elif isinstance(stmt, If):
            for var, a, b in stmt.merges:
                if var.name in needed:
                    needed.update(_vars([a, b]))
            inside = _need_block(stmt.then_block, needed, counters) | \
                _need_block(stmt.else_block, needed, counters)
            kept = inside or any(m[0].name in needed for m in stmt.merges)
            if kept:
                needed.update(_vars([stmt.cond]))
        elif isinstance(stmt, (For, While)):
            for var, init, out in stmt.carried:
                if var.name in needed:
                    needed.update(_vars([init, out]))
            inside = _need_block(stmt.body, needed, counters)
            kept = inside or any(c[0].name in needed for c in stmt.carried) or \
                counters.get(id(stmt)) in needed
            if kept:
                needed.update(_vars(stmt.exits))
                if isinstance(stmt, For):
                    needed.update(_vars([stmt.iterable]))
                else:
                    needed.update(_vars([stmt.cond]))
                    _need_block(stmt.cond_block, needed, counters)
        kept_any |= kept
    return kept_any


def prune(block, needed, origin=None, counters=None):
    """A copy of ``block`` without what ``needed`` does not need.

    Returns ``(block, origin)``; ``origin`` maps ids of new blocks and regions
    to ids of the originals, so facts keyed by the originals carry over.
    """
    origin = {} if origin is None else origin
    out = []
    for stmt in block:
        if isinstance(stmt, Assign):
            if _impure(stmt) or any(t.name in needed for t in stmt.targets):
                out.append(stmt)
        elif isinstance(stmt, (Raise, Return)):
            out.append(stmt)
        elif isinstance(stmt, If):
            then_block, _ = prune(stmt.then_block, needed, origin, counters)
            else_block, _ = prune(stmt.else_block, needed, origin, counters)
            merges = [m for m in stmt.merges if m[0].name in needed]
            if then_block or else_block or merges:
                new = replace(stmt, then_block=then_block, else_block=else_block, merges=merges)
                origin[id(then_block)] = id(stmt.then_block)
                origin[id(else_block)] = id(stmt.else_block)
                origin[id(new)] = id(stmt)
                out.append(new)
        elif isinstance(stmt, (For, While)):
            body, _ = prune(stmt.body, needed, origin, counters)
            carried = [c for c in stmt.carried if c[0].name in needed]
            if body or carried or (counters or {}).get(id(stmt)) in needed:
                fields = dict(body=body, carried=carried)
                if isinstance(stmt, While):
                    fields["cond_block"] = prune(stmt.cond_block, needed | _vars_set([stmt.cond]),
                                                 origin, counters)[0]
                new = replace(stmt, **fields)
                origin[id(body)] = id(stmt.body)
                origin[id(new)] = id(stmt)
                out.append(new)
    origin[id(out)] = id(block)
    return out, origin


def _vars_set(operands):
    return set(_vars(operands))
