"""Loop checkpointing: a ``for`` loop's backward sweep in O(sqrt T) memory instead of O(T).

Reverse mode stores, per trip of a loop, what the backward sweep reads (the tape).
With ``checkpoint=`` the top-level ``for`` loops of the differentiated function are
split into segments of trips instead; the forward sweep runs each segment without
pushing anything, after storing one snapshot of the loop-carried state at the
segment's start. The backward sweep takes the segments last first: it pops the
segment's snapshot, runs the segment's trips again with their pushes (the recompute
loop), then the backward sweep of those trips, which pops what the recompute
pushed. The tape holds one segment's trips at a time, and every trip runs forward
twice (one extra forward sweep).

``how`` is ``"sqrt"`` (segments of about sqrt(T) trips: about sqrt(T) snapshots and
sqrt(T) trips on the tape) or an int N (N snapshots, segments of ceil(T / N) trips).
The generated code says what it does::

    # checkpointing (sqrt): one snapshot of the loop's carried values per segment
    segment = max(1, int(len(v1) ** 0.5))
    snapshots = []
    for start in range(0, len(v1), segment):
        snapshots.append(h_1)
        for t in v1[start:start + segment]:
            ...                                 # the trip, without pushes
    ...
    for start in reversed(range(0, len(v1), segment)):
        h_1 = snapshots.pop()
        # recompute the segment's tape from its snapshot
        for t in v1[start:start + segment]:
            ...                                 # the trip, with its pushes
        for t in reversed(v1[start:start + segment]):
            ...                                 # the trip's backward sweep

Why it is exact: a trip reads only the loop-carried values, its index and values
from before the loop, which nothing in the loop changes (a loop that writes into
arrays in place or changes a list is refused: a snapshot of the carried names
would not capture those). At the start of a segment's backward sweep every name
the sweep reads without popping (the carried values, the last trip's values) holds
what the original forward sweep left there for that segment's last trip, because the
recompute loop has just run it. Only top-level ``for`` loops without ``break`` or
early ``return`` are checkpointed; the rest keep their tape. Forward mode has no
tape, so it ignores the option.
"""

import copy

import gast

from . import analysis
from .emit import assign, call, comment, name
from .errors import UnsupportedSyntaxError, UsageError
from .ir import For, walk_blocks
from .structural import LIST_EFFECTS, LIST_NEW, is_list_statement, is_write


def check_how(how):
    """``how`` itself if it is a valid checkpoint option (None, "sqrt" or an int >= 1)."""
    if how is None or how == "sqrt" or (isinstance(how, int) and not isinstance(how, bool)
                                          and how >= 1):
        return how
    if how == "binomial":
        raise UsageError("checkpoint='binomial' (Revolve's schedule, which recomputes more "
                         "than one extra forward sweep) is not implemented; use "
                         "checkpoint='sqrt' or a number of snapshots")
    raise UsageError(f"unknown checkpoint option {how!r}; use checkpoint='sqrt' or a number "
                     f"of snapshots (an int >= 1)")


def checkpoint_loops(fn, forward, backward, how, emitter, tape, taken):
    """Rewrite the top-level loops of ``forward`` and ``backward`` (gast statement lists of
    ``fn``'s sweeps, changed in place) to checkpoint them; ``taken``: names in use."""
    loops = [loop for loop in fn.body if isinstance(loop, For) and not loop.exits]
    # the forward sweep has the loops in program order, the backward sweep in reverse
    sweeps = dict(zip(map(id, loops), _match(loops, forward, emitter, False)))
    sweeps_back = dict(zip(map(id, loops[::-1]), _match(loops[::-1], backward, emitter, True)))
    for loop in loops:
        iterable = emitter.operand(loop.iterable)
        found, found_back = sweeps[id(loop)], sweeps_back[id(loop)]
        if found is None or found_back is None or not _pushes(found.body, tape):
            continue  # nothing stored per trip: nothing to save
        fwd = next(k for k, stmt in enumerate(forward) if stmt is found)
        bwd = next(k for k, stmt in enumerate(backward) if stmt is found_back)
        _check(loop)
        carried = [phi.name for phi, _, _ in loop.carried
                   if phi.name in _names(forward[fwd].body)]
        segment, snapshots, start = (analysis.unique_name(n, taken)
                                     for n in ("segment", "snapshots", "start"))
        taken |= {segment, snapshots, start}
        trips = gast.Subscript(value=copy.deepcopy(iterable), slice=gast.Slice(
            lower=name(start), upper=gast.BinOp(left=name(start), op=gast.Add(),
                                                right=name(segment)), step=None),
            ctx=gast.Load())
        starts = call("range", [gast.Constant(value=0, kind=None),
                                call("len", [copy.deepcopy(iterable)]), name(segment)])
        state = name(carried[0]) if len(carried) == 1 else \
            gast.Tuple(elts=[name(n) for n in carried], ctx=gast.Load())
        original = forward[fwd]
        push = gast.Expr(value=call(gast.Attribute(value=name(snapshots), attr="append",
                                                   ctx=gast.Load()), [state]))
        forward[fwd:fwd + 1] = [
            comment(f"checkpointing ({how if how == 'sqrt' else f'{how} snapshots'}): one "
                    f"snapshot of the loop's carried values per segment of trips",
                    emitter.comments),
            assign(segment, _segment_length(how, iterable)),
            assign(snapshots, gast.List(elts=[], ctx=gast.Load())),
            gast.For(target=name(start, store=True), iter=starts, orelse=[], type_comment=None,
                     body=([push] if carried else []) + [gast.For(
                         target=copy.deepcopy(original.target), iter=copy.deepcopy(trips),
                         body=_without_pushes(original.body, tape), orelse=[],
                         type_comment=None)])]
        pop = gast.Assign(targets=[gast.Tuple(elts=[name(n, store=True) for n in carried],
                                              ctx=gast.Store()) if len(carried) > 1
                                   else name(carried[0], store=True)],
                          value=call(gast.Attribute(value=name(snapshots), attr="pop",
                                                    ctx=gast.Load()), []))
        sweep = backward[bwd]
        sweep.iter = call("reversed", [copy.deepcopy(trips)])
        recompute = gast.For(target=copy.deepcopy(original.target), iter=copy.deepcopy(trips),
                             body=copy.deepcopy(original.body), orelse=[], type_comment=None)
        backward[bwd:bwd + 1] = [gast.For(
            target=name(start, store=True), iter=call("reversed", [copy.deepcopy(starts)]),
            orelse=[], type_comment=None,
            body=([pop] if carried else []) + [
                comment("recompute the segment's tape from its snapshot", emitter.comments),
                recompute, comment("the segment's backward sweep", emitter.comments), sweep])]


def _check(loop):
    made = {stmt.target.name for stmt in walk_blocks(loop.body)
            if is_list_statement(stmt, LIST_NEW)}  # a trip's own lists
    for stmt in walk_blocks(loop.body):
        changes_a_list = is_list_statement(stmt, *LIST_EFFECTS) and \
            stmt.args[0].name not in made
        if is_write(stmt) or changes_a_list:
            what = "writes into an array" if is_write(stmt) else "changes a list"
            raise UnsupportedSyntaxError(
                f"s2sad cannot checkpoint this loop: it {what} in place, which a snapshot of "
                f"the loop's carried values does not capture", stmt.loc,
                "Differentiate without checkpoint=, or compute new arrays in the loop "
                "instead of writing into one.")


def _segment_length(how, iterable):
    n = call("len", [copy.deepcopy(iterable)])
    if how == "sqrt":  # max(1, int(len(v1) ** 0.5))
        length = call("int", [gast.BinOp(left=n, op=gast.Pow(),
                                         right=gast.Constant(value=0.5, kind=None))])
    else:  # ceil(len(v1) / how) as -(-len(v1) // how)
        length = gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(
            left=gast.UnaryOp(op=gast.USub(), operand=n), op=gast.FloorDiv(),
            right=gast.Constant(value=how, kind=None)))
    return call("max", [gast.Constant(value=1, kind=None), length])


def _match(loops, stmts, emitter, backward):
    """The gast loop of ``stmts`` (in order, each after the previous one) for each IR loop;
    None where there is none. The backward sweep's header is ``reversed(iterable)``."""
    out, start = [], 0
    for loop in loops:
        iterable = emitter.operand(loop.iterable)
        key = gast.dump(call("reversed", [iterable]) if backward else iterable)
        found = None
        for k in range(start, len(stmts)):
            stmt = stmts[k]
            if isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name) and \
                    stmt.target.id == loop.target.name and gast.dump(stmt.iter) == key:
                found, start = stmt, k + 1
                break
        out.append(found)
    return out


def _is_push(stmt, tape):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and \
        isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" and \
        isinstance(stmt.value.func.value, gast.Name) and stmt.value.func.value.id == tape


def _pushes(stmts, tape):
    return any(_is_push(node, tape) for stmt in stmts for node in gast.walk(stmt))


def _names(stmts):
    return {node.id for stmt in stmts for node in gast.walk(stmt) if isinstance(node, gast.Name)}


def _without_pushes(stmts, tape):
    """A copy of ``stmts`` without their pushes onto ``tape`` (nested blocks included)."""
    out = []
    for stmt in copy.deepcopy(stmts):
        if _is_push(stmt, tape):
            continue
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block:
                setattr(stmt, field, _without_pushes(block, tape) or [gast.Pass()])
        out.append(stmt)
    return out
