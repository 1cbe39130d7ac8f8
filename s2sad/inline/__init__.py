"""Inlining: nested functions, lambdas and constant-key dicts become plain statements.

Runs on the gast ``FunctionDef`` of the function being differentiated, before
:mod:`s2sad.desugar` and the lowering, and rewrites it in place so that what
follows sees straight-line code, ``if``, ``for`` and ``while`` only:

* **Nested functions and lambdas** (``def inner(y): ...`` inside the function,
  ``sq = lambda t: t ** 2``, ``(lambda t: 2 * t)(x)``) are inlined at every
  call. The callee's locals (its parameters and every name it assigns) get
  fresh names ``<callee>_<name>`` (``inner_y``; a second inlined call of the
  same callee uses ``inner2_y``), so nothing collides with the caller's names
  or with another inlined call. A parameter given a plain name or a constant
  and never reassigned is replaced by that argument itself; any other
  argument is assigned to the parameter's fresh name first, where the call is.
  Free names of the callee are the enclosing function's variables, read where
  the call is, as Python reads them (late binding). A callee with early
  ``return``\\s is desugared first (:mod:`s2sad.desugar`), so it ends with one
  ``return``; the returned expression replaces the call (when the call is the
  whole value of an assignment or a ``return``) or is assigned to a result
  name ``<callee>_out`` that replaces it. Default values are evaluated where
  the ``def`` (or ``lambda``) is, as Python does. A call inside a branch of
  ``a if c else b`` or a later operand of ``and``/``or`` becomes an ``if``
  statement, so it still runs only when Python would run it; a call in a
  ``while`` condition is inlined before the loop and again at the end of its
  body. A nested function must be its name's only binding in its function
  (one ``def`` or one ``name = lambda``), made before it is called; calls are
  resolved here, at compile time.
* **Function arguments**: a function defined at module level in the same file
  and called with a function argument (a lambda, a nested function, or a
  module-level function such as ``np.sin``), or having one as a default value
  (``act=np.tanh``), is inlined the same way, its function-valued parameters
  standing for the function given. Its free names must mean the same objects
  where it is called (they are its module's globals). A helper from another
  file is an error naming it: inlined code keeps its own source lines, which
  must be lines of the file being differentiated for comments and errors to
  point at them.
* **Dicts with constant keys** used as records (``d = {"a": x}``,
  ``d["b"] = ...``, ``d["a"] += ...``, ``d["a"]`` read) become one variable
  per key, ``d_a``, ``d_b`` (scalar replacement of aggregates); this runs after
  inlining, so a dict passed to a nested function and read there as ``d[key]``
  works. A value put in a dict is not copied (``d["a"] = x; d["a"] += 1`` is
  refused as ``b = x; b += 1`` is).

Each statement written here carries the source location of the user's code it
comes from (the callee's line for its body and ``return``, the call's line for
argument bindings), so generated code is commented with the user's lines and
errors point at them. Anything else about functions and dicts is an
:class:`~s2sad.errors.UnsupportedSyntaxError` at the construct: a nested
function used as a value (returned, stored, passed to a function s2sad cannot
inline), recursion of a nested function, ``nonlocal``/``global``, a
decorated nested ``def``, ``*args``, and a dict that escapes (passed to a
function, returned, iterated, tested with ``in``, read with a non-constant
key, made twice). The pass changes nothing in a function that has no nested
function, lambda or dict and passes no function to a helper.

The package, from the bottom up (each module imports only those above it in this
list; :class:`~s2sad.inline.inliner._Inliner` is made of one mixin per concern):

- :mod:`~s2sad.inline.scopes`: gast builders, scopes' names, what a function is;
- :mod:`~s2sad.inline.dicts`: the dict pass (one variable per constant key);
- :mod:`~s2sad.inline.definitions` (the nested functions, lambdas and helpers known)
  and :mod:`~s2sad.inline.calls` (expressions, calls, a callee's body copied in): the
  inliner's mixins;
- :mod:`~s2sad.inline.inliner`: :func:`inline`, the inliner's state and its walk over
  statements.

Layer 3 (front end), between :mod:`s2sad.parse` and :mod:`s2sad.lower`.
"""

from .inliner import inline
from .scopes import default_values

__all__ = ["default_values", "inline"]
