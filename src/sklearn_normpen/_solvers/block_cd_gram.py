"""Block coordinate descent for the (sparse-)group lasso in covariance (Gram) mode.

The problem of :mod:`~sklearn_normpen._solvers.block_cd` (same objective, penalty,
parametrisation and certificate) read from the float64 statistics of
:meth:`Design.gram_stats` alone: ``A = Xcᵀ S Xc / N`` and ``b = Xcᵀ S yc / N`` (columns
scaled by ``1/σ_j`` under ``standardize``), so a solve costs ``O(p·|g|)`` per block visit
whatever ``n`` — the route for data that stay on a cluster (:mod:`sklearn_normpen._dask`),
where a CV training fold is the full statistics minus the held-out rows', and for paths on
dense float64 data with ``n >= p`` (:func:`sklearn_normpen.group_lasso._use_gram`).

The sweeps are compiled (:func:`~sklearn_normpen._kernels._bcd_group.bcd_gram`): each
epoch visits every group whose block is non-zero, unpenalised, or whose zero is not optimal
under the gradient ``g = b - A w`` kept in step; a block minimises its exact quadratic model
``½ dᵀA_gg d - g_gᵀd + pen(w_g + d)`` as in the residual kernel (exact in the eigenbasis for
rho = 0, FISTA otherwise). The sweeps stop on their own duality gap, O(p) from ``g``; solves
stop on the package certificate (:func:`stop_on_certificate`), formed from a gradient
recomputed from the non-zero columns.
"""
import numpy as np

from .._certificate import CertStats, certificate, gram_span, project, per_mask
from .._design import (centred_gram, constant_columns, inverse_std, rounded_coefficients,
                       rows_design, stats_variance)
from .._kernels import _bcd_group as K
from .._validation import call_kernel
from ..penalties import SparseGroupLasso
from .block_cd import GroupSpectra, dead_groups
from .coordinate_descent import (POLISH_EPOCHS, POLISH_MAX, POLISH_MIN_EPOCHS, _gram_cancels,
                                 _span_cancels, stop_on_certificate)
from .group_newton import Pause, active_features, newton_step


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
    scratch : bool, default=False
        ``stats["G"]`` is the caller's work array, which the problem may overwrite (a CV
        fold's full-minus-held-out difference): no p x p copy.
    """

    #: FISTA iterations per block visit at most (each O(k²), against the visit's O(p k)
    #: gradient update; most stop far earlier on ``inner_eps``): ill-conditioned groups
    #: (raw polynomial bases) then cost inner iterations instead of epochs
    max_inner = 1000
    inner_eps = 1e-3

    def __init__(self, stats, structure, group_weights, *, dtype, fit_intercept, x_shift,
                 y_mean, standardize=False, design=None, stats_rows=False, scratch=False):
        self.dtype = np.dtype(dtype)
        self.fit_intercept = bool(fit_intercept)
        # the rows the statistics describe, read by the certificate when the Gram cannot
        # give a sum precisely enough (their Design made on first use)
        self._design, self._stats_rows, self._rows_d = design, stats_rows, None
        Q, q, yy, S, dx = centred_gram(stats, self.fit_intercept)
        self.N = float(S)
        self.X_off = np.asarray(x_shift, np.float64) + dx
        self.y_off = float(y_mean) + (stats["sy"] / S if self.fit_intercept else 0.0)
        # about the rows' own mean (columns whose statistics cancel: summed again from
        # ``design``'s ``stats_rows`` when given, see stats_variance)
        self.x_std = np.sqrt(stats_variance(stats, design, stats_rows))
        about = self.X_off if self.fit_intercept else stats["sx"] / S
        self.constant = constant_columns(self.x_std, about)
        p = Q.shape[0]
        # (exact in float64 whatever the data's dtype, as the residual mode's certificate)
        self.inv_scale = inverse_std(self.x_std, self.constant) if standardize else np.ones(p)
        d = self.inv_scale
        # A = diag(d) Q diag(d) / S in the kernel's (Fortran) layout, in place in a work
        # array (centred_gram's own, or the statistics' G when it is a scratch copy)
        own = scratch or Q is not stats.get("G")
        A = Q if own and Q.flags.f_contiguous else np.empty(Q.shape, order="F")
        if standardize:  # (the rounding of the plain expression, step by step)
            np.multiply(Q, d[:, None], out=A)
            A *= d[None, :]
            A /= S
        else:
            np.divide(Q, S, out=A)
        self.A = A
        self.b = d * q / S
        self.yy = float(yy) / S
        self.null_deviance = 0.5 * self.yy
        self.n_features = self.p = p
        self.structure = structure
        gptr, gidx, c = structure.kernel_arrays(group_weights)
        self.gptr, self.gidx = gptr, gidx
        self.c = np.asarray(c, np.float64)
        self.sizes = np.diff(gptr).astype(np.int64)
        # the group Grams packed row-major, as the residual kernels hold them
        offsets = np.concatenate([[0], np.cumsum(self.sizes ** 2)])
        Qp = np.empty(int(offsets[-1]))
        for k in np.unique(self.sizes):
            sel = np.flatnonzero(self.sizes == k)
            ix = gidx[gptr[sel][:, None] + np.arange(k)]
            Qp[offsets[sel][:, None] + np.arange(k * k)] = (
                self.A[ix[:, :, None], ix[:, None, :]].reshape(sel.size, k * k))
        self.Qp, self._offsets = Qp, offsets
        self.qoff = np.ascontiguousarray(offsets[:-1], dtype=np.intp)
        self._spec = GroupSpectra(Qp, self.qoff, gptr, gidx, np.float64,
                                  dead_groups(self.constant, gptr, gidx))
        kmax = max(int(self.sizes.max()) if self.sizes.size else 1, 1)
        self._buf, self._wold = np.zeros(9 * kmax), np.zeros(kmax)
        self._all = np.arange(len(self.sizes), dtype=np.int32)
        self._unpen_cache = {}
        self.g = self.b.copy()
        self._g_fresh = False  # whether g is b - A w afresh (the kernel's exit) at w
        self._pause = POLISH_EPOCHS  # sweeps before a Newton step (see solve)

    def penalty(self, rho, limits=None, exclude=None):
        """The :class:`SparseGroupLasso` of these groups at ``l1_ratio = rho`` (the residual
        problem's signature; box limits and exclusions are not supported here)."""
        if limits is not None or exclude is not None:
            raise ValueError("covariance mode does not support box limits or exclude.")
        return SparseGroupLasso(self.gptr, self.gidx, self.c, rho)

    # -- state --------------------------------------------------------------------------
    def start(self, w):
        w = np.array(w, dtype=np.float64)
        self.g[:] = self._gradient(w)
        self._g_fresh = False
        return w

    def _gradient(self, w):
        """``b - A w`` from the non-zero columns (a gather of more than a third of ``A``'s
        columns costs more than the product with all of it)."""
        nz = np.flatnonzero(w)
        if 3 * nz.size > self.p:
            return self.b - self.A @ w
        return self.b - self.A[:, nz] @ w[nz] if nz.size else self.b.copy()

    def from_original(self, coef):
        coef = np.asarray(coef, dtype=np.float64)
        ok = self.inv_scale > 0
        return np.where(ok, coef / np.where(ok, self.inv_scale, 1), 0.0)

    def to_original(self, w):
        # the intercept of the rounded coefficients, kept in float64 (as returned)
        coef = rounded_coefficients(w, self.inv_scale, self.dtype, effective=False)[0]
        intercept = (self.y_off - float(self.X_off @ coef.astype(np.float64))
                     if self.fit_intercept else 0.0)
        return coef, intercept

    # -- certificate inputs -------------------------------------------------------------
    def cert_stats(self, w, penalty):
        w = np.asarray(w, dtype=np.float64)
        # from scratch: the sweeps' kept gradient drifts by rounding. The kernel recomputes
        # it on exit (fresh, unless Newton steps moved w since); otherwise it is computed
        # and resynchronised here (every run of the sweeps follows a certificate at its
        # starting point)
        if self._g_fresh:
            g = self.g.copy()
        else:
            g = self._gradient(w)
            self.g[:] = g
        self._g_fresh = False
        wb = float(w @ self.b)
        r_norm2, r_y = max(self.yy - wb - float(w @ g), 0.0), self.yy - wb
        span, W = self._unpen(penalty.unpenalized) or (None, None)
        r = None
        if _gram_cancels(self.yy, w, self.b, self.A):
            d = self._rows_design()
            if d is not None:  # the residual itself, from the rows (see _gram_cancels)
                inv = self.inv_scale
                r = d.residual64(inv * w)
                g = inv * d.gradient64(r) / self.N
                r_norm2, r_y = d._wdot(r, r) / self.N, d._wdot(r, d.yc64) / self.N
        if r is None and W is not None and _span_cancels(span, w, g):
            r = self._rows_design().residual64(self.inv_scale * w)  # (for Ŵᵀ r below)
        # the residual's coordinates in the unpenalised span from the residual itself
        # where ``a - Mᵀ w`` may cancel (as the elastic net's covariance mode)
        return CertStats(r_norm2, r_y, 0.0, g, span,
                         unpen_z=None if r is None or W is None else W.T @ r)

    def _rows_design(self):
        """The Design of the rows the statistics describe (None: not at hand), kept."""
        if self._rows_d is None:
            d = rows_design(self._design, self._stats_rows, self.fit_intercept)
            self._rows_d = (d,)  # (kept, None included)
        return self._rows_d[0]

    @per_mask
    def _unpen(self, mask):
        """``((U, M, a), Ŵ)``: the span of :func:`~sklearn_normpen._certificate.project`
        and its basis, cached: from the rows the statistics describe when at hand (as the
        elastic net's covariance mode), ``M`` scaled to the solver's parametrisation;
        otherwise from the Gram (no basis: None)."""
        U = np.flatnonzero(mask)
        if U.size == 0:
            return None
        key = U.tobytes()
        if key not in self._unpen_cache:
            d = self._rows_design()
            if d is None:
                C = self.A[:, U]
                span, W = gram_span(U, C, C[U], self.b[U]), None
            else:
                M, a, W = d.unpenalised_span64(U, basis=True)
                span = (U, M * self.inv_scale[:, None], a)
            self._unpen_cache[key] = (span, W)
        return self._unpen_cache[key]

    # -- sweeps ---------------------------------------------------------------------------
    def _eigen(self):
        """``(V, E)`` of every group (the exact rho = 0 block solves), with ``L``."""
        self._spec.fill(vectors=True)
        return self._spec.vectors()

    @property
    def L(self):
        """The group step constants (:class:`~.block_cd.GroupSpectra`: largest eigenvalue
        of each group Gram with slack, 0 for dead groups)."""
        return self._spec.fill()

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Minimise at ``alpha`` from ``w`` (updated in place) until the certificate is at
        most ``tol_abs``: epochs of the compiled covariance-mode block CD
        (:func:`~sklearn_normpen._kernels._bcd_group.bcd_gram`), each run stopping once
        the sweeps' own gap meets its target (checked after an epoch in which no block step
        gained more than a tenth of the target per non-zero group); the target tightens
        while the certificate refuses. Returns ``(Certificate, epochs)``."""
        rho = penalty.rho
        exact = int(rho == 0)
        V, E = self._eigen() if exact else (np.zeros(1), np.zeros(1))

        pause = Pause(self._pause, POLISH_MIN_EPOCHS, POLISH_EPOCHS)

        def run(inner, left, first):
            if left <= 0:
                return 0, np.inf
            finite = bool(np.isfinite(inner))
            stop = 0.1 * inner if finite else -1.0  # (per non-zero group, in the kernel)
            chunk = pause.chunk(left)
            # the kernel stops on its own gap at the target (inner = -inf: epochs only)
            epochs, gap = call_kernel(
                K.bcd_gram, self.A, w, self.g, self.gptr, self.gidx, self.c, self.L, self.Qp,
                self.qoff, V, E, exact, self._all, float(alpha), float(rho), int(chunk),
                float(stop), self.max_inner, self.inner_eps, self._buf, self._wold, self.b,
                float(self.yy), float(inner) if finite else -1.0)
            self._g_fresh = True  # (the kernel's exit)
            if pause.due(epochs, chunk, left):
                # a slow tail (nearly collinear columns in different groups): Newton steps
                # on the active set, then the sweeps resume on the same target
                moved = self._newton(w, penalty, alpha)
                self._g_fresh = not moved
                pause.record(moved)
                return epochs, None
            return epochs, float(gap)

        def cert_of():
            if self.dtype != np.float64:
                # certify what is returned: the state moves to the point its float32
                # coefficients stand for (rounded_coefficients), which to_original then
                # returns exactly
                w_eff = rounded_coefficients(w, self.inv_scale, self.dtype)[1]
                if not np.array_equal(w_eff, w):
                    w[:] = w_eff
                    self._g_fresh = False
            return certificate(self.cert_stats(w, penalty), penalty, alpha, w)

        cert, epochs = stop_on_certificate(run, cert_of, tol_abs, max_iter)
        self._pause = pause.next(self._pause, cert.gap <= tol_abs)
        return cert, epochs

    def _newton(self, w, penalty, alpha):
        """Newton steps on the active set (:mod:`.group_newton`) from ``w`` on ``A``'s
        block (``O(k³)``, at most ``POLISH_MAX`` features), kept when they lower the
        objective. Returns whether ``w`` changed."""
        S = active_features(w, penalty)
        if S.size == 0 or S.size > POLISH_MAX or not np.any(w[S]):
            return False
        nz = np.flatnonzero(w)
        g = self.b[S] - self.A[np.ix_(S, nz)] @ w[nz]
        u = newton_step(self.A[np.ix_(S, S)], g, S, w, penalty, alpha, np.float64)
        if u is None:
            return False
        w[S] = u
        return True

    def null_fit(self, penalty, tol_abs, max_iter=1000):
        """The unpenalised features fitted alone (exact least squares on ``A``); returns
        ``(w, z)`` with ``z`` the projected gradient there."""
        w = np.zeros(self.p)
        U = np.flatnonzero(penalty.unpenalized)
        if U.size:
            w[U] = np.linalg.lstsq(self.A[np.ix_(U, U)], self.b[U], rcond=None)[0]
        w = self.start(w)
        z = project(self.cert_stats(w, penalty), w).g
        return w, z
