"""Reverse mode: an SSA function becomes a gast function computing its adjoints.

The generated function has two parts:

* the **forward sweep**: the primal statements, minus those neither the output
  nor the backward sweep reads (:func:`s2sad.analysis.prune`). Inside loops,
  each block ends by pushing onto ``tape`` the values it defines that the
  backward sweep reads (and that the next trip would overwrite); values
  computed before a loop are not stored per trip. Cheap inactive index
  arithmetic (``j = i + 1``, ``k = j % 3``, comparisons) is recomputed after the
  pop instead, with everything it depends on that is not available unchanged
  there (a value an enclosing loop carries is not, unless popped); where that
  closure is not cheap, the value is stored (:meth:`_Tape.fill_pops
<s2sad.reverse.tape._Tape.fill_pops>`).
* the **backward sweep**: the statements in reverse order. For ``z = f(x, y)``
  the rule table's templates give the contributions of ``z_bar`` to ``x_bar``
  and ``y_bar``. An ``if`` is replayed as an ``if`` on the same condition (in a
  loop, the trip's: popped or recomputed like any value the sweep reads); a
  loop is replayed in reverse (``for i in reversed(range(n))`` or, for ``while``
  loops and loops left early, ``for _ in range(trips)``), each block first
  popping what its forward block pushed.

Adjoints follow the "symbolic zero, first write assigns" discipline of
:class:`Adjoints`: an adjoint nobody has touched is not an array of zeros; its
first contribution assigns it, later ones add to it (in place only when the
adjoint is an array the sweep created itself, never an alias of another
adjoint). Zeros are written only where structure forces a value: an adjoint
set in one branch of an ``if`` but not the other, or accumulated across trips
of a loop. The seed of ``grad`` is the constant 1, which the simplifier folds
away, so ``x_bar = 1.0 * v1 / x`` is written ``x_bar = v1 / x``.

A list used as a stack (``t = []``, :data:`s2sad.rules.operators.LIST_OPS`),
such as the ``tape`` of generated gradient code differentiated again, is
memory: a value pushed and later popped is a copy of it. If any of its slots
is active (:func:`s2sad.analysis.active_slots`) it gets a list of adjoints
``t_bar``, made where the backward sweep of the block making ``t`` starts,
and each statement on ``t`` is mirrored on it in reverse order: the adjoint
of ``v = t.pop()`` pushes ``v_bar`` (``t_bar.append(v_bar)``), the adjoint of
``t.append(v)`` pops it into ``v_bar`` (``pop_bar``), ``t.clear()`` mirrors
as ``t_bar.clear()``, and the adjoint of a snapshot ``tuple(t)`` adds its
adjoint to every element's (``add_contents_bar``). ``t_bar`` holds the
adjoints of the top ``len(t_bar)`` elements of ``t``; those below are zero.

``kind`` is ``"grad"`` (seed 1: ``grad_<f>`` returning the adjoints and
``value_and_grad_<f>`` returning the value too, from one pair of sweeps),
``"vjp"`` (seed ``out_bar``) or ``"split"``
(``fwd_<name>`` and ``bwd_<name>`` of a user function, :func:`split_functions`).
A call of the user's own function ``z = h(x)`` becomes ``z, z_res = fwd_h(x)`` in
the forward sweep and ``x_bar = bwd_h(z_res, z_bar)`` in the backward sweep, so
``h`` runs once; the pair is requested from the module builder, generated once.
A callee with a loop is called through one ``vjp_h`` instead (its tape cannot
be handed from ``fwd_h`` to ``bwd_h`` and still be differentiated again).

Writes into arrays (``y_1 = setitem(y, index, v)``) run in place in the forward
sweep; the backward sweep undoes each write (``y[index] = y_old``, the value
``overwritten`` saved) where it still reads the array's memory, then zeroes the
written part of the adjoint (in place when it owns it).

The package, from the bottom up (each module imports only those above it in this
list; :class:`~s2sad.reverse.sweep._Reverse` is made of one mixin per concern):

- :mod:`~s2sad.reverse.slots`: the forward sweep's placeholders (pushes, restores);
- :mod:`~s2sad.reverse.shared`: names, the has_aux and one-value checks, IR queries;
- :mod:`~s2sad.reverse.deferral` (a loop's outer products summed by one matrix product),
  :mod:`~s2sad.reverse.calls` (the user's functions), then :mod:`~s2sad.reverse.tape`
  (what is pushed or recomputed), :mod:`~s2sad.reverse.control` (blocks, ``if``, loops),
  :mod:`~s2sad.reverse.lists` (lists as stacks), :mod:`~s2sad.reverse.writes` (writes
  into arrays), :mod:`~s2sad.reverse.assignments` (one assignment's rule): the
  transform's mixins;
- :mod:`~s2sad.reverse.sweep`: the transform's state, both sweeps, and the entry points.

Layer 6 (the transforms): a sibling of :mod:`s2sad.forward`, which it never imports.
"""

from .deferral import product_kind
from .shared import adjoint_namer, check_one_value, with_aux
from .sweep import gradient_functions, reverse_function, split_functions

__all__ = ["adjoint_namer", "check_one_value", "gradient_functions", "product_kind",
           "reverse_function", "split_functions", "with_aux"]
