"""Rules for ``np.linalg.norm``, ``vector_norm`` and ``matrix_norm``, for every ``ord``.

A vector p-norm's slope is ``sign(x) |x|^(p-1) / ans^(p-1)`` (``x / ans`` for p = 2,
``sign(x)`` for p = 1); ``inf`` and ``-inf`` are a max and a min of ``|x|``, whose ties share
the adjoint as ``np.max``'s do; ``ord=0`` counts nonzeros: zero derivative. Of the matrix
norms, ``1``/``-1`` (``inf``/``-inf``) are the max/min over columns (rows) of the summed
``|x|``; ``2``/``-2`` the largest/smallest singular value (slope ``u_k v_k^T``), ``'nuc'``
their sum (slope ``U V^T``), ``'fro'`` the 2-norm of the entries. At a kink (a zero entry
for p = 1, a tie, a repeated singular value) the rule picks one subgradient, as JAX does:
``sign(0) = 0``. ``np.linalg.norm`` with ``axis=None`` and an ``ord`` is a vector norm of a
1-d ``x`` and a matrix norm of a 2-d one: the template asks ``np.ndim(x)``.
"""

import math

from .core import RuleNotApplicable, define
from .reductions import NONZERO, axis_args, axis_keywords


def _vector(b, order):
    """(VJP, JVP) of a vector norm of order ``order`` over ``axis`` (None: all of x)."""
    spread, kw = axis_args(b), axis_keywords(b)
    if order == 0:
        return None, None
    if order in (math.inf, -math.inf):
        share = f"extremum_bar({{}}, np.abs(x), ans{spread})"
        return (share.format("g") + " * np.sign(x)",
                f"np.sum(x_dot * np.sign(x) * {share.format('np.ones_like(ans)')}{kw})")
    if order == 2:  # (at x = 0 the slope is 0, a subgradient, not 0 / 0)
        return f"unreduce(g / {NONZERO}, x{spread}) * x", f"np.sum(x * x_dot{kw}) / {NONZERO}"
    if order == 1:
        return f"unreduce(g, x{spread}) * np.sign(x)", f"np.sum(x_dot * np.sign(x){kw})"
    slope = f"np.sign(x) * np.abs(x) ** ({order!r} - 1)"
    return (f"unreduce(g * ans ** (1 - {order!r}), x{spread}) * {slope}",
            f"np.sum(x_dot * {slope}{kw}) * ans ** (1 - {order!r})")


def _matrix(order, axes, keepdims):
    """(VJP, JVP) of a matrix norm over the constant axes (r, c); ``keepdims`` constant."""
    r, c = axes
    if keepdims not in (True, False):
        raise RuleNotApplicable("the matrix norms have derivative rules for keepdims True or "
                                "False only")

    def full(t):  # a value of ans's shape, with the two reduced axes back (size 1)
        return t if keepdims else f"np.expand_dims({t}, {(r, c)})"
    if order in (None, "fro"):
        keep = ", keepdims=True" if keepdims else ""
        return f"{full('g / ' + NONZERO)} * x", \
            f"np.sum(x * x_dot, axis={(r, c)}{keep}) / {NONZERO}"
    if order in (1, -1, math.inf, -math.inf):  # summed over one axis, extremum over the other
        summed, extremum = (r, c) if order in (1, -1) else (c, r)
        share = f"extremum_bar({{}}, np.sum(np.abs(x), axis={summed}, keepdims=True), " \
                f"{full('ans')}, {extremum}, True)"
        slope = f"np.sign(x) * {share.format(full('np.ones_like(ans)'))}"
        return (f"np.sign(x) * {share.format(full('g'))}",
                f"np.reshape(np.sum(x_dot * {slope}, axis={(r, c)}), np.shape(ans))")
    if order not in (2, -2, "nuc"):
        raise RuleNotApplicable(f"np.linalg.norm of a matrix has no ord={order!r} "
                                "(NumPy's: None, 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")
    return _singular(order, axes)


def _singular(order, axes):
    """(VJP, JVP) of the norms made of singular values: 2, -2 (one of them), 'nuc' (all)."""
    def moved(t):  # the two axes last, where np.linalg.svd reads them
        return t if axes == (-2, -1) else f"np.moveaxis({t}, {axes}, (-2, -1))"

    def back(t):
        return t if axes == (-2, -1) else f"np.moveaxis({t}, (-2, -1), {axes})"
    usv = f"np.linalg.svd({moved('x')}, full_matrices=False)"
    g = f"np.expand_dims(np.reshape(g, np.shape({moved('x')})[:-2]), (-2, -1))"
    dots = f"np.sum(({usv}[0].mT @ {moved('x_dot')}) * {usv}[2], axis=-1)"  # u_k . dX v_k
    if order == "nuc":
        return (back(f"{g} * ({usv}[0] @ {usv}[2])"),
                f"np.reshape(np.sum({dots}, axis=-1), np.shape(ans))")
    k = "0:1" if order == 2 else "-1:"
    return (back(f"{g} * ({usv}[0][..., :, {k}] @ {usv}[2][..., {k}, :])"),
            f"np.reshape({dots}[..., {k}], np.shape(ans))")


def _constants(b, *names):
    values = [b.const(name, b) for name in names]
    if any(v is b for v in values):
        raise RuleNotApplicable(f"the norms have derivative rules for constant "
                                f"{', '.join(names)} only")
    return values


def _norm(which):
    """np.linalg.norm's VJP (which=0) or JVP (which=1), chosen as NumPy chooses the norm."""
    def rule(b):
        order, axis, keepdims = _constants(b, "ord", "axis", "keepdims")
        if axis is None and order is None:  # the 2-norm of all the entries, any shape
            return _vector(b, 2)[which]
        if isinstance(axis, int) or isinstance(axis, tuple) and len(axis) == 1:
            return _vector(b, 2 if order is None else order)[which]
        if isinstance(axis, tuple) and len(axis) == 2:
            return _matrix(order, axis, keepdims)[which]
        if axis is not None:
            raise RuleNotApplicable("np.linalg.norm takes an int or a pair of axes")
        if order in ("fro", "nuc"):  # (a 2-d x: its axes are (-2, -1))
            return _matrix(order, (-2, -1), keepdims)[which]
        if order not in (1, -1, 2, -2, math.inf, -math.inf):  # a vector's only (1-d x)
            return _vector(b, order)[which]
        vector, matrix = _vector(b, order)[which], _matrix(order, (-2, -1), keepdims)[which]
        return f"({vector or '0.0'}) if np.ndim(x) == 1 else ({matrix})"
    return rule


define("np.linalg.norm", "x, ord=None, axis=None, keepdims=False", reduction=True, real_result=True,
       x=_norm(0),
       jvp={"x": _norm(1)})


def _vector_norm(which):
    def rule(b):
        _constants(b, "ord")
        return _vector(b, b.const("ord"))[which]
    return rule


define("np.linalg.vector_norm", "x, axis=None, keepdims=False, ord=2", reduction=True,
       x=_vector_norm(0), jvp={"x": _vector_norm(1)})


def _matrix_norm(which):
    def rule(b):
        order, keepdims = _constants(b, "ord", "keepdims")
        return _matrix(order, (-2, -1), keepdims)[which]
    return rule


define("np.linalg.matrix_norm", "x, keepdims=False, ord='fro'", x=_matrix_norm(0),
       jvp={"x": _matrix_norm(1)})
