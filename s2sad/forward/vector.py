"""One operand's contribution to a tangent, and vector mode's batches: with ``vector=True``
every tangent has a leading axis of K directions. An element-wise operand's tangent is
lifted so NumPy's broadcasting lines its axes up with the result's; a reduction or an index
whose stanza has a batched form (``batch=``, :mod:`s2sad.batching`) is applied one axis
further on; a rule written for a batch (``batch_safe``) is used as it is; any other is
applied direction by direction, ``stack_directions([rule(t) for t in x_dot])``. A mixin of
:class:`s2sad.forward.transform._Forward`.

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import gast

from .. import analysis
from ..batching import batchable_index, batched_reduction, batched_subscript, is_key
from ..emit import call, name
from ..simplify import simplify


class _Vector:
    """Contributions, in vector mode batched (see the module docstring)."""

    def contribution(self, stmt, prim, param, op, template, env, dot, bound):
        """One operand's contribution, adapted to a batch of tangents in vector mode."""
        dot_key = f"{param}_dot"
        if not self.vector and (prim.elementwise or prim.reduction) and self.is_sequence(op) \
                and len(stmt.targets) == 1:  # NumPy reads the tuple (a, b) as an array
            dot = call("read_as_array", [dot, name(stmt.target.name)])
        if not self.vector or prim.batch_safe:
            return simplify(template.instantiate({**env, dot_key: dot}))
        if prim.elementwise and len(stmt.targets) > 1:  # a, b = t: t_dot is a tuple of batches
            return simplify(template.instantiate({**env, dot_key: dot}))
        sequence = self.is_sequence(op)  # a tuple of batches, where NumPy reads an array
        if prim.elementwise:
            if sequence or not self.same_rank(stmt, op):
                dot = call("lift", [dot, self.emitter.operand(op), name(stmt.target.name)])
            return simplify(template.instantiate({**env, dot_key: dot}))
        if prim.batch == "reduce" and batched_reduction(prim, bound, dot):
            dot = call("batch_of", [dot]) if sequence else dot
            return batched_reduction(prim, bound, dot)
        if prim.batch == "index" and is_key(bound["index"]):  # d["W"]: d_dot is a dict
            return simplify(template.instantiate({**env, dot_key: dot}))
        if prim.batch == "index" and batchable_index(bound["index"]):
            if self.is_sequence(op, depth=0):  # an element (a slice) of a tuple of batches
                return simplify(template.instantiate({**env, dot_key: dot}))
            if self.may_be_sequence(op):  # known only when it runs
                return call("item_dots", [dot, self.emitter.operand(bound["index"])])
            return gast.Subscript(value=dot, slice=batched_subscript(env["index"]),
                                  ctx=gast.Load())
        single = simplify(template.instantiate({**env, dot_key: name("__t__")}))
        if _is_just(single, "__t__"):
            return simplify(template.instantiate({**env, dot_key: dot}))
        # one direction at a time: stack_directions([rule(t) for t in x_dot]), np.stack's
        # meaning for any array type when a direction's tangent is a tuple (np.split's)
        # (a tuple of batches, one per element, gives one tuple per direction: directions)
        k = analysis.unique_name("t", self._taken)
        elt = simplify(template.instantiate({**env, dot_key: name(k)}))
        rows = call("directions", [dot]) if self.may_be_sequence(op) else dot
        loop = gast.comprehension(target=name(k, store=True), iter=rows, ifs=[], is_async=0)
        return call("stack_directions", [gast.ListComp(elt=elt, generators=[loop])])

    def same_rank(self, stmt, op):
        if self.shapes.same_shape_as_result(stmt, op):
            return True
        return self.shapes.is_scalar(op) and self.shapes.is_scalar(stmt.target)



def _is_just(expr, identifier):
    """True if ``expr`` is the name ``identifier`` or its negation."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        expr = expr.operand
    return isinstance(expr, gast.Name) and expr.id == identifier
