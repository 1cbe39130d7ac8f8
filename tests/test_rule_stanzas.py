"""The rule stanzas: derived templates equal the written ones they replaced.

Element-wise JVPs are derived from the VJP (the one slope), linear JVPs from the
primitive itself; :mod:`rule_snapshot` renders every rule for many bindings, and the
renderings must equal the snapshot taken when the rules were still written twice.
"""

import importlib.util
import json

import pytest

import oracle
import rule_snapshot
import s2sad
from s2sad import rules
from s2sad.ir import Const, Var
from s2sad.rules.support_rules import HELPER_RULES


def runpy_file(path):
    """The functions a source file defines, imported as a module (s2sad reads their source)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


@pytest.fixture(scope="module")
def current():
    return rule_snapshot.snapshot()


@pytest.fixture(scope="module")
def recorded():
    return json.loads(rule_snapshot.SNAPSHOT.read_text())


def test_every_primitive_is_in_the_snapshot(current, recorded):
    assert sorted(current) == sorted(recorded)


def test_every_template_renders_as_recorded(current, recorded):
    differ = [f"{name}: {key}: {recorded[name].get(key)} -> {value}"
              for name in recorded for key, value in current[name].items()
              if recorded[name].get(key) != value]
    differ += [f"{name}: {key} is gone" for name in recorded for key in recorded[name]
               if key not in current[name]]
    differ += [f"{name}: {key} is new" for name in recorded for key in current[name]
               if key not in recorded[name]]
    assert not differ, "\n".join(differ[:20])


def _names(field):
    prims = rules.all_primitives() + list(HELPER_RULES.values())
    return sorted({p.name for p in prims if getattr(p, field)})


def test_the_properties_once_in_side_tables_are_stanza_fields():
    """What memory, reverse, forward, analysis and lower once kept in tables of names."""
    assert _names("cheap") == ["add", "eq", "floordiv", "ge", "gt", "le", "lt", "mod", "mul",
                               "ne", "neg", "not", "sub"]
    assert _names("batch_safe") == ["mT", "matmul_bar_a_sum", "matmul_bar_b_sum",
                                    "np.linalg.det", "np.linalg.inv"]
    assert {"T", "mT", "copy", "stop_gradient", "np.reshape", "np.swapaxes",
            "np.split"} <= set(_names("view"))
    assert not {"np.sum", "np.concatenate", "add"} & set(_names("view"))
    assert rules.OPERATORS["getitem"].view == "basic"  # a view unless the index is fancy
    assert [p.name for p in rules.all_primitives() if p.view == "basic"] == ["getitem"]
    assert {"float", "len", "ndim", "size", "math.sin", "math.floor"} <= set(
        _names("scalar_result"))
    assert {m: p.name for m, p in rules.METHODS.items() if m in ("sum", "flatten", "conj",
                                                                 "argmax")} == {
        "sum": "np.sum", "flatten": "np.ravel", "conj": "np.conjugate", "argmax": "np.argmax"}


def test_the_dtype_memory_and_product_fields():
    """What analysis, memory, cost and the matmul deferral once kept in tables of names."""
    def of(field, value):
        return {p.name for p in rules.all_primitives() if getattr(p, field) == value}
    assert of("result_dtype", "keeps") == {"copy", "getitem", "T", "np.reshape", "np.ravel",
                                           "np.transpose", "np.copy"}
    assert {"lt", "ne", "not", "np.isnan", "np.logical_xor", "np.signbit"} <= of(
        "result_dtype", "bool")
    assert {"np.argsort", "np.argmax", "np.nonzero", "np.searchsorted", "np.indices"} <= of(
        "result_dtype", "int")
    assert of("result_dtype", "args") == {"np.arange"}
    assert {"np.zeros", "np.full_like", "np.array", "np.asarray", "np.eye"} <= of(
        "result_dtype", "given")
    assert not {"np.sign", "np.floor", "add", "np.sum"} & {
        p.name for p in rules.all_primitives() if p.result_dtype}
    assert {"lt", "list", "np.array", "np.arange", "np.argsort", "np.isnan"} <= of(
        "fancy_index", True)
    assert not {"np.argmax", "getitem", "np.signbit"} & of("fancy_index", True)
    assert of("container", True) == {"tuple", "list", "join"}
    assert {p.name: p.contraction for p in rules.all_primitives() if p.contraction} == {
        "matmul": "matmul", "np.matmul": "matmul", "np.linalg.matmul": "matmul",
        "np.dot": "dot", "np.inner": "sum", "np.vdot": "sum"}


def test_a_contraction_field_matches_its_adjoints():
    """``contraction="matmul"`` (or "dot") promises the deferral VJPs of that product."""
    for prim in rules.all_primitives():
        if prim.contraction in ("matmul", "dot"):
            a, b = prim.params[:2]
            kind = prim.contraction
            assert prim.vjp[a].text.replace(" ", "") == f"{kind}_bar_a(g,{a},{b})", prim
            assert prim.vjp[b].text.replace(" ", "") == f"{kind}_bar_b(g,{a},{b})", prim


def test_a_stanza_field_must_have_a_known_value():
    with pytest.raises(ValueError, match="result_dtype='float'"):
        rules.core.Primitive("f", ("x",), {}, ("call", "f"), result_dtype="float")


def test_a_method_means_its_function(tmp_path):
    import numpy as np
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    for method in ("sum", "mean", "max", "std", "flatten"):
        path = tmp_path / f"m_{method}.py"
        path.write_text(f"def f(x):\n    return (x.{method}() * x.ravel()).sum()\n")
        ns = runpy_file(path)
        expected = oracle.gradient(ns["f"], (x,), 0)
        np.testing.assert_allclose(s2sad.grad(ns["f"])(x), expected, rtol=1e-6, atol=1e-8)


def test_a_linear_rule_is_the_operation_on_the_tangent():
    prim = rules.lookup(__import__("numpy").swapaxes)
    bound = prim.bind([Var("a"), Const(0), Const(1)], {})
    assert prim.jvp_template("a", bound).text == "np.swapaxes(a_dot, axis1, axis2)"
    dot = rules.lookup(__import__("numpy").dot)
    bound = dot.bind([Var("a"), Var("b")], {})
    assert dot.jvp_template("b", bound).text == "np.dot(a, b_dot)"


def test_an_elementwise_rule_is_written_once():
    prim = rules.lookup(__import__("numpy").divide)
    bound = prim.bind([Var("x"), Var("y")], {})
    assert prim.vjp_template("y", bound).text == "unbroadcast(-g * ans / y, y)"
    assert prim.jvp_template("y", bound).text == "-y_dot * ans / y"
