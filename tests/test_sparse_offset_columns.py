"""Sparse X with offset columns (|mean| far above the spread, e.g. a calendar year) in every
family: the Design stores those columns centred in the kernels' sparse layout, so sparse fits
equal dense ones, float32 included, without a warning.

Before the layout did this, sparse float32 fits of the binomial and Poisson elastic net came
back all zero and the multi-response ones NaN (implicit centring of such a column in float32
cancels every digit). The dense fits are checked against independent references elsewhere
(test_certificates, test_classification, test_multitask, ...); here sparse must match them.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_normpen as snp

GROUPS = [[0, 1], [2, 3, 4], [5, 6, 7], [8, 9, 10, 11]]


def _data(seed=0, n=300, p=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 5:][rng.random((n, p - 5)) < 0.6] = 0.0
    X[:, 0] += 1e4  # offset columns: |mean| / std ~ 1e4 and 2e3
    X[:, 3] += 2e3
    eta = 0.8 * (X[:, 0] - 1e4) + X[:, 1] - 0.5 * X[:, 2] + 0.3 * X[:, 6]
    y = {
        "gaussian": eta + 0.5 * rng.standard_normal(n),
        "binomial": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float),
        "poisson": rng.poisson(np.exp(0.3 * eta)).astype(float),
        "multinomial": np.digitize(eta, [-0.5, 0.5]).astype(float),
    }
    y["mgaussian"] = np.c_[y["gaussian"], 0.5 * eta + rng.standard_normal(n)]
    return X, y


CASES = [
    ("ElasticNetRegressor", "gaussian", {}),
    ("ElasticNetClassifier", "binomial", {}),
    ("ElasticNetClassifier", "multinomial", {}),
    ("ElasticNetPoissonRegressor", "poisson", {}),
    ("MultiTaskElasticNetRegressor", "mgaussian", {}),
    ("GroupLassoRegressor", "gaussian", {"groups": GROUPS}),
    ("GroupLassoClassifier", "binomial", {"groups": GROUPS}),
    ("GroupLassoPoissonRegressor", "poisson", {"groups": GROUPS}),
    ("MultiTaskGroupLassoRegressor", "mgaussian", {"groups": GROUPS}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,family,kw", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_sparse_equals_dense_with_offset_columns(name, family, kw, dtype):
    X, ys = _data()
    y = ys[family]
    est = getattr(snp, name)
    tol = 1e-8 if dtype == np.float64 else 1e-5
    y_in = y if "Classifier" in name else y.astype(dtype)

    def fit(Xin):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ConvergenceWarning, no precision warning
            return est(alpha=0.01, tol=tol, **kw).fit(Xin, y_in)

    ref = est(alpha=0.01, tol=1e-9, **kw).fit(X, y)  # float64 dense
    dense = fit(X.astype(dtype))
    sparse = fit(sp.csc_matrix(X.astype(dtype)))
    assert sparse.coef_.dtype == dtype
    c_ref = np.ravel(ref.coef_)
    scale = np.abs(c_ref).max()
    assert scale > 0.1  # a non-trivial fit
    # float64: both within the gap's reach of the reference; float32: within float32
    # rounding of the data (the dense float32 fit is as far)
    lim = 2e-4 if dtype == np.float64 else 5e-3
    for fitted in (dense, sparse):
        err = np.abs(np.ravel(fitted.coef_).astype(np.float64) - c_ref).max() / scale
        assert err <= lim, (fitted is sparse, err)
    assert np.allclose(np.ravel(sparse.intercept_), np.ravel(dense.intercept_),
                       rtol=lim, atol=lim * max(1.0, np.abs(np.ravel(ref.intercept_)).max()))


def _near_constant(n, k, offset=None, p=8):
    """Column 2 the indicator of the first ``k`` rows, column 3 equal to 5 there plus 1e-9
    (standardised, the same feature, with ~7 significant digits of its spread), column 5
    shifted by ``offset``; ``eta`` the linear predictor of a signal on columns 0, 2 (5)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p))
    X[:, 2] = 0.0
    X[:k, 2] = 1.0
    X[:, 3] = 5.0
    X[:k, 3] = 5.0 + 1e-9
    eta = X[:, 0] + 2 * X[:, 2] + 0.1 * rng.standard_normal(n)
    if offset is not None:
        eta += X[:, 5]
        X[:, 5] += offset
    return X, eta


@pytest.mark.parametrize("name,family", [("ElasticNetPoissonRegressor", "poisson"),
                                         ("ElasticNetClassifier", "binomial")])
def test_glm_sparse_equals_dense_with_a_near_constant_column(name, family):
    """A column of 5 and 5 + 1e-9 (standardised: a real, if tiny, feature): the sparse
    GLM's Newton Designs computed its weighted std as ~7e-8 instead of 4e-10, called it
    constant, and the fit stayed at zero with a ConvergenceWarning (an OverflowError
    earlier)."""
    X, eta = _near_constant(60, 10)
    y = np.exp(np.clip(eta, -3, 3)).round() if family == "poisson" else (eta > 0.5) * 1
    est = getattr(snp, name)
    dense = est(alpha=0.1, tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparse = est(alpha=0.1, tol=1e-8).fit(sp.csc_matrix(X), y)
    cd, cs = np.ravel(dense.coef_), np.ravel(sparse.coef_)
    assert np.abs(cd[:3]).max() > 0.3
    # columns 2 and 3 coincide on the data after standardisation: compare the fitted
    # linear predictors, and the coefficients of the other columns
    # (column 3 holds ~7 significant digits of its spread: their split is that precise)
    d_eta = X @ cs + np.ravel(sparse.intercept_)[0] - (X @ cd + np.ravel(dense.intercept_)[0])
    assert np.abs(d_eta).max() <= 1e-3  # ||Δη||² <= 2 n gap / (loss curvature)
    np.testing.assert_allclose(np.delete(cs, [2, 3]), np.delete(cd, [2, 3]), atol=1e-4)
    assert abs(cs[2] - cd[2]) <= 5e-3


@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_offset_and_near_constant_columns(sparse):
    """A column of mean 1e6 (spread 1) and one of 5 / 5 + 1e-9: the CSC sweeps computed the
    curvature of such a column as Σvx² - (Σvx)²/V (NaN at mean 1e6, then a bare "cannot
    convert float NaN to integer"); the layout's centred columns fix it, and the
    certificate's projected gradient is read centred, so both layouts reach tol=1e-8."""
    X, eta = _near_constant(90, 15, offset=1e6)
    y = np.digitize(eta, [-0.5, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = snp.ElasticNetClassifier(alpha=0.01, tol=1e-8).fit(
            sp.csc_matrix(X) if sparse else X, y)
    ref = snp.ElasticNetClassifier(alpha=0.01, tol=1e-8).fit(X, y)  # dense float64
    assert est.dual_gap_ <= 1e-8 * 1.1  # relative to the null deviance's half (≈ 1)
    # the fitted probabilities (columns 2 and 3 coincide after standardisation)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(np.delete(est.coef_, [2, 3], axis=1),
                               np.delete(ref.coef_, [2, 3], axis=1), atol=1e-3)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_glm_with_a_huge_coefficient_on_an_offset_column_reaches_tight_tol(family, sparse):
    """The signal lives on a column 5 + 1e-9 t: standardised, its coefficient is ~8e8 and
    X w ~ 4e9 would cancel against the intercept in an uncentred η (eps·4e9 ~ 5e-7 of
    rounding: the dense binomial fit stalled at a gap of 5e-9 and warned at tol=1e-10).
    η about the Design's centred layout reaches the target, and the independent NumPy
    gap (itself limited by that cancellation) agrees to its own rounding floor."""
    from _glm_oracle import glm_gap, glm_null_deviance
    rng = np.random.default_rng(0)
    n = 200
    t = rng.standard_normal(n)
    X = np.column_stack([rng.standard_normal(n), 5.0 + 1e-9 * t, rng.standard_normal(n)])
    eta = 0.3 * X[:, 0] + 0.8 * t
    if family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
        est = snp.ElasticNetPoissonRegressor(alpha=0.01, tol=1e-10)
    else:
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        est = snp.ElasticNetClassifier(alpha=0.01, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(sp.csc_matrix(X) if sparse else X, y)
    w, b = np.ravel(est.coef_), float(np.ravel(est.intercept_)[0])
    assert abs(w[1]) > 1e8  # the regime this test is about
    sigma = X.std(axis=0)
    null = glm_null_deviance(family, y)
    assert est.dual_gap_ <= 1e-10 * null
    gap = glm_gap(family, X, y, w, b, 0.01, 0.5, pf_l1=sigma, pf_l2=sigma ** 2)
    assert gap <= 1e-6 * null
