"""Values the backward sweep recomputes after a pop instead of storing (issue 10, item 2).

Inside a loop, the forward sweep pushes at the end of each block what the backward
sweep reads, and cheap inactive index arithmetic (``i + 1``, ``k % 3``, comparisons)
is recomputed after the pop instead (:meth:`s2sad.reverse.tape._Tape.fill_pops`).
Recomputation is a dependency closure: a recomputed value is recomputed with every
value of its block it depends on, and only from values available unchanged at that
point of the backward sweep (constants, what the pop restored, the loop's index,
values computed outside every loop, values an enclosing block restored). A loop's
carried value at that point is not what the forward trip saw unless it was popped;
otherwise the value is stored. An ``if`` is replayed on the condition the forward
trip computed, so the backward sweep pops what the forward sweep pushed on the same
path.

Each program is checked against exact derivatives where they are easy to derive,
and against finite differences in both modes, at order 1 and 2.
"""

import re

import numpy as np
import pytest

import s2sad

X3 = np.array([0.5, -0.3, 0.8])


# --- the programs of the issue ------------------------------------------------------------------


def rotated(x):  # the index (i + 1) % 3 is a chain of two recomputed values
    s = 0.0
    for i in range(3):
        s = s + x[(i + 1) % 3] * i
    return s


def halving(x):  # the condition reads the carried s
    s = x
    for i in range(3):
        if s * 2.0 < 1.0:
            s = s * s + 0.5
        else:
            s = s * 0.5
    return s


def alternating(x):  # the branches push different things: the wrong branch breaks the tape
    s = 0.0
    for i in range(6):
        if i % 2 == 0:
            s = s + x * i
        else:
            s = s - np.sin(x) * i
    return s


def alternating_same_pushes(x):  # the branches push alike: the wrong branch gives a wrong value
    s = 0.0
    for i in range(6):
        if i % 2 == 0:
            s = s + np.cos(x) * i
        else:
            s = s - np.sin(x) * i
    return s


def elif_chain(x):  # the elif's test reads the carried s, which nothing else pops
    s = x
    for i in range(4):
        if s > 5.0:
            s = s * 0.5
        elif s > 1.0:
            s = s * 3.0
        else:
            s = s * 2.0
    return s


# --- variants -----------------------------------------------------------------------------------


def elif_chain_nonlinear(x):
    s = x
    for i in range(5):
        if s > 5.0:
            s = np.sin(s) + s
        elif s > 1.0:
            s = s * s
        elif s > 0.5:
            s = np.exp(s)
        else:
            s = s * 2.0 + x
    return s


def elif_on_index(x):
    s = 0.0
    for i in range(7):
        if i % 3 == 0:
            s = s + np.sin(x[i % 3]) * s
        elif i % 3 == 1:
            s = s * x[1]
        else:
            s = s + x[2] * x[0]
    return s


def chain(x):  # user variables: j and k are carried out of the loop, and recomputed
    s = 0.0
    for i in range(5):
        j = i + 1
        k = j % 3
        s = s + x[k] * np.sin(x[j % 2]) * j
    return s


def chain_nested_if(x):
    s = 0.0
    for i in range(6):
        j = i + 1
        k = j % 3
        if k == 0:
            s = s + x[k] * x[1]
        else:
            m = k - 1
            if m == 0:
                s = s * x[m] + np.sin(x[2])
            else:
                s = s - np.cos(x[m]) * s
    return s


def carried_index(x):  # index arithmetic on a carried value
    s = 0.0
    k = 0
    for i in range(7):
        s = s + x[k] * np.cos(s)
        k = (k + 2) % 3
    return s


def carried_index_cond(x):
    s = 0.0
    k = 0
    for i in range(7):
        if k == 1:
            s = s * x[k]
        else:
            s = s + np.sin(x[k])
        k = (k + 2) % 3
    return s


def nested_loops(x):  # the inner loop's index arithmetic reads the outer loop's
    s = 0.0
    for i in range(3):
        a = i + 1
        for j in range(4):
            b = (a + j) % 3
            s = s + x[b] * np.sin(s) * a
    return s


def nested_carried(x):  # the inner loop's index is carried by both loops
    s = 0.5
    k = 0
    for i in range(3):
        t = s
        for j in range(3):
            k = (k + i + j) % 3
            if t * 2.0 < 1.5:
                t = t * x[k] + 0.25
            else:
                t = t * 0.5
        s = s + t * x[(k + 1) % 3]
    return s


def nested_outer_condition(x):  # a condition made by the outer loop, tested by the inner one
    s = x
    for i in range(3):
        c = s > 1.0
        for j in range(3):
            if c:
                s = s * 0.9 + np.sin(s)
            else:
                s = s * 1.7
    return s


def outer_value_in_inner_loop(x):  # c is the outer block's, and nothing pops it
    s = x
    for i in range(3):
        c = s * 2.0
        for j in range(2):
            if c < 3.0:
                s = s * 1.5
            else:
                s = s * 0.5 + 1.0
    return s


def outer_value_in_inner_while(x):
    s = x
    for i in range(3):
        c = s + 1.0
        n = 0
        while n < 2:
            if c > 2.5:
                s = s * 0.5 + 1.0
            else:
                s = s * 1.5
            n = n + 1
    return s


def while_alternating(x):
    s = x
    n = 0
    while s < 10.0:
        if n % 2 == 0:
            s = s * 1.5 + 0.2
        else:
            s = s + np.sin(s)
        n = n + 1
    return s


def while_condition_on_carried(x):
    s = x
    while s < 10.0:
        if s * 2.0 < 5.0:
            s = s * s + 1.0
        else:
            s = s * 1.5
    return s


def while_index(x):
    s = 0.0
    k = 0
    n = 0
    while n < 5:
        s = s + x[k] * np.sin(x[(k + 1) % 3] + s)
        k = (k + 2) % 3
        n = n + 1
    return s


def nested_with_break(x):  # the inner loop is left early: its index is popped, if anything
    s = 0.5
    for i in range(3):
        for j in range(4):
            if s > 3.0 + i:
                break
            k = (i + j) % 3
            s = s + x[k] * np.cos(s) + x[(k + 1) % 3] ** 2
    return s


def while_in_for(x):
    s = 0.5
    for i in range(3):
        j = 0
        while j < i + 2:
            k = (i * 2 + j) % 3
            if k == 2:
                s = s * x[k]
            else:
                s = s + np.sin(x[k] * s)
            j = j + 1
    return s


def with_break(x):
    s = x
    for i in range(8):
        if s > 6.0:
            break
        if s * 2.0 < 3.0:
            s = s * s + 1.0
        else:
            s = s * 1.25 + np.sin(s)
    return s


def with_continue(x):
    s = x
    k = 1
    for i in range(6):
        k = (k * 2) % 5
        if k < 2:
            continue
        if s < 2.0:
            s = s * x + 0.5
        else:
            s = s * 0.8
    return s


PROGRAMS = [
    (rotated, X3), (halving, 0.3), (alternating, 0.7), (alternating_same_pushes, 0.7),
    (elif_chain, 0.7), (elif_chain, 0.3), (elif_chain_nonlinear, 0.3), (elif_on_index, X3),
    (chain, X3), (chain_nested_if, X3), (carried_index, X3), (carried_index_cond, X3),
    (nested_loops, X3), (nested_carried, X3), (nested_outer_condition, 0.8),
    (nested_outer_condition, 1.3), (outer_value_in_inner_loop, 0.8),
    (outer_value_in_inner_while, 0.8), (while_alternating, 0.7), (while_condition_on_carried, 0.7),
    (while_index, X3), (nested_with_break, X3), (while_in_for, X3), (with_break, 0.4), (with_continue, 0.9),
]
IDS = [f"{f.__name__}-{k}" for k, (f, _) in enumerate(PROGRAMS)]


@pytest.mark.parametrize("f, x", PROGRAMS, ids=IDS)
def test_agrees_with_finite_differences_in_both_modes_to_order_two(f, x):
    s2sad.check_grads(f, (x,), modes=("forward", "reverse"), order=2)


@pytest.mark.parametrize("f, x", PROGRAMS, ids=IDS)
def test_reverse_mode_agrees_with_forward_mode(f, x):
    value, grad = s2sad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-14)
    basis = np.eye(np.size(x)) if np.ndim(x) else [1.0]
    dots = [s2sad.jvp(f)(x, e)[1] for e in basis]
    np.testing.assert_allclose(np.ravel(grad), dots, rtol=1e-12, atol=1e-14)


# --- exact values ------------------------------------------------------------------------------


def test_rotated_index():  # s = x[2] + 2 x[0]
    np.testing.assert_array_equal(s2sad.grad(rotated)(X3), [2.0, 0.0, 1.0])
    np.testing.assert_array_equal(s2sad.hessian(rotated)(X3), np.zeros((3, 3)))


def test_halving():
    # 0.3 -> 0.59 (d 0.6) -> 0.295 (d 0.5) -> 0.587025 (d 2 * 0.295)
    assert s2sad.grad(halving)(0.3) == pytest.approx(0.6 * 0.5 * 0.59, rel=1e-13)
    assert s2sad.jvp(halving)(0.3, 1.0)[1] == pytest.approx(0.177, rel=1e-13)


def test_alternating():  # s = 6 x - 9 sin(x)
    x = 0.7
    assert s2sad.grad(alternating)(x) == pytest.approx(6 - 9 * np.cos(x), rel=1e-13)
    assert s2sad.grad(alternating_same_pushes)(x) == pytest.approx(
        -6 * np.sin(x) - 9 * np.cos(x), rel=1e-13)
    assert s2sad.hvp(alternating)(x, 1.0) == pytest.approx(9 * np.sin(x), rel=1e-12)
    assert s2sad.grad(s2sad.grad(alternating))(x) == pytest.approx(9 * np.sin(x), rel=1e-12)


def test_elif_chain():
    # 0.7 -> 1.4 (x2) -> 4.2 (x3) -> 12.6 (x3) -> 6.3 (x0.5); 0.3 -> 0.6 -> 1.2 -> 3.6 -> 10.8
    assert s2sad.grad(elif_chain)(0.7) == 9.0
    assert s2sad.grad(elif_chain)(0.3) == 36.0
    assert s2sad.jvp(elif_chain)(0.7, 1.0) == (pytest.approx(6.3), 9.0)
    assert s2sad.hvp(elif_chain)(0.7, 1.0) == 0.0


def test_value_of_the_outer_block_tested_in_the_inner_loop():
    # 0.8 -> 1.8 (x 1.5 twice) -> 1.9 -> 1.95 -> 1.975 -> 1.9875 (x 0.5 four times)
    for f in (outer_value_in_inner_loop, outer_value_in_inner_while):
        assert s2sad.grad(f)(0.8) == 2.25 * 0.5 ** 4
        assert s2sad.jvp(f)(0.8, 1.0)[1] == 2.25 * 0.5 ** 4


def test_chain_of_user_variables():  # s = sum_i x[(i+1) % 3] sin(x[(i+1) % 2]) (i+1)
    x = X3
    expected = np.zeros(3)
    for i in range(5):
        j = i + 1
        k, m = j % 3, j % 2
        expected[k] += np.sin(x[m]) * j
        expected[m] += x[k] * np.cos(x[m]) * j
    np.testing.assert_allclose(s2sad.grad(chain)(x), expected, rtol=1e-13)


# --- what is recomputed, and what is stored -----------------------------------------------------


def sweeps(f):
    code = s2sad.source(f).split(f"def grad_{f.__name__}")[1].split("def value_and_grad")[0]
    forward, backward = code.split("# backward sweep")
    pushes = [line.strip() for line in forward.splitlines() if "tape.append" in line]
    return pushes, backward


def test_index_arithmetic_of_the_loop_index_is_recomputed_with_its_chain():
    pushes, backward = sweeps(rotated)
    assert pushes == ["tape.append((s_1, v4, v5))"]
    assert "v2 = i + 1\n        v3 = v2 % 3" in backward  # both links, in order
    pushes, backward = sweeps(chain)
    assert not any(re.search(r"\b[jk]\b", p) for p in pushes)
    assert "j = i + 1\n        k = j % 3" in backward


def test_inner_loop_recomputes_from_the_outer_loop_index():
    pushes, backward = sweeps(nested_loops)
    assert not any(re.search(r"\b[ab]\b", p) for p in pushes)
    assert "a = i + 1" in backward and "b = v3 % 3" in backward


def test_condition_on_a_popped_carried_value_is_recomputed_from_it():
    pushes, backward = sweeps(halving)
    assert pushes == ["tape.append(s_1)"]
    assert "s_1 = tape.pop()\n        v2 = s_1 * 2.0\n        v3 = v2 < 1.0" in backward


def test_condition_on_a_carried_value_nothing_pops_is_stored():
    pushes, backward = sweeps(elif_chain)
    assert sorted(pushes) == ["tape.append(v2)", "tape.append(v3)"]  # not s_1, not read
    assert "v3 = tape.pop()" in backward and "v3 = s_1" not in backward


def test_index_carried_by_an_inner_loop_is_stored():
    # k_3 = (k_2 + i + j) % 3 with k_2 carried and not popped: stored
    pushes, _ = sweeps(nested_carried)
    assert any("k_3" in p for p in pushes)
