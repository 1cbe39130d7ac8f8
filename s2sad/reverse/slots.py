"""Placeholders of the forward sweep that are filled once the backward sweep is known.

The forward sweep is emitted before it is known what the backward sweep reads, so
each block inside a loop ends with a :class:`_Slot` for its pushes onto the tape
(its :class:`_PopSite` records the block, filled by :meth:`_Tape.fill_pops
<s2sad.reverse.tape._Tape.fill_pops>`), and a write into an array is followed by
a :class:`_Restore` that decides, once the whole sweep is built, whether the value
it destroyed must be put back. :func:`_expand_slots` replaces the placeholders by
their statements.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from .. import analysis
from ..emit import assign, call, name


class _PopSite:
    """A block inside a loop whose backward code starts by restoring the values it reads
    (:meth:`_Reverse.fill_pops`): its enclosing such block (``parent``), the For targets
    the backward loops' headers bind again around it (``headers``), and, once decided,
    the names its slot restores."""

    def __init__(self, block, extra, slot, carry_pairs, parent, headers):
        self.block, self.extra, self.slot, self.carry_pairs = block, extra, slot, carry_pairs
        self.parent, self.headers = parent, headers
        self.defined, self.restored = set(), set()


class _Slot(gast.stmt):
    """A placeholder for a block's pop, filled once the pushes are known."""

    _fields = ()

    def __init__(self, statements):
        super().__init__()
        self.statements = statements


def _remap(by_original_id, origin):
    """Re-key a dict from ids of original IR objects to ids of their pruned copies."""
    return {new: by_original_id[old] for new, old in origin.items() if old in by_original_id}


def _pop(names, tape):
    value = call(gast.Attribute(value=name(tape), attr="pop", ctx=gast.Load()), [])
    if len(names) == 1:
        return assign(names[0], value)
    return assign(gast.Tuple(elts=[name(n, store=True) for n in names], ctx=gast.Store()), value)


class _Restore(_Slot):
    """A placeholder for a write's restore, decided once the whole sweep is known."""

    def __init__(self, decide):
        super().__init__([])
        self.decide = decide


def _expand_slots(stmts, kind=_Slot):
    """Replace the placeholders of ``kind`` by their statements (a restore's decided now)."""
    if kind is _Restore:
        return _expand_restores(stmts, set())
    return _expand(stmts, kind, lambda slot: slot.statements)


def _holds_restore(stmts):
    return any(isinstance(s, _Restore) or any(
        _holds_restore(getattr(s, f)) for f in ("body", "orelse")
        if isinstance(getattr(s, f, None), list)) for s in stmts)


def _expand_restores(stmts, after):
    """Decide each restore from the names the sweep reads after it (``after``: once the
    statements are done; a loop's body is also followed by the loop's next trip)."""
    if not _holds_restore(stmts):
        return stmts
    following, reads = [], set(after)
    for stmt in reversed(stmts):  # placeholders are opaque: restores' own reads don't count
        following.append(set(reads))
        reads |= analysis.names_read([stmt])
    following.reverse()
    out = []
    for stmt, later in zip(stmts, following):
        if isinstance(stmt, _Restore):
            out += stmt.decide(later)
            continue
        inner_after = later | (analysis.names_read([stmt]) if isinstance(
            stmt, (gast.For, gast.While)) else set())
        for field in ("body", "orelse"):
            if hasattr(stmt, field) and isinstance(getattr(stmt, field), list):
                setattr(stmt, field, _expand_restores(getattr(stmt, field), inner_after))
        out.append(stmt)
    return out


def _expand(stmts, kind, statements_of):
    out = []
    for stmt in stmts:
        if isinstance(stmt, kind):
            out += statements_of(stmt)
            continue
        for field in ("body", "orelse"):
            if hasattr(stmt, field) and isinstance(getattr(stmt, field), list):
                setattr(stmt, field, _expand(getattr(stmt, field), kind, statements_of))
        out.append(stmt)
    return out
