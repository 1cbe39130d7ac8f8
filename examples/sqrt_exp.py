"""f(x) = sqrt(exp(x²) + x²): the chain rule through a shared subexpression.

x² feeds f twice, once through exp and once directly, so the adjoint of x²
is the sum of two contributions (the rule "a value used by several children
gets the sum of their contributions"):

    u = x²,   w = exp(u) + u,   f = sqrt(w)
    w_bar = 1 / (2 sqrt(w))
    u_bar = w_bar * exp(u) + w_bar
    x_bar = u_bar * 2x        =  x (exp(x²) + 1) / sqrt(exp(x²) + x²)

f works elementwise, so the example differentiates it at one point and, with
s2sad.vjp and a vector of ones, at many points at once.
"""

import numpy as np

import s2sad


def f(x):
    return np.sqrt(np.exp(x ** 2) + x ** 2)


def steps(x):
    """f in the lecture's steps, each intermediate named once: a = x^2 is used twice."""
    a = x ** 2
    b = np.exp(a)
    c = a + b
    return np.sqrt(c)


def exact_derivative(x):
    return x * (np.exp(x ** 2) + 1.0) / np.sqrt(np.exp(x ** 2) + x ** 2)


if __name__ == "__main__":
    x = 0.8
    df = s2sad.grad(f)(x)
    print(f"f({x}) = {f(x):.12f}")
    print(f"s2sad: f'({x}) = {df:.12f}")
    print(f"exact: f'({x}) = {exact_derivative(x):.12f}")
    np.testing.assert_allclose(df, exact_derivative(x), rtol=1e-12)

    xs = np.linspace(-1.5, 1.5, 7)
    dfs = s2sad.vjp(f)(xs, np.ones_like(xs))  # elementwise f: the VJP with ones is f' at each x
    for xi, di in zip(xs, dfs):
        print(f"x = {xi:+.2f}   f'(x) = {di:+.6f}")
    np.testing.assert_allclose(dfs, exact_derivative(xs), rtol=1e-12)
