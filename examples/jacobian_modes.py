"""Forward or reverse: the Jacobian of polar coordinates both ways, and what each costs.

For f: R^n -> R^m, forward mode pushes one input direction u through the
program and gets a column J u; reverse mode pulls one output weighting v
back and gets a row v^T J. Either sweep costs a small multiple of evaluating
f, so the whole Jacobian costs about n sweeps forward (s2sad runs them as
one vector-mode sweep, with every tangent carrying a leading axis of n
directions) and about m sweeps in reverse. Wide input (n >> m, a loss and
its gradient) favours reverse mode; wide output (n << m, a trajectory from
a few parameters) favours forward mode. ``s2sad.jacobian(f, mode="auto")``
picks by comparing n and m.

    python examples/jacobian_modes.py
"""

import time

import numpy as np

import s2sad

N = 2000
T = np.linspace(0.0, 1.0, N)


def polar(p):
    """(r, theta) -> (x, y)."""
    r, theta = p[0], p[1]
    return np.array([r * np.cos(theta), r * np.sin(theta)])


def wide_input(x):
    """R^2000 -> R^3: a few statistics of a long vector."""
    return np.array([np.sum(x ** 2), np.sum(np.sin(x)), np.sum(np.tanh(x) * x)])


def wide_output(p):
    """R^3 -> R^2000: a damped response sampled at 2000 times from three parameters."""
    return np.tanh(p[0] * T + p[1]) * np.exp(-p[2] * T)


def best_time(fn, *args, repeat=5):
    fn(*args)  # compile and warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    r, theta = 2.0, np.pi / 6
    p = np.array([r, theta])
    exact = np.array([[np.cos(theta), -r * np.sin(theta)], [np.sin(theta), r * np.cos(theta)]])
    print("Jacobian of (r, theta) -> (r cos theta, r sin theta) at r = 2, theta = pi/6")
    for mode in ("forward", "reverse"):
        jac = s2sad.jacobian(polar, mode=mode)(p)
        np.testing.assert_allclose(jac, exact, rtol=1e-14)
        print(f"  {mode:<8} {np.array2string(jac, precision=6, prefix=' ' * 11)}")
    print(f"  exact    {np.array2string(exact, precision=6, prefix=' ' * 11)}")
    print()

    rng = np.random.default_rng(0)
    cases = [("wide input", wide_input, rng.standard_normal(N)),
             ("wide output", wide_output, np.array([3.0, -1.0, 2.0]))]
    print(f"{'function':<27}{'n':>6}{'m':>6}{'forward (ms)':>15}{'reverse (ms)':>15}"
          f"{'auto picks':>12}")
    for label, f, x in cases:
        forward, reverse = (s2sad.jacobian(f, mode=m) for m in ("forward", "reverse"))
        np.testing.assert_allclose(forward(x), reverse(x), rtol=1e-10, atol=1e-12)
        n, m = x.size, np.size(f(x))
        t_forward, t_reverse = best_time(forward, x), best_time(reverse, x)
        auto = "forward" if n < m else "reverse"
        print(f"{label + f' R^{n} -> R^{m}':<27}{n:>6}{m:>6}{1e3 * t_forward:>15.2f}"
              f"{1e3 * t_reverse:>15.2f}{auto:>12}")
