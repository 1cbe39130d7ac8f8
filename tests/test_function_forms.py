"""Functions in the forms people pass them, and the names JAX and autograd users type:
``has_aux=True``, ``argnums=``, ``jacfwd``/``jacrev``.

Derivatives are compared with the finite-difference oracle; results' structure exactly.
"""

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(5)
W = RNG.normal(size=4) * 0.5
X = RNG.normal(size=(3, 4))


# -- has_aux -------------------------------------------------------------------------------------

def training_step(w, x):
    pred = np.tanh(x @ w)
    loss = np.sum(pred ** 2) + 0.1 * np.sum(w ** 2)
    return loss, (pred, np.mean(pred))


def loss_of(w, x):
    return training_step(w, x)[0]


def writes_in_a_loop(w):
    a = np.ones(4)
    for i in range(3):
        a[1] = np.sin(a[1] * w[i] + a[2])
        a[2] = a[1] * 2.0
    return np.sum(a ** 2), a


def one_value(w):
    return np.sum(w)


def three_values(w):
    return np.sum(w), w, 2.0 * w


def test_grad_with_aux_returns_the_gradient_and_aux():
    g, aux = s2sad.grad(training_step, has_aux=True)(W, X)
    np.testing.assert_allclose(g, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)
    pred, mean = training_step(W, X)[1]
    assert type(aux) is tuple and len(aux) == 2
    np.testing.assert_array_equal(aux[0], pred)
    assert aux[1] == mean


def test_value_and_grad_with_aux_is_jax_shaped():
    (value, aux), g = s2sad.value_and_grad(training_step, has_aux=True)(W, X)
    assert value == training_step(W, X)[0]
    np.testing.assert_array_equal(aux[0], training_step(W, X)[1][0])
    np.testing.assert_allclose(g, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)


def test_aux_with_several_wrt():
    (g_w, g_x), aux = s2sad.grad(training_step, wrt=(0, 1), has_aux=True)(W, X)
    np.testing.assert_allclose(g_x, oracle.gradient(loss_of, (W, X), 1), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_w, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)
    (g,), _ = s2sad.grad(training_step, wrt=(0,), has_aux=True)(W, X)
    np.testing.assert_allclose(g, g_w)


def test_aux_an_array_written_in_place_is_the_function_own_value():
    """The backward sweep writes old values back into ``a``: aux is kept before it does."""
    w = np.array([0.5, 0.7, 0.9])
    g, aux = s2sad.grad(writes_in_a_loop, has_aux=True)(w)
    np.testing.assert_array_equal(aux, writes_in_a_loop(w)[1])
    np.testing.assert_allclose(g, oracle.gradient(lambda v: writes_in_a_loop(v)[0], (w,), 0),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, what", [(one_value, "one value"), (three_values, "3 values")])
def test_has_aux_of_a_function_not_returning_a_pair_is_located(f, what):
    with pytest.raises(s2sad.UnsupportedSyntaxError,
                       match=f"has_aux=True needs {f.__name__} to return a pair \\(loss, aux\\), "
                             f"but it returns {what}") as info:
        s2sad.grad(f, has_aux=True)(W)
    assert "test_function_forms.py:" in str(info.value) and "return" in str(info.value)


def test_without_has_aux_a_pair_is_still_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="returns 2 values"):
        s2sad.grad(training_step)(W, X)


# -- argnums, jacfwd, jacrev ---------------------------------------------------------------------

def two_args(a, b):
    return np.sum(np.sin(a) * b ** 2)


def vector(a, b):
    return np.sin(a) * b[:3]


def test_argnums_is_wrt():
    a, b = RNG.normal(size=3), RNG.normal(size=3)
    assert np.allclose(s2sad.grad(two_args, argnums=1)(a, b), s2sad.grad(two_args, wrt=1)(a, b))
    ga, gb = s2sad.grad(two_args, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gb, oracle.gradient(two_args, (a, b), 1), rtol=1e-6, atol=1e-8)
    value, (ga2,) = s2sad.value_and_grad(two_args, argnums=(0,))(a, b)
    np.testing.assert_allclose(ga2, ga)
    np.testing.assert_allclose(s2sad.hessian(two_args, argnums=1)(a, b),
                               oracle.gradient(s2sad.grad(two_args, argnums=1), (a, b), 1),
                               rtol=1e-5, atol=1e-6)
    _, out_dot = s2sad.jvp(two_args, argnums=1)(a, b, np.ones(3))
    assert np.isclose(out_dot, np.sum(gb))
    assert np.allclose(s2sad.vjp(two_args, argnums=1)(a, b, 1.0), gb)


def test_wrt_and_argnums_together_is_a_usage_error():
    with pytest.raises(s2sad.UsageError, match="give wrt= or argnums="):
        s2sad.grad(two_args, wrt=1, argnums=0)


@pytest.mark.parametrize("jac, mode", [(s2sad.jacfwd, "forward"), (s2sad.jacrev, "reverse")])
def test_jacfwd_and_jacrev(jac, mode):
    a, b = RNG.normal(size=3), RNG.normal(size=4)
    J = jac(vector, argnums=1)(a, b)
    np.testing.assert_allclose(J, oracle.gradient(vector, (a, b), 1), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(J, s2sad.jacobian(vector, 1, mode=mode)(a, b))
    Ja, Jb = jac(vector, (0, 1))(a, b)
    np.testing.assert_allclose(Ja, oracle.gradient(vector, (a, b), 0), rtol=1e-6, atol=1e-8)
