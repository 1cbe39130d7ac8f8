"""NumPy spellings that mean what s2sad has rules for: ``np.where(condition)`` alone (the
indices where it holds, np.nonzero), ``x.real`` and ``x.imag`` of a differentiated (real)
value. Checked against finite differences in both modes and at order 2."""

import numpy as np
import pytest

import oracle
import s2sad


def where_alone(x):
    idx = np.where(x > 0.5)[0]
    return np.sum(x[idx] ** 2)


def where_alone_2d(x):
    rows, cols = np.where(np.outer(x, x) > 1.0)
    return np.sum(x[rows] * x[cols])


def real_and_imag(x):
    return np.sum((x * 2.0).real) + np.sum(x.real * x) + np.sum(x.imag) + x[0].real


X = np.array([0.37, 1.61, 2.23, -0.4])


@pytest.mark.parametrize("f", [where_alone, where_alone_2d, real_and_imag])
def test_spellings_in_both_modes_and_at_order_two(f):
    np.testing.assert_allclose(s2sad.grad(f)(X), oracle.gradient(f, (X,), 0, h=1e-6),
                               rtol=1e-7, atol=1e-8)
    s2sad.check_grads(f, (X,), order=2)


def test_where_alone_is_np_nonzero_in_the_generated_code():
    assert "np.nonzero(" in s2sad.source(where_alone)


def drawdown(w, R):
    wealth = np.cumprod(1 + R @ w)
    peak = np.maximum.accumulate(wealth)
    return np.max((peak - wealth) / peak)


def running_max_total(x):
    return np.sum(np.maximum.accumulate(x))


def test_running_extremes():
    # the largest drawdown of a portfolio (was "no derivative rule for np.maximum.accumulate")
    R = np.random.default_rng(4).normal(size=(8, 3)) * 0.05
    w = np.array([0.3, 0.5, 0.2])
    np.testing.assert_allclose(s2sad.grad(drawdown)(w, R), oracle.gradient(drawdown, (w, R), 0),
                               rtol=1e-6)
    s2sad.check_grads(drawdown, (w, R), order=2)
    # each running maximum is the element that set it; of equal ones the first, as np.maximum
    # gives a tie to its first operand
    np.testing.assert_array_equal(s2sad.grad(running_max_total)(np.array([1.0, 1.0, 0.5, 2.0])),
                                  [3.0, 0.0, 0.0, 1.0])
