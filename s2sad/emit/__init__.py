"""Emission: IR operands and statements to gast, and gast modules to Python text.

Layer 5: below both transforms, which build their code with it. One module per concern,
each importing only those above it in this list:

- :mod:`~s2sad.emit.nodes`: the gast builders (:func:`name`, :func:`assign`,
  :func:`call`, :func:`literal`) and comments carried as placeholder statements
  (:func:`comment`);
- :mod:`~s2sad.emit.emitter`: :class:`Emitter` spells operands and primal statements
  (``v1 = np.log(x)``) and collects the constants, imports and bindings a module needs;
- :mod:`~s2sad.emit.blocks`: :func:`emit_block` (reverse mode's forward sweep) and the one
  loop emitter, :func:`loop_statement`, that forward mode's loops share;
- :mod:`~s2sad.emit.writer`: :func:`write_function`, Python text for a gast function in
  one pass (precedence-aware, long lines broken at their outermost brackets);
- :mod:`~s2sad.emit.render`: :func:`render_module`, the text of a self-contained module
  with the run-time helpers it calls (:mod:`s2sad.support`) copied at its end.

The transforms import these names from the package (``from ..emit import call, name``).
"""

from .nodes import _copy, assign, call, comment, literal, name  # noqa: F401
from .emitter import Emitter, declare  # noqa: F401
from .blocks import carried_entry, carried_updates, emit_block, loop_statement  # noqa: F401
from .render import render_module, tidy_block, to_source  # noqa: F401
