"""The Python API: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``,
``hvp``, ``source``, ``ssa``, ``check_grads``.

Each transform generates a module (see :mod:`s2sad.module`), compiles it once
and caches it per function, transform and ``wrt``, so ``s2sad.grad(f)`` called
in a loop parses nothing after the first call. Generated code is registered
with :mod:`linecache` under a ``<s2sad ...>`` file name, so tracebacks and
``inspect.getsource`` show the generated lines.

``wrt`` selects parameters by position (int) or name (str), or a tuple of
them; an int or a str gives one result, a tuple gives a tuple (as in JAX).
"""

import functools
import inspect
import linecache
import types
import weakref

import numpy as np

from .errors import NonScalarOutputError, S2sadError, SourceError, UsageError
from .ir import Loc, format_function
from .lower import lower
from .forward import forward_module
from .module import reverse_module
from .parse import unwrap

_CACHE = weakref.WeakKeyDictionary()  # python function -> {(mode, wrt): namespace}


def _parameters(fn):
    return list(inspect.signature(fn).parameters)


def _def_loc(fn):
    """The :class:`~s2sad.ir.Loc` of ``def fn`` (past any decorators), for errors about calls."""
    try:
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except TypeError:
        return None
    first = fn.__code__.co_firstlineno
    for line in range(first, first + 50):
        text = linecache.getline(filename, line)
        if not text:
            break
        if text.lstrip().startswith(("def ", "async def ")):
            return Loc(filename, line, len(text) - len(text.lstrip()), text.rstrip("\n"))
    return None


def _check_function(fn):
    """Reject what s2sad cannot read (a ufunc, a builtin, a class) when the transform is made."""
    if not isinstance(fn, types.FunctionType):
        raise SourceError(f"s2sad differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="Pass a function defined with def in a .py file (wrap a NumPy "
                               "function in one: def f(x): return np.sin(x)).")


def normalize_wrt(fn, wrt):
    """``(positions, single)`` for a ``wrt`` given as int, str or a tuple of them.

    A bad ``wrt`` is a :class:`~s2sad.errors.UsageError` pointing at ``def fn``.
    """
    _check_function(fn)
    params = _parameters(fn)
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    hint = (f"Pass wrt as a parameter of {fn.__name__} by position (0 to {len(params) - 1}, or "
            f"negative from the end) or by name ({', '.join(map(repr, params))}), or a tuple of "
            f"distinct ones." if params else f"{fn.__name__} has no parameters to differentiate.")

    def bad(message):
        return UsageError(message, _def_loc(fn), hint)

    if not items:
        raise bad("wrt is empty; name at least one parameter to differentiate with respect to")
    positions = []
    for item in items:
        if isinstance(item, str):
            if item not in params:
                raise bad(f"{fn.__name__} has no parameter {item!r} "
                          f"(its parameters: {', '.join(params)})")
            positions.append(params.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise bad(f"wrt={item} is out of range: {fn.__name__} has {len(params)} "
                          f"parameter{'' if len(params) == 1 else 's'} ({', '.join(params)})")
            positions.append(int(item) % len(params))
        else:
            raise bad(f"wrt must be an int, a str or a tuple of them, not {item!r}")
    if len(set(positions)) != len(positions):
        raise bad(f"wrt names a parameter twice: {wrt!r}")
    return tuple(positions), single


def _compiled(fn, mode, positions):
    """The namespace of the generated module (transformed and compiled once)."""
    per_fn = _CACHE.setdefault(fn, {})
    key = (mode, positions)
    if key not in per_fn:
        if mode == "reverse":
            generated = reverse_module(fn, positions)
        else:  # "forward", or "forward_vector": tangents with a leading axis of directions
            generated = forward_module(fn, positions, vector=mode == "forward_vector")
        per_fn[key] = (load_module(generated.source, f"{mode} of {fn.__qualname__}",
                                   generated.bindings), generated)
    return per_fn[key]


def load_module(source, label, bindings=None):
    """Compile generated source into a fresh namespace, visible to tracebacks."""
    filename, lines, k = f"<s2sad {label}>", source.splitlines(True), 1
    # another module under the same label (another f, other wrt) keeps its text: s2sad
    # reads generated functions back through linecache to differentiate them again
    while filename in linecache.cache and linecache.cache[filename][2] != lines:
        k += 1
        filename = f"<s2sad {label} ({k})>"
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace = {"__name__": "s2sad_generated", "__file__": filename}
    namespace.update(bindings or {})
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def _bind(fn, args, kwargs):
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}: {exc}") from None
    bound.apply_defaults()
    return list(bound.arguments.values())


def _shape_results(result, single):
    return (result,) if not single and not isinstance(result, tuple) else result


def _reverse_entry(f, wrt, kind):
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)
    if not single and len(positions) == 1:
        pass

    @functools.wraps(fn)
    def derivative(*args, **kwargs):
        namespace, generated = _compiled(fn, "reverse", positions)
        entry = namespace[generated.entry_points[kind]]
        if kind == "vjp":
            if "out_bar" in kwargs and "out_bar" not in _parameters(fn):
                out_bar = kwargs.pop("out_bar")  # else out_bar= is f's own parameter
            elif args:
                args, out_bar = args[:-1], args[-1]
            else:
                raise TypeError(f"vjp of {fn.__name__} takes out_bar after the arguments")
            return _shape_results(entry(*_bind(fn, args, kwargs), out_bar), single)
        try:
            result = entry(*_bind(fn, args, kwargs))
        except ValueError as exc:
            if "must return a scalar, not shape" in str(exc) and fn.__name__ in str(exc):
                raise _non_scalar(fn, str(exc)) from None
            raise
        if kind == "value_and_grad":
            return result[0], _shape_results(result[1], single)
        return _shape_results(result, single)

    derivative.__name__ = f"{kind}_{fn.__name__}"
    derivative.__qualname__ = derivative.__name__
    derivative.__doc__ = f"{kind} of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del derivative.__wrapped__  # the derivative is not f; do not let s2sad unwrap it to f
    derivative._s2sad = (fn, kind, positions)
    return derivative


def _non_scalar(fn, message):
    ir = lower(fn)
    ret = ir.body[-1]
    shape = message.split("not shape ")[1].split(";")[0]
    return NonScalarOutputError(f"grad needs {fn.__name__} to return a scalar, but it returned "
                                f"an array of shape {shape}", getattr(ret, "loc", None),
                                "Use s2sad.vjp for non-scalar outputs (or s2sad.jacobian), or "
                                "reduce the output to a scalar (e.g. np.sum).")


def stop_gradient(x):
    """``x`` itself, through which s2sad lets no derivative flow."""
    return x


def grad(f, wrt=0):
    """A function of ``f``'s arguments returning the gradient of ``f`` w.r.t. ``wrt``.

    ``f`` must return a scalar; otherwise calling the gradient raises
    :class:`~s2sad.errors.NonScalarOutputError` (use :func:`vjp`).
    """
    return _reverse_entry(f, wrt, "grad")


def value_and_grad(f, wrt=0):
    """Like :func:`grad`, returning ``(f(*args), gradient)``."""
    return _reverse_entry(f, wrt, "value_and_grad")


def vjp(f, wrt=0):
    """A function ``(*args, out_bar)`` returning the vector-Jacobian product(s) ``out_bar . J``."""
    return _reverse_entry(f, wrt, "vjp")


def source(f, wrt=0, mode="reverse"):
    """The text of the generated module for ``f``: mode ``"reverse"`` or ``"forward"``."""
    fn = unwrap(f)
    positions, _ = normalize_wrt(fn, wrt)
    if mode not in ("reverse", "forward"):
        raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
    return _compiled(fn, mode, positions)[1].source


def ssa(f):
    """The SSA listing of ``f``: one primitive per line, with source lines."""
    return format_function(lower(unwrap(f)))


class Differentiable:
    """What ``@s2sad.differentiate`` returns: ``f`` itself, plus its derivatives.

    Attributes ``grad``, ``value_and_grad``, ``vjp`` and ``jvp`` are the
    transforms of ``f`` for the decorator's ``wrt``; ``source`` (of the
    decorator's ``mode``) and ``ssa`` are their texts.
    """

    def __init__(self, fn, wrt=0, mode="reverse"):
        functools.update_wrapper(self, fn)
        if mode not in ("reverse", "forward"):
            raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
        self._wrt = wrt
        self._mode = mode
        normalize_wrt(fn, wrt)

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self):
        return f"<s2sad.differentiate {self.__wrapped__.__qualname__} wrt={self._wrt!r}>"

    @functools.cached_property
    def grad(self):
        return grad(self.__wrapped__, self._wrt)

    @functools.cached_property
    def value_and_grad(self):
        return value_and_grad(self.__wrapped__, self._wrt)

    @functools.cached_property
    def vjp(self):
        return vjp(self.__wrapped__, self._wrt)

    @functools.cached_property
    def jvp(self):
        return jvp(self.__wrapped__, self._wrt)

    @property
    def source(self):
        return source(self.__wrapped__, self._wrt, self._mode)

    @property
    def ssa(self):
        return ssa(self.__wrapped__)


def differentiate(f=None, *, wrt=0, mode="reverse"):
    """Decorator: ``@differentiate`` or ``@differentiate(wrt=..., mode=...)``."""
    if f is None:
        return lambda fn: Differentiable(fn, wrt, mode)
    return Differentiable(f, wrt, mode)


class GradientCheckError(S2sadError, AssertionError):
    """``check_grads`` found derivatives that disagree with finite differences."""


def check_grads(f, args, wrt=0, modes=("forward", "reverse"), order=1, eps=1e-6, rtol=1e-5,
                atol=1e-7, seed=0):
    """Check derivatives of ``f`` at ``args`` against central finite differences.

    For a random output direction ``v`` and random input directions ``u``,
    the finite difference of ``<v, f(x + t u)>`` at ``t = 0`` must equal
    ``<v, jvp(u)>`` (forward mode) and ``<vjp(v), u>`` (reverse mode). With
    ``order=2`` the same checks are run on ``vjp`` of ``f`` itself, the
    generated code differentiated again (forward over reverse, and reverse
    over reverse), so second derivatives are checked in both modes; ``order=3``
    goes once more. Raises :class:`GradientCheckError` with a report.
    """
    fn = unwrap(f)
    args = tuple(args)
    positions, _ = normalize_wrt(fn, wrt if isinstance(wrt, (tuple, list)) else (wrt,))
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for mode in modes:
        if mode not in ("forward", "reverse"):
            raise UsageError(f"check_grads: unknown mode {mode!r}; use 'forward' and/or 'reverse'")
    if not isinstance(order, int) or order < 1:
        raise UsageError(f"check_grads: order must be a positive int, not {order!r}")
    rng = np.random.default_rng(seed)
    _check_once(fn, args, positions, modes, eps, rtol, atol, rng, fn.__name__)
    if order > 1:
        v = rng.standard_normal(np.shape(fn(*args)))
        for i in positions:  # the derivative code for one parameter, differentiated again
            namespace, generated = _compiled(fn, "reverse", (i,))
            vjp_i = namespace[generated.entry_points["vjp"]]
            check_grads(vjp_i, args + (v,), tuple(positions), modes, order - 1, eps, rtol, atol,
                        seed + 1)


def _check_once(fn, args, positions, modes, eps, rtol, atol, rng, label):
    out = fn(*args)
    v = rng.standard_normal(np.shape(out))
    us = [rng.standard_normal(np.shape(args[i])) for i in positions]

    def along(t):
        moved = list(args)
        for i, u in zip(positions, us):
            moved[i] = np.asarray(args[i], dtype=float) + t * u
        return np.sum(v * fn(*moved))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    names = [_parameters(fn)[i] for i in positions]
    for mode in modes:
        if mode == "forward":
            _, out_dot = _jvp_call(fn, positions, list(args), us)
            analytic, formula = float(np.sum(v * out_dot)), "<v, jvp(u)>"
        else:
            bars = vjp(fn, tuple(positions))(*args, v)
            analytic, formula = sum(float(np.sum(b * u)) for b, u in zip(bars, us)), "<vjp(v), u>"
        if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
            raise GradientCheckError(
                f"check_grads({label}, wrt={', '.join(names)}): {mode} mode disagrees with "
                f"finite differences: {formula} = {analytic!r} but the central difference "
                f"(eps={eps}) gives {numeric!r} (difference {abs(analytic - numeric):.3g})")


# ----------------------------------------------------------------------------
# forward mode, Jacobians and second order


def _jvp_call(fn, positions, values, tangents):
    """``(value, out_dot)`` from the generated ``jvp`` of ``fn`` (vector mode for batches)."""
    vector = None
    for i, t in zip(positions, tangents):
        shape, tangent_shape = np.shape(values[i]), np.shape(t)
        batched = len(tangent_shape) == len(shape) + 1 and tangent_shape[1:] == shape
        if tangent_shape != shape and not batched:
            name = _parameters(fn)[i]
            raise ValueError(f"jvp of {fn.__name__}: the tangent of {name} has shape "
                             f"{tangent_shape}; it needs {name}'s shape {shape}, or (K,) + {shape} "
                             f"for K directions at once")
        if vector is not None and vector != batched:
            raise ValueError(f"jvp of {fn.__name__}: pass all tangents as single directions or "
                             f"all as batches with a leading axis, not a mix")
        vector = batched
    namespace, generated = _compiled(fn, "forward_vector" if vector else "forward", positions)
    try:
        return namespace[generated.entry_points["jvp"]](*values, *tangents)
    except ValueError as exc:  # the gradient code differentiated here checks its scalar output
        original = getattr(fn, "_s2sad_of", None)
        if original is not None and "must return a scalar, not shape" in str(exc):
            raise _non_scalar(original, str(exc)) from None
        raise


def jvp(f, wrt=0):
    """A function ``(*args, *tangents)`` returning ``(f(*args), out_dot)``: J·u without forming J.

    One tangent per ``wrt`` parameter, each of its parameter's shape, passed
    after all of ``f``'s arguments; ``out_dot`` has the output's shape. A
    tangent with one more, leading, axis is a batch of K directions (vector
    mode): every tangent is then such a batch, and ``out_dot`` has shape
    ``(K,) + out.shape``, from one sweep of the generated code.
    """
    fn = unwrap(f)
    positions, _ = normalize_wrt(fn, wrt)

    @functools.wraps(fn)
    def derivative(*args, **kwargs):
        n = len(positions)
        if len(args) < n:
            raise TypeError(f"jvp of {fn.__name__} takes {n} tangent{'s' if n > 1 else ''} "
                            f"after the arguments")
        values = _bind(fn, args[:-n], kwargs)
        return _jvp_call(fn, positions, values, args[-n:])

    derivative.__name__ = f"jvp_{fn.__name__}"
    derivative.__qualname__ = derivative.__name__
    derivative.__doc__ = f"jvp of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del derivative.__wrapped__
    derivative._s2sad = (fn, "jvp", positions)
    return derivative


def generated_function(derivative):
    """The generated function behind a derivative made by :func:`grad`, :func:`jvp`, ...

    s2sad differentiates that function's source (kept in :mod:`linecache`), so
    ``grad(grad(f))`` is reverse mode applied to the code of ``grad_f``.
    """
    fn, kind, positions = derivative._s2sad
    namespace, generated = _compiled(fn, "forward" if kind == "jvp" else "reverse", positions)
    function = namespace[generated.entry_points[kind]]
    function._s2sad_of = fn
    return function


def _gradient_code(fn, i):
    """The generated ``grad_f`` for parameter ``i``, as a function s2sad can read again."""
    namespace, generated = _compiled(fn, "reverse", (i,))
    function = namespace[generated.entry_points["grad"]]
    function._s2sad_of = fn
    return function


def _jacobian_of(fn, values, i, mode):
    """d fn / d values[i], shaped ``out.shape + values[i].shape``, in the mode asked for."""
    x = values[i]
    n, out = np.size(x), None
    if mode == "auto":
        out = fn(*values)
        mode = "forward" if n < np.size(out) else "reverse"
    if mode == "forward":
        directions = np.reshape(np.eye(n), (n,) + np.shape(x))
        out, out_dot = _jvp_call(fn, (i,), values, [directions])
        return np.reshape(np.moveaxis(np.reshape(out_dot, (n,) + np.shape(out)), 0, -1),
                          np.shape(out) + np.shape(x))
    namespace, generated = _compiled(fn, "reverse", (i,))
    vjp_i = namespace[generated.entry_points["vjp"]]
    out = fn(*values) if out is None else out
    rows = [vjp_i(*values, np.reshape(e, np.shape(out))) for e in np.eye(np.size(out))]
    rows = [np.broadcast_to(r, np.shape(x)) for r in rows]
    return np.reshape(np.array(rows, dtype=float), np.shape(out) + np.shape(x))


def jacobian(f, wrt=0, mode="auto"):
    """A function of ``f``'s arguments returning J, shaped ``out.shape + arg.shape``.

    For ``f: R^n -> R^m``, forward mode gets J a column at a time: a tangent
    sweep costs a small multiple of one evaluation of ``f`` and yields J·u
    for one direction u, so n directions (the columns) cost about n
    evaluations; s2sad pushes all n at once in one vector-mode sweep.
    Reverse mode gets J a row at a time: an adjoint sweep costs a small
    multiple of one evaluation too (plus storing what the backward sweep
    reads) and yields vᵀJ, so m rows cost about m evaluations. ``mode="auto"``
    evaluates ``f`` once to learn m and uses forward mode when the input is
    smaller than the output (n < m), reverse mode otherwise: a gradient
    (m = 1) costs one reverse sweep whatever n is. A tuple ``wrt`` gives a
    tuple of Jacobians.
    """
    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"jacobian: unknown mode {mode!r}; use 'auto', 'forward' or 'reverse'")
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)

    def jacobian_of_f(*args, **kwargs):
        values = _bind(fn, args, kwargs)
        result = tuple(_jacobian_of(fn, values, i, mode) for i in positions)
        return result[0] if single else result

    jacobian_of_f.__name__ = jacobian_of_f.__qualname__ = f"jacobian_{fn.__name__}"
    return jacobian_of_f


def hessian(f, wrt=0):
    """A function of ``f``'s arguments returning H, shaped ``arg.shape + arg.shape``.

    ``f`` must return a scalar. H is the Jacobian of the gradient, by forward
    over reverse: the generated ``grad_f`` is transformed again in vector
    mode and swept once with every direction of the argument. A tuple ``wrt``
    gives the blocks ``H[i][j]`` (a tuple of tuples).
    """
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)

    def hessian_of_f(*args, **kwargs):
        values = _bind(fn, args, kwargs)
        blocks = tuple(tuple(_jacobian_of(_gradient_code(fn, i), values, j, "forward")
                             for j in positions) for i in positions)
        return blocks[0][0] if single else blocks

    hessian_of_f.__name__ = hessian_of_f.__qualname__ = f"hessian_{fn.__name__}"
    return hessian_of_f


def hvp(f, wrt=0):
    """A function ``(*args, v)`` returning H·v, the Hessian of scalar ``f`` times ``v``.

    H is never formed: the tangent transform is applied to the generated
    gradient code (forward over reverse), and one sweep of it along ``v``
    costs a small multiple of one gradient. With a tuple ``wrt``, ``v`` is a
    tuple of one direction per parameter and the result a tuple too. A ``v``
    with an extra leading axis is a batch of directions.
    """
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt)

    def hvp_of_f(*args, **kwargs):
        if not args:
            raise TypeError(f"hvp of {fn.__name__} takes v after the arguments")
        values = _bind(fn, args[:-1], kwargs)
        vs = (args[-1],) if single else tuple(args[-1])
        if len(vs) != len(positions):
            raise TypeError(f"hvp of {fn.__name__} needs one direction per parameter in wrt")
        result = tuple(_jvp_call(_gradient_code(fn, i), positions, values, vs)[1]
                       for i in positions)
        return result[0] if single else result

    hvp_of_f.__name__ = hvp_of_f.__qualname__ = f"hvp_{fn.__name__}"
    return hvp_of_f
