"""The benchmark scripts run (at their small ``--quick`` sizes) and print their table.

A smoke test only: no timing is asserted, timings on CI machines mean little.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_rnn_benchmark_quick_prints_a_table():
    result = subprocess.run([sys.executable, os.path.join("benchmarks", "rnn.py"), "--quick"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"python benchmarks/rnn.py --quick failed:\n{result.stderr}"
    lines = result.stdout.splitlines()
    header = [line for line in lines if line.startswith("| T |")]
    assert len(header) == 1, result.stdout
    assert "gradient / f" in header[0] and "peak memory" in header[0]
    rows = [line for line in lines if re.match(r"\| [0-9,]+ \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == ["10", "100"], result.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 7, row
        assert re.fullmatch(r"[0-9.]+x", cells[3]), row
