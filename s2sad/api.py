"""The Python API of reverse mode: ``grad``, ``value_and_grad``, ``vjp``,
``value_and_vjp``, ``source``,
``ssa`` and ``@differentiate``. Forward mode, Jacobians and second order are in
:mod:`s2sad.higher`; ``check_grads`` in :mod:`s2sad.checking` (layer 9, with this
module: ``higher`` < ``api`` < ``checking``).

Each transform generates a module (see :mod:`s2sad.module`), compiled once and
cached per function, transform and ``wrt`` by :mod:`s2sad.cache`, so
``s2sad.grad(f)`` called in a loop parses nothing after the first call.

``wrt`` selects parameters by position (int) or name (str), or a tuple of
them; an int or a str gives one result, a tuple gives a tuple (as in JAX).
``checkpoint`` (``"sqrt"``, a number of snapshots, ``"binomial"`` or ``("binomial", s)``:
Revolve's schedule with ``s`` snapshots) checkpoints ``f``'s loops
(:mod:`s2sad.checkpoint`); forward mode ignores it.
"""

import functools
import html
import inspect

import numpy as np

from . import cache
from .arguments import (DEFAULT_WRT, bind, check_differentiable, normalize_wrt, parameters,
                        positional_count, through_bound, wrt_or_argnums)
from .checkpoint import check_how
from .display import Code, code_html
from .errors import (S2sadError, UnsupportedSyntaxError, UsageError, api_boundary, hide_own_frames,
                     kinds_refusal)
from .failures import is_not_scalar, non_scalar_error, raise_failure
from .higher import jvp as _jvp
from .ir import format_function
from .lower import lower
from .guards import guard_checker
from .parse import unwrap
from .reverse import check_one_value
from .specialise import on_first_call, specialised_source

def _valid():
    return True


def _reverse_entry(f, wrt, kind, has_aux=False, checkpoint=None):
    try:
        fn = unwrap(f)
    except UnsupportedSyntaxError as exc:  # f: a derivative of a function updating x += e
        if not getattr(exc, "arguments", None):
            raise
        return _per_call_kind(f, exc, lambda g: _reverse_entry(g, wrt, kind, has_aux, checkpoint),
                              kind)
    checkpoint = check_how(checkpoint)
    positions, single = normalize_wrt(fn, wrt)
    n_params = len(parameters(fn))
    if positional_count(fn) != n_params:  # keyword-only parameters: bound as f binds them
        n_params = -1  # (the fast path, all arguments by position, is never taken)
    tuple_result = not single and len(positions) == 1
    first, several = positions[0], len(positions) > 1
    compiled = cache.slot()  # the generated entry point and its guard's checker, looked up once
    fast_path = []  # the named fast path's [function it calls, its checked path]
    entry = _entry(fn, kind, positions, has_aux, checkpoint, compiled, fast_path)
    failed = functools.partial(_failed, fn)

    def values(args, kwargs):
        # the fast path (all arguments by position) skips inspect's binding
        return args if not kwargs and len(args) == n_params else bind(fn, args, kwargs)

    def fast(*args, **kwargs):  # grad: the generated grad_f, called at once
        if kwargs or len(args) != n_params:
            return derivative(*args, **kwargs)
        try:
            a = args[first]  # one float or float array: the common case, checked inline
            if several or type(a) is not float and not (type(a) is np.ndarray and
                                                        a.dtype.kind in "fc"):
                check_differentiable(fn, positions, args)
            return (compiled[0] if compiled and compiled[1]() else entry())(*args)
        except Exception as exc:
            failed(exc, args)

    def derivative(*args, **kwargs):
        try:
            return values_of_derivative(args, kwargs)
        except Exception as exc:  # the API's boundary, as in fast
            raise hide_own_frames(exc)

    def values_of_derivative(args, kwargs):
        if kind in ("vjp", "value_and_vjp"):
            return _vjp_values(fn, kind, positions, tuple_result, entry, values, args, kwargs)
        function = compiled[0] if compiled and compiled[1]() else entry()
        bound = values(args, kwargs)  # the fast path (all by position) skips inspect's binding
        check_differentiable(fn, positions, bound)
        try:
            result = function(*bound)
        except Exception as exc:
            failed(exc, bound)
        return _as_returned(result, kind, has_aux, tuple_result)

    public = fast if kind == "grad" and not tuple_result else derivative
    if public is fast:
        public = _with_parameters(fn, compiled, entry, failed, fast_path) or fast
    return _published(public, fn, kind, wrt, positions, checkpoint)


def _entry(fn, kind, positions, has_aux, checkpoint, compiled, fast_path):
    """The function giving a derivative's generated entry point: made and kept in
    ``compiled`` (with its guard's checker) at the first call, again when a name ``fn``
    reads means something else (the guard fails)."""

    def check(args):
        check_differentiable(fn, positions, args)

    def entry():
        if not (compiled and compiled[1]()):  # first call, or a name f reads means another
            whole = checkpoint is None and cache.cached(fn, "reverse", positions)  # vjp, source
            # (the first call of grad, of value_and_grad, makes that entry point alone)
            mode = "reverse" if kind == "vjp" or whole else f"reverse_{kind}"
            if has_aux:
                mode = "reverse_aux"
            elif kind == "value_and_vjp":
                mode = "reverse_value"
            try:
                namespace, generated = cache.compiled(fn, mode, positions, checkpoint)
            except UnsupportedSyntaxError as exc:  # x += e on an argument: fine for numbers
                if not getattr(exc, "arguments", None):
                    raise
                compiled[:] = [cache.by_kind(fn, mode, positions, checkpoint, kind), _valid]
                return compiled[0]
            if kind not in generated.entry_points:  # f returns several values: vjp only
                check_one_value(lower(fn))
            holds = guard_checker(generated.guard) or (lambda: False)
            function = namespace[generated.entry_points[kind]]
            if kind in ("grad", "value_and_grad"):  # specialised at the first call's kinds
                function = on_first_call(namespace, generated, kind, compiled,
                                         f"{mode} of {fn.__qualname__}",
                                         check if kind == "grad" else None, positions,
                                         fast_path or None, holds)
            compiled[:] = [function, holds]
        return compiled[0]

    return entry


def _failed(fn, exc, args):
    """Raise what the user sees when the generated function (or making it) raised ``exc``,
    without s2sad's frames: this is the API's boundary."""
    try:
        if isinstance(exc, ValueError) and is_not_scalar(exc, fn.__name__):  # check_scalar's
            raise non_scalar_error(fn, exc) from None
        raise_failure(fn, exc, args)
    except Exception as error:
        raise hide_own_frames(error)  # (the same exception: no context is chained)


def _vjp_values(fn, kind, positions, tuple_result, entry, values, args, kwargs):
    """What ``vjp(f)(*args, out_bar)`` returns: ``out_bar`` is the last argument, or
    ``out_bar=`` when ``f`` has no parameter of that name."""
    if "out_bar" in kwargs and "out_bar" not in parameters(fn):
        out_bar = kwargs.pop("out_bar")  # else out_bar= is f's own parameter
    elif args:
        args, out_bar = args[:-1], args[-1]
    else:
        raise TypeError(f"{kind} of {fn.__name__} takes out_bar after the arguments")
    function, bound = entry(), values(args, kwargs)
    check_differentiable(fn, positions, bound)
    try:
        result = function(*bound, out_bar)
    except Exception as exc:
        raise_failure(fn, exc, bound)
    return _as_returned(result, kind, False, tuple_result)


def _as_returned(result, kind, has_aux, tuple_result):
    """The generated function's ``result`` as the API returns it: the derivative in a
    one-element tuple for ``wrt=(i,)`` (``tuple_result``), beside the value or the aux."""
    if kind in ("value_and_grad", "value_and_vjp"):
        return result[0], ((result[1],) if tuple_result else result[1])
    if has_aux:
        return ((result[0],) if tuple_result else result[0]), result[1]
    return (result,) if tuple_result else result


def _published(public, fn, kind, wrt, positions, checkpoint):
    """``public``, the derivative of ``fn``, named and documented for the user."""
    functools.update_wrapper(public, fn)
    public.__name__ = f"{kind}_{fn.__name__}"
    public.__qualname__ = public.__name__
    public.__doc__ = f"{kind} of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del public.__wrapped__  # the derivative is not f; do not let s2sad unwrap it to f
    public._s2sad = (fn, kind, positions)
    public._s2sad_generated = functools.partial(cache.generated_function_of, fn, kind, positions,
                                                checkpoint)
    return public


def _per_call_kind(f, refusal, transform, kind):
    """``transform(f)`` for a derivative ``f`` (``grad(f)``) of a function that updates an
    argument in place (``x += e``): rebinding for a number, refused for an array, so ``f``'s
    generated code is made per kind of its arguments when it is called (``refusal`` without
    them). Each call transforms the code generated for its arguments' kinds, once per kind;
    ``grad(grad(f))`` is then reverse mode of the gradient made for those kinds."""
    original = f._s2sad[0]
    made = {}  # f's generated function for one kind of arguments -> its transform

    def of(values):
        generated = unwrap(f, values)
        if generated not in made:
            made[generated] = transform(generated)
        return made[generated]

    def own_values(args, kwargs):  # f's own arguments (a vjp's out_bar comes after them)
        n = positional_count(original)
        return bind(original, args[:n], {k: v for k, v in kwargs.items()
                                         if k in parameters(original)})

    @api_boundary
    def derivative(*args, **kwargs):
        return of(own_values(args, kwargs))(*args, **kwargs)

    def generated_function(values=None):
        if values is None:  # read before any call tells the kinds: f's own refusal
            raise kinds_refusal(refusal)
        return unwrap(of(values), values)

    functools.update_wrapper(derivative, f)
    del derivative.__wrapped__
    derivative.__name__ = derivative.__qualname__ = f"{kind}_{f.__name__}"
    derivative._s2sad_generated = generated_function
    return derivative


_NAMED_FAST = """
def make(_s2sad_slot, _s2sad_entry, _s2sad_failed, _s2sad_fast):  # (closure cells: fast reads)
    def checked({params}):  # (what the slot holds checks what is differentiated)
        return (_s2sad_slot[0] if _s2sad_slot[1]() else _s2sad_entry())({params})

    def gradient({params}):
        try:
            return _s2sad_fast[0]({params})
        except Exception as exc:
            _s2sad_failed(exc, ({params},))
    _s2sad_fast[:] = [checked, checked]
    return gradient
"""


def _with_parameters(fn, compiled, entry, failed, fast):
    """The fast path of a gradient with ``fn``'s own parameters (and defaults), or None.

    Python binds the arguments (keywords, defaults, a wrong call's TypeError naming the
    gradient), so no ``*args`` tuple nor ``**kwargs`` dict is made per call, and failures
    are reported as by the generic path. It calls ``fast[0]``: first ``fast[1]``, which
    checks the guard (the names ``fn`` reads) and calls what the slot holds, which checks
    what is differentiated (:func:`s2sad.specialise.on_first_call`, given ``check``: a
    specialised function's own guard where it implies the check); then the specialised
    function whose guard checks both (``on_first_call``'s ``fast``): one check a call. Only
    for parameters that are all positional-or-keyword (no ``*args``, keyword-only, ``/``).
    """
    params = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    if not params or any(p.kind is not p.POSITIONAL_OR_KEYWORD or p.name.startswith("_s2sad")
                         for p in params):
        return None
    # (named by the caller: a lambda's name is no identifier)
    function = _fast_maker(", ".join(p.name for p in params))(compiled, entry, failed, fast)
    function.__defaults__ = fn.__defaults__
    return function


@functools.lru_cache(maxsize=256)
def _fast_maker(params):
    """:data:`_NAMED_FAST`'s ``make`` for parameters spelled ``params``, compiled once."""
    namespace = {}
    exec(_NAMED_FAST.format(params=params), namespace)
    return namespace["make"]


def stop_gradient(x):
    """``x`` itself, through which s2sad lets no derivative flow."""
    return x


@api_boundary
@through_bound
def grad(f, wrt=DEFAULT_WRT, checkpoint=None, *, argnums=None, has_aux=False):
    """A function of ``f``'s arguments returning the gradient of ``f`` w.r.t. ``wrt``.

    ``f`` must return a scalar; otherwise calling the gradient raises
    :class:`~s2sad.errors.NonScalarOutputError` (use :func:`vjp`). ``argnums`` is
    JAX's name for ``wrt``. With ``has_aux=True``, ``f`` returns ``loss, aux`` and the
    gradient function returns ``(gradient of loss, aux)``; aux is not differentiated.
    """
    return _reverse_entry(f, wrt_or_argnums(wrt, argnums), "grad", has_aux, checkpoint)


@api_boundary
@through_bound
def value_and_grad(f, wrt=DEFAULT_WRT, checkpoint=None, *, argnums=None, has_aux=False):
    """Like :func:`grad`, returning ``(f(*args), gradient)``; with ``has_aux=True``,
    ``((loss, aux), gradient)`` (JAX's convention)."""
    return _reverse_entry(f, wrt_or_argnums(wrt, argnums), "value_and_grad", has_aux,
                          checkpoint)


@api_boundary
@through_bound
def vjp(f, wrt=DEFAULT_WRT, checkpoint=None, *, argnums=None):
    """A function ``(*args, out_bar)`` returning the vector-Jacobian product(s) ``out_bar . J``."""
    return _reverse_entry(f, wrt_or_argnums(wrt, argnums), "vjp", checkpoint=checkpoint)


@api_boundary
@through_bound
def value_and_vjp(f, wrt=DEFAULT_WRT, checkpoint=None, *, argnums=None):
    """Like :func:`vjp`, returning ``(f(*args), vector-Jacobian product(s))`` from one forward
    sweep: JAX's ``primal, f_vjp = jax.vjp(f, x)`` is ``value_and_vjp(f)(x, out_bar)``."""
    return _reverse_entry(f, wrt_or_argnums(wrt, argnums), "value_and_vjp",
                          checkpoint=checkpoint)


@api_boundary
@through_bound
def source(f, wrt=DEFAULT_WRT, mode="reverse", checkpoint=None, plain=False, *, argnums=None,
           specialise_for=None):
    """The text of the generated module for ``f``: mode ``"reverse"`` or ``"forward"``.

    ``plain=True``: with short reference versions of the run-time helpers, without
    their fast paths (:mod:`s2sad.support_plain`), for teaching. ``specialise_for``: a
    tuple of ``f``'s arguments; the module as specialised for their kinds at a call
    (:mod:`s2sad.specialise`), its entry points guarded; for an ``f`` that updates a
    parameter in place (``x += e``), the module for those arguments (rebinding where they
    hold numbers), which only a call can tell.
    """
    values = None if specialise_for is None else tuple(specialise_for)
    try:
        fn = unwrap(f, values)
        positions, _ = normalize_wrt(fn, wrt_or_argnums(wrt, argnums))
        if mode not in ("reverse", "forward"):
            raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
        checkpoint = check_how(checkpoint) if mode == "reverse" else None  # forward: no tape
        generated = cache.compiled(fn, mode + ("_plain" if plain else ""), positions,
                                   checkpoint, values)[1]
    except UnsupportedSyntaxError as exc:  # x += e on a parameter: its code depends on kinds
        if not getattr(exc, "arguments", None) or values is not None:
            raise
        raise kinds_refusal(exc, "s2sad.source(f, specialise_for=args) shows the module for "
                                 "the kinds of the arguments args") from None
    if specialise_for is None:
        return Code(generated.source)
    return Code(specialised_source(generated, tuple(specialise_for)))


@api_boundary
def ssa(f):
    """The SSA listing of ``f``: one primitive per line, with source lines."""
    try:
        return Code(format_function(lower(unwrap(f))))
    except S2sadError as exc:  # the user's error, without s2sad's frames (as cache.compiled)
        raise hide_own_frames(exc) from None


class Differentiable:
    """What ``@s2sad.differentiate`` returns: ``f`` itself, plus its derivatives.

    Attributes ``grad``, ``value_and_grad``, ``vjp``, ``value_and_vjp`` and ``jvp`` are the
    transforms of ``f`` for the decorator's ``wrt``; ``source`` (of the
    decorator's ``mode``) and ``ssa`` are their texts. Displayed in Jupyter, it
    shows its derivative code (``source``), highlighted.
    """

    def __init__(self, fn, wrt=DEFAULT_WRT, mode="reverse", checkpoint=None):
        functools.update_wrapper(self, fn)
        if mode not in ("reverse", "forward"):
            raise UsageError(f"unknown mode {mode!r}; use mode='reverse' or mode='forward'")
        self._wrt = wrt
        self._mode = mode
        self._checkpoint = check_how(checkpoint)
        normalize_wrt(fn, wrt)

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def _s2sad_function(self):
        """What s2sad reads for this object (:func:`s2sad.parse.unwrap`): ``f`` itself."""
        return self.__wrapped__

    def __repr__(self):
        return f"<s2sad.differentiate {self.__wrapped__.__qualname__} wrt={self._wrt!r}>"

    def _repr_html_(self):
        """In Jupyter, the function shows its derivative code (the error, if it has none)."""
        try:
            code = self.source
        except S2sadError as exc:
            return (f"<p><code>{html.escape(repr(self))}</code> has no derivative:</p>"
                    f"<pre>{type(exc).__name__}: {html.escape(str(exc))}</pre>")
        return f"<p><code>{html.escape(repr(self))}</code>: its derivative code</p>" + \
            code_html(code)

    def _repr_markdown_(self):
        try:
            code = self.source
        except S2sadError as exc:
            return f"`{repr(self)}` has no derivative:\n\n```\n{type(exc).__name__}: {exc}\n```\n"
        return f"`{repr(self)}`: its derivative code\n\n" + code._repr_markdown_()

    @functools.cached_property
    def grad(self):
        return grad(self.__wrapped__, self._wrt, self._checkpoint)

    @functools.cached_property
    def value_and_grad(self):
        return value_and_grad(self.__wrapped__, self._wrt, self._checkpoint)

    @functools.cached_property
    def vjp(self):
        return vjp(self.__wrapped__, self._wrt, self._checkpoint)

    @functools.cached_property
    def value_and_vjp(self):
        return value_and_vjp(self.__wrapped__, self._wrt, self._checkpoint)

    @functools.cached_property
    def jvp(self):
        return _jvp(self.__wrapped__, self._wrt)

    @property
    def source(self):
        return source(self.__wrapped__, self._wrt, self._mode, self._checkpoint)

    @property
    def ssa(self):
        return ssa(self.__wrapped__)


@api_boundary
def differentiate(f=None, *, wrt=DEFAULT_WRT, mode="reverse", checkpoint=None):
    """Decorator: ``@differentiate`` or ``@differentiate(wrt=..., mode=..., checkpoint=...)``."""
    if f is None:
        return lambda fn: Differentiable(fn, wrt, mode, checkpoint)
    return Differentiable(f, wrt, mode, checkpoint)


_compiled = cache.compiled  # (the name it had here before s2sad.cache)
