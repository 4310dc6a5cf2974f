"""``standardize=True`` is the default everywhere (issue 12 item 9) and makes every fit
invariant to the units of the features: rescaling column j by d_j divides its coefficient
by d_j and changes nothing else (alphas, CV curves, predictions)."""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sklearn_normpen as snp
from sklearn_normpen import enet_path

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


def _offset_no_intercept_data(seed=3):
    rng = np.random.default_rng(seed)
    n, p = 150, 6
    X = rng.standard_normal((n, p))
    X[:, 0] = 1e5 + X[:, 0]  # mean / spread = 1e5: the raw moments keep ~6 digits of σ²
    X[:, 1] = 1e3 + X[:, 1]
    y = X[:, 1:4] @ [1.0, -0.5, 0.3] + 0.2 * (X[:, 0] - 1e5) + 0.3 * rng.standard_normal(n)
    return X, y


def test_gram_standardisation_without_intercept_uses_the_centred_std():
    # without intercept the covariance-mode statistics are about 0; σ² = E[x²] - x̄² then
    # cancelled on an offset column (10 of 16 digits here) and the standardised penalty
    # belonged to another problem than the one stated, which the gap then certified. The
    # problems' σ against NumPy's std about the mean, full data and CV folds, and the
    # covariance-mode path against the residual mode (whose σ is a two-pass sum)
    from sklearn_normpen._design import Design
    from sklearn_normpen.elastic_net import _EnetSpec, _full_problem
    from sklearn_normpen.group_lasso import _GroupSpec, _prepare
    X, y = _offset_no_intercept_data()
    sig = X.std(axis=0)
    pb = _full_problem(X, y, None, False, True)[3]
    assert pb.mode == "gram"
    assert_allclose(pb.x_std, sig, rtol=1e-12)
    _, gpb = _prepare(X, y, None, np.arange(6), None, False, True, n_points=50)
    assert_allclose(gpb.x_std, sig, rtol=1e-12)
    design = Design(X, y, None, False)
    stats = design.gram_stats()
    train, test = np.arange(40, 150), np.arange(40)
    spec = _EnetSpec(design, "gram", [1.0], np.ones(6), True, False, full_stats=stats)
    assert_allclose(spec.problem(train, test).x_std, X[train].std(axis=0), rtol=1e-12)
    gspec = _GroupSpec(X, y, None, np.arange(6), None, False, True, None, [0.0])
    gspec.full_data = gpb.full_data
    assert_allclose(gspec.problem(train, test).x_std, X[train].std(axis=0), rtol=1e-12)
    alphas = np.array([0.3, 0.1, 0.03])
    kw = dict(fit_intercept=False, standardize=True, alphas=alphas, tol=1e-12)
    _, gram, _ = enet_path(X, y, l1_ratio=1.0, precompute=True, **kw)
    _, resid, _ = enet_path(X, y, l1_ratio=1.0, precompute=False, **kw)
    assert_allclose(gram * sig[:, None], resid * sig[:, None], rtol=1e-7, atol=1e-9)
