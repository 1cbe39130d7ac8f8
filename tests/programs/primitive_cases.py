"""The per-primitive spec table's cases: small functions and the inputs they are checked at.

``tests/test_primitives.py`` checks each case against finite differences (both modes,
vector mode, second order for :func:`second_order_cases`); ``tests/test_duck_arrays.py``
runs the same cases on a foreign array type. Each case is a small ``def`` here (s2sad
reads source, so the functions must live in a file) or, for the one-argument
element-wise NumPy functions, one made from each rule stanza (inputs from its
``domain``). Inputs are drawn, from a seed derived from the case's name, inside a domain
where the function is smooth. Functions returning a scalar weigh their array result
with a fixed random array, so the output is sensitive to every element.
"""

import atexit
import importlib.util
import math
import pathlib
import shutil
import tempfile
import zlib

import numpy as np
import pytest

from s2sad import rules
from s2sad.support import (diag_bar, dot_bar_a, dot_bar_b, extremum_bar, kron_bar_a, kron_bar_b,
                           lift, matmul_bar_a, matmul_bar_b, quantile_bar, tensordot_bar_a,
                           tensordot_bar_b, unbroadcast, unconcatenate, undiagonal, unindex,
                           unindex_along, unindex_axis, unpad, unpad_copies, unreduce,
                           setitem_dot, weights_along, written_bar)

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
def np_true_divide(x, y): return np.sum(np.true_divide(x, y) * W34)
def np_float_power(x, y): return np.sum(np.float_power(x, y) * W34)
def np_remainder(x, y): return np.sum(np.remainder(x, y) * W34)
def np_mod(x, y): return np.sum(np.mod(x, y) * W34)
def np_fmod(x, y): return np.sum(np.fmod(x, y) * W34)
def np_copysign(x, y): return np.sum(np.copysign(x, y) * W34)
def np_logaddexp2(x, y): return np.sum(np.logaddexp2(x, y) * W34)


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
    (np_true_divide, real, away, None), (np_float_power, pos, real, None),
    (np_remainder, lambda *s: uniform(-3, 3, *s), pos, mod_smooth),
    (np_mod, lambda *s: uniform(-3, 3, *s), pos, mod_smooth),
    (np_fmod, lambda *s: uniform(-3, 3, *s), away, mod_smooth),
    (np_copysign, away, away, None), (np_logaddexp2, real, real, None),
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
def op_item(x): return x.item(5) * np.sum(x) + x[1:2, 2].item() ** 2


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
    case(op_mT, real(2, 3, 4)), case(op_astype, real(3, 4)), case(op_item, real(3, 4)), case(op_copy, real(3, 4)),
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


def ix_write(x):  # y[i] = v writes in place; reverse mode restores what it overwrote
    y = np.zeros((3, 4))
    y[0] = x[1] * 2.0
    y[1:, 1:3] = x[:2, :2] ** 2
    y[2, 3] += x[0, 0] * y[1, 1]
    return y * x


def ix_write_broadcast(x):  # a scalar written into a slice of an active array
    y = x * 1.0
    y[1:3] = np.sum(y ** 2)
    return y


def ix_write_read_between(x):  # the array's old values are read after the write's adjoint
    y = np.ones(4)
    a = np.sum(y * x)
    y[1] = x[2] * a
    y[2:] *= x[:2]
    return np.sin(y) * a


def ix_write_repeated(x):  # y[[0, 0, 1]] = v keeps v's last value at 0: its first gets none
    y = np.zeros(3)
    y[[0, 0, 1]] = x[:3] * 2.0
    return y * x[1:]


def ix_add_repeated(x):  # y[idx] += v is y[idx] = y[idx] + v: one addition at a repeated index
    y = x * 1.0
    y[IDX[:3]] += x[1:] ** 2
    return y * W44[:3]


def ix_write_repeated_computed(x):  # an index computed at run time may repeat
    y = x[1:] * 1.0
    y[np.argsort(x[:3]) % 2] = x[:3] * 3.0
    return np.sin(y)


def ix_write_negative_alias(x):  # 0 and -4 are the same element of 4
    y = x * 1.0
    y[[0, -4]] = x[1:3] ** 2
    return y * W4


def ix_write_repeated_pairs(x):  # (0, 1) twice, as broadcast pairs of row and column indices
    y = x * 1.0
    y[[0, 2, 0], [1, 1, 1]] = np.exp(x[1, :3])
    return y * W34


def ix_write_distinct_pairs(x):  # the same rows, different columns: each element once
    y = x * 1.0
    y[[0, 0, 2], [1, 3, 1]] = x[2, :3] * 2.0
    return y * W34


def ix_write_a_list(x):  # a list written into a slice and at indices: a constant element too
    y = x * 1.0
    y[1:] = [x[0] * 2.0, np.sin(x[1]), 3.0]
    y[[0, 2]] = [y[1] * x[3], 0.5]
    return y ** 2


INDEX_CASES = [
    case(ix_write_a_list, real(4)),
    case(ix_write_repeated, real(4)), case(ix_add_repeated, real(4)),
    case(ix_write_repeated_computed, real(4)), case(ix_write_negative_alias, real(4)),
    case(ix_write_repeated_pairs, real(3, 4)), case(ix_write_distinct_pairs, real(3, 4)),
    case(ix_write, real(3, 4)), case(ix_write_broadcast, real(4)),
    case(ix_write_read_between, real(4)),
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


# NumPy functions of one argument: one case per element-wise stanza, drawn from its ``domain``.
# s2sad reads source, so the cases are written to a module file of their own and imported.
DOMAINS = {"real": real, "positive": pos, "unit": unit, "nonzero": away}


def _stanza_cases():
    prims = {p.name: p for p in rules.REGISTRY.values()
             if p.elementwise and len(p.params) == 1 and p.name.startswith("np.")}
    names = {name: "u_" + name[len("np."):] for name in sorted(prims)}
    source = "import numpy as np\n\nW34 = None\n\n" + "".join(
        f"\ndef {fn}(x):\n    return np.sum({name}(x) * W34)\n" for name, fn in names.items())
    path = pathlib.Path(tempfile.mkdtemp(prefix="s2sad_stanzas_")) / "stanza_cases.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("stanza_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.W34 = W34
    cases = {}
    for name, fn in names.items():
        domain = prims[name].domain
        draw = uniform(*domain, 3, 4) if isinstance(domain, tuple) else DOMAINS[domain](3, 4)
        cases[fn] = case(getattr(module, fn), draw)
    return cases


STANZA_CASES = _stanza_cases()


def u_exp_scalar(x): return np.exp(x) * 2.0
def u_exp_vector_out(x): return np.exp(x)


UNARY_CASES = [c for name, c in STANZA_CASES.items()
               if name not in ("u_deg2rad", "u_radians", "u_rad2deg", "u_degrees", "u_sinc",
                               "u_real", "u_conjugate")]  # (ELEMENTWISE_CASES has these)
UNARY_CASES += [case(u_exp_scalar, real()), case(u_exp_vector_out, real(3, 4))]


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
def r_builtin_sum_of_rows(x): return sum(x, x[0] * 0.5) * x[1]  # Python's sum: the rows


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
    r_of_scalar_math, r_builtin_min_of_sums, r_builtin_sum_of_rows)]
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
def la_reshape_fortran(a): return np.reshape(a, (2, 6), order='F')
def la_reshape_method_fortran(a): return a.reshape(6, 2, order="F")
def la_ravel_fortran(a): return np.ravel(a, 'F')
def la_flatten_fortran(a): return a.flatten(order='F')
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
    case(la_reshape_fortran, real(3, 4)), case(la_reshape_method_fortran, real(3, 4)),
    case(la_ravel_fortran, real(3, 4)), case(la_flatten_fortran, real(3, 4)),
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


# NumPy breadth: more element-wise functions, reductions, shape operations, products, linalg.
def spd(*shape):
    """Symmetric positive definite matrices (or a stack of them)."""
    n = shape[-1]
    return lambda rng: (lambda b: b @ np.swapaxes(b, -1, -2) / n + np.eye(n))(
        rng.standard_normal(shape))


def symmetric(*shape):
    """Symmetric matrices with well separated eigenvalues."""
    n = shape[-1]
    return lambda rng: (lambda q: q @ np.diag(np.arange(1.0, n + 1)) @ q.mT)(
        np.linalg.qr(rng.standard_normal(shape))[0])


def with_nan(*shape):
    """Distinct values with NaN in two places (the nan-functions leave those out)."""
    def draw(rng):
        x = distinct(*shape)(rng)
        x.flat[[1, 6]] = np.nan
        return x
    return draw


IDX2 = np.array([[2, 0], [0, 3]])
REPS = np.array([1, 0, 2, 3])
ORDER = np.argsort(W34, axis=1)  # a constant index for take_along_axis
EXPONENTS = np.array([[1, -2, 0, 3]] * 3)
P3 = np.array([0.5, -1.0, 2.0])


def u_sinc_at_zero(x): return np.sum(np.sinc(x) * W4)
def u_conj(x): return np.sum(np.conj(x) * W34)
def u_nan_to_num(x): return np.sum(np.nan_to_num(x) * W34)
def u_nan_to_num_replaced(x): return np.sum(np.nan_to_num(x, posinf=5.0, neginf=-5.0) * W34)
def u_ldexp(x): return np.sum(np.ldexp(x, EXPONENTS) * W34)
def u_ldexp_broadcast(x): return np.sum(np.ldexp(x, EXPONENTS[0]) * W34)


def nonfinite(rng):
    x = rng.standard_normal((3, 4))
    x[0, 1], x[1, 2], x[2, 0] = np.nan, np.inf, -np.inf
    return x


ELEMENTWISE_CASES = [
    *(STANZA_CASES[n] for n in ("u_deg2rad", "u_radians", "u_rad2deg", "u_degrees", "u_sinc",
                                "u_real", "u_conjugate")),
    case(u_sinc_at_zero, lambda rng: np.array([0.0, 0.4, -1.3, 2.2])), case(u_conj, real(3, 4)),
    case(u_nan_to_num, real(3, 4)), case(u_nan_to_num_replaced, nonfinite),
    case(u_ldexp, real(3, 4)), case(u_ldexp_broadcast, real(3, 1)),
]


def m_asinh(x): return math.asinh(x)
def m_acosh(x): return math.acosh(x)
def m_atanh(x): return math.atanh(x)
def m_degrees(x): return math.degrees(x)
def m_radians(x): return math.radians(x)
def m_hypot(x, y): return math.hypot(x, y)
def m_copysign(x, y): return math.copysign(x, y)
def m_fmod(x, y): return math.fmod(x, y)


ELEMENTWISE_CASES += [
    case(m_asinh, real()), case(m_acosh, uniform(1.2, 3)), case(m_atanh, unit()),
    case(m_degrees, real()), case(m_radians, real()), case(m_hypot, away(), away()),
    case(m_copysign, away(), away()), case(m_fmod, uniform(-3, 3), away(), where=mod_smooth),
]
if hasattr(math, "cbrt"):
    def m_exp2(x): return math.exp2(x)
    def m_cbrt(x): return math.cbrt(x)
    ELEMENTWISE_CASES += [case(m_exp2, real()), case(m_cbrt, away())]



# Two results each: modf's parts (slopes 1 and 0), divmod's quotient (slope 0) and remainder.
def e_modf(x):
    fraction, whole = np.modf(x)
    return fraction * W34 + whole * x
def e_modf_indexed(x): return np.modf(x)[0] ** 2 + np.modf(x)[1]
def e_divmod(x, y):
    q, r = np.divmod(x, y)
    return q * x + r * r
def e_divmod_builtin(x, y):
    q, r = divmod(x, y)
    return r * 2.0 + q * y
def e_divmod_numbers(x, y):
    q, r = divmod(x, y)
    return r * r + q * x
def e_divmod_remainder(x, y): return np.divmod(x, y)[1] * W34


ELEMENTWISE_CASES += [
    case(e_modf, uniform(-3, 3, 3, 4), where=lambda x: mod_smooth(x, 1.0)),
    case(e_modf_indexed, uniform(-3, 3, 4), where=lambda x: mod_smooth(x, 1.0)),
    case(e_divmod, uniform(-3, 3, 3, 4), away(4), where=mod_smooth),
    case(e_divmod_builtin, uniform(-3, 3, 3, 4), away(3, 1), where=mod_smooth),
    case(e_divmod_numbers, uniform(-3, 3), away(), where=mod_smooth),
    case(e_divmod_remainder, uniform(-3, 3, 3, 4), away(), where=mod_smooth),
]

# Reductions and scans.
def r_var(x): return np.var(x)
def r_var_axis(x): return np.var(x, axis=1)
def r_var_ddof(x): return np.var(x, axis=(0, 2), ddof=1)
def r_var_keepdims(x): return np.var(x, axis=-1, keepdims=True)
def r_var_keepdims_all(x): return np.var(x, keepdims=True)
def r_var_ddof_all(x): return np.var(x, ddof=2)
def r_var_method(x): return x.var(axis=0)
def r_std(x): return np.std(x)
def r_std_axis(x): return np.std(x, axis=2, ddof=1)
def r_std_keepdims(x): return np.std(x, axis=(0, 1), keepdims=True)
def r_std_method(x): return x.std(axis=-1)
def r_average(x): return np.average(x, axis=1)
def r_average_keepdims(x): return np.average(x, axis=(0, 2), keepdims=True)
def r_average_weights(x, w): return np.average(x, weights=w)
def r_average_weights_axis(x, w): return np.average(x, axis=1, weights=w)  # w along axis 1
def r_average_weights_full(x, w): return np.average(x, axis=-1, weights=w, keepdims=True)
def r_nansum(x): return np.nansum(x)
def r_nansum_axis(x): return np.nansum(x, axis=1)
def r_nanmean(x): return np.nanmean(x)
def r_nanmean_axis(x): return np.nanmean(x, axis=-1, keepdims=True)
def r_nanmax(x): return np.nanmax(x, axis=0)
def r_nanmin(x): return np.nanmin(x)
def r_ptp(x): return np.ptp(x)
def r_ptp_axis(x): return np.ptp(x, axis=1)
def r_ptp_keepdims(x): return np.ptp(x, axis=(0, 2), keepdims=True)
def r_median(x): return np.median(x)
def r_median_axis(x): return np.median(x, axis=1)
def r_median_keepdims(x): return np.median(x, axis=-1, keepdims=True)
def r_quantile(x): return np.quantile(x, 0.3, axis=0)
def r_percentile(x): return np.percentile(x, 80)
def r_percentile_keepdims(x): return np.percentile(x, 25, axis=2, keepdims=True)
def r_cumsum(x): return np.cumsum(x)
def r_cumsum_axis(x): return np.cumsum(x, axis=1)
def r_cumsum_negative_axis(x): return np.cumsum(x, -1)
def r_cumsum_method(x): return x.cumsum(axis=0)
def r_cumprod(x): return np.cumprod(x)
def r_cumprod_axis(x): return np.cumprod(x, axis=2)
def r_cumprod_method(x): return x.cumprod(1)
def r_diff(x): return np.diff(x)
def r_diff_axis(x): return np.diff(x, axis=0)
def r_diff_n2(x): return np.diff(x, n=2, axis=1)
def r_diff_n3_padded(x): return np.diff(x, 3, axis=-1, prepend=0.0, append=1.0)
def r_diff_prepend(x): return np.diff(x, prepend=2.0)
def r_diff_append(x): return np.diff(x, axis=1, append=0.5)
def r_diff_n0(x): return np.diff(x, n=0) * 2.0
def r_ediff1d(x): return np.ediff1d(x)
def r_nanvar(x): return np.nanvar(x)
def r_nanvar_axis(x): return np.nanvar(x, axis=1, ddof=1)
def r_nanstd(x): return np.nanstd(x, axis=(0, 2), keepdims=True)
def r_nancumsum(x): return np.nancumsum(x)
def r_nancumsum_axis(x): return np.nancumsum(x, axis=-1)


SCAN_CASES = [case(fn, real(2, 3, 4)) for fn in (
    r_var, r_var_axis, r_var_ddof, r_var_keepdims, r_var_keepdims_all, r_var_ddof_all,
    r_var_method, r_std, r_std_axis, r_std_keepdims, r_std_method, r_average,
    r_average_keepdims, r_cumsum, r_cumsum_axis, r_cumsum_negative_axis, r_cumsum_method,
    r_diff, r_diff_axis, r_diff_n2, r_diff_n3_padded, r_diff_prepend, r_diff_append, r_diff_n0,
    r_ediff1d)]
SCAN_CASES += [case(fn, uniform(0.5, 1.5, 2, 3, 4)) for fn in (
    r_cumprod, r_cumprod_axis, r_cumprod_method)]
SCAN_CASES += [case(fn, distinct(2, 3, 4)) for fn in (
    r_nansum, r_nansum_axis, r_nanmean, r_nanmean_axis, r_nanmax, r_nanmin, r_ptp, r_ptp_axis,
    r_ptp_keepdims, r_median, r_median_axis, r_median_keepdims, r_quantile, r_percentile,
    r_percentile_keepdims)]
SCAN_CASES += [case(fn, with_nan(2, 3, 4), tag="nan") for fn in (
    r_nansum, r_nansum_axis, r_nanmean, r_nanmean_axis, r_nanmax, r_nanmin, r_nanvar,
    r_nanvar_axis, r_nanstd, r_nancumsum, r_nancumsum_axis)]
SCAN_CASES += [case(fn, real(2, 3, 4)) for fn in (
    r_nanvar, r_nanvar_axis, r_nanstd, r_nancumsum, r_nancumsum_axis)]
SCAN_CASES += [case(r_average_weights, real(2, 3, 4), pos(2, 3, 4)),
               case(r_average_weights_axis, real(2, 3, 4), pos(3)),
               case(r_average_weights_full, real(2, 3, 4), pos(2, 3, 4)),
               case(r_std, real(5), tag="1-d"), case(r_cumsum, real(), tag="0-d"),
               case(r_cumsum_axis, real(3, 4), tag="2-d"), case(r_diff, real(6), tag="1-d")]
# The reductions' keywords: where= (entries left out), initial= (one more term, or contestant
# of a max/min), correction= (NumPy 2's ddof). (COND leaves a row and a column out whole: a
# mean over none of them is NaN; WHERE takes one entry or more of each row and column.)
WHERE = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, True]])


def k_sum_where(x): return np.sum(x, where=COND)
def k_sum_where_axis(x): return np.sum(x, axis=1, where=COND)
def k_sum_where_keepdims(x): return x.sum(axis=(0, 2), keepdims=True, where=COND[0])
def k_sum_where_of_x(x): return np.sum(x * x, axis=-1, where=x > 0)
def k_sum_initial(x, t): return np.sum(x, axis=0, initial=t)
def k_mean_where(x): return np.mean(x, where=WHERE)
def k_mean_where_axis(x): return np.mean(x, axis=1, where=WHERE)
def k_mean_where_keepdims(x): return x.mean(axis=-1, keepdims=True, where=WHERE[2])
def k_max_initial(x): return np.max(x, axis=1, initial=0.5)
def k_max_where(x): return np.max(x, axis=0, initial=-5.0, where=COND)
def k_min_initial_where(x): return np.min(x, axis=(0, 2), initial=1.0, where=COND[0])
def k_min_method_initial(x): return x.min(initial=0.0) * 2.0
def k_amax_initial_keepdims(x): return np.amax(x, axis=-1, keepdims=True, initial=0.2)
def k_max_initial_of_t(x, t): return np.max(x, axis=-1, initial=t)
def k_min_initial_of_t(x, t): return np.min(x, initial=t, where=COND)
def k_var_correction(x): return np.var(x, axis=1, correction=1)
def k_var_correction_all(x): return np.var(x, correction=2)
def k_std_correction(x): return np.std(x, axis=(0, 2), correction=1)
def k_nanvar_correction(x): return np.nanvar(x, axis=-1, correction=1)
def k_nanstd_correction(x): return np.nanstd(x, correction=1)


def _apart_from(x, t):
    """No entry of x within 0.05 of t (a max/min with initial=t has no tie within the step)."""
    return np.min(np.abs(x - t)) > 0.05


SCAN_CASES += [case(fn, real(2, 3, 4)) for fn in (
    k_sum_where, k_sum_where_axis, k_sum_where_keepdims, k_mean_where, k_mean_where_axis,
    k_mean_where_keepdims, k_var_correction, k_var_correction_all, k_std_correction,
    k_nanvar_correction, k_nanstd_correction)]
SCAN_CASES += [case(fn, distinct(2, 3, 4)) for fn in (
    k_max_initial, k_max_where, k_min_initial_where, k_min_method_initial,
    k_amax_initial_keepdims)]
SCAN_CASES += [case(k_sum_where_of_x, away(2, 3, 4)), case(k_sum_initial, real(3, 4), real()),
               case(k_max_initial_of_t, distinct(3, 4), real(), where=_apart_from),
               case(k_min_initial_of_t, distinct(3, 4), real(), where=_apart_from),
               case(k_nanvar_correction, with_nan(2, 3, 4), tag="nan")]
if hasattr(np, "cumulative_sum"):
    def r_cumulative_sum(x): return np.cumulative_sum(x, axis=1)
    def r_cumulative_sum_1d(x): return np.cumulative_sum(x)
    def r_cumulative_prod(x): return np.cumulative_prod(x, axis=-1)
    def r_cumulative_prod_1d(x): return np.cumulative_prod(x)
    SCAN_CASES += [case(r_cumulative_sum, real(2, 3, 4)), case(r_cumulative_sum_1d, real(5)),
                   case(r_cumulative_prod, uniform(0.5, 1.5, 2, 3, 4)),
                   case(r_cumulative_prod_1d, uniform(0.5, 1.5, 5))]


# Shape operations, gathers, joins.
def s_swapaxes(a): return np.swapaxes(a, 0, 2)
def s_swapaxes_method(a): return a.swapaxes(-1, 1)
def s_moveaxis(a): return np.moveaxis(a, 0, -1)
def s_moveaxis_tuple(a): return np.moveaxis(a, (0, 1), (2, 0))
def s_broadcast_to(a): return np.broadcast_to(a, (3, 4))
def s_broadcast_to_col(a): return np.broadcast_to(a, (2, 3, 4))
def s_flip(a): return np.flip(a)
def s_flip_axis(a): return np.flip(a, 1)
def s_flip_tuple(a): return np.flip(a, axis=(0, 2))
def s_fliplr(a): return np.fliplr(a)
def s_flipud(a): return np.flipud(a)
def s_roll(a): return np.roll(a, 5)
def s_roll_axis(a): return np.roll(a, -1, axis=1)
def s_roll_tuple(a): return np.roll(a, (1, 2), axis=(0, 2))
def s_rot90(a): return np.rot90(a)
def s_rot90_axes(a): return np.rot90(a, 3, axes=(1, 2))
def s_rot90_axes_only(a): return np.rot90(a, axes=(1, 0))  # (the tangent passed axes as k)
def s_rot90_default_k(a): return np.rot90(a, 1, (0, 2))
def s_atleast_1d(a): return np.atleast_1d(a)
def s_atleast_2d(a): return np.atleast_2d(a)
def s_atleast_3d(a): return np.atleast_3d(a)
def s_tile(a): return np.tile(a, (2, 1))
def s_tile_int(a): return np.tile(a, 3)
def s_tile_more_reps(a): return np.tile(a, (2, 1, 2))
def s_triu(a): return np.triu(a)
def s_triu_k(a): return np.triu(a, 1)
def s_tril(a): return np.tril(a)
def s_tril_k(a): return np.tril(a, k=-1)
def s_diagonal(a): return np.diagonal(a)
def s_diagonal_offset(a): return np.diagonal(a, 1)
def s_diagonal_axes(a): return np.diagonal(a, -1, 1, 2)
def s_diagonal_axes_only(a): return np.diagonal(a, axis1=2, axis2=0)
def s_diagonal_method(a): return a.diagonal(offset=-1)
def s_trace_method(a): return a.trace()
def s_diag_vector(v): return np.diag(v)
def s_diag_vector_k(v): return np.diag(v, 1)
def s_diag_matrix(a): return np.diag(a, -1)
def s_take(a): return np.take(a, IDX1)
def s_take_axis(a): return np.take(a, IDX, axis=1)
def s_take_2d_index(a): return np.take(a, IDX2, axis=-1)
def s_take_method(a): return a.take(IDX, axis=0)
def s_compress(a): return np.compress(MASK, a, axis=0)
def s_compress_flat(a): return np.compress(MASK, a)
def s_repeat(a): return np.repeat(a, 2)
def s_repeat_axis(a): return np.repeat(a, REPS, axis=1)
def s_repeat_method(a): return a.repeat(3, axis=0)
def s_take_along_axis(a): return np.take_along_axis(a, ORDER, axis=1)
def s_take_along_repeated(a): return np.take_along_axis(a, IDX2[:, :1], axis=0)
def s_sort(a): return np.sort(a)
def s_sort_axis(a): return np.sort(a, axis=0)
def s_sort_flat(a): return np.sort(a, axis=None)
def s_partition(a): return np.partition(a, 2)
def s_partition_axis(a): return np.partition(a, (0, 2), axis=0)
def s_partition_flat(a): return np.partition(a, 5, axis=None)
def s_real_if_close(a): return np.real_if_close(a)
def s_concatenate(a, b): return np.concatenate([a, b * 2.0])
def s_concatenate_axis(a, b): return np.concatenate((a, b), axis=1)
def s_concatenate_flat(a, b): return np.concatenate([a, b], axis=None)
def s_stack(a, b): return np.stack([a, b * a])
def s_stack_axis(a, b): return np.stack([a, b], axis=-1)
def s_vstack(a, b): return np.vstack([a, b])
def s_vstack_matrices(a, b): return np.vstack([a, b])
def s_hstack(a, b): return np.hstack([a, b])
def s_hstack_matrices(a, b): return np.hstack((a, b))
def s_one_list_two_joins(a, b):  # the two adjoints of the list add up piece by piece
    parts = [a, b]
    return np.concatenate(parts) * 2.0 + np.concatenate(parts, axis=None)[:8] ** 2


def s_split(a): return np.split(a, 3, axis=1)[1] * np.split(a, 3, axis=1)[2]
def s_split_rows(a): return np.split(a, 2)[0]
def s_hsplit(a): return np.hsplit(a, 2)[1]
def s_hsplit_1d(a): return np.hsplit(a, 3)[0] - np.hsplit(a, 3)[2]
def s_vsplit(a): return np.vsplit(a, 2)[0] * 3.0
def s_diagflat(v): return np.diagflat(v)
def s_diagflat_k(v): return np.diagflat(v, -1)
def s_asanyarray(a): return np.asanyarray(a)
def s_ascontiguousarray(a): return np.ascontiguousarray(a.T)
def s_append(a, b): return np.append(a, b)
def s_append_axis(a, b): return np.append(a, b, axis=0)
def s_pad(a): return np.pad(a, 1)
def s_pad_widths(a): return np.pad(a, ((1, 0), (2, 1)))
def s_pad_edge(a): return np.pad(a, ((2, 0), (1, 3)), mode="edge")
def s_pad_reflect(a): return np.pad(a, ((3, 1), (0, 5)), "reflect")  # wider than the array
def s_pad_symmetric(a): return np.pad(a, ((1, 4), (2, 2)), mode="symmetric")
def s_pad_wrap(a): return np.pad(a, 2, mode="wrap")
def s_pad_wrap_wide(a): return np.pad(a, ((0, 7), (5, 1)), mode="wrap")
def s_take_wrap(a): return np.take(a, np.array([5, -7, 13, 2, 0, 1]), mode="wrap")
def s_take_clip_axis(a): return np.take(a, np.array([[5, -1], [2, 0]]), axis=1, mode="clip")
def s_full_like(s): return np.full_like(W34, s)
def s_full_like_row(v): return np.full_like(W34, v)
def s_linspace(a, b): return np.linspace(a, b, 5)
def s_linspace_open(a, b): return np.linspace(a, b, num=4, endpoint=False)
def s_linspace_arrays(a, b): return np.linspace(a, b, 3)
def s_polyval(p, x): return np.polyval(p, x)


SHAPE_CASES = [
    case(s_swapaxes, real(2, 3, 4)), case(s_swapaxes_method, real(2, 3, 4)),
    case(s_moveaxis, real(2, 3, 4)), case(s_moveaxis_tuple, real(2, 3, 4)),
    case(s_broadcast_to, real(4)), case(s_broadcast_to_col, real(3, 1)),
    case(s_flip, real(2, 3, 4)), case(s_flip_axis, real(2, 3, 4)),
    case(s_flip_tuple, real(2, 3, 4)), case(s_fliplr, real(3, 4)), case(s_flipud, real(3, 4)),
    case(s_roll, real(3, 4)), case(s_roll_axis, real(3, 4)), case(s_roll_tuple, real(2, 3, 4)),
    case(s_rot90, real(3, 4)), case(s_rot90_axes, real(2, 3, 4)),
    case(s_rot90_axes_only, real(3, 4)), case(s_rot90_default_k, real(2, 3, 4)), case(s_atleast_1d, real()),
    case(s_atleast_1d, real(3, 4), tag="2-d"), case(s_atleast_2d, real(4)),
    case(s_atleast_3d, real(3, 4)), case(s_tile, real(3, 4)), case(s_tile_int, real(4)),
    case(s_tile_more_reps, real(3, 4)), case(s_triu, real(4, 4)), case(s_triu_k, real(3, 4)),
    case(s_triu, real(2, 3, 4), tag="stack"), case(s_triu, real(4), tag="1-d"),
    case(s_tril, real(4, 3)), case(s_tril_k, real(2, 4, 4)), case(s_diagonal, real(3, 4)),
    case(s_diagonal_offset, real(3, 4)), case(s_diagonal_axes, real(2, 4, 3)),
    case(s_diagonal_axes_only, real(2, 3, 4)), case(s_diagonal_method, real(4, 3)),
    case(s_trace_method, real(3, 3)),
    case(s_diag_vector, real(3)), case(s_diag_vector_k, real(3)),
    case(s_diag_matrix, real(3, 4)), case(s_take, real(3, 4)), case(s_take_axis, real(3, 4)),
    case(s_take_2d_index, real(2, 4)), case(s_take_method, real(3, 4)),
    case(s_compress, real(3, 4)), case(s_compress_flat, real(3, 4)), case(s_repeat, real(3, 2)),
    case(s_repeat_axis, real(2, 4)), case(s_repeat_method, real(2, 3)),
    case(s_take_along_axis, real(3, 4)), case(s_take_along_repeated, real(4, 2)),
    case(s_sort, distinct(3, 4)), case(s_sort_axis, distinct(3, 4)),
    case(s_sort_flat, distinct(3, 4)), case(s_partition, distinct(3, 5)),
    case(s_partition_axis, distinct(4, 3)), case(s_partition_flat, distinct(3, 4)),
    case(s_real_if_close, real(3, 4)),
    case(s_concatenate, real(2, 4), real(2, 4)), case(s_concatenate_axis, real(3, 2), real(3, 2)),
    case(s_concatenate_flat, real(2, 3), real(2, 3)), case(s_stack, real(3, 4), real(3, 4)),
    case(s_stack_axis, real(3, 4), real(3, 4)), case(s_vstack, real(4), real(4)),
    case(s_vstack_matrices, real(2, 4), real(2, 4)), case(s_hstack, real(3), real(3)),
    case(s_hstack_matrices, real(3, 2), real(3, 2)), case(s_split, real(2, 6)),
    case(s_one_list_two_joins, real(4), real(4)),
    case(s_split_rows, real(4, 3)), case(s_hsplit, real(3, 4)), case(s_hsplit_1d, real(6)),
    case(s_vsplit, real(4, 3)), case(s_diagflat, real(3)), case(s_diagflat_k, real(2, 2)),
    case(s_asanyarray, real(3, 4)), case(s_ascontiguousarray, real(3, 4)),
    case(s_append, real(2, 3), real(4)),
    case(s_append_axis, real(2, 3), real(1, 3)), case(s_pad, real(3, 4)),
    case(s_pad_widths, real(3, 4)), case(s_pad_edge, real(3, 4)), case(s_pad_reflect, real(3, 4)),
    case(s_pad_symmetric, real(3, 4)), case(s_pad_wrap, real(3, 4)),
    case(s_pad_wrap_wide, real(3, 4)), case(s_take_wrap, real(3, 4)),
    case(s_take_clip_axis, real(3, 4)), case(s_full_like, real()), case(s_full_like_row, real(4)),
    case(s_linspace, real(), real()), case(s_linspace_open, real(), real()),
    case(s_linspace_arrays, real(2), real(2)), case(s_polyval, real(3), real(3, 4)),
]
# Joins and cuts of pieces of different shapes (tag "ragged"): in vector mode each piece's
# tangents are a batch of their own (test_primitives, test_duck_arrays, test_vector_mode)
RAGGED_CASES = [
    case(s_concatenate, real(2, 4), real(3, 4), tag="ragged"),
    case(s_concatenate_axis, real(3, 2), real(3, 4), tag="ragged"),
    case(s_concatenate_flat, real(2, 3), real(4), tag="ragged"),
    case(s_vstack_matrices, real(2, 4), real(1, 4), tag="ragged"),
    case(s_vstack, real(4), real(2, 4), tag="ragged"),
    case(s_hstack, real(3), real(4), tag="ragged"),
    case(s_hstack_matrices, real(3, 2), real(3, 1), tag="ragged"),
    case(s_one_list_two_joins, real(3), real(5), tag="ragged"),
]
if hasattr(np, "unstack"):
    def s_unstack(a): return np.unstack(a, axis=1)[2] - np.unstack(a)[0][:2]
    SHAPE_CASES += [case(s_unstack, real(2, 3))]


# Products.
def p_tensordot(a, b): return np.tensordot(a, b)
def p_tensordot_1(a, b): return np.tensordot(a, b, 1)
def p_tensordot_0(a, b): return np.tensordot(a, b, axes=0)
def p_tensordot_pairs(a, b): return np.tensordot(a, b, axes=([1, 0], [0, 2]))
def p_tensordot_lists(a, b): return np.tensordot(a, b, ([2], [0]))
def p_linalg_tensordot(a, b): return np.linalg.tensordot(a, b, axes=1)
def p_inner(a, b): return np.inner(a, b)
def p_vdot(a, b): return np.vdot(a, b)
def p_kron(a, b): return np.kron(a, b)
def p_vecdot(a, b): return np.vecdot(a, b)
def p_vecdot_axis(a, b): return np.vecdot(a, b, axis=0)
def p_linalg_vecdot(a, b): return np.linalg.vecdot(a, b)
def p_cross(a, b): return np.cross(a, b)
def p_cross_axis(a, b): return np.cross(a, b, axis=0)
def p_linalg_cross(a, b): return np.linalg.cross(a, b)
def p_linalg_matmul(a, b): return np.linalg.matmul(a, b)
def p_linalg_outer(a, b): return np.linalg.outer(a, b)
def p_matrix_transpose(a): return np.matrix_transpose(a)
def p_linalg_matrix_transpose(a): return np.linalg.matrix_transpose(a)
def p_linalg_diagonal(a): return np.linalg.diagonal(a)
def p_linalg_diagonal_offset(a): return np.linalg.diagonal(a, offset=1)
def p_linalg_trace(a): return np.linalg.trace(a)
def p_linalg_trace_offset(a): return np.linalg.trace(a, offset=-1)
def e_matmul(a, b): return np.einsum("ij,jk->ik", a, b)
def e_implicit(a, b): return np.einsum("ij,jk", a, b)
def e_trace(a): return np.einsum("ii", a)
def e_diagonal(a): return np.einsum("ii->i", a)
def e_sum(a): return np.einsum("ij->", a)
def e_column_sums(a): return np.einsum("ij->j", a)
def e_transpose(a): return np.einsum("ijk->kij", a)
def e_batch(a, b): return np.einsum("bij,bjk->bik", a, b)
def e_ellipsis(a, b): return np.einsum("...ij,jk->...ik", a, b)
def e_ellipsis_broadcast(a, b): return np.einsum("...ij,...jk->...ik", a, b)
def e_dot(a, b): return np.einsum("i,i->", a, b)
def e_outer(a, b): return np.einsum("i,j->ij", a, b)
def e_three(a, b, c): return np.einsum("ij,jk,kl->il", a, b, c)
def e_same_operand(a): return np.einsum("ij,ij->", a, a)
def e_summed_alone(a, b): return np.einsum("ij,kl->ik", a, b)
def e_diagonal_and_sum(a, b): return np.einsum("iij,k->k", a, b)
def e_spaces(a, b): return np.einsum("i j , j -> i", a, b)


PRODUCT_CASES = [
    case(p_tensordot, real(2, 3, 4), real(3, 4, 2)), case(p_tensordot_1, real(2, 3), real(3, 4)),
    case(p_tensordot_0, real(2), real(3, 2)), case(p_tensordot_pairs, real(2, 3, 4), real(3, 4, 2)),
    case(p_tensordot_lists, real(2, 3, 4), real(4, 2)),
    case(p_linalg_tensordot, real(2, 3), real(3, 2)), case(p_inner, real(3, 4), real(2, 4)),
    case(p_inner, real(4), real(4), tag="1-d"), case(p_vdot, real(3, 4), real(12)),
    case(p_kron, real(2, 3), real(3, 2)), case(p_kron, real(2), real(3, 2), tag="1-d*2-d"),
    case(p_kron, real(2, 2, 1), real(3, 2), tag="3-d*2-d"),
    case(p_vecdot, real(3, 4), real(4)), case(p_vecdot_axis, real(3, 4), real(3, 1)),
    case(p_linalg_vecdot, real(2, 1, 4), real(3, 4)),
    case(p_cross, real(3), real(4, 3)), case(p_cross_axis, real(3, 2), real(3, 2)),
    case(p_linalg_cross, real(2, 3), real(2, 3)),
    case(p_linalg_matmul, real(2, 3, 4), real(4, 2)), case(p_linalg_outer, real(3), real(4)),
    case(p_matrix_transpose, real(2, 3, 4)), case(p_linalg_matrix_transpose, real(3, 4)),
    case(p_linalg_diagonal, real(2, 3, 4)), case(p_linalg_diagonal_offset, real(3, 4)),
    case(p_linalg_trace, real(2, 3, 3)), case(p_linalg_trace_offset, real(3, 4)),
    case(e_matmul, real(3, 4), real(4, 2)), case(e_implicit, real(3, 4), real(4, 2)),
    case(e_trace, real(3, 3)), case(e_diagonal, real(3, 3)), case(e_sum, real(3, 4)),
    case(e_column_sums, real(3, 4)), case(e_transpose, real(2, 3, 4)),
    case(e_batch, real(2, 3, 4), real(2, 4, 2)), case(e_ellipsis, real(2, 3, 4), real(4, 2)),
    case(e_ellipsis, real(3, 4), real(4, 2), tag="no batch"),
    case(e_ellipsis_broadcast, real(3, 4), real(2, 4, 2)),
    case(e_ellipsis_broadcast, real(2, 1, 3, 4), real(3, 4, 2), tag="size-1 batch"),
    case(e_dot, real(4), real(4)), case(e_outer, real(3), real(4)),
    case(e_three, real(2, 3), real(3, 4), real(4, 2)), case(e_same_operand, real(3, 4)),
    case(e_summed_alone, real(2, 3), real(4, 2)), case(e_diagonal_and_sum, real(3, 3, 2), real(4)),
    case(e_spaces, real(3, 4), real(4)),
]


if hasattr(np, "matvec"):
    def p_matvec(a, b): return np.matvec(a, b)
    def p_vecmat(a, b): return np.vecmat(a, b)
    PRODUCT_CASES += [case(p_matvec, real(2, 3, 4), real(4)),
                      case(p_matvec, real(3, 4), real(2, 1, 4), tag="broadcast"),
                      case(p_vecmat, real(3), real(2, 3, 4)),
                      case(p_vecmat, real(2, 1, 3), real(4, 3, 2), tag="broadcast")]


# np.linalg.
def l_cholesky(a): return np.linalg.cholesky(a)
def l_slogdet(a): return np.linalg.slogdet(a)[1]
def l_slogdet_sign(a): return np.linalg.slogdet(a)[0] * np.linalg.slogdet(a)[1]
def l_pinv(a): return np.linalg.pinv(a)
def l_matrix_power(a): return np.linalg.matrix_power(a, 3)
def l_matrix_power_1(a): return np.linalg.matrix_power(a, 1)
def l_matrix_power_0(a): return np.linalg.matrix_power(a, 0) * 2.0 + a
def l_eigvalsh(a): return np.linalg.eigvalsh(a)


def l_eigh(a):  # v ** 2: independent of each eigenvector's sign
    w, v = np.linalg.eigh(a)
    return w + np.sum(v ** 2 * np.arange(3.0)[:, None], axis=0)


W55 = np.random.default_rng(55).standard_normal((5, 5))


def l_svd(a):  # u ** 2, vt ** 2: independent of each singular vector's sign
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum(u ** 2 * W55[:u.shape[0], :u.shape[1]]) + s * 1.5 + \
        np.sum(vt ** 2 * W55[:vt.shape[0], :vt.shape[1]], axis=-1)


def l_qr(a):
    q, r = np.linalg.qr(a)
    return q * W55[:q.shape[0], :q.shape[1]] + np.sum(r * r, axis=0)


def l_eigh_values(a):
    w, _ = np.linalg.eigh(a)
    return w ** 2
def l_svdvals(a): return np.linalg.svdvals(a)
def l_vector_norm(a): return np.linalg.vector_norm(a)
def l_vector_norm_axis(a): return np.linalg.vector_norm(a, axis=1, keepdims=True)
def l_matrix_norm(a): return np.linalg.matrix_norm(a)
def l_matrix_norm_keepdims(a): return np.linalg.matrix_norm(a, keepdims=True)


def negative_det(rng):
    a = matrix(3, 3)(rng)
    return a[::-1].copy()


LINALG2_CASES = [
    case(l_cholesky, spd(3, 3)), case(l_cholesky, spd(2, 3, 3), tag="batch"),
    case(l_slogdet, matrix(3, 3)), case(l_slogdet, negative_det, tag="negative"),
    case(l_slogdet, matrix(2, 3, 3), tag="batch"), case(l_slogdet_sign, negative_det),
    case(l_pinv, real(3, 4)), case(l_pinv, real(4, 3), tag="tall"),
    case(l_pinv, matrix(3, 3), tag="square"), case(l_matrix_power, matrix(3, 3)),
    case(l_matrix_power, matrix(2, 3, 3), tag="batch"), case(l_matrix_power_1, real(3, 3)),
    case(l_matrix_power_0, real(3, 3)), case(l_eigvalsh, symmetric(3, 3)),
    case(l_eigvalsh, real(3, 3), tag="lower triangle"), case(l_eigh, symmetric(3, 3)),
    case(l_eigh, symmetric(3, 3), tag="lower triangle"), case(l_eigh_values, symmetric(3, 3)),
    case(l_svd, real(4, 3), tag="tall"), case(l_svd, real(3, 4), tag="wide"),
    case(l_svd, real(3, 3), tag="square"), case(l_qr, real(4, 3), tag="tall"),
    case(l_qr, real(3, 3), tag="square"),
    case(l_svdvals, real(3, 4)), case(l_svdvals, real(2, 4, 3), tag="batch"),
    case(l_vector_norm, real(3, 4)), case(l_vector_norm_axis, real(2, 3, 4)),
    case(l_matrix_norm, real(2, 3, 4)), case(l_matrix_norm_keepdims, real(3, 4)),
]



# NumPy's full semantics: every argument kind a rule's function takes (issue 11).
def d_dot_2d_3d(a, b): return np.dot(a, b)
def d_dot_3d_3d(a, b): return np.dot(a, b)
def d_dot_1d_3d(a, b): return np.dot(a, b)
def d_matmul_stacks(a, b): return np.matmul(a, b)
def d_inner_number(a, b): return np.inner(a, b)
def d_inner_3d(a, b): return np.inner(a, b)
def d_outer_2d(a, b): return np.outer(a, b)
def d_vdot_2d(a, b): return np.vdot(a, b)
def d_tensordot_int_pair(a, b): return np.tensordot(a, b, axes=(1, 0))
def d_tensordot_negative(a, b): return np.tensordot(a, b, axes=([-1, 0], [0, -1]))
def d_einsum_inner_ellipsis(a, b): return np.einsum("i...,i->...", a, b)
def d_einsum_middle_ellipsis(a): return np.einsum("i...j->j...i", a)
def d_einsum_end_ellipsis(a, b): return np.einsum("ij...,jk->ik...", a, b)
def d_einsum_batch_trace(a): return np.einsum("...ii->...", a)
def d_einsum_diagonal_3(a): return np.einsum("iii->i", a)
def d_einsum_implicit_ellipsis(a, b): return np.einsum("...ij,jk", a, b)
def d_einsum_implicit_middle(a): return np.einsum("i...", a)
def d_einsum_product(a, b): return np.einsum("ij,ij->ij", a, b)
def d_eigvalsh_stack(a): return np.linalg.eigvalsh(a)


def d_eigh_stack(a):
    w, v = np.linalg.eigh(a)
    return w + np.sum(v ** 2 * np.arange(3.0)[:, None], axis=-2)


def d_column_stack(a, b): return np.column_stack([a, b])
def d_dstack(a, b): return np.dstack((a, b))
def d_split_indices(a): return np.split(a, [1, 3])[0] * 2.0 + np.split(a, [1, 3])[2][:1]
def d_array_split(a): return np.array_split(a, 3)[0] * np.array_split(a, 3)[2][0]
def d_array_split_indices(a): return np.array_split(a, [1, 3], axis=1)[1]
def d_hsplit_indices(a): return np.hsplit(a, [1, 3])[1]
def d_hsplit_halves(a): return np.hsplit(a, [3])[1] * np.hsplit(a, [3])[0]
def d_vsplit_indices(a): return np.vsplit(a, [1])[1]
def d_dsplit(a): return np.dsplit(a, 2)[1] - np.dsplit(a, 2)[0]
def d_dsplit_indices(a): return np.dsplit(a, [1])[1]
def d_rollaxis(a): return np.rollaxis(a, 2)
def d_rollaxis_start(a): return np.rollaxis(a, 2, 1)
def d_rollaxis_back(a): return np.rollaxis(a, 0, 3)
def d_select(a, b): return np.select([a > 0, b > 0], [a, b * 2.0], default=a * b)
def d_select_broadcast(a, b): return np.select([COND, COND[0] < 1], [a, b], 0.5)


NUMPY_CASES = [
    case(d_dot_2d_3d, real(3, 4), real(2, 4, 2)), case(d_dot_3d_3d, real(2, 3, 4), real(2, 4, 3)),
    case(d_dot_1d_3d, real(4), real(2, 4, 3)), case(d_matmul_stacks, real(2, 1, 3, 4), real(3, 4, 2)),
    case(d_inner_number, real(), real(3, 4)), case(d_inner_number, real(3, 4), real(), tag="r"),
    case(d_inner_3d, real(2, 3, 4), real(2, 4)), case(d_outer_2d, real(2, 3), real(2, 2)),
    case(d_vdot_2d, real(2, 3), real(3, 2)), case(d_tensordot_int_pair, real(2, 3), real(3, 4)),
    case(d_tensordot_negative, real(2, 3, 4), real(4, 3, 2)),
    case(d_einsum_inner_ellipsis, real(3, 2, 4), real(3)),
    case(d_einsum_middle_ellipsis, real(2, 3, 4)),
    case(d_einsum_end_ellipsis, real(2, 3, 2), real(3, 4)),
    case(d_einsum_end_ellipsis, real(2, 3, 2, 1), real(3, 4), tag="two"),
    case(d_einsum_batch_trace, real(2, 3, 3)), case(d_einsum_diagonal_3, real(3, 3, 3)),
    case(d_einsum_implicit_ellipsis, real(2, 3, 4), real(4, 2)),
    case(d_einsum_implicit_middle, real(2, 3, 4)), case(d_einsum_product, real(2, 3), real(2, 3)),
    case(d_eigvalsh_stack, symmetric(2, 3, 3)), case(d_eigh_stack, symmetric(2, 3, 3)),
    case(la_inv, matrix(2, 2, 3, 3), tag="4-d"), case(la_det, matrix(2, 2, 3, 3), tag="4-d"),
    case(l_slogdet, matrix(2, 2, 3, 3), tag="4-d"), case(l_cholesky, spd(2, 2, 3, 3), tag="4-d"),
    case(d_column_stack, real(3, 2), real(3, 2)), case(d_column_stack, real(3), real(3), tag="1-d"),
    case(d_dstack, real(2, 3), real(2, 3)), case(d_dstack, real(3), real(3), tag="1-d"),
    case(d_array_split, real(6)), case(d_hsplit_halves, real(2, 6)),
    case(d_dsplit, real(2, 2, 4)), case(d_rollaxis, real(2, 3, 4)),
    case(d_rollaxis_start, real(2, 3, 4)), case(d_rollaxis_back, real(2, 3, 4)),
    case(d_select, away(3, 4), away(3, 4)), case(d_select_broadcast, real(3, 4), real(3, 4)),
]
# pieces of different shapes, in a join's operand or a cut's result (no vector mode)
RAGGED_CASES += [
    case(d_column_stack, real(3), real(3, 2), tag="ragged"), case(d_array_split, real(7), tag="ragged"),
    *(case(fn, real(*shape), tag="ragged") for fn, shape in (
        (d_array_split_indices, (2, 5)), (d_hsplit_indices, (2, 5)), (d_vsplit_indices, (3, 2)),
        (d_split_indices, (5,)), (d_dsplit_indices, (2, 2, 4)))),
    case(d_select_broadcast, real(3, 4), real(4), tag="ragged"),
]


def real_eigenvalues(*shape):
    """Matrices with real eigenvalues 1, 2, 4, well apart (not symmetric)."""
    return lambda rng: np.diag([1.0, 2.0, 4.0]) + 0.2 * rng.standard_normal(shape)


def d_eig(a):  # v ** 2: independent of each eigenvector's sign
    w, v = np.linalg.eig(a)
    return w * 2.0 + np.sum(v ** 2 * np.arange(3.0)[:, None], axis=0)


def d_eigvals(a): return np.linalg.eigvals(a)
def d_svd_values(a): return np.linalg.svd(a, compute_uv=False)


def d_svd_full(a):  # the determined columns of a full u and vt only
    u, s, vt = np.linalg.svd(a)
    k = s.shape[0]
    return s + np.sum(u[:, :k] ** 2 * W55[:u.shape[0], :k], axis=0) + \
        np.sum(vt[:k] ** 2 * W55[:k, :vt.shape[1]], axis=1)


def d_eigh_upper(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return w + np.sum(v ** 2 * np.arange(3.0)[:, None], axis=0)


def d_eigvalsh_upper(a): return np.linalg.eigvalsh(a, UPLO="U")
def d_matrix_power_negative(a): return np.linalg.matrix_power(a, -2)
def d_matrix_power_inverse(a): return np.linalg.matrix_power(a, -1)
def d_cond(a): return np.linalg.cond(a)
def d_cond_2(a): return np.linalg.cond(a, 2) * np.linalg.matrix_rank(a)
def d_cond_minus_2(a): return np.linalg.cond(a, p=-2)
def d_multi_dot(a, b): return np.linalg.multi_dot([a, b, W43, W3])
def d_multi_dot_rows(a, b): return np.linalg.multi_dot([a, b, b.T])
def d_lstsq(a, b): return np.linalg.lstsq(a, b)[0]
def d_lstsq_columns(a, b): return np.linalg.lstsq(a, b, rcond=None)[0]
def d_lstsq_square(a, b): return np.linalg.lstsq(a, b)[0]


def d_lstsq_unpacked(a, b):  # both differentiated: the tangents' tuples add result by result
    x, res, rank, sv = np.linalg.lstsq(a, b)
    return x * 2.0 + res[0]


def d_lstsq_all(a):  # the residuals' and singular values' adjoints too
    x, res, rank, sv = np.linalg.lstsq(a, W6[:5])
    return np.sum(x * 2.0) + res[0] + np.sum(sv ** 2)


def _ord_cases():
    """A norm call for each ord, each in its own function of a generated module (the ord is
    a constant of the source, which the rules read)."""
    calls = {  # name: (call, domain, ords)
        "norm_vector": ("np.linalg.norm(a, {})", away(5), VECTOR_ORDS),
        "norm_axis": ("np.linalg.norm(a, {}, axis=1)", away(3, 4), VECTOR_ORDS),
        "vector_norm": ("np.linalg.vector_norm(a, ord={}, axis=-1)", away(2, 4), VECTOR_ORDS),
        "norm_matrix": ("np.linalg.norm(a, {})", distinct(3, 4), MATRIX_ORDS),
        "norm_axes": ("np.linalg.norm(a, {}, axis=(2, 0))", distinct(3, 2, 4), MATRIX_ORDS),
        "norm_axes_keepdims": ("np.linalg.norm(a, {}, axis=(0, 2), keepdims=True)",
                               distinct(3, 2, 4), MATRIX_ORDS),
        "matrix_norm": ("np.linalg.matrix_norm(a, ord={})", distinct(2, 3, 4), MATRIX_ORDS),
        "matrix_norm_keepdims": ("np.linalg.matrix_norm(a, ord={}, keepdims=True)",
                                 distinct(2, 4, 3), MATRIX_ORDS)}
    spelled = {np.inf: "np.inf", -np.inf: "-np.inf"}
    functions = {f"d_{name}_{i}": (call.format(spelled.get(o, repr(o))), domain, o)
                 for name, (call, domain, ords) in calls.items() for i, o in enumerate(ords)}
    source = "import numpy as np\n" + "".join(f"\n\ndef {fn}(a):\n    return {call}\n"
                                              for fn, (call, _, _) in functions.items())
    directory = tempfile.mkdtemp(prefix="s2sad_norms_")  # (s2sad reads the source later)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = pathlib.Path(directory) / "norm_cases.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("norm_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [case(getattr(module, fn), domain, tag=f"ord={o}")
            for fn, (_, domain, o) in functions.items()]


VECTOR_ORDS = (1, 2, 3, 0.5, -1, -2, np.inf, -np.inf)
MATRIX_ORDS = (1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc")
NORM_CASES = _ord_cases()
NUMPY_CASES += NORM_CASES + [
    case(d_svd_values, real(3, 4)), case(d_svd_values, real(2, 4, 3), tag="stack"),
    case(d_svd_full, real(3, 3), tag="square"), case(d_eigh_upper, symmetric(3, 3)),
    case(d_eigh_upper, real(3, 3), tag="upper triangle"), case(d_eigvalsh_upper, real(3, 3)),
    case(d_matrix_power_negative, matrix(3, 3)), case(d_matrix_power_inverse, matrix(2, 3, 3)),
    case(d_cond, matrix(3, 3)), case(d_cond, real(2, 3, 4), tag="stack"), case(d_cond_2, real(4, 3)),
    case(d_cond_minus_2, matrix(3, 3)),
]
# the helpers of eig, lstsq and a full svd (eig_bar, ...) have no rules: derivative code
# differentiates them as the functions they are; np.linalg.multi_dot, to first order only
NUMPY_CASES += [
    case(d_eig, real_eigenvalues(3, 3)), case(d_eigvals, real_eigenvalues(3, 3)),
    case(d_svd_full, real(3, 4), tag="wide"), case(d_svd_full, real(4, 3), tag="tall"),
    case(d_lstsq_all, real(5, 3)),
]
FIRST_ORDER_CASES = [case(d_multi_dot_rows, real(3, 3), real(3, 3))]
# np.linalg.lstsq(a, b)[0]: vector mode cannot stack a tuple of tangents of different shapes
RAGGED_CASES += [
    case(d_lstsq, real(5, 3), real(5), tag="ragged"),
    case(d_lstsq_columns, real(5, 3), real(5, 2), tag="ragged"),
    case(d_lstsq_square, real(3, 3), real(3), tag="ragged"),
    case(d_lstsq_unpacked, real(5, 3), real(5), tag="ragged"),
]
def d_convolve(a, v): return np.convolve(a, v)
def d_convolve_same(a, v): return np.convolve(a, v, "same")
def d_convolve_valid(a, v): return np.convolve(a, v, mode="valid")
def d_correlate(a, v): return np.correlate(a, v)
def d_correlate_full(a, v): return np.correlate(a, v, "full")
def d_correlate_same(a, v): return np.correlate(a, v, mode="same")


XP, FP = np.linspace(-3.0, 3.0, 7), np.sin(np.linspace(-3.0, 3.0, 7))
OFF_KNOTS = np.array([-3.6, -2.3, 0.4, 1.1, 2.7, 3.4])  # outside the range at both ends


def d_interp(x): return np.interp(x, XP, FP)
def d_interp_bounds(x): return np.interp(x, XP, FP, left=-3.0, right=2.0)
def d_interp_scalar(x): return np.interp(x, XP, FP) * 2.0
def d_arange_start(x): return np.arange(x, x + 2.5) * W3
def d_arange_step(x): return np.arange(0.0, 1.0, step=x) * W34[0]  # 4 values for x in (1/4, 1/3)
def d_arange_start_step(x): return np.arange(x, 4.0, x) * W34[1]  # 4 values for x in (0.8, 1)
def d_interp_fp(fp): return np.interp(OFF_KNOTS, XP, fp)
def d_interp_ends(fp, a): return np.interp(OFF_KNOTS, XP, fp, left=a, right=a * 2.0)
def d_interp_x_fp(x, fp): return np.interp(x, XP, fp, right=0.5)
def d_gradient(f): return np.gradient(f)
def d_gradient_spacing(f): return np.gradient(f, 0.5, axis=0, edge_order=2)


def d_trapezoid(y): return np.trapezoid(y)
def d_trapezoid_x(y): return np.trapezoid(y, XP[:4] ** 2, axis=0)
def d_trapezoid_dx(y): return np.trapezoid(y, dx=0.5, axis=1) * 2.0


def d_gradient_2d(f):
    gy, gx = np.gradient(f)
    return gy * 2.0 + gx


NUMPY_CASES += [case(d_convolve, real(5), real(3)), case(d_convolve, real(2), real(4), tag="v longer")]
NUMPY_CASES += [case(fn, real(n), real(m), tag=f"{n},{m}")
                for fn in (d_convolve_same, d_convolve_valid, d_correlate, d_correlate_full,
                           d_correlate_same) for n, m in ((5, 3), (2, 6), (4, 4))]
NUMPY_CASES += [
    case(d_interp, lambda rng: OFF_KNOTS), case(d_interp_bounds, lambda rng: OFF_KNOTS),
    case(d_interp_scalar, uniform(-2.9, 2.9)), case(d_interp_fp, real(7)),
    case(d_arange_start, real()), case(d_arange_step, uniform(0.26, 0.32)),
    case(d_arange_start_step, uniform(0.85, 0.95)),
    case(d_interp_ends, real(7), real()), case(d_interp_x_fp, lambda rng: OFF_KNOTS, real(7)),
    case(d_gradient, real(5)),
    case(d_gradient_spacing, real(4, 3)),
    case(d_gradient_2d, real(3, 4)), case(d_trapezoid, real(5)), case(d_trapezoid_x, real(4, 3)),
    case(d_trapezoid_dx, real(2, 4, 3)),
]
if hasattr(np, "row_stack"):
    def d_row_stack(a, b): return np.row_stack([a, b])
    NUMPY_CASES += [case(d_row_stack, real(3), real(3))]
    RAGGED_CASES += [case(d_row_stack, real(3), real(2, 3), tag="ragged")]

# Arrays broadcast against each other, one result per operand: each result's adjoint is summed
# back to its operand's shape.
def b_broadcast_arrays(x, y):
    a, b = np.broadcast_arrays(x, y)
    return a * b + a * W34
def b_broadcast_arrays_three(x, y, z):
    a, b, c = np.broadcast_arrays(x, y, z)
    return np.sin(a) * b - c
def b_broadcast_arrays_indexed(x, y): return np.broadcast_arrays(x, y)[1] * W34 + x
def b_broadcast_arrays_one(x): return np.broadcast_arrays(x)[0] * 2.0
def b_meshgrid(x, y):
    X, Y = np.meshgrid(x, y)
    return np.sin(X) * Y
def b_meshgrid_ij(x, y):
    X, Y = np.meshgrid(x, y, indexing="ij")
    return X * Y + X
def b_meshgrid_three(x, y, z):
    X, Y, Z = np.meshgrid(x, y, z)
    return X * Y * Z
def b_meshgrid_three_ij(x, y, z):
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
    return X * Z - Y
def b_meshgrid_one(x): return np.meshgrid(x)[0] ** 2
def b_meshgrid_of_matrix(x, y):  # (meshgrid reads each operand flattened)
    X, Y = np.meshgrid(x, y)
    return X * Y


NUMPY_CASES += [
    case(b_broadcast_arrays, real(3, 1), real(4)), case(b_broadcast_arrays, real(3, 4), real(3, 4),
                                                        tag="same"),
    case(b_broadcast_arrays, real(), real(3, 4), tag="number"),
    case(b_broadcast_arrays_three, real(2, 1, 4), real(3, 1), real()),
    case(b_broadcast_arrays_indexed, real(4), real(3, 1)), case(b_broadcast_arrays_one, real(3)),
    case(b_meshgrid, real(4), real(3)), case(b_meshgrid_ij, real(3), real(4)),
    case(b_meshgrid_three, real(3), real(2), real(4)),
    case(b_meshgrid_three_ij, real(2), real(3), real(4)), case(b_meshgrid_one, real(4)),
    case(b_meshgrid_of_matrix, real(2, 2), real(3)),
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
def h_quantile_bar(t): return quantile_bar(t, D34, 0.3, 1)
def h_quantile_bar_keepdims(t): return quantile_bar(t, D34, 0.5, 0, True)
def h_quantile_bar_all(t): return quantile_bar(t, D34, 0.75)
def h_matmul_bar_a(t, b): return matmul_bar_a(t, W34, b)
def h_matmul_bar_b(t, a): return matmul_bar_b(t, a, W43)
def h_dot_bar_a(t, b): return dot_bar_a(t, W34, b)
def h_dot_bar_b(t, a): return dot_bar_b(t, a, W43)
def h_lift(t): return lift(t, W4, W34)
def h_unindex_axis(t): return unindex_axis(t, W34, IDX, 1)
def h_unindex_axis_flat(t): return unindex_axis(t, W34, IDX2)
def h_unindex_along(t): return unindex_along(t, W34, ORDER[:, :2], 1)
def h_undiagonal(t): return undiagonal(t, W234, -1, 1, 2)
def h_diag_bar(t): return diag_bar(t, W4, 1)
def h_diag_bar_matrix(t): return diag_bar(t, W34)
def h_unconcatenate(t): return np.stack(unconcatenate(t, [W24[:, :2], W24[:, 2:]], 1)) * 2.0
def h_unconcatenate_rows(t): return np.stack(unconcatenate(t, (W4, W4), 0, 2)) * 2.0
def h_unpad(t): return unpad(t, ((1, 0), (0, 2)))
def h_written_bar(t): return written_bar(t, (IDX[:3], [1, 1, 2]))
def h_written_bar_rows(t): return written_bar(t, [2, 0, 2])
def h_setitem_dot(t, v): return setitem_dot(t, [2, 0, 2], v)  # (0 named twice: the last v)
def h_weights_along(t): return weights_along(t, W234, 1) * W234
def h_unpad_copies(t): return unpad_copies(t, ((1, 0), (3, 2)), "reflect")
def h_unpad_copies_edge(t): return unpad_copies(t, 1, "edge")
def h_tensordot_bar_a(t, b): return tensordot_bar_a(t, W234, b, ([1, 0], [0, 2]))
def h_tensordot_bar_b(t, a): return tensordot_bar_b(t, a, W34, 1)
def h_kron_bar_a(t, b): return kron_bar_a(t, W22, b)
def h_kron_bar_b(t, a): return kron_bar_b(t, a, W32)


HELPER_CASES = [
    case(h_unbroadcast, real(3, 4)), case(h_unbroadcast_leading, real(2, 3, 4)),
    case(h_unbroadcast_same, real(3, 4)), case(h_unreduce, real()),
    case(h_unreduce_axis, real(2, 4)), case(h_unreduce_keepdims, real(1, 3, 1)),
    case(h_unindex, real(4, 4)), case(h_extremum_bar, real(3)), case(h_extremum_bar_all, real()),
    case(h_quantile_bar, real(3)), case(h_quantile_bar_keepdims, real(1, 4)),
    case(h_quantile_bar_all, real()),
    case(h_matmul_bar_a, real(3, 2), real(4, 2)), case(h_matmul_bar_a, real(3), real(4),
                                                       tag="matrix@vector"),
    case(h_matmul_bar_b, real(3, 3), real(3, 4)), case(h_matmul_bar_b, real(3), real(4),
                                                       tag="vector@matrix"),
    case(h_dot_bar_a, real(3, 2), real(4, 2)), case(h_dot_bar_a, real(3, 4), real(), tag="scalar"),
    case(h_dot_bar_b, real(3, 3), real(3, 4)), case(h_dot_bar_b, real(4, 3), real(), tag="scalar"),
    case(h_lift, real(2, 4)),
]
BREADTH_HELPER_CASES = [  # the helpers of the rules above
    case(h_unindex_axis, real(3, 4)),
    case(h_unindex_axis_flat, real(2, 2)), case(h_unindex_along, real(3, 2)),
    case(h_undiagonal, real(2, 2)), case(h_diag_bar, real(5, 5)), case(h_diag_bar_matrix, real(3)),
    case(h_unconcatenate, real(2, 4)), case(h_unconcatenate_rows, real(2, 4)),
    case(h_unpad, real(4, 5)), case(h_written_bar, real(3, 4)),
    case(h_written_bar_rows, real(3, 4)), case(h_setitem_dot, real(3, 4), real(3, 4)),
    case(h_weights_along, real(3)), case(h_unpad_copies, real(4, 8)),
    case(h_unpad_copies_edge, real(4, 5)), case(h_tensordot_bar_a, real(4, 2), real(3, 2, 2)),
    case(h_tensordot_bar_b, real(2, 4), real(2, 3)), case(h_kron_bar_a, real(4, 6), real(2, 3)),
    case(h_kron_bar_b, real(6, 4), real(2, 2)),
]
HELPER_CASES += BREADTH_HELPER_CASES

# the sums of a loop's deferred outer products (s2sad/reverse/deferral.py), here over literal lists of pairs
from s2sad.support import matmul_bar_a_sum, matmul_bar_b_sum  # noqa: E402


def h_matmul_bar_a_sum(g, b): return matmul_bar_a_sum([(g, b), (g * g, b[::-1])], W33)
def h_matmul_bar_b_sum(g, a): return matmul_bar_b_sum([(g, a), (g[::-1], a * a)], W33)


HELPER_CASES += [case(h_matmul_bar_a_sum, real(3), real(3)),
                 case(h_matmul_bar_b_sum, real(3), real(3))]

from s2sad.support import writable  # noqa: E402


def h_writable(t): return writable(unreduce(t, W34)) * W34


HELPER_CASES += [case(h_writable, real())]

from s2sad.support import copy_bar, sum_bar  # noqa: E402


def h_sum_bar(t): return sum_bar(t, W34) * W34  # an array's rows


def h_sum_bar_list(t):  # elements of three shapes: each gets t summed to its own
    a, b, c = sum_bar(t, [W4, W4[:1], 0.5])
    return a * W4 + b + c * 3.0


def h_copy_bar(t): return copy_bar(t) * W34


def h_copy_bar_list(t):
    a, b = copy_bar([t, t * t])
    return a * W4 + b


HELPER_CASES += [case(h_sum_bar, real(4)), case(h_sum_bar_list, real(4)),
                 case(h_copy_bar, real(3, 4)), case(h_copy_bar_list, real(4))]

from s2sad.support import masked  # noqa: E402


def h_masked(t): return np.sum(masked(t * W34, COND) + masked(t, COND, False) * W34)


HELPER_CASES += [case(h_masked, real(3, 4))]

from s2sad.support import masked_rest, tie_share  # noqa: E402


def h_masked_rest(t): return np.sum(masked_rest(t * W34, masked(t * W34, COND), COND) * W34)
def h_tie_share(t): return tie_share(t, D34 == np.max(D34, axis=1, keepdims=True), 1)
def h_tie_share_all(t): return tie_share(t, D34 == np.min(D34))


HELPER_CASES += [case(h_masked_rest, real(3, 4)), case(h_tie_share, real(3)),
                 case(h_tie_share_all, real())]

from s2sad.support import gradient_bar, select_bar, unjoin  # noqa: E402


def h_unjoin(t): return unjoin(t, [W3, W3], 1) * 2.0
def h_unjoin_depth(t): return unjoin(t, (W34, W34), 2)
def h_select_bar(t): return select_bar(t, [COND, ~COND], [W34, W34])[0] * W34
def h_gradient_bar(t): return gradient_bar(t, W6, 0.5, None, 2)
def h_gradient_bar_axes(t, u): return gradient_bar((t, u), W34)


BREADTH_HELPER_CASES += [case(h_unjoin, real(3, 2)), case(h_unjoin_depth, real(3, 4, 2)),
                         case(h_select_bar, real(3, 4)), case(h_gradient_bar, real(6)),
                         case(h_gradient_bar_axes, real(3, 4), real(3, 4))]
HELPER_CASES += BREADTH_HELPER_CASES[-5:]

import collections  # noqa: E402

from s2sad.support import as_gradient, bars, kept, unattr  # noqa: E402

NAMED = collections.namedtuple("Named", "w b")(np.ones(3), np.ones(3))


def h_as_gradient(t): return as_gradient(unreduce(t, W34), W34) * W34
def h_bars(t): return bars((np.sin(t), t * W34))[1] + bars((t, t))[0]
def h_kept(t): return kept(np.sin(t)) * kept((t, t))[1]


def h_unattr(t): return unattr(t, NAMED, "b")[1] * unattr(t, NAMED, "w")[0] ** 2


HELPER_CASES += [case(h_as_gradient, real()), case(h_bars, real(3, 4)), case(h_kept, real(3)),
                 case(h_unattr, real(3))]

from s2sad.support import piece_bar, unpiece  # noqa: E402


# p + q of tuples is a join (its adjoint: a piece of the adjoint, piece_bar; their transpose)
def s_tuples_joined(x, y): return np.array((x, y * 2.0) + (np.sin(x),) * 2) * W3[0]
def h_piece_bar(t): return piece_bar(t, 1, 3) * W34[:2]
def h_piece_bar_tuple(t, u): return piece_bar((t, u, t * u), 1, 3)[1] * 2.0
def h_unpiece(t): return unpiece(t, W34, 1)
def h_unpiece_tuple(t): return unpiece((t * 2.0,), (W3, W3), 1)[1]


# np.interp's slope and its adjoints in fp (s2sad/support/signal.py), each linear in one operand
from s2sad.support import interp_bar_fp, interp_slope, interp_slope_bar_fp  # noqa: E402


def h_interp_slope(fp): return interp_slope(OFF_KNOTS, XP, fp)
def h_interp_bar_fp(t, x): return interp_bar_fp(t, x, XP, FP, right=1.0)
def h_interp_slope_bar_fp(t): return interp_slope_bar_fp(t, OFF_KNOTS, XP, FP)


HELPER_CASES += [case(h_interp_slope, real(7)), case(h_interp_bar_fp, real(6), lambda rng: OFF_KNOTS),
                 case(h_interp_slope_bar_fp, real(6))]

JOIN_CASES = [case(s_tuples_joined, real(3), real(3)), case(h_piece_bar, real(4, 4)),
              case(h_piece_bar_tuple, real(3), real(3)), case(h_unpiece, real(2, 4)),
              case(h_unpiece_tuple, real(3))]
HELPER_CASES += JOIN_CASES

from s2sad.support import saved, setitem_bar  # noqa: E402


# y[index] = v's adjoint of y: zeros at index, of an array or of a list of adjoints
def h_setitem_bar(t): return setitem_bar(t, (slice(1, None), 0)) * W34
def h_setitem_bar_list(t, u):
    out = setitem_bar([t, u * 2.0, t * u], 1)  # (its slot 1: the number 0.0)
    return out[0] * 2.0 + out[1] + out[2] * W3[0]


def h_setitem_bar_list_old(t, u):  # the slot held a number, now an array: its zero is 0.0
    out = setitem_bar([t, u * 2.0, t * u], 1, 0.5)
    return out[0] * 2.0 + out[1] + out[2] * W3[0]


def h_saved(t): return saved(t[1:]) * W3[:2]  # what a write overwrites, kept


SLOT_CASES = [case(h_saved, real(3)), case(h_setitem_bar, real(3, 4)),
              case(h_setitem_bar_list, real(3), real(3)),
              case(h_setitem_bar_list_old, real(3), real(3))]
HELPER_CASES += SLOT_CASES

# The methods of ufuncs (s2sad/rules/ufunc_methods.py): reduce and accumulate over axis 0 by
# default, and outer products keeping both operands' axes.
def m_max_of(x): return max(x) * 2.0 + min(x)  # Python's, over the elements of a 1-d array
def m_max_of_tuple(x):
    t = (x[0], x[1] * 2.0, x[2])
    return max(t) - min(t) * 3.0
def m_maximum_accumulate(x): return np.maximum.accumulate(x)
def m_maximum_accumulate_axis(x): return np.maximum.accumulate(x, axis=2)
def m_minimum_accumulate(x): return np.minimum.accumulate(x, -2) * 2.0
def s_cov(x): return np.cov(x)  # the rows are the variables
def s_cov_columns(x): return np.cov(x, rowvar=False, bias=True) * W34[:, :3]
def s_cov_one_column(x): return np.cov(x[:, :1], rowvar=False) * 2.0  # one variable: 0-d
def s_cov_vector(x): return np.cov(x, ddof=2)
def s_logspace(a, b): return np.logspace(a, b, 5) * W6[:5]
def s_logspace_base(a, base): return np.logspace(0.0, a, 4, base=base, endpoint=False)
def s_geomspace(a, b): return np.geomspace(a, b, 4) * W4
def m_real(x): return x.real * 2.0 + x.imag  # a real array's: itself, and zeros
def m_add_reduce(x): return np.add.reduce(x)
def m_add_reduce_axes(x): return np.add.reduce(x, axis=(0, 2))
def m_add_reduce_all(x): return np.add.reduce(x, axis=None, keepdims=True)
def m_multiply_reduce(x): return np.multiply.reduce(x, 1, keepdims=True)
def m_maximum_reduce(x): return np.maximum.reduce(x, axis=-1)
def m_minimum_reduce(x): return np.minimum.reduce(x)
def m_add_accumulate(x): return np.add.accumulate(x)
def m_add_accumulate_axis(x): return np.add.accumulate(x, 2)
def m_multiply_accumulate(x): return np.multiply.accumulate(x, axis=1)
def m_multiply_outer(a, b): return np.multiply.outer(a, b)
def m_add_outer(a, b): return np.add.outer(a, b)
def m_subtract_outer(a, b): return np.subtract.outer(a, b) * W34[0]


UFUNC_METHOD_CASES = [case(fn, real(2, 3, 4)) for fn in (
    m_add_reduce, m_add_reduce_axes, m_add_reduce_all, m_add_accumulate, m_add_accumulate_axis)]
UFUNC_METHOD_CASES += [case(fn, uniform(0.5, 1.5, 2, 3, 4)) for fn in (
    m_multiply_reduce, m_multiply_accumulate)]
UFUNC_METHOD_CASES += [case(fn, distinct(2, 3, 4)) for fn in (
    m_maximum_reduce, m_minimum_reduce, m_maximum_accumulate, m_maximum_accumulate_axis,
    m_minimum_accumulate)]
UFUNC_METHOD_CASES += [
    case(m_multiply_outer, real(3), real(4)), case(m_multiply_outer, real(2, 2), real(3), tag="2-d"),
    case(m_multiply_outer, real(), real(3), tag="number"), case(m_add_outer, real(2, 3), real(2)),
    case(m_subtract_outer, real(3), real(4)), case(m_real, real(3, 4)),
    case(m_max_of, distinct(5)), case(m_max_of_tuple, distinct(3)),
    case(s_cov, real(3, 5)), case(s_cov_columns, real(6, 3)), case(s_cov_one_column, real(6, 3)),
    case(s_cov_vector, real(5)), case(s_logspace, real(), real()),
    case(s_logspace_base, real(), uniform(1.5, 3.0)),
    case(s_geomspace, uniform(0.5, 1.0), uniform(2.0, 3.0))]
NUMPY_CASES += UFUNC_METHOD_CASES

from s2sad.support import (cumprod_bar, cumprod_bar_dot, cumprod_dot, cumprod_dot_dot,  # noqa: E402
                           prod_bar, prod_dot, prod_others_dot)


# np.prod's and np.cumprod's helpers in t and in x, p their product given along (its derivative
# is in x's rule); x first, so that test_second_order differentiates in x
def h_prod_bar(x, t): return prod_bar(t, x, np.prod(x, axis=1), 1)
def h_prod_bar_all(x, t): return prod_bar(t, x, np.prod(x, keepdims=True), None, True)
def h_prod_dot(x, t): return prod_dot(t, x, np.prod(x, axis=0, keepdims=True), 0, True)
def h_prod_dot_all(x, t): return prod_dot(t, x, np.prod(x))
def h_prod_others_dot(x, w): return prod_others_dot(w, x, 1)
def h_prod_others_dot_all(x, w): return prod_others_dot(w, x)
def h_prod_others_dot_axes(x, w): return prod_others_dot(w, x, (0, 2))
def h_cumprod_bar(x, t): return cumprod_bar(t, x, np.cumprod(x, axis=1), 1)
def h_cumprod_bar_flat(x, t): return cumprod_bar(t, x, np.cumprod(x))
def h_cumprod_dot(x, t): return cumprod_dot(t, x, np.cumprod(x, 0), 0)
def h_cumprod_dot_flat(x, t): return cumprod_dot(t, x, np.cumprod(x))
def h_cumprod_bar_dot(x, t, w): return cumprod_bar_dot(t, w, x, 1)
def h_cumprod_bar_dot_flat(x, t, w): return cumprod_bar_dot(t, w, x)
def h_cumprod_dot_dot(x, w, v): return cumprod_dot_dot(w, v, x, 0)
def h_cumprod_dot_dot_flat(x, w, v): return cumprod_dot_dot(w, v, x)


PROD_HELPER_CASES = [
    case(h_prod_bar, uniform(0.5, 1.5, 3, 4), real(3)),
    case(h_prod_bar_all, uniform(0.5, 1.5, 3, 4), real(1, 1)),
    case(h_prod_dot, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_prod_dot_all, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_prod_others_dot, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_prod_others_dot_all, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_prod_others_dot_axes, uniform(0.5, 1.5, 2, 3, 4), real(2, 3, 4)),
    case(h_cumprod_bar, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_cumprod_bar_flat, uniform(0.5, 1.5, 3, 4), real(12)),
    case(h_cumprod_dot, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_cumprod_dot_flat, uniform(0.5, 1.5, 3, 4), real(3, 4)),
    case(h_cumprod_bar_dot, uniform(0.5, 1.5, 3, 4), real(3, 4), real(3, 4)),
    case(h_cumprod_bar_dot_flat, uniform(0.5, 1.5, 3, 4), real(12), real(3, 4)),
    case(h_cumprod_dot_dot, uniform(0.5, 1.5, 3, 4), real(3, 4), real(3, 4)),
    case(h_cumprod_dot_dot_flat, uniform(0.5, 1.5, 3, 4), real(3, 4), real(3, 4)),
]
HELPER_CASES += PROD_HELPER_CASES
# np.prod's cases (the others of REDUCTION_CASES are older) checked to second order too
PROD_CASES = [c for c in REDUCTION_CASES if "prod" in c.id]


# np.prod and np.cumprod (and the ufunc methods with their rules) where the operand has exact
# zeros: the derivative is the product of the other entries (support.prod_bar, cumprod_bar), not
# ans / x. The values are polynomials in x, so central differences are exact to rounding. Checked
# to second order too (the third is NaN at a zero: test_primitives'
# test_third_order_at_zeros_is_nan_or_exact).
def with_zeros(*shape, at):
    """Values in [0.5, 1.5] of either sign, with exact zeros at the flat positions ``at``."""
    def draw(rng):
        x = away(*shape)(rng) * 0.5 + np.sign(away(*shape)(rng)) * 0.5
        x.flat[list(at)] = 0.0
        return x
    return draw


# (3, 4): row 0 has a zero first, row 1 two zeros, row 2 a zero last; column 2 has none
ZEROS_34 = (0, 5, 7, 11)
def z_prod(x): return np.prod(x)
def z_prod_axis(x): return np.prod(x, axis=1)
def z_prod_axis0_keepdims(x): return np.prod(x, axis=0, keepdims=True)
def z_prod_keepdims_all(x): return np.prod(x, keepdims=True)
def z_prod_tuple_axis(x): return np.prod(x, axis=(0, 2))
def z_prod_method(x): return x.prod(-1)
def z_cumprod(x): return np.cumprod(x)
def z_cumprod_axis(x): return np.cumprod(x, axis=1)
def z_cumprod_axis0(x): return np.cumprod(x, 0)
def z_cumprod_method(x): return x.cumprod(axis=-1)
def z_multiply_reduce(x): return np.multiply.reduce(x)
def z_multiply_accumulate(x): return np.multiply.accumulate(x, axis=1)
def z_prod_of_clipped(x): return np.prod(np.maximum(x, 0.0), axis=0)  # zeros of a clamp
def z_cumprod_of_clipped(x): return np.sum(np.cumprod(np.tanh(np.clip(x, 0.0, 2.0)), axis=-1))


PROD_ZERO_CASES = [
    case(z_prod, with_zeros(5, at=(2,)), tag="one zero"),
    case(z_prod, with_zeros(5, at=(0, 4)), tag="two zeros"),
    case(z_prod, with_zeros(3, 4, at=(6,)), tag="2-d"),
    case(z_prod_axis, with_zeros(3, 4, at=ZEROS_34)),
    case(z_prod_axis0_keepdims, with_zeros(3, 4, at=ZEROS_34)),
    case(z_prod_keepdims_all, with_zeros(3, 4, at=(11,))),
    case(z_prod_tuple_axis, with_zeros(2, 3, 4, at=(0, 5, 13, 14, 23))),
    case(z_prod_method, with_zeros(3, 4, at=ZEROS_34)),
    case(z_prod, with_zeros(6, at=(0, 2, 5)), tag="three zeros"),
    case(z_multiply_reduce, with_zeros(3, 4, at=ZEROS_34)),
    case(z_prod_of_clipped, away(3, 4), where=lambda x: np.sum(x < 0) >= 3),
]
CUMPROD_ZERO_CASES = [
    case(z_cumprod, with_zeros(5, at=(2,)), tag="one zero"),
    case(z_cumprod, with_zeros(5, at=(0,)), tag="first"),
    case(z_cumprod, with_zeros(5, at=(4,)), tag="last"),
    case(z_cumprod, with_zeros(6, at=(1, 4)), tag="two zeros"),
    case(z_cumprod, with_zeros(3, 4, at=ZEROS_34), tag="2-d"),
    case(z_cumprod_axis, with_zeros(3, 4, at=ZEROS_34)),
    case(z_cumprod_axis0, with_zeros(3, 4, at=ZEROS_34)),
    case(z_cumprod_method, with_zeros(2, 3, 4, at=(0, 5, 6, 13, 23))),
    case(z_multiply_accumulate, with_zeros(3, 4, at=ZEROS_34)),
    case(z_cumprod_of_clipped, away(3, 4), where=lambda x: np.sum(x < 0) >= 3),
]
if hasattr(np, "cumulative_prod"):
    def z_cumulative_prod(x): return np.cumulative_prod(x, axis=0)
    def z_cumulative_prod_1d(x): return np.cumulative_prod(x)
    CUMPROD_ZERO_CASES += [case(z_cumulative_prod, with_zeros(3, 4, at=ZEROS_34)),
                           case(z_cumulative_prod_1d, with_zeros(5, at=(1, 3)))]
FIRST_ORDER_CASES += PROD_ZERO_CASES + CUMPROD_ZERO_CASES

CASES = (BINARY_CASES + OPERATOR_CASES + INDEX_CASES + UNARY_CASES + SELECT_CASES
         + REDUCTION_CASES + LINALG_CASES + MATH_CASES + CONTAINER_CASES + ELEMENTWISE_CASES
         + SCAN_CASES + SHAPE_CASES + PRODUCT_CASES + LINALG2_CASES + NUMPY_CASES
         + FIRST_ORDER_CASES + HELPER_CASES)


def second_order_cases():
    """The cases of the newer rules, checked to second order (see test_primitives,
    ``test_second_order``); a case whose first-order rule needs a rule s2sad lacks is xfail."""
    needs_tuple_rule = {}
    for param in (ELEMENTWISE_CASES + SCAN_CASES + SHAPE_CASES + PRODUCT_CASES + LINALG2_CASES
                  + NUMPY_CASES + RAGGED_CASES + BREADTH_HELPER_CASES + JOIN_CASES
                  + SLOT_CASES + PROD_HELPER_CASES + PROD_CASES + PROD_ZERO_CASES
                  + CUMPROD_ZERO_CASES):
        name = param.values[0].__name__
        if name in needs_tuple_rule:
            yield xfail(param, f"the first-order rule calls {needs_tuple_rule[name]}, whose "
                               f"tuple result has no rule")
        else:
            yield param
