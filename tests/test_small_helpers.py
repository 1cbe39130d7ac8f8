"""Small helpers are inlined at their calls; the others keep their fwd_/bwd_ pair
(s2sad/inline/small.py, README "Generated code for a helper call and a write").

Each function's gradient is checked against finite differences, and at order 2."""

import numpy as np
import pytest

import oracle
import s2sad

SCALE = 2.0


def sigmoid(z):
    """A docstring does not count."""
    return 1.0 / (1.0 + np.exp(-z))


def nine_operations(z):
    return np.sin(z) * np.cos(z) + np.exp(-z) * z - z * z / 3.0


def calls_sigmoid(z):
    return sigmoid(z) * z


def scaled(z):
    return z * SCALE


def with_default(z, k=2.0):
    return z * k


def two_statements(z):
    e = np.exp(z)
    return e * z


def calls_a_helper(z):
    return sigmoid(z) + 1.0


def uses_all(x):
    a = sigmoid(x) * nine_operations(x)
    b = calls_sigmoid(x) + scaled(x) + with_default(x)
    return np.sum(a + b + two_statements(x) + calls_a_helper(x))


def shadows(x):
    SCALE = 3.0
    return np.sum(scaled(x) * SCALE)


def test_small_helpers_are_inlined_and_the_others_keep_their_pair():
    text = s2sad.source(uses_all).split("# --- run-time helpers")[0]
    for small, line in (("sigmoid", ": return 1.0 / (1.0 + np.exp(-z))\n"),
                        ("scaled", ": return z * SCALE\n")):  # its line, commented
        assert f"def fwd_{small}(" not in text and line in text, small
    for kept in ("nine_operations", "two_statements", "with_default", "calls_a_helper",
                 "calls_sigmoid"):
        assert f"def fwd_{kept}" in text, kept  # too big, defaults, or calls a helper


def test_a_helper_reading_a_name_the_caller_binds_keeps_its_pair():
    assert "def fwd_scaled(" in s2sad.source(shadows)


@pytest.mark.parametrize("f", [uses_all, shadows])
def test_gradients_through_inlined_and_paired_helpers(f):
    x = np.array([0.3, -0.8, 1.2])
    np.testing.assert_allclose(s2sad.grad(f)(x), oracle.gradient(f, (x,)), rtol=1e-6)
    s2sad.check_grads(f, (x,), order=2)
