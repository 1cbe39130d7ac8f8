"""Explicit Euler integration of dy/dt = -k y, and the sensitivity of its result to k.

With n steps of size h = t_end / n from y(0) = y0, each step is

    y_{j+1} = y_j + h (-k y_j) = (1 - h k) y_j,   so   y_n = y0 (1 - h k)^n.

``euler`` is the loop as one would write it; s2sad differentiates it with
respect to the decay rate k (and the initial value y0). The derivative of
the Euler recursion is known in closed form,

    d y_n / dk  = -t_end y0 (1 - h k)^(n - 1),     d y_n / dy0 = (1 - h k)^n,

and s2sad must match it to rounding error for every n. As n grows, the Euler
solution converges to the exact solution y(t_end) = y0 exp(-k t_end), and so
does its sensitivity, to the exact one

    d y(t_end) / dk = -t_end y0 exp(-k t_end),

with an error of order h (first-order method): the printed error shrinks
about tenfold for each tenfold increase of n.
"""

import numpy as np

import s2sad


def euler(k, y0, t_end, n):
    h = t_end / n
    y = y0
    for step in range(n):
        y = y + h * (-k * y)
    return y


def euler_sensitivity(k, y0, t_end, n):
    """d y_n / dk and d y_n / dy0 of the Euler recursion, in closed form."""
    h = t_end / n
    return -t_end * y0 * (1.0 - h * k) ** (n - 1), (1.0 - h * k) ** n


def exact_sensitivity(k, y0, t_end):
    """d y(t_end) / dk of the exact solution y0 exp(-k t)."""
    return -t_end * y0 * np.exp(-k * t_end)


if __name__ == "__main__":
    k, y0, t_end = 0.8, 2.0, 3.0
    d_euler = s2sad.grad(euler, wrt=("k", "y0"))
    exact = exact_sensitivity(k, y0, t_end)
    print(f"dy/dt = -k y, y(0) = {y0}, k = {k}, t_end = {t_end}: "
          f"exact y(t_end) = {y0 * np.exp(-k * t_end):.10f}, dy(t_end)/dk = {exact:.10f}")
    print(f"{'n':>7} {'y_n':>14} {'s2sad dy_n/dk':>16} {'Euler recursion':>16} "
          f"{'|diff|':>8} {'s2sad dy_n/dy0':>15} {'vs exact ODE':>13}")
    for n in (10, 100, 1000, 10000):
        k_bar, y0_bar = d_euler(k, y0, t_end, n)
        recursion_k, recursion_y0 = euler_sensitivity(k, y0, t_end, n)
        assert abs(k_bar - recursion_k) <= 1e-10 * abs(recursion_k), (n, k_bar, recursion_k)
        assert abs(y0_bar - recursion_y0) <= 1e-10 * abs(recursion_y0), (n, y0_bar, recursion_y0)
        print(f"{n:>7} {euler(k, y0, t_end, n):>14.10f} {k_bar:>16.10f} {recursion_k:>16.10f} "
              f"{abs(k_bar - recursion_k):>8.1e} {y0_bar:>15.10f} {abs(k_bar - exact):>13.2e}")
