"""A sigmoid neuron: f = σ(w0 x0 + w1 x1 + w2), σ(z) = 1 / (1 + exp(-z)).

The activation is a helper function in this module, small enough (one return of
4 operations) for s2sad to inline it into the neuron's derivative, whose backward
sweep is the textbook chain through 1/u, 1 + u, exp and negation (a larger helper
would get a ``fwd_sigmoid``/``bwd_sigmoid`` pair instead; see the README).
Collapsed, the sigmoid gate's derivative is σ'(z) = σ(z) (1 - σ(z)), so

    z_bar = σ(z) (1 - σ(z)),   w0_bar = z_bar x0,   x0_bar = z_bar w0,
    w1_bar = z_bar x1,         x1_bar = z_bar w1,   w2_bar = z_bar.

At the lecture's point w = (2, -3, -3), x = (-1, -2): z = 1, f = 0.73 and
the gradient is about (-0.20, 0.39, -0.39, -0.59, 0.20) for (w0, x0, w1, x1, w2).
"""

import numpy as np

import s2sad


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def neuron(w0, x0, w1, x1, w2):
    return sigmoid(w0 * x0 + w1 * x1 + w2)


def exact_gradient(w0, x0, w1, x1, w2):
    s = sigmoid(w0 * x0 + w1 * x1 + w2)
    z_bar = s * (1.0 - s)
    return z_bar * x0, z_bar * w0, z_bar * x1, z_bar * w1, z_bar


if __name__ == "__main__":
    point = dict(w0=2.0, x0=-1.0, w1=-3.0, x1=-2.0, w2=-3.0)
    names = tuple(point)
    gradient = s2sad.grad(neuron, wrt=names)(**point)
    exact = exact_gradient(**point)
    print(f"neuron{tuple(point.values())} = {neuron(**point):.6f}")
    for name, g, e in zip(names, gradient, exact):
        print(f"d/d{name}: s2sad {g:+.6f}   exact {e:+.6f}")
    np.testing.assert_allclose(gradient, exact, rtol=1e-12)
