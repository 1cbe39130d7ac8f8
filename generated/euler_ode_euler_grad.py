"""Reverse-mode derivatives of euler (euler_ode.py:28) with respect to k, y0.

Written by s2sad; do not edit. Needs NumPy only.
"""

import numpy as np


def grad_euler(k, y0, t_end, n):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    check_scalar(y_1, 'euler')
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = 1.0
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v3_bar = unbroadcast(unbroadcast(y_2_bar, v4) * h, v3)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar -= unbroadcast(v3_bar * y_1, v2)
    # line 30: y = y0
    y0_bar = y_1_bar
    return as_gradient(k_bar, k), as_gradient(y0_bar, y0)


def value_and_grad_euler(k, y0, t_end, n):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    check_scalar(y_1, 'euler')
    value = y_1
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = 1.0
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v3_bar = unbroadcast(unbroadcast(y_2_bar, v4) * h, v3)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar -= unbroadcast(v3_bar * y_1, v2)
    # line 30: y = y0
    y0_bar = y_1_bar
    return value, (as_gradient(k_bar, k), as_gradient(y0_bar, y0))


def vjp_euler(k, y0, t_end, n, out_bar):
    tape = []
    # forward sweep
    # line 29: h = t_end / n
    h = t_end / n
    # line 30: y = y0
    y = y0
    # line 31: for step in range(n):
    v1 = range(n)
    y_1 = y
    for step in v1:
        # line 32: y = y + h * (-k * y)
        v2 = -k
        v3 = v2 * y_1
        v4 = h * v3
        y_2 = y_1 + v4
        tape.append((y_1, v2, v3, v4))
        y_1 = y_2
    # backward sweep
    # line 31: for step in range(n):
    k_bar = zeros_bar(k)
    y_1_bar = out_bar
    for step in reversed(v1):
        y_1, v2, v3, v4 = tape.pop()
        y_2_bar = y_1_bar
        # line 32: y = y + h * (-k * y)
        y_1_bar = unbroadcast(y_2_bar, y_1)
        v3_bar = unbroadcast(unbroadcast(y_2_bar, v4) * h, v3)
        y_1_bar = y_1_bar + unbroadcast(v3_bar * v2, y_1)
        k_bar -= unbroadcast(v3_bar * y_1, v2)
    # line 30: y = y0
    y0_bar = y_1_bar
    return as_gradient(k_bar, k), as_gradient(y0_bar, y0)


# --- run-time helpers the functions above call (NumPy only) ---

class CheckFailed(ValueError):
    """A run-time check of generated code failed: the arguments are outside what the derivative
    was made for (a non-scalar output for a gradient, a wide matrix for qr's rule)."""

    arguments_at_fault = True  # the arguments are outside the rule; the code is not at fault


class NotScalar(CheckFailed):
    """The function a gradient is made for returned an array, not a scalar: ``name`` is the
    function's, ``shape`` the array's."""

    def __init__(self, name, shape):
        super().__init__(f"{name} must return a scalar, not shape {shape}; use vjp_{name}")
        self.name = name
        self.shape = shape


def check_scalar(value, name):
    """Raise NotScalar (a CheckFailed, a ValueError) unless ``value`` is 0-d: a gradient needs
    a scalar."""
    # numbers first (np.float64 is a float): np.ndim costs more than the whole of a scalar f
    if isinstance(value, (float, int, np.generic)):
        return
    if (value.ndim if type(value) is np.ndarray else np.ndim(value)) != 0:
        raise NotScalar(name, np.shape(value))


def zeros_bar(x):
    """A zero adjoint for ``x`` to accumulate into: float zeros of its shape (0.0 for a number,
    one zero adjoint per element for a tuple, per entry for a dict)."""
    # float64 arrays first, by the dtype's letter (comparing dtypes costs more than np.zeros)
    if type(x) is np.ndarray and x.dtype.char == "d":
        return np.zeros(x.shape)  # what zeros_like gives here, without its Python-level cost
    if isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, (tuple, list)):
        return tuple_bar(zeros_bar(e) for e in x)
    if isinstance(x, dict):
        return dict_bar((k, zeros_bar(e)) for k, e in x.items())
    if isinstance(x, np.generic):
        return 0.0
    if not hasattr(x, "__array_function__"):  # a range, a sequence NumPy reads as an array
        return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
    if type(x) is np.ndarray and x.dtype == object and x.ndim == 1:  # ragged pieces
        ragged = np.empty(len(x), dtype=object)  # (unconcatenate's): one zero each
        for i, e in enumerate(x):
            ragged[i] = zeros_bar(e)
        return ragged
    return np.zeros_like(x, dtype=np.result_type(x, 1.0))  # any array type


def unbroadcast(g, x):
    """Sum the adjoint ``g`` over the axes that broadcasting added to ``x``'s shape."""
    if type(g) is float and type(x) is float:  # the common scalar case, without np.shape
        return g
    # fast paths by type: np.shape and np.sum cost ~0.5 us each, more than small arrays' work
    if type(g) is np.ndarray:
        if type(x) is np.ndarray:
            if g.shape == x.shape:
                return g
            extra = g.ndim - x.ndim
            if extra > 0 and g.shape[extra:] == x.shape:  # leading axes only (a bias): sum them
                return np.add.reduce(g, axis=tuple(range(extra)))
        elif g.shape and isinstance(x, (float, int, np.generic)):  # a number: the total
            if g.size and not any(g.strides) and g.dtype == np.float64:
                return g.item(0) * g.size  # one value repeated (unreduce's view): no pass
            return np.add.reduce(g, axis=None)  # g.sum() without its Python wrapper
    elif isinstance(g, (float, int, np.generic)) and isinstance(x, (float, int, np.generic)):
        return g
    elif isinstance(x, (tuple, list)):  # a tuple's adjoint (tuple_bar) adds element by element
        return g
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    if isinstance(x, (tuple, list)) and not fits_shape(np.shape(g), shape):  # p + q joins tuples
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple or "
                         f"list read as an array of shape {shape} (is it joined with + or "
                         f"repeated with *? that is differentiated in forward mode only)")
    extra = np.ndim(g) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    # (g may have fewer axes than x: the 0.0 a list slot's adjoint is reset to after a write)
    lead = len(shape) - np.ndim(g)
    axes = tuple(i - lead for i, n in enumerate(shape[lead:], lead)
                 if n == 1 and np.shape(g)[i - lead] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    if not fits_shape(np.shape(g), shape):
        raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a value of "
                         f"shape {shape}")
    return g


def fits_shape(g_shape, shape):
    """True if an adjoint of ``g_shape`` is one for a value of ``shape`` (equal, or a
    broadcast of it: a number for an array)."""
    if g_shape == shape:
        return True
    try:
        return np.broadcast_shapes(g_shape, shape) == shape
    except ValueError:
        return False


class tuple_bar(list):
    """The adjoint of a tuple or list: one adjoint per element, added element by element (a
    plain tuple or list would concatenate; an array is one adjoint per row, see
    :func:`add_bars`), and updated in place by ``x_bar[k] += g``."""

    def __add__(self, other):
        if not isinstance(other, (tuple, list)) and np.ndim(other) == 0:
            if other is None or other == 0:  # a zero
                return self
            raise TypeError("internal: a number added to the adjoint of a tuple")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


class dict_bar(dict):
    """The adjoint of a dict: one adjoint per entry, added entry by entry."""

    def __add__(self, other):
        if not isinstance(other, dict):
            if other is None or np.ndim(other) == 0 and other == 0:  # a zero
                return self
            raise TypeError(f"internal: a {type(other).__name__} added to the adjoint "
                            f"of a dict")
        return add_bars(self, other)

    __radd__ = __iadd__ = __add__


def add_bars(a, b, batch=False):
    """``a + b`` for two adjoints, element by element where a container of adjoints meets
    another or an array (a plain tuple of adjoints, ``(a_bar, b_bar)``, would concatenate):
    the array's rows are the elements' adjoints (``np.stack``'s adjoint), or with ``batch``
    (vector mode's batches of tangents, the directions first) its second axis's. ``None`` is
    a zero. Containers of different lengths are a bug: an error, never a truncated sum."""
    if a is None or b is None:
        return b if a is None else a
    if isinstance(b, (tuple, list)) and not isinstance(a, (tuple, list)):
        a, b = b, a
    if isinstance(a, (tuple, list)) and not isinstance(b, (tuple, list, dict)) and \
            np.ndim(b) > batch:  # an array of the elements' adjoints
        if batch and getattr(b, "dtype", None) != object:  # (ragged pieces: one batch each)
            b = [b[:, k] for k in range(np.shape(b)[1])]
        else:
            b = list(b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            raise ValueError(f"internal: adjoints of {len(a)} and {len(b)} elements added")
        return tuple_bar(add_bars(x, y, batch) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return dict_bar((k, add_bars(a.get(k), b.get(k), batch)) for k in {**a, **b})
    return a + b


def as_gradient(g, x):
    """The adjoint ``g`` of the argument ``x`` as the caller gets it: in ``x``'s own structure
    (tuples, lists, dicts and named tuples, nested, as in JAX), with arrays the caller may
    write into (never a read-only view made by unreduce), of ``x``'s floating dtype."""
    if type(g) is np.ndarray and not isinstance(x, (tuple, list)):
        if type(x) is np.ndarray and g.dtype is not x.dtype and x.dtype.kind in "fc":
            return g.astype(x.dtype)
        return g if g.base is None or g.flags.writeable else g.copy()  # (base: the fast test)
    if isinstance(x, (tuple, list)) and not isinstance(g, (tuple, list)) and np.ndim(g) > 0:
        if not fits_shape(np.shape(g), np.shape(x)):  # NumPy read x as an array
            raise ValueError(f"internal: an adjoint of shape {np.shape(g)} for a tuple "
                             f"or list of shape {np.shape(x)}")
        g = list(np.broadcast_to(g, np.shape(x)))  # one adjoint per element
    if isinstance(x, (tuple, list)) and isinstance(g, (tuple, list)):
        if len(g) != len(x):
            raise ValueError(f"internal: {len(g)} adjoints for {len(x)} elements")
        items = [as_gradient(e_bar, e) for e_bar, e in zip(g, x)]
        if hasattr(x, "_fields"):  # a named tuple
            return type(x)(*items)
        return type(x)(items) if type(x) in (tuple, list) else tuple(items)
    if isinstance(x, dict) and isinstance(g, dict):
        items = [(k, as_gradient(g[k], e)) for k, e in x.items()]
        return dict(items) if type(x) is dict else type(x)(items)
    if isinstance(x, np.generic) and x.dtype.kind in "fc" and np.ndim(g) == 0:
        return x.dtype.type(g)
    return g
