"""``s2sad.value_and_vjp``: the vector-Jacobian product with the value, from one forward
sweep (JAX's ``primal, f_vjp = jax.vjp(f, x)``), checked against finite differences,
at second order in both modes, and against ``vjp`` (which it leaves unchanged)."""

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(5)
X = RNG.normal(size=3)
W = RNG.normal(size=(3, 3)) / 2
OUT_BAR = RNG.normal(size=3)


def looped(x, W):
    h = np.tanh(W @ x)
    for _ in range(3):
        h = np.sin(h) * x[0]  # the output is carried by the loop: the tape restores it
    return h


def several(x):
    return np.sin(x), np.sum(x ** 2)


def vjp_by_differences(f, args, i, out_bar):
    jac = oracle.gradient(f, args, i)
    return np.tensordot(out_bar, jac, axes=np.ndim(out_bar))


def test_value_and_vjp_of_an_array_output():
    value, g = s2sad.value_and_vjp(looped)(X, W, OUT_BAR)
    np.testing.assert_allclose(value, looped(X, W), rtol=1e-14)
    np.testing.assert_allclose(g, vjp_by_differences(looped, (X, W), 0, OUT_BAR), rtol=1e-6)
    np.testing.assert_allclose(g, s2sad.vjp(looped)(X, W, OUT_BAR), rtol=1e-14)
    assert isinstance(g, np.ndarray) and g.flags.writeable and g.dtype == X.dtype


def test_several_parameters_and_several_outputs():
    value, (gx, gW) = s2sad.value_and_vjp(looped, wrt=(0, "W"))(X, W, OUT_BAR)
    np.testing.assert_allclose(gW, vjp_by_differences(looped, (X, W), 1, OUT_BAR), rtol=1e-6)
    value, (g,) = s2sad.value_and_vjp(looped, wrt=(0,))(X, W, out_bar=OUT_BAR)
    np.testing.assert_allclose(g, gx, rtol=1e-14)
    value, g = s2sad.value_and_vjp(several)(X, (OUT_BAR, 2.0))
    assert isinstance(value, tuple) and len(value) == 2
    np.testing.assert_allclose(value[0], np.sin(X)) and np.isclose(value[1], np.sum(X ** 2))
    np.testing.assert_allclose(g, OUT_BAR * np.cos(X) + 4.0 * X, rtol=1e-14)


def test_second_order_in_both_modes():
    pullback = s2sad.value_and_vjp(looped)

    def second(x, W, out_bar):
        value, g = pullback(x, W, out_bar)
        return np.sum(g ** 2) + np.sum(value)

    expected = oracle.gradient(second, (X, W, OUT_BAR), 0)
    np.testing.assert_allclose(s2sad.grad(second)(X, W, OUT_BAR), expected, rtol=1e-6)
    np.testing.assert_allclose(s2sad.jacobian(second, mode="forward")(X, W, OUT_BAR), expected,
                               rtol=1e-6)


def test_value_and_vjp_of_a_bound_method_and_errors():
    class Model:
        def __init__(self):
            self.W = W

        def predict(self, x):
            return np.tanh(self.W @ x)

    model = Model()
    value, g = s2sad.value_and_vjp(model.predict)(X, OUT_BAR)
    np.testing.assert_allclose(value, model.predict(X))
    np.testing.assert_allclose(g, vjp_by_differences(model.predict, (X,), 0, OUT_BAR),
                               rtol=1e-6)
    with pytest.raises(TypeError, match="value_and_vjp of looped takes out_bar after the "
                                        "arguments"):
        s2sad.value_and_vjp(looped)()
    with pytest.raises(s2sad.UsageError, match="cannot differentiate looped with respect to x"):
        s2sad.value_and_vjp(looped)(np.arange(3), W, OUT_BAR)


def test_the_decorator_has_value_and_vjp():
    decorated = s2sad.differentiate(looped, wrt="W")
    value, g = decorated.value_and_vjp(X, W, OUT_BAR)
    np.testing.assert_allclose(value, looped(X, W), rtol=1e-14)
    np.testing.assert_allclose(g, vjp_by_differences(looped, (X, W), 1, OUT_BAR), rtol=1e-6)
