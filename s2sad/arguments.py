"""What every entry point of the API and the tools does with the function and arguments it
is given, before any code is generated (layer 8, beside the compiled-function cache).

:func:`check_function` refuses what s2sad cannot read (a ufunc, a builtin, another
library's code); :func:`normalize_wrt` reads ``wrt`` (an int, a name, a tuple of them)
into positions, :data:`DEFAULT_WRT` being the first parameter; :func:`bound_parts`,
:func:`through_bound` and :func:`at_bound_values` let a bound method or a
``functools.partial`` stand for its function, ``wrt`` counted after the bound values;
:func:`check_differentiable` refuses a ``wrt`` argument that is not floats; :func:`bind`
binds a call's arguments to the parameters, and :func:`call_with` calls the function with
the values bound (keyword-only parameters by name: generated code takes them as plain
ones). Each error is a located :class:`~s2sad.errors.UsageError` or
:class:`~s2sad.errors.SourceError`.
"""

import functools
import inspect
import sys
import types

import numpy as np

from .custom import registration_hint
from .errors import SourceError, UsageError
from .ir import def_loc
from .parse import is_library_code
from .trees import flatten


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
    to differentiate: floats, arrays of them, containers of them; and if any argument is
    complex (the rules assume real values: :func:`check_real_arguments`)."""
    check_real_arguments(fn, values)
    for i in positions:
        value = values[i]
        if type(value) is float or type(value) is np.ndarray and value.dtype.kind == "f":
            continue  # the common cases, first and fast
        for leaf in flatten(value)[0]:
            kind = np.asarray(leaf).dtype.kind if isinstance(
                leaf, (int, float, complex, np.ndarray, np.generic)) else \
                getattr(getattr(leaf, "dtype", None), "kind", None)  # any array type's dtype
            if kind == "c":
                check_real_arguments(fn, [leaf], parameters(fn)[i])
            if kind != "f":
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


def check_real_arguments(fn, values, name=None):
    """Raise a :class:`UsageError` if a value of ``values`` (the arguments, or the element
    of argument ``name``) is a complex number or array: the derivative rules assume real
    values (``np.abs``'s slope is ``np.sign(x)``), so they would be silently wrong."""
    for k, value in enumerate(values):
        if type(value) is float or type(value) is np.ndarray and value.dtype.kind != "c":
            continue  # the common cases, first and fast
        if isinstance(value, (complex, np.complexfloating)) or \
                getattr(getattr(value, "dtype", None), "kind", None) == "c":
            if name is None:
                params = parameters(fn)
                name = params[k] if k < len(params) else "*args"
            raise UsageError(
                f"{fn.__name__} is given a complex value for {name}: s2sad differentiates "
                f"real values only, and its rules would be wrong on complex ones",
                def_loc(fn), "Pass the real and imaginary parts as two real arrays.")


def bind(fn, args, kwargs):
    try:
        bound = inspect.signature(fn, follow_wrapped=False).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}: {exc}") from None
    bound.apply_defaults()
    return list(bound.arguments.values())


def split_values(fn, values):
    """``(args, kwargs)`` that call ``fn`` with ``values``, the values of its parameters in
    order (what :func:`bind` gives, and what generated code takes, keyword-only parameters
    as plain ones): the keyword-only ones by name, the others (and any extra) by position."""
    params = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    keyword = {p.name: v for p, v in zip(params, values) if p.kind is p.KEYWORD_ONLY}
    args = [v for p, v in zip(params, values) if p.kind is not p.KEYWORD_ONLY]
    return tuple(args) + tuple(values[len(params):]), keyword


def call_with(f, fn, values):
    """``f`` called with ``values`` (see :func:`split_values`), ``fn``'s parameters' values:
    ``f`` is ``fn`` or what stands for it (a derivative, a decorated function)."""
    args, kwargs = split_values(fn, values)
    return f(*args, **kwargs)


def positional_count(fn):
    """How many of ``fn``'s arguments may be passed by position (its parameters before any
    keyword-only one)."""
    return sum(p.kind is not p.KEYWORD_ONLY
               for p in inspect.signature(fn, follow_wrapped=False).parameters.values())
