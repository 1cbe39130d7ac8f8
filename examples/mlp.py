"""A multilayer perceptron with a tanh hidden layer, fitted to y = sin(3x) by gradient descent.

    H = tanh(X W1 + b1),   P = H W2 + b2,   L = mean((P - Y)²)

Rows of X are examples (the NumPy convention: ``X @ W1 + b1`` broadcasts the
bias over the batch). s2sad differentiates ``loss`` with respect to the four
parameters; broadcasting the biases in the forward sweep becomes summing over
the batch in the backward sweep (b1_bar = Σ_rows H_bar, and so on), which the
generated code does with its ``unbroadcast`` helper.
"""

import numpy as np

import s2sad


def loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return np.mean((P - Y) ** 2)


def train(steps=3000, learning_rate=0.1, hidden=16, report_every=300, seed=0):
    rng = np.random.default_rng(seed)
    X = np.linspace(-1.0, 1.0, 64)[:, None]
    Y = np.sin(3.0 * X)
    params = [rng.standard_normal((1, hidden)), np.zeros(hidden),
              rng.standard_normal((hidden, 1)) / np.sqrt(hidden), np.zeros(1)]
    value_and_grad = s2sad.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))
    for step in range(steps + 1):
        value, grads = value_and_grad(*params, X, Y)
        if step % report_every == 0:
            print(f"step {step:5d}   loss {value:.6f}")
        params = [p - learning_rate * g for p, g in zip(params, grads)]
    return params


if __name__ == "__main__":
    train()
