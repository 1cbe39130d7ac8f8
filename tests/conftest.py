"""What the test modules share: where things live, and the fixtures.

- ``tests/oracle.py``: the finite-difference oracle, the one independent check of every
  derivative (``import oracle``; ``oracle.gradient(f, args, wrt)``).
- ``tests/tracing.py``: which generated functions run (a profile hook), for the few tests
  that look at generated code as it runs, instead of reaching into s2sad's cache.
- ``tests/programs/``: programs the tests run: the example corpus
  (:mod:`tests.programs.examples`: generated/regenerate.py's targets, their sample
  arguments) and the random-program generator and checker.
- ``tests/rule_snapshot.py``: every rule's templates rendered for many bindings, and the
  snapshot of them (``fixtures/rule_templates.json``) that pins derived templates.
- ``tests/fixtures/``: user modules s2sad reads (``globals_model``, ``ssa_cases``,
  the ``apifix`` package). Generated code imports them by their own names, so the
  directory is put on ``sys.path`` here, once.

- ``tests/duck.py``: a strict duck array (NumPy's dispatch protocols only).

No test module imports another; shared things live in the modules above and in
``tests/programs/`` (the primitive table's cases, ``tests.programs.primitive_cases``, run by
``test_primitives`` and, on Duck arrays, by ``test_duck_arrays``).
"""

import os
import sys

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
if FIXTURES not in sys.path:
    sys.path.append(FIXTURES)


@pytest.fixture
def restore_sys_path(monkeypatch):
    """sys.path back as it was after the test (the CLI puts the script's directory on it)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
