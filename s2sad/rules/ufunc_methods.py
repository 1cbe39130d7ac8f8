"""Rules for the methods of NumPy's ufuncs that JAX and autograd users write.

``np.add.reduce`` is ``np.sum`` over axis 0 by default (it is what ``np.sum`` calls),
``np.multiply.reduce`` ``np.prod``, ``np.maximum.reduce``/``np.minimum.reduce``
``np.max``/``np.min``, ``np.add.accumulate`` ``np.cumsum`` and ``np.multiply.accumulate``
``np.cumprod``, each over axis 0. A method here has its model's stanza (the same
templates, read with the method's own signature and defaults, so ``axis`` is 0 when the
call does not give it) under its own spelling: the primal stays the method the user
called, and the value is f's to the last bit. The outer products
``np.multiply.outer``/``np.add.outer``/``np.subtract.outer`` have rules of their own: the
result has ``a``'s axes then ``b``'s, and each adjoint is ``g`` seen as a matrix of
``size(a)`` rows, contracted with the other operand (or summed, for a sum or difference).
The running extremes ``np.maximum.accumulate``/``np.minimum.accumulate`` take, each, the
element that set it: the first of equal ones, as ``np.maximum`` gives a tie to its first
operand.
"""

import copy

from .core import REGISTRY, RuleNotApplicable, _signature, define, resolve_spelling

_REDUCE = "a, axis=0, dtype=None, out=None, keepdims=False"
_ACCUMULATE = "a, axis=0, dtype=None, out=None"


def same_rules_as(model, spelling, signature):
    """Register ``spelling`` with the stanza of ``model`` (both spellings, ``np.sum``) and
    the parameters and defaults of ``signature``; the templates name the same parameters."""
    prim = copy.copy(REGISTRY[resolve_spelling(model)])
    prim.name, prim.emit = spelling, ("call", spelling)
    prim.params, prim.defaults = _signature(signature)
    # (the model's rules of parameters the method has not, np.sum's where=, are left out)
    prim.vjp = {k: v for k, v in prim.vjp.items() if k in prim.params}
    prim.jvp = {k: v for k, v in prim.jvp.items() if k in prim.params}
    REGISTRY[resolve_spelling(spelling)] = prim
    return prim


for _ufunc, _model in (("add", "np.sum"), ("multiply", "np.prod"), ("maximum", "np.max"),
                       ("minimum", "np.min")):
    same_rules_as(_model, f"np.{_ufunc}.reduce", _REDUCE)
for _ufunc, _model in (("add", "np.cumsum"), ("multiply", "np.cumprod")):
    same_rules_as(_model, f"np.{_ufunc}.accumulate", _ACCUMULATE)


def _as_matrix(g="g"):
    """``g`` (of shape ``a.shape + b.shape``) as a matrix of size(a) rows, size(b) columns."""
    return f"np.reshape({g}, (np.size(a), np.size(b)))"


define("np.multiply.outer", "a, b", linear="a b",
       a=f"np.reshape({_as_matrix()} @ np.ravel(b), np.shape(a))",
       b=f"np.reshape(np.ravel(a) @ {_as_matrix()}, np.shape(b))",
       jvp={"a": "np.multiply.outer(a_dot, b)", "b": "np.multiply.outer(a, b_dot)"})
define("np.add.outer", "a, b",
       a=f"np.reshape(np.sum({_as_matrix()}, axis=1), np.shape(a))",
       b=f"np.reshape(np.sum({_as_matrix()}, axis=0), np.shape(b))",
       jvp={"a": "np.multiply.outer(a_dot, np.ones_like(b))",
            "b": "np.multiply.outer(np.ones_like(a), b_dot)"})
define("np.subtract.outer", "a, b",
       a=f"np.reshape(np.sum({_as_matrix()}, axis=1), np.shape(a))",
       b=f"np.reshape(-np.sum({_as_matrix()}, axis=0), np.shape(b))",
       jvp={"a": "np.multiply.outer(a_dot, np.ones_like(b))",
            "b": "np.multiply.outer(np.ones_like(a), -b_dot)"})


def _running_extreme(tangent):
    """np.maximum.accumulate(a, axis) (np.minimum's): each running extreme is the element that
    set it (:func:`s2sad.support.running_extreme_index`), the first of equal ones."""
    def rule(b):
        if b.is_none("axis") or not isinstance(b.const("axis", 0), int):
            raise RuleNotApplicable("np.maximum.accumulate/np.minimum.accumulate have a "
                                    "derivative rule for a constant integer axis only")
        index = "running_extreme_index(ans, axis)"
        return f"np.take_along_axis(a_dot, {index}, axis)" if tangent else \
            f"unindex_along(g, a, {index}, axis)"
    return rule


for _ufunc in ("maximum", "minimum"):
    define(f"np.{_ufunc}.accumulate", _ACCUMULATE, a=_running_extreme(False),
           jvp={"a": _running_extreme(True)})
