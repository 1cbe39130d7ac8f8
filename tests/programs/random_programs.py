"""Random programs against s2sad: oracle, classifier, shrinker and a command-line runner.

Program ``k`` is ``generator.generate(k)``. :func:`check` differentiates its ``f``
with respect to ``x, y, z, s`` with ``s2sad.value_and_grad``/``s2sad.grad``
(reverse), ``s2sad.jvp`` (forward) and ``s2sad.hvp`` (forward over reverse), and
compares with finite differences of ``f`` itself:

- first order: ``grad . u``, ``grad . v`` and the jvp along ``v`` against central
  differences of ``t -> f(x + t v)`` at steps h and h/2, Richardson-extrapolated;
- second order: ``u . (H v)`` against the mixed central difference of
  ``f(x + a u + b v)`` at steps h and h/2

(:func:`tests.oracle.derivative`, :func:`tests.oracle.mixed`, :func:`tests.oracle.two_steps`).

The two step sizes must agree (up to what the truncation error explains); if they
do not, a branch decision, a kink (abs, max, clip, sort, a mask) or a jump lies
within a step of the point: the point is drawn again (up to :data:`REDRAWS` times,
then the program is ``skipped``). Nothing is judged at a non-smooth point.

Each program is classified:

- ``ok``: every mode ran and agreed (and value_and_grad's value is f's value, and no
  derivative function changed its arguments);
- ``wrong``: a result disagrees with the oracle (or is not finite, or has the wrong
  shape, or value_and_grad's value differs from f, or an argument was modified);
- ``crash``: an exception escaped that is not an ``s2sad.errors.S2sadError``
  (TypeError, NameError, IndentationError from generated code, ...), or the
  program timed out;
- ``unlocated``: an ``S2sadError`` without ``.loc`` (refusals must be located);
- ``refused``: a located ``S2sadError``, grouped by its message's first line with
  names and numbers normalised;
- ``skipped``: no smooth point found.

The worst outcome over the modes classifies the program (crash > unlocated > wrong >
refused > ok). :func:`shrink` reduces a failing program (deleting statements and
helpers, replacing compound statements by their bodies, loops by fewer trips,
expressions by their operands) while it still fails the same way.

With ``duck=True`` (``--duck``) the derivative functions get their array arguments
and tangents wrapped in the strict duck array of :mod:`tests.duck` (the oracle still
runs on ndarrays): their array results must be Duck arrays, equal to the oracle's as
above. A program whose ``f`` itself converts a Duck array to NumPy is ``skipped``.
With ``checkpoint="sqrt"`` (a number, "binomial" or "binomial:S"; ``--checkpoint``) the reverse-mode and hvp
derivatives checkpoint the program's loops (``s2sad.grad(f, checkpoint=...)``).

Command line::

    python -m tests.programs.random_programs --count 2000 --start 0 --jobs 2 --shrink --json out.json
"""

import argparse
import ast
import collections
import copy
import importlib.util
import itertools
import json
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

import s2sad
from s2sad.errors import InternalError, S2sadError

from tests import duck as ducks
from tests import oracle
from tests.programs import mechanisms
from tests.programs.generator import INPUTS, N_VALUE, WRT, draw_args, generate
from tests.programs.verdicts import (Wrong, agree, check_shapes, copies, dot, form_of, same_value,
                                     unchanged)

MODES = ("grad", "jvp", "hvp")
ALL_MODES = MODES + tuple(mechanisms.CHECKS)  # --modes all


def rotation(seed):
    """The checks program ``seed`` gets by default (``--modes rotate``, and the pytest run):
    grad and jvp always; one of hvp, reverse over reverse and jvp of the gradient on three
    seeds in four; the full Hessian every 20th; one of other memory layouts, float32 and 0-d
    arrays for s on each (:mod:`tests.programs.mechanisms`)."""
    modes = ["grad", "jvp", ("hvp", "rr", "vjvp", None)[seed % 4],
             ("layouts", "float32", "numbers")[seed % 3]]
    if seed % 20 == 7:
        modes.append("hessian")
    return tuple(m for m in modes if m)
REDRAWS = 6
H1 = 1e-3  # first-order step (and h/2)
H2 = 2e-3  # second-order step (and h/2)
SEVERITY = {"crash": 5, "unlocated": 4, "wrong": 3, "refused": 2, "skipped": 1, "ok": 0, "invalid": 6}


class ProgramTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise ProgramTimeout("timed out")


# --- loading --------------------------------------------------------------------------

_counter = itertools.count()
_tmpdir = None


def load(source):
    """Write ``source`` to a fresh module file and import it (s2sad reads source via inspect)."""
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.mkdtemp(prefix="s2sad_programs_")
    name = f"s2sad_random_{os.getpid()}_{next(_counter)}"
    path = Path(_tmpdir) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def unload(module):
    sys.modules.pop(module.__name__, None)
    try:
        os.unlink(module.__file__)
    except OSError:
        pass


# --- the oracle ---------------------------------------------------------------------------


def smooth(est, spread, scale):
    """Do the two step sizes agree? (a discontinuity or kink within a step makes them differ)"""
    return spread <= 1e-3 * max(1.0, abs(est), scale)


def directions(rng):
    return tuple(rng.standard_normal(INPUTS[n]) if INPUTS[n] else float(rng.standard_normal())
                 for n in INPUTS)


def find_point(f, rng, second_order=True):
    """A point where f is smooth along the test directions, with the oracle's values there."""
    for _ in range(REDRAWS):
        args = draw_args(rng)
        u, v = directions(rng), directions(rng)
        with np.errstate(all="ignore"):
            value = f(*copies(args))
            if np.ndim(value) != 0 or isinstance(value, (tuple, list)):
                raise ValueError(f"f returned {type(value).__name__} of shape {np.shape(value)}, not a scalar")
            if not np.isfinite(value):
                continue
            estimates = {}
            ok = True
            differences = {  # each a second-order-accurate difference at a step h
                "u": (lambda h: oracle.derivative(f, args, WRT, u, h), H1),
                "v": (lambda h: oracle.derivative(f, args, WRT, v, h), H1),
                "uv": (lambda h: oracle.mixed(f, args, WRT, u, v, h), H2)}
            for key, (difference, h) in differences.items():
                if key == "uv" and not second_order:
                    continue
                est, spread = oracle.two_steps(difference, h)  # steps h and h/2, extrapolated
                if not np.isfinite(est) or not smooth(est, spread, abs(value)):
                    ok = False
                    break
                estimates[key] = (est, spread)
        if ok:
            return args, u, v, value, estimates
    return None


def native(results, what, duck):
    """``results`` as NumPy values: with ``duck``, each array result must be a Duck array."""
    if not duck:
        return results
    for name, r in zip(INPUTS, results if isinstance(results, tuple) else ()):
        if INPUTS[name] and not isinstance(r, ducks.Duck):
            raise Wrong(f"{what}: not a Duck array", f"{what}: d/d{name} is a {type(r).__name__} "
                        f"for Duck array arguments")
    return ducks.unwrap(results)


def run_mode(mode, form, args, u, v, value, estimates, duck=False, checkpoint=None):
    """Check one mode of ``form.f`` (a :class:`Flat` or :class:`Params`); raises Wrong,
    S2sadError or anything the generated code raised.

    With ``duck``, the arguments and tangents are Duck arrays (see :func:`native`)."""
    f, wrt = form.f, form.wrt
    call_args = copies(args)
    wrap = ducks.duck if duck else (lambda a: a)
    if duck:
        call_args, v = [wrap(a) for a in call_args], tuple(ducks.unwrap(t) for t in v)
    if mode == "grad":
        val, g = s2sad.value_and_grad(f, wrt=wrt, checkpoint=checkpoint)(*form.pack(call_args))
        val, g = ducks.unwrap(val), native(form.unpack(g, "value_and_grad"), "value_and_grad",
                                           duck)
        unchanged(ducks.unwrap(call_args), args, "value_and_grad")
        same_value(val, value, "value_and_grad's value")
        check_shapes(g, "value_and_grad")
        agree(dot(g, v), estimates["v"], "grad . v", value)
        agree(dot(g, u), estimates["u"], "grad . u", value)
        grad = s2sad.grad(f, wrt=wrt, checkpoint=checkpoint)
        # a signature's first call runs the generic code, the second the code specialised
        # for its arguments' kinds (in-place temporaries, freed names), the third its fast path
        for call in ("grad", "grad's second call (specialised)", "grad's third call"):
            given = [wrap(a) for a in copies(args)]
            g2 = grad(*form.pack(given))
            unchanged(ducks.unwrap(given), args, call)
            g2 = native(form.unpack(g2, "grad"), "grad", duck)
            check_shapes(g2, "grad")
            if not all(np.allclose(p, q, rtol=1e-9, atol=1e-12) for p, q in zip(g, g2)):
                raise Wrong(f"{call} differs from value_and_grad",
                            f"{call} differs from value_and_grad's gradient")
        val2, g3 = s2sad.value_and_grad(f, wrt=wrt, checkpoint=checkpoint)(
            *form.pack([wrap(a) for a in copies(args)]))
        g3 = native(form.unpack(g3, "value_and_grad"), "value_and_grad", duck)
        same_value(ducks.unwrap(val2), value, "value_and_grad's second call's value")
        if not all(np.allclose(p, q, rtol=1e-9, atol=1e-12) for p, q in zip(g, g3)):
            raise Wrong("value_and_grad's second call (specialised) differs from its first",
                        "value_and_grad's second call differs from its first")
    elif mode == "jvp":
        tangents = [wrap(np.copy(t)) if isinstance(t, np.ndarray) else t for t in v]
        val, out_dot = ducks.unwrap(s2sad.jvp(f, wrt=wrt)(*form.pack(call_args),
                                                          *form.pack(tangents)))
        unchanged(ducks.unwrap(call_args), args, "jvp")
        same_value(val, value, "jvp's value")
        if np.shape(out_dot) != ():
            raise Wrong("jvp's out_dot of the wrong shape", f"jvp's out_dot has shape {np.shape(out_dot)}, expected ()")
        agree(float(out_dot), estimates["v"], "jvp along v", value)
    elif mode == "hvp":
        hv = s2sad.hvp(f, wrt=wrt, checkpoint=checkpoint)(*form.pack(call_args), tuple(
            form.pack([wrap(np.copy(t)) if isinstance(t, np.ndarray) else t for t in v])))
        hv = native(form.unpack(hv, "hvp"), "hvp", duck)
        unchanged(ducks.unwrap(call_args), args, "hvp")
        check_shapes(hv, "hvp")
        agree(dot(u, hv), estimates["uv"], "u . (H v)", value)
    elif mode in mechanisms.CHECKS:  # rr, vjvp, hessian, layouts, float32, numbers
        mechanisms.CHECKS[mode](form, args, u, v, value, estimates)
    else:
        raise ValueError(mode)


# --- classification -------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?")


def program_names(source):
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names - {"np"}


def normalise(message, names):
    """The first line of ``message`` with the program's names (and their SSA versions) and numbers replaced."""
    text = str(message).strip()
    line = text.splitlines()[0] if text else ""
    stems = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True)) or "(?!)"
    derived = re.compile(rf"(?:{stems}|v\d+|out)(?:_\d+)*(?:_(?:bar|dot|old|res|tape))*")

    def name(m):
        return "<name>" if derived.fullmatch(m.group(0)) else m.group(0)

    line = re.sub(r"(?<![\w.'])[A-Za-z_][A-Za-z0-9_]*\b", name, line)
    line = _NUMBER.sub("N", line)
    line = re.sub(r"<name>(?:(?:, | and )<name>)+", "<names>", line)
    return line[:200]


def classify_error(err, names):
    if isinstance(err, Wrong):
        return "wrong", err.kind
    if isinstance(err, ProgramTimeout):
        return "crash", "timeout"
    if isinstance(err, InternalError):  # s2sad's own failure, labelled: still a crash
        return "crash", f"InternalError: {normalise(err.message, names)}"
    if isinstance(err, S2sadError):
        reason = f"{type(err).__name__}: {normalise(err.message, names)}"
        if err.loc is None:
            return "unlocated", reason
        return "refused", reason
    return "crash", f"{type(err).__name__}: {normalise(err, names)}"


def check(source, seed, modes=MODES, timeout=30.0, duck=False, checkpoint=None):
    """Classify program ``source`` (points drawn from ``seed``): a dict with cls, mode, reason, error, ...

    ``duck``: run the derivatives on Duck arrays; ``checkpoint``: checkpoint the loops
    (:func:`run_mode`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # programs and candidates of the shrinker may warn; results decide
        return _check(source, seed, modes, timeout, duck, checkpoint)


def _check(source, seed, modes, timeout, duck=False, checkpoint=None):
    use_alarm = timeout and hasattr(signal, "SIGALRM")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    module = None
    try:
        names = program_names(source)
        try:
            module = load(source)
            form = form_of(module.f)
            point = find_point(form.oracle, np.random.default_rng(seed),
                               second_order=any(m in mechanisms.SECOND_ORDER for m in modes))
        except ProgramTimeout:
            raise
        except Exception as err:  # noqa: BLE001 - the program itself is broken
            return {"cls": "invalid", "mode": None, "reason": f"{type(err).__name__}: {err}", "error": ""}
        if point is None:
            return {"cls": "skipped", "mode": None, "reason": "no smooth point", "error": ""}
        if duck:
            try:
                with np.errstate(all="ignore"):
                    form.oracle(*[ducks.duck(a) for a in copies(point[0])])
            except ducks.Converted:
                return {"cls": "skipped", "mode": None, "reason": "f converts a Duck array",
                        "error": ""}
        outcomes = []
        for mode in modes:
            try:
                with np.errstate(all="ignore"):
                    run_mode(mode, form, *point, duck=duck, checkpoint=checkpoint)
                outcomes.append(("ok", mode, "", ""))
            except ProgramTimeout as err:
                cls, reason = classify_error(err, names)
                outcomes.append((cls, mode, reason, "timeout"))
                break
            except Exception as err:  # noqa: BLE001 - classified
                cls, reason = classify_error(err, names)
                detail = str(err) if cls in ("wrong", "refused", "unlocated") else \
                    "".join(traceback.format_exception(type(err), err, err.__traceback__)[-6:])
                outcomes.append((cls, mode, reason, detail))
        cls, mode, reason, detail = max(outcomes, key=lambda o: SEVERITY[o[0]])
        return {"cls": cls, "mode": mode if cls != "ok" else None, "reason": reason, "error": detail,
                "modes": {m: (c, r) for c, m, r, _ in outcomes}}
    except ProgramTimeout:
        return {"cls": "crash", "mode": None, "reason": "timeout", "error": "timeout"}
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if module is not None:
            unload(module)


def signature(result):
    """What "fails the same way" means to the shrinker."""
    if result["cls"] == "wrong":
        # the kind of disagreement, not its numbers
        return ("wrong", result["mode"], result["reason"])
    return (result["cls"], result["mode"], result["reason"])


# --- the shrinker ---------------------------------------------------------------------------


def _bodies(tree):
    """Every statement list in the module's functions: (owner node, field name)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt) and not isinstance(node, ast.Module):
                yield node, field


def _locate(tree, path):
    node = tree
    for step in path:
        node = step(node)
    return node


def _candidates(tree):
    """Simpler versions of ``tree`` (each a new tree), coarse changes first."""
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    # 1. drop a helper
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.FunctionDef) and node.name != "f":
            new = copy.deepcopy(tree)
            del new.body[i]
            yield new
    # 2. drop module constants no longer used
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id not in used for t in node.targets):
            new = copy.deepcopy(tree)
            del new.body[i]
            yield new
    # statement-level changes, addressed by (list index of body in walk order, position)
    bodies = list(_bodies(tree))
    for b, (owner, field) in enumerate(bodies):
        stmts = getattr(owner, field)
        for k in range(len(stmts)):
            st = stmts[k]
            replacements = []
            if not isinstance(st, (ast.Return, ast.Pass)):
                replacements.append([])  # delete
            if isinstance(st, ast.If):
                replacements += [st.body, st.orelse]
                if st.orelse:
                    replacements.append([ast.If(test=st.test, body=st.body, orelse=[])])
                if isinstance(st.test, ast.BoolOp):
                    for v in st.test.values:
                        replacements.append([ast.If(test=v, body=st.body, orelse=st.orelse)])
            elif isinstance(st, (ast.For, ast.While)):
                pre = []
                if isinstance(st, ast.For) and isinstance(st.target, ast.Name):
                    it = st.iter
                    if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "range":
                        start = it.args[0] if len(it.args) > 1 else ast.Constant(0)
                        pre = [ast.Assign(targets=[st.target], value=start, lineno=0)]
                    else:
                        pre = [ast.Assign(targets=[st.target], value=ast.Subscript(value=it, slice=ast.Constant(0),
                                                                                   ctx=ast.Load()), lineno=0)]
                    if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "range" and len(it.args) == 1:
                        for trips in (1, 2):
                            replacements.append([ast.For(target=st.target, iter=ast.Call(
                                func=ast.Name("range", ast.Load()), args=[ast.Constant(trips)], keywords=[]),
                                body=st.body, orelse=[], lineno=0)])
                if isinstance(st, ast.For) or not pre:
                    replacements.append(pre + [s for s in st.body if not isinstance(s, (ast.Break, ast.Continue))])
                if isinstance(st, ast.While) and isinstance(st.test, ast.BoolOp):
                    replacements.append([ast.While(test=st.test.values[0], body=st.body, orelse=[])])
            for rep in replacements:
                new = copy.deepcopy(tree)
                new_owner, new_field = list(_bodies(new))[b]
                lst = getattr(new_owner, new_field)
                lst[k:k + 1] = copy.deepcopy(rep)
                if not lst:
                    lst.append(ast.Pass())
                yield new
    # expression-level: replace an expression by one of its operands, or a constant
    exprs = _shrinkable(tree)
    for idx, e in enumerate(exprs):
        options = []
        if isinstance(e, ast.BinOp):
            options = ["left", "right"]
        elif isinstance(e, ast.UnaryOp):
            options = ["operand"]
        elif isinstance(e, ast.Call):
            options = [("args", i) for i in range(len(e.args))]
        elif isinstance(e, ast.Subscript):
            options = ["value"]
        elif isinstance(e, ast.BoolOp):
            options = [("values", i) for i in range(len(e.values))]
        if isinstance(e, (ast.BinOp, ast.Call)):
            options.append("constant")
        for opt in options:
            new = copy.deepcopy(tree)
            target = _shrinkable(new)[idx]
            repl = (ast.Constant(0.5) if opt == "constant" else
                    getattr(target, opt) if isinstance(opt, str) else getattr(target, opt[0])[opt[1]])
            if isinstance(repl, ast.expr) and not isinstance(repl, ast.Starred):
                _replace(new, target, repl)
                yield new
    del funcs


def _shrinkable(tree):
    """Expressions inside the functions that could be replaced by an operand (walk order)."""
    return [n for fn in tree.body if isinstance(fn, ast.FunctionDef) for n in ast.walk(fn)
            if isinstance(n, (ast.BinOp, ast.Call, ast.UnaryOp, ast.BoolOp, ast.Subscript))
            and isinstance(getattr(n, "ctx", ast.Load()), ast.Load)]


def _replace(tree, old, new):
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if value is old:
                setattr(node, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return


def shrink(source, seed, target=None, modes=MODES, budget_seconds=120.0, max_checks=600, timeout=20.0,
           log=None):
    """A smaller program that fails like ``source`` (same :func:`signature`)."""
    mode_list = modes
    first = check(source, seed, modes, timeout)
    target = target or signature(first)
    if first["cls"] in ("ok", "skipped", "invalid") or signature(first) != target:
        return source, first
    if first["mode"]:
        mode_list = (first["mode"],)
        if signature(check(source, seed, mode_list, timeout)) != target:
            mode_list = modes
    best, best_result = source, first
    seen = {source}
    start, checks = time.time(), 0
    improved = True
    while improved and time.time() - start < budget_seconds and checks < max_checks:
        improved = False
        tree = ast.parse(best)
        for cand in _candidates(tree):
            if time.time() - start > budget_seconds or checks >= max_checks:
                break
            try:
                text = ast.unparse(ast.fix_missing_locations(cand)) + "\n"
            except Exception:  # noqa: BLE001
                continue
            if text in seen or len(text) >= len(best) + 20:
                continue
            seen.add(text)
            checks += 1
            result = check(text, seed, mode_list, timeout)
            if signature(result) == target:
                best, best_result = text, result
                improved = True
                if log:
                    log(f"  shrunk to {len(best)} chars")
                break
    if mode_list != modes:
        best_result = check(best, seed, modes, timeout)
    return best, best_result


# --- running many -------------------------------------------------------------------------


def run_one(job):
    seed, modes, timeout, duck, checkpoint = job
    modes = rotation(seed) if modes == "rotate" else modes
    t = time.time()
    try:
        source = generate(seed)
    except Exception as err:  # noqa: BLE001
        return {"seed": seed, "cls": "invalid", "mode": None, "reason": f"generator: {err}", "error": "",
                "source": "", "time": 0.0}
    result = check(source, seed, modes, timeout, duck, checkpoint)
    result.update(seed=seed, source=source, time=time.time() - t)
    return result


def shrink_one(job):
    seed, source, target, modes, budget = job
    small, result = shrink(source, seed, tuple(target), modes, budget_seconds=budget)
    return seed, small, result


def run_many(seeds, modes=MODES, timeout=30.0, jobs=1, progress=None, duck=False,
             checkpoint=None):
    work = [(s, modes, timeout, duck, checkpoint) for s in seeds]
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=100) as pool:
            for r in pool.imap(run_one, work, chunksize=4):
                if progress:
                    progress(r)
                yield r
    else:
        for job in work:
            r = run_one(job)
            if progress:
                progress(r)
            yield r


def report(results, shrunk, out=sys.stdout):
    counts = collections.Counter(r["cls"] for r in results)
    print(f"\n{len(results)} programs: " + ", ".join(f"{k} {counts[k]}" for k in
                                                     ("ok", "wrong", "crash", "unlocated", "refused", "skipped", "invalid")),
          file=out)
    refusals = collections.Counter(r["reason"] for r in results if r["cls"] == "refused")
    if refusals:
        print("\nrefused, by reason:", file=out)
        for reason, k in refusals.most_common():
            print(f"  {k:5d}  {reason}", file=out)
    groups = collections.defaultdict(list)
    for r in results:
        if r["cls"] in ("wrong", "crash", "unlocated", "invalid"):
            groups[signature(r)].append(r)
    if groups:
        print("\nfailures, by kind:", file=out)
        for sig, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(rs):5d}  {sig[0]} in {sig[1]}: {sig[2]}   seeds {[r['seed'] for r in rs[:12]]}", file=out)
    for r in results:
        if r["cls"] not in ("wrong", "crash", "unlocated", "invalid"):
            continue
        print(f"\n=== seed {r['seed']}: {r['cls']} in {r['mode']}: {r['reason']}", file=out)
        if r["seed"] in shrunk:
            small, sres = shrunk[r["seed"]]
            print("--- shrunk program:", file=out)
            print(small.rstrip(), file=out)
            print(f"--- shrunk result: {sres['cls']} in {sres['mode']}: {sres['error'].strip()}", file=out)
        else:
            print(r["source"].rstrip(), file=out)
            print(f"--- error: {r['error'].strip()}", file=out)


INPUT_SHAPES = ", ".join(f"{n} {s if s else 'float'}" for n, s in INPUTS.items()) + f", n = {N_VALUE} (int)"


def markdown(results, shrunk):
    """The failures, one section per kind, with the shrunk programs (text for FAILURES.md)."""
    counts = collections.Counter(r["cls"] for r in results)
    out = [f"# Failures of {len(results)} random programs (seeds {results[0]['seed']}..{results[-1]['seed']})", "",
           ", ".join(f"{k} {counts[k]}" for k in ("ok", "wrong", "crash", "unlocated", "refused", "skipped",
                                                    "invalid")), "",
           f"Inputs of every program: {INPUT_SHAPES}; derivatives with respect to x, y, z, s.", ""]
    groups = collections.defaultdict(list)
    for r in results:
        if r["cls"] in ("wrong", "crash", "unlocated", "invalid"):
            groups[signature(r)].append(r)
    for sig, rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        out += [f"## {sig[0]} in {sig[1]}: {sig[2]}", "",
                f"{len(rs)} programs; seeds {', '.join(str(r['seed']) for r in rs[:20])}"
                f"{', ...' if len(rs) > 20 else ''}", ""]
        for r in rs:
            if r["seed"] in shrunk:
                small, sres = shrunk[r["seed"]]
                out += [f"Seed {r['seed']}, shrunk ({sres['cls']} in {sres['mode']}):", "", "```python",
                        small.strip(), "```", "", "```", sres["error"].strip()[-1500:], "```", ""]
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.programs.random_programs", description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--seeds", type=str, default="", help="comma-separated seeds (instead of --start/--count)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--modes", type=str, default=",".join(MODES),
                   help=f"comma-separated, of {','.join(ALL_MODES)}; all; or rotate (by the seed, "
                   f"as the pytest run: rotation())")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per program")
    p.add_argument("--shrink", action="store_true", help="shrink failures (a few per kind)")
    p.add_argument("--shrink-per-kind", type=int, default=2)
    p.add_argument("--shrink-seconds", type=float, default=120.0)
    p.add_argument("--json", type=str, default="", help="write every result here")
    p.add_argument("--markdown", type=str, default="", help="write the failures (shrunk) here as markdown")
    p.add_argument("--duck", action="store_true", help="derivatives on Duck arrays (tests/duck.py)")
    p.add_argument("--checkpoint", default=None, help="checkpoint the loops: sqrt, a number, binomial or binomial:S")
    p.add_argument("--show", action="store_true", help="print the program of each seed (with --seeds)")
    args = p.parse_args(argv)
    modes = ALL_MODES if args.modes == "all" else "rotate" if args.modes == "rotate" else \
        tuple(m for m in args.modes.split(",") if m)
    seeds = [int(s) for s in args.seeds.split(",") if s] or list(range(args.start, args.start + args.count))
    if args.show:
        for s in seeds:
            print(f"# seed {s}\n{generate(s)}")
        return 0
    t0 = time.time()
    done = [0]

    def progress(r):
        done[0] += 1
        if done[0] % 100 == 0:
            print(f"[{done[0]}/{len(seeds)} in {time.time() - t0:.0f}s]", file=sys.stderr, flush=True)

    how = args.checkpoint or ""
    how = int(how) if how.isdigit() else ("binomial", int(how[9:])) \
        if how.startswith("binomial:") else how or None
    results = sorted(run_many(seeds, modes, args.timeout, args.jobs, progress, args.duck, how),
                     key=lambda r: r["seed"])
    shrunk = {}
    if args.shrink:
        chosen, per = [], collections.Counter()
        for r in results:
            if r["cls"] in ("wrong", "crash", "unlocated") and per[signature(r)] < args.shrink_per_kind:
                per[signature(r)] += 1
                chosen.append((r["seed"], r["source"], signature(r),
                               rotation(r["seed"]) if modes == "rotate" else modes,
                               args.shrink_seconds))
        print(f"shrinking {len(chosen)} failures", file=sys.stderr, flush=True)
        if args.jobs > 1:
            with multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
                for seed, small, sres in pool.imap_unordered(shrink_one, chosen):
                    shrunk[seed] = (small, sres)
                    print(f"  shrunk seed {seed}", file=sys.stderr, flush=True)
        else:
            for job in chosen:
                seed, small, sres = shrink_one(job)
                shrunk[seed] = (small, sres)
    report(results, shrunk)
    print(f"\n{len(results)} programs in {time.time() - t0:.0f}s "
          f"(modes {modes if modes == 'rotate' else ','.join(modes)}, {args.jobs} job{'s' if args.jobs > 1 else ''})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "shrunk": {str(k): {"source": v[0], "result": v[1]}
                                                       for k, v in shrunk.items()}}, fh, indent=1, default=str)
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, shrunk))
    bad = sum(r["cls"] in ("wrong", "crash", "unlocated") for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
