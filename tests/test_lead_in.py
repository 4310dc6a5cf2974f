"""A cold fit far below ``alpha_max`` walks down to it through a few warm-started alphas
(``_path.lead_in``, as glmnet fits a whole path): solved directly, breast cancer's 495
quadratic features at ``1e-4 alpha_max`` let hundreds of features in at once and ran out
of the default ``max_iter`` (lasso: gap 8.6e-3 against
1.2e-5). The same for the GLMs (``GLMProblem.lead_in``): the logistic lasso and group
lasso stopped at 1300x and 5x their targets. Where the walk's end is not certified, one
cold solve follows (``_path.cold_retry``, see test_glm_adversarial's offset columns)."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import _oracle as oracle
from _glm_oracle import glm_gap, glm_null_deviance
from sklearn_normpen import ElasticNetClassifier, ElasticNetRegressor, GroupLassoClassifier


def _quadratic_breast_cancer(scale_after=False):
    """Breast cancer's 495 quadratic features of the standardised columns, or (scale_after)
    the quadratic features standardised."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler
    X, y = load_breast_cancer(return_X_y=True)
    quad = PolynomialFeatures(2, include_bias=False)
    X = (StandardScaler().fit_transform(quad.fit_transform(X)) if scale_after
         else quad.fit_transform(StandardScaler().fit_transform(X)))
    return X, y.astype(float)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_cold_lasso_far_below_alpha_max_certifies(l1_ratio):
    X, y = _quadratic_breast_cancer()
    amax = oracle.enet_alpha_max(X, y, l1_ratio)
    alpha = 1e-4 * amax
    est = _fit(ElasticNetRegressor(alpha=alpha, l1_ratio=l1_ratio, standardize=False), X, y)
    null = oracle.null_deviance(X, y)
    pstar = oracle.reference_optimum_cvxpy(X, y, alpha, l1_ratio)
    primal = oracle.enet_primal(X, y, est.coef_, est.intercept_, alpha, l1_ratio)
    assert est.dual_gap_ <= est.tol * null
    assert primal - pstar <= est.tol * null
    assert primal - pstar <= est.dual_gap_ + 1e-12 * null


@pytest.mark.parametrize("kind, rel", [("lasso", 1e-4), ("enet", 1e-4), ("group", 1e-3)])
def test_cold_logistic_far_below_alpha_max_certifies(kind, rel):
    # standardised quadratic features; solved directly the lasso stopped at gap 8.6e-2 and
    # the group lasso at 1.3e-2 against 6.6e-5 (default max_iter). Checked by the
    # independent NumPy gap of _glm_oracle, not the package's certificate.
    X, y = _quadratic_breast_cancer(scale_after=True)
    y = y.astype(int)
    rho = {"lasso": 1.0, "enet": 0.5, "group": 0.0}[kind]
    g = X.T @ (y - y.mean()) / len(y)
    groups = [list(range(i, min(i + 5, X.shape[1]))) for i in range(0, X.shape[1], 5)]
    if kind == "group":  # the group lasso's alpha_max: the largest group norm / weight
        amax = max(np.linalg.norm(g[idx]) / np.sqrt(len(idx)) for idx in groups)
        est = GroupLassoClassifier(alpha=rel * amax, groups=groups, standardize=False)
    else:
        amax = np.max(np.abs(g)) / rho
        est = ElasticNetClassifier(alpha=rel * amax, l1_ratio=rho, standardize=False)
    est = _fit(est, X, y)
    gap = glm_gap("binomial", X, y, est.coef_, est.intercept_, est.alpha, rho,
                  groups=groups if kind == "group" else None)
    assert 0 <= gap <= est.tol * glm_null_deviance("binomial", y)


@pytest.mark.parametrize("Est, make_y", [
    (ElasticNetRegressor, lambda eta, rng: eta + rng.standard_normal(eta.size)),
    (ElasticNetClassifier, lambda eta, rng: (eta + rng.logistic(size=eta.size) > 0).astype(int)),
])
def test_lead_in_walks_loosely_and_reports_the_point_at_the_target(monkeypatch, Est, make_y):
    # the walk's alphas are warm starts only (solved to LEAD_IN_TOL_FACTOR x the target);
    # the point reported is solved to the target itself and certified by the oracle gap
    from sklearn_normpen import _path
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    from sklearn_normpen._solvers.mode_switch import RESIDUAL_WALK_PER_DECADE
    from sklearn_normpen._solvers.prox_newton import GLMProblem
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 300))
    y = make_y(X[:, :5].sum(axis=1), rng)
    calls = []
    Problem = EnetProblem if Est is ElasticNetRegressor else GLMProblem
    solve = Problem.solve

    def recording(self, w, penalty, alpha, tol_abs, *args, **kwargs):
        calls.append((float(alpha), float(tol_abs)))
        return solve(self, w, penalty, alpha, tol_abs, *args, **kwargs)

    monkeypatch.setattr(Problem, "solve", recording)
    amax = np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / len(y)
    est = _fit(Est(alpha=1e-3 * amax, l1_ratio=1.0, standardize=False), X, y)
    # (a GLM's solve calls its Gaussian model's: only the GLM's own solves are recorded)
    walk, last = calls[:-1], calls[-1]
    # (3 decades below alpha_max; the Gaussian fit is on the residual: its walk's density)
    per_decade = (RESIDUAL_WALK_PER_DECADE if Est is ElasticNetRegressor
                  else _path.LEAD_IN_PER_DECADE)
    assert len(walk) >= per_decade * 2
    assert last[0] == est.alpha
    assert all(a > est.alpha for a, _ in walk)
    target = last[1]
    assert [t for _, t in walk] == pytest.approx([_path.LEAD_IN_TOL_FACTOR * target] * len(walk))
    if Est is ElasticNetRegressor:
        gap = oracle.enet_gap(X, y, est.coef_, est.intercept_, est.alpha, 1.0)
        assert target == pytest.approx(est.tol * oracle.null_deviance(X, y))
    else:
        gap = glm_gap("binomial", X, y, est.coef_, est.intercept_, est.alpha, 1.0)
        assert target == pytest.approx(est.tol * glm_null_deviance("binomial", y))
    assert 0 <= gap <= target * (1 + 1e-9)
    assert est.dual_gap_ <= target


@pytest.mark.parametrize("p, walks", [(10, False), (63, False), (64, True)])
def test_small_covariance_mode_fits_solve_cold_directly(monkeypatch, p, walks):
    # below EnetProblem.LEAD_IN_MIN_GRAM_FEATURES a covariance-mode fit skips the walk (its
    # solves cost more than they save); the point is certified by the oracle either way
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    rng = np.random.default_rng(p)
    X = rng.standard_normal((400, p)) @ (np.eye(p) + 0.5)  # correlated columns
    y = X[:, :3].sum(axis=1) + rng.standard_normal(400)
    calls = []
    solve = EnetProblem.solve

    def recording(self, w, penalty, alpha, tol_abs, *args, **kwargs):
        calls.append((self.mode, float(alpha)))
        return solve(self, w, penalty, alpha, tol_abs, *args, **kwargs)

    monkeypatch.setattr(EnetProblem, "solve", recording)
    alpha = 1e-3 * oracle.enet_alpha_max(X, y, 1.0)
    est = _fit(ElasticNetRegressor(alpha=alpha, l1_ratio=1.0, standardize=False,
                                   precompute=True), X, y)
    assert all(mode == "gram" for mode, _ in calls)
    assert (len(calls) > 1) == walks and calls[-1][1] == alpha
    gap = oracle.enet_gap(X, y, est.coef_, est.intercept_, alpha, 1.0)
    null = oracle.null_deviance(X, y)
    assert -1e-12 * null <= gap <= est.tol * null
