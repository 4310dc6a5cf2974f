"""GroupLassoRegressor / group_lasso_path / GroupLassoPathCV against independent references:
scikit-learn's Lasso (singleton groups, l1_ratio=1), the closed-form block soft-threshold
(orthonormal groups), cvxpy + Clarabel (random small problems), and KKT checks written here."""
import warnings

import numpy as np
import pytest
from joblib import parallel_config
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_normpen import GroupLassoPathCV, GroupLassoRegressor, group_lasso_path

GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7, 8], [9], [10, 11]]


def make_data(n=60, p=12, seed=0, dtype=np.float64, sparse=False, active=(0, 2)):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0
    w = np.zeros(p)
    for g in active:
        w[GROUPS[g]] = rng.standard_normal(len(GROUPS[g])) * 2
    y = X @ w + 0.5 * rng.standard_normal(n) + 1.5
    X = X.astype(dtype)
    return (sp.csc_matrix(X) if sparse else X), y.astype(dtype)


def objective(X, y, coef, intercept, alpha, rho, groups, sw=None, weights=None):
    X = X.toarray() if sp.issparse(X) else X
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    sw = np.ones(len(y)) if sw is None else np.asarray(sw, np.float64)
    r = y - X @ coef - intercept
    c = [np.sqrt(len(g)) for g in groups] if weights is None else weights
    pen = rho * np.abs(coef).sum() + (1 - rho) * sum(
        cg * np.linalg.norm(coef[g]) for cg, g in zip(c, groups))
    return 0.5 * (sw * r * r).sum() / sw.sum() + alpha * pen


def cvxpy_reference(X, y, alpha, rho, groups, sw=None):
    cp = pytest.importorskip("cvxpy")
    X = X.toarray() if sp.issparse(X) else X
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n, p = X.shape
    sw = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    w, b = cp.Variable(p), cp.Variable()
    loss = cp.sum(cp.multiply(sw, cp.square(y - X @ w - b))) / (2 * sw.sum())
    pen = rho * cp.norm1(w) + (1 - rho) * sum(np.sqrt(len(g)) * cp.norm2(w[g])
                                              for g in groups)
    prob = cp.Problem(cp.Minimize(loss + alpha * pen))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    return prob.value


def kkt_residuals(X, y, coef, intercept, alpha, rho, groups, sw=None):
    """Independent group-by-group KKT check: returns the largest violation."""
    X = X.toarray() if sp.issparse(X) else X
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    sw = np.ones(len(y)) if sw is None else np.asarray(sw, np.float64)
    r = y - X @ coef - intercept
    z = X.T @ (sw * r) / sw.sum()
    worst = abs((sw * r).sum() / sw.sum())  # intercept optimality
    for g in groups:
        zg, wg, cg = z[g], coef[g], np.sqrt(len(g))
        if np.all(wg == 0):
            s = np.sign(zg) * np.maximum(np.abs(zg) - alpha * rho, 0)
            worst = max(worst, np.linalg.norm(s) - alpha * (1 - rho) * cg)
        else:
            nz = wg != 0
            grp = alpha * (1 - rho) * cg * wg / np.linalg.norm(wg)
            worst = max(worst, np.abs(zg[nz] - alpha * rho * np.sign(wg[nz]) - grp[nz]).max())
            if (~nz).any():
                worst = max(worst, (np.abs(zg[~nz]) - alpha * rho).max())
    return worst


# --------------------------------------------------------------------------------------
# Equalities with scikit-learn's Lasso and closed forms
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_singleton_groups_equal_lasso(sparse, l1_ratio, fit_intercept):
    X, y = make_data(sparse=sparse)
    ref = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12, max_iter=100000).fit(X, y)
    est = GroupLassoRegressor(alpha=0.05, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              tol=1e-10, standardize=False).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)
    assert len(est.groups_) == X.shape[1]


@pytest.mark.parametrize("sparse", [False, True])
def test_l1_ratio_one_is_lasso_with_sample_weight(sparse):
    X, y = make_data(sparse=sparse, seed=3)
    sw = np.random.default_rng(1).uniform(0.2, 3, size=X.shape[0])
    ref = Lasso(alpha=0.03, tol=1e-12, max_iter=100000).fit(X, y, sample_weight=sw)
    est = GroupLassoRegressor(groups=GROUPS, alpha=0.03, l1_ratio=1.0, tol=1e-10,
                              standardize=False).fit(
        X, y, sample_weight=sw)
    assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_orthonormal_groups_closed_form(rho):
    rng = np.random.default_rng(0)
    n, p = 40, 9
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = Q * np.sqrt(n)  # X^T X / n = I
    y = X @ np.array([1, -1, 0.5, 0.3, 0, 0.2, 0, 0, 0]) + rng.standard_normal(n)
    groups = [[0, 1, 2], [3, 4, 5, 6], [7, 8]]
    alpha = 0.25
    est = GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, fit_intercept=False,
                              tol=1e-12, standardize=False).fit(X, y)
    z = X.T @ y / n
    expected = np.zeros(p)
    for g in groups:
        s = np.sign(z[g]) * np.maximum(np.abs(z[g]) - alpha * rho, 0)
        nrm = np.linalg.norm(s)
        t = alpha * (1 - rho) * np.sqrt(len(g))
        expected[g] = max(1 - t / nrm, 0) * s if nrm > 0 else 0
    assert_allclose(est.coef_, expected, atol=1e-10)
    assert np.any(expected == 0) and np.any(expected != 0)
    assert est.n_iter_ <= 2  # exact block minimisation: one sweep, one confirming sweep


# --------------------------------------------------------------------------------------
# Independent convex solver + KKT + certificate
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_matches_cvxpy(sparse, dtype, rho):
    X, y = make_data(n=40, sparse=sparse, dtype=dtype, seed=int(rho * 10) + sparse)
    sw = np.random.default_rng(2).uniform(0.5, 2, size=X.shape[0]).astype(dtype)
    alpha = 0.15
    tol = 1e-8 if dtype == np.float64 else 1e-5
    est = GroupLassoRegressor(groups=GROUPS, alpha=alpha, l1_ratio=rho, tol=tol,
                              standardize=False).fit(
        X, y, sample_weight=sw)
    assert est.coef_.dtype == dtype
    p_star = cvxpy_reference(X, y, alpha, rho, GROUPS, sw)
    ours = objective(X, y, est.coef_.astype(np.float64), float(est.intercept_), alpha, rho,
                     GROUPS, sw)
    yc = y.astype(np.float64) - np.average(y, weights=sw)
    scale = (sw * yc * yc).sum() / sw.sum() / 2
    slack = 1e-7 * scale if dtype == np.float64 else 1e-4 * scale
    # within the certified gap of the optimum (the gap bounds ours - p_star)
    assert ours - p_star <= est.dual_gap_ + slack
    assert est.dual_gap_ <= tol * scale * (1 + 1e-6) + (0 if dtype == np.float64 else 1e-6)
    kkt_tol = 1e-4 if dtype == np.float64 else 5e-3
    assert kkt_residuals(X, y, est.coef_.astype(np.float64), float(est.intercept_), alpha,
                         rho, GROUPS, sw) <= kkt_tol
    assert 0 < len(est.active_groups_) < len(GROUPS)


def test_gap_is_an_upper_bound_when_stopped_early():
    X, y = make_data(n=50, seed=5)
    alpha, rho = 0.05, 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = GroupLassoRegressor(groups=GROUPS, alpha=alpha, l1_ratio=rho, tol=1e-14,
                                  max_iter=2).fit(X, y)
    p_star = cvxpy_reference(X, y, alpha, rho, GROUPS)
    ours = objective(X, y, est.coef_, est.intercept_, alpha, rho, GROUPS)
    assert ours - p_star <= est.dual_gap_ * (1 + 1e-6) + 1e-9
    assert est.dual_gap_ > 0


def test_convergence_warning():
    X, y = make_data()
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        GroupLassoRegressor(groups=GROUPS, alpha=0.01, tol=1e-15, max_iter=1).fit(X, y)


# --------------------------------------------------------------------------------------
# Paths: alpha_max, continuity, warm = cold
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_alpha_max_is_the_zero_threshold(rho, sparse):
    X, y = make_data(sparse=sparse, seed=7)
    Xd = X.toarray() if sparse else X
    alphas, coefs, gaps = group_lasso_path(X, y, groups=GROUPS, l1_ratio=rho, n_alphas=5,
                                           fit_intercept=True, tol=1e-10, standardize=False)
    a_max = alphas[0]
    assert np.all(coefs[:, 0] == 0)
    est = GroupLassoRegressor(groups=GROUPS, alpha=a_max * (1 - 1e-4), l1_ratio=rho,
                              tol=1e-12, standardize=False).fit(X, y)
    assert np.any(est.coef_ != 0)
    # independent: at alpha_max the zero model satisfies every group's KKT condition tightly
    z = (Xd - Xd.mean(0)).T @ (y - y.mean()) / len(y)
    worst = max(np.linalg.norm(np.sign(z[g]) * np.maximum(np.abs(z[g]) - a_max * rho, 0))
                - a_max * (1 - rho) * np.sqrt(len(g)) for g in GROUPS)
    assert abs(worst) <= 1e-8 * a_max


def test_alpha_max_with_unpenalised_features():
    X, y = make_data(seed=8)
    groups = GROUPS[:4]  # features 10, 11 in no group: unpenalised
    alphas, coefs, _ = group_lasso_path(X, y, groups=groups, n_alphas=3, fit_intercept=True)
    assert np.all(coefs[:10, 0] == 0) and np.all(coefs[10:, 0] != 0)
    # the unpenalised part at alpha_max is the least-squares fit on those columns
    Xc = X[:, 10:] - X[:, 10:].mean(0)
    ls = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    assert_allclose(coefs[10:, 0], ls, rtol=1e-5)
    est = GroupLassoRegressor(groups=groups, alpha=alphas[0] * 0.999).fit(X, y)
    assert np.any(est.coef_[:10] != 0)


@pytest.mark.parametrize("sparse", [False, True])
def test_path_warm_equals_cold_and_is_continuous(sparse):
    X, y = make_data(sparse=sparse, seed=11)
    alphas, coefs, gaps = group_lasso_path(X, y, groups=GROUPS, l1_ratio=0.2, n_alphas=30,
                                           eps=1e-2, fit_intercept=True, tol=1e-14)
    for k in (3, 17, 29):
        cold = GroupLassoRegressor(groups=GROUPS, alpha=alphas[k], l1_ratio=0.2,
                                   tol=1e-14).fit(X, y)
        assert_allclose(coefs[:, k], cold.coef_, atol=1e-6)
    steps = np.abs(np.diff(coefs, axis=1)).max(axis=0)
    assert steps.max() < 0.25 * np.abs(coefs).max()  # no jumps between neighbours
    assert np.all(gaps >= -1e-12)


def test_path_return_convention_and_user_grid():
    X, y = make_data()
    a, c, g, it = group_lasso_path(X, y, groups=GROUPS, alphas=[0.01, 0.5, 0.1],
                                   return_n_iter=True)
    assert_allclose(a, [0.5, 0.1, 0.01])
    assert c.shape == (X.shape[1], 3) and g.shape == (3,) and it.shape == (3,)
    with pytest.raises(ValueError, match="alphas"):
        group_lasso_path(X, y, alphas=[0.1, -1])


def test_warm_start_matches_cold():
    X, y = make_data(seed=12)
    est = GroupLassoRegressor(groups=GROUPS, alpha=0.1, warm_start=True, tol=1e-10).fit(X, y)
    est.set_params(alpha=0.05).fit(X, y)
    cold = GroupLassoRegressor(groups=GROUPS, alpha=0.05, tol=1e-10).fit(X, y)
    assert_allclose(est.coef_, cold.coef_, atol=1e-6)


# --------------------------------------------------------------------------------------
# Options and input handling
# --------------------------------------------------------------------------------------
def test_standardize_equals_fit_on_scaled_columns():
    X, y = make_data(seed=4)
    X = X * np.linspace(0.1, 10, X.shape[1])
    est = GroupLassoRegressor(groups=GROUPS, alpha=0.1, standardize=True, tol=1e-12).fit(X, y)
    sc = StandardScaler().fit(X)
    ref = GroupLassoRegressor(groups=GROUPS, alpha=0.1, tol=1e-12).fit(sc.transform(X), y)
    assert_allclose(est.coef_, ref.coef_ / sc.scale_, atol=1e-8)
    assert_allclose(est.predict(X), ref.predict(sc.transform(X)), atol=1e-8)
    # sparse input gives the same standardised fit
    est_sp = GroupLassoRegressor(groups=GROUPS, alpha=0.1, standardize=True,
                                 tol=1e-12).fit(sp.csc_matrix(X), y)
    assert_allclose(est_sp.coef_, est.coef_, atol=1e-8)


def test_constant_column_with_standardize_gets_zero_coef():
    X, y = make_data(seed=4)
    X[:, 1] = 3.0
    for Xin in (X, sp.csc_matrix(X)):
        est = GroupLassoRegressor(groups=GROUPS, alpha=0.01, standardize=True).fit(Xin, y)
        assert est.coef_[1] == 0 and np.all(np.isfinite(est.coef_))


def test_group_weights_and_zero_weight_unpenalised():
    X, y = make_data(seed=6)
    alpha = 10.0  # far above alpha_max: every penalised group is zero
    est = GroupLassoRegressor(groups=GROUPS, alpha=alpha, group_weights=[1, 0, 1, 1, 1],
                              tol=1e-12).fit(X, y)
    assert np.all(est.coef_[[0, 1, 2, 5, 6, 7, 8, 9, 10, 11]] == 0)
    Xc = X[:, 3:5] - X[:, 3:5].mean(0)
    assert_allclose(est.coef_[3:5], np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0],
                    rtol=1e-5)
    # dict weights by label: a heavier weight on group 0 enters it later on the path
    a1 = group_lasso_path(X, y, groups=GROUPS, fit_intercept=True, n_alphas=2)[0][0]
    a2 = group_lasso_path(X, y, groups=GROUPS, group_weights={0: 100.0, 2: 100.0},
                          fit_intercept=True, n_alphas=2)[0][0]
    assert a2 < a1


@pytest.mark.parametrize("params, match", [
    (dict(alpha=-1.0), "alpha"),
    (dict(alpha=0.0), "alpha"),
    (dict(l1_ratio=1.5), "l1_ratio"),
    (dict(l1_ratio=-0.1), "l1_ratio"),
    (dict(group_weights=[1, -1, 1, 1, 1]), "group_weights"),
    (dict(group_weights=[1, np.nan, 1, 1, 1]), "group_weights"),
    (dict(group_weights=[1, 1]), "group_weights"),
])
def test_bad_parameters(params, match):
    X, y = make_data()
    with pytest.raises(ValueError, match=match):
        GroupLassoRegressor(groups=GROUPS, **params).fit(X, y)


@pytest.mark.parametrize("what", ["X_nan", "X_inf", "y_nan", "sw_neg"])
def test_bad_data(what):
    X, y = make_data()
    sw = None
    if what == "X_nan":
        X[0, 0] = np.nan
    elif what == "X_inf":
        X[1, 2] = np.inf
    elif what == "y_nan":
        y[3] = np.nan
    else:
        sw = np.ones(len(y))
        sw[0] = -1
    with pytest.raises(ValueError):
        GroupLassoRegressor(groups=GROUPS).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("sparse", [False, True])
def test_user_arrays_not_modified(sparse):
    X, y = make_data(sparse=sparse)
    sw = np.linspace(0.5, 2, X.shape[0])
    copies = [X.copy(), y.copy(), sw.copy()]
    if sparse:
        X.data.setflags(write=False)
    else:
        X.setflags(write=False)
    y.setflags(write=False)
    GroupLassoRegressor(groups=GROUPS, alpha=0.05, standardize=True).fit(X, y, sw)
    GroupLassoPathCV(groups=GROUPS, alphas=5, cv=3).fit(X, y, sw)
    Xa = X.toarray() if sparse else X
    assert_allclose(Xa, copies[0].toarray() if sparse else copies[0])
    assert_allclose(y, copies[1]) and assert_allclose(sw, copies[2])


def test_gridsearch_and_pipeline():
    X, y = make_data(n=80, seed=9)
    pipe = make_pipeline(StandardScaler(), GroupLassoRegressor(groups=GROUPS))
    gs = GridSearchCV(pipe, {"grouplassoregressor__alpha": [0.01, 0.1, 1.0]}, cv=3).fit(X, y)
    assert gs.best_params_["grouplassoregressor__alpha"] in (0.01, 0.1, 1.0)
    assert gs.predict(X).shape == (80,)


# --------------------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------------------
def test_path_cv_matches_manual_folds_and_rule():
    X, y = make_data(n=60, seed=13)
    cv = KFold(4, shuffle=True, random_state=0)
    est = GroupLassoPathCV(groups=GROUPS, alphas=6, cv=cv, tol=1e-10).fit(X, y)
    assert est.alphas_.shape == (6,) and np.all(np.diff(est.alphas_) < 0)
    assert est.mse_path_.shape == (6, 4)
    assert est.cv_mean_.shape == est.cv_se_.shape == (6,)
    for f, (tr, te) in enumerate(cv.split(X)):
        for k in (1, 4):
            m = GroupLassoRegressor(groups=GROUPS, alpha=est.alphas_[k], tol=1e-10).fit(
                X[tr], y[tr])
            assert_allclose(est.mse_path_[k, f], np.mean((m.predict(X[te]) - y[te]) ** 2),
                            rtol=1e-6)
    # the rule, recomputed here from the fold errors (equal fold sizes -> equal weights)
    m = est.mse_path_.mean(axis=1)
    se = est.mse_path_.std(axis=1) / np.sqrt(3)
    i_min = int(np.argmin(m))
    i_1se = int(np.flatnonzero(m <= m[i_min] + se[i_min])[0])
    assert est.alpha_min_ == est.alphas_[i_min] and est.alpha_1se_ == est.alphas_[i_1se]
    assert est.alpha_ == est.alpha_min_ and est.alpha_1se_ >= est.alpha_min_
    assert_allclose(est.coef_, est.coef_path_[:, i_min])
    est1 = GroupLassoPathCV(groups=GROUPS, alphas=6, cv=cv, tol=1e-10, rule="1se").fit(X, y)
    assert est1.alpha_ == est.alpha_1se_
    full = GroupLassoRegressor(groups=GROUPS, alpha=est1.alpha_, tol=1e-10).fit(X, y)
    assert_allclose(est1.coef_, full.coef_, atol=1e-6)
    assert all(np.array_equal(a, np.asarray(g)) for a, g in zip(est1.groups_, GROUPS))


def test_path_cv_several_l1_ratios_sparse_and_n_jobs():
    X, y = make_data(n=60, seed=14, sparse=True)
    kw = dict(groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=5, cv=3)
    a = GroupLassoPathCV(**kw).fit(X, y)
    with parallel_config(backend="threading"):  # n_jobs path without process start-up
        b = GroupLassoPathCV(n_jobs=2, **kw).fit(X, y)
    assert a.mse_path_.shape == (2, 5, 3) and a.alphas_.shape == (2, 5)
    assert a.cv_mean_.shape == (2, 5)
    assert_allclose(a.mse_path_, b.mse_path_)
    assert a.l1_ratio_ in (0.0, 0.5)
    # the full-data path of every l1_ratio, with alphas_'s leading axis
    assert a.coef_path_.shape == (2, X.shape[1], 5)
    row = [0.0, 0.5].index(a.l1_ratio_)
    assert_allclose(a.coef_, a.coef_path_[row][:, list(a.alphas_[row]).index(a.alpha_)])


def test_path_cv_sample_weight_and_float32():
    X, y = make_data(n=45, seed=15, dtype=np.float32)
    sw = np.random.default_rng(3).uniform(0.5, 2, size=45)
    cv = KFold(3)
    est = GroupLassoPathCV(groups=GROUPS, alphas=4, cv=cv, tol=1e-6).fit(X, y, sw)
    assert est.coef_.dtype == np.float32 and est.coef_path_.dtype == np.float32
    tr, te = next(iter(cv.split(X)))
    m = GroupLassoRegressor(groups=GROUPS, alpha=est.alphas_[2], tol=1e-6).fit(
        X[tr], y[tr], sw[tr])
    err = np.average((m.predict(X[te]).astype(np.float64) - y[te]) ** 2, weights=sw[te])
    assert_allclose(est.mse_path_[2, 0], err, rtol=1e-3)
    # fold weights are the held-out weight sums (cv.glmnet): recompute the mean here
    W = np.array([sw[te].sum() for _, te in cv.split(X)])
    assert_allclose(est.cv_mean_, est.mse_path_ @ W / W.sum())


@pytest.mark.parametrize("sparse", [False, True])
def test_standardize_with_sample_weight(sparse):
    X, y = make_data(seed=21)
    X = X * np.linspace(0.2, 5, X.shape[1])
    sw = np.random.default_rng(4).uniform(0.3, 3, size=X.shape[0])
    mean = np.average(X, axis=0, weights=sw)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sw))
    ref = GroupLassoRegressor(groups=GROUPS, alpha=0.05, tol=1e-12).fit(X / std, y, sw)
    Xin = sp.csc_matrix(X) if sparse else X
    est = GroupLassoRegressor(groups=GROUPS, alpha=0.05, standardize=True, tol=1e-12).fit(
        Xin, y, sw)
    assert_allclose(est.coef_, ref.coef_ / std, atol=1e-7)
    assert_allclose(est.intercept_, ref.intercept_, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
def test_kkt_pass_recovers_groups_screening_missed(sparse):
    """Feed the solver a misleading screening gradient (z = 0: the strong rule keeps no
    group); the KKT pass over all groups must still bring every active group back."""
    from sklearn_normpen._design import Design
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    from sklearn_normpen._solvers.block_cd import GroupProblem
    X, y = make_data(sparse=sparse, seed=22)
    st = parse_groups(GROUPS, X.shape[1])
    prob = GroupProblem(Design(X, y, None, True), st, resolve_group_weights(None, st))
    pen = prob.penalty(0.3)
    w = prob.start(np.zeros(X.shape[1]))
    prob._z = np.zeros(X.shape[1])  # a misleading screening gradient
    tol_abs = 1e-10 * prob.null_deviance
    res, _ = prob.solve(w, pen, 0.05, tol_abs, 1000, alpha_prev=0.05)
    ref = GroupLassoRegressor(groups=GROUPS, alpha=0.05, l1_ratio=0.3, tol=1e-10,
                              standardize=False).fit(X, y)
    assert res.gap <= tol_abs and len(ref.active_groups_) >= 2
    assert_allclose(prob.to_original(w)[0], ref.coef_, atol=1e-6)


# --------------------------------------------------------------------------------------
# Collinear groups: each block visit solves the group's quadratic model (not one step)
# --------------------------------------------------------------------------------------
DIABETES_GROUPS = [[0, 1], [2, 3], [4, 5, 6, 7, 8, 9]]  # s1..s6 are strongly collinear


def _near_duplicate_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 5))
    # group 0: three columns and their near copies (Gram condition number ~1e6)
    X = np.hstack([base[:, :3], base[:, :3] + 1e-3 * rng.standard_normal((n, 3)),
                   base[:, 3:]])
    # the response needs the (tiny) difference of a near copy pair: the ill-conditioned
    # direction of the group matters
    y = (base[:, 0] - 2 * base[:, 1] + 0.5 * base[:, 3] + 2e3 * (X[:, 3] - X[:, 0])
         + 0.3 * rng.standard_normal(n) + 1)
    return X, y, [[0, 1, 2, 3, 4, 5], [6], [7]]


def _polynomial_basis(n=150, seed=0):
    rng = np.random.default_rng(seed)
    t, u = rng.uniform(0, 2, n), rng.uniform(0, 2, n)
    X = np.column_stack([t ** d for d in range(1, 6)] + [u, u ** 2])  # raw powers of t
    y = np.sin(2 * t) + u + 0.1 * rng.standard_normal(n)
    return X, y, [[0, 1, 2, 3, 4], [5, 6]]


def _diabetes():
    from sklearn.datasets import load_diabetes
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y, DIABETES_GROUPS


@pytest.mark.parametrize("data", [_diabetes, _near_duplicate_data, _polynomial_basis])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_collinear_groups_converge_and_match_cvxpy(data, sparse, rho):
    X, y, groups = data()
    Xf = sp.csc_matrix(X) if sparse else X
    tol = 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, _, gaps, n_iters = group_lasso_path(
            Xf, y, groups=groups, l1_ratio=rho, n_alphas=25, fit_intercept=True,
            return_n_iter=True, standardize=False)
        # cold fit at the smallest alpha (the hardest point) within the default max_iter
        est = GroupLassoRegressor(groups=groups, alpha=alphas[-1], l1_ratio=rho,
                                  tol=tol, standardize=False).fit(Xf, y)
    scale = ((y - y.mean()) ** 2).mean() / 2
    assert np.all(gaps <= tol * scale * (1 + 1e-9))
    # one proximal step per visit needed the full 1000 epochs on each of these; the block
    # model solve needs a few per point
    assert n_iters.max() <= 50 and est.n_iter_ <= 50
    assert est.dual_gap_ <= tol * scale * (1 + 1e-9)
    p_star = cvxpy_reference(X, y, alphas[-1], rho, groups)
    ours = objective(X, y, est.coef_, est.intercept_, alphas[-1], rho, groups)
    assert p_star - 1e-9 * scale <= ours <= p_star + est.dual_gap_ + 1e-8 * scale


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_single_ill_conditioned_group_solved_exactly_when_rho_is_zero(sparse, weighted):
    # One penalised group: with rho = 0 a block visit is the exact minimiser, so the first
    # epoch lands on the optimum and the second only confirms it (the kernel's gap check).
    X, y, _ = _polynomial_basis()
    X = X[:, :5]
    sw = np.random.default_rng(1).uniform(0.5, 2, len(y)) if weighted else None
    alpha = 1e-3
    est = GroupLassoRegressor(groups=[list(range(5))], alpha=alpha, l1_ratio=0.0,
                              tol=1e-10,
                              standardize=False).fit(sp.csc_matrix(X) if sparse else X, y,
                                             sample_weight=sw)
    assert est.n_iter_ <= 2
    p_star = cvxpy_reference(X, y, alpha, 0.0, [list(range(5))], sw)
    ours = objective(X, y, est.coef_, est.intercept_, alpha, 0.0, [list(range(5))], sw)
    assert p_star - 1e-9 <= ours <= p_star + est.dual_gap_ + 1e-9


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_rank_deficient_dummy_group(rho):
    # all levels one-hot + intercept: the centred group Gram is singular
    rng = np.random.default_rng(3)
    n = 90
    level = rng.integers(0, 4, n)
    D = np.eye(4)[level]
    Z = rng.standard_normal((n, 2))
    X = np.hstack([D, Z])
    y = np.array([0.0, 1.0, -1.0, 2.0])[level] + Z[:, 0] + 0.3 * rng.standard_normal(n)
    groups = [[0, 1, 2, 3], [4], [5]]
    alpha = 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=1e-8,
                                  standardize=False).fit(X, y)
    p_star = cvxpy_reference(X, y, alpha, rho, groups)
    ours = objective(X, y, est.coef_, est.intercept_, alpha, rho, groups)
    assert p_star - 1e-9 <= ours <= p_star + est.dual_gap_ + 1e-9
    assert kkt_residuals(X, y, est.coef_, est.intercept_, alpha, rho, groups) <= 1e-4


@pytest.mark.parametrize("k", [0, 1, 3, 5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_bcd_extrapolation_and_active_cycling_keep_the_optimum(k, sparse, rho):
    """Every Anderson depth of the group kernel (0: none) reaches the optimum, certified
    by an independent NumPy KKT check and cvxpy's objective, on a wide design (p = 3n,
    support under half the groups: the kernel's active cycling applies); a depth outside
    [0, 5] is a clear error."""
    from sklearn_normpen._solvers import block_cd
    rng = np.random.default_rng(11 + k)
    n, p = 40, 120
    groups = [np.arange(i, min(i + 4, p)) for i in range(0, p, 4)]
    X = rng.standard_normal((n, p)) + 0.3 * rng.standard_normal(n)[:, None]
    if sparse:
        X[rng.random((n, p)) < 0.5] = 0
    w0 = np.zeros(p)
    w0[:12] = rng.standard_normal(12) * 2
    y = X @ w0 + 0.5 * rng.standard_normal(n)
    Xin = sp.csc_matrix(X) if sparse else X
    alpha = 0.08
    est = GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=1e-12,
                              max_iter=100000, standardize=False)
    old = block_cd.GroupProblem.anderson_k
    block_cd.GroupProblem.anderson_k = k
    try:
        est.fit(Xin, y)
    finally:
        block_cd.GroupProblem.anderson_k = old
    coef, b = est.coef_, float(est.intercept_)
    assert kkt_residuals(X, y, coef, b, alpha, rho, groups) <= 1e-6
    p_star = cvxpy_reference(X, y, alpha, rho, groups)
    assert objective(X, y, coef, b, alpha, rho, groups) - p_star <= 1e-7
    assert 0 < len(est.active_groups_) < len(groups) // 2
    if k == 5:
        from sklearn_normpen._kernels._bcd_group import bcd
        e = np.zeros(0, np.intc)
        one = np.ones(1)
        args = (X.ravel(order="F"), e, e, np.zeros(0), np.zeros(p), y - y.mean(),
                np.zeros(p), y - y.mean(), np.array([0, 1], np.intc),
                np.array([0], np.intc), one, one, one, np.zeros(1, np.intp), one, one, 0,
                np.array([0], np.intc), 0.1, 0.0, 10, 1e-6, 10, 10, 1e-3, np.zeros(9),
                np.zeros(1), 0, one, one, np.zeros(1, np.intc))
        for bad in (-1, 6):
            with pytest.raises(ValueError, match="anderson_k must be in"):
                bcd(*args, bad)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_offset_design_with_limits_and_unpenalised_group(sparse, dtype):
    """Adversarial case for the kernel's active cycling and extrapolation: a wide design
    whose first columns sit at mean 1e4 with unit spread, an unpenalised group, and a
    binding upper limit. The package's certificate must bound the distance to cvxpy's
    optimum, the box must hold and the coefficients must match. (Before a fix the
    kernel's restricted gap ignored its tighter dual candidate whenever an unlimited
    group followed a limited one: the fit ran to max_iter without converging.)"""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(7)
    n, p = 40, 160
    groups = [np.arange(i, i + 4) for i in range(0, p, 4)]
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.5] = 0
    X[:, :8] += 1e4  # offset columns (mean >> spread), dense even in the CSC input
    w0 = np.zeros(p)
    w0[:8] = [1.5, -1.0, 0.8, 0.6, 2.0, 1.0, -1.5, 0.5]
    w0[40:44] = 1.0
    y = (X - X.mean(0)) @ w0 + 0.3 * rng.standard_normal(n) + 5.0
    weights = np.ones(len(groups))
    weights[10] = 0.0  # group 10 (features 40..43) unpenalised
    # (group_weights are the c_g themselves: sqrt(|g|) = 2 as the default, below)
    upper = np.full(p, np.inf)
    upper[4] = 0.5  # binds: the unconstrained optimum is near 2
    lower = np.full(p, -np.inf)
    alpha = 0.05
    Xin = (sp.csc_matrix(X) if sparse else X).astype(dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GroupLassoRegressor(groups=groups, alpha=alpha, group_weights=2 * weights,
                                  upper_limits=upper, tol=tol, max_iter=100000,
                                  standardize=False).fit(Xin, y.astype(dtype))
    assert est.coef_.dtype == dtype
    coef = est.coef_.astype(np.float64)
    assert np.all(coef <= upper) and coef[4] == pytest.approx(0.5, abs=1e-6)
    w, b = cp.Variable(p), cp.Variable()
    Xc = X - X.mean(0)  # the same optimum (the intercept absorbs the means), well scaled
    pen = sum(alpha * c * np.sqrt(len(g)) * cp.norm2(w[g])
              for g, c in zip(groups, weights) if c > 0)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(y - Xc @ w - b) / (2 * n) + pen),
                      [w[4] <= 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12,
                   tol_feas=1e-12)
    b_ours = float(est.intercept_) + float(X.mean(0) @ coef)  # on the centred design
    r = y - Xc @ coef - b_ours
    P = r @ r / (2 * n) + sum(alpha * c * np.sqrt(len(g)) * np.linalg.norm(coef[g])
                              for g, c in zip(groups, weights) if c > 0)
    D0 = np.var(y) / 2
    assert est.dual_gap_ >= 0
    assert P - prob.value <= est.dual_gap_ + (1e-9 if dtype == np.float64 else 1e-5) * D0
    atol = 1e-4 if dtype == np.float64 else 5e-2
    assert_allclose(coef, w.value, atol=atol)
    assert 0 < len(est.active_groups_) < len(groups)


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_bounded_certificates_report_the_full_gradients_gap(monkeypatch, rho, fit_intercept):
    """A wide dense float64 path (groups of 5): certificates that leave out the zero groups
    their bound (from the combined earlier full gradients) keeps inside their balls report
    exactly the penalty value, dual scaling and KKT violation of the full gradient, leave
    out most groups at most points, and the path's objectives equal those of a path with
    full certificates within the gap target."""
    from sklearn_normpen._solvers import block_cd
    from _bounded_spy import assert_bounded_like_full, spy_bounded_gradients
    rng = np.random.default_rng(7)
    n, p = 80, 1500
    X = rng.standard_normal((n, p)) + (3.0 if fit_intercept else 0.0)  # implicit centring
    coef = np.zeros(p)
    coef[:30] = rng.standard_normal(30)
    y = X @ coef + rng.standard_normal(n) + 2.0
    groups = [list(range(i, i + 5)) for i in range(0, p, 5)]
    seen = spy_bounded_gradients(monkeypatch, block_cd.GroupProblem, "_bounded_gradient",
                                 lambda z: np.count_nonzero(z) / p)
    kw = dict(groups=groups, l1_ratio=rho, n_alphas=30, eps=1e-2, tol=1e-8,
              fit_intercept=fit_intercept, standardize=False)
    alphas, coefs, _ = group_lasso_path(X, y, **kw)
    assert_bounded_like_full(seen, 0.5)
    monkeypatch.setattr(block_cd.GroupProblem, "_boundable", lambda self, pen: False)
    alphas_f, coefs_f, _ = group_lasso_path(X, y, **kw)
    assert_allclose(alphas, alphas_f)
    yc, Xc = (y - y.mean(), X - X.mean(0)) if fit_intercept else (y, X)
    target = 1e-8 * (yc @ yc) / (2 * n)
    for k, a in enumerate(alphas):
        f = [objective(Xc, yc, c[:, k], 0.0, a, rho, groups) for c in (coefs, coefs_f)]
        assert abs(f[0] - f[1]) <= 2 * target


@pytest.mark.parametrize("p,K", [(0, 1), (0, 3), (4, 1), (4, 3)])
def test_gradient_references_empty_and_exact(p, K):
    """``GradientReferences`` with no features (every column dropped) or a residual it
    holds exactly: an empty mask; a gradient inside every ball at a stored residual is
    left out, one on a ball's edge is not."""
    from sklearn_normpen._solvers.gradient_bound import GradientReferences
    refs = GradientReferences()
    group_of = np.arange(p) // 2
    G = (p + 1) // 2
    rng = np.random.default_rng(p + K)
    r = rng.standard_normal((6, K)).squeeze()
    z = 0.1 * rng.standard_normal((p, K))
    z = z[:, 0] if K == 1 else z
    assert refs.skipped(r, None, np.ones(G), np.ones(G), np.ones(G, bool)) is None
    refs.push(r, z, group_of, G)

    def soft(zc):
        zz = np.asarray(zc).reshape(p, K)
        return np.sqrt(np.bincount(group_of, weights=(zz * zz).sum(axis=1), minlength=G))

    norms = soft(z)
    skip = refs.skipped(r, soft, np.ones(G), norms * 2 + 1e-3, np.ones(G, bool))
    assert skip.shape == (G,) and skip.all()
    skip = refs.skipped(r, soft, np.ones(G), norms, np.ones(G, bool))
    assert not skip.any()


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardize_float32_gap_bounds_the_users_objective(fit_intercept):
    """float32 under standardize: each reported gap bounds the user's objective (penalty
    weighted by the exact σ_j, about the weighted mean with or without an intercept) at
    the returned float32 coefficients. The solver's scale had been ``fl32(1/σ_j)``, whose
    inverse weighs the penalty slightly off, and the gap was formed at the solver's
    coefficients before their cast: beside this nearly collinear pair it sat 1.4e-8 of the
    null deviance below the true excess."""
    rng = np.random.default_rng(20)
    n, p = 250, 8
    X = rng.standard_normal((n, p)) * rng.uniform(0.3, 3, p)
    a_, b_ = rng.choice(p, 2, replace=False)
    X[:, b_] = 2.5 * X[:, a_] + 1e-4 * rng.standard_normal(n)
    y = X[:, :3] @ rng.standard_normal(3) + rng.standard_normal(n)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    Xe, ye = X32.astype(np.float64), y32.astype(np.float64)
    groups = [[0, 1], [2, 3], [4, 5], [6, 7]]
    kw = dict(groups=groups, l1_ratio=1.0, standardize=True, fit_intercept=fit_intercept)
    a, C, gaps = group_lasso_path(X32, y32, n_alphas=8, eps=1e-2, tol=1e-4, **kw)
    assert C.dtype == np.float32
    _, Cr, gr = group_lasso_path(Xe, ye, alphas=a, tol=1e-13, max_iter=100000, **kw)
    sigma = Xe.std(axis=0)
    Xc, yc = (Xe - Xe.mean(axis=0), ye - ye.mean()) if fit_intercept else (Xe, ye)
    nd = 0.5 * np.mean(yc ** 2)

    def objective(w, alpha):
        return 0.5 * np.mean((yc - Xc @ w) ** 2) + alpha * np.abs(w * sigma).sum()

    for k, alpha in enumerate(a):
        excess = objective(C[:, k].astype(np.float64), alpha) - objective(Cr[:, k], alpha)
        assert excess <= gaps[k] + gr[k] + 1e-12 * nd, (k, excess / nd, gaps[k] / nd)


@pytest.mark.parametrize("shape", [(250, 9), (40, 90)])  # covariance and residual modes
@pytest.mark.parametrize("standardize", [False, True])
def test_float32_certificate_is_formed_on_the_users_objective(shape, standardize,
                                                              monkeypatch):
    """float32 data, groups of 3: every certificate's primal value is the user's objective
    at the coefficients returned for its point (penalty weights ``sqrt(3)`` and scales
    ``σ_j`` exact, the user's own columns), to rounding. The kernels' float32 weights and
    scales (``fl32(sqrt 3)``, ``1/fl32(1/σ_j)``) had put it 8e-9 of the null deviance
    off; beside nearly collinear columns that let a gap pass below the true excess."""
    from _bounded_spy import spy_certificate_primals
    from sklearn_normpen._solvers import block_cd, block_cd_gram
    seen = spy_certificate_primals(monkeypatch, block_cd, block_cd_gram)
    rng = np.random.default_rng(2)
    n, p = shape
    X = rng.standard_normal((n, p)) * rng.uniform(0.3, 3, p)
    y = X[:, :4] @ rng.standard_normal(4) + rng.standard_normal(n)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    Xe, ye = X32.astype(np.float64), y32.astype(np.float64)
    groups = [list(range(i, i + 3)) for i in range(0, p, 3)]
    a, C, _ = group_lasso_path(X32, y32, groups=groups, l1_ratio=0.0, n_alphas=6, eps=0.05,
                               tol=1e-5, standardize=standardize, fit_intercept=True)
    assert C.dtype == np.float32
    sigma = Xe.std(axis=0) if standardize else np.ones(p)
    Xc, yc = Xe - Xe.mean(axis=0), ye - ye.mean()
    nd = 0.5 * np.mean(yc ** 2)
    for k, alpha in enumerate(a):
        w = C[:, k].astype(np.float64)
        objective = 0.5 * np.mean((yc - Xc @ w) ** 2) + alpha * np.sqrt(3) * sum(
            np.linalg.norm((w * sigma)[g]) for g in groups)
        primal = [pr for al, pr in seen if al == alpha][-1]  # (the point's last)
        assert abs(primal - objective) <= 1e-13 * nd, (k, (primal - objective) / nd)
