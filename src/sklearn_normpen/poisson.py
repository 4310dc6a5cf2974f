"""Elastic-net penalised Poisson regression (glmnet's poisson family, log link), certified.

Objective (glmnet's ``family="poisson"``; scikit-learn's ``PoissonRegressor`` is the
``l1_ratio=0`` case with ``alpha_sklearn = alpha``), counts ``y >= 0``, sample weights
``s``, per-feature penalty factors ``f``::

    1/Σs · Σ_i s_i [e^{η_i} - y_i η_i] + alpha (l1_ratio Σ_j f_j|w_j|
                                             + (1 - l1_ratio)/2 Σ_j f_j w_j²),  η = Xw + b.

Families are dedicated classes (like scikit-learn's ``LogisticRegression`` /
``PoissonRegressor``), not a ``family`` parameter: ``predict`` returns the mean ``e^η``,
``score`` is the deviance D², and the input checks (counts >= 0) belong to the class.
"""
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import KFold
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._compat import StrOptions, _fit_context
from ._cv import PathCVMixin
from ._validation import (validate_array_params, validate_penalty_factor,
                          validate_sample_weight, validate_X_predict, validate_Xy)
from .classification import (_EnetGLMParams, _EnetGLMPathCVParams, _check_tol, _cols,
                             _fit_path_cv, _fit_single_alpha)
from .datafits import Poisson, weighted_mean


def poisson_deviance(y, eta, sample_weight=None):
    """Mean Poisson deviance ``2[y log(y/μ) - (y - μ)]``, ``μ = e^η`` (glmnet's
    ``type.measure="deviance"``)."""
    return Poisson.deviance(y, eta, sample_weight)


def poisson_mse(y, eta, sample_weight=None):
    """Mean squared error of the mean ``μ = e^η``."""
    y, eta = _cols(y, eta)
    return weighted_mean((y - Poisson.mean(eta)) ** 2, sample_weight)


def poisson_mae(y, eta, sample_weight=None):
    """Mean absolute error of the mean ``μ = e^η``."""
    y, eta = _cols(y, eta)
    return weighted_mean(np.abs(y - Poisson.mean(eta)), sample_weight)


#: measure name -> (lower-is-better scorer, display name, greater_is_better)
MEASURES = {
    "deviance": (poisson_deviance, "Poisson deviance", False),
    "mse": (poisson_mse, "Mean squared error", False),
    "mae": (poisson_mae, "Mean absolute error", False),
}


def check_counts(y, sw):
    """The Poisson family's target checks (also used by the path functions'
    ``family="poisson"``): counts ``>= 0``, not all zero where the weight is positive."""
    if np.any(y < 0):
        raise ValueError("y must be non-negative (counts or rates) for the Poisson family; "
                         f"got a minimum of {float(np.min(y))!r}.")
    total = float(np.sum(y if sw is None else np.asarray(sw, np.float64) * y))
    if total <= 0:
        raise ValueError("y is zero everywhere (with positive weight): the Poisson "
                         "log-mean has no finite fit.")


def _validate_counts(est, X, y, sample_weight):
    X, y = validate_Xy(est, X, y)
    sw = validate_sample_weight(sample_weight, X)
    check_counts(y, sw)
    return X, y, sw


class _PoissonBase(RegressorMixin, BaseEstimator):
    """``predict = exp(X @ coef_ + intercept_)``; ``score`` is D² (Poisson deviance
    explained); ``coef_`` of shape (n_features,) and a float ``intercept_``, as
    scikit-learn's ``PoissonRegressor``."""

    def _eta(self, X):
        check_is_fitted(self, "coef_")
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_, dtype=X.dtype)
        return np.asarray(safe_sparse_dot(X, coef, dense_output=True)).ravel() + X.dtype.type(
            self.intercept_)

    def _set_coef(self, coef, intercept, dtype):
        """Store a fit (the shared GLM fits call this): scikit-learn's
        ``PoissonRegressor`` shapes, ``coef_`` (p,) in ``dtype`` and a float
        ``intercept_``."""
        self.coef_ = np.array(coef, dtype=dtype)
        self.intercept_ = float(intercept)

    def predict(self, X):
        """Predicted mean ``e^{Xw + b}``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        mu : ndarray of shape (n_samples,)
        """
        eta = self._eta(X)
        return np.exp(np.minimum(eta, np.log(np.finfo(eta.dtype).max) - 1))

    def score(self, X, y, sample_weight=None):
        """D²: the share of the null Poisson deviance explained (1 is perfect).

        Returns
        -------
        score : float
        """
        eta = np.asarray(self._eta(X), dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        dev = Poisson.deviance(y, eta, sample_weight)
        m = np.average(y, weights=sample_weight)
        null = Poisson.deviance(y, np.full_like(y, np.log(m)), sample_weight)
        return float(1 - dev / null) if null > 0 else 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.positive_only = True
        return tags


class ElasticNetPoissonRegressor(_EnetGLMParams, _PoissonBase):
    """Poisson regression (log link) with an elastic-net penalty, fitted to a certified
    duality gap (glmnet's poisson family at one ``alpha``).

    Minimises ``1/Σs·Σ s_i [e^{η_i} - y_i η_i] + alpha·(l1_ratio·Σ f_j|w_j|
    + (1 - l1_ratio)/2·Σ f_j w_j²)``, ``η = Xw + b``: glmnet's
    ``glmnet(family="poisson", lambda=alpha, alpha=l1_ratio, standardize=FALSE)`` and, for
    ``l1_ratio=0``, scikit-learn's ``PoissonRegressor(alpha=alpha)``, both with
    ``standardize=False`` (the default, True, is glmnet's default: see ``standardize``).

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength (``>= 0``; 0 is unpenalised Poisson regression, every feature
        then fitted without penalty and certified).
    l1_ratio : float in [0, 1], default=0.5
    fit_intercept : bool, default=True
    standardize : bool, default=True
        glmnet's default: the penalty of every coefficient weighted by its column's
        standard deviation, as :func:`~sklearn_normpen.enet_path` states; coefficients on
        the original scale. ``standardize=False`` gives the objective above exactly.
    penalty_factor : array-like of shape (n_features,), default=None
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (``lower_limits=0``; not with an
        unpenalised feature, ``penalty_factor`` 0).
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        Box limits ``lower_j <= w_j <= upper_j`` on the coefficients of the original
        scale, glmnet's ``lower.limits`` / ``upper.limits`` (``lower <= 0 <= upper``;
        not on an unpenalised feature); certified (the conjugate of penalty + box).
    tol : float, default=1e-4
        Accepted when the duality gap is at most ``tol`` times half the null deviance
        (the intercept-only loss minus the saturated one).
    max_iter : int, default=1000
        Maximum coordinate-descent epochs, summed over the Newton steps.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_, kkt_violation_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Non-negative counts (or rates, with exposures as ``sample_weight``).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y, sw = _validate_counts(self, X, y, sample_weight)
        _check_tol(self.tol, self.max_iter)
        pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
        _fit_single_alpha(self, X, y, sw, pf, Poisson)
        return self


class ElasticNetPoissonRegressorPathCV(_EnetGLMPathCVParams, PathCVMixin, _PoissonBase):
    """Poisson regression with an elastic-net penalty whose whole path is
    cross-validated, ``cv.glmnet(family="poisson")`` style.

    Parameters and attributes as :class:`~sklearn_normpen.ElasticNetClassifierPathCV`,
    except: ``cv`` as an int gives ``KFold`` (shuffled with ``random_state`` when set), and
    ``measure`` is one of ``"deviance"`` (Poisson deviance, default), ``"mse"``, ``"mae"``
    (of the mean ``e^η``).

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    cv : int, cross-validation generator or iterable, default=5
    measure : {"deviance", "mse", "mae"}, default="deviance"
    rule : {"min", "1se"}, default="min"
    fit_intercept : bool, default=True
    standardize : bool, default=True
        As in :class:`ElasticNetPoissonRegressor` (glmnet's default; ``False`` gives the
        objective above exactly; each training fold uses its own deviations).
    penalty_factor : array-like of shape (n_features,), default=None
    positive, lower_limits, upper_limits
        As in :class:`ElasticNetPoissonRegressor` (every training fold and the full-data
        path keep the same limits).
    tol : float, default=1e-4
    max_iter : int, default=1000
    n_jobs : int, default=None
    random_state : int, RandomState instance or None, default=None
    dfmax, pmax, verbose
        As in :class:`~sklearn_normpen.ElasticNetClassifierPathCV`.

    Attributes
    ----------
    alphas_, cv_path_, cv_mean_, cv_se_, measure_name_, alpha_min_, alpha_1se_, alpha_,
    l1_ratio_, coef_path_, intercept_path_, dual_gap_path_, kkt_violation_path_,
    n_iter_path_, path_stop_reason_, fold_dual_gap_, coef_, intercept_, dual_gap_,
    kkt_violation_, n_iter_, n_features_in_, feature_names_in_
        As in :class:`~sklearn_normpen.ElasticNetClassifierPathCV`, except ``coef_`` of
        shape (n_features,) and a float ``intercept_`` (scikit-learn's
        ``PoissonRegressor``).
    """

    _parameter_constraints = {**_EnetGLMPathCVParams._parameter_constraints,
                              "measure": [StrOptions(set(MEASURES))]}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path, cross-validate it, choose alpha (and l1_ratio).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Non-negative counts.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y, sw = _validate_counts(self, X, y, sample_weight)
        _check_tol(self.tol, self.max_iter)
        _fit_path_cv(self, X, y, sw, groups, Poisson, MEASURES[self.measure],
                     count_folds(self, X))
        return self


def count_folds(est, X):
    """The splitter of a Poisson ``*PathCV``: an int ``cv`` gives ``KFold`` (shuffled with
    ``random_state`` when that is set)."""
    cv = est.cv
    if isinstance(cv, (Integral, np.integer)):
        if cv > X.shape[0]:
            raise ValueError(f"cv={cv} folds need at least {cv} samples; got "
                             f"n_samples={X.shape[0]}.")
        cv = KFold(int(cv), shuffle=est.random_state is not None,
                   random_state=est.random_state)
    return cv
