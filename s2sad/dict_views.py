"""A dict's views read by key: ``for v in d.values()`` is ``for k in d.keys(): v = d[k]``,
``for k, v in d.items()`` is ``for k in d.keys(): v = d[k]`` (a comprehension's clause
alike), and a view used as a value is the tuple of the reads, ``tuple(d[k] for k in
d.keys())`` (``list(d.values())`` their list).

What JAX and autograd users write for a dict of parameters (``sum(np.sum(w ** 2) for w in
params.values())``, ``for name, w in params.items()``) becomes reads by key, which s2sad
differentiates like any ``d[k]`` (the adjoint of a dict is the dict of adjoints), in loops
and comprehensions :mod:`s2sad.expand` then writes as loops. ``d.keys()`` itself is the
run-time helper ``keys_of(d)``, the keys as a tuple a loop can index (the method's
primitive, :mod:`s2sad.rules.support_rules`). The keys come in the dict's own order, as
Python's views give them.

Only a call with no arguments on a plain name is rewritten, and only where the name is
the function's own (a parameter, a variable) or a dict of the module's: a module's or an
object's ``.values()`` is left as it is (and refused by the lowering if it is not a
method s2sad knows).

Layer 3 (front end), below :mod:`s2sad.expand`, which calls it first.
"""

import gast

from .astutil import Kinds, parameter_names, unique_name, walk
from .desugar import _located, _name

_VIEWS = ("values", "items")


def read_dict_views(fn, scope, used, kinds=None):
    """Rewrite ``d.values()`` and ``d.items()`` in ``fn`` (a gast FunctionDef), in place.
    ``used``: the names taken, to which each loop's fresh name is added; ``kinds``: ``fn``'s
    :class:`~s2sad.astutil.Kinds` (told when the tree changes)."""
    calls = [n for n in (kinds or Kinds(fn))(gast.Call) if _view_of(n, None, scope)]
    if not calls:
        return
    own = set(parameter_names(fn.args)) | {
        n.id for n in walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    if any(_view_of(n, own, scope) for n in calls):
        _ViewReader(own, scope, used).visit(fn)
        if kinds is not None:
            kinds.stale()


def _view_of(node, own, scope):
    """``(dict name, "values" or "items")`` if ``node`` is ``d.values()``/``d.items()`` of a
    dict name, else None (``own`` None: of any name)."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and
            node.func.attr in _VIEWS and isinstance(node.func.value, gast.Name) and
            not node.args and not node.keywords):
        return None
    name = node.func.value.id
    if own is not None and name not in own and not isinstance(scope.lookup(name), dict):
        return None
    return name, node.func.attr


def _keys(name, spelled):
    method = gast.Attribute(value=_name(name), attr="keys", ctx=gast.Load())
    method.spelled = spelled  # what the user wrote, for errors (s2sad.inline.dicts)
    return gast.Call(func=method, args=[], keywords=[])


def _read(name, key):
    return gast.Subscript(value=_name(name), slice=_name(key), ctx=gast.Load())


class _ViewReader(gast.NodeTransformer):
    """A loop (or a comprehension's clause) over a view loops over the keys and reads each
    value by key; a view used otherwise is the tuple of the reads (``list(d.values())``
    their list)."""

    def __init__(self, own, scope, used):
        self.own, self.scope, self.used = own, scope, used

    def header(self, target, view, node):
        """``(key target, value target, value read)`` of ``for target in view``."""
        name, kind = view
        if kind == "items" and isinstance(target, gast.Tuple) and len(target.elts) == 2 and \
                isinstance(target.elts[0], gast.Name):  # for k, v in d.items()
            key = target.elts[0].id
            return _located(_name(key, store=True), node), target.elts[1], _read(name, key)
        key = unique_name("key", self.used)
        read = _read(name, key) if kind == "values" else \
            gast.Tuple(elts=[_name(key), _read(name, key)], ctx=gast.Load())
        return _located(_name(key, store=True), node), target, read

    def visit_For(self, node):
        view = _view_of(node.iter, self.own, self.scope)
        self.generic_visit(node)
        if view is None:
            return node
        key, target, read = self.header(node.target, view, node)
        read = _located(read, node)
        bind = _located(gast.Assign(targets=[target], value=read, type_comment=None), node)
        node.target, node.iter = key, _located(_keys(*view), node.iter)
        node.body = [bind] + node.body
        return node

    def visit_comprehension(self, node):
        # the loop variable is a name the comprehension binds: the value is read by key
        # into it by an inner one-element loop, for v in [d[k]] (a plain for clause)
        view = _view_of(node.iter, self.own, self.scope)
        self.generic_visit(node)
        if view is None:
            return [node]
        key, target, read = self.header(node.target, view, node.iter)
        read = _located(read, node.iter)
        value = gast.comprehension(target=target, iter=_located(
            gast.List(elts=[read], ctx=gast.Load()), node.iter), ifs=node.ifs, is_async=0)
        return [gast.comprehension(target=key, iter=_located(_keys(*view), node.iter),
                                   ifs=[], is_async=0), value]

    def generic_visit(self, node):
        for field, old in gast.iter_fields(node):
            if isinstance(old, list):
                new = []
                for item in old:
                    done = self.visit(item) if isinstance(item, gast.AST) else item
                    new.extend(done if isinstance(done, list) else [done])
                old[:] = new
            elif isinstance(old, gast.AST):
                setattr(node, field, self.visit(old))
        return node

    def visit_Call(self, node):
        # list(d.values()) is the list of the reads; d.values() anywhere else their tuple
        # (what a loop, enumerate or zip can index; a view is no list either)
        copied = isinstance(node.func, gast.Name) and node.func.id in ("list", "tuple") and \
            len(node.args) == 1 and not node.keywords and \
            _view_of(node.args[0], self.own, self.scope) is not None
        view = _view_of(node, self.own, self.scope)
        if copied:
            node.args = [self.reads(node.args[0], _view_of(node.args[0], self.own, self.scope))]
            return node
        self.generic_visit(node)
        if view is None:
            return node
        return _located(gast.Call(func=_name("tuple"), args=[self.reads(node, view)],
                                  keywords=[]), node)

    def reads(self, node, view):
        """``(d[k] for k in d.keys())`` (``(k, d[k])`` for items) of the view call ``node``."""
        key, _, read = self.header(_name("_"), view, node)
        loop = gast.comprehension(target=key, iter=_located(_keys(*view), node), ifs=[],
                                  is_async=0)
        return _located(gast.GeneratorExp(elt=_located(read, node), generators=[loop]), node)
