"""Newton steps on the active set of the (sparse-)group lasso (``_solvers/group_newton.py``).

Block coordinate descent crawls when columns in different groups are nearly collinear, e.g.
offset columns (mean ≫ spread) without an intercept: ``GroupLassoClassifier`` with
singleton groups stopped at a gap of 0.3-0.6 of the null deviance after max_iter, the
regressor at 0.97 (offset 1e5). The step is checked against closed-form optima, and the
estimators against the independent NumPy gaps of ``_oracle`` / ``_glm_oracle``."""
import warnings

import numpy as np
import pytest

from sklearn_normpen import GroupLassoClassifier, GroupLassoRegressor
from sklearn_normpen._solvers.group_newton import active_set_newton, objective_change

from _glm_oracle import glm_gap, glm_null_deviance
from _oracle import null_deviance, sgl_gap


def _problem(rho, seed=0, leave=False):
    """An ill-conditioned quadratic (two nearly collinear columns) whose optimum ``u*`` is
    known: ``g`` is chosen so that φ's gradient vanishes at ``u*`` (``leave``: one
    coefficient of ``u*`` is 0, its gradient strictly inside the l1 subdifferential)."""
    rng = np.random.default_rng(seed)
    n, k = 200, 7
    B = rng.standard_normal((n, k))
    B[:, 1] = B[:, 0] + 1e-4 * rng.standard_normal(n)  # condition number ~1e8 in G
    G = B.T @ B / n
    grp = np.array([0, 1, 1, 2, 2, 2, 3])
    c = np.array([1.0, np.sqrt(2), np.sqrt(3), 0.0])  # the last group unpenalised
    alpha = 0.05
    u_star = rng.standard_normal(k) + np.sign(rng.standard_normal(k)) * 0.5
    if leave:
        u_star[4] = 0.0
    u0 = u_star + 0.05 * rng.standard_normal(k)
    u0 = np.where(np.sign(u0) == 0, 0.1, u0)
    if leave:
        u0[4] = 0.03
    s = np.sign(u_star)
    sub = np.zeros(k)  # a subgradient of the penalty at u*
    for q in range(4):
        idx = np.flatnonzero(grp == q)
        if c[q] == 0:
            continue
        nrm = np.linalg.norm(u_star[idx])
        sub[idx] = alpha * (1 - rho) * c[q] * u_star[idx] / nrm + alpha * rho * s[idx]
    if leave:
        sub[4] = 0.5 * alpha * rho  # inside [-alpha rho, alpha rho]
    g = G @ (u_star - u0) + sub  # ∇φ(u*) = G (u* - u0) - g + sub = 0
    return G, g, u0, u_star, grp, c, alpha


@pytest.mark.parametrize("rho,leave", [(0.0, False), (0.5, False), (0.5, True),
                                       (0.9, True)])
def test_newton_reaches_the_closed_form_optimum(rho, leave):
    G, g, u0, u_star, grp, c, alpha = _problem(rho, leave=leave)
    out = active_set_newton(G, g, u0, grp, c, alpha, rho)
    assert out is not None
    u, decrease = out
    np.testing.assert_allclose(u, u_star, rtol=0, atol=1e-7)
    if leave:
        assert u[4] == 0.0
    # the reported decrease is the objective's, and nothing lower exists (u* is optimal)
    assert decrease == pytest.approx(-objective_change(G, g, u0, u, grp, c, alpha, rho),
                                     rel=1e-9)
    assert objective_change(G, g, u0, u_star, grp, c, alpha, rho) >= -decrease - 1e-12


def test_newton_declines_at_the_optimum():
    G, g, u0, u_star, grp, c, alpha = _problem(0.5)
    # from u* itself: the gradient vanishes, nothing to gain
    g_star = g - G @ (u_star - u0)
    assert active_set_newton(G, g_star, u_star, grp, c, alpha, 0.5) is None


def _offset_data(offset, seed=0, classify=False):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((300, 6))
    X = Z.copy()
    X[:, 0] += offset
    X[:, 1] += 1.3 * offset
    signal = Z @ [1.0, -1.0, 0.5, 0.0, 0.0, 0.3]
    if classify:
        return X, (signal + 0.3 * rng.standard_normal(300) > 0).astype(int)
    return X, signal + 0.3 * rng.standard_normal(300)


def _quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        return est.fit(X, y)


@pytest.mark.parametrize("offset", [1e3, 1e4])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_group_classifier_without_intercept_beside_offset_columns(offset, rho):
    X, y = _offset_data(offset, classify=True)
    groups = [[j] for j in range(6)]  # the two offset columns in different groups
    alpha, tol = 2e-3, 1e-5
    est = _quiet(GroupLassoClassifier(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                      fit_intercept=False, standardize=False), X, y)
    gap = glm_gap("binomial", X, y, est.coef_.ravel(), 0.0, alpha, rho, groups=groups,
                  fit_intercept=False)
    null = glm_null_deviance("binomial", y)
    assert 0 <= gap <= 2 * tol * null


@pytest.mark.parametrize("offset", [1e4, 1e5])
@pytest.mark.parametrize("groups", [[[j] for j in range(6)], [[0, 2], [1, 3], [4, 5]]])
@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("standardize", [False, True])
def test_group_regressor_without_intercept_beside_offset_columns(offset, groups, rho,
                                                                 standardize):
    X, y = _offset_data(offset)
    alpha, tol = 2e-3, 1e-6
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                     fit_intercept=False, standardize=standardize), X, y)
    scale = X.std(axis=0) if standardize else None
    gap = sgl_gap(X, y, est.coef_, 0.0, alpha, rho, groups, fit_intercept=False,
                  col_scale=scale)
    null = null_deviance(X, y, fit_intercept=False)
    assert -1e-12 * null <= gap <= 2 * tol * null


def _collinear(seed=0):
    """Centred-scale data where two pairs of columns in different (singleton) groups are
    nearly collinear (correlation 1 - 1e-8): block CD crawls along each pair."""
    rng = np.random.default_rng(seed)
    n, p = 400, 40
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 1e-4 * rng.standard_normal(n)
    X[:, 7] = X[:, 5] - 2e-4 * rng.standard_normal(n)
    y = 2 * X[:, 0] - X[:, 1] + X[:, 5] + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("sparse", [False, True])  # dense float64 n >= p: covariance mode
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_path_on_nearly_collinear_groups_is_certified(sparse, rho):
    import scipy.sparse as sps
    from sklearn_normpen import group_lasso_path
    X, y = _collinear()
    groups = [[j] for j in range(X.shape[1])]
    tol = 1e-8
    Xf = sps.csc_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alphas, coefs, _ = group_lasso_path(Xf, y, groups=groups, l1_ratio=rho, tol=tol,
                                            n_alphas=30, fit_intercept=False,
                                            standardize=False)
    null = null_deviance(X, y, fit_intercept=False)
    gaps = [sgl_gap(X, y, coefs[:, k], 0.0, a, rho, groups, fit_intercept=False)
            for k, a in enumerate(alphas)]
    assert min(gaps) >= -1e-12 * null
    assert max(gaps) <= 2 * tol * null


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_with_intercept_on_nearly_collinear_groups(sparse):
    import scipy.sparse as sps
    X, y = _collinear(1)
    groups = [[j] for j in range(X.shape[1])]
    alpha, tol = 1e-3, 1e-8
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=0.5, tol=tol,
                                     standardize=False),
                 sps.csc_matrix(X) if sparse else X, y)
    gap = sgl_gap(X, y, est.coef_, est.intercept_, alpha, 0.5, groups)
    assert -1e-12 <= gap <= 2 * tol * null_deviance(X, y)
