"""Derivatives of the factorisations of ``np.linalg``: ``eigh``, ``eig``, ``svd``, ``qr`` and
``lstsq``, each an adjoint (``*_bar``) and a tangent (``*_dot``), with the checks of what
they are defined for (real distinct eigenvalues, a tall ``qr``, full column rank), which
raise :class:`~s2sad.support.checks.CheckFailed`.

Part of :mod:`s2sad.support`: these are copied into generated modules as they are.
"""

import numpy as np

from .checks import CheckFailed
from .containers import bars
from .products import matmul_bar_a


def eigh_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it: eigenvector sensitivities."""
    n = np.shape(w)[-1]
    off = 1.0 - np.eye(n)
    return off / (w[..., None, :] - w[..., :, None] + np.eye(n))


def eigh_bar(w, v, w_bar, v_bar):
    """``V (diag(w_bar) + F o (V^T v_bar)) V^T``: the adjoint of ``eigh``'s (symmetric) input."""
    inner = np.expand_dims(w_bar, -1) * np.eye(np.shape(w)[-1])
    if np.any(v_bar):  # F o 0 is 0, even where F is infinite (repeated eigenvalues)
        inner = inner + eigh_gaps(w) * (v.mT @ v_bar)
    return v @ inner @ v.mT


def eigh_dot(w, v, a_dot):
    """The tangent ``(w_dot, v_dot)`` of ``w, v = np.linalg.eigh(a)`` along the symmetric ``a_dot``."""
    m = v.mT @ a_dot @ v
    return np.diagonal(m, axis1=-2, axis2=-1), v @ (eigh_gaps(w) * m)


def eig_bar(w, v, w_bar, v_bar):
    """The adjoint of ``a`` in ``w, v = np.linalg.eig(a)`` (real distinct eigenvalues):
    ``V^-T (diag(w_bar) + F o (V^T v_bar')) V^T``, ``v_bar'`` without the part along each
    unit-norm column, which the normalisation does not let move (JAX's rule, transposed)."""
    check_real(w, "np.linalg.eig")
    v_bar = v_bar - v * np.sum(v * v_bar, axis=-2, keepdims=True)
    inner = np.expand_dims(w_bar, -1) * np.eye(np.shape(w)[-1]) + eigh_gaps(w) * (v.mT @ v_bar)
    return np.linalg.solve(v.mT, inner @ v.mT)


def eig_dot(w, v, a_dot):
    """The tangent ``(w_dot, v_dot)`` of ``w, v = np.linalg.eig(a)``: ``M = V^-1 dA V``,
    ``dw = diag(M)``, ``dV = V (F o M)`` less its part along each (unit-norm) column."""
    check_real(w, "np.linalg.eig")
    m = np.linalg.solve(v, a_dot @ v)
    v_dot = v @ (eigh_gaps(w) * m)
    return np.diagonal(m, axis1=-2, axis2=-1), v_dot - v * np.sum(v * v_dot, axis=-2, keepdims=True)


def check_real(w, name):
    """Raise unless the eigenvalues ``w`` are real: s2sad differentiates real ones only."""
    if np.iscomplexobj(w):
        raise CheckFailed(f"{name} gave complex eigenvalues; s2sad differentiates it where "
                          f"they are real (and distinct) only")


def svd_bar(u, s, vt, u_bar, s_bar, vt_bar):
    """The adjoint of ``a`` in ``u, s, vt = np.linalg.svd(a, full_matrices=False)``
    (distinct nonzero singular values; Townsend's formula, as PyTorch writes it). With
    ``full_matrices=True`` the columns of ``u`` (rows of ``vt``) past ``k`` are not determined
    by ``a``: they must have no adjoint."""
    k, m, n = np.shape(s)[-1], np.shape(u)[-2], np.shape(vt)[-1]
    if np.shape(u)[-1] > k or np.shape(vt)[-2] > k:
        if np.any(u_bar[..., k:]) or np.any(vt_bar[..., k:, :]):
            raise CheckFailed("the columns of a full U (rows of V^T) of np.linalg.svd past "
                              "min(m, n) are not determined by a, so they have no derivative; "
                              "use full_matrices=False")
        u, u_bar, vt, vt_bar = u[..., :k], u_bar[..., :k], vt[..., :k, :], vt_bar[..., :k, :]
    v, v_bar = vt.mT, vt_bar.mT
    gaps = s[..., None, :] ** 2 - s[..., :, None] ** 2 + np.eye(k)  # s_j^2 - s_i^2, 1 on diag
    ug, vg = u.mT @ u_bar, v.mT @ v_bar
    inner = (ug - ug.mT) / gaps * s[..., None, :] + s[..., :, None] * ((vg - vg.mT) / gaps)
    a_bar = u @ (inner + np.expand_dims(s_bar, -1) * np.eye(k)) @ vt
    if m > k:
        a_bar = a_bar + ((u_bar - u @ ug) / s[..., None, :]) @ vt
    if n > k:
        a_bar = a_bar + u @ ((v_bar - v @ vg) / s[..., None, :]).mT
    return a_bar


def svd_dot(u, s, vt, a_dot):
    """The tangent ``(u_dot, s_dot, vt_dot)`` of ``np.linalg.svd(a)``; with
    ``full_matrices=True``, NaN for the columns of ``u`` (rows of ``vt``) ``a`` does not determine."""
    k, m, n = np.shape(s)[-1], np.shape(u)[-2], np.shape(vt)[-1]
    if np.shape(u)[-1] > k or np.shape(vt)[-2] > k:
        u_dot, s_dot, vt_dot = svd_dot(u[..., :k], s, vt[..., :k, :], a_dot)
        return (np.concatenate([u_dot, u[..., k:] * np.nan], -1), s_dot,
                np.concatenate([vt_dot, vt[..., k:, :] * np.nan], -2))
    v = vt.mT
    d = u.mT @ a_dot @ v
    row = s[..., None, :]
    gaps = (row + row.mT) * (row - row.mT)
    f = 1.0 / (gaps + np.eye(k)) - np.eye(k)
    u_dot = u @ (f * (row * d + (row * d).mT))
    v_dot = v @ (f * (row.mT * d + (row.mT * d).mT))
    if m > k:
        dav = a_dot @ v
        u_dot = u_dot + (dav - u @ (u.mT @ dav)) / row
    if n > k:
        dau = a_dot.mT @ u
        v_dot = v_dot + (dau - v @ (vt @ dau)) / row
    return u_dot, np.diagonal(d, axis1=-2, axis2=-1), v_dot.mT


def check_tall(q, r):
    """Raise unless ``q, r = np.linalg.qr(a)`` came from an ``a`` with no more columns than rows."""
    if np.shape(q)[-2] < np.shape(r)[-1]:
        raise CheckFailed("s2sad's derivative of np.linalg.qr needs a with at least as many "
                          "rows as columns")


def qr_bar(q, r, q_bar, r_bar):
    """The adjoint of ``a`` in ``q, r = np.linalg.qr(a)`` (reduced, m >= n, r invertible):
    ``(q_bar + q C^T) r^-T`` with ``C`` the lower triangle of ``r r_bar^T - q_bar^T q``
    copied to the upper (Seeger et al., via the LQ factorisation of ``a^T``)."""
    check_tall(q, r)
    m = r @ r_bar.mT - q_bar.mT @ q
    c = np.tril(m) + np.tril(m, -1).mT
    return np.linalg.solve(r, (q_bar + q @ c.mT).mT).mT


def qr_dot(q, r, a_dot):
    """The tangent ``(q_dot, r_dot)`` of ``q, r = np.linalg.qr(a)`` (reduced, m >= n)."""
    check_tall(q, r)
    a_dot_rinv = np.linalg.solve(r.mT, a_dot.mT).mT
    qt = q.mT @ a_dot_rinv
    lower = np.tril(qt, -1)
    skew = lower - lower.mT
    return q @ (skew - qt) + a_dot_rinv, (qt - skew) @ r


def check_full_rank(a, rank):
    """Raise unless ``a`` (of ``np.linalg.lstsq``) has full column rank."""
    if rank < np.shape(a)[-1]:
        raise CheckFailed("s2sad differentiates np.linalg.lstsq for a of full column rank only "
                          f"(rank {rank} < {np.shape(a)[-1]} columns)")


def lstsq_bar(a, b, ans, g):
    """The adjoints ``(a_bar, b_bar)`` of ``x, residuals, rank, sv = np.linalg.lstsq(a, b)``,
    ``a`` of full column rank: ``z = (A^T A)^-1 x_bar``, ``r = b - A x``,
    ``a_bar = r z^T - A z x^T``, ``b_bar = A z``; then the residuals' (``2 r r_bar``) and the
    singular values' (``U diag(sv_bar) V^T``)."""
    x, residuals, rank, sv = ans
    check_full_rank(a, rank)
    r = b - a @ x
    z = np.linalg.solve(a.mT @ a, g[0])
    a_bar = matmul_bar_a(r, a, z) - matmul_bar_a(a @ z, a, x)
    b_bar = a @ z
    if np.size(residuals):  # a tall: sums of squares of r, each column's
        rg = 2 * r * g[1]
        a_bar, b_bar = a_bar - matmul_bar_a(rg, a, x), b_bar + rg
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return a_bar + (u * g[3]) @ vt, b_bar


def lstsq_dot(a, b, ans, a_dot, b_dot):
    """The tangent of ``np.linalg.lstsq(a, b)``'s four results (as :func:`bars`, so the
    contributions of ``a`` and ``b`` add element by element)."""
    x, residuals, rank, sv = ans
    check_full_rank(a, rank)
    r, moved = b - a @ x, b_dot - a_dot @ x
    x_dot = np.linalg.solve(a.mT @ a, a_dot.mT @ r + a.mT @ moved)
    res_dot = 2 * np.sum(r * moved, axis=0) if np.size(residuals) else np.zeros_like(residuals)
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    sv_dot = np.sum((u.mT @ a_dot) * vt, axis=-1)
    return bars((x_dot, np.reshape(res_dot, np.shape(residuals)), 0, sv_dot))
