"""The Python API of reverse mode: ``grad``, ``value_and_grad``, ``vjp``, ``source``,
``ssa`` and ``@differentiate``. Forward mode, Jacobians and second order are in
:mod:`s2sad.higher`; ``check_grads`` in :mod:`s2sad.checking`.

Each transform generates a module (see :mod:`s2sad.module`), compiles it once
and caches it per function, transform and ``wrt``, so ``s2sad.grad(f)`` called
in a loop parses nothing after the first call. Generated code is registered
with :mod:`linecache` under a ``<s2sad ...>`` file name, so tracebacks and
``inspect.getsource`` show the generated lines.

``wrt`` selects parameters by position (int) or name (str), or a tuple of
them; an int or a str gives one result, a tuple gives a tuple (as in JAX).

Generated code reads the user's globals and closure variables when it runs
(see :mod:`s2sad.lower`), so the cache holds no value of the user's. What the
transform specialised on (which function a name calls, which module it reads)
is checked against each function's names before a cached module is used
(:func:`s2sad.parse.guard_holds`; on every call of a derivative, by a checker
the derivative holds), and a name rebound to another function re-transforms.
The cache holds functions weakly and nothing in it refers back to them.
"""

import functools
import inspect
import linecache
import os
import types
import weakref

import numpy as np

from .errors import InternalError, NonScalarOutputError, S2sadError, SourceError, UsageError
from .ir import format_function
from .lower import lower
from .forward import forward_module
from .module import reverse_module
from .reverse import check_one_value
from .parse import def_loc, guard_checker, guard_holds, unwrap

_CACHE = weakref.WeakKeyDictionary()  # python function -> {(mode, wrt): namespace}


def _parameters(fn):
    return list(inspect.signature(fn, follow_wrapped=False).parameters)


def _check_function(fn):
    """Reject what s2sad cannot read (a ufunc, a builtin, a class) when the transform is made."""
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"s2sad differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="Pass a function defined with def in a .py file (wrap a NumPy "
                               "function in one: def f(x): return np.sin(x)).")


def normalize_wrt(fn, wrt):
    """``(positions, single)`` for a ``wrt`` given as int, str or a tuple of them.

    A bad ``wrt`` is a :class:`~s2sad.errors.UsageError` pointing at ``def fn``.
    """
    _check_function(fn)
    params = _parameters(fn)
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


def _compiled(fn, mode, positions):
    """The namespace of the generated module (transformed and compiled once)."""
    per_fn = _CACHE.setdefault(fn, {})
    key = (mode, positions)
    if key in per_fn and not guard_holds(per_fn[key][1].guard):
        per_fn.clear()  # a name f (or a helper) reads means another function now
    if key not in per_fn:
        try:
            if mode in ("reverse", "reverse_grad"):  # reverse_grad: grad, value_and_grad only
                generated = reverse_module(fn, positions, with_vjp=mode == "reverse")
            else:  # "forward", or "forward_vector": tangents with a leading axis of directions
                generated = forward_module(fn, positions, vector=mode == "forward_vector")
        except S2sadError:
            raise
        except Exception as exc:  # not the user's doing: a transform that failed
            raise InternalError(f"s2sad failed to transform {fn.__qualname__} ({mode} mode): "
                                f"{type(exc).__name__}: {exc}", def_loc(fn)) from exc
        per_fn[key] = (load_module(generated.source, f"{mode} of {fn.__qualname__}",
                                   generated.bindings, generated.live), generated)
    return per_fn[key]


def load_module(source, label, bindings=None, live=None):
    """Compile generated source into a fresh namespace, visible to tracebacks."""
    filename, lines, k = f"<s2sad {label}>", source.splitlines(True), 1
    # another module under the same label (another f, other wrt) keeps its text: s2sad
    # reads generated functions back through linecache to differentiate them again
    while filename in linecache.cache and linecache.cache[filename][2] != lines:
        k += 1
        filename = f"<s2sad {label} ({k})>"
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace = {"__name__": "s2sad_generated", "__file__": filename}
    namespace.update(bindings or {})
    exec(compile(source, filename, "exec"), namespace)
    namespace.update(live or {})  # the user's module read through f, not held (see LiveScope)
    return namespace


def _bind(fn, args, kwargs):
    try:
        bound = inspect.signature(fn, follow_wrapped=False).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}: {exc}") from None
    bound.apply_defaults()
    return list(bound.arguments.values())


def _reverse_entry(f, wrt, kind):
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)
    n_params = len(_parameters(fn))
    tuple_result = not single and len(positions) == 1
    compiled = []  # the generated entry point and its guard's checker, looked up once

    def entry():
        if compiled and not compiled[1]():  # a name f reads means another function now
            compiled.clear()
        if not compiled:
            whole = _CACHE.get(fn, {}).get(("reverse", positions))  # made for vjp or source
            mode = "reverse" if kind == "vjp" or whole else "reverse_grad"
            namespace, generated = _compiled(fn, mode, positions)
            if kind not in generated.entry_points:  # f returns several values: vjp only
                check_one_value(lower(fn))
            check = guard_checker(generated.guard) or (lambda: False)
            compiled[:] = [namespace[generated.entry_points[kind]], check]
        return compiled[0]

    def values(args, kwargs):
        # the fast path (all arguments by position) skips inspect's binding
        return args if not kwargs and len(args) == n_params else _bind(fn, args, kwargs)

    def fast(*args, **kwargs):  # grad: the generated grad_f, called at once
        if kwargs or len(args) != n_params:
            return derivative(*args, **kwargs)
        function = compiled[0] if compiled and compiled[1]() else entry()
        try:
            return function(*args)
        except ValueError as exc:
            if "must return a scalar, not shape" in str(exc) and fn.__name__ in str(exc):
                raise _non_scalar(fn, str(exc)) from None
            raise_failure(fn, exc, args)
        except Exception as exc:
            raise_failure(fn, exc, args)

    def derivative(*args, **kwargs):
        if kind == "vjp":
            if "out_bar" in kwargs and "out_bar" not in _parameters(fn):
                out_bar = kwargs.pop("out_bar")  # else out_bar= is f's own parameter
            elif args:
                args, out_bar = args[:-1], args[-1]
            else:
                raise TypeError(f"vjp of {fn.__name__} takes out_bar after the arguments")
            function, bound = entry(), values(args, kwargs)
            try:
                result = function(*bound, out_bar)
            except Exception as exc:
                raise_failure(fn, exc, bound)
            return (result,) if tuple_result else result
        function = compiled[0] if compiled and compiled[1]() else entry()
        bound = values(args, kwargs)  # the fast path (all by position) skips inspect's binding
        try:
            result = function(*bound)
        except ValueError as exc:
            if "must return a scalar, not shape" in str(exc) and fn.__name__ in str(exc):
                raise _non_scalar(fn, str(exc)) from None
            raise_failure(fn, exc, bound)
        except Exception as exc:
            raise_failure(fn, exc, bound)
        if kind == "value_and_grad":
            return result[0], ((result[1],) if tuple_result else result[1])
        return (result,) if tuple_result else result

    public = fast if kind == "grad" and not tuple_result else derivative
    functools.update_wrapper(public, fn)
    public.__name__ = f"{kind}_{fn.__name__}"
    public.__qualname__ = public.__name__
    public.__doc__ = f"{kind} of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del public.__wrapped__  # the derivative is not f; do not let s2sad unwrap it to f
    public._s2sad = (fn, kind, positions)
    return public


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


def _non_scalar(fn, message):
    ir = lower(fn)
    ret = ir.body[-1]
    shape = message.split("not shape ")[1].split(";")[0]
    return NonScalarOutputError(f"grad needs {fn.__name__} to return a scalar, but it returned "
                                f"an array of shape {shape}", getattr(ret, "loc", None),
                                "Use s2sad.vjp for non-scalar outputs (or s2sad.jacobian), or "
                                "reduce the output to a scalar (e.g. np.sum).")


def stop_gradient(x):
    """``x`` itself, through which s2sad lets no derivative flow."""
    return x


def grad(f, wrt=0):
    """A function of ``f``'s arguments returning the gradient of ``f`` w.r.t. ``wrt``.

    ``f`` must return a scalar; otherwise calling the gradient raises
    :class:`~s2sad.errors.NonScalarOutputError` (use :func:`vjp`).
    """
    return _reverse_entry(f, wrt, "grad")


def value_and_grad(f, wrt=0):
    """Like :func:`grad`, returning ``(f(*args), gradient)``."""
    return _reverse_entry(f, wrt, "value_and_grad")


def vjp(f, wrt=0):
    """A function ``(*args, out_bar)`` returning the vector-Jacobian product(s) ``out_bar . J``."""
    return _reverse_entry(f, wrt, "vjp")


def source(f, wrt=0, mode="reverse"):
    """The text of the generated module for ``f``: mode ``"reverse"`` or ``"forward"``."""
    fn = unwrap(f)
    positions, _ = normalize_wrt(fn, wrt)
    if mode not in ("reverse", "forward"):
        raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
    return _compiled(fn, mode, positions)[1].source


def ssa(f):
    """The SSA listing of ``f``: one primitive per line, with source lines."""
    return format_function(lower(unwrap(f)))


class Differentiable:
    """What ``@s2sad.differentiate`` returns: ``f`` itself, plus its derivatives.

    Attributes ``grad``, ``value_and_grad``, ``vjp`` and ``jvp`` are the
    transforms of ``f`` for the decorator's ``wrt``; ``source`` (of the
    decorator's ``mode``) and ``ssa`` are their texts.
    """

    def __init__(self, fn, wrt=0, mode="reverse"):
        functools.update_wrapper(self, fn)
        if mode not in ("reverse", "forward"):
            raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
        self._wrt = wrt
        self._mode = mode
        normalize_wrt(fn, wrt)

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self):
        return f"<s2sad.differentiate {self.__wrapped__.__qualname__} wrt={self._wrt!r}>"

    @functools.cached_property
    def grad(self):
        return grad(self.__wrapped__, self._wrt)

    @functools.cached_property
    def value_and_grad(self):
        return value_and_grad(self.__wrapped__, self._wrt)

    @functools.cached_property
    def vjp(self):
        return vjp(self.__wrapped__, self._wrt)

    @functools.cached_property
    def jvp(self):
        from .higher import jvp
        return jvp(self.__wrapped__, self._wrt)

    @property
    def source(self):
        return source(self.__wrapped__, self._wrt, self._mode)

    @property
    def ssa(self):
        return ssa(self.__wrapped__)


def differentiate(f=None, *, wrt=0, mode="reverse"):
    """Decorator: ``@differentiate`` or ``@differentiate(wrt=..., mode=...)``."""
    if f is None:
        return lambda fn: Differentiable(fn, wrt, mode)
    return Differentiable(f, wrt, mode)
