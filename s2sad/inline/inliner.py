"""The inliner: its state, its names, and the statements it rewrites.

:func:`inline` runs an :class:`_Inliner` on a parsed function when there is
anything to inline; the inliner's methods for the functions it knows and for calls
come from the package's mixins. Here are its state, its fresh names, the walk over
a function's statements (``block``, ``statement``), and the dict pass that follows
(:mod:`s2sad.inline.dicts`).

Layer 3 (front end), inside :mod:`s2sad.inline`.
"""

import copy

import gast

from ..astutil import unique_name
from ..desugar import _contains
from ..errors import UnsupportedSyntaxError
from .calls import _Calls
from .definitions import _Definitions
from .dicts import _DictReplacer
from .scopes import _located, _params, _trivial
from .small import _Small


def inline(parsed, used):
    """Rewrite ``parsed.node`` in place (see the module docstring).

    ``parsed`` is the :class:`~s2sad.parse.ParsedFunction` being lowered;
    ``used`` the set of names already taken, to which every new name is added.
    """
    inliner = _Inliner(parsed, used)
    if inliner.needed():
        inliner.run()
        parsed.kinds.stale()


class _Inliner(_Definitions, _Calls, _Small):
    """Inlines the nested functions and helpers of one function (see :func:`inline`)."""


    def __init__(self, parsed, used):
        self.p = parsed
        self.used = used
        self.scope = parsed.scope
        self.env = {}  # name -> _Fn: the functions known by name here
        self.pending = {}  # name -> node: nested functions of a scope not defined yet
        self.stack = []  # the functions being inlined (their keys), to refuse recursion
        self.helpers = {}  # Python function -> _Fn
        self.small_helpers = {}  # Python function -> whether it is small (inline.small)
        kinds = parsed.kinds
        self.f_locals = set(_params(parsed.node.args))  # the names bound here, and the
        # functions defined here
        self.f_locals.update(n.id for n in kinds(gast.Name) if not isinstance(n.ctx, gast.Load))
        self.f_locals.update(n.name for n in kinds(gast.FunctionDef))

    def error(self, node, message, hint=None):
        return UnsupportedSyntaxError(message, self.p.loc(node), hint)

    # -- names -----------------------------------------------------------------------------------
    def take(self, name):
        self.used.add(name)
        self.f_locals.add(name)
        return name

    def fresh(self, base):
        return self.take(unique_name(base, self.used, first=2))

    # -- the function ----------------------------------------------------------------------------
    def run(self):
        fn = self.p.node
        self.declare(fn.body, _params(fn.args))
        fn.body = self.block(fn.body)
        _DictReplacer(self).run(fn)

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
