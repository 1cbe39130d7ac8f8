"""The backward sweep of one assignment: its rule's templates, bound and simplified.

:meth:`_Assignments.backward_assign` gives, for ``z = f(x, y)``, the contributions
of ``z_bar`` to ``x_bar`` and ``y_bar`` from the rule table's templates
(:meth:`_Assignments.template`), substitutes a single-use operand
(``substitutable``), spreads a contribution over a tuple's parts and drops an
``unbroadcast`` that cannot change a shape (:class:`s2sad.analysis.ShapeClasses`).
:meth:`_Assignments.check_rules` refuses, before anything is emitted, an active
operand without a rule. A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from .. import analysis
from ..adjoints import is_call, spread, strip_unbroadcast, uses_of_g
from ..common import rule_template
from ..emit import assign, call, name
from ..ir import Assign, Index, Var
from .. import custom_code
from ..rules import RuleNotApplicable
from ..rules.core import rule_name
from ..rules.templates import as_template
from ..simplify import mask_name, number, simplify
from ..structural import CustomCall, ListStatement, UserCall
from .calls import SplitCall
from .shared import _copy


class _Assignments:
    """One assignment (see the module's docstring)."""

    # -- one assignment -------------------------------------------------------------
    def backward_assign(self, stmt):
        """The adjoint statements of one primal assignment (rules checked by check_rules)."""
        if isinstance(stmt.prim, SplitCall):
            return self.backward_call(stmt)
        z, g, ans = self.result_adjoint(stmt)
        if g is None:
            return []
        prim = stmt.prim
        if isinstance(stmt, UserCall):  # a callee with loops: its vjp_h, in one piece
            return self.backward_joint_call(stmt, z, g)
        if isinstance(stmt, CustomCall):  # the user's own rule (s2sad.custom)
            return custom_code.backward(self, stmt, z, g, ans if ans is not None else name(z))
        bound = prim.bind(stmt.args, stmt.kwargs)
        targets = [(param, op) for param, op in bound.items() if self.is_active(op)]
        if not targets:
            return []
        shared = self.shared_templates(stmt, bound)
        env = self.rule_env(stmt, bound, targets, shared, z, g, ans)
        out = []
        for key, template in shared.items():
            temp = f"{z}_{key}"
            out.append(assign(temp, template.instantiate_simplified(env, simplify)))
            env[key] = name(temp)
        spreads = {}
        pending = spread(g) if prim.elementwise and not shared else None
        if pending:
            for param, op in targets:
                template = self.template(stmt, param, bound)
                if template is not None:
                    spreads[param] = self.spread_contribution(
                        stmt, template, self.mask_env(stmt, param, env), op, *pending)
            if None in spreads.values() and len(stmt.targets) == 1:  # the array, made once
                out += self.adjoints.materialize(z)
                env["g"] = g = self.adjoints.read(z)
                spreads = {k: v for k, v in spreads.items() if v is not None}
        for param, op in targets:
            template = self.template(stmt, param, bound)
            if template is None:
                continue
            contribution = spreads.get(param)
            if contribution is None:
                contribution = template.instantiate_simplified(self.mask_env(stmt, param, env),
                                                               simplify)
                contribution = self.drop_unbroadcast(contribution, stmt, op)
            if self.deferred and op.name in self.deferred[-1]:
                out += self.defer(op.name, contribution)
            elif self.adjoints.read(op.name) is None and self.substitutable(op):
                self.adjoints.value[op.name] = contribution  # used once, by the next rule
            else:
                out += self.adjoints.add(op.name, contribution)
        return out

    def substitutable(self, op):
        """True if ``op``'s adjoint can stay an expression the next statement's rule reads
        once (no ``op_bar = ...`` line): ``op`` is what that statement defines, and its
        rules (a plain primitive's) mention ``g`` once in all."""
        stmt = self.consumer
        if not (type(stmt) is Assign and len(stmt.targets) == 1 and
                stmt.target.name == op.name and rule_name(stmt.prim) is not None):
            return False
        known = self._uses_of_g.get(id(stmt))
        if known is None or known[0] is not stmt:  # (the statement kept: its id not reused)
            known = self._uses_of_g[id(stmt)] = (stmt, self.g_reads(stmt))
        return known[1] == 1

    def g_reads(self, stmt):
        """How many times the rules of ``stmt`` (a plain primitive's) read ``g`` in all, for
        its active operands; None if one has no template."""
        bound = stmt.prim.bind(stmt.args, stmt.kwargs)
        uses = sum(uses_of_g(t) for t in stmt.prim.shared.values())
        for param, arg in bound.items():
            if self.is_active(arg):
                try:
                    template = stmt.prim.vjp_template(param, bound)
                except (KeyError, RuleNotApplicable):
                    return None
                uses += uses_of_g(template) if template is not None else 0
        return uses

    def spread_contribution(self, stmt, template, env, op, c, like):
        """An element-wise rule applied to ``g = unreduce(c, like)`` with ``g`` the number
        ``c``: still a spread number (``unreduce(c', like)``, no array made) when it stays a
        number for an operand of the result's shape, its total (``c' * element_count(like)``)
        for a 0-d operand, the array expression itself when every operand has the result's
        shape; None when none of these is known to hold."""
        value = simplify(strip_unbroadcast(template.instantiate({**env, "g": _copy(c)}),
                                            op.name))
        same = self.shapes.same_shape_as_result(stmt, op)
        if number(value) is not None:
            if same:
                return call("unreduce", [value, _copy(like)])
            if self.shapes.is_scalar(op):
                return simplify(gast.BinOp(left=value, op=gast.Mult(),
                                           right=call("element_count", [_copy(like)])))
            return None
        if all(self.shapes.same_shape_as_result(stmt, a) for a in stmt.operands()
               if isinstance(a, Var)) and same and not isinstance(value, gast.Name):
            return value  # (a bare name would make a primal array an adjoint: not that)
        return None

    def rule_env(self, stmt, bound, targets, shared, z, g, ans):
        """The names ``stmt``'s rules read (``shared``'s, and the ``targets``' templates'):
        ``g``, ``ans`` (``z``'s name unless ``ans``), its operands. (An operand no rule reads
        is left out when it is a variable: spelling one has no effect on the module.)"""
        reads = set()
        for template in shared.values():
            reads |= template.read_names()
        for param, _ in targets:
            template = self.template(stmt, param, bound)
            if template is not None:
                reads |= template.read_names()
        env = {"g": g}
        if "ans" in reads:
            env["ans"] = ans if ans is not None else name(z)
        for param, op in bound.items():
            if param in reads or type(op) is not Var:
                env[param] = self.emitter.operand(op)
        return env

    def result_adjoint(self, stmt):
        """``(stem, g, ans)`` of an assignment: its result's adjoint (None: zero) and value.

        A result unpacked into several names (``w, v = np.linalg.eigh(a)``,
        ``a, b = helper(x)``) is one tuple: ``g`` is the tuple of the names'
        adjoints, zeros where a name has none, ``ans`` the tuple of the names (None for
        one name: ``name(stem)`` where a rule reads it).
        """
        if len(stmt.targets) == 1:
            z = stmt.target.name
            return z, self.adjoints.read(z), None
        bars = [self.adjoints.read(t.name) for t in stmt.targets]
        if all(b is None for b in bars):
            return None, None, None
        g = gast.Tuple(elts=[_copy(b) if b is not None else call("zeros_bar", [name(t.name)])
                             for t, b in zip(stmt.targets, bars)], ctx=gast.Load())
        ans = gast.Tuple(elts=[name(t.name) for t in stmt.targets], ctx=gast.Load())
        return "_".join(t.name for t in stmt.targets), g, ans

    def check_rules(self):
        """Raise for the first active statement (in program order) that has no rule."""
        for stmt in analysis.walk(self.fn.body):
            if not isinstance(stmt, Assign) or isinstance(stmt, (UserCall, ListStatement)) or \
                    not any(t.name in self.active for t in stmt.targets):
                continue
            if isinstance(stmt, CustomCall):
                stmt.prim.check("vjp", stmt)
                continue
            prim = stmt.prim
            bound = prim.bind(stmt.args, stmt.kwargs)
            for param, op in bound.items():
                if self.is_active(op) or isinstance(op, Index) and any(
                        self.is_active(part) for part in op.operands()):
                    self.template(stmt, param, bound)

    def template(self, stmt, param, bound):
        """The VJP template for ``param`` of ``stmt`` (None: zero), or a located error; the
        one reading the forward sweep's ``mask`` where there is one (:mod:`.forward_masks`).
        Made once per statement and operand (``bound``: the statement's operands bound)."""
        known = self._templates.get((id(stmt), param))
        if known is None or known[0] is not stmt:  # (the statement kept: its id not reused)
            known = self._templates[id(stmt), param] = (stmt, self.own_template(stmt, param,
                                                                                bound))
        return known[1]

    def own_template(self, stmt, param, bound):
        """:meth:`template`, not remembered."""
        if param in self.masks.get(_result(stmt), ()):
            return as_template(stmt.prim.masks[param][1], bound)
        if self.shared_templates(stmt, bound) is not stmt.prim.shared and \
                param in stmt.prim.joint[1]:
            return as_template(stmt.prim.joint[1][param], bound)
        return rule_template(stmt, param, bound, "vjp")

    def shared_templates(self, stmt, bound):
        """The values ``stmt``'s VJPs share: its ``joint`` ones when every operand they are
        for is active (one pass for both adjoints of a ``where``), else its ``shared``."""
        joint = getattr(stmt.prim, "joint", None)
        if joint and all(self.is_active(bound.get(param)) for param in joint[1]):
            return joint[0]
        return stmt.prim.shared

    def mask_env(self, stmt, param, env):
        """``env`` with ``mask``, the forward sweep's mask for ``param``, if it has one."""
        mask = self.masks.get(_result(stmt), {}).get(param)
        return env if mask is None else {**env, "mask": mask_name(mask)}

    def is_active(self, op):
        return isinstance(op, Var) and op.name in self.active

    def drop_unbroadcast(self, expr, stmt, operand):
        """``unbroadcast(e, x)`` as ``e`` where ``e`` is known to have ``x``'s shape, also
        under a negation or a scaling (``-unbroadcast(e, y) / y``)."""
        if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
            expr.operand = self.drop_unbroadcast(expr.operand, stmt, operand)
            return expr
        if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div)):
            expr.left = self.drop_unbroadcast(expr.left, stmt, operand)
            return expr
        if is_call(expr, "unbroadcast") and len(expr.args) == 2 and \
                isinstance(expr.args[1], gast.Name) and expr.args[1].id == operand.name:
            # (only the rule's own unbroadcast to this operand: one inside a substituted
            # adjoint belongs to another statement)
            if number(expr.args[0]) is not None or self.shapes.same_shape_as_result(stmt, operand):
                return expr.args[0]
        return expr


def _result(stmt):
    """The name of ``stmt``'s one result, or None (several, or none: a call's statement)."""
    return stmt.targets[0].name if len(stmt.targets) == 1 else None
