"""Reverse mode: an SSA function becomes a gast function computing its adjoints.

The generated function has two parts:

* the **forward sweep**: the primal statements, minus those neither the
  output nor the backward sweep reads (dead-code elimination);
* the **backward sweep**: the statements in reverse order; for each active
  statement ``z = f(x, y)`` the rule table's templates give the contribution
  of ``z_bar`` to ``x_bar`` and ``y_bar``.

Adjoints follow the "symbolic zero, first write assigns" discipline of
:class:`Adjoints`: an adjoint nobody has touched is not an array of zeros; its
first contribution assigns it, later ones add to it (in place only when the
adjoint is an array the sweep created itself, never an alias of another
adjoint). The seed of ``grad`` is the constant 1, which the simplifier folds
away, so ``x_bar = 1.0 * v1 / x`` is written ``x_bar = v1 / x``.

``kind`` is ``"grad"`` (seed 1, returns the adjoints), ``"value_and_grad"``
(seed 1, returns the value too) or ``"vjp"`` (seed ``out_bar``). Calls of the
user's own functions become calls of their generated ``vjp_<name>``;
:func:`reverse_function` reports them in ``requests`` so the module builder
generates each once.
"""

import gast

from . import analysis
from .emit import assign, call, comment, name
from .errors import NoDerivativeError
from .ir import Assign, Const, Index, Return, Var
from .lower import ExternalFunction, UserFunction
from .rules import RuleNotApplicable
from .simplify import number, simplify


class Adjoints:
    """The adjoint of each variable during the backward sweep.

    A variable's adjoint is absent (a symbolic zero), a pending number literal
    (no statement written yet), or an expression (usually the name ``x_bar``).
    """

    def __init__(self, adjoint_name):
        self.adjoint_name = adjoint_name
        self.value = {}  # var name -> gast expr
        self.owned = set()  # var names whose adjoint array this sweep created and may update

    def read(self, var):
        return self.value.get(var)

    def seed(self, var, expr):
        self.value[var] = expr

    def add(self, var, contribution):
        """Statements that add ``contribution`` to the adjoint of ``var``."""
        current = self.value.get(var)
        target = self.adjoint_name(var)
        if current is None and number(contribution) is not None:
            self.value[var] = contribution
            return []
        if current is None:
            self.value[var] = name(target)
            if isinstance(contribution, (gast.BinOp, gast.UnaryOp)):
                self.owned.add(var)
            return [assign(target, contribution)]
        if var in self.owned:
            return [gast.AugAssign(target=name(target, store=True), op=gast.Add(),
                                   value=contribution)]
        self.value[var] = name(target)
        self.owned.add(var)
        return [assign(target, simplify(gast.BinOp(left=current, op=gast.Add(),
                                                   right=contribution)))]


def adjoint_namer(fn):
    taken = {p.name for p in fn.params}
    for stmt in fn.body:
        if isinstance(stmt, Assign):
            taken.update(t.name for t in stmt.targets)

    def adjoint_name(var):
        candidate = f"{var}_bar"
        while candidate in taken:
            candidate += "_"
        return candidate

    return adjoint_name


def reverse_function(fn, wrt, kind, emitter, requests, func_name):
    """The gast FunctionDef of the ``kind`` derivative of ``fn`` w.r.t. params ``wrt``."""
    wrt_names = [fn.params[i].name for i in wrt]
    active = analysis.activity(fn, wrt_names)
    scalars = analysis.ShapeClasses(fn, output_is_scalar=kind != "vjp")
    adjoint_name = adjoint_namer(fn)
    adjoints = Adjoints(adjoint_name)
    comments = emitter.comments
    out = fn.output

    # --- backward sweep (built first: the forward sweep keeps what it reads) ----
    if isinstance(out, Var) and out.name in active:
        adjoints.seed(out.name, gast.Constant(value=1.0, kind=None) if kind != "vjp"
                      else name("out_bar"))
    backward, last_line = [], None
    for stmt in reversed(fn.body):
        if not isinstance(stmt, Assign) or not any(t.name in active for t in stmt.targets):
            continue
        statements = _backward_assign(stmt, active, scalars, adjoints, emitter, requests)
        if statements:
            if stmt.loc.line != last_line:
                backward.append(comment(f"line {stmt.loc.line}: {stmt.loc.text.strip()}", comments))
                last_line = stmt.loc.line
            backward += statements
    results = []
    for param in wrt_names:
        value = adjoints.read(param) if param in active else None
        results.append(value if value is not None else call("np.zeros_like", [name(param)]))
    grads = results[0] if len(results) == 1 else gast.Tuple(elts=results, ctx=gast.Load())
    out_expr = emitter.operand(out)
    if kind == "vjp":
        returned = grads
    elif kind == "grad":
        returned = grads
    else:
        returned = gast.Tuple(elts=[out_expr, grads], ctx=gast.Load())

    guard = []
    if kind != "vjp" and isinstance(out, Var):
        guard = [_scalar_guard(out, fn.name, func_name)]

    # --- forward sweep: only what the output, the guard and the backward sweep read ----
    needed = _names_read(backward + guard + [gast.Return(value=returned)])
    forward = []
    for stmt in reversed(fn.body):
        if isinstance(stmt, Return):
            continue
        keep = any(t.name in needed for t in stmt.targets) or isinstance(stmt.prim, ExternalFunction) \
            and stmt.prim.name == "print"
        if keep:
            forward.append(stmt)
            needed.update(v.name for v in stmt.operands() if isinstance(v, Var))
    forward.reverse()
    forward_stmts, last_line = [], None
    for stmt in forward:
        if stmt.loc.line != last_line:
            forward_stmts.append(comment(f"line {stmt.loc.line}: {stmt.loc.text.strip()}", comments))
            last_line = stmt.loc.line
        forward_stmts.append(emitter.statement(stmt))

    body = []
    if forward_stmts:
        body += [comment("forward sweep", comments)] + forward_stmts
    body += guard
    if backward:
        body += [comment("backward sweep", comments)] + backward
    body.append(gast.Return(value=returned))
    params = [p.name for p in fn.params] + (["out_bar"] if kind == "vjp" else [])
    return function_def(func_name, params, body)


def function_def(func_name, params, body, defaults=()):
    args = gast.arguments(args=[name(p, store=False) for p in params], posonlyargs=[],
                          vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                          defaults=list(defaults))
    for a in args.args:
        a.ctx = gast.Param()
    return gast.FunctionDef(name=func_name, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])


def _scalar_guard(out, fn_name, func_name):
    message = f"{fn_name} must return a scalar, not shape %s; use vjp_{fn_name}"
    test = gast.Compare(left=call("np.ndim", [name(out.name)]), ops=[gast.NotEq()],
                        comparators=[gast.Constant(value=0, kind=None)])
    error = call("ValueError", [gast.BinOp(left=gast.Constant(value=message, kind=None),
                                           op=gast.Mod(),
                                           right=gast.Tuple(elts=[call("np.shape", [name(out.name)])],
                                                            ctx=gast.Load()))])
    return gast.If(test=test, body=[gast.Raise(exc=error, cause=None)], orelse=[])


def _names_read(stmts):
    out = set()
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                out.add(node.id)
    return out


def _is_active(op, active):
    return isinstance(op, Var) and op.name in active


def _backward_assign(stmt, active, scalars, adjoints, emitter, requests):
    """The adjoint statements of one primal assignment."""
    if len(stmt.targets) != 1:
        raise NoDerivativeError(f"s2sad cannot differentiate through unpacking the result of "
                                f"{stmt.prim.name} yet", stmt.loc,
                                "Unpack constants only, or restructure the code.")
    z = stmt.target.name
    g = adjoints.read(z)
    if g is None:
        return []
    prim = stmt.prim
    if isinstance(prim, UserFunction):
        return _backward_call(stmt, g, active, adjoints, emitter, requests)
    if isinstance(prim, ExternalFunction) or (prim.varargs and not prim.vjp):
        what = f"{prim.name}()" if isinstance(prim, ExternalFunction) else f"a {prim.name} literal"
        raise NoDerivativeError(
            f"s2sad has no derivative rule for {what}, and it is applied to a differentiated value",
            stmt.loc, "Rewrite this with functions s2sad supports (run `s2sad rules` for the "
                      "list), or make sure only constants reach it.")
    bound = prim.bind(stmt.args, stmt.kwargs)
    env = {"g": g, "ans": name(z)}
    for param, op in bound.items():
        env[param] = emitter.operand(op)
    out = []
    targets = [(param, op) for param, op in bound.items() if _is_active(op, active)]
    if not targets:
        return []
    for key, template in prim.shared.items():
        temp = f"{z}_{key}"
        out.append(assign(temp, simplify(template.instantiate(env))))
        env[key] = name(temp)
    for param, op in targets:
        try:
            template = prim.vjp_template(param, bound)
        except KeyError:
            raise NoDerivativeError(f"s2sad has no derivative rule for argument {param!r} of "
                                    f"{prim.name}", stmt.loc,
                                    "Pass a constant for that argument.") from None
        except RuleNotApplicable as exc:
            raise NoDerivativeError(str(exc), stmt.loc, "Rewrite the call.") from None
        if template is None:
            continue
        contribution = simplify(template.instantiate(env))
        contribution = _drop_unbroadcast(contribution, stmt, op, scalars)
        out += adjoints.add(op.name, contribution)
    return out


def _drop_unbroadcast(expr, stmt, operand, scalars):
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
            and expr.func.id == "unbroadcast":
        if number(expr.args[0]) is not None or scalars.same_shape_as_result(stmt, operand):
            return expr.args[0]
    return expr


def _backward_call(stmt, g, active, adjoints, emitter, requests):
    prim = stmt.prim
    positions = [i for i, op in enumerate(stmt.args) if _is_active(op, active)]
    if not positions:
        return []
    vjp_name = requests.request(prim.fn, tuple(positions))
    args = [emitter.operand(a) for a in stmt.args] + [g]
    value = call(name(vjp_name), args)
    if len(positions) == 1:
        return adjoints.add(stmt.args[positions[0]].name, value)
    temps = [f"{stmt.target.name}_{prim.params[i]}_bar" for i in positions]
    out = [assign(gast.Tuple(elts=[name(t, store=True) for t in temps], ctx=gast.Store()), value)]
    for i, temp in zip(positions, temps):
        out += adjoints.add(stmt.args[i].name, name(temp))
    return out
