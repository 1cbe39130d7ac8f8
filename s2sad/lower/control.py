"""Lowering of statements and control flow: ``if``, ``for``, ``while``, ``raise``.

:class:`_Control` dispatches a statement to its ``stmt_<Kind>`` method, lowers
each region (a branch, a loop body) into a block of its own with a copy of the
environment (``lower_region``), merges the branches of an ``if`` into the
:class:`~s2sad.ir.If`'s phi outputs (``merge``), and finds what a loop carries
(``loop_carried``) and which of its variables are private to a trip. ``break``
and ``continue`` are gone before lowering (:mod:`s2sad.desugar`). A mixin of
:class:`s2sad.lower.lowerer._Lowerer`.

Layer 3 (front end), inside :mod:`s2sad.lower`.
"""

import inspect

import gast
import numpy as np

from .. import rules
from ..astutil import walk
from ..ir import Const, For, If, Index, Raise, While
from .shared import (_MADE_IN_REGION, _MADE_LATER_IN_LOOP, _Unreadable, _describe, _sort_key,
                     _stores, _user_name)


class _Control:
    """Statements' dispatch and control flow (see the module's docstring)."""

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
        assigned = [n.id for n in walk(loop) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Store)]
        assigned += [self.scatter_target(n.value) for n in walk(loop)
                     if isinstance(n, gast.Expr) and self.scatter_target(n.value)]
        assigned += [n.value.id for n in walk(loop) if isinstance(n, gast.Subscript) and
                     isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name)]
        if isinstance(loop, gast.For):
            # the loop's own variable is carried only where something outside the loop reads
            # it: after a loop of no trips it keeps the value it had before the loop
            targets = {n.id for n in walk(loop.target) if isinstance(n, gast.Name)}
            private = self.private_loop_variables(loop, own=True)
            assigned = [n for n in assigned if n not in targets or n not in private
                        or _stores(loop.body, n)]
        private = self.private_loop_variables(loop)
        assigned = [n for n in assigned if n not in private]
        # carried where a trip reads the value before it assigns it (the previous trip's, or
        # the one from before the loop) or where something outside the loop reads it; a
        # name each trip assigns before reading it, and nothing else reads, is the trip's own
        inside = {id(n) for n in walk(loop)}
        needed = _exposed(_trip(loop), set())[0] | {
            n.id for n in walk(self.p.node) if isinstance(n, gast.Name) and
            isinstance(n.ctx, gast.Load) and id(n) not in inside}
        seen, out = set(), []
        for name in assigned:
            if name not in seen and name in self.read and name not in self.list_names and \
                    name in needed:
                seen.add(name)
                out.append(name)
        return out

    def private_loop_variables(self, loop, own=False):
        """Targets of loops nested in ``loop`` (``own``: of ``loop`` itself) that only those
        loops assign and read (a comprehension's variable is one): nothing outside sees them,
        so nothing carries them (carrying one would read it after a loop of no trips, where
        it was never set)."""
        private = set()
        for inner in ([loop] if own else walk(loop)):
            if (inner is loop) != own or not isinstance(inner, gast.For):
                continue
            inside = {id(n) for n in walk(inner)}
            for name in {n.id for n in walk(inner.target) if isinstance(n, gast.Name)}:
                uses = [n for n in walk(self.p.node) if isinstance(n, gast.Name) and
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
        kind, seqs = self.iteration_kind(it)
        operands = [self.snapshot_list(self.lower_expr(s), it) for s in seqs]
        lengths = [self.apply(rules.lookup(len), [o], {}, it, None, None) for o in operands]
        length = lengths[0]
        for other in lengths[1:]:
            length = self.apply(rules.lookup(min), [length, other], {}, it, None, None)
        bounds = [length]
        if kind == "reversed":
            last = self.apply(rules.OPERATORS["sub"], [length, Const(1)], {}, it, None, None)
            bounds = [last, Const(-1), Const(-1)]
        iterable = self.apply(rules.lookup(range), bounds, {}, it, None, None)
        names = self.loop_targets(kind, stmt.target, operands)
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

    def iteration_kind(self, it):
        """``(kind, sequences)`` of a loop's iterable other than a range: ``"plain"`` (the
        iterable itself), ``"enumerate"``, ``"zip"`` or ``"reversed"`` (their arguments)."""
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
        return kind, seqs

    def loop_targets(self, kind, target, operands):
        """``[(target node, the sequence it reads an item of or None, is it the index)]``
        for the loop variables of an iteration of ``kind``."""
        if kind in ("plain", "reversed"):
            return [(target, operands[0], False)]
        if kind == "zip":
            if not isinstance(target, gast.Tuple) or len(target.elts) != len(operands):
                raise self.error(target, "unpack zip(...) into as many names as it zips")
            return [(t, o, False) for t, o in zip(target.elts, operands)]
        if not isinstance(target, gast.Tuple) or len(target.elts) != 2:
            raise self.error(target, "unpack enumerate(...) into two names")
        return [(target.elts[0], None, True), (target.elts[1], operands[0], False)]

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


def _trip(loop):
    """The statements one trip of ``loop`` runs, in order (a while loop's test first)."""
    if isinstance(loop, gast.While):
        return [gast.Expr(value=loop.test)] + list(loop.body)
    return list(loop.body)


def _loads(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and
            isinstance(n.ctx, gast.Load)}


def _stored(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and
            isinstance(n.ctx, gast.Store)}


def _exposed(stmts, defined):
    """``(exposed, defined)``: the names ``stmts`` may read before assigning them (on some
    path), and the names surely assigned after them, given those in ``defined``. A write
    into ``y[i]`` and ``y += e`` read ``y``; a nested loop may run no trip (what it assigns
    is not surely assigned); an ``if`` surely assigns what both branches do."""
    exposed = set()
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            exposed |= _loads(stmt.test) - defined
            then, then_defined = _exposed(stmt.body, set(defined))
            other, else_defined = _exposed(stmt.orelse, set(defined))
            exposed |= then | other
            defined = then_defined & else_defined
        elif isinstance(stmt, (gast.For, gast.While)):
            head = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            exposed |= _loads(head) - defined
            inner = set(defined) | (_stored(stmt.target) if isinstance(stmt, gast.For) else set())
            exposed |= _exposed(_trip(stmt) if isinstance(stmt, gast.While) else stmt.body,
                                inner)[0]
        elif isinstance(stmt, gast.AugAssign):
            exposed |= (_loads(stmt) | _stored(stmt)) - defined
            defined |= _stored(stmt)
        else:  # an assignment reads its value (and a written array) before binding names
            exposed |= _loads(stmt) - defined
            defined |= _stored(stmt)
    return exposed, defined
