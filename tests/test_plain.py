"""``plain=True`` (``s2sad grad --plain``): modules with short reference helpers, for reading.

The derivative functions are those of the ordinary module, and the run-time helpers
follow them under one comment line in both; a plain module's helpers are the
versions of :mod:`s2sad.support_plain`, without fast paths. Checked: the plain module
of every example computes what the ordinary one does, each plain helper agrees with
its fast twin, plain code is differentiated again, and the CLI writes it.
"""

import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import s2sad
from s2sad import cache, support, support_plain
from s2sad.helper_sources import HELPER_SOURCE, PLAIN_SOURCE
from tests.programs.examples import IDS, ROOT, TARGETS, as_tuple, example_function, sample

HEADING = "# --- run-time helpers the functions above call"


def _functions(text):
    """The module's text before the helpers: its docstring, imports and derivative functions."""
    return text.split(HEADING)[0]


@pytest.mark.parametrize("path, function, wrt", TARGETS, ids=IDS)
def test_a_plain_module_computes_what_the_ordinary_one_does(path, function, wrt):
    fn = example_function(path, function)
    args = sample(path, function)
    positions = tuple(list(fn.__code__.co_varnames).index(name) for name in wrt)
    ordinary, plain = (s2sad.source(fn, positions, plain=p) for p in (False, True))
    assert _functions(plain) == _functions(ordinary)  # the derivatives themselves read the same
    assert plain.count(HEADING) == ordinary.count(HEADING) <= 1
    namespace, generated = cache.compiled(fn, "reverse_plain", positions)
    result = namespace[generated.entry_points["grad"]](*args)
    expected = s2sad.grad(fn, positions)(*args)
    for got, want in zip(as_tuple(result), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    if HEADING in plain:
        assert len(plain.split(HEADING)[1]) < len(ordinary.split(HEADING)[1])


_rng = np.random.default_rng(5)
CASES = {
    "unbroadcast": [(_rng.standard_normal((2, 3, 4)), _rng.standard_normal((3, 1))),
                    (_rng.standard_normal((3, 4)), 2.0), (1.5, 2.0),
                    (_rng.standard_normal(4), _rng.standard_normal(4))],
    "unreduce": [(_rng.standard_normal(3), _rng.standard_normal((3, 4)), 1, False),
                 (2.0, _rng.standard_normal((2, 2)), None, False),
                 (_rng.standard_normal((1, 4)), _rng.standard_normal((3, 4)), 0, True)],
    "zeros_bar": [(_rng.standard_normal(3),), (1.0,), ((1.0, np.ones(2)),)],
    "matmul_bar_a": [(_rng.standard_normal((3, 2)), _rng.standard_normal((3, 4)),
                      _rng.standard_normal((4, 2))),
                     (_rng.standard_normal(3), _rng.standard_normal((3, 4)),
                      _rng.standard_normal(4)),
                     (_rng.standard_normal((2, 3, 5)), _rng.standard_normal((2, 3, 4)),
                      _rng.standard_normal((4, 5)))],
    "matmul_bar_b": [(_rng.standard_normal((3, 2)), _rng.standard_normal((3, 4)),
                      _rng.standard_normal((4, 2))),
                     (_rng.standard_normal(2), _rng.standard_normal(4),
                      _rng.standard_normal((4, 2)))],
    "matmul_bar_a_sum": [([(_rng.standard_normal(3), _rng.standard_normal(4)) for _ in range(3)],
                          _rng.standard_normal((3, 4)))],
    "matmul_bar_b_sum": [([(_rng.standard_normal(4), _rng.standard_normal(3)) for _ in range(3)],
                          _rng.standard_normal((3, 4)))],
}


@pytest.mark.parametrize("name", support_plain.PLAIN)
def test_each_plain_helper_agrees_with_its_fast_twin(name):
    if name == "scatter_add":
        for index in (1, (slice(0, 2),), np.array([0, 0, 2])):
            fast, plain = np.zeros(4), np.zeros(4)
            support.scatter_add(fast, index, 1.5)
            support_plain.scatter_add(plain, index, 1.5)
            np.testing.assert_array_equal(plain, fast)
        return
    if name == "check_scalar":
        support_plain.check_scalar(np.float64(1.0), "f")
        with pytest.raises(support.NotScalar, match="vjp_f"):
            support_plain.check_scalar(np.ones(2), "f")
        return
    for args in CASES[name]:
        fast, plain = getattr(support, name)(*args), getattr(support_plain, name)(*args)
        for f, p in zip(as_tuple(tuple(fast) if isinstance(fast, list) else fast),
                        as_tuple(tuple(plain) if isinstance(plain, list) else plain)):
            assert np.shape(p) == np.shape(f), name
            np.testing.assert_allclose(p, f, rtol=1e-13, atol=1e-13, err_msg=name)


def test_plain_code_is_differentiated_again():
    fn = example_function("examples/mlp.py", "loss")
    args = sample("examples/mlp.py", "loss")
    namespace, generated = cache.compiled(fn, "reverse_plain", (0,))
    grad_plain = namespace[generated.entry_points["grad"]]
    v = np.random.default_rng(3).standard_normal(np.shape(args[0]))
    _, second = s2sad.jvp(grad_plain)(*args, v)
    expected = s2sad.hvp(fn)(*args, v)
    np.testing.assert_allclose(second, expected, rtol=1e-10, atol=1e-12)


def test_the_cli_writes_a_plain_module(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "s2sad", "grad", "examples/mlp.py:loss",
                          "--wrt", "W1,b1", "--plain", "-o", str(out)],
                         cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    written = run.stdout.strip()
    text = open(written, encoding="utf-8").read()
    assert "reference versions" in text and "np.add.reduce" not in text
    check = subprocess.run([sys.executable, "-c", f"import runpy; ns = runpy.run_path({written!r});"
                            "import numpy as np; r = np.random.default_rng(0);"
                            "args = (r.standard_normal((2, 5)), r.standard_normal(5),"
                            " r.standard_normal((5, 1)), r.standard_normal(1),"
                            " r.standard_normal((7, 2)), r.standard_normal((7, 1)));"
                            "print(len(ns['grad_loss'](*args)))"],
                           capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == "2", check.stderr
    assert re.search(r"^def unbroadcast\(g, x\):", text, flags=re.MULTILINE)


def test_the_helpers_texts_are_what_inspect_reads():
    """helper_sources cuts each helper from its file's one parse: the text inspect.getsource
    gives, for every helper and plain version, a generated module copying a helper verbatim
    and the lowerer telling a copy by it."""
    assert set(HELPER_SOURCE) == set(support.HELPERS) == set(PLAIN_SOURCE)
    for name in support.HELPERS:
        assert HELPER_SOURCE[name] == inspect.getsource(getattr(support, name)), name
        home = support_plain if name in support_plain.PLAIN else support
        assert PLAIN_SOURCE[name] == inspect.getsource(getattr(home, name)), name
    assert PLAIN_SOURCE["unbroadcast"] != HELPER_SOURCE["unbroadcast"]  # a plain version
