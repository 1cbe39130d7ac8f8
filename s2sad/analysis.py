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
"""

import numbers

from .ir import Assign, Const, Var


def _vars(operands):
    return [o.name for o in operands if isinstance(o, Var)]


def activity(fn, wrt_names):
    """The names of the active variables of ``fn`` for inputs ``wrt_names``."""
    varied = set(wrt_names)
    assigns = [s for s in fn.body if isinstance(s, Assign)]
    for stmt in assigns:
        if stmt.prim.differentiable and any(n in varied for n in _vars(stmt.operands())):
            varied.update(t.name for t in stmt.targets)
    useful = set(_vars([fn.output]))
    for stmt in reversed(assigns):
        if stmt.prim.differentiable and any(t.name in useful for t in stmt.targets):
            useful.update(_vars(stmt.operands()))
    return varied & useful


def is_scalar_const(op):
    if not isinstance(op, Const):
        return False
    return isinstance(op.value, numbers.Number) or getattr(op.value, "ndim", None) == 0


_SCALAR = "<0-d>"
_SCALAR_RESULTS = ("float", "len", "np.linalg.det", "np.trace", "ndim", "size")


class ShapeClasses:
    """Union-find over variable names: one class per shape known to be shared."""

    def __init__(self, fn, output_is_scalar=False):
        self.parent = {}
        assigns = [s for s in fn.body if isinstance(s, Assign) and len(s.targets) == 1]
        if output_is_scalar and isinstance(fn.output, Var):
            self.union(fn.output.name, _SCALAR)
        for _ in range(3):  # forward and backward facts feed each other
            changed = False
            for stmt in assigns:
                changed |= self._forward(stmt)
            for stmt in reversed(assigns):
                if stmt.prim.elementwise and self.is_scalar(stmt.target):
                    for name in _vars(self._operands(stmt)):
                        changed |= self.union(name, _SCALAR)
            if not changed:
                break

    def find(self, key):
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

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
        if prim.elementwise or prim.name == "copy":
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
        if prim.name.startswith("math.") or prim.name in _SCALAR_RESULTS:
            return self.union(target, _SCALAR)
        return False

    def same_shape_as_result(self, stmt, operand):
        """True if ``operand`` of ``stmt`` is known to have the shape of its result."""
        key = self.key(operand)
        return key is not None and key == self.key(stmt.target)
