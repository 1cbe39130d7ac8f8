"""Derivative rules, one table per primitive family.

========================  =====================================================
module                    primitives
========================  =====================================================
:mod:`.operators`         ``+ - * / ** @ %``, unary ``-``, comparisons, indexing, ``.T``,
                          tuple/list literals, tape (list) operations
:mod:`.elementwise`       NumPy ufuncs, ``math`` functions, ``abs``/``float``/``max``/``min``,
                          ``modf``/``divmod`` (two results)
:mod:`.reductions`        ``np.sum mean prod max min var std average ptp``, the ``nan*``
                          reductions, scans (``cumsum cumprod``), ``diff``
:mod:`.linear_algebra`    products (``dot matmul outer einsum tensordot kron ...``), shape,
                          gather and join operations
:mod:`.linalg`            ``np.linalg``: ``inv solve det``, decompositions, ``lstsq``
:mod:`.norms`             ``np.linalg.norm vector_norm matrix_norm``, every ``ord``
:mod:`.signal`            ``np.convolve correlate interp gradient trapezoid``
:mod:`.arrays`             ``column_stack dstack row_stack array_split dsplit rollaxis select``,
                          ``broadcast_arrays meshgrid``
:mod:`.statistics`        ``np.cov``
:mod:`.ufunc_methods`     ``np.add.reduce``, ``np.multiply.accumulate``, ``np.multiply.outer``, ...
:mod:`.support_rules`     the run-time helpers of generated code (``unbroadcast``, ...)
========================  =====================================================

:mod:`.core` defines the registry and the template language; this package, importing
every table, is where a Python object's primitive is looked up (:func:`lookup`).

Layer 2 of the package (see README, "The pipeline"): the rules import only
:mod:`s2sad.ir`, :mod:`s2sad.support` and :mod:`s2sad.astutil`. The user's own
rules (:mod:`s2sad.custom`) sit beside them; lowering asks for those itself.
"""

from . import (arrays, elementwise, linalg, linear_algebra, norms, operators, reductions, signal,
               statistics, support_rules, ufunc_methods)
from .core import (METHODS, OPERATORS, REGISTRY, ZERO, Primitive, RuleNotApplicable,
                   all_primitives)
from .support_rules import helper_copy

TABLES = (arrays, elementwise, linalg, linear_algebra, norms, operators, reductions, signal,
          statistics, support_rules, ufunc_methods)  # the rule tables: importing each registers its stanzas


def lookup(obj):
    """The primitive registered for a Python object, or None.

    A generated module's own copy of a run-time helper (``unbroadcast``, ...)
    is that helper's primitive, so derivative code can be differentiated again.
    (A function decorated with ``@s2sad.custom_vjp`` has the primitive of its
    user-given rules: :func:`s2sad.custom.primitive_of`, which lowering asks too.)
    """
    try:
        prim = REGISTRY.get(obj)
    except TypeError:  # unhashable
        return None
    if prim is None:
        prim = helper_copy(obj)
    return prim


__all__ = ["METHODS", "OPERATORS", "REGISTRY", "ZERO", "Primitive", "RuleNotApplicable", "all_primitives",
           "lookup"]
