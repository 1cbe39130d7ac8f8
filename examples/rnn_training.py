"""A recurrent network unrolled over time, trained by gradient descent.

    h_0 = 0,   h_t = tanh(W h_{t-1} + U x_t),   prediction_t = v . h_t   (t = 1..T)
    loss = mean over t of (prediction_t - y_t)^2

``loss`` is the plain loop over the time steps (``zip`` of the input rows and
the targets). s2sad differentiates it with respect to W, U and v: its forward
sweep runs the loop and pushes each h_{t-1} (and the few per-step values the
adjoints need) on a tape; its backward sweep is backpropagation through time,
popping them in reverse and accumulating W_bar, U_bar and v_bar. Nothing about
the unrolled network had to be written by hand.

The data come from a "teacher" network of the same shape with random
weights; the "student" starts elsewhere and learns to reproduce the teacher's
outputs on a few input sequences. The loss printed every 40 steps goes down.
"""

import numpy as np

import s2sad


def loss(W, U, v, xs, ys):
    h = np.zeros_like(v)
    total = 0.0
    for x, y in zip(xs, ys):
        h = np.tanh(W @ h + U @ x)
        total = total + (v @ h - y) ** 2
    return total / len(ys)


def teacher_data(rng, hidden=6, inputs=2, steps=25, sequences=3):
    """Input sequences and the outputs of a random teacher RNN on them."""
    W = rng.standard_normal((hidden, hidden)) * 0.4
    U = rng.standard_normal((hidden, inputs))
    v = rng.standard_normal(hidden)
    data = []
    for _ in range(sequences):
        xs = rng.standard_normal((steps, inputs))
        h, ys = np.zeros(hidden), []
        for x in xs:
            h = np.tanh(W @ h + U @ x)
            ys.append(v @ h)
        data.append((xs, np.array(ys)))
    return data


def train(steps=400, rate=0.1, seed=0, report=40):
    """Gradient descent on the summed loss of the sequences; returns the losses reported."""
    rng = np.random.default_rng(seed)
    data = teacher_data(rng)
    hidden, inputs = 6, 2
    W = rng.standard_normal((hidden, hidden)) * 0.1
    U = rng.standard_normal((hidden, inputs)) * 0.1
    v = rng.standard_normal(hidden) * 0.1
    value_and_grad = s2sad.value_and_grad(loss, wrt=("W", "U", "v"))
    history = []
    for step in range(steps + 1):
        total, gW, gU, gv = 0.0, 0.0, 0.0, 0.0
        for xs, ys in data:
            value, (W_bar, U_bar, v_bar) = value_and_grad(W, U, v, xs, ys)
            total, gW, gU, gv = total + value, gW + W_bar, gU + U_bar, gv + v_bar
        if step % report == 0:
            history.append(total)
            print(f"step {step:4d}   loss {total:.6f}")
        W, U, v = W - rate * gW, U - rate * gU, v - rate * gv
    return history


if __name__ == "__main__":
    losses = train()
    print(f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
