"""Rules for ``np.linalg``: inverses, determinants, decompositions and least squares.

Matrix adjoints are written with ``.mT``, so a rule serves a matrix and a stack of
matrices alike. The decompositions' adjoints (``eigh``, ``eig``, ``svd``, ``qr``,
``lstsq``) are run-time helpers of :mod:`s2sad.support` (``eigh_bar``, ``svd_dot``, ...),
which derivative code differentiates as the NumPy functions they are (``multi_dot_bar``
is registered without a rule: second order through ``multi_dot`` is an error);
their conventions, as JAX's: distinct eigenvalues and singular values (the sensitivities
divide by their gaps), full rank. A decomposition's columns that ``a`` does not
determine (a full ``U`` of a tall ``a``) get no adjoint: reverse mode raises if the
function reads them, forward mode gives them NaN tangents. ``np.linalg.eig`` is
differentiated where its eigenvalues are real; complex ones raise at run time.
``np.linalg.cond`` (p = None, 2, -2) is a ratio of singular values; ``matrix_rank`` an
integer (zero derivative). The norms are in :mod:`.norms`.
"""

from .core import ZERO, RuleNotApplicable, define, nondiff

define("np.linalg.inv", "a", batch_safe=True, a="-ans.mT @ g @ ans.mT",
       jvp={"a": "-ans @ a_dot @ ans"})
define("np.linalg.solve", "a, b", shared={"w": "np.linalg.solve(a.mT, g)"},
       a="-matmul_bar_a(w, a, ans)", b="w",
       jvp={"a": "-np.linalg.solve(a, a_dot @ ans)", "b": "np.linalg.solve(a, b_dot)"})
define("np.linalg.det", "a", batch_safe=True,
       a="np.expand_dims(g * ans, (-1, -2)) * np.linalg.inv(a).mT",
       jvp={"a": "ans * np.sum(np.linalg.inv(a).mT * a_dot, axis=(-2, -1))"})


# --- decompositions ---------------------------------------------------------------------------
# NumPy's cholesky and eigvalsh read one triangle of a only (the lower, or with UPLO='U' the
# upper), so that is where the adjoint goes: entry (i, j), i > j, stands for both (i, j) and
# (j, i) of the symmetric matrix. For an input built symmetric (b + b.T, x @ x.T) the chain rule
# gives what JAX's symmetrised rule does.
_LOWER = "np.tril({0} + {0}.mT) / (1 + np.eye(np.shape(a)[-1]))"  # from a symmetric adjoint
_SYMMETRIC_DOT = "(np.tril(a_dot) + np.tril(a_dot, -1).mT)"  # the matrix NumPy reads from a_dot
_UPPER = "np.triu({0} + {0}.mT) / (1 + np.eye(np.shape(a)[-1]))"
_UPPER_DOT = "(np.triu(a_dot) + np.triu(a_dot, 1).mT)"


def _cholesky(b):
    if b.const("upper") is not False:
        raise RuleNotApplicable("np.linalg.cholesky has a derivative rule for upper=False only")
    return _LOWER.format("s")


def _cholesky_dot(b):  # dL = L phi(L^-1 dA L^-T), phi: the lower triangle, diagonal halved
    _cholesky(b)
    inner = f"np.linalg.solve(ans, np.linalg.solve(ans, {_SYMMETRIC_DOT}).mT)"
    return f"ans @ (np.tril({inner}) / (1 + np.eye(np.shape(a)[-1])))"


define("np.linalg.cholesky", "a, upper=False", a=_cholesky, jvp={"a": _cholesky_dot},
       shared={"phi": "np.tril(ans.mT @ g) / (1 + np.eye(np.shape(a)[-1]))",
               "s": "np.linalg.solve(ans.mT, np.linalg.solve(ans.mT, phi).mT).mT"})


def _triangle(b):
    """The triangle of a that eigh/eigvalsh read: (its adjoint's projection, a_dot's matrix)."""
    uplo = b.const("UPLO")
    if uplo not in ("L", "U", "l", "u"):
        raise RuleNotApplicable("np.linalg.eigh and eigvalsh have derivative rules for a "
                                "constant UPLO ('L' or 'U') only")
    return (_LOWER, _SYMMETRIC_DOT) if uplo in ("L", "l") else (_UPPER, _UPPER_DOT)


def _eigvalsh(b):
    return _triangle(b)[0].format("s")


def _eigvalsh_dot(b):  # dw_i = v_i . dA v_i
    dot = _triangle(b)[1]
    return f"np.sum(np.linalg.eigh(a, UPLO)[1] * ({dot} @ np.linalg.eigh(a, UPLO)[1]), axis=-2)"


# distinct eigenvalues: at a repeated one the rule picks one of many one-sided derivatives
define("np.linalg.eigvalsh", "a, UPLO='L'", a=_eigvalsh, UPLO=ZERO, jvp={"a": _eigvalsh_dot},
       shared={"v": "np.linalg.eigh(a, UPLO)[1]", "s": "(v * np.expand_dims(g, -2)) @ v.mT"})


def _eigh_dot(b):  # M = V^T dA V: dw = diag(M), dV = V (F o M), F_ij = 1 / (w_j - w_i)
    return f"eigh_dot(ans[0], ans[1], {_triangle(b)[1]})"


# w, v = eigh(a): a_bar = V (diag(w_bar) + F o (V^T v_bar)) V^T, onto the lower triangle;
# distinct eigenvalues only (F is infinite at a repeated one), as in JAX
define("np.linalg.eigh", "a, UPLO='L'", a=_eigvalsh, UPLO=ZERO, jvp={"a": _eigh_dot},
       shared={"s": "eigh_bar(ans[0], ans[1], g[0], g[1])"})
def _svd(b):
    """u, s, vt = svd(a); with full_matrices=True, the columns of u (rows of vt) beyond
    min(m, n) are not determined by a: svd_bar raises if they have an adjoint, svd_dot
    gives them NaN tangents. compute_uv=False: s alone, the rule of svdvals."""
    if b.const("hermitian") is not False or b.const("compute_uv") not in (True, False) or \
            b.const("full_matrices") not in (True, False):
        raise RuleNotApplicable("np.linalg.svd has derivative rules for constant "
                                "full_matrices and compute_uv, and hermitian=False, only")
    if b.const("compute_uv") is False:
        return "(np.linalg.svd(a, full_matrices=False)[0] * np.expand_dims(g, -2)) @ " \
            "np.linalg.svd(a, full_matrices=False)[2]"
    return "svd_bar(ans[0], ans[1], ans[2], g[0], g[1], g[2])"


def _svd_dot(b):
    _svd(b)
    if b.const("compute_uv") is False:
        return "np.sum((np.linalg.svd(a, full_matrices=False)[0].mT @ a_dot) * " \
            "np.linalg.svd(a, full_matrices=False)[2], axis=-1)"
    return "svd_dot(ans[0], ans[1], ans[2], a_dot)"


# distinct nonzero singular values
define("np.linalg.svd", "a, full_matrices=True, compute_uv=True, hermitian=False", a=_svd,
       full_matrices=ZERO, compute_uv=ZERO, hermitian=ZERO,
       jvp={"a": _svd_dot})


def _qr(b):
    if b.const("mode") != "reduced":
        raise RuleNotApplicable("np.linalg.qr has derivative rules for mode='reduced' only")
    return "qr_bar(ans[0], ans[1], g[0], g[1])"


def _qr_dot(b):
    _qr(b)
    return "qr_dot(ans[0], ans[1], a_dot)"


# q, r = qr(a), reduced, a with at least as many rows as columns and full rank
define("np.linalg.qr", "a, mode='reduced'", a=_qr, mode=ZERO, jvp={"a": _qr_dot})
# distinct, nonzero singular values: d s_i = u_i . dA v_i
define("np.linalg.svdvals", "x", shared={"usv": "np.linalg.svd(x, full_matrices=False)"},
       x="(usv[0] * np.expand_dims(g, -2)) @ usv[2]",
       jvp={"x": "np.sum((np.linalg.svd(x, full_matrices=False)[0].mT @ x_dot) * "
                 "np.linalg.svd(x, full_matrices=False)[2], axis=-1)"})
# (sign, log|det a|) is a pair: its adjoint g[1] is that of log|det a|; the sign is constant
define("np.linalg.slogdet", "a", a="np.expand_dims(g[1], (-2, -1)) * np.linalg.inv(a).mT",
       jvp={"a": "(np.zeros_like(ans[0]), np.sum(np.linalg.inv(a).mT * a_dot, axis=(-2, -1)))"})


def _pinv(b):
    if b.const("hermitian") is not False:
        raise RuleNotApplicable("np.linalg.pinv has a derivative rule for hermitian=False only")


def _pinv_bar(b):  # Golub & Pereyra; the rank of a must not change nearby (full rank, say)
    _pinv(b)
    return ("-ans.mT @ g @ ans.mT + (g.mT - a @ ans @ g.mT) @ ans @ ans.mT"
            " + ans.mT @ ans @ (g.mT - g.mT @ ans @ a)")


def _pinv_dot(b):
    _pinv(b)
    return ("-ans @ a_dot @ ans + ans @ ans.mT @ (a_dot.mT - a_dot.mT @ a @ ans)"
            " + (a_dot.mT - ans @ a @ a_dot.mT) @ ans.mT @ ans")


define("np.linalg.pinv", "a, rcond=None, hermitian=False", a=_pinv_bar, jvp={"a": _pinv_dot})


def _power_sum(n, m, middle):
    """The sum over k of m^k @ middle @ m^(n-1-k), written out: n is a small constant."""
    def power(k):
        return [] if k == 0 else [m] if k == 1 else [f"np.linalg.matrix_power({m}, {k})"]
    return " + ".join(" @ ".join(power(k) + [middle] + power(n - 1 - k)) for k in range(n)) or None


def _power(b):
    n = b.const("n")
    if not isinstance(n, int) or not -8 <= n <= 8:
        raise RuleNotApplicable("np.linalg.matrix_power has a derivative rule for a constant "
                                "-8 <= n <= 8 only; use np.linalg.inv, or a loop of @")
    return n


def _matrix_power_bar(b):  # a^-n is inv(a)^n: the adjoint of inv(a), then that of inv
    n = _power(b)
    if n >= 0:
        return _power_sum(n, "a.mT", "g")
    inv = "np.linalg.inv(a).mT"
    return f"-{inv} @ ({_power_sum(-n, inv, 'g')}) @ {inv}"


def _matrix_power_dot(b):
    n = _power(b)
    if n >= 0:
        return _power_sum(n, "a", "a_dot")
    inv = "np.linalg.inv(a)"
    return _power_sum(-n, inv, f"(-{inv} @ a_dot @ {inv})")


# matrix_power(a, 1) is a itself
define("np.linalg.matrix_power", "a, n", a=_matrix_power_bar, n=ZERO, jvp={"a": _matrix_power_dot},
       view=lambda b: b.const("n", 1) == 1)
# w, v = eig(a), real distinct eigenvalues (complex ones raise at run time): JAX's rule
define("np.linalg.eig", "a", a="eig_bar(ans[0], ans[1], g[0], g[1])",
       jvp={"a": "eig_dot(ans[0], ans[1], a_dot)"})
define("np.linalg.eigvals", "a", shared={"wv": "np.linalg.eig(a)"},
       a="eig_bar(wv[0], wv[1], g, np.zeros_like(wv[1]))",
       jvp={"a": "eig_dot(np.linalg.eig(a)[0], np.linalg.eig(a)[1], a_dot)[0]"})
# x, residuals, rank, sv = lstsq(a, b): a of full column rank (else the helpers raise); the
# contributions of a and b are tuples of tangents that add element by element (bars)
define("np.linalg.lstsq", "a, b, rcond=None", shared={"ab": "lstsq_bar(a, b, ans, g)"},
       a="ab[0]", b="ab[1]", rcond=ZERO,
       jvp={"a": "lstsq_dot(a, b, ans, a_dot, np.zeros_like(b))",
            "b": "lstsq_dot(a, b, ans, np.zeros_like(a), b_dot)"})


def _cond(which):
    """cond(x) = s_1 / s_n (p=None or 2; p=-2: s_n / s_1): d cond = cond (ds_1/s_1 - ds_n/s_n),
    ds_k = u_k . dX v_k (distinct extreme singular values, as svdvals' rule)."""
    def rule(b):
        p = b.const("p", b)
        if p not in (None, 2, -2):
            raise RuleNotApplicable("np.linalg.cond has derivative rules for p=None, 2 and -2 "
                                    "only; write np.linalg.norm(x, p) * "
                                    "np.linalg.norm(np.linalg.inv(x), p)")
        top, bottom = ("0:1", "-1:") if p != -2 else ("-1:", "0:1")
        if which == "vjp":
            term = "usv[0][..., :, {0}] @ usv[2][..., {0}, :] / usv[1][..., None, {0}]"
            return f"np.expand_dims(g * ans, (-2, -1)) * ({term.format(top)} - " \
                   f"{term.format(bottom)})"
        usv = "np.linalg.svd(x, full_matrices=False)"
        ds = f"(np.sum(({usv}[0].mT @ x_dot) * {usv}[2], axis=-1) / {usv}[1])"
        return f"ans * (np.sum({ds}[..., {top}], axis=-1) - np.sum({ds}[..., {bottom}], axis=-1))"
    return rule


define("np.linalg.cond", "x, p=None", shared={"usv": "np.linalg.svd(x, full_matrices=False)"},
       x=_cond("vjp"), p=ZERO, jvp={"x": _cond("jvp")})
nondiff("np.linalg.matrix_rank")  # an integer
# multilinear: each operand's tangent or adjoint has the others on either side
define("np.linalg.multi_dot", "arrays, out=None", arrays="multi_dot_bar(g, arrays)",
       jvp={"arrays": "multi_dot_dot(arrays, arrays_dot)"})
