"""Reverse-mode derivatives of f (sqrt_exp.py:21) with respect to x.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_f(x):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    check_scalar(out, 'f')
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return x_bar


def value_and_grad_f(x):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    check_scalar(out, 'f')
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return out, x_bar


def vjp_f(x, out_bar):
    # forward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v1 = x ** 2
    v2 = np.exp(v1)
    v3 = x ** 2
    v4 = v2 + v3
    out = np.sqrt(v4)
    # backward sweep
    # line 22: return np.sqrt(np.exp(x ** 2) + x ** 2)
    v4_bar = out_bar * 0.5 / out
    x_bar = 2 * x * v4_bar
    x_bar += 2 * x * (v4_bar * v2)
    return x_bar


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
