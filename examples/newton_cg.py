"""Newton's method with conjugate gradients on a logistic-regression loss, Hessian-free.

Newton's step solves H p = -g. Conjugate gradients solves it touching H only
through products H v, and ``s2sad.hvp`` computes H v without forming H: it
applies forward mode to the generated gradient code (forward over reverse),
so each product costs a small multiple of one gradient, whatever the number
of parameters. A backtracking line search keeps every step a descent step.

    python examples/newton_cg.py
"""

import numpy as np

import s2sad

LAMBDA = 1e-3  # a little L2 regularisation keeps the minimum finite on separable data


def loss(w, X, y):
    """Mean logistic loss of labels y in {0, 1} for scores X @ w, plus L2 regularisation."""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * LAMBDA * np.sum(w ** 2)


def conjugate_gradients(hvp, b, tol=1e-10, max_iter=50):
    """Solve H p = b for symmetric positive definite H given as p -> H p."""
    p = np.zeros_like(b)
    r = b.copy()
    d = r.copy()
    rr = r @ r
    for _ in range(max_iter):
        hd = hvp(d)
        alpha = rr / (d @ hd)
        p += alpha * d
        r -= alpha * hd
        rr_new = r @ r
        if np.sqrt(rr_new) < tol * np.linalg.norm(b):
            break
        d = r + (rr_new / rr) * d
        rr = rr_new
    return p


def newton_cg(w, X, y, iterations=10):
    value_and_grad = s2sad.value_and_grad(loss)
    hvp = s2sad.hvp(loss)
    for k in range(iterations):
        value, g = value_and_grad(w, X, y)
        print(f"iteration {k:2d}  loss {value:.10f}  |gradient| {np.linalg.norm(g):.2e}")
        if np.linalg.norm(g) < 1e-10:
            break
        step = conjugate_gradients(lambda v: hvp(w, X, y, v), -g)
        t = 1.0
        while loss(w + t * step, X, y) > value + 1e-4 * t * (g @ step):
            t /= 2
        w = w + t * step
    return w


def make_data(n=400, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) * 3
    y = (X @ w_true + 0.1 * rng.standard_normal(n) > 0).astype(float)
    return X, y


if __name__ == "__main__":
    X, y = make_data()
    w = newton_cg(np.zeros(X.shape[1]), X, y)
    g = s2sad.grad(loss)(w, X, y)
    assert np.linalg.norm(g) < 1e-8, np.linalg.norm(g)
    # the Hessian-vector products agree with the Hessian, formed here only to check
    v = np.random.default_rng(1).standard_normal(w.shape)
    H = s2sad.hessian(loss)(w, X, y)
    np.testing.assert_allclose(s2sad.hvp(loss)(w, X, y, v), H @ v, rtol=1e-10)
    print(f"training accuracy {np.mean((X @ w > 0) == y):.3f}")
