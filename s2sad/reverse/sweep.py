"""The transform: both sweeps of one function, and the entry points.

:class:`_Reverse` holds the transform's state (activity, shapes, adjoints' names,
the tape, the writes and their saved values); its methods for blocks, lists,
writes, assignments, calls, the tape and the matmul deferral come from the
package's mixins. Here are the whole function's steps: the calls split into
``fwd_h``/``bwd_h`` pairs (:meth:`_Reverse.split_calls`), the backward sweep then
the forward sweep (:meth:`_Reverse.sweeps`), and the functions made from them
(:func:`reverse_function`, :func:`gradient_functions`, :func:`split_functions`).

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

from dataclasses import replace

import gast

from .. import analysis
from ..adjoints import Adjoints
from ..astutil import walk
from ..common import function_def
from ..emit import assign, call, comment, emit_block, name
from ..ir import For, If, Var, While
from ..checkpoint import checkpoint_loops
from ..structural import UserCall, saved_values
from .assignments import _Assignments
from .calls import SplitCall, _Calls
from .control import _Control
from .deferral import _Deferral
from .forward_masks import with_masks
from .lists import _Lists
from .shared import _has_loops, _scalar_guard, _writes, adjoint_namer, check_one_value
from .slots import _Restore, _expand_slots, _remap
from .tape import _Tape
from .writes import _Writes


class _Reverse(_Tape, _Control, _Deferral, _Lists, _Writes, _Assignments, _Calls):
    """Builds the backward sweep of one function, then its forward sweep."""

    def __init__(self, fn, wrt, kind, emitter, requests, func_name, entry=False, aux=None,
                 checkpoint=None):
        self.fn, self.kind, self.emitter, self.requests = fn, kind, emitter, requests
        self.entry = entry  # an entry point: its adjoints go to the caller (as_gradient)
        self.aux = aux  # has_aux: the operand returned beside the loss, or None
        self.checkpoint = checkpoint  # None, "sqrt" or a number of snapshots (s2sad.checkpoint)
        self.func_name = func_name
        self.wrt_names = [fn.params[i].name for i in wrt]
        self.active = _activity(fn, self.wrt_names, requests)
        self.shapes = analysis.ShapeClasses(fn, output_is_scalar=kind not in ("vjp", "split"))
        self._residual_names = analysis.defined_names(fn.body) | {p.name for p in fn.params}
        fn = self.fn = replace(fn, body=self.split_calls(fn.body))
        body, self.masks, self.mask_names = with_masks(fn.body, self.active,
                                                       self._residual_names)
        fn = self.fn = replace(fn, body=body)
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
        # (id(stmt), param) -> (stmt, its VJP template): template; id(stmt) -> (stmt, how
        # many times its rules read g): substitutable. Shared by grad and vjp of one function
        self._templates, self._uses_of_g = _rule_memos(self.active, requests)
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
        self.once_parts = None  # names that index each element once (s2sad.analysis.indices)
        # y_1 (written) -> y_old (what the write destroyed), for the restores
        self.overwritten = {}
        self.overwritten.update(saved_values(fn.body))

    # -- the whole function ------------------------------------------------------
    def split_calls(self, block):
        """``z = h(x)`` on a differentiated ``x`` becomes ``z, z_res = fwd_h(x)``.

        The forward sweep keeps what ``h``'s backward sweep needs (its residuals)
        instead of recomputing ``h``: the backward sweep calls ``bwd_h(z_res, z_bar)``.
        """
        out = []
        for stmt in block:
            if isinstance(stmt, UserCall) and not isinstance(stmt.prim, SplitCall) and \
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
        grad = function_def(grad_name, params, head + saved_aux + tail +
                            [gast.Return(value=grads)], defaults)
        # the same statement objects as grad's, not copies: what later passes do to them
        # (slots expanded, blocks tidied when rendered) they may do twice, to the same effect
        both = function_def(value_and_grad_name, params, head + saved_value + saved_aux +
                            tail + [gast.Return(value=returned)], defaults)
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
               walk(stmt.targets[0]) if isinstance(t, gast.Name)}
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
        read = analysis.names_read(backward)
        grads = self.returned_adjoints(read)
        pushes, recompute_reads = self.fill_pops(read, backward)
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
        # (fill_pops wrote the pops into the backward sweep's slots, if there are any)
        reads = analysis.names_read(backward) if self.pops else set(read)
        reads |= analysis.names_read(guard + saved_value + [gast.Return(value=returned)])
        reads |= recompute_reads
        needed = analysis.needed_names(fn.body, reads, self.counters)
        forward_ir, origin = analysis.prune(fn.body, needed, counters=self.counters)
        forward = self.forward_sweep(forward_ir, pushes, origin)
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


    def forward_sweep(self, forward_ir, pushes, origin):
        """The forward sweep's statements (:func:`s2sad.emit.emit_block` of ``forward_ir``).

        A straight-line sweep (no region, no push, no trip counter, no checkpoint) of the
        same statements as one written before for this module (grad's, then vjp's) is those
        statements again, not a second spelling of them: the same text, and the writer
        writes statements several functions share once. Only where writing them bound no
        new object (each such binding gets a name of its own, ``const<k>``).
        """
        flat = not (pushes or self.counters or self.checkpoint) and \
            not any(isinstance(stmt, (If, For, While)) for stmt in forward_ir)
        made = getattr(self.requests, "forward_sweeps", None) if flat else None
        for statements, written in made or ():
            if len(statements) == len(forward_ir) and all(
                    a is b for a, b in zip(statements, forward_ir)):
                return list(written)
        bound = len(self.emitter.bindings)
        forward = emit_block(forward_ir, self.emitter, pushes=_remap(pushes, origin),
                             tape=self.tape, counters=_remap(self.counters, origin))
        if made is not None and len(self.emitter.bindings) == bound:
            made.append((list(forward_ir), list(forward)))
        return forward

    def returned_adjoints(self, read):
        """The adjoints of the parameters ``wrt`` (a tuple of them if more than one), as the
        function returns them (zeros for an inactive one); ``read``: the names the backward
        sweep reads."""
        spreads = "unreduce" in read  # may make read-only views
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
        return results[0] if len(results) == 1 else gast.Tuple(elts=results, ctx=gast.Load())

def _activity(fn, wrt_names, requests):
    """``fn``'s active names for ``wrt_names`` (:func:`s2sad.analysis.activity`), computed
    once per module: the module builder (``requests``) keeps them in its ``activities``
    (grad and vjp of one function ask for the same; the set is never changed)."""
    memo = getattr(requests, "activities", None)
    if memo is None:
        return analysis.activity(fn, wrt_names, writes_followed=True)
    key = (id(fn), tuple(wrt_names))
    known = memo.get(key)
    if known is None or known[0] is not fn:  # (the function kept: its id is not reused)
        known = memo[key] = (fn, analysis.activity(fn, wrt_names, writes_followed=True))
    return known[1]


def _rule_memos(active, requests):
    """The tables of a function's VJP templates and of how often its statements' rules read
    ``g`` (:meth:`_Reverse.template`, :meth:`_Reverse.substitutable`): per active set, one
    per module (``requests.vjp_templates``): a statement's templates depend on the statement
    (the tables check it is the one kept), on what is active, and on the forward sweep's
    masks, which follow from those two."""
    memo = getattr(requests, "vjp_templates", None)
    if memo is None:
        return {}, {}
    known = memo.get(id(active))
    if known is None or known[0] is not active:  # (the set kept: its id is not reused)
        known = memo[id(active)] = (active, {}, {})
    return known[1], known[2]


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
