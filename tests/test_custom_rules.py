"""Derivative rules given by hand: ``@s2sad.custom_vjp``, ``.defvjp``, ``.defjvp``.

A function with a user rule, called from a differentiated function, is
differentiated with that rule in both modes (checked against finite
differences, and with rules deliberately different from the true derivative,
which must show up in the result); the generated code calls the rule by name
under a comment; a module written by the CLI imports the user's rules; a
missing rule, a rule of the wrong shape and a function with no rule at all
are located errors that say how to register one.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.special

import s2sad
from s2sad.errors import NoDerivativeError, UnsupportedSyntaxError, UsageError

HERE = os.path.basename(__file__)


def def_line(fn):
    """The line of ``def fn`` in this file (past its decorators)."""
    code = fn.__code__
    lines = open(code.co_filename).read().splitlines()
    for number in range(code.co_firstlineno, len(lines) + 1):
        if lines[number - 1].lstrip().startswith("def "):
            return number
    raise AssertionError(fn)


def line_of(marker):
    """``(line, 1-based column)`` of the first line of this file containing ``marker``."""
    for number, text in enumerate(open(__file__).read().splitlines(), 1):
        if marker in text and "line_of(" not in text:
            return number, text.index(marker.split("=")[-1].strip()) + 1
    raise AssertionError(marker)


# ----------------------------------------------------------------------------
# functions with user rules (module level: generated code imports them from here)


@s2sad.custom_vjp
def safe_log(x):
    return np.log(np.maximum(x, 1e-300))


@safe_log.defvjp
def safe_log_vjp(g, ans, x):
    return g / x


@safe_log.defjvp
def safe_log_jvp(x, x_dot):
    return x_dot / x


@s2sad.custom_vjp
def erf(x):
    return scipy.special.erf(x)


@erf.defvjp
def erf_vjp(g, ans, x):
    return g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)


@s2sad.custom_jvp
def hypot(x, y, scale=1.0):
    return scale * np.sqrt(x * x + y * y)


@hypot.defjvp
def hypot_jvp(x, y, scale, x_dot, y_dot, scale_dot):
    return scale * (x * x_dot + y * y_dot) / np.sqrt(x * x + y * y) + \
        scale_dot * np.sqrt(x * x + y * y)


@hypot.defvjp
def hypot_vjp(g, ans, x, y, scale):
    r = np.sqrt(x * x + y * y)
    return g * scale * x / r, g * scale * y / r, np.sum(g * r)


@s2sad.custom_vjp
def doubled(x):
    """2 x, with rules that say 3 (so a test sees whether the rule is used)."""
    return 2.0 * x


@doubled.defvjp
def doubled_vjp(g, ans, x):
    return 3.0 * g


@doubled.defjvp
def doubled_jvp(x, x_dot):
    return 3.0 * x_dot


@s2sad.custom_vjp
def only_vjp(x):
    return np.sin(x)


@only_vjp.defvjp
def only_vjp_vjp(g, ans, x):
    return g * np.cos(x)


@s2sad.custom_jvp
def only_jvp(x):
    return np.sin(x)


@only_jvp.defjvp
def only_jvp_jvp(x, x_dot):
    return np.cos(x) * x_dot


@s2sad.custom_vjp
def no_rules(x):
    return x * 1.5


# functions calling them


def log_loss(x):
    y = safe_log(x) * 2.0
    return np.sum(y * x)


def two_params(x, y):
    return np.sum(hypot(x, y=y, scale=3.0) + erf(x))


def scaled(x, y, s):
    return np.sum(hypot(x, y, s))


def uses_doubled(x):
    return np.sum(doubled(x) * x)


def helper(x):
    return safe_log(x) * x


def in_a_loop_and_a_helper(x, n):
    s = x
    for i in range(n):
        s = safe_log(s + 2.0) + hypot(s, x)
    return np.sum(helper(s))


def in_a_loop(x, n):
    s = x
    for i in range(n):
        s = safe_log(s + 2.0) + hypot(s, x)
    return np.sum(s * s)


def constant_arguments(x):
    c = safe_log(np.array([2.0, 3.0, 4.0]))
    d = no_rules(np.array([1.0, 4.0, 0.5]))  # no rule needed: no derivative flows here
    return np.sum(x * c * d) + np.sum(hypot(x, np.array([1.0, 2.0, -1.0]), 2.0))


def calls_only_vjp(x):
    return np.sum(only_vjp(x) * x)


def calls_only_jvp(x):
    return np.sum(only_jvp(x) * x)


def calls_no_rules(x):
    return np.sum(no_rules(x))


X = np.array([0.5, 1.5, 2.0])
Y = np.array([1.0, -2.0, 0.3])


# ----------------------------------------------------------------------------
# the decorator


def test_calling_the_decorated_function_just_runs_it():
    assert np.allclose(safe_log(X), np.log(X))
    assert hypot(3.0, 4.0) == 5.0 and hypot(3.0, y=4.0, scale=2.0) == 10.0
    assert doubled.__name__ == "doubled" and "3 (so a test" in doubled.__doc__
    assert isinstance(safe_log, s2sad.CustomDerivative)
    assert safe_log.vjp_rule is safe_log_vjp and safe_log.jvp_rule is safe_log_jvp
    assert erf.jvp_rule is None and "erf_vjp" in repr(erf)


def test_defvjp_and_defjvp_return_the_rule_so_it_stays_a_plain_function():
    assert callable(safe_log_vjp) and safe_log_vjp(2.0, None, 4.0) == 0.5
    assert safe_log_jvp(4.0, 2.0) == 0.5


# ----------------------------------------------------------------------------
# derivatives


@pytest.mark.parametrize("f, args, wrt", [
    (log_loss, (X,), 0),
    (scaled, (X, Y, 1.5), (0, 1, 2)),
    (in_a_loop_and_a_helper, (X, 2), 0),
    (constant_arguments, (X,), 0),
])
def test_rules_agree_with_finite_differences_in_both_modes(f, args, wrt):
    s2sad.check_grads(f, args, wrt=wrt, modes=("forward", "reverse"))


def test_several_parameters_keyword_arguments_and_a_constant_argument():
    s2sad.check_grads(two_params, (X, Y), wrt=(0, 1), modes="reverse")
    gx, gy = s2sad.grad(two_params, wrt=(0, 1))(X, Y)
    r = np.sqrt(X * X + Y * Y)
    assert np.allclose(gx, 3.0 * X / r + 2 / np.sqrt(np.pi) * np.exp(-X * X))
    assert np.allclose(gy, 3.0 * Y / r)
    text = s2sad.source(two_params, wrt=(0, 1))
    assert "v1 = hypot(x, y, 3.0)" in text  # keywords reach the function by position
    # the adjoint of the constant scale is not used
    assert "v1_x_bar, y_bar, _ = hypot_vjp(v1_bar, v1, x, y, 3.0)" in text


def test_the_users_rule_is_what_the_derivative_uses():
    # doubled is 2x, but its rules say 3: d/dx sum(doubled(x) * x) = 3x + 2x
    assert np.allclose(s2sad.grad(uses_doubled)(X), 5.0 * X)
    value, out_dot = s2sad.jvp(uses_doubled)(X, np.ones(3))
    assert np.isclose(value, np.sum(2 * X * X)) and np.isclose(out_dot, np.sum(5.0 * X))
    with pytest.raises(s2sad.GradientCheckError):
        s2sad.check_grads(uses_doubled, (X,), modes="reverse")
    with pytest.raises(s2sad.GradientCheckError):
        s2sad.check_grads(uses_doubled, (X,), modes="forward")


def test_the_rule_is_called_at_run_time():
    calls = []

    @s2sad.custom_vjp
    def traced(x):
        return x * x

    @traced.defvjp
    def traced_vjp(g, ans, x):
        calls.append(("vjp", ans))
        return 2.0 * x * g

    @traced.defjvp
    def traced_jvp(x, x_dot):
        calls.append(("jvp", x))
        return 2.0 * x * x_dot

    def f(x):
        return traced(x) * 3.0

    assert s2sad.grad(f)(2.0) == 12.0 and calls == [("vjp", 4.0)]
    assert s2sad.jvp(f)(2.0, 1.0) == (12.0, 12.0) and calls[-1] == ("jvp", 2.0)


def test_a_rule_defined_in_a_function_is_bound_by_the_api():
    @s2sad.custom_vjp
    def cube(x):
        return x ** 3

    @cube.defvjp
    def cube_vjp(g, ans, x):
        return g * 3.0 * x ** 2

    def f(x):
        return np.sum(cube(x))

    assert np.allclose(s2sad.grad(f)(X), 3 * X ** 2)
    assert "import" not in s2sad.source(f).split("def ")[0].replace("import numpy", "")


def test_the_tangent_of_a_constant_argument_is_zeros():
    seen = []

    @s2sad.custom_jvp
    def mul(x, y, label):
        return x * y

    @mul.defjvp
    def mul_jvp(x, y, label, x_dot, y_dot, label_dot):
        seen.append((np.array(y_dot).copy(), label_dot))
        return x_dot * y + x * y_dot

    def f(x, y):
        return np.sum(mul(x, y, "tag"))

    value, out_dot = s2sad.jvp(f, wrt=0)(X, Y, np.ones(3))
    assert np.isclose(out_dot, np.sum(Y))
    (y_dot, label_dot), = seen
    assert np.array_equal(y_dot, np.zeros(3)) and label_dot is None


@s2sad.custom_vjp
def polar(x, y):
    return np.sqrt(x * x + y * y), np.arctan2(y, x)


@polar.defvjp
def polar_vjp(g, ans, x, y):
    (r_bar, t_bar), (r, t) = g, ans
    return r_bar * x / r - t_bar * y / r ** 2, r_bar * y / r + t_bar * x / r ** 2


@polar.defjvp
def polar_jvp(x, y, x_dot, y_dot):
    r = np.sqrt(x * x + y * y)
    return (x * x_dot + y * y_dot) / r, (x * y_dot - y * x_dot) / r ** 2


def uses_polar(x, y):
    r, t = polar(x, y)
    return np.sum(r * t + r)


def test_a_tuple_result_unpacked_at_the_call_gives_the_rules_tuples():
    s2sad.check_grads(uses_polar, (X, Y), wrt=(0, 1))
    text = s2sad.source(uses_polar, wrt=(0, 1))
    assert "polar_vjp((r_bar, t_bar), (r, t), x, y)" in text
    assert "r_dot, t_dot = polar_jvp(x, y, x_dot, y_dot)" in s2sad.source(
        uses_polar, wrt=(0, 1), mode="forward")


def test_vector_mode_calls_the_rule_once_per_direction():
    jf = s2sad.jacobian(scaled, wrt=(0, 1), mode="forward")(X, Y, 2.0)
    jr = s2sad.jacobian(scaled, wrt=(0, 1), mode="reverse")(X, Y, 2.0)
    for a, b in zip(jf, jr):
        assert np.allclose(a, b)


def test_the_custom_function_itself_can_be_differentiated_and_checked():
    s2sad.check_grads(safe_log, (X,))
    assert np.allclose(s2sad.grad(doubled)(1.0), 3.0)  # its rule, not its body
    assert np.allclose(s2sad.jvp(doubled)(X, np.ones(3))[1], 3.0)
    assert "x_bar = safe_log_vjp(1.0, out, x)" in s2sad.source(safe_log)


# ----------------------------------------------------------------------------
# second order


def test_second_order_uses_the_rules_again():
    # d/dx sum(2 x log x) = 2 log x + 2; second derivative 2 / x
    assert np.allclose(s2sad.hessian(log_loss)(X), np.diag(2 / X))
    assert np.allclose(s2sad.hvp(log_loss)(X, np.ones(3)), 2 / X)
    assert np.isclose(s2sad.grad(s2sad.grad(safe_log))(1.5), -1 / 1.5 ** 2)
    s2sad.check_grads(log_loss, (X,), order=2)
    s2sad.check_grads(in_a_loop, (X, 2), order=2)


def test_forward_over_reverse_needs_the_jvp_rule():
    assert np.isclose(s2sad.grad(s2sad.grad(only_vjp))(0.3), -np.sin(0.3))  # reverse twice
    with pytest.raises(NoDerivativeError) as info:
        s2sad.hvp(calls_only_vjp)(X, np.ones(3))
    text = str(info.value)
    assert "only_vjp has a reverse-mode rule (only_vjp_vjp) but no forward-mode rule" in text
    assert "hvp and hessian differentiate the generated gradient code" in text
    assert "@only_vjp.defjvp" in text


# ----------------------------------------------------------------------------
# generated code


def test_generated_code_calls_the_rule_by_name_under_a_comment():
    reverse = s2sad.source(log_loss)
    module = safe_log.__module__
    assert f"from {module} import safe_log, safe_log_vjp\n" in reverse
    assert f"Needs NumPy and {module}." in reverse
    comment = f"# safe_log: user rule safe_log_vjp ({HERE}:{def_line(safe_log_vjp)})"
    assert f"    {comment}\n    x_bar += safe_log_vjp(v1_bar, v1, x)\n" in reverse
    assert "    v1 = safe_log(x)\n" in reverse
    forward = s2sad.source(log_loss, mode="forward")
    assert f"from {module} import safe_log, safe_log_jvp\n" in forward
    comment = f"# safe_log: user rule safe_log_jvp ({HERE}:{def_line(safe_log_jvp)})"
    assert f"    {comment}\n    v1_dot = safe_log_jvp(x, x_dot)\n" in forward
    assert "safe_log_vjp" not in forward


def test_ssa_listing_shows_the_call():
    assert "v1 = safe_log(x)" in s2sad.ssa(log_loss)


USER_MODULE = '''\
import numpy as np
import scipy.special
import s2sad


@s2sad.custom_vjp
def safe_log(x):
    return np.log(np.maximum(x, 1e-300))


@safe_log.defvjp
def safe_log_vjp(g, ans, x):
    return g / x


@safe_log.defjvp
def safe_log_jvp(x, x_dot):
    return x_dot / x


def loss(x, w):
    c = scipy.special.erf(0.5)  # a function with no rule, on constants only
    return np.sum(w * safe_log(x) * c)
'''


def run(args, cwd):
    return subprocess.run([sys.executable] + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_a_module_written_by_the_cli_imports_the_rules_and_runs(tmp_path):
    (tmp_path / "usermod.py").write_text(USER_MODULE)
    for command in ("grad", "jvp"):
        done = run(["-m", "s2sad", command, "usermod.py:loss", "--wrt", "x,w", "-o", "out"],
                   tmp_path)
        assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "usermod_loss_grad.py").read_text()
    assert "from usermod import safe_log, safe_log_vjp\n" in text
    assert "import scipy.special\n" in text
    assert "# safe_log: user rule safe_log_vjp (usermod.py:12)" in text
    code = textwrap.dedent("""\
        import sys
        sys.path[:0] = ['.', 'out']
        import numpy as np
        import usermod, usermod_loss_grad as gen, usermod_loss_jvp as tangent
        x, w = np.array([0.5, 1.5, 2.0]), np.array([1.0, -2.0, 0.3])
        gx, gw = gen.grad_loss(x, w)
        c = float(usermod.scipy.special.erf(0.5))
        assert np.allclose(gx, w * c / x) and np.allclose(gw, np.log(x) * c), (gx, gw)
        value, out_dot = tangent.jvp_loss(x, w, np.ones(3), np.zeros(3))
        assert np.isclose(value, usermod.loss(x, w)) and np.isclose(out_dot, np.sum(w * c / x))
        print("ok")
        """)
    checked = run(["-c", code], tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "ok\n"


def test_the_cli_reports_a_missing_rule_located(tmp_path):
    (tmp_path / "usermod.py").write_text(USER_MODULE.replace(
        "@safe_log.defjvp\ndef safe_log_jvp(x, x_dot):\n    return x_dot / x\n", ""))
    done = run(["-m", "s2sad", "jvp", "usermod.py:loss", "-o", "out"], tmp_path)
    assert done.returncode == 1
    source = (tmp_path / "usermod.py").read_text().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "safe_log(x) * c" in text)
    col = source[line - 1].index("safe_log(x)") + 1
    assert f"usermod.py:{line}:{col}: safe_log has a reverse-mode rule (safe_log_vjp) but no " \
           f"forward-mode rule" in done.stderr
    assert "@safe_log.defjvp" in done.stderr
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


# ----------------------------------------------------------------------------
# errors


def test_a_missing_jvp_rule_is_a_located_error():
    with pytest.raises(NoDerivativeError) as info:
        s2sad.jvp(calls_only_vjp)(X, np.ones(3))
    line, col = line_of("return np.sum(only_vjp(x) * x)")
    text = str(info.value)
    assert text.startswith(f"{__file__}:{line}:{col + len('return np.sum(')}: only_vjp has a "
                           f"reverse-mode rule (only_vjp_vjp) but no forward-mode rule")
    assert "Register one: @only_vjp.defjvp on def only_vjp_jvp(x, x_dot)" in text


def test_a_missing_vjp_rule_is_a_located_error():
    with pytest.raises(NoDerivativeError) as info:
        s2sad.grad(calls_only_jvp)(X)
    line, _ = line_of("return np.sum(only_jvp(x) * x)")
    text = str(info.value)
    assert f"{__file__}:{line}:" in text
    assert "only_jvp has a forward-mode rule (only_jvp_jvp) but no reverse-mode rule" in text
    assert "Register one: @only_jvp.defvjp on def only_jvp_vjp(g, ans, x)" in text


def test_no_rule_at_all_is_an_error_only_where_a_derivative_flows():
    with pytest.raises(NoDerivativeError, match=r"no_rules has no reverse-mode rule"):
        s2sad.grad(calls_no_rules)(X)
    with pytest.raises(NoDerivativeError, match=r"no_rules has no forward-mode rule"):
        s2sad.jvp(calls_no_rules)(X, np.ones(3))
    assert np.allclose(s2sad.grad(constant_arguments)(X), s2sad.jacobian(constant_arguments,
                                                                          mode="forward")(X))


def test_a_rule_of_the_wrong_shape_is_refused_when_registered():
    @s2sad.custom_vjp
    def f(x, y):
        return x * y

    with pytest.raises(UsageError, match=r"Write it as f_vjp\(g, ans, x, y\)"):
        @f.defvjp
        def f_vjp(g, x, y):
            return g * y, g * x
    with pytest.raises(UsageError, match=r"Write it as f_jvp\(x, y, x_dot, y_dot\)"):
        f.defjvp(lambda x, x_dot: x_dot)
    with pytest.raises(UsageError, match="needs a function"):
        f.defvjp(3)


def test_what_custom_vjp_cannot_wrap():
    with pytest.raises(UsageError, match="wraps a Python function"):
        s2sad.custom_vjp(np.sin)
    with pytest.raises(UsageError, match=r"\*args"):
        @s2sad.custom_vjp
        def f(*xs):
            return xs[0]


def test_a_call_that_does_not_fit_the_signature_is_located():
    def f(x):
        return safe_log(x, 2.0)

    with pytest.raises(UnsupportedSyntaxError, match="cannot call safe_log like this"):
        s2sad.grad(f)(1.0)


# functions s2sad has no rule for and cannot read

pyfunc = np.frompyfunc(lambda a: a * 2, 1, 1)


def calls_erf(x):
    return scipy.special.erf(x * 1.0) * 2.0


def calls_erf_on_constants(x, c):
    return x * scipy.special.erf(c)


def calls_pyfunc(x):
    return pyfunc(x)


def calls_pyfunc_on_constants(x):
    return x * pyfunc(2.0)


def calls_float_add(x):
    return float.__add__(x, 1.0)


def calls_float_add_on_constants(x):
    return x * float.__add__(2.0, 1.0)


@pytest.mark.parametrize("f, spelling, hint", [
    (calls_erf, "scipy.special.erf", "def erf(x): return scipy.special.erf(x)"),
    (calls_pyfunc, "pyfunc", "def custom_pyfunc(x): return pyfunc(x)"),
    (calls_float_add, "float.__add__", "def add(x, y): return float.__add__(x, y)"),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_function_with_no_rule_names_itself_and_how_to_register_one(f, spelling, hint, mode):
    with pytest.raises(NoDerivativeError) as info:
        if mode == "reverse":
            s2sad.grad(f)(0.3)
        else:
            s2sad.jvp(f)(0.3, 1.0)
    text = str(info.value)
    line, col = line_of(f"    return {spelling}(x{' * 1.0' if f is calls_erf else ''}")
    assert text.startswith(f"{__file__}:{line}:{col + len('return ')}: s2sad has no derivative "
                           f"rule for {spelling}(), and it is applied to a differentiated value")
    assert f"Give it a rule: @s2sad.custom_vjp on {hint}" in text
    assert "Custom derivative rules" in text


@pytest.mark.parametrize("f, args, expected", [
    (calls_erf_on_constants, (0.3, 0.5), scipy.special.erf(0.5)),
    (calls_pyfunc_on_constants, (0.3,), 4.0),
    (calls_float_add_on_constants, (0.3,), 3.0),
])
def test_a_function_with_no_rule_is_fine_on_constants(f, args, expected):
    assert np.isclose(s2sad.grad(f)(*args), expected)
    assert np.isclose(s2sad.jvp(f)(*args, 1.0)[1], expected)
