"""The lecture's running example: f(x, y) = y log x + sqrt(y log x).

Written with one named intermediate, the function is the computational graph

    v1 = log(x)        a = y * v1        v2 = sqrt(a)        f = a + v2

and reverse mode walks it backwards, from f_bar = 1:

    a_bar = 1 + 1 / (2 sqrt(a))      (a reaches f twice: directly and through sqrt)
    y_bar = a_bar * log(x)
    x_bar = a_bar * y / x

This example prints the SSA listing s2sad builds (the graph above), the
gradient it generates, and the hand-derived gradient it must agree with.
`s2sad grad examples/lecture.py:f -o generated` writes the generated module.
"""

import numpy as np

import s2sad


def f(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def exact_gradient(x, y):
    """(df/dx, df/dy), derived by hand."""
    a_bar = 1.0 + 0.5 / np.sqrt(y * np.log(x))
    return a_bar * y / x, a_bar * np.log(x)


if __name__ == "__main__":
    x, y = 2.0, 3.0
    print("SSA form of f:")
    print(s2sad.ssa(f))
    x_bar, y_bar = s2sad.grad(f, wrt=("x", "y"))(x, y)
    exact = exact_gradient(x, y)
    print(f"f({x}, {y}) = {f(x, y):.12f}")
    print(f"s2sad: df/dx = {x_bar:.12f}   df/dy = {y_bar:.12f}")
    print(f"exact: df/dx = {exact[0]:.12f}   df/dy = {exact[1]:.12f}")
    np.testing.assert_allclose([x_bar, y_bar], exact, rtol=1e-12)
