"""Rules for products, shape operations and ``np.linalg``.

Matrix adjoints are written with ``.mT`` (the transpose of the last two axes),
so the same rule serves a matrix and a stack of matrices. Tangents (``jvp=``)
apply the linear operation to the tangent, or differentiate the product.
"""

from .core import RuleNotApplicable, define
from .reductions import axis_args, axis_keywords

define("np.dot", "a, b", a="dot_bar_a(g, a, b)", b="dot_bar_b(g, a, b)",
       jvp={"a": "np.dot(a_dot, b)", "b": "np.dot(a, b_dot)"})
define("np.matmul", "x1, x2", x1="matmul_bar_a(g, x1, x2)", x2="matmul_bar_b(g, x1, x2)",
       jvp={"x1": "np.matmul(x1_dot, x2)", "x2": "np.matmul(x1, x2_dot)"})
define("np.outer", "a, b", a="np.reshape(g @ np.ravel(b), np.shape(a))",
       b="np.reshape(np.ravel(a) @ g, np.shape(b))",
       jvp={"a": "np.outer(a_dot, b)", "b": "np.outer(a, b_dot)"})
define("np.transpose", "a, axes=None",
       a=lambda b: "np.transpose(g)" if b.is_none("axes") else "np.transpose(g, np.argsort(axes))",
       jvp={"a": lambda b: "np.transpose(a_dot" + ("" if b.is_none("axes") else ", axes") + ")"})
define("np.reshape", "a, shape=None, order='C', newshape=None", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.reshape(a_dot, np.shape(ans))"})
define("np.ravel", "a, order='C'", a="np.reshape(g, np.shape(a))", jvp={"a": "np.ravel(a_dot)"})
define("np.squeeze", "a, axis=None", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.reshape(a_dot, np.shape(ans))"})
define("np.expand_dims", "a, axis", a="np.reshape(g, np.shape(a))",
       jvp={"a": "np.expand_dims(a_dot, axis)"})
define("np.copy", "a, order='K'", a="g", jvp={"a": "a_dot"})
define("np.asarray", "a, dtype=None", a="g", jvp={"a": "np.asarray(a_dot)"})
define("np.array", "object, dtype=None", object="g", jvp={"object": "np.array(object_dot)"})


def _trace(b):
    if b.const("axis1") != 0 or b.const("axis2") != 1:
        raise RuleNotApplicable("np.trace has a derivative rule for axis1=0, axis2=1 only")
    k = "" if b.const("offset") == 0 else ", k=offset"
    eye = f"np.eye(np.shape(a)[0], np.shape(a)[1]{k})"
    # a[i, j, ...] receives g[...] on the diagonal: g's axes go last, under the eye matrix
    return f"np.transpose(np.expand_dims(np.transpose(g), (-2, -1)) * {eye}.T)"


def _trace_dot(b):
    _trace(b)  # the same conditions
    return "np.trace(a_dot)" if b.const("offset") == 0 else "np.trace(a_dot, offset)"


define("np.trace", "a, offset=0, axis1=0, axis2=1, dtype=None, out=None", a=_trace,
       jvp={"a": _trace_dot})
define("np.full", "shape, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)",
       jvp={"fill_value": "fill_value_dot + np.zeros_like(ans)"})

define("np.linalg.inv", "a", a="-ans.mT @ g @ ans.mT", jvp={"a": "-ans @ a_dot @ ans"})
define("np.linalg.solve", "a, b", shared={"w": "np.linalg.solve(a.mT, g)"},
       a="-matmul_bar_a(w, a, ans)", b="w",
       jvp={"a": "-np.linalg.solve(a, a_dot @ ans)", "b": "np.linalg.solve(a, b_dot)"})
define("np.linalg.det", "a", a="np.expand_dims(g * ans, (-1, -2)) * np.linalg.inv(a).mT",
       jvp={"a": "ans * np.sum(np.linalg.inv(a).mT * a_dot, axis=(-2, -1))"})


def _norm(b):
    if not b.is_none("ord") and b.const("ord") != "fro":
        raise RuleNotApplicable("np.linalg.norm has a derivative rule for ord=None "
                                "(the 2-norm of a vector, Frobenius of a matrix) only")
    return f"unreduce(g / ans, x{axis_args(b)}) * x"


def _norm_dot(b):
    _norm(b)
    return f"np.sum(x * x_dot{axis_keywords(b)}) / ans"


define("np.linalg.norm", "x, ord=None, axis=None, keepdims=False", reduction=True, x=_norm,
       jvp={"x": _norm_dot})
