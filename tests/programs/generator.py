"""A generator of random, valid Python/NumPy programs for s2sad to differentiate.

``generate(seed)`` returns the source of a module defining ``f(x, y, z, s, n)``
(``x`` (3, 4), ``y`` (4,), ``z`` (3,), the float ``s`` and the int ``n`` = 3, not
differentiated), returning a scalar, plus the helper functions ``f`` calls. Program
``k`` depends on ``k`` only (``random.Random``), so a seed names a program.

The programs mix straight-line NumPy arithmetic over broadcastable shapes,
reductions with axes, reads with index arithmetic (``x[(i + 1) % 3]``), writes
(``a[i] = ...``, ``a[1:] += ...``, ``a[[0, 2]] *= ...``, ``a[a > 0.2] = ...``) in
loops and branches, ``if``/``elif``/``else`` on data, ``for`` (``range``, rows,
``enumerate``, ``zip``), nested loops, ``while``, ``break``/``continue``/early
``return``, helpers (one value, two values, a one-element tuple; with loops; calling
other helpers; taking their two arrays as one tuple (unpacked or indexed) or one dict
(``h({"p": a, "q": b})``); a module-level
``h = lambda p, q: ...``), lists with ``append`` and ``np.stack``, augmented assignment on
locals and on views, aliases (``b = a``), tuple unpacking (also ``a, = t``),
``np.where``/``np.clip``/``np.maximum``/``np.abs``/``np.sort``, and comprehensions
(``sum(e * (q + 1.0) for q in range(3))``, a filtered list summed, ``np.stack``/``np.array``
of a list comprehension). A quarter of the programs (:data:`METHODS`) are written as
methods of a class (:func:`as_methods`): ``f = Model().f``, helpers called as
``self.h(...)``. Two in five (:data:`SLOTS_SHARE`) may write Python lists slot by slot
(``S[i] = np.tanh(S[i - 1]) + S[i]``, lists of arrays or of numbers; :mod:`tests.programs.vocabulary`).
A fifth (:data:`CLOSURES`) have the helpers only ``f`` calls nested in ``f``, each reading
one of ``f``'s names, late bound (:func:`with_closures`). A fifth (:data:`DICT_PARAMS`) take
their first two arguments as one dict
of parameters (:func:`with_dict_params`): ``f(params, z, s, n)`` reading
``x = params["w"]`` and ``y = params["b"]``; :func:`call_args` packs the flat arguments
for such an ``f``. Three in ten (:data:`REPEATS_SHARE`) may write at an index naming an
element twice (``a[[0, 2, 0]] = ...``, ``a[[2, -1]] += ...``: the last value is kept), and
three in ten (:data:`READS_SHARE`) start a loop's list with an element (``L = [e]``) and read
it by index or whole afterwards (``L[-1]``, ``L[0]``, ``sum(L)``).

A program is valid when it runs under plain NumPy without error or warning and
its value is finite and moderate at random points (:func:`is_valid`);
``generate`` draws again (from the same seed) until it is. Magnitudes stay
bounded: every expression carries a bound, anything past :data:`LIMIT` is squashed
with ``np.tanh``, denominators are ``1 + e * e`` or ``2 + sin(e)``, and ``log`` and
``sqrt`` take positive arguments.

The generator tracks, for each name, its shape, a bound on its magnitude and the
arrays it may share memory with (``ids``), so it writes in place only into arrays
the program made (never into an argument) and knows what an update through an
alias or a view changes.
"""

import ast
import math
import random
import re
import signal
import threading
import warnings
import zlib

import numpy as np

from tests.programs import library, vocabulary

INPUTS = {"x": (3, 4), "y": (4,), "z": (3,), "s": ()}
N_VALUE = 3  # the int argument n (loop bounds), not differentiated
PARAMS = "x, y, z, s, n"
WRT = (0, 1, 2, 3)
LIMIT = 20.0
LOCALS = ("b", "c", "d", "e", "g", "w")  # no English words: refusal messages are normalised
EXTERNAL = "ext"  # prefix of ids of arrays the program did not make (arguments, parameters)


class Var:
    """What the generator knows of a name: shape, bound on magnitude, memory it may share."""

    __slots__ = ("shape", "bound", "ids", "kind")

    def __init__(self, shape, bound, ids=frozenset(), kind="arr"):
        self.shape, self.bound, self.ids, self.kind = tuple(shape), float(bound), frozenset(ids), kind

    def owned(self):
        return bool(self.ids) and not any(i.startswith(EXTERNAL) for i in self.ids)

    def copy(self):
        return Var(self.shape, self.bound, self.ids, self.kind)


class Expr:
    """An expression: its text, shape, bound, and the ids of the arrays it is (None: a fresh array)."""

    __slots__ = ("text", "shape", "bound", "ids")

    def __init__(self, text, shape, bound, ids=None):
        self.text, self.shape, self.bound, self.ids = text, tuple(shape), float(bound), ids


def broadcast(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def fits(shape, target):
    return broadcast(shape, target) == tuple(target)


class Context:
    """Where a statement is generated: loop variables in scope, nesting depth, function kind."""

    def __init__(self, fn="f", loops=(), depth=0, out_shapes=None, level=0, protected=(), one_tuple=False):
        self.fn, self.loops, self.depth, self.out_shapes, self.level = fn, tuple(loops), depth, out_shapes, level
        self.protected, self.one_tuple = set(protected), one_tuple
        self.rebound = set()  # inputs given new values (shared with the contexts inside)

    def inside(self, loop=None, depth_inc=1):
        loops = self.loops + ((loop,) if loop else ())
        inner = Context(self.fn, loops, self.depth + depth_inc, self.out_shapes, self.level, self.protected,
                        self.one_tuple)
        inner.rebound = self.rebound
        return inner

    @property
    def in_loop(self):
        return bool(self.loops)


class Generator(vocabulary.Statements):
    var_class, local_names = Var, LOCALS  # (for the mixin's statements)

    def __init__(self, rng, size=10):
        self.rng = rng
        self.size = size  # statements left to generate, all functions together
        self.helpers = []  # (name, param shapes, out spec, source lines)
        self.consts = {}  # shape -> name of a module constant of that shape
        self.counter = 0
        self.helper_count = 0
        self.in_condition = False  # (a comprehension in a while condition is refused: none there)
        self.library = False  # expressions from library.TEMPLATES too (set by generate)
        self.repeats = False  # writes at an index naming an element twice (set by generate)
        self.reads = False  # lists read by index and started with an element (set by generate)
        self.slots = False  # lists written slot by slot (vocabulary.Statements; set by generate)

    # --- small utilities ------------------------------------------------------------

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(list(seq))

    def fresh_id(self):
        self.counter += 1
        return f"m{self.counter}"

    def fresh_name(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, shape):
        shape = tuple(shape)
        if shape not in self.consts:
            self.consts[shape] = "W" if not shape else "W_" + "_".join(map(str, shape))
        return self.consts[shape]

    def number(self):
        return self.pick([0.5, 1.5, 2.0, -0.7, 0.3, -1.2, 0.25])

    def threshold(self):
        return round(self.rng.uniform(-0.6, 0.6), 2)

    @staticmethod
    def squash(e):
        if e.bound > LIMIT:
            return Expr(f"np.tanh({e.text})", e.shape, 1.0)
        return e

    # --- expressions --------------------------------------------------------------------

    def arrays(self, env, ndim_min=0):
        return sorted(n for n, v in env.items() if v.kind == "arr" and len(v.shape) >= ndim_min)

    def leaf(self, env, ctx):
        r = self.rng.random()
        ints = [n for n, v in env.items() if v.kind == "int"]
        if r < 0.12:
            value = self.number()
            return Expr(repr(value), (), abs(value))
        if r < 0.2 and ints:
            name = self.pick(sorted(ints))
            return Expr(name, (), env[name].bound)
        names = self.arrays(env)
        if r < 0.45:
            indexed = self.arrays(env, 1)
            if indexed:
                return self.index_read(env, self.pick(indexed), ctx)
        name = self.pick(names)
        v = env[name]
        return Expr(name, v.shape, v.bound, v.ids if v.shape else None)

    def index_forms(self, shape, env, writes=False):
        """(index text, item shape, kind) for indexing an array of ``shape``; kind: basic, fancy, int."""
        forms = []
        ints = sorted((n, env[n].bound) for n, v in env.items() if v.kind == "int")
        d0, rest = shape[0], shape[1:]
        forms += [("[0]", rest, "basic"), ("[-1]", rest, "basic"), (f"[{d0 - 1}]", rest, "basic")]
        if d0 >= 2:
            forms += [("[1:]", (d0 - 1,) + rest, "basic"), ("[::2]", ((d0 + 1) // 2,) + rest, "basic"),
                      (f"[[0, {d0 - 1}]]", (2,) + rest, "fancy"), ("[:2]", (2,) + rest, "basic")]
        if d0 >= 3:
            forms += [("[[2, 0, 1]]" if not writes else "[[2, 0]]", ((3,) if not writes else (2,)) + rest,
                      "fancy")]
        if writes and self.repeats and d0 >= 2:  # the last value written at 0 is kept
            forms += [(f"[[0, {d0 - 1}, 0]]", (3,) + rest, "fancy"), (f"[[{d0 - 1}, -1]]", (2,) + rest,
                                                                       "fancy")]
        for name, maxval in ints:
            forms += [(f"[{name} % {d0}]", rest, "int"), (f"[({name} + 1) % {d0}]", rest, "int"),
                      (f"[(2 * {name} + 1) % {d0}]", rest, "int"), (f"[{d0 - 1} - {name} % {d0}]", rest, "int")]
            if maxval < d0:
                forms += [(f"[{name}]", rest, "int")]
                if maxval + 1 < d0:
                    forms += [(f"[{name} + 1]", rest, "int")]
                if d0 >= 3:
                    forms += [(f"[{name}:]", None, "slice"), (f"[:{name} + 1]", None, "slice")]
        if len(shape) == 2:
            d1 = shape[1]
            forms += [("[:, 1]", (d0,), "basic"), ("[1, 2]" if d1 > 2 else "[1, 0]", (), "basic"),
                      ("[:, 1:]", (d0, d1 - 1), "basic"), ("[1:, ::2]", (d0 - 1, (d1 + 1) // 2), "basic"),
                      ("[:, [0, 2]]" if d1 > 2 else "[:, [1, 0]]", (d0, 2), "fancy")]
            for name, maxval in ints:
                forms += [(f"[:, ({name} + 2) % {d1}]", (d0,), "int"),
                          (f"[{name} % {d0}, ({name} * 2) % {d1}]", (), "int")]
        # slices whose length depends on a loop variable: shape unknown to the generator
        return [f for f in forms if f[1] is not None and min(f[1], default=1) > 0]

    def index_read(self, env, name, ctx):
        v = env[name]
        text, item, kind = self.pick(self.index_forms(v.shape, env))
        ids = v.ids if (kind in ("basic", "int") and item) else None
        return Expr(f"{name}{text}", item, v.bound, ids)

    def expr(self, env, ctx, depth=2, compound=False):
        if depth <= 0 or (not compound and self.chance(0.3)):
            return self.leaf(env, ctx)
        kind = self.rng.choices(
            ["binop", "unary", "reduce", "where", "clip", "maxmin", "sort", "matmul", "transpose", "maskread",
             "comprehension", "library"],
            [10, 6, 4, 1.5, 1.2, 1.2, 0.8, 0.8, 0.4, 0.5, 0 if self.in_condition else 0.6,
             3 if self.library else 0])[0]
        e = self.expr(env, ctx, depth - 1)
        if kind == "library":
            return self.library_call(env, ctx, e, depth)
        if kind == "comprehension":  # the loop variable q scales e; sum() of a generator or a stack
            form = self.pick(["sum", "sum", "filtered", "stack", "array"])
            if form == "sum":
                return self.squash(Expr(f"sum({e.text} * (q + 1.0) for q in range(3))", e.shape, 6 * e.bound))
            if form == "filtered":
                return self.squash(Expr(f"sum([{e.text} * q for q in range(4) if q != 2])", e.shape,
                                        4 * e.bound))
            fn = "np.stack" if form == "stack" else "np.array"
            return self.squash(Expr(f"np.sum({fn}([{e.text} / (q + 1.0) for q in range(2)]), axis=0)",
                                    e.shape, 2 * e.bound))
        if kind == "unary":
            fn = self.pick(["exp", "tanh", "sin", "cos", "log", "sqrt", "neg", "abs", "square"])
            t, b = e.text, e.bound
            text, bound = {
                "exp": (f"np.exp({t})" if b <= 3 else f"np.exp(np.tanh({t}))", math.exp(min(b, 3.0))),
                "tanh": (f"np.tanh({t})", 1.0),
                "sin": (f"np.sin({t})", min(b, 1.0)),
                "cos": (f"np.cos({t})", 1.0),
                "log": (f"np.log(1.0 + {t} * {t})", math.log1p(b * b)),
                "sqrt": (f"np.sqrt({t} * {t} + 0.5)", math.sqrt(b * b + 0.5)),
                "neg": (f"(-{t})", b),
                "abs": (f"np.abs({t})", b),
                "square": (f"{t} ** 2" if t.isidentifier() else f"({t}) ** 2", b * b),
            }[fn]
            return self.squash(Expr(text, e.shape, bound))
        if kind == "reduce":
            fn = self.pick(["sum", "sum", "mean", "max", "min"])
            choices = [("", ())]
            if len(e.shape) == 2:
                choices += [(", axis=0", e.shape[1:]), (", axis=1", e.shape[:1]),
                            (", axis=-1, keepdims=True", (e.shape[0], 1)), (", axis=(0, 1)", ())]
            elif len(e.shape) == 1:
                choices += [(", axis=0", ()), (", keepdims=True", (1,))]
            kw, shape = self.pick(choices)
            n = math.prod(e.shape) if fn == "sum" else 1
            return self.squash(Expr(f"np.{fn}({e.text}{kw})", shape, e.bound * n))
        if kind == "sort":
            if not e.shape:
                return e
            axis = self.pick(["", ", axis=0"]) if len(e.shape) == 2 else ""
            return Expr(f"np.sort({e.text}{axis})", e.shape, e.bound)
        if kind == "clip":
            lo, hi = self.pick([(-0.5, 0.5), (-1.0, 0.3), (0.0, 2.0), (-0.2, 0.8)])
            return Expr(f"np.clip({e.text}, {lo}, {hi})", e.shape, max(abs(lo), abs(hi)))
        if kind == "transpose":
            if len(e.shape) != 2:
                return e
            return Expr(f"{e.text}.T" if e.text.isidentifier() else f"({e.text}).T", e.shape[::-1], e.bound,
                        e.ids)
        if kind == "maskread":
            names = [n for n in self.arrays(env, 1)]
            if not names:
                return e
            name = self.pick(names)
            c = self.threshold()
            return self.squash(Expr(f"np.sum({name}[{name} > {c}])", (), env[name].bound * math.prod(
                env[name].shape)))
        e2 = self.expr(env, ctx, depth - 1)
        if kind == "matmul":
            if len(e.shape) == 2 and e2.shape == e.shape[1:]:
                return self.squash(Expr(f"({e.text} @ {e2.text})", e.shape[:1], e.bound * e2.bound * e.shape[1]))
            if len(e.shape) == 1 and e2.shape == e.shape:
                fn = self.pick(["({} @ {})", "np.dot({}, {})"])
                return self.squash(Expr(fn.format(e.text, e2.text), (), e.bound * e2.bound * e.shape[0]))
            kind = "binop"
        shape = broadcast(e.shape, e2.shape)
        if shape is None:  # make the second operand a scalar
            e2 = self.squash(Expr(f"np.sum({e2.text})", (), e2.bound * max(1, math.prod(e2.shape))))
            shape = e.shape
        if kind == "where":
            c = self.expr(env, ctx, 1)
            shape3 = broadcast(shape, c.shape)
            if shape3 is None:
                c = self.squash(Expr(f"np.mean({c.text})", (), c.bound))
                shape3 = shape
            op = self.pick([">", "<"])
            return Expr(f"np.where({c.text} {op} {self.threshold()}, {e.text}, {e2.text})", shape3,
                        max(e.bound, e2.bound))
        if kind == "maxmin":
            fn = self.pick(["maximum", "minimum"])
            return Expr(f"np.{fn}({e.text}, {e2.text})", shape, max(e.bound, e2.bound))
        op = self.pick(["+", "-", "*", "*", "/"])
        if op == "/":
            den = self.pick([f"(1.0 + {e2.text} * {e2.text})", f"(2.0 + np.sin({e2.text}))"])
            return Expr(f"({e.text} / {den})", shape, e.bound)
        bound = e.bound * e2.bound if op == "*" else e.bound + e2.bound
        return self.squash(Expr(f"({e.text} {op} {e2.text})", shape, bound))

    def library_call(self, env, ctx, e, depth):
        """``e`` as the first operand of one of :data:`library.TEMPLATES` that takes its shape."""
        templates = library.applicable(e.shape)
        if not templates:
            return e
        text, _, other, bound = self.pick(templates)
        b = self.expr_of_shape(env, ctx, other(e.shape)) if other else None
        shape = library.result_shape(text, e.shape, b.shape if b else None)
        if shape is None:
            return e
        wrap = lambda t: t if t.isidentifier() else f"({t})"  # noqa: E731
        value = text.format(a=wrap(e.text), b=wrap(b.text) if b else "")
        size = max(1, math.prod(e.shape))
        ids = e.ids if library.may_share(text) else None
        return self.squash(Expr(value, shape, bound(e.bound, b.bound if b else 0.0, size), ids))

    def fit(self, e, shape):
        """``e`` made to broadcast into ``shape`` (its total if it does not)."""
        if fits(e.shape, shape):
            return e
        return self.squash(Expr(f"np.sum({e.text})", (), e.bound * max(1, math.prod(e.shape))))

    def expr_of_shape(self, env, ctx, shape):
        for _ in range(6):
            e = self.expr(env, ctx, 2)
            if e.shape == tuple(shape):
                return e
        e = self.fit(self.expr(env, ctx, 1), shape)
        if e.shape != tuple(shape):
            e = Expr(f"({e.text} + 0.1 * {self.const(shape)})", shape, e.bound + 0.2)
        return e

    def scalar(self, env, ctx):
        e = self.expr(env, ctx, 2)
        if e.shape:
            fn = self.pick(["np.sum", "np.mean", "np.max", "np.min"])
            e = self.squash(Expr(f"{fn}({e.text})", (), e.bound * (math.prod(e.shape) if fn == "np.sum" else 1)))
        return e

    def condition(self, env, ctx):
        self.in_condition = True
        try:
            return self.condition_text(env, ctx)
        finally:
            self.in_condition = False

    def condition_text(self, env, ctx):
        ints = sorted(n for n, v in env.items() if v.kind == "int")
        if ints and self.chance(0.2):
            i = self.pick(ints)
            return self.pick([f"{i} % 2 == 0", f"{i} == 1", f"{i} > 0"])
        e = self.scalar(env, ctx)
        if self.library and self.chance(0.2):  # a chained comparison (lo < e <= hi)
            lo = self.threshold()
            return f"{lo} {self.pick(['<', '<='])} {e.text} {self.pick(['<', '<='])} {lo + 0.5}"
        c = f"{e.text} {self.pick(['>', '<', '>=', '<='])} {self.threshold()}"
        if self.chance(0.15):
            e2 = self.scalar(env, ctx)
            c = f"{c} {self.pick(['and', 'or'])} {e2.text} > {self.threshold()}"
        elif self.chance(0.05):
            c = f"not {c}"
        return c

    def output(self, env, ctx):
        """A scalar of the names in scope (what f returns)."""
        names = self.arrays(env)
        made = [n for n in names if n not in INPUTS or n in ctx.rebound]
        self.rng.shuffle(made)
        chosen = made[:self.rng.randint(1, 3)]
        if not chosen or self.chance(0.3):
            chosen.append(self.pick([n for n in names if n not in chosen] or names))
        terms = []
        for name in chosen:
            shape = env[name].shape
            if not shape:
                terms.append(self.pick([f"{name}", f"np.sin({name})", f"{name} * {name}"]))
            elif self.chance(0.6):
                terms.append(f"np.sum({name} * {self.const(shape)})")
            else:
                terms.append(f"np.sum(np.sin({name}))")
        return " + ".join(terms)

    # --- statements ---------------------------------------------------------------------

    def block(self, env, ctx, count):
        lines = []
        for k in range(count):
            if self.size <= 0 and k > 0:
                break
            self.size -= 1
            lines += self.statement(env, ctx)
        return lines

    def assign_target(self, env, ctx, shape):
        """A name to bind a value of ``shape`` to: new, or an existing one (same shape inside a loop)."""
        candidates = [n for n in LOCALS if n not in env]
        if ctx.loops:  # a carried name keeps its shape from trip to trip
            same = [n for n in self.arrays(env) if env[n].shape == shape and n not in ctx.protected]
            pool = candidates + same
        else:
            pool = candidates + [n for n in self.arrays(env) if n not in ctx.protected]
            if self.chance(0.1):
                pool += [n for n in INPUTS if n in env and ctx.fn == "f"]
        return self.pick(pool) if pool else None

    def statement(self, env, ctx):
        kinds = {"assign": 8, "aug": 3, "write": 4, "maskwrite": 0.8, "alias": 0.6, "view": 0.6, "if": 3,
                 "for": 3, "while": 1, "call": 2.5, "unpack": 1.2, "return": 0.8, "recur": 0.5}
        if ctx.in_loop:
            kinds["break"] = 1.2
        if ctx.depth >= 2:
            kinds["for"] = kinds["while"] = 0.3
            kinds["if"] = 1
        if ctx.level >= 2:
            kinds["call"] = 0
        kinds["slots"] = 3 if self.slots else 0  # (last, so programs without stay as they were)
        kind = self.rng.choices(list(kinds), list(kinds.values()))[0]
        method = getattr(self, "st_" + kind)
        lines = method(env, ctx)
        if lines is None:
            lines = self.st_assign(env, ctx)
        return lines

    def st_assign(self, env, ctx):
        e = self.expr(env, ctx, 2, compound=True)
        name = self.assign_target(env, ctx, e.shape)
        if name is None:
            return []
        if ctx.loops and name in env and e.bound > env[name].bound and e.bound > 2:
            e = Expr(f"np.tanh({e.text})", e.shape, 1.0)  # keep carried values bounded
        ids = frozenset([self.fresh_id()]) if e.shape else frozenset()
        env[name] = Var(e.shape, e.bound, ids)
        ctx.rebound.add(name)
        return [f"{name} = {e.text}"]

    def update_bounds(self, env, target, new_bound):
        """``target`` was updated in place: so were the names sharing its memory."""
        ids = env[target].ids
        forget = self.chance(0.8)  # s2sad refuses to read an alias after a write through another name
        for n, v in list(env.items()):
            if v.kind == "arr" and (n == target or (ids and v.ids & ids)):
                v.bound = max(v.bound, new_bound)
                if n != target and forget:
                    del env[n]

    def st_aug(self, env, ctx):
        e = self.expr(env, ctx, 2, compound=self.chance(0.5))
        names = [n for n in self.arrays(env) if fits(e.shape, env[n].shape)
                 and (not env[n].shape or (env[n].owned() and not self.shared(env, n)))]
        if not names:
            return None
        name = self.pick(names)
        v = env[name]
        op = self.pick(["+=", "-=", "*=", "+="])
        trips = 4 if ctx.loops else 1
        if op == "*=":
            if e.bound > 1.0:
                e = Expr(f"np.tanh({e.text})", e.shape, 1.0)
            new_bound = v.bound
        else:
            new_bound = v.bound + trips * e.bound
            if new_bound > 4 * LIMIT:
                return None
        self.update_bounds(env, name, new_bound)
        return [f"{name} {op} {e.text}"]

    @staticmethod
    def shared(env, name):
        ids = env[name].ids
        return any(n != name and v.ids & ids for n, v in env.items())

    def writable(self, env):
        return [n for n in self.arrays(env, 1) if env[n].owned()]

    def st_write(self, env, ctx):
        names = self.writable(env)
        if not names:
            return None
        name = self.pick(names)
        v = env[name]
        text, item, _ = self.pick(self.index_forms(v.shape, env, writes=True) + [("[:]", v.shape, "basic")])
        op = self.pick(["=", "=", "+=", "*=", "-="])
        if text == "[:]" and self.chance(0.15):
            return [f"{name}[:] = {name}"]
        e = self.fit(self.expr(env, ctx, 2), item)
        if op == "*=" and e.bound > 1.0:
            e = Expr(f"np.tanh({e.text})", e.shape, 1.0)
        trips = 4 if ctx.loops else 1
        new_bound = max(v.bound, e.bound) if op in ("=", "*=") else v.bound + trips * e.bound
        if new_bound > 4 * LIMIT:
            return None
        self.update_bounds(env, name, new_bound)
        return [f"{name}{text} {op} {e.text}"]

    def st_recur(self, env, ctx):
        """A recurrence through the rows of an array a loop writes into, by a product with the
        input x (the RNN whose states are an array's rows, whose backward sweep restores the
        array trip by trip while x's adjoint sums products)::

            e = np.tanh(x) * 0.5
            for q3 in range(3):
                e[(q3 + 1) % 3] = np.tanh(np.dot(e[:, q3 % 4], x))
        """
        if "x" not in env or env["x"].kind != "arr" or env["x"].shape != (3, 4):
            return None
        name = self.assign_target(env, ctx, (3, 4))
        if name is None or name == "x":
            return None
        q = self.fresh_name("q")
        product = self.pick(["{a} @ {b}", "np.dot({a}, {b})", "({a}).dot({b})"])
        if self.chance(0.5):
            write = f"{name}[:, ({q} + 1) % 4] = np.tanh({product.format(a='x', b=f'{name}[{q} % 3]')})"
        else:
            write = f"{name}[({q} + 1) % 3] = np.tanh({product.format(a=f'{name}[:, {q} % 4]', b='x')})"
        env[name] = Var((3, 4), 1.0, frozenset([self.fresh_id()]))
        ctx.rebound.add(name)
        return [f"{name} = np.tanh(x) * 0.5", f"for {q} in range({self.pick([2, 3, 4])}):",
                "    " + write]

    def st_maskwrite(self, env, ctx):
        names = self.writable(env)
        if not names:
            return None
        name = self.pick(names)
        v = env[name]
        mask_name = self.pick([name] + [n for n in self.arrays(env, 1) if env[n].shape == v.shape])
        mask = f"{mask_name} {self.pick(['>', '<'])} {self.threshold()}"
        e = self.scalar(env, ctx)
        op = self.pick(["=", "*=", "+="])
        if op == "*=" and e.bound > 1.0:
            e = Expr(f"np.tanh({e.text})", (), 1.0)
        new_bound = max(v.bound, e.bound) if op != "+=" else v.bound + 4 * e.bound
        if new_bound > 4 * LIMIT:
            return None
        self.update_bounds(env, name, new_bound)
        if self.chance(0.3):
            m = self.fresh_name("m")
            return [f"{m} = {mask}", f"{name}[{m}] {op} {e.text}"]
        return [f"{name}[{mask}] {op} {e.text}"]

    def st_alias(self, env, ctx):
        """``b = a``: two names for one array (also conditionally rebound, then updated in place)."""
        names = self.writable(env)
        if not names:
            return None
        src = self.pick(names)
        new = [n for n in LOCALS if n not in env]
        if not new:
            return None
        dst = self.pick(new)
        env[dst] = Var(env[src].shape, env[src].bound, env[src].ids)
        lines = [f"{dst} = {src}"]
        if self.chance(0.5):
            c = self.condition(env, ctx)
            e = self.expr_of_shape(env, ctx, env[src].shape)
            lines += [f"if {c}:", f"    {dst} = {e.text}"]
            env[dst] = Var(env[src].shape, max(env[src].bound, e.bound), env[src].ids | {self.fresh_id()})
        if self.chance(0.3):  # b += ... on an alias: s2sad refuses it (NumPy updates both names)
            e = self.fit(self.expr(env, ctx, 1), env[dst].shape)
            op = self.pick(["+=", "*="])
            if op == "*=":
                e = Expr(f"np.tanh({e.text})", e.shape, 1.0)
            new_bound = env[dst].bound + (4 if ctx.loops else 1) * e.bound
            self.update_bounds(env, dst, new_bound)
            lines.append(f"{dst} {op} {e.text}")
        return lines

    def st_view(self, env, ctx):
        """``v = a[1:]`` then an update of the view, which changes ``a``."""
        names = self.writable(env)
        if not names:
            return None
        src = self.pick(names)
        forms = [f for f in self.index_forms(env[src].shape, env) if f[2] in ("basic", "int") and f[1]]
        if len(env[src].shape) == 2:
            forms.append((".T", env[src].shape[::-1], "basic"))
        if not forms:
            return None
        text, item, _ = self.pick(forms)
        view = self.fresh_name("v")
        env[view] = Var(item, env[src].bound, env[src].ids)
        lines = [f"{view} = {src}{text}"]
        e = self.fit(self.expr(env, ctx, 1), item)
        op = self.pick(["+=", "*=", "[0] =", "[:] ="]) if item else "+="
        if op == "*=":
            e = Expr(f"np.tanh({e.text})", e.shape, 1.0)
        if op == "[0] =":
            e = self.fit(e, item[1:])
        new_bound = env[src].bound + (4 if ctx.loops else 1) * e.bound
        self.update_bounds(env, view, new_bound)
        lines.append(f"{view}{op} {e.text}" if op.startswith("[") else f"{view} {op} {e.text}")
        if ctx.loops:
            del env[view]  # a view made in a loop body is the body's own
        return lines

    def merge(self, env, branches):
        """The environment after an if whose branches left ``branches``."""
        for name in list(env):
            vs = [b.get(name) for b in branches]
            if any(v is None or v.shape != env[name].shape or v.kind != env[name].kind for v in vs):
                del env[name]
                continue
            env[name] = Var(env[name].shape, max(v.bound for v in vs), frozenset().union(*(v.ids for v in vs)),
                            env[name].kind)
        for name in set.intersection(*(set(b) for b in branches)) - set(env):
            vs = [b[name] for b in branches]
            if all(v.shape == vs[0].shape and v.kind == vs[0].kind == "arr" for v in vs):
                env[name] = Var(vs[0].shape, max(v.bound for v in vs), frozenset().union(*(v.ids for v in vs)))

    def body(self, env, ctx, low=1, high=3):
        lines = self.block(env, ctx, self.rng.randint(low, high))
        return ["    " + line for line in lines] or ["    pass"]

    def st_if(self, env, ctx):
        inner = ctx.inside(depth_inc=1)
        lines, branches = [], []
        arms = self.rng.choices([1, 2, 3], [3, 4, 2])[0]
        for k in range(arms):
            head = "if" if k == 0 else "elif"
            if k == arms - 1 and k > 0 and self.chance(0.6):
                lines.append("else:")
            else:
                lines.append(f"{head} {self.condition(env, ctx)}:")
            branch = {n: v.copy() for n, v in env.items()}
            lines += self.body(branch, inner, 1, 2)
            branches.append(branch)
        if lines[-len(branches[-1]) - 1:] and not any(line == "else:" for line in lines):
            branches.append({n: v.copy() for n, v in env.items()})  # the path through no branch
        self.merge(env, branches)
        return lines

    def loop_body(self, env, ctx, loopvars, header, lists=True):
        """Lines of a loop: optional list accumulation before, the body, its effect on ``env``."""
        inner = ctx.inside("loop")
        inner.protected |= set(loopvars)
        body_env = {n: v.copy() for n, v in env.items()}
        for name, var in loopvars.items():
            body_env[name] = var
        pre, first, post = [], [], []
        if lists and self.chance(0.3):
            lst = self.fresh_name("L")
            e = self.expr(body_env, inner, 2)
            start = self.expr_of_shape(env, ctx, e.shape) if self.reads and self.chance(0.5) else None
            pre.append(f"{lst} = [{start.text}]" if start else f"{lst} = []")
            first.append(f"    {lst}.append({e.text})")
            res = self.pick([n for n in LOCALS if n not in env] or [None])
            if res is not None:
                how = self.pick([f"np.sum(np.stack({lst}), axis=0)", f"np.stack({lst})[-1]",
                                 f"np.mean(np.array({lst}), axis=0)"] +
                                ([f"{lst}[-1]", f"{lst}[0]", f"sum({lst})"] if self.reads else []))
                if start is not None:
                    e = Expr(e.text, e.shape, max(e.bound, start.bound))
                post.append(f"{res} = {how}")
                post_var = (res, Var(e.shape, e.bound * ((5 if start else 4) if "sum" in how else 1), [self.fresh_id()] if e.shape else []))
            else:
                post_var = None
        body = self.body(body_env, inner, 1, 3)
        # names the body rebinds keep their shapes (assign_target sees to it); bounds grow
        for name in list(env):
            if name in body_env and body_env[name].shape == env[name].shape:
                env[name] = Var(env[name].shape, max(env[name].bound, body_env[name].bound),
                                env[name].ids | body_env[name].ids, env[name].kind)
            else:
                del env[name]
        lines = pre + [header] + first + body
        if post and post_var:
            lines += post
            env[post_var[0]] = post_var[1]
        return lines

    def st_for(self, env, ctx):
        i = self.pick([n for n in ("i", "j", "k") if n not in env] or [None])
        if i is None:
            return None
        r = self.rng.random()
        arrays = self.arrays(env, 1)
        if r < 0.55 or not arrays:
            rng_text, maxval = self.pick([("range(3)", 2), ("range(n)", N_VALUE - 1), ("range(1, 4)", 3),
                                          ("range(2, -1, -1)", 2), ("range(2)", 1), ("range(n - 1)", N_VALUE - 2)])
            if ctx.fn != "f":  # (a helper has no n: its loops run a fixed number of trips)
                rng_text = re.sub(r"\bn\b", str(N_VALUE), rng_text)
            return self.loop_body(env, ctx, {i: Var((), maxval, kind="int")}, f"for {i} in {rng_text}:")
        src = self.pick(arrays)
        v = env[src]
        row = self.fresh_name("r")
        row_var = Var(v.shape[1:], v.bound, v.ids if len(v.shape) > 1 else frozenset())
        if r < 0.75:
            return self.loop_body(env, ctx, {row: row_var}, f"for {row} in {src}:")
        if r < 0.9:
            return self.loop_body(env, ctx, {i: Var((), v.shape[0] - 1, kind="int"), row: row_var},
                                  f"for {i}, {row} in enumerate({src}):")
        others = [n for n in arrays if env[n].shape[0] == v.shape[0]]
        other = self.pick(others)
        row2 = self.fresh_name("r")
        w = env[other]
        return self.loop_body(env, ctx, {row: row_var, row2: Var(w.shape[1:], w.bound,
                                                                 w.ids if len(w.shape) > 1 else frozenset())},
                              f"for {row}, {row2} in zip({src}, {other}):")

    def st_while(self, env, ctx):
        j = self.fresh_name("t")
        form = self.rng.random()
        env_j = Var((), 3, kind="int")
        if form < 0.5:
            header = f"while {j} < 3:"
        else:
            c = self.condition(env, ctx)
            header = f"while {j} < 3 and ({c}):"
        lines = self.loop_body(env, ctx, {j: env_j}, header, lists=False)
        k = lines.index(header)
        lines.insert(k + 1, f"    {j} += 1")  # first, so a continue cannot skip it
        return [f"{j} = 0"] + lines

    def st_break(self, env, ctx):
        word = self.pick(["break", "continue"])
        return [f"if {self.condition(env, ctx)}:", f"    {word}"]

    def st_return(self, env, ctx):
        if ctx.fn == "f":
            value = self.output(env, ctx)
        else:
            value = ", ".join(self.expr_of_shape(env, ctx, s).text for s in ctx.out_shapes)
            if len(ctx.out_shapes) == 1 and ctx.one_tuple:
                value = f"({value},)"
        return [f"if {self.condition(env, ctx)}:", f"    return {value}"]

    def st_unpack(self, env, ctx):
        new = [n for n in LOCALS if n not in env and n not in ctx.protected]
        r = self.rng.random()
        if r < 0.4 and new:
            e = self.expr(env, ctx, 2, compound=True)
            name = self.pick(new)
            env[name] = Var(e.shape, e.bound, [self.fresh_id()] if e.shape else [])
            if self.chance(0.5):
                tup = self.fresh_name("tp")
                return [f"{tup} = ({e.text},)", f"{name}, = {tup}"]
            return [f"{name}, = [{e.text}]"]
        if r < 0.75 and len(new) >= 2:
            e1, e2 = self.expr(env, ctx, 2, True), self.expr(env, ctx, 2, True)
            n1, n2 = self.rng.sample(new, 2)
            env[n1] = Var(e1.shape, e1.bound, [self.fresh_id()] if e1.shape else [])
            env[n2] = Var(e2.shape, e2.bound, [self.fresh_id()] if e2.shape else [])
            return [f"{n1}, {n2} = {e1.text}, {e2.text}"]
        pairs = [(p, q) for p in self.arrays(env) for q in self.arrays(env)
                 if p < q and env[p].shape == env[q].shape and p not in INPUTS and q not in INPUTS
                 and p not in ctx.protected and q not in ctx.protected]
        if not pairs:
            return None
        p, q = self.pick(pairs)
        env[p], env[q] = env[q], env[p]
        return [f"{p}, {q} = {q}, {p}"]

    # --- helpers ------------------------------------------------------------------------

    def make_helper(self, arg_shapes, ctx):
        """Source of a new helper taking arrays of ``arg_shapes``; returns (name, out spec)."""
        name = f"h{self.helper_count}"
        self.helper_count += 1
        params = ["p", "q", "r"][:len(arg_shapes)]
        env = {p: Var(s, 1.0, [f"{EXTERNAL}_{p}"] if s else []) for p, s in zip(params, arg_shapes)}
        as_lambda = self.chance(0.15)  # name = lambda p, q: expr, at module level
        nout = 1 if as_lambda else self.rng.choices([1, 2], [3, 2])[0]
        one_tuple = nout == 1 and not as_lambda and self.chance(0.3)
        choices = list(arg_shapes) + [(), (3,), (4,)]
        out_shapes = [tuple(self.pick(choices)) for _ in range(nout)]
        hctx = Context("helper", (), 1, out_shapes, ctx.level + 1, params, one_tuple)
        saved = self.size
        self.size = self.rng.randint(1, 4)
        lines = [] if as_lambda else self.block(env, hctx, self.size)
        self.size = saved - 2
        outs = [self.expr_of_shape(env, hctx, s) for s in out_shapes]
        # a result that is an argument (or a view of one) is not the caller's to write into
        aliases = [o.ids is not None and bool(o.ids) for o in outs]
        value = ", ".join(o.text for o in outs)
        if one_tuple:
            value = f"({value},)"
        lines.append(f"return {value}")
        packed = len(params) == 2 and not as_lambda and self.chance(0.3)  # one tuple parameter
        if packed:
            packed = self.pick(["unpacked", "indexed", "dict"])  # (a, b) or {"p": a, "q": b}
            lines[:0] = {"unpacked": ["p, q = pq"], "indexed": ["p = pq[0]", "q = pq[1]"],
                         "dict": ['p = pq["p"]', 'q = pq["q"]']}[packed]
            params = ["pq"]
        src = [f"def {name}({', '.join(params)}):"] + ["    " + line for line in lines]
        if as_lambda:
            src = [f"{name} = lambda {', '.join(params)}: {value}"]
        spec = (out_shapes, [o.bound for o in outs], aliases, one_tuple, packed)
        self.helpers.append((name, tuple(arg_shapes), spec, src))
        return name, spec

    def st_call(self, env, ctx):
        reuse = [h for h in self.helpers if self.chance(0.5)]
        if reuse and self.chance(0.3):
            name, arg_shapes, spec, _ = self.pick(reuse)
            args = [self.expr_of_shape(env, ctx, s) for s in arg_shapes]
        else:
            args = [self.expr(env, ctx, 1) for _ in range(self.rng.randint(1, 2))]
            args = [self.squash(Expr(a.text, a.shape, a.bound)) if a.bound <= LIMIT else
                    Expr(f"np.tanh({a.text})", a.shape, 1.0) for a in args]
            name, spec = self.make_helper([a.shape for a in args], ctx)
        out_shapes, bounds, aliases, one_tuple, packed = spec
        scale = max([1.0] + [a.bound for a in args])
        call = f"{name}({', '.join(a.text for a in args)})"
        if packed == "dict":
            call = f'{name}({{"p": {args[0].text}, "q": {args[1].text}}})'
        elif packed:
            call = f"{name}(({', '.join(a.text for a in args)}))"
        new = [n for n in LOCALS if n not in env and n not in ctx.protected]
        if len(new) < len(out_shapes):
            return None
        targets = self.rng.sample(new, len(out_shapes))
        arg_ids = frozenset().union(*(a.ids or frozenset() for a in args))
        for t, s, b, alias in zip(targets, out_shapes, bounds, aliases):
            # s2sad does not write into what a call returned (it may be an argument): neither do we
            ids = (arg_ids | {EXTERNAL + "_call"}) if s else frozenset()
            env[t] = Var(s, min(b * scale, 10 * LIMIT), ids)
        if len(targets) == 1 and not one_tuple:
            return [f"{targets[0]} = {call}"]
        lhs = ", ".join(targets) + ("," if len(targets) == 1 else "")
        if self.chance(0.3):
            tup = self.fresh_name("tp")
            if len(targets) == 2 and self.chance(0.5):
                return [f"{tup} = {call}", f"{targets[0]} = {tup}[0]", f"{targets[1]} = {tup}[1]"]
            return [f"{tup} = {call}", f"{lhs} = {tup}"]
        return [f"{lhs} = {call}"]

    # --- the module ---------------------------------------------------------------------

    def program(self):
        env = {n: Var(s, 1.0, [f"{EXTERNAL}_{n}"] if s else []) for n, s in INPUTS.items()}
        ctx = Context("f")
        lines = []
        while self.size > 0:
            self.size -= 1
            lines += self.statement(env, ctx)
        lines.append(f"return {self.output(env, ctx)}")
        consts = []
        for shape, cname in sorted(self.consts.items(), key=lambda kv: kv[1]):
            values = np.round(np.random.default_rng(len(shape) * 7 + sum(shape)).uniform(-1, 1, shape), 2)
            consts.append(f"{cname} = np.array({values.tolist()!r})")
        text = ["import numpy as np", ""] + consts + ["", ""]
        if "math." in "\n".join(lines + [line for h in self.helpers for line in h[3]]):
            text[:1] = ["import math", "", "import numpy as np"]
        for _, _, _, src in self.helpers:
            text += src + ["", ""]
        text += [f"def f({PARAMS}):"] + ["    " + line for line in lines]
        return "\n".join(text) + "\n"


def draw_args(rng):
    """Inputs drawn uniformly in [-1, 1] (numpy Generator ``rng``)."""
    return tuple(rng.uniform(-1, 1, s) if s else float(rng.uniform(-1, 1)) for s in INPUTS.values()) + (N_VALUE,)


def run_plain(source, args):
    """Run f of ``source`` under plain NumPy (warnings are errors); its value."""
    namespace = {}
    exec(compile(source, "<program>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            f = namespace["f"]
            return f(*call_args(f, [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]))


class _Slow(Exception):
    pass


def _slow(signum, frame):
    raise _Slow()


def is_valid(source, seed, seconds=2.0):
    rng = np.random.default_rng(seed)
    alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if alarm:
        previous = signal.signal(signal.SIGALRM, _slow)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        for _ in range(3):
            out = run_plain(source, draw_args(rng))
            if not (np.ndim(out) == 0 and np.isfinite(out) and abs(out) < 1e4):
                return False
    except (Exception, _Slow):  # noqa: BLE001 - any failure makes the program invalid
        return False
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return True


def generate(seed, size=None):
    """The source of program ``seed``: valid, deterministic in ``seed``."""
    for attempt in range(50):
        rng = random.Random(f"{seed}/{attempt}")
        gen = Generator(rng, size if size is not None else rng.randint(3, 9))
        gen.library = random.Random(f"{seed}/library").random() < library.LIBRARY_SHARE
        gen.repeats = random.Random(f"{seed}/repeats").random() < REPEATS_SHARE
        gen.reads = random.Random(f"{seed}/reads").random() < READS_SHARE
        gen.slots = random.Random(f"{seed}/slots").random() < SLOTS_SHARE
        try:
            source = gen.program()
        except (IndexError, ValueError, KeyError):  # the generator painted itself into a corner
            continue
        if is_valid(source, seed):
            # a fifth with their helpers nested in f, reading f's names (drawn apart)
            if random.Random(f"{seed}/closures").random() < CLOSURES:
                nested = with_closures(source, seed)
                if nested is not None and is_valid(nested, seed):
                    source = nested
            # a fifth with a dict of parameters (drawn apart: the programs themselves stay)
            if random.Random(f"{seed}/params").random() < DICT_PARAMS:
                dicted = with_dict_params(source)
                if is_valid(dicted, seed):
                    source = dicted
            # a quarter of the programs as methods (drawn apart: the other programs stay)
            if random.Random(f"{seed}/methods").random() < METHODS:
                methods = as_methods(source)
                if is_valid(methods, seed):
                    return methods
            return source
    raise RuntimeError(f"no valid program for seed {seed}")


SLOTS_SHARE = 0.4  # the share of programs that may write lists slot by slot (vocabulary.py)
METHODS = 0.25  # the share of programs written as methods of a class (as_methods)
REPEATS_SHARE = 0.3  # the share that may write at an index naming an element twice
READS_SHARE = 0.3  # the share whose loop lists may start with an element and be read by index
DICT_PARAMS = 0.2  # the share whose f takes x and y as one dict of parameters
CLOSURES = 0.2  # the share whose helpers that f alone calls are nested in f (with_closures)
DICT_KEYS = {"w": "x", "b": "y"}  # the dict's keys, and the arguments they stand for


def with_dict_params(source):
    """``source`` with ``f(x, y, z, s, n)`` made ``f(params, z, s, n)`` whose body first reads
    ``x = params["w"]`` and ``y = params["b"]`` (the training-loop idiom)."""
    tree = ast.parse(source)
    names = ", ".join(DICT_KEYS.values())
    reads = [  # by key, or through the dict's views (in the dict's order), by the text's hash
        "\n".join(f'{name} = params["{key}"]' for key, name in DICT_KEYS.items()),
        f"{names} = params.values()",
        f"{names} = [params[key] for key in params.keys()]",
        f"{names} = [value for key, value in params.items()]",
    ]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "f":
            node.args.args = [ast.arg("params")] + node.args.args[len(DICT_KEYS):]
            read = reads[zlib.crc32(source.encode()) % len(reads)]
            node.body[:0] = ast.parse(read).body
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


CLOSURE_READS = ("s", "np.sum(z)", "np.mean(y)")  # what a nested helper reads of f's names


def with_closures(source, seed):
    """``source`` with each ``def`` helper that only ``f`` calls, of plain parameters,
    moved into ``f``'s body (a nested function) and reading one of ``f``'s names, late
    bound (the value it has at the call, after any update of it in ``f``): its first
    parameter ``p`` is scaled first, ``p = p * (1.0 + 0.1 * np.tanh(<read>))``. None if no
    helper qualifies."""
    tree = ast.parse(source)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    f = functions.get("f")
    callers = {}
    for caller in functions.values():
        for node in ast.walk(caller):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                callers.setdefault(node.func.id, set()).add(caller.name)
    moved = [node for name, node in functions.items()
             if name != "f" and callers.get(name) == {"f"} and node.args.args and
             all(a.arg in ("p", "q", "r") for a in node.args.args)]
    if f is None or not moved:
        return None
    pick = random.Random(f"{seed}/closure reads")
    for node in moved:
        read = pick.choice(CLOSURE_READS)
        first = node.args.args[0].arg
        node.body[:0] = ast.parse(f"{first} = {first} * (1.0 + 0.1 * np.tanh({read}))").body
    tree.body = [node for node in tree.body if node not in moved]
    f.body[:0] = moved
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def takes_dict(f):
    """True if ``f`` takes its parameters as one dict (:func:`with_dict_params`)."""
    return "params" in f.__code__.co_varnames[:f.__code__.co_argcount]


def call_args(f, args):
    """``f``'s arguments for the flat ``args`` (x, y, z, s[, n], or their tangents): x and y
    packed into the dict of parameters when ``f`` takes one."""
    if not takes_dict(f):
        return list(args)
    return [dict(zip(DICT_KEYS, args[:len(DICT_KEYS)]))] + list(args[len(DICT_KEYS):])


def as_methods(source):
    """``source`` with ``f`` and its ``def`` helpers made methods of a class ``Model``,
    calling each other as ``self.h(...)``, and ``f = Model().f`` (a bound method, which s2sad
    differentiates with ``self`` bound). Module-level lambdas and constants stay."""
    tree = ast.parse(source)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}

    class Calls(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if isinstance(node.func, ast.Name) and node.func.id in names:
                node.func = ast.Attribute(value=ast.Name("self", ast.Load()), attr=node.func.id,
                                          ctx=ast.Load())
            return node

    body, methods = [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node = Calls().visit(node)
            node.args.args.insert(0, ast.arg("self"))
            methods.append(node)
        else:
            body.append(node)
    body.append(ast.ClassDef(name="Model", bases=[], keywords=[], body=methods,
                             decorator_list=[], type_params=[]))
    body += ast.parse("f = Model().f").body
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))) + "\n"
