"""Rules for ``np.cov``: the covariance of the variables in the rows of ``m`` (its columns
with ``rowvar=False``), ``C = Xc @ Xc.T / (N - ddof)`` with ``Xc`` the observations centred.

The templates spell ``m`` as a matrix of one variable per row, ``X``
(:func:`s2sad.support.cov_axis` says which axis holds the observations, NumPy's rule:
a 1-d ``m``, or one row, is one variable), so ``C``'s adjoint is
``(G + G.T) @ Xc / (N - ddof)`` (the rows of ``Xc`` sum to 0, so centring leaves it as it is)
and its tangent ``(dXc @ Xc.T + Xc @ dXc.T) / (N - ddof)``, in functions that have rules of
their own: the derivative code differentiates again. A second array ``y``, ``fweights`` and
``aweights`` have no rule (an error if given).
"""

from .core import RuleNotApplicable, define

_X = "np.moveaxis(np.atleast_2d({m}), cov_axis(m, rowvar), 1)"


def _centred(m):
    x = _X.format(m=m)
    return f"({x} - np.mean({x}, axis=1, keepdims=True))"


def _dof(b):
    """N - ddof (NumPy's: ddof 1 unless bias=True), checking the call is one the rule covers."""
    for given in ("y", "fweights", "aweights"):
        if not b.is_none(given):
            raise RuleNotApplicable(f"np.cov has a derivative rule without {given}= only")
    ddof = b.const("ddof", "variable") if not b.is_none("ddof") else (
        0 if b.const("bias", "variable") is True else 1)
    if not isinstance(ddof, int) or b.const("bias", "variable") not in (True, False):
        raise RuleNotApplicable("np.cov has a derivative rule for constant bias= and ddof= only")
    return f"(np.shape({_X.format(m='m')})[1] - {ddof})"


def _cov(b):
    k = f"np.shape({_X.format(m='m')})[0]"
    G = f"np.reshape(g, ({k}, {k}))"
    spread = f"({G} + np.transpose({G})) @ {_centred('m')} / {_dof(b)}"
    return f"np.reshape(np.moveaxis({spread}, 1, cov_axis(m, rowvar)), np.shape(m))"


def _cov_dot(b):
    product = f"{_centred('m_dot')} @ np.transpose({_centred('m')})"
    return f"np.reshape(({product} + np.transpose({product})) / {_dof(b)}, np.shape(ans))"


define("np.cov", "m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, "
       "dtype=None", m=_cov, jvp={"m": _cov_dot})
