"""The code of a call of a function with rules given by hand (:mod:`s2sad.custom`), in
both modes: reverse mode calls the user's ``f_vjp``, forward mode ``f_jvp`` (layer 5,
beside :mod:`s2sad.emit`; :mod:`s2sad.reverse` and :mod:`s2sad.forward` call it).

The decorator, the rules it holds and their checks are in :mod:`s2sad.custom`; the
name generated code calls an object by is :func:`s2sad.emit.declare`.
"""

import keyword
import numbers

import gast
import numpy as np

from .analysis import unique_name
from .emit import _copy, assign, call, comment, declare, literal, name
from .ir import Const, Var


def _call(fn_name, args):
    return gast.Call(func=gast.Name(id=fn_name, ctx=gast.Load(), annotation=None,
                                    type_comment=None), args=list(args), keywords=[])


def backward(rev, stmt, z, g, ans):
    """Reverse mode: ``x_bar = f_vjp(g, ans, x)`` (or unpacking, with several parameters).

    ``rev`` is the :class:`s2sad.reverse.sweep._Reverse` building the backward sweep;
    ``z`` names the result (a stem for temporaries), ``g`` is its adjoint and
    ``ans`` its value (tuples of them for an unpacked result).
    """
    prim = stmt.prim
    prim.check("vjp", stmt)
    active = [i for i, op in enumerate(stmt.args) if rev.is_active(op)]
    if not active:
        return []
    rule = declare(rev.emitter, prim.rule("vjp"), prim.rule("vjp").__name__
                   if _named(prim.rule("vjp")) else f"{prim.name}_vjp")
    value = _call(rule, [_copy(g), _copy(ans)] + [rev.emitter.operand(a) for a in stmt.args])
    out = [comment(prim.note("vjp"), rev.comments)]
    if len(stmt.args) == 1:
        return out + rev.adjoints.add(stmt.args[0].name, value)
    targets, later, seen = [], [], set()
    for i, op in enumerate(stmt.args):
        if i not in active:
            targets.append("_")
            continue
        if rev.adjoints.read(op.name) is None and op.name not in seen:
            target = rev.adjoints.adjoint_name(op.name)  # the first contribution: assign
            rev.adjoints.value[op.name] = name(target)
            rev.adjoints.owned.discard(op.name)  # the rule's result may alias its inputs
        else:
            target = unique_name(f"{z}_{prim.params[i]}_bar", rev._taken)
            later.append((op.name, target))
        seen.add(op.name)
        targets.append(target)
    out.append(assign(gast.Tuple(elts=[name(t, store=True) for t in targets], ctx=gast.Store()),
                      value))
    for var, temp in later:
        out += rev.adjoints.add(var, name(temp))
    return out


def forward(fwd, stmt):
    """Forward mode: ``z_dot = f_jvp(x, y, x_dot, y_dot)``, zeros for a constant's tangent.

    ``fwd`` is the :class:`s2sad.forward.transform._Forward` building the tangent code.
    """
    prim = stmt.prim
    prim.check("jvp", stmt)
    rule = declare(fwd.emitter, prim.rule("jvp"), prim.rule("jvp").__name__
                   if _named(prim.rule("jvp")) else f"{prim.name}_jvp")
    args = [fwd.emitter.operand(a) for a in stmt.args]
    dots = [fwd.tangent(op) for op in stmt.args]
    zeros = [_zero_tangent(op, fwd.emitter.operand(op), call, literal) for op in stmt.args]
    if not fwd.vector:
        value = _call(rule, args + [d if d is not None else z for d, z in zip(dots, zeros)])
    else:  # one direction at a time: stack_directions([f_jvp(x, t) for t in x_dot])
        live = [i for i, d in enumerate(dots) if d is not None]
        dots = [call("directions", [d]) if d is not None and fwd.may_be_sequence(op) else d
                for d, op in zip(dots, stmt.args)]  # a tuple's batches, one tuple a direction
        names = {i: unique_name("t", fwd._taken) for i in live}
        value_one = _call(rule, args + [name(names[i]) if i in names else z
                                        for i, z in enumerate(zeros)])
        if len(live) == 1:
            target, source = name(names[live[0]], store=True), dots[live[0]]
        else:
            target = gast.Tuple(elts=[name(names[i], store=True) for i in live], ctx=gast.Store())
            source = call("zip", [dots[i] for i in live])
        loop = gast.comprehension(target=target, iter=source, ifs=[], is_async=0)
        value = call("stack_directions", [gast.ListComp(elt=value_one, generators=[loop])])
    return [comment(prim.note("jvp"), fwd.comments), assign(fwd.result_tangent(stmt), value)]


def _named(rule):
    name_ = getattr(rule, "__name__", "")
    return name_.isidentifier() and not keyword.iskeyword(name_)


def _zero_tangent(op, expr, call, literal):
    """The tangent a rule gets for an argument no derivative flows into."""
    if isinstance(op, Var):
        return call("np.zeros_like", [expr])
    value = op.value if isinstance(op, Const) else None
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return literal(0.0)
    if isinstance(value, np.ndarray):
        return call("np.zeros_like", [expr])
    return literal(None)
