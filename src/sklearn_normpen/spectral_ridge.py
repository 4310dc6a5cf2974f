"""Ridge regression solved once in the spectral basis: every alpha, exact leave-one-out,
generalised cross-validation, degrees of freedom and per-target alphas from one
decomposition.

Objective (identical to scikit-learn's :class:`~sklearn.linear_model.Ridge`), per target::

    Σ_i s_i (y_i - x_iᵀw - b)² + alpha·||w||²

with sample weights ``s`` and an unpenalised intercept ``b``. With the centred,
``sqrt(s)``-scaled design ``Xs = U diag(σ) Vᵀ``::

    w(alpha) = V diag(σ / (σ² + alpha)) Uᵀ ys

so each singular direction is shrunk by its own factor and one decomposition serves the
whole path (see :mod:`sklearn_normpen._solvers.spectral` for how it is chosen).
"""
import numbers

import numpy as np
import scipy.sparse as sp

from ._design import check_scale
from ._compat import Interval, StrOptions, _fit_context
from ._dask import any_dask, fit_spectral_ridge, fit_spectral_ridge_cv
from ._cv import fold_weights, resolve_splits, run_folds
from ._solvers import spectral as _spectral
from ._solvers.spectral import (METHODS, IterativeRidge, check_dense_budget,
                                dense_matrix_bytes, gcv_errors, kfold_fold_errors,
                                loo_errors, spectral_decompose)
from ._validation import (_as_float_array, validate_alphas, validate_penalty_factor,
                          validate_sample_weight, validate_Xy)
from .base import NormPenRegressor
from .selection import cv_statistics, information_criterion, select_min_1se


def _check_alpha_per_target(alpha, n_targets):
    """``alpha``: a finite non-negative float, or one such value per target."""
    arr = _as_float_array(alpha, "alpha") if not isinstance(alpha, str) else None
    if arr is None or arr.ndim > 1:
        raise ValueError(f"alpha must be a float or a 1-D array of floats; got {alpha!r}.")
    if arr.ndim == 1 and arr.shape[0] != n_targets:
        raise ValueError(f"alpha has {arr.shape[0]} values but y has {n_targets} target(s): "
                         "pass one alpha per target or a single float.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"alpha must be finite and non-negative; got {alpha!r}.")
    return np.broadcast_to(arr, (n_targets,)).astype(np.float64)


def _check_penalty_factor(penalty_factor, n_features):
    """Positive per-feature penalty scales, or None."""
    if penalty_factor is None:
        return None
    f = validate_penalty_factor(penalty_factor, n_features)
    if np.any(f <= 0):
        raise ValueError("penalty_factor must be positive for spectral ridge (a zero factor, "
                         f"an unpenalised feature, is not supported); got {f[f <= 0][:5]}.")
    return f


def _targets_2d(y):
    return y.reshape(y.shape[0], -1) if y.ndim == 1 else y


class _MultiTargetMixin:
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class SpectralRidge(_MultiTargetMixin, NormPenRegressor):
    """Ridge regression through one spectral decomposition, with a cheap path.

    Minimises ``Σ_i s_i (y_i - x_iᵀw - b)² + alpha·||w||²`` per target, exactly as
    :class:`sklearn.linear_model.Ridge`. The decomposition of the centred, weighted design is
    kept, so :meth:`path` gives the coefficients for any further alphas in ``O(p·k)`` per
    alpha and target (``k`` the rank) without refactoring.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Regularisation strength (non-negative); one value per target is allowed.
        ``alpha=0`` gives the minimum-norm least-squares solution.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (by weighted centring).
    solver : {"auto", "svd", "gram", "kernel", "lsqr"}, default="auto"
        ``"svd"``: thin SVD of the design (dense only; the most accurate). ``"gram"``:
        eigendecomposition of ``XᵀX`` (``n ≫ p``). ``"kernel"``: eigendecomposition of
        ``XXᵀ`` (``p ≫ n``). ``"lsqr"``: no decomposition; each alpha (and target) is
        solved iteratively by LSQR on the implicitly centred, weighted design, warm-started
        along :meth:`path` (memory ``O(n + p)`` besides a copy of ``X``). ``"auto"``: the
        smaller Gram matrix; for dense ``X`` it falls back to the SVD when the Gram spectrum
        shows singular values below ``1e-4·σ_max`` (collinear or rank-deficient ``X``),
        where squaring the condition number would cost accuracy. Sparse ``X`` is never
        densified (sparse products form the Gram).

        Memory budget: for sparse ``X`` a dense Gram matrix (``min(n, p)²`` floats with
        ``"auto"``) is formed only up to 1 GiB
        (``sklearn_normpen._solvers.spectral.DENSE_BUDGET_BYTES``); above it ``"auto"``
        uses ``"lsqr"`` and ``"gram"``/``"kernel"`` raise before allocating. A sparse
        100,000 x 100,000 design with 10⁶ non-zeros is thus fitted by LSQR.
    penalty_factor : array-like of shape (n_features,), default=None
        Positive ``f_j`` for the generalised ridge penalty ``alpha·Σ_j f_j w_j²`` (e.g.
        ``f_j`` = the variance of feature ``j`` makes the fit invariant to feature units, as
        standardising would). Solved as plain ridge on ``X diag(f^(-1/2))``; singular values
        and degrees of freedom refer to that scaled design.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    singular_values_ : ndarray of shape (rank_,)
        Non-zero singular values of the centred, ``sqrt(s)``-scaled design, decreasing.
    rank_ : int
    df_ : float or ndarray of shape (n_targets,)
        Effective degrees of freedom ``Σ σ² / (σ² + alpha)`` of the penalised part; the
        trace of the hat matrix is ``df_ + 1`` with an intercept.
    solver_ : str
        The route used ("svd", "gram", "kernel" or "lsqr").
    n_iter_ : int or None
        Total LSQR iterations with ``solver_="lsqr"``; None for a decomposition.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    ``singular_values_``, ``rank_`` and ``df_`` need the decomposition: they are None
    with ``solver_="lsqr"``.

    Notes
    -----
    The decomposition is computed in float64 even for float32 input (a float32 Gram
    matrix would lose every singular value below about ``3e-4·σ_max``); coefficients are
    returned in the input dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_normpen import SpectralRidge
    >>> X = np.array([[0., 0.], [1., 1.], [2., 1.]]); y = np.array([0., 1., 2.])
    >>> reg = SpectralRidge(alpha=0.5).fit(X, y)
    >>> coefs, intercepts = reg.path([10.0, 1.0, 0.1])
    >>> coefs.shape
    (2, 3)
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(METHODS) | {"lsqr"})],
        "penalty_factor": [None, "array-like"],
    }

    def __init__(self, *, alpha=1.0, fit_intercept=True, solver="auto", penalty_factor=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.penalty_factor = penalty_factor

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model (one decomposition).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if any_dask(X, y, sample_weight):  # the Gram route from one pass on the cluster
            return fit_spectral_ridge(self, X, y, sample_weight)
        X, y = validate_Xy(self, X, y, multi_output=True)
        sw = validate_sample_weight(sample_weight, X, rescale=False)
        check_scale(X, np.asarray(y, dtype=np.float64) - np.mean(y, axis=0), X.dtype)
        Y = _targets_2d(y)
        alpha = _check_alpha_per_target(self.alpha, Y.shape[1])
        pf = _check_penalty_factor(self.penalty_factor, X.shape[1])
        self._y_ndim = y.ndim
        self._dtype = X.dtype
        if _use_lsqr(X, self.solver):
            it = IterativeRidge(X, Y, sw, self.fit_intercept, penalty_factor=pf)
            W, b = it.coef_at(alpha)
            self._decomp, self._iterative = None, it
            self.singular_values_ = self.rank_ = self.df_ = None
            self.solver_, self.n_iter_ = "lsqr", it.n_iter_
        else:
            dec = spectral_decompose(X, Y, sw, self.fit_intercept, self.solver,
                                     penalty_factor=pf)
            W, b = dec.coef_at(alpha)
            self._decomp, self._iterative = dec, None
            self.singular_values_ = dec.singular_values.astype(X.dtype)
            self.rank_ = dec.rank
            self.solver_, self.n_iter_ = dec.method, None
            df = np.array([dec.df([a])[0] for a in alpha])
            self.df_ = float(df[0]) if np.ndim(self.alpha) == 0 else df
        self.coef_ = (W[0] if y.ndim == 1 else W).astype(X.dtype)
        self.intercept_ = _intercept_out(b, y.ndim, self.fit_intercept)
        return self

    def path(self, alphas):
        """Coefficients for many alphas from the stored decomposition (no refactoring).

        Parameters
        ----------
        alphas : array-like of shape (n_alphas,)
            Non-negative, finite; used in the order given.

        Returns
        -------
        coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        intercepts : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        """
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(self, "coef_")
        a = np.asarray(alphas, dtype=np.float64).reshape(-1)
        validate_alphas(a, allow_zero=True)  # raises on bad values; keep the user's order
        route = self._decomp if self._decomp is not None else self._iterative
        W, b = route.coef_path(a)
        if not self.fit_intercept:
            b = np.zeros_like(b)
        if self._y_ndim == 1:
            W, b = W[0], b[0]
        return W.astype(self._dtype), b.astype(self._dtype)

    def df(self, alphas):
        """Effective degrees of freedom ``Σ σ² / (σ² + alpha)`` for each alpha."""
        from sklearn.utils.validation import check_is_fitted
        check_is_fitted(self, "coef_")
        a = np.asarray(alphas, dtype=np.float64).reshape(-1)
        validate_alphas(a, allow_zero=True)
        if self._decomp is None:
            raise ValueError("df needs the singular values, which solver_='lsqr' does not "
                             "compute; refit with a decomposition solver.")
        return self._decomp.df(a)


def _rss_path(dec, alphas):
    """``RSS = Σ s_i r_i²`` of every alpha and target from the decomposition, shape (A, T):
    ``||ys||² - ||Z||²`` (outside the span of U, no alpha fits it) plus
    ``Σ_j (α / (σ_j² + α))² Z_j²`` (each direction's unfitted share)."""
    lam = dec.singular_values ** 2
    Z2 = np.asarray(dec.Z, dtype=np.float64) ** 2                     # (k, T)
    perp = np.maximum(dec.ys_sq - Z2.sum(axis=0), 0.0)                # (T,)
    n_fit = dec.n_samples - (0 if dec.sample_weight is None else
                             int(np.sum(dec.sample_weight == 0)))
    if dec.rank + int(dec.fit_intercept) >= n_fit:
        perp[:] = 0.0  # the row space is spanned: exactly zero (as gcv_errors)
    a = np.asarray(alphas, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(lam[:, None] > 0, a[None, :] / (lam[:, None] + a[None, :]), 1.0)  # (k, A)
    return perp[None, :] + (R ** 2).T @ Z2


def _use_lsqr(X, solver):
    """The iterative route: asked for, or sparse X whose Gram matrix exceeds the budget."""
    if solver == "lsqr":
        return True
    return (solver == "auto" and sp.issparse(X)
            and dense_matrix_bytes(X.shape, "auto")[1] > _spectral.DENSE_BUDGET_BYTES)


def _intercept_out(b, y_ndim, fit_intercept):
    """The intercept(s) in float64 for every input dtype (the package's one rule: a
    float32 intercept beside an offset column, ``x̄ᵀw ~ 1e4``, would round by ~1e-3)."""
    if not fit_intercept:
        return 0.0
    b = np.asarray(b, dtype=np.float64)
    return b[0] if y_ndim == 1 else b


class SpectralRidgeCV(_MultiTargetMixin, NormPenRegressor):
    """Ridge with the alpha chosen by exact leave-one-out, GCV or K-fold CV, per target.

    One decomposition of the centred, weighted design serves every alpha (and, for
    leave-one-out and GCV, every error): see :class:`SpectralRidge` for the objective.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,) or int, default=(0.1, 1.0, 10.0)
        Candidate strengths (positive, finite; sorted decreasing in ``alphas_``). An int
        ``m`` asks for ``m`` values log-spaced from ``100·σ_max²`` down to ``1e-6·σ_max²``
        (``σ_max`` the largest singular value of the centred weighted design), which covers
        effective degrees of freedom from nearly 0 to nearly the rank.
    cv : None, "gcv", "aic", "bic", int, cross-validation generator or iterable, default=None
        ``None``: exact leave-one-out errors for every alpha from the one decomposition (equal
        to refitting ``n`` times, intercept and centring re-estimated each time).
        ``"gcv"``: generalised cross-validation ``(RSS/Σs) / (1 - tr(H)/n)²`` (Golub, Heath
        & Wahba), with ``tr(H) = df + 1`` with an intercept: a different criterion from
        leave-one-out (it replaces each leverage by their mean). ``"aic"`` / ``"bic"``:
        the information criteria of :func:`~sklearn_normpen.selection.information_criterion`
        in their profile-likelihood form (no noise variance needed),
        ``n log(RSS/n) + k·tr(H)`` with ``k = 2`` or ``log n``, ``n = Σs`` and
        ``RSS = Σ s_i r_i²`` (frequency weights). Otherwise K-fold CV (one decomposition
        per fold) with the package's fold statistics.
    rule : {"min", "1se"}, default="min"
        ``"min"``: the alpha of least mean error. ``"1se"``: the largest alpha (fewest degrees
        of freedom) whose mean error is within one standard error of the minimum. Standard
        errors: K-fold, the weighted fold statistic of :func:`~sklearn_normpen.selection.cv_statistics`;
        leave-one-out, the same formula with every sample a fold of weight ``s_i``
        (``sqrt(Σ s_i (e_i - m)² / Σs / (n - 1))``, the standard error of the mean LOO error).
        GCV and the information criteria have no standard error: ``rule="1se"`` with
        ``cv="gcv"``, ``"aic"`` or ``"bic"`` is an error.
    alpha_per_target : bool, default=False
        Choose one alpha per target (any ``cv``). Otherwise the error averaged over targets
        chooses one alpha for all.
    fit_intercept : bool, default=True
    solver : {"auto", "svd", "gram", "kernel"}, default="auto"
        The decomposition (see :class:`SpectralRidge`). Every ``cv`` mode needs one: for
        sparse ``X`` whose dense Gram matrix (``min(n, p)²`` floats) exceeds the 1 GiB
        budget (``sklearn_normpen._solvers.spectral.DENSE_BUDGET_BYTES``), ``fit`` raises
        before allocating it.
    store_cv_values : bool, default=False
        Leave-one-out only: keep every sample's squared LOO error in ``cv_values_`` (and in
        ``mse_path_``). Costs ``n·n_targets·n_alphas`` floats.
    penalty_factor : array-like of shape (n_features,), default=None
        Positive per-feature scales of the generalised ridge penalty ``alpha·Σ f_j w_j²``
        (see :class:`SpectralRidge`); every ``cv`` mode works unchanged.
    n_jobs : int, default=None
        Parallel folds for K-fold CV (``sklearn.utils.parallel``).

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
        The candidates, decreasing.
    alpha_, alpha_min_, alpha_1se_ : float or ndarray of shape (n_targets,)
        The chosen alpha (per ``rule``) and the two candidates of the rule; arrays with
        ``alpha_per_target=True`` and 2-D ``y``.
    criterion_ : str
        "loo", "gcv", "aic", "bic" or "kfold".
    cv_mean_ : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Mean error per alpha: weighted mean squared LOO error, the GCV value, the AIC / BIC
        value, or the K-fold mean. Per target when ``alpha_per_target`` and 2-D ``y``
        (otherwise the mean over targets).
    cv_se_ : ndarray like ``cv_mean_``
        Its standard error (NaN for GCV and the criteria, where none is defined).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_targets, n_alphas, n_folds), or None
        K-fold: held-out MSE per fold. Leave-one-out with ``store_cv_values``: per-sample
        squared errors (samples as folds). None otherwise.
    cv_values_ : ndarray of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
        Leave-one-out with ``store_cv_values`` only: squared LOO error of each sample on the
        original scale (scikit-learn's ``RidgeCV.cv_results_`` holds ``s_i`` times this).
    df_path_ : ndarray of shape (n_alphas,)
        Effective degrees of freedom ``Σ σ² / (σ² + alpha)`` of each candidate.
    coef_path_ : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        Full-data coefficients for every candidate (formed on first access from the stored
        decomposition, then cached).
    intercept_path_ : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
    coef_, intercept_ : the full-data fit at ``alpha_``.
    singular_values_ : ndarray of shape (rank_,)
    rank_ : int
    solver_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_normpen import SpectralRidgeCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SpectralRidgeCV(alphas=50).fit(X, y)
    >>> reg.cv_mean_.shape
    (50,)
    """

    _parameter_constraints = {
        "alphas": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "cv": [None, "cv_object", StrOptions({"gcv", "aic", "bic"})],
        "rule": [StrOptions({"min", "1se"})],
        "alpha_per_target": ["boolean"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(METHODS))],
        "store_cv_values": ["boolean"],
        "penalty_factor": [None, "array-like"],
        "n_jobs": [None, numbers.Integral],
    }

    def __init__(self, *, alphas=(0.1, 1.0, 10.0), cv=None, rule="min",
                 alpha_per_target=False, fit_intercept=True, solver="auto",
                 store_cv_values=False, penalty_factor=None, n_jobs=None):
        self.alphas = alphas
        self.cv = cv
        self.rule = rule
        self.alpha_per_target = alpha_per_target
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.store_cv_values = store_cv_values
        self.penalty_factor = penalty_factor
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose alpha and fit on the whole data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware splitter (K-fold only).

        Returns
        -------
        self : object
        """
        if any_dask(X, y, sample_weight, self.cv):  # GCV / K-fold from fold moments
            if isinstance(self.cv, str) and self.cv != "gcv":
                raise ValueError(f"cv={self.cv!r} is not available with dask input yet: use "
                                 "cv='gcv' or K-fold.")
            return fit_spectral_ridge_cv(self, X, y, sample_weight, groups)
        X, y = validate_Xy(self, X, y, multi_output=True)
        sw = validate_sample_weight(sample_weight, X, rescale=False)
        check_scale(X, np.asarray(y, dtype=np.float64) - np.mean(y, axis=0), X.dtype)
        Y = _targets_2d(y)
        n, T = Y.shape
        if isinstance(self.cv, str):
            criterion = self.cv  # "gcv", "aic" or "bic"
            if self.rule == "1se":
                raise ValueError(f"rule='1se' needs a standard error, which "
                                 f"{self.cv.upper()} does not define: use cv=None "
                                 "(leave-one-out) or K-fold with rule='1se', or rule='min' "
                                 f"with cv={self.cv!r}.")
        elif self.cv is None:
            criterion = "loo"
            if n < 2:
                raise ValueError("leave-one-out needs at least 2 samples; got n_samples=1.")
        else:
            criterion = "kfold"
        if self.store_cv_values and criterion != "loo":
            raise ValueError("store_cv_values=True is only available with cv=None "
                             "(leave-one-out).")

        int_grid = isinstance(self.alphas, (numbers.Integral, np.integer)) and \
            not isinstance(self.alphas, bool)
        alphas = None if int_grid else validate_alphas(self.alphas)
        n_cols = (int(self.alphas) if int_grid else alphas.shape[0]) * T
        pf = _check_penalty_factor(self.penalty_factor, X.shape[1])
        check_dense_budget(
            X, self.solver, "SpectralRidgeCV",
            "Leave-one-out, GCV and K-fold CV all need this decomposition: choose alpha on a "
            "subsample, or fit SpectralRidge (iterative LSQR route) at given alphas.")
        dec = spectral_decompose(X, Y, sw, self.fit_intercept, self.solver,
                                 compute_u=criterion == "loo", path_columns=n_cols,
                                 penalty_factor=pf)
        if int_grid:
            top = dec.singular_values[0] ** 2 if dec.rank else 1.0
            alphas = np.geomspace(1e2 * top, 1e-6 * top, int(self.alphas))
        per_target = bool(self.alpha_per_target) and T > 1

        mse_path = cv_values = None
        if criterion == "loo":
            loo = loo_errors(dec, alphas, store=self.store_cv_values)
            if per_target:
                mean, se = loo.mean.T, loo.se.T
            else:
                mean, se = loo.mean_avg, loo.se_avg
            if loo.values is not None:
                vals = loo.values
                self._fill_zero_weight_loo(vals, X, Y, sw, dec, alphas)
                cv_values = vals[:, 0, :] if y.ndim == 1 else vals
                mse_path = (np.moveaxis(vals, 0, -1) if per_target
                            else vals.mean(axis=1).T)
        elif criterion == "gcv":
            gcv, _ = gcv_errors(dec, alphas)
            mean = gcv.T if per_target else gcv.mean(axis=1)
            se = np.full(mean.shape, np.nan)
        elif criterion in ("aic", "bic"):
            tr_h = dec.df(alphas) + float(self.fit_intercept)
            ic = information_criterion(_rss_path(dec, alphas), tr_h[:, None], dec.sw_sum,
                                       criterion=criterion)          # (A, T)
            mean = ic.T if per_target else ic.mean(axis=1)
            se = np.full(mean.shape, np.nan)
        else:
            splits = resolve_splits(self.cv, X, y, groups)
            errs = run_folds(kfold_fold_errors, splits, n_jobs=self.n_jobs, X=X, Y=Y,
                             sample_weight=sw, fit_intercept=self.fit_intercept,
                             alphas=alphas, method=self.solver, penalty_factor=pf)
            E = np.stack(errs, axis=-1)                        # (A, T, K)
            mse_path = np.moveaxis(E, 1, 0) if per_target else E.mean(axis=1)
            mean, se = cv_statistics(mse_path, fold_weights(splits, sw))

        if per_target:
            idx = np.array([select_min_1se(mean[t], se[t], alphas) for t in range(T)])
            i_min, i_1se = idx[:, 0], idx[:, 1]
        else:
            i_min, i_1se = select_min_1se(mean, se, alphas)
        i_best = i_min if self.rule == "min" else i_1se

        a_best = alphas[i_best] if per_target else np.full(T, alphas[i_best])
        coef, intercept = dec.coef_at(a_best)                   # (T, p), (T,)
        dt = X.dtype
        self.alphas_ = alphas
        self.criterion_ = criterion
        self.alpha_min_ = alphas[i_min] if per_target else float(alphas[i_min])
        self.alpha_1se_ = alphas[i_1se] if per_target else float(alphas[i_1se])
        self.alpha_ = self.alpha_min_ if self.rule == "min" else self.alpha_1se_
        self.cv_mean_, self.cv_se_ = mean, se
        self.mse_path_ = mse_path
        if cv_values is not None:
            self.cv_values_ = cv_values.astype(dt)
        self.df_path_ = dec.df(alphas)
        # The full path is formed on first access only (p·k per alpha and target, or
        # p·n without V in the kernel route, where U and the design are kept instead).
        self._decomp, self._y_ndim, self._dtype = dec, y.ndim, dt
        self.__dict__.pop("_path", None)
        dec.ys = None
        if dec.V is not None:
            dec.U = None  # n x k: not needed any more
        self.coef_ = (coef[0] if y.ndim == 1 else coef).astype(dt)
        self.intercept_ = _intercept_out(intercept, y.ndim, self.fit_intercept)
        self.singular_values_ = dec.singular_values.astype(dt)
        self.rank_ = dec.rank
        self.solver_ = dec.method
        self.best_score_ = -(mean[np.arange(T), i_best] if per_target else mean[i_best])
        return self

    def _full_path(self):
        if "_path" not in self.__dict__:
            dec = self.__dict__.get("_decomp")
            if dec is None:
                raise AttributeError("coef_path_ and intercept_path_ exist after fit.")
            W, b = dec.coef_path(self.alphas_)
            if not self.fit_intercept:
                b = np.zeros_like(b)
            dt = self._dtype
            if self._y_ndim == 1:
                W, b = W[0], b[0]
            self._path = (W.astype(dt), b.astype(dt))
        return self._path

    @property
    def coef_path_(self):
        """Full-data coefficients for every alpha, shape (n_features, n_alphas) or
        (n_targets, n_features, n_alphas); formed from the stored decomposition on first
        access (``O(p·k)`` per alpha and target) and cached."""
        return self._full_path()[0]

    @property
    def intercept_path_(self):
        """Full-data intercepts for every alpha, shape (n_alphas,) or (n_targets, n_alphas)."""
        return self._full_path()[1]

    @staticmethod
    def _fill_zero_weight_loo(vals, X, Y, sw, dec, alphas):
        # A zero-weight sample does not move the fit: its LOO error is the full-fit error.
        if sw is None or not np.any(sw == 0):
            return
        rows = np.flatnonzero(sw == 0)
        W, b = dec.coef_path(alphas)
        Xr = X[rows]
        for t in range(Y.shape[1]):
            pred = np.asarray(Xr @ W[t]) + b[t][None, :]
            vals[rows, t, :] = (Y[rows, t][:, None] - pred) ** 2
