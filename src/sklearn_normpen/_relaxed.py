"""Relaxed fits (glmnet's ``relax=TRUE``): blend each path point with the unpenalised
least-squares fit on its active set,

    w(γ) = γ ŵ_α + (1 - γ) ŵ_α^{unpen},     b(γ) = γ b̂_α + (1 - γ) b̂_α^{unpen},

``ŵ^{unpen}`` minimising the same weighted squared loss over the features of
``A = {j : ŵ_α,j ≠ 0}`` only (zero elsewhere). ``γ = 1`` is the path itself, ``γ = 0`` the
least-squares refit. Each distinct active set is solved once per problem, from the normal
equations of the union of the path's active sets (see :class:`ActiveSetLS`): no pass over
the rows in covariance mode, one otherwise. Rank-deficient ``X_A`` (e.g. ``|A| > n``) gives
the minimum-norm solution.
"""
import numpy as np

from ._design import linear_predictor64
from ._threads import single_blas_thread


def _check_gammas(gamma):
    """The gamma grid, validated, sorted decreasing, with 1 (the path itself) included."""
    g = np.atleast_1d(np.asarray(gamma, dtype=np.float64))
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise ValueError(f"relax_gamma must be a float or a non-empty 1-D list of floats in "
                         f"[0, 1]; got {gamma!r}.")
    return np.unique(np.append(g, 1.0))[::-1]


class ActiveSetLS:
    """Unpenalised least squares on active sets of one prepared problem (an
    ``EnetProblem`` or a ``GroupProblem``), cached by active set.

    :meth:`prepare` takes the union ``E`` of the active sets of a path and forms its
    centred, weighted Gram ``Q_EE`` and ``q_E`` once (read from the problem's Gram in
    covariance mode; one ``n·|E|²`` product otherwise). Each active set is then solved from
    the normal equations by a Cholesky factor that is extended, not recomputed, while the
    sets grow along the path (``O(|A|²)`` per new set); a set that drops a feature is
    factorised afresh, and a singular ``Q_AA`` (``|A| > n``, collinear columns) falls back
    to the minimum-norm least-squares solution.
    """

    def __init__(self, problem):
        self.problem = problem
        self._cache = {}
        self.singular = set()  # active sets (as E-positions) whose Q_AA was singular
        #: False: do not solve singular sets (NaN coefficients), when only detection matters
        self.singular_solutions = True
        self._E = np.zeros(0, dtype=np.intp)
        self._order, self._L = np.zeros(0, dtype=np.intp), np.zeros((0, 0))
        if getattr(problem, "mode", None) == "gram":
            self.x_mean, self.y_mean = problem.x_mean, problem.y_mean
        else:
            d = problem.design
            self.x_mean, self.y_mean = d.x_mean, d.y_mean

    def prepare(self, E):
        """Form ``Q_EE``, ``q_E`` for the features ``E`` (a superset of every later ``A``)."""
        E = np.union1d(self._E, np.asarray(E, dtype=np.intp))
        if E.size == self._E.size:
            return
        pb = self.problem
        if getattr(pb, "mode", None) == "gram":
            QE, qE = pb.Q64[np.ix_(E, E)], pb.q64[E]
        else:
            d = pb.design
            XE = d.explicit_columns(E)  # float64, centred about the (weighted) means
            yc = d.yc64
            if d.sw64 is not None:
                root = np.sqrt(d.sw64)
                XE, yc = XE * root[:, None], yc * root
            QE, qE = XE.T @ XE, XE.T @ yc
        self._E, self._QE, self._qE = E, QE, qE
        self._order, self._L = np.zeros(0, dtype=np.intp), np.zeros((0, 0))

    def fit(self, A):
        """``(w_A, b)``: coefficients of the columns ``A`` and the intercept (float64)."""
        A = np.asarray(A, dtype=np.intp)
        key = A.tobytes()
        if key not in self._cache:
            self._cache[key] = self._solve(A)
        return self._cache[key]

    def fit_path(self, coefs):
        """The refit of every column of ``coefs``: ``(W, b, singular)`` of shapes
        (n_features, n_points), (n_points,), (n_points,); ``W`` zero outside each point's
        active set, ``singular`` where ``X_A`` is (numerically) rank deficient.

        Each distinct active set is solved once. When the distinct sets form a chain
        (each contains the smaller ones: a path whose features enter and never leave),
        one Cholesky factor of the union in order of entry serves them all: every set is
        a leading block, whose forward solution is the leading part of the union's, and
        one triangular solve with a right-hand side per set gives every solution.
        Otherwise (or when that factor has a pivot below 1e-10 of its column's energy)
        the sets are solved one by one by :meth:`fit`.
        """
        active = np.asarray(coefs) != 0
        p = active.shape[0]
        _, first, which = np.unique(np.packbits(active, axis=0).T, axis=0,
                                    return_index=True, return_inverse=True)
        which = np.ravel(which)
        W = np.zeros((p, first.size))
        b = np.zeros(first.size)
        bad = np.zeros(first.size, dtype=bool)
        self.prepare(np.flatnonzero(np.any(active, axis=1)))
        with single_blas_thread():  # k×k factorisations: see _threads
            if not self._fit_chain(active[:, first], W, b):
                for u in np.argsort(first):  # path order: the factor is extended
                    A = np.flatnonzero(active[:, first[u]])
                    W[A, u], b[u] = self.fit(A)
                    bad[u] = self.is_singular(A)
        return W[:, which], b[which], bad[which]

    def _fit_chain(self, sets, W, b):
        """:meth:`fit_path`'s chain route into ``W``, ``b``; False when it does not apply."""
        from scipy.linalg import solve_triangular
        sizes = sets.sum(axis=0)
        chain = np.argsort(sizes, kind="stable")
        S = sets[:, chain]
        if sizes.size < 2 or np.any(S[:, :-1] > S[:, 1:]) or np.any(np.diff(sizes[chain]) == 0):
            return False
        E = np.flatnonzero(S[:, -1])
        if E.size == 0 or E.size > self._max_rank():
            return False
        ordered = E[np.argsort(np.argmax(S[E], axis=1), kind="stable")]  # by entry
        pos = np.searchsorted(self._E, ordered)
        Q = self._QE[np.ix_(pos, pos)]
        L = _trusted_cholesky(Q, np.diag(Q))
        if L is None:
            return False
        z = solve_triangular(L, self._qE[pos], lower=True, check_finite=False)
        lead = np.arange(E.size)[:, None] < sizes[chain][None, :]
        Wc = solve_triangular(L, z[:, None] * lead, lower=True, trans="T",
                              check_finite=False) * lead
        W[np.ix_(ordered, chain)] = Wc
        if self.problem.fit_intercept:
            b[:] = self.y_mean - np.asarray(self.x_mean, dtype=np.float64) @ W
        for u in range(sizes.size):  # the cache :meth:`fit` reads
            A = np.flatnonzero(sets[:, u])
            self._cache[A.tobytes()] = (W[A, u], float(b[u]))
        self._order, self._L = pos, L
        return True

    def is_singular(self, A):
        """Whether ``X_A`` was found (numerically) rank deficient by :meth:`fit`."""
        A = np.asarray(A, dtype=np.intp)
        self.fit(A)
        return np.searchsorted(self._E, A).tobytes() in self.singular

    def _solve(self, A):
        pb = self.problem
        if A.size == 0:
            w = np.zeros(0)
        else:
            pos = np.searchsorted(self._E, A)
            if np.any(pos >= self._E.size) or np.any(self._E[np.minimum(
                    pos, self._E.size - 1)] != A):  # a feature outside the prepared union
                self.prepare(A)
            w = self._normal_equations(np.searchsorted(self._E, A))
        b = float(self.y_mean - np.asarray(self.x_mean)[A] @ w) if pb.fit_intercept else 0.0
        return w, b

    def _normal_equations(self, idx):
        from scipy.linalg.lapack import dpotrs
        q = self._qE
        if idx.size > self._max_rank():        # more columns than rows: singular for sure
            return self._min_norm(idx)
        in_order = np.zeros(self._E.size, dtype=bool)
        in_order[self._order] = True
        have = in_order[idx]
        if have.sum() == self._order.size:     # the previous set plus new features
            order = np.concatenate([self._order, idx[~have]])
            L = self._extend(self._L, self._order, idx[~have])
        else:                                  # a feature left: factorise afresh
            order = idx
            L = self._extend(np.zeros((0, 0)), np.zeros(0, dtype=np.intp), idx)
        if L is None:                          # singular: minimum-norm least squares
            return self._min_norm(idx)
        self._order, self._L = order, L
        w_order, info = dpotrs(L, q[order], lower=1)  # the two triangular solves
        if info != 0:
            raise ValueError(f"dpotrs failed (info={info}).")
        rank = np.empty(self._E.size, dtype=np.intp)
        rank[order] = np.arange(order.size)
        return w_order[rank[idx]]

    def _max_rank(self):
        pb = self.problem
        n = pb.design.n if getattr(pb, "mode", None) != "gram" else np.inf
        return n - int(bool(pb.fit_intercept))

    def _min_norm(self, idx):
        """Minimum-norm least squares for a singular ``Q_AA``: on the rows when they are at
        hand (``n·|A|·min(n, |A|)``), else on the normal equations."""
        self._order, self._L = np.zeros(0, dtype=np.intp), np.zeros((0, 0))
        self.singular.add(idx.tobytes())
        if self.singular_solutions is False:
            return np.full(idx.size, np.nan)
        pb = self.problem
        if getattr(pb, "mode", None) == "gram":
            return np.linalg.lstsq(self._QE[np.ix_(idx, idx)], self._qE[idx], rcond=None)[0]
        d = pb.design
        XA, yc = d.explicit_columns(self._E[idx]), d.yc64
        if d.sw64 is not None:
            root = np.sqrt(d.sw64)
            XA, yc = XA * root[:, None], yc * root
        return np.linalg.lstsq(XA, yc, rcond=None)[0]

    def _extend(self, L, old, new):
        """Cholesky factor of ``Q[old+new, old+new]`` from that of ``Q[old, old]``; None
        when the new block is not safely positive definite."""
        from scipy.linalg.lapack import dtrtrs
        if new.size == 0:
            return L
        Q = self._QE
        C = Q[np.ix_(new, new)]
        if old.size:
            L21, info = dtrtrs(L, Q[np.ix_(old, new)], lower=1)
            if info != 0:
                return None
            L21 = L21.T
            S = C - L21 @ L21.T
        else:
            L21, S = np.zeros((new.size, 0)), C
        L22 = _trusted_cholesky(S, np.diag(C))
        if L22 is None:
            return None
        k = old.size
        out = np.zeros((k + new.size, k + new.size))
        out[:k, :k] = L
        out[k:, :k] = L21
        out[k:, k:] = L22
        return out


def _trusted_cholesky(M, energy):
    """The Cholesky factor of ``M``; None when it does not exist or a pivot is below ~1e-10
    of its column's own ``energy`` (the diagonal of the Gram before any Schur complement):
    (nearly) collinear columns, not trusted."""
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return None
    if np.any(np.diag(L) ** 2 <= 1e-10 * np.maximum(energy, np.finfo(float).tiny)):
        return None
    return L


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
    W0, b0 = ls_path(problem, coefs, refit)
    coefs = np.asarray(coefs, dtype=np.float64)
    g = np.asarray(gammas, dtype=np.float64)[:, None]
    out_c = g[:, :, None] * coefs[None] + (1 - g)[:, :, None] * W0[None]
    out_b = g * np.asarray(intercepts, dtype=np.float64)[None] + (1 - g) * b0[None]
    return out_c, out_b


def ls_path(problem, coefs, refit=None):
    """The unpenalised refit of every path point: ``(W0, b0)`` of shapes
    (n_features, n_alphas) and (n_alphas,), zero outside each point's active set."""
    refit = ActiveSetLS(problem) if refit is None else refit
    W0, b0, _ = refit.fit_path(coefs)
    return W0, b0


def relaxed_predictions(problem, X, coefs, intercepts, gammas, refit=None):
    """Predictions of the relaxed fits on ``X``, shape (n_gammas, n_samples, n_alphas):
    ``γ·(X ŵ + b̂) + (1 - γ)·(X ŵ^{unpen} + b^{unpen})`` (two products, not one per gamma)."""
    W0, b0 = ls_path(problem, coefs, refit)
    P1 = linear_predictor64(X, coefs, intercepts)  # (float32 X: in float64, exactly)
    P0 = linear_predictor64(X, W0, b0)
    g = np.asarray(gammas, dtype=np.float64)[:, None, None]
    return g * P1[None] + (1 - g) * P0[None]
