"""Where a std or a 2-norm is 0, its slope is 0 (a subgradient), not 0 / 0: a NaN would
poison the gradient even where a later mask zeroes that path (NaN * 0 is NaN), and where
the std is 0 on a whole neighbourhood (one value; values a clamp made equal) 0 is the
derivative. (JAX gives NaN; PyTorch gives 0 for a norm at 0.)"""

import numpy as np
import pytest

import oracle
import s2sad


def std_of_one_row(x):
    return np.sum(np.std(x[:1], axis=0)) + np.sum(x ** 2)


def std_of_clamped_values(x):
    w = np.maximum(x, 2.0)  # every value clamped to 2.0: std is 0 near x
    return np.std(w) * 3.0 + np.nanstd(w) + np.sum(x)


def norms_of_zeros(x):
    zeros = x - x
    return np.linalg.norm(zeros) + np.linalg.norm(np.outer(zeros, x)) + \
        np.sum(np.linalg.norm(np.outer(zeros, x), axis=1)) + np.sum(x * x)


@pytest.mark.parametrize("f", [std_of_one_row, std_of_clamped_values, norms_of_zeros])
def test_a_zero_std_or_norm_has_slope_zero(f):
    x = np.array([0.3, -0.2, 0.5])
    g = s2sad.grad(f)(x)
    assert np.all(np.isfinite(g))
    assert g == pytest.approx(oracle.gradient(f, (x,), 0), rel=1e-6, abs=1e-9)
    s2sad.check_grads(f, (x,), order=2)
    assert np.all(np.isfinite(s2sad.hessian(f)(x)))


def test_away_from_zero_the_slopes_are_unchanged():
    x = np.array([0.3, -0.2, 0.5])
    f = lambda y: np.std(y) + np.linalg.norm(y) + np.linalg.norm(np.outer(y, y))  # noqa: E731
    assert s2sad.grad(f)(x) == pytest.approx(oracle.gradient(f, (x,), 0), rel=1e-6)
