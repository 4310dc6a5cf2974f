"""Dask input: the squared-loss estimators from sufficient statistics computed where the
chunks live.

The Gaussian objective depends on the data only through ``XᵀSX``, ``XᵀSy``, ``Xᵀs``,
``yᵀSy`` and ``Σs``. For a dask array (or DataFrame) ``X`` with dense row chunks, one
chunk-local task per row block computes, in float64 and about a common shift ``(m, c)``
(the first chunk's means, so offset columns keep their digits), the augmented moment
matrix ``Zᵀ S Z`` of ``Z = [X - m, y - c, 1]`` for every CV fold's rows at once; a tree of
additions brings back ``(K + 1)·(p + 2)²`` numbers, never a row of ``X``. Each training
fold is ``total - fold`` and the path and CV loop then run on p × p arrays in covariance
mode (:class:`~sklearn_normpen._solvers.coordinate_descent.EnetProblem`), held-out errors
come from the fold's own moments. Nothing of ``X`` (nor ``y``) is gathered on the client.

This module never imports dask unless the input is a dask collection (which means dask is
installed and already imported).
"""
import sys

import numpy as np

# client-side statistics larger than this are refused (a clear error names the size)
MAX_STATS_BYTES = 4 * 2**30


def is_dask(obj):
    """True for a dask collection (array, DataFrame, Series), without importing dask."""
    if "dask" not in sys.modules or obj is None:
        return False
    mod = type(obj).__module__ or ""
    return mod.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "__dask_graph__")


def any_dask(*objs):
    return any(is_dask(o) for o in objs)


# ---------------------------------------------------------------------------------------
# Input checks (no pass over the data)
# ---------------------------------------------------------------------------------------

def _to_array(obj, name, lengths=True):
    """A dask Array from a dask Array / DataFrame / Series, and the column names
    (``lengths``: compute the partition lengths, a pass that returns one int per
    partition; a fit needs known chunk sizes, a prediction does not)."""
    import dask.array as da
    names = None
    if hasattr(obj, "to_dask_array") and not isinstance(obj, da.Array):
        cols = getattr(obj, "columns", None)
        if cols is not None and len(cols) and all(isinstance(c, str) for c in cols):
            names = np.asarray(list(cols), dtype=object)
        kinds = getattr(obj, "dtypes", None)
        if kinds is not None and hasattr(kinds, "__iter__"):
            bad = [str(c) for c, t in zip(cols, kinds) if np.dtype(t).kind not in "biuf"]
            if bad:
                raise ValueError(f"{name} has non-numeric column(s) {bad[:5]}: encode them "
                                 "before fitting on dask input.")
        obj = obj.to_dask_array(lengths=True) if lengths else obj.to_dask_array()
    if not isinstance(obj, da.Array):
        raise TypeError(f"{name} must be a dask array or dask DataFrame/Series when other "
                        f"inputs are dask collections; got {type(obj).__name__}.")
    return obj, names


def _check_chunks(A, name):
    if any(np.isnan(c) for c in A.chunks[0]) or np.isnan(A.shape[0]):
        raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() "
                         "(or to_dask_array(lengths=True) for a DataFrame) first.")
    meta = getattr(A, "_meta", None)
    mod = type(meta).__module__ or ""
    if mod.startswith(("scipy.sparse", "sparse", "cupyx")):
        raise TypeError(f"{name} has sparse chunks ({type(meta).__name__}); dask input must "
                        "have dense NumPy chunks (the sufficient statistics are dense).")


def _row_vector(v, name, X, allow_2d=False):
    """``v`` (dask, NumPy or None) as a dask vector (or, ``allow_2d``, a dask matrix of
    one column chunk) with ``X``'s row chunks."""
    import dask.array as da
    if v is None:
        return None
    if is_dask(v):
        v, _ = _to_array(v, name)
        _check_chunks(v, name)
    else:
        a = np.asarray(v)
        if a.ndim == 0:
            raise ValueError(f"{name} must be one value per sample; got a scalar.")
        v = da.from_array(a, chunks=(X.chunks[0],) + a.shape[1:])
    if v.ndim == 2 and v.shape[1] == 1 and not allow_2d:
        v = v[:, 0]
    if allow_2d and v.ndim == 2 and len(v.chunks[1]) > 1:
        v = v.rechunk({1: -1})
    if v.ndim != 1 and not (allow_2d and v.ndim == 2):
        raise ValueError(f"{name} must be 1-D on dask input; got shape {v.shape}.")
    if v.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {v.shape[0]} entries but X has {X.shape[0]} samples.")
    if v.chunks[0] != X.chunks[0]:
        raise ValueError(f"{name} and X are chunked differently along the rows "
                         f"({v.chunks[0][:4]}… vs {X.chunks[0][:4]}…); rechunk {name} to "
                         f"X.chunks[0] (e.g. {name}.rechunk((X.chunks[0],))).")
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {v.dtype}.")
    return v


def check_dask_input(X, y, sample_weight=None, multi_output=False):
    """Validate dask ``X, y, sample_weight`` without computing anything.

    Returns ``(X, y, sw, feature_names)``: ``X`` a 2-D float32/float64 dask array with one
    column chunk, ``y`` and ``sw`` dask vectors with ``X``'s row chunks.
    """
    X, names = _to_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D; got a dask array of shape {X.shape}.")
    _check_chunks(X, "X")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; got dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X of shape {X.shape} is too small to fit.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # chunk-local: rows stay where they are
    y = _row_vector(y, "y", X, allow_2d=multi_output)
    if y is None:
        raise ValueError("y is required.")
    sw = _row_vector(sample_weight, "sample_weight", X)
    return X, y, sw, names


def check_stats_size(p, K):
    """A clear error when the ``(K + 1)`` moment matrices would not fit on the client."""
    need = (K + 1) * (p + 2) ** 2 * 8
    limit = MAX_STATS_BYTES
    try:
        import psutil
        limit = min(limit, psutil.virtual_memory().available // 2)
    except ImportError:  # pragma: no cover
        pass
    if need > limit:
        raise ValueError(
            f"p={p} features with {K} folds need {(K + 1)} float64 moment matrices of "
            f"{(p + 2)}×{(p + 2)}: {need / 2**30:.2f} GiB on the client, above the "
            f"{limit / 2**30:.2f} GiB allowed. The sufficient-statistics route is for "
            "n ≫ p; reduce p (feature screening) or the number of folds.")


# ---------------------------------------------------------------------------------------
# Fold labels, chunk-locally
# ---------------------------------------------------------------------------------------

def _labels_block(rows, n, n_folds, seed):
    """Fold labels of the rows ``rows`` (their global indices, one block): with ``seed``
    None the contiguous folds of ``KFold(n_folds)`` (identical to it), otherwise a
    permutation, drawn from ``(seed, first row)``, of the balanced labels
    ``(i mod n_folds)``."""
    rows = np.asarray(rows)
    if seed is None:
        sizes = np.full(n_folds, n // n_folds)
        sizes[: n % n_folds] += 1
        return np.searchsorted(np.cumsum(sizes), rows, side="right").astype(np.intp)
    if rows.size == 0:
        return rows.astype(np.intp)
    rng = np.random.default_rng([int(seed), int(rows[0])])
    return rng.permutation((rows % n_folds).astype(np.intp))


def dask_fold_labels(X, n_folds=5, random_state=None):
    """The fold label of every row of the dask array ``X``, drawn chunk-locally.

    With ``random_state=None`` the folds are ``KFold(n_folds)``'s contiguous blocks; with a
    seed each row chunk gets a permutation of balanced labels drawn from the seed and the
    chunk's first row (reproducible for the same chunking). These are the folds the
    estimators use for ``cv=n_folds`` on dask input; compute them (a small integer vector)
    to reproduce a fit in memory with ``PredefinedSplit``.

    Parameters
    ----------
    X : dask array or dask DataFrame of shape (n_samples, n_features)
    n_folds : int, default=5
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    labels : dask array of int of shape (n_samples,), chunked as ``X``'s rows
    """
    import dask.array as da
    X, _ = _to_array(X, "X")
    _check_chunks(X, "X")
    n = int(X.shape[0])
    if not isinstance(n_folds, (int, np.integer)) or n_folds < 2 or n_folds > n:
        raise ValueError(f"cv={n_folds!r} folds: need an int in [2, n_samples={n}].")
    seed = _seed(random_state)
    rows = da.arange(n, chunks=(X.chunks[0],), dtype=np.int64)
    return rows.map_blocks(_labels_block, n, int(n_folds), seed, dtype=np.intp)


def _seed(random_state):
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    from sklearn.utils import check_random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def resolve_dask_folds(cv, X, random_state):
    """``(labels, fold_values)``: a dask label vector and the sorted fold values (rows
    labelled -1, as in ``PredefinedSplit``, are in every training fold)."""
    if is_dask(cv):
        lab = _row_vector(cv, "cv (fold labels)", X)
        if lab.dtype.kind not in "iu":
            raise ValueError(f"cv fold labels must be integers; got dtype {lab.dtype}.")
        import dask.array as da
        values = da.unique(lab).compute()  # at most n_folds + 1 integers
        values = values[values != -1]
        if values.size < 2:
            raise ValueError(f"cv fold labels define {values.size} fold(s); need at least 2.")
        return lab, values
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return dask_fold_labels(X, int(cv), random_state), np.arange(int(cv))
    raise ValueError("On dask input cv must be an int (folds drawn chunk-locally, see "
                     "sklearn_normpen.dask_fold_labels) or a dask array of integer fold "
                     f"labels chunked like X's rows; got {type(cv).__name__}.")


# ---------------------------------------------------------------------------------------
# The one pass: moments of every fold
# ---------------------------------------------------------------------------------------

def _block_moments(xb, yb, sb, lb, shift, yshift, values):
    """``Zᵀ S Z`` (float64, ``Z = [x - m, y - c, 1]``, ``y`` one or more targets) of the
    block's rows of each fold (``values``), then of the other rows (all rows when ``lb``
    is None): shape ``(K + 1, p + T + 1, p + T + 1)``, accumulated in one streaming pass
    over the block by the compiled kernel (no sorted copy of the block)."""
    from ._kernels._moments import fold_moments_dense
    from ._validation import call_kernel
    dt = xb.dtype
    m, p = xb.shape
    xb = np.ascontiguousarray(xb)  # a no-op for the usual C-ordered chunks
    Y = np.ascontiguousarray(np.asarray(yb, dtype=dt).reshape(m, -1))  # y in X's dtype
    T = Y.shape[1]
    d = p + T + 1
    K = len(values)
    if lb is None or K == 0:
        k_of = np.full(m, K, dtype=np.intc)
    else:
        lb = np.asarray(lb)
        k_of = np.searchsorted(values, lb)
        known = (k_of < K) & (values[np.minimum(k_of, K - 1)] == lb)
        if np.any(~known & (lb != -1)):
            raise ValueError(f"fold label(s) {np.unique(lb[~known & (lb != -1)])[:5]} "
                             "appear in a block but not among the fold labels.")
        k_of = np.where(known, k_of, K).astype(np.intc)
    if sb is None:
        s = np.empty(0)
    else:
        s = np.asarray(sb, dtype=dt).astype(np.float64)  # weights in X's dtype, as in memory
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
    out = np.zeros((K + 1, d, d))
    status = call_kernel(fold_moments_dense, xb, Y, s, k_of,
                         np.ascontiguousarray(shift, dtype=np.float64),
                         np.ascontiguousarray(yshift, dtype=np.float64).reshape(T), out)
    if status != 0:  # pragma: no cover - the labels and sizes are checked above
        raise RuntimeError(f"fold_moments_dense failed with status {status}.")
    # a NaN or infinity anywhere in a row reaches that fold's diagonal (Σ s z², or 0·inf)
    if not np.all(np.isfinite(np.einsum("kii->ki", out))):
        raise ValueError("X or y contains NaN or infinity.")
    return out


def _tree_sum(parts):
    from dask import delayed
    while len(parts) > 1:
        nxt = [delayed(np.add)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            nxt.append(parts[-1])
        parts = nxt
    return parts[0]


def fold_moments(X, y, sw, labels, values, fit_intercept):
    """The one pass over ``X``: ``(moments (K+1, d, d), shift, yshift)``, ``d = p + T + 1``
    (``T`` targets; ``labels`` None: no folds, ``K = 0``).

    The shift is the first chunk's (unweighted) column means and y mean with an intercept
    (any representative value keeps the float64 sums of offset columns accurate; the
    centring itself is the exact rank-one correction of
    :func:`~sklearn_normpen._design.centred_gram`), zero without.
    """
    import dask
    from dask import delayed
    p = X.shape[1]
    T = 1 if y.ndim == 1 else y.shape[1]
    if fit_intercept:
        shift, yshift = dask.compute(X.blocks[0].astype(np.float64).mean(axis=0),
                                     y.blocks[0].astype(X.dtype).astype(np.float64)
                                     .mean(axis=0))
        shift, yshift = np.asarray(shift, np.float64), np.asarray(yshift, np.float64)
        if not (np.all(np.isfinite(shift)) and np.all(np.isfinite(yshift))):
            raise ValueError("X or y contains NaN or infinity.")
    else:
        shift, yshift = np.zeros(p), np.zeros(() if y.ndim == 1 else T)
    xs = X.to_delayed().ravel()
    ys = y.to_delayed().ravel()
    ss = [None] * len(xs) if sw is None else list(sw.to_delayed().ravel())
    ls = [None] * len(xs) if labels is None else list(labels.to_delayed().ravel())
    values = np.asarray([] if values is None else values)
    parts = [delayed(_block_moments, pure=True)(xb, yb, sb, lb, shift, yshift, values)
             for xb, yb, sb, lb in zip(xs, ys, ss, ls)]
    (M,) = dask.compute(_tree_sum(parts))
    return M, shift, (float(yshift) if y.ndim == 1 else yshift)


def moments_to_stats(M):
    """The :meth:`Design.gram_stats` dict of an augmented moment matrix ``Zᵀ S Z`` of one
    target."""
    p = M.shape[0] - 2
    return dict(G=M[:p, :p].copy(), sx=M[:p, p + 1].copy(), xy=M[:p, p].copy(),
                sy=float(M[p, p + 1]), yy=float(M[p, p]), S=float(M[p + 1, p + 1]))


def held_out_mse(M, coefs, x_mean, y_mean, shift, yshift):
    """Weighted mean squared error ``Σ s (y - x w - b)² / Σ s`` of the rows whose moments
    (about ``shift, yshift``) are ``M``, for each column of ``coefs`` with the intercept
    ``b = y_mean - x_meanᵀ w`` of the model that fitted it (float64, from moments)."""
    W = np.asarray(coefs, dtype=np.float64)
    return held_out_mse_b(M, W, y_mean - np.asarray(x_mean) @ W, shift, yshift)


class StatsDesign:
    """What a covariance-mode problem reads of a Design when the data stay on the
    cluster: the dtype and whether an intercept is fitted."""

    sparse = False

    def __init__(self, dtype, fit_intercept):
        self.dtype = np.dtype(dtype)
        self.fit_intercept = bool(fit_intercept)


# ---------------------------------------------------------------------------------------
# ElasticNetPathCV on dask input
# ---------------------------------------------------------------------------------------

def held_out_mse_b(M, W, b, shift, yshift):
    """:func:`held_out_mse` for coefficients ``W`` (p, A) with explicit intercepts ``b``
    (A,) (:func:`~sklearn_normpen._design.moment_mse`)."""
    from ._design import moment_mse
    return moment_mse(moments_to_stats(M), W, b, shift, yshift)[0]


def _enet_fold(k, M, total, shift, yshift, design, spec, grids, tol, max_iter, gammas=None):
    """One fold: the training problem ``total - fold``, its paths, held-out errors
    ``(n_penalties, n_alphas)`` (with ``gammas``: ``(n_penalties, n_gammas, n_alphas)``, the
    relaxed refits from the training fold's Gram). A path stopped by dfmax/pmax keeps its
    last fit for the rest of the grid, as in memory."""
    from ._path import compute_path
    from ._relaxed import ActiveSetLS, relax_path
    from ._solvers.coordinate_descent import EnetProblem
    train = {key: total[key] - v for key, v in moments_to_stats(M[k]).items()}
    problem = EnetProblem(design, "gram", stats=train, x_shift=shift, y_mean=yshift)
    errors = np.empty(grids.shape if gammas is None else
                      (grids.shape[0], len(gammas), grids.shape[1]))
    refit = None if gammas is None else ActiveSetLS(problem)
    certs = []
    for i, pen in enumerate(spec.penalties(problem)):
        res = compute_path(problem, pen, grids[i], tol=tol, max_iter=max_iter,
                           dfmax=spec.dfmax, pmax=spec.pmax)
        L = len(res.alphas)
        if L == 0:
            raise ValueError(f"pmax={spec.pmax} stops a training fold's path before its "
                             "first alpha; increase pmax.")
        if gammas is None:
            e = held_out_mse(M[k], res.coefs, problem.x_mean, problem.y_mean, shift, yshift)
            errors[i, :L], errors[i, L:] = e, e[-1]
        else:
            rc, rb = relax_path(problem, res.coefs, res.intercepts, gammas, refit)
            for g in range(len(gammas)):
                e = held_out_mse_b(M[k], rc[g], rb[g], shift, yshift)
                errors[i, g, :L], errors[i, g, L:] = e, e[-1]
        res.coefs = None
        certs.append(res)
    return errors, certs


def fit_enet_path_cv(est, X, y, sample_weight, groups):
    """``ElasticNetPathCV.fit`` on dask input (see the module docstring). ``exclude``,
    box limits, ``dfmax``/``pmax`` and ``relax`` run on the statistics alone (relaxed
    refits from the training folds' Grams); ``keep`` (n-sized out-of-fold predictions) is
    refused."""
    from sklearn.utils.parallel import Parallel, delayed

    from ._grid import make_grid
    from ._cv import full_data_paths, limited_paths, plain_view
    from ._path import warn_unconverged
    from ._relaxed import _check_gammas
    from ._solvers.coordinate_descent import EnetProblem
    from ._validation import (_check_exclude, _check_limits, validate_alphas,
                              validate_array_params, validate_penalty_factor)
    from .elastic_net import _alpha_max, _check_l1_ratios, _EnetSpec
    from .selection import select_on_paths

    validate_array_params(est)
    if groups is not None:
        raise ValueError("groups are not supported on dask input: pass the fold of every "
                         "row as a dask array through cv.")
    if est.precompute is False:
        raise ValueError("precompute=False (residual mode) needs X in memory; dask input "
                         "always runs in covariance mode (precompute='auto' or True).")
    if est.keep:
        raise ValueError("keep=True (out-of-fold predictions, one per sample) is not "
                         "supported on dask input: predict each fold's rows with the fold "
                         "paths instead, or fit in memory.")
    X, y, sw, names = check_dask_input(X, y, sample_weight)
    n, p = (int(s) for s in X.shape)
    l1_ratios = _check_l1_ratios(est.l1_ratio, est.alphas)
    if not isinstance(est.alphas, (int, np.integer)):
        user_grid = validate_alphas(est.alphas)
    pf = validate_penalty_factor(est.penalty_factor, p)
    exclude = _check_exclude(est.exclude, p)
    limits = _check_limits(est.lower_limits, est.upper_limits, p)
    gammas = _check_gammas(est.relax_gamma) if est.relax else None
    labels, values = resolve_dask_folds(est.cv, X, est.random_state)
    K = len(values)
    check_stats_size(p, K)

    M, shift, yshift = fold_moments(X, y, sw, labels, values, est.fit_intercept)
    total = moments_to_stats(M.sum(axis=0))
    W = M[:K, -1, -1]
    if total["S"] <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    for k in range(K):
        if W[k] <= 0 or total["S"] - W[k] <= 0:
            raise ValueError(f"cv fold {values[k]} has an empty (or zero-weight) train or "
                             "test set.")
    design = StatsDesign(X.dtype, est.fit_intercept)
    pb = EnetProblem(design, "gram", stats=total, x_shift=shift, y_mean=yshift)
    spec = _EnetSpec(design, "gram", l1_ratios, pf, est.standardize, est.positive,
                     exclude=exclude, limits=limits)
    pens = spec.penalties(pb)
    if isinstance(est.alphas, (int, np.integer)):
        grids = np.array([make_grid(int(est.alphas),
                                    lambda: _alpha_max(pb, pen, est.tol, est.max_iter),
                                    est.eps) for pen in pens])
    else:
        grids = np.tile(user_grid, (len(l1_ratios), 1))
    paths = None
    if est.dfmax is not None or est.pmax is not None:
        # the full-data paths first: where they stop, the folds' grid ends (cv.glmnet)
        spec.dfmax, spec.pmax = est.dfmax, est.pmax
        grids, paths = limited_paths(pb, pens, grids, tol=est.tol, max_iter=est.max_iter,
                                     dfmax=est.dfmax, pmax=est.pmax)

    out = Parallel(n_jobs=est.n_jobs)(
        delayed(_enet_fold)(k, M, total, shift, yshift, design, spec, grids, est.tol,
                            est.max_iter, gammas) for k in range(K))
    errors = np.stack([e for e, _ in out], axis=-1)
    fold_results = [c for _, cs in out for c in cs]
    sel = select_on_paths(errors, W, grids, gammas=gammas)
    if gammas is not None:
        rel_sel, rel_errors = sel, errors
        sel, errors = plain_view(sel, errors)
    best = sel["best_path"]
    if paths is None:
        paths = full_data_paths(pb, pens, grids, best, tol=est.tol, max_iter=est.max_iter)
    est.path_stop_reason_ = paths[best].stop_reason
    warn_unconverged(fold_results + paths)
    scalar = np.ndim(est.l1_ratio) == 0
    est._set_cv_results(sel=sel, grids=grids, errors=errors, splits=range(K),
                        l1_ratios=l1_ratios, scalar=scalar, path=paths,
                        fold_results=fold_results)
    est._set_dev_ratio(paths)
    if gammas is not None:
        est._set_relaxed_results(sel=rel_sel, errors=rel_errors, gammas=gammas,
                                 scalar=scalar, problem=pb,
                                 path=paths[rel_sel["best_path"]], l1_ratios=l1_ratios)
    _set_input_attributes(est, p, names)
    return est


def _set_input_attributes(est, p, names):
    est.n_features_in_ = p
    if names is not None:
        est.feature_names_in_ = names
    elif hasattr(est, "feature_names_in_"):
        del est.feature_names_in_


def predict(est, X):
    """``X @ coef_ + intercept_`` as a lazy dask array (row chunks kept)."""
    X, _ = _to_array(X, "X", lengths=False)
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1] if X.ndim == 2 else X.shape} features, but "
                         f"{type(est).__name__} is expecting {est.n_features_in_} features.")
    dt = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    coef = np.asarray(est.coef_, dtype=dt)
    return X.astype(dt) @ coef.T + np.asarray(est.intercept_, dtype=dt)


# ---------------------------------------------------------------------------------------
# SpectralRidge / SpectralRidgeCV on dask input: the Gram route from moments
# ---------------------------------------------------------------------------------------

def _split_moments(M, T):
    """``(G, XY, sx, YY, sy, S)`` of an augmented moment matrix with ``T`` targets."""
    p = M.shape[0] - T - 1
    return (M[:p, :p], M[:p, p:p + T], M[:p, -1], M[p:p + T, p:p + T], M[p:p + T, -1],
            float(M[-1, -1]))


def decompose_moments(M, T, shift, yshift, fit_intercept, n_samples, penalty_factor=None):
    """The :class:`~sklearn_normpen._solvers.spectral.SpectralDecomposition` of the
    ``"gram"`` route from moments (about ``shift, yshift``): the eigendecomposition of the
    centred weighted Gram ``Xcᵀ S Xc``, with the same rank cut-off as in memory."""
    from ._solvers.spectral import _EPS, SpectralDecomposition, _eigh_desc
    G, XY, sx, YY, sy, S = _split_moments(M, T)
    p = G.shape[0]
    if fit_intercept:
        dx, dy = sx / S, sy / S
        Q = G - S * np.outer(dx, dx)
        q = XY - np.outer(dx, sy)
        ys_sq = np.maximum(np.diag(YY) - S * dy * dy, 0.0)
    else:
        dx, dy = np.zeros(p), np.zeros(T)
        Q, q, ys_sq = G.copy(), XY.copy(), np.diag(YY).copy()
    X_offset = np.asarray(shift, np.float64) + dx
    y_offset = np.asarray(yshift, np.float64).reshape(-1) + dy
    if not fit_intercept:
        X_offset, y_offset = np.zeros(p), np.zeros(T)
    cs = None if penalty_factor is None else 1.0 / np.sqrt(
        np.asarray(penalty_factor, dtype=np.float64))
    Xo = X_offset if cs is None else X_offset * cs
    if cs is not None:
        Q = cs[:, None] * Q * cs[None, :]
        q = cs[:, None] * q
    lam, V = _eigh_desc(Q)
    c = np.sqrt(S) * np.linalg.norm(Xo)
    lam_ref = max(lam[0], np.sqrt(max(lam[0], 0.0)) * c) if lam.size else 0.0
    keep = (lam > max(n_samples, p) * _EPS * lam_ref if lam_ref > 0
            else np.zeros(lam.shape, dtype=bool))
    k = int(np.sum(keep))
    sigma = np.sqrt(lam[:k])
    V = np.ascontiguousarray(V[:, :k])
    Z = (V.T @ q) / sigma[:, None]
    if cs is not None:
        V = cs[:, None] * V
    return SpectralDecomposition(
        method="gram", singular_values=np.ascontiguousarray(sigma), V=V,
        Z=np.ascontiguousarray(Z), U=None, ys=None, ys_sq=ys_sq, X_offset=X_offset,
        y_offset=y_offset, sample_weight=None, sw_sum=S, n_samples=int(n_samples),
        fit_intercept=bool(fit_intercept))


def held_out_ridge_mse(M, T, dec, alphas, shift, yshift):
    """Held-out weighted MSE ``(A, T)`` of the ridge path of ``dec`` on the rows whose
    moments are ``M`` (float64, from moments)."""
    G, XY, sx, YY, sy, S = _split_moments(M, T)
    W, _ = dec.coef_path(alphas)                                # (T, p, A)
    yshift = np.asarray(yshift, np.float64).reshape(-1)
    out = np.empty((len(alphas), T))
    for t in range(T):
        Wt = W[t]
        # y - xw - b = (y - c) - (x - m)w - d with d = (ȳ - c) - (x̄ - m)ᵀw (no cancellation)
        d = (dec.y_offset[t] - yshift[t]) - (dec.X_offset - shift) @ Wt
        quad = np.einsum("ia,ia->a", Wt, G @ Wt)
        sse = (YY[t, t] - 2 * (XY[:, t] @ Wt) + quad - 2 * d * (sy[t] - sx @ Wt)
               + d * d * S)
        out[:, t] = np.maximum(sse, 0.0) / S
    return out


def _check_ridge_solver(solver):
    if solver not in ("auto", "gram"):
        raise ValueError(f"solver={solver!r} needs X in memory; on dask input the ridge is "
                         "solved from the Gram matrix (solver='auto' or 'gram').")


def fit_spectral_ridge(est, X, y, sample_weight):
    """``SpectralRidge.fit`` on dask input: one pass for the moments, the Gram route."""
    from .spectral_ridge import (_check_alpha_per_target, _check_penalty_factor,
                                 _intercept_out)
    _check_ridge_solver(est.solver)
    X, y, sw, names = check_dask_input(X, y, sample_weight, multi_output=True)
    n, p = (int(s) for s in X.shape)
    T = 1 if y.ndim == 1 else int(y.shape[1])
    alpha = _check_alpha_per_target(est.alpha, T)
    pf = _check_penalty_factor(est.penalty_factor, p)
    check_stats_size(p + T - 1, 0)
    M, shift, yshift = fold_moments(X, y, sw, None, None, est.fit_intercept)
    if M[0, -1, -1] <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    dec = decompose_moments(M[0], T, shift, yshift, est.fit_intercept, n, pf)
    W, b = dec.coef_at(alpha)
    est._y_ndim, est._dtype = y.ndim, X.dtype
    est._decomp, est._iterative = dec, None
    est.singular_values_ = dec.singular_values.astype(X.dtype)
    est.rank_ = dec.rank
    est.solver_, est.n_iter_ = "gram", None
    df = np.array([dec.df([a])[0] for a in alpha])
    est.df_ = float(df[0]) if np.ndim(est.alpha) == 0 else df
    est.coef_ = (W[0] if y.ndim == 1 else W).astype(X.dtype)
    est.intercept_ = _intercept_out(b, y.ndim, est.fit_intercept)
    _set_input_attributes(est, p, names)
    return est


def fit_spectral_ridge_cv(est, X, y, sample_weight, groups):
    """``SpectralRidgeCV.fit`` on dask input: GCV from the full moments, K-fold from the
    fold moments (each training fold ``total - fold``); leave-one-out is refused."""
    from ._validation import validate_alphas
    from .selection import cv_statistics, select_min_1se
    from .spectral_ridge import _check_penalty_factor, _intercept_out
    _check_ridge_solver(est.solver)
    if est.cv is None:
        raise ValueError("cv=None (leave-one-out) needs every row's leverage, which is not "
                         "computed on dask input: use cv='gcv' or K-fold (an int, or a dask "
                         "array of fold labels).")
    if groups is not None:
        raise ValueError("groups are not supported on dask input: pass the fold of every "
                         "row as a dask array through cv.")
    if est.store_cv_values:
        raise ValueError("store_cv_values=True is only available with cv=None "
                         "(leave-one-out), which dask input does not offer.")
    X, y, sw, names = check_dask_input(X, y, sample_weight, multi_output=True)
    n, p = (int(s) for s in X.shape)
    T = 1 if y.ndim == 1 else int(y.shape[1])
    gcv = isinstance(est.cv, str)
    if gcv and est.rule == "1se":
        raise ValueError("rule='1se' needs a standard error, which GCV does not define: use "
                         "K-fold with rule='1se', or rule='min' with cv='gcv'.")
    int_grid = isinstance(est.alphas, (int, np.integer)) and not isinstance(est.alphas, bool)
    alphas = None if int_grid else validate_alphas(est.alphas)
    pf = _check_penalty_factor(est.penalty_factor, p)
    labels = values = None
    if not gcv:
        labels, values = resolve_dask_folds(est.cv, X, None)
    K = 0 if values is None else len(values)
    check_stats_size(p + T - 1, K)
    M, shift, yshift = fold_moments(X, y, sw, labels, values, est.fit_intercept)
    Mt = M.sum(axis=0)
    if Mt[-1, -1] <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    dec = decompose_moments(Mt, T, shift, yshift, est.fit_intercept, n, pf)
    if int_grid:
        top = dec.singular_values[0] ** 2 if dec.rank else 1.0
        alphas = np.geomspace(1e2 * top, 1e-6 * top, int(est.alphas))
    per_target = bool(est.alpha_per_target) and T > 1
    mse_path = None
    if gcv:
        from ._solvers.spectral import gcv_errors
        g, _ = gcv_errors(dec, alphas)
        mean = g.T if per_target else g.mean(axis=1)
        se = np.full(mean.shape, np.nan)
        criterion = "gcv"
    else:
        Wk = M[:K, -1, -1]
        E = []
        for k in range(K):
            if Wk[k] <= 0 or Mt[-1, -1] - Wk[k] <= 0:
                raise ValueError(f"cv fold {values[k]} has an empty (or zero-weight) train "
                                 "or test set.")
            dk = decompose_moments(Mt - M[k], T, shift, yshift, est.fit_intercept, n, pf)
            E.append(held_out_ridge_mse(M[k], T, dk, alphas, shift, yshift))
        E = np.stack(E, axis=-1)                                   # (A, T, K)
        mse_path = np.moveaxis(E, 1, 0) if per_target else E.mean(axis=1)
        mean, se = cv_statistics(mse_path, Wk)
        criterion = "kfold"
    if per_target:
        idx = np.array([select_min_1se(mean[t], se[t], alphas) for t in range(T)])
        i_min, i_1se = idx[:, 0], idx[:, 1]
    else:
        i_min, i_1se = select_min_1se(mean, se, alphas)
    i_best = i_min if est.rule == "min" else i_1se
    a_best = alphas[i_best] if per_target else np.full(T, alphas[i_best])
    coef, intercept = dec.coef_at(a_best)
    dt = X.dtype
    est.alphas_ = alphas
    est.criterion_ = criterion
    est.alpha_min_ = alphas[i_min] if per_target else float(alphas[i_min])
    est.alpha_1se_ = alphas[i_1se] if per_target else float(alphas[i_1se])
    est.alpha_ = est.alpha_min_ if est.rule == "min" else est.alpha_1se_
    est.cv_mean_, est.cv_se_ = mean, se
    est.mse_path_ = mse_path
    est.df_path_ = dec.df(alphas)
    est._decomp, est._y_ndim, est._dtype = dec, y.ndim, dt
    est.__dict__.pop("_path", None)
    est.coef_ = (coef[0] if y.ndim == 1 else coef).astype(dt)
    est.intercept_ = _intercept_out(intercept, y.ndim, est.fit_intercept)
    est.singular_values_ = dec.singular_values.astype(dt)
    est.rank_ = dec.rank
    est.solver_ = "gram"
    est.best_score_ = -(mean[np.arange(T), i_best] if per_target else mean[i_best])
    _set_input_attributes(est, p, names)
    return est


# ---------------------------------------------------------------------------------------
# GroupLassoRegressor / GroupLassoPathCV on dask input: the covariance-mode block solver
# ---------------------------------------------------------------------------------------

def _group_problem(stats, structure, weights, dtype, est, shift, yshift):
    from ._solvers.block_cd_gram import GramGroupProblem
    return GramGroupProblem(stats, structure, weights, dtype=dtype,
                            fit_intercept=est.fit_intercept, x_shift=shift, y_mean=yshift,
                            standardize=est.standardize)


def _group_fold(k, M, total, shift, yshift, dtype, est, structure, weights, l1_ratios,
                grids):
    from ._path import compute_path
    train = {key: total[key] - v for key, v in moments_to_stats(M[k]).items()}
    problem = _group_problem(train, structure, weights, dtype, est, shift, yshift)
    errors = np.empty(grids.shape)
    certs = []
    for i, r in enumerate(l1_ratios):
        res = compute_path(problem, problem.penalty(r), grids[i], tol=est.tol,
                           max_iter=est.max_iter)
        errors[i] = held_out_mse(M[k], res.coefs, problem.X_off, problem.y_off, shift,
                                 yshift)
        res.coefs = None
        certs.append(res)
    return errors, certs


def _group_setup(est, X, y, sample_weight):
    from ._groups import parse_groups, resolve_group_weights
    from ._validation import validate_array_params
    validate_array_params(est)
    X, y, sw, names = check_dask_input(X, y, sample_weight)
    p = int(X.shape[1])
    structure = parse_groups(est.groups, p, names)
    weights = resolve_group_weights(est.group_weights, structure)
    return X, y, sw, names, p, structure, weights


def _set_group_attributes(est, structure):
    from .group_lasso import _group_norms
    est.groups_ = structure.groups
    est.group_labels_ = structure.labels
    est.group_norms_ = _group_norms(est.coef_, structure)
    est.active_groups_ = np.flatnonzero(est.group_norms_ > 0)


def fit_group_lasso(est, X, y, sample_weight):
    """``GroupLassoRegressor.fit`` on dask input: one pass for the moments, then the
    covariance-mode block solver."""
    from ._path import warn_points
    from ._threads import single_blas_thread
    prev = getattr(est, "coef_", None) if est.warm_start else None
    X, y, sw, names, p, structure, weights = _group_setup(est, X, y, sample_weight)
    check_stats_size(p, 0)
    M, shift, yshift = fold_moments(X, y, sw, None, None, est.fit_intercept)
    if M[0, -1, -1] <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    problem = _group_problem(moments_to_stats(M[0]), structure, weights, X.dtype, est,
                             shift, yshift)
    pen = problem.penalty(est.l1_ratio)
    tol_abs = est.tol * problem.null_deviance
    with single_blas_thread():  # (the null fit and the solve, as _path.compute_path)
        if prev is not None and np.shape(prev) == (p,):
            w = problem.start(problem.from_original(prev))
        else:
            w = problem.start(problem.null_fit(pen, 1e-3 * tol_abs, est.max_iter)[0])
        res, n_iter = problem.solve(w, pen, est.alpha, tol_abs, est.max_iter)
    if res.gap > tol_abs:
        warn_points([est.alpha], [res.gap], tol_abs, type(est).__name__)
    est.coef_, est.intercept_ = problem.to_original(w)
    _set_group_attributes(est, structure)
    est.dual_gap_, est.kkt_violation_, est.n_iter_ = res.gap, res.kkt, max(int(n_iter), 1)
    _set_input_attributes(est, p, names)
    return est


def fit_group_lasso_path_cv(est, X, y, sample_weight, groups):
    """``GroupLassoPathCV.fit`` on dask input: fold moments in one pass, each training
    fold ``total - fold`` solved by the covariance-mode block solver."""
    from sklearn.utils.parallel import Parallel, delayed

    from ._grid import make_grid
    from ._cv import full_data_paths
    from ._path import warn_unconverged
    from .group_lasso import _check_l1_ratio
    from .selection import select_on_paths
    if groups is not None:
        raise ValueError("groups (sample groups for the splitter) are not supported on dask "
                         "input: pass the fold of every row as a dask array through cv.")
    if est.relax or est.keep:
        raise ValueError("GroupLassoPathCV: relax=True and keep=True are not supported on "
                         "dask input yet (ElasticNetPathCV offers relax on dask input).")
    X, y, sw, names, p, structure, weights = _group_setup(est, X, y, sample_weight)
    multi = np.ndim(est.l1_ratio) > 0
    l1_ratios = np.atleast_1d(np.asarray(est.l1_ratio, dtype=np.float64))
    if l1_ratios.ndim != 1 or l1_ratios.size == 0:
        raise ValueError("l1_ratio must be a float or a non-empty 1-D list of floats.")
    for v in l1_ratios:
        _check_l1_ratio(float(v))
    labels, values = resolve_dask_folds(est.cv, X, est.random_state)
    K = len(values)
    check_stats_size(p, K)
    M, shift, yshift = fold_moments(X, y, sw, labels, values, est.fit_intercept)
    total = moments_to_stats(M.sum(axis=0))
    W = M[:K, -1, -1]
    if total["S"] <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    for k in range(K):
        if W[k] <= 0 or total["S"] - W[k] <= 0:
            raise ValueError(f"cv fold {values[k]} has an empty (or zero-weight) train or "
                             "test set.")
    problem = _group_problem(total, structure, weights, X.dtype, est, shift, yshift)
    pens = [problem.penalty(r) for r in l1_ratios]

    def amax(pen):
        _, z = problem.null_fit(pen, 1e-3 * est.tol * problem.null_deviance, est.max_iter)
        return pen.alpha_max(z)

    grids = np.vstack([make_grid(est.alphas, lambda: amax(pen), est.eps) for pen in pens])
    out = Parallel(n_jobs=est.n_jobs)(
        delayed(_group_fold)(k, M, total, shift, yshift, X.dtype, est, structure, weights,
                             l1_ratios, grids) for k in range(K))
    errors = np.stack([e for e, _ in out], axis=-1)
    fold_results = [c for _, cs in out for c in cs]
    sel = select_on_paths(errors, W, grids)
    best = sel["best_path"]
    paths = full_data_paths(problem, pens, grids, best, tol=est.tol, max_iter=est.max_iter)
    warn_unconverged(fold_results + paths, type(est).__name__)
    est._set_cv_results(sel=sel, grids=grids, errors=errors, splits=range(K),
                        l1_ratios=l1_ratios, scalar=not multi, path=paths,
                        fold_results=fold_results)
    est._set_dev_ratio(paths)
    _set_group_attributes(est, structure)
    _set_input_attributes(est, p, names)
    return est
