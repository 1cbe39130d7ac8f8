"""Forward mode, Jacobians and second order: ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

All of them run generated code: the tangent transform of ``f`` (forward
mode, :mod:`s2sad.forward`), its adjoint transform (:mod:`s2sad.reverse`), or
the tangent transform applied to the generated adjoint code (forward over
reverse). Modules are compiled once and cached by :func:`s2sad.cache.compiled`.

Layer 9, below :mod:`s2sad.api` (whose ``Differentiable.jvp`` it makes).
"""

import functools

import numpy as np

from . import cache
from .arguments import (DEFAULT_WRT, bind, call_with, check_differentiable, normalize_wrt,
                        parameters, through_bound, wrt_or_argnums)
from .cache import compiled, gradient_code, numbers_in
from .checkpoint import check_how
from .errors import UnsupportedSyntaxError, UsageError, api_boundary
from .failures import is_not_scalar, non_scalar_error, raise_failure
from .module import keyed_containers
from .parse import unwrap
from .support import as_gradient
from .trees import describe, flatten, is_leaf, unflatten


def jvp_call(fn, positions, values, tangents):
    """``(value, out_dot)`` from the generated ``jvp`` of ``fn`` (vector mode for batches).

    A tangent has its argument's structure (a dict of tangents for a dict of parameters,
    :mod:`s2sad.trees`), each leaf its leaf's shape, or all with one more, leading, axis.
    """
    check_differentiable(fn, positions, values)
    vector = None
    for i, t in zip(positions, tangents):
        (leaves, tree), (tangent_leaves, tangent_tree) = flatten(values[i]), flatten(t)
        name = parameters(fn)[i]
        if tree != tangent_tree:
            raise ValueError(f"jvp of {fn.__name__}: the tangent of {name} has the structure "
                             f"{describe(tangent_tree)}; it needs {name}'s, {describe(tree)}")
        for leaf, tangent in zip(leaves, tangent_leaves):
            shape, tangent_shape = np.shape(leaf), np.shape(tangent)
            batched = len(tangent_shape) == len(shape) + 1 and tangent_shape[1:] == shape
            if tangent_shape != shape and not batched:
                of = name if tree is None else f"an element of {name}"
                raise ValueError(f"jvp of {fn.__name__}: the tangent of {of} has shape "
                                 f"{tangent_shape}; it needs {of}'s shape {shape}, or (K,) + "
                                 f"{shape} for K directions at once")
            if vector is not None and vector != batched:
                raise ValueError(f"jvp of {fn.__name__}: pass all tangents as single directions"
                                 f" or all as batches with a leading axis, not a mix")
            vector = batched
    if vector and (not all(is_leaf(v) for v in values) or _keyed(fn, values)):
        return _one_direction_at_a_time(fn, positions, values, tangents)
    namespace, generated = compiled(fn, "forward_vector" if vector else "forward", positions,
                                    values=values)
    try:
        return namespace[generated.entry_points["jvp"]](*values, *tangents)
    except ValueError as exc:  # the gradient code differentiated here checks its scalar output
        original = getattr(fn, "_s2sad_of", lambda: None)()
        if original is not None and is_not_scalar(exc):
            raise non_scalar_error(original, exc) from None
        raise_failure(fn, exc, values)
    except Exception as exc:
        raise_failure(fn, exc, values)


def _keyed(fn, values):
    """:func:`keyed_containers` of ``fn``, of its form for ``values``' kinds where ``fn`` is
    refused for arrays (it updates an argument in place; see :func:`s2sad.cache.compiled`)."""
    try:
        return keyed_containers(fn)
    except UnsupportedSyntaxError as exc:
        if not getattr(exc, "arguments", None):
            raise
        return keyed_containers(fn, numbers_in(fn, values))


def _one_direction_at_a_time(fn, positions, values, tangents):
    """:func:`jvp_call` for batches of directions when an argument is a container: one sweep
    per direction (vector mode puts the directions' axis on arrays, not on containers)."""
    flat = [flatten(t) for t in tangents]
    count = len(next(leaf for leaves, _ in flat for leaf in leaves))
    out, dots = None, []
    for k in range(count):
        single = [unflatten(tree, [leaf[k] for leaf in leaves]) for leaves, tree in flat]
        out, out_dot = jvp_call(fn, positions, values, single)
        dots.append(flatten(out_dot)[0])
    out_tree = flatten(out)[1]
    return out, unflatten(out_tree, [np.stack(parts) for parts in zip(*dots)])


def _in_structure(t, value):
    """The tangent ``t`` in ``value``'s containers: a derivative of derivative code (``jvp`` of
    a gradient) has tangents in the generated code's own adjoint containers (``dict_bar``,
    ``tuple_bar``), which the caller gets as the value's dict and tuple."""
    if isinstance(value, dict) and isinstance(t, dict):
        return type(value)((k, _in_structure(t[k], e)) for k, e in value.items())
    if isinstance(value, (tuple, list)) and isinstance(t, (tuple, list)) and len(t) == len(value):
        items = [_in_structure(d, e) for d, e in zip(t, value)]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return t


@api_boundary
@through_bound
def jvp(f, wrt=DEFAULT_WRT, *, argnums=None):
    """A function ``(*args, *tangents)`` returning ``(f(*args), out_dot)``: J·u without forming J.

    One tangent per ``wrt`` parameter, each of its parameter's shape, passed
    after all of ``f``'s arguments; ``out_dot`` has the output's shape. A
    tangent with one more, leading, axis is a batch of K directions (vector
    mode): every tangent is then such a batch, and ``out_dot`` has shape
    ``(K,) + out.shape``, from one sweep of the generated code.
    """
    fn = unwrap(f)
    positions, _ = normalize_wrt(fn, wrt_or_argnums(wrt, argnums))

    @functools.wraps(fn)
    @api_boundary
    def derivative(*args, **kwargs):
        n = len(positions)
        if len(args) < n:
            raise TypeError(f"jvp of {fn.__name__} takes {n} tangent{'s' if n > 1 else ''} "
                            f"after the arguments")
        values = bind(fn, args[:-n], kwargs)
        value, out_dot = jvp_call(fn, positions, values, args[-n:])
        return value, out_dot if is_leaf(value) else _in_structure(out_dot, value)

    derivative.__name__ = f"jvp_{fn.__name__}"
    derivative.__qualname__ = derivative.__name__
    derivative.__doc__ = f"jvp of {fn.__qualname__} with respect to {wrt!r} (generated by s2sad)."
    del derivative.__wrapped__
    derivative._s2sad = (fn, "jvp", positions)
    derivative._s2sad_generated = functools.partial(cache.generated_function_of, fn, "jvp",
                                                    positions)
    return derivative


def auto_mode(n, m):
    """The mode ``jacobian(mode="auto")`` uses for ``n`` input and ``m`` output entries:
    forward (n sweeps) when the input is smaller than the output, else reverse (m sweeps)."""
    return "forward" if n < m else "reverse"


def _jacobian_of(fn, values, i, mode):
    """d fn / d values[i], shaped ``out.shape + values[i].shape``, in the mode asked for.

    For a structured argument or output (:mod:`s2sad.trees`) it is JAX's nesting: the
    output's structure, each of its leaves replaced by the argument's structure of blocks
    ``out_leaf.shape + arg_leaf.shape``. Blocks have the argument leaf's floating dtype.
    """
    leaves, tree = flatten(values[i])
    sizes = [int(np.size(leaf)) for leaf in leaves]
    n, out = sum(sizes), None
    if mode == "auto":
        out = call_with(fn, fn, values)
        mode = auto_mode(n, sum(np.size(o) for o in flatten(out)[0]))
    if mode == "forward":
        columns = _split(np.eye(n), sizes, leaves)  # leaf k's directions, (n,) + its shape
        out, out_dot = jvp_call(fn, (i,), values, [unflatten(tree, columns)])
        outs, out_tree = flatten(out)
        blocks = []
        for o, dot in zip(outs, flatten(out_dot)[0]):
            rows = np.moveaxis(np.reshape(dot, (n,) + np.shape(o)), 0, -1)  # out shape + (n,)
            blocks.append(unflatten(tree, _split(rows, sizes, leaves)))
        return unflatten(out_tree, blocks)
    namespace, generated = compiled(fn, "reverse", (i,), values=values)
    vjp_i = namespace[generated.entry_points["vjp"]]
    out = call_with(fn, fn, values) if out is None else out
    outs, out_tree = flatten(out)
    blocks = []
    for k, o in enumerate(outs):
        rows = []
        for e in np.eye(np.size(o)):
            seed = [np.zeros(np.shape(p)) for p in outs]
            seed[k] = np.reshape(e, np.shape(o))
            try:
                row = vjp_i(*values, unflatten(out_tree, seed))
            except Exception as exc:
                raise_failure(fn, exc, values)
            rows.append(np.concatenate([np.ravel(np.broadcast_to(r, np.shape(x)))
                                        for r, x in zip(flatten(row)[0], leaves)] or [[]]))
        rows = np.reshape(np.array(rows, dtype=float), np.shape(o) + (n,))
        blocks.append(unflatten(tree, _split(rows, sizes, leaves)))
    return unflatten(out_tree, blocks)


def _split(rows, sizes, leaves):
    """The last axis of ``rows`` (one entry per element of every leaf) cut into the leaves'
    blocks, each shaped ``rows.shape[:-1] + leaf.shape``, of the leaf's floating dtype."""
    blocks, start = [], 0
    for size, leaf in zip(sizes, leaves):
        part = rows[..., start:start + size]
        start += size
        dtype = np.result_type(leaf, 1.0) if hasattr(leaf, "dtype") else float
        blocks.append(np.reshape(part, rows.shape[:-1] + np.shape(leaf)).astype(dtype, copy=False))
    return blocks


@api_boundary
@through_bound
def jacobian(f, wrt=DEFAULT_WRT, mode="auto", *, argnums=None):
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
    positions, single = normalize_wrt(fn, wrt_or_argnums(wrt, argnums))

    @api_boundary
    def jacobian_of_f(*args, **kwargs):
        values = bind(fn, args, kwargs)
        check_differentiable(fn, positions, values)
        result = tuple(_jacobian_of(fn, values, i, mode) for i in positions)
        return result[0] if single else result

    jacobian_of_f.__name__ = jacobian_of_f.__qualname__ = f"jacobian_{fn.__name__}"
    return jacobian_of_f


@api_boundary
@through_bound
def hessian(f, wrt=DEFAULT_WRT, *, argnums=None):
    """A function of ``f``'s arguments returning H, shaped ``arg.shape + arg.shape``.

    ``f`` must return a scalar. H is the Jacobian of the gradient, by forward
    over reverse: the generated ``grad_f`` is transformed again in vector
    mode and swept once with every direction of the argument. A tuple ``wrt``
    gives the blocks ``H[i][j]`` (a tuple of tuples).
    """
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt_or_argnums(wrt, argnums))

    @api_boundary
    def hessian_of_f(*args, **kwargs):
        values = bind(fn, args, kwargs)
        blocks = tuple(tuple(_jacobian_of(gradient_code(fn, i, None, values), values, j,
                                          "forward")
                             for j in positions) for i in positions)
        return blocks[0][0] if single else blocks

    hessian_of_f.__name__ = hessian_of_f.__qualname__ = f"hessian_{fn.__name__}"
    return hessian_of_f


@api_boundary
@through_bound
def hvp(f, wrt=DEFAULT_WRT, checkpoint=None, *, argnums=None):
    """A function ``(*args, v)`` returning H·v, the Hessian of scalar ``f`` times ``v``.

    H is never formed: the tangent transform is applied to the generated
    gradient code (forward over reverse), and one sweep of it along ``v``
    costs a small multiple of one gradient. With a tuple ``wrt``, ``v`` is a
    tuple of one direction per parameter and the result a tuple too. A ``v``
    with an extra leading axis is a batch of directions. ``checkpoint``: the
    gradient code's loops are checkpointed (see :func:`s2sad.grad`).
    """
    fn = unwrap(f)
    positions, single = normalize_wrt(fn, wrt_or_argnums(wrt, argnums))
    checkpoint = check_how(checkpoint)

    @api_boundary
    def hvp_of_f(*args, **kwargs):
        if not args:
            raise TypeError(f"hvp of {fn.__name__} takes v after the arguments")
        values = bind(fn, args[:-1], kwargs)
        vs = (args[-1],) if single else tuple(args[-1])
        if len(vs) != len(positions):
            raise TypeError(f"hvp of {fn.__name__} needs one direction per parameter in wrt")
        result = tuple(as_gradient(jvp_call(gradient_code(fn, i, checkpoint, values),
                                            positions, values, vs)[1], values[i])
                       for i in positions)  # (in the argument's own containers, as grad's)
        return result[0] if single else result

    hvp_of_f.__name__ = hvp_of_f.__qualname__ = f"hvp_{fn.__name__}"
    return hvp_of_f


_gradient_code = gradient_code  # (the names these had here before s2sad.cache)
_jvp_call = jvp_call


def jacfwd(f, wrt=DEFAULT_WRT, *, argnums=None):
    """JAX's name: :func:`jacobian` in forward mode (a column per input element)."""
    return jacobian(f, wrt, "forward", argnums=argnums)


def jacrev(f, wrt=DEFAULT_WRT, *, argnums=None):
    """JAX's name: :func:`jacobian` in reverse mode (a row per output element)."""
    return jacobian(f, wrt, "reverse", argnums=argnums)
