"""Closures and containers: nested functions, lambdas, function arguments, dicts as records.

``s2sad/inline/`` inlines nested functions and lambdas at their calls,
inlines a same-file helper given a function argument, and replaces a dict
with constant keys by one variable per key, before the lowering. Every
program of the corpus below is checked with ``s2sad.check_grads`` in both
modes (forward and reverse) against finite differences, at one or more
points; some against their exact derivative, some to second order. Then:
what the generated code reads like, that code without closures is left
alone, and the located errors for what stays unsupported.
"""

import importlib.util
import inspect
import os
import textwrap

import gast
import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntaxError

CORPUS = []  # pytest params: (program, args, wrt)
EXACT = []  # pytest params: (program, args, exact gradient)
SECOND_ORDER = []  # pytest params: (program, args)


def program(*points, wrt=0, exact=None, order2=False):
    """Register a corpus program, checked at each of ``points`` (argument tuples)."""
    def register(fn):
        for k, args in enumerate(points):
            CORPUS.append(pytest.param(fn, args, wrt, id=f"{fn.__name__}-{k}"))
            if exact is not None:
                EXACT.append(pytest.param(fn, args, exact, id=f"{fn.__name__}-{k}"))
        if order2:
            SECOND_ORDER.append(pytest.param(fn, points[0], id=fn.__name__))
        return fn
    return register


X = np.array([0.5, -1.2, 2.0])
W = np.array([0.3, 0.8, -0.4])


# -- module-level helpers that take a function -------------------------------------------------

def apply(g, x):
    return g(x)


def apply_twice(g, x):
    return apply(g, apply(g, x))


def compose(g, h, x):
    y = h(x)
    return g(y)


def iterate(g, x, n=3):
    for i in range(n):
        x = g(x)
    return x


def weighted(g, x, scale=0.5):
    """A docstring, dropped."""
    s = g(x) * scale
    return s + x


def square(t):
    return t * t


def activated(x, w, act=np.tanh):
    return act(x * w)


# -- nested functions --------------------------------------------------------------------------

@program((X,), (-X,), exact=lambda x: 18.0 * x, order2=True)
def closure_reads_enclosing(x):
    c = 3.0
    def inner(y):
        return y * c * x
    return np.sum(inner(x)) + np.sum(inner(2 * x))


@program((X,))
def nested_several_statements(x):
    def poly(y):
        a = y * y
        b = np.sin(a)
        a = a + b
        return a * y
    return np.sum(poly(x))


@program((X,), (-X,))
def nested_with_if(x):
    def relu_ish(y):
        if np.sum(y) > 0.0:
            z = y * y
        else:
            z = np.exp(y)
        return z
    return np.sum(relu_ish(x)) + np.sum(relu_ish(-2.0 * x))


@program((X,), order2=True)
def nested_with_loop(x):
    def power(y, n):
        p = np.ones_like(y)
        for i in range(n):
            p = p * y
        return p
    return np.sum(power(x, 3) + power(x, 2))


@program((X,), (-X,), exact=lambda x: 2 * x if np.sum(x) > 0 else 3 * x ** 2)
def nested_early_return(x):
    def pick(y):
        if np.sum(y) > 0.0:
            return y * y
        return y ** 3
    return np.sum(pick(x))


@program((0.3,), (0.9,), (3.0,))
def nested_return_inside_loop(x):
    def grow(y):
        for i in range(10):
            y = y * 1.5
            if y > 2.0:
                return y
        return y * 0.5
    return grow(x) + grow(x * 0.5)


@program((X,))
def nested_calls_nested(x):
    def sq(y):
        return y * y
    def outer(y):
        s = sq(y) + y
        return sq(s)
    return np.sum(outer(x))


@program((X, W), wrt=(0, 1))
def nested_default_and_keywords(x, w):
    k = 2.0
    def lin(y, a=k, b=1.0):
        return a * y + b * w
    k = 5.0  # the default keeps 2.0; a closure would read 5.0
    return np.sum(lin(x) + lin(b=k, y=x) + lin(x, 3.0, b=0.5))


@program((X,), exact=lambda x: 6.0 * x)
def nested_late_binding(x):
    c = 1.0
    def scaled(y):
        return c * y * y
    c = 3.0
    return np.sum(scaled(x))


@program((X,), order2=True)
def nested_called_in_loop(x):
    def step(y, i):
        return np.tanh(y + 0.1 * i)
    h = x
    for i in range(4):
        h = step(h, i)
    return np.sum(h)


@program((0.3,), (1.7,))
def nested_in_while_condition(x):
    def big(y):
        z = y * y
        return z > 4.0
    while not big(x):
        x = x * 1.5
    return x


@program((X,), (-X,))
def nested_in_conditional_expression(x):
    def up(y):
        t = y * 2.0
        return np.exp(t)
    def down(y):
        t = np.sin(y)
        return t * t
    return np.sum(up(x) if np.sum(x) > 0.0 else down(x))


@program((0.5,), (-0.5,), (3.0,))
def nested_in_and_or(x):
    def small(y):
        a = y * y
        return a < 1.0
    if x > 0.0 and small(x):
        return x * 3.0
    if x < 0.0 or small(x * 0.1):
        return x * x
    return x


@program((X,))
def nested_def_inside_nested_def(x):
    def outer(y):
        def twice(t):
            return 2.0 * t
        u = twice(y)
        return twice(u) + y
    return np.sum(outer(x) * outer(x * x))


@program((X,))
def nested_of_its_own_result(x):
    def f1(y):
        z = np.sin(y)
        return z + y
    return np.sum(f1(f1(x)))


@program((X,))
def nested_method_on_result_and_docstring(x):
    def norm2(y):
        """Squared norm."""
        return y * y
    return norm2(x).sum() + norm2(x).mean()


@program((X, W), wrt=(0, 1))
def nested_reassigns_parameter(x, w):
    def damp(y):
        y = y * 0.5
        y = y + w
        return y
    return np.sum(damp(x) * damp(w))


@program((X,))
def names_do_not_collide(x):
    inner_y = x * 0.5  # the name s2sad would give inner's parameter y first
    out = 2.0
    def inner(y):
        x = y * out  # a local x of inner, not the argument x
        inner_y = x + 1.0
        return inner_y * y
    return np.sum(inner(x + 1.0) + inner(inner_y) * x)


@program((X,), order2=True)
def lambda_made_in_a_loop(x):
    s = 0.0
    for i in range(3):
        g = lambda t: np.sin(t * i)
        s = s + np.sum(g(x))
    return s


@program((X,))
def nested_function_pushes_onto_a_list(x):
    seen = []
    def keep(y):
        seen.append(y)
        return y * 2.0
    z = keep(x) + keep(x * x)
    a = seen.pop()
    b = seen.pop()
    return np.sum(z * a + b)


# -- lambdas -----------------------------------------------------------------------------------

@program((X,), exact=lambda x: 2 * x + 3.0)
def lambda_bound_to_name(x):
    sq = lambda t: t ** 2
    return np.sum(sq(x)) + np.sum(3.0 * x)


@program((X,), exact=lambda x: 3.0 * np.ones_like(x))
def lambda_called_at_once(x):
    return np.sum((lambda t: t * 3.0)(x))


@program((X, W), wrt=(0, 1))
def lambda_closure(x, w):
    scale = lambda t: t * w
    return np.sum(scale(x) + scale(scale(x)))


@program((X,))
def lambda_with_default(x):
    p = 3
    powered = lambda t, q=p: t ** q
    return np.sum(powered(x) + powered(x, 2))


@program((X,), exact=lambda x: 2 * x, order2=True)
def lambda_to_helper(x):
    return np.sum(apply(lambda t: t ** 2, x))


@program((X,))
def nested_def_to_helper(x):
    def inner(y):
        z = np.cos(y)
        return z * y
    return np.sum(apply(inner, x))


@program((X, W), wrt=(0, 1))
def two_functions_to_a_helper(x, w):
    return np.sum(compose(lambda t: t * w, np.sin, x)) + np.sum(compose(square, np.exp, w))


@program((X,))
def module_functions_to_a_helper(x):
    return np.sum(apply(np.sin, x) + apply(square, x))


@program((X,))
def helper_calls_helper_with_the_function(x):
    return np.sum(apply_twice(lambda t: np.sin(t) + t, x))


@program((X,), order2=True)
def helper_with_a_loop(x):
    return np.sum(iterate(lambda t: 0.5 * t + np.tanh(t), x)) + \
        np.sum(iterate(lambda t: t * 1.1, x, n=2))


@program((X,))
def helper_with_default_and_docstring(x):
    c = 2.0
    return np.sum(weighted(lambda t: t * c, x)) + np.sum(weighted(lambda t: t, x, 3.0))


@program((X,))
def lambda_to_nested_function(x):
    def run(g, y):
        return g(y) + y
    return np.sum(run(lambda t: t * t, x) * run(np.exp, x))


@program((1.5,), (-1.5,), exact=lambda x: 2.0 if x > 0 else 1.0)
def lambda_in_if_rebinds_what_it_reads(x):
    if x > 0:
        g = lambda t: t * x  # noqa: E731
        x = g(2.0)
    return x


@program((X, W), wrt=(0, 1))
def function_valued_defaults(x, w):
    def layer(y, act=np.tanh, post=lambda t: t * w):
        return post(act(y))
    return np.sum(layer(x) + layer(x, np.sin) + activated(x, w, act=np.exp) +
                  activated(x, w, lambda t: t * t) + activated(x, w))


# -- dicts with constant keys --------------------------------------------------------------------

@program((X,), exact=lambda x: 2 * x + 1.0, order2=True)
def dict_record(x):
    d = {"a": x, "b": x * 2}
    d["c"] = d["a"] + 1
    return np.sum(d["a"] * d["c"])


@program((X,))
def dict_augmented(x):
    d = {"a": x * 2.0}
    d["a"] += np.sin(x)
    d["a"] *= x
    return np.sum(d["a"])


@program((X,), (-X,))
def dict_in_if(x):
    d = {"s": np.sum(x)}
    if d["s"] > 0.0:
        d["y"] = x * d["s"]
    else:
        d["y"] = np.exp(x)
    return np.sum(d["y"])


@program((X,), order2=True)
def dict_in_loop(x):
    d = {}
    d["acc"] = 0.0
    d["h"] = x
    for i in range(3):
        d["h"] = np.tanh(d["h"] * 1.5)
        d["acc"] += np.sum(d["h"])
    return d["acc"]


@program((X,))
def dict_made_in_loop(x):
    total = 0.0
    for i in range(3):
        rec = {"w": x * i, 1: np.cos(x)}
        total = total + np.sum(rec["w"] * rec[1])
    return total


@program((X,))
def dict_int_keys(x):
    d = {0: x, 1: x * x, -1: np.sin(x)}
    return np.sum(d[0] + d[1] * d[-1])


@program((X,))
def dict_from_nested_function(x):
    def layer(y):
        return {"pre": y * 2.0, "post": np.tanh(y * 2.0)}
    p = layer(x)
    q = layer(p["post"])
    return np.sum(p["pre"] * q["post"]) + np.sum(layer(x)["post"])


@program((X,))
def dict_passed_to_nested_function(x):
    params = {"w": 2.0, "b": x}
    def model(p, y):
        return p["w"] * y + p["b"]
    return np.sum(model(params, x) ** 2)


# -- captured values that are not differentiated are constants ----------------------------------

@program((X, W))
def captured_constant_argument(x, w):
    def lin(y):
        return y * w + np.sum(w)
    return np.sum(lin(x))


# ----------------------------------------------------------------------------------------------
# the corpus


@pytest.mark.parametrize("fn, args, wrt", CORPUS)
def test_check_grads_forward_and_reverse(fn, args, wrt):
    s2sad.check_grads(fn, args, wrt=wrt)


@pytest.mark.parametrize("fn, args", SECOND_ORDER)
def test_check_grads_second_order(fn, args):
    s2sad.check_grads(fn, args, order=2)


@pytest.mark.parametrize("fn, args, exact", EXACT)
def test_exact_derivative(fn, args, exact):
    value, g = s2sad.value_and_grad(fn)(*args)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12)
    np.testing.assert_allclose(g, exact(*args), rtol=1e-10, atol=1e-12)
    _, out_dot = s2sad.jvp(fn)(*args, np.ones_like(args[0]))
    np.testing.assert_allclose(out_dot, np.sum(exact(*args)), rtol=1e-10, atol=1e-12)


def test_the_corpus_is_large_enough():
    assert len({p.values[0] for p in CORPUS}) >= 20


def test_captured_value_gets_no_adjoint():
    text = s2sad.source(captured_constant_argument, wrt=0)
    assert "w_bar" not in text and "x_bar" in text
    g = s2sad.grad(captured_constant_argument)(X, W)
    np.testing.assert_allclose(g, W)


def test_dict_key_variables_in_the_ssa():
    listing = s2sad.ssa(dict_record)
    assert "d_a = copy(x)" in listing and "d_c = add(d_a, 1)" in listing
    assert "getitem" not in listing and "dict" not in listing.split("\n", 1)[1]


# ----------------------------------------------------------------------------------------------
# what the generated code reads like


def _line_of(fn, text):
    import inspect
    lines, first = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return first + k
    raise AssertionError(text)


def test_generated_code_of_a_closure_is_inlined_and_commented():
    text = s2sad.source(closure_reads_enclosing)
    inner_line = _line_of(closure_reads_enclosing, "return y * c * x")
    call_line = _line_of(closure_reads_enclosing, "return np.sum(inner(x))")
    assert f"# line {inner_line}: return y * c * x" in text
    assert f"# line {call_line}: return np.sum(inner(x)) + np.sum(inner(2 * x))" in text
    assert "inner2_y = 2 * x" in text and "inner_out" in text and "inner2_out" in text
    assert "def inner" not in text and "lambda" not in text
    forward = s2sad.source(closure_reads_enclosing, mode="forward")
    assert f"# line {inner_line}: return y * c * x" in forward and "inner2_y_dot" in forward


def test_lambda_given_to_a_helper_reads_as_the_lambda():
    text = s2sad.source(lambda_to_helper)
    line = _line_of(lambda_to_helper, "lambda t: t ** 2")
    assert f"# line {line}: return np.sum(apply(lambda t: t ** 2, x))" in text
    code = [line for line in text.splitlines() if not line.strip().startswith(("#", '"'))]
    assert "    g_out = x ** 2" in code and not any("apply" in line for line in code)


def test_helper_lines_are_the_helpers_own():
    text = s2sad.source(helper_with_a_loop)
    line = _line_of(iterate, "for i in range(n)")
    assert f"# line {line}: for i in range(n):" in text
    lambda_line = _line_of(helper_with_a_loop, "lambda t: 0.5")
    assert f"# line {lambda_line}: return np.sum(iterate(lambda t: 0.5" in text


def test_code_without_closures_is_left_alone():
    from s2sad.inline import inline
    from s2sad.parse import parse_function
    for fn in (square, apply, inspect.unwrap(s2sad.api.source)):
        parsed = parse_function(fn)
        before = gast.dump(parsed.node)
        inline(parsed, set())
        assert gast.dump(parsed.node) == before


# ----------------------------------------------------------------------------------------------
# located errors

HEADER = "import numpy as np\n\n\n"


def write_module(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


def import_path(path, name=None):
    name = name or "closure_case_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_located(message, path, line_marker, at, what):
    """``message`` is ``path:line:col: ...what...``, the line, a caret under ``at``, a hint."""
    lines_of_file = open(path).read().splitlines()
    number = next(k for k, t in enumerate(lines_of_file, 1) if line_marker in t)
    text = lines_of_file[number - 1]
    col = text.index(at) + 1
    lines = message.split("\n")
    assert lines[0].startswith(f"{path}:{number}:{col}: "), message
    assert what in lines[0], message
    assert lines[1] == "    " + text.strip(), message
    indent = len(text) - len(text.lstrip())
    assert lines[2] == "    " + " " * (col - 1 - indent) + "^", message
    assert len(lines) >= 4 and lines[3].strip(), message  # says what to do


ERRORS = [
    ("recursion", """\
        def f(x):
            def fact(y, n):
                if n == 0:
                    return y
                return fact(y * n, n - 1)
            return np.sum(fact(x, 3))
        """, "return fact(y", "fact(y", "fact calls itself"),
    ("nested_function_returned", """\
        def f(x):
            def h(t):
                return t * 2.0
            return h
        """, "return h", "h", "h is a nested function"),
    ("nested_function_stored", """\
        def f(x):
            def h(t):
                return t * 2.0
            g = h
            return np.sum(g(x))
        """, "g = h", "h", "cannot give it another name"),
    ("lambda_as_value", """\
        def f(x):
            fs = [lambda t: t * 2.0]
            return np.sum(x)
        """, "fs = ", "lambda", "lambda used as a value"),
    ("lambda_to_numpy", """\
        def f(x):
            return np.sum(np.apply_along_axis(lambda r: r * 2.0, 0, x))
        """, "return", "lambda", "cannot pass a lambda to np.apply_along_axis"),
    ("nested_function_to_builtin", """\
        def f(x):
            def key(t):
                return -t
            return np.sum(sorted(x, key=key))
        """, "return np.sum(sorted", "key)", "cannot pass the nested function key to sorted"),
    ("used_before_definition", """\
        def f(x):
            y = h(x)
            def h(t):
                return t * 2.0
            return np.sum(y)
        """, "y = h", "h(x)", "used before its definition"),
    ("defined_twice", """\
        def f(x):
            h = lambda t: t
            def h(t):
                return t * 2.0
            return np.sum(h(x))
        """, "def h", "def", "defined twice"),
    ("defined_in_both_branches", """\
        def f(x):
            if np.sum(x) > 0.0:
                h = lambda t: t * 2.0
            else:
                h = lambda t: t * 3.0
            return np.sum(h(x))
        """, "t * 3.0", "h", "defined twice"),
    ("assigned_too", """\
        def f(x):
            def h(t):
                return t * 2.0
            h = 3.0
            return np.sum(x * h)
        """, "h = 3.0", "h", "assigned here too"),
    ("nonlocal", """\
        def f(x):
            s = 0.0
            def add(t):
                nonlocal s
                s = s + t
                return s
            return np.sum(add(x))
        """, "nonlocal", "nonlocal", "nonlocal"),
    ("too_many_arguments", """\
        def f(x):
            def h(t):
                return t * 2.0
            return np.sum(h(x, x))
        """, "return np.sum(h", "h(x, x)", "takes 1 argument but 2 were given"),
    ("unknown_keyword", """\
        def f(x):
            sq = lambda t: t * t
            return np.sum(sq(u=x))
        """, "return", "sq(u=x)", "no parameter 'u'"),
    ("decorated", """\
        def f(x):
            @np.vectorize
            def h(t):
                return t * 2.0
            return np.sum(h(x))
        """, "@np", "np.vectorize", "decorated"),
    ("star_args", """\
        def f(x):
            def h(*ts):
                return ts[0]
            return np.sum(h(x))
        """, "def h", "def", "*args"),
    ("call_in_while_condition_with_continue", """\
        def f(x):
            def small(t):
                return t < 4.0
            while small(x):
                x = x * 2.0
                if x > 1.0:
                    continue
                x = x + 1.0
            return x
        """, "while", "small(x)", "continue"),
    ("dict_passed_to_function", """\
        def f(x):
            d = {"a": x}
            return np.sum(np.asarray(d))
        """, "return", "d))", "d is a dict: s2sad reads it by key, or passes it whole to "
                              "a function of yours, not to np.asarray"),
    ("dict_returned", """\
        def f(x):
            d = {"a": x}
            d["b"] = 2.0 * x
            return d
        """, "return d", "d", "not returned"),
    ("dict_iterated", """\
        def f(x):
            d = {"a": x, "b": x}
            s = 0.0
            for k in d:
                s = s + np.sum(x)
            return s
        """, "for k", "d:", "not iterated over"),
    ("dict_variable_key", """\
        def f(x):
            d = {"a": x, "b": x}
            s = 0.0
            for k in ["a", "b"]:
                s = s + np.sum(d[k])
            return s
        """, "np.sum(d[k])", "k]", "constant key"),
    ("dict_method", """\
        def f(x):
            d = {"a": x}
            return np.sum(d.get("a"))
        """, "return", "d.get", "not used with .get"),
    ("dict_in_test", """\
        def f(x):
            d = {"a": x}
            if "a" in d:
                return np.sum(x)
            return 0.0
        """, "if ", "d:", "tested with in"),
    ("dict_missing_key", """\
        def f(x):
            d = {"a": x}
            return np.sum(d["b"])
        """, "return", "d[", "no key 'b'"),
    ("dict_made_twice", """\
        def f(x):
            d = {"a": x}
            d = {"a": 2.0 * x}
            return np.sum(d["a"])
        """, "2.0 * x}", "d =", "made a dict on line"),
    ("dict_literal_as_argument", """\
        def f(x):
            return np.sum(np.asarray({"a": x}))
        """, "return", "{", "this dict literal is a dict: s2sad reads it by key, or passes it "
                            "whole to a function of yours, not to np.asarray"),
    ("dict_variable_literal_key", """\
        def f(x):
            k = "a"
            d = {k: x}
            return np.sum(x)
        """, "d = ", "k:", "must be constant"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_located_error(tmp_path, case):
    name, body, line_marker, at, what = case
    path = write_module(tmp_path, name, body)
    f = import_path(path).f
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(X.copy())
    assert_located(str(info.value), path, line_marker, at, what)
    with pytest.raises(UnsupportedSyntaxError) as again:
        s2sad.jvp(f)(X.copy(), X.copy())
    assert str(again.value) == str(info.value)


def test_helper_from_another_file_is_an_error_naming_it(tmp_path):
    helpers = write_module(tmp_path, "closure_helpers", """\
        SCALE = 2.0


        def apply_scaled(g, x):
            return g(x) * SCALE
        """)
    import_path(helpers, "closure_helpers")
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        path = write_module(tmp_path, "uses_helper", """\
            from closure_helpers import apply_scaled


            def f(x):
                return np.sum(apply_scaled(lambda t: t * t, x))
            """)
        f = import_path(path).f
        with pytest.raises(UnsupportedSyntaxError) as info:
            s2sad.grad(f)(X)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("closure_helpers", None)
    assert_located(str(info.value), path, "return", "apply_scaled",
                   "apply_scaled is given a function argument and is defined in another file")


def test_helper_reading_a_name_the_caller_redefines_is_an_error(tmp_path):
    path = write_module(tmp_path, "shadowing", """\
        scale = 2.0


        def apply_scaled(g, x):
            return g(x) * scale


        def f(x):
            scale = 3.0
            return np.sum(apply_scaled(lambda t: t * scale, x))
        """)
    f = import_path(path).f
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(X)
    assert_located(str(info.value), path, "return np.sum(apply", "apply_scaled",
                   "reads the name 'scale'")


def test_error_inside_an_inlined_helper_points_at_the_helper(tmp_path):
    path = write_module(tmp_path, "helper_error", """\
        def apply_bad(g, x):
            return g([u for u in x])


        def f(x):
            return np.sum(apply_bad(lambda t: t, x))
        """)
    f = import_path(path).f
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(X)
    assert_located(str(info.value), path, "return g(", "[u", "list comprehension")


def test_an_error_inside_a_nested_function_names_its_own_variables(tmp_path):
    """The inliner renames a nested function's locals (h_c for c); a message about them
    names them as the user wrote them (random program 1701375)."""
    path = write_module(tmp_path, "nested_in_place", """\
        def f(x):
            def h(p):
                c = np.clip(p[[0, 1]], 0.0, 2.0) * 1.0
                for k in range(3):
                    v4 = c[::2]
                    v4 += np.where(v4 > 0.6, k, 0.3)
                return np.sum(c) * p
            return np.sum(h(x))
        """)
    f = import_path(path).f
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(f)(X.copy())
    assert_located(str(info.value), path, "v4 = c", "c[", "c shares memory with an array this "
                   "loop writes into (line 9 updated v4 in place (v4 += ...))")
    assert "h_" not in str(info.value)
