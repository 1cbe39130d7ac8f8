"""Every rule's templates, instantiated, as text: a snapshot that pins the emitted code.

For each primitive (the registry, the operators, the run-time helpers' rules) and each
parameter, the VJP and JVP templates are rendered for a set of bound operands: the
defaults, and each parameter in turn bound to a variable or to the constants of
:data:`VALUES`. A callable rule is called for each; a rule that refuses a binding is
recorded with its exception. The stanza's other fields (``view``, ``result_dtype``, ...)
that differ from the defaults are recorded under ``"fields"``. ``tests/test_rule_stanzas.py``
compares the current rules with ``tests/fixtures/rule_templates.json``; after a deliberate
change to a rule, write the file again with ``python tests/rule_snapshot.py --write``.
"""

import json
import pathlib
import sys

import astor
import gast

from s2sad import rules
from s2sad.ir import Const, Var
from s2sad.rules.core import STANZA_FIELDS, ZERO, Bound, Primitive
from s2sad.rules.templates import as_template
from s2sad.rules.operators import LIST_OPS
from s2sad.rules.support_rules import HELPER_RULES

SNAPSHOT = pathlib.Path(__file__).parent / "fixtures" / "rule_templates.json"
VALUES = (None, 0, 1, 2, -1, True, False, "fro", (0, 1))
_DEFAULTS = {"differentiable": True, "linear": ()}  # (no class attribute)


def _primitives():
    seen = {}
    for prim in (rules.all_primitives() + list(HELPER_RULES.values()) + list(LIST_OPS.values())):
        seen.setdefault(prim.name, prim)
    return seen


def _bounds(prim):
    params = list(prim.params) or ["arg0", "arg1"]
    base = {p: Const(prim.defaults[p]) if p in prim.defaults else Var(p) for p in params}
    yield "base", Bound(base)
    for p in params:
        yield f"{p}=var", Bound(base, **{p: Var(p)})
        for value in VALUES:
            yield f"{p}={value!r}", Bound(base, **{p: Const(value)})


def _render(rule, bound):
    try:
        template = as_template(rule, bound)
        if template is None:
            return "ZERO" if rule is ZERO else "None"
        return astor.to_source(gast.gast_to_ast(template.tree)).strip()
    except Exception as exc:  # a refusal is part of the rule
        return f"raises {type(exc).__name__}: {exc}"


def snapshot():
    out = {}
    for name, prim in sorted(_primitives().items()):
        entry = {}
        for kind in ("vjp", "jvp"):
            table = getattr(prim, kind)
            for param in sorted(table):
                rendered = {}
                for label, bound in _bounds(prim):
                    rendered.setdefault(_render(table[param], bound), []).append(label)
                # one rendering for most bindings: keep it and the exceptions
                entry[f"{kind} {param}"] = {text: labels if len(rendered) > 1 else ["*"]
                                            for text, labels in sorted(rendered.items())}
        for param, (comparison, rule) in sorted(getattr(prim, "masks", {}).items()):
            rendered = {}
            for label, bound in _bounds(prim):  # (the VJP reading the forward sweep's mask)
                mask = comparison(bound) if callable(comparison) else comparison
                rendered.setdefault(f"{mask} -> {_render(rule, bound)}", []).append(label)
            entry[f"mask {param}"] = {
                text: labels if len(rendered) > 1 else ["*"]
                for text, labels in sorted(rendered.items())}
        joint = getattr(prim, "joint", None)
        for key, template in sorted((joint or ({}, {}))[0].items()):
            entry[f"joint {key}"] = {astor.to_source(gast.gast_to_ast(template.tree)).strip(): ["*"]}
        for param, rule in sorted((joint or ({}, {}))[1].items()):
            entry[f"joint vjp {param}"] = {_render(rule, Bound()): ["*"]}
        fields = {field: _plain(getattr(prim, field), prim) for field in sorted(STANZA_FIELDS)
                  if getattr(prim, field) != getattr(Primitive, field, _DEFAULTS.get(field))}
        if fields:
            entry["fields"] = fields
        out[name] = entry
    return out


def _plain(value, prim):
    """A field's value as JSON: a function of the bound operands (``view``) as what it
    returns for each binding of the snapshot."""
    if callable(value):
        out = {}
        for label, bound in _bounds(prim):
            try:
                result = repr(value(bound))
            except Exception as exc:  # noqa: BLE001 - recorded
                result = f"raises {type(exc).__name__}"
            out.setdefault(result, []).append(label)
        return out
    return list(value) if isinstance(value, tuple) else value


if __name__ == "__main__":
    current = snapshot()
    if "--write" in sys.argv:
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        print(f"wrote {SNAPSHOT}: {len(current)} primitives")
    else:
        print(json.dumps(current, indent=1, sort_keys=True)[:2000])
