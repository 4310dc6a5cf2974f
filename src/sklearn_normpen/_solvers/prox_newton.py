"""Proximal Newton (IRLS) for GLM datafits on a :class:`~sklearn_normpen._design.Design`.

Each outer step replaces the loss by its quadratic model at the current ``η = Xw + b``:
curvature weights ``s_i v_i`` (the datafit's ``irls_weight``: ``μ(1 - μ)`` floored at 1e-5
for the binomial as glmnet does, ``μ`` for the Poisson) and working response
``z = η + (y - μ)/v``. That weighted least-squares elastic net is
an ordinary :class:`~sklearn_normpen._solvers.coordinate_descent.EnetProblem` on a Design
with those weights (its weighted centring fits the intercept), solved by the existing
coordinate-descent kernels with their strong rule and KKT pass, warm-started at ``w``, to a
certified accuracy tied to the current outer gap. For the elastic net that model is built
once per working set of columns (ever-active features, the strong rule, KKT violators) as a
:class:`~sklearn_normpen._design.ReweightedDesign` and reweighted in place each step
(:meth:`GLMProblem._model`); the certificate always covers every feature. A backtracking (Armijo) line search on
the true objective along ``(w_new - w, b_new - b)`` guarantees descent. A point is accepted
on the package's one certificate (:func:`sklearn_normpen._certificate.certificate`) with the
datafit's Fenchel dual (negative entropy for the binomial).

The dual direction is ``r = y - μ`` made feasible for the intercept (``Σ s θ = 0``) and the
unpenalised features (``x_jᵀ S θ = 0``). Without unpenalised features the intercept
constraint is met by shrinking the larger-signed part of ``r`` toward 0 (so ``y - tθ``
stays between ``y`` and ``μ``, inside the conjugate's domain); with unpenalised features
``r`` is corrected by ``D A β`` (``A = [1, X_U]``, ``D`` the datafit's variance), ``β`` solving
``AᵀSDAβ = AᵀSr``), a correction that vanishes where μ nears 0 or 1, and the datafit
bounds ``t`` to its domain.
Both give a valid bound for any ``(w, b)``.

The problem protocol is that of :mod:`sklearn_normpen._path`; in addition
:meth:`GLMProblem.path_stop` implements glmnet's early path stop (deviance ratio above
0.999, or its relative change below 1e-5, after at least 5 points).
"""
import numpy as np
import scipy.sparse as sp

from .._certificate import (CertStats, certificate, glm_rounding_change,
                            rounded_certificate, variance_projection)
from .._design import (SAFE_RANGE, Design, ReweightedDesign, exact_scaling,
                       rounded_coefficients, scaled_columns64)
from ..datafits import GLMStats, Logistic
from ..penalties import ElasticNetPenalty
from .coordinate_descent import REFINE_MAX_BYTES, EnetProblem
from .._kernels import _bcd_multitask
from .._validation import call_kernel

_EMPTY = np.zeros(0)

MAX_NEWTON = 100      # outer steps per path point
DEV_RATIO_MAX = 0.999  # glmnet's rsqmax
DEV_CHANGE_MIN = 1e-5  # glmnet's sml
MIN_POINTS = 5         # glmnet's mnl
# incremental updates η += t·X dw (float64) before η is recomputed from (w, b): each adds
# rounding of order eps·|η|, far below any tol, and the recomputation costs a gradient pass
ETA_REFRESH = 20
# the depth of the inner residual kernels' Anderson extrapolation (see _model)
ANDERSON_K_NEWTON = 4


def glmnet_stop(problem, ratio):
    """glmnet's early path stop for a problem with ``_n_points`` (points so far, this one
    counted), ``_dev_prev`` (the last moving point's deviance ratio) and ``_stepped``
    (whether this point took a Newton step): a reason once ``ratio`` exceeds 0.999 or its
    relative change falls below 1e-5, after at least 5 points; else None. A point whose
    warm start was certified as it stood cannot change the ratio, which says nothing about
    a plateau of the path (a loose tol would stop it early): the next point is compared
    with the last one that moved."""
    prev = problem._dev_prev
    if problem._stepped or prev is None:
        problem._dev_prev = ratio
    if problem._n_points < MIN_POINTS:
        return None
    if ratio > DEV_RATIO_MAX:
        return (f"deviance ratio {ratio:.6f} > {DEV_RATIO_MAX} (a (nearly) saturated fit, "
                "e.g. separable classes: further alphas only inflate the coefficients)")
    if prev is not None and problem._stepped and ratio - prev < DEV_CHANGE_MIN * ratio:
        return (f"deviance ratio changed by less than {DEV_CHANGE_MIN:g} relative "
                f"({prev:.6f} -> {ratio:.6f})")
    return None


def unpenalised_basis(design, U, fit_intercept, cache):
    """Float64 dense ``[1, X_U]`` (``X_U`` without intercept): the directions a GLM dual
    point must be orthogonal to; cached in ``cache`` by the index set ``U``."""
    key = U.tobytes()
    if key not in cache:
        d = design
        cols = [np.asarray(d.X[:, U].toarray() if d.sparse else d.X[:, U], dtype=np.float64)]
        if fit_intercept:
            cols.insert(0, np.ones((d.n, 1)))
        cache[key] = np.hstack(cols)
    return cache[key]


def layout_gradient64(design, M):
    """``Xkᵀ S M`` (p, m) in float64 for a float64 ``M`` (n, m): the layout's columns
    ``X - 1 cᵀ`` (offset columns centred) from the Design's :meth:`exact_layout
    <sklearn_normpen._design.Design.exact_layout>` (for float32 data the user's own
    columns), each column of a dense X read once for all of M's."""
    M = np.asfortranarray(M, dtype=np.float64)
    sw = design.sw64
    X, mean = design.exact_layout()  # (Xcᵀ S M below, then the layout's means)
    if design.sparse:
        SM = M if sw is None else sw[:, None] * M
        G = np.asarray(X.T @ SM) - np.outer(mean, SM.sum(axis=0))
    else:
        G = np.empty((design.p, M.shape[1]))
        call_kernel(_bcd_multitask.gradient_mt_dense, X, _EMPTY if sw is None else sw,
                    np.asarray(mean, np.float64), M, G)
    return G + np.outer(design.xk_mean, M.sum(axis=0) if sw is None else sw @ M)


class _NullPenalty:
    """The penalty of the null model: penalised features held at 0, unpenalised ones free.
    Holding ``w_j = 0`` has conjugate 0, so the null certificate constrains only the
    unpenalised features and the intercept."""

    def __init__(self, base):
        self.base = base
        self.unpenalized = base.unpenalized
        self.positive = False
        # no box on the null model's free coefficients (the penalised ones are held at 0)
        self.lower = np.full(self.unpenalized.shape[0], -np.inf)
        self.upper = np.full(self.unpenalized.shape[0], np.inf)

    def scaled_weights(self, alpha, N):
        return self.base.null_weights()

    def value(self, w, alpha):
        return 0.0

    def conjugate(self, z, alpha):
        return 0.0

    def terms(self, w, z, zp, alpha):
        U = self.unpenalized
        kkt = float(np.max(np.abs(z[U]))) if U.any() else 0.0
        return 0.0, 1.0, 0.0, kkt


class GLMProblem:
    """One data set prepared for repeated penalised GLM solves (a path or a CV fold).

    Parameters
    ----------
    design : Design
        The data with the 0/1 labels as ``y`` and the user's sample weights.
    mode : {"dense", "sparse"}
        Residual mode of the inner coordinate descent (the curvature weights change every
        Newton step, so a Gram matrix would be rebuilt each time).
    datafit : class, default=Logistic
    inner : callable, default=None
        ``inner(design, mode) -> problem`` builds the solver of each Newton step's weighted
        least-squares model; None: :class:`EnetProblem` (elastic net). :class:`GroupInner`
        gives the (sparse-)group lasso on :class:`GroupProblem`.
    inv_scale, x_shift : ndarray, default=None
        ``design`` holds standardised columns (see :attr:`inv_scale`, :attr:`x_shift`).
    exact : Design, default=None
        With ``inv_scale``, the Design of the user's unscaled X (``_standardized``'s
        fourth value). For float32 data the certificate then reads the user's columns
        times the exact ``1/σ`` (not the scaled float32 copy, rounded to 6e-8 of its
        entries, nor ``1/fl32(1/σ)``) and is formed at the point the returned float32
        coefficients stand for (:func:`~sklearn_normpen._design.rounded_coefficients`):
        on the scaled copy its primal was up to 4e-9 of the null deviance off the user's
        objective, beside gaps of 2e-9. (The group lasso's and the multi-response group's
        rule.)
    """

    #: a cold start far below alpha_max walks down to it (:func:`~sklearn_normpen._path.lead_in`)
    lead_in = True

    def __init__(self, design, mode, datafit=Logistic, inner=None, inv_scale=None,
                 x_shift=None, exact=None):
        self.design, self.mode, self.datafit = design, mode, datafit
        self.inv_scale, self.x_shift, self._user = inv_scale, x_shift, None
        if exact is not None and inv_scale is not None and design.dtype == np.float32:
            self._user = exact
            self.inv_scale, self.x_shift = exact_scaling(exact)
        # the weighted least-squares solver: coordinate descent, or block CD (GroupInner)
        self._inner = inner
        d = design
        self.dtype = np.dtype(d.dtype)
        self.fit_intercept = d.fit_intercept
        self.n_features = d.p
        self.N = d.N
        self.y64 = np.asarray(d.y, dtype=np.float64)
        self.x_std, self.constant = d.x_std, d.constant
        # X w in float64 without centring: a Design with y = 0 and no intercept
        self._lin = Design(d.X, np.zeros(d.n, dtype=d.dtype), d.sw, False)
        ybar = float(np.mean(self.y64) if d.sw64 is None else d.sw64 @ self.y64 / d.N)
        why = datafit.no_null_fit(ybar) if self.fit_intercept else None
        if why is not None:  # the fit would chase an infinite intercept, then warn
            raise ValueError(why)
        self._b0 = datafit.null_intercept(ybar) if self.fit_intercept else 0.0
        # the unit of tol: half the null deviance (intercept-only minus saturated loss)
        mean = GLMStats(self.y64, None, None, d.sw64, d.N).mean
        self._saturated = mean(datafit.saturated(self.y64))
        self.saturated_loss = self._saturated  # for the path's deviance ratios
        eta0 = np.full(d.n, self._b0)
        if hasattr(datafit, "bregman"):  # no cancellation of the saturated loss
            self.null_deviance = mean(datafit.bregman(self.y64, eta0)[0])
        else:
            self.null_deviance = max(mean(datafit.loss(self.y64, eta0)) - self._saturated,
                                     0.0)
        # η = Xk w + b about the Design's layout Xk (offset columns, |x̄| ≫ σ, stored
        # centred): X = Xk + 1 mᵀ, so the state's intercept b is the user's plus mᵀw. A
        # large coefficient on such a column (the column 5 + 1e-9 needs ~1e9) would
        # otherwise put ~|x̄ w| into X w and cancel it against b: eps |x̄ w| of rounding
        # in η, a floor on the gap (a sparse Poisson fit stalled at 3e-7)
        self._m = (d.layout_shift if self.fit_intercept and self._user is None
                   else np.zeros(d.p))
        self._null, self._unpen_cache = {}, {}
        self._sub = None  # the Newton model on the working set's columns (see _model)
        # the last Newton model's coordinate-descent pause before its active-set step
        # (EnetProblem._pause), handed to the next model when that one is built afresh
        self._inner_pause = None
        self._cert_cache = None
        self._n_incr = 0
        self._f64 = False  # a float32 problem's refinement in float64 (_refine64)
        self.b = self._b0
        self.eta = np.full(d.n, self.b)
        self._dev_prev = None
        self._n_points = 0
        self._stepped = True

    # -- state ----------------------------------------------------------------------------
    def _Xw(self, w):
        """``Xk w`` in float64 (the Design's layout, see ``_m``): ``Xc w`` from
        ``Design.centred_product64`` (for float32 data the user's own columns: the
        layout's float32 copy of a centred offset column is rounded, so η, and the
        certificate's primal, would be another data set's) plus the layout's means. Under
        ``exact``: the scaled copy's exact counterpart ``(X - 1 cᵀ) diag(1/σ) w`` on the
        user's columns (``_m`` is then 0: no large terms)."""
        w = np.asarray(w, dtype=np.float64)
        if self._user is not None:
            v = w * self.inv_scale
            return self._user.centred_product64(v) + float(self._user.xk_mean @ v)
        return self.design.centred_product64(w) + float(self.design.xk_mean @ w)

    def start(self, w):
        """Set the state to ``w`` (intercept: the null model's); returns ``w`` as the
        contiguous array the solves update in place."""
        w = np.array(w, dtype=self.dtype, order="C")
        self.b = self._b0 + float(self._m @ np.asarray(w, np.float64))
        self.eta = self._Xw(w) + self.b
        self._n_incr = 0
        self._sub = None
        self._inner_pause = None
        self._dev_prev, self._n_points = None, 0
        return w

    #: a warm start's Newton model must stay this far inside the dtype's representable
    #: range (:data:`~sklearn_normpen._design.SAFE_RANGE`; see :meth:`start_usable`)
    START_MARGIN = 1e-2

    def start_usable(self):
        """Whether the state :meth:`start` set can be a warm start: its loss finite, and its
        Newton model's curvature weights and centred working response ``z = η + r/v``
        finite and within ``START_MARGIN`` of the dtype's safe range (else the path
        starts from the intercept-only model, :func:`~sklearn_normpen._path.compute_path`).
        Poisson starts with ``|η|`` in the thousands had overflowed the model (a
        ``LinAlgError`` in the group Grams' eigenvalues, a ``ValueError`` from an infinite
        working response); in float32, ``η`` of -30 already put ``y/μ`` past 1e12.
        (Nearer starts that the Newton steps cannot leave are mended by
        :func:`~sklearn_normpen._path.start_retry`.)"""
        top = self.START_MARGIN * SAFE_RANGE[self.dtype][1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            v = self.datafit.irls_weight(self.eta)
            z = self.datafit.residual(self.y64, self.eta) / v + self.eta
            loss = self._mean_loss()
            spread = np.max(z) - np.min(z) if z.size else 0.0
        return bool(np.isfinite(loss) and np.all(v <= top) and spread <= top)

    def _mean_loss(self):
        """The weighted mean loss at the state's ``η``."""
        return GLMStats(self.y64, None, None, self.design.sw64, self.N).mean(
            self.datafit.loss(self.y64, self.eta))

    def snapshot(self, w):
        """The state at ``w`` (coefficients, intercept, η), for :meth:`restore`."""
        return (w.copy(), self.b, self.eta.copy(), self._n_incr, self._dev_prev,
                self._n_points)

    def restore(self, snap):
        """Back to a :meth:`snapshot`; returns the coefficients' array (as :meth:`start`)."""
        w = np.array(snap[0], dtype=self.dtype, order="C")
        self.b, self.eta, self._n_incr, self._dev_prev, self._n_points = snap[1:]
        self.eta = self.eta.copy()
        self._sub, self._inner_pause, self._cert_cache = None, None, None
        return w

    #: per-column ``1/σ`` when the Design holds standardised columns (the coefficients
    #: are returned on the user's scale, ``w_j/σ_j``); None: the user's columns
    inv_scale = None
    #: what was subtracted from each standardised column (offset columns centred before
    #: scaling: ``sklearn_normpen._families._standardized``); None: nothing
    x_shift = None

    def _user_point(self, w):
        """``(w', η')`` under ``exact``: the solver-scale point that the float32
        coefficients returned for ``w`` stand for (in the float64 refinement: ``w`` to
        float64 rounding), and its ``η`` (with the intercept :meth:`to_original` returns:
        ``X coef + b - shiftᵀw' = (X - 1 cᵀ) coef + b``)."""
        wc = rounded_coefficients(w, self.inv_scale, self.dtype)[1]
        return wc, self._Xw(wc) + self.b

    def to_original(self, w):
        # the intercept from the solver's own coefficients: ``_m`` holds the means of the
        # columns the solver sees (divided by σ under standardisation); rescaling first
        # mixed the scales — wrong by x̄ᵀw (1 - 1/σ), huge for an offset column
        if self.inv_scale is None:
            coef, w_eff = np.asarray(w, dtype=self.dtype), np.asarray(w, np.float64)
        else:  # the intercept of the rounded coefficients (see rounded_coefficients)
            coef, w_eff = rounded_coefficients(w, self.inv_scale, self.dtype)
        b = self.b - float(self._m @ w_eff) if self.fit_intercept else 0.0
        if self.fit_intercept and self.x_shift is not None:
            b -= float(self.x_shift @ w_eff)
        return coef, b

    def _objective(self, eta, w, penalty, alpha):
        loss = GLMStats(self.y64, eta, None, self.design.sw64, self.N).mean(
            self.datafit.loss(self.y64, eta))
        return loss + penalty.value(w, alpha)

    # -- certificate ------------------------------------------------------------------------
    def _unpen_basis(self, U):
        # (the user's columns span what their scaled, shifted copies and 1 do)
        d = self.design if self._user is None else self._user
        return unpenalised_basis(d, U, self.fit_intercept, self._unpen_cache)

    def _dual_direction(self, r, unpenalized, eta):
        """``r`` made feasible for the intercept and unpenalised-feature constraints."""
        U = np.flatnonzero(unpenalized)
        sw = self.design.sw64
        if U.size:
            # variance-weighted projection: the correction of row i is scaled by
            # μ_i(1 - μ_i), so it vanishes where μ_i nears 0 or 1 and y - θ stays in the
            # conjugate's domain near the optimum (an unweighted one would leave it)
            rp = variance_projection(self._unpen_basis(U), r, sw,
                                     self.datafit.variance(eta))
            # (None: rounding defeated the projection; 0 is always a feasible dual point)
            return np.zeros_like(r) if rp is None else rp
        if not self.fit_intercept:
            return r
        sr = r if sw is None else sw * r
        pos, neg = float(sr[sr > 0].sum()), float(-sr[sr < 0].sum())
        if pos > neg:  # shrink the positive part: Σ s θ = 0 and y - θ stays in [0, 1]
            return np.where(r > 0, r * (neg / pos), r)
        if neg > pos:
            return np.where(r < 0, r * (pos / neg), r)
        return r

    def cert_stats(self, w, penalty):
        """:class:`CertStats` at the current state (float64, package scale; under
        ``exact`` at :meth:`_user_point`); reused while ``η`` and the penalty's
        unpenalised mask are unchanged (a new alpha on the same state: the first Newton
        step of each path point)."""
        return self._certified(w, penalty)[0]

    def _certified(self, w, penalty):
        """``(CertStats, w')``: :meth:`cert_stats` and the point it is formed at."""
        c = self._cert_cache
        if c is not None and c[0] is self.eta and c[1] is penalty.unpenalized:
            return c[2], (w if c[3] is None else c[3])
        wc, eta = (None, self.eta) if self._user is None else self._user_point(w)
        stats = self._cert_stats(penalty, eta)
        self._cert_cache = (self.eta, penalty.unpenalized, stats, wc)
        return stats, (w if wc is None else wc)

    def _cert_stats(self, penalty, eta):
        y = self.y64
        r = self.datafit.residual(y, eta)
        rp = self._dual_direction(r, penalty.unpenalized, eta)
        if self._user is not None:
            g, gp = self._user_gradients(r, rp)
        else:
            g, gp = self._gradients(r, rp)
        gp[penalty.unpenalized] = 0.0
        return CertStats(0.0, 0.0, 0.0, g, None, gp=gp,
                         glm=GLMStats(y, eta, rp, self.design.sw64, self.N))

    def _gradients(self, r, rp):
        """``(Xᵀ S r, Xᵀ S rp) / N`` in float64 on the Design's columns."""
        X, sw = self.design.X, self.design.sw64
        dense = not self.design.sparse  # (a Design keeps dense X in Fortran order)
        if dense or self.design.dtype == np.float64:  # both gradients in one pass over X
            R = np.empty((self.design.n, 2), order="F")
            R[:, 0], R[:, 1] = r, rp
            if sw is not None:
                R *= sw[:, None]
            if dense:  # compiled: each column read once for both (float64 sums)
                G = np.empty((self.n_features, 2))
                call_kernel(_bcd_multitask.gradient_mt_dense, X, _EMPTY,
                            np.zeros(self.n_features), R, G)
            else:
                G = np.asarray(X.T @ R)
            G /= self.N
            g, gp = np.ascontiguousarray(G[:, 0]), np.ascontiguousarray(G[:, 1])
        else:
            g = self._lin.gradient64(r) / self.N
            gp = self._lin.gradient64(rp) / self.N
        if self.fit_intercept and self.design.Xk is not X:
            # Σ s rp = 0: the projected gradient is Xcᵀ S rp, read from the Design's
            # layout, whose offset columns are stored centred (Xᵀ S rp would cancel
            # |x̄|/σ of their digits: a dense Poisson fit stalled at 1e-7)
            gp = self.design.gradient64(rp) / self.N
        return g, gp

    def _user_gradients(self, r, rp):
        """:meth:`_gradients` under ``exact``: ``diag(1/σ) Xkᵀ S (r, rp) / N`` on the
        user's columns (``Xk = X - 1 cᵀ``, the scaled copy's exact counterpart)."""
        G = layout_gradient64(self._user, np.column_stack([r, rp]))
        G *= (self.inv_scale / self.N)[:, None]
        return np.ascontiguousarray(G[:, 0]), np.ascontiguousarray(G[:, 1])

    def certificate(self, w, penalty, alpha):
        stats, wc = self._certified(w, penalty)
        return certificate(stats, penalty, alpha, wc, datafit=self.datafit)

    # -- solves -------------------------------------------------------------------------------
    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Proximal Newton at ``alpha`` from ``w`` (updated in place) until the certificate
        is at most ``tol_abs``, ``max_iter`` coordinate-descent epochs are spent, or no
        step decreases the objective any more (float32 data: then refined in float64,
        :meth:`_refine64`). Returns ``(Certificate, epochs)``."""
        cert, epochs = self._solve(w, penalty, alpha, tol_abs, max_iter, alpha_prev)
        if cert.gap > tol_abs and self.dtype == np.float32 and epochs < max_iter:
            cert, epochs = self._refine64(w, penalty, alpha, tol_abs, cert, epochs,
                                          max_iter)
        return cert, epochs

    def _refine64(self, w, penalty, alpha, tol_abs, cert, epochs, max_iter):
        """An uncertified float32 solve continued in float64 (coefficients and Newton
        models; the data's columns copied once per working set), then rounded back.

        Where the loss is strongly curved the float32 grid of coefficients is too coarse
        for a certificate: rounding ``w`` moves the gradient by about ``H eps32 |w|``,
        which can exceed ``alpha`` (Poisson counts in the thousands: 8e-4 against
        5e-4), so no float32 point has a small duality gap although the rounded optimum's
        objective is within 1e-14 of the optimum. The bound reported is that of the
        float64 point ``w64`` plus what rounding costs, both computed in float64:
        ``P(w32) - P* = (P(w64) - P*) + (P(w32) - P(w64)) <= gap(w64) + P(w32) - P(w64)``.
        Kept only when it is the better bound; the state is restored otherwise."""
        d = self.design
        size = (d.X.nnz * 12 if d.sparse else d.n * d.p * 8)
        if size > REFINE_MAX_BYTES:
            return cert, epochs
        saved = (w.copy(), self.b, self.eta, self._n_incr, self._inner_pause)
        w64 = np.asarray(w, dtype=np.float64).copy()
        self.dtype, self._f64, self._sub = np.dtype(np.float64), True, None
        try:
            _, ep = self._solve(w64, penalty, alpha, 0.5 * tol_abs, max_iter - epochs, None)
        finally:
            self.dtype, self._f64, self._sub = np.dtype(np.float32), False, None
        epochs += int(ep)
        b = self.b
        eta64 = self._Xw(w64) + b  # (exact: the steps may have updated η incrementally)
        self.eta, self._n_incr = eta64, 0
        w32 = w64.astype(np.float32)
        eta32 = self._Xw(w32) + b
        # (under exact: the float32 coefficients as returned)
        wc32, e32 = (w32, eta32) if self._user is None else self._user_point(w32)
        c64 = certificate(self._cert_stats(penalty, eta64), penalty, alpha, w64,
                          datafit=self.datafit)
        p32 = self._objective(e32, wc32, penalty, alpha)
        # P(wc32) - P(w64) from the step (glm_rounding_change), on _Xw's columns
        norms = (self.design.raw_norms64() if self._user is None else
                 self._user.raw_norms64(self.inv_scale))
        glm64 = GLMStats(self.y64, eta64, None, self.design.sw64, self.N)
        change = glm_rounding_change(self.datafit, glm64, self._Xw(wc32 - w64), w64, wc32,
                                     b, penalty, alpha, norms)
        out = rounded_certificate(c64, *change, p32, loss=p32 - penalty.value(wc32, alpha))
        if out.gap < cert.gap:
            w[:] = w32
            self.eta = eta32
            return out, epochs
        w[:], self.b, self.eta, self._n_incr, self._inner_pause = saved
        self._cert_cache = None
        return cert, epochs

    def _solve(self, w, penalty, alpha, tol_abs, max_iter, alpha_prev):
        d = self.design
        if self._n_incr >= ETA_REFRESH:  # bound the rounding drift of incremental η
            self.eta = self._Xw(w) + self.b
            self._n_incr = 0
        cert = self.certificate(w, penalty, alpha)
        epochs, shrink, last_decrease = 0, 0.1, np.inf
        self._stepped = False  # path_stop: did this point take a Newton step?
        for it in range(MAX_NEWTON):
            cert = self._exact(cert, w, penalty, alpha, tol_abs)
            if cert.gap <= tol_abs or epochs >= max_iter:
                break
            mu = self.datafit.mean(self.eta)
            v = self.datafit.irls_weight(self.eta)
            r_v = self.datafit.residual(self.y64, self.eta) / v
            sv = v if d.sw64 is None else d.sw64 * v
            ws = self._working_set(w, penalty, alpha, alpha_prev if it == 0 else None)
            inner, wq, pen_q = self._model(w, r_v, sv, ws, penalty)
            cols = self._sub.cols
            dq = inner.design
            scale = self.N / dq.N  # model objective · scale = inner package objective
            ap = None if (it > 0 or alpha_prev is None) else alpha_prev * scale
            # inexact Newton: the model solved to a fraction of the outer gap and of the
            # last decrease (the gap alone can be loose far from the optimum)
            floor = 1e-3 * tol_abs
            tol_model = max(min(shrink * cert.gap, 0.1 * last_decrease), floor)
            # (float32: a model that needs more than half the epochs left is at its
            # rounding floor, as a rule; the rest is for the float64 refinement)
            budget = max(max_iter - epochs, 1)
            if self.dtype == np.float32:
                budget = max(budget // 2, 1)
            icert, ep = inner.solve(wq, pen_q, alpha * scale, tol_model * scale, budget,
                                    alpha_prev=ap)
            epochs += int(ep)
            if (self.dtype == np.float32 and icert.gap > tol_model * scale
                    and epochs < max_iter):
                break  # a float32 model short of its target: on in float64 (solve)
            self._inner_pause = inner._pause
            if cols is None:
                dw = np.asarray(wq, dtype=np.float64) - np.asarray(w, dtype=np.float64)
            else:
                dw = np.zeros(self.n_features)
                dw[cols] = np.asarray(wq, dtype=np.float64) - np.asarray(w[cols], np.float64)
            # (the inner model's own intercept against the state's, on the user's scale:
            # equal when the model's start already met its target)
            moved_b = self.fit_intercept and (
                float(inner.to_original(wq)[1]) != self.b - float(self._m @ np.asarray(
                    w, np.float64)))
            if not dw.any() and not moved_b:
                if tol_model <= floor:
                    break
                shrink *= 1e-3  # the model's start already met its target: ask for more
                continue
            w64 = np.asarray(w, dtype=np.float64)
            # the full step's η exactly (its coefficients cast to the working dtype): the
            # usual outcome, a full step, then needs no pass over X to make η exact
            w1 = (w64 + dw).astype(self.dtype)
            dw = w1.astype(np.float64) - w64
            xw1 = self._Xw(w1)
            # the model's intercept given w1 (its first-order condition, which the inner
            # solution meets) in the state's parametrisation: Σ sv (z - Xk w1 - b') = 0,
            # z = η + r_v, i.e. db = Σ sv (r_v - Xk w1 + (η - b)) / Σ sv (Xk's columns
            # are centred where their mean would cancel: no large terms)
            db = (float(sv @ (r_v - xw1 + (self.eta - self.b))) / float(sv.sum())
                  if self.fit_intercept else 0.0)
            eta1 = xw1 + (self.b + db)
            deta = eta1 - self.eta
            p0 = self._objective(self.eta, w, penalty, alpha)
            mu_y = GLMStats(self.y64, None, None, d.sw64, self.N).mean(
                (mu - self.y64) * deta)
            delta = mu_y + penalty.value(w64 + dw, alpha) - penalty.value(w64, alpha)
            rounding = 8 * np.finfo(np.float64).eps * abs(p0)
            t, accepted = 1.0, False
            if not delta < -rounding:
                # the model's decrease is at rounding level, yet the gap (a looser dual
                # point) is not: take the full step unless it visibly increases P
                wt = w64 + dw
                pt = self._objective(eta1, wt, penalty, alpha)
                accepted = pt <= p0 + rounding
            else:
                for _ in range(40):  # Armijo backtracking on the true objective
                    wt = w64 + t * dw
                    pt = self._objective(eta1 if t == 1.0 else self.eta + t * deta, wt,
                                         penalty, alpha)
                    if pt <= p0 + 1e-4 * t * delta:
                        accepted = True
                        break
                    t *= 0.5
            if not accepted:
                # not a descent step: the model was solved too loosely for the decrease
                # left in it (a float32 fold of breast cancer's quadratic features stopped
                # at 120x its target); solve it tighter before giving up
                if tol_model <= floor:
                    break
                shrink *= 1e-2
                continue
            last_decrease = max(p0 - pt, rounding)
            self._stepped = True
            # (cast to the working dtype; η recomputed from the cast values)
            stalled = self.dtype == np.float32 and np.array_equal(
                w, w1 if t == 1.0 else wt.astype(self.dtype))
            w[:] = w1 if t == 1.0 else wt
            self.b = self.b + t * db
            if t == 1.0:  # w is exactly w1: η = eta1 is exact
                self.eta = eta1
            elif self.dtype == np.float64:  # w is exactly w + t·dw: η updated, no pass
                self.eta = self.eta + t * deta
                self._n_incr += 1
            else:
                self.eta = self._Xw(w) + self.b
            gap_before, cert = cert.gap, self.certificate(w, penalty, alpha)
            if stalled and cert.gap >= gap_before:
                # the float32 grid holds no better coefficients near here (an intercept
                # step at most): on in float64 (solve) rather than spend the epochs left
                break
        return self._exact(cert, w, penalty, alpha, tol_abs), epochs

    def _exact(self, cert, w, penalty, alpha, tol_abs):
        """A point is accepted only on the certificate of the exact ``η = Xw + b``: when
        ``cert`` passes on an incrementally updated η, η is recomputed (non-zero columns
        only) and the certificate with it."""
        if cert.gap <= tol_abs and self._n_incr:
            self.eta = self._Xw(w) + self.b
            self._n_incr = 0
            cert = self.certificate(w, penalty, alpha)
        return cert

    def _working_set(self, w, penalty, alpha, alpha_prev):
        """The columns the Newton model is solved on (None: all), glmnet's way: the
        features ever non-zero along this path, the unpenalised ones and those the
        gradient at the current state flags (the sequential strong rule
        ``|g_j| > (2·alpha - alpha_prev)·l1_j`` on a path point's first step, the KKT
        violators ``|g_j| > alpha·l1_j`` afterwards). Only the certificate, over every
        feature, accepts a point; a violator outside the set joins it at the next step.
        The set only grows (the model's Design on it is rebuilt when it does)."""
        if isinstance(self._inner, GroupInner):
            return self._group_working_set(w, penalty, alpha, alpha_prev)
        if self._inner is not None or type(penalty) is not ElasticNetPenalty:
            return None
        g = np.abs(self.cert_stats(w, penalty).g)
        a = alpha if alpha_prev is None else max(2 * alpha - alpha_prev, 0.0)
        with np.errstate(invalid="ignore"):  # 0·inf (excluded, a = 0): never kept
            thr = a * penalty._L1
        keep = (g > thr) | (np.asarray(w) != 0) | penalty.unpenalized
        sub = self._sub
        if sub is not None and sub.penalty is penalty:
            keep[sub.cols] = True
        cols = np.flatnonzero(keep)
        if 2 * cols.size > self.n_features:
            return None  # most features: the full data, no copy
        return cols

    def _group_working_set(self, w, penalty, alpha, alpha_prev):
        """:meth:`_working_set` for a group penalty, by whole groups: the groups ever
        non-zero along this path, the unpenalised ones, and those the gradient flags (the
        sequential strong rule ``||S(g_g, a·rho)|| > (1 - rho)·c_g·(2·alpha - alpha_prev)``
        on a path point's first step, the KKT violators afterwards). Returns the boolean
        group mask (None: all groups)."""
        pen = penalty
        g = self.cert_stats(w, penalty).g
        if alpha_prev is None:
            viol = pen.violation(g, alpha) > 0
        else:
            a = max(2 * alpha - alpha_prev, 0.0)
            gg = pen._masked(g, True) if pen.has_box else g
            viol = pen._soft_norm(gg, alpha * pen.rho) > (1 - pen.rho) * pen.weights * a
        keep = viol | ~pen.penalised | (pen.group_norms(w) > 0)
        sub = self._sub
        if sub is not None and sub.penalty is penalty:
            if sub.groups is None:
                return None  # the set only grows
            keep |= sub.groups
        if 2 * int(pen._sizes[keep].sum()) > self.n_features:
            return None  # most features: the full data, no copy
        return keep

    def _model(self, w, r_v, sv, cols, penalty):
        """The weighted least-squares model of a Newton step at ``w`` (working response
        ``z = η + r_v``, weights ``sv``) on the columns ``cols`` (None: all): the problem,
        ``w[cols]`` as its state, and the penalty restricted to ``cols``.

        The elastic net reuses one :class:`~sklearn_normpen._design.ReweightedDesign` and
        one :class:`EnetProblem` per working set (weights, means and column norms updated
        in place; the residual ``yc - Xc w`` read off ``η``, no pass over ``X``); the group
        inner solver, data with offset columns, or weights under which the one-pass
        moments are not trusted get a fresh :class:`Design`."""
        d = self.design
        z = self.eta + r_v
        sub = self._sub
        if sub is None or sub.penalty is not penalty or not _same(sub.key, cols):
            sub = self._sub = _Submodel(d, cols, penalty, self._inner)
        cols = sub.cols
        wc = w if cols is None else w[cols]
        if self._f64:  # (_refine64) the columns in float64, copied once per working set
            if getattr(sub, "X64", None) is None:
                # (under exact the user's columns: the scaled float32 copy is another
                # data set, whose optimum a certificate on the user's columns does not
                # accept at a tight tolerance)
                sub.X64 = (sub.X.astype(np.float64) if self._user is None else
                           scaled_columns64(self._user, np.arange(self.n_features)
                                            if sub.cols is None else sub.cols,
                                            self.inv_scale))
            dq = Design(sub.X64, z, sv, self.fit_intercept)
            inner = (EnetProblem(dq, self.mode) if sub.inner is None
                     else sub.inner(dq, self.mode))
            if sub.inner is None:  # (see EnetProblem.unpen_block)
                inner.unpen_block = False
            if self._inner_pause is not None:
                inner._pause = self._inner_pause
            return inner, inner.start(np.asarray(wc, np.float64)), sub.pen
        if sub.rw is not False and sub.rw.reweight(z, sv):
            rw = sub.rw
            if sub.problem is None:
                sub.problem = (EnetProblem(rw, self.mode) if sub.inner is None
                               else sub.inner(rw, self.mode))
                # an extrapolation one epoch sooner than a Gaussian path's: a Newton
                # model starts further from its solution than a path's warm start, and
                # on the dense 10000x1000 binomial path its first extrapolation (after
                # 5 epochs instead of 6) met the model's target: 10.4 -> 7.7 s; the
                # Gaussian paths' A/B was 1.06-1.19 slower with 4 (hence per problem)
                sub.problem.anderson_k = ANDERSON_K_NEWTON
                sub.problem.refine64 = False  # (the GLM refines its own solve: _refine64)
            # yc - Xc w = (z - ȳ) - (Xw - x̄·w), Xw = η - b, z - η = r_v (w is 0 off cols)
            R = r_v + (self.b - rw.y_mean + float(rw.x_mean @ np.asarray(wc, np.float64)))
            return sub.problem, sub.problem.reweighted(wc, R), sub.pen
        dq = Design(sub.X, z.astype(self.dtype), sv, self.fit_intercept)
        inner = (EnetProblem(dq, self.mode) if sub.inner is None
                 else sub.inner(dq, self.mode))
        inner.refine64 = False  # (a float32 model short of its target sends the GLM to float64)
        if self._inner_pause is not None:
            # an ill-conditioned model (offset columns, e.g.) is one every step: the last
            # step's pause, not a fresh 200 epochs of coordinate descent before each
            # active-set step, which spent max_iter in five Newton steps
            inner._pause = self._inner_pause
        return inner, inner.start(wc), sub.pen

    def null_fit(self, penalty, tol_abs, max_iter):
        """The unpenalised fit (intercept and unpenalised features; penalised ones at 0) and
        its projected gradient ``z``, from which ``penalty.alpha_max(z)`` is read."""
        key = penalty.unpenalized.tobytes()
        if key in self._null:
            w, b, z = self._null[key]
            w = self.start(w)
            self.b = b
            self.eta = self._Xw(w) + b
            self._n_incr = 0
            return w, z.copy()
        w = self.start(np.zeros(self.n_features))
        if penalty.unpenalized.any():
            if isinstance(self._inner, GroupInner):
                null = GroupInner.null_penalty(penalty)
            elif self._inner is None:
                null = _NullPenalty(penalty)
            else:
                raise NotImplementedError("unpenalised features with this inner solver "
                                          "are not supported.")
            self.solve(w, null, 1.0, tol_abs, max(max_iter, 1000))
        z = np.asarray(self.cert_stats(w, penalty).gp, dtype=np.float64)
        self._null[key] = (w.copy(), self.b, z.copy())
        self._dev_prev, self._n_points = None, 0
        return w, z

    def path_stop(self, w):
        """glmnet's early stop, called by the path loop after each point: a reason (str)
        once the deviance ratio ``1 - loss/null_loss`` exceeds 0.999 or its relative
        change falls below 1e-5 (after at least 5 points; not at a point whose warm start
        was already certified, where the ratio cannot change), else None."""
        self._n_points += 1
        if self.null_deviance <= 0:
            return None
        ratio = 1.0 - (self._mean_loss() - self._saturated) / self.null_deviance
        return glmnet_stop(self, ratio)


def _same(a, b):
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.all(a == b))


class _Submodel:
    """The columns ``cols`` (None: all) of a GLM's data with the penalty restricted to
    them, and the reusable weighted model on them (``rw`` False: a fresh Design per
    Newton step). ``inner`` is the GLM's (None: coordinate descent); a
    :class:`GroupInner` takes a boolean mask of groups as ``key`` (the columns are then
    those groups' features, the penalty and the inner solver's groups renumbered)."""

    def __init__(self, design, key, penalty, inner):
        self.key, self.penalty, self.inner, self.groups = key, penalty, inner, None
        cols = key
        if key is not None and isinstance(inner, GroupInner):
            self.groups = key
            self.inner, self.pen, cols = inner.restrict(penalty, key)
        self.cols = cols
        reuse = inner is None or isinstance(inner, GroupInner)
        if cols is None:
            self.X, self.pen, base = design.X, penalty, design
        else:
            X = design.X
            if design.sparse:
                self.X = X[:, cols].tocsc()
                if not self.X.has_sorted_indices:
                    self.X = self.X.sorted_indices()
            else:
                self.X = X.T[cols].T  # a Fortran copy of the columns
            if self.groups is None:
                self.pen = ElasticNetPenalty(
                    penalty.l1_ratio, penalty.l1_factor[cols], penalty.l2_factor[cols],
                    penalty.excluded[cols], penalty.positive, penalty.lower[cols],
                    penalty.upper[cols])
            base = Design(self.X, design.y, design.sw, design.fit_intercept) if reuse else None
        self.rw = (ReweightedDesign(base) if reuse and ReweightedDesign.usable(base)
                   else False)
        self.problem = None


def glm_mode(X):
    """The inner coordinate-descent layout: ``"sparse"`` for sparse X, else ``"dense"``."""
    return "sparse" if sp.issparse(X) else "dense"



class GroupInner:
    """``inner`` for :class:`GLMProblem`: each Newton model solved by block coordinate
    descent on a :class:`~sklearn_normpen._solvers.block_cd.GroupProblem` (the penalty is
    then a :class:`~sklearn_normpen.penalties.SparseGroupLasso`; no ``standardize``)."""

    def __init__(self, structure, group_weights):
        self.structure, self.group_weights = structure, group_weights

    def __call__(self, design, mode):
        from .block_cd import GroupProblem
        return GroupProblem(design, self.structure, self.group_weights)

    @staticmethod
    def null_penalty(penalty):
        """The null model of a :class:`~sklearn_normpen.penalties.SparseGroupLasso`:
        every penalised group held at zero (a [0, 0] box: conjugate and KKT exact), the
        unpenalised groups free; its value is 0, so its certificate is that of the
        unpenalised fit."""
        from ..penalties import SparseGroupLasso
        return SparseGroupLasso(penalty.gptr, penalty.gidx, penalty.weights, penalty.rho,
                                excluded=~penalty.unpenalized)

    @staticmethod
    def restrict(penalty, keep):
        """The groups ``keep`` (a boolean mask over ``penalty``'s groups) on their own:
        ``(inner, penalty, cols)``, the columns ``cols`` in group order and renumbered
        ``0..len(cols)-1`` for the inner solver and the restricted penalty (its group
        weights, box limits and held-at-zero features carried over)."""
        from .._groups import GroupStructure
        from ..penalties import SparseGroupLasso
        sel = np.flatnonzero(keep)
        sizes = penalty._sizes[sel]
        cols = (np.concatenate([penalty.gidx[penalty.gptr[g]:penalty.gptr[g + 1]]
                                for g in sel]) if sel.size else np.zeros(0, np.intp))
        cols = cols.astype(np.intp)
        ptr = np.concatenate([[0], np.cumsum(sizes)])
        groups = [np.arange(ptr[k], ptr[k + 1]) for k in range(sel.size)]
        c = penalty.weights[sel]
        structure = GroupStructure(groups, [str(g) for g in sel], np.zeros(0, np.intp),
                                   int(cols.size))
        gptr, gidx, _ = structure.kernel_arrays(c)
        kw = {}
        if penalty.has_box:  # exclusion is a [0, 0] box: pass it as such, not as limits
            ex = penalty.excluded[cols]
            kw = dict(lower=np.where(ex, -np.inf, penalty.lower[cols]),
                      upper=np.where(ex, np.inf, penalty.upper[cols]),
                      excluded=ex if ex.any() else None)
        return (GroupInner(structure, c),
                SparseGroupLasso(gptr, gidx, c, penalty.rho, **kw), cols)
