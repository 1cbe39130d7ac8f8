"""Lowering: a gast ``FunctionDef`` becomes an SSA :class:`~s2sad.ir.Function`.

Nested expressions are flattened into temporaries ``v1, v2, ...`` so every
statement applies one primitive to named operands. The final primitive of
``z = expr`` writes ``z`` itself; a reassigned name gets a new version
(``z_1``, ``z_2``); ``x += e`` is ``x_1 = x + e``. Free names are resolved in
the function's own module (:class:`~s2sad.parse.Scope`): ``np.exp`` becomes the
``np.exp`` primitive whatever the module calls NumPy, ``np.pi`` becomes a
:class:`~s2sad.ir.Const` spelled ``np.pi``, calls to the user's own functions
become calls of a :class:`UserFunction` primitive whose derivative is generated
too. A free name whose value is data (a number, an array, a list, a config
object: anything but a function, module or class) is read when the generated
code runs, as the function reads it: ``lam = model.lam`` (a global of module
``model``) or ``w = f_closure.w`` (a closure variable of ``f``), a
:class:`GlobalRead` statement at the top of the function, read once per call;
the transform never sees its value. Literal numbers in the source stay
literals. What the other free names are (which function, which module) is
recorded in ``Function.guard`` so caches re-transform when one is rebound.
Calls of functions s2sad has no rule for (``CACHE.append(x)``,
``rng.normal()``) are kept as they are, in program order, whether or not
their results are read (:class:`ExternalFunction` has ``effects``). Anything that cannot be lowered is an
:class:`~s2sad.errors.UnsupportedSyntaxError` pointing at the construct.

A name bound to a new empty list (``t = []``) is a *stack*, the idiom of
generated reverse-mode code (its ``tape``) and of hand-written code alike:
``t.append(v)`` / ``t.append((a, b))``, ``v = t.pop()`` / ``a, b = t.pop()``,
``t.clear()``, ``len(t)`` and ``tuple(t)`` (and ``pop_bar(t, like)``, reverse
mode's pop of a list of adjoints) become the list statements of
:data:`s2sad.rules.operators.LIST_OPS`, effects kept in program order. Such a
name may be bound by ``t = []`` only. A list is followed where it is made:
it is not merged by an ``if`` or carried by a loop, so a list made inside a
region cannot be read after it, nor before ``t = []`` in the loop that makes
it. A function given a list (``np.stack(t)``, a helper, ``matmul_bar_a_sum(t, W)``)
is given a snapshot of it, ``list_snapshot(t)``: its elements then, an ordinary
value; so is an index (``t[-1]``) or a loop (``for v in t``) reading it. Any other use
of a list (``return t``, ``s = t``, ``t[0] = v``) is a located error.

``a, b = f(x)`` is one statement with two targets (a tuple result unpacked);
``return a, b`` returns a ``tuple`` value. A write into an array,
``y[index] = v`` (or ``y[index] op= v``), is ``y_old = overwritten(y, index)``
then ``y_1 = setitem(y, index, v)`` (:meth:`_Statements.write_item
<s2sad.lower.statements._Statements.write_item>`): the generated
code writes in place. ``x += e`` is ``x_1 = x + e`` marked ``in_place="+="``:
NumPy updates ``x``'s array where the IR has a new value. Whether these
in-place effects keep NumPy's meaning is decided once the function is lowered,
by one analysis of the IR (:func:`s2sad.memory.check_memory`): only arrays the
function allocated may be written or updated, and names sharing the written
memory (views, aliases, a list holding the array) cannot be read after the
write. s2sad's own generated code (``trusted``: functions the cache compiled from
code s2sad generated, :func:`s2sad.generated_code.is_generated`) is not checked: its restores
keep every value it reads equal to the IR's value.

The package, from the bottom up (each module imports only those above it in this
list; :class:`~s2sad.lower.lowerer._Lowerer` is made of one mixin per concern):

- :mod:`~s2sad.lower.shared`: the operator tables, error texts and pure helpers;
- :mod:`~s2sad.lower.primitives`: :class:`ExternalFunction`, :class:`AttributeRead`,
  :class:`GlobalRead`;
- :mod:`~s2sad.lower.lists` (lists as stacks), :mod:`~s2sad.lower.control` (statement
  dispatch, ``if``/``for``/``while``), :mod:`~s2sad.lower.statements` (assignments, array
  writes, returns), :mod:`~s2sad.lower.expressions` (three-address form),
  :mod:`~s2sad.lower.calls` (names, callees, methods): the lowerer's mixins;
- :mod:`~s2sad.lower.lowerer`: :func:`lower`, the lowerer's state and naming, and
  :class:`UserFunction`.

Layer 3, the top of the front end: it imports the rules (layer 2) and the
front end below it, never an analysis (layer 4) or a transform.
"""

from .lowerer import UserFunction, clear_summaries, in_place_parameters, lower
from .primitives import AttributeRead, ExternalFunction, GlobalRead

__all__ = ["AttributeRead", "ExternalFunction", "GlobalRead", "UserFunction", "clear_summaries", "in_place_parameters",
           "lower"]
