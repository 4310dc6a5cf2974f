"""``sparse_output=True`` of the path functions: the coefficients as a ``csc_array`` (glmnet's
``beta`` is sparse too) holding exactly the dense path's non-zeros, in the input's dtype,
without the dense ``(n_features, n_alphas)`` array ever being allocated."""
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import _oracle as oracle
from sklearn_normpen import enet_path, group_lasso_path
from sklearn_normpen.group_lasso import _clip_coef


def _data(n=60, p=150, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 3] = 50 + 0.1 * X[:, 3]  # an offset column
    y = X[:, :6] @ rng.standard_normal(6) + rng.standard_normal(n)
    return X.astype(dtype), y


def _same_path(dense, sparse_out, dtype):
    a, c, g = dense[:3]
    a2, c2, g2 = sparse_out[:3]
    assert isinstance(c2, sp.csc_array)
    assert c2.shape == c.shape and c2.dtype == c.dtype == dtype
    assert c2.has_canonical_format and np.all(c2.data != 0)  # no stored zeros
    assert c2.nnz == np.count_nonzero(c) > 0
    np.testing.assert_array_equal(c2.toarray(), c)
    np.testing.assert_array_equal(a2, a)
    np.testing.assert_array_equal(g2, g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse_X", [False, True])
@pytest.mark.parametrize("kw", [dict(l1_ratio=1.0), dict(l1_ratio=0.5, fit_intercept=True),
                                dict(l1_ratio=0.9, standardize=False, lower_limits=-0.3,
                                     exclude=[0])])
def test_enet_path_sparse_output_equals_the_dense_path(dtype, sparse_X, kw):
    X, y = _data(dtype=dtype)
    if sparse_X:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.7, X, 0))
    dense = enet_path(X, y, n_alphas=30, **kw)
    out = enet_path(X, y, n_alphas=30, sparse_output=True, **kw)
    _same_path(dense, out, dtype)
    # the points are certified by the independent NumPy gap too (the last three)
    if kw.get("standardize", True) is False and not sparse_X:
        b = None
        for k in range(27, 30):
            w = out[1][:, [k]].toarray().ravel()
            gap = oracle.enet_gap(X, y, w, b, out[0][k], kw["l1_ratio"],
                                  fit_intercept=False, excluded=np.arange(150) == 0,
                                  lower=np.full(150, -0.3))
            tol = 1e-4 * oracle.null_deviance(X, y, fit_intercept=False)
            assert 0 <= gap <= tol * (1 + 1e-6) + (1e-6 if dtype == np.float32 else 0)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_glm_paths_sparse_output(family):
    X, y = _data()
    y = (y > np.median(y)).astype(int) if family == "binomial" else np.random.default_rng(1).poisson(
        np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1]))
    X[:, 3] -= 50
    _same_path(enet_path(X, y, family=family, n_alphas=20),
               enet_path(X, y, family=family, n_alphas=20, sparse_output=True), np.float64)
    groups = np.arange(X.shape[1]) // 5
    _same_path(group_lasso_path(X, y, groups=groups, family=family, n_alphas=20,
                                exclude=[7]),
               group_lasso_path(X, y, groups=groups, family=family, n_alphas=20,
                                exclude=[7], sparse_output=True), np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_lasso_path_sparse_output_with_limits_and_dfmax(dtype):
    X, y = _data(dtype=dtype)
    groups = np.arange(X.shape[1]) // 3
    kw = dict(groups=groups, l1_ratio=0.3, lower_limits=-0.5, upper_limits=0.5,
              exclude=[1, 2], dfmax=15, n_alphas=50, fit_intercept=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (dfmax ends the path early)
        dense = group_lasso_path(X, y, return_n_iter=True, **kw)
        out = group_lasso_path(X, y, return_n_iter=True, sparse_output=True, **kw)
    assert dense[1].shape[1] < 50  # the path stopped, both the same way
    _same_path(dense, out, dtype)
    assert np.isin(out[1].data, [-0.5, 0.5]).any()  # coefficients at the box's bounds
    np.testing.assert_array_equal(out[3], dense[3])


def test_clip_coef_sparse_matches_dense():
    rng = np.random.default_rng(3)
    C = np.where(rng.random((40, 7)) < 0.3, rng.standard_normal((40, 7)), 0.0)
    limits = (-rng.random(40) * 0.5, rng.random(40) * 0.5)
    exclude = rng.random(40) < 0.2
    want = np.clip(C, limits[0][:, None], limits[1][:, None])
    want[exclude] = 0
    got = _clip_coef(sp.csc_array(C), limits, exclude)
    assert isinstance(got, sp.csc_array) and np.all(got.data != 0)
    np.testing.assert_array_equal(got.toarray(), want)
    np.testing.assert_array_equal(_clip_coef(C, limits, exclude), want)
    np.testing.assert_array_equal(_clip_coef(C[:, 0], limits, exclude), want[:, 0])
    assert (np.abs(C) > 0.5).any() and exclude.any()  # (both rules had work to do)


@pytest.mark.parametrize("family, y_of", [("mgaussian", lambda y: np.c_[y, -y]),
                                          ("multinomial", lambda y: np.arange(y.size) % 3)])
def test_multi_response_families_reject_sparse_output(family, y_of):
    X, y = _data()
    with pytest.raises(ValueError, match="sparse_output is not supported"):
        enet_path(X, y_of(y), family=family, sparse_output=True)


def test_sparse_output_never_allocates_the_dense_path():
    # tracemalloc counts NumPy's buffers: the dense path holds a p x K array (3.2 MB here)
    # to the end, the sparse one never forms it
    X, y = _data(n=80, p=4000, seed=2)
    K = 100
    peaks = {}
    for so in (False, True):
        tracemalloc.start()
        try:
            out = enet_path(X, y, l1_ratio=1.0, n_alphas=K, sparse_output=so)
            peaks[so] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    dense_bytes = X.shape[1] * K * 8
    assert out[1].shape == (X.shape[1], K)
    assert peaks[True] <= peaks[False] - 0.75 * dense_bytes, peaks
