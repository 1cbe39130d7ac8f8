"""Inlining: nested functions, lambdas and constant-key dicts become plain statements.

Runs on the gast ``FunctionDef`` of the function being differentiated, before
:mod:`s2sad.desugar` and the lowering, and rewrites it in place so that what
follows sees straight-line code, ``if``, ``for`` and ``while`` only:

* **Nested functions and lambdas** (``def inner(y): ...`` inside the function,
  ``sq = lambda t: t ** 2``, ``(lambda t: 2 * t)(x)``) are inlined at every
  call. The callee's locals (its parameters and every name it assigns) get
  fresh names ``<callee>_<name>`` (``inner_y``; a second inlined call of the
  same callee uses ``inner2_y``), so nothing collides with the caller's names
  or with another inlined call. A parameter given a plain name or a constant
  and never reassigned is replaced by that argument itself; any other
  argument is assigned to the parameter's fresh name first, where the call is.
  Free names of the callee are the enclosing function's variables, read where
  the call is, as Python reads them (late binding). A callee with early
  ``return``\\s is desugared first (:mod:`s2sad.desugar`), so it ends with one
  ``return``; the returned expression replaces the call (when the call is the
  whole value of an assignment or a ``return``) or is assigned to a result
  name ``<callee>_out`` that replaces it. Default values are evaluated where
  the ``def`` (or ``lambda``) is, as Python does. A call inside a branch of
  ``a if c else b`` or a later operand of ``and``/``or`` becomes an ``if``
  statement, so it still runs only when Python would run it; a call in a
  ``while`` condition is inlined before the loop and again at the end of its
  body. A nested function must be its name's only binding in its function
  (one ``def`` or one ``name = lambda``), made before it is called; calls are
  resolved here, at compile time.
* **Function arguments**: a function defined at module level in the same file
  and called with a function argument (a lambda, a nested function, or a
  module-level function such as ``np.sin``), or having one as a default value
  (``act=np.tanh``), is inlined the same way, its function-valued parameters
  standing for the function given. Its free names must mean the same objects
  where it is called (they are its module's globals). A helper from another
  file is an error naming it: inlined code keeps its own source lines, which
  must be lines of the file being differentiated for comments and errors to
  point at them.
* **Dicts with constant keys** used as records (``d = {"a": x}``,
  ``d["b"] = ...``, ``d["a"] += ...``, ``d["a"]`` read) become one variable
  per key, ``d_a``, ``d_b`` (scalar replacement of aggregates); this runs after
  inlining, so a dict passed to a nested function and read there as ``d[key]``
  works. A value put in a dict is not copied (``d["a"] = x; d["a"] += 1`` is
  refused as ``b = x; b += 1`` is).

Each statement written here carries the source location of the user's code it
comes from (the callee's line for its body and ``return``, the call's line for
argument bindings), so generated code is commented with the user's lines and
errors point at them. Anything else about functions and dicts is an
:class:`~s2sad.errors.UnsupportedSyntaxError` at the construct: a nested
function used as a value (returned, stored, passed to a function s2sad cannot
inline), recursion of a nested function, ``nonlocal``/``global``, a
decorated nested ``def``, ``*args``, and a dict that escapes (passed to a
function, returned, iterated, tested with ``in``, read with a non-constant
key, made twice). The pass changes nothing in a function that has no nested
function, lambda or dict and passes no function to a helper.

Layer 3 (front end), between :mod:`s2sad.parse` and :mod:`s2sad.lower`.
"""

import copy
import re
import types

import gast
import numpy as np

from .desugar import _contains, desugar
from .errors import UnsupportedSyntaxError
from .parse import Scope, dotted_chain, is_user_function, parse_function

_NESTED_SCOPES = (gast.FunctionDef, gast.Lambda)


def inline(parsed, used):
    """Rewrite ``parsed.node`` in place (see the module docstring).

    ``parsed`` is the :class:`~s2sad.parse.ParsedFunction` being lowered;
    ``used`` the set of names already taken, to which every new name is added.
    """
    inliner = _Inliner(parsed, used)
    if inliner.needed():
        inliner.run()


# -- small gast helpers ------------------------------------------------------------------------

def _name(identifier, ctx=None):
    return gast.Name(id=identifier, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(target, value):
    return gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)


def _located(stmt, node, end=None):
    """``stmt`` placed at ``node``'s position (children without one too), quoted to line ``end``."""
    gast.copy_location(stmt, node)
    for child in gast.walk(stmt):
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
            stack.extend(node.args.defaults + node.decorator_list)
        elif isinstance(node, gast.Lambda):
            stack.extend(node.args.defaults)
        else:
            stack.extend(gast.iter_child_nodes(node))


def _params(args):
    return [a.id for a in args.args]


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
    for node in gast.walk(gast.Module(body=list(body), type_ignores=[])):
        if isinstance(node, gast.FunctionDef):
            out.add(node.name)
        if isinstance(node, _NESTED_SCOPES):
            out |= {n.id for n in gast.walk(node)
                    if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
    return out


def _names_in(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


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
    return any(_is_function_object(v) for v in fn.__defaults__ or ())


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

    def visit_FunctionDef(self, node):
        if isinstance(self.mapping.get(node.name), str):
            node.name = self.mapping[node.name]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        inner = self._inner(node, _params(node.args), node.body)
        node.body = [inner.visit(s) for s in node.body]
        return node

    def visit_Lambda(self, node):
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        inner = self._inner(node, _params(node.args), [node.body])
        node.body = inner.visit(node.body)
        return node


class _Fn:
    """A function known where it is called: a nested def, a lambda, or a same-file helper."""

    def __init__(self, label, params, defaults, body, node, helper=None):
        self.label = label  # the prefix of its inlined locals' names
        self.params = params
        self.defaults = defaults  # parameter -> expression (a literal or a name) or an error
        self.body = body
        self.node = node
        self.helper = helper  # the Python function of a module-level helper
        self.desugared = False
        self.key = helper if helper is not None else self


class _Inliner:
    def __init__(self, parsed, used):
        self.p = parsed
        self.used = used
        self.scope = parsed.scope
        self.env = {}  # name -> _Fn: the functions known by name here
        self.pending = {}  # name -> node: nested functions of a scope not defined yet
        self.stack = []  # the functions being inlined (their keys), to refuse recursion
        self.helpers = {}  # Python function -> _Fn
        node = parsed.node
        self.f_locals = set(_params(node.args)) | {
            n.id for n in gast.walk(node) if isinstance(n, gast.Name) and
            not isinstance(n.ctx, gast.Load)} | {
            n.name for n in gast.walk(node) if isinstance(n, gast.FunctionDef)}

    def error(self, node, message, hint=None):
        return UnsupportedSyntaxError(message, self.p.loc(node), hint)

    # -- names -----------------------------------------------------------------------------------
    def take(self, name):
        self.used.add(name)
        self.f_locals.add(name)
        return name

    def fresh(self, base):
        candidate, k = base, 1
        while candidate in self.used:
            k += 1
            candidate = f"{base}{k}"
        return self.take(candidate)

    def instance_names(self, label, names):
        """``{name: label_name}`` for one inlined call, the first free ``labelK_`` prefix."""
        k = 1
        while True:
            prefix = label if k == 1 else f"{label}{k}"
            chosen = {n: f"{prefix}_{n}" for n in names}
            if not any(c in self.used for c in chosen.values()):
                for c in chosen.values():
                    self.take(c)
                return chosen, prefix
            k += 1

    # -- is there anything to do ------------------------------------------------------------------
    def needed(self):
        for node in gast.walk(self.p.node):
            if node is self.p.node:
                continue
            if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.Dict)):
                return True
            if isinstance(node, gast.Call):
                target = self.global_function(node.func)
                if target is not None and _is_user_function(target) and (
                        _has_function_defaults(target) or
                        any(self.global_function(a) is not None
                            for a in node.args + [k.value for k in node.keywords])):
                    return True
        return False

    def global_function(self, node):
        """The function a module-level name (``np.sin``, ``helper``) refers to, else None."""
        chain = dotted_chain(node)
        if chain is None or chain[0] in self.f_locals or chain[0] in self.env:
            return None
        value = self.scope.lookup(chain[0])
        for part in chain[1:]:
            value = getattr(value, part, Scope._MISSING)
        return value if _is_function_object(value) else None

    # -- the function ----------------------------------------------------------------------------
    def run(self):
        fn = self.p.node
        self.declare(fn.body, _params(fn.args))
        fn.body = self.block(fn.body)
        _DictReplacer(self).run(fn)

    def declare(self, stmts, params=()):
        """Note the nested functions a scope (a function's body) defines, at any depth.

        Each must be its name's only binding in the scope: s2sad resolves the
        calls of a nested function where it compiles them.
        """
        defined = {}
        nodes = sorted(_walk_scope(stmts), key=lambda n: (getattr(n, "lineno", 0) or 0,
                                                          getattr(n, "col_offset", 0) or 0))
        for node in nodes:
            name = self.function_binding(node)
            if name is None:
                continue
            if name in defined or name in params:
                raise self.error(node, f"{name} is defined twice; s2sad inlines a nested "
                                       f"function and needs one definition of it",
                                 "Give each function its own name.")
            defined[name] = node
        if not defined:
            return
        lambda_targets = {id(n.targets[0]) for n in defined.values() if isinstance(n, gast.Assign)}
        for node in nodes:
            if isinstance(node, gast.Name) and node.id in defined and \
                    not isinstance(node.ctx, gast.Load) and id(node) not in lambda_targets:
                raise self.error(node, f"{node.id} is a nested function and is assigned "
                                       f"here too; s2sad inlines a nested function and "
                                       f"needs one definition of it",
                                 "Use another name for the other value.")
        self.pending.update(defined)

    @staticmethod
    def function_binding(stmt):
        if isinstance(stmt, gast.FunctionDef):
            return stmt.name
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda):
            return stmt.targets[0].id
        return None

    # -- statements ------------------------------------------------------------------------------
    def block(self, stmts, compound=False):
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        if compound and not out:
            out = [_located(gast.Pass(), stmts[0])] if stmts else []
        return out

    def statement(self, stmt):
        if isinstance(stmt, gast.FunctionDef):
            return self.define_def(stmt)
        if isinstance(stmt, (gast.Nonlocal, gast.Global)):
            kind = "nonlocal" if isinstance(stmt, gast.Nonlocal) else "global"
            raise self.error(stmt, f"s2sad does not support {kind} in a differentiated function",
                             "Return the new value from the nested function and assign it "
                             "where it is called.")
        pre = []
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name):
            target = stmt.targets[0].id
            if isinstance(stmt.value, gast.Lambda):
                return self.define_lambda(target, stmt.value)
            if isinstance(stmt.value, gast.Name) and stmt.value.id in self.env:
                raise self.error(stmt.value, f"{stmt.value.id} is a nested function; s2sad "
                                             f"inlines its calls and cannot give it another "
                                             f"name", f"Call {stmt.value.id} itself.")
            if self.inlinable(stmt.value):  # z = inner(x): z = <what inner returns>
                value, ret = self.call(stmt.value, pre, whole=True)
                new = gast.Assign(targets=stmt.targets, value=value, type_comment=None)
                return pre + [self.at_return(new, value, ret, stmt)]
        if isinstance(stmt, gast.Return) and stmt.value is not None and \
                self.inlinable(stmt.value):
            value, ret = self.call(stmt.value, pre, whole=True)
            return pre + [self.at_return(gast.Return(value=value), value, ret, stmt)]
        if isinstance(stmt, gast.If):
            stmt.test = self.expr(stmt.test, pre)
            stmt.body = self.block(stmt.body, compound=True)
            stmt.orelse = self.block(stmt.orelse)
            return pre + [stmt]
        if isinstance(stmt, gast.For):
            stmt.iter = self.expr(stmt.iter, pre)
            stmt.target = self.expr(stmt.target, pre)
            stmt.body = self.block(stmt.body, compound=True)
            stmt.orelse = self.block(stmt.orelse)
            return pre + [stmt]
        if isinstance(stmt, gast.While):
            test, stmt.test = stmt.test, self.expr(stmt.test, pre)
            stmt.body = self.block(stmt.body, compound=True)
            stmt.orelse = self.block(stmt.orelse)
            if pre:
                if _contains(stmt.body, (gast.Continue,)):
                    raise self.error(test, "s2sad inlines a call in a while condition "
                                                "before the loop and at the end of its body, "
                                                "which continue would skip",
                                     "Compute the condition into a variable before the loop "
                                     "and at the end of the body.")
                stmt.body = stmt.body + copy.deepcopy(pre)
            return pre + [stmt]
        if isinstance(stmt, (gast.With, gast.Try, gast.AsyncWith, gast.AsyncFor,
                             gast.AsyncFunctionDef, gast.ClassDef)):
            return [stmt]  # the lowering reports these
        if isinstance(stmt, gast.Assign):
            stmt.value = self.expr(stmt.value, pre)
            stmt.targets = [self.expr(t, pre) for t in stmt.targets]
            return pre + [stmt]
        self.generic(stmt, pre)
        return pre + [stmt]

    @staticmethod
    def at_return(new, value, ret, stmt):
        """``new`` located at the callee's return if it computes there, else at ``stmt``."""
        if _trivial(value):
            return _located(new, stmt, stmt.end_lineno)
        return _located(new, ret, ret.end_lineno)

    # -- nested functions ------------------------------------------------------------------------
    def define_def(self, node):
        if node.decorator_list:
            raise self.error(node.decorator_list[0], f"s2sad does not support a decorated "
                                                     f"nested function ({node.name})",
                             "Define it without a decorator.")
        return self.define(node.name, node, node.args, node.body, node.name)

    def define_lambda(self, name, node):
        return self.define(name, node, node.args, [self.lambda_body(node)], name)

    @staticmethod
    def lambda_body(node):
        return _located(gast.Return(value=node.body), node.body,
                        getattr(node.body, "end_lineno", None))

    def define(self, name, node, args, body, label):
        """Bind ``name`` to the function; return the statements evaluating its defaults."""
        out = []
        defaults = self.check_signature(node, args, label)
        for param, default in list(defaults.items()):
            if self.function_arg(default):  # act=np.tanh, act=lambda t: t: given as it is
                continue
            value = self.expr(default, out)
            if not _constant(value):
                held = self.fresh(f"{label}_{param}_default")
                out.append(_located(_assign(held, value), default))
                value = _name(held)
            defaults[param] = value
        body = list(body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]  # a docstring
        self.env[name] = _Fn(label, _params(args), defaults, body, node)
        self.pending.pop(name, None)
        return out

    def check_signature(self, node, args, label):
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(node, f"s2sad does not support *args, **kwargs or keyword-only "
                                   f"parameters in a nested function ({label})",
                             "Give it plain positional parameters.")
        params = _params(args)
        return dict(zip(params[len(params) - len(args.defaults):], args.defaults))

    def inlinable(self, node):
        """True if ``node`` is a call s2sad inlines (see :meth:`call`)."""
        if not isinstance(node, gast.Call):
            return False
        if isinstance(node.func, gast.Lambda) or \
                isinstance(node.func, gast.Name) and node.func.id in self.env:
            return True
        return self.helper_of(node) is not None

    def helper_of(self, node):
        """The module-level function a call passes a function to (or which has one as a
        default value, ``act=np.tanh``), or None."""
        target = self.global_function(node.func)
        if target is None or not _is_user_function(target):
            return None
        if _has_function_defaults(target) or \
                any(self.function_arg(a) for a in node.args + [k.value for k in node.keywords]):
            return target
        return None

    def function_arg(self, node):
        """``'local'`` for a lambda or nested function, ``'global'`` for np.sin & co, else None."""
        if isinstance(node, gast.Lambda) or isinstance(node, gast.Name) and node.id in self.env:
            return "local"
        if isinstance(node, (gast.Name, gast.Attribute)) and \
                self.global_function(node) is not None:
            return "global"
        return None

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node, pre):
        """``node`` with inlined calls replaced; statements they need are appended to ``pre``."""
        if isinstance(node, gast.Lambda):
            raise self.error(node, "s2sad supports a lambda that is called, assigned to a name "
                                   "(and called), or passed to a function defined in the same "
                                   "file, not a lambda used as a value here",
                             "Call it, or pass it to your own helper function.")
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id in self.env:
                raise self.error(node, f"{node.id} is a nested function; s2sad inlines its "
                                       f"calls and cannot use it as a value here",
                                 f"Call {node.id}, or pass it to your own helper function "
                                 f"defined in the same file.")
            if node.id in self.pending:
                raise self.error(node, f"{node.id} is used before its definition "
                                       f"(line {self.p.loc(self.pending[node.id]).line})",
                                 f"Define {node.id} before this line.")
            return node
        if isinstance(node, gast.Call):
            if self.inlinable(node):
                value, ret = self.call(node, pre)
                return value
            node.func = self.expr(node.func, pre)
            self.refuse_function_args(node)
            node.args = [self.expr(a, pre) for a in node.args]
            for k in node.keywords:
                k.value = self.expr(k.value, pre)
            return node
        if isinstance(node, gast.IfExp):
            return self.conditional(node, pre)
        if isinstance(node, gast.BoolOp):
            return self.boolean(node, pre)
        if isinstance(node, (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)):
            return node  # the lowering reports these
        self.generic(node, pre)
        return node

    def generic(self, node, pre):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, self.expr(value, pre))
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v, pre) if isinstance(v, gast.AST) else v
                                      for v in value])

    def refuse_function_args(self, node):
        for arg in node.args + [k.value for k in node.keywords]:
            if self.function_arg(arg) != "local":
                continue
            what = "a lambda" if isinstance(arg, gast.Lambda) else \
                f"the nested function {arg.id}"
            callee = ".".join(dotted_chain(node.func) or ["this function"])
            raise self.error(arg, f"s2sad cannot pass {what} to {callee}: it inlines a function "
                                  f"argument into a helper defined in the same file only",
                             "Call the function yourself and pass the values, or write the "
                             "helper in the same file.")

    def runs_inlined_code(self, node):
        """True if ``node`` has a call that is inlined into statements."""
        return any(isinstance(n, gast.Call) and self.inlinable(n) for n in gast.walk(node))

    def conditional(self, node, pre):
        """``a if c else b``: calls inlined in a branch run in that branch only."""
        node.test = self.expr(node.test, pre)
        if not (self.runs_inlined_code(node.body) or self.runs_inlined_code(node.orelse)):
            node.body = self.expr(node.body, pre)
            node.orelse = self.expr(node.orelse, pre)
            return node
        chosen = self.fresh("chosen")
        pre.append(_located(gast.If(
            test=node.test,
            body=self.statement(_located(_assign(chosen, node.body), node)),
            orelse=self.statement(_located(_assign(chosen, node.orelse), node))), node))
        return gast.copy_location(_name(chosen), node)

    def boolean(self, node, pre):
        """``a and b``/``a or b``: a call inlined in ``b`` runs only when Python runs ``b``."""
        first = self.expr(node.values[0], pre)
        if not any(self.runs_inlined_code(v) for v in node.values[1:]):
            node.values = [first] + [self.expr(v, pre) for v in node.values[1:]]
            return node
        result = self.fresh("both" if isinstance(node.op, gast.And) else "either")
        tail = []
        for value in reversed(node.values[1:]):
            test = _name(result) if isinstance(node.op, gast.And) else \
                gast.UnaryOp(op=gast.Not(), operand=_name(result))
            inner = self.statement(_located(_assign(result, value), node)) + tail
            tail = [_located(gast.If(test=test, body=inner, orelse=[]), node)]
        pre.append(_located(_assign(result, first), node))
        pre.extend(tail)
        return gast.copy_location(_name(result), node)

    # -- calls -----------------------------------------------------------------------------------
    def call(self, node, pre, whole=False):
        """Inline the call ``node``; return ``(value, return statement or None)``.

        With ``whole`` the call is the whole value of an assignment or a return,
        which then takes the returned expression itself.
        """
        if any(isinstance(a, gast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            raise self.error(node, "s2sad does not support *args or **kwargs in a call it "
                                   "inlines", "Pass the arguments one by one.")
        func = node.func
        if isinstance(func, gast.Lambda):
            fn = self.lambda_fn(func, "lambda", pre)
        elif isinstance(func, gast.Name) and func.id in self.env:
            fn = self.env[func.id]
        else:
            fn = self.helper_fn(self.helper_of(node), node)
        args = [a if self.function_arg(a) else self.expr(a, pre) for a in node.args]
        keywords = [(k.arg, k.value if self.function_arg(k.value) else self.expr(k.value, pre))
                    for k in node.keywords]
        value, ret, result = self.inline(fn, node, args, keywords, pre)
        if value is None:
            value = gast.copy_location(gast.Constant(value=None, kind=None), node)
        if whole or _trivial(value):
            return value, ret
        out = self.fresh(result)
        pre.append(_located(_assign(out, value), ret, ret.end_lineno))
        return gast.copy_location(_name(out), node), None

    def lambda_fn(self, node, label, pre):
        defaults = self.check_signature(node, node.args, label)
        for param, default in list(defaults.items()):
            defaults[param] = self.expr(default, pre)
        return _Fn(label, _params(node.args), defaults, [self.lambda_body(node)], node)

    def helper_fn(self, helper, call):
        """The :class:`_Fn` of a module-level function inlined because it is given a function."""
        fn = self.helpers.get(helper)
        if fn is not None:
            return fn
        name = helper.__name__
        parsed = parse_function(helper)
        if parsed.filename != self.p.filename:
            raise self.error(call, f"{name} is given a function argument and is defined in "
                                   f"another file ({parsed.filename}); s2sad passes a function "
                                   f"to a helper by inlining the helper, which it does for "
                                   f"helpers defined in the same file as {self.p.node.name} only",
                             f"Move {name} into this file, or call the function yourself and "
                             f"pass {name} the values.")
        node = parsed.node
        dl, dc = parsed.line_offset - self.p.line_offset, parsed.col_offset - self.p.col_offset
        for child in gast.walk(node):  # the helper's lines, in this function's coordinates
            for attr, delta in (("lineno", dl), ("end_lineno", dl), ("col_offset", dc),
                                ("end_col_offset", dc)):
                if getattr(child, attr, None) is not None:
                    setattr(child, attr, getattr(child, attr) + delta)
        self.used.update(_names_in(node))
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(call, f"s2sad inlines {name} because it is given a function, and "
                                   f"cannot inline a function with *args, **kwargs or "
                                   f"keyword-only parameters", "Give it plain parameters.")
        params = _params(args)
        stored = set(_locals(params, node.body)) | _inner_scope_names(node.body)
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id not in stored:
                theirs, ours = parsed.scope.lookup(n.id), self.scope.lookup(n.id)
                if n.id in self.f_locals or theirs is not ours:
                    raise self.error(call, f"s2sad inlines {name} here because it is given a "
                                           f"function, and {name} reads the name {n.id!r}, which "
                                           f"means something else in {self.p.node.name}",
                                     f"Rename {n.id} in {self.p.node.name} or in {name}.")
        defaults = {}
        values = helper.__defaults__ or ()
        for param, value, spelled in zip(params[len(params) - len(values):], values,
                                         args.defaults):
            if value is None or isinstance(value, (bool, int, float, complex, str)):
                defaults[param] = gast.Constant(value=value, kind=None)
            elif _is_function_object(value) and self.global_function(spelled) is value:
                defaults[param] = spelled  # act=np.tanh
            else:
                defaults[param] = _BadDefault(name, param)
        body = list(node.body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]
        fn = self.helpers[helper] = _Fn(name, params, defaults, body, node, helper=helper)
        return fn

    def bind(self, fn, call, args, keywords):
        """``{parameter: argument expression}`` for a call of ``fn``."""
        label = fn.helper.__name__ if fn.helper is not None else fn.label
        if len(args) > len(fn.params):
            raise self.error(call, f"{label}() takes {len(fn.params)} argument"
                                   f"{'s' if len(fn.params) != 1 else ''} but {len(args)} "
                                   f"were given", _ARGUMENTS_HINT)
        bound = dict(zip(fn.params, args))
        for key, value in keywords:
            if key not in fn.params:
                raise self.error(call, f"{label}() has no parameter {key!r}", _ARGUMENTS_HINT)
            if key in bound:
                raise self.error(call, f"{label}() got two values for {key!r}",
                                 _ARGUMENTS_HINT)
            bound[key] = value
        for param in fn.params:
            if param not in bound:
                default = fn.defaults.get(param)
                if default is None:
                    raise self.error(call, f"{label}() is missing its argument {param!r}",
                                     _ARGUMENTS_HINT)
                if isinstance(default, _BadDefault):
                    raise self.error(call, default.message(), f"Pass {param} explicitly.")
                bound[param] = copy.deepcopy(default)
        return bound

    def inline(self, fn, call, args, keywords, pre):
        """Append ``fn``'s body, renamed, to ``pre``.

        Returns ``(the returned expression or None, the return statement, a free name
        for the call's value)``.
        """
        label = fn.helper.__name__ if fn.helper is not None else fn.label
        if fn.key in self.stack:
            what = "a function given a function argument" if fn.helper else "nested functions"
            raise self.error(call, f"{label} calls itself; s2sad inlines {what} and cannot "
                                   f"inline recursion",
                             "Write it as a loop, or as a module-level function of plain "
                             "values (which may be recursive).")
        bound = self.bind(fn, call, args, keywords)
        if not fn.desugared:
            holder = gast.FunctionDef(name=label, args=gast.arguments(
                args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                defaults=[]), body=fn.body, decorator_list=[], returns=None, type_comment=None,
                type_params=[])
            fn.body = desugar(holder, self.used | _names_in(holder)).body if fn.body else []
            fn.desugared = True
        body = copy.deepcopy(fn.body)
        local_names = _locals(fn.params, body)
        stored = _stored(body)
        inner = _inner_scope_names(body)
        suffix = next(s for s in ("out", "result", "value", "returned_value")
                      if s not in local_names)
        chosen, prefix = self.instance_names(fn.label, local_names + [suffix])
        result = chosen.pop(suffix)  # the name of the call's value, taken if it is needed
        self.used.discard(result)
        self.f_locals.discard(result)
        mapping = {}
        for param in fn.params:
            arg = bound[param]
            kind = self.function_arg(arg)
            if kind == "local":
                if param in stored:
                    raise self.error(call, f"{param} is given a function and {label} assigns "
                                           f"it; s2sad cannot inline that",
                                     f"Use another name for the value {label} assigns.")
                key = chosen[param]  # a name for the function given, in calls only
                self.env[key] = self.lambda_fn(arg, param, pre) \
                    if isinstance(arg, gast.Lambda) else self.env[arg.id]
                mapping[param] = key
            elif (kind == "global" or _trivial(arg)) and param not in stored and \
                    not (_names_in(arg) & inner):
                mapping[param] = arg
            else:
                mapping[param] = chosen[param]
                pre.append(_located(_assign(chosen[param], arg), arg))
        for name in local_names:
            if name not in fn.params:
                mapping[name] = chosen[name]
        renamer = _Renamer(mapping)
        body = [renamer.visit(s) for s in body]
        ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
        if ret is not None:
            body = body[:-1]
        self.stack.append(fn.key)
        try:
            self.declare(body)
            out = self.block(body)
            value = None
            if ret is not None and ret.value is not None:
                value = self.expr(ret.value, out)
        finally:
            self.stack.pop()
        pre.extend(out)
        if ret is None:  # no return: the call's value is None
            ret = _located(gast.Return(value=None), call)
        return value, ret, result


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


# -- dicts ---------------------------------------------------------------------------------------

class _DictReplacer:
    """Scalar replacement of the dicts made with constant keys: one variable per key."""

    def __init__(self, inliner):
        self.inliner = inliner
        self.error = inliner.error

    def key_of(self, node):
        """The constant key ``node`` spells (a str or an int), else raise."""
        negative = isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
        inner = node.operand if negative else node
        if isinstance(inner, gast.Constant) and (isinstance(inner.value, str) and not negative
                                                 or type(inner.value) is int):
            return -inner.value if negative else inner.value
        return None

    def run(self, fn):
        bindings = {}
        for node in gast.walk(fn):
            if isinstance(node, gast.Assign) and isinstance(node.value, gast.Dict) and \
                    len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
                name = node.targets[0].id
                if name in bindings:
                    first = self.inliner.p.loc(bindings[name]).line
                    raise self.error(node, f"{name} is made a dict on line {first} and again "
                                           f"here; s2sad replaces a dict by one variable per "
                                           f"key and needs it made once",
                                     f"Use another name, or set its keys with {name}[key] = "
                                     f"value.")
                bindings[name] = node
        literals = {id(b.value) for b in bindings.values()}
        for node in gast.walk(fn):  # any other dict literal is a value (a dict of parameters)
            if isinstance(node, gast.Dict) and id(node) not in literals and not all(
                    k is not None and isinstance(self.key_of(k), str) for k in node.keys):
                raise self.error(node, "s2sad supports a dict literal with constant string keys "
                                       "(a dict of parameters, metrics), or assigned to a name "
                                       "(d = {...}) and then used as d[key] with constant keys",
                                 "Write the keys out as strings, or pass the values as "
                                 "separate arguments.")
        if not bindings:
            return
        self.bindings = bindings
        self.vars = {}  # (dict name, key) -> variable name
        parents = {}
        for node in gast.walk(fn):
            for child in gast.iter_child_nodes(node):
                parents[id(child)] = node
        written = {name: set() for name in bindings}
        stored, escaping = set(), {}  # d[k] = v somewhere; d used as a whole (first such use)
        reads = []
        for name, binding in bindings.items():
            for key_node, value in zip(binding.value.keys, binding.value.values):
                if key_node is None:
                    raise self.error(value, "s2sad does not support ** in a dict literal",
                                     "Write the keys out.")
                key = self.key_of(key_node)
                if key is None:
                    raise self.error(key_node, f"the keys of the dict {name} must be constant "
                                               f"strings or ints: s2sad replaces it by one "
                                               f"variable per key", "Use constant keys.")
                written[name].add(key)
        for node in gast.walk(fn):
            if not (isinstance(node, gast.Name) and node.id in bindings):
                continue
            parent = parents.get(id(node))
            name = node.id
            if isinstance(parent, gast.Assign) and parent is bindings[name] and \
                    parent.targets[0] is node:
                continue
            if isinstance(parent, gast.Subscript) and parent.value is node:
                key = self.key_of(parent.slice)
                if key is None:
                    raise self.error(parent.slice, f"{name} is a dict, which s2sad replaces by "
                                                   f"one variable per key, so it must be "
                                                   f"indexed with a constant key (a string or "
                                                   f"an int)", "Use a constant key, or use an "
                                                               "array or separate variables.")
                if isinstance(parent.ctx, gast.Store):
                    written[name].add(key)
                    stored.add(name)
                elif isinstance(parent.ctx, gast.Del):
                    raise self.error(parent, f"s2sad does not support del on the dict {name}",
                                     "Leave the key in the dict.")
                else:
                    reads.append((name, key, parent))
                continue
            if isinstance(parent, (gast.Call, gast.keyword, gast.Return, gast.Tuple, gast.List,
                                   gast.Dict)) and getattr(parent, "func", None) is not node:
                escaping.setdefault(name, (node, parent))  # passed, returned or held whole
                continue
            raise self.error(node, f"{name} is a dict, which s2sad replaces by one variable "
                                   f"per key; it can only be read and written as {name}[key], "
                                   f"not {self.describe(node, parent)}",
                             f"Read the values you need with {name}[key] and use those.")
        for name, (node, parent) in escaping.items():
            # a dict used as a whole (passed to a function, returned) stays one value, if it
            # is never written into; else one variable per key, which cannot be passed
            if name in stored:
                raise self.error(node, f"{name} is a dict written with {name}[key] = ..., which "
                                       f"s2sad replaces by one variable per key; it can only be "
                                       f"read and written as {name}[key], not "
                                       f"{self.describe(node, parent)}",
                                 f"Build the dict in one literal ({name} = {{...}}) to pass it "
                                 f"whole, or read the values you need with {name}[key].")
            del bindings[name]
        reads = [r for r in reads if r[0] in bindings]
        if not bindings:
            return
        for name, key, node in reads:
            if key not in written[name]:
                raise self.error(node, f"the dict {name} has no key {key!r}: no {name}[{key!r}] "
                                       f"is set in the function",
                                 f"Set {name}[{key!r}] = ... before reading it.")
        _DictRewriter(self).visit(fn)

    @staticmethod
    def describe(node, parent):
        if isinstance(node.ctx, (gast.Store, gast.Del)):
            return "given another value"
        if isinstance(parent, gast.Call):
            return "passed to a function"
        if isinstance(parent, gast.keyword):
            return "passed to a function"
        if isinstance(parent, gast.Return):
            return "returned"
        if isinstance(parent, (gast.For, gast.comprehension)):
            return "iterated over"
        if isinstance(parent, gast.Attribute):
            return f"used with .{parent.attr}"
        if isinstance(parent, gast.Compare):
            return "compared or tested with in"
        if isinstance(parent, gast.Assign):
            return "assigned to another name"
        return "used as a value"

    def variable(self, name, key):
        var = self.vars.get((name, key))
        if var is None:
            text = key if isinstance(key, str) else (str(key) if key >= 0 else f"m{-key}")
            text = re.sub(r"\W", "_", text) or "key"
            var = self.vars[(name, key)] = self.inliner.fresh(f"{name}_{text}")
        return var


class _DictRewriter(gast.NodeTransformer):
    def __init__(self, replacer):
        self.r = replacer

    def visit_Subscript(self, node):
        if isinstance(node.value, gast.Name) and node.value.id in self.r.bindings:
            key = self.r.key_of(node.slice)
            return gast.copy_location(_name(self.r.variable(node.value.id, key), node.ctx), node)
        return self.generic_visit(node)

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) != 1 or not isinstance(node.targets[0], gast.Name) or \
                self.r.bindings.get(node.targets[0].id) is not node:
            return node
        name, literal = node.targets[0].id, node.value
        items = {}
        for key_node, value in zip(literal.keys, literal.values):
            items[self.r.key_of(key_node)] = value  # a repeated key keeps its last value
        if not items:
            return _located(gast.Pass(), node)
        targets = [self.r.variable(name, key) for key in items]
        values = list(items.values())
        end = node.end_lineno
        return [_located(_assign(t, v), node, end) for t, v in zip(targets, values)]
