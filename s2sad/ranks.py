"""Which values are arrays (rank 1 or more) whatever the function's arguments.

Shapes are known only at run time, but some ranks are not: ``np.stack([x, 2 * x])``
has one axis more than ``x`` has, so it is an array even for a number ``x``, and
``np.zeros(3) + x`` broadcasts to at least one axis. :func:`output_is_array` tells
``s2sad grad`` that a function never returns a scalar (a usage error before anything
is written); where the rank depends on the arguments (``np.sum(x, axis=0)``, ``x * 2``)
it says nothing, and the written ``grad_<f>`` checks the output when it runs.

The facts are few and sure, and each primitive's stanza states its own (``array_result``,
:mod:`s2sad.rules.core`): a maker of arrays (``np.stack``), ``np.array`` of a non-empty
list, ``np.zeros`` of a non-empty shape, ``np.zeros_like`` of an array, an element-wise
operation with an operand known to be an array (broadcasting never removes an axis), and
an ``if`` merging two arrays. Anything else is unknown, never an array.

Layer 4, with the analyses: reads the IR and :func:`s2sad.analysis.is_elementwise`.
"""

from .analysis import is_elementwise
from .ir import Assign, Const, If, Var, walk_blocks
from .rules.core import rule_name


def array_values(fn_ir):
    """The names of ``fn_ir``'s values known to have at least one axis."""
    arrays, sized = set(), {}  # sized: a list or tuple built here -> its length
    for _ in range(2):  # a merge after its branches, once more for what follows it
        for stmt in walk_blocks(fn_ir.body):
            if isinstance(stmt, Assign) and len(stmt.targets) == 1:
                name = stmt.targets[0].name
                if rule_name(stmt.prim) and stmt.prim.emit[0] in ("tuple", "list"):
                    sized[name] = len(stmt.args)
                if _makes_array(stmt, arrays, sized):
                    arrays.add(name)
            elif isinstance(stmt, If):
                arrays.update(phi.name for phi, a, b in stmt.merges
                              if _is_array(a, arrays) and _is_array(b, arrays))
    return arrays


def _is_array(op, arrays):
    return isinstance(op, Var) and op.name in arrays


def _non_empty(op, sized):
    if isinstance(op, Const):
        value = op.value
        return isinstance(value, int) and not isinstance(value, bool) or \
            isinstance(value, (tuple, list)) and len(value) > 0
    return isinstance(op, Var) and sized.get(op.name, 0) > 0


def _makes_array(stmt, arrays, sized):
    kind = stmt.prim.array_result if rule_name(stmt.prim) else None
    if kind is True:
        return True
    first = stmt.args[0] if stmt.args else None
    if kind == "items":
        return isinstance(first, Var) and sized.get(first.name, 0) > 0
    if kind == "shape":
        return first is not None and _non_empty(first, sized)
    if kind == "like":
        return _is_array(first, arrays) and "shape" not in stmt.kwargs
    if is_elementwise(stmt.prim):  # (a copy too)
        return any(_is_array(op, arrays) for op in list(stmt.args) + list(stmt.kwargs.values()))
    return False


def output_is_array(fn_ir):
    """True if ``fn_ir`` returns a value with at least one axis whatever its arguments."""
    return _is_array(fn_ir.output, array_values(fn_ir))
