"""Proximal Newton for the multinomial family with groups of features (K >= 3 classes).

Objective (``N = Σs``; ``W`` of shape (n_features, n_classes), ``W_j`` feature j's K class
coefficients, ``W_g`` a feature group's ``|g| × K`` block; intercepts unpenalised)::

    1/N Σ_i s_i [log Σ_k e^{η_ik} - η_{i,y_i}]
        + alpha (l1_ratio Σ_j ‖W_j‖₂ + (1 - l1_ratio) Σ_g c_g ‖W_g‖_F)

(:class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso`; with singleton groups it
is glmnet's ``type.multinomial="grouped"``). It is
:class:`~sklearn_normpen._solvers.multinomial.MultinomialProblem`'s grouped scheme — one
curvature per row ``t_i = max_k p_ik(1 - p_ik)`` (floored at 1e-5), working response
``Z = η + (Y - P)/t``, an Armijo line search on the true objective, the package's
multinomial certificate — with each Newton model solved by the multi-response
sparse-group solver (:class:`~sklearn_normpen._solvers.multitask_group.
MultiTaskGroupProblem`) instead of the row-wise one. After each step every feature's K
coefficients are shifted by their mean (the loss is invariant to a common shift, and the
row mean minimises every row norm, hence both terms of the penalty).

The scalar curvature ``t_i`` makes that outer iteration linear, and slow where the rows'
Hessians are far from ``t_i I`` (balanced or near-certain rows: a hundred steps per point
on iris-sized data, none of them small). So after a model step that leaves the gap above
its target, a Newton step on the exact objective restricted to the active rows follows
(:meth:`GroupMultinomialProblem._exact_step`): the Hessian ``Σ_i s_i a_i a_iᵀ ⊗ (diag p_i
- p_i p_iᵀ) / N`` over the active features' K coefficients and the intercepts (``a_i`` the
row of ``[X_A, 1]``; the last intercept held: the loss is invariant to a common shift), the
penalty's own curvature (:mod:`.group_newton`), and the same line search. Near the optimum
it converges quadratically; what it cannot see (a feature outside the set) the next model
step brings in.

A row penalty (:class:`~sklearn_normpen.penalties.MultiTaskElasticNetPenalty`, e.g. every
group a singleton, or the null fit's) is solved by the compiled sweeps of
:class:`~sklearn_normpen._solvers.multinomial.MultinomialProblem` instead.
"""
import numpy as np
import scipy.sparse as sp

from .._certificate import glm_rounding_change, rounded_certificate
from .._design import exact_scaling, rounded_coefficients, scaled_columns64
from ..datafits import GLMStats, Multinomial
from ..penalties import MultiTaskSparseGroupLasso
from .coordinate_descent import POLISH_EPOCHS, POLISH_MAX, REFINE_MAX_BYTES
from .group_newton import active_rows, kept_step
from .multinomial import CURVATURE_FLOOR, MultinomialProblem
from .multitask_group import MultiTaskGroupProblem
from .prox_newton import layout_gradient64, unpenalised_basis


class GroupMultinomialProblem(MultinomialProblem):
    """:class:`MultinomialProblem` (``grouped``) for a
    :class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso` on the feature
    ``groups`` (a partition of the features, list of index arrays). ``inv_scale``: X's
    columns were divided by their standard deviations; :meth:`to_original` returns the
    coefficients on the user's scale. ``x_shift``: what was subtracted from each scaled
    column (offset columns, see ``sklearn_normpen._families._standardized``). ``exact``:
    the Design of the user's unscaled X (float32 data with ``inv_scale``): ``η`` and the
    certificate then read the user's columns times the exact ``1/σ``, and the certificate
    is formed at the point the returned float32 coefficients stand for (as
    :class:`~sklearn_normpen._solvers.prox_newton.GLMProblem`'s ``exact``; on the scaled
    copy its primal was up to 4e-9 of the null deviance off the user's objective)."""

    def __init__(self, X, codes, n_classes, sample_weight, fit_intercept, groups,
                 inv_scale=None, rows=None, x_shift=None, exact=None):
        super().__init__(X, codes, n_classes, sample_weight, fit_intercept, True, rows=rows)
        self.groups = [np.asarray(g, dtype=np.intp) for g in groups]
        self.inv_scale = None if inv_scale is None else np.asarray(inv_scale, np.float64)
        self.x_shift, self._user = x_shift, None
        if exact is not None and inv_scale is not None and self.dtype == np.float32:
            self._user = exact
            self.inv_scale, self.x_shift = exact_scaling(exact)
        # the columns' means in η's parametrisation (X W + b on the scaled columns; under
        # exact their exact counterparts (X - 1 cᵀ) diag(1/σ))
        self._col_mean = np.asarray(self.design.x_mean if self._user is None else
                                    exact.xk_mean * self.inv_scale, np.float64)
        self._inner_pause = None  # the last Newton model's sweeps before its Newton step
        # _exact_step's back-off: outer steps to wait before the next try (doubles after a
        # declined one, back to 1 after a kept one)
        self._exact_wait, self._exact_every = 0, 1
        # (alpha, work): the model steps' work at this alpha, in multiply-adds (about ten
        # passes over X per step for its set-up, certificate and line search, plus its
        # sweeps): an exact step costing up to four times as much is affordable
        self._spent = (None, 0.0)
        self._X64 = self._kargs64 = None  # the float64 refinement's data (_columns64)

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """:meth:`MultinomialProblem.solve`; a float32 group solve short of its target is
        continued in float64 (:meth:`_refine64`)."""
        cert, epochs = super().solve(w, penalty, alpha, tol_abs, max_iter, alpha_prev)
        # (a row penalty's compiled sweeps too under exact: they solve the scaled float32
        # copy, another data set, whose optimum the user's certificate does not accept at
        # a tight tolerance: without intercept an offset column's copy is rounded to 1e-5
        # of its spread)
        if (cert.gap > tol_abs and self.dtype == np.float32 and epochs < max_iter
                and (isinstance(penalty, MultiTaskSparseGroupLasso)
                     or self._user is not None)):
            cert, epochs = self._refine64(w, penalty, alpha, tol_abs, cert, epochs,
                                          max_iter)
        return cert, epochs

    def _refine64(self, w, penalty, alpha, tol_abs, cert, epochs, max_iter):
        """The float32 solve continued in float64 (coefficients, models and exact steps
        on float64 columns: :meth:`_columns64`), then rounded back, as
        :meth:`GLMProblem._refine64 <sklearn_normpen._solvers.prox_newton.GLMProblem.
        _refine64>`: near the optimum the float32 grid of coefficients (and, under
        ``exact``, their cast to the user's scale) moves the gradient by more than a tight
        tolerance allows, while the rounded point's objective is within ``P(w32) - P(w64)``
        of the float64 point's. The bound reported is ``gap(w64) + P(w32) - P(w64)``, kept
        when it is the better one."""
        d = self.design
        if (d.X.nnz * 12 if d.sparse else d.n * d.p * 8) > REFINE_MAX_BYTES:
            return cert, epochs
        saved = (w.copy(), self.b.copy(), self.eta, self._inner_pause)
        w64 = np.array(w, dtype=np.float64)
        self.dtype, bshift, self._bshift = np.dtype(np.float64), self._bshift, None
        try:
            c64, ep = MultinomialProblem.solve(self, w64, penalty, alpha, 0.5 * tol_abs,
                                               max_iter - epochs)
        finally:
            self.dtype, self._bshift = np.dtype(np.float32), bshift
        epochs += int(ep)
        b64 = np.array(self.b, dtype=np.float64)
        w32 = w64.astype(np.float32)
        self.eta = self._XW(w32) + self.b
        wc, eta32 = self._point(w32)
        p32 = self._objective(eta32, w32 if wc is None else wc, penalty, alpha)
        # P(w') - P(w64) from the step (glm_rounding_change): the returned point w' and
        # its intercepts b' (they move with the rounded coefficients under exact)
        wr, br = ((w32, b64) if wc is None else self._returned(w32)[1:])
        norms = (d.raw_norms64() if self._user is None else
                 self._user.raw_norms64(self.inv_scale))
        glm64 = GLMStats(self.Y, self._XW(w64) + b64, None, d.sw64, self.N)
        deta = self._XW(np.asarray(wr, np.float64) - w64) + (np.asarray(br) - b64)
        change = glm_rounding_change(Multinomial, glm64, deta, w64, wr, b64, penalty, alpha,
                                     norms)
        out = rounded_certificate(c64, *change, p32, loss=self._loss(eta32))
        if out.gap < cert.gap:
            w[:] = w32
            return out, epochs
        w[:], self.b, self.eta, self._inner_pause = saved
        return cert, epochs

    def _kernel_args(self):
        """:meth:`MultinomialProblem._kernel_args`; in the float64 refinement (under
        ``exact``) the sweeps' float64 columns (:meth:`_columns64`: ``η = X W + 1 bᵀ`` on
        them, offset columns already centred: no intercept shift)."""
        if self.dtype == self.design.dtype:
            return super()._kernel_args()
        if self._kargs64 is None:
            X, base = self._columns64(), super()._kernel_args()
            empty = np.zeros(0, dtype=np.intc)
            if sp.issparse(X):
                xk = (X.data, X.indices.astype(np.intc, copy=False),
                      X.indptr.astype(np.intc, copy=False))
                mu = np.zeros(self.n_features)
            else:
                xk = (X.ravel(order="F"), empty, empty)
                mu = self._col_mean if self.fit_intercept else np.zeros(self.n_features)
            self._kargs64 = xk + base[3:5] + (np.ascontiguousarray(mu),)
        return self._kargs64

    def _columns64(self, cols=None):
        """The columns ``cols`` (None: all, kept) in float64 as ``η`` reads them: the
        user's ``(X - 1 cᵀ) diag(1/σ)`` under ``exact``, else the Design's own (dense for
        a subset: the exact steps' few active columns)."""
        d, e = self.design, self._user
        if cols is None:
            if self._X64 is None:
                self._X64 = (d.X.astype(np.float64) if e is None else scaled_columns64(
                    e, np.arange(self.n_features), self.inv_scale))
            return self._X64
        if e is None:
            return self._lin.explicit_columns(cols)  # (uncentred: no intercept there)
        B = scaled_columns64(e, cols, self.inv_scale)
        return B.toarray() if e.sparse else B

    def _model_step(self, w, penalty, alpha, tol_model, max_iter, alpha_prev, k=None):
        d = self.design
        P = Multinomial.mean(self.eta)
        t = np.maximum(P * (1 - P), CURVATURE_FLOOR).max(axis=1)
        Z = self.eta + (self.Y - P) / t[:, None]
        sv = t if d.sw64 is None else d.sw64 * t
        scale = self.N / float(np.sum(sv))  # model objective · scale = inner objective
        # (float64 refinement: float64 columns, whose coefficients are float64)
        X = self._columns64() if self.dtype != d.dtype else d.X
        inner = MultiTaskGroupProblem(X, Z, sv, self.fit_intercept, self.groups)
        # an ill-conditioned model is one every step: the last model's sweeps before its
        # Newton step, not a fresh 200 (see GLMProblem._model)
        if self._inner_pause is not None:
            inner._pause = self._inner_pause
        wq = inner.start(np.asarray(w, dtype=np.float64))
        _, ep = inner.solve(wq, penalty, alpha * scale, tol_model * scale, max_iter)
        self._inner_pause = inner._pause
        work = (10 + ep) * d.n * self.n_features * self.K
        self._spent = (alpha, (self._spent[1] if self._spent[0] == alpha else 0.0) + work)
        return wq, np.asarray(inner.to_original(wq)[1], dtype=np.float64), int(ep)

    def _exact_step(self, w, penalty, alpha):
        """Newton on the exact objective over the active rows and the intercepts (module
        docstring), kept through :meth:`_line_search`. Only when affordable: the
        Hessian's ``n m²`` and its factorisation's ``m³/3`` (``m = kK + K - 1``) within four
        pauses of sweeps over the active rows (as the other solvers' steps), or within
        four times the work the model steps have spent at this alpha (they crawl).
        Returns whether ``w`` moved."""
        if self._exact_wait > 0:
            self._exact_wait -= 1
            return False
        W = np.asarray(w, dtype=np.float64)
        sgl, rho, K = penalty._sgl, penalty.rho, self.K
        A, grp, row, c = active_rows(penalty._rows(W), sgl.group_of, sgl.weights, rho, K)
        k, n = A.size, self.design.n
        nb = K - 1 if self.fit_intercept else 0
        m = k * K + nb
        # (k + 1 > n: the loss is flat along directions of the rows' span that only the
        # penalty's curvature holds; the steps crawl there, measured slower than none)
        spent = self._spent[1] if self._spent[0] == alpha else 0.0
        if (k == 0 or k + 1 > n or m > POLISH_MAX
                or n * m * m + m ** 3 / 3 > 4 * max(POLISH_EPOCHS * n * k * K, spent)):
            return False
        B = self._columns64(A)  # X_A in float64, uncentred, as η reads it
        if self.fit_intercept:
            B = np.hstack([B, np.ones((n, 1))])
        P = self._proba(self.eta)
        s = self.design.sw64
        SB = B if s is None else s[:, None] * B
        grad = (SB.T @ (P - self.Y) / self.N).ravel()  # feature-major: (a, k) -> a K + k
        H = np.zeros((B.shape[1], K, B.shape[1], K))
        for j in range(K):
            H[:, j, :, j] = (SB * P[:, j:j + 1]).T @ B
        H = H.reshape(B.shape[1] * K, -1)
        step = max(1, 2 ** 22 // H.shape[0])  # the rows of a_i ⊗ p_i, ~32 MB at a time
        for i in range(0, n, step):
            Q = (B[i:i + step, :, None] * P[i:i + step, None, :]).reshape(-1, H.shape[0])
            H -= (Q if s is None else s[i:i + step, None] * Q).T @ Q
        H /= self.N
        H, grad = H[:m, :m], grad[:m]  # (the last intercept is held: the gauge)
        u0 = np.concatenate([W[A].ravel(), self.b[:nb]])
        # the intercepts: one unpenalised group (weight 0), each its own row
        grp = np.concatenate([grp, np.full(nb, c.size)])
        row = np.concatenate([row, k + np.arange(nb)])
        c = np.concatenate([c, [0.0]])
        u = kept_step(H, -grad, u0, grp, c, float(alpha), rho, self.dtype, row=row)
        moved = False
        if u is not None:
            Wq = W.copy()
            Wq[A] = u[:k * K].reshape(k, K)
            bq = self.b.copy()
            bq[:nb] = u[k * K:]
            moved = self._line_search(w, Wq, bq, penalty, alpha)[1]
        self._exact_every = 1 if moved else min(2 * self._exact_every, 64)
        self._exact_wait = self._exact_every - 1
        return moved

    def _best_shift(self, W, penalty, alpha):
        out = np.array(W, dtype=np.float64)
        rows = np.any(out != 0, axis=1)
        if not rows.any():
            return out
        shifted = out.copy()
        shifted[rows] -= shifted[rows].mean(axis=1, keepdims=True)
        # kept only where it lowers the penalty (rounding could undo a zero shift)
        return shifted if penalty.value(shifted, alpha) <= penalty.value(out, alpha) else out

    def _returned(self, w):
        """``(coef, W', b')``: the coefficients returned for ``w``, the solver-scale
        point they stand for and its intercepts in the state's parametrisation (the
        intercepts of the rounded coefficients, see rounded_coefficients; η = X W + b on
        the uncentred scaled columns, so b absorbs x̄ᵀ(W' - W))."""
        coef, b = super().to_original(w)
        W = np.asarray(coef, np.float64)
        coef, w_eff = rounded_coefficients(W, self.inv_scale[:, None], self.dtype)
        if self.fit_intercept:
            b = b - self._col_mean @ (w_eff - W)
        return coef, w_eff, b

    def to_original(self, w):
        if self.inv_scale is None:
            return super().to_original(w)
        coef, w_eff, b = self._returned(w)
        if self.fit_intercept:
            if self.x_shift is not None:
                b = b - self.x_shift @ w_eff
            b = b - b.mean()
        return coef, b

    # -- under exact: the user's columns ---------------------------------------------------
    def _point(self, w):
        if self._user is None:
            return super()._point(w)
        _, w_eff, b = self._returned(w)
        return w_eff, self._XW(w_eff) + b

    def _XW(self, W):
        if self._user is None:
            return super()._XW(W)
        V = np.asarray(W, dtype=np.float64) * self.inv_scale[:, None]
        return self._user.centred_product64(V) + self._user.xk_mean @ V

    def _basis(self, U):
        if self._user is None:
            return super()._basis(U)
        # (the user's columns span what their scaled, shifted copies and 1 do)
        return unpenalised_basis(self._user, U, self.fit_intercept, self._unpen_cache)

    def _grad(self, M, centred=False):
        """Under ``exact``: ``diag(1/σ) (X - 1 cᵀ)ᵀ S M / N`` on the user's columns in
        float64 sums (``centred``, ``Σ s M = 0``: the same number)."""
        if self._user is None:
            return super()._grad(M, centred)
        return layout_gradient64(self._user, M) * (self.inv_scale / self.N)[:, None]
