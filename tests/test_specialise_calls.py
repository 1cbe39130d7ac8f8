"""The call path of a specialised gradient (s2sad.specialise, s2sad.rewrites): one guard
tests the kinds of the arguments and the names f reads; NumPy scalar adjoints become
Python floats where that is exact.
"""

import inspect
import warnings

import numpy as np
import pytest

import oracle
import s2sad
from measure import generic, peak_of
from tests.programs.loops import chain, rnn_dot


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def neuron(w0, x0, w1, x1, w2):
    return sigmoid(w0 * x0 + w1 * x1 + w2)


def lecture(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def helper(x):
    return x * x


def uses_helper(x):
    return helper(x) * 2.0


def total(x):
    return np.sum(x * x)


POINT = (2.0, -1.0, -3.0, -2.0, -3.0)
ALL = (0, 1, 2, 3, 4)


def fast_path(g):
    return dict(zip(g.__code__.co_freevars, (c.cell_contents for c in g.__closure__)))[
        "_s2sad_fast"]


def test_a_numpy_scalar_adjoint_times_python_floats_becomes_a_python_float():
    head = s2sad.source(neuron, wrt=ALL, specialise_for=POINT).split("def value_and_grad")[0]
    assert "sigmoid_z_bar = float(out * out * v5)" in head
    g = s2sad.grad(neuron, wrt=ALL)
    first = g(*POINT)  # a signature's first call runs the generic function
    assert first == generic(neuron, ALL, POINT)
    for _ in range(2):  # then the specialised one
        got = g(*POINT)
        assert got == first  # bit for bit
        assert all(type(v) is float for v in got)
    for k, value in enumerate(got):
        assert value == pytest.approx(oracle.gradient(neuron, POINT, k), rel=1e-6)


def test_a_numpy_scalar_argument_keeps_numpy_scalar_gradients():
    """w2_bar is z_bar itself: with w2 a NumPy scalar, z_bar stays one."""
    args = POINT[:4] + (np.float64(POINT[4]),)
    assert "float(" not in s2sad.source(neuron, wrt=ALL, specialise_for=args).split(
        "def value_and_grad")[0]
    got = s2sad.grad(neuron, wrt=ALL)(*args)
    assert got == generic(neuron, ALL, args) and type(got[4]) is np.float64


def test_no_python_float_where_a_division_follows():
    """x_bar = a_bar * y / x: a Python float divided by 0.0 raises, NumPy's gives nan."""
    head = s2sad.source(lecture, wrt=(0, 1), specialise_for=(2.0, 3.0)).split(
        "def value_and_grad")[0]
    assert "float(" not in head
    g = s2sad.grad(lecture, wrt=(0, 1))
    g(2.0, 3.0)  # specialised for two floats
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x_bar, y_bar = g(0.0, 3.0)
    assert np.isnan(x_bar) and np.isnan(y_bar)


def test_a_signature_s_first_call_runs_the_generic_function():
    """A derivative called once pays for one transform: the specialised function is made
    at a signature's second call."""
    g = s2sad.grad(uses_helper)
    assert g(3.0) == 12.0
    assert fast_path(g)[0].__name__ != "grad_uses_helper"
    assert g(3.0) == 12.0
    assert fast_path(g)[0].__name__ == "grad_uses_helper"


def test_the_specialised_function_is_called_at_once_and_checks_the_names():
    g = s2sad.grad(uses_helper)
    assert g(3.0) == 12.0 and g(3.0) == 12.0
    special = fast_path(g)[0]
    assert special.__name__ == "grad_uses_helper"  # the guarded function itself
    text = inspect.getsource(special)
    assert "_s2sad_slot[1] is _s2sad_holds and" in text
    assert "_s2sad_names_g0.get('helper', _s2sad_names_MISSING) is _s2sad_names_o" in text
    assert g(3.0) == 12.0


def cube(x):
    return x * x * x


def test_a_rebound_helper_is_transformed_again(monkeypatch):
    g = s2sad.grad(uses_helper)
    assert g(3.0) == 12.0 and g(3.0) == 12.0
    monkeypatch.setitem(globals(), "helper", cube)
    assert g(3.0) == 54.0 and g(3.0) == 54.0
    monkeypatch.undo()
    assert g(3.0) == 12.0


def test_clear_cache_makes_a_specialised_gradient_transform_again():
    g = s2sad.grad(uses_helper)
    g(3.0)
    g(3.0)  # the specialised function, called at once
    s2sad.clear_cache()
    assert uses_helper not in s2sad.cache._CACHE
    assert g(3.0) == 12.0
    assert uses_helper in s2sad.cache._CACHE  # transformed again, not served as before


def test_kinds_met_in_turn_go_through_the_guard_without_end():
    g = s2sad.grad(total)
    x = np.array([1.0, -2.0, 0.5])
    for value in (x, 1.5, x, np.ones((2, 2)), 1.5, x):
        np.testing.assert_allclose(g(value), 2 * np.asarray(value))


def test_a_float_beside_a_float64_array_becomes_a_0d_array():
    r = np.random.default_rng(5)
    args = (r.standard_normal((4, 4)) / 2, r.standard_normal(4), 3)
    text = s2sad.source(rnn_dot, wrt=(0, 1), specialise_for=args)
    assert "_f64_1p0 = np.array(1.0)" in text
    assert "v2_bar = h_2_bar * (_f64_1p0 - h_2 * h_2)" in text.split("def value_and_grad")[0]
    got = s2sad.grad(rnn_dot, wrt=(0, 1))(*args)
    for a, b in zip(got, generic(rnn_dot, (0, 1), args)):
        assert np.array_equal(a, b)  # bit for bit
    # float32 arrays are not specialised on: a Python float keeps their dtype
    single = tuple(a.astype(np.float32) for a in args[:2]) + (3,)
    assert "_f64_" not in s2sad.source(rnn_dot, wrt=(0, 1), specialise_for=single)
    assert all(g.dtype == np.float32 for g in s2sad.grad(rnn_dot, wrt=(0, 1))(*single))


def shifted(x, y):
    t = x * 2.0
    return np.sum(np.sin(t + y) * t)


def copied(x):
    t = x * 2.0
    u = t
    v = np.exp(t)
    return np.sum(v * u)


def test_a_dead_temporary_takes_the_result_of_an_element_wise_operation():
    x = np.random.default_rng(1).standard_normal(200_000)
    head = s2sad.source(chain, wrt=(0, 1), specialise_for=(x, 1.5)).split(
        "def value_and_grad")[0]
    assert "t3 = np.multiply(_f64_0p5, t2, out=t2)" in head  # t2 is read no more
    assert "t2 = t1 * t1" in head  # t1 is: the backward sweep reads it
    g = s2sad.grad(chain, wrt=(0, 1))
    got = g(x, 1.5)
    for a, b in zip(got, generic(chain, (0, 1), (x, 1.5))):
        assert np.array_equal(a, b)  # bit for bit
    assert peak_of(g, x, 1.5) < 3.5 * x.nbytes  # 4 arrays of x's size before (t1, t2, t3 and x_bar's)


@pytest.mark.parametrize("shapes", [((5,), (5,)), ((1,), (5,)), ((5,), (1,))])
def test_beside_an_array_in_place_only_where_the_shapes_are_equal(shapes):
    r = np.random.default_rng(2)
    args = (r.standard_normal(shapes[0]), r.standard_normal(shapes[1]))
    text = s2sad.source(shifted, wrt=(0, 1), specialise_for=args)
    assert "if t.shape == y.shape else None" in text or "out=t" in text
    got = s2sad.grad(shifted, wrt=(0, 1))(*args)
    for k, (a, b) in enumerate(zip(got, generic(shifted, (0, 1), args))):
        assert np.array_equal(a, b) and a.shape == args[k].shape
        np.testing.assert_allclose(a, oracle.gradient(shifted, args, k), rtol=1e-6, atol=1e-8)


def test_an_aliased_temporary_is_not_written_into():
    x = np.random.default_rng(3).standard_normal(6)
    got = s2sad.grad(copied)(x)
    assert np.array_equal(got, generic(copied, (0,), (x,)))
    np.testing.assert_allclose(got, oracle.gradient(copied, (x,), 0), rtol=1e-6, atol=1e-8)


def piecewise(p, y):
    r = p - y
    huber = np.where(np.abs(r) < 1.0, 0.5 * r * r, np.abs(r) - 0.5)
    hinge = np.maximum(0.0, 1.0 - y * p)
    return np.mean(huber + hinge)


def test_kinds_follow_where_maximum_and_comparisons():
    """huber, hinge and their sum have kinds, so they are freed after their last value read
    (stand-ins for their shapes): the gradient holds about 6 arrays of n at once, not 9."""
    r = np.random.default_rng(4)
    p, y = r.standard_normal(100_000) * 2.0, np.sign(r.standard_normal(100_000))
    head = s2sad.source(piecewise, specialise_for=(p, y)).split("def value_and_grad")[0]
    for name in ("huber", "hinge"):
        assert f"    {name} = np.ndarray({name}.shape, {name}.dtype, _zero_bytes" in head
    g = s2sad.grad(piecewise)
    assert np.array_equal(g(p, y), generic(piecewise, (0,), (p, y)))
    assert peak_of(g, p, y) < 7 * p.nbytes
    small = (p[:7], y[:7])
    np.testing.assert_allclose(g(*small), oracle.gradient(piecewise, small, 0), rtol=1e-6,
                               atol=1e-8)
