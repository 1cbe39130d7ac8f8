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
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"python benchmarks/rnn.py --quick failed:\n{result.stderr}"
    plain, checkpointing = result.stdout.split("# Loop checkpointing")
    lines = plain.splitlines()
    header = [line for line in lines if line.startswith("| T |")]
    assert len(header) == 1, result.stdout
    assert "gradient / f" in header[0] and "peak memory" in header[0]
    rows = [line for line in lines if re.match(r"\| [0-9,]+ \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == ["10", "100"], result.stdout
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 7, row
        assert re.fullmatch(r"[0-9.]+x", cells[3]), row


def test_rnn_benchmark_quick_compares_checkpointing():
    """The checkpointing table: a row per T and variant, the states stored counted exactly:
    T without checkpointing, at most 2 sqrt(T) with "sqrt", the snapshots and one trip with
    "binomial" (at most 10 + 1 with 10 snapshots)."""
    result = subprocess.run([sys.executable, os.path.join("benchmarks", "rnn.py"), "--quick"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [[cell.strip() for cell in line.strip("|").split("|")]
            for line in result.stdout.split("# Loop checkpointing")[1].splitlines()
            if re.match(r"\| [0-9,]+ \|", line)]
    variants = ["none", "sqrt", "binomial", "binomial, 10 snapshots"]
    assert [(row[0], row[1]) for row in rows] == [(T, v) for T in ("10", "100") for v in variants]
    for T, label, _, _, ratio, stored, _, _ in rows:
        T, stored = int(T), int(stored)
        assert re.fullmatch(r"[0-9.]+x", ratio)
        assert stored == T if label == "none" else stored <= 2 * T ** 0.5 if label == "sqrt" \
            else stored <= 11 if label.endswith("10 snapshots") else stored < T


def test_compare_quick():
    """benchmarks/compare.py --quick runs every case and prints the comparison table.

    The peers (autograd, JAX, PyTorch) take part only where they are installed
    (the ``bench`` extra); without them their cells read n/a.
    """
    result = subprocess.run([sys.executable, os.path.join("benchmarks", "compare.py"), "--quick"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, \
        f"python benchmarks/compare.py --quick failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    header = [line for line in lines if line.startswith("| case |") and "| s2sad / f |" in line]
    assert len(header) == 1, result.stdout
    columns = [cell.strip() for cell in header[0].strip("|").split("|")]
    assert "s2sad / f" in columns and "floor" in columns and "torch / f" in columns
    start = lines.index(header[0])
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    names = [row[0] for row in rows]
    assert len(rows) == 17, result.stdout
    for kind in ("Newton", "RNN", "np.dot", "Huber", "layer norm", "softmax", "gated", "reading"):
        assert any(kind in name for name in names), (kind, names)
    for row in rows:
        assert len(row) == len(columns), row
        assert re.fullmatch(r"[0-9.]+x", row[columns.index("s2sad / f")]), row
        assert re.fullmatch(r"[0-9.]+ (µs|ms|s)", row[columns.index("s2sad transform")]), row
        assert re.fullmatch(r"[0-9.]+ (B|KiB|MiB)", row[columns.index("s2sad peak memory")]), row
        assert re.fullmatch(r"[0-9]+ / [0-9]+|n/a", row[columns.index("arrays made, f / grad")])
        assert re.fullmatch(r"[0-9.]+ (B|KiB|MiB), [0-9.]+x (✓|✗|—)|n/a",
                            row[columns.index("backward reads, peak / reads")]), row
    counts = {row[0]: row[columns.index("arrays made, f / grad")] for row in rows}
    if "n/a" not in counts.values():  # NumPy's allocator could be set (NEP 49): counted
        made, grad = map(int, counts["MLP small 10-16-1, N=32"].split(" / "))
        assert 0 < made < grad, counts
