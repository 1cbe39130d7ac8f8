"""Python's builtins of several operands and chained comparisons (s2sad/expand.py,
s2sad/lower/expressions.py), checked against finite differences in both modes and at
order 2, and against Python's own values (ties, short-circuiting)."""

import numpy as np
import pytest

import oracle
import s2sad


def several(x):
    a = np.sum(x)
    b = np.sum(x * x)
    return max(a, np.sin(a), 0.5 * b) + min([np.cos(a), b, 2.0]) + pow(a, 3) + \
        sum([a, np.exp(b), 1.0], 2.0) + sum((a, a * b))


def chained(x, lo):
    a = np.sum(x)
    if -1.0 < a <= 2.0:
        b = a * a
    else:
        b = np.sin(a)
    inside = lo < a < 1.5 < 3.0
    return b + inside * a


def first_maximum(x):
    a, b, c = x[0], x[1], x[2]
    return max(a, b, c) * 1.0 + min(a, b, c) * 2.0


@pytest.mark.parametrize("x", [np.array([0.3, 0.2, -0.1]), np.array([0.9, 1.1, 0.4])])
def test_builtins_of_several_operands(x):
    assert s2sad.grad(several)(x) == pytest.approx(oracle.gradient(several, (x,)), rel=1e-6)
    s2sad.check_grads(several, (x,), order=2)


@pytest.mark.parametrize("x", [np.array([0.3, 0.2]), np.array([2.3, 0.2]), np.array([0.9, 0.7])])
def test_chained_comparisons_take_python_s_branches(x):
    assert s2sad.grad(chained)(x, 0.1) == pytest.approx(oracle.gradient(chained, (x, 0.1)), rel=1e-6)
    assert s2sad.value_and_grad(chained)(x, 0.1)[0] == pytest.approx(chained(x, 0.1))
    s2sad.check_grads(chained, (x, 0.1), order=2)


def test_ties_go_to_the_first_operand_as_in_python():
    x = np.array([0.5, 0.5, 0.5])
    # Python's max/min return their first extreme operand, so all of the slope goes to x[0]
    assert s2sad.grad(first_maximum)(x) == pytest.approx([3.0, 0.0, 0.0])


OWN_MAX = """
import numpy as np


def max(a, b, c):  # the module's own max: called as it is, not folded
    return a * b * c


def sum(values):
    return values[0] - values[1]


def own(x):
    return max(x[0], x[1], 2.0) + sum([x[0], x[1]])
"""


def test_a_module_s_own_max_and_sum_are_called_not_folded(tmp_path, monkeypatch):
    (tmp_path / "own_builtins.py").write_text(OWN_MAX)
    monkeypatch.syspath_prepend(str(tmp_path))
    import own_builtins
    x = np.array([0.3, -0.7])
    assert s2sad.grad(own_builtins.own)(x) == pytest.approx([2 * -0.7 + 1.0, 2 * 0.3 - 1.0])


def key_max(x):
    return max(x[0], x[1], key=abs)


def test_max_with_a_key_is_a_located_error():
    with pytest.raises(s2sad.errors.S2sadError, match=r"test_python_builtins.py:\d+:\d+: abs is a function"):
        s2sad.grad(key_max)(np.array([0.3, -0.7]))


def chained_on_arrays(x):
    return np.sum(np.where(0 < x < 1, x, 0.0))


def test_a_chained_comparison_of_arrays_fails_as_in_numpy():
    x = np.array([0.3, 0.2])
    with pytest.raises(ValueError, match="truth value of an array") as plain:
        chained_on_arrays(x)
    with pytest.raises(ValueError, match="truth value of an array") as derivative:
        s2sad.grad(chained_on_arrays)(x)
    assert type(derivative.value) is type(plain.value)


def sums_of_sequences(x, s):
    t = (x, np.sin(x)) + (x * s,)
    u = [x[0], s]
    return np.sum(sum(t) ** 2) + sum(u, 1.0) * sum((s,))


def test_sum_of_a_tuple_or_list_of_a_known_length():
    """sum(t) of a tuple (list) the function made is the additions Python performs."""
    x = np.array([0.3, -0.2, 0.5])
    for wrt in (0, 1):
        assert s2sad.grad(sums_of_sequences, wrt=wrt)(x, 0.7) == pytest.approx(
            oracle.gradient(sums_of_sequences, (x, 0.7), wrt), rel=1e-6)
    s2sad.check_grads(sums_of_sequences, (x, 0.7), wrt=(0, 1), order=2)


def sum_of_an_array(x, s):
    rows = sum(x * x)  # a 2-d x: its rows added in order, as Python iterates
    return np.sum(sum(rows, s) ** 2) + sum(x[0]) * s


def sum_of_a_list_grown(x):
    t = []
    for k in range(3):
        t.append(x * (k + 1.0))
    return np.sum(sum(t, x) ** 2)


def test_sum_of_an_array_adds_its_rows_as_python_does():
    """Python's sum(a[, start]) of an array is start + a[0] + a[1] + ...: the gradient
    spreads g over the rows, and the value is Python's own sum's, to the last bit."""
    x, s = np.array([[0.3, -0.2, 0.5], [1.1, 0.4, -0.7]]), 0.7
    value, _ = s2sad.value_and_grad(sum_of_an_array)(x, s)
    assert value == sum_of_an_array(x, s)
    for wrt in (0, 1):
        assert s2sad.grad(sum_of_an_array, wrt=wrt)(x, s) == pytest.approx(
            oracle.gradient(sum_of_an_array, (x, s), wrt), rel=1e-6)
    s2sad.check_grads(sum_of_an_array, (x, s), wrt=(0, 1), order=2)
    h = s2sad.hessian(sum_of_an_array)(x, s)  # vector mode: the rows of a batch of tangents
    assert h.reshape(6, 6) == pytest.approx(
        oracle.gradient(lambda y: s2sad.grad(sum_of_an_array)(y, s), (x,), 0).reshape(6, 6),
        rel=1e-5, abs=1e-6)


def test_sum_of_a_list_grown_by_append():
    x = np.array([0.3, -0.2, 0.5])
    assert s2sad.grad(sum_of_a_list_grown)(x) == pytest.approx(
        oracle.gradient(sum_of_a_list_grown, (x,), 0), rel=1e-6)
    s2sad.check_grads(sum_of_a_list_grown, (x,), modes=("forward", "reverse"))
    assert s2sad.hessian(sum_of_a_list_grown)(x) == pytest.approx(
        oracle.gradient(s2sad.grad(sum_of_a_list_grown), (x,), 0), rel=1e-5, abs=1e-6)


def test_sum_of_a_number_fails_as_in_python():
    with pytest.raises(TypeError, match="not iterable"):
        s2sad.grad(lambda a: sum(a * 2.0))(0.5)


def folded_where_no_statement_goes(x):
    p = np.sum(x)
    if np.mean(x) <= 0.03 or p * min(p, p * 2.0, 0.5) > -0.5:  # a later operand of or
        q = max(p, 0.1, p * p) if p > 0 else min([p, -p, 0.2])  # branches of a if c else b
    else:
        q = p
    while pow(q, 2) > 10.0 and max(q, 1.0, 2.0) > 0.0:  # a while condition
        q = q * 0.5
    return q * 2.0


def test_builtins_of_several_operands_fold_where_no_statement_can_go():
    """The fold needs no statement before its own: it is done inside conditions and
    conditional expressions too (they were refused as calls of two-operand rules)."""
    for x in (np.array([0.3, 0.2, 0.1]), np.array([-0.3, -0.2, -0.4])):
        assert s2sad.grad(folded_where_no_statement_goes)(x) == pytest.approx(
            oracle.gradient(folded_where_no_statement_goes, (x,), 0), rel=1e-6)
        s2sad.check_grads(folded_where_no_statement_goes, (x,), order=2)


def extremes_of_a_list(x):
    ys = [x[i] * x[i] for i in range(len(x)) if x[i] > 0.0]  # a length known when it runs
    return sum(ys) + max(ys) * 2.0 + min(ys)


def extremes_of_an_array(x):
    return max(x) * 3.0 + min(np.sin(x))


def test_max_and_min_of_one_iterable():
    # (was "max is missing its argument 'y'"): the first extreme element gets the slope
    x = np.array([0.37, 1.61, 2.23, -0.5])
    assert s2sad.grad(extremes_of_a_list)(x) == pytest.approx([4 * 0.37, 3.22, 6 * 2.23, 0.0])
    assert s2sad.grad(extremes_of_an_array)(x) == pytest.approx(
        oracle.gradient(extremes_of_an_array, (x,), 0), rel=1e-6)
    s2sad.check_grads(extremes_of_an_array, (x,), order=2)
    s2sad.check_grads(extremes_of_a_list, (x,), modes=("forward", "reverse"))
    assert s2sad.hessian(extremes_of_a_list)(x) == pytest.approx(np.diag([4.0, 2.0, 6.0, 0.0]))
    # ties: the first extreme element, as Python's max returns it
    assert s2sad.grad(extremes_of_an_array)(np.array([0.5, 0.5, 0.2])) == pytest.approx(
        [3.0, 0.0, np.cos(0.2)])


def reversed_pairs(x):
    out = 0.0
    for a, b in zip(x, reversed(x)):
        out += a * b
    return out


def reversed_list(x):
    t = [np.sin(v) for v in x]
    return sum(k * v for k, v in enumerate(reversed(t)))


def slice_of_a_list(x):
    t = [np.sin(v) for v in x]
    u = t[::-1]
    return u[0] * 2.0 + u[1] * u[2]


@pytest.mark.parametrize("f", [reversed_pairs, reversed_list, slice_of_a_list])
def test_reversed_and_slices_of_a_list(f):
    # reversed(t) is t[::-1] (was "no derivative rule for reversed()"); the Hessian through a
    # slice of a list was an internal error (unindex of a tuple at a slice)
    x = np.array([0.37, 1.61, 2.23])
    assert s2sad.grad(f)(x) == pytest.approx(oracle.gradient(f, (x,), 0), rel=1e-6)
    s2sad.check_grads(f, (x,), order=2, modes="forward")
    assert s2sad.hessian(f)(x) == pytest.approx(
        oracle.gradient(s2sad.grad(f), (x,), 0), rel=1e-5, abs=1e-7)
