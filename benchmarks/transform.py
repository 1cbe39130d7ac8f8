"""Transform time: how long s2sad takes to write the derivative code of a function.

Generates functions of 10 and 100 lines, of two densities (about 3 primitives
per line, and about 8), and prints the median over fresh transforms of the
reverse-mode module (grad, value_and_grad and vjp) and of the forward-mode
module, with the size of the code written. Issue 6's targets: <= 20 ms for
10 lines, <= 200 ms for 100 lines.

    python benchmarks/transform.py
"""

import importlib.util
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from s2sad.forward import forward_module  # noqa: E402
from s2sad.module import reverse_module  # noqa: E402

DENSITIES = {
    "~3 primitives/line": ["a = np.sin(x) * y", "b = a + x * 2.0", "c = np.exp(-b) / (1.0 + y)",
                           "x = c * a - b"],
    "~8 primitives/line": ["x = np.sin(x) * y + np.exp(-x * 2.0) / (1.0 + y * y)"],
}


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
        start = time.perf_counter()
        result = make()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, result


def main():
    print("| function | reverse module | forward module | lines written (reverse) |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as directory:
        for density, statements in DENSITIES.items():
            for lines in (10, 100):
                label = f"f{lines}_{len(statements)}"
                f = make_function(lines, statements, directory, label)
                reverse, generated = median_ms(lambda: reverse_module(f, (0, 1)))
                forward, _ = median_ms(lambda: forward_module(f, (0, 1)))
                written = len(generated.source.splitlines())
                print(f"| {lines} lines, {density} | {reverse:.1f} ms | {forward:.1f} ms | "
                      f"{written} |")


if __name__ == "__main__":
    main()
