"""What returned derivatives are: arrays the caller may write into, of the argument's floating
dtype (float32 in, float32 out, also for jacobian and hessian and inside containers), and a
clear error for an argument that is not floating (an integer, an object).

Values are compared with the finite-difference oracle (in float64) to float32 accuracy.
"""

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(3)
DATA = RNG.normal(size=(4, 3))  # float64 data: the gradient is still the argument's float32


def total(a):
    return np.sum(a)


def mixed(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def vector(w):
    return np.sin(w) * 2.0


def pair(p, x):
    a, b = p
    return np.sum(a * x) + np.sum(b ** 2)


def counted(x, n):
    return np.sum(x ** 2) * n


def test_grad_of_a_sum_is_a_writable_array():
    """np.sum's adjoint spreads one number (a read-only view, no pass over memory): the
    gradient the caller gets is an array of its own."""
    a = np.ones((3, 2))
    for g in (s2sad.grad(total)(a), s2sad.value_and_grad(total)(a)[1],
              s2sad.vjp(total)(a, 2.0)):
        assert g.flags.writeable and g.shape == (3, 2)
        g *= 0.5  # the training-loop idiom
    (g,) = s2sad.grad(total, wrt=(0,))(a)
    g += 1.0


def test_gradients_inside_containers_are_writable():
    p = (np.ones(3), np.ones(3))
    g = s2sad.grad(lambda q: np.sum(q[0]) + np.sum(q[1]))(p)
    assert type(g) is tuple and all(e.flags.writeable for e in g)
    g[0][0] = 5.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_has_the_argument_dtype(dtype):
    w = RNG.normal(size=3).astype(dtype)
    g = s2sad.grad(mixed)(w, DATA)
    assert g.dtype == dtype
    np.testing.assert_allclose(g, oracle.gradient(mixed, (w.astype(float), DATA), 0),
                               rtol=1e-4, atol=1e-5)
    value, g = s2sad.value_and_grad(mixed)(w, DATA)
    assert g.dtype == dtype
    assert s2sad.vjp(mixed)(w, DATA, 1.0).dtype == dtype
    gw, gx = s2sad.grad(mixed, (0, 1))(w, DATA)
    assert gw.dtype == dtype and gx.dtype == np.float64


def test_jacobian_and_hessian_have_the_argument_dtype():
    w = RNG.normal(size=3).astype(np.float32)
    for mode in ("forward", "reverse", "auto"):
        J = s2sad.jacobian(vector, mode=mode)(w)
        assert J.dtype == np.float32, mode
        np.testing.assert_allclose(J, np.diag(2.0 * np.cos(w.astype(float))), rtol=1e-5,
                                   atol=1e-6)
    H = s2sad.hessian(mixed)(w, DATA)
    assert H.dtype == np.float32 and H.shape == (3, 3)
    expected = oracle.gradient(s2sad.grad(mixed), (w.astype(float), DATA), 0)
    np.testing.assert_allclose(H, expected, rtol=1e-3, atol=1e-4)


def test_containers_keep_each_leaf_dtype():
    p = (RNG.normal(size=3).astype(np.float32), RNG.normal(size=2))
    x = RNG.normal(size=3)
    g = s2sad.grad(pair)(p, x)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float64
    H = s2sad.hessian(pair)(p, x)
    assert H[0][0].dtype == np.float32 and H[1][1].dtype == np.float64


@pytest.mark.parametrize("bad, what", [
    (np.arange(3), "an array of dtype int64"),
    (3, "int 3"),
    (np.array([True, False, True]), "an array of dtype bool"),
])
def test_differentiating_with_respect_to_an_integer_is_an_error(bad, what):
    with pytest.raises(s2sad.UsageError, match=f"cannot differentiate total with respect to a: "
                                               f"it is {what}, not a float or an array of floats"):
        s2sad.grad(total)(bad)
    with pytest.raises(s2sad.UsageError, match="cannot differentiate"):
        s2sad.jvp(total)(bad, np.ones(np.shape(bad)))
    with pytest.raises(s2sad.UsageError, match="cannot differentiate"):
        s2sad.jacobian(total, mode="reverse")(bad)


def test_an_integer_element_of_a_container_is_named():
    with pytest.raises(s2sad.UsageError, match=r"it is an array of dtype int64 \(an element of "
                                               r"p\)"):
        s2sad.grad(pair)((np.ones(3), np.arange(2)), np.ones(3))


def test_an_integer_argument_not_differentiated_is_fine():
    x = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.grad(counted)(x, 3), 6 * x)


# A value cast to integers or booleans is piecewise constant: no derivative flows through the
# cast. These gave silently wrong gradients (the cast passed the adjoint on, as a float copy).
def cast_astype(x):
    return np.sum(x.astype(int) * 1.0 + x)


def cast_asarray(x):
    return np.sum(np.asarray(x, dtype=np.int64) * x)


def cast_array_positional(x):
    return np.sum(np.array(x * 3.0, int) * x)


def cast_full(x):
    return np.sum(np.full(3, x[0], dtype=int) * x)


def cast_bool(x):
    return np.sum(x.astype(bool) * x) + np.sum(x.astype("int32") * 2.0)


def accumulated_in_integers(x):
    return np.sum(np.cumsum(x, dtype=int) * x) + np.sum(x, dtype=np.int32)


@pytest.mark.parametrize("f, expected", [
    (cast_astype, [1.0, 1.0, 1.0]), (cast_asarray, [0.0, 1.0, 2.0]),
    (cast_array_positional, [1.0, 4.0, 6.0]), (cast_full, [0.0, 0.0, 0.0]),
    (cast_bool, [1.0, 1.0, 1.0]), (accumulated_in_integers, [0.0, 1.0, 3.0])])
def test_a_cast_to_integers_or_booleans_carries_no_derivative(f, expected):
    x = np.array([0.37, 1.61, 2.23])
    np.testing.assert_allclose(s2sad.grad(f)(x), expected, rtol=1e-15)
    np.testing.assert_allclose(oracle.gradient(f, (x,), 0, h=1e-6), expected, atol=1e-6)
    s2sad.check_grads(f, (x,), order=2)
