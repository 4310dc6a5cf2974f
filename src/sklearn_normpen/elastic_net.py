"""Elastic-net / lasso regularisation paths and their K-fold cross-validation.

Objective (scikit-learn's ``ElasticNet``, glmnet's gaussian family), with sample weights
``s`` and per-feature penalty factors ``f``::

    1/(2 Σs) Σ_i s_i (y_i - x_iᵀw - b)² + alpha (l1_ratio Σ_j f_j|w_j|
                                               + (1 - l1_ratio)/2 Σ_j f_j w_j²)

The intercept ``b`` is never penalised; ``f_j = 0`` leaves feature ``j`` unpenalised.
"""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

from ._compat import Interval, StrOptions, _fit_context
from ._cv import (PathCVMixin, cross_validate_paths, full_data_paths, limited_paths,
                  plain_view, resolve_splits)
from ._dask import any_dask, fit_enet_path_cv
from ._design import Design, held_out_mse
from ._grid import make_grid
from ._path import compute_path, warn_stopped, warn_unconverged
from ._progress import with_progress
from ._relaxed import _check_gammas
from ._solvers.coordinate_descent import EnetProblem, choose_mode
from ._solvers.mode_switch import GramOnDemand, worth_trying
from ._validation import (_check_exclude, _check_limits, ENET_PATH_CONSTRAINTS,
                          validate_alphas, validate_array_params, validate_coef_init,
                          validate_path_input, validate_path_params,
                          validate_penalty_factor, validate_sample_weight, validate_Xy)
from .base import NormPenRegressor
from .datafits import Quadratic
from .penalties import ElasticNetPenalty


# ---------------------------------------------------------------------------------------
# Shared preparation
# ---------------------------------------------------------------------------------------

def _check_l1_ratios(l1_ratio, alphas):
    r = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64))
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"l1_ratio must be a float or a non-empty 1-D list; got {l1_ratio!r}.")
    if not np.all(np.isfinite(r)) or np.any((r < 0) | (r > 1)):
        raise ValueError(f"l1_ratio must be in [0, 1]; got {l1_ratio!r}.")
    if np.any(r == 0) and isinstance(alphas, (Integral, np.integer)):
        raise ValueError("l1_ratio=0 (pure ridge) has no alpha_max: pass an explicit array "
                         "of alphas.")
    return r


def _check_precompute(precompute):
    if not (precompute == "auto" or isinstance(precompute, (bool, np.bool_))):
        raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}.")


def _make_penalty(l1_ratio, pf, standardize, positive, problem, exclude=None, limits=None):
    """The elastic-net penalty on the original scale. ``standardize`` is a reparametrisation:
    fitting on columns divided by ``σ_j`` equals l1 factor ``f_j σ_j`` and l2 factor
    ``f_j σ_j²`` here; constant columns (the Design's rule) and the user's ``exclude``
    mask are excluded (coefficient 0)."""
    lower, upper = (None, None) if limits is None else limits
    if not standardize:
        return ElasticNetPenalty(l1_ratio, pf, pf, excluded=exclude, positive=positive,
                                 lower=lower, upper=upper)
    excluded = problem.constant if exclude is None else problem.constant | exclude
    s = np.where(excluded, 0.0, problem.x_std)
    return ElasticNetPenalty(l1_ratio, pf * s, pf * s * s, excluded=excluded,
                             positive=positive, lower=lower, upper=upper)


class _EnetSpec:
    """What a CV fold needs to build its problem once and the penalties sharing it
    (picklable: any joblib backend ships it)."""

    datafit = Quadratic
    dfmax = pmax = None  # glmnet's limits on every fold's path (set by ElasticNetPathCV)

    def __init__(self, design, mode, l1_ratios, pf, standardize, positive, full_stats=None,
                 exclude=None, limits=None, held_stats=None):
        self.design, self.mode, self.l1_ratios = design, mode, l1_ratios
        self.pf, self.standardize, self.positive = pf, standardize, positive
        self.full_stats = full_stats
        self.exclude, self.limits = exclude, limits
        self.held_stats = held_stats or {}  # held-out rows (bytes) -> their gram_stats

    def problem(self, train, test):
        d = self.design
        if self.mode != "gram":
            return EnetProblem(Design(d.X, d.y, d.sw, d.fit_intercept, rows=train,
                                      column_stats=True), self.mode)
        if self.full_stats is not None and len(train) + len(test) == d.n:
            # the training fold's Gram is the full one minus the held-out rows' one
            held = self.held_stats.get(np.asarray(test).tobytes())
            if held is None:
                held = d.gram_stats(rows=test)
            st = {k: self.full_stats[k] - held[k] for k in held}
        else:
            st = d.gram_stats(rows=train)
        return EnetProblem(d, "gram", stats=st, x_shift=d.x_mean, y_mean=d.y_mean,
                           stats_rows=np.asarray(train))

    def penalties(self, problem):
        return [_make_penalty(r, self.pf, self.standardize, self.positive, problem,
                              self.exclude, self.limits) for r in self.l1_ratios]

    def held_out_mse(self, test, res):
        """The held-out error of each point of a fold's path from the held-out rows'
        statistics (covariance mode under K-fold: no gather of the rows, no product with
        them), or None (the caller predicts)."""
        return held_out_mse(self.held_stats, self.design, test, res)


def _full_problem(X, y, sw, fit_intercept, precompute, splits=None, n_jobs=None,
                  single=False, finite_pending=None):
    """The full data's Design, mode, Gram statistics and problem; with ``splits`` also the
    held-out statistics of every fold (covariance mode: :meth:`Design.cv_gram_stats`, one
    read of X for all of them under K-fold splits), as the ``held_stats`` of
    :class:`_EnetSpec`. With ``n_jobs`` other than 1 the folds' statistics are formed in
    that many threads (the same numbers). ``single``: the problem of a fit at one alpha,
    where ``precompute="auto"`` starts on the residual and forms the Gram only when that
    pays (:class:`~sklearn_normpen._solvers.mode_switch.GramOnDemand`; mode "dense", no
    statistics returned). ``finite_pending``: X's finiteness is still to be checked, by
    the Design (:class:`~sklearn_normpen._design.Design`), for that caller."""
    mode = choose_mode(X, precompute)
    on_demand = single and mode == "gram" and precompute == "auto" and worth_trying(X.shape[1])
    # (a residual mode reads the column statistics at once: computed with the design)
    design = Design(X, y, sw, fit_intercept, column_stats=mode != "gram" or on_demand,
                    scale_from_gram=mode == "gram" and not on_demand and splits is None,
                    finite_pending=finite_pending)
    if on_demand:
        pb = GramOnDemand(EnetProblem(design, "dense"),
                          lambda: EnetProblem(design, "gram", stats=design.gram_stats(),
                                              x_shift=design.x_mean, y_mean=design.y_mean,
                                              stats_rows=None))
        return design, "dense", None, pb
    stats, held = None, {}
    if mode == "gram" and splits is not None:
        stats, held = design.cv_gram_stats(splits, n_jobs)
    elif mode == "gram":
        stats = design.gram_stats()
    pb = EnetProblem(design, mode, stats=stats, x_shift=design.x_mean, y_mean=design.y_mean,
                     stats_rows=None)
    return (design, mode, stats, pb) if splits is None else (design, mode, stats, pb, held)


def _alpha_max(problem, penalty, tol, max_iter):
    """``alpha_max`` from the unpenalised fit (clear errors where it does not exist)."""
    if not (penalty.l1_factor > 0).any() or penalty.excluded.all():
        if np.all(getattr(problem, "constant", False)):
            # every column constant (e.g. one sample): each alpha gives the null model,
            # standardised or not (the centred columns are zero)
            return 0.0
        raise ValueError("Every feature is unpenalised (penalty_factor all zero, or every "
                         "column constant under standardize): no alpha_max exists; pass an "
                         "explicit alphas grid.")
    if penalty.l1_ratio == 0:
        raise ValueError("alpha_max is infinite for l1_ratio=0 (pure ridge): pass an "
                         "explicit alphas grid.")
    _, z = problem.null_fit(penalty, 1e-3 * tol * problem.null_deviance, max_iter)
    return penalty.alpha_max(z)


# ---------------------------------------------------------------------------------------
# enet_path
# ---------------------------------------------------------------------------------------

@validate_path_params(ENET_PATH_CONSTRAINTS)
def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None,
              fit_intercept=False, sample_weight=None, penalty_factor=None,
              standardize=True, positive=False, precompute="auto", tol=1e-4,
              max_iter=1000, coef_init=None, return_n_iter=False, dfmax=None, pmax=None,
              exclude=None, lower_limits=None, upper_limits=None, family="gaussian",
              sparse_output=False):
    """Compute the elastic-net path with certified coordinate descent.

    Minimises, for each alpha of a decreasing grid,
    ``1/(2Σs)·Σ s_i (y_i - x_iᵀw - b)² + alpha·(l1_ratio·Σ f_j|w_j|
    + (1 - l1_ratio)/2·Σ f_j w_j²)`` (``family="gaussian"``; other families replace the
    loss, see ``family``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Dense input is used Fortran-ordered (copied only if it is not), sparse input as CSC;
        float32 stays float32.
    y : array-like of shape (n_samples,)
    l1_ratio : float in [0, 1], default=0.5
        1 is the lasso. 0 (ridge) needs an explicit ``alphas``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    n_alphas : int, default=100
        Number of grid points when ``alphas`` is None.
    alphas : array-like, default=None
        The grid (sorted decreasing). Default: ``n_alphas`` values log-spaced from
        ``alpha_max`` (where every penalised coefficient is zero) to ``eps * alpha_max``.
    fit_intercept : bool, default=False
        Fit an unpenalised intercept (as in scikit-learn's ``enet_path``, default False:
        the data are used as given).
    sample_weight : array-like of shape (n_samples,), default=None
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature factors ``f_j >= 0`` (0: unpenalised). Default all ones.
    standardize : bool, default=True
        glmnet's default: fit as if every column were divided by its weighted standard
        deviation ``σ_j``, which is the penalty
        ``alpha·(l1_ratio·Σ f_j σ_j|w_j| + (1 - l1_ratio)/2·Σ f_j σ_j² w_j²)`` on the
        original-scale coefficients (reported on the original scale; constant columns get
        0). The fit is then invariant to each feature's units; on columns already of unit
        variance it changes nothing. ``standardize=False`` gives the objective above
        exactly (scikit-learn's ``enet_path``).
    positive : bool, default=False
        Constrain coefficients to be non-negative (not with an unpenalised feature,
        ``penalty_factor`` 0: an error).
    precompute : {"auto", True, False}, default="auto"
        Covariance (Gram) mode if True, or "auto" with dense X and n_samples >= n_features;
        residual mode otherwise.
    tol : float, default=1e-4
        Each point stops when its duality gap is at most ``tol * ||y - ȳ||²_s / (2Σs)``.
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per point.
    coef_init : array-like of shape (n_features,), default=None
        Warm start of the first point (``family="mgaussian"``: of shape
        (n_responses, n_features)).
    return_n_iter : bool, default=False
    dfmax : int, default=None
        glmnet's ``dfmax``: from the 5th point on, the path ends after the first point with
        more than ``dfmax`` non-zero coefficients (that point is returned).
    pmax : int, default=None
        glmnet's ``pmax``: the path ends before the first point at which more than ``pmax``
        coefficients have ever been non-zero.
    exclude : array-like of int or of bool, default=None
        glmnet's ``exclude``: features (indices, or a boolean mask) held at zero.
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        glmnet's box limits ``lower_j <= w_j <= upper_j`` on the original-scale
        coefficients (``lower <= 0 <= upper``; ``positive=True`` is ``lower_limits=0``).
        The certificate includes them (the conjugate of penalty + box).
    family : {"gaussian", "binomial", "poisson", "mgaussian", "multinomial"}, \
            default="gaussian"
        glmnet's family: the loss above is replaced by

        - ``"binomial"``: ``1/Σs·Σ s_i [log(1 + e^{η_i}) - y_i η_i]``, ``η = Xw + b``
          (:class:`~sklearn_normpen.ElasticNetClassifier`'s). ``y`` holds two classes of
          any label type; ``y_i = 1`` for the second of ``np.unique(y)`` (the
          classifier's ``classes_[1]``);
        - ``"poisson"``: ``1/Σs·Σ s_i [e^{η_i} - y_i η_i]``, counts ``y >= 0``
          (:class:`~sklearn_normpen.ElasticNetPoissonRegressor`'s);
        - ``"mgaussian"``: ``y`` of shape (n_samples, n_responses), each feature's
          responses one group: :func:`~sklearn_normpen.multitask_enet_path` (``positive``
          and box limits are not available; ``dfmax``/``pmax`` count features with a
          non-zero row).
        - ``"multinomial"``: K >= 3 classes of any label type,
          ``1/Σs·Σ s_i [log Σ_k e^{η_ik} - η_{i,y_i}]`` with the elastic net on every
          entry of ``W`` (glmnet's ``type.multinomial="ungrouped"``;
          :class:`~sklearn_normpen.ElasticNetClassifier`'s objective; ``"grouped"``
          through that estimator). ``coefs`` has shape (n_classes, n_features,
          n_alphas), classes in ``np.unique(y)`` order; ``exclude``, ``positive``, box
          limits and ``coef_init`` are not available; ``dfmax``/``pmax`` count features
          with any non-zero class coefficient; ``tol`` and the early stop as below.

        For binomial and Poisson, ``tol`` is relative to the intercept-only deviance (half
        of it: intercept-only minus saturated loss), ``precompute`` does not apply
        (residual-mode inner solves), ``positive`` and box limits apply as for the
        Gaussian family (on the user's scale, certified with the box's conjugate), and
        the path may end early as glmnet's does (deviance ratio above 0.999, or its
        relative change below 1e-5 after 5 points): the returned alphas are then the
        points solved and a ``UserWarning`` gives the reason. The intercepts are not
        returned (use the estimators' ``intercept_path_``).
    sparse_output : bool, default=False
        Return ``coefs`` as a ``scipy.sparse.csc_array`` (column ``k``: the non-zeros of
        the ``k``-th point, in ``X``'s float dtype), as glmnet returns ``beta``; the
        dense ``(n_features, n_alphas)`` array is then never formed (800 MB for a
        100-point path over a million features). Single-response families only
        (gaussian, binomial, poisson).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The grid points solved (fewer than requested when ``dfmax``/``pmax`` or, for a
        GLM family, glmnet's deviance rules stopped the path; a ``UserWarning`` then says
        where).
    coefs : ndarray of shape (n_features, n_alphas)
        ``(n_responses, n_features, n_alphas)`` for ``"mgaussian"``, ``(n_classes,
        n_features, n_alphas)`` for ``"multinomial"``; a ``csc_array`` of shape
        (n_features, n_alphas) with ``sparse_output``.
    dual_gaps : ndarray of shape (n_alphas,)
        Final duality gap of each point, on the objective's scale (as scikit-learn).
    n_iters : ndarray of shape (n_alphas,)
        Returned when ``return_n_iter`` is True.

    Warns
    -----
    ConvergenceWarning
        Once, naming the alphas whose gap stayed above the target.
    """
    if family != "gaussian":  # binomial, poisson, mgaussian: the same engine, other loss
        args = dict(locals())
        from ._families import glm_enet_path
        return glm_enet_path(args.pop("family"), args.pop("X"), args.pop("y"), **args)
    # (X's finiteness from the Gram's diagonal on the covariance route: one read of X
    # less, ~5% of a 1e6 x 200 path)
    X, y = validate_path_input(X, y, finite_X=False)
    sw = validate_sample_weight(sample_weight, X)
    coef_init = validate_coef_init(coef_init, X.shape[1], X.dtype)
    p = X.shape[1]
    grid_arg = alphas if alphas is not None else n_alphas
    if alphas is None and not (isinstance(n_alphas, Integral) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer; got {n_alphas!r}.")
    (rho,) = _check_l1_ratios(l1_ratio, grid_arg)
    _check_scalar_tol(tol, max_iter)
    _check_precompute(precompute)
    pf = validate_penalty_factor(penalty_factor, p)
    excl = _check_exclude(exclude, p)
    limits = _check_limits(lower_limits, upper_limits, p)
    _, _, _, pb = _full_problem(X, y, sw, fit_intercept, precompute,
                                finite_pending="enet_path")
    pen = _make_penalty(rho, pf, standardize, positive, pb, excl, limits)
    grid = make_grid(grid_arg, lambda: _alpha_max(pb, pen, tol, max_iter), eps)
    w0 = None if coef_init is None else np.asarray(coef_init, dtype=np.float64)
    res = compute_path(pb, pen, grid, tol=tol, max_iter=max_iter, coef_init=w0,
                       dfmax=dfmax, pmax=pmax, sparse_output=sparse_output)
    warn_unconverged([res])
    warn_stopped(res, len(grid), "enet_path")
    if return_n_iter:
        return res.alphas, res.coefs, res.gaps, res.n_iters
    return res.alphas, res.coefs, res.gaps


def _check_scalar_tol(tol, max_iter):
    if not isinstance(tol, Real) or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite non-negative float; got {tol!r}.")
    if not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")


# ---------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------

class ElasticNetPathCV(PathCVMixin, NormPenRegressor):
    """Elastic net with its whole regularisation path cross-validated, ``cv.glmnet`` style.

    Fits the elastic-net path on every training fold over one alpha grid (per
    ``l1_ratio``), scores each alpha on the held-out rows, then picks ``alpha_min_`` (the
    largest alpha with the lowest mean CV error) or ``alpha_1se_`` (the largest alpha whose
    mean error is within one standard error of that minimum) and refits the full-data path.

    Objective: ``1/(2Σs)·Σ s_i (y_i - x_iᵀw - b)² + alpha·(l1_ratio·Σ f_j|w_j|
    + (1 - l1_ratio)/2·Σ f_j w_j²)``, the same as scikit-learn's ``ElasticNet`` (with
    ``standardize=False``; see ``standardize`` for the default).

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Mix of l1 and l2 (1: lasso). With a list, the ratio whose path reaches the lowest
        mean CV error wins. 0 requires an explicit ``alphas`` array.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        Number of grid points (log-spaced from ``alpha_max`` down to ``eps * alpha_max``;
        one grid per ``l1_ratio``, computed on all the data and shared by the folds) or
        the grid itself.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; an int gives ``KFold`` (shuffled with ``random_state`` when
        that is set). ``groups`` passed to ``fit`` reach a group-aware splitter.
    rule : {"min", "1se"}, default="min"
        Which alpha ``alpha_`` (and ``coef_``) uses.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        glmnet's default: the penalty of every coefficient weighted by its column's
        standard deviation, as :func:`~sklearn_normpen.enet_path` states; coefficients on
        the original scale. ``standardize=False`` gives the objective above exactly (scikit-learn's ``ElasticNet``).
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature factors ``f_j >= 0``; 0 leaves a feature unpenalised.
    positive : bool, default=False
        Non-negative coefficients (not with an unpenalised feature, ``penalty_factor`` 0:
        an error).
    precompute : {"auto", True, False}, default="auto"
        Covariance (Gram) mode when True, or "auto" with dense X and
        n_samples >= n_features; residual mode otherwise. In covariance mode with K-fold
        splits (held-out sets partitioning the rows) X is read once for the statistics of
        every fold, and each fold's held-out errors come from its held-out statistics
        (float64; the rows are predicted instead where a fit nearly interpolates, or for
        ``keep=True``).
    tol : float, default=1e-4
        A path point is accepted when its duality gap is at most
        ``tol * ||y - ȳ||²_s / (2Σs)`` (scikit-learn's meaning of ``tol``).
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per path point.
    n_jobs : int, default=None
        Folds run in parallel through ``sklearn.utils.parallel``: in threads unless a
        joblib backend is chosen (``joblib.parallel_config``: loky, dask, ...). With a
        single ``l1_ratio`` the full-data path runs as one more task beside the folds
        (the same fit as ``n_jobs=1``); in covariance mode the folds' held-out statistics
        are also formed in that many threads, one BLAS thread each.
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int; coordinate descent itself is cyclic and
        deterministic.
    relax : bool, default=False
        Relaxed fits (glmnet's ``relax=TRUE``): also cross-validate
        ``w(γ) = γ ŵ_alpha + (1 - γ) ŵ_alpha^{unpen}``, ``ŵ^{unpen}`` the unpenalised
        least-squares fit on the active set of ``ŵ_alpha`` (solved once per distinct
        active set), and choose (alpha, gamma) jointly with the same rule: the largest
        alpha, then the largest gamma. ``coef_`` is then the relaxed fit (the
        refit is unconstrained: ``positive`` and ``penalty_factor`` do not apply to it).
    relax_gamma : float or array-like of float in [0, 1], default=(0, 0.25, 0.5, 0.75, 1)
        The relaxation grid (with ``relax=True``; glmnet's ``gamma``, renamed because
        scikit-learn's ``gamma`` is a kernel coefficient); 1, the path itself, is always
        included.
    keep : bool, default=False
        Store the out-of-fold predictions (glmnet's ``keep=TRUE``) as
        ``oof_predictions_`` and the held-out fold of every sample as ``fold_ids_``. The
        splits must hold each sample out at most once.
    exclude : array-like of int or of bool, default=None
        glmnet's ``exclude``: features (indices, or a boolean mask) held at zero.
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        Box limits on the original-scale coefficients, as glmnet's ``lower.limits`` /
        ``upper.limits`` (``lower <= 0 <= upper``; ``positive=True`` is
        ``lower_limits=0``); certified (the conjugate of penalty + box).
    dfmax, pmax : int, default=None
        glmnet's ``dfmax`` / ``pmax``, as ``cv.glmnet`` applies them: the full-data path
        stops as in :func:`enet_path` (after the first point, from the 5th on, with more
        than ``dfmax`` non-zero coefficients; before the first at which more than ``pmax``
        have ever been non-zero), its alphas are the grid of every fold, and a fold whose
        own path stops earlier keeps its last fit for the remaining alphas (glmnet's
        predictions there). ``alphas_`` then has fewer points than asked and
        ``path_stop_reason_`` says why; with a list of ``l1_ratio`` every grid is cut to the
        shortest path. (glmnet 4.1-6 applies ``dfmax`` only to its own lambda sequence, so
        with a user-given one ``cv.glmnet`` ignores ``dfmax``; we apply it to every grid.)
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``: 0 silent; 1 one
        line per finished fold and per full-data path (INFO); 2 also every 10th point of each path
        (DEBUG). Shown on stderr unless the application configured logging (its handlers
        are then used); with ``n_jobs > 1`` folds are reported as they finish.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        Decreasing grid(s).
    path_stop_reason_ : str or None
        ``"dfmax"`` or ``"pmax"`` when that limit stopped the full-data path (``alphas_``
        then ends at its last point), else None.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        Held-out (weighted) mean squared error.
    cv_mean_, cv_se_ : ndarray of shape mse_path_.shape[:-1]
        Fold-weighted mean and glmnet standard error of ``mse_path_``.
    alpha_min_, alpha_1se_, alpha_ : float
    l1_ratio_ : float
    rule : str
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
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_, kkt_violation_ : float
        Duality gap and KKT violation of the full-data fit at ``alpha_``.
    n_iter_ : int
        Epochs spent on the full-data path up to and including ``alpha_`` (warm starts
        make a single point's count meaningless on its own).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` has string column names.
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

    Notes
    -----
    CV statistics and the rule are :func:`sklearn_normpen.selection.select_on_paths`:
    fold errors weighted by fold weight, standard error as ``cv.glmnet``.
    In covariance mode the Gram of each training fold is the full Gram minus the Gram of
    its held-out rows (centring by a rank-one correction).
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
        "positive": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
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

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, cv=5, rule="min",
                 fit_intercept=True, standardize=True, penalty_factor=None, positive=False,
                 precompute="auto", tol=1e-4, max_iter=1000, n_jobs=None, random_state=None,
                 relax=False, relax_gamma=(0.0, 0.25, 0.5, 0.75, 1.0), keep=False,
                 exclude=None, lower_limits=None, upper_limits=None, dfmax=None, pmax=None,
                 verbose=0):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.precompute = precompute
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
        """Cross-validate the path, choose alpha (and l1_ratio), refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the loss, of the fold errors and of the fold means.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
        """
        limited = self.dfmax is not None or self.pmax is not None
        if any_dask(X, y, sample_weight, self.cv):  # sufficient statistics on the cluster
            return fit_enet_path_cv(self, X, y, sample_weight, groups)
        validate_array_params(self)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        n, p = X.shape
        l1_ratios = _check_l1_ratios(self.l1_ratio, self.alphas)
        if not isinstance(self.alphas, (Integral, np.integer)):
            user_grid = validate_alphas(self.alphas)
        pf = validate_penalty_factor(self.penalty_factor, p)
        splits = resolve_splits(self.cv, X, y, groups, self.random_state)
        design, mode, stats, pb, held = _full_problem(X, y, sw, self.fit_intercept,
                                                      self.precompute, splits, self.n_jobs)
        spec = _EnetSpec(design, mode, l1_ratios, pf, self.standardize, self.positive,
                         full_stats=stats, exclude=_check_exclude(self.exclude, p),
                         limits=_check_limits(self.lower_limits, self.upper_limits, p),
                         held_stats=held)
        pens = spec.penalties(pb)
        if isinstance(self.alphas, (Integral, np.integer)):
            grids = np.array([make_grid(int(self.alphas),
                                        lambda: _alpha_max(pb, pen, self.tol, self.max_iter),
                                        self.eps) for pen in pens])
        else:
            grids = np.tile(user_grid, (len(l1_ratios), 1))
        paths = None
        if limited:  # the full-data paths first: where they stop, the folds' grid ends
            spec.dfmax, spec.pmax = self.dfmax, self.pmax
            grids, paths = limited_paths(pb, pens, grids, tol=self.tol,
                                         max_iter=self.max_iter, dfmax=self.dfmax,
                                         pmax=self.pmax)

        gammas = _check_gammas(self.relax_gamma) if self.relax else None
        Xr = X.tocsr() if sp.issparse(X) else X  # row slicing for the held-out rows
        oof, ids = self._cv_oof(splits, X.shape[0], grids.shape[0], grids.shape[1],
                                np.float64)
        # one path to solve after the CV: beside the folds when they run in parallel
        full = (pb, pens[0]) if paths is None and len(pens) == 1 else None
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
            paths = full_data_paths(pb, pens, grids, best, tol=self.tol,
                                    max_iter=self.max_iter)
        self.path_stop_reason_ = paths[best].stop_reason
        warn_unconverged(fold_results + paths)
        self._set_cv_results(sel=sel, grids=grids, errors=errors, splits=splits,
                             l1_ratios=l1_ratios, scalar=np.ndim(self.l1_ratio) == 0,
                             path=paths, fold_results=fold_results)
        self._set_dev_ratio(paths)
        self._set_oof(oof, ids, np.ndim(self.l1_ratio) == 0)
        if gammas is not None:
            self._set_relaxed_results(sel=rel_sel, errors=rel_errors, gammas=gammas,
                                      scalar=np.ndim(self.l1_ratio) == 0, problem=pb,
                                      path=paths[rel_sel["best_path"]], l1_ratios=l1_ratios)
        return self
