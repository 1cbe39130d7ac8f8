"""The wider NumPy and Python vocabulary of the random programs (:mod:`tests.programs.generator`).

Half of the programs (:data:`LIBRARY_SHARE`, drawn apart from the program itself so
the other half stay as they were) also build expressions from :data:`TEMPLATES`: the
calls JAX/autograd users type beyond ``+ - * /`` and ``np.tanh``. These include
cumulative sums and products, flips, rolls, differences, reshapes, tiles and repeats,
outer products, ``einsum``, traces and triangles, norms, variances, ``logaddexp``,
``hypot``, ``arctan2``, softmax and log-sum-exp, concatenation and stacking, and
``linalg`` (``det``, ``inv``, ``solve``, ``slogdet``) of well-conditioned matrices;
reductions with ``axis``/``keepdims`` (``sum``, ``mean``, ``max``, ``min``, ``prod``),
``var``/``std`` with ``ddof``, weighted averages, sorts along an axis and flattened,
``np.diff`` with ``n=2``, norms along axes (``'fro'``, ``ord=1``), ``clip`` with array
bounds or one side, ``where`` and leaky ReLUs, ``transpose``/``moveaxis``, einsum's
transposes, row-wise products, outer products and traces, ``vdot``, softmax and
log-sum-exp along an axis. They
also include array methods (``a.sum(axis=0)``, ``a.dot(b)``, ``a.clip(...)``), Python's
``abs``/``max``/``min``/``float`` of numbers, ``math`` functions of numbers, and
conditional expressions.

A template is ``(text, takes, other, bound)``:

- ``text`` has ``{a}`` (and ``{b}`` for two operands), each an expression in parentheses;
- ``takes(shape)`` says whether ``{a}`` may have that shape;
- ``other(shape)`` is the shape ``{b}`` must have (None: one operand);
- ``bound(ba, bb, n)`` bounds the result's magnitude given the operands' bounds and
  ``{a}``'s size.

The result's shape is found by evaluating the template on small arrays (:func:`result_shape`),
so a template cannot state a wrong shape; one that fails there is not used.
Kinks (``abs``, ``max``, ``maximum``) are fine: the oracle redraws points near them.
"""

import math
import warnings

import numpy as np

LIBRARY_SHARE = 0.5  # the share of programs that use TEMPLATES

ANY = lambda s: True  # noqa: E731
ND1 = lambda s: len(s) >= 1  # noqa: E731
ONE = lambda s: len(s) == 1  # noqa: E731
TWO = lambda s: len(s) == 2  # noqa: E731
NUM = lambda s: s == ()  # noqa: E731
LONG = lambda s: len(s) >= 1 and s[-1] >= 2  # noqa: E731
ROWS3 = lambda s: len(s) == 2 and s[0] == 3  # noqa: E731
SAME = lambda s: s  # noqa: E731


def _rows(s):
    return (s[0],) if len(s) == 2 else None


TEMPLATES = [
    # cumulative, reordering and reshaping
    ("np.cumsum({a}, axis=0)", ND1, None, lambda a, b, n: a * n),
    ("np.cumsum({a})", ND1, None, lambda a, b, n: a * n),
    ("({a}).cumsum(axis=-1)", ND1, None, lambda a, b, n: a * n),
    ("np.cumprod(np.tanh({a}), axis=-1)", ND1, None, lambda a, b, n: 1.0),
    ("np.flip({a}, axis=0)", ND1, None, lambda a, b, n: a),
    ("np.roll({a}, 1, axis=-1)", ND1, None, lambda a, b, n: a),
    ("({a})[::-1]", ND1, None, lambda a, b, n: a),
    ("np.diff({a}, axis=-1)", LONG, None, lambda a, b, n: 2 * a),
    ("np.reshape({a}, (-1,))", ND1, None, lambda a, b, n: a),
    ("({a}).ravel()", ND1, None, lambda a, b, n: a),
    ("({a}).reshape(-1)", TWO, None, lambda a, b, n: a),
    ("({a}).flatten()", TWO, None, lambda a, b, n: a),
    ("np.tile({a}, 2)", ONE, None, lambda a, b, n: a),
    ("np.repeat({a}, 2, axis=0)", ND1, None, lambda a, b, n: a),
    ("np.broadcast_to({a}, (3,) + np.shape({a}))", ONE, None, lambda a, b, n: a),
    ("np.squeeze(np.expand_dims({a}, 0), axis=0)", ND1, None, lambda a, b, n: a),
    ("np.swapaxes({a}, 0, 1)", TWO, None, lambda a, b, n: a),
    ("np.take({a}, [2, 0], axis=-1)", lambda s: len(s) >= 1 and s[-1] >= 3, None, lambda a, b, n: a),
    ("np.atleast_2d({a})", ONE, None, lambda a, b, n: a),
    ("sum({a})", ND1, None, lambda a, b, n: a * n),  # Python's sum: the rows
    ("sum({a}, 0.5)", ND1, None, lambda a, b, n: a * n + 0.5),
    ("({a}).item(0)", ND1, None, lambda a, b, n: a),
    # products and contractions
    ("np.outer({a}, {b})", ONE, lambda s: (4,), lambda a, b, n: a * b),
    ("np.inner({a}, {b})", ONE, SAME, lambda a, b, n: a * b * n),
    ("np.dot({a}, {b})", TWO, lambda s: s[1:], lambda a, b, n: a * b * n),
    ("({a}).dot({b})", TWO, lambda s: s[1:], lambda a, b, n: a * b * n),
    ("np.matmul({a}, {b})", TWO, lambda s: s[1:], lambda a, b, n: a * b * n),
    ("({a}).T @ ({a})", TWO, None, lambda a, b, n: a * a * n),
    ("({a}) @ ({a}).T", TWO, None, lambda a, b, n: a * a * n),
    ("np.einsum('ij,j->i', {a}, {b})", TWO, lambda s: s[1:], lambda a, b, n: a * b * n),
    ("np.einsum('ij,ij->', {a}, {b})", TWO, SAME, lambda a, b, n: a * b * n),
    ("np.einsum('ij->j', {a})", TWO, None, lambda a, b, n: a * n),
    ("np.einsum('i,i', {a}, {b})", ONE, SAME, lambda a, b, n: a * b * n),
    ("np.trace({a})", TWO, None, lambda a, b, n: a * n),
    ("np.diag({a})", lambda s: len(s) in (1, 2), None, lambda a, b, n: a),
    ("np.triu({a})", TWO, None, lambda a, b, n: a),
    ("np.tril({a}, -1)", TWO, None, lambda a, b, n: a),
    ("np.kron({a}, {b})", ONE, lambda s: (3,), lambda a, b, n: a * b),
    # reductions and statistics
    ("np.linalg.norm({a})", ND1, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.linalg.norm({a}, axis=-1)", TWO, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.prod(np.tanh({a}) + 1.5, axis=0)", ND1, None, lambda a, b, n: 2.5 ** min(n, 12)),
    ("np.var({a})", LONG, None, lambda a, b, n: a * a),
    ("np.std({a}, axis=-1)", LONG, None, lambda a, b, n: a),
    ("({a}).sum(axis=0)", ND1, None, lambda a, b, n: a * n),
    ("({a}).mean()", ND1, None, lambda a, b, n: a),
    ("({a}).max(axis=-1)", ND1, None, lambda a, b, n: a),
    ("({a}).min()", ND1, None, lambda a, b, n: a),
    ("np.amax({a}, axis=0)", ND1, None, lambda a, b, n: a),
    ("np.average({a}, axis=0)", ND1, None, lambda a, b, n: a),
    ("np.ptp({a})", ND1, None, lambda a, b, n: 2 * a),
    ("np.log(np.sum(np.exp(np.tanh({a}))))", ND1, None, lambda a, b, n: 1 + math.log(n)),
    ("np.exp({a} - np.max({a})) / np.sum(np.exp({a} - np.max({a})))", ND1, None, lambda a, b, n: 1.0),
    # element-wise functions of one and two operands
    ("np.logaddexp({a}, {b})", ANY, SAME, lambda a, b, n: max(a, b) + 1),
    ("np.hypot({a}, 0.5 + {b} * {b})", ANY, SAME, lambda a, b, n: a + 0.5 + b * b),
    ("np.arctan2({a}, 2.0 + np.sin({b}))", ANY, SAME, lambda a, b, n: math.pi),
    ("np.fmax({a}, {b})", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.sinh(np.tanh({a}))", ANY, None, lambda a, b, n: 1.2),
    ("np.cosh(np.tanh({a}))", ANY, None, lambda a, b, n: 1.6),
    ("np.arctan({a})", ANY, None, lambda a, b, n: 1.6),
    ("np.arcsinh({a})", ANY, None, lambda a, b, n: math.asinh(a)),
    ("np.expm1(np.tanh({a}))", ANY, None, lambda a, b, n: 1.8),
    ("np.log1p({a} * {a})", ANY, None, lambda a, b, n: math.log1p(a * a)),
    ("np.square({a})", ANY, None, lambda a, b, n: a * a),
    ("np.power({a} * {a} + 1.0, 1.5)", ANY, None, lambda a, b, n: (a * a + 1) ** 1.5),
    ("({a}) ** 3", ANY, None, lambda a, b, n: a ** 3),
    ("np.reciprocal(2.0 + np.sin({a}))", ANY, None, lambda a, b, n: 1.0),
    ("np.maximum({a}, 0.0)", ANY, None, lambda a, b, n: a),
    ("1.0 / (1.0 + np.exp(-np.tanh({a})))", ANY, None, lambda a, b, n: 1.0),
    ("np.cbrt(1.5 + np.tanh({a}))", ANY, None, lambda a, b, n: 1.4),
    ("np.exp2(np.tanh({a}))", ANY, None, lambda a, b, n: 2.0),
    ("np.log2(1.0 + {a} * {a})", ANY, None, lambda a, b, n: math.log2(1 + a * a)),
    ("np.sign({a}) * {b}", ANY, SAME, lambda a, b, n: b),
    ("({a}).clip(-0.5, 0.5)", ND1, None, lambda a, b, n: 0.5),
    ("np.where({a} > 0.1, {b}, 0.0)", ANY, SAME, lambda a, b, n: b),
    ("np.nan_to_num({a})", ANY, None, lambda a, b, n: a),
    # joining
    ("np.concatenate([{a}, {b}])", ONE, lambda s: (3,), lambda a, b, n: max(a, b)),
    ("np.concatenate([{a}, {b}], axis=1)", TWO, lambda s: (s[0], 2), lambda a, b, n: max(a, b)),
    ("np.stack([{a}, {b}])", ONE, SAME, lambda a, b, n: max(a, b)),
    ("np.stack([{a}, {b}], axis=-1)", ONE, SAME, lambda a, b, n: max(a, b)),
    ("np.hstack([{a}, {b}])", ONE, SAME, lambda a, b, n: max(a, b)),
    ("np.vstack([{a}, {b}])", ND1, SAME, lambda a, b, n: max(a, b)),
    ("np.column_stack([{a}, {b}])", ONE, SAME, lambda a, b, n: max(a, b)),
    ("np.append({a}, {b})", ONE, SAME, lambda a, b, n: max(a, b)),
    # linear algebra of well-conditioned matrices (I + A A^T / 10 has eigenvalues >= 1)
    ("np.linalg.det(np.eye(3) + 0.1 * ({a}) @ ({a}).T)", ROWS3, None, lambda a, b, n: (1 + 0.1 * a * a * n) ** 3),
    ("np.linalg.inv(np.eye(3) + 0.1 * ({a}) @ ({a}).T)", ROWS3, None, lambda a, b, n: 1.0),
    ("np.linalg.solve(2.0 * np.eye(3) + 0.1 * ({a}) @ ({a}).T, {b})", ROWS3, _rows, lambda a, b, n: b),
    ("np.linalg.slogdet(np.eye(3) + 0.1 * ({a}) @ ({a}).T)[1]", ROWS3, None,
     lambda a, b, n: 3 * math.log1p(0.1 * a * a * n)),
    ("np.linalg.inv(np.eye(3) + 0.1 * ({a}) @ ({a}).T) @ {b}", ROWS3, _rows, lambda a, b, n: 3 * b),
    ("np.linalg.eigvalsh(({a}) @ ({a}).T)", ROWS3, None, lambda a, b, n: a * a * n),
    ("np.linalg.svd({a}, compute_uv=False)", TWO, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.linalg.cholesky(np.eye(3) + 0.1 * ({a}) @ ({a}).T)", ROWS3, None, lambda a, b, n: 1 + a * math.sqrt(n)),
    ("np.linalg.matrix_power(0.5 * np.eye(3) + 0.1 * ({a}) @ ({a}).T, 3)", ROWS3, None,
     lambda a, b, n: (0.5 + 0.1 * a * a * n) ** 3),
    ("np.linalg.pinv({a})", ROWS3, None, lambda a, b, n: 10.0),
    ("np.einsum('ij,kj->ik', {a}, {b})", TWO, SAME, lambda a, b, n: a * b * n),
    ("np.tensordot({a}, {b}, axes=2)", TWO, SAME, lambda a, b, n: a * b * n),
    ("np.cross({a}, {b})", lambda s: s == (3,), SAME, lambda a, b, n: 2 * a * b),
    ("np.convolve({a}, {b}, mode='same')", ONE, SAME, lambda a, b, n: a * b * n),
    ("np.sum({a}[None, :] * {b}[:, None])", ONE, lambda s: (3,), lambda a, b, n: a * b * n * 3),
    ("np.split({a}, 2)[1]", lambda s: len(s) == 1 and s[0] % 2 == 0, None, lambda a, b, n: a),
    ("np.array_split({a}, 2)[0]", ND1, None, lambda a, b, n: a),
    ("np.max(np.stack([{a}, {b}]), axis=0)", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.median({a})", ND1, None, lambda a, b, n: a),
    # tuples joined and repeated
    ("np.stack(({a},) + ({b},))", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.concatenate(({a}, {b}) * 2)", ONE, SAME, lambda a, b, n: max(a, b)),
    ("sum(({a}, {b}) + ({a},))", ANY, SAME, lambda a, b, n: 2 * a + b),
    # Python's own functions of numbers, math, conditional expressions
    ("abs({a})", NUM, None, lambda a, b, n: a),
    ("max({a}, {b})", NUM, SAME, lambda a, b, n: max(a, b)),
    ("min({a}, {b}, 0.5)", NUM, SAME, lambda a, b, n: max(a, b, 0.5)),
    ("float({a})", NUM, None, lambda a, b, n: a),
    ("math.exp(math.tanh({a}))", NUM, None, lambda a, b, n: math.e),
    ("math.sin({a}) * math.sqrt(1.0 + {b} * {b})", NUM, SAME, lambda a, b, n: math.sqrt(1 + b * b)),
    ("pow({a}, 2)", NUM, None, lambda a, b, n: a * a),
    ("({a} if np.sum({b}) > 0.1 else 0.5 * {a})", ANY, SAME, lambda a, b, n: a),
    ("sum([{a}, {b}, 1.0])", ANY, SAME, lambda a, b, n: a + b + 1),
] + [
    # reductions with axis and keepdims, statistics with ddof
    ("np.sum({a}, axis=-1, keepdims=True)", ND1, None, lambda a, b, n: a * n),
    ("np.mean({a}, axis=0, keepdims=True)", ND1, None, lambda a, b, n: a),
    ("np.max({a}, axis=0, keepdims=True)", ND1, None, lambda a, b, n: a),
    ("np.min({a}, axis=-1)", ND1, None, lambda a, b, n: a),
    ("np.amin({a}, axis=-1, keepdims=True)", ND1, None, lambda a, b, n: a),
    ("np.mean({a}, axis=(0, 1))", TWO, None, lambda a, b, n: a),
    ("np.mean({a}, axis=-1) - np.mean({a})", ND1, None, lambda a, b, n: 2 * a),
    ("np.prod(np.tanh({a}) + 1.5, axis=-1, keepdims=True)", ND1, None, lambda a, b, n: 2.5 ** min(n, 12)),
    ("np.var({a}, ddof=1)", LONG, None, lambda a, b, n: 2 * a * a),
    ("np.var({a}, axis=-1, keepdims=True)", LONG, None, lambda a, b, n: a * a),
    ("np.std({a}, axis=0, ddof=1)", lambda s: len(s) >= 1 and s[0] >= 3, None, lambda a, b, n: 2 * a),
    ("np.average({a}, weights=np.arange(1.0, np.shape({a})[0] + 1.0), axis=0)", ND1, None,
     lambda a, b, n: a),
    # cumulative, sorted, shifted, differenced
    ("np.cumprod(np.tanh({a}) * 0.5 + 1.0, axis=0)", ND1, None, lambda a, b, n: 1.5 ** min(n, 12)),
    ("np.cumsum({a}, axis=-1)[..., -1]", ND1, None, lambda a, b, n: a * n),
    ("np.cumsum(({a})[::-1], axis=0)[::-1]", ND1, None, lambda a, b, n: a * n),
    ("np.sort({a}, axis=-1)", ND1, None, lambda a, b, n: a),
    ("np.sort({a}, axis=None)", ND1, None, lambda a, b, n: a),
    ("np.roll({a}, -1)", ND1, None, lambda a, b, n: a),
    ("np.roll({a}, 1, axis=0)", ND1, None, lambda a, b, n: a),
    ("np.diff({a})", LONG, None, lambda a, b, n: 2 * a),
    ("np.diff({a}, n=2, axis=-1)", lambda s: len(s) >= 1 and s[-1] >= 3, None, lambda a, b, n: 4 * a),
    ("np.diff({a}, axis=0)", lambda s: len(s) >= 1 and s[0] >= 2, None, lambda a, b, n: 2 * a),
    # norms
    ("np.linalg.norm({a}, axis=0)", TWO, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.linalg.norm({a}, axis=-1, keepdims=True)", TWO, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.linalg.norm({a}, 'fro')", TWO, None, lambda a, b, n: a * math.sqrt(n)),
    ("np.linalg.norm({a}, ord=1)", ONE, None, lambda a, b, n: a * n),
    ("np.linalg.norm({a} - {b})", ANY, SAME, lambda a, b, n: (a + b) * math.sqrt(n)),
    # clipping and selection
    ("np.clip({a}, -0.3, None)", ANY, None, lambda a, b, n: max(a, 0.3)),
    ("np.clip({a}, {b} - 0.5, {b} + 0.5)", ANY, SAME, lambda a, b, n: b + 0.5),
    ("np.where({a} > {b}, {a}, {b})", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.where({a} < 0.0, 0.1 * {a}, {a})", ANY, None, lambda a, b, n: a),
    ("np.minimum({a}, 0.5 * {b})", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.fmin({a}, {b})", ANY, SAME, lambda a, b, n: max(a, b)),
    # transposes, joins
    ("np.transpose({a})", TWO, None, lambda a, b, n: a),
    ("np.transpose({a}, (1, 0))", TWO, None, lambda a, b, n: a),
    ("np.moveaxis({a}, 0, -1)", TWO, None, lambda a, b, n: a),
    ("np.concatenate([{a}, {b}], axis=0)", TWO, SAME, lambda a, b, n: max(a, b)),
    ("np.concatenate([({a})[None], ({b})[None]]).mean(axis=0)", ANY, SAME, lambda a, b, n: max(a, b)),
    ("np.stack([{a}, {b}], axis=0).sum(axis=0)", ANY, SAME, lambda a, b, n: a + b),
    ("np.ravel({a})[::2]", ND1, None, lambda a, b, n: a),
    # products, traces, einsum
    ("np.einsum('ij->ji', {a})", TWO, None, lambda a, b, n: a),
    ("np.einsum('ij,ij->i', {a}, {b})", TWO, SAME, lambda a, b, n: a * b * n),
    ("np.einsum('i,j->ij', {a}, {b})", ONE, SAME, lambda a, b, n: a * b),
    ("np.einsum('ii', ({a}) @ ({a}).T)", TWO, None, lambda a, b, n: a * a * n),
    ("np.trace(np.outer({a}, {b}))", ONE, SAME, lambda a, b, n: a * b * n),
    ("np.trace({a}, offset=1)", TWO, None, lambda a, b, n: a * n),
    ("np.dot({a}, {a})", ONE, None, lambda a, b, n: a * a * n),
    ("np.vdot({a}, {b})", ANY, SAME, lambda a, b, n: a * b * n),
    # softmax and log-sum-exp along an axis
    ("np.log(np.sum(np.exp(np.tanh({a})), axis=-1, keepdims=True))", ND1, None,
     lambda a, b, n: 1 + math.log(n)),
    ("np.exp(np.tanh({a})) / np.sum(np.exp(np.tanh({a})), axis=-1, keepdims=True)", ND1, None,
     lambda a, b, n: 1.0),
]


# templates whose value may be (a view of) ``{a}``'s memory: the generator's alias tracking
MAY_SHARE = ("np.flip(", ")[::-1]", "reshape(", ".ravel()", "np.swapaxes(", "np.broadcast_to(",
             "np.squeeze(", "np.atleast_2d(", "np.diag(", " if np.sum(", "np.transpose(",
             "np.moveaxis(", "'ij->ji'", "np.ravel(")


def may_share(text):
    """True if the template ``text``'s value may share memory with its ``{a}``."""
    return any(part in text for part in MAY_SHARE)


def _sample(shape, k):
    return np.linspace(-0.6, 0.8 + 0.1 * k, max(1, math.prod(shape))).reshape(shape) if shape else 0.3 + 0.1 * k


def result_shape(text, shape_a, shape_b):
    """The shape of the template ``text``'s value for operands of those shapes, or None
    if NumPy refuses it (or warns)."""
    names = {"np": np, "math": math, "A": _sample(shape_a, 0)}
    if shape_b is not None:
        names["B"] = _sample(shape_b, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise"):
                value = eval(text.format(a="A", b="B"), names)  # noqa: S307 - our own templates
    except Exception:  # noqa: BLE001 - a template that does not fit these operands
        return None
    shape = np.shape(value)
    return shape if len(shape) <= 2 and 0 not in shape else None


def applicable(shape):
    """The templates whose ``{a}`` may have ``shape``."""
    return [t for t in TEMPLATES if t[1](tuple(shape))]
