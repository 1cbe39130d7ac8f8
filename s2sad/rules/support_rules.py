"""Rules for the run-time helpers generated code calls (:mod:`s2sad.support`).

Derivative code is itself differentiable: ``grad(grad(f))`` lowers the
generated ``grad_f``, whose adjoint statements call ``unbroadcast``,
``unreduce``, ``matmul_bar_a`` and the rest. Each helper is linear in the
adjoint ``t`` it receives (the other operands pick axes or, like ``a`` in
``matmul_bar_a``, give only a shape), so its tangent is the helper applied to
the tangent, and its adjoint is the transposed operation: ``unbroadcast``
and ``np.sum`` undo each other's broadcasting, ``matmul_bar_a(t, a, b)`` is
``t @ b.T`` so ``t`` gets ``g @ b`` back. Parameters are renamed here (``t``,
``m``) because ``g`` and ``ans`` mean the adjoint and the result in a template.

A generated module carries copies of the helpers, so :func:`helper_copy`
recognises a copy by its name and source text and maps it to the primitive.
"""

import inspect

from .. import support
from .core import ZERO, Primitive, _signature
from .reductions import axis_args, axis_keywords


HELPER_RULES = {}  # support function -> Primitive; not user-facing, so not in the REGISTRY


def helper(fn, signature, *, jvp=None, **vjp):
    """Register the helper ``fn`` of :mod:`s2sad.support`; generated code calls it by name."""
    params, defaults = _signature(signature)
    prim = Primitive(fn.__name__, params, defaults, ("user", fn.__name__), vjp=vjp, jvp=jvp)
    HELPER_RULES[fn] = prim
    return prim


def _extremum_t(b):
    mask = f"extremum_bar(np.ones_like(m), a, m{axis_args(b)})"
    return f"np.sum(g * {mask}{axis_keywords(b)})"


helper(support.unbroadcast, "t, x", jvp={"t": "unbroadcast(t_dot, x)", "x": ZERO},
       t="g + np.zeros_like(t)", x=ZERO)
helper(support.unreduce, "t, x, axis=None, keepdims=False",
       jvp={"t": lambda b: f"unreduce(t_dot, x{axis_args(b)})", "x": ZERO, "axis": ZERO,
            "keepdims": ZERO},
       t=lambda b: f"np.sum(g{axis_keywords(b)})", x=ZERO, axis=ZERO, keepdims=ZERO)
helper(support.unindex, "t, x, index", jvp={"t": "unindex(t_dot, x, index)", "x": ZERO,
                                            "index": ZERO},
       t="g[index]", x=ZERO, index=ZERO)
helper(support.extremum_bar, "t, a, m, axis=None, keepdims=False",
       jvp={"t": lambda b: f"extremum_bar(t_dot, a, m{axis_args(b)})", "a": ZERO, "m": ZERO,
            "axis": ZERO, "keepdims": ZERO},
       t=_extremum_t, a=ZERO, m=ZERO, axis=ZERO, keepdims=ZERO)  # (axes: ints, a residual)
helper(support.matmul_bar_a, "t, a, b",
       jvp={"t": "matmul_bar_a(t_dot, a, b)", "a": ZERO, "b": "matmul_bar_a(t, a, b_dot)"},
       t="g @ b", a=ZERO, b="matmul_bar_b(t, g, b)")
helper(support.matmul_bar_b, "t, a, b",
       jvp={"t": "matmul_bar_b(t_dot, a, b)", "a": "matmul_bar_b(t, a_dot, b)", "b": ZERO},
       t="a @ g", a="matmul_bar_a(t, a, g)", b=ZERO)
helper(support.dot_bar_a, "t, a, b",
       jvp={"t": "dot_bar_a(t_dot, a, b)", "a": ZERO, "b": "dot_bar_a(t, a, b_dot)"},
       t="np.dot(g, b)", a=ZERO, b="dot_bar_b(t, g, b)")
helper(support.dot_bar_b, "t, a, b",
       jvp={"t": "dot_bar_b(t_dot, a, b)", "a": "dot_bar_b(t, a_dot, b)", "b": ZERO},
       t="np.dot(a, g)", a="dot_bar_a(t, a, g)", b=ZERO)
helper(support.lift, "t, x, m", jvp={"t": "lift(t_dot, x, m)", "x": ZERO, "m": ZERO},
       t="np.reshape(g, np.shape(t))", x=ZERO, m=ZERO)
# scatters and cuts (the adjoints of take, take_along_axis, diagonal, diag, concatenate, pad)
# are transposed by the gathers and joins they undo
helper(support.unindex_axis, "t, x, index, axis=None", t="np.take(g, index, axis)", x=ZERO,
       index=ZERO, axis=ZERO, jvp={"t": "unindex_axis(t_dot, x, index, axis)", "x": ZERO,
                                   "index": ZERO, "axis": ZERO})
helper(support.unindex_along, "t, x, indices, axis", t="np.take_along_axis(g, indices, axis)",
       x=ZERO, indices=ZERO, axis=ZERO, jvp={"t": "unindex_along(t_dot, x, indices, axis)",
                                             "x": ZERO, "indices": ZERO, "axis": ZERO})
helper(support.undiagonal, "t, x, offset=0, axis1=0, axis2=1",
       t="np.diagonal(g, offset, axis1, axis2)", x=ZERO, offset=ZERO, axis1=ZERO, axis2=ZERO,
       jvp={"t": "undiagonal(t_dot, x, offset, axis1, axis2)", "x": ZERO, "offset": ZERO,
            "axis1": ZERO, "axis2": ZERO})
helper(support.diag_bar, "t, v, k=0", t="np.diag(g, k)", v=ZERO, k=ZERO,
       jvp={"t": "diag_bar(t_dot, v, k)", "v": ZERO, "k": ZERO})
helper(support.unconcatenate, "t, arrays, axis=0, ndmin=1",
       t=lambda b: "np.vstack(g)" if b.const("ndmin") == 2 else "np.concatenate(g, axis)",
       arrays=ZERO, axis=ZERO, ndmin=ZERO,
       jvp={"t": "unconcatenate(t_dot, arrays, axis, ndmin)", "arrays": ZERO, "axis": ZERO,
            "ndmin": ZERO})
helper(support.unpad, "t, pad_width", t="np.pad(g, pad_width)", pad_width=ZERO,
       jvp={"t": "unpad(t_dot, pad_width)", "pad_width": ZERO})
# bilinear, like matmul_bar_a/b: linear in t and in the other factor
helper(support.tensordot_bar_a, "t, a, b, axes=2", t="np.tensordot(g, b, axes)", a=ZERO,
       b="tensordot_bar_b(t, g, b, axes)", axes=ZERO,
       jvp={"t": "tensordot_bar_a(t_dot, a, b, axes)", "a": ZERO,
            "b": "tensordot_bar_a(t, a, b_dot, axes)", "axes": ZERO})
helper(support.tensordot_bar_b, "t, a, b, axes=2", t="np.tensordot(a, g, axes)",
       a="tensordot_bar_a(t, a, g, axes)", b=ZERO, axes=ZERO,
       jvp={"t": "tensordot_bar_b(t_dot, a, b, axes)", "a": "tensordot_bar_b(t, a_dot, b, axes)",
            "b": ZERO, "axes": ZERO})
helper(support.kron_bar_a, "t, a, b", t="np.kron(g, b)", a=ZERO, b="kron_bar_b(t, g, b)",
       jvp={"t": "kron_bar_a(t_dot, a, b)", "a": ZERO, "b": "kron_bar_a(t, a, b_dot)"})
helper(support.kron_bar_b, "t, a, b", t="np.kron(a, g)", a="kron_bar_a(t, a, g)", b=ZERO,
       jvp={"t": "kron_bar_b(t_dot, a, b)", "a": "kron_bar_b(t, a_dot, b)", "b": ZERO})
# the deferred outer products of a loop (reverse.py, ``deferrable``): sum_k of
# matmul_bar_a(g_k, a, b_k) over a sequence of pairs, bilinear in each pair. Forward mode gives
# a list of pairs a list of tangent pairs (forward.py), so the tangent is the product rule pair
# by pair; the adjoint of the pairs is one pair of adjoints per pair. ``a`` gives a shape only.
for _side in ("a", "b"):
    _prim = helper(getattr(support, f"matmul_bar_{_side}_sum"), f"terms, {_side}",
                   jvp={"terms": f"matmul_bar_{_side}_sum_dot(terms, terms_dot, {_side})",
                        _side: ZERO},
                   terms=f"matmul_bar_{_side}_sum_bar(g, terms, {_side})", **{_side: ZERO})
    _prim.reads_lists = True  # given a list made by t = [], it reads a snapshot, tuple(t)
# a copy of a read-only view (a returned gradient): the identity
helper(support.writable, "t", t="g", jvp={"t": "t_dot"})
# run-time checks, and zeros to accumulate into: no derivative
for _name in ("check_scalar", "check_tall", "zeros_bar", "element_count"):
    if hasattr(support, _name):
        HELPER_RULES[getattr(support, _name)] = Primitive(_name, (), {}, ("user", _name),
                                                          differentiable=False, varargs=True)

_BY_NAME = {name: getattr(support, name) for name in support.HELPERS}


def is_helper_copy(obj, helper):
    """True if ``obj`` is s2sad.support's ``helper`` or a verbatim copy of it."""
    original = getattr(support, helper)
    if obj is original:
        return True
    if not inspect.isfunction(obj) or obj.__name__ != helper:
        return False
    try:
        return inspect.getsource(obj).strip() == inspect.getsource(original).strip()
    except (OSError, TypeError):
        return False


def helper_copy(obj):
    """The primitive of the helper ``obj`` is (or is a verbatim copy of), or None."""
    original = _BY_NAME.get(getattr(obj, "__name__", None))
    if original is None or original not in HELPER_RULES or not inspect.isfunction(obj):
        return None
    if obj is original:
        return HELPER_RULES[original]
    try:
        same = inspect.getsource(obj).strip() == inspect.getsource(original).strip()
    except (OSError, TypeError):
        return None
    return HELPER_RULES[original] if same else None
