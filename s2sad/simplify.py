"""Algebraic clean-up of instantiated derivative templates (gast expressions).

Only rewrites that keep the value, shape and meaning of the expression:
``e * 1 -> e``, ``e / 1 -> e``, ``e + 0 -> e``, ``-(-e) -> e``,
``-1 * e -> -e``, ``e ** 1 -> e``, and arithmetic on two number literals.
This is what keeps ``x_bar = 1.0 * v1 / x`` out of generated code when the
seed of ``grad`` is the constant 1.
"""

import operator

import gast

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow}


def number(node):
    """The numeric value of a literal (``2.0``, ``-1``), or None."""
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = number(node.operand)
        return None if inner is None else -inner
    return None


def constant(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = float(value)
    if value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


class _Simplify(gast.NodeTransformer):
    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            value = number(node.operand)
            if value is not None:
                return constant(-value)
            inner = node.operand
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
        if isinstance(node.op, gast.UAdd):
            return node.operand
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if number(node.value) is not None:  # 1.0[0] compiles with a SyntaxWarning; same value
            node.value = gast.Call(func=gast.Attribute(value=gast.Name(
                id="np", ctx=gast.Load(), annotation=None, type_comment=None), attr="asarray",
                ctx=gast.Load()), args=[node.value], keywords=[])
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = number(node.left), number(node.right), type(node.op)
        if left is not None and right is not None and op in _FOLD:
            try:
                return constant(_FOLD[op](left, right))
            except (ZeroDivisionError, OverflowError):
                return node
        if op is gast.Mult:
            if left == 1:
                return node.right
            if right == 1:
                return node.left
            if left == -1:
                return self.visit(gast.UnaryOp(op=gast.USub(), operand=node.right))
            if right == -1:
                return self.visit(gast.UnaryOp(op=gast.USub(), operand=node.left))
        if op is gast.Div and right == 1:
            return node.left
        if op is gast.Pow and right == 1:
            return node.left
        if op is gast.Add:
            if left == 0:
                return node.right
            if right == 0:
                return node.left
        if op is gast.Sub:
            if right == 0:
                return node.left
            if left == 0:
                return self.visit(gast.UnaryOp(op=gast.USub(), operand=node.right))
        if op in (gast.Mult, gast.Div) and isinstance(node.left, gast.UnaryOp) \
                and isinstance(node.left.op, gast.USub) and number(node.left) is None:
            # -a * b reads better as -(a * b) only when a is a name; leave others alone
            return node
        return node


def simplify(expr):
    """Return a simplified copy-equivalent of the gast expression ``expr``."""
    return _Simplify().visit(expr)
