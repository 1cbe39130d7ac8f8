"""s2sad: source-to-source automatic differentiation for Python/NumPy.

``s2sad`` reads a function's source, lowers it to three-address SSA form and
writes new Python source for its derivative. See README.md for a tour.
"""

from .api import (Differentiable, differentiate, grad, source, ssa, stop_gradient, value_and_grad,
                  value_and_vjp, vjp)
from .cache import clear_cache
from .checking import GradientCheckError, check_grads
from .custom import CustomDerivative, custom_jvp, custom_vjp
from .higher import hessian, hvp, jacfwd, jacobian, jacrev, jvp
from .cost import CostReport, cost
from .explain import explain
from .graph import Graph, graph
from .trace import Trace, trace
from .errors import (InternalError, NoDerivativeError, NonScalarOutputError, S2sadError,
                     SourceError, UnsupportedSyntaxError, UsageError)

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "vjp", "value_and_vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian", "hvp",
           "source", "ssa", "trace", "Trace", "graph", "Graph", "cost", "CostReport", "explain",
           "check_grads", "clear_cache", "differentiate", "Differentiable", "stop_gradient",
           "custom_vjp", "custom_jvp", "CustomDerivative", "S2sadError",
           "UnsupportedSyntaxError", "NoDerivativeError", "NonScalarOutputError", "SourceError",
           "UsageError", "InternalError", "GradientCheckError"]
