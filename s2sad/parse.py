"""Front end: find a function's source, parse it with gast, resolve its names.

:func:`parse_function` returns a :class:`ParsedFunction`: the ``FunctionDef``
node, where it sits in its file (so locations are the file's own lines and
columns), and a :class:`Scope` that resolves the names the body reads but does
not assign (``np``, ``math``, module constants, helper functions, closure
variables) in the function's own module, exactly as Python would at call time.

Layer 3 (front end): imports only :mod:`s2sad.errors` and :mod:`s2sad.ir`; the
API's objects say what they stand for themselves (:func:`unwrap`).
"""

import builtins
import inspect
import linecache
import os
import sys
import sysconfig
import textwrap
import types
import weakref
from dataclasses import dataclass, field

import gast

from .astutil import Kinds, parse, parsed_definition, walk
from .errors import SourceError, UnsupportedSyntaxError
from .generated_code import source_of
from .ir import Loc


@dataclass
class Scope:
    """Where a function's free names come from: its closure, its module, builtins.

    Every lookup is remembered in ``resolved`` (name -> (where, value), where is
    ``"closure"``, ``"globals"`` or ``"builtins"``): the transform specialises on
    what a name *is* (a function, a module, a value), and the caches check that
    it still is (:func:`resolution_guard`).
    """

    closure: dict
    globals: dict
    resolved: dict = field(default_factory=dict)

    _MISSING = object()

    def where(self, name):
        """``"closure"``, ``"globals"``, ``"builtins"`` or None: where ``name`` is found."""
        if name in self.closure:
            return "closure"
        if name in self.globals:
            return "globals"
        return "builtins" if hasattr(builtins, name) else None

    def lookup(self, name):
        """The value of a free name, or ``Scope._MISSING``."""
        if name in self.closure:
            value, where = self.closure[name], "closure"
        elif name in self.globals:
            value, where = self.globals[name], "globals"
        else:
            value, where = getattr(builtins, name, self._MISSING), "builtins"
        if value is not self._MISSING:
            self.resolved.setdefault(name, (where, value))
        return value


def is_value(obj):
    """True for what generated code reads when it runs (a number, an array, a list, a
    config object), False for what the transform specialises on (a function, a
    module, a class, any callable)."""
    return not (callable(obj) or isinstance(obj, types.ModuleType))


_LIBRARY_DIRS = tuple(sorted({os.path.join(os.path.realpath(sysconfig.get_paths()[key]), "")
                              for key in ("purelib", "platlib", "stdlib", "platstdlib")}))


def is_library_code(fn):
    """True if ``fn`` is another library's Python code (its file is installed in
    site-packages or the standard library: ``scipy.special.logsumexp``), which s2sad
    treats as a function without a rule (a user's custom rule gives it one), never as
    code of the user's to read and differentiate."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_filename.startswith("<"):
        return False
    return os.path.realpath(code.co_filename).startswith(_LIBRARY_DIRS)


def is_user_function(obj):
    """True for a Python function s2sad reads and differentiates (inlined or called):
    the user's own, not NumPy's, ``math``'s, s2sad's or another library's."""
    if not isinstance(obj, types.FunctionType):
        return False
    module = getattr(obj, "__module__", "") or ""
    return module.split(".")[0] not in ("numpy", "math", "s2sad", "builtins") and \
        not is_library_code(obj)


class LiveNameError(AttributeError):
    """A name generated code reads is not defined (where ``f`` would raise NameError)."""


class LiveScope:
    """Reads a function's free names when generated code runs, as the function does.

    Generated code spells a global ``lam`` of module ``model`` as ``model.lam``
    and a closure variable ``w`` of ``f`` as ``f_closure.w``. A module written
    to disk imports ``model``; in memory s2sad binds the name to a LiveScope
    instead, which reads ``f.__globals__`` (or ``f``'s closure cells) on each
    access. It holds ``f`` weakly, so a cached module never keeps ``f`` alive.
    ``_s2sad_module`` is the importable name of ``f``'s module (None if it has none).
    A missing name raises :class:`LiveNameError` (an AttributeError, so ``hasattr`` works).
    """

    __slots__ = ("_s2sad_fn", "_s2sad_closure", "_s2sad_module", "__weakref__")

    def __init__(self, fn, closure=False, module=None):
        self._s2sad_fn = weakref.ref(fn)
        self._s2sad_closure = closure
        self._s2sad_module = module

    def __getattr__(self, name):
        fn = self._s2sad_fn()
        if fn is None:
            raise ReferenceError("the function whose names this generated code reads is gone")
        if self._s2sad_closure:
            try:
                cell = fn.__closure__[fn.__code__.co_freevars.index(name)]
                return cell.cell_contents
            except (ValueError, TypeError):
                raise LiveNameError(f"free variable {name!r} of {fn.__qualname__} has no value") \
                    from None
        try:
            return fn.__globals__[name]
        except KeyError:
            try:
                return getattr(builtins, name)
            except AttributeError:
                raise LiveNameError(f"name {name!r} is not defined (read by the derivative of "
                                f"{fn.__qualname__})") from None

    def __repr__(self):
        fn = self._s2sad_fn()
        what = "closure of" if self._s2sad_closure else "globals of"
        return f"<s2sad live {what} {getattr(fn, '__qualname__', fn)}>"


def module_name_of(fn):
    """The name ``import`` finds ``fn``'s module under, or None (exec'd code, a notebook cell
    of another kernel, ...). The CLI's import of a file under a private name maps back to
    the file's own name (see :func:`s2sad.custom.import_name`)."""
    name = getattr(fn, "__module__", None)
    module = sys.modules.get(name) if name else None
    if module is None or getattr(module, "__dict__", None) is not getattr(fn, "__globals__", None):
        return None
    return name


@dataclass
class ParsedFunction:
    fn: types.FunctionType
    node: gast.FunctionDef
    filename: str
    line_offset: int
    col_offset: int
    scope: Scope
    # node's nodes by kind, for the front end's passes (a pass rewriting node says so)
    kinds: Kinds = field(init=False, repr=False, compare=False)
    # the inliner's names for a callee's locals -> the user's names, for messages
    user_names: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.kinds = Kinds(self.node)

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


def unwrap(fn, values=None):
    """The plain Python function behind a decorator of ours.

    A derivative made by the API (``s2sad.grad(f)``) stands for the function
    s2sad generated for it, so ``grad(grad(f))`` differentiates that code. A
    function with custom rules (``@s2sad.custom_vjp``) stands for a function
    calling it, so its rules are used (see :mod:`s2sad.custom`);
    ``@s2sad.differentiate`` stands for the function it decorates.

    Any other decorator is not seen through: a ``functools.wraps`` wrapper is
    the function the user calls, so s2sad differentiates the wrapper's own code
    (which calls the decorated function), or refuses it with a located error
    naming the decorator (:func:`check_wrapper`). Never the wrapped function
    silently: that is a different function.

    The objects say what they stand for themselves, so this layer imports none of
    the layers that make them: a class of ours (``CustomDerivative``,
    ``Differentiable``) defines ``_s2sad_function(self)``, and a derivative made
    by the API carries ``_s2sad_generated()``, which compiles (once) and returns
    its generated function: with ``values``, the arguments of a call, the one generated for
    their kinds (a function that updates a number argument in place, ``x += e``, has one per
    kind; see :func:`s2sad.cache.compiled`).
    """
    while True:
        stands_for = getattr(type(fn), "_s2sad_function", None)
        if stands_for is not None:
            fn = stands_for(fn)
        elif isinstance(fn, types.FunctionType) and hasattr(fn, "_s2sad_generated"):
            fn = fn._s2sad_generated() if values is None else fn._s2sad_generated(values=values)
        else:
            return fn


def check_wrapper(fn):
    """Refuse a decorator's wrapper s2sad cannot read as a plain function (``*args``,
    ``**kwargs``, keyword-only parameters), pointing at the decorator's line."""
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is None or not isinstance(fn, types.FunctionType):
        return
    kinds = {p.kind for p in inspect.signature(fn, follow_wrapped=False).parameters.values()}
    if kinds <= {inspect.Parameter.POSITIONAL_OR_KEYWORD}:
        return
    inner = wrapped
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    loc, deco = None, getattr(fn, "__qualname__", repr(fn))
    code = getattr(inner, "__code__", None)
    if code is not None:  # a decorated def's first line is its first decorator
        filename = inspect.getsourcefile(inner) or code.co_filename
        text = linecache.getline(filename, code.co_firstlineno)
        loc = Loc(filename, code.co_firstlineno, len(text) - len(text.lstrip()), text.rstrip("\n"))
        if text.lstrip().startswith("@"):
            deco = text.strip()
    raise UnsupportedSyntaxError(
        f"{getattr(inner, '__qualname__', inner)} is decorated by {deco}, whose wrapper "
        f"{fn.__qualname__} takes *args or **kwargs; s2sad cannot see what it does",
        loc, "Differentiate the undecorated function, or write the wrapper with the "
             "function's own parameters (def wrapper(x): ...) so s2sad can read it.")


def parse_function(fn) -> ParsedFunction:
    fn = unwrap(fn)
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"s2sad differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="Pass a function defined with def in a .py file.")
    check_wrapper(fn)
    if fn.__code__.co_name == "<lambda>":
        return _parse_lambda(fn)
    try:  # generated code's from its module's loader; a file's code's own lines (inspect
        # would follow a wrapper's __wrapped__; of a code object, it finds the module by
        # scanning sys.modules, for a function by its __module__: the same lines)
        generated = source_of(fn)
        if generated is None:  # (the def's lines found and parsed at once)
            whole, start = inspect.findsource(fn.__code__ if hasattr(fn, "__wrapped__") else fn)
            first = start + 1
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise SourceError(f"cannot read the source of {fn.__qualname__}: {exc}",
                          hint="s2sad reads source code: define the function in a .py file "
                               "(not in an interactive prompt or with exec).") from None
    try:
        if generated is None:
            lines, dedented, module = parsed_definition(whole[start:])
        else:
            lines, first = generated
            dedented = textwrap.dedent("".join(lines))
            module = parse(dedented)
    except SyntaxError as exc:  # pragma: no cover - python already parsed it
        raise SourceError(f"cannot parse the source of {fn.__qualname__}: {exc}") from None
    indent = len(lines[0]) - len(lines[0].lstrip()) if "".join(lines) != dedented else 0
    node = module.body[0]
    pf_loc = Loc(filename, first, indent, lines[0].rstrip("\n"))
    if not isinstance(node, gast.FunctionDef):
        what = "a lambda" if fn.__name__ == "<lambda>" else type(node).__name__
        raise UnsupportedSyntaxError(f"s2sad cannot differentiate {what}", pf_loc,
                                     hint="Define the function with def.")
    return ParsedFunction(fn, node, filename, first - 1, indent, _closure_scope(fn))


def _closure_scope(fn):
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    return Scope(closure, fn.__globals__)


def _parse_lambda(fn):
    """A lambda read as the ``def`` it stands for: ``def loss(w): return <body>``, named after
    the name it is assigned to (``loss = lambda w: ...``), else ``lambda_<line>``.

    Its node is found in its file's tree: the lambdas on its first line, told apart by
    parameters and by the column where its code starts (``co_positions``); lambdas alike
    in both are a located error.
    """
    code = fn.__code__
    filename = inspect.getsourcefile(fn) or code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    line_loc = Loc(filename, code.co_firstlineno, 0,
                   (lines[code.co_firstlineno - 1] if len(lines) >= code.co_firstlineno
                    else "").rstrip("\n"))
    if not lines:
        raise SourceError(f"cannot read the source of the lambda defined at {filename}:"
                          f"{code.co_firstlineno}", line_loc,
                          "s2sad reads source code: define the lambda in a .py file (not in "
                          "an interactive prompt or with exec).")
    try:
        tree = parse("".join(lines))
    except SyntaxError:  # pragma: no cover - python already parsed it
        raise SourceError(f"cannot parse {filename}", line_loc) from None
    params = list(code.co_varnames[:code.co_argcount])
    candidates = []
    for node in walk(tree):
        if isinstance(node, gast.Assign) and isinstance(node.value, gast.Lambda):
            node.value._s2sad_name = next((t.id for t in node.targets
                                           if isinstance(t, gast.Name)), None)
        if isinstance(node, gast.Lambda) and node.lineno == code.co_firstlineno and \
                [a.id for a in node.args.args] == params:
            candidates.append(node)
    if len(candidates) > 1:
        starts = [(line, col) for line, end_line, col, end_col in code.co_positions()
                  if line is not None and col is not None and (end_line, end_col) > (line, col)]
        start = min(starts) if starts else None
        candidates = [n for n in candidates if start is not None and
                      (n.body.lineno, n.body.col_offset) <= start <=
                      (n.body.end_lineno, n.body.end_col_offset)]
    if len(candidates) != 1:
        raise UnsupportedSyntaxError(
            f"s2sad cannot tell which lambda on this line is {fn.__qualname__}"
            if candidates or not params else
            f"s2sad cannot find the lambda {fn.__qualname__} in {filename}", line_loc,
            "Put the lambda on a line of its own, or define the function with def.")
    node = candidates[0]
    name = getattr(node, "_s2sad_name", None) or f"lambda_{node.lineno}"
    body = [gast.copy_location(gast.Return(value=node.body), node.body)]
    fdef = gast.FunctionDef(name=name, args=node.args, body=body, decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    gast.copy_location(fdef, node)
    fdef.end_lineno, fdef.end_col_offset = node.end_lineno, node.end_col_offset
    return ParsedFunction(fn, fdef, filename, 0, 0, _closure_scope(fn))


def def_name(fn):
    """The name of the ``def`` ``fn`` stands for: its own, or a lambda's (:func:`_parse_lambda`:
    the name it is assigned to, else ``lambda_<line>``), which generated code calls it by."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name != "<lambda>":
        return fn.__name__
    try:
        return _parse_lambda(fn).node.name
    except (SourceError, UnsupportedSyntaxError):
        return f"lambda_{code.co_firstlineno}"


def dotted_chain(node):
    """``['np', 'linalg', 'inv']`` for ``np.linalg.inv``; None if not a dotted name."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return [node.id] + parts[::-1]
