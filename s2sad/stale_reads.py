"""Where a value changed in place is read afterwards: the scan :func:`s2sad.memory.check_memory`
runs from each in-place statement (a write ``y[i] = v``, an update ``x op= e``) over the rest
of the function: the rest of its block, the regions around it, and the later trips of the
loops it is in.

Layer 3 (front end), below :mod:`s2sad.memory`.
"""

from .ir import Assign, For, If, Index, Raise, Return, Var, While
from .structural import WriteItem, defined_in


def in_place_statements(block, path):
    """``(path, stmt)`` for each in-place statement. A path lists, from the function's
    body down, ``("at", block, index)`` (a statement's position) and ``("in", owner,
    role)`` (the region of ``owner`` it is in: ``"then"``, ``"else"``, ``"cond"``, ``"body"``)."""
    for i, stmt in enumerate(block):
        at = path + [("at", block, i)]
        writes = isinstance(stmt, WriteItem) or isinstance(stmt, Assign) and stmt.in_place
        if writes and stmt.args:
            yield at, stmt
        regions = []
        if isinstance(stmt, If):
            regions = [(stmt.then_block, "then"), (stmt.else_block, "else")]
        elif isinstance(stmt, For):
            regions = [(stmt.body, "body")]
        elif isinstance(stmt, While):
            regions = [(stmt.cond_block, "cond"), (stmt.body, "body")]
        for inner, role in regions:
            yield from in_place_statements(inner, at + [("in", stmt, role)])


def stale_read_after(path, stale):
    """The first read, after the statement at the end of ``path``, of a name in ``stale``.

    Returns ``(loc, var name, in_loop)`` or None; ``in_loop`` is the loop whose later
    trip (or whose rest of the trip) reads a name made before the loop, if that is the
    case. Definitions met on the way take their names out of ``stale``.
    """
    stale = set(stale)
    levels = list(path)
    innermost_loop = None
    for kind, *rest in reversed(levels):
        if kind == "in" and isinstance(rest[0], (For, While)):
            innermost_loop = rest[0]
            break
    before_loop = set(stale)
    if innermost_loop is not None:
        before_loop -= defined_in(innermost_loop)
    while levels:
        kind, a, b = levels.pop()
        if kind == "at":  # the rest of the block after position b
            hit = _scan(a[b + 1:], stale)
            if hit:
                return _tag(hit, innermost_loop, before_loop)
            continue
        owner, role = a, b
        if isinstance(owner, If):
            side = 1 if role == "then" else 2
            for merge in owner.merges:
                if isinstance(merge[side], Var) and merge[side].name in stale:
                    return _tag((owner.loc, merge[side].name), innermost_loop, before_loop)
            stale -= {m[0].name for m in owner.merges}
            continue
        if isinstance(owner, While) and role == "cond":  # the rest of this trip
            hit = _reads((owner.cond,), stale, owner.loc) or _scan(owner.body, stale)
            if hit:
                return _tag(hit, innermost_loop, before_loop)
        for var, _, out in owner.carried:  # read at the end of the trip
            if isinstance(out, Var) and out.name in stale:
                return _tag((owner.loc, out.name), innermost_loop, before_loop)
        hit = _reads(owner.exits, stale, owner.loc)
        if hit:
            return _tag(hit, innermost_loop, before_loop)
        # later trips: the carried values and the loop's index are new on each trip
        stale -= {c[0].name for c in owner.carried}
        if isinstance(owner, For):
            stale.discard(owner.target.name)
        later = set(stale)
        hit = _scan(owner.cond_block, later) or _reads((owner.cond,), later, owner.loc) \
            if isinstance(owner, While) else None
        hit = hit or _scan(owner.body, later)
        if hit:
            return _tag(hit, innermost_loop, before_loop)
        stale -= defined_in(owner)
        if owner is innermost_loop:
            innermost_loop = None
    return None


def _tag(hit, loop, before_loop):
    loc, var = hit
    return loc, var, loop if loop is not None and var in before_loop else None


def _reads(operands, stale, loc):
    for op in operands:
        if isinstance(op, Index):
            hit = _reads(op.operands(), stale, loc)
            if hit:
                return hit
        elif isinstance(op, Var) and op.name in stale:
            return loc, op.name
    return None


def _scan(block, stale):
    """The first read of a name in ``stale`` when ``block`` runs (its nested regions
    included, each path through them); definitions take names out of ``stale``."""
    for stmt in block:
        if isinstance(stmt, Assign):
            hit = _reads(stmt.operands(), stale, stmt.loc)
            if hit:
                return hit
            stale -= {t.name for t in stmt.targets}
        elif isinstance(stmt, (Return, Raise)):
            hit = _reads((stmt.value if isinstance(stmt, Return) else stmt.exc,), stale,
                         stmt.loc)
            if hit:
                return hit
        elif isinstance(stmt, If):
            hit = _reads((stmt.cond,), stale, stmt.loc)
            if hit:
                return hit
            for block_, side in ((stmt.then_block, 1), (stmt.else_block, 2)):
                branch = set(stale)
                hit = _scan(block_, branch) or _reads([m[side] for m in stmt.merges], branch,
                                                      stmt.loc)
                if hit:
                    return hit
            stale -= {m[0].name for m in stmt.merges}
        elif isinstance(stmt, (For, While)):
            entry = ([stmt.iterable] if isinstance(stmt, For) else []) + \
                [c[1] for c in stmt.carried]
            hit = _reads(entry, stale, stmt.loc)
            if hit:
                return hit
            stale -= {c[0].name for c in stmt.carried}
            if isinstance(stmt, For):
                stale.discard(stmt.target.name)
            inner = set(stale)
            hit = (_scan(stmt.cond_block, inner) or _reads((stmt.cond,), inner, stmt.loc)
                   if isinstance(stmt, While) else None) or _scan(stmt.body, inner) or \
                _reads([c[2] for c in stmt.carried] + list(stmt.exits), inner, stmt.loc)
            if hit:
                return hit
            stale -= defined_in(stmt)
    return None
