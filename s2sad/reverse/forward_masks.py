"""Masks computed once: the comparison a rule's VJP reads, made by the forward sweep and kept.

The VJP of ``np.maximum(x, y)`` reads ``x`` and ``y`` only through the mask ``x >= y``, and
that of ``np.max(a, axis)`` reads ``a`` only through ``a == ans``. A stanza that says so
(``masks={param: (comparison, template)}``, :mod:`s2sad.rules.core`) lets the forward sweep
compute the mask beside the statement, ``v2_mask = 0.0 < v1``, and the backward sweep
read it (``g * v2_mask``, ``tie_share(g, v2_mask, 1, True)``) instead of comparing again:
the forward sweep keeps a boolean array, one byte an element, where it kept the float
operands (eight), and an operand the backward sweep reads no more dies with the forward
sweep (the specialised function then computes in its memory: :mod:`s2sad.inplace`).

:func:`with_masks` is the contract: given a function body (SSA IR) and the active names,
it returns the body with a mask statement beside each statement of the function's own
straight-line code (not inside a loop or an ``if``: there the tape would have to keep it)
whose primitive has a mask for an active operand (before it, so that the statement reads
its operands last and may write into one; after it when the mask compares with ``ans``),
and ``{result name: {param: mask name}}``.
The mask is the stanza's comparison of the bound operands, or comparisons joined by ``&``
(``np.clip``'s ``(a >= a_min) & (a <= a_max)``; ``ans``: the result; for a
reduction over a constant ``axis`` without ``keepdims``, the result with that axis put back:
``np.expand_dims(ans, axis)``), so it is the very comparison the plain VJP makes: the
gradients are the same, bit for bit, ties and NaNs included. A statement whose mask cannot
be formed so (an axis that is a variable) keeps its plain VJP.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`.
"""

import ast

import numpy as np

from ..astutil import unique_name
from ..ir import Assign, Const, Var
from ..rules.core import OPERATORS, REGISTRY, rule_name

_COMPARISONS = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq"}


def with_masks(body, active, taken):
    """``(body with the mask statements, {result: {param: mask name}}, the names they
    bind)`` (see the module docstring); ``taken``: the names in use, which theirs join."""
    out, masks, names = [], {}, set()
    for stmt in body:
        out.append(stmt)
        if type(stmt) is not Assign or rule_name(stmt.prim) is None or \
                len(stmt.targets) != 1 or stmt.target.name not in active or \
                not getattr(stmt.prim, "masks", None):
            continue
        bound = stmt.prim.bind(stmt.args, stmt.kwargs)
        for param, (comparison, _) in stmt.prim.masks.items():
            operand = bound.get(param)
            if not (isinstance(operand, Var) and operand.name in active):
                continue
            if callable(comparison):  # (one that depends on the constant operands)
                comparison = comparison(bound)
            made = comparison and _mask_statements(stmt, bound, comparison, taken)
            if not made:
                continue
            if "ans" in comparison:
                out += made
            else:  # before: the statement reads its operands last (out= them)
                out[-1:-1] = made
            names.update(m.target.name for m in made)
            masks.setdefault(stmt.target.name, {})[param] = made[-1].target.name
    return out, masks, names


def _mask_statements(stmt, bound, comparison, taken):
    """The statements computing ``comparison`` (``"x >= y"``, ``"a == ans"``, comparisons
    joined by ``&``) of ``stmt``'s operands, the last one binding the mask; [] when it cannot
    be formed here."""
    made = []

    def operand(node):
        if node.id != "ans":
            return bound[node.id]
        if not stmt.prim.reduction or bound.is_none("axis") or \
                bound.const("keepdims", False) is True:
            return stmt.target
        if not (isinstance(bound["axis"], Const) and isinstance(bound.get("keepdims"),
                                                                (Const, type(None)))):
            return None  # (axes known when the code runs only: the plain VJP)
        spread = Var(unique_name(f"{stmt.target.name}_spread", taken))
        made.append(Assign((spread,), REGISTRY[np.expand_dims], (stmt.target, bound["axis"]),
                           {}, stmt.loc))
        return spread

    def mask(test):
        if isinstance(test, ast.BinOp) and isinstance(test.op, ast.BitAnd):
            left, right, prim = mask(test.left), mask(test.right), OPERATORS["and_"]
        else:
            (op,) = test.ops
            left, right = operand(test.left), operand(test.comparators[0])
            prim = OPERATORS[_COMPARISONS[type(op)]]
        if left is None or right is None:
            return None
        made.append(Assign((Var(unique_name(f"{stmt.target.name}_mask", taken)),), prim,
                           (left, right), {}, stmt.loc))
        return made[-1].target

    return made if mask(ast.parse(comparison, mode="eval").body) is not None else []
