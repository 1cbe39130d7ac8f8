"""Python code shown to people: highlighted HTML, and the texts Jupyter displays richly.

:func:`highlight` colours Python text (keywords, numbers, strings, comments) with the
standard library's tokenizer, one HTML line per line of text, as CSS classes (the
explain page, :mod:`s2sad.explain`, styles them) or as inline styles (a notebook's
output, which has no style sheet of ours). :class:`Code` is what ``s2sad.source`` and
``s2sad.ssa`` return: a ``str`` (printing, writing to a file and ``exec`` work as on
any string) that Jupyter displays highlighted (``_repr_html_``), as a Markdown code
block (``_repr_markdown_``), and as the plain text, not its ``repr``, where only text
shows (``_repr_pretty_``). A generated module's run-time helpers are folded away in the
HTML (a ``<details>`` element), so a reader meets the derivative first.

Layer 1: imports no s2sad module.
"""

import html
import io
import keyword
import tokenize

# The heading of the run-time helpers in a generated module (s2sad.emit writes it; the
# displays fold what follows it)
HELPERS_HEADING = "# --- run-time helpers"

COLOURS = {"kw": "color:#007020;font-weight:bold", "num": "color:#208050",
           "str": "color:#4070a0", "com": "color:#60a0b0;font-style:italic"}
PRE_STYLE = "background:#f8f8f8;padding:0.5em;line-height:1.35;overflow-x:auto"


def _kind(tok):
    if tok.type == tokenize.NAME and keyword.iskeyword(tok.string):
        return "kw"
    return {tokenize.NUMBER: "num", tokenize.STRING: "str", tokenize.COMMENT: "com"}.get(tok.type)


def _marks(text, lines):
    """The class of each character of each line (None: plain)."""
    marks = [[None] * len(line) for line in lines]
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = _kind(tok)
            if kind is None:
                continue
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                start = c0 if r == r0 else 0
                end = c1 if r == r1 else len(lines[r - 1])
                for c in range(start, min(end, len(lines[r - 1]))):
                    marks[r - 1][c] = kind
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # what tokenized so far stays marked; the rest is plain
    return marks


def highlight(text, inline=False):
    """``text`` (Python) as a list of HTML lines, keywords, numbers, strings and comments in
    spans: ``class="kw"`` and so on, or with ``inline`` the colours themselves as
    ``style=`` attributes. Lines that do not tokenize stay plain."""
    lines = text.splitlines()
    out = []
    for line, marks in zip(lines, _marks(text, lines)):
        parts, c = [], 0
        while c < len(line):
            d = c
            while d < len(line) and marks[d] == marks[c]:
                d += 1
            chunk = html.escape(line[c:d])
            if marks[c] is None:
                parts.append(chunk)
            elif inline:
                parts.append(f'<span style="{COLOURS[marks[c]]}">{chunk}</span>')
            else:
                parts.append(f'<span class="{marks[c]}">{chunk}</span>')
            c = d
        out.append("".join(parts))
    return out


def code_html(text, fold_helpers=True):
    """``text`` highlighted in a ``<pre>`` with inline styles; a generated module's run-time
    helpers (after :data:`HELPERS_HEADING`) folded in a ``<details>`` element."""
    head, mark, helpers = text.partition("\n" + HELPERS_HEADING) if fold_helpers else \
        (text, "", "")
    out = f'<pre style="{PRE_STYLE}">' + "\n".join(highlight(head, inline=True)) + "</pre>"
    if mark:
        rest = HELPERS_HEADING + helpers
        count = len(rest.splitlines())
        out += (f"<details><summary>run-time helpers ({count} lines)</summary>"
                f'<pre style="{PRE_STYLE}">' + "\n".join(highlight(rest, inline=True))
                + "</pre></details>")
    return out


class Code(str):
    """Python text (a ``str``) that Jupyter shows highlighted: see the module."""

    def _repr_html_(self):
        return code_html(str(self))

    def _repr_markdown_(self):
        return f"```python\n{str(self).rstrip()}\n```\n"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


__all__ = ["Code", "highlight", "code_html", "HELPERS_HEADING"]
