"""Loops the checkpointing tests differentiate (tests/test_checkpoint.py), also run on the
strict duck array (tests/test_duck_arrays.py), and the small programs the specialisation
tests share (tests/test_specialise*.py, tests/test_inplace_chains.py)."""

import numpy as np


def rnn(W, h0, T):
    h = h0
    for t in range(T):
        h = np.tanh(W @ h)
    return np.sum(h)


def rnn_dot(W, h, T):
    for t in range(T):
        h = np.tanh(np.dot(W, h))
    return np.sum(h)


def chain(x, s):
    t0 = x - s
    t1 = t0 / s
    t2 = t1 * t1
    t3 = 0.5 * t2
    return np.sum(t3 + np.log(s))


def two_carried(W, h0, T):
    h, c = h0, h0 * 0.5
    acc = 0.0
    for t in range(T):
        c = 0.9 * c + np.sin(W @ h)
        h = np.tanh(c) * (1.0 + 0.1 * t)
        acc = acc + np.sum(h * h)
    return acc + np.sum(c)


def over_rows(W, xs, T):
    h = xs[0] * 0.0
    for x in xs[:T]:
        h = np.tanh(W @ h + x)
    return np.sum(h)


def inputs(fn, T, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((5, 5)) / 2.5
    second = rng.standard_normal((max(T, 1), 5)) if fn is over_rows else rng.standard_normal(5)
    return W, second, T
