"""Random programs once refused or failed for a fault of s2sad's, kept as their text (the
generator's vocabulary grows, so a seed does not keep its program):
``tests/test_random_programs.py::test_programs_once_refused_are_differentiated``."""

# 90070: the gradient code's scatter_add(g, np.s_[:, i], v) with i popped beside active
# values, differentiated again (hvp), was refused as "np.s_[...] applied to a differentiated
# value"
ONCE_REFUSED = {
    90070: """\
import numpy as np

class Model:

    def f(self, x, y, z, s, n):
        d = np.max(np.min(y))
        e = np.where(y > -0.57, np.sum(x, axis=-1, keepdims=True), np.abs(d))
        for j in range(2):
            e[:, 1] = np.tanh(np.sum(np.power(x * x + 1.0, 1.5)))
            if -d * np.abs(j) < 0.49 and np.cos(j) + np.cos(s) > -0.16:
                continue
            if j > 0:
                e[j % 3, j * 2 % 4] += j
        if np.mean(np.where(-0.7 < 0.24, np.mean(x, axis=1), np.amax(z, axis=0))) <= -0.27:
            x = -np.where(np.sign(y[-1]) * np.where(d + d > 0.5, np.exp(d), np.min(d)) < 0.27, z, y[1:])
        else:
            for j, r3 in enumerate(z):
                e[[0, 2]] = np.tanh(np.sum(np.atleast_2d(e[:, (j + 2) % 4] - j)))
        return np.sum(np.sin(e))
f = Model().f
""",
}
