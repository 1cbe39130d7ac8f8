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
    # the run-time helpers' package (generated modules copy them): one module per concern
    ["s2sad.support.checks", "s2sad.support.arrays"],
    ["s2sad.support.containers", "s2sad.support.broadcasting"],
    ["s2sad.support.lists"],
    ["s2sad.support.batches"],
    ["s2sad.support.indexing", "s2sad.support.products"],
    ["s2sad.support.linalg", "s2sad.support.signal"],
    ["s2sad.astutil"],
    ["s2sad.errors", "s2sad.ir", "s2sad.generated_code", "s2sad.support",
     "s2sad.table", "s2sad.trees", "s2sad.display"],
    ["s2sad.support_plain", "s2sad.structural"],
    ["s2sad.helper_sources"],
    # 2. rule tables, and the user's own rules (the decorator and its data)
    ["s2sad.rules.templates"],
    ["s2sad.rules.core"],
    ["s2sad.rules.elementwise", "s2sad.rules.reductions", "s2sad.rules.operators",
     "s2sad.rules.linalg", "s2sad.rules.signal"],
    ["s2sad.rules.norms"],
    ["s2sad.rules.linear_algebra", "s2sad.rules.support_rules"],
    ["s2sad.rules.arrays", "s2sad.rules.ufunc_methods", "s2sad.rules.statistics"],
    ["s2sad.rules"],
    # what generated code's values are (the rule tables say what NumPy's functions give)
    # and the call-time rewrites it allows
    ["s2sad.kinds"],
    ["s2sad.inplace", "s2sad.tape_stand_ins"],
    ["s2sad.rewrites"],
    ["s2sad.coverage"],
    ["s2sad.custom"],
    # 3. front end: parse -> inline -> desugar -> lower (with memory.py, the alias analysis)
    ["s2sad.stale_reads"],
    ["s2sad.parse", "s2sad.desugar", "s2sad.memory"],
    ["s2sad.starred", "s2sad.dict_views", "s2sad.methods", "s2sad.guards"],
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
    ["s2sad.analysis.shapes", "s2sad.analysis.regions", "s2sad.analysis.names",
     "s2sad.analysis.indices"],
    ["s2sad.analysis"],
    ["s2sad.ranks"],
    # 5. simplify, emit, verify; adjoints; what both transforms share; custom rules' code
    # the emitter's package: gast builders, the emitter, blocks and loops, module text
    ["s2sad.emit.nodes", "s2sad.emit.lines"],
    ["s2sad.emit.writer"],
    ["s2sad.emit.emitter", "s2sad.emit.blocks", "s2sad.emit.render"],
    ["s2sad.simplify", "s2sad.emit", "s2sad.verify"],
    ["s2sad.adjoints", "s2sad.common"],
    ["s2sad.custom_code", "s2sad.checkpoint", "s2sad.batching"],
    # 6. the transforms: siblings that never import each other
    # reverse mode's package: the forward sweep's placeholders, helpers, one mixin per
    # concern, the transform itself
    ["s2sad.reverse.slots"],
    ["s2sad.reverse.shared"],
    ["s2sad.reverse.deferral", "s2sad.reverse.calls", "s2sad.reverse.forward_masks"],
    ["s2sad.reverse.tape", "s2sad.reverse.control", "s2sad.reverse.lists",
     "s2sad.reverse.writes", "s2sad.reverse.assignments"],
    ["s2sad.reverse.sweep"],
    # forward mode's package: tangents and their zeros, one mixin per concern, the transform
    ["s2sad.forward.structure"],
    ["s2sad.forward.control", "s2sad.forward.writes", "s2sad.forward.tangents",
     "s2sad.forward.vector"],
    ["s2sad.forward.transform"],
    ["s2sad.reverse", "s2sad.forward"],
    # 7. module builders
    ["s2sad.module"],
    # 8. the compiled-function cache; reading the API's arguments and its failures
    ["s2sad.arguments"],
    ["s2sad.failures"],
    ["s2sad.cache"],
    ["s2sad.specialise"],
    # 9. the API, and the tools that show a derivative (they read the SSA form and the
    # compiled derivative)
    ["s2sad.higher", "s2sad.instrument"],
    ["s2sad.trace"],
    ["s2sad.tape_model", "s2sad.template_reads"],
    ["s2sad.graph", "s2sad.cost"],
    ["s2sad.explain", "s2sad.points"],
    ["s2sad.api"],
    ["s2sad.checking"],
    ["s2sad"],
    # 10. the command line
    ["s2sad.targets"],
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
    """No module of either transform's package imports the other's."""
    graph = _graph()
    for one, other in (("s2sad.reverse", "s2sad.forward"), ("s2sad.forward", "s2sad.reverse")):
        for module, edges in graph.items():
            if module == one or module.startswith(one + "."):
                assert not [t for t in edges if t == other or t.startswith(other + ".")], module


def test_the_checker_sees_a_local_import(tmp_path):
    """The checks above are not vacuous: a function-local import is found as one."""
    source = tmp_path / "probe.py"
    source.write_text("from .ir import Var\n\ndef f():\n    from .api import grad\n")
    found = _imports("s2sad.probe", str(source))
    assert ("s2sad.ir", 1, False) in found and ("s2sad.api", 4, True) in found


# --- sizes: no module over about 450 lines, no function over about 60 (issue 15) -------------

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60

# Modules over the limit (none today). Do not add to it: split a module that grows past the
# limit (test_the_size_allow_lists_are_current fails on an entry no longer needed).
LONG_MODULES = set()

# Functions over the limit (none today). Do not add to this list: split a function that
# grows past the limit instead.
LONG_FUNCTIONS = set()


def _module_lines():
    """``{module: number of lines}`` of every module of the package."""
    with_counts = {}
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as file:
            with_counts[module] = sum(1 for _ in file)
    return with_counts


def _function_sizes(module, path):
    """``{module.qualified.name: number of lines}`` of every function of one module (methods
    and nested functions included, each counted whole)."""
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read(), path)
    out = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}"
                if not isinstance(child, ast.ClassDef):
                    out[name] = child.end_lineno - child.lineno + 1
                visit(child, name)

    visit(tree, module)
    return out


def _function_lines():
    """:func:`_function_sizes` of every module of the package."""
    return {name: n for module, path in MODULES.items()
            for name, n in _function_sizes(module, path).items()}


def _too_long(sizes, limit, allowed):
    return sorted(f"{name}: {n} lines" for name, n in sizes.items()
                  if n > limit and name not in allowed)


def test_no_module_is_over_450_lines():
    long = _too_long(_module_lines(), MAX_MODULE_LINES, LONG_MODULES)
    assert not long, (f"modules over {MAX_MODULE_LINES} lines: split each along its "
                      f"responsibilities (as s2sad/support/, s2sad/emit/):\n" + "\n".join(long))


def test_no_function_is_over_60_lines():
    long = _too_long(_function_lines(), MAX_FUNCTION_LINES, LONG_FUNCTIONS)
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_the_size_allow_lists_are_current():
    """An entry of LONG_MODULES or LONG_FUNCTIONS names a module or function that exists and is
    still too long: one split is taken off the list, never left there to grow back."""
    modules, functions = _module_lines(), _function_lines()
    stale = [m for m in LONG_MODULES if modules.get(m, 0) <= MAX_MODULE_LINES] + \
        [f for f in LONG_FUNCTIONS if functions.get(f, 0) <= MAX_FUNCTION_LINES]
    assert not stale, "no longer too long (or gone): take off the allow-list: " + ", ".join(stale)


def test_the_size_checks_see_a_long_function(tmp_path):
    """The checks above are not vacuous: a method one line too long is found, by its
    qualified name, and an allowed one is not."""
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = tmp_path / "probe.py"
    source.write_text(f"class C:\n    def long(self):\n{body}\n\n    def short(self):\n"
                      f"        pass\n")
    sizes = _function_sizes("s2sad.probe", str(source))
    assert sizes == {"s2sad.probe.C.long": MAX_FUNCTION_LINES + 1, "s2sad.probe.C.short": 2}
    assert _too_long(sizes, MAX_FUNCTION_LINES, set()) == \
        [f"s2sad.probe.C.long: {MAX_FUNCTION_LINES + 1} lines"]
    assert _too_long(sizes, MAX_FUNCTION_LINES, {"s2sad.probe.C.long"}) == []


TESTS = os.path.dirname(os.path.abspath(__file__))


def _test_imports(source):
    """``(line, text)`` of each import of a test module (``test_*``) or of a private name
    of s2sad (``from s2sad.x import _name``) in ``source``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name.split(".")[-1].startswith("test_")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            bad = [module] if module.split(".")[-1].startswith("test_") else \
                [a.name for a in node.names if module.startswith("s2sad") and
                 a.name.startswith("_") and not a.name.startswith("__")]
        else:
            continue
        out += [(node.lineno, name) for name in bad]
    return out


def test_no_test_imports_another_test_or_a_private_name():
    """What tests share lives in helper modules (oracle, measure, tests/programs/), and they
    use s2sad's public names: a test is read on its own."""
    found = []
    for name in sorted(os.listdir(TESTS)):
        if name.endswith(".py"):
            with open(os.path.join(TESTS, name), encoding="utf-8") as handle:
                found += [f"tests/{name}:{line}: {what}"
                          for line, what in _test_imports(handle.read())]
    assert not found, "\n".join(found)


def test_the_test_import_check_sees_both():
    probe = "from test_specialise import peak_of\nimport test_cli\nfrom s2sad.api import _entry\n"
    assert [line for line, _ in _test_imports(probe)] == [1, 2, 3]
