"""Random-program testing of s2sad: generator, oracle, classifier and shrinker.

See :mod:`tests.programs.random_programs` (run it with
``python -m tests.programs.random_programs --help``).
"""
