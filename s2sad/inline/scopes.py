"""The inliner's small helpers: gast builders, scopes' names, and what a function is.

gast nodes made with a location (``_name``, ``_assign``, ``_located``), the names of
a scope (its parameters, the locals it assigns, the names of the scopes nested in
it), whether a value is a function object or a user function (``_is_user_function``),
:class:`_Renamer` (a callee's locals renamed for one inlined call), :class:`_Fn` (a
function known by name: a nested ``def``, a lambda or a module-level helper) and
:class:`_BadDefault`. No state.

Layer 3 (front end), inside :mod:`s2sad.inline`.
"""

import copy
import types

import gast
import numpy as np

from ..astutil import parameter_names, walk
from ..parse import Scope, is_user_function


_NESTED_SCOPES = (gast.FunctionDef, gast.Lambda)


def _name(identifier, ctx=None):
    return gast.Name(id=identifier, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(target, value):
    return gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)


def _located(stmt, node, end=None):
    """``stmt`` placed at ``node``'s position (children without one too), quoted to line ``end``."""
    gast.copy_location(stmt, node)
    for child in walk(stmt):
        if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
            gast.copy_location(child, node)
    stmt.end_lineno = end if end is not None else stmt.lineno
    return stmt


def _walk_scope(nodes):
    """The nodes of one scope: nested defs and lambdas are entered for their defaults only."""
    stack = list(nodes) if isinstance(nodes, list) else [nodes]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, gast.FunctionDef):
            stack.extend(_defaults(node.args) + node.decorator_list)
        elif isinstance(node, gast.Lambda):
            stack.extend(_defaults(node.args))
        else:
            stack.extend(gast.iter_child_nodes(node))


def _params(args):
    return parameter_names(args)


def _defaults(args):
    """The default values' expressions of a def or lambda, keyword-only ones included."""
    return args.defaults + [d for d in args.kw_defaults if d is not None]


def default_values(fn, args):
    """``{parameter: its default value}`` of the function ``fn`` whose gast ``arguments`` are
    ``args``: ``__defaults__`` for the last plain parameters, ``__kwdefaults__``."""
    plain, values = [a.id for a in args.args], fn.__defaults__ or ()
    out = dict(zip(plain[len(plain) - len(values):], values))
    out.update(fn.__kwdefaults__ or {})
    return out


def _spelled_defaults(args):
    """``{parameter: the expression of its default}`` (keyword-only ones too)."""
    plain = [a.id for a in args.args]
    out = dict(zip(plain[len(plain) - len(args.defaults):], args.defaults))
    out.update((a.id, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
    return out


def _locals(params, body):
    """A function's local names: its parameters, what its body assigns, its nested defs."""
    out = list(params)
    for node in _walk_scope(body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del, gast.Param)):
            name = node.id
        elif isinstance(node, gast.FunctionDef):
            name = node.name
        else:
            continue
        if name not in out:
            out.append(name)
    return out


def _stored(body):
    return {n.id for n in _walk_scope(body)
            if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}


def _inner_scope_names(body):
    """Every name a nested def or lambda inside ``body`` binds (its parameters and locals)."""
    out = set()
    for node in walk(gast.Module(body=list(body), type_ignores=[])):
        if isinstance(node, gast.FunctionDef):
            out.add(node.name)
        if isinstance(node, _NESTED_SCOPES):
            out |= {n.id for n in walk(node)
                    if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
    return out


def _names_in(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name)}


def _constant(node):
    """True for a literal: ``2.0``, ``-1``, ``None``, ``"a"``."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant)


def _is_function_object(value):
    if isinstance(value, (type, types.ModuleType)) or value is Scope._MISSING:
        return False
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, np.ufunc)) or \
        callable(value)


_is_user_function = is_user_function  # (s2sad.parse: one definition)


def _has_function_defaults(fn):
    return any(_is_function_object(v) for v in
               (fn.__defaults__ or ()) + tuple((fn.__kwdefaults__ or {}).values()))


class _Renamer(gast.NodeTransformer):
    """Rename a callee's locals (``str`` values) or substitute arguments (gast expressions).

    A nested def or lambda inside the callee hides the names it binds itself.
    """

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        new = self.mapping.get(node.id)
        if new is None:
            return node
        if isinstance(new, str):
            node.id = new
            return node
        return gast.copy_location(copy.deepcopy(new), node)

    def _inner(self, node, params, body):
        hidden = set(_locals(params, body))
        return _Renamer({k: v for k, v in self.mapping.items() if k not in hidden})

    def visit_defaults(self, args):
        args.defaults = [self.visit(d) for d in args.defaults]
        args.kw_defaults = [d if d is None else self.visit(d) for d in args.kw_defaults]

    def visit_FunctionDef(self, node):
        if isinstance(self.mapping.get(node.name), str):
            node.name = self.mapping[node.name]
        self.visit_defaults(node.args)
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        inner = self._inner(node, _params(node.args), node.body)
        node.body = [inner.visit(s) for s in node.body]
        return node

    def visit_Lambda(self, node):
        self.visit_defaults(node.args)
        inner = self._inner(node, _params(node.args), [node.body])
        node.body = inner.visit(node.body)
        return node


class _Fn:
    """A function known where it is called: a nested def, a lambda, or a same-file helper."""

    def __init__(self, label, params, defaults, body, node, helper=None, positional=None):
        self.label = label  # the prefix of its inlined locals' names
        self.params = params  # the plain ones, then the keyword-only ones
        self.positional = len(params) if positional is None else positional  # how many may
        # be passed by position (the plain ones)
        self.defaults = defaults  # parameter -> expression (a literal or a name) or an error
        self.body = body
        self.node = node
        self.helper = helper  # the Python function of a module-level helper
        self.desugared = False
        self.key = helper if helper is not None else self


_ARGUMENTS_HINT = "Call it with the arguments its definition takes."


def _trivial(node):
    """A literal or a plain name: substituted for a parameter rather than assigned."""
    return _constant(node) or isinstance(node, gast.Name)


class _BadDefault:
    def __init__(self, helper, param):
        self.helper, self.param = helper, param

    def message(self):
        return (f"the default value of {self.param} in {self.helper} is not a plain constant, "
                f"and s2sad inlines {self.helper} here because it is given a function")
