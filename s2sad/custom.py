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

Layer 2, beside the rule tables: this module holds the decorator, the rules it
holds and their checks only; the code of a call is :mod:`s2sad.custom_code`.
"""

import functools
import inspect
import keyword
import os
import sys
import types

from .errors import NoDerivativeError, UsageError
from .generated_code import load_generated
from .ir import def_loc
from .rules.core import Primitive
from .structural import CustomCall

IMPORT_NAME = "__s2sad_import_name__"  # set by the CLI on a file it imports under a private name


def import_name(module_name):
    """The name generated code imports the module ``module_name`` by: its own, or the file's
    own name for a file the CLI imported under a private name (which it records on the module
    object itself, as :data:`IMPORT_NAME`: no table of s2sad's holds it)."""
    return getattr(sys.modules.get(module_name), IMPORT_NAME, None) or module_name


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

    def _s2sad_function(self):
        """What s2sad reads for this object (:func:`s2sad.parse.unwrap`): the entry function."""
        return self.entry_function()

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
            # s2sad's own code: lowering trusts it (s2sad.generated_code.load_generated)
            namespace = load_generated(text, f"custom {fn.__qualname__}", fn.__module__)
            entry = namespace[fn.__name__]
            namespace[callee] = self
            entry.__defaults__ = fn.__defaults__
            entry.__doc__ = fn.__doc__
            self._entry = entry
        return self._entry


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

    node = CustomCall  # its statements (s2sad.structural)

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
        if loc.filename.startswith("<s2sad custom "):  # an entry function: point at the user's
            loc = def_loc(self.fn) or loc
        where = " (hvp and hessian differentiate the generated gradient code in forward mode)" \
            if kind == "jvp" and loc.filename.startswith("<s2sad") else ""
        raise NoDerivativeError(
            f"{self.name} {has} no {mode}-mode rule, which {mode} mode ({uses}) needs here{where}",
            loc, f"Register one: @{self.name}.def{kind} on def {self.name}_{kind}({signature}) "
                 f"returning {returns} (see the README, 'Custom derivative rules').")


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
