"""What both transforms share (layer 5, beside :mod:`s2sad.emit`): a generated function's
``def``, the located errors for what neither mode differentiates, and two questions
about an SSA function (the tuple it returns; whether a block writes into an array).

:mod:`s2sad.reverse` and :mod:`s2sad.forward` are siblings that never import each
other; what they both need lives here or below.
"""

import gast

from .custom import registration_hint
from .emit import name
from .errors import NoDerivativeError
from .ir import Assign, walk_blocks
from .lower import ExternalFunction
from .parse import is_library_code
from .rules.core import OPERATORS, RuleNotApplicable
from .structural import WriteItem


def returned_tuple(fn):
    """The statement making the tuple ``fn`` returns (``return a, b``), or None."""
    return next((stmt for stmt in walk_blocks(fn.body) if isinstance(stmt, Assign) and
                 stmt.targets == (fn.output,) and stmt.prim is OPERATORS["tuple"]), None)


def writes_into(block, var):
    """True if ``block`` writes into the array ``var`` (a carried value) or a later version."""
    return any(isinstance(s, WriteItem) and s.array.name == var for s in walk_blocks(block))


def no_rule_error(stmt):
    """The located error for a function with no rule applied to a differentiated value."""
    prim = stmt.prim
    if prim.emit[0] == "attr":  # obj.name (lower.AttributeRead) of a differentiated obj
        return NoDerivativeError(
            f"s2sad does not differentiate through the attribute {prim.name} of a "
            f"differentiated value", stmt.loc,
            "Attributes of objects (self.W, cfg.lam) are constants: differentiate with respect "
            "to an array argument instead (pass W as a parameter, or a dict of parameters).")
    what = f"{prim.name}()" if isinstance(prim, ExternalFunction) else f"a {prim.name} literal"
    if isinstance(prim, ExternalFunction) and prim.stars:
        return NoDerivativeError(
            f"s2sad differentiates {prim.name}() only with its arguments known one by one, "
            f"and here a differentiated value reaches it through *", stmt.loc,
            "Bind the arguments to a tuple written out in the function (args = (a, b); "
            "f(*args)), or pass them one by one.")
    if isinstance(prim, ExternalFunction) and is_library_code(prim.obj):
        module = getattr(prim.obj, "__module__", None) or "another library"
        what += f" (Python code of {module.split('.')[0]}, which s2sad does not read)"
    hint = "Rewrite this with functions s2sad supports (run `s2sad rules` for the list), " \
           "or make sure only constants reach it."
    if isinstance(prim, ExternalFunction):
        hint = registration_hint(prim.name, len(stmt.args) + len(stmt.kwargs)) + \
            " Or use functions s2sad supports (`s2sad rules`), or make sure only constants " \
            "reach it."
    return NoDerivativeError(
        f"s2sad has no derivative rule for {what}, and it is applied to a differentiated value",
        stmt.loc, hint)


def rule_template(stmt, param, bound, mode):
    """The ``mode`` template (``"vjp"`` or ``"jvp"``) of ``param`` of ``stmt``'s primitive,
    None for a zero; or the located error saying why there is none: the function has no
    rules at all (:func:`no_rule_error`), none for that argument, or none for these constant
    arguments (the rule's :class:`~s2sad.rules.RuleNotApplicable`)."""
    prim = stmt.prim
    if isinstance(prim, ExternalFunction) or (prim.varargs and not getattr(prim, mode)):
        raise no_rule_error(stmt)
    try:
        return prim.vjp_template(param, bound) if mode == "vjp" else \
            prim.jvp_template(param, bound)
    except KeyError:
        what = "derivative" if mode == "vjp" else "tangent (forward-mode)"
        hint = registration_hint(prim.name, len(stmt.args) + len(stmt.kwargs))
        raise NoDerivativeError(
            f"s2sad has no {what} rule for argument {param!r} of {prim.name}", stmt.loc,
            f"Pass a constant for that argument. Or {hint[0].lower()}{hint[1:]}") from None
    except RuleNotApplicable as exc:
        raise NoDerivativeError(str(exc), stmt.loc, exc.hint or
                                "Rewrite the call with the supported arguments, or compute "
                                "the value with other supported functions.") from None


def unpacking_error(stmt):
    """The located error for unpacking a differentiated multi-valued result."""
    return NoDerivativeError(f"s2sad cannot differentiate through unpacking the result of "
                             f"{stmt.prim.name} yet", stmt.loc,
                             "Unpack constants only, or restructure the code.")


def function_def(func_name, params, body, defaults=()):
    args = gast.arguments(args=[name(p, store=False) for p in params], posonlyargs=[],
                          vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                          defaults=list(defaults))
    for a in args.args:
        a.ctx = gast.Param()
    return gast.FunctionDef(name=func_name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
