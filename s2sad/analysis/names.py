"""Names: derived and fresh variable names, and the names gast code reads (layer 4,
inside :mod:`s2sad.analysis`)."""

import gast

from ..astutil import child_fields, walk
from ..structural import defined_names


def derived_namer(fn, suffix):
    """``(name_of, taken)``: ``name_of(v)`` is ``v + suffix`` (``x_bar``, ``x_dot``),
    lengthened with ``_`` where that would collide with a name ``fn`` uses."""
    taken = {p.name for p in fn.params} | defined_names(fn.body)

    def name_of(var):
        candidate = f"{var}{suffix}"
        while candidate in taken:
            candidate += "_"
        return candidate

    return name_of, taken


def free_names(stmts):
    """Names a list of gast statements reads before (or without) assigning them, in order.

    A name assigned in one branch of an ``if`` only, or in a loop's body, counts
    as assigned after it (generated code reads such names only where they are).
    """
    free, bound = [], set()

    def reads(node):
        for n in walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and \
                    n.id not in bound and n.id not in free:
                free.append(n.id)

    def stores(node):
        bound.update(n.id for n in walk(node)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))

    def block(body):
        for stmt in body:
            if isinstance(stmt, gast.Assign):
                reads(stmt.value)
                for t in stmt.targets:
                    if not isinstance(t, gast.Name):
                        reads(t)  # y[i] = v reads y (and i)
                    stores(t)
            elif isinstance(stmt, gast.AugAssign):
                reads(stmt.value)
                reads(gast.Expr(value=gast.Name(id=stmt.target.id, ctx=gast.Load(),
                                                annotation=None, type_comment=None))
                      if isinstance(stmt.target, gast.Name) else stmt.target)
                stores(stmt.target)
            elif isinstance(stmt, gast.For):
                reads(stmt.iter)
                stores(stmt.target)
                block(stmt.body)
            elif isinstance(stmt, gast.While):
                reads(stmt.test)
                block(stmt.body)
            elif isinstance(stmt, gast.If):
                reads(stmt.test)
                block(stmt.body)
                block(stmt.orelse)
            else:
                reads(stmt)

    block(stmts)
    return free


def names_read(stmts):
    """Names loaded anywhere in a list of gast statements."""
    out = set()
    name, load = gast.Name, gast.Load

    def visit(node):
        if type(node) is name:
            if type(node.ctx) is load:
                out.add(node.id)
            return
        d = node.__dict__
        for field in child_fields(type(node)):
            value = d.get(field)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, gast.AST):
                        visit(item)
            elif isinstance(value, gast.AST):
                visit(value)

    for stmt in stmts:
        visit(stmt)
    return out
