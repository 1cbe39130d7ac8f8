"""Logistic regression by gradient descent on a Dask array larger than the workers' memory.

The loss is plain NumPy code. s2sad's gradient of it is plain NumPy code too, and NumPy
hands every call in it to Dask (``__array_function__``, ``__array_ufunc__``), so
``s2sad.value_and_grad(loss)(w, X, y)`` with chunked Dask arrays ``X`` and ``y`` builds a
lazy graph that the workers evaluate chunk by chunk; ``w`` (a NumPy array) gets a Dask
gradient, computed at the end of each epoch.

The data (``--rows`` rows, 10^8 by default: 8 GB of float64 features at 10 features)
is generated chunk by chunk from a seed, on the workers, and never materialised whole:
each epoch generates it again. The cluster has 2 worker processes with a memory limit
set low on purpose (``--memory-limit``, 1 GiB each by default), so the data is several
times what the workers may hold. Each epoch prints the loss and the rows per second.

Then one epoch's gradient is computed shard by shard with ``client.map``, in the two ways
a generated derivative can be shipped to workers: the generated function ``grad_loss``
itself, pickled (cloudpickle sends its code and the helpers it calls, not its source),
and the generated module's source text (``s2sad.source(loss)``), run on the worker with
``exec``. Either needs NumPy only on the worker, not s2sad. Both agree with the Dask
gradient.

    pip install -e '.[dask]'
    python examples/dask_logistic.py                       # 10^8 rows, 3 epochs
    python examples/dask_logistic.py --rows 1000000 --epochs 2
"""

import argparse
import logging
import time

import numpy as np

import s2sad

FEATURES = 10


def loss(w, X, y):
    """Mean logistic loss of labels y in {0, 1} for scores X @ w."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def data(rows, chunk, seed):
    """``X`` (rows x FEATURES) and labels ``y`` from a fixed linear model, lazily, per chunk."""
    import dask.array as da  # an optional extra: s2sad itself never imports Dask

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    w_true = np.linspace(-1.0, 1.0, FEATURES)
    y = (X @ w_true + rng.standard_normal(rows, chunks=chunk) > 0).astype(float)
    return X, y


def shard(rows, chunk, seed, k):
    """Shard ``k`` of the data as NumPy arrays (the ``k``-th chunk), made on a worker."""
    X, y = data(rows, chunk, seed)
    return X.blocks[k].compute(scheduler="synchronous"), y.blocks[k].compute(
        scheduler="synchronous")


def shard_gradient_from_source(source, w, rows, chunk, seed, k):
    """The gradient on shard ``k`` by the generated module's own code, shipped as text."""
    namespace = {}
    exec(compile(source, "<s2sad grad of loss>", "exec"), namespace)
    X, y = shard(rows, chunk, seed, k)
    return namespace["grad_loss"](w, X, y) * len(y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10 ** 8)
    parser.add_argument("--chunk", type=int, default=10 ** 6, help="rows per chunk")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1.0, help="step size")
    parser.add_argument("--memory-limit", default="1GiB", help="per worker")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask is not installed: pip install -e '.[dask]'")
        return 0

    rows, chunk = args.rows, min(args.chunk, args.rows)
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=args.memory_limit,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        X, y = data(rows, chunk, args.seed)
        print(f"{rows:,} rows x {FEATURES} features ({X.nbytes / 2 ** 30:.1f} GiB of features, "
              f"generated chunk by chunk, {X.numblocks[0]} chunk"
              f"{'s' if X.numblocks[0] != 1 else ''}); 2 workers, "
              f"{args.memory_limit} each")
        w = np.zeros(FEATURES)
        value_and_grad = s2sad.value_and_grad(loss)
        for epoch in range(args.epochs):
            start = time.perf_counter()
            value, gradient = dask.compute(*value_and_grad(w, X, y))
            seconds = time.perf_counter() - start
            print(f"epoch {epoch}: loss {float(value):.6f}  ({rows / seconds:,.0f} rows/s)")
            w = w - args.rate * gradient

        # one gradient shard by shard: the s2sad function pickled, and the module's source
        blocks = range(X.numblocks[0])
        namespace = {}
        exec(compile(s2sad.source(loss), "<s2sad grad of loss>", "exec"), namespace)
        grad = namespace["grad_loss"]  # a plain function: pickled with its code
        shards = client.map(shard, [rows] * len(blocks), [chunk] * len(blocks),
                            [args.seed] * len(blocks), blocks)
        pickled = client.submit(lambda *parts: sum(parts), *client.map(
            lambda s, w: grad(w, *s) * len(s[1]), shards, w=w))
        source = client.submit(lambda *parts: sum(parts), *client.map(
            shard_gradient_from_source, [s2sad.source(loss)] * len(blocks),
            [w] * len(blocks), [rows] * len(blocks), [chunk] * len(blocks),
            [args.seed] * len(blocks), blocks))
        whole = value_and_grad(w, X, y)[1].compute()
        for label, future in (("pickled grad_loss", pickled), ("shipped module source", source)):
            shards_total = future.result() / rows
            print(f"client.map, {label}: max difference from the Dask gradient "
                  f"{np.max(np.abs(shards_total - whole)):.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
