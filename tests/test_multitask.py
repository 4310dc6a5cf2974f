"""Multi-response Gaussian family (glmnet's mgaussian, scikit-learn's MultiTaskElasticNet).

Independent references: scikit-learn's MultiTaskElasticNet / MultiTaskElasticNetCV, the
NumPy gap/KKT oracle of tests/_oracle.py (at every path point), cvxpy + Clarabel, and R
glmnet 4.1 fixtures (tests/fixtures/make_glmnet_mgaussian_fixtures.R)."""
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskElasticNetCV
from sklearn.model_selection import GridSearchCV, KFold, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_normpen import (ElasticNetPathCV, MultiTaskElasticNetPathCV,
                             MultiTaskElasticNetRegressor, multitask_enet_path)

from _sweeps import check_sweeps_gap
from _oracle import (mt_alpha_max, mt_gap, mt_kkt, mt_null_deviance, mt_primal,
                     reference_optimum_mt_cvxpy)

FIX = Path(__file__).parent / "fixtures" / "glmnet_mgaussian"


def _data(n=70, p=12, K=3, seed=0, offset=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p)
    if offset:
        X[:, 1] += 1e4  # a calendar-year-like column: mean >> spread
    B = np.zeros((p, K))
    B[[0, 2, 5]] = rng.standard_normal((3, K))
    Y = X @ B + 0.5 * rng.standard_normal((n, K)) + [1.0, -2.0, 0.5][:K]
    return X, Y


TIGHT = dict(tol=1e-12, max_iter=100000)


def _intercepts(X, Y, coefs, sw=None):
    """``ȳ - coef x̄`` (weighted means) for a path ``coefs`` (K, p, n_alphas)."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    xm = np.average(X, axis=0, weights=sw)
    ym = np.average(np.asarray(Y, np.float64), axis=0, weights=sw)
    return ym[:, None] - np.einsum("kpa,p->ka", np.asarray(coefs, np.float64), xm)


# ---------------------------------------------------------------------------------------
# scikit-learn
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("alpha", [0.5, 0.05, 0.005])
def test_single_alpha_equals_sklearn(alpha, l1_ratio):
    X, Y = _data()
    ours = MultiTaskElasticNetRegressor(alpha=alpha, l1_ratio=l1_ratio, **TIGHT, standardize=False).fit(X, Y)
    ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14,
                              max_iter=1000000).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (3, 12)
    # (a relative gap of 1e-12 pins the coefficients to ~1e-6 along flat directions)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-6)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-5, atol=1e-5)
    # the certified gap bounds the true suboptimality (the oracle's own gap agrees)
    D0 = mt_null_deviance(X, Y)
    assert ours.dual_gap_ <= 1e-12 * D0
    assert mt_gap(X, Y, ours.coef_, ours.intercept_, alpha, l1_ratio) <= 1e-10 * D0


def test_path_cv_equals_sklearn_cv_on_same_folds_and_grid():
    X, Y = _data(n=90)
    cv = KFold(4, shuffle=True, random_state=1)
    ours = MultiTaskElasticNetPathCV(l1_ratio=0.7, alphas=30, cv=cv, **TIGHT, standardize=False).fit(X, Y)
    ref = MultiTaskElasticNetCV(l1_ratio=0.7, alphas=ours.alphas_, cv=cv, tol=1e-14,
                                max_iter=1000000).fit(X, Y)
    assert_allclose(ref.alphas_, ours.alphas_)
    # scikit-learn averages the squared error over the responses; cv.glmnet (and we) sum
    assert_allclose(ours.mse_path_, ref.mse_path_ * Y.shape[1], rtol=1e-6)
    assert ours.alpha_ == ref.alpha_
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-7)
    # the grid starts where every row is zero, and not later (the independent formula)
    assert_allclose(ours.alphas_[0], mt_alpha_max(X, Y, 0.7), rtol=1e-12)
    assert np.all(ours.coef_path_[:, :, 0] == 0) and np.any(ours.coef_path_[:, :, 1] != 0)


# ---------------------------------------------------------------------------------------
# the oracle at every path point
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 1e-7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_path_point_is_certified_by_the_oracle(layout, dtype, tol, weighted):
    X, Y = _data(seed=3)
    rng = np.random.default_rng(4)
    if layout == "sparse":
        X = np.where(rng.random(X.shape) < 0.6, 0.0, X)
    sw = rng.uniform(0.2, 3, X.shape[0]) if weighted else None
    pf = np.ones(X.shape[1])
    pf[[1, 4]] = 0.0        # unpenalised features: the dual projects them out
    pf[6] = 3.0
    Xin = (sp.csc_matrix(X) if layout == "sparse" else X).astype(dtype)
    alphas, coefs, gaps = multitask_enet_path(
        Xin, Y.astype(dtype), l1_ratio=0.8, n_alphas=15, sample_weight=sw,
        penalty_factor=pf, tol=tol, max_iter=100000, fit_intercept=True, standardize=False)
    assert coefs.dtype == dtype
    Xd = np.asarray(Xin.toarray() if sp.issparse(Xin) else Xin, dtype=np.float64)
    Yd = Y.astype(dtype).astype(np.float64)
    sw64 = None if sw is None else sw.astype(dtype).astype(np.float64)
    b = _intercepts(Xd, Yd, coefs, sw64)
    D0 = mt_null_deviance(Xd, Yd, sw64)
    assert_allclose(alphas[0], mt_alpha_max(Xd, Yd, 0.8, sw64, pf), rtol=1e-5)
    for k, a in enumerate(alphas):
        c, bk = coefs[:, :, k].astype(np.float64), b[:, k]
        g = mt_gap(Xd, Yd, c, bk, a, 0.8, sw64, pf)
        assert -1e-12 * D0 <= gaps[k] <= tol * D0
        assert g <= tol * D0 * 1.01 + 1e-13 * D0   # independently certified
        assert g >= -1e-10 * D0
        # KKT: small at the certified point (a gap ε bounds it by O(sqrt(ε)))
        assert mt_kkt(Xd, Yd, c, bk, a, 0.8, sw64, pf) <= 10 * np.sqrt(2 * tol * D0) * \
            np.sqrt(np.max(np.sum(Xd * Xd, axis=0) / Xd.shape[0])) + 1e-9
    assert np.all(coefs[:, [1, 4], -1] != 0)  # unpenalised features always in


def test_cvxpy_clarabel_optimum_with_weights_and_zero_factors():
    pytest.importorskip("cvxpy")
    X, Y = _data(n=40, p=8, seed=5)
    rng = np.random.default_rng(6)
    sw = rng.uniform(0.1, 4, 40)
    pf = np.array([0.0, 1.0, 2.0, 0.5, 1.0, 0.0, 1.0, 1.0])
    alpha, rho = 0.08, 0.6
    Pstar, coef, b = reference_optimum_mt_cvxpy(X, Y, alpha, rho, sw, pf, pf)
    ours = MultiTaskElasticNetRegressor(alpha=alpha, l1_ratio=rho, penalty_factor=pf,
                                        **TIGHT, standardize=False).fit(X, Y, sample_weight=sw)
    D0 = mt_null_deviance(X, Y, sw)
    P = mt_primal(X, Y, ours.coef_, ours.intercept_, alpha, rho, sw, pf, pf)
    assert P - Pstar <= 1e-10 * D0
    assert_allclose(ours.coef_, coef, atol=1e-5 * np.abs(coef).max())
    assert_allclose(ours.intercept_, b, atol=1e-5 * np.abs(b).max())


# ---------------------------------------------------------------------------------------
# R glmnet (family = "mgaussian")
# ---------------------------------------------------------------------------------------

def _fix(name):
    return np.loadtxt(FIX / name, delimiter=",", ndmin=1)


@pytest.mark.parametrize("case", ["A", "B"])
def test_glmnet_mgaussian_paths(case):
    X, Y, w, pf = _fix("X.csv"), _fix("Y.csv"), _fix("w.csv"), _fix("pf.csv")
    kw = (dict(l1_ratio=0.5, standardize=False) if case == "A" else
          dict(l1_ratio=1.0, sample_weight=w, penalty_factor=pf, standardize=True))
    lam = _fix(f"lambda_{case}.csv")
    _, coefs, _ = multitask_enet_path(X, Y, alphas=lam, fit_intercept=True, **kw, **TIGHT)
    b = _intercepts(X, Y, coefs, kw.get("sample_weight"))
    ref = np.stack([_fix(f"coef_{case}_{k + 1}.csv") for k in range(Y.shape[1])])
    assert_allclose(b, ref[:, 0, :], atol=1e-6)
    assert_allclose(coefs, ref[:, 1:, :], atol=1e-6)
    assert_array_equal(coefs != 0, ref[:, 1:, :] != 0)  # the same supports


def test_glmnet_mgaussian_cv():
    X, Y, fold = _fix("X.csv"), _fix("Y.csv"), _fix("foldid.csv")
    est = MultiTaskElasticNetPathCV(l1_ratio=0.5, alphas=_fix("lambda_A.csv"),
                                    cv=PredefinedSplit(fold.astype(int) - 1), **TIGHT, standardize=False)
    est.fit(X, Y)
    ref = _fix("cv_A_mse.csv")
    assert_allclose(est.cv_mean_, ref[:, 0], rtol=1e-6)
    assert_allclose(est.cv_se_, ref[:, 1], rtol=1e-6)
    assert_allclose([est.alpha_min_, est.alpha_1se_], _fix("cv_A_selected.csv"), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# adversarial and degenerate cases
# ---------------------------------------------------------------------------------------

def test_single_response_equals_elastic_net_path_cv():
    X, Y = _data(K=1, seed=7)
    cv = KFold(5)
    mt = MultiTaskElasticNetPathCV(l1_ratio=0.6, cv=cv, **TIGHT, standardize=False).fit(X, Y)
    en = ElasticNetPathCV(l1_ratio=0.6, cv=cv, **TIGHT, standardize=False).fit(X, Y[:, 0])
    assert_allclose(mt.alphas_, en.alphas_, rtol=1e-12)
    # (two solvers, each certified to a relative gap of 1e-12: errors agree to ~1e-6)
    assert_allclose(mt.mse_path_, en.mse_path_, rtol=1e-5)
    # the same choice, unless the curve has a near-tie at the level of the two solvers'
    # certified agreement (then each choice is a minimiser of the other's curve)
    k_mt, k_en = (int(np.argmin(np.abs(mt.alphas_ - a))) for a in (mt.alpha_, en.alpha_))
    assert_allclose(en.cv_mean_[k_mt], en.cv_mean_.min(), rtol=1e-6)
    assert_allclose(mt.cv_mean_[k_en], mt.cv_mean_.min(), rtol=1e-6)
    # the two full-data paths agree at every grid point (here at each one's choice), as
    # far as their certificates say: the objective is mu-strongly convex (mu = alpha
    # (1 - l1_ratio), its ridge part), so ||w - w*||² <= 2 gap / mu for each (the multi-task
    # path takes predicted starts, the elastic net's does not: the two stop at different
    # certified points, 5.7e-8 apart here); the intercept is ȳ - x̄ᵀw
    xbar = X.mean(axis=0)
    for a in (mt.alpha_, en.alpha_):
        k = int(np.argmin(np.abs(mt.alphas_ - a)))
        mu = a * (1 - 0.6)
        bound = sum(np.sqrt(2 * float(np.ravel(g)[k]) / mu)
                    for g in (mt.dual_gap_path_, en.dual_gap_path_))
        diff = np.ravel(mt.coef_at(a)) - en.coef_at(a)
        assert np.linalg.norm(diff) <= bound
        assert abs(float(np.ravel(mt.intercept_at(a))[0] - en.intercept_at(a))) <= (
            np.linalg.norm(xbar) * bound + 1e-12 * abs(en.intercept_at(a)))
        assert np.linalg.norm(diff) <= 1e-6 * np.linalg.norm(en.coef_at(a))


def test_offset_columns_are_certified():
    X, Y = _data(seed=8, offset=True)
    for Xin in (X, sp.csc_matrix(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sparse offset-column notice
            warnings.simplefilter("error", ConvergenceWarning)
            alphas, coefs, gaps = multitask_enet_path(Xin, Y, l1_ratio=0.9, n_alphas=12,
                                                      tol=1e-10, max_iter=100000,
                                                      fit_intercept=True, standardize=False)
        b = _intercepts(X, Y, coefs)
        D0 = mt_null_deviance(X, Y)
        for k, a in enumerate(alphas):
            assert mt_gap(X, Y, coefs[:, :, k], b[:, k], a, 0.9) <= 1.01e-10 * D0
    ref = MultiTaskElasticNet(alpha=alphas[-1], l1_ratio=0.9, tol=1e-14,
                              max_iter=1000000).fit(X, Y)
    assert_allclose(coefs[:, :, -1], ref.coef_, rtol=1e-4, atol=1e-6)


def test_float32_at_tight_tol():
    X, Y = _data(seed=9)
    est = MultiTaskElasticNetRegressor(alpha=0.02, l1_ratio=0.7, tol=1e-8, max_iter=100000, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X.astype(np.float32), Y.astype(np.float32))
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float64
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    X32, Y32 = X.astype(np.float32).astype(float), Y.astype(np.float32).astype(float)
    D0 = mt_null_deviance(X32, Y32)
    assert mt_gap(X32, Y32, est.coef_.astype(float), est.intercept_.astype(float), 0.02,
                  0.7) <= 1.01e-8 * D0


def test_constant_response():
    X, Y = _data(seed=10)
    Y[:, 1] = 4.25
    est = MultiTaskElasticNetPathCV(l1_ratio=1.0, alphas=20, cv=3, **TIGHT, standardize=False).fit(X, Y)
    assert np.all(est.coef_path_[1] == 0)       # a constant response needs no feature
    assert_allclose(est.intercept_path_[1], 4.25, rtol=1e-12)
    # ... and the other responses are fitted as without it (sklearn on the two)
    ref = MultiTaskElasticNet(alpha=est.alpha_, l1_ratio=1.0, tol=1e-14,
                              max_iter=1000000).fit(X, Y[:, [0, 2]])
    assert_allclose(est.coef_[[0, 2]], ref.coef_, rtol=1e-5, atol=1e-7)


def test_all_responses_constant_gives_the_null_model():
    X, _ = _data(seed=11)
    Y = np.tile([1.0, -3.0], (X.shape[0], 1))
    est = MultiTaskElasticNetPathCV(alphas=5, cv=3, standardize=False).fit(X, Y)
    assert np.all(est.coef_ == 0)
    assert_allclose(est.intercept_, [1.0, -3.0])


def test_weights_equal_repeated_rows():
    X, Y = _data(n=40, seed=12)
    rep = np.random.default_rng(13).integers(1, 4, 40)
    a = MultiTaskElasticNetRegressor(alpha=0.05, **TIGHT, standardize=False).fit(X, Y, sample_weight=rep)
    b = MultiTaskElasticNetRegressor(alpha=0.05, **TIGHT, standardize=False).fit(np.repeat(X, rep, axis=0),
                                                              np.repeat(Y, rep, axis=0))
    assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-8)


def test_sparse_equals_dense_and_standardize_is_a_penalty_rescaling():
    X, Y = _data(seed=14)
    X[np.abs(X) < 0.7] = 0
    d = MultiTaskElasticNetRegressor(alpha=0.03, standardize=True, **TIGHT).fit(X, Y)
    s = MultiTaskElasticNetRegressor(alpha=0.03, standardize=True, **TIGHT).fit(
        sp.csc_matrix(X), Y)
    assert_allclose(d.coef_, s.coef_, rtol=1e-8, atol=1e-10)
    # standardize == fitting on X / σ (σ: std with 1/n) and mapping back
    sd = X.std(axis=0)
    ref = MultiTaskElasticNet(alpha=0.03, tol=1e-14, max_iter=1000000).fit(X / sd, Y)
    assert_allclose(d.coef_, ref.coef_ / sd, rtol=1e-5, atol=1e-6)


def test_constant_column_gets_zero_under_standardize():
    X, Y = _data(seed=15)
    X[:, 3] = 7.0
    est = MultiTaskElasticNetRegressor(alpha=0.01, standardize=True, **TIGHT).fit(X, Y)
    assert np.all(est.coef_[:, 3] == 0)


def test_path_accessors_and_summary():
    X, Y = _data(seed=16)
    est = MultiTaskElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=20, cv=3, standardize=False).fit(X, Y)
    assert est.coef_path_.shape == (2, 3, 12, 20)
    assert est.intercept_path_.shape == (2, 3, 20)
    assert est.mse_path_.shape == (2, 20, 3)
    assert_array_equal(est.coef_at("min" if est.rule == "min" else "1se"), est.coef_)
    row = est._path_row(None)
    a0 = est.alphas_[row]
    mid = 0.5 * (a0[3] + a0[4])
    c = est.coef_at(mid)
    assert c.shape == (3, 12)
    frac = (mid - a0[4]) / (a0[3] - a0[4])
    cp = est.coef_path_[row]
    assert_allclose(c, frac * cp[..., 3] + (1 - frac) * cp[..., 4], rtol=1e-12)
    pr = est.predict_at(X, [a0[2], a0[5]])
    assert pr.shape == (X.shape[0], 3, 2)
    assert_allclose(pr[..., 0], X @ cp[..., 2].T + est.intercept_path_[row][:, 2],
                    rtol=1e-10, atol=1e-10)
    tab = est.path_summary()
    nz = np.any(cp != 0, axis=0).sum(axis=0)
    assert_array_equal(np.asarray(tab["n_nonzero"]), nz)


def test_errors_name_the_problem():
    X, Y = _data()
    with pytest.raises(ValueError, match="2-D"):
        MultiTaskElasticNetRegressor().fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="penalty_factor"):
        MultiTaskElasticNetRegressor(penalty_factor=[1.0, 2.0], standardize=False).fit(X, Y)
    with pytest.raises(ValueError, match="l1_ratio=0"):
        MultiTaskElasticNetPathCV(l1_ratio=0.0, standardize=False).fit(X, Y)
    with pytest.raises(ValueError, match="unpenalised"):
        MultiTaskElasticNetPathCV(penalty_factor=np.zeros(X.shape[1]), standardize=False).fit(X, Y)


def test_user_arrays_are_not_written_and_sklearn_plumbing():
    X, Y = _data()
    X0, Y0 = X.copy(), Y.copy()
    est = MultiTaskElasticNetRegressor(alpha=0.1, standardize=False).fit(X, Y)
    assert_array_equal(X, X0)
    assert_array_equal(Y, Y0)
    again = pickle.loads(pickle.dumps(est))
    assert_array_equal(again.predict(X), est.predict(X))
    assert clone(est).get_params() == est.get_params()
    gs = GridSearchCV(make_pipeline(StandardScaler(), MultiTaskElasticNetRegressor()),
                      {"multitaskelasticnetregressor__alpha": [0.01, 0.1, 1.0]}, cv=3)
    gs.fit(X, Y)
    assert gs.predict(X).shape == Y.shape
    par = MultiTaskElasticNetPathCV(alphas=10, cv=3, n_jobs=2, standardize=False).fit(X, Y)
    seq = MultiTaskElasticNetPathCV(alphas=10, cv=3, standardize=False).fit(X, Y)
    assert_array_equal(par.mse_path_, seq.mse_path_)


def test_without_intercept_equals_sklearn():
    X, Y = _data(seed=17)
    ours = MultiTaskElasticNetRegressor(alpha=0.05, l1_ratio=0.8, fit_intercept=False,
                                        **TIGHT, standardize=False).fit(sp.csc_matrix(X), Y)
    ref = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.8, fit_intercept=False, tol=1e-14,
                              max_iter=1000000).fit(X, Y)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert_array_equal(ours.intercept_, 0.0)
    D0 = mt_null_deviance(X, Y, fit_intercept=False)
    assert mt_gap(X, Y, ours.coef_, None, 0.05, 0.8, fit_intercept=False) <= 1e-10 * D0


def test_ridge_path_equals_the_closed_form():
    X, Y = _data(seed=18)
    alphas = np.array([1.0, 0.1, 0.01])
    _, coefs, gaps = multitask_enet_path(X, Y, l1_ratio=0.0, alphas=alphas,
                                         fit_intercept=True, **TIGHT, standardize=False)
    b = _intercepts(X, Y, coefs)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    n, p = X.shape
    D0 = mt_null_deviance(X, Y)
    for k, a in enumerate(alphas):
        H = Xc.T @ Xc / n + a * np.eye(p)
        W = np.linalg.solve(H, Xc.T @ Yc / n)
        bk = Y.mean(axis=0) - X.mean(axis=0) @ W
        Pstar = mt_primal(X, Y, W.T, bk, a, 0.0)
        P = mt_primal(X, Y, coefs[:, :, k], b[:, k], a, 0.0)
        assert -1e-14 * D0 <= P - Pstar <= gaps[k] + 1e-14 * D0 <= 1.01e-12 * D0
        # strong convexity: ||ΔW||_F² <= 2 (P - P*) / λ_min(H)
        bound = np.sqrt(2 * max(gaps[k], 1e-16 * D0) / np.linalg.eigvalsh(H)[0])
        assert np.linalg.norm(coefs[:, :, k] - W.T) <= bound


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_offset_column_fit_is_certified(dtype):
    """CSC with an offset column (the Design stores it centred): no warning, certified by
    the independent gap, float32 too."""
    X, Y = _data(seed=19, offset=True)
    X[np.abs(X) < 0.5] = 0.0
    X, Y = X.astype(dtype).astype(np.float64), Y.astype(dtype).astype(np.float64)
    tol = 1e-9 if dtype == np.float64 else 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MultiTaskElasticNetRegressor(alpha=0.02, tol=tol, max_iter=100000,
                                           standardize=False).fit(
            sp.csc_matrix(X.astype(dtype)), Y.astype(dtype))
    assert est.coef_.dtype == dtype
    D0 = mt_null_deviance(X, Y)
    slack = 0.0 if dtype == np.float64 else 1e-6 * D0  # float32 coefficients, float64 gap
    assert mt_gap(X, Y, est.coef_.astype(np.float64), est.intercept_.astype(np.float64),
                  0.02, 0.5) <= 1.01 * tol * D0 + slack


def test_penalty_conjugate_and_dual_scale_by_fenchel_young():
    from sklearn_normpen.penalties import MultiTaskElasticNetPenalty
    rng = np.random.default_rng(20)
    f = np.array([1.0, 2.0, 0.5, 1.0])
    for rho in (1.0, 0.4):
        pen = MultiTaskElasticNetPenalty(rho, f)
        alpha = 0.3
        for _ in range(20):
            V = rng.standard_normal((4, 3))
            U = rng.standard_normal((4, 3))
            t = pen.dual_scale(U, alpha)
            # h(V) + h*(tU) >= <tU, V> for any V (the conjugate is a valid lower bound)
            assert pen.value(V, alpha) + pen.conjugate(t * U, alpha) >= \
                float(np.sum(t * U * V)) - 1e-12
            assert np.all(np.linalg.norm(t * U, axis=1)[np.full(4, rho == 1.0)]
                          <= alpha * rho * f[np.full(4, rho == 1.0)] * (1 + 1e-12))
        # equality at a subgradient: U_j = l1 V_j/||V_j|| + l2 V_j
        V = rng.standard_normal((4, 3))
        nv = np.linalg.norm(V, axis=1, keepdims=True)
        U = alpha * rho * f[:, None] * V / nv + alpha * (1 - rho) * f[:, None] * V
        assert pen.dual_scale(U, alpha) == pytest.approx(1.0)
        assert_allclose(pen.value(V, alpha) + pen.conjugate(U, alpha), np.sum(U * V),
                        rtol=1e-12)
        assert pen.kkt_violation(U, V, alpha) <= 1e-12


def test_displays_draw_one_response():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from sklearn_normpen import CVErrorDisplay, RegularizationPathDisplay
    X, Y = _data(seed=21)
    est = MultiTaskElasticNetPathCV(alphas=15, cv=3, standardize=False).fit(X, Y)
    d = RegularizationPathDisplay.from_estimator(est, target=1)
    assert_array_equal(d.coefs, est.coef_path_[1])
    with pytest.raises(ValueError, match="target"):
        RegularizationPathDisplay.from_estimator(est)
    CVErrorDisplay.from_estimator(est)


@pytest.mark.parametrize("sx,sy", [(1e6, 1e-3), (1e-5, 1e4)])
def test_extreme_scales_are_certified(sx, sy):
    X, Y = _data(seed=30)
    X, Y = X * sx, Y * sy
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MultiTaskElasticNetPathCV(l1_ratio=1.0, alphas=20, cv=3, tol=1e-8,
                                        max_iter=100000, standardize=False).fit(X, Y)
    D0 = mt_null_deviance(X, Y)
    assert mt_gap(X, Y, est.coef_, est.intercept_, est.alpha_, 1.0) <= 1.01e-8 * D0
    # the multi-task lasso is scale-equivariant: coefficients scale by sy/sx, alpha by sx·sy
    ref = MultiTaskElasticNetRegressor(alpha=est.alpha_ / (sx * sy), l1_ratio=1.0,
                                       tol=1e-12, max_iter=100000, standardize=False).fit(X / sx, Y / sy)
    assert_allclose(est.coef_ * sx / sy, ref.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
@pytest.mark.parametrize("weighted", [False, True])
def test_sweeps_gap_bounds_the_oracle_gap_and_stops_at_its_target(layout, l1_ratio, weighted):
    """The compiled sweeps' own gap (what they stop on, over the working set: here every
    row) is at least the NumPy oracle's gap at every epoch, with an offset column, and a
    run stopped on it at ``tol`` is certified by the oracle within ``tol``."""
    from sklearn_normpen._kernels import _bcd_multitask as K
    from sklearn_normpen._solvers.multitask import MultiTaskProblem
    from sklearn_normpen.multitask import _make_penalty

    X, Y = _data(seed=11, offset=True)
    rng = np.random.default_rng(12)
    if layout == "sparse":
        X = np.where(rng.random(X.shape) < 0.5, 0.0, X)
        X[:, 1] = 1e4 + rng.standard_normal(X.shape[0])  # a dense offset column
    sw = rng.uniform(0.2, 3, X.shape[0]) if weighted else None
    pf = np.ones(X.shape[1])
    pf[6] = 3.0
    Xin = sp.csc_matrix(X) if layout == "sparse" else np.asfortranarray(X)
    pb = MultiTaskProblem(Xin, Y, sw, True)
    pen = _make_penalty(l1_ratio, pf, False, pb, None)
    alpha = 0.05 * mt_alpha_max(X, Y, l1_ratio, sw, pf)
    l1, l2 = pb._weights(pen, alpha)
    D0 = mt_null_deviance(X, Y, sw)
    ws = np.arange(pb.p, dtype=np.intc)

    def sweep(w, epochs, tol, gap_tol):
        args = (pb.xk_mean, w, pb.R, pb.L, l1, l2, ws, pb.dtype.type(pb.N), epochs,
                pb.dtype.type(tol), pb.dtype.type(gap_tol), pb._buf)
        if layout == "sparse":
            return K.bcd_mt_sparse(*pb._csc, pb.n, pb.sw, *args)
        return K.bcd_mt_dense(pb.design.Xk, pb.sw, *args)

    def oracle(w):
        coef, b = pb.to_original(w)
        return mt_gap(X, Y, np.asarray(coef, np.float64).T, b, alpha, l1_ratio, sw, pf)

    check_sweeps_gap(sweep, lambda: pb.start(np.zeros((pb.p, pb.n_responses))), oracle,
                     D0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_coef_init_warm_starts_the_first_point(dtype):
    """``coef_init`` (n_responses, n_features), through ``multitask_enet_path`` and
    ``enet_path(family="mgaussian")``: from a point of the path itself the first solve has
    nothing to do and the rest of the path is the same; from a random start (an excluded
    feature's row included: it starts at zero) every point is certified by the oracle's
    gap; the user's array is never written to; shapes are checked."""
    from sklearn_normpen import enet_path
    X, Y = _data(seed=5)
    X, Y = X.astype(dtype), Y.astype(dtype)
    tol = 1e-9 if dtype == np.float64 else 1e-7
    kw = dict(l1_ratio=0.7, tol=tol, max_iter=100000, fit_intercept=True,
              standardize=False, return_n_iter=True)
    a, c, _, it = multitask_enet_path(X, Y, n_alphas=12, **kw)
    start = c[..., 4].copy()
    kept = start.copy()
    a2, c2, _, it2 = enet_path(X, Y, family="mgaussian", alphas=a[4:], coef_init=start,
                               **kw)
    assert_array_equal(start, kept)
    assert c2.dtype == dtype and it2[0] <= 1 < it[4]  # (a sweep may confirm the start)
    assert_allclose(c2, c[..., 4:], atol=1e-4 if dtype == np.float32 else 2e-5)
    rand = np.random.default_rng(0).standard_normal((3, X.shape[1]))
    a3, c3, gaps, _ = multitask_enet_path(X, Y, alphas=a[4:], coef_init=rand, exclude=[7],
                                          **kw)
    assert np.all(c3[:, 7] == 0)
    keep = np.arange(X.shape[1]) != 7  # (excluded: the problem without its column)
    Xd, Yd = X[:, keep].astype(np.float64), Y.astype(np.float64)
    ck = c3[:, keep].astype(np.float64)
    b = _intercepts(Xd, Yd, ck)
    D0 = mt_null_deviance(Xd, Yd)
    for k, alpha in enumerate(a3):
        g = mt_gap(Xd, Yd, ck[:, :, k], b[:, k], alpha, 0.7)
        assert -1e-10 * D0 <= g <= tol * D0 * 1.01 + 1e-13 * D0, (k, g)
    for bad in (np.zeros(X.shape[1]), np.zeros((2, X.shape[1])), np.zeros((3, 5))):
        with pytest.raises(ValueError, match="coef_init must have shape"):
            multitask_enet_path(X, Y, coef_init=bad)
        with pytest.raises(ValueError, match="coef_init must have shape"):
            enet_path(X, Y, family="mgaussian", coef_init=bad)
