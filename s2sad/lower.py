"""Lowering: a gast ``FunctionDef`` becomes an SSA :class:`~s2sad.ir.Function`.

Nested expressions are flattened into temporaries ``v1, v2, ...`` so every
statement applies one primitive to named operands. The final primitive of
``z = expr`` writes ``z`` itself; a reassigned name gets a new version
(``z_1``, ``z_2``); ``x += e`` is ``x_1 = x + e``. Free names are resolved in
the function's own module (:class:`~s2sad.parse.Scope`): ``np.exp`` becomes the
``np.exp`` primitive whatever the module calls NumPy, ``np.pi`` becomes a
:class:`~s2sad.ir.Const` spelled ``np.pi``, calls to the user's own functions
become calls of a :class:`UserFunction` primitive whose derivative is generated
too. A free name whose value is data (a number, an array, a list, a config
object: anything but a function, module or class) is read when the generated
code runs, as the function reads it: ``lam = model.lam`` (a global of module
``model``) or ``w = f_closure.w`` (a closure variable of ``f``), a
:class:`GlobalRead` statement at the top of the function, read once per call;
the transform never sees its value. Literal numbers in the source stay
literals. What the other free names are (which function, which module) is
recorded in ``Function.guard`` so caches re-transform when one is rebound.
Calls of functions s2sad has no rule for (``CACHE.append(x)``,
``rng.normal()``) are kept as they are, in program order, whether or not
their results are read (:class:`ExternalFunction` has ``effects``). Anything that cannot be lowered is an
:class:`~s2sad.errors.UnsupportedSyntaxError` pointing at the construct.

A name bound to a new empty list (``t = []``) is a *stack*, the idiom of
generated reverse-mode code (its ``tape``) and of hand-written code alike:
``t.append(v)`` / ``t.append((a, b))``, ``v = t.pop()`` / ``a, b = t.pop()``,
``t.clear()``, ``len(t)`` and ``tuple(t)`` (and ``pop_bar(t, like)``, reverse
mode's pop of a list of adjoints) become the list statements of
:data:`s2sad.rules.operators.LIST_OPS`, effects kept in program order. Such a
name may be bound by ``t = []`` only. A list is followed where it is made:
it is not merged by an ``if`` or carried by a loop, so a list made inside a
region cannot be read after it, nor before ``t = []`` in the loop that makes
it. A function given a list (``np.stack(t)``, a helper, ``matmul_bar_a_sum(t, W)``)
is given a snapshot of it, ``list_snapshot(t)``: its elements then, an ordinary
value. Any other use of a list (``return t``, ``s = t``, ``t[0]``) is a located
error.

``a, b = f(x)`` is one statement with two targets (a tuple result unpacked);
``return a, b`` returns a ``tuple`` value. A write into an array,
``y[index] = v`` (or ``y[index] op= v``), is ``y_old = overwritten(y, index)``
then ``y_1 = setitem(y, index, v)`` (:meth:`_Lowerer.write_item`): the generated
code writes in place. ``x += e`` is ``x_1 = x + e`` marked ``in_place="+="``:
NumPy updates ``x``'s array where the IR has a new value. Whether these
in-place effects keep NumPy's meaning is decided once the function is lowered,
by one analysis of the IR (:func:`s2sad.memory.check_memory`): only arrays the
function allocated may be written or updated, and names sharing the written
memory (views, aliases, a list holding the array) cannot be read after the
write. s2sad's own generated code (``trusted``: functions the cache compiled from
code s2sad generated, :func:`s2sad.ir.is_generated`) is not checked: its restores
keep every value it reads equal to the IR's value.

Layer 3, the top of the front end: it imports the rules (layer 2) and the
front end below it, never an analysis (layer 4) or a transform.
"""

import builtins
import inspect
import math
import threading
import types
import weakref

import gast
import numpy as np

from . import rules, support
from .custom import CustomPrimitive, import_name, primitive_of
from .desugar import desugar
from .errors import NoDerivativeError, UnsupportedSyntaxError
from .expand import expand
from .inline import inline
from .ir import (Assign, Const, For, Function, If, Index, Param, Raise, Return, Slice, Var, While,
                 is_generated, walk_blocks)
from .memory import check_memory, in_place_text, result_memory
from .parse import (LiveScope, Scope, is_user_function, def_name, dotted_chain, is_value, module_name_of,
                    parse_function, resolution_guard, unwrap)
from .rules.core import Primitive
from .rules.operators import LIST_OPS, dict_literal, is_list_op
from .rules.support_rules import is_helper_copy
from .support import HELPERS, unindex

_BINOPS = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
           gast.Pow: "pow", gast.MatMult: "matmul", gast.Mod: "mod", gast.FloorDiv: "floordiv",
           gast.BitAnd: "and_", gast.BitOr: "or_", gast.BitXor: "xor", gast.LShift: "lshift",
           gast.RShift: "rshift"}
_UNARY = {gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert"}
_COMPARE = {gast.Lt: "lt", gast.LtE: "le", gast.Gt: "gt", gast.GtE: "ge", gast.Eq: "eq",
            gast.NotEq: "ne", gast.Is: "is", gast.IsNot: "is_not", gast.In: "in",
            gast.NotIn: "not_in"}
_ATTRIBUTES = ("T", "mT", "shape", "ndim", "size", "dtype")
# modules whose members generated code may spell directly
_SPELLED_MODULES = {"numpy": "np", "math": "math"}


class UserFunction(Primitive):
    """A call of one of the user's own Python functions; its derivative is generated too."""

    opaque = True  # its result may be any array it was given, or a global (s2sad.memory)

    def __init__(self, fn):
        self.fn = fn
        sig = inspect.signature(fn, follow_wrapped=False)
        params = tuple(sig.parameters)
        defaults = {k: p.default for k, p in sig.parameters.items()
                    if p.default is not inspect.Parameter.empty}
        # the generated module defines its run-time helpers; a user function must not shadow one
        own = def_name(fn)  # (a lambda's: the name it is assigned to)
        spelled = own + "_" if own in HELPERS else own
        super().__init__(own, params, defaults, ("user", spelled))
        self._elementwise = None

    @property
    def result_memory(self):
        """What each result may share memory with (:func:`s2sad.memory.result_memory`);
        None, meaning anything it was given or a global, if s2sad cannot read the function
        or is reading it already (recursion)."""
        summarising = _SUMMARISING.__dict__.setdefault("functions", set())  # this thread's
        if self.fn in summarising:
            return None
        try:
            return _RESULT_MEMORY[self.fn]
        except (KeyError, TypeError):
            pass
        summarising.add(self.fn)
        try:
            summary = result_memory(lower(self.fn))
        except Exception:
            summary = None
        finally:
            summarising.discard(self.fn)
        try:
            _RESULT_MEMORY[self.fn] = summary
        except TypeError:  # not weakly referenceable
            pass
        return summary



_RESULT_MEMORY = weakref.WeakKeyDictionary()  # python function -> its result_memory
_SUMMARISING = threading.local()  # the functions this thread is summarising (recursion)


def clear_summaries():
    """Forget what each user function's results may share memory with (s2sad.clear_cache)."""
    _RESULT_MEMORY.clear()


class ExternalFunction(Primitive):
    """A call of a function s2sad has no rule for: fine on constants, an error on active values.

    ``head`` is what the first name of its spelling refers to (``scipy`` in
    ``scipy.special.erf``), which generated code must be able to read.
    """

    effects = True  # it may change the world (CACHE.append(x)): kept even if unread
    opaque = True  # its result may be any array it was given, or a global (s2sad.memory)

    def __init__(self, obj, spelling, head=None, name=None, stars=()):
        self.obj = obj
        self.head = head
        self.stars = stars  # the positions of the arguments passed with * (f(*x.shape))
        super().__init__(name or spelling, (), {}, ("call", spelling), varargs=True)


class AttributeRead(Primitive):
    """``obj.name`` for an attribute other than an array's (``self.W``, ``cfg.lam``): read
    when the generated code runs, a constant. On a differentiated value it is a field of a
    named tuple (``p.w``; the adjoint ``unattr(g, p, 'w')`` checks that it is one when it
    runs); an attribute NumPy arrays have (``x.real``) is a located error there
    (:func:`s2sad.common.no_rule_error`)."""

    opaque = True  # the object's own array: memory from outside the function (s2sad.memory)

    def __init__(self, attr):
        if hasattr(np.ndarray, attr):  # no rule: a located error on a differentiated value
            super().__init__(f".{attr}", ("x",), {}, ("attr", attr), varargs=True)
        else:
            super().__init__(f".{attr}", ("x",), {}, ("attr", attr),
                             vjp={"x": f"unattr(g, x, {attr!r})"}, jvp={"x": f"x_dot.{attr}"})


class GlobalRead(Primitive):
    """``lam = model.lam``: a value of the user's module (or closure) read when the
    generated code runs. ``head`` is what the first name of ``spelling`` refers to:
    a module, or a :class:`~s2sad.parse.LiveScope` (see :meth:`Emitter.declare_scope
    <s2sad.emit.Emitter.declare_scope>`). Its value is constant: no derivative."""

    opaque = True  # the user's own array: memory from outside the function (s2sad.memory)

    def __init__(self, spelling, head):
        self.head = head
        self.spelling = spelling
        super().__init__(spelling, (), {}, ("global", spelling), differentiable=False)


def lower(fn, trusted=None) -> Function:
    """Lower a Python function to SSA form.

    ``trusted``: the function is s2sad's own generated code, whose writes and restores
    are not checked (:func:`s2sad.memory.check_memory`). By default, what s2sad recorded
    when it compiled the function (:func:`s2sad.ir.is_generated`), never what the
    function's text says.
    """
    parsed = parse_function(fn)
    if trusted is None:
        trusted = is_generated(parsed.fn)
    return _Lowerer(parsed, trusted).lower()


class _Lowerer:
    def __init__(self, parsed, trusted=False):
        self.p = parsed
        self.scope: Scope = parsed.scope
        self.env = {}  # user name -> current operand
        self.used = {n.id for n in gast.walk(parsed.node) if isinstance(n, gast.Name)}
        self.used |= {a.id for a in parsed.node.args.args}
        expand(parsed, self.used)  # comprehensions, sum of a generator, assert (s2sad/expand.py)
        inline(parsed, self.used)  # nested functions, lambdas, dicts (s2sad/inline.py)
        desugar(parsed.node, self.used)
        self.used |= {n.id for n in gast.walk(parsed.node) if isinstance(n, gast.Name)}
        self.read = {n.id for n in gast.walk(parsed.node)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        self.list_names = self.find_lists(parsed.node)
        self.list_vars = {}  # Var made by t = [] -> the user name t
        self.statement_call = None  # the call a stmt_Expr lowers (t.append(v) is one)
        self.defined = set()
        self.user_names = {}  # variable name -> the user's name it is a version of
        # s2sad's own generated code writes into arrays from its tape and reads views after
        # writes on purpose: its restores keep every value read equal to the IR's value
        self.trusted = trusted
        self.temp_count = 0
        self.block = []
        self.callees = {}
        self.returned = None
        self.live_reads = {}  # spelling -> the Var a GlobalRead at the top of the body assigns
        self.hoisted = []  # those GlobalRead statements
        self.dict_vars = {}  # the Vars holding a dict made here (check_dict_operands)

    # -- names ------------------------------------------------------------------
    def fresh_temp(self):
        while True:
            self.temp_count += 1
            name = f"v{self.temp_count}"
            if name not in self.used:
                self.used.add(name)
                return Var(name)

    def new_version(self, name):
        candidate, k = name, 0
        while candidate in self.defined or (candidate != name and candidate in self.used):
            k += 1
            candidate = f"{name}_{k}"
        self.defined.add(candidate)
        self.used.add(candidate)
        self.user_names[candidate] = name
        return Var(candidate)

    def bind_name(self, name):
        var = self.new_version(name)
        self.env[name] = var
        return var

    def error(self, node, message, hint=None):
        return UnsupportedSyntaxError(message, self.p.loc(node), hint)

    # -- lists used as stacks ------------------------------------------------------
    def find_lists(self, fn_node):
        """The names bound to a new empty list (``t = []``) somewhere: s2sad's stacks.

        Such a name must be bound by ``t = []`` only, so every read of it is a list.
        """
        made, creators = {}, set()
        for node in gast.walk(fn_node):
            if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], gast.Name) and \
                    isinstance(node.value, gast.List) and not node.value.elts:
                made.setdefault(node.targets[0].id, node)
                creators.add(id(node.targets[0]))
        for node in gast.walk(fn_node):
            if isinstance(node, gast.Name) and node.id in made and id(node) not in creators and \
                    isinstance(node.ctx, (gast.Store, gast.Param)):
                line = self.p.loc(made[node.id]).line
                raise self.error(node, f"{node.id} is a list (made by {node.id} = [] on line "
                                       f"{line}) and s2sad cannot follow it when something else "
                                       f"is assigned to the same name",
                                 "Use another name for the other value.")
        return set(made)

    def list_error(self, node, var, what):
        name = self.list_vars[var]
        return self.error(node, f"{name} is a list (made by {name} = []), which s2sad follows as "
                                f"a stack only; it cannot {what}",
                          f"Use {name}.append(v), {name}.pop(), {name}.clear() and len({name}) "
                          f"only; s2sad cannot pass a list to a function or make an array of "
                          f"it yet.")

    def check_list_operands(self, prim, operands, node):
        """Raise if a list is an operand of anything but a list statement or len."""
        for position, op in enumerate(operands):
            if not (isinstance(op, Var) and op in self.list_vars):
                continue
            if is_list_op(prim) and position == 0 or prim.name == "len":
                continue
            what = "be pushed onto a list" if is_list_op(prim) else \
                f"be an operand of {prim.name}" if prim.name not in ("copy", "getitem") else \
                "be indexed" if prim.name == "getitem" else "be copied or given another name"
            raise self.list_error(node, op, what)

    def lower_list_method(self, node, method, name, names):
        """``t.append(v)``, ``t.append((a, b))``, ``v = t.pop()``, ``t.clear()`` on a list t."""
        base = self.lower_expr(node.func.value)
        statement = node is self.statement_call and name is None and names is None
        if node.keywords:
            raise self.error(node, f"s2sad does not support keyword arguments to .{method}()")
        if method in ("append", "clear") and not statement:
            raise self.error(node, f".{method}() returns None; s2sad supports it as a "
                                   f"statement only", f"Write {_spelling(node.func)}(...) on a "
                                                      f"line of its own.")
        if method == "append":
            if len(node.args) != 1:
                raise self.error(node, ".append() takes one value")
            value = node.args[0]
            if isinstance(value, gast.Tuple):
                if len(value.elts) < 2:
                    raise self.error(value, "s2sad pushes a value or a tuple of two or more "
                                            "values onto a list", "Push the value itself.")
                values = [self.lower_expr(e) for e in value.elts]
            else:
                values = [self.lower_expr(value)]
            self.emit((), LIST_OPS["list_append"], [base] + values, {}, node)
            return None
        if node.args:
            raise self.error(node, f"s2sad supports .{method}() without arguments only (a list "
                                   f"is a stack: pop() takes the last element)")
        if method == "clear":
            self.emit((), LIST_OPS["list_clear"], [base], {}, node)
            return None
        return self.apply(LIST_OPS["list_pop"], [base], {}, node, name, names)

    def new_list(self, target, value):
        var = self.bind_name(target.id)
        self.list_vars[var] = target.id
        self.emit((var,), LIST_OPS["list_new"], (), {}, value)
        return var

    def hide_lists(self, names, env, message):
        """Make the list names ``names`` unreadable in ``env`` (see :class:`_Unreadable`)."""
        for key in names:
            env[key] = _Unreadable(message.format(name=key))

    def lists_made_in(self, node):
        return sorted({n.id for n in gast.walk(node) if isinstance(n, gast.Name) and
                       isinstance(n.ctx, gast.Store) and n.id in self.list_names})

    # -- function ---------------------------------------------------------------
    def lower(self):
        node = self.p.node
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(node, f"s2sad does not support *args, **kwargs or keyword-only "
                                   f"parameters (in {node.name})",
                             "Give the function plain positional parameters.")
        params = []
        n_defaults = len(args.defaults)
        for i, arg in enumerate(args.args):
            param = Param(arg.id)
            if i >= len(args.args) - n_defaults:
                default = self.p.fn.__defaults__[i - (len(args.args) - n_defaults)]
                param = Param(arg.id, Const(default), True)
            params.append(param)
            self.defined.add(arg.id)
            self.env[arg.id] = Var(arg.id)
        body = list(node.body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # docstring
        for i, stmt in enumerate(body):
            if self.returned is not None:
                raise self.error(stmt, "code after return is never run")
            self.lower_stmt(stmt)
        if self.returned is None:
            raise self.error(node, f"{node.name} has no return statement",
                             "s2sad differentiates the value a function returns; add a return.")
        fn = Function(node.name, params, self.hoisted + self.block, self.p.loc(node),
                      output=self.returned, callees=self.callees, generated=self.trusted,
                      guard=resolution_guard(self.p.fn, self.scope.resolved))
        if not self.trusted:
            check_memory(fn, self.user_names)
        return fn

    # -- statements -------------------------------------------------------------
    def lower_stmt(self, stmt):
        self.statement = stmt
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is None:
            raise self.error(stmt, f"s2sad does not support the {_describe(stmt)} statement "
                                   f"in a differentiated function",
                             "Rewrite the function without it.")
        method(stmt)

    def stmt_Pass(self, stmt):
        pass

    # -- control flow ------------------------------------------------------------
    def lower_region(self, build):
        """Run ``build()`` into a fresh block with a copy of the environment.

        Returns ``(block, env, build's result)``; the enclosing block and
        environment are restored.
        """
        saved_block, saved_env = self.block, self.env
        self.block, self.env = [], dict(self.env)
        try:
            result = build()
            return self.block, self.env, result
        finally:
            self.block, self.env = saved_block, saved_env

    def lower_block(self, stmts, env):
        """Lower statements into a fresh block starting from ``env``; return (block, env)."""
        block, env, _ = self.lower_region(lambda: [self.lower_stmt(s) for s in stmts])
        return block, env

    def lower_loop_body(self, body, exit_nodes):
        """Lower a loop body; return the operands of its exit flags."""
        for inner in body:
            self.lower_stmt(inner)
        return [self.name_operand(n) for n in exit_nodes]

    def merge(self, node, cond, then_env, else_env, then_block, else_block):
        """Emit an If whose merges join every name the branches left different."""
        merges = []
        for key in sorted(set(then_env) | set(else_env), key=_sort_key):
            a, b = then_env.get(key), else_env.get(key)
            if key in self.list_names and a != b:  # a list is followed where it is made
                self.hide_lists([key], self.env, _MADE_IN_REGION)
                continue
            if isinstance(a, _Unreadable) or isinstance(b, _Unreadable):
                self.env[key] = a if isinstance(a, _Unreadable) else b
                continue
            if a == b or key not in self.read:
                if a == b and a is not None:
                    self.env[key] = a
                continue
            var = self.new_version(key)
            merges.append((var, a if a is not None else Const(None),
                           b if b is not None else Const(None)))
            self.env[key] = var
        self.block.append(If(cond, then_block, else_block, merges, self.p.loc(node)))

    def condition(self, node):
        """The operand of a test (``if``, ``while``, ``a if c else b``): not a list."""
        cond = self.lower_expr(node)
        if cond in self.list_vars:
            raise self.list_error(node, cond, "be tested as a condition (write len(t) > 0)")
        return cond

    def stmt_If(self, stmt):
        cond = self.condition(stmt.test)
        if isinstance(cond, Const) and not isinstance(cond.value, np.ndarray):
            for inner in (stmt.body if cond.value else stmt.orelse):  # decided now
                self.lower_stmt(inner)
            return
        then_block, then_env = self.lower_block(stmt.body, self.env)
        else_block, else_env = self.lower_block(stmt.orelse, self.env)
        self.merge(stmt, cond, then_env, else_env, then_block, else_block)

    def stmt_Raise(self, stmt):
        if stmt.exc is None or stmt.cause is not None:
            raise self.error(stmt, "s2sad supports `raise Exception(...)` only")
        exc = self.lower_expr(stmt.exc)
        self.block.append(Raise(exc, self.p.loc(stmt)))

    def loop_carried(self, loop):
        """Names the loop body assigns and something reads: they need loop-carried values."""
        assigned = [n.id for n in gast.walk(loop) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Store)]
        assigned += [self.scatter_target(n.value) for n in gast.walk(loop)
                     if isinstance(n, gast.Expr) and self.scatter_target(n.value)]
        assigned += [n.value.id for n in gast.walk(loop) if isinstance(n, gast.Subscript) and
                     isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name)]
        if isinstance(loop, gast.For):
            # the loop's own variable is carried only where something outside the loop reads
            # it: after a loop of no trips it keeps the value it had before the loop
            targets = {n.id for n in gast.walk(loop.target) if isinstance(n, gast.Name)}
            private = self.private_loop_variables(loop, own=True)
            assigned = [n for n in assigned if n not in targets or n not in private
                        or _stores(loop.body, n)]
        private = self.private_loop_variables(loop)
        assigned = [n for n in assigned if n not in private]
        seen, out = set(), []
        for name in assigned:
            if name not in seen and name in self.read and name not in self.list_names:
                seen.add(name)
                out.append(name)
        return out

    def private_loop_variables(self, loop, own=False):
        """Targets of loops nested in ``loop`` (``own``: of ``loop`` itself) that only those
        loops assign and read (a comprehension's variable is one): nothing outside sees them,
        so nothing carries them (carrying one would read it after a loop of no trips, where
        it was never set)."""
        private = set()
        for inner in ([loop] if own else gast.walk(loop)):
            if (inner is loop) != own or not isinstance(inner, gast.For):
                continue
            inside = {id(n) for n in gast.walk(inner)}
            for name in {n.id for n in gast.walk(inner.target) if isinstance(n, gast.Name)}:
                uses = [n for n in gast.walk(self.p.node) if isinstance(n, gast.Name) and
                        n.id == name]
                if all(id(n) in inside for n in uses) and not _stores(inner.body, name):
                    private.add(name)
        return private

    def enter_loop(self, names):
        carried = []
        for name in names:
            init = self.env.get(name, Const(None))
            var = self.new_version(name)
            self.env[name] = var
            carried.append([var, init, None])
        return carried

    def finish_loop(self, carried, body_env, block, node):
        for entry in carried:
            entry[2] = body_env.get(_user_name(entry[0].name, body_env, self.env), entry[0])
            if isinstance(entry[2], _Unreadable):
                raise self.error(node, entry[2].message, entry[2].hint)
        return [tuple(entry) for entry in carried]

    def split_exits(self, body):
        """Strip the trailing ``if flag: break`` statements the desugaring wrote."""
        exits = []
        while body and isinstance(body[-1], gast.If) and not body[-1].orelse and \
                len(body[-1].body) == 1 and isinstance(body[-1].body[0], gast.Break) and \
                isinstance(body[-1].test, gast.Name):
            exits.insert(0, body[-1].test)
            body = body[:-1]
        return body, exits

    def stmt_For(self, stmt):
        if stmt.orelse:
            raise self.error(stmt, "s2sad does not support for ... else",
                             "Use a flag variable set before break instead.")
        body, exit_nodes = self.split_exits(stmt.body)
        if isinstance(stmt.iter, (gast.Tuple, gast.List)) and not exit_nodes:
            # a loop over a literal tuple or list is unrolled: one copy of the body per item
            for item in stmt.iter.elts:
                self.assign_to(stmt.target, item)
                for inner in body:
                    self.lower_stmt(inner)
            return
        iterable, prologue = self.lower_iteration(stmt)
        carried = self.enter_loop(self.loop_carried(stmt))
        lists = self.lists_made_in(stmt)
        target = self.fresh_temp() if prologue else None
        if target is None:
            if not isinstance(stmt.target, gast.Name):
                raise self.error(stmt.target, "s2sad supports a plain name as loop variable here")
            target = self.new_version(stmt.target.id)

        def lower_body():
            if not prologue:  # bound in the body: after the loop the name is what it carries
                self.env[stmt.target.id] = target
            self.hide_lists(lists, self.env, _MADE_LATER_IN_LOOP)
            for make in prologue:
                make(target)
            return self.lower_loop_body(body, exit_nodes)

        block, body_env, exits = self.lower_region(lower_body)
        self.hide_lists(lists, self.env, _MADE_IN_REGION)
        self.block.append(For(target, iterable, self.finish_loop(carried, body_env, block, stmt),
                              block, self.p.loc(stmt), exits))

    def lower_iteration(self, stmt):
        """The range object a loop runs over, and statements binding the user's target.

        ``for i in range(...)`` loops over the range itself. Any other iterable
        (an array's rows, a list, ``enumerate``, ``zip``) becomes a loop over
        indices with ``target = seq[k]`` at the top of the body, so a
        differentiated array read row by row gets its adjoint through indexing.
        """
        it = stmt.iter
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and \
                self.scope.lookup(it.func.id) is range and it.func.id not in self.env:
            return self.lower_expr(it), []
        kind, seqs = "plain", [it]
        called = self.scope.lookup(it.func.id) if isinstance(it, gast.Call) and \
            isinstance(it.func, gast.Name) and it.func.id not in self.env else None
        if called in (enumerate, zip, reversed) and not it.keywords:
            kind = {enumerate: "enumerate", zip: "zip", reversed: "reversed"}[called]
            seqs = list(it.args)
            if kind != "zip" and len(seqs) != 1:
                raise self.error(it, f"s2sad supports {kind}(seq) with one argument only")
        elif called in (map, filter, iter) or inspect.isgeneratorfunction(called):
            raise self.error(it, "s2sad loops over sequences it can index: range(...), arrays, "
                                 "lists and tuples, and enumerate/zip/reversed of them",
                             "Build a list or an array first, or loop over indices.")
        operands = [self.lower_expr(s) for s in seqs]
        lengths = [self.apply(rules.lookup(len), [o], {}, it, None, None) for o in operands]
        length = lengths[0]
        for other in lengths[1:]:
            length = self.apply(rules.lookup(min), [length, other], {}, it, None, None)
        bounds = [length]
        if kind == "reversed":
            last = self.apply(rules.OPERATORS["sub"], [length, Const(1)], {}, it, None, None)
            bounds = [last, Const(-1), Const(-1)]
        iterable = self.apply(rules.lookup(range), bounds, {}, it, None, None)
        target = stmt.target
        names = []
        if kind in ("plain", "reversed"):
            names = [(target, operands[0], False)]
        elif kind == "zip":
            if not isinstance(target, gast.Tuple) or len(target.elts) != len(operands):
                raise self.error(target, "unpack zip(...) into as many names as it zips")
            names = [(t, o, False) for t, o in zip(target.elts, operands)]
        else:
            if not isinstance(target, gast.Tuple) or len(target.elts) != 2:
                raise self.error(target, "unpack enumerate(...) into two names")
            names = [(target.elts[0], None, True), (target.elts[1], operands[0], False)]
        prologue = []
        for node, seq, is_index in names:
            if not isinstance(node, gast.Name) and (
                    is_index or not isinstance(node, (gast.Tuple, gast.List))):
                raise self.error(node, "s2sad supports plain names as loop variables")

            def make(k, node=node, seq=seq, is_index=is_index):
                if not isinstance(node, gast.Name):  # for W, b in layers: the item, unpacked
                    item = self.fresh_temp().name
                    self.emit((self.bind_name(item),), rules.OPERATORS["getitem"],
                              (seq, Index((k,))), {}, node)
                    self.assign_to(node, gast.copy_location(gast.Name(
                        id=item, ctx=gast.Load(), annotation=None, type_comment=None), node))
                    return
                var = self.bind_name(node.id)
                if is_index:
                    self.emit((var,), rules.OPERATORS["copy"], (k,), {}, node)
                else:
                    self.emit((var,), rules.OPERATORS["getitem"], (seq, Index((k,))), {}, node)
            prologue.append(make)
        return iterable, prologue

    def stmt_While(self, stmt):
        if stmt.orelse:
            raise self.error(stmt, "s2sad does not support while ... else",
                             "Use a flag variable set before break instead.")
        body, exit_nodes = self.split_exits(stmt.body)
        carried = self.enter_loop(self.loop_carried(stmt))
        lists = self.lists_made_in(stmt)
        def lower_test_and_body():
            self.hide_lists(lists, self.env, _MADE_LATER_IN_LOOP)
            cond = self.condition(stmt.test)
            cond_block, self.block = self.block, []
            return cond, cond_block, self.lower_loop_body(body, exit_nodes)

        block, body_env, (cond, cond_block, exits) = self.lower_region(lower_test_and_body)
        self.hide_lists(lists, self.env, _MADE_IN_REGION)
        self.block.append(While(cond_block, cond,
                                self.finish_loop(carried, body_env, cond_block + block, stmt),
                                block, self.p.loc(stmt), exits))

    def stmt_Expr(self, stmt):
        if isinstance(stmt.value, gast.Constant):
            return  # a string used as a comment
        if self.lower_scatter_add(stmt.value):
            return
        self.statement_call = stmt.value
        self.lower_expr(stmt.value)

    def lower_scatter_add(self, node):
        """``np.add.at(a, index, g)`` or ``scatter_add(a, index, g)`` (reverse mode's in-place
        scatter) as a new version of ``a``.

        ``a_1 = a + unindex(g, a, index)`` has the same value. Generated adjoint code
        scatters into arrays it owns; reading that as a new version of ``a`` keeps the IR
        functional, so the code can be differentiated again.
        """
        if not (self.scatter_target(node) and node.args[0].id in self.env):
            return False
        target = node.args[0].id
        base, index, g = (self.lower_expr(a) for a in node.args)
        scattered = self.apply(rules.lookup(unindex), [g, base, index], {}, node, None, None)
        var = self.bind_name(target)
        self.emit((var,), rules.OPERATORS["add"], (base, scattered), {}, node,
                  in_place="np.add.at")
        return True

    def scatter_target(self, node):
        """The name ``a`` if ``node`` is ``np.add.at(a, index, g)`` or generated code's
        ``scatter_add(a, index, g)``, else None.

        (A loop whose body scatters into ``a`` carries ``a``: see :meth:`loop_carried`.)
        """
        if not (isinstance(node, gast.Call) and isinstance(node.func, (gast.Attribute, gast.Name))
                and len(node.args) == 3 and not node.keywords
                and isinstance(node.args[0], gast.Name)):
            return None
        if isinstance(node.func, gast.Name):
            function = self.scope.lookup(node.func.id) if node.func.id not in self.env else None
            return node.args[0].id if is_helper_copy(function, "scatter_add") else None
        try:
            return node.args[0].id if self.try_resolve(node.func) == np.add.at else None
        except UnsupportedSyntaxError:
            return None

    def stmt_Assign(self, stmt):
        first, *others = stmt.targets
        value = self.assign_to(first, stmt.value)
        for target in others:
            if value is None or not isinstance(target, gast.Name):
                raise self.error(target, "s2sad does not support this chained assignment")
            self.assign_to(target, None, source=value)

    def stmt_AnnAssign(self, stmt):
        if stmt.value is None:
            return
        self.assign_to(stmt.target, stmt.value)

    def stmt_AugAssign(self, stmt):
        op = _BINOPS.get(type(stmt.op))
        if isinstance(stmt.target, gast.Subscript):
            return self.write_item(stmt.target, stmt.value, op=op)
        if not isinstance(stmt.target, gast.Name):
            raise self.error(stmt.target, "s2sad does not support writing into an attribute "
                                          "(obj.a += ...)", "Use a local variable instead.")
        if op is None:  # pragma: no cover - every AugAssign operator is a BinOp operator
            raise self.error(stmt, "unsupported augmented assignment")
        left = self.name_operand(stmt.target)
        right = self.lower_expr(stmt.value)
        target = self.new_version(stmt.target.id)
        # NumPy updates an array in place; check_memory decides whether a new value is the same
        self.emit((target,), rules.OPERATORS[op], (left, right), {}, stmt,
                  in_place=in_place_text(op))
        self.env[stmt.target.id] = target

    def stmt_Return(self, stmt):
        if stmt.value is None:
            raise self.error(stmt, "a differentiated function must return a value")
        out = self.lower_expr(stmt.value, name=_RETURNED)
        if out in self.list_vars:
            raise self.list_error(stmt.value, out, "be returned")
        self.returned = out
        self.block.append(Return(out, self.p.loc(stmt)))

    def assign_to(self, target, value, source=None):
        """Assign the expression ``value`` (or the operand ``source``) to ``target``."""
        if isinstance(target, gast.Name):
            if target.id in self.list_names:
                if source is not None:
                    raise self.error(target, f"{target.id} is a list; bind it with "
                                             f"{target.id} = [] on a line of its own")
                return self.new_list(target, value)
            if source is None:
                operand = self.lower_expr(value, name=target.id)
                if isinstance(operand, Var) and self.env.get(target.id) == operand:
                    return operand
            else:
                operand = source
            var = self.bind_name(target.id)
            self.emit((var,), rules.OPERATORS["copy"], (operand,), {}, value or target)
            return var
        if isinstance(target, (gast.Tuple, gast.List)) and source is None and \
                any(isinstance(t, (gast.Tuple, gast.List)) for t in target.elts):
            # (a, b), c = v: unpack into a temporary, then unpack that
            inner = {}
            elts = []
            for t in target.elts:
                if isinstance(t, (gast.Tuple, gast.List)):
                    temp = self.fresh_temp().name
                    inner[temp] = t
                    t = gast.copy_location(gast.Name(id=temp, ctx=gast.Store(), annotation=None,
                                                     type_comment=None), t)
                elts.append(t)
            self.assign_to(gast.copy_location(gast.Tuple(elts=elts, ctx=gast.Store()), target),
                           value)
            for temp, t in inner.items():
                self.assign_to(t, gast.copy_location(gast.Name(
                    id=temp, ctx=gast.Load(), annotation=None, type_comment=None), t))
            return None
        if isinstance(target, (gast.Tuple, gast.List)):
            if not all(isinstance(t, gast.Name) for t in target.elts):
                raise self.error(target, "s2sad supports unpacking into plain names only")
            if source is None and isinstance(value, (gast.Tuple, gast.List)):
                if len(value.elts) != len(target.elts):
                    raise self.error(value, "cannot unpack: the two sides have different lengths")
                operands = [self.lower_expr(v) for v in value.elts]  # all read before any write
                for t, operand in zip(target.elts, operands):
                    var = self.bind_name(t.id)
                    self.emit((var,), rules.OPERATORS["copy"], (operand,), {}, t)
                return None
            if source is None and len(target.elts) == 1:
                # a, = t: the one element of t (one target would read as binding t itself)
                whole = self.lower_expr(value)
                self.apply(rules.OPERATORS["getitem"], [whole, Index((Const(0),))], {},
                           target.elts[0], target.elts[0].id, None)
                return None
            if source is None:
                self.lower_expr(value, names=[t.id for t in target.elts])
                return None
            raise self.error(target, "s2sad does not support this chained unpacking")
        if isinstance(target, gast.Subscript):
            return self.write_item(target, value, source=source)
        raise self.error(target, "s2sad does not support writing into an attribute (obj.a = ...)",
                         "Use a local variable instead.")

    # -- expressions ------------------------------------------------------------
    def emit(self, targets, prim, args, kwargs, node, in_place=""):
        if self.list_vars:
            operands = [p for a in list(args) + list(kwargs.values())
                        for p in (a.operands() if isinstance(a, Index) else [a])]
            self.check_list_operands(prim, operands, node)
        self.check_dict_operands(targets, prim, list(args) + list(kwargs.values()), node)
        loc = self.p.loc(node, getattr(self, "statement", None))
        self.block.append(Assign(tuple(targets), prim, tuple(args), dict(kwargs), loc, in_place))

    def check_dict_operands(self, targets, prim, operands, node):
        """A dict value (``{"W": w}``, a name bound to one) is read by key, copied, held by a
        container or passed to a function of the user's; any other operation on it is a
        located error (NumPy would read it as an object)."""
        dicts = self.dict_vars  # Var -> where the dict was made
        if prim.emit[0] == "dict" or prim.name == "copy" and operands[0] in dicts:
            dicts.update((t, dicts.get(operands[0], node) if operands else node) for t in targets)
            return
        if isinstance(prim, UserFunction) or prim.name in ("getitem", "tuple", "list") or \
                self.trusted:  # (s2sad's own code gives dicts to its helpers: unindex, ...)
            return
        for op in operands:
            if op in dicts:
                named = op.name in self.user_names
                what = self.user_names[op.name] if named else "this dict literal"
                at = next((n for n in gast.walk(node) if isinstance(n, gast.Name) and
                           n.id == what), node) if named else dicts[op]
                raise self.error(at,
                                 f"{what} is a dict: s2sad reads it by key, or passes it whole "
                                 f"to a function of yours, not to {prim.name}",
                                 "Read the values you need by key and use those.")

    def write_item(self, target, value=None, op=None, source=None):
        """``y[index] = value`` (``y[index] op= value``) as ``y_1 = setitem(y, index, v)``.

        The generated code writes in place (``y[index] = v``); the IR reads the
        write as a new version of ``y``, and ``y_old = overwritten(y, index)``
        before it keeps the values the write destroys, so reverse mode can put
        them back when its backward sweep passes the write. Only arrays this
        function allocated are written (not arguments, globals or what a call
        returned); other names sharing the array's memory (views, aliases)
        cannot be read after the write, since their values changed under them
        (both checked by :func:`s2sad.memory.check_memory`).
        """
        base = target.value
        if not isinstance(base, gast.Name):
            raise self.error(target, "s2sad writes into a named array only (y[i] = v, "
                                     "y[i, j] = v), not into an expression",
                             "Write y[i, j] = v instead of y[i][j] = v.")
        if base.id in self.list_names:
            raise self.error(target, f"{base.id} is a list; s2sad follows lists as stacks only "
                                     f"(append/pop), not item writes",
                             "Build an array (np.zeros) and write into that instead.")
        array = self.name_operand(base)
        if not isinstance(array, Var):
            raise self.error(target, f"{base.id} is a value from outside the function, so s2sad "
                                     f"does not write into it in place",
                             f"Write into a copy: {base.id} = {base.id}.copy() (or "
                             f"np.array({base.id})) first.")
        index = self.lower_index(target.slice)
        if op is not None:
            current = self.apply(rules.OPERATORS["getitem"], [array, index], {}, target, None,
                                 None)
            value = self.apply(rules.OPERATORS[op], [current, self.lower_expr(value)], {},
                               target, None, None)
        elif source is None:
            value = self.lower_expr(value)
        else:
            value = source
        old = self.new_version(f"{base.id}_old")
        self.emit((old,), rules.OPERATORS["overwritten"], (array, index), {}, target)
        new = self.bind_name(base.id)
        self.emit((new,), rules.OPERATORS["setitem"], (array, index, value), {}, target)

    def targets_for(self, name, names):
        if names is not None:
            targets = [self.new_version(n) for n in names]
            for n, t in zip(names, targets):
                self.env[n] = t
            return targets
        if name is not None:
            if name is _RETURNED:  # the returned value is named `out`, a name nobody reads
                return [self.new_version("out")]
            return [self.bind_name(name)]
        return [self.fresh_temp()]

    def lower_expr(self, node, name=None, names=None):
        """Lower ``node`` and return its operand.

        With ``name`` the last primitive assigns that user name; with ``names``
        it unpacks into several.
        """
        kind = type(node).__name__
        if isinstance(node, gast.Constant):
            return self.constant_result(Const(node.value), name, names, node)
        if isinstance(node, gast.Name):
            return self.constant_result(self.name_operand(node), name, names, node)
        if isinstance(node, gast.Dict):  # {"W": W, "b": b}: a value (inline checked its keys)
            operands = [self.lower_expr(v) for v in node.values]
            keys = tuple(k.value for k in node.keys)
            return self.apply(dict_literal(keys), operands, {}, node, name, names)
        if isinstance(node, gast.Attribute):
            resolved = self.try_resolve(node)
            if resolved is not _UNRESOLVED:
                return self.constant_result(self.global_operand(node, resolved), name, names, node)
            base = self.lower_expr(node.value)
            prim = rules.OPERATORS[node.attr] if node.attr in _ATTRIBUTES else \
                AttributeRead(node.attr)  # self.W, cfg.lam: a value, never differentiated
            return self.apply(prim, [base], {}, node, name, names)
        if isinstance(node, gast.BinOp):
            left, right = self.lower_expr(node.left), self.lower_expr(node.right)
            folded = _fold(type(node.op), left, right)
            if folded is not None:
                return self.constant_result(folded, name, names, node)
            return self.apply(rules.OPERATORS[_BINOPS[type(node.op)]], [left, right], {}, node,
                              name, names)
        if isinstance(node, gast.UnaryOp):
            operand = self.lower_expr(node.operand)
            if isinstance(operand, Const) and isinstance(node.op, (gast.USub, gast.UAdd)) \
                    and isinstance(operand.value, (int, float)) and operand.name is None:
                value = -operand.value if isinstance(node.op, gast.USub) else operand.value
                return self.constant_result(Const(value), name, names, node)
            return self.apply(rules.OPERATORS[_UNARY[type(node.op)]], [operand], {}, node,
                              name, names)
        if isinstance(node, gast.Compare):
            if len(node.ops) != 1:
                raise self.error(node, "s2sad does not support chained comparisons (a < b < c)",
                                 "Write them as separate comparisons.")
            left, right = self.lower_expr(node.left), self.lower_expr(node.comparators[0])
            return self.apply(rules.OPERATORS[_COMPARE[type(node.ops[0])]], [left, right], {},
                              node, name, names)
        if isinstance(node, gast.Call):
            return self.lower_call(node, name, names)
        if isinstance(node, gast.IfExp):
            return self.lower_conditional(node, node.test, node.body, node.orelse, name, names)
        if isinstance(node, gast.BoolOp):
            return self.lower_boolean(node, name, names)
        if isinstance(node, gast.Subscript):
            base = self.lower_expr(node.value)
            index = self.lower_index(node.slice)
            return self.apply(rules.OPERATORS["getitem"], [base, index], {}, node, name, names)
        if isinstance(node, (gast.Tuple, gast.List)):
            elts = [self.lower_expr(e) for e in node.elts]
            if all(isinstance(e, Const) for e in elts):
                values = [e.value for e in elts]
                value = tuple(values) if isinstance(node, gast.Tuple) else values
                if all(e.name is None and e.text is None for e in elts):
                    return self.constant_result(Const(value), name, names, node)
            prim = rules.OPERATORS["tuple" if isinstance(node, gast.Tuple) else "list"]
            return self.apply(prim, elts, {}, node, name, names)
        raise self.error(node, f"s2sad does not support {_describe(node)} in a differentiated "
                               f"function yet", _HINTS.get(kind, "Rewrite the expression without it."))

    def lower_boolean(self, node, name, names):
        """``a and b`` is ``b if a else a``, ``a or b`` is ``a if a else b``: b runs only if needed."""
        if names is not None:
            raise self.error(node, "s2sad cannot unpack the value of and/or")
        result = self.condition(node.values[0])
        for i, value in enumerate(node.values[1:]):
            saved_block, self.block = self.block, []
            other = self.condition(value)
            block, self.block = self.block, saved_block
            last = i == len(node.values) - 2
            (var,) = self.targets_for(name if last else None, None)
            if isinstance(node.op, gast.And):
                stmt = If(result, block, [], [(var, other, result)], self.p.loc(node))
            else:
                stmt = If(result, [], block, [(var, result, other)], self.p.loc(node))
            self.block.append(stmt)
            result = var
        return result

    def lower_conditional(self, node, test, body, orelse, name, names):
        """``body if test else orelse`` as an If region with one merged value."""
        cond = self.condition(test)
        if isinstance(cond, Const) and not isinstance(cond.value, np.ndarray):
            return self.lower_expr(body if cond.value else orelse, name, names)
        saved_block = self.block
        results = []
        blocks = []
        for branch in (body, orelse):
            self.block = []
            results.append(self.lower_expr(branch))
            blocks.append(self.block)
            if results[-1] in self.list_vars:
                raise self.list_error(branch, results[-1], "be chosen by a conditional expression")
        self.block = saved_block
        (var,) = self.targets_for(name, names) if names is None else (None,)
        if var is None:
            raise self.error(node, "s2sad cannot unpack a conditional expression")
        self.block.append(If(cond, blocks[0], blocks[1], [(var, results[0], results[1])],
                             self.p.loc(node)))
        return var

    def constant_result(self, operand, name, names, node):
        """An expression that needed no primitive; give it a statement only if it is named."""
        if name is None and names is None:
            return operand
        if name is _RETURNED:
            return operand
        return self.apply(rules.OPERATORS["copy"], [operand], {}, node, name, names)

    def apply(self, prim, args, kwargs, node, name, names):
        targets = self.targets_for(name, names)
        self.emit(targets, prim, args, kwargs, node)
        return targets[0] if len(targets) == 1 else None

    def name_operand(self, node):
        if node.id in self.env:
            value = self.env[node.id]
            if isinstance(value, _Unreadable):
                raise self.error(node, value.message, value.hint)
            return value
        if node.id in self.used and node.id in _assigned_names(self.p.node):
            raise self.error(node, f"{node.id} is read before it is assigned")
        value = self.scope.lookup(node.id)
        if value is Scope._MISSING:
            raise self.error(node, f"name {node.id!r} is not defined",
                             "Define it in the function's module or pass it as an argument.")
        return self.global_operand(node, value)

    def global_operand(self, node, value):
        """A value the function reads from its module, closure or NumPy: ``np.pi`` (and
        what builtins name) as a constant, anything else read live (:meth:`live_read`)."""
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                              np.ufunc)) or callable(value) and not isinstance(value, type):
            if isinstance(value, types.ModuleType):
                raise self.error(node, f"{_spelling(node)} is a module, not a value",
                                 "Call one of its functions, or pass the value you need as an "
                                 "argument.")
            raise self.error(
                node, f"{_spelling(node)} is a function ({type(value).__name__}) used here as a "
                      f"value, which s2sad follows only into a function of your own",
                f"Call it here ({_spelling(node)}(x)), or pass it to a function you wrote "
                f"(apply({_spelling(node)}, x)). Another library calling it (map, "
                f"functools.reduce, np.apply_along_axis) is code s2sad does not read: wrap "
                f"that call in a function with a rule, @s2sad.custom_vjp on def h(x): ... then "
                f"@h.defvjp on its derivative (README: 'Custom derivative rules').")
        text = self.spelling_of(node, value)
        if text is not None:
            return Const(value, text=text)
        chain = dotted_chain(node)
        if chain is not None and is_value(value):
            return self.live_read(node, chain)
        if isinstance(node, gast.Name):  # a class used as a value (dtype=MyType)
            return Const(value, name=node.id)
        return Const(value)

    def live_spelling(self, chain):
        """``(spelling, head)``: how generated code reads the free name ``chain`` when it
        runs. A module's member is spelled as written (``config.lam``); a global of the
        function's own module through that module (``model.lam``); a closure variable
        through ``<f>_closure``."""
        head = self.scope.lookup(chain[0])
        if isinstance(head, (types.ModuleType, LiveScope)):
            return ".".join(chain), head
        fn = self.p.fn
        if self.scope.where(chain[0]) == "closure":
            return ".".join([f"{self.p.node.name}_closure"] + chain), LiveScope(fn, closure=True)
        module = module_name_of(fn)
        if module is not None:  # the CLI's private import name -> the file's name
            module = import_name(module)
        alias = module.split(".")[-1] if module else f"{self.p.node.name}_globals"
        if alias in self.used or alias in self.callees or not alias.isidentifier():
            alias += "_module"
        return ".".join([alias] + chain), LiveScope(fn, module=module)

    def live_read(self, node, chain):
        """The Var holding the free name ``chain`` (``lam``, ``cfg.rate``), read once, at the
        top of the function, when the generated code runs (a :class:`GlobalRead`)."""
        spelling, head = self.live_spelling(chain)
        var = self.live_reads.get(spelling)
        if var is None:
            alias = spelling.split(".")[0]
            base = chain[-1] if chain[-1].isidentifier() and chain[-1] != alias else "g"
            var = self.new_version(base if base != alias else base + "_value")
            self.live_reads[spelling] = var
            loc = self.p.loc(node, getattr(self, "statement", None))
            self.hoisted.append(Assign((var,), GlobalRead(spelling, head), (), {}, loc))
        return var

    def spelling_of(self, node, value):
        """How generated code spells a global: ``np.pi``, ``math.inf``, ``float``; or None."""
        chain = dotted_chain(node)
        if chain is None:
            return None
        head = self.scope.lookup(chain[0])
        if isinstance(head, types.ModuleType):
            top = head.__name__.split(".")[0]
            if top in _SPELLED_MODULES:
                rest = head.__name__.split(".")[1:] + chain[1:]
                return ".".join([_SPELLED_MODULES[top]] + rest)
            return None
        if len(chain) == 1 and getattr(builtins, chain[0], None) is value:
            return chain[0]
        return None

    def try_resolve(self, node):
        """The value a dotted global name refers to, or _UNRESOLVED if it is not global."""
        chain = dotted_chain(node)
        if chain is None or chain[0] in self.env:
            return _UNRESOLVED
        value = self.scope.lookup(chain[0])
        if value is Scope._MISSING:
            raise self.error(node, f"name {chain[0]!r} is not defined")
        for part in chain[1:]:
            try:
                value = getattr(value, part)
            except AttributeError:
                raise self.error(node, f"{'.'.join(chain)} does not exist") from None
        return value

    # -- calls -------------------------------------------------------------------
    def lower_call(self, node, name, names):
        if any(k.arg is None for k in node.keywords):
            raise self.error(node, "s2sad does not support **kwargs in calls",
                             "Pass the arguments by name one by one.")
        # a star of a length known only when the code runs (*x.shape; known ones are
        # spliced, s2sad/starred.py): kept in a call s2sad runs as it is
        stars = tuple(i for i, a in enumerate(node.args) if isinstance(a, gast.Starred))
        func = node.func
        if isinstance(func, gast.Attribute) and self.try_resolve(func) is _UNRESOLVED:
            return self.lower_method(node, name, names)
        target = self.try_resolve(func) if isinstance(func, gast.Attribute) else None
        if isinstance(func, gast.Name):
            if func.id in self.env:
                raise self.error(func, f"{func.id} is a local value; s2sad cannot call it",
                                 "Call module-level functions only.")
            target = self.scope.lookup(func.id)
            if target is Scope._MISSING:
                raise self.error(func, f"name {func.id!r} is not defined")
        elif not isinstance(func, gast.Attribute):
            raise self.error(func, "s2sad supports calls of named functions only")
        args = [self.lower_expr(a.value if isinstance(a, gast.Starred) else a) for a in node.args]
        kwargs = {k.arg: self.lower_expr(k.value) for k in node.keywords}
        prim = primitive_of(target)  # a function with rules given by hand (s2sad.custom)
        if stars and (prim is not None or _is_user_function(target)):
            star = node.args[stars[0]]
            raise self.error(star, f"s2sad must know how many arguments *{_spelling(star.value)} "
                                   f"passes to {_spelling(func)}, which it reads",
                             "Bind the arguments to a tuple written out in the function "
                             "(args = (a, b); f(*args)), or pass them one by one.")
        if prim is None and not stars:
            prim = rules.lookup(target)
        if _is_pop_bar(target) and args and args[0] in self.list_vars and len(args) == 2 \
                and not kwargs:  # reverse mode's pop of a list of adjoints (support.pop_bar)
            return self.apply(LIST_OPS["list_pop"], args, {}, node, name, names)
        if target is tuple and len(args) == 1 and args[0] in self.list_vars and not kwargs:
            if names is not None:  # a, b = tuple(t): the snapshot, then unpacked like any tuple
                whole = self.apply(LIST_OPS["list_snapshot"], args, {}, node, None, None)
                return self.apply(rules.OPERATORS["copy"], [whole], {}, node, None, names)
            return self.apply(LIST_OPS["list_snapshot"], args, {}, node, name, names)
        if target is not len:  # a function given a list reads the elements it holds now
            args = [self.apply(LIST_OPS["list_snapshot"], [a], {}, node, None, None)
                    if a in self.list_vars else a for a in args]
            kwargs = {k: self.apply(LIST_OPS["list_snapshot"], [a], {}, node, None, None)
                      if a in self.list_vars else a for k, a in kwargs.items()}
        if prim is None and getattr(target, "__name__", None) == "stop_gradient" and \
                getattr(target, "__module__", "").startswith("s2sad"):
            prim = rules.OPERATORS["stop_gradient"]
        if prim is None and (hasattr(target, "__wrapped__") or hasattr(target, "_s2sad")):
            # (a derivative made by s2sad.grad & co. stands for its generated function; a
            # functools.wraps wrapper is differentiated as itself, see parse.unwrap)
            target = unwrap(target)
        if prim is None and _is_user_function(target):
            if getattr(target, "__name__", None) == "add_contents_bar":
                if is_helper_copy(target, "add_contents_bar"):
                    raise NoDerivativeError(
                        "s2sad cannot differentiate add_contents_bar (reverse mode's adjoint of "
                        "a list read as a whole, np.stack(t)) again", self.p.loc(node),
                        "Take this derivative to first order only, or write the values into "
                        "an array made before the loop (y = np.zeros(n); y[i] = v) instead of "
                        "a list.")
            prim = self.user_function(target)
            args = self.bind_user_call(prim, args, kwargs, node)
            kwargs = {}
        elif isinstance(prim, CustomPrimitive):  # rules get the arguments by position
            args = self.bind_user_call(prim, args, kwargs, node)
            kwargs = {}
        elif prim is None:
            spelling = self.spelling_of(func, target) or _spelling(func)
            chain = dotted_chain(func)
            head = self.scope.lookup(chain[0]) if chain and chain[0] not in self.env else None
            head = None if head is Scope._MISSING else head
            if chain and head is not None and self.scope.where(chain[0]) != "builtins" and \
                    not isinstance(head, (types.ModuleType, LiveScope)):
                # CACHE.append(x), erf(c) with erf = scipy.special.erf: reached through the
                # module (or closure) when the code runs, as the function reaches it
                spelling, head = self.live_spelling(chain)
            prim = ExternalFunction(target, spelling, head, _spelling(func), stars)
        try:
            prim.bind(args, kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot read this call: {exc}") from None
        if isinstance(prim, ExternalFunction) and node is self.statement_call and \
                name is None and names is None:  # CACHE.append(x) on a line of its own
            self.emit((), prim, args, kwargs, node)
            return None
        return self.apply(prim, args, kwargs, node, name, names)

    def user_function(self, fn):
        own = def_name(fn)
        prim = self.callees.get(own)
        if prim is None or prim.fn is not fn:
            if own in self.callees:
                raise self.error(self.p.node, f"two different functions named {own} "
                                              f"are called; s2sad needs distinct names")
            prim = UserFunction(fn)
            self.callees[own] = prim
        return prim

    def bind_user_call(self, prim, args, kwargs, node):
        try:
            bound = inspect.signature(prim.fn, follow_wrapped=False).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot call {prim.name} like this: {exc}") from None
        bound.apply_defaults()
        return [v if isinstance(v, (Var, Const)) else Const(v) for v in bound.args]

    def lower_method(self, node, name, names):
        method = node.func.attr
        if isinstance(node.func.value, gast.Name) and node.func.value.id in self.list_names:
            if method in _LIST_METHODS:
                return self.lower_list_method(node, method, name, names)
            raise self.error(node.func, f"s2sad follows the list {node.func.value.id} as a stack "
                                        f"and does not support .{method}() on it",
                             "Use .append(v), .pop(), .clear() and len().")
        if method in _LIST_METHODS:
            raise self.error(node.func, f"s2sad supports .{method}() on a list made by "
                                        f"name = [] in the function only",
                             "Make the list with name = [] (an empty list), then push onto it.")
        base = self.lower_expr(node.func.value)
        args = [self.lower_expr(a) for a in node.args]
        kwargs = {k.arg: self.lower_expr(k.value) for k in node.keywords}
        if method == "astype":
            return self.apply(rules.OPERATORS["astype"], [base] + args, kwargs, node, name, names)
        if method not in rules.METHODS:  # (each primitive's stanza names its methods)
            raise self.error(node.func, f"s2sad does not support the method .{method}()",
                             f"Supported methods: {', '.join(sorted(rules.METHODS))}, astype; "
                             f"or call the NumPy function instead.")
        if method in ("reshape", "transpose") and (len(args) > 1 or (
                len(args) == 1 and isinstance(args[0], Const) and isinstance(args[0].value, int)
                and method == "reshape")):
            args = [self.pack(args, node)]
        prim = rules.METHODS[method]
        try:
            prim.bind([base] + args, kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot read this call: {exc}") from None
        return self.apply(prim, [base] + args, kwargs, node, name, names)

    def pack(self, operands, node):
        if all(isinstance(o, Const) for o in operands):
            return Const(tuple(o.value for o in operands))
        return self.apply(rules.OPERATORS["tuple"], operands, {}, node, None, None)

    def lower_index(self, node):
        parts = node.elts if isinstance(node, gast.Tuple) else [node]
        lowered = []
        for part in parts:
            if isinstance(part, gast.Slice):
                bounds = [None if b is None else self.lower_expr(b)
                          for b in (part.lower, part.upper, part.step)]
                lowered.append(Slice(*bounds))
            else:
                lowered.append(self.lower_expr(part))
        return Index(tuple(lowered), isinstance(node, gast.Tuple))


_UNRESOLVED = object()
_LIST_METHODS = ("append", "pop", "clear")
_MADE_IN_REGION = ("{name} is a list made inside a loop or in one branch of an if; s2sad follows "
                   "a list where it is made and cannot read it after that region")
_MADE_LATER_IN_LOOP = ("{name} is read here before {name} = [] makes a new list later in this "
                       "loop; s2sad follows a list from where it is made")


class _Unreadable:
    """The value of a name where it cannot be read: a list outside the region that made it
    (see ``_Lowerer.hide_lists``)."""

    def __init__(self, message, hint=None):
        self.message = message
        self.hint = hint or "Make the list once, before the loop or the if (t = []), and " \
                            "empty it with t.clear() where a new one is needed."


_RETURNED = object()  # the name hint of a return statement's value

_HINTS = {
    "Lambda": "Write a named helper function with def instead.",
    "IfExp": "Use np.where(condition, a, b) instead.",
    "BoolOp": "Use np.logical_and / np.logical_or, or & and | on boolean arrays.",
    "ListComp": "Write the loop out, or use vectorised NumPy operations.",
    "Dict": "Pass the values as separate arguments.",
}


def _describe(node):
    names = {"IfExp": "a conditional expression (a if c else b)", "BoolOp": "and/or",
             "Lambda": "a lambda expression", "ListComp": "a list comprehension",
             "GeneratorExp": "a generator expression", "DictComp": "a dict comprehension",
             "SetComp": "a set comprehension",
             "Dict": "a dict literal", "Set": "a set literal", "JoinedStr": "an f-string",
             "Starred": "a starred expression", "NamedExpr": "an assignment expression (:=)",
             "Await": "await", "Yield": "yield", "YieldFrom": "yield from", "If": "if",
             "For": "for", "While": "while", "Break": "break", "Continue": "continue",
             "Try": "try", "With": "with", "Raise": "raise", "Assert": "assert",
             "Import": "import", "ImportFrom": "import", "Global": "global",
             "Nonlocal": "nonlocal", "Delete": "del", "FunctionDef": "nested def",
             "ClassDef": "class", "AsyncFunctionDef": "async def"}
    return names.get(type(node).__name__, type(node).__name__)


def _spelling(node):
    chain = dotted_chain(node)
    return ".".join(chain) if chain else "expression"


def _sort_key(name):
    return name


def _stores(stmts, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
               for s in stmts for n in gast.walk(s))


def _user_name(var_name, body_env, outer_env):
    """The user name whose current value in ``outer_env`` is the loop variable ``var_name``."""
    for key, value in outer_env.items():
        if isinstance(value, Var) and value.name == var_name:
            return key
    return var_name


def _assigned_names(fn_node):
    out = set()
    for n in gast.walk(fn_node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
    return out


def _is_pop_bar(obj):
    """True for :func:`s2sad.support.pop_bar` or a generated module's verbatim copy of it."""
    if getattr(obj, "__name__", None) != "pop_bar" or not inspect.isfunction(obj):
        return False
    try:
        return obj is support.pop_bar or \
            inspect.getsource(obj).strip() == inspect.getsource(support.pop_bar).strip()
    except (OSError, TypeError):
        return False


_is_user_function = is_user_function  # (s2sad.parse: one definition)


def _fold(op, left, right):
    """Fold arithmetic on two plain numeric literals (``2 * 3``); None otherwise."""
    if not (isinstance(left, Const) and isinstance(right, Const)):
        return None
    if left.name or right.name or left.text or right.text:
        return None
    a, b = left.value, right.value
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))) or \
            isinstance(a, bool) or isinstance(b, bool):
        return None
    ops = {gast.Add: lambda: a + b, gast.Sub: lambda: a - b, gast.Mult: lambda: a * b}
    if op in ops:
        return Const(ops[op]())
    return None


del math
