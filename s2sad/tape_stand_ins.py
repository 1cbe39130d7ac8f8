"""Stand-ins on a loop's tape for the values its backward sweep reads only the shape of.

A loop's forward sweep pushes a tuple of values a trip (``tape.append((h_1, x, v13))``) and
the backward sweep pops it (``h_1, x, v13 = tape.pop()``); some of those values are read
there only for their shape and dtype (``unbroadcast(h_2_bar, v13)``). In a specialised
gradient, where the kinds say such a value is an array of known rank, the tape holds a
stand-in of its shape instead (``_stand_in(v13)``: a read-only array of zeros with strides
0 and 8 bytes of data, as :func:`s2sad.rewrites` binds after an array's last value read
in straight-line code, one per shape and dtype), so the array itself is freed when its
name is bound again on the next trip: the tape keeps what the backward sweep reads, as
:func:`s2sad.cost` counts it.

Only for a list pushed to once and popped once, each in a loop of the function's body
(not nested in another loop), the pop unpacking into names; a popped name qualifies when
every read of it from its loop on is a shape read. Layer 2, above :mod:`s2sad.kinds`.
"""

import ast

from .kinds import Kind

STAND_IN = "_stand_in({name})"
# what a specialised module that calls it defines (after its constants): one stand-in per
# shape and dtype, so a tape of n trips holds n references, not n arrays
STAND_IN_HELPER = '''
def _stand_in(a, _made={}):
    """A read-only array of a's shape and dtype with no data of its own (strides 0), one
    per shape and dtype: what a loop's tape holds of a value read only for its shape."""
    key = (a.shape, a.dtype)
    made = _made.get(key)
    if made is None:
        if len(_made) >= 64:
            _made.clear()
        made = _made[key] = np.ndarray(a.shape, a.dtype, _zero_bytes, 0, (0,) * a.ndim)
    return made
'''


def _sites(function, lists):
    """``{list: ([(push statement, its loop)], [(pop statement, its loop)])}`` for the lists
    of ``lists`` (names only pushed to and popped from): every ``L.append(...)`` and
    ``L.pop()`` call, with the statement it is the value of (None if it is not) and the
    statement of the function's body that is its loop (None outside one, or nested deeper)."""
    sites = {name: ([], []) for name in lists}
    for top in function.body:
        statements = {n.value: n for n in ast.walk(top) if isinstance(n, (ast.Expr, ast.Assign))}
        for call in ast.walk(top):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                    isinstance(call.func.value, ast.Name) and call.func.value.id in sites and \
                    call.func.attr in ("append", "pop"):
                stmt = statements.get(call)
                loop = top if isinstance(top, (ast.For, ast.While)) and stmt is not None and \
                    _depth(top, stmt) == 1 else None
                sites[call.func.value.id][call.func.attr == "pop"].append((stmt, loop))
    return sites


def _depth(top, node):
    """How many loops of ``top`` (itself included) contain ``node``."""
    return sum(1 for loop in ast.walk(top) if isinstance(loop, (ast.For, ast.While)) and
               any(n is node for n in ast.walk(loop)))


def tape_stand_ins(function, lists, shape_read):
    """``[(pushed element node, its stand-in's text)]``: the elements of a tape's push that
    the backward sweep reads only the shape of; ``lists``: ``{list: kinds pushed}``
    (:class:`s2sad.kinds.Kinds`); ``shape_read(node, parents)``: is the name ``node`` a
    shape read?"""
    parents = {child: node for node in ast.walk(function)
               for child in ast.iter_child_nodes(node)}
    edits = []
    for name, (pushes, pops) in _sites(function, lists).items():
        kinds = lists[name]
        if len(pushes) != 1 or len(pops) != 1 or None in (pushes[0][1], pops[0][1]) or \
                not isinstance(kinds, tuple):
            continue
        push, (pop, loop) = pushes[0][0].value.args, pops[0]
        targets = pop.targets[0] if isinstance(pop, ast.Assign) and len(pop.targets) == 1 \
            else None
        if len(push) != 1 or not isinstance(push[0], ast.Tuple) or \
                not isinstance(targets, ast.Tuple) or \
                not len(push[0].elts) == len(targets.elts) == len(kinds):
            continue
        for element, target, kind in zip(push[0].elts, targets.elts, kinds):
            if isinstance(element, ast.Name) and isinstance(target, ast.Name) and \
                    isinstance(kind, Kind) and kind.array and \
                    _shape_only(function, target.id, loop.lineno, parents, shape_read):
                edits.append((element, STAND_IN.format(name=element.id)))
    return edits


def _shape_only(function, name, start, parents, shape_read):
    """Is every read of ``name`` from line ``start`` on a shape read?"""
    return all(shape_read(n, parents) for n in ast.walk(function)
               if isinstance(n, ast.Name) and n.id == name and
               isinstance(n.ctx, ast.Load) and n.lineno >= start)
