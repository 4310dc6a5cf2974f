"""Issue 11 speed work kept honest: the faster routes give the quantities of the direct
ones (SpectralRidgeCV's AIC/BIC against a hat matrix formed in NumPy; the Gram-based group
df / σ² / RSS against the row-based ones; the one-thread BLAS context restores the pool)."""
import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_normpen import GroupLassoIC, GroupLassoPathCV, SpectralRidgeCV
from sklearn_normpen._threads import single_blas_thread
from sklearn_normpen.selection import df_group_lasso, path_information_criterion


def _data(n, p, n_targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-2, 2, p)
    w = rng.standard_normal((p,) if n_targets is None else (p, n_targets))
    y = X @ w + 0.5 * rng.standard_normal((n,) if n_targets is None else (n, n_targets)) + 1.5
    return X, y, rng.integers(1, 4, n).astype(float)


def _hat(X, sw, alpha, fit_intercept):
    """Hat matrix in the sqrt(s)-scaled space, formed directly (intercept unpenalised)."""
    n = X.shape[0]
    D = np.sqrt(sw)
    A = D[:, None] * (np.hstack([np.ones((n, 1)), X]) if fit_intercept else X)
    P = alpha * np.eye(A.shape[1])
    if fit_intercept:
        P[0, 0] = 0.0
    return A @ np.linalg.solve(A.T @ A + P, A.T)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
@pytest.mark.parametrize("shape", [(30, 6), (12, 25)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_spectral_ridge_cv_information_criteria_equal_numpy(criterion, shape,
                                                             fit_intercept, weighted):
    X, y, sw = _data(*shape, n_targets=2)
    s = sw if weighted else np.ones(shape[0])
    alphas = np.array([30.0, 3.0, 0.3, 0.03])
    est = SpectralRidgeCV(alphas=alphas, cv=criterion, fit_intercept=fit_intercept,
                          alpha_per_target=True).fit(X, y, sample_weight=s if weighted
                                                     else None)
    n = s.sum()
    k = 2.0 if criterion == "aic" else np.log(n)
    for a_idx, alpha in enumerate(est.alphas_):
        H = _hat(X, s, alpha, fit_intercept)
        ys = np.sqrt(s)[:, None] * y
        rss = ((ys - H @ ys) ** 2).sum(axis=0)
        expect = n * np.log(rss / n) + k * np.trace(H)
        np.testing.assert_allclose(est.cv_mean_[:, a_idx], expect, rtol=1e-8)
    assert est.criterion_ == criterion
    assert np.all(np.isnan(est.cv_se_))
    np.testing.assert_array_equal(est.alpha_, est.alphas_[np.argmin(est.cv_mean_, axis=1)])
    one = SpectralRidgeCV(alphas=alphas, cv=criterion, fit_intercept=fit_intercept).fit(
        X, y, sample_weight=s if weighted else None)
    np.testing.assert_allclose(one.cv_mean_, est.cv_mean_.mean(axis=0), rtol=1e-12)


def test_spectral_ridge_cv_criterion_weights_are_frequencies_and_errors():
    X, y, sw = _data(25, 5)
    rep = np.repeat(np.arange(25), sw.astype(int))
    a = SpectralRidgeCV(alphas=8, cv="bic").fit(X, y, sample_weight=sw)
    b = SpectralRidgeCV(alphas=a.alphas_, cv="bic").fit(X[rep], y[rep])
    np.testing.assert_allclose(a.cv_mean_, b.cv_mean_, rtol=1e-9)
    assert a.alpha_ == b.alpha_
    s = SpectralRidgeCV(alphas=a.alphas_, cv="bic").fit(sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(s.cv_mean_, a.cv_mean_, rtol=1e-8)
    with pytest.raises(ValueError, match="AIC"):
        SpectralRidgeCV(cv="aic", rule="1se").fit(X, y)
    with pytest.raises(ValueError, match="cv"):
        SpectralRidgeCV(cv="mdl").fit(X, y)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_group_df_from_gram_equals_rows(fit_intercept):
    from sklearn_normpen._design import Design, centred_gram
    rng = np.random.default_rng(3)
    X = rng.standard_normal((70, 12)) * rng.uniform(0.1, 10, 12) + 5.0  # offset columns
    y = X[:, :3] @ [1.0, -0.5, 0.2] + rng.standard_normal(70)
    sw = rng.uniform(0.2, 3, 70)
    groups = [[0, 1, 2], [3, 4, 5, 6], [7, 8], [9, 10, 11]]
    m = GroupLassoPathCV(groups=groups, alphas=15, cv=3, l1_ratio=0.3,
                         fit_intercept=fit_intercept, tol=1e-10).fit(X, y, sample_weight=sw)
    d = Design(X, y, sw, fit_intercept)
    Q, q, *_ = centred_gram(d.gram_stats(), fit_intercept)
    scale = rng.uniform(0.5, 2, 12)
    rows = df_group_lasso(X, y, m.coef_path_, groups, sample_weight=sw,
                          fit_intercept=fit_intercept, scale=scale)
    gram = df_group_lasso(X, y, m.coef_path_, groups, sample_weight=sw,
                          fit_intercept=fit_intercept, scale=scale,
                          gram=(Q, q, d.x_mean, d.y_mean))
    assert np.all(np.isfinite(rows)) and np.ptp(rows) > 1
    np.testing.assert_allclose(gram, rows, rtol=1e-9)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_group_ic_gram_route_equals_row_route_with_weights(criterion):
    # GroupLassoIC (p <= n: σ², df and RSS from the Gram) against path_information_criterion
    # (the rows: lstsq σ², row-based refits, residuals) on the same path
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 10)) + 3.0
    y = X[:, :4] @ [1.0, -1.0, 0.5, 0.5] + 0.7 * rng.standard_normal(90)
    sw = rng.integers(1, 4, 90).astype(float)
    groups = [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    cv = GroupLassoPathCV(groups=groups, alphas=12, cv=3, standardize=True,
                          tol=1e-11).fit(X, y, sample_weight=sw)
    ic = GroupLassoIC(groups=groups, alphas=cv.alphas_, standardize=True, criterion=criterion,
                      tol=1e-11).fit(X, y, sample_weight=sw)
    out = path_information_criterion(cv, X, y, criterion=criterion, sample_weight=sw)
    np.testing.assert_allclose(ic.noise_variance_, out["noise_variance"], rtol=1e-9)
    np.testing.assert_allclose(ic.df_path_, out["df"], rtol=1e-7)
    np.testing.assert_allclose(ic.criterion_path_, out["criterion"], rtol=1e-7)
    # the RSS path against residuals computed here
    r = y[:, None] - (X @ ic.coef_path_ + ic.intercept_path_)
    np.testing.assert_allclose(ic.rss_path_, sw @ r ** 2, rtol=1e-7)


def test_single_blas_thread_restores_the_pool():
    from threadpoolctl import threadpool_info
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with single_blas_thread():
        inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert all(t == 1 for t in inside)
    assert after == before


def _direct_df(X, coefs, alphas, rho, f, fit_intercept):
    """tr(X_A (X_AᵀX_A + n·α(1-ρ)·F_A)⁻¹ X_Aᵀ) per point, by a dense solve (unit weights)."""
    n = X.shape[0]
    Xc = X - X.mean(0) if fit_intercept else X
    out = []
    for k, a in enumerate(alphas):
        A = np.flatnonzero(coefs[:, k])
        if A.size == 0:
            out.append(0.0 + fit_intercept)
            continue
        XA = Xc[:, A]
        M = XA.T @ XA + n * a * (1 - rho) * np.diag(f[A])
        out.append(np.trace(XA @ np.linalg.solve(M, XA.T)) + fit_intercept)
    return np.array(out)


@pytest.mark.parametrize("n, p", [(40, 30), (15, 60)])
def test_df_elastic_net_incremental_sets_equal_direct_traces(n, p):
    # active sets that grow, shrink, swap and exceed n (singular G_A): the base-and-border
    # updates of _RidgeTrace against a dense solve at every point
    from sklearn_normpen.selection import df_elastic_net
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, p)) * rng.uniform(0.2, 5, p) + 2.0
    K = 60
    coefs = np.zeros((p, K))
    active = set()
    for k in range(K):
        for _ in range(rng.integers(0, 4)):
            active.add(int(rng.integers(p)))
        if active and rng.random() < 0.4:
            for j in rng.choice(sorted(active), size=min(len(active), rng.integers(1, 3)),
                                replace=False):
                active.discard(int(j))
        coefs[sorted(active), k] = rng.standard_normal(len(active))
    alphas = np.geomspace(5.0, 1e-3, K)
    f = rng.uniform(0.5, 2.0, p)
    got = df_elastic_net(X, coefs, alphas, l1_ratio=0.4, l2_factor=f, fit_intercept=True)
    np.testing.assert_allclose(got, _direct_df(X, coefs, alphas, 0.4, f, True),
                               rtol=1e-9, atol=1e-10)
    if p > n:
        assert max((coefs != 0).sum(0)) > n  # singular G_A on the way


def test_df_elastic_net_zero_alpha_is_the_rank():
    from sklearn_normpen.selection import df_elastic_net
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 6))
    coefs = np.array([[1.0, 0, 2, 0, 0, 3], [1.0, 1, 1, 1, 1, 1]]).T
    got = df_elastic_net(X, coefs, [0.0, 0.0], l1_ratio=0.5, fit_intercept=True)
    np.testing.assert_allclose(got, [4.0, 7.0], rtol=1e-12)


def test_df_elastic_net_zero_alpha_counts_the_rank_of_collinear_columns():
    # alpha = 0 (no shift): tr(G_A G_A⁺) is the rank of X_A, not |A|, when columns are
    # collinear (numerically tiny eigenvalues must not count as 1 each)
    from sklearn_normpen.selection import df_elastic_net
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 6))
    X[:, 4] = 3 * X[:, 1] - 2 * X[:, 2]
    X[:, 5] = -X[:, 0]
    coefs = np.array([[1.0, 1, 1, 0, 1, 0], [1.0, 1, 1, 1, 1, 1]]).T
    got = df_elastic_net(X, coefs, [0.0, 0.0], l1_ratio=0.5, fit_intercept=True)
    np.testing.assert_allclose(got, [3.0 + 1, 4.0 + 1], rtol=1e-12)
