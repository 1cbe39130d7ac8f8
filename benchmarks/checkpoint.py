"""Benchmark: loop checkpointing on the tanh RNN of benchmarks/rnn.py (a script, not a test).

    h_0 = h0,   h_t = tanh(W h_{t-1})  (t = 1..T),   loss = sum(h_T)

For each T, one markdown row per variant of the gradient (with respect to W and h0):
without checkpointing (a tape of T states), ``checkpoint="sqrt"`` (about sqrt(T)
snapshots plus one segment of about sqrt(T) states on the tape) and ``checkpoint=10``
(10 snapshots, segments of T/10 trips). Columns: the gradient's time over f's time
(medians, interleaved, as benchmarks/rnn.py measures them), the peak memory of one
gradient call above what was live before it (tracemalloc, measured in a separate call,
since tracing slows the call down), that peak in state vectors (width x 8 bytes), and
the growth of the peak over the same gradient at T = 1, in states: what the tape or the
snapshots cost (the target: at most 2 sqrt(T) states with "sqrt").
Each variant is checked against the plain gradient before it is timed.

    python benchmarks/checkpoint.py            # width 64, T = 100, 1,000, 10,000
    python benchmarks/checkpoint.py --quick    # small sizes, a smoke test
"""

import argparse
import math
import os
import platform
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rnn import peak_memory, rnn_loss, seconds, size, timings  # noqa: E402

import s2sad  # noqa: E402

VARIANTS = {"none": None, "sqrt": "sqrt", "10 snapshots": 10}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args(argv)
    width = 8 if args.quick else 64
    steps = (16, 100) if args.quick else (100, 1000, 10000)
    repeats = 3 if args.quick else 7
    rng = np.random.default_rng(0)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    h0 = rng.standard_normal(width)
    state = h0.nbytes
    grads = {label: s2sad.grad(rnn_loss, wrt=("W", "h0"), checkpoint=how)
             for label, how in VARIANTS.items()}

    print(f"# Loop checkpointing: tanh RNN, width {width}, gradient w.r.t. W and h0")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, s2sad "
          f"{s2sad.__version__}; times are medians of {repeats} interleaved runs; peak memory "
          f"by tracemalloc.")
    print()
    print("| T | checkpoint | f | gradient | gradient / f | peak memory | in states | "
          "growth over T = 1, in states | 2√T |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for grad in grads.values():
        grad(W, h0, 1)  # compiled before anything is measured
    base = {label: peak_memory(lambda: grad(W, h0, 1)) for label, grad in grads.items()}
    for T in steps:
        reference = grads["none"](W, h0, T)
        for label, grad in grads.items():
            for a, b in zip(grad(W, h0, T), reference):
                if not np.allclose(a, b, rtol=1e-12, atol=1e-14):
                    raise SystemExit(f"checkpoint={label} gives another gradient at T={T}")
        times = timings({"f": lambda: rnn_loss(W, h0, T),
                         **{label: (lambda g=g: g(W, h0, T)) for label, g in grads.items()}},
                        repeats, budget=0.002 if args.quick else 0.02)
        for label, grad in grads.items():
            peak = peak_memory(lambda: grad(W, h0, T))
            print(f"| {T:,} | {label} | {seconds(times['f'])} | {seconds(times[label])} | "
                  f"{times[label] / times['f']:.1f}x | {size(peak)} | {peak / state:.0f} | "
                  f"{(peak - base[label]) / state:.0f} | {2 * math.sqrt(T):.0f} |")
    print()
    print("Peak memory counts everything the gradient call allocates: besides the tape or the "
          "snapshots, W_bar and the deferred outer products of W_bar (up to 64 pairs of "
          "states, stacked once), which do not grow with T.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
