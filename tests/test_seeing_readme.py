"""README.md, "Seeing a derivative": each command shown there (``$ s2sad ...``) prints, or
writes, exactly the text shown under it, and its pictures are the ones the commands draw."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from tests.programs.examples import ROOT

SECTION = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read() \
    .split("### Seeing a derivative", 1)[1].split("\n### ", 1)[0]


def shown():
    """``[(argv, shown output)]``: each indented ``$ s2sad ...`` and the block under it."""
    out = []
    for match in re.finditer(r"^    \$ (s2sad .*)\n((?:    .*\n|\n)+)", SECTION, re.M):
        block = [line[4:] for line in match.group(2).splitlines()]
        while block and not block[-1]:
            block.pop()
        out.append((shlex.split(match.group(1)), "\n".join(block) + "\n"))
    return out


def test_the_section_shows_a_trace_a_graph_and_a_cost_report():
    commands = [argv[1] for argv, _ in shown()]
    assert commands == ["trace", "graph", "cost"]


def test_each_command_prints_what_the_readme_shows(tmp_path):
    for argv, text in shown():
        if "-o" in argv:  # the graph: written to a file, shown as that file
            k = argv.index("-o") + 1
            argv[k] = str(tmp_path / os.path.basename(argv[k]))
        done = subprocess.run([sys.executable, "-m", "s2sad", *argv[1:]], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        printed = done.stdout if "-o" not in argv else \
            open(argv[argv.index("-o") + 1], encoding="utf-8").read()
        assert printed.rstrip("\n") == text.rstrip("\n"), f"README shows other output for {argv}"


def test_the_pictures_are_the_ones_the_commands_draw(tmp_path):
    """docs/steps_graph.svg is what the section's graph command draws with -o .svg (its text:
    Graphviz's layout numbers may differ between versions), and docs/explain_steps.png is a
    picture docs/screenshot.py draws (by headless Chromium, when the machine has it)."""
    assert "![The computational graph" in SECTION and "(docs/steps_graph.svg)" in SECTION
    assert "(docs/explain_steps.png)" in SECTION
    committed = os.path.join(ROOT, "docs", "steps_graph.svg")
    with open(os.path.join(ROOT, "docs", "explain_steps.png"), "rb") as png:
        head = png.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == \
        (1100, 1960)
    if shutil.which("dot") is None:
        return
    drawn = tmp_path / "steps.svg"
    done = subprocess.run([sys.executable, "-m", "s2sad", "graph", "examples/sqrt_exp.py:steps",
                           "--at", "x=0.8", "--adjoints", "-o", str(drawn)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    def texts(path):
        return sorted(t.strip() for t in ET.parse(path).getroot().itertext() if t.strip())

    assert texts(drawn) == texts(committed)
    if shutil.which("chromium") is None:
        return
    shot = tmp_path / "page.png"
    done = subprocess.run([sys.executable, "docs/screenshot.py", "-o", str(shot)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
