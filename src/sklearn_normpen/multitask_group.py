"""Sparse-group lasso for several responses (groups of features; grpreg-style, glmnet has
none): the certified path function.

Objective, with ``Y`` of shape (n_samples, n_responses), sample weights ``s``, ``W`` of
shape (n_features, n_responses) whose row ``W_j`` holds feature j's K coefficients, feature
groups ``g`` with blocks ``W_g`` (|g| × K) and group weights ``c_g`` (default
``sqrt(|g|)``)::

    1/(2Σs)·Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha·(l1_ratio·Σ_j ‖W_j‖₂
                                               + (1 - l1_ratio)·Σ_g c_g ‖W_g‖_F)

``l1_ratio=1`` is the multi-task lasso (:func:`multitask_enet_path` with ``l1_ratio=1``),
``l1_ratio=0`` the multi-task group lasso (a group enters every response or none), in
between a group may enter with only some of its features (each for every response).
``l1_ratio`` mixes the row (feature) and block (group) norms as
:func:`group_lasso_path`'s mixes the l1 and group norms.
"""
import numpy as np

from ._grid import make_grid
from ._groups import parse_groups, resolve_group_weights
from ._path import compute_path, warn_unconverged
from ._solvers.multitask_group import MultiTaskGroupProblem
from ._validation import validate_array_params
from .group_classification import check_glm_groups
from .group_lasso import _check_l1_ratio
from .multitask import MultiTaskElasticNetRegressor, _validate_XY
from .penalties import MultiTaskSparseGroupLasso

__all__ = ["multitask_group_lasso_path"]


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
        Used as a dense float64 centred copy (sparse X is densified: this first solver is
        NumPy block proximal gradient without working sets, for small and medium p).
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
    from ._families import _standardized
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
    inv = np.ones(p)
    if standardize:
        X, inv = _standardized(X, sw, fit_intercept)
    problem = MultiTaskGroupProblem(X, Y, sw, fit_intercept, structure.groups)
    pen = MultiTaskSparseGroupLasso(gptr, gidx, c, float(l1_ratio))

    def alpha_max():
        _, z = problem.null_fit(pen, 0.0, max_iter)
        return pen.alpha_max(z)

    grid = make_grid(n_alphas if alphas is None else alphas, alpha_max, eps)
    res = compute_path(problem, pen, grid, tol=tol, max_iter=max_iter)
    warn_unconverged([res], "Multi-task block proximal gradient")
    coefs = (res.coefs * inv[:, None, None]).astype(X.dtype)
    out = (res.alphas, np.swapaxes(coefs, 0, 1), res.gaps)
    return out + (res.n_iters,) if return_n_iter else out
