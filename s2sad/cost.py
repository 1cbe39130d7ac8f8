"""Cost reports: what ``f``, its gradient and its Jacobian cost, per SSA statement.

``s2sad.cost(f, *args, wrt=0)`` runs ``f``'s trace (:mod:`s2sad.trace`) for the
shapes of every value each statement reads and writes (a loop's statements once
per trip), and counts, per SSA statement and in total:

* **operations** (the lecture's unit: one ``+``, ``*``, ``exp``, ``sqrt`` on one
  entry is one operation; a product of an (m, k) and a (k, n) array is m·k·n
  multiply-adds, counted one each; a reduction costs one per entry it reads; copies,
  indexing, reshapes and comparisons of shapes cost none);
* **memory traffic**: the bytes of the operands read plus the result written (no
  model of caches);
* of ``f``; of reverse mode's **forward sweep** (``f``'s statements again) and the
  **tape**, the values it keeps for the backward sweep (those the statements'
  adjoint rules read, parameters aside: they stay available); of the **backward
  sweep**: each active statement's adjoint rules from the rule tables
  (:mod:`s2sad.rules`), instantiated on the statement and simplified as the
  generated code is (:func:`s2sad.simplify.simplify`; the seed 1 of the output
  folded in), plus one addition per entry for each contribution to an adjoint that
  already has one (a value used twice); and of forward mode's **tangent** code;
* the **full Jacobian** of the ``m`` outputs in the ``n`` inputs: forward mode
  ``n`` sweeps of f + tangent, reverse mode ``m`` sweeps of both sweeps, and the mode
  ``s2sad.jacobian(mode="auto")`` picks (:func:`s2sad.higher.auto_mode`), with why;
* the predicted gradient/f ratio (both sweeps over f), beside the cheap-gradient
  bound of the textbook (Griewank and Walther, *Evaluating Derivatives*: a gradient
  costs at most about 4 evaluations of f, however many inputs).

With ``measure=True`` the report also times ``f`` and its gradient (the generated
code, ``timeit``) on this machine, beside the prediction, so one sees where the
model and the machine differ (NumPy's per-call overhead dominates small arrays).

These are predictions from a model, not measurements; the counts of the
lecture function and of a matrix chain are checked against hand counts in
tests/test_cost.py. A helper the function calls is costed by the same rules,
inside its body.

Layer 9, beside the API: reads the SSA form, the rule tables and traces.
"""

import timeit

import gast
import numpy as np

from . import cache
from .analysis import ShapeClasses, activity
from .arguments import call_with, split_values
from .astutil import walk
from .higher import auto_mode
from .ir import Assign, Const, If, Var, walk_blocks
from .parse import unwrap
from .rules.core import Primitive, rule_name
from .simplify import constant, simplify
from .structural import UserCall
from .table import Rendered, Table
from .tape_model import Kept, loop_models, loop_tapes, model_note, value_bytes as _bytes
from .template_reads import (is_one as _is_one, shapes_read as _shapes_read,
                             stanza_says as _stanza_says, values_read as _values_read)
from .trace import ones_seed, trace

CHEAP_GRADIENT_BOUND = 4.0


def _size(value):
    """Entries of a value: an array's size, 1 for a number, the sum over a tuple or list."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, (tuple, list)):
        return sum(_size(v) for v in value)
    return 1


def _product_flops(values, result):
    """m·k·n for a product of arrays (an (m, k) by (k, n) product; k the contracted length)."""
    first = values[0] if values else None
    k = np.shape(first)[-1] if np.ndim(first) else 1
    return _size(result) * k


def _template_ops(tree):
    """Operations in an instantiated, simplified template: arithmetic and NumPy functions."""
    ops = 0
    for node in walk(tree):
        if isinstance(node, (gast.BinOp, gast.Compare)) or \
                isinstance(node, gast.UnaryOp) and not isinstance(node.op, gast.UAdd):
            ops += 1
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
                isinstance(node.func.value, gast.Name) and node.func.value.id == "np" and \
                not _stanza_says(node.func.attr, "free", "shape_only"):
            ops += 1
    return ops


def _operand_expr(op):
    if isinstance(op, Var):
        return gast.Name(id=op.name, ctx=gast.Load(), annotation=None, type_comment=None)
    if isinstance(op, Const) and isinstance(op.value, (int, float)) and \
            not isinstance(op.value, bool):
        return constant(op.value)
    return gast.Name(id=str(op), ctx=gast.Load(), annotation=None, type_comment=None)


class Line:
    """The costs of one SSA statement, summed over the trips that ran it."""

    def __init__(self, stmt, ir=None):
        self.stmt, self.ir = stmt, ir  # (ir: the function's SSA form the statement is in)
        self.trips = 0
        self.f_flops = self.f_bytes = 0
        self.backward_flops = self.backward_bytes = 0
        self.tangent_flops = 0
        self.tape_bytes = 0
        self.argument_bytes = 0  # the parameters the adjoint rules read (a helper keeps them)
        self.shape_bytes = 0  # values the adjoint rules read for their shapes only
        self.kept = []  # (name, bytes, for its shape only) of each value counted above


class CostReport(Rendered):
    """Predicted costs of ``f``, its sweeps and its Jacobian (see the module's docstring).

    Totals are attributes (``f_flops``, ``forward_flops``, ``backward_flops``,
    ``tangent_flops``, ``tape_bytes``, ``jacobian_forward``, ``jacobian_reverse``,
    ``auto_mode``, ``ratio``...); ``lines`` holds one :class:`Line` per SSA statement.
    """

    def __init__(self, name, lines, n, m, wrt, loops=()):
        self.name, self.lines, self.n, self.m, self.wrt = name, lines, n, m, wrt
        self.loops = list(loops)  # (source line, trips, bytes on the tape) of each loop
        total = lambda attr: sum(getattr(line, attr) for line in lines)  # noqa: E731
        self.f_flops, self.f_bytes = total("f_flops"), total("f_bytes")
        self.forward_flops, self.forward_bytes = self.f_flops, self.f_bytes
        self.backward_flops, self.backward_bytes = total("backward_flops"), \
            total("backward_bytes")
        self.tangent_flops, self.tape_bytes = total("tangent_flops"), total("tape_bytes")
        self.argument_bytes = total("argument_bytes")
        self.loop_tapes = {}  # source line of a loop -> the model's tape bytes of its body
        self.gradient_flops = self.forward_flops + self.backward_flops
        self.ratio = self.gradient_flops / self.f_flops if self.f_flops else float("nan")
        self.jacobian_forward = n * (self.f_flops + self.tangent_flops)
        self.jacobian_reverse = m * self.gradient_flops
        self.auto_mode = auto_mode(n, m)
        self.auto_reason = (f"n = {n} input entries < m = {m} output entries" if
                            self.auto_mode == "forward" else
                            f"n = {n} input entries >= m = {m} output entries")
        self.f_seconds = self.gradient_seconds = None  # set by cost(..., measure=True)

    def table(self):
        headers = ["line", "SSA statement", "trips", "f ops", "f bytes", "backward ops",
                   "backward bytes", "tape bytes", "tangent ops"]
        rows = [[str(line.stmt.loc.statement_line), _text(line.stmt), line.trips, line.f_flops,
                 line.f_bytes, line.backward_flops, line.backward_bytes, line.tape_bytes,
                 line.tangent_flops] for line in self.lines]
        rows.append(["", "total", "", self.f_flops, self.f_bytes, self.backward_flops,
                     self.backward_bytes, self.tape_bytes, self.tangent_flops])
        wrt = ", ".join(self.wrt)
        better = "forward" if self.jacobian_forward < self.jacobian_reverse else "reverse"
        notes = [
            f"f: {self.f_flops} operations, {self.f_bytes} bytes moved.",
            f"gradient (reverse mode, with respect to {wrt}): forward sweep {self.forward_flops} "
            f"+ backward sweep {self.backward_flops} = {self.gradient_flops} operations; "
            f"the tape keeps {self.tape_bytes} bytes.",
            f"gradient / f = {self.ratio:.3g} (cheap-gradient bound: "
            f"{CHEAP_GRADIENT_BOUND:g}).",
            f"full Jacobian ({self.m} x {self.n}): forward mode {_sweeps(self.n)} x "
            f"({self.f_flops} + {self.tangent_flops}) = {self.jacobian_forward} operations; "
            f"reverse mode {_sweeps(self.m)} x {self.gradient_flops} = {self.jacobian_reverse} "
            f"operations; the cheaper is {better}.",
            f"jacobian(mode=\"auto\") picks {self.auto_mode}: {self.auto_reason}.",
        ]
        notes[2:2] = [f"measured: the loop at line {line} pushes {kept} bytes on the gradient's "
                      f"tape in {trips} trips, {kept / trips:.4g} bytes a trip"
                      f"{model_note(self.loop_tapes.get(line), kept)}."
                      for line, trips, kept in self.loops if trips]
        lines = [line.stmt.loc.statement_line for line in self.lines] + [None]
        if self.f_seconds is not None:
            notes.append(f"measured on this machine: f {_time(self.f_seconds)}, gradient "
                         f"{_time(self.gradient_seconds)}: gradient / f = "
                         f"{self.gradient_seconds / self.f_seconds:.3g} (predicted "
                         f"{self.ratio:.3g}).")
        return Table(f"Cost of {self.name} (operations and bytes, predicted)", headers, rows,
                     notes, lines)

    def render(self, fmt="text"):
        return self.table().render(fmt)


def _time(seconds):
    return f"{seconds * 1e6:.3g} us" if seconds < 1e-3 else f"{seconds * 1e3:.3g} ms"


def _seconds(call):
    """The best time of ``call`` over a few repetitions of an automatically sized loop."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(3, number)) / number


def _sweeps(k):
    return f"{k} sweep" + ("" if k == 1 else "s")


def _text(stmt):
    targets = ", ".join(str(t) for t in stmt.targets)
    args = ", ".join([str(a) for a in stmt.args] + [f"{k}={v}" for k, v in stmt.kwargs.items()])
    return f"{targets} = {stmt.prim.name}({args})" if targets else f"{stmt.prim.name}({args})"


@cache.at_bound_values
def cost(f, *args, wrt=cache.DEFAULT_WRT, measure=False, **kwargs):
    """The :class:`CostReport` of ``f`` at ``args`` (only their shapes, and the branches and
    trip counts they lead to, matter), differentiated with respect to ``wrt`` (default: the
    first parameter, as :func:`s2sad.grad`); ``measure=True`` adds the times of f and its gradient."""
    fn = unwrap(f)
    values = cache.bind(fn, args, kwargs)
    seed = ones_seed(fn, values)  # an array output: the sweep of a VJP
    positional, keywords = split_values(fn, values)  # (keyword-only values by name)
    t = trace(fn, *positional, wrt=wrt, out_bar=seed, **keywords)
    params = cache.parameters(fn)
    lines = _costs(fn, t, dict(zip(params, values)))
    n = int(sum(_size(v) for v, name in zip(values, params) if name in t.wrt))
    report = CostReport(fn.__name__, lines, n, _size(t.value), t.wrt, loop_tapes(t))
    report.loop_tapes = loop_models(lines)
    if measure:
        positions = tuple(params.index(name) for name in t.wrt)
        namespace, generated = cache.compiled(fn, "reverse", positions, values=values)
        if seed is None:
            gradient = namespace[generated.entry_points["grad"]]
            report.gradient_seconds = _seconds(lambda: gradient(*values))
        else:
            product = namespace[generated.entry_points["vjp"]]
            report.gradient_seconds = _seconds(lambda: product(*values, seed))
        report.f_seconds = _seconds(lambda: call_with(fn, fn, values))
    return report


def _costs(fn, t, arguments):
    """The :class:`Line` of each statement of ``fn`` that ran in the trace ``t``."""
    ir = cache.lowered_for(fn, list(arguments.values()))
    active = activity(ir, set(t.wrt))
    assigns = [s for s in walk_blocks(ir.body) if isinstance(s, Assign)]
    defining = {target.name: s for s in assigns for target in s.targets}
    lines = {id(s): Line(s, ir) for s in assigns}
    current = dict(arguments)
    runs = []  # (stmt, operand values, result) in execution order
    for row in t.rows:
        if row.kind != "value" or row.sweep != "forward":
            continue
        current[row.name] = row.value
        stmt = defining.get(row.name)
        if stmt is None or stmt.targets[0].name != row.name:
            continue
        values = [current.get(a.name) if isinstance(a, Var) else
                  a.value if isinstance(a, Const) else None for a in stmt.args]
        runs.append((stmt, values, row.value, dict(current)))
    output = ir.output.name if isinstance(ir.output, Var) else None
    for stmt, values, result, _ in runs:
        line = lines[id(stmt)]
        line.trips += 1
        flops, moved = _primal(stmt, values, result, active)
        line.f_flops += flops
        line.f_bytes += moved
        if any(t.name in active for t in stmt.targets):
            line.tangent_flops += _tangent(stmt, values, result, active)
    # which branch ran: the backward sweep reads each condition's operands again
    conditions = {s.cond.name for s in walk_blocks(ir.body)
                  if isinstance(s, If) and isinstance(s.cond, Var)}
    touched, ones = {output}, {output}  # ones: adjoints that are the seed 1
    kept = Kept(ir)
    known = ShapeClasses(ir, output_is_scalar=np.ndim(t.value) == 0)
    for stmt, values, result, env in reversed(runs):
        line = lines[id(stmt)]
        if stmt.targets[0].name in conditions:
            kept.read(line, {a.name for a in stmt.args if isinstance(a, Var)}, (), env)
        elif any(t.name in active for t in stmt.targets):
            flops, moved, reads, shapes = _backward(stmt, values, result, active, touched,
                                                    ones, known.same_shape_as_result)
            line.backward_flops += flops
            line.backward_bytes += moved
            if isinstance(stmt, UserCall):  # the helper's residuals
                residuals = _helper(stmt, values, "tape_bytes", active) + \
                    _helper(stmt, values, "argument_bytes", active)
                line.tape_bytes += residuals
                line.kept.append((stmt.targets[0].name, residuals, False))
                reads = set()
            kept.read(line, reads, shapes, env)
    kept.finish(lines.values())
    return [line for line in lines.values() if line.trips]


def _primal(stmt, values, result, active):
    prim = stmt.prim
    moved = sum(_bytes(v) for a, v in zip(stmt.args, values) if isinstance(a, Var)) + \
        _bytes(result)  # constants are part of the code, not memory read
    if isinstance(stmt, UserCall):
        return _helper(stmt, values, "f_flops", active), moved
    if rule_name(prim) and prim.contraction:  # a sum of products
        return _product_flops(values, result), moved
    if prim.reduction:
        return _size(values[0] if values else result), moved
    if prim.emit[0] == "copy":
        return 0, moved
    if prim.elementwise or prim.emit[0] in ("binop", "unary", "compare"):
        return max([_size(result)] + [_size(v) for v in values if isinstance(v, np.ndarray)]), \
            moved
    return 0, moved if prim.emit[0] not in ("tuple", "list") else 0


def _helper(stmt, values, attr, active):
    """``attr`` of the cost report of the user's helper ``stmt`` calls, differentiated with
    respect to its active operands (the first parameter when none is)."""
    wrt = tuple(i for i, a in enumerate(stmt.args) if isinstance(a, Var) and a.name in active)
    try:
        report = cost(stmt.prim.fn, *values, wrt=wrt or cache.DEFAULT_WRT)
    except Exception:  # a helper on integers only (nothing to differentiate) costs as f
        return 0
    return getattr(report, attr)


def _scale(values, result):
    return max([_size(result)] + [_size(v) for v in values if isinstance(v, np.ndarray)])


def _rules(stmt, kind, active):
    """``[(param, operand, instantiated simplified template or None)]`` for active operands."""
    prim = stmt.prim
    if not isinstance(prim, Primitive) or isinstance(stmt, UserCall) or \
            not prim.differentiable:
        return []
    try:
        bound = prim.bind(stmt.args, stmt.kwargs)
    except TypeError:
        return []
    out = []
    for param, op in bound.items():
        if not (isinstance(op, Var) and op.name in active):
            continue
        try:
            template = prim.vjp_template(param, bound) if kind == "vjp" else \
                prim.jvp_template(param, bound)
        except Exception:  # no rule for this operand (s2sad would refuse it anyway)
            continue
        out.append((param, op, template, bound))
    return out


def _instantiate(template, bound, stmt, seed):
    env = {name: _operand_expr(op) for name, op in bound.items()}
    env["ans"] = _operand_expr(stmt.targets[0])
    env["g"] = constant(1.0) if seed else gast.Name(id="g", ctx=gast.Load(), annotation=None,
                                                    type_comment=None)
    for name in list(bound):
        env[f"{name}_dot"] = gast.Name(id=f"{name}_dot", ctx=gast.Load(), annotation=None,
                                       type_comment=None)
    return simplify(template.instantiate(env))


def _tangent(stmt, values, result, active):
    if isinstance(stmt, UserCall):
        return _helper(stmt, values, "tangent_flops", active)
    rules = [r for r in _rules(stmt, "jvp", active) if r[2] is not None]
    if rule_name(stmt.prim) and stmt.prim.contraction:
        return len(rules) * _product_flops(values, result) + \
            max(len(rules) - 1, 0) * _size(result)
    ops = sum(_template_ops(_instantiate(tpl, bound, stmt, False)) for _, _, tpl, bound in rules)
    return (ops + max(len(rules) - 1, 0)) * _scale(values, result)


def _backward(stmt, values, result, active, touched, ones, same_shape=lambda stmt, op: False):
    """Operations, bytes, names read and names read for their shapes only by ``stmt``'s
    adjoint rules; updates ``touched`` (adjoints with a contribution) and ``ones`` (adjoints
    that are exactly the seed 1). ``same_shape(stmt, op)``: ``op`` is known to have the
    result's shape (:class:`s2sad.analysis.ShapeClasses`)."""
    if isinstance(stmt, UserCall):
        flops = _helper(stmt, values, "backward_flops", active)
        reads = {a.name for a in stmt.args if isinstance(a, Var)}
        for a in stmt.args:
            if isinstance(a, Var) and a.name in active:
                touched.add(a.name)
                ones.discard(a.name)
        return flops, sum(_bytes(v) for v in values) + _bytes(result), reads, set()
    flops, moved, reads, shapes = 0, 0, set(), set()
    value_of = {a.name: v for a, v in zip(stmt.args, values) if isinstance(a, Var)}
    seeded = stmt.targets[0].name in ones
    for param, op, template, bound in _rules(stmt, "vjp", active):
        if template is None:
            continue
        one = False
        if rule_name(stmt.prim) and stmt.prim.contraction:
            flops += _product_flops(values, result)
            names = {a.name for a in stmt.args if isinstance(a, Var) and a.name != op.name}
        else:
            tree = _instantiate(template, bound, stmt, seeded)
            flops += _template_ops(tree) * _scale(values, result)
            names = _values_read(tree)
            one = _is_one(tree)
        names = {n for n in names if n in value_of or n == stmt.targets[0].name}
        reads |= names
        if not (rule_name(stmt.prim) and stmt.prim.contraction):  # (the generated code drops
            shapes.update(n for n in _shapes_read(tree) if n in value_of and  # unbroadcast to
                          not (n == op.name and same_shape(stmt, op)))  # the result's shape)
        size = _size(value_of.get(op.name))
        moved += sum(_bytes(value_of.get(n, result)) for n in names) + 8 * size
        if op.name in touched:  # a second contribution: one addition per entry
            flops += size
            moved += 16 * size
            ones.discard(op.name)
        elif one:
            ones.add(op.name)
        touched.add(op.name)
    return flops, moved, reads, shapes - reads


__all__ = ["cost", "CostReport", "Line", "CHEAP_GRADIENT_BOUND"]
