"""The lecture function end to end: SSA listing, generated gradient, finite differences."""

import numpy as np
import pytest

import s2sad


def lecture(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def exact_gradient(x, y):
    a = y * np.log(x)
    da = 1 + 0.5 / np.sqrt(a)
    return da * y / x, da * np.log(x)


def test_lecture_gradient_matches_exact_formula():
    x_bar, y_bar = s2sad.grad(lecture, wrt=(0, 1))(2.0, 3.0)
    expected = exact_gradient(2.0, 3.0)
    assert np.allclose([x_bar, y_bar], expected, rtol=1e-12)


def test_lecture_check_grads():
    s2sad.check_grads(lecture, (1.7, 2.5), wrt=("x", "y"))


@s2sad.custom_vjp
def sine_off_by_one_percent(x):
    return np.sin(x)


@sine_off_by_one_percent.defvjp
def sine_off_by_one_percent_vjp(g, ans, x):
    return g * np.cos(x) * 1.01  # wrong on purpose


@sine_off_by_one_percent.defjvp
def sine_off_by_one_percent_jvp(x, x_dot):
    return x_dot * np.cos(x)  # right: reverse mode is the one to catch


def calls_a_wrong_rule(x):
    return sine_off_by_one_percent(x)


def test_check_grads_catches_a_wrong_derivative():
    with pytest.raises(s2sad.GradientCheckError, match="reverse mode disagrees with finite differences"):
        s2sad.check_grads(calls_a_wrong_rule, (0.3,))
