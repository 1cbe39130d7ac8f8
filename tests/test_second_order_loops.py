"""Second derivatives through loops: generated gradient code, with its tape, differentiated again.

Reverse-mode code for a loop keeps values on a list (``tape.append(...)`` at the end of each
forward trip, ``... = tape.pop()`` at the start of each backward trip) and, for a loop-invariant
matrix factor, collects the per-trip outer products on another (``W_bar_terms.append((g, h))``,
summed by ``matmul_bar_a_sum``). The lowering reads that idiom as list statements (see
``s2sad.rules.operators.LIST_OPS``), so the gradient code can be differentiated again: forward
over reverse (``hvp``, ``hessian``) pushes tangents on ``tape_dot`` beside ``tape``; reverse over
reverse (``grad(grad(f))``) mirrors each push and pop on ``tape_bar``. Hand-written stacks
(``stack = []``) are read the same way.

The oracle is a central difference of the gradient, which s2sad computes exactly, so
agreement to ~1e-6 relative is a real test.
"""

import re

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import NoDerivativeError, UnsupportedSyntaxError
from s2sad.support import add_contents_bar, add_contents_bar_bar

RNG = np.random.default_rng(7)


# --- the functions -----------------------------------------------------------------------------


def sine_power(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) * x
    return np.sum(y)


def grow_until(x):
    y = x
    while np.sum(y * y) < 10.0:  # the trip count depends on x
        y = y * 1.5 + np.sin(y)
    return np.sum(y * x)


def early_exit(x, n):
    y = x
    for i in range(n):
        if np.sum(y) > 4.0:
            break
        if i == 1:
            continue
        y = y * np.cos(y) + x
    return np.sum(y * y)


def nested(x, n):
    y = x
    for i in range(n):
        for j in range(i + 1):  # the inner trip count changes with the outer index
            y = np.cos(y) * x + 0.1 * j
        y = y * np.tanh(x)
    return np.sum(y)


def branchy(x, n):
    y = x
    for i in range(n):
        if np.sum(y) > 0:
            y = np.sin(y) * x
        else:
            y = y * y + x
    return np.sum(y)


def rows(X):
    s = 0.0
    for row in X:  # a loop over the differentiated array's rows
        s = s + np.sum(np.sin(row) * row[0])
    return s


def rnn(W, h0, n):
    h = h0
    for i in range(n):
        h = np.tanh(W @ h)
    return np.sum(h ** 2)


def deep_rnn(W, h0, n, m):
    h = h0
    for i in range(n):
        for j in range(m):  # the gradient makes its list of outer products once per outer trip
            h = np.tanh(W @ h)
        h = h * 0.9
    return np.sum(h ** 2)


def rnn_inputs(W, U, xs):
    h = np.zeros(W.shape[0])
    for x_t in xs:  # U's outer products pair its adjoint with data: no tangent there
        h = np.tanh(W @ h + U @ x_t)
    return np.sum(h * h)


def stack(x, n):
    pushed = []  # a hand-written stack
    y = x
    for i in range(n):
        pushed.append((y, i))
        y = np.sin(y) * 1.5
    z = np.zeros_like(x)
    while len(pushed) > 0:
        v, k = pushed.pop()
        z = z + v * k + np.cos(v)
    return np.sum(z * y)


def unbalanced(x, n):
    kept = []
    for i in range(n):
        kept.append(x * (i + 1.0))
    total = np.sum(x * x)
    if n > 1:
        a = kept.pop()  # the others are never popped: their adjoints are zero
        total = total + np.sum(a * np.sin(a))
    kept.clear()
    return total


def pairs(x, n):
    acc = []
    out = 0.0
    for i in range(n):
        acc.append(x * (i + 1.0))
        if len(acc) == 2:
            a = acc.pop()
            b = acc.pop()
            out = out + np.sum(a * np.sin(b))
            acc.clear()
    return out


def stacked(x, n):
    ys = []  # a list read as a whole: its adjoint is added to every element (add_contents_bar)
    for i in range(n):
        ys.append(np.sin(x) * (i + 1.0))
    return np.sum(np.stack(ys) ** 2) + np.sum(x)


def stacked_scalar(x):
    ys = []
    for i in range(3):
        ys.append(np.sin(x) * (i + 1.0))
    return np.sum(np.stack(ys) ** 2)


def stacked_twice(x, n):
    ys = []
    s = 0.0
    for i in range(n):
        ys.append(np.cos(x * (i + 1.0)))
        s = s + np.sum(np.stack(ys) * x)  # read whole on every trip, then pushed onto again
    return s


def comprehension(x, n):
    rows = [np.tanh(x * k) for k in range(n)]
    return np.sum(np.stack(rows) ** 3) + np.sum(rows[0] * x)


X3 = RNG.uniform(0.2, 0.8, 3)
W3 = RNG.standard_normal((3, 3)) * 0.5
H3 = RNG.standard_normal(3)

# (function, arguments; the first is differentiated)
CASES = [
    (sine_power, (X3, 0)), (sine_power, (X3, 1)), (sine_power, (X3, 4)),
    (grow_until, (X3,)), (grow_until, (np.array([3.0, 2.0, 1.5]),)),  # 2 trips, then none
    (early_exit, (X3, 6)), (nested, (X3, 3)), (branchy, (X3, 4)), (branchy, (-X3, 3)),
    (rows, (RNG.uniform(-1, 1, (4, 3)),)),
    (rnn, (W3, H3, 5)), (rnn, (W3, H3, 70)),  # 70 trips: the outer products are summed at 64
    (deep_rnn, (W3, H3, 3, 2)),
    (rnn_inputs, (W3, RNG.standard_normal((3, 2)), RNG.standard_normal((6, 2)))),
    (stack, (X3, 4)), (stack, (X3, 0)), (unbalanced, (X3, 3)), (pairs, (X3, 5)),
    (stacked, (X3, 3)), (stacked_twice, (X3, 4)), (comprehension, (X3, 3)),
]
IDS = [f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)]


def assert_close(actual, expected, rtol=1e-6):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# --- forward over reverse -----------------------------------------------------------------------


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_hvp_matches_differences_of_the_gradient(f, args):
    v = RNG.standard_normal(np.shape(args[0]))
    assert_close(s2sad.hvp(f)(*args, v), oracle.derivative(s2sad.grad(f), args, 0, v, h=1e-5))


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_hessian_matches_differences_and_hvp(f, args):
    x = args[0]
    hess = s2sad.hessian(f)(*args)
    assert hess.shape == x.shape + x.shape
    flat = hess.reshape(x.size, x.size)
    assert_close(flat, oracle.gradient(s2sad.grad(f), args, 0, h=1e-5).reshape(x.size, x.size))
    np.testing.assert_allclose(flat, flat.T, rtol=1e-9, atol=1e-9 * max(1, np.abs(flat).max()))
    batch = RNG.standard_normal((2,) + x.shape)  # vector mode: two directions in one sweep
    np.testing.assert_allclose(s2sad.hvp(f)(*args, batch).reshape(2, -1),
                               batch.reshape(2, -1) @ flat.T, rtol=1e-9, atol=1e-9)


def test_rnn_hessian_blocks_for_weights_and_initial_state():
    blocks = s2sad.hessian(rnn, wrt=(0, 1))(W3, H3, 4)
    grad = s2sad.grad(rnn, wrt=(0, 1))
    point = np.concatenate([W3.ravel(), H3])

    def flat_grad(p):
        return np.concatenate([g.ravel() for g in grad(p[:9].reshape(3, 3), p[9:], 4)])

    expected = oracle.gradient(flat_grad, (point,), 0, h=1e-5)
    sizes = (9, 3)
    actual = np.block([[b.reshape(sizes[i], sizes[j]) for j, b in enumerate(row)]
                       for i, row in enumerate(blocks)])
    assert_close(actual, expected)


def test_rnn_hessian_in_the_weights_of_the_inputs():
    # U's outer products pair its adjoint with data, whose place in the tangent pairs is None
    U, xs = RNG.standard_normal((3, 2)), RNG.standard_normal((70, 2))
    hess = s2sad.hessian(rnn_inputs, wrt=1)(W3, U, xs).reshape(6, 6)
    expected = oracle.gradient(s2sad.grad(rnn_inputs, wrt=1), (W3, U, xs), 1, h=1e-5)
    assert_close(hess, expected.reshape(6, 6))
    v = RNG.standard_normal((3, 2))
    assert_close(s2sad.hvp(rnn_inputs, wrt=1)(W3, U, xs, v).ravel(), hess @ v.ravel(), rtol=1e-9)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_check_grads_to_second_order_in_both_modes(f, args):
    """Reverse over reverse too, through the lists of adjoints the first sweep keeps
    (pop_bar, add_contents_bar, given the list's length before them)."""
    s2sad.check_grads(f, args, order=2)


# --- reverse over reverse -----------------------------------------------------------------------


def scalar_loop(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) * x
    return y


def test_grad_of_grad_through_a_loop_and_a_third_derivative():
    first = s2sad.grad(scalar_loop)
    second = s2sad.grad(first)
    for x in (0.7, -1.2):
        assert np.isclose(second(x, 3), oracle.derivative(first, (x, 3), 0, 1.0, h=1e-5), rtol=1e-8)
        assert np.isclose(s2sad.hvp(scalar_loop)(x, 3, 1.0), second(x, 3), rtol=1e-12)
        _, third = s2sad.jvp(second)(x, 3, 1.0)  # forward over reverse over reverse
        assert np.isclose(third, oracle.derivative(second, (x, 3), 0, 1.0, h=1e-5), rtol=1e-6)
    assert second(0.7, 0) == 0.0


@pytest.mark.parametrize("f, args", [(stack, (X3, 3)), (stacked, (X3, 3)),
                                     (stacked_twice, (X3, 4)), (pairs, (X3, 5))])
def test_lists_of_adjoints_differentiated_in_reverse_mode(f, args):
    """grad of grad's adjoints: the first sweep's pop_bar pushes back only where it popped
    (an empty t_bar gave zeros), and add_contents_bar's adjoint (add_contents_bar_bar) gives
    each element's adjoint to its row and takes off t_bar_bar the elements it made."""
    v = RNG.standard_normal(3)
    gradient = s2sad.grad(f)
    twice = s2sad.grad(lambda x, n: np.sum(gradient(x, n) * v))(*args)
    assert_close(twice, s2sad.hvp(f)(*args, v), rtol=1e-10)
    assert_close(twice, oracle.derivative(gradient, args, 0, v, h=1e-5))
    text = s2sad.source(lambda x, n: np.sum(gradient(x, n) * v))
    if f in (stacked, stacked_twice):
        assert "add_contents_bar_bar(" in text


def test_a_list_read_whole_differentiated_three_times_in_reverse_mode_is_a_located_error():
    second = s2sad.grad(s2sad.grad(stacked_scalar))
    assert np.isclose(second(0.4), oracle.derivative(s2sad.grad(stacked_scalar), (0.4,), 0, 1.0,
                                                     h=1e-5), rtol=1e-6)
    with pytest.raises(NoDerivativeError, match="add_contents_bar_bar") as info:
        s2sad.grad(second)(0.4)
    assert info.value.loc is not None and "again" in str(info.value)


# --- first order through hand-written stacks ----------------------------------------------------


@pytest.mark.parametrize("f, args", [(stack, (X3, 4)), (unbalanced, (X3, 3)), (unbalanced, (X3, 1)),
                                     (pairs, (X3, 5))])
def test_hand_written_stacks_to_first_order(f, args):
    s2sad.check_grads(f, args)
    assert_close(s2sad.grad(f)(*args), oracle.gradient(f, args, 0, h=1e-6), rtol=1e-6)


# --- lists read by index and looped over: a snapshot of the elements pushed so far -------------


W22 = np.array([[0.5, -0.3], [0.2, 0.4]])


def rnn_reading_its_last_state(x, n):
    hs = []
    hs.append(np.zeros(2))
    for t in range(n):
        hs.append(np.tanh(W22 @ hs[-1] + x[t]))
    return np.sum(hs[-1] ** 2) + np.sum(hs[1])


def states_looped_over(x, n):
    hs = []
    for t in range(n):
        hs.append(np.exp(x[t] * 0.3))
    acc = 0.0
    for i, h in enumerate(hs):
        acc = acc + h * (i + 1.0)
    for h, v in zip(hs, x):
        acc = acc + h * v
    return acc + sum(hs[-2:]) * len(hs)


def every_state_reread(x, n):
    hs = []
    hs.append(x[0])
    for t in range(1, n):
        total = 0.0
        for h in hs:
            total = total + h
        hs.append(np.tanh(total * x[t]))
    return hs[-1]


def rnn_from_a_list_written_out(x, n):  # hs = [h0], then pushed onto: a stack too
    hs = [np.zeros(2), np.ones(2) * x[0]]
    for t in range(n):
        hs.append(np.tanh(W22 @ hs[-1] + x[t] * hs[-2]))
    a = hs.pop()
    return np.sum(a * hs[-1]) + np.sum(np.stack(hs[1:]))


def sum_of_pushed(x, n):  # sum(hs) of a list: its adjoint list gets no tangent in vector mode
    hs = []
    for t in range(n):
        hs.append(np.sin(x[t]) * x[(t + 1) % n])
    return sum(hs)


LISTS_READ = [(rnn_reading_its_last_state, (X3, 3)), (states_looped_over, (X3, 3)),
              (every_state_reread, (X3, 3)), (rnn_from_a_list_written_out, (X3, 3)),
              (sum_of_pushed, (X3, 3))]


@pytest.mark.parametrize("f, args", LISTS_READ, ids=[c[0].__name__ for c in LISTS_READ])
def test_a_list_read_by_index_or_looped_over(f, args):
    # (each was "hs is a list (made by hs = []), which s2sad follows as a stack only")
    assert_close(s2sad.grad(f)(*args), oracle.gradient(f, args, 0, h=1e-6), rtol=1e-6)
    s2sad.check_grads(f, args, order=2, modes=("forward",))
    assert "tuple(hs)" in s2sad.source(f)  # the elements pushed so far, read as a tuple
    # the Hessian (vector mode over the gradient: a pop from an empty list of tangents gives
    # a zero batch, pop_dots; pop_bar gave one zero array, a labelled internal error)
    flat = s2sad.hessian(f)(*args).reshape(3, 3)
    assert_close(flat, oracle.gradient(s2sad.grad(f), args, 0, h=1e-5).reshape(3, 3))


# --- the generated code ---------------------------------------------------------------------------


def tangent_code(f, i=0):
    """The tangent transform (w.r.t. parameter i) of f's generated gradient (w.r.t. i)."""
    return s2sad.source(s2sad.grad(f, wrt=i), wrt=i, mode="forward")


def test_the_tape_gets_a_list_of_tangents():
    text = tangent_code(sine_power)
    assert "tape_dot = []" in text
    assert re.search(r"tape\.append\(\((y_1_\d+), (v2_\d+)\)\)\n\s+tape_dot\.append\(\(\1_dot, "
                     r"\2_dot\)\)", text), text
    assert re.search(r"(y_1_\d+), (v2_\d+) = tape\.pop\(\)\n\s+\1_dot, \2_dot = tape_dot\.pop\(\)",
                     text), text


def test_values_no_tangent_reaches_are_pushed_as_none():
    text = tangent_code(branchy)  # the branch flag is on the tape too: it has no tangent
    assert re.search(r"tape_dot\.append\(\(y_1_\d+_dot, None\)\)", text), text
    assert re.search(r"y_1_\d+_dot, _ = tape_dot\.pop\(\)", text), text


def test_deferred_outer_products_get_tangents_pair_by_pair():
    text = tangent_code(rnn)
    assert "W_bar_terms_dot = []" in text and "W_bar_terms_dot.clear()" in text
    assert re.search(r"(v\d+)_dot = tuple\(W_bar_terms_dot\)", text), text
    assert "matmul_bar_a_sum_dot(" in text
    text = tangent_code(rnn_inputs, 1)  # x_t is data: its place in U's pairs holds None
    assert re.search(r"U_bar_terms_dot\.append\(\(\w+_dot, None\)\)", text), text


def test_reverse_over_reverse_mirrors_the_tape_on_a_list_of_adjoints():
    text = s2sad.source(s2sad.vjp(sine_power))  # the generated vjp_sine_power, differentiated
    assert "tape_bar = []" in text
    assert re.search(r"tape_bar\.append\(\(y_1_\d+_bar, v2_\d+_bar\)\)", text), text
    assert re.search(r"pop_bar\(tape_bar, \(y_1_\d+, v2_\d+\)\)", text), text
    assert "tape1 = []" in text  # the outer sweep's own tape


def test_the_ssa_listing_shows_the_list_statements():
    listing = s2sad.ssa(s2sad.grad(sine_power))
    assert re.search(r"^\s+tape = list_new\(\)", listing, re.M), listing
    assert re.search(r"^\s+list_append\(tape, y_1_\d+, v2_\d+\)", listing, re.M), listing
    assert re.search(r"^\s+y_1_\d+, v2_\d+ = list_pop\(tape\)", listing, re.M), listing


# --- what the lowering refuses ---------------------------------------------------------------


def e_return(x):
    t = []
    t.append(x)
    return t


def e_write(x):
    t = []
    t.append(x)
    t[0] = x * 2.0
    return np.sum(t.pop())


def e_alias(x):
    t = []
    s = t  # noqa: F841
    return np.sum(x)


def e_condition(x):
    t = []
    if t:
        x = x * 2.0
    return np.sum(x)


def e_made_in_loop(x):
    for i in range(3):
        t = []
        t.append(x)
    return np.sum(t.pop())


def e_made_later_in_loop(x):
    t = []
    for i in range(3):
        t.append(x)
        t = []
    return np.sum(x)


def e_made_in_branch(x):
    if np.sum(x) > 0:
        t = []
        t.append(x)
    else:
        t = []
    return np.sum(t.pop())


def e_reassigned(x):
    t = []
    t = x
    return np.sum(t)


def e_append_value(x):
    t = []
    y = t.append(x)  # noqa: F841
    return np.sum(x)


def e_pop_index(x):
    t = []
    t.append(x)
    return np.sum(t.pop(0))


def e_other_method(x):
    t = []
    t.extend([x])
    return np.sum(x)


def e_not_a_list(x):
    x.append(1.0)
    return np.sum(x)


ERRORS = [  # function, text at the caret, words of the message
    (e_return, "t\n", "cannot be returned"),
    (e_write, "t[0] = ", "not item writes"),
    (e_alias, "t\n", "cannot be copied"),
    (e_condition, "t:", "tested as a condition"),
    (e_made_in_loop, "t.pop()", "made inside a loop"),
    (e_made_later_in_loop, "t.append", "before t = [] makes a new list"),
    (e_made_in_branch, "t.pop()", "one branch of an if"),
    (e_reassigned, "t = x", "something else is assigned"),
    (e_append_value, "t.append", "returns None"),
    (e_pop_index, "t.pop(0)", "without arguments"),
    (e_other_method, "t.extend", ".extend()"),
    (e_not_a_list, "x.append", "list made by name = []"),
]


@pytest.mark.parametrize("f, at, words", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_lists_used_otherwise_are_located_errors(f, at, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(np.array([1.0, 2.0]))
    message = str(info.value)
    assert words in message, message
    loc = info.value.loc
    assert loc.filename == __file__
    assert loc.text[loc.col:].startswith(at.rstrip("\n")), (loc.text, at)


@pytest.mark.parametrize("kept, seen", [(1, 2), (0, 3), (3, 1), (2, 0)])
def test_add_contents_bar_bar_is_the_adjoint_of_add_contents_bar(kept, seen):
    """The dot test: <add_contents_bar(t_bar, c), y> = <t_bar, y'> + <c, c_bar>, where
    c_bar = add_contents_bar_bar(y, c, kept) and y' is what it leaves of y; t_bar holds
    ``kept`` of the 3 elements' adjoints (the top ones), y ``seen`` of the result's."""
    rng = np.random.default_rng(kept * 10 + seen)
    contents = rng.standard_normal((3, 2))
    old = [rng.standard_normal(2) for _ in range(kept)]
    new = list(old)
    add_contents_bar(new, contents)
    y = [rng.standard_normal(2) for _ in range(seen)]
    left = sum(np.dot(a, b) for a, b in zip(new[3 - seen:], y))
    y_after = list(y)
    contents_bar = add_contents_bar_bar(y_after, contents, kept)
    assert len(y_after) == min(seen, kept)
    right = np.sum(contents * contents_bar) + sum(
        np.dot(a, b) for a, b in zip(old[kept - len(y_after):], y_after))
    assert np.isclose(left, right, rtol=1e-12)
    rows = add_contents_bar_bar(list(y), [contents[0], contents[1], contents[2]], kept)
    np.testing.assert_array_equal(np.stack(rows), contents_bar)  # a tuple's: the same rows
