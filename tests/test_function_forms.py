"""Functions in the forms people pass them, and the names JAX and autograd users type:
``has_aux=True``, ``argnums=``, ``jacfwd``/``jacrev``.

Derivatives are compared with the finite-difference oracle; results' structure exactly.
"""

import functools
import os

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(5)
W = RNG.normal(size=4) * 0.5
X = RNG.normal(size=(3, 4))


# -- has_aux -------------------------------------------------------------------------------------

def training_step(w, x):
    pred = np.tanh(x @ w)
    loss = np.sum(pred ** 2) + 0.1 * np.sum(w ** 2)
    return loss, (pred, np.mean(pred))


def loss_of(w, x):
    return training_step(w, x)[0]


def writes_in_a_loop(w):
    a = np.ones(4)
    for i in range(3):
        a[1] = np.sin(a[1] * w[i] + a[2])
        a[2] = a[1] * 2.0
    return np.sum(a ** 2), a


def one_value(w):
    return np.sum(w)


def three_values(w):
    return np.sum(w), w, 2.0 * w


def test_grad_with_aux_returns_the_gradient_and_aux():
    g, aux = s2sad.grad(training_step, has_aux=True)(W, X)
    np.testing.assert_allclose(g, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)
    pred, mean = training_step(W, X)[1]
    assert type(aux) is tuple and len(aux) == 2
    np.testing.assert_array_equal(aux[0], pred)
    assert aux[1] == mean


def test_value_and_grad_with_aux_is_jax_shaped():
    (value, aux), g = s2sad.value_and_grad(training_step, has_aux=True)(W, X)
    assert value == training_step(W, X)[0]
    np.testing.assert_array_equal(aux[0], training_step(W, X)[1][0])
    np.testing.assert_allclose(g, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)


def test_aux_with_several_wrt():
    (g_w, g_x), aux = s2sad.grad(training_step, wrt=(0, 1), has_aux=True)(W, X)
    np.testing.assert_allclose(g_x, oracle.gradient(loss_of, (W, X), 1), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_w, oracle.gradient(loss_of, (W, X), 0), rtol=1e-6, atol=1e-8)
    (g,), _ = s2sad.grad(training_step, wrt=(0,), has_aux=True)(W, X)
    np.testing.assert_allclose(g, g_w)


def test_aux_an_array_written_in_place_is_the_function_own_value():
    """The backward sweep writes old values back into ``a``: aux is kept before it does."""
    w = np.array([0.5, 0.7, 0.9])
    g, aux = s2sad.grad(writes_in_a_loop, has_aux=True)(w)
    np.testing.assert_array_equal(aux, writes_in_a_loop(w)[1])
    np.testing.assert_allclose(g, oracle.gradient(lambda v: writes_in_a_loop(v)[0], (w,), 0),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, what", [(one_value, "one value"), (three_values, "3 values")])
def test_has_aux_of_a_function_not_returning_a_pair_is_located(f, what):
    with pytest.raises(s2sad.UnsupportedSyntaxError,
                       match=f"has_aux=True needs {f.__name__} to return a pair \\(loss, aux\\), "
                             f"but it returns {what}") as info:
        s2sad.grad(f, has_aux=True)(W)
    assert "test_function_forms.py:" in str(info.value) and "return" in str(info.value)


def test_without_has_aux_a_pair_is_still_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="returns 2 values"):
        s2sad.grad(training_step)(W, X)


# -- argnums, jacfwd, jacrev ---------------------------------------------------------------------

def two_args(a, b):
    return np.sum(np.sin(a) * b ** 2)


def vector(a, b):
    return np.sin(a) * b[:3]


def test_argnums_is_wrt():
    a, b = RNG.normal(size=3), RNG.normal(size=3)
    assert np.allclose(s2sad.grad(two_args, argnums=1)(a, b), s2sad.grad(two_args, wrt=1)(a, b))
    ga, gb = s2sad.grad(two_args, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gb, oracle.gradient(two_args, (a, b), 1), rtol=1e-6, atol=1e-8)
    value, (ga2,) = s2sad.value_and_grad(two_args, argnums=(0,))(a, b)
    np.testing.assert_allclose(ga2, ga)
    np.testing.assert_allclose(s2sad.hessian(two_args, argnums=1)(a, b),
                               oracle.gradient(s2sad.grad(two_args, argnums=1), (a, b), 1),
                               rtol=1e-5, atol=1e-6)
    _, out_dot = s2sad.jvp(two_args, argnums=1)(a, b, np.ones(3))
    assert np.isclose(out_dot, np.sum(gb))
    assert np.allclose(s2sad.vjp(two_args, argnums=1)(a, b, 1.0), gb)


def test_wrt_and_argnums_together_is_a_usage_error():
    with pytest.raises(s2sad.UsageError, match="give wrt= or argnums="):
        s2sad.grad(two_args, wrt=1, argnums=0)


@pytest.mark.parametrize("jac, mode", [(s2sad.jacfwd, "forward"), (s2sad.jacrev, "reverse")])
def test_jacfwd_and_jacrev(jac, mode):
    a, b = RNG.normal(size=3), RNG.normal(size=4)
    J = jac(vector, argnums=1)(a, b)
    np.testing.assert_allclose(J, oracle.gradient(vector, (a, b), 1), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(J, s2sad.jacobian(vector, 1, mode=mode)(a, b))
    Ja, Jb = jac(vector, (0, 1))(a, b)
    np.testing.assert_allclose(Ja, oracle.gradient(vector, (a, b), 0), rtol=1e-6, atol=1e-8)


# -- lambdas -------------------------------------------------------------------------------------

loss = lambda w, x: np.sum(np.tanh(x @ w) ** 2)  # noqa: E731 (the form under test)
PAIR = (lambda v: np.sum(v ** 2), lambda v: np.sum(v ** 3))
TWINS = (lambda v: np.sum(np.sin(v)), lambda v: np.sum(np.sin(v)))
with_default = lambda v, scale=3.0: scale * np.sum(np.exp(v))  # noqa: E731


def test_grad_of_an_inline_lambda():
    x = RNG.normal(size=3)
    g = s2sad.grad(lambda v: np.sum(v ** 2 * np.sin(v)))(x)
    np.testing.assert_allclose(g, oracle.gradient(lambda v: np.sum(v ** 2 * np.sin(v)), (x,), 0),
                               rtol=1e-6, atol=1e-8)


def test_a_module_level_lambda_is_named_after_its_name():
    g = s2sad.grad(loss)(W, X)
    np.testing.assert_allclose(g, oracle.gradient(loss, (W, X), 0), rtol=1e-6, atol=1e-8)
    text = s2sad.source(loss)
    assert "def grad_loss(w, x):" in text and "# line" in text and "lambda w, x:" in text
    assert s2sad.ssa(loss).startswith("def loss(w, x):")


def test_lambdas_on_one_line_are_told_apart_by_column():
    x = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.grad(PAIR[0])(x), 2 * x)
    np.testing.assert_allclose(s2sad.grad(PAIR[1])(x), 3 * x ** 2)
    for twin in TWINS:  # the same text twice: each column is its own lambda
        np.testing.assert_allclose(s2sad.grad(twin)(x), np.cos(x))
    code = [line for line in s2sad.source(PAIR[1]).splitlines() if "#" not in line]
    assert any("v ** 3" in line for line in code) and not any("v ** 2" in line for line in code)


def test_lambdas_to_hvp_jvp_hessian_and_check_grads():
    x = RNG.normal(size=3)
    f = lambda v: np.sum(np.sin(v) * v ** 2)  # noqa: E731
    H = s2sad.hessian(f)(x)
    np.testing.assert_allclose(H, oracle.gradient(s2sad.grad(f), (x,), 0), rtol=1e-5, atol=1e-6)
    u = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.hvp(f)(x, u), H @ u, rtol=1e-8, atol=1e-10)
    assert np.isclose(s2sad.jvp(f)(x, u)[1], s2sad.grad(f)(x) @ u)
    s2sad.check_grads(lambda a, b: np.sum(np.tanh(a) * b), (x, u), wrt=(0, 1), order=2)


def test_a_lambda_reads_what_it_captures_when_it_runs():
    x = RNG.normal(size=3)
    scale = 2.0
    f = lambda v: scale * np.sum(v ** 2)  # noqa: E731
    g = s2sad.grad(f)
    np.testing.assert_allclose(g(x), 4.0 * x)
    scale = 5.0  # noqa: F841 (read by f through its closure)
    np.testing.assert_allclose(g(x), 10.0 * x)


def test_a_lambda_with_a_default_and_called_by_a_function():
    x = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.grad(with_default)(x), 3.0 * np.exp(x))
    np.testing.assert_allclose(s2sad.grad(calls_a_lambda)(x),
                               oracle.gradient(calls_a_lambda, (x,), 0), rtol=1e-6, atol=1e-8)


def calls_a_lambda(v):
    return with_default(np.sin(v), 2.0) + loss(v, X[:, :3])


def test_a_lambda_without_source_is_a_source_error():
    namespace = {"np": np}
    exec("f = lambda v: np.sum(v)", namespace)
    with pytest.raises(s2sad.SourceError, match="cannot read the source of the lambda"):
        s2sad.grad(namespace["f"])(W)


LAMBDA_MODEL = """\
import functools
import os

import numpy as np

loss = lambda w, x: np.sum(np.tanh(x @ w) ** 2)
"""


def test_cli_differentiates_a_lambda(tmp_path):
    import subprocess
    import sys
    (tmp_path / "model.py").write_text(LAMBDA_MODEL)
    result = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:loss", "--wrt", "w",
                             "-o", "out"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == os.path.join("out", "model_loss_grad.py")
    check = ("import sys\nsys.modules['s2sad'] = None\nsys.path.insert(0, 'out')\n"
             "import numpy as np\nfrom model_loss_grad import grad_loss\n"
             f"w = np.array({W.tolist()!r})\nx = np.array({X.tolist()!r})\n"
             "print(repr(grad_loss(w, x).tolist()))\n")
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    np.testing.assert_allclose(eval(run.stdout), oracle.gradient(loss, (W, X), 0), rtol=1e-6,
                               atol=1e-8)


# -- methods, objects, functools.partial ---------------------------------------------------------

class Config:
    lam = 0.1


CFG = Config()


class Model:
    def __init__(self, W):
        self.W = W
        self.scale = 2.0

    def loss(self, x, y):
        return self.scale * np.sum(np.tanh(self.W @ x - y) ** 2) + CFG.lam * np.sum(x ** 2)


def model_loss(W, x, y, scale=2.0):
    """Model.loss with the object's values as arguments: the oracle's function."""
    return scale * np.sum(np.tanh(W @ x - y) ** 2) + CFG.lam * np.sum(x ** 2)


def first_through_flat(x):
    return x.flat[0] ** 2


def scaled(x, a, b=1.0):
    return np.sum(np.sin(x * a) * b)


M = Model(RNG.normal(size=(2, 3)))
XM, YM = RNG.normal(size=3), RNG.normal(size=2)


def test_grad_of_a_bound_method():
    g = s2sad.grad(M.loss)(XM, YM)
    np.testing.assert_allclose(g, oracle.gradient(model_loss, (M.W, XM, YM), 1), rtol=1e-6,
                               atol=1e-8)
    gx, gy = s2sad.grad(M.loss, (0, 1))(XM, YM)
    np.testing.assert_allclose(gy, oracle.gradient(model_loss, (M.W, XM, YM), 2), rtol=1e-6,
                               atol=1e-8)
    value, g2 = s2sad.value_and_grad(M.loss, "x")(XM, YM)
    assert np.isclose(value, M.loss(XM, YM)) and np.allclose(g2, g)


def test_the_method_of_the_class_with_self_passed():
    g = s2sad.grad(Model.loss, wrt=1)(M, XM, YM)
    np.testing.assert_allclose(g, s2sad.grad(M.loss)(XM, YM))
    g = s2sad.grad(Model.loss, argnums=2)(M, XM, YM)
    np.testing.assert_allclose(g, oracle.gradient(model_loss, (M.W, XM, YM), 2), rtol=1e-6,
                               atol=1e-8)


def test_differentiating_with_respect_to_self_is_a_usage_error():
    with pytest.raises(s2sad.UsageError, match="cannot differentiate loss with respect to self: "
                                               "it is a Model object"):
        s2sad.grad(Model.loss)(M, XM, YM)


def test_attributes_are_read_when_the_derivative_runs():
    model = Model(RNG.normal(size=(2, 3)))
    g = s2sad.grad(model.loss)
    before = g(XM, YM)
    model.W = model.W * 2.0
    model.scale = 3.0
    CFG.lam = 0.5
    try:
        after = g(XM, YM)
        np.testing.assert_allclose(after, oracle.gradient(model_loss, (model.W, XM, YM, 3.0), 1),
                                   rtol=1e-6, atol=1e-8)
    finally:
        CFG.lam = 0.1
    assert not np.allclose(before, after)


def test_second_order_and_forward_mode_of_a_bound_method():
    H = s2sad.hessian(M.loss)(XM, YM)
    np.testing.assert_allclose(H, oracle.gradient(s2sad.grad(M.loss), (XM, YM), 0), rtol=1e-5,
                               atol=1e-6)
    u = RNG.normal(size=3)
    np.testing.assert_allclose(s2sad.hvp(M.loss)(XM, YM, u), H @ u, rtol=1e-8, atol=1e-10)
    assert np.isclose(s2sad.jvp(M.loss)(XM, YM, u)[1], s2sad.grad(M.loss)(XM, YM) @ u)
    s2sad.check_grads(M.loss, (XM, YM), wrt=(0, 1), order=2)


def test_attribute_of_a_differentiated_value_is_located():
    with pytest.raises(s2sad.NoDerivativeError, match=r"does not differentiate through the "
                                                      r"attribute \.flat") as info:
        s2sad.grad(first_through_flat)(XM)
    assert "x.flat" in str(info.value)


@pytest.mark.parametrize("make, args, position", [
    (lambda: functools.partial(scaled, a=2.0), (XM,), 0),
    (lambda: functools.partial(scaled, XM), (2.0,), 1),
    (lambda: functools.partial(functools.partial(scaled, b=3.0), XM), (0.7,), 1),
])
def test_functools_partial(make, args, position):
    f = make()
    g = s2sad.grad(f)(*args)
    np.testing.assert_allclose(g, oracle.gradient(lambda *a: f(*a), args, 0), rtol=1e-6,
                               atol=1e-8)
    s2sad.check_grads(f, args, order=2)
    assert np.isclose(s2sad.value_and_grad(f)(*args)[0], f(*args))


def test_grad_of_grad_of_a_partial():
    f = functools.partial(scaled, b=3.0)
    gg = s2sad.grad(s2sad.grad(f, 1))(XM, 0.7)  # d/dx of df/da
    expected = oracle.gradient(lambda x: s2sad.grad(f, 1)(x, 0.7), (XM,), 0)
    np.testing.assert_allclose(gg, expected, rtol=1e-5, atol=1e-7)


METHOD_MODEL = """\
import numpy as np


class Model:
    def __init__(self, W):
        self.W = W
        self.lam = 0.1

    def loss(self, x, y):
        return np.sum((self.W @ x - y) ** 2) + self.lam * np.sum(x ** 2)
"""


def test_cli_differentiates_a_method(tmp_path):
    import subprocess
    import sys
    (tmp_path / "model.py").write_text(METHOD_MODEL)
    result = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:Model.loss", "-o",
                             "out"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "model_loss_grad.py").read_text()
    assert "def grad_loss(self, x, y):" in text and "with respect to x." in text
    check = ("import sys\nsys.modules['s2sad'] = None\nsys.path.insert(0, 'out')\n"
             "sys.path.insert(0, '.')\nimport numpy as np\nfrom model import Model\n"
             "from model_loss_grad import grad_loss\n"
             f"m = Model(np.array({M.W.tolist()!r}))\n"
             f"gx = grad_loss(m, np.array({XM.tolist()!r}), np.array({YM.tolist()!r}))\n"
             "print(repr(gx.tolist()))\n")
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    def plain(x):
        return np.sum((M.W @ x - YM) ** 2) + 0.1 * np.sum(x ** 2)
    np.testing.assert_allclose(eval(run.stdout), oracle.gradient(plain, (XM,), 0), rtol=1e-6,
                               atol=1e-8)
