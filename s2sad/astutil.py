"""gast utilities every layer may use (layer 1: imports no s2sad module).

:func:`clone` copies a gast tree (substituting names on the way),
:func:`copier` writes such a copy of one tree out as code,
:func:`walk` visits a tree's nodes in :func:`ast.walk`'s order (about twice as fast), and
:func:`parse_expr` parses an expression's text once and hands out fresh copies;
the rule templates (:mod:`s2sad.rules.core`), the emitter and the transforms
build their code from them.
"""

import ast
import functools
from collections import deque

import gast


def clone(node, env=None):
    """A fresh copy of a gast tree; with ``env``, each ``Name`` it maps is replaced by a
    copy of its value. (One pass, no memo: several times faster than copy.deepcopy.)"""
    if type(node) is list:
        return [clone(n, env) for n in node]
    if not isinstance(node, gast.AST):
        return node
    kind = type(node)
    if env and kind is gast.Name and node.id in env:
        return clone(env[node.id])
    new = kind.__new__(kind)
    for field in node._fields:  # (a leaf, a string or None, copied without a call)
        value = getattr(node, field, None)
        if type(value) is list:
            value = [clone(n, env) for n in value]
        elif isinstance(value, gast.AST):
            value = clone(value, env)
        setattr(new, field, value)
    for attr in node._attributes:
        value = getattr(node, attr, _MISSING)
        if value is not _MISSING:
            setattr(new, attr, value)
    return new


_MISSING = object()


def copier(tree):
    """``env -> clone(tree, env)``, written out as straight-line code for this one tree: no
    walk of the tree and no test of each field's kind when it runs (about twice as fast as
    :func:`clone`; writing and compiling it costs some 30 clones: for trees copied again
    and again, the rule templates)."""
    lines, leaves, made = [], {"clone": clone, "_MISSING": _MISSING}, [0]

    def leaf(obj):
        if obj is None or type(obj) in (str, int, bool):
            return repr(obj)
        leaves[f"c{len(leaves)}"] = obj
        return f"c{len(leaves) - 1}"

    def build(node, var, indent):  # the lines making ``node`` (a gast node) into ``var``
        kind = f"k{len(leaves)}"
        leaves[kind] = type(node)
        fields = [(f, code(getattr(node, f, None), indent)) for f in node._fields]
        fields += [(a, leaf(getattr(node, a))) for a in node._attributes if hasattr(node, a)]
        lines.append(f"{indent}{var} = {kind}.__new__({kind})")
        lines.extend(f"{indent}{var}.{f} = {value}" for f, value in fields)

    def code(node, indent):  # an expression for a copy of ``node``; lines making it first
        if type(node) is list:
            return "[" + "".join(f"{code(n, indent)}, " for n in node) + "]"
        if not isinstance(node, gast.AST):
            return leaf(node)
        made[0] += 1
        var = f"n{made[0]}"
        if type(node) is gast.Name:  # env's value in its place, or the name itself
            lines.append(f"{indent}{var} = env.get({node.id!r}, _MISSING) if env else _MISSING")
            lines.append(f"{indent}if {var} is _MISSING:")
            build(node, var, indent + "    ")
            lines.append(f"{indent}else:\n{indent}    {var} = clone({var})")
        else:
            build(node, var, indent)
        return var

    result = code(tree, "    ")
    text = "def copy(env=None):\n" + "\n".join(lines) + f"\n    return {result}\n"
    exec(compile(text, "<s2sad copier>", "exec"), leaves)
    return leaves["copy"]


def walk(node):
    """Every node of the tree at ``node`` (itself first), breadth first, in the order of
    :func:`ast.walk`, which spends most of its time in two nested generators."""
    todo = deque((node,))
    pop, push, AST = todo.popleft, todo.append, ast.AST
    while todo:
        node = pop()
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, AST):
                push(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, AST):
                        push(item)
        yield node


def parameter_names(args):
    """The names of a gast ``arguments``' parameters that are bound by name: the plain ones,
    then the keyword-only ones (s2sad reads no ``*args``, ``**kwargs`` or ``/``)."""
    return [a.id for a in args.args + args.kwonlyargs]


def parse_expr(text):
    """The gast expression ``text`` (a fresh tree each call; parsed once per text)."""
    return clone(_parsed(text))


@functools.lru_cache(maxsize=4096)
def _parsed(text):
    return gast.parse(text).body[0].value


def unique_name(base, taken, first=1):
    """``base``, or ``base<first>``, ``base<first + 1>``, ...: the first not in ``taken``
    (which it joins). One fresh-name loop for the front end and the transforms."""
    candidate, k = base, first
    while candidate in taken:
        candidate = f"{base}{k}"
        k += 1
    taken.add(candidate)
    return candidate
