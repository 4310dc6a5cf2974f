"""(Sparse-)group lasso penalised logistic regression (binomial family), certified.

Objective (labels mapped to ``y ∈ {0, 1}``, ``classes_[1]`` is 1; ``c_g`` group weights,
default ``sqrt(|g|)``)::

    1/Σs · Σ_i s_i [log(1 + e^{η_i}) - y_i η_i]
        + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) Σ_g c_g ||w_g||_2),   η = Xw + b.

Proximal Newton whose weighted least-squares models are solved by the group lasso's block
coordinate descent (one reweighted model per growing working set of groups, see
:mod:`sklearn_normpen._solvers.prox_newton`); the certificate is the binomial duality gap.
Groups of weight 0 (and features in no group) are unpenalised. With K >= 3 classes
:class:`GroupLassoClassifier` fits the multinomial loss with each group's ``|g| × K`` block
one group (:mod:`sklearn_normpen._solvers.multinomial_group`), and
:class:`GroupLassoClassifierPathCV` cross-validates that path.
"""
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import StratifiedKFold

from ._compat import Interval, StrOptions, _fit_context
from ._cv import PathCVMixin
from ._design import Design, column_scale
from ._groups import parse_groups, resolve_group_weights
from ._path import compute_path, warn_unconverged
from ._families import _standardized
from ._multinomial import MultinomialPredictMixin, MultinomialSpec, finish_path_cv
from ._multinomial import measure as multinomial_measure
from ._solvers.multinomial_group import GroupMultinomialProblem
from ._solvers.prox_newton import GLMProblem, GroupInner, glm_mode
from ._validation import validate_alphas, validate_array_params
from .classification import (MEASURES, _check_tol, _fit_path_cv, _LinearBinaryClassifier,
                             _validate_classification, reject_limits_at_alpha_zero)
from .datafits import Logistic
from .group_lasso import _GROUPS_CONSTRAINT, _ActiveGroups, _check_box, _clip_coef
from .penalties import (MultiTaskElasticNetPenalty, MultiTaskSparseGroupLasso,
                        SparseGroupLasso)


def _check_rho(l1_ratio):
    r = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64))
    if r.ndim != 1 or r.size == 0 or not np.all((r >= 0) & (r <= 1)):
        raise ValueError(f"l1_ratio must be in [0, 1] (or a list of such); got {l1_ratio!r}.")
    return r


def _structure(est, X, allow_unpenalised=True):
    names = getattr(est, "feature_names_in_", None)
    structure = parse_groups(est.groups, X.shape[1], names)
    weights = resolve_group_weights(est.group_weights, structure)
    return structure, weights, check_glm_groups(structure, weights, X.shape[1],
                                                allow_unpenalised=allow_unpenalised)


def check_glm_groups(structure, weights, n_features, allow_unpenalised=False):
    """The kernel arrays ``(gptr, gidx, c)`` of a group fit; unless ``allow_unpenalised``
    (the binomial/Poisson estimators and ``group_lasso_path``'s GLM families) a solver
    without unpenalised groups (several responses): every feature in a group of
    positive weight."""
    gptr, gidx, c = structure.kernel_arrays(weights)
    if allow_unpenalised:
        return gptr, gidx, np.asarray(c, dtype=np.float64)
    if np.any(c == 0) or gidx.size < n_features:
        raise ValueError("unpenalised features (a group weight of 0, or features in no "
                         "group) are not supported with the multi-response group fits "
                         "yet: give every group a positive weight in group_weights.")
    return gptr, gidx, np.asarray(c, dtype=np.float64)


def _glm_problem(X, y, sw, fit_intercept, datafit, inner, standardize):
    """The :class:`GLMProblem` of a group fit; with ``standardize`` on the columns
    divided by their weighted standard deviations (``problem.inv_scale = 1/σ``, 0 for
    constant columns: the problem then returns coefficients on the user's scale, and
    certifies float32 fits on the user's columns: ``GLMProblem``'s ``exact``)."""
    inv = shift = exact = None
    if standardize:
        X, inv, shift, exact = _standardized(X, sw, fit_intercept, return_design=True)
    return GLMProblem(Design(X, y, sw, fit_intercept), glm_mode(X), datafit, inner,
                      inv_scale=inv, x_shift=shift, exact=exact)


def _group_penalty(arrays, rho, limits, excl, problem):
    """The :class:`SparseGroupLasso` of ``problem``'s parametrisation: the user's box
    ``limits`` and held-at-zero mask ``excl`` (user scale), constant columns held at zero
    and the limits scaled by σ under standardisation (the solver's coefficient is
    ``σ_j w_j``)."""
    inv = getattr(problem, "inv_scale", None)
    kw = {}
    if inv is not None:
        held = inv == 0
        excl = held if excl is None else excl | held
    if limits is not None:
        # σ; 1 on a constant column, held at 0 through excl (0 made inf·0 = NaN of an open
        # side, and a RuntimeWarning)
        sigma = 1.0 if inv is None else column_scale(inv, held=1.0)
        kw.update(lower=limits[0] * sigma, upper=limits[1] * sigma)
    if excl is not None and excl.any():
        kw["excluded"] = excl
    return SparseGroupLasso(*arrays, float(rho), **kw)


class _GroupGLMSpec:
    """A CV fold's problem and the penalties sharing it (picklable)."""

    def __init__(self, X, y, sw, fit_intercept, inner, arrays, l1_ratios, measure,
                 box=(None, None), datafit=Logistic, standardize=False):
        self.data, self.inner, self.arrays = (X, y, sw, fit_intercept), inner, arrays
        self.l1_ratios, self.measure, self.datafit = l1_ratios, measure, datafit
        self.box, self.standardize = box, standardize

    def _problem(self, rows=None):
        X, y, sw, fi = self.data
        if rows is not None:
            X, y = X[rows], y[rows]
            sw = None if sw is None else sw[rows]
        return _glm_problem(X, y, sw, fi, self.datafit, self.inner, self.standardize)

    def problem(self, train, test):
        return self._problem(train)

    def full_problem(self):
        return self._problem()

    def penalties(self, problem):
        return [_group_penalty(self.arrays, r, *self.box, problem) for r in self.l1_ratios]

    @staticmethod
    def alpha_max(problem, penalty, tol, max_iter):
        _, z = problem.null_fit(penalty, 1e-3 * tol * problem.null_deviance, max_iter)
        return penalty.alpha_max(z)


_COMMON = {
    "groups": _GROUPS_CONSTRAINT,
    "group_weights": ["array-like", None],
    "fit_intercept": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "exclude": ["array-like", None],
    "lower_limits": [Real, "array-like", None],
    "upper_limits": [Real, "array-like", None],
    "standardize": ["boolean"],
}


def _fit_group_glm(est, X, y, sw, datafit):
    """One certified group-penalised GLM fit at ``est.alpha`` (every family): sets
    ``coef_`` and ``intercept_`` (the family's shapes, ``est._set_coef``), ``dual_gap_``,
    ``kkt_violation_``, ``n_iter_``."""
    structure, weights, arrays = _structure(est, X)
    limits, excl = _check_box(est.lower_limits, est.upper_limits, est.exclude, X.shape[1])
    if est.alpha == 0:  # no penalty: every group unpenalised, the same objective, whose
        weights = np.zeros_like(weights)  # certificate then projects the gradient (exact)
        arrays = (arrays[0], arrays[1], np.zeros_like(arrays[2]))
        reject_limits_at_alpha_zero(est, limits is not None or excl is not None)
    problem = _glm_problem(X, y, sw, est.fit_intercept, datafit,
                           GroupInner(structure, weights), est.standardize)
    pen = _group_penalty(arrays, est.l1_ratio, limits, excl, problem)
    res = compute_path(problem, pen, np.array([float(est.alpha)]), tol=est.tol,
                       max_iter=est.max_iter)
    warn_unconverged([res], what="Proximal Newton")
    est._set_coef(_clip_coef(res.coefs[:, 0], limits, excl), res.intercepts[0], X.dtype)
    est.dual_gap_, est.kkt_violation_ = float(res.gaps[0]), float(res.kkts[0])
    est.n_iter_ = int(res.n_iters[0])


def _fit_group_glm_path_cv(est, X, y, sw, groups, datafit, measure, cv):
    """The group-penalised GLM path + K-fold CV fit (every family): ``cv`` is the
    splitter, ``measure`` a ``MEASURES`` entry of the family."""
    if not isinstance(est.alphas, (Integral, np.integer)):
        validate_alphas(est.alphas)
    l1_ratios = _check_rho(est.l1_ratio)
    structure, weights, arrays = _structure(est, X)
    box = _check_box(est.lower_limits, est.upper_limits, est.exclude, X.shape[1])
    spec = _GroupGLMSpec(X, y, sw, est.fit_intercept, GroupInner(structure, weights),
                         arrays, l1_ratios, measure[0], box, datafit, est.standardize)
    spec.active = _ActiveGroups(structure.groups)  # dfmax / pmax count groups
    _fit_path_cv(est, X, y, sw, groups, datafit, measure, cv, spec=spec,
                 l1_ratios=l1_ratios)


# ---------------------------------------------------------------------------------------
# K >= 3 classes: the multinomial family, each group's |g| x K block one group
# ---------------------------------------------------------------------------------------

def _multiclass_arrays(est, X):
    """``(groups, (gptr, gidx, c))`` of a multinomial group fit, with clear errors for
    what it does not support yet."""
    structure, weights, arrays = _structure(est, X)
    gptr, gidx, c = arrays
    if np.any(c == 0) or gidx.size < X.shape[1]:
        raise ValueError("with 3 or more classes every feature must be in a group of "
                         "positive weight: unpenalised groups (group weight 0, or features "
                         "in no group) are supported for two classes only.")
    if (est.exclude is not None or est.lower_limits is not None
            or est.upper_limits is not None):
        raise ValueError("exclude, lower_limits and upper_limits are supported for two "
                         "classes only (this target has 3 or more).")
    groups = [gidx[gptr[g]:gptr[g + 1]] for g in range(len(gptr) - 1)]
    return groups, arrays


class _GroupMultinomialSpec(MultinomialSpec):
    """A CV fold's multinomial group problem and its penalties (picklable)."""

    def __init__(self, X, codes, n_classes, sw, fit_intercept, groups, arrays, l1_ratios,
                 standardize, scorer):
        super().__init__(X, codes, n_classes, sw, fit_intercept, True, l1_ratios, None,
                         standardize, scorer)
        self.groups, self.arrays = groups, arrays
        self.active = _ActiveGroups(groups)  # dfmax / pmax count groups

    def _problem(self, rows=None):
        X, codes, sw, inv, shift, exact = self.X, self.codes, self.sw, None, None, None
        if self.standardize:  # each training fold by its own standard deviations
            if rows is not None:
                X, codes = X[rows], codes[rows]
                sw = None if sw is None else sw[rows]
                rows = None
            X, inv, shift, exact = _standardized(X, sw, self.fit_intercept,
                                                 return_design=True)
        return GroupMultinomialProblem(X, codes, self.K, sw, self.fit_intercept,
                                       self.groups, inv, rows=rows, x_shift=shift,
                                       exact=exact)

    def problem(self, train, test):
        return self._problem(train)

    def full_problem(self):
        return self._problem()

    @staticmethod
    def alpha_max(problem, penalty, tol, max_iter):
        _, z = problem.null_fit(penalty, 1e-3 * tol * problem.null_deviance, max_iter)
        return penalty.alpha_max(z)

    def penalties(self, problem):
        gptr, gidx, c = self.arrays
        if np.all(np.diff(gptr) == 1):  # singletons: the row penalty, the compiled solver
            f = np.empty(gidx.size)
            return [MultiTaskElasticNetPenalty(1.0, _put(f, gidx, r + (1 - r) * c))
                    for r in self.l1_ratios]
        return [MultiTaskSparseGroupLasso(*self.arrays, float(r)) for r in self.l1_ratios]


def _fit_group_multinomial_path_cv(est, X, codes, sw, groups, cv):
    """The multinomial group path + K-fold CV fit (K >= 3 classes): the shared path-CV
    fit on :class:`_GroupMultinomialSpec`, then scikit-learn's (K, p) layout."""
    if not isinstance(est.alphas, (Integral, np.integer)):
        validate_alphas(est.alphas)
    feature_groups, arrays = _multiclass_arrays(est, X)
    meas = multinomial_measure(est.measure, est.classes_.size)
    l1_ratios = _check_rho(est.l1_ratio)
    spec = _GroupMultinomialSpec(X, codes, est.classes_.size, sw, est.fit_intercept,
                                 feature_groups, arrays, l1_ratios, est.standardize, meas[0])
    _fit_path_cv(est, X, codes, sw, groups, spec.datafit, meas, cv, spec=spec,
                 l1_ratios=l1_ratios)
    finish_path_cv(est, X)


def _put(f, idx, v):
    out = f.copy()
    out[idx] = v
    return out


def _fit_group_multinomial(est, X, codes, sw):
    """One certified multinomial group fit at ``est.alpha``: ``coef_`` (K, p),
    ``intercept_`` (K,) (summing to 0), ``dual_gap_``, ``kkt_violation_``, ``n_iter_``."""
    if est.alpha == 0:
        raise ValueError(f"{type(est).__name__}: alpha=0 (no penalty) is not supported with "
                         "3 or more classes (every group must be penalised there); the "
                         "unpenalised multinomial fit does not depend on the groups: use "
                         "ElasticNetClassifier(alpha=0).")
    groups, arrays = _multiclass_arrays(est, X)
    spec = _GroupMultinomialSpec(X, codes, est.classes_.size, sw, est.fit_intercept,
                                 groups, arrays, [est.l1_ratio], est.standardize, None)
    problem = spec.full_problem()
    res = compute_path(problem, spec.penalties(problem)[0], np.array([float(est.alpha)]),
                       tol=est.tol, max_iter=est.max_iter)
    warn_unconverged([res], what="Proximal Newton (multinomial)")
    est.coef_ = np.ascontiguousarray(res.coefs[..., 0].T, dtype=X.dtype)
    est.intercept_ = np.asarray(res.intercepts[:, 0], dtype=np.float64)
    est.dual_gap_, est.kkt_violation_ = float(res.gaps[0]), float(res.kkts[0])
    est.n_iter_ = int(res.n_iters[0])


class _GroupGLMParams:
    """The parameters of the single-alpha group-lasso GLM estimators (every family)."""

    _parameter_constraints = {
        **_COMMON,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, *, groups=None, alpha=0.01, l1_ratio=0.0, group_weights=None,
                 fit_intercept=True, standardize=True, tol=1e-4, max_iter=1000,
                 exclude=None, lower_limits=None, upper_limits=None):
        self.groups = groups
        self.standardize = standardize
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.exclude = exclude
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits


class GroupLassoClassifier(MultinomialPredictMixin, _GroupGLMParams, _LinearBinaryClassifier):
    """Logistic regression with a (sparse-)group lasso penalty, fitted to a certified
    duality gap.

    Two classes: minimises ``1/Σs·Σ s_i [log(1 + e^{η_i}) - y_i η_i] + alpha·(l1_ratio·
    ||w||_1 + (1 - l1_ratio)·Σ_g c_g ||w_g||_2)``, ``η = Xw + b``, ``y_i = 1`` for
    ``classes_[1]``. K >= 3 classes: the multinomial loss ``1/Σs·Σ s_i [log Σ_k e^{η_ik}
    - η_{i,y_i}]``, ``η = X W + b``, ``W = coef_.T`` of shape (n_features, K), with
    ``alpha·(l1_ratio·Σ_j ||W_j||_2 + (1 - l1_ratio)·Σ_g c_g ||W_g||_F)``: feature j's K
    class coefficients and group g's ``|g| × K`` block selected together (with singleton
    groups of weight 1 and ``l1_ratio=0``, glmnet's ``type.multinomial="grouped"``).

    Parameters
    ----------
    groups : as :class:`~sklearn_normpen.GroupLassoRegressor`, default=None
        None: every feature its own group. Groups of weight 0 and features in no group
        are unpenalised (two classes only; with K >= 3 classes every feature must be in a
        group of positive weight).
    alpha : float, default=0.01
        Penalty strength (``>= 0``; 0 is the unpenalised fit, for two classes only: with
        3 or more use ``ElasticNetClassifier(alpha=0)``, the same model).
    l1_ratio : float in [0, 1], default=0.0
        0 is the group lasso, 1 the lasso.
    group_weights : array-like of shape (n_groups,), default=None
        ``c_g``; default ``sqrt(|g|)``.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        Fit on the columns divided by their weighted standard deviations (about the
        weighted mean, also without an intercept) and return the coefficients on the
        original scale, as :class:`~sklearn_normpen.GroupLassoRegressor` does: the
        penalty then reads ``||σ ⊙ w||`` and is invariant to each feature's units.
        Constant columns get a zero coefficient. The default, True, is glmnet's (and every
        estimator's of this package); ``standardize=False`` fits the objective above
        exactly.
    tol : float, default=1e-4
        Accepted when the duality gap is at most ``tol`` times the intercept-only loss
        (of the standardised problem under ``standardize``).
    max_iter : int, default=1000
        Maximum block-CD epochs, summed over the Newton steps.
    exclude, lower_limits, upper_limits : default=None
        Features held at zero and box limits on the coefficients, as in
        :class:`~sklearn_normpen.GroupLassoRegressor` (certified the same way; two
        classes only).

    Attributes
    ----------
    classes_, coef_ (1, n_features), intercept_ (1,), dual_gap_, kkt_violation_, n_iter_,
    n_features_in_, feature_names_in_
        As :class:`~sklearn_normpen.ElasticNetClassifier` (with K >= 3 classes ``coef_``
        (K, n_features) and ``intercept_`` (K,), summing to 0).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes, any label type.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        validate_array_params(self)
        X, y01, sw = _validate_classification(self, X, y, sample_weight, multiclass=True)
        _check_tol(self.tol, self.max_iter)
        if self.classes_.size > 2:
            _fit_group_multinomial(self, X, y01, sw)
            return self
        _fit_group_glm(self, X, y01, sw, Logistic)
        return self


class _GroupGLMPathCVParams:
    """The parameters of the group-lasso GLM path-CV estimators (every family); each class
    adds ``measure`` to ``_parameter_constraints`` with its family's measures."""

    _parameter_constraints = {
        **_COMMON,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "rule": [StrOptions({"min", "1se"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "dfmax": [Interval(Integral, 1, None, closed="left"), None],
        "pmax": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    _check_params = {"alphas": 8, "cv": 3}

    def __init__(self, *, groups=None, l1_ratio=0.0, group_weights=None, eps=1e-3,
                 alphas=100, cv=5, measure="deviance", rule="min", fit_intercept=True,
                 standardize=True, tol=1e-4, max_iter=1000, n_jobs=None,
                 random_state=None, dfmax=None, pmax=None, verbose=0, exclude=None,
                 lower_limits=None, upper_limits=None):
        self.groups = groups
        self.standardize = standardize
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.measure = measure
        self.rule = rule
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.exclude = exclude
        self.lower_limits = lower_limits
        self.upper_limits = upper_limits
        self.dfmax = dfmax
        self.pmax = pmax
        self.verbose = verbose


class GroupLassoClassifierPathCV(MultinomialPredictMixin, _GroupGLMPathCVParams,
                                 PathCVMixin, _LinearBinaryClassifier):
    """Logistic regression with a (sparse-)group lasso penalty whose whole path is
    cross-validated (stratified folds, glmnet's measures, λ_min / λ_1se). Two classes: the
    binomial family; K >= 3: the multinomial family of :class:`GroupLassoClassifier`
    (each group's ``|g| × K`` block one group; ``coef_`` (K, p), ``coef_path_``
    (K, p, n_alphas); measure "auc" is for two classes only).

    Parameters
    ----------
    groups, group_weights, fit_intercept, standardize, tol, max_iter, exclude, \
lower_limits, upper_limits
        As :class:`GroupLassoClassifier` (under ``standardize`` every training fold is
        standardised by its own standard deviations, as ``cv.glmnet`` does).
    l1_ratio : float or list of float, default=0.0
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    cv : int, cross-validation generator or iterable, default=5
        An int gives ``StratifiedKFold``.
    measure : {"deviance", "misclassification", "auc", "mse", "mae"}, default="deviance"
    rule : {"min", "1se"}, default="min"
    n_jobs : int, default=None
    random_state : int, RandomState instance or None, default=None
    dfmax, pmax : int, default=None
        As in :class:`~sklearn_normpen.ElasticNetClassifierPathCV`, counting groups.
    verbose : int, default=0
        As in :class:`~sklearn_normpen.ElasticNetClassifierPathCV`.

    Attributes
    ----------
    As :class:`~sklearn_normpen.ElasticNetClassifierPathCV`.
    """

    _parameter_constraints = {**_GroupGLMPathCVParams._parameter_constraints,
                              "measure": [StrOptions(set(MEASURES))]}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path, cross-validate it, choose alpha (and l1_ratio).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two or more classes, any label type (K >= 3: the multinomial family).
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Sample groups for a group-aware ``cv`` splitter (the feature groups are the
            ``groups`` parameter).

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
            _fit_group_multinomial_path_cv(self, X, y01, sw, groups, cv)
            return self
        _fit_group_glm_path_cv(self, X, y01, sw, groups, Logistic, MEASURES[self.measure],
                               cv)
        return self
