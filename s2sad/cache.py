"""The compiled-function cache (layer 8).

:func:`compiled` generates a module (:mod:`s2sad.module`), compiles it once and
caches it per function, transform and ``wrt``, so ``s2sad.grad(f)`` called in a
loop parses nothing after the first call; :func:`clear_cache` (``s2sad.clear_cache``)
forgets everything. Generated code is compiled into a module of its own whose
``__loader__`` holds its source (:func:`s2sad.generated_code.load_generated`), under a
``<s2sad ...>.py`` file name, so tracebacks and ``inspect.getsource`` show the
generated lines, and each function compiled from it is recorded as s2sad's own
(:func:`s2sad.generated_code.mark_generated`), which lowering trusts when it reads it again.

Generated code reads the user's globals and closure variables when it runs
(see :mod:`s2sad.lower`), so the cache holds no value of the user's. What the
transform specialised on (which function a name calls, which module it reads)
is checked against each function's names before a cached module is used
(:func:`s2sad.guards.guard_holds`; on every call of a derivative, by a checker
the derivative holds), and a name rebound to another function re-transforms.
The cache holds functions weakly and nothing in it refers back to them.

What the API's entry points share besides: reading ``wrt`` and binding arguments is
:mod:`s2sad.arguments`; what a user sees when generated code fails, :mod:`s2sad.failures`.
"""

import threading
import weakref

import numpy as np

from .arguments import DEFAULT_WRT, at_bound_values, bind, parameters  # noqa: F401 (cost.py's)
from .errors import InternalError, S2sadError, hide_own_frames
from .generated_code import load_generated
from .ir import def_loc
from .errors import UnsupportedSyntaxError
from .lower import clear_summaries, lower
from .module import clear_lowered, forward_module, reverse_module
from .guards import guard_holds
from .verify import relocated


_CACHE = weakref.WeakKeyDictionary()  # python function -> {(mode, wrt): namespace}
_SLOTS = weakref.WeakSet()  # every derivative object's Slot
# python function -> {(mode, wrt, checkpoint): (parameters, error)}: transforms refused
# because f updates those parameters in place, which is rebinding for numbers
_REFUSED = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()  # held while the cache is read or filled


def compiled(fn, mode, positions, checkpoint=None, values=None):
    """The namespace of the generated module (transformed and compiled once).

    One thread fills the cache at a time (a lock, re-entrant: transforming ``f``
    may compile a derivative ``f`` calls), so two threads asking for the same
    transform at once transform it once. A :class:`~s2sad.errors.S2sadError`
    reaches the caller without s2sad's frames below this one and without the
    internal exception it may have been raised while handling.

    ``values``, the arguments of the call the module is for: where ``f`` updates an
    argument in place (``x += e``), refused for arrays, the module specialised for the
    parameters that hold Python numbers in this call (for which it is rebinding) is
    compiled and cached by that kind (:func:`numbers_in`).
    """
    with _LOCK:
        try:
            refusal = _REFUSED.get(fn, {}).get((mode, positions, checkpoint))
            if refusal is not None:  # refused for arrays: specialised by argument kind
                return _specialised(fn, mode, positions, checkpoint, values, refusal)
            return _fill(fn, mode, positions, checkpoint)
        except S2sadError as exc:
            arguments = getattr(exc, "arguments", None)
            if not arguments or values is None:
                raise hide_own_frames(exc) from None
            _REFUSED.setdefault(fn, {})[(mode, positions, checkpoint)] = (arguments, exc)
            try:
                return _specialised(fn, mode, positions, checkpoint, values, (arguments, exc))
            except S2sadError as exc:
                raise hide_own_frames(exc) from None


def by_kind(fn, mode, positions, checkpoint, kind):
    """The generated ``kind`` entry point of ``fn`` as a function that compiles (once per
    kind of arguments) the module for the kinds of the arguments it is called with: for
    a function refused for arrays only because it updates an argument in place
    (:func:`compiled`'s ``values``)."""
    def specialised(*args):
        namespace, generated = compiled(fn, mode, positions, checkpoint, values=args)
        return namespace[generated.entry_points[kind]](*args)
    return specialised


def lowered_for(fn, values):
    """The SSA form of ``fn`` for a call with ``values``: where ``fn`` updates an argument in
    place (``x += e``, refused for arrays), its form for the parameters that hold numbers in
    this call, as :func:`compiled` compiles it (the tools that show a derivative ask)."""
    try:
        return lower(fn)
    except UnsupportedSyntaxError as exc:
        if not getattr(exc, "arguments", None):
            raise
        return lower(fn, numbers=numbers_in(fn, values))


def numbers_in(fn, values):
    """The parameters of ``fn`` that hold Python (or NumPy) numbers in ``values``, and for
    each array, its rank (``"x.ndim=1"``: an element ``x[2]`` is a number, see
    :meth:`s2sad.lower.calls._Calls.number_proof`)."""
    return frozenset(name for name, value in zip(parameters(fn), values)
                     if isinstance(value, (int, float, complex, np.generic))) | \
        frozenset(f"{name}.ndim={value.ndim}" for name, value in zip(parameters(fn), values)
                  if isinstance(value, np.ndarray) and value.dtype != object)


def _specialised(fn, mode, positions, checkpoint, values, refusal):
    """The module for ``values``' kinds of a function refused for arrays (``refusal``: the
    parameters it updates in place, and the error): the refusal itself unless those hold
    numbers."""
    arguments, exc = refusal
    numbers = numbers_in(fn, values or ())
    if not arguments <= numbers:
        raise exc
    return _fill(fn, mode, positions, checkpoint, numbers)


def _fill(fn, mode, positions, checkpoint=None, numbers=frozenset()):
    per_fn = _CACHE.setdefault(fn, {})
    key = (mode, positions) if checkpoint is None else (mode, positions, checkpoint)
    key += (numbers,) if numbers else ()
    if key in per_fn and not guard_holds(per_fn[key][1].guard):
        per_fn.clear()  # a name f (or a helper) reads means another function now
    if key not in per_fn:
        try:
            # "reverse_plain", "forward_plain": with the short reference helpers (for reading);
            # "reverse_grad", "reverse_value_and_grad": that entry point only (a first call);
            # "reverse_aux": f returns loss, aux; "reverse_value": value_and_vjp too
            plain = mode.endswith("_plain")
            base = mode[:-len("_plain")] if plain else mode
            if base in ("reverse", "reverse_aux", "reverse_value") + _ONLY:
                generated = reverse_module(fn, positions, with_vjp=base == "reverse",
                                           has_aux=base == "reverse_aux", plain=plain,
                                           checkpoint=checkpoint,
                                           with_value=base == "reverse_value", numbers=numbers,
                                           only=base[len("reverse_"):] if base in _ONLY else None)
            else:  # "forward", or "forward_vector": tangents with a leading axis of directions
                generated = forward_module(fn, positions, vector=base == "forward_vector",
                                           plain=plain, numbers=numbers)
        except S2sadError:
            raise
        except Exception as exc:  # not the user's doing: a transform that failed
            raise InternalError(f"s2sad failed to transform {fn.__qualname__} ({mode} mode): "
                                f"{type(exc).__name__}: {exc}", def_loc(fn)) from exc
        per_fn[key] = (load_module(generated.source, f"{mode} of {fn.__qualname__}",
                                   generated.bindings, generated.live, generated.take_code()),
                       generated)
    return per_fn[key]


_ONLY = ("reverse_grad", "reverse_value_and_grad")  # modes of one entry point (a first call)


def cached(fn, mode, positions):
    """What :func:`compiled` holds for ``fn`` now, or None (nothing is compiled)."""
    with _LOCK:
        return _CACHE.get(fn, {}).get((mode, positions))


def _stale():
    return False


class Slot(list):
    """What a derivative object keeps of the cache, ``[generated function, guard checker]``
    (``[None, a checker that fails]`` until its first call): its fast path reads no dict.
    :func:`clear_cache` makes every slot's checker fail, so the derivative looks the cache
    up again."""

    __hash__ = object.__hash__  # one slot per derivative, however alike (for _SLOTS)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


def slot():
    """A new :class:`Slot` (its checker fails: nothing looked up yet), which
    :func:`clear_cache` reaches."""
    new = Slot([None, _stale])
    with _LOCK:
        _SLOTS.add(new)
    return new


def clear_cache():
    """Forget every generated module, and every function's SSA form: the next call of
    any derivative, made before or after, transforms its function again.

    s2sad checks by itself that each name a function reads still means what it
    meant (a rebound helper is transformed again); clear it after a change it cannot
    see, such as custom rules registered (``@f.defvjp``) after ``f`` was differentiated.
    """
    with _LOCK:
        _CACHE.clear()
        _REFUSED.clear()
        clear_lowered()
        clear_summaries()
        for kept in list(_SLOTS):
            if len(kept) == 2:
                kept[1] = _stale  # (its length stays: a fast path reading it never fails)


def load_module(source, label, bindings=None, live=None, code=None):
    """Compile generated source into a fresh module (:func:`s2sad.generated_code.load_generated`: its
    source on its ``__loader__``, its functions recorded as s2sad's own); its namespace.
    ``code``: the source compiled already (when checked; see :func:`s2sad.verify.check_module`)."""
    namespace = load_generated(source, label, bindings=bindings,
                               code=code and (lambda filename: [relocated(part, filename)
                                                                for part in code]))
    namespace.update(live or {})  # the user's module read through f, not held (see LiveScope)
    return namespace


def generated_function(derivative):
    """The generated function behind a derivative made by ``grad``, ``jvp``, ...

    s2sad differentiates that function's source (on its module's ``__loader__``), so
    ``grad(grad(f))`` is reverse mode applied to the code of ``grad_f``.
    """
    return generated_function_of(*derivative._s2sad)


def generated_function_of(fn, kind, positions, checkpoint=None, values=None):
    """The generated function of transform ``kind`` (``grad``, ``jvp``, ...) of ``fn``: what
    a derivative object stands for when s2sad reads it (its ``_s2sad_generated``); with
    ``values``, the one for their kinds (see :func:`compiled`)."""
    mode = {"jvp": "forward", "value_and_vjp": "reverse_value"}.get(kind, "reverse")
    namespace, generated = compiled(fn, mode, positions, checkpoint, values)
    function = namespace[generated.entry_points[kind]]
    function._s2sad_of = weakref.ref(fn)  # weakly: the cache holds function, keyed by fn
    return function


def gradient_code(fn, i, checkpoint=None, values=None):
    """The generated ``grad_f`` for parameter ``i``, as a function s2sad can read again
    (``values``: the arguments it is for, see :func:`compiled`)."""
    namespace, generated = compiled(fn, "reverse", (i,), checkpoint, values)
    function = namespace[generated.entry_points["grad"]]
    function._s2sad_of = weakref.ref(fn)  # weakly: the cache holds function, keyed by fn
    return function
