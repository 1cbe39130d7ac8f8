"""Python source for generated gast trees: :func:`write_function` writes a function
definition in one pass over the tree, with the fewest parentheses Python's precedence
allows, comment placeholders (:func:`s2sad.emit.nodes.comment`) as ``# text`` lines, and
lines longer than 79 columns broken by :func:`s2sad.emit.lines.wrapped`.

Generated code is made of a small set of node kinds (names, constants, calls, operators,
subscripts, assignments, loops and branches); a node of any other kind (a lambda, a
comprehension in a user's helper) is written by :func:`ast.unparse`.

Part of :mod:`s2sad.emit` (layer 5): :func:`s2sad.emit.render.to_source` calls it.
"""

import ast

import gast

from .lines import WIDTH, breaks, wrapped
from .nodes import COMMENT_PREFIX

# binding strength: a child binding less tightly than its context is parenthesised
_TUPLE, _TEST, _OR, _AND, _NOT, _CMP = 0, 2, 3, 4, 5, 6
_BOR, _BXOR, _BAND, _SHIFT, _ARITH, _TERM, _UNARY, _POWER, _ATOM = range(7, 16)

_BINARY = {gast.Add: ("+", _ARITH), gast.Sub: ("-", _ARITH), gast.Mult: ("*", _TERM),
           gast.MatMult: ("@", _TERM), gast.Div: ("/", _TERM), gast.FloorDiv: ("//", _TERM),
           gast.Mod: ("%", _TERM), gast.Pow: ("**", _POWER), gast.LShift: ("<<", _SHIFT),
           gast.RShift: (">>", _SHIFT), gast.BitOr: ("|", _BOR), gast.BitXor: ("^", _BXOR),
           gast.BitAnd: ("&", _BAND)}
_UNARY_OPS = {gast.USub: "-", gast.UAdd: "+", gast.Invert: "~", gast.Not: "not "}
_COMPARE = {gast.Eq: "==", gast.NotEq: "!=", gast.Lt: "<", gast.LtE: "<=", gast.Gt: ">",
            gast.GtE: ">=", gast.Is: "is", gast.IsNot: "is not", gast.In: "in",
            gast.NotIn: "not in"}


def write_function(node, comments, written=None):
    """The text of a gast FunctionDef (or any statement), ending with a newline.

    ``written`` (a dict, empty at first) keeps the lines of each statement written, by
    ``id``, for the next functions of one module: a statement several functions hold
    (``value_and_grad_f`` holds ``grad_f``'s) is written once. It holds the statements
    too (an id is not reused while they live); they must not change while it is used.
    """
    lines = []
    _Writer(comments, lines, {} if written is None else written).statement(node, "")
    return "\n".join(lines) + "\n"


def expression(node):
    """The text of a gast expression, as it would be written on its own."""
    return _expr(node, _TUPLE)


def _expr(node, context):
    """``node``'s text, parenthesised if it binds less tightly than ``context``."""
    write = _EXPRESSIONS.get(type(node), _unparsed)
    text, strength = write(node)
    return f"({text})" if strength < context else text


def _unparsed(node):
    """A node generated code seldom holds, by :func:`ast.unparse`: comprehensions and
    f-strings are bracketed or quoted (atoms), anything else is parenthesised."""
    text = ast.unparse(gast.gast_to_ast(node))
    if isinstance(node, (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp,
                         gast.JoinedStr)):
        return text, _ATOM
    return f"({text})", _ATOM


def _name(node):
    return node.id, _ATOM


def _constant(node):
    value = node.value
    if value is Ellipsis:
        return "...", _ATOM
    text = repr(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if text in ("inf", "-inf", "nan"):
            return f"({ast.unparse(ast.Constant(value))})", _ATOM
        return text, (_UNARY if text.startswith("-") else _ATOM)
    return text, _ATOM


def _attribute(node):
    value = node.value
    text = _expr(value, _ATOM)
    if isinstance(value, gast.Constant) and isinstance(value.value, (int, float)) and \
            not text.startswith("("):
        text = f"({text})"  # (1).real, not 1.real
    return f"{text}.{node.attr}", _ATOM


def _subscript(node):
    return f"{_expr(node.value, _ATOM)}[{_index(node.slice)}]", _ATOM


def _index(node):
    if isinstance(node, gast.Tuple) and node.elts:
        parts = [_index_part(e) for e in node.elts]
        return parts[0] + "," if len(parts) == 1 else ", ".join(parts)
    return _index_part(node)


def _index_part(node):
    if isinstance(node, gast.Slice):
        lower = "" if node.lower is None else _expr(node.lower, _TEST)
        upper = "" if node.upper is None else _expr(node.upper, _TEST)
        text = f"{lower}:{upper}"
        return text if node.step is None else f"{text}:{_expr(node.step, _TEST)}"
    if isinstance(node, gast.Starred):
        return _starred(node)[0]
    return _expr(node, _TEST)


def _slice(node):
    return _index_part(node), _ATOM


def _elements(elts):
    return ", ".join(_starred(e)[0] if isinstance(e, gast.Starred) else _expr(e, _TEST)
                     for e in elts)


def _tuple(node):
    if not node.elts:
        return "()", _ATOM
    text = _elements(node.elts)
    return (text + "," if len(node.elts) == 1 else text), _TUPLE


def _list(node):
    return f"[{_elements(node.elts)}]", _ATOM


def _set(node):
    return "{" + _elements(node.elts) + "}", _ATOM


def _dict(node):
    items = [f"**{_expr(v, _BOR)}" if k is None else f"{_expr(k, _TEST)}: {_expr(v, _TEST)}"
             for k, v in zip(node.keys, node.values)]
    return "{" + ", ".join(items) + "}", _ATOM


def _starred(node):
    return f"*{_expr(node.value, _BOR)}", _ATOM


def _call(node):
    args = [_starred(a)[0] if isinstance(a, gast.Starred) else _expr(a, _TEST)
            for a in node.args]
    if len(args) == 1 and not node.keywords and isinstance(node.args[0], gast.GeneratorExp):
        args[0] = args[0][1:-1]  # sum(x for x in xs)
    args += [f"**{_expr(k.value, _TEST)}" if k.arg is None else f"{k.arg}={_expr(k.value, _TEST)}"
             for k in node.keywords]
    return f"{_expr(node.func, _ATOM)}({', '.join(args)})", _ATOM


def _binop(node):
    symbol, strength = _BINARY[type(node.op)]
    if strength == _POWER:  # right-associative; a unary operand on the right needs none
        left = _expr(node.left, _POWER + 1)
        right = _expr(node.right, _UNARY)
    else:
        left = _expr(node.left, strength)
        right = _expr(node.right, strength + 1)
    return f"{left} {symbol} {right}", strength


def _unaryop(node):
    op = type(node.op)
    if op is gast.Not:
        return f"not {_expr(node.operand, _NOT)}", _NOT
    return f"{_UNARY_OPS[op]}{_expr(node.operand, _UNARY)}", _UNARY


def _boolop(node):
    strength = _AND if isinstance(node.op, gast.And) else _OR
    word = " and " if strength == _AND else " or "
    return word.join(_expr(v, strength + 1) for v in node.values), strength


def _compare(node):
    parts = [_expr(node.left, _CMP + 1)]
    for op, right in zip(node.ops, node.comparators):
        parts += [_COMPARE[type(op)], _expr(right, _CMP + 1)]
    return " ".join(parts), _CMP


def _ifexp(node):
    return (f"{_expr(node.body, _TEST + 1)} if {_expr(node.test, _TEST + 1)} "
            f"else {_expr(node.orelse, _TEST)}"), _TEST


_EXPRESSIONS = {gast.Name: _name, gast.Constant: _constant, gast.Attribute: _attribute,
                gast.Subscript: _subscript, gast.Slice: _slice, gast.Tuple: _tuple,
                gast.List: _list, gast.Set: _set, gast.Dict: _dict, gast.Starred: _starred,
                gast.Call: _call, gast.BinOp: _binop, gast.UnaryOp: _unaryop,
                gast.BoolOp: _boolop, gast.Compare: _compare, gast.IfExp: _ifexp}


class _Writer:
    """Appends the lines of statements to ``lines`` (``written``: see
    :func:`write_function`)."""

    def __init__(self, comments, lines, written):
        self.comments = comments
        self.lines = lines
        self.written = written

    def statement(self, node, indent):
        known = self.written.get(id(node))
        if known is not None and known[1] == indent:
            self.lines += known[2]
            return
        first = len(self.lines)
        write = getattr(self, f"_{type(node).__name__}", None)
        if write is None:
            for line in ast.unparse(gast.gast_to_ast(node)).splitlines():
                self.lines.append(indent + line)
        else:
            write(node, indent)
        self.written[id(node)] = node, indent, self.lines[first:]  # (kept: no id reused)

    def block(self, stmts, indent):
        for k, stmt in enumerate(stmts):
            if k and isinstance(stmt, gast.FunctionDef) and self.lines[-1].strip():
                self.lines.append("")
            self.statement(stmt, indent)

    def line(self, indent, head, value=None, tail="", start=None):
        """``indent + head + value + tail``, broken within ``value`` (from column ``start``
        if given) if it is too long."""
        if value is None:
            self.lines.append(indent + head + tail)
            return
        text = _expr(value, _TUPLE)
        start = len(indent) + len(head) if start is None else start
        line = indent + head + text + tail
        if len(line) > WIDTH and any(depth < 1 for _, depth in breaks(text, 0)):
            line = f"{indent}{head}({text}){tail}"  # its outermost commas or operators
        self.lines += wrapped(line, start)      # are where it is best broken

    def _FunctionDef(self, node, indent):
        for decorator in node.decorator_list:
            self.line(indent, "@", decorator)
        self.lines.append(f"{indent}def {node.name}({_arguments(node.args)}):")
        body = node.body
        if body and _is_docstring(body[0]):
            text = body[0].value.value
            quoted = repr(text) if '"""' in text or "\\" in text else f'"""{text}"""'
            self.lines.append(f"{indent}    {quoted}")
            body = body[1:]
            if body and isinstance(body[0], gast.FunctionDef):
                self.lines.append("")
        self.block(body, indent + "    ")

    def _Return(self, node, indent):
        self.line(indent, "return" if node.value is None else "return ", node.value)

    def _Assign(self, node, indent):
        head = "".join(_expr(t, _TUPLE) + " = " for t in node.targets)
        if len(indent) + len(head) > WIDTH // 2 and \
                any(isinstance(t, gast.Tuple) and t.elts for t in node.targets) and \
                len(indent) + len(head) + len(_expr(node.value, _TUPLE)) > WIDTH:
            head = "".join(_expr(t, _ATOM) + " = " for t in node.targets)  # (a, b) = ...
            self.line(indent, head, node.value, start=len(indent))
        else:
            self.line(indent, head, node.value)

    def _AugAssign(self, node, indent):
        self.line(indent, f"{_expr(node.target, _TUPLE)} {_BINARY[type(node.op)][0]}= ",
                  node.value)

    def _Expr(self, node, indent):
        value = node.value
        if isinstance(value, gast.Name) and value.id.startswith(COMMENT_PREFIX):
            comment = self.comments[int(value.id[len(COMMENT_PREFIX):])]
            self.lines.append(f"{indent}# {comment}")
        else:
            self.line(indent, "", value)

    def _If(self, node, indent, keyword="if"):
        self.line(indent, f"{keyword} ", node.test, ":")
        self.block(node.body, indent + "    ")
        orelse = node.orelse
        if len(orelse) == 1 and isinstance(orelse[0], gast.If):
            self._If(orelse[0], indent, "elif")
        elif orelse:
            self.lines.append(f"{indent}else:")
            self.block(orelse, indent + "    ")

    def _For(self, node, indent):
        self.line(indent, f"for {_expr(node.target, _TUPLE)} in ", node.iter, ":")
        self._body_else(node, indent)

    def _While(self, node, indent):
        self.line(indent, "while ", node.test, ":")
        self._body_else(node, indent)

    def _body_else(self, node, indent):
        self.block(node.body, indent + "    ")
        if node.orelse:
            self.lines.append(f"{indent}else:")
            self.block(node.orelse, indent + "    ")

    def _Pass(self, node, indent):
        self.lines.append(indent + "pass")

    def _Break(self, node, indent):
        self.lines.append(indent + "break")

    def _Continue(self, node, indent):
        self.lines.append(indent + "continue")

    def _Raise(self, node, indent):
        if node.exc is None:
            self.lines.append(indent + "raise")
        elif node.cause is None:
            self.line(indent, "raise ", node.exc)
        else:
            self.line(indent, "raise ", node.exc, f" from {_expr(node.cause, _TEST)}")

    def _Assert(self, node, indent):
        tail = "" if node.msg is None else f", {_expr(node.msg, _TEST)}"
        self.line(indent, "assert ", node.test, tail)


def _is_docstring(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant) and \
        isinstance(stmt.value.value, str)


def _arguments(args):
    """The parameter list of a gast ``arguments``."""
    positional = list(getattr(args, "posonlyargs", None) or []) + list(args.args)
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = [a.id if d is None else f"{a.id}={_expr(d, _TEST)}"
             for a, d in zip(positional, defaults)]
    if args.posonlyargs:
        parts.insert(len(args.posonlyargs), "/")
    if args.vararg is not None:
        parts.append(f"*{args.vararg.id}")
    elif args.kwonlyargs:
        parts.append("*")
    parts += [a.id if d is None else f"{a.id}={_expr(d, _TEST)}"
              for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg is not None:
        parts.append(f"**{args.kwarg.id}")
    return ", ".join(parts)
