"""``x += e`` on an argument: rebinding when the caller passes a Python number (the
compiled function is specialised per call-time kind of argument, s2sad/cache.py), a
located refusal when it passes an array (NumPy would change the caller's array), in
every transform; writing into an argument (``x[0] = v``) is refused alike. Derivatives
against finite differences in both modes and at order 2."""

import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad

HERE = os.path.abspath(__file__)


def alias(x):
    t = x
    t += 2.0 * x
    return t * x


def both(x, y):
    x += y
    x *= 3.0
    return np.sin(x) * y


def counted(x, n):
    n += 1
    return x ** n


def writes(x, y):
    x[0] = 0.0
    return np.sum(x * y)


def line_of(text):
    with open(HERE) as handle:
        return next(i for i, line in enumerate(handle, 1) if text in line)


@pytest.mark.parametrize("f, args, wrt", [
    (alias, (1.5,), 0), (alias, (np.float64(-0.7),), 0), (both, (1.5, 0.4), 0),
    (both, (1.5, 0.4), 1), (counted, (1.3, 2), 0)])
def test_numbers_rebind_in_every_transform(f, args, wrt):
    expected = float(oracle.gradient(f, args, wrt))
    assert np.isclose(s2sad.grad(f, wrt)(*args), expected, rtol=1e-6)
    value, g = s2sad.value_and_grad(f, wrt)(*args)
    assert np.isclose(value, f(*args)) and np.isclose(g, expected, rtol=1e-6)
    assert np.isclose(s2sad.vjp(f, wrt)(*args, 2.0), 2.0 * expected, rtol=1e-6)
    value, tangent = s2sad.jvp(f, wrt)(*args, 1.0)
    assert np.isclose(value, f(*args)) and np.isclose(tangent, expected, rtol=1e-6)
    for mode in ("forward", "reverse"):
        assert np.isclose(s2sad.jacobian(f, wrt, mode=mode)(*args), expected, rtol=1e-6)
    second = float(oracle.gradient(s2sad.grad(f, wrt), args, wrt))
    assert np.isclose(s2sad.hessian(f, wrt)(*args), second, rtol=1e-5)
    assert np.isclose(s2sad.hvp(f, wrt)(*args, 1.0), second, rtol=1e-5)
    s2sad.check_grads(f, args, wrt=wrt, order=2)
    # reverse over reverse: the inner gradient's code is made for the call's kinds too
    twice = s2sad.grad(s2sad.grad(f, wrt), wrt)
    assert np.isclose(twice(*args), second, rtol=1e-5)
    third = float(oracle.gradient(twice, args, wrt, h=1e-4))
    assert np.isclose(s2sad.grad(twice, wrt)(*args), third, rtol=1e-4, atol=1e-6)


def test_a_number_and_an_array_mixed():
    x, y = 1.5, np.array([0.4, -1.1])
    out_bar = np.array([1.0, 2.0])
    expected = out_bar @ oracle.gradient(both, (x, y), 0)
    assert np.isclose(s2sad.vjp(both)(x, y, out_bar), expected, rtol=1e-6)
    np.testing.assert_allclose(s2sad.vjp(both, wrt=1)(x, y, out_bar),
                               out_bar @ oracle.gradient(both, (x, y), 1), rtol=1e-6)


@pytest.mark.parametrize("first", ["number", "array"])
def test_an_array_argument_is_refused_whatever_came_before(first):
    g = s2sad.grad(alias)
    if first == "number":
        assert np.isclose(g(1.5), 9.0)
    a = np.array([1.5, 2.0])
    for call in (lambda: g(a), lambda: s2sad.jvp(alias)(a, a), lambda: s2sad.hvp(alias)(a, a),
                 lambda: s2sad.value_and_grad(alias)(a)):
        with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
            call()
        assert info.value.loc.filename == HERE and info.value.loc.line == line_of("t += 2.0")
        assert "t += ... would change that array in place" in info.value.message
    np.testing.assert_array_equal(a, [1.5, 2.0])
    assert np.isclose(g(1.5), 9.0)  # and numbers again


def test_writing_into_an_array_argument_is_refused_as_updating_it_is():
    a = np.array([1.0, 2.0])
    expected = {writes: ("x[0] = 0.0", "x is an argument of writes; writing into it would "
                                       "change the caller's array"),
                both: ("x += y", "x is an argument of both, and x += ... would change the "
                                 "caller's array in place when it is an array")}
    for f, (line, message) in expected.items():
        for call in (lambda: s2sad.grad(f, wrt=1)(a, a), lambda: s2sad.value_and_grad(f)(a, a),
                     lambda: s2sad.jvp(f)(a, a, a)):
            with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
                call()
            assert info.value.loc.line == line_of(line) and info.value.message.startswith(message)
        np.testing.assert_array_equal(a, [1.0, 2.0])  # nothing was written into the caller's
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="writing into it"):
        s2sad.grad(writes, wrt=1)(1.0, 2.0)  # a number cannot be written into either


# -- p += e on a parameter of a helper that is given a number ---------------------------------

def shifted(s):  # updates its parameter in place: rebinding for a number
    s += 1.0
    s *= s
    return s * np.sin(s)


def number_helpers(x, c):
    return np.sum(x ** 2) * shifted(x[2]) + shifted(2.0 * c) + shifted(3.0) + shifted(-c)


def passes_on(v, t):  # a helper passing its own parameters on: checked at both calls
    return shifted(v[1]) * t + shifted(t)


def nested_helpers(x, c):
    return passes_on(x, c) + passes_on(x, 2.0)


def row_helper(x, c):  # x[1] is a row of a matrix: shifted would change it in place
    return np.sum(shifted(x[1]) * c)


def local_helper(x, c):  # x * c is an array s2sad cannot tell from a number
    t = np.sum(x * c)
    return shifted(t)


@pytest.mark.parametrize("wrt", [0, 1, (0, 1)])
def test_a_helper_given_numbers_rebinds_its_parameter(wrt):
    x, c = np.array([0.3, -0.4, 0.8]), 0.6
    for k in (wrt if isinstance(wrt, tuple) else (wrt,)):
        expected = oracle.gradient(number_helpers, (x, c), k)
        g = s2sad.grad(number_helpers, wrt=k)(x, c)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-9)
        value, tangent = s2sad.jvp(number_helpers, wrt=k)(x, c, np.ones_like(x) if k == 0 else 1.0)
        assert np.isclose(value, number_helpers(x, c))
        assert np.isclose(tangent, np.sum(expected), rtol=1e-6)
    s2sad.check_grads(number_helpers, (x, c), wrt=wrt, order=2)
    s2sad.check_grads(nested_helpers, (x, c), wrt=wrt, order=2)
    for k in (wrt if isinstance(wrt, tuple) else (wrt,)):
        np.testing.assert_allclose(s2sad.grad(nested_helpers, wrt=k)(x, c),
                                   oracle.gradient(nested_helpers, (x, c), k), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(x, [0.3, -0.4, 0.8])


def test_a_helper_given_what_may_be_an_array_is_refused_at_its_line():
    x = np.array([[0.3, -0.4], [0.8, 0.1]])
    for call in (lambda: s2sad.grad(row_helper)(x, 0.5), lambda: s2sad.grad(local_helper)(x, 0.5),
                 lambda: s2sad.jvp(row_helper)(x, 0.5, x),
                 lambda: s2sad.grad(number_helpers)(x, 0.5),  # x[2] of a matrix is a row
                 lambda: s2sad.grad(nested_helpers)(x, 0.5)):
        with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
            call()
        assert info.value.loc.line == line_of("s += 1.0")
        assert "s is an argument of shifted, and s += ..." in info.value.message
    np.testing.assert_array_equal(x, [[0.3, -0.4], [0.8, 0.1]])


# -- code read before a call tells the kinds: grad(grad(f)) per call, source and CLI by request --

def test_grad_of_grad_is_refused_for_an_array_as_grad_is():
    a = np.array([1.5, 2.0])
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(s2sad.grad(both))(a, a)
    assert info.value.loc.line == line_of("x += y")
    assert info.value.message.startswith("x is an argument of both, and x += ...")
    np.testing.assert_array_equal(a, [1.5, 2.0])
    assert np.isclose(s2sad.grad(s2sad.grad(both))(1.5, 0.4),  # and numbers after it
                      float(oracle.gradient(s2sad.grad(both), (1.5, 0.4), 0)), rtol=1e-5)


def test_the_source_of_such_a_function_is_shown_for_the_kinds_asked_for():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.source(both)
    assert "s2sad.source(f, specialise_for=args)" in info.value.hint
    assert info.value.loc.line == line_of("x += y")
    text = s2sad.source(both, specialise_for=(1.5, 0.4))
    assert "x_1 = x + y" in text and "For calls passing Python numbers for x, y" in text
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="x is an argument of both"):
        s2sad.source(both, specialise_for=(np.ones(2), 0.4))
    assert "def grad_grad_both" in s2sad.source(s2sad.grad(both), specialise_for=(1.5, 0.4))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="x is an argument of both"):
        s2sad.source(s2sad.grad(both))


def test_the_cli_writes_the_module_for_numbers_when_asked(tmp_path):
    (tmp_path / "kinds.py").write_text("import numpy as np\n\n\ndef both(x, y):\n"
                                       "    x += y\n    x *= 3.0\n    return np.sin(x) * y\n")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "s2sad", *args, "-o", "out"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)

    refused = run("grad", "kinds.py:both")
    assert refused.returncode == 1 and "kinds.py:5:5: x is an argument of both" in refused.stderr
    assert "s2sad grad kinds.py:both --numbers x writes the module" in refused.stderr
    assert not (tmp_path / "out").exists()
    assert "has no parameter z" in run("grad", "kinds.py:both", "--numbers", "z").stderr
    for command in ("grad", "jvp"):
        written = run(command, "kinds.py:both", "--numbers", "x")
        assert written.returncode == 0, written.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['s2sad'] = None; sys.path.insert(0, 'out')\n"
         "import kinds_both_grad as g, kinds_both_jvp as j\n"
         "print(g.grad_both(1.5, 0.4), j.jvp_both(1.5, 0.4, 1.0)[1])"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    expected = float(oracle.gradient(both, (1.5, 0.4), 0))
    assert np.allclose([float(v) for v in check.stdout.split()], expected, rtol=1e-6), check.stderr


def test_the_tools_that_show_a_derivative_follow_the_call_s_kinds():
    """trace, cost, graph and explain of a function whose x += e is rebinding for numbers:
    shown for the kinds of the arguments given, as grad computes it."""
    args = (1.5, 0.4)
    expected = s2sad.grad(both, wrt=(0, 1))(*args)
    t = s2sad.trace(both, *args, wrt=(0, 1))
    assert t.derivative == pytest.approx(expected)
    assert s2sad.trace(both, *args, wrt=0, mode="forward").derivative == \
        pytest.approx(expected[0])
    assert s2sad.cost(both, *args, wrt=(0, 1)).f_flops > 0
    assert s2sad.graph(both, *args, wrt=(0, 1)).dot.startswith("digraph")
    assert "backward" in s2sad.explain(both, *args, wrt=(0, 1)).html
    with pytest.raises(s2sad.errors.UnsupportedSyntaxError, match="x is an argument of both"):
        s2sad.trace(both, np.array([1.5]), 0.4)
