"""What the CLI differentiates when ``--wrt`` is not given (the API's default: the first
parameter, after a method's ``self`` or a partial's bound arguments), and what
``s2sad grad`` refuses before writing anything (a function whose output is an array
whatever its inputs). The CLI runs as a subprocess; written modules are imported and
compared with the API and with finite differences.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad

TESTS = os.path.dirname(os.path.abspath(__file__))

MODEL = '''\
import functools

import numpy as np


def loss(w, X, y, n=3):
    return np.sum((np.tanh(X @ w) - y) ** 2) * n


def scaled(c, w, X):
    return c * np.sum(np.sin(X @ w))


half = functools.partial(scaled, 0.5)


class Model:
    def __init__(self):
        self.lam = 0.1

    def penalty(self, w, X):
        return np.sum(np.cos(X @ w)) + self.lam * np.sum(w ** 2)


model = Model()
'''

RNG = np.random.default_rng(11)
W, X, Y = RNG.normal(size=3), RNG.normal(size=(4, 3)), RNG.normal(size=4)


def run(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(TESTS)] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    return subprocess.run([sys.executable, "-m", "s2sad"] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path, restore_sys_path):
    (tmp_path / "model.py").write_text(MODEL)
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop("model", None)
    yield tmp_path
    sys.modules.pop("model", None)


# target, the written function's arguments, the API's derivative of the same thing,
# the plain function of w the finite differences take
CASES = {
    "loss": (lambda m: (W, X, Y), lambda m: s2sad.grad(m.loss)(W, X, Y),
             lambda m: (lambda w: m.loss(w, X, Y))),
    "Model.penalty": (lambda m: (m.model, W, X), lambda m: s2sad.grad(m.model.penalty)(W, X),
                      lambda m: (lambda w: m.model.penalty(w, X))),
    "model.penalty": (lambda m: (m.model, W, X), lambda m: s2sad.grad(m.model.penalty)(W, X),
                      lambda m: (lambda w: m.model.penalty(w, X))),
    "half": (lambda m: (0.5, W, X), lambda m: s2sad.grad(m.half)(W, X),
             lambda m: (lambda w: m.half(w, X))),
}


@pytest.mark.parametrize("target", sorted(CASES))
def test_the_cli_differentiates_what_the_api_does_by_default(project, target):
    done = run(["grad", f"model.py:{target}", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    name = target.rsplit(".", 1)[-1]
    path = project / "out" / f"model_{'scaled' if name == 'half' else name}_grad.py"
    text = path.read_text()
    assert "with respect to w." in text  # one parameter: w, never X, y or self
    import model
    arguments, api, plain = (case(model) for case in CASES[target])
    written = load(path, f"written_{name}")
    g = getattr(written, f"grad_{'scaled' if name == 'half' else name}")(*arguments)
    assert isinstance(g, np.ndarray) and g.shape == W.shape
    np.testing.assert_allclose(g, api, rtol=1e-12)
    np.testing.assert_allclose(g, oracle.gradient(plain, (W,), 0), rtol=1e-6, atol=1e-9)


def test_the_forward_module_takes_the_same_default(project):
    done = run(["jvp", "model.py:loss", "-o", "out"], project)
    assert done.returncode == 0, done.stderr
    path = project / "out" / "model_loss_jvp.py"
    assert "with respect to w." in path.read_text()
    written = load(path, "written_loss_jvp")
    import model
    v = RNG.normal(size=3)
    value, tangent = written.jvp_loss(W, X, Y, 3, v)
    assert np.isclose(value, model.loss(W, X, Y))
    expected = oracle.derivative(lambda w: model.loss(w, X, Y), (W,), 0, v)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6)
    _, api = s2sad.jvp(model.loss)(W, X, Y, 3, v)
    np.testing.assert_allclose(tangent, api, rtol=1e-12)


def test_help_states_the_default():
    done = run(["grad", "--help"], TESTS)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "default: the first parameter, after a method's self, as s2sad.grad's wrt=0" in text


# -- s2sad grad of a function that returns an array ------------------------------------------

ARRAYS = '''\
import numpy as np


def stacked(x):
    return np.stack([x, 2 * x])


def broadcast(x):
    y = np.zeros(3) + x
    if np.sum(y) > 0:
        z = y * 2
    else:
        z = np.array([x, x ** 2, 1.0])
    return np.sin(z)


def depends(x):
    return np.tanh(x) * 2.0
'''


@pytest.fixture
def arrays(tmp_path):
    (tmp_path / "arrays.py").write_text(ARRAYS)
    return tmp_path


@pytest.mark.parametrize("func, line, text", [
    ("stacked", 5, "return np.stack([x, 2 * x])"), ("broadcast", 14, "return np.sin(z)")])
def test_grad_of_an_array_valued_function_is_refused_and_writes_nothing(arrays, func, line, text):
    done = run(["grad", f"arrays.py:{func}", "-o", "out"], arrays)
    assert done.returncode == 1
    assert done.stdout == ""
    assert not (arrays / "out").exists()
    lines = done.stderr.splitlines()
    assert lines[0] == (f"s2sad: error: {arrays / 'arrays.py'}:{line}:5: grad needs {func} to "
                        f"return a scalar, but it returns an array whatever its arguments")
    assert lines[1].strip() == text
    assert f"s2sad vjp arrays.py:{func}" in lines[3] and "s2sad.jacobian" in lines[3]


def test_a_rank_that_depends_on_the_arguments_is_checked_when_grad_runs(arrays):
    done = run(["grad", "arrays.py:depends", "-o", "out"], arrays)
    assert done.returncode == 0, done.stderr
    written = load(arrays / "out" / "arrays_depends_grad.py", "arrays_depends_grad")
    assert np.isclose(written.grad_depends(0.3), 2.0 / np.cosh(0.3) ** 2)
    with pytest.raises(ValueError, match="vjp_depends"):
        written.grad_depends(np.array([0.3, 0.4]))


@pytest.mark.parametrize("func", ["stacked", "broadcast"])
def test_s2sad_vjp_writes_the_vector_jacobian_product(arrays, func):
    done = run(["vjp", f"arrays.py:{func}", "-o", "out"], arrays)
    assert done.returncode == 0, done.stderr
    assert done.stdout == os.path.join("out", f"arrays_{func}_vjp.py") + "\n"
    written = load(arrays / "out" / f"arrays_{func}_vjp.py", f"arrays_{func}_vjp")
    assert not hasattr(written, f"grad_{func}")
    sys.path.insert(0, str(arrays))
    try:
        import arrays as module
    finally:
        sys.path.remove(str(arrays))
        sys.modules.pop("arrays", None)
    f, vjp = getattr(module, func), getattr(written, f"vjp_{func}")
    for x in (0.7, -0.4):  # both branches of broadcast
        out_bar = RNG.normal(size=np.shape(f(x)))
        expected = np.sum(out_bar * oracle.gradient(f, (x,), 0))
        assert np.isclose(vjp(x, out_bar), expected, rtol=1e-6)
        value, g = getattr(written, f"value_and_vjp_{func}")(x, out_bar)
        np.testing.assert_allclose(value, f(x), rtol=1e-14)
        assert np.isclose(g, expected, rtol=1e-6)
        # second order: the written vjp differentiated again, in both modes
        second = oracle.gradient(lambda t: vjp(t, out_bar), (x,), 0)
        for mode in ("forward", "reverse"):
            assert np.isclose(s2sad.jacobian(vjp, mode=mode)(x, out_bar), second, rtol=1e-5)


# -- the tools that show a derivative take the same default ----------------------------------

def test_the_tools_at_a_point_take_the_first_parameter(project):
    """trace, graph, cost and explain, in the API and the CLI, differentiate with respect to
    the first parameter (after a bound method's self) when wrt is not given, as grad does;
    each is compared with grad and with finite differences of the loss in w alone."""
    import model
    expected = s2sad.grad(model.loss)(W, X, Y)
    np.testing.assert_allclose(expected, oracle.gradient(model.loss, (W, X, Y), 0), rtol=1e-6)
    t = s2sad.trace(model.loss, W, X, Y)
    assert t.wrt == ["w"]
    np.testing.assert_allclose(t.derivative, expected, rtol=1e-12)
    assert s2sad.trace(model.model.penalty, W, X).wrt == ["w"]
    assert s2sad.cost(model.loss, W, X, Y).n == W.size  # w alone, not X and y too
    drawn, named = s2sad.graph(model.loss, adjoints=True), s2sad.graph(model.loss, wrt=0,
                                                                         adjoints=True)
    assert drawn.dot == named.dot != s2sad.graph(model.loss, wrt=(0, 1), adjoints=True).dot
    assert s2sad.explain(model.loss, W, X, Y).html == s2sad.explain(model.loss, W, X, Y,
                                                                    wrt="w").html
    at = ["--at", "w=[0.1,0.2,0.3],X=[[1,2,3]],y=[0.5]"]
    for command in (["trace"], ["cost"], ["graph", "--adjoints"]):
        default = run(command + ["model.py:loss"] + at, project)
        named = run(command + ["model.py:loss", "--wrt", "w"] + at, project)
        assert default.returncode == 0 and default.stdout == named.stdout, default.stderr
    done = run(["trace", "model.py:loss"] + at, project)
    assert "with respect to w)" in done.stdout
    for command in ("trace", "graph", "cost", "explain"):
        text = " ".join(run([command, "--help"], TESTS).stdout.split())
        assert "default: the first parameter" in text and "every float" not in text
