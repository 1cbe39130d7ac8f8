"""Measurements several test files share: the peak of memory a call traces, and the generic
generated gradient a specialised one must equal."""

import tracemalloc

import s2sad


def peak_of(g, *args):
    """The peak of memory traced during the call ``g(*args)``."""
    tracemalloc.start()
    try:
        g(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def peak_bytes(function, *args):
    """The peak of memory traced during a second call ``function(*args)`` (the first
    compiles)."""
    function(*args)  # compiled before measuring
    return peak_of(function, *args)


def generic(fn, wrt, args):
    """The generic generated grad_f on ``args`` (what the specialised one must equal)."""
    namespace, generated = s2sad.cache.compiled(fn, "reverse", wrt)
    return namespace[generated.entry_points["grad"]](*args)
