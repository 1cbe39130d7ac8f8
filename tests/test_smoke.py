"""The lecture function end to end: SSA listing, generated gradient, finite differences."""

import numpy as np

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


def test_check_grads_catches_a_wrong_derivative():
    import pytest

    def f(x):
        return np.sin(x)

    namespace, generated = s2sad.api._compiled(f, "reverse", (0,))
    real = namespace["vjp_f"]
    namespace["vjp_f"] = lambda x, out_bar: real(x, out_bar) * 1.01
    try:
        with pytest.raises(s2sad.GradientCheckError, match="disagrees with finite differences"):
            s2sad.check_grads(f, (0.3,))
    finally:
        namespace["vjp_f"] = real
