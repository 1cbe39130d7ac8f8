"""What an instantiated derivative template reads, for :mod:`s2sad.cost`'s model of the
backward sweep: the names whose values it reads (:func:`values_read`), those it reads for
their shapes only (:func:`shapes_read`: ``unbroadcast(g, x)`` needs ``x``'s shape), and
whether a contribution is the number one (:func:`is_one`). A NumPy call whose stanza says
``shape_only`` reads no values (:func:`stanza_says`).

Layer 9, with the tools that show a derivative: reads gast trees and the rule stanzas.
"""

import gast

from .astutil import walk
from .kinds import numpy_rule


def stanza_says(attr, *fields):
    """True if the stanza of ``np.<attr>`` sets one of ``fields`` (``free``: it costs no
    operation; ``shape_only``: nor does it read its operand's values)."""
    prim = numpy_rule(attr)
    return prim is not None and any(getattr(prim, field) for field in fields)


SHAPE_ONLY = {"unbroadcast": 1, "unreduce": 1}  # helper -> index of its first shape-only argument


def values_read(tree):
    """Names whose values (not only shapes) an instantiated template reads."""
    out = set()

    def visit(node):
        if isinstance(node, gast.Name):
            out.add(node.id)
            return
        if isinstance(node, gast.Call):
            func = node.func
            if isinstance(func, gast.Attribute) and stanza_says(func.attr, "shape_only"):
                return
            if isinstance(func, gast.Name) and func.id in SHAPE_ONLY:
                for arg in node.args[:SHAPE_ONLY[func.id]]:
                    visit(arg)
                return
        for child in gast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def shapes_read(tree):
    """Names an instantiated template reads for their shapes only (``unbroadcast(g, x)``)."""
    return {arg.id for node in walk(tree)
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and
            node.func.id in SHAPE_ONLY
            for arg in node.args[SHAPE_ONLY[node.func.id]:] if isinstance(arg, gast.Name)}


def is_one(tree):
    """True if a contribution is the number 1 (``1.0`` or ``unbroadcast(1.0, x)``)."""
    if isinstance(tree, gast.Call) and isinstance(tree.func, gast.Name) and \
            tree.func.id in SHAPE_ONLY and tree.args:
        tree = tree.args[0]
    return isinstance(tree, gast.Constant) and tree.value == 1
