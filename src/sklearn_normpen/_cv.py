"""K-fold driver: folds outside, path inside.

Each fold is a call of a module-level function over arrays (no estimator objects), so any
joblib backend — threads, loky processes, dask on a cluster — runs it unchanged, and the
same splits give the same result whatever the backend. Without a backend chosen by the
caller (``joblib.parallel_config``), folds prefer threads: the kernels release the GIL,
and threads share ``X`` without starting, importing in or sending data to worker
processes (5-fold lasso CV with ``n_jobs=2``: 500x20000 1.8-2.0 s against loky's 1.9-3.9 s
and 2.5-3.0 s on one core; 10000x1000 0.6-0.7 s against 1.0-2.5 s and 0.9 s). Those
threads are the package's own pool rather than joblib's threading backend, whose pool
start-up and 10 ms result polling cost ~12 ms per CV (:func:`._threads.thread_map`).
"""
import logging
import time
from contextlib import nullcontext

import warnings

import numpy as np
from joblib import effective_n_jobs
from sklearn import config_context, get_config
from sklearn.model_selection import KFold, check_cv
from sklearn.utils.parallel import Parallel, delayed

from ._design import linear_predictor64
from ._path import compute_path
from ._path_access import PathAccessMixin
from ._progress import log_path
from ._relaxed import ActiveSetLS, relax_path, relaxed_predictions
from ._threads import default_threads, single_blas_thread, thread_map
from .selection import select_on_paths

#: the package's progress logger (silent unless the application configures logging, e.g.
#: ``logging.basicConfig(level="INFO")``): one line per finished fold and per path segment
logger = logging.getLogger("sklearn_normpen")


def resolve_splits(cv, X, y, groups=None, random_state=None):
    """Materialise the splits of ``cv`` (int, splitter or iterable) as a list; an int with
    a ``random_state`` gives a shuffled ``KFold``.

    Raises a clear error when there are fewer samples than folds or fewer than 2 folds.
    """
    n_samples = X.shape[0]
    if isinstance(cv, (int, np.integer)) and cv > n_samples:
        raise ValueError(f"cv={cv} folds need at least {cv} samples; got n_samples={n_samples}.")
    if isinstance(cv, (int, np.integer)) and random_state is not None:
        cv = KFold(int(cv), shuffle=True, random_state=random_state)
    splitter = check_cv(cv, y, classifier=False)
    splits = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, groups)]
    if len(splits) < 2:
        raise ValueError(f"cross-validation needs at least 2 splits; cv gave {len(splits)}.")
    for k, (tr, te) in enumerate(splits):
        if len(tr) == 0 or len(te) == 0:
            raise ValueError(f"cv split {k} has an empty train or test set.")
    return splits


def fold_weights(splits, sample_weight=None):
    """``W_k``: the held-out weight of each fold (its size with unit weights). A fold whose
    held-out rows all have weight 0 has no error (NaN in the error path) and weight 0 in
    the mean: a warning names it."""
    if sample_weight is None:
        return np.array([len(te) for _, te in splits], dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    W = np.array([sw[te].sum() for _, te in splits])
    if np.any(W == 0):
        warnings.warn(
            f"cv fold(s) {np.flatnonzero(W == 0).tolist()} have zero total sample_weight "
            "in their held-out rows: their errors are undefined (NaN in the error path) "
            "and they are left out of the mean CV error.", UserWarning, stacklevel=3)
    return W


def run_folds(fold_fn, splits, n_jobs=None, **shared):
    """``[fold_fn(train, test, **shared) for each split]`` through ``sklearn.utils.parallel``.

    ``fold_fn`` must be a module-level function; ``shared`` holds arrays and scalars.
    """
    return Parallel(n_jobs=n_jobs)(
        delayed(fold_fn)(train, test, **shared) for train, test in splits
    )


# ---------------------------------------------------------------------------------------
# THE path-CV loop and the fitted attributes every *PathCV estimator shares
# ---------------------------------------------------------------------------------------

def _fold_paths(train, test, spec, X, y, sw, grids, tol, max_iter, gammas=None, keep=False):
    """One fold: one prepared problem (``spec.problem``), a path per penalty (one per
    ``l1_ratio``) on it, held-out errors ``(n_penalties, n_alphas)``, each path's worst
    relative gap and, with ``keep``, the held-out predictions ``(n_penalties, n_test,
    n_alphas)`` of the (unrelaxed) paths, else None. With ``gammas`` (relaxed fits) the
    errors are ``(n_penalties, n_gammas, n_alphas)``, the active-set refits shared by the
    penalties of the fold."""
    problem = spec.problem(train, test)
    y_te = y[test]
    # dense X, plain linear predictions: when a path uses few of the columns (wide data),
    # only those are gathered for the held-out rows, instead of X_te @ coefs over the whole
    # p x n_alphas matrix, most of it zero rows; otherwise the held-out rows once
    plain = (gammas is None and getattr(spec, "predict", None) is None
             and isinstance(X, np.ndarray) and X.ndim == 2)
    X_te = None if plain else X[test]
    sw_te = None if sw is None else sw[test]
    n_alphas = grids.shape[1]
    errors = np.empty(grids.shape if gammas is None else
                      (grids.shape[0], len(gammas), n_alphas))
    certs, preds = [], []
    refit = None if gammas is None else ActiveSetLS(problem)
    # dfmax / pmax (cv.glmnet): a fold stops by its own count, possibly before the grid ends
    limits = {k: getattr(spec, k, None) for k in ("dfmax", "pmax", "active")}
    for i, penalty in enumerate(spec.penalties(problem)):
        res = compute_path(problem, penalty, grids[i], tol=tol, max_iter=max_iter, **limits)
        if len(res.alphas) == 0:
            raise ValueError(f"pmax={limits['pmax']} stops a training fold's path before "
                             "its first alpha; increase pmax.")
        if gammas is not None:
            rpreds = relaxed_predictions(problem, X_te, res.coefs, res.intercepts, gammas,
                                         refit)
            for g in range(len(gammas)):
                e = spec.datafit.deviance(y_te, rpreds[g], sw_te)
                errors[i, g, :len(e)], errors[i, g, len(e):] = e, e[-1]
            pred = rpreds[0]  # gamma = 1 (first in the decreasing grid): the plain path
        else:
            # covariance mode: a spec may score from the held-out rows' statistics
            moments = None if keep else getattr(spec, "held_out_mse", None)
            e = None if moments is None else moments(test, res)
            if e is None:
                # a spec may predict itself (multi-response: (n_test, n_responses, n_alphas))
                predict = getattr(spec, "predict", None)
                used = (np.flatnonzero(np.any(res.coefs != 0, axis=1))
                        if plain and res.coefs.ndim == 2 else None)
                if used is not None and 4 * used.size < X.shape[1]:
                    pred = linear_predictor64(X[np.ix_(test, used)], res.coefs[used],
                                              res.intercepts)
                else:  # (most columns used: the plain row gather is cheaper than ix_)
                    X_te = X[test] if X_te is None else X_te
                    pred = (linear_predictor64(X_te, res.coefs, res.intercepts)
                            if predict is None else predict(X_te, res))
                # a spec may score with another measure than the deviance (classification)
                e = getattr(spec, "measure", spec.datafit.deviance)(y_te, pred, sw_te)
            # a path stopped early (GLMs, dfmax/pmax) keeps its last fit for the rest of
            # the grid, as cv.glmnet's buildPredmat (predict clamps to the last lambda)
            errors[i, :len(res.alphas)] = e
            errors[i, len(res.alphas):] = e[-1]
        if keep:  # (padded like the errors when the path stopped early)
            preds.append(np.concatenate(
                [pred, np.repeat(pred[:, -1:], n_alphas - pred.shape[1], axis=1)], axis=1))
        res.coefs = None  # only the certificates travel back
        certs.append(res)
    return errors, certs, (np.stack(preds) if keep else None)


def cross_validate_paths(spec, X, y, sw, grids, splits, *, tol, max_iter, n_jobs=None,
                         gammas=None, oof=None, full=None):
    """Fit every path of ``spec`` on every training fold and score it on the held-out rows.

    ``spec`` (a picklable object) prepares a fold's problem once — ``spec.problem(train,
    test)`` — and lists the penalties that share it — ``spec.penalties(problem)``, one per
    row of ``grids``; ``spec.datafit.deviance`` scores the held-out rows. Returns the errors
    ``(n_penalties, n_alphas, n_folds)`` and the folds' path results (certificates only).
    With ``gammas`` (relaxed fits, :mod:`._relaxed`) the errors are ``(n_penalties,
    n_gammas, n_alphas, n_folds)``. ``oof``: an array ``(n_penalties, n_samples, n_alphas)``
    to fill with the out-of-fold predictions (glmnet's ``keep=TRUE``; the unrelaxed errors
    are computed from exactly these values), or None.

    ``full``: ``(problem, penalty)``, the full-data problem and the one penalty whose path
    the caller needs next. When the folds run in parallel (more than one effective job) that
    path is solved as one more task beside them (first: the longest), instead of after
    them on one core, and returned as a one-element list in third place; otherwise, and
    without ``full``, the third value is None. (The same path either way: the problem is
    in the state the caller left it.)
    """
    keep = oof is not None
    jobs = effective_n_jobs(n_jobs)
    side = full is not None and jobs > 1
    tasks = [(_fold_paths, (train, test, spec, X, y, sw, grids, tol, max_iter, gammas, keep),
              {}) for train, test in splits]
    if side:
        tasks.insert(0, (full_data_paths, (full[0], [full[1]], grids, 0),
                         dict(tol=tol, max_iter=max_iter)))
    threaded = jobs > 1 and default_threads()
    # the package's threads: the BLAS at one thread from here, where the thread that
    # runs the CV may set it (threadpoolctl lets one Python thread set OpenBLAS's
    # shared pool; the folds' own path loops would ask in vain: _threads)
    with single_blas_thread() if threaded else nullcontext():
        if threaded:
            # joblib's own threads: the package's pool instead (no pool start-up or 10 ms
            # polling per call, see thread_map), under the caller's scikit-learn config
            config = get_config()

            def call(task):
                with config_context(**config):
                    return task[0](*task[1], **task[2])
            results = thread_map(call, tasks, jobs)
        else:
            # a generator, so that progress is reported as folds finish, whatever the backend
            results = Parallel(n_jobs=n_jobs, return_as="generator", prefer="threads")(
                delayed(f)(*a, **k) for f, a, k in tasks)
        start, out, full_paths = time.perf_counter(), [], None
        for res in results:
            if side and full_paths is None:
                full_paths = res
                continue
            out.append(res)
            if logger.isEnabledFor(logging.INFO):
                logger.info("CV fold %d/%d done (%d path(s) x %d alphas, %.2fs elapsed)",
                            len(out), len(splits), grids.shape[0], grids.shape[1],
                            time.perf_counter() - start)
    if keep:
        for (_, test), (_, _, pred) in zip(splits, out):
            oof[:, test, :] = pred
    return (np.stack([e for e, *_ in out], axis=-1), [c for _, cs, _ in out for c in cs],
            full_paths)


def full_data_paths(problem, penalties, grids, best, *, tol, max_iter):
    """The full-data path of every penalty (one per ``l1_ratio``: what ``coef_at`` & co.
    read), the chosen one (``best``) solved first."""
    paths = [None] * len(penalties)
    for k in [best] + [k for k in range(len(penalties)) if k != best]:
        start = time.perf_counter()
        paths[k] = compute_path(problem, penalties[k], grids[k], tol=tol, max_iter=max_iter)
        log_path(f"full-data path {k + 1}/{len(penalties)}", paths[k], start)
    return paths


def limited_paths(problem, penalties, grids, *, tol, max_iter, dfmax=None, pmax=None,
                  active=None):
    """The full-data path of every penalty, solved *before* the CV loop because ``dfmax`` /
    ``pmax`` may stop it (as ``cv.glmnet``: the full-data path sets the grid the folds use).
    Returns the grids cut to the shortest path (one rectangular grid) and the paths cut to
    it; a path cut because another stopped takes that one's ``stop_reason``."""
    paths = []
    for k, (pen, g) in enumerate(zip(penalties, grids)):
        start = time.perf_counter()
        paths.append(compute_path(problem, pen, g, tol=tol, max_iter=max_iter, dfmax=dfmax,
                                  pmax=pmax, active=active))
        log_path(f"full-data path {k + 1}/{len(penalties)}", paths[-1], start)
    L = min(len(r.alphas) for r in paths)
    if L == 0:
        raise ValueError(f"pmax={pmax} stops the path before its first alpha: at "
                         "alpha_max more than pmax variables are already non-zero (e.g. "
                         "unpenalised features); increase pmax.")
    reason = next((r.stop_reason for r in paths if len(r.alphas) == L), None)
    for r in paths:
        if len(r.alphas) > L:
            # the alpha axis is the last (multi-response: coefs (p, K, n), intercepts (K, n))
            for name in ("alphas", "coefs", "intercepts", "gaps", "kkts", "n_iters",
                         "converged", "dev_ratios"):
                setattr(r, name, getattr(r, name)[..., :L])
            r.stop_reason = reason
    return np.asarray(grids)[:, :L], paths


def fold_ids(splits, n_samples):
    """The held-out fold of every sample (glmnet's ``foldid``; -1: never held out). Raises
    when a sample is held out twice (out-of-fold predictions would be ambiguous)."""
    ids = np.full(n_samples, -1, dtype=np.intp)
    for k, (_, test) in enumerate(splits):
        if np.any(ids[test] >= 0):
            raise ValueError("keep=True needs every sample held out at most once; the cv "
                             "splits overlap (e.g. ShuffleSplit or repeated K-fold).")
        ids[test] = k
    return ids


class PathCVMixin(PathAccessMixin):
    """The fitted attributes every ``*PathCV`` estimator sets, under one set of names, and
    the path accessors (:mod:`sklearn_normpen._path_access`)."""

    @staticmethod
    def _cv_select(errors, splits, sample_weight, grids, gammas=None):
        """The CV statistics and the λ_min / λ_1se choice (:mod:`sklearn_normpen.selection`)."""
        return select_on_paths(errors, fold_weights(splits, sample_weight), grids,
                               gammas=gammas)

    def _set_cv_results(self, *, sel, grids, errors, splits, l1_ratios, scalar, path,
                        fold_results):
        """``path``: the full-data path of every ``l1_ratio`` (a list, one per row of
        ``grids``) or of the chosen one only (a single result)."""
        best = sel["best_path"]
        i = sel["i_min"] if self.rule == "min" else sel["i_1se"]
        paths = path if isinstance(path, (list, tuple)) else None
        path = paths[best] if paths is not None else path
        self.alphas_ = grids[0] if scalar else grids
        self.mse_path_ = errors[0] if scalar else errors
        self.cv_mean_ = sel["mean"][0] if scalar else sel["mean"]
        self.cv_se_ = sel["se"][0] if scalar else sel["se"]
        self.l1_ratio_ = float(l1_ratios[best])
        self.alpha_min_ = sel["alpha_min"]
        self.alpha_1se_ = sel["alpha_1se"]
        self.alpha_ = float(grids[best, i])
        if paths is not None and not scalar:
            # one full-data path per l1_ratio: a leading l1_ratio axis, as alphas_
            self.coef_path_ = np.stack([r.coefs for r in paths])
            self.intercept_path_ = np.stack([r.intercepts for r in paths])
            self.dual_gap_path_ = np.stack([r.gaps for r in paths])
            self.kkt_violation_path_ = np.stack([r.kkts for r in paths])
            self.n_iter_path_ = np.stack([r.n_iters for r in paths])
        else:
            self.coef_path_ = path.coefs
            self.intercept_path_ = path.intercepts
            self.dual_gap_path_ = path.gaps
            self.kkt_violation_path_ = path.kkts
            self.n_iter_path_ = path.n_iters
        self.coef_ = path.coefs[..., i].copy()
        b = path.intercepts[..., i]  # one per response for a multi-response path
        if b.ndim:
            self.intercept_ = b.copy() if self.fit_intercept else np.zeros_like(b)
        else:
            self.intercept_ = float(b) if self.fit_intercept else 0.0
        self.dual_gap_ = float(path.gaps[i])
        self.kkt_violation_ = float(path.kkts[i])
        # warm starts make one point's epochs meaningless alone: the path's up to alpha_
        self.n_iter_ = int(path.n_iters[: i + 1].sum())
        n_folds = len(splits)
        worst = np.array([np.max(r.gaps) for r in fold_results]).reshape(n_folds, -1)
        self.fold_dual_gap_ = worst.max(axis=1)
        return best, i

    def _set_dev_ratio(self, paths):
        """``dev_ratio_path_``: the fraction of the null deviance explained by each
        full-data path point (glmnet's ``dev.ratio``: 1 - loss / null deviance, the null
        model being the weighted mean with an intercept, 0 without), read off the
        certificates: no pass over the data."""
        paths = paths if isinstance(paths, (list, tuple)) else [paths]
        dev = [r.dev_ratios for r in paths]
        self.dev_ratio_path_ = np.stack(dev) if self._multi_path() else dev[0]

    def _cv_oof(self, splits, n_samples, n_paths, n_alphas, dtype):
        """With ``keep``: ``(oof buffer, fold ids)`` before the CV loop; else ``(None,
        None)``. NaN marks samples no split holds out."""
        if not getattr(self, "keep", False):
            return None, None
        ids = fold_ids(splits, n_samples)
        return np.full((n_paths, n_samples, n_alphas), np.nan, dtype=dtype), ids

    def _set_oof(self, oof, ids, scalar):
        """``oof_predictions_`` (one row per l1_ratio when several) and ``fold_ids_``."""
        if oof is None:
            return
        self.oof_predictions_ = oof[0] if scalar else oof
        self.fold_ids_ = ids

    def _set_relaxed_results(self, *, sel, errors, gammas, scalar, problem, path,
                             l1_ratios):
        """Relaxed fits: the joint (alpha, gamma) choice — ``alpha_``, ``alpha_min_``,
        ``alpha_1se_`` and ``l1_ratio_`` are then those of the joint rule —, the relaxed
        full-data path of the chosen ``l1_ratio`` (``path``) and ``coef_``/``intercept_`` at
        the chosen point (``sel`` from the relaxed rule)."""
        use_min = self.rule == "min"
        i = sel["i_min"] if use_min else sel["i_1se"]
        gi = sel["g_min"] if use_min else sel["g_1se"]
        self.l1_ratio_ = float(l1_ratios[sel["best_path"]])
        self.alpha_min_, self.alpha_1se_ = sel["alpha_min"], sel["alpha_1se"]
        self.alpha_ = float(path.alphas[i])
        rc, rb = relax_path(problem, path.coefs, path.intercepts, gammas)
        self.relax_gammas_ = gammas
        self.relax_gamma_min_ = sel["gamma_min"]
        self.relax_gamma_1se_ = sel["gamma_1se"]
        self.relax_gamma_ = float(gammas[gi])
        self.relaxed_mse_path_ = errors[0] if scalar else errors
        self.relaxed_cv_mean_ = sel["mean"][0] if scalar else sel["mean"]
        self.relaxed_cv_se_ = sel["se"][0] if scalar else sel["se"]
        self.relaxed_coef_path_ = rc.astype(path.coefs.dtype)
        self.relaxed_intercept_path_ = rb if self.fit_intercept else np.zeros_like(rb)
        self.coef_ = self.relaxed_coef_path_[gi, :, i].copy()
        self.intercept_ = float(rb[gi, i]) if self.fit_intercept else 0.0


def plain_view(sel, errors):
    """The gamma = 1 slice (the ordinary path: first in the decreasing gamma grid) of a
    relaxed selection and of its fold errors, for the unrelaxed attributes."""
    return dict(sel, mean=sel["mean"][:, 0], se=sel["se"][:, 0]), errors[:, 0]

