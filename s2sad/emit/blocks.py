"""Blocks of primal code, and the one loop emitter of both modes.

:func:`emit_block` writes an IR block as Python statements, structured regions included
(reverse mode's forward sweep, with its tape pushes and trip counters). A loop is written
by :func:`loop_statement` (with :func:`carried_entry` and :func:`carried_updates`), for the
primal loops of :func:`emit_block` and for forward mode's loops, which add their tangents
to the entry and to the updates.

Part of :mod:`s2sad.emit` (layer 5).
"""

import gast

from ..ir import Assign, For, If, Raise, Return, Var, While
from .nodes import _copy, assign, call, comment, is_comment, name


def emit_block(block, emitter, pushes=None, tape="tape", counters=None, _last=None):
    """Python statements for an IR block, structured regions included.

    ``pushes`` maps ``id(block)`` to the names the block appends to ``tape``
    at its end (reverse mode's forward sweep inside loops); ``counters`` maps
    ``id(loop)`` to the name of a trip counter to keep. Loop-carried values
    are copied at entry (``y_1 = y``) and updated at the end of each trip
    (``y_1 = y_2``); merged values are assigned at the end of each branch.
    """
    pushes, counters = pushes or {}, counters or {}
    last = _last if _last is not None else [None]
    out = []

    def note(loc):
        if loc.statement_line != last[0]:
            out.append(comment(f"line {loc.statement_line}: {loc.summary}", emitter.comments))
            last[0] = loc.statement_line

    def sub(inner):
        return emit_block(inner, emitter, pushes, tape, counters, last)

    for stmt in block:
        if isinstance(stmt, Assign):
            note(stmt.loc)
            out += emitter.statements(stmt)
        elif isinstance(stmt, Raise):
            note(stmt.loc)
            out.append(gast.Raise(exc=emitter.operand(stmt.exc), cause=None))
        elif isinstance(stmt, Return):
            continue
        elif isinstance(stmt, If):
            note(stmt.loc)
            then_code = sub(stmt.then_block) + [assign(v.name, emitter.operand(a))
                                                 for v, a, _ in stmt.merges]
            else_code = sub(stmt.else_block) + [assign(v.name, emitter.operand(b))
                                                 for v, _, b in stmt.merges]
            then_code += _push(pushes.get(id(stmt.then_block)), tape)
            else_code += _push(pushes.get(id(stmt.else_block)), tape)
            out.append(gast.If(test=emitter.operand(stmt.cond), body=then_code or [gast.Pass()],
                               orelse=else_code))
        elif isinstance(stmt, (For, While)):
            note(stmt.loc)
            out += carried_entry(stmt, emitter)
            counter = counters.get(id(stmt))
            body = []
            if counter:
                out.append(assign(counter, gast.Constant(value=0, kind=None)))
                body.append(gast.AugAssign(target=name(counter, store=True), op=gast.Add(),
                                           value=gast.Constant(value=1, kind=None)))
            body += sub(stmt.body) + _push(pushes.get(id(stmt.body)), tape)
            cond_code = sub(stmt.cond_block) if isinstance(stmt, While) else []
            out += loop_statement(stmt, emitter, body, carried_updates(stmt, emitter), cond_code)
    return out


# -- loops: one emitter for the primal loop (reverse mode's forward sweep, emit_block) and
# the tangent loop (s2sad.forward), which adds its tangents to the entry and the updates

def carried_entry(stmt, emitter):
    """``y_1 = y``: a loop's carried values bound at entry (where the names differ)."""
    return [assign(v.name, emitter.operand(init)) for v, init, _ in stmt.carried
            if not (isinstance(init, Var) and init.name == v.name)]


def carried_updates(stmt, emitter):
    """``[(name, value)]``: the carried values a trip updates (``y_1 = y_2`` at its end)."""
    return [(v.name, emitter.operand(o)) for v, _, o in stmt.carried
            if not (isinstance(o, Var) and o == v)]


def loop_statement(stmt, emitter, body, updates, cond_code=()):
    """The statements of the loop ``stmt`` (a :class:`For` or :class:`While`) whose trip is
    ``body``: at the end of the trip the ``updates`` (``[(name, value)]``, one parallel
    assignment), then a ``break`` for each exit flag; a while loop's condition code
    ``cond_code`` runs before the loop and again at the end of each trip."""
    body = list(body)
    if len(updates) == 1:
        body.append(assign(*updates[0]))
    elif updates:
        body.append(assign(gast.Tuple(elts=[name(t, store=True) for t, _ in updates],
                                      ctx=gast.Store()),
                           gast.Tuple(elts=[v for _, v in updates], ctx=gast.Load())))
    for flag in stmt.exits:
        body.append(gast.If(test=emitter.operand(flag), body=[gast.Break()], orelse=[]))
    if isinstance(stmt, For):
        return [gast.For(target=name(stmt.target.name, store=True),
                         iter=emitter.operand(stmt.iterable), body=body or [gast.Pass()],
                         orelse=[], type_comment=None)]
    body += [_copy(s) for s in cond_code if not is_comment(s)]
    return list(cond_code) + [gast.While(test=emitter.operand(stmt.cond), body=body, orelse=[])]


def _push(names, tape):
    if not names:
        return []
    value = name(names[0]) if len(names) == 1 else \
        gast.Tuple(elts=[name(n) for n in names], ctx=gast.Load())
    append = gast.Attribute(value=name(tape), attr="append", ctx=gast.Load())
    return [gast.Expr(value=call(append, [value]))]
