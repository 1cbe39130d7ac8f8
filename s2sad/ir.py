"""The SSA intermediate representation and its printer.

Grammar (one statement is one primitive on named operands, the textbook's
``v_k = f_k(parents)``)::

    function := 'def' name '(' params ')' ':' block
    block    := stmt*
    stmt     := Assign | If | For | While | Return
    Assign   := targets '=' prim '(' operand* ',' name '=' operand* ')'
                (array writes, list statements, user calls: subclasses, s2sad.structural;
                 no targets for an effect on a list: list_append(t, v), list_clear(t))
    If       := 'if' operand ':' block 'else' ':' block  merges
                merges: var '=' phi(value from then, value from else)
    For      := 'for' var 'in' operand carried ':' block
    While    := 'while' cond_block operand carried ':' block
                carried: var_in '=' init, updated to var_out each trip
    Return   := 'return' operand
    operand  := Var | Const | Index

Every variable is assigned exactly once. User names are kept and versioned on
reassignment (``z``, ``z_1``, ...); temporaries are ``v1, v2, ...``. Each
statement records the source location it came from (:class:`Loc`), so the
printer, the generated code's comments and the errors can all point at the
user's line. Control flow is structured (regions, not a CFG), in the spirit of
MLIR's scf dialect and of jaxprs: an ``If`` names the values it merges and a
loop names the values it carries, so transforms stay local.

Layer 1 of the package (README, "The pipeline"): imports no s2sad module.
"""

import inspect
import linecache
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Loc:
    """A place in the user's source: file, 1-based line, 0-based column, line text."""

    filename: str
    line: int
    col: int
    text: str = ""
    first_line: int = 0  # the enclosing statement's lines, for statements written on
    end_line: int = 0  # several lines (0: the statement is the one line ``line``)

    @property
    def statement_line(self):
        """The line the enclosing statement starts on: what comments refer to."""
        return self.first_line or self.line

    @property
    def summary(self):
        """The whole enclosing statement on one line, as comments quote it."""
        if not self.first_line or self.end_line <= self.first_line:
            return self.text.strip() if not self.first_line or self.first_line == self.line \
                else linecache.getline(self.filename, self.first_line).strip()
        lines = [linecache.getline(self.filename, n).strip()
                 for n in range(self.first_line, self.end_line + 1)]
        return " ".join(line for line in lines if line)


def def_loc(fn):
    """Where ``def fn`` is (past its decorators; a lambda's own line), or None: the place
    errors about a function as a whole point at."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    try:
        filename = inspect.getsourcefile(fn) or code.co_filename
    except TypeError:
        filename = code.co_filename
    first = code.co_firstlineno
    if getattr(fn, "__name__", None) != "<lambda>":
        for line in range(first, first + 50):
            text = linecache.getline(filename, line)
            if not text:
                break
            if text.lstrip().startswith(("def ", "async def ")):
                return Loc(filename, line, len(text) - len(text.lstrip()), text.rstrip("\n"))
    text = linecache.getline(filename, first)
    return Loc(filename, first, len(text) - len(text.lstrip()), text.rstrip("\n"))


@dataclass(frozen=True)
class Var:
    name: str

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Const:
    """A value known when the function is transformed.

    ``text`` is how generated code spells it (``np.pi``, ``float``); ``name``
    is set for a module-level constant of the user's, which the generated
    module defines under the same name.
    """

    value: Any
    text: Optional[str] = None
    name: Optional[str] = None

    def __str__(self):
        return self.name or self.text or repr(self.value)

    def __eq__(self, other):
        return isinstance(other, Const) and self.text == other.text and self.name == other.name \
            and type(self.value) is type(other.value) and _same(self.value, other.value)

    def __hash__(self):
        return hash((self.text, self.name, type(self.value).__name__))


def _same(a, b):
    try:
        return bool(a == b) if not hasattr(a, "shape") else a is b
    except Exception:
        return a is b


@dataclass(frozen=True)
class Slice:
    """``lower:upper:step`` inside an :class:`Index`; each bound an operand or None."""

    lower: Any = None
    upper: Any = None
    step: Any = None


@dataclass(frozen=True)
class Index:
    """The subscript of an indexing operation: a tuple of parts.

    A part is an operand (int, int array, ``None`` for newaxis, ``Ellipsis``)
    or a :class:`Slice`. ``is_tuple`` tells ``x[i,]``/``x[i, j]`` from ``x[i]``.
    """

    parts: tuple
    is_tuple: bool = False

    def operands(self):
        for p in self.parts:
            if isinstance(p, Slice):
                yield from (b for b in (p.lower, p.upper, p.step) if b is not None)
            else:
                yield p

    def __str__(self):
        def part(p):
            if isinstance(p, Slice):
                s = f"{_opt(p.lower)}:{_opt(p.upper)}"
                return s + (f":{p.step}" if p.step is not None else "")
            if isinstance(p, Const) and p.value is Ellipsis:
                return "..."
            return str(p)
        inner = ", ".join(part(p) for p in self.parts)
        return "[" + inner + ("," if self.is_tuple and len(self.parts) == 1 else "") + "]"


def _opt(x):
    return "" if x is None else str(x)


@dataclass
class Assign:
    """``targets = prim(args, kwargs)``; one target, or several for unpacking.

    ``in_place`` is set (to ``"+="``, ``"np.add.at"``, ...) on the new version
    ``x_1 = x + e`` of the user's ``x += e``: NumPy updates ``x``'s array in
    place where s2sad computes a new value, the same program only where
    :func:`s2sad.memory.check_memory` finds nothing sharing that array read after it.
    """

    targets: tuple
    prim: Any
    args: tuple
    kwargs: dict
    loc: Loc
    in_place: str = ""

    def __post_init__(self):  # a primitive's statements are all of its node class
        if type(self) is not getattr(self.prim, "node", Assign):
            raise TypeError(f"{type(self).__name__} of {self.prim.name}: see s2sad.structural")

    @property
    def target(self):
        (t,) = self.targets
        return t

    def operands(self):
        for a in list(self.args) + list(self.kwargs.values()):
            if isinstance(a, Index):
                yield from a.operands()
            else:
                yield a


@dataclass
class If:
    cond: Any
    then_block: list
    else_block: list
    merges: list  # [(Var, then operand, else operand)]
    loc: Loc


@dataclass
class For:
    """``for target in iterable``; ``carried`` are ``(var, init, out)`` triples: ``var``
    holds ``init`` on entry and ``out`` after each trip (and the last value after the
    loop). ``exits`` are flags tested at the end of a trip (``if flag: break``)."""

    target: Var
    iterable: Any
    carried: list
    body: list
    loc: Loc
    exits: list = field(default_factory=list)


@dataclass
class While:
    """``while cond``: ``cond_block`` computes ``cond`` from the carried values."""

    cond_block: list
    cond: Any
    carried: list
    body: list
    loc: Loc
    exits: list = field(default_factory=list)


@dataclass
class Raise:
    """``raise exc``: a run-time check (e.g. ``if bad: raise ValueError(...)``)."""

    exc: Any
    loc: Loc


@dataclass
class Return:
    value: Any
    loc: Loc


@dataclass
class Param:
    name: str
    default: Any = None  # a Const, or None when the parameter has no default
    has_default: bool = False


@dataclass
class Function:
    """One lowered function: its parameters, body and where it came from."""

    name: str
    params: list
    body: list
    loc: Loc
    output: Any = None  # the operand the function returns
    callees: dict = field(default_factory=dict)  # helper name -> python function
    generated: bool = False  # s2sad's own generated code (see s2sad.lower's ``trusted``)
    guard: tuple = ()  # what its free names meant when lowered (see guards.resolution_guard)

    @property
    def param_names(self):
        return [p.name for p in self.params]


# ----------------------------------------------------------------------------
# printer


def format_function(fn: Function) -> str:
    """Render a function in textbook SSA notation, one statement a line."""
    params = ", ".join(p.name + (f"={p.default}" if p.has_default else "") for p in fn.params)
    lines = [f"def {fn.name}({params}):    # {fn.loc.filename}:{fn.loc.line}"]
    _format_block(fn.body, 1, lines, [None])
    width = max(len(text) for text, _ in lines[1:]) if len(lines) > 1 else 0
    out = [lines[0]]
    for text, comment in lines[1:]:
        out.append(f"{text:<{width}}  # {comment}" if comment else text)
    return "\n".join(out) + "\n"


def _format_block(block, depth, lines, last_line):
    pad = "    " * depth
    for stmt in block:
        comment = _comment(stmt.loc, last_line)
        if isinstance(stmt, Assign):
            lines.append((pad + format_assign(stmt), comment))
        elif isinstance(stmt, Return):
            lines.append((pad + f"return {stmt.value}", comment))
        elif isinstance(stmt, Raise):
            lines.append((pad + f"raise {stmt.exc}", comment))
        elif isinstance(stmt, If):
            lines.append((pad + f"if {stmt.cond}:", comment))
            _format_block(stmt.then_block, depth + 1, lines, last_line)
            if stmt.else_block:
                lines.append((pad + "else:", None))
                _format_block(stmt.else_block, depth + 1, lines, last_line)
            for var, a, b in stmt.merges:
                lines.append((pad + f"{var} = phi({a}, {b})", None))
        elif isinstance(stmt, For):
            carried = ", ".join(f"{v} = {init} -> {out}" for v, init, out in stmt.carried)
            lines.append((pad + f"for {stmt.target} in {stmt.iterable}:  carry({carried})", comment))
            _format_block(stmt.body, depth + 1, lines, last_line)
            for flag in stmt.exits:
                lines.append((pad + f"    exit if {flag}", None))
        elif isinstance(stmt, While):
            carried = ", ".join(f"{v} = {init} -> {out}" for v, init, out in stmt.carried)
            lines.append((pad + f"while:  carry({carried})", comment))
            _format_block(stmt.cond_block, depth + 1, lines, last_line)
            lines.append((pad + f"    test {stmt.cond}", None))
            lines.append((pad + "  do:", None))
            _format_block(stmt.body, depth + 1, lines, last_line)
            for flag in stmt.exits:
                lines.append((pad + f"    exit if {flag}", None))


def _comment(loc, last_line):
    if loc.statement_line == last_line[0]:
        return f"line {loc.statement_line}"
    last_line[0] = loc.statement_line
    return f"line {loc.statement_line}: {loc.summary}"


def format_assign(stmt: Assign) -> str:
    targets = ", ".join(str(t) for t in stmt.targets)
    args = [str(a) for a in stmt.args]
    args += [f"{k}={v}" for k, v in stmt.kwargs.items()]
    call = f"{stmt.prim.name}({', '.join(args)})"
    if stmt.prim.emit[0] == "global":  # SCALE = model.SCALE: read when the code runs
        call = stmt.prim.name
    return f"{targets} = {call}" if targets else call  # no targets: an effect (list_append)


def walk_blocks(block, into_loops=True):
    """Every statement of a block and its nested regions, in program order.

    With ``into_loops=False`` a loop is yielded but its body is not entered.
    """
    for stmt in block:
        yield stmt
        if isinstance(stmt, If):
            yield from walk_blocks(stmt.then_block, into_loops)
            yield from walk_blocks(stmt.else_block, into_loops)
        elif isinstance(stmt, For) and into_loops:
            yield from walk_blocks(stmt.body)
        elif isinstance(stmt, While) and into_loops:
            yield from walk_blocks(stmt.cond_block)
            yield from walk_blocks(stmt.body)
