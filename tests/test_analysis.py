"""The analyses the transforms rely on: shape classes, memory groups, free names."""

import gast
import numpy as np

import s2sad
from s2sad import analysis
from s2sad.analysis.indices import names_each_once, once_parts
from s2sad.ir import Index, Var, walk_blocks
from s2sad.lower import lower
from s2sad.memory import Memory
from s2sad.structural import WriteItem


def newton(a):
    y = 0.5 * (1.0 + a)
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


def growing(x, n):
    h = x
    for _ in range(n):
        h = np.concatenate([h, x])  # the carried value changes shape every trip
    return np.sum(h * h)


def branches(x, c):
    if c > 0:
        y = x * 2.0
    else:
        y = np.sin(x)
    return np.sum(y * x)


def views(x):
    y = x * 2.0
    t = y[1:]
    y[0] = 1.0
    z = np.exp(x)
    return np.sum(y) + np.sum(z)


def _classes(fn):
    ir = lower(fn)
    return ir, analysis.ShapeClasses(ir)


def test_a_carried_value_keeps_its_shape_when_each_trip_keeps_it():
    ir, shapes = _classes(newton)
    carried = next(s for s in ir.body if hasattr(s, "carried")).carried
    phi, init, out = carried[0]
    assert shapes.key(phi) == shapes.key(init) == shapes.key(out) == shapes.key(Var(ir.params[0].name))
    grad = s2sad.source(newton).split("def grad_newton")[1].split("def value_and_grad")[0]
    assert "unbroadcast" not in grad
    assert abs(s2sad.grad(newton)(2.0) - 0.5 / np.sqrt(2.0)) < 1e-12


def test_a_carried_value_that_changes_shape_is_not_claimed():
    ir, shapes = _classes(growing)
    phi, init, out = next(s for s in ir.body if hasattr(s, "carried")).carried[0]
    assert shapes.key(phi) is None or shapes.key(phi) != shapes.key(init)
    s2sad.check_grads(growing, (np.array([0.5, -1.0]), 3))


def test_a_merge_shares_the_class_its_sources_share():
    ir, shapes = _classes(branches)
    merge = next(s for s in ir.body if hasattr(s, "merges")).merges[0]
    assert shapes.key(merge[0]) == shapes.key(Var(ir.params[0].name))


def test_memory_groups_join_views_writes_and_keep_fresh_values_apart():
    ir = lower(views)
    memory = Memory(ir)
    written = next(s for s in ir.body if s.prim.name == "setitem")
    t = next(s for s in ir.body if s.prim.name == "getitem").target
    assert {t.name, written.args[0].name} <= memory.group(written.target.name)
    z = next(s for s in ir.body if s.prim.name == "np.exp").target
    assert z.name not in memory.group(written.target.name)


def test_free_names_are_read_before_they_are_assigned():
    code = gast.parse("a = b + 1\nfor i in range(n):\n    c = a * d\n    d = c\ne = c + f\n").body
    assert analysis.free_names(code) == ["b", "range", "n", "d", "f"]


def writes(x, idx, n):
    y = x * 1.0
    k = len(x) - 1
    for i in range(n):
        j = (i + 1) % k
        y[j] = x[i]                          # a counter: once
        y[[0, 2], 1:] = x[i]                 # distinct constants and a slice: once
        y[x[:, 0] > 0] = 2.0                 # a mask: once
        y[[0, 0]] = x[i]                     # twice
        y[[0, -3]] = x[i]                    # 0 and -3 may be one element
        y[idx] = x[i]                        # computed at run time: may repeat
        y[(x[:, 0] > 0) * 1] = x[i]          # integers made of a mask: may repeat
        y[[0, 0, 1], [1, 2, 1]] = 1.0        # distinct pairs: once
    return np.sum(y)


def test_an_index_names_each_element_once_only_when_that_is_sure():
    fn = lower(writes)
    parts = once_parts(fn)
    assert {"i", "j", "k"} <= parts
    indices = [s.index for s in walk_blocks(fn.body) if isinstance(s, WriteItem)]
    assert all(isinstance(index, Index) for index in indices)
    assert [names_each_once(index, parts) for index in indices] == [
        True, True, True, False, False, False, False, True]
