"""The rule registry: everything s2sad knows about a primitive, in one stanza.

A :class:`Primitive` is one operation of the SSA IR: an operator (``mul``), a
NumPy or ``math`` function (``np.exp``), an attribute (``.T``) or indexing.
Each is registered by one ``define(...)`` stanza (``define_operator`` for
operators, ``nondiff`` for functions with a zero derivative) that says all
there is to know about it::

    define("np.exp", "x", elementwise=True, x="g * ans")
    define("np.swapaxes", "a, axis1, axis2", linear="a", view=True, methods=("swapaxes",),
           a="np.swapaxes(g, axis1, axis2)")

The stanza's fields, and who asks for them:

``signature``
    the parameters, with defaults: a call's operands are bound to these names
    (:meth:`Primitive.bind`), which is what the templates speak of.
``<param>="template"``
    the VJP: the contribution to that operand's adjoint. A parameter with no
    template and an active operand is an error (:class:`~s2sad.errors.NoDerivativeError`),
    never a silent zero; :data:`ZERO` marks a parameter whose derivative is zero
    (integer or piecewise-constant arguments).
``jvp={param: "template"}``
    the JVP: the operand's contribution to the output tangent. Written only where it
    cannot be derived; otherwise it comes from the VJP or from the primitive itself:

    - ``elementwise=True``: the Jacobian is diagonal, so the VJP and the JVP multiply
      by the same slope. The rule is written once, as the VJP (``g * np.cos(x)``), and
      the JVP is that template with ``g`` replaced by the operand's tangent
      (``x_dot * np.cos(x)``) and any ``unbroadcast(..., x)`` dropped (a tangent has
      the operand's shape already): :func:`tangent_of_slope`. As autograd's
      ``def_linear`` and JAX's ``defjvp`` for element-wise functions.
    - ``linear="a"`` (or ``"x1 x2"`` for a bilinear primitive): the primitive is linear
      in those operands, so the JVP is the primitive applied to the tangent, the other
      operands as they were (``np.swapaxes(a_dot, axis1, axis2)``; ``np.dot(a_dot, b)``
      and ``np.dot(a, b_dot)``), as JAX's ``deflinear`` / ``defbilinear``:
      :func:`linear_tangent`.
    - a parameter whose VJP is :data:`ZERO` has a zero JVP.
``elementwise=True``
    a broadcasting element-wise operation (a 0-d result means 0-d operands); also
    what the shape analysis and forward mode's batching ask, and :mod:`s2sad.kinds` (one
    of one operand, not a view, gives float64 of its operand's shape).
``reduction=True``
    the result is 0-d when ``axis`` is None and ``keepdims`` is false (:mod:`s2sad.kinds`
    follows one over a constant ``axis``).
``view=True``
    the result may share memory with the first operand (a NumPy view, or an alias):
    :mod:`s2sad.memory` follows writes through it. ``view="basic"`` (indexing): a view
    unless the index (the second operand) is fancy (see ``fancy_index``), then a copy.
    ``view="each"``: its result k may share memory with its operand k (``np.broadcast_arrays``).
    ``view="any"``: it may share memory with any operand (``np.einsum``: a transposition or a
    diagonal of its one operand is a view). A function of the bound operands (a
    :class:`~s2sad.rules.templates.Bound`): a view where it returns true, for arguments only
    some of which return the operand itself (``np.diff(a, 0)`` is ``a``).
``cheap=True``
    cheap index arithmetic that reverse mode recomputes in the backward sweep
    rather than storing on the tape (``s2sad.reverse.tape``, ``fill_pops``).
``batch_safe=True``
    its JVP templates already work on a batch of tangents stacked on a leading
    axis (forward mode's vector mode applies them as they are).
``methods=("sum",)``
    the array methods that mean this function (``x.sum()`` is ``np.sum(x)``);
    the lowering asks :data:`METHODS`.
``scalar_result=True``
    the result is a Python scalar whatever the operands (``len``, ``float``, and
    every ``math.`` function): the shape analysis asks.
``result_dtype="bool"``
    what the result's dtype is known to be: ``"bool"`` or ``"int"`` (whatever the
    operands), ``"keeps"`` (the first operand's), ``"given"`` (the constant ``dtype=``
    argument's, when there is one), ``"args"`` (``np.arange``: the ``dtype=`` argument's,
    or integer when every operand is an integer constant), ``"promotes"`` (the value
    operands' dtypes promoted as ``a + b`` promotes them: ``np.maximum``, ``np.where``'s
    two values); None when unknown. A value
    written into an integral array is cast, so no derivative flows through the write:
    :func:`s2sad.analysis.dataflow_edges` asks; so do :mod:`s2sad.kinds` (``"keeps"``:
    int64 in, int64 out) and :mod:`s2sad.simplify` (``"bool"``: a mask).
``fancy_index=True``
    its result, used as an index, selects a copy, not a view (an integer list or
    array, a mask): :mod:`s2sad.memory` asks.
``container=True``
    its result holds its operands themselves (a tuple, list or dict literal):
    :mod:`s2sad.memory` asks.
``contraction="matmul"``
    a sum of products of its two operands: ``"matmul"`` or ``"dot"`` when the VJPs are
    ``matmul_bar_a/b(g, a, b)`` or ``dot_bar_a/b(g, a, b)`` (the reverse sweep's matmul
    deferral sums a loop's outer products at once, :mod:`s2sad.reverse.deferral`), ``"sum"``
    for another (``np.inner``); :mod:`s2sad.cost` counts its operations from the shapes,
    and :mod:`s2sad.kinds` knows the kinds of the product and its ``*_bar_a/b`` helpers.
``free=True``
    :mod:`s2sad.cost` counts no operation for it in a template: it moves no data (a
    reshape, a transpose) or works on small index data (``np.argsort(axes)``).
``shape_only=True``
    its result depends on its operand's shape (and dtype) only, never on the values
    (``np.shape``, ``np.zeros_like``): free too, and :mod:`s2sad.cost` counts no read of
    the values.
``array_result=True``
    its result has at least one axis whatever the operands (``np.stack``, ``np.arange``);
    ``"items"``: when its first operand is a non-empty tuple or list (``np.array``);
    ``"shape"``: when its first operand is a non-empty shape (``np.zeros``); ``"like"``:
    when its first operand has an axis and no ``shape=`` is given (``np.zeros_like``).
    :mod:`s2sad.ranks` and forward mode's vector mode ask.
``sequence_result=True``
    given a tuple or list, it gives one (``+`` joins, ``*`` repeats, a copy): forward
    mode gives its result a tuple of tangents. ``"joins"``: it always gives one, its
    operands' elements in order (the join the lowering makes of ``p + q`` of two tuples it
    knows): forward mode joins the operands' tangents (zeros for a constant one).
``sequences="made"``
    what it does with Python's tuples and lists, which have no array shape (the shape
    analysis asks, :mod:`s2sad.analysis.shapes`): ``"made"``, its result is one (a literal,
    a join); ``"element"``, its result may be one when its first operand is (an element of
    it, a copy); ``"overloaded"``, given one, it joins or repeats it (``+``, ``*``), so its
    result has no shape in common with its operands.
``structure_result=True``
    given a tuple or dict of adjoints (what a run-time helper returns), it may give one
    (adjoints add and subtract element by element): forward mode's zero tangent of its
    result keeps that structure.
``batch="reduce"``
    vector mode's batched form (:mod:`s2sad.batching`), where a tangent has a leading
    axis of directions: ``"reduce"``, the same reduction one axis further on (``np.sum``,
    ``np.mean``); ``"index"``, the index with a leading ``:`` (``getitem``).
``dict_operand="key"``
    what it may do with a dict value (anything else is an error at lowering): ``"key"``,
    read it by key (``getitem``; ``unindex``, its adjoint, writes into it by key);
    ``"alias"``, give it another name (``copy``); ``"keys"``, read its keys (``d.keys()``,
    the helper ``keys_of``). A ``container`` holds one. Vector mode
    does not batch a function that reads a dict by a string key (:mod:`s2sad.module`).
``sized=True``
    it reads its operand's length only (``len``): a list used as a stack may be its
    operand (:mod:`s2sad.lower.lists`).
``integer_operands=True``
    its operands are integers (``range``: trip counts): ``--at x=3`` keeps a parameter
    passed to it an int (:mod:`s2sad.points`).
``index_arithmetic=True``
    given integer scalars, it gives one (``+ - * // %``, unary ``-`` and ``+``):
    :mod:`s2sad.analysis.indices` follows loop counters through it (``y[i + 1] = v``
    names one element).
``real_result=True``
    its result is real even for a complex operand (``np.abs``, ``.real``, ``.imag``,
    ``np.angle``, ``np.linalg.norm``): :func:`s2sad.analysis.activity.complex_source`
    follows complex values up to it.
``effects=True``
    it changes the world (``print``): kept even where nothing reads its result
    (:mod:`s2sad.analysis.regions`).
``domain="positive"``
    where the function is smooth, for its test case (``real`` when not given;
    ``positive``, ``unit`` (-1, 1), ``nonzero``, or an interval ``(lo, hi)``):
    ``tests/programs/primitive_cases.py`` makes a case for each one-argument element-wise
    NumPy function from its stanza.

The template language. A template is one Python expression, parsed once
(:class:`Template`) and instantiated by replacing names:

- ``g``: in a VJP, the adjoint of the output;
- ``ans``: the output;
- each parameter name: the operand bound to it (a variable or a constant);
- ``<param>_dot``: in a JVP, the tangent of that operand;
- in a VJP of a primitive of several results (``q, r = np.divmod(x, y)``), ``g`` and ``ans``
  are tuples, ``g[k]`` and ``ans[k]`` result k's (an unused result's adjoint is zeros); its JVP
  is a tuple literal, one tangent of its result's shape per result, ``np.zeros_like(ans[k])``
  where the operand gives none: forward mode adds the operands' tuples result by result,
  leaving such zeros out (:mod:`s2sad.forward.tangents`);
- a name given in ``shared={"w": "template"}``: a value computed once and shared
  by the parameters' VJPs (``np.linalg.solve``'s ``w``);
- ``mask``, in a template of ``masks={param: ("x >= y", "unbroadcast(g * mask, x)")}``:
  the comparison the forward sweep computes once and keeps, a mask of the operands (or
  of ``ans``), read by the backward sweep in place of the operands' values (see
  :mod:`s2sad.reverse.forward_masks`); the VJP of ``param`` without it stays the plain one;
- a name of ``joint=({"k": "template"}, {param: "template", ...})``: a value computed once
  when every one of those parameters is active, which their VJPs then read in place of
  their own (``np.where``'s two adjoints: the second is ``g`` less the first); with some of
  them inactive, the plain VJPs;
- ``np``, ``math`` and the run-time helpers of :mod:`s2sad.support` (``unbroadcast``,
  ``unreduce``, ``matmul_bar_a``, ...), which generated modules carry with them.

A template may also be a function of the bound operands (``lambda b: ...``, given a
:class:`Bound`) returning a template text, or None for zero, so a rule can
specialise on a constant argument (``axis=None``); it raises
:class:`RuleNotApplicable` with the reason when the constants fall outside the rule.
Templates never form a Jacobian, and call only functions that have rules
themselves, so derivative code differentiates again.
"""

import builtins
import math

import numpy as np

from ..ir import Assign, Const
from .templates import (ZERO, Bound, Template, as_rule as _rule, as_template as _template,
                        linear_tangent, tangent_of_slope)

REGISTRY = {}  # python object (np.exp, math.sin, abs, ...) -> Primitive
OPERATORS = {}  # 'add', 'neg', 'lt', 'getitem', ... -> Primitive
METHODS = {}  # array method name ('sum', 'flatten', ...) -> the Primitive it means
_NAMESPACES = {"np": np, "math": math}


class Primitive:
    """One operation of the IR with its spelling, derivative rules and properties.

    ``emit`` is how the primal is written: ('call', 'np.exp'), ('binop', 'Mult'),
    ('unary', 'USub'), ('compare', 'Lt'), ('attr', 'T'), ('getitem',), ('copy',).
    The other fields are those of a stanza (see the module docstring); the class
    attributes are their defaults, which the IR's other primitives (a user's
    function, a global read) keep.
    """

    differentiable = True
    varargs = False
    elementwise = False
    reduction = False
    linear = ()
    view = False
    cheap = False
    batch_safe = False
    batch = None
    scalar_result = False
    domain = "real"
    result_dtype = None
    fancy_index = False
    container = False
    contraction = None
    free = False
    shape_only = False
    array_result = None
    sequence_result = False
    sequences = None
    structure_result = False
    dict_operand = None
    sized = False
    integer_operands = False
    index_arithmetic = False
    real_result = False
    effects = False
    node = Assign  # the IR node of its statements (structural ones: s2sad.structural)

    def __init__(self, name, params, defaults, emit, vjp=None, jvp=None, shared=None,
                 varargs=False, masks=None, joint=None, **fields):
        self.name = name
        self.params = params
        self.defaults = defaults
        self.emit = emit
        self.varargs = varargs
        self.vjp = {k: _rule(v) for k, v in (vjp or {}).items()}
        self.shared = {k: Template(v) for k, v in (shared or {}).items()}
        self.masks = {k: (mask, _rule(rule)) for k, (mask, rule) in (masks or {}).items()}
        self.joint = None if joint is None else (
            {k: Template(v) for k, v in joint[0].items()},
            {k: _rule(v) for k, v in joint[1].items()})
        for field, value in fields.items():
            if field not in STANZA_FIELDS:
                raise TypeError(f"{name}: {field!r} is not a field of a stanza")
            if field in _CHOICES and value not in _CHOICES[field]:
                raise ValueError(f"{name}: {field}={value!r}, not one of {_CHOICES[field]}")
            setattr(self, field, value)
        linear = self.linear
        self.linear = tuple(linear.split()) if isinstance(linear, str) else tuple(linear)
        if self.linear and emit[0] not in ("call", "user"):  # linear_tangent spells a call
            raise ValueError(f"{name}: linear= needs a primitive spelled as a call")
        if fields.get("scalar_result") is None:
            self.scalar_result = name.startswith("math.")
        self.jvp = {k: _rule(v) for k, v in (jvp or {}).items()}
        for param, rule in self.vjp.items():
            if param not in self.jvp:
                derived = self._derived_jvp(param, rule)
                if derived is not None:
                    self.jvp[param] = derived

    def _derived_jvp(self, param, rule):
        """The JVP of ``param`` that follows from the stanza, or None (see the module doc)."""
        if rule is ZERO:
            return ZERO
        if param in self.linear:
            return lambda b: linear_tangent(self, param, b)
        if self.elementwise:
            if callable(rule):
                return lambda b: tangent_of_slope(_template(rule, b), param)
            return tangent_of_slope(rule, param)
        return None

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


def rule_name(prim):
    """The name of ``prim`` if it is a primitive of the rule tables, else None: a call of
    the user's own function, of a custom rule or of a function without rules, and a read,
    are never taken for a rule, whatever their names (a user's ``def copy(x)`` is not
    the ``copy`` operator)."""
    return prim.name if type(prim) is Primitive else None


# the fields whose value is one of a few (see the module docstring)
_CHOICES = {"result_dtype": (None, "bool", "int", "keeps", "given", "args", "promotes"),
            "sequence_result": (False, True, "joins"),
            "sequences": (None, "made", "element", "overloaded"),
            "contraction": (None, "matmul", "dot", "sum"),
            "array_result": (None, True, "items", "shape", "like"),
            "batch": (None, "reduce", "index"),
            "dict_operand": (None, "alias", "key")}


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


# a stanza's keywords that are not parameters' VJPs
STANZA_FIELDS = {"elementwise", "reduction", "differentiable", "linear", "view", "cheap",
                 "batch_safe", "batch", "scalar_result", "domain", "result_dtype", "fancy_index",
                 "container", "contraction", "free", "shape_only", "array_result",
                 "sequence_result", "sequences", "structure_result", "dict_operand", "sized",
                 "integer_operands", "index_arithmetic", "real_result", "effects"}


def split_fields(keywords):
    """A stanza's keywords as (the parameters' VJP templates, the Primitive fields)."""
    return ({k: v for k, v in keywords.items() if k not in STANZA_FIELDS},
            {k: v for k, v in keywords.items() if k in STANZA_FIELDS})


def define(spelling, signature, *, aliases=(), methods=(), shared=None, jvp=None, masks=None,
           joint=None, **fields):
    """Register a NumPy/math/builtin function: its stanza (see the module docstring).

    Keyword arguments named after a parameter are its VJP templates; the others are
    the fields of :class:`Primitive` (``elementwise``, ``linear``, ``view``, ...).
    """
    params, defaults = _signature(signature)
    vjp, fields = split_fields(fields)
    prim = Primitive(spelling, params, defaults, ("call", spelling), vjp=vjp, jvp=jvp,
                     shared=shared, masks=masks, joint=joint, **fields)
    for name in (spelling,) + tuple(aliases):
        REGISTRY[resolve_spelling(name)] = prim
    _methods(prim, methods)
    return prim


def define_operator(name, signature, emit, *, elementwise=True, jvp=None, **fields):
    """Register a Python operator (``mul``) or syntax form (``getitem``): its stanza."""
    params, defaults = _signature(signature)
    vjp, fields = split_fields(fields)
    prim = Primitive(name, params, defaults, emit, vjp=vjp, jvp=jvp, elementwise=elementwise,
                     **fields)
    OPERATORS[name] = prim
    return prim


def nondiff(*spellings, methods=False, **fields):
    """Register functions whose derivative is zero wherever it exists; ``methods=True``:
    each is also an array method of its own last name (``x.argmax()``)."""
    for spelling in spellings:
        prim = Primitive(spelling, (), {}, ("call", spelling), differentiable=False, varargs=True,
                         **fields)
        try:
            REGISTRY[resolve_spelling(spelling)] = prim
        except AttributeError:  # not in this NumPy version
            continue
        if methods:
            _methods(prim, (spelling.rsplit(".", 1)[-1],))


def nondiff_operator(name, emit, **fields):
    OPERATORS[name] = Primitive(name, ("x", "y"), {}, emit, differentiable=False, varargs=True,
                                **fields)


def _methods(prim, names):
    for method in names:
        if method in METHODS:
            raise ValueError(f"the method .{method}() already means {METHODS[method].name}")
        METHODS[method] = prim


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
