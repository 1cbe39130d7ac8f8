"""The package's layers, enforced (DESIGN.md, Pipeline, "Layers"; README, "The pipeline").

Every module of ``s2sad`` is parsed with :mod:`ast` (nothing is imported), and the
graph of its imports of ``s2sad`` modules is built. The graph has no cycle, no
import of an ``s2sad`` module sits inside a function or a class (each is at the
top of its module, where the layering can see it), and every import goes down
:data:`LAYERS`: a module imports only modules of rows above its own row.

Importing ``s2sad.rules.core`` runs ``s2sad/rules/__init__.py`` first, so an
import of a package's submodule from outside the package counts as an import of
the package too.
"""

import ast
import functools
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "s2sad")

# Rows from the bottom up; a module may import modules of earlier rows only (so two
# modules of one row never import each other). The comments are the design's layers.
LAYERS = [
    # 1. errors, the IR, gast utilities, the run-time helpers of generated code
    ["s2sad.revolve"],
    ["s2sad.errors", "s2sad.ir", "s2sad.astutil", "s2sad.support", "s2sad.table", "s2sad.trees",
     "s2sad.kinds", "s2sad.display"],
    ["s2sad.inplace"],
    ["s2sad.rewrites"],
    ["s2sad.support_plain", "s2sad.structural"],
    # 2. rule tables, and the user's own rules (the decorator and its data)
    ["s2sad.rules.core"],
    ["s2sad.rules.elementwise", "s2sad.rules.reductions", "s2sad.rules.operators",
     "s2sad.rules.linalg", "s2sad.rules.signal"],
    ["s2sad.rules.norms"],
    ["s2sad.rules.linear_algebra", "s2sad.rules.support_rules"],
    ["s2sad.rules.arrays"],
    ["s2sad.rules"],
    ["s2sad.coverage"],
    ["s2sad.custom"],
    # 3. front end: parse -> inline -> desugar -> lower (with memory.py, the alias analysis)
    ["s2sad.parse", "s2sad.desugar", "s2sad.memory"],
    ["s2sad.starred", "s2sad.methods"],
    ["s2sad.expand"],
    # the inliner: helpers, the dict pass, one mixin per concern, the inliner itself
    ["s2sad.inline.scopes"],
    ["s2sad.inline.dicts", "s2sad.inline.definitions", "s2sad.inline.calls", "s2sad.inline.small"],
    ["s2sad.inline.inliner"],
    ["s2sad.inline"],
    # the lowerer: tables and primitives, one mixin per concern, the lowerer itself
    ["s2sad.lower.shared", "s2sad.lower.primitives"],
    ["s2sad.lower.lists", "s2sad.lower.control", "s2sad.lower.statements",
     "s2sad.lower.expressions", "s2sad.lower.calls"],
    ["s2sad.lower.lowerer"],
    ["s2sad.lower"],
    # 4. analyses of the IR
    # the analyses' package: activity first (the others ask it), one module per concern
    ["s2sad.analysis.activity"],
    ["s2sad.analysis.shapes", "s2sad.analysis.regions", "s2sad.analysis.names"],
    ["s2sad.analysis"],
    ["s2sad.ranks"],
    # 5. simplify, emit, verify; adjoints; what both transforms share; custom rules' code
    ["s2sad.simplify", "s2sad.emit", "s2sad.verify"],
    ["s2sad.adjoints", "s2sad.common"],
    ["s2sad.custom_code", "s2sad.checkpoint", "s2sad.batching"],
    # 6. the transforms: siblings that never import each other
    # reverse mode's package: the forward sweep's placeholders, helpers, one mixin per
    # concern, the transform itself
    ["s2sad.reverse.slots"],
    ["s2sad.reverse.shared"],
    ["s2sad.reverse.deferral", "s2sad.reverse.calls"],
    ["s2sad.reverse.tape", "s2sad.reverse.control", "s2sad.reverse.lists",
     "s2sad.reverse.writes", "s2sad.reverse.assignments"],
    ["s2sad.reverse.sweep"],
    ["s2sad.reverse", "s2sad.forward"],
    # 7. module builders
    ["s2sad.module"],
    # 8. the compiled-function cache
    ["s2sad.cache"],
    ["s2sad.specialise"],
    # 9. the API, and the tools that show a derivative (they read the SSA form and the
    # compiled derivative)
    ["s2sad.higher", "s2sad.instrument"],
    ["s2sad.trace"],
    ["s2sad.graph", "s2sad.cost"],
    ["s2sad.explain", "s2sad.points"],
    ["s2sad.api"],
    ["s2sad.checking"],
    ["s2sad"],
    # 10. the command line
    ["s2sad.cli"],
    ["s2sad.__main__"],
]


def _modules():
    """``{dotted name: path}`` for every module of the package."""
    out = {}
    for directory, _, files in os.walk(ROOT):
        for file in files:
            if not file.endswith(".py"):
                continue
            path = os.path.join(directory, file)
            parts = ["s2sad"] + os.path.relpath(path, ROOT)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module, path):
    """``[(imported s2sad module, line, inside a function or class)]`` of one module."""
    is_package = os.path.basename(path) == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read(), path)
    out = []

    def visit(node, nested):
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.ClassDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((alias.name, child.lineno, nested) for alias in child.names
                           if alias.name.split(".")[0] == "s2sad")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] != "s2sad":
                    continue
                for alias in child.names:  # from . import rules: the submodule itself
                    sub = f"{target}.{alias.name}"
                    out.append((sub if sub in MODULES else target, child.lineno, nested))
            visit(child, inner)

    visit(tree, False)
    return out


@functools.lru_cache(maxsize=None)
def _graph():
    """``{module: {imported module: first line}}``, packages of submodules included."""
    graph = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        for target, line, _ in _imports(module, path):
            edges.setdefault(target, line)
            parent = target.rpartition(".")[0]
            # importing s2sad.rules.core from outside s2sad.rules runs s2sad/rules/__init__.py
            while parent and parent != "s2sad" and not module.startswith(parent + ".") and \
                    module != parent:
                edges.setdefault(parent, line)
                parent = parent.rpartition(".")[0]
    return graph


def test_every_module_has_a_row():
    rows = [m for row in LAYERS for m in row]
    assert len(rows) == len(set(rows)), "a module is in two rows of LAYERS"
    assert sorted(rows) == sorted(MODULES), (
        f"LAYERS must list every module of s2sad once: missing {sorted(set(MODULES) - set(rows))}"
        f", unknown {sorted(set(rows) - set(MODULES))}")


def test_no_import_of_s2sad_inside_a_function():
    local = [f"{os.path.relpath(path, os.path.dirname(ROOT))}:{line}: imports {target}"
             for module, path in MODULES.items()
             for target, line, nested in _imports(module, path) if nested]
    assert not local, "imports of s2sad modules belong at the top of the module:\n" + \
        "\n".join(local)


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in graph.get(module, ()):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_every_import_goes_down_the_layers():
    row = {m: i for i, names in enumerate(LAYERS) for m in names}
    upward = []
    for module, edges in sorted(_graph().items()):
        if module not in row:
            continue  # test_every_module_has_a_row reports it
        for target, line in sorted(edges.items()):
            if target in row and row[target] >= row[module]:
                upward.append(f"{MODULES[module]}:{line}: {module} (row {row[module]}) imports "
                              f"{target} (row {row[target]})")
    assert not upward, "imports must go to earlier rows of LAYERS:\n" + "\n".join(upward)


def test_the_transforms_are_siblings():
    graph = _graph()
    assert "s2sad.forward" not in graph["s2sad.reverse"]
    assert "s2sad.reverse" not in graph["s2sad.forward"]


def test_the_checker_sees_a_local_import(tmp_path):
    """The checks above are not vacuous: a function-local import is found as one."""
    source = tmp_path / "probe.py"
    source.write_text("from .ir import Var\n\ndef f():\n    from .api import grad\n")
    found = _imports("s2sad.probe", str(source))
    assert ("s2sad.ir", 1, False) in found and ("s2sad.api", 4, True) in found
