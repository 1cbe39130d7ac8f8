"""One assignment's tangent: the primal statement, then the sum of its operands'
contributions from the rule table's JVP templates (:func:`s2sad.common.rule_template`), or
one ``jvp_h`` call for a user function's value and tangent, or a literal's tuple of its
elements' tangents. An element-wise sum that may be smaller than the result (only a
scalar operand is active) is broadcast with ``+ zeros_bar(z)``; tuples of tangents (a
statement of several results, ``q, r = np.divmod(x, y)``) add result by result. A mixin of
:class:`s2sad.forward.transform._Forward`.

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import functools

import gast
import numpy as np

from .. import custom_code
from ..common import no_rule_error, rule_template, unpacking_error
from ..emit import assign, call, name
from ..ir import Const, Index, Var
from ..lower import ExternalFunction
from ..structural import CustomCall, ListStatement, SaveItem, UserCall, WriteItem
from .structure import joins


class _Tangents:
    """One assignment's tangent (see the module docstring)."""

    def forward_assign(self, stmt):
        """The primal statement, then its tangent statement (or one ``jvp_h`` call for both)."""
        if isinstance(stmt, SaveItem):
            return []  # only reverse mode puts overwritten values back
        primal = self.emitter.statements(stmt)
        if isinstance(stmt, ListStatement):
            return primal + self.forward_list_op(stmt)
        if not any(t.name in self.active for t in stmt.targets):
            return primal
        prim = stmt.prim
        flowing = [op for op in stmt.operands() if self.tangent(op) is not None]
        if not flowing:
            return primal  # the result's tangent is a symbolic zero
        if isinstance(stmt, UserCall):
            return self.forward_call(stmt)
        if isinstance(stmt, WriteItem):
            return primal + self.forward_setitem(stmt)
        if prim.emit[0] in ("tuple", "list", "dict") or joins(prim):
            target = self.tangent_name(stmt.target.name)
            self.tangents[stmt.target.name] = target
            return primal + [assign(target, self.elements_tangent(stmt))]
        if isinstance(stmt, CustomCall):  # the user's own rule (s2sad.custom)
            return primal + custom_code.forward(self, stmt)
        if isinstance(prim, ExternalFunction) or (prim.varargs and not prim.jvp):
            raise no_rule_error(stmt)
        value = self.tangent_expr(stmt)
        if value is None:
            return primal
        return primal + [assign(self.result_tangent(stmt), value)]

    def result_tangent(self, stmt):
        """The assignment target of a statement's tangent: one name, or a tuple of names."""
        for t in stmt.targets:
            self.tangents[t.name] = self.tangent_name(t.name)
        if len(stmt.targets) == 1:
            return name(self.tangents[stmt.target.name], store=True)
        return gast.Tuple(elts=[name(self.tangents[t.name], store=True) for t in stmt.targets],
                          ctx=gast.Store())

    def elements_tangent(self, stmt, zeros=False):
        """The tangent of a tuple or list literal: its elements' tangents, zeros filled in.

        In vector mode too, a tuple (list) of batches, each with its own directions axis
        first: the elements may have different shapes. A primitive that reads the tuple as
        an array reads its tangent as one, ``batch_of(v_dot)`` (:meth:`contribution`).
        """
        if joins(stmt.prim):  # p + q of tuples: the tangents joined too
            x, y = ((None if zeros else self.tangent(a)) or self.zeros_of_items(a)
                    for a in stmt.args)
            return gast.BinOp(left=x, op=gast.Add(), right=y)
        elts = [self.tangent(a) or self.zeros_of(a) for a in stmt.args]
        if stmt.prim.emit[0] == "dict":  # a dict of tangents (in vector mode, of batches)
            return gast.Dict(keys=[gast.Constant(value=k, kind=None)
                                   for k in stmt.prim.emit[1]], values=elts)
        cls = gast.Tuple if stmt.prim.emit[0] == "tuple" else gast.List
        return cls(elts=elts, ctx=gast.Load())

    def tangent_expr(self, stmt):
        """The sum of the operands' contributions to the result's tangent, or None."""
        prim = stmt.prim
        bound = prim.bind(stmt.args, stmt.kwargs)
        env = {"ans": name(stmt.target.name) if len(stmt.targets) == 1 else
               gast.Tuple(elts=[name(t.name) for t in stmt.targets], ctx=gast.Load())}
        for param, op in bound.items():
            env[param] = self.emitter.index_subscript(op) if isinstance(op, Index) \
                else self.emitter.operand(op)
        terms, used, tuples = [], set(), len(stmt.targets) > 1
        for param, op in bound.items():
            if isinstance(op, Index) and any(self.tangent(part) is not None
                                             for part in op.operands()):
                rule_template(stmt, param, bound, "jvp")  # zero, or a located error
            dot = self.tangent(op)
            if dot is None:
                continue
            template = rule_template(stmt, param, bound, "jvp")
            if template is None:
                continue
            used |= template.names()
            tuples |= isinstance(template.tree, gast.Tuple)  # one tangent per result
            terms.append(self.contribution(stmt, prim, param, op, template, env, dot, bound))
        if not terms:
            return None
        if len(terms) > 1 and tuples:  # tuples of tangents add result by result, not with +
            if all(isinstance(t, gast.Tuple) for t in terms):
                return _add_tuples(stmt, terms)
            return functools.reduce(  # (made direction by direction, or a helper's tuple)
                lambda x, y: call("add_dots" if self.vector else "add_bars", [x, y]), terms)
        total = terms[0]
        structured = self.vector and any(self.may_be_structured(op) for op in stmt.args)
        for term in terms[1:]:  # (a tuple of batches and an array batch: add_dots)
            total = call("add_dots", [total, term]) if structured else _add(total, term)
        if prim.elementwise and not self.has_result_shape(stmt, bound, used):
            zeros = call("zeros_bar", [env["ans"]])  # (tuples too; a batch meets a tuple's
            total = call("add_dots", [total, zeros]) if structured else \
                gast.BinOp(left=total, op=gast.Add(), right=zeros)  # zeros by add_dots)
        return total

    def has_result_shape(self, stmt, bound, used):
        """True if the summed contributions of an element-wise operation have its shape."""
        if "ans" in used:
            return True
        mentioned_all = True
        for param, op in bound.items():
            if isinstance(op, Const) and np.ndim(op.value) == 0 or not isinstance(op, (Var, Const)):
                continue
            if self.shapes.is_scalar(op):
                continue
            mentioned = param in used or f"{param}_dot" in used
            if mentioned and self.shapes.same_shape_as_result(stmt, op):
                return True
            mentioned_all &= mentioned
        return mentioned_all

    def forward_call(self, stmt):
        """``z, z_dot = jvp_h(args..., tangents...)``: a user function's value and tangent."""
        prim = stmt.prim
        positions = [i for i, op in enumerate(stmt.args) if self.tangent(op) is not None]
        jvp_name = self.requests.request_jvp(prim.fn, tuple(positions))
        args = [self.emitter.operand(a) for a in stmt.args] + \
            [self.tangent(stmt.args[i]) for i in positions]
        primal = self.emitter.statement(stmt).targets[0]
        pair = gast.Tuple(elts=[primal, self.result_tangent(stmt)], ctx=gast.Store())
        return [assign(pair, call(name(jvp_name), args))]



def _add_tuples(stmt, terms):
    """The operands' contributions to a tuple of results' tangents (tuple literals, one
    tangent per result: :mod:`s2sad.rules.core`) added result by result; a result's
    ``np.zeros_like(...)`` (a zero of its shape) is left out where another operand gives it a
    tangent."""
    if len({len(t.elts) for t in terms}) != 1:
        raise unpacking_error(stmt)
    sums = []
    for parts in zip(*(t.elts for t in terms)):
        given = [p for p in parts if not _is_zeros(p)] or [parts[0]]
        total = given[0]
        for part in given[1:]:
            total = _add(total, part)
        sums.append(total)
    return gast.Tuple(elts=sums, ctx=gast.Load())


def _is_zeros(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        node.func.attr == "zeros_like" and isinstance(node.func.value, gast.Name) and \
        node.func.value.id == "np"


def _add(left, right):
    """``left + right``, written ``left - r`` when ``right`` is ``-r``."""
    if isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
        return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
    return gast.BinOp(left=left, op=gast.Add(), right=right)
