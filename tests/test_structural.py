"""The IR's structural statements are known by their node class, never by a primitive's
name; the rule tables' primitives by :func:`s2sad.rules.core.rule_name`, which no user
function has. No module outside s2sad.ir and s2sad.rules compares a primitive's name.

:mod:`s2sad.structural` says which statements are list statements and array writes;
the analyses and both transforms ask it. A user's function that happens to be named
like one of those primitives (``setitem``, ``overwritten``, ``list_pop``) is an ordinary
call: its derivative is checked against finite differences in both modes and at second
order (on the code before the vocabulary, a function named ``setitem`` was read as a
write into its first argument and refused, and one named ``copy`` as the copy operator,
whose result has its operand's shape: reverse mode dropped the sum of its adjoint and
gave a wrong gradient; one named ``lt`` as a comparison, whose boolean result casts
what is written into it, so both modes gave a zero derivative).
"""

import ast
import pathlib
from dataclasses import replace

import numpy as np
import pytest

import oracle
import s2sad
from s2sad.lower import lower
from s2sad.structural import (LIST_APPEND, LIST_NEW, LIST_POP, Call, CustomCall, ListStatement,
                              SaveItem, UserCall, WriteItem, has_writes, is_list_statement,
                              saved_values)
from s2sad.custom import CustomPrimitive
from s2sad.ir import Assign, Loc, Var, walk_blocks
from s2sad.rules.operators import LIST_OPS, OPERATORS


def setitem(a, b):
    out = a * b  # two statements: a call, not inlined (inline/small.py)
    return out


def overwritten(a, b):
    out = a + np.sin(b)  # two statements: a call, not inlined (inline/small.py)
    return out


def list_pop(a):
    out = np.cos(a)  # two statements: a call, not inlined (inline/small.py)
    return out


def list_new(a):
    out = a ** 2  # two statements: a call, not inlined (inline/small.py)
    return out


def copy(x):
    out = np.sum(x) * 2.0  # two statements: a call, not inlined (inline/small.py)
    return out


def getitem(a, b):
    out = a * b  # two statements: a call, not inlined (inline/small.py)
    return out


def named_like_rules(x):
    y = copy(x) + x
    return np.sum(y * y) + np.sum(getitem(x, x))


def lt(a, b):
    out = a * b  # two statements: a call, not inlined (inline/small.py)
    return out


def named_like_a_comparison(x):
    y = lt(x, x)  # not a boolean array: a write into a copy of it carries a derivative
    z = y.copy()
    z[0] = x[1] * 3.0
    return np.sum(z)


def named_like_structure(x):
    return np.sum(setitem(x, x) + overwritten(x, x) * list_pop(x) + list_new(x))


def writes_and_lists(x):
    y = np.zeros(3)
    y[0] = x[0] * 2.0
    y[1:] = x[1:] ** 2
    t = []
    t.append(y[0])
    v = t.pop()
    return np.sum(y) * v


X = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("f", [named_like_structure, named_like_rules, named_like_a_comparison])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_user_function_named_like_an_ir_primitive_is_an_ordinary_call(f, mode):
    expected = oracle.gradient(f, [X])
    if mode == "reverse":
        got = s2sad.grad(f)(X)
    else:
        got = np.array([s2sad.jvp(f)(X, e)[1] for e in np.eye(3)])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [named_like_structure, named_like_rules])
def test_second_order_of_a_user_function_named_like_an_ir_primitive(f):
    v = np.array([1.0, 0.5, -2.0])
    hv = s2sad.hvp(f)(X, v)
    expected = oracle.gradient(lambda x: s2sad.grad(f)(x) @ v, [X])
    np.testing.assert_allclose(hv, expected, rtol=1e-5, atol=1e-7)


def test_no_statement_of_a_user_function_named_like_one_is_structural():
    fn = lower(named_like_structure)
    statements = [s for s in walk_blocks(fn.body) if isinstance(s, Assign)]
    names = {s.prim.name for s in statements}
    assert {"setitem", "overwritten", "list_pop", "list_new"} <= names
    assert not any(isinstance(s, (WriteItem, SaveItem, ListStatement)) for s in statements)
    calls = {s.prim.name for s in statements if type(s) is UserCall}
    assert calls == {"setitem", "overwritten", "list_pop", "list_new"}
    assert not has_writes(fn.body) and saved_values(fn.body) == {}


def test_the_vocabulary_finds_the_writes_and_list_statements():
    fn = lower(writes_and_lists)
    statements = [s for s in walk_blocks(fn.body) if isinstance(s, Assign)]
    writes = [s for s in statements if isinstance(s, WriteItem)]
    saves = [s for s in statements if isinstance(s, SaveItem)]
    assert len(writes) == 2 and len(saves) == 2 and has_writes(fn.body)
    # each write is paired with the save just before it
    assert saved_values(fn.body) == {w.target.name: s.target.name for s, w in zip(saves, writes)}
    kinds = [s.kind for s in statements if isinstance(s, ListStatement)]
    assert kinds == [LIST_NEW, LIST_APPEND, LIST_POP]
    assert [is_list_statement(s, LIST_POP) for s in statements].count(True) == 1
    np.testing.assert_allclose(s2sad.grad(writes_and_lists)(X),
                               oracle.gradient(writes_and_lists, [X]), rtol=1e-6, atol=1e-8)


def test_a_statement_of_a_structural_primitive_is_of_its_node_class():
    """A write, a save, a list statement and a call are each built as their node class, and
    copying one keeps its class; an ``Assign`` of another class for such a primitive (a copy
    that lost its class, which every transform would take for a rule) is refused when made."""
    fn = lower(writes_and_lists)
    for stmt in walk_blocks(fn.body):
        if isinstance(stmt, Assign):
            assert type(stmt) is stmt.prim.node
            assert type(replace(stmt, targets=stmt.targets)) is type(stmt)
    statements = list(walk_blocks(fn.body))
    write = next(s for s in statements if isinstance(s, WriteItem))
    save = next(s for s in statements if isinstance(s, SaveItem))
    assert (write.array, write.index, write.value) == write.args
    assert (save.array, save.index) == save.args
    assert [s.list.name for s in statements if isinstance(s, ListStatement)] == ["t"] * 3
    assert OPERATORS["setitem"].node is WriteItem and OPERATORS["overwritten"].node is SaveItem
    assert {p.node for p in LIST_OPS.values()} == {ListStatement}
    assert type(lower(named_like_rules).body[0]) is UserCall
    loc = Loc("f.py", 1, 0)
    for prim, args in [(OPERATORS["setitem"], 3), (OPERATORS["overwritten"], 2),
                       (LIST_OPS["list_pop"], 1)]:
        with pytest.raises(TypeError, match="s2sad.structural"):
            Assign((Var("y"),), prim, tuple(Var("a") for _ in range(args)), {}, loc)
    with pytest.raises(TypeError, match="s2sad.structural"):
        WriteItem((Var("y"),), OPERATORS["add"], (Var("a"), Var("b")), {}, loc)
    assert CustomPrimitive.node is CustomCall and issubclass(CustomCall, Call)


ROOT = pathlib.Path(s2sad.__file__).parent


def _asks_a_primitive_name(source):
    """``(line, text)`` of each place ``source`` tells statements apart by a primitive's name
    (``prim.name == "copy"``, ``stmt.prim.name in (...)``, ``rule_name(prim) == "tuple"``) or
    by ``type(prim) is Primitive``."""
    def is_prim(node):
        return isinstance(node, ast.Name) and node.id == "prim" or \
            isinstance(node, ast.Attribute) and node.attr == "prim"

    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left] + node.comparators
        by_name = any(isinstance(s, ast.Attribute) and s.attr == "name" and is_prim(s.value)
                      for s in sides) or \
            any(isinstance(s, ast.Call) and isinstance(s.func, ast.Name) and
                s.func.id == "rule_name" for s in sides) and \
            any(isinstance(s, (ast.Constant, ast.Tuple, ast.List, ast.Set)) and
                not (isinstance(s, ast.Constant) and s.value is None) for s in sides)
        by_type = any(isinstance(s, ast.Call) and isinstance(s.func, ast.Name) and
                      s.func.id == "type" and s.args and is_prim(s.args[0]) for s in sides) and \
            any(isinstance(s, ast.Name) and s.id == "Primitive" for s in sides)
        if by_name or by_type:
            out.append((node.lineno, ast.unparse(node)))
    return out


def test_no_statement_is_told_apart_by_its_primitives_name_outside_the_ir_and_the_rules():
    """Analyses and transforms dispatch on node classes and stanza fields (issue 15): the
    names of primitives are compared in s2sad.ir and s2sad.rules only (a message may show one)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "ir.py" or relative.startswith("rules/"):
            continue
        found += [f"s2sad/{relative}:{line}: {text}"
                  for line, text in _asks_a_primitive_name(path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_the_name_check_sees_a_comparison_of_names_and_of_types():
    probe = ("if stmt.prim.name in ('tuple', 'list'):\n    pass\n"
             "ok = prim.name == 'copy' or type(prim) is not Primitive\n"
             "msg = f'{prim.name}()'\n"
             "kind = rule_name(stmt.prim) in ('tuple', 'list') or rule_name(p) is None\n")
    assert [line for line, _ in _asks_a_primitive_name(probe)] == [1, 3, 3, 5]
