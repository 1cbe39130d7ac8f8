"""Reverse-mode derivatives of euler (euler_ode.py:28) with respect to k, y0.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def check_scalar(value, name):
    """Raise ValueError unless ``value`` is 0-d: a gradient needs a scalar output."""
    if type(value) is not float and np.ndim(value) != 0:
        raise ValueError(f"{name} must return a scalar, not shape {np.shape(value)}; use vjp_{name}")


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number)."""
    if not isinstance(x, np.ndarray):
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if type(g) is float and type(x) is float:  # the common scalar case, without np.shape
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def grad_euler(k, y0, t_end, n):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    check_scalar(y_1, 'euler')
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = 1.0
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v4_bar = unbroadcast(y_2_bar, v4)
        v3_bar = unbroadcast(v4_bar * h, v3)
        v2_bar = unbroadcast(v3_bar * y_1, v2)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar += -v2_bar
    y_bar = y_1_bar
    # line 30: y = y0
    y0_bar = y_bar
    return k_bar, y0_bar


def value_and_grad_euler(k, y0, t_end, n):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    check_scalar(y_1, 'euler')
    value = y_1
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = 1.0
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v4_bar = unbroadcast(y_2_bar, v4)
        v3_bar = unbroadcast(v4_bar * h, v3)
        v2_bar = unbroadcast(v3_bar * y_1, v2)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar += -v2_bar
    y_bar = y_1_bar
    # line 30: y = y0
    y0_bar = y_bar
    return value, (k_bar, y0_bar)


def vjp_euler(k, y0, t_end, n, out_bar):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = out_bar
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v4_bar = unbroadcast(y_2_bar, v4)
        v3_bar = unbroadcast(v4_bar * h, v3)
        v2_bar = unbroadcast(v3_bar * y_1, v2)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar += -v2_bar
    y_bar = y_1_bar
    # line 30: y = y0
    y0_bar = y_bar
    return k_bar, y0_bar
