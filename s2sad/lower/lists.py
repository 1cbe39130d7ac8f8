"""Lowering of lists used as stacks (``t = []``, ``t.append(v)``, ``v = t.pop()``).

:class:`_Lists` finds the names bound to a new empty list, lowers their methods to
the list statements of :data:`s2sad.rules.operators.LIST_OPS` and refuses, with a
located error, every other use of a list (an operand of anything but a list
statement or ``len``; a call, an index or a loop reads a snapshot of it, ``snapshot_list``); a list made inside a region is made unreadable after it
(``hide_lists``). A mixin of :class:`s2sad.lower.lowerer._Lowerer`: it reads and
writes the lowerer's state (``list_names``, ``list_vars``, ``env``, ``block``).

Layer 3 (front end), inside :mod:`s2sad.lower`.
"""

import gast

from ..astutil import walk
from ..ir import Var
from ..rules.core import rule_name
from ..rules.operators import LIST_OPS
from ..structural import ListStatement
from .shared import _Unreadable, _spelling

# what a list cannot do, by what the operation does with a container (its dict_operand)
_WHAT = {"key": "be indexed", "alias": "be copied or given another name"}


class _Lists:
    """Lists used as stacks (see the module's docstring)."""

    # -- lists used as stacks ------------------------------------------------------
    def find_lists(self):
        """The names bound to a new empty list (``t = []``) somewhere, or to a list written
        out that is pushed onto (``hs = [h0]``, then ``hs.append(h)``): s2sad's stacks.

        Such a name must be bound by ``t = [...]`` only, so every read of it is a list.
        """
        kinds = self.p.kinds
        pushed = {n.func.value.id for n in kinds(gast.Call) if
                  isinstance(n.func, gast.Attribute) and n.func.attr in ("append", "pop") and
                  isinstance(n.func.value, gast.Name)}
        made, creators = {}, set()
        for node in kinds(gast.Assign):
            if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) and \
                    isinstance(node.value, gast.List) and (
                        not node.value.elts or node.targets[0].id in pushed and
                        not any(isinstance(e, gast.Starred) for e in node.value.elts)):
                made.setdefault(node.targets[0].id, node)
                creators.add(id(node.targets[0]))
        for node in kinds(gast.Name) if made else ():
            if node.id in made and id(node) not in creators and \
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
                          f"Use {name}.append(v), {name}.pop(), {name}.clear(), len({name}), "
                          f"{name}[i], for v in {name} and functions given {name} (they read "
                          f"its elements then).")

    def check_list_operands(self, prim, operands, node):
        """Raise if a list is an operand of anything but a list statement or len."""
        for position, op in enumerate(operands):
            if not (isinstance(op, Var) and op in self.list_vars):
                continue
            known = rule_name(prim) is not None
            if prim.node is ListStatement and position == 0 or known and prim.sized:
                continue
            what = "be pushed onto a list" if prim.node is ListStatement else \
                _WHAT.get(prim.dict_operand if known else None, f"be an operand of {prim.name}")
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
        """``t = []``, or ``hs = [a, b]``: a new list, then each element pushed onto it."""
        elements = [self.lower_expr(e) for e in value.elts]
        var = self.bind_name(target.id)
        self.list_vars[var] = target.id
        self.emit((var,), LIST_OPS["list_new"], (), {}, value)
        for element in elements:
            self.emit((), LIST_OPS["list_append"], [var, element], {}, value)
        return var

    def hide_lists(self, names, env, message):
        """Make the list names ``names`` unreadable in ``env`` (see :class:`_Unreadable`)."""
        for key in names:
            env[key] = _Unreadable(message.format(name=key))

    def lists_made_in(self, node):
        return sorted({n.id for n in walk(node) if isinstance(n, gast.Name) and
                       isinstance(n.ctx, gast.Store) and n.id in self.list_names})
