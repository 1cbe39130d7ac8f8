"""More statements for the random programs (:mod:`tests.programs.generator`): Python lists
written slot by slot, as users keep the states of a recurrence::

    S7 = [np.tanh(x[0]) * 0.5, y * s, np.sin(y)]    # arrays of one shape, or numbers
    for i in range(1, 3):
        S7[i] = np.tanh(S7[i - 1] * 0.5) + S7[i]     # read the slot before, write one
    S7[0] = S7[2] * s                                # a write outside a loop
    d = np.stack(S7)[-1]                             # the list read back: stacked, summed, ...

A list of Python numbers (``[0.5, s * 2.0, 1.0]``) is updated with ``+=`` too
(``S7[i] += ...`` rebinds the slot: a number is never changed in place). A mixin of
:class:`tests.programs.generator.Generator`: it uses its ``expr``, ``pick`` and ``chance``.
"""

SLOTS = 3  # elements of a list written by slots


class Statements:
    """Statements of the mixin (see the module docstring)."""

    def st_slots(self, env, ctx):
        from_env = self._slot_elements(env, ctx)
        if from_env is None:
            return None
        shape, elements, bound = from_env
        lst = self.fresh_name("S")
        lines = [f"{lst} = [{', '.join(elements)}]"]
        i = self.pick([n for n in ("i", "j", "k") if n not in env] or [None])
        if i is not None and self.chance(0.8):
            lines += self._slot_loop(lst, i, shape, ctx.fn == "f")
        if self.chance(0.5) or i is None:
            k = self.rng.randrange(SLOTS)
            other = self.rng.randrange(SLOTS)
            scale = self._slot_scale(env)
            lines.append(f"{lst}[{k}] = np.tanh({lst}[{other}] * {scale})"
                         if shape or self.chance(0.5) else f"{lst}[{k}] = {lst}[{other}] * {scale}")
        res = self.pick([n for n in self.local_names if n not in env] or [None])
        if res is None:
            return lines
        how = self.pick([f"np.stack({lst})[-1]", f"np.sum(np.stack({lst}), axis=0)", f"{lst}[-1]",
                         f"sum({lst})", f"np.mean(np.array({lst}), axis=0)", f"{lst}[1] * {lst}[2]"])
        lines.append(f"{res} = {how}")
        total = 4 * bound * (SLOTS if "sum" in how else bound if "*" in how else 1)  # (generous)
        env[res] = self.var_class(shape, total, [self.fresh_id()] if shape else [])
        return lines

    def _slot_elements(self, env, ctx):
        """``(shape, element texts, bound)``: three arrays of one shape, fresh (the generator
        may update slots with ``+=``: no element is an argument), or numbers."""
        if self.chance(0.35):
            e = self.scalar(env, ctx)
            if e.bound > 4:
                e = self.squash_to(e, 1.0)
            items = [self.pick(["0.5", "1.0", "-0.3"]), f"{e.text} * 0.5", self.pick(["0.25", "2.0"])]
            self.rng.shuffle(items)
            return (), items, max(2.0, e.bound)
        first = self.expr(env, ctx, 2)
        if not first.shape:
            return None
        shape = first.shape
        rest = [self.expr_of_shape(env, ctx, shape) for _ in range(SLOTS - 1)]
        elements = [f"np.tanh({e.text})" if e.bound > 2 else f"{e.text} * 1.0" if
                    e.text.isidentifier() else e.text for e in [first] + rest]
        return shape, elements, max(1.0, min(2.0, max(e.bound for e in [first] + rest)))

    def _slot_loop(self, lst, i, shape, in_f):
        """A loop writing slot ``i`` from the one before (a recurrence) or the one after;
        ``in_f``: in ``f``, whose parameter ``n`` a loop may run to (a helper has none)."""
        header = self.pick([f"for {i} in range(1, {SLOTS}):",
                            f"for {i} in range({'n' if in_f else SLOTS + 1}):",
                            f"for {i} in range({SLOTS - 1}, 0, -1):"])
        index = f"{i} % {SLOTS}" if header.endswith(f"range({'n' if in_f else SLOTS + 1}):") \
            else i
        before = f"{lst}[({i} + {SLOTS - 1}) % {SLOTS}]"
        op = self.pick(["=", "=", "+="] if not shape else ["=", "="])
        if op == "+=":
            return [header, f"    {lst}[{index}] += 0.5 * np.tanh({before})"]
        value = self.pick([f"np.tanh({before} * 0.5) + {lst}[{index}] * 0.5",
                           f"np.sin({before}) * {lst}[{index}]",
                           f"0.5 * ({before} + {lst}[{index}])"])
        return [header, f"    {lst}[{index}] = {value}"]

    def _slot_scale(self, env):
        scalars = sorted(n for n, v in env.items() if v.kind == "arr" and not v.shape)
        return self.pick(scalars + ["0.5", "-0.7"]) if scalars else "0.5"

    @staticmethod
    def squash_to(e, bound):
        return type(e)(f"np.tanh({e.text})", e.shape, bound)
