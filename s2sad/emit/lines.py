"""Long lines of generated code broken within :data:`WIDTH` columns: :func:`wrapped` breaks
a line after the commas (else before the operators, the loosest first, or right after a
call's bracket) of its outermost brackets, continuation lines aligned with the bracket they
are in (or 4 columns in, after a call's bracket); :func:`breaks` tells where a text may be
broken. Strings are never broken.

Part of :mod:`s2sad.emit` (layer 5), for :mod:`s2sad.emit.writer`.
"""

WIDTH = 79

_OPEN, _CLOSE = "([{", ")]}"
# a break before an operator that binds less tightly is taken first (after a comma's)
_OPERATORS = {" for ": 0.05, " if ": 0.1, " else ": 0.1, " or ": 0.2, " and ": 0.3, " | ": 0.4, " & ": 0.4,
              " + ": 0.5, " - ": 0.5, " * ": 0.6, " @ ": 0.6, " / ": 0.6, " // ": 0.6,
              " % ": 0.6, " ** ": 0.7}
_OPERATOR_HEADS = tuple(_OPERATORS)
_CLOSE_HEADS = tuple(_CLOSE)


def breaks(text, start):
    """Where ``text`` may be broken: ``[(position, depth), ...]`` of the character a new
    line would start with, after each comma or a call's (or subscript's) opening bracket
    (the depth inside the bracket) or before each binary operator (its depth plus a fraction, :data:`_OPERATORS`),
    strings skipped; positions below ``start`` are not looked at."""
    found, depth, quote, k = [], 0, None, 0
    while k < len(text):
        char = text[k]
        if quote:
            if char == "\\":
                k += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            depth += 1
            if k > start and _is_call(text, k) and not text.startswith(_CLOSE_HEADS, k + 1):
                found.append((k + 1, depth))
        elif char in _CLOSE:
            depth -= 1
        elif k >= start:
            if char == "," and text.startswith(" ", k + 1):
                found.append((k + 2, depth))
            elif char == " " and text.startswith(_OPERATOR_HEADS, k):
                operator = text[k:text.index(" ", k + 1) + 1]
                found.append((k + 1, depth + _OPERATORS[operator]))
        k += 1
    return found


def _is_call(text, k):
    """Whether the bracket at ``k`` opens a call's arguments or a subscript (not a tuple,
    a list or parentheses of their own)."""
    before = text[k - 1]
    return before.isalnum() or before in "_)]"


def _brackets(text):
    """The position of the innermost open bracket at each position of ``text`` (-1 at depth
    0), strings skipped."""
    inner, stack, quote, k = [-1] * (len(text) + 1), [], None, 0
    while k < len(text):
        char = text[k]
        inner[k] = stack[-1] if stack else -1
        if quote:
            if char == "\\":
                k += 1
                inner[k] = inner[k - 1]
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            stack.append(k)
        elif char in _CLOSE and stack:
            stack.pop()
        k += 1
    inner[len(text)] = stack[-1] if stack else -1
    return inner


_ALIGN_UNTIL = WIDTH - 32


def wrapped(line, start):
    """``line`` broken into lines of at most :data:`WIDTH` columns where it can be: at each
    break, the shallowest break that keeps the line within the width (the last of them).
    After a comma or before an operator, the next line is aligned one column after the
    bracket the break is in, or if that is past :data:`_ALIGN_UNTIL`, 8 columns right of
    the line's indentation; right after an opening bracket (a hanging indent), 4 columns
    right of it (8 for a header ending with ``:``), and so are the next lines inside that
    bracket."""
    if len(line) <= WIDTH:
        return [line]
    found = [(p, d) for p, d in breaks(line, start) if d >= 1]
    if not found:
        return [line]
    inner = _brackets(line)
    column = {}  # a bracket's position in line -> the column its next lines align after
    opened_at = {}  # a bracket's position in line -> the indentation of the line it is on
    margin = len(line) - len(line.lstrip())
    hanging = 8 if line.endswith(":") else 4
    out, begin, indent = [], 0, 0
    while indent + len(line) - begin > WIDTH:
        ahead = [(p, d) for p, d in found if p > begin and inner[p] >= 0]
        fitting = [(p, d) for p, d in ahead  # (the piece's space before p is dropped)
                   if indent + p - begin - (line[p - 1] == " ") <= WIDTH]
        if not fitting:
            fitting = ahead[:1]
        if not fitting:
            break
        shallowest = min(d for _, d in fitting)
        cut = max(p for p, d in fitting if d == shallowest)
        for k in range(begin, cut):
            if line[k] in _OPEN:
                column[k] = indent + k - begin
                opened_at[k] = indent if begin else margin
        out.append(" " * indent + line[begin:cut].rstrip())
        bracket = inner[cut]
        if cut == bracket + 1:  # its next lines are indented from the line it opens on
            column[bracket] = opened_at[bracket] + hanging - 1
        begin, indent = cut, column[bracket] + 1
        if indent > _ALIGN_UNTIL:
            indent = margin + 8
    out.append(" " * indent + line[begin:])
    return out
