"""Benchmark: s2sad's gradients against autograd, JAX and PyTorch on the cases of issue 6.

A script, not a timed test. For each case of ``benchmarks/cases.py`` (written
once in plain NumPy, which s2sad reads) it prints one markdown table row: the
time of f (NumPy), the time of s2sad's gradient and their ratio, next to the
floor of that ratio by operation count (footnotes justify each floor), the
target of issue 6, and the same ratio for autograd, ``jax.grad``,
``jax.jit(jax.grad)`` (its compile time separately) and PyTorch eager, each
divided by the same NumPy f time, so the ratios compare gradient times
directly. The last column is s2sad's transform time. A second table gives
the absolute times, each library's own f time, and the time of s2sad's
generated ``grad_<f>`` called directly (without the ``s2sad.grad`` wrapper).
Two more columns come from separate, untimed calls: the peak memory of s2sad's
gradient (:mod:`tracemalloc`) and how many arrays f and the gradient make per call
(:class:`AllocationCounter`, a counting NumPy data allocator).

The peers are ported here (autograd.numpy, jax.numpy, torch; one port per
case, written against a NumPy-like namespace) and imported lazily: a library
that is not installed shows "n/a". ``pip install -e '.[bench]'`` installs
them (for PyTorch, the machine notes say `pip install torch==2.13.0` takes the
CPU build). All work in float64 (JAX with ``jax_enable_x64``).

Method: before timing, s2sad's gradient is checked against central finite
differences along a random direction, and every peer's gradient against
s2sad's (``np.allclose``, rtol 1e-6). Then f and all gradients of a case are
timed in the same run, interleaved, with :mod:`timeit` (garbage collection off
during a sample, no wrapper around the call): each sample runs a call enough
times to last about 100 ms, and a cell is the median of 9 samples (5 for slow
cases, so that the script takes a few minutes). Transform time: the median over 5 fresh transforms
(``s2sad.cache._CACHE`` cleared) of what the first ``s2sad.grad(f)(...)`` call
does beyond a cached one: parse, lower, differentiate, emit and compile the
module.

    python benchmarks/compare.py            # the full table (a few minutes)
    python benchmarks/compare.py --quick    # tiny sizes, one sample: a smoke test
    python benchmarks/compare.py --only s2sad,torch --cases MLP
    python benchmarks/compare.py --steady-malloc   # freed memory kept: no page faults

Timings depend on the BLAS threads and on the allocator: the header prints
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE and glibc's MALLOC_*
settings as found. With glibc's defaults, every fresh temporary array above
the (adaptive) mmap threshold costs page faults on each call, which in a
virtual machine can double the time of medium-sized array code; the
``--steady-malloc`` run shows the times without them (see ``steady_malloc``).
"""

import argparse
import ctypes
import importlib
import math
import os
import platform
import statistics
import sys
import time
import timeit
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402  (benchmarks/cases.py, next to this script)
import s2sad  # noqa: E402
import s2sad.api  # noqa: E402

LIBRARIES = ("s2sad", "autograd", "jax", "torch")
BUDGET = 0.1  # seconds per timing sample
NOISY = 0.15  # a case whose f or s2sad samples spread more than this is measured again
LOG_2PI = math.log(2 * math.pi)


# ---- the ports: each case written against a NumPy-like namespace xp --------------------------

def ports(xp):
    """The functions of :mod:`cases`, written with ``xp`` (autograd.numpy, jax.numpy, torch)."""

    def lecture(x, y):
        a = y * xp.log(x)
        return a + xp.sqrt(a)

    def sigmoid(z):
        return 1.0 / (1.0 + xp.exp(-z))

    def neuron(w0, x0, w1, x1, w2):
        return sigmoid(w0 * x0 + w1 * x1 + w2)

    def gaussian_nll(mu, sigma, x):
        t0 = x - mu
        t1 = t0 / sigma
        t2 = t1 ** 2
        t3 = 0.5 * t2
        t4 = xp.log(sigma)
        t5 = t3 + t4 + 0.5 * LOG_2PI
        return xp.sum(t5)

    def mlp_loss(W1, b1, W2, b2, X, Y):
        H = xp.tanh(X @ W1 + b1)
        P = H @ W2 + b2
        return xp.mean((P - Y) ** 2)

    def resnet_loss(U, V, X, Y):
        x = X
        for U_k, V_k in zip(U, V):
            x = x + U_k @ sigmoid(V_k @ x)
        return xp.mean((x - Y) ** 2)

    def rnn_loss(W, h0, T):
        h = h0
        for t in range(T):
            h = xp.tanh(W @ h)
        return xp.sum(h)

    torch_like = xp.__name__ == "torch"

    def reduce(name, a, axis, keepdims=False):  # torch spells axis dim and returns (max, argmax)
        if not torch_like:
            return getattr(xp, name)(a, axis=axis, keepdims=keepdims)
        out = getattr(xp, name)(a, dim=axis, keepdim=keepdims)
        return out.values if name == "max" else out

    def piecewise_loss(p, y):
        r = p - y
        a = xp.abs(r)
        huber = xp.where(a < 1.0, 0.5 * r * r, a - 0.5)
        hinge = xp.maximum(xp.zeros_like(p) if torch_like else 0.0, 1.0 - y * p)
        return xp.mean(huber + hinge)

    def layer_norm(X, gamma, beta):
        mu = reduce("mean", X, 1, True)
        xc = X - mu
        var = reduce("mean", xc * xc, 1, True)
        xhat = xc / xp.sqrt(var + 1e-5)
        return xp.sum(xp.tanh(gamma * xhat + beta))

    def softmax_cross_entropy(W, X, Y):
        Z = X @ W
        Z = Z - reduce("max", Z, 1, True)
        logp = Z - xp.log(reduce("sum", xp.exp(Z), 1, True))
        return -xp.mean(reduce("sum", Y * logp, 1))

    def gated_loss(Wz, Uz, Wh, Uh, xs, h0):
        h = h0
        for x in xs:
            z = sigmoid(Wz @ x + Uz @ h)
            c = xp.tanh(Wh @ x + Uh @ h)
            h = (1.0 - z) * h + z * c
        return xp.sum(h * h)

    def neuron_reads(w, x):
        return 1.0 / (1.0 + xp.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))

    def rnn_dot_loss(W, h0, T):
        h = h0
        for t in range(T):
            h = xp.tanh(xp.matmul(W, h) if torch_like else xp.dot(W, h))
        return xp.sum(h)

    def newton_sqrt(a):
        y = 0.5 * (1.0 + a)
        while abs(y * y - a) > 1e-12 * a:
            y = 0.5 * (y + a / y)
        return y

    return {fn.__name__: fn for fn in (lecture, neuron, gaussian_nll, mlp_loss, resnet_loss,
                                       rnn_loss, newton_sqrt, piecewise_loss, layer_norm,
                                       softmax_cross_entropy, gated_loss, neuron_reads,
                                       rnn_dot_loss)}


def split(args, wrt):
    return tuple(args[i] for i in wrt), tuple(a for i, a in enumerate(args) if i not in wrt)


def merge(params, rest, wrt):
    params, rest, full = list(params), list(rest), []
    for i in range(len(params) + len(rest)):
        full.append(params.pop(0) if i in wrt else rest.pop(0))
    return full


def as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


# ---- one object per library: the calls to time and the gradient to check ---------------------

class Runner:
    """For one case: ``calls`` (label -> zero-argument callable to time) and gradients."""

    name = None

    def __init__(self, case, args):
        self.case, self.args = case, args
        self.calls, self.gradients, self.first_call, self.problems = {}, {}, {}, {}


class S2sadRunner(Runner):
    name = "s2sad"

    def __init__(self, case, args):
        super().__init__(case, args)
        fn, wrt = case.fn, case.wrt
        grad = s2sad.grad(fn, wrt=wrt)
        self.calls["s2sad"] = (grad, args)
        self.gradients["s2sad"] = lambda: as_tuple(grad(*args))
        # the generated grad_<f> itself, without the wrapper that binds the arguments
        try:
            namespace, generated = s2sad.cache.compiled(fn, "reverse", tuple(wrt))
            entry = namespace[generated.entry_points["grad"]]
            self.calls["generated"] = (entry, args)
        except Exception as exc:  # an internal API: tolerate its changes
            self.problems["generated"] = f"{type(exc).__name__}: {exc}"


class AutogradRunner(Runner):
    name = "autograd"

    def __init__(self, case, args, port):
        super().__init__(case, args)
        import autograd
        wrt = case.wrt
        params, rest = split(args, wrt)

        def packed(params, *rest):
            return port(*merge(params, rest, wrt))

        grad = autograd.grad(packed)
        self.calls["autograd"] = (grad, (params,) + rest)
        self.gradients["autograd"] = lambda: tuple(np.asarray(g) for g in grad(params, *rest))


class JaxRunner(Runner):
    name = "jax"

    def __init__(self, case, args, port):
        super().__init__(case, args)
        import jax
        import jax.numpy as jnp
        wrt = case.wrt
        jargs = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        static = tuple(i for i, a in enumerate(args) if isinstance(a, int) and i not in wrt)
        block = jax.block_until_ready
        grad = jax.grad(port, argnums=tuple(wrt))
        self.calls["jax.grad"] = (lambda: block(grad(*jargs)), ())
        self.gradients["jax.grad"] = lambda: tuple(np.asarray(g) for g in grad(*jargs))
        self.calls["jax f"] = (lambda: block(port(*jargs)), ())
        for label, fn in (("jit(grad)", grad), ("jit(f)", port)):
            jitted = jax.jit(fn, static_argnums=static)
            start = time.perf_counter()
            try:
                block(jitted(*jargs))
            except Exception as exc:
                self.problems[label] = f"{type(exc).__name__}: {first_line(exc)}"
                if type(exc).__name__ == "TracerBoolConversionError":
                    self.problems[label] += (" (jit cannot trace Python control flow on traced "
                                             "values; its replacement, lax.while_loop, has no "
                                             "reverse-mode derivative in JAX)")
                continue
            self.first_call[label] = time.perf_counter() - start
            self.calls[label] = ((lambda jitted: lambda: block(jitted(*jargs)))(jitted), ())
            if label == "jit(grad)":
                self.gradients[label] = (lambda jitted: lambda: tuple(
                    np.asarray(g) for g in jitted(*jargs)))(jitted)


class TorchRunner(Runner):
    name = "torch"

    def __init__(self, case, args, port):
        super().__init__(case, args)
        import torch
        wrt = case.wrt
        targs = []
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray) or (isinstance(a, float) and i in wrt):
                a = torch.tensor(a, dtype=torch.float64)
                if i in wrt:
                    a.requires_grad_(True)
            targs.append(a)
        leaves = [targs[i] for i in wrt]

        def grad():
            return torch.autograd.grad(port(*targs), leaves)

        def f():
            with torch.no_grad():
                return port(*targs)

        self.calls["torch"] = (grad, ())
        self.calls["torch f"] = (f, ())
        self.gradients["torch"] = lambda: tuple(g.detach().numpy() for g in grad())


def first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def load_library(name):
    """Import a peer lazily; None when it is not installed."""
    try:
        if name == "jax":
            os.environ.setdefault("JAX_PLATFORMS", "cpu")
            jax = importlib.import_module("jax")
            jax.config.update("jax_enable_x64", True)
            return importlib.import_module("jax.numpy")
        if name == "autograd":
            importlib.import_module("autograd")
            return importlib.import_module("autograd.numpy")
        return importlib.import_module(name)
    except ImportError:
        return None


def version(name):
    try:
        from importlib.metadata import version as dist_version
        return dist_version(name)
    except Exception:
        return "?"


# ---- checks -----------------------------------------------------------------------------------

def directions(params, rng):
    return tuple(rng.standard_normal(np.shape(p)) if np.ndim(p) else float(rng.standard_normal())
                 for p in params)


def finite_difference_error(case, args, gradient, rng):
    """Relative error of <gradient, d> against a central difference of f along d."""
    params, rest = split(args, case.wrt)
    d = directions(params, rng)
    eps = 1e-6 * max(1.0, max(float(np.max(np.abs(p))) for p in params))
    plus = merge([p + eps * di for p, di in zip(params, d)], rest, case.wrt)
    minus = merge([p - eps * di for p, di in zip(params, d)], rest, case.wrt)
    numeric = (case.fn(*plus) - case.fn(*minus)) / (2 * eps)
    analytic = sum(float(np.sum(g * di)) for g, di in zip(gradient, d))
    scale = max(1.0, abs(numeric), sum(float(np.sum(np.abs(g * di))) for g, di in zip(gradient, d)))
    return abs(analytic - numeric) / scale


def mismatch(gradient, reference):
    """None if the gradients agree (allclose, rtol 1e-6), else a description."""
    if len(gradient) != len(reference):
        return f"{len(gradient)} gradients instead of {len(reference)}"
    for k, (g, r) in enumerate(zip(gradient, reference)):
        g, r = np.asarray(g, dtype=float), np.asarray(r, dtype=float)
        if g.shape != r.shape:
            return f"gradient {k} has shape {g.shape}, s2sad's {r.shape}"
        atol = 1e-9 * max(1.0, float(np.max(np.abs(r))) if r.size else 1.0)
        if not np.allclose(g, r, rtol=1e-6, atol=atol):
            return f"gradient {k} differs from s2sad's by up to {float(np.max(np.abs(g - r))):.3g}"
    return None


# ---- timing -----------------------------------------------------------------------------------

def timer(call):
    """A :class:`timeit.Timer` for ``call = (fn, args)`` that runs ``fn(*args)``, no wrapper."""
    fn, args = call
    return timeit.Timer("fn(*args)", globals={"fn": fn, "args": args})


def timings(calls, repeats, budget):
    """Median seconds per call of each ``(fn, args)`` in ``calls``, sampled interleaved."""
    timers, numbers = {}, {}
    for name, call in calls.items():
        timers[name] = timer(call)
        timers[name].timeit(1)  # warm up
        once = max(timers[name].timeit(1), 1e-7)
        numbers[name] = max(1, int(budget / once))
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name in calls:
            samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])
    return ({name: statistics.median(values) for name, values in samples.items()},
            {name: spread(values) for name, values in samples.items()})


def spread(values):
    """The interquartile range of timing samples relative to their median (0 for < 4 samples)."""
    if len(values) < 4:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


def transform_time(case, repeats):
    """Median seconds to generate and compile the gradient module, from a cleared cache."""
    samples = []
    for _ in range(repeats):
        s2sad.cache._CACHE.pop(case.fn, None)
        start = time.perf_counter()
        s2sad.source(case.fn, wrt=case.wrt)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# ---- memory: peak and allocations of one call, untimed ----------------------------------------

class _Allocator(ctypes.Structure):  # NumPy's PyDataMemAllocator (numpy/ndarraytypes.h)
    _fields_ = [("ctx", ctypes.c_void_p),
                ("malloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)),
                ("calloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_size_t)),
                ("realloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                             ctypes.c_size_t)),
                ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p,
                                          ctypes.c_size_t))]


class _Handler(ctypes.Structure):  # NumPy's PyDataMem_Handler, version 1
    _fields_ = [("name", ctypes.c_char * 127), ("version", ctypes.c_uint8),
                ("allocator", _Allocator)]


class AllocationCounter:
    """Counts NumPy's data allocations during a call (``counter(fn, args)``).

    NumPy (>= 1.22) lets a program set the allocator of array data
    (``PyDataMem_SetHandler``, NEP 49); this one counts each ``malloc``/``calloc``
    and forwards it to libc's. Every array NumPy makes with data of its own (a
    temporary, a result, a 0-d result of a reduction, a Python number made an array
    for a ufunc: ``x + 1.0`` makes two) is one; views are none. The
    handler is set for the call only (it is per context, and arrays made before keep
    theirs), so it costs the timed calls nothing.
    """

    _SET_HANDLER = 304  # PyDataMem_SetHandler's slot in NumPy's C-API table

    def __init__(self):
        libc = ctypes.CDLL(None)
        for fn, args in ((libc.malloc, [ctypes.c_size_t]),
                         (libc.calloc, [ctypes.c_size_t, ctypes.c_size_t]),
                         (libc.realloc, [ctypes.c_void_p, ctypes.c_size_t])):
            fn.restype, fn.argtypes = ctypes.c_void_p, args
        libc.free.argtypes = [ctypes.c_void_p]
        self.count = 0

        def malloc(ctx, size):
            self.count += 1
            return libc.malloc(size or 1)

        def calloc(ctx, n, size):
            self.count += 1
            return libc.calloc(n or 1, size or 1)

        fields = dict(_Allocator._fields_)
        self.handler = _Handler(b"benchmark_counting", 1, _Allocator(
            None, fields["malloc"](malloc), fields["calloc"](calloc),
            fields["realloc"](lambda ctx, ptr, size: libc.realloc(ptr, size or 1)),
            fields["free"](lambda ctx, ptr, size: libc.free(ptr))))
        api = ctypes.pythonapi
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        api.PyCapsule_New.restype = ctypes.py_object
        api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        umath = importlib.import_module("numpy._core._multiarray_umath")
        table = ctypes.cast(api.PyCapsule_GetPointer(umath._ARRAY_API, None),
                            ctypes.POINTER(ctypes.c_void_p))
        # (PYFUNCTYPE: called with the GIL held, as NumPy's C API must be)
        self.set_handler = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object)(
            table[self._SET_HANDLER])
        self.capsule = api.PyCapsule_New(ctypes.addressof(self.handler), b"mem_handler", None)

    def __call__(self, fn, args):
        old = self.set_handler(self.capsule)
        self.count = 0
        try:
            fn(*args)
        finally:
            self.set_handler(old)
        return self.count


def allocation_counter():
    """An :class:`AllocationCounter`, or None where NumPy's allocator cannot be set."""
    try:
        counter = AllocationCounter()
        if counter(np.zeros, (5,)) == 1:  # it counts what it should
            return counter
    except Exception:
        pass
    return None


def memory(call, counter):
    """``(peak bytes, NumPy allocations)`` of one untimed call ``(fn, args)``: the peak of
    memory traced by :mod:`tracemalloc` above what was held before the call, and the
    allocations :class:`AllocationCounter` counts in another call (None without one)."""
    fn, args = call
    fn(*args)  # warm: caches and lazy imports are not the call's
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, (counter(fn, args) if counter is not None else None)


MEMORY_RULE = 1.5  # no gradient may hold more than this times what its backward sweep reads
RULE_FROM = 2 ** 16  # bytes read from which the rule is checked (below, Python's own objects
# (frames, tuples, floats: a few KiB) outweigh the arrays)


def backward_reads(case, args, gradient):
    """The bytes the backward sweep reads: the tape (the values the forward sweep keeps for
    it, as :func:`s2sad.cost` predicts them) and the gradient it writes, or None."""
    try:
        tape = s2sad.cost(case.fn, *args, wrt=case.wrt).tape_bytes
    except Exception:  # (a case the cost model cannot follow: no rule to check)
        return None
    return tape + sum(np.asarray(g).nbytes for g in as_tuple(gradient))


def size(value):
    if value is None:
        return "n/a"
    for unit, scale in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} B"


def seconds(value):
    if value is None:
        return "n/a"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


# ---- one case ----------------------------------------------------------------------------------

def run_case(case, libraries, quick, rng, notes, counter=None):
    """Times and problems of one case: a dict with the cells' numbers."""
    args = case.make(rng, quick)
    result = {"case": case, "times": {}, "cells": {}, "first_call": {}}

    def note(text):
        notes.append(f"{case.name}: {text}")
        return len(notes)

    reference = None
    runners = []
    if "s2sad" in libraries:
        try:
            runner = S2sadRunner(case, args)
            reference = runner.gradients["s2sad"]()
            error = finite_difference_error(case, args, reference, rng)
            if error > 1e-5:
                raise AssertionError(f"s2sad's gradient disagrees with finite differences "
                                     f"(relative error {error:.2e})")
            runners.append(runner)
            for label, problem in runner.problems.items():
                result["cells"][label] = f"error[{note(f'{label}: {problem}')}]"
        except Exception as exc:
            result["cells"]["s2sad"] = \
                f"FAIL[{note(f's2sad: {type(exc).__name__}: {first_line(exc)}')}]"
            result["s2sad_failed"] = True
        if reference is not None:
            result["transform"] = transform_time(case, 1 if quick else 5)
            result["memory"] = {label: memory(call, counter) for label, call in
                                (("f", (case.fn, args)), ("s2sad", runner.calls["s2sad"]))}
            result["reads"] = backward_reads(case, args, reference)
    for name in ("autograd", "jax", "torch"):
        xp = libraries.get(name)
        if xp is None:
            continue
        port = ports(xp)[case.fn.__name__]
        runner_class = {"autograd": AutogradRunner, "jax": JaxRunner, "torch": TorchRunner}[name]
        try:
            runner = runner_class(case, args, port)
        except Exception as exc:
            problem = f"{name}: {type(exc).__name__}: {first_line(exc)}"
            result["cells"][name] = f"error[{note(problem)}]"
            continue
        for label, problem in runner.problems.items():
            result["cells"][label] = f"n/a[{note(f'{label}: {problem}')}]"
        for label, gradient in list(runner.gradients.items()):
            try:
                problem = (mismatch(gradient(), reference) if reference is not None else None)
                if reference is None:
                    error = finite_difference_error(case, args, gradient(), rng)
                    problem = None if error <= 1e-5 else f"finite-difference error {error:.2e}"
            except Exception as exc:
                problem = f"{type(exc).__name__}: {first_line(exc)}"
            if problem is not None:
                result["cells"][label] = f"wrong[{note(f'{label}: {problem}')}]"
                runner.calls.pop(label, None)
        result["first_call"].update(runner.first_call)
        runners.append(runner)

    calls = {"f": (case.fn, args)}
    for runner in runners:
        calls.update(runner.calls)
    slow = max(timer(call).timeit(1) for call in calls.values())
    repeats = 1 if quick else (9 if slow < 0.2 else 5)
    # other processes on a shared machine disturb whole samples: when the samples of f or of
    # s2sad's gradient spread (IQR above NOISY of the median), measure the case again (twice
    # at most) and keep the quietest attempt
    best = None
    for attempt in range(1 if quick else 3):
        times, spreads = timings(calls, repeats, budget=0.0 if quick else BUDGET)
        noise = max(spreads.get("f", 0.0), spreads.get("s2sad", 0.0))
        if best is None or noise < best[0]:
            best = (noise, times, spreads, attempt + 1)
        if noise <= NOISY:
            break
    noise, result["times"], spreads, attempts = best
    if attempts > 1 or noise > NOISY:
        noisy = ", ".join(f"{label} {value:.0%}" for label, value in spreads.items()
                          if value > NOISY)
        result["noise"] = (f"timing samples spread (interquartile range / median) "
                           f"{noisy or 'within ' + format(NOISY, '.0%')}; "
                           f"kept attempt {attempts} of {attempt + 1}")
        note(result["noise"])
    result["repeats"] = repeats
    return result


# ---- the tables --------------------------------------------------------------------------------

def ratio_cell(result, label, digits=1):
    if label in result["cells"]:
        return result["cells"][label]
    t = result["times"].get(label)
    if t is None:
        return "n/a"
    return f"{t / result['times']['f']:.{digits}f}x"


def memory_cells(result):
    """The gradient's peak memory, and the arrays f and the gradient make per call."""
    measured = result.get("memory")
    if not measured:
        return "n/a | n/a | n/a"
    counts = [measured[label][1] for label in ("f", "s2sad")]
    arrays = "n/a" if None in counts else f"{counts[0]} / {counts[1]}"
    reads, peak = result.get("reads"), measured["s2sad"][0]
    mark = "—" if not reads or reads < RULE_FROM else \
        "✓" if peak <= MEMORY_RULE * reads else "✗"
    rule = "n/a" if not reads else f"{size(reads)}, {peak / reads:.2f}x {mark}"
    return f"{size(peak)} | {rule} | {arrays}"


def target_cell(result, quick):
    target = result["case"].target
    if target is None:
        return "—"
    t = result["times"].get("s2sad")
    if t is None or quick:
        return f"≤ {target:g}x"
    return f"≤ {target:g}x {'✓' if t / result['times']['f'] <= target else '✗'}"


def print_tables(results, notes, repeats_note, quick):
    print("| case | f (NumPy) | s2sad grad | s2sad / f | floor | target | autograd / f | "
          "jax.grad / f | jit(grad) / f | jit(grad) compile | torch / f | s2sad transform | "
          "s2sad peak memory | backward reads, peak / reads | arrays made, f / grad |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    floor_notes = []
    for result in results:
        case = result["case"]
        floor_notes.append(case.floor_note)
        compile_time = result["first_call"].get("jit(grad)")
        s2sad_time = result["cells"].get("s2sad") or seconds(result["times"].get("s2sad"))
        print(f"| {case.name} | {seconds(result['times']['f'])} | {s2sad_time} | "
              f"{ratio_cell(result, 's2sad', 2)} | {case.floor:.2f}x[f{len(floor_notes)}] | "
              f"{target_cell(result, quick)} | {ratio_cell(result, 'autograd')} | "
              f"{ratio_cell(result, 'jax.grad')} | {ratio_cell(result, 'jit(grad)')} | "
              f"{seconds(compile_time) if compile_time is not None else 'n/a'} | "
              f"{ratio_cell(result, 'torch')} | {seconds(result.get('transform'))} | "
              f"{memory_cells(result)} |")
    print()
    print("Absolute times (each library's gradient, its own f, and s2sad's generated "
          "`grad_<f>` called directly, without the `s2sad.grad` wrapper):")
    print()
    labels = ["f", "s2sad", "generated", "autograd", "jax.grad", "jit(grad)", "torch",
              "jax f", "jit(f)", "torch f"]
    heads = ["f (NumPy)", "s2sad grad", "generated grad_f", "autograd", "jax.grad",
             "jit(grad)", "torch", "jax f (eager)", "jit(f)", "torch f"]
    print("| case | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(heads))
    for result in results:
        cells = []
        for label in labels:
            if label in result["cells"]:
                cells.append(result["cells"][label])
            else:
                cells.append(seconds(result["times"].get(label)))
        print(f"| {result['case'].name} | " + " | ".join(cells) + " |")
    print()
    print(f"Ratios divide each library's gradient time by the NumPy f time. {repeats_note} "
          f"Peak memory: tracemalloc's peak during one untimed call of s2sad's gradient, above "
          f"what was held before it (the returned gradient included). Backward reads: the "
          f"bytes of the tape (the values the forward sweep keeps for the backward sweep, as "
          f"s2sad.cost predicts them) and of the gradient the sweep writes; the memory rule "
          f"is peak ≤ {MEMORY_RULE}x reads (✓/✗), checked from {RULE_FROM // 1024} KiB read "
          f"(— below: the interpreter's own objects outweigh the arrays). Arrays made: NumPy's "
          f"data allocations in one untimed call (temporaries, results, 0-d results of "
          f"reductions, numbers made arrays for a ufunc; views are none), counted by a "
          f"NumPy allocator (NEP 49). "
          f"Floors (operation counts, estimates):")
    for k, text in enumerate(floor_notes, 1):
        print(f"- [f{k}] {text}")
    if notes:
        print()
        print("Notes:")
        for k, text in enumerate(notes, 1):
            print(f"- [{k}] {text}")


def summary(results):
    lines = []
    for peer in ("autograd", "jax.grad", "jit(grad)", "torch"):
        compared = [r for r in results if "s2sad" in r["times"] and peer in r["times"]]
        if not compared:
            continue
        faster = [r for r in compared if r["times"]["s2sad"] < r["times"][peer]]
        slower = [r["case"].name for r in compared if r not in faster]
        line = f"s2sad is faster than {peer} on {len(faster)} of {len(compared)} cases"
        lines.append(line + (f" (not on: {', '.join(slower)})" if slower else ""))
    met = [r for r in results if r["case"].target is not None and "s2sad" in r["times"]]
    if met:
        ok = [r for r in met if r["times"]["s2sad"] / r["times"]["f"] <= r["case"].target]
        missed = [f"{r['case'].name} {r['times']['s2sad'] / r['times']['f']:.2f}x > "
                  f"{r['case'].target:g}x" for r in met if r not in ok]
        lines.append(f"issue 6 targets met: {len(ok)} of {len(met)}"
                     + (f" (missed: {'; '.join(missed)})" if missed else ""))
    return lines


def steady_malloc():
    """Keep freed memory in the process (glibc ``mallopt``); a note on what was done.

    By default glibc serves large blocks with ``mmap`` and returns freed memory
    to the system, so a fresh temporary array of a few hundred KiB pays a page
    fault per 4 KiB page on every call; in a virtual machine these dominate
    medium-sized array code (here ``1 - H*H`` on 256x256 costs 200 µs instead of
    25 µs) and vary with the allocator's history. This raises the mmap and trim
    thresholds (to 32 MiB and 1 GiB), as ``MALLOC_MMAP_THRESHOLD_`` and
    ``MALLOC_TRIM_THRESHOLD_`` would.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        if libc.mallopt(M_TRIM_THRESHOLD, 2 ** 30) and libc.mallopt(M_MMAP_THRESHOLD, 2 ** 25):
            return "glibc mallopt: mmap threshold 32 MiB, trim threshold 1 GiB (--steady-malloc)"
    except (OSError, AttributeError):
        pass
    return "--steady-malloc asked, but glibc's mallopt is not available: allocator as-is"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one sample (a smoke test)")
    parser.add_argument("--only", default=",".join(LIBRARIES),
                        help="comma-separated libraries to run (default: all installed)")
    parser.add_argument("--cases", default="",
                        help="run only the cases whose name contains one of these texts "
                             "(comma-separated)")
    parser.add_argument("--steady-malloc", action="store_true",
                        help="keep freed memory in the process (glibc mallopt): no page faults "
                             "for fresh temporaries, steadier times")
    args = parser.parse_args(argv)
    allocator = steady_malloc() if args.steady_malloc else "allocator as-is"
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(LIBRARIES))
    if unknown:
        parser.error(f"unknown libraries {unknown}; choose among {', '.join(LIBRARIES)}")
    libraries = {"s2sad": np} if "s2sad" in wanted else {}
    for name in LIBRARIES[1:]:
        libraries[name] = load_library(name) if name in wanted else None
    wanted = [text.strip().lower() for text in args.cases.split(",")]
    selected = [case for case in cases.CASES if any(t in case.name.lower() for t in wanted)]
    if not selected:
        parser.error(f"no case name contains {args.cases!r}")

    rng = np.random.default_rng(0)
    notes, results = [], []
    counter = allocation_counter()
    for case in selected:
        results.append(run_case(case, libraries, args.quick, rng, notes, counter))

    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    environment = ", ".join(f"{name}={os.environ.get(name, '(unset)')}" for name in
                            ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                             "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    installed = ", ".join(f"{name} {version(name) if libraries.get(name) is not None else 'n/a'}"
                          for name in LIBRARIES[1:])
    print(f"# s2sad {s2sad.__version__} against autograd, JAX and PyTorch "
          f"({'quick smoke-test sizes' if args.quick else 'issue 6 sizes'})")
    print()
    print(f"Python {platform.python_version()}, NumPy {np.__version__} "
          f"({blas.get('name', '?')} {blas.get('version', '')}), {installed}; "
          f"{os.cpu_count()} CPUs, {platform.machine()}; {environment}; {allocator}. "
          f"float64 everywhere.")
    print()
    counts = sorted({r["repeats"] for r in results})
    repeats_note = ("One sample of one call each (--quick: a smoke test, not a measurement)."
                    if args.quick else
                    f"Times are medians of {' or '.join(map(str, counts))} interleaved timeit "
                    f"samples of ~{BUDGET * 1e3:.0f} ms each.")
    print_tables(results, notes, repeats_note, args.quick)
    lines = [] if args.quick else summary(results)
    if lines:
        print()
        for line in lines:
            print(f"- {line}")
    failed = [r["case"].name for r in results if r.get("s2sad_failed")]
    if failed:
        print(f"\ns2sad failed on: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
