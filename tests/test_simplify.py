"""The algebraic simplifier (s2sad/simplify.py): each rewrite, and that it keeps values exactly.

Every rewrite must give the same value bit for bit on floats (and NumPy arrays), so
each case is checked twice: by the text it produces, and by evaluating the original and
the simplified expression on the same numbers, including signed zeros and infinities.
"""

import ast
import itertools
import re

import gast
import numpy as np
import pytest

from s2sad.rules.templates import Template
from s2sad.simplify import negated, simplify


def text(expr):
    return ast.unparse(gast.gast_to_ast(simplify(gast.parse(expr).body[0].value)))


# (expression, simplified text)
CASES = [
    # identities and literal arithmetic (the seed 1.0 of grad folds away)
    ("x * 1.0", "x"),
    ("1.0 * x", "x"),
    ("x / 1", "x"),
    ("x + 0", "x"),
    ("0 + x", "x"),
    ("x - 0", "x"),
    ("0 - x", "-x"),
    ("x ** 1", "x"),
    ("-1 * x", "-x"),
    ("x * -1", "-x"),
    ("2 * 3.5", "7.0"),
    ("1.0 * 0.5 / v", "0.5 / v"),
    ("+x", "x"),
    # double negation, also through a product or quotient
    ("-(-x)", "x"),
    ("-(-a * b)", "a * b"),
    ("-(a / -b)", "a / b"),
    ("-a * -b", "a * b"),
    ("-a / -b", "a / b"),
    ("-x * -y * -z", "x * y * -z"),
    # a negation moved into the neighbouring sum: one operation fewer
    ("a + -b", "a - b"),
    ("-b + a", "a - b"),
    ("a - -b", "a + b"),
    ("a + -g * y / x", "a - g * y / x"),
    ("a + g * -y", "a - g * y"),
    ("-g * y + a", "a - g * y"),
    ("a - -g * y", "a + g * y"),
    ("a + -2.0", "a - 2.0"),
    ("a - -2", "a + 2"),
    # squares of names are one product
    ("x ** 2", "x * x"),
    ("g * (1 - ans ** 2)", "g * (1 - ans * ans)"),
    ("-x ** 2", "-(x * x)"),
    # number factors of a product multiplied together (exact here: powers of two)
    ("2 * x * 0.5", "x"),
    ("x * 2.0 * 3.0", "6.0 * x"),
    ("2 * x * -0.5", "-x"),
    ("2 * t * (u * 0.5)", "t * u"),
    ("2.0 * t * (0.5 * u) * 4.0", "t * u * 4.0"),
    # left alone
    ("-a * b", "-a * b"),
    ("-g * ans / y", "-g * ans / y"),
    ("(a + b) ** 2", "(a + b) ** 2"),
    ("x ** 3", "x ** 3"),
    ("a - b", "a - b"),
    ("-a - b", "-a - b"),
]


@pytest.mark.parametrize("expr, expected", CASES, ids=[c[0] for c in CASES])
def test_rewrite(expr, expected):
    assert text(expr) == expected


def _renamed(text, suffix):
    return re.sub(r"\b([a-z_]\w*)\b(?!\()", rf"\1{suffix}", text)


@pytest.mark.parametrize("expr, expected", CASES, ids=[c[0] for c in CASES])
def test_a_template_simplified_once_then_instantiated_gives_what_simplifying_gives(expr, expected):
    """With a plain name for each name of the template (most adjoints and operands), the
    template's own simplified tree is instantiated; with any other expression, the
    instantiated tree is simplified. Both give the rewrite of the expression."""
    template = Template(expr)
    names = sorted(template.names())
    to_names = {n: gast.Name(id=f"{n}_1", ctx=gast.Load(), annotation=None, type_comment=None)
                for n in names}
    for _ in range(6):  # (through clone, then through the template's copier)
        made = template.instantiate_simplified(to_names, simplify)
        assert ast.unparse(gast.gast_to_ast(made)) == _renamed(expected, "_1")
    if names:  # an expression in the place of a name: no longer the simplified template
        to_sum = {**to_names, names[0]: gast.parse("p + q").body[0].value}
        assert ast.unparse(gast.gast_to_ast(template.instantiate_simplified(to_sum, simplify))) \
            == ast.unparse(gast.gast_to_ast(simplify(template.instantiate(to_sum))))


VALUES = [0.0, -0.0, 1.0, -2.5, 3.0e-300, 7.0e300, 1.0 / 3.0, -np.pi, np.inf, -np.inf, 0.1]


def _same(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    numbers = ~np.isnan(p)  # a NaN's sign means nothing
    return np.array_equal(p, q, equal_nan=True) and \
        np.array_equal(np.signbit(p)[numbers], np.signbit(q)[numbers])


IDENTITIES = {"x / 1", "x * 1.0", "1.0 * x", "x + 0", "0 + x", "x - 0", "0 - x"}


def _evaluate(code, env):
    try:
        return eval(code, dict(env))
    except ArithmeticError as exc:  # Python floats raise where IEEE gives inf or nan
        return type(exc)


@pytest.mark.parametrize("expr, expected", CASES, ids=[c[0] for c in CASES])
def test_rewrite_keeps_the_value_bit_for_bit(expr, expected):
    names = sorted({n.id for n in ast.walk(ast.parse(expr)) if isinstance(n, ast.Name)})
    # e * 1 -> e, e + 0 -> e and 0 - e -> -e may change the sign of a zero result: they
    # hold on the values a derivative sees, not bit for bit at -0.0, so skip the zeros there
    values = [v for v in VALUES if v != 0.0] if expr in IDENTITIES else VALUES
    before, after = compile(expr, "<before>", "eval"), compile(expected, "<after>", "eval")
    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):
        for combo in itertools.islice(itertools.product(values, repeat=len(names)), 3000):
            # IEEE arithmetic (NumPy scalars), then Python floats where neither side raises
            env = {n: np.float64(v) for n, v in zip(names, combo)}
            assert _same(eval(before, env), eval(after, env)), (expr, env)
            env = dict(zip(names, combo))
            p, q = _evaluate(before, env), _evaluate(after, env)
            if not (isinstance(p, type) or isinstance(q, type)):
                assert _same(p, q), (expr, env)
        # arrays (NumPy's own loops)
        env = {n: rng.standard_normal(5) * 10.0 ** rng.integers(-3, 3, 5) for n in names}
        assert _same(eval(before, env), eval(after, env))


def test_negated_recognises_cheap_negations_only():
    def neg(expr):
        out = negated(gast.parse(expr).body[0].value)
        return None if out is None else ast.unparse(gast.gast_to_ast(out))

    assert neg("-x") == "x"
    assert neg("-2.0") == "2.0"
    assert neg("-g * y") == "g * y"
    assert neg("g / -y") == "g / y"
    assert neg("-g * -y") is None  # positive
    assert neg("a - b") is None
    assert neg("x") is None
    assert neg("2.0") is None


def test_number_factors_are_multiplied_even_when_that_rounds():
    # (x * 3.0) * 0.1 and 0.30000000000000004 * x may differ in the last place: the
    # templates' formulas fix no order of their factors, so either is the derivative
    assert text("x * 3.0 * 0.1") == f"{3.0 * 0.1!r} * x"
    x = np.random.default_rng(1).standard_normal(100)
    assert np.allclose((x * 3.0) * 0.1, (3.0 * 0.1) * x, rtol=1e-15, atol=0)
    assert text("x * 1e300 * 1e300") == "x * 1e+300 * 1e+300"  # the product would overflow
