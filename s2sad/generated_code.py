"""The code s2sad generated: which Python functions came from it, and its text.

:func:`load_generated` compiles a generated module's source into a fresh module whose
``__loader__`` (:class:`GeneratedSource`) holds the text, and records every function it
defines as s2sad's own (:func:`mark_generated`, :func:`is_generated`): lowering trusts
those, and :func:`source_of` reads their text back to differentiate them again.

Layer 1 of the package, beside :mod:`s2sad.ir`: imports only :mod:`s2sad.astutil`.
"""

import linecache
import types
import weakref

from .astutil import definition_lines


# Python functions s2sad compiled from code it generated itself (held weakly): lowering
# trusts these (``Function.generated``; see s2sad.lower). Filled by whoever compiles such
# code (s2sad.cache, s2sad.custom's entry functions), never inferred from a function's text.
GENERATED = weakref.WeakSet()


def mark_generated(fn):
    """Record that s2sad generated ``fn``'s code (see :data:`GENERATED`)."""
    GENERATED.add(fn)


def is_generated(fn):
    """True if ``fn`` was compiled from code s2sad generated (:func:`mark_generated`)."""
    try:
        return fn in GENERATED
    except TypeError:  # not weakly referenceable: not ours
        return False


class GeneratedSource:
    """The ``__loader__`` of a module s2sad generated: it holds the module's source.

    Whoever needs the text asks the loader, as for any module loaded from somewhere
    other than a file: s2sad to differentiate generated code again
    (:func:`source_of`), and :mod:`linecache` for tracebacks and ``inspect.getsource``
    (the module's file name is registered lazily, so linecache calls ``get_source``
    when a line is first wanted, through a weak reference: :class:`_WeakSource`). The
    text lives as long as the module.
    """

    def __init__(self, source, filename):
        self.source = source
        self.filename = filename

    def get_source(self, fullname):
        return self.source

    def is_package(self, fullname):
        return False


class _WeakSource:
    """What linecache is given for a generated module: its loader, held weakly, so
    linecache's table does not keep the source of a module nobody uses any more."""

    def __init__(self, loader):
        self.loader = weakref.ref(loader)

    def get_source(self, fullname):
        loader = self.loader()
        return None if loader is None else loader.source


def load_generated(source, label, name="s2sad_generated", bindings=None, code=None):
    """Compile generated ``source`` into a fresh module; its namespace.

    The module's ``__loader__`` is a :class:`GeneratedSource` holding the text, under the
    file name ``<s2sad label>.py`` (numbered when another text has that label). Every
    function the source defines is recorded as s2sad's own (:func:`mark_generated`): the
    caller says the code is s2sad's by calling this, nothing reads it from the text.
    ``code(filename)``: ``source`` compiled already (when checked), code objects to run in turn.
    """
    lines, k = source.splitlines(True), 1
    filename = f"<s2sad {label}>.py"
    while filename in linecache.cache and linecache.getlines(filename) != lines:
        k += 1  # another text under that label (another f, other wrt) keeps its lines
        filename = f"<s2sad {label} ({k})>.py"
    module = types.ModuleType(name)
    module.__loader__ = GeneratedSource(source, filename)
    module.__file__ = filename
    namespace = module.__dict__
    linecache.lazycache(filename, {"__name__": name,
                                   "__loader__": _WeakSource(module.__loader__)})
    namespace.update(bindings or {})
    for part in [compile(source, filename, "exec")] if code is None else code(filename):
        exec(part, namespace)
    for value in list(namespace.values()):
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == filename:
            mark_generated(value)
    return namespace


def source_of(fn):
    """``(lines of fn's def, first line number)`` if s2sad generated ``fn``, from its
    module's loader (:class:`GeneratedSource`); None for any other function."""
    loader = getattr(fn, "__globals__", {}).get("__loader__")
    if not isinstance(loader, GeneratedSource) or fn.__code__.co_filename != loader.filename:
        return None
    first = fn.__code__.co_firstlineno
    return definition_lines(loader.source.splitlines(True)[first - 1:]), first
