"""Checks on a generated module's text before anyone runs it.

The module builders promise Python that compiles and reads no name it does not
define. :func:`check_module` holds them to it: the text compiles (no empty block,
no syntax error), and every name a function reads is one of its parameters, a
name it assigns somewhere, a name the module defines (functions, imports,
constants), a builtin, or one of the ``bindings`` the caller supplies. A broken
promise is an :class:`~s2sad.errors.InternalError` naming the function, raised
when the module is built, never a NameError or IndentationError in the user's
face when it runs.

Layer 5, beside :mod:`s2sad.emit`: :mod:`s2sad.module` checks every module it makes.
"""

import ast
import builtins

from .errors import InternalError
from .support import HELPERS

_BUILTINS = set(dir(builtins))
_HELPERS = set(HELPERS)


def check_module(source, label, bindings=()):
    """Raise :class:`InternalError` unless ``source`` compiles and defines every name it reads."""
    try:
        tree = ast.parse(source)
        compile(tree, f"<s2sad {label}>", "exec")
    except SyntaxError as exc:  # IndentationError included
        raise InternalError(f"s2sad wrote a module for {label} that does not compile: "
                            f"{exc.msg} at line {exc.lineno}: "
                            f"{(exc.text or '').strip()!r}") from None
    lines = source.splitlines(True)
    names = [_names_of(node, lines) for node in tree.body]
    module_names = set().union(*(bound for bound, _ in names)) | _BUILTINS | set(bindings)
    for node, (bound, loads) in zip(tree.body, names):
        if isinstance(node, ast.FunctionDef):
            unknown = sorted(loads - bound - module_names)
            if unknown:
                raise InternalError(f"s2sad wrote a function {node.name} (for {label}) that "
                                    f"reads names it never defines: {', '.join(unknown)}")


_HELPER_NAMES = {}  # the text of a run-time helper's copy -> its _names (the same each time)


def _names_of(stmt, lines):
    """:func:`_names` of a top-level statement; of a run-time helper's copy (the same text in
    every module that uses it), walked once per process."""
    if not (isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and stmt.name in _HELPERS):
        return _names(stmt)
    text = "".join(lines[stmt.lineno - 1:stmt.end_lineno])
    found = _HELPER_NAMES.get(text)
    if found is None:
        found = _HELPER_NAMES[text] = _names(stmt)
    return found


def _names(stmt):
    """``(bound, read)``: the names bound anywhere in ``stmt`` (assignments, loop targets,
    defs, imports, parameters) and the names it reads."""
    bound, read = set(), set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, read
