"""Forward mode: an SSA function becomes a gast function pushing tangents through it.

``jvp_<f>(params..., x_dot, ...)`` returns ``(out, out_dot)``. Each primal
statement is followed by its tangent statement: for ``z = f(x, y)`` the rule
table's ``jvp=`` templates give the contributions of ``x_dot`` and ``y_dot``
to ``z_dot``, which are summed. Only active values (those depending on a
``wrt`` input and reaching the output, :func:`s2sad.analysis.activity`) get
tangents, and a tangent nobody set is a *symbolic zero*: it is not written,
contributes nothing, and becomes ``np.zeros_like(v)`` only where a value is
needed (the result, a branch that leaves it unset, a loop that carries it).

Element-wise operations broadcast. When the contributions cannot be shown to
have the result's shape (``x + y`` with only a scalar ``x`` active: ``x_dot``
alone is too small), the sum is broadcast with ``+ zeros_bar(z)`` (float zeros
of z's shape, a tuple of them for a tuple); the shape analysis (:class:`s2sad.analysis.ShapeClasses`) drops that where an
operand is known to share the result's shape.

**Vector mode** (``vector=True``) carries K directions at once: every tangent
has an extra leading axis, so one sweep gives K columns of the Jacobian. The
same templates serve, adjusted: an element-wise operand's tangent is
reshaped by ``lift`` so NumPy's trailing-axis broadcasting lines its axes up
with the result's; an index gets a leading ``:``; ``np.sum``/``np.mean`` reduce
one axis further on; and a rule not written for a batch (products, reshapes,
the run-time helpers) is applied direction by direction,
``stack_directions([rule(t) for t in x_dot])`` (``np.stack``, which dispatches), as
Tapenade's vector mode loops over the directions inside each statement.

One invariant holds in both modes: a value that is a tuple or list (a literal, the
pieces of ``np.split``, ``eigh``'s pair, a helper's residuals) has a tuple or list of
tangents, one per element; in vector mode, each a batch with the directions first.
The elements may differ in shape, so they are never stacked together:
``stack_directions`` batches a tuple-valued rule's tuples element by element, a
per-direction rule iterates ``directions(x_dot)`` (one tuple per direction), an
element is ``x_dot[k]`` (``item_dots`` where only the run time knows whether ``x`` is
a tuple), unpacking ``a, b = t`` takes the tuple as it is, and where NumPy reads a
tuple as an array (``np.sin((a, b))``) so does ``lift``/``batch_of`` its tangent.

Calls of the user's own functions become calls of their generated
``jvp_<name>``, requested from :class:`s2sad.module.ForwardModuleBuilder`, generated once.
Structured control flow is transformed in place: an ``if`` merges tangents as
it merges values; a loop carries the tangents of its carried values.

A list used as a stack (``t = []``; :data:`s2sad.rules.operators.LIST_OPS`),
such as the ``tape`` of generated gradient code, gets a list of tangents
beside it, ``t_dot``, if any of its slots is active
(:func:`s2sad.analysis.active_slots`): each push of values is followed by a
push of their tangents, each pop by a pop of the tangents, each ``clear`` by
a ``clear``, so the tangent of a popped value is the tangent that was pushed
with it. A pushed tuple's tangent is a tuple of the same length: a symbolic
zero in an active slot becomes zeros, and an inactive slot holds ``None``
(no pop needs it). A helper reading the whole list (``matmul_bar_a_sum``)
reads a snapshot ``tuple(t)``, whose tangent is ``tuple(t_dot)``.

The package, from the bottom up (:class:`~s2sad.forward.transform._Forward` is made of one
mixin per concern):

- :mod:`~s2sad.forward.structure`: an operand's tangent, zeros of the right structure, and
  whether a value is (or may be) a tuple, list or dict;
- :mod:`~s2sad.forward.control` (blocks, ``if``, loops), :mod:`~s2sad.forward.writes`
  (writes into arrays, lists used as stacks), :mod:`~s2sad.forward.tangents` (one
  assignment's tangent, calls of the user's functions), :mod:`~s2sad.forward.vector` (one
  operand's contribution, batched in vector mode): the transform's mixins;
- :mod:`~s2sad.forward.transform`: the transform's state, the whole function, the entry point.

Layer 6 (the transforms): a sibling of :mod:`s2sad.reverse`, which it never imports.
"""

from .transform import entry_params, forward_function, tangent_namer

__all__ = ["entry_params", "forward_function", "tangent_namer"]
