"""Benchmark: the gradient of a tanh RNN unrolled over T steps (a script, not a timed test).

    h_0 = h0,   h_t = tanh(W h_{t-1})  (t = 1..T),   loss = sum(h_T)

s2sad differentiates the loop: the forward sweep pushes h_{t-1} on a tape
each step, the backward sweep pops it and accumulates W_bar. For each T this
prints a markdown table row: the time of f, the time of the gradient (with
respect to W and h0), their ratio, the peak memory of one gradient call
(tracemalloc) and the memory slope per step between consecutive rows, next to
the size of one state vector (width x 8 bytes): the tape should cost about one
state vector per step.

Times are medians over repeats; f and the gradient are timed in the same run,
interleaved, on the same inputs. Before timing, the gradient is checked once
against central finite differences along a random direction.

A second table compares loop checkpointing (``checkpoint=``) against T = 10 to
100,000: for each T a row per variant (none, "sqrt", "binomial" with its default
snapshots, and ("binomial", 10)), each checked against the plain gradient first.
Columns: the gradient's time, over f and over the gradient without checkpointing
(target: at most 2x), the most states the tape and the snapshot lists held at once
(counted exactly, by a profile hook on their ``append`` and ``pop`` calls; each entry
of either is one state vector here) against 2 sqrt(T) (the target for "sqrt"), and
the peak memory of the call (tracemalloc, above what was live before it: the stored
states, their array headers, and what does not grow with T).

    python benchmarks/rnn.py                    # width 64, T = 10 .. 10,000; checkpointing to 100,000
    python benchmarks/rnn.py --max-steps 10000  # the checkpointing table to T = 10,000 only
    python benchmarks/rnn.py --quick            # small sizes, a smoke test (tests/test_benchmarks.py)

Set OMP_NUM_THREADS=1 (or OPENBLAS_NUM_THREADS=1) for steadier timings of
these small matrix-vector products.
"""

import argparse
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import s2sad


def rnn_loss(W, h0, T):
    h = h0
    for t in range(T):
        h = np.tanh(W @ h)
    return np.sum(h)


def check_gradient(grad, width, T, seed=1):
    """Compare the gradient with a central difference along a random direction; return the error."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    h0 = rng.standard_normal(width)
    dW, dh = rng.standard_normal(W.shape), rng.standard_normal(h0.shape)
    W_bar, h0_bar = grad(W, h0, T)
    analytic = np.sum(W_bar * dW) + np.sum(h0_bar * dh)
    eps = 1e-6
    numeric = (rnn_loss(W + eps * dW, h0 + eps * dh, T)
               - rnn_loss(W - eps * dW, h0 - eps * dh, T)) / (2 * eps)
    error = abs(analytic - numeric) / max(1.0, abs(numeric))
    if error > 1e-6:
        raise SystemExit(f"gradient check failed at T={T}: s2sad {analytic!r}, "
                         f"finite differences {numeric!r}")
    return error


def timings(calls, repeats, budget=0.02):
    """Median seconds per call of each function in ``calls``, measured interleaved.

    Each measurement runs a call enough times to last about ``budget`` seconds.
    """
    numbers = {}
    for name, call in calls.items():
        start = time.perf_counter()
        call()
        once = max(time.perf_counter() - start, 1e-7)
        numbers[name] = max(1, int(budget / once))
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            n = numbers[name]
            start = time.perf_counter()
            for _ in range(n):
                call()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_memory(call):
    """Peak bytes allocated (above what was live before) during one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - base


def seconds(value):
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1.0:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def size(value):
    if value < 1024:
        return f"{value:.0f} B"
    if value < 1024 ** 2:
        return f"{value / 1024:.1f} KiB"
    return f"{value / 1024 ** 2:.2f} MiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--max-steps", type=int, default=100_000,
                        help="the checkpointing table's largest T (default 100,000)")
    args = parser.parse_args(argv)
    width = 8 if args.quick else 64
    steps = (10, 100) if args.quick else (10, 100, 1000, 10000)
    repeats = 3 if args.quick else 7

    grad = s2sad.grad(rnn_loss, wrt=("W", "h0"))
    error = check_gradient(grad, width, T=20)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    h0 = rng.standard_normal(width)
    state = width * h0.itemsize

    print(f"# tanh RNN h = tanh(W @ h), width {width}, loss = sum(h_T); gradient w.r.t. W and h0")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, s2sad "
          f"{s2sad.__version__}; gradient checked against finite differences at T = 20 "
          f"(relative error {error:.1e}); times are medians of {repeats} runs.")
    print()
    print("| T | f | gradient | gradient / f | peak memory of gradient | "
          "memory per step | state vector |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    previous = None
    ratios = {}
    for T in steps:
        times = timings({"f": lambda: rnn_loss(W, h0, T), "grad": lambda: grad(W, h0, T)},
                        repeats, budget=0.002 if args.quick else 0.02)
        peak = peak_memory(lambda: grad(W, h0, T))
        slope = "" if previous is None else \
            f"{(peak - previous[1]) / (T - previous[0]):.0f} B"
        previous = (T, peak)
        ratios[T] = times["grad"] / times["f"]
        print(f"| {T:,} | {seconds(times['f'])} | {seconds(times['grad'])} | "
              f"{ratios[T]:.1f}x | {size(peak)} | {slope} | {state} B |")
    print()
    if 1000 in ratios:
        print(f"Target (issue 3): gradient <= 3x f at T = 1,000; measured {ratios[1000]:.1f}x.")
    header = sys.getsizeof(h0) - h0.nbytes + 8  # the array object plus its slot on the tape
    print(f"Memory per step is the growth of the peak between consecutive rows, divided by the "
          f"growth of T; a state vector on the tape also costs its NumPy array header and list "
          f"slot ({header} B).")
    print()
    checkpoint_table(W, h0, (10, 100) if args.quick else tuple(
        T for T in (10, 100, 1000, 10_000, 100_000) if T <= args.max_steps), args.quick)
    return 0


VARIANTS = {"none": None, "sqrt": "sqrt", "binomial": "binomial",
            "binomial, 10 snapshots": ("binomial", 10)}


def checkpoint_table(W, h0, steps, quick=False):
    """Print the checkpointing table (see the module docstring)."""
    grads = {label: s2sad.grad(rnn_loss, wrt=("W", "h0"), checkpoint=how)
             for label, how in VARIANTS.items()}
    print(f"# Loop checkpointing: the same RNN, width {len(h0)}, T = {steps[0]:,} to "
          f"{steps[-1]:,}")
    print()
    print("| T | checkpoint | gradient | gradient / f | / no checkpoint | states stored | "
          "2√T | peak memory |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for T in steps:
        reference = grads["none"](W, h0, T)
        for label, grad in grads.items():
            for a, b in zip(grad(W, h0, T), reference):
                if not np.allclose(a, b, rtol=1e-12, atol=1e-14):
                    raise SystemExit(f"checkpoint={label} gives another gradient at T={T}")
        repeats = 3 if quick or T >= 10_000 else 5
        times = timings({"f": lambda: rnn_loss(W, h0, T),
                         **{label: (lambda g=g: g(W, h0, T)) for label, g in grads.items()}},
                        repeats, budget=0.002 if quick else 0.02)
        for label, grad in grads.items():
            stored = stored_states(lambda: grad(W, h0, T))
            peak = peak_memory(lambda: grad(W, h0, T))
            print(f"| {T:,} | {label} | {seconds(times[label])} | "
                  f"{times[label] / times['f']:.1f}x | {times[label] / times['none']:.2f}x | "
                  f"{stored:,} | {2 * T ** 0.5:,.0f} | {size(peak)} |")
    print()
    print("States stored: the most entries the tape and the snapshot lists held at once; "
          "without checkpointing the tape holds all T states, with \"sqrt\" about 2√T, with "
          "\"binomial\" the snapshots (the default: the fewest with which each trip is advanced "
          "at most twice, about √(2T)) and one trip's tape.")


def stored_states(call):
    """The most entries the tape and the snapshot lists of a generated gradient held at once
    during ``call()``, seen by a profile hook at each ``append`` and ``pop`` of a list."""
    peak = 0

    def hook(frame, event, arg):
        nonlocal peak
        if event == "c_call" and getattr(arg, "__name__", "") in ("append", "pop") and \
                isinstance(getattr(arg, "__self__", None), list):
            held = sum(len(v) for k, v in frame.f_locals.items()
                       if (k == "tape" or k.startswith("snapshots")) and isinstance(v, list))
            peak = max(peak, held)

    sys.setprofile(hook)
    try:
        call()
    finally:
        sys.setprofile(None)
    return peak


if __name__ == "__main__":
    sys.exit(main())
