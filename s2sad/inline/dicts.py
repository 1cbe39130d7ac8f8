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
        bindings = {}
        for node in gast.walk(fn):
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
        for node in gast.walk(fn):  # any other dict literal is a value (a dict of parameters)
            if isinstance(node, gast.Dict) and id(node) not in literals and not all(
                    k is not None and isinstance(self.key_of(k), str) for k in node.keys):
                raise self.error(node, "s2sad supports a dict literal with constant string keys "
                                       "(a dict of parameters, metrics), or assigned to a name "
                                       "(d = {...}) and then used as d[key] with constant keys",
                                 "Write the keys out as strings, or pass the values as "
                                 "separate arguments.")
        if not bindings:
            return
        self.bindings = bindings
        self.vars = {}  # (dict name, key) -> variable name
        parents = {}
        for node in gast.walk(fn):
            for child in gast.iter_child_nodes(node):
                parents[id(child)] = node
        written = {name: set() for name in bindings}
        stored, escaping = set(), {}  # d[k] = v somewhere; d used as a whole (first such use)
        reads = []
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
        for node in gast.walk(fn):
            if not (isinstance(node, gast.Name) and node.id in bindings):
                continue
            parent = parents.get(id(node))
            name = node.id
            if isinstance(parent, gast.Assign) and parent is bindings[name] and \
                    parent.targets[0] is node:
                continue
            if isinstance(parent, gast.Subscript) and parent.value is node:
                key = self.key_of(parent.slice)
                if key is None:
                    raise self.error(parent.slice, f"{name} is a dict, which s2sad replaces by "
                                                   f"one variable per key, so it must be "
                                                   f"indexed with a constant key (a string or "
                                                   f"an int)", "Use a constant key, or use an "
                                                               "array or separate variables.")
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
                                   gast.Dict)) and getattr(parent, "func", None) is not node:
                escaping.setdefault(name, (node, parent))  # passed, returned or held whole
                continue
            raise self.error(node, f"{name} is a dict, which s2sad replaces by one variable "
                                   f"per key; it can only be read and written as {name}[key], "
                                   f"not {self.describe(node, parent)}",
                             f"Read the values you need with {name}[key] and use those.")
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
        reads = [r for r in reads if r[0] in bindings]
        if not bindings:
            return
        for name, key, node in reads:
            if key not in written[name]:
                raise self.error(node, f"the dict {name} has no key {key!r}: no {name}[{key!r}] "
                                       f"is set in the function",
                                 f"Set {name}[{key!r}] = ... before reading it.")
        _DictRewriter(self).visit(fn)

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
            return f"used with .{parent.attr}"
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
