"""Comprehensions, ``sum`` of a generator and ``assert`` (s2sad/expand.py).

Each program is checked with ``check_grads`` in both modes (at order 2 where no
list is built: second order through a list read as a whole is a located refusal of
the lowering, checked below), and its gradient against ``oracle.gradient``;
refusals are checked by type, message and location.
"""

import re

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import UnsupportedSyntaxError


def squares_by_index(x):
    return np.sum(np.array([x[i] * x[i] * i for i in range(3)]))


def sum_of_generator(x):
    return sum(np.sin(x[i]) ** 2 for i in range(3))


def sum_with_start(x):
    return sum([x[i] * x[0] for i in range(1, 3)], 2.0 * x[2])


def rows_of_a_matrix(X):
    return np.sum(np.stack([r * np.tanh(r) for r in X]) ** 2)


def filtered(x):
    return np.sum(np.array([x[i] ** 3 for i in range(3) if i != 1]))


def two_clauses(x):
    return sum(x[i] * x[j] for i in range(3) for j in range(i, 3))


def nested(x):
    table = np.array([[x[i] * x[j] for j in range(3)] for i in range(3)])
    return np.sum(np.sin(table))


def shadowing(x):
    i = 2
    ys = [x[i] * x[0] for i in range(3)]
    return np.sum(np.stack(ys)) * x[i]  # x[2]: the comprehension's i is its own


def over_a_list(x):
    ws = [x, 2.0 * x, np.exp(x)]
    return np.sum(np.stack([w * w for w in ws]))


def with_enumerate(X, w):
    return np.sum(np.stack([r * w[i] for i, r in enumerate(X)]) ** 2)


def tuple_of_generator(x):
    a, b = tuple(x[i] ** 2 for i in range(2))
    return a * b + x[2]


def in_a_loop(x):
    s = 0.0
    for k in range(2):
        s = s + sum(x[i] * k for i in range(3)) * s + x[k]
    return s


def in_a_helper(x):
    def energy(v):
        return sum(v[i] ** 2 for i in range(3))
    return energy(x) * energy(2.0 * x)


def generator_in_a_loop(x):
    for i in range(2):
        x = x + sum(x * j for j in range(3))
    return x


def growing_lists_in_a_loop(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum([x * j for j in range(i)])
    return s


def stacked_again(x):
    ys = [x[i] * 2.0 for i in range(3)]
    ys = np.stack(ys)  # the name bound again, to an array
    return np.sum(ys ** 2)


def read_by_index(x):
    ys = [x[i] * 2.0 for i in range(3)]
    return ys[0] * ys[2] + len(ys)


def grown_after(x):
    ys = [x[i] * 2.0 for i in range(2)]
    ys.append(x[2])
    return np.sum(np.stack(ys) ** 2)


def checked(x):
    assert x.ndim == 1, "x must be a vector"
    assert np.all(np.isfinite(x))
    return np.sum(x * np.cos(x))


def unpacked(x):
    a, b, c = [x[i] ** 2 for i in range(3)]
    (d, e) = list(np.sin(v) for v in (a, b))
    return a * b + c * d * e


PROGRAMS = [
    (squares_by_index, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (sum_of_generator, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (sum_with_start, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (rows_of_a_matrix, (np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]]),), 0, 1),
    (filtered, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (two_clauses, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (nested, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (shadowing, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (over_a_list, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (with_enumerate, (np.array([[0.3, -0.7], [1.1, 0.5]]), np.array([0.2, -1.3])), (0, 1), 1),
    (tuple_of_generator, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (in_a_loop, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (in_a_helper, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (generator_in_a_loop, (0.7,), 0, 2),
    (growing_lists_in_a_loop, (0.7,), 0, 1),
    (stacked_again, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (read_by_index, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (grown_after, (np.array([0.3, -0.7, 1.1]),), 0, 1),
    (checked, (np.array([0.3, -0.7, 1.1]),), 0, 2),
    (unpacked, (np.array([0.3, -0.7, 1.1]),), 0, 1),
]


@pytest.mark.parametrize("f, args, wrt, order", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_derivatives_match_finite_differences(f, args, wrt, order):
    s2sad.check_grads(f, args, wrt=wrt, modes=("forward", "reverse"), order=order)
    value, gradient = s2sad.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args))
    expected = [oracle.gradient(f, args, k) for k in (wrt if isinstance(wrt, tuple) else (wrt,))]
    got = gradient if isinstance(wrt, tuple) else (gradient,)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-8)


def test_comprehension_reads_like_the_loop_it_is():
    source = s2sad.source(squares_by_index)
    assert "items = []" in source and "for i in v1:" in source and "items.append(" in source
    grad_function = s2sad.source(sum_of_generator).split("def value_and_grad")[0]
    assert "total = 0" in grad_function and "items" not in grad_function  # sum(...): no list


def test_second_order_through_a_built_list():
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 0.5, -2.0])
    expected = oracle.derivative(s2sad.grad(squares_by_index), (x,), 0, v, h=1e-5)
    np.testing.assert_allclose(s2sad.hvp(squares_by_index)(x, v), expected, rtol=1e-5,
                               atol=1e-7)
    s2sad.check_grads(squares_by_index, (x,), order=2, modes=("reverse",))  # reverse twice


def test_a_failing_assert_fails_in_the_derivative_too():
    with pytest.raises(AssertionError, match="x must be a vector"):
        s2sad.grad(checked)(np.ones((2, 2)))
    with pytest.raises(AssertionError, match="x must be a vector"):
        s2sad.jvp(checked)(np.ones((2, 2)), np.ones((2, 2)))


def generator_to_np_array(x):
    return np.sum(np.array(x[i] for i in range(3)))


def comprehension_in_a_branch(x):
    return np.sum(x) if x[0] > 0 else sum(x[i] for i in range(3))


def comprehension_in_a_while(x):
    s = x[0]
    while s < sum(x[i] ** 2 for i in range(3)):
        s = s * 2.0
    return s


@pytest.mark.parametrize("f, message, line", [
    (generator_to_np_array, "as the argument of sum(), list() or tuple() only", "np.array(x[i]"),
    (comprehension_in_a_branch, "cannot be inside a branch of `a if c else b`", "if x[0] > 0"),
    (comprehension_in_a_while, "cannot be inside a while condition", "while s <"),
])
def test_refusals_are_located(f, message, line):
    with pytest.raises(UnsupportedSyntaxError, match=re.escape(message)) as info:
        s2sad.grad(f)(np.array([0.3, -0.7, 1.1]))
    loc = info.value.loc
    assert loc is not None and loc.filename.endswith("test_expand.py")
    with open(__file__) as source:
        assert line in source.read().splitlines()[loc.line - 1]
