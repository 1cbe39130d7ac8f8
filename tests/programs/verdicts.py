"""What the random-program checks judge a derivative by: :class:`Wrong` (a disagreement with
the oracle, by kind), the comparisons that raise it, and the two forms of a program's ``f``
(:class:`Flat` arguments, or :class:`Params`: x and y in one dict). Shared by
:mod:`tests.programs.random_programs` and :mod:`tests.programs.mechanisms`."""

import numpy as np

from tests.programs.generator import DICT_KEYS, INPUTS, WRT, call_args, takes_dict

RTOL = 1e-5
ATOL = 1e-6


class Wrong(Exception):
    """A result disagreed with the oracle: ``kind`` says which check (the message, how)."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def copies(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def dot(a, b):
    return float(sum(np.sum(np.asarray(p) * np.asarray(q)) for p, q in zip(a, b)))


def agree(analytic, estimate, what, value):
    est, spread = estimate
    if not np.isfinite(analytic):
        raise Wrong(f"{what} not finite", f"{what}: s2sad gives {analytic}, finite differences {est:.10g}")
    tol = ATOL * (1 + abs(value)) + RTOL * abs(est) + 10 * spread
    if abs(analytic - est) > tol:
        raise Wrong(what, f"{what}: s2sad gives {analytic:.10g}, finite differences {est:.10g} "
                    f"(difference {abs(analytic - est):.3g}, allowed {tol:.3g})")


def same_value(a, b, what):
    if not (np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-12)):
        raise Wrong(f"{what} differs from f", f"{what} is {a!r}, f gives {b!r}")


def check_shapes(result, what):
    if not isinstance(result, tuple) or len(result) != len(WRT):
        raise Wrong(f"{what} returned the wrong structure", f"{what} returned {type(result).__name__} of length {len(result) if isinstance(result, tuple) else '-'}, "
                    f"expected a tuple of {len(WRT)}")
    for name, r in zip(INPUTS, result):
        if np.shape(r) != INPUTS[name]:
            raise Wrong(f"{what}: a result of the wrong shape", f"{what}: d/d{name} has shape {np.shape(r)}, expected {INPUTS[name]}")


def unchanged(args, original, what):
    for name, a, b in zip(list(INPUTS) + ["n"], args, original):
        if not np.array_equal(a, b):
            raise Wrong(f"{what} modified an argument", f"{what} modified its argument {name}")


class Flat:
    """How the checks call ``f`` and read its derivatives: ``f(x, y, z, s, n)``, derivatives
    with respect to x, y, z, s as a tuple of four (:class:`Params`: through a dict)."""

    wrt = WRT

    def __init__(self, f):
        self.f = self.oracle = f  # oracle: f of the flat arguments, for finite differences

    def pack(self, flat):
        return list(flat)

    def unpack(self, result, what):
        return result


class Params(Flat):
    """``f(params, z, s, n)`` with ``params = {"w": x, "b": y}`` (generator.with_dict_params):
    derivatives with respect to (params, z, s), the first a dict with the same keys, in the
    same order, of arrays shaped like x and y (JAX's convention), read as the flat four."""

    wrt = tuple(range(len(WRT) - len(DICT_KEYS) + 1))

    def __init__(self, f):
        self.f = f
        self.oracle = lambda *flat: f(*call_args(f, flat))

    def pack(self, flat):
        return call_args(self.f, flat)

    def unpack(self, result, what):
        if not isinstance(result, tuple) or len(result) != len(self.wrt) or \
                type(result[0]) is not dict or list(result[0]) != list(DICT_KEYS):
            raise Wrong(f"{what} returned the wrong structure",
                        f"{what} returned {type(result).__name__} "
                        f"{type(result[0]).__name__ if isinstance(result, tuple) else ''}, "
                        f"expected a tuple of a dict with keys {list(DICT_KEYS)} and "
                        f"{len(self.wrt) - 1} more")
        return tuple(result[0].values()) + result[1:]


def form_of(f):
    return Params(f) if takes_dict(f) else Flat(f)
