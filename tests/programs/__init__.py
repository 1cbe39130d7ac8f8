"""Programs the tests run: the example corpus and random programs.

- :mod:`tests.programs.examples`: generated/regenerate.py's targets and their sample
  arguments (shared by test_examples.py and test_generated.py).
- :mod:`tests.programs.generator`, :mod:`tests.programs.random_programs`: random-program
  testing of s2sad: generator, checker, classifier and shrinker (run it with
  ``python -m tests.programs.random_programs --help``).
"""
