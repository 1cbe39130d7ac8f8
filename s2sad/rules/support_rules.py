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
       jvp={"t": lambda b: f"unreduce(t_dot, x{axis_args(b)})", "x": ZERO},
       t=lambda b: f"np.sum(g{axis_keywords(b)})", x=ZERO)
helper(support.unindex, "t, x, index", jvp={"t": "unindex(t_dot, x, index)", "x": ZERO,
                                            "index": ZERO},
       t="g[index]", x=ZERO, index=ZERO)
helper(support.extremum_bar, "t, a, m, axis=None, keepdims=False",
       jvp={"t": lambda b: f"extremum_bar(t_dot, a, m{axis_args(b)})", "a": ZERO, "m": ZERO},
       t=_extremum_t, a=ZERO, m=ZERO)
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
# a run-time check, and zeros to accumulate into: no derivative
for _name in ("check_scalar", "zeros_bar"):
    if hasattr(support, _name):
        HELPER_RULES[getattr(support, _name)] = Primitive(_name, (), {}, ("user", _name),
                                                          differentiable=False, varargs=True)

_BY_NAME = {name: getattr(support, name) for name in support.HELPERS}


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
