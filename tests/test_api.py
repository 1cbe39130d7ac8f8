"""The public Python API: grad, value_and_grad, vjp, source, ssa and @differentiate.

Derivatives are checked against exact formulas or central finite differences;
the API's conventions (how ``wrt`` selects and shapes results, keyword
arguments and defaults, zero gradients, caching, what generated code imports)
are checked directly.
"""

import ast
import importlib
import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import oracle
import s2sad
from tracing import generated_calls

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


# ----------------------------------------------------------------------------
# functions under test


def lecture(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def lecture_gradient(x, y):
    a = y * np.log(x)
    da = 1 + 0.5 / np.sqrt(a)
    return da * y / x, da * np.log(x)


def weighted(x, w, scale=2.0):
    return scale * np.sum(np.sin(x) * w)


def ignores_middle(x, unused, c):
    return np.sum(x ** 2) * 3.0


def layer(x, A):
    return np.tanh(A @ x) * np.sum(x)


def square(t):
    return t * t


def calls_helper(x):
    return np.sum(square(np.sin(x)) + x)


# ----------------------------------------------------------------------------
# helpers


def run_python(code, cwd, env=None):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=60)


# ----------------------------------------------------------------------------
# wrt: positions, names, negative positions, tuples


X, Y = 2.0, 3.0
DX, DY = lecture_gradient(X, Y)


@pytest.mark.parametrize("wrt, expected", [
    (0, DX), ("x", DX), (-2, DX), (1, DY), ("y", DY), (-1, DY), (np.int64(1), DY),
])
def test_single_wrt_gives_a_single_result(wrt, expected):
    result = s2sad.grad(lecture, wrt=wrt)(X, Y)
    assert not isinstance(result, tuple)
    assert np.isclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize("wrt, expected", [
    ((0,), (DX,)), (("y",), (DY,)), ((-1,), (DY,)), ((0, 1), (DX, DY)), (("x", "y"), (DX, DY)),
    ((1, 0), (DY, DX)), (("y", -2), (DY, DX)), ([0, "y"], (DX, DY)),
])
def test_tuple_wrt_gives_a_tuple_in_wrt_order(wrt, expected):
    result = s2sad.grad(lecture, wrt=wrt)(X, Y)
    assert isinstance(result, tuple) and len(result) == len(expected)
    assert np.allclose(result, expected, rtol=1e-12)


def test_default_wrt_is_the_first_parameter():
    assert np.isclose(s2sad.grad(lecture)(X, Y), DX, rtol=1e-12)


@pytest.mark.parametrize("wrt", [0, (0,), (0, 1)])
def test_value_and_grad_shapes_like_grad(wrt):
    value, g = s2sad.value_and_grad(lecture, wrt=wrt)(X, Y)
    assert np.isclose(value, lecture(X, Y), rtol=1e-14)
    expected = s2sad.grad(lecture, wrt=wrt)(X, Y)
    assert type(g) is type(expected)
    assert np.allclose(g, expected)


@pytest.mark.parametrize("wrt", [1, (1,), ("x", "y")])
def test_vjp_shapes_like_grad(wrt):
    scaled = s2sad.vjp(lecture, wrt=wrt)(X, Y, 2.5)
    expected = s2sad.grad(lecture, wrt=wrt)(X, Y)
    assert type(scaled) is type(expected)
    assert np.allclose(scaled, 2.5 * np.asarray(expected))


def test_vjp_takes_out_bar_by_keyword():
    assert np.isclose(s2sad.vjp(lecture, wrt="y")(X, Y, out_bar=1.0), DY)
    assert np.isclose(s2sad.vjp(lecture, wrt="y")(X, y=Y, out_bar=1.0), DY)


def test_derivatives_are_named_after_the_function():
    assert s2sad.grad(lecture).__name__ == "grad_lecture"
    assert s2sad.value_and_grad(lecture).__name__ == "value_and_grad_lecture"
    assert s2sad.vjp(lecture).__name__ == "vjp_lecture"


# ----------------------------------------------------------------------------
# keyword arguments and defaults at call time


XS = np.array([0.3, -1.2, 2.0])
WS = np.array([1.5, 0.5, -2.0])


def test_keyword_arguments_at_call_time():
    expected = 2.0 * np.cos(XS) * WS
    g = s2sad.grad(weighted)
    assert np.allclose(g(XS, WS), expected)
    assert np.allclose(g(XS, w=WS), expected)
    assert np.allclose(g(w=WS, x=XS), expected)
    assert np.allclose(g(XS, WS, scale=5.0), 5.0 * np.cos(XS) * WS)
    assert np.allclose(g(XS, WS, 5.0), 5.0 * np.cos(XS) * WS)


def test_gradient_with_respect_to_a_parameter_left_at_its_default():
    g = s2sad.grad(weighted, wrt="scale")(XS, WS)
    assert np.isclose(g, np.sum(np.sin(XS) * WS))
    value, (gx, gscale) = s2sad.value_and_grad(weighted, wrt=("x", "scale"))(XS, w=WS)
    assert np.isclose(value, weighted(XS, WS))
    assert np.allclose(gx, 2.0 * np.cos(XS) * WS)
    assert np.isclose(gscale, np.sum(np.sin(XS) * WS))


def test_wrong_call_is_a_type_error_naming_the_function():
    with pytest.raises(TypeError, match="weighted"):
        s2sad.grad(weighted)(XS)
    with pytest.raises(TypeError, match="weighted"):
        s2sad.grad(weighted)(XS, WS, bogus=1.0)


# ----------------------------------------------------------------------------
# zero gradients have the argument's shape


def test_unused_argument_gets_a_zero_gradient_of_its_shape():
    x, unused, c = np.array([1.0, 2.0]), np.ones((3, 4)), 7.0
    gx, gu, gc = s2sad.grad(ignores_middle, wrt=(0, 1, 2))(x, unused, c)
    assert np.allclose(gx, 6.0 * x)
    assert gu is not None and np.shape(gu) == (3, 4) and not np.any(gu)
    assert gc is not None and np.shape(gc) == () and gc == 0
    single = s2sad.grad(ignores_middle, wrt="unused")(x, unused, c)
    assert single is not None and np.shape(single) == (3, 4) and not np.any(single)
    _, (gu2,) = s2sad.value_and_grad(ignores_middle, wrt=(1,))(x, unused, c)
    assert np.shape(gu2) == (3, 4) and not np.any(gu2)
    (gu3,) = s2sad.vjp(ignores_middle, wrt=(1,))(x, unused, c, 1.0)
    assert np.shape(gu3) == (3, 4) and not np.any(gu3)


def test_constant_function_has_zero_gradient():
    def const(x):
        return 4.0

    g = s2sad.grad(const)(np.ones((2, 2)))
    assert np.shape(g) == (2, 2) and not np.any(g)


# ----------------------------------------------------------------------------
# vjp of an array-valued function against a finite-difference Jacobian


def test_vjp_of_array_valued_function_matches_jacobian():
    rng = np.random.default_rng(1)
    x, A = rng.standard_normal(3), rng.standard_normal((4, 3))
    Jx = oracle.gradient(layer, (x, A), 0, h=1e-6)
    JA = oracle.gradient(layer, (x, A), 1, h=1e-6)
    assert Jx.shape == (4, 3) and JA.shape == (4, 4, 3)
    f_vjp = s2sad.vjp(layer, wrt=("x", "A"))
    for _ in range(3):
        out_bar = rng.standard_normal(4)
        x_bar, A_bar = f_vjp(x, A, out_bar)
        assert x_bar.shape == x.shape and A_bar.shape == A.shape
        assert np.allclose(x_bar, np.tensordot(out_bar, Jx, axes=1), atol=1e-7)
        assert np.allclose(A_bar, np.tensordot(out_bar, JA, axes=1), atol=1e-7)
    # the rows of the Jacobian, one basis vector at a time
    rows = np.array([s2sad.vjp(layer)(x, A, e) for e in np.eye(4)])
    assert np.allclose(rows, Jx, atol=1e-7)


def test_grad_of_array_function_matches_finite_differences():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(5), rng.standard_normal(5)
    gx, gw = s2sad.grad(weighted, wrt=(0, 1))(x, w)
    assert np.allclose(gx, oracle.gradient(weighted, (x, w, 2.0), 0, h=1e-6), atol=1e-7)
    assert np.allclose(gw, oracle.gradient(weighted, (x, w, 2.0), 1, h=1e-6), atol=1e-7)


# ----------------------------------------------------------------------------
# @s2sad.differentiate


@s2sad.differentiate
def decorated(x, y):
    return np.sum(np.exp(x) * y)


@s2sad.differentiate(wrt=("x", "y"))
def decorated_both(x, y):
    return np.sum(np.exp(x) * y)


@s2sad.differentiate(wrt=1)
def decorated_second(x, y):
    return np.sum(np.exp(x) * y)


def uses_decorated(x):
    return decorated(x, 2.0) + np.sum(x)


def test_decorated_function_is_still_callable():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    expected = np.sum(np.exp(x) * y)
    for fn in (decorated, decorated_both, decorated_second):
        assert fn(x, y) == expected
        assert fn(x, y=y) == expected
    assert decorated.__name__ == "decorated"


def test_bare_decorator_differentiates_with_respect_to_the_first_argument():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    assert np.allclose(decorated.grad(x, y), np.exp(x) * y)
    value, g = decorated.value_and_grad(x, y)
    assert np.isclose(value, decorated(x, y)) and np.allclose(g, np.exp(x) * y)
    assert np.allclose(decorated.vjp(x, y, 2.0), 2.0 * np.exp(x) * y)


def test_decorator_with_wrt():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    gx, gy = decorated_both.grad(x, y)
    assert np.allclose(gx, np.exp(x) * y) and np.allclose(gy, np.exp(x))
    _, (gx2, gy2) = decorated_both.value_and_grad(x, y)
    assert np.allclose(gx2, gx) and np.allclose(gy2, gy)
    assert np.allclose(decorated_second.grad(x, y), np.exp(x))
    assert not isinstance(decorated_second.grad(x, y), tuple)


def test_decorator_source_and_ssa():
    for fn, name in ((decorated, "decorated"), (decorated_both, "decorated_both")):
        text = fn.source
        assert f"def grad_{name}(x, y):" in text
        assert f"def value_and_grad_{name}(x, y):" in text
        assert f"def vjp_{name}(x, y, out_bar):" in text
        compile(text, "<source>", "exec")
        listing = fn.ssa
        assert listing.startswith(f"def {name}(x, y):")
        assert "np.exp(x)" in listing


def test_decorated_function_works_with_the_functional_api():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    assert np.allclose(s2sad.grad(decorated, wrt="y")(x, y), np.exp(x))
    assert s2sad.source(decorated) == decorated.source


def test_decorated_helper_called_from_a_differentiated_function():
    x = np.array([0.5, -1.0])
    assert np.allclose(s2sad.grad(uses_decorated)(x), 2.0 * np.exp(x) + 1.0)


def test_decorator_rejects_bad_wrt_when_applied():
    with pytest.raises(s2sad.UsageError, match="no parameter 'z'"):
        @s2sad.differentiate(wrt="z")
        def f(x):
            return x


# ----------------------------------------------------------------------------
# where functions live: helpers, packages, scripts


def test_helper_function_is_differentiated_too():
    x = np.array([0.2, 1.1, -0.7])
    expected = 2 * np.sin(x) * np.cos(x) + 1.0
    assert np.allclose(s2sad.grad(calls_helper)(x), expected)
    text = s2sad.source(calls_helper)  # small (one return of one operation): inlined
    assert "def fwd_square(" not in text and "square_t = " in text


def test_function_in_a_package_module(monkeypatch):
    monkeypatch.syspath_prepend(FIXTURES)
    model = importlib.import_module("apifix.model")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    gx, gw = s2sad.grad(model.loss, wrt=("x", "w"))(x, w)
    sig = 1 / (1 + np.exp(-x))
    assert np.allclose(gx, 2 * x * w * w + sig)
    assert np.allclose(gw, 2 * x * x * w)
    assert "def bwd_softplus(" in s2sad.source(model.loss)


def test_function_defined_in_a_script_run_as_main(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""\
        import numpy as np
        import s2sad

        def f(x):
            return np.sum(np.cos(x) * x)

        if __name__ == "__main__":
            x = np.array([0.1, 0.7])
            g = s2sad.grad(f)(x)
            assert np.allclose(g, np.cos(x) - x * np.sin(x)), g
            assert "def grad_f(x):" in s2sad.source(f)
            assert s2sad.ssa(f).startswith("def f(x):")
            print("ok", __name__)
        """))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok __main__"


def test_function_defined_inside_a_function_with_a_closure():
    k = 3.0

    def f(x):
        return np.sum(np.sin(k * x))

    x = np.array([0.4, 0.9])
    assert np.allclose(s2sad.grad(f)(x), k * np.cos(k * x))


# ----------------------------------------------------------------------------
# caching


def test_transforms_are_compiled_once(monkeypatch):
    lower_module = importlib.import_module("s2sad.lower.lowerer")
    module_module = importlib.import_module("s2sad.module")
    calls = {"parse": 0, "lower": 0}
    real_parse, real_lower = lower_module.parse_function, module_module.lower

    def counting_parse(fn):
        calls["parse"] += 1
        return real_parse(fn)

    def counting_lower(fn):
        calls["lower"] += 1
        return real_lower(fn)

    monkeypatch.setattr(lower_module, "parse_function", counting_parse)
    monkeypatch.setattr(module_module, "lower", counting_lower)

    def fresh(x):  # defined here so that no earlier test has compiled it
        return np.sum(np.tanh(x) * x)

    x = np.array([0.3, -0.2])
    first = s2sad.grad(fresh)(x)
    assert calls["parse"] >= 1 and calls["lower"] >= 1
    after_first = dict(calls)
    g1, g2 = s2sad.grad(fresh), s2sad.grad(fresh)
    for _ in range(50):
        assert np.array_equal(g1(x), first)
        g2(x)
    s2sad.value_and_grad(fresh)(x)
    s2sad.vjp(fresh)(x, 1.0)
    s2sad.source(fresh)
    assert calls == after_first
    s2sad.grad(fresh, wrt=(0,))(x)  # the same positions: still cached
    assert calls == after_first


def test_a_first_call_makes_its_entry_point_alone_and_source_shows_them_all():
    def fresh(x, y):  # defined here so that no earlier test has compiled it
        return np.sum(np.sin(x) * y + x * x)

    x, y = np.array([0.3, -0.2, 0.5]), np.array([1.5, 0.7, -0.4])
    expected = (np.cos(x) * y + 2 * x, np.sin(x))
    grad, value_and_grad = s2sad.grad(fresh, wrt=(0, 1)), s2sad.value_and_grad(fresh, wrt=(0, 1))
    for _ in range(3):  # the first call, then the specialised code
        assert all(np.allclose(a, b, rtol=1e-14) for a, b in zip(grad(x, y), expected))
    first = s2sad.cache.cached(fresh, "reverse_grad", (0, 1))[1]
    assert first.entry_points == {"grad": "grad_fresh"}
    assert "def value_and_grad_fresh(" not in first.source
    for _ in range(3):
        value, grads = value_and_grad(x, y)
        assert value == fresh(x, y)
        assert all(np.allclose(a, b, rtol=1e-14) for a, b in zip(grads, expected))
    first = s2sad.cache.cached(fresh, "reverse_value_and_grad", (0, 1))[1]
    assert first.entry_points == {"value_and_grad": "value_and_grad_fresh"}
    whole = s2sad.source(fresh, wrt=(0, 1))
    assert all(f"def {kind}_fresh(" in whole for kind in ("grad", "value_and_grad", "vjp"))


# ----------------------------------------------------------------------------
# the generated code


def _imports(text):
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


@pytest.mark.parametrize("fn", [lecture, weighted, layer, calls_helper])
def test_generated_code_imports_numpy_only(fn):
    text = s2sad.source(fn)
    assert _imports(text) <= {"numpy", "math"}
    assert "numpy" in _imports(text)
    assert "s2sad" not in text.replace("Written by s2sad", "")


def test_generated_module_runs_without_s2sad(tmp_path):
    (tmp_path / "gen_layer.py").write_text(s2sad.source(layer, wrt=(0, 1)))
    code = textwrap.dedent("""\
        import sys
        sys.modules["s2sad"] = None  # importing s2sad now fails
        import numpy as np
        import gen_layer
        x, A = np.array([0.1, 0.2, 0.3]), np.arange(12.0).reshape(4, 3) / 10
        x_bar, A_bar = gen_layer.vjp_layer(x, A, np.ones(4))
        print(x_bar.shape, A_bar.shape)
        """)
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(3,) (4, 3)"


def test_source_is_deterministic(tmp_path):
    first = s2sad.source(layer, wrt=(0, 1))
    assert s2sad.source(layer, wrt=(0, 1)) == first
    module = importlib.import_module("s2sad.module")
    assert module.reverse_module(layer, (0, 1)).source == first  # bypassing the cache
    code = textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import s2sad, test_api
        sys.stdout.write(s2sad.source(test_api.layer, wrt=(0, 1)))
        """)
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = run_python(code, tmp_path, env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == first


def test_derivative_source_is_registered_for_tracebacks():
    import inspect

    with generated_calls() as calls:
        s2sad.grad(lecture)(X, Y)
    (code,) = [c.code for c in calls if c.name == "grad_lecture"]
    text = inspect.getsource(code)
    assert text.startswith("def grad_lecture(x, y):")


# ----------------------------------------------------------------------------
# generated names never collide with the user's


def out_bar_param(x, out_bar):
    return x * out_bar


def test_parameter_named_out_bar():
    assert np.isclose(s2sad.grad(out_bar_param)(2.0, 5.0), 5.0)
    assert s2sad.grad(out_bar_param, wrt=(0, 1))(2.0, out_bar=5.0) == (5.0, 2.0)
    # the seed is then passed by position; out_bar= names the parameter
    assert s2sad.vjp(out_bar_param, wrt=(0, 1))(2.0, 5.0, 3.0) == (15.0, 6.0)
    assert s2sad.vjp(out_bar_param, wrt=(0, 1))(2.0, 3.0, out_bar=5.0) == (15.0, 6.0)


def unbroadcast(t):
    return t * 3.0


def calls_user_unbroadcast(x, y):
    return np.sum(unbroadcast(x) * y)


def test_user_helper_named_like_a_runtime_helper():
    g = s2sad.grad(calls_user_unbroadcast)(np.ones((2, 1)), np.ones(3))
    assert np.allclose(g, np.full((2, 1), 9.0))


# ----------------------------------------------------------------------------
# derivatives are differentiable


def test_grad_of_grad():
    def cube(x):
        return x * x * np.sin(x)

    d2 = 2 * np.sin(2.0) + 4 * 2.0 * np.cos(2.0) - 2.0 ** 2 * np.sin(2.0)
    assert np.isclose(s2sad.grad(s2sad.grad(cube))(2.0), d2)


def sums_both(x, y):
    return np.sum(x + y)


def test_returned_gradients_are_writable_arrays():
    # unreduce spreads the seed as a read-only view; what grad returns is the caller's
    gx, gy = s2sad.grad(sums_both, wrt=(0, 1))(np.ones(3), np.ones(3))
    gx[0] = 2.0
    gy *= 3.0
    np.testing.assert_array_equal(gx, [2.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy, [3.0, 3.0, 3.0])
    _, g = s2sad.value_and_grad(sums_both)(np.ones(3), np.ones(3))
    g += 1.0


def loop_helper(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) * x
    return y


def plain_helper(x):
    e = np.exp(x)  # (two statements: not inlined, see inline/small.py)
    return e * x


def calls_both(x):
    return np.sum(loop_helper(x, 3) * plain_helper(x))


def test_callees_get_a_fwd_bwd_pair_or_with_loops_one_vjp():
    text = s2sad.source(calls_both)
    assert "def fwd_plain_helper(" in text and "def bwd_plain_helper(" in text
    assert "def vjp_loop_helper_wrt_x(" in text  # its tape stays inside one function
    x = np.array([0.3, -0.5, 0.8])
    s2sad.check_grads(calls_both, (x,), order=2)


def test_a_gradient_takes_its_functions_parameters():
    """grad(f) has f's own parameters and defaults (no *args/**kwargs binding per call)."""
    g = s2sad.grad(weighted)
    assert list(inspect.signature(g).parameters) == list(inspect.signature(weighted).parameters)
    expected = 2.0 * np.cos(XS) * WS
    assert np.allclose(g(x=XS, w=WS), expected) and np.allclose(g(XS, WS, 2.0), expected)
    with pytest.raises(TypeError, match="weighted"):
        g(XS, WS, 2.0, 3.0)
