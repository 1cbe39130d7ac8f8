"""The gast builders generated code is made of: names, assignments, calls, literals, and
comments carried as placeholder statements (:func:`comment`, turned into ``# text`` by
:func:`s2sad.emit.writer.write_function`).

Part of :mod:`s2sad.emit` (layer 5); every transform builds its statements with these.
"""

import math
import numbers

import gast
import numpy as np

from ..astutil import clone, parse_expr

COMMENT_PREFIX = "__s2sad_comment_"
_MAX_INLINE_ARRAY = 1000


def name(identifier, store=False):
    """A gast ``Name``, as ``gast.Name(id=..., ctx=..., annotation=None, type_comment=None)``
    makes it (the same ``__dict__``), made without gast's keyword constructor: the
    transforms make tens of thousands, and the constructor took half their time."""
    node = _NAME.__new__(_NAME)
    node.__dict__.update(id=identifier, ctx=_STORE.__new__(_STORE) if store else
                         _LOAD.__new__(_LOAD), annotation=None, type_comment=None)
    return node


_NAME, _LOAD, _STORE = gast.Name, gast.Load, gast.Store


def assign(target, value):
    targets = [target if isinstance(target, gast.AST) else name(target, store=True)]
    return gast.Assign(targets=targets, value=value, type_comment=None)


def call(func, args, keywords=None):
    func = parse_expr(func) if isinstance(func, str) else func
    keywords = [gast.keyword(arg=k, value=v) for k, v in (keywords or {}).items()]
    return gast.Call(func=func, args=list(args), keywords=keywords)


def comment(text, registry):
    """A placeholder statement that :func:`render_module` turns into ``# text``."""
    registry.append(text)
    return gast.Expr(value=name(f"{COMMENT_PREFIX}{len(registry) - 1}"))


def literal(value):
    """A gast expression for a Python literal value, or None if it has none."""
    if value is None or value is Ellipsis or isinstance(value, (bool, str)):
        return gast.Constant(value=value, kind=None)
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float) and not math.isfinite(value):
            text = "np.nan" if math.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
            return parse_expr(text)
        if value < 0:
            return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
        return gast.Constant(value=value, kind=None)
    if isinstance(value, (tuple, list)):
        elts = [literal(v) for v in value]
        if any(e is None for e in elts):
            return None
        cls = gast.Tuple if isinstance(value, tuple) else gast.List
        return cls(elts=elts, ctx=gast.Load())
    if isinstance(value, slice):
        return call("slice", [literal(value.start), literal(value.stop), literal(value.step)])
    if isinstance(value, np.ndarray) and value.size <= _MAX_INLINE_ARRAY \
            and value.dtype.kind in "biuf":
        return call("np.array", [literal(value.tolist())],
                    {"dtype": parse_expr(f"np.{value.dtype.name}")}
                    if value.dtype not in (np.float64, np.int64, np.bool_) else None)
    return None


def is_comment(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Name) and \
        stmt.value.id.startswith(COMMENT_PREFIX)


def _copy(node):
    """A copy of a gast node (:func:`s2sad.astutil.clone`), to use it twice in a tree."""
    return clone(node)
