"""Reverse-mode derivatives of newton_sqrt (newton_sqrt.py:31) with respect to a.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_newton_sqrt(a):
    tape = []
    # forward sweep
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    v1 = 1.0 + a
    y = 0.5 * v1
    # line 33: while abs(y * y - a) > 1e-12 * a:
    y_1 = y
    trips = 0
    # line 33: while abs(y * y - a) > 1e-12 * a:
    v2 = y_1 * y_1
    v3 = v2 - a
    v4 = abs(v3)
    v5 = 1e-12 * a
    v6 = v4 > v5
    while v6:
        trips += 1
        # line 34: y = 0.5 * (y + a / y)
        v7 = a / y_1
        v8 = y_1 + v7
        y_2 = 0.5 * v8
        tape.append((y_1, v7))
        y_1 = y_2
        v2 = y_1 * y_1
        v3 = v2 - a
        v4 = abs(v3)
        v5 = 1e-12 * a
        v6 = v4 > v5
    check_scalar(y_1, 'newton_sqrt')
    # backward sweep
    # line 33: while abs(y * y - a) > 1e-12 * a:
    a_bar = zeros_bar(a)
    y_1_bar = 1.0
    for _ in range(trips):
        y_1, v7 = tape.pop()
        y_2_bar = y_1_bar
        # line 34: y = 0.5 * (y + a / y)
        v8_bar = y_2_bar * 0.5
        a_bar += v8_bar / y_1
        y_1_bar = v8_bar - v8_bar * v7 / y_1
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    a_bar += y_1_bar * 0.5
    return a_bar


def value_and_grad_newton_sqrt(a):
    tape = []
    # forward sweep
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    v1 = 1.0 + a
    y = 0.5 * v1
    # line 33: while abs(y * y - a) > 1e-12 * a:
    y_1 = y
    trips = 0
    # line 33: while abs(y * y - a) > 1e-12 * a:
    v2 = y_1 * y_1
    v3 = v2 - a
    v4 = abs(v3)
    v5 = 1e-12 * a
    v6 = v4 > v5
    while v6:
        trips += 1
        # line 34: y = 0.5 * (y + a / y)
        v7 = a / y_1
        v8 = y_1 + v7
        y_2 = 0.5 * v8
        tape.append((y_1, v7))
        y_1 = y_2
        v2 = y_1 * y_1
        v3 = v2 - a
        v4 = abs(v3)
        v5 = 1e-12 * a
        v6 = v4 > v5
    check_scalar(y_1, 'newton_sqrt')
    value = y_1
    # backward sweep
    # line 33: while abs(y * y - a) > 1e-12 * a:
    a_bar = zeros_bar(a)
    y_1_bar = 1.0
    for _ in range(trips):
        y_1, v7 = tape.pop()
        y_2_bar = y_1_bar
        # line 34: y = 0.5 * (y + a / y)
        v8_bar = y_2_bar * 0.5
        a_bar += v8_bar / y_1
        y_1_bar = v8_bar - v8_bar * v7 / y_1
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    a_bar += y_1_bar * 0.5
    return value, a_bar


def vjp_newton_sqrt(a, out_bar):
    tape = []
    # forward sweep
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    v1 = 1.0 + a
    y = 0.5 * v1
    # line 33: while abs(y * y - a) > 1e-12 * a:
    y_1 = y
    trips = 0
    # line 33: while abs(y * y - a) > 1e-12 * a:
    v2 = y_1 * y_1
    v3 = v2 - a
    v4 = abs(v3)
    v5 = 1e-12 * a
    v6 = v4 > v5
    while v6:
        trips += 1
        # line 34: y = 0.5 * (y + a / y)
        v7 = a / y_1
        v8 = y_1 + v7
        y_2 = 0.5 * v8
        tape.append((y_1, v7))
        y_1 = y_2
        v2 = y_1 * y_1
        v3 = v2 - a
        v4 = abs(v3)
        v5 = 1e-12 * a
        v6 = v4 > v5
    # backward sweep
    # line 33: while abs(y * y - a) > 1e-12 * a:
    a_bar = zeros_bar(a)
    y_1_bar = out_bar
    for _ in range(trips):
        y_1, v7 = tape.pop()
        y_2_bar = y_1_bar
        # line 34: y = 0.5 * (y + a / y)
        v8_bar = y_2_bar * 0.5
        a_bar += v8_bar / y_1
        y_1_bar = v8_bar - v8_bar * v7 / y_1
    # line 32: y = 0.5 * (1.0 + a)  # one Newton step from 1
    a_bar += y_1_bar * 0.5
    return a_bar


# --- run-time helpers the functions above call (NumPy only) ---

class CheckFailed(ValueError):
    """A run-time check of generated code failed: the arguments are outside what the derivative
    was made for (a non-scalar output for a gradient, a wide matrix for qr's rule)."""

    arguments_at_fault = True  # the arguments are outside the rule; the code is not at fault


class NotScalar(CheckFailed):
    """The function a gradient is made for returned an array, not a scalar: ``name`` is the
    function's, ``shape`` the array's."""

    def __init__(self, name, shape):
        super().__init__(f"{name} must return a scalar, not shape {shape}; use vjp_{name}")
        self.name = name
        self.shape = shape


def check_scalar(value, name):
    """Raise NotScalar (a CheckFailed, a ValueError) unless ``value`` is 0-d: a gradient needs
    a scalar."""
    # numbers first (np.float64 is a float): np.ndim costs more than the whole of a scalar f
    if isinstance(value, (float, int, np.generic)):
        return
    if (value.ndim if type(value) is np.ndarray else np.ndim(value)) != 0:
        raise NotScalar(name, np.shape(value))


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number,
    one zero adjoint per element for a tuple)."""
    if isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, (tuple, list)):
        return tuple_bar(zeros_bar(e) for e in x)
    if type(x) is np.ndarray and x.dtype == np.float64:
        return np.zeros(x.shape)  # what zeros_like gives here, without its Python-level cost
    if isinstance(x, np.generic):
        return 0.0
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))  # any array type


class tuple_bar(list):
    """The adjoint of a tuple: one adjoint per element, added element by element (a plain
    tuple or list would concatenate), and updated in place by ``x_bar[k] += g``."""

    def __add__(self, other):
        if not isinstance(other, (tuple, list)):  # a zero
            return self
        return tuple_bar(a + b for a, b in zip(self, other))

    __radd__ = __add__
