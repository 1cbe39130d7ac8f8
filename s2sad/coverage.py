"""How much of NumPy has derivative rules: ``s2sad rules --coverage``.

For each namespace (``np``, ``np.linalg``, ``np.fft``) the public callables are
the names ``dir`` lists without a leading underscore whose value is a function, a
ufunc or another callable that is not a class or a module (``np.float64`` and
``np.ndarray`` are types, not operations). Each is, by the rule tables:

- **with rules**: a primitive with derivative rules (``grad``, ``jvp`` work on it);
- **zero derivative**: a primitive whose derivative is zero by definition
  (``np.sign``, ``np.argmax``, comparisons, shape queries);
- **missing**: anything else; applied to a differentiated value it is a located
  ``NoDerivativeError`` naming it (never a silent zero).

Layer 2, beside the rule tables it reads.
"""

import types
from dataclasses import dataclass, field

import numpy as np

from .rules import lookup

NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft))


@dataclass
class Coverage:
    namespace: str
    with_rules: list = field(default_factory=list)
    zero: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    @property
    def total(self):
        return len(self.with_rules) + len(self.zero) + len(self.missing)


def _operations(module):
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        value = getattr(module, name, None)
        if callable(value) and not isinstance(value, (type, types.ModuleType)):
            yield name, value


def coverage(namespaces=NAMESPACES):
    """One :class:`Coverage` per ``(name, module)`` of ``namespaces``."""
    reports = []
    for label, module in namespaces:
        report = Coverage(label)
        for name, value in _operations(module):
            prim = lookup(value)
            if prim is None:
                report.missing.append(name)
            elif not prim.differentiable:
                report.zero.append(name)
            elif prim.vjp:
                report.with_rules.append(name)
            else:
                report.missing.append(name)
        reports.append(report)
    return reports


def render(reports, names=True):
    """A Markdown table of ``reports``, then (with ``names``) each namespace's missing names."""
    lines = ["| namespace | public callables | with rules | zero derivative | missing |",
             "|---|---:|---:|---:|---:|"]
    for r in reports:
        lines.append(f"| {r.namespace} | {r.total} | {len(r.with_rules)} | {len(r.zero)} | "
                     f"{len(r.missing)} |")
    if names:
        for r in reports:
            lines += ["", f"missing in {r.namespace} ({len(r.missing)}): " +
                      (", ".join(r.missing) or "none")]
    return "\n".join(lines) + "\n"
