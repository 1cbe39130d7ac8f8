"""The adjoint of ``np.where`` through ``masked`` (s2sad.support): a multiplication by the
mask where that is exact, ``np.where`` otherwise; checked against ``np.where`` itself and,
through generated code, against finite differences in both modes and at order 2."""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.support import masked, masked_rest


def huber(p, y):
    r = p - y
    a = np.abs(r)
    return np.mean(np.where(a < 1.0, 0.5 * r * r, a - 0.5))


def both_branches(x, w):
    return np.sum(np.where(x * w > 0.1, np.sin(x) * w, x * x))


def test_masked_is_where_on_every_kind_of_operand():
    rng = np.random.default_rng(0)
    g, c = rng.standard_normal(1000), rng.standard_normal(1000) > 0
    cases = [(g, c), (g, c.astype(float)), (g, c[:1]), (2.5, True), (2.5, c),
             (g.astype(np.complex128), c), (np.where(c, np.inf, g), c),
             (np.where(c, g, -np.inf), c), (np.where(c, np.nan, g), c)]
    for grad, cond in cases:
        for keep in (True, False):
            expected = np.where(cond, grad, 0.0) if keep else np.where(cond, 0.0, grad)
            np.testing.assert_array_equal(masked(grad, cond, keep), expected)


def test_masked_rest_is_the_second_branch_on_every_kind_of_operand():
    rng = np.random.default_rng(2)
    g, c = rng.standard_normal(1000), rng.standard_normal(1000) > 0
    cases = [(g, c), (g, c[:1]), (2.5, True), (2.5, c), (g.astype(np.float32), c),
             (np.where(c, np.inf, g), c), (np.where(c, g, -np.inf), c),
             (np.where(c, np.nan, g), c), (np.where(c, g, np.nan), c),
             (np.full(1000, 1e308), c)]
    for grad, cond in cases:
        rest = masked_rest(grad, masked(grad, cond), cond)
        expected = np.where(cond, 0.0, grad)
        np.testing.assert_array_equal(rest, expected)  # (-0.0 == 0.0)
        assert np.asarray(rest).dtype == expected.dtype


def test_both_where_adjoints_in_one_pass():
    text = s2sad.source(both_branches, wrt=(0, 1)).split("# --- run-time")[0]
    assert "v6_kept = masked(" in text and "masked_rest(unreduce(1.0, v6), v6_kept, v2)" in text
    assert ", False)" not in text
    # one branch active: its own mask, as before
    text = s2sad.source(lambda x: np.sum(np.where(x > 0, x, 1.0))).split("# --- run-time")[0]
    assert "masked_rest" not in text and "_kept" not in text


def test_where_adjoints_multiply_by_the_mask():
    text = s2sad.source(huber)
    assert "masked(" in text and "np.where(v1, 0.0" not in text.split("# --- run-time")[0]


@pytest.mark.parametrize("f, wrt", [(huber, 0), (both_branches, (0, 1))])
def test_where_gradients_against_finite_differences(f, wrt):
    rng = np.random.default_rng(1)
    args = (rng.standard_normal(40) * 2, rng.standard_normal(40))
    gradient = s2sad.grad(f, wrt)(*args)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,),
                    gradient if isinstance(wrt, tuple) else (gradient,)):
        np.testing.assert_allclose(g, oracle.gradient(f, args, i), rtol=1e-6, atol=1e-8)
    s2sad.check_grads(f, args, wrt=wrt, order=2)
