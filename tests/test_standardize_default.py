"""``standardize=True`` is the default everywhere (issue 12 item 9) and makes every fit
invariant to the units of the features: rescaling column j by d_j divides its coefficient
by d_j and changes nothing else (alphas, CV curves, predictions)."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklearn_normpen as snp

HAS_STANDARDIZE = [getattr(snp, n) for n in snp.__all__
                   if callable(getattr(snp, n))
                   and "standardize" in inspect.signature(getattr(snp, n)).parameters]


def test_every_standardize_defaults_to_true():
    names = {f.__name__ for f in HAS_STANDARDIZE}
    assert {"enet_path", "group_lasso_path", "ElasticNetPathCV", "GroupLassoPathCV",
            "ElasticNetRegressor", "GroupLassoRegressor", "ElasticNetIC", "GroupLassoIC",
            "ElasticNetClassifier", "ElasticNetClassifierPathCV",
            "ElasticNetPoissonRegressor", "ElasticNetPoissonRegressorPathCV"} <= names
    for f in HAS_STANDARDIZE:
        assert inspect.signature(f).parameters["standardize"].default is True, f.__name__


rng = np.random.default_rng(11)
N, P = 90, 6
X = rng.normal(size=(N, P)) + 3.0
D = np.array([1e-3, 0.5, 1.0, 7.0, 1e2, 1e4])  # units: millimetres to kilometres
Y = (X - 3.0) @ np.array([1.0, -0.8, 0.0, 0.5, 0.0, 0.3]) + 0.5 * rng.normal(size=N)
GROUPS = [[0, 1], [2, 3], [4, 5]]
TARGETS = {"reg": Y, "bin": (Y > np.median(Y)).astype(int),
           "count": rng.poisson(np.exp(0.3 * (X[:, 0] - 3.0)))}
CASES = [
    (snp.ElasticNetPathCV(alphas=15, cv=3, tol=1e-10), "reg"),
    (snp.GroupLassoPathCV(groups=GROUPS, alphas=15, cv=3, tol=1e-10), "reg"),
    (snp.ElasticNetRegressor(alpha=0.05, tol=1e-10), "reg"),
    (snp.GroupLassoRegressor(groups=GROUPS, alpha=0.05, tol=1e-10), "reg"),
    (snp.ElasticNetIC(alphas=15, tol=1e-10), "reg"),
    (snp.ElasticNetClassifierPathCV(alphas=10, cv=3, tol=1e-10), "bin"),
    (snp.ElasticNetPoissonRegressorPathCV(alphas=10, cv=3, tol=1e-10), "count"),
]


@pytest.mark.parametrize("est, target", CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_default_fit_is_unit_invariant(est, target):
    y = TARGETS[target]
    a = est.__class__(**est.get_params()).fit(X, y)
    b = est.__class__(**est.get_params()).fit(X * D, y)
    ca, cb = np.ravel(a.coef_), np.ravel(b.coef_)
    scale = np.abs(ca).max()
    assert scale > 0
    assert_allclose(cb * D, ca, rtol=1e-5, atol=1e-6 * scale)
    if hasattr(a, "alpha_"):
        assert b.alpha_ == pytest.approx(a.alpha_, rel=1e-10)
    if hasattr(a, "cv_mean_"):
        assert_allclose(b.cv_mean_, a.cv_mean_, rtol=1e-5)
    # and standardize=False is not: the same rescaling changes the fit
    c = est.__class__(**{**est.get_params(), "standardize": False}).fit(X, y)
    d = est.__class__(**{**est.get_params(), "standardize": False}).fit(X * D, y)
    assert not np.allclose(np.ravel(d.coef_) * D, np.ravel(c.coef_), rtol=1e-3, atol=1e-4)
