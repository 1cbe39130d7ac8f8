"""README.md, "Seeing a derivative": each command shown there (``$ s2sad ...``) prints, or
writes, exactly the text shown under it."""

import os
import re
import shlex
import subprocess
import sys

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
