"""Block coordinate descent for the (sparse-)group lasso: one fit and warm-started paths.

Objective (``s`` sample weights, normalised to sum to ``n``; ``c_g`` group weights)::

    1/(2n) Σ_i s_i (y_i - x_iᵀw - b)² + alpha (rho ||w||_1 + (1 - rho) Σ_g c_g ||w_g||_2)

The intercept is removed by weighted centring. Each solve works on a *working set* of groups
(those already non-zero, the unpenalised ones, and the groups the sequential strong rule
keeps); the compiled kernel sweeps it until the working-set duality gap is below ``tol``.
Then the gradient is computed over *all* features: any group violating its KKT condition
joins the working set and the kernel resumes. A point is accepted only when the duality gap
of the full problem is <= ``tol * ||y - ȳ||²_s / (2n)`` (scikit-learn's meaning of ``tol``),
so screening never drops a group that belongs in the solution.

Certificate: with ``z = X_cᵀ S r / n`` and ``t`` the largest scaling in [0, 1] making
``t r / n`` dual feasible (:meth:`SparseGroupLasso.dual_scale`), the dual value is
``D = (2 t <r, y>_s - t² ||r||²_s) / (2n)`` and ``gap = P - D >= P - P*``.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._kernels import _bcd_group as K
from ..datafits import normalized_weights, weighted_column_std, weighted_means
from ..penalties import SparseGroupLasso


@dataclass
class BCDResult:
    """One solve. ``coef`` is on the solver's (centred, possibly standardised) scale."""
    coef: np.ndarray
    gap: float
    kkt_violation: float
    n_iter: int
    converged: bool


@dataclass
class PathResult:
    """A warm-started path; ``coefs`` has shape (n_features, n_alphas), original scale."""
    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    gaps: np.ndarray
    kkt_violations: np.ndarray
    n_iters: np.ndarray
    converged: np.ndarray


class GroupProblem:
    """Centred (and optionally standardised) data, groups and Lipschitz constants, ready for
    the kernels. Built once per dataset; solves at any ``alpha`` reuse it.

    Dense ``X`` is copied once into ``sqrt(s) (X - x̄) / σ`` (Fortran order); sparse ``X``
    stays sparse (scaled by ``1/σ`` if standardising) and is centred implicitly.

    Each block visit minimises the group's exact quadratic model in its k×k Gram space
    (``max_inner`` FISTA iterations at most, stopping when the last change is below
    ``inner_eps`` times the block's total change): collinear groups then cost O(k²) inner
    iterations instead of O(n k) epochs. With ``rho = 0`` the block minimiser is exact
    (secular equation in the eigenbasis of the group Gram).
    """

    max_inner = 100
    inner_eps = 1e-3

    def __init__(self, X, y, sample_weight, structure, group_weights, rho,
                 fit_intercept=True, standardize=False):
        self.dtype = X.dtype
        self.n, self.p = X.shape
        self.rho = float(rho)
        self.sparse = sp.issparse(X)
        sw = normalized_weights(sample_weight, self.n, self.dtype)
        X_off, y_off = weighted_means(X, y, sw, fit_intercept)
        inv = np.ones(self.p, dtype=self.dtype)
        if standardize:
            std = weighted_column_std(X, X_off, sw).astype(np.float64)
            # Constant columns (std at rounding level): scale by 0, so coef stays 0.
            # (exact test: min == max; the variance formula loses this to rounding)
            const = np.asarray(X.max(axis=0).toarray() if self.sparse else X.max(axis=0)
                               ).ravel() == np.asarray(X.min(axis=0).toarray() if self.sparse
                                                       else X.min(axis=0)).ravel()
            const |= std == 0
            inv = np.where(const, 0.0, 1 / np.where(const, 1, std)).astype(self.dtype)
        self.X_off, self.y_off, self.inv_scale = X_off, y_off, inv
        self.fit_intercept = fit_intercept
        yc = np.asarray(y - y_off, dtype=self.dtype)
        if self.sparse:
            Xs = sp.csc_matrix(X, dtype=self.dtype)
            if standardize:
                Xs = Xs @ sp.diags(inv).astype(self.dtype)
                Xs = sp.csc_matrix(Xs)
            if not Xs.has_sorted_indices:
                Xs = Xs.sorted_indices()
            self.data = np.ascontiguousarray(Xs.data, dtype=self.dtype)
            self.indices = np.ascontiguousarray(Xs.indices, dtype=np.int32)
            self.indptr = np.ascontiguousarray(Xs.indptr, dtype=np.int32)
            self.Xs = Xs
            self.xmean = np.ascontiguousarray(X_off * inv, dtype=self.dtype)
            self.sw = (np.ones(self.n, dtype=self.dtype) if sw is None
                       else np.ascontiguousarray(sw, dtype=self.dtype))
            self.y = np.ascontiguousarray(yc)
        elif sw is None and not standardize:
            # No copy: the kernel centres implicitly (validated X is already Fortran).
            self.Xd = np.asfortranarray(X, dtype=self.dtype)
            self.xmean = np.ascontiguousarray(X_off, dtype=self.dtype)
            self.y = np.ascontiguousarray(yc)
            self.sw = None
        else:
            # Weights or scaling: one centred, sqrt(s)-scaled copy; unit weights inside.
            Xd = np.asarray(X, dtype=self.dtype) - X_off if fit_intercept else np.array(
                X, dtype=self.dtype)
            if standardize:
                Xd *= inv
            if sw is not None:
                root = np.sqrt(sw).astype(self.dtype)
                Xd *= root[:, None]
                yc = yc * root
            self.Xd = np.asfortranarray(Xd, dtype=self.dtype)
            self.xmean = np.zeros(self.p, dtype=self.dtype)
            self.y = np.ascontiguousarray(yc, dtype=self.dtype)
            self.sw = None
        self.y_sq = float(self._wdot(self.y, self.y))
        self.structure = structure
        gptr, gidx, c = structure.kernel_arrays(group_weights)
        self.gptr, self.gidx = gptr, gidx
        self.c = c.astype(self.dtype)
        self.sizes = np.diff(gptr)
        self.penalty = SparseGroupLasso(gptr, gidx, c, rho)
        self.L = self._lipschitz()
        kmax = max(int(self.sizes.max()) if self.sizes.size else 1, 1)
        self._buf = np.zeros(7 * kmax, dtype=self.dtype)  # block-model scratch
        self._wold = np.zeros(kmax, dtype=self.dtype)
        self.unpen_groups = np.flatnonzero(~self.penalty.penalised)
        self._XU = None
        unpen = gidx[np.repeat(~self.penalty.penalised, self.sizes)]
        if 0 < unpen.size <= 1000:
            # Centred (sqrt(s)-scaled) unpenalised columns: the certificate projects the
            # residual off their span so the dual point meets X_Uᵀθ = 0 exactly.
            if self.sparse:
                XU = (self.Xs[:, unpen].toarray() - self.xmean[unpen]).astype(np.float64)
                XU *= np.sqrt(self.sw)[:, None]
            else:
                XU = np.asarray(self.Xd[:, unpen], dtype=np.float64) - self.xmean[unpen]
            self._XU = XU

    # -- linear algebra on the prepared data --------------------------------------------
    def _wdot(self, a, b):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        return float(a @ b) if self.sw is None else float((self.sw * a) @ b)

    def _lipschitz(self):
        """Largest eigenvalue of each group's (centred, weighted) Gram / n."""
        out = np.zeros(int((self.sizes.astype(np.int64) ** 2).sum()), dtype=self.dtype)
        if self.sparse:
            K.group_grams_sparse(self.data, self.indices, self.indptr, self.n, self.sw,
                                 self.xmean, self.gptr, self.gidx, out)
        else:
            K.group_grams_dense(self.Xd, self.xmean, self.gptr, self.gidx, out)
        L = np.zeros(len(self.sizes), dtype=np.float64)
        offsets = np.concatenate([[0], np.cumsum(self.sizes.astype(np.int64) ** 2)])
        # the kernels solve each block model in this Gram space (see _bcd_group.pyx)
        self.Q, self.qoff = out, np.ascontiguousarray(offsets[:-1], dtype=np.intp)
        # rho = 0: the kernels solve each block exactly from Q_g = V_g^T diag(E_g) V_g
        self.exact = int(self.rho == 0)
        V = np.zeros(out.size if self.exact else 1, dtype=self.dtype)
        E = np.zeros(int(self.gptr[-1]) if self.exact else 1, dtype=self.dtype)
        for k in np.unique(self.sizes):
            sel = np.flatnonzero(self.sizes == k)
            if k == 1:
                L[sel] = out[offsets[sel]]
                continue
            blocks = np.stack([out[offsets[g]:offsets[g] + k * k].reshape(k, k)
                               for g in sel]).astype(np.float64)
            if self.exact:
                evals, evecs = np.linalg.eigh(blocks)
                for row, g in enumerate(sel):
                    V[offsets[g]:offsets[g] + k * k] = evecs[row].T.ravel()  # rows
                    E[self.gptr[g]:self.gptr[g] + k] = np.maximum(evals[row], 0)
                L[sel] = evals[:, -1]
            else:
                L[sel] = np.linalg.eigvalsh(blocks)[:, -1]
        self.V, self.E = V, E
        # Tiny relative slack keeps 1/L a valid step despite rounding; exact zero stays 0.
        L = np.where(L > 1e-12 * max(L.max(initial=0), 1e-300), L * (1 + 1e-6), 0.0)
        return L.astype(self.dtype)

    def residual(self, w):
        """Dense: ``y - X w``; sparse: ``y - X w`` with ``X`` uncentred (see the kernel)."""
        nz = np.flatnonzero(w)  # only the non-zero columns (often none: a cold start)
        if nz.size == 0:
            return self.y.copy()
        Xnz = self.Xs[:, nz] if self.sparse else self.Xd[:, nz]
        return np.ascontiguousarray(self.y - Xnz @ w[nz], dtype=self.dtype)

    def centred_residual(self, r, w):
        """``r`` is stored without the centring offset ``x̄ᵀw`` (see the kernels)."""
        return np.asarray(r, dtype=np.float64) + float(self.xmean @ w)

    def gradient(self, r, w):
        """``z = X_cᵀ S r_c / n`` over every feature (float64). ``r`` as stored (the
        centring offset cancels)."""
        z = np.empty(self.p, dtype=np.float64)
        r = np.ascontiguousarray(r, dtype=self.dtype)
        if self.sparse:
            K.gradient_sparse(self.data, self.indices, self.indptr, self.sw, self.xmean, r, z)
        else:
            K.gradient_dense(self.Xd, self.xmean, r, z)
        return z

    def certificate(self, r, w, alpha, z=None):
        """``(gap, kkt_violation, z)`` of the full problem at ``w``."""
        z = self.gradient(r, w) if z is None else z
        rt = self.centred_residual(r, w)
        rr = self._wdot(rt, rt)
        primal = rr / (2 * self.n) + self.penalty.value(w, alpha)
        rd, zd = rt, z
        if self._XU is not None:  # dual point off the unpenalised span (see __init__)
            root = 1.0 if self.sw is None else np.sqrt(self.sw)
            beta = np.linalg.lstsq(self._XU, root * rt, rcond=None)[0]
            rd = rt - (self._XU @ beta) / root
            zd = self.gradient(self._residual_from_centred(rd, w), w)
        t = self.penalty.dual_scale(zd, alpha)
        rdrd, rdy = self._wdot(rd, rd), self._wdot(rd, self.y)
        dual = (2 * t * rdy - t * t * rdrd) / (2 * self.n)
        return primal - dual, self.penalty.kkt_violation(z, w, alpha), z

    def _residual_from_centred(self, rc, w):
        return rc - float(self.xmean @ w)  # inverse of centred_residual

    def tol_scale(self):
        """``||y - ȳ||²_s / (2n)``: ``tol`` is relative to it (the null model's loss)."""
        return self.y_sq / (2 * self.n)

    # -- the kernel -----------------------------------------------------------------------
    def _sweep(self, w, r, ws, alpha, max_epochs, tol_abs, gap_freq=10):
        if ws.size == 0 or max_epochs <= 0:
            return 0, 0.0
        args = (self.gptr, self.gidx, self.c, self.L, self.Q, self.qoff, self.V, self.E,
                self.exact, ws,
                self.dtype.type(alpha), self.dtype.type(self.rho), int(max_epochs),
                self.dtype.type(tol_abs), int(gap_freq), self.max_inner,
                self.dtype.type(self.inner_eps), self._buf, self._wold)
        if self.sparse:
            return K.bcd_sparse(self.data, self.indices, self.indptr, self.sw, self.xmean,
                                self.y, w, r, *args)
        return K.bcd_dense(self.Xd, self.xmean, self.y, w, r, *args)

    def fit_unpenalised(self, max_iter=1000):
        """Least squares on the unpenalised features alone (all penalised groups at 0):
        the model every path starts from. Returns ``(w, r)``."""
        w = np.zeros(self.p, dtype=self.dtype)
        r = self.residual(w)
        if self.unpen_groups.size:
            ws = self.unpen_groups.astype(np.int32)
            self._sweep(w, r, ws, 1.0, max_iter, 1e-10 * self.tol_scale())
        return w, r

    def alpha_max(self):
        """Smallest alpha at which every penalised group is zero."""
        w, r = self.fit_unpenalised()
        return self.penalty.alpha_max(self.gradient(r, w))

    @staticmethod
    def _top(score, mask, k):
        """Boolean mask of the (at most) ``k`` largest ``score`` entries within ``mask``."""
        out = np.zeros_like(mask)
        idx = np.flatnonzero(mask)
        if idx.size > k:
            idx = idx[np.argpartition(-score[idx], k - 1)[:k]]
        out[idx] = True
        return out

    def solve(self, alpha, w, r, tol, max_iter, z=None, alpha_prev=None, p0=10):
        """Solve at ``alpha`` from ``(w, r)`` (updated in place). ``z``/``alpha_prev``: the
        gradient at the previous path point, for the sequential strong rule."""
        tol_abs = tol * self.tol_scale()
        pen = self.penalty
        if z is None:
            z = self.gradient(r, w)
        active = pen.group_norms(w) > 0
        score = pen.violation(z, alpha)
        if alpha_prev is None:
            # Cold start: the p0 worst violators (celer/skglm-style working set); the KKT
            # pass below adds more while any group violates.
            strong = self._top(score, ~active & pen.penalised & (score > 0),
                               max(p0, int(active.sum())))
        else:
            # Sequential strong rule: ||S(z_g, a rho)|| > (1 - rho) c_g (2a - a_prev).
            strong = pen._soft_norm(z, alpha * self.rho) > \
                (1 - self.rho) * pen.weights * (2 * alpha - alpha_prev)
        ws = active | ~pen.penalised | (strong & pen.penalised)
        tol_inner = tol_abs
        n_iter = 0
        gap = kkt = np.inf
        for _ in range(200):
            epochs, _ = self._sweep(w, r, np.flatnonzero(ws).astype(np.int32), alpha,
                                    max_iter - n_iter, tol_inner)
            n_iter += epochs
            gap, kkt, z = self.certificate(r, w, alpha)
            if gap <= tol_abs or n_iter >= max_iter:
                break
            # slack: a violation at rounding level (e.g. exactly at alpha_max) is none
            viol = (pen.violation(z, alpha) > 1e-12 * alpha) & ~ws
            if viol.any():
                # grow by at most max(p0, |ws|) groups, the worst violators first
                ws |= self._top(pen.violation(z, alpha), viol, max(p0, int(ws.sum())))
            else:  # working set is right; the gap is rounding-limited: tighten the inner tol
                tol_inner *= 0.25
                if tol_inner < 1e-3 * tol_abs:
                    break
        return BCDResult(coef=w, gap=float(gap), kkt_violation=float(kkt), n_iter=n_iter,
                         converged=bool(gap <= tol_abs)), z

    def from_original(self, coef):
        """Solver-scale coefficients from user-scale ones (a warm start)."""
        coef = np.asarray(coef, dtype=self.dtype)
        ok = self.inv_scale > 0
        return np.where(ok, coef / np.where(ok, self.inv_scale, 1), 0).astype(self.dtype)

    def to_original(self, w):
        """Coefficients and intercept on the user's scale."""
        coef = np.asarray(w, dtype=self.dtype) * self.inv_scale
        intercept = (self.y_off - float(self.X_off @ coef)) if self.fit_intercept else 0.0
        return coef, self.dtype.type(intercept)


def solve_path(problem, alphas, tol=1e-4, max_iter=1000, coef_init=None):
    """Warm-started path over decreasing ``alphas`` on a :class:`GroupProblem`.

    ``coef_init`` is on the solver's scale (as ``BCDResult.coef``); by default the path
    starts from the unpenalised least-squares fit.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    if coef_init is None:
        w, r = problem.fit_unpenalised(max_iter)
    else:
        w = np.array(coef_init, dtype=problem.dtype)
        r = problem.residual(w)
    K_ = len(alphas)
    coefs = np.zeros((problem.p, K_), dtype=problem.dtype)
    intercepts = np.zeros(K_, dtype=problem.dtype)
    gaps, kkts = np.zeros(K_), np.zeros(K_)
    n_iters, conv = np.zeros(K_, dtype=int), np.zeros(K_, dtype=bool)
    z, a_prev = None, None
    for k, a in enumerate(alphas):
        res, z = problem.solve(a, w, r, tol, max_iter, z=z, alpha_prev=a_prev)
        a_prev = a
        coefs[:, k], intercepts[k] = problem.to_original(w)
        gaps[k], kkts[k], n_iters[k], conv[k] = (res.gap, res.kkt_violation, res.n_iter,
                                                 res.converged)
    return PathResult(alphas=alphas, coefs=coefs, intercepts=intercepts, gaps=gaps,
                      kkt_violations=kkts, n_iters=n_iters, converged=conv), w
