"""Custom derivative rules: the user gives the derivative of a function by hand.

Contract
--------

``@s2sad.custom_vjp`` (or ``@s2sad.custom_jvp``; both make the same kind of
object) wraps a Python function ``f`` with plain positional-or-keyword
parameters. The result, a :class:`CustomDerivative`, is still ``f``: calling
it just runs ``f``. s2sad never reads ``f``'s body; where a differentiated
function calls ``f``, the generated code calls ``f`` for the value and the
user's rule for the derivative:

* **reverse mode** -- ``@f.defvjp`` registers ``f_vjp(g, ans, *args)``: ``g``
  is the adjoint of the output, ``ans`` the output ``f(*args)``, then ``f``'s
  arguments. It returns the adjoint of the argument (one parameter), or a
  tuple with one adjoint per parameter (several), each shaped like its
  argument. An entry for an argument that is not differentiated (a constant,
  an integer, a parameter not in ``wrt``) is ignored and may be ``None``.
  (Autograd's convention without the closure; JAX's ``bwd`` gets residuals
  instead of ``ans`` and the arguments.)
* **forward mode** -- ``@f.defjvp`` registers ``f_jvp(*args, *tangents)``:
  ``f``'s arguments, then one tangent per parameter, in the same order. It
  returns the output's tangent only (s2sad computes the value by calling
  ``f``). The tangent of an argument that is not differentiated is zeros:
  ``np.zeros_like(arg)`` for a variable, ``0.0`` for a number, ``None`` for
  any other constant (a string, ``None``, a tuple), as JAX instantiates its
  symbolic zeros. In vector mode (``jacobian``, ``hessian``) the rule is
  called once per direction.

The arguments reach the rules by position, in ``f``'s parameter order, with
defaults filled in, whether the call passed them by position or by keyword.
``f`` returns an array or a number, or a tuple the caller unpacks at once
(``r, t = polar(x, y)``): then ``g`` and ``ans`` are tuples with one entry
per name (an entry no derivative reaches is zeros), and the jvp rule returns
a tuple of tangents (not in vector mode). ``defvjp`` and ``defjvp`` return the rule itself, so
``@f.defvjp`` leaves the rule a plain module-level function.

Generated code calls ``f`` and the rules by name, each rule statement under
a comment ``# f: user rule f_vjp (mymodule.py:12)``. A written module gets
``from mymodule import f, f_vjp`` for them, so it imports wherever the user's
module imports; an object no import can reach (a rule defined inside a
function, a lambda) is bound by the in-memory API only, and the CLI refuses
it. The generated code is cached: register rules before differentiating.

A rule missing for the mode in use is a located
:class:`~s2sad.errors.NoDerivativeError` at the call, naming ``f`` and
saying how to register the rule. Second order (``hvp``, ``hessian``,
``grad(grad(...))``, ``check_grads(order=2)``) differentiates the generated
code, which calls ``f`` (so its rules are used again: forward over reverse
needs the ``jvp`` rule) and ``f_vjp`` (an ordinary Python function, which
s2sad differentiates from its source; it may itself be a custom function).

``s2sad.grad(f)`` of a custom function itself differentiates a one-line
function ``return f(x)``, so ``check_grads(f, ...)`` checks the user's rules.
"""

import functools
import inspect
import keyword
import linecache
import os
import sys

import gast

from .errors import NoDerivativeError, UsageError
from .ir import Const, Var
from .parse import def_loc
from .rules.core import Primitive

# modules the CLI imports under another name: name in sys.modules -> name to import
IMPORT_NAMES = {}
_MODES = {"vjp": ("reverse", "grad, value_and_grad, vjp, jacobian(mode='reverse')"),
          "jvp": ("forward", "jvp, jacobian(mode='forward'), hvp, hessian")}


class CustomDerivative:
    """A function whose derivative rules the user gives (see the module docstring).

    Calling it calls the function. ``defvjp(rule)`` and ``defjvp(rule)``
    register the reverse- and forward-mode rules and return ``rule``;
    ``vjp_rule`` and ``jvp_rule`` hold them (None until registered).
    """

    def __init__(self, fn):
        if isinstance(fn, CustomDerivative):
            fn = fn.__wrapped__
        _check_primal(fn)
        functools.update_wrapper(self, fn)
        self.vjp_rule = None
        self.jvp_rule = None
        self._primitive = None
        self._entry = None

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self):
        rules = [f"{kind}={getattr(rule, '__name__', rule)}" for kind, rule in
                 (("vjp", self.vjp_rule), ("jvp", self.jvp_rule)) if rule is not None]
        return f"<s2sad custom rule for {self.__wrapped__.__qualname__}: " \
               f"{', '.join(rules) or 'no rules yet'}>"

    @property
    def params(self):
        return tuple(inspect.signature(self.__wrapped__).parameters)

    def defvjp(self, rule):
        """Register ``rule(g, ans, *args)`` as the reverse-mode rule; returns ``rule``.

        It returns the adjoint of the argument (one parameter) or a tuple of
        one adjoint per parameter, each shaped like its argument.
        """
        self._check_rule(rule, "vjp", ("g", "ans") + self.params)
        self.vjp_rule = rule
        return rule

    def defjvp(self, rule):
        """Register ``rule(*args, *tangents)`` as the forward-mode rule; returns ``rule``.

        It returns the tangent of the output.
        """
        self._check_rule(rule, "jvp", self.params + tuple(f"{p}_dot" for p in self.params))
        self.jvp_rule = rule
        return rule

    def _check_rule(self, rule, kind, expected):
        name = self.__wrapped__.__name__
        shape = f"{name}_{kind}({', '.join(expected)})"
        if not callable(rule):
            raise UsageError(f"{name}.def{kind} needs a function, not {rule!r}",
                             hint=f"Decorate a function {shape} with @{name}.def{kind}.")
        try:
            inspect.signature(rule).bind(*expected)
        except TypeError as exc:
            raise UsageError(f"the {kind} rule {getattr(rule, '__qualname__', rule)} of {name} "
                             f"cannot be called with {len(expected)} arguments ({exc})",
                             def_loc(rule), f"Write it as {shape}.") from None
        except ValueError:  # no signature (a builtin): trust it
            pass

    def primitive(self):
        """The :class:`CustomPrimitive` calls of this function lower to."""
        if self._primitive is None:
            self._primitive = CustomPrimitive(self)
        return self._primitive

    def entry_function(self):
        """A function ``def f(x): return f(x)`` s2sad can read, so ``s2sad.grad(f)`` works."""
        if self._entry is None:
            fn = self.__wrapped__
            params = list(self.params)
            callee = fn.__name__ if fn.__name__ not in params else "_s2sad_custom"
            defaults = fn.__defaults__ or ()
            head = [p if i < len(params) - len(defaults) else f"{p}=None"
                    for i, p in enumerate(params)]
            text = f"def {fn.__name__}({', '.join(head)}):\n" \
                   f"    return {callee}({', '.join(params)})\n"
            lines, k = text.splitlines(True), 1
            filename = f"<s2sad custom {fn.__qualname__}>"
            while filename in linecache.cache and linecache.cache[filename][2] != lines:
                k += 1  # another function of that name: keep its text
                filename = f"<s2sad custom {fn.__qualname__} ({k})>"
            linecache.cache[filename] = (len(text), None, lines, filename)
            namespace = {"__name__": fn.__module__}
            exec(compile(text, filename, "exec"), namespace)
            entry = namespace[fn.__name__]
            namespace[callee] = self
            entry.__defaults__ = fn.__defaults__
            entry.__doc__ = fn.__doc__
            _ENTRY_FILES[filename] = self
            self._entry = entry
        return self._entry


_ENTRY_FILES = {}  # file name of an entry function -> its CustomDerivative


def custom_vjp(fn):
    """Decorator: ``fn`` with a derivative rule given by hand (see :mod:`s2sad.custom`).

    ::

        @s2sad.custom_vjp
        def safe_log(x):
            return np.log(np.maximum(x, 1e-300))

        @safe_log.defvjp
        def safe_log_vjp(g, ans, x):     # adjoint of the output, the output, the arguments
            return g / x                 # one adjoint per parameter (a tuple when several)

        @safe_log.defjvp
        def safe_log_jvp(x, x_dot):      # the arguments, then their tangents
            return x_dot / x             # the output's tangent

    ``safe_log(x)`` still just runs the function.
    """
    return CustomDerivative(fn)


def custom_jvp(fn):
    """Decorator: the same as :func:`custom_vjp`; register rules with ``.defjvp``/``.defvjp``."""
    return CustomDerivative(fn)


def _check_primal(fn):
    import types
    if not isinstance(fn, types.FunctionType):
        raise UsageError(f"s2sad.custom_vjp wraps a Python function; got {type(fn).__name__} "
                         f"{fn!r}", hint="Wrap it in one: def erf(x): return scipy.special.erf(x)"
                                         ", decorated with @s2sad.custom_vjp.")
    kinds = {p.kind for p in inspect.signature(fn).parameters.values()}
    if kinds - {inspect.Parameter.POSITIONAL_OR_KEYWORD}:
        raise UsageError(f"{fn.__name__} has *args, **kwargs, keyword-only or positional-only "
                         f"parameters, which s2sad.custom_vjp does not support",
                         def_loc(fn), "Give the function plain parameters.")


def primitive_of(obj):
    """The primitive of a custom function (for :func:`s2sad.rules.lookup`), or None."""
    return obj.primitive() if isinstance(obj, CustomDerivative) else None


# ----------------------------------------------------------------------------
# the primitive and its code


class CustomPrimitive(Primitive):
    """A call of a :class:`CustomDerivative`: the user's rules, called by name."""

    def __init__(self, custom):
        fn = custom.__wrapped__
        params = inspect.signature(fn).parameters
        defaults = {k: p.default for k, p in params.items()
                    if p.default is not inspect.Parameter.empty}
        super().__init__(fn.__name__, tuple(params), defaults, ("custom",))
        self.custom = custom
        self.fn = fn  # how lowering binds a call (inspect.signature), as for user functions

    def rule(self, kind):
        return self.custom.vjp_rule if kind == "vjp" else self.custom.jvp_rule

    def declare(self, emitter):
        """The name generated code calls the function by (imported or bound)."""
        return declare(emitter, self.custom, self.name)

    def note(self, kind):
        """The comment above a rule's statements: ``f: user rule f_vjp (mymodule.py:12)``."""
        rule = self.rule(kind)
        loc = def_loc(rule)
        where = f" ({os.path.basename(loc.filename)}:{loc.line})" if loc else ""
        return f"{self.name}: user rule {getattr(rule, '__name__', kind)}{where}"

    def check(self, kind, stmt):
        """Raise a located error if the rule for ``kind`` ("vjp" or "jvp") is missing."""
        if self.rule(kind) is not None:
            return
        mode, uses = _MODES[kind]
        other = "jvp" if kind == "vjp" else "vjp"
        has = f"has a {_MODES[other][0]}-mode rule ({getattr(self.rule(other), '__name__', '')}) " \
              f"but" if self.rule(other) is not None else "has"
        signature = ("g, ans, " if kind == "vjp" else "") + ", ".join(self.params) + \
            ("" if kind == "vjp" else ", " + ", ".join(f"{p}_dot" for p in self.params))
        returns = "the adjoint of each argument" if kind == "vjp" else "the output's tangent"
        loc = stmt.loc
        if loc.filename in _ENTRY_FILES:
            loc = def_loc(self.fn) or loc
        where = " (hvp and hessian differentiate the generated gradient code in forward mode)" \
            if kind == "jvp" and loc.filename.startswith("<s2sad") else ""
        raise NoDerivativeError(
            f"{self.name} {has} no {mode}-mode rule, which {mode} mode ({uses}) needs here{where}",
            loc, f"Register one: @{self.name}.def{kind} on def {self.name}_{kind}({signature}) "
                 f"returning {returns} (see the README, 'Custom derivative rules').")


def declare(emitter, obj, preferred):
    """The name generated code calls ``obj`` by, recorded in ``emitter``.

    An object its module exports under its own name is imported
    (``emitter.imports``: name -> (module, attribute, object)); any other
    object is a binding the in-memory API supplies (``emitter.bindings``).
    """
    from .support import HELPERS
    base = preferred if preferred.isidentifier() and not keyword.iskeyword(preferred) else "rule"
    if base in HELPERS:
        base += "_"
    source = _import_source(obj)
    candidate, k = base, 1
    while True:
        entry = emitter.imports.get(candidate)
        if entry is not None and entry[2] is obj:
            return candidate
        bound = emitter.bindings.get(candidate, _MISSING)
        if bound is obj:
            return candidate
        if entry is None and bound is _MISSING and candidate not in emitter.constants:
            break
        k += 1
        candidate = f"{base}_{k}"
    if source is not None:
        emitter.imports[candidate] = source + (obj,)
    else:
        emitter.bindings[candidate] = obj
    return candidate


_MISSING = object()


def _import_source(obj):
    """``(module, attribute)`` if ``from module import attribute`` gives ``obj``; else None."""
    module_name, attr = getattr(obj, "__module__", None), getattr(obj, "__name__", None)
    if not module_name or not attr or not attr.isidentifier():
        return None
    module = sys.modules.get(module_name)
    if module is None or getattr(module, attr, None) is not obj:
        return None
    return IMPORT_NAMES.get(module_name, module_name), attr


def _call(fn_name, args):
    return gast.Call(func=gast.Name(id=fn_name, ctx=gast.Load(), annotation=None,
                                    type_comment=None), args=list(args), keywords=[])


def backward(rev, stmt, z, g, ans):
    """Reverse mode: ``x_bar = f_vjp(g, ans, x)`` (or unpacking, with several parameters).

    ``rev`` is the :class:`s2sad.reverse._Reverse` building the backward sweep;
    ``z`` names the result (a stem for temporaries), ``g`` is its adjoint and
    ``ans`` its value (tuples of them for an unpacked result).
    """
    from .analysis import unique_name
    from .emit import _copy, assign, comment, name
    prim = stmt.prim
    prim.check("vjp", stmt)
    active = [i for i, op in enumerate(stmt.args) if rev.is_active(op)]
    if not active:
        return []
    rule = declare(rev.emitter, prim.rule("vjp"), prim.rule("vjp").__name__
                   if _named(prim.rule("vjp")) else f"{prim.name}_vjp")
    value = _call(rule, [_copy(g), _copy(ans)] + [rev.emitter.operand(a) for a in stmt.args])
    out = [comment(prim.note("vjp"), rev.comments)]
    if len(stmt.args) == 1:
        return out + rev.adjoints.add(stmt.args[0].name, value)
    targets, later, seen = [], [], set()
    for i, op in enumerate(stmt.args):
        if i not in active:
            targets.append("_")
            continue
        if rev.adjoints.read(op.name) is None and op.name not in seen:
            target = rev.adjoints.adjoint_name(op.name)  # the first contribution: assign
            rev.adjoints.value[op.name] = name(target)
            rev.adjoints.owned.discard(op.name)  # the rule's result may alias its inputs
        else:
            target = unique_name(f"{z}_{prim.params[i]}_bar", rev._taken)
            later.append((op.name, target))
        seen.add(op.name)
        targets.append(target)
    out.append(assign(gast.Tuple(elts=[name(t, store=True) for t in targets], ctx=gast.Store()),
                      value))
    for var, temp in later:
        out += rev.adjoints.add(var, name(temp))
    return out


def forward(fwd, stmt):
    """Forward mode: ``z_dot = f_jvp(x, y, x_dot, y_dot)``, zeros for a constant's tangent.

    ``fwd`` is the :class:`s2sad.forward._Forward` building the tangent code.
    """
    from .analysis import unique_name
    from .emit import assign, call, comment, literal, name
    from .reverse import unpacking_error
    prim = stmt.prim
    prim.check("jvp", stmt)
    if len(stmt.targets) != 1 and fwd.vector:
        raise unpacking_error(stmt)
    rule = declare(fwd.emitter, prim.rule("jvp"), prim.rule("jvp").__name__
                   if _named(prim.rule("jvp")) else f"{prim.name}_jvp")
    args = [fwd.emitter.operand(a) for a in stmt.args]
    dots = [fwd.tangent(op) for op in stmt.args]
    zeros = [_zero_tangent(op, fwd.emitter.operand(op), call, literal) for op in stmt.args]
    if not fwd.vector:
        value = _call(rule, args + [d if d is not None else z for d, z in zip(dots, zeros)])
    else:  # one direction at a time: np.stack([f_jvp(x, t) for t in x_dot])
        live = [i for i, d in enumerate(dots) if d is not None]
        names = {i: unique_name("t", fwd._taken) for i in live}
        value_one = _call(rule, args + [name(names[i]) if i in names else z
                                        for i, z in enumerate(zeros)])
        if len(live) == 1:
            target, source = name(names[live[0]], store=True), dots[live[0]]
        else:
            target = gast.Tuple(elts=[name(names[i], store=True) for i in live], ctx=gast.Store())
            source = call("zip", [dots[i] for i in live])
        loop = gast.comprehension(target=target, iter=source, ifs=[], is_async=0)
        value = call("np.stack", [gast.ListComp(elt=value_one, generators=[loop])])
    return [comment(prim.note("jvp"), fwd.comments), assign(fwd.result_tangent(stmt), value)]


def _named(rule):
    name_ = getattr(rule, "__name__", "")
    return name_.isidentifier() and not keyword.iskeyword(name_)


def _zero_tangent(op, expr, call, literal):
    """The tangent a rule gets for an argument no derivative flows into."""
    if isinstance(op, Var):
        return call("np.zeros_like", [expr])
    value = op.value if isinstance(op, Const) else None
    import numbers

    import numpy as np
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return literal(0.0)
    if isinstance(value, np.ndarray):
        return call("np.zeros_like", [expr])
    return literal(None)


def registration_hint(spelling, n_args):
    """How to give ``spelling`` (a function s2sad has no rule for) a rule, in one line."""
    short = spelling.split(".")[-1].strip("_") or "f"
    short = short if short.isidentifier() and not keyword.iskeyword(short) else "f"
    if short == spelling:
        short = f"custom_{short}"
    params = ", ".join((["x", "y", "z", "w"] if n_args <= 4 else
                        [f"x{i}" for i in range(n_args)])[:max(n_args, 1)])
    return (f"Give it a rule: @s2sad.custom_vjp on def {short}({params}): return "
            f"{spelling}({params}), then @{short}.defvjp (and @{short}.defjvp for forward "
            f"mode) on its derivative, and call {short} here (README: 'Custom derivative rules').")
