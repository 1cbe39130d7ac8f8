"""Front end: find a function's source, parse it with gast, resolve its names.

:func:`parse_function` returns a :class:`ParsedFunction`: the ``FunctionDef``
node, where it sits in its file (so locations are the file's own lines and
columns), and a :class:`Scope` that resolves the names the body reads but does
not assign (``np``, ``math``, module constants, helper functions, closure
variables) in the function's own module, exactly as Python would at call time.
"""

import builtins
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

import gast

from .errors import SourceError, UnsupportedSyntaxError
from .ir import Loc


@dataclass
class Scope:
    """Where a function's free names come from: its closure, its module, builtins."""

    closure: dict
    globals: dict

    _MISSING = object()

    def lookup(self, name):
        """The value of a free name, or ``Scope._MISSING``."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, self._MISSING)


@dataclass
class ParsedFunction:
    fn: types.FunctionType
    node: gast.FunctionDef
    filename: str
    line_offset: int
    col_offset: int
    scope: Scope

    def loc(self, node, statement=None):
        """The :class:`~s2sad.ir.Loc` of a gast node, in the file's coordinates.

        ``statement`` (the enclosing statement) extends the location to its last line.
        """
        line = getattr(node, "lineno", None) or self.node.lineno
        col = getattr(node, "col_offset", 0) or 0
        first = getattr(statement, "lineno", None) or line
        end = getattr(statement, "end_lineno", None) or first
        if isinstance(statement, (gast.If, gast.For, gast.While)):
            end = first  # a compound statement is quoted by its header line
        text = linecache.getline(self.filename, line + self.line_offset)
        return Loc(self.filename, line + self.line_offset, col + self.col_offset,
                   text.rstrip("\n"), first + self.line_offset, end + self.line_offset)


def unwrap(fn):
    """The plain Python function behind a decorator of ours (or functools.wraps).

    A derivative made by the API (``s2sad.grad(f)``) stands for the function
    s2sad generated for it, so ``grad(grad(f))`` differentiates that code. A
    function with custom rules (``@s2sad.custom_vjp``) stands for a function
    calling it, so its rules are used (see :mod:`s2sad.custom`).
    """
    from .custom import CustomDerivative
    while True:
        if isinstance(fn, CustomDerivative):
            return fn.entry_function()
        if hasattr(fn, "__wrapped__"):
            fn = fn.__wrapped__
        elif hasattr(fn, "_s2sad"):
            from .higher import generated_function
            fn = generated_function(fn)
        else:
            return fn


def parse_function(fn) -> ParsedFunction:
    fn = unwrap(fn)
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"s2sad differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="Pass a function defined with def in a .py file.")
    try:
        lines, first = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise SourceError(f"cannot read the source of {fn.__qualname__}: {exc}",
                          hint="s2sad reads source code: define the function in a .py file "
                               "(not in an interactive prompt or with exec).") from None
    source = "".join(lines)
    dedented = textwrap.dedent(source)
    indent = len(lines[0]) - len(lines[0].lstrip()) if source != dedented else 0
    try:
        module = gast.parse(dedented)
    except SyntaxError as exc:  # pragma: no cover - python already parsed it
        raise SourceError(f"cannot parse the source of {fn.__qualname__}: {exc}") from None
    node = module.body[0]
    pf_loc = Loc(filename, first, indent, lines[0].rstrip("\n"))
    if not isinstance(node, gast.FunctionDef):
        what = "a lambda" if fn.__name__ == "<lambda>" else type(node).__name__
        raise UnsupportedSyntaxError(f"s2sad cannot differentiate {what}", pf_loc,
                                     hint="Define the function with def.")
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    return ParsedFunction(fn, node, filename, first - 1, indent, Scope(closure, fn.__globals__))


def def_loc(fn):
    """Where ``def fn`` is (past its decorators; a lambda's own line), or None: the place
    errors about a function as a whole point at."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    try:
        filename = inspect.getsourcefile(fn) or code.co_filename
    except TypeError:
        filename = code.co_filename
    first = code.co_firstlineno
    if getattr(fn, "__name__", None) != "<lambda>":
        for line in range(first, first + 50):
            text = linecache.getline(filename, line)
            if not text:
                break
            if text.lstrip().startswith(("def ", "async def ")):
                return Loc(filename, line, len(text) - len(text.lstrip()), text.rstrip("\n"))
    text = linecache.getline(filename, first)
    return Loc(filename, first, len(text) - len(text.lstrip()), text.rstrip("\n"))


def dotted_chain(node):
    """``['np', 'linalg', 'inv']`` for ``np.linalg.inv``; None if not a dotted name."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return [node.id] + parts[::-1]
