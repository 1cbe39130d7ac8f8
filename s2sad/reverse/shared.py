"""Reverse mode's small helpers: names, the has_aux and one-value checks, IR queries.

:func:`adjoint_namer` (``x`` -> ``x_bar``), :func:`with_aux` (a function returning
``(loss, aux)`` as one returning its loss, and aux), :func:`check_one_value` (a
gradient needs one scalar), and pure questions about SSA statements and gast nodes
(``_has_loops``, ``_writes``, ``_vars_of``, ``_defined_in``, ``_copy``, ``_same``,
``_has_code``, ``_scalar_guard``). No state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

from dataclasses import replace

import gast

from .. import analysis
from ..astutil import clone
from ..common import returned_tuple
from ..emit import call, name
from ..errors import UnsupportedSyntaxError
from ..ir import Assign, For, If, Return, Var, While, walk_blocks
from .slots import _Slot


def adjoint_namer(fn):
    return analysis.derived_namer(fn, "_bar")[0]


def _has_loops(fn):
    """True if ``fn`` (an SSA function) has a loop: its backward sweep would read a tape."""
    return any(isinstance(s, (For, While)) for s in walk_blocks(fn.body))


def with_aux(fn):
    """``(fn returning its loss only, aux)`` for ``fn`` ending in ``return loss, aux``
    (``has_aux=True``): the pair is still made, and pruned; aux is computed, never
    differentiated. Anything else returned is a located error."""
    stmt = returned_tuple(fn)
    if stmt is None or len(stmt.args) != 2:
        ret = next((s for s in walk_blocks(fn.body) if isinstance(s, Return)), None)
        what = "one value" if stmt is None else f"{len(stmt.args)} values"
        raise UnsupportedSyntaxError(
            f"has_aux=True needs {fn.name} to return a pair (loss, aux), but it returns {what}",
            getattr(ret, "loc", None) or fn.loc,
            "Return the scalar to differentiate and what to carry along: return loss, aux "
            "(aux may be a tuple: return loss, (acc, logits)).")
    return replace(fn, output=stmt.args[0]), stmt.args[1]


def check_one_value(fn):
    """grad and value_and_grad need one scalar: refuse a function returning a tuple."""
    stmt = returned_tuple(fn)
    if stmt is not None:
        ret = next((s for s in walk_blocks(fn.body) if isinstance(s, Return)), stmt)
        raise UnsupportedSyntaxError(
            f"{fn.name} returns {len(stmt.args)} values, and a gradient needs one scalar",
            ret.loc, "Return one scalar, or use s2sad.vjp, which takes one cotangent per "
                     "returned value.")


def _writes(block):
    """True if ``block`` (nested regions included) writes into an array (a restore may follow)."""
    return any(isinstance(s, Assign) and s.prim.name == "setitem" for s in walk_blocks(block))


def _vars_of(stmt):
    """Every variable a compound statement touches (nested regions included)."""
    out = set()
    for inner in walk_blocks([stmt]):
        if isinstance(inner, Assign):
            out.update(v.name for v in inner.operands() if isinstance(v, Var))
        elif isinstance(inner, If):
            out.update(v.name for m in inner.merges for v in m if isinstance(v, Var))
        elif isinstance(inner, (For, While)):
            out.update(v.name for c in inner.carried for v in c if isinstance(v, Var))
    return out


def _copy(node):
    return clone(node)


def _has_code(stmts):
    return any(not isinstance(s, _Slot) or s.statements for s in stmts) if stmts else False


def _same(a, b):
    if a is None or b is None:
        return a is b
    return gast.dump(a) == gast.dump(b)


def _defined_in(stmt):
    """Variables defined inside a compound statement's regions (including its merges)."""
    out = set()
    if isinstance(stmt, If):
        blocks = [stmt.then_block, stmt.else_block]
        out.update(m[0].name for m in stmt.merges)
    elif isinstance(stmt, For):
        blocks = [stmt.body]
        out.add(stmt.target.name)
        out.update(c[0].name for c in stmt.carried)
    else:
        blocks = [stmt.cond_block, stmt.body]
        out.update(c[0].name for c in stmt.carried)
    for block in blocks:
        out |= analysis.defined_names(block)
    return out


def _scalar_guard(out, fn_name):
    return gast.Expr(value=call("check_scalar", [name(out.name), gast.Constant(value=fn_name,
                                                                            kind=None)]))
