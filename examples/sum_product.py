"""f(x, y, z) = (x + y) z: the smallest circuit with two kinds of gate.

    q = x + y,   f = q z

Backwards from f_bar = 1: the multiply gate swaps its inputs
(q_bar = z, z_bar = q) and the add gate copies its adjoint to both inputs
(x_bar = y_bar = q_bar). At the lecture's point x = -2, y = 5, z = -4:
f = -12 and the gradient is (-4, -4, 3).
"""

import numpy as np

import s2sad


def f(x, y, z):
    q = x + y
    return q * z


def exact_gradient(x, y, z):
    return z, z, x + y


if __name__ == "__main__":
    x, y, z = -2.0, 5.0, -4.0
    gradient = s2sad.grad(f, wrt=("x", "y", "z"))(x, y, z)
    print(f"f({x}, {y}, {z}) = {f(x, y, z)}")
    print(f"s2sad: (df/dx, df/dy, df/dz) = {gradient}")
    print(f"exact: (df/dx, df/dy, df/dz) = {exact_gradient(x, y, z)}")
    np.testing.assert_allclose(gradient, exact_gradient(x, y, z), rtol=1e-15)
