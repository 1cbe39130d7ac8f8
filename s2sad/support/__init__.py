"""Run-time helpers that generated modules carry with them.

Generated code imports NumPy only, so when an adjoint needs a helper (undoing
broadcasting, scattering an indexed adjoint back), the emitter copies the
helper's source from this package into the generated module, once, after the
functions that use it (:func:`s2sad.emit.render_module`), in the order of
:data:`HELPERS`. Each helper is plain NumPy, small, and has its own derivative
rule (:mod:`s2sad.rules.support_rules`), so generated code can be differentiated
again. Every helper is a name of this package (``support.unbroadcast``), whichever
of its modules defines it:

- :mod:`~s2sad.support.checks`: the run-time checks (``CheckFailed``, ``check_scalar``);
- :mod:`~s2sad.support.arrays`: numbers, shapes, stacking, ragged pieces;
- :mod:`~s2sad.support.containers`: adjoints of tuples, lists and dicts;
- :mod:`~s2sad.support.broadcasting`: undoing broadcasting and reductions;
- :mod:`~s2sad.support.lists`: reverse mode's lists used as stacks;
- :mod:`~s2sad.support.batches`: forward mode's batches of directions (vector mode);
- :mod:`~s2sad.support.indexing`: reads and writes of parts, joined arrays' pieces;
- :mod:`~s2sad.support.products`: ``@``, ``np.dot`` and the other products;
- :mod:`~s2sad.support.linalg`: the factorisations of ``np.linalg``;
- :mod:`~s2sad.support.signal`: the signal and calculus rules' helpers;
- and binomial checkpointing's schedule, :mod:`s2sad.revolve`.

A helper calls the others by their bare names, as the copies in a generated module
do; its module imports them from the modules below it (each row of
``tests/test_layers.py``'s ``LAYERS`` imports earlier rows only).

The helpers work on any array type that implements NumPy's dispatch protocols
(``__array_function__``, ``__array_ufunc__``: CuPy, Dask, ...): they make new arrays
with the ``*_like`` constructors or from their operands, never with ``np.array`` or
``np.asarray`` of an operand. Their fast paths (a stride-0 view made with
``np.ndarray``, ``np.add.at``, ``type(g) is np.ndarray`` short cuts) are taken for real
ndarrays only, each with a generic path beside it; ``tests/duck.py`` holds the strict
duck array the tests run them on.
"""

from ..revolve import Revolve, revolve, revolve_actions, revolve_segments, revolve_snaps, \
    revolve_split  # noqa: F401 (binomial checkpointing's schedule: copied into modules too)
from .checks import CheckFailed, NotScalar, check_scalar
from .arrays import (
    adjoint_dtype, cov_axis, element_count, first_extreme, fits_shape, is_number, pieces_array,
    saved, stack, stack_pairs, writable)
from .containers import (add_bars, as_gradient, bars, copy_bar, dict_bar, keys_of, kept,
                         tuple_bar, zeros_bar)
from .broadcasting import (all_finite, all_nonzero, cumprod_bar, cumprod_bar_dot, cumprod_dot,
                           cumprod_dot_dot, cumprod_zeros,
                           cumsum_from_end, extremum_bar, extremum_share, maskable, masked,
                           masked_rest, prod_bar, prod_dot, prod_others, prod_others_dot,
                           quantile_bar, tie_share, unbroadcast, unreduce, weights_along)
from .lists import (add_contents_bar, add_contents_bar_bar, add_contents_dots, add_dots, pop_bar,
                    structured_like, sum_bar)
from .batches import (
    batch_of, directions, directions_count, item_dots, lift, no_dots, pop_dots, read_as_array,
    stack_directions, stack_each, zeros_dots)
from .indexing import (
    cut_like, diag_bar, piece_bar, scatter_add, select_bar, select_none, setitem_bar,
    running_extreme_index, setitem_dot, setitem_dots, slot_written, unattr, unconcatenate,
    undiagonal, unindex, unindex_along, unindex_axis, unjoin, unpad, unpad_copies, unpiece,
    written_bar, written_dtype)
from .products import (
    chain_matrices, chain_product, dot_bar_a, dot_bar_b, kron_bar_a, kron_bar_b, matmul_bar_a,
    matmul_bar_a_sum, matmul_bar_a_sum_bar, matmul_bar_a_sum_dot, matmul_bar_b,
    matmul_bar_b_sum, matmul_bar_b_sum_bar, matmul_bar_b_sum_dot, multi_dot_bar, multi_dot_dot,
    product_terms, tensordot_axes, tensordot_bar_a, tensordot_bar_b)
from .linalg import (
    check_full_rank, check_real, check_tall, eig_bar, eig_dot, eigh_bar, eigh_dot, eigh_gaps,
    lstsq_bar, lstsq_dot, qr_bar, qr_dot, svd_bar, svd_dot)
from .signal import (convolve_pads, gradient_bar, interp_bar_fp, interp_slope, interp_slope_bar_fp,
                     trapezoid_weights)

# every helper, in the order its copy takes in a generated module (render_module)
HELPERS = ["CheckFailed", "NotScalar", "check_scalar", "zeros_bar", "unbroadcast", "fits_shape",
           "unreduce", "is_number", "adjoint_dtype", "saved", "stack", "stack_pairs", "element_count",
           "cov_axis", "first_extreme", "unindex", "scatter_add", "maskable", "all_finite", "all_nonzero", "masked", "masked_rest", "extremum_bar", "extremum_share", "tie_share", "quantile_bar", "weights_along",
           "prod_bar", "prod_dot", "prod_others", "prod_others_dot", "cumprod_bar", "cumprod_dot", "cumprod_bar_dot", "cumprod_dot_dot", "cumprod_zeros",
           "cumsum_from_end", "matmul_bar_a", "matmul_bar_b",
           "matmul_bar_a_sum", "matmul_bar_b_sum", "product_terms", "matmul_bar_a_sum_dot",
           "matmul_bar_b_sum_dot", "matmul_bar_a_sum_bar", "matmul_bar_b_sum_bar", "structured_like", "pop_bar",
           "add_contents_bar", "add_contents_bar_bar", "add_contents_dots", "add_dots", "sum_bar", "dot_bar_a", "dot_bar_b",
           "lift", "unindex_axis", "running_extreme_index", "unindex_along", "undiagonal", "diag_bar", "unconcatenate",
           "unjoin", "cut_like", "pieces_array", "select_none", "select_bar", "unpad", "unpad_copies",
           "tensordot_axes", "tensordot_bar_a", "tensordot_bar_b", "kron_bar_a", "kron_bar_b",
           "eigh_gaps", "eigh_bar", "eigh_dot", "svd_bar", "svd_dot", "check_real", "eig_bar",
           "eig_dot", "check_full_rank", "lstsq_bar", "lstsq_dot", "chain_matrices", "chain_product",
           "multi_dot_bar", "multi_dot_dot", "convolve_pads", "interp_slope", "interp_bar_fp",
           "interp_slope_bar_fp",            "trapezoid_weights",
           "gradient_bar", "check_tall", "qr_bar", "qr_dot", "setitem_bar", "slot_written",
           "written_bar", "written_dtype", "setitem_dot",
           "setitem_dots", "stack_each", "stack_directions", "directions", "batch_of",
           "read_as_array", "item_dots", "zeros_dots", "no_dots", "directions_count", "pop_dots", "unattr", "piece_bar", "unpiece", "tuple_bar", "dict_bar", "keys_of", "add_bars",
           "bars", "copy_bar", "kept", "as_gradient", "writable", "revolve_segments", "revolve_actions",
           "Revolve", "revolve", "revolve_split", "revolve_snaps"]
