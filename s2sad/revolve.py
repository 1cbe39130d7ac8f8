"""Binomial checkpointing: Revolve's schedule, as run-time helpers of generated code.

With ``checkpoint=("binomial", s)`` (:mod:`s2sad.checkpoint`) the backward sweep of a
loop of T trips holds at most ``s`` snapshots of the loop's carried values (the state
before trip 0 among them) and the tape of one trip, and runs trips forward again as
few times as any schedule with ``s`` snapshots can: Griewank's binomial schedule
(A. Griewank, "Achieving logarithmic growth of temporal and spatial complexity in
reverse automatic differentiation", Optimization Methods and Software 1, 1992;
A. Griewank and A. Walther, "Algorithm 799: revolve", ACM TOMS 26(1), 2000).

The schedule is a sequence of Revolve's actions, each ``(action, start, stop)``:

    takeshot  i i    store the state before trip i (the snapshots form a stack)
    advance   i j    run trips i .. j-1 without taping them
    firsturn  i i+1  the backward sweep of the last trip, which the forward sweep taped
    youturn   i i+1  run trip i taping it, then its backward sweep
    restore   i i    go back to the last snapshot (the state before trip i), which stays
    takeback  i i    go back to the last snapshot and take it off the stack (its last use)

The forward sweep runs the takeshots and advances before the first turn
(:func:`revolve_segments`), then the last trip with its tape; the backward sweep runs
the rest (:func:`revolve_actions`). The advances number Revolve's ``numforw``
(:func:`revolve_advances`), which Griewank proved least: ``r T - C(s + r, s + 1)``,
``r`` the least with ``C(s + r, s) >= T``; a trip is advanced at most ``r`` times, and
taped once.

Generated modules carry copies of these functions (they are listed in
:data:`s2sad.support.HELPERS`), so they use Python only.
"""


def revolve_split(steps, snaps):
    """How many trips to advance from a snapshot before the next one, reversing ``steps``
    trips (at least 2) with ``snaps`` snapshots (at least 1, that snapshot included):
    Revolve's rule (Algorithm 799's ``advance``)."""
    reps, span = 0, 1
    while span < steps:  # span = C(snaps + reps, snaps) trips can be reversed in reps repetitions
        reps += 1
        span = span * (reps + snaps) // reps
    bino1 = span * reps // (snaps + reps)
    bino2 = bino1 * snaps // (snaps + reps - 1) if snaps > 1 else 1
    bino3 = 0 if snaps == 1 else bino2 * (snaps - 1) // (snaps + reps - 2) if snaps > 2 else 1
    bino4 = bino2 * (reps - 1) // snaps
    bino5 = 0 if snaps < 3 else bino3 * (snaps - 2) // reps if snaps > 3 else 1
    if steps <= bino1 + bino3:
        split = bino4
    elif steps >= span - bino5:
        split = bino1
    else:
        split = steps - bino2 - bino3
    return max(split, 1)


def revolve(steps, snaps, first_sweep=True):
    """Revolve's actions for a loop of ``steps`` trips and ``snaps`` snapshots, made one at a
    time (in memory: the ranges of trips still to reverse, at most ``snaps``); without
    ``first_sweep``, from the first turn on."""
    if steps > 1 and first_sweep:
        yield "takeshot", 0, 0
    pending = []  # (start, stop, snaps): to reverse once the trips from stop on are reversed
    start, stop, free, turn = 0, steps, snaps, "firsturn"
    while steps:
        while stop - start > 1:
            middle = start + revolve_split(stop - start, free)
            if first_sweep:
                yield "advance", start, middle
                if stop - middle > 1:  # a single trip is reversed from where it starts
                    yield "takeshot", middle, middle
            pending.append((start, middle, free))
            start, free = middle, free - 1
        yield turn, start, stop
        turn, first_sweep = "youturn", True
        if not pending:
            break
        start, stop, free = pending.pop()
        yield ("restore" if stop - start > 1 else "takeback"), start, start  # needed again?


def revolve_segments(steps, snaps):
    """The forward sweep's part of the schedule: ``(start, stop)`` for each snapshot it takes
    and the trips it then advances, up to the last trip (the first turn)."""
    segments = []
    for action, start, stop in revolve(steps, snaps):
        if action == "firsturn":
            return segments
        if action == "advance":
            segments.append((start, stop))
    return segments


def revolve_actions(steps, snaps):
    """The backward sweep's part of the schedule: the actions from the first turn on."""
    return Revolve(steps, snaps)


class Revolve:
    """The actions of :func:`revolve` from the first turn on, as a sequence made as it is read.

    A ``for`` loop takes them one at a time. ``len()`` and indexing (code s2sad derives
    from generated code reads a loop's sequence so) walk them again: one at a time while
    read in order, all kept in a list when read out of order.
    """

    def __init__(self, steps, snaps):
        self.steps, self.snaps = steps, snaps
        self.size, self.walk, self.read, self.listed = None, None, 0, None

    def __iter__(self):
        return revolve(self.steps, self.snaps, first_sweep=False)

    def __len__(self):
        if self.size is None:
            self.size = sum(1 for _ in self)
        return self.size

    def __getitem__(self, k):
        if self.listed is None and type(k) is int and (k == self.read or k == 0):
            if k == 0:
                self.walk = iter(self)
            self.read = k + 1
            for action in self.walk:
                return action
            raise IndexError(k)
        if self.listed is None:
            self.listed = list(self)
        return self.listed[k]


def revolve_snaps(steps):
    """``checkpoint="binomial"``'s snapshots: the fewest with which each trip is advanced at
    most twice (``C(s + 2, 2) >= steps``, about ``sqrt(2 steps)``)."""
    snaps = 1
    while (snaps + 1) * (snaps + 2) // 2 < steps:
        snaps += 1
    return snaps


def revolve_advances(steps, snaps):
    """Revolve's number of advances (``numforw``) for ``steps`` trips, ``snaps`` snapshots."""
    if steps <= 1:
        return 0
    reps, span = 0, 1
    while span < steps:
        reps += 1
        span = span * (reps + snaps) // reps
    return reps * steps - span * reps // (snaps + 1)
