"""The functions the inliner knows: nested ``def``s, lambdas and module-level helpers.

:class:`_Definitions` says whether there is anything to inline (``needed``), notes
the nested functions each scope defines (each its name's only binding, ``declare``),
records a ``def`` or a lambda as a :class:`~s2sad.inline.scopes._Fn` with its
defaults evaluated where it is defined, and finds the module-level helper a call
names when it is given a function (``helper_of``, ``function_arg``). A mixin of :class:`s2sad.inline.inliner._Inliner`: it reads and writes the inliner's state.

Layer 3 (front end), inside :mod:`s2sad.inline`.
"""

import gast

from ..parse import Scope, dotted_chain
from .scopes import (_Fn, _assign, _constant, _has_function_defaults, _is_function_object,
                     _is_user_function, _located, _name, _params, _spelled_defaults,
                     _walk_scope)


class _Definitions:
    """The functions the inliner knows (see the module's docstring)."""

    def instance_names(self, label, names):
        """``{name: label_name}`` for one inlined call, the first free ``labelK_`` prefix."""
        k = 1
        while True:
            prefix = label if k == 1 else f"{label}{k}"
            chosen = {n: f"{prefix}_{n}" for n in names}
            if not any(c in self.used for c in chosen.values()):
                for c in chosen.values():
                    self.take(c)
                return chosen, prefix
            k += 1

    # -- is there anything to do ------------------------------------------------------------------
    def needed(self):
        kinds = self.p.kinds
        if kinds(gast.Lambda, gast.Dict) or len(kinds(gast.FunctionDef)) > 1:  # (the first: f)
            return True
        for node in kinds(gast.Call):
            target = self.global_function(node.func)
            if target is not None and _is_user_function(target) and (
                    _has_function_defaults(target) or self.small(target) or
                    any(self.global_function(a) is not None
                        for a in node.args + [k.value for k in node.keywords])):
                return True
        return False

    def global_function(self, node):
        """The function a module-level name (``np.sin``, ``helper``) refers to, else None."""
        chain = dotted_chain(node)
        if chain is None or chain[0] in self.f_locals or chain[0] in self.env:
            return None
        value = self.scope.lookup(chain[0])
        for part in chain[1:]:
            value = getattr(value, part, Scope._MISSING)
        return value if _is_function_object(value) else None

    def declare(self, stmts, params=()):
        """Note the nested functions a scope (a function's body) defines, at any depth.

        Each must be its name's only binding in the scope: s2sad resolves the
        calls of a nested function where it compiles them.
        """
        defined = {}
        nodes = sorted(_walk_scope(stmts), key=lambda n: (getattr(n, "lineno", 0) or 0,
                                                          getattr(n, "col_offset", 0) or 0))
        for node in nodes:
            name = self.function_binding(node)
            if name is None:
                continue
            if name in defined or name in params:
                raise self.error(node, f"{name} is defined twice; s2sad inlines a nested "
                                       f"function and needs one definition of it",
                                 "Give each function its own name.")
            defined[name] = node
        if not defined:
            return
        lambda_targets = {id(n.targets[0]) for n in defined.values() if isinstance(n, gast.Assign)}
        for node in nodes:
            if isinstance(node, gast.Name) and node.id in defined and \
                    not isinstance(node.ctx, gast.Load) and id(node) not in lambda_targets:
                raise self.error(node, f"{node.id} is a nested function and is assigned "
                                       f"here too; s2sad inlines a nested function and "
                                       f"needs one definition of it",
                                 "Use another name for the other value.")
        self.pending.update(defined)

    @staticmethod
    def function_binding(stmt):
        if isinstance(stmt, gast.FunctionDef):
            return stmt.name
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda):
            return stmt.targets[0].id
        return None

    # -- nested functions ------------------------------------------------------------------------
    def define_def(self, node):
        if node.decorator_list:
            raise self.error(node.decorator_list[0], f"s2sad does not support a decorated "
                                                     f"nested function ({node.name})",
                             "Define it without a decorator.")
        return self.define(node.name, node, node.args, node.body, node.name)

    def define_lambda(self, name, node):
        return self.define(name, node, node.args, [self.lambda_body(node)], name)

    @staticmethod
    def lambda_body(node):
        return _located(gast.Return(value=node.body), node.body,
                        getattr(node.body, "end_lineno", None))

    def define(self, name, node, args, body, label):
        """Bind ``name`` to the function; return the statements evaluating its defaults."""
        out = []
        defaults = self.check_signature(node, args, label)
        for param, default in list(defaults.items()):
            if self.function_arg(default):  # act=np.tanh, act=lambda t: t: given as it is
                continue
            value = self.expr(default, out)
            if not _constant(value):
                held = self.fresh(f"{label}_{param}_default")
                out.append(_located(_assign(held, value), default))
                value = _name(held)
            defaults[param] = value
        body = list(body)
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]  # a docstring
        self.env[name] = _Fn(label, _params(args), defaults, body, node,
                             positional=len(args.args))
        self.pending.pop(name, None)
        return out

    def check_signature(self, node, args, label):
        if args.vararg or args.kwarg or args.posonlyargs:
            raise self.error(node, f"s2sad does not support *args, **kwargs or positional-only "
                                   f"parameters in a nested function ({label})",
                             "Give it plain or keyword-only parameters.")
        return _spelled_defaults(args)

    def inlinable(self, node):
        """True if ``node`` is a call s2sad inlines (see :meth:`call`)."""
        if not isinstance(node, gast.Call):
            return False
        if isinstance(node.func, gast.Lambda) or \
                isinstance(node.func, gast.Name) and node.func.id in self.env:
            return True
        return self.helper_of(node) is not None

    def helper_of(self, node):
        """The module-level function a call passes a function to (or which has one as a
        default value, ``act=np.tanh``, or which is small: :mod:`s2sad.inline.small`), or
        None."""
        target = self.global_function(node.func)
        if target is None or not _is_user_function(target):
            return None
        if _has_function_defaults(target) or self.small(target) or \
                any(self.function_arg(a) for a in node.args + [k.value for k in node.keywords]):
            return target
        return None

    def function_arg(self, node):
        """``'local'`` for a lambda or nested function, ``'global'`` for np.sin & co, else None."""
        if isinstance(node, gast.Lambda) or isinstance(node, gast.Name) and node.id in self.env:
            return "local"
        if isinstance(node, (gast.Name, gast.Attribute)) and \
                self.global_function(node) is not None:
            return "global"
        return None
