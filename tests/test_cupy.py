"""Generated derivatives on CuPy arrays (a GPU): skipped unless CuPy and a GPU are present.

The strict duck array of ``tests/test_duck_arrays.py`` checks the same genericity without a
GPU; here a few functions (element-wise, broadcasting, reductions, a matrix loop, indexing
with repeats) are differentiated on ``cupy`` arrays in reverse and forward mode and compared
with NumPy. Results must stay on the GPU (CuPy arrays).
"""

import numpy as np
import pytest

import s2sad

cupy = pytest.importorskip("cupy")
try:
    if cupy.cuda.runtime.getDeviceCount() < 1:
        pytest.skip("no GPU", allow_module_level=True)
except Exception as exc:  # noqa: BLE001 - no CUDA driver: no GPU
    pytest.skip(f"no GPU ({exc})", allow_module_level=True)

IDX = np.array([0, 2, 0])


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def recurrent(W, h):
    for t in range(5):
        h = np.tanh(W @ h) + 0.1 * h
    return np.sum(h ** 2)


def gather(x, b):
    return np.sum(np.sin(x[IDX]) * b) + np.max(x, axis=0).sum()


CASES = [(logistic, ((5,), (40, 5), (40,))), (recurrent, ((4, 4), (4,))),
         (gather, ((3, 4), (4,)))]


@pytest.mark.parametrize("fn, shapes", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_and_tangents_on_the_gpu_equal_numpys(fn, shapes):
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) * 0.5 for s in shapes]
    gpu = [cupy.asarray(a) for a in args]
    wrt = tuple(range(len(args)))
    for expected, got in zip(s2sad.grad(fn, wrt)(*args), s2sad.grad(fn, wrt)(*gpu)):
        assert isinstance(got, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(got), expected, rtol=1e-10, atol=1e-12)
    dirs = [rng.standard_normal(s) for s in shapes]
    expected = s2sad.jvp(fn, wrt)(*args, *dirs)[1]
    got = s2sad.jvp(fn, wrt)(*gpu, *[cupy.asarray(d) for d in dirs])[1]
    np.testing.assert_allclose(cupy.asnumpy(got), expected, rtol=1e-10, atol=1e-12)
