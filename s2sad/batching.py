"""Vector mode's batched forms of a few rules: where a tangent with a leading axis of
directions needs no loop over the directions (:mod:`s2sad.forward`).

``np.sum``/``np.mean`` reduce one axis further on, an index gets a leading ``:``, a
dict's entry is read as it is. Layer 5, beside the code of custom rules.
"""

import gast

from .emit import call, literal
from .ir import Const, Index, Slice
from .rules.core import Template


def batched_reduction(prim, bound, dot):
    """``np.sum``/``np.mean`` of a batch of tangents over the same axes, one axis further on."""
    keepdims = bound.const("keepdims", None)
    if keepdims not in (False, True) or not all(bound.is_none(k) for k in ("dtype", "out")):
        return None
    masked = "where" in bound and bound.const("where", "mask") is not True
    if masked or not bound.is_none("initial"):
        return None  # (where= and initial= have rules of their own: direction by direction)
    if bound.is_none("axis"):
        if keepdims:
            return None
        return Template(f"{prim.name}(np.reshape(t, np.shape(t)[:1] + (-1,)), axis=-1)"
                        ).instantiate({"t": dot})
    axis = bound.const("axis")
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        return None
    shifted = tuple(a + 1 if a >= 0 else a for a in axes)
    keywords = {"axis": literal(shifted if isinstance(axis, tuple) else shifted[0])}
    if keepdims:
        keywords["keepdims"] = literal(True)
    return call(prim.name, [dot], keywords)


def batchable_index(index):
    """True if ``t[:, index]`` picks, from a batch ``t``, the batch of ``t[k][index]``.

    NumPy moves the axes of advanced (array) indices to the front when they
    are separated by a slice; with at most one part that may be an array,
    the leading ``:`` stays in front.
    """
    if not isinstance(index, Index):
        return False
    loose = [p for p in index.parts if not isinstance(p, Slice) and
             not (isinstance(p, Const) and (p.value is None or p.value is Ellipsis))]
    return len(loose) <= 1


def is_key(index):
    """True for a constant string index: a dict's entry (no array takes one)."""
    return isinstance(index, Index) and len(index.parts) == 1 and \
        isinstance(index.parts[0], Const) and isinstance(index.parts[0].value, str)


def batched_subscript(subscript):
    everything = gast.Slice(lower=None, upper=None, step=None)
    if isinstance(subscript, gast.Tuple):
        return gast.Tuple(elts=[everything] + list(subscript.elts), ctx=gast.Load())
    return gast.Tuple(elts=[everything, subscript], ctx=gast.Load())
