"""Shapes known without knowing any shape (layer 4, inside :mod:`s2sad.analysis`).

:class:`ShapeClasses` tells which values are known to share a shape, and which
are known to be 0-d: ``tanh(x)`` has ``x``'s shape, ``x * 2.0`` too,
``np.sum(x)`` is 0-d. Where an operand is known to have its result's shape, its
adjoint needs no ``unbroadcast``. With ``output_is_scalar`` (``grad`` checks it
at run time) a 0-d result of an element-wise operation makes its operands 0-d
as well. :func:`is_elementwise` also reads a called user function (through
:mod:`s2sad.lower`) to see whether it is a composition of element-wise operations.
"""

import numbers

from ..ir import Assign, Const, For, If, Return, Var, While, walk_blocks
from ..lower import UserFunction, lower
from ..rules.core import rule_name
from .activity import _vars, activity


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
_ELEMENTWISE = "<element-wise>"  # (ShapeClasses._fact)


def _maybe_sequences(assigns):
    """The names that may hold a tuple or list: literals and joins made here, what a call
    of a function (the user's, a custom rule's, another library's) returned, and an element
    of those. (An argument may be a tuple too: its gradient's ``as_gradient`` checks.)"""
    names = set()
    for stmt in assigns:
        prim = stmt.prim
        made = prim.sequences == "made"  # (a stanza's field: see s2sad.rules.core)
        element = prim.sequences == "element" and \
            isinstance(stmt.args[0], Var) and stmt.args[0].name in names
        if made or element or rule_name(prim) is None and not is_elementwise(prim):
            names.add(stmt.target.name)
    return names


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
        self._sequences = _maybe_sequences(assigns)
        # what each statement says, read once: (target, operands) of the element-wise ones,
        # the targets known 0-d, and the element-wise ones' (target, operand names)
        self._elementwise, self._scalars, self._backward = [], [], []
        for stmt in assigns:
            fact = self._fact(stmt)
            if fact is _ELEMENTWISE:
                self._elementwise.append((stmt.target.name, self._operands(stmt)))
            elif fact is _SCALAR:
                self._scalars.append(stmt.target.name)
            if is_elementwise(stmt.prim):
                self._backward.append((stmt.target, _vars(self._operands(stmt))))
        self._backward.reverse()
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
        for name in self._scalars:  # (facts of their own: once)
            self.union(name, _SCALAR)
        key, union = self.key, self.union
        for _ in range(3):  # forward and backward facts feed each other
            changed = False
            for target, operands in self._elementwise:  # a result of its operands' shape
                keys = {key(o) for o in operands}
                keys.discard(_SCALAR)
                if not keys:
                    changed |= union(target, _SCALAR)
                elif len(keys) == 1 and None not in keys:
                    changed |= union(target, keys.pop())
            for target, names in self._backward:  # a 0-d result: its operands are 0-d
                if key(target) == _SCALAR:
                    for name in names:
                        changed |= union(name, _SCALAR)
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
        if type(op) is Var:  # (the common case first: a Var is no constant)
            return self.find(op.name)
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

    def _fact(self, stmt):
        """What ``stmt`` says of its result's shape: ``_ELEMENTWISE`` (its operands' broadcast
        shape), ``_SCALAR`` (0-d), or None."""
        prim = stmt.prim
        if prim.sequences == "overloaded" and \
                any(isinstance(o, Var) and o.name in self._sequences for o in stmt.args):
            return None  # t + t, t * 2 of a tuple join it: no shape in common
        if is_elementwise(prim):
            return _ELEMENTWISE
        if prim.reduction:
            bound = prim.bind(stmt.args, stmt.kwargs)
            if bound.is_none("axis") and not bound.const("keepdims", True):
                return _SCALAR
        if prim.scalar_result:  # (det and trace of stacks are arrays)
            return _SCALAR
        return None

    def same_shape_as_result(self, stmt, operand):
        """True if ``operand`` of ``stmt`` is known to have the shape of its result."""
        if len(stmt.targets) != 1:
            return False
        key = self.key(operand)
        return key is not None and key == self.key(stmt.target)
