"""Elastic-net paths of several row subsets of one dense design, run in lockstep over one
alpha grid (stability selection's resamples).

Why: in residual mode a subsample's path is dominated by its full-gradient passes, about
one per alpha, each a memory-bound matrix-vector product over all of its rows; a fresh
:class:`~sklearn_normpen._design.Design` per subsample adds a copy of ``X[rows]`` and
passes for its means and scales. Here the subsets of a chunk advance together: at each
alpha every subset's coordinate descent runs the residual kernel (``enet_cd_residual``) on a
*column subset* (its strong-rule candidates and every feature it ever selected, copied
from its rows once and then only grown), and one matrix-matrix product
``X_sᵀ [S r_1, …, S r_B]`` (rows outside a subset hold zeros) gives every subset's full
gradient in one read of ``X``. Each point is then accepted on the package certificate
(:func:`~sklearn_normpen._certificate.certificate`) built from that full gradient, at the
estimator's ``tol``; a subset whose certificate refuses adds its KKT violators to its
columns and resumes through the one stopping loop
(:func:`~sklearn_normpen._solvers.coordinate_descent.stop_on_certificate`).

The statistics of a subset come from sums over ``X_s``, ``X`` shifted once by its full-data
mean (the shift DESIGN.md prescribes before implicit centring): the subset's mean shift
``m = X_sᵀ S 1_b / W_b`` and centred squared norms ``Σ_b s x_s² - W_b m²`` from two products
for the whole chunk (a column where these cancel to below 1e-8 of its raw sum of squares is
recomputed from its raw values, as the Design would). A subset where the Design's rules
would need anything else (a column whose subset mean is large against its spread: an
explicit centred copy) is left to the per-subset path (:meth:`SubsetPaths.run` returns
None for it).

Only the elastic-net penalty with every feature penalised on float64 dense data in
residual mode, with subsets of at least :data:`MIN_CELLS` cells, takes this route
(unpenalised features need cross products per subset; float32 certificates need a float64
copy of ``X``; covariance mode already shares the full Gram; small subsets pay more
Python per alpha than their gradient pass costs): everything else keeps one path per
subset.
"""
import logging

import numpy as np

from .._certificate import CertStats, certificate
from .._design import KAPPA, constant_columns
from .._kernels import _cd_enet
from .._threads import single_blas_thread
from .._validation import call_kernel
from .coordinate_descent import stop_on_certificate

logger = logging.getLogger("sklearn_normpen")

#: the smallest ``rows x features`` of a subset taking this route: below, the per-subset
#: path's pass over X[rows] costs less than the lockstep's Python per alpha (measured on
#: 20 resamples: 100x500 0.6x, 200x3000 0.8x, 400x1000 1.1x, 1000x2000 7.8x the speed of
#: one path per resample; the benchmark's 1000x5000 ~3.5x)
MIN_CELLS = 500_000
_NO_INDEX = np.zeros(0, dtype=np.intc)  # the residual kernel's empty CSC arrays (dense X)
_NO_REF = np.zeros((0, 0))  # no bounded passes: a subset's column copy changes between calls

#: the most the column copies of one chunk's subsets may hold in the worst case (every
#: column selected): the chunk size follows from it
CHUNK_BYTES = 2**30


def chunk_size(n_rows, n_features):
    """Subsets per lockstep chunk: as many as :data:`CHUNK_BYTES` allows for full column
    copies of ``n_rows`` rows (an even number in [2, 50]). It depends on the data's shape
    only, never on ``n_jobs``, so a subset's result does not depend on the joblib backend;
    20-50 columns make the shared gradient a matrix-matrix product (on 1000x5000 about 1 ms
    per column against 2.7 ms for one subset's matrix-vector product)."""
    k = int(CHUNK_BYTES // max(8 * n_rows * n_features, 1))
    return max(2, min(50, k - k % 2))


class _Std:
    """What ``elastic_net._make_penalty`` reads from a problem for ``standardize``."""

    def __init__(self, x_std, constant):
        self.x_std, self.constant = x_std, constant


class SubsetPaths:
    """The shared data of the lockstep paths (picklable: sent once per chunk).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray or None
    fit_intercept : bool
    make_penalty : callable
        ``make_penalty(_Std) -> ElasticNetPenalty`` for a subset (standardisation by the
        subset's scales).
    """

    def __init__(self, X, y, sample_weight, fit_intercept, x_mean, make_penalty):
        self.fit_intercept = bool(fit_intercept)
        self.X = X  # the raw values (read only for columns nearly constant on a subset)
        # centred once, in float64, by the full data's mean: a subset's mean shift is then
        # small against its spread and implicit centring inside the kernel is benign
        self.Xs = (np.asfortranarray(X - x_mean) if fit_intercept
                   else np.asfortranarray(X, dtype=np.float64))
        self.y = np.asarray(y, dtype=np.float64)
        self.sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.x_shift = np.asarray(x_mean, dtype=np.float64) if fit_intercept else 0.0
        self.make_penalty = make_penalty

    @staticmethod
    def applies(n_rows, n_features, dtype, penalty, l1_ratio, mode):
        """Whether this route serves the estimator (see the module docstring) on subsets
        of ``n_rows`` rows: only where a subset's gradient pass is large enough
        (:data:`MIN_CELLS`) for the shared product to outweigh the per-step Python."""
        return (mode == "dense" and np.dtype(dtype) == np.float64 and l1_ratio > 0
                and not penalty.unpenalized.any() and n_rows * n_features >= MIN_CELLS)

    # -- one chunk ----------------------------------------------------------------------------
    def _stats(self, subsets):
        """Per subset ``(W, m, norm2, std, constant)`` from two products over the chunk."""
        n, p = self.Xs.shape
        M = np.zeros((n, len(subsets)), order="F")
        for b, rows in enumerate(subsets):
            M[rows, b] = 1.0 if self.sw is None else self.sw[rows]
        W = M.sum(axis=0)
        S1 = self.Xs.T @ M                       # (p, B) Σ_b s x_s
        S2 = np.empty_like(S1)                   # (p, B) Σ_b s x_s², in column blocks
        step = max(1, 2**20 // max(n, 1))  # 8 MiB blocks of squares
        for a in range(0, p, step):
            B = self.Xs[:, a:a + step]
            S2[a:a + step] = (B * B).T @ M
        out = []
        for b, rows in enumerate(subsets):
            m = S1[:, b] / W[b]
            raw = S2[:, b]
            var = raw / W[b] - m * m
            about = m + self.x_shift
            # cancellation (a column nearly constant on the subset): mean and deviations
            # from the raw values, as the Design computes them (its constant-column rule
            # must see a column of equal values as one)
            bad = np.flatnonzero(var <= 1e-8 * raw / W[b])
            if bad.size:
                s = None if self.sw is None else self.sw[rows]
                B = np.asarray(self.X[np.ix_(rows, bad)], dtype=np.float64)
                mb = (B.sum(axis=0) if s is None else s @ B) / W[b]
                D = B - mb
                var[bad] = (np.einsum("ij,ij->j", D, D) if s is None else s @ (D * D)) / W[b]
                about[bad] = mb
                m[bad] = mb - (self.x_shift[bad] if self.fit_intercept else 0.0)
            var = np.maximum(var, 0.0)
            std = np.sqrt(var)
            const = constant_columns(std, about)
            if self.fit_intercept:
                norm2 = np.where(const, 0.0, var * W[b])
            else:
                norm2 = raw.copy()
            out.append((W[b], m, norm2, std, const))
        return out

    def run(self, subsets, alphas, tol, max_iter, keep_coefs=False):
        """Paths of ``subsets`` (row index arrays) on the decreasing grid ``alphas``.

        Returns one entry per subset: None when the subset needs the per-subset path (see
        the module docstring), else ``(nonzero, gaps, kkts, n_iters, tol_abs)`` with
        ``nonzero`` the (n_features, n_alphas) support of the certified coefficients
        (``keep_coefs``: then also the coefficients, (n_features, n_alphas))."""
        # one BLAS thread: the products of a chunk are small, a second thread's start-up
        # and spinning cost more than it saves on a shared machine, and n_jobs spreads
        # chunks over the cores (the products' values do not depend on the thread count)
        with single_blas_thread():
            return self._run(subsets, alphas, tol, max_iter, keep_coefs)

    def _run(self, subsets, alphas, tol, max_iter, keep_coefs):
        stats = self._stats(subsets)
        states = []
        for key, (rows, st) in enumerate(zip(subsets, stats)):
            W, m, norm2, std, const = st
            # the Design's rule: implicit centring (intercept only) is not trusted on a
            # column whose mean is large against its spread
            with np.errstate(divide="ignore", invalid="ignore"):
                offset = (np.abs(m) / std > KAPPA[np.dtype(np.float64)]) & ~const
            use = not (self.fit_intercept and offset.any())
            states.append(_Subset(self, key, rows, *st) if use else None)
        live = [s for s in states if s is not None]
        K = len(alphas)
        for s in live:
            s.begin(K, keep_coefs)
        self._gradients(live)
        alpha_prev = None
        for k, alpha in enumerate(alphas):
            for s in live:
                s.first_round(alpha, alpha_prev, tol, max_iter)
            self._gradients(live)
            for s in live:
                s.finish(k, alpha, tol, max_iter)
            alpha_prev = alpha
            if ((k + 1) % 10 == 0 or k + 1 == K) and logger.isEnabledFor(logging.DEBUG):
                logger.debug("path point %d/%d: alpha=%.4g, %d resamples in lockstep, "
                             "largest gap %.2e", k + 1, K, alpha, len(live),
                             max((s.gaps[k] for s in live), default=0.0))
        return [None if s is None else s.result() for s in states]

    def _gradients(self, live):
        """Every live subset's full gradient ``Xcᵀ S r`` (n-scale) from one product."""
        if not live:
            return
        n = self.Xs.shape[0]
        SR = np.zeros((n, len(live)), order="F")
        for b, s in enumerate(live):
            SR[s.rows, b] = s.sr()
        G = self.Xs.T @ SR
        for b, s in enumerate(live):
            s.set_gradient(G[:, b])


class _Subset:
    """One subset's path state: full coefficients, residual on its rows, its columns."""

    def __init__(self, shared, key, rows, W, m, norm2, std, const):
        self.sh, self.key, self.rows, self.W = shared, key, np.asarray(rows), float(W)
        fi = shared.fit_intercept
        self.sw = None if shared.sw is None else shared.sw[self.rows]
        y = shared.y[self.rows]
        ybar = (float(y.mean()) if self.sw is None else float(self.sw @ y) / self.W) if fi \
            else 0.0
        self.yc = np.ascontiguousarray(y - ybar)
        self.xk_mean = m if fi else np.zeros_like(m)
        self.norm2 = norm2
        self.penalty = shared.make_penalty(_Std(std, const))
        p = m.shape[0]
        self.p = p
        self.w = np.zeros(p)
        self.R = self.yc.copy()
        self.sw_k = np.zeros(0) if self.sw is None else np.ascontiguousarray(self.sw)
        self.null_deviance = self._wdot(self.yc, self.yc) / (2 * self.W)
        self.cols = np.zeros(0, dtype=np.intp)
        self.in_cols = np.zeros(p, dtype=bool)
        self.buf = np.empty((self.rows.size, 0), order="F")
        lo, up = self.penalty.lower, self.penalty.upper
        self.lower = np.broadcast_to(np.asarray(lo, np.float64), (p,))
        self.upper = np.broadcast_to(np.asarray(up, np.float64), (p,))

    def _wdot(self, a, b):
        return float(a @ b) if self.sw is None else float((self.sw * a) @ b)

    def begin(self, K, keep_coefs=False):
        self.nonzero = np.zeros((self.p, K), dtype=bool)
        self.coefs = np.zeros((self.p, K)) if keep_coefs else None
        self.gaps, self.kkts = np.empty(K), np.empty(K)
        self.n_iters = np.zeros(K, dtype=np.intp)
        self.tol_abs = None

    def sr(self):
        return self.R if self.sw is None else self.sw * self.R

    def set_gradient(self, G_col):
        total = float(self.sr().sum()) if self.sh.fit_intercept else 0.0
        self.g = G_col - self.xk_mean * total

    # -- columns ------------------------------------------------------------------------------
    def _grow(self, new):
        """Add the columns ``new`` (not yet in the subset): their rows copied once, and the
        kernel's per-column arrays rebuilt (the same objects until the next growth, so the
        kernel-call checks stay cached)."""
        new = np.asarray(new, dtype=np.intp)
        if new.size == 0:
            return False
        m = self.cols.size
        if m + new.size > self.buf.shape[1]:
            cap = max(2 * self.buf.shape[1], m + new.size, 16)
            buf = np.empty((self.rows.size, min(cap, self.p)), order="F")
            buf[:, :m] = self.buf[:, :m]
            self.buf = buf
        self.buf[:, m:m + new.size] = self.sh.Xs[np.ix_(self.rows, new)]
        self.cols = c = np.concatenate([self.cols, new])
        self.in_cols[new] = True
        self._X = self.buf[:, :c.size]
        self._Xflat = self._X.ravel(order="F")  # a view: the kernel's dense layout
        self._fixed = [np.ascontiguousarray(a[c]) for a in
                       (self.xk_mean, self.norm2, self.lower, self.upper)]
        self._work = [np.empty(c.size) for _ in range(4)]  # w, g, L1, L2 on the columns
        return True

    def _violators(self, bound):
        """Columns outside the subset with ``|g_j| > bound_j`` (``g_j >`` when positive)."""
        g = self.g if self.penalty.positive else np.abs(self.g)
        return np.flatnonzero((g > bound) & ~self.in_cols)

    def _kernel(self, L1, L2, tol_n, max_iter, factor):
        """The residual kernel on the subset's columns from the current state; ``g`` (the
        full gradient at the current residual) saves its first gradient pass."""
        c = self.cols
        if c.size == 0:
            return 0.0, 0
        w, g, l1, l2 = self._work
        for full, sub in ((self.w, w), (self.g, g), (L1, l1), (L2, l2)):
            np.take(full, c, out=sub)
        xm, n2, lo, up = self._fixed
        gap, _, n_iter, _, _, _, _ = call_kernel(
            _cd_enet.enet_cd_residual, w, self._Xflat, _NO_INDEX, _NO_INDEX, self.yc.shape[0],
            self.yc, self.sw_k, xm, n2, self.R, g, l1, l2, lo, up, self.W, tol_n, factor,
            int(max_iter), True, _cd_enet.ANDERSON_DEFAULT, _NO_REF, _NO_REF,
            cache_key=self.key)
        self.w[c] = w
        return gap, n_iter

    # -- one alpha ----------------------------------------------------------------------------
    def first_round(self, alpha, alpha_prev, tol, max_iter):
        """Grow the columns by the sequential strong rule at ``alpha`` (from the gradient
        at the previous point) and run the kernel on them once."""
        if self.tol_abs is None:
            self.tol_abs = tol * self.null_deviance
        L1, L2 = self.penalty.scaled_weights(alpha, self.W)
        self._L = (L1, L2)
        factor = 1.0 if alpha_prev is None or alpha <= 0 else 2.0 - alpha_prev / alpha
        # (factor <= 0: the rule is vacuous, every feature a candidate; excluded ones never)
        bound = np.where(np.isinf(L1), np.inf, max(factor, 0.0) * L1)
        self._grow(self._violators(bound))
        # the gradient is the one at the current residual: the kernel skips its first pass
        _, self._epochs = self._kernel(L1, L2, self.tol_abs * self.W, max_iter, 1.0)

    def _cert(self, alpha):
        r = self.R
        sr = self.sr()
        r_mean = float(sr.sum()) if self.sh.fit_intercept else 0.0
        st = CertStats(float(sr @ r) / self.W, float(sr @ self.yc) / self.W,
                       r_mean / self.W, self.g / self.W, None)
        return certificate(st, self.penalty, alpha, self.w)

    def finish(self, k, alpha, tol, max_iter):
        """Certify the point from the shared gradient; resume where it refuses."""
        L1, L2 = self._L
        cert = self._cert(alpha)
        epochs = self._epochs
        if cert.gap > self.tol_abs and epochs < max_iter:
            sh = self.sh

            def run(inner, left, first):
                if left <= 0:
                    return 0, np.inf
                grew = self._grow(self._violators(L1))
                gap, n_iter = self._kernel(L1, L2, inner * self.W, left, 1.0)
                return n_iter, (None if grew else gap / self.W)

            def cert_of():
                SR = np.zeros(sh.Xs.shape[0])
                SR[self.rows] = self.sr()
                self.set_gradient(sh.Xs.T @ SR)
                return self._cert(alpha)

            cert, more = stop_on_certificate(run, cert_of, self.tol_abs, max_iter - epochs)
            epochs += more
        self.nonzero[:, k] = self.w != 0
        if self.coefs is not None:
            self.coefs[:, k] = self.w
        self.gaps[k], self.kkts[k], self.n_iters[k] = cert.gap, cert.kkt, epochs

    def result(self):
        out = (self.nonzero, self.gaps, self.kkts, self.n_iters, self.tol_abs)
        return out if self.coefs is None else out + (self.coefs,)
