"""The multinomial branch of the elastic-net classifiers (K >= 3 classes): glmnet's
multinomial CV measures, the CV spec, the fits and the predict layer.

The solver is :class:`~sklearn_normpen._solvers.multinomial.MultinomialProblem`; the path
loop, the CV loop and the selection rule are the package's one each.
"""
import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._path import compute_path, warn_unconverged
from ._solvers.multinomial import MultinomialProblem, make_penalty
from ._validation import validate_X_predict
from .datafits import Multinomial, weighted_mean
from .elastic_net import _alpha_max

# glmnet's cv.multnet clips the probabilities to [1e-5, 1 - 1e-5] in its deviance
_PROB_MIN = 1e-5


# ---------------------------------------------------------------------------------------
# CV measures (glmnet's cv.multnet), lower is better. ``eta``: (n, K) or (n, K, m)
# ---------------------------------------------------------------------------------------

def _onehot(codes, eta):
    codes = np.asarray(codes, dtype=np.intp)
    Y = np.zeros(eta.shape[:2])
    Y[np.arange(codes.size), codes] = 1.0
    return Y[..., None] if eta.ndim == 3 else Y


def multinomial_deviance(codes, eta, sample_weight=None):
    """Mean multinomial deviance ``-2 log p_{i,y_i}`` with the probabilities clipped to
    [1e-5, 1 - 1e-5] (glmnet's ``type.measure="deviance"``)."""
    eta = np.asarray(eta, dtype=np.float64)
    P = np.clip(softmax(eta, axis=1), _PROB_MIN, 1 - _PROB_MIN)
    Y = _onehot(codes, eta)
    return weighted_mean(-2 * np.sum(Y * np.log(P), axis=1), sample_weight)


def multinomial_misclassification(codes, eta, sample_weight=None):
    """Weighted share of rows whose most probable class is not the label (``"class"``)."""
    eta = np.asarray(eta, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.intp)
    wrong = np.argmax(eta, axis=1) != (codes[:, None] if eta.ndim == 3 else codes)
    return weighted_mean(wrong.astype(np.float64), sample_weight)


def multinomial_mse(codes, eta, sample_weight=None):
    """glmnet's ``"mse"``: ``Σ_k (y_ik - p_ik)²`` per row, averaged."""
    eta = np.asarray(eta, dtype=np.float64)
    return weighted_mean(np.sum((_onehot(codes, eta) - softmax(eta, axis=1)) ** 2, axis=1),
                  sample_weight)


def multinomial_mae(codes, eta, sample_weight=None):
    """glmnet's ``"mae"``: ``Σ_k |y_ik - p_ik|`` per row, averaged."""
    eta = np.asarray(eta, dtype=np.float64)
    return weighted_mean(np.sum(np.abs(_onehot(codes, eta) - softmax(eta, axis=1)), axis=1),
                  sample_weight)


#: measure name -> (lower-is-better scorer, display name, greater_is_better)
MEASURES = {
    "deviance": (multinomial_deviance, "Multinomial deviance", False),
    "misclassification": (multinomial_misclassification, "Misclassification error", False),
    "mse": (multinomial_mse, "Mean squared error", False),
    "mae": (multinomial_mae, "Mean absolute error", False),
}


def measure(name, n_classes):
    if name not in MEASURES:
        raise ValueError(f"measure={name!r} is defined for two classes only; with "
                         f"{n_classes} classes use one of {sorted(MEASURES)}.")
    return MEASURES[name]


# ---------------------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------------------

def _grouped(est):
    return est.multinomial == "grouped"


def fit_single_alpha(est, X, codes, sw, pf):
    """One certified multinomial fit at ``est.alpha``: ``coef_`` (K, p), ``intercept_``
    (K,) (summing to 0), ``dual_gap_``, ``kkt_violation_``, ``n_iter_``."""
    K = est.classes_.size
    problem = MultinomialProblem(X, codes, K, sw, est.fit_intercept, _grouped(est))
    if est.alpha == 0:  # no penalty: every feature unpenalised (as the binomial fit)
        pf = np.zeros_like(pf)
    pen = make_penalty(float(est.l1_ratio), pf, est.standardize, problem, _grouped(est))
    res = compute_path(problem, pen, np.array([float(est.alpha)]), tol=est.tol,
                       max_iter=est.max_iter)
    warn_unconverged([res], what="Proximal Newton (multinomial)")
    est.coef_ = np.ascontiguousarray(res.coefs[..., 0].T, dtype=X.dtype)
    est.intercept_ = np.asarray(res.intercepts[:, 0], dtype=np.float64)
    est.dual_gap_, est.kkt_violation_ = float(res.gaps[0]), float(res.kkts[0])
    est.n_iter_ = int(res.n_iters[0])


class MultinomialSpec:
    """What a CV fold needs (picklable): its problem, the penalties sharing it, the
    predictions (n_test, K, n_alphas) and the measure."""

    datafit = Multinomial

    def __init__(self, X, codes, n_classes, sw, fit_intercept, grouped, l1_ratios, pf,
                 standardize, scorer):
        self.X, self.codes, self.K, self.sw = X, codes, n_classes, sw
        self.fit_intercept, self.grouped = fit_intercept, grouped
        self.l1_ratios, self.pf, self.standardize = l1_ratios, pf, standardize
        self.measure = scorer

    def problem(self, train, test):
        return MultinomialProblem(self.X, self.codes, self.K, self.sw, self.fit_intercept,
                                  self.grouped, rows=train)

    def full_problem(self):
        return MultinomialProblem(self.X, self.codes, self.K, self.sw, self.fit_intercept,
                                  self.grouped)

    @staticmethod
    def alpha_max(problem, penalty, tol, max_iter):
        return _alpha_max(problem, penalty, tol, max_iter)

    def penalties(self, problem):
        return [make_penalty(r, self.pf, self.standardize, problem, self.grouped)
                for r in self.l1_ratios]

    @staticmethod
    def active(coef):
        """A feature is active when any of its K coefficients is (dfmax / pmax count)."""
        return np.any(coef != 0, axis=1)

    @staticmethod
    def predict(X_te, res):
        """(n_test, K, n_alphas) linear predictors from a (p, K, n_alphas) path."""
        c = res.coefs
        flat = safe_sparse_dot(X_te, c.reshape(c.shape[0], -1), dense_output=True)
        return np.asarray(flat).reshape(X_te.shape[0], *c.shape[1:]) + res.intercepts


def finish_path_cv(est, X):
    """After the shared path-CV fit: scikit-learn's (K, p) layout for ``coef_`` and
    ``coef_path_`` ((K, p, n_alphas), classes first), ``intercept_`` (K,)."""
    est.coef_ = np.ascontiguousarray(np.asarray(est.coef_)[0].T, dtype=X.dtype)
    est.intercept_ = np.asarray(est.intercept_, dtype=np.float64).reshape(-1)
    est.coef_path_ = np.swapaxes(est.coef_path_, -3, -2)


# ---------------------------------------------------------------------------------------
# Predict layer
# ---------------------------------------------------------------------------------------

class MultinomialPredictMixin:
    """With K >= 3 classes (``coef_`` of shape (K, p)): ``decision_function`` (n, K), the
    softmax probabilities and the most probable class; with 2 classes the binary
    classifier's methods (next in the MRO) unchanged."""

    def _is_multinomial(self):
        check_is_fitted(self, "coef_")
        return len(self.classes_) > 2

    def decision_function(self, X):
        """Linear predictors: ``X @ coef_.T + intercept_`` of shape (n_samples, K) with
        K >= 3 classes (the log-odds of ``classes_[1]``, shape (n_samples,), with 2)."""
        if not self._is_multinomial():
            return super().decision_function(X)
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_, dtype=X.dtype)
        return np.asarray(safe_sparse_dot(X, coef.T, dense_output=True)) + np.asarray(
            self.intercept_, dtype=X.dtype)

    def predict_proba(self, X):
        """Class probabilities (rows sum to 1), columns in the order of ``classes_``."""
        if not self._is_multinomial():
            return super().predict_proba(X)
        return softmax(self.decision_function(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without underflow."""
        if not self._is_multinomial():
            return super().predict_log_proba(X)
        return log_softmax(self.decision_function(X), axis=1)

    def predict(self, X):
        """The label of the most probable class."""
        if not self._is_multinomial():
            return super().predict(X)
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    # -- path accessors on the (n_classes, n_features, n_alphas) path (PathCV only) --------
    def coef_at(self, alpha="min", l1_ratio=None):
        """Coefficients of the full-data path at ``alpha`` (``"min"``, ``"1se"``, a float
        or an array; linear interpolation between grid points). With K >= 3 classes:
        shape (n_classes, n_features) or (n_classes, n_features, n_requested)."""
        if not self._is_multinomial():
            return super().coef_at(alpha, l1_ratio)
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        cp = self._path_arrays(row)[1]
        out = self._mix(cp[..., left], cp[..., right], frac)
        return out[..., 0] if scalar else out

    def intercept_at(self, alpha="min", l1_ratio=None):
        """Intercepts at ``alpha``; with K >= 3 classes shape (n_classes,) or (n_classes,
        n_requested)."""
        if not self._is_multinomial():
            return super().intercept_at(alpha, l1_ratio)
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        ip = np.asarray(self._path_arrays(row)[2], dtype=np.float64)
        out = frac * ip[:, left] + (1 - frac) * ip[:, right]
        return out[:, 0] if scalar else out

    def predict_at(self, X, alpha="min", l1_ratio=None):
        """Linear predictors at ``alpha``; with K >= 3 classes shape (n_samples, n_classes)
        or (n_samples, n_classes, n_requested)."""
        if not self._is_multinomial():
            return super().predict_at(X, alpha, l1_ratio)
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_at(alpha, l1_ratio), dtype=X.dtype)
        b = np.asarray(self.intercept_at(alpha, l1_ratio), dtype=X.dtype)
        if coef.ndim == 2:
            return np.asarray(safe_sparse_dot(X, coef.T, dense_output=True)) + b
        return np.stack([np.asarray(safe_sparse_dot(X, coef[..., m].T, dense_output=True))
                         + b[:, m] for m in range(coef.shape[-1])], axis=-1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


# ---------------------------------------------------------------------------------------
# enet_path(family="multinomial")
# ---------------------------------------------------------------------------------------

def multinomial_enet_path(X, y, *, l1_ratio, eps, n_alphas, alphas, fit_intercept,
                          sample_weight, penalty_factor, standardize, tol, max_iter,
                          return_n_iter, dfmax, pmax):
    """:func:`~sklearn_normpen.enet_path` for ``family="multinomial"`` (glmnet's
    ``type.multinomial="ungrouped"``): the path of
    :class:`~sklearn_normpen.ElasticNetClassifier`'s K-class objective, solved by the same
    problem and path loop. ``coefs`` has shape (n_classes, n_features, n_alphas), classes
    in ``np.unique(y)`` order (the layout of ``multitask_enet_path`` and of the
    classifier's ``coef_path_``); the intercepts are not returned."""
    from ._validation import validate_path_input, validate_penalty_factor
    from ._validation import validate_sample_weight
    from ._grid import make_grid
    from ._path import warn_stopped
    from .elastic_net import _check_l1_ratios, _check_scalar_tol
    from sklearn.utils.multiclass import check_classification_targets
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 3:
        raise ValueError(f"family='multinomial' needs at least 3 classes in y; got "
                         f"{classes.size} (use family='binomial' for two).")
    X, _ = validate_path_input(X, codes.astype(np.float64), caller="enet_path")
    sw = validate_sample_weight(sample_weight, X)
    p = X.shape[1]
    grid_arg = alphas if alphas is not None else n_alphas
    (rho,) = _check_l1_ratios(l1_ratio, grid_arg)
    _check_scalar_tol(tol, max_iter)
    pf = validate_penalty_factor(penalty_factor, p)
    problem = MultinomialProblem(X, codes.astype(np.intp), classes.size, sw, fit_intercept,
                                 False)
    pen = make_penalty(rho, pf, standardize, problem, False)
    grid = make_grid(grid_arg, lambda: _alpha_max(problem, pen, tol, max_iter), eps)
    res = compute_path(problem, pen, grid, tol=tol, max_iter=max_iter, dfmax=dfmax,
                       pmax=pmax, active=MultinomialSpec.active)
    warn_unconverged([res], what="Proximal Newton (multinomial)")
    warn_stopped(res, len(grid), "enet_path")
    out = (res.alphas, np.swapaxes(res.coefs, 0, 1), res.gaps)
    return out + (res.n_iters,) if return_n_iter else out
