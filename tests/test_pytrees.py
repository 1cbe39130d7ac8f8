"""Parameter containers ("pytrees"): arguments that are dicts, tuples, lists, named tuples or
nestings of them (``{"layers": [(W1, b1), (W2, b2)]}``).

Every derivative is compared with the finite-difference oracle (``oracle.tree_gradient``),
and its structure exactly: the gradient of an argument has the argument's containers, of
the same types (JAX's convention), with writable arrays.
"""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest

import oracle
import s2sad

RNG = np.random.default_rng(11)
X = RNG.normal(size=(4, 3))
Y = RNG.normal(size=(4, 2))


def layers():
    return {"layers": [(RNG.normal(size=(3, 5)), RNG.normal(size=5)),
                       (RNG.normal(size=(5, 2)), RNG.normal(size=2))]}


# -- functions of containers, in the forms people write them ------------------------------------

def dict_loss(params, x, y):
    W = params["W"]
    b = params["b"]
    return np.sum(np.tanh(x @ W + b - y) ** 2)


def mlp_loop(params, x, y):
    h = x
    for W, b in params["layers"]:
        h = np.tanh(h @ W + b)
    return np.sum((h - y) ** 2)


def mlp_unpacked(params, x, y):
    (W1, b1), (W2, b2) = params["layers"]
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 + b2 - y) ** 2)


def mlp_indexed(params, x, y):
    first = params["layers"][0]
    W2 = params["layers"][1][0]
    b2 = params["layers"][1][1]
    h = np.tanh(x @ first[0] + first[1])
    return np.sum((h @ W2 + b2 - y) ** 2)


def mlp_range(params, x, y):
    h = x
    for i in range(len(params["layers"])):
        h = np.tanh(h @ params["layers"][i][0] + params["layers"][i][1])
    return np.sum((h - y) ** 2)


def mlp_enumerate(params, x, y):
    h = x
    total = 0.0
    for i, (W, b) in enumerate(params["layers"]):
        h = np.tanh(h @ W + b)
        total = total + (i + 1.0) * np.sum(W ** 2)
    return np.sum((h - y) ** 2) + 0.1 * total


def tuple_indexed(p, x):
    return np.sum(np.sin(p[0]) * x) + np.sum(p[1] ** 2) * p[2]


def tuple_unpacked(p, x):
    a, b, c = p
    return np.sum(np.sin(a) * x) + np.sum(b ** 2) * c


def unpacked_twice(p):
    a, b = p
    c, d = p
    e, f = p
    return np.sum(a * d) + np.sum(b * np.sin(c)) + np.sum(e * f)


def some_entries_unused(params, x):
    return np.sum(params["w"] * x) * params["scale"]


Pair = collections.namedtuple("Pair", "w b")


def named_indexed(p, x):
    return np.sum(np.tanh(x @ p[0] + p[1]))


def returns_pair(p):
    a, b = p
    return np.sin(a) * b[0], np.sum(b ** 2)


def stacked(p):
    return np.stack([p[0] * p[1], np.sin(p[0])])


def ARGS():
    return {
        dict_loss: ({"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}, X, Y),
        mlp_loop: (layers(), X, Y),
        mlp_unpacked: (layers(), X, Y),
        mlp_indexed: (layers(), X, Y),
        mlp_range: (layers(), X, Y),
        mlp_enumerate: (layers(), X, Y),
        tuple_indexed: ((RNG.normal(size=3), RNG.normal(size=2), 1.5), RNG.normal(size=3)),
        tuple_unpacked: ((RNG.normal(size=3), RNG.normal(size=2), 1.5), RNG.normal(size=3)),
        unpacked_twice: ((RNG.normal(size=3), RNG.normal(size=3)),),
        named_indexed: (Pair(RNG.normal(size=(3, 2)), RNG.normal(size=2)), X),
    }


CASES = list(ARGS().items())
IDS = [f.__name__ for f, _ in CASES]


def same_structure(got, like):
    """``got`` has ``like``'s containers, of the same types and keys, and writable float
    arrays (or numbers) where ``like`` has leaves."""
    if isinstance(like, (dict, tuple, list, np.ndarray)):
        assert type(got) is type(like), (type(got), type(like))
    if isinstance(like, dict):
        assert list(got) == list(like)
        for k in like:
            same_structure(got[k], like[k])
    elif isinstance(like, (tuple, list)):
        assert len(got) == len(like)
        for a, b in zip(got, like):
            same_structure(a, b)
    elif isinstance(like, np.ndarray):
        assert isinstance(got, np.ndarray) and got.shape == like.shape
        assert got.flags.writeable and got.dtype == like.dtype
    else:
        assert np.ndim(got) == 0 and isinstance(got, (float, np.floating)), got


def close(got, expected, tol=1e-6):
    got, expected = oracle.leaves_of(got), oracle.leaves_of(expected)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def like_leaves(x):
    """A copy of container ``x`` with the type its gradient has: number leaves stay numbers."""
    return oracle.rebuilt(x, oracle.leaves_of(x))


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_gradient_has_the_argument_structure(f, args):
    g = s2sad.grad(f)(*args)
    same_structure(g, args[0])
    close(g, oracle.tree_gradient(f, args, 0))


@pytest.mark.parametrize("f, args", CASES, ids=IDS)
def test_value_and_grad_and_vjp(f, args):
    value, g = s2sad.value_and_grad(f)(*args)
    assert np.isclose(value, f(*args))
    same_structure(g, args[0])
    close(g, oracle.tree_gradient(f, args, 0))
    bar = s2sad.vjp(f)(*args, 2.0)
    same_structure(bar, args[0])
    close(bar, oracle.tree_gradient(lambda *a: 2.0 * f(*a), args, 0))


def test_indexed_and_unpacked_tuples_both_give_tuples():
    args = ARGS()[tuple_indexed]
    a = s2sad.grad(tuple_indexed)(*args)
    b = s2sad.grad(tuple_unpacked)(*args)
    assert type(a) is tuple and type(b) is tuple
    close(a, b, 1e-12)
    as_list = [args[0][0], args[0][1], args[0][2]]
    g = s2sad.grad(tuple_indexed)(as_list, args[1])
    assert type(g) is list
    close(g, a, 1e-12)


def test_unpacking_a_tuple_twice_adds_element_by_element():
    """(a, b) and (c, d) unpacked from the same tuple: their adjoints add, never concatenate."""
    args = ARGS()[unpacked_twice]
    g = s2sad.grad(unpacked_twice)(*args)
    assert type(g) is tuple and len(g) == 2
    close(g, oracle.tree_gradient(unpacked_twice, args, 0))


def test_entries_the_function_does_not_read_get_zeros():
    params = {"w": RNG.normal(size=3), "unused": RNG.normal(size=(2, 2)), "scale": 2.0}
    x = RNG.normal(size=3)
    g = s2sad.grad(some_entries_unused)(params, x)
    assert list(g) == ["w", "unused", "scale"]
    np.testing.assert_array_equal(g["unused"], np.zeros((2, 2)))
    close(g, oracle.tree_gradient(some_entries_unused, (params, x), 0))
    g["w"] *= 0.1  # writable


def test_gradient_with_respect_to_a_container_and_an_array():
    params, x, y = ARGS()[mlp_loop]
    g_params, g_x = s2sad.grad(mlp_loop, wrt=(0, 1))(params, x, y)
    same_structure(g_params, params)
    close(g_params, oracle.tree_gradient(mlp_loop, (params, x, y), 0))
    np.testing.assert_allclose(g_x, oracle.gradient(mlp_loop, (params, x, y), 1), rtol=1e-6,
                               atol=1e-6)


def test_jvp_takes_a_tangent_of_the_argument_structure():
    params, x, y = ARGS()[dict_loss]
    tangent = {"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
    value, out_dot = s2sad.jvp(dict_loss)(params, x, y, tangent)
    assert np.isclose(value, dict_loss(params, x, y))
    g = oracle.tree_gradient(dict_loss, (params, x, y), 0)
    expected = sum(np.sum(a * b) for a, b in zip(oracle.leaves_of(g), oracle.leaves_of(tangent)))
    assert np.isclose(out_dot, expected, rtol=1e-6, atol=1e-8)


def test_jvp_of_a_tangent_with_another_structure_is_refused():
    params, x, y = ARGS()[dict_loss]
    with pytest.raises(ValueError, match=r"structure \(\*, \*\); it needs params's, "
                                         r"\{'W': \*, 'b': \*\}"):
        s2sad.jvp(dict_loss)(params, x, y, (np.ones((3, 2)), np.ones(2)))
    with pytest.raises(ValueError, match=r"tangent of an element of params has shape \(3,\); "
                                         r"it needs an element of params's shape \(2,\)"):
        s2sad.jvp(dict_loss)(params, x, y, {"W": np.ones((3, 2)), "b": np.ones(3)})


def test_batched_tangents_of_a_container():
    params, x, y = ARGS()[dict_loss]
    k = 3
    tangent = {"W": RNG.normal(size=(k, 3, 2)), "b": RNG.normal(size=(k, 2))}
    _, out_dots = s2sad.jvp(dict_loss)(params, x, y, tangent)
    assert np.shape(out_dots) == (k,)
    for j in range(k):
        single = {"W": tangent["W"][j], "b": tangent["b"][j]}
        assert np.isclose(out_dots[j], s2sad.jvp(dict_loss)(params, x, y, single)[1])


def test_hvp_with_a_direction_of_the_argument_structure():
    params, x, y = ARGS()[mlp_unpacked]
    v = oracle.rebuilt(params, [RNG.normal(size=np.shape(a)) for a in oracle.leaves_of(params)])
    hv = s2sad.hvp(mlp_unpacked)(params, x, y, v)
    same_structure(hv, params)
    grad = s2sad.grad(mlp_unpacked)
    h = 1e-5  # H v is the derivative of the gradient along v

    def along(t):
        return np.array([np.ravel(a) for a in oracle.leaves_of(grad(_moved(params, t, v), x, y))],
                        dtype=object)
    expected = [(a - b) / (2 * h) for a, b in zip(along(h), along(-h))]
    close([np.ravel(a) for a in oracle.leaves_of(hv)], expected, 1e-5)


def _moved(params, t, v):
    return oracle.rebuilt(params, [a + t * d for a, d in zip(oracle.leaves_of(params),
                                                                oracle.leaves_of(v))])


def test_hessian_of_a_dict_gives_nested_blocks():
    params = {"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
    H = s2sad.hessian(dict_loss)(params, X, Y)
    assert list(H) == ["W", "b"] and all(list(H[k]) == ["W", "b"] for k in H)
    assert H["W"]["W"].shape == (3, 2, 3, 2) and H["W"]["b"].shape == (3, 2, 2)
    assert H["b"]["W"].shape == (2, 3, 2) and H["b"]["b"].shape == (2, 2)
    grad = s2sad.grad(dict_loss)
    for inner in ("W", "b"):  # the derivative of the gradient w.r.t. each entry
        def entry_of_grad(value, outer, inner=inner):
            moved = dict(params, **{inner: value})
            return grad(moved, X, Y)[outer]
        for outer in ("W", "b"):
            expected = oracle.gradient(lambda v: entry_of_grad(v, outer), [params[inner]], 0)
            np.testing.assert_allclose(H[outer][inner], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H["W"]["b"], np.moveaxis(H["b"]["W"], 0, -1), atol=1e-10)


def test_hessian_of_a_tuple_argument():
    """Blocks H[i][j] shaped p[i].shape + p[j].shape; assembled, the oracle's Hessian."""
    p = (RNG.normal(size=3), RNG.normal(size=1), 0.7)
    x = RNG.normal(size=3)
    H = s2sad.hessian(tuple_unpacked)(p, x)
    assert type(H) is tuple and len(H) == 3 and all(type(row) is tuple for row in H)
    assert H[0][0].shape == (3, 3) and H[0][1].shape == (3, 1) and H[0][2].shape == (3,)
    assert np.shape(H[2][2]) == ()
    grad = s2sad.grad(tuple_unpacked)

    def flat_grad(z):
        g = grad((z[:3], z[3:4], float(z[4])), x)
        return np.concatenate([g[0], g[1], [g[2]]])

    expected = oracle.gradient(flat_grad, [np.concatenate([p[0], p[1], [p[2]]])], 0)
    sizes = [3, 1, 1]
    assembled = np.block([[np.reshape(H[i][j], (sizes[i], sizes[j])) for j in range(3)]
                          for i in range(3)])
    np.testing.assert_allclose(assembled, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_of_a_tuple_argument(mode):
    p = (RNG.normal(size=2), RNG.normal(size=2))
    J = s2sad.jacobian(stacked, mode=mode)(p)
    assert type(J) is tuple and [b.shape for b in J] == [(2, 2, 2), (2, 2, 2)]
    for k in range(2):
        expected = oracle.gradient(lambda a: stacked(tuple(a if j == k else p[j]
                                                           for j in range(2))), [p[k]], 0)
        np.testing.assert_allclose(J[k], expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_a_tuple_output_and_a_tuple_argument(mode):
    p = (RNG.normal(size=3), RNG.normal(size=2))
    J = s2sad.jacobian(returns_pair, mode=mode)(p)
    # the output's structure outside, the argument's inside (JAX's nesting)
    assert type(J) is tuple and all(type(block) is tuple for block in J)
    assert [b.shape for b in J[0]] == [(3, 3), (3, 2)]
    assert [np.shape(b) for b in J[1]] == [(3,), (2,)]
    for out in range(2):
        for k in range(2):
            def part(a, out=out, k=k):
                return returns_pair(tuple(a if j == k else p[j] for j in range(2)))[out]
            np.testing.assert_allclose(J[out][k], oracle.gradient(part, [p[k]], 0),
                                       rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("order", [1, 2])
def test_check_grads_accepts_containers(order):
    s2sad.check_grads(mlp_unpacked, ARGS()[mlp_unpacked], order=order)
    s2sad.check_grads(dict_loss, ARGS()[dict_loss], wrt=(0, 1), order=order)


def test_second_order_through_grad_of_a_dict():
    params, x, y = ARGS()[dict_loss]
    gg = s2sad.grad(lambda_free_sum_of_grad)(params, x, y)
    same_structure(gg, params)
    close(gg, oracle.tree_gradient(lambda_free_sum_of_grad, (params, x, y), 0), 1e-5)


GRAD_DICT = s2sad.grad(dict_loss)


def lambda_free_sum_of_grad(params, x, y):
    g = GRAD_DICT(params, x, y)
    return np.sum(g["W"] ** 2) + np.sum(g["b"])


MODEL = """\
import numpy as np


def loss(params, x, y):
    h = x
    for W, b in params["layers"]:
        h = np.tanh(h @ W + b)
    return np.sum((h - y) ** 2)
"""


def test_cli_writes_a_module_for_a_parameter_dict(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    result = subprocess.run([sys.executable, "-m", "s2sad", "grad", "model.py:loss", "--wrt",
                             "params", "-o", "out"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    written = result.stdout.strip()
    assert os.path.exists(tmp_path / written)
    check = (
        "import sys, pickle\n"
        "sys.modules['s2sad'] = None\n"
        "sys.path.insert(0, 'out')\n"
        "import numpy as np\n"
        "from model_loss_grad import grad_loss\n"
        "params, x, y = pickle.load(open('args.pkl', 'rb'))\n"
        "g = grad_loss(params, x, y)\n"
        "pickle.dump(g, open('g.pkl', 'wb'))\n")
    import pickle
    args = (layers(), X, Y)
    (tmp_path / "args.pkl").write_bytes(pickle.dumps(args))
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    g = pickle.loads((tmp_path / "g.pkl").read_bytes())
    same_structure(g, args[0])
    close(g, oracle.tree_gradient(mlp_loop, args, 0))


# -- dicts made inside the function ---------------------------------------------------------------

def layer(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)


def builds_dicts(W, b, x):
    return layer({"W": W, "b": b}, x) + layer({"W": 2.0 * W, "b": np.sin(b)}, x)


def names_a_dict(W, b, x):
    params = {"W": W, "b": b}
    return layer(params, x) + np.sum(params["b"] ** 2)


def layer_in_steps(p, x):
    z = x @ p["W"] + p["b"]  # (two statements: not a small helper, so not inlined)
    return np.sum(np.tanh(z) ** 2)


def writes_then_passes(W, b, x):
    params = {"W": W}
    params["b"] = b
    return layer_in_steps(params, x)


def step_with_metrics(params, x):
    pred = np.tanh(x @ params["W"] + params["b"])
    loss = np.sum(pred ** 2)
    return loss, {"pred": pred, "mean": np.mean(pred)}


@pytest.mark.parametrize("f", [builds_dicts, names_a_dict])
def test_a_dict_made_in_the_function_and_passed_to_a_helper(f):
    W, b = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    g_W, g_b = s2sad.grad(f, (0, 1))(W, b, X)
    np.testing.assert_allclose(g_W, oracle.gradient(f, (W, b, X), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_b, oracle.gradient(f, (W, b, X), 1), rtol=1e-6, atol=1e-8)
    s2sad.check_grads(f, (W, b, X), wrt=(0, 1), order=2)
    H = s2sad.hessian(f, 1)(W, b, X)  # forward over reverse, one direction at a time
    np.testing.assert_allclose(H, oracle.gradient(s2sad.grad(f, 1), (W, b, X), 1), rtol=1e-5,
                               atol=1e-6)
    _, out_dot = s2sad.jvp(f, 1)(W, b, X, np.ones(2))
    assert np.isclose(out_dot, np.sum(g_b))


def test_a_dict_written_key_by_key_cannot_be_passed_whole():
    W, b = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"params is a dict written with "
                                                           r"params\[key\] = \.\.\.") as info:
        s2sad.grad(writes_then_passes)(W, b, X)
    assert "layer_in_steps(params, x)" in str(info.value)


def test_has_aux_with_a_dict_of_metrics():
    params = {"W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
    (loss, metrics), g = s2sad.value_and_grad(step_with_metrics, has_aux=True)(params, X)
    assert type(metrics) is dict and list(metrics) == ["pred", "mean"]
    np.testing.assert_array_equal(metrics["pred"], step_with_metrics(params, X)[1]["pred"])
    same_structure(g, params)
    close(g, oracle.tree_gradient(lambda p, x: step_with_metrics(p, x)[0], (params, X), 0))


# -- named tuples read by field -------------------------------------------------------------------

def named_fields(p, x):
    return np.sum(np.tanh(x @ p.w + p.b) ** 2)


def test_a_named_tuple_read_by_field():
    p = Pair(RNG.normal(size=(3, 2)), RNG.normal(size=2))
    g = s2sad.grad(named_fields)(p, X)
    same_structure(g, p)
    close(g, oracle.tree_gradient(named_fields, (p, X), 0))
    t = Pair(RNG.normal(size=(3, 2)), RNG.normal(size=2))
    _, out_dot = s2sad.jvp(named_fields)(p, X, t)
    assert np.isclose(out_dot, np.sum(g.w * t.w) + np.sum(g.b * t.b))
    s2sad.check_grads(named_fields, (p, X), modes=("forward", "reverse"))
    H = s2sad.hessian(named_fields)(p, X)
    assert type(H) is Pair and type(H.b) is Pair and H.b.b.shape == (2, 2)
    grad = s2sad.grad(named_fields)
    expected = oracle.gradient(lambda b: grad(Pair(p.w, b), X).b, [p.b], 0)
    np.testing.assert_allclose(H.b.b, expected, rtol=1e-5, atol=1e-6)


def test_a_field_of_an_object_that_is_not_a_named_tuple_is_refused_when_it_runs():
    class Box:
        def __init__(self, w):
            self.w = w
            self.b = 0.0

    with pytest.raises(s2sad.UsageError, match="cannot differentiate named_fields with respect "
                                               "to p: it is a Box object"):
        s2sad.grad(named_fields)(Box(np.ones((3, 2))), X)


def written_through_a_loop(params, z, s):  # (random program 0, with a dict of parameters)
    x = params["w"]
    y = params["b"]  # not read: its adjoint is a zero
    w = np.sin(np.exp(z))
    w[::2] = np.sum(z)
    y = np.mean(-s)
    t2 = 0
    while t2 < 3 and np.max(np.sort(np.where(s * x < -0.1, s, y), axis=0)) > -0.54:
        t2 += 1
        y -= np.mean(w[[2, 0, 1]], axis=0)
    return y * y + np.sum(np.sin(w))


def test_hvp_gives_the_argument_s_own_containers():
    """hvp's result is the tangent of the gradient code's adjoint of params: a plain dict,
    as grad's (it was the adjoint's own dict type)."""
    params = {"w": np.array([[0.2, -0.3, 0.5, 0.1]] * 3), "b": np.array([0.4, 0.1, -0.2, 0.3])}
    z, s = np.array([0.3, -0.2, 0.5]), 0.25
    v = ({"w": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}, RNG.normal(size=3), 0.5)
    hv = s2sad.hvp(written_through_a_loop, wrt=(0, 1, 2))(params, z, s, v)
    same_structure(hv, (params, z, s))
    grad = s2sad.grad(written_through_a_loop, wrt=(0, 1, 2))
    h = 1e-5

    def moved(t):
        return ({k: params[k] + t * v[0][k] for k in params}, z + t * v[1], s + t * v[2])
    ahead, behind = grad(*moved(h)), grad(*moved(-h))
    for got, a, b in zip(oracle.leaves_of(hv), oracle.leaves_of(ahead), oracle.leaves_of(behind)):
        np.testing.assert_allclose(got, (a - b) / (2 * h), rtol=1e-5, atol=1e-7)
