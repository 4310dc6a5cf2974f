"""Elastic-net penalised logistic regression (glmnet's binomial family), certified.

Objective (glmnet's ``family="binomial"``; scikit-learn's ``LogisticRegression`` with
``l1_ratio`` and ``C = 1/(Σs·alpha)``), labels mapped to ``y ∈ {0, 1}`` (``classes_[1]``
is 1), sample weights ``s``, per-feature penalty factors ``f``::

    1/Σs · Σ_i s_i [log(1 + e^{η_i}) - y_i η_i] + alpha (l1_ratio Σ_j f_j|w_j|
                                                      + (1 - l1_ratio)/2 Σ_j f_j w_j²),
    η = Xw + b.

Solved by proximal Newton (:mod:`sklearn_normpen._solvers.prox_newton`) and accepted on the
package's duality-gap certificate (the negative-entropy Fenchel dual), relative to the
intercept-only loss.
"""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, StrOptions, _fit_context
from ._cv import PathCVMixin, cross_validate_paths, limited_paths, resolve_splits
from ._design import Design
from ._grid import make_grid
from ._path import compute_path, warn_unconverged
from ._progress import with_progress
from ._solvers.prox_newton import GLMProblem, glm_mode
from ._validation import (FLOAT_DTYPES, _check_limits, validate_alphas,
                          validate_array_params,
                          validate_penalty_factor, validate_sample_weight,
                          validate_X_predict)
from .datafits import Logistic, weighted_mean
from ._multinomial import MultinomialPredictMixin, MultinomialSpec, finish_path_cv
from ._multinomial import fit_single_alpha as _fit_multinomial
from ._multinomial import measure as _multinomial_measure
from .elastic_net import _alpha_max, _check_l1_ratios, _make_penalty

# glmnet clips μ to [1e-5, 1 - 1e-5] in its CV deviance: |η| <= logit(1 - 1e-5)
_ETA_CLIP = float(np.log((1 - 1e-5) / 1e-5))


# ---------------------------------------------------------------------------------------
# CV measures (glmnet's type.measure for the binomial family), lower is better
# ---------------------------------------------------------------------------------------

def _cols(y, eta):
    y = np.asarray(y, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64)
    return (y[:, None] if eta.ndim > y.ndim else y), eta


def binomial_deviance(y, eta, sample_weight=None):
    """Mean binomial deviance ``-2[y log μ + (1 - y) log(1 - μ)]`` with μ clipped to
    [1e-5, 1 - 1e-5] (glmnet's ``type.measure="deviance"``)."""
    eta = np.clip(np.asarray(eta, dtype=np.float64), -_ETA_CLIP, _ETA_CLIP)
    return Logistic.deviance(y, eta, sample_weight)


def misclassification_error(y, eta, sample_weight=None):
    """Weighted share of rows with ``(η > 0) != y`` (glmnet's ``"class"``)."""
    y, eta = _cols(y, eta)
    return weighted_mean(((eta > 0) != (y > 0.5)).astype(np.float64), sample_weight)


def binomial_mse(y, eta, sample_weight=None):
    """glmnet's ``"mse"`` for the binomial family: ``2(y - μ)²`` (its two-column form
    ``(y - μ)² + ((1 - y) - (1 - μ))²``)."""
    y, eta = _cols(y, eta)
    return weighted_mean(2 * (y - expit(eta)) ** 2, sample_weight)


def binomial_mae(y, eta, sample_weight=None):
    """glmnet's ``"mae"`` for the binomial family: ``2|y - μ|``."""
    y, eta = _cols(y, eta)
    return weighted_mean(2 * np.abs(y - expit(eta)), sample_weight)


def roc_auc(y, eta, sample_weight=None):
    """Weighted area under the ROC curve of each column of ``eta`` (ties count 1/2);
    NaN when the rows hold one class only (that fold then does not count)."""
    y, eta = _cols(y, eta)
    y1 = y[:, 0] if y.ndim > 1 else y
    E = eta if eta.ndim > 1 else eta[:, None]
    s = np.ones(E.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    pos, neg = s * (y1 > 0.5), s * (y1 <= 0.5)
    P, Nn = pos.sum(), neg.sum()
    out = np.full(E.shape[1], np.nan)
    if P > 0 and Nn > 0:
        for k in range(E.shape[1]):
            vals, inv = np.unique(E[:, k], return_inverse=True)
            pw = np.bincount(inv, pos, len(vals))
            nw = np.bincount(inv, neg, len(vals))
            below = np.cumsum(nw) - nw
            out[k] = float(pw @ (below + 0.5 * nw)) / (P * Nn)
    return out if eta.ndim > 1 else float(out[0])


def _neg_auc(y, eta, sample_weight=None):
    return -roc_auc(y, eta, sample_weight)


#: measure name -> (lower-is-better scorer, display name, greater_is_better)
MEASURES = {
    "deviance": (binomial_deviance, "Binomial deviance", False),
    "misclassification": (misclassification_error, "Misclassification error", False),
    "auc": (_neg_auc, "AUC", True),
    "mse": (binomial_mse, "Mean squared error", False),
    "mae": (binomial_mae, "Mean absolute error", False),
}


# ---------------------------------------------------------------------------------------
# Shared preparation
# ---------------------------------------------------------------------------------------

def _validate_classification(est, X, y, sample_weight, multiclass=False):
    """``(X, y01, sw)``: X float32/float64 (Fortran or CSC with sorted indices), labels
    encoded as 0/1 in X's dtype with ``classes_`` set, validated weights. With
    ``multiclass`` and K >= 3 classes the labels come back as class indices (intp)."""
    X, y = validate_data(est, X, y, accept_sparse="csc", dtype=list(FLOAT_DTYPES),
                         order="F")
    if sp.issparse(X) and not X.has_sorted_indices:
        X = X.sorted_indices()  # a copy: the user's matrix is never touched
    check_classification_targets(y)
    est.classes_ = np.unique(y)
    if est.classes_.size < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {est.classes_[0]!r}.")
    if est.classes_.size > 2 and multiclass:
        sw = validate_sample_weight(sample_weight, X)
        codes = np.searchsorted(est.classes_, y).astype(np.intp)
        if sw is not None:
            per = np.bincount(codes, weights=np.asarray(sw, np.float64),
                              minlength=est.classes_.size)
            if np.any(per <= 0):
                raise ValueError(f"class(es) {est.classes_[per <= 0].tolist()} have zero "
                                 "total sample_weight: the multinomial fit needs weight on "
                                 "every class.")
        return X, codes, sw
    if est.classes_.size > 2:
        raise ValueError("Only binary classification is supported. The type of the target "
                         f"is multiclass ({est.classes_.size} classes): "
                         f"{type(est).__name__} fits the binomial family; the multinomial "
                         "family is not implemented yet.")
    sw = validate_sample_weight(sample_weight, X)
    y01 = (y == est.classes_[1]).astype(X.dtype)
    if sw is not None:
        w1 = float(np.asarray(sw, np.float64) @ y01)
        if w1 <= 0 or w1 >= float(np.sum(sw, dtype=np.float64)):
            raise ValueError("Only one class has positive sample_weight: the binomial fit "
                             "needs weight on at least 2 classes.")
    return X, y01, sw


class _LinearBinaryClassifier(ClassifierMixin, BaseEstimator):
    """``decision_function = X @ coef_.T + intercept_`` (logit of ``classes_[1]``),
    ``predict_proba`` through the logistic function; float32 in, float32 out."""

    def decision_function(self, X):
        """Linear predictor ``η = Xw + b``: the log-odds of ``classes_[1]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        eta : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coef_")
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_, dtype=X.dtype).ravel()
        return np.asarray(safe_sparse_dot(X, coef, dense_output=True)).ravel() + np.asarray(
            self.intercept_, dtype=X.dtype)[0]

    def _set_coef(self, coef, intercept, dtype):
        """Store a fit: scikit-learn's ``LogisticRegression`` shapes, ``coef_`` (1, p) in
        ``dtype`` and ``intercept_`` (1,) (the shared GLM fits call this; the multinomial
        fits reshape the (1, p, K) this gives, see ``finish_path_cv``)."""
        self.coef_ = np.asarray(coef, dtype=dtype)[None, :]
        self.intercept_ = np.array([intercept], dtype=np.float64)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        p1 = expit(self.decision_function(X))
        return np.column_stack([1 - p1, p1])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without underflow."""
        eta = self.decision_function(X)
        return np.column_stack([-np.logaddexp(0, eta), -np.logaddexp(0, -eta)])

    def predict(self, X):
        """The label of the more probable class (``classes_[1]`` when ``η > 0``).

        Returns
        -------
        labels : ndarray of shape (n_samples,) with the labels' type
        """
        check_is_fitted(self, "coef_")
        return self.classes_[(self.decision_function(X) > 0).astype(np.intp)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = False
        return tags


def _check_tol(tol, max_iter):
    if not isinstance(tol, Real) or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite non-negative float; got {tol!r}.")
    if not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")


def _check_glm_limits(est, n_features, n_classes=2):
    """``(positive, (lower, upper))`` of a GLM estimator (glmnet's ``lower.limits`` /
    ``upper.limits``, validated as the Gaussian estimators'); the multinomial family
    (``n_classes > 2``) has no box limits yet: a clear error."""
    limits = _check_limits(est.lower_limits, est.upper_limits, n_features)
    if n_classes > 2 and (est.positive or limits[0] is not None):
        raise ValueError(f"positive, lower_limits and upper_limits are not supported with "
                         f"{n_classes} classes (the multinomial family) yet; they apply to "
                         "two classes (the binomial family).")
    return bool(est.positive), limits


def reject_limits_at_alpha_zero(est, has_limits):
    """alpha = 0 fits every feature unpenalised, and limits on unpenalised features cannot
    be certified: a clear error naming what to do."""
    if has_limits:
        raise ValueError(f"{type(est).__name__}: alpha=0 (no penalty) with positive=True, "
                         "lower_limits, upper_limits or exclude is not supported (limits on "
                         "unpenalised features cannot be certified); pass a tiny positive "
                         "alpha (e.g. 1e-12) instead.")


def _fit_single_alpha(est, X, y, sw, pf, datafit):
    """One certified fit at ``est.alpha``: sets ``coef_`` and ``intercept_`` (the family's
    shapes, ``est._set_coef``), ``dual_gap_``, ``kkt_violation_``, ``n_iter_``."""
    problem = GLMProblem(Design(X, y, sw, est.fit_intercept), glm_mode(X), datafit)
    positive, limits = _check_glm_limits(est, X.shape[1])
    if est.alpha == 0:  # no penalty: every feature unpenalised, the same objective, whose
        pf = np.zeros_like(pf)  # certificate then projects the gradient (exact)
        reject_limits_at_alpha_zero(est, positive or limits[0] is not None)
    pen = _make_penalty(float(est.l1_ratio), pf, est.standardize, positive, problem,
                        limits=limits)
    res = compute_path(problem, pen, np.array([float(est.alpha)]), tol=est.tol,
                       max_iter=est.max_iter)
    warn_unconverged([res], what="Proximal Newton")
    est._set_coef(res.coefs[:, 0], res.intercepts[0], X.dtype)
    est.dual_gap_, est.kkt_violation_ = float(res.gaps[0]), float(res.kkts[0])
    est.n_iter_ = int(res.n_iters[0])


@with_progress
def _fit_path_cv(est, X, y, sw, groups, datafit, measure, cv, spec=None, l1_ratios=None):
    """The path + K-fold CV fit shared by the GLM ``*PathCV`` estimators (full-data path
    first; folds on its grid, cut where it stopped early; the one selection rule).
    ``spec`` (default: the elastic net's) builds the problems and penalties."""
    scorer, est.measure_name_, greater = measure
    if spec is None:
        l1_ratios = _check_l1_ratios(est.l1_ratio, est.alphas)
        pf = validate_penalty_factor(est.penalty_factor, X.shape[1])
        positive, limits = _check_glm_limits(est, X.shape[1])
        spec = _GLMSpec(Design(X, y, sw, est.fit_intercept), glm_mode(X), l1_ratios, pf,
                        est.standardize, scorer, datafit, positive, limits)
    pb = spec.full_problem()
    pens = spec.penalties(pb)
    if isinstance(est.alphas, (Integral, np.integer)):
        grids = [make_grid(int(est.alphas),
                           lambda: spec.alpha_max(pb, pen, est.tol, est.max_iter),
                           est.eps) for pen in pens]
    else:
        grids = [validate_alphas(est.alphas)] * len(pens)
    # the full-data paths first: where one stops early (glmnet's rules, dfmax / pmax), the
    # folds' grid ends; a fold may stop earlier by its own count (then keeps its last fit)
    spec.dfmax, spec.pmax = getattr(est, "dfmax", None), getattr(est, "pmax", None)
    grids, paths = limited_paths(pb, pens, grids, tol=est.tol, max_iter=est.max_iter,
                                 dfmax=spec.dfmax, pmax=spec.pmax,
                                 active=getattr(spec, "active", None))
    splits = resolve_splits(cv, X, y, groups)
    Xr = X.tocsr() if sp.issparse(X) else X
    errors, fold_results, _ = cross_validate_paths(
        spec, Xr, y, sw, grids, splits, tol=est.tol, max_iter=est.max_iter,
        n_jobs=est.n_jobs)
    sel = est._cv_select(errors, splits, sw, grids)
    best = sel["best_path"]
    res = paths[best]
    # the shortest path's reason when another was cut to its length (limited_paths)
    est.path_stop_reason_ = res.stop_reason
    warn_unconverged(fold_results + [res], what="Proximal Newton")
    est._set_cv_results(sel=sel, grids=grids, errors=errors, splits=splits,
                        l1_ratios=l1_ratios, scalar=np.ndim(est.l1_ratio) == 0, path=res,
                        fold_results=fold_results)
    sign = -1.0 if greater else 1.0
    est.cv_path_ = sign * est.mse_path_
    est.cv_mean_ = sign * est.cv_mean_
    del est.mse_path_  # not a squared error here: cv_path_ is the measure-neutral name
    est._set_coef(est.coef_, est.intercept_, X.dtype)


# ---------------------------------------------------------------------------------------
# Single alpha
# ---------------------------------------------------------------------------------------

class _EnetGLMParams:
    """The parameters of the single-alpha elastic-net GLM estimators (every family)."""

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "penalty_factor": ["array-like", None],
        "positive": ["boolean"],
        "lower_limits": [Real, "array-like", None],
        "upper_limits": [Real, "array-like", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, alpha=0.01, l1_ratio=0.5, fit_intercept=True, standardize=True,
                 penalty_factor=None, positive=False, lower_limits=None, upper_limits=None,
                 tol=1e-4, max_iter=1000):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits
        self.tol = tol
        self.max_iter = max_iter



class _EnetGLMPathCVParams:
    """The parameters of the elastic-net GLM path-CV estimators (every family); each class
    adds ``measure`` to ``_parameter_constraints`` with its family's measures."""

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
        "lower_limits": [Real, "array-like", None],
        "upper_limits": [Real, "array-like", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "dfmax": [Interval(Integral, 1, None, closed="left"), None],
        "pmax": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    _check_params = {"alphas": 8, "cv": 3}

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, cv=5, measure="deviance",
                 rule="min", fit_intercept=True, standardize=True, penalty_factor=None,
                 positive=False, lower_limits=None, upper_limits=None,
                 tol=1e-4, max_iter=1000, n_jobs=None, random_state=None, dfmax=None,
                 pmax=None, verbose=0):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.measure = measure
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.positive = positive
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dfmax = dfmax
        self.pmax = pmax
        self.verbose = verbose


class ElasticNetClassifier(MultinomialPredictMixin, _EnetGLMParams, _LinearBinaryClassifier):
    """Logistic regression with an elastic-net penalty, fitted to a certified duality gap
    (glmnet's binomial family at one ``alpha``; its multinomial family with K >= 3
    classes).

    Minimises ``1/Σs·Σ s_i [log(1 + e^{η_i}) - y_i η_i] + alpha·(l1_ratio·Σ f_j|w_j|
    + (1 - l1_ratio)/2·Σ f_j w_j²)`` with ``η = Xw + b`` and ``y_i = 1`` for
    ``classes_[1]``. This is scikit-learn's ``LogisticRegression(l1_ratio=l1_ratio,
    C=1/(Σs·alpha))`` (with unit weights, ``C = 1/(n_samples·alpha)``) and glmnet's
    ``glmnet(family="binomial", lambda=alpha, alpha=l1_ratio, standardize=FALSE)`` with
    ``standardize=False`` (the default, True, is glmnet's default: see ``standardize``).

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength (``>= 0``; 0 is unpenalised logistic regression, which diverges
        on separable classes: the fit then stops at the iteration limit with a warning).
    l1_ratio : float in [0, 1], default=0.5
        Mix of l1 and l2 (1: lasso).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    standardize : bool, default=True
        glmnet's default: the penalty of every coefficient weighted by its column's
        standard deviation, as :func:`~sklearn_normpen.enet_path` states; coefficients on
        the original scale. ``standardize=False`` gives the objective above exactly (scikit-learn's ``LogisticRegression``).
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature factors ``f_j >= 0``; 0 leaves a feature unpenalised.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0`` (``lower_limits=0``; two classes only;
        not with an unpenalised feature, ``penalty_factor`` 0).
    lower_limits, upper_limits : float or array-like of shape (n_features,), default=None
        Box limits ``lower_j <= w_j <= upper_j`` on the coefficients of the original
        scale, glmnet's ``lower.limits`` / ``upper.limits`` (``lower <= 0 <= upper``;
        not on an unpenalised feature); certified (the conjugate of penalty + box).
        Two classes only (the multinomial family raises an error).
    tol : float, default=1e-4
        The fit is accepted when its duality gap is at most ``tol`` times the
        intercept-only loss (the binary entropy of the weighted mean label).
    max_iter : int, default=1000
        Maximum coordinate-descent epochs, summed over the Newton steps.
    multinomial : {"ungrouped", "grouped"}, default="ungrouped"
        The penalty with K >= 3 classes (glmnet's ``type.multinomial``; ignored for two
        classes): ``"ungrouped"`` the elastic net on every class coefficient,
        ``"grouped"`` each feature's K coefficients as one group
        (``l1_ratio·Σ_j f_j‖W_j‖₂ + (1 - l1_ratio)/2·Σ_j f_j‖W_j‖₂²``), so a feature
        enters for all classes or none.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row with two classes, one row per class with K >= 3 (as
        ``LogisticRegression``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        With K >= 3 classes the intercepts sum to 0 (they are defined up to a common
        shift; glmnet centres them too).
    dual_gap_, kkt_violation_ : float
        Certified duality gap and largest KKT violation of the fit.
    n_iter_ : int
        Coordinate-descent epochs.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    With K >= 3 classes the loss is the multinomial one (glmnet's
    ``family="multinomial"``; scikit-learn's multinomial ``LogisticRegression``)::

        1/Σs·Σ_i s_i [log Σ_k e^{η_ik} - η_{i,y_i}],   η_i = Wᵀx_i + b,

    ``W`` = ``coef_.T``, with the penalty chosen by ``multinomial``; the certificate's dual
    is the negative entropy on the simplex, ``tol`` relative to the intercept-only loss
    (the entropy of the class shares). With ``multinomial="ungrouped"`` and
    ``standardize=False`` this is ``LogisticRegression(l1_ratio=l1_ratio,
    C=1/(Σs·alpha))``'s multinomial objective (intercepts up to their common shift).
    """

    _parameter_constraints = {**_EnetGLMParams._parameter_constraints,
                              "multinomial": [StrOptions({"ungrouped", "grouped"})]}

    def __init__(self, *, alpha=0.01, l1_ratio=0.5, fit_intercept=True, standardize=True,
                 penalty_factor=None, positive=False, lower_limits=None, upper_limits=None,
                 tol=1e-4, max_iter=1000, multinomial="ungrouped"):
        super().__init__(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         standardize=standardize, penalty_factor=penalty_factor,
                         positive=positive, lower_limits=lower_limits,
                         upper_limits=upper_limits, tol=tol, max_iter=max_iter)
        self.multinomial = multinomial

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two or more classes, any label type (K >= 3: the multinomial family).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y01, sw = _validate_classification(self, X, y, sample_weight, multiclass=True)
        _check_tol(self.tol, self.max_iter)
        pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
        if self.classes_.size > 2:
            _check_glm_limits(self, X.shape[1], self.classes_.size)
            _fit_multinomial(self, X, y01, sw, pf)
            return self
        _fit_single_alpha(self, X, y01, sw, pf, Logistic)
        return self


# ---------------------------------------------------------------------------------------
# Path + K-fold CV
# ---------------------------------------------------------------------------------------

class _GLMSpec:
    """What a CV fold needs (picklable): its problem and the penalties sharing it."""

    def __init__(self, design, mode, l1_ratios, pf, standardize, measure, datafit,
                 positive=False, limits=None):
        self.design, self.mode, self.l1_ratios = design, mode, l1_ratios
        self.pf, self.standardize = pf, standardize
        self.measure, self.datafit = measure, datafit
        self.positive, self.limits = positive, limits  # on the user's scale, every fold

    def problem(self, train, test):
        d = self.design
        return GLMProblem(Design(d.X, d.y, d.sw, d.fit_intercept, rows=train), self.mode,
                          self.datafit)

    def full_problem(self):
        return GLMProblem(self.design, self.mode, self.datafit)

    @staticmethod
    def alpha_max(problem, penalty, tol, max_iter):
        return _alpha_max(problem, penalty, tol, max_iter)

    def penalties(self, problem):
        return [_make_penalty(r, self.pf, self.standardize, self.positive, problem,
                              limits=self.limits) for r in self.l1_ratios]


class ElasticNetClassifierPathCV(MultinomialPredictMixin, _EnetGLMPathCVParams,
                                 PathCVMixin, _LinearBinaryClassifier):
    """Logistic regression with an elastic-net penalty whose whole regularisation path is
    cross-validated, ``cv.glmnet(family="binomial")`` style (``family="multinomial"``
    with K >= 3 classes: objective and ``multinomial`` as :class:`ElasticNetClassifier`).

    Fits the certified path on the full data (it may stop early, as glmnet's does), then on
    every training fold over that grid, scores each alpha on the held-out rows with
    ``measure``, and picks ``alpha_min_`` (the largest alpha with the best mean CV measure)
    or ``alpha_1se_`` (the largest alpha within one standard error of it).

    Objective: as :class:`ElasticNetClassifier`.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        With a list, the ratio whose path reaches the best mean CV measure wins.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the default grid.
    alphas : int or array-like, default=100
        Number of grid points (log-spaced from ``alpha_max``, where every penalised
        coefficient is zero, down to ``eps * alpha_max``) or the grid itself.
    cv : int, cross-validation generator or iterable, default=5
        An int gives ``StratifiedKFold`` (shuffled with ``random_state`` when that is set).
    measure : {"deviance", "misclassification", "auc", "mse", "mae"}, default="deviance"
        The held-out measure (glmnet's ``type.measure``): binomial deviance (μ clipped to
        [1e-5, 1 - 1e-5] as glmnet), misclassification rate, area under the ROC curve
        (greater is better), and glmnet's binomial ``2(y - μ)²`` and ``2|y - μ|``.
        With K >= 3 classes glmnet's multinomial measures: the deviance
        ``-2 log p_{i,y_i}`` (probabilities clipped to [1e-5, 1 - 1e-5]), the
        misclassification rate (most probable class), ``Σ_k (y_ik - p_ik)²`` and
        ``Σ_k |y_ik - p_ik|``; ``"auc"`` is then an error.
    rule : {"min", "1se"}, default="min"
        Which alpha ``alpha_`` (and ``coef_``) uses.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        As in :class:`ElasticNetClassifier` (glmnet's default; ``False`` gives the
        objective above exactly; each training fold uses its own deviations).
    penalty_factor : array-like of shape (n_features,), default=None
    positive, lower_limits, upper_limits
        As in :class:`ElasticNetClassifier` (every training fold and the full-data path
        keep the same limits; two classes only).
    tol : float, default=1e-4
        Each path point's duality gap is at most ``tol`` times the intercept-only loss.
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per path point (over its Newton steps).
    n_jobs : int, default=None
        Folds run in parallel through ``sklearn.utils.parallel``: in threads unless a
        joblib backend is chosen (``joblib.parallel_config``: loky, dask, ...).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int.
    dfmax, pmax : int, default=None
        glmnet's ``dfmax`` / ``pmax`` as ``cv.glmnet`` applies them (see
        :class:`~sklearn_normpen.ElasticNetPathCV`): the full-data path stops on them, its
        alphas are the folds' grid, and a fold whose path stops earlier keeps its last fit.
    verbose : int, default=0
        Progress through the ``sklearn_normpen`` logger during ``fit``: 0 silent; 1 one
        line per finished fold and per full-data path (INFO); 2 also every 10th point of each path
        (DEBUG). Shown on stderr unless the application configured logging (its handlers
        are then used); with ``n_jobs > 1`` folds are reported as they finish.
    multinomial : {"ungrouped", "grouped"}, default="ungrouped"
        The penalty with K >= 3 classes (glmnet's ``type.multinomial``; ignored for two
        classes): ``"ungrouped"`` the elastic net on every class coefficient,
        ``"grouped"`` each feature's K coefficients as one group
        (``l1_ratio·Σ_j f_j‖W_j‖₂ + (1 - l1_ratio)/2·Σ_j f_j‖W_j‖₂²``), so a feature
        enters for all classes or none.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The grid the folds used: the full-data path's (cut where it stopped early).
    cv_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        The held-out measure of each alpha on each fold (a fold whose path stopped early
        keeps its last fit for the remaining alphas, as glmnet).
    cv_mean_, cv_se_ : ndarray of shape cv_path_.shape[:-1]
        Fold-weighted mean and glmnet standard error of ``cv_path_``.
    measure_name_ : str
        The measure's display name (e.g. "Binomial deviance").
    alpha_min_, alpha_1se_, alpha_, l1_ratio_ : float
    coef_path_ : ndarray of shape (n_features, n_alphas) or (n_classes, n_features, n_alphas)
    intercept_path_, dual_gap_path_, kkt_violation_path_, n_iter_path_ : ndarray
        Full-data path for ``l1_ratio_``, with the certified gap of every point
        (``intercept_path_`` of shape (n_classes, n_alphas) with K >= 3 classes). With a
        list of ``l1_ratio`` the path arrays get a leading ``l1_ratio`` axis.
    path_stop_reason_ : str or None
        Why the full-data path stopped before the end of the grid (glmnet's rules:
        deviance ratio above 0.999, e.g. separable classes, or a relative change below
        1e-5; or ``"dfmax"`` / ``"pmax"``), None when it ran to the end.
    fold_dual_gap_ : ndarray of shape (n_folds,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    dual_gap_, kkt_violation_ : float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    A training fold without a sample of some class cannot fit the multinomial (its
    intercept would be -inf): ``fit`` raises a ValueError naming the class (glmnet refuses
    such folds too). The default stratified folds avoid it whenever every class has at
    least ``cv`` samples.
    """

    _parameter_constraints = {**_EnetGLMPathCVParams._parameter_constraints,
                              "measure": [StrOptions(set(MEASURES))],
                              "multinomial": [StrOptions({"ungrouped", "grouped"})]}

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, cv=5, measure="deviance",
                 rule="min", fit_intercept=True, standardize=True, penalty_factor=None,
                 positive=False, lower_limits=None, upper_limits=None,
                 tol=1e-4, max_iter=1000, n_jobs=None, random_state=None, dfmax=None,
                 pmax=None, verbose=0, multinomial="ungrouped"):
        super().__init__(l1_ratio=l1_ratio, eps=eps, alphas=alphas, cv=cv, measure=measure,
                         rule=rule, fit_intercept=fit_intercept, standardize=standardize,
                         penalty_factor=penalty_factor, positive=positive,
                         lower_limits=lower_limits, upper_limits=upper_limits, tol=tol,
                         max_iter=max_iter,
                         n_jobs=n_jobs, random_state=random_state, dfmax=dfmax, pmax=pmax,
                         verbose=verbose)
        self.multinomial = multinomial

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path, cross-validate it, choose alpha (and l1_ratio).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two or more classes, any label type (K >= 3: the multinomial family).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the loss, of the held-out measures and of the fold means.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y01, sw = _validate_classification(self, X, y, sample_weight, multiclass=True)
        _check_tol(self.tol, self.max_iter)
        cv = self.cv
        if isinstance(cv, (Integral, np.integer)):
            cv = StratifiedKFold(int(cv), shuffle=self.random_state is not None,
                                 random_state=self.random_state)
        if self.classes_.size > 2:
            _check_glm_limits(self, X.shape[1], self.classes_.size)
            meas = _multinomial_measure(self.measure, self.classes_.size)
            l1_ratios = _check_l1_ratios(self.l1_ratio, self.alphas)
            pf = validate_penalty_factor(self.penalty_factor, X.shape[1])
            spec = MultinomialSpec(X, y01, self.classes_.size, sw, self.fit_intercept,
                                   self.multinomial == "grouped", l1_ratios, pf,
                                   self.standardize, meas[0])
            _fit_path_cv(self, X, y01, sw, groups, spec.datafit, meas, cv, spec=spec,
                         l1_ratios=l1_ratios)
            finish_path_cv(self, X)
            return self
        _fit_path_cv(self, X, y01, sw, groups, Logistic, MEASURES[self.measure], cv)
        return self
