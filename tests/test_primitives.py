"""Every differentiable primitive against finite differences: the per-primitive spec table.

Each case is a small ``def`` in this module (s2sad reads source, so the
functions must live in a file) applied to inputs drawn, from a seed derived
from the case's name, inside a domain where the function is smooth: logs of
positive numbers, ``arcsin`` inside (-1, 1), ``max``/``min`` without ties,
``%`` away from its jumps, well-conditioned matrices for ``np.linalg``.

Functions returning a scalar weigh their array result with a fixed random
array, so the output is sensitive to every element; they are checked through
``s2sad.grad``. Functions returning an array (reductions, shape operations,
linear algebra) are checked through ``s2sad.vjp`` with a random ``out_bar``.
Either way the whole derivative is compared, element by element, with a
fourth-order central difference (error ~h**4, so a relative accuracy of 1e-6
is a real test); so is forward mode, one ``s2sad.jvp`` per basis direction;
and ``s2sad.check_grads`` runs as well. All positional arguments are
differentiated at once, so both operands of a binary operation are checked,
over every broadcasting pattern of :data:`BROADCASTS`.

The coverage test lowers every case and fails when a differentiable primitive
of :func:`s2sad.rules.all_primitives` (or a rule of a run-time helper, which
derivatives of derivatives call) appears in none, so a new rule cannot land
without a case here. Cases marked xfail name a known bug. Further tests pin
down the conventions where the derivative does not exist in the classical
sense: piecewise-constant functions contribute zero, ties of ``max``/``min``
share the adjoint.
"""

import math
import zlib

import numpy as np
import pytest

import s2sad
from s2sad import rules
from s2sad.lower import lower
from s2sad.rules.support_rules import HELPER_RULES
from s2sad.support import (dot_bar_a, dot_bar_b, extremum_bar, lift, matmul_bar_a, matmul_bar_b,
                           unbroadcast, unindex, unreduce)

RTOL = 1e-6  # relative accuracy asked of every derivative
H = 1e-3  # finite-difference step; inputs are O(1)

_rng = np.random.default_rng(1234)
W2, W3, W4, W6 = (_rng.standard_normal(n) for n in (2, 3, 4, 6))
W22, W32, W33, W34, W43, W44, W24 = (_rng.standard_normal(s) for s in
                                     [(2, 2), (3, 2), (3, 3), (3, 4), (4, 3), (4, 4), (2, 4)])
W234, W243, W314, W134, W341 = (_rng.standard_normal(s) for s in
                                [(2, 3, 4), (2, 4, 3), (3, 1, 4), (1, 3, 4), (3, 4, 1)])
COND = _rng.standard_normal((3, 4)) > 0
IDX = np.array([0, 2, 0, 0])  # repeated rows: their adjoints must accumulate
IDX1 = np.array([1, 1, 3, 1, 0])
MASK = np.array([True, False, True])


# --- input domains: each returns a function of a Generator --------------------------


def _out(a):
    return float(a) if np.ndim(a) == 0 else a


def uniform(lo, hi, *shape):
    return lambda rng: _out(rng.uniform(lo, hi, shape))


def real(*shape):
    return lambda rng: _out(rng.standard_normal(shape))


def pos(*shape):
    return uniform(0.5, 2.0, *shape)


def unit(*shape):
    return uniform(-0.9, 0.9, *shape)


def away(*shape):
    """Away from zero, of either sign (for abs, sign-dependent rules)."""
    return lambda rng: _out(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape))


def distinct(*shape):
    """Values about 4 / size apart, so max/min have no ties within the step."""
    n = int(np.prod(shape))
    return lambda rng: _out((rng.permutation(np.linspace(-2, 2, n))
                             + rng.uniform(-0.02, 0.02, n)).reshape(shape))


def matrix(*shape):
    """Well-conditioned square matrices (or a stack of them)."""
    n = shape[-1]
    return lambda rng: np.eye(n) + 0.3 * rng.standard_normal(shape)


# --- the case table -------------------------------------------------------------------


def case(fn, *domains, where=None, tag=""):
    """A pytest param: ``fn`` at inputs drawn from ``domains`` (redrawn until ``where`` holds)."""
    ident = fn.__name__ + (f"[{tag}]" if tag else "")
    rng = np.random.default_rng(zlib.crc32(ident.encode()))
    for _ in range(1000):
        args = tuple(d(rng) for d in domains)
        if where is None or where(*args):
            break
    else:
        raise ValueError(f"no inputs for {ident} satisfy its constraint")
    return pytest.param(fn, args, id=ident)


def xfail(param, reason):
    return pytest.param(*param.values, id=param.id,
                        marks=pytest.mark.xfail(strict=True, reason=reason))


def apart(*args):
    """Operands of max/min/clip more than 0.05 apart wherever they meet."""
    return np.all(np.abs(np.subtract(*np.broadcast_arrays(*args[:2]))) > 0.05)


def mod_smooth(x, y):
    """x / y at least 0.05 from an integer, where ``%`` jumps."""
    r = np.asarray(x) / np.asarray(y)
    return np.all(np.abs(r - np.round(r)) > 0.05)


# Binary operators and binary ufuncs, over every broadcasting pattern; results end in (3, 4).
BROADCASTS = {"scalar*array": ((), (3, 4)), "array*scalar": ((3, 4), ()),
              "same": ((3, 4), (3, 4)), "(3,4)*(4,)": ((3, 4), (4,)),
              "(4,)*(3,4)": ((4,), (3, 4)), "row(1,4)*(3,4)": ((1, 4), (3, 4)),
              "col(3,1)*(3,4)": ((3, 1), (3, 4)), "(4,)*col(3,1)": ((4,), (3, 1)),
              "(3,4)*(2,3,4)": ((3, 4), (2, 3, 4)), "(2,1,4)*(3,1)": ((2, 1, 4), (3, 1))}


def op_add(x, y): return np.sum((x + y) * W34)
def op_sub(x, y): return np.sum((x - y) * W34)
def op_mul(x, y): return np.sum((x * y) * W34)
def op_div(x, y): return np.sum((x / y) * W34)
def op_pow(x, y): return np.sum((x ** y) * W34)
def op_mod(x, y): return np.sum((x % y) * W34)
def np_add(x, y): return np.sum(np.add(x, y) * W34)
def np_subtract(x, y): return np.sum(np.subtract(x, y) * W34)
def np_multiply(x, y): return np.sum(np.multiply(x, y) * W34)
def np_divide(x, y): return np.sum(np.divide(x, y) * W34)
def np_power(x, y): return np.sum(np.power(x, y) * W34)
def np_maximum(x, y): return np.sum(np.maximum(x, y) * W34)
def np_minimum(x, y): return np.sum(np.minimum(x, y) * W34)
def np_fmax(x, y): return np.sum(np.fmax(x, y) * W34)
def np_fmin(x, y): return np.sum(np.fmin(x, y) * W34)
def np_arctan2(x, y): return np.sum(np.arctan2(x, y) * W34)
def np_hypot(x, y): return np.sum(np.hypot(x, y) * W34)
def np_logaddexp(x, y): return np.sum(np.logaddexp(x, y) * W34)
def np_where(x, y): return np.sum(np.where(COND, x, y) * W34)


BINARY = [  # function, domain of x, domain of y, constraint
    (op_add, real, real, None), (op_sub, real, real, None), (op_mul, real, real, None),
    (op_div, real, away, None), (op_pow, pos, real, None),
    (op_mod, lambda *s: uniform(-3, 3, *s), pos, mod_smooth),
    (np_add, real, real, None), (np_subtract, real, real, None),
    (np_multiply, real, real, None), (np_divide, real, away, None), (np_power, pos, real, None),
    (np_maximum, real, real, apart), (np_minimum, real, real, apart),
    (np_fmax, real, real, apart), (np_fmin, real, real, apart),
    (np_arctan2, real, away, None), (np_hypot, away, away, None),
    (np_logaddexp, real, real, None), (np_where, real, real, None),
]
BINARY_CASES = [case(fn, dx(*sx), dy(*sy), where=ok, tag=tag)
                for fn, dx, dy, ok in BINARY for tag, (sx, sy) in BROADCASTS.items()]


# Operators: the rest.
def op_pow2(x): return np.sum(x ** 2 * W34)
def op_pow2_float(x): return np.sum(x ** 2.0 * W34)
def op_mod_const(x): return np.sum(x % 1.0 * W34)
def np_power_int(x): return np.sum(np.power(x, 3) * W34)
def op_pow3(x): return np.sum(x ** 3 * W34)
def op_pow_half(x): return np.sum(x ** 0.5 * W34)
def op_pow_negative(x): return np.sum(x ** -1.5 * W34)
def op_const_base(x): return np.sum(2.0 ** x * W34)
def op_rdiv(x): return np.sum(1.0 / x * W34)
def op_neg(x): return np.sum(-x * W34)
def op_pos(x): return np.sum(+x * W34)
def op_mm(x, y): return np.sum(x @ y * W32)
def op_mv(x, y): return np.sum(x @ y * W3)
def op_vm(x, y): return np.sum(x @ y * W4)
def op_vv(x, y): return x @ y
def op_batch_mm(x, y): return np.sum(x @ y * W24[:, None, :2])
def op_transpose_attr(x): return np.sum(x.T * W43)
def op_mT(x): return np.sum(x.mT * W243)
def op_astype(x): return np.sum(x.astype(np.float64) * W34)


def op_mul_self(x): return np.sum(x * x * W34)
def op_div_self(x): return np.sum((x / x + x) * W34)
def op_mm_self(x): return np.sum(x @ x * W33)
def np_dot_self(x): return np.dot(x, x)
def np_outer_self(x): return np.sum(np.outer(x, x) * W44)
def np_hypot_self(x): return np.sum(np.hypot(x, 2.0 * x) * W34)
def la_solve_self(a): return np.linalg.solve(a, a)


def op_copy(x):
    y = x
    return np.sum(y * W34)


def op_augmented(x, y):
    z = x * y
    z += x
    z *= y
    z -= 2.0 * x
    z /= y
    return np.sum(z * W34)


OPERATOR_CASES = [
    case(op_pow2, real(3, 4)), case(op_pow2_float, real(3, 4)), case(np_power_int, real(3, 4)),
    case(op_mod_const, uniform(-3, 3, 3, 4), where=lambda x: mod_smooth(x, 1.0)),
    case(op_pow3, real(3, 4)), case(op_pow_half, pos(3, 4)),
    case(op_pow_negative, pos(3, 4)), case(op_const_base, real(3, 4)),
    case(op_rdiv, away(3, 4)), case(op_neg, real(3, 4)), case(op_pos, real(3, 4)),
    case(op_mm, real(3, 4), real(4, 2)), case(op_mv, real(3, 4), real(4)),
    case(op_vm, real(3), real(3, 4)), case(op_vv, real(4), real(4)),
    case(op_batch_mm, real(2, 3, 4), real(4, 2)), case(op_transpose_attr, real(3, 4)),
    case(op_mT, real(2, 3, 4)), case(op_astype, real(3, 4)), case(op_copy, real(3, 4)),
    case(op_augmented, real(3, 4), away(4)),
    # one value used twice by the same statement: both contributions must arrive
    case(op_mul_self, real(3, 4)), case(op_div_self, away(3, 4)), case(op_mm_self, real(3, 3)),
    case(np_dot_self, real(4)), case(np_outer_self, real(4)), case(np_hypot_self, away(3, 4)),
    case(la_solve_self, matrix(3, 3)),
]


# Indexing reads.
def ix_int(x): return np.sum(x[1] * W4)
def ix_negative_int(x): return np.sum(x[-1] * W4)
def ix_two_ints(x): return x[1, -2] * 3.0
def ix_column(x): return np.sum(x[:, 2] * W3)
def ix_slices(x): return np.sum(x[1:, ::2] * W22)
def ix_reversed(x): return np.sum(x[::-1, 1:3] * W32)
def ix_repeated(x): return np.sum(x[IDX] * W44)
def ix_repeated_1d(x): return np.sum(x[IDX1] * W6[:5])
def ix_list(x): return np.sum(x[[0, 0, 2]] * W34)
def ix_pair_arrays(x): return np.sum(x[IDX, IDX] * W4)
def ix_array_and_slice(x): return np.sum(x[IDX, 1:] * W43)
def ix_newaxis(x): return np.sum(x[:, np.newaxis] * W314)
def ix_none(x): return np.sum(x[None] * W134)
def ix_trailing_newaxis(x): return np.sum(x[..., None] * W341)
def ix_ellipsis(x): return np.sum(x[..., 0] * W3)
def ix_mask(x): return np.sum(x[MASK] * W34[:2])
def ix_of_a_result(x): return np.sum(np.exp(x)[IDX1[:3]] * W3)
def ix_chained(x): return x[1][2] * 3.0 + x[-1][::-1][0]
def ix_negative_bounds(x): return np.sum(x[-2:, :-1] * W33[:2])
def ix_columns_repeated(x): return np.sum(x[:, IDX] * W34)
def ix_mask_from_x(x): return np.sum(x[x > 0] ** 2)
def ix_computed_int(x): return x[len(x) - 1] * x[0]


INDEX_CASES = [
    case(ix_int, real(3, 4)), case(ix_negative_int, real(3, 4)), case(ix_two_ints, real(3, 4)),
    case(ix_column, real(3, 4)), case(ix_slices, real(3, 4)), case(ix_reversed, real(3, 4)),
    case(ix_repeated, real(3, 4)), case(ix_repeated_1d, real(4)), case(ix_list, real(3, 4)),
    case(ix_pair_arrays, real(3, 4)), case(ix_array_and_slice, real(3, 4)),
    case(ix_newaxis, real(3, 4)), case(ix_none, real(3, 4)), case(ix_trailing_newaxis, real(3, 4)),
    case(ix_ellipsis, real(3, 4)), case(ix_mask, real(3, 4)), case(ix_of_a_result, real(4)),
    case(ix_chained, real(3, 4)), case(ix_negative_bounds, real(3, 4)),
    case(ix_columns_repeated, real(3, 4)), case(ix_mask_from_x, away(3, 4)),
    case(ix_computed_int, real(5)),
]


# NumPy functions of one argument.
def u_exp(x): return np.sum(np.exp(x) * W34)
def u_exp2(x): return np.sum(np.exp2(x) * W34)
def u_log(x): return np.sum(np.log(x) * W34)
def u_log2(x): return np.sum(np.log2(x) * W34)
def u_log10(x): return np.sum(np.log10(x) * W34)
def u_log1p(x): return np.sum(np.log1p(x) * W34)
def u_expm1(x): return np.sum(np.expm1(x) * W34)
def u_sqrt(x): return np.sum(np.sqrt(x) * W34)
def u_cbrt(x): return np.sum(np.cbrt(x) * W34)
def u_square(x): return np.sum(np.square(x) * W34)
def u_reciprocal(x): return np.sum(np.reciprocal(x) * W34)
def u_sin(x): return np.sum(np.sin(x) * W34)
def u_cos(x): return np.sum(np.cos(x) * W34)
def u_tan(x): return np.sum(np.tan(x) * W34)
def u_arcsin(x): return np.sum(np.arcsin(x) * W34)
def u_arccos(x): return np.sum(np.arccos(x) * W34)
def u_arctan(x): return np.sum(np.arctan(x) * W34)
def u_sinh(x): return np.sum(np.sinh(x) * W34)
def u_cosh(x): return np.sum(np.cosh(x) * W34)
def u_tanh(x): return np.sum(np.tanh(x) * W34)
def u_arcsinh(x): return np.sum(np.arcsinh(x) * W34)
def u_arccosh(x): return np.sum(np.arccosh(x) * W34)
def u_arctanh(x): return np.sum(np.arctanh(x) * W34)
def u_abs(x): return np.sum(np.abs(x) * W34)
def u_fabs(x): return np.sum(np.fabs(x) * W34)
def u_negative(x): return np.sum(np.negative(x) * W34)
def u_positive(x): return np.sum(np.positive(x) * W34)
def u_exp_scalar(x): return np.exp(x) * 2.0
def u_exp_vector_out(x): return np.exp(x)


UNARY_CASES = [
    case(u_exp, real(3, 4)), case(u_exp2, real(3, 4)), case(u_log, pos(3, 4)),
    case(u_log2, pos(3, 4)), case(u_log10, pos(3, 4)), case(u_log1p, uniform(-0.5, 2, 3, 4)),
    case(u_expm1, real(3, 4)), case(u_sqrt, pos(3, 4)), case(u_cbrt, away(3, 4)),
    case(u_square, real(3, 4)), case(u_reciprocal, away(3, 4)), case(u_sin, real(3, 4)),
    case(u_cos, real(3, 4)), case(u_tan, uniform(-1.2, 1.2, 3, 4)), case(u_arcsin, unit(3, 4)),
    case(u_arccos, unit(3, 4)), case(u_arctan, real(3, 4)), case(u_sinh, real(3, 4)),
    case(u_cosh, real(3, 4)), case(u_tanh, real(3, 4)), case(u_arcsinh, real(3, 4)),
    case(u_arccosh, uniform(1.2, 3, 3, 4)), case(u_arctanh, unit(3, 4)), case(u_abs, away(3, 4)),
    case(u_fabs, away(3, 4)), case(u_negative, real(3, 4)), case(u_positive, real(3, 4)),
    case(u_exp_scalar, real()), case(u_exp_vector_out, real(3, 4)),
]


# np.where and np.clip beyond the broadcasting table.
def w_condition_from_x(x, y): return np.sum(np.where(x > 0, x * x, y) * W34)
def w_broadcast_condition(x, y): return np.sum(np.where(COND[0], x, y) * W34)
def w_relu(x): return np.sum(np.where(x > 0, x, 0.0) * W34)
def w_maximum_relu(x): return np.sum(np.maximum(x, 0.0) * W34)
def w_clip_relu(x): return np.sum(np.clip(x, 0.0, None) * W34)
def c_clip(x): return np.sum(np.clip(x, -0.5, 0.5) * W34)
def c_clip_lower(x): return np.sum(np.clip(x, -0.5, None) * W34)
def c_clip_upper(x): return np.sum(np.clip(x, None, 0.5) * W34)
def c_clip_method(x): return np.sum(x.clip(-0.5, 0.5) * W34)
def c_clip_bounds(x, lo, hi): return np.sum(np.clip(x, lo, hi) * W34)


def clip_ok(x, lo=-0.5, hi=0.5):
    return apart(x, lo) and apart(x, hi) and np.all(np.asarray(lo) < hi)


SELECT_CASES = [
    case(w_condition_from_x, away(3, 4), real(3, 4)),
    case(w_broadcast_condition, real(3, 1), real(4)),
    case(w_relu, away(3, 4)), case(w_maximum_relu, away(3, 4)), case(w_clip_relu, away(3, 4)),
    case(c_clip, uniform(-1, 1, 3, 4), where=clip_ok),
    case(c_clip_lower, uniform(-1, 1, 3, 4), where=clip_ok),
    case(c_clip_upper, uniform(-1, 1, 3, 4), where=clip_ok),
    case(c_clip_method, uniform(-1, 1, 3, 4), where=clip_ok),
    case(c_clip_bounds, real(3, 4), uniform(-1, 0, 4), uniform(0, 1, 3, 1), where=clip_ok),
]


# Reductions, returning arrays: checked through vjp with a random out_bar.
def r_sum(x): return np.sum(x)
def r_sum_axis0(x): return np.sum(x, axis=0)
def r_sum_axis1(x): return np.sum(x, axis=1)
def r_sum_negative_axis(x): return np.sum(x, axis=-1)
def r_sum_tuple_axis(x): return np.sum(x, axis=(0, 2))
def r_sum_negative_tuple(x): return np.sum(x, axis=(-1, -3))
def r_sum_keepdims(x): return np.sum(x, axis=1, keepdims=True)
def r_sum_keepdims_all(x): return np.sum(x, keepdims=True)
def r_sum_keepdims_tuple(x): return np.sum(x, axis=(0, -1), keepdims=True)
def r_sum_method(x): return x.sum(axis=-2)
def r_mean(x): return np.mean(x)
def r_mean_axis(x): return np.mean(x, axis=1)
def r_mean_negative_axis(x): return np.mean(x, axis=-1)
def r_mean_tuple_axis(x): return np.mean(x, axis=(0, 2))
def r_mean_keepdims(x): return np.mean(x, axis=-2, keepdims=True)
def r_mean_keepdims_all(x): return np.mean(x, keepdims=True)
def r_mean_method(x): return x.mean(axis=0)
def r_prod(x): return np.prod(x)
def r_prod_axis(x): return np.prod(x, axis=1)
def r_prod_negative_axis(x): return np.prod(x, axis=-1)
def r_prod_tuple_axis(x): return np.prod(x, axis=(0, 2))
def r_prod_keepdims(x): return np.prod(x, axis=0, keepdims=True)
def r_max(x): return np.max(x)
def r_max_axis(x): return np.max(x, axis=1)
def r_max_negative_axis(x): return np.max(x, axis=-1)
def r_max_tuple_axis(x): return np.max(x, axis=(0, 2))
def r_max_keepdims(x): return np.max(x, axis=2, keepdims=True)
def r_max_keepdims_all(x): return np.max(x, keepdims=True)
def r_max_method(x): return x.max(axis=0)
def r_amax(x): return np.amax(x, axis=1)
def r_min(x): return np.min(x)
def r_min_axis(x): return np.min(x, axis=0)
def r_min_negative_axis(x): return np.min(x, axis=-2)
def r_min_tuple_axis(x): return np.min(x, axis=(1, 2))
def r_min_keepdims(x): return np.min(x, axis=(0, 1), keepdims=True)
def r_min_method(x): return x.min(axis=-1)
def r_amin(x): return np.amin(x, axis=2)
def r_positional_axes(x): return np.sum(x, 1) + np.mean(x, 1) + np.max(x, 1) + np.prod(x, 1)
def r_keepdims_false(x): return np.sum(x, axis=0, keepdims=False)
def r_mean_keepdims_tuple(x): return np.mean(x, axis=(0, 1), keepdims=True)
def r_prod_keepdims_all(x): return np.prod(x, keepdims=True)
def r_of_scalar_math(x): return math.exp(np.sum(x) / 10.0) + abs(np.mean(x) - 5.0)
def r_builtin_min_of_sums(x): return min(np.sum(x), 1.0) + max(np.mean(x), -5.0)


REDUCTION_CASES = [case(fn, real(2, 3, 4)) for fn in (
    r_sum, r_sum_axis0, r_sum_axis1, r_sum_negative_axis, r_sum_tuple_axis, r_sum_negative_tuple,
    r_sum_keepdims, r_sum_keepdims_all, r_sum_keepdims_tuple, r_sum_method, r_mean, r_mean_axis,
    r_mean_negative_axis, r_mean_tuple_axis, r_mean_keepdims, r_mean_keepdims_all, r_mean_method)]
REDUCTION_CASES += [case(fn, uniform(0.5, 1.5, 2, 3, 4)) for fn in (
    r_prod, r_prod_axis, r_prod_negative_axis, r_prod_tuple_axis, r_prod_keepdims)]
REDUCTION_CASES += [case(fn, distinct(2, 3, 4)) for fn in (
    r_max, r_max_axis, r_max_negative_axis, r_max_tuple_axis, r_max_keepdims, r_max_keepdims_all,
    r_max_method, r_amax, r_min, r_min_axis, r_min_negative_axis, r_min_tuple_axis,
    r_min_keepdims, r_min_method, r_amin)]
REDUCTION_CASES += [case(fn, uniform(0.5, 1.5, 2, 3, 4)) for fn in (
    r_positional_axes, r_keepdims_false, r_mean_keepdims_tuple, r_prod_keepdims_all,
    r_of_scalar_math, r_builtin_min_of_sums)]
REDUCTION_CASES += [case(r_sum_axis0, real(5), tag="1-d"), case(r_max_axis, distinct(3, 4),
                                                                tag="2-d")]


# Products, shapes and linear algebra, returning arrays.
def la_dot_mm(a, b): return np.dot(a, b)
def la_dot_mv(a, b): return np.dot(a, b)
def la_dot_vv(a, b): return np.dot(a, b)
def la_dot_scalar(a, b): return np.dot(a, b)
def la_dot_method(a, b): return a.dot(b)
def la_matmul(a, b): return np.matmul(a, b)
def la_outer(a, b): return np.outer(a, b)
def la_transpose(a): return np.transpose(a)
def la_transpose_axes(a): return np.transpose(a, (1, 2, 0))
def la_transpose_method(a): return a.transpose(2, 0, 1)
def la_reshape(a): return np.reshape(a, (2, 6))
def la_reshape_infer(a): return np.reshape(a, (-1, 2))
def la_reshape_method(a): return a.reshape(4, 3)
def la_ravel(a): return np.ravel(a)
def la_ravel_method(a): return a.ravel()
def la_flatten(a): return a.flatten()
def la_squeeze(a): return np.squeeze(a)
def la_squeeze_axis(a): return np.squeeze(a, axis=1)
def la_expand_dims(a): return np.expand_dims(a, 0)
def la_expand_dims_negative(a): return np.expand_dims(a, -1)
def la_expand_dims_tuple(a): return np.expand_dims(a, (0, 2))
def la_trace(a): return np.trace(a)
def la_trace_offset(a): return np.trace(a, 1)
def la_trace_negative_offset(a): return np.trace(a, offset=-1)
def la_trace_3d(a): return np.trace(a)
def la_trace_3d_plus_scalar(a, s): return np.sum((np.trace(a) + s) * W2)
def la_copy(a): return np.copy(a)
def la_copy_method(a): return a.copy()
def la_asarray(a): return np.asarray(a)
def la_array(a): return np.array(a)
def la_full(s): return np.full((3, 4), s)
def la_full_broadcast(v): return np.full((3, 4), v)
def la_T_3d(a): return a.T
def la_T_1d(a): return a.T
def la_transpose_keyword(a): return np.transpose(a, axes=(2, 0, 1))
def la_reshape_int(a): return np.reshape(a, -1)
def la_squeeze_tuple(a): return np.squeeze(a, axis=(1, 3))
def la_dot_vm(a, b): return np.dot(a, b)
def la_matmul_vv(a, b): return np.matmul(a, b)
def la_matmul_mv(a, b): return np.matmul(a, b)
def la_inv(a): return np.linalg.inv(a)
def la_solve_vector(a, b): return np.linalg.solve(a, b)
def la_solve_matrix(a, b): return np.linalg.solve(a, b)
def la_det(a): return np.linalg.det(a)
def la_det_plus_scalar(a, s): return np.sum((np.linalg.det(a) + s) * W2)
def la_norm(a): return np.linalg.norm(a)
def la_norm_fro(a): return np.linalg.norm(a, "fro")
def la_norm_axis(a): return np.linalg.norm(a, axis=1)
def la_norm_keepdims(a): return np.linalg.norm(a, axis=-1, keepdims=True)
def la_norm_two_axes(a): return np.linalg.norm(a, axis=(0, 2))


LINALG_CASES = [
    case(la_dot_mm, real(3, 4), real(4, 2)), case(la_dot_mv, real(3, 4), real(4)),
    case(la_dot_vv, real(4), real(4)), case(la_dot_scalar, real(), real(3, 4)),
    case(la_dot_method, real(3, 4), real(4, 2)), case(la_matmul, real(3, 4), real(4, 2)),
    case(la_matmul, real(2, 3, 4), real(4, 2), tag="batch"),
    case(la_matmul, real(4), real(2, 4, 3), tag="vector@batch"),
    case(la_outer, real(3), real(4)), case(la_outer, real(2, 2), real(3), tag="2-d"),
    case(la_transpose, real(3, 4)), case(la_transpose_axes, real(2, 3, 4)),
    case(la_transpose_method, real(2, 3, 4)), case(la_reshape, real(3, 4)),
    case(la_reshape_infer, real(3, 4)), case(la_reshape_method, real(3, 4)),
    case(la_ravel, real(3, 4)), case(la_ravel_method, real(3, 4)), case(la_flatten, real(3, 4)),
    case(la_squeeze, real(3, 1, 4)), case(la_squeeze_axis, real(3, 1, 4)),
    case(la_expand_dims, real(3, 4)), case(la_expand_dims_negative, real(3, 4)),
    case(la_expand_dims_tuple, real(3, 4)), case(la_trace, real(3, 3)),
    case(la_trace, real(3, 4), tag="rectangular"), case(la_trace_offset, real(3, 4)),
    case(la_trace_negative_offset, real(4, 3)), case(la_trace_3d, real(3, 4, 2)),
    case(la_copy, real(3, 4)), case(la_copy_method, real(3, 4)), case(la_asarray, real(3, 4)),
    case(la_array, real(3, 4)), case(la_full, real()), case(la_full_broadcast, real(4)),
    case(la_inv, matrix(3, 3)), case(la_inv, matrix(2, 3, 3), tag="batch"),
    case(la_solve_vector, matrix(3, 3), real(3)), case(la_solve_matrix, matrix(3, 3), real(3, 2)),
    case(la_det, matrix(3, 3)), case(la_det, matrix(2, 3, 3), tag="batch"),
    case(la_det_plus_scalar, matrix(2, 3, 3), real()),
    case(la_trace_3d_plus_scalar, real(3, 3, 2), real()),
    case(la_norm, real(4)), case(la_norm, real(3, 4), tag="matrix"), case(la_norm_fro, real(3, 4)),
    case(la_norm_axis, real(3, 4)), case(la_norm_keepdims, real(2, 3, 4)),
    case(la_norm_two_axes, real(2, 3, 4)), case(la_T_3d, real(2, 3, 4)), case(la_T_1d, real(4)),
    case(la_transpose_keyword, real(2, 3, 4)), case(la_reshape_int, real(3, 4)),
    case(la_squeeze_tuple, real(3, 1, 4, 1)), case(la_dot_vm, real(3), real(3, 4)),
    case(la_matmul_vv, real(4), real(4)), case(la_matmul_mv, real(3, 4), real(4)),
    case(la_solve_matrix, matrix(2, 3, 3), real(2, 3, 2), tag="batch"),
    case(la_det, matrix(2, 2), tag="2x2"),
]


# The math module and builtins, on Python floats.
def m_exp(x): return math.exp(x)
def m_expm1(x): return math.expm1(x)
def m_log(x): return math.log(x)
def m_log_base(x, b): return math.log(x, b)
def m_log2(x): return math.log2(x)
def m_log10(x): return math.log10(x)
def m_log1p(x): return math.log1p(x)
def m_sqrt(x): return math.sqrt(x)
def m_pow(x, y): return math.pow(x, y)
def m_sin(x): return math.sin(x)
def m_cos(x): return math.cos(x)
def m_tan(x): return math.tan(x)
def m_asin(x): return math.asin(x)
def m_acos(x): return math.acos(x)
def m_atan(x): return math.atan(x)
def m_atan2(y, x): return math.atan2(y, x)
def m_sinh(x): return math.sinh(x)
def m_cosh(x): return math.cosh(x)
def m_tanh(x): return math.tanh(x)
def m_fabs(x): return math.fabs(x)
def m_erf(x): return math.erf(x)
def m_erfc(x): return math.erfc(x)
def m_chain(x, y): return math.sin(x * y) + math.exp(-x) * math.sqrt(y)
def b_abs(x): return abs(x) * 3.0
def b_abs_array(x): return np.sum(abs(x) * W34)
def b_float(x): return float(np.sum(x * W34)) * 2.0
def b_float_scalar(x): return float(x) ** 2
def b_max(x, y): return max(x, y) * 3.0
def b_min(x, y): return min(x, y) * 3.0
def b_max_expressions(x, y): return max(x * y, x - y) + min(x * x, y)


MATH_CASES = [
    case(m_exp, real()), case(m_expm1, real()), case(m_log, pos()),
    case(m_log_base, pos(), pos(), where=lambda x, b: b > 1.2), case(m_log2, pos()),
    case(m_log10, pos()), case(m_log1p, uniform(-0.5, 2)), case(m_sqrt, pos()),
    case(m_pow, pos(), real()), case(m_sin, real()), case(m_cos, real()),
    case(m_tan, uniform(-1.2, 1.2)), case(m_asin, unit()), case(m_acos, unit()),
    case(m_atan, real()), case(m_atan2, real(), away()), case(m_sinh, real()),
    case(m_cosh, real()), case(m_tanh, real()),
    case(m_fabs, away()), case(m_erf, real()), case(m_erfc, real()), case(m_chain, real(), pos()),
    case(b_abs, away()), case(b_abs_array, away(3, 4)), case(b_float, real(3, 4)),
    case(b_float_scalar, real()), case(b_max, real(), real(), where=apart),
    case(b_min, real(), real(), where=apart),
    case(b_max_expressions, pos(), pos(),
         where=lambda x, y: apart(x * y, x - y) and apart(x * x, y)),
]


# Tuple and list literals: element i of the result gets element i of the adjoint.
def s_list_of_floats(x, y): return np.array([x, y * 2.0, x * y])
def s_tuple_of_floats(x, y): return np.array((x, np.sin(y)))
def s_list_of_arrays(u, v): return np.array([u, v * u])
def s_list_in_sum(x, y): return np.sum([x * y, x, W34]) * 1.5


CONTAINER_CASES = [
    case(s_list_of_floats, real(), real()), case(s_tuple_of_floats, real(), real()),
    case(s_list_of_arrays, real(4), real(4)),
    case(s_list_in_sum, real(3, 4), real(4)),
]


# The run-time helpers of generated code have rules too (for derivatives of derivatives);
# called here on their differentiated operands, the others fixed.
D34 = np.random.default_rng(5).permutation(12).reshape(3, 4) * 1.0  # no ties
def h_unbroadcast(t): return unbroadcast(t, W24[:1])
def h_unbroadcast_leading(t): return unbroadcast(t, W4)
def h_unbroadcast_same(t): return unbroadcast(t, W34)
def h_unreduce(t): return unreduce(t, W234)
def h_unreduce_axis(t): return unreduce(t, W234, 1)
def h_unreduce_keepdims(t): return unreduce(t, W234, (0, 2), True)
def h_unindex(t): return unindex(t, W34, IDX)
def h_extremum_bar(t): return extremum_bar(t, D34, np.max(D34, axis=1), 1)
def h_extremum_bar_all(t): return extremum_bar(t, D34, np.min(D34))
def h_matmul_bar_a(t, b): return matmul_bar_a(t, W34, b)
def h_matmul_bar_b(t, a): return matmul_bar_b(t, a, W43)
def h_dot_bar_a(t, b): return dot_bar_a(t, W34, b)
def h_dot_bar_b(t, a): return dot_bar_b(t, a, W43)
def h_lift(t): return lift(t, W4, W34)


HELPER_CASES = [
    case(h_unbroadcast, real(3, 4)), case(h_unbroadcast_leading, real(2, 3, 4)),
    case(h_unbroadcast_same, real(3, 4)), case(h_unreduce, real()),
    case(h_unreduce_axis, real(2, 4)), case(h_unreduce_keepdims, real(1, 3, 1)),
    case(h_unindex, real(4, 4)), case(h_extremum_bar, real(3)), case(h_extremum_bar_all, real()),
    case(h_matmul_bar_a, real(3, 2), real(4, 2)), case(h_matmul_bar_a, real(3), real(4),
                                                       tag="matrix@vector"),
    case(h_matmul_bar_b, real(3, 3), real(3, 4)), case(h_matmul_bar_b, real(3), real(4),
                                                       tag="vector@matrix"),
    case(h_dot_bar_a, real(3, 2), real(4, 2)), case(h_dot_bar_a, real(3, 4), real(), tag="scalar"),
    case(h_dot_bar_b, real(3, 3), real(3, 4)), case(h_dot_bar_b, real(4, 3), real(), tag="scalar"),
    case(h_lift, real(2, 4)),
]

CASES = (BINARY_CASES + OPERATOR_CASES + INDEX_CASES + UNARY_CASES + SELECT_CASES
         + REDUCTION_CASES + LINALG_CASES + MATH_CASES + CONTAINER_CASES + HELPER_CASES)


# --- the oracle -----------------------------------------------------------------------------


def numeric_vjp(f, args, v):
    """d<v, f(args)>/d args[i] for every argument, by a fourth-order central difference."""
    grads = []
    for i, arg in enumerate(args):
        x = np.array(arg, dtype=float)
        g = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            def at(t):
                moved = x.copy()
                moved[k] += t
                new_args = list(args)
                new_args[i] = float(moved) if isinstance(arg, float) else moved
                return np.sum(v * f(*new_args))
            g[k] = (8 * (at(H) - at(-H)) - (at(2 * H) - at(-2 * H))) / (12 * H)
        grads.append(g)
    return grads


def assert_matches(analytic, numeric, what):
    assert np.shape(analytic) == np.shape(numeric), \
        f"{what}: derivative has shape {np.shape(analytic)}, the argument {np.shape(numeric)}"
    error = np.max(np.abs(np.asarray(analytic, dtype=float) - numeric), initial=0.0)
    scale = np.max(np.abs(numeric), initial=0.0)
    assert error <= RTOL * scale + 1e-9, \
        f"{what}: max error {error:.3g} vs max |derivative| {scale:.3g}\n" \
        f"s2sad:\n{analytic}\nfinite differences:\n{numeric}"


def forward_vjp(f, args, v):
    """<v, J e_k> for every basis direction e_k of every argument, one jvp at a time."""
    wrt = tuple(range(len(args)))
    zeros = [np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0 for a in args]
    grads = []
    for i, arg in enumerate(args):
        g = np.zeros(np.shape(arg))
        for k in np.ndindex(g.shape):
            tangents = list(zeros)
            tangents[i] = np.zeros_like(arg) if isinstance(arg, np.ndarray) else 0.0
            if isinstance(arg, np.ndarray):
                tangents[i][k] = 1.0
            else:
                tangents[i] = 1.0
            g[k] = np.sum(v * s2sad.jvp(f, wrt=wrt)(*args, *tangents)[1])
        grads.append(g)
    return grads


def check_case(f, args):
    """Reverse mode (grad or vjp) and forward mode (jvp) against the finite differences."""
    wrt = tuple(range(len(args)))
    out = f(*args)
    if np.ndim(out) == 0:
        v = 1.0
        reverse = s2sad.grad(f, wrt=wrt)(*args)
    else:
        v = np.random.default_rng(7).standard_normal(np.shape(out))
        reverse = s2sad.vjp(f, wrt=wrt)(*args, v)
    numeric = numeric_vjp(f, args, v)
    for i, (a, n) in enumerate(zip(reverse, numeric)):
        assert_matches(a, n, f"{f.__name__}, reverse mode, argument {i}")
    for i, (a, n) in enumerate(zip(forward_vjp(f, args, v), numeric)):
        assert_matches(a, n, f"{f.__name__}, forward mode, argument {i}")
    s2sad.check_grads(f, args, wrt=wrt)


@pytest.mark.parametrize("f, args", CASES)
def test_primitive_derivative(f, args):
    check_case(f, args)


# --- coverage: a new rule needs a case ---------------------------------------------------

def _primitives_used(fn):
    names = set()

    def walk(block):
        for stmt in block:
            if hasattr(stmt, "prim"):
                names.add(stmt.prim.name)
            for value in vars(stmt).values():
                if isinstance(value, list) and value and hasattr(value[0], "__dict__"):
                    walk(value)

    walk(lower(fn).body)
    return names


def test_every_differentiable_primitive_has_a_case():
    primitives = rules.all_primitives() + list(HELPER_RULES.values())
    differentiable = {p.name for p in primitives if p.differentiable}
    covered = set()
    for param in CASES:
        if not param.marks:
            covered |= _primitives_used(param.values[0])
    missing = differentiable - covered
    assert not missing, f"differentiable primitives without a case in test_primitives.py: " \
                        f"{sorted(missing)}"


def test_oracle_catches_a_wrong_derivative():
    """The comparison is strict enough to see a 1e-5 relative error."""
    x = np.linspace(0.5, 1.5, 4)
    (numeric,) = numeric_vjp(lambda x: np.sum(np.sin(x)), (x,), 1.0)
    assert_matches(np.cos(x), numeric, "cos")
    with pytest.raises(AssertionError, match="max error"):
        assert_matches(np.cos(x) * (1 + 1e-5), numeric, "cos")


# --- zero derivatives: piecewise-constant functions ----------------------------------------


def z_floor(x): return np.sum(np.floor(x) * x)
def z_ceil(x): return np.sum(np.ceil(x) * x)
def z_round(x): return np.sum(np.round(x) * x)
def z_sign(x): return np.sum(np.sign(x) * x)
def z_floordiv(x): return np.sum((x // 1.0) * x)
def z_compare(x): return np.sum((x > 0.0) * x)
def z_compare_function(x): return np.sum(np.greater(x, 0.0) * x)
def z_argmax(x): return x[np.argmax(x)] * 2.0
def z_argmax_weight(x): return np.sum(x * np.argmax(x))
def z_shape(x): return x.shape[0] * np.sum(x)
def z_size(x): return np.sum(x) / x.size
def z_math_floor(x): return math.floor(x) * x


ZERO_CASES = [  # function, input, the exact gradient
    (z_floor, [0.3, 1.7, -2.4, 3.5], lambda x: np.floor(x)),
    (z_ceil, [0.3, 1.7, -2.4, 3.5], lambda x: np.ceil(x)),
    (z_round, [0.3, 1.7, -2.4, 3.2], lambda x: np.round(x)),
    (z_sign, [0.3, -1.7, -2.4, 3.5], lambda x: np.sign(x)),
    (z_floordiv, [0.3, 1.7, -2.4, 3.5], lambda x: np.floor(x)),
    (z_compare, [0.3, -1.7, -2.4, 3.5], lambda x: (x > 0) * 1.0),
    (z_compare_function, [0.3, -1.7, -2.4, 3.5], lambda x: (x > 0) * 1.0),
    (z_argmax, [0.3, 1.7, -2.4, 1.5], lambda x: np.array([0.0, 2.0, 0.0, 0.0])),
    (z_argmax_weight, [0.3, 1.7, -2.4, 1.5], lambda x: np.ones(4)),
    (z_shape, [0.3, 1.7, -2.4, 1.5], lambda x: np.full(4, 4.0)),
    (z_size, [0.3, 1.7, -2.4, 1.5], lambda x: np.full(4, 0.25)),
    (z_math_floor, 2.5, lambda x: 2.0),
]


@pytest.mark.parametrize("f, x, expected", ZERO_CASES, ids=[c[0].__name__ for c in ZERO_CASES])
def test_piecewise_constant_functions_contribute_zero(f, x, expected):
    x = np.array(x) if isinstance(x, list) else x
    np.testing.assert_array_equal(s2sad.grad(f)(x), expected(x))
    u = np.linspace(-1.0, 2.0, np.size(x)).reshape(np.shape(x))
    np.testing.assert_allclose(s2sad.jvp(f)(x, u)[1], np.sum(expected(x) * u))


def test_the_zero_cases_use_non_differentiable_primitives():
    for fn in (np.sign, np.floor, np.ceil, np.round, np.floor_divide, np.greater, np.argmax,
               math.floor):
        assert not rules.lookup(fn).differentiable, fn
    for name in ("lt", "gt", "floordiv", "shape", "size"):
        assert not rules.OPERATORS[name].differentiable, name


# --- ties: the adjoint is shared, never duplicated --------------------------------------------


def t_max(x): return np.max(x)
def t_min(x): return np.min(x)
def t_max_axis(x): return np.sum(np.max(x, axis=0) * W3)
def t_maximum_self(x): return np.sum(np.maximum(x, x) * W3)
def t_maximum(x, y): return np.sum(np.maximum(x, y) * W3)
def t_minimum(x, y): return np.sum(np.minimum(x, y) * W3)
def t_builtin_max(x, y): return max(x, y) * 3.0


def test_max_and_min_share_the_adjoint_among_ties():
    x = np.array([1.0, 3.0, 3.0, 2.0, -1.0])
    np.testing.assert_allclose(s2sad.grad(t_max)(x), [0, 0.5, 0.5, 0, 0])
    np.testing.assert_allclose(s2sad.grad(t_min)(-x), [0, 0.5, 0.5, 0, 0])
    m = np.array([[1.0, 2.0, 5.0], [1.0, 0.0, 5.0], [0.0, 2.0, 5.0]])
    expected = np.array([[0.5, 0.5, 1 / 3], [0.5, 0, 1 / 3], [0, 0.5, 1 / 3]]) * W3
    np.testing.assert_allclose(s2sad.grad(t_max_axis)(m), expected)


def test_binary_max_and_min_give_the_whole_adjoint_to_one_side_at_a_tie():
    """At x == y the two contributions add up to g: moving both together moves the result."""
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(s2sad.grad(t_maximum_self)(x), W3)
    for f in (t_maximum, t_minimum):
        x_bar, y_bar = s2sad.grad(f, wrt=(0, 1))(x, x.copy())
        np.testing.assert_allclose(x_bar + y_bar, W3)
        assert np.all((x_bar == 0) | (y_bar == 0))
    assert sum(s2sad.grad(t_builtin_max, wrt=(0, 1))(1.5, 1.5)) == 3.0
