"""Errors raised by s2sad.

Every error derives from :class:`S2sadError`. An error about the user's code
carries its location and renders as one paragraph::

    model.py:4:11: s2sad cannot differentiate a lambda expression
        y = lambda t: t * x
            ^
    Rewrite it as a named helper function (def) in the same module.

The first line says where and what, the caret marks the column, the last line
says what to do. The CLI prints exactly this text on stderr.

Errors reach the user through the API without s2sad's own frames, as JAX filters
its own (:func:`hide_own_frames`, applied by :func:`api_boundary` and the
derivative functions): the traceback keeps the user's frames and the generated
code's, and one frame of the API where it was re-raised. Set the environment
variable ``S2SAD_FULL_TRACEBACK=1`` to keep every frame (to report a bug).

Layer 1 of the package (README, "The pipeline"): imports no s2sad module.
"""

import functools
import os
import types

FULL_TRACEBACK = "S2SAD_FULL_TRACEBACK"  # set to 1: tracebacks keep s2sad's own frames
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def hide_own_frames(exc):
    """``exc`` with the frames of s2sad's own modules taken out of its traceback, unless
    ``S2SAD_FULL_TRACEBACK=1``. Chained exceptions (an :class:`InternalError`'s cause) keep
    theirs: they are what a bug report needs."""
    if os.environ.get(FULL_TRACEBACK, "0") not in ("", "0"):
        return exc
    kept, tb = [], exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_OWN_DIR):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for tb in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return exc.with_traceback(rebuilt)


def api_boundary(fn):
    """``fn``, raising what it raises without s2sad's frames (:func:`hide_own_frames`)."""
    @functools.wraps(fn)
    def boundary(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise hide_own_frames(exc)  # (the same exception: no context is chained)
    return boundary


class S2sadError(Exception):
    """Base class of every error s2sad raises."""

    def __init__(self, message, loc=None, hint=None):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self._render())

    def _render(self):
        parts = []
        if self.loc is not None:
            parts.append(f"{self.loc.filename}:{self.loc.line}:{self.loc.col + 1}: {self.message}")
            if self.loc.text:
                stripped = self.loc.text.rstrip()
                indent = len(stripped) - len(stripped.lstrip())
                caret_col = max(self.loc.col - indent, 0)
                parts.append("    " + stripped.lstrip())
                parts.append("    " + " " * caret_col + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class UnsupportedSyntaxError(S2sadError):
    """The function uses a construct the compiler cannot lower yet."""


def kinds_refusal(exc, how=None):
    """A copy of ``exc``, a refusal of ``x += e`` on the parameters in its ``arguments``
    (rebinding where they hold numbers, an update in place of an array otherwise), with
    ``how`` added to its hint: how to get the code for numbers (``{names}``: those
    parameters, ``p.ndim=1`` facts left out)."""
    hint = exc.hint
    if how:
        names = ", ".join(sorted(a for a in exc.arguments if "." not in a))
        hint = f"{hint} Where the caller passes numbers for {names}, it is rebinding: " \
               f"{how.format(names=names)}."
    error = type(exc)(exc.message, exc.loc, hint)
    error.arguments = exc.arguments
    return error


class NoDerivativeError(S2sadError):
    """A primitive (or one of its arguments) has no derivative rule."""


class NonScalarOutputError(S2sadError, ValueError):
    """``grad`` was asked for a function whose output is not a scalar."""


class SourceError(S2sadError):
    """The function's source cannot be found, read or parsed."""


class UsageError(S2sadError):
    """The API or the CLI was called with arguments that make no sense."""


class InternalError(S2sadError):
    """A bug in s2sad itself (generated code that cannot run, a transform that failed):
    never the user's fault. The message names the function and asks for a bug report."""

    def __init__(self, message, loc=None, hint=None):
        super().__init__(message, loc, hint or REPORT)


REPORT = ("This is a bug in s2sad, not in your code: please report it with the function's "
          "source and the arguments' shapes.")
