"""The SSA listing (``s2sad.ssa(f)`` and ``s2sad ssa FILE.py:FUNC``) against exact text.

The listing is the textbook's three-address form: one primitive per line,
temporaries ``v1, v2, ...`` (skipping names the user took), user names kept
and versioned on reassignment (``z, z_1, ...``), constants spelled as the
generated code spells them (``np.pi``, ``math.e``, module constants by name),
and each statement annotated with its source line (the text is shown the first
time a line appears). The functions live in tests/fixtures/ssa_cases.py.
"""

import inspect
import re
import subprocess
import sys

import pytest

import s2sad

import ssa_cases as cases  # importable by name (see conftest.py): globals read as ssa_cases.SCALE

PATH = cases.__file__

EXPECTED = {
    "lecture": f"""\
def lecture(x, y):    # {PATH}:13
    v1 = np.log(x)    # line 14: a = y * np.log(x)
    a = mul(y, v1)    # line 14
    v2 = np.sqrt(a)   # line 15: return a + np.sqrt(a)
    out = add(a, v2)  # line 15
    return out        # line 15
""",
    "versions": f"""\
def versions(x, y=2.0):    # {PATH}:18
    SCALE = ssa_cases.SCALE  # line 23: z *= SCALE
    z = mul(x, y)            # line 20: z = x * y
    z_1 = add(z, 1.0)        # line 21: z = z + 1.0
    z_2 = add(z_1, np.pi)    # line 22: z += np.pi
    z_3 = mul(z_2, SCALE)    # line 23: z *= SCALE
    return z_3               # line 24: return z
""",
    "unpacking": f"""\
def unpacking(x, y):    # {PATH}:27
    v1 = np.sin(x)         # line 28: a, b = np.sin(x), np.cos(y)
    v2 = np.cos(y)         # line 28
    a = copy(v1)           # line 28
    b = copy(v2)           # line 28
    x_1 = copy(y)          # line 29: x, y = y, x
    y_1 = copy(x)          # line 29
    n, k = np.shape(a)     # line 30: n, k = np.shape(a)
    v3 = mul(a, x_1)       # line 31: return (a * x + b * y) / (n * k)
    v4 = mul(b, y_1)       # line 31
    v5 = add(v3, v4)       # line 31
    v6 = mul(n, k)         # line 31
    out = truediv(v5, v6)  # line 31
    return out             # line 31
""",
    "constants": f"""\
def constants(x):    # {PATH}:34
    v1 = mul(np.pi, x)       # line 35: return np.pi * x + m.e - m.inf * 0.0 + np.e
    v2 = add(v1, math.e)     # line 35
    v3 = mul(math.inf, 0.0)  # line 35
    v4 = sub(v2, v3)         # line 35
    out = add(v4, np.e)      # line 35
    return out               # line 35
""",
    "user_temporaries": f"""\
def user_temporaries(x, v1):    # {PATH}:38
    v2 = add(x, v1)    # line 39: v2 = x + v1
    v3 = np.exp(x)     # line 40: return v2 * np.exp(x)
    out = mul(v2, v3)  # line 40
    return out         # line 40
""",
    "methods_and_indexing": f"""\
def methods_and_indexing(x):    # {PATH}:43
    s = np.sum(x, axis=0)         # line 44: s = x.sum(axis=0)
    first = getitem(x, [0])       # line 45: first = x[0]
    rest = getitem(x, [1:, ::2])  # line 46: rest = x[1:, ::2]
    v1 = mul(s, first)            # line 47: return np.sum(s * first) + np.mean(rest.T)
    v2 = np.sum(v1)               # line 47
    v3 = T(rest)                  # line 47
    v4 = np.mean(v3)              # line 47
    out = add(v2, v4)             # line 47
    return out                    # line 47
""",
    "square": f"""\
def square(t):    # {PATH}:50
    out = mul(t, t)  # line 51: return t * t
    return out       # line 51
""",
    "calls_helper": f"""\
def calls_helper(x):    # {PATH}:54
    square_t = np.tanh(x)                 # line 55: return np.sum(square(np.tanh(x)))
    square_out = mul(square_t, square_t)  # line 51: return t * t
    out = np.sum(square_out)              # line 55: return np.sum(square(np.tanh(x)))
    return out                            # line 55
""",
    "multi_line": f"""\
def multi_line(x, y):    # {PATH}:58
    v1 = mul(x, y)       # line 60: total = (x * y + np.sin(x))
    v2 = np.sin(x)       # line 60
    total = add(v1, v2)  # line 60
    out = np.sum(total)  # line 62: return np.sum(total)
    return out           # line 62
""",
    "returns_a_parameter": f"""\
def returns_a_parameter(x):    # {PATH}:65
    return x  # line 66: return x
""",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_listing(name):
    assert s2sad.ssa(getattr(cases, name)) == EXPECTED[name]


def test_listing_is_deterministic():
    assert s2sad.ssa(cases.unpacking) == s2sad.ssa(cases.unpacking)


def test_listing_of_a_decorated_function():
    decorated = s2sad.differentiate(cases.lecture)
    assert decorated.ssa == EXPECTED["lecture"]
    assert s2sad.ssa(decorated) == EXPECTED["lecture"]


def _statements(listing):
    return [line for line in listing.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("name", [n for n, f in inspect.getmembers(cases, inspect.isfunction)
                                  if f.__module__ == "ssa_cases"])
def test_every_listing_is_ssa_with_line_annotations(name):
    """Each variable is assigned once; each statement names its source line."""
    fn = getattr(cases, name)
    listing = s2sad.ssa(fn)
    first_line = fn.__code__.co_firstlineno
    assigned = list(inspect.signature(fn).parameters)
    for line in _statements(listing):
        code, _, comment = line.partition("  # ")
        match = re.fullmatch(r"line (\d+)(: .*)?", comment)
        assert match, line
        inlined = code.strip().startswith(("square_",))  # a small helper's lines (calls_helper)
        assert int(match.group(1)) > first_line or inlined
        if " = " in code:
            targets = code.split(" = ")[0].strip()
            assigned += [t.strip() for t in targets.split(",")]
    assert len(assigned) == len(set(assigned)), listing


def _cli_ssa(name):
    return subprocess.run([sys.executable, "-m", "s2sad", "ssa", f"{PATH}:{name}"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", ["versions", "unpacking"])
def test_cli_prints_the_same_listing(name):
    done = _cli_ssa(name)
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED[name]
    assert done.stderr == ""


def test_user_variable_named_out():
    assert s2sad.ssa(cases.named_out) == f"""\
def named_out(x):    # {PATH}:69
    out = mul(x, x)  # line 70: out = x * x
    return out       # line 71: return out
"""
