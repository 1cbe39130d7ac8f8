"""The primitives lowering makes besides the rule tables' own.

:class:`ExternalFunction` (a call s2sad has no rule for, kept in program order),
:class:`AttributeRead` (``obj.name``, read when the generated code runs) and
:class:`GlobalRead` (a global or closure value, read once at the top of the
function). :class:`~s2sad.lower.lowerer.UserFunction` lives beside the lowerer,
since its memory summary lowers the function it calls.

Layer 3 (front end), the bottom of the :mod:`s2sad.lower` package.
"""

import numpy as np

from ..rules.core import Primitive


class ExternalFunction(Primitive):
    """A call of a function s2sad has no rule for: fine on constants, an error on active values.

    ``head`` is what the first name of its spelling refers to (``scipy`` in
    ``scipy.special.erf``), which generated code must be able to read.
    """

    effects = True  # it may change the world (CACHE.append(x)): kept even if unread
    opaque = True  # its result may be any array it was given, or a global (s2sad.memory)

    def __init__(self, obj, spelling, head=None, name=None):
        self.obj = obj
        self.head = head
        super().__init__(name or spelling, (), {}, ("call", spelling), varargs=True)


class AttributeRead(Primitive):
    """``obj.name`` for an attribute other than an array's (``self.W``, ``cfg.lam``): read
    when the generated code runs, a constant. On a differentiated value it is a field of a
    named tuple (``p.w``; the adjoint ``unattr(g, p, 'w')`` checks that it is one when it
    runs); an attribute NumPy arrays have (``x.real``) is a located error there
    (:func:`s2sad.common.no_rule_error`)."""

    opaque = True  # the object's own array: memory from outside the function (s2sad.memory)

    def __init__(self, attr):
        if hasattr(np.ndarray, attr):  # no rule: a located error on a differentiated value
            super().__init__(f".{attr}", ("x",), {}, ("attr", attr), varargs=True)
        else:
            super().__init__(f".{attr}", ("x",), {}, ("attr", attr),
                             vjp={"x": f"unattr(g, x, {attr!r})"}, jvp={"x": f"x_dot.{attr}"})


class GlobalRead(Primitive):
    """``lam = model.lam``: a value of the user's module (or closure) read when the
    generated code runs. ``head`` is what the first name of ``spelling`` refers to:
    a module, or a :class:`~s2sad.parse.LiveScope` (see :meth:`Emitter.declare_scope
    <s2sad.emit.Emitter.declare_scope>`). Its value is constant: no derivative."""

    opaque = True  # the user's own array: memory from outside the function (s2sad.memory)

    def __init__(self, spelling, head):
        self.head = head
        self.spelling = spelling
        super().__init__(spelling, (), {}, ("global", spelling), differentiable=False)
