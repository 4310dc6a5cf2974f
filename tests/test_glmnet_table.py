"""Every line of the user guide's "Coming from glmnet" table (issue 12 item 8), checked.

Independent references: scikit-learn's Lasso, NumPy formulas written here, the R glmnet
fixtures of tests/fixtures (dfmax/pmax, df along the path)."""
import logging

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Lasso
from sklearn.model_selection import PredefinedSplit

from sklearn_normpen import ElasticNetPathCV, ElasticNetRegressor, enet_path

from test_dfmax_pmax import PATHS, X_R, Y_R


def _data(n=80, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * [1.0, 3.0, 0.5, 2.0, 1.0, 1.5]
    y = X @ [1.5, -0.5, 2.0, 0.0, 0.3, 0.0] + 3.0 + rng.standard_normal(n)
    return X, y


def test_glmnet_call_is_enet_path_with_standardize():
    # the R fixture's unlimited paths: glmnet's df at every lambda, lasso and a = 0.5;
    # standardize=True is the default (the table's line), equal to passing it
    for case in (1, 5):
        r = PATHS[PATHS["case"] == case]
        kw = dict(l1_ratio=float(r["l1_ratio"][0]), alphas=r["lambda"], fit_intercept=True,
                  tol=1e-12, max_iter=100000)
        _, c, _ = enet_path(X_R, Y_R, **kw)
        assert_array_equal((c != 0).sum(axis=0), r["df"].astype(int))
        assert_array_equal(c, enet_path(X_R, Y_R, standardize=True, **kw)[1])


def test_penalty_factor_rescaling():
    X, y = _data()
    f = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0])
    glmnet_f = lambda g: g * len(g) / g.sum()  # noqa: E731  (glmnet's rescaling)
    kw = dict(alpha=0.1, l1_ratio=1.0, standardize=False, tol=1e-12, max_iter=100000)
    a = ElasticNetRegressor(penalty_factor=glmnet_f(f), **kw).fit(X, y)
    b = ElasticNetRegressor(penalty_factor=glmnet_f(7 * f), **kw).fit(X, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-10)  # glmnet is blind to the scale of f
    g = glmnet_f(f)
    ref = Lasso(alpha=0.1, tol=1e-14, max_iter=200000).fit(X / g, y)  # factor = rescaling
    assert_allclose(a.coef_, ref.coef_ / g, rtol=1e-6, atol=1e-9)


def test_limits_and_lower_limits_zero_is_positive():
    X, y = _data()
    y = y - 2 * X[:, 2]
    est = ElasticNetRegressor(alpha=0.05, l1_ratio=1.0, positive=True, standardize=False,
                              tol=1e-12, max_iter=100000).fit(X, y)
    ref = Lasso(alpha=0.05, positive=True, tol=1e-14, max_iter=200000).fit(X, y)
    assert np.all(est.coef_ >= 0)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    lim = ElasticNetRegressor(alpha=0.05, l1_ratio=1.0, lower_limits=0, standardize=False,
                              tol=1e-12, max_iter=100000).fit(X, y)
    assert_allclose(lim.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    # upper.limits: the capped lasso solves the bound-constrained problem (KKT checked here)
    cap = ElasticNetRegressor(alpha=0.05, l1_ratio=1.0, upper_limits=0.5, standardize=False,
                              tol=1e-12, max_iter=100000).fit(X, y)
    z = X.T @ (y - X @ cap.coef_ - cap.intercept_) / len(y)
    at = cap.coef_ == 0.5
    assert at.any() and np.all(z[at] >= 0.05 - 1e-8)  # pushing against the cap
    free = (cap.coef_ != 0) & ~at
    assert_allclose(z[free], 0.05 * np.sign(cap.coef_[free]), atol=1e-7)


def test_exclude_is_zero_based():
    X, y = _data()
    j_r = np.array([2, 5])  # glmnet's 1-based indices
    est = ElasticNetRegressor(alpha=0.1, exclude=j_r - 1).fit(X, y)
    assert est.coef_[1] == 0 and est.coef_[4] == 0


def test_dfmax_pmax_stop_like_glmnet():
    r = PATHS[PATHS["case"] == 1]  # dfmax=3 on glmnet's lasso path
    with pytest.warns(UserWarning, match="dfmax reached"):
        a, _, _ = enet_path(X_R, Y_R, l1_ratio=1.0, alphas=r["lambda"], fit_intercept=True,
                            standardize=True, dfmax=3, tol=1e-12, max_iter=100000)
    assert len(a) == int(r["n_kept"][0])


def test_weights_foldid_keep_cvm_and_accessors():
    X, y = _data(n=60)
    rng = np.random.default_rng(1)
    v = rng.uniform(0.5, 2, 60)
    foldid = np.tile([1, 2, 3, 4, 5], 12)  # glmnet's 1-based fold ids
    est = ElasticNetPathCV(l1_ratio=1.0, alphas=15, cv=PredefinedSplit(foldid - 1),
                           keep=True).fit(X, y, sample_weight=v)
    assert_array_equal(est.fold_ids_, foldid - 1)
    # cvm / cvsd from the per-fold errors, glmnet's weighted formulas written out here
    W = np.array([v[foldid == k].sum() for k in range(1, 6)])
    e = est.mse_path_
    cvm = e @ W / W.sum()
    cvsd = np.sqrt(((e - cvm[:, None]) ** 2) @ W / W.sum() / 4)
    assert_allclose(est.cv_mean_, cvm, rtol=1e-12)
    assert_allclose(est.cv_se_, cvsd, rtol=1e-10)
    i_min = int(np.flatnonzero(cvm == cvm.min())[0])
    assert est.alpha_min_ == est.alphas_[i_min]
    # fit.preval: the held-out predictions that give mse_path_
    k = 2
    te = foldid - 1 == k
    err = v[te] @ (y[te, None] - est.oof_predictions_[te]) ** 2 / v[te].sum()
    assert_allclose(err, e[:, k], rtol=1e-12)
    # coef(fit, s=) / predict(fit, newx, s=): exact at grid points, glmnet-interpolated
    s_mid = 0.5 * (est.alphas_[4] + est.alphas_[5])
    assert_allclose(est.coef_at(s_mid), 0.5 * (est.coef_path_[:, 4] + est.coef_path_[:, 5]))
    assert_allclose(est.predict_at(X, "min"), X @ est.coef_path_[:, i_min]
                    + est.intercept_path_[i_min], rtol=1e-12)
    assert_array_equal(est.coef_at("1se"), est.coef_path_[:, list(est.alphas_).index(
        est.alpha_1se_)])


def test_print_is_path_summary(capsys):
    X, y = _data()
    est = ElasticNetPathCV(alphas=10, cv=3).fit(X, y)
    tab = est.path_summary()
    assert_array_equal(tab["n_nonzero"], (est.coef_path_ != 0).sum(0))  # Df
    r2 = 1 - ((y[:, None] - X @ est.coef_path_ - est.intercept_path_) ** 2).sum(0) \
        / ((y - y.mean()) ** 2).sum()
    assert_allclose(tab["dev_ratio"], r2, rtol=1e-9, atol=1e-12)  # %Dev / 100
    est.print_path()
    assert "alpha_1se=" in capsys.readouterr().out


def test_trace_it_is_logging(caplog):
    X, y = _data()
    with caplog.at_level(logging.INFO, logger="sklearn_normpen"):
        ElasticNetPathCV(alphas=5, cv=3).fit(X, y)
    assert sum("CV fold" in r.getMessage() for r in caplog.records) == 3
    # verbose=1: the same lines for this fit only (caplog's root handler shows them)
    caplog.clear()
    ElasticNetPathCV(alphas=5, cv=3, verbose=1).fit(X, y)
    assert sum("CV fold" in r.getMessage() for r in caplog.records) == 3


def test_cv_glmnet_pmax_line():
    # the table's cv.glmnet(pmax=) line: R's cvm, lambda.min and lambda.1se (the full
    # comparison, dfmax included, is tests/test_cv_dfmax_pmax.py)
    from test_cv_dfmax_pmax import _fit_like_r

    head, limits, cols, grid, est = _fit_like_r(1)
    assert limits == {"pmax": 6} and est.path_stop_reason_ == "pmax"
    assert_allclose(est.cv_mean_, cols["cvm"], rtol=1e-6)
    assert est.alpha_min_ == pytest.approx(float(head["lambda_min"]), rel=1e-12)
    assert est.alpha_1se_ == pytest.approx(float(head["lambda_1se"]), rel=1e-12)
