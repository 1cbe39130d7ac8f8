"""Expansion: comprehensions, ``sum`` of a generator and ``assert`` become plain statements
(and first, the object's own methods become calls of its class's functions,
:mod:`s2sad.methods`, star arguments of a known length are spliced,
:mod:`s2sad.starred`, and a dict's ``.values()`` and ``.items()`` become reads by key,
:mod:`s2sad.dict_views`).

Runs on the gast ``FunctionDef`` of the function being differentiated (and on
every nested ``def`` in it), before :mod:`s2sad.inline`, and rewrites it in place
into the loops, list appends and guards the lowering knows::

    ys = np.stack([r * w[i] for i, r in enumerate(X) if i > 0])

    ys_items = []                        # (the list, built by appends)
    for i, r in enumerate(X):
        if i > 0:
            ys_items.append(r * w[i])
    ys = np.stack(ys_items)

    total = sum(x[i] ** 2 for i in range(3))   -->   total = 0
                                                     for i in range(3):
                                                         total = total + x[i] ** 2

    assert x.ndim == 1, "x is a vector"      -->   if not x.ndim == 1:
                                                       raise AssertionError("x is a vector")

* A **list comprehension** becomes a list made by ``t = []`` and ``t.append``
  (a list s2sad follows as a stack, so what is done with it afterwards is what
  the lowering allows for such a list: ``np.stack(t)``, ``np.array(t)``,
  ``tuple(t)``, a NumPy call, ``len(t)``). Several ``for`` clauses are nested
  loops; ``if`` clauses guard the append. ``np.array([[... for j] for i])``
  makes each row an array (``np.array`` of the inner list), which gives the
  same array as NumPy makes of the nested lists. The list is built in a fresh
  ``items``, and ``name = [...]`` binds ``name`` to ``tuple(items)`` (``a, b = [...]``
  unpacks it): read as the list is read (``np.stack(name)``, ``name[0]``, ``len(name)``) and free to
  be bound again (``name = np.stack(name)``); only where the function grows
  ``name`` (``name.append``) is the list built in ``name`` itself.
* ``sum(generator or list comprehension[, start])`` is the accumulation Python
  performs, ``((start + e1) + e2) + ...`` with ``start`` 0 by default: no list.
  ``list(generator)`` and ``tuple(generator)`` are the list comprehension.
  A generator expression anywhere else is an error (``np.array`` of a generator
  is a 0-d object array in NumPy, ``np.stack`` of one a TypeError).
* A comprehension's variables are its own in Python: the loop takes the
  user's name where nothing outside the comprehension uses it, else a fresh one.
* The loop runs before the statement it was in, as Python evaluates it there;
  so a comprehension inside ``a if c else b``, a later operand of ``and``/``or``,
  a ``lambda`` or a ``while`` condition (evaluated conditionally, later or many
  times) is an :class:`~s2sad.errors.UnsupportedSyntaxError` that says to compute
  it into a variable first. Set and dict comprehensions are left for the lowering
  to refuse.
* ``assert test[, message]`` is the ``if`` and ``raise`` it means: the derivative
  functions check it in their forward sweep, as ``f`` does.
* Python's builtins of several operands are the two-operand forms s2sad has rules
  for: ``max(a, b, c)`` (or ``max([a, b, c])``) is ``max(max(a, b), c)``, which returns
  the first maximal operand as Python does (``min`` alike); ``sum([a, b, c], start)``
  (a list or tuple written out) is ``((start + a) + b) + c``, and ``(a + b) + c``
  without a start (Python's ``0 + a`` is ``a``'s value); ``pow(a, b)`` is ``a ** b``. Only the builtins themselves are rewritten:
  a function of the module named ``max`` is called as it is.

Every statement written here is located at the comprehension (or assert) it
comes from, so generated code quotes the user's line and errors point at it.
The pass changes nothing in a function without comprehensions, asserts or those builtins.

Layer 3 (front end), between :mod:`s2sad.parse` and :mod:`s2sad.inline`.
"""

import builtins

import gast
import numpy as np

from .astutil import parameter_names, unique_name, walk
from .desugar import _located, _name
from .errors import UnsupportedSyntaxError
from .parse import Scope, dotted_chain
from .methods import own_methods
from .starred import splice_starred
from .dict_views import read_dict_views

_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp)
_LATER = "s2sad writes a comprehension as a loop that runs before its statement"


def expand(parsed, used):
    """Rewrite ``parsed.node`` in place (see the module docstring).

    ``used`` is the set of names already taken, to which every new name is added.
    """
    node, kinds = parsed.node, parsed.kinds
    if own_methods(parsed.fn, node):  # self.predict(x) is Model.predict(self, x) (s2sad/methods.py)
        kinds.stale()
    splice_starred(node, kinds)  # f(*args) of a known length is f(args[0], args[1]) (s2sad/starred.py)
    read_dict_views(node, parsed.scope, used, kinds)  # d.values() is [d[k] for k in d.keys()]
    if not kinds(*_EXPANDED) and not any(
            isinstance(n.func, gast.Name) and n.func.id in _FOLDED and not n.keywords
            for n in kinds(gast.Call)):  # (_call_of, of any name in _FOLDED)
        return
    _Expander(parsed, used).function(node)
    kinds.stale()


_FOLDED = ("max", "min", "sum", "pow")  # builtins of several operands (_Expander.builtin_fold)
_EXPANDED = _COMPREHENSIONS + (gast.Assert,)  # with calls of _FOLDED, what expand rewrites


def _call_of(node, name):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == name and not node.keywords


def _reads(nodes, name):
    return any(isinstance(n, gast.Name) and n.id == name
               for node in nodes for n in walk(node))


class _Expander:
    def __init__(self, parsed, used):
        self.p = parsed
        self.used = used
        self.outside = self.names_outside_comprehensions(parsed.node)
        self.targets = []  # the (renamed) variables of the comprehensions being expanded

    def error(self, node, message, hint=None):
        return UnsupportedSyntaxError(message, self.p.loc(node), hint)

    @staticmethod
    def names_outside_comprehensions(fn):
        names, stack = set(parameter_names(fn.args)), list(fn.body)
        while stack:
            node = stack.pop()
            if isinstance(node, _COMPREHENSIONS + (gast.SetComp, gast.DictComp)):
                stack.extend(g.iter for g in node.generators[:1])
                continue
            if isinstance(node, gast.Name):
                names.add(node.id)
            stack.extend(gast.iter_child_nodes(node))
        return names

    def fresh(self, base):
        candidate = unique_name(base, self.used | self.outside, first=2)
        self.used.add(candidate)
        return candidate

    # -- statements ------------------------------------------------------------------------------
    def function(self, fn):
        self.fold_everywhere(fn)
        fn.body = self.block(fn.body)

    def fold_everywhere(self, fn):
        """Fold the builtins of several operands (:meth:`builtin_fold`) wherever they stand:
        a fold needs no statement before its own, so a later operand of ``and``/``or``, a
        branch of ``a if c else b``, a ``while`` condition or a lambda get it too."""
        expander = self

        class Fold(gast.NodeTransformer):
            def visit_Call(self, node):
                self.generic_visit(node)
                folded = expander.builtin_fold(node)
                return node if folded is None else folded

        Fold().visit(fn)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        if isinstance(stmt, gast.FunctionDef):
            self.function(stmt)
            return [stmt]
        if isinstance(stmt, gast.Assert):
            return self.assertion(stmt)
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, self.block(getattr(stmt, field)))
        if isinstance(stmt, gast.Try):
            for handler in stmt.handlers:
                handler.body = self.block(handler.body)
        pre = []
        if isinstance(stmt, gast.While):
            self.refuse_inside(stmt.test, "a while condition (evaluated before every trip)")
        elif isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and self.is_expandable(stmt.value):
            name = stmt.targets[0].id
            a_list = isinstance(stmt.value, gast.ListComp) or self.is_builtin(stmt.value, "list")
            into = name if name not in self.targets and not _reads([stmt.value], name) and (
                not a_list or self.used_as_stack(name)) else None
            stmt.value = self.expression(stmt.value, pre, into=into)
            if isinstance(stmt.value, gast.Name) and stmt.value.id == name:
                return pre  # built in name itself: `name = name` would say nothing
            if a_list:  # name = tuple(items): read like a list, and free to be bound again
                stmt.value = gast.copy_location(
                    gast.Call(func=_name("tuple"), args=[stmt.value], keywords=[]), stmt.value)
        elif isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], (gast.Tuple, gast.List)) and \
                self.is_expandable(stmt.value):  # a, b = [...]: unpacked from tuple(items)
            a_list = isinstance(stmt.value, gast.ListComp) or self.is_builtin(stmt.value, "list")
            stmt.value = self.expression(stmt.value, pre)
            if a_list:
                stmt.value = gast.copy_location(
                    gast.Call(func=_name("tuple"), args=[stmt.value], keywords=[]), stmt.value)
        else:
            self.children(stmt, pre)
        return pre + [stmt]

    def used_as_stack(self, name):
        """True if the function calls ``name.append``/``.pop``/``.clear``: a list it grows."""
        return any(isinstance(n, gast.Attribute) and isinstance(n.value, gast.Name) and
                   n.value.id == name and n.attr in ("append", "pop", "clear")
                   for n in walk(self.p.node))

    def assertion(self, stmt):
        """``assert test, msg`` -> ``if not test: raise AssertionError(msg)``."""
        pre = []
        test = self.expression(stmt.test, pre)
        message = [self.expression(stmt.msg, pre)] if stmt.msg is not None else []
        error = gast.Call(func=_name("AssertionError"), args=message, keywords=[])
        guard = gast.If(test=gast.UnaryOp(op=gast.Not(), operand=test),
                        body=[_located(gast.Raise(exc=error, cause=None), stmt)], orelse=[])
        return pre + [_located(guard, stmt)]

    # -- expressions -----------------------------------------------------------------------------
    def is_expandable(self, node):
        return isinstance(node, gast.ListComp) or (
            (self.is_builtin(node, "sum") or self.is_builtin(node, "list") or
             self.is_builtin(node, "tuple"))
            and node.args and isinstance(node.args[0], _COMPREHENSIONS))

    def children(self, node, pre):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, self.expression(value, pre))
            elif isinstance(value, list):
                setattr(node, field, [self.expression(v, pre) if isinstance(v, gast.AST) and
                                      not isinstance(v, gast.stmt) else v for v in value])

    def expression(self, node, pre, into=None):
        """``node`` with its comprehensions replaced by names of values ``pre`` computes."""
        if isinstance(node, gast.IfExp):
            node.test = self.expression(node.test, pre)
            self.refuse_inside(node.body, "a branch of `a if c else b`")
            self.refuse_inside(node.orelse, "a branch of `a if c else b`")
            return node
        if isinstance(node, gast.BoolOp):
            node.values[0] = self.expression(node.values[0], pre)
            for value in node.values[1:]:
                self.refuse_inside(value, "a later operand of and/or")
            return node
        if isinstance(node, gast.Lambda):
            self.refuse_inside(node.body, "a lambda")
            return node
        folded = self.builtin_fold(node)
        if folded is not None:
            return self.expression(folded, pre, into)
        if self.is_builtin(node, "sum") and 1 <= len(node.args) <= 2 and \
                isinstance(node.args[0], _COMPREHENSIONS):
            start = self.expression(node.args[1], pre) if len(node.args) == 2 else \
                gast.copy_location(gast.Constant(value=0, kind=None), node)
            return self.accumulate(node.args[0], start, pre, into)
        if (self.is_builtin(node, "list") or self.is_builtin(node, "tuple")) and len(node.args) == 1 and \
                isinstance(node.args[0], _COMPREHENSIONS):  # (list([...]) is the list's copy)
            a_list = self.is_builtin(node, "list")
            items = self.collect(node.args[0], pre, into if a_list else None)
            return items if a_list else \
                gast.copy_location(gast.Call(func=node.func, args=[items], keywords=[]), node)
        if self.makes_an_array(node) and node.args and isinstance(node.args[0], gast.ListComp):
            inner = node.args[0]
            if isinstance(inner.elt, gast.ListComp):  # np.array([[... for j] for i]): rows
                inner.elt = gast.copy_location(
                    gast.Call(func=node.func, args=[inner.elt], keywords=[]), inner.elt)
        if isinstance(node, gast.ListComp):
            return self.collect(node, pre, into)
        if isinstance(node, gast.GeneratorExp):
            raise self.error(node, "s2sad supports a generator expression as the argument of "
                                   "sum(), list() or tuple() only",
                             "Use a list comprehension [...] (np.array and np.stack take a "
                             "list, not a generator).")
        self.children(node, pre)
        return node

    def is_builtin(self, node, name):
        """True if ``node`` calls Python's builtin ``name`` (not a function of the module so
        named), with positional arguments only."""
        return _call_of(node, name) and self.p.scope.lookup(name) is getattr(builtins, name)

    def builtin_fold(self, node):
        """``max``/``min`` of several operands, ``sum`` of a list written out and ``pow`` as
        the two-operand calls and operators they are (see the module's docstring), or None."""
        args = node.args if isinstance(node, gast.Call) else []
        if any(isinstance(a, gast.Starred) for a in args):
            return None
        if self.is_builtin(node, "pow") and len(args) == 2:
            return gast.copy_location(gast.BinOp(left=args[0], op=gast.Pow(), right=args[1]), node)
        for name in ("max", "min"):
            if not self.is_builtin(node, name):
                continue
            if len(args) == 1 and isinstance(args[0], (gast.List, gast.Tuple)) and \
                    len(args[0].elts) >= 2:
                args = args[0].elts
            if len(args) <= 2 or any(isinstance(a, gast.Starred) for a in args):
                return None if args is node.args else \
                    gast.copy_location(gast.Call(func=node.func, args=list(args), keywords=[]), node)
            result = args[0]
            for arg in args[1:]:
                result = gast.copy_location(gast.Call(func=node.func, args=[result, arg], keywords=[]),
                                            node)
            return result
        if self.is_builtin(node, "sum") and 1 <= len(args) <= 2 and \
                isinstance(args[0], (gast.List, gast.Tuple)) and \
                not any(isinstance(e, gast.Starred) for e in args[0].elts):
            elts = list(args[0].elts)
            # (without a start, 0 + a + b is a + b; a one-element sum is still a new value)
            result = args[1] if len(args) == 2 else \
                elts.pop(0) if len(elts) >= 2 else gast.Constant(value=0, kind=None)
            for elt in elts:
                result = gast.copy_location(gast.BinOp(left=result, op=gast.Add(), right=elt), node)
            return gast.copy_location(result, node)
        return None

    def makes_an_array(self, node):
        """True for a call of ``np.array``/``np.asarray`` (as the function's module names it)."""
        chain = dotted_chain(node.func) if isinstance(node, gast.Call) else None
        if not chain:
            return False
        value = self.p.scope.lookup(chain[0])
        for part in chain[1:]:
            value = getattr(value, part, Scope._MISSING)
        return value is np.array or value is np.asarray

    def refuse_inside(self, node, where):
        for inner in walk(node):
            if isinstance(inner, _COMPREHENSIONS):
                raise self.error(inner, f"{_LATER}, so it cannot be inside {where}",
                                 "Compute it into a variable in a statement of its own.")

    # -- comprehensions --------------------------------------------------------------------------
    def collect(self, comp, pre, into):
        """The list ``[elt for ...]`` built in ``pre``; returns a Name of it."""
        items = into or self.fresh("items")
        pre.append(_located(gast.Assign(targets=[_name(items, store=True)],
                                        value=gast.List(elts=[], ctx=gast.Load()),
                                        type_comment=None), comp))

        def innermost(elt):
            append = gast.Call(func=gast.Attribute(value=_name(items), attr="append",
                                                   ctx=gast.Load()), args=[elt], keywords=[])
            return _located(gast.Expr(value=append), comp)

        self.loops(comp, innermost, pre)
        return gast.copy_location(_name(items), comp)

    def accumulate(self, comp, start, pre, into):
        """``sum(elt for ...)`` accumulated in ``pre``; returns a Name of the total."""
        total = into or self.fresh("total")
        pre.append(_located(gast.Assign(targets=[_name(total, store=True)], value=start,
                                        type_comment=None), comp))

        def innermost(elt):
            step = gast.BinOp(left=_name(total), op=gast.Add(), right=elt)
            return _located(gast.Assign(targets=[_name(total, store=True)], value=step,
                                        type_comment=None), comp)

        self.loops(comp, innermost, pre)
        return gast.copy_location(_name(total), comp)

    def loops(self, comp, innermost, pre):
        """Append to ``pre`` the nested loops of ``comp`` with ``innermost(elt)`` inside."""
        renames = {}
        for generator in comp.generators:
            if generator.is_async:
                raise self.error(comp, "s2sad does not support async comprehensions")
            for name in (n for n in walk(generator.target) if isinstance(n, gast.Name)):
                keep = name.id not in self.outside and name.id not in self.targets and \
                    name.id not in renames.values()
                renames[name.id] = name.id if keep else self.fresh(f"{name.id}_")
        self.targets.extend(renames.values())
        body = [comp.elt] + [g.target for g in comp.generators] + \
            [g.iter for g in comp.generators[1:]] + [c for g in comp.generators for c in g.ifs]
        for node in body:
            for name in walk(node):
                if isinstance(name, gast.Name) and name.id in renames:
                    name.id = renames[name.id]
        statements = [innermost(comp.elt)]
        for generator in reversed(comp.generators):
            for condition in reversed(generator.ifs):
                statements = [_located(gast.If(test=condition, body=statements, orelse=[]),
                                       comp)]
            loop = gast.For(target=generator.target, iter=generator.iter, body=statements,
                            orelse=[], type_comment=None)
            statements = [_located(loop, comp)]
        pre.extend(self.block(statements))  # the comprehensions inside, and the first iterable
        del self.targets[len(self.targets) - len(renames):]
