"""Tables for people: the renderings shared by traces and cost reports.

A :class:`Table` is a title, column headers and rows of cells (strings), plus
optional section rows (a line of text across the table, such as "backward
sweep"). It renders as aligned plain text (for a terminal), Markdown, or HTML
(for Jupyter: ``_repr_html_``, ``_repr_markdown_``). :func:`summary` writes one
value in a cell: numbers in full (``%.6g``), arrays by shape with their first
entries and their norm.

Layer 1 of the package: imports no s2sad module.
"""

import html

import numpy as np

SECTION = object()  # marks a section row: (SECTION, text)


def summary(value, entries=3):
    """A short, one-line text for ``value``: ``2.5``, ``array(100,) [0.1, 0.2, ...] |.|=3.2``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.6g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return summary(value[()])
        flat = value.ravel()
        shown = ", ".join(summary(v) for v in flat[:entries])
        if flat.size <= entries:
            return f"[{shown}]" if value.ndim == 1 else f"array{value.shape} [{shown}]"
        norm = ""
        if np.issubdtype(value.dtype, np.number):
            norm = f" |.|={float(np.linalg.norm(flat)):.4g}"
        return f"array{value.shape} [{shown}, ...]{norm}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(summary(v) for v in value[:entries])
        more = ", ..." if len(value) > entries else ""
        return f"({inner}{more})" if isinstance(value, tuple) else f"[{inner}{more}]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Rendered:
    """A report shown as a table: ``str()`` is its text, Jupyter shows its HTML or Markdown.
    A subclass defines ``render(fmt)``."""

    def __str__(self):
        return self.render()

    def _repr_html_(self):
        return self.render("html")

    def _repr_markdown_(self):
        return self.render("md")

    def _repr_pretty_(self, printer, cycle):  # IPython's text: the table, not <object at 0x..>
        printer.text(self.render())


class Table:
    """Rows of text cells under headers; rows may be ``(SECTION, text)`` lines.
    ``lines``, if given, holds each row's source line (or None): the HTML rows carry it
    as ``data-line``, which the explain page highlights (:mod:`s2sad.explain`)."""

    def __init__(self, title, headers, rows, notes=(), lines=None):
        self.title = title
        self.headers = list(headers)
        self.rows = [row if row[0] is SECTION else [str(c) for c in row] for row in rows]
        self.notes = list(notes)
        self.lines = list(lines) if lines is not None else [None] * len(self.rows)

    def _cells(self):
        return [r for r in self.rows if r[0] is not SECTION]

    def text(self):
        widths = [len(h) for h in self.headers]
        for row in self._cells():
            widths = [max(w, len(c)) for w, c in zip(widths, row)]
        def line(cells):
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        out = [self.title, "", line(self.headers), line(["-" * w for w in widths])]
        for row in self.rows:
            out.append(f"-- {row[1]} --" if row[0] is SECTION else line(row))
        out += [""] + self.notes if self.notes else []
        return "\n".join(out) + "\n"

    def markdown(self):
        def esc(c):
            return c.replace("|", "\\|")
        out = [f"**{self.title}**", "", "| " + " | ".join(self.headers) + " |",
               "|" + "|".join("---" for _ in self.headers) + "|"]
        for row in self.rows:
            if row[0] is SECTION:
                out.append("| *" + esc(row[1]) + "* |" + " |" * (len(self.headers) - 1))
            else:
                out.append("| " + " | ".join(f"`{esc(c)}`" if c else "" for c in row) + " |")
        out += [""] + self.notes if self.notes else []
        return "\n".join(out) + "\n"

    def html(self):
        e = html.escape
        out = [f"<table class=\"s2sad\"><caption>{e(self.title)}</caption>",
               "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in self.headers) + "</tr></thead>",
               "<tbody>"]
        for row, line in zip(self.rows, self.lines):
            if row[0] is SECTION:
                out.append(f"<tr><th colspan=\"{len(self.headers)}\" style=\"text-align:left\">"
                           f"{e(row[1])}</th></tr>")
            else:
                attr = f" data-line=\"{line}\"" if line else ""
                out.append(f"<tr{attr}>" + "".join(f"<td><code>{e(c)}</code></td>" for c in row)
                           + "</tr>")
        out.append("</tbody></table>")
        out += [f"<p>{e(n)}</p>" for n in self.notes]
        return "\n".join(out) + "\n"

    def render(self, fmt="text"):
        """``fmt`` is ``"text"``, ``"md"`` or ``"html"``."""
        try:
            return {"text": self.text, "md": self.markdown, "html": self.html}[fmt]()
        except KeyError:
            raise ValueError(f"unknown format {fmt!r}; use text, md or html") from None

    def __str__(self):
        return self.text()

    def _repr_html_(self):
        return self.html()

    def _repr_markdown_(self):
        return self.markdown()

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.text())
