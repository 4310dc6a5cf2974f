"""Group and sparse-group lasso: one fit, paths, and cross-validation with the 1-SE rule.

Objective (``s`` sample weights, ``c_g`` group weights, default ``sqrt(|g|)``)::

    1/(2 Σs) Σ_i s_i (y_i - x_iᵀw - b)² + alpha (l1_ratio ||w||_1
                                               + (1 - l1_ratio) Σ_g c_g ||w_g||_2)

``l1_ratio=0`` is the group lasso, ``0 < l1_ratio < 1`` the sparse-group lasso (Simon et al.,
2013), ``l1_ratio=1`` the lasso. Groups of weight 0 and features in no group are
unpenalised. With every feature its own group (``groups=None``) the fit is scikit-learn's
``Lasso(alpha)`` for every ``l1_ratio``. Solved by block coordinate descent
(:mod:`sklearn_normpen._solvers.block_cd`) with a duality-gap certificate.
"""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

from ._compat import Interval, StrOptions, _fit_context
from ._cv import (PathCVMixin, cross_validate_paths, full_data_paths, limited_paths,
                  plain_view, resolve_splits)
from ._dask import any_dask, fit_group_lasso, fit_group_lasso_path_cv
from ._design import Design, UnpenalisedStep, held_out_mse
from ._validation import _check_exclude, _check_limits
from ._grid import grid_size, make_grid
from ._groups import groups_from_feature_names, parse_groups, resolve_group_weights
from ._threads import single_blas_thread
from ._path import compute_path, warn_points, warn_stopped, warn_unconverged
from ._progress import with_progress
from ._relaxed import _check_gammas
from ._solvers.block_cd import GroupProblem
from ._solvers.block_cd_gram import GramGroupProblem
from ._validation import (GROUP_LASSO_PATH_CONSTRAINTS, validate_array_params,
                          validate_coef_init, validate_path_input, validate_path_params,
                          validate_sample_weight, validate_Xy)
from .base import NormPenRegressor
from .datafits import Quadratic

__all__ = ["GroupLassoRegressor", "GroupLassoPathCV", "group_lasso_path",
           "groups_from_feature_names"]

_GROUPS_CONSTRAINT = [None, "array-like", dict, StrOptions({"prefix"}), callable]


#: covariance mode for a dense float64 path when n >= p, p is at most this and the path has
#: at least p / GRAM_POINTS_DIV points: forming XᵀX (~n p² / 2 flops at BLAS-3 speed) then
#: costs less than the path's gradient passes and data sweeps it replaces
GRAM_MAX_FEATURES = 4096
GRAM_POINTS_DIV = 32


def _use_gram(X, n_points):
    n, p = X.shape
    return (n_points is not None and not sp.issparse(X) and X.dtype == np.float64
            and n >= p and p <= GRAM_MAX_FEATURES and n_points * GRAM_POINTS_DIV >= p)


#: the largest condition number of the unpenalised columns (centred, weighted, each of
#: unit norm) that covariance mode takes: its sweeps work in their Gram, which squares it
GRAM_MAX_UNPEN_COND = 1e5


def _unpenalised_resolved(design, structure, weights):
    """Whether the Gram resolves the unpenalised features' span (:data:`GRAM_MAX_UNPEN_COND`,
    the estimate of :class:`~sklearn_normpen._design.UnpenalisedStep`); else the path runs
    on the data. (An unpenalised group of columns 1e6 apart in scale and nearly collinear,
    condition number 3e10: covariance mode left all 30 points of a path uncertified at
    gaps of 3e-4 after 35 s; on the data they are certified in 0.04 s, its exact joint
    step on those columns working from their QR.)"""
    free = [g for g, c in zip(structure.groups, weights) if c == 0]
    U = np.concatenate(free + [structure.unpenalised]).astype(np.intp)
    if U.size == 0:
        return True
    root = None if design.sw64 is None else np.sqrt(design.sw64)
    return UnpenalisedStep(design.explicit_columns(U), root).cond <= GRAM_MAX_UNPEN_COND


def _prepare(X, y, sample_weight, groups, group_weights, fit_intercept, standardize,
             feature_names=None, rows=None, n_points=None, splits=None, n_jobs=None):
    """The group structure and the problem (one per data set, shared by every l1_ratio):
    in covariance mode (:class:`GramGroupProblem`, the compiled ``bcd_gram`` sweeps) for
    a path of ``n_points`` points on dense float64 data with ``n >= p`` (see
    :func:`_use_gram`; no box limits or exclusions there; unpenalised features that the
    Gram resolves, :func:`_unpenalised_resolved`), else on the data. With CV
    ``splits`` in covariance mode the folds' held-out statistics are formed too
    (:meth:`Design.cv_gram_stats`, ``n_jobs`` threads), kept as ``held_stats``."""
    structure = parse_groups(groups, X.shape[1], feature_names)
    weights = resolve_group_weights(group_weights, structure)
    design = Design(X, y, sample_weight, fit_intercept, rows=rows)
    if _use_gram(X, n_points) and _unpenalised_resolved(design, structure, weights):
        stats, held = ((design.gram_stats(), {}) if splits is None
                       else design.cv_gram_stats(splits, n_jobs))
        pb = _gram_problem(design, stats, structure, weights, standardize)  # all its rows
        pb.held_stats = held
        return structure, pb
    return structure, GroupProblem(design, structure, weights, standardize=standardize)


def _gram_problem(design, stats, structure, weights, standardize, rows=None):
    """:class:`GramGroupProblem` from ``stats`` about ``design``'s means; keeps both for
    the folds. A CV fold (``rows``, its training rows) passes the full statistics minus
    the held-out rows' in arrays of its own: the problem takes over their Gram."""
    fold = rows is not None
    pb = GramGroupProblem(stats, structure, weights, dtype=design.dtype,
                          fit_intercept=design.fit_intercept, x_shift=design.x_mean,
                          y_mean=design.y_mean, standardize=standardize, design=design,
                          stats_rows=rows, scratch=fold)
    pb.full_data = None if fold else (design, stats, structure, weights)
    return pb


def _check_box(lower_limits, upper_limits, exclude, n_features):
    """The elastic net's validators (same names, same errors): ``(limits, exclude_mask)``,
    ``limits`` being ``(lower, upper)`` or None."""
    limits = _check_limits(lower_limits, upper_limits, n_features)
    exclude = _check_exclude(exclude, n_features)
    limits = None if limits[0] is None else limits
    return limits, exclude


def _clip_coef(coef, limits, exclude):
    """The returned coefficients (features along the first axis: a vector, a path's
    ``(p, K)`` array or its ``csc_array``) inside the user's box (the solver keeps
    ``coef·σ`` inside its scaled box; undoing the scaling can round one unit outside)."""
    if limits is None and exclude is None:
        return coef
    if sp.issparse(coef):  # (0 is inside every box: the stored entries alone)
        coef = coef.copy()
        coef.data = _clip_coef(coef.data, None if limits is None else
                               (limits[0][coef.indices], limits[1][coef.indices]),
                               None if exclude is None else exclude[coef.indices])
        coef.eliminate_zeros()
        return coef
    col = (slice(None),) + (None,) * (coef.ndim - 1)  # (features on the first axis)
    if limits is not None:
        coef = np.clip(coef, limits[0].astype(coef.dtype)[col],
                       limits[1].astype(coef.dtype)[col])
    if exclude is not None:
        coef = np.where(np.asarray(exclude)[col], 0, coef).astype(coef.dtype)
    return coef


def _reject_dask_box(est):
    if (est.exclude is not None or est.lower_limits is not None
            or est.upper_limits is not None):
        raise ValueError(f"{type(est).__name__}: exclude, lower_limits and upper_limits are "
                         "not supported with dask input yet.")


def _alpha_max(problem, penalty, tol, max_iter):
    _, z = problem.null_fit(penalty, 1e-3 * tol * problem.null_deviance, max_iter)
    return penalty.alpha_max(z)


class _ActiveGroups:
    """``coef -> mask of the non-zero groups``: what dfmax / pmax count (picklable, unlike
    a lambda, so that any joblib backend ships it to the folds)."""

    def __init__(self, groups):
        self.groups = groups

    def __call__(self, coef):
        return np.array([bool(np.any(coef[g] != 0)) for g in self.groups])


class _GroupSpec:
    """A CV fold's problem (built once) and the penalties sharing it (picklable)."""

    datafit = Quadratic
    dfmax = pmax = active = None  # glmnet's limits on every fold's path (GroupLassoPathCV)
    n_points = None  # the folds' path length: covariance mode where it pays (_use_gram)
    full_data = None  # covariance mode: the full data's (Design, stats, structure, weights)
    held_stats = {}  # covariance mode: held-out rows (bytes) -> their gram_stats

    def __init__(self, X, y, sw, groups, group_weights, fit_intercept, standardize,
                 feature_names, l1_ratios, limits=None, exclude=None):
        self.X, self.y, self.sw = X, y, sw
        self.args = (groups, group_weights, fit_intercept, standardize, feature_names)
        self.l1_ratios = l1_ratios
        self.limits, self.exclude = limits, exclude

    def problem(self, train, test):
        full = self.full_data
        if full is not None and len(train) + len(test) == full[0].n:
            # covariance mode: the training fold's statistics are the full data's minus
            # the held-out rows' (about the full means; GramGroupProblem re-centres)
            d, stats, structure, weights = full
            held = self.held_stats.get(np.asarray(test).tobytes())
            if held is None:
                held = d.gram_stats(rows=test)
            return _gram_problem(d, {k: stats[k] - held[k] for k in held}, structure,
                                 weights, self.args[3], np.asarray(train))
        return _prepare(self.X, self.y, self.sw, *self.args, rows=train,
                        n_points=self.n_points)[1]

    def penalties(self, problem):
        return [problem.penalty(r, self.limits, self.exclude) for r in self.l1_ratios]

    def held_out_mse(self, test, res):
        """The fold's held-out errors from its held-out statistics, or None
        (:func:`~sklearn_normpen._design.held_out_mse`)."""
        if self.full_data is None:
            return None
        return held_out_mse(self.held_stats, self.full_data[0], test, res)


def _group_norms(coef, structure):
    return np.array([float(np.linalg.norm(coef[g])) for g in structure.groups])


@validate_path_params(GROUP_LASSO_PATH_CONSTRAINTS)
def group_lasso_path(X, y, *, groups=None, l1_ratio=0.0, group_weights=None, alphas=None,
                     n_alphas=100, eps=1e-3, sample_weight=None, fit_intercept=False,
                     standardize=True, tol=1e-4, max_iter=1000, coef_init=None,
                     return_n_iter=False, dfmax=None, pmax=None, exclude=None,
                     lower_limits=None, upper_limits=None, family="gaussian",
                     sparse_output=False):
    """The (sparse-)group lasso along a decreasing alpha grid, warm-started.

    Same return convention as :func:`sklearn.linear_model.enet_path`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    groups, l1_ratio, group_weights
        As in :class:`GroupLassoRegressor`.
    alphas : array-like, default=None
        The grid (sorted decreasing). When None, ``n_alphas`` values log-spaced from
        ``alpha_max`` (the smallest alpha at which every penalised group is zero) down to
        ``eps * alpha_max``.
    n_alphas : int, default=100
    eps : float, default=1e-3
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=False
        As ``enet_path``, the default assumes centred data; True centres internally (the
        intercepts are then not returned: use :class:`GroupLassoPathCV` or the estimator).
    standardize : bool, default=True
        glmnet's default: fit as if every column were divided by its weighted standard
        deviation ``σ_j``, i.e. the penalty applies to the standardised coefficients
        ``v_j = σ_j w_j``: ``alpha·(l1_ratio·Σ σ_j|w_j| + (1 - l1_ratio)·Σ_g c_g ||v_g||_2)``
        (coefficients reported on the original scale; constant columns get 0). The fit is
        then invariant to each feature's units. ``standardize=False`` gives the objective
        above exactly.
    tol : float, default=1e-4
        Each point stops when its duality gap is at most ``tol * ||y - ȳ||²_s / (2Σs)``.
    max_iter : int, default=1000
        Maximum number of epochs per point.
    coef_init : array-like of shape (n_features,), default=None
        Warm start for the first point (original scale).
    return_n_iter : bool, default=False
    dfmax, pmax : int, default=None
        glmnet's limits counted in groups: from the 5th point on the path ends after the
        first point with more than ``dfmax`` non-zero groups (kept), and before the first
        point at which more than ``pmax`` groups have ever been non-zero.
    exclude, lower_limits, upper_limits
        As in :class:`GroupLassoRegressor`.
    family : {"gaussian", "binomial", "poisson"}, default="gaussian"
        glmnet's family: ``"binomial"`` replaces the squared loss by
        ``1/Σs·Σ s_i [log(1 + e^{η_i}) - y_i η_i]`` (two classes of any label type,
        ``y_i = 1`` for the second of ``np.unique(y)``, as
        :class:`GroupLassoClassifier`'s ``classes_[1]``), ``"poisson"`` by
        ``1/Σs·Σ s_i [e^{η_i} - y_i η_i]`` (counts ``y >= 0``), ``η = Xw + b``.
        Unpenalised features (group weight 0, features in no group) are fitted at every
        alpha, as by the estimators (the path starts at that certified null fit);
        ``tol`` is relative to half
        the intercept-only deviance; the path may end early as glmnet's does (deviance
        ratio above 0.999, or its relative change below 1e-5 after 5 points), the
        returned alphas being the points solved (a ``UserWarning`` gives the reason).
    sparse_output : bool, default=False
        Return ``coefs`` as a ``scipy.sparse.csc_array`` holding each point's non-zeros
        (as :func:`enet_path`'s): no dense ``(n_features, n_alphas)`` array is formed.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The points solved (fewer when ``dfmax``/``pmax`` or, for a GLM family, glmnet's
        deviance rules stopped the path; a ``UserWarning`` says where).
    coefs : ndarray of shape (n_features, n_alphas)
        A ``csc_array`` of that shape with ``sparse_output``.
    dual_gaps : ndarray of shape (n_alphas,)
        Absolute duality gaps (objective scale above).
    n_iters : ndarray of shape (n_alphas,)
        Only when ``return_n_iter``.
    """
    if family != "gaussian":  # binomial, poisson: proximal Newton around block CD
        args = dict(locals())
        from ._families import glm_group_lasso_path
        return glm_group_lasso_path(args.pop("family"), args.pop("X"), args.pop("y"),
                                    **args)
    X, y = validate_path_input(X, y)
    sw = validate_sample_weight(sample_weight, X)
    coef_init = validate_coef_init(coef_init, X.shape[1], X.dtype)
    _check_l1_ratio(l1_ratio)
    limits, excl = _check_box(lower_limits, upper_limits, exclude, X.shape[1])
    n_points = None if limits is not None or excl is not None else grid_size(
        n_alphas if alphas is None else alphas)
    structure, problem = _prepare(X, y, sw, groups, group_weights, fit_intercept,
                                  standardize, n_points=n_points)
    pen = problem.penalty(l1_ratio, limits, excl)
    grid = make_grid(n_alphas if alphas is None else alphas,
                     lambda: _alpha_max(problem, pen, tol, max_iter), eps)
    w0 = None if coef_init is None else np.clip(problem.from_original(coef_init),
                                                pen.lower, pen.upper)
    path = compute_path(problem, pen, grid, tol=tol, max_iter=max_iter, coef_init=w0,
                        dfmax=dfmax, pmax=pmax,
                        active=lambda c: _group_norms(c, structure) > 0,
                        sparse_output=sparse_output)
    warn_unconverged([path], "group_lasso_path")
    warn_stopped(path, len(grid), "group_lasso_path")
    coefs = _clip_coef(path.coefs, limits, excl)
    if return_n_iter:
        return path.alphas, coefs, path.gaps, path.n_iters
    return path.alphas, coefs, path.gaps


def _check_l1_ratio(l1_ratio, name="l1_ratio"):
    if not isinstance(l1_ratio, Real) or not (0 <= l1_ratio <= 1):
        raise ValueError(f"{name} must be a float in [0, 1]; got {l1_ratio!r}.")


class GroupLassoRegressor(NormPenRegressor):
    """Linear regression with a (sparse-)group lasso penalty.

    Minimises ``1/(2Σs) Σ s_i (y_i - x_iᵀw - b)² + alpha (l1_ratio ||w||_1 +
    (1 - l1_ratio) Σ_g c_g ||w_g||_2)`` by block coordinate descent, stopping on the
    duality gap.

    Parameters
    ----------
    groups : None, "prefix", callable, array-like or dict, default=None
        The feature groups (see :mod:`sklearn_normpen._groups`): None makes every feature
        its own group (the lasso); one label per feature (``None`` = unpenalised); a list
        of index lists; a dict ``{name: columns}``; ``"prefix"`` groups the columns by their
        name prefix (e.g. ``OneHotEncoder`` dummies ``color_red, color_blue`` form
        ``color``; needs feature names, e.g. ``set_output(transform="pandas")``); or a
        callable ``f(feature_names)`` returning one of these, such as
        ``functools.partial(groups_from_feature_names, prefixes=[...])``.
        Features in no group are unpenalised.
    alpha : float, default=1.0
        Regularisation strength (> 0).
    l1_ratio : float in [0, 1], default=0.0
        Share of the l1 term: 0 is the group lasso, 1 the lasso.
    group_weights : array-like of shape (n_groups,) or dict, default=None
        ``c_g``; default ``sqrt(|g|)``. 0 leaves the group unpenalised (no l1 term either).
    fit_intercept : bool, default=True
    standardize : bool, default=True
        glmnet's default: fit as if every column were divided by its weighted standard
        deviation ``σ_j``, i.e. the penalty applies to the standardised coefficients
        ``v_j = σ_j w_j``: ``alpha·(l1_ratio·Σ σ_j|w_j| + (1 - l1_ratio)·Σ_g c_g ||v_g||_2)``
        (coefficients reported on the original scale; constant columns get 0). The fit is
        then invariant to each feature's units. ``standardize=False`` gives the objective
        above exactly.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y - ȳ||²_s / (2Σs)``.
    max_iter : int, default=1000
        Maximum number of epochs (block sweeps).
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    exclude : array-like of int or of bool, default=None
        Features (indices, or a boolean mask) held at zero (glmnet's ``exclude``). A group
        whose features are all excluded is inactive; a partly excluded group keeps its
        other features and its weight ``c_g`` as given (grpreg/glmnet-like: the weight is
        not recomputed from the remaining size).
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        Box limits ``lower_j <= w_j <= upper_j`` on the original-scale coefficients
        (glmnet's ``lower.limits`` / ``upper.limits``; ``lower <= 0 <= upper``;
        ``lower_limits=0`` is a non-negativity constraint). Not allowed on unpenalised
        features. Each block update is the prox of penalty + box,
        ``clip(s·S(v, l1), lower, upper)`` with the shrinkage ``s`` from a 1-D monotone
        equation; the duality gap includes the box (the exact group-wise conjugate of
        penalty + box).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    groups_ : list of ndarray of int
        The feature indices of each group, in the order of ``group_norms_``.
    group_labels_ : list
        The group names (labels, dict keys or positions).
    group_norms_ : ndarray of shape (n_groups,)
        ``||coef_g||_2`` of each group.
    active_groups_ : ndarray of int
        Indices (into ``groups_``) of the groups with a non-zero coefficient.
    dual_gap_ : float
        Final duality gap (absolute, objective scale).
    kkt_violation_ : float
        Largest group-wise KKT violation (0 at the optimum).
    n_iter_ : int
        Passes over the data: the block sweeps run, or 1 when the starting point (the
        null fit, or ``coef_`` with ``warm_start``) is already certified optimal — e.g.
        every group zero at ``alpha >= alpha_max`` — since certifying it takes one
        gradient pass over every group.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_normpen import GroupLassoRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 6))
    >>> y = X[:, :3] @ [1.0, -2.0, 1.5] + 0.1 * rng.standard_normal(100)
    >>> reg = GroupLassoRegressor(groups=[[0, 1, 2], [3, 4, 5]], alpha=0.1).fit(X, y)
    >>> reg.active_groups_
    array([0])
    """

    _parameter_constraints = {
        "groups": _GROUPS_CONSTRAINT,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "group_weights": ["array-like", dict, None],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "exclude": ["array-like", None],
        "lower_limits": [Real, "array-like", None],
        "upper_limits": [Real, "array-like", None],
    }

    def __init__(self, *, groups=None, alpha=1.0, l1_ratio=0.0, group_weights=None,
                 fit_intercept=True, standardize=True, tol=1e-4, max_iter=1000,
                 warm_start=False, exclude=None, lower_limits=None, upper_limits=None):
        self.groups = groups
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.exclude = exclude
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if any_dask(X, y, sample_weight):  # covariance-mode solver on cluster moments
            _reject_dask_box(self)
            return fit_group_lasso(self, X, y, sample_weight)
        prev = getattr(self, "coef_", None) if self.warm_start else None
        validate_array_params(self)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        limits, excl = _check_box(self.lower_limits, self.upper_limits, self.exclude,
                                  X.shape[1])
        structure, problem = _prepare(
            X, y, sw, self.groups, self.group_weights, self.fit_intercept, self.standardize,
            getattr(self, "feature_names_in_", None))
        pen = problem.penalty(self.l1_ratio, limits, excl)
        tol_abs = self.tol * problem.null_deviance
        with single_blas_thread():  # (the null fit and the solve, as _path.compute_path)
            if prev is not None and np.shape(prev) == (X.shape[1],):
                w = problem.start(np.clip(problem.from_original(prev), pen.lower,
                                          pen.upper))
            else:
                # the null fit leaves the solver state (residual, gradient) at its w
                w = problem.null_fit(pen, 1e-3 * tol_abs, self.max_iter)[0]
            res, n_iter = problem.solve(w, pen, self.alpha, tol_abs, self.max_iter)
        if res.gap > tol_abs:
            warn_points([self.alpha], [res.gap], tol_abs, type(self).__name__)
        self.coef_, self.intercept_ = problem.to_original(w)
        self.coef_ = _clip_coef(self.coef_, limits, excl)
        self.groups_ = structure.groups
        self.group_labels_ = structure.labels
        self.group_norms_ = _group_norms(self.coef_, structure)
        self.active_groups_ = np.flatnonzero(self.group_norms_ > 0)
        self.dual_gap_ = res.gap
        self.kkt_violation_ = res.kkt
        # the certificate's full gradient pass is one pass over the data even when no sweep
        # is needed (the block solver then reports 0 epochs); scikit-learn expects >= 1
        self.n_iter_ = max(int(n_iter), 1)
        return self


class GroupLassoPathCV(PathCVMixin, NormPenRegressor):
    """(Sparse-)group lasso with alpha chosen by K-fold cross-validation (λ_min or λ_1se).

    For each ``l1_ratio`` the alpha grid runs from ``alpha_max`` (full data) down to
    ``eps * alpha_max``; every fold fits the warm-started path on its training rows and
    scores it on its held-out rows. The CV mean and standard error and the selection rule
    are those of :mod:`sklearn_normpen.selection` (as ``cv.glmnet``), shared with
    ``ElasticNetPathCV``. The final model is the full-data path at the chosen alpha.

    Parameters
    ----------
    groups, group_weights, fit_intercept, standardize, tol, max_iter
        As in :class:`GroupLassoRegressor`.
    l1_ratio : float or list of float, default=0.0
        One value, or several (the best one is chosen by its minimum mean CV error).
    alphas : int or array-like, default=100
        Number of grid points, or the grid itself.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    cv : int, cross-validation splitter or iterable, default=5
    rule : {"min", "1se"}, default="min"
        ``"min"``: the alpha of least mean CV error; ``"1se"``: the largest alpha whose mean
        error is within one standard error of that minimum.
    n_jobs : int, default=None
        Folds run in parallel through ``sklearn.utils.parallel``: in threads unless a
        joblib backend is chosen (``joblib.parallel_config``: loky, dask, ...). With a
        single ``l1_ratio`` the full-data path runs as one more task beside the folds
        (the same fit as ``n_jobs=1``). In covariance mode (dense float64, n >= p) with
        K-fold splits, X is read once for every fold's held-out statistics (in that many
        threads) and the held-out errors come from them, as in :class:`ElasticNetPathCV`.
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int (as in :class:`ElasticNetPathCV`).
    relax : bool, default=False
        Relaxed fits (glmnet's ``relax=TRUE``): also cross-validate
        ``w(γ) = γ ŵ_alpha + (1 - γ) ŵ_alpha^{unpen}``, ``ŵ^{unpen}`` the unpenalised
        least-squares fit on the active set of ``ŵ_alpha`` (solved once per distinct
        active set), and choose (alpha, gamma) jointly with the same rule: the largest
        alpha, then the largest gamma. ``coef_`` is then the relaxed fit.
    relax_gamma : float or array-like of float in [0, 1], default=(0, 0.25, 0.5, 0.75, 1)
        The relaxation grid (with ``relax=True``; glmnet's ``gamma``, renamed because
        scikit-learn's ``gamma`` is a kernel coefficient); 1, the path itself, is always
        included.
    keep : bool, default=False
        Store the out-of-fold predictions (glmnet's ``keep=TRUE``) as
        ``oof_predictions_`` and the held-out fold of every sample as ``fold_ids_``. The
        splits must hold each sample out at most once.
    dfmax, pmax : int, default=None
        glmnet's limits, counted in groups, as in :class:`ElasticNetPathCV`: the full-data
        path stops as in :func:`group_lasso_path`, its alphas are every fold's grid, and a
        fold whose own path stops earlier keeps its last fit for the remaining alphas.
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``: 0 silent; 1 one
        line per finished fold and per full-data path (INFO); 2 also every 10th point of each path
        (DEBUG). Shown on stderr unless the application configured logging (its handlers
        are then used); with ``n_jobs > 1`` folds are reported as they finish.
    exclude, lower_limits, upper_limits
        As in :class:`GroupLassoRegressor` (every fold and the full-data path).

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The decreasing grid(s) (cut where ``dfmax`` / ``pmax`` stopped the full-data path).
    path_stop_reason_ : str or None
        ``"dfmax"`` or ``"pmax"`` when that limit stopped the full-data path, else None.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    cv_mean_, cv_se_ : ndarray, shape of ``mse_path_`` without the fold axis
    alpha_min_, alpha_1se_, alpha_ : float
        The two rule choices and the one used (per ``rule``).
    l1_ratio_ : float
    coef_path_ : ndarray of shape (n_features, n_alphas) or (n_l1_ratios, n_features, n_alphas)
        Full-data path of every ``l1_ratio`` (a leading axis, as ``alphas_``, when
        ``l1_ratio`` is a list). Read it at any alpha with :meth:`coef_at`,
        :meth:`intercept_at`, :meth:`predict_at`; tabulate it with :meth:`path_summary`.
    intercept_path_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
    dual_gap_path_, kkt_violation_path_ : ndarray, shape of ``intercept_path_``
        Certified duality gap and largest KKT violation of each full-data path point.
    n_iter_path_ : ndarray, shape of ``intercept_path_``
        Epochs spent on each full-data path point.
    fold_dual_gap_ : ndarray of shape (n_folds,)
        The largest duality gap over each fold's paths.
    dev_ratio_path_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        Fraction of the (weighted) null deviance explained on the training data by each
        full-data path point (glmnet's ``dev.ratio``).
    oof_predictions_ : ndarray of shape (n_samples, n_alphas) or (n_l1_ratios, n_samples, n_alphas)
        With ``keep=True``: each sample's prediction by the path fitted without its fold
        (float64; the values ``mse_path_`` is computed from; NaN for samples no split
        holds out).
    fold_ids_ : ndarray of shape (n_samples,)
        With ``keep=True``: the split holding each sample out (-1: none).
    coef_, intercept_, groups_, group_labels_, group_norms_, active_groups_, dual_gap_,
    kkt_violation_
        Of the selected model.
    n_iter_ : int
        Total epochs of the full-data path up to and including ``alpha_`` (the path is
        warm-started, so these are the epochs that produced ``coef_``).
    relax_gammas_ : ndarray of shape (n_gammas,)
        With ``relax=True``: the decreasing gamma grid (1 first).
    relax_gamma_min_, relax_gamma_1se_, relax_gamma_ : float
        With ``relax=True``: the gammas of the joint λ_min / λ_1se choices and the one used.
    relaxed_mse_path_ : ndarray of shape (n_gammas, n_alphas, n_folds)
        With ``relax=True`` (a leading ``l1_ratio`` axis for a list): held-out errors of
        the relaxed fits (``relaxed_mse_path_[0]`` is ``mse_path_``).
    relaxed_cv_mean_, relaxed_cv_se_ : ndarray
        Their fold-weighted mean and standard error.
    relaxed_coef_path_ : ndarray of shape (n_gammas, n_features, n_alphas)
        With ``relax=True``: the relaxed full-data path for ``l1_ratio_``.
    relaxed_intercept_path_ : ndarray of shape (n_gammas, n_alphas)
    """

    _parameter_constraints = {
        "groups": _GROUPS_CONSTRAINT,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "group_weights": ["array-like", dict, None],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "rule": [StrOptions({"min", "1se"})],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "relax": ["boolean"],
        "relax_gamma": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "keep": ["boolean"],
        "exclude": ["array-like", None],
        "lower_limits": [Real, "array-like", None],
        "upper_limits": [Real, "array-like", None],
        "dfmax": [Interval(Integral, 1, None, closed="left"), None],
        "pmax": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }
    _check_params = {"alphas": 8, "cv": 3}

    def __init__(self, *, groups=None, l1_ratio=0.0, group_weights=None, alphas=100,
                 eps=1e-3, cv=5, rule="min", fit_intercept=True, standardize=True,
                 tol=1e-4, max_iter=1000, n_jobs=None, random_state=None, relax=False,
                 relax_gamma=(0.0, 0.25, 0.5, 0.75, 1.0), keep=False, dfmax=None, pmax=None,
                 verbose=0, exclude=None, lower_limits=None, upper_limits=None):
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.relax = relax
        self.relax_gamma = relax_gamma
        self.keep = keep
        self.exclude = exclude
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits
        self.dfmax = dfmax
        self.pmax = pmax
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the path(s), then fit the full-data path.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Used in the fits and in the held-out errors and fold weights.
        groups : array-like of shape (n_samples,), default=None
            Sample group labels for a group-aware ``cv`` splitter (e.g. ``GroupKFold``);
            the feature groups are the ``groups`` parameter of the estimator.

        Returns
        -------
        self
        """
        limited = self.dfmax is not None or self.pmax is not None
        if any_dask(X, y, sample_weight, self.cv):  # fold moments on the cluster
            _reject_dask_box(self)
            if limited:
                raise ValueError("dfmax and pmax are not supported with dask input yet.")
            return fit_group_lasso_path_cv(self, X, y, sample_weight, groups)
        validate_array_params(self)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        multi = np.ndim(self.l1_ratio) > 0
        l1_ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if l1_ratios.ndim != 1 or l1_ratios.size == 0:
            raise ValueError("l1_ratio must be a float or a non-empty 1-D list of floats.")
        for v in l1_ratios:
            _check_l1_ratio(float(v))
        names = getattr(self, "feature_names_in_", None)
        limits, excl = _check_box(self.lower_limits, self.upper_limits, self.exclude,
                                  X.shape[1])
        # covariance mode (dense float64, n >= p) only without limits and relaxed fits
        n_points = (None if (limits is not None or excl is not None or self.relax)
                    else grid_size(self.alphas))
        splits = resolve_splits(self.cv, X, y, groups, self.random_state)
        structure, problem = _prepare(X, y, sw, self.groups, self.group_weights,
                                      self.fit_intercept, self.standardize, names,
                                      n_points=n_points, splits=splits, n_jobs=self.n_jobs)
        pens = [problem.penalty(r, limits, excl) for r in l1_ratios]
        grids = np.vstack([make_grid(self.alphas, lambda: _alpha_max(problem, pen, self.tol,
                                                                     self.max_iter), self.eps)
                           for pen in pens])
        gammas = _check_gammas(self.relax_gamma) if self.relax else None
        Xr = X.tocsr() if sp.issparse(X) else X  # row slicing for the held-out rows
        spec = _GroupSpec(X, y, sw, self.groups, self.group_weights, self.fit_intercept,
                          self.standardize, names, l1_ratios, limits, excl)
        spec.n_points = n_points
        spec.full_data = getattr(problem, "full_data", None)
        spec.held_stats = getattr(problem, "held_stats", {})
        paths = None
        if limited:  # the full-data paths first: where they stop, the folds' grid ends
            spec.dfmax, spec.pmax = self.dfmax, self.pmax
            spec.active = _ActiveGroups(structure.groups)
            grids, paths = limited_paths(problem, pens, grids, tol=self.tol,
                                         max_iter=self.max_iter, dfmax=self.dfmax,
                                         pmax=self.pmax, active=spec.active)
        oof, ids = self._cv_oof(splits, X.shape[0], grids.shape[0], grids.shape[1],
                                np.float64)
        # one path to solve after the CV: beside the folds when they run in parallel
        full = (problem, pens[0]) if paths is None and len(pens) == 1 else None
        errors, fold_results, side = cross_validate_paths(
            spec, Xr, y, sw, grids, splits, tol=self.tol, max_iter=self.max_iter,
            n_jobs=self.n_jobs, gammas=gammas, oof=oof, full=full)
        paths = side if side is not None else paths
        sel = self._cv_select(errors, splits, sw, grids, gammas=gammas)
        if gammas is not None:
            rel_sel, rel_errors = sel, errors
            sel, errors = plain_view(sel, errors)
        best = sel["best_path"]
        # the full-data path of every l1_ratio (for coef_at & co.), the chosen one first
        if paths is None:
            paths = full_data_paths(problem, pens, grids, best, tol=self.tol,
                                    max_iter=self.max_iter)
        self.path_stop_reason_ = paths[best].stop_reason
        warn_unconverged(fold_results + paths, type(self).__name__)
        self._set_cv_results(sel=sel, grids=grids, errors=errors, splits=splits,
                             l1_ratios=l1_ratios, scalar=not multi, path=paths,
                             fold_results=fold_results)
        if gammas is not None:
            self._set_relaxed_results(sel=rel_sel, errors=rel_errors, gammas=gammas,
                                      scalar=not multi, problem=problem,
                                      path=paths[rel_sel["best_path"]], l1_ratios=l1_ratios)
        self._set_dev_ratio(paths)
        self._set_oof(oof, ids, not multi)
        self.groups_ = structure.groups
        self.group_labels_ = structure.labels
        self.group_norms_ = _group_norms(self.coef_, structure)
        self.active_groups_ = np.flatnonzero(self.group_norms_ > 0)
        return self
