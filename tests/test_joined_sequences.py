"""Tuples (and lists) joined with ``+`` and repeated with ``*``: ``p + q`` of two tuples is
their elements in order, not NumPy's element-wise sum. Where the lowering knows both operands
are tuples (literals, constants, joins of them) it is a ``join`` whose adjoint gives each
operand its piece of the adjoint (``piece_bar``) and whose tangent joins the tangents; the
derivatives are checked against finite differences in both modes, in vector mode and at
order 2 (reverse over reverse too). Where s2sad cannot know (a tuple argument ``t + t``)
the adjoint's helpers check the shapes at run time: a labelled error, never a wrong value."""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import InternalError

X = np.array([0.5, 1.2, 0.3])
W = np.array([1.0, 2.0, 3.0, 4.0])


def constant_first(x):
    p = (2.0,) + (np.sin(x[2]),)
    return np.sum(np.array(p) ** 2) * x[0]


def constant_last(x):
    c = (x[0] * 3.0,)
    p = c + (1.0, 2.0)
    return np.sum(np.array(p) ** 2) * x[1]


def repeated_weighted(x):
    t = (x[0], x[1] * 2.0)
    p = t * 2
    return np.sum(np.array(p) * W)


def repeated_on_the_left(x):
    t = (np.cos(x[0]), x[1] * x[2])
    p = 3 * t
    return np.sum(np.array(p) * np.arange(1.0, 7.0))


def joined_itself(x):
    t = (x[0] * x[1], np.exp(x[2]))
    p = t + t
    a, b, c, d = p
    return a * 1.0 + b * 2.0 + c * 3.0 + d * d


def element_reads(x):
    p = (x[0] ** 2,) + (x[1], np.sin(x[2])) + ((x[0] * x[2],) * 2)
    return p[0] * p[3] + p[2] * 5.0 - p[4] * p[1] + p[-1]


def arrays_joined(x):
    p = (x * 2.0,) + (np.sin(x), x[:2].sum() * x)
    return np.sum(np.stack(p) * np.arange(9.0).reshape(3, 3))


def grown_in_place(x):
    t = (x[0],)
    t += (x[1] * x[2],)
    t += (np.tanh(x[0]),) * 2
    return np.sum(np.array(t) ** 3 * W)


def lists_joined(x):
    p = [x[0] * x[1]] + [np.sin(x[2]), x[0]]
    return np.sum(np.array(p) * np.array([3.0, -1.0, 0.5]) * np.array(p))


def joined_in_a_loop(x, n=3):
    total = 0.0
    for i in range(n):
        p = (x[0] * (i + 1.0),) + (np.sin(x[1] * i), x[2])
        total = total + np.sum(np.array(p) ** 2 * np.array([1.0, 2.0, 3.0]))
    return total


def take(t):
    a, b, c = t
    return a * b + np.sin(c)


def nested(x):
    p = ((x[0], x[1] * 2.0),) + ((np.sin(x[2]), x[0] * x[1]),)
    return p[0][1] * p[1][0] + p[1][1] ** 2


def to_helper(x):
    p = (x[0],) + (x[1] * 3.0, x[2])
    return take(p)


def concatenated(x):  # pieces of two shapes: their adjoint is ragged (one array each)
    p = (x[:2] * 2.0,) + (np.cos(x),)
    return np.sum(np.concatenate(p) ** 2)


def stacked(x):
    p = [x[0] * 2.0, x[1]] + [np.exp(x[2])]
    return np.sum(np.stack(p) ** 2)


def branch_joined(x):
    if x[0] > 0:
        p = (x[0],) + (x[1],)
    else:
        p = (x[1],) + (x[0],)
    return np.sum(np.array(p) * np.array([1.0, 3.0]))


CASES = [constant_first, constant_last, repeated_weighted, repeated_on_the_left, joined_itself,
         element_reads, arrays_joined, grown_in_place, lists_joined, joined_in_a_loop, nested,
         to_helper, concatenated, stacked, branch_joined]


@pytest.mark.parametrize("f", CASES)
def test_the_gradient_through_joined_tuples_is_that_of_finite_differences(f):
    np.testing.assert_allclose(s2sad.grad(f)(X), oracle.gradient(f, (X,), 0), rtol=1e-6,
                               atol=1e-8)
    d = np.array([0.3, -0.2, 0.7])
    assert s2sad.jvp(f)(X, d)[1] == pytest.approx(oracle.derivative(f, (X,), 0, d), rel=1e-6)


@pytest.mark.parametrize("f", CASES)
def test_joined_tuples_in_vector_mode_give_each_direction(f):
    directions = np.random.default_rng(3).standard_normal((4, 3))
    batch = s2sad.jvp(f)(X, directions)[1]
    for k, d in enumerate(directions):
        assert batch[k] == pytest.approx(oracle.derivative(f, (X,), 0, d), rel=1e-6)


@pytest.mark.parametrize("f", CASES)
def test_joined_tuples_to_second_order_in_both_modes(f):
    s2sad.check_grads(f, (X,), order=2)
    s2sad.check_grads(f, (X,), order=2, modes=("reverse",))  # reverse over reverse
    np.testing.assert_allclose(s2sad.hessian(f)(X), oracle.gradient(s2sad.grad(f), (X,), 0),
                               rtol=1e-5, atol=1e-7)


def returns_joined(x):
    return (x[0] * x[1],) + (np.sin(x),)


def test_the_vjp_of_a_joined_tuple_takes_one_cotangent_per_element():
    a_bar, s_bar = 0.7, np.array([1.0, -2.0, 0.5])
    got = s2sad.vjp(returns_joined)(X, (a_bar, s_bar))
    want = a_bar * np.array([X[1], X[0], 0.0]) + s_bar * np.cos(X)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_generated_code_joins_with_plus_and_takes_pieces_of_the_adjoint():
    text = s2sad.source(constant_last)
    assert "p = c + v" in text or "p = c + (1.0, 2.0)" in text
    assert "piece_bar(" in text and "len(c" in text


def grown_by_a_loop(x):  # acc is a loop's carried value: s2sad cannot see it is a tuple
    acc = ()
    for i in range(3):
        acc = acc + (x[i] * (i + 1.0),)
    return np.sum(np.array(acc) * np.array([1.0, 2.0, 3.0]))


def test_a_tuple_a_loop_grows_is_a_labelled_error_never_a_wrong_value():
    with pytest.raises(InternalError, match="joined with \\+"):
        s2sad.grad(grown_by_a_loop)(X)
