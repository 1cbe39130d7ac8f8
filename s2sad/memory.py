"""Which values may share memory, and the check that in-place effects keep NumPy's meaning.

The IR is functional: ``y_1 = setitem(y, i, v)`` and ``x_1 = x + e`` (from
``x += e``) are new versions. NumPy is not: the generated code writes
``y[i] = v`` in place, and the user's ``x += e`` updates ``x``'s array when
``x`` is an array. Both agree exactly when nothing that shares the updated
memory is read afterwards, and when the memory is the function's own (not an
argument's, a global's or what a call returned). This module decides that,
once, for every check:

* :class:`Memory` -- a may-alias (points-to) analysis over the SSA IR. Every
  value gets the set of *allocation sites* its memory may belong to: a
  primitive making a new array is a site of its own; a view or an alias
  (a primitive whose stanza says ``view=True``, ``getitem`` with basic indices, ``b = a``, a write's new
  version, ``x op= e``) has its operand's sites (``view="each"``: result k operand k's); a
  tuple or a list holds its elements' sites; an ``If`` merge has both branches' sites and a
  loop-carried value the union of its initial and updated values' sites, iterated to a
  fixpoint. Arguments, mutable globals and the results of calls s2sad does not
  read (user functions, other libraries, custom rules: their result may be any
  array they were given, too) are *outside* sites; a user function s2sad can
  read is summarised instead (:func:`result_memory`): each of its results may
  be the arrays of the parameters the summary names, and is outside memory
  only if it may be a global or another call's result. Fancy indexing (an integer
  list or array, a boolean mask) and arithmetic make new arrays. Immutable
  constants (numbers, strings) have no memory; a list constant generated code
  spells as a literal (``[0.0, 1.0]``) is a new list where it is read. Since every
  variable is assigned once, one set per variable is flow-sensitive: two values may
  share memory iff their sets meet. Beside the sites of a value's memory, the sites
  of the object it is (:attr:`Memory.objects`): the same, but that a tuple, list or
  dict made here is an object of its own, whatever its elements are; and which of the
  tuples, lists, dicts and list snapshots made here it may be that very object
  (:attr:`Memory.made`: an alias, a write, a merge, a carried value; not an element).
* :func:`check_memory` -- the verifier the lowering runs on the user's code.
  An in-place statement (a write ``setitem``, or an ``Assign`` whose
  ``in_place`` names a NumPy in-place operation) is refused, as a located
  :class:`~s2sad.errors.UnsupportedSyntaxError`, if its memory may be outside
  the function, or if a value sharing its memory that was made before it is
  read after it (later in the block, after the enclosing regions, or in a
  later trip of an enclosing loop: :mod:`s2sad.stale_reads`): that value changed
  under the IR. A write changes the object written into, and only that: a write into
  a slot of a list made here (``hs = [x, 2 * x]; hs[0] = v``) replaces an element
  and changes no array, whatever the list holds; a write into a list comprehension's
  name (a tuple in generated code, :mod:`s2sad.expand`) is refused.

Reverse mode asks :meth:`Memory.group` which names share a written array's
memory, to decide where the backward sweep must undo a write.

Layer 3 (front end): :mod:`s2sad.lower` runs it on every function it lowers.
"""

import numbers

import numpy as np

from .errors import UnsupportedSyntaxError
from .ir import Assign, Const, For, If, Index, Var, While, walk_blocks
from .rules.core import OPERATORS, rule_name
from .stale_reads import in_place_statements, stale_read_after
from .structural import (LIST_ADD_CONTENTS, LIST_APPEND, LIST_NEW, LIST_POP, LIST_SNAPSHOT,
                         CustomCall, ListStatement, SaveItem, WriteItem, is_list_statement)

_OPS_TEXT = {"add": "+=", "sub": "-=", "mul": "*=", "truediv": "/=", "pow": "**=",
             "matmul": "@=", "mod": "%=", "floordiv": "//=", "and_": "&=", "or_": "|=",
             "xor": "^=", "lshift": "<<=", "rshift": ">>="}


def in_place_text(op):
    """How ``x op= e`` is spelled for the primitive name ``op`` (``"add"`` -> ``"+="``)."""
    return _OPS_TEXT.get(op, "op=")


def _fresh_literal(const):
    """True for a list constant generated code spells as a literal (``[0.0, 1.0]``), which
    makes a new list each time it runs: numbers, strings and such (see
    :func:`s2sad.emit.literal`), not a module-level constant (``name``) nor an expression
    (``text``)."""
    return const.name is None and const.text is None and type(const.value) is list and \
        all(type(v) in (bool, int, float, str) or v is None for v in const.value)


def _immutable(value):
    if value is None or isinstance(value, (numbers.Number, str, bytes, np.generic, range,
                                           slice, type(Ellipsis), type)):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(v) for v in value)
    return False


class Memory:
    """May-alias analysis of one lowered function (see the module docstring)."""

    def __init__(self, fn, numbers=frozenset()):
        self.fn = fn
        self.sites = {}  # var name -> set of allocation sites
        self.outside = set()  # the sites of memory made outside the function
        self.defs = {t.name: s for s in walk_blocks(fn.body) if isinstance(s, Assign)
                     for t in s.targets}
        for p in fn.params:
            if p.name in numbers:  # a Python number when called: immutable, no memory
                self.sites[p.name] = set()
                continue
            site = f"argument {p.name}"
            self.outside.add(site)
            self.sites[p.name] = {site}
        self._grow(self.sites, self._flows)
        self.objects = {p.name: set(self.sites[p.name]) for p in fn.params}
        self._grow(self.objects, self._object_flows)
        self.made = {}  # var name -> the tuples, lists, dicts and snapshots it may be
        self._grow(self.made, self._made_flows)
        self._members = {}
        for var, sites in self.sites.items():
            for site in sites:
                self._members.setdefault(site, set()).add(var)

    def _grow(self, table, flows):
        """Fill ``table`` (var name -> sites) from ``flows``: loop-carried values and lists
        grow until nothing changes."""
        changed = True
        while changed:
            changed = False
            for stmt in walk_blocks(self.fn.body):
                for var, sites in flows(stmt):
                    have = table.setdefault(var, set())
                    if not sites <= have:
                        have |= sites
                        changed = True

    # -- the transfer functions -------------------------------------------------------
    def of(self, operand):
        """The sites an operand's memory may belong to."""
        if isinstance(operand, Var):
            return self.sites.get(operand.name, set())
        if isinstance(operand, Const):
            if _immutable(operand.value):
                return set()
            if _fresh_literal(operand):  # made anew each time it is read: one site per read
                return {f"literal {id(operand)}"}
            site = f"global {operand.name or operand.text or type(operand.value).__name__}"
            self.outside.add(site)
            return {site}
        if isinstance(operand, Index):
            return set().union(*(self.of(o) for o in operand.operands()))
        return set()

    def _flows(self, stmt):
        """``(var name, sites)`` pairs: ``var`` may belong to each of ``sites``."""
        if isinstance(stmt, If):
            return [(v.name, self.of(a) | self.of(b)) for v, a, b in stmt.merges]
        if isinstance(stmt, (For, While)):
            return [(v.name, self.of(init) | self.of(out)) for v, init, out in stmt.carried]
        if not isinstance(stmt, Assign):
            return []
        prim, args = stmt.prim, stmt.args
        name, kind = rule_name(prim), stmt.kind if isinstance(stmt, ListStatement) else None
        first = self.of(args[0]) if args else set()
        own = {stmt.targets[0].name} if stmt.targets else set()
        if kind in (LIST_APPEND, LIST_ADD_CONTENTS):  # the list holds the values themselves
            return [(args[0].name, set().union(*(self.of(a) for a in args[1:])))]
        if kind in (LIST_POP, LIST_SNAPSHOT):
            sites = first | own
        elif kind == LIST_NEW or isinstance(stmt, SaveItem):
            sites = own
        elif isinstance(stmt, WriteItem):
            sites = first
        elif stmt.in_place:  # x op= e: x's own array when x is an array, else a new value
            sites = first | own
        elif name and prim.view == "basic":  # indexing: a copy when the index is fancy
            sites = own if self.fancy(args[1]) else first
        elif name and prim.view == "each":  # np.broadcast_arrays: result k a view of operand k
            if len(stmt.targets) == len(args):
                return [(t.name, self.of(a)) for t, a in zip(stmt.targets, args)]
            sites = set().union(*(self.of(a) for a in args))  # (the tuple holds them all)
        elif name and prim.view == "any":  # np.einsum("ij->ji", a): a view of some operand
            sites = own.union(*(self.of(a) for a in args))
        elif name and callable(prim.view):  # a view for some arguments (np.diff(a, 0) is a)
            sites = first if prim.view(prim.bind(args, stmt.kwargs)) else own
        elif prim.view:
            sites = first
        elif name and prim.container:  # a tuple, list or dict holds its elements
            sites = own.union(*(self.of(a) for a in args))
        elif getattr(prim, "opaque", False) or isinstance(stmt, CustomCall):
            site = f"result of {prim.name} (line {stmt.loc.line})"
            self.outside.add(site)
            results = getattr(prim, "result_memory", None)
            if results is not None and len(results) == len(stmt.targets):
                # a user function s2sad read: each result may be the arrays of the given
                # parameters, and memory from outside it only if its summary says so
                out = []
                for target, (positions, outside) in zip(stmt.targets, results):
                    sites = {target.name}.union(*(self.of(args[i]) for i in positions
                                                  if i < len(args)))
                    out.append((target.name, sites | ({site} if outside else set())))
                return out
            sites = {site}.union(*(self.of(a) for a in stmt.operands()))
        else:
            sites = own
        return [(t.name, sites) for t in stmt.targets]

    def object_of(self, operand):
        """The sites the object an operand is (not its elements) may belong to."""
        if isinstance(operand, Var):
            return self.objects.get(operand.name, set())
        return self.of(operand)

    def _object_flows(self, stmt):
        """``(var name, sites)`` pairs: the object ``var`` is may belong to each of ``sites``.
        That is its memory (:meth:`_flows`), but for a tuple, list or dict made here, which
        is an object of its own whatever its elements are, and for what is that object
        again (:meth:`_same_object`)."""
        same = self._same_object(stmt, self.object_of)
        if same is not None:
            return same
        if isinstance(stmt, Assign) and stmt.targets and rule_name(stmt.prim) and \
                stmt.prim.container:
            return [(stmt.targets[0].name, {stmt.targets[0].name})]
        if isinstance(stmt, ListStatement) and stmt.kind in (LIST_APPEND, LIST_ADD_CONTENTS):
            return []
        return self._flows(stmt)

    def _made_flows(self, stmt):
        """``(var name, names)``: ``var`` may be the very tuple, list or dict (or snapshot of
        a list) made by the statements defining ``names`` (:attr:`made`)."""
        same = self._same_object(stmt, lambda op: self.made.get(op.name, set())
                                 if isinstance(op, Var) else self.of(op))
        if same is not None:
            return same
        if isinstance(stmt, Assign) and stmt.targets and (
                is_list_statement(stmt, LIST_SNAPSHOT) or not isinstance(stmt, ListStatement)
                and rule_name(stmt.prim) and stmt.prim.container):
            return [(stmt.targets[0].name, {stmt.targets[0].name})]
        return []

    @staticmethod
    def _same_object(stmt, object_of):
        """``(var name, sites)`` pairs where ``var`` is the object an operand is (its sites by
        ``object_of``): an alias (``b = a``), a new version after a write into it, a merge, a
        loop-carried value, an update in place (``t += [v]``); else None."""
        if isinstance(stmt, If):
            return [(v.name, object_of(a) | object_of(b)) for v, a, b in stmt.merges]
        if isinstance(stmt, (For, While)):
            return [(v.name, object_of(init) | object_of(out)) for v, init, out in stmt.carried]
        if not isinstance(stmt, Assign) or not stmt.targets or not stmt.args or \
                isinstance(stmt, ListStatement):
            return None
        target = stmt.targets[0].name
        if isinstance(stmt, WriteItem) or rule_name(stmt.prim) and stmt.prim.emit[0] == "copy":
            return [(target, object_of(stmt.args[0]))]
        if stmt.in_place:
            return [(target, object_of(stmt.args[0]) | {target})]
        return None

    def fancy(self, index):
        """True if indexing with ``index`` surely copies (an integer list or array, a mask)."""
        parts = index.parts if isinstance(index, Index) else (index,)
        for part in parts:
            if isinstance(part, Const) and isinstance(part.value, (list, np.ndarray)):
                return True
            if isinstance(part, Var):
                stmt = self.defs.get(part.name)
                if stmt is not None and rule_name(stmt.prim) and stmt.prim.fancy_index:
                    return True
        return False

    # -- questions ---------------------------------------------------------------------
    def group(self, var):
        """The names whose memory may be ``var``'s (``var`` included)."""
        out = {var}
        for site in self.sites.get(var, ()):
            out |= self._members.get(site, set())
        return out

    def from_outside(self, var):
        """True if ``var``'s memory may have been made outside the function."""
        return bool(self.sites.get(var, set()) & self.outside)

    def written(self, var):
        """What a write ``var[index] = v`` changes: whether that may be memory made outside
        the function, and the names that may share it (``var`` included). It is the object
        ``var`` is: an array's memory, or a list's own, not its elements' (a write into a
        slot replaces an element and changes no array)."""
        sites = self.objects.get(var, set())
        out = {var}
        for site in sites:
            out |= self._members.get(site, set())
        return bool(sites & self.outside), out

    def arguments_of(self, var):
        """The parameters whose memory ``var`` may be, if that is all the memory from outside
        it may be (else None: a global, what a call returned)."""
        sites = self.sites.get(var, set()) & self.outside
        if not all(site.startswith("argument ") for site in sites):
            return None
        return frozenset(site[len("argument "):] for site in sites)

    def may_be_list(self, var):
        """True if the object ``var`` is may be a list made here (a literal, ``[x] * 3``),
        whose slots a write replaces."""
        defs = self.defs
        return any(site.startswith("literal ") or site in defs and (
            defs[site].prim.emit[0] == "list" or
            getattr(defs[site].prim, "sequence_result", None) == "joins")  # [x] * 3
            for site in self.made.get(var, ()))

    def may_be_snapshot(self, var):
        """True if the object ``var`` is may be a snapshot of a list (``tuple(t)``, what a
        list comprehension's name is bound to): a tuple, which no write can change."""
        return any(is_list_statement(self.defs.get(site), LIST_SNAPSHOT)
                   for site in self.made.get(var, ()))


def result_memory(fn):
    """What the values ``fn`` returns may be: for each result (one, or each element of a
    returned tuple), the positions of the parameters whose arrays it may be, and whether
    it may be memory from outside ``fn`` (a global, what a call it made returned)."""
    memory = Memory(fn)
    params = [memory.sites.get(p.name, set()) for p in fn.params]
    own = set().union(*params)
    output = fn.output
    stmt = memory.defs.get(output.name) if isinstance(output, Var) else None
    results = list(stmt.args) if stmt is not None and stmt.prim is OPERATORS["tuple"] else [output]
    out = []
    for result in results:
        sites = memory.of(result)
        out.append((tuple(i for i, p in enumerate(params) if p & sites),
                    bool(sites & (memory.outside - own))))
    return tuple(out)


# -- the verifier ---------------------------------------------------------------------------
def check_memory(fn, names=None, numbers=frozenset()):
    """Raise if an in-place statement of ``fn`` makes s2sad's program differ from NumPy's.

    ``names`` maps variable names to the user's names, for the messages. ``numbers``: the
    parameters that hold Python numbers in this call (immutable: ``x += e`` rebinds ``x``).
    An update in place of what may be an argument only (``x += e``, ``t = x; t *= 2``,
    but not ``x[0] = v``, which is an error on a number too) is refused with the error's
    ``arguments`` naming those parameters, for which numbers would do.
    """
    statements = list(in_place_statements(fn.body, []))
    if not statements:  # nothing is updated in place: no question for the analysis
        return
    names = names or {}
    memory = Memory(fn, numbers)
    for path, stmt in statements:
        base = stmt.args[0]
        if not isinstance(base, Var):
            continue
        if isinstance(stmt, WriteItem):
            if memory.may_be_snapshot(base.name):
                raise _snapshot_error(stmt, base, names)
            outside, group = memory.written(base.name)
        else:
            outside, group = memory.from_outside(base.name), memory.group(base.name)
        if outside:
            error = _outside_error(fn, stmt, base, names)
            error.arguments = None if isinstance(stmt, WriteItem) else \
                memory.arguments_of(base.name)
            raise error
        stale = group - {t.name for t in stmt.targets}
        hit = stale_read_after(path, stale)
        if hit is not None:
            raise _stale_error(stmt, base, names, *hit)


def _user(names, var):
    return names.get(var.name, var.name)


def _what(stmt, name):
    if isinstance(stmt, WriteItem):
        return f"wrote into {name}"
    return f"updated {name} in place ({name} {stmt.in_place} ...)"


def _outside_error(fn, stmt, base, names):
    name = _user(names, base)
    argument = base.name in fn.param_names
    if isinstance(stmt, WriteItem):
        what = f"{name} is an argument of {fn.name}; writing into it would change the " \
               f"caller's array" if argument else \
            f"{name} may share memory with an array made outside this function (an " \
            f"argument, a global, or what a function call returned)"
        return UnsupportedSyntaxError(
            f"{what}, so s2sad does not write into it in place", stmt.loc,
            f"Write into a copy: {name} = {name}.copy() (or np.array({name})) first.")
    op = stmt.in_place
    what = f"{name} is an argument of {fn.name}, and {name} {op} ... would change the " \
           f"caller's array in place when it is an array (NumPy works in place)" if argument \
        else f"{name} may share memory with an array made outside this function (an argument, " \
             f"a global, or what a function call returned), and {name} {op} ... would " \
             f"change that array in place (NumPy works in place)"
    spelled = f"{name} = {name} {op.rstrip('=')} ..." if op.endswith("=") else \
        f"{name} = {name}.copy() before it"
    return UnsupportedSyntaxError(
        f"{what}; s2sad computes a new value instead, so it refuses this", stmt.loc,
        f"Write {spelled}, which makes a new value, or copy first: {name} = {name}.copy().")


def _snapshot_error(stmt, base, names):
    name = _user(names, base)
    return UnsupportedSyntaxError(
        f"{name} holds the elements of a list comprehension (or of list(...) of a generator), "
        f"which s2sad reads as a tuple, a snapshot of the list it builds; so it does not "
        f"write into it", stmt.loc,
        f"Make the list with a literal or by repetition ({name} = [0.0] * n), or write into "
        f"an array ({name} = np.zeros(n)).")


def _stale_error(stmt, base, names, loc, var, loop):
    name, other = _user(names, base), names.get(var, var)
    line = stmt.loc.line
    if loop is not None:
        message = f"{other} shares memory with an array this loop writes into (line {line} " \
                  f"{_what(stmt, name)}), and is read in the loop: later trips would see the " \
                  f"earlier trips' writes through it"
        hint = f"Read it through {name} itself, or make {other} a copy before the loop."
    elif var not in names:  # a value the code reads without a name (y[1] in a, b = y[1], y[0])
        message = f"this uses a view of {name} read earlier in an expression, and line " \
                  f"{line} {_what(stmt, name)} in between; s2sad follows values, so it cannot " \
                  f"read that view after the write"
        hint = f"Copy it where it is read (.copy()), or index with a list, which reads a copy " \
               f"({name}[[0, 1]] = {name}[[1, 0]] swaps two elements)."
    else:
        message = f"{other} shares memory with {name} (a view or an alias), and line {line} " \
                  f"{_what(stmt, name)}; s2sad follows values, so it cannot read {other} " \
                  f"after that"
        hint = f"Read {other} before line {line}, or make it a copy " \
               f"({other} = {other}.copy())" + \
            (f", or write {name} = {name} {stmt.in_place.rstrip('=')} ... (a new array)"
             if not isinstance(stmt, WriteItem) and stmt.in_place.endswith("=") else "") + "."
    return UnsupportedSyntaxError(message, loc, hint)
