"""One page that explains a function's derivative: ``s2sad explain``.

``s2sad.explain(f, *args, wrt=0)`` returns a :class:`Page`, one self-contained
HTML file (no network needed to view it) with, in order: the function's source,
its SSA listing, the computational graph (inline SVG drawn by Graphviz, or its
DOT text when the ``dot`` program is missing), the forward-mode and reverse-mode
traces at ``args``, the generated gradient code (the vector-Jacobian product's,
seeded with ones, for an array output), and the cost report. Every line of
source, SSA, trace, cost and the function's generated code, and every node of a
statement in the graph, carries the user's source line it comes from
(``data-line``); hovering any of them highlights the others of that line, on the
whole page (a few lines of script, inline). In Jupyter the page shows itself in
an iframe.

The page is well-formed XML (XHTML served as HTML), which the tests parse.
Python is highlighted by :func:`s2sad.display.highlight`.

Layer 9, above the tools it puts together (:mod:`s2sad.trace`, :mod:`s2sad.graph`,
:mod:`s2sad.cost`).
"""

import ast
import html
import inspect
import re
import shutil

from . import arguments, cache
from .cost import cost
from .display import HELPERS_HEADING, highlight
from .graph import graph
from .ir import format_function
from .table import summary
from .parse import unwrap
from .trace import ones_seed, trace

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 80em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
pre.code { background: #f8f8f8; padding: 0.5em; line-height: 1.35; overflow-x: auto; }
pre.code span.row { display: block; }
span.ln { color: #999; display: inline-block; width: 3em; user-select: none; }
.kw { color: #007020; font-weight: bold; } .num { color: #208050; } .str { color: #4070a0; }
.com { color: #60a0b0; font-style: italic; }
table.s2sad { border-collapse: collapse; font-size: 0.9em; }
table.s2sad td, table.s2sad th { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; }
.hl, .hl td { background: #ffec99 !important; }
g.hl polygon, g.hl ellipse, g.hl path { fill: #ffec99; }
svg { max-width: 100%; height: auto; }
"""

# hovering an element with data-line highlights every element of the same line
SCRIPT = """
function s2sadMark(line, on) {
  document.querySelectorAll('[data-line="' + line + '"]').forEach(function (el) {
    el.classList.toggle('hl', on);
  });
}
document.querySelectorAll('[data-line]').forEach(function (el) {
  var line = el.getAttribute('data-line');
  el.addEventListener('mouseenter', function () { s2sadMark(line, true); });
  el.addEventListener('mouseleave', function () { s2sadMark(line, false); });
});
"""


def _code(lines, line_of, first_number=1):
    """A ``<pre>`` of highlighted ``lines``, each row with its number and ``data-line``."""
    rows = []
    for k, (text, line) in enumerate(zip(lines, line_of)):
        attr = f' data-line="{line}"' if line else ""
        rows.append(f'<span class="row"{attr}><span class="ln">{first_number + k}</span>'
                    f'{text or " "}</span>')
    return '<pre class="code">' + "".join(rows) + "</pre>"


def _lines_by_comment(text):
    """The source line of each line of generated code or SSA listing: the last ``line N``
    comment at or before it."""
    out, current = [], None
    for line in text.splitlines():
        match = re.search(r"#\s*line (\d+)", line)
        if match:
            current = int(match.group(1))
        out.append(current)
    return out


def _svg(drawn):
    """The graph as inline SVG (no XML declaration or doctype), each statement's node with
    the ``data-line`` of its source line (from the node's tooltip), or its DOT text."""
    if shutil.which("dot") is None:
        return ("<p>The Graphviz program <code>dot</code> is not installed (Debian: "
                "<code>apt-get install graphviz</code>), so here is the graph's DOT text:</p>"
                f'<pre class="code">{html.escape(drawn.dot)}</pre>')
    line_of = dict(re.findall(r'^\s*(n\d+) \[.*tooltip="line (\d+):', drawn.dot, re.M))

    def link(match):
        line = line_of.get(match.group(2))
        attr = f' data-line="{line}"' if line else ""
        return f'<g id="{match.group(1)}" class="node"{attr}>\n<title>{match.group(2)}</title>'

    svg = drawn.svg()
    svg = re.sub(r'<g id="(node\d+)" class="node">\n<title>(n\d+)</title>', link, svg)
    return svg[svg.index("<svg"):]


def _gradient_code(module, entry_points, entry):
    """The generated function ``entry`` (the gradient, or the VJP for an array output) and the
    helpers' functions (``fwd_``/``bwd_``), without the module's docstring, its other entry
    points or the run-time helpers; and the source line of each line: the entry's from its
    ``# line N`` comments, none for the helpers' lines (theirs are lines of the helpers' own
    source, which the page does not show, perhaps in another file)."""
    body = module.split("\n" + HELPERS_HEADING, 1)[0]
    lines = body.splitlines()
    skip = set(entry_points.values()) - {entry}
    text, line_of = [], []
    for node in ast.parse(body).body:
        if not isinstance(node, ast.FunctionDef) or node.name in skip:
            continue
        if text:
            text, line_of = text + ["", ""], line_of + [None, None]
        piece = lines[node.lineno - 1:node.end_lineno]
        text += piece
        line_of += _lines_by_comment("\n".join(piece)) if node.name == entry else \
            [None] * len(piece)
    return "\n".join(text) + "\n", line_of


class Page:
    """The explain page: ``html`` is its text; :meth:`save` writes it."""

    def __init__(self, name, text):
        self.name, self.html = name, text

    def save(self, path):
        with open(path, "w", encoding="utf-8") as out:
            out.write(self.html)
        return path

    def _repr_html_(self):
        """In Jupyter: the page in an iframe of its own, so that its style sheet and script
        stay out of the notebook's."""
        page = html.escape(self.html, quote=True).replace("\n", "&#10;")  # kept in <pre>
        return (f'<iframe srcdoc="{page}" title="{self.name}" '
                f'style="width: 100%; height: 40em; border: 1px solid #ddd"></iframe>')

    def __repr__(self):
        return f"<s2sad.explain page of {self.name}: {len(self.html)} characters of HTML>"

    def __str__(self):
        return self.html


@arguments.at_bound_values
def explain(f, *args, wrt=arguments.DEFAULT_WRT, **kwargs):
    """The :class:`Page` explaining ``f``'s derivative at ``args`` and ``kwargs`` (see the
    module)."""
    fn = unwrap(f)
    source, first = inspect.getsourcelines(fn)
    source_text = "".join(source)
    values = arguments.bind(fn, args, kwargs)
    args, kwargs = arguments.split_values(fn, values)  # (keyword-only values by name)
    ssa_text = format_function(cache.lowered_for(fn, values))
    seed = ones_seed(fn, values)
    backward = trace(fn, *args, wrt=wrt, out_bar=seed, **kwargs)
    forward = trace(fn, *args, wrt=wrt, mode="forward", **kwargs)
    positions = tuple(arguments.parameters(fn).index(name) for name in backward.wrt)
    namespace, built = cache.compiled(fn, "reverse", positions, values=values)
    generated, generated_lines = _gradient_code(
        built.source, built.entry_points, built.entry_points["grad" if seed is None else "vjp"])
    report = cost(fn, *args, wrt=wrt, **kwargs)
    drawn = graph(fn, *args, wrt=wrt, adjoints=True, **kwargs)
    title = f"{fn.__name__}: how s2sad differentiates it"
    point = ", ".join(f"{name} = {summary(value)}" for name, value in
                      zip(arguments.parameters(fn), values))
    sections = [
        ("source", "Source", _code(highlight(source_text),
                                   range(first, first + len(source)), first)),
        ("ssa", "SSA form", _code(highlight(ssa_text), _lines_by_comment(ssa_text))),
        ("graph", "Computational graph (red: the adjoint flow)", _svg(drawn)),
        ("forward", "Forward mode: values and tangents", forward.render("html")),
        ("reverse", "Reverse mode: values and adjoints", backward.render("html")),
        ("code", "Generated gradient code" if seed is None else
         "Generated code of the vector-Jacobian product (the output is an array)",
         _code(highlight(generated), generated_lines)),
        ("cost", "Cost", report.render("html")),
    ]
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p>At {html.escape(point)}; derivatives with respect to "
            f"{html.escape(', '.join(backward.wrt))}. Hover a line to see where it goes.</p>"]
    shown = range(first, first + len(source))
    body += [f'<section id="{key}"><h2>{html.escape(heading)}</h2>\n'
             f'{content if key == "source" else _shown_links(content, shown)}</section>'
             for key, heading, content in sections]
    page = ("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">"
            f"<head><meta charset=\"utf-8\" /><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) +
            f"\n<script>{SCRIPT}</script>\n</body></html>\n")
    return Page(fn.__name__, page)


def _shown_links(content, shown):
    """``content`` with links to source lines the page does not show dropped: those of a
    small helper inlined into the function (inline/small.py), written elsewhere."""
    return re.sub(r' data-line="(\d+)"',
                  lambda m: m.group(0) if int(m.group(1)) in shown else "", content)


__all__ = ["explain", "Page", "highlight"]
