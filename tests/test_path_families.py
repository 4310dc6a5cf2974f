"""``family=`` of enet_path / group_lasso_path: each family's path equals the matching
estimator at the same alphas, and every point has a small independent NumPy gap."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import MultiTaskElasticNet

from sklearn_normpen import (ElasticNetClassifier, ElasticNetClassifierPathCV,
                             ElasticNetPoissonRegressor, GroupLassoClassifier, enet_path,
                             group_lasso_path, multitask_enet_path)
from _glm_oracle import glm_gap, glm_null_deviance, glm_primal
from _oracle import weighted_std

GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7]]


def _binary(n=120, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p)
    eta = X[:, 0] - 0.5 * X[:, 3] + 0.3
    y = np.where(rng.random(n) < expit(eta), "yes", "no")
    return X, y


def _counts(n=120, p=8, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, -1] + 0.5)).astype(float)
    return X, y


@pytest.mark.parametrize("standardize", [False, True])
def test_binomial_enet_path_equals_classifier_and_independent_gap(standardize):
    X, y = _binary()
    sw = np.random.default_rng(2).uniform(0.2, 2, len(y))
    pf = np.linspace(0.5, 1.5, X.shape[1])
    alphas, coefs, gaps = enet_path(X, y, family="binomial", l1_ratio=0.7, n_alphas=12,
                                    fit_intercept=True, sample_weight=sw,
                                    penalty_factor=pf, standardize=standardize, tol=1e-10,
                                    max_iter=100000)
    assert coefs.shape == (X.shape[1], len(alphas)) and len(alphas) >= 5
    assert np.all(gaps >= -1e-14)  # rounding at the null point
    y01 = (y == "yes").astype(float)  # "yes" is the second of np.unique: the positive class
    sigma = weighted_std(X, sw)[0] if standardize else np.ones(X.shape[1])
    unit = glm_null_deviance("binomial", y01, sw)
    assert np.all(coefs[:, 0] == 0)  # alpha_max: every penalised coefficient zero
    for k in range(1, len(alphas)):
        clf = ElasticNetClassifier(alpha=alphas[k], l1_ratio=0.7, penalty_factor=pf,
                                   standardize=standardize, tol=1e-10,
                                   max_iter=100000).fit(X, y, sw)
        np.testing.assert_allclose(coefs[:, k], clf.coef_.ravel(), atol=2e-5)
        b = np.ravel(clf.intercept_)[0]
        g = glm_gap("binomial", X, y01, coefs[:, k], b, alphas[k], 0.7, sw, pf * sigma,
                    pf * sigma ** 2)
        assert -1e-12 <= g <= 1e-7 * unit


def test_binomial_positive_class_is_the_second_label():
    X, y = _binary(seed=3)
    kw = dict(family="binomial", n_alphas=6, fit_intercept=True, tol=1e-10)
    _, c_str, _ = enet_path(X, y, **kw)
    _, c_01, _ = enet_path(X, (y == "yes").astype(int), **kw)
    _, c_flip, _ = enet_path(X, np.where(y == "yes", "a", "b"), **kw)  # "b" now positive
    np.testing.assert_allclose(c_str, c_01, atol=1e-10)
    np.testing.assert_allclose(c_flip, -c_01, atol=1e-6)


def test_binomial_early_stop_is_the_estimators_and_is_reported():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(int)  # separable: the deviance ratio tends to 1
    with pytest.warns(UserWarning, match="deviance ratio"):
        alphas, coefs, gaps = enet_path(X, y, family="binomial", n_alphas=100, eps=1e-6,
                                        fit_intercept=True, l1_ratio=1.0)
    assert len(alphas) < 100 and np.all(np.isfinite(coefs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = ElasticNetClassifierPathCV(alphas=100, eps=1e-6, l1_ratio=1.0, cv=3).fit(X, y)
    assert cv.path_stop_reason_ is not None
    np.testing.assert_allclose(alphas, cv.alphas_, rtol=1e-12)
    np.testing.assert_allclose(coefs, cv.coef_path_, atol=1e-5)


@pytest.mark.parametrize("sparse", [False, True])
def test_poisson_enet_path_equals_regressor_and_independent_gap(sparse):
    X, y = _counts()
    if sparse:
        X[np.abs(X) < 0.5] = 0
    Xin = sp.csc_matrix(X) if sparse else X
    alphas, coefs, gaps = enet_path(Xin, y, family="poisson", l1_ratio=0.5, n_alphas=10,
                                    fit_intercept=True, standardize=False, tol=1e-10,
                                    max_iter=100000)
    unit = glm_null_deviance("poisson", y)
    for k in range(len(alphas)):
        est = ElasticNetPoissonRegressor(alpha=alphas[k], l1_ratio=0.5, standardize=False,
                                         tol=1e-10, max_iter=100000).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], est.coef_.ravel(), atol=2e-5)
        g = glm_gap("poisson", X, y, coefs[:, k], np.ravel(est.intercept_)[0], alphas[k], 0.5)
        assert -1e-12 <= g <= 1e-7 * unit
        assert -1e-14 <= gaps[k] <= 1e-10 * unit * (1 + 1e-9)


def test_poisson_path_point_matches_cvxpy_no_intercept():
    cp = pytest.importorskip("cvxpy")
    X, y = _counts(n=60, p=4, seed=5)
    alphas = np.array([0.2, 0.05])
    _, coefs, gaps = enet_path(X, y, family="poisson", alphas=alphas, l1_ratio=0.8,
                               standardize=False, tol=1e-10, max_iter=100000)
    w = cp.Variable(4)
    eta = X @ w
    obj = (cp.sum(cp.exp(eta) - cp.multiply(y, eta)) / len(y)
           + 0.05 * (0.8 * cp.norm1(w) + 0.1 * cp.sum_squares(w)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    np.testing.assert_allclose(coefs[:, 1], w.value, atol=1e-5)
    P = glm_primal("poisson", X, y, coefs[:, 1], 0.0, 0.05, 0.8)
    Pstar = glm_primal("poisson", X, y, w.value, 0.0, 0.05, 0.8)
    assert P - Pstar <= gaps[1] + 1e-9  # the reported gap bounds the suboptimality
    g = glm_gap("poisson", X, y, coefs[:, 1], 0.0, 0.05, 0.8, fit_intercept=False)
    assert g <= 1e-7


def test_float32_sparse_binomial_path():
    X, y = _binary(seed=6)
    X[np.abs(X) < 0.8] = 0
    kw = dict(family="binomial", n_alphas=8, fit_intercept=True, tol=1e-7)
    a64, c64, _ = enet_path(X, y, **kw)
    a32, c32, _ = enet_path(sp.csc_matrix(X.astype(np.float32)), y, alphas=a64,
                            family="binomial", fit_intercept=True, tol=1e-7)
    assert c32.dtype == np.float32
    np.testing.assert_allclose(c32, c64, atol=2e-3)


def test_mgaussian_is_the_multitask_path_and_sklearn():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((50, 6))
    Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.1 * rng.standard_normal((50, 3))
    a, c, g = enet_path(X, Y, family="mgaussian", l1_ratio=0.6, n_alphas=6,
                        standardize=False, fit_intercept=True, tol=1e-10)
    a2, c2, g2 = multitask_enet_path(X, Y, l1_ratio=0.6, n_alphas=6, standardize=False,
                                     fit_intercept=True, tol=1e-10)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(c, c2)
    assert c.shape == (3, 6, 6)
    ref = MultiTaskElasticNet(alpha=a[3], l1_ratio=0.6, tol=1e-12, max_iter=100000).fit(X, Y)
    np.testing.assert_allclose(c[:, :, 3], ref.coef_, atol=1e-6)


def test_group_binomial_path_equals_classifier_and_independent_gap():
    X, y = _binary(seed=8)
    y01 = (y == "yes").astype(float)
    gw = np.array([1.0, 2.0, 0.5])
    alphas, coefs, gaps = group_lasso_path(X, y, groups=GROUPS, group_weights=gw,
                                           l1_ratio=0.3, family="binomial", n_alphas=8,
                                           fit_intercept=True, standardize=False,
                                           tol=1e-10, max_iter=100000)
    unit = glm_null_deviance("binomial", y01)
    for k in range(1, len(alphas)):
        clf = GroupLassoClassifier(standardize=False,
                                   groups=GROUPS, group_weights=gw, alpha=alphas[k],
                                   l1_ratio=0.3, tol=1e-10, max_iter=100000).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], clf.coef_.ravel(), atol=2e-5)
        g = glm_gap("binomial", X, y01, coefs[:, k], np.ravel(clf.intercept_)[0], alphas[k], 0.3,
                    groups=GROUPS, group_weights=gw)
        assert -1e-12 <= g <= 1e-7 * unit


def test_group_path_standardize_is_the_fit_on_scaled_columns():
    X, y = _counts(seed=9)
    sw = np.random.default_rng(3).uniform(0.5, 2, len(y))
    sigma = weighted_std(X, sw)[0]
    alphas, coefs, _ = group_lasso_path(X, y, groups=GROUPS, family="poisson", n_alphas=6,
                                        sample_weight=sw, fit_intercept=True, tol=1e-10,
                                        max_iter=100000)
    _, scaled, _ = group_lasso_path(X / sigma, y, groups=GROUPS, family="poisson",
                                    alphas=alphas, sample_weight=sw, fit_intercept=True,
                                    standardize=False, tol=1e-10, max_iter=100000)
    np.testing.assert_allclose(coefs, scaled / sigma[:, None], atol=1e-7)
    assert np.any(coefs[:, -1] != 0) and np.all(coefs[:, 0] == 0)


def test_limits_of_glm_paths():
    X, y = _binary(seed=10)
    with pytest.warns(UserWarning, match="dfmax"):
        a, c, _ = enet_path(X, y, family="binomial", n_alphas=30, dfmax=2, l1_ratio=1.0,
                            fit_intercept=True)
    assert np.count_nonzero(c[:, -1]) > 2 and len(a) < 30
    _, c, _ = enet_path(X, y, family="binomial", n_alphas=10, exclude=[0],
                        fit_intercept=True)
    assert np.all(c[0] == 0) and np.any(c[1:, -1] != 0)
    _, c, _ = group_lasso_path(X, y, groups=GROUPS, family="binomial", n_alphas=10,
                               exclude=[3, 4], fit_intercept=True)
    assert np.all(c[[3, 4]] == 0) and np.any(c[:, -1] != 0)


def test_family_errors_name_the_family():
    X, y = _binary()
    with pytest.raises(ValueError, match="multinomial"):
        enet_path(X, y, family="multinomial")
    with pytest.raises(ValueError, match="family must be one of"):
        enet_path(X, y, family="gamma")
    with pytest.raises(ValueError, match="family must be one of"):
        group_lasso_path(X, y, family="mgaussian")
    with pytest.raises(ValueError, match="exactly 2 classes"):
        enet_path(X, np.arange(len(y)) % 3, family="binomial")
    with pytest.raises(ValueError, match="positive is not supported with "
                                         "family='mgaussian'"):
        enet_path(X, np.c_[X[:, 0], X[:, 1]], family="mgaussian", positive=True)
    with pytest.raises(ValueError, match="non-negative"):
        enet_path(X, -np.ones(len(y)), family="poisson")
    with pytest.raises(ValueError, match=r"coef_init must have shape \(2, 8\)"):
        enet_path(X, np.c_[X[:, 0], X[:, 1]], family="mgaussian", coef_init=np.zeros((3, 8)))
    with pytest.raises(ValueError, match="unpenalised feature"):  # no limits on them
        group_lasso_path(X, y, groups=GROUPS[:2], family="binomial", upper_limits=1.0)


@pytest.mark.parametrize("kind", ["enet", "group"])
def test_poisson_path_from_a_far_coef_init_is_certified(kind):
    # A start 5 away on every coefficient (|η| up to ~100): the proximal-Newton steps from
    # it overflowed and were refused, and the first point (then the points warm-started
    # from it) came back uncertified; the path now retries that point from the null fit
    # (farther starts, |η| in the thousands, had crashed: see
    # test_far_glm_starts_do_not_crash)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 40))
    y = rng.poisson(np.exp(0.25 * X[:, :10].sum(axis=1))).astype(float)
    groups = [np.arange(5 * g, 5 * g + 5) for g in range(8)]
    if kind == "enet":
        rho, path = 0.7, lambda **kw: enet_path(X, y, family="poisson", l1_ratio=rho,
                                                standardize=False, tol=1e-8, **kw)
    else:
        rho, path = 0.0, lambda **kw: group_lasso_path(
            X, y, groups=groups, family="poisson", l1_ratio=rho, standardize=False,
            tol=1e-8, **kw)
    alphas, cold = path(n_alphas=6)[:2]
    for first in (0, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ConvergenceWarning, no overflow warning
            coefs = path(alphas=alphas[first:], coef_init=cold[:, first] + 5.0)[1]
        np.testing.assert_allclose(coefs, cold[:, first:], atol=1e-3)
        unit = glm_null_deviance("poisson", y)
        for k, a in enumerate(alphas[first:]):  # (no intercept: the paths' default)
            g = glm_gap("poisson", X, y, coefs[:, k], 0.0, a, rho, fit_intercept=False,
                        groups=groups if kind == "group" else None)
            assert -1e-12 <= g <= 1e-7 * unit


@pytest.mark.parametrize("kind", ["enet", "group"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_far_glm_starts_do_not_crash(kind, dtype):
    """Poisson starts with |η| in the thousands (a column scaled by 1e3) overflowed the
    Newton models' curvature weights: ``LinAlgError`` in the group Grams' eigenvalues, a
    ``ValueError`` from an infinite working response. The start is refused, with a
    warning, and the path is the one without it; a usable start (the path's own point)
    is taken silently, its first solve has (nearly) nothing to do."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 12))
    X[:, 1] *= 1e3
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 2])).astype(float)
    X = X.astype(dtype)
    groups = [np.arange(3 * g, 3 * g + 3) for g in range(4)]
    kw = dict(family="poisson", l1_ratio=0.5, tol=1e-7, fit_intercept=True,
              standardize=False, return_n_iter=True)
    path = ((lambda **k: enet_path(X, y, **kw, **k)) if kind == "enet" else
            (lambda **k: group_lasso_path(X, y, groups=groups, **kw, **k)))
    alphas, cold, gaps, it = path(n_alphas=6, eps=1e-2)
    far = np.linspace(-3.0, 3.0, 12)  # |X far| up to ~1e4
    with pytest.warns(UserWarning, match="coef_init puts the linear predictor where"):
        a2, c2, g2, _ = path(alphas=alphas[2:], coef_init=far)
    np.testing.assert_array_equal(c2, path(alphas=alphas[2:])[1])
    unit = glm_null_deviance("poisson", y)
    assert np.all(g2 <= 1e-7 * unit * 1.0001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a3, c3, g3, it3 = path(alphas=alphas[2:], coef_init=cold[:, 2])
    assert it3[0] <= 1 < it[2]  # (a Newton step may confirm the start)
