"""The gast utilities (s2sad/astutil.py) the transforms build their code with.

``walk`` must visit exactly the nodes ``ast.walk`` visits, in its order (passes pick
the first node found, so the order shows in error messages); a ``copier`` must make
what ``clone`` makes, field for field and location for location, and share no node
with the tree copied or with the values substituted (later passes rewrite nodes in
place); a rule template instantiated many times (through its copier) must give the
same tree as the first few times (through ``clone``). ``definition_lines`` must find
the lines ``inspect.getblock`` finds for every ``def``.
"""

import ast
import inspect
import pathlib
import textwrap
import types

import gast
import pytest

from s2sad.astutil import (Kinds, clone, copier, definition_lines, parse, parse_expr,
                           parsed_definition, walk)
from s2sad.rules.templates import Template

TEXTS = ["unbroadcast(g * np.cos(x) / (1.0 + y * y), x)", "g[..., None] * (a, b)[1]",
         "np.sum(g, axis=(0, -1), keepdims=True) ** 2.5", "f(*args, k=v, **kw) if c else -d",
         "lambda q: q + [1, 'a', None, True, 1e300 * 10]", "x[1:2, ::3] @ g.T"]


def _name(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


ENVS = [None, {}, {"g": _name("z_bar"), "x": gast.Constant(value=2.5, kind=None)},
        {"a": parse_expr("u * v"), "q": _name("w"), "k": _name("unused")}]


def _ids(node):
    return {id(n) for n in ast.walk(node)}


@pytest.mark.parametrize("text", TEXTS)
def test_a_copier_makes_what_clone_makes_and_shares_no_node(text):
    tree = parse_expr(text)
    copy = copier(tree)
    for env in ENVS:
        made, cloned = copy(env), clone(tree, env)
        assert gast.dump(made, include_attributes=True) == \
            gast.dump(cloned, include_attributes=True)
        assert not _ids(made) & _ids(tree)
        assert not any(_ids(made) & _ids(value) for value in (env or {}).values())
        assert copy(env) is not made


@pytest.mark.parametrize("text", TEXTS + [pathlib.Path(ast.__file__).read_text()])
def test_walk_visits_what_ast_walk_visits_in_its_order(text):
    tree = gast.parse(text)
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]


def test_a_template_instantiated_many_times_gives_the_same_tree_each_time():
    template = Template("unbroadcast(g * np.cos(x) / (1.0 + y * y), x) + g")
    env = {"g": parse_expr("z_bar * 2.0"), "x": _name("x1"), "y": _name("y1")}
    made = [template.instantiate(env) for _ in range(10)]  # clone first, then the copier
    assert len({gast.dump(m, include_attributes=True) for m in made}) == 1
    assert ast.unparse(gast.gast_to_ast(made[-1])) == \
        "unbroadcast(z_bar * 2.0 * np.cos(x1) / (1.0 + y1 * y1), x1) + z_bar * 2.0"
    assert len(set().union(*map(_ids, made))) == sum(len(_ids(m)) for m in made)


@pytest.mark.parametrize("text", TEXTS + [pathlib.Path(ast.__file__).read_text()])
def test_clone_copies_every_field_and_location_and_shares_no_node(text):
    tree = gast.parse(text)
    copy = clone(tree)
    assert gast.dump(copy, include_attributes=True) == gast.dump(tree, include_attributes=True)
    assert not _ids(copy) & _ids(tree)
    node = gast.Name(id="x", ctx=gast.Load())  # fields missing: None in the copy
    copied = clone(node)
    assert (copied.annotation, copied.type_comment, copied.id) == (None, None, "x")
    assert not hasattr(copied, "lineno")  # an attribute missing stays missing


def _same_tree(a, b):
    """The same kinds, fields and locations, each node's ``__dict__`` in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same_tree, a, b))
    if isinstance(a, ast.AST):
        return list(vars(a)) == list(vars(b)) and all(_same_tree(vars(a)[k], vars(b)[k])
                                                      for k in vars(a))
    return a == b or a != a and b != b


@pytest.mark.parametrize("path", [ast.__file__, gast.__file__, __file__,
                                  pathlib.Path(__file__).parent / "programs" /
                                  "primitive_cases.py"])
def test_parse_makes_what_gast_parse_makes(path):
    text = pathlib.Path(path).read_text()
    assert _same_tree(parse(text), gast.parse(text))
    assert _same_tree(parse("def f(x, *a, k: int = 1, **kw) -> int:\n  return x\n"),
                      gast.parse("def f(x, *a, k: int = 1, **kw) -> int:\n  return x\n"))


# definitions whose end the indentation alone does not tell, or tells wrongly
AWKWARD = ['def f(x):\n    s = """\nnot the end\n"""\n    return s\ny = 1\n',
           'def f(x):\n    return (x +\n1)\nz = 2\n',
           'def f(x,\ny):\n    return x\n',
           'def f(x): return x\ndef g(x): return x\n',
           '@deco\n@other(1,\n  2)\ndef f(x):\n    return x\n\n# after\nq = 1\n',
           '    def inner(x):\n        y = x\n# col 0 comment\n        return y\n        # kept\n'
           '    # not kept\n    return inner\n',
           'async def f(x):\n    await x\n\n\n',
           'def f(x):\n    if x:\n        return 1 \\\n+ 2\n    return 3\nw = 0\n',
           'class C:\n    x = 1\n']


@pytest.mark.parametrize("text", AWKWARD)
def test_definition_lines_are_inspects_on_awkward_definitions(text):
    lines = text.splitlines(True)
    assert definition_lines(lines) == inspect.getblock(lines)
    try:  # (a comment at column 0 in a nested def keeps dedent from dedenting it)
        ast.parse(textwrap.dedent("".join(inspect.getblock(lines))))
    except SyntaxError:
        with pytest.raises(SyntaxError):
            parsed_definition(lines)
        return
    block, dedented, module = parsed_definition(lines)  # (the parse checks the cut)
    assert block == inspect.getblock(lines)
    assert ast.dump(gast.gast_to_ast(module)) == ast.dump(ast.parse(dedented))


def test_definition_lines_are_inspects_on_every_function_of_the_standard_library_read():
    import argparse, email.message, json.decoder, textwrap, unittest.case  # noqa: E401, F401
    import s2sad.api
    count = 0
    for module in (argparse, email.message, json.decoder, textwrap, unittest.case, s2sad.api):
        for value in list(vars(module).values()):
            functions = vars(value).values() if isinstance(value, type) else [value]
            for fn in functions:
                if isinstance(fn, types.FunctionType) and fn.__module__ == module.__name__:
                    lines, start = inspect.findsource(fn)
                    assert definition_lines(lines[start:]) == inspect.getblock(lines[start:]), \
                        fn.__qualname__
                    count += 1
    assert count > 300


def test_kinds_are_walks_nodes_by_kind_until_told_the_tree_changed():
    tree = parse("def f(x):\n    y = np.sin(x) * g(x, *t)\n    return [y, (x, y)]\n")
    kinds = Kinds(tree)
    for kind in (gast.Name, gast.Call, gast.Tuple, gast.Starred, gast.While):
        assert list(kinds(kind)) == [n for n in walk(tree) if type(n) is kind]
    assert kinds(gast.Tuple, gast.List) == [n for n in walk(tree) if type(n) is gast.Tuple] + \
        [n for n in walk(tree) if type(n) is gast.List]
    tree.body[0].body.append(gast.Expr(value=_name("late")))
    assert "late" not in [n.id for n in kinds(gast.Name)]  # (as told: nothing changed)
    kinds.stale()
    assert "late" in [n.id for n in kinds(gast.Name)]
