"""Inlining at the calls: expressions walked for calls, and a callee's body copied in.

:class:`_Calls` walks an expression (``expr``), turning a call of a known function
into its inlined body: statements appended to ``pre`` and the expression that
replaces the call (``call``, ``inline``); its arguments are bound to the callee's
fresh parameter names or substituted when trivial (``bind``). A call inside a branch
of ``a if c else b`` or a later operand of ``and``/``or`` becomes an ``if``
statement (``conditional``, ``boolean``); a function used as a value is a located
error (``refuse_function_args``). A mixin of :class:`s2sad.inline.inliner._Inliner`: it reads and writes the inliner's state.

Layer 3 (front end), inside :mod:`s2sad.inline`.
"""

import copy

import gast

from ..astutil import walk
from ..desugar import desugar
from ..parse import dotted_chain, parse_function
from .scopes import (_ARGUMENTS_HINT, _BadDefault, _Fn, _Renamer, _assign, _inner_scope_names,
                     _is_function_object, _locals, _located, _name, _names_in, _params,
                     _spelled_defaults, _stored, _trivial, default_values)


class _Calls:
    """Expressions and calls (see the module's docstring)."""

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node, pre):
        """``node`` with inlined calls replaced; statements they need are appended to ``pre``."""
        if isinstance(node, gast.Lambda):
            raise self.error(node, "s2sad supports a lambda that is called, assigned to a name "
                                   "(and called), or passed to a function defined in the same "
                                   "file, not a lambda used as a value here",
                             "Call it, or pass it to your own helper function.")
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            if node.id in self.env:
                raise self.error(node, f"{node.id} is a nested function; s2sad inlines its "
                                       f"calls and cannot use it as a value here",
                                 f"Call {node.id}, or pass it to your own helper function "
                                 f"defined in the same file.")
            if node.id in self.pending:
                raise self.error(node, f"{node.id} is used before its definition "
                                       f"(line {self.p.loc(self.pending[node.id]).line})",
                                 f"Define {node.id} before this line.")
            return node
        if isinstance(node, gast.Call):
            if self.inlinable(node):
                value, ret = self.call(node, pre)
                return value
            node.func = self.expr(node.func, pre)
            self.refuse_function_args(node)
            node.args = [self.expr(a, pre) for a in node.args]
            for k in node.keywords:
                k.value = self.expr(k.value, pre)
            return node
        if isinstance(node, gast.IfExp):
            return self.conditional(node, pre)
        if isinstance(node, gast.BoolOp):
            return self.boolean(node, pre)
        if isinstance(node, (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)):
            return node  # the lowering reports these
        self.generic(node, pre)
        return node

    def generic(self, node, pre):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, self.expr(value, pre))
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v, pre) if isinstance(v, gast.AST) else v
                                      for v in value])

    def refuse_function_args(self, node):
        for arg in node.args + [k.value for k in node.keywords]:
            if self.function_arg(arg) != "local":
                continue
            what = "a lambda" if isinstance(arg, gast.Lambda) else \
                f"the nested function {arg.id}"
            callee = ".".join(dotted_chain(node.func) or ["this function"])
            raise self.error(arg, f"s2sad cannot pass {what} to {callee}: it inlines a function "
                                  f"argument into a helper defined in the same file only",
                             "Call the function yourself and pass the values, or write the "
                             "helper in the same file.")

    def runs_inlined_code(self, node):
        """True if ``node`` has a call that is inlined into statements."""
        return any(isinstance(n, gast.Call) and self.inlinable(n) for n in walk(node))

    def conditional(self, node, pre):
        """``a if c else b``: calls inlined in a branch run in that branch only."""
        node.test = self.expr(node.test, pre)
        if not (self.runs_inlined_code(node.body) or self.runs_inlined_code(node.orelse)):
            node.body = self.expr(node.body, pre)
            node.orelse = self.expr(node.orelse, pre)
            return node
        chosen = self.fresh("chosen")
        pre.append(_located(gast.If(
            test=node.test,
            body=self.statement(_located(_assign(chosen, node.body), node)),
            orelse=self.statement(_located(_assign(chosen, node.orelse), node))), node))
        return gast.copy_location(_name(chosen), node)

    def boolean(self, node, pre):
        """``a and b``/``a or b``: a call inlined in ``b`` runs only when Python runs ``b``."""
        first = self.expr(node.values[0], pre)
        if not any(self.runs_inlined_code(v) for v in node.values[1:]):
            node.values = [first] + [self.expr(v, pre) for v in node.values[1:]]
            return node
        result = self.fresh("both" if isinstance(node.op, gast.And) else "either")
        tail = []
        for value in reversed(node.values[1:]):
            test = _name(result) if isinstance(node.op, gast.And) else \
                gast.UnaryOp(op=gast.Not(), operand=_name(result))
            inner = self.statement(_located(_assign(result, value), node)) + tail
            tail = [_located(gast.If(test=test, body=inner, orelse=[]), node)]
        pre.append(_located(_assign(result, first), node))
        pre.extend(tail)
        return gast.copy_location(_name(result), node)

    # -- calls -----------------------------------------------------------------------------------
    def call(self, node, pre, whole=False):
        """Inline the call ``node``; return ``(value, return statement or None)``.

        With ``whole`` the call is the whole value of an assignment or a return,
        which then takes the returned expression itself.
        """
        if any(isinstance(a, gast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            raise self.error(node, "s2sad does not support *args or **kwargs in a call it "
                                   "inlines", "Pass the arguments one by one.")
        func = node.func
        if isinstance(func, gast.Lambda):
            fn = self.lambda_fn(func, "lambda", pre)
        elif isinstance(func, gast.Name) and func.id in self.env:
            fn = self.env[func.id]
        else:
            fn = self.helper_fn(self.helper_of(node), node)
        args = [a if self.function_arg(a) else self.expr(a, pre) for a in node.args]
        keywords = [(k.arg, k.value if self.function_arg(k.value) else self.expr(k.value, pre))
                    for k in node.keywords]
        value, ret, result = self.inline(fn, node, args, keywords, pre)
        if value is None:
            value = gast.copy_location(gast.Constant(value=None, kind=None), node)
        if whole or _trivial(value):
            return value, ret
        out = self.fresh(result)
        pre.append(_located(_assign(out, value), ret, ret.end_lineno))
        return gast.copy_location(_name(out), node), None

    def lambda_fn(self, node, label, pre):
        defaults = self.check_signature(node, node.args, label)
        for param, default in list(defaults.items()):
            defaults[param] = self.expr(default, pre)
        return _Fn(label, _params(node.args), defaults, [self.lambda_body(node)], node,
                   positional=len(node.args.args))

    def helper_fn(self, helper, call):
        """The :class:`_Fn` of a module-level function inlined because it is given a function."""
        fn = self.helpers.get(helper)
        if fn is not None:
            return fn
        name = helper.__name__
        parsed = parse_function(helper)
        if parsed.filename != self.p.filename:
            raise self.error(call, f"{name} is given a function argument and is defined in "
                                   f"another file ({parsed.filename}); s2sad passes a function "
                                   f"to a helper by inlining the helper, which it does for "
                                   f"helpers defined in the same file as {self.p.node.name} only",
                             f"Move {name} into this file, or call the function yourself and "
                             f"pass {name} the values.")
        node = parsed.node
        dl, dc = parsed.line_offset - self.p.line_offset, parsed.col_offset - self.p.col_offset
        for child in walk(node):  # the helper's lines, in this function's coordinates
            for attr, delta in (("lineno", dl), ("end_lineno", dl), ("col_offset", dc),
                                ("end_col_offset", dc)):
                if getattr(child, attr, None) is not None:
                    setattr(child, attr, getattr(child, attr) + delta)
        self.used.update(_names_in(node))
        args = node.args
        if args.vararg or args.kwarg or args.posonlyargs:
            raise self.error(call, f"s2sad inlines {name} because it is given a function, and "
                                   f"cannot inline a function with *args, **kwargs or "
                                   f"positional-only parameters",
                             "Give it plain or keyword-only parameters.")
        params = _params(args)
        stored = set(_locals(params, node.body)) | _inner_scope_names(node.body)
        for n in walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id not in stored:
                theirs, ours = parsed.scope.lookup(n.id), self.scope.lookup(n.id)
                if n.id in self.f_locals or theirs is not ours:
                    raise self.error(call, f"s2sad inlines {name} here because it is given a "
                                           f"function, and {name} reads the name {n.id!r}, which "
                                           f"means something else in {self.p.node.name}",
                                     f"Rename {n.id} in {self.p.node.name} or in {name}.")
        body = list(node.body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]
        fn = self.helpers[helper] = _Fn(name, params, self.helper_defaults(helper, args), body,
                                        node, helper=helper, positional=len(args.args))
        return fn

    def helper_defaults(self, helper, args):
        """``{parameter: its default}`` of a module-level helper (keyword-only ones too): the
        value it holds (``__defaults__``, ``__kwdefaults__``) as a constant, the function its
        expression names (``act=np.tanh``), or a :class:`_BadDefault`."""
        values, defaults = default_values(helper, args), {}
        for param, spelled in _spelled_defaults(args).items():
            value = values[param]
            if value is None or isinstance(value, (bool, int, float, complex, str)):
                defaults[param] = gast.Constant(value=value, kind=None)
            elif _is_function_object(value) and self.global_function(spelled) is value:
                defaults[param] = spelled  # act=np.tanh
            else:
                defaults[param] = _BadDefault(helper.__name__, param)
        return defaults

    def bind(self, fn, call, args, keywords):
        """``{parameter: argument expression}`` for a call of ``fn``."""
        label = fn.helper.__name__ if fn.helper is not None else fn.label
        if len(args) > fn.positional:
            what = "argument" if fn.positional == len(fn.params) else "positional argument"
            raise self.error(call, f"{label}() takes {fn.positional} {what}"
                                   f"{'s' if fn.positional != 1 else ''} but {len(args)} "
                                   f"were given", _ARGUMENTS_HINT)
        bound = dict(zip(fn.params, args))
        for key, value in keywords:
            if key not in fn.params:
                raise self.error(call, f"{label}() has no parameter {key!r}", _ARGUMENTS_HINT)
            if key in bound:
                raise self.error(call, f"{label}() got two values for {key!r}",
                                 _ARGUMENTS_HINT)
            bound[key] = value
        for param in fn.params:
            if param not in bound:
                default = fn.defaults.get(param)
                if default is None:
                    raise self.error(call, f"{label}() is missing its argument {param!r}",
                                     _ARGUMENTS_HINT)
                if isinstance(default, _BadDefault):
                    raise self.error(call, default.message(), f"Pass {param} explicitly.")
                bound[param] = copy.deepcopy(default)
        return bound

    def inline(self, fn, call, args, keywords, pre):
        """Append ``fn``'s body, renamed, to ``pre``.

        Returns ``(the returned expression or None, the return statement, a free name
        for the call's value)``.
        """
        label = fn.helper.__name__ if fn.helper is not None else fn.label
        if fn.key in self.stack:
            what = "a function given a function argument" if fn.helper else "nested functions"
            raise self.error(call, f"{label} calls itself; s2sad inlines {what} and cannot "
                                   f"inline recursion",
                             "Write it as a loop, or as a module-level function of plain "
                             "values (which may be recursive).")
        bound = self.bind(fn, call, args, keywords)
        self.desugar_once(fn, label)
        body = copy.deepcopy(fn.body)
        local_names = _locals(fn.params, body)
        stored = _stored(body)
        inner = _inner_scope_names(body)
        suffix = next(s for s in ("out", "result", "value", "returned_value")
                      if s not in local_names)
        chosen, prefix = self.instance_names(fn.label, local_names + [suffix])
        result = chosen.pop(suffix)  # the name of the call's value, taken if it is needed
        self.p.user_names.update((renamed, self.p.user_names.get(name, name))
                                 for name, renamed in chosen.items())
        self.used.discard(result)
        self.f_locals.discard(result)
        mapping = self.parameter_mapping(fn, bound, chosen, (stored, inner), label, call, pre)
        for name in local_names:
            if name not in fn.params:
                mapping[name] = chosen[name]
        renamer = _Renamer(mapping)
        body = [renamer.visit(s) for s in body]
        ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
        if ret is not None:
            body = body[:-1]
        self.stack.append(fn.key)
        try:
            self.declare(body)
            out = self.block(body)
            value = None
            if ret is not None and ret.value is not None:
                value = self.expr(ret.value, out)
        finally:
            self.stack.pop()
        pre.extend(out)
        if ret is None:  # no return: the call's value is None
            ret = _located(gast.Return(value=None), call)
        return value, ret, result

    def desugar_once(self, fn, label):
        """Desugar ``fn``'s body (early returns, break, continue) the first time it is
        inlined, so it ends with its one ``return``."""
        if not fn.desugared:
            holder = gast.FunctionDef(name=label, args=gast.arguments(
                args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                defaults=[]), body=fn.body, decorator_list=[], returns=None, type_comment=None,
                type_params=[])
            fn.body = desugar(holder, self.used | _names_in(holder)).body if fn.body else []
            fn.desugared = True

    def parameter_mapping(self, fn, bound, chosen, names, label, call, pre):
        """``{param: what stands for it in the inlined body}``: the name of the function it
        is given, the argument itself (a function, a plain name or a constant the body
        never assigns), or its fresh name, assigned the argument in ``pre``. ``names`` is
        ``(the names the body assigns, the names its nested scopes use)``."""
        stored, inner = names
        mapping = {}
        for param in fn.params:
            arg = bound[param]
            kind = self.function_arg(arg)
            if kind == "local":
                if param in stored:
                    raise self.error(call, f"{param} is given a function and {label} assigns "
                                           f"it; s2sad cannot inline that",
                                     f"Use another name for the value {label} assigns.")
                key = chosen[param]  # a name for the function given, in calls only
                self.env[key] = self.lambda_fn(arg, param, pre) \
                    if isinstance(arg, gast.Lambda) else self.env[arg.id]
                mapping[param] = key
            elif (kind == "global" or _trivial(arg)) and param not in stored and \
                    not (_names_in(arg) & inner):
                mapping[param] = arg
            else:
                mapping[param] = chosen[param]
                pre.append(_located(_assign(chosen[param], arg), arg))
        return mapping
