"""Regression tests for issue 10's minimal programs: each once gave a silently wrong
derivative or a raw Python error. Each is checked against finite differences in both
modes and at order 2 (``check_grads``), against an exact formula where one is short,
or asserted to be a located s2sad error."""

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import InternalError, UnsupportedSyntaxError
from s2sad.api import raise_failure
from s2sad.verify import check_module

X = np.array([0.5, -0.3, 0.7])


def check(f, *args, order=2):
    for wrt in range(len(args)):
        s2sad.check_grads(f, args, wrt=wrt, modes=("forward", "reverse"), order=order)


# 1. an inactive array written in a loop left an empty loop in the backward sweep
def inactive_write_in_loop(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = 1.0
    return x * np.sum(y)


def inactive_write_in_branch(x):
    y = np.zeros(3)
    if x > 0.0:
        y[1] = 2.0
    return x * np.sum(y)


def test_an_inactive_write_in_a_loop_compiles_and_differentiates():
    assert s2sad.grad(inactive_write_in_loop)(0.7) == 3.0
    check(inactive_write_in_loop, 0.7)
    assert "for i in reversed" not in s2sad.source(inactive_write_in_loop)


def test_an_inactive_write_in_a_branch():
    assert s2sad.grad(inactive_write_in_branch)(0.7) == 2.0
    check(inactive_write_in_branch, 0.7)


# 4. a, = t was lowered as a = t
def one_value(x):
    return (np.sin(x) * x,)


def unpack_one_from_a_tuple(x):
    t = (x * 2.0,)
    a, = t
    return a * x


def unpack_one_from_a_helper(x):
    a, = one_value(x)
    return a * x


def test_single_element_unpacking():
    assert s2sad.grad(unpack_one_from_a_tuple)(0.7) == pytest.approx(4 * 0.7)
    assert s2sad.hvp(unpack_one_from_a_tuple)(0.7, 1.0) == pytest.approx(4.0)
    for f in (unpack_one_from_a_tuple, unpack_one_from_a_helper):
        check(f, 0.7)


def test_second_order_through_a_helper_with_one_residual():
    x = 0.7
    # d2/dx2 of x^2 sin x = 2 sin x + 4 x cos x - x^2 sin x
    expected = 2 * np.sin(x) + 4 * x * np.cos(x) - x * x * np.sin(x)
    assert s2sad.hvp(unpack_one_from_a_helper)(x, 1.0) == pytest.approx(expected)


# 5. a write whose value is the array itself
def write_itself_fancy(x):
    v = x * 1.0
    v[[0, 1, 2]] = v
    return np.sum(v * v)


def write_itself_slice(x):
    v = x * 1.0
    v[:] = v
    return np.sum(v * v)


def write_itself_scaled(x):
    v = x * 1.0
    v[1:] = v[1:] * 3.0
    return np.sum(v * v)


@pytest.mark.parametrize("f", [write_itself_fancy, write_itself_slice])
def test_a_write_of_the_array_into_itself(f):
    np.testing.assert_allclose(s2sad.grad(f)(X), 2 * X)
    check(f, X)


def test_a_write_of_part_of_the_array_into_itself():
    np.testing.assert_allclose(s2sad.grad(write_itself_scaled)(X), 2 * X * [1, 9, 9])
    check(write_itself_scaled, X)


# 6. boolean masks as adjoints
def two_clips(x):
    return np.sum(np.clip(x, -.5, .8)) + np.sum(np.clip(x, -.4, .9))


def negated_clip(x):
    return -np.sum(np.clip(x, -.5, .8))


def negated_minimum(x):
    return -np.minimum(2.0, x)


def maximum_sum(x):
    return np.sum(np.maximum(x, 0.0))


def test_adjoints_of_masks_are_float():
    g = s2sad.grad(two_clips)(X)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])
    g = s2sad.grad(negated_clip)(X)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [-1.0, -1.0, -1.0])
    g = s2sad.grad(negated_minimum)(0.5)
    assert g == -1.0 and isinstance(g, float)
    g = s2sad.grad(maximum_sum)(X)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])
    for f in (two_clips, negated_clip, maximum_sum):
        check(f, X)


# 11. np.r_ and np.c_ of a differentiated value: lowered to the joins they are (the derivatives
# are tests/test_concatenators.py's); their string directives are located errors
def concatenate_by_r(x):
    return np.sum(np.r_['0,1', x, 2 * x] ** 2)


def columns_by_c(x):
    return np.sum(np.c_['c', x, x] ** 2)


def r_of_constants(x):
    return np.sum(x * np.r_[1.0, 2.0, 3.0])


@pytest.mark.parametrize("f, what", [(concatenate_by_r, "np.r_"), (columns_by_c, "np.c_")])
@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.jvp])
def test_np_r_and_c_directives_are_located_errors(f, what, transform):
    args = (X, X) if transform is s2sad.jvp else (X,)
    with pytest.raises(UnsupportedSyntaxError, match=rf"{what}\[a, b, \.\.\.\] .* string directive") \
            as info:
        transform(f)(*args)
    assert info.value.loc.line == f.__code__.co_firstlineno + 1


def test_np_r_of_constants_is_a_constant():
    np.testing.assert_allclose(s2sad.grad(r_of_constants)(X), [1.0, 2.0, 3.0])


def dot_nd(a, b):
    return np.sum(np.dot(a, b) ** 2)


@pytest.mark.parametrize("shapes", [((2, 3), (4, 3, 2)), ((5, 2, 3), (3,)), ((4,), (2, 4, 3)),
                                    ((2, 2, 3), (2, 3, 4)), ((2, 3), (3, 4)), ((3,), (3,)),
                                    ((), (2, 3))])
def test_np_dot_of_n_d_arrays(shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s) for s in shapes)
    check(dot_nd, a, b)


# the generated module is checked when it is built
def test_a_module_that_does_not_compile_is_an_internal_error():
    with pytest.raises(InternalError, match="(?s)does not compile.*bug in s2sad"):
        check_module("def grad_f(x):\n    for i in x:\n# nothing\n    return x\n", "f")


def test_a_module_reading_an_undefined_name_is_an_internal_error():
    with pytest.raises(InternalError, match="grad_f .*reads names it never defines: v9"):
        check_module("import numpy as np\n\ndef grad_f(x):\n    return np.sin(x) + v9\n", "f")
    check_module("import numpy as np\n\ndef grad_f(x):\n    return np.sin(x) + v9\n", "f",
                 bindings={"v9": 1.0})


@pytest.mark.parametrize("body", [
    "    return sum(v9 * t for t in x)\n",  # in a generator's own code
    "    h = lambda t: t * v9\n    return h(x)\n",  # in a lambda's
    "    for i in range(3):\n        x = x + np.float64(i) * v9\n    return x\n",
    "    return np.array([t * v9 for t in x])\n",  # in a comprehension's
])
def test_a_name_read_anywhere_in_a_function_is_checked(body):
    with pytest.raises(InternalError, match="grad_f .*never defines: v9"):
        check_module(f"import numpy as np\n\ndef grad_f(x):\n{body}", "f")


def test_an_attribute_or_a_local_is_no_read_of_a_global_name():
    check_module("import numpy as np\n\ndef grad_f(x):\n    v9 = np.v9(x)\n    return v9\n\n"
                 "def other(x):\n    return x.v9 + np.linalg.v10\n", "f")


def test_a_default_value_or_a_base_class_reading_an_undefined_name_is_an_internal_error():
    with pytest.raises(InternalError, match="top level reads names it never defines: c0"):
        check_module("def grad_f(x, y=c0):\n    return x\n", "f")
    with pytest.raises(InternalError, match="top level reads names it never defines: Base"):
        check_module("class Failed(Base):\n    pass\n", "f")


def test_a_read_among_many_global_names_is_checked():
    """More than 128 names in a function: operands widened by EXTENDED_ARG."""
    names = [f"g{k}" for k in range(300)]
    defined = "".join(f"{n} = {k}\n" for k, n in enumerate(names))
    body = "def grad_f(x):\n    return x + " + " + ".join(names) + " + v9\n"
    with pytest.raises(InternalError, match="grad_f .*never defines: v9\n"):
        check_module(defined + body, "f")
    check_module(defined + body, "f", bindings={"v9": 1.0})


def test_the_names_the_check_reads_are_those_dis_reads():
    """The check's scan of the bytecode finds the instructions ``dis`` finds, on a generated
    module (its functions, lambdas, comprehensions and helper classes)."""
    import dis
    import types
    from s2sad import verify
    from s2sad.module import reverse_module

    source = reverse_module(inactive_write_in_loop, (0,)).source
    frontier, seen = [compile(source, "generated", "exec")], 0
    while frontier:
        code = frontier.pop()
        frontier += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        fast = sorted((op, code.co_names[k]) for op, k in verify._name_operands(code))
        wanted = verify._READS | verify._BINDS
        assert fast == sorted((i.opcode, i.argval) for i in dis.get_instructions(code)
                              if i.opcode in wanted), code.co_name
        seen += bool(fast)
    assert seen > 5


def test_a_module_is_compiled_once_when_made_and_loaded(monkeypatch):
    """The code the check compiled is what the cache loads (under the loader's file name)."""
    import builtins
    import s2sad.cache
    import s2sad.ir
    import s2sad.verify

    calls = []

    def counting(source, filename, *rest, **kw):
        calls.append(filename)
        return builtins.compile(source, filename, *rest, **kw)

    monkeypatch.setattr(s2sad.ir, "compile", counting, raising=False)
    monkeypatch.setattr(s2sad.verify, "compile", counting, raising=False)

    def once(x):
        return np.sin(x) * x

    gradient = s2sad.grad(once)
    assert gradient(0.5) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))
    # (the run-time helpers' part is compiled once per process: maybe by an earlier test)
    assert [c for c in calls if c != "<s2sad helpers>"] == ["<s2sad once>"]
    function = s2sad.generated_code.source_of(s2sad.cache.generated_function(gradient))
    assert "np.cos" in "".join(function[0])


def _broadcasting(x, y):
    return np.sum(np.exp(x * y) + x)


def test_a_module_run_from_its_two_codes_has_its_text_s_line_numbers():
    """The run-time helpers' code, compiled once per process, runs at their lines of the
    module: every function's first line is its def (or decorator) in the text."""
    import types
    import s2sad.cache

    s2sad.grad(_broadcasting, wrt=(0, 1))(np.ones((2, 3)), np.ones(3))
    namespace, generated = s2sad.cache.cached(_broadcasting, "reverse_grad", (0, 1))
    lines = generated.source.splitlines()
    assert "# --- run-time helpers" in generated.source
    functions = [v for v in namespace.values() if isinstance(v, types.FunctionType)
                 and v.__code__.co_filename == namespace["__loader__"].filename]
    assert {"grad__broadcasting", "unbroadcast"} <= {f.__name__ for f in functions}
    for f in functions:
        first = lines[f.__code__.co_firstlineno - 1].lstrip()
        assert first.startswith((f"def {f.__name__}(", "@")), (f.__name__, first)


def test_a_helper_reading_an_undefined_name_is_an_internal_error():
    helpers = "# --- run-time helpers\n\ndef helper(x):\n    return x + v10\n"
    with pytest.raises(InternalError, match="helper .*never defines: v10\n"):
        check_module("def grad_f(x):\n    return helper(x)\n\n" + helpers, "f")
    with pytest.raises(InternalError, match="does not compile.* at line 6: 'return x \\+'"):
        check_module("def grad_f(x):\n    return x\n\n# --- run-time helpers\n"
                     "def helper(x):\n    return x +\n", "f")


# run-time failures: the user's error stays the user's; s2sad's is labelled
def shapes_mismatch(x, y):
    return np.sum(x * y)


def test_the_users_own_error_is_raised_as_f_raises_it():
    with pytest.raises(ValueError, match="could not be broadcast"):
        s2sad.grad(shapes_mismatch)(np.ones(3), np.ones(4))


def sines(x):
    return np.sum(np.sin(x))


def failure_of_generated_code():
    """What a compiler bug looks like: generated code raising a TypeError."""
    namespace = {}
    exec(compile("def grad_f(x):\n    return x + None\n", "<s2sad reverse of f>", "exec"),
         namespace)
    try:
        namespace["grad_f"](X)
    except TypeError as exc:
        return exc


def test_a_failure_of_generated_code_on_arguments_f_accepts_is_an_internal_error():
    with pytest.raises(InternalError, match="(?s)generated for sines raised TypeError.*report") \
            as info:
        raise_failure(sines, failure_of_generated_code(), (X,))
    assert isinstance(info.value.__cause__, TypeError)
    assert info.value.loc.line == sines.__code__.co_firstlineno


def test_a_failure_where_f_fails_too_is_the_users_error():
    with pytest.raises(TypeError):
        raise_failure(shapes_mismatch, failure_of_generated_code(), (np.ones(3), np.ones(4)))


# writes into boolean and integer arrays cast the value written: no derivative flows
def write_into_a_mask(y):
    c = y > -0.29
    c[3] *= np.sum(y)
    return np.sum(c) + np.sum(y)


def write_into_an_arange(y):
    a = np.arange(4)
    a[1] = y[0] * 5.0
    return np.sum(a * y)


def write_into_int_zeros(y):
    a = np.zeros(4, dtype=int)
    a[1:3] = y[:2] * 5.0
    return np.sum(a * y)


def write_into_float_zeros(y):
    a = np.zeros(4)
    a[1] = y[0] * 5.0
    return np.sum(a * y)


Y = np.array([0.3, -0.5, 0.8, 0.1])


@pytest.mark.parametrize("f, expected", [
    (write_into_a_mask, [1.0, 1.0, 1.0, 1.0]),
    (write_into_an_arange, [0.0, 1.0, 2.0, 3.0]),
    (write_into_int_zeros, [0.0, 1.0, -2.0, 0.0]),
    (write_into_float_zeros, [5 * Y[1], 5 * Y[0], 0.0, 0.0])])
def test_a_write_into_an_integral_array_carries_no_derivative(f, expected):
    np.testing.assert_allclose(s2sad.grad(f)(Y), expected)
    check(f, Y)


# second order through helpers returning tuples with constant parts (random programs 268, 557)
W4 = np.array([-0.74, -0.0, 0.2, -0.94])


def pair_with_a_constant(p, q):
    return (q, W4)


def passes_pairs(p, q):
    d, b = pair_with_a_constant(1.0, q)
    return (b, b)


def first_of_two(p, q):
    return p


def through_constant_pairs(s):
    c, w = passes_pairs(s, s)
    return first_of_two(s, c) * s


def element_and_constant(p):
    return (p[0], W4)


def indexes_a_returned_tuple(y):
    t = element_and_constant(y)
    return np.sum(t[1]) + np.sin(t[0])


def test_hvp_through_helpers_returning_constant_tuple_parts():
    assert s2sad.hvp(through_constant_pairs)(0.3, 1.0) == pytest.approx(2.0)
    check(through_constant_pairs, 0.3)
    y = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(s2sad.hvp(indexes_a_returned_tuple)(y, y),
                               [-np.sin(0.1) * 0.1, 0, 0, 0])
    check(indexes_a_returned_tuple, y)


# random-program failure classes 7-10 (tests/programs, seeds 859, 155, 1241, 361, 792)
def list_of_an_array_updated_in_place(y, z):
    c = np.cos(y)
    outs = []
    for r in z:
        outs.append(c)
        c *= r  # NumPy: every entry of outs is this same array
    return np.sum(np.stack(outs))


def test_a_list_holding_an_array_updated_in_place_is_refused():
    with pytest.raises(s2sad.S2sadError) as info:
        s2sad.grad(list_of_an_array_updated_in_place)(Y, np.array([0.5, 0.6, 0.7]))
    assert info.value.loc is not None


def alias_written_then_rebound(x, s):
    b = np.sin(x)
    v = b
    v[:] = 0.5
    for k in range(2):
        b = s
    return s * 2.0 + np.sum(v) * s


def while_with_a_nested_early_return(y):
    t = 0
    while t < 3:
        t += 1
        c = t
        if t > 0:
            if t % 2 == 0:
                return c * c + np.sum(y * W4)
    return np.sum(y)


def ignores_its_second(p, q):
    return p


def unused_parameter_of_a_helper(z, s):
    return ignores_its_second(s, z) * s


def constant_helper(p, q):
    return 1.5


def constant_of_a_helper(y, s):
    return constant_helper(s, y[[0, 3]]) * s


def first_two(p, q):
    return p[:2]


def slice_of_a_helper(z, y):
    return np.sum(np.sin(first_two(z, y)))


def test_an_alias_written_then_rebound_by_a_loop_is_refused_where_it_is_carried():
    # (it crashed inside s2sad; now a located refusal: the loop carries the stale alias b)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="b shares memory with v") as info:
        s2sad.jvp(alias_written_then_rebound)(np.array([0.1, 0.2]), 0.4, np.ones(2))
    assert info.value.loc.line == alias_written_then_rebound.__code__.co_firstlineno + 4


@pytest.mark.parametrize("f, args", [
    (while_with_a_nested_early_return, (Y,)),
    (unused_parameter_of_a_helper, (np.array([0.1, 0.2, 0.3]), 0.4)),
    (constant_of_a_helper, (Y, 0.4)),
    (slice_of_a_helper, (np.array([0.1, 0.2, 0.3]), Y))])
def test_random_program_failures_stay_fixed(f, args):
    check(f, *args)
    for wrt in range(len(args)):
        v = tuple(np.ones_like(a) for a in args)[wrt]
        h = s2sad.hvp(f, wrt=wrt)(*args, v)
        assert np.shape(h) == np.shape(args[wrt])


# the last crashes of the 10,000-program run, all in hvp: a helper returning a tuple of
# constants (its zero tangent was np.zeros_like of a ragged tuple), and a module whose long
# line astor broke between a helper's name and its parenthesis (the helper was not copied)
W3 = np.array([0.91, -0.58, 0.66])


def constant_pair(p, q):
    return (0.7, W3)


def through_a_constant_pair(x, s):
    g, w = constant_pair(0.5, x)
    return np.sum(w) * s + np.sum(x ** 2) * g


def min_of_a_where(x, s):
    d = np.min(np.where(np.mean(x[0] + x) > 0.59, s, x[:2]), axis=0)
    return np.sum(d)


@pytest.mark.parametrize("f", [through_a_constant_pair, min_of_a_where])
def test_second_order_of_the_last_random_program_crashes(f):
    args = (np.array([[0.5, -0.3, 0.7, 0.2], [0.1, 0.4, -0.6, 0.9], [0.3, 0.8, -0.2, 0.6]]), 0.4)
    check(f, *args)
    for wrt in range(2):
        h = s2sad.hvp(f, wrt=wrt)(*args, np.ones_like(args[wrt]))
        assert np.shape(h) == np.shape(args[wrt])


def test_a_zero_tangent_of_a_nested_tuple_mirrors_it():
    def nested(x):
        return (0.7, (W3, 2.0)), x * 2.0
    # jvp's tangent of the constant part is zeros of the same structure
    _, (zero, x_dot) = s2sad.jvp(nested)(X, np.ones(3))
    assert isinstance(zero, tuple) and isinstance(zero[1], tuple)
    assert zero[0] == 0.0 and np.array_equal(zero[1][0], np.zeros(3)) and zero[1][1] == 0.0
    assert np.array_equal(x_dot, 2.0 * np.ones(3))


# a loop variable read after a nested loop of no trips keeps the value it had before that
# loop (it was taken from the last trip of an earlier run of the loop: a silently wrong
# gradient), and a loop variable only its loop reads is not carried by the enclosing loop
# (reading it after a loop of no trips raised UnboundLocalError in the generated code)
def loop_variable_after_no_trips(x):
    s = 0.0
    j = 7
    for i in range(3):
        for j in range(2 - i):
            s = s + x
        s = s + x * j
    return s


def loop_variable_reset_before_no_trips(x):
    s = 0.0
    for i in range(3):
        j = 5
        for j in range(i):
            s = s + x * x
        s = s + x * j
    return s


def loop_variable_of_an_inner_loop_only(x):
    s = 0.0
    for i in range(3):
        for j in range(i):
            s = s + x * j
    return s


@pytest.mark.parametrize("f, slope", [(loop_variable_after_no_trips, 4.0),
                                      (loop_variable_reset_before_no_trips, None),
                                      (loop_variable_of_an_inner_loop_only, 1.0)])
def test_a_loop_variable_after_a_loop_of_no_trips(f, slope):
    check(f, 0.7)
    if slope is not None:
        assert s2sad.grad(f)(0.7) == pytest.approx(slope)
    assert s2sad.jvp(f)(0.7, 1.0)[1] == pytest.approx(oracle.gradient(f, (0.7,)))


# hvp crashes of the 1,000 random programs run on the merged tree: the zero tangent of what a
# run-time helper returned (zeros_bar of a dict or a tuple parameter) and of a sum of tuple
# adjoints was np.zeros_like of a dict or a ragged tuple
def constant_of_a_dict(pq):
    return 0.5


def constant_of_a_pair(pq):
    return 0.5


def first_and_pair(pq):
    p = pq[0]
    q = pq
    return (p, q)


def through_a_dict_helper(x, s):
    return constant_of_a_dict({"p": x, "q": x}) + s * x[0]


def through_a_pair_helper(x, s):
    return constant_of_a_pair((0.25, x)) + s * np.sum(x)


def through_a_tuple_sum(x, s):
    d, e = first_and_pair((x, s))  # bwd of first_and_pair adds two tuple adjoints
    return np.sum(d)


@pytest.mark.parametrize("f", [through_a_dict_helper, through_a_pair_helper, through_a_tuple_sum])
def test_second_order_through_helpers_of_containers(f):
    check(f, X, 0.4)
    # hvp, forward over reverse as the random programs call it, against differences of grad
    v, h = (np.ones(3), 1.0), 1e-6
    hv = s2sad.hvp(f, wrt=(0, 1))(X, 0.4, v)
    grad = s2sad.grad(f, wrt=(0, 1))
    up, down = grad(X + h * v[0], 0.4 + h * v[1]), grad(X - h * v[0], 0.4 - h * v[1])
    for got, a, b in zip(hv, up, down):
        np.testing.assert_allclose(got, (np.asarray(a) - b) / (2 * h), rtol=1e-5, atol=1e-6)


# A tuple (or a comprehension's list) read whole by np.stack and by an element read: the
# element read's adjoint is a tuple of adjoints, np.stack's an array; adding the array to
# the tuple dropped it (tuple_bar took every non-tuple for a zero): a silently wrong gradient
def rows_read_twice(x, n):
    rows = [np.tanh(x * (k + 1.0)) for k in range(n)]
    return np.sum(np.stack(rows) ** 3) + np.sum(rows[0] * x)


def pair_read_twice(x):
    t = (np.sin(x), np.cos(x))
    return np.sum(np.stack(t) * np.array([[1.0], [2.0]])) + np.sum(t[1] * x)


@pytest.mark.parametrize("f, args", [(rows_read_twice, (X, 3)), (pair_read_twice, (X,))])
def test_a_tuple_read_whole_and_by_element_gets_both_adjoints(f, args):
    expected = oracle.gradient(f, args, 0, h=1e-6)
    np.testing.assert_allclose(s2sad.grad(f)(*args), expected, rtol=1e-6, atol=1e-8)
    s2sad.check_grads(f, args, order=2, modes=("forward",))  # forward over reverse


def test_adjoints_of_containers_add_element_by_element_or_fail():
    from s2sad.support import add_bars, bars, dict_bar
    total = bars((np.ones(2), None)) + np.array([[1.0, 2.0], [3.0, 4.0]])  # np.stack's adjoint
    np.testing.assert_array_equal(total[0], [2.0, 3.0])
    np.testing.assert_array_equal(total[1], [3.0, 4.0])
    assert bars((1.0, 2.0)) + 0.0 == [1.0, 2.0]  # a zero
    with pytest.raises(ValueError, match="adjoints of 2 and 3 elements"):
        add_bars(bars((1.0, 2.0)), (1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match="adjoint of a tuple"):
        bars((1.0, 2.0)) + 5.0
    assert add_bars(dict_bar(a=1.0), dict_bar(b=2.0)) == {"a": 1.0, "b": 2.0}
    with pytest.raises(TypeError, match="adjoint of a dict"):
        dict_bar(a=1.0) + np.ones(2)


def test_one_addition_of_adjoints_serves_tuples_lists_and_batches():
    """add_bars is the one addition of adjoints: a list's adjoints (add_contents_bar) and vector
    mode's batches (add_dots, add_contents_dots) add with it, element by element, and
    containers of different lengths fail instead of a sum cut short."""
    from s2sad.support import add_bars, add_contents_bar, add_contents_dots, add_dots
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])  # np.stack's adjoint of a pair
    total = add_bars((np.ones(2), None), rows)  # a pair pushed, one element never read
    np.testing.assert_array_equal(total[0], [2.0, 3.0])
    np.testing.assert_array_equal(total[1], [3.0, 4.0])
    batches = np.arange(12.0).reshape(3, 2, 2)  # 3 directions of the pair's adjoint
    total = add_dots((np.ones((3, 2)), np.zeros((3, 2))), batches)
    np.testing.assert_array_equal(total[0], batches[:, 0] + 1.0)
    np.testing.assert_array_equal(total[1], batches[:, 1])
    pair = add_dots((np.ones((3, 2)), np.zeros((3, 2))), (np.ones((3, 2)), np.ones((3, 2))))
    assert len(pair) == 2 and np.all(pair[0] == 2.0) and np.all(pair[1] == 1.0)  # not joined
    t_bar = [(np.ones(2), None)]
    add_contents_bar(t_bar, [rows])
    np.testing.assert_array_equal(t_bar[0][1], [3.0, 4.0])
    with pytest.raises(ValueError, match="adjoints of 2 and 3 elements"):
        add_contents_bar([(1.0, 2.0)], [(1.0, 2.0, 3.0)])
    t_dot = [(np.ones((3, 2)), None)]
    add_contents_dots(t_dot, batches[:, None])  # one element, a pair, in each direction
    np.testing.assert_array_equal(t_dot[0][0], batches[:, 0] + 1.0)
    np.testing.assert_array_equal(t_dot[0][1], batches[:, 1])


# --- found by the random programs' other mechanisms (tests/programs/mechanisms.py) --------


def list_slot_written(x, s):
    hs = [x * 0.5, x * s]
    hs[1] = hs[0] * s
    return np.sum(np.stack(hs))


def list_slots_in_a_loop(x, s):
    hs = [x * 0.5, x * s, np.sin(x)]
    for i in range(1, 3):
        hs[i] = np.tanh(hs[i - 1] * s) + hs[i]
    return np.sum(hs[2]) + np.sum(np.stack(hs))


@pytest.mark.parametrize("f", [list_slot_written, list_slots_in_a_loop])
def test_writes_into_a_list_slot_at_second_order(f):
    """The gradient code of ``hs[i] = v`` writes into the list and its adjoint list: the
    tangent of such a write (setitem_dot, setitem_dots: hvp, hessian) and its adjoint
    (setitem_bar: reverse over reverse) took the list for an array (``.astype``)."""
    x, s = X, 0.7
    s2sad.check_grads(f, (x, s), wrt=(0, 1), modes=("forward", "reverse"), order=2)
    hessian = s2sad.hessian(f, wrt=(0, 1))(x, s)
    v = (np.array([0.2, -1.0, 0.4]), 0.3)
    hv = s2sad.hvp(f, wrt=(0, 1))(x, s, v)
    rr = s2sad.vjp(s2sad.grad(f, wrt=(0, 1)), wrt=(0, 1))(x, s, v)
    for i in range(2):
        by_blocks = sum(np.tensordot(hessian[i][j], v[j], axes=np.ndim(v[j])) for j in range(2))
        expected = oracle.derivative(s2sad.grad(f, wrt=i), (x, s), (0, 1), v, h=1e-4, order=4)
        np.testing.assert_allclose(hv[i], expected, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(by_blocks, expected, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(rr[i], expected, rtol=1e-6, atol=1e-8)  # H is symmetric


def mean_of_a_list(y):
    items = [np.min(y) / (q + 1.0) for q in range(2)]
    return np.sum(items, axis=0)


def test_the_hessian_through_a_list_no_adjoint_was_added_to():
    """np.sum of a list: the list's adjoints come from a constant, so their tangents in the
    gradient code are an empty list, whose pops gave zeros without vector mode's axis of
    directions (hessian: TypeError 'numpy.float64' object is not iterable)."""
    y = np.array([0.3, -0.5, 0.8])
    np.testing.assert_array_equal(s2sad.hessian(mean_of_a_list)(y), np.zeros((3, 3)))
    np.testing.assert_allclose(s2sad.grad(mean_of_a_list)(y), [0.0, 1.5, 0.0])


def dict_loss(params, z):
    return np.sum(np.sin(params["w"]) * z) + np.sum(params["b"] ** 2) * np.sum(z)


def test_jvp_of_a_gradient_returns_the_callers_containers():
    """jvp of a gradient with respect to a dict: its tangent came back in the generated code's
    adjoint containers (dict_bar) instead of the dict grad returns."""
    params = {"w": np.array([0.3, 0.5]), "b": np.array([1.0, 2.0])}
    z = np.array([0.2, 0.4])
    tangent = ({"w": np.ones(2), "b": np.zeros(2)}, np.array([1.0, -1.0]))
    value, out_dot = s2sad.jvp(s2sad.grad(dict_loss, wrt=(0, 1)), wrt=(0, 1))(
        params, z, *tangent)
    assert type(value[0]) is dict and type(out_dot[0]) is dict and type(out_dot) is tuple
    assert list(out_dot[0]) == ["w", "b"]
    hv = s2sad.hvp(dict_loss, wrt=(0, 1))(params, z, tangent)
    for a, b in zip((out_dot[0]["w"], out_dot[0]["b"], out_dot[1]),
                    (hv[0]["w"], hv[0]["b"], hv[1])):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def number_slots(x, s):
    cs = [0.5, np.sum(x) * 0.5, 2.0]
    for i in range(1, 3):
        cs[i] = np.sin(cs[i - 1]) * cs[i] + s
    return cs[2] * s + cs[0]


def test_a_python_number_in_a_list_slot_is_saved_before_a_write():
    """A write into a list's slot saves what it overwrites for the backward sweep: that was
    ``cs[i].copy()``, which a Python number lacks (AttributeError); it is ``saved(cs[i])``."""
    s2sad.check_grads(number_slots, (X, 0.7), wrt=(0, 1), modes=("forward", "reverse"),
                      order=2)
    assert "cs_old = saved(cs_1[i])" in s2sad.source(number_slots, wrt=(0, 1))


def stack_after_a_slot_write(x, z):
    hs = [x * 2.0, np.sin(z), z * x]
    hs[0] = hs[2] * 1.5
    return np.sum(np.sin(np.stack(hs)))


def sum_after_a_slot_write(x, z):
    hs = [x * 2.0, np.sin(z), z * x]
    hs[0] = hs[2]
    return np.sum(np.sin(sum(hs))) + np.sum(hs[0] * x)


@pytest.mark.parametrize("f", [stack_after_a_slot_write, sum_after_a_slot_write])
def test_the_hessian_reads_a_list_written_by_slots_as_a_list(f):
    """Vector mode (hessian) read an element of a list written by slots as a row of one batch
    array (``hs_dot[:, 0]``): a wrong Hessian, silently, where the list's length is the
    number of directions (here 3), else a TypeError. Its elements' batches are read as
    the list's (``hs_dot[0]``). Of ``sum(hs)``: the adjoint of the list (a tuple of
    adjoints) gets an active term and an inactive one; its tangent, the active term's one
    batch, was broadcast with ``+ zeros_bar(ans)``, which added the batch's directions to
    the list's elements (a ValueError after it); it is ``add_dots(..., zeros_bar(ans))``,
    each element's batch its own."""
    x, z = X, np.array([0.1, 0.2, 0.7])
    blocks = s2sad.hessian(f, wrt=(0, 1))(x, z)
    for i in range(2):
        for j in range(2):
            columns = [s2sad.hvp(f, wrt=(0, 1))(x, z, (e, 0 * e) if j == 0 else (0 * e, e))[i]
                       for e in np.eye(3)]
            np.testing.assert_allclose(blocks[i][j], np.transpose(columns), rtol=1e-10,
                                       atol=1e-12)
    h = 1e-4  # and d/dx_k of the gradient, by central differences
    grad = s2sad.grad(f, wrt=0)
    numeric = np.transpose([(grad(x + h * e, z) - grad(x - h * e, z)) / (2 * h)
                            for e in np.eye(3)])
    np.testing.assert_allclose(blocks[0][0], numeric, rtol=1e-6, atol=1e-7)


def slots_summed(x, s):
    hs = [x * 0.5, np.sin(x), x * s]
    for i in range(1, 3):
        hs[i] = np.tanh(hs[i - 1] * 0.5) + hs[i] * 0.5
    return np.sum(np.sin(sum(hs)))


def test_a_list_written_by_slots_on_arrays_of_another_type():
    """On Duck arrays (tests/duck.py: CuPy-like, never converted to NumPy), forward mode
    copied the list of tangents a loop writes into with np.copy (converting it; it is
    saved(t) now, the list's own copy), and the adjoint of sum() of the list was
    zeros_like of the list (converting it; a stack of the elements' adjoints now)."""
    from tests.duck import Duck, duck, unwrap
    s = 0.7
    expected = s2sad.grad(slots_summed, wrt=(0, 1))(X, s)
    got = s2sad.grad(slots_summed, wrt=(0, 1))(duck(X), s)
    assert isinstance(got[0], Duck)
    np.testing.assert_allclose(unwrap(got[0]), expected[0], rtol=1e-12)
    np.testing.assert_allclose(unwrap(got[1]), expected[1], rtol=1e-12)
    v = np.array([0.3, -1.0, 0.5])
    _, out_dot = s2sad.jvp(slots_summed, wrt=(0, 1))(duck(X), s, duck(v), 0.2)
    assert np.isclose(unwrap(out_dot), np.dot(expected[0], v) + 0.2 * expected[1])
    check(slots_summed, X, s)


def slots_in_a_long_loop(x, s):
    hs = [x * 0.5, np.sin(x), x * s]
    for i in range(6):
        hs[i % 3] = np.tanh(hs[(i + 2) % 3] * 0.5) + hs[i % 3] * s
    return np.sum(np.sin(hs[0] * hs[1]))


@pytest.mark.parametrize("how", ["sqrt", 2, "binomial"])
def test_a_checkpointed_loop_writing_list_slots(how):
    """Checkpointing a loop that writes a list's slots kept the list as an array
    (np.copy(hs)) and restored it with hs[...] = ... (TypeError on a list): a list written
    by slots is kept with saved(hs), its own copy, and restored with hs[:] = hs_kept."""
    s = 0.7
    expected = tuple(oracle.gradient(slots_in_a_long_loop, (X, s), i) for i in range(2))
    got = s2sad.grad(slots_in_a_long_loop, wrt=(0, 1), checkpoint=how)(X, s)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    v = (np.array([0.3, -1.0, 0.5]), 0.2)
    np.testing.assert_allclose(
        s2sad.hvp(slots_in_a_long_loop, wrt=(0, 1), checkpoint=how)(X, s, v)[0],
        s2sad.hvp(slots_in_a_long_loop, wrt=(0, 1))(X, s, v)[0], rtol=1e-10)
    source = s2sad.source(slots_in_a_long_loop, wrt=(0, 1), checkpoint=how)
    assert "hs_1[:] = hs_1_kept" in source


def slots_after_a_loop(x, s):
    hs = [np.tanh(np.sum(x)) * 0.5, 0.25, 0.5]
    for j in range(2):
        hs[j % 3] = np.tanh(hs[(j + 2) % 3] * 0.5) + hs[j % 3] * 0.5
    hs[0] = np.tanh(hs[0] * -0.7)
    e = hs[1] * hs[2]
    return e * e * s + np.sum(x * x)


def test_the_hessian_reads_a_list_written_after_a_loop_as_a_list():
    """A list a loop wrote by slots, written again after it: vector mode took the write's
    result for an array (its list is the loop's, known only when the code runs) and read
    hs_dot[:, 1] (TypeError). A write or a copy is what it writes into: item_dots."""
    s = 0.7
    blocks = s2sad.hessian(slots_after_a_loop, wrt=(0, 1))(X, s)
    for j, e in enumerate(np.eye(3)):
        hv = s2sad.hvp(slots_after_a_loop, wrt=(0, 1))(X, s, (e, 0.0))
        np.testing.assert_allclose(blocks[0][0][:, j], hv[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(blocks[1][0][j], hv[1], rtol=1e-10, atol=1e-12)
    s2sad.check_grads(slots_after_a_loop, (X, s), wrt=(0, 1), order=2)


W22 = np.array([[-0.2, 0.43], [-0.44, -0.83]])


def slot_rewritten_by_a_name(x):  # random program 740097, shrunk
    S6 = [0.5, 0.5, np.sum(x) + W22]
    j = 1
    S6[j] = S6[j] * x[1]
    return S6[1] + np.sum(S6[2])


def test_a_list_slot_written_at_a_name_bound_to_an_int():
    # j = 1 was not known to be one index (it may have been an array), so the write's
    # adjoint went through written_bar, which made an array of the list of adjoints (a
    # ValueError on its ragged elements): a list's slot is one element, and j is an int
    x = np.array([0.3, -0.5, 0.8, 1.2])
    np.testing.assert_allclose(s2sad.grad(slot_rewritten_by_a_name)(x),
                               oracle.gradient(slot_rewritten_by_a_name, (x,), 0), rtol=1e-7)
    s2sad.check_grads(slot_rewritten_by_a_name, (x,), order=2)
    assert "written_bar" not in s2sad.source(slot_rewritten_by_a_name)


W_1 = np.array([-0.35])


def slot_reset_then_read(x, s):  # random program 960085, shrunk, then made to differentiate
    S = [x[x > 0.1], 0.5, 0.1 * W_1]
    for j in range(1, 3):
        S[j] = S[j] * s
    S[2] = S[1]
    return np.sum(S[0]) * S[1] + np.sum(S[2] * x[0])


def test_a_list_slot_whose_adjoint_was_reset_is_read_at_its_value_s_shape():
    # the backward sweep resets a written slot's adjoint to 0.0; the loop's write read
    # it back for S[2], an array of shape (1,), and unbroadcast(0.0, that) indexed the
    # shape of 0.0 (an IndexError, an InternalError in grad)
    x, s = np.array([0.5, 0.05, 0.3]), 0.7
    for wrt in (0, 1):
        np.testing.assert_allclose(s2sad.grad(slot_reset_then_read, wrt=wrt)(x, s),
                                   oracle.gradient(slot_reset_then_read, (x, s), wrt),
                                   rtol=1e-7)
    s2sad.check_grads(slot_reset_then_read, (x, s), order=2)


passed_on = lambda p: p  # noqa: E731 (a small def would be inlined; a lambda keeps its
# fwd/bwd pair, and its reverse mode keeps no residuals)


def through_a_helper_without_residuals(z):  # random program 500010, shrunk
    e = z < 0.13
    w = passed_on(z)
    s = sum(e for q in range(3))
    return np.sum(w * np.array([0.9, -0.6, 0.7])) + np.sum(np.sin(z) * z * s)


def test_the_hessian_through_a_helper_that_keeps_no_residuals():
    """The helper's fwd returns ``p, ()``, and the adjoint its bwd gets is a constant: the
    tangent of its result is a zero, whose number of directions (vector mode) was read from
    the tangent of the empty residuals, which has no array to tell it (zeros_dots:
    IndexError, an InternalError). That tangent is a no_dots, which holds the number."""
    z = np.array([0.1, 0.2, 0.7])
    hessian = s2sad.hessian(through_a_helper_without_residuals)(z)
    h = 1e-4
    grad = s2sad.grad(through_a_helper_without_residuals)
    numeric = np.transpose([(grad(z + h * e) - grad(z - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-7)
    s = 3.0 * (z < 0.13)  # d2/dz2 of sin(z) z s: (2 cos(z) - z sin(z)) s, on the diagonal
    np.testing.assert_allclose(hessian, np.diag((2 * np.cos(z) - z * np.sin(z)) * s), atol=1e-14)
    s2sad.check_grads(through_a_helper_without_residuals, (z,), order=2)


def slots_over_an_argument(x, s):
    hs = [x, x * 2.0, np.cos(x)]
    hs[0] = np.sin(hs[1]) * s
    for i in range(1, 3):
        hs[i] = np.tanh(hs[i - 1] * 0.5) + hs[i] * s
    return np.sum(hs[0] * hs[2]) + np.sum(sum(hs) * x) + np.sum(x * x) * s


def slots_of_constants(x, s):
    cs = [0.0, 1.0, 0.5]
    cs[1] = cs[1] * s + np.sum(np.sin(x))  # reads the literal's 1.0: a new list each call
    for i in range(3):
        cs[i] = cs[i] * s + np.sum(x[i:] ** 2) + cs[i - 1]
    return cs[0] * cs[1] * cs[2] + s


def slots_over_a_repeated_argument(x, s):
    hs = [x] * 2
    hs[1] = hs[0] * s
    if s > 0.5:
        hs[0] = np.exp(hs[1] * 0.1)
    return np.sum(hs[0] * x) + np.sum(np.stack(hs) ** 2)


def second_order_agrees(f, x, s, twice_reverse=True):
    """The gradient (three calls: the specialised one too), check_grads at order 2, and
    H v by hvp, by the Hessian's blocks, by reverse over reverse (unless not
    ``twice_reverse``) and by jvp of the gradient, each against central differences of the
    gradient; x is left as it was."""
    given = x.copy()
    for _ in range(3):
        got = s2sad.grad(f, wrt=(0, 1))(x, s)
        for i in range(2):
            np.testing.assert_allclose(got[i], oracle.gradient(f, (x, s), i), rtol=1e-6,
                                       atol=1e-8)
    s2sad.check_grads(f, (x, s), wrt=(0, 1), order=2,
                      modes=("forward", "reverse") if twice_reverse else "forward")
    v, h = (np.array([0.2, -0.4, 1.0]), 0.3), 1e-5
    grad = s2sad.grad(f, wrt=(0, 1))
    numeric = [(a - b) / (2 * h) for a, b in zip(grad(x + h * v[0], s + h * v[1]),
                                                 grad(x - h * v[0], s - h * v[1]))]
    blocks = s2sad.hessian(f, wrt=(0, 1))(x, s)
    for hv in (s2sad.hvp(f, wrt=(0, 1))(x, s, v), s2sad.jvp(grad, wrt=(0, 1))(x, s, *v)[1],
               [sum(np.tensordot(blocks[i][j], v[j], axes=np.ndim(v[j])) for j in range(2))
                for i in range(2)]) + ((s2sad.vjp(grad, wrt=(0, 1))(x, s, v),)
                                       if twice_reverse else ()):
        for i in range(2):
            np.testing.assert_allclose(hv[i], numeric[i], rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(x, given)


@pytest.mark.parametrize("f, s", [(slots_over_an_argument, 0.7), (slots_of_constants, 0.7),
                                  (slots_over_a_repeated_argument, 0.7),
                                  (slots_over_a_repeated_argument, 0.3)])
def test_a_slot_write_into_a_list_of_arguments_or_constants(f, s):
    """A write into a slot of a list holding an argument (hs = [x, ...]) or made of
    constants (cs = [0.0, 1.0]) was refused: the may-alias analysis gave the list its
    elements' memory (the argument's; a global's for the constant). A slot write changes
    the list only: it is checked against the object the list is (Memory.objects), and a
    literal list is a new list each time it is read."""
    second_order_agrees(f, np.array([0.3, -0.5, 0.8]), s)


def alias_of_a_list_read_after_a_slot_write(x, s):
    hs = [x, x * 2.0]
    b = hs
    hs[0] = x * s
    return np.sum(b[0])


def list_in_a_tuple_read_after_a_slot_write(x, s):
    hs = [x, x * 2.0]
    t = (hs, 1.0)
    hs[0] = x * s
    return np.sum(t[0][0])


GLOBAL_LIST = [0.5, 2.0]


def slot_write_into_a_global_list(x, s):
    d = GLOBAL_LIST
    d[0] = s
    return d[0] * np.sum(x)


def slot_write_into_a_comprehension(x, s):
    cs = [0.0 for _ in range(3)]
    for i in range(3):
        cs[i] = np.sum(x[i:]) * s + cs[i - 1]
    return cs[2] * cs[1]


@pytest.mark.parametrize("f, match", [
    (alias_of_a_list_read_after_a_slot_write, "b shares memory with hs"),
    (list_in_a_tuple_read_after_a_slot_write, "t shares memory with hs"),
    (slot_write_into_a_global_list, "d may share memory with an array made outside"),
    # (generated code made cs a tuple: TypeError on the write, an InternalError)
    (slot_write_into_a_comprehension, "cs holds the elements of a list comprehension")])
def test_slot_writes_that_stay_refused(f, match):
    with pytest.raises(UnsupportedSyntaxError, match=match) as info:
        s2sad.grad(f, wrt=(0, 1))(np.array([0.3, -0.5, 0.8]), 0.7)
    assert info.value.loc is not None
    assert GLOBAL_LIST == [0.5, 2.0]


def constant_slots_in_a_long_loop(x, s):
    cs = [0.5, 1.0, 2.0]
    for i in range(6):
        cs[i % 3] = np.tanh(cs[(i + 2) % 3] * 0.5) + cs[i % 3] * s + np.sum(x) * 0.1
    return cs[0] * cs[1] + cs[2]


def repeated_slots_in_a_long_loop(x, s):
    hs = [x] * 3
    for i in range(6):
        hs[i % 3] = np.tanh(hs[(i + 2) % 3] * 0.5) + hs[i % 3] * s
    return np.sum(hs[0] * hs[1]) + np.sum(x * hs[2])


@pytest.mark.parametrize("f", [constant_slots_in_a_long_loop, repeated_slots_in_a_long_loop])
@pytest.mark.parametrize("how", ["sqrt", 2, "binomial"])
def test_a_checkpointed_loop_writing_slots_of_a_literal_or_a_repeated_list(f, how):
    """Checkpointing took a list that is a literal constant (copy([0.5, 1.0, 2.0])) or a
    join ([x] * 3) for an array, and restored it with cs[...] = ... (TypeError on a list):
    both are lists, restored slot by slot."""
    x, s = np.array([0.3, -0.5, 0.8]), 0.7
    expected = [oracle.gradient(f, (x, s), i) for i in range(2)]
    for _ in range(2):
        got = s2sad.grad(f, wrt=(0, 1), checkpoint=how)(x, s)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    v = (np.array([0.3, -1.0, 0.5]), 0.2)
    np.testing.assert_allclose(s2sad.hvp(f, wrt=(0, 1), checkpoint=how)(x, s, v)[0],
                               s2sad.hvp(f, wrt=(0, 1))(x, s, v)[0], rtol=1e-10)


def sorted_slot_overwritten(x, s):  # random program 901192, shrunk
    hs = [np.sort(x * s), np.tanh(x), x * s]
    hs[0] = np.tanh(hs[2] * -0.7)
    return np.sum(hs[1] * hs[2]) + np.sum(hs[0])


def slots_of_sorts_overwritten_in_a_loop(x, s):
    hs = [np.sort(x), np.cumsum(x) * s, np.flip(x) * s]
    for i in range(3):
        hs[i] = np.tanh(hs[i - 1] * s)
    hs[1] = hs[1] * x
    return np.sum(hs[0] * hs[1] * hs[2])


@pytest.mark.parametrize("f", [sorted_slot_overwritten, slots_of_sorts_overwritten_in_a_loop])
def test_an_overwritten_slot_gets_a_zero_adjoint_of_its_shape(f):
    """A write into a list's slot left the number 0.0 in the list of adjoints: the
    adjoint of the element it overwrote, which np.sort's rule (unindex_along) cannot take
    (ZeroDivisionError: axis % np.ndim(g), a crash in grad). The slot's zero is zeros_bar
    of what is there; vector mode (the Hessian) lifts a number tangent as the zero it is."""
    second_order_agrees(f, np.array([0.3, -0.5, 0.8]), 0.7)


def element_of_a_comprehension_written(x, s):  # random program 902091, shrunk
    hs = [np.sin(x * (k + 1.0)) for k in range(3)]
    b = hs[0]
    b[[0, 1]] *= s
    return np.sum(b * x)


def test_an_element_of_a_comprehension_is_written_as_an_array():
    """The object a value is (Memory.objects) gives an element read from a list its
    list's sites: the snapshot a comprehension's name is bound to was taken for the
    element, and the write into it refused as a write into the snapshot. Whether a value
    may be a snapshot (or a list made here) follows what is that very object only."""
    second_order_agrees(element_of_a_comprehension_written, np.array([0.3, -0.5, 0.8]), 0.7)


def diagonal_then_update(x):  # random program 1006686, shrunk
    b = x * x
    x = np.diag(b)
    b -= b
    return np.sum(x)


def test_np_diag_may_be_a_view_of_its_operand():
    # np.diag of a 2-d array is a view of its diagonal: b -= b changed x too, and s2sad
    # (which took np.diag for a copy) gave f's value before the update and its gradient
    x = np.arange(9.0).reshape(3, 3) / 10
    assert diagonal_then_update(x) == 0.0
    with pytest.raises(UnsupportedSyntaxError, match="x shares memory with b"):
        s2sad.value_and_grad(diagonal_then_update)(x)


# NumPy calls returning their operand itself, or a view of it, for some arguments: each was
# taken for a new array, and the value and gradient after an update of the operand in
# place were those from before the update, silently (an audit of every rule against
# np.shares_memory, after random program 1006686)
def conj_then_update(x):
    b = x * 1.0
    c = b.conj()  # a real array's conjugate is the array itself
    b *= 3.0
    return np.sum(c * x)


def conjugate_then_write(x):
    b = x * 1.0
    c = b.conjugate()
    b[0] = 0.0
    return np.sum(c * x)


def einsum_transposed_then_write(x):
    a = np.outer(x, x)
    t = np.einsum("ij->ji", a)  # a view of a
    a[0, 1] = 0.0
    return np.sum(t * np.arange(9.0).reshape(3, 3))


def einsum_diagonal_then_update(x):
    a = np.outer(x, x)
    d = np.einsum("ii->i", a)  # a view of a's diagonal
    a *= 2.0
    return np.sum(d)


def diff0_then_update(x):
    b = x * 1.0
    d = np.diff(b, 0)  # b itself
    b *= 2.0
    return np.sum(d)


def matrix_power1_then_update(x):
    a = np.outer(x, x)
    p = np.linalg.matrix_power(a, 1)  # a itself
    a *= 2.0
    return np.sum(p)


@pytest.mark.parametrize("f, name, base", [
    (conj_then_update, "c", "b"), (conjugate_then_write, "c", "b"),
    (einsum_transposed_then_write, "t", "a"), (einsum_diagonal_then_update, "d", "a"),
    (diff0_then_update, "d", "b"), (matrix_power1_then_update, "p", "a")])
def test_calls_returning_their_operand_or_a_view_are_followed_through_writes(f, name, base):
    x = np.array([0.3, -0.7, 1.2])
    updated = f(x)  # what NumPy computes: the update seen through the result
    with pytest.raises(UnsupportedSyntaxError, match=f"{name} shares memory with {base}"):
        s2sad.value_and_grad(f)(x)
    with pytest.raises(UnsupportedSyntaxError, match=f"{name} shares memory with {base}"):
        s2sad.jvp(f)(x, np.ones(3))
    assert np.isfinite(updated)


def diff1_then_update(x):
    b = x * 1.0
    d = np.diff(b)  # n = 1: a new array
    b *= 2.0
    return np.sum(d * d) + np.sum(b)


def matrix_power2_then_update(x):
    a = np.outer(x, x)
    p = np.linalg.matrix_power(a, 2)  # a new array
    a *= 2.0
    return np.sum(p) + np.sum(a)


@pytest.mark.parametrize("f", [diff1_then_update, matrix_power2_then_update])
def test_the_same_calls_making_new_arrays_stay_differentiable(f):
    x = np.array([0.3, -0.7, 1.2])
    value, grad = s2sad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x))
    s2sad.check_grads(f, (x,), order=2)


def astype_without_a_copy(x):
    b = x * 1.0
    c = b.astype(np.float64, copy=False)  # b itself
    b *= 2.0
    return np.sum(c * x)


def test_astype_with_copy_false_is_a_located_refusal_not_an_internal_error():
    with pytest.raises(UnsupportedSyntaxError, match="astype has no parameter 'copy'") as info:
        s2sad.grad(astype_without_a_copy)(np.array([0.3, -0.7, 1.2]))
    assert "test_trust.py:" in str(info.value) and "x.astype(dtype)" in str(info.value)


def nan_to_num_in_place(x):
    b = x * 1.0
    c = np.nan_to_num(b, copy=False)  # writes into b, and is b
    b *= 2.0
    return np.sum(c * x)


def test_nan_to_num_without_a_copy_is_a_located_refusal():
    # it gave the value and gradient from before b *= 2.0, silently (the same audit)
    with pytest.raises(UnsupportedSyntaxError, match=r"np.nan_to_num\(..., copy=...\)"):
        s2sad.grad(nan_to_num_in_place)(np.array([0.3, -0.7, 1.2]))


def max_of_rows(x):
    a = np.reshape(x * x, (1, 3))
    return np.sum(max(a) * x) + np.sum(min(np.reshape(x, (3, 1))) * x)


def test_builtin_max_and_min_of_a_2d_array_pick_its_rows_as_python_does():
    # max(a) of a one-row array is its row, min of a column its least row: the adjoint was
    # scattered at np.argmax's flat index (an InternalError: index out of bounds)
    x = np.array([0.3, -0.7, 1.2])
    s2sad.check_grads(max_of_rows, (x,), order=2)


# random program seed 1200629: np.cumprod of an operand a clamp made 0 (np.clip(e, 0.0, 2.0),
# then np.tanh): the rules of np.prod/np.cumprod divided by the operand, so the gradient was NaN
# although the derivative exists; now the products of the other entries (support.cumprod_bar),
# and at second order their tangents (cumprod_bar_dot)
W_3_4 = np.array([[0.56, 0.21, 0.42, -0.82], [0.26, 0.96, -0.15, -0.78],
                  [0.92, 0.35, -0.61, 0.34]])


def cumprod_where_clamped(p):
    g = np.clip(np.log2(1.0 + p[1:] * p[1:]), -1.0, 0.3)
    b = np.where(np.mean(np.minimum(p, 2.0)) < 0.53, g ** 3, np.max(p))
    return np.where(p * b[::2] < 0.05, np.cumprod(np.tanh(p), axis=-1), np.log(1.0 + g[1] * g[1]))


def cumprod_of_a_clamp(x, s):
    e = np.tanh(x) * 0.5
    g = cumprod_where_clamped(np.clip(e, 0.0, 2.0))
    return np.sum(np.sin(e)) + np.sum(g * W_3_4) + np.sin(s)


def test_cumprod_of_an_operand_with_zeros_has_its_exact_gradient():
    x = np.array([[0.5, -0.3, 0.7, 0.2], [0.1, 0.4, -0.6, 0.9], [0.3, 0.8, -0.2, 0.6]])
    assert np.sum(np.clip(np.tanh(x) * 0.5, 0.0, 2.0) == 0.0) == 3
    gradient = s2sad.grad(cumprod_of_a_clamp)(x, 0.4)
    np.testing.assert_allclose(gradient, oracle.gradient(cumprod_of_a_clamp, (x, 0.4), 0),
                               rtol=1e-7)
    check(cumprod_of_a_clamp, x, 0.4)
    with np.errstate(divide="raise", invalid="raise"):  # (no division by the zeros left)
        h = s2sad.hvp(cumprod_of_a_clamp)(x, 0.4, np.ones_like(x))
    numeric = oracle.derivative(lambda y: s2sad.grad(cumprod_of_a_clamp)(y, 0.4), (x,), 0,
                                np.ones_like(x), h=1e-4, order=4)
    np.testing.assert_allclose(h, numeric, rtol=1e-7, atol=1e-10)


def test_prod_and_cumprod_of_a_clamp_at_zero():
    """The brief's examples: the derivative at a clamped zero is 0 and elsewhere the product of
    the others (JAX and PyTorch give the same)."""
    def cumprod_sum(x):
        return np.sum(np.cumprod(np.maximum(x, 0.0)))

    def prod(x):
        return np.prod(np.maximum(x, 0.0) + np.array([0.0, 0.0, 1.0, 1.0]))

    x = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s2sad.grad(cumprod_sum)(x), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(s2sad.jvp(cumprod_sum)(x, np.ones(4))[1], 1.0)
    np.testing.assert_array_equal(s2sad.grad(prod)(x), [0.0, 0.0, 0.0, 0.0])
    # x[1] = 0 exactly (np.maximum gives a tie to its first operand): the product of the others
    x = np.array([0.5, 0.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(prod)(x), [0.0, 0.5 * 3.0 * 4.0, 0.0, 0.0])
    np.testing.assert_allclose(s2sad.jvp(prod)(x, np.ones(4))[1], 0.5 * 3.0 * 4.0)


def number_then_array_summed(pq):  # random program 1007821, shrunk
    q = pq["q"]
    L4 = [0.5]
    L4.append(q)
    w = sum(L4)
    return w, 0.5


def sum_of_a_list_from_a_helper_given_a_dict(x, s):
    for i, r1 in enumerate(x):
        c, d = number_then_array_summed({"p": r1, "q": x * s})
        return np.sum(np.sin(c) * x)
    return s


def sum_of_mixed_shapes(x, s):
    L = [0.5]
    L.append(np.sin(x) * s)
    L.append(x[0] * s)
    return np.sum(sum(L, s * x[1]) ** 2)


def sum_of_a_list_and_a_number_start(x, s):
    L = [np.sin(x)]
    L.append(x * s)
    return np.sum(sum(L, x[1] * s) ** 2)


def sum_of_a_list_written_in_a_loop(x, s):  # random program 21 on Duck arrays, shrunk
    S = [0.25, np.sin(x) * s, x[0] * s]
    for k in range(2, 0, -1):
        S[k] += 0.5 * np.tanh(S[(k + 2) % 3])
    return np.sum(x * sum(S))


def sum_of_rows_and_a_larger_start(x, s):
    rows = np.outer(x, x) * s
    return np.sum(sum(rows, np.ones((2, 1)) * s) ** 3)


@pytest.mark.parametrize("f", [sum_of_a_list_from_a_helper_given_a_dict, sum_of_mixed_shapes,
                               sum_of_a_list_and_a_number_start, sum_of_a_list_written_in_a_loop,
                               sum_of_rows_and_a_larger_start])
def test_python_sum_of_elements_of_different_shapes(f):
    """Python's sum(L) adds its elements one by one, broadcasting them against each other
    (and start): sum([0.5, q]) of a number and an array. The iterable's adjoint was
    unreduce(g, L, 0), one array of the elements' adjoints, which NumPy cannot make of
    differently shaped ones (a crash in grad). Now sum_bar: each element gets g summed to
    its own shape, rows of an array alike (start may be larger than a row). The tangents
    of sum(L, start) were each in its part's shape: vector mode's batch of a number start's
    (K,) added to the (K, n) of the elements' lined up with the wrong axis (the Hessian of
    sum_of_a_list_and_a_number_start was wrong, silently, when K = n); now in the result's.
    A loop writing slots copies the list's adjoints first: copy_bar, a list (np.copy made
    one array of them, which elements of different shapes, or of another array type,
    cannot make)."""
    x = np.array([0.3, -0.5, 0.8])
    np.testing.assert_allclose(s2sad.grad(f)(x, 0.7), oracle.gradient(f, (x, 0.7), 0),
                               rtol=1e-6, atol=1e-8)
    second_order_agrees(f, x, 0.7)


def mixed_list_summed_then_slots(p):  # random program 1001945, shrunk
    S1 = [p < 0.4, p, p]
    b = np.sum(S1, axis=0)
    S3 = [p, b, b]
    for k in range(1):
        S3[k] = S3[2]
    S3[1] = S3[0]
    return np.sum(S3[-1])


def slots_through_a_helper(x, s):
    return np.sin(mixed_list_summed_then_slots(np.arcsinh(x) * s))


def test_a_slot_of_a_list_s_adjoints_is_replaced_not_added_to():
    """scatter_add added into a slot of a list's adjoints in place (x_bar[k] += g): the
    array there may be another's too (unindex puts g itself in a slot, setitem_bar's copy
    shares them) or a read-only view of unreduce's: "output array is read-only" in reverse
    over reverse, where vjp_f's seed is an array. A slot is now replaced by the sum; and
    a loop's own copy of a list's adjoints (copy_bar) is a list, never np.copy's array."""
    second_order_agrees(slots_through_a_helper, np.array([0.3, -0.5, 0.8]), 0.7)


def slot_of_a_number_grows(x, s):
    S = [0.25, np.sin(x) * s, x[0] * s]
    S[2] += 0.5 * np.tanh(S[1])
    return np.sum(x * S[1]) + np.sum(S[2] * x) + S[0]


def slots_grow_in_a_loop(x, s):
    S = [0.25, np.sin(x) * s, x[0] * s]
    for k in range(2, 0, -1):
        S[k] += 0.5 * np.tanh(S[(k + 2) % 3])
    return np.sum(x * S[1]) + np.sum(S[2] * x) + S[0]


@pytest.mark.parametrize("f", [slot_of_a_number_grows, slots_grow_in_a_loop])
def test_an_overwritten_slot_gets_the_zero_of_what_it_held(f):
    """S[2] += a (an array) where S[2] held a number: the slot's adjoint, zeroed by the
    write, was zeros of the new value's shape, so the old number's adjoint, added to it, came
    out as an array of copies of it, summed by the next unbroadcast: its derivative counted
    3 times, silently. The zero is now of what the write overwrote (y_old)."""
    second_order_agrees(f, np.array([0.3, -0.5, 0.8]), 0.7)


class MethodHelpers:  # random program 1000707, shrunk
    def inner(self, p):
        for j in range(2):
            p = np.sin(p) * p
        return p

    def outer(self, p):
        return self.inner(p * 0.3) * p

    def f(self, x, s):
        return np.sum(np.sin(self.outer(x * s)))


def test_the_hessian_of_a_bound_method_whose_helpers_are_methods():
    """A method's helper keeps self among its residuals (its backward sweep calls the
    other methods): vector mode's zero tangent of the residuals, zeros_dots, asked NumPy for
    the dtype of the instance ("Cannot interpret '<Model object>' as a data type", a crash
    in s2sad.hessian). An object that is no array nor number gets a number's zeros, one per
    direction (zeros_bar gives it 0.0 in reverse mode and scalar forward mode)."""
    second_order_agrees(MethodHelpers().f, np.array([0.3, -0.5, 0.8]), 0.7)


def written_then_divided(x, s):  # random program 1104037, shrunk
    g = x * 1.0
    e = x[2] * s
    g[0] = np.sum(x[:2] * x[:2])
    g = g / e
    return np.sum(g * np.array([-0.74, 0.2, -0.94]))


def test_reverse_over_reverse_restores_an_adjoint_zeroed_in_place():
    """grad_f zeroes g_1_bar[0] in place where g[0] was written: g_1_bar = unbroadcast(
    g_2_bar / e, g_1) owns the quotient, which unbroadcast gives back as it is. Lowered
    again, the quotient is a value (v9 = g_2_bar / e) that e's adjoint reads in the
    backward sweep: unbroadcast did not say its result may be its operand, so the write was
    not undone and reverse over reverse read v9 with its element 0 zeroed (H u wrong by 2 %,
    silently). unbroadcast is now a possible view: the sweep puts the element back."""
    second_order_agrees(written_then_divided, np.array([0.3, -0.5, 0.8]), 0.7)
