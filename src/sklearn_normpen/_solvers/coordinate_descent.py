"""Coordinate descent for the elastic net on a :class:`~sklearn_normpen._design.Design`.

Three modes of the compiled kernels (``_kernels/_cd_enet.pyx``):

``"gram"``    covariance updates on ``Q = Xcᵀ S Xc`` (dense ``X`` with n >= p by default);
``"dense"``   residual updates on Fortran-ordered ``X``, centring implicit (no copy of ``X``);
``"sparse"``  residual updates on CSC ``X``, centring implicit (never densified).

The kernels work on the n-scale objective (``N = Σs`` times the package objective) and stop
on their own (fast, float-precision) gap estimate. A point is accepted only on the package's
certificate (:mod:`sklearn_normpen._certificate`), formed in float64 from float64 Gram
statistics (covariance mode) or from the residual (float64 data: the kernel's; float32 data
or offset sparse columns: recomputed from scratch). When the kernel's estimate was optimistic
the kernel resumes with a tighter target (see :func:`stop_on_certificate`).
"""
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from .._certificate import (CertStats, certificate, gram_span, per_mask, project,
                            rounded_certificate, rounding_change)
from .._design import (UnpenalisedBlocks, centred_gram, constant_columns, rows_design,
                       stats_variance)
from .._kernels import _cd_enet
from .._validation import call_kernel
from .group_newton import Pause
from .mode_switch import RESIDUAL_WALK_PER_DECADE

MODES = ("gram", "dense", "sparse")
_NO_FLAGS = np.zeros(0, dtype=np.intc)
_NO_REF = {np.dtype(t): np.zeros((0, 0), dtype=t) for t in (np.float32, np.float64)}
_NO_PRED = {np.dtype(t): np.zeros(0, dtype=t) for t in (np.float32, np.float64)}
#: full gradient passes the residual kernel keeps to bound later gradients (its bounded
#: passes combine them: see ``_bounded_pass`` in _cd_enet.pyx), where that pays
N_REFERENCES = 4
#: a kernel run that spends this many epochs without its target is paused for a Newton
#: step on the active set (:meth:`EnetProblem._polish`), when one is affordable (a step
#: costing at most two such pauses)
POLISH_EPOCHS = 200
#: the shortest pause: after a point that a single Newton step finished, the next point's
#: pause is halved down to this (the tail of a near-saturated path, where coordinate
#: descent crawls and each step lands on the optimum)
POLISH_MIN_EPOCHS = 10
#: the largest active set the Newton step factorises (k³/3 flops)
POLISH_MAX = 1500
#: float32 solves finished in float64 (``_refine64`` of the GLM, group and elastic-net
#: problems): the largest float64 copy of the data's columns they make
REFINE_MAX_BYTES = 2 ** 28
#: float32 refinements (``_refine64`` of the elastic-net and group problems): Newton
#: iterations at most
REFINE_STEPS = 10


def refinable(k, n):
    """Whether a float32 refinement may take Newton steps on ``k`` active features: at
    most ``POLISH_MAX``, and their float64 columns (``n`` rows; 0: none formed, covariance
    mode) within ``REFINE_MAX_BYTES``."""
    return k <= POLISH_MAX and 8.0 * n * k <= REFINE_MAX_BYTES

#: the most Newton steps of one pause (each after the last stopped at a sign change;
#: one factorisation serves them all)
POLISH_STEPS = 64
#: past saturation: the most factorisations of one pause (each after features left out of
#: the last one turned out to violate their KKT condition)
POLISH_REFACTOR = 4
#: residual modes: let the kernel skip the gradient of features that a bound from its last
#: full pass keeps inside their dual constraint (``_kernels/_cd_enet.pyx``,
#: ``_bounded_pass``); False runs every pass in full (the tests' reference)
BOUNDED_PASSES = True


def _n_references(design):
    """How many full passes the kernel keeps: ``N_REFERENCES`` when combining them
    (``O(n K² + p K)`` a bounded pass) costs under an eighth of a full pass (``n p``
    dense, the stored entries sparse), else one. (The sparse 20000 x 50000 elastic net at
    density 1e-3, full passes of 1e6 products, ran 1.06x slower with four.)"""
    k = N_REFERENCES
    full = design.X.nnz if design.sparse else design.n * design.p
    return k if 8 * (design.n * k * k + design.p * k) <= full else 1


def choose_mode(X, precompute="auto"):
    """``"gram"`` if forced (``precompute=True``) or dense with n_samples >= n_features;
    otherwise ``"sparse"`` for sparse input and ``"dense"`` for dense."""
    if precompute is True:
        return "gram"
    if sp.issparse(X):
        return "sparse"
    if precompute == "auto" and X.shape[0] >= X.shape[1]:
        return "gram"
    return "dense"


def top_k(score, mask, k):
    """Boolean mask of the (at most) ``k`` largest ``score`` entries within ``mask``."""
    out = np.zeros_like(mask)
    idx = np.flatnonzero(mask)
    if idx.size > k:
        idx = idx[np.argpartition(-score[idx], k - 1)[:k]]
    out[idx] = True
    return out


def strong_candidates(strong, active, soft, ball, p0, wide_dense):
    """The block solvers' strong-rule candidates for a working set: ``strong`` (groups or
    rows with ``soft > ball·(2 alpha - alpha_prev)``) outside the support ``active``.

    On wide dense data (``wide_dense``) only the ``max(p0, |support| // 3)`` nearest their
    ball (largest ``soft / ball``; ``ball = 0``: ``soft``) are kept: each working-set
    epoch and kernel gap passes over every kept block's columns, while near saturation the
    strong set is ~2.5x the support; the certificates bring in any other violator. On
    sparse or tall data the extra certificates cost more than the epochs save."""
    if not wide_dense:
        return strong
    return top_k(soft / np.where(ball > 0, ball, 1), strong & ~active,
                 max(p0, int(active.sum()) // 3))


def _gram_cancels(yy, w, q, Q):
    """Whether ``||r||² = yy - 2wᵀq + wᵀQw``, formed from the Gram statistics, may round
    by more than ``1e-13 yy``: its terms reach ``450 yy`` (large coefficients of opposite
    signs on nearly collinear columns, 1e8 on columns of 1e-3: an error of 3e-9 of the null
    deviance, above a gap of 1e-15). The caller then sums the residual from the rows, whose
    rounding is first-order in those terms instead of second. (The O(k) Cauchy-Schwarz
    bound ``(Σ|w_j|√Q_jj)²`` first; the O(k²) sum only when that one is too loose.)"""
    nz = np.flatnonzero(w)
    if yy <= 0 or nz.size == 0:
        return False
    a = np.abs(w[nz])
    lin = yy + 2 * float(a @ np.abs(q[nz]))
    if lin + float(a @ np.sqrt(np.maximum(np.diag(Q)[nz], 0.0))) ** 2 <= 450 * yy:
        return False
    return lin + float(a @ (np.abs(Q[np.ix_(nz, nz)]) @ a)) > 450 * yy


def _span_cancels(span, w, g):
    """Whether the residual's coordinates in the unpenalised span, ``z = a - Mᵀw``
    (:func:`~sklearn_normpen._certificate.project`), may put an error above ``1e-12
    max |g|`` into the projected gradient ``g - Mz`` (``g`` package scale): their
    rounding ``~eps (|a| + |M|ᵀ|w|)`` times ``|M|``. Then ``z`` is formed from the
    residual (``Ŵᵀ r``; covariance mode reads the rows for it)."""
    _, M, a = span
    if M is None or M.shape[1] == 0:
        return False
    absM = np.abs(M)
    err = 8 * np.finfo(np.float64).eps * (np.abs(a) + absM.T @ np.abs(w))
    return float(np.max(absM @ err)) > 1e-12 * max(float(np.max(np.abs(g))), 1e-300)


def stop_on_certificate(run, cert_of, tol_abs, max_iter, max_rounds=200):
    """The one stopping loop of every solver.

    ``run(inner_tol, max_iter_left, first)`` advances the solver (its own stopping rule at
    ``inner_tol``) and returns ``(epochs, own_gap)`` (``own_gap`` None: the solver changed
    its problem, e.g. grew a working set, so the target stays); ``cert_of()`` is the package
    certificate at the current point. The loop ends when the certificate is at most
    ``tol_abs``, when ``max_iter`` epochs are spent, or when tightening the solver's target
    by 1e6 gains nothing. A solver whose own estimate claims convergence the certificate
    refuses (e.g. it is negative) then runs fixed, doubling epoch budgets (``inner = -inf``)
    until the certificate agrees or ``max_iter`` is spent. Three rounds in a row that leave
    the certificate exactly as it was (an iterate that no longer moves: float32 sweeps
    whose every step rounds away) end the loop too. Returns ``(certificate, epochs)``.
    """
    inner, n_iter, budget = tol_abs, 0, 0
    cert, frozen = None, 0
    for k in range(max_rounds):
        left = max_iter - n_iter
        epochs, own = run(inner, min(left, budget) if budget else left, k == 0)
        n_iter += int(epochs)
        last, cert = cert, cert_of()
        if cert.gap <= tol_abs or n_iter >= max_iter:
            break
        frozen = frozen + 1 if last is not None and cert.gap == last.gap else 0
        if frozen >= 3:
            break
        if own is None:
            continue
        if budget or inner < 1e-6 * tol_abs or not own > 0:
            # the solver's own estimate cannot be trusted here: epochs, not targets
            budget, inner = max(2 * budget, 4), -np.inf
            continue
        # the solver's own gap was optimistic (or it stopped on the target): ask for more
        inner = 0.25 * min(inner, own if np.isfinite(own) else inner)
    return cert, n_iter


class EnetProblem:
    """One data set prepared for repeated elastic-net solves (a path or a CV fold).

    Parameters
    ----------
    design : Design
        The data (used in the residual modes, and in covariance mode unless ``stats``).
    mode : {"gram", "dense", "sparse"}
    stats : dict, default=None
        Covariance mode only: float64 statistics from :meth:`Design.gram_stats` (a CV fold
        passes the full data's minus its held-out rows'); computed from ``design`` if None.
    fit_intercept : bool
    x_shift, y_mean : float64
        The shift the statistics are taken about and the full data's y mean (``stats`` only).
    stats_rows : None, array of int or False, default=False
        The rows of ``design`` that ``stats`` describe (None: all; False: unknown), read
        again for the standard deviation of columns whose statistics cancel
        (:func:`~sklearn_normpen._design.stats_variance`).
    """

    #: residual modes: the depth of the kernel's Anderson extrapolation (every
    #: ``anderson_k + 1`` epochs); the proximal-Newton models set 4 (see prox_newton)
    anderson_k = 5
    #: a cold start far below alpha_max walks down to it (:func:`~sklearn_normpen._path.lead_in`;
    #: the GLMs too. Not the Gaussian group lasso, which it slowed, nor the multi-response
    #: problems: a two-response fit took 200 s, its Newton steps refactorising a 600-900
    #: block at each of up to 30 sign changes)
    lead_in = True
    #: covariance mode below this many features solves a cold start directly: its epochs
    #: cost O(p²) and the walk's solves cost more than they save (diabetes, 10 features, at
    #: 1e-3 alpha_max: 1.07 ms cold against 1.67 ms walking; breast cancer's quadratic
    #: features, 30 or 60 of them unscaled, at 1e-4 alpha_max: 1.4 / 2.0 ms against 2.4 /
    #: 4.8, all certified; the GLMs keep their walk: cold, a 30-feature logistic lasso at
    #: 1e-4 alpha_max was not certified in 1000 epochs)
    LEAD_IN_MIN_GRAM_FEATURES = 64

    @property
    def lead_in_pays(self):
        """Whether a cold start far below ``alpha_max`` walks down to it
        (:func:`~sklearn_normpen._path.lead_in`)."""
        return self.mode != "gram" or self.n_features >= self.LEAD_IN_MIN_GRAM_FEATURES

    @property
    def lead_in_per_decade(self):
        """The lead-in walk's density (:func:`~sklearn_normpen._path.lead_in`): in the
        residual modes ``RESIDUAL_WALK_PER_DECADE``, as ``GramOnDemand`` on the residual
        (each solve's screening and certificate read all of X; precompute=False at
        alpha_max/100 and /1000: 20 of 22 fits faster, by 5-25%, over uncorrelated and
        equicorrelated designs from 1000 x 100 to 50000 x 400 and 300 x 2000; two 3-12%
        slower); the path's default (None) in covariance mode."""
        return None if self.mode == "gram" else RESIDUAL_WALK_PER_DECADE
    #: float32: finish an uncertified point in float64 (:meth:`_refine64`); off in a GLM's
    #: Newton models, whose shortfall sends the GLM's own solve to float64 instead
    refine64 = True
    #: the exact treatment of the unpenalised block (:meth:`_unpen_step`, :meth:`_polish`
    #: projected); off in a float32 GLM's float64 refinement models, where it left
    #: "illposed" seeds 118 and 297 short of targets the plain steps met
    unpen_block = True

    def __init__(self, design, mode, stats=None, *, fit_intercept=None, x_shift=None,
                 y_mean=None, stats_rows=False):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        self.mode = mode
        self.design = design
        self.dtype = np.dtype(design.dtype)
        self.fit_intercept = design.fit_intercept if fit_intercept is None else fit_intercept
        self._unpen_cache, self._null, self._limit_cache = {}, {}, None
        self._unpen_blocks = UnpenalisedBlocks()
        self._rows_design = None  # (covariance mode: the rows' Design, made when needed)
        # residual modes: the columns C, their centred X_Cᵀ S X_C and X_Cᵀ S yc, kept for
        # the Newton steps, which then read only the columns new to the active set
        self._newton_cache = None
        self._pred = None  # the path's predicted change for the next solve (predict_next)
        self._pause = POLISH_EPOCHS  # epochs before a Newton pause (adapted per point)
        #: residual modes: the work done so far, for a caller that weighs it against
        #: forming the Gram (``mode_switch.GramOnDemand``): columns of length n read or
        #: written (the kernel's count, and the gradients and residuals formed here), and
        #: the products of the Newton steps' Gram columns (BLAS-3, as the Gram)
        self.column_passes, self.gram_products = 0.0, 0.0
        dt = self.dtype
        if mode == "gram":
            if stats is None:
                stats, x_shift, y_mean = design.gram_stats(), design.x_mean, design.y_mean
                stats_rows = None
            self._stats_rows = stats_rows
            Q, q, yy, S, dx = centred_gram(stats, self.fit_intercept)
            self.Q64, self.q64, self.yy, self.N = Q, q, float(yy), float(S)
            self.x_mean = np.asarray(x_shift, np.float64) + dx
            self.y_mean = float(y_mean) + (stats["sy"] / S if self.fit_intercept else 0.0)
            self.Q = np.asfortranarray(Q, dtype=dt)
            self.q = np.ascontiguousarray(q, dtype=dt)
            self.norm2 = np.ascontiguousarray(np.diag(self.Q))
            self.H = np.zeros(self.Q.shape[0], dtype=dt)
            self.null_deviance = self.yy / (2 * self.N)
            # the standard deviation about the rows' own mean, as documented (columns
            # whose statistics cancel are summed again from the rows: stats_variance)
            std = np.sqrt(stats_variance(stats, design, stats_rows))
            about = self.x_mean if self.fit_intercept else stats["sx"] / S
            self._std = (std, constant_columns(std, about))
        else:
            if (mode == "sparse") != design.sparse:
                raise ValueError(f"mode {mode!r} does not match the layout of X.")
            d = design
            self.N, self.x_mean, self.y_mean = d.N, d.x_mean, d.y_mean
            self.null_deviance = d.null_deviance
            self.sw = np.zeros(0, dtype=dt) if d.sw is None else np.ascontiguousarray(d.sw, dt)
            self.xk_mean = np.ascontiguousarray(d.xk_mean, dtype=dt)
            self.norm2 = np.ascontiguousarray(d.col_sumsq(), dtype=dt)
            self.R = d.yc.copy()
            # the last full gradient passes and their residuals (newest first, the first
            # _n_ref rows): they bound every later gradient (the kernel's bounded
            # passes); valid for this design and weights
            n_refs = _n_references(d)
            self.g_ref = np.zeros((n_refs, self.norm2.shape[0]), dtype=dt)
            self.R_ref = np.zeros((n_refs, self.R.shape[0]), dtype=dt)
            self.g_bound = np.zeros(self.norm2.shape[0], dtype=np.intc)  # g_j a bound
            self._n_ref = 0
            self._g_partial = False
            if mode == "sparse":
                Xk = d.Xk
                self.X_data = np.ascontiguousarray(Xk.data, dtype=dt)
                self.X_indices = np.ascontiguousarray(Xk.indices, dtype=np.intc)
                self.X_indptr = np.ascontiguousarray(Xk.indptr, dtype=np.intc)
            # float64 kernels keep an exact enough residual; otherwise recompute it
            self._fresh = dt != np.float64
        self.n_features = self.norm2.shape[0]
        self.g = np.zeros(self.n_features, dtype=dt)
        self._g_valid = False

    @property
    def x_std(self):
        """Column standard deviations (Gram mode: from the statistics; else the Design's,
        computed on first use: only ``standardize`` needs them)."""
        return self._std[0] if self.mode == "gram" else self.design.x_std

    @property
    def constant(self):
        return self._std[1] if self.mode == "gram" else self.design.constant

    # -- state ----------------------------------------------------------------------------
    def start(self, w):
        """Make the kernel state (residual or ``Q w``) consistent with ``w``; returns ``w``
        as the contiguous array the solves update in place."""
        w = np.array(w, dtype=self.dtype, order="C")
        self._reset(w)
        return w

    def snapshot(self, w):
        """The state at ``w`` (its coefficients: the rest follows), for :meth:`restore`."""
        return w.copy()

    def restore(self, snap):
        """Back to a :meth:`snapshot`; returns the coefficients' array (as :meth:`start`)."""
        return self.start(snap)

    def _reset(self, w):
        """The kernel state (``Q w`` or the residual) of ``w``, from scratch."""
        self._g_valid = False
        if self.mode == "gram":
            self.H = np.ascontiguousarray(self.Q @ w if w.any() else
                                          np.zeros(self.n_features), dtype=self.dtype)
        else:
            self.R = np.ascontiguousarray(self.design.residual64(w), dtype=self.dtype)
            self.column_passes += np.count_nonzero(w)

    def reweighted(self, w, R):
        """Re-read a :class:`~sklearn_normpen._design.ReweightedDesign` after its
        ``reweight`` (residual modes only: a GLM's Newton steps reuse one problem) and set
        the state to ``w`` with its float64 residual ``R = yc - Xc w`` computed by the
        caller. Returns ``w`` as the contiguous array the solves update in place."""
        d = self.design
        self.N, self.x_mean, self.y_mean = d.N, d.x_mean, d.y_mean
        self.null_deviance = d.null_deviance
        self.sw = np.ascontiguousarray(d.sw, dtype=self.dtype)
        self.xk_mean = np.ascontiguousarray(d.xk_mean, dtype=self.dtype)
        self.norm2 = np.ascontiguousarray(d.col_sumsq(), dtype=self.dtype)
        self._unpen_cache.clear()
        self._unpen_blocks.clear()
        self._newton_cache = None
        self._null.clear()
        self.__dict__.pop("_per_mask", None)
        self.R = np.ascontiguousarray(R, dtype=self.dtype)
        self._g_valid = False
        self._n_ref = 0  # new weights: new references too
        return np.array(w, dtype=self.dtype, order="C")

    def intercept(self, w):
        if not self.fit_intercept:
            return 0.0
        return float(self.y_mean - self.x_mean @ np.asarray(w, dtype=np.float64))

    # -- certificate inputs -----------------------------------------------------------------
    def cert_stats(self, w, penalty):
        """:class:`CertStats` at ``w`` (float64, package scale)."""
        N = self.N
        w64 = np.asarray(w, dtype=np.float64)
        span, basis = self._unpen(penalty.unpenalized) or (None, None)
        r = None
        if self.mode == "gram":
            # float64 data: the kernel keeps g = q - Q w exactly; float32: recompute in f64
            g = (np.asarray(self.g, dtype=np.float64) if self.dtype == np.float64 and
                 self._g_valid else self.q64 - self.Q64 @ w64)
            wq = float(w64 @ self.q64)
            r_norm2 = max(self.yy - wq - float(w64 @ g), 0.0)
            r_y, r_mean = self.yy - wq, 0.0
            if _gram_cancels(self.yy, w64, self.q64, self.Q64):
                d = self._span_design()
                if d is not None:  # the residual itself, from the rows
                    r = d.residual64(w64)
                    g, r_norm2, r_y = d.gradient64(r), d._wdot(r, r), d._wdot(r, d.yc64)
            if r is None and basis is not None and _span_cancels(span, w64, g / N):
                r = self._span_design().residual64(w64)  # (for z = Ŵᵀ r below)
        else:
            d = self.design
            if self._fresh:
                r = d.residual64(w64)
                g = d.gradient64(r)
                self.column_passes += self.n_features + np.count_nonzero(w64)
            else:
                r = np.asarray(self.R, dtype=np.float64)
                if not self._g_valid:
                    # the state moved outside the kernel (a Newton step, a restart): the
                    # gradient there, once, kept for the kernel's next round (a stale g
                    # would give an invalid dual point)
                    self.g[:] = d.gradient64(r)
                    self.column_passes += self.n_features
                    self.g_bound[:] = 0  # (every entry exact)
                    self._g_valid, self._g_partial = True, False
                g = np.asarray(self.g, dtype=np.float64)
            r_norm2, r_y = d._wdot(r, r), d._wdot(r, d.yc64)
            r_mean = ((float(r.sum()) if d.sw64 is None else float(d.sw64 @ r))
                      if self.fit_intercept else 0.0)
        return CertStats(r_norm2 / N, r_y / N, r_mean / N, g / N, span,
                         unpen_z=None if r is None or basis is None else basis.T @ r)

    @per_mask
    def _unpen(self, mask):
        """``((U, M, a), W)``: the unpenalised features' span for the certificate's
        projection (:func:`~sklearn_normpen._certificate.project`) and its basis ``Ŵ``
        (n × k; None without the rows), cached, or None without such features. From the
        rows' own columns (covariance mode: the rows the statistics describe); from the
        Gram only when the rows are not at hand
        (:func:`~sklearn_normpen._certificate.gram_span`)."""
        U = np.flatnonzero(mask)
        if U.size == 0:
            return None
        key = U.tobytes()
        if key not in self._unpen_cache:
            d = self._span_design()
            if d is None:
                C = self.Q64[:, U] / self.N
                self._unpen_cache[key] = (gram_span(U, C, C[U], self.q64[U] / self.N), None)
            else:
                M, a, W = d.unpenalised_span64(U, basis=True)
                self._unpen_cache[key] = ((U, M, a), W)
        return self._unpen_cache[key]

    def _unpen_step(self, w, penalty):
        """The exact joint step on the unpenalised features without limits
        (:meth:`_unpen_block`: ill-conditioned ones; covariance mode only with the rows
        at hand), kept when it lowers the objective at all: ``w`` and the kernel state
        updated. Coordinate descent visits such columns one at a time, which crawls when
        they are nearly collinear or far apart in scale. Returns whether ``w`` changed."""
        free = penalty.unpenalized & np.isinf(penalty.lower) & np.isinf(penalty.upper)
        U = np.flatnonzero(free)
        if not self._solve_unpen(w, U):
            return False
        self._reset(w)
        return True

    def _unpen_block(self, U):
        """``(Design, UnpenalisedStep)`` of the features ``U`` on the rows' own columns
        (:class:`~sklearn_normpen._design.UnpenalisedBlocks`), or None: none, too many,
        well-conditioned (the sweeps resolve them), or (covariance mode) no rows at hand."""
        d = self._span_design() if U.size else None
        if d is None:
            return None
        step = self._unpen_blocks.get(
            U, d.n, d.X.nnz if d.sparse else d.n * d.p,
            lambda: (d.explicit_columns(U), None if d.sw64 is None else np.sqrt(d.sw64)))
        return None if step is None else (d, step)

    def _solve_unpen(self, w, U):
        """``w[U]`` set to the least-squares fit of the residual on the columns ``U``, the
        other coefficients held, if that lowers ``½||r||²_S`` (the kernel state is the
        caller's). Returns whether it did."""
        block = self._unpen_block(U)
        if block is None:
            return False
        d, step = block
        w64 = np.asarray(w, dtype=np.float64)
        new = step.step(d.residual64(w64), w64[U], w.dtype)
        if new is None:
            return False
        w[U] = new
        return True

    def _span_design(self):
        """The Design of the rows this problem fits (None: not at hand)."""
        if self.mode != "gram":
            return self.design
        if self._rows_design is None:
            d = rows_design(self.design, self._stats_rows, self.fit_intercept)
            self._rows_design = (d,)  # (kept, None included)
        return self._rows_design[0]

    # -- solves -------------------------------------------------------------------------------
    def _limits(self, penalty=None):
        """The box ``(lower, upper)`` in the kernel dtype, rounded towards 0 so that a
        clipped float32 coefficient is feasible in float64 too (None: no limits)."""
        p, dt = self.n_features, self.dtype
        if penalty is None:
            return np.full(p, -np.inf, dtype=dt), np.full(p, np.inf, dtype=dt)
        cached = self._limit_cache
        if cached is not None and cached[0] is penalty:  # the same at every alpha
            return cached[1]
        out = []
        for b in (penalty.lower, penalty.upper):
            c = np.asarray(b, dtype=dt)
            over = np.abs(c.astype(np.float64)) > np.abs(b)
            if over.any():
                c[over] = np.nextafter(c[over], dt.type(0))
            out.append(np.ascontiguousarray(c))
        self._limit_cache = (penalty, tuple(out))
        return self._limit_cache[1]

    def _modes(self, penalty, limits):
        """``(polish, bounded)`` for ``penalty``: Newton polish without box limits; bounded
        gradient passes without unpenalised features (the same at every path point, so
        kept with the penalty's limits)."""
        cached = getattr(self, "_mode_cache", None)
        if cached is not None and cached[0] is penalty and cached[1] is limits:
            return cached[2]
        modes = (not (np.isfinite(limits[0]).any() or np.isfinite(limits[1]).any()),
                 BOUNDED_PASSES and not penalty.unpenalized.any())
        self._mode_cache = (penalty, limits, modes)
        return modes

    def _kernel(self, w, L1, L2, tol_n, max_iter, limits, factor, bounded=False, pred=None):
        """One kernel run; returns ``(gap, kkt, epochs, converged)`` (n-scale).

        ``bounded`` (residual modes) lets the kernel skip the gradient of features whose
        bound from the last full passes keeps them inside their dual constraint (their
        entry of ``g`` is then that bound, which gives the same certificate; the
        projection off unpenalised features would not: only without them)."""
        lower, upper = limits
        if self.mode == "gram":
            self._g_valid = True
            return call_kernel(
                _cd_enet.enet_cd_gram,
                w, self.Q, self.q, self.norm2, self.H, self.g, L1, L2, lower, upper, self.yy,
                tol_n, factor, int(max_iter))
        d = self.design
        if bounded:
            ref = (self.g_ref, self.R_ref, self._n_ref, self.g_bound)
        else:
            ref = (_NO_REF[self.dtype], _NO_REF[self.dtype], 0, _NO_FLAGS)
        # g = Xc' S r at the state: exact, or (a bounded pass) flagged bounds, which only
        # a bounded call can refine
        g_valid = self._g_valid and (bounded or not self._g_partial)
        gap, kkt, n_iter, done, g_exact, n_ref, passes = call_kernel(
            _cd_enet.enet_cd_residual,
            w, *self._kernel_x(), d.n, d.yc, self.sw, self.xk_mean, self.norm2, self.R,
            self.g, L1, L2, lower, upper, self.N, tol_n, factor, int(max_iter),
            g_valid, self.anderson_k, *ref, _NO_PRED[self.dtype] if pred is None else pred)
        self._g_valid, self._g_partial = True, not g_exact
        self.column_passes += passes
        if bounded:
            self._n_ref = n_ref
        return gap, kkt, n_iter, done

    def _kernel_x(self):
        """The residual kernel's ``(X_data, X_indices, X_indptr)``: CSC, or the dense X
        flattened in Fortran order (a view) with empty index arrays; the same objects from
        call to call, so the kernel checks are not repeated."""
        if self.mode == "sparse":
            return self.X_data, self.X_indices, self.X_indptr
        Xk = self.design.Xk
        flat = getattr(self, "_flat", None)
        if flat is None or flat[0] is not Xk:
            empty = np.zeros(0, dtype=np.intc)
            self._flat = flat = (Xk, (Xk.ravel(order="F"), empty, empty))
        return flat[1]

    def to_original(self, w):
        """``(coef, intercept)`` on the user's scale (the penalty carries any standardisation,
        so the coefficients are already on it)."""
        return w, self.intercept(w)

    def predict_next(self, d, penalty):
        """Take the path's predicted change ``d`` of the coefficients for the next solve
        at ``penalty`` (:func:`~sklearn_normpen._path.compute_path`; the kernel applies
        it, see ``enet_cd_residual``'s ``pred``). Returns whether it was taken: not in
        covariance mode, nor with box limits (the kernel keeps no step there), nor with a
        ridge part: the lasso's path is linear between kinks, while elastic-net paths
        curve, and predicted starts there kept the Newton steps from taking over the slow
        tail (the wide l1_ratio=0.5 path: 200 epochs became 3000)."""
        polish, _ = self._modes(penalty, self._limits(penalty))  # (polish: no limits)
        if self.mode == "gram" or not polish or penalty.has_ridge:
            return False
        self._pred = np.ascontiguousarray(d, dtype=self.dtype)
        return True

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Minimise at ``alpha`` from ``w`` (updated in place) until the certificate is at
        most ``tol_abs`` (package scale). The first kernel round keeps the features of the
        sequential strong rule ``|g_j| > (2 - alpha_prev/alpha)·L1_j``; the kernel's full
        gradient pass adds back any it missed. Returns ``(Certificate, epochs)``."""
        strong_factor = 1.0 if alpha_prev is None or alpha <= 0 else 2.0 - alpha_prev / alpha
        L1, L2 = penalty.scaled_weights(alpha, self.N)
        L1 = np.ascontiguousarray(L1, dtype=self.dtype)
        L2 = np.ascontiguousarray(L2, dtype=self.dtype)
        limits = self._limits(penalty)

        # (box limits: the Newton step below would have to respect them; not attempted)
        polish, bounded = self._modes(penalty, limits)

        pause = Pause(self._pause, POLISH_MIN_EPOCHS, POLISH_EPOCHS)
        pre = False
        if (polish and alpha_prev is not None and self._pause <= POLISH_MIN_EPOCHS
                and self._g_valid):
            # a slow tail that single Newton steps have been finishing: step first, from
            # the last point's gradient (the KKT violators at this alpha come in with it),
            # and let the kernel's first pass judge the result
            pre = self._polish(w, L1, L2)
            pause.record(pre)
        # the path's prediction (predict_next) moves the first round's start, unless a
        # Newton step has just solved the active set
        pred, self._pred = (None if pre else self._pred), None
        # (after that step the violators are in: the first round needs no strong rule,
        # and its bounded pass then reads few columns)

        # the exact step on the unpenalised block after each kernel run (float64: a float32
        # iterate cannot hold that block's optimum, and the kernel undid each step, 1225
        # steps on "illposed" seed 65; its float64 refinement takes the projected Newton
        # steps instead)
        stepped = (bool(penalty.unpenalized.any()) and self.dtype == np.float64
                   and self.unpen_block)

        def run(inner, left, first):
            if left <= 0:
                return 0, np.inf
            chunk = pause.chunk(left) if polish and self._affordable(w) else left
            gap, _, n_iter, done = self._kernel(w, L1, L2, inner * self.N, chunk, limits,
                                                strong_factor if first and not pre else 1.0,
                                                bounded, pred if first else None)
            if stepped and self._unpen_step(w, penalty):
                done = False
            if not done and pause.due(n_iter, chunk, left):
                taken = self._polish(w, L1, L2)
                if taken:
                    # the certificate at the new point needs its gradient: the kernel's
                    # pass (bounded where it can), with no epochs
                    self._kernel(w, L1, L2, inner * self.N, 0, limits, 1.0, bounded)
                pause.record(taken)
                return n_iter, None  # resume on the same target
            return n_iter, gap / self.N

        cert, epochs = stop_on_certificate(
            run, lambda: certificate(self.cert_stats(w, penalty), penalty, alpha, w),
            tol_abs, max_iter)
        self._pause = pause.next(self._pause, cert.gap <= tol_abs)
        if cert.gap > tol_abs and polish and self.dtype == np.float32 and self.refine64:
            cert = self._refine64(w, penalty, alpha, cert, tol_abs)
        return cert, epochs

    def _affordable(self, w, A=None):
        """Whether the Newton step on the support of ``w`` costs at most two pauses'
        worth of epochs: ``k³/3`` (covariance mode) or ``n·k² + k³/3`` (residual modes,
        forming ``G``) against ``2·POLISH_EPOCHS`` sweeps of the support's entries (a
        sparse support is cheap to sweep: then it rarely pays)."""
        k = np.count_nonzero(w) if A is None else A.size
        if k > POLISH_MAX:
            return False
        if self.mode == "gram":
            return True
        n = self.design.n
        if self.mode == "sparse":
            A = np.flatnonzero(w) if A is None else A
            nnz = float(np.sum(self.X_indptr[A + 1] - self.X_indptr[A]))
            u = self._uncached(A).size
        else:
            nnz = float(n) * k
            # (dense: the support's uncached columns counted without listing the support:
            # k less the cached columns still in it; the cache holds at most ~2k of them)
            cache = self._newton_cache
            u = k if cache is None else k - int(np.count_nonzero(
                np.asarray(w)[cache["cols"][:cache["m"]]]))
        # (forming G reads only the columns the cache lacks)
        return n * k * u + k ** 3 / 3 <= 2 * POLISH_EPOCHS * 2 * nnz

    def _uncached(self, A):
        """The features of ``A`` whose Gram columns the Newton cache lacks."""
        cache = self._newton_cache
        return A if cache is None else A[cache["slot"][A] < 0]

    def _active_system(self, A):
        """``(G, c) = (Xc_Aᵀ S Xc_A, Xc_Aᵀ S yc)`` in float64 for the features ``A`` (in
        that order; residual modes), from a cache that grows by the columns new to it:
        along a path the active set changes by a few features per point, so a step reads
        ``n·k·m`` instead of ``n·k²`` (``m`` new columns). Cached columns outside ``A``
        are dropped when the cache would outgrow twice ``|A|`` (features leave and
        re-enter)."""
        d = self.design
        cache = self._newton_cache
        new = self._uncached(A)
        m = 0 if cache is None else cache["m"]
        stale = m + new.size > 2 * A.size + 16
        if cache is None or stale or m + new.size > cache["cols"].size:
            keep = np.zeros(0, dtype=np.intp) if cache is None else cache["cols"][:m]
            if stale:
                keep = keep[np.isin(keep, A)]
            cap = max(2 * A.size + 16, 2 * (keep.size + new.size))
            fresh = dict(slot=np.full(self.n_features, -1, dtype=np.intp), m=keep.size,
                         cols=np.empty(cap, dtype=np.intp), G=np.empty((cap, cap)),
                         c=np.empty(cap))
            if keep.size:
                old = cache["slot"][keep]
                fresh["G"][:keep.size, :keep.size] = cache["G"][old][:, old]
                fresh["c"][:keep.size] = cache["c"][old]
            fresh["cols"][:keep.size] = keep
            fresh["slot"][keep] = np.arange(keep.size)
            self._newton_cache = cache = fresh
        if new.size:
            m, k = cache["m"], new.size
            root = None if d.sw64 is None else np.sqrt(d.sw64)[:, None]

            def columns(cols):
                B = d.explicit_columns(cols)
                return B if root is None else B * root

            XN = columns(new)
            G, cols = cache["G"], cache["cols"]
            if m:
                B = columns(cols[:m]).T @ XN
                G[:m, m:m + k] = B
                G[m:m + k, :m] = B.T
            G[m:m + k, m:m + k] = XN.T @ XN
            self.gram_products += k * (m + k / 2)
            yc = d.yc64 if root is None else d.yc64 * root[:, 0]
            cache["c"][m:m + k] = XN.T @ yc
            cols[m:m + k] = new
            cache["slot"][new] = np.arange(m, m + k)
            cache["m"] = m + k
        pos = cache["slot"][A]
        return cache["G"][pos][:, pos], cache["c"][pos]

    def _polish(self, w, L1, L2, g=None):
        """Newton steps on the active set ``A`` for the slow tail of coordinate descent on
        an ill-conditioned ``X_A`` (near saturation, |A| close to n: thousands of epochs).
        With the signs ``s`` fixed the n-scale objective on ``A`` is the quadratic
        ``½uᵀGu - uᵀc + L1ᵀ|u| + ½Σ L2 u²`` (``G = X_AᵀSX_A``, ``c = X_AᵀS yc``, centred),
        minimised by ``(G + diag L2) u = c - L1·s``. A primal active-set method on ``A``:
        where the minimiser flips a sign, the step stops at the first such coefficient,
        which leaves at 0; a coefficient left at 0 whose gradient then violates its KKT
        condition comes back with that gradient's sign; each step is a solve with one
        factorisation of ``G + diag L2`` (``O(k²)`` per change of the set). The result is
        kept only if it lowers the objective; the certificate then judges the point as any
        other, and coordinate descent resumes from it. Returns whether ``w`` changed.

        When the kernel's gradient at ``w`` is at hand, ``A`` also takes the zero features
        that violate their KKT condition (``|g_j| > L1_j``, the largest few), with the sign
        of ``g_j``. Near saturation (residual modes, ``|A|`` above the rank ``n - 1`` of the
        centred ``X_A``: ``G`` singular) the smallest coefficients (in ``|w_j|·||x_j||``)
        start at 0 outside the factorisation; those of them that violate KKT at its result
        come in with a new factorisation (``POLISH_REFACTOR`` at most).

        ``g`` (the float64 refinement, :meth:`_refine64`): the exact n-scale gradient at a
        float64 ``w`` that is not the kernel's state; the step is then stored unrounded
        and the state left alone, and only the size caps limit it."""
        from scipy.linalg import LinAlgError, cho_factor
        from scipy.linalg.blas import dtrsv
        A = np.flatnonzero(w)
        state = g is None
        if not (A.size and (self._affordable(w, A) if state else
                            refinable(A.size, 0 if self.mode == "gram" else self.design.n))):
            return False
        L1 = np.asarray(L1, dtype=np.float64)
        # (rank of the centred X_A: at most n - 1 with an intercept)
        cap = (self.n_features if self.mode == "gram" else
               self.design.n - int(bool(self.fit_intercept)))
        # the unpenalised features (no limits here) are eliminated exactly through the QR
        # of their columns, not factorised with the others: their Gram squares their
        # condition number, and nearly collinear columns far apart in scale left the
        # steps short of the optimum (the fits stopped at gaps 1e5 times their targets)
        # (float64 coefficients only: the float32 state's steps are rounded to a grid
        # that cannot hold the block's optimum; its float64 refinement projects)
        U = np.flatnonzero((L1 == 0) & (np.asarray(L2) == 0))
        block = (self._unpen_block(U) if w.dtype == np.float64 and self.unpen_block
                 else None)
        if block is not None:
            A = A[~np.isin(A, U)]
            if A.size == 0:  # (the block alone, e.g. alpha = 0: least squares is the step)
                changed = self._solve_unpen(w, U)
                if changed and state:
                    self._reset(w)
                return changed
            cap = self.design.n - int(bool(self.fit_intercept)) - block[1].cols.size
            if np.all(np.asarray(L2)[A] > 0):
                # (a ridge part on every coefficient: the system is definite at any size,
                # and holding the smallest at 0 kept the steps off the optimum, which has
                # more non-zeros than that rank: "illposed" seed 176, l1_ratio 0.05)
                cap = max(cap, self.n_features)
        s = np.sign(np.asarray(w[A], dtype=np.float64))
        if self._g_valid or not state:
            g = np.asarray(self.g if state else g, dtype=np.float64)
            score = np.abs(g) - L1
            score[A] = 0.0
            if block is not None:
                score[U] = 0.0
            if self.mode != "gram" and state:
                score[self.g_bound != 0] = 0.0  # (bounds from a bounded pass, not values)
            V = np.flatnonzero(score > 0)
            room = max(min(A.size // 8 + 16, cap - A.size), 0)
            if V.size > room:
                V = np.sort(V[np.argsort(-score[V], kind="stable")[:room]])
            A, s = np.concatenate([A, V]), np.concatenate([s, np.sign(g[V])])
        if block is not None:  # (the block minimised out; from the rows of block[0])
            G, c = block[1].projected(block[0].explicit_columns(A), block[0].yc64,
                                      target=True)
        elif self.mode == "gram":
            G, c = self.Q64[np.ix_(A, A)], self.q64[A]
        else:
            G, c = self._active_system(A)
        u0 = np.asarray(w[A], dtype=np.float64)
        l1 = L1[A]
        l2 = np.asarray(L2[A], dtype=np.float64)
        K = np.arange(A.size)
        if A.size > cap:  # (keep the largest coefficients in the factorisation)
            size = np.abs(u0) * np.sqrt(np.maximum(np.diag(G), 0.0))
            K = np.sort(np.argsort(-size, kind="stable")[:max(cap, 0)])
        if K.size == 0:
            return False

        def on_set(K, start):
            """The active-set steps on the factorised features ``K`` from the point
            ``start`` (over ``A``); returns the new ``u`` on ``K`` (``s`` updated in
            place), or None if ``G_KK + diag l2`` has no Cholesky factor."""
            GK, lK = (G, l2) if K.size == A.size else (G[np.ix_(K, K)], l2[K])
            M = GK
            if lK.any():
                M = GK.copy()
                M.flat[::K.size + 1] += lK
            # exactly dependent columns (a two-valued feature and its powers, duplicates)
            # make M singular: factorise M + δ diag(M) instead, δ just above the rounding
            # of its pivots (relative to each column's scale, which the coefficients
            # mirror: the shift moves the objective by δ Σ M_jj u_j² / 2). Along M's null
            # space the objective with the signs held is linear, and the solve with the
            # shifted factor runs far along it: the step then stops where a coefficient
            # crosses 0, descending as the group Newton steps do there
            # (group_newton._direction); the refinement step below and the check on the
            # true objective correct for the shift elsewhere.
            L = None
            for shift in (0.0, 1e3 * K.size * np.finfo(float).eps):
                Ms = M
                if shift:  # (M itself intact: the first attempt did not overwrite it)
                    Ms = M.copy()
                    Ms.flat[::K.size + 1] += shift * np.diag(M)
                try:  # (symmetric: its transpose is the Fortran layout LAPACK reads)
                    L = np.asfortranarray(cho_factor(Ms.T, lower=True,
                                                     overwrite_a=bool(shift),
                                                     check_finite=False)[0])
                    break
                except (LinAlgError, ValueError):
                    continue
            if L is None:
                return None

            def cho_solve(rhs):  # M⁻¹ rhs = L⁻ᵀ L⁻¹ rhs (BLAS: no per-call checks)
                return dtrsv(L, dtrsv(L, rhs, lower=1), lower=1, trans=1)

            sK = s[K].copy()
            b = c[K] - l1[K] * sK
            # the minimiser on K \ D (u_D = 0) through the one factor of M = GK + diag(lK):
            # x = M⁻¹b - Z Z_DD⁻¹ (M⁻¹b)_D with Z = M⁻¹E_D meets x_D = 0 and (Mx)_K\D = b_K\D
            D, Z = [], np.empty((K.size, 0))  # (Z's columns: M⁻¹ e_j for j in D)

            def solve_on_set(rhs):
                x = cho_solve(rhs)
                if D:
                    x = x - Z @ np.linalg.solve(Z[D], x[D])
                return x

            u = start[K].copy()
            inside = np.ones(K.size, dtype=bool)
            cK, l1K = c[K], l1[K]

            def crossing(v):
                return np.flatnonzero(inside & (np.sign(v) != sK))

            for _ in range(POLISH_STEPS):
                try:
                    v = solve_on_set(b)
                    v[D] = 0.0
                    C = crossing(v)
                    if C.size == 0:
                        # one step of iterative refinement at a candidate (M may be
                        # ill-conditioned near saturation)
                        res = b - GK @ v - lK * v
                        res[D] = 0.0
                        v = v + solve_on_set(res)
                        v[D] = 0.0
                        C = crossing(v)
                except (LinAlgError, ValueError):
                    break
                if not np.all(np.isfinite(v)):
                    break
                if C.size == 0:
                    u = v
                    if not D:
                        break
                    # the optimum on K \ D: a dropped coefficient whose gradient violates its
                    # KKT condition comes back with that gradient's sign
                    Dv = np.array(D)
                    gD = cK[Dv] - GK[Dv] @ v
                    excess = np.abs(gD) - l1K[Dv] * (1 + 1e-9)
                    j = int(np.argmax(excess))
                    if not excess[j] > 0:
                        break
                    sK[Dv[j]] = np.sign(gD[j])
                    b[Dv[j]] = cK[Dv[j]] - l1K[Dv[j]] * sK[Dv[j]]
                    inside[Dv[j]] = True
                    del D[j]
                    Z = np.delete(Z, j, axis=1)
                    continue
                # the quadratic falls all the way from u to v, and equals the objective up to
                # the first sign change: stop there, that coefficient at 0
                t = u[C] / (u[C] - v[C])
                i = int(C[np.argmin(t)])
                u = u + float(t.min()) * (v - u)
                u[i] = 0.0
                u[np.sign(u) * sK < 0] = 0.0  # (rounding at that same t)
                D.append(i)
                inside[i] = False
                if len(D) == K.size:
                    break
                e = np.zeros(K.size)
                e[i] = 1.0
                Z = np.column_stack([Z, cho_solve(e)])
            s[K] = sK
            return u

        # past saturation, features left out of the factorisation that violate their KKT
        # condition at the result come in, in place of the coefficients that left (a new
        # factorisation each time, a few times at most)
        x = u0.copy()
        out = np.setdiff1d(np.arange(A.size), K)  # (left out of the factorisation)
        x[out] = 0.0
        for rnd in range(POLISH_REFACTOR):
            u = on_set(K, x)
            if u is None:
                if rnd == 0:
                    return False
                break
            x = np.zeros(A.size)
            x[K] = u
            if out.size == 0:
                break
            excess = np.abs(c[out] - G[out] @ x) - l1[out] * (1 + 1e-9)
            act = K[u != 0]
            room = cap - act.size
            if room <= 0 or not np.any(excess > 0):
                break
            order = np.argsort(-excess, kind="stable")[:room]
            take = out[order[excess[order] > 0]]
            s[take] = np.sign(c[take] - G[take] @ x)
            K = np.sort(np.concatenate([act, take]))
            out = np.setdiff1d(np.arange(A.size), K)
        full = x.astype(w.dtype).astype(np.float64)  # the step as it will be stored

        def f(v):
            return 0.5 * v @ (G @ v) - v @ c + l1 @ np.abs(v) + 0.5 * l2 @ (v * v)

        if not f(full) < f(u0):
            return False
        w[A] = full
        if block is not None:  # (f is the objective with w[U] at its best for each w[A])
            self._solve_unpen(w, U)
        if state:
            self._reset(w)
        return True

    def _refine64(self, w, penalty, alpha, cert, tol_abs):
        """float32: an uncertified point finished by Newton steps on the active set in
        float64 (:meth:`_polish` on the user's centred columns, or the float64 Gram), then
        rounded back and certified by ``gap(w64) + P(w32) - P(w64)``
        (:func:`~sklearn_normpen._certificate.rounded_certificate`, as the GLM and group
        refinements), kept only when that bound is the better one. (Columns far apart in
        scale put the float32 grid of coefficients too coarse for the target: diabetes'
        cubic features, standardised by the penalty, at ``alpha = 2e-3``.)"""
        L1, L2 = penalty.scaled_weights(alpha, self.N)
        L1, L2 = np.asarray(L1, np.float64), np.asarray(L2, np.float64)
        w64 = np.asarray(w, dtype=np.float64).copy()
        c64 = cert
        for _ in range(REFINE_STEPS):
            s64 = self.cert_stats(w64, penalty)
            c64 = certificate(s64, penalty, alpha, w64)
            if c64.gap <= 0.1 * tol_abs:
                break
            if not self._polish(w64, L1, L2, g=np.asarray(s64.g) * self.N):
                break
        else:
            s64 = self.cert_stats(w64, penalty)
            c64 = certificate(s64, penalty, alpha, w64)
        s64 = replace(s64, g=np.array(s64.g, dtype=np.float64))  # (not the kernel's buffer)
        w32 = w64.astype(self.dtype)
        s32 = self.cert_stats(w32, penalty)
        c32 = certificate(s32, penalty, alpha, w32)
        d = self._span_design()  # (the rows' scale bounds the gradients' rounding)
        norms, n = ((d.raw_norms64(), d.n) if d is not None else
                    (np.sqrt(np.maximum(np.diag(self.Q64), 0.0) / self.N), 0))
        out = rounded_certificate(
            c64, *rounding_change(s64, s32, w64, w32, penalty, alpha, norms, n), c32.primal,
            like=c32)
        if not out.gap < cert.gap:
            return cert
        w[:] = w32
        self._reset(w)
        return out

    def null_fit(self, penalty, tol_abs, max_iter):
        """Fit the unpenalised features alone (penalised ones at 0); returns ``(w, z)`` with
        ``z`` the projected gradient ``Xcᵀ S r / N`` there, from which ``alpha_max`` is
        read exactly whatever the accuracy of that fit."""
        key = penalty.unpenalized.tobytes()
        if key in self._null:  # the same for every l1_ratio sharing this problem
            w, z = self._null[key]
            return self.start(w), z.copy()
        w = self.start(np.zeros(self.n_features))
        if self.dtype == np.float64 and self.unpen_block:
            self._unpen_step(w, penalty)
        L1, L2 = penalty.null_weights()
        # (run even with nothing to fit: the kernel leaves the gradient the certificate reads)
        self._kernel(w, np.ascontiguousarray(L1, dtype=self.dtype),
                     np.ascontiguousarray(L2, dtype=self.dtype), tol_abs * self.N,
                     max(max_iter, 1000), self._limits(), 1.0)
        z = project(self.cert_stats(w, penalty), w).g
        self._null[key] = (w.copy(), z.copy())
        return w, z

