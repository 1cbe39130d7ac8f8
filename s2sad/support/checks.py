"""The run-time checks of generated code: :class:`CheckFailed` (a ``ValueError``) when the
arguments are outside what a derivative was made for, and :func:`check_scalar` with its
:class:`NotScalar` for a gradient of a function that returned an array.

The checks of one rule (``check_tall`` for ``np.linalg.qr``, ...) live beside its helpers.
Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np


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
