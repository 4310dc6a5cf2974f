"""Block coordinate descent for the (sparse-)group lasso in covariance (Gram) mode.

The problem of :mod:`~sklearn_normpen._solvers.block_cd` (same objective, penalty,
parametrisation and certificate) read from the float64 statistics of
:meth:`Design.gram_stats` alone: ``A = Xcᵀ S Xc / N`` and ``b = Xcᵀ S yc / N`` (columns
scaled by ``1/σ_j`` under ``standardize``), so a solve costs ``O(p·|g|)`` per block visit
whatever ``n`` — the route for data that stay on a cluster (:mod:`sklearn_normpen._dask`),
where a CV training fold is the full statistics minus the held-out rows'.

Each epoch visits the working set (active groups, unpenalised groups and every group whose
zero is not optimal at the epoch's start, read off the gradient ``g = b - A w`` kept in
float64). A penalised block minimises its exact quadratic model
``½ dᵀA_gg d - g_gᵀd + pen(w_g + d)`` by proximal-gradient steps of size ``1/λ_max(A_gg)``
(one step is exact for singletons); an unpenalised block is solved exactly (``A_gg⁺ g_g``).
Solves stop on the package certificate (:func:`stop_on_certificate`), formed from a
gradient recomputed from scratch.
"""
import numpy as np

from .._certificate import CertStats, certificate, project, per_mask
from .._design import centred_gram, constant_columns
from ..penalties import SparseGroupLasso
from .coordinate_descent import stop_on_certificate


class GramGroupProblem:
    """A (sparse-)group lasso problem prepared from Gram statistics.

    Parameters
    ----------
    stats : dict
        :meth:`Design.gram_stats` output (about ``x_shift``; ``y`` about ``y_mean``).
    structure : GroupStructure
    group_weights : ndarray of shape (n_groups,)
    dtype : float32 or float64
        The input's dtype (coefficients are returned in it; all arithmetic is float64).
    fit_intercept : bool
    x_shift, y_mean : float64
        The shift the statistics are about.
    standardize : bool, default=False
        Penalise as if each column were divided by its weighted standard deviation
        (constant columns, by the Design's rule, get a zero coefficient).
    """

    max_inner = 50
    inner_eps = 1e-3
    check_every = 5

    def __init__(self, stats, structure, group_weights, *, dtype, fit_intercept, x_shift,
                 y_mean, standardize=False):
        self.dtype = np.dtype(dtype)
        self.fit_intercept = bool(fit_intercept)
        Q, q, yy, S, dx = centred_gram(stats, self.fit_intercept)
        self.N = float(S)
        self.X_off = np.asarray(x_shift, np.float64) + dx
        self.y_off = float(y_mean) + (stats["sy"] / S if self.fit_intercept else 0.0)
        if self.fit_intercept:
            var = np.diag(Q) / S
        else:
            var = np.diag(Q) / S - (stats["sx"] / S) ** 2
        self.x_std = np.sqrt(np.maximum(var, 0))
        about = self.X_off if self.fit_intercept else stats["sx"] / S
        self.constant = constant_columns(self.x_std, about)
        p = Q.shape[0]
        inv = np.ones(p)
        if standardize:
            inv = np.where(self.constant, 0.0, 1 / np.where(self.constant, 1, self.x_std))
        # the kernels' rounding of the scale and the group weights, as the residual mode
        self.inv_scale = inv.astype(self.dtype).astype(np.float64)
        d = self.inv_scale
        self.A = (d[:, None] * Q * d[None, :]) / S
        self.b = d * q / S
        self.yy = float(yy) / S
        self.null_deviance = 0.5 * self.yy
        self.n_features = self.p = p
        self.structure = structure
        gptr, gidx, c = structure.kernel_arrays(group_weights)
        self.gptr, self.gidx = gptr, gidx
        self.c = c.astype(self.dtype).astype(np.float64)
        self.blocks = [np.asarray(gidx[gptr[g]:gptr[g + 1]], dtype=np.intp)
                       for g in range(len(gptr) - 1)]
        self.L = np.array([float(np.linalg.eigvalsh(self.A[np.ix_(ix, ix)])[-1])
                           if ix.size > 1 else float(self.A[ix[0], ix[0]])
                           for ix in self.blocks])
        self._pinv = {}
        self._unpen_cache = {}
        self.g = self.b.copy()

    def penalty(self, rho):
        """The :class:`SparseGroupLasso` of these groups at ``l1_ratio = rho``."""
        return SparseGroupLasso(self.gptr, self.gidx, self.c, rho)

    # -- state --------------------------------------------------------------------------
    def start(self, w):
        w = np.array(w, dtype=np.float64)
        self.g = self.b - self.A @ w if w.any() else self.b.copy()
        return w

    def from_original(self, coef):
        coef = np.asarray(coef, dtype=np.float64)
        ok = self.inv_scale > 0
        return np.where(ok, coef / np.where(ok, self.inv_scale, 1), 0.0)

    def to_original(self, w):
        coef = np.asarray(w, dtype=np.float64) * self.inv_scale
        intercept = (self.y_off - float(self.X_off @ coef)) if self.fit_intercept else 0.0
        return coef.astype(self.dtype), self.dtype.type(intercept)

    # -- certificate inputs -------------------------------------------------------------
    def cert_stats(self, w, penalty):
        w = np.asarray(w, dtype=np.float64)
        g = self.b - self.A @ w  # from scratch: the kept gradient only steers the sweeps
        wb = float(w @ self.b)
        r_norm2 = max(self.yy - wb - float(w @ g), 0.0)
        return CertStats(r_norm2, self.yy - wb, 0.0, g, self._unpen(penalty.unpenalized))

    @per_mask
    def _unpen(self, mask):
        U = np.flatnonzero(mask)
        if U.size == 0:
            return None
        key = U.tobytes()
        if key not in self._unpen_cache:
            C = self.A[:, U]
            self._unpen_cache[key] = (U, C, C[U], self.b[U])
        return self._unpen_cache[key]

    # -- sweeps ---------------------------------------------------------------------------
    def _exact(self, gi, ix):
        if gi not in self._pinv:
            self._pinv[gi] = np.linalg.pinv(self.A[np.ix_(ix, ix)])
        return self._pinv[gi]

    def _visit(self, w, gi, alpha, rho):
        """Minimise the block model of group ``gi``; updates ``w`` and ``g``."""
        ix = self.blocks[gi]
        wg, gg = w[ix], self.g[ix]
        if self.c[gi] == 0:  # unpenalised: exact
            v = wg + self._exact(gi, ix) @ gg
        else:
            L = self.L[gi]
            if L <= 0:
                return
            t1, t2 = alpha * rho, alpha * (1 - rho) * self.c[gi]
            if not wg.any():
                e = np.maximum(np.abs(gg) - t1, 0)
                if np.sqrt(e @ e) <= t2:
                    return  # zero stays optimal for this block's model
            Agg = self.A[np.ix_(ix, ix)] if ix.size > 1 else None
            v = wg.copy()
            for _ in range(self.max_inner if ix.size > 1 else 1):
                grad = (Agg @ (v - wg) if Agg is not None else self.A[ix[0], ix[0]] *
                        (v - wg)) - gg
                u = v - grad / L
                u = np.sign(u) * np.maximum(np.abs(u) - t1 / L, 0)
                nrm = np.sqrt(u @ u)
                u = u * max(0.0, 1 - t2 / L / nrm) if nrm > 0 else u
                step = np.abs(u - v).max()
                v = u
                if step <= self.inner_eps * max(np.abs(v - wg).max(), 1e-300):
                    break
        delta = v - wg
        if delta.any():
            w[ix] = v
            self.g -= self.A[:, ix] @ delta

    def _epochs(self, w, penalty, alpha, max_epochs, target):
        rho = penalty.rho
        done, gap = 0, np.inf
        while done < max_epochs:
            active = penalty.group_norms(w) > 0
            ws = np.flatnonzero(active | ~penalty.penalised |
                                (penalty.violation(self.g, alpha) > 1e-12 * alpha))
            for gi in ws:
                self._visit(w, gi, alpha, rho)
            done += 1
            if done % self.check_every == 0 or done == max_epochs:
                gap = certificate(self.cert_stats(w, penalty), penalty, alpha, w).gap
                self.g = self.b - self.A @ w  # resynchronise the kept gradient
                if gap <= target:
                    break
        return done, gap

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Minimise at ``alpha`` from ``w`` (updated in place) until the certificate is at
        most ``tol_abs``. Returns ``(Certificate, epochs)``."""
        def run(inner, left, first):
            if left <= 0:
                return 0, np.inf
            return self._epochs(w, penalty, alpha, left, inner)

        return stop_on_certificate(
            run, lambda: certificate(self.cert_stats(w, penalty), penalty, alpha, w),
            tol_abs, max_iter)

    def null_fit(self, penalty, tol_abs, max_iter=1000):
        """The unpenalised features fitted alone (exact least squares on ``A``); returns
        ``(w, z)`` with ``z`` the projected gradient there."""
        w = np.zeros(self.p)
        U = np.flatnonzero(penalty.unpenalized)
        if U.size:
            w[U] = np.linalg.lstsq(self.A[np.ix_(U, U)], self.b[U], rcond=None)[0]
        w = self.start(w)
        z = project(self.cert_stats(w, penalty)).g
        return w, z
