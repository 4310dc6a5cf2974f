"""Stability selection (Meinshausen & Bühlmann 2010; complementary pairs, Shah & Samworth
2013) over the elastic-net or (sparse-)group-lasso path, as a scikit-learn feature selector.

Every resample is a path of the one engine (:func:`~sklearn_normpen._path.compute_path`)
on the problem a CV fold would build (the path-CV estimators' fold specs: in covariance
mode a half's Gram is the full Gram minus the other half's), over one alpha grid computed
on all the data. Resamples run through ``sklearn.utils.parallel`` (any joblib backend, e.g.
dask); their rows are drawn up front from ``random_state``, so the result does not depend
on the backend.
"""
import functools
import logging
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, _fit_context
from ._grid import make_grid
from ._path import PathResult, compute_path, warn_unconverged
from ._progress import LOGGER, with_progress
from ._validation import (validate_alphas, validate_penalty_factor, validate_sample_weight,
                          validate_Xy)
from .criteria import ElasticNetIC, GroupLassoIC
from ._solvers.subset_paths import SubsetPaths, chunk_size
from .elastic_net import (ElasticNetPathCV, _alpha_max, _check_l1_ratios, _EnetSpec,
                          _full_problem, _make_penalty)
from .group_lasso import (GroupLassoPathCV, GroupLassoRegressor, _check_l1_ratio,
                          _GroupSpec, _prepare)
from .group_lasso import _alpha_max as _group_alpha_max

__all__ = ["StabilitySelection", "false_selection_bound"]

_ENET = (ElasticNetPathCV, ElasticNetIC)
_GROUP = (GroupLassoRegressor, GroupLassoPathCV, GroupLassoIC)


def false_selection_bound(q, n_units, threshold):
    """Meinshausen & Bühlmann's bound ``E[V] <= q² / ((2 π_thr - 1) p)`` on the expected
    number of falsely selected features (or groups) among ``p = n_units``, ``q`` the mean
    number selected over the alpha range, for ``threshold`` ``π_thr`` in (0.5, 1]."""
    if not (0.5 < threshold <= 1):
        raise ValueError(f"threshold must be in (0.5, 1]; got {threshold!r}.")
    return float(q) ** 2 / ((2 * threshold - 1) * n_units) if n_units else 0.0


def _subsamples(n, n_resamples, sample_fraction, complementary_pairs, random_state):
    """Row indices of every resample: pairs of disjoint halves of size ⌊n/2⌋, or
    independent subsamples of size ⌊sample_fraction·n⌋ (without replacement)."""
    rng = check_random_state(random_state)
    out = []
    if complementary_pairs:
        h = n // 2
        for _ in range(n_resamples // 2):
            perm = rng.permutation(n)
            out.append(np.sort(perm[:h]))
            out.append(np.sort(perm[h:2 * h]))
    else:
        m = int(np.floor(sample_fraction * n))
        for _ in range(n_resamples):
            out.append(np.sort(rng.choice(n, m, replace=False)))
    return out


def _selected_on(rows, spec, grid, tol, max_iter, units):
    """One resample: the path on ``rows``; True where a unit (feature or group) is non-zero.

    Returns the (n_units, n_alphas) selection matrix and the path (certificates only)."""
    test = np.setdiff1d(np.arange(_spec_n(spec)), rows)
    problem = spec.problem(rows, test)
    (penalty,) = spec.penalties(problem)
    res = compute_path(problem, penalty, grid, tol=tol, max_iter=max_iter)
    nz = np.asarray(res.coefs) != 0
    sel = nz if units is None else np.array([nz[g].any(axis=0) for g in units])
    res.coefs = None
    return sel, res


def _selected_on_chunk(chunk, shared, spec, grid, tol, max_iter, units):
    """Resamples of one chunk in lockstep (:mod:`~sklearn_normpen._solvers.subset_paths`);
    one that route does not serve gets its own path (:func:`_selected_on`)."""
    out = []
    for rows, got in zip(chunk, shared.run(chunk, grid, tol, max_iter)):
        if got is None:
            out.append(_selected_on(rows, spec, grid, tol, max_iter, units))
            continue
        nz, gaps, kkts, n_iters, tol_abs = got
        out.append((nz, PathResult(np.asarray(grid, dtype=np.float64), None, None, gaps,
                                   kkts, n_iters, gaps <= tol_abs, tol_abs)))
    return out


def _spec_n(spec):
    return spec.design.n if hasattr(spec, "design") else spec.X.shape[0]


class StabilitySelection(SelectorMixin, BaseEstimator):
    """Stability selection over the elastic-net or (sparse-)group-lasso path.

    Fits the penalised path of ``estimator``'s penalty on ``n_resamples`` subsamples of the
    rows (by default complementary pairs: disjoint halves of size ⌊n/2⌋, Shah & Samworth
    2013) over one alpha grid computed on all the data, and records the selection
    probability ``Π̂_j(alpha)`` of every feature (or group) ``j`` at every alpha: the
    fraction of the resamples whose fit has ``w_j ≠ 0`` (``w_g ≠ 0``). The stable set is
    ``{j : max_alpha Π̂_j(alpha) >= threshold}`` (Meinshausen & Bühlmann 2010), and

        E[V] <= q² / ((2·threshold - 1)·p)

    bounds the expected number of falsely selected units, ``q`` the mean over the resamples
    of the number of units selected at some alpha of the grid, ``p`` the number of
    penalised units. A feature selector: ``transform`` keeps the stable features (and the
    unpenalised ones, which every fit keeps).

    Parameters
    ----------
    estimator : estimator, default=None
        Whose penalty to use (its parameters are read, it is never fitted):
        :class:`ElasticNetPathCV` or :class:`ElasticNetIC` (``l1_ratio`` (one value),
        ``fit_intercept``, ``standardize``, ``penalty_factor``, ``positive``,
        ``precompute``, ``tol``, ``max_iter``), or :class:`GroupLassoRegressor`,
        :class:`GroupLassoPathCV`, :class:`GroupLassoIC` (``groups``, ``l1_ratio``,
        ``group_weights``, ``fit_intercept``, ``standardize``, ``tol``, ``max_iter``;
        probabilities are then per group). None: the lasso,
        ``ElasticNetPathCV(l1_ratio=1.0)``.
    alphas : int or array-like, default=50
        Number of grid points log-spaced from the full data's ``alpha_max`` down to
        ``eps * alpha_max``, or the grid itself: the alpha range of the bound.
    eps : float, default=0.05
        ``alpha_min / alpha_max`` of the default grid. A short range keeps ``q`` and so the
        bound small.
    n_resamples : int, default=100
        Number of subsample fits (even with ``complementary_pairs``: ``n_resamples / 2``
        random splits into two halves).
    complementary_pairs : bool, default=True
    sample_fraction : float in (0, 1), default=0.5
        Subsample size ``⌊sample_fraction·n⌋`` without ``complementary_pairs`` (which
        always use halves: then only 0.5 is accepted).
    threshold : float in (0.5, 1], default=0.75
        ``π_thr``. Ignored when ``expected_false_selections`` is set.
    expected_false_selections : float, default=None
        A target for the bound: the threshold is then the smallest one whose bound is at
        most this value, ``(1 + q²/(p·target))/2`` (an error when that exceeds 1: shorten
        the alpha range or raise the target).
    n_jobs : int, default=None
        Resamples run in parallel through ``sklearn.utils.parallel``.
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples (before any parallel work).
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``: 0 silent; 1 one
        line per finished resample (INFO, as they finish with ``n_jobs > 1``); 2 also
        every 10th path point (DEBUG, in-process resamples only). Shown on stderr unless
        the application configured logging (its handlers are then used).

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
    selection_probabilities_ : ndarray of shape (n_units, n_alphas)
        ``Π̂_j(alpha)``; units are the features, or the groups (``groups_``) of a group
        penalty.
    max_probabilities_ : ndarray of shape (n_units,)
    stable_units_ : ndarray of int
        Indices of the units with ``max_probabilities_ >= threshold_``.
    threshold_ : float
    mean_selected_ : float
        ``q``.
    false_selection_bound_ : float
        The bound on ``E[V]`` at ``threshold_``.
    n_units_ : int
        ``p`` of the bound (penalised features or groups).
    subsamples_ : list of ndarray of int
        The rows of each resample (pairs are consecutive).
    groups_ : list of ndarray of int
        The feature indices of each unit (singletons for the elastic net).
    max_dual_gap_ : float
        The largest duality gap over every resample's path.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Every resample's path point is certified at the estimator's ``tol``, as a single path
    is. With dense float64 ``X`` in residual mode (``n_samples < n_features``, every
    feature penalised, large enough halves) the resamples of a chunk run in lockstep
    over the grid and share each full-gradient pass over ``X`` (one matrix-matrix
    product; :mod:`sklearn_normpen._solvers.subset_paths`): on 1000 x 5000, 100 halves
    cost about 10-20 full-data paths instead of 50. Chunks are fixed by the data's shape,
    so results do not depend on ``n_jobs`` or the joblib backend (the verbose lines of a
    chunk's resamples then arrive together).
    """

    _parameter_constraints = {
        "estimator": [None, *_ENET, *_GROUP],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "complementary_pairs": ["boolean"],
        "sample_fraction": [Interval(Real, 0, 1, closed="neither")],
        "threshold": [Interval(Real, 0.5, 1, closed="right")],
        "expected_false_selections": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _check_params = {"alphas": 8, "n_resamples": 10}
    _reason = ("subsampling draws rows: a row repeated k times can fall in both halves of a "
               "pair while a row of weight k cannot, so weights and repeated rows give "
               "different resamples by design")
    _expected_failed_checks = {"check_sample_weight_equivalence_on_dense_data": _reason,
                               "check_sample_weight_equivalence_on_sparse_data": _reason}

    def __init__(self, estimator=None, *, alphas=50, eps=0.05, n_resamples=100,
                 complementary_pairs=True, sample_fraction=0.5, threshold=0.75,
                 expected_false_selections=None, n_jobs=None, random_state=None,
                 verbose=0):
        self.estimator = estimator
        self.alphas = alphas
        self.eps = eps
        self.n_resamples = n_resamples
        self.complementary_pairs = complementary_pairs
        self.sample_fraction = sample_fraction
        self.threshold = threshold
        self.expected_false_selections = expected_false_selections
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _spec(self, X, y, sw):
        """The fold spec of the estimator's penalty, its full-data problem and penalty,
        the units (None: features) and the always-kept unpenalised features."""
        est = ElasticNetPathCV(l1_ratio=1.0) if self.estimator is None else self.estimator
        p = X.shape[1]
        if isinstance(est, _ENET):
            if np.ndim(est.l1_ratio) != 0:
                raise ValueError("StabilitySelection needs one l1_ratio in estimator; got "
                                 f"{est.l1_ratio!r}.")
            (rho,) = _check_l1_ratios(est.l1_ratio, self.alphas)
            pf = validate_penalty_factor(est.penalty_factor, p)
            design, mode, stats, pb = _full_problem(X, y, sw, est.fit_intercept,
                                                    est.precompute)
            spec = _EnetSpec(design, mode, np.array([rho]), pf, est.standardize,
                             est.positive, full_stats=stats)
            (pen,) = spec.penalties(pb)
            free = np.flatnonzero(pen.unpenalized)
            units = None
            penalised = np.flatnonzero(~pen.unpenalized)
            alpha_max = lambda: _alpha_max(pb, pen, est.tol, est.max_iter)  # noqa: E731
            groups = [np.array([j]) for j in range(p)]
            n = X.shape[0]
            n_rows = n // 2 if self.complementary_pairs else int(
                np.floor(self.sample_fraction * n))
            if SubsetPaths.applies(n_rows, p, design.dtype, pen, rho, mode):
                spec.subset_paths = SubsetPaths(
                    design.X, design.y, design.sw, design.fit_intercept, design.x_mean,
                    functools.partial(_make_penalty, rho, pf, est.standardize, est.positive))
        else:
            _check_l1_ratio(est.l1_ratio)
            names = getattr(self, "feature_names_in_", None)
            structure, pb = _prepare(X, y, sw, est.groups, est.group_weights,
                                     est.fit_intercept, est.standardize, names)
            spec = _GroupSpec(X, y, sw, est.groups, est.group_weights, est.fit_intercept,
                              est.standardize, names, np.array([float(est.l1_ratio)]))
            pen = pb.penalty(est.l1_ratio)
            groups = [np.asarray(g) for g in structure.groups]
            units = groups
            # groups of weight 0 are unpenalised (no l1 term either): always selected, and
            # not among the p units of the bound
            c = np.asarray(pb.c[:len(groups)], dtype=np.float64)
            penalised = np.flatnonzero(c > 0)
            free = np.concatenate([np.asarray(structure.unpenalised, dtype=np.intp)]
                                  + [groups[g] for g in np.flatnonzero(c == 0)])
            alpha_max = lambda: _group_alpha_max(pb, pen, est.tol, est.max_iter)  # noqa
        return est, spec, units, groups, penalised, free.astype(np.intp), alpha_max

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None):
        """Fit the path on every subsample and compute the selection probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the loss (each subsample keeps its rows' weights).

        Returns
        -------
        self : object
        """
        if self.complementary_pairs and self.sample_fraction != 0.5:
            raise ValueError("complementary_pairs=True uses halves: sample_fraction must be "
                             f"0.5; got {self.sample_fraction!r}.")
        if self.complementary_pairs and self.n_resamples % 2:
            raise ValueError("complementary_pairs=True needs an even n_resamples (pairs of "
                             f"halves); got {self.n_resamples}.")
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        n = X.shape[0]
        m = n // 2 if self.complementary_pairs else int(np.floor(self.sample_fraction * n))
        if m < 2:
            raise ValueError(f"subsamples of {m} row(s) from n_samples={n} are too small: "
                             "stability selection needs at least 4 samples.")
        if not isinstance(self.alphas, (Integral, np.integer)):
            validate_alphas(self.alphas)
        est, spec, units, groups, penalised, free, alpha_max = self._spec(X, y, sw)
        grid = make_grid(self.alphas, alpha_max, self.eps)
        subsamples = _subsamples(n, self.n_resamples, self.sample_fraction,
                                 self.complementary_pairs, self.random_state)
        out, start = [], time.perf_counter()
        shared = getattr(spec, "subset_paths", None)
        if shared is None:
            tasks = (delayed(_selected_on)(rows, spec, grid, est.tol, est.max_iter, units)
                     for rows in subsamples)
        else:
            # chunks of a size set by the data's shape (pairs kept together): the same
            # resamples share a gradient product whatever n_jobs and the backend are
            c = chunk_size(m, X.shape[1])
            tasks = (delayed(_selected_on_chunk)(subsamples[a:a + c], shared, spec, grid,
                                                 est.tol, est.max_iter, units)
                     for a in range(0, len(subsamples), c))
        # a generator, so that progress is reported as resamples finish, whatever the backend
        for res in Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks):
            for one in ([res] if shared is None else res):
                out.append(one)
                if LOGGER.isEnabledFor(logging.INFO):
                    LOGGER.info("resample %d/%d done (%d alphas, %.2fs elapsed)", len(out),
                                len(subsamples), len(grid), time.perf_counter() - start)
        warn_unconverged([r for _, r in out], type(self).__name__)
        sel = np.stack([s for s, _ in out])           # (B, n_units, n_alphas)
        self.alphas_ = np.asarray(grid, dtype=np.float64)
        self.selection_probabilities_ = sel.mean(axis=0)
        self.max_probabilities_ = self.selection_probabilities_.max(axis=1)
        self.groups_ = groups
        self.subsamples_ = subsamples
        self.n_units_ = int(penalised.size)
        self.mean_selected_ = float(sel[:, penalised].any(axis=2).sum(axis=1).mean())
        q, p_units = self.mean_selected_, self.n_units_
        if self.expected_false_selections is not None:
            thr = 0.5 * (1 + q * q / (p_units * self.expected_false_selections)) \
                if p_units else 0.5
            if thr > 1:
                raise ValueError(
                    f"expected_false_selections={self.expected_false_selections!r} cannot be "
                    f"guaranteed: with q={q:.3g} units selected on average over the alpha "
                    f"range and p={p_units}, even threshold=1 bounds E[V] by only "
                    f"{q * q / p_units:.3g}. Shorten the alpha range (larger alphas or eps) "
                    "or raise the target.")
            self.threshold_ = float(np.nextafter(max(thr, 0.5), 1.0))
        else:
            self.threshold_ = float(self.threshold)
        self.false_selection_bound_ = false_selection_bound(q, p_units, self.threshold_)
        stable = np.zeros(len(groups), dtype=bool)
        stable[penalised] = self.max_probabilities_[penalised] >= self.threshold_
        self.stable_units_ = np.flatnonzero(stable)
        mask = np.zeros(X.shape[1], dtype=bool)
        for g in self.stable_units_:
            mask[groups[g]] = True
        mask[free] = True
        self._support_mask = mask
        self.max_dual_gap_ = float(max(np.max(r.gaps) for _, r in out))
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "_support_mask")
        return self._support_mask

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags
