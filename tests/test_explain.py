"""s2sad.explain and 's2sad explain': one self-contained HTML page (source, SSA form, graph,
traces, generated code, cost), parsed as XML, and rendered by headless Chromium when the
machine has it (.ci/run installs it): no console error, hovering a line highlights it."""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import seeing_programs as sp
from s2sad.explain import explain, highlight
from tests.programs.examples import ROOT, example_function

XHTML = "{http://www.w3.org/1999/xhtml}"
SECTIONS = ["source", "ssa", "graph", "forward", "reverse", "code", "cost"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def parse(page_html):
    return ET.fromstring(page_html.split("\n", 1)[1])  # past <!DOCTYPE html>


def lines_in(section):
    return {int(el.get("data-line")) for el in section.iter() if el.get("data-line")}


def test_the_page_has_every_section_and_links_lines():
    lecture = example_function("examples/lecture.py", "f")
    page = explain(lecture, 2.0, 3.0)
    root = parse(page.html)
    sections = {s.get("id"): s for s in root.iter(f"{XHTML}section")}
    assert list(sections) == SECTIONS
    source = lines_in(sections["source"])
    assert source == {23, 24, 25}  # def f, and the two lines of its body
    for key in ("ssa", "forward", "reverse", "code", "cost"):
        assert lines_in(sections[key]) and lines_in(sections[key]) <= source, key
    assert any(el.tag.endswith("svg") for el in sections["graph"].iter()) or \
        shutil.which("dot") is None
    text = "".join(sections["code"].itertext())
    assert "def grad_f(x, y):" in text and "a_bar = 1.0 + 0.5 / v2" in text
    assert "def vjp_f" not in text and "def unbroadcast" not in text
    # self-contained: nothing is fetched (the only URLs are XML namespaces)
    assert not re.search(r'(src|href)="(https?:)?//', page.html)


def test_loops_branches_and_helpers():
    page = explain(sp.loop_branch_helper, 0.9, 4, wrt="x")
    root = parse(page.html)
    text = "".join(root.itertext())
    assert "for i in v1: trip 1 (i = 0)" in text and "def bwd_helper" in text


def test_highlight_marks_tokens_per_line():
    lines = highlight('def f(x):\n    """two\n    lines"""\n    return x + 1  # one\n')
    assert lines[0].startswith('<span class="kw">def</span>')
    assert lines[1] == '    <span class="str">&quot;&quot;&quot;two</span>'  # a string on two
    assert lines[2] == '<span class="str">    lines&quot;&quot;&quot;</span>'  # lines: a span each
    assert '<span class="num">1</span>' in lines[3] and '<span class="com"># one</span>' in lines[3]


def test_cli_explain(tmp_path):
    out = tmp_path / "page.html"
    done = subprocess.run([sys.executable, "-m", "s2sad", "explain", "examples/lecture.py:f",
                           "--at", "x=2,y=3", "-o", str(out)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    parse(out.read_text())


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium (.ci/run installs it)")
def test_the_page_in_a_browser(tmp_path):
    lecture = example_function("examples/lecture.py", "f")
    page = explain(lecture, 2.0, 3.0).html
    # hover the SSA statement of line 24, as a user would, then let the DOM be dumped
    probe = ("<script>document.querySelector('#ssa [data-line=\"24\"]')"
             ".dispatchEvent(new MouseEvent('mouseenter'));</script></body>")
    path = tmp_path / "probe.html"
    path.write_text(page.replace("</body>", probe))
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not console, "the page logged to the console:\n" + "\n".join(console)
    dom = done.stdout
    marked = re.findall(r'<(\w+) class="[^"]*\bhl\b[^"]*" data-line="(\d+)"', dom)
    # line 24 lit up in the source, the SSA form, both traces and the generated code...
    assert {line for _, line in marked} == {"24"}
    assert len(marked) >= 1 + 2 + 2 + 2 + 3
    # ...and nothing of line 25
    assert 'class="row hl" data-line="25"' not in dom
