"""Honest state (issue 15): what s2sad decides, it decides from explicit facts.

* Trust of generated code: lowering skips its memory checks for functions s2sad
  compiled from code it generated (recorded by the cache when it compiles them),
  never because a module's docstring says "Written by s2sad".
* ``s2sad.clear_cache()`` forgets every transform, also for derivatives made before.
* Errors reach the user without chained internal exceptions and without s2sad's
  frames below the cache.
* A non-scalar output is recognised by the class the generated ``check_scalar``
  raises (``NotScalar``), not by the text of its message.
* Two threads asking for the same transform at once transform it once.
* Tracebacks through the API hide s2sad's own frames (``S2SAD_FULL_TRACEBACK=1`` keeps them).
* Generated source lives on its module's ``__loader__``; second order reads it there.
* A transform keeps no user function alive (``hvp``, ``hessian``).
"""

import gc
import importlib.util
import inspect
import linecache
import os
import textwrap
import threading
import time
import traceback
import weakref

import numpy as np
import pytest

import s2sad
from s2sad import cache, failures, support
from s2sad.errors import NonScalarOutputError, UnsupportedSyntaxError
from s2sad.generated_code import is_generated, load_generated
from s2sad.lower import lower


def _load(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- trust -------------------------------------------------------------------------------------

def writes_a_view_then_reads(x):
    y = x * 1.0
    v = y[0:2]
    y[0] = 5.0
    return np.sum(v * x[0:2])


def test_a_docstring_does_not_make_code_trusted(tmp_path):
    # the text s2sad writes at the top of its modules, on a module the user wrote
    module = _load(tmp_path, "impostor", '''
        """Reverse-mode derivatives of nothing.

        Written by s2sad; do not edit. Needs NumPy only.
        """
        import numpy as np

        def writes_a_view_then_reads(x):
            y = x * 1.0
            v = y[0:2]
            y[0] = 5.0
            return np.sum(v * x[0:2])
        ''')
    assert not is_generated(module.writes_a_view_then_reads)
    for fn in (writes_a_view_then_reads, module.writes_a_view_then_reads):
        with pytest.raises(UnsupportedSyntaxError, match="shares memory"):
            s2sad.grad(fn)(np.ones(3))


def cube_in_place(x):
    y = x * 1.0
    y[0] = y[0] * x[0]
    return np.sum(y * y)


def test_code_the_cache_compiles_is_trusted_and_said_so_explicitly():
    generated = cache.generated_function(s2sad.grad(cube_in_place))
    assert is_generated(generated)
    assert lower(generated).generated
    with pytest.raises(UnsupportedSyntaxError, match="shares memory"):
        lower(generated, trusted=False)  # the argument decides: its restores are then checked
    assert not is_generated(cube_in_place) and not lower(cube_in_place).generated
    x = np.array([0.3, -0.2, 0.5])
    s2sad.check_grads(cube_in_place, (x,), order=2)  # second order reads the trusted code


def test_a_custom_functions_entry_is_s2sads_own_code():
    @s2sad.custom_vjp
    def square(x):
        return x * x

    square.defvjp(lambda g, ans, x: 2.0 * g * x)
    assert is_generated(square.entry_function())


# --- clear_cache -------------------------------------------------------------------------------

def quadratic(x):
    return x * x


def test_clear_cache_is_public_and_forgets_every_transform(monkeypatch):
    assert "clear_cache" in s2sad.__all__ and s2sad.clear_cache is cache.clear_cache
    made = []
    real = cache.reverse_module

    def counting(fn, *args, **kwargs):
        made.append(fn)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(cache, "reverse_module", counting)
    derivative = s2sad.grad(quadratic)
    assert derivative(3.0) == 6.0 and derivative(2.0) == 4.0
    assert made == [quadratic]
    s2sad.clear_cache()
    assert cache.cached(quadratic, "reverse_grad", (0,)) is None
    assert derivative(3.0) == 6.0  # a derivative made before the clear transforms again
    assert s2sad.grad(quadratic)(1.0) == 2.0
    assert made == [quadratic, quadratic]


def test_clear_cache_picks_up_rules_registered_after_differentiating():
    @s2sad.custom_vjp
    def scaled(x):
        return 2.0 * x

    scaled.defvjp(lambda g, ans, x: 2.0 * g)

    def f(x):
        return scaled(x)

    derivative = s2sad.grad(f)
    assert derivative(1.0) == 2.0
    scaled.defvjp(lambda g, ans, x: 3.0 * g)  # a deliberately wrong rule, registered late
    assert derivative(1.0) == 2.0  # the cached code calls the rule it was made with
    s2sad.clear_cache()
    assert derivative(1.0) == 3.0


# --- errors at the API boundary ----------------------------------------------------------------

def uses_with(x):
    with open(__file__) as handle:
        handle.read()
    return x


def test_an_error_through_grad_has_no_chained_internal_exception():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(uses_with)(1.0)
    exc = info.value
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None
    frames = [frame.filename for frame in traceback.extract_tb(exc.__traceback__)]
    # the test's call, the API's fast path and its compile, the cache: none of the front end's
    front_end = (os.path.join("s2sad", "lower", ""), os.path.join("s2sad", "reverse", ""))
    assert not any(name.endswith(("parse.py", "module.py")) or any(p in name for p in front_end)
                   for name in frames), frames
    assert len(frames) <= 5, frames
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.ssa(uses_with)
    assert info.value.__cause__ is None and len(traceback.extract_tb(info.value.__traceback__)) <= 2


# --- NotScalar ---------------------------------------------------------------------------------

def vector_valued(x):
    return x * 2.0


def test_the_non_scalar_check_raises_its_own_class():
    assert issubclass(support.NotScalar, support.CheckFailed)
    with pytest.raises(support.NotScalar) as info:
        support.check_scalar(np.ones(3), "f")
    assert info.value.name == "f" and info.value.shape == (3,)
    assert str(info.value) == "f must return a scalar, not shape (3,); use vjp_f"
    text = s2sad.source(vector_valued)
    assert "class NotScalar(CheckFailed)" in text and "raise NotScalar(name" in text
    assert "s2sad" not in text.replace("Written by s2sad", "")


def test_the_api_decides_non_scalar_by_the_class_not_the_message(monkeypatch):
    with pytest.raises(NonScalarOutputError, match=r"returned an array of shape \(3,\)") as info:
        s2sad.grad(vector_valued)(np.ones(3))
    assert info.value.__cause__ is None
    # a ValueError with the same words is not mistaken for the check (a user's own error) ...
    assert not failures.is_not_scalar(ValueError("vector_valued must return a scalar, not shape "
                                                 "(3,); use vjp_vector_valued"))
    # ... and the check is recognised whatever its message says
    namespace, generated = cache.compiled(vector_valued, "reverse", (0,))
    reworded = type("NotScalar", (namespace["NotScalar"],), {
        "__str__": lambda self: "something else entirely"})
    assert failures.is_not_scalar(reworded("vector_valued", (3,)), "vector_valued")
    assert not failures.is_not_scalar(reworded("other", (3,)), "vector_valued")


def says_scalar_in_its_own_error(x):
    if x > 0.0:
        raise ValueError("says_scalar_in_its_own_error must return a scalar, not shape (2,); "
                         "use vjp_")
    return x * x


def test_a_users_own_value_error_with_those_words_reaches_the_user():
    with pytest.raises(ValueError) as info:
        s2sad.grad(says_scalar_in_its_own_error)(1.0)
    assert not isinstance(info.value, NonScalarOutputError)


# --- threads -----------------------------------------------------------------------------------

def for_threads(x):
    return np.sum(np.sin(x) * x)


def test_two_threads_compiling_one_function_transform_it_once(monkeypatch):
    made = []
    real = cache.reverse_module

    def slow(fn, *args, **kwargs):
        made.append(fn)
        time.sleep(0.2)  # both threads are inside the cache fill at once without the lock
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(cache, "reverse_module", slow)
    x = np.linspace(0.1, 1.0, 4)
    start, results, errors = threading.Barrier(2), [None, None], []

    def run(k):
        try:
            start.wait()
            results[k] = s2sad.grad(for_threads)(x)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    expected = np.cos(x) * x + np.sin(x)
    for result in results:
        np.testing.assert_allclose(result, expected)
    assert made == [for_threads]


# --- tracebacks: the user's frames and the generated code's, not s2sad's -----------------------

def _frames(exc):
    return [frame.filename for frame in traceback.extract_tb(exc.__traceback__)]


def _own(filename):
    return os.path.abspath(filename).startswith(os.path.dirname(s2sad.__file__) + os.sep)


def test_an_error_through_the_api_shows_no_frame_of_s2sad_below_its_boundary(monkeypatch):
    monkeypatch.delenv("S2SAD_FULL_TRACEBACK", raising=False)
    for call in (lambda: s2sad.grad(uses_with)(1.0), lambda: s2sad.jvp(uses_with)(1.0, 1.0),
                 lambda: s2sad.hvp(uses_with)(1.0, 1.0), lambda: s2sad.source(uses_with),
                 lambda: s2sad.check_grads(uses_with, (1.0,))):
        with pytest.raises(UnsupportedSyntaxError) as info:
            call()
        frames = _frames(info.value)
        assert frames[0] == __file__
        assert sum(map(_own, frames)) == 1, frames  # where the API re-raised it
    with pytest.raises(s2sad.errors.UsageError) as info:
        s2sad.grad(uses_with, wrt=5)
    assert sum(map(_own, _frames(info.value))) == 1


def test_s2sad_full_traceback_keeps_every_frame(monkeypatch):
    monkeypatch.setenv("S2SAD_FULL_TRACEBACK", "1")
    s2sad.clear_cache()
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(uses_with)(1.0)
    frames = _frames(info.value)
    assert any(os.path.join("s2sad", "lower", "") in name for name in frames), frames


def test_a_users_error_in_a_custom_rule_keeps_the_users_frame(tmp_path, monkeypatch):
    monkeypatch.delenv("S2SAD_FULL_TRACEBACK", raising=False)
    module = _load(tmp_path, "badrule", '''
        import numpy as np
        import s2sad

        @s2sad.custom_vjp
        def cube(x):
            return x ** 3

        @cube.defvjp
        def cube_vjp(g, ans, x):
            raise KeyError("the rule's own bug")

        def f(x):
            return cube(x) * 2.0
        ''')
    with pytest.raises(KeyError) as info:
        s2sad.grad(module.f)(1.5)
    frames = _frames(info.value)
    assert frames[-1] == str(tmp_path / "badrule.py")  # the rule's line, innermost
    assert any(name.startswith("<s2sad") for name in frames)  # the generated grad_f calling it
    assert sum(map(_own, frames)) == 1, frames


# --- generated source lives on its module's loader ---------------------------------------------

def polynomial(x):
    y = x * x
    return np.sum(y * x + 2.0 * y)


def test_generated_source_is_served_by_the_modules_loader():
    generated = cache.generated_function(s2sad.grad(polynomial))
    loader = generated.__globals__["__loader__"]
    assert loader.get_source(generated.__module__) == s2sad.source(polynomial)
    assert inspect.getsource(generated).startswith("def grad_polynomial(")
    assert generated.__code__.co_filename == loader.filename


def test_second_order_reads_generated_code_from_its_loader_not_linecache():
    s2sad.clear_cache()
    x = np.array([0.5, -1.0, 2.0])
    s2sad.grad(polynomial)(x)  # compiled: its source registered with linecache
    linecache.clearcache()  # forget every text linecache holds
    hessian = s2sad.hessian(polynomial)(x)
    np.testing.assert_allclose(hessian, np.diag(6 * x + 4), rtol=1e-12)


def test_a_traceback_through_generated_code_shows_its_lines():
    def fails(x):
        return np.sum(np.log(x))
    source = "def grad_f(x):\n    return 1.0 / undefined_name\n"
    namespace = load_generated(source, "test of tracebacks")
    linecache.clearcache()
    with pytest.raises(NameError) as info:
        namespace["grad_f"](1.0)
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert last.line == "return 1.0 / undefined_name"
    assert is_generated(namespace["grad_f"]) and not is_generated(fails)


# --- nothing is kept alive by a transform ------------------------------------------------------

def test_hvp_and_hessian_do_not_keep_the_function_alive(tmp_path):
    module = _load(tmp_path, "transient", '''
        import numpy as np

        def f(x):
            return np.sum(np.sin(x) * x)
        ''')
    f = module.f
    ref = weakref.ref(f)
    x = np.array([0.3, 1.2])
    hvp, hessian = s2sad.hvp(f), s2sad.hessian(f)
    np.testing.assert_allclose(hvp(x, np.ones(2)), hessian(x) @ np.ones(2), rtol=1e-12)
    s2sad.jvp(s2sad.grad(f))(x, np.ones(2))
    del f, hvp, hessian, module
    gc.collect()
    assert ref() is None


def test_the_source_of_a_generated_module_lives_as_long_as_the_module():
    namespace = load_generated("def grad_g(x):\n    return 2.0 * x\n", "test of lifetimes")
    function = namespace["grad_g"]
    assert inspect.getsource(function) == "def grad_g(x):\n    return 2.0 * x\n"
    loader = weakref.ref(namespace["__loader__"])
    del namespace, function
    gc.collect()
    assert loader() is None  # linecache's entry did not keep it


def _long(x):
    a = np.sin(x) * x
    b = np.exp(-a) / (1.0 + a * a)
    c = np.tanh(b) * a + b
    return np.sum(c * c)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_transform_pauses_the_garbage_collector_and_restores_its_state(enabled, monkeypatch):
    """The collector is paused while a module is built (its automatic collections cost
    nearly half of it), and left as the caller had it."""
    from s2sad import module

    seen, lower = [], module.lower

    def spy(*args, **kwargs):  # (lowering runs inside the build)
        seen.append(gc.isenabled())
        return lower(*args, **kwargs)

    monkeypatch.setattr(module, "lower", spy)
    (gc.enable if enabled else gc.disable)()
    try:
        module.clear_lowered()
        module.reverse_module(_long, (0,))
        module.clear_lowered()
        module.forward_module(_long, (0,))
        after = gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False, False] and after is enabled
