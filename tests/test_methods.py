"""``self.method(x)`` inside a method being differentiated: the call of the class's own
function (s2sad/methods.py), checked against finite differences in both modes and at
order 2, for bound methods, ``Class.method`` with ``self`` passed, and the CLI; an object
whose class overrides the method is a ``UsageError``, never the wrong derivative."""

import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(8)
W = RNG.normal(size=(3, 3))
X, Y, V = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)


class Model:
    """A model whose loss calls its own methods, one of which calls another."""

    def __init__(self, W):
        self.W = W
        self.lam = 0.1

    def predict(self, x):
        return np.tanh(self.W @ x)

    def penalty(self, x):
        return self.lam * np.sum(x ** 2)

    def loss(self, x, y):
        """The loss."""
        return np.sum((self.predict(x) - y) ** 2) + self.penalty(x)

    def twice(self, x, y):
        return self.loss(x, y) + self.loss(2.0 * x, y)


class Same(Model):
    pass


class Other(Model):
    def predict(self, x):
        return np.sin(self.W @ x)


def plain_loss(x, y):
    return np.sum((np.tanh(W @ x) - y) ** 2) + 0.1 * np.sum(x ** 2)


@pytest.mark.parametrize("method", ["loss", "twice"])
@pytest.mark.parametrize("cls", [Model, Same])
def test_own_methods_in_both_modes_and_at_order_two(method, cls):
    model = cls(W)
    f = getattr(model, method)
    expected = oracle.gradient(f, (X, Y), 0)
    np.testing.assert_allclose(s2sad.grad(f)(X, Y), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(s2sad.grad(getattr(Model, method), wrt=1)(model, X, Y), expected,
                               rtol=1e-6, atol=1e-9)
    value, tangent = s2sad.jvp(f)(X, Y, V)
    assert np.isclose(value, f(X, Y))
    np.testing.assert_allclose(tangent, expected @ V, rtol=1e-6)
    second = oracle.gradient(s2sad.grad(f), (X, Y), 0)
    np.testing.assert_allclose(s2sad.hvp(f)(X, Y, V), second @ V, rtol=1e-5, atol=1e-8)
    s2sad.check_grads(f, (X, Y), order=2)


def test_the_derivative_is_that_of_the_method_called():
    np.testing.assert_allclose(s2sad.grad(Model(W).loss)(X, Y),
                               oracle.gradient(plain_loss, (X, Y), 0), rtol=1e-6, atol=1e-9)


def test_a_class_that_overrides_the_method_is_a_usage_error():
    other = Other(W)
    for call in (lambda: s2sad.grad(other.loss)(X, Y),
                 lambda: s2sad.jvp(Model.loss, wrt=1)(other, X, Y, V)):
        with pytest.raises(s2sad.UsageError) as info:
            call()
        assert info.value.message == ("s2sad differentiated Model.predict for self.predict(...), "
                                      "but self's class overrides predict")
        assert info.value.loc.line == Model.loss.__code__.co_firstlineno


METHOD_MODEL = """\
import numpy as np


class Model:
    def __init__(self, W):
        self.W = W

    def predict(self, x):
        return np.tanh(self.W @ x)

    def loss(self, x, y):
        return np.sum((self.predict(x) - y) ** 2)
"""


def test_the_cli_writes_a_module_calling_the_method(tmp_path):
    (tmp_path / "model.py").write_text(METHOD_MODEL)
    done = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:Model.loss", "-o",
                           "out"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    check = ("import sys\nsys.modules['s2sad'] = None\nsys.path[:0] = ['out', '.']\n"
             "import numpy as np\nfrom model import Model\n"
             "from model_loss_grad import grad_loss\n"
             f"m = Model(np.array({W.tolist()!r}))\n"
             f"print(repr(grad_loss(m, np.array({X.tolist()!r}), "
             f"np.array({Y.tolist()!r})).tolist()))\n")
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    def f(x):
        return np.sum((np.tanh(W @ x) - Y) ** 2)
    np.testing.assert_allclose(eval(run.stdout), oracle.gradient(f, (X,), 0), rtol=1e-6)


def test_the_tools_at_a_point_take_a_bound_method():
    model = Model(W)
    expected = s2sad.grad(model.loss, wrt=(0, 1))(X, Y)
    assert s2sad.trace(model.loss, X, Y).wrt == ["x"]  # the default: first after self
    t = s2sad.trace(model.loss, X, Y, wrt=(0, 1))
    assert t.wrt == ["x", "y"]
    for got, want in zip(t.derivative, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(s2sad.trace(model.loss, X, Y, wrt=0).derivative, expected[0],
                               rtol=1e-12)
    assert s2sad.graph(model.loss).dot == s2sad.graph(Model.loss).dot
    assert s2sad.graph(model.loss, X, Y).dot.startswith("digraph")
    assert s2sad.cost(model.loss, X, Y).f_flops > 0
