"""examples/attention.py: a conv1d + self-attention model built from helper functions.

The gradient of ``loss`` with respect to its eight parameter arrays is checked
against central finite differences element by element and with
``s2sad.check_grads`` in both modes; each helper (``softmax``, ``layer_norm``,
``conv1d``, ``attention``) is checked on its own too. The module written by
``python -m s2sad grad examples/attention.py:loss ...`` gives the same
derivatives as the API and holds one ``fwd_<helper>``/``bwd_<helper>`` pair per helper
(``vjp_conv1d`` for the helper with a loop). Training for
100 steps lowers the loss at least 20-fold (it falls from 1.43 to 0.0074).
The script itself runs in tests/test_examples.py (``attention`` is in its
TRAINING set: the printed loss must go down every report and end 10 times lower).
"""

import os

import numpy as np
import pytest

import s2sad
import s2sad.cli
import oracle
from tests.programs.examples import ROOT, load_path

PATH = os.path.join(ROOT, "examples", "attention.py")
WRT = ("Wc", "bc", "gain", "bias", "Wq", "Wk", "Wv", "w_out")


attention = load_path(PATH, "s2sad_attention_example")


def arguments(seed=7, width=4):
    rng = np.random.default_rng(seed)
    X, y = attention.data(rng, sequences=3, steps=6)
    params = attention.initial_parameters(rng, width=width)
    params[1:4] = [rng.standard_normal(width) * 0.1 for _ in range(3)]  # bc, gain, bias: not 0/1
    return tuple(params) + (X, y)


def assert_gradients(fn, args, positions, gradients, rtol=1e-6):
    assert len(gradients) == len(positions)
    for position, gradient in zip(positions, gradients):
        numeric = oracle.gradient(fn, args, position, h=1e-6)
        assert np.shape(gradient) == np.shape(numeric)
        np.testing.assert_allclose(gradient, numeric, rtol=rtol,
                                   atol=rtol * max(1.0, np.max(np.abs(numeric))))


def test_parameters_are_the_leading_arguments():
    code = attention.loss.__code__
    assert code.co_varnames[:code.co_argcount] == WRT + ("X", "y")
    assert attention.PARAMETERS == WRT


def test_loss_gradient_matches_finite_differences():
    args = arguments()
    gradients = s2sad.grad(attention.loss, wrt=WRT)(*args)
    assert_gradients(attention.loss, args, range(len(WRT)), gradients)


def test_check_grads_both_modes():
    s2sad.check_grads(attention.loss, arguments(), wrt=WRT, modes=("forward", "reverse"))


def test_value_and_grad_returns_the_loss():
    args = arguments()
    value, gradients = s2sad.value_and_grad(attention.loss, wrt=WRT)(*args)
    assert value == pytest.approx(attention.loss(*args), rel=1e-12)
    for g, expected in zip(gradients, s2sad.grad(attention.loss, wrt=WRT)(*args)):
        np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_helpers_match_finite_differences():
    rng = np.random.default_rng(11)
    z = rng.standard_normal((2, 3, 5))
    # defaults passed explicitly: check_grads' forward mode does not fill in omitted defaults
    s2sad.check_grads(attention.softmax, (z, -1))
    s2sad.check_grads(attention.softmax, (z, 1))
    h, gain, bias = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    s2sad.check_grads(attention.layer_norm, (h, gain, bias, 1e-5), wrt=(0, 1, 2))
    x, w = rng.standard_normal((2, 7, 3)), rng.standard_normal((3, 3, 4))
    s2sad.check_grads(attention.conv1d, (x, w), wrt=(0, 1))
    H, Wq, Wk, Wv = rng.standard_normal((2, 5, 4)), *rng.standard_normal((3, 4, 4))
    s2sad.check_grads(attention.attention, (H, Wq, Wk, Wv), wrt=(0, 1, 2, 3))


def test_helpers_compute_what_they_say():
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((2, 7, 3)), rng.standard_normal((3, 3, 4))
    expected = np.stack([sum(x[:, t + k, :] @ w[k] for k in range(3)) for t in range(5)], axis=1)
    np.testing.assert_allclose(attention.conv1d(x, w), expected, rtol=1e-12)
    big = np.array([[1000.0, 1001.0, 999.0]])  # exp would overflow without the max subtracted
    p = attention.softmax(big)
    np.testing.assert_allclose(p, attention.softmax(big - 1000.0), rtol=1e-12)
    assert np.all(np.isfinite(s2sad.vjp(attention.softmax)(big, np.array([[1.0, -1.0, 0.5]]))))
    normed = attention.layer_norm(rng.standard_normal((3, 6)), np.ones(6), np.zeros(6))
    np.testing.assert_allclose(normed.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(normed.var(axis=-1), 1.0, rtol=1e-4)


def test_training_lowers_the_loss_twentyfold():
    losses, _ = attention.train(steps=100, report=50)
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]
    assert losses[2] < losses[0] / 20, losses


def test_cli_module_matches_the_api(tmp_path, monkeypatch, capsys, restore_sys_path):
    monkeypatch.chdir(ROOT)
    argv = ["grad", "examples/attention.py:loss", "--wrt", ",".join(WRT), "-o", str(tmp_path)]
    assert s2sad.cli.main(argv) == 0
    written = tmp_path / "attention_loss_grad.py"
    assert capsys.readouterr().out.strip() == str(written)
    text = written.read_text(encoding="utf-8")
    for helper in ("softmax", "layer_norm", "conv1d", "attention"):
        # conv1d loops over its taps: its tape stays inside one vjp_conv1d
        pair = f"def fwd_{helper}" in text and f"def bwd_{helper}" in text
        assert pair or helper == "conv1d" and "def vjp_conv1d" in text, helper
    assert "import s2sad" not in text  # (tests/test_generated.py compares it with generated/)
    module = load_path(str(written), "s2sad_attention_cli_module")
    args = arguments()
    expected = s2sad.grad(attention.loss, wrt=WRT)(*args)
    value, from_value_and_grad = module.value_and_grad_loss(*args)
    assert value == pytest.approx(attention.loss(*args), rel=1e-12)
    for got in (module.grad_loss(*args), from_value_and_grad,
                tuple(g / 0.5 for g in module.vjp_loss(*args, 0.5))):
        assert len(got) == len(WRT)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)


def test_hessian_vector_products_through_the_helpers():
    # forward over reverse through fwd_/bwd_ pairs and conv1d's vjp (a helper with a loop)
    rng = np.random.default_rng(0)
    X, y = attention.data(rng, sequences=8)
    params = attention.initial_parameters(rng)
    args = tuple(params) + (X, y)
    for k in (0, 4):
        v = rng.standard_normal(np.shape(params[k]))
        hv = s2sad.hvp(attention.loss, wrt=k)(*args, v)
        g = s2sad.grad(attention.loss, wrt=k)
        numeric = oracle.derivative(g, args, k, v, h=1e-5)
        assert np.max(np.abs(hv - numeric)) <= 1e-6 * np.max(np.abs(numeric))
