"""The ``s2sad`` command line (also ``python -m s2sad``).

::

    s2sad grad FILE.py:FUNC [--wrt a,b] [-o DIR]   write DIR/<module>_<func>_grad.py
               [--checkpoint sqrt|N]           (the function's loops checkpointed)
    s2sad jvp  FILE.py:FUNC [--wrt a,b] [-o DIR]   write DIR/<module>_<func>_jvp.py
    s2sad ssa  FILE.py:FUNC                        print the SSA listing
    s2sad rules                                    list the primitives with derivative rules

Errors print one paragraph on stderr (file:line:col, the line, a caret, what
to do) and exit with status 1; nothing is written. Files are written
atomically (a temporary file renamed into place), so a module on disk is
always complete.

A file inside a package (a directory with ``__init__.py``) is imported as a
member of its package, so its relative imports work. Shapes are not known
before the function runs, so ``s2sad grad`` cannot tell that a function
returns an array: it writes the module, and the written ``grad_<func>``
raises ``ValueError`` (naming ``vjp_<func>``) when called on such inputs,
as :func:`s2sad.grad` raises :class:`~s2sad.errors.NonScalarOutputError`.

Layer 10, the top: imports the API and the module builders.
"""

import argparse
import functools
import importlib
import importlib.util
import inspect
import os
import sys
import tempfile

from . import __version__
from .api import normalize_wrt, ssa
from .custom import IMPORT_NAMES
from .errors import InternalError, S2sadError, SourceError, UsageError
from .ir import Loc
from .checkpoint import check_how
from .module import forward_module, reverse_module
from .parse import unwrap
from .rules import all_primitives


def load_target(spec):
    """The function named by ``FILE.py:FUNC``, imported without running its ``__main__`` block."""
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
    fn = getattr(module, func, None)
    if fn is None or not callable(fn):
        funcs = sorted(n for n, v in vars(module).items() if callable(v)
                       and getattr(unwrap(v), "__module__", None) == module.__name__)
        raise UsageError(f"{path} has no function {func!r}",
                         hint=f"Functions defined there: {', '.join(funcs) or 'none'}.")
    return unwrap(fn), module_name


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
    IMPORT_NAMES[unique] = module_name  # a written module imports the user's rules by file name
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


def _wrt(fn, text):
    params = inspect.signature(fn).parameters
    if text is None:
        names = [n for n, p in params.items() if p.default is inspect.Parameter.empty]
        return normalize_wrt(fn, tuple(names or list(params)[:1]))[0]
    names = [n.strip() for n in text.split(",") if n.strip()]
    items = tuple(int(n) if n.lstrip("-").isdigit() else n for n in names)
    return normalize_wrt(fn, items)[0]


def _write(args, build, kind, api_name):
    """Generate ``kind`` code for the target and write DIR/<module>_<func>_<kind>.py."""
    fn, module_name = load_target(args.target)
    generated = build(fn, _wrt(fn, args.wrt))
    if generated.bindings:
        names = ", ".join(sorted(generated.bindings))
        raise UsageError(f"{fn.__name__} reads {names}, which a module importing only NumPy "
                         f"cannot define", hint=f"Pass such values as arguments, or use the "
                                                f"Python API ({api_name}), which can bind them.")
    path = os.path.join(args.output, f"{module_name}_{fn.__name__}_{kind}.py")
    write_atomically(path, generated.source)
    print(path)


def command_grad(args):
    how = args.checkpoint
    how = int(how) if how and how.isdigit() else how
    build = functools.partial(reverse_module, checkpoint=check_how(how))
    _write(args, build, "grad", "s2sad.grad")


def command_jvp(args):
    _write(args, forward_module, "jvp", "s2sad.jvp")


def command_ssa(args):
    fn, _ = load_target(args.target)
    sys.stdout.write(ssa(fn))


def command_rules(args):
    for prim in sorted(all_primitives(), key=lambda p: p.name):
        if prim.differentiable and not prim.vjp:
            continue
        kind = "differentiable" if prim.differentiable else "zero derivative"
        print(f"{prim.name:<24} {kind}")


def parser():
    main = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic "
                                   "differentiation for Python/NumPy.")
    main.add_argument("--version", action="version", version=f"s2sad {__version__}")
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grad = sub.add_parser("grad", help="write the reverse-mode module of a function",
                          description="Write DIR/<module>_<func>_grad.py defining grad_<func>, "
                                      "value_and_grad_<func> and vjp_<func>, and print its path. "
                                      "Shapes are known only at run time: grad_<func> raises "
                                      "ValueError if <func> returns an array (use vjp_<func>).")
    grad.add_argument("target", metavar="FILE.py:FUNC")
    grad.add_argument("--wrt", help="parameters to differentiate with respect to, by name or "
                                    "position, comma-separated (default: those without defaults)")
    grad.add_argument("-o", "--output", default="generated", metavar="DIR",
                      help="directory to write into (default: generated)")
    grad.add_argument("--checkpoint", metavar="sqrt|N",
                      help="checkpoint the function's for loops: store sqrt(T) snapshots of "
                           "the carried values (or N) instead of a tape of T trips, and "
                           "recompute each segment in the backward sweep")
    grad.set_defaults(run=command_grad)
    tangent = sub.add_parser("jvp", help="write the forward-mode module of a function",
                             description="Write DIR/<module>_<func>_jvp.py defining jvp_<func> "
                                         "(tangent code: returns the value and its tangent), "
                                         "and print its path.")
    tangent.add_argument("target", metavar="FILE.py:FUNC")
    tangent.add_argument("--wrt", help="parameters to differentiate with respect to, by name or "
                                       "position, comma-separated (default: those without "
                                       "defaults)")
    tangent.add_argument("-o", "--output", default="generated", metavar="DIR",
                         help="directory to write into (default: generated)")
    tangent.set_defaults(run=command_jvp)
    listing = sub.add_parser("ssa", help="print the SSA listing of a function",
                             description="Print the function in three-address SSA form.")
    listing.add_argument("target", metavar="FILE.py:FUNC")
    listing.set_defaults(run=command_ssa)
    rules = sub.add_parser("rules", help="list the primitives s2sad can differentiate",
                           description="List every primitive with a derivative rule, and those "
                                       "whose derivative is zero.")
    rules.set_defaults(run=command_rules)
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except S2sadError as exc:
        print(f"s2sad: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # not the user's doing (their module's import is handled above)
        error = InternalError(f"s2sad failed on {getattr(args, 'target', args.command)}: "
                              f"{type(exc).__name__}: {exc}")
        print(f"s2sad: internal error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
