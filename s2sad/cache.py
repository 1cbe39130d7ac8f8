"""The compiled-function cache (layer 8), and what every entry point of the API shares.

:func:`compiled` generates a module (:mod:`s2sad.module`), compiles it once and
caches it per function, transform and ``wrt``, so ``s2sad.grad(f)`` called in a
loop parses nothing after the first call; :func:`clear_cache` (``s2sad.clear_cache``)
forgets everything. Generated code is compiled into a module of its own whose
``__loader__`` holds its source (:func:`s2sad.ir.load_generated`), under a
``<s2sad ...>.py`` file name, so tracebacks and ``inspect.getsource`` show the
generated lines, and each function compiled from it is recorded as s2sad's own
(:func:`s2sad.ir.mark_generated`), which lowering trusts when it reads it again.

Generated code reads the user's globals and closure variables when it runs
(see :mod:`s2sad.lower`), so the cache holds no value of the user's. What the
transform specialised on (which function a name calls, which module it reads)
is checked against each function's names before a cached module is used
(:func:`s2sad.parse.guard_holds`; on every call of a derivative, by a checker
the derivative holds), and a name rebound to another function re-transforms.
The cache holds functions weakly and nothing in it refers back to them.

The API modules (:mod:`s2sad.api`, :mod:`s2sad.higher`, :mod:`s2sad.checking`)
share the rest: reading ``wrt`` (:func:`normalize_wrt`), binding arguments
(:func:`bind`), and what a user sees when generated code fails (:func:`raise_failure`).
"""

import functools
import inspect
import os
import sys
import threading
import types
import weakref

import numpy as np

from .errors import (InternalError, NonScalarOutputError, S2sadError, SourceError, UsageError,
                     hide_own_frames)
from .ir import def_loc, load_generated
from .lower import clear_summaries, lower
from .module import clear_lowered, forward_module, reverse_module
from .custom import registration_hint
from .methods import overridden
from .parse import guard_holds, is_library_code
from .trees import flatten

_CACHE = weakref.WeakKeyDictionary()  # python function -> {(mode, wrt): namespace}
_SLOTS = weakref.WeakSet()  # every derivative object's Slot
# python function -> {(mode, wrt, checkpoint): (parameters, error)}: transforms refused
# because f updates those parameters in place, which is rebinding for numbers
_REFUSED = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()  # held while the cache is read or filled


def parameters(fn):
    return list(inspect.signature(fn, follow_wrapped=False).parameters)


def check_function(fn):
    """Reject what s2sad cannot read (a ufunc, a builtin, a class, another library's code)
    when the transform is made."""
    if isinstance(fn, types.FunctionType) and is_library_code(fn):
        spelling = public_spelling(fn)
        raise SourceError(f"s2sad differentiates your own Python functions; {spelling} is "
                          f"another library's code ({fn.__code__.co_filename}), which s2sad "
                          f"does not read", hint=registration_hint(spelling, 1))
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"s2sad differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="Pass a function defined with def in a .py file (wrap a NumPy "
                               "function in one: def f(x): return np.sin(x)).")


def public_spelling(fn):
    """``scipy.special.logsumexp`` for the function defined in ``scipy.special._logsumexp``:
    the shortest module path, past private modules, that holds ``fn`` under its name."""
    parts = (fn.__module__ or "").split(".")
    for end in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None and getattr(module, fn.__name__, None) is fn:
            return f"{module.__name__}.{fn.__name__}"
    return f"{fn.__module__}.{fn.__qualname__}"


def normalize_wrt(fn, wrt):
    """``(positions, single)`` for a ``wrt`` given as int, str or a tuple of them.

    A bad ``wrt`` is a :class:`~s2sad.errors.UsageError` pointing at ``def fn``.
    """
    check_function(fn)
    params = parameters(fn)
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    hint = (f"Pass wrt as a parameter of {fn.__name__} by position (0 to {len(params) - 1}, or "
            f"negative from the end) or by name ({', '.join(map(repr, params))}), or a tuple of "
            f"distinct ones." if params else f"{fn.__name__} has no parameters to differentiate.")

    def bad(message):
        return UsageError(message, def_loc(fn), hint)

    if not items:
        raise bad("wrt is empty; name at least one parameter to differentiate with respect to")
    positions = []
    for item in items:
        if isinstance(item, str):
            if item not in params:
                raise bad(f"{fn.__name__} has no parameter {item!r} "
                          f"(its parameters: {', '.join(params)})")
            positions.append(params.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise bad(f"wrt={item} is out of range: {fn.__name__} has {len(params)} "
                          f"parameter{'' if len(params) == 1 else 's'} ({', '.join(params)})")
            positions.append(int(item) % len(params))
        else:
            raise bad(f"wrt must be an int, a str or a tuple of them, not {item!r}")
    if len(set(positions)) != len(positions):
        raise bad(f"wrt names a parameter twice: {wrt!r}")
    return tuple(positions), single


DEFAULT_WRT = 0
"""What is differentiated when ``wrt`` is not given, in the API and the CLI alike: the
first parameter (JAX's ``argnums=0``), counted after the values bound to the function
(a bound method's object, a partial's arguments; see :func:`default_wrt`)."""


def default_wrt(fn, bound=0):
    """The positions :data:`DEFAULT_WRT` selects in ``fn`` when its first ``bound``
    parameters are bound to values (``model.loss``: ``self``; the CLI's ``Class.method``
    names a method of an object, so ``self`` counts as bound there too)."""
    return normalize_wrt(fn, shifted_wrt(DEFAULT_WRT, bound))[0]


def wrt_or_argnums(wrt, argnums):
    """``wrt``, or ``argnums`` (JAX's name for it) when given; both is a UsageError."""
    if argnums is None:
        return wrt
    if wrt != DEFAULT_WRT:
        raise UsageError(f"give wrt= or argnums= (the same thing), not both: wrt={wrt!r}, "
                         f"argnums={argnums!r}")
    return argnums


def bound_parts(f):
    """``(function, bound arguments, bound keywords)`` for a bound method (``model.loss``:
    ``self`` bound) or a ``functools.partial`` (nested too), else None."""
    args, kwargs, found = (), {}, False
    while True:
        if isinstance(f, types.MethodType):
            f, args, found = f.__func__, (f.__self__,) + args, True
        elif isinstance(f, functools.partial):
            f, args, kwargs, found = f.func, tuple(f.args) + args, {**f.keywords, **kwargs}, True
        else:
            return (f, args, kwargs) if found else None


def shifted_wrt(wrt, count):
    """``wrt`` counted after ``count`` bound arguments: positions from the start move, names and
    positions from the end stay; a single stays single."""
    items = tuple(i + count if isinstance(i, int) and i >= 0 else i
                  for i in (wrt if isinstance(wrt, (tuple, list)) else (wrt,)))
    return items if isinstance(wrt, (tuple, list)) else items[0]


def through_bound(transform):
    """``transform(f, wrt, ...)`` accepting a bound method or a partial as ``f``: the transform
    of the plain function, ``wrt`` counted after the bound arguments, given them first (a
    partial of the derivative, which s2sad can differentiate again)."""
    @functools.wraps(transform)
    def accepting(f, wrt=DEFAULT_WRT, *rest, argnums=None, **options):
        parts = bound_parts(f)
        if parts is None:
            return transform(f, wrt, *rest, argnums=argnums, **options)
        fn, args, kwargs = parts
        derivative = transform(fn, shifted_wrt(wrt_or_argnums(wrt, argnums), len(args)),
                               *rest, **options)
        return functools.partial(derivative, *args, **kwargs) if callable(derivative) \
            else derivative
    return accepting


def at_bound_values(tool):
    """``tool(f, *args, wrt=DEFAULT_WRT, ...)`` (a trace, graph, cost report at a point)
    accepting a bound method or a partial as ``f``: the tool of the plain function at the bound
    values followed by ``args``, ``wrt`` counted after the bound values (as
    :func:`through_bound`); without ``args`` (a graph with no point), of the plain function
    alone."""
    @functools.wraps(tool)
    def accepting(f, *args, wrt=DEFAULT_WRT, **options):
        parts = bound_parts(f)
        if parts is None:
            return tool(f, *args, wrt=wrt, **options)
        fn, bound, keywords = parts
        wrt = shifted_wrt(wrt, len(bound))
        if not args:
            return tool(fn, wrt=wrt, **options)
        return tool(fn, *bound, *args, wrt=wrt, **keywords, **options)
    return accepting


def check_differentiable(fn, positions, values):
    """Raise a :class:`UsageError` unless each ``values[i]`` (i in positions) is something
    to differentiate: floats, complex numbers, arrays of them, containers of them."""
    for i in positions:
        value = values[i]
        if type(value) is float or type(value) is np.ndarray and value.dtype.kind in "fc":
            continue  # the common cases, first and fast
        for leaf in flatten(value)[0]:
            kind = np.asarray(leaf).dtype.kind if isinstance(
                leaf, (int, float, complex, np.ndarray, np.generic)) else \
                getattr(getattr(leaf, "dtype", None), "kind", None)  # any array type's dtype
            if kind not in ("f", "c"):
                name = parameters(fn)[i]
                what = f"a {type(leaf).__name__} object" if kind is None else \
                    f"an array of dtype {leaf.dtype}" if isinstance(leaf, np.ndarray) else \
                    f"{type(leaf).__name__} {leaf!r}"
                inside = "" if leaf is value else f" (an element of {name})"
                choose = f"choose what to differentiate with wrt= (parameters: " \
                         f"{', '.join(parameters(fn))})"
                raise UsageError(
                    f"cannot differentiate {fn.__name__} with respect to {name}: it is "
                    f"{what}{inside}, not a float or an array of floats", def_loc(fn),
                    f"{choose[0].upper()}{choose[1:]}." if kind is None else
                    f"Pass floats (np.asarray({name}, dtype=float) or {name} = 2.0), or "
                    f"{choose}.")


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
            # "reverse_grad": grad and value_and_grad only; "reverse_aux": f returns loss, aux;
            # "reverse_value": value_and_vjp too
            plain = mode.endswith("_plain")
            base = mode[:-len("_plain")] if plain else mode
            if base in ("reverse", "reverse_grad", "reverse_aux", "reverse_value"):
                generated = reverse_module(fn, positions, with_vjp=base == "reverse",
                                           has_aux=base == "reverse_aux", plain=plain,
                                           checkpoint=checkpoint,
                                           with_value=base == "reverse_value", numbers=numbers)
            else:  # "forward", or "forward_vector": tangents with a leading axis of directions
                generated = forward_module(fn, positions, vector=base == "forward_vector",
                                           plain=plain, numbers=numbers)
        except S2sadError:
            raise
        except Exception as exc:  # not the user's doing: a transform that failed
            raise InternalError(f"s2sad failed to transform {fn.__qualname__} ({mode} mode): "
                                f"{type(exc).__name__}: {exc}", def_loc(fn)) from exc
        per_fn[key] = (load_module(generated.source, f"{mode} of {fn.__qualname__}",
                                   generated.bindings, generated.live), generated)
    return per_fn[key]


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


def load_module(source, label, bindings=None, live=None):
    """Compile generated source into a fresh module (:func:`s2sad.ir.load_generated`: its
    source on its ``__loader__``, its functions recorded as s2sad's own); its namespace."""
    namespace = load_generated(source, label, bindings=bindings)
    namespace.update(live or {})  # the user's module read through f, not held (see LiveScope)
    return namespace


def bind(fn, args, kwargs):
    try:
        bound = inspect.signature(fn, follow_wrapped=False).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}: {exc}") from None
    bound.apply_defaults()
    return list(bound.arguments.values())


def raise_failure(fn, exc, args, kwargs=None):
    """Raise what a user should see when code generated for ``fn`` raised ``exc`` on
    ``fn``'s arguments ``args``: ``exc`` itself when it is s2sad's, was raised in the user's
    own code (a custom rule), or ``fn`` raises on these arguments too (the user's error, as
    ``fn`` reports it) or a check of the generated code's own (``CheckFailed``: arguments
    outside what the derivative is made for); otherwise an :class:`InternalError` (a bug in
    s2sad), chained to it.
    Called only when generated code failed: running ``fn`` again costs nothing otherwise.
    """
    if isinstance(exc, S2sadError) or getattr(exc, "arguments_at_fault", False) or \
            _raised_in_user_code(exc):
        raise exc
    if overridden(exc):
        raise UsageError(str(exc), def_loc(fn), f"s2sad reads self.method(...) as a method of "
                         f"the class {fn.__name__} is defined in: define {fn.__name__} in the "
                         f"subclass too, or call the subclass's method by its class "
                         f"(Sub.method(self, x)).") from None
    of = getattr(fn, "_s2sad_of", None)  # generated code differentiated again: its f
    original = (of() if of is not None else None) or fn
    try:
        original(*args, **(kwargs or {}))
    except Exception:
        raise exc from None
    raise InternalError(f"the code s2sad generated for {original.__qualname__} raised "
                        f"{type(exc).__name__}: {exc}; {original.__name__} itself runs on these "
                        f"arguments", def_loc(original)) from exc


_LIBRARY_DIRS = (os.path.dirname(np.__file__), os.path.dirname(__file__))


def _raised_in_user_code(exc):
    """True if the innermost frame of ``exc``'s traceback is the user's code (a custom rule),
    not generated code, NumPy or s2sad."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    filename = tb.tb_frame.f_code.co_filename
    return not (filename.startswith("<") or filename.startswith(_LIBRARY_DIRS))


def is_not_scalar(exc, name=None):
    """True if ``exc`` is what a generated module's ``check_scalar`` raises, ``NotScalar``
    (:class:`s2sad.support.NotScalar`; each module defines its own copy of the class, so it is
    known by its name), for the function named ``name`` if given."""
    return type(exc).__name__ == "NotScalar" and isinstance(exc, ValueError) and \
        getattr(exc, "arguments_at_fault", False) and (name is None or
                                                       getattr(exc, "name", None) == name)


def non_scalar_error(fn, exc):
    """The :class:`~s2sad.errors.NonScalarOutputError` for ``exc`` (:func:`is_not_scalar`):
    ``fn``'s gradient was asked for where ``fn`` returned an array."""
    try:
        loc = getattr(lower(fn).body[-1], "loc", None)
    except S2sadError:  # f's form for arrays is refused (x += e): it ran for numbers
        loc = def_loc(fn)
    return NonScalarOutputError(f"grad needs {fn.__name__} to return a scalar, but it returned "
                                f"an array of shape {exc.shape}", loc,
                                "Use s2sad.vjp for non-scalar outputs (or s2sad.jacobian), or "
                                "reduce the output to a scalar (e.g. np.sum).")


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
