"""Generated derivatives on a foreign array type: the strict duck array of ``tests/duck.py``.

Every case of the primitive table (``tests/programs/primitive_cases.py``, checked by
``tests/test_primitives.py``) runs again with its
array arguments wrapped in :class:`duck.Duck`, which NumPy reaches only through
``__array_function__``/``__array_ufunc__`` and which refuses conversion to an ndarray.
The derivatives must equal those on the plain ndarrays (which the table checks against
finite differences) and come back as Duck arrays: a helper or template that makes an
ndarray from its operands (``np.array``, ``np.zeros(shape)``, a stride-0 view), or
converts a foreign array, fails here. Reverse mode (grad or vjp), forward mode (jvp,
one direction and a batch of three) and, for the cases of the table's second-order test,
forward over reverse. A case whose function itself converts its argument (``np.asarray(a)``,
a write into an ndarray it made) cannot run on a Duck and is skipped, saying so.

The random programs of :mod:`tests.programs.generator` run on Duck arrays in
``test_random_programs_on_duck_arrays`` (``check(..., duck=True)``).
"""

import numpy as np
import pytest

import oracle
import s2sad
from tests.programs import loops as checkpointed
from tests.programs import primitive_cases as table
from tests.duck import Converted, Duck, duck, unwrap
from s2sad import support
from tests.programs.generator import generate
from tests.programs.random_programs import check

ALL_CASES = [pytest.param(*c.values, id=c.id) for c in table.CASES + table.RAGGED_CASES]


def runs_on_duck(f, dargs):
    """Skip unless ``f`` itself runs on Duck arrays; return its value."""
    try:
        out = f(*dargs)
    except Converted:
        pytest.skip(f"{f.__name__} itself converts its argument to an ndarray")
    if f.__name__ in MIXES:
        pytest.skip(MIXES[f.__name__])
    if any(isinstance(a, Duck) for a in dargs) and isinstance(out, np.ndarray):
        pytest.skip(f"{f.__name__} makes an ndarray of Duck values (np.array of 0-d Duck arrays)")
    return out


MIXES = {"ix_write_read_between": "f updates an ndarray it made (np.ones) in place with Duck "
                                  "values, which an array library would refuse"}

def assert_same(got, expected, like, what, rtol=1e-10):
    """``got`` (from Duck inputs) equals ``expected`` (from ndarrays), and is a Duck where
    ``like`` (the argument, or f's value on Duck arrays, it belongs to) is one."""
    if isinstance(like, (tuple, list)):
        for k, (a, b, c) in enumerate(zip(got, expected, like)):
            assert_same(a, b, c, f"{what}[{k}]", rtol)
        return
    if isinstance(like, Duck) or np.ndim(like) > 0 and not isinstance(like, np.ndarray):
        assert isinstance(got, Duck), f"{what}: a {type(got).__name__}, not a Duck array"
    np.testing.assert_allclose(unwrap(got), expected, rtol=rtol, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("f, args", ALL_CASES)
def test_reverse_mode_on_duck_arrays(f, args):
    dargs = [duck(a) for a in args]
    out = runs_on_duck(f, dargs)
    wrt = tuple(range(len(args)))
    if np.ndim(out) == 0:
        expected, got = s2sad.grad(f, wrt)(*args), s2sad.grad(f, wrt)(*dargs)
    else:
        v = np.random.default_rng(7).standard_normal(np.shape(out))
        expected, got = s2sad.vjp(f, wrt)(*args, v), s2sad.vjp(f, wrt)(*dargs, Duck(v))
    assert_same(got, expected, dargs, f"{f.__name__}, reverse mode")


@pytest.mark.parametrize("f, args", ALL_CASES)
def test_forward_mode_on_duck_arrays(f, args):
    dargs = [duck(a) for a in args]
    like = runs_on_duck(f, dargs)
    wrt = tuple(range(len(args)))
    jvp = s2sad.jvp(f, wrt)
    for batch in ((), (3,)):
        us = oracle.random_directions(args, wrt, seed=5, batch=batch)
        value, out_dot = jvp(*args, *us)
        dus = [duck(u) if isinstance(a, np.ndarray) else u for a, u in zip(args, us)]
        dvalue, dout_dot = jvp(*dargs, *dus)
        assert_same(dvalue, value, like, f"{f.__name__}, jvp's value")
        assert_same(dout_dot, out_dot, like, f"{f.__name__}, jvp{list(batch)}")


@pytest.mark.parametrize("case", ["s_split", "s_hsplit_1d", "l_slogdet_sign", "h_bars"])
def test_vector_mode_of_tuple_valued_primitives_on_duck_arrays(case):
    # the tangents of a value that is a tuple (np.split's list, slogdet's pair) are stacked
    # per direction with np.stack, which once converted each tuple to an ndarray
    f, args = next(c.values for c in table.CASES if c.id == case)
    us = oracle.random_directions(args, (0,), seed=5, batch=(3,))
    value, expected = s2sad.jvp(f)(*args, *us)
    dvalue, got = s2sad.jvp(f)(*map(duck, args), *map(duck, us))
    assert isinstance(got, Duck) and np.shape(got) == np.shape(expected) == (3,) + np.shape(value)
    np.testing.assert_allclose(unwrap(got), expected, rtol=1e-10)


@pytest.mark.parametrize("f, args", [pytest.param(*c.values, id=c.id)
                                     for c in table.second_order_cases() if not c.marks])
def test_forward_over_reverse_on_duck_arrays(f, args):
    dargs = [duck(a) for a in args]
    out = runs_on_duck(f, dargs)
    rng = np.random.default_rng(11)
    v, d = rng.standard_normal(np.shape(out)), rng.standard_normal(np.shape(args[0]))
    if isinstance(args[0], float):
        d = float(d)
    jvp_vjp = s2sad.jvp(s2sad.vjp(f))
    expected = jvp_vjp(*args, v, d)
    got = jvp_vjp(*dargs, Duck(v), duck(d))
    assert_same(got[1], expected[1], dargs[0], f"{f.__name__}, jvp of vjp")


@pytest.mark.parametrize("how", ["sqrt", 3, ("binomial", 2), "binomial"])
@pytest.mark.parametrize("fn", [checkpointed.two_carried, checkpointed.over_rows])
def test_checkpointed_loops_on_duck_arrays(fn, how):
    # snapshots of Duck states, a loop over the rows of a Duck array (over_rows), sliced into
    # segments or Revolve's ranges; the gradient and an hvp are Duck arrays equal to NumPy's
    args = checkpointed.inputs(fn, 11, seed=4)
    dargs = [duck(a) if isinstance(a, np.ndarray) else a for a in args]
    expected = s2sad.grad(fn, wrt=(0, 1))(*args)
    got = s2sad.grad(fn, wrt=(0, 1), checkpoint=how)(*dargs)
    assert_same(got, expected, dargs[:2], f"{fn.__name__}, checkpoint={how!r}")
    v = np.random.default_rng(5).standard_normal(args[0].shape)
    assert_same(s2sad.hvp(fn, checkpoint=how)(*dargs, Duck(v)), s2sad.hvp(fn)(*args, v),
                dargs[0], f"{fn.__name__}, hvp with checkpoint={how!r}")


@pytest.mark.parametrize("seed", range(300))
def test_random_programs_on_duck_arrays(seed):
    source = generate(seed)
    modes = ("grad", "jvp", "hvp") if seed % 4 == 0 else ("grad", "jvp")
    result = check(source, seed, modes, duck=True)
    assert result["cls"] in ("ok", "refused", "skipped"), (
        f"program {seed} (python -m tests.programs.random_programs --duck --seeds {seed}): "
        f"{result['cls']} in {result['mode']}: {result['reason']}\n{source}\n{result['error']}")


# --- the duck array is strict, and the helpers' fast and generic paths agree ----------------

def test_the_duck_array_refuses_conversion():
    d = Duck(np.arange(3.0))
    for convert in (np.asarray, np.array, np.ascontiguousarray):
        with pytest.raises(Converted):
            convert(d)
    assert isinstance(np.sin(d), Duck) and isinstance(np.sum(d), Duck)
    assert isinstance(np.zeros_like(d), Duck) and isinstance(np.eye(2, like=d), Duck)
    with pytest.raises(AttributeError):
        d.strides  # noqa: B018


def helper_calls():
    rng = np.random.default_rng(3)
    x, g34, g4 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    square = rng.standard_normal((4, 4))
    return {
        "unreduce of the seed": (support.unreduce, (1.0, x)),
        "unreduce along an axis": (support.unreduce, (g4, x, 0)),
        "unindex with repeats": (support.unindex, (g34[:, :3], square[:3], (slice(None), [0, 2, 0]))),
        "unindex with a mask": (support.unindex, (g4[:2], g4, np.array([True, False, True, False]))),
        "undiagonal": (support.undiagonal, (g4[:3], square, 1)),
        "zeros_bar": (support.zeros_bar, (x,)),
        "setitem_bar": (support.setitem_bar, (g34, (0, slice(1, 3)))),
        "setitem_dot": (support.setitem_dot, (g34, 1, g4)),
        "unconcatenate": (support.unconcatenate, (g34[:2], [x[:1], x[1:2]])),
        "matmul_bar_a_sum": (support.matmul_bar_a_sum, ([(g4, g4[::-1]), (g4 * 2, g4)], square)),
        "unbroadcast to a number": (support.unbroadcast, (g34, 2.0)),
        "stack_directions of tuples": (support.stack_directions, ([(g4, g4 * 2), (g4, -g4)],)),
        "stack_directions of arrays": (support.stack_directions, ([g4, g4 * 2, -g4],)),
    }


@pytest.mark.parametrize("name", list(helper_calls()))
def test_helpers_generic_paths_agree_with_their_ndarray_fast_paths(name):
    helper, args = helper_calls()[name]
    expected = helper(*args)
    got = helper(*[duck(a) if isinstance(a, np.ndarray) else
                   [duck(e) for e in a] if isinstance(a, list) and isinstance(a[0], np.ndarray)
                   else [tuple(map(duck, e)) for e in a] if isinstance(a, list) else a
                   for a in args])
    if isinstance(expected, tuple):  # stack_directions of tuples: a tuple of batches
        assert isinstance(got, tuple) and len(got) == len(expected), name
        for g, e in zip(got, expected):
            assert isinstance(g, Duck), f"{name} gave a {type(g).__name__} element"
            np.testing.assert_allclose(unwrap(g), e, rtol=1e-12)
        return
    assert isinstance(got, Duck), f"{name} gave a {type(got).__name__}"
    np.testing.assert_allclose(unwrap(got), expected, rtol=1e-12)
