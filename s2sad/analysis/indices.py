"""Which writes ``y[index] = v`` name each element of ``y`` at most once.

NumPy's ``y[[0, 0, 1]] = v`` keeps the last value written at ``y[0]``: the first position
of ``v`` never reaches ``y``, so its adjoint is zero there, not ``g[0]``; ``y[idx] += v``
is the same write (of ``y[idx] + v``). The backward sweep may take ``g[index]`` as ``v``'s
adjoint only where the index names each element once, and calls
:func:`s2sad.support.written_bar` (each element's last position) elsewhere.

:func:`names_each_once` decides from the index alone, and says True only when it is sure:
slices, integers, ``None``, ``...`` and boolean masks name each element once, and so does
one constant integer array (``[0, 2]``) of distinct values of one sign, or several whose
broadcast tuples are distinct; an array computed at run time (``np.argsort(x)``) may
repeat. Integer *scalars* computed at run time (a loop's counter, ``i + 1``, ``len(x) - 1``)
are recognised by :func:`once_parts`, so ``y[i + 1] = v`` keeps its plain adjoint.

Layer 4, with the analyses: reads the IR only.
"""

import numpy as np

from ..ir import Assign, Const, For, If, Slice, Var, While, walk_blocks
from ..rules.core import rule_name

def once_parts(fn_ir):
    """Names of ``fn_ir`` that, as a part of an index, name each element at most once: those
    that always hold an integer or boolean scalar, and booleans (masks).

    Scalars are a greatest fixed point: every counter of a ``for`` over ``range``, ``len``,
    integer arithmetic (``index_arithmetic`` stanzas), booleans, loop-carried values and
    ``if`` merges is a candidate, and one is dropped as soon as an operand is not a
    constant integer nor a candidate.
    """
    ranges = {s.target.name for s in walk_blocks(fn_ir.body)
              if _call(s) and s.prim.integer_operands}
    rules, masks = {}, set()  # rules: name -> the operands it is computed from
    for stmt in walk_blocks(fn_ir.body):
        if _call(stmt) and (stmt.prim.index_arithmetic or stmt.prim.result_dtype == "bool"):
            rules[stmt.target.name] = list(stmt.args)
            if stmt.prim.result_dtype == "bool":
                masks.add(stmt.target.name)
        elif _call(stmt) and stmt.prim.sized and stmt.prim.scalar_result:  # len(x)
            rules[stmt.target.name] = []
        elif isinstance(stmt, For) and isinstance(stmt.iterable, Var) and \
                stmt.iterable.name in ranges:
            rules[stmt.target.name] = []
        if isinstance(stmt, (For, While)):
            for var, init, out in stmt.carried:
                rules[var.name] = [init, out]
        elif isinstance(stmt, If):
            for phi, a, b in stmt.merges:
                rules[phi.name] = [a, b]
    scalars, changed = set(rules), True
    while changed:
        changed = False
        for target, operands in rules.items():
            if target in scalars and not all(_scalar(op, scalars) for op in operands):
                scalars.discard(target)
                changed = True
    return scalars | masks


def _call(stmt):
    return isinstance(stmt, Assign) and len(stmt.targets) == 1 and rule_name(stmt.prim)


def _scalar(op, scalars):
    if isinstance(op, Const):
        return isinstance(op.value, (int, bool, np.integer, np.bool_))
    return isinstance(op, Var) and op.name in scalars


def names_each_once(index, scalars):
    """True if the :class:`~s2sad.ir.Index` ``index`` surely names each element at most once
    (see the module's docstring); ``scalars`` is :func:`once_parts`' answer."""
    arrays = []
    for part in index.parts:
        if isinstance(part, Slice) or _scalar(part, scalars):
            continue
        if isinstance(part, Const):
            value = np.asarray(part.value) if part.value is not None and \
                part.value is not Ellipsis else None
            if value is None or value.dtype == np.bool_:
                continue
            if value.dtype.kind in "iu" and (np.all(value >= 0) or np.all(value < 0)):
                arrays.append(value)
                continue
        return False  # an array computed at run time, or integers of both signs
    if len(arrays) <= 1:
        return not arrays or len(np.unique(arrays[0])) == arrays[0].size
    tuples = np.stack([np.ravel(a) for a in np.broadcast_arrays(*arrays)], axis=-1)
    return len(np.unique(tuples, axis=0)) == len(tuples)
