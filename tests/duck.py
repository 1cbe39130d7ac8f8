"""A strict duck array: NumPy's dispatch protocols and nothing else.

:class:`Duck` wraps an ``np.ndarray`` and implements ``__array_ufunc__`` and
``__array_function__`` (results wrapped again, 0-d results included, as CuPy and
Dask return 0-d arrays rather than NumPy scalars), the operators (through
``NDArrayOperatorsMixin``), indexing, and the attributes and methods that the
array libraries share (``shape``, ``dtype``, ``T``, ``astype``, ``sum``, ...).
It refuses what would hand its buffer to NumPy: ``__array__`` (so
``np.asarray``/``np.array`` of a Duck raise :class:`Converted`), ``strides``,
``flags``, ``item``, ``tolist``, views. A helper or generated code that works on
Duck arrays therefore makes its arrays through dispatching functions and never
converts a foreign array to NumPy behind the user's back.

A size-1 Duck converts to a Python number (``float(d)``, ``bool(d)``), as CuPy and
Dask arrays do (by synchronising or computing).
"""

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class Converted(TypeError):
    """Something asked NumPy to convert a Duck array into an ndarray."""


def unwrap(x):
    """The NumPy content of ``x``: Duck arrays unwrapped, inside tuples, lists and dicts too."""
    if isinstance(x, Duck):
        return x.data
    if isinstance(x, tuple):
        return tuple(unwrap(e) for e in x)
    if isinstance(x, list):
        return [unwrap(e) for e in x]
    if isinstance(x, dict):
        return {k: unwrap(v) for k, v in x.items()}
    return x


def wrap(x):
    """Arrays and NumPy scalars in ``x`` as Duck arrays (inside tuples and lists too)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return Duck(x)
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(wrap(e) for e in x)
    if isinstance(x, tuple):  # a named tuple (eigh's result, ...)
        return type(x)(*(wrap(e) for e in x))
    if isinstance(x, list):
        return [wrap(e) for e in x]
    return x


def duck(x):
    """``x`` with its arrays wrapped (Python floats stay floats: they are not arrays)."""
    return wrap(x) if not isinstance(x, (float, int)) else x


# what would expose the buffer, or is NumPy-only
_REFUSED = {"strides", "flags", "item", "itemset", "tolist", "tobytes", "view", "base", "data",
            "ctypes", "__array_interface__", "__array_struct__", "setflags", "resize", "fill"}
_METHODS = {"astype", "copy", "reshape", "sum", "mean", "max", "min", "prod", "transpose",
            "dot", "clip", "ravel", "flatten", "swapaxes", "std", "var", "cumsum", "cumprod",
            "argmax", "argmin", "all", "any", "round", "conj", "conjugate", "squeeze",
            "argsort", "sort", "nonzero", "trace", "diagonal", "repeat", "take"}


class Duck(NDArrayOperatorsMixin):
    """An array that NumPy can only reach through its dispatch protocols."""

    __slots__ = ("data",)

    def __init__(self, data):
        object.__setattr__(self, "data", np.asarray(data) if not isinstance(data, Duck)
                           else data.data)

    # --- the protocols ---
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs))
        if out is not None:
            return out if isinstance(out, tuple) and len(out) > 1 else out[0]
        return None if method == "at" else wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        return wrap(func(*unwrap(args), **unwrap(kwargs)))

    def __array__(self, dtype=None, copy=None):
        raise Converted("a Duck array was converted to a NumPy array (np.asarray/np.array)")

    # --- attributes and methods the array libraries share ---
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    T = property(lambda self: Duck(self.data.T))
    mT = property(lambda self: Duck(self.data.mT))
    real = property(lambda self: Duck(self.data.real))
    imag = property(lambda self: Duck(self.data.imag))

    def __getattr__(self, name):
        if name in ("item", "tolist"):  # a value read back to the host: a conversion
            raise Converted(f"a Duck array was read back as Python values (.{name}())")
        if name in _REFUSED or name not in _METHODS:
            raise AttributeError(f"Duck arrays have no attribute {name!r}")
        method = getattr(self.data, name)
        return lambda *args, **kwargs: wrap(method(*unwrap(args), **unwrap(kwargs)))

    def __setattr__(self, name, value):
        raise AttributeError(f"Duck arrays do not set {name!r}")

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return (wrap(row) for row in self.data)

    def __getitem__(self, index):
        return wrap(self.data[unwrap(index)])

    def __setitem__(self, index, value):
        self.data[unwrap(index)] = unwrap(value)

    def __float__(self):
        return float(self._one())

    def __int__(self):
        return int(self._one())

    def __index__(self):
        return int(self._one())

    def __complex__(self):
        return complex(self._one())

    def __bool__(self):
        return bool(self._one())

    def _one(self):
        if self.data.size != 1:
            raise TypeError(f"only size-1 Duck arrays convert to Python scalars, not "
                            f"shape {self.data.shape}")
        return self.data.reshape(()).item()

    def __repr__(self):
        return f"Duck({self.data!r})"

    __hash__ = None

