"""``check_grads``: derivatives checked against central finite differences.

Layer 9, above :mod:`s2sad.api` and :mod:`s2sad.higher`.
"""

import numpy as np

from .api import vjp
from .arguments import (DEFAULT_WRT, bind, bound_parts, call_with, normalize_wrt, parameters,
                        shifted_wrt, split_values)
from .cache import compiled
from .errors import S2sadError, UsageError, api_boundary
from .higher import jvp_call
from .parse import unwrap
from .trees import flatten, unflatten


class GradientCheckError(S2sadError, AssertionError):
    """``check_grads`` found derivatives that disagree with finite differences."""


# JAX's spellings of the modes are accepted too (jax.test_util.check_grads(modes=("fwd", "rev")))
_MODES = {"forward": "forward", "reverse": "reverse", "fwd": "forward", "rev": "reverse"}


@api_boundary
def check_grads(f, args, wrt=DEFAULT_WRT, modes=("forward", "reverse"), order=1, eps=1e-6, rtol=1e-5,
                atol=1e-7, seed=0, kwargs=None):
    """Check derivatives of ``f`` at ``args`` against central finite differences.

    For a random output direction ``v`` and random input directions ``u``,
    the finite difference of ``<v, f(x + t u)>`` at ``t = 0`` must equal
    ``<v, jvp(u)>`` (forward mode) and ``<vjp(v), u>`` (reverse mode). With
    ``order=2`` the same checks are run on ``vjp`` of ``f`` itself, the
    generated code differentiated again (forward over reverse, and reverse
    over reverse), so second derivatives are checked in both modes; ``order=3``
    goes once more. ``modes``: ``"forward"`` and/or ``"reverse"`` (JAX's ``"fwd"`` and
    ``"rev"`` too). ``kwargs``: ``f``'s keyword arguments (the values of keyword-only
    parameters, which ``wrt`` may name too); ``args`` and ``kwargs`` are bound as a call of
    ``f`` binds them. Raises :class:`GradientCheckError` with a report.
    """
    kwargs = dict(kwargs or {})
    parts = bound_parts(f)
    if parts is not None:  # a bound method or a partial: f's function, given what is bound
        f, bound_args, bound_kwargs = parts
        args, kwargs = bound_args + tuple(args), {**bound_kwargs, **kwargs}
        wrt = shifted_wrt(wrt, len(bound_args))
    fn = unwrap(f)  # its derivatives; values always come from f, the object passed
    args = tuple(bind(fn, tuple(args), kwargs))  # every parameter's value, in order, defaults
    # filled in: derivatives take every argument (keyword-only ones as plain ones)
    positions, _ = normalize_wrt(fn, wrt if isinstance(wrt, (tuple, list)) else (wrt,))
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for mode in modes:
        if mode not in _MODES:
            raise UsageError(f"check_grads: unknown mode {mode!r}; use 'forward' and/or 'reverse' "
                             f"(or JAX's 'fwd' and 'rev')")
    modes = tuple(dict.fromkeys(_MODES[mode] for mode in modes))
    if not isinstance(order, int) or order < 1:
        raise UsageError(f"check_grads: order must be a positive int, not {order!r}")
    rng = np.random.default_rng(seed)
    _check_once(f, fn, args, positions, modes, eps, rtol, atol, rng, fn.__name__)
    if order > 1:
        v = _random_like(call_with(f, fn, args), rng)
        for i in positions:  # the derivative code for one parameter, differentiated again
            namespace, generated = compiled(fn, "reverse", (i,), values=args)
            vjp_i = namespace[generated.entry_points["vjp"]]
            check_grads(vjp_i, args + (v,), tuple(positions), modes, order - 1, eps, rtol, atol,
                        seed + 1)


def _random_like(out, rng):
    """A random direction shaped like ``out``: one array per leaf of a container
    (:mod:`s2sad.trees`), in its structure."""
    leaves, tree = flatten(out)
    return unflatten(tree, [rng.standard_normal(np.shape(leaf)) for leaf in leaves])


def _inner(v, out):
    """``<v, out>``, summed over the leaves of a container."""
    return sum(float(np.sum(a * b)) for a, b in zip(flatten(v)[0], flatten(out)[0]))


def _moved(x, t, u):
    """``x + t * u``, leaf by leaf for a container."""
    leaves, tree = flatten(x)
    return unflatten(tree, [np.asarray(a, dtype=float) + t * d
                            for a, d in zip(leaves, flatten(u)[0])])


def _check_once(f, fn, args, positions, modes, eps, rtol, atol, rng, label):
    """Derivatives of ``fn`` (what s2sad transforms for ``f``) against finite differences of
    ``f`` itself: a transform of anything but what ``f`` computes fails."""
    out = call_with(f, fn, args)
    v = _random_like(out, rng)
    us = [_random_like(args[i], rng) for i in positions]

    def along(t):
        moved = list(args)
        for i, u in zip(positions, us):
            moved[i] = _moved(args[i], t, u)
        return _inner(v, call_with(f, fn, moved))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    names = [parameters(fn)[i] for i in positions]
    for mode in modes:
        if mode == "forward":
            _, out_dot = jvp_call(fn, positions, list(args), us)
            analytic, formula = float(_inner(v, out_dot)), "<v, jvp(u)>"
        else:
            positional, keywords = split_values(fn, args)
            bars = vjp(fn, tuple(positions))(*positional, v, **keywords)
            analytic, formula = sum(_inner(b, u) for b, u in zip(bars, us)), "<vjp(v), u>"
        if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
            raise GradientCheckError(
                f"check_grads({label}, wrt={', '.join(names)}): {mode} mode disagrees with "
                f"finite differences: {formula} = {analytic!r} but the central difference "
                f"(eps={eps}) gives {numeric!r} (difference {abs(analytic - numeric):.3g})")
