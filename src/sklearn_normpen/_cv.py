"""K-fold driver: folds outside, path inside.

Each fold is a call of a module-level function over arrays (no estimator objects), so any
joblib backend — threads, loky processes, dask on a cluster — runs it unchanged, and the
same splits give the same result whatever the backend.
"""
import numpy as np
from sklearn.model_selection import check_cv
from sklearn.utils.parallel import Parallel, delayed


def resolve_splits(cv, X, y, groups=None):
    """Materialise the splits of ``cv`` (int, splitter or iterable) as a list.

    Raises a clear error when there are fewer samples than folds or fewer than 2 folds.
    """
    n_samples = X.shape[0]
    if isinstance(cv, (int, np.integer)) and cv > n_samples:
        raise ValueError(f"cv={cv} folds need at least {cv} samples; got n_samples={n_samples}.")
    splitter = check_cv(cv, y, classifier=False)
    splits = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, groups)]
    if len(splits) < 2:
        raise ValueError(f"cross-validation needs at least 2 splits; cv gave {len(splits)}.")
    for k, (tr, te) in enumerate(splits):
        if len(tr) == 0 or len(te) == 0:
            raise ValueError(f"cv split {k} has an empty train or test set.")
    return splits


def fold_weights(splits, sample_weight=None):
    """``W_k``: the held-out weight of each fold (its size with unit weights)."""
    if sample_weight is None:
        return np.array([len(te) for _, te in splits], dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    return np.array([sw[te].sum() for _, te in splits])


def run_folds(fold_fn, splits, n_jobs=None, **shared):
    """``[fold_fn(train, test, **shared) for each split]`` through ``sklearn.utils.parallel``.

    ``fold_fn`` must be a module-level function; ``shared`` holds arrays and scalars.
    """
    return Parallel(n_jobs=n_jobs)(
        delayed(fold_fn)(train, test, **shared) for train, test in splits
    )


def held_out_mse(y_true, y_pred, sample_weight=None):
    """Weighted mean squared error of held-out rows; ``y_pred`` may carry a trailing axis
    of candidates (shape (n_test, n_candidates)), giving one error per candidate."""
    y_true = np.asarray(y_true, dtype=np.float64)
    r = np.asarray(y_pred, dtype=np.float64) - (y_true[:, None] if np.ndim(y_pred) > y_true.ndim else y_true)
    sq = r * r
    if sample_weight is None:
        return sq.mean(axis=0)
    sw = np.asarray(sample_weight, dtype=np.float64)
    return (sw @ sq) / sw.sum() if sq.ndim > 1 else float(sw @ sq / sw.sum())
