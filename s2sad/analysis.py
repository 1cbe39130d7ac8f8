"""Analyses of the SSA IR that the transforms consult.

* :func:`activity` -- a value is *active* if it depends on a ``wrt`` input
  (varied) and the output depends on it (useful). Only active values get
  adjoint or tangent code; data, labels, shapes and indices get none.
* :class:`ShapeClasses` -- which values are known to share a shape, and which
  are known to be 0-d, without knowing any shape: ``tanh(x)`` has ``x``'s
  shape, ``x * 2.0`` too, ``np.sum(x)`` is 0-d. Where an operand is known to
  have its result's shape, its adjoint needs no ``unbroadcast``. With
  ``output_is_scalar`` (``grad`` checks it at run time) a 0-d result of an
  element-wise operation makes its operands 0-d as well.

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

Layer 4: imports the IR, the rules and :mod:`s2sad.lower` (to read a called
function, :func:`is_elementwise`), never a transform.
"""

import numbers
from dataclasses import replace

import gast
import numpy as np

from .ir import Assign, Const, For, If, Raise, Return, Var, While, walk_blocks
from .lower import UserFunction, lower
from .rules.core import integral_result, rule_name
from .structural import (LIST_APPEND, LIST_EFFECTS, LIST_NEW, LIST_POP, LIST_SNAPSHOT,
                         defined_names, is_list_statement, is_write, list_kind)


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
        if isinstance(stmt, Assign) and len(stmt.targets) == 1 and (
                integral_result(stmt.prim, stmt.args, stmt.kwargs) or
                rule_name(stmt.prim) and stmt.prim.result_dtype == "keeps" and stmt.args and
                _integral_base(stmt.args[0], integral)):
            integral.add(stmt.target.name)
        if is_list_statement(stmt):
            kind, t = list_kind(stmt.prim), stmt.args[0] if stmt.args else None
            if kind == LIST_APPEND:
                n = len(stmt.args) - 1
                edges += [(v.name, list_slot(t.name, n, k)) for k, v in enumerate(stmt.args[1:])
                          if isinstance(v, Var)]
            elif kind == LIST_POP:
                n = len(stmt.targets)
                edges += [(list_slot(t.name, n, k), v.name) for k, v in enumerate(stmt.targets)]
            elif kind == LIST_SNAPSHOT:
                edges += [(list_slot(t.name, n, k), stmt.target.name)
                          for n, k in slots.get(t.name, ())]
        elif is_write(stmt) and _integral_base(stmt.args[0], integral):
            integral.add(stmt.target.name)  # the value written is cast: no derivative
        elif isinstance(stmt, Assign) and stmt.prim.differentiable:
            edges += [(s, t.name) for s in _vars(stmt.operands()) for t in stmt.targets]
        elif isinstance(stmt, If):
            edges += [(s, m[0].name) for m in stmt.merges for s in _vars(m[1:])]
        elif isinstance(stmt, (For, While)):
            edges += [(s, c[0].name) for c in stmt.carried for s in _vars(c[1:])]
    return edges


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


def activity(fn, wrt_names):
    """The names of the active variables of ``fn`` for inputs ``wrt_names``."""
    edges = dataflow_edges(fn.body)
    varied = _reach(wrt_names, edges)
    useful = _reach(_vars([fn.output]), [(b, a) for a, b in edges])
    return varied & useful


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
            out.setdefault(stmt.args[0].name, set()).update((n, k) for k in range(n))
    return out


def active_slots(body, active):
    """``{list name: {(n, k), ...}}``: the active slots of each list that has one."""
    out = {}
    for t, slots in list_slots(body).items():
        live = {(n, k) for n, k in slots if list_slot(t, n, k) in active}
        if live:
            out[t] = live
    return out


def is_scalar_const(op):
    if not isinstance(op, Const):
        return False
    return isinstance(op.value, numbers.Number) or getattr(op.value, "ndim", None) == 0


def is_elementwise(prim):
    """True if ``prim`` is a broadcasting element-wise operation (``prim.elementwise``), or a
    call of a user function that is a composition of them.

    Then, like a ufunc, the function's result has the broadcast shape of all its
    parameters (each of which reaches the result), which the shape analysis
    may use. Straight-line code on scalar constants only; anything else is False.
    """
    if type(prim) is not UserFunction:
        return prim.elementwise
    if prim._elementwise is None:
        if prim.fn in _COMPUTING:
            return False
        _COMPUTING.add(prim.fn)
        try:
            prim._elementwise = _is_elementwise(lower(prim.fn))
        except Exception:
            prim._elementwise = False
        finally:
            _COMPUTING.discard(prim.fn)
    return prim._elementwise


_COMPUTING = set()  # user functions whose is_elementwise is being computed (recursion)


def _is_elementwise(ir):
    assigns = [s for s in ir.body if not isinstance(s, Return)]
    if not isinstance(ir.output, Var) or not all(isinstance(s, Assign) for s in assigns):
        return False
    for stmt in assigns:
        if not is_elementwise(stmt.prim) or stmt.kwargs:
            return False
        if any(isinstance(o, Const) and not is_scalar_const(o) for o in stmt.operands()):
            return False
    reaching = activity(ir, [p.name for p in ir.params])
    return all(p.name in reaching for p in ir.params)


_SCALAR = "<0-d>"


class ShapeClasses:
    """Union-find over variable names: one class per shape known to be shared."""

    def __init__(self, fn, output_is_scalar=False):
        self.parent = {}
        assigns = [s for s in walk_blocks(fn.body) if isinstance(s, Assign) and len(s.targets) == 1]
        carried = {c[0].name for stmt in walk_blocks(fn.body) if isinstance(stmt, (For, While))
                   for c in stmt.carried}
        # the output is 0-d when the function returns; a loop-carried variable holds other
        # values (of other shapes, maybe) on earlier trips, so the fact is not about it
        if output_is_scalar and isinstance(fn.output, Var) and fn.output.name not in carried:
            self.union(fn.output.name, _SCALAR)
        self._assigns = assigns
        self._propagate()
        # merged values share the shape their sources share; a loop-carried value keeps
        # its initial value's shape if, assuming so, each trip's update is shown to have it
        for stmt in walk_blocks(fn.body):
            if isinstance(stmt, If):
                for phi, a, b in stmt.merges:
                    if self.key(a) is not None and self.key(a) == self.key(b):
                        self.union(phi.name, self.key(a))
            elif isinstance(stmt, (For, While)):
                saved = dict(self.parent)
                assumed = [(phi, out) for phi, init, out in stmt.carried
                           if self.key(init) is not None]
                for phi, init, _ in stmt.carried:
                    if self.key(init) is not None:
                        self.union(phi.name, self.key(init))
                self._propagate()
                if not all(self.key(out) == self.key(phi) for phi, out in assumed):
                    self.parent = saved

    def _propagate(self):
        for _ in range(3):  # forward and backward facts feed each other
            changed = False
            for stmt in self._assigns:
                changed |= self._forward(stmt)
            for stmt in reversed(self._assigns):
                if is_elementwise(stmt.prim) and self.is_scalar(stmt.target):
                    for name in _vars(self._operands(stmt)):
                        changed |= self.union(name, _SCALAR)
            if not changed:
                break

    def find(self, key):
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb == _SCALAR:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True

    def key(self, op):
        if is_scalar_const(op):
            return _SCALAR
        if isinstance(op, Var):
            return self.find(op.name)
        return None

    def is_scalar(self, op):
        return self.key(op) == _SCALAR

    @staticmethod
    def _operands(stmt):
        return list(stmt.args) + list(stmt.kwargs.values())

    def _forward(self, stmt):
        prim, target = stmt.prim, stmt.target.name
        if is_elementwise(prim):
            keys = {self.key(o) for o in self._operands(stmt)}
            non_scalar = keys - {_SCALAR}
            if not non_scalar:
                return self.union(target, _SCALAR)
            if len(non_scalar) == 1 and None not in non_scalar:
                return self.union(target, non_scalar.pop())
            return False
        if prim.reduction:
            bound = prim.bind(stmt.args, stmt.kwargs)
            if bound.is_none("axis") and not bound.const("keepdims", True):
                return self.union(target, _SCALAR)
        if prim.scalar_result:  # (det and trace of stacks are arrays)
            return self.union(target, _SCALAR)
        return False

    def same_shape_as_result(self, stmt, operand):
        """True if ``operand`` of ``stmt`` is known to have the shape of its result."""
        if len(stmt.targets) != 1:
            return False
        key = self.key(operand)
        return key is not None and key == self.key(stmt.target)


# ----------------------------------------------------------------------------
# structured regions: definitions, liveness for the forward sweep, pruning

walk = walk_blocks


def block_defs(block, counters=None):
    """Variables a block defines at its own level (not inside its nested regions).

    A nested region's merged or carried values count (they are defined at this
    level once the region ends), and so do the trip counters of nested loops.
    """
    out = []
    for stmt in block:
        if isinstance(stmt, Assign):
            out += [t.name for t in stmt.targets]
        elif isinstance(stmt, If):
            out += [m[0].name for m in stmt.merges]
        elif isinstance(stmt, (For, While)):
            out += [c[0].name for c in stmt.carried]
            if counters and id(stmt) in counters:
                out.append(counters[id(stmt)])
    return out


def derived_namer(fn, suffix):
    """``(name_of, taken)``: ``name_of(v)`` is ``v + suffix`` (``x_bar``, ``x_dot``),
    lengthened with ``_`` where that would collide with a name ``fn`` uses."""
    taken = {p.name for p in fn.params} | defined_names(fn.body)

    def name_of(var):
        candidate = f"{var}{suffix}"
        while candidate in taken:
            candidate += "_"
        return candidate

    return name_of, taken


def unique_name(base, taken):
    """``base``, or ``base1``, ``base2``, ... : the first not in ``taken`` (which it joins)."""
    candidate, k = base, 0
    while candidate in taken:
        k += 1
        candidate = f"{base}{k}"
    taken.add(candidate)
    return candidate


def free_names(stmts):
    """Names a list of gast statements reads before (or without) assigning them, in order.

    A name assigned in one branch of an ``if`` only, or in a loop's body, counts
    as assigned after it (generated code reads such names only where they are).
    """
    free, bound = [], set()

    def reads(node):
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and \
                    n.id not in bound and n.id not in free:
                free.append(n.id)

    def stores(node):
        bound.update(n.id for n in gast.walk(node)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))

    def block(body):
        for stmt in body:
            if isinstance(stmt, gast.Assign):
                reads(stmt.value)
                for t in stmt.targets:
                    if not isinstance(t, gast.Name):
                        reads(t)  # y[i] = v reads y (and i)
                    stores(t)
            elif isinstance(stmt, gast.AugAssign):
                reads(stmt.value)
                reads(gast.Expr(value=gast.Name(id=stmt.target.id, ctx=gast.Load(),
                                                annotation=None, type_comment=None))
                      if isinstance(stmt.target, gast.Name) else stmt.target)
                stores(stmt.target)
            elif isinstance(stmt, gast.For):
                reads(stmt.iter)
                stores(stmt.target)
                block(stmt.body)
            elif isinstance(stmt, gast.While):
                reads(stmt.test)
                block(stmt.body)
            elif isinstance(stmt, gast.If):
                reads(stmt.test)
                block(stmt.body)
                block(stmt.orelse)
            else:
                reads(stmt)

    block(stmts)
    return free


def names_read(stmts):
    """Names loaded anywhere in a list of gast statements."""
    out = set()
    name, load = gast.Name, gast.Load

    def visit(node):
        if type(node) is name:
            if type(node.ctx) is load:
                out.add(node.id)
            return
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, gast.AST):
                        visit(item)
            elif isinstance(value, gast.AST):
                visit(value)

    for stmt in stmts:
        visit(stmt)
    return out


def _impure(stmt):
    """Statements kept whatever reads their results: run-time checks, output, effects on
    lists, writes into arrays (a view of the array sees them), and calls of functions
    without rules (``CACHE.append(x)``: the derivative does what the function does)."""
    return isinstance(stmt, Raise) or is_write(stmt) or is_list_statement(stmt, *LIST_EFFECTS) or (
        isinstance(stmt, Assign) and (rule_name(stmt.prim) == "print" or
                                      getattr(stmt.prim, "effects", False)))


def needed_names(body, reads, counters=None):
    """The variables the forward sweep must compute for ``reads`` (a fixed point).

    A loop whose trip counter (``counters``: id(loop) -> name) is read must run
    as it did, so everything deciding its trips is needed too.
    """
    needed = set(reads)
    while True:
        before = len(needed)
        _need_block(body, needed, counters or {})
        if len(needed) == before:
            return needed


def _need_block(block, needed, counters):
    """Grow ``needed``; return True if anything in the block must be kept."""
    kept_any = False
    for stmt in reversed(block):
        kept = False
        if isinstance(stmt, Assign):
            kept = _impure(stmt) or any(t.name in needed for t in stmt.targets)
            if kept:
                needed.update(_vars(stmt.operands()))
        elif isinstance(stmt, Raise):
            kept = True
            needed.update(_vars([stmt.exc]))
        elif isinstance(stmt, If):
            for var, a, b in stmt.merges:
                if var.name in needed:
                    needed.update(_vars([a, b]))
            inside = _need_block(stmt.then_block, needed, counters) | \
                _need_block(stmt.else_block, needed, counters)
            kept = inside or any(m[0].name in needed for m in stmt.merges)
            if kept:
                needed.update(_vars([stmt.cond]))
        elif isinstance(stmt, (For, While)):
            for var, init, out in stmt.carried:
                if var.name in needed:
                    needed.update(_vars([init, out]))
            inside = _need_block(stmt.body, needed, counters)
            kept = inside or any(c[0].name in needed for c in stmt.carried) or \
                counters.get(id(stmt)) in needed
            if kept:
                needed.update(_vars(stmt.exits))
                if isinstance(stmt, For):
                    needed.update(_vars([stmt.iterable]))
                else:
                    needed.update(_vars([stmt.cond]))
                    _need_block(stmt.cond_block, needed, counters)
        kept_any |= kept
    return kept_any


def prune(block, needed, origin=None, counters=None):
    """A copy of ``block`` without what ``needed`` does not need.

    Returns ``(block, origin)``; ``origin`` maps ids of new blocks and regions
    to ids of the originals, so facts keyed by the originals carry over.
    """
    origin = {} if origin is None else origin
    out = []
    for stmt in block:
        if isinstance(stmt, Assign):
            if _impure(stmt) or any(t.name in needed for t in stmt.targets):
                out.append(stmt)
        elif isinstance(stmt, (Raise, Return)):
            out.append(stmt)
        elif isinstance(stmt, If):
            then_block, _ = prune(stmt.then_block, needed, origin, counters)
            else_block, _ = prune(stmt.else_block, needed, origin, counters)
            merges = [m for m in stmt.merges if m[0].name in needed]
            if then_block or else_block or merges:
                new = replace(stmt, then_block=then_block, else_block=else_block, merges=merges)
                origin[id(then_block)], origin[id(else_block)] = id(stmt.then_block), id(stmt.else_block)
                origin[id(new)] = id(stmt)
                out.append(new)
        elif isinstance(stmt, (For, While)):
            body, _ = prune(stmt.body, needed, origin, counters)
            carried = [c for c in stmt.carried if c[0].name in needed]
            if body or carried or (counters or {}).get(id(stmt)) in needed:
                fields = dict(body=body, carried=carried)
                if isinstance(stmt, While):
                    fields["cond_block"] = prune(stmt.cond_block, needed | _vars_set([stmt.cond]),
                                                 origin, counters)[0]
                new = replace(stmt, **fields)
                origin[id(body)] = id(stmt.body)
                origin[id(new)] = id(stmt)
                out.append(new)
    origin[id(out)] = id(block)
    return out, origin


def _vars_set(operands):
    return set(_vars(operands))
