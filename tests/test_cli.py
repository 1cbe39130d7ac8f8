"""The command line, run as a subprocess: ``python -m s2sad ...`` and the ``s2sad`` script.

Written modules are imported in a fresh interpreter in which ``import s2sad``
fails, so they are checked to run with NumPy alone, and their gradients are
compared with central finite differences.
"""

import ast
import importlib.util
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import s2sad
from s2sad.cli import parser

TESTS = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(TESTS, "fixtures")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "s2sad")

MODEL = '''\
import numpy as np

SCALE = 0.5


def weighted(x, w, scale=2.0):
    """A scalar loss with a parameter that has a default."""
    z = np.sin(x) * w
    return scale * np.sum(z) + SCALE * np.sum(x * x)


def square(t):
    s = t * t  # two statements: a helper of its own, not inlined (inline/small.py)
    return s


def calls_helper(x):
    return np.sum(square(np.tanh(x)))


if __name__ == "__main__":
    print("the main block ran")
    raise SystemExit(3)
'''


def run(args, cwd, script=False):
    command = [SCRIPT] if script else [sys.executable, "-m", "s2sad"]
    return subprocess.run(command + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def run_numpy_only(code, cwd):
    """Run ``code`` in a fresh interpreter where importing s2sad fails."""
    prologue = "import sys\nsys.modules['s2sad'] = None\nsys.path.insert(0, '.')\n"
    return subprocess.run([sys.executable, "-c", prologue + textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def signatures(path):
    """``{function name: [parameter names]}`` of a Python file."""
    tree = ast.parse(open(path).read())
    return {node.name: [a.arg for a in node.args.args] for node in tree.body
            if isinstance(node, ast.FunctionDef)}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


# ----------------------------------------------------------------------------
# s2sad grad


def test_grad_writes_the_module_and_prints_its_path(project):
    done = run(["grad", "model.py:weighted", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    path = os.path.join("out", "model_weighted_grad.py")
    assert done.stdout == path + "\n"
    assert done.stderr == ""
    assert sorted(os.listdir(project / "out")) == ["model_weighted_grad.py"]
    functions = signatures(project / path)
    assert functions["grad_weighted"] == ["x", "w", "scale"]
    assert functions["value_and_grad_weighted"] == ["x", "w", "scale"]
    assert functions["vjp_weighted"] == ["x", "w", "scale", "out_bar"]


def test_written_module_runs_with_numpy_alone_and_matches_finite_differences(project):
    done = run(["grad", "model.py:weighted", "--wrt", "x,w", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    code = f"""\
        import numpy as np
        sys.path[:0] = ['out', {TESTS!r}]
        import model, model_weighted_grad as gen, oracle  # the oracle needs numpy only
        rng = np.random.default_rng(0)
        x, w = rng.standard_normal(4), rng.standard_normal(4)
        gx, gw = gen.grad_weighted(x, w, 2.0)
        for i, g in ((0, gx), (1, gw)):
            fd = oracle.gradient(model.weighted, (x, w), i, h=1e-6)
            for k in range(4):
                assert abs(fd[k] - g[k]) < 1e-6 * max(1, abs(fd[k])), (i, k, fd[k], g[k])
        value, (gx2, gw2) = gen.value_and_grad_weighted(x, w, 2.0)
        assert np.isclose(value, model.weighted(x, w)) and np.allclose(gx2, gx)
        vx, vw = gen.vjp_weighted(x, w, 2.0, 3.0)
        assert np.allclose(vx, 3 * gx) and np.allclose(vw, 3 * gw)
        print("ok")
        """
    checked = run_numpy_only(code, project)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "ok\n"


@pytest.mark.parametrize("wrt, names", [
    (None, ("x",)), ("x", ("x",)), ("x,w", ("x", "w")), ("w, x", ("w", "x")),
    ("scale", ("scale",)), ("0,2", ("x", "scale")), ("-1", ("scale",)),
])
def test_wrt_option(project, wrt, names, monkeypatch):
    args = ["grad", "model.py:weighted", "-o", "out"] + (["--wrt", wrt] if wrt else [])
    done = run(args, project)
    assert done.returncode == 0, done.stderr
    text = (project / "out" / "model_weighted_grad.py").read_text()
    assert f"with respect to {', '.join(names)}." in text
    # the module reads SCALE from model when it runs; a stand-in module keeps this quick
    # (NumPy-only imports and reading the real module are checked in other tests)
    assert "import model\n" in text and "model.SCALE" in text
    monkeypatch.setitem(sys.modules, "model", types.SimpleNamespace(SCALE=0.5))
    namespace = {}
    exec(compile(text, "model_weighted_grad.py", "exec"), namespace)
    x, w = np.array([0.3, 1.2]), np.array([-0.5, 2.0])
    expected = {"x": 2.0 * np.cos(x) * w + x, "w": 2.0 * np.sin(x),
                "scale": np.sum(np.sin(x) * w)}
    result = namespace["grad_weighted"](x, w, 2.0)
    if len(names) == 1:
        assert not isinstance(result, tuple)
        result = (result,)
    assert len(result) == len(names)
    for name, g in zip(names, result):
        assert np.allclose(g, expected[name]), (name, g)


def test_output_directory_defaults_to_generated_and_is_created(project):
    done = run(["grad", "model.py:calls_helper"], project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == os.path.join("generated", "model_calls_helper_grad.py") + "\n"
    assert (project / "generated" / "model_calls_helper_grad.py").is_file()
    nested = project / "a" / "b"
    done = run(["grad", "model.py:calls_helper", "-o", str(nested)], project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == str(nested / "model_calls_helper_grad.py") + "\n"
    assert os.listdir(nested) == ["model_calls_helper_grad.py"]


def test_file_in_another_directory(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    done = run(["grad", f"{project / 'model.py'}:calls_helper", "-o", "out"], elsewhere)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "out" / "model_calls_helper_grad.py").is_file()


def test_helpers_are_written_into_the_module_and_globals_read_from_the_users(project):
    run(["grad", "model.py:calls_helper", "-o", "out"], project)
    run(["grad", "model.py:weighted", "--wrt", "x", "-o", "out"], project)
    helper = (project / "out" / "model_calls_helper_grad.py").read_text()
    assert "def square(t):" in helper and "def bwd_square(" in helper
    code = """\
        import numpy as np
        sys.path.insert(0, 'out')
        import model_calls_helper_grad as h, model_weighted_grad as w
        import model
        x = np.array([0.3, -1.1])
        t = np.tanh(x)
        assert np.allclose(h.grad_calls_helper(x), 2 * t * (1 - t * t))
        assert not hasattr(w, "SCALE")  # read from model when it runs, never a copy
        assert np.allclose(w.grad_weighted(x, 1.0, 2.0), 2 * np.cos(x) + x)
        model.SCALE = 3.0
        assert np.allclose(w.grad_weighted(x, 1.0, 2.0), 2 * np.cos(x) + 6 * x)
        print("ok")
        """
    checked = run_numpy_only(code, project)
    assert checked.returncode == 0, checked.stderr


def test_the_main_block_of_the_file_is_not_run(project):
    done = run(["ssa", "model.py:square"], project)
    assert done.returncode == 0, done.stderr
    assert "the main block ran" not in done.stdout + done.stderr


def test_file_in_a_package_with_relative_imports(tmp_path):
    path = os.path.join(FIXTURES, "apifix", "model.py")
    done = run(["grad", f"{path}:loss", "--wrt", "x,w", "-o", "out"], tmp_path)
    assert done.returncode == 0, done.stderr
    code = """\
        import numpy as np
        sys.path.insert(0, 'out')
        import model_loss_grad as gen
        x, w = np.array([0.3, -1.1]), np.array([2.0, 0.5])
        gx, gw = gen.grad_loss(x, w)
        assert np.allclose(gx, 2 * x * w * w + 1 / (1 + np.exp(-x)))
        assert np.allclose(gw, 2 * x * x * w)
        print("ok")
        """
    checked = run_numpy_only(code, tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_rewriting_a_module_replaces_it_atomically(project):
    run(["grad", "model.py:weighted", "--wrt", "x", "-o", "out"], project)
    done = run(["grad", "model.py:weighted", "--wrt", "w", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    assert os.listdir(project / "out") == ["model_weighted_grad.py"]  # no temporary left
    assert "with respect to w." in (project / "out" / "model_weighted_grad.py").read_text()


# ----------------------------------------------------------------------------
# s2sad ssa, s2sad rules


def test_ssa_prints_the_listing(project):
    done = run(["ssa", "model.py:weighted"], project)
    assert done.returncode == 0, done.stderr
    path = str(project / "model.py")
    assert done.stdout == textwrap.dedent(f"""\
        def weighted(x, w, scale=2.0):    # {path}:6
            SCALE = model.SCALE  # line 9: return scale * np.sum(z) + SCALE * np.sum(x * x)
            v1 = np.sin(x)       # line 8: z = np.sin(x) * w
            z = mul(v1, w)       # line 8
            v2 = np.sum(z)       # line 9: return scale * np.sum(z) + SCALE * np.sum(x * x)
            v3 = mul(scale, v2)  # line 9
            v4 = mul(x, x)       # line 9
            v5 = np.sum(v4)      # line 9
            v6 = mul(SCALE, v5)  # line 9
            out = add(v3, v6)    # line 9
            return out           # line 9
        """)
    assert not (project / "generated").exists()


def test_rules_lists_the_primitives():
    done = run(["rules"], os.getcwd())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    names = {line.split()[0] for line in lines}
    assert {"add", "mul", "matmul", "np.exp", "np.sin", "np.sum", "np.tanh"} <= names
    assert "np.fft.fft" not in names and "np.nanmedian" not in names and "np.median" in names
    assert lines == sorted(lines, key=lambda line: line.split()[0])
    for line in lines:
        assert len(line.split()) >= 2, line


# ----------------------------------------------------------------------------
# help, version, and the two ways to run the command


def _subcommands():
    actions = [a for a in parser()._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(actions[0].choices)


def test_every_documented_subcommand_exists():
    assert {"grad", "ssa", "rules"} <= set(_subcommands())


@pytest.mark.parametrize("args", [["--help"], ["-h"]] + [[c, "--help"] for c in _subcommands()],
                         ids=" ".join)
def test_help(args):
    done = run(args, os.getcwd())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: s2sad")
    if len(args) == 2:
        assert done.stdout.startswith(f"usage: s2sad {args[0]}")
    else:
        for command in _subcommands():
            assert command in done.stdout


def test_grad_help_documents_the_options():
    done = run(["grad", "--help"], os.getcwd())
    for option in ("--wrt", "-o", "FILE.py:FUNC"):
        assert option in done.stdout


def test_version():
    done = run(["--version"], os.getcwd())
    assert done.returncode == 0
    assert done.stdout.strip() == f"s2sad {s2sad.__version__}"


def test_no_command_is_a_usage_error(tmp_path):
    done = run([], tmp_path)
    assert done.returncode == 2
    assert "usage: s2sad" in done.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not os.path.exists(SCRIPT), reason="the s2sad console script is not installed")
def test_console_script_and_python_m_behave_the_same(project):
    for args in (["ssa", "model.py:weighted"], ["grad", "--help"], ["ssa", "model.py:missing"]):
        module, script = run(args, project), run(args, project, script=True)
        assert (script.returncode, script.stdout, script.stderr) == \
            (module.returncode, module.stdout, module.stderr), args
    a = run(["grad", "model.py:weighted", "-o", "a"], project)
    b = run(["grad", "model.py:weighted", "-o", "b"], project, script=True)
    assert a.returncode == b.returncode == 0
    assert (project / "a" / "model_weighted_grad.py").read_text() == \
        (project / "b" / "model_weighted_grad.py").read_text()


def test_cli_module_matches_the_api_source(project, monkeypatch):
    done = run(["grad", "model.py:weighted", "--wrt", "x,w", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    spec = importlib.util.spec_from_file_location("model", project / "model.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "model", module)  # both read model.SCALE from "model"
    spec.loader.exec_module(module)
    assert s2sad.source(module.weighted, wrt=("x", "w")) == \
        (project / "out" / "model_weighted_grad.py").read_text()


def test_written_entry_points_keep_parameter_defaults(project, monkeypatch):
    done = run(["grad", "model.py:weighted", "--wrt", "x,w", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    text = (project / "out" / "model_weighted_grad.py").read_text()
    assert "def grad_weighted(x, w, scale=2.0):" in text
    assert "def value_and_grad_weighted(x, w, scale=2.0):" in text
    monkeypatch.setitem(sys.modules, "model", types.SimpleNamespace(SCALE=0.5))
    namespace = {}
    exec(compile(text, "model_weighted_grad.py", "exec"), namespace)
    x, w = np.array([0.3, 1.2]), np.array([-0.5, 2.0])
    gx, gw = namespace["grad_weighted"](x, w)
    assert np.allclose(gx, 2.0 * np.cos(x) * w + x) and np.allclose(gw, 2.0 * np.sin(x))
    _, (gx2, _) = namespace["value_and_grad_weighted"](x, w)
    assert np.allclose(gx2, gx)


def test_the_readme_main_job_writes_the_committed_module(tmp_path):
    """The README's main command (its ``s2sad grad ...`` part) writes exactly the module
    committed in generated/, so a user running it sees what the repository shows."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "README.md"), encoding="utf-8") as handle:
        line = next(text for text in handle
                    if text.strip().startswith("python -m pip install -e ."))
    command = line.split("&&")[1].split()
    assert command[:2] == ["s2sad", "grad"] and command[-2] == "-o", command
    done = run(command[1:-2] + ["-o", str(tmp_path)], root)
    assert done.returncode == 0, done.stderr
    name = os.path.basename(line.split("&&")[2].split()[-1])
    with open(os.path.join(root, "generated", name), encoding="utf-8") as handle:
        assert (tmp_path / name).read_text() == handle.read()
