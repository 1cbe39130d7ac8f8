"""Generated derivative code, instrumented to report what it computes (for :mod:`s2sad.trace`).

:func:`instrumented` parses one function of a generated module and inserts, after every
assignment of its body (at any depth of loops and branches), a call recording the values
assigned; around every loop, calls marking its trips; in each branch of an ``if``, a call
marking it taken; on an adjoint update written as a
sum, a call keeping its terms; and after each push on the tape, a call keeping the item
pushed and the loop pushing it. It returns the instrumented function, the description of
each place it instruments (a *site*: the names assigned, the generated statement, the
sweep, the user's source line from the ``# line N`` comments) and the :class:`Recorder`
whose ``events`` and ``pushes`` the run fills.

Layer 9, below :mod:`s2sad.trace`: reads generated source only (``ast``).
"""

import ast
import functools
import operator
import re

import numpy as np

PREFIX = "_s2sad_trace_"  # the instrumentation's names in the traced function


def snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(snapshot(v) for v in value)
    return value


class Recorder:
    """What the instrumented function calls: records assignments, terms and loop trips."""

    def __init__(self):
        self.events = []  # (kind, site, trips, values, terms)
        self.loops = []  # [site, trip] of the loops running now, outermost first
        self.terms = {}
        self.pushes = []  # (loop site, item) of each push on the generated code's tape

    def enter(self, site):
        self.loops.append([site, 0])

    def leave(self, site):
        while self.loops and self.loops.pop()[0] != site:
            pass

    def trip(self, site, *target):
        self.loops[-1][1] += 1
        self.events.append(("trip", site, self._trips(), snapshot(target), None))

    def branch(self, site, taken):
        self.events.append(("branch", site, self._trips(), taken, None))

    def record(self, site, *values):
        self.events.append(("set", site, self._trips(), snapshot(values),
                            self.terms.pop(site, None)))

    def sum(self, site, *terms):
        self.terms[site] = snapshot(terms)
        return functools.reduce(operator.add, terms)

    def term(self, site, value):
        self.terms[site] = (snapshot(value),)
        return value

    def push(self, tape):
        """``tape`` grew: its new last item, with the innermost loop running (or None)."""
        self.pushes.append((self.loops[-1][0] if self.loops else None, snapshot(tape[-1])))

    def _trips(self):
        return tuple(trip for _, trip in self.loops)


def _names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _names(t)]
    if isinstance(target, ast.Subscript):  # y[i] = v: y's array changed
        return _names(target.value)
    return []


def _call(function, *args):
    return ast.Expr(ast.Call(ast.Name(PREFIX + function, ast.Load()),
                             [ast.Constant(a) if isinstance(a, int) else a for a in args], []))


def _load(name):
    return ast.Name(name, ast.Load())


def _addends(expr):
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _addends(expr.left) + [expr.right]
    return [expr]


class _Instrument:
    """Inserts the recorder's calls into a function's body; ``sites`` describes each call."""

    def __init__(self, backward_line, source_lines, tape=None):
        self.sites = []
        self.tape = tape  # the name of the generated code's tape (a list), if it has one
        self.backward_line = backward_line
        self.source_lines = source_lines  # generated line number -> user's source line

    def site(self, node, **info):
        sweep = "backward" if self.backward_line and node.lineno > self.backward_line \
            else "forward"
        self.sites.append(dict(info, sweep=sweep, line=self.source_lines.get(node.lineno)))
        return len(self.sites) - 1

    def block(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, (ast.For, ast.While)):
                target = [_load(n) for n in _names(stmt.target)] if isinstance(stmt, ast.For) \
                    else []
                head = ast.unparse(stmt).splitlines()[0].rstrip(":")
                k = self.site(stmt, kind="loop", names=_names(getattr(stmt, "target", None)),
                              code=head)
                stmt.body = [_call("trip", k, *target)] + self.block(stmt.body)
                stmt.orelse = self.block(stmt.orelse)
                out += [_call("enter", k), stmt, _call("leave", k)]
            elif isinstance(stmt, ast.If):
                k = self.site(stmt, kind="branch", names=[], code=f"if {ast.unparse(stmt.test)}")
                stmt.body = [_call("branch", k, True)] + self.block(stmt.body)
                stmt.orelse = [_call("branch", k, False)] + self.block(stmt.orelse)
                out.append(stmt)
            elif isinstance(stmt, ast.Assign):
                names = [n for t in stmt.targets for n in _names(t)]
                k = self.site(stmt, kind="set", names=names, code=ast.unparse(stmt), op="=")
                terms = _addends(stmt.value)
                if len(names) == 1 and names[0].endswith("_bar") and len(terms) > 1:
                    stmt.value = ast.Call(_load(PREFIX + "sum"), [ast.Constant(k)] + terms, [])
                    if any(isinstance(n, ast.Name) and n.id == names[0]
                           for n in ast.walk(terms[0])):
                        self.sites[k]["op"] = "+="
                out += [stmt, _call("record", k, *map(_load, names))]
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                name = stmt.target.id
                op = "+=" if isinstance(stmt.op, ast.Add) else "-=" if \
                    isinstance(stmt.op, ast.Sub) else "update"
                k = self.site(stmt, kind="set", names=[name], code=ast.unparse(stmt), op=op)
                stmt.value = ast.Call(_load(PREFIX + "term"), [ast.Constant(k), stmt.value], [])
                out += [stmt, _call("record", k, _load(name))]
            elif self.tape and _appends_to(stmt, self.tape):
                out += [stmt, _call("push", _load(self.tape))]
            elif _updates_adjoint(stmt):  # scatter_add(U_bar, i, g): U_bar changes in place
                name = stmt.value.args[0].id
                k = self.site(stmt, kind="set", names=[name], code=ast.unparse(stmt), op="update")
                out += [stmt, _call("record", k, _load(name))]
            else:
                out.append(stmt)
        return out


IN_PLACE = {"scatter_add", "add_contents_bar", "pop_bar"}  # helpers updating their 1st argument


def _updates_adjoint(stmt):
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and \
        call.func.id in IN_PLACE and call.args and isinstance(call.args[0], ast.Name)


def _appends_to(stmt, name):
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
        call.func.attr == "append" and isinstance(call.func.value, ast.Name) and \
        call.func.value.id == name


def _tape_name(func):
    """The name of the list the generated function keeps its tape in (``tape = []`` first)."""
    for stmt in func.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id.startswith("tape") \
                and isinstance(stmt.value, ast.List) and not stmt.value.elts:
            return stmt.targets[0].id
    return None


def instrumented(namespace, source, entry):
    """The generated function ``entry`` of ``source``, instrumented, and its sites."""
    tree = ast.parse(source)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry)
    lines = source.splitlines()
    backward_line, source_lines, current = None, {}, None
    for number in range(func.lineno, func.end_lineno + 1):
        text = lines[number - 1].strip()
        if text == "# backward sweep":
            backward_line = number
        match = re.match(r"# line (\d+)", text)
        if match:
            current = int(match.group(1))
        source_lines[number] = current
    instrument = _Instrument(backward_line, source_lines, _tape_name(func))
    func.body = instrument.block(func.body)
    module = ast.fix_missing_locations(ast.Module([func], []))
    scope = dict(namespace)
    recorder = Recorder()
    for name in ("enter", "leave", "trip", "branch", "record", "sum", "term", "push"):
        scope[PREFIX + name] = getattr(recorder, name)
    exec(compile(module, f"<s2sad trace of {entry}>", "exec"), scope)
    return scope[entry], instrument.sites, recorder


__all__ = ["instrumented", "snapshot", "Recorder", "PREFIX"]
