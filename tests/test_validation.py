"""The shared input validation: dtype policy, layout, no mutation, clear errors."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from sklearn_normpen._validation import (
    check_scalar_alpha, validate_alphas, validate_penalty_factor, validate_sample_weight,
    validate_Xy)


class _Dummy(BaseEstimator):
    pass


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_fortran_order(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3)).astype(dtype)
    y = rng.standard_normal(10)
    Xv, yv = validate_Xy(_Dummy(), X, y)
    assert Xv.dtype == dtype and yv.dtype == dtype
    assert Xv.flags.f_contiguous


def test_int_input_becomes_float64():
    Xv, yv = validate_Xy(_Dummy(), np.arange(12).reshape(6, 2), np.arange(6))
    assert Xv.dtype == np.float64 and yv.dtype == np.float64


def test_unsorted_csc_is_not_mutated():
    X = sp.csc_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1]), np.array([0, 2, 3])),
                      shape=(3, 2))
    X.has_sorted_indices = False
    before = X.indices.copy()
    Xv, _ = validate_Xy(_Dummy(), X, np.ones(3))
    np.testing.assert_array_equal(X.indices, before)
    assert Xv.has_sorted_indices
    np.testing.assert_array_equal(Xv.toarray(), X.toarray())


def test_errors_name_the_problem():
    X = np.ones((4, 2))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        validate_Xy(_Dummy(), X_nan, np.ones(4))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        validate_Xy(_Dummy(), X, np.ones(3))
    with pytest.raises(ValueError, match="alphas must be positive"):
        validate_alphas([1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        validate_alphas([1.0, np.inf])
    with pytest.raises(ValueError, match="penalty_factor must be 1-D with one entry per feature"):
        validate_penalty_factor([1.0], 2)
    with pytest.raises(ValueError, match="non-negative"):
        validate_penalty_factor([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="alpha must be a finite non-negative"):
        check_scalar_alpha(-1.0)
    with pytest.raises(ValueError, match="positive sum"):
        validate_sample_weight(np.zeros(4), X)
    with pytest.raises(ValueError, match="[Nn]egative"):
        validate_sample_weight(np.array([1.0, -1, 1, 1]), X)


def test_alphas_sorted_decreasing_copy():
    a = np.array([0.1, 1.0, 0.5])
    out = validate_alphas(a)
    np.testing.assert_array_equal(out, [1.0, 0.5, 0.1])
    np.testing.assert_array_equal(a, [0.1, 1.0, 0.5])


@pytest.mark.parametrize("path_fn", ["enet_path", "group_lasso_path"])
def test_path_functions_leave_unsorted_csc_untouched(path_fn):
    import sklearn_normpen

    rng = np.random.default_rng(0)
    X = sp.random(30, 6, density=0.5, format="csc", random_state=0)
    perm_data, perm_idx = X.data.copy(), X.indices.copy()
    for j in range(6):  # reverse each column's stored order: valid CSC, unsorted indices
        a, b = X.indptr[j], X.indptr[j + 1]
        perm_data[a:b], perm_idx[a:b] = X.data[a:b][::-1], X.indices[a:b][::-1]
    Xu = sp.csc_matrix((perm_data, perm_idx, X.indptr.copy()), shape=X.shape)
    Xu.has_sorted_indices = False
    before = Xu.indices.copy()
    y = rng.standard_normal(30)
    alphas, coefs, _ = getattr(sklearn_normpen, path_fn)(Xu, y, n_alphas=5)
    np.testing.assert_array_equal(Xu.indices, before)
    # and the fit is the one of the same matrix with sorted indices
    _, coefs_sorted, _ = getattr(sklearn_normpen, path_fn)(X, y, n_alphas=5)
    np.testing.assert_allclose(coefs, coefs_sorted, rtol=1e-6, atol=1e-8)
