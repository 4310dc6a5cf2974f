"""ElasticNetRegressor (issue 12 item 5) against independent references: scikit-learn's
ElasticNet / Lasso (same objective), the NumPy oracle's gap and KKT (tests/_oracle.py), a
cvxpy + Clarabel optimum with penalty factors, and column-rescaling identities.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import _oracle as oracle
from sklearn_normpen import ElasticNetRegressor


def _data(n=80, p=12, seed=0, offset=2.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 10, p) + offset
    w = np.zeros(p)
    w[:4] = [1.5, -2.0, 0.7, 3.0]
    y = X @ w + rng.standard_normal(n) + 5.0
    return X, y


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_sklearn_elastic_net(l1_ratio, fit_intercept, sparse):
    X, y = _data()
    alpha = 0.3
    Xin = sp.csc_matrix(X) if sparse else X
    est = ElasticNetRegressor(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              standardize=False, tol=1e-12, max_iter=100000).fit(Xin, y)
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                     tol=1e-14, max_iter=200000).fit(X, y)
    # as close as the certificate guarantees: with a ridge part the objective is
    # mu = alpha (1 - l1_ratio) strongly convex, ||w - w*||² <= 2 gap / mu (a valid stop
    # at tol=1e-12 of the null deviance, 75 here, allows ~2e-5 at l1_ratio=0.1)
    slack = np.sqrt(2 * est.dual_gap_ / (alpha * (1 - l1_ratio))) if l1_ratio < 1 else 0.0
    assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=max(1e-7, slack))
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)
    # the reported gap is a bound the oracle agrees with (never below the oracle's by much)
    gap = oracle.enet_gap(X, y, est.coef_, est.intercept_, alpha, l1_ratio,
                          fit_intercept=fit_intercept)
    assert 0 <= gap <= est.dual_gap_ + 1e-12 * oracle.null_deviance(X, y,
                                                                    fit_intercept=fit_intercept)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardize_penalty_factor_weights_against_cvxpy(dtype):
    X, y = _data(n=60, p=8, seed=3)
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.2, 3.0, len(y))
    pf = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 1.0, 1.0])
    alpha, rho = 0.05, 0.7
    est = ElasticNetRegressor(alpha=alpha, l1_ratio=rho, penalty_factor=pf,
                              standardize=True, tol=1e-8, max_iter=50000)
    est.fit(X.astype(dtype), y.astype(dtype), sample_weight=sw)
    assert est.coef_.dtype == dtype
    f1, f2, exc = oracle.enet_factors(X, sw, pf, standardize=True)
    Pstar = oracle.reference_optimum_cvxpy(X, y, alpha, rho, sw=sw, pf_l1=f1, pf_l2=f2,
                                           excluded=exc)
    D0 = oracle.null_deviance(X, y, sw)
    P = oracle.enet_primal(X, y, est.coef_.astype(np.float64), est.intercept_, alpha, rho,
                           sw=sw, pf_l1=f1, pf_l2=f2, excluded=exc)
    # float32 coefficients are rounded after the certified solve: allow their rounding
    slack = 1e-8 * D0 if dtype == np.float64 else 1e-5 * D0
    assert P - Pstar <= est.dual_gap_ + slack
    assert est.dual_gap_ <= 1e-8 * D0 * (1 + 1e-6)
    assert est.coef_[1] != 0  # unpenalised feature stays in


def test_standardize_equals_fit_on_scaled_columns():
    X, y = _data(seed=5)
    sd = X.std(axis=0)
    a = ElasticNetRegressor(alpha=0.2, l1_ratio=0.6, tol=1e-12, max_iter=100000).fit(X, y)
    ref = ElasticNet(alpha=0.2, l1_ratio=0.6, tol=1e-14, max_iter=200000).fit(X / sd, y)
    # compared on the standardised scale (small-σ columns magnify the solvers' tolerance)
    assert_allclose(a.coef_ * sd, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
    # on already standardised columns it changes nothing (the default is scale-free)
    Z = StandardScaler().fit_transform(X)
    b = ElasticNetRegressor(alpha=0.2, tol=1e-12, max_iter=100000).fit(Z, y)
    c = ElasticNetRegressor(alpha=0.2, standardize=False, tol=1e-12,
                            max_iter=100000).fit(Z, y)
    assert_allclose(b.coef_, c.coef_, rtol=1e-7, atol=1e-10)


def test_penalty_factor_is_column_rescaling_for_the_lasso():
    X, y = _data(seed=7)
    f = np.linspace(0.5, 3, X.shape[1])
    est = ElasticNetRegressor(alpha=0.1, l1_ratio=1.0, penalty_factor=f, standardize=False,
                              tol=1e-12, max_iter=100000).fit(X, y)
    ref = Lasso(alpha=0.1, tol=1e-14, max_iter=200000).fit(X / f, y)
    assert_allclose(est.coef_, ref.coef_ / f, rtol=1e-5, atol=1e-8)


def test_positive_matches_sklearn():
    X, y = _data(seed=9)
    y = y - 3 * X[:, 1]
    est = ElasticNetRegressor(alpha=0.2, l1_ratio=0.8, positive=True, standardize=False,
                              tol=1e-12, max_iter=100000).fit(X, y)
    ref = ElasticNet(alpha=0.2, l1_ratio=0.8, positive=True, tol=1e-14,
                     max_iter=200000).fit(X, y)
    assert np.all(est.coef_ >= 0) and est.coef_[1] == 0
    assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-8)


def test_warm_start_resumes_from_coef():
    X, y = _data(seed=11)
    cold = ElasticNetRegressor(alpha=0.05, tol=1e-10, max_iter=100000).fit(X, y)
    warm = ElasticNetRegressor(alpha=0.05, tol=1e-10, max_iter=100000, warm_start=True)
    warm.fit(X, y)
    n_first = warm.n_iter_
    warm.fit(X, y)  # already at the optimum: nothing (or almost nothing) to do
    assert warm.n_iter_ < n_first
    assert_allclose(warm.coef_, cold.coef_, rtol=1e-6, atol=1e-9)
    # along a decreasing grid, each warm fit equals the cold one
    for a in (0.04, 0.02):
        warm.set_params(alpha=a).fit(X, y)
        cold = ElasticNetRegressor(alpha=a, tol=1e-10, max_iter=100000).fit(X, y)
        f1, f2, exc = oracle.enet_factors(X, standardize=True)
        P = [oracle.enet_primal(X, y, e.coef_, e.intercept_, a, 0.5, pf_l1=f1, pf_l2=f2,
                                excluded=exc) for e in (warm, cold)]
        assert abs(P[0] - P[1]) <= warm.dual_gap_ + cold.dual_gap_ + 1e-12 * P[1]
        assert_allclose(warm.coef_, cold.coef_, atol=1e-3 * np.abs(cold.coef_).max())


def test_sample_weight_equals_repetition():
    X, y = _data(n=30, p=5, seed=13)
    k = np.random.default_rng(0).integers(1, 4, 30)
    a = ElasticNetRegressor(alpha=0.1, tol=1e-12, max_iter=100000).fit(X, y, k.astype(float))
    b = ElasticNetRegressor(alpha=0.1, tol=1e-12, max_iter=100000).fit(
        np.repeat(X, k, axis=0), np.repeat(y, k))
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-9)
    assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-8)


def test_constant_column_gets_zero_and_in_pipeline_search():
    X, y = _data(seed=15)
    X[:, 3] = 4.0
    est = ElasticNetRegressor(alpha=0.05).fit(X, y)
    assert est.coef_[3] == 0
    gs = GridSearchCV(make_pipeline(StandardScaler(), ElasticNetRegressor()),
                      {"elasticnetregressor__alpha": [0.01, 0.1, 1.0]}, cv=3).fit(X, y)
    assert gs.best_params_["elasticnetregressor__alpha"] in (0.01, 0.1, 1.0)
    import pickle
    c = pickle.loads(pickle.dumps(clone(est).fit(X, y)))
    assert_array_equal(c.predict(X), est.predict(X))


def test_bad_input_and_user_arrays_untouched():
    X, y = _data(seed=17)
    X.setflags(write=False)
    y.setflags(write=False)
    X0 = X.copy()
    ElasticNetRegressor(alpha=0.1).fit(X, y)
    assert_array_equal(X, X0)
    with pytest.raises(ValueError, match="penalty_factor"):
        ElasticNetRegressor(penalty_factor=[1.0, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="penalty_factor"):
        ElasticNetRegressor(penalty_factor=-np.ones(X.shape[1])).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        ElasticNetRegressor(alpha=0.0).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetRegressor(l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match="precompute"):
        ElasticNetRegressor(precompute="yes").fit(X, y)
