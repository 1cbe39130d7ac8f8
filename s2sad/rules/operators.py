"""Rules for Python's operators and the syntax forms the lowering produces.

``g`` is the adjoint of the result, ``ans`` the result. Binary operators
broadcast, so each contribution is summed back to its operand's shape with
``unbroadcast`` (the reverse pass drops it where shapes are known to agree).
"""

from .core import OPERATORS, ZERO, Primitive, define_operator, nondiff_operator


def _pow_base(b):
    exponent = b.const("y")
    if exponent == 2:
        return "unbroadcast(g * 2 * x, x)"
    return "unbroadcast(g * y * x ** (y - 1), x)"


define_operator("add", "x, y", ("binop", "Add"), x="unbroadcast(g, x)", y="unbroadcast(g, y)")
define_operator("sub", "x, y", ("binop", "Sub"), x="unbroadcast(g, x)", y="unbroadcast(-g, y)")
define_operator("mul", "x, y", ("binop", "Mult"), x="unbroadcast(g * y, x)", y="unbroadcast(g * x, y)")
define_operator("truediv", "x, y", ("binop", "Div"), x="unbroadcast(g / y, x)",
                y="unbroadcast(-g * ans / y, y)")
define_operator("pow", "x, y", ("binop", "Pow"), x=_pow_base,
                y="unbroadcast(g * ans * np.log(x), y)")
define_operator("mod", "x, y", ("binop", "Mod"), x="unbroadcast(g, x)",
                y="unbroadcast(-g * np.floor_divide(x, y), y)")
define_operator("matmul", "x, y", ("binop", "MatMult"), elementwise=False,
                x="matmul_bar_a(g, x, y)", y="matmul_bar_b(g, x, y)")
define_operator("neg", "x", ("unary", "USub"), x="-g")
define_operator("pos", "x", ("unary", "UAdd"), x="g")
define_operator("copy", "x", ("copy",), x="g")
define_operator("getitem", "a, index", ("getitem",), elementwise=False,
                a="unindex(g, a, index)", index=ZERO)
define_operator("T", "x", ("attr", "T"), elementwise=False, x="np.transpose(g)")
define_operator("mT", "x", ("attr", "mT"), elementwise=False, x="np.swapaxes(g, -1, -2)")

nondiff_operator("floordiv", ("binop", "FloorDiv"))
nondiff_operator("not", ("unary", "Not"))
nondiff_operator("invert", ("unary", "Invert"))
for _name, _op in [("lt", "Lt"), ("le", "LtE"), ("gt", "Gt"), ("ge", "GtE"), ("eq", "Eq"),
                   ("ne", "NotEq"), ("is", "Is"), ("is_not", "IsNot"), ("in", "In"),
                   ("not_in", "NotIn")]:
    nondiff_operator(_name, ("compare", _op))
for _name, _op in [("and_", "BitAnd"), ("or_", "BitOr"), ("xor", "BitXor"), ("lshift", "LShift"),
                   ("rshift", "RShift")]:
    nondiff_operator(_name, ("binop", _op))
for _attr in ("shape", "ndim", "size", "dtype"):
    nondiff_operator(_attr, ("attr", _attr))

define_operator("astype", "x, dtype", ("method", "astype"), elementwise=False, x="g", dtype=ZERO)
# building a tuple or list is fine on constants; differentiating through one is not supported yet
define_operator("tuple", "", ("tuple",), elementwise=False)
define_operator("list", "", ("list",), elementwise=False)
for _name in ("tuple", "list"):
    from .core import OPERATORS as _OPS
    _OPS[_name].varargs = True

# stop_gradient(x) is x with no derivative: generated code writes it as a plain copy
OPERATORS["stop_gradient"] = Primitive("stop_gradient", ("x",), {}, ("copy",), differentiable=False)
