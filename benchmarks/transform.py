"""Transform time: how long s2sad takes to write the derivative code of a function.

Generates functions of 10 and 100 lines, of two densities (about 3 primitives
per line, and about 8), and prints the median over fresh transforms of the
reverse-mode module (grad, value_and_grad and vjp, as the CLI writes it), of the
forward-mode module, and of a first ``s2sad.grad(f)(x)`` call (parse, transform
of grad and value_and_grad only, compile, run), with the size of the code
written. Issue 6's targets: <= 20 ms for 10 lines, <= 200 ms for 100 lines.

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


def first_grad_call_ms(lines, statements, directory, label, repeats=7):
    """A fresh function each time (transforms are cached per function object)."""
    times = []
    for k in range(repeats):
        f = make_function(lines, statements, directory, f"{label}_{k}")
        start = time.perf_counter()
        s2sad.grad(f, wrt=(0, 1))(np.full(3, 0.1), np.full(3, 0.2))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


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
    times = []
    for _ in range(repeats):
        s2sad_module._LOWERED.clear()  # each transform from the source, lowering included
        start = time.perf_counter()
        result = make()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, result


def main():
    print("| function | reverse module | forward module | first s2sad.grad call | "
          "lines written (reverse) |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for density, statements in DENSITIES.items():
            for lines in (10, 100):
                label = f"f{lines}_{len(statements)}"
                f = make_function(lines, statements, directory, label)
                reverse, generated = median_ms(lambda: reverse_module(f, (0, 1)))
                forward, _ = median_ms(lambda: forward_module(f, (0, 1)))
                written = len(generated.source.splitlines())
                first = first_grad_call_ms(lines, statements, directory, label)
                print(f"| {lines} lines, {density} | {reverse:.1f} ms | {forward:.1f} ms | "
                      f"{first:.1f} ms | {written} |")


if __name__ == "__main__":
    main()
