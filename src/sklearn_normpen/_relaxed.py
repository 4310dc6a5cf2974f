"""Relaxed fits (glmnet's ``relax=TRUE``): blend each path point with the unpenalised
least-squares fit on its active set,

    w(γ) = γ ŵ_α + (1 - γ) ŵ_α^{unpen},     b(γ) = γ b̂_α + (1 - γ) b̂_α^{unpen},

``ŵ^{unpen}`` minimising the same weighted squared loss over the features of
``A = {j : ŵ_α,j ≠ 0}`` only (zero elsewhere). ``γ = 1`` is the path itself, ``γ = 0`` the
least-squares refit. Each distinct active set is solved once per problem: from the centred
Gram ``Q[A, A] w = q[A]`` in covariance mode (no pass over the rows), otherwise by least
squares on the problem's (weighted, centred) columns ``A``. Rank-deficient ``X_A`` (e.g.
``|A| > n``) gives the minimum-norm solution.
"""
import numpy as np


def _check_gammas(gamma):
    """The gamma grid, validated, sorted decreasing, with 1 (the path itself) included."""
    g = np.atleast_1d(np.asarray(gamma, dtype=np.float64))
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise ValueError(f"gamma must be a float or a non-empty 1-D list of floats in "
                         f"[0, 1]; got {gamma!r}.")
    return np.unique(np.append(g, 1.0))[::-1]


class ActiveSetLS:
    """Unpenalised least squares on active sets of one prepared problem (an
    ``EnetProblem`` or a ``GroupProblem``), cached by active set."""

    def __init__(self, problem):
        self.problem = problem
        self._cache = {}
        if getattr(problem, "mode", None) == "gram":
            self.x_mean, self.y_mean = problem.x_mean, problem.y_mean
        else:
            d = problem.design
            self.x_mean, self.y_mean = d.x_mean, d.y_mean

    def fit(self, A):
        """``(w_A, b)``: coefficients of the columns ``A`` and the intercept (float64)."""
        A = np.asarray(A, dtype=np.intp)
        key = A.tobytes()
        if key not in self._cache:
            self._cache[key] = self._solve(A)
        return self._cache[key]

    def _solve(self, A):
        pb = self.problem
        if A.size == 0:
            w = np.zeros(0)
        elif getattr(pb, "mode", None) == "gram":
            w = np.linalg.lstsq(pb.Q64[np.ix_(A, A)], pb.q64[A], rcond=None)[0]
        else:
            d = pb.design
            XA = d.explicit_columns(A)  # float64, centred about the (weighted) means
            yc = d.yc64
            if d.sw64 is not None:
                root = np.sqrt(d.sw64)
                XA, yc = XA * root[:, None], yc * root
            w = np.linalg.lstsq(XA, yc, rcond=None)[0]
        b = float(self.y_mean - np.asarray(self.x_mean)[A] @ w) if pb.fit_intercept else 0.0
        return w, b


def relax_path(problem, coefs, intercepts, gammas, refit=None):
    """Relaxed coefficients and intercepts of a path for every gamma.

    Parameters
    ----------
    problem : EnetProblem or GroupProblem
        The problem the path was solved on (its rows, weights, centring).
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    gammas : ndarray of shape (n_gammas,)
    refit : ActiveSetLS, default=None
        To share the cached refits across calls on the same problem.

    Returns
    -------
    coefs : ndarray of shape (n_gammas, n_features, n_alphas), float64
    intercepts : ndarray of shape (n_gammas, n_alphas)
    """
    refit = ActiveSetLS(problem) if refit is None else refit
    coefs = np.asarray(coefs, dtype=np.float64)
    p, K = coefs.shape
    W0 = np.zeros((p, K))
    b0 = np.empty(K)
    for k in range(K):
        A = np.flatnonzero(coefs[:, k])
        w, b = refit.fit(A)
        W0[A, k] = w
        b0[k] = b
    g = np.asarray(gammas, dtype=np.float64)[:, None]
    out_c = g[:, :, None] * coefs[None] + (1 - g)[:, :, None] * W0[None]
    out_b = g * np.asarray(intercepts, dtype=np.float64)[None] + (1 - g) * b0[None]
    return out_c, out_b
