"""Star arguments of a known length, spliced: ``f(*(a, b))`` is ``f(a, b)``, and with
``args = (x, 2.0)`` bound once in the function, ``f(*args)`` is ``f(args[0], args[1])``
(and ``[*args, c]`` is ``[args[0], args[1], c]``).

Runs on the gast ``FunctionDef`` before :mod:`s2sad.expand` goes on (and so before a
call is inlined or lowered), and rewrites it in place. The length is known when the
starred value is a tuple or list written in the call, or a name the function binds
exactly once, to a tuple written out (a tuple cannot grow; a list can, so a list is
spliced only where it is written). A parameter's or an attribute's length
(``*x.shape``, ``*shape``) is known only when the code runs: the lowering keeps such a
star in a call of a function s2sad runs as it is (``np.random.rand(*x.shape)``), and
refuses it, located, in a call it must read (a function of the user's).

Layer 3 (front end), below :mod:`s2sad.expand`, which calls it.
"""

import gast

from .astutil import Kinds, walk


def splice_starred(fn, kinds=None):
    """Splice the star arguments of known length in ``fn`` (a gast FunctionDef), in place.
    ``kinds``: ``fn``'s :class:`~s2sad.astutil.Kinds` (told when the tree changes)."""
    kinds = kinds or Kinds(fn)
    calls = [(n, "args") for n in kinds(gast.Call)
             if any(isinstance(a, gast.Starred) for a in n.args)]
    sequences = [(n, "elts") for n in kinds(gast.Tuple, gast.List)
                 if isinstance(n.ctx, gast.Load) and any(isinstance(e, gast.Starred)
                                                         for e in n.elts)]
    nodes = calls + sequences
    if not nodes:
        return
    kinds.stale()
    lengths = _tuples_bound_once(fn)
    for node, field in nodes:  # f(*t), and (*t, c) or [*t] written out
        items = []
        for item in getattr(node, field):
            items.extend(_spliced(item, lengths) if isinstance(item, gast.Starred) else [item])
        setattr(node, field, items)


def _spliced(star, lengths):
    value = star.value
    if isinstance(value, (gast.Tuple, gast.List)) and \
            not any(isinstance(e, gast.Starred) for e in value.elts):
        return value.elts
    if isinstance(value, gast.Name) and value.id in lengths:
        return [gast.copy_location(gast.Subscript(
            value=gast.Name(id=value.id, ctx=gast.Load(), annotation=None, type_comment=None),
            slice=gast.Constant(value=k, kind=None), ctx=gast.Load()), star)
            for k in range(lengths[value.id])]
    return [star]


def _tuples_bound_once(fn):
    """``{name: length}`` for each name ``fn`` binds once, to a tuple written out."""
    stores, tuples = {}, {}
    for node in walk(fn):  # (parameters are Names in Param context)
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del, gast.Param)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, (gast.Global, gast.Nonlocal)):
            stores.update((name, 2) for name in node.names)  # bound elsewhere too
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], gast.Name) and isinstance(node.value, gast.Tuple) and \
                not any(isinstance(e, gast.Starred) for e in node.value.elts):
            tuples[node.targets[0].id] = len(node.value.elts)
    return {name: n for name, n in tuples.items() if stores.get(name) == 1}
