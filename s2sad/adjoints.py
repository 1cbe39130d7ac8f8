"""Adjoints during a backward sweep: what each variable's adjoint is, and who owns it.

:class:`Adjoints` follows the "symbolic zero, first write assigns" discipline
of reverse mode (see :mod:`s2sad.reverse`): an adjoint nobody has touched is
absent, not an array of zeros; its first contribution assigns it, later ones
add to it, in place only when the sweep created the array itself (it *owns*
it). Some adjoints stay expressions, with no ``x_bar = ...`` line: a number,
a number spread over an array (``unreduce(c, x)``, see :func:`spread`), or
the name of another, final adjoint (copy propagation).

Layer 5, beside :mod:`s2sad.emit`: used by :mod:`s2sad.reverse`.
"""

import gast

from .emit import assign, call, name
from .simplify import negated, number, simplify


class Adjoints:
    """The adjoint of each variable during the backward sweep.

    A variable's adjoint is absent (a symbolic zero), a pending number literal
    or seed (no statement written yet), or its name ``x_bar``.
    """

    def __init__(self, adjoint_name, keep=()):
        self.adjoint_name = adjoint_name
        self.value = {}  # var name -> gast expr
        self.owned = set()  # var names whose adjoint array this sweep created and may update
        self.keep = set(keep)  # var names whose adjoint gets its own name (the results)

    def is_alias(self, expr):
        """True if ``expr`` is the name of an adjoint this sweep wrote (a final one: a rule
        reads only its result's adjoint, complete by then), which others may share."""
        return isinstance(expr, gast.Name) and any(
            isinstance(v, gast.Name) and v.id == expr.id for v in self.value.values())

    def copy(self):
        other = Adjoints(self.adjoint_name, self.keep)
        other.value, other.owned = dict(self.value), set(self.owned)
        return other

    def read(self, var):
        return self.value.get(var)

    def seed(self, var, expr):
        self.value[var] = expr

    def forget(self, var):
        self.value.pop(var, None)
        self.owned.discard(var)

    def add(self, var, contribution):
        """Statements that add ``contribution`` to the adjoint of ``var``."""
        current = self.value.get(var)
        target = self.adjoint_name(var)
        if isinstance(contribution, gast.Tuple):  # adjoints of unpacked names: added elementwise
            contribution = call("bars", [contribution, name(var)])  # (an array's: its rows')
        if current is None and (number(contribution) is not None or spread(contribution) or
                                self.is_alias(contribution) and var not in self.keep):
            # pending: a number, a number spread over x, or another adjoint's name
            self.value[var] = contribution
            return []
        if current is None and is_call(contribution, "unindex") and \
                isinstance(contribution.args[1], gast.Name) and contribution.args[1].id == var:
            # x[index] read: zeros to scatter into (not unindex's zeros_like and np.add.at,
            # then a fresh sum at the next read), owned: the later reads scatter in place
            g, _, index = contribution.args
            self.value[var] = name(target)
            self.owned.add(var)
            return [assign(target, call("zeros_bar", [name(var)])),
                    gast.Expr(value=call("scatter_add", [name(target), index, g]))]
        if current is None:
            self.value[var] = name(target)
            if is_new_array(contribution):
                self.owned.add(var)
            return [assign(target, contribution)]
        if var in self.owned:
            if is_call(contribution, "unindex"):  # scatter into the array in place
                g, _, index = contribution.args
                return [gast.Expr(value=call("scatter_add", [name(target), index, g]))]
            minus = negated(contribution)
            return [gast.AugAssign(target=name(target, store=True),
                                   op=gast.Add() if minus is None else gast.Sub(),
                                   value=contribution if minus is None else minus)]
        self.value[var] = name(target)
        self.owned.add(var)
        return [assign(target, simplify(gast.BinOp(left=current, op=gast.Add(),
                                                   right=contribution)))]

    def materialize(self, var, zero_like=None):
        """Statements making the adjoint of ``var`` a variable named ``var_bar``.

        An absent adjoint becomes zeros shaped like ``zero_like`` (default: var).
        """
        current = self.value.get(var)
        target = self.adjoint_name(var)
        if isinstance(current, gast.Name) and current.id == target:
            return []
        self.value[var] = name(target)
        self.owned.discard(var)
        if current is None:
            self.owned.add(var)
            return [assign(target, call("zeros_bar", [name(zero_like or var)]))]
        return [assign(target, current)]


def strip_unbroadcast(expr, var):
    """``expr`` without its ``unbroadcast(e, var)`` (also under a negation or a scaling)."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        expr.operand = strip_unbroadcast(expr.operand, var)
    elif isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div)):
        expr.left = strip_unbroadcast(expr.left, var)
    elif is_call(expr, "unbroadcast") and expr.args[1:] and \
            isinstance(expr.args[1], gast.Name) and expr.args[1].id == var:
        return expr.args[0]
    return expr


def uses_of_g(template):
    """How many times a rule's :class:`~s2sad.rules.templates.Template` reads ``g``."""
    return template.uses("g")


def spread(expr):
    """``(c, x)`` if ``expr`` is ``unreduce(c, x)`` with a number ``c`` (``c`` spread over
    ``x``'s shape, kept pending by :class:`Adjoints` until something needs the array)."""
    if is_call(expr, "unreduce") and len(expr.args) == 2 and not expr.keywords and \
            number(expr.args[0]) is not None and isinstance(expr.args[1], gast.Name):
        return expr.args[0], expr.args[1]
    return None


def is_call(expr, function):
    return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and \
        expr.func.id == function


def is_new_array(expr):
    """True if ``expr`` makes a new array (or a number) no one else holds: an operator's
    result, ``setitem_bar``'s, or ``unbroadcast`` of one (``g`` itself or a new sum of it)."""
    if is_call(expr, "unbroadcast") and expr.args:
        expr = expr.args[0]
    return isinstance(expr, (gast.BinOp, gast.UnaryOp)) or is_call(expr, "setitem_bar")
