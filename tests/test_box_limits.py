"""Box limits in the penalty protocol (issue 12 item 4): the certificate of
``ElasticNetPenalty(lower=, upper=)`` against the independent NumPy oracle (tests/_oracle.py,
extended with limits) and cvxpy + Clarabel optima with the bounds active.

The package's certificate is evaluated on points given here (the cvxpy optimum and feasible
perturbations of it) through a covariance-mode problem, so these tests do not depend on the
solver reaching them.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import _oracle as O
from sklearn_normpen._certificate import certificate
from sklearn_normpen._design import Design
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen.penalties import ElasticNetPenalty


def _data(n=40, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + 0.5
    w = np.array([3.0, -2.5, 1.0, 0.0, -0.7, 0.0, 2.0, 0.4])[:p]
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


# limits that bind: feature 0 capped at 1, feature 1 floored at -1, 2 non-negative,
# 6 in [-0.5, 0.5], the rest free (one side finite on 4)
LOWER = np.array([-np.inf, -1.0, 0.0, -np.inf, -0.2, -np.inf, -0.5, -np.inf])
UPPER = np.array([1.0, np.inf, np.inf, np.inf, np.inf, np.inf, 0.5, np.inf])
CASES = [(1.0, 0.05), (0.5, 0.05), (0.2, 0.02), (1.0, 0.3)]


def _package_certificate(X, y, w, alpha, rho, sw=None, pf=None):
    d = Design(np.asfortranarray(X), y, sw, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(X.shape[1]) if pf is None else pf
    pen = ElasticNetPenalty(rho, f, f, lower=LOWER, upper=UPPER)
    pb.start(np.asarray(w, dtype=np.float64))
    return certificate(pb.cert_stats(w, pen), pen, alpha, w), pen, pb


@pytest.mark.parametrize("rho, alpha", CASES)
def test_certificate_at_the_cvxpy_optimum_is_tight(rho, alpha):
    X, y = _data()
    Pstar, info = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER,
                                            return_info=True)
    D0 = O.null_deviance(X, y)
    assert info["gap"] <= 1e-9 * D0  # the reference is an optimum (oracle's own bound)
    # Clarabel stops ~1e-9 inside a binding bound: put those coordinates on it
    w = info["w"].copy()
    for b in (LOWER, UPPER):
        on = np.isfinite(b) & np.isclose(w, b, rtol=1e-6, atol=1e-8)
        w[on] = b[on]
    w[np.abs(w) < 1e-9] = 0.0  # and its ~1e-13 entries where the solution is 0
    # the bounds bind at the optimum: the limits are really exercised
    assert np.isclose(w[0], 1.0) or np.isclose(w[6], 0.5) or np.isclose(w[1], -1.0)
    cert, pen, _ = _package_certificate(X, y, w, alpha, rho)
    assert -1e-12 * D0 <= cert.gap <= 1e-8 * D0
    assert cert.kkt <= 1e-6 * np.sqrt(D0)
    assert_allclose(cert.kkt, O.enet_kkt(X, y, w, None, alpha, rho, lower=LOWER,
                                         upper=UPPER), atol=1e-9)


@pytest.mark.parametrize("rho, alpha", CASES)
def test_certificate_is_a_valid_bound_at_feasible_points(rho, alpha):
    X, y = _data(seed=1)
    Pstar = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER)
    _, info = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER,
                                        return_info=True)
    D0 = O.null_deviance(X, y)
    rng = np.random.default_rng(2)
    for scale in (1e-4, 1e-2, 0.3, 2.0):
        for _ in range(5):
            w = np.clip(info["w"] + scale * rng.standard_normal(X.shape[1]), LOWER, UPPER)
            w[rng.random(X.shape[1]) < 0.3] = 0.0
            cert, pen, _ = _package_certificate(X, y, w, alpha, rho)
            P = O.enet_primal(X, y, w, None, alpha, rho, lower=LOWER, upper=UPPER)
            # weak duality: no reported gap below the true suboptimality
            assert cert.gap >= P - Pstar - 1e-12 * D0
            assert cert.primal == pytest.approx(P, rel=1e-10, abs=1e-13 * D0)
            # the oracle picks the best scaling of the same dual direction: never worse
            assert O.enet_gap(X, y, w, None, alpha, rho, lower=LOWER,
                              upper=UPPER) <= cert.gap + 1e-10 * D0
            assert_allclose(cert.kkt, O.enet_kkt(X, y, w, None, alpha, rho, lower=LOWER,
                                                 upper=UPPER), rtol=1e-9, atol=1e-12)


def test_infeasible_point_has_no_finite_certificate():
    X, y = _data()
    w = np.zeros(X.shape[1])
    w[0] = 1.5  # above its upper limit 1
    cert, _, _ = _package_certificate(X, y, w, 0.05, 1.0)
    assert cert.gap == np.inf


def test_without_finite_limits_the_formulas_are_the_old_ones():
    X, y = _data(seed=3)
    d = Design(np.asfortranarray(X), y, None, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(X.shape[1])
    rng = np.random.default_rng(0)
    for positive in (False, True):
        plain = ElasticNetPenalty(0.5, f, f, positive=positive)
        same = ElasticNetPenalty(0.5, f, f, positive=positive,
                                 lower=np.full(8, -np.inf) if not positive else None,
                                 upper=np.full(8, np.inf))
        assert not plain.has_box and not same.has_box
        # generic formulas on an explicitly boxed but equivalent penalty
        boxed = ElasticNetPenalty(0.5, f, f, lower=0.0 if positive else -1e300,
                                  upper=1e300)
        assert boxed.has_box
        for _ in range(5):
            w = rng.standard_normal(8)
            if positive:
                w = np.abs(w)
            pb.start(w)
            st = pb.cert_stats(w, plain)
            a = certificate(st, _FirstScaling(plain), 0.1, w)
            b = certificate(st, boxed, 0.1, w)
            assert_allclose([a.gap, a.kkt], [b.gap, b.kkt], rtol=1e-9, atol=1e-12)
            # the plain penalty's second scaling (every ridge feature in its l1 ball) only
            # tightens the bound
            best = certificate(st, plain, 0.1, w)
            assert best.kkt == a.kkt and 0 <= best.gap <= a.gap * (1 + 1e-12)


class _FirstScaling:
    """A penalty's first dual scaling alone (the formulas the box route generalises)."""

    def __init__(self, pen):
        self.pen = pen

    def terms(self, *args):
        value, t, conj, kkt = self.pen.terms(*args)
        return (value, t[0], conj[0], kkt) if np.ndim(t) else (value, t, conj, kkt)

    def __getattr__(self, name):
        return getattr(self.pen, name)


def test_alpha_max_with_limits_is_the_zero_threshold():
    X, y = _data(seed=4)
    lower = np.array([0.0, -1.0, 0.0, -np.inf, 0.0, 0.0, -0.5, 0.0])
    upper = np.array([0.0, 0.0, np.inf, np.inf, 1.0, 0.0, 0.5, 2.0])
    d = Design(np.asfortranarray(X), y, None, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(8)
    pen = ElasticNetPenalty(1.0, f, f, lower=lower, upper=upper)
    _, z = pb.null_fit(pen, 1e-14, 1000)
    a_max = pen.alpha_max(z)
    for alpha, zero in ((a_max * (1 + 1e-9), True), (a_max * 0.97, False)):
        _, info = O.reference_optimum_cvxpy(X, y, alpha, 1.0, lower=lower, upper=upper,
                                            return_info=True)
        assert np.all(np.abs(info["w"]) <= 1e-9) == zero


def test_limits_must_contain_zero():
    f = np.ones(3)
    with pytest.raises(ValueError, match="contain 0"):
        ElasticNetPenalty(1.0, f, lower=[0.1, -1, -1])
    with pytest.raises(ValueError, match="contain 0"):
        ElasticNetPenalty(1.0, f, upper=[-0.1, 1, 1])


# ---------------------------------------------------------------------------------------
# Through the estimators: the kernels clip to the box, the certificate bounds the result
# ---------------------------------------------------------------------------------------

import scipy.sparse as sp  # noqa: E402
from sklearn.linear_model import ElasticNet  # noqa: E402

from sklearn_normpen import ElasticNetPathCV, ElasticNetRegressor, enet_path  # noqa: E402


@pytest.mark.parametrize("mode", ["gram", "dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rho, alpha", CASES[:3])
def test_regressor_with_limits_matches_cvxpy(mode, dtype, rho, alpha):
    X, y = _data(seed=5)
    Xin = X.astype(dtype)
    Xin = sp.csc_matrix(Xin) if mode == "sparse" else Xin
    # float32 data: the certificate's floor is the float32 rounding of the iterate
    tol = 1e-9 if dtype == np.float64 else 1e-6
    est = ElasticNetRegressor(alpha=alpha, l1_ratio=rho, standardize=False,
                              lower_limits=LOWER, upper_limits=UPPER, tol=tol,
                              max_iter=100000, precompute=(mode == "gram"))
    est.fit(Xin, y.astype(dtype))
    w = est.coef_.astype(np.float64)
    assert np.all(w >= LOWER) and np.all(w <= UPPER)
    Pstar = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER)
    D0 = O.null_deviance(X, y)
    P = O.enet_primal(X, y, w, est.intercept_, alpha, rho, lower=LOWER, upper=UPPER)
    slack = 1e-12 * D0 if dtype == np.float64 else 1e-6 * D0
    assert P - Pstar <= est.dual_gap_ + slack  # the reported gap is a bound
    assert est.dual_gap_ <= tol * D0 * (1 + 1e-6)
    # the reported KKT violation is small in both dtypes (float32: a coefficient clipped
    # to the float32-rounded limit counts as on it)
    assert est.kkt_violation_ <= (1e-4 if dtype == np.float64 else 1e-3) * np.sqrt(D0)
    # and the KKT conditions of the bound-constrained problem hold (oracle's)
    if dtype == np.float64:
        assert O.enet_kkt(X, y, w, est.intercept_, alpha, rho, lower=LOWER,
                          upper=UPPER) <= 1e-4 * np.sqrt(D0)


def test_scalar_limits_standardize_and_positive_unchanged():
    X, y = _data(seed=6)
    kw = dict(alpha=0.05, l1_ratio=0.5, tol=1e-12, max_iter=100000, standardize=False)
    a = ElasticNetRegressor(positive=True, **kw).fit(X, y)
    b = ElasticNetRegressor(lower_limits=0.0, **kw).fit(X, y)
    ref = ElasticNet(alpha=0.05, l1_ratio=0.5, positive=True, tol=1e-14,
                     max_iter=200000).fit(X, y)
    np.testing.assert_allclose(a.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-7, atol=1e-10)
    # a scalar limit applies to every feature, on the original scale under standardize
    c = ElasticNetRegressor(alpha=0.01, l1_ratio=1.0, upper_limits=0.8, lower_limits=-0.8,
                            tol=1e-10, max_iter=100000).fit(X, y)
    assert np.all(np.abs(c.coef_) <= 0.8) and np.any(np.abs(c.coef_) == 0.8)
    f1, f2, exc = O.enet_factors(X, standardize=True)
    Pstar = O.reference_optimum_cvxpy(X, y, 0.01, 1.0, pf_l1=f1, pf_l2=f2, excluded=exc,
                                      lower=np.full(8, -0.8), upper=np.full(8, 0.8))
    P = O.enet_primal(X, y, c.coef_, c.intercept_, 0.01, 1.0, pf_l1=f1, pf_l2=f2,
                      excluded=exc, lower=np.full(8, -0.8), upper=np.full(8, 0.8))
    assert P - Pstar <= c.dual_gap_ + 1e-12 * O.null_deviance(X, y)


def test_path_and_cv_with_limits():
    X, y = _data(n=60, seed=7)
    alphas, coefs, gaps = enet_path(X, y, l1_ratio=1.0, fit_intercept=True, n_alphas=12,
                                    lower_limits=LOWER, upper_limits=UPPER, tol=1e-10,
                                    standardize=False)
    assert np.all(coefs >= LOWER[:, None]) and np.all(coefs <= UPPER[:, None])
    for k in (3, 11):
        Pstar = O.reference_optimum_cvxpy(X, y, alphas[k], 1.0, lower=LOWER, upper=UPPER)
        P = O.enet_primal(X, y, coefs[:, k], None, alphas[k], 1.0, lower=LOWER,
                          upper=UPPER)
        assert P - Pstar <= gaps[k] + 1e-12 * O.null_deviance(X, y)
    est = ElasticNetPathCV(l1_ratio=1.0, alphas=8, cv=3, lower_limits=LOWER,
                           upper_limits=UPPER, standardize=False).fit(X, y)
    assert np.all(est.coef_path_ >= LOWER[:, None] - 0) and \
        np.all(est.coef_path_ <= UPPER[:, None])


@pytest.mark.parametrize("kw, match", [
    (dict(lower_limits=0.5), "lower_limits must be <= 0"),
    (dict(upper_limits=-1.0), "upper_limits must be >= 0"),
    (dict(lower_limits=np.zeros(3)), "lower_limits must be a scalar or have shape"),
    (dict(upper_limits=[1.0] * 7 + [np.nan]), "upper_limits contains NaN"),
    (dict(lower_limits="a"), "lower_limits"),
])
def test_bad_limits_name_the_parameter(kw, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        ElasticNetRegressor(**kw).fit(X, y)
    with pytest.raises(ValueError, match=match):
        enet_path(X, y, **kw)


def test_limits_on_unpenalised_feature_are_refused():
    X, y = _data()
    pf = np.ones(8)
    pf[2] = 0
    with pytest.raises(ValueError, match="unpenalised"):
        ElasticNetRegressor(penalty_factor=pf, upper_limits=1.0).fit(X, y)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_box_terms_equal_the_coordinate_formulas(seed):
    # ElasticNetPenalty.terms with limits runs a compiled two-pass loop; the NumPy
    # formulas it replaces (_box_t, _box_t_open, _box_conj, _box_kkt) stay the reference
    rng = np.random.default_rng(seed)
    p = 40
    rho = [1.0, 0.5, 0.0][seed % 3]
    pf = rng.uniform(0.5, 2.0, p)
    pf[rng.choice(p, 4, replace=False)] = 0.0  # unpenalised (free: no limits there)
    excluded = np.zeros(p, bool)
    excluded[rng.choice(np.flatnonzero(pf > 0), 3, replace=False)] = True
    lower = np.where(rng.random(p) < 0.5, -rng.uniform(0, 2, p), -np.inf)
    upper = np.where(rng.random(p) < 0.5, rng.uniform(0, 2, p), np.inf)
    lower[rng.random(p) < 0.15] = 0.0
    lower[pf == 0], upper[pf == 0] = -np.inf, np.inf
    pen = ElasticNetPenalty(rho, pf, pf * rng.uniform(0.5, 2, p), excluded=excluded,
                            lower=lower, upper=upper)
    assert pen.has_box
    alpha = 0.3
    w = np.clip(rng.standard_normal(p), lower, upper)
    w[excluded] = 0
    w[rng.random(p) < 0.3] = 0
    w[:3] = upper[:3].clip(max=1.5) * (np.isfinite(upper[:3]))  # some exactly at a limit
    z = rng.standard_normal(p) * alpha
    zp = z + 0.1 * rng.standard_normal(p)
    value, (t1, t2), (c1, c2), kkt = pen.terms(w, z, zp, alpha)
    l1, l2 = pen._l1_l2(alpha)
    ref_value = float(l1 @ np.abs(w) + 0.5 * (l2 @ (w * w)))
    assert value == pytest.approx(ref_value, rel=1e-13)
    assert t1 == pytest.approx(pen._box_t(zp, l1, l2), rel=1e-14)
    assert t2 == pytest.approx(pen._box_t_open(zp, l1, l2), rel=1e-14)
    assert c1 == pytest.approx(pen._box_conj(t1 * zp, l1, l2), rel=1e-12, abs=1e-300)
    assert c2 == pytest.approx(pen._box_conj(t2 * zp, l1, l2), rel=1e-12, abs=1e-300)
    assert kkt == pytest.approx(pen._box_kkt(z, w, l1, l2), rel=1e-13, abs=1e-300)
    # outside the box: no finite value
    w_out = w.copy()
    j = int(np.flatnonzero(np.isfinite(upper) & ~excluded)[0])
    w_out[j] = upper[j] + 1.0
    assert pen.terms(w_out, z, zp, alpha)[0] == np.inf
