"""Scalar replacement of dicts with constant keys: one variable per key.

After inlining, :class:`_DictReplacer` finds the dicts the function makes with
constant keys (``d = {"a": x}``) and used as records only (``d["b"] = ...``, ``d["a"]
+= ...``, ``d["a"]`` read), and :class:`_DictRewriter` rewrites each to one variable
per key (``d_a``, ``d_b``). A dict that escapes (passed to a function, returned,
iterated, tested with ``in``, read with a non-constant key, made twice) is a located
error. Run by :meth:`_Inliner.run <s2sad.inline.inliner._Inliner.run>`.

Layer 3 (front end), inside :mod:`s2sad.inline`.
"""

import re

import gast

from ..astutil import walk
from .scopes import _assign, _located, _name


class _DictReplacer:
    """Scalar replacement of the dicts made with constant keys: one variable per key."""

    def __init__(self, inliner):
        self.inliner = inliner
        self.error = inliner.error

    def key_of(self, node):
        """The constant key ``node`` spells (a str or an int), else raise."""
        negative = isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)
        inner = node.operand if negative else node
        if isinstance(inner, gast.Constant) and (isinstance(inner.value, str) and not negative
                                                 or type(inner.value) is int):
            return -inner.value if negative else inner.value
        return None

    def run(self, fn):
        bindings = self.find_bindings(fn)
        if not bindings:
            return
        self.bindings = bindings
        self.vars = {}  # (dict name, key) -> variable name
        written = self.literal_keys(bindings)
        stored, escaping, reads = self.classify_uses(fn, bindings, written)
        self.keep_whole(bindings, stored, escaping)
        reads = [r for r in reads if r[0] in bindings]
        if not bindings:
            return
        for name, key, node in reads:
            if key not in written[name]:
                raise self.error(node, f"the dict {name} has no key {key!r}: no {name}[{key!r}] "
                                       f"is set in the function",
                                 f"Set {name}[{key!r}] = ... before reading it.")
        _DictRewriter(self).visit(fn)

    def find_bindings(self, fn):
        """``{name: its d = {...} statement}``, each dict made once; any other dict literal
        must have constant string keys (a value: a dict of parameters)."""
        bindings = {}
        for node in walk(fn):
            if isinstance(node, gast.Assign) and isinstance(node.value, gast.Dict) and \
                    len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
                name = node.targets[0].id
                if name in bindings:
                    first = self.inliner.p.loc(bindings[name]).line
                    raise self.error(node, f"{name} is made a dict on line {first} and again "
                                           f"here; s2sad replaces a dict by one variable per "
                                           f"key and needs it made once",
                                     f"Use another name, or set its keys with {name}[key] = "
                                     f"value.")
                bindings[name] = node
        literals = {id(b.value) for b in bindings.values()}
        for node in walk(fn):  # any other dict literal is a value (a dict of parameters)
            if isinstance(node, gast.Dict) and id(node) not in literals and not all(
                    k is not None and isinstance(self.key_of(k), str) for k in node.keys):
                raise self.error(node, "s2sad supports a dict literal with constant string keys "
                                       "(a dict of parameters, metrics), or assigned to a name "
                                       "(d = {...}) and then used as d[key] with constant keys",
                                 "Write the keys out as strings, or pass the values as "
                                 "separate arguments.")
        return bindings

    def literal_keys(self, bindings):
        """``{name: keys}``: the constant keys of each dict's literal (``**`` is refused)."""
        written = {name: set() for name in bindings}
        for name, binding in bindings.items():
            for key_node, value in zip(binding.value.keys, binding.value.values):
                if key_node is None:
                    raise self.error(value, "s2sad does not support ** in a dict literal",
                                     "Write the keys out.")
                key = self.key_of(key_node)
                if key is None:
                    raise self.error(key_node, f"the keys of the dict {name} must be constant "
                                               f"strings or ints: s2sad replaces it by one "
                                               f"variable per key", "Use constant keys.")
                written[name].add(key)
        return written

    def classify_uses(self, fn, bindings, written):
        """Every use of a dict name: ``d[k] = v`` (adds ``k`` to ``written``), ``d[k]`` read,
        or ``d`` used whole; anything else is refused. Returns ``(stored, escaping, reads)``:
        the dicts written by key, ``{name: (node, parent)}`` of each first whole use, and
        ``[(name, key, node)]`` of the reads."""
        parents = {}
        for node in walk(fn):
            for child in gast.iter_child_nodes(node):
                parents[id(child)] = node
        stored, escaping = set(), {}  # d[k] = v somewhere; d used as a whole (first such use)
        reads, variable = [], {}  # (and d[k] read with a key known at run time only)
        for node in walk(fn):
            if not (isinstance(node, gast.Name) and node.id in bindings):
                continue
            parent = parents.get(id(node))
            name = node.id
            if isinstance(parent, gast.Assign) and parent is bindings[name] and \
                    parent.targets[0] is node:
                continue
            if isinstance(parent, gast.Subscript) and parent.value is node:
                key = self.key_of(parent.slice)
                if key is None and isinstance(parent.ctx, gast.Load):
                    variable.setdefault(name, parent.slice)  # (a dict kept whole may be)
                    continue
                if key is None:
                    raise self.variable_key(name, parent.slice)
                if isinstance(parent.ctx, gast.Store):
                    written[name].add(key)
                    stored.add(name)
                elif isinstance(parent.ctx, gast.Del):
                    raise self.error(parent, f"s2sad does not support del on the dict {name}",
                                     "Leave the key in the dict.")
                else:
                    reads.append((name, key, parent))
                continue
            if isinstance(parent, (gast.Call, gast.keyword, gast.Return, gast.Tuple, gast.List,
                                   gast.Dict)) and getattr(parent, "func", None) is not node or \
                    _keys_call(parent, parents):  # d.keys(): the dict's keys at run time
                escaping.setdefault(name, (node, parent))  # passed, returned or held whole
                continue
            raise self.error(node, f"{name} is a dict, which s2sad replaces by one variable "
                                   f"per key; it can only be read and written as {name}[key], "
                                   f"not {self.describe(node, parent)}",
                             f"Read the values you need with {name}[key] and use those.")
        for name, key_node in variable.items():
            if name not in escaping:  # replaced by one variable per key (written by key
                # and used whole: keep_whole says so)
                raise self.variable_key(name, key_node)
        return stored, escaping, reads

    def variable_key(self, name, node):
        return self.error(node, f"{name} is a dict, which s2sad replaces by one variable per "
                                f"key, so it must be indexed with a constant key (a string or "
                                f"an int)", "Use a constant key, or use an array or separate "
                                            "variables.")

    def keep_whole(self, bindings, stored, escaping):
        """Take out of ``bindings`` each dict used as a whole, which stays one value; refuse
        one that is also written by key."""
        for name, (node, parent) in escaping.items():
            # a dict used as a whole (passed to a function, returned) stays one value, if it
            # is never written into; else one variable per key, which cannot be passed
            if name in stored:
                raise self.error(node, f"{name} is a dict written with {name}[key] = ..., which "
                                       f"s2sad replaces by one variable per key; it can only be "
                                       f"read and written as {name}[key], not "
                                       f"{self.describe(node, parent)}",
                                 f"Build the dict in one literal ({name} = {{...}}) to pass it "
                                 f"whole, or read the values you need with {name}[key].")
            del bindings[name]

    @staticmethod
    def describe(node, parent):
        if isinstance(node.ctx, (gast.Store, gast.Del)):
            return "given another value"
        if isinstance(parent, gast.Call):
            return "passed to a function"
        if isinstance(parent, gast.keyword):
            return "passed to a function"
        if isinstance(parent, gast.Return):
            return "returned"
        if isinstance(parent, (gast.For, gast.comprehension)):
            return "iterated over"
        if isinstance(parent, gast.Attribute):
            return f"used with .{getattr(parent, 'spelled', parent.attr)}()"
        if isinstance(parent, gast.Compare):
            return "compared or tested with in"
        if isinstance(parent, gast.Assign):
            return "assigned to another name"
        return "used as a value"

    def variable(self, name, key):
        var = self.vars.get((name, key))
        if var is None:
            text = key if isinstance(key, str) else (str(key) if key >= 0 else f"m{-key}")
            text = re.sub(r"\W", "_", text) or "key"
            var = self.vars[(name, key)] = self.inliner.fresh(f"{name}_{text}")
        return var


def _keys_call(parent, parents):
    """True if ``parent`` is the ``d.keys`` of a call ``d.keys()``."""
    call = parents.get(id(parent))
    return isinstance(parent, gast.Attribute) and parent.attr == "keys" and \
        isinstance(call, gast.Call) and call.func is parent and not call.args


class _DictRewriter(gast.NodeTransformer):
    def __init__(self, replacer):
        self.r = replacer

    def visit_Subscript(self, node):
        if isinstance(node.value, gast.Name) and node.value.id in self.r.bindings:
            key = self.r.key_of(node.slice)
            return gast.copy_location(_name(self.r.variable(node.value.id, key), node.ctx), node)
        return self.generic_visit(node)

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) != 1 or not isinstance(node.targets[0], gast.Name) or \
                self.r.bindings.get(node.targets[0].id) is not node:
            return node
        name, literal = node.targets[0].id, node.value
        items = {}
        for key_node, value in zip(literal.keys, literal.values):
            items[self.r.key_of(key_node)] = value  # a repeated key keeps its last value
        if not items:
            return _located(gast.Pass(), node)
        targets = [self.r.variable(name, key) for key in items]
        values = list(items.values())
        end = node.end_lineno
        return [_located(_assign(t, v), node, end) for t, v in zip(targets, values)]
