"""``np.r_[...]`` and ``np.c_[...]`` lowered to the joins they are (s2sad/lower/expressions.py):
``np.r_[a, 0:3, b]`` is ``np.concatenate`` of ``np.atleast_1d`` pieces and ``np.arange``
(``np.linspace`` for a complex step), ``np.c_[a, b]`` joins the pieces, each of fewer than two
axes made a column, on the last axis. Values equal NumPy's own ``np.r_``/``np.c_`` (the
function runs them); derivatives are checked against finite differences (tests/oracle.py), in
both modes and at order 2 (s2sad.check_grads). String directives stay located errors."""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad import UnsupportedSyntaxError

RNG = np.random.default_rng(5)
X, Y = RNG.normal(size=3), RNG.normal(size=3)
A = RNG.normal(size=(3, 2))
B = RNG.normal(size=(2, 3, 2))


def r_pieces(x, y):  # arrays, an expression, a slice, an element, a number
    return np.sum(np.sin(np.r_[x, 2.0 * y, 0:3, x[1], 1.5]) ** 2)


def r_scalar_argument(x, c):  # a number argument among the pieces
    return np.sum(np.r_[c, x * c, 0:4:2] ** 3)


def r_linspace(x, y):  # a complex step: np.linspace(0, 1, 3)
    return np.sum(np.r_[0:1:3j, x] * np.r_[y, 1.0, 2.0, 3.0])


def r_matrices(a, x):  # 2-d pieces join on the first axis
    return np.sum(np.tanh(np.r_[a, a * x[0]]) ** 2)


def c_vectors(x, y):  # 1-d pieces become columns: (3, 2)
    return np.sum((np.c_[x, np.cos(y)] @ np.array([1.0, -2.0])) ** 2)


def c_matrix_and_vector(a, x):  # a (3, 2) matrix and a column: (3, 3)
    return np.sum(np.c_[a, x, 0:3] ** 3)


def c_three_axes(b, y):  # 3-d pieces join on the last axis, as np.c_ does
    return np.sum(np.sin(np.c_[b, b * y[0]]))


CASES = [(r_pieces, (X, Y)), (r_scalar_argument, (X, 0.7)), (r_linspace, (X, Y)),
         (r_matrices, (A, X)), (c_vectors, (X, Y)), (c_matrix_and_vector, (A, X)),
         (c_three_axes, (B, Y))]
IDS = [f.__name__ for f, _ in CASES]


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_values_and_gradients_against_finite_differences(f, args):
    value, grads = s2sad.value_and_grad(f, wrt=(0, 1))(*args)
    assert value == f(*args)  # NumPy's own np.r_ / np.c_ computed the same thing
    for k in (0, 1):
        np.testing.assert_allclose(grads[k], oracle.gradient(f, args, k), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_both_modes_and_second_order(f, args):
    for wrt in (0, 1, (0, 1)):
        s2sad.check_grads(f, args, wrt=wrt, modes=("forward", "reverse"), order=2)


def test_the_ssa_form_is_the_join():
    text = s2sad.ssa(r_pieces)
    for piece in ("np.atleast_1d(x)", "np.arange(0, 3, 1)", "np.concatenate(", "axis=0"):
        assert piece in text
    text = s2sad.ssa(c_vectors)
    assert "np.column_stack(" in text and "axis=-1" in text


def r_directive(x):
    return np.sum(np.r_['0,2', x, x])


def c_directive(x):
    return np.sum(np.c_['r', x, x])


def r_open_slice(x):
    return np.sum(np.r_[x, 2:])


@pytest.mark.parametrize("f, text", [
    (r_directive, r"lowers np.r_\[a, b, \.\.\.\] of arrays, numbers and slices, not its "
                  r"string directive '0,2'"),
    (c_directive, r"np.c_\[a, b, \.\.\.\] .* not its string directive 'r'"),
    (r_open_slice, r"a slice inside np.r_ or np.c_ needs its end")])
@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.jvp])
def test_what_is_not_lowered_is_a_located_error(f, text, transform):
    with pytest.raises(UnsupportedSyntaxError, match=text) as info:
        transform(f)(*((X, X) if transform is s2sad.jvp else (X,)))
    assert info.value.loc.line == f.__code__.co_firstlineno + 1
    loc = info.value.loc
    assert loc.filename.endswith("test_concatenators.py")
    assert loc.col > loc.text.index("[")  # the piece at fault, inside the brackets
