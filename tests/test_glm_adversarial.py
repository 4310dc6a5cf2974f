"""Adversarial GLM cases, checked against independent references.

alpha = 0 in the single-alpha estimators is the unpenalised fit (documented). It used to run
the penalised machinery with zero weights: the dual scaling was 0/0 (gap inf or nan), the
solver spent max_iter and stopped at about half the MLE on non-separable data. Now every
feature is unpenalised (the same objective) and the fit is certified; references are
scikit-learn's unpenalised LogisticRegression / PoissonRegressor. Offset columns under
standardisation: the group GLMs' intercept (see the last test)."""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression, PoissonRegressor

from sklearn_normpen import (ElasticNetClassifier, ElasticNetPoissonRegressor,
                             GroupLassoClassifier, GroupLassoPoissonRegressor)

GROUPS = np.repeat(np.arange(4), 2)


def _data(seed=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 8))
    eta = X[:, :3] @ [1.0, -2.0, 0.5]
    yb = (rng.random(300) < 1 / (1 + np.exp(-eta))).astype(int)
    y3 = np.digitize(eta + 1.5 * rng.standard_normal(300), [-1.0, 1.0])  # not separable
    yp = rng.poisson(np.exp(eta / 3))
    return X, yb, y3, yp


def _fit_quietly(est, X, y, sample_weight=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no invalid-value warning
        return est.fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("make", [
    lambda: ElasticNetClassifier(alpha=0.0, tol=1e-10),
    lambda: ElasticNetClassifier(alpha=0.0, l1_ratio=1.0, standardize=False, tol=1e-10),
    lambda: GroupLassoClassifier(alpha=0.0, groups=GROUPS, tol=1e-10)])
def test_binomial_alpha_zero_is_the_mle(make):
    X, yb, _, _ = _data()
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, yb)
    est = _fit_quietly(make(), X, yb)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
    assert 0 <= est.dual_gap_ < 1e-9


@pytest.mark.parametrize("multinomial", ["ungrouped", "grouped"])
def test_multinomial_alpha_zero_is_the_mle(multinomial):
    X, _, y3, _ = _data()
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y3)
    est = _fit_quietly(ElasticNetClassifier(alpha=0.0, tol=1e-10, multinomial=multinomial),
                       X, y3)
    # the unpenalised softmax is identified up to a common shift: compare probabilities
    assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert 0 <= est.dual_gap_ < 1e-8


@pytest.mark.parametrize("make", [
    lambda: ElasticNetPoissonRegressor(alpha=0.0, tol=1e-10),
    lambda: GroupLassoPoissonRegressor(alpha=0.0, groups=GROUPS, tol=1e-10)])
def test_poisson_alpha_zero_is_the_mle(make):
    X, _, _, yp = _data()
    ref = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10000).fit(X, yp)
    est = _fit_quietly(make(), X, yp)
    assert_allclose(est.coef_.ravel(), ref.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(np.ravel(est.intercept_)[0], ref.intercept_, rtol=1e-5, atol=1e-7)
    assert 0 <= est.dual_gap_ < 1e-9


def test_group_multinomial_alpha_zero_is_a_clear_error():
    X, _, y3, _ = _data()
    with pytest.raises(ValueError, match="alpha=0 .* 3 or more classes"):
        GroupLassoClassifier(alpha=0.0, groups=GROUPS).fit(X, y3)


@pytest.mark.parametrize("make", [
    lambda: ElasticNetClassifier(alpha=0.0, positive=True),
    lambda: ElasticNetClassifier(alpha=0.0, lower_limits=-1.0),
    lambda: ElasticNetPoissonRegressor(alpha=0.0, upper_limits=0.5),
    lambda: GroupLassoClassifier(alpha=0.0, groups=GROUPS, lower_limits=-1.0),
    lambda: GroupLassoPoissonRegressor(alpha=0.0, groups=GROUPS, exclude=[0])])
def test_alpha_zero_with_limits_is_a_clear_error(make):
    X, yb, _, yp = _data()
    est = make()
    y = yp if "Poisson" in type(est).__name__ else yb
    with pytest.raises(ValueError, match=r"alpha=0 \(no penalty\) with positive=True"):
        est.fit(X, y)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_glm_intercept_with_offset_column_under_standardize(family, weighted):
    # the standardised group GLM returned w/σ but formed the intercept from the scaled
    # columns' means and the user-scale w: off by x̄ᵀw(1 - 1/σ) — with a column of mean 1e4
    # the predictions were e^24..e^348 while the (internal) gap was certified. Checks: the
    # intercept's own optimality condition Σ s (μ - y) = 0, and singleton groups at
    # l1_ratio=1 equal the elastic-net GLM's lasso (its own standardisation code)
    from sklearn_normpen import (ElasticNetClassifierPathCV, GroupLassoClassifierPathCV)
    rng = np.random.default_rng(0)
    n, p = 200, 4
    X = rng.standard_normal((n, p))
    X[:, 0] += 1e4
    eta = 0.5 * X[:, 1] - 0.3 * X[:, 2]
    s = 10.0 ** rng.uniform(-2, 2, n) if weighted else np.ones(n)
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
        G, E = GroupLassoClassifier, ElasticNetClassifier
        mean = lambda e: 1 / (1 + np.exp(-e))  # noqa: E731
    else:
        y = rng.poisson(np.exp(eta))
        G, E = GroupLassoPoissonRegressor, ElasticNetPoissonRegressor
        mean = np.exp
    kw = dict(alpha=1e-3, l1_ratio=1.0, tol=1e-12, max_iter=10000)
    g = _fit_quietly(G(groups=np.arange(p), **kw), X, y, sample_weight=s)
    e = E(**kw).fit(X, y, sample_weight=s)
    assert_allclose(g.coef_, e.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(g.intercept_, e.intercept_, rtol=1e-7)
    mu = mean(X @ g.coef_.ravel() + np.ravel(g.intercept_)[0])
    assert abs(s @ (mu - y)) / s.sum() < 1e-6
    if family == "binomial":  # the CV estimator's refit returns the same model
        cv = GroupLassoClassifierPathCV(groups=np.arange(p), l1_ratio=1.0, alphas=5,
                                        cv=3).fit(X, y, sample_weight=s)
        ecv = ElasticNetClassifierPathCV(l1_ratio=1.0, alphas=5, cv=3).fit(
            X, y, sample_weight=s)
        assert cv.alpha_ == pytest.approx(ecv.alpha_, rel=1e-12)
        assert_allclose(cv.decision_function(X), ecv.decision_function(X), atol=1e-2)


def _offset_no_intercept(offset, seed=0):
    """Two columns of mean ``offset`` and unit spread beside four standard ones, labels
    from the standardised signal: without an intercept the two are nearly collinear
    (correlation 1 - 1/offset²), the Newton models as ill-conditioned."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((300, 6))
    X = Z.copy()
    X[:, 0] += offset
    X[:, 1] += 1.3 * offset
    y = (Z @ [1.0, -1.0, 0.5, 0.0, 0.0, 0.3] + 0.3 * rng.standard_normal(300) > 0)
    return X, y.astype(int)


@pytest.mark.parametrize("offset", [1e3, 1e4])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("standardize", [False, True])
def test_binomial_without_intercept_beside_offset_columns(offset, l1_ratio, standardize):
    # Each Newton model there is a fresh problem whose coordinate descent crawls until an
    # active-set step finishes it: every model began with 200 epochs before that step,
    # so max_iter=1000 ran out after five Newton steps (gap ~0.1 of the null deviance,
    # a ConvergenceWarning). Checked with the independent NumPy gap (not the package's).
    # (tol 1e-5: at offset 1e4 the models' float64 rounding floors the gap near 1.4e-6 of
    # the null deviance; at 1e5, left, near 2e-2, with a ConvergenceWarning)
    from _oracle import logistic_gap
    X, y = _offset_no_intercept(offset)
    alpha, tol = 2e-3, 1e-5
    est = _fit_quietly(ElasticNetClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                                            fit_intercept=False, standardize=standardize), X, y)
    assert est.intercept_ == 0.0
    sd = X.std(axis=0) if standardize else np.ones(6)
    gap = logistic_gap(X, y, est.coef_, 0.0, alpha, l1_ratio, pf_l1=sd, pf_l2=sd ** 2,
                       fit_intercept=False)
    null = np.log(2.0)  # the null deviance without intercept (the model η = 0)
    assert 0 <= gap <= 2 * tol * null
    assert est.dual_gap_ <= tol * null * 1.01
