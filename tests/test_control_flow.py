"""Control flow in reverse mode: a corpus of small programs, the tape, the SSA, the errors.

Every program of the corpus below is registered with :func:`program` at one
or more points (argument tuples). Points of one program take different paths
through it (another branch, another number of trips, an early exit);
``test_points_take_different_paths`` checks that claim by tracing the
bytecode the plain Python function runs. At each point:

* ``s2sad.check_grads`` checks the vector-Jacobian product (reverse mode);
* for a scalar output, ``s2sad.grad`` is compared with central differences
  taken coordinate by coordinate here, and with the exact derivative where
  the program has an easy one;
* ``value_and_grad`` must return the function's value;
* the generated gradient must leave its tape empty (every push popped), which
  is observed by tracing the generated function's frame as it returns.

Then: the SSA listing of an ``if`` and of a loop (exact text), what the
forward sweep of a loop pushes, and the located errors for constructs that
s2sad does not support inside control flow.

Known compiler bugs are ``xfail(strict=True)`` tests with the reason.
"""

import ast
import inspect
import re
import sys

import numpy as np
import pytest

import oracle
import s2sad

CORPUS = []  # pytest params: (program, args, wrt, exact derivative or None)
PROGRAMS = {}  # name -> (program, [points])


def program(*points, wrt=0, exact=None):
    """Register a corpus program, checked at each of ``points`` (argument tuples)."""
    def register(fn):
        PROGRAMS[fn.__name__] = (fn, list(points))
        for k, args in enumerate(points):
            CORPUS.append(pytest.param(fn, args, wrt, exact, id=f"{fn.__name__}-{k}"))
        return fn
    return register


X = np.array([0.5, -1.2, 2.0])
R = np.array([[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]])
SEVEN = np.arange(1.0, 8.0)


# -- if / elif / else / conditional expressions / and, or -----------------------------------------

@program((0.7,), (-0.7,), exact=lambda x: 2 * x if x > 0 else -1.0)
def if_else(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y


@program((0.6,), (-0.6,), exact=lambda x: 8 * x if x > 0 else 2.0)
def if_without_else(x):
    y = x * 2.0
    if x > 0.0:
        y = y * y
    return y


@program((-0.7,), (0.7,), (2.0,), (5.0,),
         exact=lambda x: np.cos(x) if x < 0 else 3 * x * x if x < 1 else np.exp(x) if x < 3
         else 2.0)
def elif_chain(x):
    if x < 0.0:
        y = np.sin(x)
    elif x < 1.0:
        y = x ** 3
    elif x < 3.0:
        y = np.exp(x)
    else:
        y = 2.0 * x
    return y


@program((0.7,), (-0.7,), exact=lambda x: 2 * x if x > 0 else np.cos(x))
def conditional_expression(x):
    y = x * x if x > 0 else np.sin(x)
    return y + 1.0


@program((0.3,), (3.0,), (-2.0,), exact=lambda x: (1.0 if x > 1 else 2 * x) if x > 0 else -1.0)
def nested_conditional_expressions(x):
    return (x if x > 1.0 else x * x) if x > 0.0 else -x


@program(((X,)), (-X,))
def nested_ifs(x):
    s = np.sum(x)
    if s > 0.0:
        if x[0] > 0.0:
            r = s * x[0]
        else:
            r = s - x[0]
    else:
        if x[1] > 0.0:
            r = np.exp(s)
        else:
            r = s * s
    return r


@program((X,), (-X,))
def if_on_array_reduction(x):
    if np.sum(x) > 1.0:
        y = x * x
    else:
        y = np.exp(x)
    return np.sum(y)


@program((0.5, 2.0), (-0.5, 2.0), (-0.5, -2.0), wrt=(0, 1))
def or_in_condition(x, y):
    if x > 0 or y > 0:
        z = x * y
    else:
        z = x + y
    return z


@program((0.5, 2.0), (-0.5, 2.0), (0.5, 0.5), wrt=(0, 1))
def and_as_a_value(x, y):
    both = (x > 0) and (y > 1)
    if both:
        return x * y
    return x - y


@program((np.array([3.0, 1.0, 2.0]),), (np.array([1.0, 3.0, 2.0]),))
def branch_on_argmax(x):
    k = np.argmax(x)
    if k == 0:
        return x[0] * x[1]
    return x[k] * 2.0


# -- early return from an if ----------------------------------------------------------------------

@program((0.5,), (-0.5,), exact=lambda x: np.cos(x) if x > 0 else 6 * x)
def early_return_from_if(x):
    if x > 0.0:
        return np.sin(x)
    y = x * x
    return y * 3.0


# -- for over range: steps, bounds from arguments and shapes, zero trips --------------------------

@program((1.5, 3), (1.5, 0), (-0.7, 5), exact=lambda x, n: n * x ** (n - 1) if n else 0.0)
def power(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


@program((SEVEN,))
def range_with_step(x):
    s = 0.0
    for i in range(1, 7, 2):
        s = s + x[i] ** 2
    return s


@program((SEVEN,))
def range_with_negative_step(x):
    s = 1.0
    for i in range(6, -1, -2):
        s = s * 0.5 + x[i]
    return s


@program((SEVEN,))
def range_bounds_from_shape(x):
    s = 0.0
    for i in range(x.shape[0] - 1, 0, -1):
        s = s + x[i] * x[i - 1]
    return s


@program((X,))
def range_of_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * (i + 1)
    return s


@program((np.arange(1.0, 9.0), -3), (np.arange(1.0, 9.0), -1))
def negative_step_from_argument(x, step):
    s = 0.0
    for i in range(x.shape[0] - 1, -1, step):
        s = s * 0.9 + x[i] ** 2
    return s


@program((1.3, 5), (1.3, 1), (1.3, 0))
def range_down_from_argument(x, n):
    s = x
    for i in range(n - 1, -1, -1):
        s = s * x + i
    return s


@program((X,))
def loop_that_never_runs(x):
    y = x * 2.0
    for i in range(0):
        y = y * 5.0
    return np.sum(y)


@program((X, 0), (X, 2))
def loop_running_zero_or_more_times(x, n):
    s = np.sum(x)
    for i in range(n):
        s = s * np.sum(x)
    return s


@program((X, 3), (X, 0))
def array_reassigned_in_loop(x, n):
    y = x
    for i in range(n):
        y = y * np.cos(y) + x
    return np.sum(y)


@program((X, 4), (X, 0))
def loop_invariant_computed_before(x, n):
    a = np.exp(x)
    y = x
    for i in range(n):
        y = np.tanh(y * a)
    return np.sum(y)


@program((X, 0.3), wrt=(0, 1))
def vector_output_two_wrt(x, w):
    for i in range(3):
        x = np.tanh(x * w) + x
    return x


@program((1.5, 4), (1.5, 1))
def two_carried_values(x, n):
    a = x
    b = 1.0
    for i in range(n):
        a, b = b * x, a + b
    return a * b


@program((X,))
def value_from_previous_trip(x):
    s = 0.0
    prev = x[0]
    for i in range(1, 3):
        s = s + (x[i] - prev) ** 2
        prev = x[i]
    return s


@program((X,))
def last_value_of_a_loop_local(x):
    for i in range(3):
        last = x[i] * x[i]
    return last


@program((X, 3), (X, 2))
def loop_variable_after_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + x[i]
    return s * i


@program((X,))
def augmented_assignments(x):
    s = 0.0
    for i in range(3):
        s += x[i] ** 2
        s *= 1.1
    return s


# -- loops over rows, lists, tuples, enumerate, zip -----------------------------------------------

@program((R,))
def loop_over_rows(m):
    s = 0.0
    for row in m:
        s = s + np.sum(np.tanh(row)) ** 2
    return s


@program((R,))
def rows_accumulated_into_a_vector(m):
    s = 0.0
    for row in m:
        s = s * 0.5 + np.tanh(row)
    return s


@program((R,))
def enumerate_rows(m):
    s = 0.0
    for i, row in enumerate(m):
        s = s + i * np.sum(row * row)
    return s


@program((X, X * 2.0), wrt=(0, 1))
def zip_two_arrays(a, b):
    s = 0.0
    for u, v in zip(a, b):
        s = s + u * np.sin(v)
    return s


@program((R,))
def zip_rows_with_constants(m):
    s = 0.0
    for row, c in zip(m, [1.0, 2.0, 3.0]):
        s = s + c * np.sum(np.sin(row))
    return s


@program((1.3,), exact=lambda x: sum(c * c * x ** (c - 1) for c in (1.0, 2.0, 3.0)))
def list_of_constants(x):
    s = 0.0
    for c in [1.0, 2.0, 3.0]:
        s = s + c * x ** c
    return s


@program((1.3,), exact=lambda x: -0.5)
def tuple_of_constants(x):
    s = x
    for c in (0.5, -1.0):
        s = s * c + x
    return s


@program((1.5,), exact=lambda x: sum(c * k * x ** (k - 1) for k, c in enumerate([1.0, -2.0, 0.5])))
def enumerate_constants(x):
    s = 0.0
    for k, c in enumerate([1.0, -2.0, 0.5]):
        s = s + c * x ** k
    return s


@program((R, X[:2]), wrt=(0, 1))
def rows_and_an_inner_range(m, v):
    s = 0.0
    for row in m:
        for k in range(2):
            s = s + row[k] * v[k]
    return s


# -- if inside loops, loops inside ifs, nested loops ----------------------------------------------

@program((X,), (-X,))
def if_inside_loop(x):
    s = 0.0
    for i in range(3):
        if x[i] > 0.0:
            s = s + x[i] ** 2
        else:
            s = s - np.sin(x[i])
    return s


@program((X,), (-X,))
def branch_local_value_in_loop(x):
    s = 0.0
    for i in range(3):
        if x[i] > 0:
            t = np.sqrt(x[i])
        else:
            t = x[i] ** 2
        s = s + t * s + t
    return s


@program((0.7, 3), (-0.7, 3))
def conditional_expression_in_loop(x, n):
    y = x
    for i in range(n):
        y = y * 2.0 if y < 1.0 else np.sqrt(y)
    return y


@program((X,))
def where_in_loop(x):
    for i in range(3):
        x = np.where(x > 0, x * 0.5, x * x)
    return np.sum(x)


@program((X,), (-X,))
def loop_inside_if(x):
    s = np.sum(x)
    if s > 0.0:
        for i in range(4):
            x = np.tanh(x) * 1.5
    else:
        x = x * 2.0
    return np.sum(x * x)


@program((X,))
def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(i + 1):
            s = s + x[i] * x[j]
    return s


@program((1.5, 3), (1.5, 1))
def triply_nested_loops(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            for k in range(2):
                s = s * 0.9 + x * 0.01
    return s


# -- break and continue ---------------------------------------------------------------------------

@program((X, -1.0), (X, 0.1), (X, 0.5), (X, 1.0), (X, 2.0))
def break_inside_nested_loops(x, thresh):
    s = 0.0
    for i in range(3):
        for j in range(3):
            s = s + x[i] * x[j]
            if s > thresh:
                break
    return s


@program((X, 0), (X, 2), (X, 5))
def break_after_some_trips(x, n):
    s = 0.0
    for i in range(n):
        if i >= 3:
            break
        s = s + x[i] ** 3
    return s


@program((X,), (-X,))
def break_in_else_branch(x):
    s = 0.0
    for i in range(3):
        if x[i] > 0.0:
            s = s + x[i]
        else:
            s = s * x[i]
            break
    return s


@program((X,), (-X,))
def continue_in_loop(x):
    s = 0.0
    for i in range(3):
        if x[i] < 0.0:
            continue
        s = s + np.exp(x[i])
    return s


@program((X,), (np.array([0.5, -0.2, 2.0]),), (-X,))
def break_and_continue(x):
    s = 0.0
    for i in range(3):
        if x[i] < -1.0:
            break
        if x[i] < 0.0:
            continue
        s = s + np.sqrt(x[i])
    return s


# -- early return from loops ----------------------------------------------------------------------

@program((X,), (-X,), (np.array([2.0, 1.0, 1.0]),))
def early_return_from_loop(x):
    s = 1.0
    for i in range(3):
        s = s * x[i]
        if s > 1.0:
            return s * 2.0
    return s


@program((X,), (np.array([0.1, 0.2, 5.0]),), (np.array([2.0, 0.1, 0.1]),))
def early_return_from_nested_loop(x):
    s = 0.0
    for i in range(3):
        for j in range(3):
            s = s + x[i] * x[j]
            if s > 2.0:
                return s * s
    return -s


@program((0.5, 6), (3.0, 6))
def return_in_if_else_in_loop(x, n):
    for i in range(n):
        if x > 2.0:
            return x
        else:
            x = x * 1.5
    return x * 0.5 + x


# -- while loops ----------------------------------------------------------------------------------

@program((2.0,), (10.0,), (0.05,), exact=lambda x: halve_below(x) / x)
def halve_below(x):
    y = x
    while y > 0.1:
        y = y * 0.5
    return y


@program((2.0,), (100.0,))
def while_counting_square_roots(x):
    y = x
    k = 0
    while y > 1.0:
        y = np.sqrt(y)
        k = k + 1
    return y * k


@program((2.0,), (0.01,), (1e4,), exact=lambda a: 0.5 / np.sqrt(a))
def newton_sqrt(a):
    y = a
    if a < 1.0:
        y = 1.0
    while np.abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


@program((X, 3), (X, 1), (-X, 3))
def and_short_circuit_in_while(x, n):
    i = 0
    s = 0.0
    while i < n and x[i] > 0:
        s = s + x[i] * x[i]
        i = i + 1
    return s


@program((X,), (-X,), (np.array([0.5, 1.0, -2.0]),))
def or_short_circuit_in_while(x):
    i = 0
    s = 0.0
    while not (i >= 3 or x[i] < 0.0):
        s = s + x[i]
        i = i + 1
    return s * s


@program((2.0,), (0.1,))
def while_true_with_break(x):
    y = x
    k = 0
    while True:
        y = np.sin(y) + 0.5 * y
        k = k + 1
        if k >= 5 or y < 0.2:
            break
    return y


@program((2.0, 3), (0.3, 1))
def continue_in_while(x, n):
    i = 0
    s = 0.0
    while i < n:
        i = i + 1
        if i == 2:
            continue
        s = s + x ** i
    return s


@program((2.0,), (0.5,), (20.0,))
def early_return_from_while(x):
    y = x
    while y < 100.0:
        y = y * y + 1.0
        if y > 50.0:
            return np.log(y)
    return y


@program((0.5,), (5.0,))
def return_from_while_true(x):
    y = x
    while True:
        y = y * y + 0.5
        if y > 1.0:
            return np.log(y)


@program((np.array([1.0, 2.0]), 1e-10), (np.array([0.1, 0.3]), 1e-2))
def while_on_a_norm(x, tol):
    r = x
    k = 0
    while np.linalg.norm(r) > tol and k < 100:
        r = r * 0.5 + 0.1 * np.sin(r)
        k = k + 1
    return np.sum(r) * 1e6 + k


@program((2.0,))
def nested_while_loops(x):
    y = x
    i = 0
    while i < 3:
        j = 0
        while j < i:
            y = np.sqrt(y) + 0.1
            j = j + 1
        i = i + 1
    return y


@program((1.2, 3), (0.2, 3), (1.2, 0))
def while_with_break_inside_for(x, n):
    y = x
    for i in range(n):
        k = 0
        while True:
            y = y * 1.3
            k = k + 1
            if y > 2.0 or k > 2:
                break
        y = y - 1.0
    return y


@program((1.2, 3), (1.2, 1))
def for_inside_while(x, n):
    y = x
    k = 0
    while k < n:
        for i in range(k):
            y = y * 0.7 + 0.1
        k = k + 1
    return y


# -- calls of the user's own functions with control flow ------------------------------------------

def sine_steps(u, k):
    for j in range(k):
        u = np.sin(u) * 1.1
    return u


def signed_square(u):
    if u > 0.0:
        return u * u
    return -u


@program((X,))
def helper_with_a_loop_called_in_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(sine_steps(x, i))
    return s


@program((X,), (-X,))
def helper_with_a_branch_called_in_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + signed_square(x[i])
    return s


# -------------------------------------------------------------------------------------------------
# the checks


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("fn, args, wrt, exact", CORPUS)
def test_check_grads_reverse_mode(fn, args, wrt, exact):
    s2sad.check_grads(fn, args, wrt=wrt, modes=("reverse",))


@pytest.mark.parametrize("fn, args, wrt, exact", CORPUS)
def test_grad_matches_finite_differences_and_exact_derivative(fn, args, wrt, exact):
    if np.ndim(fn(*args)) != 0:
        pytest.skip("vector output: checked by check_grads only")
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    gradients = as_tuple(s2sad.grad(fn, wrt=wrt)(*args))
    assert len(gradients) == len(positions)
    for position, gradient in zip(positions, gradients):
        numeric = oracle.gradient(fn, args, position, h=1e-6)
        assert np.shape(gradient) == np.shape(numeric)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-7)
    if exact is not None:
        np.testing.assert_allclose(gradients[0], exact(*args), rtol=1e-12, atol=1e-14)



@pytest.mark.parametrize("fn, args, wrt, exact", CORPUS)
def test_value_and_grad_returns_the_value(fn, args, wrt, exact):
    if np.ndim(fn(*args)) != 0:
        pytest.skip("value_and_grad needs a scalar output")
    value, _ = s2sad.value_and_grad(fn, wrt=wrt)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-300)


def tapes_when_returning(call):
    """Run ``call()``; return, for each generated function that returned, its tape lists
    (``fwd_<helper>`` functions aside: they return their tape to ``bwd_<helper>``).

    The tape is a local list of the generated function (named ``tape``, or
    ``tape1``... if the user's code takes that name); a tracer reads the
    frame's locals at its ``return`` event.
    """
    seen = []

    def local(frame, event, arg):
        # (a fwd_<helper> hands its tape to bwd_<helper> as a residual: not empty there)
        if event == "return" and not frame.f_code.co_name.startswith("fwd_"):
            seen.append({k: list(v) for k, v in frame.f_locals.items()
                         if re.fullmatch(r"tape\d*", k) and isinstance(v, list)})
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename.startswith("<s2sad"):
            return local
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(old)
    return seen


def pushes_and_pops(text, function):
    """``(pushed, popped)``: the argument texts of ``tape.append`` and targets of ``tape.pop()``."""
    tree = ast.parse(text)
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    pushed, popped = [], []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name) and node.func.value.id.startswith("tape"):
            if node.func.attr == "append":
                pushed.append(ast.unparse(node.args[0]))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "pop":
            popped.append(ast.unparse(node.targets[0]))
    return pushed, popped


@pytest.mark.parametrize("fn, args, wrt, exact", CORPUS)
def test_tape_is_empty_after_the_gradient(fn, args, wrt, exact):
    out_bar = np.ones_like(fn(*args))
    calls = {"vjp": lambda: s2sad.vjp(fn, wrt=wrt)(*args, out_bar)}
    if np.ndim(out_bar) == 0:
        calls["grad"] = lambda: s2sad.grad(fn, wrt=wrt)(*args)
    text = s2sad.source(fn, wrt=wrt)
    for kind, call in calls.items():
        call()  # compiled outside the trace
        frames = tapes_when_returning(call)
        assert frames, "no generated function ran"
        for tapes in frames:
            assert all(tape == [] for tape in tapes.values()), (kind, tapes)
        # in the text: one pop per push site, popping the names that were pushed
        pushed, popped = pushes_and_pops(text, f"{kind}_{fn.__name__}")
        assert sorted(p.strip("()") for p in pushed) == sorted(p.strip("()") for p in popped)


def executed_path(fn, args):
    """The bytecode offsets ``fn`` (and the helpers it calls) run at ``args``: its path,
    branches of ``a if c else b`` and short-circuits of and/or included."""
    path = []

    def local(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            path.append((frame.f_code.co_name, frame.f_lasti))
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == fn.__code__.co_filename:
            frame.f_trace_opcodes = True
            return local
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args)
    finally:
        sys.settrace(old)
    return tuple(path)


@pytest.mark.parametrize("name", [n for n, (_, points) in PROGRAMS.items() if len(points) > 1])
def test_points_take_different_paths(name):
    fn, points = PROGRAMS[name]
    paths = [executed_path(fn, args) for args in points]
    assert len(set(paths)) == len(paths), f"two points of {name} take the same path"


def test_the_corpus_covers_every_construct():
    source = "\n".join(inspect.getsource(fn) for fn, _ in PROGRAMS.values())
    for construct in ("elif ", " else:", " if ", " and ", " or ", "break", "continue", "while ",
                      "while True", "enumerate(", "zip(", "range(", "for row in", "return",
                      "for c in [", "for c in ("):
        assert construct in source, construct
    tree = ast.parse(source)
    kinds = {type(n).__name__ for n in ast.walk(tree)}
    assert {"If", "IfExp", "BoolOp", "For", "While", "Break", "Continue", "Return",
            "AugAssign"} <= kinds


# -------------------------------------------------------------------------------------------------
# known bugs


def loop_over_a_tuple_of_arrays(x, y):
    s = 0.0
    for a in (x, y * 2.0):
        s = s + np.sum(a * a)
    return s


def loop_over_a_list_of_arrays(x, w):
    s = 0.0
    for a in [x, x * w, np.sin(x)]:
        s = s + np.sum(a * a)
    return s


@pytest.mark.parametrize("fn, args", [(loop_over_a_tuple_of_arrays, (X, X[::-1])),
                                      (loop_over_a_list_of_arrays, (X, 0.7))])
def test_loop_over_a_list_or_tuple_of_arrays(fn, args):
    s2sad.check_grads(fn, args, wrt=(0, 1), modes=("reverse",))


def power_of(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def test_value_and_grad_of_a_loop_returns_the_value():
    value, gradient = s2sad.value_and_grad(power_of)(1.5, 3)
    assert gradient == pytest.approx(6.75)
    assert value == pytest.approx(3.375)  # s2sad 0.1.0 returns 1.0


def sum_of_squared_rows(m):
    s = 0.0
    for row in m:
        s = s + np.sum(row * row)
    return s


@pytest.mark.parametrize("fn, args", [(power_of, (2, 3)),
                                      (sum_of_squared_rows, (np.arange(6).reshape(3, 2),))])
def test_loop_gradient_at_integer_inputs(fn, args):
    """At integer-valued points given as floats; given as ints, a UsageError (issue 11:
    what is differentiated must be floating, as in JAX)."""
    with pytest.raises(s2sad.UsageError, match="not a float or an array of floats"):
        s2sad.grad(fn)(*args)
    args = (np.asarray(args[0], dtype=float) if np.ndim(args[0]) else float(args[0]),) + args[1:]
    gradient = s2sad.grad(fn)(*args)
    np.testing.assert_allclose(gradient, oracle.gradient(fn, args, 0, h=1e-6), rtol=1e-6)


def countdown(x):
    s = 0.0
    for i in reversed(range(3)):
        s = s * 2.0 + x[i]
    return s


def test_loop_over_reversed_range_works_or_is_a_located_error():
    try:
        gradient = s2sad.grad(countdown)(X)
    except s2sad.S2sadError as err:
        assert err.loc is not None and err.loc.line == inspect.getsourcelines(countdown)[1] + 2
    else:
        np.testing.assert_allclose(gradient, [1.0, 2.0, 4.0])


def test_grad_tapes_no_more_than_vjp():
    text = s2sad.source(sum_of_squared_rows)
    grad_pushes, _ = pushes_and_pops(text, "grad_sum_of_squared_rows")
    vjp_pushes, _ = pushes_and_pops(text, "vjp_sum_of_squared_rows")
    assert grad_pushes == vjp_pushes


# -------------------------------------------------------------------------------------------------
# what the forward sweep of a loop stores


def powers(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def scaled_tanh_steps(x, n):
    a = np.exp(x)
    y = x
    for i in range(n):
        y = np.tanh(y * a)
    return np.sum(y)


def tanh_rnn(W, h0, T):
    h = h0
    for t in range(T):
        h = np.tanh(W @ h)
    return np.sum(h)


def pushed_names(text, function):
    pushed, _ = pushes_and_pops(text, function)
    return [name for p in pushed for name in p.strip("()").split(", ")]


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "vjp"])
def test_values_from_before_the_loop_are_not_pushed(kind):
    names = pushed_names(s2sad.source(powers), f"{kind}_powers")
    assert names, "the loop must record the carried y"
    assert "x" not in names and "n" not in names
    assert len(names) == 1  # one value per trip: y before the multiplication
    names = pushed_names(s2sad.source(scaled_tanh_steps), f"{kind}_scaled_tanh_steps")
    assert not {"a", "x", "n"} & set(names)


def test_rnn_pushes_one_state_vector_per_step():
    text = s2sad.source(tanh_rnn, wrt=("W", "h0"))
    (pushed,), _ = pushes_and_pops(text, "grad_tanh_rnn")
    assert "," not in pushed and pushed not in ("W", "h0")
    rng = np.random.default_rng(0)
    W, h0 = rng.standard_normal((4, 4)) / 2, rng.standard_normal(4)
    s2sad.check_grads(tanh_rnn, (W, h0, 7), wrt=(0, 1), modes=("reverse",))


def tanh_rnn_with_input(W, U, h0, xs):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return np.sum(h)


def tape_bytes_per_step(derivative, args_at):
    """Growth of the peak memory of ``derivative(*args_at(T))`` per step, from T = 200 to 400."""
    import tracemalloc

    def peak(T):
        args = args_at(T)
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            derivative(*args)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    derivative(*args_at(2))
    return (peak(400) - peak(200)) / 200


RNG = np.random.default_rng(7)
W64, U64, H64 = RNG.standard_normal((64, 64)) / 8, RNG.standard_normal((64, 3)), \
    RNG.standard_normal(64)
XS = RNG.standard_normal((400, 3))
STATE = H64.nbytes  # 512 bytes; an array on the tape also costs ~120 bytes of header and slot


def test_rnn_tape_costs_about_one_state_vector_per_step():
    derivative = s2sad.grad(tanh_rnn, wrt=("W", "h0"))
    per_step = tape_bytes_per_step(derivative, lambda T: (W64, H64, T))
    assert STATE <= per_step < 2 * STATE


def test_rnn_with_input_tape_costs_about_one_state_vector_per_step():
    """W @ h and U @ x are pushed each step only so unbroadcast can read their shapes: the
    specialised gradient (from a signature's second call) pushes stand-ins of their shapes
    (s2sad/tape_stand_ins.py), so the tape holds about one state vector per step, not three.
    (The generic code still pushes them.)"""
    derivative = s2sad.grad(tanh_rnn_with_input, wrt=("W", "U", "h0"))
    per_step = tape_bytes_per_step(derivative, lambda T: (W64, U64, H64, XS[:T]))
    assert STATE <= per_step < 2 * STATE


def test_tape_length_grows_by_one_per_trip():
    lengths = []

    def local(frame, event, arg):
        tape = frame.f_locals.get("tape")
        if isinstance(tape, list):
            lengths.append(len(tape))
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_name == "grad_powers" else None

    derivative = s2sad.grad(powers)
    derivative(1.1, 2)
    sys.settrace(tracer)
    try:
        assert derivative(1.1, 5) == pytest.approx(5 * 1.1 ** 4)
    finally:
        sys.settrace(None)
    assert max(lengths) == 5 and lengths[-1] == 0


def test_generated_loop_code_needs_numpy_only():
    text = s2sad.source(powers)
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import numpy as np"]
    assert "s2sad" not in text.replace("Written by s2sad", "")
    assert re.search(r"for \w+ in reversed\(", text)  # the loop is replayed backwards


# -------------------------------------------------------------------------------------------------
# the SSA listing of an if and of a loop


def branch(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y


def first_line(fn):
    return inspect.getsourcelines(fn)[1]


def test_ssa_of_an_if():
    n = first_line(branch)
    expected = (
        f"def branch(x):    # {__file__}:{n}\n"
        f"    v1 = gt(x, 0.0)    # line {n + 1}: if x > 0.0:\n"
        f"    if v1:             # line {n + 1}\n"
        f"        y = mul(x, x)  # line {n + 2}: y = x * x\n"
        f"    else:\n"
        f"        y_1 = neg(x)   # line {n + 4}: y = -x\n"
        f"    y_2 = phi(y, y_1)\n"
        f"    return y_2         # line {n + 5}: return y\n")
    assert s2sad.ssa(branch) == expected


def test_ssa_of_a_loop():
    n = first_line(powers)
    expected = (
        f"def powers(x, n):    # {__file__}:{n}\n"
        f"    y = copy(1.0)                        # line {n + 1}: y = 1.0\n"
        f"    v1 = range(n)                        # line {n + 2}: for i in range(n):\n"
        f"    for i in v1:  carry(y_1 = y -> y_2)  # line {n + 2}\n"
        f"        y_2 = mul(y_1, x)                # line {n + 3}: y = y * x\n"
        f"    return y_1                           # line {n + 4}: return y\n")
    assert s2sad.ssa(powers) == expected


# -------------------------------------------------------------------------------------------------
# constructs s2sad does not support inside control flow: located errors
# Each function marks the line at fault with "# <- here"; the error must point at the token.


def with_try(x):
    for i in range(3):
        try:  # <- here
            x = x * 2.0
        except ValueError:
            pass
    return x


def with_with(x):
    if x > 0:
        with open(__file__) as handle:  # <- here
            x = x + 1.0
    return x


def with_for_else(x):
    for i in range(3):  # <- here
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def with_for_else_and_break(x):
    while x < 100.0:
        for i in range(3):  # <- here
            if x > 1.0:
                break
            x = x * 2.0
        else:
            x = x + 1.0
        x = x * 3.0
    return x


def with_while_else(x):
    if x > 0.0:
        while x < 10.0:  # <- here
            x = x * 2.0
        else:
            x = x + 1.0
    return x


def with_yield(x):
    for i in range(3):
        yield x * i  # <- here
    return x


def with_lambda(x):
    if x > 0:
        gs = [lambda t: t * x]  # <- here (a lambda that is not called)
        x = 2.0 * x
    return x


UNSUPPORTED = [
    (with_try, "try", "try"),
    (with_with, "with", "with"),
    (with_for_else, "for", "for ... else"),
    (with_for_else_and_break, "for", "for ... else"),
    (with_while_else, "while", "while ... else"),
    (with_yield, "yield", "yield"),
    (with_lambda, "lambda", "lambda"),
]


@pytest.mark.parametrize("fn, token, what", UNSUPPORTED, ids=[u[0].__name__ for u in UNSUPPORTED])
def test_unsupported_construct_is_a_located_error(fn, token, what):
    lines, start = inspect.getsourcelines(fn)
    (offset,) = [i for i, text in enumerate(lines) if "# <- here" in text]
    line = start + offset
    column = lines[offset].index(token)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(fn)(1.0)
    err = info.value
    assert isinstance(err, s2sad.S2sadError)
    assert what in err.message
    assert (err.loc.filename, err.loc.line, err.loc.col) == (__file__, line, column)
    text = str(err)
    assert text.startswith(f"{__file__}:{line}:{column + 1}: ")
    assert lines[offset].strip() in text  # the line is shown, with a caret under the token
    caret = text.splitlines()[2]
    assert caret.strip() == "^" and caret.index("^") - 4 == column - (
        len(lines[offset]) - len(lines[offset].lstrip()))
    assert err.hint  # and it says what to do
