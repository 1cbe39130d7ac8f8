"""Lowering of simple statements: assignments, writes into arrays, returns.

:class:`_Statements` lowers ``z = e`` (the last primitive of ``e`` writes ``z``),
``x += e`` (``x_1 = x + e`` marked ``in_place``), ``y[index] = v`` (``y_old =
overwritten(y, index)`` then ``y_1 = setitem(y, index, v)``, :meth:`write_item
<_Statements.write_item>`), ``np.add.at``/``scatter_add`` as a new version of the
array, and ``return``; :meth:`emit <_Statements.emit>` appends one
:class:`~s2sad.ir.Assign` (of the primitive's node class, ``prim.node``: a
:class:`~s2sad.structural.WriteItem`, a :class:`~s2sad.structural.Call`, ...; see
:mod:`s2sad.structural`) after checking its list and dict operands. Whether the
in-place effects keep NumPy's meaning is decided later, on the whole function, by
:func:`s2sad.memory.check_memory`. A mixin of :class:`s2sad.lower.lowerer._Lowerer`.

Layer 3 (front end), inside :mod:`s2sad.lower`.
"""

import gast
import numpy as np

from .. import rules
from ..astutil import walk
from ..errors import UnsupportedSyntaxError
from ..ir import Const, Index, Return, Var
from ..memory import in_place_text
from ..rules.support_rules import is_helper_copy
from ..support import unindex
from .shared import _BINOPS, _RETURNED


class _Statements:
    """Assignments, array writes, returns (see the module's docstring)."""

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
        joined = self.joins(op, left, right) and self.sequence_kind(left) == "tuple"
        if joined:  # t += (v,): a new tuple (a list's += extends it, in place: not joined here)
            value = (left, right) if op == "add" else \
                (self.lower_join(op, left, right, stmt, None, None),)
            self.emit((target,), rules.OPERATORS["join" if op == "add" else "copy"], value, {},
                      stmt)
        else:  # NumPy updates an array in place; check_memory decides whether a new value is the same
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
            return self.unpack_nested(target, value)
        if isinstance(target, (gast.Tuple, gast.List)) and source is None and \
                any(isinstance(t, gast.Starred) for t in target.elts):
            return self.unpack_starred(target, value)
        if isinstance(target, (gast.Tuple, gast.List)) and source is None and \
                isinstance(value, (gast.Tuple, gast.List)) and \
                len(value.elts) == len(target.elts) and \
                all(isinstance(t, (gast.Name, gast.Subscript)) for t in target.elts):
            # a, y[0] = y[0], a: every value read before any write, then each target in turn
            operands = [self.lower_expr(v) for v in value.elts]
            for t, operand in zip(target.elts, operands):
                self.assign_to(t, None, source=operand)
            return None
        if isinstance(target, (gast.Tuple, gast.List)):
            if not all(isinstance(t, gast.Name) for t in target.elts):
                raise self.error(target, "s2sad supports unpacking into plain names and, from "
                                         "a tuple written out, into elements (y[0], y[1] = ...)")
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

    def emit(self, targets, prim, args, kwargs, node, in_place=""):
        if self.list_vars:
            operands = [p for a in list(args) + list(kwargs.values())
                        for p in (a.operands() if isinstance(a, Index) else [a])]
            self.check_list_operands(prim, operands, node)
        self.check_dict_operands(targets, prim, list(args) + list(kwargs.values()), node)
        loc = self.p.loc(node, getattr(self, "statement", None))
        self.block.append(prim.node(tuple(targets), prim, tuple(args), dict(kwargs), loc, in_place))
        self.defining.update((t.name, self.block[-1]) for t in targets)

    def unpack_nested(self, target, value):
        """``(a, b), c = v``: unpack into a temporary, then unpack that."""
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

    def unpack_starred(self, target, value):
        """``x, *_ = v`` (``a, *rest, b = v``) where nothing reads the starred name: the other
        names are ``v``'s elements from either end (``v[0]``, ``v[-1]``). A starred name that
        is read would be a list made when the code runs, which s2sad does not follow."""
        elts = target.elts
        starred = [k for k, t in enumerate(elts) if isinstance(t, gast.Starred)]
        rest = elts[starred[0]].value
        if len(starred) > 1 or not all(isinstance(t, gast.Name) for k, t in enumerate(elts)
                                       if k != starred[0]) or not isinstance(rest, gast.Name):
            raise self.error(target, "s2sad supports unpacking into plain names only")
        if any(isinstance(n, gast.Name) and n.id == rest.id and isinstance(n.ctx, gast.Load)
               for n in walk(self.p.node)):
            raise self.error(elts[starred[0]], f"s2sad unpacks into *{rest.id} only where nothing "
                                               f"reads {rest.id} (x, *_ = v)",
                             f"Index the values you need instead ({rest.id} = v[1:]).")
        whole = self.lower_expr(value)
        for k, t in enumerate(elts):
            if k != starred[0]:
                index = k if k < starred[0] else k - len(elts)  # from the end after the star
                self.apply(rules.OPERATORS["getitem"], [whole, Index((Const(index),))], {},
                           t, t.id, None)
        return None

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
