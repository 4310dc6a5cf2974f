"""``enet_path(family="multinomial")`` (glmnet's ungrouped multinomial path) and the
per-class working sets of the multinomial solver: against R glmnet 4.1 fixtures, the
classifier's own path, and independent NumPy duality gaps (tests/test_multinomial.py)."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_normpen import ElasticNetClassifierPathCV, enet_path

from test_multinomial import _data, _load, _oracle_gap

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "glmnet_multinomial")


def _entropy(y, sw=None):
    sw = np.ones(y.size) if sw is None else np.asarray(sw, float)
    share = np.bincount(y, weights=sw) / sw.sum()
    return -share @ np.log(share)


def test_matches_glmnet_path():
    """glmnet's ungrouped path (standardize=FALSE, l1_ratio 0.5) on its own lambdas."""
    X, y = _load("X.csv"), _load("y.csv").astype(int)
    lam = _load("lambda_U.csv")
    n, p = X.shape
    C = _load("coef_U.csv").reshape(3, p + 1, -1)
    a, coefs, gaps = enet_path(X, y, family="multinomial", alphas=lam, l1_ratio=0.5,
                               standardize=False, tol=1e-12, max_iter=100000,
                               fit_intercept=True)
    assert coefs.shape == (3, p, lam.size)
    np.testing.assert_allclose(a, np.sort(lam)[::-1])
    np.testing.assert_allclose(coefs, C[:, 1:, :], atol=5e-6)
    assert np.all(gaps >= -1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_equals_estimator_path_and_independent_gap(sparse, rho):
    """The same path as ElasticNetClassifierPathCV's full-data path, each point within tol
    of the optimum by the independent gap (with the estimator's intercepts). Standardised
    for the lasso only (the oracle takes one factor, σ_j; the elastic net's l2 part would
    need σ_j²)."""
    std = rho == 1.0
    X, y = _data(n=150, p=30, K=4, seed=3)
    X[:, 5] *= 1e3 if std else 3.0  # a badly scaled column: standardize must handle it
    sw = np.random.default_rng(1).uniform(0.5, 2.0, y.size)
    Xf = sp.csc_matrix(X) if sparse else X
    tol = 1e-6
    a, coefs, gaps = enet_path(Xf, y, family="multinomial", n_alphas=15, eps=1e-2,
                               l1_ratio=rho, standardize=std, tol=tol,
                               sample_weight=sw, fit_intercept=True)
    est = ElasticNetClassifierPathCV(l1_ratio=rho, alphas=a, cv=2, tol=tol,
                                     standardize=std).fit(Xf, y, sample_weight=sw)
    np.testing.assert_allclose(est.alphas_, a)
    np.testing.assert_allclose(est.coef_path_, coefs, rtol=1e-10, atol=1e-12)
    nd = _entropy(y, sw)
    f = (np.sqrt(np.average((X - np.average(X, axis=0, weights=sw)) ** 2, axis=0,
                            weights=sw)) if std else None)
    assert np.count_nonzero(coefs[..., 0]) == 0 and np.count_nonzero(coefs[..., -1]) > 10
    for k, alpha in enumerate(a):
        og = _oracle_gap(X, y, coefs[..., k].T, est.intercept_path_[:, k], alpha, rho,
                         sw, f)
        assert -1e-12 <= og <= tol * nd * 1.01 + 1e-12, (k, og, tol * nd)
        assert gaps[k] <= tol * nd * 1.0001


def test_working_sets_on_a_wide_problem_and_float32():
    """p >> active: the per-class working sets hold few columns; every point is still
    certified over all features (independent gap), float32 in -> float32 out."""
    X, y = _data(n=120, p=400, K=3, seed=5, scale=2.0)
    tol = 1e-5
    a, c64, _ = enet_path(X, y, family="multinomial", n_alphas=20, eps=5e-2, l1_ratio=1.0,
                          standardize=False, tol=tol, fit_intercept=True)
    a32, c32, _ = enet_path(X.astype(np.float32), y, family="multinomial", alphas=a,
                            l1_ratio=1.0, standardize=False, tol=tol,
                            fit_intercept=True)
    assert c32.dtype == np.float32 and c64.dtype == np.float64
    est = ElasticNetClassifierPathCV(l1_ratio=1.0, alphas=a, cv=2, tol=tol,
                                     standardize=False).fit(X, y)
    nd = _entropy(y)
    for k, alpha in enumerate(a):
        og = _oracle_gap(X, y, c64[..., k].T, est.intercept_path_[:, k], alpha, 1.0)
        assert og <= tol * nd * 1.01 + 1e-12
    assert 0 < np.count_nonzero(np.any(c64[..., -1] != 0, axis=0)) < 100
    # the float32 path solves the same problem to the same tol (coefficients close)
    np.testing.assert_allclose(c32, c64, atol=2e-2 * np.abs(c64).max())


def test_without_intercept():
    """enet_path's default (scikit-learn's): no intercepts; the independent gap with b = 0."""
    X, y = _data(n=100, p=8, K=3, seed=4)
    X += 0.5  # (non-centred columns: the intercept would matter)
    a, c, _ = enet_path(X, y, family="multinomial", n_alphas=8, eps=1e-2, l1_ratio=0.7,
                        tol=1e-7, standardize=False)
    nd = np.log(3.0)  # the null model without intercept: uniform probabilities
    for k, alpha in enumerate(a):
        og = _oracle_gap(X, y, c[..., k].T, np.zeros(3), alpha, 0.7, intercept=False)
        assert -1e-12 <= og <= 1e-7 * nd * 1.01 + 1e-12


def test_dfmax_and_errors():
    X, y = _data(n=100, p=12, K=3, seed=2)
    a, c, _ = enet_path(X, y, family="multinomial", n_alphas=30, dfmax=3,
                        fit_intercept=True)
    assert len(a) < 30
    assert np.count_nonzero(np.any(c[..., -2] != 0, axis=0)) <= 3
    with pytest.raises(ValueError, match="at least 3 classes"):
        enet_path(X, y % 2, family="multinomial")
    with pytest.raises(ValueError, match="exclude is not supported"):
        enet_path(X, y, family="multinomial", exclude=[0])
    with pytest.raises(ValueError, match="coef_init is not supported"):
        enet_path(X, y, family="multinomial", coef_init=np.zeros(12))
    with pytest.raises(ValueError, match="multinomial"):
        from sklearn_normpen import group_lasso_path
        group_lasso_path(X, y, groups=[[0, 1], [2, 3]], family="multinomial")
    Xc = X.copy()
    enet_path(X, y, family="multinomial", n_alphas=3)
    np.testing.assert_array_equal(X, Xc)  # user arrays never written to
