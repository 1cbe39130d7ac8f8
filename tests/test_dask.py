"""Generated gradients on Dask arrays, across the worker processes of a LocalCluster.

Skipped unless the optional extra is installed (``pip install -e '.[dask]'``). A module
fixture starts a ``dask.distributed`` LocalCluster with 2 worker processes and closes it.
The data is made chunk by chunk from a seed (``examples/dask_logistic.py``'s ``data``) and
never materialised whole by the gradient; the tests compare with NumPy on the same data,
which fits in memory here. Per-shard gradients go to the workers with ``client.map`` as
the pickled generated function and as the generated module's source text. A NumPy
function Dask does not implement would compute its argument whole, with a FutureWarning:
the tests make that warning an error.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import s2sad
from tests.programs.examples import ROOT, example

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

logistic = example("dask_logistic.py", "s2sad_example_dask_logistic")

ROWS, CHUNK, SEED = 20_000, 5_000, 3


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def dataset():
    X, y = logistic.data(ROWS, CHUNK, SEED)
    return X, y, X.compute(), y.compute()


@pytest.mark.filterwarnings("error::FutureWarning")  # a function Dask lacks: it would compute
def test_the_gradient_of_dask_arrays_is_lazy_and_equals_numpys(client, dataset):
    X, y, Xn, yn = dataset
    w = np.linspace(-0.5, 0.5, logistic.FEATURES)
    value, gradient = s2sad.value_and_grad(logistic.loss)(w, X, y)
    assert isinstance(gradient, da.Array) and isinstance(value, da.Array)  # nothing computed
    assert gradient.chunks == ((logistic.FEATURES,),)
    value, gradient = client.compute([value, gradient], sync=True)
    expected_value, expected = s2sad.value_and_grad(logistic.loss)(w, Xn, yn)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-10, atol=1e-14)
    # and NumPy's gradient itself against finite differences
    numeric = [(logistic.loss(w + 1e-6 * e, Xn, yn) - logistic.loss(w - 1e-6 * e, Xn, yn)) / 2e-6
               for e in np.eye(logistic.FEATURES)]
    np.testing.assert_allclose(expected, numeric, rtol=1e-5, atol=1e-9)


@pytest.mark.filterwarnings("error::FutureWarning")
def test_per_shard_gradients_with_client_map(client, dataset):
    X, y, Xn, yn = dataset
    w = np.full(logistic.FEATURES, 0.1)
    expected = s2sad.grad(logistic.loss)(w, Xn, yn)
    blocks = list(range(X.numblocks[0]))
    source = s2sad.source(logistic.loss)
    namespace = {}
    exec(compile(source, "<s2sad grad of loss>", "exec"), namespace)
    grad_loss = namespace["grad_loss"]
    shards = client.map(logistic.shard, [ROWS] * len(blocks), [CHUNK] * len(blocks),
                        [SEED] * len(blocks), blocks)
    pickled = client.gather(client.map(lambda s: grad_loss(w, *s) * len(s[1]), shards))
    shipped = client.gather(client.map(logistic.shard_gradient_from_source,
                                       [source] * len(blocks), [w] * len(blocks),
                                       [ROWS] * len(blocks), [CHUNK] * len(blocks),
                                       [SEED] * len(blocks), blocks))
    np.testing.assert_allclose(sum(pickled) / ROWS, expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sum(shipped) / ROWS, expected, rtol=1e-10, atol=1e-14)


def test_the_example_trains_from_the_readme_command():
    done = subprocess.run([sys.executable, "-W", "ignore", os.path.join("examples",
                                                                        "dask_logistic.py"),
                           "--rows", "100000", "--chunk", "25000", "--epochs", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    losses = [float(line.split("loss ")[1].split()[0]) for line in done.stdout.splitlines()
              if line.startswith("epoch")]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2], done.stdout
    assert done.stdout.count("max difference from the Dask gradient") == 2
    for line in done.stdout.splitlines():
        if "max difference" in line:
            assert float(line.rsplit(" ", 1)[1]) < 1e-12, line
