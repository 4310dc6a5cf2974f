"""Datafit objects: what the certificate, the path/CV loops and the plots know of a loss.

A new loss is one class here (plus its curvature in a ``.pxd`` if a kernel needs it). Each
datafit gives, on the package scale (``N = Σs``; statistics from :class:`CertStats`):

* ``value(stats)``: ``F`` at the current point;
* ``dual(stats, t)``: ``-F*(-θ)`` at the dual point ``θ = t·r_p`` (the certificate's first
  term; the penalty's conjugate is the second);
* ``deviance(y_true, y_pred, sample_weight)``: the held-out loss the CV loop scores with
  (one value per candidate column of ``y_pred``), and ``deviance_name`` for the plots;
* ``curvature``: the (constant) second derivative, for Newton-type solvers;
* GLMs (:class:`Logistic`, :class:`Poisson`) add the per-row pieces the proximal-Newton
  solver uses: ``mean`` (inverse link), ``loss``, ``residual`` (``y - μ``), ``variance``,
  ``irls_weight``, ``null_intercept`` and ``saturated`` (the loss at ``μ = y``). Their unit
  of ``tol`` is half the null deviance: the intercept-only loss minus the saturated one
  (``H(ȳ)`` for 0/1 labels);
* ``dual_scale(stats)``: the largest ``t <= 1`` keeping ``θ = t·r_p`` in the domain of
  ``F*`` (1 for the quadratic; the certificate takes the smaller of it and the penalty's).
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, xlog1py, xlogy


def weighted_mean(v, sample_weight):
    """``Σ s_i v_i / Σ s`` over the rows (axis 0) in float64: a float for 1-d ``v``, one
    value per trailing entry otherwise; NaN (no warning) when the weights sum to 0 (a CV
    fold whose held-out rows all have weight 0: its error is undefined and
    :func:`~sklearn_normpen._cv.fold_weights` gives it no weight)."""
    if sample_weight is None:
        out = v.mean(axis=0)
    else:
        sw = np.asarray(sample_weight, dtype=np.float64)
        total = sw.sum()
        out = (sw @ v) / total if total > 0 else np.full(v.shape[1:], np.nan)
    return float(out) if np.ndim(out) == 0 else out


class Quadratic:
    """``F(w, b) = 1/(2Σs)·Σ_i s_i (y_i - x_iᵀw - b)²`` (scikit-learn's ``ElasticNet`` and
    glmnet's gaussian family). The intercept is eliminated by weighted centring, so the
    statistics are those of ``r = yc - Xc w``: ``value = ||r||²_S/(2N)`` and
    ``-F*(-θ) = (ycᵀSθ - θᵀSθ/2)/N``; the null deviance ``||yc||²_S/(2N)`` is the unit of
    ``tol``."""

    curvature = 1.0
    deviance_name = "Mean squared error"

    @staticmethod
    def dual_scale(stats):
        return 1.0

    @staticmethod
    def value(stats):
        return 0.5 * stats.r_norm2

    @staticmethod
    def dual(stats, t):
        return t * stats.r_y - 0.5 * t * t * stats.r_norm2

    @staticmethod
    def deviance(y_true, y_pred, sample_weight=None):
        """Weighted mean squared error of held-out rows; ``y_pred`` may carry a trailing
        axis of candidates (shape (n_test, n_candidates)), giving one error per candidate."""
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        r = y_pred - (y_true[:, None] if y_pred.ndim > y_true.ndim else y_true)
        sq = r * r
        return weighted_mean(sq, sample_weight)


@dataclass
class GLMStats:
    """The float64 per-row state a GLM certificate needs: labels ``y``, linear predictor
    ``eta = Xw + b``, the dual direction ``r_p`` (the negative gradient ``y - μ`` made
    feasible for the intercept and unpenalised features), sample weights ``sw`` (None:
    unit) and ``N = Σs``."""

    y: np.ndarray
    eta: np.ndarray
    r_p: np.ndarray
    sw: np.ndarray
    N: float

    def mean(self, v):
        return float(np.sum(v) if self.sw is None else self.sw @ v) / self.N


def _binomial_loss(y, eta):
    """``log(1 + e^η) - yη`` per row, without overflow."""
    return np.logaddexp(0.0, eta) - y * eta


class Logistic:
    """Binomial family, logit link (glmnet's ``family="binomial"``, y ∈ {0, 1})::

        F(η) = 1/N·Σ_i s_i [log(1 + e^{η_i}) - y_i η_i],   η = Xw + b.

    Its conjugate is the negative entropy: with the dual point ``θ = t·r_p`` and
    ``q = y - θ`` (a probability when feasible), ``-F*(-θ) = -1/N·Σ s_i [q_i log q_i
    + (1 - q_i) log(1 - q_i)]``; ``q`` must stay in [0, 1], which bounds ``t``
    (:meth:`dual_scale`). At the optimum ``r_p = y - μ`` and ``q = μ``: the gap is 0.
    """

    curvature = 0.25  # max of μ(1 - μ): a global upper bound of the second derivative
    deviance_name = "Binomial deviance"

    @staticmethod
    def mean(eta):
        """``μ = 1/(1 + e^{-η})`` (the inverse link)."""
        return expit(eta)

    @staticmethod
    def loss(y, eta):
        return _binomial_loss(y, eta)

    @staticmethod
    def residual(y, eta):
        """``y - μ`` without cancellation where μ rounds to 0 or 1."""
        return y * expit(-eta) - (1 - y) * expit(eta)

    @staticmethod
    def variance(eta):
        mu = expit(eta)
        return mu * (1 - mu)

    @staticmethod
    def irls_weight(eta):
        """``μ(1 - μ)`` floored at 1e-5 (glmnet): the Newton model stays bounded."""
        return np.maximum(Logistic.variance(eta), 1e-5)

    @staticmethod
    def no_null_fit(ybar):
        """Why the intercept-only fit is infinite for the weighted mean label ``ȳ``, or
        None when it is finite."""
        if 0 < ybar < 1:
            return None
        return ("only one class has positive sample weight in the data being fitted (e.g. "
                "a cross-validation training fold): the binomial intercept would be "
                f"{'-' if ybar <= 0 else '+'}inf. Use stratified folds (the default for an "
                "int cv) or fewer folds. (glmnet refuses a class with fewer than 2 "
                "observations.)")

    @staticmethod
    def null_intercept(ybar):
        """The intercept-only fit ``logit(ȳ)`` (ȳ clipped to [1e-5, 1 - 1e-5])."""
        m = min(max(ybar, 1e-5), 1 - 1e-5)
        return float(np.log(m / (1 - m)))

    @staticmethod
    def value(stats):
        g = stats.glm
        return g.mean(_binomial_loss(g.y, g.eta))

    @staticmethod
    def dual(stats, t):
        g = stats.glm
        q = np.clip(g.y - t * g.r_p, 0.0, 1.0)  # rounding only: dual_scale keeps q in [0, 1]
        return -g.mean(xlogy(q, q) + xlogy(1 - q, 1 - q))

    @staticmethod
    def dual_scale(stats):
        g = stats.glm
        r, y = g.r_p, g.y
        with np.errstate(divide="ignore", invalid="ignore"):
            lim = np.where(r > 0, y / r, np.where(r < 0, (1 - y) / -r, np.inf))
        return float(min(1.0, lim.min())) if lim.size else 1.0

    @staticmethod
    def saturated(y):
        """Per-row loss of the saturated model (μ = y): 0 for 0/1 labels."""
        return -(xlogy(y, y) + xlogy(1 - y, 1 - y))

    @staticmethod
    def deviance(y_true, y_pred, sample_weight=None):
        """Weighted mean binomial deviance ``2[log(1 + e^η) - yη]`` of held-out rows for
        the linear predictor ``y_pred`` (glmnet's ``type.measure="deviance"``, without its
        clipping of μ to [1e-5, 1 - 1e-5]: the loss is finite for every η); a trailing
        axis of candidates gives one value per candidate."""
        y = np.asarray(y_true, dtype=np.float64)
        eta = np.asarray(y_pred, dtype=np.float64)
        loss = 2 * _binomial_loss(y[:, None] if eta.ndim > y.ndim else y, eta)
        return weighted_mean(loss, sample_weight)


class Poisson:
    """Poisson family, log link (glmnet's ``family="poisson"``, y >= 0)::

        F(η) = 1/N·Σ_i s_i [e^{η_i} - y_i η_i],   η = Xw + b.

    Conjugate: with ``q = y - θ >= 0`` (the fitted mean at the optimum),
    ``-F*(-θ) = -1/N·Σ s_i [q_i log q_i - q_i]``; ``q >= 0`` bounds ``t``
    (:meth:`dual_scale`).
    """

    curvature = np.inf  # e^η: no global bound (the line search keeps the steps safe)
    deviance_name = "Poisson deviance"

    @staticmethod
    def mean(eta):
        return np.exp(np.minimum(eta, 700.0))

    @staticmethod
    def loss(y, eta):
        return Poisson.mean(eta) - y * eta

    @staticmethod
    def residual(y, eta):
        return y - Poisson.mean(eta)

    @staticmethod
    def variance(eta):
        return Poisson.mean(eta)

    @staticmethod
    def irls_weight(eta):
        return np.maximum(Poisson.mean(eta), 1e-10)

    @staticmethod
    def no_null_fit(ybar):
        """Why the intercept-only fit is infinite (``ȳ = 0``), or None."""
        if ybar > 0:
            return None
        return ("y is zero everywhere (with positive weight) in the data being fitted (e.g. "
                "a cross-validation training fold): the Poisson intercept would be -inf. "
                "Use fewer folds, or folds that each hold some positive counts.")

    @staticmethod
    def null_intercept(ybar):
        return float(np.log(max(ybar, 1e-10)))

    @staticmethod
    def value(stats):
        g = stats.glm
        return g.mean(Poisson.loss(g.y, g.eta))

    @staticmethod
    def dual(stats, t):
        g = stats.glm
        q = np.maximum(g.y - t * g.r_p, 0.0)
        return -g.mean(xlogy(q, q) - q)

    @staticmethod
    def dual_scale(stats):
        g = stats.glm
        r, y = g.r_p, g.y
        with np.errstate(divide="ignore", invalid="ignore"):
            lim = np.where(r > 0, y / r, np.inf)
        return float(min(1.0, lim.min())) if lim.size else 1.0

    @staticmethod
    def bregman(q, eta):
        """Per row, ``q log(q/μ) - q + μ >= 0`` (``μ = e^η``; half the unit deviance of
        ``q`` against ``μ``), formed from ``d = q - μ`` as ``q·log1p(d/μ) - d``: accurate
        to a few ulps of ``|d|`` where the textbook form cancels ``q log q`` (~1e11 for
        counts near 1e10). Returns the terms and the size of their rounding."""
        mu = Poisson.mean(eta)
        d = q - mu
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = xlog1py(q, d / mu)
            direct = xlogy(q, q) - q * eta - d  # μ underflowed (η < -745): no ratio
        a = np.where(np.isfinite(a), a, 0.0)
        b = np.where(mu > 0, a - d, direct)
        return np.maximum(b, 0.0), np.abs(a) + np.abs(d) + np.abs(b)

    @staticmethod
    def fenchel_young(stats, t):
        """The loss's Fenchel-Young gap ``F(η) + F*(-θ) + <θ, η>`` at ``θ = t·r_p``: the
        weighted mean of :meth:`bregman` of ``q = y - θ`` against ``μ``, and the size of
        its rounding. (``P - D`` formed as the difference of the two objectives cancels
        their common ``Σ y log y``: with counts near 1e10 that left ~1e-4 of the null
        deviance, so a 1e-4 target could never be certified.)"""
        g = stats.glm
        b, size = Poisson.bregman(np.maximum(g.y - t * g.r_p, 0.0), g.eta)
        return g.mean(b), g.mean(size)

    @staticmethod
    def saturated(y):
        """Per-row loss of the saturated model (μ = y): ``y - y log y``."""
        return y - xlogy(y, y)

    @staticmethod
    def deviance(y_true, y_pred, sample_weight=None):
        """Weighted mean Poisson deviance ``2[y log(y/μ) - (y - μ)]`` of held-out rows for
        the linear predictor ``y_pred`` (``μ = e^η``); one value per candidate column."""
        y = np.asarray(y_true, dtype=np.float64)
        eta = np.asarray(y_pred, dtype=np.float64)
        yy = y[:, None] if eta.ndim > y.ndim else y
        return weighted_mean(2 * Poisson.bregman(yy, eta)[0], sample_weight)


def _logsumexp_rows(eta):
    """``log Σ_k e^{η_ik}`` per row (axis 1), without overflow."""
    m = np.max(eta, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(eta - m), axis=1)) + m[:, 0]


class Multinomial:
    """Multinomial family, K classes (glmnet's ``family="multinomial"``); ``Y`` one-hot
    (n, K), ``η = XW + 1bᵀ`` (n, K)::

        F(η) = 1/N·Σ_i s_i [log Σ_k e^{η_ik} - η_{i,y_i}].

    Conjugate: the negative entropy on the simplex. With the dual point ``Θ = t·R_p`` (rows
    summing to 0) and ``q_i = y_i - θ_i`` (a probability vector when feasible),
    ``-F*(-Θ) = -1/N·Σ_i s_i Σ_k q_ik log q_ik``; ``q >= 0`` bounds ``t``
    (:meth:`dual_scale`). At the optimum ``R_p = Y - P`` (P the softmax) and ``q = P``.
    The unit of ``tol`` is the intercept-only loss (the entropy of the weighted class
    shares; the saturated loss is 0 for one-hot labels).
    """

    curvature = 0.5  # the largest eigenvalue of diag(p) - ppᵀ is at most 1/2
    deviance_name = "Multinomial deviance"

    @staticmethod
    def mean(eta):
        """Class probabilities (the softmax of each row)."""
        e = np.exp(eta - np.max(eta, axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    @staticmethod
    def loss(Y, eta):
        """``log Σ_k e^{η_ik} - Σ_k Y_ik η_ik`` per row."""
        return _logsumexp_rows(eta) - np.sum(Y * eta, axis=1)

    @staticmethod
    def value(stats):
        g = stats.glm
        return g.mean(Multinomial.loss(g.y, g.eta))

    @staticmethod
    def dual(stats, t):
        g = stats.glm
        q = np.clip(g.y - t * g.r_p, 0.0, 1.0)  # rounding only: dual_scale keeps q >= 0
        return -g.mean(np.sum(xlogy(q, q), axis=1))

    # q = y - t·r >= 0 bounds t exactly as for the Poisson (q <= 1 follows: rows sum to 1)
    dual_scale = staticmethod(Poisson.dual_scale)

    @staticmethod
    def saturated(Y):
        """Per-row loss of the saturated model: ``-Σ_k Y_ik log Y_ik`` (0 for one-hot)."""
        return -np.sum(xlogy(Y, Y), axis=1)

    @staticmethod
    def deviance(y_true, y_pred, sample_weight=None):
        """Weighted mean multinomial deviance ``2[log Σ_k e^{η_ik} - η_{i,y_i}]`` of
        held-out rows (``y_true`` class indices, ``y_pred`` linear predictors (n, K) or
        (n, K, n_candidates): one value per candidate); glmnet's CV deviance clips the
        probabilities instead (``classification`` measures)."""
        codes = np.asarray(y_true, dtype=np.intp)
        eta = np.asarray(y_pred, dtype=np.float64)
        m = np.max(eta, axis=1, keepdims=True)
        lse = np.log(np.sum(np.exp(eta - m), axis=1)) + m[:, 0]
        dev = 2 * (lse - np.take_along_axis(
            eta, codes.reshape((-1, 1) + (1,) * (eta.ndim - 2)), axis=1)[:, 0])
        return weighted_mean(dev, sample_weight)
