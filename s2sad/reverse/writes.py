"""The backward sweep of writes into arrays (``y_1 = setitem(y, index, v)``).

The backward sweep undoes each write (``y[index] = y_old``, the value
``overwritten`` saved) where it still reads the array's memory (:meth:`_Writes.restore`,
with the may-alias groups of :mod:`s2sad.memory`), then zeroes the written part of
the adjoint, in place when it owns it (:meth:`_Writes.backward_setitem`). A mixin of :class:`s2sad.reverse.sweep._Reverse`: it reads and writes the transform's state.

Layer 6 (the transforms), inside :mod:`s2sad.reverse`; never imports :mod:`s2sad.forward`.
"""

import gast

from ..analysis.indices import names_each_once, once_parts
from ..emit import assign, call, name
from ..ir import Var, walk_blocks
from ..memory import Memory
from ..structural import WriteItem
from .shared import _copy
from .slots import _Restore


class _Writes:
    """Writes into arrays (see the module's docstring)."""

    # -- writes into arrays -----------------------------------------------------------
    def backward_setitem(self, stmt):
        """Undo ``y[index] = v``, then send ``y_1_bar`` on to ``v`` and ``y``.

        The forward sweep wrote in place, so when the backward sweep passes the
        write it first puts back what the write destroyed (``y[index] = y_old``),
        leaving ``y`` and every view of it as they were before the write for the
        statements the sweep meets next; see :meth:`restore`. ``v_bar`` gets what
        ``y_1_bar`` holds at ``index``; ``y_bar`` is ``y_1_bar`` with zeros there,
        made in place when the sweep owns ``y_1_bar``. Where ``index`` may name an element
        twice (``y[[0, 0]] = v``), only the last position of each reaches ``y``, and
        ``v_bar`` gets ``written_bar(y_1_bar, index)`` instead.
        """
        array, index, value = stmt.array, stmt.index, stmt.value
        out = [_Restore(self.restore(stmt))]
        z = stmt.target.name
        g = self.adjoints.read(z)
        if g is None or not (self.is_active(array) or self.is_active(value)):
            return out
        if not isinstance(g, gast.Name):  # a pending number: make it an array y_1_bar owns
            out.append(assign(self.adjoints.adjoint_name(z), gast.BinOp(
                left=call("zeros_bar", [name(z)]), op=gast.Add(), right=g)))
            g = name(self.adjoints.adjoint_name(z))
            self.adjoints.value[z] = g
            self.adjoints.owned.add(z)
        subscript = self.emitter.index_subscript(index)
        # y[index] = y: the value's contribution goes to the array's own adjoint, which
        # therefore is no longer untouched when the array's part comes
        same = isinstance(value, Var) and value.name == array.name
        zeroed = self.is_active(array) and self.adjoints.read(array.name) is None and not same
        if self.is_active(value) and not self.names_each_once(index):  # y[[0, 0]] = v
            taken = call("written_bar", [_copy(g), self.emitter.operand(index)])  # (a new array)
            out += self.adjoints.add(value.name, call("unbroadcast", [taken, name(value.name)]))
        elif self.is_active(value):
            taken = gast.Subscript(value=_copy(g), slice=_copy(subscript), ctx=gast.Load())
            if zeroed or same:  # g is zeroed at index next: keep a copy
                taken = call("saved", [taken])  # (a list of adjoints may hold a number)
            out += self.adjoints.add(value.name, call("unbroadcast", [taken, name(value.name)]))
        if not self.is_active(array):
            return out
        # a list's slot gets the zero of what the write overwrote, of its shape (a rule
        # given the element's adjoint may need an array; a slot may have held a number)
        old = self.overwritten.get(z) if self.may_be_list(array.name) else None
        if zeroed and z in self.adjoints.owned:
            zero = gast.Constant(value=0.0, kind=None)
            if self.may_be_list(array.name):
                zero = call("zeros_bar", [name(old) if old is not None else gast.Subscript(
                    value=_copy(g), slice=_copy(subscript), ctx=gast.Load())])
            out.append(assign(gast.Subscript(value=_copy(g), slice=_copy(subscript),
                                             ctx=gast.Store()), zero))
            out.append(assign(self.adjoints.adjoint_name(array.name), _copy(g)))
            self.adjoints.value[array.name] = name(self.adjoints.adjoint_name(array.name))
            self.adjoints.owned.add(array.name)
            return out
        return out + self.adjoints.add(array.name, call("setitem_bar", [
            _copy(g), self.emitter.operand(index)] + ([name(old)] if old is not None else [])))

    def restore(self, stmt):
        """``y[index] = y_old`` if the backward sweep reads ``y``'s memory, else nothing.

        Decided when the whole sweep is written (:func:`_expand_slots` fills the
        placeholder), from the names it reads: any variable that may share
        memory with ``y`` (:meth:`s2sad.memory.Memory.group`) means the
        values before the write are needed.
        """
        array, index = stmt.array, stmt.index
        old = self.overwritten.get(stmt.target.name)
        if old is None:
            return lambda reads: []
        group = self.memory_group(array.name)
        restore = assign(gast.Subscript(value=name(array.name), slice=self.emitter.index_subscript(
            index), ctx=gast.Store()), name(old))
        return lambda reads: [restore] if group & reads else []

    def names_each_once(self, index):
        """True if ``index`` surely names each element once (:mod:`s2sad.analysis.indices`):
        then ``v``'s adjoint in ``y[index] = v`` is ``g[index]``, else ``written_bar``."""
        if self.once_parts is None:
            self.once_parts = once_parts(self.fn)
        return names_each_once(index, self.once_parts)

    def in_written_memory(self, var):
        """True if ``var`` may share memory with an array written in place (its values at
        the pop are those after the trip's writes, not those a recomputation needs)."""
        if self.written is None:
            self.written = set()
            for s in walk_blocks(self.fn.body):
                if isinstance(s, WriteItem):
                    self.written |= self.memory_group(s.array.name)
        return var in self.written

    def memory_group(self, var):
        return self.memory_of_fn().group(var)

    def may_be_list(self, var):
        return self.memory_of_fn().may_be_list(var)

    def memory_of_fn(self):
        if self.memory is None:
            self.memory = Memory(self.fn)
        return self.memory
