"""In-place effects and shared memory: s2sad's program is NumPy's, or a located error.

``x += e`` updates ``x``'s array in place in NumPy, ``y[i] = v`` writes into it;
s2sad's IR computes new values. One may-alias analysis of the IR
(:mod:`s2sad.memory`, merges at branches and loop heads) decides whether the two
agree: every program here is either differentiated exactly like the function
runs (values, derivatives to second order in both modes, the caller's arrays
left as the function leaves them), or refused with an error located at the
construct.
"""

import inspect

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2sadError, UnsupportedSyntaxError

X = np.array([0.3, -1.2, 0.8, 1.5])


# --- accepted: s2sad's program is NumPy's ----------------------------------------------------
def fancy_copy(x):  # x[[1, 0]] copies, so v -= 1.0 changes no other name's array
    v = x[[1, 0]]
    v -= 1.0
    return np.sum(v * x[:2])


def mask_copy(x):  # x[mask] copies too
    v = x[x > 0.0]
    v *= 2.0
    return np.sum(v ** 2) + np.sum(x)


def index_array_copy(x):
    v = x[np.array([2, 0, 1])]
    v += x[:3]
    return np.sum(v * v) + np.sum(x)


def alias_not_read_again(x):  # NumPy updates a through b, but a is never read again
    a = x * 2.0
    b = a
    b += x
    return np.sum(b * b)


def alias_broken_on_every_path(x):  # after the if, b is never a's array
    a = x * 2.0
    b = a
    if np.sum(x) < -10.0:
        b = x * 3.0
    else:
        b = x * 4.0
    b *= x
    return np.sum(a * b)


def alias_broken_by_rebinding(x):
    a = x * 2.0
    b = a
    b = b * 1.0
    b += x
    return np.sum(a * b)


def update_in_a_loop(x):  # s is its own array on every trip
    s = x * 0.0
    for i in range(3):
        s += np.sin(x * (i + 1))
        s *= 0.5
    return np.sum(s * x)


def update_in_nested_branches(x):
    a = x * 2.0
    b = x * 3.0
    if x[0] > 0.0:
        if x[1] > 0.0:
            b = x * 4.0
        b += a
    return np.sum(a) + np.sum(b * b)


def view_read_before_update(x):
    a = x * 2.0
    t = a[1:]
    u = t.reshape(3, 1).T
    s = np.sum(u * u)
    a += x
    return s + np.sum(a)


def two_arguments(x, y):  # f(a, a): both names are the caller's array; neither is updated
    z = y * 1.0
    z += x
    return np.sum(z * x)


def write_then_square(x):  # issue 10 item 7: hvp differentiates the generated grad again
    v = x.copy()
    v[:] = v * 2.0
    return np.sum(v * v)


def float_accumulator(x):
    s = 0.0
    for i in range(3):
        s += np.sum(x * i)
    return s * s


def pair(a, b):
    return np.sin(a) * b, a + np.tanh(b)


def first_and_double(a, b):
    return a, b * 2.0


def update_after_helper_made_new_arrays(x):  # pair's results are new arrays, not a's
    a = 0.5 + x
    b, c = pair(1.0, a)
    a += 1.0
    d, e = first_and_double(x, a)
    e += 1.0  # e is new; d is x, never updated
    return np.sum(a * W[0]) + np.sum(b * c) + np.sum(d * e)


W = np.array([[0.5, -1.0, 2.0, 0.25]])


def dead_update_in_a_loop(x):  # b += ... carried though nothing reads b after the loop
    b = x * 2.0
    for _ in range(3):
        if np.sum(x) < 5.0:
            b += np.sin(x)
    return np.sum(x * x)


def write_into_one_grid(x):  # meshgrid's result k may be a view of its operand k only
    g, h = np.meshgrid(np.arange(4.0), np.linspace(0.0, 1.0, 4))
    g[0, 0] = x[0]
    return np.sum(g * h * x)


ACCEPTED = [write_into_one_grid, dead_update_in_a_loop, update_after_helper_made_new_arrays, fancy_copy, mask_copy, index_array_copy, alias_not_read_again,
            alias_broken_on_every_path, alias_broken_by_rebinding, update_in_a_loop,
            update_in_nested_branches, view_read_before_update, write_then_square,
            float_accumulator]


@pytest.mark.parametrize("f", ACCEPTED, ids=lambda f: f.__name__)
def test_accepted_programs_are_numpys_to_second_order(f):
    x = X.copy()
    s2sad.check_grads(f, (x,), modes=("forward", "reverse"), order=2)
    value, _ = s2sad.value_and_grad(f)(x)
    assert value == pytest.approx(f(X.copy()), rel=1e-14)
    np.testing.assert_array_equal(x, X)  # the caller's array is left alone, as f leaves it


def test_the_same_array_passed_twice():
    a = X.copy()
    value, (ga, gb) = s2sad.value_and_grad(two_arguments, wrt=(0, 1))(a, a)
    assert value == pytest.approx(two_arguments(X.copy(), X.copy()), rel=1e-14)
    np.testing.assert_array_equal(a, X)
    np.testing.assert_allclose(ga, 3 * X, rtol=1e-14)  # (y + x) + x
    np.testing.assert_allclose(gb, X, rtol=1e-14)
    s2sad.check_grads(two_arguments, (X, X + 0.5), wrt=(0, 1), order=2)


def test_hvp_of_a_write_differentiates_the_generated_gradient_again():
    v = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(s2sad.hvp(write_then_square)(X, v), 8.0 * v, rtol=1e-14)
    np.testing.assert_allclose(s2sad.hessian(write_then_square)(X), 8.0 * np.eye(4),
                               rtol=1e-14)


# --- refused: NumPy and s2sad would disagree ---------------------------------------------------
def update_through_alias_after_branch(x):  # issue 10 item 3
    a = x * 2.0
    b = a
    if np.sum(x) < -10.0:
        b = x * 3.0
    b *= x
    return np.sum(a)


def update_through_alias(x):
    a = x * 2.0
    b = a
    b += x
    return np.sum(a) + np.sum(b)


def update_through_alias_in_nested_branches(x):
    a = x * 2.0
    b = a
    if x[0] > 0.0:
        if x[1] > 0.0:
            b = x * 3.0
        b += 1.0
    return np.sum(a * b)


def loop_rebinds_to_argument(x, y):  # on the second trip, the update would write into x
    v = x * 1.0
    for i in range(2):
        v += y
        v = x
    return np.sum(v)


def rows_of_updated_array(x):  # rows are views of a: later rows see the updates
    a = np.outer(x, x)
    for r in a:
        a += r
    return np.sum(a)


def update_argument(x):
    x += 1.0
    return np.sum(x * x)


def update_argument_in_branch(x):
    if x[0] > 0.0:
        x *= 2.0
    return np.sum(x)


def view_read_after_update(x):
    a = x * 2.0
    t = a[1:]
    a += 1.0
    return np.sum(t)


def view_of_view_read_after_update(x):
    a = x * 2.0
    t = a[1:]
    u = t.reshape(3, 1).T
    a *= 2.0
    return np.sum(u)


def stale_view_in_loop(x):
    a = x * 2.0
    t = a[:2]
    s = 0.0
    for i in range(3):
        s = s + np.sum(t)
        a += x
    return s


def list_holds_updated_array(x):
    a = x * 1.0
    outs = []
    outs.append(a)
    a += x
    return np.sum(np.stack(outs))


def identity(x):
    return x


def update_call_result(x):
    a = identity(x)
    a += 1.0
    return np.sum(a)


def update_what_a_helper_passed_through(x):
    a = 0.5 + x
    b, c = first_and_double(a, a)  # b is a itself
    a += 1.0
    return np.sum(a) + np.sum(b) + np.sum(c)


def scatter_into_argument(x):
    np.add.at(x, np.array([0, 0]), 1.0)
    return np.sum(x * x)


def write_through_branch_alias(x):
    y = x * 1.0
    if x[0] > 0.0:
        y = x
    y[0] = 2.0
    return np.sum(y)


def swap_through_views(x):  # NumPy reads views: y[1] gets y[0]'s new value, not a swap
    y = x * 1.0
    y[0], y[1] = y[1], y[0]
    return np.sum(y * np.arange(4.0))


def broadcast_view_read_after_update(x):  # a is a view of y: y += ... changes a
    y = x * 2.0
    a, b = np.broadcast_arrays(y, W)
    y += 1.0
    return np.sum(a * b)


def _line(f, text):
    lines, first = inspect.getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


REFUSED = [
    (update_through_alias_after_branch, "return np.sum(a)",
     "a shares memory with b (a view or an alias), and line {0} updated b in place (b *= ...)",
     "b *= x"),
    (update_through_alias, "return np.sum(a)", "a shares memory with b", "b += x"),
    (update_through_alias_in_nested_branches, "return np.sum(a * b)",
     "a shares memory with b", "b += 1.0"),
    (loop_rebinds_to_argument, "v += y",
     "v may share memory with an array made outside this function", None),
    (rows_of_updated_array, "for r in a", "a shares memory with an array this loop writes into",
     None),
    (update_argument, "x += 1.0", "x is an argument of update_argument, and x += ... would "
                                  "change the caller's array", None),
    (update_argument_in_branch, "x *= 2.0", "x is an argument", None),
    (view_read_after_update, "return np.sum(t)", "t shares memory with a", "a += 1.0"),
    (view_of_view_read_after_update, "return np.sum(u)", "u shares memory with a", "a *= 2.0"),
    (stale_view_in_loop, "s = s + np.sum(t)",
     "t shares memory with an array this loop writes into", None),
    (list_holds_updated_array, "np.stack(outs)", "outs shares memory with a", None),
    (update_call_result, "a += 1.0",
     "a may share memory with an array made outside this function", None),
    (update_what_a_helper_passed_through, "return np.sum(a) + np.sum(b)",
     "b shares memory with a", "a += 1.0"),
    (scatter_into_argument, "np.add.at", "x is an argument of scatter_into_argument", None),
    (write_through_branch_alias, "y[0] = 2.0",
     "y may share memory with an array made outside this function", None),
    (broadcast_view_read_after_update, "return np.sum(a * b)", "a shares memory with y",
     "y += 1.0"),
    (swap_through_views, "y[0], y[1] =", "this uses a view of y read earlier in an expression, "
                                         "and line {0} wrote into y in between", "y[0], y[1] ="),
]


@pytest.mark.parametrize("f, where, message, update", REFUSED, ids=lambda v: getattr(
    v, "__name__", ""))
def test_refused_programs_are_located_errors(f, where, message, update):
    line = _line(f, where)
    message = message.format(_line(f, update) if update else None)
    n = len(inspect.signature(f).parameters)
    for transform in (s2sad.grad, s2sad.jvp):
        with pytest.raises(UnsupportedSyntaxError) as info:
            transform(f)(*([X.copy()] * n), *([np.ones(4)] * (transform is s2sad.jvp)))
        text = str(info.value)
        assert isinstance(info.value, S2sadError)
        assert info.value.loc.line == line, text
        assert text.startswith(f"{__file__}:{line}:"), text
        assert message in text, text


def test_an_update_hint_says_how_to_make_a_new_value():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(update_argument)(X.copy())
    assert "x = x + ..." in str(info.value)
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(update_through_alias)(X.copy())
    assert "b = b + ..." in str(info.value)
