"""``s2sad rules --coverage``: the counts agree with what s2sad does on each name."""

import os
import subprocess
import sys

import numpy as np
import pytest

import s2sad
from s2sad.coverage import coverage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_counts_partition_each_namespace():
    reports = {r.namespace: r for r in coverage()}
    assert set(reports) == {"np", "np.linalg", "np.fft"}
    for r in reports.values():
        names = r.with_rules + r.zero + r.missing
        assert len(names) == len(set(names)) == r.total > 0
    np_ = reports["np"]
    assert {"sin", "sum", "matmul", "einsum"} <= set(np_.with_rules)
    assert {"sign", "argmax"} <= set(np_.zero)
    assert "nanmedian" in np_.missing and "inv" in reports["np.linalg"].with_rules


def uses_median(x):
    return np.nanmedian(x * 2.0)


def uses_sin(x):
    return np.sum(np.sin(x))


def test_missing_means_a_located_error_and_with_rules_means_a_gradient():
    x = np.array([0.3, -0.2, 0.9])
    with pytest.raises(s2sad.NoDerivativeError, match="np.nanmedian"):
        s2sad.grad(uses_median)(x)
    np.testing.assert_allclose(s2sad.grad(uses_sin)(x), np.cos(x))


def test_cli_prints_the_table_and_the_missing_names():
    done = subprocess.run([sys.executable, "-m", "s2sad", "rules", "--coverage"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("| namespace | public callables | with rules |")
    rows = {line.split("|")[1].strip(): line for line in lines[2:5]}
    assert set(rows) == {"np", "np.linalg", "np.fft"}
    assert any(line.startswith("missing in np (") and "nanmedian" in line for line in lines)
