"""Masks computed once (s2sad.reverse.forward_masks): the forward sweep computes the mask of
``np.maximum``/``np.minimum`` and of ``np.max``/``np.min`` over an axis and keeps it, the
backward sweep reads it instead of comparing again. The generated source shows the mask made
once; the gradients agree with finite differences, with the plain rule's at ties (bit for
bit), over broadcast operands, Python numbers, and at second order (the generated code is
differentiated again)."""

import numpy as np
import pytest

import oracle
import s2sad


def hinge(p, y):
    return np.mean(np.maximum(0.0, 1.0 - y * p))


def both(x, w):
    return np.sum(np.maximum(x, w) * np.minimum(x, 2.0 * w))


def broadcast(x, b):
    return np.sum(np.maximum(x, b) ** 2 + np.minimum(b, x))


def softmax(W, X):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    return np.sum(np.exp(Z) * np.min(Z, axis=0))


def plain_axis(x):
    return np.sum(np.sin(np.max(x, axis=1)) + np.amin(x, axis=(0, 1)) ** 2)


def numbers(x, y):
    return np.maximum(x, y) * np.minimum(x, 3.0) + np.max(np.array([x, y]))


def clipped(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) ** 2 + np.clip(x, None, 0.5))


def forward_sweep(text):
    return text.split("# backward sweep")[0]


def backward_sweep(text):
    return text.split("# backward sweep")[1].split("\ndef ")[0]


def test_the_mask_is_made_once_by_the_forward_sweep():
    text = s2sad.source(hinge)
    assert "v3_mask = 0.0 < v2\n    v3 = np.maximum(0.0, v2)\n" in forward_sweep(text)
    assert "* v3_mask" in backward_sweep(text) and "<" not in backward_sweep(text)
    text = s2sad.source(softmax)
    assert "v1_mask = Z == v1" in forward_sweep(text)
    assert "tie_share(" in backward_sweep(text) and "extremum_bar" not in text
    # an axis without keepdims: the mask compares with the result spread back over it
    text = s2sad.source(plain_axis)
    assert "np.expand_dims(v1, 1)" in forward_sweep(text)
    assert "==" not in backward_sweep(text)


def test_both_operands_get_their_own_masks():
    text = s2sad.source(both, wrt=(0, 1))
    forward, backward = forward_sweep(text), backward_sweep(text)
    for comparison in ("x >= w", "x < w", "x <= v2", "x > v2"):
        assert comparison in forward
    assert ">" not in backward and "<" not in backward


def test_a_clip_keeps_the_mask_of_each_active_operand():
    text = s2sad.source(clipped, wrt=(0, 1, 2))
    forward, backward = forward_sweep(text), backward_sweep(text)
    for made in ("v1_mask = x >= lo", "v1_mask1 = x <= hi", "v1_mask2 = v1_mask & v1_mask1",
                 "v1_mask3 = x < lo", "v1_mask4 = x > hi", "v3_mask = x <= 0.5"):
        assert made + "\n" in forward
    assert ">" not in backward and "<" not in backward
    x = np.array([-0.3, 0.4, 0.0, 1.0, -1.0])  # ties with each bound: x takes the adjoint
    gx, glo, ghi = s2sad.grad(clipped, wrt=(0, 1, 2))(x, -0.3, 0.4)
    c = np.clip(x, -0.3, 0.4)
    np.testing.assert_array_equal(gx, 2 * c * ((x >= -0.3) & (x <= 0.4)) + (x <= 0.5))
    assert (glo, ghi) == (np.sum(2 * c * (x < -0.3)), np.sum(2 * c * (x > 0.4)))


def test_an_inactive_operand_gets_no_mask():
    text = s2sad.source(hinge, wrt=1)  # the constant 0.0 never has one
    assert forward_sweep(text).count("_mask =") == 1


def test_ties_follow_numpy_and_the_plain_rule_bit_for_bit():
    x = np.array([1.0, 2.0, 2.0, -1.0, 0.0, 3.0])
    w = np.array([1.0, 0.5, 2.0, -1.0, 0.0, 4.0])  # ties at 0, 2, 3, 4
    gx, gw = s2sad.grad(both, wrt=(0, 1))(x, w)
    m = np.maximum(x, w)
    n = np.minimum(x, 2.0 * w)
    np.testing.assert_array_equal(gx, n * (x >= w) + m * (x <= 2.0 * w))
    np.testing.assert_array_equal(gw, n * (x < w) + 2.0 * m * (x > 2.0 * w))
    # a max with ties shares the adjoint equally among them
    X = np.array([[3.0, 3.0, 1.0], [2.0, 0.0, 2.0]])
    np.testing.assert_array_equal(s2sad.grad(lambda a: np.sum(np.max(a, axis=1) ** 2))(X),
                                  [[3.0, 3.0, 0.0], [2.0, 0.0, 2.0]])


def _random_args(f, rng):
    if f is hinge:
        return (rng.standard_normal(30) * 2, np.sign(rng.standard_normal(30)))
    if f is both:
        return (rng.standard_normal(20), rng.standard_normal(20))
    if f is broadcast:
        return (rng.standard_normal((4, 5)), rng.standard_normal(5))
    if f is clipped:  # (ties with the bounds: test_a_clip_keeps_...)
        return (rng.standard_normal(14), np.full(14, -0.3), 0.4)
    if f is softmax:
        return (rng.standard_normal((6, 3)), rng.standard_normal((7, 6)))
    return (rng.standard_normal((3, 4, 2)),)


@pytest.mark.parametrize("f, wrt", [(hinge, 0), (both, (0, 1)), (broadcast, (0, 1)),
                                    (softmax, 0), (plain_axis, 0), (clipped, (0, 1, 2))])
def test_gradients_against_finite_differences_and_at_second_order(f, wrt):
    args = _random_args(f, np.random.default_rng(3))
    gradient = s2sad.grad(f, wrt)(*args)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,),
                    gradient if isinstance(wrt, tuple) else (gradient,)):
        np.testing.assert_allclose(g, oracle.gradient(f, args, i), rtol=1e-6, atol=1e-8)
    s2sad.check_grads(f, args, wrt=wrt, order=2)


def test_specialised_and_generic_functions_agree():
    args = _random_args(softmax, np.random.default_rng(4))
    grad = s2sad.grad(softmax)
    first, second = grad(*args), grad(*args)  # (the second call runs the specialised one)
    np.testing.assert_array_equal(first, second)
    text = s2sad.source(softmax, specialise_for=args)
    assert "Z_1 = np.subtract(Z, v1, out=Z)" in text  # Z dies in the forward sweep
    assert "del v1, v1_mask\n" in text  # and the mask after its last use
    args = _random_args(hinge, np.random.default_rng(5))
    text = s2sad.source(hinge, specialise_for=args)
    assert "v3_mask = 0.0 < v2\n    v3 = np.maximum(0.0, v2, out=v2)\n" in text


def test_python_numbers():
    for x, y in ((2.0, 1.0), (1.0, 2.0), (1.5, 1.5), (4.0, 3.0)):
        gx, gy = s2sad.grad(numbers, wrt=(0, 1))(x, y)
        np.testing.assert_allclose((gx, gy), (oracle.gradient(numbers, (x, y), 0),
                                              oracle.gradient(numbers, (x, y), 1)),
                                   rtol=1e-6, atol=1e-8) if x != y else None
        if x == y:  # a tie: maximum's x and minimum's x take it, max shares it
            assert (gx, gy) == (min(x, 3.0) + x * (x <= 3.0) + 0.5, 0.5)


def relu(x, w):
    z = x * w
    return np.sum(z * (z > 0)) + np.sum(np.where(z > 0.5, z, 0.5 * z))


def test_a_comparison_the_function_makes_is_made_once():
    text = s2sad.source(relu, wrt=(0, 1)).split("\ndef value_and")[0]
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    assert code.count("z > 0\n") == 1 and code.count("z > 0.5\n") == 1
    args = (np.random.default_rng(6).standard_normal(25), np.random.default_rng(7).standard_normal(25))
    for i in (0, 1):
        np.testing.assert_allclose(s2sad.grad(relu, wrt=i)(*args), oracle.gradient(relu, args, i),
                                   rtol=1e-6, atol=1e-8)
    s2sad.check_grads(relu, args, wrt=(0, 1), order=2)


def test_a_kept_mask_times_a_number_is_a_float():
    # the seed's -1.0 times the mask stays a product (-mask of booleans is an error or an int)
    g = s2sad.grad(lambda x: -np.minimum(2.0, x))(0.5)
    assert g == -1.0 and isinstance(g, float)
    x = np.array([1.0, 3.0, 2.0])
    g = s2sad.grad(lambda x: -np.sum(np.minimum(2.0, x)) + np.sum(np.maximum(x, 1.5)))(x)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [-1.0, 1.0, 1.0])  # (at 2.0 the constant 2.0 takes it)


def max_over_rows(x):
    return np.sum(np.max(x, axis=1))


def test_a_nan_maximum_gives_its_row_a_nan_adjoint_not_zeros():
    # x == max is false everywhere in a row whose max is NaN: tie_share's count of ties is 0
    # there, and the row's adjoint must stay NaN (g * mask / 0), not the zeros of a spread
    # over an empty mask
    x = np.array([[1.0, np.nan, 2.0], [3.0, 1.0, 3.0], [0.5, 2.0, 1.0]])
    for _ in range(2):  # the generic gradient, then the specialised one
        with np.errstate(all="ignore"):
            g = s2sad.grad(max_over_rows)(x)
        assert np.isnan(g[0]).all()
        np.testing.assert_array_equal(g[1:], [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
