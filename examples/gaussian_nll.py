"""The negative log-likelihood of data x under N(mu, sigma²), as a computational graph.

For one observation,

    -log p(x | mu, sigma) = ½ ((x - mu) / sigma)² + log sigma + ½ log 2π,

written below one primitive per line (t0 ... t5, as on the lecture slide) and
summed over the data vector. The gradient has a closed form,

    dL/dmu    = Σ (mu - x) / sigma²
    dL/dsigma = n / sigma - Σ (x - mu)² / sigma³,

which vanishes at the maximum-likelihood estimate mu = mean(x),
sigma = std(x). The example checks s2sad's gradient against the closed form
at a point away from the optimum, then at the optimum, where it is ~0.
"""

import numpy as np

import s2sad


def nll(mu, sigma, x):
    t0 = x - mu
    t1 = t0 / sigma
    t2 = t1 ** 2
    t3 = 0.5 * t2
    t4 = np.log(sigma)
    t5 = t3 + t4 + 0.5 * np.log(2 * np.pi)
    return np.sum(t5)


def exact_gradient(mu, sigma, x):
    r = x - mu
    return -np.sum(r) / sigma ** 2, len(x) / sigma - np.sum(r ** 2) / sigma ** 3


if __name__ == "__main__":
    x = np.random.default_rng(0).normal(1.5, 0.7, size=200)
    gradient = s2sad.grad(nll, wrt=("mu", "sigma"))
    for mu, sigma in [(1.0, 2.0), (np.mean(x), np.std(x))]:
        g = gradient(mu, sigma, x)
        e = exact_gradient(mu, sigma, x)
        print(f"mu = {mu:.4f}, sigma = {sigma:.4f}: NLL = {nll(mu, sigma, x):.6f}")
        print(f"  s2sad: dL/dmu = {g[0]:+.10f}   dL/dsigma = {g[1]:+.10f}")
        print(f"  exact: dL/dmu = {e[0]:+.10f}   dL/dsigma = {e[1]:+.10f}")
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)
