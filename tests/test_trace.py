"""s2sad.trace: the evaluation trace agrees with grad, jvp and an ordinary run of f, on
every example and on functions with loops, branches and helper calls; its renderings."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import s2sad
import seeing_programs as sp
from s2sad.trace import trace
from tests.programs import generator, random_programs
from tests.programs.examples import IDS, ROOT, TARGETS, as_tuple, example_function, sample

LOOPS = [(sp.loop_branch_helper, (0.9, 4), ("x",)), (sp.loop_branch_helper, (1.7, 3), ("x",)),
         (sp.used_twice, (0.8,), ("x",)), (sp.halve_until_small, (3.0,), ("x",)),
         (sp.vector_norm, (np.array([0.3, -1.2, 0.5]), np.array([1.0, 2.0, -0.5])), ("w", "v"))]


def check_reverse(fn, args, wrt):
    t = trace(fn, *args, wrt=wrt)
    expected = as_tuple(s2sad.grad(fn, wrt=wrt)(*args))
    for name, got, want in zip(wrt, as_tuple(t.derivative), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
        # the last adjoint the trace shows for the parameter is the gradient
        np.testing.assert_allclose(t.adjoint(name), want, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t.value, fn(*args), rtol=1e-12)
    outputs = t.values("out")
    if outputs:  # the row of the returned value holds f's value
        np.testing.assert_allclose(outputs[-1], fn(*args), rtol=1e-12)
    return t


def check_forward(fn, args, wrt):
    rng = np.random.default_rng(0)
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    tangents = [rng.standard_normal(np.shape(args[names.index(n)])) for n in wrt]
    tangents = [float(d) if np.ndim(d) == 0 else d for d in tangents]
    t = trace(fn, *args, wrt=wrt, mode="forward", tangents=tangents)
    value, out_dot = s2sad.jvp(fn, wrt=wrt)(*args, *tangents)
    np.testing.assert_allclose(t.derivative, out_dot, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t.value, fn(*args), rtol=1e-12)
    rows = [r for r in t.rows if r.name == "out"]
    if rows:
        np.testing.assert_allclose(rows[-1].derivative, out_dot, rtol=1e-12, atol=1e-300)
    return t


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_reverse_trace_of_every_example_agrees_with_grad(target):
    path, function, wrt = target
    fn = example_function(path, function)
    check_reverse(fn, sample(path, function), wrt)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_forward_trace_of_every_example_agrees_with_jvp(target):
    path, function, wrt = target
    fn = example_function(path, function)
    check_forward(fn, sample(path, function), wrt)


@pytest.mark.parametrize("fn, args, wrt", LOOPS, ids=lambda v: getattr(v, "__name__", ""))
def test_traces_through_loops_branches_and_helpers(fn, args, wrt):
    check_reverse(fn, args, wrt)
    check_forward(fn, args, wrt)


def test_a_row_per_trip_and_the_branch_taken():
    # x = 0.9: trip 1 takes the else branch (z = 0.9 <= 1), trips 2-4 the then branch
    t = trace(sp.loop_branch_helper, 0.9, 4, wrt="x")
    forward = [r for r in t.rows if r.sweep == "forward"]
    trips = [r for r in forward if r.kind == "trip"]
    assert [r.value for r in trips] == [(0,), (1,), (2,), (3,)]
    assert [r.statement for r in forward if r.name == "v5"] == ["v5 = mul(z_1, z_1)"]  # once
    assert len([r for r in forward if r.name == "v4"]) == 3  # the helper, trips 2-4
    np.testing.assert_allclose(t.values("v4"), [sp.helper(0.9)] * 3)
    np.testing.assert_allclose(t.values("v5"), [0.81])
    # the backward sweep replays the trips in reverse: the loop variable counts down
    backward = [r for r in t.rows if r.sweep == "backward" and r.kind == "trip"]
    assert [r.value for r in backward] == [(3,), (2,), (1,), (0,)]
    # each trip names the branch it took, in both sweeps
    taken = [(r.sweep, r.value) for r in t.rows if r.kind == "branch"]
    assert taken == [("forward", False)] + [("forward", True)] * 3 + \
        [("backward", True)] * 3 + [("backward", False)]
    text = t.render(max_trips=None)
    assert text.count("-- if v2: the then branch --") == 6
    assert text.count("-- if v2: the else branch --") == 2
    assert text.index("-- if v2: the else branch --") < text.index("v5 = mul(z_1, z_1)")


def test_accumulation_into_a_value_used_twice():
    # a = x**2 feeds b = exp(a) and c = a + b: a_bar = c_bar * exp(a) + c_bar, two terms
    x = 0.8
    t = trace(sp.used_twice, x)
    c_bar = 0.5 / np.sqrt(np.exp(x * x) + x * x)
    rows = [r for r in t.rows if r.sweep == "backward" and r.name == "a"]
    contributions = [term for r in rows for term in (r.terms or [r.derivative])]
    if rows[-1].op == "+=":  # written as a_bar = ...; a_bar += ...
        assert len(rows) == 2
    else:  # or as one sum: a_bar = c_bar * b + c_bar
        assert len(rows[-1].terms) == 2
    np.testing.assert_allclose(sorted(contributions), sorted([c_bar, c_bar * np.exp(x * x)]))
    np.testing.assert_allclose(t.adjoint("a"), c_bar * (1 + np.exp(x * x)))


def test_lecture_trace_rows():
    lecture = example_function("examples/lecture.py", "f")
    t = trace(lecture, 2.0, 3.0)
    forward = [(r.statement, r.line) for r in t.rows if r.sweep == "forward"]
    assert forward == [("v1 = np.log(x)", 24), ("a = mul(y, v1)", 24), ("v2 = np.sqrt(a)", 25),
                       ("out = add(a, v2)", 25)]
    (a,) = [r for r in t.rows if r.sweep == "backward" and r.name == "a"]
    # a reaches f twice: directly (1) and through sqrt (1 / (2 sqrt(a)))
    np.testing.assert_allclose(a.terms, [1.0, 0.5 / np.sqrt(3 * np.log(2))])
    assert "1 + 0.346734 = 1.34673" in t.render()


def test_renderings():
    t = trace(sp.loop_branch_helper, 0.9, 4, wrt="x")
    text = t.render("text")
    header = text.splitlines()[2]
    assert header.split() == ["line", "SSA", "statement", "value", "v", "adjoint", "v_bar",
                              "generated", "code"]
    # aligned: every table line has its second column where the header has it
    column = header.index("SSA statement")
    body = [line for line in text.splitlines()[4:] if line[:1].isdigit()]
    assert body and all(line[column - 2:column] == "  " and line[column] != " " for line in body)
    assert "-- for i in v1: trip 1 (i = 0) --" in text
    assert "rows of later trips" in t.render(max_trips=1)
    assert "rows of later trips" not in t.render(max_trips=None)
    markdown = t._repr_markdown_()
    assert "| line | SSA statement | value v | adjoint v_bar | generated code |" in markdown
    root = ET.fromstring("<div>" + t._repr_html_() + "</div>")  # well-formed
    cells = [td.findtext("code") for td in root.iter("td")]
    assert "v5 = mul(z_1, z_1)" in cells
    arrays = trace(sp.vector_norm, np.arange(5.0), np.ones(5), wrt="w")
    assert "array(5,) [0, 1, 2, ...] |.|=5.477" in arrays.render()


def test_bad_calls():
    with pytest.raises(s2sad.UsageError, match="mode"):
        trace(sp.used_twice, 1.0, mode="sideways")
    with pytest.raises(s2sad.UsageError, match="respect to x: it is int 1, not a float"):
        trace(sp.loop_branch_helper, 1, 3)  # the default, x, is an int (as for s2sad.grad)
    with pytest.raises(s2sad.NonScalarOutputError, match="out_bar"):
        trace(sp.matrix_chain, np.ones(2), np.eye(2), np.eye(2), np.eye(2))
    out_bar = np.array([1.0, 2.0])
    t = trace(sp.matrix_chain, np.ones(2), np.eye(2), np.eye(2), np.eye(2), wrt="x",
              out_bar=out_bar)
    np.testing.assert_allclose(t.derivative, out_bar)


def run_cli(*argv):
    return subprocess.run([sys.executable, "-m", "s2sad", *argv], cwd=ROOT, capture_output=True,
                          text=True)


def test_cli_trace():
    done = run_cli("trace", "examples/lecture.py:f", "--at", "x=2,y=3")
    assert done.returncode == 0, done.stderr
    assert "with respect to x)" in done.stdout  # the default: the first parameter
    assert "gradient = 2.0201\n" in done.stdout
    done = run_cli("trace", "examples/lecture.py:f", "--at", "x=2,y=3", "--wrt", "x,y")
    assert done.returncode == 0 and "gradient = (2.0201, 0.933485)" in done.stdout
    done = run_cli("trace", "examples/lecture.py:f", "--at", "x=2,y=3", "--mode", "forward",
                   "--format", "md")
    assert done.returncode == 0 and "| `25` | `out = add(a, v2)` | `3.52147` |" in done.stdout
    done = run_cli("trace", "examples/lecture.py:f", "--at", "x=2", "--format", "html")
    assert done.returncode == 1 and "--at gives no value for y" in done.stderr


def test_cli_trace_arrays_and_trip_counts(tmp_path, restore_sys_path):
    np.save(tmp_path / "w.npy", np.array([0.3, -1.2, 0.5]))
    fixtures = f"{ROOT}/tests/fixtures/seeing_programs.py"
    done = run_cli("trace", f"{fixtures}:vector_norm", "--at", f"w=@{tmp_path}/w.npy,v=[1,2,-0.5]")
    assert done.returncode == 0, done.stderr
    w, v = np.array([0.3, -1.2, 0.5]), np.array([1.0, 2.0, -0.5])
    expected = s2sad.grad(sp.vector_norm, wrt=("w", "v"))(w, v)
    assert f"[{expected[0][0]:.6g}, {expected[0][1]:.6g}, {expected[0][2]:.6g}]" in done.stdout
    # n is passed to range, so n=3 stays an int; x=1 becomes the float 1.0
    done = run_cli("trace", f"{fixtures}:loop_branch_helper", "--at", "x=1,n=3", "--trips", "0")
    assert done.returncode == 0, done.stderr
    assert "trip 3" in done.stdout and "rows of later trips" not in done.stdout
    done = run_cli("trace", f"{fixtures}:vector_norm", "--at", "w=@nowhere.npy,v=1")
    assert done.returncode == 1 and "cannot load nowhere.npy" in done.stderr


def test_adjoints_kept_symbolic_get_a_last_row():
    # grad_passthrough returns the seed 1.0 for x and zeros for y, assigning neither
    t = trace(sp.passthrough, 2.0, 3.0, wrt=(0, 1))
    last = [r for r in t.rows if r.sweep == "backward"]
    assert [(r.name, r.derivative) for r in last] == [("x", 1.0), ("y", 0.0)]
    assert t.adjoint("x") == 1.0 and t.derivative == s2sad.grad(sp.passthrough, (0, 1))(2.0, 3.0)


@pytest.mark.parametrize("seed", range(12))
def test_random_programs(seed):
    """Random programs (tests/programs/generator.py: branches, loops, helpers, indexing):
    the trace's gradient and last adjoints are grad's; the graph and the cost report run."""
    module = random_programs.load(generator.generate(seed))
    try:
        args = generator.draw_args(np.random.default_rng(seed))
        wrt = tuple(p.strip() for p in generator.PARAMS.split(",") if p.strip() != "n")
        try:
            expected = s2sad.grad(module.f, wrt=wrt)(*args)
        except s2sad.S2sadError:
            pytest.skip("s2sad refuses this program")
        t = trace(module.f, *args, wrt=wrt)
        for name, got, want in zip(wrt, t.derivative, expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(t.adjoint(name), want, rtol=1e-12, atol=1e-300)
        assert s2sad.graph(module.f, *args, wrt=wrt).dot.startswith("digraph")
        assert s2sad.cost(module.f, *args, wrt=wrt).f_flops >= 0
    finally:
        random_programs.unload(module)


def test_cli_trace_of_an_array_output(restore_sys_path):
    fixtures = f"{ROOT}/tests/fixtures/seeing_programs.py"
    at = ["--at", "x=[1,2],A=[[1,0],[0,2]],B=[[1,1],[0,1]],C=[[2,0],[0,1]]", "--wrt", "x"]
    done = run_cli("trace", f"{fixtures}:matrix_chain", *at)
    assert done.returncode == 1 and "out_bar" in done.stderr
    done = run_cli("trace", f"{fixtures}:matrix_chain", *at, "--out-bar", "[1,0]")
    assert done.returncode == 0, done.stderr
    C, B, A = np.array([[2, 0], [0, 1]]), np.array([[1, 1], [0, 1]]), np.array([[1, 0], [0, 2]])
    x_bar = np.array([1.0, 0.0]) @ C @ B @ A  # [2, 4]
    assert f"gradient = [{x_bar[0]:.6g}, {x_bar[1]:.6g}]" in done.stdout


def test_an_error_of_f_is_reported_as_f_reports_it():
    with pytest.raises(ValueError, match="shapes"):
        trace(sp.vector_norm, np.ones(3), np.ones(4))


def test_trace_of_generated_code_second_order():
    # the trace of grad_steps (names such as a_bar are its own; their adjoints a_bar_bar,
    # and x's adjoint is x_bar_ since x_bar is taken) ends with the second derivative
    steps = example_function("examples/sqrt_exp.py", "steps")
    g = s2sad.grad(steps)
    t = trace(g, 0.8)
    second = s2sad.grad(g)(0.8)
    np.testing.assert_allclose(t.derivative, second, rtol=1e-12)
    np.testing.assert_allclose(t.adjoint("x"), second, rtol=1e-12)
    assert [r.name for r in t.rows if r.sweep == "forward"][-2:] == ["v3", "x_bar"]
    assert "a_bar_bar = v3" in [r.code for r in t.rows if r.name == "a_bar"]
    forward = trace(g, 0.8, mode="forward")
    np.testing.assert_allclose(forward.derivative, second, rtol=1e-12)
