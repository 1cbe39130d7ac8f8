"""Reverse mode: an SSA function becomes a gast function computing its adjoints.

The generated function has two parts:

* the **forward sweep**: the primal statements, minus those neither the output
  nor the backward sweep reads (:func:`s2sad.analysis.prune`). Inside loops,
  each block ends by pushing onto ``tape`` the values it defines that the
  backward sweep reads (and that the next trip would overwrite); values
  computed before a loop are not stored per trip. Cheap inactive index
  arithmetic (``j = i + 1``, ``k = j % 3``, comparisons) is recomputed after the
  pop instead, with everything it depends on that is not available unchanged
  there (a value an enclosing loop carries is not, unless popped); where that
  closure is not cheap, the value is stored (:meth:`_Reverse.fill_pops`).
* the **backward sweep**: the statements in reverse order. For ``z = f(x, y)``
  the rule table's templates give the contributions of ``z_bar`` to ``x_bar``
  and ``y_bar``. An ``if`` is replayed as an ``if`` on the same condition (in a
  loop, the trip's: popped or recomputed like any value the sweep reads); a
  loop is replayed in reverse (``for i in reversed(range(n))`` or, for ``while``
  loops and loops left early, ``for _ in range(trips)``), each block first
  popping what its forward block pushed.

Adjoints follow the "symbolic zero, first write assigns" discipline of
:class:`Adjoints`: an adjoint nobody has touched is not an array of zeros; its
first contribution assigns it, later ones add to it (in place only when the
adjoint is an array the sweep created itself, never an alias of another
adjoint). Zeros are written only where structure forces a value: an adjoint
set in one branch of an ``if`` but not the other, or accumulated across trips
of a loop. The seed of ``grad`` is the constant 1, which the simplifier folds
away, so ``x_bar = 1.0 * v1 / x`` is written ``x_bar = v1 / x``.

A list used as a stack (``t = []``, :data:`s2sad.rules.operators.LIST_OPS`),
such as the ``tape`` of generated gradient code differentiated again, is
memory: a value pushed and later popped is a copy of it. If any of its slots
is active (:func:`s2sad.analysis.active_slots`) it gets a list of adjoints
``t_bar``, made where the backward sweep of the block making ``t`` starts,
and each statement on ``t`` is mirrored on it in reverse order: the adjoint
of ``v = t.pop()`` pushes ``v_bar`` (``t_bar.append(v_bar)``), the adjoint of
``t.append(v)`` pops it into ``v_bar`` (``pop_bar``), ``t.clear()`` mirrors
as ``t_bar.clear()``, and the adjoint of a snapshot ``tuple(t)`` adds its
adjoint to every element's (``add_contents_bar``). ``t_bar`` holds the
adjoints of the top ``len(t_bar)`` elements of ``t``; those below are zero.

``kind`` is ``"grad"`` (seed 1: ``grad_<f>`` returning the adjoints and
``value_and_grad_<f>`` returning the value too, from one pair of sweeps),
``"vjp"`` (seed ``out_bar``) or ``"split"``
(``fwd_<name>`` and ``bwd_<name>`` of a user function, :func:`split_functions`).
A call of the user's own function ``z = h(x)`` becomes ``z, z_res = fwd_h(x)`` in
the forward sweep and ``x_bar = bwd_h(z_res, z_bar)`` in the backward sweep, so
``h`` runs once; the pair is requested from the module builder, generated once.
A callee with a loop is called through one ``vjp_h`` instead (its tape cannot
be handed from ``fwd_h`` to ``bwd_h`` and still be differentiated again).

Writes into arrays (``y_1 = setitem(y, index, v)``) run in place in the forward
sweep; the backward sweep undoes each write (``y[index] = y_old``, the value
``overwritten`` saved) where it still reads the array's memory, then zeroes the
written part of the adjoint (in place when it owns it).
"""

from dataclasses import replace

import gast

from . import analysis
from .adjoints import Adjoints, is_call, spread, strip_unbroadcast, uses_of_g
from .astutil import clone
from .common import function_def, no_rule_error, returned_tuple, unpacking_error, writes_into
from .emit import assign, call, comment, emit_block, name
from .errors import InternalError, NoDerivativeError, UnsupportedSyntaxError
from .ir import Assign, Const, For, If, Index, Return, Var, While, walk_blocks
from . import custom_code
from .checkpoint import checkpoint_loops
from .custom import CustomPrimitive
from .lower import ExternalFunction, UserFunction
from .memory import Memory
from .rules.operators import is_list_op
from .rules import RuleNotApplicable
from .rules.core import Primitive, Template
from .simplify import number, simplify


def adjoint_namer(fn):
    return analysis.derived_namer(fn, "_bar")[0]


class _Reverse:
    """Builds the backward sweep of one function, then its forward sweep."""

    def __init__(self, fn, wrt, kind, emitter, requests, func_name, entry=False, aux=None,
                 checkpoint=None):
        self.fn, self.kind, self.emitter, self.requests = fn, kind, emitter, requests
        self.entry = entry  # an entry point: its adjoints go to the caller (as_gradient)
        self.aux = aux  # has_aux: the operand returned beside the loss, or None
        self.checkpoint = checkpoint  # None, "sqrt" or a number of snapshots (s2sad.checkpoint)
        self.func_name = func_name
        self.wrt_names = [fn.params[i].name for i in wrt]
        self.active = analysis.activity(fn, self.wrt_names)
        self.shapes = analysis.ShapeClasses(fn, output_is_scalar=kind not in ("vjp", "split"))
        self._residual_names = analysis.defined_names(fn.body) | {p.name for p in fn.params}
        fn = self.fn = replace(fn, body=self.split_calls(fn.body))
        self.adjoints = Adjoints(adjoint_namer(fn), keep=[fn.params[i].name for i in wrt])
        self.comments = emitter.comments
        self.loop_depth = 0
        self._carry_pairs = []  # (carried var, its update) of the loop whose body is next
        self.deferred = []  # per enclosing loop: {var: (terms list name, "a" or "b")}
        self.pops = []  # a _PopSite per block inside loops, enclosing blocks first
        self._sites = []  # the _PopSites of the blocks backward_block is in, innermost last
        self._headers = []  # For targets the backward sweep's loop headers bind again
        self.counters = {}  # id(loop) -> trip counter name
        self.consumer = None  # the statement backward_block processes next (substitutable)
        taken = analysis.defined_names(fn.body) | {p.name for p in fn.params}
        self.tape = analysis.unique_name("tape", taken)
        # the seed is the output's adjoint: it may share its name, no other variable's
        output = fn.output.name if isinstance(fn.output, Var) else None
        self.seed_name = analysis.unique_name("out_bar", taken | {
            self.adjoints.adjoint_name(v) for v in taken if v != output})
        self._taken = taken
        self.slots = analysis.active_slots(fn.body, self.active)  # lists with a t_bar
        self.memory = None  # which values may share memory (s2sad.memory), on the first write
        self.written = None  # names that may share memory with an array written in place
        # y_1 (written) -> y_old (what the write destroyed), for the restores
        self.overwritten = {}
        last_saved = None
        for stmt in walk_blocks(fn.body):
            if isinstance(stmt, Assign) and stmt.prim.name == "overwritten":
                last_saved = stmt.target.name
            elif isinstance(stmt, Assign) and stmt.prim.name == "setitem" and last_saved:
                self.overwritten[stmt.target.name] = last_saved
                last_saved = None

    # -- the whole function ------------------------------------------------------
    def split_calls(self, block):
        """``z = h(x)`` on a differentiated ``x`` becomes ``z, z_res = fwd_h(x)``.

        The forward sweep keeps what ``h``'s backward sweep needs (its residuals)
        instead of recomputing ``h``: the backward sweep calls ``bwd_h(z_res, z_bar)``.
        """
        out = []
        for stmt in block:
            if isinstance(stmt, Assign) and isinstance(stmt.prim, UserFunction) and \
                    not isinstance(stmt.prim, SplitCall) and \
                    any(t.name in self.active for t in stmt.targets):
                positions = tuple(i for i, op in enumerate(stmt.args) if self.is_active(op))
                if positions and not _has_loops(self.requests.lowered(stmt.prim.fn)):
                    fwd, bwd = self.requests.request_split(stmt.prim.fn, positions)
                    stem = "_".join(t.name for t in stmt.targets)
                    res = Var(analysis.unique_name(f"{stem}_res", self._residual_names))
                    stmt = replace(stmt, targets=stmt.targets + (res,),
                                   prim=SplitCall(stmt.prim, fwd, bwd, len(stmt.targets),
                                                  positions))
            elif isinstance(stmt, If):
                stmt = replace(stmt, then_block=self.split_calls(stmt.then_block),
                               else_block=self.split_calls(stmt.else_block))
            elif isinstance(stmt, For):
                stmt = replace(stmt, body=self.split_calls(stmt.body))
            elif isinstance(stmt, While):
                stmt = replace(stmt, cond_block=self.split_calls(stmt.cond_block),
                               body=self.split_calls(stmt.body))
            out.append(stmt)
        return out

    with_value = False  # build: vjp returns (value, vjps)

    def build(self):
        """The FunctionDef of the ``vjp`` derivative (seed ``out_bar``), returning the
        vector-Jacobian products, or ``(value, vjps)`` if ``with_value``."""
        head, tail, grads, out_expr, saved_value = self.sweeps()
        params = [p.name for p in self.fn.params] + [self.seed_name]
        returned = grads
        if self.with_value:
            value = name(saved_value[0].targets[0].id) if saved_value else out_expr
            returned = gast.Tuple(elts=[value, grads], ctx=gast.Load())
            head = head + saved_value
        # no defaults: Python allows none before vjp's trailing out_bar
        return function_def(self.func_name, params, head + tail + [gast.Return(value=returned)])

    def build_grad_pair(self, grad_name, value_and_grad_name):
        """``grad_<f>`` and ``value_and_grad_<f>``: one pair of sweeps (seed 1), two returns."""
        head, tail, grads, out_expr, saved_value = self.sweeps()
        tail = _expand_slots(tail)
        params = [p.name for p in self.fn.params]
        defaults = [self.emitter.operand(p.default) for p in self.fn.params if p.has_default]
        value = name(saved_value[0].targets[0].id) if saved_value else out_expr
        saved_aux = []
        if self.aux is not None:  # has_aux: (grads, aux) and ((value, aux), grads)
            aux_name = analysis.unique_name("aux", self._taken)
            aux = self.emitter.operand(self.aux)  # kept before the backward sweep restores
            saved_aux = [assign(aux_name, call("kept", [aux]) if _writes(self.fn.body) else aux)]
            grads = gast.Tuple(elts=[grads, name(aux_name)], ctx=gast.Load())
            value = gast.Tuple(elts=[value, name(aux_name)], ctx=gast.Load())
            returned = gast.Tuple(elts=[value, grads.elts[0]], ctx=gast.Load())
        else:
            returned = gast.Tuple(elts=[value, grads], ctx=gast.Load())
        grad = function_def(grad_name, params, head + _copy(saved_aux) + tail +
                            [gast.Return(value=grads)], defaults)
        both = function_def(value_and_grad_name, params, _copy(
            head + saved_value + saved_aux + tail + [gast.Return(value=returned)]),
            _copy(defaults))
        return grad, both

    def build_split(self, fwd_name, bwd_name):
        """``fwd_h(params) -> (out, residuals)`` and ``bwd_h(residuals, out_bar) -> bars``.

        The residuals are what the backward sweep reads of the forward sweep's
        values (its free names), the tape included.
        """
        head, tail, grads, out_expr, _ = self.sweeps()
        tail = _expand_slots(tail)
        defined = self._residual_names | {self.tape}
        residuals = [n for n in analysis.free_names(tail + [gast.Return(value=grads)])
                     if n in defined]
        packed = gast.Tuple(elts=[name(n) for n in residuals], ctx=gast.Load())
        # a residual made inside an if or a loop may be unbound where it was not made (its
        # backward code does not run then): it starts as None
        top = {t.id for stmt in head if isinstance(stmt, gast.Assign) for t in
               gast.walk(stmt.targets[0]) if isinstance(t, gast.Name)}
        top |= {p.name for p in self.fn.params}
        head = [assign(n, gast.Constant(value=None, kind=None)) for n in residuals
                if n not in top] + head
        fwd = function_def(fwd_name, [p.name for p in self.fn.params], head + [gast.Return(
            value=gast.Tuple(elts=[out_expr, packed], ctx=gast.Load()))])
        unpack = [assign(gast.Tuple(elts=[name(n, store=True) for n in residuals],
                                    ctx=gast.Store()), name("residuals"))] if residuals else []
        bwd = function_def(bwd_name, ["residuals", self.seed_name],
                           unpack + tail + [gast.Return(value=grads)])
        return fwd, bwd

    def sweeps(self):
        """``(head, tail, grads, out, saved)``: the statements up to the end of the forward
        sweep, the backward sweep, the adjoints returned, the value, and (for
        ``value_and_grad``) a statement keeping the value where the backward sweep
        overwrites its variable."""
        fn, out = self.fn, self.fn.output
        if self.kind not in ("vjp", "split"):
            check_one_value(fn)
        if isinstance(out, Var) and out.name in self.active:
            seed = gast.Constant(value=1.0, kind=None) if self.kind not in ("vjp", "split") \
                else name(self.seed_name)
            self.adjoints.seed(out.name, seed)
        self.check_rules()
        backward = _expand_slots(self.backward_block(fn.body), _Restore)
        spreads = "unreduce" in analysis.names_read(backward)  # may make read-only views
        results = []
        for param in self.wrt_names:
            value = self.adjoints.read(param) if param in self.active else None
            if value is None:
                value = call("zeros_bar", [name(param)])  # (a tuple too)
            if self.shapes.is_scalar(Var(param)):
                pass
            elif self.entry:
                # in the argument's structure and dtype, and not a read-only view (unreduce's)
                value = call("as_gradient", [value, name(param)])
            elif spreads and (isinstance(value, gast.Call) or param not in self.adjoints.owned):
                value = call("writable", [value])  # not a read-only view made by unreduce
            results.append(value)
        grads = results[0] if len(results) == 1 else gast.Tuple(elts=results, ctx=gast.Load())
        pushes, recompute_reads = self.fill_pops(analysis.names_read(backward), backward)
        out_expr = self.emitter.operand(out)
        saved_value = []
        if (self.kind == "grad" or self.with_value) and isinstance(out, Var) and \
                any(out.name in names for names in pushes.values()):
            # the backward sweep restores earlier trips' values into this variable
            value_name = analysis.unique_name("value", self._taken)
            saved_value = [assign(value_name, out_expr)]
            out_expr = name(value_name)
        returned = gast.Tuple(elts=[out_expr, grads], ctx=gast.Load())
        guard = []
        if self.kind not in ("vjp", "split") and isinstance(out, Var):
            guard = [_scalar_guard(out, fn.name)]
        if self.aux is not None:
            returned = gast.Tuple(elts=[returned, self.emitter.operand(self.aux)], ctx=gast.Load())
        reads = analysis.names_read(backward + guard + saved_value + [gast.Return(value=returned)])
        reads |= recompute_reads
        needed = analysis.needed_names(fn.body, reads, self.counters)
        forward_ir, origin = analysis.prune(fn.body, needed, counters=self.counters)
        forward = emit_block(forward_ir, self.emitter, pushes=_remap(pushes, origin),
                             tape=self.tape, counters=_remap(self.counters, origin))
        if self.checkpoint:
            checkpoint_loops(self.fn, forward, backward, self.checkpoint, self.emitter,
                             self.tape, self._taken)
        head = []
        if pushes:
            head.append(assign(self.tape, gast.List(elts=[], ctx=gast.Load())))
        if forward:
            head += [comment("forward sweep", self.comments)] + forward
        head += guard
        tail = [comment("backward sweep", self.comments)] + backward if backward else []
        return head, tail, grads, out_expr, saved_value

    def fill_pops(self, reads, backward):
        """Decide what each block in a loop pushes; write the matching pops.

        A value the backward sweep reads is popped or recomputed at the start of
        its block's backward code (the slot). Recomputation is a dependency
        closure: cheap inactive index arithmetic (``i - 1``, ``k % n``,
        comparisons of such values) is recomputed after the pop together with
        every value of the block it depends on, and only from values available
        unchanged at that point (:meth:`recomputable`); otherwise it is stored.
        Blocks are decided enclosing ones first, so an inner block knows what
        its enclosing blocks restored. Returns the pushes, and the names the
        recomputations read (the forward sweep must keep them).

        The forward sweep pushes at the end of each block what its slot pops, so
        every path pairs its pushes and pops as long as the backward sweep takes
        the forward trip's path (its ``if`` conditions restored like any other
        value read) and keeps every slot that pops (checked here).
        """
        pushes, recompute_reads = {}, set()
        inside_loops = self.names_inside_loops()
        kept = {id(node.statements) for stmt in backward for node in gast.walk(stmt)
                if isinstance(node, _Slot)}
        for site in self.pops:
            block, extra, slot = site.block, site.extra, site.slot
            defined = list(dict.fromkeys(extra + analysis.block_defs(block, self.counters)))
            site.defined = set(defined)

            def available(var, site=site):
                """Is ``var`` (not the block's own) unchanged at the slot, as the forward
                trip saw it?"""
                outer = site.parent
                while outer is not None:  # the nearest enclosing block defining it decides
                    if var in outer.defined:
                        return var in outer.restored
                    outer = outer.parent
                if var in inside_loops:  # a loop's value: only a header binds it again
                    return var in site.headers
                return True  # computed outside every loop: one value, the last one

            saved = [n for n in defined if n in reads]
            cheap = self.recomputable(block, extra, site.defined, set(saved), available)
            # the closure: what the saved values need, recomputed too (in block order)
            wanted, frontier = set(), [n for n in saved if n in cheap]
            while frontier:
                var = frontier.pop()
                if var in wanted:
                    continue
                wanted.add(var)
                frontier += [op.name for op in cheap[var].operands()
                             if isinstance(op, Var) and op.name in cheap]
            again = [stmt for stmt in block if any(stmt is cheap[n] for n in wanted)]
            saved = [n for n in saved if n not in wanted]
            restored = set(saved) | wanted
            # a trip's updated value is the next trip's carried value: restore it from
            # there instead of storing it twice
            for phi, out in site.carry_pairs:
                if phi in saved and out in saved:
                    saved.remove(out)
                    slot.append(assign(out, name(phi)))
            if saved:
                if id(slot) not in kept:  # its pushes would never be popped
                    raise InternalError(f"the backward sweep of {self.fn.name} dropped the "
                                        f"block that pops {', '.join(saved)}", self.fn.loc)
                pushes[id(block)] = saved
                slot.append(_pop(saved, self.tape))
            for stmt in again:
                slot.append(self.emitter.statement(stmt))
                recompute_reads |= {op.name for op in stmt.operands() if isinstance(op, Var)}
            site.restored = restored
        return pushes, recompute_reads

    def recomputable(self, block, extra, defined, saved, available):
        """``{name: statement}`` of the block's cheap inactive values the backward sweep can
        recompute after the pop: from constants, what the pop restores, other such
        values of the block, and values from outside the block that are ``available``
        unchanged there. Nothing that may share memory with an array written in
        place qualifies (its contents at the pop are not those the trip saw)."""
        out = {}
        for stmt in block:
            if not (isinstance(stmt, Assign) and len(stmt.targets) == 1 and
                    stmt.prim.cheap and not stmt.kwargs and
                    stmt.target.name not in self.active and stmt.target.name not in extra):
                continue
            if all(isinstance(op, Const) or isinstance(op, Var) and (
                    op.name in out or op.name in saved if op.name in defined
                    else available(op.name)) and
                    not self.in_written_memory(op.name) for op in stmt.operands()):
                out[stmt.target.name] = stmt
        return out

    def names_inside_loops(self):
        """Names a loop (re)defines on each trip: its body's and condition's values and
        its index (a loop's carried value after the loop is not one of them)."""
        out = set()
        for stmt in walk_blocks(self.fn.body):
            if isinstance(stmt, For):
                out |= analysis.defined_names(stmt.body) | {stmt.target.name}
            elif isinstance(stmt, While):
                out |= analysis.defined_names(stmt.body) | \
                    analysis.defined_names(stmt.cond_block)
        return out

    # -- blocks ----------------------------------------------------------------------
    def backward_block(self, block, defined_extra=()):
        """Adjoint statements of a block, in reverse order, led by its pop if in a loop."""
        out, last_line = [], None
        slot = []
        if self.loop_depth:
            site = _PopSite(block, list(defined_extra), slot, self._carry_pairs,
                            self._sites[-1] if self._sites else None, set(self._headers))
            self.pops.append(site)
            self._sites.append(site)
            self._carry_pairs = []
        for stmt in block:  # each list made here gets its list of adjoints, for the block
            if isinstance(stmt, Assign) and stmt.prim.name == "list_new" and \
                    is_list_op(stmt.prim) and stmt.target.name in self.slots:
                out.append(assign(self.adjoints.adjoint_name(stmt.target.name),
                                  gast.List(elts=[], ctx=gast.Load())))
        for index in reversed(range(len(block))):
            stmt = block[index]
            self.consumer = block[index - 1] if index else None  # the next one processed
            if isinstance(stmt, Assign) and is_list_op(stmt.prim):
                statements = self.backward_list_op(stmt)
            elif isinstance(stmt, Assign) and stmt.prim.name == "setitem":
                statements = self.backward_setitem(stmt)
            elif isinstance(stmt, Assign):
                if not any(t.name in self.active for t in stmt.targets):
                    continue
                statements = self.backward_assign(stmt)
            elif isinstance(stmt, If):
                statements = self.backward_if(stmt)
            elif isinstance(stmt, (For, While)):
                statements = self.backward_loop(stmt)
            else:  # Return, Raise: nothing flows back
                continue
            if statements:
                if stmt.loc.statement_line != last_line:
                    out.append(comment(f"line {stmt.loc.statement_line}: {stmt.loc.summary}",
                                       self.comments))
                    last_line = stmt.loc.statement_line
                out += statements
        if self.loop_depth:
            self._sites.pop()
            return [_Slot(slot)] + out
        return out

    def backward_if(self, stmt):
        active_merges = [m for m in stmt.merges if m[0].name in self.active
                         and self.adjoints.read(m[0].name) is not None]
        inner = self.touched_inside([stmt])
        if not active_merges and not self.list_effects([stmt]) and not _writes([stmt]):
            return []
        prelude = []
        for var in sorted(inner):
            if self.adjoints.read(var) is not None:
                prelude += self.adjoints.materialize(var)
        before = self.adjoints
        branches = []
        for index, block in ((1, stmt.then_block), (2, stmt.else_block)):
            self.adjoints = before.copy()
            code = []
            for merge in active_merges:
                var, source = merge[0].name, merge[index]
                if isinstance(source, Var) and source.name in self.active:
                    code += self.adjoints.add(source.name, self.adjoints.read(var))
            for merge in active_merges:
                self.adjoints.forget(merge[0].name)
            block_code = self.backward_block(block)
            if block_code and isinstance(block_code[0], _Slot):
                code = block_code[:1] + code + block_code[1:]
            else:
                code += block_code
            branches.append((code, self.adjoints))
        self.adjoints = before.copy()
        for merge in active_merges:
            self.adjoints.forget(merge[0].name)
        # join: an adjoint either branch changed must be the same variable after the if
        for var in sorted(inner):
            states = [adj.read(var) for _, adj in branches]
            if all(_same(s, states[0]) for s in states) and var not in _defined_in(stmt):
                if states[0] is not None:
                    self.adjoints.value[var] = states[0]
                    if not all(var in adj.owned for _, adj in branches):
                        self.adjoints.owned.discard(var)
                continue
            if var in _defined_in(stmt):
                continue
            for code, adj in branches:
                code += adj.materialize(var)
            self.adjoints.value[var] = name(self.adjoints.adjoint_name(var))
            self.adjoints.owned.discard(var)
        then_code, else_code = branches[0][0], branches[1][0]
        test = self.emitter.operand(stmt.cond)
        if not _has_code(then_code) and not _has_code(else_code):
            return prelude
        if not _has_code(then_code):
            return prelude + [gast.If(test=gast.UnaryOp(op=gast.Not(), operand=test),
                                      body=else_code, orelse=[])]
        return prelude + [gast.If(test=test, body=then_code,
                                  orelse=else_code if _has_code(else_code) else [])]

    def backward_loop(self, stmt):
        carried = [c for c in stmt.carried if c[0].name in self.active]
        inner = self.touched_inside(stmt.body)
        outer = sorted(v for v in inner if v not in _defined_in(stmt))
        if isinstance(stmt, While) and self.list_effects(stmt.cond_block):
            raise NoDerivativeError("s2sad cannot differentiate through a list changed in the "
                                    "condition of a while loop", stmt.loc,
                                    "Pop or push in the loop's body instead.")
        if not carried and not outer and not self.list_effects(stmt.body) and \
                not _writes(stmt.body):
            return []
        prelude = []
        for var in outer:
            prelude += self.adjoints.materialize(var)
        # an array the loop writes into keeps its adjoint owned from trip to trip, so each
        # trip zeroes what its write took in place (no copy of the whole adjoint per trip)
        written = {phi.name for phi, _, _ in carried if writes_into(stmt.body, phi.name)}
        for phi, _, _ in carried:
            prelude += self.adjoints.materialize(phi.name)
            if phi.name in written:
                prelude += self.own(phi.name)
        owned_before = {var for var in outer if var in self.adjoints.owned}
        deferred = {}
        for var, (side, product) in sorted(self.deferrable(stmt, outer).items()):
            terms = analysis.unique_name(f"{self.adjoints.adjoint_name(var)}_terms", self._taken)
            deferred[var] = (terms, side, product)
            prelude.append(assign(terms, gast.List(elts=[], ctx=gast.Load())))
        self.deferred.append(deferred)
        # one backward trip: the carry, then the body in reverse, then the carry's adjoint
        body = []
        self.loop_depth += 1
        for phi, _, out in carried:
            if isinstance(out, Var) and out.name in self.active and out.name != phi.name:
                body += self.adjoints.materialize(phi.name)
                body.append(assign(self.adjoints.adjoint_name(out.name),
                                   name(self.adjoints.adjoint_name(phi.name))))
                self.adjoints.value[out.name] = name(self.adjoints.adjoint_name(out.name))
                if phi.name in written:  # handed over: the phi's name is bound anew below
                    self.adjoints.owned.add(out.name)
                else:
                    self.adjoints.owned.discard(out.name)
            self.adjoints.forget(phi.name)
        extra = [phi.name for phi, _, _ in stmt.carried]
        uses_counter = isinstance(stmt, While) or stmt.exits
        if isinstance(stmt, For) and uses_counter:
            extra.append(stmt.target.name)
        if uses_counter:
            self.counters[id(stmt)] = analysis.unique_name("trips", self._taken)
        self._carry_pairs = [(phi.name, out.name) for phi, _, out in stmt.carried
                             if isinstance(out, Var) and out.name in
                             analysis.block_defs(stmt.body, self.counters)]
        headers = [] if uses_counter else [stmt.target.name]  # bound by reversed(...)
        self._headers += headers
        body_code = self.backward_block(stmt.body, defined_extra=extra)
        del self._headers[len(self._headers) - len(headers):]
        slot = body_code[0]
        body_code = body_code[1:]
        for phi, _, _ in carried:
            body_code += self.adjoints.materialize(phi.name)
            if phi.name in written:
                body_code += self.own(phi.name)
            self.adjoints.owned.discard(phi.name)
        self.loop_depth -= 1
        self.deferred.pop()
        if uses_counter:
            header = call("range", [name(self.counters[id(stmt)])])
            target = name("_", store=True)
        else:
            header = call("reversed", [self.emitter.operand(stmt.iterable)])
            target = name(stmt.target.name, store=True)
        loop = gast.For(target=target, iter=header, body=[slot] + body + body_code, orelse=[],
                        type_comment=None)
        after = []
        for var, (terms, side, product) in deferred.items():
            owned = var in self.adjoints.owned
            after += self.adjoints.add(var, _terms_sum(terms, var, side, product))
            if not owned:
                self.adjoints.owned.discard(var)
        for phi, init, _ in carried:
            if isinstance(init, Var) and init.name in self.active:
                after += self.adjoints.add(init.name, name(self.adjoints.adjoint_name(phi.name)))
            self.adjoints.forget(phi.name)
        for var in _defined_in(stmt):
            self.adjoints.forget(var)
        for var in outer:  # the loop may run zero times: ownership is what it was before
            if var not in owned_before:
                self.adjoints.owned.discard(var)
        return prelude + [loop] + after

    def own(self, var):
        """Make the adjoint of ``var`` (a name by now) an array the sweep owns: copy if needed."""
        if var in self.adjoints.owned:
            return []
        self.adjoints.owned.add(var)
        target = self.adjoints.adjoint_name(var)
        return [assign(target, call("np.copy", [name(target)]))]

    def deferrable(self, loop, outer):
        """Loop-invariant factors of matrix products: ``{var: (side, product)}``, side
        ``"a"`` or ``"b"``, product ``"matmul"`` or ``"dot"`` (see :func:`product_kind`).

        When every contribution a loop makes to an outer variable ``W`` is the
        adjoint of a factor of a product (``W @ h`` or ``np.dot(W, h)`` each trip), the
        per-trip outer products ``g h^T`` are collected and summed as one matrix product
        (every ``FLUSH_TERMS`` trips and after the loop) instead of one small
        product and one full-size addition per trip.
        """
        sides, blocked = {}, set()
        for stmt in walk_blocks(loop.body, into_loops=False):
            if isinstance(stmt, Assign) and is_list_op(stmt.prim):  # adjoints come off a list
                blocked.update(v.name for v in stmt.args if isinstance(v, Var))
            elif isinstance(stmt, Assign):
                if not any(t.name in self.active for t in stmt.targets):
                    continue
                product = product_kind(stmt)
                for position, op in enumerate(stmt.args):
                    if not (isinstance(op, Var) and op.name in outer):
                        continue
                    other = stmt.args[1 - position] if product else None
                    side = ("ab"[position] if position < 2 else None, product)  # (3rd: blocked)
                    if not product or (isinstance(other, Var) and other.name == op.name) or \
                            sides.get(op.name, side) != side:
                        blocked.add(op.name)
                    sides[op.name] = side
                blocked.update(v.name for v in stmt.kwargs.values() if isinstance(v, Var))
            else:
                blocked.update(_vars_of(stmt))
        return {var: side for var, side in sides.items() if var not in blocked}

    def touched_inside(self, block):
        """Active variables that receive adjoint contributions from statements in ``block``."""
        out = set()
        for stmt in analysis.walk(block):
            if isinstance(stmt, Assign) and stmt.prim.name == "list_append" and \
                    is_list_op(stmt.prim):
                out.update(self.popped_back(stmt))
            elif isinstance(stmt, Assign) and any(t.name in self.active for t in stmt.targets):
                out.update(v.name for v in stmt.operands()
                           if isinstance(v, Var) and v.name in self.active)
            elif isinstance(stmt, If):
                for _, a, b in stmt.merges:
                    out.update(v.name for v in (a, b) if isinstance(v, Var) and v.name in self.active)
            elif isinstance(stmt, (For, While)):
                for phi, init, o in stmt.carried:
                    out.update(v.name for v in (phi, init, o)
                               if isinstance(v, Var) and v.name in self.active)
        return out

    # -- lists -----------------------------------------------------------------------
    def list_effects(self, block):
        """True if ``block`` (nested regions included) changes or reads a list with a t_bar."""
        return any(isinstance(stmt, Assign) and is_list_op(stmt.prim) and stmt.args and
                   stmt.args[0].name in self.slots for stmt in analysis.walk(block))

    def popped_back(self, stmt):
        """The active values of ``t.append(...)`` whose adjoints come back off ``t_bar``."""
        values, slots = stmt.args[1:], self.slots.get(stmt.args[0].name, ())
        return [v.name for k, v in enumerate(values)
                if (len(values), k) in slots and self.is_active(v)]

    def backward_list_op(self, stmt):
        """The mirror of a statement on a list, on its list of adjoints ``t_bar``."""
        kind = stmt.prim.name
        if kind == "list_new" or stmt.args[0].name not in self.slots:
            return []
        t = stmt.args[0].name
        slots, t_bar = self.slots[t], self.adjoints.adjoint_name(t)

        def method(attr, args=()):
            return call(gast.Attribute(value=name(t_bar), attr=attr, ctx=gast.Load()), args)

        def nothing():
            return gast.Constant(value=None, kind=None)

        if kind == "list_clear":
            return [gast.Expr(value=method("clear"))]
        if kind == "list_snapshot":
            g = self.adjoints.read(stmt.target.name)
            return [] if g is None else \
                [gast.Expr(value=call("add_contents_bar", [name(t_bar), _copy(g)]))]
        if kind == "list_pop":  # push the popped values' adjoints (zeros in a slot a push reads)
            targets, bars = stmt.targets, []
            for k, v in enumerate(targets):
                if (len(targets), k) not in slots:
                    bars.append(None)
                    continue
                g = self.adjoints.read(v.name)
                bars.append(_copy(g) if g is not None else call("zeros_bar", [name(v.name)]))
            if all(b is None for b in bars):
                pushed = nothing()
            elif len(bars) == 1:
                pushed = bars[0]
            else:
                pushed = gast.Tuple(elts=[b or nothing() for b in bars], ctx=gast.Load())
            return [gast.Expr(value=method("append", [pushed]))]
        # t.append(...): pop the values' adjoints back (zeros if the pushed value was never
        # popped: see support.pop_bar)
        values, live = stmt.args[1:], self.popped_back(stmt)
        like = [name(v.name) if isinstance(v, Var) and v.name in live else nothing()
                for v in values]
        if not live:
            return [gast.Expr(value=call("pop_bar", [name(t_bar), nothing()]))]
        if len(values) == 1:
            return self.adjoints.add(values[0].name, call("pop_bar", [name(t_bar), like[0]]))
        temps = [analysis.unique_name(f"{self.adjoints.adjoint_name(v.name)}_popped", self._taken)
                 if isinstance(v, Var) and v.name in live else "_" for v in values]
        out = [assign(gast.Tuple(elts=[name(n, store=True) for n in temps], ctx=gast.Store()),
                      call("pop_bar", [name(t_bar), gast.Tuple(elts=like, ctx=gast.Load())]))]
        for v, temp in zip(values, temps):
            if temp != "_":
                out += self.adjoints.add(v.name, name(temp))
        return out

    # -- writes into arrays -----------------------------------------------------------
    def backward_setitem(self, stmt):
        """Undo ``y[index] = v``, then send ``y_1_bar`` on to ``v`` and ``y``.

        The forward sweep wrote in place, so when the backward sweep passes the
        write it first puts back what the write destroyed (``y[index] = y_old``),
        leaving ``y`` and every view of it as they were before the write for the
        statements the sweep meets next; see :meth:`restore`. ``v_bar`` gets what
        ``y_1_bar`` holds at ``index``; ``y_bar`` is ``y_1_bar`` with zeros there,
        made in place when the sweep owns ``y_1_bar``.
        """
        array, index, value = stmt.args
        out = [_Restore(self.restore(stmt))]
        z = stmt.target.name
        g = self.adjoints.read(z)
        if g is None or not (self.is_active(array) or self.is_active(value)):
            return out
        if not isinstance(g, gast.Name):  # a pending number: make it an array y_1_bar owns
            out.append(assign(self.adjoints.adjoint_name(z), gast.BinOp(
                left=call("zeros_bar", [name(z)]), op=gast.Add(), right=g)))
            g = name(self.adjoints.adjoint_name(z))
            self.adjoints.value[z] = g
            self.adjoints.owned.add(z)
        subscript = self.emitter.index_subscript(index)
        # y[index] = y: the value's contribution goes to the array's own adjoint, which
        # therefore is no longer untouched when the array's part comes
        same = isinstance(value, Var) and value.name == array.name
        zeroed = self.is_active(array) and self.adjoints.read(array.name) is None and not same
        if self.is_active(value):
            taken = gast.Subscript(value=_copy(g), slice=_copy(subscript), ctx=gast.Load())
            if zeroed or same:  # g is zeroed at index next: keep a copy
                taken = call(gast.Attribute(value=taken, attr="copy", ctx=gast.Load()), [])
            out += self.adjoints.add(value.name, call("unbroadcast", [taken, name(value.name)]))
        if not self.is_active(array):
            return out
        if zeroed and z in self.adjoints.owned:
            out.append(assign(gast.Subscript(value=_copy(g), slice=_copy(subscript),
                                             ctx=gast.Store()), gast.Constant(value=0.0, kind=None)))
            out.append(assign(self.adjoints.adjoint_name(array.name), _copy(g)))
            self.adjoints.value[array.name] = name(self.adjoints.adjoint_name(array.name))
            self.adjoints.owned.add(array.name)
            return out
        return out + self.adjoints.add(array.name, call("setitem_bar", [
            _copy(g), self.emitter.operand(index)]))

    def restore(self, stmt):
        """``y[index] = y_old`` if the backward sweep reads ``y``'s memory, else nothing.

        Decided when the whole sweep is written (:func:`_expand_slots` fills the
        placeholder), from the names it reads: any variable that may share
        memory with ``y`` (:meth:`s2sad.memory.Memory.group`) means the
        values before the write are needed.
        """
        array, index, _ = stmt.args
        old = self.overwritten.get(stmt.target.name)
        if old is None:
            return lambda reads: []
        group = self.memory_group(array.name)
        restore = assign(gast.Subscript(value=name(array.name), slice=self.emitter.index_subscript(
            index), ctx=gast.Store()), name(old))
        return lambda reads: [restore] if group & reads else []

    def in_written_memory(self, var):
        """True if ``var`` may share memory with an array written in place (its values at
        the pop are those after the trip's writes, not those a recomputation needs)."""
        if self.written is None:
            self.written = set()
            for s in walk_blocks(self.fn.body):
                if isinstance(s, Assign) and s.prim.name == "setitem":
                    self.written |= self.memory_group(s.args[0].name)
        return var in self.written

    def memory_group(self, var):
        if self.memory is None:
            self.memory = Memory(self.fn)
        return self.memory.group(var)

    # -- one assignment -------------------------------------------------------------
    def backward_assign(self, stmt):
        """The adjoint statements of one primal assignment (rules checked by check_rules)."""
        if isinstance(stmt.prim, SplitCall):
            return self.backward_call(stmt)
        z, g, ans = self.result_adjoint(stmt)
        if g is None:
            return []
        prim = stmt.prim
        if isinstance(prim, UserFunction):  # a callee with loops: its vjp_h, in one piece
            return self.backward_joint_call(stmt, z, g)
        if isinstance(prim, CustomPrimitive):  # the user's own rule (s2sad.custom)
            return custom_code.backward(self, stmt, z, g, ans)
        bound = prim.bind(stmt.args, stmt.kwargs)
        targets = [(param, op) for param, op in bound.items() if self.is_active(op)]
        if not targets:
            return []
        env = {"g": g, "ans": ans}
        for param, op in bound.items():
            env[param] = self.emitter.operand(op)
        out = []
        for key, template in prim.shared.items():
            temp = f"{z}_{key}"
            out.append(assign(temp, simplify(template.instantiate(env))))
            env[key] = name(temp)
        spreads = {}
        pending = spread(g) if prim.elementwise and not prim.shared else None
        if pending:
            for param, op in targets:
                template = self.template(stmt, param, bound)
                if template is not None:
                    spreads[param] = self.spread_contribution(stmt, template, env, op, *pending)
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
                contribution = simplify(template.instantiate(env))
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
        if not (isinstance(stmt, Assign) and len(stmt.targets) == 1 and
                stmt.target.name == op.name and type(stmt.prim) is Primitive and
                not is_list_op(stmt.prim) and stmt.prim.name not in ("setitem", "overwritten")):
            return False
        bound = stmt.prim.bind(stmt.args, stmt.kwargs)
        uses = sum(uses_of_g(t.tree) for t in stmt.prim.shared.values())
        for param, arg in bound.items():
            if self.is_active(arg):
                try:
                    template = stmt.prim.vjp_template(param, bound)
                except (KeyError, RuleNotApplicable):
                    return False
                uses += uses_of_g(template.tree) if template is not None else 0
        return uses == 1

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

    def result_adjoint(self, stmt):
        """``(stem, g, ans)`` of an assignment: its result's adjoint (None: zero) and value.

        A result unpacked into several names (``w, v = np.linalg.eigh(a)``,
        ``a, b = helper(x)``) is one tuple: ``g`` is the tuple of the names'
        adjoints, zeros where a name has none, ``ans`` the tuple of the names.
        """
        if len(stmt.targets) == 1:
            z = stmt.target.name
            return z, self.adjoints.read(z), name(z)
        bars = [self.adjoints.read(t.name) for t in stmt.targets]
        if all(b is None for b in bars):
            return None, None, None
        g = gast.Tuple(elts=[_copy(b) if b is not None else call("zeros_bar", [name(t.name)])
                             for t, b in zip(stmt.targets, bars)], ctx=gast.Load())
        ans = gast.Tuple(elts=[name(t.name) for t in stmt.targets], ctx=gast.Load())
        return "_".join(t.name for t in stmt.targets), g, ans

    def defer(self, var, contribution):
        """Collect ``g`` and the other factor; add their products in batches (see deferrable)."""
        terms, side, product = self.deferred[-1][var]
        g, a, b = contribution.args
        pair = gast.Tuple(elts=[g, b if side == "a" else a], ctx=gast.Load())
        append = gast.Attribute(value=name(terms), attr="append", ctx=gast.Load())
        owned = var in self.adjoints.owned
        flush = self.adjoints.add(var, _terms_sum(terms, var, side, product))
        if not owned:
            self.adjoints.owned.discard(var)
        clear = gast.Expr(value=call(gast.Attribute(value=name(terms), attr="clear",
                                                    ctx=gast.Load()), []))
        full = gast.Compare(left=call("len", [name(terms)]), ops=[gast.Eq()],
                            comparators=[gast.Constant(value=FLUSH_TERMS, kind=None)])
        return [gast.Expr(value=call(append, [pair])),
                gast.If(test=full, body=flush + [clear], orelse=[])]

    def check_rules(self):
        """Raise for the first active statement (in program order) that has no rule."""
        for stmt in analysis.walk(self.fn.body):
            if isinstance(stmt, Assign) and stmt.prim.name == "list_pop" and \
                    is_list_op(stmt.prim) and len(stmt.args) == 2 and \
                    stmt.args[0].name in self.slots:
                raise NoDerivativeError(
                    "s2sad cannot differentiate pop_bar (reverse mode's pop of a list of "
                    "adjoints) in reverse mode: whether it popped is known at run time only",
                    stmt.loc, "Differentiate this derivative in forward mode (s2sad.jvp, hvp, "
                              "hessian) instead.")
            if not isinstance(stmt, Assign) or isinstance(stmt.prim, UserFunction) or \
                    is_list_op(stmt.prim) or \
                    not any(t.name in self.active for t in stmt.targets):
                continue
            if isinstance(stmt.prim, CustomPrimitive):
                stmt.prim.check("vjp", stmt)
                continue
            prim = stmt.prim
            bound = prim.bind(stmt.args, stmt.kwargs)
            for param, op in bound.items():
                if self.is_active(op) or isinstance(op, Index) and any(
                        self.is_active(part) for part in op.operands()):
                    self.template(stmt, param, bound)

    def template(self, stmt, param, bound):
        """The VJP template for ``param`` of ``stmt`` (None: zero), or a located error."""
        prim = stmt.prim
        if isinstance(prim, ExternalFunction) or (prim.varargs and not prim.vjp):
            raise no_rule_error(stmt)
        try:
            return prim.vjp_template(param, bound)
        except KeyError:
            raise NoDerivativeError(f"s2sad has no derivative rule for argument {param!r} of "
                                    f"{prim.name}", stmt.loc,
                                    "Pass a constant for that argument.") from None
        except RuleNotApplicable as exc:
            raise NoDerivativeError(str(exc), stmt.loc, exc.hint or
                                    "Rewrite the call with the supported arguments, or compute "
                                    "the value with other supported functions.") from None

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


def _has_loops(fn):
    """True if ``fn`` (an SSA function) has a loop: its backward sweep would read a tape."""
    return any(isinstance(s, (For, While)) for s in walk_blocks(fn.body))


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


def product_kind(stmt):
    """``"matmul"`` or ``"dot"`` if ``stmt`` is a product of its two operands whose rule
    gives them the adjoints ``matmul_bar_a/b(g, a, b)`` (or ``dot_bar_a/b``), whatever its
    spelling (``@``, ``np.matmul``, ``np.dot``, ``.dot()``); else None. (np.dot is matmul
    where the operands have rank 1 or 2: ``matmul_bar_a_sum`` checks that when it runs.)"""
    prim, rules = stmt.prim, getattr(stmt.prim, "vjp", None)
    if type(prim) is not Primitive or stmt.kwargs or len(stmt.args) != 2 or not rules or \
            len(prim.params) < 2:
        return None
    a, b = prim.params[:2]
    for product in ("matmul", "dot"):
        if all(isinstance(rules.get(p), Template) and is_call(rules[p].tree, f"{product}_bar_{s}")
               and [getattr(n, "id", None) for n in rules[p].tree.args] == ["g", a, b]
               for p, s in ((a, "a"), (b, "b"))):
            return product
    return None


def _terms_sum(terms, var, side, product):
    """``matmul_bar_a_sum(W_bar_terms, W)``: the deferred pairs' sum (see deferrable)."""
    extra = [gast.Constant(value="dot", kind=None)] if product == "dot" else []
    return call(f"matmul_bar_{side}_sum", [name(terms), name(var)] + extra)


FLUSH_TERMS = 64  # trips whose deferred outer products are summed by one matrix product


def with_aux(fn):
    """``(fn returning its loss only, aux)`` for ``fn`` ending in ``return loss, aux``
    (``has_aux=True``): the pair is still made, and pruned; aux is computed, never
    differentiated. Anything else returned is a located error."""
    stmt = returned_tuple(fn)
    if stmt is None or len(stmt.args) != 2:
        ret = next((s for s in walk_blocks(fn.body) if isinstance(s, Return)), None)
        what = "one value" if stmt is None else f"{len(stmt.args)} values"
        raise UnsupportedSyntaxError(
            f"has_aux=True needs {fn.name} to return a pair (loss, aux), but it returns {what}",
            getattr(ret, "loc", None) or fn.loc,
            "Return the scalar to differentiate and what to carry along: return loss, aux "
            "(aux may be a tuple: return loss, (acc, logits)).")
    return replace(fn, output=stmt.args[0]), stmt.args[1]


def check_one_value(fn):
    """grad and value_and_grad need one scalar: refuse a function returning a tuple."""
    stmt = returned_tuple(fn)
    if stmt is not None:
        ret = next((s for s in walk_blocks(fn.body) if isinstance(s, Return)), stmt)
        raise UnsupportedSyntaxError(
            f"{fn.name} returns {len(stmt.args)} values, and a gradient needs one scalar",
            ret.loc, "Return one scalar, or use s2sad.vjp, which takes one cotangent per "
                     "returned value.")


def _writes(block):
    """True if ``block`` (nested regions included) writes into an array (a restore may follow)."""
    return any(isinstance(s, Assign) and s.prim.name == "setitem" for s in walk_blocks(block))


def _vars_of(stmt):
    """Every variable a compound statement touches (nested regions included)."""
    out = set()
    for inner in walk_blocks([stmt]):
        if isinstance(inner, Assign):
            out.update(v.name for v in inner.operands() if isinstance(v, Var))
        elif isinstance(inner, If):
            out.update(v.name for m in inner.merges for v in m if isinstance(v, Var))
        elif isinstance(inner, (For, While)):
            out.update(v.name for c in inner.carried for v in c if isinstance(v, Var))
    return out


class _PopSite:
    """A block inside a loop whose backward code starts by restoring the values it reads
    (:meth:`_Reverse.fill_pops`): its enclosing such block (``parent``), the For targets
    the backward loops' headers bind again around it (``headers``), and, once decided,
    the names its slot restores."""

    def __init__(self, block, extra, slot, carry_pairs, parent, headers):
        self.block, self.extra, self.slot, self.carry_pairs = block, extra, slot, carry_pairs
        self.parent, self.headers = parent, headers
        self.defined, self.restored = set(), set()


class _Slot(gast.stmt):
    """A placeholder for a block's pop, filled once the pushes are known."""

    _fields = ()

    def __init__(self, statements):
        super().__init__()
        self.statements = statements


def _remap(by_original_id, origin):
    """Re-key a dict from ids of original IR objects to ids of their pruned copies."""
    return {new: by_original_id[old] for new, old in origin.items() if old in by_original_id}


def _pop(names, tape):
    value = call(gast.Attribute(value=name(tape), attr="pop", ctx=gast.Load()), [])
    if len(names) == 1:
        return assign(names[0], value)
    return assign(gast.Tuple(elts=[name(n, store=True) for n in names], ctx=gast.Store()), value)


class _Restore(_Slot):
    """A placeholder for a write's restore, decided once the whole sweep is known."""

    def __init__(self, decide):
        super().__init__([])
        self.decide = decide


def _expand_slots(stmts, kind=_Slot):
    """Replace the placeholders of ``kind`` by their statements (a restore's decided now)."""
    if kind is _Restore:
        return _expand_restores(stmts, set())
    return _expand(stmts, kind, lambda slot: slot.statements)


def _holds_restore(stmts):
    return any(isinstance(s, _Restore) or any(
        _holds_restore(getattr(s, f)) for f in ("body", "orelse")
        if isinstance(getattr(s, f, None), list)) for s in stmts)


def _expand_restores(stmts, after):
    """Decide each restore from the names the sweep reads after it (``after``: once the
    statements are done; a loop's body is also followed by the loop's next trip)."""
    if not _holds_restore(stmts):
        return stmts
    following, reads = [], set(after)
    for stmt in reversed(stmts):  # placeholders are opaque: restores' own reads don't count
        following.append(set(reads))
        reads |= analysis.names_read([stmt])
    following.reverse()
    out = []
    for stmt, later in zip(stmts, following):
        if isinstance(stmt, _Restore):
            out += stmt.decide(later)
            continue
        inner_after = later | (analysis.names_read([stmt]) if isinstance(
            stmt, (gast.For, gast.While)) else set())
        for field in ("body", "orelse"):
            if hasattr(stmt, field) and isinstance(getattr(stmt, field), list):
                setattr(stmt, field, _expand_restores(getattr(stmt, field), inner_after))
        out.append(stmt)
    return out


def _expand(stmts, kind, statements_of):
    out = []
    for stmt in stmts:
        if isinstance(stmt, kind):
            out += statements_of(stmt)
            continue
        for field in ("body", "orelse"):
            if hasattr(stmt, field) and isinstance(getattr(stmt, field), list):
                setattr(stmt, field, _expand(getattr(stmt, field), kind, statements_of))
        out.append(stmt)
    return out


def _copy(node):
    return clone(node)


def _has_code(stmts):
    return any(not isinstance(s, _Slot) or s.statements for s in stmts) if stmts else False


def _same(a, b):
    if a is None or b is None:
        return a is b
    return gast.dump(a) == gast.dump(b)


def _defined_in(stmt):
    """Variables defined inside a compound statement's regions (including its merges)."""
    out = set()
    if isinstance(stmt, If):
        blocks = [stmt.then_block, stmt.else_block]
        out.update(m[0].name for m in stmt.merges)
    elif isinstance(stmt, For):
        blocks = [stmt.body]
        out.add(stmt.target.name)
        out.update(c[0].name for c in stmt.carried)
    else:
        blocks = [stmt.cond_block, stmt.body]
        out.update(c[0].name for c in stmt.carried)
    for block in blocks:
        out |= analysis.defined_names(block)
    return out


def reverse_function(fn, wrt, kind, emitter, requests, func_name, entry=False,
                     checkpoint=None, with_value=False):
    """The gast FunctionDef of the ``kind`` derivative of ``fn`` w.r.t. params ``wrt``
    (``entry``: a module's entry point, returning gradients as the caller's arguments are;
    ``checkpoint``: its loops checkpointed, see :mod:`s2sad.checkpoint`; ``with_value``:
    returning ``(value, vjps)``)."""
    builder = _Reverse(fn, wrt, kind, emitter, requests, func_name, entry,
                       checkpoint=checkpoint)
    builder.with_value = with_value
    node = builder.build()
    node.body = _expand_slots(node.body)
    return node


def gradient_functions(fn, wrt, emitter, requests, grad_name, value_and_grad_name, aux=None,
                       checkpoint=None):
    """``grad_<f>`` and ``value_and_grad_<f>`` of ``fn`` w.r.t. params ``wrt``; with ``aux``
    (the operand ``fn`` returns beside its loss, see :func:`with_aux`), ``(grads, aux)`` and
    ``((value, aux), grads)``; ``checkpoint``: their loops checkpointed."""
    grad, both = _Reverse(fn, wrt, "grad", emitter, requests, grad_name, True, aux,
                          checkpoint).build_grad_pair(grad_name, value_and_grad_name)
    grad.body = _expand_slots(grad.body)
    return grad, both


def split_functions(fn, wrt, emitter, requests, fwd_name, bwd_name):
    """``fwd_<h>`` and ``bwd_<h>`` of the user function ``fn`` w.r.t. params ``wrt``."""
    fwd, bwd = _Reverse(fn, wrt, "split", emitter, requests, fwd_name).build_split(fwd_name,
                                                                                  bwd_name)
    fwd.body = _expand_slots(fwd.body)
    return fwd, bwd


def _scalar_guard(out, fn_name):
    return gast.Expr(value=call("check_scalar", [name(out.name), gast.Constant(value=fn_name,
                                                                            kind=None)]))


