"""Programs the tests run: the example corpus and random programs.

- :mod:`tests.programs.examples`: generated/regenerate.py's targets and their sample
  arguments (shared by test_examples.py and test_generated.py).
- :mod:`tests.programs.primitive_cases`: the per-primitive spec table's cases (shared by
  test_primitives.py and test_duck_arrays.py).
- :mod:`tests.programs.generator`, :mod:`tests.programs.random_programs`: random-program
  testing of s2sad: generator, checker, classifier and shrinker (run it with
  ``python -m tests.programs.random_programs --help``).
"""
