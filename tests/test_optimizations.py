"""Optimisations of generated code, checked on the code and on the derivative values."""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad import support
from tests.programs.loops import rnn, rnn_dot


def affine_sum(x):
    y = 2.0 * x + 1.0
    return np.sum(y * 3.0) + np.mean(x)


def broadcast_sum(x, s):
    return np.sum(x * 2.0 + s)  # s may be smaller than x: its adjoint is a total


def test_a_spread_number_stays_pending_through_element_wise_rules():
    grad = s2sad.source(affine_sum).split("def grad_affine_sum")[1].split("def value_and")[0]
    backward = grad.split("# backward sweep")[1]
    assert "unreduce(6.0, v2)" in backward  # 1 * 3 * 2, spread once: no array per step
    assert "y_bar" not in backward and "v1_bar" not in backward
    x = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(affine_sum)(x), np.full(4, 6.0 + 0.25))
    s2sad.check_grads(affine_sum, (x,), order=2)


def test_a_spread_number_reaching_a_smaller_operand_is_summed():
    x = np.ones((3, 4))
    for s in (0.5, np.ones(4), np.ones((3, 1))):
        gx, gs = s2sad.grad(broadcast_sum, wrt=(0, 1))(x, s)
        np.testing.assert_allclose(gx, np.full((3, 4), 2.0))
        np.testing.assert_allclose(gs, np.full(np.shape(s), 12.0 / np.size(s)))
        s2sad.check_grads(broadcast_sum, (x, s), wrt=(0, 1))


def alias_then_broadcast(x, s):
    t = s  # copy's rule is g itself: the substituted g keeps its own unbroadcast to t
    u = np.log(t) + x
    return np.sum(u * x)


def test_a_substituted_adjoint_keeps_its_own_unbroadcast():
    x = np.array([0.5, 1.5, 2.5])
    gx, gs = s2sad.grad(alias_then_broadcast, wrt=(0, 1))(x, 2.0)
    assert np.shape(gs) == ()
    assert gs == pytest.approx(np.sum(x) / 2.0)
    s2sad.check_grads(alias_then_broadcast, (x, 2.0), wrt=(0, 1), order=2)


def dot_like(x, y):
    return np.sum(x * y)


def test_a_gradient_is_never_an_input_array_itself():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    gx, gy = s2sad.grad(dot_like, wrt=(0, 1))(x, y)
    gx += 1.0
    gy += 1.0
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_array_equal(y, [3.0, 4.0])


def neuron_reads(w, x):
    return 1.0 / (1.0 + np.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def repeated_reads(w, idx):
    return w[0] * w[0] + np.sum(w[idx] ** 2) + w[1:3][0] * w[-1]


def test_element_reads_scatter_into_one_adjoint_array():
    grad = s2sad.source(neuron_reads, wrt=(0, 1)).split("def grad_")[1].split("def value_and")[0]
    backward = grad.split("# backward sweep")[1]
    assert "unindex" not in backward and "w_bar + " not in backward  # no fresh array per read
    assert backward.count("w_bar = zeros_bar(w)") == 1
    assert backward.count("scatter_add(w_bar,") == 3
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    s2sad.check_grads(neuron_reads, (w, x), wrt=(0, 1), order=2)
    # the same element read several times, by an array of indices (repeated), by a slice
    w = np.array([0.5, -1.5, 2.0, 0.25])
    idx = np.array([2, 2, 0])
    gw = s2sad.grad(repeated_reads)(w, idx)
    np.testing.assert_allclose(gw, [2 * 0.5 + 2 * 0.5, 0.25, 2 * 2 * 2.0, -1.5])
    s2sad.check_grads(repeated_reads, (w, idx), order=2)


def rnn_np_matmul(W, h, T):
    for t in range(T):
        h = np.tanh(np.matmul(W, h))
    return np.sum(h)


def rnn_dot_method(W, h, T):
    for t in range(T):
        h = np.tanh(h.dot(W))  # W on the right: its pairs are (h, g)
    return np.sum(h)


def dot_of_any_rank(A, xs):
    s = 0.0
    for x in xs:
        s = s + np.sum(np.sin(np.dot(A, x)))  # A 3-d or 0-d: np.dot is not matmul there
    return s


@pytest.mark.parametrize("f", [rnn, rnn_dot, rnn_np_matmul, rnn_dot_method])
def test_a_loops_products_are_batched_however_spelled(f):
    """The per-trip outer products of W's adjoint are one product after the loop, for @,
    np.dot, np.matmul and .dot() alike: what the code computes, not how it is spelled."""
    backward = s2sad.source(f, wrt=(0, 1)).split("def value_and")[0].split("# backward")[1]
    side = "b" if f is rnn_dot_method else "a"
    assert f"W_bar += matmul_bar_{side}_sum(W_bar_terms, W" in backward
    assert f"bar_{side}(" not in backward.replace(f"matmul_bar_{side}_sum", "")
    rng = np.random.default_rng(3)
    W, h = rng.standard_normal((4, 4)) / 2, rng.standard_normal(4)
    s2sad.check_grads(f, (W, h, 3), wrt=(0, 1), order=2)


def product_of_a_written_array(W, h, T):
    y = h * 1.0
    for t in range(T):
        y[t % 3] = np.sum(W @ y)  # y's old values are restored into it trip by trip
    return np.sum(y)


def states_in_a_matrix(W, h, T):  # the RNN whose states are rows of one array
    y = np.zeros((T + 1, 4))
    y[0] = h
    for t in range(T):
        y[t + 1] = np.tanh(np.dot(W, y[t]))
    return np.sum(y ** 2)


def dot_of_a_view_of_a_written_array(W, h, T):
    y = np.zeros((T + 1, 4))
    y[0] = h
    for t in range(T):
        y[t + 1] = np.tanh(y[t] @ W)
        y[t, 1:] *= 0.5
    return np.sum(y ** 2)


@pytest.mark.parametrize("f", [product_of_a_written_array, states_in_a_matrix,
                               dot_of_a_view_of_a_written_array])
def test_a_factor_whose_array_the_loop_writes_into_is_not_held(f):
    """The backward sweep writes old values back into an array written in place, trip by
    trip: a factor sharing its memory cannot wait to be summed after the loop (it did, and
    W's gradient summed later trips' values: wrong from two trips on)."""
    rng = np.random.default_rng(6)
    W, h = rng.standard_normal((4, 4)) / 2, rng.standard_normal(4)
    assert "W_bar_terms" not in s2sad.source(f)
    for T in (1, 2, 5):
        np.testing.assert_allclose(s2sad.grad(f)(W, h, T), oracle.gradient(f, (W, h, T), 0),
                                   rtol=1e-6, atol=1e-8)
    s2sad.check_grads(f, (W, h, 4), wrt=(0, 1), order=2)


def test_batched_np_dot_keeps_np_dot_meaning_for_other_ranks():
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((3, 4))
    assert "matmul_bar_a_sum(A_bar_terms, A, 'dot')" in s2sad.source(dot_of_any_rank)
    for A in (rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4)), 0.7):
        s2sad.check_grads(dot_of_any_rank, (A, xs), order=2)
    # b of rank 3: np.dot(A, x) is (3, 2, 5) where A @ x would be (2, 3, 5)
    s2sad.check_grads(dot_of_any_rank, (rng.standard_normal((3, 4)),
                                        rng.standard_normal((2, 2, 4, 5))), order=2)


def test_batched_outer_products_of_a_rectangular_matrix_are_exact():
    """stack_pairs cuts one concatenation of all the pairs' vectors into two matrices:
    right for vectors of different lengths (W of 5×3), in both products' sides."""
    rng = np.random.default_rng(5)
    terms = [(rng.standard_normal(5), rng.standard_normal(3)) for _ in range(7)]
    gs, bs = support.stack_pairs(terms)
    assert np.array_equal(gs, np.array([g for g, _ in terms]))
    assert np.array_equal(bs, np.array([b for _, b in terms]))
    W = rng.standard_normal((5, 3))
    expected = sum(np.outer(g, b) for g, b in terms)
    assert np.allclose(support.matmul_bar_a_sum(terms, W), expected, rtol=1e-13)
    # the same pairs as (g, a) of products a @ W.T (a of length 3, g of length 5)
    assert np.allclose(support.matmul_bar_b_sum(terms, W.T), expected.T, rtol=1e-13)
    s2sad.check_grads(rnn_dot_method, (rng.standard_normal((3, 3)) / 2,
                                       rng.standard_normal(3), 4), wrt=(0, 1))


def hinge_and_square(p, y):
    hinge = np.maximum(0.0, 1.0 - y * p)
    return np.mean(hinge + (p - y) ** 2)


def test_a_new_array_unbroadcast_is_the_adjoint_the_sweep_adds_into():
    """p_bar's first contribution, unbroadcast(<an operator's new array>, p), is owned: the
    second is added in place (no fresh array of the data's size), whatever p's shape."""
    backward = s2sad.source(hinge_and_square).split("def value_and")[0].split("# backward")[1]
    assert "p_bar += " in backward and "p_bar = p_bar +" not in backward
    rng = np.random.default_rng(5)
    y = np.sign(rng.standard_normal((3, 4)))
    for p in (rng.standard_normal((3, 4)), rng.standard_normal(4), 0.3):
        s2sad.check_grads(hinge_and_square, (p, y), order=2)
    p = rng.standard_normal((3, 4))
    gradient = s2sad.grad(hinge_and_square)(p, y)
    expected = (np.where(1.0 - y * p > 0, -y, 0.0) + 2 * (p - y)) / p.size
    np.testing.assert_allclose(gradient, expected)
