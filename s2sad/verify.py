"""Checks on a generated module's text before anyone runs it.

The module builders promise Python that compiles and reads no name it does not
define. :func:`check_module` holds them to it: the text compiles (no empty block,
no syntax error), and every name a function reads is one of its parameters, a
name it assigns somewhere, a name the module defines (functions, imports,
constants), a builtin, or one of the ``bindings`` the caller supplies. A broken
promise is an :class:`~s2sad.errors.InternalError` naming the function, raised
when the module is built, never a NameError or IndentationError in the user's
face when it runs.

The names are read from the compiled code, which the module is then loaded from
(compiled once): a function's parameters and local names are its code's
``co_varnames`` and ``co_cellvars``, and the names it reads from the module are
the operands of its ``LOAD_GLOBAL`` (``LOAD_NAME`` in class bodies and at the top
level) instructions, exactly what Python looks up when it runs. Reading them from
the bytecode costs a scan of bytes; a walk of the text's ``ast``, for a module of
thousands of lines, cost more than compiling it.

Layer 5, beside :mod:`s2sad.emit`: :mod:`s2sad.module` checks every module it makes.
"""

import builtins
import dis
import functools
import inspect
import sys
import types

from .display import HELPERS_HEADING
from .errors import InternalError

_BUILTINS = set(dir(builtins))

# instructions whose operand is an index into co_names: those reading a global name,
# and those binding one (a local's binding is in co_varnames or co_cellvars)
_READS = {dis.opmap[op] for op in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS")
          if op in dis.opmap}
_BINDS = {dis.opmap[op] for op in ("STORE_NAME", "DELETE_NAME", "STORE_GLOBAL",
                                   "DELETE_GLOBAL")}
# since 3.11 LOAD_GLOBAL's operand is the name's index times two (its low bit: push a NULL)
_SHIFTED = {dis.opmap["LOAD_GLOBAL"]} if sys.version_info >= (3, 11) else set()


def check_module(source, label, bindings=()):
    """Raise :class:`InternalError` unless ``source`` compiles and defines every name it
    reads; else its code: a list of code objects (file name ``<s2sad label>``) that run
    in turn are the module, which the loader runs (:func:`s2sad.generated_code.load_generated`).

    The run-time helpers' copies at the end of the text (from the line
    :data:`s2sad.display.HELPERS_HEADING` starts; the same text in every module that
    uses those helpers) are compiled and scanned once per process, then put at their
    lines: a module is its statements in turn, so its text compiles if the two parts do,
    and running the two codes one after the other is running the module.
    """
    cut = source.find("\n" + HELPERS_HEADING) + 1
    main, helpers = (source[:cut], source[cut:]) if cut else (source, "")
    try:
        code = [compile(main, f"<s2sad {label}>", "exec")]
        names = [(None, _names(code[0], nested=False))] + _parts(code[0])
        if helpers:
            helpers_code, helpers_names = _helpers(helpers)
            code.append(relocated(helpers_code, lines=main.count("\n")))
            names += helpers_names
    except SyntaxError as exc:  # IndentationError included
        if helpers and exc.lineno is not None and exc.filename == "<s2sad helpers>":
            exc.lineno += main.count("\n")
        raise InternalError(f"s2sad wrote a module for {label} that does not compile: "
                            f"{exc.msg} at line {exc.lineno}: "
                            f"{(exc.text or '').strip()!r}") from None
    module_names = set().union(*(bound for _, (bound, _) in names)) | _BUILTINS | set(bindings)
    for what, (_, read) in names:
        unknown = sorted(read - module_names)
        if unknown and what is None:  # a default value, a base class, a constant's expression
            raise InternalError(f"s2sad wrote a module (for {label}) whose top level reads "
                                f"names it never defines: {', '.join(unknown)}")
        if unknown:
            raise InternalError(f"s2sad wrote a function {what} (for {label}) that "
                                f"reads names it never defines: {', '.join(unknown)}")
    return code


def _parts(code):
    """``[(name, (bound, read)), ...]`` of each function or class ``code`` (a module's) defines
    (:func:`_names`)."""
    return [(inner.co_name, _names(inner)) for inner in code.co_consts
            if isinstance(inner, types.CodeType)]


@functools.lru_cache(maxsize=64)
def _helpers(text):
    """The code of the run-time helpers' part of a module's text, and the names its top level
    and its functions bind and read (:func:`_names`), compiled from line 1."""
    code = compile(text, "<s2sad helpers>", "exec")
    return code, [(None, _names(code, nested=False))] + _parts(code)


def _names(code, nested=True):
    """``(bound, read)``: the names bound in ``code`` (its parameters and locals, names it
    stores as globals) and the global names it reads, with those of the code nested in it
    (its functions, lambdas, comprehensions, classes) unless not ``nested``."""
    bound, read = set(code.co_cellvars), set()
    if code.co_flags & inspect.CO_OPTIMIZED:  # a function's locals (a class body's are stored by name)
        bound.update(code.co_varnames)
    for op, index in _name_operands(code):
        (read if op in _READS else bound).add(code.co_names[index])
    if nested:
        for inner in code.co_consts:
            if isinstance(inner, types.CodeType):
                inner_bound, inner_read = _names(inner)
                bound |= inner_bound
                read |= inner_read
    return bound, read



def _name_operands(code):
    """``(opcode, index into co_names)`` of each instruction of ``code`` (not of the code
    nested in it) that reads or binds a global name: a search of its opcodes' bytes for
    those few opcodes, each operand widened by the ``EXTENDED_ARG`` before it (what
    :func:`dis.get_instructions` reads too, without an object per instruction)."""
    raw = code.co_code
    ops, args = raw[::2], raw[1::2]
    for op in _READS | _BINDS:
        at = ops.find(op)
        while at >= 0:
            arg, before, shift = args[at], at - 1, 8
            while before >= 0 and ops[before] == dis.EXTENDED_ARG:
                arg |= args[before] << shift
                before, shift = before - 1, shift + 8
            yield op, arg >> 1 if op in _SHIFTED else arg
            at = ops.find(op, at + 1)


def relocated(code, filename=None, lines=0):
    """``code`` and the code nested in it under the file name ``filename`` (its own if None)
    and ``lines`` lines further down: the run-time helpers' code at their lines of a
    module, the checked code as the loader names it (:func:`s2sad.generated_code.load_generated`)."""
    consts = tuple(relocated(inner, filename, lines) if isinstance(inner, types.CodeType)
                   else inner for inner in code.co_consts)
    return code.replace(co_filename=filename or code.co_filename,
                        co_firstlineno=code.co_firstlineno + lines, co_consts=consts)
