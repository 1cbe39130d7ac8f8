"""Calls of the object's own methods inside a method: ``self.predict(x)`` in a method of
class ``Model`` is ``Model.predict(self, x)``, a call of a user function s2sad reads.

Runs on the gast ``FunctionDef`` of a function defined in a class at module level
(``fn.__qualname__`` is ``Model.loss``, ``Model`` is that class in ``fn``'s module), whose
first parameter is never bound again in it, before :mod:`s2sad.expand` goes on. A call
``self.name(...)`` where ``Model`` has a plain function ``name`` (not a static or class
method, a property or an attribute of the instance) becomes ``Model.name(self, ...)``.

What ``self.name`` means depends on the object passed: a subclass may override the
method. So the function first checks, as an ``assert`` the derivative code keeps in its
forward sweep, that ``type(self).name`` is ``Model.name`` (by its qualified name); another
object fails it when
the derivative runs (:func:`overridden` tells it; the API raises a ``UsageError`` naming
the method), never giving a derivative of the wrong method.

Layer 3 (front end), below :mod:`s2sad.expand`, which calls it.
"""

import inspect
import types

import gast

from .astutil import walk
from .desugar import _located, _name


def own_methods(fn, node):
    """Rewrite ``self.name(...)`` in ``node`` (``fn``'s gast FunctionDef) in place; True if
    that changed it."""
    params = node.args.args
    parts = fn.__qualname__.split(".")
    if not params or len(parts) != 2 or not isinstance(params[0], gast.Name):
        return False
    owner, self_name = fn.__globals__.get(parts[0]), params[0].id
    if not isinstance(owner, type) or any(
            isinstance(n, gast.Name) and n.id == self_name and not isinstance(n.ctx, gast.Load)
            and n is not params[0] for n in walk(node)):
        return False
    checked = {}  # method name -> the first call of it, where its check is located
    for call in walk(node):
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                isinstance(call.func.value, gast.Name) and call.func.value.id == self_name and \
                isinstance(inspect.getattr_static(owner, call.func.attr, None),
                           types.FunctionType):
            checked.setdefault(call.func.attr, call)
            call.args = [_name(self_name)] + call.args
            call.func = gast.copy_location(gast.Attribute(
                value=gast.copy_location(_name(parts[0]), call.func), attr=call.func.attr,
                ctx=gast.Load()), call.func)
    docstring = 1 if node.body and isinstance(node.body[0], gast.Expr) and \
        isinstance(node.body[0].value, gast.Constant) else 0
    node.body[docstring:docstring] = [_check(parts[0], self_name, method, call)
                                      for method, call in checked.items()]
    return bool(checked)


def _check(owner, self_name, method, call):
    """``assert getattr(type(self), method).__qualname__ == "Owner.method", message``
    (``owner``: the class's name in the function's module; the qualified name, not the
    class itself, so a module written by the CLI needs no class from the user's module)."""
    mine = gast.Call(func=_name("getattr"), args=[
        gast.Call(func=_name("type"), args=[_name(self_name)], keywords=[]),
        gast.Constant(value=method, kind=None)], keywords=[])
    test = gast.Compare(left=gast.Attribute(value=mine, attr="__qualname__", ctx=gast.Load()),
                        ops=[gast.Eq()],
                        comparators=[gast.Constant(value=f"{owner}.{method}", kind=None)])
    message = _OVERRIDDEN.format(owner=owner, method=method, self=self_name)
    return _located(gast.Assert(test=test, msg=gast.Constant(value=message, kind=None)), call)


_OVERRIDDEN = ("s2sad differentiated {owner}.{method} for {self}.{method}(...), but {self}'s "
               "class overrides {method}")


def overridden(exc):
    """True if ``exc`` is the check :func:`own_methods` adds failing: the object passed
    is of a class that overrides a method the derivative code has differentiated."""
    prefix, _, rest = _OVERRIDDEN.partition("{owner}")
    return isinstance(exc, AssertionError) and str(exc).startswith(prefix) and \
        "class overrides" in str(exc)
