"""Adjoints of products: ``a @ b`` (:func:`matmul_bar_a`, :func:`matmul_bar_b`, with fast paths
for NumPy matrices) and ``np.dot`` (:func:`dot_bar_a`, :func:`dot_bar_b`); a loop's deferred
outer products summed as one product (:func:`matmul_bar_a_sum`, from
:mod:`s2sad.reverse.deferral`) with their tangents and adjoints, so that code using them can
be differentiated again; ``np.tensordot``, ``np.kron`` and ``np.linalg.multi_dot``.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .arrays import pieces_array, stack, stack_pairs
from .containers import zeros_bar
from .broadcasting import unbroadcast


def matmul_bar_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (1-d operands and batches included)."""
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim == 2:  # matrices: no np.ndim, and dot (@ costs ~0.3 us more)
        if b.shape[1] == 1:
            return g * b.T  # an outer product: one multiply each, as GEMM would, but faster
        return g.dot(b.T)
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return g @ b.T
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * b
    if np.ndim(b) == 1:
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if np.ndim(a) == 1:
        return unbroadcast((b @ np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a)


def matmul_bar_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b`` (1-d operands and batches included)."""
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray and \
            a.ndim == 2 and b.ndim <= 2:  # as in matmul_bar_a
        if a.shape[0] == 1 and b.ndim == 2:
            return a.T * g  # an outer product
        if g.ndim == 1:
            return g.dot(a)  # a.T @ g without making the view a.T (an RNN's step: ~3%)
        return a.T.dot(g)
    if np.ndim(a) == 2 and np.ndim(b) <= 2:
        return a.T @ g
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return g * a
    if np.ndim(a) == 1:
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast((np.swapaxes(a, -1, -2) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


def dot_bar_a(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)``: ``a``'s last axis meets ``b``'s second to
    last (its only one if 1-d); ``g`` has ``a``'s other axes, then ``b``'s other axes."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
        return matmul_bar_a(g, a, b)  # np.dot is a @ b here (no np.ndim's cost)
    p, q = np.ndim(a), np.ndim(b)
    if p == 0 or q == 0:
        return unbroadcast(g * b, a)
    if p <= 2 and q <= 2:
        return matmul_bar_a(g, a, b)
    if q == 1:
        return np.multiply.outer(g, b)
    g_axes = list(range(p - 1, p + q - 3)) + [p + q - 3]  # b's leading axes, then its last
    return np.tensordot(g, b, axes=(g_axes, list(range(q - 2)) + [q - 1]))


def dot_bar_b(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)`` (see :func:`dot_bar_a`)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
        return matmul_bar_b(g, a, b)  # np.dot is a @ b here (no np.ndim's cost)
    p, q = np.ndim(a), np.ndim(b)
    if p == 0 or q == 0:
        return unbroadcast(g * a, b)
    if p <= 2 and q <= 2:
        return matmul_bar_b(g, a, b)
    leading = list(range(p - 1))  # a's axes other than the summed one lead g too
    summed = np.tensordot(a, g, axes=(leading, leading))  # (n,) + b's other axes
    return summed if q == 1 else np.moveaxis(summed, 0, -2)


def matmul_bar_a_sum(terms, a, product="matmul"):
    """The sum of ``matmul_bar_a(g, a, b)`` over a loop's ``(g, b)`` pairs, as one product.

    ``product="dot"`` sums ``dot_bar_a`` instead: the same where the operands have rank 1
    or 2 (np.dot is then a @ b), as in the one-product paths here.
    """
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, bs = stack_pairs(terms)
        return gs.T @ bs
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, bs = zip(*terms)
        return np.concatenate(gs, axis=1) @ np.concatenate(bs, axis=1).T
    total = zeros_bar(a)
    for g, b in terms:
        total = total + (dot_bar_a(g, a, b) if product == "dot" else matmul_bar_a(g, a, b))
    return total


def matmul_bar_b_sum(terms, b, product="matmul"):
    """The sum of ``matmul_bar_b(g, a, b)`` (``dot_bar_b`` for ``product="dot"``, see
    :func:`matmul_bar_a_sum`) over a loop's ``(g, a)`` pairs, as one product."""
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, as_ = stack_pairs(terms)
        return as_.T @ gs
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 2:
        gs, as_ = zip(*terms)
        return np.concatenate(as_, axis=0).T @ np.concatenate(gs, axis=0)
    total = zeros_bar(b)
    for g, a in terms:
        total = total + (dot_bar_b(g, a, b) if product == "dot" else matmul_bar_b(g, a, b))
    return total


def product_terms(terms, terms_dot):
    """The pairs whose products sum to the tangent of the sum of products of ``terms``.

    By the product rule, pair ``(g, b)`` with tangents ``(g_dot, b_dot)`` gives
    ``(g_dot, b)`` and ``(g, b_dot)``. A tangent ``None`` is zero and gives no
    pair (a pair's tangent may be ``None`` altogether). Returns ``(pairs, None)``,
    or ``(one list of pairs per direction, K)`` when the tangents carry a leading
    axis of K directions (forward mode's vector mode; there a literal list of pairs of
    one shape has its tangents in one array, directions first).
    """
    if not isinstance(terms_dot, (list, tuple)):  # one array (of any type)
        terms_dot = [(terms_dot[:, i, 0], terms_dot[:, i, 1]) for i in range(len(terms))]
    batch = None
    for pair, dot in zip(terms, terms_dot):
        known = [(x, x_dot) for x, x_dot in zip(pair, () if dot is None else dot)
                 if x_dot is not None]
        if known:
            batch = len(known[0][1]) if np.ndim(known[0][1]) > np.ndim(known[0][0]) else None
            break
    directions = [[] for _ in range(batch or 1)]
    for (g, b), dot in zip(terms, terms_dot):
        g_dot, b_dot = dot if dot is not None else (None, None)
        for k, pairs in enumerate(directions):
            if g_dot is not None:
                pairs.append((g_dot if batch is None else g_dot[k], b))
            if b_dot is not None:
                pairs.append((g, b_dot if batch is None else b_dot[k]))
    return (directions[0], None) if batch is None else (directions, batch)


def matmul_bar_a_sum_dot(terms, terms_dot, a, product="matmul"):
    """The tangent of ``matmul_bar_a_sum(terms, a, product)``; ``terms_dot`` holds the pairs'
    tangents."""
    pairs, batch = product_terms(terms, terms_dot)
    if batch is None:
        return matmul_bar_a_sum(pairs, a, product)
    return np.stack([matmul_bar_a_sum(p, a, product) for p in pairs])


def matmul_bar_b_sum_dot(terms, terms_dot, b, product="matmul"):
    """The tangent of ``matmul_bar_b_sum(terms, b, product)``; ``terms_dot`` holds the pairs'
    tangents."""
    pairs, batch = product_terms(terms, terms_dot)
    if batch is None:
        return matmul_bar_b_sum(pairs, b, product)
    return np.stack([matmul_bar_b_sum(p, b, product) for p in pairs])


def matmul_bar_a_sum_bar(g, terms, a, product="matmul"):
    """The adjoints of the pairs of ``matmul_bar_a_sum(terms, a, product)``: ``(g @ b_k, ...)``
    per pair."""
    if terms and np.ndim(a) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, bs = zip(*terms)
        return list(zip(stack(bs) @ g.T, stack(gs) @ g))
    if product == "dot":
        return [(np.dot(g, b), dot_bar_b(t, g, b)) for t, b in terms]
    return [(g @ b, matmul_bar_b(t, g, b)) for t, b in terms]


def matmul_bar_b_sum_bar(g, terms, b, product="matmul"):
    """The adjoints of the pairs of ``matmul_bar_b_sum(terms, b, product)``: ``(a_k @ g, ...)``
    per pair."""
    if terms and np.ndim(b) == 2 and np.ndim(terms[0][0]) == np.ndim(terms[0][1]) == 1:
        gs, as_ = zip(*terms)
        return list(zip(stack(as_) @ g, stack(gs) @ g.T))
    if product == "dot":
        return [(np.dot(a, g), dot_bar_a(t, a, g)) for t, a in terms]
    return [(a @ g, matmul_bar_a(t, a, g)) for t, a in terms]


def tensordot_axes(axes, a, b):
    """The summed axes of ``a`` and of ``b`` in ``np.tensordot(a, b, axes)``, as two lists."""
    if isinstance(axes, (int, np.integer)):
        return list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes))
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # np.inner of a number: a product, no axis summed
        return [], []
    axes_a, axes_b = ([ax] if np.ndim(ax) == 0 else list(ax) for ax in axes)
    return [i % np.ndim(a) for i in axes_a], [i % np.ndim(b) for i in axes_b]


def tensordot_bar_a(g, a, b, axes=2):
    """The adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(axes, a, b)
    free_b = [i for i in range(np.ndim(b)) if i not in axes_b]
    t = np.tensordot(g, b, (list(range(np.ndim(g) - len(free_b), np.ndim(g))), free_b))
    # t's axes: a's free axes, then a's summed axes in the order of their partners in b
    order = [i for i in range(np.ndim(a)) if i not in axes_a] + \
        [axes_a[j] for j in np.argsort(axes_b)]
    return np.transpose(t, np.argsort(order))


def tensordot_bar_b(g, a, b, axes=2):
    """The adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(axes, a, b)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    t = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    # t's axes: b's summed axes in the order of their partners in a, then b's free axes
    order = [axes_b[j] for j in np.argsort(axes_a)] + \
        [i for i in range(np.ndim(b)) if i not in axes_b]
    return np.transpose(t, np.argsort(order))


def kron_bar_a(g, a, b):
    """The adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` weighed by ``b``, summed."""
    n = max(np.ndim(a), np.ndim(b))
    sa, sb = (1,) * (n - np.ndim(a)) + np.shape(a), (1,) * (n - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [d for pair in zip(sa, sb) for d in pair])  # axes a0, b0, a1, b1, ...
    weights = np.reshape(b, [d for s in sb for d in (1, s)])
    return np.reshape(np.sum(blocks * weights, axis=tuple(range(1, 2 * n, 2))), np.shape(a))


def kron_bar_b(g, a, b):
    """The adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` weighed by ``a``, summed."""
    n = max(np.ndim(a), np.ndim(b))
    sa, sb = (1,) * (n - np.ndim(a)) + np.shape(a), (1,) * (n - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [d for pair in zip(sa, sb) for d in pair])  # axes a0, b0, a1, b1, ...
    weights = np.reshape(a, [d for s in sa for d in (s, 1)])
    return np.reshape(np.sum(blocks * weights, axis=tuple(range(0, 2 * n, 2))), np.shape(b))


def chain_matrices(arrays):
    """``np.linalg.multi_dot``'s operands as matrices: a 1-d first one a row, a 1-d last one
    a column."""
    mats = list(arrays)
    if np.ndim(mats[0]) == 1:
        mats[0] = mats[0][None, :]
    if np.ndim(mats[-1]) == 1:
        mats[-1] = mats[-1][:, None]
    return mats


def chain_product(mats, n, like):
    """``mats[0] @ mats[1] @ ...``; the n x n identity if there are none."""
    if not mats:
        return np.eye(n, like=like)
    out = mats[0]
    for m in mats[1:]:
        out = out @ m
    return out


def multi_dot_bar(g, arrays):
    """The adjoints of ``np.linalg.multi_dot(arrays)``'s operands (:func:`pieces_array`):
    ``(A_0 ... A_i-1)^T G (A_i+1 ... A_n)^T`` for each, ``G`` the adjoint as a matrix."""
    mats = chain_matrices(arrays)
    rows, cols = np.shape(mats[0])[0], np.shape(mats[-1])[1]
    g = np.reshape(g, (rows, cols))
    bars = []
    for i, a in enumerate(arrays):
        left, right = chain_product(mats[:i], rows, g), chain_product(mats[i + 1:], cols, g)
        bars.append(np.reshape(left.T @ g @ right.T, np.shape(a)))
    return pieces_array(bars)


def multi_dot_dot(arrays, arrays_dot):
    """The tangent of ``np.linalg.multi_dot(arrays)``: the product rule, one term per operand."""
    total = 0.0
    for i in range(len(arrays)):
        total = total + np.linalg.multi_dot(list(arrays[:i]) + [arrays_dot[i]] +
                                            list(arrays[i + 1:]))
    return total
