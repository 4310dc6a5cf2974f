"""K-fold driver: folds outside, path inside.

Each fold is a call of a module-level function over arrays (no estimator objects), so any
joblib backend — threads, loky processes, dask on a cluster — runs it unchanged, and the
same splits give the same result whatever the backend.
"""
import numpy as np
from sklearn.model_selection import KFold, check_cv
from sklearn.utils.parallel import Parallel, delayed

from ._path import compute_path
from ._relaxed import ActiveSetLS, relax_path, relaxed_predictions
from .selection import select_on_paths



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
    """``W_k``: the held-out weight of each fold (its size with unit weights)."""
    if sample_weight is None:
        return np.array([len(te) for _, te in splits], dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    return np.array([sw[te].sum() for _, te in splits])


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

def _fold_paths(train, test, spec, X, y, sw, grids, tol, max_iter, gammas=None):
    """One fold: one prepared problem (``spec.problem``), a path per penalty (one per
    ``l1_ratio``) on it, held-out errors ``(n_penalties, n_alphas)`` and each path's worst
    relative gap. With ``gammas`` (relaxed fits) the errors are ``(n_penalties, n_gammas,
    n_alphas)``, the active-set refits shared by the penalties of the fold."""
    problem = spec.problem(train, test)
    X_te, y_te = X[test], y[test]
    sw_te = None if sw is None else sw[test]
    errors = np.empty(grids.shape if gammas is None else
                      (grids.shape[0], len(gammas), grids.shape[1]))
    certs = []
    refit = None if gammas is None else ActiveSetLS(problem)
    for i, penalty in enumerate(spec.penalties(problem)):
        res = compute_path(problem, penalty, grids[i], tol=tol, max_iter=max_iter)
        if gammas is not None:
            preds = relaxed_predictions(problem, X_te, res.coefs, res.intercepts, gammas,
                                        refit)
            for g in range(len(gammas)):
                errors[i, g] = spec.datafit.deviance(y_te, preds[g], sw_te)
            res.coefs = None
            certs.append(res)
            continue
        pred = np.asarray(X_te @ res.coefs) + res.intercepts
        # a spec may score with another measure than the deviance (classification CV)
        e = getattr(spec, "measure", spec.datafit.deviance)(y_te, pred, sw_te)
        # a path stopped early (GLMs) keeps its last fit for the rest of the grid (glmnet)
        errors[i, :len(res.alphas)] = e
        errors[i, len(res.alphas):] = e[-1]
        res.coefs = None  # only the certificates travel back
        certs.append(res)
    return errors, certs


def cross_validate_paths(spec, X, y, sw, grids, splits, *, tol, max_iter, n_jobs=None,
                         gammas=None):
    """Fit every path of ``spec`` on every training fold and score it on the held-out rows.

    ``spec`` (a picklable object) prepares a fold's problem once — ``spec.problem(train,
    test)`` — and lists the penalties that share it — ``spec.penalties(problem)``, one per
    row of ``grids``; ``spec.datafit.deviance`` scores the held-out rows. Returns the errors ``(n_penalties, n_alphas, n_folds)`` and the folds'
    path results (certificates only). With ``gammas`` (relaxed fits, :mod:`._relaxed`) the
    errors are ``(n_penalties, n_gammas, n_alphas, n_folds)``.
    """
    out = Parallel(n_jobs=n_jobs)(
        delayed(_fold_paths)(train, test, spec, X, y, sw, grids, tol, max_iter, gammas)
        for train, test in splits)
    return np.stack([e for e, _ in out], axis=-1), [c for _, cs in out for c in cs]


class PathCVMixin:
    """The fitted attributes every ``*PathCV`` estimator sets, under one set of names."""

    @staticmethod
    def _cv_select(errors, splits, sample_weight, grids, gammas=None):
        """The CV statistics and the λ_min / λ_1se choice (:mod:`sklearn_normpen.selection`)."""
        return select_on_paths(errors, fold_weights(splits, sample_weight), grids,
                               gammas=gammas)

    def _set_cv_results(self, *, sel, grids, errors, splits, l1_ratios, scalar, path,
                        fold_results):
        best = sel["best_path"]
        i = sel["i_min"] if self.rule == "min" else sel["i_1se"]
        self.alphas_ = grids[0] if scalar else grids
        self.mse_path_ = errors[0] if scalar else errors
        self.cv_mean_ = sel["mean"][0] if scalar else sel["mean"]
        self.cv_se_ = sel["se"][0] if scalar else sel["se"]
        self.l1_ratio_ = float(l1_ratios[best])
        self.alpha_min_ = sel["alpha_min"]
        self.alpha_1se_ = sel["alpha_1se"]
        self.alpha_ = float(grids[best, i])
        self.coef_path_ = path.coefs
        self.intercept_path_ = path.intercepts
        self.dual_gap_path_ = path.gaps
        self.kkt_violation_path_ = path.kkts
        self.n_iter_path_ = path.n_iters
        self.coef_ = path.coefs[:, i].copy()
        self.intercept_ = float(path.intercepts[i]) if self.fit_intercept else 0.0
        self.dual_gap_ = float(path.gaps[i])
        self.kkt_violation_ = float(path.kkts[i])
        # warm starts make one point's epochs meaningless alone: the path's up to alpha_
        self.n_iter_ = int(path.n_iters[: i + 1].sum())
        n_folds = len(splits)
        worst = np.array([np.max(r.gaps) for r in fold_results]).reshape(n_folds, -1)
        self.fold_dual_gap_ = worst.max(axis=1)
        return best, i

    def _set_relaxed_results(self, *, sel, errors, gammas, scalar, problem, path):
        """Relaxed fits: the joint (alpha, gamma) choice, the relaxed full-data path and
        ``coef_``/``intercept_`` at the chosen point (``sel`` from the relaxed rule)."""
        use_min = self.rule == "min"
        i = sel["i_min"] if use_min else sel["i_1se"]
        gi = sel["g_min"] if use_min else sel["g_1se"]
        rc, rb = relax_path(problem, path.coefs, path.intercepts, gammas)
        self.gammas_ = gammas
        self.gamma_min_, self.gamma_1se_ = sel["gamma_min"], sel["gamma_1se"]
        self.gamma_ = float(gammas[gi])
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

