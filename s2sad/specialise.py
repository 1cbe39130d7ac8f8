"""Call-time specialisation: a generated function specialised on the kinds of its arguments.

The generated module is shape-generic, and stays what :func:`s2sad.source` and the CLI
show. The first call of a signature runs it as it is (a derivative called once pays for
one transform, not two); from the second call of that signature on, :func:`on_first_call`
reads the kinds of the arguments it meets (a Python number, or a float64/int64 array of some rank:
:func:`kind_of`), has :func:`s2sad.kinds.specialise_function` rewrite the entry point
for them (``dot_bar_b(g, W, h)`` becomes ``W.T.dot(g)`` where ``W`` is a matrix and
``h`` a vector), and compiles the result into a module of its own. The specialised
function opens with a guard: arguments of other kinds go to ``_other_kinds``, which
specialises once per signature met (up to :data:`LIMIT` of them, then the generic
function serves). Where the kinds change nothing, the generic function itself is used,
without a guard. ``s2sad.source(f, specialise_for=args)`` shows the specialised module
(:func:`specialised_source`).

What is specialised is only what the kinds decide for every call of that signature, so
a specialised function computes what the generic one does; the generic function stays
the one s2sad reads to differentiate again. Layer 8, above the cache.
"""

import ast

import numpy as np

from .cache import load_module
from .kinds import Kind
from .guards import guard_terms
from .rewrites import constant_lines, function_span, specialise_function

LIMIT = 8  # signatures specialised per derivative; others use the generic function
OTHER = "_other_kinds"


# the names the guards read (bound once, read as globals: cheaper than np.ndarray)
GUARD_NAMES = {"_ndarray": np.ndarray, "_float64": np.dtype(np.float64),
               "_int64": np.dtype(np.int64), "_zero_bytes": bytes(8)}
GUARD_LINE = ("_ndarray, _float64, _int64 = np.ndarray, np.dtype(np.float64), "
              "np.dtype(np.int64)  # what the guards compare with\n"
              "_zero_bytes = bytes(8)  # the data of an array that stands in for another's shape\n")
_DTYPES = {GUARD_NAMES["_float64"]: "d", GUARD_NAMES["_int64"]: "l"}


def kind_of(value):
    """The :class:`~s2sad.kinds.Kind` of an argument, or None (not specialised on); exactly
    what the guard's test (:func:`kind_test`) accepts."""
    t = type(value)
    if t is float:
        return Kind(0, "d", python=True)
    if t is int:
        return Kind(0, "l", python=True)
    if t is np.ndarray and value.ndim and value.dtype in _DTYPES:
        char = _DTYPES[value.dtype]
        # (the identical dtype object only: a byte-swapped float64 is another kind)
        return Kind(value.ndim, char) if value.dtype is GUARD_NAMES[
            "_float64" if char == "d" else "_int64"] else None
    if t is np.float64:
        return Kind(0, "d")
    return None


def kind_test(name, kind):
    """The guard's test that ``name`` has ``kind`` (what :func:`kind_of` gave)."""
    if kind.array:
        dtype = "_float64" if kind.char == "d" else "_int64"
        return f"type({name}) is _ndarray and {name}.ndim == {kind.ndim} and " \
               f"{name}.dtype is {dtype}"
    if kind.python:
        return f"type({name}) is {'float' if kind.char == 'd' else 'int'}"
    return f"type({name}) is np.float64"


def _with_guard(text, kinds, names=()):
    """The text of a function with a guard opening it: other kinds go to ``_other_kinds``;
    ``names``: more tests the guard makes (that the names f reads mean what they meant)."""
    function = ast.parse(text).body[0]
    params = [a.arg for a in function.args.args]
    known = [(p, k) for p, k in zip(params, kinds) if k is not None]
    if not known and not names:
        return text
    last = function.args.args[-1].end_lineno if params else function.lineno
    indent = " " * function.body[0].col_offset
    tests = f" and\n{indent}        ".join([kind_test(p, k) for p, k in known] + list(names))
    what = f"these kinds of {', '.join(p for p, _ in known)}" if known else "no kinds"
    guard = (f"{indent}# specialised for {what}"
             f"{' and the names f reads' if names else ''}; others: the generic function\n"
             f"{indent}if not ({tests}):\n"
             f"{indent}    return {OTHER}({', '.join(params)})\n")
    lines = text.splitlines(keepends=True)
    return "".join(lines[:last] + [guard] + lines[last:])


def specialise_text(source, name, kinds):
    """The text of function ``name`` of a generated module ``source`` specialised for
    ``kinds`` and guarded, or None where the kinds change nothing."""
    span = function_span(source, name)
    special = span and specialise_function(source[span[0]:span[1]], kinds)
    return special and _with_guard(special, kinds)


def specialised_source(generated, args):
    """The text of ``generated``'s module with its entry points specialised for the
    arguments ``args`` (its generic text where their kinds change nothing)."""
    kinds = [kind_of(a) for a in args]
    source = generated.source
    for name in generated.entry_points.values():
        special = specialise_text(source, name, kinds)
        if special is not None:
            start, end = function_span(source, name)
            source = source[:start] + special + source[end:]
    if source is generated.source:
        return source
    start = function_span(source, next(iter(generated.entry_points.values())))[0]
    return f"{source[:start]}{GUARD_LINE}{constant_lines(source)}\n\n{source[start:]}"


def on_first_call(namespace, generated, kind, slot, label, check=None, positions=(),
                  fast=None, holds=None):
    """The function a derivative's ``slot`` holds before its first call: it runs the generic
    entry point ``kind`` (``grad``, ``value_and_grad``) at a signature's first call, and
    at its second specialises the entry point for those arguments, puts the result in
    ``slot[0]``, and serves every later call of another signature.

    With ``check`` (``check(args)`` raises unless the arguments at ``positions`` are
    something to differentiate), every call it serves is checked, and the slot gets a
    guarded function only where the guard implies the check (each argument at
    ``positions`` a float or a float64 array; the guard alone where the kinds change
    nothing else), so the caller need not check again.

    With ``fast`` (``[the function the derivative calls, its checked path]``) and ``holds``
    (the slot's checker of the names f reads, ``slot[1]`` once this returns), the guard of
    the function put in the slot also tests those names (inline:
    :func:`s2sad.guards.guard_terms`) and that the slot's checker is still ``holds`` (no
    :func:`s2sad.clear_cache` since); ``fast[0]`` gets that function, so a call makes one
    check. Where its guard fails for the names, ``fast[0]`` goes back to ``fast[1]``, which
    checks the names and transforms again.
    """
    name = generated.entry_points[kind]
    generic = namespace[name]
    table, met = {}, set()

    def other_kinds(*args):
        if check is not None:
            check(args)
        key = tuple(kind_of(a) for a in args)
        function = table.get(key)
        if function is None and key not in met:  # a signature's first call: the generic code
            met.add(key)
            return generic(*args)
        if function is None:
            checked = check is None or all(
                key[i] is not None and key[i].char == "d" for i in positions)
            special = None if len(table) >= LIMIT else _specialised(
                generated, namespace, name, key, guard_failed if folded else other_kinds,
                label, guard_only=check is not None and checked,
                names=folded and (slot, holds, terms))
            function = table[key] = special or generic
            if checked and slot and slot[0] is other_kinds:
                slot[0] = function
                if folded and special is not None:
                    fast[0] = special
        return function(*args)

    def guard_failed(*args):  # another kind, or a name f reads means another thing
        if slot[1] is holds and holds():
            return other_kinds(*args)
        fast[0] = fast[1]  # the checked path: it transforms again
        return fast[1](*args)

    terms = guard_terms(generated.guard, _NAMES) if fast is not None and holds else None
    folded = terms is not None and not terms[2]  # (a closure cell's test may raise)
    return other_kinds


_SLOT, _HOLDS, _NAMES = "_s2sad_slot", "_s2sad_holds", "_s2sad_names_"


def _specialised(generated, namespace, name, kinds, other_kinds, label, guard_only=False,
                 names=None):
    """The specialised function, compiled alone into a module that reads what the generic
    module defines (its helpers, the user's names), or None; ``guard_only``: the generic
    function behind the guard where the kinds change nothing else; ``names``: ``(slot,
    holds, (terms, env, cells))``, the names' tests its guard makes too."""
    tests, own = [], dict(GUARD_NAMES)
    if names:
        slot, holds, (terms, env, _) = names
        tests = [f"{_SLOT}[1] is {_HOLDS}"] + terms
        own.update(env, **{_SLOT: slot, _HOLDS: holds})
    if OTHER in namespace or set(own) & set(namespace):  # (a user's names: not specialised)
        return None
    span = function_span(generated.source, name)
    text = specialise_function(generated.source[span[0]:span[1]], kinds)
    if text is None and guard_only:
        text = generated.source[span[0]:span[1]]
    if text is None:
        return None
    text = _with_guard(text, kinds, tests)
    constants = constant_lines(text)
    if set(line.split(" = ")[0] for line in constants.splitlines()) & set(namespace):
        return None
    special = load_module(f"import numpy as np\n\n{GUARD_LINE}{constants}\n\n{text}",
                          f"{label}, specialised")
    special.update(own)  # (the guard's names)
    for key, value in namespace.items():
        special.setdefault(key, value)
    special[OTHER] = other_kinds
    return special[name]
