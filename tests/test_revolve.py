"""Binomial checkpointing (``checkpoint="binomial"`` or ``("binomial", s)``): Revolve's schedule.

The schedule (:mod:`s2sad.revolve`) against the literature: for every T < 90 and s <= 6
its advances are the least any schedule with s snapshots needs (an exhaustive dynamic
program written here, Griewank's recursion) and Revolve's closed form ``numforw`` (Griewank
and Walther, Algorithm 799), it holds at most s snapshots, uses them as a stack, and
reverses every trip once, last first. Then the generated code: the trips it runs forward
are counted (``np.tanh`` calls, one per trip) and must be those optimal numbers plus one
taped run per trip, and its peak memory (tracemalloc) must grow by at most s states over
T = 2 while the plain gradient's grows by T. Gradients equal the unchecked ones
(tests/test_checkpoint.py, for every option), second order works (hvp, jvp of the gradient, grad of a function of the gradient), forward mode
ignores the option, and the CLI takes ``--checkpoint binomial[:S]``.
"""

import functools
import importlib.util
from math import comb
import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad
from measure import peak_bytes
from tests.programs.loops import rnn, two_carried
from s2sad.revolve import Revolve, revolve, revolve_advances, revolve_snaps


@functools.lru_cache(maxsize=None)
def least_advances(steps, snaps):
    """The fewest trips run forward (without taping) to reverse ``steps`` trips holding at most
    ``snaps`` snapshots, the state before trip 0 among them: advance m trips, keep a snapshot,
    reverse the rest with one snapshot fewer, then the first m trips from the first snapshot."""
    if steps <= 1:
        return 0
    if snaps == 0:
        return float("inf")
    return min(m + least_advances(steps - m, snaps - 1) + least_advances(m, snaps)
               for m in range(1, steps))


def replay(steps, snaps):
    """Run Revolve's actions on a model state (the trip index): (advances, peak snapshots)."""
    stack, position, advances, peak, turns = [], 0, 0, 0, []
    for action, start, stop in revolve(steps, snaps):
        if action == "takeshot":
            assert start == stop == position
            stack.append(position)
            peak = max(peak, len(stack))
        elif action in ("restore", "takeback"):  # the snapshot stays, or goes
            position = stack[-1] if action == "restore" else stack.pop()
            assert position == start
        elif action == "advance":
            assert start == position < stop
            advances, position = advances + stop - start, stop
        else:
            assert action == ("firsturn" if not turns else "youturn") and stop == start + 1
            assert start == position
            turns.append(start)
            position = None  # the state is after the trip, unknown to the schedule
    assert stack == [] and turns == list(range(steps - 1, -1, -1))
    return advances, peak


@pytest.mark.parametrize("snaps", range(1, 7))
def test_the_schedule_is_optimal_and_keeps_at_most_s_snapshots(snaps):
    for steps in range(90):
        advances, peak = replay(steps, snaps)
        assert advances == least_advances(steps, snaps) == revolve_advances(steps, snaps), steps
        assert peak <= snaps


def test_revolves_closed_form_on_known_values():
    # Griewank's binomial bound: with s snapshots and r repetitions C(s + r, s) trips can be
    # reversed, advancing r T - C(s + r, s + 1) trips; at T = C(s + r, s) exactly:
    for s, r in [(1, 3), (2, 2), (3, 3), (5, 2), (10, 3)]:
        T = comb(s + r, s)
        assert revolve_advances(T, s) == r * T - comb(s + r, s + 1)
    assert revolve_advances(10, 1) == 45  # one snapshot: T (T - 1) / 2
    assert [revolve_snaps(T) for T in (1, 3, 4, 6, 7, 100_000)] == [1, 1, 2, 2, 3, 446]


def test_the_backward_actions_read_by_index_are_the_ones_iterated():
    actions = Revolve(23, 3)
    listed = list(actions)
    assert len(actions) == len(listed) and listed[0] == ("firsturn", 22, 23)
    assert [actions[k] for k in range(len(actions))] == listed  # in order: walked again
    assert actions[len(listed) - 1] == listed[-1] and actions[3] == listed[3]  # out of order
    with pytest.raises(IndexError):
        Revolve(3, 1)[10]


def inputs(T, width=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((width, width)) / (0.5 * width), rng.standard_normal(width), T


def forward_trips(function, args, monkeypatch):
    """How many trips ``function`` runs forward: its calls of np.tanh (one per trip)."""
    function(*args)  # compiled first: s2sad reads np.tanh when it transforms
    calls = []
    tanh = np.tanh
    with monkeypatch.context() as patch:
        patch.setattr(np, "tanh", lambda x: calls.append(1) or tanh(x))
        function(*args)
    return len(calls)


@pytest.mark.parametrize("snaps", [1, 2, 3, 5])
def test_the_gradient_runs_revolves_least_number_of_trips(snaps, monkeypatch):
    for T in (0, 1, 2, 3, 7, 10, 21, 40):
        args = inputs(T)
        plain = s2sad.grad(rnn, wrt=(0, 1))
        checkpointed = s2sad.grad(rnn, wrt=(0, 1), checkpoint=("binomial", snaps))
        assert forward_trips(plain, args, monkeypatch) == T
        # the advances Revolve proves least, and one taped run of each trip
        assert forward_trips(checkpointed, args, monkeypatch) == least_advances(T, snaps) + T
        for a, b in zip(plain(*args), checkpointed(*args)):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_the_default_runs_each_trip_at_most_three_times(monkeypatch):
    for T in (5, 50, 300):
        trips = forward_trips(s2sad.grad(rnn, checkpoint="binomial"), inputs(T), monkeypatch)
        assert trips == least_advances(T, revolve_snaps(T)) + T <= 3 * T


@pytest.mark.parametrize("snaps", [2, 4, 8])
def test_memory_grows_by_at_most_s_states(snaps):
    def elementwise(w, h0, T):
        h = h0
        for t in range(T):
            h = np.tanh(w * h + 0.1)
        return np.sum(h)

    w, h0 = np.full(20_000, 0.5), np.linspace(-1.0, 1.0, 20_000)
    state = h0.nbytes
    grad = s2sad.grad(elementwise, wrt=(0, 1), checkpoint=("binomial", snaps))
    base = peak_bytes(grad, w, h0, 2)  # one trip recomputed while the adjoints are live
    for T in (20, 300):  # beyond that: the snapshots, whatever T
        assert peak_bytes(grad, w, h0, T) <= base + snaps * state + state / 10
    plain = peak_bytes(s2sad.grad(elementwise, wrt=(0, 1)), w, h0, 300)
    assert plain > base + 250 * state  # the tape: a state per trip


def test_the_generated_code_shows_the_schedule():
    text = s2sad.source(two_carried, wrt=(0, 1), checkpoint=("binomial", 3))
    grad = text[text.index("def grad_two_carried"):text.index("def value_and_grad_two")]
    forward, backward = grad.split("# backward sweep")
    assert "snaps = 3" in forward and "for start, stop in revolve_segments(len(v2), snaps):" \
        in forward and "snapshots.append((c_1, h_1, acc_1))" in forward
    assert "# the last trip, with its tape (Revolve's first turn)" in forward
    assert forward.count("tape.append") == 1  # the last trip only
    for line in ["for action, start, stop in revolve_actions(len(v2), snaps):",
                 "if action == 'advance':", "elif action == 'restore':",
                 "c_1, h_1, acc_1 = snapshots.pop()\n            snapshots.append((c_1, h_1, acc_1))",
                 "elif action == 'takeshot':", "elif action == 'takeback':",
                 "if action == 'youturn':", "# the trip's backward sweep",
                 "for t in reversed(v2[start:stop]):"]:
        assert line in backward, line
    assert "def revolve_actions(steps, snaps):" in text and "class Revolve:" in text
    assert "snaps = revolve_snaps(len(v1))" in s2sad.source(rnn, checkpoint="binomial")


@pytest.mark.parametrize("fn", [rnn, two_carried])
def test_second_order_through_a_binomially_checkpointed_loop(fn):
    args = inputs(10, seed=1)
    v = np.random.default_rng(2).standard_normal(args[0].shape)
    plain = s2sad.hvp(fn)(*args, v)
    np.testing.assert_allclose(s2sad.hvp(fn, checkpoint="binomial")(*args, v), plain, rtol=1e-10)
    grad = s2sad.grad(fn, checkpoint=("binomial", 2))
    np.testing.assert_allclose(s2sad.jvp(grad)(*args, v)[1], plain, rtol=1e-10)
    numeric = oracle.derivative(lambda W, h, T: s2sad.grad(fn)(W, h, T), args, 0, v, h=1e-4,
                                order=4)
    np.testing.assert_allclose(plain, numeric, rtol=1e-6, atol=1e-8)


def squared_gradient(W, h0, T):
    return np.sum(GRAD(W, h0, T) ** 2)


def squared_plain_gradient(W, h0, T):
    return np.sum(PLAIN(W, h0, T) ** 2)


GRAD = s2sad.grad(rnn, checkpoint=("binomial", 2))
PLAIN = s2sad.grad(rnn)


def test_reverse_over_a_binomially_checkpointed_gradient():
    args = inputs(7, seed=3)
    np.testing.assert_allclose(s2sad.grad(squared_gradient)(*args),
                               s2sad.grad(squared_plain_gradient)(*args), rtol=1e-10)


def test_forward_mode_ignores_binomial_checkpointing():
    decorated = s2sad.differentiate(rnn, wrt=(0, 1), mode="forward", checkpoint=("binomial", 2))
    assert decorated.source == s2sad.source(rnn, wrt=(0, 1), mode="forward")
    assert "revolve_" not in decorated.source and "snapshots" not in decorated.source


@pytest.mark.parametrize("how", [("binomial", 0), ("binomial", 2.0), ("binomial",), "binomial:3",
                                 ("sqrt", 2)])
def test_bad_binomial_options_are_usage_errors(how):
    with pytest.raises(s2sad.UsageError, match="unknown checkpoint option.*'binomial'"):
        s2sad.grad(rnn, checkpoint=how)
    with pytest.raises(s2sad.UsageError, match="unknown checkpoint option"):
        s2sad.hvp(rnn, checkpoint=how)


def test_the_cli_writes_a_binomially_checkpointed_module(tmp_path):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_checkpoint.py")
    for option, snaps in [("binomial:3", "snaps = 3"), ("binomial", "revolve_snaps(len(v1))")]:
        done = subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{here}:rnn", "--wrt",
                               "W,h0", "--checkpoint", option, "-o", str(tmp_path / option)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        path = done.stdout.strip()
        assert snaps in open(path).read()
        spec = importlib.util.spec_from_file_location("rnn_binomial", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        args = inputs(13)
        for a, b in zip(module.grad_rnn(*args), s2sad.grad(rnn, wrt=(0, 1))(*args)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    bad = subprocess.run([sys.executable, "-m", "s2sad", "grad", f"{here}:rnn", "--checkpoint",
                          "binomial:0", "-o", str(tmp_path / "bad")], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and "binomial:S" in bad.stderr
    assert not (tmp_path / "bad").exists()
