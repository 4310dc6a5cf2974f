"""A single-alpha elastic net on the package's engine (Design, EnetProblem, the certificate).

Named ``ElasticNetRegressor`` (like :class:`~sklearn_normpen.GroupLassoRegressor`) so that
``from sklearn_normpen import *`` never shadows scikit-learn's ``ElasticNet``: the objective
is the same, the extras are per-feature penalty factors (scikit-learn lacks them),
``standardize`` and a certified stopping rule.
"""
from numbers import Integral, Real

import numpy as np

from ._compat import Interval, StrOptions, _fit_context
from ._path import compute_path, warn_unconverged
from ._validation import (validate_array_params, validate_penalty_factor,
                          validate_sample_weight, validate_Xy)
from .base import NormPenRegressor
from ._validation import _check_exclude, _check_limits
from .elastic_net import _check_precompute, _full_problem, _make_penalty

__all__ = ["ElasticNetRegressor"]


class ElasticNetRegressor(NormPenRegressor):
    """Elastic net at one alpha, with per-feature penalty factors and a certified gap.

    Minimises, with sample weights ``s`` and penalty factors ``f``::

        1/(2Σs)·Σ_i s_i (y_i - x_iᵀw - b)² + alpha·(l1_ratio·Σ_j f_j|w_j|
                                                   + (1 - l1_ratio)/2·Σ_j f_j w_j²)

    — scikit-learn's ``ElasticNet`` objective when ``f = 1`` and ``standardize=False`` —
    by coordinate descent that stops when the duality gap (a bound on the distance to
    the optimal objective, computed in float64) is at most ``tol`` times the null
    deviance. The name differs from scikit-learn's ``ElasticNet`` so both can be
    imported side by side.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
    l1_ratio : float in [0, 1], default=0.5
        Mix of l1 and l2 (1: the lasso, 0: ridge with this scaling).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    standardize : bool, default=True
        Penalise as if every column were divided by its weighted standard deviation
        (glmnet's default; on columns already of unit variance it changes nothing);
        coefficients are reported on the original scale and constant columns get a zero
        coefficient. ``False`` penalises the coefficients of the columns as given
        (scikit-learn's ``ElasticNet``).
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature factors ``f_j >= 0`` multiplying both penalty terms; 0 leaves a feature
        unpenalised. Used as given (glmnet rescales its ``penalty.factor`` to sum to the
        number of features; divide yours by its mean to reproduce that).
    positive : bool, default=False
        Constrain the coefficients to be non-negative (not with an unpenalised feature,
        ``penalty_factor`` 0: an error).
    precompute : {"auto", True, False}, default="auto"
        Covariance (Gram) mode if True; residual mode if False or for sparse X or
        n_samples < n_features. "auto" with dense X and n_samples >= n_features: the
        Gram for fewer than 64 features or a cold start below ``alpha_max / 10``
        (walked down to through several solves); otherwise residual sweeps first, with
        the Gram formed (and the fit finished there, warm) once they have cost about
        half of forming it: a fit at one alpha often needs far less than ``XᵀX``
        (10000 x 1000 at ``alpha_max / 10``: 0.026 s against 0.23 s; see
        :mod:`sklearn_normpen._solvers.mode_switch`).
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y - ȳ||²_s / (2Σs)``.
    max_iter : int, default=1000
        Maximum number of coordinate-descent epochs.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting (e.g. along a user's own grid).
    exclude : array-like of int or of bool, default=None
        Features (indices, or a boolean mask) held at zero (glmnet's ``exclude``).
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        Box limits ``lower_j <= w_j <= upper_j`` on the original-scale coefficients
        (glmnet's ``lower.limits`` / ``upper.limits``; ``lower <= 0 <= upper``;
        ``positive=True`` is ``lower_limits=0``). The duality gap includes them.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients on the original scale, of ``X``'s float dtype.
    intercept_ : float
    dual_gap_ : float
        Certified duality gap of the fit (absolute, objective scale).
    kkt_violation_ : float
        Largest KKT violation (0 at the optimum).
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` has string column names.

    See Also
    --------
    ElasticNetPathCV : the whole path with alpha chosen by K-fold CV.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_normpen import ElasticNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 4))
    >>> y = X @ [2.0, 0.0, -1.0, 0.5] + 0.1 * rng.standard_normal(100)
    >>> reg = ElasticNetRegressor(alpha=0.1, l1_ratio=1.0,
    ...                           penalty_factor=[1, 1, 1, 0]).fit(X, y)
    >>> reg.coef_.round(1)
    array([ 1.9,  0. , -0.9,  0.5])
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "penalty_factor": ["array-like", None],
        "positive": ["boolean"],
        "precompute": [StrOptions({"auto"}), "boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "exclude": ["array-like", None],
        "lower_limits": [Real, "array-like", None],
        "upper_limits": [Real, "array-like", None],
    }

    def __init__(self, *, alpha=1.0, l1_ratio=0.5, fit_intercept=True, standardize=True,
                 penalty_factor=None, positive=False, precompute="auto", tol=1e-4,
                 max_iter=1000, warm_start=False, exclude=None, lower_limits=None,
                 upper_limits=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.precompute = precompute
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
            Dense or sparse (CSC is used without densifying); float32 stays float32.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the loss (the objective divides by their sum).

        Returns
        -------
        self : object
        """
        prev = getattr(self, "coef_", None) if self.warm_start else None
        validate_array_params(self)
        _check_precompute(self.precompute)
        X, y = validate_Xy(self, X, y)
        sw = validate_sample_weight(sample_weight, X)
        p = X.shape[1]
        pf = validate_penalty_factor(self.penalty_factor, p)
        _, _, _, problem = _full_problem(X, y, sw, self.fit_intercept, self.precompute,
                                         single=True)
        pen = _make_penalty(self.l1_ratio, pf, self.standardize, self.positive, problem,
                            _check_exclude(self.exclude, p),
                            _check_limits(self.lower_limits, self.upper_limits, p))
        w0 = None
        if prev is not None and np.shape(prev) == (p,):
            w0 = np.where(pen.excluded, 0.0, np.asarray(prev, dtype=np.float64))
            w0 = np.clip(w0, pen.lower, pen.upper)  # a previous fit may break new limits
        # a one-point path: from the null fit (with the lead-in far below alpha_max) or
        # from the previous fit
        res = compute_path(problem, pen, [float(self.alpha)], tol=self.tol,
                           max_iter=self.max_iter, coef_init=w0)
        warn_unconverged([res], type(self).__name__)
        self.coef_ = np.array(res.coefs[:, 0])
        self.intercept_ = float(res.intercepts[0])
        self.dual_gap_ = float(res.gaps[0])
        self.kkt_violation_ = float(res.kkts[0])
        self.n_iter_ = int(res.n_iters[0])
        return self
