"""gast utilities every layer may use (layer 1: imports no s2sad module).

:func:`clone` copies a gast tree (substituting names on the way),
:func:`copier` writes such a copy of one tree out as code,
:func:`walk` visits a tree's nodes in :func:`ast.walk`'s order (about twice as fast),
:class:`Kinds` holds them by kind (one walk for the passes that read a tree),
:func:`parse` is ``gast.parse`` (faster), :func:`definition_lines` is
:func:`inspect.getblock` for a ``def`` (without its tokenizer), and
:func:`parse_expr` parses an expression's text once and hands out fresh copies;
the rule templates (:mod:`s2sad.rules.core`), the emitter and the transforms
build their code from them.
"""

import ast
import functools
import inspect
import textwrap
from collections import deque

import gast
from gast.ast3 import Ast3ToGAst


def clone(node, env=None):
    """A fresh copy of a gast tree; with ``env``, each ``Name`` it maps is replaced by a
    copy of its value. (One pass, no memo: several times faster than copy.deepcopy; each
    kind of node is copied by a function written out for its fields, :func:`_cloner`.)"""
    copy = _CLONERS.get(type(node))
    if copy is not None:
        return copy(node, env)
    if type(node) is list:
        return [clone(n, env) for n in node]
    if not isinstance(node, gast.AST):
        return node
    copy = _CLONERS[type(node)] = _cloner(type(node))
    return copy(node, env)


_MISSING = object()
_CLONERS = {}  # node kind -> the function copying a node of that kind (_cloner)


def _cloner(kind):
    """``(node, env) -> copy``: a node of ``kind`` copied field by field, as :func:`clone`
    promises, written out as straight-line code (no loop over ``_fields``, no ``getattr``: a
    node's fields are in its ``__dict__``). A field missing is None in the copy; an
    attribute (``lineno``) missing stays missing, or takes its class's default."""
    lines = ["def copy(node, env):"]
    if kind is gast.Name:
        lines += ["    if env and node.id in env:", "        return clone(env[node.id])"]
    lines += ["    d = node.__dict__", "    new = kind.__new__(kind)", "    n = new.__dict__"]
    for field in kind._fields:
        if field not in child_fields(kind):  # (a string, or None: copied as it is)
            lines.append(f"    n[{field!r}] = d.get({field!r})")
            continue
        lines += [f"    v = d.get({field!r})",
                  "    if v is not None:",
                  "        if type(v) is list:",
                  "            v = [clone(x, env) for x in v]",
                  "        else:",
                  "            c = cloners.get(type(v))",
                  "            if c is not None:",
                  "                v = c(v, env)",
                  "            elif isinstance(v, AST):",
                  "                v = clone(v, env)",
                  f"    n[{field!r}] = v"]
    for attr in kind._attributes:
        default = getattr(kind, attr, _MISSING)
        lines += [f"    v = d.get({attr!r}, {'MISSING' if default is _MISSING else 'None'})"]
        if default is not _MISSING and default is not None:
            return _generic_copy  # (a default other than None: not written out)
        lines += ["    if v is not MISSING:", f"        n[{attr!r}] = v"]
    lines.append("    return new")
    scope = {"kind": kind, "clone": clone, "cloners": _CLONERS, "AST": gast.AST,
             "MISSING": _MISSING}
    exec(compile("\n".join(lines), f"<s2sad clone {kind.__name__}>", "exec"), scope)
    return scope["copy"]


def _generic_copy(node, env):
    """:func:`clone` of one node, field by field (for a kind :func:`_cloner` does not write)."""
    kind = type(node)
    if env and kind is gast.Name and node.id in env:
        return clone(env[node.id])
    new = kind.__new__(kind)
    for field in node._fields:
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


def copier(tree):
    """``env -> clone(tree, env)``, written out as straight-line code for this one tree: no
    walk of the tree and no test of each field's kind when it runs (about twice as fast as
    :func:`clone`; writing and compiling it costs some 30 clones: for trees copied again
    and again, the rule templates)."""
    lines, leaves, made = [], {"clone": clone, "_MISSING": _MISSING, "Name": gast.Name,
                               "copy_name": _copy_name}, [0]

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
        lines.append(f"{indent}d = {var}.__dict__")  # (a store into it: faster than setattr)
        lines.extend(f"{indent}d[{f!r}] = {value}" for f, value in fields)

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
            lines.append(f"{indent}else:\n{indent}    {var} = copy_name({var}) if type({var}) "
                         f"is Name else clone({var})")
        else:
            build(node, var, indent)
        return var

    result = code(tree, "    ")
    text = "def copy(env=None):\n" + "\n".join(lines) + f"\n    return {result}\n"
    exec(compile(text, "<s2sad copier>", "exec"), leaves)
    return leaves["copy"]


def _copy_name(node):
    """:func:`clone` of a ``Name`` (the most common value a template's name is given): its
    fields and attributes in one update (a name holds nothing else), a new context."""
    d = node.__dict__
    if d.get("annotation") is not None:
        return clone(node)
    new = _Name.__new__(_Name)
    n = new.__dict__
    n.update(d)
    ctx = d.get("ctx")
    if ctx is not None:
        n["ctx"] = type(ctx).__new__(type(ctx))
    return new


_Name = gast.Name


def walk(node):
    """Every node of the tree at ``node`` (itself first), breadth first, in the order of
    :func:`ast.walk`, which spends most of its time in two nested generators (read from each
    node's ``__dict__``, skipping the fields gast declares to hold strings: about twice
    as fast)."""
    todo = deque((node,))
    pop, push, AST, fields_of = todo.popleft, todo.append, ast.AST, _CHILD_FIELDS
    while todo:
        node = pop()
        fields = fields_of.get(type(node))
        if fields is None:
            fields = child_fields(type(node))
        if fields:
            d = node.__dict__
            for field in fields:
                value = d.get(field)
                if value is None:
                    continue
                if type(value) is list:
                    for item in value:
                        if isinstance(item, AST):
                            push(item)
                elif isinstance(value, AST):
                    push(value)
        yield node


_CHILD_FIELDS = {}  # node kind -> the fields walk reads (child_fields)


class Kinds:
    """The nodes of one tree by kind, from one :func:`walk` shared by the passes that only
    read the tree (the front end's: :func:`s2sad.lower.lower`). A pass that rewrites the
    tree says so (:meth:`stale`); the next question walks it again."""

    def __init__(self, tree):
        self.tree = tree
        self._table = None

    def __call__(self, *kinds):
        """The nodes of these kinds (exact types): each kind's in :func:`walk`'s order, kind
        after kind."""
        table = self._table
        if table is None:
            table = self._table = {}
            for node in walk(self.tree):
                nodes = table.get(type(node))
                if nodes is None:
                    table[type(node)] = [node]
                else:
                    nodes.append(node)
        if len(kinds) == 1:
            return table.get(kinds[0], ())
        return [node for kind in kinds for node in table.get(kind, ())]

    def stale(self):
        """The tree was rewritten: walk it again when next asked."""
        self._table = None


def child_fields(kind):
    """The fields of node ``kind`` that may hold nodes: all but those gast types as strings
    (``Name.id``, ``Attribute.attr``, ``type_comment``)."""
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        types = getattr(kind, "_field_types", None) or {}
        fields = _CHILD_FIELDS[kind] = tuple(
            field for field in kind._fields
            if types.get(field) is not str and str(types.get(field)) != "str | None")
    return fields


def parse(text):
    """``gast.parse(text)``: the same tree (fields, locations, the order of each node's
    ``__dict__``), converted from :func:`ast.parse`'s by a function written out per kind of
    node (:func:`_converter`) instead of gast's generic visitor (about 1.7 times faster)."""
    return _gast_of(ast.parse(text))


def _gast_of(node):
    """The gast of an ast node (a list of them, or a leaf as it is)."""
    convert = _CONVERTERS.get(type(node))
    if convert is not None:
        return convert(node)
    if type(node) is list:
        return [_gast_of(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    convert = _CONVERTERS[type(node)] = _converter(type(node))
    return convert(node)


class _Special(Ast3ToGAst):
    """gast's own conversions of the kinds it converts by hand (``Name``, ``arg``,
    ``FunctionDef``...), their children converted by :func:`_gast_of`."""

    def _visit(self, node):
        return _gast_of(node)

    def visit(self, node):
        return _gast_of(node)


def _converter(kind):
    """``node -> gast node`` for an ast ``kind``: gast's own method where it has one, else
    gast's generic conversion (each field present converted, each location kept) written
    out for the kind's fields."""
    special = getattr(Ast3ToGAst, "visit_" + kind.__name__, None)
    if special is not None:
        return functools.partial(special, _Special())
    target = getattr(gast, kind.__name__, None)
    if target is None:  # (what gast drops)
        return lambda node: None
    lines = ["def convert(node):", "    new = target.__new__(target)", "    n = new.__dict__"]
    for field in kind._fields:
        lines += [f"    v = getattr(node, {field!r}, MISSING)", "    if v is not MISSING:",
                  "        c = converters.get(type(v))",
                  f"        n[{field!r}] = c(v) if c is not None else v if type(v) in leaves "
                  "else gast_of(v)"]
    for attr in kind._attributes:
        lines += [f"    v = getattr(node, {attr!r}, MISSING)", "    if v is not MISSING:",
                  f"        n[{attr!r}] = v"]
    lines.append("    return new")
    scope = {"target": target, "MISSING": _MISSING, "converters": _CONVERTERS,
             "gast_of": _gast_of, "leaves": {str, int, float, bool, type(None)}}
    exec(compile("\n".join(lines), f"<s2sad gast {kind.__name__}>", "exec"), scope)
    return scope["convert"]


_CONVERTERS = {}  # ast kind -> its conversion to gast (_converter)


def parameter_names(args):
    """The names of a gast ``arguments``' parameters that are bound by name: the plain ones,
    then the keyword-only ones (s2sad reads no ``*args``, ``**kwargs`` or ``/``)."""
    return [a.id for a in args.args + args.kwonlyargs]


def parse_expr(text):
    """The gast expression ``text`` (a fresh tree each call; parsed once per text), without
    locations (``lineno``...): generated code, which alone is made of these expressions, is
    read as the text written from it, never by its nodes' locations, and each copy of a
    rule's template costs less without them."""
    return clone(_parsed(text))


@functools.lru_cache(maxsize=4096)
def _parsed(text):
    tree = parse(text).body[0].value
    for node in walk(tree):
        for attr in node._attributes:
            node.__dict__.pop(attr, None)
    return tree


def unique_name(base, taken, first=1):
    """``base``, or ``base<first>``, ``base<first + 1>``, ...: the first not in ``taken``
    (which it joins). One fresh-name loop for the front end and the transforms."""
    candidate, k = base, first
    while candidate in taken:
        candidate = f"{base}{k}"
        k += 1
    taken.add(candidate)
    return candidate


def definition_lines(lines):
    """The lines of the ``def`` (decorators first) at the top of ``lines``, as
    :func:`inspect.getblock` finds them, most often without its tokenizer (Python code;
    nearly half the time of finding a small function's source).

    The body ends before the first line after the ``def`` line that is indented no deeper
    than the ``def`` (blank and comment lines aside), less the blank lines and the
    comments indented less than the body before it. A cut inside a string or brackets
    open across a shallower line (or a header of several lines) leaves text that does not
    compile; then, as for anything but a ``def``, :func:`inspect.getblock` decides."""
    block = _indented_block(lines)
    if block is not None:
        try:
            compile(textwrap.dedent("".join(block)), "<definition>", "exec", ast.PyCF_ONLY_AST)
            return block
        except SyntaxError:
            pass
    return inspect.getblock(lines)


def parsed_definition(lines):
    """``(lines of the def, their dedented text, its gast Module)``: :func:`definition_lines`
    whose check of the cut is the parse itself (one parse, not two). Raises SyntaxError if
    even :func:`inspect.getblock`'s lines do not parse."""
    block = _indented_block(lines)
    if block is not None:
        text = textwrap.dedent("".join(block))
        try:
            return block, text, parse(text)
        except SyntaxError:
            pass
    block = inspect.getblock(lines)
    text = textwrap.dedent("".join(block))
    return block, text, parse(text)


def _indented_block(lines):
    """:func:`definition_lines`'s cut by indentation alone (unchecked), or None if no ``def``
    heads ``lines``."""
    head = next((i for i, line in enumerate(lines[:32])
                 if line.lstrip().startswith(("def ", "async def "))), None)
    if head is None:
        return None
    depth = len(lines[head]) - len(lines[head].lstrip())
    last, body = head + 1, None  # (body: the body's column, the least after the def line)
    for end in range(head + 1, len(lines)):
        text = lines[end].lstrip()
        column = len(lines[end]) - len(text)
        if text.startswith("#"):
            if body is not None and column >= body:
                last = end + 1
            continue
        if not text:
            continue
        if column <= depth:
            break
        body = column if body is None else min(body, column)
        last = end + 1
    return lines[:last]
