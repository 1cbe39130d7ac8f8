"""Algebraic clean-up of instantiated derivative templates (gast expressions).

Only rewrites that keep the value, shape and meaning of the expression:
``e * 1 -> e``, ``e / 1 -> e``, ``e + 0 -> e``, ``-(-e) -> e``,
``-1 * e -> -e``, ``e ** 1 -> e``, ``(a, b)[1] -> b``, and arithmetic on two number literals.
This is what keeps ``x_bar = 1.0 * v1 / x`` out of generated code when the
seed of ``grad`` is the constant 1.

Rewrites that save an operation, each giving the same value bit for bit (IEEE
negation is exact and rounding is symmetric in sign): ``x ** 2 -> x * x`` for a
name ``x`` (NumPy's and Python's squares are that one product), and negations
moved into a neighbouring sum or product: ``a + -b -> a - b``, ``-b + a -> a - b``,
``a - -b -> a + b``, ``-a * -b -> a * b``, ``-(-a * b) -> a * b``, where ``-b`` is
also a product or quotient with a negated factor (``a + -g * y / x -> a - g * y / x``).
Two number factors of a product are multiplied together, ``(2 * x) * 0.5 -> x`` (the
templates' formulas fix no order of their factors).

Layer 5, beside :mod:`s2sad.emit`.
"""

import math
import operator

import gast

from .astutil import child_fields
from .kinds import numpy_rule

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


# nodes with nothing inside that a rewrite applies to: not visited
_LEAVES = (gast.Name, gast.Constant, gast.expr_context, gast.operator, gast.unaryop,
           gast.cmpop, gast.boolop)


class _Simplify(gast.NodeTransformer):
    def visit(self, node):
        """``NodeTransformer.visit`` without the walk into leaves (names, literals,
        operators) and with one look-up of the rewrite per node kind."""
        method = _METHODS.get(type(node))
        if method is None:
            method = _METHODS[type(node)] = _method(type(node))
        return node if method is _LEAF else method(self, node)

    def generic_visit(self, node):
        """Each child visited and replaced by what its rewrite returns (never None nor a
        list here, unlike what ``NodeTransformer.generic_visit`` allows)."""
        d = node.__dict__
        for field in child_fields(type(node)):
            value = d.get(field)
            if type(value) is list:
                value[:] = [self.visit(v) if isinstance(v, gast.AST) else v for v in value]
            elif isinstance(value, gast.AST) and not isinstance(value, _LEAVES):
                setattr(node, field, self.visit(value))
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            value = number(node.operand)
            if value is not None:
                return constant(-value)
            inner = negated(node.operand)  # -(-e) -> e, -(-a * b) -> a * b
            if inner is not None:
                return inner
        if isinstance(node.op, gast.UAdd):
            return node.operand
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.value, gast.Tuple) and isinstance(node.slice, gast.Constant) and \
                type(node.slice.value) is int and -len(node.value.elts) <= node.slice.value < \
                len(node.value.elts):  # (a, b)[1] -> b: the adjoint of one unpacked result
            return node.value.elts[node.slice.value]
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
        done = self.product(node, left, right) if op is gast.Mult else None
        if done is None:
            done = self.identity(node, op, left, right)
        return self.signs(node, op) if done is None else done

    def product(self, node, left, right):
        """A product's numbers folded (``(2 * x) * 0.5`` is ``x``, ``2 * t * (u * 0.5)`` is
        ``t * u``), ``1 * x`` is ``x``, ``-1 * x`` is ``-x``; None where nothing applies."""
        if right is not None and isinstance(node.left, gast.BinOp) and \
                isinstance(node.left.op, gast.Mult):  # (2 * x) * 0.5 -> (2 * 0.5) * x -> x
            inner = number(node.left.left), number(node.left.right)
            if any(c is not None for c in inner):
                c, other = (inner[0], node.left.right) if inner[0] is not None else \
                    (inner[1], node.left.left)
                product = c * right
                if math.isfinite(product):
                    return self.visit(gast.BinOp(left=constant(product), op=gast.Mult(),
                                                 right=other))
        factors = _factors(node)  # 2 * t * (u * 0.5) -> t * u
        numbers = [number(f) for f in factors if number(f) is not None]
        if len(numbers) >= 2 and math.isfinite(math.prod(numbers)):
            return self.folded_product(factors, math.prod(numbers))
        other = node.right if left is not None else node.left
        if (left is not None or right is not None) and boolean(other):
            return node  # 1.0 * mask is a float array; the mask alone is boolean
        if left == 1 or right == 1:
            return node.right if left == 1 else node.left
        if left == -1 or right == -1:
            return self.visit(gast.UnaryOp(op=gast.USub(),
                                           operand=node.right if left == -1 else node.left))
        return None

    def folded_product(self, factors, product):
        """The product of ``factors`` with its numbers folded into ``product``."""
        rest = [f for f in factors if number(f) is None]
        if rest and all(boolean(f) for f in rest) and product in (1, -1):
            out = rest[0]
            for f in rest[1:]:
                out = gast.BinOp(left=out, op=gast.Mult(), right=f)
            return gast.BinOp(left=constant(float(product)), op=gast.Mult(), right=out)
        out = rest[0] if rest else constant(product)
        for f in rest[1:]:
            out = gast.BinOp(left=out, op=gast.Mult(), right=f)
        if rest and product != 1:
            out = gast.BinOp(left=constant(product), op=gast.Mult(), right=out)
        return self.visit(out) if rest else out

    def identity(self, node, op, left, right):
        """``x / 1``, ``x ** 1``, ``x + 0``, ``0 + x``, ``x - 0`` are ``x``, ``0 - x`` is ``-x``,
        ``x ** 2`` is ``x * x``; None where nothing applies."""
        if op in (gast.Div, gast.Pow) and right == 1:
            return node.left
        if op is gast.Add and (left == 0 or right == 0):
            return node.right if left == 0 else node.left
        if op is gast.Sub and right == 0:
            return node.left
        if op is gast.Sub and left == 0:
            return self.visit(gast.UnaryOp(op=gast.USub(), operand=node.right))
        if op is gast.Pow and right == 2 and isinstance(node.left, gast.Name):
            return gast.BinOp(left=node.left, op=gast.Mult(), right=_copy(node.left))  # x * x
        return None

    @staticmethod
    def signs(node, op):
        """``a + -b`` and ``-b + a`` are ``a - b``, ``a - -b`` is ``a + b``, ``-a * -b`` is
        ``a * b`` (and ``/``); else ``node``."""
        if op is gast.Add:
            inner = negated(node.right)
            if inner is not None:
                return gast.BinOp(left=node.left, op=gast.Sub(), right=inner)
            inner = negated(node.left)
            if inner is not None:
                return gast.BinOp(left=node.right, op=gast.Sub(), right=inner)
        if op is gast.Sub:
            inner = negated(node.right)
            if inner is not None:
                return gast.BinOp(left=node.left, op=gast.Add(), right=inner)
        if op in (gast.Mult, gast.Div):
            a, b = negated(node.left), negated(node.right)
            if a is not None and b is not None:
                return gast.BinOp(left=a, op=node.op, right=b)
        return node

_METHODS = {}  # node kind -> the _Simplify method visiting it, or _LEAF
_LEAF = object()  # (the kinds of _LEAVES: not visited)


def _method(kind):
    if issubclass(kind, _LEAVES):
        return _LEAF
    return getattr(_Simplify, "visit_" + kind.__name__, _Simplify.generic_visit)


def mask_name(identifier):
    """The name of a boolean mask (one the forward sweep keeps, s2sad.reverse.forward_masks),
    marked so by its annotation ``bool`` (which the emitted code does not show): see
    :func:`boolean`."""
    return gast.Name(id=identifier, ctx=gast.Load(), type_comment=None,
                     annotation=gast.Name(id="bool", ctx=gast.Load(), annotation=None,
                                          type_comment=None))


def boolean(node):
    """True if ``node`` is a boolean mask (a comparison, ``&``/``|``/``^``/``~`` of masks,
    ``np.isnan(...)``: a NumPy function whose stanza says ``result_dtype="bool"``, a
    :func:`mask_name`): a number factor that multiplies it gives it its float type, so the
    factor stays even when it is 1 (``True * 1.0`` is 1.0, ``-True`` is an error)."""
    if isinstance(node, gast.Compare):
        return True
    if isinstance(node, gast.Name) and isinstance(node.annotation, gast.Name):
        return node.annotation.id == "bool"
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.Invert, gast.Not)):
        return boolean(node.operand)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.BitAnd, gast.BitOr,
                                                             gast.BitXor)):
        return boolean(node.left) and boolean(node.right)
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
        prim = numpy_rule(node.func.attr)
        return prim is not None and prim.result_dtype == "bool"
    return False


def _factors(node):
    """The factors of a product (``a * b * c``), left to right."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def negated(node):
    """``e`` if ``node`` is cheaply ``-e``, else None.

    ``-e``, a negative literal, and a product or quotient with one such factor
    (``-a * b`` is ``-(a * b)`` exactly in floating point) qualify.
    """
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    value = number(node)
    if value is not None:
        return constant(-value) if value < 0 else None
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left, right = negated(node.left), negated(node.right)
        if (left is None) != (right is None):
            return gast.BinOp(left=node.left if left is None else left, op=node.op,
                              right=node.right if right is None else right)
    return None


def _copy(node):
    import copy
    return copy.deepcopy(node)


def simplify(expr):
    """Return a simplified copy-equivalent of the gast expression ``expr``."""
    return _Simplify().visit(expr)
