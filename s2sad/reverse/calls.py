"""The backward sweep of calls of the user's own functions.

A call ``z = h(x)`` became ``z, z_res = fwd_h(x)`` (:class:`SplitCall`, made by
:meth:`_Reverse.split_calls <s2sad.reverse.sweep._Reverse.split_calls>`): its
adjoint is ``x_bar = bwd_h(z_res, z_bar)``; a callee with a loop is called through
one ``vjp_h`` instead (:meth:`_Calls.backward_joint_call`). A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

from dataclasses import replace

import gast

from ..emit import assign, call, name
from ..lower import UserFunction


class SplitCall(UserFunction):
    """``z, z_res = fwd_h(args)``: a call of a user function whose adjoints come from
    ``bwd_h(z_res, z_bar)`` (see :meth:`_Reverse.split_calls`)."""

    def __init__(self, user, fwd, bwd, n_out, positions):
        self.__dict__.update(user.__dict__)
        self.fwd, self.bwd, self.n_out, self.positions = fwd, bwd, n_out, positions
        self.emit = ("split", fwd, n_out)

    @property
    def elementwise(self):  # two results: not a ufunc-like call for the shape analysis
        return False


class _Calls:
    """Calls of user functions (see the module's docstring)."""

    def backward_joint_call(self, stmt, z, g):
        """``x_bar = vjp_h(args, z_bar)``: a callee's forward and backward sweeps in one call
        (for a callee with loops, whose tape stays inside ``vjp_h``)."""
        positions = tuple(i for i, op in enumerate(stmt.args) if self.is_active(op))
        if not positions:
            return []
        vjp_name = self.requests.request_vjp(stmt.prim.fn, positions)
        value = call(name(vjp_name), [self.emitter.operand(a) for a in stmt.args] + [g])
        return self.add_call_adjoints(stmt, z, value, positions)

    def add_call_adjoints(self, stmt, z, value, positions):
        """Add what a call of a derivative function returns (one adjoint per position)."""
        if len(positions) == 1:
            return self.adjoints.add(stmt.args[positions[0]].name, value)
        temps = [f"{z}_{stmt.prim.params[i]}_bar" for i in positions]
        out = [assign(gast.Tuple(elts=[name(t, store=True) for t in temps], ctx=gast.Store()),
                      value)]
        for i, temp in zip(positions, temps):
            out += self.adjoints.add(stmt.args[i].name, name(temp))
        return out

    def backward_call(self, stmt):
        """``x_bar = bwd_h(z_res, z_bar)``: a user function's adjoints from its residuals."""
        prim = stmt.prim
        outputs = replace(stmt, targets=stmt.targets[:prim.n_out])
        z, g, _ = self.result_adjoint(outputs)
        if g is None:
            return []
        value = call(name(prim.bwd), [name(stmt.targets[-1].name), g])
        return self.add_call_adjoints(stmt, z, value, prim.positions)
