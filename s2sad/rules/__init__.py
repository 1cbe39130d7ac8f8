"""Derivative rules, one table per primitive family.

========================  =====================================================
module                    primitives
========================  =====================================================
:mod:`.operators`         ``+ - * / ** @ %``, unary ``-``, comparisons, indexing, ``.T``,
                          tuple/list literals, tape (list) operations
:mod:`.elementwise`       NumPy ufuncs, ``math`` functions, ``abs``/``float``/``max``/``min``
:mod:`.reductions`        ``np.sum mean prod max min var std average ptp``, the ``nan*``
                          reductions, scans (``cumsum cumprod``), ``diff``
:mod:`.linear_algebra`    products (``dot matmul outer einsum tensordot kron ...``), shape,
                          gather and join operations, ``np.linalg``
:mod:`.support_rules`     the run-time helpers of generated code (``unbroadcast``, ...)
========================  =====================================================

:mod:`.core` defines the registry and the template language.
"""

from . import (elementwise, linear_algebra, operators, reductions,  # noqa: F401  (register)
               support_rules)
from .core import OPERATORS, REGISTRY, ZERO, Primitive, RuleNotApplicable, all_primitives, lookup

__all__ = ["OPERATORS", "REGISTRY", "ZERO", "Primitive", "RuleNotApplicable", "all_primitives",
           "lookup"]
