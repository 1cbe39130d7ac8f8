"""Benchmark: rows per second of the logistic-regression gradient, NumPy in memory against
Dask on a LocalCluster of 2 worker processes (a script, not a test; needs the ``dask`` extra).

The loss and the data are those of ``examples/dask_logistic.py`` (10 features). For each
size that fits in memory, one markdown row: the rows per second of
``s2sad.value_and_grad(loss)`` on NumPy arrays (the data computed once, in this process)
and on the same data as Dask arrays persisted on the cluster (chunks of ``--chunk``
rows), each the best of ``--repeats`` runs, and the gradients' largest difference. After
the largest size, the peak resident memory of each worker process (``ru_maxrss``).

    python benchmarks/dask_rows.py            # 10^5, 10^6, 10^7 rows
    python benchmarks/dask_rows.py --quick    # 10^4, 10^5 rows
"""

import argparse
import os
import platform
import resource
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import dask_logistic as example  # noqa: E402

import s2sad  # noqa: E402


def best_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import dask
    from dask.distributed import Client, LocalCluster

    warnings.simplefilter("error", FutureWarning)  # a function Dask lacks would compute
    sizes = (10 ** 4, 10 ** 5) if args.quick else (10 ** 5, 10 ** 6, 10 ** 7)
    value_and_grad = s2sad.value_and_grad(example.loss)
    w = np.linspace(-0.3, 0.3, example.FEATURES)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        print(f"# Logistic-regression gradient: NumPy in memory against Dask on 2 worker "
              f"processes ({example.FEATURES} features)")
        print(f"Python {platform.python_version()}, NumPy {np.__version__}, Dask "
              f"{dask.__version__}; {os.cpu_count()} CPUs; best of {args.repeats} runs.")
        print()
        print("| rows | chunks | NumPy rows/s | Dask rows/s | Dask / NumPy | max difference |")
        print("|---:|---:|---:|---:|---:|---:|")
        for rows in sizes:
            chunk = min(args.chunk, rows)
            X, y = example.data(rows, chunk, seed=1)
            X, y = client.persist([X, y])
            Xn, yn = client.compute([X, y], sync=True)
            numpy_result = value_and_grad(w, Xn, yn)
            numpy_s = best_seconds(lambda: value_and_grad(w, Xn, yn), args.repeats)
            dask_result = dask.compute(*value_and_grad(w, X, y))
            dask_s = best_seconds(lambda: dask.compute(*value_and_grad(w, X, y)), args.repeats)
            difference = np.max(np.abs(dask_result[1] - numpy_result[1]))
            print(f"| {rows:,} | {X.numblocks[0]} | {rows / numpy_s:,.0f} | {rows / dask_s:,.0f} "
                  f"| {numpy_s / dask_s:.2f} | {difference:.1e} |")
            del X, y
        peaks = client.run(peak_rss_mib)
        print()
        print(f"Peak resident memory per worker after {sizes[-1]:,} rows: " +
              ", ".join(f"{mib:.0f} MiB" for mib in peaks.values()) +
              f" (the persisted data: {sizes[-1] * (example.FEATURES + 1) * 8 / 2 ** 20:.0f} MiB "
              f"over both workers).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
