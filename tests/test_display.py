"""Rich display in Jupyter: what s2sad.source, s2sad.ssa, @differentiate'd functions, traces,
cost reports, graphs and explain pages show, through IPython's own display formatter (the
one a notebook's kernel uses), and that source and ssa stay plain strings to everyone else."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import s2sad
import seeing_programs as sp
from s2sad.display import Code, HELPERS_HEADING, code_html, highlight

formatters = pytest.importorskip("IPython.core.formatters", reason="IPython comes with the "
                                 "test extra's ipykernel")


def shown(obj):
    """``{mime type: data}``, as the Jupyter kernel would send for ``obj``."""
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


def parses(fragment):
    """The HTML fragment is well-formed (wrapped in one element, as XML)."""
    ET.fromstring(f"<div>{fragment}</div>")


def test_source_is_text_shown_highlighted_with_its_helpers_folded():
    text = s2sad.source(sp.used_twice)
    assert isinstance(text, str) and type(text) is Code
    namespace = {}
    exec(text, namespace)  # a string like any other: it runs, prints, is written to files
    assert namespace["grad_used_twice"](0.8) == pytest.approx(s2sad.grad(sp.used_twice)(0.8))
    data = shown(text)
    assert data["text/plain"] == str(text)  # the code itself, not its repr with \n escapes
    html = data["text/html"]
    parses(html)
    assert '<span style="color:#007020;font-weight:bold">def</span> grad_used_twice(x):' in html
    assert '<span style="color:#60a0b0;font-style:italic"># backward sweep</span>' in html
    derivative, helpers = html.split("<details>")
    assert "def</span> check_scalar" in helpers and "def</span> check_scalar" not in derivative
    assert "grad_used_twice" in derivative and "grad_used_twice" not in helpers
    assert data["text/markdown"].startswith("```python\n\"\"\"Reverse-mode derivatives")
    assert data["text/markdown"].rstrip().endswith("```")


def test_ssa_listing_is_shown_highlighted():
    listing = s2sad.ssa(sp.loop_branch_helper)
    assert type(listing) is Code and "carry(" in listing
    data = shown(listing)
    assert data["text/plain"] == str(listing)
    parses(data["text/html"])
    assert "<details>" not in data["text/html"]  # no helpers to fold
    assert '<span style="color:#007020;font-weight:bold">for</span> i' in data["text/html"]


def test_a_differentiated_function_shows_its_derivative_code():
    @s2sad.differentiate
    def f(x):
        return np.sin(x) * x

    data = shown(f)
    parses(data["text/html"])
    assert "def</span> grad_f(x):" in data["text/html"]
    assert data["text/markdown"].startswith("`<s2sad.differentiate ")
    assert "def grad_f(x):" in data["text/markdown"]
    forward = s2sad.differentiate(mode="forward")(sp.used_twice)
    assert "def</span> jvp_used_twice(x, x_dot):" in shown(forward)["text/html"]
    assert f(2.0) == np.sin(2.0) * 2.0  # still the function


def test_a_function_without_a_derivative_shows_its_error_not_a_traceback():
    @s2sad.differentiate
    def g(x):
        return {**x}

    data = shown(g)  # a formatter that raised would leave text/html out
    assert "has no derivative:</p><pre>UnsupportedSyntaxError: " in data["text/html"]
    assert "return {**x}" in data["text/html"] and "return {**x}" in data["text/markdown"]
    with pytest.raises(s2sad.S2sadError):
        g.source


def test_reports_show_their_text_table_html_and_markdown():
    t = s2sad.trace(sp.used_twice, 0.8)
    report = s2sad.cost(sp.used_twice, 0.8)
    for obj in (t, report):
        data = shown(obj)
        assert data["text/plain"] == obj.render().rstrip("\n") or \
            data["text/plain"] == obj.render()
        assert data["text/html"] == obj.render("html")
        assert data["text/markdown"] == obj.render("md")
        parses(data["text/html"])
    assert "0.313945 + 0.595392 = 0.909337" in shown(t)["text/plain"]


def test_graphs_and_pages_have_a_short_text():
    drawn = s2sad.graph(sp.used_twice, 0.8)
    assert repr(drawn) == "<s2sad.Graph of used_twice: 6 nodes, 6 edges; str() is its DOT text>"
    assert shown(drawn)["text/plain"] == repr(drawn)
    page = s2sad.explain(sp.used_twice, 0.8)
    assert repr(page).startswith("<s2sad.explain page of used_twice: ")
    # in an iframe of its own: the page's style sheet (body { margin: 2em; ... }) and script
    # stay out of the notebook
    frame = ET.fromstring(shown(page)["text/html"])
    assert frame.tag == "iframe" and frame.get("srcdoc") == page.html


def test_highlight_both_ways():
    text = "x = 1  # one\n"
    assert highlight(text) == ['x = <span class="num">1</span>  <span class="com"># one</span>']
    assert highlight(text, inline=True)[0].startswith('x = <span style="color:#208050">1</span>')
    folded = code_html(f"a = 1\n{HELPERS_HEADING} here ---\ndef h():\n    pass\n")
    assert folded.count("<pre") == 2 and "run-time helpers (3 lines)" in folded
    assert code_html("a = 1\n", fold_helpers=True).count("<pre") == 1
