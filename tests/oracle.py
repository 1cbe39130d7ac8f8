"""The finite-difference oracle: the one independent check every derivative test compares with.

Central differences need nothing from s2sad, so they cannot share its mistakes.
Everything here is built on one move: ``t -> f(args with args[i] + t * d_i)`` for the
positions ``wrt`` and directions ``d`` (a number argument stays a number, array
arguments are copied, so ``f`` may write into them), differentiated at ``t = 0``:

- :func:`derivative`: the derivative along a direction (JVP), of a scalar, array or
  tuple output, by a second- or fourth-order central difference;
- :func:`gradient`: the whole derivative with respect to one argument, one basis
  direction at a time, shaped ``output shape + argument shape`` (the gradient of a
  scalar function, the Jacobian of an array function; of s2sad's gradient, a Hessian);
- :func:`mixed`: the second derivative ``u . (H v)`` of a scalar function;
- :func:`two_steps`: a difference at steps h and h/2, Richardson-extrapolated, with
  how far apart the two were. ``derivative(..., agree=tol)`` uses it and raises
  :class:`NotSmooth` when they disagree: a kink, jump or branch lies within a step;
- :func:`complex_step_gradient`: for analytic functions, the complex step, exact to
  rounding (no subtraction, so no cancellation).
- :func:`random_directions`: directions to differentiate along.

Imported by the test modules as ``import oracle`` (tests/ is on sys.path under
pytest) and by :mod:`tests.programs` as ``tests.oracle``.
"""

import numpy as np

STENCILS = {  # order: (offsets in steps, weights); derivative = sum(w * f(o h)) / h
    2: ((1, -1), (1 / 2, -1 / 2)),
    4: ((1, -1, 2, -2), (8 / 12, -8 / 12, -1 / 12, 1 / 12)),
}


class NotSmooth(AssertionError):
    """The differences at steps h and h/2 disagree: f is not smooth within a step."""


def positions(wrt, directions):
    """``wrt`` and ``directions`` as equally long tuples (an int wrt takes one direction)."""
    if isinstance(wrt, int):
        return (wrt,), (directions,)
    return tuple(wrt), tuple(directions)


def moved(args, wrt, *steps):
    """``args`` with ``t * d_i`` added to ``args[i]`` for each ``(t, directions)`` in steps."""
    out = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    for t, directions in steps:
        for i, d in zip(*positions(wrt, directions)):
            value = np.asarray(out[i], dtype=float) + t * np.asarray(d, dtype=float)
            out[i] = value if isinstance(args[i], np.ndarray) else float(value)
    return out


def evaluate(f, args):
    """f(*args) as floats: a float, an array, or a tuple of them."""
    value = f(*args)
    if isinstance(value, (tuple, list)):
        return tuple(float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=float) for v in value)
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)


def combine(weights, values):
    """sum(w * v), entry by entry when the values are tuples."""
    if isinstance(values[0], tuple):
        return tuple(combine(weights, [v[k] for v in values]) for k in range(len(values[0])))
    return sum(w * v for w, v in zip(weights, values))


def central(g, h, order=2):
    """g'(0) by a central difference of g at steps h (error ~h**order)."""
    offsets, weights = STENCILS[order]
    return combine([w / h for w in weights], [g(o * h) for o in offsets])


def two_steps(difference, h, order=2):
    """(estimate, spread): ``difference`` (error ~h**order) at h and h/2, extrapolated.

    The spread ``|d(h) - d(h/2)|`` bounds the error left: a larger one than the
    truncation error explains means a kink, a jump or a branch within a step.
    """
    d1, d2 = difference(h), difference(h / 2)
    return (2 ** order * d2 - d1) / (2 ** order - 1), np.abs(d1 - d2)


def derivative(f, args, wrt, directions, h=1e-5, order=2, agree=None):
    """d/dt f(args + t * directions) at t = 0, the directions along the arguments ``wrt``.

    With ``agree`` (a relative tolerance) the difference is taken at h and h/2 too; they
    must agree to ``agree * max(1, |estimate|)`` (else :class:`NotSmooth`), and the
    extrapolated estimate is returned.
    """
    def difference(step):
        return central(lambda t: evaluate(f, moved(args, wrt, (t, directions))), step, order)

    if agree is None:
        return difference(h)
    estimate, spread = two_steps(difference, h, order)
    if np.max(spread) > agree * max(1.0, np.max(np.abs(estimate))):
        raise NotSmooth(f"steps {h:g} and {h / 2:g} disagree by {np.max(spread):.3g}: "
                        f"f is not smooth within a step of the point")
    return estimate


def gradient(f, args, wrt=0, h=1e-5, order=2, relative=False):
    """The derivative of f(*args) with respect to ``args[wrt]``, shaped ``out.shape + arg.shape``.

    One central difference per element of the argument; ``relative`` scales the step of
    each element to ``h * max(1, |x_k|)``. A tuple ``wrt`` gives a tuple.
    """
    if isinstance(wrt, tuple):
        return tuple(gradient(f, args, i, h, order, relative) for i in wrt)
    x = np.asarray(args[wrt], dtype=float)
    columns = []
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = 1.0
        step = h * max(1.0, abs(x[k])) if relative else h
        columns.append(derivative(f, args, wrt, e, step, order))
    if not columns:
        return np.zeros(np.shape(evaluate(f, args)) + x.shape)
    out = np.stack([np.asarray(c) for c in columns], axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def mixed(f, args, wrt, u, v, h=1e-3):
    """u . (H v) for scalar f: the mixed central difference of f(args + a u + b v) at 0."""
    values = [evaluate(f, moved(args, wrt, (a * h, u), (b * h, v)))
              for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    return (values[0] - values[1] - values[2] + values[3]) / (4 * h * h)


def random_directions(args, wrt, seed, batch=()):
    """A standard-normal direction shaped like ``args[i]`` (after ``batch``) for each i in wrt."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(batch + np.shape(args[i])) for i in wrt]


def complex_step_gradient(f, args, wrt=0, h=1e-30):
    """Like :func:`gradient` for a scalar f, by the complex step: ``Im f(x + i h e_k) / h``.

    Exact to rounding for an f made of analytic operations (no cancellation, so h can
    be 1e-30). Every argument is made complex, so an in-place update never mixes
    complex values into a real array.
    """
    if isinstance(wrt, tuple):
        return tuple(complex_step_gradient(f, args, i, h) for i in wrt)
    args = [complex(a) if isinstance(a, float) else np.asarray(a, dtype=complex) for a in args]
    g = np.zeros(np.shape(args[wrt]))
    for k in np.ndindex(g.shape):
        e = np.zeros(g.shape)
        e[k] = 1.0
        moved_args = list(args)
        moved_args[wrt] = args[wrt] + 1j * h * (e if g.ndim else 1.0)
        g[k] = np.imag(f(*moved_args)) / h
    return g


def leaves_of(x):
    """The arrays and numbers in a container (tuples, lists, dicts, nested), in order."""
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in leaves_of(v)]
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in leaves_of(v)]
    return [x]


def rebuilt(x, leaves):
    """``x``'s containers (same types) holding ``leaves`` in order (see :func:`leaves_of`)."""
    items = iter(leaves)

    def build(v):
        if isinstance(v, dict):
            return type(v)((k, build(e)) for k, e in v.items())
        if isinstance(v, (tuple, list)):
            built = [build(e) for e in v]
            return type(v)(*built) if hasattr(v, "_fields") else type(v)(built)
        return next(items)

    return build(x)


def tree_gradient(f, args, wrt=0, **options):
    """:func:`gradient` with respect to a container argument: the same containers, each leaf
    replaced by the derivative with respect to it (JAX's convention)."""
    x = args[wrt]
    leaves = leaves_of(x)

    def of_leaves(*values):
        moved_args = list(args)
        moved_args[wrt] = rebuilt(x, values)
        return f(*moved_args)

    return rebuilt(x, [gradient(of_leaves, leaves, k, **options) for k in range(len(leaves))])
