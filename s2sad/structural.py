"""The IR's structural statements: lists used as stacks, and writes into arrays.

Two kinds of :class:`~s2sad.ir.Assign` are statements of their own rather than rules:
each transform and analysis treats them itself.

- **List statements** (a name bound by ``t = []`` is a stack, see :mod:`s2sad.lower`):
  ``t = list_new()``, ``list_append(t, v)``, ``v = list_pop(t)``, ``list_clear(t)`` and
  ``s = list_snapshot(t)`` (the elements now, a value), and ``list_add_contents(t, g)``
  (reverse mode's adjoint of a snapshot, ``support.add_contents_bar``: ``g[k]`` added to
  the k-th element, met when a derivative is differentiated again). Append, pop, clear and
  add_contents change the list (:data:`LIST_EFFECTS`): they are kept in program order and
  never pruned.
- **Array writes**: ``y[index] = v`` is the pair ``y_old = overwritten(y, index)`` (a
  copy of what the write destroys, :data:`SAVE`) then ``y_1 = setitem(y, index, v)``
  (:data:`WRITE`, in place in generated code). :func:`saved_values` pairs each write
  with its saved value.

Their primitives (:data:`s2sad.rules.operators.LIST_OPS`, ``OPERATORS["setitem"]``,
``OPERATORS["overwritten"]``) carry their kind as ``structure``; every other primitive
(a rule, a user's function, a custom rule) has ``structure = None``, whatever its name.
Analyses and transforms ask the questions below, never a primitive's name. The names a
block or a compound statement defines (:func:`defined_names`, :func:`defined_in`) are
here too, for the front end's memory analysis and the transforms alike.

Layer 1, beside :mod:`s2sad.ir`: imports the IR only.
"""

from .ir import Assign, For, If, While, walk_blocks

LIST_NEW, LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_SNAPSHOT, LIST_ADD_CONTENTS = (
    "list_new", "list_append", "list_pop", "list_clear", "list_snapshot", "list_add_contents")
LIST_STATEMENTS = (LIST_NEW, LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_SNAPSHOT, LIST_ADD_CONTENTS)
LIST_EFFECTS = (LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_ADD_CONTENTS)  # they change the list
WRITE = "setitem"  # y_1 = setitem(y, index, v): y[index] = v, in place
SAVE = "overwritten"  # y_old = overwritten(y, index): what that write destroys


def structure_of(prim):
    """The structural kind of a primitive (one of :data:`LIST_STATEMENTS`, :data:`WRITE`,
    :data:`SAVE`), or None for any other primitive."""
    return getattr(prim, "structure", None)


def list_kind(prim):
    """Which list statement ``prim`` makes (one of :data:`LIST_STATEMENTS`), or None."""
    kind = structure_of(prim)
    return kind if kind in LIST_STATEMENTS else None


def is_list_statement(stmt, *kinds):
    """True if ``stmt`` is an assignment of a list statement (of one of ``kinds`` if any
    are given)."""
    kind = list_kind(stmt.prim) if isinstance(stmt, Assign) else None
    return kind is not None and (not kinds or kind in kinds)


def is_write(stmt):
    """True if ``stmt`` is ``y_1 = setitem(y, index, v)``, a write into an array."""
    return isinstance(stmt, Assign) and structure_of(stmt.prim) == WRITE


def is_save(stmt):
    """True if ``stmt`` is ``y_old = overwritten(y, index)``, saving what a write destroys."""
    return isinstance(stmt, Assign) and structure_of(stmt.prim) == SAVE


def has_writes(block):
    """True if ``block`` (nested regions included) writes into an array."""
    return any(is_write(s) for s in walk_blocks(block))


def saved_values(block):
    """``{y_1: y_old}`` (variable names) for each write of ``block`` (nested regions
    included): the value the write's saving statement, just before it, keeps."""
    out, last_saved = {}, None
    for stmt in walk_blocks(block):
        if is_save(stmt):
            last_saved = stmt.target.name
        elif is_write(stmt) and last_saved:
            out[stmt.target.name] = last_saved
            last_saved = None
    return out


# -- what statements define -------------------------------------------------------------

def defined_names(block):
    """Every variable a block defines, nested regions included."""
    out = set()
    for stmt in walk_blocks(block):
        if isinstance(stmt, Assign):
            out.update(t.name for t in stmt.targets)
        elif isinstance(stmt, If):
            out.update(m[0].name for m in stmt.merges)
        elif isinstance(stmt, (For, While)):
            out.update(c[0].name for c in stmt.carried)
            if isinstance(stmt, For):
                out.add(stmt.target.name)
    return out


def defined_in(stmt):
    """Every variable a compound statement defines: in its regions, its merges or carried
    values, and a for loop's target."""
    if isinstance(stmt, If):
        blocks, out = [stmt.then_block, stmt.else_block], {m[0].name for m in stmt.merges}
    else:
        blocks = [stmt.body] + ([stmt.cond_block] if isinstance(stmt, While) else [])
        out = {c[0].name for c in stmt.carried} | (
            {stmt.target.name} if isinstance(stmt, For) else set())
    for block in blocks:
        out |= defined_names(block)
    return out
