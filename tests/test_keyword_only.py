"""Keyword-only parameters (``def f(x, *, scale=2.0)``) wherever s2sad reads a function.

The differentiated function itself (``grad``, ``jvp``, ``hessian``, ``hvp``, ``jacobian``,
``check_grads``, ``wrt`` naming a keyword-only parameter), the user's helpers it calls (a
``fwd_``/``bwd_`` pair, a ``vjp_`` for one with a loop, a helper inlined because it is given a
function or has a function default, ``act=np.tanh``), nested ``def``\\ s, lambdas and closures,
with defaults from ``__kwdefaults__``. Every program is checked against finite differences in
both modes and to second order (``s2sad.check_grads(..., order=2)``). Generated functions take
keyword-only parameters as plain ones (README). A call that binds wrongly is Python's
``TypeError`` at the API and a located error inside a differentiated function.
"""

import functools
import inspect

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntaxError

X = np.array([0.5, -1.2, 2.0])
W = np.array([[0.3, 0.8, -0.4], [0.1, -0.2, 0.5], [0.7, 0.2, 0.3]])
U = np.array([1.0, 0.5, -2.0])


def scaled_sum(x, *, scale=2.0):
    return np.sum(np.sin(x) * scale)


def power_sum(x, *, scale=2.0, power):  # no default after one with a default
    return np.sum((x * scale) ** 2 * power)


def loop_helper(x, *, scale=2.0, steps):  # a loop: its own vjp_loop_helper
    y = x
    for _ in range(steps):
        y = np.sin(y) * scale
    return y


def pair_helper(x, w, *, shift=0.5):  # fwd_pair_helper / bwd_pair_helper
    a = np.tanh(x * w + shift)
    b = a * a + np.cos(x)
    return np.sum(b * w) + shift * np.sum(a)


def calls_helpers(x, w, *, scale=1.5):
    return pair_helper(x, w) + pair_helper(w, x, shift=scale) + \
        np.sum(loop_helper(x, steps=2, scale=scale))


def layer(h, w, *, act=np.tanh):  # inlined: its default is a function
    return act(w @ h)


def network(x, w, *, scale=1.0):
    return np.sum(layer(layer(x, w), w, act=np.sin)) * scale


def nested(x, *, c=3.0):
    def inner(t, *, k=2.0, m, f=np.cos):  # a closure over c, a function default
        return f(t) * k * m * c

    def times(t, *, by=c * 2.0):  # a default computed where times is defined
        return t * by

    square = lambda u, *, p=1.5: u ** p  # noqa: E731
    return np.sum(inner(x, m=c) + inner(x, k=0.5, m=1.0, f=np.sin)) + \
        np.sum(square(x * x, p=2.0)) + np.sum(square(x * x)) + np.sum(times(x))


CASES = [
    pytest.param(scaled_sum, (X,), {"scale": 3.0}, (0, "scale"), id="scaled_sum"),
    pytest.param(scaled_sum, (X,), {}, 0, id="scaled_sum-default"),
    pytest.param(power_sum, (X,), {"power": 3.0}, (0, "scale", "power"), id="power_sum"),
    pytest.param(calls_helpers, (X, U), {"scale": 0.7}, (0, 1, "scale"), id="calls_helpers"),
    pytest.param(network, (X, W), {"scale": 1.3}, (0, 1, "scale"), id="network"),
    pytest.param(nested, (X,), {"c": 1.5}, (0, "c"), id="nested"),
]


@pytest.mark.parametrize("f, args, kwargs, wrt", CASES)
def test_derivatives_agree_with_finite_differences_to_second_order(f, args, kwargs, wrt):
    s2sad.check_grads(f, args, wrt=wrt, kwargs=kwargs, order=2)


def test_grad_with_respect_to_a_keyword_only_parameter():
    assert np.isclose(s2sad.grad(scaled_sum, wrt="scale")(X, scale=3.0), np.sum(np.sin(X)))
    dx, dscale = s2sad.grad(scaled_sum, wrt=(0, "scale"))(X, scale=3.0)
    assert np.allclose(dx, 3.0 * np.cos(X)) and np.isclose(dscale, np.sum(np.sin(X)))
    value, dx = s2sad.value_and_grad(scaled_sum)(X)  # the default, from __kwdefaults__
    assert np.isclose(value, scaled_sum(X)) and np.allclose(dx, 2.0 * np.cos(X))
    assert np.allclose(s2sad.vjp(scaled_sum)(X, 2.0, scale=3.0), 6.0 * np.cos(X))


def test_forward_mode_and_second_order():
    value, dot = s2sad.jvp(scaled_sum)(X, U, scale=3.0)
    assert np.isclose(value, scaled_sum(X, scale=3.0))
    assert np.isclose(dot, 3.0 * np.cos(X) @ U)
    assert np.allclose(s2sad.hessian(scaled_sum)(X, scale=3.0), np.diag(-3.0 * np.sin(X)))
    assert np.allclose(s2sad.hvp(scaled_sum)(X, U, scale=3.0), -3.0 * np.sin(X) * U)
    assert np.allclose(s2sad.jacobian(scaled_sum, wrt="scale")(X, scale=3.0), np.sum(np.sin(X)))
    hessian = s2sad.hessian(network, wrt=0)(X, W, scale=1.3)
    assert hessian.shape == (3, 3) and np.allclose(hessian, hessian.T)


def test_check_grads_of_a_partial_binding_a_keyword_only_value():
    s2sad.check_grads(functools.partial(power_sum, power=2.0), (X,), order=2)
    assert np.allclose(s2sad.grad(functools.partial(scaled_sum, scale=3.0))(X),
                       3.0 * np.cos(X))


def test_generated_functions_take_keyword_only_parameters_as_plain_ones():
    source = s2sad.source(scaled_sum)
    assert "def grad_scaled_sum(x, scale=2.0):" in source
    # a default before a parameter without one cannot be a plain parameter's: dropped (the
    # API binds every argument before it calls the generated function)
    assert "def grad_power_sum(x, scale, power):" in s2sad.source(power_sum)
    helpers = s2sad.source(calls_helpers)  # the helpers' primal copies and derivatives
    for line in ("def pair_helper(x, w, shift=0.5):", "def loop_helper(x, scale, steps):",
                 "def fwd_pair_helper_wrt_x(x, w, shift):",
                 "def vjp_loop_helper_wrt_x(x, scale, steps, out_bar):"):
        assert line in helpers


def test_calls_bind_as_the_function_binds_them():
    with pytest.raises(TypeError, match="positional"):
        s2sad.grad(scaled_sum)(X, 3.0)  # f(X, 3.0) is a TypeError too
    with pytest.raises(TypeError, match="power"):
        s2sad.grad(power_sum)(X)
    with pytest.raises(TypeError, match="positional"):
        s2sad.jvp(scaled_sum)(X, 3.0, U)
    with pytest.raises(TypeError, match="positional"):
        s2sad.check_grads(scaled_sum, (X, 3.0))


def e_nested_positional(x):
    def inner(t, *, k=2.0):
        return t * k
    return np.sum(inner(x, 3.0))  # marker: nested_positional


def e_nested_missing(x):
    def inner(t, *, k):
        return t * k
    return np.sum(inner(x))  # marker: nested_missing


def e_helper_positional(x):
    return pair_helper(x, x, 0.1)  # marker: helper_positional


def e_helper_missing(x):
    return np.sum(loop_helper(x, scale=2.0))  # marker: helper_missing


def e_inlined_positional(x):
    return np.sum(layer(x, W, np.sin))  # marker: inlined_positional


ERRORS = [
    (e_nested_positional, "nested_positional", "inner(x, 3.0)",
     "inner() takes 1 positional argument but 2 were given"),
    (e_nested_missing, "nested_missing", "inner(x)", "inner() is missing its argument 'k'"),
    (e_helper_positional, "helper_positional", "pair_helper(",
     "cannot call pair_helper like this: pair_helper() takes 2 positional arguments but 3 "
     "were given"),
    (e_helper_missing, "helper_missing", "loop_helper(", "'steps'"),
    (e_inlined_positional, "inlined_positional", "layer(",
     "layer() takes 2 positional arguments but 3 were given"),
]


@pytest.mark.parametrize("f, marker, at, what", ERRORS, ids=[e[1] for e in ERRORS])
def test_a_call_binding_wrongly_is_a_located_error(f, marker, at, what):
    lines, first = inspect.getsourcelines(f)
    line = next(first + k for k, text in enumerate(lines) if f"marker: {marker}" in text)
    text = lines[line - first]
    for mode in ("reverse", "forward"):
        with pytest.raises(UnsupportedSyntaxError) as info:
            s2sad.source(f, mode=mode)
        head = str(info.value).split("\n")[0]
        assert head.startswith(f"{__file__}:{line}:{text.index(at) + 1}: "), str(info.value)
        assert what in head, str(info.value)


def test_the_generated_module_runs_as_written():
    """The module's own text (not only what the API compiles): a call of the user's helper
    in it passes the keyword-only values by name."""
    source = s2sad.source(calls_helpers, wrt=(0, 1, 2))
    assert "loop_helper(x, scale=scale, steps=2)" in source
    namespace = {}
    exec(compile(source, "calls_helpers_grad.py", "exec"), namespace)
    expected = s2sad.grad(calls_helpers, wrt=(0, 1, "scale"))(X, U, scale=0.7)
    for got, want in zip(namespace["grad_calls_helpers"](X, U, 0.7), expected):
        assert np.allclose(got, want)
    forward = {}
    exec(compile(s2sad.source(calls_helpers, mode="forward"), "calls_helpers_jvp.py", "exec"),
         forward)
    value, dot = forward["jvp_calls_helpers"](X, U, 0.7, U)
    assert np.isclose(value, calls_helpers(X, U, scale=0.7))
    assert np.isclose(dot, s2sad.jvp(calls_helpers)(X, U, U, scale=0.7)[1])


def test_the_tools_at_a_point_take_keyword_only_values():
    backward = s2sad.trace(scaled_sum, X, scale=3.0, wrt="scale")
    assert np.isclose(backward.value, scaled_sum(X, scale=3.0))
    assert np.isclose(backward.derivative, np.sum(np.sin(X)))
    forward = s2sad.trace(power_sum, X, power=2.0, mode="forward")
    assert np.isclose(forward.value, power_sum(X, power=2.0))
    assert s2sad.cost(power_sum, X, power=2.0).n == X.size
    assert "scale" in s2sad.graph(scaled_sum, X, scale=3.0).dot
    assert "scale_bar" in s2sad.explain(scaled_sum, X, scale=3.0, wrt=(0, "scale")).html
