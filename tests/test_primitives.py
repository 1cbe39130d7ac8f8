"""Every differentiable primitive against finite differences: the per-primitive spec table.

Each case is a small ``def`` in :mod:`tests.programs.primitive_cases` (s2sad reads
source, so the functions must live in a file; test_duck_arrays.py runs the same
cases) or, for the one-argument element-wise NumPy
functions, one made from each rule stanza (inputs from its ``domain``), so a
new element-wise rule is tested without a line here. Inputs are drawn, from a
seed derived from the case's name, inside a domain where the function is smooth: logs of
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

The newer rules are also checked to second order: the generated ``vjp_f`` is
differentiated again in both modes and compared with finite differences of
``vjp_f`` (:func:`test_second_order`).

The coverage test lowers every case and fails when a differentiable primitive
of :func:`s2sad.rules.all_primitives` (or a rule of a run-time helper, which
derivatives of derivatives call) appears in none, so a new rule cannot land
without a case here. Cases marked xfail name a known bug. Further tests pin
down the conventions where the derivative does not exist in the classical
sense: piecewise-constant functions contribute zero, ties of ``max``/``min``
share the adjoint.
"""

import math
import re

import numpy as np
import pytest

import oracle
import s2sad
from s2sad import rules
from s2sad.lower import lower
from s2sad.rules.support_rules import HELPER_RULES
from tests.programs.primitive_cases import (CASES, H, IDX1, NUMPY_CASES, RAGGED_CASES, RTOL,
                                            W2, W3, W34, CUMPROD_ZERO_CASES, PROD_ZERO_CASES,
                                            case,
                                            d_multi_dot, d_multi_dot_rows, real,
                                            second_order_cases)


# --- the oracle -----------------------------------------------------------------------------


def numeric_vjp(f, args, v):
    """d<v, f(args)>/d args[i] for every argument, by the oracle's fourth-order difference."""
    def weighted(*a):
        return np.sum(v * f(*a))
    return [oracle.gradient(weighted, args, i, h=H, order=4) for i in range(len(args))]


def assert_matches(analytic, numeric, what, rtol=RTOL):
    assert np.shape(analytic) == np.shape(numeric), \
        f"{what}: derivative has shape {np.shape(analytic)}, the argument {np.shape(numeric)}"
    error = np.max(np.abs(np.asarray(analytic, dtype=float) - numeric), initial=0.0)
    scale = np.max(np.abs(numeric), initial=0.0)
    assert error <= rtol * scale + 1e-9, \
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


@pytest.mark.parametrize("f, args", CASES + RAGGED_CASES)
def test_primitive_derivative(f, args):
    check_case(f, args)


# --- forward mode along random directions, one argument or all at once ----------------------


def _wrt_choices(case):
    n = len(case.values[1])
    choices = [tuple(range(n))] + ([(i,) for i in range(n)] if n > 1 else [])
    return [pytest.param(*case.values, wrt, id=f"{case.id}-wrt{''.join(map(str, wrt))}")
            for wrt in choices]


FORWARD_CASES = [p for case in CASES for p in _wrt_choices(case)]


@pytest.mark.parametrize("f, args, wrt", FORWARD_CASES)
def test_jvp_matches_finite_differences(f, args, wrt):
    """All arguments at once and, for binary operations, each alone (a scalar operand
    broadcast against an array is where a lone tangent has the wrong shape)."""
    us = oracle.random_directions(args, wrt, seed=len(f.__name__))
    value, out_dot = s2sad.jvp(f, wrt)(*args, *us)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    numeric = oracle.derivative(f, args, wrt, us, h=H, order=4)
    assert_matches(out_dot, numeric, f"{f.__name__}, jvp")


@pytest.mark.parametrize("f, args", [pytest.param(*c.values, id=c.id)
                                     for c in CASES + RAGGED_CASES])
def test_vector_mode_matches_single_directions(f, args):
    wrt = tuple(range(len(args)))
    batch = oracle.random_directions(args, wrt, seed=3, batch=(3,))
    jvp = s2sad.jvp(f, wrt)
    value, out_dots = jvp(*args, *batch)
    assert np.shape(out_dots) == (3,) + np.shape(value)
    for k in range(3):
        _, single = jvp(*args, *[u[k] for u in batch])
        assert_matches(out_dots[k], single, f"{f.__name__}, direction {k}", rtol=1e-12)


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
    # (a helper registered with no rule at all, multi_dot_bar, is a located error, no case)
    differentiable = {p.name for p in primitives if p.differentiable and (p.vjp or p.jvp)}
    covered = set()
    for param in CASES:
        if not param.marks:
            covered |= _primitives_used(param.values[0])
    missing = differentiable - covered
    assert not missing, f"differentiable primitives without a case in test_primitives.py: " \
                        f"{sorted(missing)}"


# --- second order: the derivative code of the newer rules, differentiated again ---------------

@pytest.mark.parametrize("f, args", list(second_order_cases()))
def test_second_order(f, args):
    """vjp_f = s2sad.vjp(f), differentiated in both modes, against finite differences of vjp_f.

    The rules' templates use only functions with rules of their own, so the derivative
    code lowers and differentiates again: forward over reverse (``jvp(vjp_f)``) and
    reverse over reverse (``vjp(vjp_f)``), with respect to the first argument.
    """
    x, rest = args[0], args[1:]
    rng = np.random.default_rng(11)
    v = rng.standard_normal(np.shape(f(*args)))
    d, u = rng.standard_normal(np.shape(x)), rng.standard_normal(np.shape(x))
    if isinstance(x, float):
        d, u = float(d), float(u)
    vjp_f = s2sad.vjp(f)

    numeric = oracle.derivative(vjp_f, (x, *rest, v), 0, d, h=H, order=4)
    assert_matches(s2sad.jvp(vjp_f)(x, *rest, v, d)[1], numeric, f"{f.__name__}, jvp of vjp")
    reverse = s2sad.vjp(vjp_f)(x, *rest, v, u)
    assert_matches(np.sum(reverse * d), np.sum(numeric * u), f"{f.__name__}, vjp of vjp")


@pytest.mark.parametrize("f, args", [c for c in PROD_ZERO_CASES + CUMPROD_ZERO_CASES
                                     if "clipped" not in c.id])
def test_third_order_at_zeros_is_nan_or_exact(f, args):
    """np.prod/np.cumprod at an operand with exact zeros: first and second order are exact (the
    cases are in CASES and second_order_cases); the third, through the rules of the helpers of
    the second (prod_others_dot, cumprod_bar_dot, cumprod_dot_dot: the division formulas'
    derivatives), is NaN where it divides by a zero and exact elsewhere, never a wrong finite
    number. vjp of jvp of vjp_f, entry by entry, against finite differences of jvp(vjp_f)."""
    (x,) = args
    rng = np.random.default_rng(11)
    v = rng.standard_normal(np.shape(f(x)))
    d, u = rng.standard_normal(np.shape(x)), rng.standard_normal(np.shape(x))
    hvp = s2sad.jvp(s2sad.vjp(f))

    def second(y):
        return hvp(y, v, d)[1]

    with np.errstate(divide="ignore", invalid="ignore"):
        third = s2sad.vjp(second)(x, u)
        numeric = oracle.gradient(lambda y: np.sum(u * second(y)), (x,), 0, h=H, order=4)
    assert not np.isfinite(third).all(), f"{f.__name__}: no NaN at the zeros (now exact?)"
    finite = np.isfinite(third) & np.isfinite(numeric)  # (a step off a zero leaves the others)
    assert_matches(third[finite], numeric[finite], f"{f.__name__}, the finite entries", rtol=1e-5)


def test_the_products_of_the_other_entries_are_exact_at_zeros():
    """The helpers of np.prod and np.cumprod against the products written out, on lanes of 0 to
    3 zeros (first, last, adjacent): d prod / d x_i = prod_{j != i} x_j, its tangent along w
    sum_{k != i} w_k prod_{j != i, k} x_j, d cumprod_k / d x_i = prod_{j <= k, j != i} x_j."""
    from s2sad.support import (cumprod_bar, cumprod_bar_dot, cumprod_dot, cumprod_dot_dot,
                               prod_bar, prod_dot, prod_others_dot)
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, (6, 5)) * rng.choice([-1.0, 1.0], (6, 5))
    for row, zeros in enumerate([(), (0,), (4,), (1, 2), (0, 4), (1, 2, 3)]):
        x[row, list(zeros)] = 0.0
    t, w = rng.standard_normal(6), rng.standard_normal((6, 5))
    n = x.shape[1]

    def others(lane, *skip):
        return np.prod([lane[j] for j in range(n) if j not in skip])

    exact_bar = np.array([[t[r] * others(x[r], i) for i in range(n)] for r in range(6)])
    exact_dot = np.array([[sum(w[r, k] * others(x[r], i, k) for k in range(n) if k != i)
                           for i in range(n)] for r in range(6)])
    np.testing.assert_allclose(prod_bar(t, x, np.prod(x, axis=1), 1), exact_bar, atol=1e-15)
    np.testing.assert_allclose(prod_dot(w, x, np.prod(x, axis=1), 1),
                               np.sum(w * exact_bar / t[:, None], axis=1), atol=1e-15)
    np.testing.assert_allclose(prod_others_dot(w, x, 1), exact_dot, atol=1e-15)
    # d cumprod_k / d x_i, then the adjoint of g and the tangent along w, lane by lane
    jac = np.array([[[np.prod([x[r, j] for j in range(k + 1) if j != i]) if i <= k else 0.0
                      for i in range(n)] for k in range(n)] for r in range(6)])
    g = rng.standard_normal((6, 5))
    c = np.cumprod(x, axis=1)
    np.testing.assert_allclose(cumprod_bar(g, x, c, 1), np.einsum("rk,rki->ri", g, jac),
                               atol=1e-15)
    np.testing.assert_allclose(cumprod_dot(w, x, c, 1), np.einsum("rki,ri->rk", jac, w),
                               atol=1e-15)
    # the second derivatives: sum_{i != m} w_i v_m d2 cumprod_k / dx_i dx_m, and the tangent of
    # cumprod_bar(g) along w
    def skipping(r, k, *skip):
        return np.prod([x[r, j] for j in range(k + 1) if j not in skip])

    v = rng.standard_normal((6, 5))
    pairs = [[(i, m) for i in range(k + 1) for m in range(k + 1) if i != m] for k in range(n)]
    exact_dot_dot = [[sum(w[r, i] * v[r, m] * skipping(r, k, i, m) for i, m in pairs[k])
                      for k in range(n)] for r in range(6)]
    exact_bar_dot = [[sum(g[r, k] * w[r, i] * skipping(r, k, i, m) for k in range(m, n)
                          for i in range(k + 1) if i != m) for m in range(n)] for r in range(6)]
    np.testing.assert_allclose(cumprod_dot_dot(w, v, x, 1), exact_dot_dot, atol=1e-15)
    np.testing.assert_allclose(cumprod_bar_dot(g, w, x, 1), exact_bar_dot, atol=1e-15)
    # axis=None flattens: the whole array is one lane
    flat = x[1:4].ravel()
    np.testing.assert_allclose(cumprod_bar(g[1:4].ravel(), x[1:4], np.cumprod(x[1:4])),
                               np.reshape(vjp_of_cumprod(flat, g[1:4].ravel()), (3, 5)),
                               atol=1e-15)


def vjp_of_cumprod(x, g):
    """sum_k g_k d cumprod_k / d x_i of a 1-d x, by the products written out."""
    n = len(x)
    return np.array([sum(g[k] * np.prod([x[j] for j in range(k + 1) if j != i])
                         for k in range(i, n)) for i in range(n)])


@pytest.mark.parametrize("f, args", [
    case(d_multi_dot, real(4), real(4, 4)), case(d_multi_dot_rows, real(2, 3), real(3, 4))])
def test_multi_dot_of_operands_of_different_shapes(f, args):
    """First order (multi_dot_bar has no rule of its own)."""
    check_case(f, args)


@pytest.mark.parametrize("f, args", [pytest.param(*c.values, id=c.id) for c in NUMPY_CASES])
def test_the_gradient_has_the_argument_dtype(f, args):
    """float32 in, float32 out, whatever dtype the rule's helpers compute in."""
    args32 = tuple(np.float32(a) if isinstance(a, float) else a.astype(np.float32)
                   for a in args)
    wrt = tuple(range(len(args)))
    out = f(*args32)
    grads = s2sad.vjp(f, wrt=wrt)(*args32, np.ones_like(out)) if np.ndim(out) else \
        s2sad.grad(f, wrt=wrt)(*args32)
    assert [np.asarray(g).dtype for g in grads] == [np.dtype(np.float32)] * len(args)


# --- rules that hold for some constant arguments only say so ---------------------------------
def n_einsum_interleaved(a, b): return np.einsum(a, [0, 1], b, [1, 2])
def n_split_indices(a): return np.split(a, W3)[0]
def n_rollaxis_negative(a): return np.rollaxis(a, -1, 2)
def n_matrix_power_large(a): return np.linalg.matrix_power(a, 20)
def n_cholesky_upper(a): return np.linalg.cholesky(a, upper=True)
def n_average_weights_axes(a): return np.average(a, axis=(0, 1), weights=W3)
def n_pad_ramp(a): return np.pad(a, 1, mode="linear_ramp")
def n_pad_mean(a): return np.pad(a, 1, mode="mean")
def n_pad_variable(a, mode="edge"): return np.pad(a, 1, mode=mode)
def n_pad_odd(a): return np.pad(a, 1, mode="reflect", reflect_type="odd")
def n_diff_array_prepend(a): return np.diff(a, prepend=W3)
def n_cumulative_initial(a): return np.cumulative_sum(a, include_initial=True)
def n_take_variable(a, mode="wrap"): return np.take(a, IDX1, mode=mode)
def n_meshgrid_sparse(a): return np.meshgrid(a, W3, sparse=True)[0]
def n_meshgrid_copy(a): return np.meshgrid(W3, a, copy=False)[1]
def n_meshgrid_indexing(a, indexing="ij"): return np.meshgrid(a, W3, indexing=indexing)[0]
def n_broadcast_arrays_many(a):  # (a rule for 16 operands)
    return np.broadcast_arrays(a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a)[16]


NOT_APPLICABLE = [(n_einsum_interleaved, "constant subscripts string"),
                  (n_split_indices, "constant indices"), (n_rollaxis_negative, "np.moveaxis"),
                  (n_matrix_power_large, "-8 <= n <= 8"),
                  (n_cholesky_upper, "upper=False"), (n_average_weights_axes, "an int axis"),
                  (n_pad_ramp, "mode='constant'"), (n_pad_mean, "'symmetric' or 'wrap'"),
                  (n_pad_variable, "a constant mode"), (n_pad_odd, "reflect_type='even'"),
                  (n_diff_array_prepend, "constant number"),
                  (n_take_variable, "a constant mode='raise', 'wrap' or 'clip'"),
                  (n_meshgrid_sparse, "sparse=False"), (n_meshgrid_copy, "copy=True"),
                  (n_meshgrid_indexing, "a constant indexing='xy' or 'ij'"),
                  (n_broadcast_arrays_many, "argument 'arg16' of np.broadcast_arrays")]
if hasattr(np, "cumulative_sum"):
    NOT_APPLICABLE.append((n_cumulative_initial, "include_initial=False"))


@pytest.mark.parametrize("f, words", NOT_APPLICABLE, ids=[f.__name__ for f, _ in NOT_APPLICABLE])
def test_rules_name_the_arguments_they_do_not_cover(f, words):
    for mode in ("reverse", "forward"):
        with pytest.raises(s2sad.NoDerivativeError, match=re.escape(words)):
            s2sad.source(f, mode=mode)


# keywords s2sad has no rule for are refused where the call is read, whatever is differentiated
def u_var_where(a): return np.var(a, where=a > 0)
def u_std_mean(a): return np.std(a, mean=np.mean(a, keepdims=True))
def u_prod_where(a): return np.prod(a, where=a > 0)
def u_nanmax_initial(a): return np.nanmax(a, initial=0.0)
def u_maximum_reduce_where(a): return np.maximum.reduce(a, initial=0.0, where=a > 0)


UNREAD_KEYWORDS = [(u_var_where, "np.var has no parameter 'where'"),
                   (u_std_mean, "np.std has no parameter 'mean'"),
                   (u_prod_where, "np.prod has no parameter 'where'"),
                   (u_nanmax_initial, "np.nanmax has no parameter 'initial'"),
                   (u_maximum_reduce_where, "np.maximum.reduce has no parameter 'initial'")]


@pytest.mark.parametrize("f, words", UNREAD_KEYWORDS, ids=[f.__name__ for f, _ in UNREAD_KEYWORDS])
def test_keywords_without_a_rule_are_located_errors(f, words):
    for mode in ("reverse", "forward"):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=re.escape(words)) as info:
            s2sad.source(f, mode=mode)
        where = f"{f.__code__.co_filename}:{f.__code__.co_firstlineno}:"  # file:line:column
        assert str(info.value).startswith(where), str(info.value)


def r_eig_rotation(a): return np.linalg.eigvals(a)
def r_svd_full_columns(a): return np.linalg.svd(a)[0]
def r_lstsq_rank(a): return np.linalg.lstsq(a, W3)[0]


RUNTIME_REFUSALS = [  # inputs outside a rule: an error when the derivative runs, never a zero
    (r_eig_rotation, np.array([[0.0, -1.0], [1.0, 0.0]]), ("reverse", "forward"),
     "complex eigenvalues"),
    (r_svd_full_columns, W34.T.copy(), ("reverse",), "not determined by a"),
    (r_lstsq_rank, np.outer(W3, W2), ("reverse", "forward"), "full column rank"),
]


@pytest.mark.parametrize("f, x, modes, words", RUNTIME_REFUSALS,
                         ids=[r[0].__name__ for r in RUNTIME_REFUSALS])
def test_rules_refuse_inputs_outside_them_when_they_run(f, x, modes, words):
    out = f(x)
    if "reverse" in modes:
        with pytest.raises(ValueError, match=words):
            s2sad.vjp(f)(x, np.ones(np.shape(out)))
    if "forward" in modes:
        with pytest.raises(ValueError, match=words):
            s2sad.jvp(f)(x, np.ones_like(x))


def test_a_full_svd_gives_nan_tangents_to_the_undetermined_columns_only():
    a = W34.T.copy()  # tall: u is 4 x 4, a determines its first 3 columns
    _, u_dot = s2sad.jvp(r_svd_full_columns)(a, W34.T * 0.5)
    assert np.all(np.isnan(u_dot[:, 3:])) and np.all(np.isfinite(u_dot[:, :3]))


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


def t_max_initial(x, t): return np.max(x, initial=t)
def t_max_where(x): return np.sum(np.max(x, axis=1, initial=-9.0, where=[True, True, False]) * W2)


def test_max_and_min_count_initial_among_the_ties_and_skip_what_where_leaves_out():
    x = np.array([1.0, 3.0, 3.0])
    x_bar, t_bar = s2sad.grad(t_max_initial, wrt=(0, 1))(x, 3.0)  # three ties: a third each
    np.testing.assert_allclose(x_bar, [0, 1 / 3, 1 / 3])
    assert t_bar == pytest.approx(1 / 3)
    x_dot, t_dot = np.array([0.0, 3.0, 6.0]), 3.0
    assert s2sad.jvp(t_max_initial, wrt=(0, 1))(x, 3.0, x_dot, t_dot)[1] == pytest.approx(4.0)
    assert s2sad.grad(t_max_initial, wrt=1)(x, 5.0) == 1.0  # initial alone is the max
    m = np.array([[2.0, 2.0, 7.0], [1.0, -1.0, 1.0]])  # the 7 and the last 1 are left out
    np.testing.assert_allclose(s2sad.grad(t_max_where)(m),
                               [[W2[0] / 2, W2[0] / 2, 0], [W2[1], 0, 0]])
