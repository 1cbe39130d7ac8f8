"""Star arguments in calls: spliced where their length is known in the function
(``f(*(a, b))``, ``args = (x, 2.0); f(*args)``, ``[*pair]``), kept in a call s2sad runs as
it is where it is known only when the code runs (``np.random.rand(*x.shape)``,
``np.zeros(*shape)``), and a located error where s2sad must read or differentiate
through such a call. Derivatives against finite differences in both modes and at
order 2; the CLI's module runs with NumPy alone."""

import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad

HERE = os.path.abspath(__file__)
X = np.array([0.5, -1.5, 0.7])
V = np.array([0.3, 1.0, -0.4])


def helper(a, b, c=1.0):
    return a * b + c


def noise(x):
    np.random.seed(0)
    return np.sum(np.sin(x) * np.random.rand(*x.shape))


def zeros(x, shape):
    return np.sum(x ** 2 + np.zeros(*shape))


def known(x):
    args = (x, 2.0)
    return np.sum(helper(*args) * helper(*(x, np.sin(x)), c=3.0))


def displays(x):
    pair = (x, x ** 2)
    return np.sum(np.maximum(*pair)) + np.sum(np.stack([*pair, np.cos(x)]) ** 2)


def unknown_user(x, args):
    return np.sum(helper(*args))


def unknown_differentiated(x, pair):
    return np.sum(np.maximum(*pair) * x)


def keywords(x, options):
    return np.sum(np.clip(x, **options))


def line_of(text):
    with open(HERE) as handle:
        return next(i for i, line in enumerate(handle, 1) if text in line)


@pytest.mark.parametrize("f, args", [(noise, (X,)), (zeros, (X, (3,))), (known, (X,)),
                                     (displays, (X,))])
def test_derivatives_in_both_modes_and_at_order_two(f, args):
    expected = oracle.gradient(f, args, 0)
    np.testing.assert_allclose(s2sad.grad(f)(*args), expected, rtol=1e-6, atol=1e-9)
    value, tangent = s2sad.jvp(f)(*args, V)
    assert np.isclose(value, f(*args))
    np.testing.assert_allclose(tangent, expected @ V, rtol=1e-6, atol=1e-9)
    hessian = oracle.gradient(s2sad.grad(f), args, 0)
    np.testing.assert_allclose(s2sad.hvp(f)(*args, V), hessian @ V, rtol=1e-5, atol=1e-7)
    _, second = s2sad.jvp(s2sad.grad(f))(*args, V)  # forward over reverse, by hand
    np.testing.assert_allclose(second, hessian @ V, rtol=1e-5, atol=1e-7)


def test_a_star_into_a_function_s2sad_reads_needs_a_known_length():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(unknown_user)(X, (X, X))
    error = info.value
    assert error.loc.filename == HERE and error.loc.line == line_of("helper(*args))")
    assert error.message == ("s2sad must know how many arguments *args passes to helper, "
                             "which it reads")
    assert "args = (a, b); f(*args)" in error.hint


@pytest.mark.parametrize("transform", [lambda f: s2sad.grad(f, wrt=1)((X, X), (X, X)),
                                       lambda f: s2sad.jvp(f, wrt=1)(X, (X, X), (V, V))])
def test_a_differentiated_value_through_a_star_of_unknown_length_is_an_error(transform):
    with pytest.raises(s2sad.NoDerivativeError) as info:
        transform(unknown_differentiated)
    error = info.value
    assert error.loc.line == line_of("np.maximum(*pair) * x")
    assert error.message == ("s2sad differentiates np.maximum() only with its arguments known "
                             "one by one, and here a differentiated value reaches it through *")
    # with respect to x, the star holds constants: the call runs as it is
    g = s2sad.grad(unknown_differentiated)(X, (X, V))
    np.testing.assert_allclose(g, np.maximum(X, V), rtol=1e-14)


def test_double_star_is_refused_at_its_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError,
                       match=r"s2sad does not support \*\*kwargs in calls") as info:
        s2sad.grad(keywords)(X, {"a_min": 0.0, "a_max": 1.0})
    assert info.value.loc.line == line_of("np.clip(x, **options)")


def test_the_cli_writes_the_star_into_the_module(tmp_path):
    (tmp_path / "model.py").write_text(
        "import numpy as np\n\n\ndef noise(x):\n    np.random.seed(0)\n"
        "    return np.sum(np.sin(x) * np.random.rand(*x.shape))\n")
    done = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:noise", "-o", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "model_noise_grad.py").read_text()
    assert "np.random.rand(*" in text
    check = ("import sys\nsys.modules['s2sad'] = None\nsys.path.insert(0, 'out')\n"
             "import numpy as np\nfrom model_noise_grad import grad_noise\n"
             f"print(repr(grad_noise(np.array({X.tolist()!r})).tolist()))\n")
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    np.testing.assert_allclose(eval(run.stdout), oracle.gradient(noise, (X,), 0), rtol=1e-6)
