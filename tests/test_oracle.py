"""The finite-difference oracle (tests/oracle.py) against derivatives known in closed form."""

import numpy as np
import pytest

import oracle

X = np.array([0.3, -1.2, 0.7])


def test_derivative_along_a_direction_of_scalar_array_and_tuple_outputs():
    u = np.array([1.0, 2.0, -0.5])
    assert oracle.derivative(lambda x: np.sum(np.sin(x)), (X,), 0, u) == \
        pytest.approx(np.sum(np.cos(X) * u), rel=1e-9)
    np.testing.assert_allclose(oracle.derivative(np.exp, (X,), 0, u), np.exp(X) * u, rtol=1e-9)
    a, b = oracle.derivative(lambda x, y: (x * y, np.sum(x) + y), (X, 2.0), (0, 1), (u, 3.0))
    np.testing.assert_allclose(a, u * 2.0 + X * 3.0, rtol=1e-9)
    assert b == pytest.approx(np.sum(u) + 3.0, rel=1e-9)


def test_fourth_order_is_more_accurate_than_second_order():
    exact = np.cos(0.4)
    errors = [abs(oracle.derivative(np.sin, (0.4,), 0, 1.0, h=1e-2, order=order) - exact)
              for order in (2, 4)]
    assert errors[1] < errors[0] / 1000


def test_gradient_is_shaped_output_then_argument():
    A = np.arange(6.0).reshape(2, 3)
    J = oracle.gradient(lambda x, A: A @ np.sin(x), (X, A), 0)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, A * np.cos(X), rtol=1e-8, atol=1e-10)
    assert oracle.gradient(lambda x, A: A @ np.sin(x), (X, A), 1).shape == (2, 2, 3)
    gx, gs = oracle.gradient(lambda x, s: s * np.sum(x ** 2), (X, 2.0), (0, 1))
    np.testing.assert_allclose(gx, 4.0 * X, rtol=1e-8)
    assert gs == pytest.approx(np.sum(X ** 2), rel=1e-8)


def test_numbers_stay_numbers_and_arrays_are_copied():
    seen = []

    def f(x, s):
        seen.append(type(s))
        x[0] = 100.0  # writes into its argument
        return s * np.sum(x)

    x = X.copy()
    oracle.gradient(f, (x, 2), 1, relative=True)
    assert set(seen) == {float}
    np.testing.assert_array_equal(x, X)


def test_two_step_sizes_must_agree_at_a_smooth_point_only():
    assert oracle.derivative(np.abs, (0.5,), 0, 1.0, h=1e-3, agree=1e-6) == pytest.approx(1.0)
    with pytest.raises(oracle.NotSmooth, match="not smooth"):
        oracle.derivative(np.abs, (1e-4,), 0, 1.0, h=1e-3, agree=1e-6)  # the kink at 0
    estimate, spread = oracle.two_steps(lambda h: np.cos(0.4) + h ** 2, 0.1)
    assert estimate == pytest.approx(np.cos(0.4), rel=1e-12) and spread == pytest.approx(0.0075)


def test_mixed_second_derivative_and_complex_step():
    u, v = np.array([1.0, 0.0, 2.0]), np.array([0.5, -1.0, 1.0])
    H = np.diag(-np.sin(X))  # the Hessian of sum(sin(x))
    assert oracle.mixed(lambda x: np.sum(np.sin(x)), (X,), 0, u, v) == \
        pytest.approx(u @ H @ v, rel=1e-5)
    g = oracle.complex_step_gradient(lambda x, s: s * np.sum(np.sin(x)), (X, 2.0), (0, 1))
    np.testing.assert_allclose(g[0], 2.0 * np.cos(X), rtol=1e-15)
    assert g[1] == pytest.approx(np.sum(np.sin(X)), rel=1e-15)
