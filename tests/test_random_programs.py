"""Random programs, derivatives checked numerically.

Two generators:

- ``test_generated_program``: program ``k`` of :mod:`tests.programs.generator` (loops,
  branches, writes, helpers, lists, aliases, ``break``/``continue``/``return``, ...),
  differentiated with ``s2sad.grad``/``value_and_grad``, ``s2sad.jvp`` and, by the seed
  (:func:`tests.programs.random_programs.rotation`), ``s2sad.hvp``, reverse over reverse, ``jvp`` of the gradient, the full
  Hessian, inputs in other memory layouts, float32 inputs and ``s`` as a 0-d array
  (:mod:`tests.programs.mechanisms`), and checked against finite differences by
  :func:`tests.programs.random_programs.check`. A program passes when it is ``ok``,
  ``refused`` (a located ``S2sadError``) or ``skipped`` (no smooth point); ``wrong``,
  ``crash`` and ``unlocated`` fail with the program's source. 300 programs by default;
  ``S2SAD_RANDOM_PROGRAMS=10000`` runs that many, each with every check (slow, opt-in). The
  same checks at scale, with shrinking: ``python -m tests.programs.random_programs``.
- ``test_random_program_derivatives`` (Hypothesis, below): straight-line programs,
  checked exactly against the complex step.

Hypothesis draws a program of a few statements over the inputs ``x`` (3, 4),
``y`` (4,), ``z`` (3, 1) and the float ``s``. Statements combine ``+ - * /``, ``np.exp``,
``np.tanh``, ``np.sin``, ``np.log`` and ``np.sqrt`` of positive expressions,
``np.sum`` with and without ``axis``/``keepdims``, constants that broadcast,
reassignments of names (inputs included), augmented assignments
(``+= -= *=``), and writes into parts of arrays the program made
(``a[1:, ::2] = ...``, ``a[0] += ...``, ``a[[0, 2]] *= ...``, ``a[[0, 2, 0]] = ...``, which
names an element twice), and two values
unpacked from a call of a helper of the module (``a, b = pair(e, e2)``). The program is written as source text to a file, imported
(s2sad reads source), and its derivatives with respect to all four inputs
are checked twice: with ``s2sad.check_grads`` (finite differences along a
random direction), and element by element against the complex-step
derivative, which every operation used here admits and which is exact to
rounding; both for a scalar output (through ``s2sad.grad``) and for an array
output (through ``s2sad.vjp``).

Every expression carries a bound on its magnitude; anything that could grow
past :data:`LIMIT` is squashed with ``np.tanh`` and denominators are at least 1,
so the programs stay smooth and well scaled wherever the inputs are drawn from
(uniform in [-1, 1], from a seed Hypothesis picks). The examples are
derandomized so CI runs the same programs every time; a failure reports the
program's source.

A last test pins down augmented assignment through an alias, which the
generator avoids (it only updates names it bound to fresh values).
"""

import ast
import importlib.util
import itertools
import math
import os
import sys

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import oracle
import s2sad
from tests.programs.generator import generate
from tests.programs.once_refused import ONCE_REFUSED
from tests.programs.random_programs import ALL_MODES, check, rotation

COUNT = int(os.environ.get("S2SAD_RANDOM_PROGRAMS", "300"))
EVERY_CHECK = "S2SAD_RANDOM_PROGRAMS" in os.environ


@pytest.mark.parametrize("seed", range(COUNT))
def test_generated_program(seed):
    source = generate(seed)
    modes = ALL_MODES if EVERY_CHECK else rotation(seed)
    result = check(source, seed, modes)
    assert result["cls"] in ("ok", "refused", "skipped"), (
        f"program {seed} (python -m tests.programs.random_programs --seeds {seed} --shrink): "
        f"{result['cls']} in {result['mode']}: {result['reason']}\n{source}\n{result['error']}")

@pytest.mark.parametrize("seed", sorted(ONCE_REFUSED))
def test_programs_once_refused_are_differentiated(seed):
    """Programs once refused or failed for a fault of s2sad's, now differentiated in every
    mode (their texts: tests/programs/once_refused.py)."""
    result = check(ONCE_REFUSED[seed], seed)
    assert result["cls"] == "ok", result


def test_some_programs_take_a_dict_of_parameters():
    """A fifth of the programs take x and y as one dict, ``f(params, z, s, n)``; the checks
    then ask for the gradient in that structure (a dict with the same keys, exactly)."""
    sources = {seed: generate(seed) for seed in range(30)}
    dicted = [seed for seed, source in sources.items() if "(self, params" in source or
              "def f(params" in source]
    assert 3 <= len(dicted) <= 12
    result = check(sources[dicted[0]], dicted[0])
    assert result["cls"] == "ok", result
    assert set(result["modes"]) == {"grad", "jvp", "hvp"}


def test_some_programs_nest_their_helpers_in_f():
    """A fifth of the programs nest the helpers only f calls in f (generator.with_closures),
    each reading one of f's names as it is at the call; one is differentiated in every mode."""
    def nested(source):
        f = next(n for n in ast.walk(ast.parse(source))
                 if isinstance(n, ast.FunctionDef) and n.name == "f")
        return [n for n in f.body if isinstance(n, ast.FunctionDef)]

    sources = {seed: generate(seed) for seed in range(60)}
    seeds = [seed for seed, source in sources.items() if nested(source)]
    assert 2 <= len(seeds) <= 12
    helper = nested(sources[seeds[0]])[0]
    assert "np.tanh(" in ast.unparse(helper.body[0])  # p = p * (1.0 + 0.1 * np.tanh(<f's>))
    result = check(sources[seeds[0]], seeds[0], ALL_MODES)
    assert result["cls"] == "ok", result


LIMIT = 100.0  # largest magnitude an expression may reach before it is squashed
RTOL = 1e-8  # the oracle is exact to rounding, so this only allows for rounding
STEP = 1e-30
INPUTS = {"x": (3, 4), "y": (4,), "z": (3, 1), "s": ()}
LOCALS = ("a", "b", "c")
W = np.random.default_rng(99).standard_normal((3, 4))

# --- the program generator: expressions are (text, shape, bound) ----------------------


def _sum_choices(shape):
    """``(keyword text, result shape)`` for np.sum calls whose results still broadcast to (3, 4)."""
    choices = [("", ())]
    if len(shape) == 2:
        choices += [(", axis=0", shape[1:]), (", axis=-1, keepdims=True", (shape[0], 1)),
                    (", axis=(0, 1)", ())]
    elif len(shape) == 1:
        choices += [(", axis=0", ())]
    return choices


def _squash(text, shape, bound):
    return (f"np.tanh({text})", shape, 1.0) if bound > LIMIT else (text, shape, bound)


@st.composite
def leaves(draw, env):
    """A constant (0-d) or one of the names in ``env``."""
    if draw(st.integers(0, 4)) == 0:
        value = draw(st.sampled_from([0.5, 1.5, 2.0, -0.7]))
        return repr(value), (), abs(value)
    name = draw(st.sampled_from(sorted(env)))
    return (name,) + env[name]


@st.composite
def expressions(draw, env, depth, compound=False):
    """A random expression over the names of ``env`` (name -> (shape, bound))."""
    if depth == 0 or (not compound and draw(st.integers(0, 2)) == 0):
        return draw(leaves(env))
    kind = draw(st.sampled_from(["+", "-", "*", "/", "unary", "sum"]))
    e, shape, bound = draw(expressions(env, depth - 1))
    if kind == "unary":
        fn = draw(st.sampled_from(["exp", "tanh", "sin", "log", "sqrt", "neg"]))
        text, new_bound = {
            "exp": (f"np.exp({e})" if bound <= 4 else f"np.exp(np.tanh({e}))",
                    math.exp(min(bound, 4.0))),
            "tanh": (f"np.tanh({e})", 1.0),
            "sin": (f"np.sin({e})", min(bound, 1.0)),
            "log": (f"np.log(1.0 + {e} * {e})", math.log1p(bound ** 2)),
            "sqrt": (f"np.sqrt({e} * {e} + 0.5)", math.sqrt(bound ** 2 + 0.5)),
            "neg": (f"(-{e})", bound),
        }[fn]
        return _squash(text, shape, new_bound)
    if kind == "sum":
        keywords, new_shape = draw(st.sampled_from(_sum_choices(shape)))
        return _squash(f"np.sum({e}{keywords})", new_shape, bound * max(1, math.prod(shape)))
    if kind == "/" and draw(st.booleans()):
        return f"({e} / 2.5)", shape, bound
    e2, shape2, bound2 = draw(expressions(env, depth - 1))
    new_shape = np.broadcast_shapes(shape, shape2)
    if kind == "/":
        denominator = draw(st.sampled_from([f"(1.0 + {e2} * {e2})", f"(2.0 + np.sin({e2}))"]))
        return f"({e} / {denominator})", new_shape, bound
    new_bound = bound * bound2 if kind == "*" else bound + bound2
    return _squash(f"({e} {kind} {e2})", new_shape, new_bound)


# index forms for writes, by the shape of the array written: (text, shape of the item); an
# element named twice keeps the last value written (its first position gets no derivative)
INDICES = {
    (3, 4): [("[0]", (4,)), ("[1:, ::2]", (2, 2)), ("[:, 1]", (3,)), ("[2, 3]", ()),
             ("[-1, 1:3]", (2,)), ("[[0, 2]]", (2, 4)), ("[[0, 2, 0]]", (3, 4)),
             ("[[1, 1], [0, 3]]", (2,))],
    (4,): [("[1]", ()), ("[::2]", (2,)), ("[1:3]", (2,)), ("[[3, 0]]", (2,)),
           ("[[3, 0, 3]]", (3,)), ("[[0, -4]]", (2,))],
    (3, 1): [("[0]", (1,)), ("[1:, 0]", (2,)), ("[2, 0]", ())],
}


def _broadcasts_into(shape, target):
    try:
        return np.broadcast_shapes(target, shape) == target
    except ValueError:
        return False


@st.composite
def programs(draw):
    """The body of a random program (lines of source) and the names it assigned."""
    env = {name: (shape, 1.0) for name, shape in INPUTS.items()}
    fresh = set()  # locals bound to values made in the program: safe to update in place
    lines, assigned = [], []
    for _ in range(draw(st.integers(2, 5))):
        text, shape, bound = draw(expressions(env, 2, compound=True))
        writable = sorted(t for t in fresh if env[t][0] in INDICES)
        if writable and draw(st.booleans()):  # a write into part of an array
            target = draw(st.sampled_from(writable))
            index, item = draw(st.sampled_from(INDICES[env[target][0]]))
            if not _broadcasts_into(shape, item):  # a value that fits: its total
                text, shape, bound = _squash(f"np.sum({text})", (), bound * math.prod(shape))
            op = draw(st.sampled_from(["=", "+=", "*="]))
            old = env[target][1]
            new_bound = max(old, bound) if op == "=" else old * bound if op == "*=" \
                else old + bound
            if _broadcasts_into(shape, item) and new_bound <= LIMIT:
                lines.append(f"{target}{index} {op} {text}")
                env[target] = (env[target][0], new_bound)
                continue
        if draw(st.integers(0, 5)) == 0:  # two values from a helper: a, b = pair(e, e2)
            text2, shape2, bound2 = draw(expressions(env, 1))
            first, second = draw(st.lists(st.sampled_from(LOCALS + tuple(INPUTS)), min_size=2,
                                          max_size=2, unique=True))
            both = np.broadcast_shapes(shape, shape2)
            if bound2 <= LIMIT and bound + 1.0 <= LIMIT:
                lines.append(f"{first}, {second} = pair({text}, {text2})")
                env[first], env[second] = (both, bound2), (both, bound + 1.0)
                for name in (first, second):
                    fresh.discard(name)  # a helper's result may be its argument: no in place
                    assigned.append(name)
                continue
        targets = sorted(t for t in fresh if np.broadcast_shapes(env[t][0], shape) == env[t][0])
        if targets and draw(st.booleans()):
            target = draw(st.sampled_from(targets))
            op = draw(st.sampled_from(["+=", "-=", "*="]))
            old = env[target][1]
            new_bound = old * bound if op == "*=" else old + bound
            if new_bound <= LIMIT:
                lines.append(f"{target} {op} {text}")
                env[target] = (env[target][0], new_bound)
                continue
        target = draw(st.sampled_from(LOCALS + tuple(INPUTS)))
        lines.append(f"{target} = {text}")
        env[target] = (shape, bound)
        if target in LOCALS:
            fresh.add(target)
        assigned.append(target)
    return lines, list(dict.fromkeys(assigned))


_counter = itertools.count()


def load(source, directory):
    """Write ``source`` to a fresh module file and import it."""
    name = f"s2sad_random_program_{next(_counter)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def module_source(lines, assigned):
    body = "".join(f"    {line}\n" for line in lines)
    scalar = " + ".join(f"np.sum({name} * W)" for name in assigned)
    array = " + ".join(assigned)
    return (f"import numpy as np\n\nW = np.array({W.tolist()!r})\n\n\n"
            f"def pair(a, b):\n    return np.sin(a) * b, a + np.tanh(b)\n\n\n"
            f"def f_scalar(x, y, z, s):\n{body}    return {scalar}\n\n\n"
            f"def f_array(x, y, z, s):\n{body}    return ({array}) * W\n")


# --- the oracle -----------------------------------------------------------------------------


def complex_step_vjp(f, args, v):
    """d<v, f(args)>/d args[i] for every argument, by the oracle's complex step (exact to
    rounding: every operation the generator uses is analytic)."""
    def weighted(*a):
        return np.sum(v * f(*a))
    return oracle.complex_step_gradient(weighted, args, tuple(range(len(args))), h=STEP)


def assert_matches(analytic, numeric, what):
    for name, a, n in zip(INPUTS, analytic, numeric):
        assert np.shape(a) == np.shape(n), f"{what}: d/d{name} has shape {np.shape(a)}"
        error = np.max(np.abs(a - n), initial=0.0)
        scale = np.max(np.abs(n), initial=0.0)
        assert error <= RTOL * scale + 1e-9, \
            f"{what}: d/d{name} is off by {error:.3g} (max |d/d{name}| {scale:.3g})\n" \
            f"s2sad:\n{a}\ncomplex step:\n{n}"


# --- the property -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(program=programs(), seed=st.integers(0, 2 ** 32 - 1))
def test_random_program_derivatives(program, seed, tmp_path_factory):
    source = module_source(*program)
    note(source)
    module = load(source, tmp_path_factory.mktemp("programs", numbered=True))
    rng = np.random.default_rng(seed)
    args = tuple(rng.uniform(-1, 1, shape) if shape else float(rng.uniform(-1, 1))
                 for shape in INPUTS.values())
    wrt = tuple(range(len(args)))

    s2sad.check_grads(module.f_scalar, args, wrt=wrt)
    assert_matches(s2sad.grad(module.f_scalar, wrt=wrt)(*args),
                   complex_step_vjp(module.f_scalar, args, 1.0), "grad of f_scalar")

    s2sad.check_grads(module.f_array, args, wrt=wrt)
    v = rng.standard_normal((3, 4))
    assert_matches(s2sad.vjp(module.f_array, wrt=wrt)(*args, v),
                   complex_step_vjp(module.f_array, args, v), "vjp of f_array")


def alias_update(x):
    a = x * 2.0
    b = a
    b += x  # NumPy updates the array in place, so a is 3 * x from here on
    return np.sum(a * x)


def test_augmented_assignment_through_an_alias():
    x = np.array([1.0, 2.0, -0.5])
    assert alias_update(x) == np.sum(3 * x * x)
    # NumPy's += updates the array b shares with a; s2sad refuses rather than differentiate
    # a different program (b = b + x) silently
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="a shares memory with b"):
        s2sad.grad(alias_update)(x)
