"""Group-lasso Poisson family: GroupLassoPoissonRegressor / GroupLassoPoissonRegressorPathCV
against cvxpy + Clarabel, an independent NumPy gap at every path point, and the usual
equivalences (weights = repeated rows, dense = sparse, float32)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold, PredefinedSplit

from sklearn_normpen import (ElasticNetPoissonRegressor, GroupLassoPoissonRegressor,
                             GroupLassoPoissonRegressorPathCV, group_lasso_path)
from _glm_oracle import glm_gap, glm_null_deviance, glm_primal

GROUPS = [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9, 10, 11]]


def _data(n=100, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 12))
    w = np.zeros(12)
    w[:3] = [0.4, -0.3, 0.2]
    w[6] = 0.3
    return X, rng.poisson(np.exp(scale * (X @ w) + 0.5)).astype(float)


def _cvxpy(X, y, alpha, rho, sw, gw):
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    w, b = cp.Variable(p), cp.Variable()
    eta = X @ w + b
    obj = (cp.sum(cp.multiply(sw, cp.exp(eta) - cp.multiply(y, eta))) / sw.sum()
           + alpha * (rho * cp.norm1(w)
                      + (1 - rho) * sum(c * cp.norm2(w[g]) for g, c in zip(GROUPS, gw))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(w.value), float(b.value)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_matches_cvxpy_with_weights_and_group_weights(rho):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.2, 3, len(y))
    gw = np.array([1.0, 2.5, 0.7, 1.5])
    for alpha in [0.08, 0.02]:
        est = GroupLassoPoissonRegressor(standardize=False,
                                         groups=GROUPS, group_weights=gw, alpha=alpha,
                                         l1_ratio=rho, tol=1e-11,
                                         max_iter=100000).fit(X, y, sw)
        w, b = _cvxpy(X, y, alpha, rho, sw, gw)
        np.testing.assert_allclose(est.coef_.ravel(), w, atol=2e-6)
        np.testing.assert_allclose(est.intercept_, b, atol=2e-6)
        P = glm_primal("poisson", X, y, est.coef_, est.intercept_, alpha, rho, sw,
                       groups=GROUPS, group_weights=gw)
        Pstar = glm_primal("poisson", X, y, w, b, alpha, rho, sw, groups=GROUPS,
                           group_weights=gw)
        assert P - Pstar <= est.dual_gap_ + 1e-9  # the certificate bounds the error
        if alpha == 0.08:  # a whole group is zero
            assert np.all(est.coef_.ravel()[GROUPS[1]] == 0)


def test_path_cv_independent_gap_at_every_point_and_equals_path_function():
    X, y = _data(seed=2)
    sw = np.random.default_rng(3).uniform(0.5, 2, len(y))
    cv = GroupLassoPoissonRegressorPathCV(standardize=False,
                                          groups=GROUPS, l1_ratio=0.3, alphas=12, cv=3,
                                          tol=1e-9, max_iter=100000).fit(X, y, sw)
    unit = glm_null_deviance("poisson", y, sw)
    assert cv.measure_name_ == "Poisson deviance"
    for k, a in enumerate(cv.alphas_):
        g = glm_gap("poisson", X, y, cv.coef_path_[:, k], cv.intercept_path_[k], a, 0.3,
                    sw, groups=GROUPS)
        assert -1e-12 <= g <= 1e-6 * unit
        assert cv.dual_gap_path_[k] <= 1e-9 * unit * (1 + 1e-9)
    alphas, coefs, _ = group_lasso_path(X, y, groups=GROUPS, l1_ratio=0.3, family="poisson",
                                        alphas=cv.alphas_, sample_weight=sw,
                                        fit_intercept=True, standardize=False, tol=1e-9,
                                        max_iter=100000)
    np.testing.assert_allclose(coefs, cv.coef_path_, atol=1e-5)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_cv_measure_is_the_held_out_error_of_the_fold_fit():
    # (tol=1e-9: below it the certificate meets its floor. Near w*, P(w) - P* is
    # quadratic in w - w* but the gap (its dual point scaled into the constraint) linear:
    # once P's decreases are at rounding level (~1e-16 |P|) the gap stalls near 1e-10
    # here. One fold point stalled at 1.8e-10 against the target of 1.04e-10 after the
    # column means became exactly rounded (an ulp off before, and then it passed).)
    X, y = _data(n=90, seed=4)
    fold = np.arange(90) % 3
    cv = GroupLassoPoissonRegressorPathCV(standardize=False,
                                          groups=GROUPS, alphas=6, cv=PredefinedSplit(fold),
                                          measure="mae", tol=1e-9,
                                          max_iter=100000).fit(X, y)
    assert cv.measure_name_ == "Mean absolute error"
    tr, te = fold != 1, fold == 1
    for k in (2, 5):
        est = GroupLassoPoissonRegressor(standardize=False,
                                         groups=GROUPS, alpha=cv.alphas_[k], tol=1e-9,
                                         max_iter=100000).fit(X[tr], y[tr])
        mae = np.mean(np.abs(y[te] - np.exp(X[te] @ est.coef_.ravel() + est.intercept_)))
        assert cv.cv_path_[k, 1] == pytest.approx(mae, rel=1e-5)


def test_singleton_groups_unit_weights_are_the_poisson_lasso():
    X, y = _data(seed=5)
    a = GroupLassoPoissonRegressor(standardize=False,
                                   alpha=0.03, l1_ratio=0.4, group_weights=np.ones(12),
                                   tol=1e-12, max_iter=100000).fit(X, y)
    b = ElasticNetPoissonRegressor(alpha=0.03, l1_ratio=1.0, standardize=False, tol=1e-12,
                                   max_iter=100000).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)


def test_huge_means_stop_early_as_documented():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 4))
    y = rng.poisson(np.exp(3 * X[:, 0] + 5)).astype(float)  # means up to e^14
    cv = GroupLassoPoissonRegressorPathCV(standardize=False,
                                          groups=[[0, 1], [2, 3]], cv=3, eps=1e-6,
                                          tol=1e-8).fit(X, y)
    assert cv.path_stop_reason_ is not None and "> 0.999" in cv.path_stop_reason_
    assert len(cv.alphas_) < 100
    assert np.all(np.isfinite(cv.coef_path_)) and np.all(np.isfinite(cv.cv_path_))
    assert cv.coef_[0] == pytest.approx(3, rel=0.05)


def test_weights_are_repeated_rows_dense_sparse_float32():
    X, y = _data(n=60, seed=7)
    sw = np.random.default_rng(0).integers(0, 3, 60)
    sw[0] = 1
    kw = dict(groups=GROUPS, alpha=0.02, l1_ratio=0.2, tol=1e-12, max_iter=100000)
    a = GroupLassoPoissonRegressor(standardize=False, **kw).fit(X, y, sw)
    b = GroupLassoPoissonRegressor(standardize=False,
                                   **kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.6] = 0
    d = GroupLassoPoissonRegressor(standardize=False, **kw).fit(Xs, y)
    s = GroupLassoPoissonRegressor(standardize=False, **kw).fit(sp.csc_matrix(Xs), y)
    np.testing.assert_allclose(d.coef_, s.coef_, atol=1e-7)
    for Xf in (Xs.astype(np.float32), sp.csr_matrix(Xs.astype(np.float32))):
        f = GroupLassoPoissonRegressor(standardize=False, groups=GROUPS, alpha=0.02, l1_ratio=0.2,
                                       tol=1e-7).fit(Xf, y)
        assert f.coef_.dtype == np.float32 and f.predict(Xf).dtype == np.float32
        np.testing.assert_allclose(f.coef_, d.coef_, atol=1e-3)
    cv = GroupLassoPoissonRegressorPathCV(standardize=False, groups=GROUPS, alphas=6, cv=KFold(3),
                                          measure="mse").fit(sp.csc_matrix(Xs), y)
    assert cv.cv_path_.shape == (6, 3) and cv.measure_name_ == "Mean squared error"


def test_errors():
    X, y = _data(n=30)
    with pytest.raises(ValueError, match="non-negative"):
        GroupLassoPoissonRegressor(standardize=False, groups=GROUPS).fit(X, y - 5)
    with pytest.raises(ValueError, match="measure"):
        GroupLassoPoissonRegressorPathCV(standardize=False, measure="auc").fit(X, y)


def test_change_rule_ignores_points_whose_warm_start_was_certified():
    # at the default tol the warm start of late points is often certified as it stands:
    # no Newton step, an unchanged deviance ratio; glmnet's "change < 1e-5" rule must not
    # read that as the path's plateau (it stopped this path after 25 points, coef 2.63)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 4))
    y = rng.poisson(np.exp(3 * X[:, 0] + 5)).astype(float)
    cv = GroupLassoPoissonRegressorPathCV(standardize=False,
                                          groups=[[0, 1], [2, 3]], cv=3, eps=1e-6).fit(X, y)
    assert "> 0.999" in cv.path_stop_reason_
    assert cv.coef_[0] == pytest.approx(3, rel=0.1)
