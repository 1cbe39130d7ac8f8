"""The Python API: ``grad``, ``value_and_grad``, ``vjp``, ``source``, ``ssa``, ``check_grads``.

Each transform generates a module (see :mod:`s2sad.module`), compiles it once
and caches it per function, transform and ``wrt``, so ``s2sad.grad(f)`` called
in a loop parses nothing after the first call. Generated code is registered
with :mod:`linecache` under a ``<s2sad ...>`` file name, so tracebacks and
``inspect.getsource`` show the generated lines.

``wrt`` selects parameters by position (int) or name (str), or a tuple of
them; an int or a str gives one result, a tuple gives a tuple (as in JAX).
"""

import functools
import inspect
import linecache
import types
import weakref

import numpy as np

from .errors import NonScalarOutputError, S2sadError, SourceError, UsageError
from .ir import Loc, format_function
from .lower import lower
from .module import reverse_module
from .parse import unwrap

_CACHE = weakref.WeakKeyDictionary()  # python function -> {(mode, wrt): namespace}


def _parameters(fn):
    return list(inspect.signature(fn).parameters)


def _def_loc(fn):
    """The :class:`~s2sad.ir.Loc` of ``def fn`` (past any decorators), for errors about calls."""
    try:
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except TypeError:
        return None
    first = fn.__code__.co_firstlineno
    for line in range(first, first + 50):
        text = linecache.getline(filename, line)
        if not text:
            break
        if text.lstrip().startswith(("def ", "async def ")):
            return Loc(filename, line, len(text) - len(text.lstrip()), text.rstrip("\n"))
    return None


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
        return UsageError(message, _def_loc(fn), hint)

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
    if key not in per_fn:
        generated = reverse_module(fn, positions)
        per_fn[key] = (load_module(generated.source, f"{mode} of {fn.__qualname__}",
                                   generated.bindings), generated)
    return per_fn[key]


def load_module(source, label, bindings=None):
    """Compile generated source into a fresh namespace, visible to tracebacks."""
    filename = f"<s2sad {label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "s2sad_generated", "__file__": filename}
    namespace.update(bindings or {})
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def _bind(fn, args, kwargs):
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}: {exc}") from None
    bound.apply_defaults()
    return list(bound.arguments.values())


def _shape_results(result, single):
    return (result,) if not single and not isinstance(result, tuple) else result


def _reverse_entry(f, wrt, kind):
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)
    if not single and len(positions) == 1:
        pass

    @functools.wraps(fn)
    def derivative(*args, **kwargs):
        namespace, generated = _compiled(fn, "reverse", positions)
        entry = namespace[generated.entry_points[kind]]
        if kind == "vjp":
            if "out_bar" in kwargs:
                out_bar = kwargs.pop("out_bar")
            elif args:
                args, out_bar = args[:-1], args[-1]
            else:
                raise TypeError(f"vjp of {fn.__name__} takes out_bar after the arguments")
            return _shape_results(entry(*_bind(fn, args, kwargs), out_bar), single)
        try:
            result = entry(*_bind(fn, args, kwargs))
        except ValueError as exc:
            if "must return a scalar, not shape" in str(exc) and fn.__name__ in str(exc):
                raise _non_scalar(fn, str(exc)) from None
            raise
        if kind == "value_and_grad":
            return result[0], _shape_results(result[1], single)
        return _shape_results(result, single)

    derivative.__name__ = f"{kind}_{fn.__name__}"
    derivative.__qualname__ = derivative.__name__
    derivative.__doc__ = f"{kind} of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del derivative.__wrapped__  # the derivative is not f; do not let s2sad unwrap it to f
    derivative._s2sad = (fn, kind, positions)
    return derivative


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
    """The text of the generated module for ``f`` (mode ``"reverse"``)."""
    fn = unwrap(f)
    positions, _ = normalize_wrt(fn, wrt)
    if mode != "reverse":
        raise UsageError(f"unknown mode {mode!r}; this version generates mode='reverse'")
    return _compiled(fn, "reverse", positions)[1].source


def ssa(f):
    """The SSA listing of ``f``: one primitive per line, with source lines."""
    return format_function(lower(unwrap(f)))


class Differentiable:
    """What ``@s2sad.differentiate`` returns: ``f`` itself, plus its derivatives.

    Attributes ``grad``, ``value_and_grad`` and ``vjp`` are the transforms of
    ``f`` for the decorator's ``wrt``; ``source`` and ``ssa`` are their texts.
    """

    def __init__(self, fn, wrt=0, mode="reverse"):
        functools.update_wrapper(self, fn)
        if mode != "reverse":
            raise UsageError(f"unknown mode {mode!r}; this version supports mode='reverse'")
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


class GradientCheckError(S2sadError, AssertionError):
    """``check_grads`` found derivatives that disagree with finite differences."""


def check_grads(f, args, wrt=0, modes=("reverse",), order=1, eps=1e-6, rtol=1e-5, atol=1e-7,
                seed=0):
    """Check derivatives of ``f`` at ``args`` against central finite differences.

    In reverse mode, for a random output direction ``v`` and random input
    directions ``u``, ``<vjp(v), u>`` must equal the finite difference of
    ``<v, f(x + t u)>`` at ``t = 0``. Raises :class:`GradientCheckError` with a
    report otherwise. ``order=2`` and forward mode need the forward-mode
    transform, which this version does not have yet.
    """
    fn = unwrap(f)
    args = tuple(args)
    positions, _ = normalize_wrt(fn, wrt if isinstance(wrt, (tuple, list)) else (wrt,))
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for mode in modes:
        if mode != "reverse":
            raise UsageError(f"check_grads: mode {mode!r} is not available in this version")
    if order != 1:
        raise UsageError("check_grads: order=2 needs forward mode, not available in this version")
    rng = np.random.default_rng(seed)
    out = fn(*args)
    v = rng.standard_normal(np.shape(out))
    us = [rng.standard_normal(np.shape(args[i])) for i in positions]

    def along(t):
        moved = list(args)
        for i, u in zip(positions, us):
            moved[i] = np.asarray(args[i], dtype=float) + t * u
        return np.sum(v * fn(*moved))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    bars = vjp(fn, tuple(positions))(*args, v)
    analytic = sum(float(np.sum(b * u)) for b, u in zip(bars, us))
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        names = [_parameters(fn)[i] for i in positions]
        raise GradientCheckError(
            f"check_grads({fn.__name__}, wrt={', '.join(names)}): reverse mode disagrees with "
            f"finite differences: <vjp(v), u> = {analytic!r} but the central difference "
            f"(eps={eps}) gives {numeric!r} (difference {abs(analytic - numeric):.3g})")
