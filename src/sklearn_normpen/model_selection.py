"""λ_min / λ_1se refit callables for :class:`~sklearn.model_selection.GridSearchCV`.

``GridSearchCV(..., refit=callable)`` calls ``callable(cv_results_)`` and refits the
candidate at the index it returns. The two callables here bring glmnet's two candidate
models to any search, over any estimator (ours or scikit-learn's, inside a ``Pipeline``):

* :func:`min_refit` — the best mean test score (scikit-learn's own choice, λ_min);
* :func:`one_se_refit` — the simplest candidate whose mean error is within one standard
  error of the best (λ_1se).

Scores are "greater is better"; they are negated into losses and passed to the package's
one implementation of the rule, :func:`sklearn_normpen.selection.cv_statistics` and
:func:`sklearn_normpen.selection.select_min_1se`, so a search and a ``*PathCV`` estimator
given the same fold errors choose the same candidate.

A candidate with a non-finite score on any split (a failed fit with ``error_score=np.nan``)
counts as failed, as in scikit-learn's ``mean_test_score`` and ``rank_test_score``: it is
never selected.
"""
import numbers

import numpy as np

from .selection import cv_statistics, select_min_1se

__all__ = ["min_refit", "one_se_refit"]


def _split_scores(cv_results, score_name):
    """Per-split test scores, shape (n_candidates, n_splits); failed candidates all NaN."""
    suffix = f"_test_{score_name}"
    keys = [k for k in cv_results if k.startswith("split") and k.endswith(suffix)
            and k[len("split"):-len(suffix)].isdigit()]
    if not keys:
        available = sorted({k[len("mean_test_"):] for k in cv_results
                            if k.startswith("mean_test_")})
        raise ValueError(
            f"cv_results has no per-split test scores named {score_name!r} (keys "
            f"'split<k>{suffix}'); available score names: {available}. With several "
            f"metrics, pass score_name=<the metric to select on>.")
    keys.sort(key=lambda k: int(k[len("split"):-len(suffix)]))
    scores = np.column_stack([np.asarray(cv_results[k], dtype=np.float64) for k in keys])
    failed = ~np.all(np.isfinite(scores), axis=1)
    scores[failed] = np.nan
    return scores


def _param_values(cv_results, param_name):
    """The numeric values of ``param_<param_name>`` as a float array; clear errors otherwise."""
    key = f"param_{param_name}"
    if key not in cv_results:
        params = sorted(k[len("param_"):] for k in cv_results
                        if k.startswith("param_") and k != "params")
        raise ValueError(f"param_name={param_name!r} is not a searched parameter; "
                         f"searched parameters: {params}.")
    col = cv_results[key]
    mask = np.ma.getmaskarray(col) if np.ma.isMaskedArray(col) else np.zeros(len(col), bool)
    if mask.any():
        raise ValueError(
            f"parameter {param_name!r} is not set for every candidate (a list of "
            f"param_grid dicts?); the 1-SE rule needs its value for each candidate.")
    values = list(np.ma.getdata(col)) if np.ma.isMaskedArray(col) else list(col)
    bad = [v for v in values if isinstance(v, (bool, np.bool_))
           or not isinstance(v, (numbers.Real, np.number))]
    if bad:
        raise TypeError(
            f"the values of parameter {param_name!r} must be real numbers to tell which "
            f"candidate is simpler; got {bad[0]!r} of type {type(bad[0]).__name__}.")
    out = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the values of parameter {param_name!r} must be finite.")
    return out


def _check_fold_weights(fold_weights, n_splits):
    if fold_weights is None:
        return None
    w = np.asarray(fold_weights, dtype=np.float64)
    if w.shape != (n_splits,):
        raise ValueError(f"fold_weights must have one weight per split ({n_splits}); "
                         f"got shape {w.shape}.")
    return w


def cv_results_statistics(cv_results, param_name, *, score_name="score", simpler="larger",
                          se="glmnet", fold_weights=None):
    """Losses, their mean and standard error and the λ_min / λ_1se indices of a search.

    The computation behind :func:`one_se_refit`, exposed for plots and for checking.

    Parameters
    ----------
    cv_results : dict
        ``cv_results_`` of a fitted ``GridSearchCV`` / ``RandomizedSearchCV``.
    param_name : str
        The searched parameter that measures simplicity, e.g. ``"model__alpha"``.
    score_name : str, default="score"
        Which score to use: ``"score"`` for a single metric, else the metric's name.
    simpler : {"larger", "smaller"}, default="larger"
        Whether a larger value of the parameter means a simpler model.
    se : {"glmnet", "std"}, default="glmnet"
        Standard error of :func:`~sklearn_normpen.selection.cv_statistics`, or the plain
        standard deviation of the split scores (scikit-learn's gallery variant).
    fold_weights : array-like of shape (n_splits,), default=None
        Weight of each split (e.g. its test-set size); equal weights when None.

    Returns
    -------
    result : dict
        ``param`` (n_candidates,), ``losses`` (n_candidates, n_splits) = −scores,
        ``mean``, ``se`` (n_candidates,), ``i_min``, ``i_1se`` (int).
    """
    if simpler not in ("larger", "smaller"):
        raise ValueError(f"simpler must be 'larger' or 'smaller'; got {simpler!r}.")
    if se not in ("glmnet", "std"):
        raise ValueError(f"se must be 'glmnet' or 'std'; got {se!r}.")
    losses = -_split_scores(cv_results, score_name)
    param = _param_values(cv_results, param_name)
    w = _check_fold_weights(fold_weights, losses.shape[1])
    mean, std_error = cv_statistics(losses, w, se=se)
    simplicity = param if simpler == "larger" else -param
    i_min, i_1se = select_min_1se(mean, std_error, simplicity)
    return dict(param=param, losses=losses, mean=mean, se=std_error, i_min=i_min, i_1se=i_1se)


def min_refit(cv_results):
    """Index of the candidate with the best mean test score (λ_min).

    scikit-learn's own choice, as a callable: among ties the first candidate; candidates
    whose mean test score is NaN (failed fits) are never chosen. With several metrics,
    pass ``refit="<metric name>"`` to the search instead.

    Parameters
    ----------
    cv_results : dict
        ``cv_results_`` of a fitted search with a single metric.

    Returns
    -------
    index : int

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_normpen.model_selection import min_refit
    >>> search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, refit=min_refit)
    """
    if "mean_test_score" not in cv_results:
        raise ValueError("min_refit needs a single-metric search ('mean_test_score' is "
                         "missing); with several metrics pass refit='<metric name>'.")
    mean = np.asarray(cv_results["mean_test_score"], dtype=np.float64)
    ok = np.isfinite(mean)
    if not ok.any():
        raise ValueError("every candidate has a NaN mean test score (all fits failed?); "
                         "nothing to select.")
    return int(np.flatnonzero(ok & (mean == mean[ok].max()))[0])


class _OneSERefit:
    """Picklable, printable refit callable; see :func:`one_se_refit`."""

    def __init__(self, param_name, simpler, se, fold_weights, score_name):
        self.param_name = param_name
        self.simpler = simpler
        self.se = se
        self.fold_weights = fold_weights
        self.score_name = score_name

    def __call__(self, cv_results):
        return cv_results_statistics(
            cv_results, self.param_name, score_name=self.score_name, simpler=self.simpler,
            se=self.se, fold_weights=self.fold_weights)["i_1se"]

    def __repr__(self):
        extra = "" if self.fold_weights is None else ", fold_weights=[...]"
        extra += "" if self.score_name == "score" else f", score_name={self.score_name!r}"
        return (f"one_se_refit({self.param_name!r}, simpler={self.simpler!r}, "
                f"se={self.se!r}{extra})")


def one_se_refit(param_name, *, simpler="larger", se="glmnet", fold_weights=None,
                 score_name="score"):
    """A refit callable choosing the simplest candidate within one standard error (λ_1se).

    With losses ``e_ik = −score_ik`` of candidate ``i`` on split ``k`` and split weights
    ``W_k`` (equal unless given)::

        m_i  = Σ_k W_k e_ik / Σ_k W_k
        se_i = sqrt( Σ_k W_k (e_ik − m_i)² / Σ_k W_k / (K − 1) )

    ``i_min`` is the simplest candidate with the lowest ``m_i`` and the refit candidate is
    the simplest one with ``m_i <= m_{i_min} + se_{i_min}`` — the package's one rule,
    :func:`~sklearn_normpen.selection.select_min_1se`. "Simplest" means the largest value of
    ``param_name`` (``simpler="larger"``, e.g. a penalty strength) or the smallest
    (``simpler="smaller"``, e.g. ``C`` or a tree depth). When several parameters are
    searched, candidates with the same ``param_name`` value are ordered by mean loss.

    Parameters
    ----------
    param_name : str
        The searched parameter, as in ``cv_results_["param_<param_name>"]``,
        e.g. ``"model__alpha"`` inside a ``Pipeline``. Its values must be real numbers.
    simpler : {"larger", "smaller"}, default="larger"
        Which direction of ``param_name`` gives a simpler model.
    se : {"glmnet", "std"}, default="glmnet"
        ``"glmnet"``: the standard error above (as ``cv.glmnet``); ``"std"``: the plain
        standard deviation of the split scores, without the ``1/sqrt(K − 1)``, the
        variant of scikit-learn's gallery example (a wider band, simpler models).
    fold_weights : array-like of shape (n_splits,), default=None
        Split weights ``W_k``, e.g. the test-set sizes
        ``[len(test) for _, test in cv.split(X, y)]``: a refit callable cannot see them.
        Equal weights when None.
    score_name : str, default="score"
        The metric to select on when the search has several (``scoring`` a dict).

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, for ``GridSearchCV(refit=...)`` or
        ``RandomizedSearchCV(refit=...)``.

    Notes
    -----
    With ``refit`` a callable, scikit-learn sets ``best_index_`` and ``best_params_`` but
    not ``best_score_``. NaN split scores (failed fits) disqualify their candidate.

    Examples
    --------
    >>> from sklearn.linear_model import Lasso
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_normpen.model_selection import one_se_refit
    >>> pipe = Pipeline([("scale", StandardScaler()), ("model", Lasso())])
    >>> search = GridSearchCV(pipe, {"model__alpha": [0.01, 0.1, 1.0]},
    ...                       scoring="neg_mean_squared_error",
    ...                       refit=one_se_refit("model__alpha"))
    """
    if not isinstance(param_name, str):
        raise TypeError(f"param_name must be a str; got {type(param_name).__name__}.")
    if simpler not in ("larger", "smaller"):
        raise ValueError(f"simpler must be 'larger' or 'smaller'; got {simpler!r}.")
    if se not in ("glmnet", "std"):
        raise ValueError(f"se must be 'glmnet' or 'std'; got {se!r}.")
    if fold_weights is not None:
        fold_weights = np.asarray(fold_weights, dtype=np.float64)
        if fold_weights.ndim != 1 or np.any(fold_weights < 0) or \
                not np.all(np.isfinite(fold_weights)):
            raise ValueError("fold_weights must be a 1-D array of finite, non-negative "
                             "weights, one per split.")
    return _OneSERefit(param_name, simpler, se, fold_weights, score_name)
