"""Box limits (``positive``, ``lower_limits``, ``upper_limits``) for the binomial and
Poisson elastic net (issue 10): the path function and the four estimators against
cvxpy + Clarabel optima, an independent NumPy KKT and duality gap for the box-constrained
GLM (written here, no package code), and R glmnet 4.1-6's ``lower.limits`` /
``upper.limits`` (fixtures made by tests/fixtures/make_glmnet_glm_box_fixtures.R).

Objective (glmnet's)::

    P(w, b) = 1/W Σ s_i f(y_i, η_i) + alpha Σ_j (rho f1_j |w_j| + (1 - rho)/2 f2_j w_j²)
              + indicator(lower <= w <= upper),   η = Xw + b,
    binomial f = log(1 + e^η) - yη,  Poisson f = e^η - yη,
    f1 = σ, f2 = σ² with standardize (σ the weighted standard deviation), else 1.
"""
import csv
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, xlogy

from sklearn_normpen import (ElasticNetClassifier, ElasticNetClassifierPathCV,
                             ElasticNetPoissonRegressor, ElasticNetPoissonRegressorPathCV,
                             enet_path)
from _oracle import weighted_std

FIX = Path(__file__).parent / "fixtures" / "glmnet_glm_box"
P = 6
LOWER = np.array([-np.inf, -0.4, 0.0, -np.inf, -0.05, -np.inf])
UPPER = np.array([0.5, np.inf, np.inf, 0.15, np.inf, 0.3])
LIMITS = {"positive": (np.zeros(P), np.full(P, np.inf)), "mixed": (LOWER, UPPER)}
ALPHAS = {"binomial": np.array([0.05, 0.015, 0.004]),
          "poisson": np.array([0.05, 0.015, 0.004])}


# -- independent NumPy oracle --------------------------------------------------------------
def _loss(family, y, eta):
    return (np.logaddexp(0, eta) - y * eta if family == "binomial"
            else np.exp(eta) - y * eta)


def _mean(family, eta):
    return expit(eta) if family == "binomial" else np.exp(eta)


def _h(family, q):
    return (xlogy(q, q) + xlogy(1 - q, 1 - q) if family == "binomial"
            else xlogy(q, q) - q)


def primal(family, X, y, w, b, alpha, rho, f1, f2, lo, up, s):
    w = np.asarray(w, np.float64)
    if np.any(w < lo) or np.any(w > up):
        return np.inf
    eta = X @ w + b
    return float(s @ _loss(family, y, eta) / s.sum()
                 + alpha * (rho * f1 @ np.abs(w) + 0.5 * (1 - rho) * f2 @ (w * w)))


def box_kkt(family, X, y, w, b, alpha, rho, f1, f2, lo, up, s, fit_intercept=True,
            at_limit=0.0):
    """Largest distance of ``v_j = x_jᵀS(y - μ)/W - alpha(1-rho)f2_j w_j`` to the
    subdifferential ``alpha·rho·f1_j ∂|w_j| + N_[lo_j, up_j](w_j)`` (and, with an
    intercept, ``|Σ s(y - μ)|/W``). ``at_limit``: relative distance within which ``w_j``
    counts as on its limit (float32 coefficients sit one rounding inside it)."""
    w = np.asarray(w, np.float64)
    W = s.sum()
    r = y - _mean(family, X @ w + b)
    v = X.T @ (s * r) / W - alpha * (1 - rho) * f2 * w
    a = alpha * rho * f1
    lo_set = np.where(w > 0, a, np.where(w < 0, -a, -a))  # the set [lo_set, hi_set]
    hi_set = np.where(w > 0, a, np.where(w < 0, -a, a))
    near = lambda lim: at_limit * np.where(np.isfinite(lim), np.abs(lim), 0.0)  # noqa: E731
    at_up, at_lo = w >= up - near(up), w <= lo + near(lo)
    hi_set = np.where(at_up, np.inf, hi_set)   # normal cone [0, inf) at the upper limit
    lo_set = np.where(at_lo, -np.inf, lo_set)  # (-inf, 0] at the lower limit
    viol = np.maximum(np.maximum(lo_set - v, v - hi_set), 0.0)
    out = float(viol.max())
    if fit_intercept:
        out = max(out, abs(float(s @ r)) / W)
    return out


def box_gap(family, X, y, w, b, alpha, rho, f1, f2, lo, up, s):
    """A duality gap, valid for any feasible ``(w, b)``: ``θ = c(r - r̄_s)``, ``c <= 1``
    keeping ``y - θ`` in the conjugate's domain and ``c·z_j`` finite for pure-l1 features
    with an infinite limit on its side; the conjugate of penalty + box per coordinate,
    ``sup_{lo <= u <= up} (z u - a1|u| - a2 u²/2)``, at its maximiser."""
    W = s.sum()
    r = y - _mean(family, X @ w + b)
    r = r - s @ r / W
    z = X.T @ (s * r) / W
    a1, a2 = alpha * rho * f1, alpha * (1 - rho) * f2
    with np.errstate(divide="ignore", invalid="ignore"):
        if family == "binomial":
            lim = np.where(r > 0, y / r, np.where(r < 0, (1 - y) / -r, np.inf))
        else:
            lim = np.where(r > 0, y / r, np.inf)
        c = min(1.0, float(lim.min()))
        pure = a2 == 0
        up_inf = pure & np.isinf(up) & (z > 0)
        lo_inf = pure & np.isinf(lo) & (z < 0)
        for m in (up_inf, lo_inf):
            if m.any():
                c = min(c, float(np.min(a1[m] / np.abs(z[m]))))
    zc = c * z
    soft = np.sign(zc) * np.maximum(np.abs(zc) - a1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(a2 > 0, soft / np.where(a2 > 0, a2, 1),
                     np.where(soft > 0, up, np.where(soft < 0, lo, 0.0)))
    u = np.clip(u, lo, up)
    u = np.where(np.isfinite(u), u, 0.0)
    conj = float(np.sum(zc * u - a1 * np.abs(u) - 0.5 * a2 * u * u))
    q = y - c * r
    q = np.clip(q, 0, 1) if family == "binomial" else np.maximum(q, 0)
    D = -float(s @ _h(family, q)) / W - conj
    return primal(family, X, y, w, b, alpha, rho, f1, f2, lo, up, s) - D


def null_unit(family, y, s):
    """Half the intercept-only deviance (the unit of ``tol``)."""
    m = s @ y / s.sum()
    b = np.log(m / (1 - m)) if family == "binomial" else np.log(m)
    sat = 0.0 if family == "binomial" else s @ (y - xlogy(y, y)) / s.sum()
    return float(s @ _loss(family, y, np.full_like(y, b)) / s.sum() - sat)


# -- data and cvxpy references ---------------------------------------------------------------
def _data(family, seed=0):
    rng = np.random.default_rng(seed)
    n = 70
    X = rng.standard_normal((n, P)) * np.array([0.5, 1.0, 2.0, 1.0, 3.0, 0.8])
    X[:, 3] += 4.0  # an offset column
    X[rng.random((n, P)) < 0.3] = 0.0  # zeros, for the sparse variants
    X = X.astype(np.float32).astype(np.float64)  # the float32 runs see the same problem
    beta = np.array([1.5, -1.5, -0.6, 0.3, -0.25, 0.8])
    eta = X @ beta - 1.2
    if family == "binomial":
        y = (rng.random(n) < expit(eta)).astype(np.float64)
    else:
        y = rng.poisson(np.exp(0.4 * eta + 0.2)).astype(np.float64)
    s = rng.uniform(0.5, 2.0, n)
    return X, y, s


def _factors(X, s, standardize):
    if standardize:
        sigma = weighted_std(X, s)[0]
        return sigma, sigma ** 2
    return np.ones(X.shape[1]), np.ones(X.shape[1])


@lru_cache(maxsize=None)
def _cvxpy(family, limits, standardize, alpha, rho, seed=0):
    cp = pytest.importorskip("cvxpy")
    X, y, s = _data(family, seed)
    lo, up = LIMITS[limits]
    f1, f2 = _factors(X, s, standardize)
    w = cp.Variable(P)
    b = cp.Variable()
    eta = X @ w + b
    f = (cp.logistic(eta) - cp.multiply(y, eta) if family == "binomial"
         else cp.exp(eta) - cp.multiply(y, eta))
    obj = (cp.sum(cp.multiply(s, f)) / s.sum()
           + alpha * (rho * cp.sum(cp.multiply(f1, cp.abs(w)))
                      + 0.5 * (1 - rho) * cp.sum(cp.multiply(f2, cp.square(w)))))
    cons = [w[j] >= lo[j] for j in range(P) if np.isfinite(lo[j])]
    cons += [w[j] <= up[j] for j in range(P) if np.isfinite(up[j])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj), cons).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                                 tol_gap_rel=1e-12, tol_feas=1e-12)
    wv = np.clip(np.asarray(w.value).ravel(), lo, up)
    wv[np.abs(wv) < 1e-10] = 0.0
    Pstar = primal(family, X, y, wv, float(b.value), alpha, rho, f1, f2, lo, up, s)
    return wv, float(b.value), Pstar


def _input(X, kind):
    dtype = np.float32 if kind.endswith("32") else np.float64
    Xd = np.asarray(X, dtype=dtype)
    return sp.csc_matrix(Xd) if kind.startswith("sparse") else Xd


KINDS = ["dense64", "sparse64", "dense32", "sparse32"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("limits", ["positive", "mixed"])
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_path_with_limits_matches_cvxpy_and_oracles(family, limits, standardize, kind):
    X, y, s = _data(family)
    lo, up = LIMITS[limits]
    rho = 0.7
    kw = (dict(positive=True) if limits == "positive"
          else dict(lower_limits=lo, upper_limits=up))
    lo_in, up_in = lo.copy(), up.copy()
    tol = 1e-10 if kind.endswith("64") else 1e-7
    alphas, coefs, gaps = enet_path(_input(X, kind), y, family=family, l1_ratio=rho,
                                    alphas=ALPHAS[family], fit_intercept=True,
                                    sample_weight=s, standardize=standardize, tol=tol,
                                    max_iter=100000, **kw)
    assert np.array_equal(lo, lo_in) and np.array_equal(up, up_in)  # not written to
    assert coefs.dtype == (np.float32 if kind.endswith("32") else np.float64)
    c64 = coefs.astype(np.float64)
    assert np.all(c64 >= lo[:, None]) and np.all(c64 <= up[:, None])  # exactly inside
    unit = null_unit(family, y, s)
    assert np.all(gaps >= -1e-12 * unit) and np.all(gaps <= tol * unit)
    f1, f2 = _factors(X, s, standardize)
    _, free, _ = enet_path(X, y, family=family, l1_ratio=rho, alphas=alphas,
                           fit_intercept=True, sample_weight=s, standardize=standardize,
                           tol=1e-8, max_iter=100000)
    # the limits bind: the free path leaves the box
    assert np.any((free < lo[:, None] - 1e-3) | (free > up[:, None] + 1e-3))
    atol = 2e-5 if kind.endswith("64") else 2e-3
    for k, a in enumerate(alphas):
        w_ref, _, _ = _cvxpy(family, limits, standardize, float(a), rho)
        np.testing.assert_allclose(c64[:, k], w_ref, atol=atol)


@pytest.mark.parametrize("kind", ["dense64", "sparse32"])
@pytest.mark.parametrize("limits", ["positive", "mixed"])
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_estimator_certificate_bounds_the_cvxpy_suboptimality(family, limits, kind):
    """Single-alpha estimators: the reported gap bounds ``P(w, b) - P*`` (weak duality);
    the independent gap and KKT are small at the fit."""
    X, y, s = _data(family, seed=0)
    lo, up = LIMITS[limits]
    rho, standardize = 0.5, True
    f1, f2 = _factors(X, s, standardize)
    Est = ElasticNetClassifier if family == "binomial" else ElasticNetPoissonRegressor
    kw = (dict(positive=True) if limits == "positive"
          else dict(lower_limits=lo, upper_limits=up))
    unit = null_unit(family, y, s)
    tol = 1e-10 if kind.endswith("64") else 1e-7
    for a in ALPHAS[family]:
        est = Est(alpha=a, l1_ratio=rho, standardize=standardize, tol=tol, max_iter=100000,
                  **kw).fit(_input(X, kind), y, sample_weight=s)
        w, b = est.coef_.ravel().astype(np.float64), float(np.ravel(est.intercept_)[0])
        w_ref, b_ref, Pstar = _cvxpy(family, limits, standardize, float(a), rho)
        Pw = primal(family, X, y, w, b, a, rho, f1, f2, lo, up, s)
        assert np.isfinite(Pw)
        assert Pw - Pstar <= est.dual_gap_ + 1e-10 * unit
        assert est.dual_gap_ <= tol * unit * (1 + 1e-9)
        # float32: the intercept is stored in float32 (its rounding moves P by ~1e-8)
        slack = 1e-9 if kind.endswith("64") else 1e-6
        assert box_gap(family, X, y, w, b, a, rho, f1, f2, lo, up, s) <= (
            tol * unit + slack)
        f32 = kind.endswith("32")
        assert box_kkt(family, X, y, w, b, a, rho, f1, f2, lo, up, s,
                       at_limit=1e-6 if f32 else 0.0) <= (1e-3 if f32 else 1e-4)
        np.testing.assert_allclose(b, b_ref, atol=1e-4 if kind.endswith("64") else 1e-2)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_package_certificate_is_a_valid_bound_at_feasible_points(family):
    """The GLM certificate with box limits at arbitrary feasible points (perturbations of
    the optimum, clipped into the box), through the engine's problem: never below the
    true suboptimality."""
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.prox_newton import GLMProblem, glm_mode
    from sklearn_normpen.datafits import Logistic, Poisson
    from sklearn_normpen.penalties import ElasticNetPenalty
    X, y, s = _data(family, seed=0)
    lo, up = LOWER, UPPER
    rho = 0.7
    f1, f2 = _factors(X, s, False)
    pb = GLMProblem(Design(np.asfortranarray(X), y, s, True), glm_mode(X),
                    Logistic if family == "binomial" else Poisson)
    rng = np.random.default_rng(3)
    for pure in (False, True):
        r = 1.0 if pure else rho
        pen = ElasticNetPenalty(r, np.ones(P), lower=lo, upper=up)
        for a in ALPHAS[family]:
            w_ref, b_ref, Pstar = _cvxpy(family, "mixed", False, float(a), r)
            for scale in (0.0, 1e-4, 1e-2, 0.3):
                for _ in range(4):
                    w = np.clip(w_ref + scale * rng.standard_normal(P), lo, up)
                    b = b_ref + scale * rng.standard_normal()
                    pb.start(w)
                    pb.b, pb.eta = b, X @ w + b
                    cert = pb.certificate(w, pen, a)
                    Pw = primal(family, X, y, w, b, a, r, f1, f2, lo, up, s)
                    np.testing.assert_allclose(cert.primal, Pw, rtol=1e-10)
                    assert cert.gap >= Pw - Pstar - 1e-10
                    if scale == 0.0:
                        assert cert.gap <= 1e-7
                        assert box_gap(family, X, y, w, b, a, r, f1, f2, lo, up, s) <= 1e-7


def _fixture_cases():
    rows = list(csv.DictReader(open(FIX / "cases.csv")))
    return [(int(c["case"]), c) for c in rows]


@pytest.mark.parametrize("case, info", _fixture_cases(), ids=lambda v: str(v)
                         if isinstance(v, int) else "")
def test_glmnet_lower_upper_limits(case, info):
    X = np.loadtxt(FIX / "X.csv", delimiter=",", skiprows=1)
    family = info["family"]
    y = np.loadtxt(FIX / f"y_{family}.csv", skiprows=1)
    C = np.genfromtxt(FIX / "coef.csv", delimiter=",", skip_header=1)
    C = C[C[:, 0] == case]
    lam, b_r, w_r = C[:, 1], C[:, 2], C[:, 3:]
    lo = np.array([float(v) for v in info["lower"].split()])
    up = np.array([float(v) for v in info["upper"].split()])
    rho, standardize = float(info["l1_ratio"]), info["standardize"] == "TRUE"
    # the limits bind in glmnet's own fit (a finite non-zero limit reached, or a
    # coefficient held at a zero limit that the free fit would cross)
    assert np.any(np.isclose(w_r, lo) & (lo < 0)) or np.any(np.isclose(w_r, up) & (up > 0)) \
        or np.any((w_r == 0) & (lo == 0))
    _, coefs, _ = enet_path(X, y, family=family, alphas=lam, l1_ratio=rho,
                            standardize=standardize, lower_limits=lo, upper_limits=up,
                            fit_intercept=True, tol=1e-12, max_iter=10 ** 6)
    np.testing.assert_allclose(coefs.T, w_r, atol=2e-6)
    Est = ElasticNetClassifier if family == "binomial" else ElasticNetPoissonRegressor
    for k in (1, len(lam) - 1):
        est = Est(alpha=lam[k], l1_ratio=rho, standardize=standardize, lower_limits=lo,
                  upper_limits=up, tol=1e-12, max_iter=10 ** 6).fit(X, y)
        np.testing.assert_allclose(est.coef_.ravel(), w_r[k], atol=2e-6)
        np.testing.assert_allclose(np.ravel(est.intercept_)[0], b_r[k], atol=2e-6)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_path_cv_keeps_the_limits_and_equals_the_path(family):
    X, y, s = _data(family, seed=1)
    Est = (ElasticNetClassifierPathCV if family == "binomial"
           else ElasticNetPoissonRegressorPathCV)
    est = Est(l1_ratio=0.8, alphas=12, cv=3, lower_limits=LOWER, upper_limits=UPPER,
              standardize=True, tol=1e-8, max_iter=100000).fit(X, y, sample_weight=s)
    cp_ = est.coef_path_
    assert np.all(cp_ >= LOWER[:, None]) and np.all(cp_ <= UPPER[:, None])
    assert np.all(est.coef_.ravel() >= LOWER) and np.all(est.coef_.ravel() <= UPPER)
    _, coefs, _ = enet_path(X, y, family=family, l1_ratio=0.8, alphas=est.alphas_,
                            sample_weight=s, fit_intercept=True, standardize=True,
                            lower_limits=LOWER, upper_limits=UPPER, tol=1e-8,
                            max_iter=100000)
    np.testing.assert_allclose(cp_[:, :coefs.shape[1]], coefs, atol=1e-6)
    unit = null_unit(family, y, s)
    assert np.all(est.dual_gap_path_ <= 1e-8 * unit)
    assert np.all(np.asarray(est.fold_dual_gap_) <= 1e-7)
    pos = Est(alphas=8, cv=3, positive=True).fit(X, y)
    assert np.all(pos.coef_path_ >= 0) and np.any(pos.coef_path_ > 0)


def test_limits_errors_name_the_parameter():
    X, y, _ = _data("binomial")
    with pytest.raises(ValueError, match="lower_limits must be <= 0"):
        ElasticNetClassifier(lower_limits=0.1).fit(X, y)
    with pytest.raises(ValueError, match="upper_limits must be >= 0"):
        ElasticNetPoissonRegressor(upper_limits=[-1, 1, 1, 1, 1, 1]).fit(X, y + 1)
    with pytest.raises(ValueError, match=r"upper_limits must be a scalar or have shape"):
        ElasticNetClassifierPathCV(upper_limits=[1, 2]).fit(X, y)
    with pytest.raises(ValueError, match="lower_limits contains NaN"):
        enet_path(X, y, family="binomial", lower_limits=[np.nan] * P)
    with pytest.raises(ValueError, match="unpenalised feature"):
        enet_path(X, y, family="poisson", lower_limits=-1, penalty_factor=[0, 1, 1, 1, 1, 1])
    y3 = np.arange(len(y)) % 3
    for est in (ElasticNetClassifier(positive=True), ElasticNetClassifierPathCV(
            upper_limits=1.0, cv=3, alphas=5)):
        with pytest.raises(ValueError, match="not supported with 3 classes"):
            est.fit(X, y3)
    with pytest.raises(ValueError, match="positive is not supported with "
                                         "family='multinomial'"):
        enet_path(X, y3, family="multinomial", positive=True)


def test_coef_init_outside_the_box_is_clipped():
    X, y, s = _data("binomial")
    a = ALPHAS["binomial"]
    kw = dict(family="binomial", l1_ratio=0.7, alphas=a, sample_weight=s,
              fit_intercept=True, lower_limits=LOWER, upper_limits=UPPER, tol=1e-9,
              max_iter=100000)
    _, c0, _ = enet_path(X, y, **kw)
    _, c1, g1 = enet_path(X, y, coef_init=np.full(P, 5.0), **kw)
    assert np.all(c1 >= LOWER[:, None]) and np.all(c1 <= UPPER[:, None])
    np.testing.assert_allclose(c1, c0, atol=1e-5)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_extreme_scales_without_intercept(family):
    """A column in thousands whose coefficient is capped at 4e-4 (a limit on the user's
    scale, standardize=True), a column in thousandths floored at -50, no intercept:
    against cvxpy."""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(7)
    n = 80
    X = rng.standard_normal((n, 4)) * np.array([1e3, 1e-3, 1.0, 1.0])
    eta = 1e-3 * X[:, 0] - 300 * X[:, 1] + 0.5 * X[:, 2]
    y = ((rng.random(n) < expit(eta)).astype(float) if family == "binomial"
         else rng.poisson(np.exp(0.5 * eta + 0.3)).astype(float))
    lo, up = np.array([-np.inf, -50.0, -np.inf, 0.0]), np.array([4e-4, np.inf, 0.2, np.inf])
    s = np.ones(n)
    sigma = weighted_std(X, s)[0]
    alphas = np.array([0.02, 0.005])
    _, coefs, gaps = enet_path(X, y, family=family, l1_ratio=0.6, alphas=alphas,
                               fit_intercept=False, standardize=True, lower_limits=lo,
                               upper_limits=up, tol=1e-10, max_iter=100000)
    assert np.all(coefs >= lo[:, None]) and np.all(coefs <= up[:, None])
    for k, a in enumerate(alphas):
        w = cp.Variable(4)
        e = X @ w
        f = (cp.logistic(e) - cp.multiply(y, e) if family == "binomial"
             else cp.exp(e) - cp.multiply(y, e))
        v = cp.multiply(sigma, w)
        obj = cp.sum(f) / n + a * (0.6 * cp.norm1(v) + 0.2 * cp.sum_squares(v))
        cons = [w[0] <= up[0], w[1] >= lo[1], w[2] <= up[2], w[3] >= 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cp.Problem(cp.Minimize(obj), cons).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                                     tol_gap_rel=1e-12, tol_feas=1e-12)
        # compare on the standardised scale (sigma·w): the natural unit of each column
        np.testing.assert_allclose(sigma * coefs[:, k], sigma * w.value, atol=2e-5)
        Pw = primal(family, X, y, coefs[:, k], 0.0, a, 0.6, sigma, sigma ** 2, lo, up, s)
        Pstar = primal(family, X, y, np.clip(w.value, lo, up), 0.0, a, 0.6, sigma,
                       sigma ** 2, lo, up, s)
        assert Pw - Pstar <= gaps[k] + 1e-9
    assert coefs[0, -1] == pytest.approx(4e-4, rel=1e-9)  # the cap binds
