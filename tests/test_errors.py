"""Every bad input gives the right error, located and explained, via the API and the CLI.

An error about the user's code renders as one paragraph::

    FILE:LINE:COL: what is wrong
        the source line
        ^ (under the construct at fault)
    What to do.

Through the CLI the same text goes to stderr after ``s2sad: error: ``, the exit
status is 1 and nothing is written: the output directory stays empty.

What the CLI does with a non-scalar output: it cannot know shapes before the
function runs, so ``s2sad grad`` writes the module, and the written
``grad_<f>`` raises ``ValueError`` (naming ``vjp_<f>``) when it is called on
inputs for which ``f`` returns an array; ``vjp_<f>`` works for any output.
The API raises :class:`~s2sad.errors.NonScalarOutputError` (a ``ValueError``)
at the same moment: when the gradient is called.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad.errors import (NoDerivativeError, NonScalarOutputError, S2sadError, SourceError,
                          UnsupportedSyntaxError, UsageError)

HEADER = "import numpy as np\n\n\n"


def write_module(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


def import_path(path):
    name = "errcase_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "s2sad"] + list(args), cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def where(path, line_marker, at):
    """``(line, 1-based column, text)`` of ``at`` in the first line containing ``line_marker``."""
    lines = open(path).read().splitlines()
    for number, text in enumerate(lines, 1):
        if line_marker in text:
            return number, text.index(at) + 1, text
    raise AssertionError(f"{line_marker!r} not in {path}")


def assert_located(message, path, line_marker, at, what=None):
    """``message`` is ``path:line:col: ...``, the line, a caret under ``at``, and a hint."""
    line, col, text = where(path, line_marker, at)
    lines = message.split("\n")
    assert len(lines) >= 4, message
    assert lines[0].startswith(f"{path}:{line}:{col}: "), message
    if what is not None:
        assert what in lines[0], message
    indent = len(text) - len(text.lstrip())
    assert lines[1] == "    " + text.strip(), message
    assert lines[2] == "    " + " " * (col - 1 - indent) + "^", message
    hint = " ".join(lines[3:])
    assert hint.strip() and not lines[3].startswith(" "), message  # says what to do


def assert_cli_failed(done, out_dir, message=None):
    """Exit status 1, one paragraph on stderr (``message`` if given), nothing written."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("s2sad: error: ")
    assert done.stderr.endswith("\n") and "\n\n" not in done.stderr
    assert "Traceback" not in done.stderr
    if message is not None:
        assert done.stderr == f"s2sad: error: {message}\n"
    assert os.listdir(out_dir) == []


# ----------------------------------------------------------------------------
# the error classes


def test_every_error_derives_from_the_base_class():
    for cls in (UnsupportedSyntaxError, NoDerivativeError, NonScalarOutputError, SourceError,
                UsageError, s2sad.GradientCheckError):
        assert issubclass(cls, S2sadError)
        assert getattr(s2sad, cls.__name__) is cls
    assert issubclass(NonScalarOutputError, ValueError)
    assert s2sad.S2sadError is S2sadError


def test_an_error_without_a_location_is_its_message_and_hint():
    err = UsageError("something is off", hint="Do this instead.")
    assert str(err) == "something is off\nDo this instead."
    assert err.message == "something is off" and err.hint == "Do this instead."


# ----------------------------------------------------------------------------
# unsupported constructs and missing derivative rules
#
# (name, source of f, line marker, caret token, error class, words of the message,
#  also through the CLI)


CASES = [
    ("lambda_passed_to_numpy", """\
        def f(x):
            return np.sum(np.apply_along_axis(lambda t: t * x, 0, x))
        """, "return", "lambda", UnsupportedSyntaxError, "lambda to np.apply_along_axis", True),
    ("comprehension_in_a_branch", """\
        def f(x):
            ys = np.sum(x) if x[0] > 0 else sum([t * 2.0 for t in x])
            return ys
        """, "ys =", "[t", UnsupportedSyntaxError, "cannot be inside a branch", True),
    ("setitem", """\
        def f(x):
            x[0] = 1.0
            return np.sum(x)
        """, "x[0] =", "x[0]", UnsupportedSyntaxError, "x is an argument of f; writing into it",
     True),
    ("augmented_setitem", """\
        def f(x):
            x[1] += 1.0
            return np.sum(x)
        """, "x[1] +=", "x[1]", UnsupportedSyntaxError, "would change the caller's array", False),
    ("attribute_store", """\
        def f(x):
            x.flags = 3
            return np.sum(x)
        """, "x.flags", "x.flags", UnsupportedSyntaxError, "attribute", False),
    ("try", """\
        def f(x):
            try:
                y = np.log(x)
            except ValueError:
                y = x
            return np.sum(y)
        """, "try:", "try", UnsupportedSyntaxError, "try", True),
    ("with", """\
        def f(x):
            with np.errstate(all="ignore"):
                y = np.log(x)
            return np.sum(y)
        """, "with ", "with", UnsupportedSyntaxError, "with", False),
    ("nested_def_returned", """\
        def f(x):
            def h(t):
                return t * 2.0
            return h
        """, "return h", "h", UnsupportedSyntaxError, "nested function", True),
    ("generator_expression", """\
        def f(x):
            return np.sum(np.array(np.sin(t) for t in x))
        """, "return np.sum", "(np.sin", UnsupportedSyntaxError, "generator expression", False),
    ("dict_escapes", """\
        def f(x):
            d = {"a": x}
            return np.sum(d)
        """, "return", "d)", UnsupportedSyntaxError, "dict", False),
    ("star_params", """\
        def f(*xs):
            return np.sum(xs[0])
        """, "def f", "def", UnsupportedSyntaxError, "*args", False),
    ("positional_only_params", """\
        def f(x, /, k=1.0):
            return np.sum(x) * k
        """, "def f", "def", UnsupportedSyntaxError, "positional-only", False),
    ("no_return", """\
        def f(x):
            y = np.sum(x)
        """, "def f", "def", UnsupportedSyntaxError, "no return", False),
    ("unknown_method", """\
        def f(x):
            return np.sum(x.tolist())
        """, "return", "x.tolist", UnsupportedSyntaxError, ".tolist()", False),
    ("undefined_name", """\
        def f(x):
            return np.sum(x * nothere)
        """, "return", "nothere", UnsupportedSyntaxError, "'nothere' is not defined", True),
    ("function_as_value", """\
        def f(x):
            h = np.sin
            return np.sum(h(x))
        """, "h = ", "np.sin", UnsupportedSyntaxError, "np.sin is a function (ufunc) used here as a value", False),
    ("fft_of_active_value", """\
        def f(x):
            return np.sum(np.abs(np.fft.fft(x)))
        """, "return", "np.fft.fft", NoDerivativeError, "np.fft.fft", True),
    ("nanmedian_of_active_value", """\
        def f(x):
            s = np.nanmedian(x)
            return np.sum(s * s)
        """, "s = ", "np.nanmedian", NoDerivativeError, "np.nanmedian", True),
    ("reshape_in_memory_order", """\
        def f(x):
            return np.sum(np.cos(x.reshape(3, 1, order='A')))
        """, "return", "x.reshape", NoDerivativeError, "order='C' and order='F' only", True),
    ("complex_constant", """\
        def f(x):
            z = np.exp(1j * x)
            return np.sum(np.abs(z + 1.0))
        """, "z = ", "1j * x", UnsupportedSyntaxError, "real values only, and the complex "
         "constant 1j makes", False),
    ("complex_value_computed_before", """\
        def f(x):
            c = 1.0 + 2j
            return np.sum(np.abs(x * c))
        """, "return", "x * c", UnsupportedSyntaxError, "a complex value makes", False),
    ("complex_dtype", """\
        def f(x):
            return np.sum(x.astype(np.complex128).imag * x)
        """, "return", "x.astype", UnsupportedSyntaxError, "the complex dtype", False),
    ("interp_period", """\
        def f(x):
            return np.sum(np.interp(x, [0.0, 1.0, 2.0], [1.0, 2.0, 0.0], period=3.0))
        """, "return", "np.interp", NoDerivativeError, "period", True),
    ("no_rule_inside_a_helper", """\
        def helper(t):
            return np.nanmedian(t)


        def f(x):
            return np.sum(helper(x) * x)
        """, "return np.nanmedian", "np.nanmedian", NoDerivativeError, "np.nanmedian", True),
    ("unsupported_inside_a_helper", """\
        def helper(t):
            return np.sum(np.array(list({u for u in t})))


        def f(x):
            return np.sum(helper(x))
        """, "return np.sum", "{u", UnsupportedSyntaxError, "set comprehension", False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_api_error(tmp_path, case):
    name, body, line_marker, at, cls, what, _ = case
    path = write_module(tmp_path, name, body)
    f = import_path(path).f
    x = np.array([0.5, 1.5, 2.5])
    args = (x,)
    derivative = s2sad.grad(f)  # transforms are made lazily: the error comes at the first call
    with pytest.raises(cls) as info:
        derivative(*args)
    assert_located(str(info.value), path, line_marker, at, what)
    assert info.value.loc is not None and info.value.loc.filename == path
    assert isinstance(info.value, S2sadError)
    for transform in (lambda: s2sad.source(f), lambda: s2sad.vjp(f)(*args, x)):
        with pytest.raises(cls) as again:
            transform()
        assert str(again.value) == str(info.value)


@pytest.mark.parametrize("case", [c for c in CASES if c[-1]], ids=[c[0] for c in CASES if c[-1]])
def test_cli_error(tmp_path, case):
    name, body, line_marker, at, cls, what, _ = case
    path = write_module(tmp_path, name, body)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(cls) as info:
        s2sad.source(import_path(path).f)
    done = cli(["grad", f"{path}:f", "-o", str(out)], tmp_path)
    assert_cli_failed(done, out, str(info.value))


def test_unsupported_construct_in_ssa(tmp_path):
    name, body, line_marker, at, cls, what, _ = CASES[0]
    path = write_module(tmp_path, name, body)
    with pytest.raises(cls) as info:
        s2sad.ssa(import_path(path).f)
    assert_located(str(info.value), path, line_marker, at, what)
    done = cli(["ssa", f"{path}:f"], tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"s2sad: error: {info.value}\n"


# ----------------------------------------------------------------------------
# functions without rules are fine on constants


CONSTANT_ONLY = """\
def f(x, data):
    spectrum = np.abs(np.fft.fft(data))
    order = np.nanmedian(data)
    return np.sum(x * spectrum) + np.sum(x * order) + np.linalg.norm(data, ord=1) * np.sum(x)
"""


def test_unsupported_functions_of_constants_are_fine(tmp_path):
    path = write_module(tmp_path, "constants", CONSTANT_ONLY)
    f = import_path(path).f
    x, data = np.array([0.1, 0.2, 0.3]), np.array([3.0, 1.0, 2.0])
    expected = np.abs(np.fft.fft(data)) + np.nanmedian(data) + np.sum(np.abs(data))
    assert np.allclose(s2sad.grad(f)(x, data), expected)
    with pytest.raises(NoDerivativeError):
        s2sad.grad(f, wrt="data")(x, data)
    out = tmp_path / "out"
    done = cli(["grad", f"{path}:f", "--wrt", "x", "-o", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    namespace = {}
    exec((out / "constants_f_grad.py").read_text(), namespace)
    assert np.allclose(namespace["grad_f"](x, data), expected)


# ----------------------------------------------------------------------------
# non-scalar output


NON_SCALAR = """\
def f(x):
    y = np.sin(x) * 2.0
    return y
"""


def test_grad_of_a_non_scalar_output(tmp_path):
    path = write_module(tmp_path, "nonscalar", NON_SCALAR)
    f = import_path(path).f
    x = np.array([0.1, 0.2, 0.3])
    for transform in (s2sad.grad, s2sad.value_and_grad):
        with pytest.raises(NonScalarOutputError) as info:
            transform(f)(x)
        assert_located(str(info.value), path, "return y", "return", "shape (3,)")
        assert "vjp" in str(info.value)
        assert isinstance(info.value, ValueError)
    assert np.allclose(s2sad.vjp(f)(x, np.ones(3)), 2.0 * np.cos(x))
    assert np.isclose(s2sad.grad(f)(0.25), 2.0 * np.cos(0.25))  # a scalar input is fine


def test_cli_grad_of_a_non_scalar_output_fails_when_called(tmp_path):
    """The CLI cannot know shapes; the written grad_f checks the output when it runs."""
    path = write_module(tmp_path, "nonscalar", NON_SCALAR)
    out = tmp_path / "out"
    done = cli(["grad", f"{path}:f", "-o", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    namespace = {}
    exec((out / "nonscalar_f_grad.py").read_text(), namespace)
    x = np.array([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"f must return a scalar, not shape \(3,\); use vjp_f"):
        namespace["grad_f"](x)
    with pytest.raises(ValueError, match="vjp_f"):
        namespace["value_and_grad_f"](x)
    assert np.allclose(namespace["vjp_f"](x, np.ones(3)), 2.0 * np.cos(x))


# ----------------------------------------------------------------------------
# bad wrt


WRT_MODULE = """\
def f(x, y, z=1.0):
    return np.sum(x * y) * z
"""


@pytest.mark.parametrize("wrt, what", [
    ("w", "has no parameter 'w'"), (3, "wrt=3 is out of range"), (-4, "wrt=-4 is out of range"),
    ((0, 0), "names a parameter twice"), (("x", 0), "names a parameter twice"),
    ((0, "y", -1, "y"), "names a parameter twice"), ((), "wrt is empty"),
    (1.0, "must be an int, a str"), (True, "must be an int, a str"), (None, "must be an int"),
])
def test_api_bad_wrt(tmp_path, wrt, what):
    path = write_module(tmp_path, "wrt", WRT_MODULE)
    f = import_path(path).f
    for transform in (s2sad.grad, s2sad.value_and_grad, s2sad.vjp, s2sad.source,
                      lambda f, wrt: s2sad.differentiate(wrt=wrt)(f)):
        with pytest.raises(UsageError) as info:  # raised at once, not when called
            transform(f, wrt=wrt)
        assert_located(str(info.value), path, "def f", "def", what)
        assert "'x', 'y', 'z'" in str(info.value)  # the hint lists the parameters


@pytest.mark.parametrize("wrt, what", [
    ("w", "has no parameter 'w'"), ("5", "wrt=5 is out of range"),
    ("x,x", "names a parameter twice"), ("x,0", "names a parameter twice"),
])
def test_cli_bad_wrt(tmp_path, wrt, what):
    path = write_module(tmp_path, "wrt", WRT_MODULE)
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", f"{path}:f", "--wrt", wrt, "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    assert_located(done.stderr[len("s2sad: error: "):].rstrip("\n"), path, "def f", "def", what)


# ----------------------------------------------------------------------------
# what can only go wrong on the command line, or only through the API


def test_cli_missing_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", "nowhere/model.py:f", "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    assert "nowhere/model.py: no such file" in done.stderr
    assert len(done.stderr.splitlines()) == 2  # the problem, then what to do
    done = cli(["ssa", "nowhere/model.py:f"], tmp_path)
    assert done.returncode == 1 and "no such file" in done.stderr


def test_cli_syntax_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sin(x) +\n")
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", f"{path}:f", "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    try:
        compile(path.read_text(), str(path), "exec")
    except SyntaxError as exc:
        col = exc.offset
    message = done.stderr[len("s2sad: error: "):].rstrip("\n")
    assert message.startswith(f"{path}:5:{col}: syntax error")
    lines = message.splitlines()
    assert lines[1] == "    return np.sin(x) +"
    assert lines[2] == "    " + " " * (col - 5) + "^"
    assert "Fix the syntax error" in lines[3]


def test_cli_file_that_fails_to_import(tmp_path):
    path = tmp_path / "raising.py"
    path.write_text("import numpy as np\nraise RuntimeError('boom')\n\ndef f(x):\n    return x\n")
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", f"{path}:f", "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    assert "RuntimeError: boom" in done.stderr


def test_cli_unknown_function(tmp_path):
    path = write_module(tmp_path, "model", WRT_MODULE + "\n\ndef g(x):\n    return x\n")
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", f"{path}:nope", "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    assert f"{path} has no function 'nope'" in done.stderr
    assert "Functions defined there: f, g." in done.stderr
    done = cli(["ssa", f"{path}:np"], tmp_path)  # a name that exists but is no function
    assert done.returncode == 1 and "has no function 'np'" in done.stderr


def test_cli_target_without_function(tmp_path):
    path = write_module(tmp_path, "model", WRT_MODULE)
    out = tmp_path / "out"
    out.mkdir()
    done = cli(["grad", path, "-o", str(out)], tmp_path)
    assert_cli_failed(done, out)
    assert "expected FILE.py:FUNC" in done.stderr


def test_api_function_without_source():
    namespace = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(SourceError, match="cannot read the source of f"):
        s2sad.grad(namespace["f"])(2.0)
    with pytest.raises(SourceError):
        s2sad.ssa(namespace["f"])


@pytest.mark.parametrize("thing", [np.sin, len, 3.0, "f"])
def test_api_not_a_python_function(thing):
    with pytest.raises(SourceError, match="differentiates Python functions"):
        s2sad.grad(thing)
    with pytest.raises(SourceError):
        s2sad.source(thing)
    with pytest.raises(SourceError):
        s2sad.ssa(thing)


def test_the_first_offending_call_is_reported(tmp_path):
    path = write_module(tmp_path, "two_errors", """\
        def f(x):
            a = np.nanmedian(x, axis=0)
            b = np.fft.fft(a)
            return np.sum(np.abs(b))
        """)
    with pytest.raises(NoDerivativeError) as info:
        s2sad.source(import_path(path).f)
    assert_located(str(info.value), path, "a = ", "np.nanmedian", "np.nanmedian")


def test_an_argument_without_a_rule_in_both_modes(tmp_path):
    """One function (:func:`s2sad.common.rule_template`) refuses, in reverse and in forward
    mode, a differentiated value reaching an argument whose stanza has no rule: located,
    naming the function and the argument, with the constant and the custom_vjp way out."""
    path = write_module(tmp_path, "interp_xp", """\
        def f(x):
            return np.sum(np.interp(0.5, x, [1.0, 2.0, 0.0]))
        """)
    f = import_path(path).f
    x = np.array([0.0, 1.0, 2.0])
    with pytest.raises(NoDerivativeError) as reverse:
        s2sad.grad(f)(x)
    with pytest.raises(NoDerivativeError) as forward:
        s2sad.jvp(f)(x, np.ones(3))
    for error, what in ((reverse.value, "derivative"), (forward.value, "tangent (forward-mode)")):
        assert_located(str(error), path, "return", "np.interp",
                       f"s2sad has no {what} rule for argument 'xp' of np.interp")
        assert error.hint.startswith("Pass a constant for that argument. Or give it a rule: "
                                     "@s2sad.custom_vjp on def interp(x, y, z): return "
                                     "np.interp(x, y, z)"), error.hint


def complex_data(x, c):
    return np.sum(np.abs(x * c))


def test_complex_values_are_refused_not_differentiated_wrongly():
    # (the rules assume real values: np.abs's slope np.sign(x), x.imag's none; a complex
    # value reaching them gave a silently wrong gradient)
    x = np.array([0.5, -1.5])
    for args, name in (((x, x * 1j), "c"), ((x + 1j, x), "x"), ((x, 2.0 + 1j), "c")):
        for derivative in (s2sad.grad(complex_data), s2sad.jacfwd(complex_data)):
            with pytest.raises(UsageError, match=f"complex value for {name}: s2sad "
                                                 "differentiates real values only"):
                derivative(*args)
    # complex constants that no differentiated value reaches are fine
    np.testing.assert_allclose(s2sad.grad(complex_data)(x, np.abs(x * 1j)), np.abs(x) * np.sign(x))
