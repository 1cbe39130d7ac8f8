"""Rules for products, shape operations and ``np.linalg``.

Matrix adjoints are written with ``.mT`` (the transpose of the last two axes),
so the same rule serves a matrix and a stack of matrices.
"""

from .core import RuleNotApplicable, define
from .reductions import axis_args

define("np.dot", "a, b", a="dot_bar_a(g, a, b)", b="dot_bar_b(g, a, b)")
define("np.matmul", "x1, x2", x1="matmul_bar_a(g, x1, x2)", x2="matmul_bar_b(g, x1, x2)")
define("np.outer", "a, b", a="np.reshape(g @ np.ravel(b), np.shape(a))",
       b="np.reshape(np.ravel(a) @ g, np.shape(b))")
define("np.transpose", "a, axes=None",
       a=lambda b: "np.transpose(g)" if b.is_none("axes") else "np.transpose(g, np.argsort(axes))")
define("np.reshape", "a, shape=None, order='C', newshape=None", a="np.reshape(g, np.shape(a))")
define("np.ravel", "a, order='C'", a="np.reshape(g, np.shape(a))")
define("np.squeeze", "a, axis=None", a="np.reshape(g, np.shape(a))")
define("np.expand_dims", "a, axis", a="np.reshape(g, np.shape(a))")
define("np.copy", "a, order='K'", a="g")
define("np.asarray", "a, dtype=None", a="g")
define("np.array", "object, dtype=None", object="g")
define("np.trace", "a, offset=0, axis1=0, axis2=1, dtype=None, out=None",
       a=lambda b: "g * np.eye(*np.shape(a))" if b.const("offset") == 0
       else "g * np.eye(*np.shape(a), k=offset)")
define("np.full", "shape, fill_value, dtype=None", fill_value="unbroadcast(g, fill_value)")

define("np.linalg.inv", "a", a="-ans.mT @ g @ ans.mT")
define("np.linalg.solve", "a, b", shared={"w": "np.linalg.solve(a.mT, g)"},
       a="-matmul_bar_a(w, a, ans)", b="w")
define("np.linalg.det", "a", a="np.expand_dims(g * ans, (-1, -2)) * np.linalg.inv(a).mT")


def _norm(b):
    if not b.is_none("ord") and b.const("ord") != "fro":
        raise RuleNotApplicable("np.linalg.norm has a derivative rule for ord=None "
                                "(the 2-norm of a vector, Frobenius of a matrix) only")
    return f"unreduce(g / ans, x{axis_args(b)}) * x"


define("np.linalg.norm", "x, ord=None, axis=None, keepdims=False", reduction=True, x=_norm)
