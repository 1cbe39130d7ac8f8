"""Draw docs/explain_steps.png, the README's picture of the explain page of the lecture
function (examples/sqrt_exp.py:steps at x = 0.8), by headless Chromium.

The page is the one ``s2sad explain examples/sqrt_exp.py:steps --at x=0.8`` writes, with the
mouse put on line 28 (``b = np.exp(a)``) as a reader would: its source line, SSA
statement, graph node and trace rows are highlighted (its generated code too, further down). File
names are shown relative to the repository. Needs Graphviz (``dot``) and
Chromium (Debian packages ``graphviz`` and ``chromium``, as .ci/run installs them).

    PYTHONPATH=$PWD python docs/screenshot.py [--width 1100] [--height 1960] [-o FILE.png]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import s2sad  # noqa: E402
from sqrt_exp import steps  # noqa: E402

HOVER_LINE = 28  # b = np.exp(a)
# what a reader's mouse does: enter the SSA statement of the line (the page's own script
# then highlights every element of that line)
HOVER = ("<script>document.querySelector('#ssa [data-line=\"%d\"]')"
         ".dispatchEvent(new MouseEvent('mouseenter'));</script></body>")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=os.path.join(ROOT, "docs", "explain_steps.png"))
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1960)
    options = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or shutil.which("dot") is None:
        sys.exit("needs Chromium and Graphviz: apt-get install chromium graphviz")
    page = s2sad.explain(steps, 0.8).html.replace("</body>", HOVER % HOVER_LINE)
    page = page.replace(ROOT + os.sep, "")  # file names as the repository has them
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "page.html")
        with open(path, "w", encoding="utf-8") as out:
            out.write(page)
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                               "--hide-scrollbars", "--force-device-scale-factor=1",
                               f"--window-size={options.width},{options.height}",
                               f"--screenshot={os.path.abspath(options.output)}",
                               "file://" + path], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not os.path.exists(options.output):
        sys.exit(f"chromium failed:\n{done.stderr[-2000:]}")
    print(options.output)


if __name__ == "__main__":
    main()
