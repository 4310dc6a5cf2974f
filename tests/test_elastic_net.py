"""ElasticNetPathCV and enet_path against independent references.

References: scikit-learn's ElasticNet / enet_path / ElasticNetCV / Ridge (same objective),
a NumPy duality gap and KKT check written here, brute-force row repetition, closed forms.
"""
import warnings

import numpy as np
import pytest
import sklearn
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, ElasticNetCV, Ridge
from sklearn.linear_model import enet_path as sk_enet_path
from sklearn.model_selection import GroupKFold, KFold

from sklearn_normpen import ElasticNetPathCV, enet_path

DTYPES = [np.float32, np.float64]
SK_19 = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 9)


def _n_alphas(k):
    # scikit-learn 1.9 renamed n_alphas to an integer ``alphas``; CI also runs 1.6
    return {"alphas": k} if SK_19 else {"n_alphas": k}


def _data(n=120, p=30, seed=0, dtype=np.float64, offset=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + offset
    w = np.zeros(p)
    w[:min(6, p)] = rng.standard_normal(min(6, p)) * 3
    y = X @ w + rng.standard_normal(n) + 2.0
    return X.astype(dtype), y.astype(dtype)


def _np_gap_kkt(X, y, w, alpha, rho, sw=None, f=None, positive=False, fit_intercept=True):
    """Duality gap and KKT violation of the package objective, in NumPy (float64).

    The intercept is profiled out by (weighted) centring. Dual point theta = r / (t Σs):
    t scales r into the lasso constraint (rho = 1); for rho < 1 the conjugate of the
    elastic-net penalty enters the dual instead.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X, y, w = X.astype(np.float64), y.astype(np.float64), w.astype(np.float64)
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    f = np.ones(p) if f is None else np.asarray(f, np.float64)
    N = s.sum()
    if fit_intercept:
        X = X - s @ X / N
        y = y - s @ y / N
    r = y - X @ w
    l1, l2 = alpha * rho * f, alpha * (1 - rho) * f
    primal = 0.5 * s @ (r * r) / N + np.sum(l1 * np.abs(w)) + 0.5 * np.sum(l2 * w * w)
    g = X.T @ (s * r) / N
    gs = np.maximum(g, 0) if positive else np.abs(g)
    if rho == 1:
        t, conj = max(1.0, np.max(gs / l1)), 0.0
    else:
        t, conj = 1.0, np.sum(np.maximum(gs - l1, 0) ** 2 / (2 * l2))
    dual = (s @ (y * y) - s @ ((y - r / t) ** 2)) / (2 * N) - conj
    kkt = np.where(w != 0, np.abs(g - l1 * np.sign(w) - l2 * w), np.maximum(gs - l1, 0))
    return primal - dual, kkt.max()


def _coef_bound(X, gap, alpha, rho, sw=None, fit_intercept=True):
    """||w - w*|| <= sqrt(2 gap / mu), mu the strong-convexity modulus of the objective."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, np.float64)
    s = np.ones(X.shape[0]) if sw is None else np.asarray(sw, np.float64)
    N = s.sum()
    if fit_intercept:
        X = X - s @ X / N
    mu = np.linalg.eigvalsh((X * s[:, None]).T @ X / N)[0] + alpha * (1 - rho)
    return np.sqrt(2 * max(gap, 0) / max(mu, 1e-300))


def _target(y, sw=None, tol=1e-4, centre=True):
    s = np.ones(len(y)) if sw is None else np.asarray(sw, np.float64)
    yc = y - (s @ y / s.sum() if centre else 0)
    return tol * (s @ (yc * yc)) / (2 * s.sum())


# ---------------------------------------------------------------------------------------
# enet_path against scikit-learn's enet_path (no intercept: sklearn's convention)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_enet_path_matches_sklearn(dtype, sparse, l1_ratio):
    X, y = _data(dtype=dtype, offset=0.0)
    Xin = sp.csc_matrix(X) if sparse else X
    tol = 1e-8 if dtype == np.float64 else 1e-4
    X64 = Xin.astype(np.float64)  # float64 reference (float32 cannot reach its tol)
    a_sk, c_sk, g_sk = sk_enet_path(X64, y.astype(np.float64), l1_ratio=l1_ratio,
                                    **_n_alphas(20), tol=1e-10, max_iter=100000)
    a, c, g = enet_path(Xin, y, l1_ratio=l1_ratio, n_alphas=20, tol=tol, standardize=False)
    assert c.dtype == dtype and g.shape == (20,)
    assert_allclose(a, a_sk, rtol=1e-5 if dtype == np.float32 else 1e-12)
    target = _target(y, tol=tol, centre=False)
    assert np.all(g <= target * (1 + 1e-3))
    for k in range(20):
        # independent float64 gap of our float32/64 solution
        gap, _ = _np_gap_kkt(X, y, c[:, k], a[k], l1_ratio, fit_intercept=False)
        assert gap <= target * (1.5 if dtype == np.float32 else 1.01) + 1e-12
        # strong convexity bounds the distance to sklearn's (tighter) solution by the gap
        bound = _coef_bound(X, 1.5 * target, a[k], l1_ratio, fit_intercept=False)
        assert np.linalg.norm(c[:, k] - c_sk[:, k]) <= bound + 1e-9


@pytest.mark.parametrize("mode", [True, False, "sparse"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_path_with_intercept_and_weights_matches_elasticnet(mode, weighted, l1_ratio):
    X, y = _data(n=150, p=12, seed=1)
    sw = np.random.default_rng(3).uniform(0.2, 3, len(y)) if weighted else None
    Xin = sp.csc_matrix(X) if mode == "sparse" else X
    pre = "auto" if mode == "sparse" else mode
    grid = np.geomspace(2.0, 0.01, 6)
    est = ElasticNetPathCV(l1_ratio=l1_ratio, alphas=grid, cv=3, tol=1e-10,
                           precompute=pre, standardize=False).fit(Xin, y, sample_weight=sw)
    for k, alpha in enumerate(est.alphas_):
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100000).fit(
            X, y, sample_weight=sw)
        gap, kkt = _np_gap_kkt(X, y, est.coef_path_[:, k], alpha, l1_ratio, sw)
        assert gap <= _target(y, sw, tol=1e-10) * 1.01 + 1e-12
        assert_allclose(est.dual_gap_path_[k], gap, atol=1e-10)
        # both solutions are within the gap-implied distance of the optimum
        bound = 2 * _coef_bound(X, _target(y, sw, tol=1e-10), alpha, l1_ratio, sw) + 1e-9
        assert np.linalg.norm(est.coef_path_[:, k] - ref.coef_) <= bound
        b_ref = ref.intercept_ + 0.0
        assert abs(est.intercept_path_[k] - b_ref) <= bound * np.abs(X.mean(0)).sum() + 1e-9


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
@pytest.mark.parametrize("positive", [False, True])
def test_kkt_and_numpy_gap_at_every_point(sparse, l1_ratio, positive):
    X, y = _data(n=60, p=90, seed=2)  # p > n: residual mode with working sets
    Xin = sp.csc_matrix(X) if sparse else X
    tol = 1e-9
    a, c, g = enet_path(Xin, y, l1_ratio=l1_ratio, n_alphas=15, fit_intercept=True, tol=tol,
                        positive=positive, max_iter=100000, standardize=False)
    est = ElasticNetPathCV(l1_ratio=l1_ratio, alphas=a, cv=2, tol=tol, positive=positive,
                           max_iter=100000, standardize=False).fit(Xin, y)
    assert_allclose(est.coef_path_, c, atol=1e-8)
    target = _target(y, tol=tol)
    for k, alpha in enumerate(a):
        gap, kkt = _np_gap_kkt(X, y, c[:, k], alpha, l1_ratio, positive=positive)
        assert gap <= target * 1.01 + 1e-13
        assert_allclose(g[k], gap, atol=1e-10)
        assert kkt <= 1e-3 * alpha
        if positive:
            assert np.all(c[:, k] >= 0)
    if positive:  # p > n: compare objective values (the solution may not be unique)
        ref = ElasticNet(alpha=a[-1], l1_ratio=l1_ratio, positive=True, tol=1e-12,
                         max_iter=100000).fit(X, y)

        def obj(w, b):
            r = y - X @ w - b
            return (0.5 * r @ r / len(y) + a[-1] * (l1_ratio * np.abs(w).sum()
                                                    + 0.5 * (1 - l1_ratio) * w @ w))
        assert obj(c[:, -1], est.intercept_path_[-1]) <= obj(ref.coef_, ref.intercept_) + target


@pytest.mark.parametrize("mode", ["auto", False, "sparse"])
def test_alpha_max_is_sharp(mode):
    X, y = _data(seed=4)
    Xin = sp.csc_matrix(X) if mode == "sparse" else X
    pre = "auto" if mode == "sparse" else mode
    for l1_ratio in (1.0, 0.4):
        a, c, _ = enet_path(Xin, y, l1_ratio=l1_ratio, n_alphas=3, fit_intercept=True,
                            precompute=pre, standardize=False)
        Xc = X - X.mean(0)
        expected = np.max(np.abs(Xc.T @ (y - y.mean()))) / (len(y) * l1_ratio)
        assert_allclose(a[0], expected, rtol=1e-10)
        assert np.all(c[:, 0] == 0)
        _, c2, _ = enet_path(Xin, y, l1_ratio=l1_ratio, alphas=[a[0] * 0.99],
                             fit_intercept=True, precompute=pre, tol=1e-8, standardize=False)
        assert np.count_nonzero(c2) >= 1


def test_modes_agree_and_float32_kept():
    X, y = _data(n=200, p=20, seed=5)
    outs = []
    for Xin, pre in [(X, True), (X, False), (sp.csc_matrix(X), "auto"),
                     (sp.csc_matrix(X), True)]:
        outs.append(enet_path(Xin, y, l1_ratio=0.8, n_alphas=10, fit_intercept=True,
                              precompute=pre, tol=1e-10))
    a = outs[0][0]
    for _, c, _ in outs[1:]:
        for k in range(10):
            bound = 2 * _coef_bound(X, _target(y, tol=1e-10), a[k], 0.8)
            assert np.linalg.norm(c[:, k] - outs[0][1][:, k]) <= bound
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    est = ElasticNetPathCV(alphas=10, cv=3).fit(X32, y32)
    assert est.coef_.dtype == np.float32 and est.coef_path_.dtype == np.float32
    assert est.predict(X32).dtype == np.float32


# ---------------------------------------------------------------------------------------
# CV against ElasticNetCV and the rule
# ---------------------------------------------------------------------------------------

def _glmnet_rule(mse_path, alphas, fold_w):
    """cv.glmnet's statistics and rule, written out directly."""
    W = fold_w / fold_w.sum()
    m = mse_path @ W
    K = mse_path.shape[1]
    se = np.sqrt(((mse_path - m[:, None]) ** 2) @ W / (K - 1))
    i_min = np.flatnonzero(m == m.min())
    i_min = i_min[np.argmax(alphas[i_min])]
    ok = np.flatnonzero(m <= m[i_min] + se[i_min])
    return alphas[i_min], alphas[ok[np.argmax(alphas[ok])]], m, se


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, [0.2, 0.6, 1.0]])
def test_matches_elasticnetcv_and_rule(sparse, l1_ratio):
    X, y = _data(n=150, p=25, seed=6)
    Xin = sp.csr_matrix(X) if sparse else X
    cv = KFold(5, shuffle=True, random_state=0)
    ours = ElasticNetPathCV(l1_ratio=l1_ratio, alphas=30, cv=cv, tol=1e-9,
                            standardize=False).fit(Xin, y)
    ref = ElasticNetCV(l1_ratio=l1_ratio, **_n_alphas(30), cv=cv, tol=1e-11,
                       max_iter=100000).fit(Xin, y)
    assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.alpha_min_ == pytest.approx(ref.alpha_, rel=1e-12)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    # the 1-SE rule, written out independently on the chosen path
    mse = ours.mse_path_ if np.ndim(l1_ratio) == 0 else ours.mse_path_[
        list(np.atleast_1d(l1_ratio)).index(ours.l1_ratio_)]
    alphas = ours.alphas_ if np.ndim(l1_ratio) == 0 else ours.alphas_[
        list(np.atleast_1d(l1_ratio)).index(ours.l1_ratio_)]
    fw = np.array([len(te) for _, te in cv.split(X)], float)
    a_min, a_1se, m, se = _glmnet_rule(mse, alphas, fw)
    assert ours.alpha_min_ == a_min and ours.alpha_1se_ == a_1se
    assert ours.alpha_1se_ >= ours.alpha_min_
    mean = ours.cv_mean_ if np.ndim(l1_ratio) == 0 else ours.cv_mean_[
        list(np.atleast_1d(l1_ratio)).index(ours.l1_ratio_)]
    assert_allclose(mean, m, rtol=1e-12)


def test_rule_1se_refits_at_alpha_1se_and_groups_reach_splitter():
    X, y = _data(n=120, p=15, seed=7)
    groups = np.repeat(np.arange(6), 20)
    est = ElasticNetPathCV(alphas=20, cv=GroupKFold(3), rule="1se").fit(X, y, groups=groups)
    assert est.alpha_ == est.alpha_1se_ >= est.alpha_min_
    i = np.flatnonzero(est.alphas_ == est.alpha_)[0]
    assert_array_equal(est.coef_, est.coef_path_[:, i])
    assert est.mse_path_.shape == (20, 3) and est.cv_se_.shape == (20,)
    # held-out rows are whole groups: the fold errors equal a manual computation
    for k, (tr, te) in enumerate(GroupKFold(3).split(X, y, groups)):
        _, c, _ = enet_path(X[tr], y[tr], l1_ratio=0.5, alphas=est.alphas_,
                            fit_intercept=True, tol=1e-4)
        b = (y[tr].mean() - X[tr].mean(0) @ c)
        err = ((y[te, None] - X[te] @ c - b) ** 2).mean(0)
        assert_allclose(est.mse_path_[:, k], err, rtol=1e-3)


# ---------------------------------------------------------------------------------------
# Weights, penalty factors, standardisation
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [True, False, "sparse"])
def test_integer_weights_equal_repeated_rows(mode):
    X, y = _data(n=40, p=8, seed=8)
    sw = np.random.default_rng(0).integers(0, 4, len(y))
    sw[0] = 2
    Xr, yr = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    conv = (lambda A: sp.csc_matrix(A)) if mode == "sparse" else (lambda A: A)
    pre = "auto" if mode == "sparse" else mode
    grid = np.geomspace(1, 1e-3, 8)
    a1, c1, g1 = enet_path(conv(X), y, sample_weight=sw, alphas=grid, fit_intercept=True,
                           tol=1e-12, precompute=pre)
    a2, c2, g2 = enet_path(conv(Xr), yr, alphas=grid, fit_intercept=True, tol=1e-12,
                           precompute=pre)
    assert_allclose(c1, c2, atol=1e-8)


def test_penalty_factor_zero_and_rescaling():
    X, y = _data(n=100, p=10, seed=9)
    f = np.ones(10)
    f[3] = 0.0
    a, c, _ = enet_path(X, y, l1_ratio=1.0, n_alphas=5, penalty_factor=f, fit_intercept=True,
                        tol=1e-12, standardize=False)
    # at alpha_max only the unpenalised feature is non-zero: least squares on it
    Xc, yc = X - X.mean(0), y - y.mean()
    ls = Xc[:, 3] @ yc / (Xc[:, 3] @ Xc[:, 3])
    assert_allclose(c[:, 0], np.eye(10)[3] * ls, atol=1e-10)
    assert np.all(c[3] != 0)
    # a lasso penalty factor f_j equals dividing column j by f_j (f_j > 0)
    f2 = np.linspace(0.5, 2, 10)
    grid = a[1:]
    _, c_f, _ = enet_path(X, y, l1_ratio=1.0, alphas=grid, penalty_factor=f2,
                          fit_intercept=True, tol=1e-12, standardize=False)
    _, c_s, _ = enet_path(X / f2, y, l1_ratio=1.0, alphas=grid, fit_intercept=True,
                          tol=1e-12, standardize=False)
    assert_allclose(c_f, c_s / f2[:, None], atol=1e-8)


@pytest.mark.parametrize("mode", [True, False, "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_standardize_equals_prestandardised_fit(mode, fit_intercept):
    X, y = _data(n=80, p=6, seed=10)
    X = X * np.array([1, 10, 0.1, 3, 1, 5])
    X = np.column_stack([X, np.full(len(y), 2.0)])  # a constant column
    sw = np.random.default_rng(1).uniform(0.5, 2, len(y))
    N = sw.sum()
    mu = sw @ X / N
    sigma = np.sqrt(sw @ ((X - mu) ** 2) / N)
    Xs = X[:, :6] / sigma[:6]
    conv = (lambda A: sp.csc_matrix(A)) if mode == "sparse" else (lambda A: A)
    pre = "auto" if mode == "sparse" else mode
    grid = np.geomspace(1, 1e-3, 6)
    _, c_std, _ = enet_path(conv(X), y, l1_ratio=0.6, alphas=grid, standardize=True,
                            sample_weight=sw, fit_intercept=fit_intercept, tol=1e-12,
                            precompute=pre)
    _, c_pre, _ = enet_path(conv(Xs), y, l1_ratio=0.6, alphas=grid, sample_weight=sw,
                            fit_intercept=fit_intercept, tol=1e-12, precompute=pre)
    assert_allclose(c_std[:6], c_pre / sigma[:6, None], atol=1e-7)
    assert np.all(c_std[6] == 0)  # constant column: documented zero coefficient


# ---------------------------------------------------------------------------------------
# Backends, warnings, bad input
# ---------------------------------------------------------------------------------------

def test_same_result_under_joblib_backends():
    from joblib import parallel_backend
    X, y = _data(n=150, p=20, seed=11)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=15, cv=4, n_jobs=2)
    results = []
    backends = ["sequential", "threading", "loky"]
    try:
        import distributed  # noqa: F401
        backends.append("dask")
    except ImportError:
        pass
    for backend in backends:
        if backend == "dask":
            from distributed import Client, LocalCluster
            with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                              dashboard_address=None) as cluster, Client(cluster):
                with parallel_backend("dask"):
                    results.append(ElasticNetPathCV(**kw).fit(X, y))
        else:
            with parallel_backend(backend):
                results.append(ElasticNetPathCV(**kw).fit(X, y))
    for est in results[1:]:
        assert_array_equal(est.mse_path_, results[0].mse_path_)
        assert_array_equal(est.coef_, results[0].coef_)
    assert len(results) >= 3


def test_one_convergence_warning_naming_alphas():
    X, y = _data(n=100, p=60, seed=12)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        enet_path(X, y, n_alphas=10, max_iter=1, tol=1e-12, fit_intercept=True)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "alpha=" in str(conv[0].message)


def test_pure_ridge_needs_grid_and_matches_ridge():
    X, y = _data(n=50, p=5, seed=13)
    with pytest.raises(ValueError, match="l1_ratio=0"):
        enet_path(X, y, l1_ratio=0.0, standardize=False)
    with pytest.raises(ValueError, match="l1_ratio=0"):
        ElasticNetPathCV(l1_ratio=0.0, cv=3, standardize=False).fit(X, y)
    _, c, _ = enet_path(X, y, l1_ratio=0.0, alphas=[0.5], fit_intercept=True, tol=1e-14,
                        standardize=False)
    ref = Ridge(alpha=0.5 * len(y)).fit(X, y)  # Ridge's objective is not divided by n
    assert_allclose(c[:, 0], ref.coef_, atol=1e-6)


def test_constant_y_gives_null_model():
    X, _ = _data(n=40, p=5, seed=14)
    y = np.full(40, 3.0)
    est = ElasticNetPathCV(alphas=5, cv=3).fit(X, y)
    assert np.all(est.coef_path_ == 0) and est.intercept_ == pytest.approx(3.0)
    assert_allclose(est.predict(X), 3.0)


def test_bad_input_and_user_arrays_untouched():
    X, y = _data(n=30, p=4, seed=15)
    X.setflags(write=False)
    y.setflags(write=False)
    X0, y0 = X.copy(), y.copy()
    sw = np.ones(30)
    sw.setflags(write=False)
    ElasticNetPathCV(alphas=5, cv=3, standardize=True).fit(np.asfortranarray(X), y, sw)
    ElasticNetPathCV(alphas=5, cv=3).fit(sp.csc_matrix(X), y)
    assert_array_equal(X, X0) and assert_array_equal(y, y0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ElasticNetPathCV(cv=3).fit(Xn, y)
    yi = y.copy()
    yi[1] = np.inf
    with pytest.raises(ValueError, match="inf"):
        ElasticNetPathCV(cv=3).fit(X, yi)
    with pytest.raises(ValueError, match="inconsistent|samples"):
        ElasticNetPathCV(cv=3).fit(X, y[:-1])
    with pytest.raises(ValueError, match="alphas"):
        ElasticNetPathCV(alphas=[1.0, -0.5], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        ElasticNetPathCV(alphas=[1.0, np.inf], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetPathCV(l1_ratio=1.5, cv=3).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        ElasticNetPathCV(l1_ratio=[0.5, -0.1], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="penalty_factor"):
        ElasticNetPathCV(penalty_factor=[1, 1], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="penalty_factor"):
        ElasticNetPathCV(penalty_factor=[1, -1, 1, 1], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="n_samples=30"):
        ElasticNetPathCV(cv=31).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        ElasticNetPathCV(cv=3).fit(X, y, sample_weight=np.ones(29))
    with pytest.raises(ValueError, match="rule"):
        ElasticNetPathCV(rule="2se", cv=3).fit(X, y)


def test_no_copy_of_X_in_residual_modes_and_penalty_kkt():
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    from sklearn_normpen.penalties import ElasticNetPenalty
    X, y = _data(n=30, p=50, seed=16)
    X = np.asfortranarray(X)
    Xs = sp.csc_matrix(X)
    assert EnetProblem(Design(X, y, None, True), "dense").design.Xk is X
    pb = EnetProblem(Design(Xs, y, None, True), "sparse")
    assert np.shares_memory(pb.design.X.data, Xs.data) and pb.X_data is Xs.data
    # the penalty object's KKT distance agrees with the NumPy reference above
    a, c, _ = enet_path(X, y, l1_ratio=0.6, n_alphas=5, fit_intercept=True, tol=1e-6)
    pen = ElasticNetPenalty(0.6, np.ones(50))
    Xc, yc = X - X.mean(0), y - y.mean()
    for k in range(5):
        grad = Xc.T @ (yc - Xc @ c[:, k]) / len(y)
        assert_allclose(pen.kkt_violation(grad, c[:, k], a[k]),
                        _np_gap_kkt(X, y, c[:, k], a[k], 0.6)[1], rtol=1e-10, atol=1e-14)
