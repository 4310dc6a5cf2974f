"""Block coordinate descent for the multi-response Gaussian elastic net (glmnet's
``family="mgaussian"``, scikit-learn's ``MultiTaskElasticNet``).

Objective (``N = Σs``; ``W`` of shape (n_features, n_responses), its row ``W_j`` the K
coefficients of feature j; ``b`` the K intercepts, unpenalised)::

    1/(2N) Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha Σ_j (l1_ratio a_j ‖W_j‖
                                               + (1 - l1_ratio)/2 b_j ‖W_j‖²)

The intercepts are removed by weighted centring (of X through the one
:class:`~sklearn_normpen._design.Design`, of Y here). The kernel
(``_kernels/_bcd_multitask.pyx``) takes exact block steps on a residual matrix; each solve
works on a working set (non-zero and unpenalised rows plus the sequential strong rule
``‖z_j‖ > l1_ratio a_j (2 alpha - alpha_prev)``; with n < p dense, at most a third of the
support of those, the nearest their ball), and every certificate's full gradient adds
the rows that violate their KKT condition. A point is accepted only on the package's
certificate (:func:`sklearn_normpen._certificate.certificate`, residual matrix form): the
residual and the gradient are recomputed from scratch in float64, the dual point is the
residual projected off the intercepts and the unpenalised rows, and ``tol`` is relative to
the null deviance ``‖Y - Ȳ‖²_S/(2N)`` (summed over the responses).
"""
import numpy as np
import scipy.sparse as sp

from .._certificate import CertStats, certificate, project
from .._design import Design, UnpenalisedBlocks, check_scale
from .._kernels import _bcd_multitask as K
from .._validation import call_kernel
from .coordinate_descent import (POLISH_EPOCHS, POLISH_MAX, POLISH_MIN_EPOCHS,
                                 stop_on_certificate, strong_candidates, top_k)
from .group_newton import Pause, kept_step


class MultiTaskProblem:
    """One data set (or CV training fold, ``rows``) prepared for repeated solves.

    Parameters
    ----------
    X : ndarray (Fortran) or CSC matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_responses)
    sample_weight : ndarray or None
    fit_intercept : bool
    rows : ndarray of int, default=None
    """

    def __init__(self, X, Y, sample_weight, fit_intercept, rows=None):
        if sp.issparse(X):
            X = sp.csc_matrix(X)
            if not X.has_sorted_indices:
                X = X.sorted_indices()
        # The Design prepares X (weights, centring, constant columns, layout); its own
        # response is a zero placeholder: the responses are centred here
        d = Design(X, np.zeros(X.shape[0], dtype=X.dtype), sample_weight, fit_intercept,
                   rows=rows)
        Y = np.asarray(Y if rows is None else Y[rows], dtype=np.float64)
        self.design, self.dtype = d, np.dtype(d.dtype)
        self.n, self.p, self.n_responses = d.n, d.p, Y.shape[1]
        self.n_features = self.p
        self.coef_tail = (self.n_responses,)  # the path stores (p, K, n_alphas)
        self.fit_intercept, self.N = d.fit_intercept, d.N
        sw = d.sw64
        if self.fit_intercept:
            self.y_mean = (Y.mean(axis=0) if sw is None else sw @ Y / d.N)
        else:
            self.y_mean = np.zeros(self.n_responses)
        self.Yc64 = Y - self.y_mean
        check_scale(d.X, self.Yc64, self.dtype, d.x_top)
        self.null_deviance = float(self._wsum(self.Yc64 * self.Yc64)) / (2 * d.N)
        self.x_mean = d.x_mean
        self.sw = (np.zeros(0, dtype=self.dtype) if sw is None
                   else np.ascontiguousarray(d.sw, dtype=self.dtype))
        self.xk_mean = np.ascontiguousarray(d.xk_mean, dtype=self.dtype)
        # block curvature ||x_jc||²_S / N: the same for each response (exact block steps)
        self.L = np.ascontiguousarray(d.col_sumsq() / d.N, dtype=self.dtype)
        if d.sparse:
            Xk = d.Xk
            self._csc = (np.ascontiguousarray(Xk.data, dtype=self.dtype),
                         np.ascontiguousarray(Xk.indices, dtype=np.intc),
                         np.ascontiguousarray(Xk.indptr, dtype=np.intc))
        self._buf = np.zeros(2 * self.n_responses, dtype=self.dtype)
        self._unpen_cache, self._z = {}, None
        self._unpen_blocks = UnpenalisedBlocks()
        self._sw64 = np.zeros(0) if sw is None else sw
        # float64 kernels keep an exact enough residual; otherwise recompute it
        self._fresh = self.dtype != np.float64
        self._pause = POLISH_EPOCHS  # sweeps before a Newton step (see solve)
        self._pred = None  # the path's predicted change for the next solve (predict_next)
        self._no_pred = np.zeros((0, 0), dtype=self.dtype)  # (one object: no re-check)

    # -- float64 linear algebra for the certificate ---------------------------------------
    def _wsum(self, M):
        """``Σ_i s_i M_i`` summed over every column (float64)."""
        sw = self.design.sw64
        return float(np.sum(M) if sw is None else np.sum(sw @ M))

    def _residual64(self, w):
        """``Yc - Xc W`` in float64 from scratch (only the non-zero rows of W are read;
        the Design's :meth:`~sklearn_normpen._design.Design.exact_layout`)."""
        return self.Yc64 - self.design.centred_product64(w)

    def _gradient64(self, R, design=None):
        """``Xcᵀ S R / N`` (p, K) in float64 (centring implicit with the Design's means,
        offset columns explicit); ``design``: another Design of the same rows and weights
        (default: the problem's)."""
        d = self.design if design is None else design
        X, xm = d.exact_layout()
        xm = np.asarray(xm, np.float64)
        if d.sparse:
            SR = R if d.sw64 is None else d.sw64[:, None] * R
            G = np.asarray(X.T @ SR) - np.outer(xm, SR.sum(axis=0))
        else:  # compiled, single-threaded, float64 accumulation (see the kernel)
            G = np.empty((self.p, R.shape[1]))
            call_kernel(K.gradient_mt_dense, X, self._sw64,
                        np.ascontiguousarray(xm), np.asfortranarray(R), G)
        return G / d.N

    def cert_stats(self, w, penalty, alpha=None):
        """:class:`CertStats` of the residual matrix at ``w`` (Frobenius sums, float64);
        ``alpha``: the certificate's, for a gradient that may leave out what it cannot
        change (:meth:`_cert_gradient`)."""
        if self._fresh:  # float32, or sparse offset columns: from scratch in float64
            R = self._residual64(w)
        else:  # float64: the kernel's residual (X uncentred) is exact enough
            R = np.asarray(self.R, dtype=np.float64) + (
                np.asarray(self.xk_mean) @ np.asarray(w, dtype=np.float64))
        G = self._cert_gradient(R, w, penalty, alpha)
        self._z = G
        N = self.N
        sw = self.design.sw64
        if self.fit_intercept:
            means = (R.sum(axis=0) if sw is None else sw @ R) / N
            r_mean = float(np.sqrt(means @ means))
        else:
            r_mean = 0.0
        # the residual's coordinates in the unpenalised span from the residual itself
        # (Ŵᵀ R): ``a - Mᵀ W`` cancels beside offset unpenalised columns without intercept
        span, W = self._unpen(penalty.unpenalized) or (None, None)
        return CertStats(self._wsum(R * R) / N, self._wsum(R * self.Yc64) / N, r_mean, G,
                         span, unpen_z=None if W is None else W.T @ R)

    def _cert_gradient(self, R, w, penalty, alpha):
        """The certificate's gradient at the centred residual ``R``: the full product."""
        return self._gradient64(R)

    def _unpen(self, mask):
        """``((U, M, a), Ŵ)``: the unpenalised rows' span for
        :func:`~sklearn_normpen._certificate.project` (``a`` has K columns) and its basis,
        cached, or None."""
        U = np.flatnonzero(mask)
        if U.size == 0:
            return None
        key = U.tobytes()
        if key not in self._unpen_cache:
            M, a, W = self.design.unpenalised_span64(U, self.Yc64, basis=True)
            self._unpen_cache[key] = ((U, M, a), W)
        return self._unpen_cache[key]

    # -- state and kernel ----------------------------------------------------------------
    def start(self, w):
        """Set the residual for ``w`` (n_features, n_responses); returns the C-ordered
        array the solves update in place."""
        w = np.array(np.broadcast_to(w, (self.p, self.n_responses)) if np.ndim(w) < 2
                     else w, dtype=self.dtype, order="C")
        self._set_residual(w)
        return w

    def _set_residual(self, w):
        Rc = self._residual64(w)
        # the kernel keeps R = Yc - X W with X uncentred: Rc = R + 1 (x̄ᵀW)
        shift = np.asarray(self.xk_mean, np.float64) @ np.asarray(w, np.float64)
        self.R = np.asfortranarray(Rc - shift, dtype=self.dtype)
        self._z = None

    #: float32 sweeps: the block-change stop at this fraction of the gap target
    float32_step_factor = 1.0

    def _stops(self, tol):
        """``(step, gap_tol)`` of the sweeps' kernels for the target ``tol``: they stop on
        their working set's gap at ``tol`` once an epoch's largest block change is at most
        ``tol`` (``tol = -inf``: the certificate asks for epochs, both -1). float32 on the
        block-change rule alone, at ``float32_step_factor·tol``: their own gap, from the
        float32 residual, sits at a rounding floor near the tolerances float32 allows (a
        fuzzed 30x40 MTG path at tol 1e-7 then spent its epochs without certifying)."""
        if not np.isfinite(tol):
            return -1.0, -1.0
        if self.dtype == np.float64:
            return float(tol), float(tol)
        return float(tol) * self.float32_step_factor, -1.0

    def _sweep(self, w, ws, l1, l2, max_epochs, tol, pred=None):
        if ws.size == 0 or max_epochs <= 0:
            return 0, 0.0
        step, gap_tol = self._stops(tol)
        args = (self.xk_mean, w, self.R, self.L, l1, l2, ws, self.dtype.type(self.N),
                int(max_epochs), self.dtype.type(step), self.dtype.type(gap_tol),
                self._buf, self._no_pred if pred is None else pred)
        if self.design.sparse:
            return call_kernel(K.bcd_mt_sparse, *self._csc, self.n, self.sw, *args)
        return call_kernel(K.bcd_mt_dense, self.design.Xk, self.sw, *args)

    def _weights(self, penalty, alpha):
        l1, l2 = penalty._l1_l2(alpha)
        return (np.ascontiguousarray(l1, dtype=self.dtype),
                np.ascontiguousarray(l2, dtype=self.dtype))

    def null_fit(self, penalty, tol_abs, max_iter=1000):
        """The unpenalised rows fitted alone (penalised rows at 0); returns ``(w, z)``, ``z``
        the gradient projected off the unpenalised span (exact whatever the fit's
        accuracy: ``alpha_max`` is read off it)."""
        w = self.start(np.zeros((self.p, self.n_responses)))
        unpen = np.flatnonzero(penalty.unpenalized).astype(np.intc)
        if unpen.size:
            self._unpen_step(w, penalty)
            zero = np.zeros(self.p, dtype=self.dtype)
            self._sweep(w, unpen, zero, zero, max(max_iter, 1000), tol_abs)
        z = project(self.cert_stats(w, penalty), w).g
        return w, z

    _top = staticmethod(top_k)

    def predict_next(self, d, penalty):
        """Take the path's predicted change ``d`` (n_features, n_responses) of the
        coefficients for the next solve (:func:`~sklearn_normpen._path.compute_path`; the
        kernel applies it before the first epoch, see ``bcd_mt_dense``'s ``pred``).
        Always taken. The wide multi-response paths of the benchmarks (500 x 10000) ran
        752 -> 628 epochs (multi-task lasso, K = 5) and 626 -> 372 (group lasso, K = 3)
        with the prediction applied this way."""
        self._pred = np.ascontiguousarray(d, dtype=self.dtype)
        return True

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None, p0=10):
        """Solve at ``alpha`` from ``w`` (updated in place) until the certificate is at most
        ``tol_abs``; returns ``(Certificate, epochs)`` (module docstring)."""
        pen = penalty
        pred, self._pred = self._pred, None  # (predict_next: the first sweep applies it)
        l1, l2 = self._weights(pen, alpha)
        z = self._z if self._z is not None else self._gradient64(self._residual64(w))
        active = np.any(w != 0, axis=1)
        # a violation at rounding level of a row's own l1 weight (e.g. at alpha_max) is
        # none; relative to that weight, not to alpha, whose units differ from the
        # violation's by the penalty factors (sigma under standardize: X ~ 1e-20 made
        # real violations look like rounding)
        slack = 1e-12 * alpha * pen.l1_ratio * pen.l1_factor
        if alpha_prev is None:  # cold start: the p0 worst violators
            score = pen.violation(z, alpha)
            strong = self._top(score, ~active & pen.penalised & (score > slack),
                               max(p0, int(active.sum())))
        else:  # sequential strong rule
            rows, ball = pen._rows(z), pen.l1_ratio * pen.l1_factor
            strong = strong_candidates(  # (unpenalised rows join below, outside the cap)
                (rows > ball * (2 * alpha - alpha_prev)) & pen.penalised, active, rows, ball,
                p0, not self.design.sparse and self.n < self.p)
        ws = active | pen.unpenalized | strong  # (strong: penalised rows only)

        pause = Pause(self._pause, POLISH_MIN_EPOCHS, POLISH_EPOCHS)
        stepped = bool(pen.unpenalized.any())

        def run(inner, left, first):
            grown = False
            if not first:
                v = pen.violation(self._z, alpha)
                viol = (v > slack) & ~ws & ~pen.excluded
                if viol.any():
                    ws[:] |= self._top(v, viol, max(p0, int(ws.sum())))
                    grown = True
            chunk = pause.chunk(left)
            epochs, delta = self._sweep(w, np.flatnonzero(ws).astype(np.intc), l1, l2, chunk,
                                        tol_abs if grown else inner,
                                        pred=pred if first else None)
            if stepped:
                self._unpen_step(w, pen)
            if pause.due(epochs, chunk, left):
                # a slow tail (nearly collinear columns): Newton steps on the active rows
                pause.record(self._newton(w, pen, alpha))
                return epochs, None  # resume on the same target
            return epochs, (None if grown else delta)

        cert, epochs = stop_on_certificate(
            run, lambda: certificate(self.cert_stats(w, pen), pen, alpha, w), tol_abs,
            max_iter)
        self._pause = pause.next(self._pause, cert.gap <= tol_abs)
        return cert, epochs

    def _unpen_step(self, w, penalty):
        """The exact joint step on the unpenalised rows (least squares of the residual on
        their columns, every response at once: :class:`~sklearn_normpen._design.
        UnpenalisedStep`), kept when it lowers the objective; float64 only (a float32
        iterate cannot hold that block's optimum, as in the elastic net) and only for an
        ill-conditioned block (:class:`~sklearn_normpen._design.UnpenalisedBlocks`). The
        row-by-row sweeps crawl there: columns 1e6 apart in scale and nearly collinear
        stopped fits at 1e-3 of the null deviance above the optimum, uncertified. Returns
        whether ``w`` changed (the residual then recomputed)."""
        step = self._unpen_block(penalty)
        if step is None or not self._fit_unpen(w, penalty, step):
            return False
        self._set_residual(w)
        return True

    def _fit_unpen(self, w, penalty, step):
        """``w``'s unpenalised rows set by ``step`` (the others held) if that lowers the
        residual's norm (the kernel state is the caller's). Returns whether it did."""
        U = np.flatnonzero(penalty.unpenalized)
        new = step.step(self._residual64(w), np.asarray(w[U], np.float64), w.dtype)
        if new is None:
            return False
        w[U] = new
        return True

    def _unpen_block(self, penalty):
        """The :class:`~sklearn_normpen._design.UnpenalisedStep` of the unpenalised rows
        when :meth:`_unpen_step` takes it (float64, an ill-conditioned block), else None."""
        U = np.flatnonzero(penalty.unpenalized)
        if self.dtype != np.float64 or U.size == 0:
            return None
        d = self.design
        return self._unpen_blocks.get(
            U, d.n, d.X.nnz if d.sparse else d.n * d.p,
            lambda: (d.explicit_columns(U), None if d.sw64 is None else np.sqrt(d.sw64)))

    def _newton(self, w, pen, alpha):
        """Newton steps on the active rows ``A`` (:mod:`.group_newton`: each row's K
        coefficients one group of weight ``alpha l1_ratio a_j``, the ridge part and the
        shared Gram ``Xc_Aᵀ S Xc_A / N`` in the Hessian ``kron(G_A, I_K) + diag``), kept
        when they lower the objective; the residual is then recomputed. Only when
        ``k K <= POLISH_MAX`` and forming ``G_A`` and factorising cost at most two pauses of
        sweeps. Returns whether ``w`` changed."""
        # (an ill-conditioned unpenalised block is minimised out instead, through its QR:
        # in the Gram its condition number squares, 1e18 for offset columns without
        # intercept)
        block = self._unpen_block(pen)
        rows = (np.any(w != 0, axis=1) | pen.unpenalized) & ~pen.excluded
        if block is not None:
            rows &= ~pen.unpenalized
        A = np.flatnonzero(rows)
        system = self._newton_system(w, A, block)
        if system is None:
            return False
        G, g, u0 = system
        k, K = A.size, self.n_responses
        lam2 = np.repeat(alpha * (1 - pen.l1_ratio) * pen.l2_factor[A], K)
        G.flat[::k * K + 1] += lam2
        g = g - lam2 * u0  # (the ridge term's gradient at u0 moves into g)
        u = kept_step(G, g, u0, np.repeat(np.arange(k), K), pen.l1_factor[A],
                      alpha * pen.l1_ratio, 0.0, self.dtype)
        return self._newton_store(w, A, u, pen, alpha, block)

    def _newton_system(self, w, A, block=None):
        """``(G, g, u0)`` of the Newton steps on the rows ``A`` in float64 (row j's K
        entries together): ``kron(Xc_Aᵀ S Xc_A / N, I_K)``, the gradient ``Xc_Aᵀ S R / N``
        at ``w`` from the exact residual, and ``w_A``; None when not affordable (``k K``
        above ``POLISH_MAX``, or forming and factorising cost more than two pauses of
        sweeps). With ``block`` (the unpenalised rows' :class:`~sklearn_normpen._design.
        UnpenalisedStep`, fitted at ``w``) the weighted columns are projected off its span
        first: the rows' Newton step with that block minimised out (Schur complement)."""
        k, K = A.size, self.n_responses
        d = self.design
        if k == 0 or k * K > POLISH_MAX or not np.any(w[A]):
            return None
        if d.n * k * k + (k * K) ** 3 / 3 > 4 * POLISH_EPOCHS * d.n * k * K:
            return None
        B = d.explicit_columns(A)
        R = self._residual64(w)
        if block is None:
            SB = B if d.sw64 is None else d.sw64[:, None] * B
            g, G = SB.T @ R, SB.T @ B
        else:
            G, g = block.projected(B, R)
        return (np.kron(G / self.N, np.eye(K)), (g / self.N).ravel(),
                np.asarray(w[A], dtype=np.float64).ravel())

    def _newton_store(self, w, A, u, pen, alpha, block=None):
        """Store a kept step ``u`` (None: none) on the rows ``A`` (and refit the
        unpenalised rows of ``block``, see :meth:`_newton_system`) and recompute the
        residual, if the objective from that exact residual is lower than before (the
        step's own test reads the quadratic model in ``G``, whose rounding can hide an
        increase when ``G`` is nearly singular: offset columns without intercept took a
        step to coefficients of 3e11 that the model called a decrease, and the fit
        diverged to 1e150 with a NaN gap). Returns whether ``w`` changed."""
        if u is None:
            return False
        before = self._objective64(w, pen, alpha)
        old = w.copy()
        w[A] = u.reshape(A.size, self.n_responses)
        if block is not None:
            self._fit_unpen(w, pen, block)
        if not self._objective64(w, pen, alpha) < before:
            w[:] = old
            return False
        self._set_residual(w)
        return True

    def _objective64(self, w, pen, alpha):
        """The objective at ``w`` from the exact float64 residual."""
        R = self._residual64(w)
        return self._wsum(R * R) / (2 * self.N) + float(pen.value(w, alpha))

    def to_original(self, w):
        """``(coef (n_features, n_responses), intercept (n_responses,))`` on the user's
        scale (a standardising penalty carries the scales, so ``w`` already is)."""
        w64 = np.asarray(w, dtype=np.float64)
        b = (self.y_mean - self.x_mean @ w64) if self.fit_intercept else np.zeros(
            self.n_responses)
        return w, b
