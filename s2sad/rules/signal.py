"""Rules for ``np.convolve``, ``np.correlate``, ``np.interp``, ``np.gradient`` and
``np.trapezoid``.

A convolution is bilinear: the adjoint of each operand is a 'valid' correlation of
``g``, padded back to the full result's length (:func:`s2sad.support.convolve_pads`),
with the other operand; ``np.correlate(a, v)`` is a convolution with ``v`` reversed.
``np.interp`` is differentiated in ``x``: the slope of the segment ``x`` lies in (the
right one at a knot), 0 outside ``xp``'s range where the value is constant; in ``fp``,
``left`` and ``right``, in which it is linear: each value's weight in the interpolation
(:func:`s2sad.support.interp_bar_fp`); ``xp`` has no rule (an error if differentiated). ``np.gradient`` is linear in ``f``
for one constant spacing; its adjoint transposes each axis' stencil
(:func:`s2sad.support.gradient_bar`). ``np.trapezoid`` is a weighted sum of ``y`` along
``axis``; its sample points ``x`` (or ``dx``) have no rule.
"""

from .core import ZERO, RuleNotApplicable, define

_PADDED = "np.pad(g, convolve_pads(a, v, mode{}))"
define("np.convolve", "a, v, mode='full'", linear="a v", mode=ZERO,
       a=f"np.correlate({_PADDED.format('')}, v, 'valid')",
       v=f"np.correlate({_PADDED.format('')}, a, 'valid')")
define("np.correlate", "a, v, mode='valid'", linear="a v", mode=ZERO,
       a=f"np.convolve({_PADDED.format(', True')}, v, 'valid')",
       v=f"np.flip(np.correlate({_PADDED.format(', True')}, a, 'valid'))")


def _interp(b):
    if not b.is_none("period"):
        raise RuleNotApplicable("np.interp has a derivative rule for period=None only")
    return "{} * interp_slope(x, xp, fp)"


def _interp_fp(b):
    _interp(b)
    ends = "".join(f", {end}={end}" for end in ("left", "right") if not b.is_none(end))
    return f"interp_bar_fp(g, x, xp, fp{ends})"


def _interp_fp_dot(b):  # linear in fp, left and right together: a given end's share is its own
    _interp(b)
    ends = "".join(f", {end}=0.0" for end in ("left", "right") if not b.is_none(end))
    return f"np.interp(x, xp, fp_dot{ends})"


def _interp_end(end, tangent=False):
    """The rule of ``left`` (``right``), the value left of ``xp[0]`` (right of ``xp[-1]``)."""
    outside = "x < xp[0]" if end == "left" else "x > xp[-1]"

    def rule(b):
        _interp(b)
        if tangent:
            return f"np.where({outside}, {end}_dot, 0.0)"
        return f"unbroadcast(np.where({outside}, g, 0.0), {end})"
    return rule


define("np.interp", "x, xp, fp, left=None, right=None, period=None",
       x=lambda b: _interp(b).format("g"), fp=_interp_fp, left=_interp_end("left"),
       right=_interp_end("right"),
       jvp={"x": lambda b: _interp(b).format("x_dot"), "fp": _interp_fp_dot,
            "left": _interp_end("left", True), "right": _interp_end("right", True)})


def _gradient(b):
    spacing = b.const("spacing", 1.0)
    if not isinstance(spacing, (int, float)) or b.const("edge_order") not in (1, 2):
        raise RuleNotApplicable("np.gradient has a derivative rule for one spacing (a number) "
                                "and a constant edge_order only")
    return "gradient_bar(g, f, spacing, axis, edge_order)"


define("np.gradient", "f, spacing=1.0, axis=None, edge_order=1", linear="f", f=_gradient,
       jvp={"f": lambda b: _gradient(b) and "np.gradient(f_dot, spacing, axis=axis, "
                                            "edge_order=edge_order)"})
define("np.trapezoid", "y, x=None, dx=1.0, axis=-1", linear="y",
       y="np.expand_dims(g, axis) * trapezoid_weights(y, x, dx, axis)")
