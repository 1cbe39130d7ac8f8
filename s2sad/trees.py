"""Parameter containers ("pytrees", as JAX calls them): tuples, lists, dicts and named tuples
of arrays and numbers, nested to any depth.

Generated code needs nothing from here: it indexes containers as the function does
(``params["W"]``) and returns a gradient in its argument's structure
(:func:`s2sad.support.as_gradient`). The API uses this module where it handles
whole arguments itself: checking that a tangent has its argument's structure, and
building Jacobians and Hessians of structured arguments block by block.

:func:`flatten` gives ``(leaves, tree)``, the leaves in order (dict entries in the
dict's own order) and a description of the containers; :func:`unflatten` puts
leaves back in a tree's containers, of the same types. Anything that is not a
tuple, list or dict is a leaf.

Layer 1 (a utility): imports nothing of s2sad.
"""


def flatten(x):
    """``(leaves, tree)`` of ``x``: its leaves in order and its containers' description."""
    leaves = []

    def walk(value):
        if isinstance(value, dict):
            return type(value), tuple(value), tuple(walk(e) for e in value.values())
        if isinstance(value, (tuple, list)):
            return type(value), None, tuple(walk(e) for e in value)
        leaves.append(value)
        return None

    return leaves, walk(x)


def unflatten(tree, leaves):
    """The containers of ``tree`` (from :func:`flatten`) filled with ``leaves`` in order."""
    items = iter(leaves)

    def build(node):
        if node is None:
            return next(items)
        kind, keys, children = node
        values = [build(child) for child in children]
        if keys is not None:
            return kind(zip(keys, values))
        if hasattr(kind, "_fields"):  # a named tuple
            return kind(*values)
        return kind(values)

    return build(tree)


def is_leaf(x):
    """True if ``x`` is not a container (an array, a number, anything else)."""
    return not isinstance(x, (tuple, list, dict))


def describe(tree):
    """A short text for a tree's containers, for error messages: ``{'W': *, 'b': *}``."""
    if tree is None:
        return "*"
    kind, keys, children = tree
    inner = [describe(c) for c in children]
    if keys is not None:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, inner)) + "}"
    if kind is list:
        return "[" + ", ".join(inner) + "]"
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
