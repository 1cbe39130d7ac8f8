"""Globals and closures are read when the generated code runs, as the function reads them
(DESIGN.md, "globals at run time"); decorators are differentiated as what they do;
side effects happen as in the function, or are located errors."""

import gc
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2sadError, UnsupportedSyntaxError

import globals_model as gm  # tests/fixtures/globals_model.py (on sys.path: see conftest.py)


@pytest.fixture(autouse=True)
def restore():
    saved = (gm.lam, gm.small.copy(), gm.big.copy(), gm.helper)
    yield
    gm.lam, gm.helper = saved[0], saved[3]
    gm.small[:] = saved[1]
    gm.big[:] = saved[2]
    gm.CACHE.clear()


X = np.array([1.0, -2.0, 0.5])


def test_rebinding_a_global_float_is_seen_by_an_existing_and_a_fresh_gradient():
    g = s2sad.grad(gm.loss)
    assert np.allclose(g(X), 2 * X + gm.small)
    gm.lam = 0.25
    assert np.allclose(g(X), 0.5 * X + gm.small)
    assert np.allclose(s2sad.grad(gm.loss)(X), 0.5 * X + gm.small)
    value, grad = s2sad.value_and_grad(gm.loss)(X)
    assert np.isclose(value, gm.loss(X))


def test_rebinding_and_updating_global_arrays_small_and_large():
    g = s2sad.grad(gm.loss)
    gm.small[:] = [4.0, 5.0, 6.0]  # in place, 3 elements
    assert np.allclose(g(X), 2 * X + [4.0, 5.0, 6.0])
    gm.small = np.array([-1.0, 0.0, 1.0])  # rebound
    assert np.allclose(g(X), 2 * X + [-1.0, 0.0, 1.0])
    h = s2sad.grad(gm.big_loss)
    assert np.allclose(h(X), gm.big[:3])
    gm.big[:3] = 7.0  # in place, 2000 elements
    assert np.allclose(h(X), 7.0)
    assert "np.array(" not in s2sad.source(gm.loss)  # never pasted in as a literal


def test_module_text_reads_globals_through_the_module():
    text = s2sad.source(gm.loss)
    assert "import globals_model\n" in text
    assert "lam = globals_model.lam" in text and "small = globals_model.small" in text
    assert "globals_model.lam, globals_model.small" in " ".join(text.split())  # docstring


def test_a_helper_redefined_after_the_first_transform_is_used(monkeypatch):
    g = s2sad.grad(gm.uses_helper)
    assert np.allclose(g(X), 2 * X)

    def cube(x):
        return x * x * x
    monkeypatch.setattr(gm, "helper", cube)
    assert np.allclose(g(X), 3 * X * X)  # the same derivative object follows
    assert np.allclose(s2sad.grad(gm.uses_helper)(X), 3 * X * X)
    assert np.allclose(s2sad.jvp(gm.uses_helper)(X, np.ones(3))[1], np.sum(3 * X * X))
    s2sad.check_grads(gm.uses_helper, (X,))


def test_closure_over_a_large_array_and_its_source():
    w = np.linspace(-1, 1, 1500)
    f = gm.make(w)
    x = np.ones(1500)
    g = s2sad.grad(f)
    assert np.allclose(g(x), w)
    w[:] = 2.0  # the closure's array, changed in place
    assert np.allclose(g(x), 2.0)
    text = s2sad.source(f)
    assert "w = scaled_closure.w" in text and "scaled_closure" in text.split('"""')[1]
    # the text compiles, and runs given the one name it documents as bound by s2sad
    namespace = {"scaled_closure": type("Cells", (), {"w": np.full(1500, 3.0)})}
    exec(compile(text, "<closure module>", "exec"), namespace)
    assert np.allclose(namespace["grad_scaled"](x), 3.0)


def test_closure_cell_rebound_with_nonlocal():
    f, set_w = gm.make_settable()
    g = s2sad.grad(f)
    assert np.allclose(g(X), 2 * X)
    set_w(np.array([1.0, 2.0, 3.0]))
    assert np.allclose(g(X), 2 * X * [1.0, 2.0, 3.0])
    assert np.allclose(s2sad.hvp(f)(X, np.ones(3)), 2 * np.array([1.0, 2.0, 3.0]))
    s2sad.check_grads(f, (X,), order=2)


def test_a_functools_wraps_decorator_is_differentiated_as_what_it_does():
    assert gm.tripled(2.0) == 12.0
    assert np.isclose(s2sad.grad(gm.tripled)(2.0), 12.0)
    value, grad = s2sad.value_and_grad(gm.tripled)(2.0)
    assert (value, grad) == (gm.tripled(2.0), 12.0)
    s2sad.check_grads(gm.tripled, (2.0,))
    assert np.isclose(s2sad.jvp(gm.tripled)(2.0, 1.0)[1], 12.0)


def test_a_wrapper_s2sad_cannot_read_is_a_located_error_naming_the_decorator():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(gm.hidden)(2.0)
    err = info.value
    assert err.loc is not None and err.loc.filename.endswith("globals_model.py")
    assert "@opaque" in str(err) and "hidden" in str(err)


def test_check_grads_compares_with_the_object_passed():
    def f(x):
        return x * x

    class Liar:  # calls like f would, but computes 3 f
        __wrapped__ = f

        def __call__(self, x):
            return 3 * f(x)
    with pytest.raises(S2sadError):  # never silently unwrapped to f
        s2sad.check_grads(Liar(), (2.0,))


def test_s2sad_own_decorators_still_work():
    @s2sad.differentiate
    def f(x):
        return np.sin(x) * x
    assert np.isclose(f.grad(0.5), np.cos(0.5) * 0.5 + np.sin(0.5))
    assert np.isclose(s2sad.grad(f)(0.5), np.cos(0.5) * 0.5 + np.sin(0.5))
    s2sad.check_grads(f, (0.5,))


def test_a_method_call_on_a_global_list_is_kept_once_per_call():
    g = s2sad.grad(gm.remembers)
    assert np.allclose(g(X), 2 * X)
    assert len(gm.CACHE) == 1 and gm.CACHE[0] is X
    s2sad.value_and_grad(gm.remembers)(X)
    s2sad.vjp(gm.remembers)(X, 1.0)
    assert len(gm.CACHE) == 3
    gm.CACHE = []  # rebound: the derivative appends to the new list, as remembers would
    try:
        g(X)
        assert len(gm.CACHE) == 1
    finally:
        gm.CACHE = []
    assert "globals_model.CACHE.append(x)" in s2sad.source(gm.remembers)


def test_writing_into_a_global_array_is_refused():
    with pytest.raises(S2sadError) as info:
        s2sad.grad(gm.writes_global)(X)
    assert info.value.loc is not None and "small[0] = 1.0" in str(info.value)


def test_differentiated_functions_are_garbage_collected():
    def make():
        def f(x):
            return np.sum(np.sin(x) * x)
        return f
    refs = []
    for transform in (s2sad.grad, s2sad.hvp, s2sad.jvp):
        f = make()
        d = transform(f)
        d(X, np.ones(3)) if transform is not s2sad.grad else d(X)
        s2sad.source(f)
        refs.append(weakref.ref(f))
        del f, d
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_cli_written_module_reads_the_users_module_live(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent("""\
        import numpy as np

        lam = 2.0
        weights = np.array([1.0, 2.0, 3.0])


        def f(x):
            return lam * np.sum(weights * x * x)
        """))
    done = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:f", "-o", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "model_f_grad.py").read_text()
    assert "import model\n" in text and "model.lam" in text.split('"""')[1]
    code = textwrap.dedent("""\
        import sys
        sys.modules['s2sad'] = None
        sys.path[:0] = ['.', 'out']
        import numpy as np
        import model, model_f_grad
        x = np.array([1.0, -1.0, 0.5])
        assert np.allclose(model_f_grad.grad_f(x), 2 * 2.0 * model.weights * x)
        model.lam = 5.0
        model.weights[:] = 1.0
        assert np.allclose(model_f_grad.grad_f(x), 2 * 5.0 * x)
        print("ok")
        """)
    checked = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert checked.stdout == "ok\n", checked.stderr
