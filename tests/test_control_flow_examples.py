"""The control-flow examples: RNN training, Euler's method, Newton's sqrt, a residual network.

Each example's differentiated function is checked against central finite
differences and, where there is one, against its closed-form derivative;
through the API, the decorator and the module the CLI writes. Each script
runs in a subprocess and must exit 0; the training scripts must print a loss
that goes down.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import s2sad
import s2sad.cli
import oracle
from tests.programs.examples import ROOT, load_path

SCRIPTS = ["rnn_training.py", "euler_ode.py", "newton_sqrt.py", "residual_net.py"]


def example(script):
    return load_path(os.path.join(ROOT, "examples", script), f"s2sad_cf_example_{script[:-3]}")


rnn_training = example("rnn_training.py")
euler_ode = example("euler_ode.py")
newton_sqrt = example("newton_sqrt.py")
residual_net = example("residual_net.py")


def assert_gradients(fn, args, positions, gradients, rtol=1e-6):
    assert len(gradients) == len(positions)
    for position, gradient in zip(positions, gradients):
        numeric = oracle.gradient(fn, args, position, h=1e-6, relative=True)
        assert np.shape(gradient) == np.shape(numeric)
        np.testing.assert_allclose(gradient, numeric, rtol=rtol,
                                   atol=rtol * max(1.0, np.max(np.abs(numeric))))


# -- rnn_training -------------------------------------------------------------------------------

def rnn_arguments(seed=3):
    rng = np.random.default_rng(seed)
    (xs, ys), = rnn_training.teacher_data(rng, hidden=4, inputs=2, steps=6, sequences=1)
    W, U, v = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((4, 2)), \
        rng.standard_normal(4)
    return W, U, v, xs, ys


def test_rnn_gradient_matches_finite_differences():
    args = rnn_arguments()
    gradients = s2sad.grad(rnn_training.loss, wrt=("W", "U", "v"))(*args)
    assert_gradients(rnn_training.loss, args, (0, 1, 2), gradients)
    s2sad.check_grads(rnn_training.loss, args, wrt=(0, 1, 2), modes=("reverse",))


def test_rnn_value_and_grad_returns_the_loss():
    args = rnn_arguments()
    value, _ = s2sad.value_and_grad(rnn_training.loss, wrt=("W", "U", "v"))(*args)
    assert value == pytest.approx(rnn_training.loss(*args), rel=1e-12)


def test_rnn_training_lowers_the_loss():
    losses = rnn_training.train(steps=40, report=20)
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]


# -- euler_ode ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 10, 1000])
def test_euler_gradient_is_the_sensitivity_of_the_recursion(n):
    k, y0, t_end = 0.8, 2.0, 3.0
    k_bar, y0_bar = s2sad.grad(euler_ode.euler, wrt=("k", "y0"))(k, y0, t_end, n)
    recursion_k, recursion_y0 = euler_ode.euler_sensitivity(k, y0, t_end, n)
    assert k_bar == pytest.approx(recursion_k, rel=1e-12)
    assert y0_bar == pytest.approx(recursion_y0, rel=1e-12)
    assert_gradients(euler_ode.euler, (k, y0, t_end, n), (0, 1), (k_bar, y0_bar))


def test_euler_gradient_converges_to_the_exact_sensitivity_at_first_order():
    k, y0, t_end = 0.8, 2.0, 3.0
    exact = euler_ode.exact_sensitivity(k, y0, t_end)
    d_euler = s2sad.grad(euler_ode.euler)
    errors = [abs(d_euler(k, y0, t_end, n) - exact) for n in (100, 1000, 10000)]
    for coarse, fine in zip(errors, errors[1:]):
        assert 0.08 < fine / coarse < 0.12  # error O(h): ten times more steps, a tenth the error


def test_euler_with_zero_steps_is_rejected_by_python():
    with pytest.raises(ZeroDivisionError):
        s2sad.grad(euler_ode.euler)(0.8, 2.0, 3.0, 0)


def test_euler_value_and_grad_returns_the_value():
    value, _ = s2sad.value_and_grad(euler_ode.euler)(0.8, 2.0, 3.0, 10)
    assert value == pytest.approx(euler_ode.euler(0.8, 2.0, 3.0, 10), rel=1e-12)


# -- newton_sqrt ----------------------------------------------------------------------------------

A_VALUES = [0.01, 0.5, 1.0, 2.0, 10.0, 1e3, 1e6]


@pytest.mark.parametrize("a", A_VALUES)
def test_newton_derivative_is_that_of_sqrt(a):
    derivative = s2sad.grad(newton_sqrt.newton_sqrt)(a)
    assert derivative == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
    numeric = oracle.gradient(newton_sqrt.newton_sqrt, (a,), 0, h=1e-7, relative=True)
    assert derivative == pytest.approx(float(numeric), rel=1e-5)


def test_newton_trip_count_follows_the_input():
    trips = [newton_sqrt.newton_iterations(a) for a in A_VALUES]
    assert trips[A_VALUES.index(1.0)] == 0  # the start value is the root: the loop never runs
    assert len(set(trips)) >= 5


def test_newton_through_decorator_and_cli(tmp_path, monkeypatch, capsys, restore_sys_path):
    decorated = s2sad.differentiate(newton_sqrt.newton_sqrt)
    assert decorated(4.0) == pytest.approx(2.0)
    assert decorated.grad(4.0) == pytest.approx(0.25, rel=1e-12)
    monkeypatch.chdir(ROOT)
    assert s2sad.cli.main(["grad", "examples/newton_sqrt.py:newton_sqrt", "-o",
                           str(tmp_path)]) == 0
    written = tmp_path / "newton_sqrt_newton_sqrt_grad.py"
    assert capsys.readouterr().out.strip() == str(written)
    module = load_path(str(written), "s2sad_cf_cli_newton")
    for a in (0.3, 1.0, 7.0):
        assert module.grad_newton_sqrt(a) == pytest.approx(0.5 / np.sqrt(a), rel=1e-10)
    text = written.read_text()
    assert "while " in text and "tape.pop()" in text and "import s2sad" not in text


def test_newton_value_and_grad_returns_the_value():
    value, derivative = s2sad.value_and_grad(newton_sqrt.newton_sqrt)(2.0)
    assert derivative == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-10)
    assert value == pytest.approx(np.sqrt(2.0), rel=1e-12)


# -- residual_net ---------------------------------------------------------------------------------

def residual_arguments(seed=5):
    rng = np.random.default_rng(seed)
    return residual_net.problem(rng, d=2, m=3, layers=3, samples=5)


def test_residual_gradient_matches_finite_differences():
    args = residual_arguments()
    gradients = s2sad.grad(residual_net.loss, wrt=("U", "V"))(*args)
    assert_gradients(residual_net.loss, args, (0, 1), gradients)
    s2sad.check_grads(residual_net.loss, args, wrt=(0, 1), modes=("reverse",))


def test_residual_value_and_grad_returns_the_loss():
    args = residual_arguments()
    value, _ = s2sad.value_and_grad(residual_net.loss, wrt=("U", "V"))(*args)
    assert value == pytest.approx(residual_net.loss(*args), rel=1e-12)


def test_residual_layers_get_their_own_adjoint_slices():
    U, V, X, Y = residual_arguments()
    U_bar, V_bar = s2sad.grad(residual_net.loss, wrt=("U", "V"))(U, V, X, Y)
    # a network of the first two layers only: the third layer's slice is zero
    U2_bar, V2_bar = s2sad.grad(residual_net.loss, wrt=("U", "V"))(U[:2], V[:2], X, Y)
    assert U2_bar.shape == (2,) + U.shape[1:]
    assert np.all(U_bar != 0) and np.all(U2_bar != 0)
    assert not np.allclose(U_bar[:2], U2_bar)  # the third layer changes the earlier ones' adjoints


# -- the scripts --------------------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs(script):
    result = subprocess.run([sys.executable, os.path.join("examples", script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"python examples/{script} failed:\n{result.stderr}"
    assert result.stdout.strip()
    assert "Warning" not in result.stderr, result.stderr
    losses = [float(v) for v in re.findall(r"\bloss\s+([-+0-9.eE]+)", result.stdout)]
    if script in ("rnn_training.py", "residual_net.py"):
        assert len(losses) >= 3, result.stdout
        assert all(b < a for a, b in zip(losses, losses[1:])), result.stdout
        assert losses[-1] < 0.1 * losses[0], result.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_has_a_docstring_and_main_block(script):
    with open(os.path.join(ROOT, "examples", script), encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith('"""')
    assert '\nif __name__ == "__main__":\n' in text
