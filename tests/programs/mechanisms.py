"""Checks of s2sad's other mechanisms on a random program, beside ``grad``/``jvp``/``hvp``.

Each check is a mode of :func:`tests.programs.random_programs.check` (so a failure is
classified ``wrong``/``crash``/``refused`` like the others) and compares with the same
finite differences (``estimates``: ``"u"``, ``"v"`` along the directions ``u``, ``v``, and
``"uv"`` for ``u . H v``):

- ``rr``: reverse over reverse: ``vjp`` of the generated gradient along ``u`` (H u, each
  derivative code differentiated again in reverse mode), dotted with ``v``;
- ``vjvp``: forward over reverse through the public objects: ``jvp`` of ``s2sad.grad(f)``
  along ``v`` (its value must be the gradient, its tangent H v);
- ``hessian``: the full Hessian, blocks ``H[i][j]``; ``u . H v`` and its symmetry
  (programs taking x and y in a dict are skipped by this check);
- ``layouts``: ``grad`` and ``jvp`` with x Fortran-ordered, y a strided view of a larger
  array and z a view with negative strides (arguments left unchanged);
- ``float32``: every input float32 (s a ``np.float32``): the gradient of each array input
  has its dtype, and agrees with the oracle to float32 accuracy;
- ``numbers``: s as a 0-d array and as a ``np.float64`` instead of a Python float; the
  gradient and its specialised second call agree with the oracle.
"""

import numpy as np

import s2sad

from tests.programs.generator import INPUTS
from tests.programs.verdicts import Wrong, agree, check_shapes, copies, dot, unchanged

SECOND_ORDER = ("hvp", "rr", "vjvp", "hessian")  # the modes that need the oracle's u . H v


def reverse_of_reverse(form, args, u, v, value, estimates):
    grad = s2sad.grad(form.f, wrt=form.wrt)
    given = copies(args)
    hu = s2sad.vjp(grad, wrt=form.wrt)(*form.pack(given), tuple(form.pack(u)))
    unchanged(given, args, "vjp of grad")
    hu = form.unpack(hu, "vjp of grad")
    check_shapes(hu, "vjp of grad")
    agree(dot(v, hu), estimates["uv"], "v . (H u) by reverse over reverse", value)


def forward_of_reverse(form, args, u, v, value, estimates):
    grad = s2sad.grad(form.f, wrt=form.wrt)
    given = copies(args)
    g, hv = s2sad.jvp(grad, wrt=form.wrt)(*form.pack(given), *form.pack(copies(v)))
    unchanged(given, args, "jvp of grad")
    g, hv = form.unpack(g, "jvp of grad's value"), form.unpack(hv, "jvp of grad")
    check_shapes(hv, "jvp of grad")
    agree(dot(g, v), estimates["v"], "jvp of grad: its value . v", value)
    agree(dot(u, hv), estimates["uv"], "u . (H v) by jvp of grad", value)


def full_hessian(form, args, u, v, value, estimates):
    if form.wrt != tuple(range(len(INPUTS))):
        return  # (a dict of parameters: the blocks are not the flat four's)
    blocks = s2sad.hessian(form.f, wrt=form.wrt)(*copies(args))
    shapes = list(INPUTS.values())
    total = 0.0
    for i, row in enumerate(blocks):
        for j, block in enumerate(row):
            if np.shape(block) != shapes[i] + shapes[j]:
                raise Wrong("hessian: a block of the wrong shape",
                            f"hessian: block {i},{j} has shape {np.shape(block)}, expected "
                            f"{shapes[i] + shapes[j]}")
            total += float(np.tensordot(np.asarray(u[i]), np.tensordot(
                block, np.asarray(v[j]), axes=len(shapes[j])), axes=len(shapes[i])))
            across = np.reshape(blocks[j][i], (int(np.prod(shapes[j])), -1)).T
            if not np.allclose(np.reshape(block, across.shape), across, rtol=1e-6, atol=1e-8):
                raise Wrong("hessian not symmetric", f"hessian: block {i},{j} is not block "
                            f"{j},{i} transposed")
    agree(total, estimates["uv"], "u . H v by hessian", value)


def _laid_out(a, name):
    """``a`` (an input) in another memory layout: x Fortran-ordered, y every other entry of a
    larger array, z reversed twice (negative strides)."""
    if name == "x":
        return np.asfortranarray(a)
    if name == "y":
        wide = np.zeros(2 * a.size)
        wide[::2] = a
        return wide[::2]
    if name == "z":
        return np.ascontiguousarray(a[::-1])[::-1]
    return a


def _first_order(form, args, given, u, v, value, estimates, what, tangents=None):
    """grad (twice: the specialised second call too) and jvp of ``form.f`` at ``given``
    (``args`` in another layout or type), against the oracle."""
    grad = s2sad.grad(form.f, wrt=form.wrt)
    for call in ("", " (second call)"):
        g = form.unpack(grad(*form.pack(given)), f"grad with {what}{call}")
        unchanged(given, args, f"grad with {what}{call}")
        check_shapes(g, f"grad with {what}{call}")
        agree(dot(g, v), estimates["v"], f"grad . v with {what}{call}", value)
        agree(dot(g, u), estimates["u"], f"grad . u with {what}{call}", value)
    tangents = copies(v) if tangents is None else tangents
    _, out_dot = s2sad.jvp(form.f, wrt=form.wrt)(*form.pack(given), *form.pack(tangents))
    unchanged(given, args, f"jvp with {what}")
    agree(float(out_dot), estimates["v"], f"jvp along v with {what}", value)
    return g


def layouts(form, args, u, v, value, estimates):
    given = [_laid_out(a, name) for a, name in zip(args, list(INPUTS) + ["n"])]
    tangents = [_laid_out(t, name) for t, name in zip(copies(v), INPUTS)]
    _first_order(form, args, given, u, v, value, estimates, "inputs in other layouts", tangents)


def _loose(analytic, estimate, what, value, scale):
    est, spread = estimate
    tol = 1e-3 * (1 + abs(value) + abs(est) + scale) + 10 * spread
    if not np.isfinite(analytic) or abs(analytic - est) > tol:
        raise Wrong(what, f"{what}: s2sad gives {analytic:.8g}, finite differences {est:.8g} "
                    f"(allowed {tol:.3g} at float32)")


def float32(form, args, u, v, value, estimates):
    given = [a.astype(np.float32) if isinstance(a, np.ndarray) else
             np.float32(a) if isinstance(a, float) else a for a in args]
    g = form.unpack(s2sad.grad(form.f, wrt=form.wrt)(*form.pack(copies(given))),
                    "grad of float32 inputs")
    check_shapes(g, "grad of float32 inputs")
    for name, r in zip(INPUTS, g):
        if INPUTS[name] and getattr(r, "dtype", None) != np.float32:
            raise Wrong("grad of float32 inputs: not float32",
                        f"grad of float32 inputs: d/d{name} has dtype "
                        f"{getattr(r, 'dtype', type(r).__name__)}")
    for d, key in ((v, "v"), (u, "u")):
        scale = sum(float(np.sum(np.abs(np.asarray(p, float) * np.asarray(q))))
                    for p, q in zip(g, d))
        _loose(dot(g, d), estimates[key], f"grad . {key} of float32 inputs", value, scale)


def numbers(form, args, u, v, value, estimates):
    for kind, wrap in (("s a 0-d array", np.array), ("s a np.float64", np.float64)):
        given = list(copies(args))
        given[3] = wrap(args[3])
        g = _first_order(form, args, given, u, v, value, estimates, kind)
        if np.shape(g[3]) != ():
            raise Wrong(f"grad with {kind}: d/ds not a number",
                        f"grad with {kind}: d/ds has shape {np.shape(g[3])}")


CHECKS = {"rr": reverse_of_reverse, "vjvp": forward_of_reverse, "hessian": full_hessian,
          "layouts": layouts, "float32": float32, "numbers": numbers}
