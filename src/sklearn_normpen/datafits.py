"""The squared-loss datafit with sample weights, shared by the elastic-net and group solvers.

``F(w, b) = 1/(2 Σs) Σ_i s_i (y_i - x_iᵀw - b)²``. The intercept is handled by centring:
with weighted means ``x̄ = Σ s_i x_i / Σ s`` and ``ȳ``, the optimal ``b = ȳ - x̄ᵀw``, so the
solvers work on centred data (explicitly for dense ``X``, implicitly for sparse ``X``).
"""
import numpy as np
import scipy.sparse as sp


def normalized_weights(sample_weight, n_samples, dtype):
    """Sample weights rescaled to sum to ``n_samples`` (unit weights when ``None``).

    With this scaling ``1/(2 Σs) Σ s_i r_i² = 1/(2n) Σ s_i' r_i²`` so kernels can use ``n``.
    """
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=dtype)
    return sw * (n_samples / sw.sum())


def weighted_means(X, y, sample_weight, fit_intercept):
    """Weighted column means of ``X`` and mean of ``y`` (zeros without intercept).

    Works for dense and sparse ``X`` without densifying it.
    """
    n_samples, n_features = X.shape
    if not fit_intercept:
        y_off = np.zeros(y.shape[1:], dtype=X.dtype) if y.ndim > 1 else X.dtype.type(0)
        return np.zeros(n_features, dtype=X.dtype), y_off
    if sample_weight is None:
        X_off = np.asarray(X.mean(axis=0)).ravel().astype(X.dtype, copy=False)
        y_off = y.mean(axis=0)
    else:
        sw = sample_weight / sample_weight.sum()
        X_off = np.asarray(X.T @ sw).ravel().astype(X.dtype, copy=False) if sp.issparse(X) \
            else (sw @ X).astype(X.dtype, copy=False)
        y_off = sw @ y
    return X_off, np.asarray(y_off, dtype=X.dtype)[()]


def weighted_column_std(X, X_off, sample_weight):
    """Weighted standard deviation (1/Σs, about the weighted mean) of each column.

    For sparse ``X`` the variance is summed as deviations of the stored entries plus the
    implicit zeros' ``m²`` term (never ``E[x²] - m²``, which cancels catastrophically for
    near-constant columns); ``X`` is not densified.
    """
    n = X.shape[0]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    denom = float(n if sw is None else sw.sum())
    m = np.asarray(X_off, dtype=np.float64)
    if sp.issparse(X):
        Xc = sp.csc_matrix(X)
        col = np.repeat(np.arange(X.shape[1]), np.diff(Xc.indptr))
        rw = np.ones(Xc.nnz) if sw is None else sw[Xc.indices]
        dev = Xc.data.astype(np.float64) - m[col]
        var = np.bincount(col, weights=rw * dev * dev, minlength=X.shape[1])
        stored_w = np.bincount(col, weights=rw, minlength=X.shape[1])
        var = (var + (denom - stored_w) * m * m) / denom
    else:
        Xc = X - X_off
        var = ((sw @ (Xc * Xc)) if sw is not None else (Xc * Xc).sum(axis=0)) / denom
    return np.sqrt(np.maximum(var, 0)).astype(X.dtype, copy=False)


def squared_loss(X, y, coef, intercept, sample_weight=None):
    """``1/(2 Σs) Σ_i s_i (y_i - x_iᵀw - b)²`` (the elastic-net/group datafit value)."""
    r = y - X @ coef - intercept
    if sample_weight is None:
        return 0.5 * float(r @ r) / X.shape[0]
    return 0.5 * float(sample_weight @ (r * r)) / float(sample_weight.sum())
