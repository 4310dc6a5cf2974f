"""SpectralRidge / SpectralRidgeCV against independent references: scikit-learn's Ridge and
RidgeCV, brute-force refits, np.linalg.lstsq and hat matrices formed directly."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold

from sklearn_normpen import SpectralRidge, SpectralRidgeCV
from sklearn_normpen.selection import cv_statistics, select_min_1se

SOLVERS = ["auto", "svd", "gram", "kernel"]
ALPHAS = np.array([300.0, 30.0, 3.0, 0.3, 0.03, 3e-3])


def _data(n, p, n_targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + rng.uniform(-2, 2, p)
    w = rng.standard_normal((p,) if n_targets is None else (p, n_targets))
    y = X @ w + 0.5 * rng.standard_normal((n,) if n_targets is None else (n, n_targets)) + 1.5
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _hat(X, sw, alpha, fit_intercept):
    """Hat matrix of the weighted problem in the sqrt(s)-scaled space, formed directly:
    design [sqrt(s), sqrt(s) X] with the intercept column unpenalised."""
    n, p = X.shape
    D = np.sqrt(sw)
    A = D[:, None] * (np.hstack([np.ones((n, 1)), X]) if fit_intercept else X)
    P = alpha * np.eye(A.shape[1])
    if fit_intercept:
        P[0, 0] = 0.0
    return A @ np.linalg.solve(A.T @ A + P, A.T)


# --------------------------------------------------------------------------- coefficients

@pytest.mark.parametrize("shape", [(60, 12), (15, 40)])
# svd is dense-only: that combination is tested to raise in test_sparse_not_densified_and_svd_rejected.
@pytest.mark.parametrize("solver, sparse",
                         [(s, sp_) for s in SOLVERS for sp_ in (False, True)
                          if not (sp_ and s == "svd")])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 3])
def test_coef_matches_sklearn_ridge(shape, solver, sparse, fit_intercept, weighted, n_targets):
    X, y, sw = _data(*shape, n_targets=n_targets)
    sw = sw if weighted else None
    Xf = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0)) if sparse else X
    est = SpectralRidge(alpha=ALPHAS[2], fit_intercept=fit_intercept, solver=solver)
    est.fit(Xf, y, sample_weight=sw)
    coefs, intercepts = est.path(ALPHAS)
    for a_idx, alpha in enumerate(ALPHAS):
        ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky",
                    tol=1e-12).fit(Xf.toarray() if sparse else Xf, y, sample_weight=sw)
        got_c = coefs[..., a_idx]
        got_b = intercepts[..., a_idx]
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(got_c, ref.coef_, rtol=1e-7, atol=1e-8 * scale)
        np.testing.assert_allclose(got_b, ref.intercept_ if fit_intercept else 0 * got_b,
                                   rtol=1e-7, atol=1e-8 * (1 + scale))
        if alpha == ALPHAS[2]:
            np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-8 * scale)
            np.testing.assert_allclose(est.predict(Xf), ref.predict(Xf), rtol=1e-7,
                                       atol=1e-7)


def test_per_target_alpha_matches_sklearn():
    X, y, sw = _data(50, 8, n_targets=3)
    alpha = np.array([0.1, 5.0, 200.0])
    ours = SpectralRidge(alpha=alpha).fit(X, y, sample_weight=sw)
    ref = Ridge(alpha=alpha).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)
    assert ours.df_.shape == (3,)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(40, 7), (9, 30)])
def test_df_is_trace_of_hat_matrix(fit_intercept, weighted, shape):
    X, y, sw = _data(*shape)
    sw = sw if weighted else np.ones(shape[0])
    for alpha in (0.05, 2.0, 80.0):
        est = SpectralRidge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
        tr = np.trace(_hat(X, sw, alpha, fit_intercept))
        np.testing.assert_allclose(est.df_ + fit_intercept, tr, rtol=1e-9)
        np.testing.assert_allclose(est.df([alpha]), [est.df_], rtol=1e-12)


# --------------------------------------------------------------------------- numerical edges

@pytest.mark.parametrize("shape", [(50, 10), (10, 50)])
@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_to_zero_is_min_norm_lstsq_rank_deficient(shape, solver):
    rng = np.random.default_rng(3)
    n, p = shape
    B = rng.standard_normal((n, 4))
    X = B @ rng.standard_normal((4, p))         # rank 4, heavily collinear
    X[:, 1] = X[:, 0]                           # exact duplicate column
    y = rng.standard_normal(n)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    est = SpectralRidge(alpha=0.0, fit_intercept=False, solver=solver).fit(X, y)
    assert est.rank_ == 4
    np.testing.assert_allclose(est.coef_, ref, rtol=1e-6, atol=1e-8 * np.abs(ref).max())
    coefs, _ = est.path([1e-10, 1e-13])
    np.testing.assert_allclose(coefs[:, -1], ref, rtol=1e-5, atol=1e-7 * np.abs(ref).max())
    # with an intercept: the min-norm least squares on the centred data
    est = SpectralRidge(alpha=0.0, solver=solver).fit(X, y)
    Xc = X - X.mean(0)
    ref_c = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(est.coef_, ref_c, rtol=1e-6, atol=1e-8 * np.abs(ref_c).max())
    np.testing.assert_allclose(est.intercept_, y.mean() - X.mean(0) @ ref_c, rtol=1e-6,
                               atol=1e-8)


def test_auto_falls_back_to_svd_on_collinear_dense():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 6))
    X = np.hstack([X, X[:, :2] + 1e-9 * rng.standard_normal((80, 2))])
    y = rng.standard_normal(80)
    assert SpectralRidge(solver="auto").fit(X, y).solver_ == "svd"
    assert SpectralRidge(solver="auto").fit(rng.standard_normal((80, 6)), y).solver_ == "gram"
    assert SpectralRidge(solver="auto").fit(rng.standard_normal((6, 80)), y[:6]).solver_ \
        == "kernel"


def test_very_large_alpha_gives_mean_model():
    X, y, sw = _data(40, 6)
    est = SpectralRidge(alpha=1e300).fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(est.coef_)) and np.abs(est.coef_).max() < 1e-290
    np.testing.assert_allclose(est.intercept_, np.average(y, weights=sw), rtol=1e-12)
    ref = Ridge(alpha=1e8).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(SpectralRidge(alpha=1e8).fit(X, y, sample_weight=sw).coef_,
                               ref.coef_, rtol=1e-8)


def test_float32_kept_and_decomposed_in_float64():
    # Singular values spread over 1e-3..1: a float32 Gram would lose the small ones.
    rng = np.random.default_rng(5)
    Q1, _ = np.linalg.qr(rng.standard_normal((200, 8)))
    Q2, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    X = ((Q1 * np.logspace(0, -3, 8)) @ Q2).astype(np.float32)
    y = rng.standard_normal(200).astype(np.float32)
    est = SpectralRidge(alpha=1e-7, fit_intercept=False).fit(X, y)
    assert est.coef_.dtype == np.float32 and est.predict(X).dtype == np.float32
    ref = SpectralRidge(alpha=1e-7, fit_intercept=False).fit(X.astype(np.float64),
                                                             y.astype(np.float64))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5)
    cv = SpectralRidgeCV(alphas=[1.0, 1e-3]).fit(X, y)
    assert cv.coef_.dtype == np.float32 and cv.coef_path_.dtype == np.float32


def test_sparse_not_densified_and_svd_rejected():
    X, y, _ = _data(30, 8)
    Xs = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="dense"):
        SpectralRidge(solver="svd").fit(Xs, y)
    est = SpectralRidge(alpha=1.0).fit(Xs, y)
    assert est.solver_ == "gram"


# --------------------------------------------------------------------------- leave-one-out

def _brute_loo(X, y, sw, alpha, fit_intercept):
    """Squared LOO errors by n refits with sklearn's Ridge (shape (n,) or (n, T))."""
    n = X.shape[0]
    out = np.empty(y.shape)
    for i in range(n):
        keep = np.arange(n) != i
        m = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky").fit(
            X[keep], y[keep], sample_weight=None if sw is None else sw[keep])
        out[i] = (y[i] - m.predict(X[i:i + 1])[0]) ** 2
    return out


@pytest.mark.parametrize("shape", [(30, 6), (12, 25)])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_equals_refits_and_sklearn(shape, solver, fit_intercept, weighted):
    X, y, sw = _data(*shape, n_targets=2)
    sw = sw if weighted else None
    alphas = np.array([20.0, 1.0, 0.05])
    est = SpectralRidgeCV(alphas=alphas, fit_intercept=fit_intercept, solver=solver,
                          store_cv_values=True, alpha_per_target=True).fit(X, y, sample_weight=sw)
    assert est.cv_values_.shape == (shape[0], 2, 3)
    for a_idx, alpha in enumerate(est.alphas_):
        ref = _brute_loo(X, y, sw, alpha, fit_intercept)
        np.testing.assert_allclose(est.cv_values_[:, :, a_idx], ref, rtol=1e-7, atol=1e-10)
    skl = RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True,
                  alpha_per_target=True).fit(X, y, sample_weight=sw)
    s = np.ones(shape[0]) if sw is None else sw
    # sklearn's grid is in the user's order (increasing here is reversed): align by value.
    order = [list(alphas).index(a) for a in est.alphas_]
    np.testing.assert_allclose(est.cv_values_ * s[:, None, None],
                               skl.cv_results_[:, :, order], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(est.alpha_, skl.alpha_)
    np.testing.assert_allclose(est.coef_, skl.coef_, rtol=1e-7, atol=1e-9)


def test_loo_sparse_and_zero_weight():
    X, y, sw = _data(25, 10)
    X = np.where(np.abs(X) > 1.0, X, 0.0)
    sw[3] = 0.0
    alphas = [5.0, 0.5]
    est = SpectralRidgeCV(alphas=alphas, store_cv_values=True).fit(
        sp.csc_matrix(X), y, sample_weight=sw)
    for a_idx, alpha in enumerate(est.alphas_):
        np.testing.assert_allclose(est.cv_values_[:, a_idx], _brute_loo(X, y, sw, alpha, True),
                                   rtol=1e-7, atol=1e-10)


def test_loo_statistics_are_the_shared_ones():
    X, y, sw = _data(40, 5, n_targets=3)
    for per_target in (False, True):
        est = SpectralRidgeCV(alphas=np.logspace(2, -2, 9), store_cv_values=True,
                              alpha_per_target=per_target, rule="1se").fit(X, y, sample_weight=sw)
        mean, se = cv_statistics(est.mse_path_, sw)
        np.testing.assert_allclose(est.cv_mean_, mean, rtol=1e-9)
        np.testing.assert_allclose(est.cv_se_, se, rtol=1e-6)
        if per_target:
            for t in range(3):
                i_min, i_1se = select_min_1se(mean[t], se[t], est.alphas_)
                assert est.alpha_[t] == est.alphas_[i_1se]
                assert est.alpha_1se_[t] >= est.alpha_min_[t]
        else:
            i_min, i_1se = select_min_1se(mean, se, est.alphas_)
            assert est.alpha_ == est.alphas_[i_1se] and est.alpha_min_ == est.alphas_[i_min]
        # without storing, the statistics come from the kernel's running sums
        est2 = SpectralRidgeCV(alphas=np.logspace(2, -2, 9), alpha_per_target=per_target,
                               rule="1se").fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(est2.cv_mean_, mean, rtol=1e-9)
        np.testing.assert_allclose(est2.cv_se_, se, rtol=1e-6)
        assert est2.mse_path_ is None and not hasattr(est2, "cv_values_")


def test_loo_selection_matches_brute_force_search():
    X, y, _ = _data(25, 6, n_targets=2, seed=7)
    alphas = np.logspace(2, -2, 7)
    est = SpectralRidgeCV(alphas=alphas, alpha_per_target=True).fit(X, y)
    brute = np.array([_brute_loo(X, y, None, a, True).mean(axis=0) for a in est.alphas_])
    np.testing.assert_allclose(est.cv_mean_, brute.T, rtol=1e-7)
    np.testing.assert_array_equal(est.alpha_, est.alphas_[np.argmin(brute, axis=0)])
    est1 = SpectralRidgeCV(alphas=alphas).fit(X, y)
    assert est1.alpha_ == est1.alphas_[np.argmin(brute.mean(axis=1))]


# --------------------------------------------------------------------------- GCV

@pytest.mark.parametrize("shape", [(30, 6), (10, 25)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_gcv_equals_formula(shape, fit_intercept, weighted):
    X, y, sw = _data(*shape, n_targets=2)
    s = sw if weighted else np.ones(shape[0])
    n = shape[0]
    alphas = np.array([10.0, 1.0, 0.1])
    est = SpectralRidgeCV(alphas=alphas, cv="gcv", fit_intercept=fit_intercept,
                          alpha_per_target=True).fit(X, y, sample_weight=s if weighted else None)
    for a_idx, alpha in enumerate(est.alphas_):
        H = _hat(X, s, alpha, fit_intercept)
        ys = np.sqrt(s)[:, None] * y
        rss = ((ys - H @ ys) ** 2).sum(axis=0)
        gcv = (rss / s.sum()) / (1 - np.trace(H) / n) ** 2
        np.testing.assert_allclose(est.cv_mean_[:, a_idx], gcv, rtol=1e-8)
        np.testing.assert_allclose(est.df_path_[a_idx] + fit_intercept, np.trace(H), rtol=1e-9)
    assert np.all(np.isnan(est.cv_se_))
    np.testing.assert_array_equal(est.alpha_, est.alphas_[np.argmin(est.cv_mean_, axis=1)])
    assert est.criterion_ == "gcv"


def test_gcv_differs_from_loo():
    X, y, _ = _data(20, 5)
    X[0] *= 8.0  # one high-leverage row: GCV's mean leverage differs from LOO's
    a = SpectralRidgeCV(alphas=[1.0], cv="gcv").fit(X, y).cv_mean_
    b = SpectralRidgeCV(alphas=[1.0]).fit(X, y).cv_mean_
    assert abs(a[0] - b[0]) > 1e-3 * b[0]


# --------------------------------------------------------------------------- K-fold

@pytest.mark.parametrize("per_target", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rule", ["min", "1se"])
def test_kfold_matches_brute_force(per_target, weighted, rule):
    X, y, sw = _data(45, 6, n_targets=2, seed=11)
    sw = sw if weighted else None
    alphas = np.logspace(3, -2, 8)
    cv = KFold(4, shuffle=True, random_state=0)
    est = SpectralRidgeCV(alphas=alphas, cv=cv, rule=rule, alpha_per_target=per_target)
    est.fit(X, y, sample_weight=sw)
    splits = list(cv.split(X))
    E = np.empty((2, len(alphas), len(splits)))
    for k, (tr, te) in enumerate(splits):
        for a_idx, alpha in enumerate(est.alphas_):
            m = Ridge(alpha=alpha).fit(X[tr], y[tr], None if sw is None else sw[tr])
            r2 = (y[te] - m.predict(X[te])) ** 2
            E[:, a_idx, k] = np.average(r2, axis=0, weights=None if sw is None else sw[te])
    W = np.array([len(te) if sw is None else sw[te].sum() for _, te in splits])
    if per_target:
        np.testing.assert_allclose(est.mse_path_, E, rtol=1e-8)
        for t in range(2):
            m, s = cv_statistics(E[t], W)
            i_min, i_1se = select_min_1se(m, s, est.alphas_)
            assert est.alpha_[t] == est.alphas_[i_min if rule == "min" else i_1se]
            assert est.alpha_1se_[t] >= est.alpha_min_[t]
    else:
        np.testing.assert_allclose(est.mse_path_, E.mean(axis=0), rtol=1e-8)
        m, s = cv_statistics(E.mean(axis=0), W)
        np.testing.assert_allclose(est.cv_mean_, m, rtol=1e-8)
        np.testing.assert_allclose(est.cv_se_, s, rtol=1e-6)
        i_min, i_1se = select_min_1se(m, s, est.alphas_)
        assert est.alpha_ == est.alphas_[i_min if rule == "min" else i_1se]
    ref = Ridge(alpha=est.alpha_).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)


def test_kfold_sparse_and_int_cv():
    X, y, _ = _data(40, 7)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    a = SpectralRidgeCV(alphas=[10.0, 1.0, 0.1], cv=5).fit(Xs, y)
    b = SpectralRidgeCV(alphas=[10.0, 1.0, 0.1], cv=5).fit(Xs.toarray(), y)
    np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-8)
    assert a.mse_path_.shape == (3, 5)


# --------------------------------------------------------------------------- attributes

@pytest.mark.parametrize("cv", [None, "gcv", 3])
def test_attribute_contract(cv):
    X, y, _ = _data(30, 5, n_targets=3)
    A = 6
    est = SpectralRidgeCV(alphas=A, cv=cv, alpha_per_target=True).fit(X, y)
    assert est.alphas_.shape == (A,) and np.all(np.diff(est.alphas_) < 0)
    assert est.cv_mean_.shape == est.cv_se_.shape == (3, A)
    assert est.alpha_.shape == est.alpha_min_.shape == est.alpha_1se_.shape == (3,)
    assert est.coef_path_.shape == (3, 5, A) and est.coef_.shape == (3, 5)
    assert est.df_path_.shape == (A,) and np.all(np.diff(est.df_path_) > 0)
    for t in range(3):
        i = list(est.alphas_).index(est.alpha_[t])
        np.testing.assert_allclose(est.coef_[t], est.coef_path_[t, :, i])
    one = SpectralRidgeCV(alphas=A, cv=cv).fit(X, y[:, 0])
    assert one.coef_path_.shape == (5, A) and np.isscalar(one.alpha_)
    assert one.cv_mean_.shape == (A,)


# --------------------------------------------------------------------------- bad input

def test_bad_input_errors():
    X, y, sw = _data(20, 4)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpectralRidge().fit(Xn, y)
    yi = y.copy()
    yi[1] = np.inf
    with pytest.raises(ValueError, match="[Ii]nf"):
        SpectralRidgeCV().fit(X, yi)
    with pytest.raises(ValueError, match="alpha"):
        SpectralRidge(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        SpectralRidge(alpha=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        SpectralRidge(alpha=[1.0, np.nan]).fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="one alpha per target"):
        SpectralRidge(alpha=[1.0, 2.0, 3.0]).fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="alphas must be positive"):
        SpectralRidgeCV(alphas=[1.0, -2.0]).fit(X, y)
    with pytest.raises(ValueError, match="alphas must be finite"):
        SpectralRidgeCV(alphas=[1.0, np.nan]).fit(X, y)
    with pytest.raises(ValueError, match="0 sample"):
        SpectralRidge().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="n_samples=1"):
        SpectralRidgeCV().fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="GCV"):
        SpectralRidgeCV(cv="gcv", rule="1se").fit(X, y)
    with pytest.raises(ValueError, match="store_cv_values"):
        SpectralRidgeCV(cv=3, store_cv_values=True).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        SpectralRidgeCV().fit(X, y, sample_weight=-sw)
    est = SpectralRidge().fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        est.path([1.0, -1.0])


@pytest.mark.parametrize("cv", [None, "gcv", 3])
def test_user_arrays_not_modified(cv):
    X, y, sw = _data(24, 5, n_targets=2)
    Xf = np.asfortranarray(X)
    for arr in (Xf, y, sw):
        arr.setflags(write=False)
    copies = [Xf.copy(), y.copy(), sw.copy()]
    SpectralRidgeCV(alphas=[1.0, 0.1], cv=cv).fit(Xf, y, sample_weight=sw)
    SpectralRidge(solver="svd").fit(Xf, y, sample_weight=sw)
    Xs = sp.csc_matrix(X)
    data = Xs.data.copy()
    SpectralRidgeCV(alphas=[1.0, 0.1], cv=cv).fit(Xs, y, sample_weight=sw)
    for a, b in zip((Xf, y, sw), copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Xs.data, data)


@pytest.mark.parametrize("cv", [None, "gcv", 3])
def test_constant_X_gives_mean_model(cv):
    rng = np.random.default_rng(2)
    X = np.ones((12, 3))
    y = rng.standard_normal(12)
    est = SpectralRidgeCV(alphas=[1.0, 0.1], cv=cv).fit(X, y)
    assert est.rank_ == 0
    np.testing.assert_array_equal(est.coef_, 0.0)
    np.testing.assert_allclose(est.intercept_, y.mean())
    if cv is None:
        # leave-one-out of the mean model: (y_i - mean of the others)²
        loo = (y - (y.sum() - y) / 11) ** 2
        np.testing.assert_allclose(est.cv_mean_, loo.mean())


@pytest.mark.parametrize("weighted", [False, True])
def test_loo_lowrank_kernel_equals_direct_and_refits(weighted):
    from sklearn_normpen._solvers.spectral import loo_errors, spectral_decompose
    X, y, sw = _data(80, 6, n_targets=3, seed=9)
    sw = sw if weighted else None
    alphas = np.logspace(4, -3, 40)
    dec = spectral_decompose(X, y, sw, True, "auto", compute_u=True)
    direct = loo_errors(dec, alphas, store=True, lowrank=False)
    low = loo_errors(dec, alphas, store=True, lowrank=True, block=13)
    np.testing.assert_allclose(low.values, direct.values, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(low.se_avg, direct.se_avg, rtol=1e-9)
    for a_idx in (0, 20, 39):
        np.testing.assert_allclose(low.values[:, :, a_idx],
                                   _brute_loo(X, y, sw, alphas[a_idx], True), rtol=1e-7)


@pytest.mark.parametrize("cv", [None, "gcv", 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_wide_path_without_forming_V(cv, sparse):
    # p > n and few alphas: the kernel route skips V = Xsᵀ U / σ and forms the path directly.
    X, y, sw = _data(12, 40, n_targets=2, seed=13)
    Xf = sp.csr_matrix(X) if sparse else X
    alphas = [5.0, 0.5, 0.05]
    est = SpectralRidgeCV(alphas=alphas, cv=cv).fit(Xf, y, sample_weight=sw)
    assert est._decomp.V is None and est._decomp.xs_src is not None
    assert est._decomp.xs_src is not Xf
    import pickle
    est = pickle.loads(pickle.dumps(est))
    for a_idx, alpha in enumerate(est.alphas_):
        ref = Ridge(alpha=alpha).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(est.coef_path_[:, :, a_idx], ref.coef_, rtol=1e-8,
                                   atol=1e-10)
        np.testing.assert_allclose(est.intercept_path_[:, a_idx], ref.intercept_, rtol=1e-8)


# --------------------------------------------------------------------------- penalty factors

@pytest.mark.parametrize("shape", [(40, 8), (10, 30)])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_penalty_factor_is_generalised_ridge(shape, sparse, fit_intercept):
    X, y, sw = _data(*shape, n_targets=2, seed=21)
    f = np.random.default_rng(1).uniform(0.1, 10.0, shape[1])
    Xf = sp.csr_matrix(X) if sparse else X
    alpha = 2.0
    est = SpectralRidge(alpha=alpha, penalty_factor=f, fit_intercept=fit_intercept)
    est.fit(Xf, y, sample_weight=sw)
    # closed form: (Xcᵀ S Xc + alpha diag f) w = Xcᵀ S yc
    xm = np.average(X, axis=0, weights=sw) if fit_intercept else np.zeros(shape[1])
    ym = np.average(y, axis=0, weights=sw) if fit_intercept else np.zeros(2)
    Xc, yc = X - xm, y - ym
    w = np.linalg.solve(Xc.T @ (sw[:, None] * Xc) + alpha * np.diag(f), Xc.T @ (sw[:, None] * yc))
    np.testing.assert_allclose(est.coef_, w.T, rtol=1e-8, atol=1e-11)
    if fit_intercept:
        np.testing.assert_allclose(est.intercept_, ym - xm @ w, rtol=1e-8, atol=1e-11)
    # CV modes: LOO equals refits of the rescaled plain ridge
    cv = SpectralRidgeCV(alphas=[alpha], penalty_factor=f, fit_intercept=fit_intercept,
                         store_cv_values=True).fit(Xf, y, sample_weight=sw)
    ref = _brute_loo(X / np.sqrt(f), y, sw, alpha, fit_intercept).mean(axis=1)
    np.testing.assert_allclose(cv.cv_values_[:, :, 0].mean(axis=1), ref, rtol=1e-7)
    np.testing.assert_allclose(cv.coef_, w.T, rtol=1e-8, atol=1e-11)
    kf = SpectralRidgeCV(alphas=[alpha, 0.1], penalty_factor=f, cv=3,
                         fit_intercept=fit_intercept).fit(Xf, y)
    kf_ref = SpectralRidgeCV(alphas=[alpha, 0.1], cv=3,
                             fit_intercept=fit_intercept).fit(X / np.sqrt(f), y)
    np.testing.assert_allclose(kf.mse_path_, kf_ref.mse_path_, rtol=1e-8)


def test_penalty_factor_errors():
    X, y, _ = _data(20, 4)
    with pytest.raises(ValueError, match="penalty_factor"):
        SpectralRidge(penalty_factor=[1.0, 0.0, 1.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="penalty_factor"):
        SpectralRidgeCV(penalty_factor=[1.0, 2.0]).fit(X, y)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("solver", ["gram", "kernel", "lsqr"])
def test_sparse_offset_and_constant_columns_match_dense(solver, weighted):
    """Sparse X with a column of mean 1e6 (spread 1) and a constant column: the sparse
    routes centre such columns explicitly (implicit centring cancelled ~(mean/std)² of the
    Gram's digits: coefficients 0.7 off at mean 1e8), so they equal scikit-learn's Ridge on
    the dense data."""
    rng = np.random.default_rng(3)
    n, p = 120, 10
    X = rng.standard_normal((n, p))
    X[:, 4:][rng.random((n, p - 4)) < 0.6] = 0.0
    X[:, 0] += 1e6
    X[:, 6] = 2e5  # constant
    y = 0.8 * (X[:, 0] - 1e6) + X[:, 1] - X[:, 5] + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    ref = Ridge(alpha=0.5, solver="cholesky").fit(X, y, sample_weight=sw)
    est = SpectralRidge(alpha=0.5, solver=solver).fit(sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-9)
    if solver != "lsqr":
        cv = SpectralRidgeCV(alphas=ALPHAS, solver=solver).fit(sp.csr_matrix(X), y,
                                                               sample_weight=sw)
        dense = SpectralRidgeCV(alphas=ALPHAS, solver="svd").fit(X, y, sample_weight=sw)
        assert cv.alpha_ == dense.alpha_
        np.testing.assert_allclose(cv.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("s", [1e-80, 1e80])
def test_loo_statistics_at_extreme_scales(s):
    # (X s, y s) with alphas s²: the same problem; squared LOO errors scale by s², their
    # standard errors too. Without rescaling inside, e⁴ underflowed (s = 1e-80: se ~ 0, so
    # λ_1se = λ_min) or overflowed (s = 1e80: RuntimeWarning, se = inf)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 6)) + 3.0
    y = X[:, :2] @ [1.0, -2.0] + rng.standard_normal(120)
    grid = np.logspace(-2, 4, 13)
    kw = dict(rule="1se", store_cv_values=True)
    ref = SpectralRidgeCV(alphas=grid, **kw).fit(X, y)
    assert ref.alpha_1se_ > ref.alpha_min_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = SpectralRidgeCV(alphas=grid * s * s, **kw).fit(X * s, y * s)
    assert got.alpha_1se_ / s ** 2 == pytest.approx(ref.alpha_1se_, rel=1e-12)
    assert got.alpha_min_ / s ** 2 == pytest.approx(ref.alpha_min_, rel=1e-12)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(got.cv_mean_ / s ** 2, ref.cv_mean_, rtol=1e-9)
    np.testing.assert_allclose(got.cv_se_ / s ** 2, ref.cv_se_, rtol=1e-8)
    np.testing.assert_allclose(got.cv_values_ / s ** 2, ref.cv_values_, rtol=1e-8,
                               atol=1e-12 * np.max(ref.cv_values_))
