"""s2sad.explain and 's2sad explain': one self-contained HTML page (source, SSA form, graph,
traces, generated code, cost), parsed as XML, and opened in headless Chromium driven by
Selenium when the machine has them (.ci/run installs Chromium and its driver): no console
error, and moving the mouse onto a line highlights that line's elements across the page."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

try:  # the test extra's: without it, the browser test is skipped
    from selenium import webdriver
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
except ImportError:
    webdriver = None

import seeing_programs as sp
from s2sad.explain import explain, highlight
from tests.programs.examples import IDS, ROOT, TARGETS, example_function, sample

XHTML = "{http://www.w3.org/1999/xhtml}"
SECTIONS = ["source", "ssa", "graph", "forward", "reverse", "code", "cost"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


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
    graph_linked = ("graph",) if shutil.which("dot") else ()  # (DOT text without Graphviz)
    for key in ("ssa", "forward", "reverse", "code", "cost") + graph_linked:
        assert lines_in(sections[key]) and lines_in(sections[key]) <= source, key
    assert any(el.tag.endswith("svg") for el in sections["graph"].iter()) or \
        shutil.which("dot") is None
    text = "".join(sections["code"].itertext())
    assert "def grad_f(x, y):" in text and "a_bar = 1.0 + 0.5 / v2" in text
    assert "def vjp_f" not in text and "def unbroadcast" not in text
    # self-contained: nothing is fetched (the only URLs are XML namespaces)
    assert not re.search(r'(src|href)="(https?:)?//', page.html)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_the_page_of_every_example(target):
    path, function, wrt = target
    page = explain(example_function(path, function), *sample(path, function), wrt=wrt)
    root = parse(page.html)
    sections = {s.get("id"): s for s in root.iter(f"{XHTML}section")}
    assert list(sections) == SECTIONS
    source = lines_in(sections["source"])
    for key in ("ssa", "reverse", "code", "cost"):
        assert lines_in(sections[key]) and lines_in(sections[key]) <= source, key


def test_loops_branches_and_helpers():
    page = explain(sp.loop_branch_helper, 0.9, 4, wrt="x")
    root = parse(page.html)
    text = "".join(root.itertext())
    assert "for i in v1: trip 1 (i = 0)" in text and "def bwd_helper" in text
    # the helper's generated lines are lines of the helper's source, not shown on the page:
    # they link to nothing (the function's own lines do)
    code = next(s for s in root.iter(f"{XHTML}section") if s.get("id") == "code")
    rows = [el for el in code.iter() if el.get("class") == "row"]
    helper_rows = [el for el in rows if re.sub(r"^\d+", "", "".join(el.itertext()))
                   .startswith("def fwd_helper")]
    assert helper_rows and helper_rows[0].get("data-line") is None
    assert {el.get("data-line") for el in rows} >= {"13", "14", "16", "19"}


def test_an_array_output_shows_its_vector_jacobian_product():
    x, A, B, C = np.ones(3), np.ones((2, 3)), np.ones((2, 2)), np.ones((4, 2))
    root = parse(explain(sp.matrix_chain, x, A, B, C, wrt="x").html)
    code = next(s for s in root.iter(f"{XHTML}section") if s.get("id") == "code")
    text = "".join(code.itertext())
    assert "def vjp_matrix_chain(x, A, B, C, out_bar):" in text and "def grad_" not in text


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


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Selenium through Debian's chromedriver (.ci/run installs the
    packages chromium and chromium-driver; selenium is in the test extra)."""
    if webdriver is None:
        pytest.skip("no selenium (the test extra installs it)")
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("no Chromium or chromedriver (.ci/run installs chromium, chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--window-size=1200,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def lit(driver):
    """``{(section id, data-line)}`` of the highlighted elements."""
    return {(el.find_element(By.XPATH, "ancestor::section").get_attribute("id"),
             el.get_attribute("data-line")) for el in driver.find_elements(By.CSS_SELECTOR, ".hl")}


def hover(driver, selector):
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, selector)).perform()


def test_the_page_in_a_browser(browser, tmp_path):
    # the console check can fail: a page that logs an error is seen to
    browser.get("data:text/html,<script>console.error('s2sad probe')</script>")
    assert any("s2sad probe" in entry["message"] for entry in browser.get_log("browser"))
    lecture = example_function("examples/lecture.py", "f")
    path = tmp_path / "page.html"
    explain(lecture, 2.0, 3.0).save(str(path))
    browser.get(path.as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "f: how s2sad differentiates it"
    assert browser.find_element(By.CSS_SELECTOR, "#graph svg").is_displayed() or \
        shutil.which("dot") is None
    # the mouse on source line 24 lights line 24 in the source, the SSA form, both traces
    # and the generated code, and nothing else
    hover(browser, '#source [data-line="24"]')
    assert lit(browser) == {(key, "24") for key in ("source", "ssa", "graph", "forward",
                                                    "reverse", "code", "cost")}
    assert len(browser.find_elements(By.CSS_SELECTOR, ".hl")) >= 1 + 2 + 2 + 2 + 2 + 3
    # a graph node lit is drawn lit (the page's style fills its shape)
    node = browser.find_element(By.CSS_SELECTOR, '#graph g.hl[data-line="24"] polygon')
    assert node.value_of_css_property("fill") == "rgb(255, 236, 153)"
    hover(browser, "h1")  # away: nothing stays lit
    assert lit(browser) == set()
    # from the other side: a row of the reverse trace lights its source line
    hover(browser, '#reverse tr[data-line="25"]')
    assert ("source", "25") in lit(browser) and ("source", "24") not in lit(browser)
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
