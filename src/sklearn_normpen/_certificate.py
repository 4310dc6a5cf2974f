"""THE duality gap and KKT violation: every solver stops on it and the tests use it as the
oracle's twin.

For the quadratic datafit (:class:`~sklearn_normpen.datafits.Quadratic`; package scale,
``N = Σs``, centred data)::

    P(w) = ||r||²_S / (2N) + Ω(w),    r = yc - Xc w
    D(θ) = (ycᵀSθ - θᵀSθ / 2) / N - Ω*(Xcᵀ S θ / N)

The dual point is the residual made feasible, in this order:

1. projected (in the S inner product) off the span of the intercept and of the unpenalised
   features ``U`` (their conjugate is the indicator of ``x_jᵀSθ = 0``). With ``g = Xcᵀ S r/N``
   and ``Ŵ = S^½ Q̂ / √N``, ``Q̂`` an orthonormal basis of the columns ``S^½ Xc[:, U]``
   (:meth:`Design.unpenalised_span64 <sklearn_normpen._design.Design.unpenalised_span64>`),
   ``M = XcᵀŴ`` (in the solver's parametrisation), ``a = Ŵᵀyc`` and the residual's
   coordinates ``z = Ŵᵀr = a - Mᵀw``: ``g ← g - Mz``, ``||r||² ← ||r||² - ||z||²``,
   ``ycᵀSr ← ycᵀSr - zᵀa``, and the weighted mean of ``r`` is removed;
2. scaled by the penalty's ``t ∈ (0, 1]`` so that ``t·g`` lies in the domain of ``Ω*``.
   A penalty may offer several valid scalings (pairs from :meth:`terms`; the elastic net's
   second one keeps every feature inside its l1 ball, where the ridge conjugate vanishes:
   the bound that stays tight when the ridge part is tiny against the data, e.g. y ~ 1e-40;
   box limits likewise): the certificate keeps the better bound.

Then ``gap = P(w) - D(t·r_p) >= P(w) - P*`` (weak duality) for *any* ``w``: a valid bound,
not an estimate. All sums are float64 and are formed from residuals, never as differences
of large norms. The inputs come from the solver's :meth:`cert_stats`.

GLM datafits (:mod:`sklearn_normpen.datafits`): the solver projects the dual direction
itself (``CertStats.gp``, ``CertStats.glm``; a row-wise projection that respects the
conjugate's domain), and ``t`` is also bounded by ``datafit.dual_scale`` so that
``F*(-tθ)`` is finite (e.g. ``y - tθ ∈ [0, 1]`` for the binomial). A datafit whose two
objectives share a large constant (Poisson: ``Σ y log y``) provides ``fenchel_young``: the
gap is then summed from its non-negative Fenchel-Young parts instead of differenced
(:func:`_fenchel_young_certificate`).
"""
import functools
from dataclasses import dataclass, replace

import numpy as np

from .datafits import Quadratic


@dataclass
class Certificate:
    """Package-scale duality gap, KKT violation, primal and dual values at one point."""

    gap: float
    kkt: float
    primal: float
    dual: float
    loss: float = np.nan  # the datafit's value (primal minus penalty)

    def __post_init__(self):
        # a NaN gap (from an overflowed iterate) bounds nothing: +inf, which every
        # ``gap > target`` test refuses (NaN passed them all: a multi-task fit that had
        # diverged to 1e154 was returned with dual_gap_ = nan and no warning)
        if np.isnan(self.gap):
            self.gap = np.inf


@dataclass
class CertStats:
    """What the certificate needs from a solver, float64, package scale (``/N``).

    ``r_norm2 = ||r||²_S/N``, ``r_y = ycᵀSr/N``, ``r_mean = Σ s r / N``, ``g = Xcᵀ S r/N`` on the
    solver's parametrisation, and the unpenalised features' span ``(U, M, a)`` (module
    docstring, step 1; None when every feature is penalised).

    A residual *matrix* ``R`` (multi-response, K columns) gives the same statistics with
    Frobenius inner products, ``g`` and ``q_U`` of K columns, and ``r_mean`` the Euclidean
    norm of the K weighted column means (the projection subtracts ``r_mean²``).
    """

    r_norm2: float
    r_y: float
    r_mean: float
    g: np.ndarray
    unpen: tuple = None
    #: GLM solvers project the dual direction themselves (row by row, keeping it in the
    #: conjugate's domain): ``gp`` is then the projected gradient and ``glm`` the
    #: :class:`~sklearn_normpen.datafits.GLMStats` the datafit reads.
    gp: np.ndarray = None
    glm: object = None
    #: the residual's coordinates ``z = Ŵᵀ r`` in the unpenalised span, formed from the
    #: residual itself (None: ``a - Mᵀ w``, which cancels when ``Mᵀ w`` is far larger
    #: than ``z``: offset unpenalised columns without intercept put an error of
    #: ``eps·|M|²·|w|`` into the projected gradient, 1.5e-9 against |g| = 0.07 on
    #: "singlefit" seed 6196, whose float32 fit certified a gap 4% below its distance to
    #: the optimum)
    unpen_z: np.ndarray = None


def project(stats, w):
    """The statistics of the residual at ``w`` projected off the intercept and the
    unpenalised features (step 1 of the module docstring): a :class:`CertStats` without
    ``unpen``. (A residual matrix: Frobenius inner products.)"""
    g = np.asarray(stats.g, dtype=np.float64)
    r_norm2, r_y = float(stats.r_norm2), float(stats.r_y)
    gp = g
    if stats.unpen is not None:
        U, M, a = stats.unpen
        if M is None:  # a span the statistics cannot resolve: θ = 0, always feasible
            return CertStats(0.0, 0.0, 0.0, np.zeros_like(g))
        z = (a - M.T @ np.asarray(w, dtype=np.float64) if stats.unpen_z is None
             else np.asarray(stats.unpen_z, dtype=np.float64))
        gp = g - M @ z
        gp[U] = 0.0
        r_norm2 = r_norm2 - float(np.sum(z * z))
        r_y = r_y - float(np.sum(z * a))
    return CertStats(max(r_norm2 - stats.r_mean ** 2, 0.0), r_y, 0.0, gp)


def gram_span(U, C, Q_UU, q_U):
    """``(U, M, a)`` of :func:`project` from Gram statistics alone (package scale:
    ``C = Xcᵀ S X_U / N``, ``Q_UU = C[U]``, ``q_U = X_Uᵀ S yc / N``), for covariance-mode
    problems without the rows (the data on a cluster): the eigenbasis of the equilibrated
    ``Q_UU``, directions below its rounding left out. Squares the columns' condition
    number where :meth:`Design.unpenalised_span64
    <sklearn_normpen._design.Design.unpenalised_span64>` does not: used only without X.
    When a kept direction's eigenvalue is below ``1e-6`` of the largest (the projection
    then rounds by more than ``1e-10`` of the terms), returns ``(U, None, None)``: the
    certificate uses the dual point 0 (a valid, loose bound) rather than trust it."""
    diag = np.diag(Q_UU).copy()
    ok = diag > 0
    D = np.where(ok, 1 / np.sqrt(np.where(ok, diag, 1)), 0.0)
    lam, V = np.linalg.eigh(D[:, None] * Q_UU * D)
    top = lam[-1] if lam.size else 0.0
    keep = lam > 16 * max(len(U), 1) * np.finfo(float).eps * top
    if keep.any() and lam[keep].min() < 1e-6 * top:
        return U, None, None
    T = D[:, None] * V[:, keep] / np.sqrt(lam[keep])
    return U, C @ T, T.T @ q_U


def variance_projection(A, r, s, d):
    """``r - d ⊙ Aβ`` with ``Aᵀ S (r - d ⊙ Aβ) = 0`` (``S = diag(s)``, ``s`` None: unit
    weights; ``d >= 0`` the rows' variances): a GLM residual made orthogonal to the columns
    ``A`` (intercept and unpenalised features) by a correction that vanishes where ``d``
    does. Solved by a pivoted QR of the equilibrated ``(S D)^½ A = Q̂R̂`` with
    ``R̂ᵀ v = Aᵀ S r`` and ``d ⊙ Aβ = (d/s)^½ ⊙ Q̂v`` (rows of weight 0 are left as they are),
    not by the normal equations ``AᵀSDA β = AᵀSr``, which square ``A``'s condition number
    (offset columns, columns far apart in scale: a binomial point 3e-3 above the optimum was
    certified at 1e-15). Returns None if the result misses the constraints by more than
    rounding (1e-8 of the terms' sizes): the caller falls back to a dual point that needs
    none."""
    from scipy.linalg import solve_triangular

    from ._design import pivoted_basis
    s1 = np.ones(r.shape[0]) if s is None else s
    Qh, R, cols, norms = pivoted_basis(np.sqrt(s1 * d)[:, None] * A)
    out = r
    if cols.size:
        v = solve_triangular(R, (A[:, cols] / norms).T @ (s1 * r), trans="T")
        pos = s1 > 0
        corr = np.zeros_like(r)
        corr[pos] = np.sqrt(d[pos] / s1[pos]) * (Qh[pos] @ v)
        out = r - corr
    viol = np.abs(A.T @ (s1 * out))
    if not np.all(viol <= 1e-8 * (np.abs(A).T @ (s1 * np.abs(r))) + 1e-300):
        return None
    return out


def rounded_certificate(cert64, change, error, primal32, like=None, loss=None):
    """The certificate of float32 coefficients ``w32`` rounded from a float64 point ``w64``
    whose certificate is ``cert64``: ``P(w32) - P* = (P(w64) - P*) + (P(w32) - P(w64))
    <= gap(w64) + change``, with ``change`` the computed ``P(w32) - P(w64)`` and ``error``
    a bound on its rounding (:func:`rounding_change` for the quadratic datafit,
    :func:`glm_rounding_change` for the GLMs). Returns
    ``like`` (default ``cert64``: its KKT violation) with the gap ``|gap(w64) + change| +
    error`` (a sum below 0 is rounding of at most ``error``, so its absolute value stays a
    bound), ``primal32`` and ``loss``."""
    gap = abs(cert64.gap + float(change)) + float(error)
    base = cert64 if like is None else like
    return replace(base, gap=gap, primal=primal32, dual=primal32 - gap,
                   loss=base.loss if loss is None else loss)


def rounding_change(stats64, stats32, w64, w32, penalty, alpha, col_norms, n_rows):
    """``(P(w32) - P(w64), a bound on its rounding)`` for the quadratic datafit, formed
    from the step ``d = w32 - w64`` rather than as a difference of the two objectives.

    The loss is quadratic, so the trapezoid rule is exact: ``L(w32) - L(w64) = -dᵀ(g32 +
    g64)/2``, ``g = Xcᵀ S r / N`` the statistics' gradients at the two points. The
    difference of two objectives, each summed over the rows from residuals ``y - Xw`` that
    cancel beside offset columns, rounds by about ``eps·|X||w|·|r|`` (a float32 group lasso
    with offset columns came out at -4.3e-13, some 1,000 ulps of ``P``). Here the
    residuals' rounding enters only through the gradients, multiplied by ``d``: with
    ``c`` the columns' uncentred norms ``(Σ s x²/N)^½`` on the solver's scale
    (``col_norms``), ``D = Σ|d_k| c_k``, ``B = Σ_j max|w_j| c_j + max ||r||`` and
    ``γ = (n + p + 2) eps``, each gradient entry rounds by at most ``γ c_k (4||r|| +
    8 Σ_j |w_j| c_j)`` (the residual's rounding, centring included, carried by Cauchy-
    Schwarz, plus the product's own; a Gram formed from the rows rounds within the same
    form), so the loss term rounds by at most ``8 γ D B``; the penalty's difference by a
    few ulps of its two values. The bound is a small part of what it is added to (on
    columns of mean 1e5, n = 60: 1e-6 to 2e-5 of the rounding cost ``P(w32) - P(w64)``
    itself)."""
    w64 = np.asarray(w64, dtype=np.float64)
    w32 = np.asarray(w32, dtype=np.float64)
    d = w32 - w64
    gs = np.asarray(stats32.g, dtype=np.float64) + np.asarray(stats64.g, dtype=np.float64)
    dl = -0.5 * float(np.sum(d * gs))
    dv, v_size, c = _step_terms(penalty, alpha, w32, w64, col_norms)
    eps = np.finfo(np.float64).eps
    D = float(np.sum(np.abs(d) * c))
    B = (float(np.sum(np.maximum(np.abs(w32), np.abs(w64)) * c))
         + np.sqrt(max(float(stats32.r_norm2), float(stats64.r_norm2), 0.0)))
    gamma = (n_rows + d.shape[0] + 2) * eps
    ulps = (np.log2(d.size + 1) + 8) * eps
    error = 8 * gamma * D * B + ulps * (0.5 * float(np.sum(np.abs(d * gs))) + v_size)
    return dl + dv, error


def _step_terms(penalty, alpha, w32, w64, col_norms):
    """What both rounding-change forms need beside the loss: the penalty's change
    ``Ω(w32) - Ω(w64)``, the size ``|Ω(w32)| + |Ω(w64)|`` its rounding is measured
    against, and the column norms shaped to broadcast against ``w`` ((p,) or (p, K))."""
    v32, v64 = penalty.value(w32, alpha), penalty.value(w64, alpha)
    c = np.asarray(col_norms, dtype=np.float64)
    c = c.reshape(c.shape + (1,) * (np.ndim(w64) - 1))
    return v32 - v64, abs(v32) + abs(v64), c


_ULPS = 4 * np.finfo(np.float64).eps


def glm_rounding_change(datafit, glm64, deta, w64, w32, b, penalty, alpha, col_norms):
    """``(P(w32) - P(w64), a bound on its rounding)`` for a GLM datafit whose rows are
    independent (``datafit.loss`` per row), as :func:`rounding_change` for the quadratic.

    ``glm64`` holds the rows' labels, weights and ``η64 = Xw64 + b``; ``deta = X(w32 -
    w64)`` (plus any change of the intercepts ``b``) formed from the step: small, no
    cancellation. The loss change is summed row by row as ``F(η64 + Δη) - F(η64)``: both
    evaluations share ``η64``'s rounding ``e``, which then enters at second order,
    ``|F'(ξ1) - F'(ξ2)|·|e| <= h (|Δη| + |e| + |e_Δ|) |e|`` with ``h`` the curvature on
    the segment (``datafit.curvature``, or the larger of the endpoints' variances where it
    is unbounded: Poisson's ``e^η`` is monotone), and ``Δη``'s own rounding ``e_Δ`` at
    first order, ``|F'| |e_Δ|``. By Cauchy-Schwarz in the weighted mean over the rows
    (Euclidean norms across the K columns of a multi-response ``η``), with the columns'
    uncentred norms ``c`` (``col_norms``, on the scale of ``w``) and ``γ = (p + 3) eps``:
    ``||e|| <= E = 4 γ (Σ_jk c_j max|w_jk| + Σ|b|)`` (the product, the layout's means and
    the intercept) and ``||e_Δ|| <= 4 γ Σ_jk c_j |d_jk|``. Differencing the two objectives
    instead rounds by ``|F'|·eps·|X||w|`` per row (large beside offset columns). Each
    row's difference and the penalty's add a few ulps of its terms."""
    w64 = np.asarray(w64, dtype=np.float64)
    w32 = np.asarray(w32, dtype=np.float64)
    d = w32 - w64
    y, eta64 = glm64.y, glm64.eta
    deta = np.asarray(deta, dtype=np.float64)
    eta32 = eta64 + deta

    def rows(v):  # (per row: a multi-response η's K columns summed)
        return v if v.ndim == 1 else v.sum(axis=1)

    F64, F32 = datafit.loss(y, eta64), datafit.loss(y, eta32)
    mean = glm64.mean
    dv, v_size, c = _step_terms(penalty, alpha, w32, w64, col_norms)
    change = mean(F32 - F64) + dv
    eps = np.finfo(np.float64).eps
    gamma = (d.shape[0] + 3) * eps
    E = 4 * gamma * (float(np.sum(c * np.maximum(np.abs(w64), np.abs(w32))))
                     + float(np.sum(np.abs(b))))
    Ed = 4 * gamma * float(np.sum(c * np.abs(d)))
    h = datafit.curvature
    h = (np.full(eta64.shape, float(h)) if np.isfinite(h) else
         np.maximum(datafit.variance(eta64), datafit.variance(eta32)))
    h = 2 * h  # (ξ within E of the segment: e^E <= 2 for any E this small)
    hmax = float(h.max()) if h.size else 0.0
    slope = np.sqrt(mean(rows((y - datafit.mean(eta32)) ** 2)))  # ||F'(η32)||
    second = np.sqrt(mean(rows((h * deta) ** 2))) * E + hmax * (E + Ed) * E
    first = (slope + hmax * (E + Ed)) * Ed
    ulps = (np.log2(eta64.size + d.size + 1) + 8) * eps
    # (a row's loss rounds by a few ulps of its terms, e.g. log(1 + e^η) - yη: of
    # (1 + |y|)|η| and |F|)
    terms = np.abs(F32) + np.abs(F64) + rows((1 + np.abs(y)) * (np.abs(eta32) + np.abs(eta64)))
    error = second + first + ulps * (mean(terms) + v_size)
    return change, error


def certificate(stats, penalty, alpha, w, datafit=Quadratic):
    """:class:`Certificate` of ``w`` for ``datafit + alpha·penalty`` (module docstring)."""
    w = np.asarray(w, dtype=np.float64)
    projected = project(stats, w) if stats.gp is None else stats
    zp = projected.g if stats.gp is None else np.asarray(stats.gp, dtype=np.float64)
    value, t, conj, kkt = penalty.terms(w, np.asarray(stats.g, dtype=np.float64), zp, alpha)
    t_dom = datafit.dual_scale(projected)  # the loss's conjugate domain (1: quadratic)
    loss = datafit.value(stats)
    primal = loss + value
    # the penalty may offer several valid dual scalings (box limits): the best bound
    pairs = ((t, conj),) if type(t) is float or np.ndim(t) == 0 else zip(t, conj)
    if hasattr(datafit, "fenchel_young"):
        return _fenchel_young_certificate(projected, datafit, pairs, t_dom, penalty, zp,
                                          alpha, value, loss, kkt)
    dual = -np.inf
    for ti, ci in pairs:
        if t_dom < ti:
            ti, ci = t_dom, penalty.conjugate(t_dom * zp, alpha)
        dual = max(dual, datafit.dual(projected, ti) - ci)
    # P and D are float64 sums: at an exact optimum their difference can round below 0
    # (-3e-17 seen). A few ulps of their size keep the reported gap a bound, never
    # negative (far below any tolerance the estimators accept).
    gap = max(float(primal - dual), 0.0) + _ULPS * (abs(float(primal)) + abs(float(dual)))
    return Certificate(gap=gap, kkt=float(kkt), primal=float(primal),
                       dual=float(dual), loss=float(loss))


def _fenchel_young_certificate(projected, datafit, pairs, t_dom, penalty, zp, alpha,
                               value, loss, kkt):
    """The same gap as the sum of its two Fenchel-Young parts (the same number in exact
    arithmetic: add and subtract ``<θ, η>``)::

        P - D = [F(η) + F*(-θ) + <θ, η>] + [Ω(w) + Ω*(Xᵀθ) - <θ, η>]

    for a datafit whose objectives share a large constant (Poisson: ``Σ y log y``), so
    that ``P - D`` formed as a difference would lose the digits the tolerance needs. The
    loss part is a sum of non-negative row terms (``datafit.fenchel_young``); ``<θ, η>``
    is the weighted mean of ``θ_i η_i`` over the rows (``Σ s θ = 0`` with an intercept,
    so it equals ``<Xᵀθ, w>``). The rounding allowance is a few ulps of every term's size.
    """
    g = projected.glm
    pair_unit = g.mean(g.r_p * g.eta)          # <r_p, η>: θ = t·r_p
    pair_size = g.mean(np.abs(g.r_p * g.eta))
    best = None
    for ti, ci in pairs:
        if t_dom < ti:
            ti, ci = t_dom, penalty.conjugate(t_dom * zp, alpha)
        fy, fy_size = datafit.fenchel_young(projected, ti)
        raw = fy + (float(value) + float(ci) - ti * pair_unit)
        size = fy_size + abs(float(value)) + abs(float(ci)) + ti * pair_size
        if best is None or raw + _ULPS * size < best[0] + _ULPS * best[1]:
            best = (raw, size)
    raw, size = best
    gap = max(raw, 0.0) + 2 * _ULPS * size
    primal = float(loss + value)
    return Certificate(gap=float(gap), kkt=float(kkt), primal=primal,
                       dual=primal - float(raw), loss=float(loss))


def per_mask(method):
    """Memoise a problem's ``_unpen(mask)`` on the mask object itself (a penalty's, the same
    at every path point): no O(p) scan per point. The mask is held, so never recycled."""
    @functools.wraps(method)
    def wrapper(self, mask):
        last = self.__dict__.get("_per_mask")
        if last is not None and last[0] is mask:
            return last[1]
        out = method(self, mask)
        self._per_mask = (mask, out)
        return out
    return wrapper
