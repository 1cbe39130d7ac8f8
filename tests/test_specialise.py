"""Call-time specialisation (s2sad.specialise, s2sad.kinds): the generated gradient
specialised on the kinds of the arguments it meets, cached per signature.

Every gradient is checked against finite differences (oracle.gradient), for the first
signature a derivative meets and for those it meets later (which go through the guard
to ``_other_kinds``); the texts check what was rewritten and what was kept.
"""

import numpy as np
import pytest

import oracle
import s2sad
from measure import peak_of
from tests.programs.loops import chain, rnn_dot
from s2sad.kinds import Kind
from s2sad.rewrites import specialise_function
from s2sad.specialise import GUARD_NAMES, kind_of, kind_test


def reads(w, x):
    return 1.0 / (1.0 + np.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def scale(x):
    return x * 3.0


def total(x):
    return np.sum(x * x)


def changes_rank(W, x):
    h = 1.0
    for i in range(2):
        h = np.dot(W, h * x)
    return np.sum(h)


def matmuls(A, b):
    return np.sum(np.tanh(A @ b))


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def rng():
    return np.random.default_rng(3)


def test_source_shows_the_specialised_module_and_keeps_the_generic_one():
    W, h = rng().standard_normal((4, 4)) / 2, rng().standard_normal(4)
    generic = s2sad.source(rnn_dot, wrt=(0, 1))
    special = s2sad.source(rnn_dot, wrt=(0, 1), specialise_for=(W, h, 3))
    assert "dot_bar_b(v" in generic and "check_scalar(out" in generic
    assert ".dot(W)" in special and "dot_bar_b(v" not in special.split("def vjp_")[0]
    assert "type(W) is _ndarray and W.ndim == 2 and W.dtype is _float64" in special
    assert "return _other_kinds(W, h, T)" in special
    assert "check_scalar(out" not in special.split("def vjp_")[0]  # np.sum gives a number
    assert s2sad.source(rnn_dot, wrt=(0, 1)) == generic


@pytest.mark.parametrize("W_shape, h_shape", [((4, 4), (4,)), ((4, 4), (4, 2)), ((4,), (4,))])
def test_each_signature_gets_its_own_correct_gradient(W_shape, h_shape):
    g = s2sad.grad(rnn_dot, wrt=(0, 1))
    first = (rng().standard_normal((3, 3)) / 2, rng().standard_normal(3), 2)
    close(g(*first)[0], oracle.gradient(rnn_dot, first, 0))  # the first kinds met
    r = rng()
    W, h = r.standard_normal(W_shape) / 2, r.standard_normal(h_shape)
    args = (W, h, 1 if len(W_shape) == 1 else 3)
    W_bar, h_bar = g(*args)  # other kinds: through the guard, specialised again
    close(W_bar, oracle.gradient(rnn_dot, args, 0))
    close(h_bar, oracle.gradient(rnn_dot, args, 1))


def test_element_reads_write_into_fresh_arrays():
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    special = s2sad.source(reads, wrt=(0, 1), specialise_for=(w, x))
    assert "w_bar[2] = " in special and "scatter_add(w_bar" not in special.split("def value")[0]
    assert "return w_bar, x_bar" in special
    g = s2sad.grad(reads, wrt=(0, 1))
    for _ in range(2):
        w_bar, x_bar = g(w, x)
        close(w_bar, oracle.gradient(reads, (w, x), 0))
        close(x_bar, oracle.gradient(reads, (w, x), 1))
        assert w_bar.flags.writeable and not np.shares_memory(w_bar, w)
    w_list = [2.0, -3.0, -3.0]  # a list: not specialised on, the generic function serves
    close(g(w_list, x)[1], oracle.gradient(reads, (w, x), 1))


def test_a_gradient_of_an_argument_itself_stays_a_fresh_writable_array():
    x = rng().standard_normal(5)
    g = s2sad.grad(total)
    for _ in range(2):
        x_bar = g(x)
        close(x_bar, 2 * x)
        x_bar[0] = 7.0  # as_gradient kept: the gradient is the caller's to write into
        assert x[0] != 7.0


def test_a_non_scalar_output_is_still_refused_after_a_scalar_call():
    g = s2sad.grad(scale)
    assert g(2.0) == 3.0  # a Python float: check_scalar dropped for this signature
    assert "check_scalar" not in s2sad.source(scale, specialise_for=(2.0,)).split(
        "def value_and_grad")[0]
    with pytest.raises(s2sad.NonScalarOutputError, match="returned an array of shape"):
        g(np.ones(3))  # an array: another signature, whose check stays
    assert "check_scalar(out" in s2sad.source(scale, specialise_for=(np.ones(3),))


def test_a_value_whose_rank_changes_in_a_loop_keeps_the_generic_helpers():
    W, x = rng().standard_normal((3, 3)), rng().standard_normal(3)
    special = s2sad.source(changes_rank, wrt=(0, 1), specialise_for=(W, x))
    head = special.split("def value_and_grad")[0]  # h: a number, then a vector: not known
    assert "dot_bar_b(h_2_bar, W, v2)" in head and "unbroadcast(v2_bar * x, h_1)" in head
    g = s2sad.grad(changes_rank, wrt=(0, 1))
    for _ in range(2):
        W_bar, x_bar = g(W, x)
        close(W_bar, oracle.gradient(changes_rank, (W, x), 0))
        close(x_bar, oracle.gradient(changes_rank, (W, x), 1))


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 4), (4, 2)), ((4,), (4, 3)),
                                    ((4,), (4,))])
def test_matmul_adjoints_by_rank(shapes):
    r = rng()
    A, b = r.standard_normal(shapes[0]), r.standard_normal(shapes[1])
    special = s2sad.source(matmuls, wrt=(0, 1), specialise_for=(A, b))
    assert "matmul_bar_" not in special.split("def value_and_grad")[0]
    value_and_grad = s2sad.value_and_grad(matmuls, wrt=(0, 1))
    for _ in range(2):
        value, (A_bar, b_bar) = value_and_grad(A, b)
        close(value, matmuls(A, b))
        close(A_bar, oracle.gradient(matmuls, (A, b), 0))
        close(b_bar, oracle.gradient(matmuls, (A, b), 1))


def test_nothing_to_specialise_gives_none():
    source = "def f(x):\n    y = g(x)\n    return y\n"
    assert specialise_function(source, [Kind(1, "d")]) is None


def test_a_check_alone_in_its_block_stays():
    source = ("def f(x):\n    if x:\n        check_scalar(x, 'f')\n"
              "    check_scalar(x, 'f')\n    return x\n")
    out = specialise_function(source, [Kind(0, "d", python=True)])
    assert out == "def f(x):\n    if x:\n        check_scalar(x, 'f')\n    return x\n"


@pytest.mark.parametrize("value", [
    1.5, 3, True, np.float64(2.0), np.float32(2.0), np.ones(3), np.ones((2, 3)),
    np.arange(4), np.ones(3, dtype=np.float32), np.ones(3).astype(">f8"), np.array(2.0),
    np.ones(3).view(np.recarray), [1.0, 2.0], None])
def test_the_guard_accepts_exactly_the_kind_it_was_made_for(value):
    """Else a call would go from the guard to _other_kinds and back, without end."""
    kind = kind_of(value)
    if kind is None:
        return  # not specialised on: no test in the guard
    assert eval(kind_test("v", kind), {"np": np, **GUARD_NAMES}, {"v": value})
    for other in (1.5, 3, np.float64(2.0), np.ones(3), np.ones((2, 3)), np.arange(4)):
        if kind_of(other) != kind:
            assert not eval(kind_test("v", kind), {"np": np, **GUARD_NAMES}, {"v": other})


def reads_twice(w):
    a = w[0] * w[1]
    b = np.sin(w[0]) * w[2]
    return a + b * w[1]


def reads_in_a_loop(w):
    s = 0.0
    for i in range(3):
        s = s + w[0] * w[1]
    return s * w[0]


@pytest.mark.parametrize("f", [reads_twice, reads_in_a_loop])
def test_a_first_write_into_zeros_assigns_and_later_ones_add(f):
    w = np.array([0.7, -1.3, 2.1])
    head = s2sad.source(f, specialise_for=(w,)).split("def value_and_grad")[0]
    assert "w_bar = np.zeros(w.shape)" in head
    writes = [line.strip() for line in head.splitlines() if line.strip().startswith("w_bar[")]
    assert writes and all("+=" in line for line in writes if " = " not in line)
    firsts = [line.split(" =")[0] for line in writes if " = " in line]
    assert len(firsts) == len(set(firsts))  # each element assigned at most once
    g = s2sad.grad(f)
    for _ in range(2):
        close(g(w), oracle.gradient(f, (w,), 0))


def test_what_is_differentiated_is_still_checked_after_a_specialised_call():
    """The gradient's fast path leaves the check to what its slot holds: a guard of float
    kinds, or _other_kinds, which checks every call it serves."""
    g = s2sad.grad(total)
    close(g(np.ones(3)), 2 * np.ones(3))  # specialised for a float64 vector
    for bad, what in ((np.arange(3), "an array of dtype int64"), ("a", "a str object"),
                      ([1, 2], "int 1")):
        with pytest.raises(s2sad.UsageError, match=f"with respect to x: it is {what}"):
            g(bad)
    close(g(np.ones(3)), 2 * np.ones(3))
    close(g(np.ones((2, 2))), 2 * np.ones((2, 2)))  # another rank: specialised again


def test_arrays_are_freed_after_their_last_use():
    x = rng().standard_normal(50)
    head = s2sad.source(chain, wrt=(0, 1), specialise_for=(x, 1.5)).split(
        "def value_and_grad")[0]
    assert "    del t2\n" in head  # t3 = 0.5 * t2 was its last use
    assert "del x" not in head and "del s" not in head  # arguments stay the caller's
    g = s2sad.grad(chain, wrt=(0, 1))
    for _ in range(2):
        x_bar, s_bar = g(x, 1.5)
        close(x_bar, oracle.gradient(chain, (x, 1.5), 0))
        close(s_bar, oracle.gradient(chain, (x, 1.5), 1))


def normalise(X, g):
    mu = np.mean(X, axis=1, keepdims=True)
    xc = X - mu
    var = np.mean(xc * xc, axis=1, keepdims=True)
    return np.sum(np.tanh(g * (xc / np.sqrt(var + 1e-5))))


def test_an_array_read_only_for_its_shape_is_replaced_by_a_stand_in():
    """After t0's last value read (t1 = t0 / s, in place), unbroadcast(g, t0) reads only its shape:
    the name is bound to a zero-strided stand-in there, so the array is freed."""
    x = rng().standard_normal(50)
    head = s2sad.source(chain, wrt=(0, 1), specialise_for=(x, 1.5)).split(
        "def value_and_grad")[0]
    lines = head.splitlines()
    stand_in = "    t0 = np.ndarray(t0.shape, t0.dtype, _zero_bytes, 0, (0,))"
    assert [i for i, line in enumerate(lines) if line.startswith(stand_in)] == [
        lines.index("    t1 = np.divide(t0, s, out=t0)") + 1]  # (t0's memory: see inplace)
    assert "unbroadcast(" in head.split(stand_in)[1]  # the shape read it serves


def test_stand_ins_free_memory_and_keep_the_gradient_exact():
    x = rng().standard_normal(200_000)
    g = s2sad.grad(chain, wrt=(0, 1))
    g(x, 1.5)  # specialised for a float64 vector and a float
    peak = peak_of(g, x, 1.5)
    # at most 4 arrays of x's size at once (t1, t1_bar, t0_bar and t1_bar * t1); without
    # the stand-ins of t0, t3 and v2 (read for their shapes by the backward sweep) and
    # the adjoints freed after their last use, 5
    assert peak < 4.5 * x.nbytes
    small = x[:50]
    x_bar, s_bar = g(small, 1.5)
    close(x_bar, oracle.gradient(chain, (small, 1.5), 0))
    close(s_bar, oracle.gradient(chain, (small, 1.5), 1))


def test_reductions_along_an_axis_are_followed():
    X, gamma = rng().standard_normal((4, 6)), rng().standard_normal(6)
    text = s2sad.source(normalise, wrt=(0, 1), specialise_for=(X, gamma))
    assert "mu = np.ndarray(mu.shape, mu.dtype, _zero_bytes, 0, (0, 0))" in text
    g = s2sad.grad(normalise, wrt=(0, 1))
    for args in ((X, gamma), (X[:2], gamma)):
        X_bar, gamma_bar = g(*args)
        close(X_bar, oracle.gradient(normalise, args, 0))
        close(gamma_bar, oracle.gradient(normalise, args, 1))


def max_rows(X):
    return np.sum(np.tanh(np.max(X, axis=1)) * np.mean(X, 0))


def shifted(X):
    return np.sum(np.exp(X - np.max(X, axis=1, keepdims=True)) / np.sum(X * X, axis=0))


def centred(x):
    return np.mean(np.sin(x - np.mean(x))) + np.sum(x, axis=0) * np.amax(x, 0)


@pytest.mark.parametrize("f, shape", [(max_rows, (4, 4)), (shifted, (3, 5)), (centred, (6,))])
def test_reductions_keep_their_kinds_for_every_axis_form(f, shape):
    """np.max/mean/sum/amax over all axes, one axis by keyword or position, keepdims or
    not: what kinds infer is what NumPy gives (a wrong rank would change a rewrite)."""
    a = rng().standard_normal(shape)
    assert "specialised for these kinds" in s2sad.source(f, specialise_for=(a,))
    g = s2sad.grad(f)
    for x in (a, a[:2, :2] if a.ndim == 2 else a[:3]):
        close(g(x), oracle.gradient(f, (x,), 0))
