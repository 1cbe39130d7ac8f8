"""Forward-mode derivative of f (lecture.py:23) with respect to x, y.

jvp_f(x, y, x_dot, y_dot) returns the value of f and its tangent.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def jvp_f(x, y, x_dot, y_dot):
    # line 24: a = y * np.log(x)
    v1 = np.log(x)
    v1_dot = x_dot / x
    a = y * v1
    a_dot = y_dot * v1 + y * v1_dot
    # line 25: return a + np.sqrt(a)
    v2 = np.sqrt(a)
    v2_dot = a_dot * 0.5 / v2
    out = a + v2
    out_dot = a_dot + v2_dot
    return out, out_dot
