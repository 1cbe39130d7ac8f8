"""Activity: which values carry derivatives (layer 4, inside :mod:`s2sad.analysis`).

A value is *active* if it depends on a ``wrt`` input (varied) and the output
depends on it (useful). Only active values get adjoint or tangent code; data,
labels, shapes and indices get none. :func:`dataflow_edges` is the graph along
which derivatives can flow, :func:`activity` the two reachabilities over it.
A value written into an array of booleans or integers is cast, so no
derivative flows through the write, nor into a value cast to integers or booleans
(``x.astype(int)``, ``np.asarray(x, dtype=bool)``, ``np.full(n, x, dtype=int)``): the
primitives' ``result_dtype`` fields (:mod:`s2sad.rules.core`) say which arrays those are.

**Lists.** A list used as a stack (``t = []``, see
:data:`s2sad.rules.operators.LIST_OPS`) carries derivatives as memory does: a
value pushed and later popped is a copy of it. Which push a pop undoes is
known at run time only, so the analysis follows *slots*: position ``k`` of
an ``n``-tuple pushed (``t.append((a, b))`` fills slots ``(2, 0)`` and ``(2, 1)``
of ``t``) reaches the targets at position ``k`` of every pop unpacking ``n``
values (``a, b = t.pop()``). Generated code pops what it pushed, unpacked
the same way, so this is exact for it; a pop into one name reads slot
``(1, 0)``. A snapshot of the whole list (``tuple(t)``, what
``matmul_bar_a_sum(t, W)`` is given) reads every slot. :func:`list_slot`
names a slot as a node of the dataflow graph, so :func:`activity` tells which
slots are active, and a transform stores derivatives for those only.
"""

import numpy as np

from ..errors import UnsupportedSyntaxError
from ..ir import Assign, Const, For, If, Var, While, walk_blocks
from ..rules.core import rule_name
from ..structural import (LIST_ADD_CONTENTS, LIST_APPEND, LIST_NEW, LIST_POP, LIST_SNAPSHOT,
                          ListStatement, WriteItem, is_list_statement)


def _vars(operands):
    return [o.name for o in operands if isinstance(o, Var)]


def dataflow_edges(body):
    """``(source, target)`` pairs along which derivatives can flow.

    Operands flow into the results of differentiable primitives, branch values
    into the value an ``if`` merges, and a loop's initial and updated values
    into its carried variable. Conditions, indices and counts carry no
    derivative. Pushed values flow into their list's slots, and slots into
    the values popped from them and into snapshots (see the module docstring).
    """
    edges = []
    slots = list_slots(body)
    integral = set()  # arrays known to hold booleans or integers
    for stmt in walk_blocks(body):
        cast = isinstance(stmt, Assign) and integral_result(stmt.prim, stmt.args, stmt.kwargs)
        if isinstance(stmt, Assign) and len(stmt.targets) == 1 and (
                cast or rule_name(stmt.prim) and stmt.prim.result_dtype == "keeps" and
                stmt.args and _integral_base(stmt.args[0], integral)):
            integral.add(stmt.target.name)
        if isinstance(stmt, ListStatement):
            kind, t = stmt.kind, stmt.list
            if kind == LIST_APPEND:
                n = len(stmt.args) - 1
                edges += [(v.name, list_slot(t.name, n, k)) for k, v in enumerate(stmt.args[1:])
                          if isinstance(v, Var)]
            elif kind == LIST_POP:
                n = len(stmt.targets)
                edges += [(list_slot(t.name, n, k), v.name) for k, v in enumerate(stmt.targets)]
            elif kind == LIST_ADD_CONTENTS and isinstance(stmt.args[1], Var):
                edges += [(stmt.args[1].name, list_slot(t.name, n, k))
                          for n, k in slots.get(t.name, ())]
            elif kind == LIST_SNAPSHOT:
                edges += [(list_slot(t.name, n, k), stmt.target.name)
                          for n, k in slots.get(t.name, ())]
        elif isinstance(stmt, WriteItem) and _integral_base(stmt.array, integral):
            integral.add(stmt.target.name)  # the value written is cast: no derivative
        elif isinstance(stmt, Assign) and stmt.prim.differentiable and not cast:
            # (a result cast to integers or booleans, x.astype(int), carries no derivative)
            edges += [(s, t.name) for s in _vars(stmt.operands()) for t in stmt.targets]
        elif isinstance(stmt, If):
            edges += [(s, m[0].name) for m in stmt.merges for s in _vars(m[1:])]
        elif isinstance(stmt, (For, While)):
            edges += [(s, c[0].name) for c in stmt.carried for s in _vars(c[1:])]
    return edges


def integral_result(prim, args, kwargs):
    """True if a call of ``prim`` on ``args``/``kwargs`` surely makes booleans or integers,
    from its stanza's ``result_dtype`` (:mod:`s2sad.rules.core`); "keeps" is followed by
    :func:`dataflow_edges`."""
    kind = prim.result_dtype if rule_name(prim) else None
    if kind in ("bool", "int"):
        return True
    if kind in ("given", "args") or rule_name(prim) and "dtype" in prim.params:
        # dtype= by keyword or by position (x.astype(int), np.asarray(x, int)), also of a
        # reduction or scan accumulating in integers (np.cumsum(x, dtype=int))
        dtype = _dtype_operand(prim, args, kwargs)
        if isinstance(dtype, Const):
            try:
                return not np.issubdtype(np.dtype(dtype.value), np.inexact)
            except TypeError:
                return False
        if kind == "args" and not kwargs:
            return all(isinstance(a, Const) and isinstance(a.value, (int, np.integer))
                       and not isinstance(a.value, bool) for a in args)
    return False


def _dtype_operand(prim, args, kwargs):
    """The ``dtype=`` operand of a call of ``prim``, by keyword or by position, or None."""
    try:
        return prim.bind(args, kwargs).get("dtype")
    except TypeError:  # (a call that does not fit: the lowering reports it)
        return kwargs.get("dtype")


def _integral_base(base, integral):
    """True if ``base`` (what a write writes into) is known to hold booleans or integers."""
    if isinstance(base, Const):
        dtype = getattr(base.value, "dtype", None)
        return dtype is not None and not np.issubdtype(dtype, np.inexact)
    return isinstance(base, Var) and base.name in integral


def _reach(start, edges):
    out, frontier = set(start), list(start)
    successors = {}
    for a, b in edges:
        successors.setdefault(a, []).append(b)
    while frontier:
        for nxt in successors.get(frontier.pop(), ()):
            if nxt not in out:
                out.add(nxt)
                frontier.append(nxt)
    return out


def activity(fn, wrt_names, writes_followed=False):
    """The names of the active variables of ``fn`` for inputs ``wrt_names``.

    ``writes_followed`` (the sweeps ask): a differentiated value reaching a call that
    writes into an array s2sad does not follow is a located error
    (:func:`unfollowed_write`)."""
    edges = dataflow_edges(fn.body)
    varied = _reach(wrt_names, edges)
    if writes_followed:
        complex_values = _complex_values(fn.body)
        for stmt in walk_blocks(fn.body):
            if not (isinstance(stmt, Assign) and set(_vars(stmt.operands())) & varied):
                continue
            what = unfollowed_write(stmt)
            if what:
                raise UnsupportedSyntaxError(
                    f"s2sad does not follow {what}, and a differentiated value reaches "
                    f"it here", stmt.loc,
                    "Compute the result as a value (z = np.sum(x); y = np.copy(x)) or "
                    "write it with an assignment s2sad follows (y[...] = x, y[i] = v, "
                    "np.where), or keep differentiated values out of this call.")
            what = complex_source(stmt, complex_values)
            if what:
                raise UnsupportedSyntaxError(
                    f"s2sad differentiates real values only, and {what} makes a "
                    f"differentiated value complex here", stmt.loc,
                    "Write the real and imaginary parts as two real arrays (z = a + 1j * b "
                    "is the pair a, b; |z|**2 is a**2 + b**2), or keep complex values "
                    "out of what is differentiated.")
    useful = _reach(_vars([fn.output]), [(b, a) for a, b in edges])
    return varied & useful


def _complex_values(body):
    """Names that may hold complex values: made by :func:`complex_source`'s constants and
    dtypes, and what is computed from them (but their ``np.abs``, ``.real``, comparisons)."""
    found = set()
    for trip in range(2):  # (a loop's carried values: once more, if there is any)
        if trip and not found:
            break
        for stmt in walk_blocks(body):
            if isinstance(stmt, Assign) and complex_source(stmt, found) and not (
                    rule_name(stmt.prim) and (stmt.prim.real_result or
                                              stmt.prim.result_dtype in ("bool", "int"))):
                found.update(t.name for t in stmt.targets)
            elif isinstance(stmt, (For, While)):
                found.update(v.name for v, *ops in stmt.carried if set(_vars(ops)) & found)
            elif isinstance(stmt, If):
                found.update(v.name for v, *ops in stmt.merges if set(_vars(ops)) & found)
    return found


def complex_source(stmt, complex_values=frozenset()):
    """What in ``stmt`` makes its result complex, in words, or None: a complex constant
    operand (``1j * x``, ``x + c`` for a global complex array ``c``), a value computed from
    one (in ``complex_values``) or a complex ``dtype=`` (``x.astype(complex)``,
    ``np.asarray(x, dtype=np.complex128)``). The rules assume real values (``np.abs``'s
    slope is ``np.sign(x)``, ``x.imag`` has none), so a complex value reached by a
    derivative would be silently wrong."""
    for op in stmt.operands():
        if isinstance(op, Const) and _is_complex(op.value):
            return f"the complex constant {op}"
        if isinstance(op, Var) and op.name in complex_values:
            return "a complex value"
    if rule_name(stmt.prim) and "dtype" in stmt.prim.params:
        dtype = _dtype_operand(stmt.prim, stmt.args, stmt.kwargs)
        if isinstance(dtype, Const) and _is_complex_dtype(dtype.value):
            return f"the complex dtype {dtype}"
    return None


def _is_complex(value):
    if isinstance(value, (complex, np.complexfloating)):
        return True
    dtype = getattr(value, "dtype", None)
    return isinstance(value, np.ndarray) and np.issubdtype(dtype, np.complexfloating)


def _is_complex_dtype(value):
    try:
        return value is not None and np.issubdtype(np.dtype(value), np.complexfloating)
    except TypeError:
        return False


# NumPy functions that write into an array they are given; their statements look pure in the
# SSA form, so the values after them would be taken for those before
_WRITING = (np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis)


def unfollowed_write(stmt):
    """What ``stmt`` writes into an array it is given, in words, or None: an ``out=``
    argument (``np.sum(x, out=z)``), NumPy's writing functions (``np.copyto``, ``np.put``, ...,
    a ufunc's ``.at``) and a random generator's ``shuffle``."""
    out = stmt.kwargs.get("out")
    if out is not None and not (isinstance(out, Const) and out.value is None):
        return f"{stmt.prim.name}(..., out=...), which writes its result into an existing array"
    obj = getattr(stmt.prim, "obj", None)  # a call s2sad has no rule for (ExternalFunction)
    owner = getattr(obj, "__self__", None)
    if any(obj is f for f in _WRITING) or (
            getattr(obj, "__name__", None) == "at" and isinstance(owner, np.ufunc)) or (
            getattr(obj, "__name__", None) == "shuffle" and
            isinstance(owner, (np.random.Generator, np.random.RandomState))):
        return f"{stmt.prim.name}(), which writes into an array it is given"
    return None


def list_slot(t, n, k):
    """The dataflow node of position ``k`` of the ``n``-tuples on the list ``t`` (see above)."""
    return f"{t}#{n}.{k}"


def list_slots(body):
    """``{list name: {(n, k), ...}}``: the slots each list's pushes and pops use."""
    out = {}
    for stmt in walk_blocks(body):
        if is_list_statement(stmt, LIST_NEW):
            out.setdefault(stmt.target.name, set())
        elif is_list_statement(stmt, LIST_APPEND, LIST_POP):
            n = len(stmt.args) - 1 if is_list_statement(stmt, LIST_APPEND) else len(stmt.targets)
            out.setdefault(stmt.list.name, set()).update((n, k) for k in range(n))
    return out


def active_slots(body, active):
    """``{list name: {(n, k), ...}}``: the active slots of each list that has one."""
    out = {}
    for t, slots in list_slots(body).items():
        live = {(n, k) for n, k in slots if list_slot(t, n, k) in active}
        if live:
            out[t] = live
    return out
