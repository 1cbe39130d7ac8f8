"""The per-module emitter: :class:`Emitter` spells IR operands and primal statements
(``v1 = np.log(x)``) as gast, and collects what the module must provide for them: the
module-level constants the code reads (``EPS = 1e-08``), the modules it imports, the
user's modules it reads live (:class:`~s2sad.parse.LiveScope`), and the objects it cannot
spell (bindings, which only the in-memory API can supply). :func:`declare` names an
object generated code calls (a function with rules given by hand, :mod:`s2sad.custom`).

Part of :mod:`s2sad.emit` (layer 5).
"""

import builtins
import inspect
import keyword
import sys

import gast
import numpy as np

from .. import support
from ..astutil import parse_expr
from ..custom import import_name
from ..ir import Assign, Index, Slice, Var
from ..parse import LiveScope
from .nodes import assign, call, literal, name


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
        if kind == "overwritten":  # y_old = saved(y[index]): a copy (a list's number: itself)
            item = gast.Subscript(value=args[0], slice=self.index_subscript(stmt.args[1]),
                                  ctx=gast.Load())
            return call("saved", [item])
        if kind in ("tuple", "list"):
            cls = gast.Tuple if kind == "tuple" else gast.List
            return cls(elts=args, ctx=gast.Load())
        if kind == "dict":
            return gast.Dict(keys=[gast.Constant(value=k, kind=None) for k in spec[0]],
                             values=args)
        if kind in ("user", "split"):
            keyword = getattr(stmt.prim, "keyword_only", ()) if kind == "user" else ()
            if keyword:  # the user's function takes these by name (its operands: by position)
                n = len(args) - len(keyword)
                args, kwargs = args[:n], {**kwargs, **dict(zip(keyword, args[n:]))}
            return call(name(spec[0]), args, kwargs)
        if kind == "custom":  # a function with the user's own derivative rules (s2sad.custom)
            return call(name(declare(self, stmt.prim.custom, stmt.prim.name)), args, kwargs)
        if kind.startswith("list_"):
            return _list_expression(kind, spec, args)
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


def _list_expression(kind, spec, args):
    """The expression of a statement on a list used as a stack (:mod:`s2sad.structural`)."""
    if kind == "list_new":
        return gast.List(elts=[], ctx=gast.Load())
    if kind == "list_snapshot":
        return call("tuple", args)
    # (their third operand, the list's length before, is for reverse mode's adjoint)
    if kind == "list_add_contents":
        return call("add_contents_bar", args[:2])
    # list_method: t.append(v), t.append((a, b)), t.pop(), t.clear()
    if spec[0] == "pop" and len(args) == 3:  # a pop with a default when t is empty
        return call("pop_bar", args[:2])
    values = args[1:]
    if len(values) > 1:
        values = [gast.Tuple(elts=values, ctx=gast.Load())]
    return call(gast.Attribute(value=args[0], attr=spec[0], ctx=gast.Load()), values)


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
