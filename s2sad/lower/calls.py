"""Lowering of names, calls and methods: what a free name or a callee is.

:class:`_Calls` resolves a name in the function's own environment, or in its
module or closure (:class:`~s2sad.parse.Scope`): data becomes a
:class:`~s2sad.lower.primitives.GlobalRead` hoisted to the top of the function,
NumPy's and math's members become their primitives, a function s2sad has no rule
for an :class:`~s2sad.lower.primitives.ExternalFunction`; a call becomes its rule's
primitive, a custom rule's, a user function's (``user_function``, on the
lowerer) or an external call; ``x.method(...)`` becomes its rule's primitive or a
list statement. A mixin of :class:`s2sad.lower.lowerer._Lowerer`.

Layer 3 (front end), inside :mod:`s2sad.lower`.
"""

import builtins
import inspect
import numbers
import types

import gast
import numpy as np

from .. import rules
from ..astutil import parameter_names
from ..custom import CustomPrimitive, import_name, primitive_of
from ..errors import NoDerivativeError
from ..ir import Assign, Const, Index, Slice, Var
from ..parse import LiveScope, Scope, dotted_chain, is_value, module_name_of, unwrap
from ..rules.core import rule_name
from ..rules.operators import LIST_OPS
from ..rules.support_rules import is_helper_copy
from .primitives import ExternalFunction, GlobalRead
from .shared import (_LIST_METHODS, _SPELLED_MODULES, _UNRESOLVED, _Unreadable, _assigned_names,
                     _NOT_AGAIN, _is_user_function, _spelling)


class _Calls:
    """Names, calls and methods (see the module's docstring)."""

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
        target = self.call_target(func)
        args = [self.lower_expr(a.value if isinstance(a, gast.Starred) else a) for a in node.args]
        kwargs = {k.arg: self.lower_expr(k.value) for k in node.keywords}
        prim = primitive_of(target)  # a function with rules given by hand (s2sad.custom)
        if stars and (prim is not None or _is_user_function(target)):
            star = node.args[stars[0]]
            raise self.error(star, f"s2sad must know how many arguments *{_spelling(star.value)} "
                                   f"passes to {_spelling(func)}, which it reads",
                             "Bind the arguments to a tuple written out in the function "
                             "(args = (a, b); f(*args)), or pass them one by one.")
        if target is builtins.sum and not kwargs and not stars and 1 <= len(args) <= 2 and \
                args[0] not in self.list_vars:  # sum(t) of a tuple (list) of a known length
            total = self.lower_sum_of_sequence(args[0], args[1] if len(args) == 2 else None,
                                               node, name, names)
            if total is not None:
                return total
        if len(args) == 1 and not kwargs and not stars:  # np.where(c), reversed(t), max(t)
            target, prim, reversed_ = self.one_operand_spelling(target, prim, node.args[0])
            if reversed_ is not None:
                return self.apply(rules.OPERATORS["getitem"], [args[0], reversed_], {}, node,
                                  name, names)
        if prim is None and not stars:
            prim = rules.lookup(target)
        if is_helper_copy(target, "add_contents_bar") and len(args) == 2 and not kwargs and \
                args[0] in self.list_vars:  # reverse mode's adjoint of a snapshot, on t_bar
            args = args + [self.length(args[0], node)]
            if name is None and names is None:  # a statement of its own: no result
                self.emit((), LIST_OPS["list_add_contents"], args, {}, node)
                return None
            return self.apply(LIST_OPS["list_add_contents"], args, {}, node, name, names)
        if is_helper_copy(target, "pop_bar") and len(args) == 2 and not kwargs and \
                args[0] in self.list_vars:  # reverse mode's pop of a list of adjoints, on t_bar
            return self.apply(LIST_OPS["list_pop"], args + [self.length(args[0], node)], {},
                              node, name, names)
        if target is tuple and len(args) == 1 and args[0] in self.list_vars and not kwargs:
            if names is not None:  # a, b = tuple(t): the snapshot, then unpacked like any tuple
                whole = self.apply(LIST_OPS["list_snapshot"], args, {}, node, None, None)
                return self.apply(rules.OPERATORS["copy"], [whole], {}, node, None, names)
            return self.apply(LIST_OPS["list_snapshot"], args, {}, node, name, names)
        if target is not len:  # a function given a list reads the elements it holds now
            args, kwargs = self.snapshot_lists(args, kwargs, node)
        prim, args, kwargs = self.call_primitive(prim, target, func, args, kwargs, node, stars)
        self.check_bound(prim, args, kwargs, node)
        if isinstance(prim, ExternalFunction) and node is self.statement_call and \
                name is None and names is None:  # CACHE.append(x) on a line of its own
            self.emit((), prim, args, kwargs, node)
            return None
        return self.apply(prim, args, kwargs, node, name, names)

    def length(self, t, node):
        """``len(t)`` of the list ``t`` before a statement on it that reverse mode's adjoint
        reads it for (its last operand): how many elements add_contents_bar found, whether
        pop_bar popped (known when the code runs only)."""
        return self.apply(rules.lookup(len), [t], {}, node, None, None)

    def one_operand_spelling(self, target, prim, operand):
        """``(target, prim, index)`` for a call of one operand: ``np.where(c)`` alone is
        ``np.nonzero(c)``, ``max(t)``/``min(t)`` of one iterable their own primitives, and
        ``reversed(t)`` (but a loop's ``reversed(range(n))``) the index ``t[::-1]``."""
        if target is np.where:
            return np.nonzero, prim, None  # the indices where it holds
        if target is builtins.reversed and not _is_range(operand):  # the same values in order
            return target, prim, Index((Slice(None, None, Const(-1)),))
        if (target is builtins.max or target is builtins.min) and prim is None:
            return target, rules.OPERATORS[f"{target.__name__}_of"], None
        return target, prim, None

    def check_bound(self, prim, args, kwargs, node):
        """Raise unless the call's operands fit ``prim``'s parameters, or if it has ``out=``
        (its value would be the array's before the call: s2sad does not follow the write) or
        ``overwrite_input=`` other than False (``np.median`` may reorder its operand)."""
        try:
            bound = prim.bind(args, kwargs)
        except TypeError as exc:
            raise self.error(node, f"cannot read this call: {exc}") from None
        for param, harmless, what, hint, only in _WRITING_ARGUMENTS:
            given = bound.get(param) if rule_name(prim) and only in (None, prim.name) else None
            # (a rule's own parameter)
            if given is not None and not (isinstance(given, Const) and given.value is harmless):
                raise self.error(node, f"s2sad does not follow {prim.name}(..., {param}=...), "
                                       f"which {what}", hint)

    def call_target(self, func):
        """The object a call's function (a name or a dotted chain) refers to."""
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
        return target

    def snapshot_lists(self, args, kwargs, node):
        """A call's operands, each list among them replaced by a snapshot of it."""
        return [self.snapshot_list(a, node) for a in args], \
            {k: self.snapshot_list(a, node) for k, a in kwargs.items()}

    def lower_in_place_method(self, node, method, base, args, kwargs):
        """``y.sort(axis)`` and ``y.fill(v)`` on a line of their own: the writes
        ``y[...] = np.sort(y, axis)`` and ``y[...] = v`` (checked like any write: ``y`` must
        be an array the function made, and no view of it read afterwards)."""
        if method == "fill":
            if len(args) != 1 or kwargs:
                raise self.error(node, ".fill() takes one value")
            value = args[0]
        else:
            value = self.apply(rules.lookup(_IN_PLACE[method]), [base] + args, kwargs, node,
                               None, None)
        whole = gast.Subscript(value=node.func.value, slice=gast.Constant(value=Ellipsis,
                                                                          kind=None),
                               ctx=gast.Store())
        self.write_item(gast.copy_location(whole, node), source=value)
        return None

    def snapshot_list(self, operand, node):
        """A snapshot of ``operand`` if it is a list (its elements now, a tuple), else itself:
        what a call, an index (``hs[-1]``) or a loop (``for h in hs``) reads of a list."""
        if isinstance(operand, Var) and operand in self.list_vars:
            return self.apply(LIST_OPS["list_snapshot"], [operand], {}, node, None, None)
        return operand

    def call_primitive(self, prim, target, func, args, kwargs, node, stars=()):
        """``(primitive, args, kwargs)`` of a call of ``target``: its rule's or custom rule's
        primitive, a user function's (the arguments bound by position) or, for a function
        s2sad has no rule for, an :class:`ExternalFunction` spelled as the code reaches it."""
        if prim is None and getattr(target, "__name__", None) == "stop_gradient" and \
                getattr(target, "__module__", "").startswith("s2sad"):
            prim = rules.OPERATORS["stop_gradient"]
        if prim is None and (hasattr(target, "__wrapped__") or hasattr(target, "_s2sad")):
            # (a derivative made by s2sad.grad & co. stands for its generated function; a
            # functools.wraps wrapper is differentiated as itself, see parse.unwrap)
            target = unwrap(target)
        if prim is None and _is_user_function(target):
            helper = getattr(target, "__name__", None)
            if helper in _NOT_AGAIN and is_helper_copy(target, helper):
                raise NoDerivativeError(
                    f"s2sad cannot differentiate {helper} ({_NOT_AGAIN[helper]}) again",
                    self.p.loc(node),
                    "Take fewer derivatives through this list, or write the values into "
                    "an array made before the loop (y = np.zeros(n); y[i] = v) instead of "
                    "a list.")
            prim = self.user_function(target)
            args = self.bind_user_call(prim, args, kwargs, node)
            self.check_numbers_passed(target, args, node)
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
        return prim, args, kwargs

    def check_numbers_passed(self, target, args, node):
        """A helper that updates a parameter in place (``s += e``) is given a number there,
        for which that is rebinding: proven from the operand (:meth:`number_proof`), or
        required of the caller's arguments when it is called (the refusal's ``arguments``,
        s2sad.cache.compiled); else the helper's located refusal."""
        updated, refusal = self.updated_in_place(target)
        if not updated:
            return
        params, needs = list(inspect.signature(target).parameters), set()
        for fact in updated:  # "s" (s is a number) or "x.ndim=1" (x is an array of 1 axis)
            name, _, rank = fact.partition(".ndim=")
            operand = args[params.index(name)]
            need = self.number_proof(operand) if not rank else \
                frozenset({f"{operand.name}.ndim={rank}"}) if self.is_argument(operand) else None
            if need is None:
                raise self.refusal(refusal, target, name, node)
            needs |= need
        if not needs <= self.numbers:
            error = self.refusal(refusal, target, sorted(needs - self.numbers)[0], node)
            error.arguments = frozenset(needs - self.numbers)
            raise error

    def refusal(self, refusal, target, name, node):
        """The helper's own refusal of its update in place (a fresh copy), or for a recursive
        call (``refusal`` None) an error at the call."""
        if refusal is not None:
            return type(refusal)(refusal.message, refusal.loc, refusal.hint)
        return self.error(node, f"s2sad cannot tell that this call of {_spelling(node.func)} "
                                f"gives it a number for {name}, which it updates in place",
                          f"Write {name} = {name} + ... in {_spelling(node.func)}.")

    def is_argument(self, operand):
        """True if ``operand`` is one of this function's arguments, as it was passed."""
        return isinstance(operand, Var) and operand.name not in self.defining and \
            operand.name in parameter_names(self.p.node.args)

    def number_proof(self, operand):
        """What makes ``operand`` a number (immutable): ``frozenset()`` if it surely is (a
        literal), else the facts about this function's arguments it needs (``"c"``: the
        argument c is a number; ``"x.ndim=1"``: x is an array of one axis, so x[2] is a NumPy
        scalar), or None if s2sad cannot tell. Arithmetic and math functions of numbers are
        numbers."""
        if isinstance(operand, Const):
            immutable = isinstance(operand.value, (numbers.Number, np.generic))
            return frozenset() if immutable and not isinstance(operand.value, np.ndarray) \
                else None
        if not isinstance(operand, Var):
            return None
        if self.is_argument(operand):
            return frozenset({operand.name})  # the argument itself (a new value is renamed)
        stmt = self.defining.get(operand.name)
        if stmt is None or len(stmt.targets) != 1:
            return None
        if stmt.prim is rules.OPERATORS["getitem"] and self.is_argument(stmt.args[0]) and \
                isinstance(stmt.args[1], Index):
            parts = stmt.args[1].parts
            if all(isinstance(p, Const) and type(p.value) is int for p in parts):
                return frozenset({f"{stmt.args[0].name}.ndim={len(parts)}"})
            return None
        if rule_name(stmt.prim) and (stmt.prim.scalar_result or stmt.prim.elementwise and
                     stmt.prim.emit[0] in ("binop", "unary", "copy")):  # of numbers, a number
            proofs = [self.number_proof(a) for a in stmt.args]
            return None if any(p is None for p in proofs) or stmt.kwargs else \
                frozenset().union(*proofs)
        return None

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
            prim = rules.OPERATORS["astype"]
            try:
                prim.bind([base] + args, kwargs)
            except TypeError as exc:  # (copy=False would make an alias)
                raise self.error(node, f"cannot read this call: {exc}",
                                 "Write x.astype(dtype), which makes a new array.") from None
            return self.apply(prim, [base] + args, kwargs, node, name, names)
        if method in _IN_PLACE and isinstance(node.func.value, gast.Name) and \
                node is self.statement_call and name is None and names is None:
            return self.lower_in_place_method(node, method, base, args, kwargs)
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


# arguments by which a NumPy function writes into an array it is given: (parameter, the value
# that writes nothing, what it does, what to write instead, the one function it is about or
# None for any)
_WRITING_ARGUMENTS = (
    ("out", None, "writes its result into an existing array",
     "Assign the result instead (z = np.sum(x)), or write it in with an assignment s2sad "
     "follows (z[...] = np.sum(x)).", None),
    ("overwrite_input", False, "may reorder its operand in place",
     "Leave overwrite_input out: the result is the same, and the operand keeps its values "
     "for the derivative.", None),
    ("copy", True, "replaces the operand's entries in place and returns the operand itself",
     "Leave copy out (a new array): y = np.nan_to_num(x).", "np.nan_to_num"))
# y.sort(...) is y[...] = np.sort(y, ...), y.fill(v) is y[...] = v: writes s2sad follows
_IN_PLACE = {"sort": np.sort, "fill": None}


def _is_range(node):
    """True for a call ``range(...)`` (``reversed(range(n))`` is a loop's own header)."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == "range"
