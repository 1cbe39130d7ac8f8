"""The rule registry: what a primitive is and how its derivative is written.

A :class:`Primitive` is one operation of the SSA IR: an operator (``mul``), a
NumPy or ``math`` function (``np.exp``), an attribute (``.T``) or indexing.
It knows its parameter list (to bind a call's arguments by name), how to spell
itself in generated code, and, per parameter, a VJP template in adjoint
notation::

    define("np.exp", "x", elementwise=True, x="g * ans")

In a template ``g`` is the adjoint of the output, ``ans`` the output, and every
parameter name stands for the operand bound to it. A template may also be a
function of the bound operands (``lambda b: ...``) returning a template, so a
rule can specialise on a constant argument (``axis=None``). Templates never
form a Jacobian. A parameter with no template and an active operand is an
error (:class:`~s2sad.errors.NoDerivativeError`), never a silent zero;
:data:`ZERO` marks a parameter whose derivative is zero (integer or
piecewise-constant arguments). :func:`nondiff` registers functions whose
output carries no derivative at all (``np.sign``, ``np.argmax``, comparisons).
"""

import builtins
import math

import gast
import numpy as np

from ..astutil import clone, parse_expr
from ..ir import Const

ZERO = "0"  # marks a parameter whose derivative is identically zero

REGISTRY = {}  # python object (np.exp, math.sin, abs, ...) -> Primitive
OPERATORS = {}  # 'add', 'neg', 'lt', 'getitem', ... -> Primitive
_NAMESPACES = {"np": np, "math": math}


class Template:
    """A derivative formula, parsed once and instantiated by name substitution."""

    def __init__(self, text):
        self.text = text
        self.tree = parse_expr(text)

    def names(self):
        return {n.id for n in gast.walk(self.tree) if isinstance(n, gast.Name)}

    def instantiate(self, env):
        """A fresh gast expression with each name in ``env`` replaced by env[name]."""
        return clone(self.tree, env)


class Bound(dict):
    """A call's operands bound to the primitive's parameter names."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def const(self, name, default=None):
        """The constant value bound to ``name``, or ``default`` if it is not constant."""
        op = self.get(name)
        return op.value if isinstance(op, Const) else default

    def is_none(self, name):
        op = self.get(name)
        return op is None or (isinstance(op, Const) and op.value is None)


class Primitive:
    """One operation of the IR with its spelling and derivative rules.

    ``emit`` is how the primal is written: ('call', 'np.exp'), ('binop', 'Mult'),
    ('unary', 'USub'), ('compare', 'Lt'), ('attr', 'T'), ('getitem',), ('copy',).
    ``elementwise`` marks broadcasting element-wise operations (a 0-d result
    means 0-d operands). ``reduction`` marks operations whose result is 0-d
    when ``axis`` is None and ``keepdims`` is false.
    """

    def __init__(self, name, params, defaults, emit, vjp=None, jvp=None, shared=None,
                 elementwise=False, reduction=False, differentiable=True, varargs=False):
        self.name = name
        self.params = params
        self.defaults = defaults
        self.emit = emit
        self.vjp = {k: (v if callable(v) or v is ZERO else Template(v)) for k, v in (vjp or {}).items()}
        self.jvp = {k: (v if callable(v) or v is ZERO else Template(v)) for k, v in (jvp or {}).items()}
        self.shared = {k: Template(v) for k, v in (shared or {}).items()}
        self.elementwise = elementwise
        self.reduction = reduction
        self.differentiable = differentiable
        self.varargs = varargs

    def __repr__(self):
        return f"<primitive {self.name}>"

    def bind(self, args, kwargs):
        """Map positional and keyword operands to parameter names (defaults filled in).

        Raises TypeError with a readable message when the call does not fit.
        """
        if self.varargs:
            return Bound({f"arg{i}": a for i, a in enumerate(args)}, **kwargs)
        if len(args) > len(self.params):
            raise TypeError(f"{self.name} takes at most {len(self.params)} positional "
                            f"arguments here ({', '.join(self.params)}), got {len(args)}")
        bound = Bound(zip(self.params, args))
        for key, value in kwargs.items():
            if key not in self.params:
                raise TypeError(f"{self.name} has no parameter {key!r} that s2sad knows "
                                f"(it knows: {', '.join(self.params)})")
            if key in bound:
                raise TypeError(f"{self.name} got two values for {key!r}")
            bound[key] = value
        for name in self.params:
            if name not in bound:
                if name not in self.defaults:
                    raise TypeError(f"{self.name} is missing its argument {name!r}")
                bound[name] = Const(self.defaults[name])
        return bound

    def vjp_template(self, param, bound):
        """The template for the adjoint contribution to ``param``; None means zero.

        Raises KeyError if the parameter has no rule at all.
        """
        return _template(self.vjp[param], bound)

    def jvp_template(self, param, bound):
        """The template for ``param``'s contribution to the output tangent; None means zero.

        Raises KeyError if the parameter has no tangent rule at all.
        """
        return _template(self.jvp[param], bound)


def _template(rule, bound):
    """A rule (template, ZERO, or function of the bound operands) as a Template or None."""
    if rule is ZERO:
        return None
    if callable(rule):
        text = rule(bound)
        return None if text is None else Template(text)
    return rule


def _signature(sig):
    """Parse ``"a, axis=None, keepdims=False"`` into names and defaults."""
    params, defaults = [], {}
    for part in filter(None, (p.strip() for p in sig.split(","))):
        if "=" in part:
            name, value = part.split("=", 1)
            defaults[name.strip()] = eval(value, {"np": np, "math": math})
            params.append(name.strip())
        else:
            params.append(part)
    return tuple(params), defaults


def resolve_spelling(spelling):
    """The Python object a spelling such as ``np.linalg.inv`` or ``abs`` names."""
    head, *rest = spelling.split(".")
    obj = _NAMESPACES[head] if head in _NAMESPACES else getattr(builtins, head)
    for part in rest:
        obj = getattr(obj, part)
    return obj


def define(spelling, signature, *, aliases=(), elementwise=False, reduction=False, shared=None,
           jvp=None, **vjp):
    """Register a NumPy/math/builtin function with its VJP templates, one per parameter."""
    params, defaults = _signature(signature)
    prim = Primitive(spelling, params, defaults, ("call", spelling), vjp=vjp, jvp=jvp, shared=shared,
                     elementwise=elementwise, reduction=reduction)
    for name in (spelling,) + tuple(aliases):
        REGISTRY[resolve_spelling(name)] = prim
    return prim


def define_operator(name, signature, emit, *, elementwise=True, jvp=None, **vjp):
    """Register a Python operator (``mul``) or syntax form (``getitem``)."""
    params, defaults = _signature(signature)
    prim = Primitive(name, params, defaults, emit, vjp=vjp, jvp=jvp, elementwise=elementwise)
    OPERATORS[name] = prim
    return prim


def nondiff(*spellings, operator_emit=None):
    """Register functions whose derivative is zero wherever it exists."""
    for spelling in spellings:
        prim = Primitive(spelling, (), {}, ("call", spelling), differentiable=False, varargs=True)
        try:
            REGISTRY[resolve_spelling(spelling)] = prim
        except AttributeError:  # not in this NumPy version
            pass


def nondiff_operator(name, emit):
    OPERATORS[name] = Primitive(name, ("x", "y"), {}, emit, differentiable=False, varargs=True)


def all_primitives():
    """Every distinct primitive, operators first, for listings (``s2sad rules``)."""
    seen, out = set(), []
    for prim in list(OPERATORS.values()) + list(REGISTRY.values()):
        if id(prim) not in seen:
            seen.add(id(prim))
            out.append(prim)
    return out


class RuleNotApplicable(Exception):
    """Raised by a rule function when the call's constant arguments fall outside the rule;
    ``hint`` says what to write instead."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint
