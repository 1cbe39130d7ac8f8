"""Transform time: how long s2sad takes to write the derivative code of a function.

Generates functions of 10 and 100 lines, of two densities (about 3 primitives
per line, and about 8), and prints the median over fresh transforms of the
reverse-mode module (grad, value_and_grad and vjp, as the CLI writes it), of the
forward-mode module, and of a first ``s2sad.grad(f)(x)`` call (parse, transform
of grad_f alone, compile, run), with the size of the code
written. Beside the reverse module's and the first call's wall time, their CPU time
(``time.process_time``), less disturbed by other processes on a shared machine. Issue 13's targets: a first call of a 10-line function in <= 10 ms, the module of a
100-line function of about 8 primitives per line in <= 200 ms (issue 6's: <= 20 ms for 10
lines, <= 200 ms for 100 lines).

    python benchmarks/transform.py
"""

import importlib.util
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import s2sad  # noqa: E402
from s2sad import module as s2sad_module  # noqa: E402
from s2sad.module import forward_module, reverse_module  # noqa: E402

DENSITIES = {
    "~3 primitives/line": ["a = np.sin(x) * y", "b = a + x * 2.0", "c = np.exp(-b) / (1.0 + y)",
                           "x = c * a - b"],
    "~8 primitives/line": ["x = np.sin(x) * y + np.exp(-x * 2.0) / (1.0 + y * y)"],
}


# issue 13's targets: (lines, statements per line) -> (what, milliseconds)
TARGETS = {(10, 4): ("first call", 10), (10, 1): ("first call", 10),
           (100, 1): ("reverse module", 200)}


def target_mark(target, measured):
    """The target cell: what is measured, its bound in ms and ✓/✗ (— without a target)."""
    if target is None:
        return "—"
    what, bound = target
    return f"{what} ≤ {bound} ms {'✓' if measured[what] <= bound else '✗'}"


def first_grad_call_ms(lines, statements, directory, label, repeats=7):
    """Median wall and CPU (``time.process_time``: less disturbed by other processes on a
    shared machine) milliseconds of a first call; a fresh function each time (transforms
    are cached per function object)."""
    wall, cpu = [], []
    for k in range(repeats):
        f = make_function(lines, statements, directory, f"{label}_{k}")
        start, start_cpu = time.perf_counter(), time.process_time()
        with np.errstate(all="ignore"):  # (100 lines of exp overflow: the values do not matter)
            s2sad.grad(f, wrt=(0, 1))(np.full(3, 0.1), np.full(3, 0.2))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def make_function(lines, statements, directory, label):
    body = [f"    {statements[i % len(statements)]}" for i in range(lines - 2)]
    text = "\n".join(["import numpy as np", "", "", "def f(x, y):"] + body +
                     ["    return np.sum(x * y)", ""])
    path = os.path.join(directory, f"{label}.py")
    with open(path, "w") as out:
        out.write(text)
    spec = importlib.util.spec_from_file_location(label, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def median_ms(make, repeats=7):
    """Median wall and CPU milliseconds of ``make()`` (each transform from the source,
    lowering included), and its result."""
    wall, cpu = [], []
    for _ in range(repeats):
        s2sad_module._LOWERED.clear()  # each transform from the source, lowering included
        start, start_cpu = time.perf_counter(), time.process_time()
        result = make()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3, result


def main():
    print("| function | reverse module | its CPU time | forward module | first s2sad.grad call | "
          "its CPU time | target | lines written (reverse) |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for density, statements in DENSITIES.items():
            for lines in (10, 100):
                label = f"f{lines}_{len(statements)}"
                f = make_function(lines, statements, directory, label)
                reverse, reverse_cpu, generated = median_ms(lambda: reverse_module(f, (0, 1)))
                forward, _, _ = median_ms(lambda: forward_module(f, (0, 1)))
                written = len(generated.source.splitlines())
                first, cpu = first_grad_call_ms(lines, statements, directory, label)
                mark = target_mark(TARGETS.get((lines, len(statements))),
                                   {"first call": first, "reverse module": reverse})
                print(f"| {lines} lines, {density} | {reverse:.1f} ms | {reverse_cpu:.1f} ms | "
                      f"{forward:.1f} ms | {first:.1f} ms | {cpu:.1f} ms | {mark} | {written} |")


if __name__ == "__main__":
    main()
