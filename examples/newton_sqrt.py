"""Newton's method for sqrt(a), differentiated through its ``while`` loop.

    y_0 = (1 + a) / 2,   y_{j+1} = (y_j + a / y_j) / 2   until |y_j^2 - a| <= 1e-12 a

The number of iterations depends on ``a`` (one for a = 1, a dozen for a = 1e6),
so the loop's trip count follows the differentiated input. s2sad
differentiates the path that was executed: the forward sweep records each
iterate on a tape and counts the trips, the backward sweep replays them in
reverse. Each Newton step maps y to (y + a/y)/2, whose derivative with
respect to the previous iterate, (1 - a/y^2)/2, vanishes at the root; so
once the iteration has converged, the derivative of the last iterate with
respect to ``a`` is that of sqrt itself,

    d sqrt(a) / da = 1 / (2 sqrt(a)),

to the accuracy of the stopping test.

The derivative is that of the executed path, start value included: at a = 1
the start value is already the root, the loop runs zero times and the
derivative is that of y_0 alone. Hence y_0 = (1 + a)/2, the first Newton
step from 1, whose derivative 1/2 is right at a = 1; a constant start such
as y_0 = 1 would give the derivative 0 there. ``newton_iterations`` counts
the trips (for the printout only; it is not differentiated).
"""

import numpy as np

import s2sad


def newton_sqrt(a):
    y = 0.5 * (1.0 + a)  # one Newton step from 1
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


def newton_iterations(a):
    y, trips = 0.5 * (1.0 + a), 0
    while abs(y * y - a) > 1e-12 * a:
        y, trips = 0.5 * (y + a / y), trips + 1
    return trips


def exact_derivative(a):
    return 0.5 / np.sqrt(a)


if __name__ == "__main__":
    d_sqrt = s2sad.grad(newton_sqrt)
    print(f"{'a':>10} {'trips':>5} {'newton_sqrt(a)':>18} {'s2sad d/da':>20} "
          f"{'1/(2 sqrt a)':>20} {'rel. error':>10}")
    for a in (0.01, 0.5, 1.0, 2.0, 10.0, 1e3, 1e6):
        derivative = d_sqrt(a)
        exact = exact_derivative(a)
        error = abs(derivative - exact) / exact
        print(f"{a:>10g} {newton_iterations(a):>5} {newton_sqrt(a):>18.12g} {derivative:>20.15g} "
              f"{exact:>20.15g} {error:>10.1e}")
        assert error < 1e-10, (a, derivative, exact)
    print()
    print("The generated backward sweep of the while loop (from s2sad.source):")
    text = s2sad.source(newton_sqrt)
    start = text.index("def grad_newton_sqrt")
    print(text[start:text.index("\n\n\n", start)])
