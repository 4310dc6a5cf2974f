"""Datafit objects: what the certificate, the path/CV loops and the plots know of a loss.

A new loss is one class here (plus its curvature in a ``.pxd`` if a kernel needs it). Each
datafit gives, on the package scale (``N = Σs``; statistics from :class:`CertStats`):

* ``value(stats)``: ``F`` at the current point;
* ``dual(stats, t)``: ``-F*(-θ)`` at the dual point ``θ = t·r_p`` (the certificate's first
  term; the penalty's conjugate is the second);
* ``deviance(y_true, y_pred, sample_weight)``: the held-out loss the CV loop scores with
  (one value per candidate column of ``y_pred``), and ``deviance_name`` for the plots;
* ``curvature``: the (constant) second derivative, for Newton-type solvers.
"""
import numpy as np


class Quadratic:
    """``F(w, b) = 1/(2Σs)·Σ_i s_i (y_i - x_iᵀw - b)²`` (scikit-learn's ``ElasticNet`` and
    glmnet's gaussian family). The intercept is eliminated by weighted centring, so the
    statistics are those of ``r = yc - Xc w``: ``value = ||r||²_S/(2N)`` and
    ``-F*(-θ) = (ycᵀSθ - θᵀSθ/2)/N``; the null deviance ``||yc||²_S/(2N)`` is the unit of
    ``tol``."""

    curvature = 1.0
    deviance_name = "Mean squared error"

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
        if sample_weight is None:
            return sq.mean(axis=0)
        sw = np.asarray(sample_weight, dtype=np.float64)
        return (sw @ sq) / sw.sum() if sq.ndim > 1 else float(sw @ sq / sw.sum())
