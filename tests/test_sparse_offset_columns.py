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
