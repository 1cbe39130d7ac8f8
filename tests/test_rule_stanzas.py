"""The rule stanzas: derived templates equal the written ones they replaced.

Element-wise JVPs are derived from the VJP (the one slope), linear JVPs from the
primitive itself; :mod:`rule_snapshot` renders every rule for many bindings, and the
renderings must equal the snapshot taken when the rules were still written twice.
"""

import json

import pytest

import rule_snapshot


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
