"""Forward mode: tangent code, vector mode, Jacobians, and the ``jvp`` command line.

Every primitive's ``jvp`` along a random direction, and vector mode against
single directions, are checked with the per-primitive table in
``test_primitives.py``. A corpus of programs checks that
forward and reverse mode are transposes of each other, ⟨v, J u⟩ = ⟨Jᵀ v, u⟩,
which needs no finite differences and so holds to rounding error.
"""

import importlib.util
import inspect
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad
from tracing import generated_calls

def assert_close(analytic, expected, what, rtol=1e-6):
    assert np.shape(analytic) == np.shape(expected), \
        f"{what}: tangent has shape {np.shape(analytic)}, expected {np.shape(expected)}"
    error = np.max(np.abs(np.asarray(analytic, dtype=float) - expected), initial=0.0)
    scale = np.max(np.abs(expected), initial=0.0)
    assert error <= rtol * scale + 1e-9, f"{what}: max error {error:.3g}, scale {scale:.3g}\n" \
                                         f"s2sad:\n{analytic}\nexpected:\n{expected}"


# --- a corpus of programs: forward and reverse mode are transposes -------------------------


def sigmoid(z):
    e = np.exp(-z)  # two statements: a helper of its own, not inlined (inline/small.py)
    return 1 / (1 + e)


def layer(x, w, b):
    a = x @ w + b  # two statements: a helper of its own, not inlined (inline/small.py)
    return np.tanh(a)


def lecture(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def mlp(x, w1, b1, w2):
    h = layer(x, w1, b1)
    return sigmoid(h @ w2)


def broadcast_mix(x, s, row):
    z = x * s + row
    return np.sum(z ** 2, axis=0) / np.max(z) + s


def slicing(x):
    head = x[:2, 1:]
    return head.T @ x[1:3, :-1] + x[0, 1:]


def branches(x, y):
    if np.sum(x) > 0:
        z = x * y
    else:
        z = np.sin(x) + y
    return z * 2.0


def loops(x, n):
    s = x
    for i in range(n):
        s = np.sin(s) * x + i
    k = 0
    while k < 3:
        s = s * 0.9 + np.cos(x)
        k = k + 1
    return s


def early_exit(x):
    total = 0.0
    for i in range(10):
        total = total + np.sum(x ** i) / (i + 1)
        if total > 5.0:
            break
    return total * x


def reductions(a):
    m = np.mean(a, axis=1, keepdims=True)
    centred = a - m
    return np.sum(centred ** 2, axis=-1)[:2] + np.prod(a, axis=0)[1:3] + np.linalg.norm(a)


def linear_algebra(a, b):
    c = a @ a.T + 3 * np.eye(3)
    return np.linalg.solve(c, b) + np.linalg.det(c) * np.trace(np.linalg.inv(c)) * b


def elementwise_scalar_only(x, y):
    return math.exp(x) * math.sin(y) + max(x, y) + abs(x - y) ** 1.5


RNG = np.random.default_rng(0)
PROGRAMS = [
    (lecture, (2.0, 3.0), (0, 1)),
    (lecture, (np.array([1.5, 2.5]), 3.0), (0, 1)),
    (mlp, (RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)), RNG.standard_normal(5),
           RNG.standard_normal(5)), (0, 1, 2, 3)),
    (broadcast_mix, (RNG.uniform(1, 2, (3, 4)), 1.5, RNG.uniform(1, 2, 4)), (0, 1, 2)),
    (broadcast_mix, (RNG.uniform(1, 2, (3, 4)), 1.5, RNG.uniform(1, 2, 4)), (1,)),
    (slicing, (RNG.standard_normal((4, 4)),), (0,)),
    (branches, (RNG.standard_normal(3), RNG.standard_normal(3)), (0, 1)),
    (branches, (-np.ones(3), RNG.standard_normal(3)), (0,)),
    (loops, (RNG.uniform(0.1, 1, 3), 4), (0,)),
    (early_exit, (RNG.uniform(0.5, 1.2, 3),), (0,)),
    (reductions, (RNG.uniform(0.5, 1.5, (3, 4)),), (0,)),
    (linear_algebra, (RNG.standard_normal((3, 3)), RNG.standard_normal(3)), (0, 1)),
    (elementwise_scalar_only, (0.3, 0.9), (0, 1)),
]


def _program_id(p):
    return f"{p[0].__name__}-wrt{''.join(map(str, p[2]))}"


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=[_program_id(p) for p in PROGRAMS])
def test_forward_and_reverse_are_transposes(f, args, wrt):
    us = oracle.random_directions(args, wrt, seed=1)
    value, out_dot = s2sad.jvp(f, wrt)(*args, *us)
    v = np.random.default_rng(2).standard_normal(np.shape(value))
    bars = s2sad.vjp(f, wrt)(*args, v)
    forward = np.sum(v * out_dot)
    reverse = sum(np.sum(b * u) for b, u in zip(bars, us))
    assert np.isclose(forward, reverse, rtol=1e-10, atol=1e-12), (forward, reverse)
    assert_close(out_dot, oracle.derivative(f, args, wrt, us, h=1e-3, order=4), f.__name__, rtol=1e-5)
    s2sad.check_grads(f, args, wrt=wrt)


@pytest.mark.parametrize("f, args, wrt", PROGRAMS, ids=[_program_id(p) for p in PROGRAMS])
def test_vector_mode_on_programs(f, args, wrt):
    batch = oracle.random_directions(args, wrt, seed=4, batch=(2,))
    jvp = s2sad.jvp(f, wrt)
    _, out_dots = jvp(*args, *batch)
    for k in range(2):
        _, single = jvp(*args, *[u[k] for u in batch])
        assert_close(out_dots[k], single, f"{f.__name__}, direction {k}", rtol=1e-12)


# --- the generated code ---------------------------------------------------------------------


def test_lecture_tangent_code_reads_like_the_textbook():
    text = s2sad.source(lecture, wrt=(0, 1), mode="forward")
    body = text[text.index("def jvp_lecture"):]
    first = lecture.__code__.co_firstlineno + 1
    assert body.splitlines() == [
        "def jvp_lecture(x, y, x_dot, y_dot):",
        f"    # line {first}: a = y * np.log(x)",
        "    v1 = np.log(x)",
        "    v1_dot = x_dot / x",
        "    a = y * v1",
        "    a_dot = y_dot * v1 + y * v1_dot",
        f"    # line {first + 1}: return a + np.sqrt(a)",
        "    v2 = np.sqrt(a)",
        "    v2_dot = a_dot * 0.5 / v2",
        "    out = a + v2",
        "    out_dot = a_dot + v2_dot",
        "    return out, out_dot",
    ]


def test_zero_tangents_are_never_materialised():
    text = s2sad.source(lecture, wrt="x", mode="forward")
    assert "y_dot" not in text and "zeros" not in text
    assert "a_dot = y * v1_dot" in text


def constant_output(x, y):
    return y * 2.0


def test_an_output_that_ignores_the_input_has_a_zero_tangent():
    value, out_dot = s2sad.jvp(constant_output)(1.0, np.arange(3.0), 1.0)
    assert np.array_equal(out_dot, np.zeros(3))
    assert "out_dot" not in s2sad.source(constant_output, mode="forward")


def add(x, y):
    return x + y


def scaled(x):
    return np.exp(x) + 1.0


def test_a_lone_tangent_is_broadcast_to_the_result_only_where_shapes_may_differ():
    # only the scalar x varies: x_dot alone would be 0-d, the result is (3,)
    value, out_dot = s2sad.jvp(add, 0)(2.0, np.arange(3.0), 1.0)
    assert np.array_equal(out_dot, np.ones(3))
    assert "out_dot = x_dot + zeros_bar(out)" in s2sad.source(add, 0, mode="forward")
    # exp(x) has x's shape: no broadcasting needed
    assert "zeros_like" not in s2sad.source(scaled, mode="forward")


def helper_twice(x, y):
    return sigmoid(x) * sigmoid(y) + sigmoid(2.0)


def test_user_helpers_get_one_jvp_each():
    text = s2sad.source(helper_twice, wrt=(0, 1), mode="forward")
    assert text.count("def jvp_sigmoid(") == 1
    assert "v1, v1_dot = jvp_sigmoid(x, x_dot)" in text
    assert "def sigmoid(" in text  # sigmoid(2.0) carries no tangent: the primal is called
    assert "import s2sad" not in text
    s2sad.check_grads(helper_twice, (0.3, -0.4), wrt=(0, 1))


def partial_layer(x, w):
    return np.sum(layer(x, w, 0.5))


def test_a_helper_differentiated_for_some_arguments_is_named_for_them():
    text = s2sad.source(partial_layer, wrt="w", mode="forward")
    assert "def jvp_layer_wrt_w(x, w, b, w_dot):" in text


# --- vector mode ------------------------------------------------------------------------------


def wide_output(x):
    return np.tanh(np.outer(x, np.arange(1.0, 8.0)) + x[0])


def test_jacobian_takes_one_vector_sweep():
    x = np.array([0.1, -0.3, 0.7])
    with generated_calls() as calls:
        jac = s2sad.jacobian(wide_output, mode="forward")(x)
    assert [c.name for c in calls].count("jvp_wide_output") == 1
    assert jac.shape == (3, 7, 3)
    assert_close(jac, oracle.gradient(wide_output, (x,), 0, h=1e-5), "jacobian", rtol=1e-6)


def test_vector_tangent_code_lines_up_batches_with_lift():
    text = s2sad.source(add, 0, mode="forward")
    assert "lift" not in text
    with generated_calls() as calls:  # a batch of two tangents: the vector-mode code
        value, out_dots = s2sad.jvp(add, 0)(2.0, np.arange(3.0), np.array([1.0, 2.0]))
    (code,) = [c.code for c in calls if c.name == "jvp_add"]
    assert "lift(x_dot, x, out)" in inspect.getsource(code)
    assert np.array_equal(out_dots, [[1, 1, 1], [2, 2, 2]])


def test_tangents_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"needs x's shape \(3,\)"):
        s2sad.jvp(scaled)(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="not a mix"):
        s2sad.jvp(add, (0, 1))(np.ones(3), np.ones(3), np.ones(3), np.ones((2, 3)))


# --- Jacobians ----------------------------------------------------------------------------------


def polar(p):
    r, theta = p[0], p[1]
    return np.array([r * np.cos(theta), r * np.sin(theta)])


def wide_input(x):
    return np.array([np.sum(x ** 2), np.sum(np.sin(x))])


def matrix_valued(a):
    return a @ a.T


@pytest.mark.parametrize("f, x", [(polar, np.array([2.0, 0.3])), (wide_input, np.linspace(0, 1, 9)),
                                  (wide_output, np.array([0.2, 0.5])),
                                  (matrix_valued, np.arange(6.0).reshape(2, 3) / 5),
                                  (scaled, np.array(0.4))])
def test_jacobian_in_all_three_modes(f, x):
    expected = oracle.gradient(f, (x,), 0, h=1e-5)
    for mode in ("forward", "reverse", "auto"):
        jac = s2sad.jacobian(f, mode=mode)(x)
        assert_close(jac, expected, f"{f.__name__} ({mode})", rtol=1e-7)


def test_jacobian_of_polar_coordinates_is_the_textbook_matrix():
    r, theta = 2.0, 0.3
    expected = [[np.cos(theta), -r * np.sin(theta)], [np.sin(theta), r * np.cos(theta)]]
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(s2sad.jacobian(polar, mode=mode)(np.array([r, theta])),
                                   expected, rtol=1e-14)


def test_jacobian_with_several_arguments_gives_a_tuple():
    x, y = np.array([1.5, 2.5]), 3.0
    jx, jy = s2sad.jacobian(lecture, wrt=(0, 1))(x, y)
    assert jx.shape == (2, 2) and jy.shape == (2,)
    assert_close(jy, oracle.gradient(lecture, (x, y), 1, h=1e-5), "d/dy")
    with pytest.raises(s2sad.UsageError, match="unknown mode"):
        s2sad.jacobian(lecture, mode="sideways")


# --- check_grads in forward mode ------------------------------------------------------------


@s2sad.custom_vjp
def sine_with_a_wrong_jvp(x):
    return np.sin(x)


@sine_with_a_wrong_jvp.defvjp
def sine_with_a_wrong_jvp_vjp(g, ans, x):
    return g * np.cos(x)


@sine_with_a_wrong_jvp.defjvp
def sine_with_a_wrong_jvp_jvp(x, x_dot):
    return x_dot * np.cos(x) * 1.01  # wrong on purpose


def right_in_reverse_wrong_in_forward(x):
    return sine_with_a_wrong_jvp(x)


def test_check_grads_checks_forward_mode_too():
    s2sad.check_grads(right_in_reverse_wrong_in_forward, (0.3,), modes="reverse")
    with pytest.raises(s2sad.GradientCheckError, match="forward mode disagrees"):
        s2sad.check_grads(right_in_reverse_wrong_in_forward, (0.3,))


def test_check_grads_takes_jax_spellings_of_the_modes():
    # ("fwd", "rev") as jax.test_util.check_grads spells them: "fwd" is forward mode
    with pytest.raises(s2sad.GradientCheckError, match="forward mode disagrees"):
        s2sad.check_grads(right_in_reverse_wrong_in_forward, (0.3,), modes=("fwd", "rev"))
    s2sad.check_grads(right_in_reverse_wrong_in_forward, (0.3,), modes="rev")
    with pytest.raises(s2sad.UsageError, match="unknown mode 'sideways'.*'fwd' and 'rev'"):
        s2sad.check_grads(right_in_reverse_wrong_in_forward, (0.3,), modes="sideways")


# --- the command line -------------------------------------------------------------------------


def test_cli_writes_an_importable_jvp_module(tmp_path):
    target = os.path.join(os.path.dirname(__file__), "..", "examples", "lecture.py")
    result = subprocess.run([sys.executable, "-m", "s2sad", "jvp", f"{target}:f", "--wrt", "x,y",
                             "-o", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert path == os.path.join(str(tmp_path), "lecture_f_jvp.py")
    spec = importlib.util.spec_from_file_location("lecture_f_jvp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    value, tangent = module.jvp_f(2.0, 3.0, 1.0, 0.0)
    assert np.isclose(value, lecture(2.0, 3.0))
    assert np.isclose(tangent, s2sad.grad(lecture)(2.0, 3.0))
    bad = subprocess.run([sys.executable, "-m", "s2sad", "jvp", f"{target}:missing", "-o",
                          str(tmp_path / "none")], capture_output=True, text=True)
    assert bad.returncode == 1 and "no function 'missing'" in bad.stderr
    assert not (tmp_path / "none").exists()
