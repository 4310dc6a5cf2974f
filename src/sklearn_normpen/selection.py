"""Cross-validation statistics and the λ_min / λ_1se rule — one implementation.

Every CV estimator of the package and the ``GridSearchCV`` refit callables of
:mod:`sklearn_normpen.model_selection` call these two functions.

Statistics (as ``cv.glmnet``): fold ``k`` has weight ``W_k`` (the sum of its held-out
sample weights; its size with unit weights) and error ``e_k``.

* mean            ``m = Σ W_k e_k / Σ W_k``
* standard error  ``se = sqrt( Σ W_k (e_k - m)² / Σ W_k / (K - 1) )``

Rule: ``i_min`` is the most penalised candidate (largest "simplicity", e.g. largest alpha)
attaining the minimum mean; ``i_1se`` is the most penalised candidate whose mean is at
most ``m[i_min] + se[i_min]``. Hence ``alpha_1se >= alpha_min`` always.
"""
import numpy as np
import scipy.sparse as sp


def cv_statistics(fold_errors, fold_weights=None, *, se="glmnet"):
    """Mean and standard error over the last axis (the folds) of ``fold_errors``.

    Parameters
    ----------
    fold_errors : ndarray of shape (..., n_folds)
        Error of each candidate on each fold (lower is better). NaN entries are skipped
        (that fold does not count for that candidate).
    fold_weights : array-like of shape (n_folds,), default=None
        Fold weights ``W_k``; equal weights when None.
    se : {"glmnet", "std"}, default="glmnet"
        ``"glmnet"``: the weighted standard error above (divides by ``K - 1``);
        ``"std"``: the plain weighted standard deviation of the fold errors, without the
        ``1/sqrt(K - 1)`` (the variant used in scikit-learn's gallery example).

    Returns
    -------
    mean, std_error : ndarray of shape fold_errors.shape[:-1]
    """
    e = np.asarray(fold_errors, dtype=np.float64)
    n_folds = e.shape[-1]
    w = np.ones(n_folds) if fold_weights is None else np.asarray(fold_weights, np.float64)
    if w.shape != (n_folds,):
        raise ValueError(f"fold_weights must have shape ({n_folds},); got {w.shape}.")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("fold_weights must be finite and non-negative.")
    valid = np.isfinite(e)
    W = np.where(valid, w, 0.0)
    e0 = np.where(valid, e, 0.0)
    sw = W.sum(axis=-1)
    k = valid.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (W * e0).sum(axis=-1) / sw
        # deviations scaled by their largest before squaring: errors of data near the
        # float range (y ~ 1e80: MSE ~ 1e160) would overflow their squares
        dev = np.where(valid, e0 - mean[..., None], 0.0)
        scale = np.max(np.abs(dev), axis=-1, initial=0.0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        rel = (W * (dev / scale[..., None]) ** 2).sum(axis=-1) / sw
        if se == "glmnet":
            std_error = scale * np.sqrt(rel / (k - 1))
        elif se == "std":
            std_error = scale * np.sqrt(rel)
        else:
            raise ValueError(f"se must be 'glmnet' or 'std'; got {se!r}.")
    mean = np.where(k > 0, mean, np.nan)
    std_error = np.where(k > 1, std_error, np.nan)
    return mean, std_error


def select_min_1se(mean, std_error, simplicity):
    """Indices of the λ_min and λ_1se candidates.

    Parameters
    ----------
    mean : array-like of shape (n_candidates,)
        Mean CV error per candidate (lower is better; NaN candidates are never chosen).
    std_error : array-like of shape (n_candidates,)
        Its standard error (NaN treated as 0: then λ_1se = λ_min).
    simplicity : array-like of shape (n_candidates,) or (n_candidates, n_keys)
        Larger means simpler (the regularisation strength, e.g. alpha). Several columns
        are compared lexicographically, the first most significant (the relaxed grid:
        alpha, then gamma).

    Returns
    -------
    i_min, i_1se : int
        ``i_min``: the simplest candidate attaining the minimum mean. ``i_1se``: the simplest
        candidate whose mean is within one standard error of ``mean[i_min]``; among equally
        simple ones the lowest mean, then the first index.
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std_error, dtype=np.float64)
    c = np.asarray(simplicity, dtype=np.float64)
    if not (m.shape == s.shape == c.shape[:1]) or m.ndim != 1 or c.ndim not in (1, 2):
        raise ValueError("mean, std_error and simplicity must be 1-D of the same length.")
    ok = np.isfinite(m)
    if not ok.any():
        raise ValueError("every candidate has a NaN or infinite CV error; nothing to select.")
    best = np.min(m[ok])
    i_min = _simplest(np.flatnonzero(ok & (m == best)), m, c)
    thr = best + (s[i_min] if np.isfinite(s[i_min]) else 0.0)
    i_1se = _simplest(np.flatnonzero(ok & (m <= thr)), m, c)
    return int(i_min), int(i_1se)


def _simplest(idx, m, c):
    # Largest simplicity (lexicographic over c's columns); ties by lower mean, then the
    # first index (lexsort: last key first).
    keys = [-c[idx]] if c.ndim == 1 else [-c[idx, k] for k in range(c.shape[1])][::-1]
    order = np.lexsort((idx, m[idx], *keys))
    return idx[order[0]]


def select_on_paths(fold_errors, fold_weights, alphas, gammas=None):
    """CV statistics and the λ_min / λ_1se choice for one or several alpha paths.

    The shared last step of every ``*PathCV`` estimator.

    Parameters
    ----------
    fold_errors : ndarray of shape (n_paths, n_alphas, n_folds)
        Held-out error of each path (e.g. one per ``l1_ratio``) at each alpha on each fold;
        with ``gammas``, of shape (n_paths, n_gammas, n_alphas, n_folds).
    fold_weights : ndarray of shape (n_folds,)
        Fold weights ``W_k`` (see :func:`cv_statistics`).
    alphas : ndarray of shape (n_paths, n_alphas) or (n_alphas,)
        The alpha grid of each path.
    gammas : ndarray of shape (n_gammas,), default=None
        The relaxation grid (relaxed fits): the rule then runs on the joint (alpha, gamma)
        grid of each path, "simplest" meaning the largest alpha, then the largest gamma.

    Returns
    -------
    result : dict
        ``mean``, ``se`` of shape (n_paths, n_alphas) (``(n_paths, n_gammas, n_alphas)``
        with ``gammas``); ``best_path``: the path whose minimum mean is lowest (ties: the
        first); ``i_min``, ``i_1se``: indices into that path's grid; ``alpha_min``,
        ``alpha_1se``; with ``gammas`` also ``g_min``, ``g_1se`` (indices into ``gammas``)
        and ``gamma_min``, ``gamma_1se``.
    """
    if gammas is not None:
        return _select_relaxed(fold_errors, fold_weights, alphas, gammas)
    e = np.asarray(fold_errors, dtype=np.float64)
    if e.ndim != 3:
        raise ValueError(f"fold_errors must be 3-D (n_paths, n_alphas, n_folds); got {e.shape}.")
    a = np.broadcast_to(np.asarray(alphas, dtype=np.float64), e.shape[:2])
    mean, se = cv_statistics(e, fold_weights)
    path_best = np.array([np.nanmin(m) if np.isfinite(m).any() else np.inf for m in mean])
    best = int(np.argmin(path_best))
    i_min, i_1se = select_min_1se(mean[best], se[best], a[best])
    return dict(mean=mean, se=se, best_path=best, i_min=i_min, i_1se=i_1se,
                alpha_min=float(a[best, i_min]), alpha_1se=float(a[best, i_1se]))


def _select_relaxed(fold_errors, fold_weights, alphas, gammas):
    e = np.asarray(fold_errors, dtype=np.float64)
    if e.ndim != 4:
        raise ValueError("fold_errors must be 4-D (n_paths, n_gammas, n_alphas, n_folds) "
                         f"with gammas; got {e.shape}.")
    P, G, K, _ = e.shape
    g = np.asarray(gammas, dtype=np.float64)
    if g.shape != (G,):
        raise ValueError(f"gammas must have shape ({G},); got {g.shape}.")
    a = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (P, K))
    mean, se = cv_statistics(e, fold_weights)
    path_best = np.array([np.nanmin(m) if np.isfinite(m).any() else np.inf for m in mean])
    best = int(np.argmin(path_best))
    # candidates flattened gamma-major: c = gi * K + ai
    keys = np.column_stack([np.tile(a[best], G), np.repeat(g, K)])
    c_min, c_1se = select_min_1se(mean[best].ravel(), se[best].ravel(), keys)
    g_min, i_min = divmod(c_min, K)
    g_1se, i_1se = divmod(c_1se, K)
    return dict(mean=mean, se=se, best_path=best, i_min=i_min, i_1se=i_1se,
                alpha_min=float(a[best, i_min]), alpha_1se=float(a[best, i_1se]),
                g_min=g_min, g_1se=g_1se, gamma_min=float(g[g_min]),
                gamma_1se=float(g[g_1se]))


# ---------------------------------------------------------------------------------------
# Selection beyond CV: degrees of freedom along a path and information criteria
# ---------------------------------------------------------------------------------------
#
# Conventions (DESIGN.md, "Selection beyond CV"). In the criteria, sample weights ``s`` are
# frequency weights: ``n = Σs``, ``RSS = Σ s_i r_i²`` (so a weight of 2 is the row twice).
# The df formulas are invariant to the weights' scale (they use ``S`` rescaled to sum to the
# number of rows); with an intercept the columns are centred about their weighted means
# and the intercept adds 1 to every df.

_CRITERIA = ("aic", "bic", "ebic")


def check_criterion_params(criterion, noise_variance=None, ebic_gamma=0.5):
    """Clear errors for the parameters of :func:`information_criterion`."""
    if not isinstance(criterion, str) or criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA}; got {criterion!r}.")
    if noise_variance is not None and not (isinstance(noise_variance, str)
                                           and noise_variance == "profile"):
        if isinstance(noise_variance, (bool, np.bool_)) or not isinstance(
                noise_variance, (int, float, np.integer, np.floating)):
            raise ValueError("noise_variance must be None, 'profile' or a positive float; "
                             f"got {noise_variance!r}.")
        if not (np.isfinite(noise_variance) and noise_variance > 0):
            raise ValueError("noise_variance must be a finite positive float; got "
                             f"{noise_variance!r}.")
    if isinstance(ebic_gamma, (bool, np.bool_)) or not isinstance(
            ebic_gamma, (int, float, np.integer, np.floating)) or not (0 <= ebic_gamma <= 1):
        raise ValueError(f"ebic_gamma must be a float in [0, 1]; got {ebic_gamma!r}.")


def _log_binom(p, k):
    from scipy.special import gammaln
    k = np.clip(np.asarray(k, dtype=np.float64), 0, p)
    return gammaln(p + 1) - gammaln(k + 1) - gammaln(p - k + 1)


def information_criterion(rss, df, n_samples, *, criterion="aic", noise_variance=None,
                          n_features=None, model_size=None, ebic_gamma=0.5):
    """AIC, BIC or extended BIC of Gaussian fits from their residual sums of squares.

    With a noise variance ``σ²`` (scikit-learn's ``LassoLarsIC``)::

        AIC = n log(2πσ²) + RSS/σ² + 2 df        BIC = n log(2πσ²) + RSS/σ² + log(n) df

    without one (``noise_variance=None``, the profile likelihood: σ² replaced by its
    maximum-likelihood value ``RSS/n``, constants dropped)::

        AIC = n log(RSS/n) + 2 df                BIC = n log(RSS/n) + log(n) df

    and ``EBIC = BIC + 2 γ log C(p, k)`` (Chen & Chen 2008), ``k`` the model size (number
    of selected features, default ``df``), ``p = n_features``. Lower is better.

    Parameters
    ----------
    rss : array-like of shape (n_points,)
        (Weighted) residual sums of squares ``Σ s_i r_i²``.
    df : array-like of shape (n_points,)
        Degrees of freedom of each fit (including 1 for an intercept).
    n_samples : float
        ``n`` (``Σs`` with frequency weights).
    criterion : {"aic", "bic", "ebic"}, default="aic"
    noise_variance : float or None, default=None
        ``σ²``; None uses the profile form above.
    n_features : int, default=None
        ``p`` (required for ``"ebic"``).
    model_size : array-like of shape (n_points,), default=None
        ``k`` of the EBIC term (default ``df``).
    ebic_gamma : float in [0, 1], default=0.5
        ``γ``; 0 gives the BIC.

    Returns
    -------
    criterion : ndarray of shape (n_points,)
    """
    check_criterion_params(criterion, noise_variance, ebic_gamma)
    if noise_variance == "profile":
        noise_variance = None
    rss = np.asarray(rss, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    n = float(n_samples)
    if n < 1:
        raise ValueError(f"n_samples must be positive; got {n_samples!r}.")
    k = 2.0 if criterion == "aic" else np.log(n)
    if noise_variance is None:
        # a perfect fit (RSS = 0) would give -inf: floor at float64 resolution
        fit = n * np.log(np.maximum(rss, np.finfo(np.float64).tiny) / n)
    else:
        s2 = float(noise_variance)
        fit = n * np.log(2 * np.pi * s2) + rss / s2
    out = fit + k * df
    if criterion == "ebic":
        if n_features is None:
            raise ValueError("criterion='ebic' needs n_features.")
        size = df if model_size is None else np.asarray(model_size, dtype=np.float64)
        out = out + 2 * ebic_gamma * _log_binom(int(n_features), size)
    return out


def ols_noise_variance(X, y, sample_weight=None, fit_intercept=True, gram=None):
    """``σ̂² = RSS_OLS / (n - p - fit_intercept)`` (as scikit-learn's ``LassoLarsIC``), with
    ``n = Σs`` and ``RSS = Σ s_i r_i²`` (frequency weights).

    Raises a ValueError when ``n <= p + fit_intercept`` (no residual degrees of freedom):
    pass ``noise_variance`` explicitly then. ``gram = (Q, q, yᵀSy, Σs)``, the centred
    weighted Gram statistics of the same data, avoids the pass over ``X``.
    """
    p = X.shape[1]
    n = effective_n(X, sample_weight)
    if n <= p + int(fit_intercept):
        raise ValueError(
            f"The noise variance cannot be estimated by least squares with n_samples={n:g} "
            f"<= n_features + fit_intercept = {p + int(fit_intercept)}: pass noise_variance "
            "(a positive float, e.g. from domain knowledge) or noise_variance='profile' "
            "(the profile likelihood, which needs no variance).")
    if gram is not None:
        # covariance mode: RSS = yᵀSy - qᵀQ⁺q from the Gram already formed (weights of any
        # scale N); trusted unless it cancels (a near-perfect fit), then the rows below
        Q, q, yy, N = gram
        import warnings

        import scipy.linalg as sla

        from ._threads import single_blas_thread
        try:  # Cholesky when Q is safely positive definite, else least squares
            with warnings.catch_warnings(), single_blas_thread():
                warnings.simplefilter("error", sla.LinAlgWarning)
                coef = sla.solve(Q, q, assume_a="pos")
        except (np.linalg.LinAlgError, ValueError, sla.LinAlgWarning):
            coef = np.linalg.lstsq(Q, q, rcond=None)[0]
        rss_g = float(yy - q @ coef)
        if rss_g > 1e-8 * yy:
            return rss_g * (n / N) / (n - p - int(fit_intercept))
    Xc, yc = _centred_weighted(X, y, sample_weight, fit_intercept)
    coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    r = yc - Xc @ coef  # sqrt(s)-scaled, weights summing to the number of rows
    rss = float(r @ r) * (n / X.shape[0])
    ymax = float(np.max(np.abs(y))) if np.size(y) else 0.0
    if not rss > n * (100 * np.finfo(np.float64).eps * ymax) ** 2:
        # RSS at rounding level: σ̂² = 0 would make RSS/σ² meaningless (scikit-learn's
        # LassoLarsIC divides by zero here)
        raise ExactFitError(
            "The least-squares fit of y on X is exact (residual sum of squares at rounding "
            f"level, {rss:.3g}): y is constant or a linear function of X, so the noise "
            "variance estimate is 0. Pass noise_variance (a positive float) or "
            "noise_variance='profile'.")
    return rss / (n - p - int(fit_intercept))


class ExactFitError(ValueError):
    """:func:`ols_noise_variance` on data that least squares fits exactly (σ̂² = 0)."""


def default_noise_variance(X, y, sample_weight=None, fit_intercept=True, gram=None):
    """The criteria's default ``σ²``: :func:`ols_noise_variance`, or None (the profile
    likelihood) with a UserWarning when least squares fits the data exactly. (The profile
    form stays defined there, with RSS floored at float64's smallest normal: it prefers
    the smallest residual, then the fewest degrees of freedom; constant y gives the null
    model.)"""
    try:
        return ols_noise_variance(X, y, sample_weight, fit_intercept, gram=gram)
    except ExactFitError as exc:
        import warnings
        warnings.warn(f"{exc} The profile likelihood (noise_variance='profile') is used.",
                      UserWarning, stacklevel=3)
        return None


def effective_n(X, sample_weight=None):
    """``n = Σs``: sample weights are frequency weights in the criteria (a weight of 2 is
    the row twice; the number of rows with unit weights)."""
    if sample_weight is None:
        return float(X.shape[0])
    return float(np.sum(np.asarray(sample_weight, dtype=np.float64)))


def _unit_weights(sample_weight, n):
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight, dtype=np.float64)
    return s * (n / s.sum())


def _centred_weighted(X, y, sample_weight, fit_intercept, cols=None):
    """``sqrt(s)(X_cols - x̄)`` (dense float64) and ``sqrt(s)(y - ȳ)``; weights sum to n."""
    n = X.shape[0]
    s = _unit_weights(sample_weight, n)
    Xa = X if cols is None else X[:, cols]
    Xa = Xa.toarray() if sp.issparse(Xa) else np.asarray(Xa)
    Xa = np.array(Xa, dtype=np.float64)
    y64 = np.array(y, dtype=np.float64)
    if fit_intercept:
        w = np.full(n, 1.0 / n) if s is None else s / n
        Xa -= w @ Xa
        y64 -= w @ y64
    if s is not None:
        root = np.sqrt(s)
        Xa *= root[:, None]
        y64 *= root
    return Xa, y64


def path_rss(X, y, coefs, intercepts=None, sample_weight=None):
    """``Σ s_i (y_i - x_iᵀw_k - b_k)²`` for every column ``w_k`` of ``coefs`` (float64;
    the weights as given: frequency weights)."""
    coefs = np.asarray(coefs, dtype=np.float64)
    pred = np.asarray(X @ coefs, dtype=np.float64)  # float32 X: the product is float64
    if intercepts is not None:
        pred = pred + np.asarray(intercepts, dtype=np.float64)
    r = np.asarray(y, dtype=np.float64)[:, None] - pred
    if sample_weight is None:
        return (r * r).sum(axis=0)
    return np.asarray(sample_weight, dtype=np.float64) @ (r * r)


def df_lasso(coefs, fit_intercept=False):
    """Lasso degrees of freedom: ``df = |A| (+1)``, the active-set size (Zou, Hastie &
    Tibshirani 2007: an unbiased estimate of Stein's df).

    Parameters
    ----------
    coefs : ndarray of shape (n_features, n_points)

    Returns
    -------
    df : ndarray of shape (n_points,)
    """
    return (np.asarray(coefs) != 0).sum(axis=0) + float(bool(fit_intercept))


def df_elastic_net(X, coefs, alphas, *, l1_ratio, l2_factor=None, sample_weight=None,
                   fit_intercept=False, gram=None):
    """Elastic-net degrees of freedom along a path (Zou & Hastie 2005; Tibshirani & Taylor
    2012)::

        df = tr( X_A (X_Aᵀ S X_A + n·alpha·(1 - l1_ratio)·F_A)⁻¹ X_Aᵀ S )  (+1 intercept)

    ``A`` the active set (non-zero coefficients), ``F = diag(l2_factor)``, ``X`` centred
    when there is an intercept, ``S`` the weights rescaled to sum to n. With
    ``l1_ratio = 1`` this is the lasso's ``|A|`` (for ``X_A`` of full column rank); with
    ``l1_ratio = 0`` and every feature active, ridge's ``Σ d_j²/(d_j² + n·alpha)``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    coefs : ndarray of shape (n_features, n_points)
    alphas : array-like of shape (n_points,)
    l1_ratio : float in [0, 1]
    l2_factor : array-like of shape (n_features,), default=None
        Per-feature factors of the l2 term (all ones by default).
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=False
    gram : tuple (Q, N), default=None
        The centred weighted Gram ``Q = XᵀSX`` (centred with an intercept) and ``N = Σs``
        for the same weights, when already computed (covariance mode): no pass over X.

    Returns
    -------
    df : ndarray of shape (n_points,)

    Notes
    -----
    The Gram of the union of the path's active sets is formed once; each distinct active
    set is then factorised once (an eigendecomposition of its Gram when its l2 factors are
    positive): a path costs one ``n·|E|²`` product and one ``|A|³`` per distinct set.
    """
    coefs = np.asarray(coefs)
    alphas = np.asarray(alphas, dtype=np.float64)
    n, p = X.shape
    f = np.ones(p) if l2_factor is None else np.asarray(l2_factor, dtype=np.float64)
    ridge = 1.0 - float(l1_ratio)
    out = np.empty(coefs.shape[1])
    E = np.flatnonzero(np.any(coefs != 0, axis=1))
    from ._threads import single_blas_thread
    with single_blas_thread():  # k×k eigenproblems: see _threads
        _df_elastic_net_points(out, X, coefs, alphas, f, ridge, E, sample_weight,
                               fit_intercept, gram)
    return out + float(bool(fit_intercept))


def _df_elastic_net_points(out, X, coefs, alphas, f, ridge, E, sample_weight,
                           fit_intercept, gram):
    """The trace formula at every point into ``out`` (see :func:`df_elastic_net`)."""
    n = X.shape[0]
    if ridge == 0 or E.size == 0:
        out[:] = (coefs != 0).sum(axis=0)
        return
    if gram is not None:
        GE, scale = np.asarray(gram[0])[np.ix_(E, E)], float(gram[1])
    else:
        XE, _ = _centred_weighted(X, np.zeros(n), sample_weight, fit_intercept, cols=E)
        GE, scale = XE.T @ XE, float(n)
    fE = f[E]
    if np.all(fE > 0):
        # tr(G_A (G_A + c F_A)⁻¹) = tr(G̃_A (G̃_A + c I)⁻¹), G̃ = F^{-1/2} G F^{-1/2}
        r = 1 / np.sqrt(fE)
        out[:] = _ridge_traces(GE * r[:, None] * r[None, :], coefs[E] != 0,
                               scale * alphas * ridge)
        return
    cache = {}  # a zero l2 factor: no eigen form, one solve per point
    for k in range(coefs.shape[1]):
        A = np.flatnonzero(coefs[:, k])
        if A.size == 0:
            out[k] = 0.0
            continue
        key = A.tobytes()
        if key not in cache:
            ia = np.searchsorted(E, A)
            cache[key] = (GE[np.ix_(ia, ia)], f[A])
        G, fA = cache[key]
        M = G + scale * alphas[k] * ridge * np.diag(fA)
        out[k] = float(np.trace(np.linalg.lstsq(M, G, rcond=None)[0]))


#: memory of one window's batched products (points × base × border doubles), at most
_TRACE_BATCH_BYTES = 32 * 2**20


def _ridge_traces(G, sets, cs):
    """``df_t = tr(G_S (G_S + c_t I)⁻¹) = |S| - c_t·tr((G_S + c_t I)⁻¹)`` for the sets
    ``S = sets[:, t]`` (boolean, rows of the PSD ``G``) and shifts ``c_t`` of a path.

    The points are cut into windows of consecutive points whose sets differ little: a
    window's *base* is the intersection ``A`` of its sets, eigendecomposed once
    (``G_A = V diag(λ) Vᵀ``), and each set is ``A ∪ N_t`` with ``N_t`` inside the
    window's border ``B`` (union minus base). With ``d = 1/(λ + c)``, ``W = Vᵀ G_AB`` and
    the Schur complement ``Σ = G_NN + cI - Wᵀ diag(d) W`` (block inverse)::

        tr((G_S + cI)⁻¹) = Σ d + tr(Σ⁻¹ (Wᵀ diag(d²) W + I))

    evaluated in batches of points (``Σ`` and ``Wᵀ diag(d²) W`` over the prefix of the
    border, in order of entry, that holds each point's ``N_t``; rows and columns outside
    ``N_t`` replaced by the identity and by zero: the trace is unchanged): ``O(|A|³)``
    per window, ``O(|A|·|B|²)`` per point at most. A window grows while its products cost
    at most its eigendecomposition (points × ``|B|² <= |A|²``) or its border has at most
    16 features. Exact algebra: equal to an eigendecomposition of each ``G_S`` to
    rounding. ``c_t <= 0`` (alpha = 0): the rank of ``G_S``.
    """
    sizes = sets.sum(axis=0)
    out = np.zeros(sets.shape[1])
    t, T = 0, sets.shape[1]
    while t < T:
        if sizes[t] == 0:
            t += 1
            continue
        if not cs[t] > 0:  # no shift (alpha = 0): the rank of G_S
            S = np.flatnonzero(sets[:, t])
            ev = np.linalg.eigvalsh(G[np.ix_(S, S)])
            out[t] = float(np.sum(ev > S.size * np.finfo(float).eps * max(ev.max(), 0)))
            t += 1
            continue
        base, union, u = sets[:, t].copy(), sets[:, t].copy(), t + 1
        while u < T and sizes[u] > 0 and cs[u] > 0:
            b2, u2 = base & sets[:, u], union | sets[:, u]
            k, m = int(b2.sum()), int(u2.sum()) - int(b2.sum())
            if m > 16 and (u + 1 - t) * m * m > k * k:  # the products would outgrow eigh
                break
            base, union, u = b2, u2, u + 1
        out[t:u] = _ridge_window(G, np.flatnonzero(base), np.flatnonzero(union & ~base),
                                 sets[:, t:u], cs[t:u])
        t = u
    return out


def _ridge_window(G, A, B, sets, cs):
    """:func:`_ridge_traces` on one window: base ``A``, border ``B``, every set ``A ∪ N_t``
    with ``N_t ⊂ B``."""
    k, m = A.size, B.size
    if k:
        lam, V = np.linalg.eigh(G[np.ix_(A, A)])
        lam = np.clip(lam, 0, None)
        W = V.T @ G[np.ix_(A, B)]
    else:
        lam, W = np.zeros(0), np.zeros((0, m))
    d = 1.0 / (lam[None, :] + cs[:, None])                       # (T, k)
    tr = d.sum(axis=1)
    if m:
        # border in order of entry within the window; each point needs the prefix of it
        # up to its last member (sub-batches of points needing similar prefixes)
        inside = sets[B].T                                       # (T, m): N_t
        entry = np.argsort(np.argmax(np.vstack([inside, np.ones((1, m), bool)]), axis=0),
                           kind="stable")
        inside, W, GBB = inside[:, entry], W[:, entry], G[np.ix_(B[entry], B[entry])]
        need = np.where(inside.any(axis=1), m - np.argmax(inside[:, ::-1], axis=1), 0)
        order = np.argsort(need, kind="stable")
        a = 0
        while a < order.size:
            z = a + 1
            while (z < order.size and z - a < max(1, _TRACE_BATCH_BYTES // (8 * max(k, 1) * m))
                   and need[order[z]] <= max(16, 1.25 * need[order[a]])):
                z += 1
            sl, q = order[a:z], int(need[order[z - 1]])
            a = z
            if q == 0:
                continue
            Wq, I = W[:, :q], np.eye(q)
            DW = d[sl, :, None] * Wq[None]                       # (points, k, q)
            WDW = Wq.T[None] @ DW
            WD2W = np.swapaxes(DW, 1, 2) @ DW
            both = inside[sl, :q, None] & inside[sl, None, :q]
            Sig = np.where(both, GBB[None, :q, :q] + cs[sl, None, None] * I - WDW, I)
            Bt = np.where(both, WD2W + I, 0.0)
            tr[sl] += np.trace(np.linalg.solve(Sig, Bt), axis1=1, axis2=2)
    return sets.sum(axis=0) - cs * tr


def df_group_lasso(X, y, coefs, groups, *, sample_weight=None, fit_intercept=False,
                   scale=None, gram=None):
    """(Sparse-)group lasso degrees of freedom (Yuan & Lin 2006)::

        df = Σ_g 1{w_g ≠ 0} + Σ_g (‖w_g‖ / ‖w_g^{LS}‖)(|A_g| - 1)  (+1 intercept)

    ``w^{LS}`` is the unpenalised (weighted) least-squares fit on the active set ``A`` of
    the point (the same active-set refit as the relaxed fits, from the Gram of the union of
    the active sets, formed once), ``A_g`` the active features of group ``g`` (``|g|`` for the group lasso,
    fewer for the sparse-group lasso). Features in no group count 1 each when active. Exact
    in expectation for orthonormal groups (Yuan & Lin's setting). Where ``X_A`` (centred)
    is (numerically: a Cholesky pivot below 1e-10 of its column's energy) of rank below
    ``|A|`` (e.g. more active features than samples) ``w^{LS}`` is not unique and the df is
    NaN: such points are never chosen by a criterion.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    coefs : ndarray of shape (n_features, n_points)
    groups : list of array-like of int
        The penalised groups (feature indices).
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=False
    scale : array-like of shape (n_features,), default=None
        Scale on which the norms are taken (the column standard deviations under
        ``standardize``: the penalty's scale); default 1.
    gram : tuple (Q, q, x_mean, y_mean), default=None
        The centred weighted Gram ``Q = XᵀSX``, ``q = XᵀSy`` (centred with an intercept;
        weights of any scale) and the weighted means, when already computed: no pass over
        the rows.

    Returns
    -------
    df : ndarray of shape (n_points,)
    """
    coefs = np.asarray(coefs, dtype=np.float64)
    p = coefs.shape[0]
    label = np.full(p, -1)
    for g, idx in enumerate(groups):
        label[np.asarray(idx, dtype=np.intp)] = g
    n_groups = len(groups)
    sc = np.ones(p) if scale is None else np.asarray(scale, dtype=np.float64)
    # least squares on each active set from the union's Gram (formed once), Cholesky
    # extended along the path: see sklearn_normpen._relaxed.ActiveSetLS
    from ._relaxed import ActiveSetLS

    if gram is not None:
        from types import SimpleNamespace  # the covariance-mode problem protocol
        Q, q, x_mean, y_mean = gram
        rows = SimpleNamespace(mode="gram", Q64=Q, q64=q, x_mean=x_mean, y_mean=y_mean,
                               fit_intercept=bool(fit_intercept))
    else:
        from ._design import Design

        class _Rows:  # the problem protocol ActiveSetLS reads: the Design of the rows
            mode = None

            def __init__(self, design):
                self.design, self.fit_intercept = design, design.fit_intercept

        sw = None if sample_weight is None else np.asarray(sample_weight)
        rows = _Rows(Design(X, np.asarray(y), sw, fit_intercept))
    refit = ActiveSetLS(rows)
    refit.singular_solutions = False  # a rank-deficient set only needs detecting
    # sets of more than n - fit_intercept features are singular for sure (NaN without a
    # factorisation): their features need no Gram
    max_rank = X.shape[0] - int(bool(fit_intercept))
    small = (coefs != 0).sum(axis=0) <= max_rank
    LS, _, singular = refit.fit_path(np.where(small, coefs, 0.0))
    unique = small & ~singular  # else w^LS is not unique: the formula does not apply
    active = coefs != 0
    # per group and point: the norms of w_g and w_g^LS (scaled) and the active count
    grouped = label >= 0
    member = sp.csr_matrix((np.ones(int(grouped.sum())), (label[grouped],
                                                         np.flatnonzero(grouped))),
                           shape=(n_groups, p))
    num = np.sqrt(member @ (coefs * sc[:, None]) ** 2)
    den = np.sqrt(member @ (LS * sc[:, None]) ** 2)
    cnt = member @ active.astype(np.float64)
    ratio = np.divide(num, den, out=np.ones_like(num), where=den > 0)
    out = (active[~grouped].sum(axis=0)
           + np.sum(np.where(cnt > 0, 1.0 + ratio * (cnt - 1), 0.0), axis=0))
    out = np.where(unique, out, np.nan)
    return out + float(bool(fit_intercept))


def path_information_criterion(estimator, X, y, *, criterion="aic", noise_variance=None,
                               ebic_gamma=0.5, sample_weight=None):
    """AIC / BIC / EBIC along the full-data path of a fitted path-CV estimator — the
    criterion choice for users of :class:`~sklearn_normpen.ElasticNetPathCV` and
    :class:`~sklearn_normpen.GroupLassoPathCV`, next to their λ_min / λ_1se, without any
    refit.

    The degrees of freedom are those of :class:`~sklearn_normpen.ElasticNetIC` /
    :class:`~sklearn_normpen.GroupLassoIC` (lasso ``|A|``, elastic-net trace formula,
    Yuan & Lin for groups; +1 for the intercept), evaluated on ``coef_path_`` (the path of
    ``l1_ratio_``); ``X``, ``y`` and ``sample_weight`` must be the training data.

    Parameters
    ----------
    estimator : fitted ElasticNetPathCV or GroupLassoPathCV
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    criterion, noise_variance, ebic_gamma
        As in :class:`~sklearn_normpen.ElasticNetIC` (None: least-squares ``σ²`` for
        "aic"/"bic", the profile likelihood for "ebic").
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    result : dict
        ``criterion`` and ``df`` of shape (n_alphas,), ``alpha`` (the alpha of least
        criterion; ties: the largest), ``index`` (its position in the grid),
        ``noise_variance`` (the σ² used, None for the profile likelihood).
    """
    from sklearn.utils.validation import check_is_fitted

    from ._validation import validate_penalty_factor, validate_sample_weight, validate_Xy
    from .elastic_net import ElasticNetPathCV, _full_problem, _make_penalty
    from .group_lasso import GroupLassoPathCV

    check_criterion_params(criterion, noise_variance, ebic_gamma)
    if not isinstance(estimator, (ElasticNetPathCV, GroupLassoPathCV)):
        raise ValueError("estimator must be a fitted ElasticNetPathCV or GroupLassoPathCV; "
                         f"got {type(estimator).__name__}.")
    check_is_fitted(estimator, "coef_path_")
    X, y = validate_Xy(estimator, X, y, reset=False)
    sw = validate_sample_weight(sample_weight, X)
    fw = None if sample_weight is None else np.asarray(
        validate_sample_weight(sample_weight, X, rescale=False), dtype=np.float64)
    fi = estimator.fit_intercept
    coefs, alphas = estimator.coef_path_, np.asarray(estimator.alphas_)
    if alphas.ndim == 2:
        alphas = alphas[int(np.flatnonzero(np.isclose(
            np.asarray(estimator.l1_ratio, dtype=float), estimator.l1_ratio_))[0])]
    if coefs.shape != (X.shape[1], alphas.size):
        raise ValueError("X does not match the estimator's fitted path.")
    size = df_lasso(coefs)
    if isinstance(estimator, ElasticNetPathCV):
        rho = float(estimator.l1_ratio_)
        if rho == 1:
            df = size + float(fi)
        else:
            pf = validate_penalty_factor(estimator.penalty_factor, X.shape[1])
            *_, pb = _full_problem(X, y, sw, fi, estimator.precompute)
            pen = _make_penalty(rho, pf, estimator.standardize, estimator.positive, pb)
            df = df_elastic_net(X, coefs, alphas, l1_ratio=rho, l2_factor=pen.l2_factor,
                                sample_weight=sw, fit_intercept=fi)
    else:
        scale = None
        if estimator.standardize:
            from ._design import Design
            d = Design(X, y, sw, fi)
            scale = np.where(d.constant, 0.0, d.x_std)
        df = df_group_lasso(X, y, coefs, estimator.groups_, sample_weight=sw,
                            fit_intercept=fi, scale=scale)
    if noise_variance is None and criterion != "ebic":
        sigma2 = default_noise_variance(X, y, fw, fi)
    elif noise_variance is None or noise_variance == "profile":
        sigma2 = None
    else:
        sigma2 = float(noise_variance)
    X64 = X if not sp.issparse(X) else X.tocsr()
    rss = path_rss(X64, y, coefs, estimator.intercept_path_ if fi else None, fw)
    crit = information_criterion(rss, df, effective_n(X, fw), criterion=criterion,
                                 noise_variance=sigma2, n_features=X.shape[1],
                                 model_size=size, ebic_gamma=ebic_gamma)
    i = int(np.argmin(np.where(np.isfinite(crit), crit, np.inf)))
    return dict(criterion=crit, df=np.asarray(df, dtype=np.float64), alpha=float(alphas[i]),
                index=i, noise_variance=sigma2)
