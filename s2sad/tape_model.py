"""What the gradient's tape keeps: measured in a trace, and predicted per loop.

:mod:`s2sad.cost` counts, per SSA statement, the bytes of the values the backward sweep
reads (its adjoint rules, and the branches: which one ran), once each, and of those it
reads for their shapes only (``unbroadcast(g, v)``). The generated gradient pushes, each
loop trip, what its backward sweep needs (:mod:`s2sad.reverse.tape`): :func:`loop_tapes`
measures that in a trace, :func:`loop_models` sums the model over a loop's body, and
:func:`model_note` says how the two compare in the report. A loop's update (``h_2``) is
the next trip's carried value (``h_1``): kept once (:func:`carried_once`).

Layer 9, with the tools that show a derivative: reads the SSA form only.
"""

import numpy as np

from .ir import For, Var, While, walk_blocks


def value_bytes(value):
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (int, float, complex, np.generic, bool)):
        return 8
    if isinstance(value, (tuple, list)):
        return sum(value_bytes(v) for v in value)
    return 0


def loop_tapes(t):
    """``[(source line, trips, bytes)]``: what each loop of the generated gradient pushed on
    its tape in the trace ``t`` (the items themselves, measured)."""
    kept = {}
    for line, item in t.tape:
        if line is not None:
            kept[line] = kept.get(line, 0) + value_bytes(item)
    return [(line, t.loop_trips.get(line, 0), total) for line, total in sorted(kept.items())]


def loop_models(lines):
    """``{source line of a loop: (the model's tape bytes of the statements in its body, the
    bytes of the values they read for their shapes only)}``."""
    by_stmt = {id(line.stmt): line for line in lines}
    models = {}
    for loop in walk_blocks(lines[0].ir.body if lines else []):
        if isinstance(loop, (For, While)):
            body = list(walk_blocks(loop.body + getattr(loop, "cond_block", [])))
            made = {t.name for s in body for t in getattr(s, "targets", ())} | \
                {phi.name for phi, _, _ in loop.carried}  # (what is made before it stays)
            kept = [k for s in body if id(s) in by_stmt for k in by_stmt[id(s)].kept
                    if k[0] in made]
            phis = {k[0] for k in kept}
            after = {out.name for phi, _, out in loop.carried  # (the last update of a kept
                     if isinstance(out, Var) and phi.name in phis}  # value stays after it)
            kept = [k for k in kept if k[0] not in after]
            models[loop.loc.line] = (sum(size for _, size, shape in kept if not shape),
                                     sum(size for _, size, shape in kept if shape))
    return models


class Kept:
    """The values the backward sweep reads, counted once each on the :class:`~s2sad.cost.Line`
    of the first statement (in the backward sweep's order) that reads them: ``tape_bytes``
    for values, ``argument_bytes`` for ``ir``'s parameters (available: a helper's are kept
    in its residuals), ``shape_bytes`` for values read for their shapes only."""

    def __init__(self, ir):
        self.params = set(ir.param_names)
        self.ir = ir
        self.kept = set()  # (name, id of its value in the trace)
        self.shaped = {}  # (name, id) of a value read for its shape only -> (line, bytes)

    def read(self, line, names, shapes, env):
        """``line``'s statement reads ``names`` (``shapes``: their shapes only) in ``env``."""
        for name in names:
            key = (name, id(env.get(name)))
            if key in self.kept:
                continue
            self.kept.add(key)
            size = value_bytes(env.get(name))
            if name in self.params:  # available to f's own backward sweep
                line.argument_bytes += size
            else:
                line.tape_bytes += size
                line.kept.append((name, size, False))
        for name in set(shapes) - self.params:
            self.shaped.setdefault((name, id(env.get(name))), (line, value_bytes(env.get(name))))

    def finish(self, lines):
        """Count what was read for its shape only (unless read for its values too), then
        each loop's carried value once (:func:`carried_once`)."""
        for key, (line, size) in self.shaped.items():
            if key not in self.kept:
                line.shape_bytes += size
                line.kept.append((key[0], size, True))
        carried_once(self.ir, lines)


def carried_once(ir, lines):
    """A loop's update ``h_2`` is the next trip's ``h_1``: where ``h_1`` is kept, ``h_2`` is
    the same value (the tape keeps it once, as ``h_1``), except the last trip's, which stays
    in the variable after the loop. Drop those repeats from the counts."""
    names = {k[0] for line in lines for k in line.kept}
    for loop in walk_blocks(ir.body):
        for phi, _, out in getattr(loop, "carried", ()) if isinstance(loop, (For, While)) else ():
            if not isinstance(out, Var) or phi.name not in names:
                continue
            first = True  # (runs were read last trip first: the first entry is the last trip's)
            for line in lines:
                for entry in [k for k in line.kept if k[0] == out.name]:
                    if first:
                        first = False
                        continue
                    line.kept.remove(entry)
                    if entry[2]:
                        line.shape_bytes -= entry[1]
                    else:
                        line.tape_bytes -= entry[1]


def model_note(model, kept):
    """How the model's tape bytes of a loop's statements, ``(values, shapes)``, compare with
    the ``kept`` bytes measured."""
    if model is None:
        return ""
    values, shapes = model
    if values == kept:
        return " (the model: the same)"
    if shapes and values + shapes == kept:
        return (f" (the model: {values} bytes of values the adjoint rules read, and {shapes} "
                f"of values they read for their shapes only, unbroadcast(g, v), which the tape "
                f"keeps whole)")
    return (f" (the model: {values} bytes of values the adjoint rules and the branches read, "
            f"and {shapes} of values read for their shapes only; the tape keeps some values "
            f"twice, views of arguments, or what the model does not see)")
