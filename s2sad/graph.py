"""The computational graph of a function, drawn: its SSA form as a Graphviz DAG.

``s2sad.graph(f, *args, adjoints=False)`` returns a :class:`Graph`: the SSA form
of ``f`` in the DOT language (always, with no dependency), and rendered to SVG
or PNG by the Graphviz program ``dot`` when it is installed (called as a
subprocess; the Debian and conda package is ``graphviz``).

* inputs (parameters) are ellipses, each primitive a box (``v3 = mul``, constant
  operands written in: ``mul(·, 0.5)``), the returned value a double octagon;
* an edge runs from the statement defining a value to each statement using it,
  labelled with the value's name, and, given arguments, with its value and its
  adjoint at that point (from :func:`s2sad.trace.trace`; in a loop, the value of
  the last trip and the adjoint of the first, the last ones computed);
* a loop is a cluster, with its carried values (``z_1 = carry(z -> z_4)``) as
  nodes fed by the initial value and, dashed, by the value of each trip; an
  ``if`` is a cluster of its two branches, its merges (``phi``) nodes after it;
* ``adjoints=True`` adds the adjoint flow: a second set of edges, red and
  reversed, from each user of an active value (one that depends on ``wrt``,
  default every parameter, and reaches the output) back to its definition (the
  adjoint's contributions flow along them; its total is on the forward edges).

Layer 9, beside the API: reads the SSA form (:mod:`s2sad.lower`) and traces.
"""

import re
import shutil
import subprocess

from .analysis import activity
from .errors import UsageError
from .ir import Assign, Const, For, If, Index, Raise, Return, Var, While
from .lower import lower
from .parse import unwrap
from .table import summary
from . import arguments, cache
from .trace import ones_seed, trace

FORMATS = ("dot", "svg", "png")


def missing_dot_error():
    return UsageError("drawing SVG or PNG needs the Graphviz program 'dot', which is not "
                      "installed", hint="Install Graphviz (Debian/Ubuntu: apt-get install "
                                        "graphviz; conda: conda install graphviz), or write "
                                        "the DOT text (-o graph.dot), which needs nothing.")


def render(dot_text, fmt):
    """``dot_text`` drawn by Graphviz as ``fmt`` (``"svg"`` or ``"png"``): bytes."""
    if fmt not in ("svg", "png"):
        raise UsageError(f"unknown picture format {fmt!r}; use svg or png (or dot for the text)")
    program = shutil.which("dot")
    if program is None:
        raise missing_dot_error()
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode(), capture_output=True)
    if done.returncode != 0:
        raise UsageError(f"Graphviz failed to draw the graph: {done.stderr.decode().strip()}")
    return done.stdout


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Builder:
    def __init__(self, values, adjoints, active):
        self.lines, self.edges, self.back = [], [], []
        self.producer = {}  # var name -> node id
        self.count = 0
        self.values, self.adjoints = values, adjoints
        self.active = active  # the variables whose adjoint edges are drawn

    def node(self, label, indent, **attrs):
        self.count += 1
        node = f"n{self.count}"
        extra = "".join(f", {k}={_quote(v)}" for k, v in attrs.items())
        self.lines.append(f"{indent}{node} [label={_quote(label)}{extra}];")
        return node

    def label(self, name):
        parts = [name]
        if name in self.values:
            parts.append(f"= {summary(self.values[name])}")
        if name in self.adjoints:
            parts.append(f"bar = {summary(self.adjoints[name])}")
        return "\n".join(parts)

    def use(self, operand, node, style=None, adjoint=True):
        """Edges from what defines each variable of ``operand`` to ``node`` (and back, for
        an active variable, unless ``adjoint`` is false: a branch's condition)."""
        for var in _vars(operand):
            source = self.producer.get(var.name)
            if source is None:
                continue
            extra = f", style={style}" if style else ""
            self.edges.append(f"{source} -> {node} [label={_quote(self.label(var.name))}{extra}];")
            if adjoint and var.name in self.active:
                label = var.name + "_bar"  # (its total is on the forward edge)
                self.back.append(f"{node} -> {source} [color=red, fontcolor=red, style=dashed, "
                                 f"constraint=false, label={_quote(label)}];")

    def block(self, stmts, depth):
        indent = "  " * depth
        for stmt in stmts:
            if isinstance(stmt, Assign):
                self.assignment(stmt, indent)
            elif isinstance(stmt, If):
                self.branch(stmt, indent, depth)
            elif isinstance(stmt, (For, While)):
                self.loop(stmt, indent, depth)
            elif isinstance(stmt, Return):
                node = self.node("return", indent, shape="doubleoctagon")
                self.use(stmt.value, node)
            elif isinstance(stmt, Raise):
                node = self.node(f"raise {stmt.exc}", indent, shape="box", color="gray")
                self.use(stmt.exc, node)

    def assignment(self, stmt, indent):
        """A primitive's node, its operands' edges into it."""
        args = [("·" if not isinstance(a, Const) else str(a)) for a in stmt.args]
        args += [f"{k}={'·' if not isinstance(v, Const) else v}"
                 for k, v in stmt.kwargs.items()]
        targets = ", ".join(str(t) for t in stmt.targets)
        call = f"{stmt.prim.name}({', '.join(args)})"
        node = self.node(f"{targets} = {call}" if targets else call, indent, shape="box",
                         tooltip=f"line {stmt.loc.statement_line}: {stmt.loc.summary}")
        differentiable = getattr(stmt.prim, "differentiable", True)
        for operand in list(stmt.args) + list(stmt.kwargs.values()):
            self.use(operand, node, adjoint=differentiable)  # none into z > 1
        for target in stmt.targets:
            self.producer[target.name] = node

    def branch(self, stmt, indent, depth):
        """An ``if``: a cluster per branch, and a ``phi`` node per merged value."""
        self.count += 1
        self.lines.append(f"{indent}subgraph cluster_{self.count} {{")
        title = _quote(f"if {stmt.cond}  (line {stmt.loc.line})")
        self.lines.append(f"{indent}  label={title}; style=rounded;")
        for name, branch in (("then", stmt.then_block), ("else", stmt.else_block)):
            self.count += 1
            self.lines.append(f"{indent}  subgraph cluster_{self.count} {{ "
                              f"label={_quote(name)}; style=dashed;")
            self.block(branch, depth + 2)
            self.lines.append(f"{indent}  }}")
        self.lines.append(f"{indent}}}")
        for var, a, b in stmt.merges:
            node = self.node(f"{var} = phi({a}, {b})", indent, shape="diamond")
            self.use(a, node)
            self.use(b, node)
            self.use(stmt.cond, node, style="dotted", adjoint=False)
            self.producer[var.name] = node

    def loop(self, stmt, indent, depth):
        """A loop's cluster: its carried values' ``carry`` nodes, fed back by the next trip."""
        self.count += 1
        head = f"for {stmt.target} in {stmt.iterable}" if isinstance(stmt, For) \
            else f"while {stmt.cond}"
        self.lines.append(f"{indent}subgraph cluster_{self.count} {{")
        self.lines.append(f"{indent}  label={_quote(f'{head}  (line {stmt.loc.line})')}; "
                          f"style=rounded; color=blue;")
        carries = []
        for var, init, _ in stmt.carried:
            node = self.node(f"{var} = carry({init} -> ...)", indent + "  ",
                             shape="box", style="rounded")
            self.use(init, node)
            carries.append(node)
        for (var, _, _), node in zip(stmt.carried, carries):
            self.producer[var.name] = node
        if isinstance(stmt, For):
            node = self.node(f"{stmt.target} = next({stmt.iterable})", indent + "  ",
                             shape="box", style="rounded")
            self.use(stmt.iterable, node)
            self.producer[stmt.target.name] = node
        else:
            self.block(stmt.cond_block, depth + 1)
        self.block(stmt.body, depth + 1)
        self.lines.append(f"{indent}}}")
        for (var, _, out), node in zip(stmt.carried, carries):
            self.use(out, node, style="dashed")  # the next trip's value
            self.producer[var.name] = node


def _vars(operand):
    if isinstance(operand, Var):
        yield operand
    elif isinstance(operand, Index):
        for part in operand.operands():
            yield from _vars(part)
    elif isinstance(operand, (tuple, list)):
        for part in operand:
            yield from _vars(part)


class Graph:
    """A function's computational graph: ``dot`` is the DOT text; :meth:`svg`, :meth:`png`
    and :meth:`save` draw it with Graphviz."""

    def __init__(self, name, dot):
        self.name, self.dot = name, dot

    def svg(self):
        return render(self.dot, "svg").decode()

    def png(self):
        return render(self.dot, "png")

    def save(self, path):
        """Write the graph to ``path``: DOT text for ``.dot``/``.gv``, else a picture by the
        file's extension (``.svg``, ``.png``)."""
        ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if ext in ("dot", "gv"):
            data = self.dot.encode()
        elif ext in ("svg", "png"):
            data = render(self.dot, ext)
        else:
            raise UsageError(f"cannot tell the picture format of {path!r}",
                             hint="End the file name with .svg, .png or .dot.")
        with open(path, "wb") as out:
            out.write(data)
        return path

    def __str__(self):
        return self.dot

    def __repr__(self):
        nodes = sum(1 for line in self.dot.splitlines() if re.match(r"\s*n\d+ \[", line))
        edges = sum(1 for line in self.dot.splitlines() if " -> " in line)
        return f"<s2sad.Graph of {self.name}: {nodes} nodes, {edges} edges; str() is its DOT text>"

    def _repr_svg_(self):
        return self.svg() if shutil.which("dot") else None


@arguments.at_bound_values
def graph(f, *args, wrt=arguments.DEFAULT_WRT, adjoints=False, **kwargs):
    """The :class:`Graph` of ``f``'s SSA form. Given arguments, edges carry each value and its
    adjoint there (with respect to ``wrt``, seeded with 1, or ones for an array output; see
    :func:`s2sad.trace`); ``adjoints=True`` draws the adjoint flow as a second, reversed set
    of edges."""
    fn = unwrap(f)
    point = arguments.bind(fn, args, kwargs) if args or kwargs else None
    ir = lower(fn) if point is None else cache.lowered_for(fn, point)
    values, bars = {}, {}
    names = [arguments.parameters(fn)[i] for i in arguments.normalize_wrt(fn, wrt)[0]]
    if point is not None:
        positional, keywords = arguments.split_values(fn, point)  # (keyword-only: by name)
        t = trace(fn, *positional, wrt=wrt, out_bar=ones_seed(fn, point), **keywords)
        values.update(zip(arguments.parameters(fn), point))
        names = t.wrt
        for row in t.rows:
            if row.kind == "value" and row.sweep == "forward":
                values[row.name] = row.value
            elif row.kind == "value" and row.sweep == "backward":
                bars[row.name] = row.derivative
                values.setdefault(row.name, row.value)
    builder = _Builder(values, bars, activity(ir, set(names)) if adjoints else set())
    lines = [f"digraph {_quote(fn.__name__)} {{", "  rankdir=TB;",
             "  node [fontname=\"Helvetica\", fontsize=11];",
             "  edge [fontname=\"Helvetica\", fontsize=9];",
             f"  label={_quote(f'{fn.__name__}: computational graph (SSA form)')};"]
    for param in ir.params:
        builder.producer[param.name] = builder.node(param.name, "  ", shape="ellipse",
                                                    style="filled", fillcolor="lightyellow")
    builder.block(ir.body, 1)
    body = builder.lines + ["  " + e for e in builder.edges + builder.back]
    return Graph(fn.__name__, "\n".join(lines + body + ["}"]) + "\n")


__all__ = ["graph", "Graph", "render", "FORMATS"]
