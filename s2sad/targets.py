"""The command line's files: the function a ``FILE.py:FUNC`` target names (the file
imported as a member of its package where it has one, without running its ``__main__``
block, located syntax errors) and generated modules written atomically (a reader never
sees half a file).

Layer 10, below :mod:`s2sad.cli`.
"""

import importlib.util
import inspect
import os
import sys
import tempfile

from .arguments import bound_parts
from .custom import IMPORT_NAME
from .errors import SourceError, UsageError
from .ir import Loc
from .parse import unwrap


def load_target(spec, with_bound=False):
    """The function named by ``FILE.py:FUNC``, imported without running its ``__main__`` block
    (with ``with_bound``: and how many of its first parameters hold values bound to it, the
    object of ``obj.method`` or of ``Class.method``, a partial's arguments)."""
    if ":" not in spec:
        raise UsageError(f"expected FILE.py:FUNC, got {spec!r}",
                         hint="Name the file and the function, e.g. examples/lecture.py:f")
    path, func = spec.rsplit(":", 1)
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file",
                         hint=f"Check the path (relative to {os.getcwd()}); "
                              f"name a .py file and a function in it, e.g. examples/lecture.py:f")
    module_name = os.path.splitext(os.path.basename(path))[0]
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        with open(path, encoding="utf-8") as handle:
            compile(handle.read(), path, "exec")
    except SyntaxError as exc:
        loc = Loc(path, exc.lineno or 1, max((exc.offset or 1) - 1, 0), (exc.text or "").rstrip("\n"))
        raise SourceError(f"syntax error: {exc.msg}", loc,
                          "Fix the syntax error; s2sad reads files Python can run.") from None
    try:
        module = _import_file(path, module_name)
    except Exception as exc:  # the user's module failed to import
        raise SourceError(f"{path}: importing the file raised {type(exc).__name__}: {exc}",
                          hint="s2sad imports the file to resolve its names; make it importable.") \
            from None
    fn, owner = module, None
    for part in func.split("."):  # FUNC, or Class.method, or obj.method
        owner, fn = fn, getattr(fn, part, None)
    parts = bound_parts(fn)
    bound = 1 if isinstance(owner, type) and not isinstance(
        inspect.getattr_static(owner, func.rsplit(".", 1)[-1], None), staticmethod) else 0
    if parts is not None:  # a bound method or a partial: the module takes every parameter
        fn, bound = parts[0], len(parts[1])
    if fn is None or not callable(fn):
        funcs = sorted(n for n, v in vars(module).items() if callable(v)
                       and getattr(unwrap(v), "__module__", None) == module.__name__)
        raise UsageError(f"{path} has no function {func!r}",
                         hint=f"Functions defined there: {', '.join(funcs) or 'none'}.")
    return (unwrap(fn), module_name, bound) if with_bound else (unwrap(fn), module_name)


def _package_name(path):
    """``pkg.sub.mod`` and the directory holding ``pkg`` if ``path`` lies in a package, else None."""
    directory, parts = os.path.dirname(os.path.abspath(path)), []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        if not package.isidentifier():
            return None
        parts.insert(0, package)
    module = os.path.splitext(os.path.basename(path))[0]
    if not parts or not module.isidentifier():
        return None
    return ".".join(parts + [module]), directory


def _import_file(path, module_name):
    """Import ``path``: as a member of its package if it has one (so relative imports work)."""
    package = _package_name(path)
    if package is not None:
        dotted, root = package
        if root not in sys.path:
            sys.path.insert(0, root)
        module = importlib.import_module(dotted)
        if os.path.samefile(getattr(module, "__file__", None) or path, path):
            return module
    unique = f"_s2sad_target_{module_name}"
    spec_obj = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec_obj)
    sys.modules[unique] = module
    setattr(module, IMPORT_NAME, module_name)  # a written module imports the file by its name
    spec_obj.loader.exec_module(module)
    return module


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".s2sad-", suffix=".py")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
