"""Proximal Newton for the multinomial family (glmnet's ``family="multinomial"``).

Objective (``N = Σs``; ``W`` of shape (n_features, n_classes), ``b`` the K intercepts,
unpenalised; ``Y`` one-hot)::

    1/N Σ_i s_i [log Σ_k e^{η_ik} - η_{i,y_i}] + alpha·Ω(W),   η_i = Wᵀx_i + b,

``Ω`` the elastic net on every entry (:class:`~sklearn_normpen.penalties.
ClasswiseElasticNetPenalty`, glmnet's ``type.multinomial="ungrouped"``) or on the rows
``W_j`` (:class:`~sklearn_normpen.penalties.MultiTaskElasticNetPenalty`, ``"grouped"``).

The solves are compiled (:func:`~sklearn_normpen._kernels._cd_multinomial.
multinomial_sweeps`, on the working set of features; the certificate is checked here
between calls). Ungrouped, a sweep visits the classes in turn (glmnet's scheme): class k,
the others fixed, has the exact diagonal curvature ``s_i p_ik(1 - p_ik)`` (floored at 1e-5
as glmnet floors its weights), its weighted least-squares model is solved by coordinate
descent and an Armijo line search on the true objective accepts the step. Grouped, a step
moves every class at once on the exact Newton model (the rows' Hessians
``diag(p_i) - p_i p_iᵀ``), solved by block coordinate descent with each block's diagonal
majoriser ``diag(Σ_i s_i x_ij² d_ik)`` (``d_i = p_i``, or for a row whose largest
probability ``p_im`` exceeds 1/2 a tighter diagonal within ``1 + p_im`` of the Hessian's;
``_cd_multinomial._row_majoriser``), then the same line search. After each sweep every
feature's K coefficients take their penalty-minimising common shift (glmnet's ``elc``:
the loss is invariant to it). While the gap is far from its target, several sweeps run
between certificates (their number predicted from the gap's linear rate).
:class:`~sklearn_normpen._solvers.multinomial_group.GroupMultinomialProblem` (groups of
features) supplies its own Newton model to the loop in :meth:`MultinomialProblem.solve`.

Certificate (the package's one, :func:`sklearn_normpen._certificate.certificate`, with the
:class:`~sklearn_normpen.datafits.Multinomial` datafit): the dual direction is
``R = Y - P`` (rows sum to 0) made feasible for the intercepts (``Σ_i s_i θ_i = 0``) and
the unpenalised features (``x_jᵀ S Θ = 0``) by the correction ``Δ_i = H_i C ᵀa_i``
(``H_i`` the row's Hessian, ``a_i`` the row of an orthonormal basis of ``[1, X_U]``'s
span, ``C`` solving the linear constraints): rows of ``Δ`` sum to 0, and ``Δ_ik`` is
proportional to ``p_ik``, so ``y - tθ`` stays in the simplex near the optimum
(subtracting column means would not: a tiny ``p_ik`` would force ``t`` to 0). The datafit
bounds ``t`` to the simplex. The gap is valid for any ``(W, b)``; at the optimum
``C = 0``. ``tol`` is relative to the intercept-only loss (the entropy of the class
shares).

Intercepts are defined up to a common shift: :meth:`MultinomialProblem.to_original` centres
them (they sum to 0, as glmnet's), and the K coefficients of each unpenalised feature.
"""
import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular

from .._certificate import CertStats, certificate
from .._design import Design, UnpenalisedStep, _f64_blocks
from .._kernels import _cd_multinomial
from .._validation import call_kernel
from ..datafits import GLMStats, Multinomial
from ..penalties import ClasswiseElasticNetPenalty, MultiTaskElasticNetPenalty
from .prox_newton import MAX_NEWTON, glmnet_stop, unpenalised_basis

CURVATURE_FLOOR = 1e-5  # glmnet's floor of the IRLS weights


class MultinomialProblem:
    """One data set (or CV training fold, ``rows``) prepared for repeated multinomial
    solves (the problem protocol of :mod:`sklearn_normpen._path`).

    Parameters
    ----------
    X : ndarray (Fortran) or CSC matrix of shape (n_samples, n_features)
    codes : ndarray of int of shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int
    sample_weight : ndarray or None
    fit_intercept : bool
    grouped : bool
        The penalty kind the solves expect (see the module docstring).
    rows : ndarray of int, default=None
    """

    datafit = Multinomial

    def __init__(self, X, codes, n_classes, sample_weight, fit_intercept, grouped,
                 rows=None):
        if sp.issparse(X):
            X = sp.csc_matrix(X)
            if not X.has_sorted_indices:
                X = X.sorted_indices()
        n_all = X.shape[0]
        d = Design(X, np.zeros(n_all, dtype=X.dtype), sample_weight, fit_intercept,
                   rows=rows)
        codes = np.asarray(codes if rows is None else codes[rows], dtype=np.intp)
        self.design, self.grouped = d, bool(grouped)
        self.mode = "sparse" if d.sparse else "dense"
        self.dtype = np.dtype(d.dtype)
        self.n_features, self.K = d.p, int(n_classes)
        self.coef_tail = (self.K,)  # the path stores (p, K, n_alphas), (K, n_alphas)
        self.fit_intercept, self.N = d.fit_intercept, d.N
        self.x_std, self.constant = d.x_std, d.constant
        self.Y = np.zeros((d.n, self.K))
        self.Y[np.arange(d.n), codes] = 1.0
        self._codes = codes.astype(np.intc)
        self._kargs = None  # multinomial_sweeps' data arguments (_kernel_args)
        self._bshift = None  # x̄ of the columns the sparse layout stores centred
        self._ever = None  # (penalty, mask): features in a working set along this path
        self._lin = Design(d.X, np.zeros(d.n, dtype=d.dtype), d.sw, False)
        share = (self.Y.sum(axis=0) if d.sw64 is None else d.sw64 @ self.Y) / d.N
        if np.any(share <= 0):
            absent = np.flatnonzero(share <= 0)
            raise ValueError(
                f"class(es) at index {absent.tolist()} have no sample (or zero total "
                "sample_weight) in the data being fitted, e.g. a cross-validation training "
                "fold: the multinomial intercept would be -inf. Use stratified folds "
                "(the default for an int cv) or fewer folds. (glmnet refuses a class with "
                "fewer than 2 observations.)")
        if self.fit_intercept:  # the intercept-only fit: log class shares, centred
            lp = np.log(share)
            self._b0 = lp - lp.mean()
        else:
            self._b0 = np.zeros(self.K)
        self._mean = GLMStats(None, None, None, d.sw64, d.N).mean
        self.saturated_loss = 0.0  # one-hot labels
        self.null_deviance = max(
            self._mean(Multinomial.loss(self.Y, np.tile(self._b0, (d.n, 1)))), 0.0)
        self._null, self._unpen_cache = {}, {}
        self._ws_g = None
        self._cache = {}  # per-η quantities: key -> (η, value), valid while η is that array
        self.b = self._b0.copy()
        self.eta = np.tile(self.b, (d.n, 1))
        self._dev_prev, self._n_points = None, 0
        self._stepped = True

    # -- state ----------------------------------------------------------------------------
    def _XW(self, W):
        """``X W`` (n, K) in float64 (only the non-zero rows of ``W`` are read)."""
        W = np.asarray(W, dtype=np.float64)
        out = np.zeros((self.design.n, W.shape[1]))
        nz = np.flatnonzero(np.any(W != 0, axis=1))
        if nz.size == 0:
            return out
        X = self.design.X
        if self.design.sparse:  # (slicing CSC columns costs more than the product)
            return np.asarray(self._lin._sparse64() @ W)
        if X.dtype == np.float64:
            return X @ W if 2 * nz.size > X.shape[1] else X[:, nz] @ W[nz]
        for a, b, B in _f64_blocks(X, None, nz):
            out += B @ W[nz[a:b]]
        return out

    def start(self, w):
        """Set the state to ``w`` (intercepts: the null model's); returns the C-ordered
        (n_features, n_classes) array the solves update in place."""
        w = np.array(np.broadcast_to(w, (self.n_features, self.K)) if np.ndim(w) < 2
                     else w, dtype=self.dtype, order="C")
        self.b = self._b0.copy()
        self.eta = self._XW(w) + self.b
        self._ever = None
        self._dev_prev, self._n_points = None, 0
        return w

    def to_original(self, w):
        """``(W, b)``: ``b`` centred to sum to 0, and so are the rows of the features the
        last solve left unpenalised (the softmax is invariant to both shifts: loss,
        penalty and certificate are those of ``w``)."""
        free = getattr(self, "_free", None)
        if free is not None and free.any():
            w = np.array(w)
            w[free] -= w[free].mean(axis=1, keepdims=True).astype(w.dtype)
        if not self.fit_intercept:
            return w, np.zeros(self.K)
        return w, self.b - self.b.mean()

    def _cached(self, key, eta, fn):
        """``fn(eta)``, computed once per η array (η is replaced, never modified in
        place, so the array's identity keys its derived quantities)."""
        c = self._cache.get(key)
        if c is None or c[0] is not eta:
            c = self._cache[key] = (eta, fn(eta))
        return c[1]

    def _loss(self, eta):
        return self._cached("loss", eta, lambda e: self._mean(Multinomial.loss(self.Y, e)))

    def _proba(self, eta):
        return self._cached("proba", eta, Multinomial.mean)

    def _objective(self, eta, w, penalty, alpha):
        return self._loss(eta) + penalty.value(w, alpha)

    # -- certificate ------------------------------------------------------------------------
    def _basis(self, U):
        return unpenalised_basis(self.design, U, self.fit_intercept, self._unpen_cache)

    def _dual_direction(self, R, P, unpenalized):
        """``R - Δ`` with ``Aᵀ S (R - Δ) = 0`` and ``Δ_i = H_i Cᵀ a_i`` (module docstring)."""
        U = np.flatnonzero(unpenalized)
        if not self.fit_intercept and U.size == 0:
            return R
        A = self._basis(U)
        # the constraints on an orthonormal basis of A's span (rank-revealing QR): on A's
        # own columns (1e6 apart in scale, nearly collinear, offset) the system below
        # squares their condition number, its solution missed the constraints and the
        # bound fell back to Θ = 0 (gaps of 0.5-0.9 of the null deviance)
        Q = self._orth(U).Qh
        sw = self.design.sw64
        V = Q @ self._block_newton(Q, P, R)
        Rp = R - P * (V - np.sum(P * V, axis=1, keepdims=True))
        SA = A if sw is None else sw[:, None] * A
        # the system is singular when a class's probabilities all underflow: then the
        # constraints may be unmet, and Θ = 0 (always feasible, gap = primal) is the bound
        # (rounding-level violations, relative to the sums' terms, are accepted)
        viol = np.abs(SA.T @ Rp)
        if not np.all(viol <= 1e-8 * (np.abs(SA).T @ np.abs(R)) + 1e-300):
            return np.zeros_like(R)
        return Rp

    def _orth(self, U):
        """The :class:`~sklearn_normpen._design.UnpenalisedStep` of ``[1, X_U]`` (cached):
        its QR's orthonormal basis ``Qh`` of their span, and whether they are
        ill-conditioned (``ill``)."""
        key = ("orth", U.tobytes())
        if key not in self._unpen_cache:
            self._unpen_cache[key] = UnpenalisedStep(self._basis(U))
        return self._unpen_cache[key]

    def _block_newton(self, Q, P, R):
        """``C`` (m, K) solving ``M vec(C) = vec(Qᵀ S R)`` in the least-squares sense, with
        ``M[(l,k),(l',k')] = Σ_i s_i q_il q_il' H_i[k,k']``, ``H_i = diag(p_i) - p_i p_iᵀ``:
        the multinomial Hessian in the directions ``η += Q C`` (singular along a common
        shift of the K classes; the minimum-norm solution)."""
        sw = self.design.sw64
        SQ = Q if sw is None else sw[:, None] * Q
        m, K = Q.shape[1], self.K
        M = np.empty((m, K, m, K))
        for a in range(m):
            for c in range(a, m):
                v = SQ[:, a] * Q[:, c]
                vP = v[:, None] * P
                M[a, :, c, :] = np.diag(vP.sum(axis=0)) - vP.T @ P
                M[c, :, a, :] = M[a, :, c, :]
        rhs = SQ.T @ R  # (m, K)
        return np.linalg.lstsq(M.reshape(m * K, m * K), rhs.ravel(),
                               rcond=None)[0].reshape(m, K)

    #: Newton steps of :meth:`_unpen_newton` per call at most (each ``O(n m² K²)``)
    UNPEN_NEWTON_STEPS = 20

    def _unpen_newton(self, w, penalty, alpha):
        """Newton steps on the intercepts and the unpenalised features jointly, the others
        held (the Hessian in an orthonormal basis of their span, :meth:`_orth`; Armijo on
        the true objective), until a step no longer lowers it. The sweeps visit those
        coefficients one at a time (a class at a time ungrouped), which crawls when their
        columns are nearly collinear or far apart in scale: such fits stopped at gaps of
        1e-2 to 0.2 of the null deviance. Float64 only, and only for an ill-conditioned
        block (:attr:`UnpenalisedStep.ill <sklearn_normpen._design.UnpenalisedStep.ill>`)
        that :meth:`UnpenalisedStep.affordable` admits; updates ``w``, ``b`` and ``η``.
        Returns whether ``w`` or ``b`` moved."""
        U = np.flatnonzero(penalty.unpenalized)
        d = self.design
        if (U.size == 0 or self.dtype != np.float64
                or not UnpenalisedStep.affordable(U.size, d.n, d.X.nnz if d.sparse
                                                  else d.n * d.p)):
            return False
        step = self._orth(U)
        Q, Rq, cols, norms = step.Qh, step.R, step.cols, step.norms
        if not step.ill or Q.shape[1] == 0:
            return False
        off = int(self.fit_intercept)  # the basis' first column is 1 with an intercept
        moved = False
        for _ in range(self.UNPEN_NEWTON_STEPS):
            P = self._proba(self.eta)
            C = self._block_newton(Q, P, self.Y - P)
            D = np.zeros((U.size + off, self.K))  # the step on [b, W_U]
            D[cols] = solve_triangular(Rq, C) / norms[:, None]
            deta = self._basis(U) @ D
            w64 = np.asarray(w, dtype=np.float64)
            p0 = self._objective(self.eta, w64, penalty, alpha)
            slope = self._mean(np.sum((P - self.Y) * deta, axis=1))
            rounding = 8 * np.finfo(np.float64).eps * abs(p0)
            if not slope < -rounding:
                break
            t = 1.0
            for _ in range(30):
                eta = self.eta + t * deta
                if self._objective(eta, w64, penalty, alpha) <= p0 + 1e-4 * t * slope:
                    break
                t *= 0.5
            else:
                break
            w[U] = w64[U] + t * D[off:]
            if self.fit_intercept:
                self.b = self.b + t * D[0]
            self.eta = self._XW(w) + self.b  # (from scratch: no drift)
            moved = True
        return moved

    def _grad(self, M, centred=False):
        """``Xᵀ S M / N`` (p, columns of M) in float64; ``centred``: the columns of ``M``
        sum to 0 under ``S``, read ``Xcᵀ S M`` off the Design's layout (offset columns
        stored centred: ``Xᵀ S M`` would cancel ``|x̄|/σ`` of their digits)."""
        d = self.design
        if centred:
            return np.column_stack([d.gradient64(np.ascontiguousarray(M[:, k]))
                                    for k in range(M.shape[1])]) / self.N
        if not d.sparse and d.dtype == np.float64:
            SM = M if d.sw64 is None else d.sw64[:, None] * M
            return np.asarray(d.X.T @ SM) / self.N
        return np.column_stack([self._lin.gradient64(np.ascontiguousarray(M[:, k]))
                                for k in range(M.shape[1])]) / self.N

    def cert_stats(self, w, penalty):
        """:class:`CertStats` at the current state (float64, package scale; see
        :meth:`_point`); reused while ``η`` and the unpenalised mask are unchanged."""
        return self._certified(w, penalty)[0]

    def _certified(self, w, penalty):
        """``(CertStats, w')``: :meth:`cert_stats` and the point it is formed at."""
        c = self._cache.get("cert")
        if c is not None and c[0] is self.eta and c[1][0] is penalty.unpenalized:
            return c[1][1], (w if c[1][2] is None else c[1][2])
        wc, eta = self._point(w)
        stats = self._cert_stats(penalty, eta)
        self._cache["cert"] = (self.eta, (penalty.unpenalized, stats, wc))
        self._ws_g = stats.g  # the working sets' gradient until the next certificate
        return stats, (w if wc is None else wc)

    def _point(self, w):
        """``(w', η')`` a certificate is formed at: ``(None, η)``, the state itself (a
        subclass may certify the point its returned coefficients stand for)."""
        return None, self.eta

    def _cert_stats(self, penalty, eta):
        P = self._proba(eta)
        R = self.Y - P
        Rp = self._dual_direction(R, P, penalty.unpenalized)
        d = self.design
        if self.fit_intercept and d.Xk is not d.X:  # offset columns: gp read centred
            g = np.ascontiguousarray(self._grad(R))
            gp = np.ascontiguousarray(self._grad(Rp, centred=True))
        else:  # one pass for both
            G = self._grad(np.hstack([R, Rp]))
            g, gp = np.ascontiguousarray(G[:, :self.K]), np.ascontiguousarray(G[:, self.K:])
        gp[penalty.unpenalized] = 0.0
        return CertStats(0.0, 0.0, 0.0, g, None, gp=gp,
                         glm=GLMStats(self.Y, eta, Rp, self.design.sw64, self.N))

    def certificate(self, w, penalty, alpha):
        stats, wc = self._certified(w, penalty)
        return certificate(stats, penalty, alpha, wc, datafit=Multinomial)

    # -- solves -------------------------------------------------------------------------------
    def _model_step(self, w, penalty, alpha, tol_model, max_iter, alpha_prev, k=None):
        """A subclass's Newton model for a penalty the compiled sweeps do not solve:
        ``(W_new (p, K) float64, b_new (K,), epochs)``."""
        raise NotImplementedError(
            f"{type(penalty).__name__} is not solved by {type(self).__name__}")

    def _line_search(self, w, Wq, bq, penalty, alpha):
        """Armijo backtracking on the true objective along ``(Wq - w, bq - b)``; updates
        ``w`` (in place), ``b`` and ``η`` on success. Returns ``(moved, accepted,
        decrease)``."""
        w64 = np.asarray(w, dtype=np.float64)
        dW = Wq - w64
        db = (bq - self.b) if self.fit_intercept else np.zeros(self.K)
        if not dW.any() and not db.any():
            return False, False, 0.0
        deta = self._XW(dW) + db
        p0 = self._objective(self.eta, w64, penalty, alpha)
        P = self._proba(self.eta)
        slope = self._mean(np.sum((P - self.Y) * deta, axis=1))
        delta = slope + penalty.value(Wq, alpha) - penalty.value(w64, alpha)
        rounding = 8 * np.finfo(np.float64).eps * abs(p0)
        step, accepted = 1.0, False
        if not delta < -rounding:
            # a decrease at rounding level, yet the gap is not: take the full step unless
            # it visibly increases the objective
            eta_t = self.eta + deta
            pt = self._objective(eta_t, Wq, penalty, alpha)
            accepted = pt <= p0 + rounding
        else:
            for _ in range(40):
                eta_t = self.eta + step * deta
                pt = self._objective(eta_t, w64 + step * dW, penalty, alpha)
                if pt <= p0 + 1e-4 * step * delta:
                    accepted = True
                    break
                step *= 0.5
        if not accepted:
            return True, False, 0.0
        w[:] = w64 + step * dW
        self.b = self.b + step * db
        # updated, not recomputed: solve() recomputes η from the (cast) w after each sweep
        self.eta = eta_t  # (its loss is cached)
        return True, True, max(p0 - pt, rounding)

    def _best_shift(self, W, penalty, alpha):
        """A subclass's penalty-minimising shift of the rows of ``W`` (the loss is invariant
        to a common shift of a feature's K coefficients)."""
        raise NotImplementedError

    # -- ungrouped: the compiled sweeps ---------------------------------------------------
    def _kernel_args(self):
        """``(X_data, X_indices, X_indptr, codes, sw, mu)`` of :func:`multinomial_sweeps`
        (CSC, or the Fortran X flattened with empty index arrays; ``mu`` the centring
        shifts, dense with an intercept only), built once per problem."""
        if self._kargs is None:
            d = self.design
            empty = np.zeros(0, dtype=np.intc)
            if d.sparse:
                # the Design's layout: offset columns stored centred (the kernel's CSC
                # curvature sum v x² - (sum v x)²/V cancels on them: NaN at mean 1e6);
                # its intercept is then b' = b + shiftᵀ W (see _solve_sweeps)
                Xk = d.Xk if self.fit_intercept else d.X
                shift = d.layout_shift
                self._bshift = shift if Xk is not d.X else None
                xk = (Xk.data, Xk.indices.astype(np.intc, copy=False),
                      Xk.indptr.astype(np.intc, copy=False))
            else:
                xk = (d.X.ravel(order="F"), empty, empty)
            sw = np.ones(d.n) if d.sw64 is None else np.ascontiguousarray(d.sw64)
            mu = (np.array(d.x_mean, dtype=np.float64) if self.fit_intercept
                  and not d.sparse else np.zeros(d.p))
            self._kargs = xk + (self._codes, sw, mu)
        return self._kargs

    def _sweep_set(self, w, penalty, alpha, alpha_prev):
        """The features the next sweep may move (every class): non-zero in some class,
        ever in the set along this path, unpenalised, or flagged by the gradient of the
        last certificate in some class (the sequential strong rule on a point's first
        sweep, the KKT violators afterwards); never an excluded one."""
        f = penalty if self.grouped else penalty.feature
        a = alpha if alpha_prev is None else max(2 * alpha - alpha_prev, 0.0)
        g = (np.sqrt(np.sum(np.square(self._ws_g), axis=1)) if self.grouped
             else np.abs(self._ws_g).max(axis=1))
        with np.errstate(invalid="ignore"):  # 0·inf (excluded, a = 0): never kept
            keep = g > a * np.where(f.excluded, np.inf, f.l1_ratio * f.l1_factor)
        keep |= np.any(np.asarray(w) != 0, axis=1) | f.unpenalized
        if self._ever is not None and self._ever[0] is f:
            keep |= self._ever[1]
        keep &= ~f.excluded
        self._ever = (f, keep)
        return np.flatnonzero(keep).astype(np.intc)

    def _solve_sweeps(self, w, penalty, alpha, tol_abs, max_iter, alpha_prev):
        """:meth:`solve` for the row penalties (module docstring): each outer step is one
        or more compiled sweeps (:func:`~sklearn_normpen._kernels._cd_multinomial.
        multinomial_sweeps`, which keeps ``η = XW + 1bᵀ``), then the certificate."""
        f = penalty if self.grouped else penalty.feature
        l1, l2 = (np.ascontiguousarray(np.where(f.excluded, 0.0, v), dtype=np.float64)
                  for v in f._l1_l2(alpha))
        Xd, Xi, Xp, codes, sw, mu = self._kernel_args()
        exact = self.dtype == np.float64  # the kernel's float64 W is then the stored w
        self.eta = self._XW(w) + self.b  # from scratch once per point (no drift)
        cert = self.certificate(w, penalty, alpha)
        epochs, shrink, last_decrease = 0.0, 0.1, np.inf
        floor = 1e-3 * tol_abs
        self._stepped = False
        prev, rate = alpha_prev, None
        for it in range(MAX_NEWTON):
            if cert.gap <= tol_abs or epochs >= max_iter:
                break
            tol_model = max(min(shrink * cert.gap, 0.1 * last_decrease), floor)
            ws = self._sweep_set(w, penalty, alpha, prev)
            prev = None
            # the gap falls linearly over the sweeps: while it is far from its target,
            # several sweeps between certificates (short of the predicted count; a slow
            # rate, as the grouped majoriser's at small alpha, needs many)
            n_sweeps = 1
            if rate is not None and rate < 1:
                need = np.log(tol_abs / cert.gap) / np.log(rate)
                n_sweeps = int(np.clip(0.6 * need, 1, 4 if rate < 0.95 else 16))
            W = np.array(w, dtype=np.float64, order="C")
            b = np.array(self.b, dtype=np.float64)
            if self._bshift is not None:
                b += self._bshift @ W  # the kernel's intercept on its layout
            eta = np.array(self.eta, dtype=np.float64, order="C")
            rounding = 8 * np.finfo(np.float64).eps * abs(cert.primal)
            acc, still, passes, dec = call_kernel(
                _cd_multinomial.multinomial_sweeps, Xd, Xi, Xp, self.design.n, codes, sw,
                self.N, W, b, eta, ws, l1, l2, mu, self.fit_intercept, n_sweeps,
                tol_model * self.N / (1 if self.grouped else self.K),
                int(min(max(max_iter - epochs, 1), 10000)),
                CURVATURE_FLOOR, rounding, self.grouped)
            epochs += passes
            if acc == 0:
                if still < n_sweeps * (1 if self.grouped else self.K):  # a step that no
                    # line search accepted
                    break
                if tol_model <= floor:
                    break
                shrink *= 1e-3  # the models' start already met their target: ask for more
                continue
            last_decrease = dec / n_sweeps
            self._stepped = True
            w[:] = W
            self.b = b if self._bshift is None else b - self._bshift @ W
            # the kernel keeps eta = X W + 1 b' (shifts included); float32 w is a rounded W
            self.eta = eta if exact else self._XW(w) + self.b
            self._unpen_newton(w, penalty, alpha)
            gap0 = cert.gap
            cert = self.certificate(w, penalty, alpha)
            if cert.gap > 0 and gap0 > 0:
                rate = (cert.gap / gap0) ** (1.0 / n_sweeps)
        return cert, int(np.ceil(epochs))

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Proximal Newton at ``alpha`` from ``w`` (updated in place) until the certificate
        is at most ``tol_abs``, ``max_iter`` inner epochs are spent, or no step decreases
        the objective any more. Ungrouped, each outer step visits the K classes in turn
        (glmnet's order), each with its own model and line search. Returns
        ``(Certificate, epochs)``."""
        self._free = penalty.unpenalized
        if isinstance(penalty, (ClasswiseElasticNetPenalty, MultiTaskElasticNetPenalty)):
            return self._solve_sweeps(w, penalty, alpha, tol_abs, max_iter, alpha_prev)
        # a subclass's penalty (GroupMultinomialProblem): its Newton model, then the line
        # search, the shift and the certificate here
        cert = self.certificate(w, penalty, alpha)
        epochs, shrink, last_decrease = 0, 0.1, np.inf
        self._stepped = False  # glmnet_stop: did this point take a step?
        floor = 1e-3 * tol_abs
        blocks = [None]
        # linear and slow along flat directions (near-certain rows): max_iter bounds it
        for it in range(10 * MAX_NEWTON):
            if cert.gap <= tol_abs or epochs >= max_iter:
                break
            # inexact Newton: the models solved to a fraction of the outer gap and of the
            # last decrease (as GLMProblem)
            tol_model = max(min(shrink * cert.gap, 0.1 * last_decrease), floor)
            moved = accepted = False
            decrease = 0.0
            budget = max(max_iter - int(epochs), 1)
            if self.dtype == np.float32:  # (as GLMProblem: the rest for a refinement)
                budget = max(budget // 2, 1)
            for k in blocks:
                Wq, bq, ep = self._model_step(w, penalty, alpha, tol_model, budget,
                                              alpha_prev if it == 0 else None, k)
                # an epoch is one pass over all p·K coefficients: a class's is 1/K of one
                epochs += ep / len(blocks)
                m, a, dec = self._line_search(w, Wq, bq, penalty, alpha)
                moved, accepted, decrease = moved or m, accepted or a, decrease + dec
            if not moved:
                if tol_model <= floor:
                    break
                shrink *= 1e-3  # the models' start already met their target: ask for more
                continue
            if not accepted:
                break
            last_decrease = decrease
            self._stepped = True
            w[:] = self._best_shift(np.asarray(w, dtype=np.float64), penalty, alpha)
            self.eta = self._XW(w) + self.b  # from scratch, from the working-dtype w
            self._unpen_newton(w, penalty, alpha)
            cert = self.certificate(w, penalty, alpha)
            if cert.gap > tol_abs and self._exact_step(w, penalty, alpha):
                w[:] = self._best_shift(np.asarray(w, dtype=np.float64), penalty, alpha)
                self.eta = self._XW(w) + self.b
                cert = self.certificate(w, penalty, alpha)
        return cert, int(np.ceil(epochs))

    def _exact_step(self, w, penalty, alpha):
        """A subclass's finishing step after a model step that left the gap above its
        target (updates ``w``, ``b`` and ``η``); returns whether it moved. None here."""
        return False

    def _null_penalty(self, penalty):
        """The penalised features held at 0, the unpenalised ones free (same kind)."""
        U = penalty.unpenalized
        zero = np.zeros(self.n_features)
        if self.grouped:
            return MultiTaskElasticNetPenalty(1.0, zero, excluded=~U)
        return ClasswiseElasticNetPenalty(1.0, zero, excluded=~U, n_classes=self.K)

    def null_fit(self, penalty, tol_abs, max_iter):
        """The unpenalised fit (intercepts and unpenalised features) and its projected
        gradient ``z`` (p, K), from which ``penalty.alpha_max(z)`` is read."""
        key = penalty.unpenalized.tobytes()
        if key in self._null:
            w, b, z = self._null[key]
            w = self.start(w)
            self.b = b.copy()
            self.eta = self._XW(w) + self.b
            return w, z.copy()
        w = self.start(np.zeros((self.n_features, self.K)))
        if penalty.unpenalized.any():
            self.solve(w, self._null_penalty(penalty), 1.0, tol_abs, max(max_iter, 1000))
        z = np.asarray(self.cert_stats(w, penalty).gp, dtype=np.float64)
        self._null[key] = (w.copy(), self.b.copy(), z.copy())
        self._dev_prev, self._n_points = None, 0
        return w, z

    def path_stop(self, w):
        """glmnet's early stop (as :meth:`GLMProblem.path_stop`): a reason once the
        deviance ratio exceeds 0.999 or its relative change falls below 1e-5 (after at
        least 5 points), else None."""
        self._n_points += 1
        if self.null_deviance <= 0:
            return None
        ratio = 1.0 - self._loss(self.eta) / self.null_deviance
        return glmnet_stop(self, ratio)


def make_penalty(l1_ratio, pf, standardize, problem, grouped):
    """The multinomial penalty on the original scale (``standardize``: factors ``f σ`` and
    ``f σ²``, constant columns excluded, as :func:`sklearn_normpen.elastic_net.
    _make_penalty`)."""
    if standardize:
        s = np.where(problem.constant, 0.0, problem.x_std)
        a, b, excl = pf * s, pf * s * s, problem.constant
    else:
        a, b, excl = pf, pf, None
    if grouped:
        return MultiTaskElasticNetPenalty(l1_ratio, a, b, excluded=excl)
    return ClasswiseElasticNetPenalty(l1_ratio, a, b, excluded=excl, n_classes=problem.K)
