"""Analyses of the SSA IR that the transforms consult.

* :func:`activity` -- a value is *active* if it depends on a ``wrt`` input
  (varied) and the output depends on it (useful). Only active values get
  adjoint or tangent code; data, labels, shapes and indices get none. Lists
  used as stacks carry derivatives through *slots* (:func:`list_slot`).
* :class:`ShapeClasses` -- which values are known to share a shape, and which
  are known to be 0-d, without knowing any shape: ``tanh(x)`` has ``x``'s
  shape, ``x * 2.0`` too, ``np.sum(x)`` is 0-d. Where an operand is known to
  have its result's shape, its adjoint needs no ``unbroadcast``. With
  ``output_is_scalar`` (``grad`` checks it at run time) a 0-d result of an
  element-wise operation makes its operands 0-d as well.

The package's modules, one per concern: :mod:`~s2sad.analysis.activity` (the
dataflow graph, activity, list slots), :mod:`~s2sad.analysis.shapes` (shape classes,
element-wise calls), :mod:`~s2sad.analysis.regions` (block definitions, what the
forward sweep needs, pruning) and :mod:`~s2sad.analysis.names` (derived and fresh
names, names gast code reads). Everything is re-exported here.

Layer 4: imports the IR, the rules and :mod:`s2sad.lower` (to read a called
function, :func:`is_elementwise`), never a transform.
"""

from ..astutil import unique_name
from ..structural import defined_names
from .activity import active_slots, activity, dataflow_edges, list_slot, list_slots
from .names import derived_namer, free_names, names_read
from .regions import block_defs, needed_names, prune, walk
from .shapes import ShapeClasses, is_elementwise, is_scalar_const

__all__ = ["ShapeClasses", "active_slots", "activity", "block_defs", "dataflow_edges",
           "defined_names", "derived_namer", "free_names", "is_elementwise", "is_scalar_const",
           "list_slot", "list_slots", "names_read", "needed_names", "prune", "unique_name",
           "walk"]
