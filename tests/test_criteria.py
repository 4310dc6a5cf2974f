"""Information criteria along the path: ElasticNetIC, GroupLassoIC and the df / criterion
functions of sklearn_normpen.selection, checked against scikit-learn's LassoLarsIC, explicit
NumPy hat matrices, SpectralRidge's df_ and Monte-Carlo estimates of Stein's df."""
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoLarsIC

from sklearn_normpen import ElasticNetIC, GroupLassoIC, SpectralRidge
from sklearn_normpen.selection import (df_elastic_net, df_group_lasso, df_lasso,
                                       information_criterion, ols_noise_variance)


def _data(n=100, p=10, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 3.0 + X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 2] + noise * rng.standard_normal(n)
    return X, y


# ---------------------------------------------------------------------------------------
# scikit-learn's LassoLarsIC
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("criterion", ["aic", "bic"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_criteria_equal_lassolarsic(criterion, fit_intercept):
    X, y = _data()
    if not fit_intercept:
        X, y = X - X.mean(0), y - y.mean()
    ll = LassoLarsIC(criterion=criterion, fit_intercept=fit_intercept).fit(X, y)
    # Compared just above each knot, where the active set is the one LARS counts at the
    # knot as long as no variable leaves the path: asserted below (df grows by one a knot).
    knots = ll.alphas_[:-1]  # the last knot is alpha = 0 (OLS)
    m = ElasticNetIC(criterion=criterion, l1_ratio=1.0, alphas=knots * (1 + 1e-8),
                     noise_variance=ll.noise_variance_, fit_intercept=fit_intercept,
                     tol=1e-14, max_iter=100000, standardize=False).fit(X, y)
    k = 2.0 if criterion == "aic" else math.log(X.shape[0])
    # LassoLarsIC does not count the intercept in df
    ours = m.criterion_path_ - k * fit_intercept
    np.testing.assert_array_equal(m.df_path_ - fit_intercept, np.arange(len(knots)))
    np.testing.assert_allclose(ours, ll.criterion_[:-1], rtol=1e-6)
    # the estimated noise variance is LassoLarsIC's (OLS, n - p - fit_intercept)
    own = ElasticNetIC(criterion=criterion, l1_ratio=1.0, fit_intercept=fit_intercept,
                       tol=1e-10, standardize=False).fit(X, y)
    assert own.noise_variance_ == pytest.approx(ll.noise_variance_, rel=1e-10)
    # on the knots both choose the same model (LassoLarsIC's last knot, alpha=0, aside)
    if ll.alpha_ > 0:
        assert m.alpha_ == pytest.approx(ll.alpha_, rel=1e-6)
        np.testing.assert_allclose(m.coef_, ll.coef_, atol=1e-6)


def test_criterion_formulas_against_direct_numpy():
    X, y = _data(n=60, p=8, seed=3)
    n, p = X.shape
    for criterion in ["aic", "bic", "ebic"]:
        for nv in [0.3, "profile"]:
            m = ElasticNetIC(criterion=criterion, noise_variance=nv, l1_ratio=1.0,
                             alphas=20, ebic_gamma=0.7).fit(X, y)
            expect = []
            for j in range(m.alphas_.size):
                w, b = m.coef_path_[:, j], m.intercept_path_[j]
                rss = float(np.sum((y - X @ w - b) ** 2))
                size = int(np.count_nonzero(w))
                df = size + 1
                kk = 2 if criterion == "aic" else math.log(n)
                fit = (n * math.log(2 * math.pi * nv) + rss / nv if nv != "profile"
                       else n * math.log(rss / n))
                val = fit + kk * df
                if criterion == "ebic":
                    val += 2 * 0.7 * math.log(math.comb(p, size))
                expect.append(val)
            np.testing.assert_allclose(m.criterion_path_, expect, rtol=1e-10)
            assert m.alpha_ == m.alphas_[int(np.argmin(expect))]
            np.testing.assert_array_equal(m.coef_, m.coef_path_[:, np.argmin(expect)])


# ---------------------------------------------------------------------------------------
# Degrees of freedom
# ---------------------------------------------------------------------------------------

def _hat_trace(X, cols, c, f, s=None, fit_intercept=True):
    """Explicit hat matrix tr(X_A (X_AᵀSX_A + c F_A)⁻¹ X_AᵀS) (+1)."""
    n = X.shape[0]
    s = np.ones(n) if s is None else s * n / s.sum()
    XA = X[:, cols]
    if fit_intercept:
        XA = XA - (s @ XA) / n
    S = np.diag(s)
    H = XA @ np.linalg.solve(XA.T @ S @ XA + c * np.diag(f[cols]), XA.T @ S)
    return np.trace(H) + fit_intercept


@pytest.mark.parametrize("standardize", [False, True])
def test_df_elastic_net_equals_explicit_hat_matrix(standardize):
    rng = np.random.default_rng(1)
    X, y = _data(n=50, p=12, seed=1)
    X[:, 3] *= 100.0
    X[:, 4] += 1e3  # offset column
    pf = np.ones(12)
    pf[5] = 0.0     # unpenalised: its F entry is 0 (the non-eigen branch)
    pf[6] = 2.5
    sw = rng.uniform(0.2, 3, 50)
    m = ElasticNetIC(l1_ratio=0.3, standardize=standardize, penalty_factor=pf, alphas=15,
                     noise_variance="profile", tol=1e-10).fit(X, y, sample_weight=sw)
    std = np.sqrt(sw @ (X - sw @ X / sw.sum()) ** 2 / sw.sum())
    f2 = pf * std**2 if standardize else pf
    for j, a in enumerate(m.alphas_):
        cols = np.flatnonzero(m.coef_path_[:, j])
        expect = _hat_trace(X, cols, 50 * a * 0.7, f2, sw) if cols.size else 1.0
        assert m.df_path_[j] == pytest.approx(expect, rel=1e-8)
    assert np.any(m.df_path_ != np.round(m.df_path_))  # shrinkage: not a count


def test_df_lasso_is_active_set_size():
    coefs = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    np.testing.assert_array_equal(df_lasso(coefs), [0, 1, 2])
    np.testing.assert_array_equal(df_lasso(coefs, fit_intercept=True), [1, 2, 3])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_df_equals_spectral_ridge(fit_intercept):
    X, y = _data(n=40, p=15, seed=2)
    a = 0.37
    m = ElasticNetIC(l1_ratio=0.0, alphas=[a], noise_variance="profile",
                     fit_intercept=fit_intercept, tol=1e-12, standardize=False).fit(X, y)
    assert np.all(m.coef_ != 0)
    r = SpectralRidge(alpha=40 * a, fit_intercept=fit_intercept).fit(X, y)
    assert m.df_ - fit_intercept == pytest.approx(r.df_, rel=1e-10)
    # and Σ d²/(d² + n alpha) from the singular values of the centred X, in the test
    Xc = X - X.mean(0) if fit_intercept else X
    d = np.linalg.svd(Xc, compute_uv=False)
    assert m.df_ - fit_intercept == pytest.approx(np.sum(d**2 / (d**2 + 40 * a)), rel=1e-10)


def _stein_mc(fit_pred, X, mu, sigma, df_of, B, seed):
    """Monte-Carlo Stein df Σ_i cov(ŷ_i, y_i)/σ² and the mean estimated df, with their
    standard errors."""
    rng = np.random.default_rng(seed)
    stein, dfs = np.empty(B), np.empty(B)
    for b in range(B):
        eps = sigma * rng.standard_normal(mu.size)
        yhat, df = fit_pred(X, mu + eps)
        stein[b] = np.sum((yhat - mu) * eps) / sigma**2
        dfs[b] = df
    return stein.mean(), stein.std() / np.sqrt(B), dfs.mean(), dfs.std() / np.sqrt(B)


def test_elastic_net_df_matches_stein_monte_carlo():
    rng = np.random.default_rng(5)
    n, p = 40, 6
    X = rng.standard_normal((n, p))
    mu = 1.0 + X @ np.array([1.5, -1.0, 0.5, 0, 0, 0])
    alpha = 0.15

    def fit(X, y):
        m = ElasticNetIC(l1_ratio=0.5, alphas=[alpha], noise_variance=1.0, tol=1e-12).fit(X, y)
        return m.predict(X), m.df_

    s, s_se, d, d_se = _stein_mc(fit, X, mu, 1.0, None, 1500, 0)
    assert abs(s - d) < 4 * np.hypot(s_se, d_se), (s, s_se, d, d_se)
    assert 2 < d < p + 1  # a genuinely shrunk, non-trivial df


def test_group_lasso_df_matches_stein_monte_carlo():
    # Yuan & Lin's df is unbiased for orthonormal (centred) designs: build one
    rng = np.random.default_rng(6)
    n = 60
    Z = rng.standard_normal((n, 7))
    Z -= Z.mean(0)
    Q, _ = np.linalg.qr(Z)
    X = np.sqrt(n) * Q
    groups = [[0, 1, 2], [3, 4], [5, 6]]
    mu = 2.0 + X @ np.array([0.6, -0.4, 0.3, 0.25, 0.2, 0, 0])
    alpha = 0.12

    def fit(X, y):
        m = GroupLassoIC(groups=groups, alphas=[alpha], noise_variance=1.0,
                         tol=1e-12).fit(X, y)
        return m.predict(X), m.df_

    s, s_se, d, d_se = _stein_mc(fit, X, mu, 1.0, None, 1500, 1)
    assert abs(s - d) < 4 * np.hypot(s_se, d_se), (s, s_se, d, d_se)
    assert 2 < d < 8


def test_group_df_closed_form_on_orthonormal_design():
    # orthonormal design: w_g^LS is the OLS coefficient, so df is computable by hand
    rng = np.random.default_rng(7)
    n = 50
    Q, _ = np.linalg.qr(rng.standard_normal((n, 5)))
    X = np.sqrt(n) * Q
    y = X @ np.array([1.0, -1.0, 0.5, 0.05, 0.02]) + 0.3 * rng.standard_normal(n)
    groups = [[0, 1, 2], [3, 4]]
    m = GroupLassoIC(groups=groups, fit_intercept=False, alphas=10,
                     noise_variance="profile", tol=1e-12, standardize=False).fit(X, y)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    for j in range(m.alphas_.size):
        w = m.coef_path_[:, j]
        expect = 0.0
        for g in groups:
            if np.linalg.norm(w[g]) > 0:
                expect += 1 + np.linalg.norm(w[g]) / np.linalg.norm(ols[g]) * (len(g) - 1)
        assert m.df_path_[j] == pytest.approx(expect, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(
        df_group_lasso(X, y, m.coef_path_, groups), m.df_path_, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Estimator behaviour
# ---------------------------------------------------------------------------------------

def test_bic_recovers_support_and_types():
    X, y = _data(n=200, p=20, seed=4, noise=0.3)
    m = ElasticNetIC(criterion="bic", l1_ratio=1.0, alphas=300, eps=1e-4,
                     tol=1e-10, standardize=False).fit(X, y)
    support = np.flatnonzero(m.coef_)
    # the lasso's BIC keeps the signal and (shrinkage) a few noise features
    assert {0, 1, 2} <= set(support) and len(support) <= 8
    with warnings.catch_warnings():
        # float32 cannot certify 1e-5 at every point (a ConvergenceWarning says so); the
        # criterion still agrees with float64's to 1e-3
        warnings.simplefilter("ignore", ConvergenceWarning)
        m32 = ElasticNetIC(criterion="bic", l1_ratio=1.0, alphas=300, eps=1e-4,
                           tol=1e-5,
                           standardize=False).fit(X.astype(np.float32), y.astype(np.float32))
    assert m32.coef_.dtype == np.float32
    assert m32.predict(X.astype(np.float32)).dtype == np.float32
    assert {0, 1, 2} <= set(np.flatnonzero(m32.coef_))
    np.testing.assert_allclose(m32.criterion_path_, m.criterion_path_, rtol=1e-3, atol=1e-2)
    ms = ElasticNetIC(criterion="bic", l1_ratio=1.0, alphas=300, eps=1e-4, tol=1e-10,
                      standardize=False).fit(
        sp.csc_matrix(X), y)
    np.testing.assert_allclose(ms.criterion_path_, m.criterion_path_, rtol=1e-6, atol=1e-6)
    # the same grid point (the grids' alpha_max agree to rounding: dense reads XᵀS y off
    # the covariance statistics, sparse off a product)
    assert ms.alpha_ == pytest.approx(m.alpha_, rel=1e-12)


def test_group_ic_selects_true_groups_and_ebic_in_p_greater_than_n():
    rng = np.random.default_rng(8)
    n, p = 60, 120
    X = rng.standard_normal((n, p))
    y = X[:, :4] @ [2.0, -2.0, 1.5, 1.0] + 0.3 * rng.standard_normal(n)
    groups = [list(range(i, i + 4)) for i in range(0, p, 4)]
    m = GroupLassoIC(groups=groups, criterion="ebic", ebic_gamma=1.0).fit(X, y)
    assert m.noise_variance_ is None  # EBIC: the profile likelihood
    np.testing.assert_array_equal(m.active_groups_, [0])
    with pytest.raises(ValueError, match="noise_variance"):
        GroupLassoIC(groups=groups, criterion="bic").fit(X, y)
    mb = GroupLassoIC(groups=groups, criterion="bic", noise_variance=0.09).fit(X, y)
    assert mb.noise_variance_ == 0.09
    assert 0 in mb.active_groups_


def test_user_arrays_not_written():
    X, y = _data(n=30, p=5)
    sw = np.linspace(0.5, 2, 30)
    Xc, yc, swc = X.copy(), y.copy(), sw.copy()
    ElasticNetIC(standardize=True).fit(X, y, sample_weight=sw)
    GroupLassoIC(groups=[[0, 1], [2, 3, 4]]).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(sw, swc)


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, match", [
    ({"criterion": "cp"}, "criterion"),
    ({"criterion": "AIC"}, "criterion"),
    ({"noise_variance": 0.0}, "noise_variance"),
    ({"noise_variance": -1.0}, "noise_variance"),
    ({"noise_variance": "estimate"}, "noise_variance"),
    ({"ebic_gamma": 1.5}, "ebic_gamma"),
    ({"ebic_gamma": -0.1}, "ebic_gamma"),
])
@pytest.mark.parametrize("cls", [ElasticNetIC, GroupLassoIC])
def test_bad_parameters(cls, params, match):
    X, y = _data(n=30, p=4)
    with pytest.raises(ValueError, match=match):
        cls(**params).fit(X, y)


def test_bad_function_arguments():
    with pytest.raises(ValueError, match="criterion"):
        information_criterion([1.0], [1.0], 10, criterion="hqc")
    with pytest.raises(ValueError, match="noise_variance"):
        information_criterion([1.0], [1.0], 10, noise_variance=-2.0)
    with pytest.raises(ValueError, match="noise_variance"):
        information_criterion([1.0], [1.0], 10, noise_variance=np.nan)
    with pytest.raises(ValueError, match="ebic_gamma"):
        information_criterion([1.0], [1.0], 10, criterion="ebic", n_features=3,
                              ebic_gamma=2)
    with pytest.raises(ValueError, match="n_features"):
        information_criterion([1.0], [1.0], 10, criterion="ebic")
    X, y = _data(n=10, p=9)
    with pytest.raises(ValueError, match="n_samples=10"):
        ols_noise_variance(X, y, fit_intercept=True)
    assert ols_noise_variance(X, y, fit_intercept=False) > 0
    with pytest.raises(ValueError, match="noise_variance"):
        ElasticNetIC(criterion="aic").fit(X, y)


@pytest.mark.parametrize("cls", [ElasticNetIC, GroupLassoIC])
@pytest.mark.parametrize("kind", ["constant", "linear"])
def test_exact_least_squares_fit_falls_back_to_the_profile_likelihood(cls, kind):
    # sigma² estimated as 0 made RSS/sigma² meaningless (LassoLarsIC divides by zero); the
    # fit then failed with an error blaming the user's noise_variance, which they had not
    # passed. Now: a warning saying why, and the profile likelihood, as if asked for.
    X, y = _data(n=30, p=4)
    y = np.full(30, 3.5) if kind == "constant" else X @ np.array([1.0, -2, 0, 0.5]) + 7
    with pytest.raises(ValueError, match="least-squares fit of y on X is exact"):
        ols_noise_variance(X, y, fit_intercept=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = cls().fit(X, y)
    said = [str(w.message) for w in caught]
    assert any("least-squares fit of y on X is exact" in m and "profile likelihood" in m
               for m in said), said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant y: the degenerate grid
        ref = cls(noise_variance="profile").fit(X, y)
    assert est.noise_variance_ is None
    np.testing.assert_array_equal(est.criterion_path_, ref.criterion_path_)
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    if kind == "constant":
        np.testing.assert_array_equal(est.coef_, 0.0)
        assert est.intercept_ == pytest.approx(3.5, rel=1e-12)
    else:  # the least-RSS point: the smallest alpha, whose fit is nearly the exact one
        assert est.alpha_ == est.alphas_[-1]
        np.testing.assert_allclose(est.coef_, [1.0, -2, 0, 0.5], atol=0.05)


def test_df_elastic_net_function_lasso_limit():
    X, y = _data(n=40, p=6)
    coefs = np.array([[1.0, 0, 2, 0, 0, 3]]).T
    assert df_elastic_net(X, coefs, [0.1], l1_ratio=1.0)[0] == 3
    # with l1_ratio -> 1 the trace formula tends to |A| (full-rank X_A)
    assert df_elastic_net(X, coefs, [0.1], l1_ratio=1 - 1e-12)[0] == pytest.approx(3)


def test_path_information_criterion_for_cv_estimators_equals_ic_estimators():
    from sklearn_normpen import ElasticNetPathCV, GroupLassoPathCV
    from sklearn_normpen.selection import path_information_criterion
    X, y = _data(n=80, p=9, seed=11)
    sw = np.random.default_rng(0).integers(1, 4, 80).astype(float)
    for rho, std in [(1.0, False), (0.4, True)]:
        cv = ElasticNetPathCV(l1_ratio=rho, standardize=std, alphas=15, cv=3,
                              tol=1e-10).fit(X, y, sample_weight=sw)
        ic = ElasticNetIC(l1_ratio=rho, standardize=std, alphas=cv.alphas_, criterion="bic",
                          tol=1e-10).fit(X, y, sample_weight=sw)
        out = path_information_criterion(cv, X, y, criterion="bic", sample_weight=sw)
        np.testing.assert_allclose(out["criterion"], ic.criterion_path_, rtol=1e-8)
        np.testing.assert_allclose(out["df"], ic.df_path_, rtol=1e-8)
        assert out["alpha"] == ic.alpha_
    groups = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    cv = GroupLassoPathCV(groups=groups, alphas=12, cv=3, standardize=True,
                          tol=1e-10).fit(X, y)
    ic = GroupLassoIC(groups=groups, alphas=cv.alphas_, standardize=True, criterion="ebic",
                      tol=1e-10).fit(X, y)
    out = path_information_criterion(cv, X, y, criterion="ebic")
    np.testing.assert_allclose(out["criterion"], ic.criterion_path_, rtol=1e-8)
    with pytest.raises(ValueError, match="estimator"):
        path_information_criterion(LassoLarsIC().fit(X, y), X, y)
    with pytest.raises(ValueError, match="criterion"):
        path_information_criterion(cv, X, y, criterion="mdl")
