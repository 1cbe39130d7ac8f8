"""The IR's structural statements: lists used as stacks, writes into arrays, and calls.

Three kinds of :class:`~s2sad.ir.Assign` are statements of their own rather than rules,
each a node class of its own: each transform and analysis treats them itself, asking a
statement's class (``isinstance``), never its primitive's name.

- **List statements**, :class:`ListStatement` (a name bound by ``t = []`` is a stack, see
  :mod:`s2sad.lower`): ``t = list_new()``, ``list_append(t, v)``, ``v = list_pop(t)``,
  ``list_clear(t)`` and ``s = list_snapshot(t)`` (the elements now, a value), and
  ``list_add_contents(t, g, n)`` (reverse mode's adjoint of a snapshot,
  ``support.add_contents_bar``: ``g[k]`` added to the k-th element, met when a derivative
  is differentiated again; ``n``, ``len(t)`` before it, is for its own adjoint, as is the
  third operand of ``v = list_pop(t, like, n)``, ``support.pop_bar``). ``stmt.kind`` is which (one of :data:`LIST_STATEMENTS`),
  ``stmt.list`` the list. Append, pop, clear and add_contents change the list
  (:data:`LIST_EFFECTS`): they are kept in program order and never pruned.
- **Array writes**: ``y[index] = v`` is the pair ``y_old = overwritten(y, index)``
  (:class:`SaveItem`, a copy of what the write destroys) then
  ``y_1 = setitem(y, index, v)`` (:class:`WriteItem`, in place in generated code), each
  with its operands by name (``.array``, ``.index``, ``.value``). :func:`saved_values`
  pairs each write with its saved value.
- **Calls** (:class:`Call`): of a function of the user's that s2sad reads and
  differentiates itself (:class:`UserCall`, its primitive a
  :class:`s2sad.lower.UserFunction`) or of a function with the user's own rules
  (:class:`CustomCall`, a :class:`s2sad.custom.CustomPrimitive`); ``stmt.callee`` is that
  primitive.

Every other statement ``z = f(x, y)`` is a plain :class:`~s2sad.ir.Assign`: a rule of the
tables (:func:`s2sad.rules.core.rule_name`), a call of a function without rules, a read.
A primitive says which node its statements are (``prim.node``: ``OPERATORS["setitem"]``,
``OPERATORS["overwritten"]``, :data:`s2sad.rules.operators.LIST_OPS`, ``UserFunction``,
``CustomPrimitive``; :class:`~s2sad.ir.Assign` for every other), the lowering builds that
node, and an ``Assign`` of any other class for that primitive is refused when it is made
(``Assign.__post_init__``), so no copy (``dataclasses.replace``) loses its class. A user's
function named like one of these primitives is a :class:`UserCall`, whatever its name.

The names a block or a compound statement defines (:func:`defined_names`,
:func:`defined_in`) are here too, for the front end's memory analysis and the transforms
alike.

Layer 1, beside :mod:`s2sad.ir`: imports the IR only.
"""

from .ir import Assign, For, If, While, walk_blocks

LIST_NEW, LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_SNAPSHOT, LIST_ADD_CONTENTS = (
    "list_new", "list_append", "list_pop", "list_clear", "list_snapshot", "list_add_contents")
LIST_STATEMENTS = (LIST_NEW, LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_SNAPSHOT, LIST_ADD_CONTENTS)
LIST_EFFECTS = (LIST_APPEND, LIST_POP, LIST_CLEAR, LIST_ADD_CONTENTS)  # they change the list


class _Item(Assign):
    """A statement on ``array[index]``: the two statements of a write share these."""

    @property
    def array(self):
        return self.args[0]

    @property
    def index(self):
        return self.args[1]


class SaveItem(_Item):
    """``y_old = overwritten(y, index)``: a copy of what the write after it destroys."""


class WriteItem(_Item):
    """``y_1 = setitem(y, index, v)``: ``y[index] = v``, in place in generated code."""

    @property
    def value(self):
        return self.args[2]


class ListStatement(Assign):
    """A statement on a list used as a stack (see the module docstring)."""

    @property
    def kind(self):
        """Which list statement (one of :data:`LIST_STATEMENTS`)."""
        return self.prim.name

    @property
    def list(self):
        """The list's variable: the target of ``t = list_new()``, the first operand else."""
        return self.target if self.kind == LIST_NEW else self.args[0]


class Call(Assign):
    """``z = h(x, y)``, a call of a function of the user's (see the module docstring)."""

    @property
    def callee(self):
        return self.prim


class UserCall(Call):
    """A call of a user function s2sad differentiates itself (``callee.fn``)."""


class CustomCall(Call):
    """A call of a function with the user's own rules (``callee.custom``)."""


def is_list_statement(stmt, *kinds):
    """True if ``stmt`` is a list statement (of one of ``kinds`` if any are given)."""
    return isinstance(stmt, ListStatement) and (not kinds or stmt.kind in kinds)


def has_writes(block):
    """True if ``block`` (nested regions included) writes into an array."""
    return any(isinstance(s, WriteItem) for s in walk_blocks(block))


def saved_values(block):
    """``{y_1: y_old}`` (variable names) for each write of ``block`` (nested regions
    included): the value the write's saving statement, just before it, keeps."""
    out, last_saved = {}, None
    for stmt in walk_blocks(block):
        if isinstance(stmt, SaveItem):
            last_saved = stmt.target.name
        elif isinstance(stmt, WriteItem) and last_saved:
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
