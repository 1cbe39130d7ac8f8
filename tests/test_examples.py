"""The example programs in examples/: their gradients and their ``__main__`` blocks.

Every (file, function, wrt) in generated/regenerate.py's TARGETS is
differentiated three ways (``s2sad.grad``, ``s2sad.differentiate(...).grad``
and the module the CLI writes) and each result is checked against central
finite differences to 1e-6 relative. Then every example script runs as
``python examples/X.py`` and must exit 0; the training scripts must print a
loss that goes down. ``SAMPLES`` and :func:`numerical_gradient` are shared
with test_generated.py.
"""

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import s2sad
import s2sad.cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def load_path(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGENERATE = load_path(os.path.join(ROOT, "generated", "regenerate.py"), "s2sad_regenerate")
TARGETS = REGENERATE.TARGETS


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _rng():
    return np.random.default_rng(12345)


# Sample arguments for each target, in the function's parameter order, inside its domain.
SAMPLES = {
    ("lecture", "f"): lambda rng: (2.0, 3.0),
    ("sqrt_exp", "f"): lambda rng: (0.8,),
    ("sum_product", "f"): lambda rng: (-2.0, 5.0, -4.0),
    ("neuron", "neuron"): lambda rng: (2.0, -1.0, -3.0, -2.0, -3.0),
    ("gaussian_nll", "nll"): lambda rng: (0.3, 1.7, rng.normal(1.0, 2.0, size=20)),
    ("two_layer", "loss"): lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal((2, 4)),
                                        rng.standard_normal((3, 10)),
                                        rng.standard_normal((2, 10))),
    ("mlp", "loss"): lambda rng: (rng.standard_normal((2, 5)), rng.standard_normal(5),
                                  rng.standard_normal((5, 1)), rng.standard_normal(1),
                                  rng.standard_normal((7, 2)), rng.standard_normal((7, 1))),
    ("rnn_training", "loss"): lambda rng: (rng.standard_normal((4, 4)) * 0.5,
                                           rng.standard_normal((4, 2)), rng.standard_normal(4),
                                           rng.standard_normal((6, 2)), rng.standard_normal(6)),
    ("euler_ode", "euler"): lambda rng: (0.8, 2.0, 3.0, 50),
    ("newton_sqrt", "newton_sqrt"): lambda rng: (2.0,),
    ("residual_net", "loss"): lambda rng: (rng.standard_normal((3, 2, 3)) * 0.5,
                                           rng.standard_normal((3, 3, 2)),
                                           rng.standard_normal((2, 5)),
                                           rng.standard_normal((2, 5))),
    ("newton_cg", "loss"): lambda rng: (rng.standard_normal(3) * 0.3, rng.standard_normal((20, 3)),
                                        (rng.random(20) > 0.5).astype(float)),
    ("attention", "loss"): lambda rng: (
        rng.standard_normal((3, 2, 4)) * 0.5,  # Wc: 3 taps, 2 channels in, width 4
        rng.standard_normal(4) * 0.1, 1.0 + rng.standard_normal(4) * 0.1,  # bc, gain
        rng.standard_normal(4) * 0.1,  # bias
        *(rng.standard_normal((4, 4)) * 0.5 for _ in range(3)),  # Wq, Wk, Wv
        rng.standard_normal(4), rng.standard_normal((3, 6, 2)), rng.standard_normal(3)),
}

# examples whose __main__ prints a loss that must go down
TRAINING = {"two_layer", "mlp", "attention"}


def sample(path, function):
    return SAMPLES[(stem(path), function)](_rng())


def example_function(path, function):
    module = load_path(os.path.join(ROOT, path), f"s2sad_example_{stem(path)}")
    return getattr(module, function)


def numerical_gradient(fn, args, position, h=1e-5):
    """Central differences of scalar ``fn(*args)`` with respect to ``args[position]``."""
    x = np.array(args[position], dtype=float)
    gradient = np.zeros_like(x)

    def at(value):
        moved = list(args)
        moved[position] = float(value) if x.ndim == 0 else value
        return fn(*moved)

    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[i]))
        plus, minus = x.copy(), x.copy()
        plus[i] += step
        minus[i] -= step
        gradient[i] = (at(plus) - at(minus)) / (2 * step)
    return gradient


def assert_matches_finite_differences(fn, args, wrt, gradients, label):
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    assert len(gradients) == len(wrt), label
    for name, gradient in zip(wrt, gradients):
        numeric = numerical_gradient(fn, args, names.index(name))
        assert np.shape(gradient) == np.shape(numeric), f"{label}: shape of d/d{name}"
        scale = np.max(np.abs(numeric))
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6 * scale,
                                   err_msg=f"{label}: d/d{name} disagrees with finite differences")


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


IDS = [f"{stem(path)}:{function}" for path, function, _ in TARGETS]


def test_every_target_has_sample_arguments():
    assert {(stem(p), f) for p, f, _ in TARGETS} == set(SAMPLES)


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_api_gradient(path, function, wrt):
    fn = example_function(path, function)
    args = sample(path, function)
    gradient = s2sad.grad(fn, wrt=wrt)(*args)
    assert_matches_finite_differences(fn, args, wrt, gradient, "s2sad.grad")
    value, gradient = s2sad.value_and_grad(fn, wrt=wrt)(*args)
    assert np.isclose(value, fn(*args), rtol=1e-12)
    assert_matches_finite_differences(fn, args, wrt, gradient, "s2sad.value_and_grad")


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_decorator_gradient(path, function, wrt):
    fn = example_function(path, function)
    args = sample(path, function)
    decorated = s2sad.differentiate(fn, wrt=wrt)
    assert decorated(*args) == fn(*args)
    assert_matches_finite_differences(fn, args, wrt, decorated.grad(*args), "@differentiate")


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_cli_module_gradient(path, function, wrt, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the CLI puts examples/ on sys.path
    argv = REGENERATE.command(path, function, wrt, output=str(tmp_path))[3:]  # after "-m s2sad"
    assert s2sad.cli.main(argv) == 0
    written = tmp_path / REGENERATE.output_name(path, function)
    assert capsys.readouterr().out.strip() == str(written)
    module = load_path(str(written), f"s2sad_cli_{stem(path)}_{function}")
    fn = example_function(path, function)
    args = sample(path, function)
    gradient = as_tuple(getattr(module, f"grad_{function}")(*args))
    assert_matches_finite_differences(fn, args, wrt, gradient, f"CLI module {written.name}")


def example_scripts():
    return sorted(name for name in os.listdir(EXAMPLES) if name.endswith(".py"))


def test_every_example_is_differentiated():
    differentiated = TARGETS + REGENERATE.JVP_TARGETS
    assert {stem(p) for p, _, _ in differentiated} == {stem(name) for name in example_scripts()}


@pytest.mark.parametrize("script", example_scripts())
def test_example_runs(script):
    result = subprocess.run([sys.executable, os.path.join("examples", script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"python examples/{script} failed:\n{result.stderr}"
    assert result.stdout.strip(), f"python examples/{script} printed nothing"
    losses = [float(v) for v in re.findall(r"\bloss\s+([-+0-9.eE]+)", result.stdout)]
    if stem(script) in TRAINING:
        assert len(losses) >= 3, f"examples/{script} printed no losses:\n{result.stdout}"
        assert all(b <= a for a, b in zip(losses, losses[1:])), \
            f"examples/{script}: the loss went up:\n{result.stdout}"
        assert losses[-1] < 0.1 * losses[0], \
            f"examples/{script}: the loss barely went down:\n{result.stdout}"
