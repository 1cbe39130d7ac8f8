"""Desugaring: ``break``, ``continue`` and early ``return`` become flags and guards.

The SSA IR has structured regions only, so before lowering, jumps are
rewritten the way TensorFlow's AutoGraph does it::

    for i in range(n):              broke1 = False
        a = f(a)                    for i in range(n):
        if a > 9:          -->          a = f(a)
            break                       if a > 9:
        b = g(a)                            broke1 = True
                                        if not broke1:
                                            b = g(a)
                                        if broke1:
                                            break

The statements after one that may set a flag are guarded by ``if not flag``;
a loop that may be left early ends its body with ``if flag: break``, which
the lowering turns into the loop's exit condition (the only ``break`` the IR
knows). ``continue`` sets a flag reset at the top of each trip; ``return v``
inside a region sets ``result = v; returned = True`` and the function ends
with ``return result``. A function with a single ``return`` as its last
statement is left alone.

Layer 3 (front end), between :mod:`s2sad.parse` and :mod:`s2sad.lower`.
"""

import gast

from .astutil import Kinds, unique_name, walk


def _name(identifier, store=False):
    return gast.Name(id=identifier, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def _located(stmt, node):
    """``stmt`` placed at ``node``'s source position, children included."""
    gast.copy_location(stmt, node)
    for child in walk(stmt):
        if getattr(child, "lineno", None) is None and "lineno" in child._attributes:
            gast.copy_location(child, node)
    stmt.end_lineno = stmt.lineno  # a generated statement is quoted by one line of its origin
    return stmt


def _set(flag, value, node):
    stmt = gast.Assign(targets=[_name(flag, store=True)],
                       value=gast.Constant(value=value, kind=None), type_comment=None)
    return _located(stmt, node)


def _if(test, body, node, orelse=None):
    return _located(gast.If(test=test, body=body, orelse=orelse or []), node)


def _not(flag):
    return gast.UnaryOp(op=gast.Not(), operand=_name(flag))


def _contains(nodes, kinds, stop=(gast.For, gast.While)):
    """True if a statement of ``kinds`` occurs in ``nodes`` outside nested loops in ``stop``."""
    for node in nodes:
        if isinstance(node, kinds):
            return True
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        if isinstance(node, stop):
            if kinds == (gast.Return,) and _contains(node.body + node.orelse, kinds, stop):
                return True
            continue
        for field in ("body", "orelse", "handlers", "finalbody"):
            if _contains(getattr(node, field, []) or [], kinds, stop):
                return True
    return False


class Desugar:
    def __init__(self, fn_node, used_names):
        self.fn = fn_node
        self.used = set(used_names)
        self.count = 0
        self.return_flag = None
        self.result = None

    def fresh(self, base):
        self.count += 1
        name = f"{base}{self.count}"
        while name in self.used:
            self.count += 1
            name = f"{base}{self.count}"
        self.used.add(name)
        return name

    def unique(self, name):
        return unique_name(name, self.used)

    def run(self):
        body = self.fn.body
        returns_inside = _contains(body[:-1], (gast.Return,)) or (
            body and not isinstance(body[-1], gast.Return) and _contains(body, (gast.Return,)))
        if returns_inside:
            self.return_flag = self.unique("returned")
            self.result = self.unique("result")
            first = body[0]
            prologue = [_set(self.return_flag, False, first), _set(self.result, None, first)]
            new_body, _ = self.block(body, loop=None)
            last = body[-1]
            ret = _located(gast.Return(value=_name(self.result)), last)
            self.fn.body = prologue + new_body + [ret]
        else:
            self.fn.body, _ = self.block(body, loop=None)
        return self.fn

    def block(self, stmts, loop):
        """Rewrite a statement list; return it and the flags it may set."""
        out, flags = [], []
        for i, stmt in enumerate(stmts):
            new, set_here = self.statement(stmt, loop)
            out += new
            if set_here is None:  # an unconditional jump: the rest is unreachable
                return out, flags + [f for f in self._jump_flags(stmt, loop) if f not in flags]
            pending = [f for f in set_here if f not in flags]
            flags += pending
            if set_here and i + 1 < len(stmts):
                rest, rest_flags = self.block(stmts[i + 1:], loop)
                flags += [f for f in rest_flags if f not in flags]
                if rest:
                    guarded = rest
                    for flag in reversed(set_here):
                        guarded = [_if(_not(flag), guarded, stmts[i + 1])]
                    out += guarded
                return out, flags
        return out, flags

    def _jump_flags(self, stmt, loop):
        if isinstance(stmt, gast.Break):
            return [loop["break"]]
        if isinstance(stmt, gast.Continue):
            return [loop["continue"]]
        return [self.return_flag]

    def statement(self, stmt, loop):
        """``(statements, flags)``; flags None means an unconditional jump."""
        if isinstance(stmt, gast.Break):
            if loop is None:  # pragma: no cover - python rejects it first
                raise SyntaxError("'break' outside loop")
            loop["break"] = loop["break"] or self.fresh("broke")
            return [_set(loop["break"], True, stmt)], None
        if isinstance(stmt, gast.Continue):
            loop["continue"] = loop["continue"] or self.fresh("skipped")
            return [_set(loop["continue"], True, stmt)], None
        if isinstance(stmt, gast.Return) and self.return_flag is not None:
            value = stmt.value if stmt.value is not None else gast.Constant(value=None, kind=None)
            assign = _located(gast.Assign(targets=[_name(self.result, store=True)],
                                          value=value, type_comment=None), stmt)
            return [assign, _set(self.return_flag, True, stmt)], None
        if isinstance(stmt, gast.If):
            body, f1 = self.block(stmt.body, loop)
            orelse, f2 = self.block(stmt.orelse, loop)
            stmt.body, stmt.orelse = body or [gast.Pass()], orelse
            return [stmt], f1 + [f for f in f2 if f not in f1]
        if isinstance(stmt, (gast.For, gast.While)):
            if stmt.orelse:
                return [stmt], []  # the lowering reports for/while ... else
            inner = {"break": None, "continue": None}
            body, flags = self.block(stmt.body, inner)
            prologue, epilogue = [], []
            if inner["continue"]:
                body = [_set(inner["continue"], False, stmt.body[0])] + body
            if inner["break"]:
                prologue.append(_set(inner["break"], False, stmt))
                epilogue.append(_if(_name(inner["break"]), [gast.Break()], stmt))
            outer = [f for f in flags if f == self.return_flag]
            if outer:
                epilogue.append(_if(_name(self.return_flag), [gast.Break()], stmt))
            stmt.body = body + epilogue
            return prologue + [stmt], outer
        return [stmt], []


def desugar(fn_node, used_names, kinds=None):
    """Rewrite ``fn_node`` (a gast FunctionDef) in place; see the module docstring.
    ``kinds``: its :class:`~s2sad.astutil.Kinds`, told when the tree changes."""
    kinds = kinds or Kinds(fn_node)
    if len(kinds(gast.FunctionDef)) == 1 and not kinds(gast.Lambda, gast.ClassDef):
        # (no nested function, whose returns are its own: each node of these kinds counts)
        rewritten = kinds(gast.Break, gast.Continue) or any(
            node is not fn_node.body[-1] for node in kinds(gast.Return))
    else:
        rewritten = _contains(fn_node.body, (gast.Break, gast.Continue), stop=()) or \
            _contains(fn_node.body[:-1], (gast.Return,), stop=()) or \
            _contains(fn_node.body[-1:], (gast.Return,), stop=()) and \
            not isinstance(fn_node.body[-1], gast.Return)
    if not rewritten:  # (a return anywhere but last, a break or a continue: rewritten)
        return fn_node
    node = Desugar(fn_node, used_names).run()
    kinds.stale()
    return node
