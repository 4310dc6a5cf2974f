"""Poisson family: ElasticNetPoissonRegressor / ElasticNetPoissonRegressorPathCV against
R glmnet fixtures, cvxpy + Clarabel, scikit-learn's PoissonRegressor, and degenerate data."""
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import PredefinedSplit

from _glm_oracle import glm_gap, glm_null_deviance, glm_primal
from sklearn_normpen import ElasticNetPoissonRegressor, ElasticNetPoissonRegressorPathCV

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "glmnet_poisson")


def _load(name):
    return np.loadtxt(os.path.join(FIX, name), delimiter=",")


def _primal(X, y, w, b, alpha, rho, sw=None, f=None):
    w = np.ravel(w)
    s = np.ones(len(y)) if sw is None else sw
    f = np.ones(X.shape[1]) if f is None else f
    eta = X @ w + b
    return (s @ (np.exp(eta) - y * eta) / s.sum()
            + alpha * (rho * f @ np.abs(w) + 0.5 * (1 - rho) * f * f @ (w * w)))


def _half_null_deviance(y, sw=None):
    m = np.average(y, weights=sw)
    return np.average(xlogy(y, y / m) - (y - m), weights=sw)


def _data(n=120, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:3] = [0.5, -0.4, 0.2]
    return X, rng.poisson(np.exp(X @ beta + 0.5)).astype(float)


def test_path_matches_glmnet():
    X, y, lam, C = _load("X.csv"), _load("y.csv"), _load("lambda_P.csv"), _load("coef_P.csv")
    for k, a in enumerate(lam):
        est = ElasticNetPoissonRegressor(alpha=a, tol=1e-10, max_iter=100000,
                                         standardize=False).fit(X, y)
        np.testing.assert_allclose(est.coef_.ravel(), C[1:, k], atol=2e-5)
        np.testing.assert_allclose(est.intercept_, C[0, k], atol=2e-5)
        P_ours = _primal(X, y, est.coef_, est.intercept_, a, 0.5)
        assert P_ours - est.dual_gap_ <= _primal(X, y, C[1:, k], C[0, k], a, 0.5) + 1e-12


def test_weighted_standardized_path_matches_glmnet():
    X, y, w = _load("X.csv"), _load("y.csv"), _load("w.csv")
    lam, C = _load("lambda_P.csv"), _load("coef_PW.csv")
    for k in range(0, len(lam), 3):
        est = ElasticNetPoissonRegressor(alpha=lam[k], l1_ratio=1.0, standardize=True,
                                         tol=1e-10, max_iter=100000).fit(X, y, w)
        np.testing.assert_allclose(est.coef_.ravel(), C[1:, k], atol=2e-5)
        np.testing.assert_allclose(est.intercept_, C[0, k], atol=2e-5)


@pytest.mark.parametrize("measure", ["deviance", "mse", "mae"])
def test_cv_matches_cv_glmnet(measure):
    X, y, fold = _load("X.csv"), _load("y.csv"), _load("foldid.csv")
    cv = ElasticNetPoissonRegressorPathCV(alphas=_load("lambda_P.csv"), measure=measure,
                                          cv=PredefinedSplit(fold - 1), tol=1e-10,
                                          max_iter=100000, standardize=False).fit(X, y)
    R = _load(f"cv_P_{measure}.csv")
    np.testing.assert_allclose(cv.cv_mean_, R[:, 0], rtol=1e-5)
    np.testing.assert_allclose(cv.cv_se_, R[:, 1], rtol=1e-4)


def test_matches_cvxpy_with_unpenalised_feature_and_gap_is_a_bound():
    cp = pytest.importorskip("cvxpy")
    X, y = _data(n=80, p=5, seed=1)
    pf = np.array([0.0, 1, 1, 1, 1])
    alpha = 0.05
    est = ElasticNetPoissonRegressor(alpha=alpha, l1_ratio=0.7, penalty_factor=pf,
                                     tol=1e-8, max_iter=100000, standardize=False).fit(X, y)
    w, b = cp.Variable(5), cp.Variable()
    eta = X @ w + b
    obj = (cp.sum(cp.exp(eta) - cp.multiply(y, eta)) / len(y)
           + alpha * (0.7 * cp.sum(cp.multiply(pf, cp.abs(w)))
                      + 0.15 * cp.sum(cp.multiply(pf, cp.square(w)))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    P = lambda ww, bb: (np.mean(np.exp(X @ ww + bb) - y * (X @ ww + bb))  # noqa: E731
                        + alpha * (0.7 * pf @ np.abs(ww) + 0.15 * pf @ (ww * ww)))
    Pstar = P(w.value, b.value)
    P_ours = P(est.coef_.ravel(), est.intercept_)
    assert P_ours - Pstar <= est.dual_gap_ + 1e-9
    assert est.dual_gap_ <= 1e-8 * _half_null_deviance(y)
    np.testing.assert_allclose(est.coef_.ravel(), w.value, atol=1e-4)


def test_ridge_matches_sklearn_poisson_regressor():
    X, y = _data(n=100, p=5, seed=2)
    ours = ElasticNetPoissonRegressor(alpha=0.05, l1_ratio=0.0, tol=1e-12,
                                      max_iter=100000, standardize=False).fit(X, y)
    ref = PoissonRegressor(alpha=0.05, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.coef_.ravel(), ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-5)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-5)


def test_weights_repeated_rows_sparse_float32():
    X, y = _data(n=60, p=6, seed=3)
    sw = np.random.default_rng(0).integers(0, 3, 60)
    sw[0] = 1
    kw = dict(alpha=0.02, tol=1e-12, max_iter=100000)
    a = ElasticNetPoissonRegressor(**kw).fit(X, y, sw)
    b = ElasticNetPoissonRegressor(**kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.7] = 0
    d = ElasticNetPoissonRegressor(**kw).fit(Xs, y)
    s = ElasticNetPoissonRegressor(**kw).fit(sp.csc_matrix(Xs), y)
    np.testing.assert_allclose(d.coef_, s.coef_, atol=1e-8)
    f = ElasticNetPoissonRegressor(alpha=0.02, tol=1e-6).fit(X.astype(np.float32), y)
    assert f.coef_.dtype == np.float32 and f.predict(X.astype(np.float32)).dtype == np.float32
    ref64 = ElasticNetPoissonRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(f.coef_, ref64.coef_, atol=1e-3)


def test_huge_means_and_saturation_stop_cleanly():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = rng.poisson(np.exp(3 * X[:, 0] + 5)).astype(float)  # means up to e^14
    cv = ElasticNetPoissonRegressorPathCV(cv=3, eps=1e-6).fit(X, y)
    assert np.all(np.isfinite(cv.coef_path_)) and np.all(np.isfinite(cv.cv_path_))
    assert cv.path_stop_reason_ is not None  # (nearly) saturated: glmnet's early stop
    assert len(cv.alphas_) < 100
    assert cv.coef_[0] == pytest.approx(3, rel=0.05)


def test_errors():
    X, y = _data(n=20, p=3)
    with pytest.raises(ValueError, match="non-negative"):
        ElasticNetPoissonRegressor().fit(X, y - 5)
    with pytest.raises(ValueError, match="zero everywhere"):
        ElasticNetPoissonRegressor().fit(X, np.zeros(20))
    # a training fold with no positive count: its intercept would be -inf (the fit used to
    # run out its budget at every point, then advise increasing max_iter)
    y = np.r_[[3.0, 1.0, 2.0], np.zeros(17)]
    fold = np.r_[[0, 0, 0], np.arange(17) % 3]
    for XX in (X, sp.csc_matrix(X)):
        with pytest.raises(ValueError, match="zero everywhere .* in the data being fitted"):
            ElasticNetPoissonRegressorPathCV(alphas=5, cv=PredefinedSplit(fold)).fit(XX, y)



def _longdouble_objective(X, y, w, b, alpha, rho):
    L = np.longdouble
    w = np.asarray(w, dtype=L)
    eta = X.astype(L) @ w + L(b)
    return (np.mean(np.exp(eta) - y.astype(L) * eta)
            + L(alpha) * (rho * np.sum(np.abs(w)) + (1 - rho) / 2 * np.sum(w * w)))


def _longdouble_gap(X, y, w, b, alpha, rho):
    """``P - D`` of the Poisson elastic net in extended precision (80-bit on x86; its
    difference of objectives keeps ~1e-8 where float64 keeps ~1e-4 at counts near 1e10)
    at the mean-zero residual as dual point: a certificate outside the package."""
    L = np.longdouble
    Xl, yl = X.astype(L), y.astype(L)
    r = yl - np.exp(Xl @ np.asarray(w, dtype=L) + L(b))
    r = r - np.mean(r)  # feasible for the intercept
    q = yl - r
    z = Xl.T @ r / len(y)
    conj = np.sum(np.maximum(np.abs(z) - L(alpha) * rho, 0) ** 2) / (2 * L(alpha) * (1 - rho))
    return float(_longdouble_objective(X, y, w, b, alpha, rho) + np.mean(q * np.log(q) - q)
                 + conj)


def _longdouble_ridge_optimum(X, y, w, b, alpha, steps=8):
    """Newton's method in extended precision on the (smooth) ridge Poisson objective."""
    L = np.longdouble
    A = np.column_stack([np.ones(len(y)), X]).astype(L)
    v = np.concatenate([[b], w]).astype(L)
    reg = np.r_[0.0, np.full(X.shape[1], alpha)].astype(L)
    for _ in range(steps):
        mu = np.exp(A @ v)
        grad = A.T @ (mu - y.astype(L)) / len(y) + reg * v
        H = (A.T * mu) @ A / len(y) + np.diag(reg)
        v = v - np.linalg.solve(H.astype(np.float64), grad.astype(np.float64)).astype(L)
    return v[1:], v[0]


@pytest.mark.parametrize("counts", [1e8, 1e10])
def test_certificate_resolves_tolerance_at_large_counts(counts):
    # P - D formed as the difference of the two objectives cancelled their common
    # Σ y log y: with counts near 1e10 the certificate could not go below ~1e-4 of the
    # null deviance, so every fit at the default tol warned (and burnt max_iter): the path
    # CV took 0.9 s instead of 0.04 s. Now the gap is the sum of its Fenchel-Young parts.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = rng.poisson(counts * np.exp(0.3 / np.sqrt(counts) * X[:, 0])).astype(float)
    target = 1e-4 * float(np.mean(xlogy(y, y / y.mean()) - (y - y.mean())))  # ~0.5 noise
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ElasticNetPoissonRegressor(alpha=1e-5, l1_ratio=0.5, standardize=False,
                                         tol=1e-4).fit(X, y)
        ridge = ElasticNetPoissonRegressor(alpha=1e-5, l1_ratio=0.0, standardize=False,
                                           tol=1e-4).fit(X, y)
        cv = ElasticNetPoissonRegressorPathCV(alphas=10, cv=3, tol=1e-4).fit(X, y)
    assert est.dual_gap_ <= target * (1 + 1e-6)
    assert np.all(cv.dual_gap_path_ <= target * (1 + 1e-6))
    # an outside certificate: the fit is within the tolerance of the optimum
    assert _longdouble_gap(X, y, est.coef_.ravel(), est.intercept_, 1e-5, 0.5) <= target
    # and the reported gap bounds P - P*, P* from extended-precision Newton (ridge)
    w, b = ridge.coef_.ravel(), ridge.intercept_
    w_ref, b_ref = _longdouble_ridge_optimum(X, y, w, b, 1e-5)
    excess = float(_longdouble_objective(X, y, w, b, 1e-5, 0.0)
                   - _longdouble_objective(X, y, w_ref, b_ref, 1e-5, 0.0))
    assert -1e-7 <= excess <= ridge.dual_gap_ + 1e-7, (excess, ridge.dual_gap_)


@pytest.mark.parametrize("cls", ["ElasticNetPoissonRegressor", "ElasticNetPoissonRegressorPathCV",
                                 "GroupLassoPoissonRegressor",
                                 "GroupLassoPoissonRegressorPathCV"])
def test_attribute_shapes_are_scikit_learns_poisson_regressor(cls):
    """coef_ (n_features,) and a float intercept_, as sklearn.linear_model.PoissonRegressor
    (the binary classifiers keep LogisticRegression's (1, n_features) and (1,)); predict
    is exp(X @ coef_ + intercept_)."""
    import sklearn_normpen
    from sklearn.linear_model import PoissonRegressor
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 2]))
    kw = {"groups": [[0, 1], [2, 3]]} if "Group" in cls else {}
    if "PathCV" in cls:
        kw.update(cv=3, alphas=5)
    est = getattr(sklearn_normpen, cls)(**kw).fit(X, y)
    ref = PoissonRegressor().fit(X, y)
    assert est.coef_.shape == ref.coef_.shape == (4,)
    assert isinstance(est.intercept_, float) and np.ndim(ref.intercept_) == 0
    np.testing.assert_allclose(est.predict(X), np.exp(X @ est.coef_ + est.intercept_),
                               rtol=1e-12)


@pytest.mark.parametrize("kind, seed, alpha", [("enet", 2, 5e-4), ("enet", 6, 5e-3),
                                               ("enet", 11, 5e-3), ("group", 3, 5e-4)])
def test_float32_large_counts_certified_by_float64_refinement(kind, seed, alpha):
    # counts up to ~3000: rounding w to float32 moves the gradient by about H eps32 |w|,
    # above alpha, so no float32 point has a small duality gap (45 of 80 such lasso fits
    # and 20 of 40 group fits warned, stalled at gaps up to 9% of the null deviance); the
    # solve now continues in float64 and certifies the rounded coefficients by
    # gap(w64) + P(w32) - P(w64)
    from sklearn_normpen import GroupLassoPoissonRegressor
    rng = np.random.default_rng(seed)
    n, p = 80, 30
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) < 0.7] = 0
    Xs = (X - X.mean(0)) / X.std(0)
    beta = np.zeros(p)
    beta[:7] = rng.standard_normal(7) * 6
    y = rng.poisson(np.exp(np.clip(Xs @ beta / 2 + 2, -20, 8))).astype(float)
    tol = 1e-4
    groups = [list(range(j, j + 3)) for j in range(0, p, 3)] if kind == "group" else None
    rho = 0.0 if kind == "group" else 1.0

    def est(**kw):
        if kind == "group":
            return GroupLassoPoissonRegressor(groups=groups, alpha=alpha, l1_ratio=rho,
                                              standardize=False, **kw)
        return ElasticNetPoissonRegressor(alpha=alpha, l1_ratio=rho, standardize=False,
                                          **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = est(tol=tol).fit(sp.csc_matrix(X.astype(np.float32)), y)
    assert m.coef_.dtype == np.float32
    ref = est(tol=1e-12, max_iter=100000).fit(X, y)
    null = glm_null_deviance("poisson", y)
    # the reference is the optimum to 1e-10 by the independent dual point
    assert glm_gap("poisson", X, y, ref.coef_, ref.intercept_, alpha, rho,
                   groups=groups) <= 1e-10 * null
    P = glm_primal("poisson", X, y, m.coef_.astype(np.float64), m.intercept_, alpha, rho,
                   groups=groups)
    Pref = glm_primal("poisson", X, y, ref.coef_, ref.intercept_, alpha, rho,
                      groups=groups)
    assert P - Pref <= tol * null
    assert P - Pref <= m.dual_gap_ + 1e-12 * null  # the reported bound holds
