"""The functions of the comparison benchmark (issue 6), written once in plain NumPy.

s2sad reads the source of these functions, so they live in a module of their
own; ``benchmarks/compare.py`` times them and ports each one to autograd,
JAX and PyTorch. Each :class:`Case` says which parameters are differentiated
(``wrt``), builds its inputs (``make(quick)``: full or smoke-test sizes), and
carries the floor of the ratio gradient time / f time by operation count, with
its justification (printed as a footnote of the table).

The floor counts what a hand-written reverse sweep must do on top of f: for
matmul-bound code the GEMMs (each forward product costs one more per
differentiated operand), for element-wise code the passes over the data, for
scalar and small-array code the operations (each costs about one interpreter
or NumPy-call overhead). It is an estimate of the limit, not a measurement.
"""

from dataclasses import dataclass, field

import numpy as np


# ---- the functions, in plain NumPy -------------------------------------------------------

def lecture(x, y):
    a = y * np.log(x)
    return a + np.sqrt(a)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def neuron(w0, x0, w1, x1, w2):
    return sigmoid(w0 * x0 + w1 * x1 + w2)


def gaussian_nll(mu, sigma, x):
    t0 = x - mu
    t1 = t0 / sigma
    t2 = t1 ** 2
    t3 = 0.5 * t2
    t4 = np.log(sigma)
    t5 = t3 + t4 + 0.5 * np.log(2 * np.pi)
    return np.sum(t5)


def mlp_loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return np.mean((P - Y) ** 2)


def resnet_loss(U, V, X, Y):
    x = X
    for U_k, V_k in zip(U, V):
        x = x + U_k @ sigmoid(V_k @ x)
    return np.mean((x - Y) ** 2)


def rnn_loss(W, h0, T):
    h = h0
    for t in range(T):
        h = np.tanh(W @ h)
    return np.sum(h)


def newton_sqrt(a):
    y = 0.5 * (1.0 + a)
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


def piecewise_loss(p, y):
    r = p - y
    a = np.abs(r)
    huber = np.where(a < 1.0, 0.5 * r * r, a - 0.5)
    hinge = np.maximum(0.0, 1.0 - y * p)
    return np.mean(huber + hinge)


def layer_norm(X, gamma, beta):
    mu = np.mean(X, axis=1, keepdims=True)
    xc = X - mu
    var = np.mean(xc * xc, axis=1, keepdims=True)
    xhat = xc / np.sqrt(var + 1e-5)
    return np.sum(np.tanh(gamma * xhat + beta))


def softmax_cross_entropy(W, X, Y):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def gated_loss(Wz, Uz, Wh, Uh, xs, h0):
    h = h0
    for x in xs:
        z = sigmoid(Wz @ x + Uz @ h)
        c = np.tanh(Wh @ x + Uh @ h)
        h = (1.0 - z) * h + z * c
    return np.sum(h * h)


def neuron_reads(w, x):
    return 1.0 / (1.0 + np.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def rnn_dot_loss(W, h0, T):
    h = h0
    for t in range(T):
        h = np.tanh(np.dot(W, h))
    return np.sum(h)


# ---- the cases ---------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    fn: object
    wrt: tuple  # parameter positions
    make: object  # make(rng, quick) -> tuple of arguments
    floor: float
    floor_note: str
    target: float = None  # issue 6's target for the s2sad ratio, if any
    notes: list = field(default_factory=list)


def _lecture(rng, quick):
    return (2.0, 3.0)


def _neuron(rng, quick):
    return (2.0, -1.0, -3.0, -2.0, -3.0)


def _nll(n):
    def make(rng, quick):
        return (1.0, 2.0, rng.normal(1.5, 0.7, size=10 if quick else n))
    return make


def _mlp(inputs, hidden, outputs, batch):
    def make(rng, quick):
        i, h, o, N = (3, 4, 2, 5) if quick else (inputs, hidden, outputs, batch)
        W1 = rng.standard_normal((i, h)) / np.sqrt(i)
        b1 = 0.1 * rng.standard_normal(h)
        W2 = rng.standard_normal((h, o)) / np.sqrt(h)
        b2 = 0.1 * rng.standard_normal(o)
        X = rng.standard_normal((N, i))
        Y = rng.standard_normal((N, o))
        return (W1, b1, W2, b2, X, Y)
    return make


def _resnet(rng, quick):
    L, d, N = (2, 3, 4) if quick else (10, 64, 128)
    U = rng.standard_normal((L, d, d)) * 0.1 / np.sqrt(d)
    V = rng.standard_normal((L, d, d)) / np.sqrt(d)
    X = rng.standard_normal((d, N))
    Y = rng.standard_normal((d, N))
    return (U, V, X, Y)


def _rnn(rng, quick):
    width, T = (4, 5) if quick else (32, 100)
    W = rng.standard_normal((width, width)) / np.sqrt(width)
    h0 = rng.standard_normal(width)
    return (W, h0, T)


def _newton(rng, quick):
    return (1000.0,)


def _piecewise(n):
    def make(rng, quick):
        m = 10 if quick else n
        return (rng.standard_normal(m) * 2.0, np.sign(rng.standard_normal(m)))
    return make


def _layer_norm(rng, quick):
    N, d = (4, 5) if quick else (256, 512)
    return (rng.standard_normal((N, d)), 1.0 + 0.1 * rng.standard_normal(d),
            0.1 * rng.standard_normal(d))


def _softmax(rng, quick):
    N, i, k = (5, 4, 3) if quick else (512, 256, 10)
    X = rng.standard_normal((N, i))
    Y = np.eye(k)[rng.integers(0, k, size=N)]
    return (rng.standard_normal((i, k)) / np.sqrt(i), X, Y)


def _gated(rng, quick):
    d, T = (3, 4) if quick else (32, 50)
    Wz, Uz, Wh, Uh = (rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(4))
    return (Wz, Uz, Wh, Uh, rng.standard_normal((T, d)), rng.standard_normal(d))


def _reads(rng, quick):
    return (np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0]))


def _gemm_floor(i, h, o):
    """(forward X@W1, H@W2; backward X.T@Z_bar, H.T@P_bar, P_bar@W2.T) / forward."""
    return (2 * i * h + 3 * h * o) / (i * h + h * o)


CASES = [
    Case("lecture y·log x + √(y·log x)", lecture, (0, 1), _lecture, 9 / 4,
         "f is 4 operations (log, ·, √, +); the backward sweep adds 5 (ā = 1 + 0.5/√a: 2, "
         "ȳ = ā·log x: 1, x̄ = ā·y/x: 2): 9/4.", 2.5),
    Case("sigmoid neuron", neuron, (0, 1, 2, 3, 4), _neuron, 14 / 8,
         "f is 8 operations (2 ·, 2 +, neg, exp, +1, 1/u); the backward sweep adds 6 "
         "(z̄ = σ(1-σ): 2, four products with z̄: 4; w̄2 = z̄ is free): 14/8.", 2.5),
    Case("Gaussian NLL n=1e3", gaussian_nll, (0, 1), _nll(1000), 1.5,
         "f makes 6 passes over n (−, /, **2, ·0.5, +, sum); the backward sweep needs 3 "
         "(x̄0 = t1/σ, μ̄ = −Σ x̄0, σ̄ = n/σ − t1·t1/σ as one dot): 9/6. At n = 1e3 the "
         "passes are NumPy calls of about equal cost, so the same count holds.", 3.0),
    Case("Gaussian NLL n=1e6", gaussian_nll, (0, 1), _nll(10 ** 6), 1.5,
         "as for n = 1e3: 6 passes over 1e6 doubles in f, 3 more in the backward sweep: 9/6.",
         2.0),
    Case("MLP small 10-16-1, N=32", mlp_loss, (0, 1, 2, 3), _mlp(10, 16, 1, 32), 18 / 8,
         "overhead-bound (5k multiply-adds): f is 8 NumPy calls (@, +, tanh, @, +, −, **2, "
         "mean); the backward sweep needs 10 (P̄: 2, b̄2, W̄2, H̄, Z̄ = H̄(1−H²): 3, b̄1, W̄1): "
         "18/8."),
    Case("MLP medium 100-256-1, N=256", mlp_loss, (0, 1, 2, 3), _mlp(100, 256, 1, 256), 1.8,
         "GEMMs alone: forward X@W1 (N·100·256) + H@W2, backward X.T@Z̄ (no X̄: X is data) + "
         "H.T@P̄ + P̄@W2.T: (2·100+3)/(100+1) = 2.01; but at this size f's element-wise work "
         "(bias, tanh on N·256) costs about as much as X@W1 and the backward sweep adds only "
         "~4 cheap passes (1−H², ·H̄, b̄1, the outer product P̄W2ᵀ): weighted by the costs "
         "measured here, ≈ 1.8.", 2.2),
    Case("MLP large 784-1024-10, N=1024", mlp_loss, (0, 1, 2, 3),
         _mlp(784, 1024, 10, 1024), round(_gemm_floor(784, 1024, 10), 2),
         "GEMMs: forward X@W1 + H@W2, backward X.T@Z̄ + H.T@P̄ + P̄@W2.T (no X̄): "
         "(2·784+3·10)/(784+10) = 2.01.", 2.1),
    Case("ResNet 10 layers, width 64, batch 128", resnet_loss, (0, 1), _resnet, 2.95,
         "GEMMs: 2 per layer forward (V_k@x, U_k@s), 4 per layer backward (Ū_k, s̄, V̄_k, x̄; "
         "no x̄ into the data X at the first layer): (20+39)/20 = 2.95; counting NumPy calls "
         "instead (f: 2 GEMMs + 5 element-wise per layer; backward: 4 GEMMs, s(1−s)·s̄: 3, "
         "x̄ +=, 2 slice stores), 17/7 ≈ 2.4.", 3.0),
    Case("tanh RNN, 100 steps, width 32", rnn_loss, (0, 1), _rnn, 3.0,
         "per step f is a 32×32 mat-vec and a tanh (2 NumPy calls, ~1k multiply-adds); the "
         "backward sweep needs W.T@ā (a mat-vec), ā = h̄(1−h²) (3 small calls; by flops "
         "negligible) and the outer product h̄ h.T for W̄ (1k multiply-adds, batchable): "
         "3.0 by flops, 3.0 by calls with the outer products batched.", 3.0),
    Case("while Newton √a (a=1e3)", newton_sqrt, (0,), _newton, 1.7,
         "per trip f is 8 scalar operations (test: y·y, −, abs, 1e-12·a, >; step: a/y, +, "
         "·0.5); the backward sweep adds about 5 per trip (ȳ·0.5, a/y², 1−·, ·, ā +=) plus "
         "a tape push and pop: ~(8+5)/8 ≈ 1.7.", 5.0),
    Case("neuron reading w[0..2], x[0..1]", neuron_reads, (0, 1), _reads, 18 / 13,
         "f is 13 operations (5 element reads, 2 ·, 2 +, neg, exp, +1, 1/u); the backward "
         "sweep adds the neuron's 6 and 5 element writes into w̄ and x̄ (two fresh arrays): "
         "about (13+6+5+2)/13 = 2.0 by calls; 18/13 counting the writes as free.", 4.0),
    Case("masked Huber + hinge n=1e5", piecewise_loss, (0,), _piecewise(10 ** 5), 1.5,
         "f makes 12 passes over n (−, abs, <, 2 · for 0.5r², −0.5, where, ·, 1−, maximum, +, "
         "mean); the backward sweep needs 6 (the Huber slope where(m, r, sign r): 2; the "
         "hinge mask reused, ·y, −: 2; +, ·1/n: 2): 18/12.", 3.0),
    Case("masked Huber + hinge n=1e6", piecewise_loss, (0,), _piecewise(10 ** 6), 1.5,
         "as for n = 1e5: 12 passes in f, 6 more in the backward sweep: 18/12.", 3.0),
    Case("layer norm 256×512 + tanh", layer_norm, (0, 1, 2), _layer_norm, 2.0,
         "f makes 10 passes over N·d (mean, −, ·, mean, +ε and √ on N only, /, ·γ, +β, tanh, "
         "sum); the backward sweep about 10 (t̄ = 1−tanh²: 2, γ̄ and β̄: 2 reductions, x̂̄: 1, "
         "x̄ through the normalisation: 2 reductions and 3 passes): 20/10.", 2.5),
    Case("softmax cross-entropy 512×256→10", softmax_cross_entropy, (0,), _softmax, 2.0,
         "GEMM-bound: f is X@W (N·256·10) and 9 passes over N·10; the backward sweep is "
         "X.T@Z̄ (one more GEMM) and 3 passes (softmax − Y, /N): about 2 by flops.", 2.5),
    Case("gated recurrent cell, 50 steps, width 32", gated_loss, (0, 1, 2, 3), _gated, 3.0,
         "per step f is 4 mat-vecs and 8 small element-wise calls; the backward sweep needs "
         "2 mat-vecs (Uz.T, Uh.T) and 4 outer products (batchable into 4 GEMMs over the "
         "steps) and about 12 small calls: about 3 by calls.", 3.0),
    Case("tanh RNN with np.dot, 100 steps, width 32", rnn_dot_loss, (0, 1), _rnn, 3.0,
         "the RNN above with W @ h spelled np.dot(W, h): the same product, the same floor.",
         3.0),
]


def newton_trips(a):
    y, trips = 0.5 * (1.0 + a), 0
    while abs(y * y - a) > 1e-12 * a:
        y, trips = 0.5 * (y + a / y), trips + 1
    return trips
