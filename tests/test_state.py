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
"""

import importlib.util
import textwrap
import threading
import time
import traceback

import numpy as np
import pytest

import s2sad
from s2sad import cache, support
from s2sad.errors import NonScalarOutputError, UnsupportedSyntaxError
from s2sad.ir import is_generated
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
    assert not any(name.endswith(("lower.py", "parse.py", "module.py", "reverse.py"))
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
    assert not cache.is_not_scalar(ValueError("vector_valued must return a scalar, not shape "
                                              "(3,); use vjp_vector_valued"))
    # ... and the check is recognised whatever its message says
    namespace, generated = cache.compiled(vector_valued, "reverse", (0,))
    reworded = type("NotScalar", (namespace["NotScalar"],), {
        "__str__": lambda self: "something else entirely"})
    assert cache.is_not_scalar(reworded("vector_valued", (3,)), "vector_valued")
    assert not cache.is_not_scalar(reworded("other", (3,)), "vector_valued")


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
