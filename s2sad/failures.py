"""What a user sees when generated code fails (layer 8, beside the compiled-function cache).

:func:`raise_failure` decides whose fault a failure of generated code is: the user's (the
function raises on these arguments too, a custom rule raised, or a run-time check of the
generated code, ``CheckFailed``, refused the arguments) or s2sad's (an
:class:`~s2sad.errors.InternalError`). :func:`is_not_scalar` recognises a generated
module's ``NotScalar`` (each module holds its own copy of the class), and
:func:`non_scalar_error` is the located :class:`~s2sad.errors.NonScalarOutputError` the API
raises for it.
"""

import inspect
import os

import gast
import numpy as np

from .arguments import call_with, split_values
from .astutil import walk
from .errors import InternalError, NonScalarOutputError, S2sadError, UnsupportedSyntaxError, \
    UsageError
from .ir import def_loc
from .lower import lower
from .methods import overridden
from .parse import parse_function


def raise_failure(fn, exc, args, kwargs=None):
    """Raise what a user should see when code generated for ``fn`` raised ``exc`` on
    ``fn``'s arguments ``args``: ``exc`` itself when it is s2sad's, was raised in the user's
    own code (a custom rule), or ``fn`` raises on these arguments too (the user's error, as
    ``fn`` reports it) or a check of the generated code's own (``CheckFailed``: arguments
    outside what the derivative is made for); a located error for a loop over a dict
    argument (:func:`_dict_looped_over`); otherwise an :class:`InternalError` (a bug in
    s2sad), chained to it.
    Called only when generated code failed: running ``fn`` again costs nothing otherwise.
    """
    if isinstance(exc, S2sadError) or getattr(exc, "arguments_at_fault", False) or \
            _raised_in_user_code(exc):
        raise exc
    if overridden(exc):
        raise UsageError(str(exc), def_loc(fn), f"s2sad reads self.method(...) as a method of "
                         f"the class {fn.__name__} is defined in: define {fn.__name__} in the "
                         f"subclass too, or call the subclass's method by its class "
                         f"(Sub.method(self, x)).") from None
    of = getattr(fn, "_s2sad_of", None)  # generated code differentiated again: its f
    original = (of() if of is not None else None) or fn
    try:
        if kwargs:
            original(*args, **kwargs)
        else:
            call_with(original, original, args)  # (keyword-only values by name)
    except Exception:
        raise exc from None
    looped = _dict_looped_over(original, args, kwargs or {})
    if looped is not None:
        raise looped from None
    raise InternalError(f"the code s2sad generated for {original.__qualname__} raised "
                        f"{type(exc).__name__}: {exc}; {original.__name__} itself runs on these "
                        f"arguments", def_loc(original)) from exc


def _dict_looped_over(fn, args, kwargs):
    """The located error for ``for k in p`` (a comprehension's too) over a parameter ``p``
    given a dict, or None. s2sad loops over a sequence by index (``p[i]``), as it must to
    run the loop backwards, and cannot tell a dict argument from a sequence when it
    transforms; generated code then fails with a KeyError, which this explains."""
    try:
        if not kwargs:
            args, kwargs = split_values(fn, args)
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
        parsed = parse_function(fn)
    except (TypeError, ValueError, S2sadError):
        return None
    dicts = {name for name, value in bound.items() if isinstance(value, dict)}
    for node in walk(parsed.node):
        it = node.iter if isinstance(node, (gast.For, gast.comprehension)) else None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and \
                it.func.id in ("enumerate", "zip", "reversed"):
            seqs = it.args
        else:
            seqs = [it]
        for seq in seqs:
            if isinstance(seq, gast.Name) and seq.id in dicts:
                return UnsupportedSyntaxError(
                    f"{seq.id} is a dict here, and s2sad loops over a sequence by index "
                    f"({seq.id}[i]), so it cannot loop over a dict itself", parsed.loc(seq),
                    f"Loop over {seq.id}.keys(), {seq.id}.values() or {seq.id}.items() "
                    f"(for k, v in {seq.id}.items()).")
    return None


_LIBRARY_DIRS = (os.path.dirname(np.__file__), os.path.dirname(__file__))


def _raised_in_user_code(exc):
    """True if the innermost frame of ``exc``'s traceback is the user's code (a custom rule),
    not generated code, NumPy or s2sad."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    filename = tb.tb_frame.f_code.co_filename
    return not (filename.startswith("<") or filename.startswith(_LIBRARY_DIRS))


def is_not_scalar(exc, name=None):
    """True if ``exc`` is what a generated module's ``check_scalar`` raises, ``NotScalar``
    (:class:`s2sad.support.NotScalar`; each module defines its own copy of the class, so it is
    known by its name), for the function named ``name`` if given."""
    return type(exc).__name__ == "NotScalar" and isinstance(exc, ValueError) and \
        getattr(exc, "arguments_at_fault", False) and (name is None or
                                                       getattr(exc, "name", None) == name)


def non_scalar_error(fn, exc):
    """The :class:`~s2sad.errors.NonScalarOutputError` for ``exc`` (:func:`is_not_scalar`):
    ``fn``'s gradient was asked for where ``fn`` returned an array."""
    try:
        loc = getattr(lower(fn).body[-1], "loc", None)
    except S2sadError:  # f's form for arrays is refused (x += e): it ran for numbers
        loc = def_loc(fn)
    return NonScalarOutputError(f"grad needs {fn.__name__} to return a scalar, but it returned "
                                f"an array of shape {exc.shape}", loc,
                                "Use s2sad.vjp for non-scalar outputs (or s2sad.jacobian), or "
                                "reduce the output to a scalar (e.g. np.sum).")
