"""s2sad.graph: the SSA form as a Graphviz DAG; DOT text always, SVG and PNG through the
Graphviz program (installed by .ci/run, so these tests render rather than skip)."""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import s2sad
import seeing_programs as sp
from s2sad.graph import graph
from s2sad.ir import Assign, walk_blocks
from s2sad.lower import lower
from tests.programs.examples import IDS, ROOT, TARGETS, example_function, sample

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz 'dot' missing (.ci/run installs it)")


def parse_dot(text):
    """``(nodes {id: label}, edges [(from, to, label)], clusters)`` of DOT text s2sad wrote."""
    nodes = dict(re.findall(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M))
    edges = re.findall(r'^\s*(n\d+) -> (n\d+) \[label="((?:[^"\\]|\\.)*)"', text, re.M)
    clusters = re.findall(r"subgraph (cluster_\d+)", text)
    assert text.count("{") == text.count("}"), "unbalanced braces"
    return nodes, edges, clusters


def check_structure(fn, g):
    nodes, edges, _ = parse_dot(g.dot)
    for a, b, _ in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} to an undeclared node"
    labels = list(nodes.values())
    ir = lower(fn)
    for p in ir.params:
        assert p.name in labels
    assigns = [s for s in walk_blocks(ir.body) if isinstance(s, Assign)]
    # every statement is a box, written "targets = prim(...)"
    for stmt in assigns:
        targets = ", ".join(str(t) for t in stmt.targets)
        assert any(label.startswith(f"{targets} = {stmt.prim.name}(") for label in labels), \
            f"no node for {targets} = {stmt.prim.name}"
    assert "return" in labels
    return nodes, edges


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_graph_of_every_example(target):
    path, function, _ = target
    fn = example_function(path, function)
    check_structure(fn, graph(fn))


def test_lecture_graph_edges_values_and_adjoints():
    steps = example_function("examples/sqrt_exp.py", "steps")
    x = 0.8
    g = graph(steps, x, adjoints=True)
    nodes, edges = check_structure(steps, g)
    by_label = {label: node for node, label in nodes.items()}
    a, b, c = by_label["a = pow(·, 2)"], by_label["b = np.exp(·)"], by_label["c = add(·, ·)"]
    forward = {(u, v): label for u, v, label in edges}
    # a is used twice: two edges leave it, each labelled with its value and adjoint
    a_bar = 0.5 / np.sqrt(np.exp(x * x) + x * x) * (1 + np.exp(x * x))
    expected = f"a\\n= 0.64\\nbar = {a_bar:.6g}"
    assert forward[(a, b)] == expected and forward[(a, c)] == expected
    assert forward[(by_label["x"], a)] == f"x\\n= 0.8\\nbar = {s2sad.grad(steps)(x):.6g}"
    # the adjoint flow: each forward edge reversed, red (every value here depends on x)
    back = re.findall(r"(n\d+) -> (n\d+) \[color=red.*label=\"(\w+)\"\]", g.dot)
    assert sorted(back) == sorted((v, u, label.split("\\n")[0] + "_bar")
                                  for u, v, label in edges)
    assert "color=red" not in graph(steps).dot


def test_adjoint_edges_follow_activity():
    lecture = example_function("examples/lecture.py", "f")
    nodes, edges, _ = parse_dot(graph(lecture, wrt="x", adjoints=True).dot)
    back = re.findall(r"-> (n\d+) \[color=red.*label=\"(\w+)\"\]",
                      graph(lecture, wrt="x", adjoints=True).dot)
    assert {label for _, label in back} == {"x_bar", "v1_bar", "a_bar", "v2_bar", "out_bar"}
    # with respect to y, log(x) is a constant: no adjoint flows to v1 or x
    back = re.findall(r"label=\"(\w+)\"\]", graph(lecture, 2.0, 3.0, wrt="y", adjoints=True).dot)
    assert "y_bar" in back and "x_bar" not in back and "v1_bar" not in back


def test_loops_and_branches_are_clusters():
    g = graph(sp.loop_branch_helper, 0.9, 4, wrt="x")
    nodes, edges, clusters = parse_dot(g.dot)
    assert len(clusters) == 4  # the loop, the if, its then and else branches
    assert 'label="for i in v1  (line 14)"' in g.dot and 'label="if v2  (line 15)"' in g.dot
    labels = {label: node for node, label in nodes.items()}
    carry, phi = labels["z_1 = carry(z -> ...)"], labels["z_4 = phi(z_2, z_3)"]
    assert (phi, carry) in {(u, v) for u, v, _ in edges}  # the next trip's value, dashed
    assert re.search(rf"{phi} -> {carry} \[label=\"z_4[^\"]*\", style=dashed\]", g.dot)
    # with values: the last trip's (x = 0.9, 4 trips: z_4 = 1.44749 in the last)
    assert "z_4\\n= 1.44749" in g.dot
    while_graph = graph(sp.halve_until_small)
    assert 'label="while v' in while_graph.dot


@needs_dot
def test_svg_and_png(tmp_path):
    steps = example_function("examples/sqrt_exp.py", "steps")
    g = graph(steps, 0.8, adjoints=True)
    root = ET.fromstring(g.svg())
    assert root.tag == f"{SVG}svg"
    titles = {n.findtext(f"{SVG}title") for n in root.iter(f"{SVG}g")
              if n.get("class") == "node"}
    nodes, edges, _ = parse_dot(g.dot)
    assert titles == set(nodes)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "b = np.exp(·)" in texts and "a_bar" in texts
    path = g.save(str(tmp_path / "g.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert g._repr_svg_().lstrip().startswith("<?xml")


def test_missing_dot_names_the_package(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    steps = example_function("examples/sqrt_exp.py", "steps")
    with pytest.raises(s2sad.UsageError, match="apt-get install graphviz"):
        graph(steps).svg()
    assert graph(steps).dot.startswith('digraph "steps"')  # DOT needs nothing
    with pytest.raises(s2sad.UsageError, match=r"\.svg, \.png or \.dot"):
        graph(steps).save("picture.jpeg")


def run_cli(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "s2sad", *argv], cwd=ROOT, capture_output=True,
                          text=True, env=env)


@needs_dot
def test_cli_graph(tmp_path):
    out = tmp_path / "lecture.svg"
    done = run_cli("graph", "examples/lecture.py:f", "-o", str(out), "--at", "x=2,y=3",
                   "--adjoints")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    texts = [t.text for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    assert "a = mul(·, ·)" in texts and "bar = 1.34673" in texts
    done = run_cli("graph", "examples/lecture.py:f")
    assert done.returncode == 0 and done.stdout.startswith('digraph "f"')
    # without Graphviz on the PATH: DOT still works, a picture is a clear error
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    done = run_cli("graph", "examples/lecture.py:f", "-o", str(tmp_path / "g.png"), env=env)
    assert done.returncode == 1 and "graphviz" in done.stderr and not (tmp_path / "g.png").exists()
    done = run_cli("graph", "examples/lecture.py:f", "-o", str(tmp_path / "g.dot"), env=env)
    assert done.returncode == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_no_adjoint_edge_into_a_comparison():
    g = graph(sp.loop_branch_helper, adjoints=True)
    nodes, _, _ = parse_dot(g.dot)
    compare = next(n for n, label in nodes.items() if label.startswith("v2 = gt("))
    assert not re.search(rf"{compare} -> n\d+ \[color=red", g.dot)
    assert re.search(rf"n\d+ -> n\d+ \[color=red.*label=\"z_1_bar\"", g.dot)
