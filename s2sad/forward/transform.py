"""Forward mode's transform: its state (tangent names, activity, shapes, the lists with
tangent lists, the tangents it owns) and the whole function, ``jvp_<f>``, built from the
mixins of one concern each (:mod:`~s2sad.forward.structure`, :mod:`~s2sad.forward.control`,
:mod:`~s2sad.forward.writes`, :mod:`~s2sad.forward.tangents`, :mod:`~s2sad.forward.vector`).

Layer 6 (the transforms), inside :mod:`s2sad.forward`; never imports :mod:`s2sad.reverse`.
"""

import gast

from .. import analysis
from ..common import function_def, returned_tuple
from ..ir import Assign, walk_blocks
from .control import _Control
from .structure import _Structure
from .tangents import _Tangents
from .vector import _Vector
from .writes import _Writes


def tangent_namer(fn):
    return analysis.derived_namer(fn, "_dot")


class _Forward(_Structure, _Control, _Writes, _Tangents, _Vector):
    """Builds the tangent function of one SSA function, block by block."""

    def __init__(self, fn, wrt, emitter, requests, func_name, vector=False, leaves=False):
        self.fn, self.emitter, self.requests = fn, emitter, requests
        self.func_name, self.vector = func_name, vector
        self.wrt_names = [fn.params[i].name for i in wrt]
        self.active = analysis.activity(fn, self.wrt_names, writes_followed=True)
        self.shapes = analysis.ShapeClasses(fn)
        self.tangent_name, self._taken = tangent_namer(fn)
        self.dot_params = [self.tangent_name(p) for p in self.wrt_names]
        # var name -> name of its tangent variable; absent means a symbolic zero
        self.tangents = {p: d for p, d in zip(self.wrt_names, self.dot_params) if p in self.active}
        self.comments = emitter.comments
        self.definitions = {t.name: stmt for stmt in walk_blocks(fn.body)
                            if isinstance(stmt, Assign) for t in stmt.targets}
        self._last_line = None
        self.slots = analysis.active_slots(fn.body, self.active)  # lists with a tangent list
        # tangent arrays this function made for a write and nothing else refers to: the next
        # write into the same array can update them in place. (Not in s2sad's own generated
        # code: its restores write into arrays whose views it reads later, which only
        # copy-on-write tangents follow exactly.)
        self.owned = set()
        self.in_place = not vector and not fn.generated
        # parameters known to be arrays or numbers (vector mode's entry takes only those)
        self.leaf_params = {p.name for p in fn.params} if leaves else set()

    # -- the whole function ----------------------------------------------------------
    def build(self):
        fn = self.fn
        body = self.block(fn.body)
        out = self.emitter.operand(fn.output)
        out_dot = self.tangent(fn.output)
        if out_dot is None:
            packed = returned_tuple(fn)  # a tuple's zero tangent is a tuple of zeros
            out_dot = self.zeros_of(fn.output) if packed is None else gast.Tuple(
                elts=[self.zeros_of(e) for e in packed.args], ctx=gast.Load())
        body.append(gast.Return(value=gast.Tuple(elts=[out, out_dot], ctx=gast.Load())))
        params = [p.name for p in fn.params] + self.dot_params
        return function_def(self.func_name, params, body)


def forward_function(fn, wrt, emitter, requests, func_name, vector=False, leaves=False):
    """The gast FunctionDef of ``jvp`` of ``fn`` w.r.t. parameter positions ``wrt``
    (``leaves``: its arguments are arrays and numbers, never tuples, lists or dicts)."""
    return _Forward(fn, wrt, emitter, requests, func_name, vector, leaves).build()


def entry_params(node):
    return [a.id for a in node.args.args]
