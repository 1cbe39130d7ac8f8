"""Evaluation traces: what each SSA statement computes at a point, and its derivative.

``s2sad.trace(f, *args, wrt=0, mode="reverse")`` runs the derivative code
s2sad generates for ``f`` (``value_and_grad_f``, ``vjp_f`` or ``jvp_f``, from
the cache of :mod:`s2sad.cache`), instrumented: after every assignment of its
entry function, at any depth of loops and branches, a call records the value
assigned. Each recorded name is then matched to the SSA statement defining it
(``v3`` to ``v3 = mul(z_1, 0.5)``, ``v3_bar`` and ``v3_dot`` to the same
statement), so a row of the trace is one SSA statement executed, with

* its text as the SSA listing prints it and its source line,
* the value ``v_k`` (numbers in full, arrays by shape, first entries and norm),
* in reverse mode, the adjoint ``v_k_bar`` after the update, in backward-sweep
  order: a value used twice gets a second row (``+=``) adding the second
  contribution, and an update written as a sum shows its terms
  (``a_bar = 1 + 0.204 = 1.204``); the line is the one whose rule made the update,
  and the last column the generated statement that made it;
* in forward mode, the tangent ``v_k_dot``.

A loop gives a row per trip (the trip row shows the loop variable), a branch a
row naming the branch taken (``if v2: the else branch``), then its rows. A call
of the user's own helper is one row (its value, and the adjoint the helper's
``bwd_`` function returns). Tracing the
generated code, not a second interpreter of the rules, means a trace shows
exactly what ``grad`` computes: its last adjoints are ``grad``'s result. An
adjoint the compiler keeps symbolic (the seed ``1.0``, or a copy of another
adjoint) has no assignment, so it has no row of its own; a parameter whose
gradient no row shows (``return x`` returns the seed) gets a last row with it.

Layer 9, beside the API: reads the SSA form (:mod:`s2sad.lower`) and the
compiled derivative (:mod:`s2sad.cache`), instrumented by :mod:`s2sad.instrument`.
"""

import numpy as np

from . import arguments, cache, failures
from .errors import NonScalarOutputError, UsageError
from .instrument import instrumented, snapshot
from .analysis import derived_namer
from .ir import Assign, For, If, While, def_loc, format_assign, walk_blocks
from .parse import unwrap
from .table import SECTION, Rendered, Table, summary



def statements(ir):
    """``{var name: (SSA text, source line)}`` for every variable the SSA form defines."""
    out = {p.name: (f"{p.name} (parameter)", ir.loc.line) for p in ir.params}
    for stmt in walk_blocks(ir.body):
        line = stmt.loc.statement_line
        if isinstance(stmt, Assign):
            for target in stmt.targets:
                out[target.name] = (format_assign(stmt), line)
        elif isinstance(stmt, If):
            for var, a, b in stmt.merges:
                out[var.name] = (f"{var} = phi({a}, {b})", line)
        if isinstance(stmt, (For, While)):
            for var, init, last in stmt.carried:
                out[var.name] = (f"{var} = carry({init} -> {last})", line)
        if isinstance(stmt, For):
            out[str(stmt.target)] = (f"for {stmt.target} in {stmt.iterable}", line)
    return out


def ones_seed(fn, values):
    """The seed a picture of the backward sweep uses: None (the gradient's 1) when ``fn``
    returns a number at ``values``, else ones shaped like the output (the VJP summing it)."""
    out = arguments.call_with(fn, fn, values)
    return None if np.ndim(out) == 0 else np.ones_like(out, dtype=float)


class Row:
    """One row of a trace: an SSA statement executed (or a loop trip)."""

    def __init__(self, sweep, name, statement, line, value, trips, derivative=None, op="=",
                 terms=None, code="", kind="value"):
        self.sweep, self.name, self.statement, self.line = sweep, name, statement, line
        self.value, self.trips, self.derivative, self.op = value, trips, derivative, op
        self.terms, self.code, self.kind = terms, code, kind

    def __repr__(self):
        return f"<Row {self.sweep} {self.statement!r} value={summary(self.value)} " \
               f"derivative={summary(self.derivative)}>"


class Trace(Rendered):
    """The evaluation trace of ``f`` at a point (see the module's docstring).

    ``rows`` are :class:`Row` objects in execution order; ``value`` is ``f``'s
    value and ``derivative`` the gradient (reverse mode, shaped as ``grad``'s
    result for ``wrt``) or the output tangent (forward mode). ``tape`` holds what the
    generated code pushed on its tape, ``(source line of the loop pushing it, item)``,
    and ``loop_trips`` the trips of each loop in the forward sweep, by source line.
    """

    def __init__(self, name, mode, rows, value, derivative, wrt):
        self.name, self.mode, self.rows = name, mode, rows
        self.value, self.derivative, self.wrt = value, derivative, wrt
        self.tape, self.loop_trips = [], {}

    def adjoint(self, name):
        """The last adjoint the trace recorded for variable ``name`` (reverse mode)."""
        found = [r.derivative for r in self.rows if r.name == name and r.sweep == "backward"]
        if not found:
            raise KeyError(f"the trace has no adjoint of {name!r}")
        return found[-1]

    def values(self, name):
        """Every value the trace recorded for variable ``name``, in order (one per trip)."""
        return [r.value for r in self.rows if r.name == name and r.kind == "value"]

    def table(self, max_trips=3):
        """The trace as a :class:`~s2sad.table.Table`; trips past ``max_trips`` of any loop
        are collapsed into one line (``None``: show every trip)."""
        reverse = self.mode == "reverse"
        headers = ["line", "SSA statement", "value v", "adjoint v_bar" if reverse else
                   "tangent v_dot"] + (["generated code"] if reverse else [])
        body, lines, sweep, hidden = [], [], None, 0

        def add(row, line=None):
            body.append(row)
            lines.append(line)

        def flush():
            nonlocal hidden
            if hidden:
                add((SECTION, f"... {hidden} rows of later trips "
                              f"(trace.table(max_trips=None) shows them)"))
                hidden = 0

        for row in self.rows:
            if reverse and row.sweep != sweep:
                flush()
                sweep = row.sweep
                add((SECTION, f"{sweep} sweep"))
            if max_trips is not None and any(t > max_trips for t in row.trips):
                hidden += 1
                continue
            flush()
            if row.kind == "branch":
                add((SECTION, f"{row.statement}: the {'then' if row.value else 'else'} branch"))
                continue
            if row.kind == "trip":
                value = ", ".join(f"{n} = {summary(v)}" for n, v in zip(row.name, row.value))
                add((SECTION, f"{row.statement}: trip {row.trips[-1]}"
                              + (f" ({value})" if value else "")))
                continue
            add([row.line or "", row.statement, summary(row.value), _derivative_text(row)]
                + ([row.code] if reverse else []), row.line)
        flush()
        label = ", ".join(self.wrt)
        title = (f"{'Reverse' if reverse else 'Forward'}-mode trace of {self.name} "
                 f"(derivatives with respect to {label})")
        notes = [f"{self.name} = {summary(self.value)}; "
                 + (f"gradient = {summary(self.derivative)}" if reverse
                    else f"tangent of the output = {summary(self.derivative)}")]
        return Table(title, headers, body, notes, lines)

    def render(self, fmt="text", max_trips=3):
        return self.table(max_trips).render(fmt)



def _derivative_text(row):
    if row.derivative is None and row.kind == "value" and row.sweep == "forward":
        return ""
    total = summary(row.derivative)
    if row.terms is not None and row.op in ("+=", "-=") and len(row.terms) == 1:
        return f"{row.op} {summary(row.terms[0])} -> {total}"
    if row.terms is not None and len(row.terms) > 1:
        return " + ".join(summary(t) for t in row.terms) + f" = {total}"
    return total


def _derivative_call(fn, mode, positions, single, values, out_bar, tangents):
    """``(namespace, generated module, entry point kind, arguments)``: the derivative code a
    trace runs, and its arguments (the seed: ``out_bar``, or the ``tangents``, default ones)."""
    if mode == "reverse":
        namespace, generated = cache.compiled(fn, "reverse", positions, values=values)
        kind = "value_and_grad" if out_bar is None else "vjp"
        return namespace, generated, kind, list(values) + ([] if out_bar is None else [out_bar])
    namespace, generated = cache.compiled(fn, "forward", positions, values=values)
    if tangents is None:
        tangents = [np.ones_like(values[i]) if isinstance(values[i], np.ndarray) else
                    type(values[i])(1) for i in positions]
    elif single:
        tangents = [tangents]
    return namespace, generated, "jvp", list(values) + list(tangents)


@arguments.at_bound_values
def trace(f, *args, wrt=arguments.DEFAULT_WRT, mode="reverse", out_bar=None, tangents=None,
          **kwargs):
    """The :class:`Trace` of ``f`` at ``args``: values, and adjoints (``mode="reverse"``) or
    tangents (``mode="forward"``) with respect to ``wrt`` (default: the first parameter, as
    :func:`s2sad.grad`). Reverse mode seeds the output's adjoint with ``out_bar``
    (default 1: ``f`` must return a scalar); forward mode seeds each ``wrt`` argument's
    tangent with ``tangents`` (default: ones shaped like the argument)."""
    fn = unwrap(f)
    if mode not in ("reverse", "forward"):
        raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
    arguments.check_function(fn)
    values = arguments.bind(fn, args, kwargs)
    positions, single = arguments.normalize_wrt(fn, wrt)
    arguments.check_differentiable(fn, positions, values)
    params = arguments.parameters(fn)
    ir = cache.lowered_for(fn, values)
    known = statements(ir)
    namespace, generated, kind, call_args = _derivative_call(fn, mode, positions, single, values,
                                                             out_bar, tangents)
    entry = generated.entry_points.get(kind)
    if entry is None:
        raise UsageError(f"{fn.__name__} returns several values; trace it with out_bar= "
                         f"(one adjoint per value)", def_loc(fn))
    function, sites, recorder = instrumented(namespace, generated.source, entry)
    try:
        result = function(*[snapshot(a) for a in call_args])
    except Exception as exc:  # reported as the API reports it (s2sad.failures.raise_failure)
        if failures.is_not_scalar(exc, fn.__name__):
            error = failures.non_scalar_error(fn, exc)
            raise NonScalarOutputError(error.message, error.loc,
                                       "Trace a vector-Jacobian product instead: pass out_bar=, "
                                       "an array shaped like the output.") from None
        failures.raise_failure(fn, exc, values)
    suffix = "_bar" if mode == "reverse" else "_dot"
    name_of = derived_namer(ir, suffix)[0]  # the names the transforms give (x_bar, or x_bar_)
    derived = {name_of(var): var for var in known}
    rows = _rows(recorder.events, sites, known, derived, values, params, mode)
    if mode == "reverse" and kind == "value_and_grad":
        value, derivative = result
    elif mode == "reverse":
        value, derivative = arguments.call_with(fn, fn, values), result
    else:
        value, derivative = result
    if mode == "reverse" and not single and len(positions) == 1 and \
            not isinstance(derivative, tuple):
        derivative = (derivative,)
    if mode == "reverse":
        results = (derivative,) if single else derivative
        _returned(rows, [params[i] for i in positions], values, positions, results, known)
    done = Trace(fn.__name__, mode, rows, value, derivative, [params[i] for i in positions])
    done.tape = [(sites[k]["line"] if k is not None else None, item)
                 for k, item in recorder.pushes]
    done.loop_trips = {}
    for kind, k, _, _, _ in recorder.events:
        if kind == "trip" and sites[k]["sweep"] == "forward":
            line = sites[k]["line"]
            done.loop_trips[line] = done.loop_trips.get(line, 0) + 1
    return done


def _returned(rows, names, values, positions, results, known):
    """A last row for each parameter whose gradient no assignment showed: an adjoint the
    compiler kept symbolic (the seed 1 of ``return x``, zeros of an unused parameter)."""
    for name, i, result in zip(names, positions, results):
        shown = [r.derivative for r in rows if r.name == name and r.sweep == "backward"]
        if shown and _identical(shown[-1], result):
            continue
        rows.append(Row("backward", name, known[name][0], None, values[i], (),
                        derivative=result, code=f"return ... {name}_bar ..."))


def _identical(a, b):
    try:
        return np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b)))
    except (TypeError, ValueError):
        return False


def _rows(events, sites, known, derived, values, params, mode):
    current = dict(zip(params, values))
    rows = []
    for kind, k, trips, recorded, terms in events:
        site = sites[k]
        if kind in ("trip", "branch"):  # a branch's value: True for then, False for else
            rows.append(Row(site["sweep"], site["names"], site["code"], site["line"], recorded,
                            trips, kind=kind))
            continue
        for name, value in zip(site["names"], recorded):
            # a name of f's own first (f may be generated code, with names such as x_bar)
            base, suffix = (name, None) if name in known or name not in derived else \
                (derived[name], "bar" if mode == "reverse" else "dot")
            if base not in known:
                continue
            statement, line = known[base]
            if suffix is None:
                current[name] = value
                if site["sweep"] == "forward":
                    rows.append(Row("forward", name, statement, line, value, trips,
                                    code=site["code"]))
            elif suffix == "dot" and mode == "forward":
                last = next((r for r in reversed(rows) if r.name == base), None)
                if last is not None and last.derivative is None and last.trips == trips:
                    last.derivative = value
                else:
                    rows.append(Row("forward", base, statement, line, current.get(base), trips,
                                    derivative=value, code=site["code"]))
            elif suffix == "bar":
                rows.append(Row("backward", base, statement, site["line"] or line,
                                current.get(base), trips, derivative=value, op=site["op"],
                                terms=terms, code=site["code"]))
    return rows


__all__ = ["trace", "Trace", "Row", "statements", "ones_seed"]
