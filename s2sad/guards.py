"""Resolution guards: what a compiled function's free names meant when it was lowered.

A derivative compiled from ``f`` reads ``f``'s globals and closure (``np``, a helper, a
constant) as they were then. :func:`resolution_guard` records each name with where it was
found and, weakly, what it named; :func:`guard_holds` says whether every name still means
the same (the cache recompiles when one does not), and :func:`guard_checker` /
:func:`guard_terms` compile that check into one expression, run on every call of a
derivative.

Layer 3 (front end), beside :mod:`s2sad.parse`.
"""

import builtins
import functools
import weakref

from .parse import Scope, is_value


def _current(fn, where, name):
    """What ``name`` means in ``fn`` now (``where`` as recorded), or ``Scope._MISSING``."""
    if where == "closure":
        try:
            cell = fn.__closure__[fn.__code__.co_freevars.index(name)]
            return cell.cell_contents
        except (ValueError, TypeError):
            return Scope._MISSING
    value = fn.__globals__.get(name, Scope._MISSING)
    if value is Scope._MISSING and where == "builtins":
        return getattr(builtins, name, Scope._MISSING)
    return value


_VALUE = "value"  # a guard entry's expected kind for a name read live


def _weak(obj):
    try:
        return weakref.ref(obj)
    except TypeError:  # ufuncs, builtins of some kinds: library objects, held as they are
        return lambda: obj


def resolution_guard(fn, resolved):
    """What a transform of ``fn`` assumed about its free names, checkable later without
    holding ``fn`` or what it names: ``(weakref fn, where, name, weakref value or _VALUE)``
    for each name it resolved. Values (numbers, arrays) are read live, so only their kind
    is checked; functions, modules and classes by identity."""
    own = weakref.ref(fn)
    return tuple((own, where, name, _VALUE if is_value(value) else _weak(value))
                 for name, (where, value) in resolved.items())


def guard_holds(guard):
    """True if every name in ``guard`` still means what the transform assumed."""
    for owner, where, name, expected in guard:
        fn = owner()
        if fn is None:
            return False
        current = _current(fn, where, name)
        if current is Scope._MISSING:
            return False
        if expected is _VALUE:
            if not is_value(current):
                return False
        elif expected() is not current:
            return False
    return True


def guard_terms(guard, prefix=""):
    """``(terms, env, cells)``: the tests of ``guard`` as Python expressions, over the names
    of ``env`` (each starting with ``prefix``: the dicts, cells and objects they compare,
    held strongly), and whether a test reads a closure cell (which raises ValueError when
    empty); or None where a function or an object of ``guard`` is gone."""
    terms, cells = [], False
    env = {f"{prefix}is_value": is_value, f"{prefix}MISSING": Scope._MISSING}
    for k, (owner, where, name, expected) in enumerate(guard):
        fn = owner()
        if fn is None:
            return None
        if where == "closure":
            try:
                env[f"{prefix}c{k}"] = fn.__closure__[fn.__code__.co_freevars.index(name)]
            except (ValueError, TypeError):
                return None
            read, cells = f"{prefix}c{k}.cell_contents", True
        else:
            env[f"{prefix}g{k}"] = fn.__globals__
            default = f"{prefix}b{k}" if where == "builtins" else f"{prefix}MISSING"
            if where == "builtins":
                env[f"{prefix}b{k}"] = getattr(builtins, name, Scope._MISSING)
            read = f"{prefix}g{k}.get({name!r}, {default})"
        if expected is _VALUE:
            terms.append(f"{prefix}is_value({read})")
        else:
            obj = expected()
            if obj is None:
                return None
            env[f"{prefix}o{k}"] = obj
            terms.append(f"{read} is {prefix}o{k}")
    return terms, env, cells


def guard_checker(guard):
    """A fast function of no arguments checking ``guard`` (for the call path of a
    derivative): it holds the dicts, cells and objects strongly, so the caller (a
    derivative object, which holds ``f`` anyway) owns it, never a cache."""
    made = guard_terms(guard)
    if made is None:
        return None
    terms, env, _ = made
    text = f"def check():\n    try:\n        return {' and '.join(terms) or 'True'}\n" \
           f"    except ValueError:\n        return False\n"
    exec(_compiled(text), env)
    return env["check"]


@functools.lru_cache(maxsize=256)
def _compiled(text):
    """``text`` compiled (a checker's text is the same for functions reading the same names)."""
    return compile(text, "<string>", "exec")
