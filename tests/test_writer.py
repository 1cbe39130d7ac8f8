"""s2sad.emit.writer: the text it writes parses back to the tree it was given (random
expressions over every precedence level, every statement kind generated code holds), with
no line over 79 columns where a break is possible, and comments in their places."""

import ast
import random

import gast
import pytest

from s2sad.emit.nodes import comment
from s2sad.emit.writer import WIDTH, expression, write_function

_ATOMS = ["x", "y", "1", "2.5", "0", "'s'", "None", "True", "np.pi", "x.T", "x[0]", "-1",
          "1e-08"]
_BINARY = ["+", "-", "*", "/", "//", "%", "**", "@", "&", "|", "^", "<<", ">>"]
_COMPARE = ["<", "<=", "==", "!=", ">", ">=", "is", "is not", "in", "not in"]


def _random_expression(rng, depth):
    """Source text of a random expression, parenthesised everywhere (what it means is
    then plain, and the writer must find which of the parentheses it needs)."""
    if depth == 0 or rng.random() < 0.15:
        return rng.choice(_ATOMS)
    sub = [_random_expression(rng, depth - 1) for _ in range(3)]
    kind = rng.randrange(12)
    if kind < 4:
        return f"({sub[0]}) {rng.choice(_BINARY)} ({sub[1]})"
    return [
        f"{rng.choice(['-', '+', '~', 'not '])}({sub[0]})",
        f"({sub[0]}) {rng.choice(_COMPARE)} ({sub[1]}) {rng.choice(_COMPARE)} ({sub[2]})",
        f"({sub[0]}) {rng.choice(['and', 'or'])} ({sub[1]})",
        f"({sub[0]}) if ({sub[1]}) else ({sub[2]})",
        f"f(({sub[0]}), *({sub[1]}), k=({sub[2]}))",
        f"({sub[0]})[({sub[1]}):({sub[2]}), ::2, ({sub[0]})]",
        f"(({sub[0]}), ({sub[1]}))",
        f"[({sub[0]}), {{({sub[1]}): ({sub[2]})}}, {{({sub[0]})}}]",
    ][kind - 4]


def _dump(text):
    return ast.dump(ast.parse(text))


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_parse_back_to_their_tree(seed):
    rng = random.Random(seed)
    for _ in range(25):
        source = _random_expression(rng, 4)
        written = expression(gast.parse(source).body[0].value)
        assert _dump(written) == _dump(source), (source, written)
        assert expression(gast.parse(written).body[0].value) == written  # a fixed point


@pytest.mark.parametrize("source, written", [
    ("(-x) ** 2", "(-x) ** 2"), ("-(x ** 2)", "-x ** 2"), ("2 ** (-x)", "2 ** -x"),
    ("(a ** b) ** c", "(a ** b) ** c"), ("a ** (b ** c)", "a ** b ** c"),
    ("a - (b - c)", "a - (b - c)"), ("(a - b) - c", "a - b - c"), ("(1).real", "(1).real"),
    ("(2.0).mT", "(2.0).mT"), ("(-1.0) ** 2", "(-1.0) ** 2"), ("x[(a, b)]", "x[a, b]"),
    ("x[(a,)]", "x[a,]"), ("f((a, b))", "f((a, b))"), ("sum(t for t in x)", "sum(t for t in x)"),
    ("not (a and b)", "not (a and b)"), ("(a or b) and c", "(a or b) and c"),
    ("a if b else (c if d else e)", "a if b else c if d else e"),
    ("(a if b else c) if d else e", "(a if b else c) if d else e"),
    ("x[::-1, 1:n + 1]", "x[::-1, 1:n + 1]"), ("x[...]", "x[...]"), ("()", "()"),
    ("(a,)", "a,"), ("{**a, 'b': 1}", "{**a, 'b': 1}"), ("(lambda t: t)(x)", "(lambda t: t)(x)"),
])
def test_expressions_are_written_with_the_parentheses_they_need(source, written):
    assert expression(gast.parse(source).body[0].value) == written


_FUNCTION = '''
def f(x, y=2.0, *args, k, m=1, **kw):
    """What f does,
    on two lines."""

    def g(t):
        return t
    a, b = x, y
    x[0] += 1
    if a < b:
        pass
    elif a > b:
        a = -a
    else:
        raise ValueError('no')
    for i in range(3):
        continue
    else:
        b = i
    while b:
        break
    assert a, 'message'
    return
'''


def test_statements_parse_back_to_their_tree():
    tree = gast.parse(_FUNCTION)
    written = write_function(tree.body[0], [])
    assert _dump(written) == _dump(_FUNCTION)
    assert written.startswith('def f(x, y=2.0, *args, k, m=1, **kw):\n    """What f does,\n')
    assert "\n\n    def g(t):\n" in written  # a blank line before a nested definition
    assert "\n    elif a > b:\n" in written


def test_comments_are_written_where_their_placeholders_are():
    comments = []
    tree = gast.parse("def f(x):\n    y = x\n    return y\n")
    function = tree.body[0]
    function.body.insert(1, comment("line 3: return y", comments))
    written = write_function(function, comments)
    assert written == "def f(x):\n    y = x\n    # line 3: return y\n    return y\n"


_LONG = [
    "    return as_gradient(Wc_bar, Wc), as_gradient(bc_bar, bc), as_gradient(gain_bar, "
    "gain), as_gradient(bias_bar, bias), as_gradient(Wq_bar, Wq)",
    "    scatter_add(w_bar, k, matmul_bar_b(unbroadcast(out_2_bar, v11), v9, v10), "
    "more_arguments)",
    "    x_bar = unbroadcast(unreduce(out_bar, v2) * W34, v1) * np.where(x == 0, -np.pi ** 2 "
    "/ 3 * x, (np.cos(np.pi * x) - v1) / np.where(x == 0, 1.0, x))",
    "    first_long_name_bar, second_long_name_bar, third_long_name = some_function(a, b, c, "
    "d, e)",
    "    for i in reversed(range(np.shape(first_long_name)[0] - 1, second_long_name + 1, "
    "step_size)):\n        pass",
]


@pytest.mark.parametrize("body", _LONG)
def test_long_lines_are_broken_within_the_width(body):
    source = f"def f():\n{body}\n"
    written = write_function(gast.parse(source).body[0], [])
    assert _dump(written) == _dump(source)
    assert len(written.splitlines()) > len(source.splitlines())
    assert max(len(line) for line in written.splitlines()) <= WIDTH, written


def test_a_break_aligns_with_its_bracket():
    source = ("def f():\n    scatter_add(w_bar, k, matmul_bar_b(unbroadcast(out_2_bar, v11), "
              "v9, v10), more_arguments)\n")
    written = write_function(gast.parse(source).body[0], [])
    assert written == ("def f():\n    scatter_add(w_bar, k, matmul_bar_b(unbroadcast(out_2_bar, "
                       "v11), v9, v10),\n                more_arguments)\n")


def test_a_string_is_never_broken():
    text = "'" + "a, b + c " * 12 + "'"
    source = f"def f():\n    raise ValueError({text})\n"
    written = write_function(gast.parse(source).body[0], [])
    assert _dump(written) == _dump(source)
    assert text in written


def test_a_call_too_long_for_its_alignment_is_broken_after_its_bracket():
    source = ("def f():\n    prediction_bar = unbroadcast(2 * v5 * unreduce(1.0 / "
              "element_count(v6), v6), prediction)\n")
    written = write_function(gast.parse(source).body[0], [])
    assert written == ("def f():\n    prediction_bar = unbroadcast(\n        2 * v5 * "
                       "unreduce(1.0 / element_count(v6), v6), prediction)\n")
