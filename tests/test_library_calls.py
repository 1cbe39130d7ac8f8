"""A call into another library's Python code (``scipy.special.logsumexp``, NumPy's
functions passed as values to code s2sad does not read) is an error at the user's own
line that names the function and shows the ``custom_vjp`` fix, never an error located
inside the library's source; on constants the call just runs; with a custom rule it is
differentiated (both modes, order 2)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
from scipy.special import logsumexp

import oracle
import s2sad

HERE = os.path.abspath(__file__)
X = np.array([0.3, -1.2, 0.8])
C = np.array([1.0, 2.0])


def qualified(x):
    return scipy.special.logsumexp(x) * 2.0


def imported(x):
    y = np.sin(x)
    return logsumexp(y)


def on_constants(x, c):
    return np.sum(x ** 2) * logsumexp(c)


def apply_along(x):
    return np.sum(np.apply_along_axis(np.sum, 0, x ** 2))


@s2sad.custom_vjp
def lse(x):
    return scipy.special.logsumexp(x)


@lse.defvjp
def lse_vjp(g, ans, x):
    return g * np.exp(x - ans)


@lse.defjvp
def lse_jvp(x, x_dot):
    return np.sum(np.exp(x - scipy.special.logsumexp(x)) * x_dot)


def fixed(x):
    return lse(np.sin(x))


def line_of(text):
    with open(HERE) as handle:
        return next(i for i, line in enumerate(handle, 1) if text in line)


@pytest.mark.parametrize("f, text, spelling", [
    (qualified, "return scipy.special.logsumexp(x) * 2.0", "scipy.special.logsumexp"),
    (imported, "return logsumexp(y)", "logsumexp")])
@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.jvp, s2sad.hessian])
def test_a_library_function_on_a_differentiated_value_is_an_error_at_the_users_line(
        f, text, spelling, transform):
    with pytest.raises(s2sad.NoDerivativeError) as info:
        transform(f)(X, *([X] if transform is s2sad.jvp else []))
    error = info.value
    assert error.loc.filename == HERE and error.loc.line == line_of(text)
    assert error.message.startswith(f"s2sad has no derivative rule for {spelling}() (Python "
                                    f"code of scipy, which s2sad does not read)")
    assert "@s2sad.custom_vjp on def" in error.hint and f"return {spelling}(x)" in error.hint
    assert "site-packages" not in str(error)


def test_on_constants_the_library_function_runs():
    g = s2sad.grad(on_constants)(X, C)
    np.testing.assert_allclose(g, 2 * X * scipy.special.logsumexp(C), rtol=1e-14)
    value, tangent = s2sad.jvp(on_constants)(X, C, X)
    np.testing.assert_allclose(tangent, np.sum(2 * X * X) * scipy.special.logsumexp(C))


def test_the_custom_vjp_fix_differentiates_it_in_both_modes_and_at_order_two():
    expected = oracle.gradient(fixed, (X,), 0)
    np.testing.assert_allclose(s2sad.grad(fixed)(X), expected, rtol=1e-6)
    np.testing.assert_allclose(s2sad.jacobian(fixed, mode="forward")(X), expected, rtol=1e-6)
    hessian = oracle.gradient(s2sad.grad(fixed), (X,), 0)
    np.testing.assert_allclose(s2sad.hessian(fixed)(X), hessian, rtol=1e-5, atol=1e-8)


def test_the_library_function_itself_is_refused_by_name():
    with pytest.raises(s2sad.SourceError) as info:
        s2sad.grad(scipy.special.logsumexp)
    message = str(info.value)
    assert message.startswith("s2sad differentiates your own Python functions; "
                              "scipy.special.logsumexp is another library's code")
    assert "@s2sad.custom_vjp on def logsumexp(x): return scipy.special.logsumexp(x)" in message


def test_a_numpy_function_passed_to_a_library_is_an_error_at_the_users_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(apply_along)(X)
    error = info.value
    assert error.loc.filename == HERE and error.loc.line == line_of("np.apply_along_axis(np.sum")
    assert error.message == ("np.sum is a function (_ArrayFunctionDispatcher) used here as a "
                             "value, which s2sad follows only into a function of your own")
    assert "@s2sad.custom_vjp" in error.hint


def test_the_cli_reports_the_users_line(tmp_path):
    (tmp_path / "model.py").write_text("import numpy as np\nfrom scipy.special import "
                                       "logsumexp\n\n\ndef f(w):\n    return logsumexp(w * 2.0)\n")
    done = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:f", "-o", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"s2sad: error: {tmp_path / 'model.py'}:6:12: s2sad has no "
                            f"derivative rule for logsumexp() (Python code of scipy")
    assert "@s2sad.custom_vjp" in done.stderr and "site-packages" not in done.stderr
