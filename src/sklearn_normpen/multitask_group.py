"""Sparse-group lasso for several responses (groups of features; grpreg-style, glmnet has
none): the certified path function.

Objective, with ``Y`` of shape (n_samples, n_responses), sample weights ``s``, ``W`` of
shape (n_features, n_responses) whose row ``W_j`` holds feature j's K coefficients, feature
groups ``g`` with blocks ``W_g`` (``|g| × K``) and group weights ``c_g`` (default
``sqrt(|g|)``)::

    1/(2Σs)·Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha·(l1_ratio·Σ_j ‖W_j‖₂
                                               + (1 - l1_ratio)·Σ_g c_g ‖W_g‖_F)

``l1_ratio=1`` is the multi-task lasso (:func:`multitask_enet_path` with ``l1_ratio=1``),
``l1_ratio=0`` the multi-task group lasso (a group enters every response or none), in
between a group may enter with only some of its features (each for every response).
``l1_ratio`` mixes the row (feature) and block (group) norms as
:func:`group_lasso_path`'s mixes the l1 and group norms.
"""
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, StrOptions, _fit_context
from ._cv import PathCVMixin
from ._grid import make_grid
from ._groups import parse_groups, resolve_group_weights
from ._path import compute_path, warn_unconverged
from ._progress import with_progress
from ._solvers.multitask_group import MultiTaskGroupProblem
from ._validation import validate_array_params
from .datafits import Quadratic
from .group_classification import _check_rho, _structure, check_glm_groups
from .group_lasso import _GROUPS_CONSTRAINT, _check_l1_ratio
from .multitask import (MultiTaskElasticNetRegressor, _fit_mt_path_cv, _MultiTaskBase,
                        _MultiTaskPathAccess, _MultiTaskSpec, _validate_XY, multitask_mse)
from .penalties import MultiTaskSparseGroupLasso

__all__ = ["MultiTaskGroupLassoRegressor", "MultiTaskGroupLassoPathCV",
           "multitask_group_lasso_path"]

_WHAT = "Multi-task group block coordinate descent"


def _problem(X, Y, sw, fit_intercept, standardize, groups):
    """The problem on X (columns divided by their weighted deviations with
    ``standardize``; coefficients reported on the user's scale)."""
    from ._families import _standardized
    inv = shift = exact = None
    if standardize:
        X, inv, shift, exact = _standardized(X, sw, fit_intercept, return_design=True)
    return MultiTaskGroupProblem(X, Y, sw, fit_intercept, groups, inv, x_shift=shift,
                                 exact=exact)


def _alpha_max(problem, penalty, tol, max_iter):
    _, z = problem.null_fit(penalty, 0.0, max_iter)
    return penalty.alpha_max(z)


class _MultiTaskGroupSpec:
    """A CV fold's problem (its own standardisation) and the penalties sharing it
    (picklable)."""

    datafit = Quadratic
    predict = staticmethod(_MultiTaskSpec.predict)
    measure = staticmethod(multitask_mse)

    def __init__(self, X, Y, sw, fit_intercept, standardize, groups, arrays, l1_ratios):
        self.X, self.Y, self.sw = X, Y, sw
        self.fit_intercept, self.standardize = fit_intercept, standardize
        self.groups, self.arrays, self.l1_ratios = groups, arrays, l1_ratios

    def problem(self, train, test):
        sw = None if self.sw is None else self.sw[train]
        return _problem(self.X[train], self.Y[train], sw, self.fit_intercept,
                        self.standardize, self.groups)

    def full_problem(self):
        return _problem(self.X, self.Y, self.sw, self.fit_intercept, self.standardize,
                        self.groups)

    def penalties(self, problem):
        return [MultiTaskSparseGroupLasso(*self.arrays, r) for r in self.l1_ratios]


def multitask_group_lasso_path(X, y, *, groups=None, l1_ratio=0.0, group_weights=None,
                               alphas=None, n_alphas=100, eps=1e-3, sample_weight=None,
                               fit_intercept=False, standardize=True, tol=1e-4,
                               max_iter=10000, return_n_iter=False):
    """Sparse-group lasso path for several responses, certified at every point.

    Minimises, for each alpha of a decreasing grid, the objective of the module
    docstring.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Read in place (CSC kept sparse, centring implicit); float32 X is solved in
        float32 (block arithmetic in float64) and gives float32 coefficients.
    y : array-like of shape (n_samples, n_responses)
    groups : as :class:`GroupLassoRegressor`, default=None
        Groups of features (None: every feature its own group, which is the multi-task
        lasso). Every feature must be in a group of positive weight.
    l1_ratio : float in [0, 1], default=0.0
    group_weights : array-like of shape (n_groups,), default=None
        ``c_g``; default ``sqrt(|g|)``.
    alphas : array-like, default=None
        The grid (sorted decreasing). When None, ``n_alphas`` values log-spaced from
        ``alpha_max`` (the smallest alpha at which every block is zero) to
        ``eps * alpha_max``.
    n_alphas : int, default=100
    eps : float, default=1e-3
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=False
        As :func:`multitask_enet_path` (the intercepts, ``ȳ - x̄ᵀW`` with weighted means,
        are not returned).
    standardize : bool, default=True
        glmnet's default: fit as if every column were divided by its weighted standard
        deviation (coefficients reported on the original scale; constant columns get 0).
        ``False`` gives the objective above exactly.
    tol : float, default=1e-4
        A point is accepted when its duality gap is at most ``tol·‖Y - Ȳ‖²_S/(2Σs)``.
    max_iter : int, default=10000
        Maximum epochs (sweeps over the groups) per point.
    return_n_iter : bool, default=False

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_responses, n_features, n_alphas)
        As :func:`multitask_enet_path` (scikit-learn's multi-output layout); X's dtype.
    dual_gaps : ndarray of shape (n_alphas,)
        Certified duality gap of each point (objective scale).
    n_iters : ndarray of shape (n_alphas,)
        Returned when ``return_n_iter`` is True.
    """
    est = MultiTaskElasticNetRegressor(tol=tol, max_iter=max_iter)  # for the validators
    validate_array_params(est)
    X, Y, sw = _validate_XY(est, X, y, sample_weight)
    _check_l1_ratio(l1_ratio)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if not (np.isscalar(tol) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite non-negative float; got {tol!r}.")
    p = X.shape[1]
    structure = parse_groups(groups, p)
    weights = resolve_group_weights(group_weights, structure)
    gptr, gidx, c = check_glm_groups(structure, weights, p)
    problem = _problem(X, Y, sw, fit_intercept, standardize, structure.groups)
    pen = MultiTaskSparseGroupLasso(gptr, gidx, c, float(l1_ratio))
    grid = make_grid(n_alphas if alphas is None else alphas,
                     lambda: _alpha_max(problem, pen, tol, max_iter), eps)
    res = compute_path(problem, pen, grid, tol=tol, max_iter=max_iter)
    warn_unconverged([res], _WHAT)
    coefs = res.coefs.astype(X.dtype)
    out = (res.alphas, np.swapaxes(coefs, 0, 1), res.gaps)
    return out + (res.n_iters,) if return_n_iter else out


_COMMON = {
    "groups": _GROUPS_CONSTRAINT,
    "group_weights": ["array-like", None],
    "fit_intercept": ["boolean"],
    "standardize": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
}


class MultiTaskGroupLassoRegressor(_MultiTaskBase):
    """Sparse-group lasso for several responses at one alpha (groups of features whose
    ``|g| × K`` coefficient blocks enter together), fitted to a certified duality gap.

    Minimises ``1/(2Σs)·Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha·(l1_ratio·Σ_j ‖W_j‖₂
    + (1 - l1_ratio)·Σ_g c_g ‖W_g‖_F)`` (see :func:`multitask_group_lasso_path`).

    Parameters
    ----------
    groups : as :class:`GroupLassoRegressor`, default=None
        None: every feature its own group (the multi-task lasso). Every feature must be in
        a group of positive weight.
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=0.0
        0: whole groups enter for every response; 1: the multi-task lasso.
    group_weights : array-like of shape (n_groups,), default=None
        ``c_g``; default ``sqrt(|g|)``.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        As :func:`multitask_group_lasso_path` (X only; responses never scaled).
    tol : float, default=1e-4
        Relative to the null deviance summed over the responses.
    max_iter : int, default=10000
        Maximum epochs (sweeps over the groups).

    Attributes
    ----------
    coef_ : ndarray of shape (n_responses, n_features)
    intercept_ : ndarray of shape (n_responses,)
    dual_gap_, kkt_violation_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Compiled block coordinate descent over the groups (each visit minimises the group's
    quadratic model by proximal-gradient steps of length ``1/L_g``, the prox of the
    nested norms), on a working set of groups checked by a KKT pass over every group
    before a point is certified; dense or CSC X, float32 or float64.
    """

    _parameter_constraints = {
        **_COMMON,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, *, groups=None, alpha=1.0, l1_ratio=0.0, group_weights=None,
                 fit_intercept=True, standardize=True, tol=1e-4, max_iter=10000):
        self.groups = groups
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on ``y`` of shape (n_samples, n_responses); X dense or sparse. Returns
        ``self``."""
        validate_array_params(self)
        X, Y, sw = _validate_XY(self, X, y, sample_weight)
        # (no unpenalised rows: the certificate would not project them out)
        structure, _, arrays = _structure(self, X, allow_unpenalised=False)
        pb = _problem(X, Y, sw, self.fit_intercept, self.standardize, structure.groups)
        pen = MultiTaskSparseGroupLasso(*arrays, float(self.l1_ratio))
        res = compute_path(pb, pen, np.array([float(self.alpha)]), tol=self.tol,
                           max_iter=self.max_iter)
        warn_unconverged([res], _WHAT)
        self.coef_ = np.ascontiguousarray(res.coefs[:, :, 0].T, dtype=X.dtype)
        self.intercept_ = np.asarray(res.intercepts[:, 0], dtype=np.float64)
        self.dual_gap_, self.kkt_violation_ = float(res.gaps[0]), float(res.kkts[0])
        self.n_iter_ = max(int(res.n_iters[0]), 1)  # (all groups out at once: no epoch)
        return self


class MultiTaskGroupLassoPathCV(_MultiTaskPathAccess, PathCVMixin, _MultiTaskBase):
    """Sparse-group lasso for several responses with its whole path cross-validated
    (the one CV loop and λ_min / λ_1se rule; each training fold standardised on its own).

    Parameters
    ----------
    groups, group_weights, fit_intercept, standardize, tol, max_iter
        As :class:`MultiTaskGroupLassoRegressor`.
    l1_ratio : float or list of float, default=0.0
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    cv : int, cross-validation generator or iterable, default=5
    rule : {"min", "1se"}, default="min"
    n_jobs : int, default=None
        Folds in parallel, as :class:`MultiTaskElasticNetPathCV`'s.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    alphas_, mse_path_, cv_mean_, cv_se_, alpha_min_, alpha_1se_, alpha_, l1_ratio_, \
coef_path_, intercept_path_, dual_gap_path_, kkt_violation_path_, n_iter_path_, \
fold_dual_gap_, coef_, intercept_, dual_gap_, kkt_violation_, n_iter_
        As :class:`MultiTaskElasticNetPathCV` (``mse_path_`` the squared error summed
        over the responses; ``coef_path_`` of shape (n_responses, n_features, n_alphas)).
    """

    _parameter_constraints = {
        **_COMMON,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "rule": [StrOptions({"min", "1se"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _check_params = {"alphas": 8, "cv": 3}

    def __init__(self, *, groups=None, l1_ratio=0.0, group_weights=None, eps=1e-3,
                 alphas=100, cv=5, rule="min", fit_intercept=True, standardize=True,
                 tol=1e-4, max_iter=10000, n_jobs=None, random_state=None, verbose=0):
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the path on ``y`` of shape (n_samples, n_responses), choose alpha
        (and l1_ratio), refit on all the data (``groups``: sample groups for a group-aware
        ``cv`` splitter; the feature groups are the ``groups`` parameter). Returns
        ``self``."""
        validate_array_params(self)
        X, Y, sw = _validate_XY(self, X, y, sample_weight)
        l1_ratios = _check_rho(self.l1_ratio)
        # (no unpenalised rows: the certificate would not project them out)
        structure, _, arrays = _structure(self, X, allow_unpenalised=False)
        spec = _MultiTaskGroupSpec(X, Y, sw, self.fit_intercept, self.standardize,
                                   structure.groups, arrays, l1_ratios)
        _fit_mt_path_cv(self, X, Y, sw, groups, spec, spec.full_problem(), l1_ratios,
                        _alpha_max, _WHAT)
        return self
