"""Loop checkpointing (``checkpoint="sqrt"``, N snapshots or binomial): the same derivatives,
less memory. (Revolve's schedule itself, its counts and memory: tests/test_revolve.py.)

Each loop function below is differentiated with and without checkpointing, for trip
counts around the segment boundaries (0, 1, a perfect square, one more, a prime): the
gradients must equal the unchecked ones and central finite differences. Second order:
``s2sad.hvp(f, checkpoint=...)`` and ``jvp`` of a checkpointed gradient against the plain
hvp and finite differences of the gradient. Forward mode ignores the option. The peak
memory of a checkpointed gradient (tracemalloc) is a fraction of the unchecked one's for
a long loop. A loop that writes into an array or grows a list made before it has them
copied by each snapshot and copied back in place by a restore; a write checkpointing
cannot undo is refused at the write, and bad options are usage errors. The CLI writes a checkpointed module. Random
programs (:mod:`tests.programs.generator`) checkpointed: ``grad`` and ``hvp`` against finite
differences (``python -m tests.programs.random_programs --checkpoint sqrt`` runs more).
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad
from tests.programs.generator import generate
from measure import peak_bytes
from tests.programs.loops import inputs, over_rows, rnn, two_carried
from tests.programs.random_programs import check

HOW = ["sqrt", 1, 3, 1000, ("binomial", 1), ("binomial", 3), "binomial"]
TRIPS = [0, 1, 9, 10, 13]


def step(W, h):
    return np.tanh(W @ h)


def with_helper_and_branch(W, h0, T):
    h = h0
    for t in range(T):
        if t % 3 == 0:
            h = step(W, h) * 0.5
        else:
            h = h + 0.1 * np.cos(W.T @ h)
        for k in range(2):  # a nested loop
            h = h * 0.9 + 0.01 * k
    return np.sum(h ** 2)


def writes_in_place(W, h0, T):
    y = h0 * 1.0
    for t in range(T):
        y[0] = np.sum(W @ y)
    return np.sum(y)


def writes_rows_and_a_list(W, h0, T):
    """An array written row by row and in a branch, and a list of states the loop grows
    (both made before the loop): snapshots copy them, restores copy them back."""
    ys = np.zeros((max(T, 1), 5))
    states = []
    h = h0
    for t in range(T):
        h = np.tanh(W @ h)
        ys[t] = h * h
        if t % 2:
            ys[t, 0] += np.sum(ys[t - 1])
        states.append(h)
    kept = np.sum(np.stack(states) ** 2) if T else 0.0
    return np.sum(ys * np.arange(5.0)) + kept + np.sum(h)


def states_in_rows(W, h0, T):
    """The RNN whose states are rows of one array: a product with a row of the array the
    loop writes into (the deferral must not hold it past the backward sweep's restores)."""
    ys = np.zeros((T + 1, 5))
    ys[0] = h0
    for t in range(T):
        ys[t + 1] = np.tanh(W @ ys[t])
    return np.sum(ys ** 2)


def writes_then_rebinds(W, h0, T):
    y = h0 * 1.0
    for t in range(T):
        y[0] = np.sum(W @ h0) * t
        y = y * 0.5
    return np.sum(y)


LOOPS = [rnn, two_carried, with_helper_and_branch, over_rows, writes_in_place,
         writes_rows_and_a_list, states_in_rows]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("T", TRIPS)
@pytest.mark.parametrize("fn", LOOPS)
def test_checkpointed_gradients_equal_the_plain_ones_and_finite_differences(fn, T, how):
    args = inputs(fn, T)
    plain = s2sad.grad(fn, wrt=(0, 1))(*args)
    value, checkpointed = s2sad.value_and_grad(fn, wrt=(0, 1), checkpoint=how)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    for a, b, i in zip(plain, checkpointed, (0, 1)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, oracle.gradient(fn, args, i), rtol=1e-6, atol=1e-8)
    vjp = s2sad.vjp(fn, wrt=(0, 1), checkpoint=how)(*args, 2.0)
    for a, b in zip(plain, vjp):
        np.testing.assert_allclose(b, 2.0 * a, rtol=1e-12, atol=1e-14)
    decorated = s2sad.differentiate(fn, wrt=(0, 1), checkpoint=how)
    for a, b in zip(plain, decorated.grad(*args)):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_the_generated_code_shows_snapshots_a_recompute_and_the_segments_sweep():
    text = s2sad.source(rnn, wrt=(0, 1), checkpoint="sqrt")
    grad = text[text.index("def grad_rnn"):text.index("def value_and_grad_rnn")]
    assert "segment = max(1, int(len(v1) ** 0.5))" in grad
    assert grad.count("snapshots.append(h_1)") == 1 and grad.count("h_1 = snapshots.pop()") == 1
    assert "# recompute the segment's tape from its snapshot" in grad
    forward = grad[:grad.index("# backward sweep")]
    assert "tape.append" not in forward  # the forward sweep stores snapshots only
    assert "-(-len(v1) // 7)" in s2sad.source(rnn, wrt=(0, 1), checkpoint=7)


@pytest.mark.parametrize("fn", [rnn, two_carried, with_helper_and_branch, writes_in_place,
                                writes_rows_and_a_list, states_in_rows])
def test_second_order_through_a_checkpointed_loop(fn):
    args = inputs(fn, 10, seed=1)
    v = np.random.default_rng(2).standard_normal(args[0].shape)
    plain = s2sad.hvp(fn)(*args, v)
    np.testing.assert_allclose(s2sad.hvp(fn, checkpoint="sqrt")(*args, v), plain, rtol=1e-10)
    grad = s2sad.grad(fn, checkpoint=3)
    np.testing.assert_allclose(s2sad.jvp(grad)(*args, v)[1], plain, rtol=1e-10)
    numeric = oracle.derivative(lambda W, h, T: grad(W, h, T), args, 0, v, h=1e-4, order=4)
    np.testing.assert_allclose(plain, numeric, rtol=1e-6, atol=1e-8)


def test_forward_mode_ignores_checkpointing():
    decorated = s2sad.differentiate(rnn, wrt=(0, 1), mode="forward", checkpoint="sqrt")
    assert decorated.source == s2sad.source(rnn, wrt=(0, 1), mode="forward")
    assert "snapshots" not in decorated.source
    args = inputs(rnn, 9)
    dW, dh = np.ones((5, 5)), np.zeros(5)
    assert decorated.jvp(*args, dW, dh)[1] == pytest.approx(
        np.sum(decorated.grad(*args)[0] * dW), rel=1e-10)


def test_a_long_loop_keeps_about_two_sqrt_t_states_instead_of_t():
    W, h0, T = np.eye(64) * 0.5, np.ones(64), 2500
    state = h0.nbytes
    plain = peak_bytes(s2sad.grad(rnn, wrt=(0, 1)), W, h0, T)
    checkpointed = peak_bytes(s2sad.grad(rnn, wrt=(0, 1), checkpoint="sqrt"), W, h0, T)
    assert plain > T * state  # the tape: one state per trip
    assert checkpointed < plain / 3
    # snapshots and one segment's tape, then what does not depend on T: W_bar and the 64
    # deferred outer-product pairs, stacked once (2 x 2 x 64 states), and a few W-sized arrays
    assert checkpointed < 2 * np.sqrt(T) * state + 4 * 64 * state + 4 * W.nbytes


def test_snapshots_copy_what_a_trip_changes_and_restores_copy_back():
    text = s2sad.source(writes_rows_and_a_list, checkpoint="sqrt")
    grad = text[text.index("def grad_writes_rows_and_a_list"):
                text.index("def value_and_grad_writes_rows_and_a_list")]
    assert "snapshots.append((h_1, np.copy(ys_1), tuple(states)))" in grad
    assert "ys_1[...] = ys_1_kept" in grad and "states.clear()" in grad


def test_a_loop_writing_into_an_array_it_rebinds_is_refused_at_the_write():
    args = inputs(writes_then_rebinds, 4)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="cannot checkpoint this loop") as info:
        s2sad.grad(writes_then_rebinds, checkpoint="sqrt")(*args)
    assert info.value.loc.line == writes_then_rebinds.__code__.co_firstlineno + 3
    s2sad.grad(writes_then_rebinds)(*args)  # without checkpointing it differentiates


@pytest.mark.parametrize("how, words", [(("binomial", -1), "'binomial'"), (0, "int >= 1"),
                                        ("half", "unknown checkpoint option")])
def test_bad_checkpoint_options_are_usage_errors(how, words):
    with pytest.raises(s2sad.UsageError, match=words):
        s2sad.grad(rnn, checkpoint=how)
    with pytest.raises(s2sad.UsageError, match=words):
        s2sad.differentiate(rnn, checkpoint=how)


def test_the_cli_writes_a_checkpointed_module(tmp_path):
    here = os.path.abspath(__file__)
    done = subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{here}:rnn", "--wrt", "W,h0",
                           "--checkpoint", "sqrt", "-o", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    assert "snapshots.append" in open(path).read()
    spec = importlib.util.spec_from_file_location("rnn_checkpointed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = inputs(rnn, 13)
    for a, b in zip(module.grad_rnn(*args), s2sad.grad(rnn, wrt=(0, 1))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    bad = subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{here}:rnn", "--checkpoint",
                          "half", "-o", str(tmp_path / "bad")], capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown checkpoint option" in bad.stderr
    assert not (tmp_path / "bad").exists()


def two_loops_over_the_same_rows(W, xs, T):
    h = xs[0] * 0.0
    for x in xs:
        h = np.tanh(W @ h + x)
    g = h
    for x in xs:
        g = np.sin(W.T @ g) * x
    return np.sum(g * h)


@pytest.mark.parametrize("how", ["sqrt", 2, ("binomial", 2)])
def test_two_loops_with_the_same_header_are_each_checkpointed(how):
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((5, 5)) / 2.5, rng.standard_normal((11, 5)), 0)
    text = s2sad.source(two_loops_over_the_same_rows, wrt=(0, 1), checkpoint=how)
    assert "snapshots1.append(g_1)" in text and "snapshots.append(h_1)" in text
    plain = s2sad.grad(two_loops_over_the_same_rows, wrt=(0, 1))(*args)
    checkpointed = s2sad.grad(two_loops_over_the_same_rows, wrt=(0, 1), checkpoint=how)(*args)
    for a, b, i in zip(plain, checkpointed, (0, 1)):
        np.testing.assert_allclose(b, a, rtol=1e-12)
        np.testing.assert_allclose(b, oracle.gradient(two_loops_over_the_same_rows, args, i),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", range(180))
def test_random_programs_checkpointed(seed):
    how = "sqrt" if seed < 100 else 2 if seed < 140 else ("binomial", 2) if seed < 160 else \
        "binomial"
    modes = ("grad", "hvp") if seed % 4 == 0 else ("grad",)
    source = generate(seed)
    result = check(source, seed, modes, checkpoint=how)
    assert result["cls"] in ("ok", "refused", "skipped"), (
        f"program {seed} (python -m tests.programs.random_programs --checkpoint {how} --seeds "
        f"{seed}): {result['cls']} in {result['mode']}: {result['reason']}\n{source}\n"
        f"{result['error']}")
