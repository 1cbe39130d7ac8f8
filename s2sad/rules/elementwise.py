"""Rules for element-wise functions: NumPy ufuncs, ``math`` and builtins.

One line per function, in adjoint notation: the contribution to the operand's
adjoint given ``g``, the adjoint of the result, and ``ans``, the result. That is
``g`` times the slope, so it is written once: the tangent rule is derived from it
(``g`` becomes the operand's tangent ``x_dot``, ``unbroadcast`` is dropped; see
:func:`~s2sad.rules.core.tangent_of_slope`). ``jvp=`` is written only where the
tangent is better spelled otherwise (``np.ldexp(x_dot, y)``).
"""

import math

from .core import ZERO, define, define_operator, nondiff

E = dict(elementwise=True)

# --- NumPy, one argument --------------------------------------------------------
define("np.exp", "x", **E, x="g * ans")
define("np.exp2", "x", **E, x="g * ans * np.log(2.0)")
define("np.log", "x", **E, domain="positive", x="g / x")
define("np.log2", "x", **E, domain="positive", x="g / (x * np.log(2.0))")
define("np.log10", "x", **E, domain="positive", x="g / (x * np.log(10.0))")
define("np.log1p", "x", **E, domain=(-0.5, 2), x="g / (1.0 + x)")
define("np.expm1", "x", **E, x="g * (ans + 1.0)")
define("np.sqrt", "x", **E, domain="positive", x="g * 0.5 / ans")
define("np.cbrt", "x", **E, domain="nonzero", x="g / (3.0 * ans ** 2)")
define("np.square", "x", result_dtype="keeps", **E, x="g * 2.0 * x")
define("np.reciprocal", "x", result_dtype="keeps", **E, domain="nonzero", x="-g * ans ** 2")
define("np.sin", "x", **E, x="g * np.cos(x)")
define("np.cos", "x", **E, x="-g * np.sin(x)")
define("np.tan", "x", **E, domain=(-1.2, 1.2), x="g * (1.0 + ans ** 2)")
define("np.arcsin", "x", **E, domain="unit", x="g / np.sqrt(1.0 - x ** 2)")
define("np.arccos", "x", **E, domain="unit", x="-g / np.sqrt(1.0 - x ** 2)")
define("np.arctan", "x", **E, x="g / (1.0 + x ** 2)")
define("np.sinh", "x", **E, x="g * np.cosh(x)")
define("np.cosh", "x", **E, x="g * np.sinh(x)")
define("np.tanh", "x", **E, x="g * (1.0 - ans ** 2)")
define("np.arcsinh", "x", **E, x="g / np.sqrt(x ** 2 + 1.0)")
define("np.arccosh", "x", **E, domain=(1.2, 3), x="g / np.sqrt(x ** 2 - 1.0)")
define("np.arctanh", "x", **E, domain="unit", x="g / (1.0 - x ** 2)")
define("np.abs", "x", result_dtype="keeps", real_result=True, **E, domain="nonzero",
       x="g * np.sign(x)")
define("np.fabs", "x", **E, domain="nonzero", x="g * np.sign(x)")
define("np.negative", "x", result_dtype="keeps", **E, x="-g")
define("np.positive", "x", result_dtype="keeps", **E, x="g")
define("np.deg2rad", "x", **E, x="g * (np.pi / 180)")
define("np.radians", "x", **E, x="g * (np.pi / 180)")
define("np.rad2deg", "x", **E, x="g * (180 / np.pi)")
define("np.degrees", "x", **E, x="g * (180 / np.pi)")
# sinc(x) = sin(pi x) / (pi x) has slope (cos(pi x) - sinc(x)) / x, and -pi**2 x / 3 near x = 0:
# that branch keeps the slope's own derivative right at 0 (a second derivative)
_SINC_SLOPE = ("np.where(x == 0, -np.pi ** 2 / 3 * x, "
               "(np.cos(np.pi * x) - ans) / np.where(x == 0, 1.0, x))")
define("np.sinc", "x", **E, domain="nonzero", x=f"g * {_SINC_SLOPE}")
# real numbers only: the real part and the conjugate are the identity on them (np.real(x)
# and x.conj() of a real array are x itself: views; np.conjugate's function makes a copy)
define("np.real", "val", result_dtype="keeps", view=True, real_result=True, **E, val="g")
define("np.conjugate", "x", result_dtype="keeps", methods=("conj", "conjugate"), view=True, **E,
       x="g")
# the replaced entries (NaN, +-inf) are constants
define("np.nan_to_num", "x, copy=True, nan=0.0, posinf=None, neginf=None",
       result_dtype="keeps", **E,
       x="g * np.isfinite(x)")

# --- NumPy, two arguments -------------------------------------------------------
define("np.add", "x, y", **E, x="unbroadcast(g, x)", y="unbroadcast(g, y)")
define("np.subtract", "x, y", **E, x="unbroadcast(g, x)", y="unbroadcast(-g, y)")
define("np.multiply", "x, y", **E, x="unbroadcast(g * y, x)", y="unbroadcast(g * x, y)",
       jvp={"y": "x * y_dot"})
define("np.divide", "x, y", **E, x="unbroadcast(g / y, x)", y="unbroadcast(-g * ans / y, y)")
define("np.power", "x, y", **E, x="unbroadcast(g * y * x ** (y - 1), x)",
       y="unbroadcast(g * ans * np.log(x), y)")
define("np.float_power", "x, y", **E, x="unbroadcast(g * y * np.float_power(x, y - 1), x)",
       y="unbroadcast(g * ans * np.log(x), y)")
define("np.maximum", "x, y", **E, result_dtype="promotes", x="unbroadcast(g * (x >= y), x)",
       y="unbroadcast(g * (x < y), y)",
       masks={"x": ("x >= y", "unbroadcast(g * mask, x)"),
              "y": ("x < y", "unbroadcast(g * mask, y)")})
define("np.minimum", "x, y", **E, result_dtype="promotes", x="unbroadcast(g * (x <= y), x)",
       y="unbroadcast(g * (x > y), y)",
       masks={"x": ("x <= y", "unbroadcast(g * mask, x)"),
              "y": ("x > y", "unbroadcast(g * mask, y)")})
# fmax/fmin ignore a NaN operand: the other one gets the whole adjoint
define("np.fmax", "x, y", **E, x="unbroadcast(g * ((x >= y) | np.isnan(y)), x)",
       y="unbroadcast(g * ~((x >= y) | np.isnan(y)), y)")
define("np.fmin", "x, y", **E, x="unbroadcast(g * ((x <= y) | np.isnan(y)), x)",
       y="unbroadcast(g * ~((x <= y) | np.isnan(y)), y)")
define("np.remainder", "x, y", **E, x="unbroadcast(g, x)",  # np.mod is np.remainder
       y="unbroadcast(-g * np.floor_divide(x, y), y)")
define("np.fmod", "x, y", **E, x="unbroadcast(g, x)", y="unbroadcast(-g * np.trunc(x / y), y)")
define("np.copysign", "x, y", **E, x="unbroadcast(g * np.sign(x) * np.copysign(1.0, y), x)", y=ZERO)
define("np.ldexp", "x, y", **E, x="unbroadcast(g * np.ldexp(1.0, y), x)", y=ZERO,
       jvp={"x": "np.ldexp(x_dot, y)"})
define("np.arctan2", "y, x", **E, y="unbroadcast(g * x / (x ** 2 + y ** 2), y)",
       x="unbroadcast(-g * y / (x ** 2 + y ** 2), x)")
define("np.hypot", "x, y", **E, x="unbroadcast(g * x / ans, x)", y="unbroadcast(g * y / ans, y)")
define("np.logaddexp", "x, y", **E, x="unbroadcast(g * np.exp(x - ans), x)",
       y="unbroadcast(g * np.exp(y - ans), y)")
define("np.logaddexp2", "x, y", **E, x="unbroadcast(g * np.exp2(x - ans), x)",
       y="unbroadcast(g * np.exp2(y - ans), y)")
define("np.where", "condition, x, y", **E, result_dtype="promotes", condition=ZERO,
       x="unbroadcast(masked(g, condition), x)", y="unbroadcast(masked(g, condition, False), y)",
       joint=({"kept": "masked(g, condition)"},  # both branches active: one mask, one pass
              {"x": "unbroadcast(kept, x)", "y": "unbroadcast(masked_rest(g, kept, condition), y)"}))


# two results, the tangents a tuple (one per result, np.zeros_like(ans[k]) a zero): modf's
# fractional part x - trunc(x) has slope 1, its integral part 0; divmod's quotient floor(x / y)
# slope 0, its remainder x - y * floor(x / y) slopes 1 and -floor(x / y) (np.remainder's)
define("np.modf", "x", x="g[0]", jvp={"x": "(x_dot, np.zeros_like(ans[1]))"})
DIVMOD = dict(x="unbroadcast(g[1], x)", y="unbroadcast(-g[1] * ans[0], y)",
              jvp={"x": "(np.zeros_like(ans[0]), x_dot + np.zeros_like(ans[1]))",
                   "y": "(np.zeros_like(ans[0]), -(y_dot * ans[0]))"})
define("np.divmod", "x, y", **DIVMOD)
define("divmod", "x, y", **DIVMOD)  # Python's, of numbers or arrays (np.divmod's then)


def _clip_inside(b):  # the mask of a's entries inside the bounds, or None: no bounds
    inside = [test for bound, test in (("a_min", "(a >= a_min)"), ("a_max", "(a <= a_max)"))
              if not b.is_none(bound)]
    return " & ".join(inside) if inside else None


def _clip_a(b):
    inside = _clip_inside(b)
    return f"unbroadcast(g * ({inside}), a)" if inside else "g"


define("np.clip", "a, a_min=None, a_max=None", methods=("clip",), **E, a=_clip_a,
       a_min="unbroadcast(g * (a < a_min), a_min)", a_max="unbroadcast(g * (a > a_max), a_max)",
       masks={"a": (_clip_inside, "unbroadcast(g * mask, a)"),
              "a_min": ("a < a_min", "unbroadcast(g * mask, a_min)"),
              "a_max": ("a > a_max", "unbroadcast(g * mask, a_max)")})

# --- math, on Python floats ---------------------------------------------------------
define("math.exp", "x", **E, x="g * ans")
define("math.expm1", "x", **E, x="g * (ans + 1)")
define("math.log", "x, base=None", **E,
       x=lambda b: "g / x" if b.is_none("base") else "g / (x * math.log(base))",
       base="-g * ans / (base * math.log(base))")
define("math.log2", "x", **E, x="g / (x * math.log(2.0))")
define("math.log10", "x", **E, x="g / (x * math.log(10.0))")
define("math.log1p", "x", **E, x="g / (1 + x)")
define("math.sqrt", "x", **E, x="g * 0.5 / ans")
define("math.pow", "x, y", **E, x="g * y * x ** (y - 1)", y="g * ans * math.log(x)")
define("math.sin", "x", **E, x="g * math.cos(x)")
define("math.cos", "x", **E, x="-g * math.sin(x)")
define("math.tan", "x", **E, x="g * (1 + ans ** 2)")
define("math.asin", "x", **E, x="g / math.sqrt(1 - x ** 2)")
define("math.acos", "x", **E, x="-g / math.sqrt(1 - x ** 2)")
define("math.atan", "x", **E, x="g / (1 + x ** 2)")
define("math.atan2", "y, x", **E, y="g * x / (x ** 2 + y ** 2)", x="-g * y / (x ** 2 + y ** 2)")
define("math.sinh", "x", **E, x="g * math.cosh(x)")
define("math.cosh", "x", **E, x="g * math.sinh(x)")
define("math.tanh", "x", **E, x="g * (1 - ans ** 2)")
define("math.fabs", "x", **E, x="g * math.copysign(1.0, x)")
define("math.asinh", "x", **E, x="g / math.sqrt(x ** 2 + 1)")
define("math.acosh", "x", **E, x="g / math.sqrt(x ** 2 - 1)")
define("math.atanh", "x", **E, x="g / (1 - x ** 2)")
define("math.degrees", "x", **E, x="g * (180 / math.pi)")
define("math.radians", "x", **E, x="g * (math.pi / 180)")
define("math.hypot", "x, y", **E, x="g * x / ans", y="g * y / ans")
define("math.copysign", "x, y", **E, x="g * math.copysign(1.0, x) * math.copysign(1.0, y)", y=ZERO)
define("math.fmod", "x, y", **E, x="g", y="-g * math.trunc(x / y)")
if hasattr(math, "cbrt"):  # Python 3.11
    define("math.exp2", "x", **E, x="g * ans * math.log(2.0)")
    define("math.cbrt", "x", **E, x="g / (3 * ans ** 2)")
define("math.erf", "x", **E, x="g * 2 / math.sqrt(math.pi) * math.exp(-x ** 2)")
define("math.erfc", "x", **E, x="-g * 2 / math.sqrt(math.pi) * math.exp(-x ** 2)")

# --- builtins -----------------------------------------------------------------------
define("abs", "x", real_result=True, **E, x="g * np.sign(x)")
define("float", "x", scalar_result=True, **E, x="g")
# np.float64 called as a cast (np.float64(x[0]), also spelled np.double): the identity; of a
# float64 array it gives the array itself (a view, for the alias analysis)
define("np.float64", "x", view=True, **E, x="g", jvp={"x": "np.float64(x_dot)"})
define("max", "x, y", **E, x="g * (x >= y)", y="g * (x < y)")
define("min", "x, y", **E, x="g * (x <= y)", y="g * (x > y)")
# max(t)/min(t) of one iterable (a tuple, a list, a 1-d array): its first extreme element, as
# Python picks it (support.first_extreme), gets g; the call stays Python's own
for _name, _largest in (("max", True), ("min", False)):
    define_operator(f"{_name}_of", "iterable", ("call", _name), elementwise=False,
                    iterable=f"unindex(g, iterable, first_extreme(iterable, {_largest}))",
                    jvp={"iterable": f"iterable_dot[first_extreme(iterable, {_largest})]"})

# --- zero derivative wherever it exists (integer- or boolean-valued, piecewise constant) --
nondiff("np.sign", elementwise=True, result_dtype="keeps")  # int in, int out
nondiff("np.floor", "np.ceil", "np.around", "np.rint", "np.trunc", "np.fix",
        "np.heaviside", "np.floor_divide", "np.allclose", "np.count_nonzero", "np.array_equal",
        "np.isreal", "np.tril_indices", "np.triu_indices", "np.diag_indices", "np.spacing",
        "np.result_type", "math.floor", "math.ceil", "math.trunc", "math.isnan", "math.isinf",
        "math.isfinite", "int", "round", "bool", "isinstance")
nondiff("range", integer_operands=True)  # trip counts
nondiff("slice")  # an index's bounds, np.s_[:, i] with i known when the code runs (s2sad/lower)
nondiff("print", effects=True)
nondiff("np.shape", "np.size", "np.ndim", shape_only=True)
nondiff("np.identity", "np.tri", array_result=True)
# boolean results (as an index, the element-wise tests and logic select a copy: a mask)
nondiff("np.isnan", "np.isinf", "np.isfinite", "np.logical_and", "np.logical_or",
        "np.logical_not", "np.logical_xor", result_dtype="bool", fancy_index=True)
nondiff("np.isclose", "np.greater", "np.greater_equal", "np.less", "np.less_equal", "np.equal",
        "np.not_equal", "np.signbit", "np.isposinf", "np.isneginf", result_dtype="bool")
# integer results
nondiff("np.flatnonzero", result_dtype="int", fancy_index=True)
nondiff("np.searchsorted", "np.digitize", "np.argwhere", "np.indices", "np.lexsort",
        "np.argpartition", result_dtype="int")
# new arrays of the dtype given (float when none is)
nondiff("np.zeros", "np.ones", "np.empty", result_dtype="given", array_result="shape")
nondiff("np.eye", result_dtype="given", array_result=True)
nondiff("np.zeros_like", "np.ones_like", result_dtype="given", array_result="like",
        shape_only=True)
nondiff("np.empty_like", result_dtype="given", array_result="like")


def _arange_role(b, name):
    """What the operand ``name`` of ``np.arange([start,] stop[, step])`` is (by position, or
    its keyword): its values are ``start + k * step``, so only start and step move them."""
    if not name.startswith("arg"):
        return name
    given = sum(1 for key in b if key.startswith("arg"))
    return (("stop",), ("start", "stop"), ("start", "stop", "step"))[given - 1][int(name[3:])]


def _arange(name, tangent=False):
    def rule(b):
        role = _arange_role(b, name)
        if role == "start":
            return f"np.zeros_like(ans) + {name}_dot" if tangent else "np.sum(g)"
        if role == "step":
            return (f"np.arange(np.size(ans)) * {name}_dot" if tangent else
                    "np.sum(g * np.arange(np.size(g)))")
        return None  # stop (or dtype=): it only counts the values
    return rule


_ARANGE_OPERANDS = ("arg0", "arg1", "arg2", "start", "stop", "step")
# np.arange([start,] stop[, step]): start + k * step for k < its count (which moves in steps)
define("np.arange", "", result_dtype="args", fancy_index=True, array_result=True,
       jvp={name: _arange(name, True) for name in _ARANGE_OPERANDS},
       **{name: _arange(name) for name in _ARANGE_OPERANDS}).varargs = True
# ... also array methods (x.argmax(), x.round())
nondiff("np.argsort", methods=True, result_dtype="int", fancy_index=True, free=True)
nondiff("np.nonzero", methods=True, result_dtype="int", fancy_index=True)
nondiff("np.argmax", "np.argmin", methods=True, result_dtype="int")
nondiff("np.any", "np.all", "np.round", methods=True)
nondiff("np.imag", view=True, real_result=True)  # x.imag: a view of a complex array
nondiff("np.angle", real_result=True)
nondiff("len", scalar_result=True, sized=True)
