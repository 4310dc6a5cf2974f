"""Multi-response Gaussian elastic net (glmnet's ``family="mgaussian"``, scikit-learn's
``MultiTaskElasticNet``), one alpha or a cross-validated path.

Objective, with ``Y`` of shape (n_samples, n_responses), sample weights ``s``, penalty
factors ``f`` and ``W_j`` the row of ``W`` (n_features, n_responses) holding feature j's K
response coefficients (one group: a feature enters or leaves every response together)::

    1/(2Σs)·Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha·Σ_j f_j (l1_ratio‖W_j‖₂
                                                   + (1 - l1_ratio)/2·‖W_j‖₂²)

The intercepts ``b`` are unpenalised; with ``f = 1`` and ``standardize=False`` this is
scikit-learn's ``MultiTaskElasticNet(alpha, l1_ratio)`` and glmnet's
``glmnet(family="mgaussian", lambda=alpha, alpha=l1_ratio, standardize=FALSE)`` on the
responses as given (glmnet's ``standardize.response=FALSE`` default: responses are never
scaled). Families are dedicated classes (as ``ElasticNetClassifier`` for the binomial and
``ElasticNetPoissonRegressor`` for the Poisson family), not a ``family`` parameter:
``family="mgaussian"`` is :class:`MultiTaskElasticNetRegressor` /
:class:`MultiTaskElasticNetPathCV` / :func:`multitask_enet_path`.
"""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, _fit_context
from ._cv import (PathCVMixin, cross_validate_paths, full_data_paths, limited_paths,
                  resolve_splits)
from ._grid import make_grid
from ._threads import single_blas_thread
from ._path import compute_path, warn_points, warn_stopped, warn_unconverged
from ._progress import with_progress
from ._solvers.multitask import MultiTaskProblem
from ._validation import (_check_exclude, validate_alphas, validate_array_params,
                          validate_coef_init, validate_penalty_factor,
                          validate_sample_weight, validate_X_predict, validate_Xy)
from .base import NormPenRegressor
from .datafits import Quadratic, weighted_mean
from .elastic_net import _check_l1_ratios
from .penalties import MultiTaskElasticNetPenalty

__all__ = ["MultiTaskElasticNetRegressor", "MultiTaskElasticNetPathCV",
           "multitask_enet_path"]


# ---------------------------------------------------------------------------------------
# Shared preparation
# ---------------------------------------------------------------------------------------

def _validate_XY(est, X, y, sample_weight):
    X, Y = validate_Xy(est, X, y, multi_output=True)
    if Y.ndim != 2:
        raise ValueError("y must be 2-D of shape (n_samples, n_responses) for the "
                         "multi-response family; got a 1-D y. Use ElasticNetRegressor / "
                         "ElasticNetPathCV for one response, or pass y.reshape(-1, 1).")
    return X, Y, validate_sample_weight(sample_weight, X)


def _make_penalty(l1_ratio, pf, standardize, problem, exclude=None):
    """As :func:`sklearn_normpen.elastic_net._make_penalty`: ``standardize`` is the
    reparametrisation ``a_j = f_j σ_j``, ``b_j = f_j σ_j²``; constant columns and the
    user's ``exclude`` mask are excluded (rows held at zero)."""
    if not standardize:
        return MultiTaskElasticNetPenalty(l1_ratio, pf, pf, excluded=exclude)
    d = problem.design
    excluded = d.constant if exclude is None else d.constant | exclude
    s = np.where(excluded, 0.0, d.x_std)
    return MultiTaskElasticNetPenalty(l1_ratio, pf * s, pf * s * s, excluded=excluded)


class _ActiveRows:
    """``coef (p, K) -> mask of the features with a non-zero row``: what dfmax / pmax
    count for the multi-response family (picklable for any joblib backend)."""

    def __call__(self, coef):
        return np.any(coef != 0, axis=1)


def _check_limit_counts(dfmax, pmax):
    for name, v in (("dfmax", dfmax), ("pmax", pmax)):
        if v is not None and not (isinstance(v, (Integral, np.integer)) and v >= 1):
            raise ValueError(f"{name} must be a positive integer or None; got {v!r}.")


def _alpha_max(problem, penalty, tol, max_iter):
    if not ((penalty.l1_factor > 0) & ~penalty.excluded).any():
        if np.all(problem.design.constant):
            return 0.0  # every column constant (e.g. one sample): the null model throughout
        raise ValueError("Every feature is unpenalised (penalty_factor all zero, or every "
                         "column constant under standardize): no alpha_max exists; pass an "
                         "explicit alphas grid.")
    if penalty.l1_ratio == 0:
        raise ValueError("alpha_max is infinite for l1_ratio=0 (pure ridge): pass an "
                         "explicit array of alphas.")
    _, z = problem.null_fit(penalty, 1e-3 * tol * problem.null_deviance, max_iter)
    return penalty.alpha_max(z)


def multitask_mse(Y, pred, sample_weight=None):
    """Held-out error of the multi-response fit as ``cv.glmnet(family="mgaussian")``
    scores it: the squared error *summed over the responses*, averaged over the rows
    (weighted). ``pred`` of shape (n, n_responses) or (n, n_responses, n_candidates)
    gives a float or one value per candidate. (scikit-learn's ``MultiTaskElasticNetCV``
    averages over the responses instead: its ``mse_path_`` is this divided by
    n_responses.)"""
    Y = np.asarray(Y, dtype=np.float64)
    r = np.asarray(pred, dtype=np.float64) - (Y[..., None] if np.ndim(pred) == 3 else Y)
    return weighted_mean(np.sum(r * r, axis=1), sample_weight)


class _MultiTaskSpec:
    """A CV fold's problem and the penalties sharing it (picklable)."""

    datafit = Quadratic
    dfmax = pmax = active = None  # glmnet's limits on every fold's path

    def __init__(self, X, Y, sw, fit_intercept, l1_ratios, pf, standardize, exclude=None):
        self.X, self.Y, self.sw, self.fit_intercept = X, Y, sw, fit_intercept
        self.l1_ratios, self.pf, self.standardize = l1_ratios, pf, standardize
        self.exclude = exclude

    def problem(self, train, test):
        return MultiTaskProblem(self.X, self.Y, self.sw, self.fit_intercept, rows=train)

    def penalties(self, problem):
        return [_make_penalty(r, self.pf, self.standardize, problem, self.exclude)
                for r in self.l1_ratios]

    @staticmethod
    def predict(X_te, res):
        """(n_test, n_responses, n_alphas) from a path's (p, K, n_alphas) coefficients."""
        c = res.coefs
        flat = safe_sparse_dot(X_te, c.reshape(c.shape[0], -1), dense_output=True)
        return np.asarray(flat).reshape(X_te.shape[0], *c.shape[1:]) + res.intercepts

    measure = staticmethod(multitask_mse)


# ---------------------------------------------------------------------------------------
# The path function
# ---------------------------------------------------------------------------------------

def multitask_enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None,
                        fit_intercept=False, sample_weight=None, penalty_factor=None,
                        standardize=True, tol=1e-4, max_iter=1000, return_n_iter=False,
                        dfmax=None, pmax=None, exclude=None, coef_init=None):
    """Multi-response elastic-net path (``family="mgaussian"``), certified at every point.

    Minimises, for each alpha of a decreasing grid, the objective of the module docstring.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_responses)
    l1_ratio : float in [0, 1], default=0.5
        0 (ridge) needs an explicit ``alphas``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    n_alphas : int, default=100
    alphas : array-like, default=None
        The grid (sorted decreasing); default log-spaced from ``alpha_max``.
    fit_intercept : bool, default=False
        As :func:`enet_path` (scikit-learn's ``enet_path`` has no intercept). With an
        intercept, each point's intercepts are ``ȳ - coefs[:, :, k] @ x̄`` (weighted
        means).
    sample_weight : array-like of shape (n_samples,), default=None
    penalty_factor : array-like of shape (n_features,), default=None
    standardize : bool, default=True
        As :class:`MultiTaskElasticNetRegressor`; ``False`` gives the objective above.
    tol : float, default=1e-4
        A point is accepted when its duality gap is at most ``tol·‖Y - Ȳ‖²_S/(2Σs)``.
    max_iter : int, default=1000
    return_n_iter : bool, default=False
    dfmax, pmax : int, default=None
        glmnet's limits counted in features (a feature is in when its row of K
        coefficients is non-zero), as :func:`enet_path`'s: from the 5th point on the path
        ends after the first point with more than ``dfmax`` features (kept), and before
        the first at which more than ``pmax`` have ever been non-zero (a ``UserWarning``
        says where).
    exclude : array-like of int or of bool, default=None
        glmnet's ``exclude``: features (indices, or a boolean mask) held at zero for every
        response.
    coef_init : array-like of shape (n_responses, n_features), default=None
        Warm start of the first point (excluded features start at zero).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The points solved (fewer when ``dfmax``/``pmax`` stopped the path).
    coefs : ndarray of shape (n_responses, n_features, n_alphas)
        As scikit-learn's multi-output ``enet_path``.
    dual_gaps : ndarray of shape (n_alphas,)
        Certified duality gap of each point (objective scale).
    n_iters : ndarray of shape (n_alphas,)
        Returned when ``return_n_iter`` is True.
    """
    est = MultiTaskElasticNetRegressor(l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                       penalty_factor=penalty_factor,
                                       standardize=standardize, tol=tol, max_iter=max_iter)
    validate_array_params(est)
    X, Y, sw = _validate_XY(est, X, y, sample_weight)
    l1 = float(_check_l1_ratios(l1_ratio, n_alphas if alphas is None else alphas)[0])
    pf = validate_penalty_factor(penalty_factor, X.shape[1])
    excl = _check_exclude(exclude, X.shape[1])
    _check_limit_counts(dfmax, pmax)
    coef_init = validate_coef_init(coef_init, X.shape[1], X.dtype, n_outputs=Y.shape[1])
    problem = MultiTaskProblem(X, Y, sw, fit_intercept)
    pen = _make_penalty(l1, pf, standardize, problem, excl)
    grid = make_grid(int(n_alphas) if alphas is None else alphas,
                     lambda: _alpha_max(problem, pen, tol, max_iter), eps)
    w0 = None if coef_init is None else np.where(pen.excluded[:, None], 0.0, coef_init.T)
    res = compute_path(problem, pen, grid, tol=tol, max_iter=max_iter, dfmax=dfmax,
                       pmax=pmax, active=_ActiveRows(), coef_init=w0)
    warn_unconverged([res], "Multi-task block coordinate descent")
    warn_stopped(res, len(grid), "multitask_enet_path")
    out = (res.alphas, np.swapaxes(res.coefs, 0, 1), res.gaps)
    return out + (res.n_iters,) if return_n_iter else out


def _fit_mt_path_cv(est, X, Y, sw, groups, spec, pb, l1_ratios, alpha_max, what):
    """The multi-response path + K-fold CV fit (every penalty): grids from
    ``alpha_max(problem, penalty, tol, max_iter)``, dfmax / pmax (when ``est`` has them)
    on the full-data paths first, the one CV loop and selection rule, the results in
    scikit-learn's multi-output layout."""
    pens = spec.penalties(pb)
    if isinstance(est.alphas, (Integral, np.integer)):
        grids = np.array([make_grid(int(est.alphas),
                                    lambda: alpha_max(pb, pen, est.tol, est.max_iter),
                                    est.eps) for pen in pens])
    else:
        grids = np.tile(validate_alphas(est.alphas), (len(l1_ratios), 1))
    paths = None
    if getattr(est, "dfmax", None) is not None or getattr(est, "pmax", None) is not None:
        # the full-data paths first: where they stop, the folds' grid ends (cv.glmnet)
        spec.dfmax, spec.pmax, spec.active = est.dfmax, est.pmax, _ActiveRows()
        grids, paths = limited_paths(pb, pens, grids, tol=est.tol,
                                     max_iter=est.max_iter, dfmax=est.dfmax,
                                     pmax=est.pmax, active=spec.active)
    splits = resolve_splits(est.cv, X, Y, groups, est.random_state)
    Xr = X.tocsr() if sp.issparse(X) else X  # row slicing for the held-out rows
    # one path to solve after the CV: beside the folds when they run in parallel
    full = (pb, pens[0]) if paths is None and len(pens) == 1 else None
    errors, fold_results, side = cross_validate_paths(
        spec, Xr, Y, sw, grids, splits, tol=est.tol, max_iter=est.max_iter,
        n_jobs=est.n_jobs, full=full)
    paths = side if side is not None else paths
    sel = est._cv_select(errors, splits, sw, grids)
    if paths is None:
        paths = full_data_paths(pb, pens, grids, sel["best_path"], tol=est.tol,
                                max_iter=est.max_iter)
    est.path_stop_reason_ = paths[sel["best_path"]].stop_reason
    warn_unconverged(fold_results + paths, what)
    scalar = np.ndim(est.l1_ratio) == 0
    est._set_cv_results(sel=sel, grids=grids, errors=errors, splits=splits,
                        l1_ratios=l1_ratios, scalar=scalar, path=paths,
                        fold_results=fold_results)
    est._set_dev_ratio(paths)
    # scikit-learn's multi-output layout: responses first
    est.coef_ = np.ascontiguousarray(est.coef_.T)
    est.coef_path_ = np.swapaxes(est.coef_path_, -3, -2)
    est.intercept_ = np.asarray(est.intercept_, dtype=np.float64)


# ---------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------

class _MultiTaskBase(NormPenRegressor):
    """``predict(X) = X @ coef_.T + intercept_`` of shape (n_samples, n_responses)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False  # as scikit-learn's MultiTask* estimators
        return tags


class _MultiTaskPathAccess:
    """``coef_at`` / ``intercept_at`` / ``predict_at`` on a multi-response path of shape
    (n_responses, n_features, n_alphas) (the multi-response ``*PathCV`` estimators)."""

    def coef_at(self, alpha="min", l1_ratio=None):
        """Coefficients of the full-data path at ``alpha`` (as
        :meth:`ElasticNetPathCV.coef_at`: ``"min"``, ``"1se"``, a float or an array,
        linear interpolation between grid points).

        Returns
        -------
        coef : ndarray of shape (n_responses, n_features) or (n_responses, n_features,
            n_requested)
        """
        check_is_fitted(self, "coef_path_")
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        cp = self._path_arrays(row)[1]
        out = self._mix(cp[..., left], cp[..., right], frac)
        return out[..., 0] if scalar else out

    def intercept_at(self, alpha="min", l1_ratio=None):
        """Intercepts at ``alpha``: shape (n_responses,) or (n_responses, n_requested)."""
        check_is_fitted(self, "coef_path_")
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        ip = np.asarray(self._path_arrays(row)[2], dtype=np.float64)
        out = frac * ip[:, left] + (1 - frac) * ip[:, right]
        return out[:, 0] if scalar else out

    def predict_at(self, X, alpha="min", l1_ratio=None):
        """Predictions at ``alpha``: shape (n_samples, n_responses) or (n_samples,
        n_responses, n_requested)."""
        check_is_fitted(self, "coef_path_")
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_at(alpha, l1_ratio), dtype=X.dtype)
        b = np.asarray(self.intercept_at(alpha, l1_ratio), dtype=X.dtype)
        if coef.ndim == 2:
            return safe_sparse_dot(X, coef.T, dense_output=True) + b
        return np.stack([safe_sparse_dot(X, coef[..., m].T, dense_output=True) + b[:, m]
                         for m in range(coef.shape[-1])], axis=-1)


class MultiTaskElasticNetRegressor(_MultiTaskBase):
    """Multi-response elastic net at one alpha (glmnet's ``mgaussian`` family), fitted to a
    certified duality gap.

    Minimises, with ``W`` of shape (n_features, n_responses) (``coef_`` is its transpose),
    sample weights ``s`` and penalty factors ``f``::

        1/(2Σs)·Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha·Σ_j f_j (l1_ratio‖W_j‖₂
                                                       + (1 - l1_ratio)/2·‖W_j‖₂²)

    so that each feature is selected for every response or for none. With ``f = 1`` and
    ``standardize=False`` this is scikit-learn's ``MultiTaskElasticNet(alpha, l1_ratio)``;
    the extras are penalty factors, sample weights, sparse ``X``, ``standardize`` and a
    stopping rule on the duality gap (a bound on the distance to the optimum, float64).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
    l1_ratio : float in [0, 1], default=0.5
        Mix of the group (row-norm) and ridge parts; 1 is the multi-task lasso.
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per response.
    standardize : bool, default=True
        glmnet's default: penalise as if every column of X were divided by its weighted
        standard deviation ``σ_j`` (the penalty weights of feature ``j`` become ``f_j σ_j``
        and ``f_j σ_j²``); coefficients are reported on the original scale and constant
        columns get zero coefficients, and the fit is invariant to each feature's units.
        ``standardize=False`` gives the objective above (scikit-learn's) exactly. The
        responses are never scaled (glmnet's ``standardize.response=FALSE``).
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature factors ``f_j >= 0`` multiplying both penalty terms; 0 leaves a feature
        unpenalised (used as given; glmnet rescales its ``penalty.factor`` to sum to the
        number of features).
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol·‖Y - Ȳ‖²_S/(2Σs)`` (the null deviance
        summed over the responses).
    max_iter : int, default=1000
        Maximum number of block coordinate-descent epochs.
    exclude : array-like of int or of bool, default=None
        glmnet's ``exclude``: features (indices, or a boolean mask) held at zero for every
        response.

    Attributes
    ----------
    coef_ : ndarray of shape (n_responses, n_features)
        As scikit-learn's ``MultiTaskElasticNet``; ``X``'s float dtype.
    intercept_ : ndarray of shape (n_responses,)
    dual_gap_ : float
        Certified duality gap (absolute, objective scale).
    kkt_violation_ : float
        Largest KKT violation over the features (row norms; 0 at the optimum).
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    MultiTaskElasticNetPathCV : the whole path with alpha chosen by K-fold CV.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_normpen import MultiTaskElasticNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 4))
    >>> Y = X @ [[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5], [0.0, 0.0]]
    >>> reg = MultiTaskElasticNetRegressor(alpha=0.05, l1_ratio=1.0).fit(X, Y)
    >>> reg.coef_.shape
    (2, 4)
    >>> bool(np.all(reg.coef_[:, [1, 3]] == 0))
    True
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "penalty_factor": ["array-like", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "exclude": ["array-like", None],
    }

    def __init__(self, *, alpha=1.0, l1_ratio=0.5, fit_intercept=True, standardize=True,
                 penalty_factor=None, tol=1e-4, max_iter=1000, exclude=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.tol = tol
        self.max_iter = max_iter
        self.exclude = exclude

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse (CSC, never densified); float32 stays float32.
        y : array-like of shape (n_samples, n_responses)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, Y, sw = _validate_XY(self, X, y, sample_weight)
        pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
        problem = MultiTaskProblem(X, Y, sw, self.fit_intercept)
        pen = _make_penalty(self.l1_ratio, pf, self.standardize, problem,
                            _check_exclude(self.exclude, X.shape[1]))
        tol_abs = self.tol * problem.null_deviance
        with single_blas_thread():  # (the null fit and the solve, as _path.compute_path)
            w = problem.null_fit(pen, 1e-3 * tol_abs, self.max_iter)[0]
            cert, n_iter = problem.solve(w, pen, float(self.alpha), tol_abs, self.max_iter)
        if cert.gap > tol_abs:
            warn_points([self.alpha], [cert.gap], tol_abs, type(self).__name__)
        coef, intercept = problem.to_original(w)
        self.coef_ = np.array(coef.T)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.dual_gap_ = float(cert.gap)
        self.kkt_violation_ = float(cert.kkt)
        self.n_iter_ = int(n_iter)
        return self


class MultiTaskElasticNetPathCV(_MultiTaskPathAccess, PathCVMixin, _MultiTaskBase):
    """Multi-response elastic net with its whole path cross-validated,
    ``cv.glmnet(family="mgaussian")`` style.

    Fits the path of :class:`MultiTaskElasticNetRegressor`'s objective on every training
    fold over one alpha grid (per ``l1_ratio``), scores each alpha on the held-out rows by
    the squared error summed over the responses (cv.glmnet's mgaussian ``mse``), picks
    ``alpha_min_`` or ``alpha_1se_`` by the package's one rule and refits the full-data
    path. The grid starts at ``alpha_max = max_j ‖X_jᵀ S (Y - Ȳ)‖₂ / (Σs·l1_ratio·f_j)``
    (unpenalised features fitted first), where every penalised row is zero.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        With a list, the ratio whose path reaches the lowest mean CV error wins. 0
        requires an explicit ``alphas`` array.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        Number of grid points, or the grid itself.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; an int gives ``KFold`` (shuffled with ``random_state`` when
        that is set).
    rule : {"min", "1se"}, default="min"
        Which alpha ``alpha_`` (and ``coef_``) uses.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        As :class:`MultiTaskElasticNetRegressor` (X only; responses never scaled).
    penalty_factor : array-like of shape (n_features,), default=None
    tol : float, default=1e-4
        Relative to the null deviance summed over the responses.
    max_iter : int, default=1000
    n_jobs : int, default=None
        Folds run in parallel through ``sklearn.utils.parallel``: in threads unless a
        joblib backend is chosen (``joblib.parallel_config``: loky, dask, ...). With a
        single ``l1_ratio`` the full-data path runs as one more task beside the folds
        (the same fit as ``n_jobs=1``).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``, as
        :class:`ElasticNetPathCV`'s (0 silent; 1 a line per finished fold and full-data
        path; 2 also path segments).
    exclude : array-like of int or of bool, default=None
        As :class:`MultiTaskElasticNetRegressor`.
    dfmax, pmax : int, default=None
        glmnet's ``dfmax`` / ``pmax`` as ``cv.glmnet`` applies them (see
        :class:`ElasticNetPathCV`), counting features with a non-zero row: the full-data
        path stops on them, its alphas are the folds' grid, and a fold whose path stops
        earlier keeps its last fit.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    path_stop_reason_ : str or None
        ``"dfmax"`` or ``"pmax"`` when that limit stopped the full-data path (``alphas_``
        then ends at its last point), else None.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out squared error summed over the responses, weighted mean over each fold's
        rows (scikit-learn's ``MultiTaskElasticNetCV.mse_path_`` times n_responses).
    cv_mean_, cv_se_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    alpha_min_, alpha_1se_, alpha_, l1_ratio_ : float
    coef_path_ : ndarray of shape (n_responses, n_features, n_alphas)
        (a leading ``l1_ratio`` axis when several were cross-validated.)
    intercept_path_ : ndarray of shape (n_responses, n_alphas)
    dual_gap_path_, kkt_violation_path_, n_iter_path_, dev_ratio_path_ : ndarray
    fold_dual_gap_ : ndarray of shape (n_folds,)
    coef_ : ndarray of shape (n_responses, n_features)
    intercept_ : ndarray of shape (n_responses,)
    dual_gap_, kkt_violation_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    _parameter_constraints = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "rule": [StrOptions({"min", "1se"})],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "penalty_factor": ["array-like", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "exclude": ["array-like", None],
        "dfmax": [Interval(Integral, 1, None, closed="left"), None],
        "pmax": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, cv=5, rule="min",
                 fit_intercept=True, standardize=True, penalty_factor=None, tol=1e-4,
                 max_iter=1000, n_jobs=None, random_state=None, verbose=0, exclude=None,
                 dfmax=None, pmax=None):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.exclude = exclude
        self.dfmax = dfmax
        self.pmax = pmax

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the path, choose alpha (and l1_ratio), refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_responses)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the loss, of the fold errors and of the fold means.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, Y, sw = _validate_XY(self, X, y, sample_weight)
        l1_ratios = _check_l1_ratios(self.l1_ratio, self.alphas)
        pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
        pb = MultiTaskProblem(X, Y, sw, self.fit_intercept)
        spec = _MultiTaskSpec(X, Y, sw, self.fit_intercept, l1_ratios, pf, self.standardize,
                              _check_exclude(self.exclude, X.shape[1]))
        _fit_mt_path_cv(self, X, Y, sw, groups, spec, pb, l1_ratios, _alpha_max,
                        "Multi-task block coordinate descent")
        return self
