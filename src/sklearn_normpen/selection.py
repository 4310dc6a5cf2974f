"""Cross-validation statistics and the λ_min / λ_1se rule — one implementation.

Every CV estimator of the package and the ``GridSearchCV`` refit callables of
:mod:`sklearn_normpen.model_selection` call these two functions.

Statistics (as ``cv.glmnet``): fold ``k`` has weight ``W_k`` (the sum of its held-out
sample weights; its size with unit weights) and error ``e_k``.

* mean            ``m = Σ W_k e_k / Σ W_k``
* standard error  ``se = sqrt( Σ W_k (e_k - m)² / Σ W_k / (K - 1) )``

Rule: ``i_min`` is the most penalised candidate (largest "simplicity", e.g. largest alpha)
attaining the minimum mean; ``i_1se`` is the most penalised candidate whose mean is at
most ``m[i_min] + se[i_min]``. Hence ``alpha_1se >= alpha_min`` always.
"""
import numpy as np


def cv_statistics(fold_errors, fold_weights=None, *, se="glmnet"):
    """Mean and standard error over the last axis (the folds) of ``fold_errors``.

    Parameters
    ----------
    fold_errors : ndarray of shape (..., n_folds)
        Error of each candidate on each fold (lower is better). NaN entries are skipped
        (that fold does not count for that candidate).
    fold_weights : array-like of shape (n_folds,), default=None
        Fold weights ``W_k``; equal weights when None.
    se : {"glmnet", "std"}, default="glmnet"
        ``"glmnet"``: the weighted standard error above (divides by ``K - 1``);
        ``"std"``: the plain weighted standard deviation of the fold errors, without the
        ``1/sqrt(K - 1)`` (the variant used in scikit-learn's gallery example).

    Returns
    -------
    mean, std_error : ndarray of shape fold_errors.shape[:-1]
    """
    e = np.asarray(fold_errors, dtype=np.float64)
    n_folds = e.shape[-1]
    w = np.ones(n_folds) if fold_weights is None else np.asarray(fold_weights, np.float64)
    if w.shape != (n_folds,):
        raise ValueError(f"fold_weights must have shape ({n_folds},); got {w.shape}.")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("fold_weights must be finite and non-negative.")
    valid = np.isfinite(e)
    W = np.where(valid, w, 0.0)
    e0 = np.where(valid, e, 0.0)
    sw = W.sum(axis=-1)
    k = valid.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (W * e0).sum(axis=-1) / sw
        var = (W * (e0 - mean[..., None]) ** 2).sum(axis=-1) / sw
        if se == "glmnet":
            std_error = np.sqrt(var / (k - 1))
        elif se == "std":
            std_error = np.sqrt(var)
        else:
            raise ValueError(f"se must be 'glmnet' or 'std'; got {se!r}.")
    mean = np.where(k > 0, mean, np.nan)
    std_error = np.where(k > 1, std_error, np.nan)
    return mean, std_error


def select_min_1se(mean, std_error, simplicity):
    """Indices of the λ_min and λ_1se candidates.

    Parameters
    ----------
    mean : array-like of shape (n_candidates,)
        Mean CV error per candidate (lower is better; NaN candidates are never chosen).
    std_error : array-like of shape (n_candidates,)
        Its standard error (NaN treated as 0: then λ_1se = λ_min).
    simplicity : array-like of shape (n_candidates,)
        Larger means simpler (the regularisation strength, e.g. alpha).

    Returns
    -------
    i_min, i_1se : int
        ``i_min``: the simplest candidate attaining the minimum mean. ``i_1se``: the simplest
        candidate whose mean is within one standard error of ``mean[i_min]``; among equally
        simple ones the lowest mean, then the first index.
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std_error, dtype=np.float64)
    c = np.asarray(simplicity, dtype=np.float64)
    if not (m.shape == s.shape == c.shape) or m.ndim != 1:
        raise ValueError("mean, std_error and simplicity must be 1-D of the same length.")
    ok = np.isfinite(m)
    if not ok.any():
        raise ValueError("every candidate has a NaN or infinite CV error; nothing to select.")
    best = np.min(m[ok])
    i_min = _simplest(np.flatnonzero(ok & (m == best)), m, c)
    thr = best + (s[i_min] if np.isfinite(s[i_min]) else 0.0)
    i_1se = _simplest(np.flatnonzero(ok & (m <= thr)), m, c)
    return int(i_min), int(i_1se)


def _simplest(idx, m, c):
    # Largest simplicity; ties by lower mean, then the first index (lexsort: last key first).
    order = np.lexsort((idx, m[idx], -c[idx]))
    return idx[order[0]]


def select_on_paths(fold_errors, fold_weights, alphas):
    """CV statistics and the λ_min / λ_1se choice for one or several alpha paths.

    The shared last step of every ``*PathCV`` estimator.

    Parameters
    ----------
    fold_errors : ndarray of shape (n_paths, n_alphas, n_folds)
        Held-out error of each path (e.g. one per ``l1_ratio``) at each alpha on each fold.
    fold_weights : ndarray of shape (n_folds,)
        Fold weights ``W_k`` (see :func:`cv_statistics`).
    alphas : ndarray of shape (n_paths, n_alphas) or (n_alphas,)
        The alpha grid of each path.

    Returns
    -------
    result : dict
        ``mean``, ``se`` of shape (n_paths, n_alphas); ``best_path``: the path whose minimum
        mean is lowest (ties: the first); ``i_min``, ``i_1se``: indices into that path's grid;
        ``alpha_min``, ``alpha_1se``.
    """
    e = np.asarray(fold_errors, dtype=np.float64)
    if e.ndim != 3:
        raise ValueError(f"fold_errors must be 3-D (n_paths, n_alphas, n_folds); got {e.shape}.")
    a = np.broadcast_to(np.asarray(alphas, dtype=np.float64), e.shape[:2])
    mean, se = cv_statistics(e, fold_weights)
    path_best = np.array([np.nanmin(m) if np.isfinite(m).any() else np.inf for m in mean])
    best = int(np.argmin(path_best))
    i_min, i_1se = select_min_1se(mean[best], se[best], a[best])
    return dict(mean=mean, se=se, best_path=best, i_min=i_min, i_1se=i_1se,
                alpha_min=float(a[best, i_min]), alpha_1se=float(a[best, i_1se]))
