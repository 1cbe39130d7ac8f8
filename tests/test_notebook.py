"""examples/lecture_notebook.ipynb, run again in a Jupyter kernel (nbclient), so it never goes
stale: no cell fails, the outputs show the lecture's numbers (the trace, the hand counts
4, 10, 3 and 5, the chain's sums of products), the graph is SVG, and every text the
committed notebook shows is what running it shows now.

After a change that alters what the notebook shows, write its outputs again with

    PYTHONPATH=$PWD python -m tests.test_notebook --write
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "examples", "lecture_notebook.ipynb")
TEXTS = ("text/plain", "text/markdown", "text/html")


def execute(nb):
    """Run ``nb`` (in place) in a fresh python3 kernel whose working directory is examples/."""
    import nbclient  # (in a function: the test is skipped, not failed, without Jupyter)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
    client.execute()
    return nb


def normal(text):
    """``text`` without what differs from run to run: the file a kernel gives a cell's code
    (/tmp/ipykernel_<pid>/<hash>.py), object addresses."""
    text = re.sub(r"\S*ipykernel_\d+/\d+\.py", "CELL.py", text)
    return re.sub(r"0x[0-9a-f]{6,}", "0x...", text)


def shown(cell):
    """What a code cell shows as text: its printed output, joined, and each text rendering of
    its results (SVG aside: Graphviz's version is written in it)."""
    out = {"stream": "".join(o["text"] for o in cell["outputs"] if o["output_type"] == "stream")}
    for o in cell["outputs"]:
        for mime in TEXTS:
            if mime in o.get("data", {}):
                out[mime] = normal(o["data"][mime])
    out["stream"] = normal(out["stream"])
    return out


@pytest.fixture(scope="module")
def executed():
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        pytest.skip("no python3 Jupyter kernel (the test extra's ipykernel provides one)")
    committed = nbformat.read(NOTEBOOK, as_version=4)
    fresh = execute(nbformat.read(NOTEBOOK, as_version=4))
    return committed, fresh


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def output_of(nb, first_line):
    """What the code cell starting with ``first_line`` shows."""
    cells = [c for c in code_cells(nb) if c.source.startswith(first_line)]
    assert len(cells) == 1, first_line
    return shown(cells[0])


def test_no_cell_fails_and_every_cell_shows_something(executed):
    _, fresh = executed
    for cell in code_cells(fresh):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        assert cell.outputs, f"the cell shows nothing:\n{cell.source}"


def test_the_lecture_numbers(executed):
    _, fresh = executed
    first = output_of(fresh, "import numpy as np")["stream"]
    assert "f(0.8) = 1.592633" in first and first.count("f'(0.8) = 1.454939") == 2
    listing = output_of(fresh, "s2sad.ssa(f)")
    assert "a = pow(x, 2)     # line 6: a = x ** 2" in listing["text/plain"]
    assert '<span style="color:#60a0b0;font-style:italic"># line 6' in listing["text/html"]
    reverse = output_of(fresh, "t = s2sad.trace(f, x)")
    assert "0.313945 + 0.595392 = 0.909337  a_bar = c_bar + c_bar * b" in reverse["text/plain"]
    assert "<table" in reverse["text/html"] and "| `0.313945 + 0.595392 = 0.909337` |" in \
        reverse["text/markdown"]
    forward = output_of(fresh, 's2sad.trace(f, x, mode="forward")')["text/plain"]
    assert "out = np.sqrt(c)  1.59263  1.45494" in forward
    counts = output_of(fresh, "def derivative_formula")["stream"]
    assert re.findall(r"(\d+) operations", counts) == ["4", "10", "3", "5"]
    cost = output_of(fresh, "report = s2sad.cost(f, x)")["text/plain"]
    assert "forward sweep 4 + backward sweep 5 = 9 operations" in cost
    assert "def</span> grad_f(x):" in output_of(fresh, "s2sad.differentiate(f)")["text/html"]
    loop = output_of(fresh, "def power")["stream"]
    assert "-- ... 12 rows of later trips" in loop and "gradient = 45.5625" in loop
    chain = output_of(fresh, "def chain")["stream"]
    assert "forward n0 * S = 2220,  backward n3 * S = 55500" in chain
    assert "picks forward: n = 2 input entries < m = 50" in chain
    assert "picks reverse: n = 50 input entries >= m = 2" in chain
    page = output_of(fresh, "import re")["stream"]
    assert "['source', 'ssa', 'graph', 'forward', 'reverse', 'code', 'cost']" in page


def test_the_graph_is_inline_svg(executed):
    _, fresh = executed
    cell = next(c for c in code_cells(fresh) if c.source.startswith("s2sad.graph("))
    svg = cell.outputs[0]["data"].get("image/svg+xml")
    if svg is None:  # Graphviz missing: the text says so (.ci/run installs it)
        pytest.skip("the Graphviz program dot is not installed")
    root = ET.fromstring(svg[svg.index("<svg"):])
    labels = "".join(root.itertext())
    assert "a = pow(·, 2)" in labels and labels.count("a_bar") == 2  # two contributions


def test_the_committed_notebook_shows_what_it_computes(executed):
    committed, fresh = executed
    old, new = code_cells(committed), code_cells(fresh)
    assert [c.source for c in old] == [c.source for c in new]
    for before, after in zip(old, new):
        assert shown(before) == shown(after), (
            f"examples/lecture_notebook.ipynb shows stale output for\n{before.source}\n"
            f"(write it again: PYTHONPATH=$PWD python -m tests.test_notebook --write)")


def write():
    """Run the notebook and save it with its outputs."""
    import nbformat
    nb = execute(nbformat.read(NOTEBOOK, as_version=4))
    for cell in code_cells(nb):
        cell.metadata.pop("execution", None)
    nbformat.write(nb, NOTEBOOK)
    print(NOTEBOOK)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    write()
    json.load(open(NOTEBOOK))  # well-formed
