"""The matmul deferral: a loop's outer products summed by one matrix product.

In a loop, the adjoint of ``W`` in ``y = x @ W`` is a sum over trips of outer
products ``x_k^T y_bar_k``. Where ``W`` is not otherwise touched inside the loop
(:meth:`_Deferral.deferrable`), the pairs are collected in a list and summed after
the loop, :data:`FLUSH_TERMS` trips at a time, by one product
(``matmul_bar_a_sum``/``matmul_bar_b_sum``, :func:`_terms_sum`); :func:`product_kind`
says which statements are such products, whatever their spelling. A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from ..emit import call, name
from ..ir import Assign, Var, walk_blocks
from ..rules.core import rule_name
from ..structural import ListStatement
from .shared import _vars_of


def product_kind(stmt):
    """``"matmul"`` or ``"dot"`` if ``stmt`` is a product of its two operands whose rule
    gives them the adjoints ``matmul_bar_a/b(g, a, b)`` (or ``dot_bar_a/b``), whatever its
    spelling (``@``, ``np.matmul``, ``np.dot``, ``.dot()``): its stanza's ``contraction``;
    else None. (np.dot is matmul where the operands have rank 1 or 2: ``matmul_bar_a_sum``
    checks that when it runs.)"""
    prim = stmt.prim
    if rule_name(prim) is None or stmt.kwargs or len(stmt.args) != 2:
        return None
    return prim.contraction if prim.contraction in ("matmul", "dot") else None


def _terms_sum(terms, var, side, product):
    """``matmul_bar_a_sum(W_bar_terms, W)``: the deferred pairs' sum (see deferrable)."""
    extra = [gast.Constant(value="dot", kind=None)] if product == "dot" else []
    return call(f"matmul_bar_{side}_sum", [name(terms), name(var)] + extra)


FLUSH_TERMS = 64  # trips whose deferred outer products are summed by one matrix product


class _Deferral:
    """The matmul deferral (see the module's docstring)."""

    def deferrable(self, loop, outer):
        """Loop-invariant factors of matrix products: ``{var: (side, product)}``, side
        ``"a"`` or ``"b"``, product ``"matmul"`` or ``"dot"`` (see :func:`product_kind`).

        When every contribution a loop makes to an outer variable ``W`` is the
        adjoint of a factor of a product (``W @ h`` or ``np.dot(W, h)`` each trip), the
        per-trip outer products ``g h^T`` are collected and summed as one matrix product
        (every ``FLUSH_TERMS`` trips and after the loop) instead of one small
        product and one full-size addition per trip. Not where ``h`` may share memory with
        an array written in place: the backward sweep restores such an array's old values
        into it trip by trip, so a held ``h`` would be summed with later values.
        """
        sides, blocked = {}, set()
        for stmt in walk_blocks(loop.body, into_loops=False):
            if isinstance(stmt, ListStatement):  # adjoints come off a list
                blocked.update(v.name for v in stmt.args if isinstance(v, Var))
            elif isinstance(stmt, Assign):
                if not any(t.name in self.active for t in stmt.targets):
                    continue
                product = product_kind(stmt)
                for position, op in enumerate(stmt.args):
                    if not (isinstance(op, Var) and op.name in outer):
                        continue
                    other = stmt.args[1 - position] if product else None
                    side = ("ab"[position] if position < 2 else None, product)  # (3rd: blocked)
                    # (the other factor is held until the pairs are summed: not one whose
                    # array the backward sweep's restores change in place meanwhile)
                    if not product or (isinstance(other, Var) and other.name == op.name) or \
                            sides.get(op.name, side) != side or \
                            isinstance(other, Var) and self.in_written_memory(other.name):
                        blocked.add(op.name)
                    sides[op.name] = side
                blocked.update(v.name for v in stmt.kwargs.values() if isinstance(v, Var))
            else:
                blocked.update(_vars_of(stmt))
        return {var: side for var, side in sides.items() if var not in blocked}

    def defer(self, var, contribution):
        """Collect ``g`` and the other factor; add their products in batches (see deferrable)."""
        terms, side, product = self.deferred[-1][var]
        g, a, b = contribution.args
        pair = gast.Tuple(elts=[g, b if side == "a" else a], ctx=gast.Load())
        append = gast.Attribute(value=name(terms), attr="append", ctx=gast.Load())
        owned = var in self.adjoints.owned
        flush = self.adjoints.add(var, _terms_sum(terms, var, side, product))
        if not owned:
            self.adjoints.owned.discard(var)
        clear = gast.Expr(value=call(gast.Attribute(value=name(terms), attr="clear",
                                                    ctx=gast.Load()), []))
        full = gast.Compare(left=call("len", [name(terms)]), ops=[gast.Eq()],
                            comparators=[gast.Constant(value=FLUSH_TERMS, kind=None)])
        return [gast.Expr(value=call(append, [pair])),
                gast.If(test=full, body=flush + [clear], orelse=[])]
