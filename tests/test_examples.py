"""The example programs in examples/: their gradients and their ``__main__`` blocks.

Every (file, function, wrt) in generated/regenerate.py's TARGETS is
differentiated three ways (``s2sad.grad``, ``s2sad.differentiate(...).grad``
and the module the CLI writes) and each result is checked against central
finite differences to 1e-6 relative. Then every example script runs as
``python examples/X.py`` and must exit 0; the training scripts must print a
loss that goes down. The targets and their sample arguments are in
tests/programs/examples.py, shared with test_generated.py.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import s2sad
import s2sad.cli
from tests.programs.examples import (EXAMPLES, IDS, REGENERATE, ROOT, SAMPLES, SCRIPT_ARGS,
                                     TARGETS, TRAINING,
                                     as_tuple, assert_matches_finite_differences,
                                     example_function, load_path, sample, stem)


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
def test_cli_module_gradient(path, function, wrt, tmp_path, monkeypatch, capsys,
                             restore_sys_path):
    monkeypatch.chdir(ROOT)
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
    result = subprocess.run([sys.executable, os.path.join("examples", script),
                             *SCRIPT_ARGS.get(script, [])], cwd=ROOT,
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
