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
    with pytest.raises(ValueError, match="penalty_factor must have one entry per feature"):
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
