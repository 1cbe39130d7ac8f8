"""Derivative templates: one Python expression each, parsed once and instantiated by name
(through a :func:`~s2sad.astutil.copier` of its tree once its text is used often).

The template language is described in :mod:`s2sad.rules.core` (its module docstring), with
the stanza fields. Here: :class:`Template`, :class:`Bound` (a call's operands bound to a
primitive's parameter names), a rule as a template (:func:`as_template`), and the two ways
a JVP follows from a stanza without being written (:func:`tangent_of_slope`,
:func:`linear_tangent`). Layer 2, below the registry (:mod:`s2sad.rules.core`).
"""

import ast
import functools
from collections import Counter

import gast

from ..astutil import clone, copier, parse_expr, walk
from ..ir import Const

ZERO = "0"  # marks a parameter whose derivative is identically zero


class Template:
    """A derivative formula, parsed once and instantiated by name substitution."""

    def __init__(self, text, tree=None):
        self.text = text
        self._tree = tree  # parsed when first read: a rule's text made per call is often
        # only counted (uses), never instantiated
        # (a tree given, not parsed from the text: its own copier, not the text's)
        self._own_record = None if tree is None else _new_record()

    @property
    def tree(self):
        if self._tree is None:
            self._tree = parse_expr(self.text)
        return self._tree

    def uses(self, name):
        """How many times the formula reads ``name`` (counted once per text and process)."""
        return _name_counts(self.text).get(name, 0)

    @classmethod
    def of_tree(cls, tree):
        return cls(ast.unparse(gast.gast_to_ast(tree)), tree)

    def names(self):
        return {n.id for n in walk(self.tree) if isinstance(n, gast.Name)}

    def read_names(self):
        """:meth:`names`, as a frozenset made once per text."""
        record = self._record()
        if record[2] is None:
            record[2] = frozenset(self.names())
        return record[2]

    def instantiate(self, env):
        """A fresh gast expression with each name in ``env`` replaced by env[name]
        (``clone(self.tree, env)``; by a :func:`~s2sad.astutil.copier` of the tree once its
        text has been instantiated a few times: most rules are, again and again)."""
        record = self._record()
        if record[1] is None:
            record[0] += 1
            if record[0] < _COPIER_AFTER:
                return clone(self.tree, env)
            record[1] = copier(self.tree)
        return record[1](env)

    def instantiate_simplified(self, env, simplify):
        """``simplify(self.instantiate(env))``. Where every name substituted gets a plain name
        (most adjoints and operands: ``z_bar``, ``x``), the template's own tree simplified
        once, then instantiated: ``simplify`` (:func:`s2sad.simplify.simplify`, the one
        simplifier) rewrites by the kinds of nodes, never by a name, so putting one name in
        the place of another commutes with it."""
        record = self._record()
        names = record[2] if record[2] is not None else self.read_names()
        if any(type(value) is not gast.Name for key, value in env.items() if key in names):
            return simplify(self.instantiate(env))
        if record[3] is None:
            record[3] = Template.of_tree(simplify(clone(self.tree)))
        return record[3].instantiate(env)

    def _record(self):
        """``[instantiations, copier, names, simplified template]`` of this template's tree:
        shared by the templates of one text, which a rule written as a function makes afresh
        at each call (a template made from a tree has its own)."""
        record = self._own_record
        if record is None:
            if len(_RECORDS) > 4096 and self.text not in _RECORDS:  # (texts made per call)
                _RECORDS.clear()
            record = _RECORDS.setdefault(self.text, _new_record())
        return record


def _new_record():
    return [0, None, None, None]


_RECORDS = {}  # text -> its record (Template._record)
_COPIER_AFTER = 4  # instantiations before a copier is made (it costs some 30 clones)


@functools.lru_cache(maxsize=4096)
def _name_counts(text):
    return Counter(n.id for n in walk(parse_expr(text)) if isinstance(n, gast.Name))


class Bound(dict):
    """A call's operands bound to the primitive's parameter names."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def const(self, name, default=None):
        """The constant value bound to ``name``, or ``default`` if it is not constant."""
        op = self.get(name)
        return op.value if isinstance(op, Const) else default

    def is_none(self, name):
        op = self.get(name)
        return op is None or (isinstance(op, Const) and op.value is None)




def as_rule(rule):
    return rule if callable(rule) or rule is ZERO or isinstance(rule, Template) else Template(rule)


def as_template(rule, bound):
    """A rule (template, ZERO, or function of the bound operands) as a Template or None."""
    if rule is ZERO:
        return None
    if callable(rule):
        text = rule(bound)
        return text if text is None or isinstance(text, Template) else Template(text)
    return rule


def tangent_of_slope(template, param):
    """An element-wise VJP, ``g`` times the slope, as the JVP: ``g`` becomes the tangent
    ``<param>_dot`` and ``unbroadcast(e, <param>)`` becomes ``e``. None stays None."""
    if template is None:
        return None
    tangent = gast.Name(id=f"{param}_dot", ctx=gast.Load(), annotation=None, type_comment=None)
    tree = clone(template.tree, {"g": tangent})
    return Template.of_tree(_drop_unbroadcast(tree, param))


def _drop_unbroadcast(node, param):
    if (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
            and node.func.id == "unbroadcast" and len(node.args) == 2
            and isinstance(node.args[1], gast.Name) and node.args[1].id == param):
        return _drop_unbroadcast(node.args[0], param)
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            setattr(node, field, [_drop_unbroadcast(v, param) if isinstance(v, gast.AST) else v
                                  for v in value])
        elif isinstance(value, gast.AST):
            setattr(node, field, _drop_unbroadcast(value, param))
    return node


def linear_tangent(prim, param, bound):
    """The JVP of a primitive linear in ``param``: the call with ``<param>_dot`` in its place.

    Parameters without a default are passed by position; one with a default is left out
    when the call has the default, and passed by position while nothing before it was
    left out, by keyword after that. ``out=`` is never passed on (the tangent is a new
    array). A stanza whose JVP is spelled otherwise writes it out (``jvp=``).
    """
    args, skipped = [], False
    for name in prim.params:
        text = f"{name}_dot" if name == param else name
        if name == "out" or name in prim.defaults and _is_default(bound, name, prim.defaults[name]):
            skipped = True
            continue
        args.append(f"{name}={text}" if skipped else text)
    return Template(f"{prim.emit[1]}({', '.join(args)})")


def _is_default(bound, name, default):
    op = bound.get(name)
    if op is None:
        return True
    if not isinstance(op, Const):
        return False
    return op.value is default or (type(op.value) is type(default) and op.value == default)


