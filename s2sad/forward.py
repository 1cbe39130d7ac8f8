"""Forward mode: an SSA function becomes a gast function pushing tangents through it.

``jvp_<f>(params..., x_dot, ...)`` returns ``(out, out_dot)``. Each primal
statement is followed by its tangent statement: for ``z = f(x, y)`` the rule
table's ``jvp=`` templates give the contributions of ``x_dot`` and ``y_dot``
to ``z_dot``, which are summed. Only active values (those depending on a
``wrt`` input and reaching the output, :func:`s2sad.analysis.activity`) get
tangents, and a tangent nobody set is a *symbolic zero*: it is not written,
contributes nothing, and becomes ``np.zeros_like(v)`` only where a value is
needed (the result, a branch that leaves it unset, a loop that carries it).

Element-wise operations broadcast. When the contributions cannot be shown to
have the result's shape (``x + y`` with only a scalar ``x`` active: ``x_dot``
alone is too small), the sum is broadcast with ``+ zeros_bar(z)`` (float zeros
of z's shape, a tuple of them for a tuple); the shape analysis (:class:`s2sad.analysis.ShapeClasses`) drops that where an
operand is known to share the result's shape.

**Vector mode** (``vector=True``) carries K directions at once: every tangent
has an extra leading axis, so one sweep gives K columns of the Jacobian. The
same templates serve, adjusted: an element-wise operand's tangent is
reshaped by ``lift`` so NumPy's trailing-axis broadcasting lines its axes up
with the result's; an index gets a leading ``:``; ``np.sum``/``np.mean`` reduce
one axis further on; and a rule not written for a batch (products, reshapes,
the run-time helpers) is applied direction by direction,
``stack_directions([rule(t) for t in x_dot])`` (``np.stack``, which dispatches), as
Tapenade's vector mode loops over the directions inside each statement.

One invariant holds in both modes: a value that is a tuple or list (a literal, the
pieces of ``np.split``, ``eigh``'s pair, a helper's residuals) has a tuple or list of
tangents, one per element; in vector mode, each a batch with the directions first.
The elements may differ in shape, so they are never stacked together:
``stack_directions`` batches a tuple-valued rule's tuples element by element, a
per-direction rule iterates ``directions(x_dot)`` (one tuple per direction), an
element is ``x_dot[k]`` (``item_dots`` where only the run time knows whether ``x`` is
a tuple), unpacking ``a, b = t`` takes the tuple as it is, and where NumPy reads a
tuple as an array (``np.sin((a, b))``) so does ``lift``/``batch_of`` its tangent.

Calls of the user's own functions become calls of their generated
``jvp_<name>``, requested from :class:`s2sad.module.ForwardModuleBuilder`, generated once.
Structured control flow is transformed in place: an ``if`` merges tangents as
it merges values; a loop carries the tangents of its carried values.

A list used as a stack (``t = []``; :data:`s2sad.rules.operators.LIST_OPS`),
such as the ``tape`` of generated gradient code, gets a list of tangents
beside it, ``t_dot``, if any of its slots is active
(:func:`s2sad.analysis.active_slots`): each push of values is followed by a
push of their tangents, each pop by a pop of the tangents, each ``clear`` by
a ``clear``, so the tangent of a popped value is the tangent that was pushed
with it. A pushed tuple's tangent is a tuple of the same length: a symbolic
zero in an active slot becomes zeros, and an inactive slot holds ``None``
(no pop needs it). A helper reading the whole list (``matmul_bar_a_sum``)
reads a snapshot ``tuple(t)``, whose tangent is ``tuple(t_dot)``.
"""

import gast
import numpy as np

from . import analysis
from .batching import batchable_index, batched_reduction, batched_subscript, is_key
from .common import function_def, no_rule_error, returned_tuple, unpacking_error, writes_into
from .emit import (_copy, assign, call, carried_entry, carried_updates, comment,
                   loop_statement, name)
from .errors import NoDerivativeError
from .ir import Assign, Const, For, If, Index, Raise, Return, Var, While, walk_blocks
from . import custom_code
from .custom import CustomPrimitive
from .lower import ExternalFunction, GlobalRead, UserFunction
from .ranks import MAKERS
from .rules import RuleNotApplicable
from .rules.core import Template, rule_name
from .rules.support_rules import HELPER_RULES
from .structural import (LIST_ADD_CONTENTS, LIST_APPEND, LIST_CLEAR, LIST_NEW, LIST_SNAPSHOT,
                         is_list_statement, is_save, is_write, list_kind)
from .simplify import simplify

# the run-time helpers of generated code (zeros_bar, unindex, as_gradient, ...): what they
# return may be a tuple or a dict of adjoints, whose zero tangent keeps that structure
_HELPER_PRIMITIVES = {id(p) for p in HELPER_RULES.values()}
_ZEROS = Template("np.zeros_like(v, shape=np.shape(d)[:1] + np.shape(v))")


def tangent_namer(fn):
    return analysis.derived_namer(fn, "_dot")


class _Forward:
    """Builds the tangent function of one SSA function, block by block."""

    def __init__(self, fn, wrt, emitter, requests, func_name, vector=False, leaves=False):
        self.fn, self.emitter, self.requests = fn, emitter, requests
        self.func_name, self.vector = func_name, vector
        self.wrt_names = [fn.params[i].name for i in wrt]
        self.active = analysis.activity(fn, self.wrt_names)
        self.shapes = analysis.ShapeClasses(fn)
        self.tangent_name, self._taken = tangent_namer(fn)
        self.dot_params = [self.tangent_name(p) for p in self.wrt_names]
        # var name -> name of its tangent variable; absent means a symbolic zero
        self.tangents = {p: d for p, d in zip(self.wrt_names, self.dot_params) if p in self.active}
        self.comments = emitter.comments
        self.definitions = {t.name: stmt for stmt in walk_blocks(fn.body)
                            if isinstance(stmt, Assign) for t in stmt.targets}
        self._last_line = None
        self.slots = analysis.active_slots(fn.body, self.active)  # lists with a tangent list
        # tangent arrays this function made for a write and nothing else refers to: the next
        # write into the same array can update them in place. (Not in s2sad's own generated
        # code: its restores write into arrays whose views it reads later, which only
        # copy-on-write tangents follow exactly.)
        self.owned = set()
        self.in_place = not vector and not fn.generated
        # parameters known to be arrays or numbers (vector mode's entry takes only those)
        self.leaf_params = {p.name for p in fn.params} if leaves else set()

    # -- the whole function ----------------------------------------------------------
    def build(self):
        fn = self.fn
        body = self.block(fn.body)
        out = self.emitter.operand(fn.output)
        out_dot = self.tangent(fn.output)
        if out_dot is None:
            packed = returned_tuple(fn)  # a tuple's zero tangent is a tuple of zeros
            out_dot = self.zeros_of(fn.output) if packed is None else gast.Tuple(
                elts=[self.zeros_of(e) for e in packed.args], ctx=gast.Load())
        body.append(gast.Return(value=gast.Tuple(elts=[out, out_dot], ctx=gast.Load())))
        params = [p.name for p in fn.params] + self.dot_params
        return function_def(self.func_name, params, body)

    def tangent(self, op):
        """The tangent of an operand as an expression, or None for a symbolic zero."""
        if isinstance(op, Var) and op.name in self.tangents:
            return name(self.tangents[op.name])
        return None

    def zeros_of(self, op):
        """A zero tangent for the IR operand ``op``, with its structure: a tuple of zeros for a
        tuple made here, ``zeros_bar`` (tuples and dicts too) for a value that may be one (what
        a function or a run-time helper returned, an element of a tuple, a global, a
        parameter), else
        ``np.zeros_like``."""
        value = self.emitter.operand(op)
        if not isinstance(op, Var):
            return self.zeros(value)
        stmt = self.definitions.get(op.name)
        if isinstance(stmt, Assign) and stmt.targets == (op,) and \
                stmt.prim.emit[0] in ("tuple", "list"):
            cls = gast.Tuple if stmt.prim.emit[0] == "tuple" else gast.List
            return cls(elts=[self.zeros_of(a) for a in stmt.args], ctx=gast.Load())
        if isinstance(stmt, Assign) and rule_name(stmt.prim) == "join":
            return self.elements_tangent(stmt, zeros=True)
        if self.may_be_structured(op) or self.vector and self.is_sequence(op):
            if self.vector:  # a batch of zeros of each leaf
                return call("zeros_dots", [value, name(self.dot_params[0])])
            return call("zeros_bar", [value])
        return self.zeros(value)

    def zeros_of_items(self, op):
        """:meth:`zeros_of` a tuple or list, a constant one too: a zero tangent per item."""
        if isinstance(op, Const) and type(op.value) in (tuple, list):
            cls = gast.Tuple if type(op.value) is tuple else gast.List
            return cls(elts=[self.zeros_of(Const(e)) for e in op.value], ctx=gast.Load())
        return self.zeros_of(op)

    def may_be_structured(self, op, depth=8):
        """True if the IR operand ``op`` may hold a tuple or a dict (see :meth:`zeros_of`):
        what a function or a run-time helper returned, an element of a tuple, a global, a
        parameter, or a sum of such values (tuple adjoints add element by element)."""
        if not isinstance(op, Var):
            return False
        stmt = self.definitions.get(op.name)
        if stmt is None or not isinstance(stmt, Assign):
            return True
        if stmt.prim.emit[0] == "dict" or len(stmt.targets) > 1 or \
                rule_name(stmt.prim) == "getitem" or id(stmt.prim) in _HELPER_PRIMITIVES or \
                isinstance(stmt.prim, (UserFunction, CustomPrimitive, ExternalFunction,
                                       GlobalRead)):
            return True
        return rule_name(stmt.prim) in ("add", "sub", "copy") and depth > 0 and \
            any(self.may_be_structured(a, depth - 1) for a in stmt.args)

    def is_sequence(self, op, depth=8):
        """True if the IR operand ``op`` is a tuple or list made here (a literal, a snapshot
        ``tuple(t)`` of a list, two joined with ``+``, one repeated with ``*``): its tangent
        is a tuple or list of tangents (in vector mode, of batches), never one array."""
        stmt = isinstance(op, Var) and self.definitions.get(op.name)
        if not isinstance(stmt, Assign) or len(stmt.targets) != 1:
            return False
        if rule_name(stmt.prim) in ("add", "mul", "copy", "join") and depth > 0:
            return any(self.is_sequence(a, depth - 1) for a in stmt.args)
        return stmt.prim.emit[0] in ("tuple", "list") or \
            is_list_statement(stmt) and list_kind(stmt.prim) == LIST_SNAPSHOT

    def may_be_sequence(self, op):
        """True if ``op``'s tangent may be a tuple, list or dict of tangents (not one array):
        a sequence made here, or a value that may be one (:meth:`may_be_structured`; not the
        arguments of the entry function, which vector mode takes as arrays)."""
        if self.is_sequence(op):
            return True
        if not isinstance(op, Var) or op.name in self.leaf_params:
            return False
        if self.may_be_structured(op):  # (a sum of tuples of adjoints too)
            return True
        stmt = self.definitions.get(op.name)
        if isinstance(stmt, Assign) and len(stmt.targets) == 1 and \
                (stmt.prim.elementwise or stmt.prim.reduction or stmt.prim.name in MAKERS):
            return False  # an array (or a number)
        return True  # np.split's pieces, eigh's pair, an element of a tuple, ...

    def zeros(self, value):
        """A zero tangent for the value ``value`` (a gast expression) known not to be a
        tuple (see :meth:`zeros_of`)."""
        if not self.vector:
            return call("np.zeros_like", [value])
        # a batch of zeros: as many directions as the first tangent argument has (which, in
        # a helper's jvp, may be a tuple of batches: zeros_dots finds its first array)
        if self.wrt_names[0] not in self.leaf_params:
            return call("zeros_dots", [value, name(self.dot_params[0])])
        return _ZEROS.instantiate({"v": value, "d": name(self.dot_params[0])})

    # -- blocks ----------------------------------------------------------------------
    def note(self, loc, out):
        if loc.line != self._last_line:
            out.append(comment(f"line {loc.line}: {loc.text.strip()}", self.comments))
            self._last_line = loc.line

    def block(self, stmts):
        """Primal and tangent statements of an IR block, in program order."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, Assign):
                self.note(stmt.loc, out)
                out += self.forward_assign(stmt)
            elif isinstance(stmt, Raise):
                self.note(stmt.loc, out)
                out.append(gast.Raise(exc=self.emitter.operand(stmt.exc), cause=None))
            elif isinstance(stmt, If):
                self.note(stmt.loc, out)
                out += self.forward_if(stmt)
            elif isinstance(stmt, (For, While)):
                self.note(stmt.loc, out)
                out += self.forward_loop(stmt)
            elif not isinstance(stmt, Return):
                raise AssertionError(f"unknown statement {stmt!r}")
        return out

    def forward_if(self, stmt):
        """The ``if`` with each branch's tangents, merged like the values they belong to."""
        before = dict(self.tangents)
        branches = []
        for index, block in ((1, stmt.then_block), (2, stmt.else_block)):
            self.tangents = dict(before)
            code = self.block(block)
            code += [assign(merge[0].name, self.emitter.operand(merge[index]))
                     for merge in stmt.merges]
            branches.append((code, self.tangents))
        self.tangents = before
        merged = [(var, a, b) for var, a, b in stmt.merges if var.name in self.active and
                  (isinstance(a, Var) and a.name in branches[0][1] or
                   isinstance(b, Var) and b.name in branches[1][1])]
        for var, a, b in merged:
            target = self.tangent_name(var.name)
            for (code, tangents), source in zip(branches, (a, b)):
                value = name(tangents[source.name]) if isinstance(source, Var) and \
                    source.name in tangents else self.zeros_of(var)
                code.append(assign(target, value))
            self.tangents[var.name] = target
        then_code, else_code = branches[0][0], branches[1][0]
        return [gast.If(test=self.emitter.operand(stmt.cond), body=then_code or [gast.Pass()],
                        orelse=else_code)]

    def forward_loop(self, stmt):
        """The loop with the tangents of its carried values carried along."""
        out = carried_entry(stmt, self.emitter)
        carried = [(v, init, o) for v, init, o in stmt.carried if v.name in self.active]
        written = {v.name for v, _, _ in carried if writes_into(stmt.body, v.name)}
        for var, init, _ in carried:  # a carried tangent is a variable for the whole loop
            target = self.tangent_name(var.name)
            value = self.tangent(init)
            if self.in_place and value is not None and var.name in written and \
                    value.id not in self.owned:
                value = call("np.copy", [value])  # a copy the loop's writes update in place
            out.append(assign(target, value if value is not None else self.zeros_of(var)))
            self.tangents[var.name] = target
            self.owned.discard(value.id if isinstance(value, gast.Name) else None)
            if var.name in written and self.in_place:
                self.owned.add(target)
        cond_code = self.block(stmt.cond_block) if isinstance(stmt, While) else []
        body = self.block(stmt.body)
        updates = carried_updates(stmt, self.emitter)
        for var, _, o in carried:
            if not (isinstance(o, Var) and o == var):
                value = self.tangent(o)
                if value is None:
                    value = self.zeros_of(var)
                elif self.in_place and var.name in written and value.id not in self.owned:
                    value = call("np.copy", [value])  # the next trip writes into it again
                updates.append((self.tangents[var.name], value))
        return out + loop_statement(stmt, self.emitter, body, updates, cond_code)

    # -- one assignment --------------------------------------------------------------
    def forward_assign(self, stmt):
        """The primal statement, then its tangent statement (or one ``jvp_h`` call for both)."""
        if is_save(stmt):
            return []  # only reverse mode puts overwritten values back
        primal = self.emitter.statements(stmt)
        if is_list_statement(stmt):
            return primal + self.forward_list_op(stmt)
        if not any(t.name in self.active for t in stmt.targets):
            return primal
        prim = stmt.prim
        flowing = [op for op in stmt.operands() if self.tangent(op) is not None]
        if not flowing:
            return primal  # the result's tangent is a symbolic zero
        if isinstance(prim, UserFunction):
            return self.forward_call(stmt)
        if is_write(stmt):
            return primal + self.forward_setitem(stmt)
        if prim.emit[0] in ("tuple", "list", "dict") or rule_name(prim) == "join":
            target = self.tangent_name(stmt.target.name)
            self.tangents[stmt.target.name] = target
            return primal + [assign(target, self.elements_tangent(stmt))]
        if isinstance(prim, CustomPrimitive):  # the user's own rule (s2sad.custom)
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

    def forward_setitem(self, stmt):
        """``y_1_dot = setitem_dot(y_dot, index, v_dot)``: the tangent of ``y[index] = v``."""
        array, index, value = stmt.args
        a_dot = self.tangent(array)
        v_dot = self.tangent(value) or gast.Constant(value=0.0, kind=None)
        target = self.tangent_name(stmt.target.name)
        self.tangents[stmt.target.name] = target
        if a_dot is not None and a_dot.id in self.owned:  # y_dot[index] = v_dot, in place
            self.owned.discard(a_dot.id)
            self.owned.add(target)
            item = gast.Subscript(value=_copy(a_dot), slice=self.emitter.index_subscript(index),
                                  ctx=gast.Store())
            return [assign(item, v_dot), assign(target, a_dot)]
        a_dot = a_dot or self.zeros(name(array.name))
        if self.in_place:
            self.owned.add(target)
        helper = "setitem_dots" if self.vector else "setitem_dot"
        return [assign(target, call(helper, [a_dot, self.emitter.operand(index), v_dot]))]

    def forward_list_op(self, stmt):
        """The same statement on the tangent list ``t_dot`` of a list with active slots."""
        kind = list_kind(stmt.prim)
        t = (stmt.target if kind == LIST_NEW else stmt.args[0]).name
        slots = self.slots.get(t)
        if not slots:
            return []
        t_dot = self.tangent_name(t)
        if kind == LIST_NEW:
            self.tangents[t] = t_dot
            return [assign(t_dot, gast.List(elts=[], ctx=gast.Load()))]

        def method(attr, args=()):
            return call(gast.Attribute(value=name(t_dot), attr=attr, ctx=gast.Load()), args)

        if kind == LIST_CLEAR:
            return [gast.Expr(value=method("clear"))]
        if kind == LIST_SNAPSHOT:
            if stmt.target.name not in self.active:
                return []
            self.tangents[stmt.target.name] = self.tangent_name(stmt.target.name)
            return [assign(self.tangent_name(stmt.target.name), call("tuple", [name(t_dot)]))]
        if kind == LIST_ADD_CONTENTS:  # linear in (t, g): the same on the tangents
            g_dot = self.tangent(stmt.args[1])
            return [] if g_dot is None else \
                [gast.Expr(value=call("add_contents_dots" if self.vector else "add_contents_bar",
                                      [name(t_dot), g_dot]))]
        if kind == LIST_APPEND:
            values, dots = stmt.args[1:], []
            for k, value in enumerate(values):
                if (len(values), k) not in slots:
                    dots.append(None)  # no pop reads this slot's tangent
                else:
                    dots.append(self.tangent(value) or self.zeros_of(value))
            if all(d is None for d in dots):
                pushed = _none()
            elif len(dots) == 1:
                pushed = dots[0]
            else:
                pushed = gast.Tuple(elts=[d or _none() for d in dots], ctx=gast.Load())
            return [gast.Expr(value=method("append", [pushed]))]
        # a pop: the popped tangents, for the targets that need them; pop_bar(t, like), a pop
        # that gives zeros like ``like`` from an empty list, gives zero tangents too
        popped = method("pop") if len(stmt.args) == 1 else \
            call("pop_bar", [name(t_dot), self.emitter.operand(stmt.args[1])])
        targets = stmt.targets
        live = [k for k, v in enumerate(targets) if (len(targets), k) in slots and
                v.name in self.active]
        if not live:
            return [gast.Expr(value=popped)]
        names_ = []
        for k, v in enumerate(targets):
            if k in live:
                self.tangents[v.name] = self.tangent_name(v.name)
            names_.append(self.tangent_name(v.name) if k in live else "_")
        if len(names_) == 1:
            return [assign(names_[0], popped)]
        return [assign(gast.Tuple(elts=[name(n, store=True) for n in names_], ctx=gast.Store()),
                       popped)]

    def elements_tangent(self, stmt, zeros=False):
        """The tangent of a tuple or list literal: its elements' tangents, zeros filled in.

        In vector mode too, a tuple (list) of batches, each with its own directions axis
        first: the elements may have different shapes. A primitive that reads the tuple as
        an array reads its tangent as one, ``batch_of(v_dot)`` (:meth:`contribution`).
        """
        if rule_name(stmt.prim) == "join":  # p + q of tuples: the tangents joined too
            x, y = ((None if zeros else self.tangent(a)) or self.zeros_of_items(a)
                    for a in stmt.args)
            return gast.BinOp(left=x, op=gast.Add(), right=y)
        elts = [self.tangent(a) or self.zeros_of(a) for a in stmt.args]
        if stmt.prim.emit[0] == "dict":  # a dict of tangents (in vector mode, of batches)
            return gast.Dict(keys=[gast.Constant(value=k, kind=None)
                                   for k in stmt.prim.emit[1]], values=elts)
        cls = gast.Tuple if stmt.prim.emit[0] == "tuple" else gast.List
        return cls(elts=elts, ctx=gast.Load())

    @staticmethod
    def rule(prim, param, bound, stmt):
        """The JVP template of ``param`` (None: zero), or a located error."""
        try:
            return prim.jvp_template(param, bound)
        except KeyError:
            raise NoDerivativeError(f"s2sad has no tangent rule for argument {param!r} of "
                                    f"{prim.name}", stmt.loc,
                                    "Pass a constant for that argument.") from None
        except RuleNotApplicable as exc:
            raise NoDerivativeError(str(exc), stmt.loc, exc.hint or "Rewrite the call.") from None

    def tangent_expr(self, stmt):
        """The sum of the operands' contributions to the result's tangent, or None."""
        prim = stmt.prim
        bound = prim.bind(stmt.args, stmt.kwargs)
        env = {"ans": name(stmt.target.name) if len(stmt.targets) == 1 else
               gast.Tuple(elts=[name(t.name) for t in stmt.targets], ctx=gast.Load())}
        for param, op in bound.items():
            env[param] = self.emitter.index_subscript(op) if isinstance(op, Index) \
                else self.emitter.operand(op)
        terms, used = [], set()
        for param, op in bound.items():
            if isinstance(op, Index) and any(self.tangent(part) is not None
                                             for part in op.operands()):
                self.rule(prim, param, bound, stmt)  # zero, or a located error
            dot = self.tangent(op)
            if dot is None:
                continue
            template = self.rule(prim, param, bound, stmt)
            if template is None:
                continue
            used |= template.names()
            terms.append(self.contribution(stmt, prim, param, op, template, env, dot, bound))
        if not terms:
            return None
        if len(terms) > 1 and len(stmt.targets) > 1:  # tuples of tangents do not add with +
            raise unpacking_error(stmt)
        total = terms[0]
        structured = self.vector and any(self.may_be_structured(op) for op in stmt.args)
        for term in terms[1:]:  # (a tuple of batches and an array batch: add_dots)
            total = call("add_dots", [total, term]) if structured else _add(total, term)
        if prim.elementwise and not self.has_result_shape(stmt, bound, used):
            total = gast.BinOp(left=total, op=gast.Add(),  # (zeros_bar: tuples too)
                               right=call("zeros_bar", [env["ans"]]))
        return total

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
        if rule_name(prim) in ("np.sum", "np.mean") and batched_reduction(prim, bound, dot):
            dot = call("batch_of", [dot]) if sequence else dot
            return batched_reduction(prim, bound, dot)
        if rule_name(prim) == "getitem" and is_key(bound["index"]):  # d["W"]: d_dot is a dict
            return simplify(template.instantiate({**env, dot_key: dot}))
        if rule_name(prim) == "getitem" and batchable_index(bound["index"]):
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


def _none():
    return gast.Constant(value=None, kind=None)


def _is_just(expr, identifier):
    """True if ``expr`` is the name ``identifier`` or its negation."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        expr = expr.operand
    return isinstance(expr, gast.Name) and expr.id == identifier


def _add(left, right):
    """``left + right``, written ``left - r`` when ``right`` is ``-r``."""
    if isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
        return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
    return gast.BinOp(left=left, op=gast.Add(), right=right)


def forward_function(fn, wrt, emitter, requests, func_name, vector=False, leaves=False):
    """The gast FunctionDef of ``jvp`` of ``fn`` w.r.t. parameter positions ``wrt``
    (``leaves``: its arguments are arrays and numbers, never tuples, lists or dicts)."""
    return _Forward(fn, wrt, emitter, requests, func_name, vector, leaves).build()


def entry_params(node):
    return [a.id for a in node.args.args]
