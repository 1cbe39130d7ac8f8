"""Module builders: the generated module for one function and one set of ``wrt``.

Layer 7, above both transforms (:mod:`s2sad.reverse`, :mod:`s2sad.forward`), which
build functions; a builder asks them for every function a module needs.
:func:`reverse_module` (:class:`ModuleBuilder`) and :func:`forward_module`
(:class:`ForwardModuleBuilder`) are what the cache (:mod:`s2sad.cache`) and the
CLI call.

A reverse-mode module holds ``grad_<f>``, ``value_and_grad_<f>`` and
``vjp_<f>`` (``vjp_<f>`` only when ``f`` returns several values), and for every
user function ``h`` that ``f`` calls on a differentiated value, a copy of ``h``
(its SSA form), ``fwd_h`` (its forward sweep, returning its value and residuals)
and ``bwd_h`` (its backward sweep, from the residuals), or for an ``h`` with a
loop one ``vjp_h`` (both sweeps: the tape stays in one function). Each is
generated once, however many call sites ask for it, and the module is
self-contained: it imports NumPy (and ``math``) only, plus the user's module
where ``f`` calls a function with rules given by hand (:mod:`s2sad.custom`).
A forward-mode module holds ``jvp_<f>`` and a ``jvp_<h>`` for each user function
``h`` a tangent flows into.
"""

import functools
import gc
import os
import textwrap
import weakref
from dataclasses import dataclass, field

import gast

from .astutil import walk
from .common import function_def, returned_tuple
from .emit import Emitter, emit_block, render_module
from .ir import Assign, Const, Index, walk_blocks
from .forward import entry_params, forward_function
from .lower import in_place_parameters, lower
from .guards import guard_holds
from .parse import LiveScope
from .reverse import gradient_functions, reverse_function, split_functions, with_aux
from .rules.core import rule_name
from .support import HELPERS
from .verify import check_module


# python function -> its SSA form: the transforms read it and never change it, so every
# module made for a function (grad, then vjp, then forward mode) lowers it once
_LOWERED = weakref.WeakKeyDictionary()


def clear_lowered():
    """Forget every function's SSA form (:func:`s2sad.clear_cache`)."""
    _LOWERED.clear()


def keyed_containers(fn, numbers=frozenset()):
    """True if ``fn`` builds a dict or reads an entry by a string key (a dict of parameters,
    or the adjoint code of a function that has one): vector mode, which puts a batch of
    directions on arrays, does not batch those, so :func:`s2sad.higher.jvp_call` sweeps
    one direction at a time. ``numbers``: as for :func:`reverse_module`."""
    for stmt in walk_blocks(ModuleBuilder().lowered(fn, numbers, top=True).body):
        if isinstance(stmt, Assign) and (stmt.prim.emit[0] == "dict" or any(
                isinstance(part, Const) and isinstance(part.value, str)
                for arg in stmt.args for part in (arg.parts if isinstance(arg, Index) else (arg,)))
                and rule_name(stmt.prim) and stmt.prim.dict_operand == "key"):
            return True
    return False


@dataclass
class GeneratedModule:
    """A generated module's text, checked when made (:func:`s2sad.verify.check_module`)."""

    source: str
    entry_points: dict  # kind -> function name
    bindings: dict  # names the module reads but cannot define (in-memory use only)
    function_name: str
    live: dict = None  # names bound in memory after the module's imports (LiveScope objects)
    guard: tuple = ()  # what the free names of every function transformed meant (api's cache)
    # the code the check compiled, until the module is loaded from it (compiled once)
    code: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.code = check_module(self.source, self.function_name, self.bindings)

    def take_code(self):
        """The checked module's code (:func:`s2sad.verify.check_module`), once (the loader runs
        it; None afterwards: the cache keeps the loaded functions, not a second copy)."""
        code, self.code = self.code, None
        return code


class ModuleBuilder:
    def __init__(self):
        self.emitter = Emitter()
        self.functions = []
        self.vjps = {}  # (python function, positions) -> (fwd_<name>, bwd_<name>), or vjp_<name>
        self.primals = set()
        self.pending = []
        self._lowered = {}
        self.activities = {}  # the reverse transforms' activity of each function (once)
        self.vjp_templates = {}  # and the VJP templates of its statements (_rule_memos)
        self.forward_sweeps = []  # (IR statements, their straight-line forward sweep)

    def lowered(self, fn, numbers=frozenset(), top=False):
        """``fn``'s SSA form (cached), or with ``numbers``, the form for calls in which those
        parameters hold Python numbers (:func:`s2sad.lower.lower`; not cached). A helper
        (not ``top``) that updates parameters in place (``s += e``) has the form in which
        they hold numbers: each of its calls was proven to pass numbers there when its
        caller was lowered, or refused (:meth:`s2sad.lower.calls._Calls.check_numbers_passed`)."""
        if not top and not numbers and fn not in self._lowered:
            numbers = in_place_parameters(fn)[0]
        if numbers:
            self._lowered[fn] = lower(fn, numbers=numbers)
        if fn not in self._lowered:
            try:
                cached = _LOWERED.get(fn)
            except TypeError:  # not weakly referenceable
                cached = None
            if cached is None or not guard_holds(cached.guard):  # a name means another thing
                cached = lower(fn)
                try:
                    _LOWERED[fn] = cached
                except TypeError:
                    pass
            self._lowered[fn] = cached
        return self._lowered[fn]

    def request_split(self, fn, positions):
        """The names ``(fwd_h, bwd_h)`` of user function ``fn`` w.r.t. ``positions``: its
        forward sweep keeping residuals, and its backward sweep; generated once."""
        key = (fn, positions)
        if key not in self.vjps:
            ir = self.lowered(fn)
            # never a helper's name: helpers have no fwd_/bwd_ prefix
            suffix = ir.name if len(positions) == len(ir.params) else \
                ir.name + "_wrt_" + "_".join(ir.params[i].name for i in positions)
            self.vjps[key] = (f"fwd_{suffix}", f"bwd_{suffix}")
            self.pending.append((ir, positions, self.vjps[key]))
            self.request_primal(fn)
        return self.vjps[key]

    def request_vjp(self, fn, positions):
        """The name of ``vjp_h`` (forward and backward sweep in one function) of user function
        ``fn`` w.r.t. ``positions``: for callees whose backward sweep reads a tape, which
        cannot be handed from one function to another and differentiated again."""
        key = (fn, positions, "vjp")
        if key not in self.vjps:
            ir = self.lowered(fn)
            suffix = ir.name if len(positions) == len(ir.params) else \
                ir.name + "_wrt_" + "_".join(ir.params[i].name for i in positions)
            self.vjps[key] = f"vjp_{suffix}"
            self.pending.append((ir, positions, self.vjps[key]))
            self.request_primal(fn)
        return self.vjps[key]

    def request_primal(self, fn):
        if fn not in self.primals:
            self.primals.add(fn)
            self.functions.append(primal_function(self.lowered(fn), self.emitter))

    def drain(self):
        """Generate every requested derivative, and the primal of every helper called."""
        while self.pending:
            ir, positions, names = self.pending.pop(0)
            if isinstance(names, str):  # vjp_h
                self.functions.append(reverse_function(ir, positions, "vjp", self.emitter, self,
                                                       names))
            else:
                self.functions += split_functions(ir, positions, self.emitter, self, *names)
        while True:
            missing = [callee.fn for ir in list(self._lowered.values())
                       for callee in ir.callees.values() if callee.fn not in self.primals]
            if not missing:
                return
            for fn in missing:
                self.request_primal(fn)

    def render(self, docstring, plain=False):
        docstring += reads_paragraph(self.emitter)
        return render_module(docstring, self.functions, self.emitter.comments,
                             self.emitter.constants, self.emitter.imports, plain)

    def generated(self, docstring, entry_points, name, plain=False):
        """The :class:`GeneratedModule` of what was built (``plain``: with the short
        reference helpers of :mod:`s2sad.support_plain`)."""
        guard = tuple(entry for ir in self._lowered.values() for entry in ir.guard)
        return GeneratedModule(self.render(docstring, plain), entry_points,
                               dict(self.emitter.bindings), name, dict(self.emitter.live), guard)


def reads_paragraph(emitter):
    """The docstring's paragraph on what the module reads from the user's module (and
    closures) when it runs; empty if nothing."""
    if not emitter.reads:
        return ""
    text = "\n" + textwrap.fill("Reads when it runs, as the function does (never a copy made "
                                "when this was written): " + ", ".join(sorted(emitter.reads))
                                + ".", 88) + "\n"
    unbound = sorted(name for name, obj in emitter.bindings.items() if isinstance(obj, LiveScope))
    if unbound:
        text += (f"{', '.join(unbound)}: the function's closure (or module) as s2sad binds it "
                 f"in memory; this text alone cannot define it.\n")
    return text


def primal_function(ir, emitter):
    """A user helper function re-emitted from its SSA form (callable from derivative code)."""
    body = emit_block(ir.body, emitter) + [gast.Return(value=emitter.operand(ir.output))]
    defaults = [emitter.operand(p.default) for p in ir.params if p.has_default]
    spelled = ir.name + "_" if ir.name in HELPERS else ir.name
    return function_def(spelled, [p.name for p in ir.params], body, defaults)


def collection_paused(build):
    """``build`` run with Python's cyclic garbage collector paused (its state before restored
    after): a transform makes and drops some hundred thousand small objects (gast nodes,
    sets), and each automatic collection meanwhile walked every object alive, nearly half
    the transform's time for a 100-line function. What the transform leaves in cycles is
    collected at the next collection after it."""
    @functools.wraps(build)
    def paused(*args, **kwargs):
        was = gc.isenabled()
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            if was:
                gc.enable()
    return paused


@collection_paused
def reverse_module(fn, wrt, with_vjp=True, has_aux=False, plain=False,
                   checkpoint=None, with_grad=True, with_value=False,
                   numbers=frozenset(), only=None) -> GeneratedModule:
    """The reverse-mode module of ``fn`` with respect to parameter positions ``wrt``.

    ``with_vjp=False`` leaves out ``vjp_<f>``; ``only="grad"`` (``"value_and_grad"``)
    holds that entry point alone (what the first call of ``s2sad.grad(f)``, of
    ``s2sad.value_and_grad(f)``, needs: half the text to write and compile; a function
    returning several values still gets its ``vjp_<f>``). ``has_aux``: ``fn`` returns
    ``loss, aux``; the module has ``grad_<f>`` returning ``(grads, aux)`` and ``value_and_grad_<f>`` returning
    ``((loss, aux), grads)`` (JAX's convention), and no vjp. ``plain`` writes the short
    reference helpers, for reading. ``checkpoint``: ``fn``'s loops are checkpointed
    (:mod:`s2sad.checkpoint`; None, ``"sqrt"`` or a number of snapshots).
    ``with_grad=False``: ``vjp_<f>`` only (``s2sad vjp``). ``with_value``: also
    ``value_and_vjp_<f>``, returning ``(value, vjps)``. ``numbers``: the parameters
    that hold Python numbers in the calls the module is for (see :func:`s2sad.lower.lower`).
    """
    builder = ModuleBuilder()
    ir = builder.lowered(fn, numbers, top=True)
    wrt = tuple(wrt)
    aux = None
    if has_aux:
        ir, aux = with_aux(ir)
        with_vjp = False
    # a function returning several values has a vjp only (grad needs one scalar)
    kinds = ("vjp",) if returned_tuple(ir) or not with_grad else \
        ("grad", "value_and_grad") + (("vjp",) if with_vjp else ())
    kinds += ("value_and_vjp",) if with_value and not has_aux else ()
    if only is not None and "grad" in kinds:
        kinds = (only,)
    names = {kind: f"{kind}_{ir.name}" for kind in kinds}
    entry = []
    if "grad" in names or "value_and_grad" in names:
        pair = gradient_functions(ir, wrt, builder.emitter, builder, f"grad_{ir.name}",
                                  f"value_and_grad_{ir.name}", aux, checkpoint)
        entry += [function for function in pair if function.name in names.values()]
    if "vjp" in names:
        entry.append(reverse_function(ir, wrt, "vjp", builder.emitter, builder, names["vjp"],
                                      entry=True, checkpoint=checkpoint))
    if "value_and_vjp" in names:
        entry.append(reverse_function(ir, wrt, "vjp", builder.emitter, builder,
                                      names["value_and_vjp"], entry=True, checkpoint=checkpoint,
                                      with_value=True))
    builder.drain()
    builder.functions = entry + builder.functions
    wrt_text = ", ".join(ir.params[i].name for i in wrt)
    doc = (f"Reverse-mode derivatives of {ir.name} ({os.path.basename(ir.loc.filename)}:"
           f"{ir.loc.line}) with respect to {wrt_text}.\n{numbers_note(numbers)}\nWritten by "
           f"s2sad; do not edit. Needs NumPy only.\n")
    return builder.generated(doc, names, ir.name, plain)


def numbers_note(numbers):
    """The docstring's line for a module made for calls passing numbers for ``numbers``."""
    names = sorted(n for n in numbers if "." not in n)
    if not names:
        return ""
    return (f"\nFor calls passing Python numbers for {', '.join(names)}: x += e on them is "
            f"rebinding\n(NumPy would update an array in place).\n")


class ForwardModuleBuilder(ModuleBuilder):
    """A :class:`~s2sad.module.ModuleBuilder` that also generates ``jvp_<helper>`` on request."""

    def __init__(self, vector=False):
        super().__init__()
        self.vector = vector
        self.jvps = {}  # (python function, positions) -> generated name
        self.pending_jvps = []

    def request_jvp(self, fn, positions):
        """The name of ``jvp`` of user function ``fn`` w.r.t. ``positions``; generated once."""
        key = (fn, positions)
        if key not in self.jvps:
            ir = self.lowered(fn)
            name_ = f"jvp_{ir.name}"
            if len(positions) != len(ir.params):
                name_ += "_wrt_" + "_".join(ir.params[i].name for i in positions)
            self.jvps[key] = name_
            self.pending_jvps.append((ir, positions, name_))
        return self.jvps[key]

    def drain(self):
        """Generate every requested ``jvp``, and the primal of every helper called as it is."""
        while self.pending_jvps:
            ir, positions, name_ = self.pending_jvps.pop(0)
            self.functions.append(forward_function(ir, positions, self.emitter, self, name_,
                                                   self.vector))
        while True:  # a call no tangent flows into stays a call of the primal helper
            called = {node.func.id for f in self.functions for node in walk(f)
                      if isinstance(node, gast.Call) and isinstance(node.func, gast.Name)}
            missing = [callee.fn for ir in list(self._lowered.values())
                       for callee in ir.callees.values()
                       if callee.fn not in self.primals and callee.emit[1] in called]
            if not missing:
                return
            for fn in missing:
                self.request_primal(fn)


@collection_paused
def forward_module(fn, wrt, vector=False, plain=False, numbers=frozenset()) -> GeneratedModule:
    """The forward-mode module of ``fn`` with respect to parameter positions ``wrt``.

    With ``vector`` every tangent carries a leading axis of directions; ``plain`` writes
    the short reference helpers, for reading; ``numbers`` as for :func:`reverse_module`.
    """
    builder = ForwardModuleBuilder(vector)
    ir = builder.lowered(fn, numbers, top=True)
    wrt = tuple(wrt)
    entry_name = f"jvp_{ir.name}"
    builder.jvps[(fn, wrt)] = entry_name
    builder.functions.append(forward_function(ir, wrt, builder.emitter, builder, entry_name,
                                              vector, leaves=vector))  # (see jvp_call)
    builder.drain()
    wrt_text = ", ".join(ir.params[i].name for i in wrt)
    dots = [name_ for name_ in entry_params(builder.functions[0])[len(ir.params):]]
    doc = (f"Forward-mode derivative of {ir.name} ({os.path.basename(ir.loc.filename)}:"
           f"{ir.loc.line}) with respect to {wrt_text}.\n\n"
           f"jvp_{ir.name}({', '.join(ir.param_names + dots)}) returns the value of "
           f"{ir.name} and its tangent.\n")
    if vector:
        doc += ("Vector mode: each tangent carries a leading axis of directions, and so does "
                "the result's tangent.\n")
    doc += numbers_note(numbers) + "\nWritten by s2sad; do not edit. Needs NumPy only.\n"
    return builder.generated(doc, {"jvp": entry_name}, ir.name, plain)
