"""Forward-mode derivative of polar (jacobian_modes.py:26) with respect to p.

jvp_polar(p, p_dot) returns the value of polar and its tangent.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def jvp_polar(p, p_dot):
    # line 28: r, theta = p[0], p[1]
    v1 = p[0]
    v1_dot = p_dot[0]
    v2 = p[1]
    v2_dot = p_dot[1]
    r = v1
    r_dot = v1_dot
    theta = v2
    theta_dot = v2_dot
    # line 29: return np.array([r * np.cos(theta), r * np.sin(theta)])
    v3 = np.cos(theta)
    v3_dot = -theta_dot * np.sin(theta)
    v4 = r * v3
    v4_dot = r_dot * v3 + r * v3_dot
    v5 = np.sin(theta)
    v5_dot = theta_dot * np.cos(theta)
    v6 = r * v5
    v6_dot = r_dot * v5 + r * v5_dot
    v7 = [v4, v6]
    v7_dot = [v4_dot, v6_dot]
    out = np.array(v7)
    out_dot = np.array(v7_dot)
    return out, out_dot
