"""Loop checkpointing: a ``for`` loop's backward sweep in O(sqrt T) (or s) states, not O(T).

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
sqrt(T) trips on the tape), an int N (N snapshots, segments of ceil(T / N) trips), or
``("binomial", s)`` (``"binomial"``: s = :func:`~s2sad.revolve.revolve_snaps`, about
sqrt(2T)), described below. The generated code says what it does::

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

Binomial checkpointing (Revolve, :mod:`s2sad.revolve`) holds at most ``s`` snapshots and
one trip's tape, and recomputes more: each trip is advanced up to ``r`` times, ``r`` the
least with C(s + r, s) >= T (2 with the default s), the least any schedule with ``s``
snapshots needs. The forward sweep takes the schedule's first snapshots, then runs the
last trip with its pushes; the backward sweep follows the rest of the schedule::

    snaps = 3                                   # ("binomial", 3); or revolve_snaps(len(v1))
    snapshots = []
    for start, stop in revolve_segments(len(v1), snaps):
        snapshots.append(h_1)
        for t in v1[start:stop]:
            ...                                 # the trips, without pushes
    for t in v1[len(v1) - 1:]:
        ...                                     # the last trip, with its pushes
    ...
    for action, start, stop in revolve_actions(len(v1), snaps):
        if action == 'advance':
            for t in v1[start:stop]:
                ...                             # the trips, without pushes
        elif action == 'restore':
            # back to the last snapshot, which stays
            h_1 = snapshots.pop()
            snapshots.append(h_1)
        elif action == 'takeshot':
            snapshots.append(h_1)
        elif action == 'takeback':
            # back to the last snapshot, its last use
            h_1 = snapshots.pop()
        else:
            if action == 'youturn':             # (the first turn's trip is on the tape)
                for t in v1[start:stop]:
                    ...                         # the trip, with its pushes
            for t in reversed(v1[start:stop]):
                ...                             # the trip's backward sweep

Why it is exact: a trip reads only the loop-carried values, its index and values
from before the loop. What a trip changes in place (an array it writes into, a list made
before the loop that it grows: :func:`_changed_in_place`) is copied by each snapshot
(``np.copy(y_1)``, ``tuple(t)``) and copied back into the same object by each restore
(``y_1[...] = y_1_kept``; ``t.clear()`` and appends), so names sharing it, and the code
before the loop, see the state they would without checkpointing; a write checkpointing
cannot undo so (into an array the loop binds to another) is a located error. At the start of a segment's backward sweep every name
the sweep reads without popping (the carried values, the last trip's values) holds
what the original forward sweep left there for that segment's last trip, because the
recompute loop (binomial: the turn's taping) has just run it; at Revolve's first turn
the forward sweep's last trip left them, as without checkpointing. Only top-level
``for`` loops without ``break`` or early ``return`` are checkpointed; the rest keep
their tape. Forward mode has no
tape, so it ignores the option.
"""

import copy

import gast

from . import analysis
from .astutil import walk
from .emit import assign, call, comment, name
from .errors import UnsupportedSyntaxError, UsageError
from .ir import Assign, Const, For, If, Var, While, walk_blocks
from .memory import Memory
from .structural import LIST_EFFECTS, LIST_NEW, WriteItem, is_list_statement


def check_how(how):
    """The checkpoint option ``how`` normalised: None, "sqrt", an int N >= 1, or
    ``("binomial", s)`` (``s`` an int >= 1, or None for :func:`revolve_snaps`'s default);
    "binomial" alone is ``("binomial", None)``. Anything else is a UsageError."""
    if how is None or how == "sqrt" or _count(how):
        return how
    if how == "binomial":
        return "binomial", None
    if isinstance(how, tuple) and len(how) == 2 and how[0] == "binomial" and (
            how[1] is None or _count(how[1])):  # (None: the default, normalised)
        return how
    raise UsageError(f"unknown checkpoint option {how!r}; use checkpoint='sqrt', a number of "
                     f"snapshots (an int >= 1), 'binomial' or ('binomial', s) with s snapshots "
                     f"(an int >= 1); on the command line --checkpoint sqrt, N, binomial or "
                     f"binomial:S")


def _count(n):
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def describe(how):
    """``how`` as the generated code's comment says it."""
    if how == "sqrt":
        return "sqrt"
    if isinstance(how, tuple):
        return "binomial" if how[1] is None else f"binomial, {how[1]} snapshots"
    return f"{how} snapshots"


class _Loop:
    """What checkpointing one loop needs: its iterable, its forward sweep's loop (with pushes),
    its backward sweep's loop, its carried names, and fresh names for the new variables."""

    def __init__(self, iterable, original, sweep, carried, emitter, taken, tape, in_place=None):
        self.iterable, self.original, self.sweep = iterable, original, sweep
        self.carried, self.emitter, self.tape, self.taken = carried, emitter, tape, taken
        # names whose objects a trip changes in place: {name: "array" or "list"}; the snapshot
        # copies them, a restore copies back into the same object (see _changed_in_place)
        self.in_place = in_place or {}
        self.state = list(carried) + [n for n in self.in_place if n not in carried]

    def fresh(self, *bases):
        """Names for new variables, unused in the function: ``bases`` or ``base1``, ..."""
        return [analysis.unique_name(base, self.taken) for base in bases]

    def trips(self, lower, upper):
        """``v1[lower:upper]`` (gast expressions for the bounds)."""
        return gast.Subscript(value=copy.deepcopy(self.iterable), slice=gast.Slice(
            lower=lower, upper=upper, step=None), ctx=gast.Load())

    def length(self):
        return call("len", [copy.deepcopy(self.iterable)])

    def run(self, trips, taped):
        """A loop running ``trips`` (a gast expression) forward, with its pushes or without."""
        body = copy.deepcopy(self.original.body) if taped else \
            _without_pushes(self.original.body, self.tape)
        return gast.For(target=copy.deepcopy(self.original.target), iter=trips, body=body,
                        orelse=[], type_comment=None)

    def backward(self, trips):
        """The backward sweep of ``trips`` (a gast expression): the loop itself, whose pops are
        filled in later (so it is used once, never copied)."""
        self.sweep.iter = call("reversed", [trips])
        return self.sweep

    def push(self, snapshots):
        """``snapshots.append(state)`` (nothing if nothing is carried): the carried values, and
        copies of what a trip changes in place (``np.copy(y)``, ``tuple(t)``)."""
        def kept(n):
            kind = self.in_place.get(n)
            return call("np.copy", [name(n)]) if kind == "array" else \
                call("tuple", [name(n)]) if kind == "list" else \
                call("saved", [name(n)]) if kind == "slots" else name(n)
        state = kept(self.state[0]) if len(self.state) == 1 else \
            gast.Tuple(elts=[kept(n) for n in self.state], ctx=gast.Load())
        append = gast.Attribute(value=name(snapshots), attr="append", ctx=gast.Load())
        return [gast.Expr(value=call(append, [state]))] if self.state else []

    def restore(self, value):
        """``state = value`` (nothing if nothing is carried); what a trip changes in place is
        copied back into its own object (``y[...] = y_kept``; ``t.clear()`` and ``t_kept``'s
        items appended), which other names and the code before the loop share."""
        if not self.state:
            return []
        kept = {n: self.fresh(f"{n}_kept")[0] for n in self.in_place}
        names = [kept.get(n, n) for n in self.state]
        target = gast.Tuple(elts=[name(n, store=True) for n in names], ctx=gast.Store()) \
            if len(names) > 1 else name(names[0], store=True)
        out = [gast.Assign(targets=[target], value=value, type_comment=None)]
        for n, copy_of_n in kept.items():  # (a write and appends: code s2sad differentiates)
            if self.in_place[n] in ("array", "slots"):  # y[...] = y_kept; t[:] = t_kept
                whole = gast.Subscript(value=name(n), slice=gast.Constant(
                    value=Ellipsis, kind=None) if self.in_place[n] == "array" else
                    gast.Slice(lower=None, upper=None, step=None), ctx=gast.Store())
                out.append(gast.Assign(targets=[whole], value=name(copy_of_n), type_comment=None))
            else:  # t.clear(); for item in t_kept: t.append(item)
                item = self.fresh("item")[0]
                out += [gast.Expr(value=call(gast.Attribute(value=name(n), attr="clear",
                                                            ctx=gast.Load()), [])),
                        gast.For(target=name(item, store=True), iter=name(copy_of_n), orelse=[],
                                 type_comment=None, body=[gast.Expr(value=call(gast.Attribute(
                                     value=name(n), attr="append", ctx=gast.Load()),
                                     [name(item)]))])]
        return out

    def comment(self, text):
        return comment(text, self.emitter.comments)


def checkpoint_loops(fn, forward, backward, how, emitter, tape, taken):
    """Rewrite the top-level loops of ``forward`` and ``backward`` (gast statement lists of
    ``fn``'s sweeps, changed in place) to checkpoint them; ``taken``: names in use."""
    loops = [loop for loop in fn.body if isinstance(loop, For) and not loop.exits]
    memory = Memory(fn)
    # the forward sweep has the loops in program order, the backward sweep in reverse
    sweeps = dict(zip(map(id, loops), _match(loops, forward, emitter, False)))
    sweeps_back = dict(zip(map(id, loops[::-1]), _match(loops[::-1], backward, emitter, True)))
    for loop in loops:
        found, found_back = sweeps[id(loop)], sweeps_back[id(loop)]
        if found is None or found_back is None or not _pushes(found.body, tape):
            continue  # nothing stored per trip: nothing to save
        fwd = next(k for k, stmt in enumerate(forward) if stmt is found)
        bwd = next(k for k, stmt in enumerate(backward) if stmt is found_back)
        in_place = _changed_in_place(loop, memory)
        carried = [phi.name for phi, _, _ in loop.carried
                   if phi.name in _names(forward[fwd].body)]
        parts = _Loop(emitter.operand(loop.iterable), found, found_back, carried, emitter, taken,
                      tape, in_place)
        build = _binomial if isinstance(how, tuple) else _segments
        forward[fwd:fwd + 1], backward[bwd:bwd + 1] = build(parts, how)


def _segments(loop, how):
    """``how`` "sqrt" or N: the forward sweep stores a snapshot per segment of trips; the
    backward sweep recomputes each segment's tape from its snapshot, then sweeps it."""
    segment, snapshots, start = loop.fresh("segment", "snapshots", "start")
    trips = loop.trips(name(start), gast.BinOp(left=name(start), op=gast.Add(),
                                               right=name(segment)))
    starts = call("range", [gast.Constant(value=0, kind=None), loop.length(), name(segment)])
    forward = [
        loop.comment(f"checkpointing ({describe(how)}): one snapshot of the loop's carried "
                     f"values per segment of trips"),
        assign(segment, _segment_length(how, loop.length())),
        assign(snapshots, gast.List(elts=[], ctx=gast.Load())),
        gast.For(target=name(start, store=True), iter=copy.deepcopy(starts), orelse=[],
                 type_comment=None, body=loop.push(snapshots) + [loop.run(copy.deepcopy(trips), False)])]
    pop = call(gast.Attribute(value=name(snapshots), attr="pop", ctx=gast.Load()), [])
    backward = [gast.For(
        target=name(start, store=True), iter=call("reversed", [starts]), orelse=[],
        type_comment=None, body=loop.restore(pop) + [
            loop.comment("recompute the segment's tape from its snapshot"),
            loop.run(copy.deepcopy(trips), True),
            loop.comment("the segment's backward sweep"), loop.backward(trips)])]
    return forward, backward


def _binomial(loop, how):
    """``("binomial", s)``: Revolve's schedule (:mod:`s2sad.revolve`). The forward sweep takes
    its snapshots and advances, then runs the last trip with its pushes (the first turn);
    the backward sweep follows the rest of the schedule, action by action."""
    snaps, snapshots, start, stop, action = loop.fresh("snaps", "snapshots", "start", "stop",
                                                       "action")
    between = loop.trips(name(start), name(stop))
    last = loop.trips(gast.BinOp(left=loop.length(), op=gast.Sub(),
                                 right=gast.Constant(value=1, kind=None)), None)
    count = call("revolve_snaps", [loop.length()]) if how[1] is None else \
        gast.Constant(value=how[1], kind=None)
    schedule = [loop.length(), name(snaps)]
    pair = gast.Tuple(elts=[name(start, store=True), name(stop, store=True)], ctx=gast.Store())
    forward = [
        loop.comment(f"checkpointing ({describe(how)}): Revolve's schedule of snapshots of the "
                     f"loop's carried values"),
        assign(snaps, count), assign(snapshots, gast.List(elts=[], ctx=gast.Load())),
        gast.For(target=pair, iter=call("revolve_segments", copy.deepcopy(schedule)), orelse=[],
                 type_comment=None, body=loop.push(snapshots) + [loop.run(copy.deepcopy(between), False)]),
        loop.comment("the last trip, with its tape (Revolve's first turn)"),
        loop.run(last, True)]
    is_ = lambda word: gast.Compare(left=name(action), ops=[gast.Eq()],  # noqa: E731
                                    comparators=[gast.Constant(value=word, kind=None)])
    pop = call(gast.Attribute(value=name(snapshots), attr="pop", ctx=gast.Load()), [])
    turn = [gast.If(test=is_("youturn"), orelse=[], body=[
        loop.comment("recompute the trip's tape from the state before it"),
        loop.run(copy.deepcopy(between), True)]),
        loop.comment("the trip's backward sweep"), loop.backward(copy.deepcopy(between))]
    branches = [("advance", None, [loop.run(copy.deepcopy(between), False)]),
                ("restore", "back to the last snapshot, which stays",
                 loop.restore(copy.deepcopy(pop)) + loop.push(snapshots)),
                ("takeshot", None, loop.push(snapshots)),
                ("takeback", "back to the last snapshot, its last use", loop.restore(pop))]
    chain = turn
    for word, note, body in reversed(branches):  # (nothing carried: no snapshots, a pass)
        body = ([loop.comment(note)] if note else []) + body if body else [gast.Pass()]
        chain = [gast.If(test=is_(word), body=body, orelse=chain)]
    triple = gast.Tuple(elts=[name(action, store=True), name(start, store=True),
                              name(stop, store=True)], ctx=gast.Store())
    backward = [gast.For(target=triple, iter=call("revolve_actions", schedule), orelse=[],
                         type_comment=None, body=chain)]
    return forward, backward


def _changed_in_place(loop, memory):
    """``{name: "array" or "list"}``: what a trip of ``loop`` changes in place, which a
    snapshot must copy and a restore copy back into the same object. An array is written
    into (``y[i] = v``, in place in generated code) through a carried name the loop never
    binds to another array (its value after a trip is the chain of writes into it, through
    branches and inner loops), or through a view of one the trip makes (``y[0][1] = v``);
    a list made before the loop changes when the loop appends, pops or clears. An array
    the trip makes itself needs nothing. Any other write (into an array a helper returned,
    or one the loop rebinds) is a located error. ``memory``: the function's may-alias
    analysis (:class:`s2sad.memory.Memory`), which knows what a helper returns."""
    links = _links(loop.body)
    outs = {phi.name: out for phi, _, out in loop.carried}
    inits = {phi.name: init for phi, init, _ in loop.carried}
    made = {stmt.target.name for stmt in walk_blocks(loop.body)
            if is_list_statement(stmt, LIST_NEW)}  # a trip's own lists
    changed = {}
    for stmt in walk_blocks(loop.body):
        if is_list_statement(stmt, *LIST_EFFECTS) and stmt.list.name not in made:
            changed[stmt.list.name] = "list"
        elif isinstance(stmt, WriteItem):
            base = _base(stmt.args[0], links, views=True)
            if base in outs and _base(outs[base], links) == base:
                changed[base] = "slots" if _is_list(inits[base], memory.defs) else "array"
            elif base in links and memory.of(Var(base)) <= {base}:
                continue  # an array the trip makes (a helper's new array too)
            else:
                raise UnsupportedSyntaxError(
                    "s2sad cannot checkpoint this loop: it writes in place into an array that "
                    "a snapshot of the loop's carried values cannot restore (one the loop "
                    "binds to another array, or made outside the loop's carried values)",
                    stmt.loc, "Differentiate without checkpoint=, or write into an array "
                              "the loop carries and never rebinds.")
    return changed


def _is_list(op, defs, depth=8):
    """True if ``op`` is a list made here (``[a, b]``, a literal ``[0.0, 1.0]``, ``[x] * 3``),
    written into by slots or not."""
    if isinstance(op, Const):
        return type(op.value) is list
    stmt = defs.get(op.name) if isinstance(op, Var) else None
    if stmt is None or depth == 0:
        return False
    if isinstance(stmt, WriteItem) or stmt.prim.emit[0] == "copy":
        return _is_list(stmt.args[0], defs, depth - 1)
    if getattr(stmt.prim, "sequence_result", None) == "joins":  # [x] * 3, p + q of lists
        return any(_is_list(a, defs, depth - 1) for a in stmt.args)
    return stmt.prim.emit[0] == "list"


def _links(block):
    """``{name: (kind, operands)}`` for what a block defines: an assignment's statement
    (``"assign"``), a branch's merge (``"merge"``: its two values) and an inner loop's
    carried value (``"phi"``: its value on entry and after a trip)."""
    links = {}
    for stmt in walk_blocks(block):
        if isinstance(stmt, Assign):
            links.update((t.name, ("assign", stmt)) for t in stmt.targets)
        elif isinstance(stmt, If):
            links.update((var.name, ("merge", (a, b))) for var, a, b in stmt.merges)
        elif isinstance(stmt, (For, While)):
            links.update((var.name, ("phi", (init, out))) for var, init, out in stmt.carried)
    return links


def _base(op, links, views=False, seen=None):
    """The variable whose array ``op`` is: followed back through writes (``y_2 = setitem(y_1,
    ...)``), branches and inner loops (every way must lead to the same one), and with
    ``views`` through views made in the loop (``v = y[0]``). None where that is not one
    variable: a constant, or ways that differ. Any other result is where the chain stops
    (the caller asks the alias analysis whether it is a new array)."""
    seen = set() if seen is None else seen
    if not isinstance(op, Var):
        return None
    if op.name in seen:
        return op.name  # an inner loop's value after a trip: its own entry value again
    kind, what = links.get(op.name, (None, None))
    if kind == "assign":
        stmt = what
        if isinstance(stmt, WriteItem) or views and getattr(stmt.prim, "view", False) and \
                len(stmt.targets) == 1:
            return _base(stmt.args[0], links, views, seen)
        return op.name
    if kind in ("merge", "phi"):
        seen = seen | {op.name}
        bases = {_base(o, links, views, seen) for o in what}
        bases.discard(op.name)
        return bases.pop() if len(bases) == 1 else None
    return op.name


def _segment_length(how, n):
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
    return any(_is_push(node, tape) for stmt in stmts for node in walk(stmt))


def _names(stmts):
    return {node.id for stmt in stmts for node in walk(stmt) if isinstance(node, gast.Name)}


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
