"""coef_at / intercept_at / predict_at / path_summary of the path-CV estimators (issue 12,
items 1-2), against independent references: scikit-learn's ElasticNet / Lasso refits at the
same alpha (same objective), the lasso path's exact piecewise linearity, NumPy deviance
ratios and counts written here, and scikit-learn's r2_score.
"""
import io
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from sklearn_normpen import ElasticNetPathCV, GroupLassoPathCV, GroupLassoRegressor

GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7, 8, 9]]


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def enet_multi(diabetes):
    X, y = diabetes
    return ElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=40, cv=KFold(5, shuffle=True,
                                                                  random_state=0),
                            tol=1e-10, max_iter=20000, standardize=False).fit(X, y)


def _objective(X, y, w, b, alpha, rho):
    r = y - X @ w - b
    return 0.5 * np.mean(r * r) + alpha * (rho * np.abs(w).sum()
                                           + 0.5 * (1 - rho) * (w @ w))


def _sk_refit(X, y, alpha, l1_ratio):
    ref = (Lasso(alpha=alpha, tol=1e-12, max_iter=100000) if l1_ratio == 1 else
           ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100000))
    return ref.fit(X, y)


@pytest.mark.parametrize("which", ["min", "1se"])
def test_named_alphas_equal_a_refit(enet_multi, diabetes, which):
    X, y = diabetes
    est = enet_multi
    alpha = est.alpha_min_ if which == "min" else est.alpha_1se_
    ref = _sk_refit(X, y, alpha, est.l1_ratio_)
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_at(which), ref.coef_, atol=1e-6 * scale)
    assert est.intercept_at(which) == pytest.approx(ref.intercept_, rel=1e-7)
    assert_allclose(est.predict_at(X, which), ref.predict(X), rtol=1e-7)
    # the chosen model is the "min" one (rule="min"): bit for bit, no refit
    assert_array_equal(est.coef_at("min"), est.coef_)
    assert_array_equal(est.predict_at(X, est.alpha_), est.predict(X))


def test_every_l1_ratio_kept_with_its_own_choices(enet_multi, diabetes):
    X, y = diabetes
    est = enet_multi
    K, p = est.alphas_.shape[1], X.shape[1]
    assert est.alphas_.shape == (2, K)
    assert est.coef_path_.shape == (2, p, K)
    assert est.intercept_path_.shape == est.dual_gap_path_.shape == (2, K)
    assert est.n_iter_path_.shape == est.kkt_violation_path_.shape == (2, K)
    for row, rho in enumerate([0.5, 1.0]):
        # the row's own lambda_min by the rule written out here (largest alpha at the min)
        mean = est.cv_mean_[row]
        i_min = np.flatnonzero(mean == mean.min())[0]
        a = est.alphas_[row, i_min]
        assert_array_equal(est.coef_at("min", l1_ratio=rho), est.coef_path_[row, :, i_min])
        ref = _sk_refit(X, y, a, rho)
        # diabetes is ill-conditioned at small alphas: compare objectives, bounded by the
        # certified gap of the stored point, and the coefficients loosely
        ours = _objective(X, y, est.coef_at(a, l1_ratio=rho), est.intercept_at(a, rho), a,
                          rho)
        theirs = _objective(X, y, ref.coef_, ref.intercept_, a, rho)
        assert ours - theirs <= est.dual_gap_path_[row, i_min] + 1e-9 * theirs
        assert_allclose(est.coef_at(a, l1_ratio=rho), ref.coef_,
                        atol=1e-4 * np.abs(ref.coef_).max())
        # a grid point of the row: that column exactly
        j = K // 3
        assert_array_equal(est.coef_at(est.alphas_[row, j], l1_ratio=rho),
                           est.coef_path_[row, :, j])
    # single-ratio shapes are unchanged
    one = ElasticNetPathCV(alphas=10, cv=3, standardize=False).fit(X, y)
    assert one.coef_path_.shape == (p, 10) and one.intercept_path_.shape == (10,)


def test_interpolation_is_glmnets_rule_and_exact_where_the_lasso_path_is_linear(diabetes):
    X, y = diabetes
    est = ElasticNetPathCV(l1_ratio=1.0, alphas=30, cv=3, tol=1e-12,
                           max_iter=50000, standardize=False).fit(X, y)
    A, C, B = est.alphas_, est.coef_path_, est.intercept_path_
    checked = 0
    for j in range(1, len(A)):
        a = 0.3 * A[j - 1] + 0.7 * A[j]
        # glmnet's lambda.interp: linear in lambda between the neighbouring grid points
        f = (a - A[j]) / (A[j - 1] - A[j])
        assert_allclose(est.coef_at(a), f * C[:, j - 1] + (1 - f) * C[:, j], rtol=1e-12,
                        atol=1e-14)
        assert est.intercept_at(a) == pytest.approx(f * B[j - 1] + (1 - f) * B[j])
        # the lasso path is linear in alpha while the signed active set is unchanged:
        # there interpolation is the exact solution (an independent refit agrees)
        if np.array_equal(np.sign(C[:, j - 1]), np.sign(C[:, j])) and checked < 4:
            ref = _sk_refit(X, y, a, 1.0)
            assert_allclose(est.coef_at(a), ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
            checked += 1
    assert checked == 4
    # an array of alphas: one column each, the same values
    arr = [A[3], 0.5 * (A[5] + A[6])]
    M = est.coef_at(arr)
    assert M.shape == (X.shape[1], 2)
    assert_array_equal(M[:, 0], C[:, 3])
    assert_allclose(M[:, 1], est.coef_at(arr[1]))
    P = est.predict_at(X[:7], arr)
    assert P.shape == (7, 2)
    assert_allclose(P[:, 1], X[:7] @ M[:, 1] + est.intercept_at(arr[1]), rtol=1e-12)


def test_group_lasso_accessors_equal_refit(diabetes):
    X, y = diabetes
    est = GroupLassoPathCV(groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=20, cv=3,
                           tol=1e-10).fit(X, y)
    p, K = X.shape[1], 20
    assert est.coef_path_.shape == (2, p, K) and est.alphas_.shape == (2, K)
    for rho in (0.0, 0.5):
        for which in ("min", "1se"):
            row = [0.0, 0.5].index(rho)
            w = est.coef_at(which, l1_ratio=rho)
            k = int(np.flatnonzero(np.all(est.coef_path_[row] == w[:, None], axis=0))[0])
            ref = GroupLassoRegressor(groups=GROUPS, alpha=est.alphas_[row, k],
                                      l1_ratio=rho, tol=1e-12, max_iter=100000).fit(X, y)
            assert_allclose(w, ref.coef_, atol=1e-5 * np.abs(ref.coef_).max())
            assert est.intercept_at(which, l1_ratio=rho) == pytest.approx(ref.intercept_,
                                                                           rel=1e-6)
    assert_array_equal(est.predict_at(X, "min"), est.predict(X))  # rule="min"
    tab = est.path_summary(l1_ratio=0.0)
    counts = [sum(bool(np.any(est.coef_path_[0][g, k] != 0)) for g in GROUPS)
              for k in range(K)]
    assert_array_equal(tab["n_nonzero_groups"], counts)


def test_float32_sparse_and_dtype(diabetes):
    X, y = diabetes
    X32 = sp.csc_matrix(X.astype(np.float32))
    est = ElasticNetPathCV(alphas=10, cv=3).fit(X32, y.astype(np.float32))
    c = est.coef_at(0.5 * (est.alphas_[2] + est.alphas_[3]))
    assert c.dtype == np.float32
    assert est.predict_at(X32, "1se").dtype == np.float32


def test_bad_alpha_and_l1_ratio(enet_multi, diabetes):
    X, _ = diabetes
    est = enet_multi
    top = est.alphas_[1, 0]
    with pytest.raises(ValueError, match="alpha=.*outside the fitted path"):
        est.coef_at(top * 1.01)
    with pytest.raises(ValueError, match="alpha=.*outside the fitted path"):
        est.predict_at(X, est.alphas_[1, -1] * 0.5)
    with pytest.raises(ValueError, match="alpha must be"):
        est.coef_at("best")
    with pytest.raises(ValueError, match="alpha must be"):
        est.intercept_at([np.nan])
    with pytest.raises(ValueError, match="l1_ratio=0.7 was not cross-validated"):
        est.coef_at("min", l1_ratio=0.7)
    with pytest.raises(ValueError, match="n_features|features"):
        est.predict_at(X[:, :3], "min")
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        ElasticNetPathCV().coef_at("min")


def test_path_summary_against_numpy(enet_multi, diabetes, monkeypatch):
    X, y = diabetes
    est = enet_multi
    row = 1 if est.l1_ratio_ == 1.0 else 0
    tab = est.path_summary()
    C, B = est.coef_path_[row], est.intercept_path_[row]
    assert_array_equal(tab["alpha"], est.alphas_[row])
    assert_array_equal(tab["n_nonzero"], (C != 0).sum(axis=0))
    # dev_ratio is the training R² with an intercept and unit weights
    r2 = [r2_score(y, X @ C[:, k] + B[k]) for k in range(C.shape[1])]
    assert_allclose(tab["dev_ratio"], r2, rtol=1e-9, atol=1e-12)
    assert_array_equal(tab["cv_mean"], est.cv_mean_[row])
    assert_array_equal(tab["cv_se"], est.cv_se_[row])
    # without pandas: a structured array with the same columns
    monkeypatch.setitem(sys.modules, "pandas", None)
    arr = est.path_summary()
    assert isinstance(arr, np.ndarray) and arr.dtype.names[0] == "alpha"
    assert_array_equal(arr["n_nonzero"], (C != 0).sum(axis=0))
    buf = io.StringIO()
    est.print_path(file=buf)
    text = buf.getvalue()
    assert "alpha_min=" in text and "min" in text and "1se" in text
    assert len(text.splitlines()) == 2 + est.alphas_.shape[1]
    # the estimator's repr stays scikit-learn's parameter repr
    assert repr(est).startswith("ElasticNetPathCV(")


def test_dev_ratio_with_weights_and_no_intercept(diabetes):
    X, y = diabetes
    sw = np.random.default_rng(0).uniform(0.2, 3, len(y))
    est = ElasticNetPathCV(alphas=8, cv=3, fit_intercept=False).fit(X, y, sample_weight=sw)
    C = est.coef_path_
    rss = sw @ (y[:, None] - X @ C) ** 2
    assert_allclose(est.dev_ratio_path_, 1 - rss / (sw @ y ** 2), rtol=1e-9)


# ---------------------------------------------------------------------------------------
# Out-of-fold predictions (keep=True, glmnet's keep=TRUE)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("Est, kw", [
    (ElasticNetPathCV, dict(l1_ratio=[0.5, 1.0])),
    (GroupLassoPathCV, dict(groups=GROUPS, l1_ratio=0.5)),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_oof_predictions_reproduce_mse_path(diabetes, Est, kw, weighted):
    X, y = diabetes
    sw = np.random.default_rng(2).uniform(0.5, 2, len(y)) if weighted else None
    cv = KFold(4, shuffle=True, random_state=1)
    est = Est(alphas=12, cv=cv, keep=True, **kw).fit(X, y, sample_weight=sw)
    multi = np.ndim(kw["l1_ratio"]) > 0
    oof = est.oof_predictions_ if multi else est.oof_predictions_[None]
    mse = est.mse_path_ if multi else est.mse_path_[None]
    assert oof.shape == (mse.shape[0], len(y), 12)
    # the folds used are cv's, recorded per sample
    for k, (_, te) in enumerate(cv.split(X)):
        assert np.all(est.fold_ids_[te] == k)
        s = np.ones(len(te)) if sw is None else sw[te]
        sq = (y[None, te, None] - oof[:, te, :]) ** 2  # (n_paths, n_test, n_alphas)
        err = np.einsum("i,pia->pa", s, sq) / s.sum()
        assert_allclose(err, mse[..., k], rtol=1e-12)
    # and each fold's predictions are those of an independent fit on its training rows
    k0_train, k0_test = next(iter(cv.split(X)))
    row = 0
    ref = Est(alphas=est.alphas_[row] if multi else est.alphas_, cv=3,
              **{**kw, "l1_ratio": (kw["l1_ratio"][row] if multi else kw["l1_ratio"])},
              tol=1e-4).fit(X[k0_train], y[k0_train],
                            sample_weight=None if sw is None else sw[k0_train])
    j = 6
    assert_allclose(oof[row, k0_test, j], ref.predict_at(X[k0_test], ref.alphas_[j]),
                    rtol=1e-6, atol=1e-6 * np.abs(y).max())


def test_keep_rejects_overlapping_splits_and_is_off_by_default(diabetes):
    X, y = diabetes
    from sklearn.model_selection import ShuffleSplit
    with pytest.raises(ValueError, match="keep=True"):
        ElasticNetPathCV(alphas=5, cv=ShuffleSplit(3, test_size=0.5, random_state=0),
                         keep=True).fit(X, y)
    est = ElasticNetPathCV(alphas=5, cv=3).fit(X, y)
    assert not hasattr(est, "oof_predictions_") and not hasattr(est, "fold_ids_")
