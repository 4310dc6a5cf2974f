"""Relaxed fits (relax=True): gamma = 1 is the ordinary path, gamma = 0 the least-squares
refit on the active set (numpy.linalg.lstsq), the CV table equals a direct NumPy
computation, and the joint (alpha, gamma) rule."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold

from sklearn_normpen import ElasticNetPathCV, GroupLassoPathCV, enet_path
from sklearn_normpen.selection import cv_statistics


def _data(n=120, p=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 4] += 50.0  # an offset column
    y = 2.0 + X[:, 0] - 1.5 * X[:, 1] + 0.8 * X[:, 2] + 0.7 * rng.standard_normal(n)
    return X, y


def _lstsq_active(X, y, A, sw=None, fit_intercept=True):
    """OLS on the columns A (with an intercept column), weighted: independent reference."""
    n = X.shape[0]
    M = X[:, A]
    if fit_intercept:
        M = np.column_stack([np.ones(n), M])
    r = np.ones(n) if sw is None else np.sqrt(sw)
    sol = np.linalg.lstsq(M * r[:, None], y * r, rcond=None)[0]
    return (sol[1:], sol[0]) if fit_intercept else (sol, 0.0)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_gamma_one_is_the_path_and_gamma_zero_is_ols_on_active_set(precompute, weighted):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.3, 2.0, X.shape[0]) if weighted else None
    kw = dict(l1_ratio=0.8, alphas=20, cv=3, precompute=precompute, tol=1e-10,
              random_state=0)
    r = ElasticNetPathCV(relax=True, relax_gamma=[0.0, 0.5], **kw).fit(X, y, sample_weight=sw)
    plain = ElasticNetPathCV(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(r.relax_gammas_, [1.0, 0.5, 0.0])  # 1 added, decreasing
    np.testing.assert_array_equal(r.relaxed_coef_path_[0], plain.coef_path_)
    # (the same fits; the plain CV in covariance mode scores them from the held-out rows'
    # moments, the relaxed CV from their predictions: equal to rounding)
    np.testing.assert_allclose(r.relaxed_mse_path_[0], plain.mse_path_, rtol=1e-12)
    np.testing.assert_allclose(r.mse_path_, plain.mse_path_, rtol=1e-12)
    for k in range(r.alphas_.size):
        A = np.flatnonzero(r.coef_path_[:, k])
        if A.size == 0:
            continue
        w, b = _lstsq_active(X, y, A, sw)
        np.testing.assert_allclose(r.relaxed_coef_path_[2][A, k], w, rtol=1e-7, atol=1e-9)
        assert r.relaxed_intercept_path_[2, k] == pytest.approx(b, rel=1e-7)
        assert not np.any(r.relaxed_coef_path_[2][np.setdiff1d(np.arange(15), A), k])
        # gamma = 0.5: the blend
        np.testing.assert_allclose(r.relaxed_coef_path_[1][:, k],
                                   0.5 * (r.coef_path_[:, k] + r.relaxed_coef_path_[2][:, k]),
                                   rtol=1e-12, atol=1e-12)


def test_relaxed_cv_table_equals_direct_computation():
    X, y = _data(n=90, p=10, seed=2)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    gammas = [1.0, 0.6, 0.0]
    r = ElasticNetPathCV(l1_ratio=1.0, alphas=12, cv=splits, relax=True, relax_gamma=gammas,
                         tol=1e-12, precompute=False).fit(X, y)
    expect = np.empty((3, 12, 3))
    for f, (tr, te) in enumerate(splits):
        Xt, yt = X[tr], y[tr]
        xm, ym = Xt.mean(0), yt.mean()
        _, coefs, _ = enet_path(Xt - xm, yt - ym, l1_ratio=1.0, alphas=r.alphas_, tol=1e-12)
        for k in range(12):
            w = coefs[:, k]
            b = ym - xm @ w
            A = np.flatnonzero(w)
            w0 = np.zeros(10)
            if A.size:
                w0[A], b0 = _lstsq_active(Xt, yt, A)
            else:
                b0 = ym
            for g, gam in enumerate(gammas):
                wg, bg = gam * w + (1 - gam) * w0, gam * b + (1 - gam) * b0
                expect[g, k, f] = np.mean((y[te] - X[te] @ wg - bg) ** 2)
    np.testing.assert_allclose(r.relaxed_mse_path_, expect, rtol=1e-6)
    # the joint rule: simplest (largest alpha, then largest gamma) at the minimum mean
    mean, se = cv_statistics(expect, [len(te) for _, te in splits])
    best = np.min(mean)
    cands = [(r.alphas_[k], gammas[g]) for g in range(3) for k in range(12)
             if np.isclose(mean[g, k], best, rtol=1e-9)]
    assert (r.alpha_min_, r.relax_gamma_min_) == max(cands)
    g0, k0 = np.unravel_index(np.argmin(mean), mean.shape)
    thr = mean[g0, k0] + se[g0, k0]
    ok = [(r.alphas_[k], gammas[g]) for g in range(3) for k in range(12)
          if mean[g, k] <= thr * (1 + 1e-12)]
    assert (r.alpha_1se_, r.relax_gamma_1se_) == max(ok)
    assert r.alpha_1se_ >= r.alpha_min_
    # coef_ is the relaxed fit at the chosen point
    i = int(np.flatnonzero(r.alphas_ == r.alpha_)[0])
    g = int(np.flatnonzero(r.relax_gammas_ == r.relax_gamma_)[0])
    np.testing.assert_array_equal(r.coef_, r.relaxed_coef_path_[g, :, i])
    np.testing.assert_allclose(r.predict(X), X @ r.coef_ + r.intercept_)


def test_relaxed_lasso_beats_shrinkage_on_strong_sparse_signal():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 40))
    beta = np.zeros(40)
    beta[:3] = [3.0, -2.0, 2.0]
    y = X @ beta + 0.3 * rng.standard_normal(300)
    r = ElasticNetPathCV(l1_ratio=1.0, relax=True, random_state=0).fit(X, y)
    assert r.relax_gamma_ == 0.0  # OLS on the selected set is the best blend here
    assert np.min(r.relaxed_cv_mean_) < np.min(r.cv_mean_)
    A = np.flatnonzero(r.coef_)
    w, _ = _lstsq_active(X, y, A)
    np.testing.assert_allclose(r.coef_[A], w, rtol=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
def test_group_relaxed_gamma_zero_is_ols(sparse):
    X, y = _data(n=100, p=12, seed=4)
    groups = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    Xin = sp.csc_matrix(X) if sparse else X
    r = GroupLassoPathCV(groups=groups, alphas=10, cv=3, relax=True, relax_gamma=0.0,
                         tol=1e-10, random_state=0).fit(Xin, y)
    plain = GroupLassoPathCV(groups=groups, alphas=10, cv=3, tol=1e-10,
                             random_state=0).fit(Xin, y)
    # the plain CV of dense float64 data runs in covariance mode, the relaxed one on the
    # data: two certified solutions (gap <= 1e-10 of the null deviance, so coefficients
    # within ~1e-5 of each other), not the same rounding
    np.testing.assert_allclose(r.mse_path_, plain.mse_path_, rtol=1e-7)
    np.testing.assert_array_equal(r.relax_gammas_, [1.0, 0.0])
    for k in range(10):
        A = np.flatnonzero(r.coef_path_[:, k])
        if A.size:
            w, b = _lstsq_active(X, y, A)
            np.testing.assert_allclose(r.relaxed_coef_path_[1][A, k], w, rtol=1e-7,
                                       atol=1e-9)
            assert r.relaxed_intercept_path_[1, k] == pytest.approx(b, rel=1e-7)
    assert r.group_norms_.shape == (4,)
    np.testing.assert_allclose(r.group_norms_,
                               [np.linalg.norm(r.coef_[g]) for g in groups])


def test_relaxed_float32_and_l1_ratio_list():
    X, y = _data(n=80, p=8, seed=5)
    r = ElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3, relax=True,
                         random_state=0).fit(X.astype(np.float32), y.astype(np.float32))
    assert r.coef_.dtype == np.float32
    assert r.relaxed_mse_path_.shape == (2, 5, 10, 3)
    assert r.relaxed_coef_path_.shape == (5, 8, 10)


@pytest.mark.parametrize("gamma", [1.5, -0.1, [0.2, 2.0], [], "half"])
@pytest.mark.parametrize("cls", [ElasticNetPathCV, GroupLassoPathCV])
def test_bad_gamma(cls, gamma):
    X, y = _data(n=40, p=6)
    with pytest.raises(ValueError, match="relax_gamma"):
        cls(relax=True, relax_gamma=gamma, alphas=5, cv=3).fit(X, y)


@pytest.mark.parametrize("mode", ["gram", "dense"])
def test_active_set_ls_singular_sets_give_min_norm_least_squares(mode):
    from sklearn_normpen._design import Design
    from sklearn_normpen._relaxed import ActiveSetLS
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    rng = np.random.default_rng(9)
    n, p = (60, 20) if mode == "gram" else (15, 30)
    X = rng.standard_normal((n, p))
    X[:, 5] = X[:, 3]  # an exactly collinear pair
    y = rng.standard_normal(n)
    prob = EnetProblem(Design(np.asfortranarray(X), y, None, True), mode)
    ls = ActiveSetLS(prob)
    Xc, yc = X - X.mean(0), y - y.mean()
    grow = [np.array([0, 1, 2]), np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3, 5]),
            np.arange(min(p, n + 3)), np.array([1, 2, 4])]
    ls.prepare(np.unique(np.concatenate(grow)))
    for A in grow:
        w, b = ls.fit(A)
        ref = np.linalg.lstsq(Xc[:, A], yc, rcond=None)[0]  # minimum-norm
        np.testing.assert_allclose(w, ref, rtol=1e-6, atol=1e-8)
        assert b == pytest.approx(y.mean() - X[:, A].mean(0) @ w, abs=1e-10)
        singular = np.linalg.matrix_rank(Xc[:, A]) < A.size
        assert ls.is_singular(A) == singular


@pytest.mark.parametrize("mode, kind", [
    (m, k) for m in ("gram", "dense") for k in ("chain", "drop", "collinear chain")]
    + [("dense", "wide chain")])  # (covariance mode is built for n >= p only)
def test_active_set_ls_fit_path_equals_lstsq_per_point(mode, kind):
    """``fit_path``: one factor for a chain of nested sets, one solve per set otherwise
    (a feature leaves, a collinear pair, more columns than rows): every point equals
    numpy's least squares on its centred columns, NaN-free, zero outside its set."""
    from sklearn_normpen._design import Design
    from sklearn_normpen._relaxed import ActiveSetLS
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    rng = np.random.default_rng(3)
    n, p = (12, 20) if kind == "wide chain" else (80, 20)
    X = rng.standard_normal((n, p)) * rng.uniform(0.01, 100, p) + rng.uniform(-1e3, 1e3, p)
    if kind == "collinear chain":
        X[:, 7] = 2 * X[:, 2] - 1.0
    y = rng.standard_normal(n)
    entry = [[], [], [3], [3, 2], [3, 2], [3, 2, 11, 7], [3, 2, 11, 7, 0, 19],
             list(range(p))]
    if kind == "drop":
        entry[-2] = [3, 11, 7, 0, 19]  # 2 leaves, then everything enters
    if kind == "wide chain":
        entry[-1] = list(range(n + 2))
    coefs = np.zeros((p, len(entry)))
    for k, A in enumerate(entry):
        coefs[A, k] = rng.uniform(0.5, 1.0, len(A))
    prob = EnetProblem(Design(np.asfortranarray(X), y, None, True), mode)
    W, b, singular = ActiveSetLS(prob).fit_path(coefs)
    Xc, yc = X - X.mean(0), y - y.mean()
    for k, A in enumerate(entry):
        A = np.sort(np.asarray(A, dtype=int))
        ref = np.linalg.lstsq(Xc[:, A], yc, rcond=None)[0] if A.size else np.zeros(0)
        rank_deficient = A.size and np.linalg.matrix_rank(Xc[:, A]) < A.size
        assert singular[k] == bool(rank_deficient)
        scale = np.abs(ref).max() if A.size else 1.0
        np.testing.assert_allclose(W[A, k], ref, rtol=1e-7, atol=1e-7 * scale)
        assert not np.any(W[np.setdiff1d(np.arange(p), A), k])
        assert b[k] == pytest.approx(y.mean() - X[:, A].mean(0) @ W[A, k], rel=1e-8,
                                     abs=1e-8)
