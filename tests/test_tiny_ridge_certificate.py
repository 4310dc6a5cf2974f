"""The elastic-net certificate when the ridge part is tiny against the data (y ~ 1e-40, or X
and y both ~ 1e-70): the conjugate ``(|z| - l1)_+²/(2 l2)`` of the plain dual point turns
rounding-size excesses into a gap far above the target, so the certificate also scales the
dual point into every feature's l1 ball (conjugate 0) and keeps the better bound."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lasso_path

from sklearn_normpen import enet_path
from sklearn_normpen._kernels import _cd_enet


def _data(n=300, p=8, seed=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("positive", [False, True])
def test_kernel_second_scaling_equals_numpy(positive):
    rng = np.random.default_rng(0)
    p, alpha = 40, 0.3
    w = np.where(rng.random(p) < 0.4, rng.standard_normal(p), 0.0)
    z, zp = rng.standard_normal(p), rng.standard_normal(p)
    L1 = rng.uniform(0.2, 2.0, p)
    L2 = np.where(rng.random(p) < 0.7, rng.uniform(0.1, 1.0, p), 0.0)  # some pure-l1
    L1[3], L2[3] = np.inf, 0.0  # an excluded feature
    ridge = np.flatnonzero((L2 > 0) & np.isfinite(L1)).astype(np.intc)
    box = (L2 == 0) & np.isfinite(L1)
    inv_box = np.where(box, 1.0 / L1, 0.0)
    inside = 1 - 1e-15
    value, t, conj, kkt, t2, conj2 = _cd_enet.enet_terms(w, z, zp, L1, L2, inv_box, ridge,
                                                          alpha, positive, inside)
    a = np.maximum(zp, 0) if positive else np.abs(zp)
    m = np.max(a[box] / (alpha * L1[box]), initial=0.0)
    t_ref = 1.0 if m <= 1 else inside / m
    m2 = np.max(a[ridge] / (alpha * L1[ridge]))
    t2_ref = t_ref if m2 * t_ref <= 1 else inside / m2
    e = np.maximum(t2_ref * a[ridge] - alpha * L1[ridge], 0)
    assert t == pytest.approx(t_ref, rel=1e-14)
    assert t2 == pytest.approx(t2_ref, rel=1e-14) and t2 <= t
    assert np.all(t2 * a[ridge] <= alpha * L1[ridge] * (1 + 1e-15))
    assert conj2 == pytest.approx(np.sum(e * e / (2 * alpha * L2[ridge])), abs=1e-30)
    e1 = np.maximum(t_ref * a[ridge] - alpha * L1[ridge], 0)
    assert conj == pytest.approx(np.sum(e1 * e1 / (2 * alpha * L2[ridge])), rel=1e-12)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("l1_ratio", [0.5, 0.99])
def test_tiny_y_is_certified_and_is_the_lasso(precompute, l1_ratio):
    # y' = s·y with s = 1e-40: w' = s·w solves the problem of (X, y) with alpha·l1/s on the
    # l1 part and alpha·(1 - l1) on the ridge part, i.e. the lasso to 40 digits
    X, y = _data()
    s = 1e-40
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    amax = np.max(np.abs(Xc.T @ yc)) / len(y)
    alphas = amax * np.geomspace(1, 1e-3, 20) * s / l1_ratio
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, coefs, gaps = enet_path(X, y * s, l1_ratio=l1_ratio, alphas=alphas, tol=1e-10,
                                   fit_intercept=True, standardize=False,
                                   precompute=precompute, max_iter=100000)
    assert np.all(np.isfinite(gaps))
    _, ref, _ = lasso_path(Xc, yc, alphas=alphas * l1_ratio / s, tol=1e-14, max_iter=100000)
    np.testing.assert_allclose(coefs / s, ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype, sx, sy", [(np.float64, 1e-70, 1e-70),
                                           (np.float64, 1e90, 1e-90),
                                           (np.float32, 1e-9, 1e-9),
                                           (np.float32, 1.0, 1e-11),
                                           (np.float32, 1e11, 1e-11)])
@pytest.mark.parametrize("precompute", [True, False])
def test_extreme_scales_are_certified(dtype, sx, sy, precompute):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        enet_path((X * sx).astype(dtype), (y * sy).astype(dtype), l1_ratio=0.9,
                  n_alphas=15, tol=1e-4, fit_intercept=True, precompute=precompute)


def test_multitask_tiny_y_is_certified_and_is_the_multitask_lasso():
    # the row-norm elastic net: the same second scaling (MultiTaskElasticNetPenalty.terms)
    from sklearn.linear_model import MultiTaskLasso

    from sklearn_normpen import multitask_enet_path
    X, _ = _data()
    rng = np.random.default_rng(1)
    Y = X[:, :3] @ rng.standard_normal((3, 2)) + rng.standard_normal((len(X), 2))
    s, l1_ratio = 1e-40, 0.5
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    amax = np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / len(X)
    alphas = amax * np.array([0.5, 0.1, 0.01]) * s / l1_ratio
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, coefs, _ = multitask_enet_path(X, Y * s, l1_ratio=l1_ratio, alphas=alphas,
                                          tol=1e-10, fit_intercept=True, standardize=False,
                                          max_iter=100000)
    for k, a in enumerate(alphas):
        ref = MultiTaskLasso(alpha=a * l1_ratio / s, fit_intercept=False, tol=1e-12,
                             max_iter=100000).fit(Xc, Yc).coef_  # (responses, features)
        np.testing.assert_allclose(coefs[..., k] / s, ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("precompute", [True, False])
def test_huge_x_and_y_are_certified_and_cv_has_finite_errors(precompute):
    # |X| ~ |y| ~ 1e80: gradients ~ 1e160, whose squares overflow; the conjugates are
    # formed as a·(a/(2 l2)) and the CV standard errors from scaled deviations
    from sklearn.model_selection import KFold

    from sklearn_normpen import ElasticNetPathCV
    X, y = _data()
    s = 1e80
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither a ConvergenceWarning nor an overflow
        cv = ElasticNetPathCV(l1_ratio=0.9, alphas=15, cv=KFold(5, shuffle=True,
                                                                   random_state=2),
                              precompute=precompute, tol=1e-8).fit(X * s, y * s)
    assert np.all(np.isfinite(cv.mse_path_)) and np.all(np.isfinite(cv.cv_se_))
    # glmnet's standard error of the fold errors, computed here on rescaled errors
    e = cv.mse_path_ / s ** 2
    se = np.sqrt(np.var(e, axis=1) / (e.shape[1] - 1)) * s ** 2
    np.testing.assert_allclose(cv.cv_se_, se, rtol=1e-10)
    np.testing.assert_allclose(cv.cv_mean_, e.mean(axis=1) * s ** 2, rtol=1e-12)


@pytest.mark.parametrize("s", [1e-20, 1e-40])
def test_multitask_cv_with_tiny_x_and_y_is_certified(s):
    # a fold's first grid point lies just below its own alpha_max: the violating row must
    # enter the working set although its violation (~ alpha·sigma ~ s²) is far below
    # 1e-12·alpha (the solver's slack is relative to each row's own l1 weight)
    from sklearn.model_selection import KFold

    from sklearn_normpen import MultiTaskElasticNetPathCV
    X, y = _data()
    Y = np.column_stack([y, -y])
    kw = dict(cv=KFold(3), alphas=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cv = MultiTaskElasticNetPathCV(**kw).fit(X * s, Y * s)
    assert np.all(np.isfinite(cv.mse_path_)) and np.all(cv.mse_path_ > 0)


def _group_fit(route, X, y, groups, weights, alpha):
    import scipy.sparse as sp

    from sklearn_normpen import GroupLassoRegressor, MultiTaskGroupLassoRegressor
    from sklearn_normpen.group_lasso import group_lasso_path
    kw = dict(groups=groups, group_weights=weights, tol=1e-10, max_iter=10000)
    if route == "gram path":  # several points, dense n >= p: covariance mode (bcd_gram)
        alphas = alpha * np.array([4.0, 2.0, 1.0])
        _, coefs, _ = group_lasso_path(X, y, alphas=alphas, fit_intercept=True, **kw)
        return coefs[:, -1]
    if route == "multitask":
        Y = np.column_stack([y, 0.5 * y])
        return MultiTaskGroupLassoRegressor(alpha=alpha, **kw).fit(X, Y).coef_
    Xr = sp.csc_matrix(X) if route == "sparse" else X
    return GroupLassoRegressor(alpha=alpha, **kw).fit(Xr, y).coef_


@pytest.mark.parametrize("route", ["data", "sparse", "gram path", "multitask"])
@pytest.mark.parametrize("s", [1e-15, 1e-30])
def test_group_lasso_with_tiny_group_weights_is_certified(route, s):
    # weights s·c with alpha/s is the same problem as weights c with alpha; a KKT violation
    # is then ~ alpha·s, far below 1e-12·alpha: the working sets' rounding slack must be
    # relative to the groups' own weights or no group ever enters (fit 0, warning)
    X, y = _data(p=12)
    groups = np.repeat(np.arange(4), 3)
    c = np.array([1.0, 2.0, 0.5, 1.5])
    alpha = 0.05
    ref = _group_fit(route, X, y, groups, c, alpha)
    assert np.count_nonzero(ref) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        got = _group_fit(route, X, y, groups, s * c, alpha / s)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-8 * np.max(np.abs(ref)))
