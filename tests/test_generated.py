"""The committed modules in generated/: up to date, and importable with NumPy (and the example
they were made from, when they read its globals).

Each (file, function, wrt) in generated/regenerate.py's TARGETS is written
again by ``python -m s2sad grad ...`` into a temporary directory and must be
identical to the committed file. Each committed module is then imported by
path in a fresh interpreter in which ``import s2sad`` fails, and its
``grad_<f>``, ``value_and_grad_<f>`` and ``vjp_<f>`` are called on sample
arguments; the results come back through an .npz file and are checked
against finite differences here.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.programs.examples import (IDS, REGENERATE, ROOT, TARGETS, as_tuple,
                                     assert_matches_finite_differences, example_function, sample)

GENERATED = os.path.join(ROOT, "generated")


def committed(path, function):
    return os.path.join(GENERATED, REGENERATE.output_name(path, function))


def shell(argv):
    return " ".join(["python"] + argv[1:])


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_committed_module_is_up_to_date(path, function, wrt, tmp_path):
    argv = REGENERATE.command(path, function, wrt, output=str(tmp_path))
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{shell(argv)} failed:\n{result.stderr}"
    fresh = (tmp_path / REGENERATE.output_name(path, function)).read_text(encoding="utf-8")
    target = committed(path, function)
    how = ("regenerate generated/ with `python generated/regenerate.py` (this file alone: "
           f"`{shell(REGENERATE.command(path, function, wrt))}`) and commit the result")
    assert os.path.exists(target), f"{os.path.relpath(target, ROOT)} is missing; {how}"
    with open(target, encoding="utf-8") as handle:
        assert handle.read() == fresh, f"{os.path.relpath(target, ROOT)} is out of date; {how}"


@pytest.mark.parametrize("path, function, wrt", REGENERATE.JVP_TARGETS,
                         ids=[f"{os.path.basename(p)}:{f}" for p, f, _ in REGENERATE.JVP_TARGETS])
def test_committed_forward_module_is_up_to_date(path, function, wrt, tmp_path):
    argv = REGENERATE.command(path, function, wrt, output=str(tmp_path), mode="jvp")
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{shell(argv)} failed:\n{result.stderr}"
    name = REGENERATE.output_name(path, function, mode="jvp")
    with open(os.path.join(GENERATED, name), encoding="utf-8") as handle:
        assert handle.read() == (tmp_path / name).read_text(encoding="utf-8"), (
            f"generated/{name} is out of date; run `python generated/regenerate.py` and commit")


@pytest.mark.parametrize("path, function, wrt", REGENERATE.PLAIN_TARGETS,
                         ids=[f"{os.path.basename(p)}:{f}" for p, f, _ in REGENERATE.PLAIN_TARGETS])
def test_committed_plain_module_is_up_to_date(path, function, wrt, tmp_path):
    argv = REGENERATE.command(path, function, wrt, output=str(tmp_path), plain=True)
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{shell(argv)} failed:\n{result.stderr}"
    name = REGENERATE.output_name(path, function)
    with open(os.path.join(GENERATED, "plain", name), encoding="utf-8") as handle:
        assert handle.read() == (tmp_path / name).read_text(encoding="utf-8"), (
            f"generated/plain/{name} is out of date; run `python generated/regenerate.py`")


def test_no_stale_modules():
    expected = {REGENERATE.output_name(p, f) for p, f, _ in TARGETS} | {"regenerate.py"}
    expected |= {REGENERATE.output_name(p, f, "jvp") for p, f, _ in REGENERATE.JVP_TARGETS}
    present = {name for name in os.listdir(GENERATED) if name.endswith(".py")}
    plain = {REGENERATE.output_name(p, f) for p, f, _ in REGENERATE.PLAIN_TARGETS}
    assert set(os.listdir(os.path.join(GENERATED, "plain"))) == plain
    assert present == expected, (f"generated/ should hold exactly {sorted(expected)}; remove the "
                                 f"others or add them to TARGETS in generated/regenerate.py")


# Runs in a fresh interpreter: s2sad cannot be imported, the module is loaded by path; the
# example's own module is importable (a module reading its globals imports it, as written).
RUNNER = textwrap.dedent("""
    import importlib, importlib.util, re, sys
    import numpy as np

    module_path, function, inputs, outputs, user_directory = sys.argv[1:]
    sys.path.insert(0, user_directory)
    # the example the module reads globals from is imported first (it may use s2sad itself)
    for name in re.findall(r"^import (\\w+)$", open(module_path).read(), re.MULTILINE):
        if name not in ("numpy", "math"):
            importlib.import_module(name)
    for name in [n for n in sys.modules if n.split(".")[0] == "s2sad"]:
        del sys.modules[name]
    sys.modules["s2sad"] = None  # any `import s2sad` now raises ImportError
    spec = importlib.util.spec_from_file_location("generated_module", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = np.load(inputs)
    args = [a.item() if a.ndim == 0 else a for a in (data[f"arg{i}"] for i in range(len(data)))]

    def tup(r):
        return r if isinstance(r, tuple) else (r,)

    grad = tup(getattr(module, "grad_" + function)(*args))
    value, grad2 = getattr(module, "value_and_grad_" + function)(*args)
    vjp = tup(getattr(module, "vjp_" + function)(*args, 0.5))
    results = {"value": value}
    for i, (g, g2, v) in enumerate(zip(grad, tup(grad2), vjp)):
        results.update({f"grad{i}": g, f"value_and_grad{i}": g2, f"vjp{i}": v})
    np.savez(outputs, **results)
    print("ok", sorted(name for name in sys.modules if name.split(".")[0] == "s2sad"))
""")


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_committed_module_runs_without_s2sad(path, function, wrt, tmp_path):
    args = sample(path, function)
    inputs, outputs = tmp_path / "inputs.npz", tmp_path / "outputs.npz"
    np.savez(inputs, **{f"arg{i}": np.asarray(a) for i, a in enumerate(args)})
    argv = [sys.executable, "-c", RUNNER, committed(path, function), function, str(inputs),
            str(outputs), os.path.dirname(os.path.abspath(os.path.join(ROOT, path)))]
    result = subprocess.run(argv, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"generated/{os.path.basename(argv[3])}:\n{result.stderr}"
    assert result.stdout.split("\n")[0] == "ok ['s2sad']"  # only the blocked entry
    fn = example_function(path, function)
    with np.load(outputs) as results:
        assert np.isclose(results["value"], fn(*args), rtol=1e-12)
        n = len(wrt)
        for kind in ("grad", "value_and_grad"):
            gradient = tuple(results[f"{kind}{i}"] for i in range(n))
            assert_matches_finite_differences(fn, args, wrt, gradient, f"{kind}_{function}")
            assert f"{kind}{n}" not in results
        vjp = tuple(results[f"vjp{i}"] / 0.5 for i in range(n))
        assert_matches_finite_differences(fn, args, wrt, as_tuple(vjp), f"vjp_{function} / 0.5")
