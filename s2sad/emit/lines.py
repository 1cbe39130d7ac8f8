"""Long lines of generated code broken within :data:`WIDTH` columns: :func:`wrapped` breaks
a line after the commas (else before the operators, the loosest first) of its outermost
brackets, continuation lines aligned with the bracket they are in; :func:`breaks` tells
where a text may be broken. Strings are never broken.

Part of :mod:`s2sad.emit` (layer 5), for :mod:`s2sad.emit.writer`.
"""

WIDTH = 79

_OPEN, _CLOSE = "([{", ")]}"
# a break before an operator that binds less tightly is taken first (after a comma's)
_OPERATORS = {" for ": 0.05, " if ": 0.1, " else ": 0.1, " or ": 0.2, " and ": 0.3, " | ": 0.4, " & ": 0.4,
              " + ": 0.5, " - ": 0.5, " * ": 0.6, " @ ": 0.6, " / ": 0.6, " // ": 0.6,
              " % ": 0.6, " ** ": 0.7}
_OPERATOR_HEADS = tuple(_OPERATORS)


def breaks(text, start):
    """Where ``text`` may be broken: ``[(position, depth), ...]`` of the character a new
    line would start with, after each comma (depth of its bracket) or before each binary
    operator (its depth plus a fraction, :data:`_OPERATORS`), strings skipped; positions below
    ``start`` are not looked at."""
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
    break, the shallowest break that keeps the line within the width (the last of them),
    the next line aligned one column after the bracket the break is in, or if that is
    past :data:`_ALIGN_UNTIL`, 8 columns right of the line's indentation."""
    if len(line) <= WIDTH:
        return [line]
    found = [(p, d) for p, d in breaks(line, start) if d >= 1]
    if not found:
        return [line]
    inner = _brackets(line)
    column = {}  # a bracket's position in line -> its column as written
    out, begin, indent = [], 0, 0
    while indent + len(line) - begin > WIDTH:
        ahead = [(p, d) for p, d in found if p > begin and inner[p] >= 0]
        fitting = [(p, d) for p, d in ahead if indent + p - begin <= WIDTH + 1]
        if not fitting:
            fitting = ahead[:1]
        if not fitting:
            break
        shallowest = min(d for _, d in fitting)
        cut = max(p for p, d in fitting if d == shallowest)
        for k in range(begin, cut):
            if line[k] in _OPEN:
                column[k] = indent + k - begin
        out.append(" " * indent + line[begin:cut].rstrip())
        bracket = inner[cut]
        begin, indent = cut, column[bracket] + 1
        if indent > _ALIGN_UNTIL:
            indent = len(line) - len(line.lstrip()) + 8
    out.append(" " * indent + line[begin:])
    return out
