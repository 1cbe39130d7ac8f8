"""s2sad.cost: operation, byte and tape counts against counts worked out by hand (the
lecture function, a matrix chain), the generated code's own operations, and the CLI."""

import ast
import subprocess
import sys

import numpy as np
import pytest

import s2sad
import seeing_programs as sp
from s2sad.cost import CHEAP_GRADIENT_BOUND, cost
from s2sad.higher import auto_mode
from tests.programs.examples import IDS, ROOT, TARGETS, example_function, sample


def generated_ops(fn, entry, wrt=0):
    """Operations in the backward sweep of the generated ``entry`` function: arithmetic
    and NumPy calls after the ``# backward sweep`` line."""
    source = s2sad.source(fn, wrt=wrt)
    tree = ast.parse(source)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry)
    lines = source.splitlines()
    start = next(i + 1 for i in range(func.lineno, func.end_lineno)
                 if lines[i].strip() == "# backward sweep")
    ops = 0
    for node in ast.walk(func):
        if getattr(node, "lineno", 0) <= start:
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.AugAssign)):
            ops += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                getattr(node.func.value, "id", None) == "np":
            ops += 1
    return ops


def test_the_lecture_function_by_hand():
    """f(x) = sqrt(exp(x^2) + x^2) in steps a = x^2, b = exp(a), c = a + b, d = sqrt(c).

    f: 4 operations (one each). Backward sweep, from d_bar = 1:
      d = sqrt(c):  c_bar = 0.5 / d                  1 operation (the seed 1 folded in)
      c = a + b:    a_bar = c_bar, b_bar = c_bar     0 (an addition passes its adjoint on)
      b = exp(a):   a_bar += b_bar * b               2 (a product, and the accumulation:
                                                       a is used twice)
      a = x^2:      x_bar = 2 * x * a_bar            2
    = 5, so the gradient (forward sweep 4 + backward 5) costs 9 = 2.25 f, under the
    cheap-gradient bound 4. Tangents: 2 (x_dot*2*x) + 1 (a_dot*b) + 1 (a_dot + b_dot)
    + 2 (c_dot*0.5/d) = 6. The tape: d and b, the results the rules of sqrt and exp
    read (x is a parameter): 16 bytes. Memory: every scalar read or written is 8
    bytes: pow reads x and writes a (16), exp 16, add reads two and writes one (24),
    sqrt 16 = 72.
    """
    steps = example_function("examples/sqrt_exp.py", "steps")
    report = cost(steps, 0.8)
    assert [line.f_flops for line in report.lines] == [1, 1, 1, 1]
    assert report.f_flops == 4 and report.forward_flops == 4
    assert [line.backward_flops for line in report.lines] == [2, 2, 0, 1]
    assert report.backward_flops == 5 == generated_ops(steps, "grad_steps")
    assert report.gradient_flops == 9 and report.ratio == 2.25 < CHEAP_GRADIENT_BOUND
    assert report.tangent_flops == 6
    assert report.tape_bytes == 16 and report.f_bytes == 72
    assert (report.n, report.m) == (1, 1)
    assert report.jacobian_forward == 1 * (4 + 6) and report.jacobian_reverse == 1 * 9
    assert report.auto_mode == "reverse"
    text = report.render()
    assert "f: 4 operations, 72 bytes moved." in text
    assert "forward sweep 4 + backward sweep 5 = 9 operations; the tape keeps 16 bytes" in text
    assert "gradient / f = 2.25 (cheap-gradient bound: 4)" in text
    # written as one expression, x^2 is computed twice: f costs 5
    assert cost(example_function("examples/sqrt_exp.py", "f"), 0.8).f_flops == 5


def test_the_lecture_counts_of_the_derivative_by_hand():
    """The lecture's other counts: f'(x) = x (exp(x^2) + 1) / sqrt(exp(x^2) + x^2) written
    out costs 10 operations (x^2 twice, exp twice, + 1, x *, + x^2, sqrt, /: x^2 is counted
    each time it is written); reusing b = exp(x^2) and d = f(x), x (b + 1) / d costs 3.
    s2sad's backward sweep costs 5 (test above): it does not cancel the 2 of 2x against
    the 1/2 of the square root as the hand formula does."""
    x = 0.8
    assert cost(sp.derivative_formula, x).f_flops == 10
    assert cost(sp.derivative_reusing, x, np.exp(x ** 2), sp.used_twice(x)).f_flops == 3
    np.testing.assert_allclose(sp.derivative_formula(x), s2sad.grad(sp.used_twice)(x))


def test_the_tape_each_loop_trip_keeps():
    """Measured on the generated gradient's tape. loop_branch_helper at x = 0.9, n = 4
    takes the else branch once (z = 0.9) and the then branch 3 times; every trip pushes the
    carried z (8 bytes), each then trip the helper's residuals (sin x, x), 16 bytes:
    4 * 8 + 3 * 16 = 80 bytes in 4 trips, 20 a trip. halve_until_small(3.0) halves y six
    times to below 0.1, pushing y each trip: 48 bytes, 8 a trip. Straight-line code has
    no tape (its values stay in local variables)."""
    report = cost(sp.loop_branch_helper, 0.9, 4)
    assert report.loops == [(14, 4, 80)]
    assert "measured: the loop at line 14 pushes 80 bytes on the gradient's tape in 4 trips, " \
           "20 bytes a trip (the model: the same)." in report.render()
    # the model: z_1 each trip for the branch (which one ran) and the helper's residuals
    assert report.tape_bytes == 80 and report.loop_tapes == {14: (80, 0)}
    rows = {line.stmt.loc.line: line.tape_bytes for line in report.lines if line.tape_bytes}
    assert rows == {15: 24, 16: 48, 18: 8}  # (line 18 reads z_1 in the else trip: once)
    halving = cost(sp.halve_until_small, 3.0)
    assert halving.loops == [(33, 6, 48)] and halving.loop_tapes[33] == (48, 0)
    assert cost(sp.used_twice, 0.8).loops == []


@pytest.mark.parametrize("stem, function", [("rnn_training", "loss"), ("euler_ode", "euler"),
                                            ("residual_net", "loss"), ("newton_sqrt", "newton_sqrt")])
def test_the_model_of_each_loop_tape_adds_up_to_what_the_gradient_pushes(stem, function):
    """The values the adjoint rules read and those they read for their shapes only (which
    the generic gradient's tape keeps whole: unbroadcast(g, v)), a loop's carried value
    once (h_2 is the next trip's h_1), add up to the bytes measured on the tape."""
    path, _, wrt = next(t for t in TARGETS if t[0].endswith(f"{stem}.py") and t[1] == function)
    report = cost(example_function(path, function), *sample(path, function), wrt=wrt)
    for line, trips, measured in report.loops:
        values, shapes = report.loop_tapes[line]
        assert values + shapes == measured, (line, values, shapes, measured)
        note = "(the model: the same)" if shapes == 0 else \
            f"(the model: {values} bytes of values the adjoint rules read, and {shapes} of"
        assert note in report.render()


def test_the_lecture_example_f_x_y():
    # f(x, y) = a + sqrt(a), a = y log x: 4 operations; backward: a_bar = 1 + 0.5 / v2 (2),
    # y_bar = a_bar * v1 (1), v1_bar = a_bar * y (1), x_bar = v1_bar / x (1) = 5
    lecture = example_function("examples/lecture.py", "f")
    report = cost(lecture, 2.0, 3.0, wrt=("x", "y"))
    assert report.f_flops == 4
    assert report.backward_flops == 5 == generated_ops(lecture, "grad_f", ("x", "y"))
    assert (report.n, report.m, report.auto_mode) == (2, 1, "reverse")


@pytest.mark.parametrize("widths", [(7, 5, 4, 3), (2, 3, 5, 6), (4, 4, 4, 4)])
def test_a_matrix_chain_costs_the_sum_of_products(widths):
    """f(x) = C (B (A x)), x in R^n0, A (n1 x n0), B (n2 x n1), C (n3 x n2).

    One sweep in either direction multiplies a vector through the chain:
    S = n0 n1 + n1 n2 + n2 n3 multiply-adds (f, a tangent sweep, and a backward sweep
    each cost S). The full n3 x n0 Jacobian costs n0 sweeps of f + tangent forward,
    n3 sweeps of both reverse sweeps backward.
    """
    n0, n1, n2, n3 = widths
    rng = np.random.default_rng(1)
    x, A = rng.standard_normal(n0), rng.standard_normal((n1, n0))
    B, C = rng.standard_normal((n2, n1)), rng.standard_normal((n3, n2))
    report = cost(sp.matrix_chain, x, A, B, C, wrt="x")
    S = n0 * n1 + n1 * n2 + n2 * n3
    assert report.f_flops == report.tangent_flops == report.backward_flops == S
    assert (report.n, report.m) == (n0, n3)
    assert report.jacobian_forward == n0 * 2 * S and report.jacobian_reverse == n3 * 2 * S
    assert report.auto_mode == auto_mode(n0, n3) == ("forward" if n0 < n3 else "reverse")
    assert report.auto_reason == (f"n = {n0} input entries < m = {n3} output entries"
                                  if n0 < n3 else
                                  f"n = {n0} input entries >= m = {n3} output entries")
    assert report.tape_bytes == 0  # A, B, C are parameters: nothing to keep
    np.testing.assert_allclose(s2sad.jacobian(sp.matrix_chain)(x, A, B, C), C @ B @ A)


def test_loops_count_each_trip():
    # x = 0.9, n = 4: the test z > 1 runs 4 times, the then branch 3 times, the else once
    report = cost(sp.loop_branch_helper, 0.9, 4)
    trips = {line.stmt.targets[0].name: line.trips for line in report.lines}
    assert trips["v2"] == 4 and trips["v3"] == 3 and trips["v5"] == 1
    f_ops = {line.stmt.targets[0].name: line.f_flops for line in report.lines}
    # the helper u * sin(u) costs 2 per call
    assert f_ops["v4"] == 3 * 2 and f_ops["v5"] == 1 and f_ops["z"] == 0  # a copy is free


def test_arrays_and_a_reduction():
    w, v = np.ones(100), np.ones(100)
    report = cost(sp.vector_norm, w, v, wrt=(0, 1))
    f_ops = [line.f_flops for line in report.lines]
    # w * v, tanh, h ** 2, sum (one per entry read), dot (100 multiply-adds), the final +
    assert f_ops == [100, 100, 100, 100, 100, 1]
    assert (report.n, report.m) == (200, 1)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_every_example_gets_a_report(target):
    path, function, wrt = target
    fn = example_function(path, function)
    report = cost(fn, *sample(path, function), wrt=wrt)
    assert report.f_flops > 0
    assert report.backward_flops == sum(line.backward_flops for line in report.lines)
    assert report.gradient_flops == report.forward_flops + report.backward_flops
    assert "jacobian(mode=\"auto\") picks" in report.render()


def run_cli(*argv):
    return subprocess.run([sys.executable, "-m", "s2sad", *argv], cwd=ROOT, capture_output=True,
                          text=True)


def test_cli_cost():
    done = run_cli("cost", "examples/sqrt_exp.py:steps", "--at", "x=0.8")
    assert done.returncode == 0, done.stderr
    assert "forward sweep 4 + backward sweep 5 = 9 operations" in done.stdout
    chain = "tests/fixtures/seeing_programs.py:matrix_chain"
    done = run_cli("cost", chain, "--shapes", "x=100,A=50x100,B=20x50,C=10x20", "--wrt", "x",
                   "--format", "md")
    assert done.returncode == 0, done.stderr
    S = 100 * 50 + 50 * 20 + 20 * 10
    assert f"| `total` |  | `{S}` |" in done.stdout
    assert f"reverse mode 10 sweeps x {2 * S} = {20 * S} operations" in done.stdout
    assert "picks reverse: n = 100 input entries >= m = 10 output entries" in done.stdout
    done = run_cli("cost", "tests/fixtures/seeing_programs.py:loop_branch_helper", "--shapes",
                   "x=(),n=5")
    assert done.returncode == 0, done.stderr
    done = run_cli("cost", chain)
    assert done.returncode == 1 and "--at x=2,y=3" in done.stderr
    done = run_cli("cost", chain, "--shapes", "x=ten")
    assert done.returncode == 1 and "not a shape" in done.stderr


def test_measured_times_beside_the_prediction():
    steps = example_function("examples/sqrt_exp.py", "steps")
    report = cost(steps, 0.8, measure=True)
    assert report.f_seconds > 0 and report.gradient_seconds > 0
    assert cost(steps, 0.8).f_seconds is None  # only when asked
    note = report.render().splitlines()[-1]
    assert note.startswith("measured on this machine: f ") and "(predicted 2.25)" in note
    chain = cost(sp.matrix_chain, np.ones(3), np.ones((2, 3)), np.ones((2, 2)), np.ones((2, 2)),
                 wrt="x", measure=True)  # an array output: the gradient is a vjp
    assert chain.gradient_seconds > 0
    done = run_cli("cost", "examples/sqrt_exp.py:steps", "--at", "x=0.8", "--measure")
    assert done.returncode == 0 and "measured on this machine" in done.stdout
