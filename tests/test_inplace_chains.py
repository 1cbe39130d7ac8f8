"""In-place chains of a specialised gradient (s2sad.inplace) and the frees they need
(s2sad.rewrites): the tanh layer's adjoint ``g * (1 - H * H)`` computed in H's memory, a
bias added in its matrix's, names bound twice freed after their last use.

Every gradient is compared bit for bit with the generic one (the values are the same, only
where they are written changes) and with finite differences.
"""

import numpy as np
import pytest

import oracle
import s2sad
from measure import generic, peak_of


def layer(W1, b1, W2, X):
    H = np.tanh(X @ W1 + b1)
    return np.mean((H @ W2) ** 2)


def softmax_loss(W, X, Y):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def layer_args(n, bias=None):
    r = np.random.default_rng(5)
    return (r.standard_normal((3, 64)) / 2, r.standard_normal(bias or 64),
            r.standard_normal((64, 1)) / 8, r.standard_normal((n, 3)))


def grad_text(f, args, wrt):
    return s2sad.source(f, wrt=wrt, specialise_for=args).split("def value_and_grad")[0]


def check(f, args, wrt, small):
    """The specialised gradient at ``args`` is the generic one; at ``small`` (the same
    kinds) it agrees with finite differences."""
    g = s2sad.grad(f, wrt=wrt)
    for _ in range(3):  # the first call runs the generic function, the others the specialised
        got = g(*args)
    def as_tuple(result):
        return result if isinstance(result, tuple) else (result,)

    for k, a, b in zip(wrt, as_tuple(got), as_tuple(generic(f, wrt, args))):
        assert np.array_equal(a, b) and a.shape == np.shape(args[k])
    for k, a in zip(wrt, as_tuple(g(*small))):
        np.testing.assert_allclose(a, oracle.gradient(f, small, k), rtol=1e-6, atol=1e-8)
    return g


def test_the_tanh_adjoint_is_computed_in_the_layer_s_own_memory():
    """H is read last by ``H * H`` (both operands); ``1 - H*H`` and the product with the
    adjoint of H from the matrix product (which fits H's shape) follow it into H."""
    args = layer_args(4096)
    text = grad_text(layer, args, (0, 1, 2))
    assert "np.subtract(_f64_1p0, np.multiply(H, H, out=H), out=H), out=H)" in text
    g = check(layer, args, (0, 1, 2), layer_args(5))
    H = np.tanh(args[3] @ args[0] + args[1])
    # H and the adjoint of H from the product at once; before: H, that adjoint, H * H,
    # 1 - H * H and their product, and X @ W1 beside X @ W1 + b1 in the forward sweep
    assert peak_of(g, *args) < 2.5 * H.nbytes


@pytest.mark.parametrize("bias", [64, 1])
def test_a_bias_is_added_in_its_matrix_s_memory_where_its_shape_is_the_trailing_one(bias):
    args = layer_args(40, bias)
    text = grad_text(layer, args, (0, 1, 2))
    assert "np.add(v1, b1, out=v1 if v1.shape[1:] == b1.shape else None)" in text
    check(layer, args, (0, 1, 2), layer_args(5, bias))


def softmax_args(n):
    r = np.random.default_rng(6)
    return (r.standard_normal((8, 3)), r.standard_normal((n, 8)),
            np.eye(3)[r.integers(0, 3, size=n)])


def test_names_bound_twice_are_freed_and_broadcast_operands_that_fit_are_written_into():
    args = softmax_args(40)
    text = grad_text(softmax_loss, args, (0,))
    # unreduce(g, v5, 1) has a kind (logp_bar is an array); Z_1_bar is bound twice
    assert "del logp_bar" in text and "del Z_1_bar, v1" in text
    # the backward sweep reads the forward sweep's mask of the max, not Z: Z dies there
    assert "v1_mask = Z == v1\n    Z_1 = np.subtract(Z, v1, out=Z)\n" in text
    # the log of a keepdims sum of exp(Z_1) fits Z_1's shape: no run-time test
    assert "logp = np.subtract(Z_1, v4, out=Z_1)\n" in text
    check(softmax_loss, args, (0,), softmax_args(4))


def gated(Wz, Wh, xs, h):
    for x in xs:
        z = 1.0 / (1.0 + np.exp(-(Wz @ x + h)))
        h = (1.0 - z) * h + z * np.tanh(Wh @ x + h)
    return np.sum(h * h)


def gated_args(steps):
    r = np.random.default_rng(7)
    return (r.standard_normal((32, 32)) / 6, r.standard_normal((32, 32)) / 6,
            r.standard_normal((steps, 32)), r.standard_normal(32))


def test_a_loop_s_tape_holds_stand_ins_for_what_the_backward_sweep_reads_the_shape_of():
    """``unbroadcast(g, v)`` reads only v's shape: the tape holds a stand-in of it (the loop
    variable over range(len(xs)) is a Python int, so x = xs[i] and what follows have kinds)."""
    args = gated_args(300)
    text = grad_text(gated, args, (0, 1, 3))
    push = next(line for line in text.splitlines() if "tape.append(" in line)
    assert push.count("_stand_in(") >= 4, push
    g = check(gated, args, (0, 1, 3), gated_args(3))
    namespace, generated = s2sad.cache.compiled(gated, "reverse", (0, 1, 3))
    generic_peak = peak_of(namespace[generated.entry_points["grad"]], *args)
    assert peak_of(g, *args) < 0.8 * generic_peak
