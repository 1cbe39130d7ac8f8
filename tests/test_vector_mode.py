"""Vector mode (a batch of tangents) through values that are tuples.

``hessian``, ``jacobian(mode="forward")`` and ``hvp`` with a leading batch axis push K
directions at once: every tangent has the directions first. A value that is a tuple
(the residuals a helper's forward sweep hands to its backward sweep, ``np.split``'s
pieces, ``eigh``'s pair, a tuple literal) has a tuple of batches as its tangent, one per
element: the elements may have different shapes, so they are never stacked into one
array. These programs once raised InternalError (``np.stack`` of ragged pieces, an
unpacking of a batch as if it were the tuple).

Oracles: finite differences of s2sad's gradient (tests/oracle.py) for the Hessian, the
reverse-mode Jacobian for the forward one, and the directions one at a time for a batch.
"""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import InternalError

RTOL = 1e-6


# --- the programs ----------------------------------------------------------------------------

def sin_scaled(a, b):  # two statements: a helper s2sad does not inline
    t = a * b
    return np.sin(t) + 1.0


def calls_helper(x):
    return np.sum(sin_scaled(x, 2.0) * x)


def split_at(x):
    a, b, c = np.split(x, [1, 3])
    return np.sum(a * 2.0) + np.sum(np.sin(b)) * np.sum(c ** 2)


def split_held(x):  # the pieces held by one name, read by index
    p = np.split(x, [1, 3])
    return np.sum(np.sin(p[1])) * np.sum(p[2] ** 2) + np.sum(p[0] * x[0])


def array_split_7(x):
    p = np.array_split(x, 3)  # pieces of 3, 2 and 2
    return np.sum(np.sin(p[0])) * np.sum(p[2] ** 2) + np.sum(p[1] ** 3)


def concatenate_ragged(x):
    y = np.cos(x)
    return np.sum(np.concatenate([x, y[:2]]) ** 3)


def lstsq_solution(x):
    a = np.reshape(x[:6], (3, 2)) + np.eye(3, 2)
    return np.sum(np.linalg.lstsq(a, x[6:9], rcond=None)[0] ** 2)


def eigh_values(x):
    a = np.reshape(x[:9], (3, 3))
    a = a + a.T
    return np.sum(np.linalg.eigh(a)[0] ** 3)


def pair(x):
    a = np.sin(x)
    b = np.cos(x[:2]) * a[0]
    return a, b


def unpacks_pair(x):
    u, v = pair(x)
    return np.sum(u * v[1]) + np.sum(v ** 2)


def holds_pair(x):
    p = pair(x)
    return np.sum(p[0] ** 2) * np.sum(p[1])


def takes_pair(p, c):
    s = np.sum(p[0] * c)
    return s * np.sum(p[1] ** 2)


def passes_pair(x):
    return takes_pair((np.sin(x), x[:2] * 3.0), 2.0)


def fills(p):
    a = np.zeros(3)
    a[0] = p[0][0] * 2.0
    a[1:] = p[1]
    return np.sum(a ** 2)


def passes_pair_to_fill(x):  # the helper's jvp makes a batch of zeros: how many directions?
    return fills((np.sin(x), x[:2] * 3.0)) * x[1]


def list_of_pieces(x):
    ps = np.split(x, [2])
    qs = [ps[0] * 2.0, np.sin(ps[1])]
    return np.sum(np.concatenate(qs) ** 2) + np.sum(qs[1]) * x[0]


def tuple_read_as_array(x):
    return np.sum(np.sin((x[0] * x[1], x[2])) * x[0])


def tuple_summed(x):
    return np.sum((x[0] * x[1], x[2] ** 2)) * x[1]


def tuple_in_loop(x):
    p = (x, x[:2])
    for i in range(3):
        p = (p[0] * 0.5 + np.sin(p[1][0]), np.cos(p[1]) * p[0][1])
    return np.sum(p[0]) * np.sum(p[1])


def tuple_in_branch(x):
    if x[0] > 0:
        p = (x * 2.0, x[:2])
    else:
        p = (x, x[:2] * 3.0)
    return np.sum(p[0] ** 2) * np.sum(p[1])


def tuple_repeated(x):  # * repeats a tuple: its tangent too
    p = (x[0] * x[1], np.sin(x[2])) * 2
    return np.sum(np.array(p) ** 2) * x[0]


def tuples_joined(x):  # + joins tuples: their tangents too
    p = (x[0] * x[1],) + (np.sin(x[2]),)
    return np.sum(np.array(p) ** 2) * x[0]


def stacked_once(x, n):
    ys = []
    for i in range(n):
        ys.append(np.cos(x * (i + 1.0)))
    return np.sum(np.stack(ys) * x)


def stacked_twice(x, n):
    ys = []
    s = 0.0
    for i in range(n):
        ys.append(np.cos(x * (i + 1.0)))
        s = s + np.sum(np.stack(ys) * x)
    return s


def pairs_stacked(x, n):
    ys = []
    s = 0.0
    for i in range(n):
        ys.append((np.sin(x * (i + 1.0)), np.cos(x) * x))
        s = s + np.sum(np.stack(ys) * x)
    return s


def pairs_stacked_popped(x, n):
    ys = []
    s = 0.0
    for i in range(n):
        ys.append((np.sin(x * (i + 1.0)), np.cos(x) * x))
        s = s + np.sum(np.stack(ys) ** 2)
    a, b = ys.pop()
    return s + np.sum(a * b * x)


def _x(n):
    return np.linspace(0.1, 0.7, n) + np.sin(np.arange(n))


SCALAR_CASES = [
    (calls_helper, (_x(4),)), (split_at, (_x(5),)), (split_held, (_x(5),)),
    (array_split_7, (_x(7),)), (concatenate_ragged, (_x(4),)), (lstsq_solution, (_x(9),)),
    (eigh_values, (np.array([1.0, 0.2, 0.3, 0.4, 2.0, 0.5, 0.6, 0.7, 3.0]),)),
    (unpacks_pair, (_x(4),)), (holds_pair, (_x(4),)), (passes_pair, (_x(4),)),
    (passes_pair_to_fill, (_x(4),)),
    (list_of_pieces, (_x(5),)), (tuple_read_as_array, (_x(3),)), (tuple_summed, (_x(3),)),
    (tuple_in_loop, (_x(4),)), (tuple_in_branch, (_x(4),)), (tuple_repeated, (_x(3),)),
]
IDS = [f.__name__ for f, _ in SCALAR_CASES]


# --- second order ----------------------------------------------------------------------------

@pytest.mark.parametrize("f, args", SCALAR_CASES, ids=IDS)
def test_hessian_matches_differences_of_the_gradient(f, args):
    hessian = s2sad.hessian(f)(*args)
    numeric = oracle.gradient(s2sad.grad(f), args, 0)
    np.testing.assert_allclose(hessian, numeric, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("f, args", SCALAR_CASES, ids=IDS)
def test_hvp_of_a_batch_is_the_hvps_one_at_a_time(f, args):
    directions = np.random.default_rng(3).standard_normal((3,) + np.shape(args[0]))
    hvp = s2sad.hvp(f)
    batch = hvp(*args, directions)
    assert np.shape(batch) == directions.shape
    for k, v in enumerate(directions):
        np.testing.assert_allclose(batch[k], hvp(*args, v), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [stacked_once, stacked_twice, pairs_stacked, pairs_stacked_popped])
def test_a_list_read_whole_to_second_order_in_vector_mode(f):
    """The gradient code's adjoint of a list read whole (add_contents_bar) is a list
    statement, linear: its tangents in a batch (add_contents_dots) give the Hessian. A list
    of pairs read whole gets one array per pair, its batch (directions first) split back
    into the pair where the pair is popped (pop_bar: it was unpacked along the directions)."""
    x = _x(3)
    hess = s2sad.hessian(f)(x, 3)
    np.testing.assert_allclose(hess, oracle.gradient(s2sad.grad(f), (x, 3), 0, h=1e-5),
                               rtol=1e-5, atol=1e-7)
    directions = np.random.default_rng(2).standard_normal((2, 3))
    np.testing.assert_allclose(s2sad.hvp(f)(x, 3, directions), directions @ hess.T,
                               rtol=1e-9, atol=1e-10)
    s2sad.check_grads(f, (x, 3), order=2, modes=("reverse",))  # reverse twice: the same


# --- Jacobians of functions with tuple-valued values -----------------------------------------

def helper_values(x):
    return sin_scaled(x, 2.0) * x


def split_pieces_joined(x):
    a, b, c = np.split(x, [1, 3])
    return np.concatenate([np.sin(b), a * c[0], c ** 2])


def array_split_joined(x):
    p = np.array_split(x, 3)
    return np.concatenate([np.sin(p[0]), p[1] * p[2]])


def concatenate_of_pieces(x):
    return np.concatenate([x, np.cos(x)[:2]]) * x[0]


def lstsq_joined(x):
    a = np.reshape(x[:6], (3, 2)) + np.eye(3, 2)
    return np.linalg.lstsq(a, x[6:9], rcond=None)[0] * x[0]


def eigh_joined(x):
    a = np.reshape(x[:9], (3, 3))
    w, v = np.linalg.eigh(a + a.T)
    return np.concatenate([np.linalg.eigh(a + a.T)[0], v[:, 0] * w[0]])


JACOBIAN_CASES = [
    (helper_values, (_x(4),)), (split_pieces_joined, (_x(5),)), (array_split_joined, (_x(7),)),
    (concatenate_of_pieces, (_x(4),)), (lstsq_joined, (_x(9),)),
    (eigh_joined, (np.array([1.0, 0.2, 0.3, 0.4, 2.0, 0.5, 0.6, 0.7, 3.0]),)),
]


@pytest.mark.parametrize("f, args", JACOBIAN_CASES, ids=[f.__name__ for f, _ in JACOBIAN_CASES])
def test_forward_jacobian_is_the_reverse_jacobian(f, args):
    forward = s2sad.jacobian(f, mode="forward")(*args)
    reverse = s2sad.jacobian(f, mode="reverse")(*args)
    np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(forward, oracle.gradient(f, args, 0), rtol=RTOL, atol=1e-7)


@pytest.mark.parametrize("f, args", SCALAR_CASES, ids=IDS)
def test_forward_jacobian_of_the_gradient_is_the_hessian(f, args):
    """jacobian(grad f, mode="forward"): vector mode through the gradient code."""
    forward = s2sad.jacobian(s2sad.grad(f), mode="forward")(*args)
    np.testing.assert_allclose(forward, s2sad.hessian(f)(*args), rtol=1e-10, atol=1e-12)


# --- the structure of a tuple's tangent ------------------------------------------------------

def test_the_tangent_of_a_returned_tuple_is_a_tuple_of_batches():
    x = _x(4)
    directions = np.random.default_rng(5).standard_normal((3, 4))
    value, tangent = s2sad.jvp(pair)(x, directions)
    assert isinstance(tangent, tuple) and len(tangent) == 2
    assert [np.shape(t) for t in tangent] == [(3, 4), (3, 2)]
    for k, d in enumerate(directions):
        single = s2sad.jvp(pair)(x, d)[1]
        for batched, one in zip(tangent, single):
            np.testing.assert_allclose(batched[k], one, rtol=1e-12)


def test_a_tuple_literal_is_never_stacked_in_vector_mode():
    from s2sad.module import forward_module
    text = forward_module(split_pieces_joined, (0,), vector=True).source
    assert "np.stack(" not in text.split("# --- run-time helpers")[0]


def test_a_tuple_read_as_an_array_in_single_direction_forward_mode():
    x = _x(3)
    d = np.array([0.3, -1.0, 0.5])
    value, tangent = s2sad.jvp(tuple_read_as_array)(x, d)
    assert value == pytest.approx(tuple_read_as_array(x))
    assert tangent == pytest.approx(oracle.derivative(tuple_read_as_array, (x,), 0, d), rel=RTOL)


# --- custom rules --------------------------------------------------------------------------

@s2sad.custom_jvp
def weighted_pair(p, c):
    return np.sum(p[0] * c) * np.sum(p[1] ** 2)


@weighted_pair.defjvp
def weighted_pair_jvp(p, c, p_dot, c_dot):
    a, b = p
    a_dot, b_dot = p_dot
    return np.sum(a_dot * c) * np.sum(b ** 2) + np.sum(a * c) * np.sum(2 * b * b_dot)


@s2sad.custom_jvp
def polar(x, y):
    return np.hypot(x, y), np.arctan2(y, x)


@polar.defjvp
def polar_jvp(x, y, x_dot, y_dot):
    r = np.hypot(x, y)
    return (x * x_dot + y * y_dot) / r, (x * y_dot - y * x_dot) / r ** 2


def calls_weighted_pair(x):
    return weighted_pair((np.sin(x), x[:2] * 3.0), 2.0)


def unpacks_polar(x):
    r, t = polar(x[:2], x[2:])
    return np.concatenate([r * 2.0, np.sin(t)])


@pytest.mark.parametrize("f, n", [(calls_weighted_pair, 4), (unpacks_polar, 4)])
def test_a_custom_rule_in_vector_mode_gets_each_direction_in_its_structure(f, n):
    x = _x(n) + 1.0
    directions = np.random.default_rng(2).standard_normal((3, n))
    batch = s2sad.jvp(f)(x, directions)[1]
    for k, d in enumerate(directions):
        np.testing.assert_allclose(batch[k], s2sad.jvp(f)(x, d)[1], rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(f, mode="forward")(x), oracle.gradient(f, (x,), 0),
                               rtol=RTOL, atol=1e-7)


def test_the_tangents_of_joined_tuples_are_joined():
    x = _x(3)
    directions = np.random.default_rng(4).standard_normal((3, 3))
    batch = s2sad.jvp(tuples_joined)(x, directions)[1]
    for k, d in enumerate(directions):
        single = s2sad.jvp(tuples_joined)(x, d)[1]
        assert batch[k] == pytest.approx(single, rel=1e-12)
        assert single == pytest.approx(oracle.derivative(tuples_joined, (x,), 0, d), rel=RTOL)


def doubled_argument(t):
    p = t + t  # t a tuple: joined, not NumPy's elementwise sum
    return np.sum(np.array(p) ** 2)


def test_the_gradient_through_joined_tuples_is_a_join_or_an_error_never_a_wrong_value():
    # tuples the lowering knows are tuples are joined (a join primitive, tests/test_joined_
    # sequences.py); where it cannot know (a tuple argument t + t, what a helper returned)
    # reverse mode takes + for NumPy's sum, whose adjoint would give each operand the whole
    # adjoint: the shapes disagree, and the helpers say so at run time
    x = _x(3)
    np.testing.assert_allclose(s2sad.grad(tuples_joined)(x), oracle.gradient(tuples_joined, (x,), 0),
                               rtol=RTOL)
    t = (np.array([0.3, 0.8]), np.array([1.0, -0.5]))
    with pytest.raises(InternalError, match="adjoint of shape"):
        s2sad.grad(doubled_argument)(t)
    with pytest.raises(InternalError, match="joined with \\+"):
        s2sad.grad(helper_pair_doubled)(x)
    assert s2sad.jvp(helper_pair_doubled)(x, x)[1] == pytest.approx(
        oracle.derivative(helper_pair_doubled, (x,), 0, x), rel=RTOL)


def helper_pair(x):
    return x[0], x[1] * 2.0


def helper_pair_doubled(x):
    t = helper_pair(x)
    p = t + t  # joined; reverse mode once gave the gradient of 2 * t here, silently
    return np.sum(np.array(p) * np.array([1.0, 2.0, 3.0, 4.0]))
