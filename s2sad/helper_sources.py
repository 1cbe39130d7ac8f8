"""The text of each run-time helper, read once, when s2sad is imported.

:data:`HELPER_SOURCE` maps each name of :data:`s2sad.support.HELPERS` to its text;
:data:`PLAIN_SOURCE` is the same with the short reference versions of
:mod:`s2sad.support_plain` where there are. Generated modules copy these texts
(:mod:`s2sad.emit.render`), and the lowerer tells a function of a generated module for a
copy of a helper by comparing its text with them (:mod:`s2sad.rules.support_rules`).

Read once: s2sad/support/ changing on disk later (an upgrade, a checkout) must not change
what the running compiler copies into modules. Each helper module's file is parsed once
and every top-level definition cut from it by its line numbers, the text
``inspect.getsource`` gives (a test compares them): tokenizing each helper apart, as
``inspect.getsource`` does, took nearly half the time of ``import s2sad``.

Layer 1, beside :mod:`s2sad.support_plain`.
"""

import ast
import inspect
import linecache
import sys

from . import support, support_plain


def _definitions(module):
    """Each top-level function's and class's text in ``module``'s file, by name
    (decorators first, as ``inspect.getsource`` gives it)."""
    lines = linecache.getlines(module.__file__, module.__dict__)
    texts = {}
    for node in ast.parse("".join(lines)).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            texts[node.name] = "".join(lines[first - 1:node.end_lineno])
    return texts


def _sources(module, names):
    """The texts of ``module``'s helpers ``names``, each from the file that defines it."""
    files, texts = {}, {}
    for name in names:
        obj = getattr(module, name)
        home = sys.modules.get(getattr(obj, "__module__", None))
        if home is not None and getattr(home, "__file__", None):
            if home not in files:
                files[home] = _definitions(home)
            text = files[home].get(getattr(obj, "__name__", None))
        else:
            text = None
        texts[name] = text if text is not None else inspect.getsource(obj)
    return texts


HELPER_SOURCE = _sources(support, support.HELPERS)
PLAIN_SOURCE = {**HELPER_SOURCE, **_sources(support_plain, support_plain.PLAIN)}
