"""The lowerer: set-up, naming, the function, and the user's own callees.

:func:`lower` parses a function (:func:`s2sad.parse.parse_function`), runs the
front end's rewrites (:mod:`s2sad.expand`, :mod:`s2sad.inline`,
:mod:`s2sad.desugar`) and lowers it with a :class:`_Lowerer`, whose methods come
from the mixins of the package (lists, control flow, statements, expressions,
calls); here are its state, its naming of versions and temporaries, the
function's parameters and return, and :class:`UserFunction`, a call of one of the
user's own functions (whose memory summary lowers that function in turn). Unless
the function is s2sad's own generated code (``trusted``), the lowered function's
in-place effects are checked by :func:`s2sad.memory.check_memory`.

Layer 3 (front end), the top of the :mod:`s2sad.lower` package.
"""

import inspect
import threading
import weakref

import gast

from ..astutil import parameter_names, walk
from ..desugar import desugar
from ..errors import UnsupportedSyntaxError
from ..expand import expand
from ..inline import default_values, inline
from ..generated_code import is_generated
from ..ir import Const, Function, Param, Var
from ..memory import check_memory, result_memory
from ..guards import resolution_guard
from ..parse import Scope, def_name, parse_function
from ..rules.core import Primitive, rule_name
from ..structural import UserCall
from ..support import HELPERS
from .calls import _Calls
from .control import _Control
from .expressions import _Expressions
from .lists import _Lists
from .statements import _Statements


class UserFunction(Primitive):
    """A call of one of the user's own Python functions; its derivative is generated too."""

    opaque = True  # its result may be any array it was given, or a global (s2sad.memory)
    node = UserCall  # its statements (s2sad.structural)

    def __init__(self, fn):
        self.fn = fn
        sig = inspect.signature(fn, follow_wrapped=False)
        params = tuple(sig.parameters)
        defaults = {k: p.default for k, p in sig.parameters.items()
                    if p.default is not inspect.Parameter.empty}
        # its last operands (bound in the signature's order), passed by name where it is called
        self.keyword_only = tuple(k for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY)
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


def in_place_parameters(fn):
    """``(parameters, refusal)``: the parameters ``fn`` updates in place (``s += e``), which
    :func:`s2sad.memory.check_memory` refuses unless they hold numbers, and the first such
    refusal; ``(frozenset(), None)`` if there are none (or ``fn`` is refused for another
    reason, which lowering it reports)."""
    try:
        return _IN_PLACE[fn]
    except (KeyError, TypeError):
        pass
    summarising = _SUMMARISING.__dict__.setdefault("in_place", set())  # this thread's
    if fn in summarising:  # a recursive call: every parameter it updates, by its text
        node = parse_function(fn).node
        params = set(parameter_names(node.args))
        return frozenset(n.target.id for n in walk(node) if isinstance(n, gast.AugAssign)
                         and isinstance(n.target, gast.Name) and n.target.id in params), None
    summarising.add(fn)
    try:
        found, refusal = _updated_in_place(fn)
    finally:
        summarising.discard(fn)
    try:
        _IN_PLACE[fn] = (found, refusal)
    except TypeError:  # not weakly referenceable
        pass
    return found, refusal


def _updated_in_place(fn):
    found, refusal = frozenset(), None
    while True:
        try:
            lower(fn, numbers=found)
            break
        except UnsupportedSyntaxError as exc:
            arguments = getattr(exc, "arguments", None)
            if not arguments or arguments <= found:
                found, refusal = frozenset(), None
                break
            found, refusal = found | arguments, refusal or exc
    return found, refusal


_IN_PLACE = weakref.WeakKeyDictionary()  # python function -> in_place_parameters(fn)


def clear_summaries():
    """Forget what each user function's results may share memory with (s2sad.clear_cache)."""
    _RESULT_MEMORY.clear()
    _IN_PLACE.clear()


def lower(fn, trusted=None, numbers=frozenset()) -> Function:
    """Lower a Python function to SSA form.

    ``trusted``: the function is s2sad's own generated code, whose writes and restores
    are not checked (:func:`s2sad.memory.check_memory`). By default, what s2sad recorded
    when it compiled the function (:func:`s2sad.generated_code.is_generated`), never what the
    function's text says. ``numbers``: the parameters that hold Python numbers in the
    calls this form is for (their ``x += e`` rebinds ``x``; see :func:`check_memory`).
    """
    parsed = parse_function(fn)
    if trusted is None:
        trusted = is_generated(parsed.fn)
    lowerer = _Lowerer(parsed, trusted)
    lowerer.numbers = frozenset(numbers)
    return lowerer.lower()


class _Lowerer(_Lists, _Control, _Statements, _Expressions, _Calls):
    """Lowers one parsed function (see :func:`lower`); one instance per function."""

    numbers = frozenset()  # the parameters that hold Python numbers (lower's numbers)


    def __init__(self, parsed, trusted=False):
        self.p = parsed
        self.scope: Scope = parsed.scope
        self.env = {}  # user name -> current operand
        kinds = parsed.kinds  # (one walk for the passes that read the tree)
        self.used = {n.id for n in kinds(gast.Name)}
        self.used |= set(parameter_names(parsed.node.args))
        expand(parsed, self.used)  # comprehensions, sum of a generator, assert (s2sad/expand.py)
        inline(parsed, self.used)  # nested functions, lambdas, dicts (s2sad/inline.py)
        desugar(parsed.node, self.used, kinds)
        # b += e reads b: a loop carries b even where nothing reads it after the loop (else
        # each trip would update the value from before the loop, and NumPy's in-place
        # update, which the next trip sees, would not be the program s2sad follows)
        self.read = set()
        for n in kinds(gast.Name):
            self.used.add(n.id)
            if isinstance(n.ctx, gast.Load):
                self.read.add(n.id)
        self.read.update(n.target.id for n in kinds(gast.AugAssign)
                         if isinstance(n.target, gast.Name))
        self.list_names = self.find_lists()
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
        self.defining = {}  # variable name -> the Assign defining it (number_proof)

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
        self.user_names[candidate] = self.p.user_names.get(name, name)  # (not an inlined name)
        return Var(candidate)

    def bind_name(self, name):
        var = self.new_version(name)
        self.env[name] = var
        return var

    def error(self, node, message, hint=None):
        return UnsupportedSyntaxError(message, self.p.loc(node), hint)

    # -- function ---------------------------------------------------------------
    def lower(self):
        node = self.p.node
        args = node.args
        if args.vararg or args.kwarg or args.posonlyargs:
            raise self.error(node, f"s2sad does not support *args, **kwargs or positional-only "
                                   f"parameters (in {node.name})",
                             "Give the function plain or keyword-only parameters.")
        params = self.parameters()
        for param in params:
            self.defined.add(param.name)
            self.env[param.name] = Var(param.name)
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
            check_memory(fn, self.user_names, self.numbers)
        return fn

    def parameters(self):
        """The function's parameters (:class:`Param`): the plain ones, then the keyword-only
        ones, which generated code takes as plain parameters (their values in the same order).
        A default (``__defaults__``, ``__kwdefaults__``) is kept where a plain parameter can
        hold it: in the trailing run of parameters that all have one."""
        defaults = default_values(self.p.fn, self.p.node.args)
        names = parameter_names(self.p.node.args)
        params, trailing = [], True
        for name in reversed(names):
            trailing = trailing and name in defaults
            params.append(Param(name, Const(defaults[name]), True) if trailing else Param(name))
        return params[::-1]

    def check_dict_operands(self, targets, prim, operands, node):
        """A dict value (``{"W": w}``, a name bound to one) is read by key, copied, held by a
        container or passed to a function of the user's (the stanzas' ``dict_operand`` and
        ``container``); any other operation on it is a located error (NumPy would read it as
        an object)."""
        dicts = self.dict_vars  # Var -> where the dict was made
        known = rule_name(prim) is not None
        if prim.emit[0] == "dict" or known and prim.dict_operand == "alias" and \
                operands[0] in dicts:
            dicts.update((t, dicts.get(operands[0], node) if operands else node) for t in targets)
            return
        if isinstance(prim, UserFunction) or known and (prim.dict_operand or prim.container) or \
                self.trusted:  # (s2sad's own code gives dicts to its helpers: unindex, ...)
            return
        for op in operands:
            if op in dicts:
                named = op.name in self.user_names
                what = self.user_names[op.name] if named else "this dict literal"
                at = next((n for n in walk(node) if isinstance(n, gast.Name) and
                           n.id == what), node) if named else dicts[op]
                raise self.error(at,
                                 f"{what} is a dict: s2sad reads it by key, or passes it whole "
                                 f"to a function of yours, not to {prim.name}",
                                 "Read the values you need by key and use those.")

    @staticmethod
    def updated_in_place(fn):
        return in_place_parameters(fn)

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
        signature = inspect.signature(prim.fn, follow_wrapped=False)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            n = sum(p.kind is not p.KEYWORD_ONLY for p in signature.parameters.values())
            why = f"{prim.name}() takes {n} positional argument{'s' if n != 1 else ''} but " \
                  f"{len(args)} were given" if len(args) > n else str(exc)
            raise self.error(node, f"cannot call {prim.name} like this: {why}",
                             "Call it with the arguments its definition takes.") from None
        bound.apply_defaults()  # (keyword-only values too: generated code takes them by position)
        return [v if isinstance(v, (Var, Const)) else Const(v) for v in bound.arguments.values()]
