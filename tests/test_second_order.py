"""Second and higher derivatives: generated code differentiated again.

``s2sad.hessian`` and ``s2sad.hvp`` apply forward mode to the generated
gradient code (forward over reverse); ``s2sad.grad(s2sad.grad(f))`` applies
reverse mode to it. The oracle is a central difference of the gradient
(which s2sad computes exactly), so agreement to ~1e-7 is a real test. The
run-time helpers generated code calls (``unbroadcast``, ``matmul_bar_a``,
...) have rules of their own, checked here to second order in both modes.
"""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.support import (dot_bar_a, dot_bar_b, extremum_bar, lift, matmul_bar_a, matmul_bar_b,
                           unbroadcast, unindex, unreduce)
from tracing import generated_calls

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 1.5]])
RNG = np.random.default_rng(0)
X = RNG.standard_normal((20, 3))
Y = (RNG.uniform(size=20) < 0.5).astype(float)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def quartic(x):
    return np.sum(x ** 4) / 4 + x @ A @ x + np.sum(x) ** 2


def logistic_loss(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.05 * np.sum(w ** 2)


HESSIAN_CASES = [
    (rosenbrock, np.array([1.2, 0.8, -0.5, 1.1]), ()),
    (quartic, np.array([0.3, -1.2, 0.7]), ()),
    (logistic_loss, np.array([0.1, -0.4, 0.8]), (X, Y)),
]


@pytest.mark.parametrize("f, x, args", HESSIAN_CASES, ids=[c[0].__name__ for c in HESSIAN_CASES])
def test_hessian_matches_finite_differences_of_the_gradient(f, x, args):
    hess = s2sad.hessian(f)(x, *args)
    expected = oracle.gradient(s2sad.grad(f), (x, *args), 0, h=1e-5)
    assert hess.shape == x.shape + x.shape
    np.testing.assert_allclose(hess, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f, x, args", HESSIAN_CASES, ids=[c[0].__name__ for c in HESSIAN_CASES])
def test_hvp_is_hessian_times_v(f, x, args):
    v = np.random.default_rng(1).standard_normal(x.shape)
    hess = s2sad.hessian(f)(x, *args)
    np.testing.assert_allclose(s2sad.hvp(f)(x, *args, v), hess @ v, rtol=1e-10, atol=1e-12)
    batch = np.random.default_rng(2).standard_normal((4,) + x.shape)
    np.testing.assert_allclose(s2sad.hvp(f)(x, *args, batch), batch @ hess.T, rtol=1e-10,
                               atol=1e-12)


def test_rosenbrock_hessian_is_the_textbook_one():
    x = np.array([1.2, 0.8])
    expected = [[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]], [-400 * x[0], 200]]
    np.testing.assert_allclose(s2sad.hessian(rosenbrock)(x), expected, rtol=1e-13)


def two_arguments(x, y):
    return np.sum(x ** 2) * np.sum(y ** 3) + np.sum(np.sin(y)) * x[0]


def test_hessian_and_hvp_with_several_arguments_give_blocks():
    x, y = np.array([0.3, 0.5]), np.array([1.0, -0.7, 0.2])
    blocks = s2sad.hessian(two_arguments, wrt=(0, 1))(x, y)
    flat = np.block([[b.reshape(b.shape[0], -1) for b in row] for row in blocks])
    grad = s2sad.grad(two_arguments, wrt=(0, 1))

    def flat_grad(xy):
        return np.concatenate(grad(xy[:2], xy[2:]))

    expected = oracle.gradient(flat_grad, (np.concatenate([x, y]),), 0, h=1e-5)
    np.testing.assert_allclose(flat, expected, rtol=1e-6, atol=1e-8)
    u, w = np.array([1.0, 2.0]), np.array([0.5, -1.0, 0.3])
    hx, hy = s2sad.hvp(two_arguments, wrt=(0, 1))(x, y, (u, w))
    np.testing.assert_allclose(np.concatenate([hx, hy]), flat @ np.concatenate([u, w]),
                               rtol=1e-12, atol=1e-12)


def vector_valued(x):
    return x ** 2


def test_hessian_of_a_non_scalar_function_is_an_error():
    with pytest.raises(s2sad.NonScalarOutputError, match="return a scalar"):
        s2sad.hessian(vector_valued)(np.ones(3))


# --- derivatives of derivatives of a scalar function ---------------------------------------


def cubic_sine(x):
    return np.sin(x) * x ** 3


def d1(x):
    return np.cos(x) * x ** 3 + 3 * np.sin(x) * x ** 2


def d2(x):
    return -np.sin(x) * x ** 3 + 6 * np.cos(x) * x ** 2 + 6 * x * np.sin(x)


def d3(x):
    return -x ** 3 * np.cos(x) - 9 * x ** 2 * np.sin(x) + 18 * x * np.cos(x) + 6 * np.sin(x)


@pytest.mark.parametrize("x", [0.7, -1.3, 2.0])
def test_grad_of_grad_and_third_derivatives(x):
    first = s2sad.grad(cubic_sine)
    second = s2sad.grad(first)
    third = s2sad.grad(second)
    assert np.isclose(first(x), d1(x), rtol=1e-13)
    assert np.isclose(second(x), d2(x), rtol=1e-13)
    assert np.isclose(third(x), d3(x), rtol=1e-12)
    value, tangent = s2sad.jvp(first)(x, 1.0)  # forward over reverse
    assert np.isclose(value, d1(x)) and np.isclose(tangent, d2(x), rtol=1e-13)
    value, tangent = s2sad.jvp(second)(x, 1.0)  # forward over reverse over reverse
    assert np.isclose(value, d2(x)) and np.isclose(tangent, d3(x), rtol=1e-12)
    assert np.isclose(s2sad.hessian(cubic_sine)(x), d2(x), rtol=1e-13)


def test_the_generated_gradient_is_what_gets_differentiated():
    text = s2sad.source(s2sad.grad(cubic_sine))
    assert "def grad_grad_cubic_sine(x):" in text
    assert "check_scalar(x_bar_1, 'grad_cubic_sine')" in text  # grad_cubic_sine's own check
    assert "import s2sad" not in text


def tanh_times_x(x):
    return np.sum(np.tanh(x) * x)


gradient_of_tanh_times_x = s2sad.grad(tanh_times_x)


def sum_of_gradient(x):
    return np.sum(gradient_of_tanh_times_x(x))  # a derivative called inside a function


def test_a_derivative_called_inside_a_function_is_differentiated_through():
    x = np.array([0.3, -0.8, 1.1])
    np.testing.assert_allclose(s2sad.grad(sum_of_gradient)(x),
                               s2sad.hessian(tanh_times_x)(x).sum(axis=0), rtol=1e-12)
    assert "def bwd_grad_tanh_times_x(" in s2sad.source(sum_of_gradient)


# --- check_grads to second order, in both modes -----------------------------------------------


def layer(x, w, b):
    return np.tanh(x @ w + b)


def mlp(w1, b1, w2, x):
    return np.sum(layer(x, w1, b1) @ w2)


def matrix_out(a, b):
    return np.dot(a, b) * np.max(a, axis=1, keepdims=True) + np.mean(a, axis=0)[:2]


def indexing(x):
    return x[1:, ::2] * x[0, 0] + x[[0, 2, 0]].sum(axis=0)[:2]


def branching(x):
    if np.sum(x) > 0:
        y = x * np.exp(x)
    else:
        y = np.cos(x)
    return y * x[0]


ORDER2 = [
    (rosenbrock, (np.array([1.2, 0.8, -0.5]),), 0),
    (logistic_loss, (np.array([0.1, -0.4, 0.8]), X, Y), 0),
    (mlp, (RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 2)),
           RNG.standard_normal((5, 3))), (0, 1, 2)),
    (matrix_out, (RNG.permutation(12).reshape(3, 4) / 7, RNG.standard_normal((4, 2))), (0, 1)),
    (indexing, (RNG.standard_normal((3, 4)),), 0),
    (branching, (RNG.uniform(0.2, 1, 3),), 0),
    (branching, (-RNG.uniform(0.2, 1, 3),), 0),
]


@pytest.mark.parametrize("f, args, wrt", ORDER2, ids=[c[0].__name__ for c in ORDER2])
def test_check_grads_to_second_order(f, args, wrt):
    s2sad.check_grads(f, args, wrt=wrt, order=2)


# the run-time helpers: each is linear in its first argument; check their rules directly
def h_unbroadcast(t, x):
    return unbroadcast(t * t, x)


def h_unreduce(t, x):
    return unreduce(t * t, x, 1)


def h_unreduce_all(t, x):
    return unreduce(t * t, x)


def h_unreduce_keepdims(t, x):
    return unreduce(t * t, x, 1, True)


def h_unindex(t, x):
    return unindex(t * t, x, np.s_[1:, 0]) + unindex(t * 2.0, x, ([0, 1], 0))


def h_extremum(t, a):
    return extremum_bar(t * t, a, np.max(a, axis=1), 1)


def h_matmul_bar_a(t, a, b):
    return matmul_bar_a(t * t, a, b * b)


def h_matmul_bar_b(t, a, b):
    return matmul_bar_b(t * t, a * a, b)


def h_dot_bar_a(t, a, b):
    return dot_bar_a(t * t, a, b * b)


def h_dot_bar_b(t, a, b):
    return dot_bar_b(t * t, a * a, b)


def h_lift(t, x):
    return lift(t * t, x, np.ones((2, 3))) * x


def r(*shape):
    return RNG.standard_normal(shape)


HELPERS = [
    (h_unbroadcast, (r(2, 3, 4), r(3, 1)), 0),
    (h_unreduce, (r(3), r(3, 4)), 0),
    (h_unreduce_all, (0.7, r(3, 4)), 0),
    (h_unreduce_keepdims, (r(3, 1), r(3, 4)), 0),
    (h_unindex, (r(2), r(3, 4)), 0),
    (h_extremum, (r(3), RNG.permutation(12).reshape(3, 4)), 0),
    (h_matmul_bar_a, (r(2, 4), r(2, 3), r(3, 4)), (0, 2)),
    (h_matmul_bar_a, (r(4), r(3), r(3, 4)), (0, 2)),
    (h_matmul_bar_a, (r(5, 2, 4), r(2, 3), r(5, 3, 4)), (0, 2)),
    (h_matmul_bar_b, (r(2, 4), r(2, 3), r(3, 4)), (0, 1)),
    (h_matmul_bar_b, (r(2), r(2, 3), r(3)), (0, 1)),
    (h_dot_bar_a, (r(2, 4), r(2, 3), r(3, 4)), (0, 2)),
    (h_dot_bar_a, (r(3), 1.5, r(3)), (0, 2)),
    (h_dot_bar_b, (r(2, 4), r(2, 3), r(3, 4)), (0, 1)),
    (h_lift, (r(3), r(3)), 0),
]


@pytest.mark.parametrize("f, args, wrt", HELPERS, ids=[f"{c[0].__name__}-{i}" for i, c in
                                                     enumerate(HELPERS)])
def test_runtime_helpers_have_rules(f, args, wrt):
    s2sad.check_grads(f, args, wrt=wrt, order=2)


def test_helper_copies_in_generated_modules_are_recognised():
    from s2sad import rules
    rng = np.random.default_rng(0)
    with generated_calls() as calls:  # the generated module's own copy of unbroadcast
        s2sad.vjp(h_unbroadcast)(rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 1)),
                                 rng.standard_normal((3, 1)))
    namespace = calls[0].namespace
    assert rules.lookup(namespace["unbroadcast"]) is rules.lookup(unbroadcast) is not None

    def unbroadcast_impostor(g, x):
        return g

    unbroadcast_impostor.__name__ = "unbroadcast"
    assert rules.lookup(unbroadcast_impostor) is None


def sine_times_x(x):
    return np.sin(x) * x


def test_jvp_of_jvp_gives_the_second_derivative():
    # jvp_f returns (f, f' u): a pair, differentiated again in forward mode
    x, u, w = 0.7, 1.0, 1.0
    (value, first), (first_again, second) = s2sad.jvp(s2sad.jvp(sine_times_x))(x, u, w)
    d1 = np.cos(x) * x + np.sin(x)
    d2 = -np.sin(x) * x + 2 * np.cos(x)
    assert value == pytest.approx(np.sin(x) * x) and first == pytest.approx(d1 * u)
    assert first_again == pytest.approx(d1 * w) and second == pytest.approx(d2 * u * w)
    s2sad.check_grads(s2sad.jvp(sine_times_x), (x, u), wrt=(0, 1), order=2)
