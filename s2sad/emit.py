"""Emission: IR operands and statements to gast, and gast modules to Python text.

:class:`Emitter` spells operands and primal statements (``v1 = np.log(x)``),
collects the module-level constants the code reads (``EPS = 1e-08``) and the
objects it cannot spell (bindings, which only the in-memory API can supply).
:func:`render_module` turns a list of gast function definitions into the text
of a self-contained module: a docstring, ``import numpy as np`` (and ``math``
if used), the constants, the functions, then under one comment line the support
helpers the code calls (copied from :mod:`s2sad.support`), formatted by astor.
Comments are carried through astor as placeholder statements (:func:`comment`).
A loop is written by one emitter, :func:`loop_statement` (with :func:`carried_entry`
and :func:`carried_updates`), for the primal loops of :func:`emit_block` (reverse mode's
forward sweep) and for forward mode's loops, which add their tangents to the entry
and to the updates.

Layer 5: below both transforms, which build their code with it.
"""

import ast
import builtins
import inspect
import keyword
import math
import numbers
import re
import sys

import astor
import gast
import numpy as np

from . import support, support_plain
from .astutil import clone, parse_expr
from .custom import import_name
from .display import HELPERS_HEADING
from .ir import Assign, For, If, Index, Raise, Return, Slice, Var, While
from .parse import LiveScope

_COMMENT_PREFIX = "__s2sad_comment_"
_MAX_INLINE_ARRAY = 1000


def name(identifier, store=False):
    return gast.Name(id=identifier, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def assign(target, value):
    targets = [target if isinstance(target, gast.AST) else name(target, store=True)]
    return gast.Assign(targets=targets, value=value, type_comment=None)


def call(func, args, keywords=None):
    func = parse_expr(func) if isinstance(func, str) else func
    keywords = [gast.keyword(arg=k, value=v) for k, v in (keywords or {}).items()]
    return gast.Call(func=func, args=list(args), keywords=keywords)


def comment(text, registry):
    """A placeholder statement that :func:`render_module` turns into ``# text``."""
    registry.append(text)
    return gast.Expr(value=name(f"{_COMMENT_PREFIX}{len(registry) - 1}"))


def literal(value):
    """A gast expression for a Python literal value, or None if it has none."""
    if value is None or value is Ellipsis or isinstance(value, (bool, str)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float) and not math.isfinite(value):
            text = "np.nan" if math.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
            return parse_expr(text)
        if value < 0:
            return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
        return gast.Constant(value=value, kind=None)
    if isinstance(value, (tuple, list)):
        elts = [literal(v) for v in value]
        if any(e is None for e in elts):
            return None
        cls = gast.Tuple if isinstance(value, tuple) else gast.List
        return cls(elts=elts, ctx=gast.Load())
    if isinstance(value, slice):
        return call("slice", [literal(value.start), literal(value.stop), literal(value.step)])
    if isinstance(value, np.ndarray) and value.size <= _MAX_INLINE_ARRAY \
            and value.dtype.kind in "biuf":
        return call("np.array", [literal(value.tolist())],
                    {"dtype": parse_expr(f"np.{value.dtype.name}")}
                    if value.dtype not in (np.float64, np.int64, np.bool_) else None)
    return None


class Emitter:
    """Spells IR operands and primal statements as gast, per generated module."""

    def __init__(self):
        self.constants = {}  # module-level name -> value the module defines
        self.bindings = {}  # name -> object the module cannot spell (API only)
        self.imports = {}  # name -> (module, attribute or None, object) the module imports
        self.live = {}  # name -> LiveScope bound in memory in place of the imported module
        self.reads = {}  # spelling -> what it reads, for the module's docstring
        self.comments = []  # texts of the comment placeholders, see comment()

    def operand(self, op):
        if isinstance(op, Var):
            return name(op.name)
        if isinstance(op, Index):
            return self.index_value(op)
        if op.name is not None:
            if literal(op.value) is not None:
                self.constants[op.name] = op.value
            else:
                self.bindings[op.name] = op.value
            return name(op.name)
        if op.text is not None:
            return parse_expr(op.text)
        expr = literal(op.value)
        if expr is None:
            key = f"const{len(self.bindings)}"
            self.bindings[key] = op.value
            return name(key)
        return expr

    def _slice(self, part):
        if isinstance(part, Slice):
            bounds = [None if b is None else self.operand(b)
                      for b in (part.lower, part.upper, part.step)]
            return gast.Slice(lower=bounds[0], upper=bounds[1], step=bounds[2])
        return self.operand(part)

    def index_subscript(self, index: Index):
        parts = [self._slice(p) for p in index.parts]
        if len(parts) == 1 and not index.is_tuple:
            return parts[0]
        return gast.Tuple(elts=parts, ctx=gast.Load())

    def index_value(self, index: Index):
        """The index as a value: ``i``, ``(0, i)``, or ``np.s_[1:3, 0]`` with slices."""
        if any(isinstance(p, Slice) for p in index.parts):
            return gast.Subscript(value=parse_expr("np.s_"), slice=self.index_subscript(index),
                                  ctx=gast.Load())
        return self.index_subscript(index)

    def expression(self, stmt: Assign):
        """The right-hand side of a primal statement."""
        kind, *spec = stmt.prim.emit
        args = [self.operand(a) for a in stmt.args]
        kwargs = {k: self.operand(v) for k, v in stmt.kwargs.items()}
        if kind == "binop":
            return gast.BinOp(left=args[0], op=getattr(gast, spec[0])(), right=args[1])
        if kind == "unary":
            return gast.UnaryOp(op=getattr(gast, spec[0])(), operand=args[0])
        if kind == "compare":
            return gast.Compare(left=args[0], ops=[getattr(gast, spec[0])()], comparators=[args[1]])
        if kind == "attr":
            return gast.Attribute(value=args[0], attr=spec[0], ctx=gast.Load())
        if kind == "method":
            return call(gast.Attribute(value=args[0], attr=spec[0], ctx=gast.Load()), args[1:], kwargs)
        if kind == "getitem":
            return gast.Subscript(value=args[0], slice=self.index_subscript(stmt.args[1]),
                                  ctx=gast.Load())
        if kind == "copy":
            return args[0]
        if kind == "overwritten":  # y_old = y[index].copy()
            item = gast.Subscript(value=args[0], slice=self.index_subscript(stmt.args[1]),
                                  ctx=gast.Load())
            return call(gast.Attribute(value=item, attr="copy", ctx=gast.Load()), [])
        if kind in ("tuple", "list"):
            cls = gast.Tuple if kind == "tuple" else gast.List
            return cls(elts=args, ctx=gast.Load())
        if kind == "dict":
            return gast.Dict(keys=[gast.Constant(value=k, kind=None) for k in spec[0]],
                             values=args)
        if kind in ("user", "split"):
            return call(name(spec[0]), args, kwargs)
        if kind == "custom":  # a function with the user's own derivative rules (s2sad.custom)
            return call(name(declare(self, stmt.prim.custom, stmt.prim.name)), args, kwargs)
        if kind == "list_new":
            return gast.List(elts=[], ctx=gast.Load())
        if kind == "list_snapshot":
            return call("tuple", args)
        if kind == "list_add_contents":
            return call("add_contents_bar", args)
        if kind == "list_method":  # t.append(v), t.append((a, b)), t.pop(), t.clear()
            if spec[0] == "pop" and len(args) == 2:  # a pop with a default when t is empty
                return call("pop_bar", args)
            values = args[1:]
            if len(values) > 1:
                values = [gast.Tuple(elts=values, ctx=gast.Load())]
            return call(gast.Attribute(value=args[0], attr=spec[0], ctx=gast.Load()), values)
        if kind == "global":  # lam = model.lam: read when the code runs
            self.declare_scope(spec[0].split(".")[0], stmt.prim.head)
            self.reads.setdefault(spec[0], "value")
            return parse_expr(spec[0])
        if kind == "call":
            if "." not in spec[0] and not _is_builtin(spec[0]):
                self.bindings[spec[0]] = stmt.prim.obj
            elif "." in spec[0] and spec[0].split(".")[0] not in ("np", "math"):
                if isinstance(getattr(stmt.prim, "head", None), LiveScope):
                    self.declare_scope(spec[0].split(".")[0], stmt.prim.head)
                    self.reads.setdefault(spec[0], "call")
                else:
                    self.declare_head(spec[0], stmt.prim)
            args = [gast.Starred(value=a, ctx=gast.Load()) if i in stmt.prim.stars else a
                    for i, a in enumerate(args)] if getattr(stmt.prim, "stars", ()) else args
            return call(spec[0], args, kwargs)
        raise AssertionError(f"unknown emit kind {kind}")

    def statements(self, stmt: Assign):
        """The primal statement(s): ``y[index] = v; y_1 = y`` for a write, else one."""
        if stmt.prim.emit[0] != "setitem":
            return [self.statement(stmt)]
        array, index, value = stmt.args
        item = gast.Subscript(value=self.operand(array), slice=self.index_subscript(index),
                              ctx=gast.Store())
        return [assign(item, self.operand(value)), assign(stmt.target.name, self.operand(array))]

    def declare_scope(self, alias, head):
        """Make ``alias`` (the first name of ``model.lam``) readable: a module is imported;
        a :class:`~s2sad.parse.LiveScope` of a module is imported too, and bound in memory
        in its place (so a cached module never holds the user's module, which holds the
        function); a closure's is bound (in memory only)."""
        if alias in self.imports or alias in self.bindings:
            return
        if isinstance(head, LiveScope):
            module = head._s2sad_module
            if module is None:
                self.bindings[alias] = head
                return
            self.live[alias] = head
            self.imports[alias] = (module, None, head)
            return
        if isinstance(head, type(np)):
            self.imports[alias] = (import_name(head.__name__), None, head)
            return
        self.bindings[alias] = head

    def declare_head(self, spelling, prim):
        """Make the first name of ``scipy.special.erf`` readable: an import, or a binding."""
        head = spelling.split(".")[0]
        obj = _head_object(prim, head)
        if _is_builtin(head) and obj is getattr(__import__("builtins"), head):
            return  # float.__add__
        if isinstance(obj, type(np)) and head.isidentifier():
            module = obj.__name__
            if module.split(".")[0] == head:  # import the deepest module spelled: scipy.special
                for part in spelling.split(".")[1:-1]:
                    inner = getattr(sys.modules.get(module), part, None)
                    if not isinstance(inner, type(np)) or inner.__name__ != f"{module}.{part}":
                        break
                    module = inner.__name__
            self.imports[head] = (module, None, obj)
            return
        self.bindings[head] = obj

    def statement(self, stmt: Assign):
        if not stmt.targets:  # an effect only: t.append(v), t.clear()
            return gast.Expr(value=self.expression(stmt))
        if stmt.prim.emit[0] == "split":  # z, z_res = fwd_h(x); (a, b), a_b_res = fwd_h(x)
            outs = [name(t.name, store=True) for t in stmt.targets[:-1]]
            out = outs[0] if len(outs) == 1 else gast.Tuple(elts=outs, ctx=gast.Store())
            target = gast.Tuple(elts=[out, name(stmt.targets[-1].name, store=True)],
                                ctx=gast.Store())
        elif len(stmt.targets) == 1:
            target = name(stmt.target.name, store=True)
        else:
            target = gast.Tuple(elts=[name(t.name, store=True) for t in stmt.targets],
                                ctx=gast.Store())
        return assign(target, self.expression(stmt))


def _is_builtin(spelling):
    return hasattr(builtins, spelling)


def declare(emitter, obj, preferred):
    """The name generated code calls ``obj`` by, recorded in ``emitter``.

    An object its module exports under its own name is imported
    (``emitter.imports``: name -> (module, attribute, object)); any other
    object is a binding the in-memory API supplies (``emitter.bindings``). (The name
    a function with rules given by hand, :mod:`s2sad.custom`, and its rules are called by.)
    """
    base = preferred if preferred.isidentifier() and not keyword.iskeyword(preferred) else "rule"
    if base in support.HELPERS:
        base += "_"
    source = _import_source(obj)
    candidate, k = base, 1
    while True:
        entry = emitter.imports.get(candidate)
        if entry is not None and entry[2] is obj:
            return candidate
        bound = emitter.bindings.get(candidate, _MISSING)
        if bound is obj:
            return candidate
        if entry is None and bound is _MISSING and candidate not in emitter.constants:
            break
        k += 1
        candidate = f"{base}_{k}"
    if source is not None:
        emitter.imports[candidate] = source + (obj,)
    else:
        emitter.bindings[candidate] = obj
    return candidate


_MISSING = object()


def _import_source(obj):
    """``(module, attribute)`` if ``from module import attribute`` gives ``obj``; else None."""
    module_name, attr = getattr(obj, "__module__", None), getattr(obj, "__name__", None)
    if not module_name or not attr or not attr.isidentifier():
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, attr, None) is not obj:
        return None
    return import_name(module_name), attr


def _head_object(prim, head):
    """What ``head`` names where the call was written (see ``ExternalFunction.head``)."""
    obj = getattr(prim, "head", None)
    return obj if obj is not None else inspect.getmodule(getattr(prim, "obj", None))


# ----------------------------------------------------------------------------
# module text


# read once, when s2sad is imported: s2sad/support/ changing on disk later (an upgrade, a
# checkout) must not change what the running compiler copies into modules
_HELPER_SOURCE = {helper: inspect.getsource(getattr(support, helper)) for helper in support.HELPERS}
# plain=True: the short reference versions where there are (s2sad.support_plain)
_PLAIN_SOURCE = {**_HELPER_SOURCE, **{helper: inspect.getsource(getattr(support_plain, helper))
                                      for helper in support_plain.PLAIN}}


def _helpers_used(source_text, plain=False):
    """The support helpers the text calls, with the helpers they call, in definition order."""
    calls = _HELPER_CALLS[plain]
    wanted = set()
    frontier = [h for h in _called(source_text) if h in calls]
    while frontier:
        helper = frontier.pop()
        if helper in wanted:
            continue
        wanted.add(helper)
        frontier += [h for h in calls[helper] if h != helper]
    return [h for h in support.HELPERS if h in wanted]


def _called(text):
    """The names ``name(`` is written after in ``text`` (one pass over the text); astor may
    break a long line between a name and its parenthesis."""
    return set(re.findall(r"\b(\w+)\s*\(", text))


def _bases(text):
    """The base classes a class helper's text names (``class NotScalar(CheckFailed):``)."""
    found = re.match(r"class \w+\(([\w, ]*)\)", text)
    return {name.strip() for name in found.group(1).split(",")} if found else set()


_HELPER_CALLS = {plain: {helper: {h for h in _called(source) | _bases(source) if h in sources}
                         for helper, source in sources.items()}
                 for plain, sources in ((False, _HELPER_SOURCE), (True, _PLAIN_SOURCE))}


def render_module(docstring, functions, comments, constants, imports=None, plain=False):
    """The formatted text of a module holding ``functions`` (gast FunctionDefs).

    The run-time helpers they call follow them, under one comment line: copies of
    :mod:`s2sad.support`'s, or with ``plain`` its short reference versions
    (:mod:`s2sad.support_plain`), for reading.

    ``imports`` (name -> (module, attribute or None, object), see
    :class:`Emitter`) are written for the names the functions read and do not
    define themselves: the user's derivative rules (:mod:`s2sad.custom`), the
    modules of functions called on constants (``scipy``).
    """
    body_text = "\n\n".join(to_source(f, comments) for f in functions)
    helpers = _helpers_used(body_text, plain)
    imported = _import_lines(imports or {}, body_text)
    if imported:
        modules = ", ".join(sorted({m for m, _ in imported}))
        docstring = docstring.replace("Needs NumPy only.", f"Needs NumPy and {modules}.")
    parts = [f'"""{docstring}"""\n', "import numpy as np"]
    if re.search(r"\bmath\.", body_text):
        parts[-1] = "import math\n\nimport numpy as np"
    if imported:
        parts += [""] + [line for _, line in imported]
    parts.append("")
    if constants:
        for key in sorted(constants):
            parts.append(f"{key} = {astor.to_source(gast.gast_to_ast(literal(constants[key]))).strip()}")
        parts.append("")
    parts.append("")
    parts.append(body_text.rstrip())
    if helpers:  # after the derivative: a reader meets it first
        parts += ["", "", _PLAIN_HEADING if plain else _HELPERS_HEADING]
    for helper in helpers:
        parts.append("")
        parts.append((_PLAIN_SOURCE if plain else _HELPER_SOURCE)[helper].rstrip())
        parts.append("")
    text = "\n".join(parts).rstrip() + "\n"
    return re.sub(r"\n{4,}", "\n\n\n", text)


_HELPERS_HEADING = HELPERS_HEADING + " the functions above call (NumPy only) ---"
_PLAIN_HEADING = HELPERS_HEADING + " the functions above call (NumPy only; reference versions) ---"


def _import_lines(imports, body_text):
    """``[(module, "from module import a, b"), ...]`` for the imported names the text reads."""
    code = re.sub(r"#.*", "", body_text)  # comments quote source lines: not reads
    used = {key: entry for key, entry in imports.items()
            if re.search(rf"(?<![\w.]){key}\b", code)
            and not re.search(rf"^def {key}\(", code, flags=re.MULTILINE)}
    plain, grouped = [], {}
    for key, (module, attr, _) in sorted(used.items()):
        if attr is None:
            plain.append((module, f"import {module}" if module.split(".")[0] == key
                          else f"import {module} as {key}"))
        else:
            grouped.setdefault(module, []).append(attr if attr == key else f"{attr} as {key}")
    return sorted(set(plain)) + [(m, f"from {m} import {', '.join(names)}")
                                 for m, names in sorted(grouped.items())]


def _to_ast(node):
    """The Python ``ast`` twin of a gast tree (what gast.gast_to_ast does for the node
    kinds generated code uses, several times faster)."""
    if isinstance(node, list):
        return [_to_ast(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    if isinstance(node, gast.arguments):
        return ast.arguments(
            posonlyargs=[], args=[ast.arg(arg=a.id, annotation=None) for a in node.args],
            vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=_to_ast(node.defaults))
    cls = getattr(ast, type(node).__name__)
    new = cls.__new__(cls)
    for field in cls._fields:
        setattr(new, field, _to_ast(getattr(node, field, None)))
    return new


def to_source(node, comments):
    if isinstance(node, gast.FunctionDef):
        node.body = tidy_block(node.body, comments)
    text = astor.to_source(_to_ast(node))

    def replace(match):
        return f"{match.group(1)}# {comments[int(match.group(2))]}"

    text = re.sub(rf"^(\s*){_COMMENT_PREFIX}(\d+)$", replace, text, flags=re.MULTILINE)
    return text


# ----------------------------------------------------------------------------
# blocks of primal code


def emit_block(block, emitter, pushes=None, tape="tape", counters=None, _last=None):
    """Python statements for an IR block, structured regions included.

    ``pushes`` maps ``id(block)`` to the names the block appends to ``tape``
    at its end (reverse mode's forward sweep inside loops); ``counters`` maps
    ``id(loop)`` to the name of a trip counter to keep. Loop-carried values
    are copied at entry (``y_1 = y``) and updated at the end of each trip
    (``y_1 = y_2``); merged values are assigned at the end of each branch.
    """
    pushes, counters = pushes or {}, counters or {}
    last = _last if _last is not None else [None]
    out = []

    def note(loc):
        if loc.statement_line != last[0]:
            out.append(comment(f"line {loc.statement_line}: {loc.summary}", emitter.comments))
            last[0] = loc.statement_line

    def sub(inner):
        return emit_block(inner, emitter, pushes, tape, counters, last)

    for stmt in block:
        if isinstance(stmt, Assign):
            note(stmt.loc)
            out += emitter.statements(stmt)
        elif isinstance(stmt, Raise):
            note(stmt.loc)
            out.append(gast.Raise(exc=emitter.operand(stmt.exc), cause=None))
        elif isinstance(stmt, Return):
            continue
        elif isinstance(stmt, If):
            note(stmt.loc)
            then_code = sub(stmt.then_block) + [assign(v.name, emitter.operand(a))
                                                 for v, a, _ in stmt.merges]
            else_code = sub(stmt.else_block) + [assign(v.name, emitter.operand(b))
                                                 for v, _, b in stmt.merges]
            then_code += _push(pushes.get(id(stmt.then_block)), tape)
            else_code += _push(pushes.get(id(stmt.else_block)), tape)
            out.append(gast.If(test=emitter.operand(stmt.cond), body=then_code or [gast.Pass()],
                               orelse=else_code))
        elif isinstance(stmt, (For, While)):
            note(stmt.loc)
            out += carried_entry(stmt, emitter)
            counter = counters.get(id(stmt))
            body = []
            if counter:
                out.append(assign(counter, gast.Constant(value=0, kind=None)))
                body.append(gast.AugAssign(target=name(counter, store=True), op=gast.Add(),
                                           value=gast.Constant(value=1, kind=None)))
            body += sub(stmt.body) + _push(pushes.get(id(stmt.body)), tape)
            cond_code = sub(stmt.cond_block) if isinstance(stmt, While) else []
            out += loop_statement(stmt, emitter, body, carried_updates(stmt, emitter), cond_code)
    return out


# -- loops: one emitter for the primal loop (reverse mode's forward sweep, emit_block) and
# the tangent loop (s2sad.forward), which adds its tangents to the entry and the updates

def carried_entry(stmt, emitter):
    """``y_1 = y``: a loop's carried values bound at entry (where the names differ)."""
    return [assign(v.name, emitter.operand(init)) for v, init, _ in stmt.carried
            if not (isinstance(init, Var) and init.name == v.name)]


def carried_updates(stmt, emitter):
    """``[(name, value)]``: the carried values a trip updates (``y_1 = y_2`` at its end)."""
    return [(v.name, emitter.operand(o)) for v, _, o in stmt.carried
            if not (isinstance(o, Var) and o == v)]


def loop_statement(stmt, emitter, body, updates, cond_code=()):
    """The statements of the loop ``stmt`` (a :class:`For` or :class:`While`) whose trip is
    ``body``: at the end of the trip the ``updates`` (``[(name, value)]``, one parallel
    assignment), then a ``break`` for each exit flag; a while loop's condition code
    ``cond_code`` runs before the loop and again at the end of each trip."""
    body = list(body)
    if len(updates) == 1:
        body.append(assign(*updates[0]))
    elif updates:
        body.append(assign(gast.Tuple(elts=[name(t, store=True) for t, _ in updates],
                                      ctx=gast.Store()),
                           gast.Tuple(elts=[v for _, v in updates], ctx=gast.Load())))
    for flag in stmt.exits:
        body.append(gast.If(test=emitter.operand(flag), body=[gast.Break()], orelse=[]))
    if isinstance(stmt, For):
        return [gast.For(target=name(stmt.target.name, store=True),
                         iter=emitter.operand(stmt.iterable), body=body or [gast.Pass()],
                         orelse=[], type_comment=None)]
    body += [_copy(s) for s in cond_code if not _is_comment(s)]
    return list(cond_code) + [gast.While(test=emitter.operand(stmt.cond), body=body, orelse=[])]


def _push(names, tape):
    if not names:
        return []
    value = name(names[0]) if len(names) == 1 else \
        gast.Tuple(elts=[name(n) for n in names], ctx=gast.Load())
    append = gast.Attribute(value=name(tape), attr="append", ctx=gast.Load())
    return [gast.Expr(value=call(append, [value]))]


def _has_code(stmts):
    return any(not _is_comment(s) for s in stmts)


def tidy_block(stmts, comments):
    """``stmts`` with no block left holding comments only (Python refuses an empty block).

    A branch with nothing to do is dropped (generated tests have no side effects), and so
    is a backward sweep's loop (``for i in reversed(...)``, ``for _ in range(trips)``)
    with nothing to do; any other loop gets ``pass``. A ``# line N`` comment left with no
    code after it (before the next such comment or the return) goes too.
    """
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                setattr(stmt, field, tidy_block(getattr(stmt, field), comments))
        if isinstance(stmt, gast.If):
            if not _has_code(stmt.orelse):
                stmt.orelse = []
            if not _has_code(stmt.body):
                if not stmt.orelse:
                    continue
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
        elif isinstance(stmt, (gast.For, gast.While)) and not _has_code(stmt.body):
            if isinstance(stmt, gast.For) and _is_backward_loop(stmt):
                continue
            stmt.body = stmt.body + [gast.Pass()]
        out.append(stmt)
    kept = []
    for k, stmt in enumerate(out):
        if _is_line_comment(stmt, comments) and (
                k + 1 == len(out) or isinstance(out[k + 1], gast.Return) or
                _is_line_comment(out[k + 1], comments)):
            continue
        kept.append(stmt)
    return kept


def _is_backward_loop(loop):
    header = loop.iter
    return isinstance(header, gast.Call) and isinstance(header.func, gast.Name) and (
        header.func.id == "reversed" or isinstance(loop.target, gast.Name) and
        loop.target.id == "_" and header.func.id == "range")


def _is_line_comment(stmt, comments):
    return _is_comment(stmt) and comments[int(stmt.value.id[len(_COMMENT_PREFIX):])].startswith(
        "line ")


def _is_comment(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Name) and \
        stmt.value.id.startswith(_COMMENT_PREFIX)


def _copy(node):
    return clone(node)
