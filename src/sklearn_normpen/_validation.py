"""Input validation shared by every estimator and public function.

Policy
------
* dtype: float64 and float32 are kept as they are; anything else becomes float64.
  ``y`` and ``sample_weight`` follow ``X``'s dtype.
* layout: dense ``X`` is Fortran-ordered (coordinate descent walks columns); sparse ``X``
  is CSC. Arrays already in that form are not copied, so user memory is never written to:
  kernels take ``const`` memoryviews and the Python layer copies before any in-place step.
* finiteness: NaN/inf in ``X``, ``y`` or ``sample_weight`` is an error naming the argument.
"""
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, validate_data

from ._compat import _check_sample_weight

FLOAT_DTYPES = (np.float64, np.float32)


def validate_Xy(estimator, X, y, *, reset=True, accept_sparse="csc", order="F",
                multi_output=False, copy_X=False):
    """Validate ``X, y`` for fitting; returns ``(X, y)`` with ``y`` in ``X``'s dtype.

    Goes through scikit-learn's public ``validate_data`` so ``n_features_in_`` and
    ``feature_names_in_`` are set (``reset=True``) or checked (``reset=False``).
    """
    X, y = validate_data(
        estimator, X, y, reset=reset, accept_sparse=accept_sparse,
        dtype=list(FLOAT_DTYPES), order=order, copy=copy_X, multi_output=multi_output,
        y_numeric=True,
    )
    if sp.issparse(X) and not X.has_sorted_indices:
        # Kernels assume sorted indices; sort a copy, never the user's matrix.
        X = X.sorted_indices()
    y = check_array(y, ensure_2d=False, dtype=X.dtype, order="F", copy=False,
                    input_name="y")
    return X, y


class _FunctionInput(BaseEstimator):
    """Stand-in estimator so public functions (``enet_path``, ``group_lasso_path``) validate
    their input exactly as the estimators do."""


def validate_path_input(X, y):
    """``validate_Xy`` for the public path functions (no estimator to record features on)."""
    return validate_Xy(_FunctionInput(), X, y)


def validate_X_predict(estimator, X, accept_sparse=("csr", "csc", "coo")):
    """Validate ``X`` at predict time (feature count and names checked, no reset)."""
    return validate_data(estimator, X, reset=False, accept_sparse=list(accept_sparse),
                         dtype=list(FLOAT_DTYPES))


def validate_sample_weight(sample_weight, X, *, only_non_negative=True):
    """Return sample weights as an array of ``X``'s dtype, or ``None`` for unit weights.

    Raises when weights are negative, non-finite, of the wrong length, or sum to zero.
    """
    if sample_weight is None:
        return None
    if not np.isscalar(sample_weight):
        total = np.sum(np.asarray(sample_weight, dtype=np.float64))
        if np.isfinite(total) and total <= 0:
            raise ValueError("sample_weight must have a positive sum; got "
                             f"{total!r} (all weights zero?).")
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                              ensure_non_negative=only_non_negative, copy=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    return sw


def validate_alphas(alphas, *, name="alphas", allow_zero=False):
    """A user alpha grid: finite, non-negative (positive unless ``allow_zero``), 1-D,
    returned sorted in decreasing order as float64."""
    arr = np.asarray(alphas, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of floats; got shape "
                         f"{np.shape(alphas)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr[~np.isfinite(arr)][:5]}.")
    bad = arr < 0 if allow_zero else arr <= 0
    if np.any(bad):
        word = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {word}; got {arr[bad][:5]}.")
    return np.sort(arr)[::-1].copy()


def validate_penalty_factor(penalty_factor, n_features, dtype=np.float64,
                            name="penalty_factor"):
    """Per-feature penalty factors: finite, non-negative, length ``n_features``."""
    if penalty_factor is None:
        return np.ones(n_features, dtype=dtype)
    f = np.asarray(penalty_factor, dtype=dtype)
    if f.ndim != 1 or f.shape[0] != n_features:
        raise ValueError(f"{name} must have one entry per feature ({n_features}); got "
                         f"shape {f.shape}.")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(f"{name} must be finite and non-negative; got "
                         f"{f[~(np.isfinite(f) & (f >= 0))][:5]}.")
    return f


def check_scalar_alpha(alpha, name="alpha"):
    """A single regularisation strength: a finite non-negative real."""
    if not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be a finite non-negative float; got {alpha!r}.")
    return float(alpha)
