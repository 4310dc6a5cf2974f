"""``group_lasso_path(family="binomial" | "poisson")`` with unpenalised features (a group
weight of 0, or features in no group), as ``GroupLassoClassifier`` /
``GroupLassoPoissonRegressor`` accept them (issue 10): the path starts at the certified
null fit with the unpenalised block fitted, equals the estimators' path, and its points
match cvxpy + Clarabel optima (penalty ``alpha(rho Σ_{j penalised}|w_j| + (1 - rho)
Σ_g c_g ||w_g||)``, unpenalised features free; no l1 term on them either)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from sklearn_normpen import (GroupLassoClassifier, GroupLassoClassifierPathCV,
                             GroupLassoPoissonRegressor, GroupLassoPoissonRegressorPathCV,
                             group_lasso_path)
from _oracle import weighted_std

GROUPS = [[0, 1], [2, 3], [4, 5]]  # 6 and 7 in no group
GW_ZERO = [1.0, 0.0, 1.5]          # the second group unpenalised too


def _data(family, seed=0):
    rng = np.random.default_rng(seed)
    n, p = 90, 8
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p)
    X[:, 2] += 3.0  # an offset column in the unpenalised group
    eta = X[:, 0] - 0.8 * X[:, 3] + 0.5 * X[:, 6] - 0.3
    if family == "binomial":
        y = (rng.random(n) < expit(eta)).astype(float)
    else:
        y = rng.poisson(np.exp(0.3 * eta)).astype(float)
    return X, y, rng.uniform(0.5, 2, n)


def _loss(family, y, eta):
    return (np.logaddexp(0, eta) - y * eta if family == "binomial"
            else np.exp(eta) - y * eta)


def _cvxpy(family, X, y, s, alpha, rho, groups, gw, sigma):
    """The optimum on the user's scale; standardisation as the rescaled columns' fit
    (``w_j σ_j`` in the penalty)."""
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    w, b = cp.Variable(p), cp.Variable()
    eta = X @ w + b
    f = (cp.logistic(eta) - cp.multiply(y, eta) if family == "binomial"
         else cp.exp(eta) - cp.multiply(y, eta))
    v = cp.multiply(sigma, w)
    pen = 0
    for g, c in zip(groups, gw):
        if c > 0:
            pen = pen + rho * cp.sum(cp.abs(v[g])) + (1 - rho) * c * cp.norm(v[g], 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(cp.sum(cp.multiply(s, f)) / s.sum() + alpha * pen)).solve(
            solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(w.value).ravel(), float(b.value)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_unpenalised_groups_path_matches_estimators_and_cvxpy(family, standardize, sparse):
    X, y, s = _data(family)
    rho = 0.4
    Xin = sp.csc_matrix(X) if sparse else X
    alphas, coefs, gaps = group_lasso_path(
        Xin, y, groups=GROUPS, group_weights=GW_ZERO, l1_ratio=rho, family=family,
        n_alphas=8, sample_weight=s, fit_intercept=True, standardize=standardize,
        tol=1e-10, max_iter=100000)
    assert len(alphas) == 8 and np.all(gaps >= -1e-14) and np.all(gaps <= 1e-9)
    pen = np.r_[0, 1, 4, 5]  # penalised features
    # alpha_max: every penalised coefficient zero, the unpenalised block fitted (not 0)
    assert np.all(coefs[pen, 0] == 0) and np.all(coefs[[2, 3, 6, 7], 0] != 0)
    assert np.any(coefs[pen, 1] != 0)  # and the second point enters (alpha_max is tight)
    Cv = GroupLassoClassifierPathCV if family == "binomial" else \
        GroupLassoPoissonRegressorPathCV
    est = Cv(groups=GROUPS, group_weights=GW_ZERO, l1_ratio=rho, alphas=alphas, cv=3,
             standardize=standardize, tol=1e-10, max_iter=100000).fit(Xin, y, s)
    np.testing.assert_allclose(est.coef_path_, coefs, atol=1e-7)
    sigma = weighted_std(X, s)[0] if standardize else np.ones(X.shape[1])
    allg = GROUPS + [[6, 7]]
    for k in (0, 3, 7):
        w_ref, b_ref = _cvxpy(family, X, y, s, alphas[k], rho, allg, GW_ZERO + [0.0], sigma)
        np.testing.assert_allclose(coefs[:, k], w_ref, atol=2e-5)
        np.testing.assert_allclose(est.intercept_path_[k], b_ref, atol=2e-5)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_single_alpha_estimator_equals_path_point(family):
    X, y, s = _data(family, seed=1)
    alphas, coefs, _ = group_lasso_path(X, y, groups=GROUPS, family=family, n_alphas=6,
                                        sample_weight=s, fit_intercept=True, tol=1e-10,
                                        max_iter=100000, standardize=False)
    Est = GroupLassoClassifier if family == "binomial" else GroupLassoPoissonRegressor
    for k in (0, 5):
        est = Est(groups=GROUPS, alpha=alphas[k], tol=1e-10, max_iter=100000,
                  standardize=False).fit(X, y, s)
        np.testing.assert_allclose(est.coef_.ravel(), coefs[:, k], atol=1e-7)


def test_limits_on_an_unpenalised_group_are_refused():
    X, y, _ = _data("binomial")
    with pytest.raises(ValueError, match="unpenalised feature"):
        group_lasso_path(X, y, groups=GROUPS, family="binomial", lower_limits=-1.0,
                         n_alphas=3, fit_intercept=True)
