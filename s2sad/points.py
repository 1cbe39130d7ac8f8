"""Points at which the command line evaluates a function: ``--at`` and ``--shapes``.

``--at x=2,y=3,W=@weights.npy,v=[1,2,3]`` gives numbers (floats), lists (float arrays)
and arrays saved by ``numpy.save``; ``--shapes x=100,W=100x10,s=()`` gives arrays of
those shapes holding values in [0.5, 1.5) (seeded: runs agree). A parameter the
function passes to ``range`` (a trip count) keeps an int. Used by ``s2sad trace``,
``graph``, ``cost`` and ``explain`` (:mod:`s2sad.cli`).

Layer 9: reads the SSA form (:mod:`s2sad.lower`).
"""

import ast
import inspect
import re

import numpy as np

from .errors import UsageError
from .ir import Assign, Var, walk_blocks
from .lower import lower
from .rules.core import rule_name

_ITEMS = re.compile(r",\s*(?=[A-Za-z_]\w*\s*=)")  # split at commas before "name="


def range_parameters(fn):
    """The parameters ``fn`` passes to ``range``: trip counts, kept ints."""
    return {a.name for s in walk_blocks(lower(fn).body) if isinstance(s, Assign)
            and rule_name(s.prim) and s.prim.integer_operands for a in s.args
            if isinstance(a, Var)}


def parse_at(fn, text, given=None, option="--at"):
    """The arguments of ``fn`` written ``x=2,y=3``, ``W=@weights.npy`` or ``v=[1,2,3]``, in
    ``fn``'s parameter order (defaults filled in). A number is a float, except where ``fn``
    passes the parameter to ``range`` (a trip count), which keeps it an int."""
    params = inspect.signature(fn).parameters
    counts = range_parameters(fn)
    given = dict(given or {})
    written = [item.partition("=") for item in _ITEMS.split((text or "").strip()) if item]
    for name in list(given) + [name.strip() for name, _, _ in written]:
        if name not in params:
            raise UsageError(f"{option} names {name!r}, which is not a parameter of "
                             f"{fn.__name__}", hint=f"Its parameters: {', '.join(params)}.")
    for name, _, value in written:
        name = name.strip()
        given[name] = parse_value(f"{option} {name}", value.strip(), name in counts)
    missing = [n for n, p in params.items() if n not in given and p.default is p.empty]
    if missing:
        raise UsageError(f"{option} gives no value for {', '.join(missing)}",
                         hint="Give every parameter without a default, e.g. --at x=2,y=3 "
                              "(arrays: W=@weights.npy or v=[1,2,3]), or --shapes "
                              "x=100,W=100x10.")
    return [given[n] if n in given else p.default for n, p in params.items()]


def parse_value(what, text, count=False):
    """One value written on the command line: a number, a list, or @FILE.npy (``what``
    names it in errors); a whole number stays an int if ``count``."""
    if text.startswith("@"):
        try:
            return np.load(text[1:])
        except (OSError, ValueError) as exc:
            raise UsageError(f"{what}: cannot load {text[1:]}: {exc}",
                             hint="Name a file written by numpy.save (.npy).") from None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"{what}={text} is not a number, a list of numbers or @FILE.npy",
                         hint="Write e.g. x=2, v=[1,2,3] or W=@weights.npy.") from None
    if isinstance(value, bool) or count and isinstance(value, int):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value, dtype=float)
    raise UsageError(f"{what}={text} is not a number, a list of numbers or @FILE.npy",
                     hint="Write e.g. x=2, v=[1,2,3] or W=@weights.npy.")


def parse_shapes(fn, text):
    """Arguments of ``fn`` made from shapes, ``x=100,W=100x10,s=()``: arrays of those shapes
    holding values in [0.5, 1.5) (seeded, so runs agree); a parameter passed to ``range``
    gets the int itself."""
    counts = range_parameters(fn)
    rng = np.random.default_rng(0)
    given = {}
    for item in _ITEMS.split((text or "").strip()):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip().replace(" ", "")
        try:
            shape = () if value in ("()", "scalar") else tuple(int(d) for d in value.split("x"))
        except ValueError:
            raise UsageError(f"--shapes {name}={value} is not a shape",
                             hint="Write sizes joined by x (W=100x10), or () for a number.") \
                from None
        if name in counts:
            given[name] = shape[0] if len(shape) == 1 else 1
        else:
            given[name] = 0.5 + rng.random(shape) if shape else 0.5 + float(rng.random())
    return parse_at(fn, "", given, option="--shapes")
