"""The ``s2sad`` command line (also ``python -m s2sad``).

::

    s2sad grad FILE.py:FUNC [--wrt a,b] [-o DIR] [--plain]   write DIR/<module>_<func>_grad.py
               [--checkpoint sqrt|N|binomial[:S]]        (the function's loops checkpointed)
    s2sad vjp  FILE.py:FUNC [--wrt a,b] [-o DIR] [--plain]   write DIR/<module>_<func>_vjp.py
    s2sad jvp  FILE.py:FUNC [--wrt a,b] [-o DIR] [--plain]   write DIR/<module>_<func>_jvp.py
    s2sad ssa  FILE.py:FUNC                                  print the SSA listing
    s2sad rules [--coverage]                                 list the primitives with rules
    s2sad trace FILE.py:FUNC --at x=2,y=3 [--mode reverse|forward] [--format text|md|html]
                                                             print the evaluation trace at a point
    s2sad graph FILE.py:FUNC [-o out.svg|png|dot] [--at x=2] [--adjoints]
                                                             draw the computational graph
    s2sad cost FILE.py:FUNC (--at x=2 | --shapes x=100,W=100x10) [--measure] [--format ...]
                                                             print the predicted cost
    s2sad explain FILE.py:FUNC --at x=2,y=3 -o page.html
                                                             write one HTML page explaining it

Errors print one paragraph on stderr (file:line:col, the line, a caret, what
to do) and exit with status 1; nothing is written. Files are written
atomically (a temporary file renamed into place), so a module on disk is
always complete.

A file inside a package (a directory with ``__init__.py``) is imported as a
member of its package, so its relative imports work. ``s2sad grad`` of a
function that returns an array whatever its arguments (known from ranks alone,
:mod:`s2sad.ranks`) is an error pointing to ``s2sad vjp``; where the output's rank
depends on the arguments, shapes are known only when the function runs: the module
is written, and its ``grad_<func>`` raises ``ValueError`` (naming ``vjp_<func>``)
when called on such inputs, as :func:`s2sad.grad` raises
:class:`~s2sad.errors.NonScalarOutputError`.

Layer 10, the top: imports the API and the module builders.
"""

import argparse
import functools
import os
import sys

from . import __version__
from .api import normalize_wrt, ssa
from .arguments import DEFAULT_WRT, default_wrt, parameters, split_values
from .errors import (InternalError, NonScalarOutputError, S2sadError, UnsupportedSyntaxError,
                     UsageError, kinds_refusal)
from .lower import lower
from .ranks import output_is_array
from .checkpoint import check_how
from .module import forward_module, reverse_module
from .points import parse_at, parse_shapes, parse_value
from .cost import cost
from .coverage import coverage, render as render_coverage
from .explain import explain
from .graph import graph
from .rules import all_primitives
from .targets import load_target, write_atomically
from .trace import trace


def _wrt(fn, bound, text):
    """The positions ``--wrt`` names, or the API's default (:func:`s2sad.arguments.default_wrt`)."""
    if text is None:
        return default_wrt(fn, bound)
    names = [n.strip() for n in text.split(",") if n.strip()]
    items = tuple(int(n) if n.lstrip("-").isdigit() else n for n in names)
    return normalize_wrt(fn, items)[0]


def _write(args, build, kind, api_name, check=None):
    """Generate ``kind`` code for the target and write DIR/<module>_<func>_<kind>.py
    (``check(fn, target)`` first, if given: it raises to refuse)."""
    fn, module_name, bound = load_target(args.target, with_bound=True)
    numbers = frozenset(n.strip() for n in (args.numbers or "").split(",") if n.strip())
    if numbers - set(parameters(fn)):
        raise UsageError(f"--numbers: {fn.__name__} has no parameter "
                         f"{', '.join(sorted(numbers - set(parameters(fn))))}")
    try:
        if check is not None:
            check(fn, args.target, numbers)
        generated = build(fn, _wrt(fn, bound, args.wrt), plain=args.plain, numbers=numbers)
    except UnsupportedSyntaxError as exc:  # x += e on a parameter: fine where it holds numbers
        if not getattr(exc, "arguments", None):
            raise
        raise kinds_refusal(exc, f"s2sad {args.command} {args.target} --numbers {{names}} "
                                 f"writes the module for calls passing numbers there") from None
    if generated.bindings:
        names = ", ".join(sorted(generated.bindings))
        raise UsageError(f"{fn.__name__} reads {names}, which a module importing only NumPy "
                         f"cannot define", hint=f"Pass such values as arguments, or use the "
                                                f"Python API ({api_name}), which can bind them.")
    path = os.path.join(args.output, f"{module_name}_{generated.function_name}_{kind}.py")
    write_atomically(path, generated.source)
    print(path)


def command_grad(args):
    build = functools.partial(reverse_module, checkpoint=_checkpoint(args))
    _write(args, build, "grad", "s2sad.grad", check=_scalar_output)


def command_vjp(args):
    build = functools.partial(reverse_module, checkpoint=_checkpoint(args), with_grad=False,
                              with_value=True)
    _write(args, build, "vjp", "s2sad.vjp")


def _checkpoint(args):
    """``--checkpoint sqrt``, ``N`` or ``binomial[:S]`` as :func:`check_how` takes it."""
    how = args.checkpoint or ""
    count = how.split(":", 1)[1] if how.startswith("binomial:") else None
    how = int(how) if how.isdigit() else ("binomial", int(count)) if count and count.isdigit() \
        else how or None
    return check_how(how)


def _scalar_output(fn, target, numbers=frozenset()):
    """Refuse ``grad`` of a function that returns an array whatever its arguments."""
    ir = lower(fn, numbers=numbers)
    if output_is_array(ir):
        file, func = target.rsplit(":", 1)
        raise NonScalarOutputError(
            f"grad needs {fn.__name__} to return a scalar, but it returns an array whatever "
            f"its arguments", getattr(ir.body[-1], "loc", None),
            f"Write its vector-Jacobian product instead: s2sad vjp {file}:{func} (vjp_"
            f"{fn.__name__} takes out_bar after the arguments), or its Jacobian in Python "
            f"(s2sad.jacobian); or reduce the output to a scalar (e.g. np.sum).")


def command_jvp(args):
    _write(args, forward_module, "jvp", "s2sad.jvp")


def command_ssa(args):
    fn, _ = load_target(args.target)
    sys.stdout.write(ssa(fn))


def _wrt_names(text):
    """What ``--wrt`` names, for the tools at a point; without it, the API's default."""
    if text is None:
        return DEFAULT_WRT
    names = tuple(int(n) if n.lstrip("-").isdigit() else n
                  for n in (n.strip() for n in text.split(",")) if n)
    return names[0] if len(names) == 1 else names  # one name: one result, as in the API


def command_trace(args):
    fn, _ = load_target(args.target)
    values, keywords = split_values(fn, parse_at(fn, args.at))  # (keyword-only ones by name)
    out_bar = None if args.out_bar is None else parse_value("--out-bar", args.out_bar)
    result = trace(fn, *values, wrt=_wrt_names(args.wrt), mode=args.mode, out_bar=out_bar,
                   **keywords)
    sys.stdout.write(result.render(args.format, None if args.trips <= 0 else args.trips))


def command_graph(args):
    fn, _ = load_target(args.target)
    values, keywords = split_values(fn, parse_at(fn, args.at) if args.at else [])
    drawn = graph(fn, *values, wrt=_wrt_names(args.wrt), adjoints=args.adjoints, **keywords)
    if args.output is None:
        sys.stdout.write(drawn.dot)
    else:
        print(drawn.save(args.output))


def command_cost(args):
    fn, _ = load_target(args.target)
    if (args.at is None) == (args.shapes is None):
        raise UsageError("cost needs the point (--at x=2,y=3) or the shapes "
                         "(--shapes x=100,W=100x10), one of them")
    values, keywords = split_values(fn, parse_at(fn, args.at) if args.at is not None else
                                    parse_shapes(fn, args.shapes))
    report = cost(fn, *values, wrt=_wrt_names(args.wrt), measure=args.measure, **keywords)
    sys.stdout.write(report.render(args.format))


def command_explain(args):
    fn, _ = load_target(args.target)
    values, keywords = split_values(fn, parse_at(fn, args.at))
    page = explain(fn, *values, wrt=_wrt_names(args.wrt), **keywords)
    print(page.save(args.output))


def command_rules(args):
    if args.coverage:
        sys.stdout.write(render_coverage(coverage()))
        return
    for prim in sorted(all_primitives(), key=lambda p: p.name):
        if prim.differentiable and not prim.vjp:
            continue
        kind = "differentiable" if prim.differentiable else "zero derivative"
        print(f"{prim.name:<24} {kind}")


_WRT_HELP = ("parameters to differentiate with respect to, by name or position, "
             "comma-separated (default: the first parameter, after a method's self, as "
             "s2sad.grad's wrt=0; --wrt x,W for several)")
_NUMBERS_HELP = ("parameters the module's callers pass Python numbers (x += e on them is "
                 "rebinding; NumPy would update an array in place), comma-separated")


def parser():
    main = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic "
                                   "differentiation for Python/NumPy.")
    main.add_argument("--version", action="version", version=f"s2sad {__version__}")
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _writing_commands(sub)
    _seeing_commands(sub)
    return main


def _writing_commands(sub):
    """The commands that write a derivative module or list what s2sad knows: grad, vjp, jvp,
    ssa, rules."""
    grad = sub.add_parser("grad", help="write the reverse-mode module of a function",
                          description="Write DIR/<module>_<func>_grad.py defining grad_<func>, "
                                      "value_and_grad_<func> and vjp_<func>, and print its path. "
                                      "A function that returns an array whatever its arguments "
                                      "(np.stack([x, 2 * x])) is refused: use s2sad vjp. Where "
                                      "the output's rank depends on the arguments, grad_<func> "
                                      "raises ValueError if <func> returns an array.")
    _reverse_arguments(grad)
    grad.set_defaults(run=command_grad)
    pullback = sub.add_parser("vjp", help="write the vector-Jacobian product of a function",
                              description="Write DIR/<module>_<func>_vjp.py defining "
                                          "vjp_<func>(*args, out_bar), for any output, and "
                                          "value_and_vjp_<func> (the value too), and print "
                                          "its path.")
    _reverse_arguments(pullback)
    pullback.set_defaults(run=command_vjp)
    tangent = sub.add_parser("jvp", help="write the forward-mode module of a function",
                             description="Write DIR/<module>_<func>_jvp.py defining jvp_<func> "
                                         "(tangent code: returns the value and its tangent), "
                                         "and print its path.")
    tangent.add_argument("target", metavar="FILE.py:FUNC")
    tangent.add_argument("--wrt", help=_WRT_HELP)
    tangent.add_argument("--numbers", metavar="x,n", help=_NUMBERS_HELP)
    tangent.add_argument("-o", "--output", default="generated", metavar="DIR",
                         help="directory to write into (default: generated)")
    tangent.add_argument("--plain", action="store_true",
                         help="write short reference versions of the run-time helpers")
    tangent.set_defaults(run=command_jvp)
    listing = sub.add_parser("ssa", help="print the SSA listing of a function",
                             description="Print the function in three-address SSA form.")
    listing.add_argument("target", metavar="FILE.py:FUNC")
    listing.set_defaults(run=command_ssa)
    rules = sub.add_parser("rules", help="list the primitives s2sad can differentiate",
                           description="List every primitive with a derivative rule, and those "
                                       "whose derivative is zero.")
    rules.add_argument("--coverage", action="store_true",
                       help="per NumPy namespace (np, np.linalg, np.fft): how many public "
                            "callables have rules, which have a zero derivative, and which are "
                            "missing (named)")
    rules.set_defaults(run=command_rules)


def _seeing_commands(sub):
    """The commands that show a derivative (README, "Seeing a derivative"): trace, graph, cost,
    explain."""
    tracing = sub.add_parser("trace", help="print the evaluation trace of a function at a point",
                             description="Run the function's derivative code at the point --at "
                                         "and print one row per SSA statement executed: its "
                                         "value and its adjoint (reverse mode, backward sweep "
                                         "order) or tangent (forward mode).")
    tracing.add_argument("target", metavar="FILE.py:FUNC")
    _point_arguments(tracing)
    tracing.add_argument("--mode", choices=("reverse", "forward"), default="reverse")
    tracing.add_argument("--out-bar", metavar="VALUE",
                         help="the output's adjoint, for a function returning an array "
                              "(a list such as [1,0,0], or @FILE.npy)")
    tracing.add_argument("--format", choices=("text", "md", "html"), default="text")
    tracing.add_argument("--trips", type=int, default=3, metavar="N",
                         help="show N trips of each loop, collapse the rest (0: show all)")
    tracing.set_defaults(run=command_trace)
    drawing = sub.add_parser("graph", help="draw the computational graph of a function",
                             description="Draw the SSA form as a DAG: inputs, primitives, the "
                                         "output; loops and branches as clusters. DOT text needs "
                                         "nothing; SVG and PNG need the Graphviz program dot "
                                         "(Debian package graphviz).")
    drawing.add_argument("target", metavar="FILE.py:FUNC")
    drawing.add_argument("-o", "--output", metavar="FILE",
                         help="write FILE.svg, FILE.png or FILE.dot (default: DOT on stdout)")
    _point_arguments(drawing, required=False)
    drawing.add_argument("--adjoints", action="store_true",
                         help="draw the adjoint flow as a second, reversed set of edges")
    drawing.set_defaults(run=command_graph)
    costing = sub.add_parser("cost", help="print the predicted cost of a function and its "
                                          "derivatives",
                             description="Count operations and bytes per SSA statement: of the "
                                         "function, of reverse mode's forward and backward "
                                         "sweeps (and the tape), of forward mode; the full "
                                         "Jacobian's cost in each mode and the mode "
                                         "jacobian(mode='auto') picks.")
    costing.add_argument("target", metavar="FILE.py:FUNC")
    _point_arguments(costing, required=False)
    costing.add_argument("--shapes", metavar="x=100,W=100x10",
                         help="shapes instead of a point (x=() for a number); a parameter "
                              "passed to range takes its count")
    costing.add_argument("--format", choices=("text", "md", "html"), default="text")
    costing.add_argument("--measure", action="store_true",
                         help="also time f and its gradient on this machine")
    costing.set_defaults(run=command_cost)
    page = sub.add_parser("explain", help="write one HTML page explaining a function's "
                                          "derivative",
                          description="Write one self-contained HTML page: the source, the SSA "
                                      "form, the graph, the forward and reverse traces, the "
                                      "generated gradient code and the cost report; hovering "
                                      "a line highlights what it became.")
    page.add_argument("target", metavar="FILE.py:FUNC")
    _point_arguments(page)
    page.add_argument("-o", "--output", default="explain.html", metavar="PAGE.html",
                      help="the page to write (default: explain.html)")
    page.set_defaults(run=command_explain)


def _reverse_arguments(sub):
    sub.add_argument("target", metavar="FILE.py:FUNC", help="FUNC may be Class.method or a "
                     "lambda's name; a method's module takes self first")
    sub.add_argument("--wrt", help=_WRT_HELP)
    sub.add_argument("--numbers", metavar="x,n", help=_NUMBERS_HELP)
    sub.add_argument("-o", "--output", default="generated", metavar="DIR",
                     help="directory to write into (default: generated)")
    sub.add_argument("--plain", action="store_true",
                     help="write short reference versions of the run-time helpers, without "
                          "their fast paths (for reading and teaching)")
    sub.add_argument("--checkpoint", metavar="sqrt|N|binomial[:S]",
                     help="checkpoint the function's for loops: store sqrt(T) snapshots of "
                          "the carried values (or N) instead of a tape of T trips, and "
                          "recompute each segment in the backward sweep; binomial: Revolve's "
                          "schedule with S snapshots (default: about sqrt(2T)), which tapes "
                          "one trip at a time")


def _point_arguments(sub, required=True):
    sub.add_argument("--at", required=required, metavar="x=2,y=3",
                     help="the point: numbers, lists such as v=[1,2,3], or W=@weights.npy"
                          + ("" if required else " (edges then show values and adjoints)"))
    sub.add_argument("--wrt", help=_WRT_HELP)


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except S2sadError as exc:
        print(f"s2sad: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `s2sad rules | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (the exit's flush)
        return 0
    except Exception as exc:  # not the user's doing (their module's import is handled above)
        error = InternalError(f"s2sad failed on {getattr(args, 'target', args.command)}: "
                              f"{type(exc).__name__}: {exc}")
        print(f"s2sad: internal error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
