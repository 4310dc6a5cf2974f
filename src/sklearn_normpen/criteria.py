"""Penalty chosen by an information criterion (AIC, BIC, extended BIC) on the full-data
path: one path, no refits (the ``LassoLarsIC`` of the elastic net and the group lasso).

The degrees of freedom and the criteria are those of :mod:`sklearn_normpen.selection`
(DESIGN.md, "Selection beyond CV"); the path is the one engine's
:func:`~sklearn_normpen._path.compute_path` on the same problem the path-CV estimators use.
"""
import time
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, StrOptions, _fit_context
from ._design import centred_gram, column_scale
from ._grid import grid_size, make_grid
from ._path import compute_path, warn_unconverged
from ._progress import log_path, with_progress
from ._threads import single_blas_thread
from ._validation import (validate_alphas, validate_array_params, validate_penalty_factor,
                          validate_sample_weight, validate_Xy)
from .base import NormPenRegressor
from .elastic_net import _alpha_max, _check_l1_ratios, _full_problem, _make_penalty
from .group_lasso import (_GROUPS_CONSTRAINT, _check_l1_ratio, _group_norms, _prepare)
from .group_lasso import _alpha_max as _group_alpha_max
from .selection import (default_noise_variance, df_elastic_net, df_group_lasso, df_lasso,
                        effective_n, information_criterion, path_rss)

__all__ = ["ElasticNetIC", "GroupLassoIC"]

_IC_CONSTRAINTS = {
    "criterion": [StrOptions({"aic", "bic", "ebic"})],
    "noise_variance": [Interval(Real, 0, None, closed="neither"), StrOptions({"profile"}),
                       None],
    "ebic_gamma": [Interval(Real, 0, 1, closed="both")],
    "eps": [Interval(Real, 0, 1, closed="neither")],
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "fit_intercept": ["boolean"],
    "standardize": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "verbose": ["verbose"],
}

_IC_DOC = """
    criterion : {"aic", "bic", "ebic"}, default="aic"
        Lower is better; the smallest value on the grid wins (ties: the largest alpha).
    noise_variance : float, "profile" or None, default=None
        ``σ²`` of the criteria ``n log(2πσ²) + RSS/σ² + k·df`` (scikit-learn's
        ``LassoLarsIC``). None: for "aic" and "bic", estimated by least squares,
        ``RSS_OLS / (n - p - fit_intercept)`` (an error when ``n <= p + fit_intercept``;
        when least squares fits y exactly, a UserWarning and the profile likelihood); for
        "ebic", the profile likelihood ``n log(RSS/n) + k·df`` (Chen & Chen's
        definition, made for ``p > n``). "profile": the profile likelihood for any
        criterion.
    ebic_gamma : float in [0, 1], default=0.5
        ``γ`` of ``EBIC = BIC + 2γ log C(p, |A|)`` (``|A|`` the number of selected
        features); 0 is the BIC."""


def _frequency_weights(sample_weight, X):
    """The weights as given (float64): the criteria read them as frequencies (``n = Σs``);
    the solvers get the validated, rescaled ones (their objective is scale invariant)."""
    if sample_weight is None:
        return None
    sw = validate_sample_weight(sample_weight, X, rescale=False)
    return np.asarray(sw, dtype=np.float64)


def _gram_rss(problem, coefs, X, fw):
    """``RSS`` of every path point from the covariance-mode Gram, ``yᵀSy - 2wᵀq + wᵀQw``
    on the centred data (no pass over the rows), rescaled from the solver's weights to
    the frequency weights; None outside covariance mode or where the subtraction would
    cancel (a point fitting to within 1e-6 of ``yᵀSy``: then the rows are used).
    ``problem``: a covariance-mode problem or the tuple ``(Q, q, yᵀSy, Σs)``."""
    if isinstance(problem, tuple):
        Q, q, yy, N = problem
    elif problem is None or getattr(problem, "mode", None) != "gram":
        return None
    else:
        Q, q, yy, N = problem.Q64, problem.q64, problem.yy, problem.N
    W = np.asarray(coefs, dtype=np.float64)
    rss = yy - 2 * (q @ W) + np.einsum("jk,jk->k", W, Q @ W)
    if not np.all(rss > 1e-6 * yy):
        return None
    total = X.shape[0] if fw is None else float(np.sum(fw))
    return rss * (total / N)


class _ICMixin:
    """Criterion along a fitted path, the choice and the attributes (one set of names)."""

    # scikit-learn's own suite runs LassoLarsIC with noise_variance=1.0 for the same reason
    _check_params = {"noise_variance": "profile"}

    @property
    def _expected_failed_checks(self):
        if self.noise_variance is not None:
            return {}
        reason = ("its data have n_samples <= n_features + 1, where the default "
                  "noise_variance=None (least-squares estimate, as LassoLarsIC) raises by "
                  "design; the instance with noise_variance='profile' runs this check")
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}

    def _noise_variance(self, X, y, sw, gram=None):
        nv = self.noise_variance
        if nv is None:
            if self.criterion == "ebic":
                return None
            return default_noise_variance(X, y, sw, self.fit_intercept, gram=gram)
        return None if nv == "profile" else float(nv)

    def _choose(self, X, y, sw, path, df, model_size, sigma2, problem=None):
        rss = _gram_rss(problem, path.coefs, X, sw)
        if rss is None:
            rss = path_rss(X, y, path.coefs, path.intercepts, sw)
        crit = information_criterion(rss, df, effective_n(X, sw), criterion=self.criterion,
                                     noise_variance=sigma2, n_features=X.shape[1],
                                     model_size=model_size, ebic_gamma=self.ebic_gamma)
        i = int(np.argmin(np.where(np.isfinite(crit), crit, np.inf)))  # first = largest alpha
        self.noise_variance_ = sigma2
        self.alphas_ = path.alphas
        self.criterion_path_ = crit
        self.df_path_ = np.asarray(df, dtype=np.float64)
        self.rss_path_ = rss
        self.coef_path_ = path.coefs
        self.intercept_path_ = path.intercepts
        self.dual_gap_path_ = path.gaps
        self.kkt_violation_path_ = path.kkts
        self.n_iter_path_ = path.n_iters
        self.alpha_ = float(path.alphas[i])
        self.coef_ = path.coefs[:, i].copy()
        self.intercept_ = float(path.intercepts[i]) if self.fit_intercept else 0.0
        self.df_ = float(self.df_path_[i])
        self.dual_gap_ = float(path.gaps[i])
        self.kkt_violation_ = float(path.kkts[i])
        self.n_iter_ = int(path.n_iters[: i + 1].sum())
        return i


class ElasticNetIC(_ICMixin, NormPenRegressor):
    """Elastic net / lasso with alpha chosen by AIC, BIC or extended BIC on one path.

    Fits the certified elastic-net path on all the data (no refits: the cost is one path
    plus the degrees of freedom) and picks the alpha of least criterion, in the style of
    scikit-learn's ``LassoLarsIC``.

    Objective (scikit-learn's ``ElasticNet``): ``1/(2Σs)·Σ s_i (y_i - x_iᵀw - b)² +
    alpha·(l1_ratio·Σ f_j|w_j| + (1 - l1_ratio)/2·Σ f_j w_j²)``.

    Degrees of freedom (:func:`~sklearn_normpen.selection.df_elastic_net`): lasso
    (``l1_ratio=1``) ``df = |A|``; otherwise ``df = tr(X_A (X_AᵀS X_A + n·alpha·(1 -
    l1_ratio)·F_A)⁻¹ X_AᵀS)``; ``+1`` for the intercept. Criteria
    (:func:`~sklearn_normpen.selection.information_criterion`), with ``RSS = Σ s_i r_i²``
    and ``n = Σ s_i`` (sample weights are frequency weights: 2 is the row twice):
    ``AIC = n log(2πσ²) + RSS/σ² + 2 df``, ``BIC = n log(2πσ²) + RSS/σ² + log(n) df``,
    ``EBIC = BIC + 2γ log C(p, |A|)``.

    Parameters
    ----------
%(ic)s
    l1_ratio : float in [0, 1], default=0.5
        1 is the lasso. 0 (ridge) needs an explicit ``alphas`` array.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        Number of grid points (log-spaced from ``alpha_max``) or the grid itself.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        As in :class:`ElasticNetPathCV` (glmnet's default; ``False`` gives scikit-learn's
        objective exactly; the df then use the penalty's l2 factors ``f_j σ_j²``).
    penalty_factor : array-like of shape (n_features,), default=None
    positive : bool, default=False
    precompute : {"auto", True, False}, default="auto"
    tol : float, default=1e-4
        Each path point's duality gap is at most ``tol * ||y - ȳ||²_s / (2Σs)``.
    max_iter : int, default=1000
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``: 0 silent; 1 one
        line when the path is done (INFO); 2 also every 10th path point (DEBUG). Shown on
        stderr unless the application configured logging (its handlers are then used).

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
    criterion_path_ : ndarray of shape (n_alphas,)
        The criterion at each alpha.
    df_path_ : ndarray of shape (n_alphas,)
        Degrees of freedom (intercept included).
    rss_path_ : ndarray of shape (n_alphas,)
    noise_variance_ : float or None
        The ``σ²`` used (None for the profile likelihood).
    alpha_ : float
    df_ : float
    coef_path_ : ndarray of shape (n_features, n_alphas)
    intercept_path_, dual_gap_path_, kkt_violation_path_, n_iter_path_ : ndarray
        Of the full-data path (certificates as in :class:`ElasticNetPathCV`).
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_, kkt_violation_ : float
    n_iter_ : int
        Epochs of the path up to and including ``alpha_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_normpen import ElasticNetIC
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.5 * rng.standard_normal(200)
    >>> reg = ElasticNetIC(criterion="bic", l1_ratio=1.0).fit(X, y)
    >>> np.flatnonzero(reg.coef_)
    array([0, 1])
    """

    _parameter_constraints = {
        **_IC_CONSTRAINTS,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "penalty_factor": ["array-like", None],
        "positive": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
    }

    def __init__(self, *, criterion="aic", noise_variance=None, ebic_gamma=0.5,
                 l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True, standardize=True,
                 penalty_factor=None, positive=False, precompute="auto", tol=1e-4,
                 max_iter=1000, verbose=0):
        self.criterion = criterion
        self.noise_variance = noise_variance
        self.ebic_gamma = ebic_gamma
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.precompute = precompute
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None):
        """Fit the path on all the data and choose alpha by the criterion.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights in the criteria (``n = Σs``).

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        fw = _frequency_weights(sample_weight, X)
        (rho,) = _check_l1_ratios(self.l1_ratio, self.alphas)
        if not isinstance(self.alphas, (Integral, np.integer)):
            validate_alphas(self.alphas)
        pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
        _, _, _, pb = _full_problem(X, y, sw, self.fit_intercept, self.precompute)
        gram = (pb.Q64, pb.q64, pb.yy, pb.N) if pb.mode == "gram" else None
        sigma2 = self._noise_variance(X, y, fw, gram)  # before the path: fails early
        pen = _make_penalty(rho, pf, self.standardize, self.positive, pb)
        grid = make_grid(self.alphas, lambda: _alpha_max(pb, pen, self.tol, self.max_iter),
                         self.eps)
        start = time.perf_counter()
        path = compute_path(pb, pen, grid, tol=self.tol, max_iter=self.max_iter)
        log_path("full-data path", path, start)
        warn_unconverged([path], type(self).__name__)
        size = df_lasso(path.coefs)
        if rho == 1:
            df = size + float(self.fit_intercept)
        else:
            gram = (pb.Q64, pb.N) if pb.mode == "gram" else None  # no pass over X
            df = df_elastic_net(X, path.coefs, path.alphas, l1_ratio=rho,
                                l2_factor=pen.l2_factor, sample_weight=sw,
                                fit_intercept=self.fit_intercept, gram=gram)
        self._choose(X, y, fw, path, df, size, sigma2, problem=pb)
        return self


class GroupLassoIC(_ICMixin, NormPenRegressor):
    """(Sparse-)group lasso with alpha chosen by AIC, BIC or extended BIC on one path.

    Objective (:class:`GroupLassoRegressor`): ``1/(2Σs) Σ s_i (y_i - x_iᵀw - b)² +
    alpha (l1_ratio ||w||_1 + (1 - l1_ratio) Σ_g c_g ||w_g||_2)``.

    Degrees of freedom (Yuan & Lin 2006, :func:`~sklearn_normpen.selection.df_group_lasso`):
    ``df = Σ_g 1{w_g ≠ 0} + Σ_g (‖w_g‖/‖w_g^{LS}‖)(|A_g| - 1)`` (+1 for the intercept),
    ``w^{LS}`` the least-squares fit on the point's active set, ``A_g`` the active features
    of group ``g``; norms on the standardised scale under ``standardize``. Criteria as in
    :class:`ElasticNetIC`.

    Parameters
    ----------
%(ic)s
    groups, group_weights, fit_intercept, standardize, tol, max_iter
        As in :class:`GroupLassoRegressor`.
    verbose : int, default=0
        As in :class:`ElasticNetIC`.
    l1_ratio : float in [0, 1], default=0.0
        0 is the group lasso.
    alphas : int or array-like, default=100
    eps : float, default=1e-3

    Attributes
    ----------
    alphas_, criterion_path_, df_path_, rss_path_, noise_variance_, alpha_, df_
        As in :class:`ElasticNetIC`.
    coef_path_, intercept_path_, dual_gap_path_, kkt_violation_path_, n_iter_path_
    coef_, intercept_, dual_gap_, kkt_violation_, n_iter_
    groups_, group_labels_, group_norms_, active_groups_
        As in :class:`GroupLassoRegressor`, for the chosen model.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    _parameter_constraints = {
        **_IC_CONSTRAINTS,
        "groups": _GROUPS_CONSTRAINT,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "group_weights": ["array-like", dict, None],
    }

    def __init__(self, *, criterion="aic", noise_variance=None, ebic_gamma=0.5, groups=None,
                 l1_ratio=0.0, group_weights=None, alphas=100, eps=1e-3, fit_intercept=True,
                 standardize=True, tol=1e-4, max_iter=1000, verbose=0):
        self.criterion = criterion
        self.noise_variance = noise_variance
        self.ebic_gamma = ebic_gamma
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.alphas = alphas
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    @with_progress
    def fit(self, X, y, sample_weight=None):
        """Fit the path on all the data and choose alpha by the criterion.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights in the criteria (``n = Σs``).

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        fw = _frequency_weights(sample_weight, X)
        _check_l1_ratio(self.l1_ratio)
        # the path in covariance mode where group_lasso_path takes it (same problem)
        structure, problem = _prepare(X, y, sw, self.groups, self.group_weights,
                                      self.fit_intercept, self.standardize,
                                      getattr(self, "feature_names_in_", None),
                                      n_points=grid_size(self.alphas))
        # p <= n: the centred Gram (one n·p² product, the path's own in covariance mode)
        # serves the least-squares σ², every active-set refit of the df and the RSS path,
        # with no other pass over the rows
        stats = None
        if X.shape[1] <= X.shape[0]:
            full = getattr(problem, "full_data", None)  # covariance mode: its Design, moments
            design = full[0] if full is not None else problem.design
            with single_blas_thread():  # p² outputs: one thread is not the bottleneck
                moments = full[1] if full is not None else design.gram_stats()
                Q, q, yy, N, _ = centred_gram(moments, self.fit_intercept)
            stats = (Q, q, yy, N)
        sigma2 = self._noise_variance(X, y, fw, stats)  # before the path: fails early
        pen = problem.penalty(self.l1_ratio)
        grid = make_grid(self.alphas,
                         lambda: _group_alpha_max(problem, pen, self.tol, self.max_iter),
                         self.eps)
        start = time.perf_counter()
        path = compute_path(problem, pen, grid, tol=self.tol, max_iter=self.max_iter)
        log_path("full-data path", path, start)
        warn_unconverged([path], type(self).__name__)
        inv = np.asarray(problem.inv_scale, dtype=np.float64)
        scale = column_scale(inv) if self.standardize else None
        df = df_group_lasso(X, y, path.coefs, structure.groups, sample_weight=sw,
                            fit_intercept=self.fit_intercept, scale=scale,
                            gram=None if stats is None else (Q, q, design.x_mean,
                                                             design.y_mean))
        self._choose(X, y, fw, path, df, df_lasso(path.coefs), sigma2, problem=stats)
        self.groups_ = structure.groups
        self.group_labels_ = structure.labels
        self.group_norms_ = _group_norms(self.coef_, structure)
        self.active_groups_ = np.flatnonzero(self.group_norms_ > 0)
        return self


ElasticNetIC.__doc__ = ElasticNetIC.__doc__ % {"ic": _IC_DOC.strip("\n")}
GroupLassoIC.__doc__ = GroupLassoIC.__doc__ % {"ic": _IC_DOC.strip("\n")}
