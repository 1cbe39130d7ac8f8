"""The example corpus: generated/regenerate.py's targets, sample arguments for each, and loaders.

Each (file, function, wrt) in ``TARGETS`` is differentiated by tests/test_examples.py
and written again by tests/test_generated.py; ``SAMPLES`` gives each target's
arguments, in its parameter order and inside its domain.
"""

import importlib.util
import os

import numpy as np

from tests import oracle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def load_path(path, name):
    """The module at ``path``, loaded under ``name`` (each call loads it afresh)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGENERATE = load_path(os.path.join(ROOT, "generated", "regenerate.py"), "s2sad_regenerate")
TARGETS = REGENERATE.TARGETS


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def sample_rng():
    return np.random.default_rng(12345)


# Sample arguments for each target, in the function's parameter order, inside its domain.
SAMPLES = {
    ("lecture", "f"): lambda rng: (2.0, 3.0),
    ("sqrt_exp", "f"): lambda rng: (0.8,),
    ("sum_product", "f"): lambda rng: (-2.0, 5.0, -4.0),
    ("neuron", "neuron"): lambda rng: (2.0, -1.0, -3.0, -2.0, -3.0),
    ("gaussian_nll", "nll"): lambda rng: (0.3, 1.7, rng.normal(1.0, 2.0, size=20)),
    ("two_layer", "loss"): lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal((2, 4)),
                                        rng.standard_normal((3, 10)),
                                        rng.standard_normal((2, 10))),
    ("mlp", "loss"): lambda rng: (rng.standard_normal((2, 5)), rng.standard_normal(5),
                                  rng.standard_normal((5, 1)), rng.standard_normal(1),
                                  rng.standard_normal((7, 2)), rng.standard_normal((7, 1))),
    ("rnn_training", "loss"): lambda rng: (rng.standard_normal((4, 4)) * 0.5,
                                           rng.standard_normal((4, 2)), rng.standard_normal(4),
                                           rng.standard_normal((6, 2)), rng.standard_normal(6)),
    ("euler_ode", "euler"): lambda rng: (0.8, 2.0, 3.0, 50),
    ("newton_sqrt", "newton_sqrt"): lambda rng: (2.0,),
    ("residual_net", "loss"): lambda rng: (rng.standard_normal((3, 2, 3)) * 0.5,
                                           rng.standard_normal((3, 3, 2)),
                                           rng.standard_normal((2, 5)),
                                           rng.standard_normal((2, 5))),
    ("newton_cg", "loss"): lambda rng: (rng.standard_normal(3) * 0.3, rng.standard_normal((20, 3)),
                                        (rng.random(20) > 0.5).astype(float)),
    ("attention", "loss"): lambda rng: (
        rng.standard_normal((3, 2, 4)) * 0.5,  # Wc: 3 taps, 2 channels in, width 4
        rng.standard_normal(4) * 0.1, 1.0 + rng.standard_normal(4) * 0.1,  # bc, gain
        rng.standard_normal(4) * 0.1,  # bias
        *(rng.standard_normal((4, 4)) * 0.5 for _ in range(3)),  # Wq, Wk, Wv
        rng.standard_normal(4), rng.standard_normal((3, 6, 2)), rng.standard_normal(3)),
}

SAMPLES[("dask_logistic", "loss")] = lambda rng: (rng.standard_normal(10) * 0.3,
                                                  rng.standard_normal((20, 10)),
                                                  (rng.random(20) > 0.5).astype(float))
# arguments a script's run takes in the tests (its defaults are sized for a long run)
SCRIPT_ARGS = {"dask_logistic.py": ["--rows", "200000", "--chunk", "50000", "--epochs", "2"]}
# examples whose __main__ prints a loss that must go down
TRAINING = {"two_layer", "mlp", "attention"}


def sample(path, function):
    return SAMPLES[(stem(path), function)](sample_rng())


def example(script, name):
    """examples/``script``, loaded under ``name``."""
    return load_path(os.path.join(EXAMPLES, script), name)


def example_function(path, function):
    module = load_path(os.path.join(ROOT, path), f"s2sad_example_{stem(path)}")
    return getattr(module, function)


def assert_matches_finite_differences(fn, args, wrt, gradients, label):
    """Each of ``gradients`` (one per name in ``wrt``) against the oracle, to 1e-6 relative."""
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    assert len(gradients) == len(wrt), label
    for name, analytic in zip(wrt, gradients):
        numeric = oracle.gradient(fn, args, names.index(name), h=1e-5, relative=True)
        assert np.shape(analytic) == np.shape(numeric), f"{label}: shape of d/d{name}"
        scale = np.max(np.abs(numeric))
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * scale,
                                   err_msg=f"{label}: d/d{name} disagrees with finite differences")


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


IDS = [f"{stem(path)}:{function}" for path, function, _ in TARGETS]


