"""What a tangent is: the tangent of an operand, a zero of the right structure, and whether
a value is (or may be) a tuple, list or dict, whose tangent is one of tangents too.

The invariant (see :mod:`s2sad.forward`): a tuple or list value has a tuple or list of
tangents, one per element; a value that may hold a tuple or a dict (what a function or a
run-time helper returned, an element of a tuple, a global, a parameter) gets a zero that
keeps its structure (``zeros_bar``, in vector mode ``zeros_dots``). A mixin of
:class:`s2sad.forward.transform._Forward`: it reads the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import gast

from ..emit import call, name
from ..ir import Assign, Const, Var
from ..lower import ExternalFunction, GlobalRead
from ..rules.core import Template, rule_name
from ..structural import LIST_SNAPSHOT, Call, WriteItem, is_list_statement

_ZEROS = Template("np.zeros_like(v, shape=np.shape(d)[:1] + np.shape(v))")


def joins(prim):
    """True for the join of two tuples or lists (``p + q``, ``t * 2``; its stanza's
    ``sequence_result="joins"``): its tangent is the operands' tangents joined."""
    return getattr(prim, "sequence_result", False) == "joins"


class _Structure:
    """Tangents and their zeros, by the structure of the values (see the module docstring)."""

    def tangent(self, op):
        """The tangent of an operand as an expression, or None for a symbolic zero."""
        if isinstance(op, Var) and op.name in self.tangents:
            return name(self.tangents[op.name])
        return None

    def zeros_of(self, op):
        """A zero tangent for the IR operand ``op``, with its structure: a tuple of zeros for a
        tuple made here, ``zeros_bar`` (tuples and dicts too) for a value that may be one (what
        a function or a run-time helper returned, an element of a tuple, a global, a
        parameter), else
        ``np.zeros_like``."""
        value = self.emitter.operand(op)
        if not isinstance(op, Var):
            return self.zeros(value)
        stmt = self.definitions.get(op.name)
        if isinstance(stmt, Assign) and stmt.targets == (op,) and \
                stmt.prim.emit[0] in ("tuple", "list"):
            cls = gast.Tuple if stmt.prim.emit[0] == "tuple" else gast.List
            return cls(elts=[self.zeros_of(a) for a in stmt.args], ctx=gast.Load())
        if isinstance(stmt, Assign) and joins(stmt.prim):
            return self.elements_tangent(stmt, zeros=True)
        if self.may_be_structured(op) or self.vector and self.is_sequence(op):
            if self.vector:  # a batch of zeros of each leaf
                return call("zeros_dots", [value, name(self.dot_params[0])])
            return call("zeros_bar", [value])
        return self.zeros(value)

    def zeros_of_items(self, op):
        """:meth:`zeros_of` a tuple or list, a constant one too: a zero tangent per item."""
        if isinstance(op, Const) and type(op.value) in (tuple, list):
            cls = gast.Tuple if type(op.value) is tuple else gast.List
            return cls(elts=[self.zeros_of(Const(e)) for e in op.value], ctx=gast.Load())
        return self.zeros_of(op)

    def may_be_structured(self, op, depth=8):
        """True if the IR operand ``op`` may hold a tuple or a dict (see :meth:`zeros_of`):
        what a function or a run-time helper returned, an element of a tuple, a global, a
        parameter, or a sum of such values (tuple adjoints add element by element)."""
        if not isinstance(op, Var):
            return False
        stmt = self.definitions.get(op.name)
        if stmt is None or not isinstance(stmt, Assign):
            return True
        # (an element of a tuple; what a run-time helper of generated code returns: zeros_bar,
        # unindex, as_gradient, ... may return a tuple or a dict of adjoints)
        if stmt.prim.emit[0] in ("dict", "getitem") or len(stmt.targets) > 1 or \
                rule_name(stmt.prim) and stmt.prim.emit[0] == "user" or \
                isinstance(stmt, Call) or isinstance(stmt.prim, (ExternalFunction, GlobalRead)):
            return True
        return rule_name(stmt.prim) and stmt.prim.structure_result and depth > 0 and \
            any(self.may_be_structured(a, depth - 1) for a in stmt.args)

    def is_sequence(self, op, depth=8):
        """True if the IR operand ``op`` is a tuple or list made here (a literal, a snapshot
        ``tuple(t)`` of a list, two joined with ``+``, one repeated with ``*``): its tangent
        is a tuple or list of tangents (in vector mode, of batches), never one array."""
        stmt = isinstance(op, Var) and self.definitions.get(op.name)
        if not isinstance(stmt, Assign) or len(stmt.targets) != 1:
            return False
        if isinstance(stmt, WriteItem):  # t[k] = v: a list written by slots is still one
            return depth > 0 and self.is_sequence(stmt.array, depth - 1)
        if rule_name(stmt.prim) and stmt.prim.sequence_result and depth > 0:
            return any(self.is_sequence(a, depth - 1) for a in stmt.args)
        return stmt.prim.emit[0] in ("tuple", "list") or \
            is_list_statement(stmt, LIST_SNAPSHOT)

    def may_be_sequence(self, op, depth=8):
        """True if ``op``'s tangent may be a tuple, list or dict of tangents (not one array):
        a sequence made here, or a value that may be one (:meth:`may_be_structured`; not the
        arguments of the entry function, which vector mode takes as arrays)."""
        if self.is_sequence(op):
            return True
        if not isinstance(op, Var) or op.name in self.leaf_params:
            return False
        if self.may_be_structured(op):  # (a sum of tuples of adjoints too)
            return True
        stmt = self.definitions.get(op.name)
        if depth and (isinstance(stmt, WriteItem) or isinstance(stmt, Assign) and
                      rule_name(stmt.prim) and stmt.prim.emit[0] == "copy"):
            return self.may_be_sequence(stmt.args[0], depth - 1)  # (a list written by slots)
        if isinstance(stmt, Assign) and len(stmt.targets) == 1 and \
                (stmt.prim.elementwise or stmt.prim.reduction or
                 rule_name(stmt.prim) and stmt.prim.array_result is True):
            return False  # an array (or a number)
        return True  # np.split's pieces, eigh's pair, an element of a tuple, ...

    def zeros(self, value):
        """A zero tangent for the value ``value`` (a gast expression) known not to be a
        tuple (see :meth:`zeros_of`)."""
        if not self.vector:
            return call("np.zeros_like", [value])
        # a batch of zeros: as many directions as the first tangent argument has (which, in
        # a helper's jvp, may be a tuple of batches: zeros_dots finds its first array)
        if self.wrt_names[0] not in self.leaf_params:
            return call("zeros_dots", [value, name(self.dot_params[0])])
        return _ZEROS.instantiate({"v": value, "d": name(self.dot_params[0])})
