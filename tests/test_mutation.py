"""Writes into arrays, several return values, and lists read as a whole.

Every program is checked against finite differences in both modes (and to
second order where s2sad supports it); the generated code is imported and
run; bad input is a located error.
"""

import textwrap

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.errors import UnsupportedSyntaxError


# --- writes into arrays --------------------------------------------------------------------
def write_items(x):
    y = np.zeros(4)
    y[0] = x[0] * 2.0
    y[1:3] = x[1:3] ** 2
    y[3] = np.sum(x)
    return np.sum(y * y)


def write_augmented(x):
    y = x.copy()
    y *= 2.0
    y[1:] += x[:-1] * y[0]
    y[0] -= np.prod(x)
    return np.sum(np.sin(y))


def write_recurrence(x, n):  # each trip reads the previous trip's write
    y = np.zeros(n)
    y[0] = x
    for i in range(1, n):
        y[i] = y[i - 1] * x + np.sin(y[i - 1])
    return np.sum(y ** 2)


def write_rows(x):
    a = np.zeros((3, 3))
    for i in range(3):
        a[i, :] = x * (i + 1)
        a[i, i] += np.exp(x[i])
    return np.sum(a @ x)


def write_in_branches(x):
    y = x.copy()
    if x[0] > 0:
        y[1] = y[0] * y[2]
    else:
        y[2] = -y[1]
    return np.sum(y * y)


def write_read_old_values(x):  # y's values before the writes are read by the adjoint of a
    y = np.ones(3)
    a = np.sum(y * x)
    y[1] = x[2] * a
    y[2:] *= x[:1]
    return np.sum(np.cos(y)) * a


def write_view_of_fresh(x):  # a view of an array made here is writable
    a = np.zeros(6)
    b = a.reshape(2, 3)
    b[1] = x
    return np.sum(b ** 2) + np.sum(x)


def write_while(x):
    y = np.zeros(5)
    k = 0
    while k < 5:
        y[k] = np.tanh(x * (k + 1))
        k += 1
    return np.sum(y) * x


def write_scatter_mask(x):
    y = x * 1.0
    y[x > 0.4] = 0.0
    y[np.array([0, 1])] = x[:2] ** 3
    return np.sum(y ** 2)


# --- several return values --------------------------------------------------------------------
def sin_and_square(x, scale=1.0):
    return np.sin(x) * scale, x * x


def moments(x):
    mean = np.mean(x)
    centred = x - mean
    return mean, np.mean(centred ** 2)


def uses_pairs(x):
    a, b = sin_and_square(x, scale=2.0)
    c, d = sin_and_square(a + b)
    m, v = moments(c * d)
    return m + v


def recursive_pair(x, n):
    if n == 0:
        return x, 1.0
    a, b = recursive_pair(x, n - 1)
    return a * x, b + np.sum(a)


def uses_recursive_pair(x):
    a, b = recursive_pair(x, 3)
    return np.sum(a) * b


def unpack_split(x):
    a, b = np.split(x, 2)
    return np.sum(a * b)


def unpack_eigh(x):
    s = np.outer(x, x) + np.diag(x)
    w, v = np.linalg.eigh(s)
    return np.sum(w ** 2) + np.sum(v ** 2 * x[:, None])


def unpack_slogdet(x):
    a = np.outer(x, x) + 2.0 * np.eye(4)
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


def tuple_value_indexed(x):  # a tuple read by index: adjoints add element by element
    r = sin_and_square(x)
    return np.sum(r[0] * r[1]) + np.sum(r[1])


# --- lists read as a whole ------------------------------------------------------------------
def stack_list(x):
    outs = []
    for i in range(3):
        outs.append(x * (i + 1.0))
    return np.sum(np.stack(outs) ** 2)


def concatenate_list(x):
    rows = []
    h = x
    for _ in range(4):
        h = np.tanh(1.5 * h)
        rows.append(h)
    return np.sum(np.concatenate(rows)) + np.sum(np.array(rows) ** 2) + np.sum(np.vstack(rows)[1])


def add_at_of_a_number(x):  # np.add.at is followed: x[1] added twice at y[0]
    y = x * 1.0
    np.add.at(y, [0, 0], x[1])
    z = np.zeros((3, 2))
    np.add.at(z, ([0, 0, 2], [1, 1, 0]), x[:3] * 2.0)
    return np.sum(y * y) + np.sum(z ** 3)


X = np.array([0.3, 0.5, 0.7, 0.9])
SECOND_ORDER = [
    (write_items, (X,)), (write_augmented, (X,)), (write_recurrence, (0.4, 6)),
    (write_rows, (X[:3],)), (write_in_branches, (X[:3],)), (write_in_branches, (-X[:3],)),
    (write_read_old_values, (X[:3],)), (write_view_of_fresh, (X[:3],)), (write_while, (0.3,)),
    (write_scatter_mask, (X,)), (uses_pairs, (X,)), (uses_recursive_pair, (X,)),
    (unpack_split, (X,)), (unpack_eigh, (X,)), (unpack_slogdet, (X,)),
    (tuple_value_indexed, (X,)), (add_at_of_a_number, (X,)),
]
FIRST_ORDER = [(stack_list, (X,)), (concatenate_list, (X,))]


@pytest.mark.parametrize("f, args", SECOND_ORDER + FIRST_ORDER,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_first_order_in_both_modes(f, args):
    s2sad.check_grads(f, args)


@pytest.mark.parametrize("f, args", SECOND_ORDER, ids=lambda v: getattr(v, "__name__", ""))
def test_second_order_in_both_modes(f, args):
    s2sad.check_grads(f, args, order=2)


@pytest.mark.parametrize("f, args", [(write_rows, (X[:3],)), (uses_pairs, (X,)),
                                     (unpack_eigh, (X,))], ids=lambda v: getattr(v, "__name__", ""))
def test_jacobian_in_vector_forward_mode(f, args):
    fwd = s2sad.jacobian(f, mode="forward")(*args)
    rev = s2sad.jacobian(f, mode="reverse")(*args)
    np.testing.assert_allclose(fwd, rev, rtol=1e-10, atol=1e-12)


def test_write_recurrence_matches_the_exact_derivative():
    # y_0 = x, y_i = y_{i-1} x + sin(y_{i-1}); d/dx by the same recursion, by hand
    x, n = 0.4, 6
    y, dy, total = x, 1.0, x * x
    dtotal = 2 * x
    for _ in range(1, n):
        y, dy = y * x + np.sin(y), dy * x + y + np.cos(y) * dy
        total += y * y
        dtotal += 2 * y * dy
    value, grad = s2sad.value_and_grad(write_recurrence)(x, n)
    assert value == pytest.approx(total, rel=1e-14)
    assert grad == pytest.approx(dtotal, rel=1e-12)


def test_the_forward_sweep_writes_in_place_and_the_backward_sweep_restores():
    source = s2sad.source(write_read_old_values)
    grad = source.split("def grad_write_read_old_values")[1].split("def value_and_grad")[0]
    forward, backward = grad.split("# backward sweep")
    assert "y[1] = v" in forward and "y_old = saved(y[1])" in forward
    # a reads y before the writes: the backward sweep puts the old values back
    assert "y[1] = y_old" in backward
    assert "y_1[2:] = y_old_1" in backward


def test_no_restore_when_nothing_reads_the_old_values():
    grad = s2sad.source(write_items).split("def grad_write_items")[1].split("def value_and")[0]
    assert "y[0] = v" in grad
    assert "y_old" not in grad  # y is only read after the writes


def test_a_loop_writing_into_an_array_keeps_one_adjoint_array():
    grad = s2sad.source(write_recurrence).split("def grad_write_recurrence")[1]
    grad = grad.split("def value_and_grad")[0]
    loop = grad.split("for i in reversed(v1):")[1]
    assert "setitem_bar" not in loop  # zeroed in place, not copied each trip
    assert "[i] = 0.0" in loop


def test_the_caller_array_is_left_alone():
    x = X.copy()
    s2sad.grad(write_augmented)(x)
    s2sad.jvp(write_augmented)(x, np.ones(4))
    np.testing.assert_array_equal(x, X)


def test_generated_module_imports_and_runs(tmp_path):
    namespace = {}
    exec(compile(s2sad.source(write_recurrence), str(tmp_path / "m.py"), "exec"), namespace)
    grad = namespace["grad_write_recurrence"](0.4, 6)
    assert grad == pytest.approx(s2sad.grad(write_recurrence)(0.4, 6), rel=1e-15)


def test_a_tuple_returned_by_the_differentiated_function_works_with_vjp_and_jvp():
    def pair(x):
        return np.sin(x), np.sum(x ** 2)

    x_bar = s2sad.vjp(pair)(X, (np.ones(4), 2.0))
    np.testing.assert_allclose(x_bar, np.cos(X) + 4 * X)
    out, out_dot = s2sad.jvp(pair)(X, np.ones(4))
    np.testing.assert_allclose(out_dot[0], np.cos(X))
    assert out_dot[1] == pytest.approx(np.sum(2 * X))


# --- errors -----------------------------------------------------------------------------------
def _write(tmp_path, body):
    path = tmp_path / "mod.py"
    path.write_text("import numpy as np\n\n" + textwrap.dedent(body))
    namespace = {"__name__": "mod", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return path, namespace["f"]


ERRORS = [
    ("argument", """\
        def f(x):
            x[0] = 1.0
            return np.sum(x)
        """, 4, "x is an argument of f; writing into it would change the caller's array"),
    ("alias_of_argument", """\
        def f(x):
            y = x
            y[0] = 1.0
            return np.sum(y)
        """, 5, "y may share memory with an array made outside this function"),
    ("call_result", """\
        def g(x):
            return x

        def f(x):
            y = g(x)
            y[0] = 1.0
            return np.sum(y)
        """, 8, "y may share memory with an array made outside this function"),
    ("view_read_after_write", """\
        def f(x):
            y = x * 2.0
            t = y[0:2]
            y[0] = 5.0
            return np.sum(t)
        """, 7, "t shares memory with y (a view or an alias), and line 6 wrote into y"),
    ("stale_view_in_loop", """\
        def f(x):
            y = x * 2.0
            t = y[0:2]
            s = 0.0
            for i in range(3):
                s = s + np.sum(t)
                y[i] = s
            return s
        """, 8, "shares memory with an array this loop writes into"),
    ("list_holds_written_array", """\
        def f(x):
            y = np.zeros(3)
            outs = []
            for i in range(3):
                y[i] = x[i]
                outs.append(y)
            return np.sum(np.stack(outs))
        """, 8, "outs shares memory with an array this loop writes into"),
    ("nested_subscript", """\
        def f(x):
            y = np.zeros((2, 2))
            y[0][1] = x
            return np.sum(y)
        """, 5, "writes into a named array only"),
    ("grad_of_tuple", """\
        def f(x):
            return np.sum(x), x
        """, 4, "f returns 2 values, and a gradient needs one scalar"),
]


@pytest.mark.parametrize("body, line, message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_writes_and_tuples_are_located_errors(tmp_path, body, line, message):
    path, f = _write(tmp_path, body)
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(np.array([0.5, 1.5, 2.5]))
    text = str(info.value)
    assert text.startswith(f"{path}:{line}:"), text
    assert message in text


def test_check_grads_fills_defaults_and_takes_tuple_outputs():
    s2sad.check_grads(sin_and_square, (X,), order=2)  # scale left at its default
    s2sad.check_grads(moments, (X,))


def test_index_arithmetic_is_recomputed_not_stored():
    grad = s2sad.source(write_recurrence).split("def grad_write_recurrence")[1]
    forward, backward = grad.split("def value_and_grad")[0].split("# backward sweep")
    push = next(line for line in forward.splitlines() if "tape.append" in line)
    assert "v2" not in push and "v5" not in push  # i - 1, twice: recomputed after the pop
    assert "v2 = i - 1" in backward and "v5 = i - 1" in backward


def test_forward_mode_writes_tangents_in_place_in_a_loop():
    code = s2sad.source(write_recurrence, mode="forward").split("def jvp_write_recurrence")[1]
    returned = write_recurrence.__code__.co_firstlineno + 5  # the line of its return
    loop = code.split("for i in v1:")[1].split(f"# line {returned}")[0]
    assert "setitem_dot" not in loop and "y_2_dot[i] = v8_dot" in loop
    _, dot = s2sad.jvp(write_recurrence)(0.4, 6, 1.0)
    assert dot == pytest.approx(s2sad.grad(write_recurrence)(0.4, 6), rel=1e-13)


def qr_loss(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * q * 2.0) + np.sum(r ** 2)


def test_qr_of_a_wide_matrix_says_what_its_derivative_needs():
    s2sad.check_grads(qr_loss, (np.random.default_rng(3).standard_normal((4, 3)),), order=2)
    with pytest.raises(ValueError, match="at least as many rows as columns"):
        s2sad.grad(qr_loss)(np.ones((2, 3)) + np.eye(2, 3))


# --- writes s2sad does not follow: an error where a differentiated value reaches them ----------
def out_argument(x):
    z = np.zeros(())
    np.sum(x * x, out=z)
    return z * 2.0


def out_of_a_scan(x):
    z = np.zeros(4)
    np.cumsum(x, out=z)
    return np.sum(z * x)


def copied_into(x):
    y = np.zeros(4)
    np.copyto(y, x)
    return np.sum(y ** 2)


def put_into(x):
    y = x * 1.0
    np.put(y, [0], x[2] * 3.0)
    return np.sum(y * y)


def multiplied_at(x):
    y = x * 1.0
    np.multiply.at(y, [0, 0], x[1])
    return np.sum(y)


def median_in_place(x):  # np.median may reorder x: x * x would then read the reordered x
    m = np.median(x, overwrite_input=True)
    return m * np.sum(x * np.arange(4.0))


def quantile_in_place(x):
    return np.quantile(x * 2.0, 0.3, None, None, True)


def constants_written(x):  # nothing differentiated reaches the write: it is fine
    y = np.zeros(4)
    np.copyto(y, np.arange(4.0))
    return np.sum(x * y)


@pytest.mark.parametrize("f, what", [
    (out_argument, "np.sum(..., out=...), which writes its result into an existing array"),
    (out_of_a_scan, "np.cumsum(..., out=...)"), (copied_into, "np.copyto(), which writes into"),
    (put_into, "np.put()"), (multiplied_at, "np.multiply.at()"),
    (median_in_place, "np.median(..., overwrite_input=...), which may reorder its operand"),
    (quantile_in_place, "np.quantile(..., overwrite_input=...)")])
def test_a_write_s2sad_does_not_follow_is_a_located_error(f, what):
    # (each gave a silently wrong gradient: the SSA form took the array after the write for
    # the array before it)
    for derivative in (s2sad.grad(f), s2sad.jacfwd(f)):
        with pytest.raises(UnsupportedSyntaxError) as error:
            derivative(X)
        message = str(error.value)
        assert f"s2sad does not follow {what}" in message, message
        # (out= and overwrite_input= are refused wherever they are: the call would be dropped
        # as unread, constants included; the others where a differentiated value reaches them)
        assert ("=" in what) != ("a differentiated value reaches it here" in message)
        assert message.startswith(f"{__file__}:"), message


def test_writes_of_constants_are_fine():
    np.testing.assert_allclose(s2sad.grad(constants_written)(X), np.arange(4.0), rtol=1e-15)


# --- an array unpacked into names: its gradient is an array (was a tuple; and unpacking an
# element-wise result, a, b = np.exp(p), was an internal error) -----------------------------
def unpack_array_argument(p, x):
    a, b = p
    return np.sum(a * x) * b


def unpack_elementwise_result(p, x):
    a, b, c = np.exp(p)
    return np.sum(a * x + b ** 2) * c


def unpack_rows_and_use_whole(P):
    r0, r1 = P
    return np.sum(r0 * r1) + np.sum(np.tanh(P)) + np.sum(np.sin(r1))


@pytest.mark.parametrize("f, args", [
    (unpack_array_argument, (np.array([0.1, 0.2]), X[:2])),
    (unpack_elementwise_result, (np.array([0.1, 0.2, -1.0]), X[:2])),
    (unpack_rows_and_use_whole, (np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]]),))])
def test_an_array_unpacked_has_an_array_gradient(f, args):
    g = s2sad.grad(f)(*args)
    assert type(g) is np.ndarray and g.shape == args[0].shape
    np.testing.assert_allclose(g, oracle.gradient(f, args, 0), rtol=1e-6, atol=1e-9)
    s2sad.check_grads(f, args, order=2)


# --- a starred name nothing reads: x, *_ = np.linalg.lstsq(...) --------------------------------
def unpack_lstsq(A, b):
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x ** 2)


def unpack_both_ends(x):
    first, *_, last = x
    t = (x[0] * 2.0, x[1], x[2] ** 2, x[0])
    *_, c, d = t
    return first * 2.0 + last ** 2 + c * d


def unpack_starred_read(x):
    a, *rest = x
    return a * len(rest)


def test_a_starred_name_nothing_reads():
    A, b = np.random.default_rng(5).normal(size=(5, 3)), np.random.default_rng(6).normal(size=5)
    np.testing.assert_allclose(s2sad.grad(unpack_lstsq)(A, b),
                               oracle.gradient(unpack_lstsq, (A, b), 0), rtol=1e-6, atol=1e-9)
    s2sad.check_grads(unpack_lstsq, (A, b), order=2)
    x = X[:3]
    np.testing.assert_allclose(s2sad.grad(unpack_both_ends)(x),
                               [2.0 + x[2] ** 2, 0.0, 2 * x[2] + 2 * x[0] * x[2]], rtol=1e-14)
    s2sad.check_grads(unpack_both_ends, (x,), order=2)
    with pytest.raises(UnsupportedSyntaxError, match=r"unpacks into \*rest only where nothing "
                                                     r"reads rest"):
        s2sad.grad(unpack_starred_read)(x)


def rows_swapped_as_copies(x):
    A = np.outer(x, x[:2])
    A[0], A[1] = A[1] * 1.0, A[0] * 1.0  # (new values: a swap)
    return np.sum(A * np.arange(8.0).reshape(4, 2))


def names_and_elements_at_once(x):
    y = np.zeros(3)
    a, y[2] = x[0] * 2.0, x[1] ** 2
    y[0], b = a * x[2], np.sin(x[3])
    return np.sum(y * np.arange(3.0)) + b


@pytest.mark.parametrize("f", [rows_swapped_as_copies, names_and_elements_at_once])
def test_a_tuple_written_out_assigned_to_elements(f):
    # (was "s2sad supports unpacking into plain names only")
    np.testing.assert_allclose(s2sad.grad(f)(X), oracle.gradient(f, (X,), 0), rtol=1e-7)
    s2sad.check_grads(f, (X,), order=2)


def sorted_in_place(x):
    y = x * 1.0
    y.sort()
    A = np.outer(x, y[:3])
    A.sort(axis=0)
    return np.sum(y * np.arange(4.0)) + np.sum(A * np.arange(12.0).reshape(4, 3))


def filled_in_place(x):
    y = x * 2.0
    z = np.sum(y * y)
    y.fill(x[0])
    return z + np.sum(y * x)


def sorted_argument(x):
    x.sort()
    return np.sum(x)


@pytest.mark.parametrize("f", [sorted_in_place, filled_in_place])
def test_sort_and_fill_in_place_are_writes(f):
    # (y.sort() and y.fill(v) were "s2sad does not support the method .sort()")
    np.testing.assert_allclose(s2sad.grad(f)(X), oracle.gradient(f, (X,), 0), rtol=1e-7)
    s2sad.check_grads(f, (X,), order=2)
    with pytest.raises(UnsupportedSyntaxError, match="x is an argument of sorted_argument; "
                                                      "writing into it would change the caller"):
        s2sad.grad(sorted_argument)(X.copy())
