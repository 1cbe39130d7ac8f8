"""Which generated functions run, seen from outside: a profile hook instead of s2sad's cache.

Generated code is compiled under file names ``<s2sad ...>`` (see :func:`s2sad.cache.load_module`).
:func:`generated_calls` records each call into such code while a block runs, with the
frame's code object (``inspect.getsource`` reads it back, as a traceback would) and the
namespace of the generated module it runs in.
"""

import contextlib
import sys
from typing import NamedTuple


class Call(NamedTuple):
    name: str
    code: object  # the function's code object
    namespace: dict  # the generated module's globals


@contextlib.contextmanager
def generated_calls():
    """Collect a :class:`Call` for every call into generated code made in the block."""
    calls, previous = [], sys.getprofile()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith("<s2sad "):
            calls.append(Call(frame.f_code.co_name, frame.f_code, frame.f_globals))

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)
