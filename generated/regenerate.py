"""Regenerate the committed derivative modules in generated/: ``python generated/regenerate.py``.

TARGETS is the single list of reverse-mode modules: (example file, function,
parameters to differentiate with respect to). Each entry becomes one CLI run,

    python -m s2sad grad examples/FILE.py:FUNC --wrt WRT -o generated

writing ``generated/<file>_<func>_grad.py``; JVP_TARGETS likewise, with
``s2sad jvp``, write the forward-mode modules ``generated/<file>_<func>_jvp.py``;
PLAIN_TARGETS, with ``--plain``, the teaching copies in ``generated/plain/`` (short
reference run-time helpers, without fast paths). tests/test_generated.py reruns
the same commands and fails when a committed file is out of date, so after a
change to the code generator, run this script and commit the result.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TARGETS = [
    ("examples/lecture.py", "f", ("x", "y")),
    ("examples/sqrt_exp.py", "f", ("x",)),
    ("examples/sum_product.py", "f", ("x", "y", "z")),
    ("examples/neuron.py", "neuron", ("w0", "x0", "w1", "x1", "w2")),
    ("examples/gaussian_nll.py", "nll", ("mu", "sigma")),
    ("examples/two_layer.py", "loss", ("U", "V")),
    ("examples/mlp.py", "loss", ("W1", "b1", "W2", "b2")),
    ("examples/rnn_training.py", "loss", ("W", "U", "v")),
    ("examples/euler_ode.py", "euler", ("k", "y0")),
    ("examples/newton_sqrt.py", "newton_sqrt", ("a",)),
    ("examples/residual_net.py", "loss", ("U", "V")),
    ("examples/newton_cg.py", "loss", ("w",)),
    ("examples/attention.py", "loss", ("Wc", "bc", "gain", "bias", "Wq", "Wk", "Wv", "w_out")),
    ("examples/dask_logistic.py", "loss", ("w",)),
]

JVP_TARGETS = [
    ("examples/lecture.py", "f", ("x", "y")),
    ("examples/jacobian_modes.py", "polar", ("p",)),
]

PLAIN_TARGETS = [  # written with --plain into generated/plain/, for reading
    ("examples/lecture.py", "f", ("x", "y")),
    ("examples/mlp.py", "loss", ("W1", "b1", "W2", "b2")),
    ("examples/rnn_training.py", "loss", ("W", "U", "v")),
]


def output_name(path, function, mode="grad"):
    """The file name the CLI writes for ``path:function`` (mode ``grad`` or ``jvp``)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return f"{stem}_{function}_{mode}.py"


def command(path, function, wrt, output="generated", mode="grad", plain=False):
    """The CLI command (an argv list, run from the repository root) for one target."""
    return [sys.executable, "-m", "s2sad", mode, f"{path}:{function}",
            "--wrt", ",".join(wrt), "-o", output] + (["--plain"] if plain else [])


def main():
    for mode, targets in (("grad", TARGETS), ("jvp", JVP_TARGETS)):
        for path, function, wrt in targets:
            subprocess.run(command(path, function, wrt, mode=mode), cwd=ROOT, check=True)
    for path, function, wrt in PLAIN_TARGETS:
        subprocess.run(command(path, function, wrt, output=os.path.join("generated", "plain"),
                               plain=True), cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
