"""A dict's views, as JAX and autograd users write them for a dict of parameters:
``d.values()``, ``d.items()`` and ``d.keys()`` (s2sad/dict_views.py, the helper
``keys_of``), checked against finite differences in both modes and at order 2."""

import numpy as np
import pytest

import oracle
import s2sad

PARAMS = {"W": np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.7]]), "b": np.array([0.2, -0.1])}
X = np.array([[1.0, -0.5, 0.3], [0.2, 0.4, -1.1]])
SCALE = {"W": 0.5, "b": 2.0}  # a dict of the module's


def regularised(p, x):
    pred = np.tanh(x @ p["W"] + p["b"])
    return np.sum(pred ** 2) + 0.1 * sum(np.sum(w ** 2) for w in p.values())


def by_items(p, x):
    total = 0.0
    for name, w in p.items():
        total = total + SCALE[name] * np.sum(np.sin(w) * w)
    return total + np.sum(x @ p["W"])


def by_values_and_keys(p, x):
    total = np.sum(x)
    for w in p.values():
        total = total * 0.5 + np.sum(np.exp(0.3 * w))
    n = 0
    for k in p.keys():
        n = n + len(k)
    return total * n


def stacked_norms(p, x):
    norms = [np.linalg.norm(w) for name, w in p.items() if name != "b"]
    flat = np.concatenate([np.ravel(w) for w in p.values()])
    values = list(p.values())
    return np.sum(np.stack(norms)) + np.sum(flat ** 3) + np.sum(values[1] * x[0, :2])


def literal_whole(x):
    d = {"a": x, "b": np.sin(x), "c": x * x}
    return sum(np.sum(v * k) for k, v in enumerate(d.values())) + len(d.keys())


CASES = [regularised, by_items, by_values_and_keys, stacked_norms]


@pytest.mark.parametrize("f", CASES)
def test_gradient_with_respect_to_the_dict(f):
    g = s2sad.grad(f)(PARAMS, X)
    assert list(g) == list(PARAMS)
    expected = oracle.tree_gradient(f, (PARAMS, X))
    for k in PARAMS:
        assert g[k] == pytest.approx(expected[k], rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("f", CASES)
def test_both_modes_and_second_order(f):
    s2sad.check_grads(f, (PARAMS, X), wrt=(0, 1))
    # a list read whole (np.stack of a comprehension) differentiates again in forward mode
    # only: reverse over reverse is a located error (README, Limitations)
    modes = ("forward",) if f is stacked_norms else ("forward", "reverse")
    s2sad.check_grads(f, (PARAMS, X), wrt=(0, 1), order=2, modes=modes)


def test_value_is_the_function_s_own():
    value, _ = s2sad.value_and_grad(regularised)(PARAMS, X)
    assert value == regularised(PARAMS, X)


def test_hessian_with_respect_to_the_input():
    H = s2sad.hessian(by_items, wrt=1)(PARAMS, X)
    expected = oracle.gradient(lambda x: s2sad.grad(by_items, wrt=1)(PARAMS, x), (X,), 0)
    assert H == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_a_dict_made_in_the_function_read_whole():
    x = np.array([0.3, -0.2, 0.5])
    assert s2sad.grad(literal_whole)(x) == pytest.approx(
        oracle.gradient(literal_whole, (x,), 0), rel=1e-6)
    s2sad.check_grads(literal_whole, (x,))  # (enumerate reads the values' tuple whole)
    s2sad.check_grads(literal_whole, (x,), order=2, modes=("forward",))


def test_keys_come_in_the_dict_s_order():
    reordered = {"b": PARAMS["b"], "W": PARAMS["W"]}
    g = s2sad.grad(by_values_and_keys)(reordered, X)
    expected = oracle.tree_gradient(by_values_and_keys, (reordered, X))
    for k in reordered:
        assert g[k] == pytest.approx(expected[k], rel=1e-6)


def written_then_viewed(x):
    d = {"a": x}
    d["b"] = x * 2
    return sum(np.sum(v) for v in d.values())


def test_a_dict_written_by_key_and_viewed_is_a_located_error():
    with pytest.raises(s2sad.UnsupportedSyntaxError,
                       match=r"test_dict_views.py:\d+:\d+: d is a dict written with d\[key\].*not used with \.values\(\)"):
        s2sad.grad(written_then_viewed)(np.ones(2))


class Bag:
    def values(self):
        return [1.0, 2.0]


BAG = Bag()


def object_values(x):
    return np.sum(x) * BAG.values()[0]


def test_another_object_s_values_method_is_called_as_it_is():
    """BAG is no dict: BAG.values() is its own method, run on constants."""
    x = np.array([0.3, -0.2])
    assert s2sad.grad(object_values)(x) == pytest.approx(np.ones(2))


def looped_over(p, x):
    total = 0.0
    for name in p:
        total = total + np.sum(p[name] * x[0, :1])
    return total


def test_a_loop_over_a_dict_argument_itself_is_a_located_error():
    """s2sad loops by index, and cannot tell a dict argument from a sequence when it
    transforms: the KeyError of the generated code is explained, located at the loop."""
    with pytest.raises(s2sad.UnsupportedSyntaxError,
                       match=r"(?s)test_dict_views.py:\d+:\d+: p is a dict here.*p\.items\(\)"):
        s2sad.grad(looped_over)(PARAMS, X)
