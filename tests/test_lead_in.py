"""A cold fit far below ``alpha_max`` walks down to it through a few warm-started alphas
(``_path.lead_in``, as glmnet fits a whole path): solved directly, breast cancer's 495
quadratic features at ``1e-4 alpha_max`` let hundreds of features in at once and ran out
of the default ``max_iter`` (lasso: gap 8.6e-3 against
1.2e-5). Gaussian elastic net only (``EnetProblem.lead_in``)."""
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

import _oracle as oracle
from sklearn_normpen import ElasticNetRegressor


def _quadratic_breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler
    X, y = load_breast_cancer(return_X_y=True)
    X = PolynomialFeatures(2, include_bias=False).fit_transform(
        StandardScaler().fit_transform(X))
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

