"""Module text: :func:`render_module` turns gast function definitions into the text of a
self-contained module: a docstring, ``import numpy as np`` (and ``math`` if used), the
imports and constants the functions read, the functions, then under one comment line the
run-time helpers they call, copied from :mod:`s2sad.support` (or with ``plain`` its short
reference versions, :mod:`s2sad.support_plain`). :func:`to_source` writes one function
(:func:`s2sad.emit.writer.write_function`: comment placeholders become comments) after
:func:`tidy_block` has dropped the blocks left with comments only.

Part of :mod:`s2sad.emit` (layer 5).
"""

import re

import gast

from .. import support
from ..display import HELPERS_HEADING
from ..helper_sources import HELPER_SOURCE, PLAIN_SOURCE
from .nodes import COMMENT_PREFIX, is_comment, literal
from .writer import expression, write_function


def _helpers_used(source_text, plain=False):
    """The support helpers the text calls, with the helpers they call, in definition order."""
    calls = _HELPER_CALLS[plain]
    wanted = set()
    frontier = [h for h in _called(source_text) if h in calls]
    while frontier:
        helper = frontier.pop()
        if helper in wanted:
            continue
        wanted.add(helper)
        frontier += [h for h in calls[helper] if h != helper]
    return [h for h in support.HELPERS if h in wanted]


def _called(text):
    """The names ``name(`` is written after in ``text`` (one pass over the text), not after a
    dot (``np.stack(`` calls NumPy's, not the helper ``stack``). (The writer never breaks a
    line between a name and its parenthesis; a helper's own text may have a space there.)"""
    return set(re.findall(r"(?<![\w.])(\w+)\s*\(", text))


def _bases(text):
    """The base classes a class helper's text names (``class NotScalar(CheckFailed):``)."""
    found = re.match(r"class \w+\(([\w, ]*)\)", text)
    return {name.strip() for name in found.group(1).split(",")} if found else set()


_HELPER_CALLS = {plain: {helper: {h for h in _called(source) | _bases(source) if h in sources}
                         for helper, source in sources.items()}
                 for plain, sources in ((False, HELPER_SOURCE), (True, PLAIN_SOURCE))}


def render_module(docstring, functions, comments, constants, imports=None, plain=False):
    """The formatted text of a module holding ``functions`` (gast FunctionDefs).

    The run-time helpers they call follow them, under one comment line: copies of
    :mod:`s2sad.support`'s, or with ``plain`` its short reference versions
    (:mod:`s2sad.support_plain`), for reading.

    ``imports`` (name -> (module, attribute or None, object), see
    :class:`Emitter`) are written for the names the functions read and do not
    define themselves: the user's derivative rules (:mod:`s2sad.custom`), the
    modules of functions called on constants (``scipy``).
    """
    written = {}  # value_and_grad_f holds grad_f's statements: their text is written once
    body_text = "\n\n".join(to_source(f, comments, written) for f in functions)
    helpers = _helpers_used(body_text, plain)
    imported = _import_lines(imports or {}, body_text)
    if imported:
        modules = ", ".join(sorted({m for m, _ in imported}))
        docstring = docstring.replace("Needs NumPy only.", f"Needs NumPy and {modules}.")
    parts = [f'"""{docstring}"""\n', "import numpy as np"]
    # (the substring test first: a pattern starting with \b is tried at every position)
    if "math." in body_text and re.search(r"\bmath\.", body_text):
        parts[-1] = "import math\n\nimport numpy as np"
    if imported:
        parts += [""] + [line for _, line in imported]
    parts.append("")
    if constants:
        for key in sorted(constants):
            parts.append(f"{key} = {expression(literal(constants[key]))}")
        parts.append("")
    parts.append("")
    parts.append(body_text.rstrip())
    if helpers:  # after the derivative: a reader meets it first
        parts += ["", "", _PLAIN_HEADING if plain else _HELPERS_HEADING]
    for helper in helpers:
        parts.append("")
        parts.append((PLAIN_SOURCE if plain else HELPER_SOURCE)[helper].rstrip())
        parts.append("")
    text = "\n".join(parts).rstrip() + "\n"
    return re.sub(r"\n{4,}", "\n\n\n", text)


_HELPERS_HEADING = HELPERS_HEADING + " the functions above call (NumPy only) ---"
_PLAIN_HEADING = HELPERS_HEADING + " the functions above call (NumPy only; reference versions) ---"


def _import_lines(imports, body_text):
    """``[(module, "from module import a, b"), ...]`` for the imported names the text reads."""
    code = re.sub(r"#.*", "", body_text)  # comments quote source lines: not reads
    used = {key: entry for key, entry in imports.items()
            if re.search(rf"(?<![\w.]){key}\b", code)
            and not re.search(rf"^def {key}\(", code, flags=re.MULTILINE)}
    plain, grouped = [], {}
    for key, (module, attr, _) in sorted(used.items()):
        if attr is None:
            plain.append((module, f"import {module}" if module.split(".")[0] == key
                          else f"import {module} as {key}"))
        else:
            grouped.setdefault(module, []).append(attr if attr == key else f"{attr} as {key}")
    return sorted(set(plain)) + [(m, f"from {m} import {', '.join(names)}")
                                 for m, names in sorted(grouped.items())]


def to_source(node, comments, written=None):
    """The text of ``node`` (see :func:`s2sad.emit.writer.write_function`), its blocks
    tidied first (:func:`tidy_block`)."""
    if isinstance(node, gast.FunctionDef):
        node.body = tidy_block(node.body, comments)
    return write_function(node, comments, written)


def _has_code(stmts):
    return any(not is_comment(s) for s in stmts)


def tidy_block(stmts, comments):
    """``stmts`` with no block left holding comments only (Python refuses an empty block).

    A branch with nothing to do is dropped (generated tests have no side effects), and so
    is a backward sweep's loop (``for i in reversed(...)``, ``for _ in range(trips)``)
    with nothing to do; any other loop gets ``pass``. A ``# line N`` comment left with no
    code after it (before the next such comment or the return) goes too.
    """
    out = []
    for stmt in stmts:
        if type(stmt) in _SIMPLE:  # (most statements: nothing inside, nothing to drop)
            out.append(stmt)
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                setattr(stmt, field, tidy_block(getattr(stmt, field), comments))
        if isinstance(stmt, gast.If):
            if not _has_code(stmt.orelse):
                stmt.orelse = []
            if not _has_code(stmt.body):
                if not stmt.orelse:
                    continue
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
        elif isinstance(stmt, (gast.For, gast.While)) and not _has_code(stmt.body):
            if isinstance(stmt, gast.For) and _is_backward_loop(stmt):
                continue
            stmt.body = stmt.body + [gast.Pass()]
        out.append(stmt)
    line_comment = [_is_line_comment(stmt, comments) for stmt in out] + [True]
    return [stmt for k, stmt in enumerate(out)
            if not line_comment[k] or not (line_comment[k + 1] or type(out[k + 1]) is gast.Return)]


_SIMPLE = (gast.Assign, gast.AugAssign, gast.Return)  # statements tidy_block keeps as they are


def _is_backward_loop(loop):
    header = loop.iter
    return isinstance(header, gast.Call) and isinstance(header.func, gast.Name) and (
        header.func.id == "reversed" or isinstance(loop.target, gast.Name) and
        loop.target.id == "_" and header.func.id == "range")


def _is_line_comment(stmt, comments):
    return type(stmt) is gast.Expr and is_comment(stmt) and \
        comments[int(stmt.value.id[len(COMMENT_PREFIX):])].startswith("line ")
