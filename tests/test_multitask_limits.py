"""glmnet's dfmax / pmax / exclude on the multi-response Gaussian family
(multitask_enet_path, MultiTaskElasticNetRegressor, MultiTaskElasticNetPathCV), checked
against the unlimited path and scikit-learn's MultiTaskElasticNet."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import MultiTaskElasticNet

from sklearn_normpen import (MultiTaskElasticNetPathCV, MultiTaskElasticNetRegressor,
                             enet_path, multitask_enet_path)


def _data(n=80, p=12, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, K))
    B[:6] = rng.standard_normal((6, K)) * np.linspace(2, 0.3, 6)[:, None]
    return X, X @ B + 0.5 * rng.standard_normal((n, K))


def _rows(coefs):
    """(n_alphas,) boolean masks of the non-zero feature rows, from (K, p, n_alphas)."""
    return [np.any(coefs[:, :, k] != 0, axis=0) for k in range(coefs.shape[-1])]


def test_dfmax_and_pmax_cut_the_unlimited_path_where_glmnet_does():
    X, Y = _data()
    kw = dict(l1_ratio=0.8, n_alphas=40, tol=1e-8)
    a_all, c_all, _ = multitask_enet_path(X, Y, **kw)
    rows = _rows(c_all)
    # dfmax: from the 5th point on, the first point with more than dfmax rows is the last
    dfmax = 3
    end = next(k for k in range(4, len(rows)) if rows[k].sum() > dfmax) + 1
    with pytest.warns(UserWarning, match="dfmax"):
        a, c, _ = multitask_enet_path(X, Y, dfmax=dfmax, **kw)
    assert len(a) == end < 40
    np.testing.assert_allclose(c, c_all[..., :end], atol=1e-12)
    # pmax: the path ends before the first point at which more than pmax rows were ever in
    pmax = 4
    ever = np.logical_or.accumulate(np.array(rows), axis=0).sum(axis=1)
    end = int(np.argmax(ever > pmax))
    with pytest.warns(UserWarning, match="pmax"):
        a, c, _ = multitask_enet_path(X, Y, pmax=pmax, **kw)
    assert len(a) == end
    np.testing.assert_allclose(c, c_all[..., :end], atol=1e-12)
    with pytest.warns(UserWarning, match="dfmax"):
        a2, c2, _ = enet_path(X, Y, family="mgaussian", dfmax=dfmax, **kw)
    with pytest.warns(UserWarning, match="dfmax"):
        _, c3, _ = multitask_enet_path(X, Y, dfmax=dfmax, **kw)
    np.testing.assert_array_equal(c2, c3)


def test_exclude_is_the_fit_without_the_columns():
    X, Y = _data(seed=1)
    excl = [0, 4]
    keep = np.setdiff1d(np.arange(X.shape[1]), excl)
    est = MultiTaskElasticNetRegressor(alpha=0.05, l1_ratio=0.7, standardize=False,
                                       exclude=excl, tol=1e-12, max_iter=100000).fit(X, Y)
    ref = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-12,
                              max_iter=100000).fit(X[:, keep], Y)
    assert np.all(est.coef_[:, excl] == 0)
    np.testing.assert_allclose(est.coef_[:, keep], ref.coef_, atol=1e-7)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-7)
    mask = np.zeros(X.shape[1], bool)
    mask[excl] = True
    a, c, _ = multitask_enet_path(X, Y, exclude=mask, n_alphas=8, fit_intercept=True,
                                  tol=1e-10)
    a_ref, c_ref, _ = multitask_enet_path(X[:, keep], Y, alphas=a, fit_intercept=True,
                                          tol=1e-10)
    assert np.all(c[:, excl] == 0)
    np.testing.assert_allclose(c[:, keep], c_ref, atol=1e-7)


def test_path_cv_dfmax_sets_the_folds_grid_and_exclude():
    X, Y = _data(seed=2)
    cv = MultiTaskElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=30, cv=3, dfmax=3,
                                   exclude=[5], tol=1e-8).fit(X, Y)
    L = cv.alphas_.shape[1]
    assert L < 30 and cv.path_stop_reason_ == "dfmax"
    assert cv.mse_path_.shape == (2, L, 3)
    assert cv.coef_path_.shape == (2, Y.shape[1], X.shape[1], L)
    assert cv.intercept_path_.shape == (2, Y.shape[1], L)
    assert np.all(cv.coef_path_[:, :, 5] == 0) and np.all(cv.coef_[:, 5] == 0)
    # each full-data path is the path function's with the same limit (the one that did
    # not stop is cut to the length of the one that did)
    for i, r in enumerate([0.5, 1.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            a, c, _ = multitask_enet_path(X, Y, l1_ratio=r, alphas=cv.alphas_[i], dfmax=3,
                                          exclude=[5], fit_intercept=True, tol=1e-8)
        n = min(len(a), L)
        np.testing.assert_allclose(c[..., :n], cv.coef_path_[i][..., :n], atol=1e-6)
    with pytest.raises(ValueError, match="dfmax"):
        multitask_enet_path(X, Y, dfmax=0)
