"""Penalty objects: value, proximal operator (Python reference), dual norm, ``alpha_max`` and
KKT distance. The compiled proxes live in ``_kernels/_helpers.pxd``; these objects are what the
path driver and the certificates use, and what the tests check the kernels against.

A new penalty is one class here plus its prox in a ``.pxd``.
"""
import numpy as np


# ---------------------------------------------------------------------------------------
# Elastic net (owner: the ElasticNetPathCV work)
# ---------------------------------------------------------------------------------------

class ElasticNetPenalty:
    """``alpha·(l1_ratio·Σ_j a_j|w_j| + (1 - l1_ratio)/2·Σ_j b_j w_j²)``.

    ``a`` and ``b`` are the per-feature factors of the l1 and l2 parts: both equal the user's
    ``penalty_factor`` f, except under ``standardize=True`` where fitting on columns scaled by
    ``1/σ_j`` is the same as ``a_j = f_j σ_j`` and ``b_j = f_j σ_j²`` on the original scale.
    ``excluded`` features (constant columns under standardisation) are held at zero.
    The intercept is never penalised.
    """

    def __init__(self, l1_ratio, l1_factor, l2_factor=None, excluded=None, positive=False):
        self.l1_ratio = float(l1_ratio)
        self.l1_factor = np.asarray(l1_factor, dtype=np.float64)
        self.l2_factor = self.l1_factor if l2_factor is None else np.asarray(
            l2_factor, dtype=np.float64)
        p = self.l1_factor.shape[0]
        self.excluded = np.zeros(p, bool) if excluded is None else np.asarray(excluded, bool)
        self.positive = bool(positive)

    @property
    def unpenalized(self):
        """Features with no penalty at all (fitted by least squares at every alpha)."""
        return (self.l1_factor == 0) & (self.l2_factor == 0) & ~self.excluded

    def value(self, w, alpha):
        w = np.asarray(w, dtype=np.float64)
        keep = ~self.excluded
        return alpha * (self.l1_ratio * np.sum(self.l1_factor[keep] * np.abs(w[keep]))
                        + 0.5 * (1 - self.l1_ratio) * np.sum(self.l2_factor[keep] * w[keep] ** 2))

    def scaled_weights(self, alpha, N):
        """Kernel penalties ``(L1, L2)`` on the n-scale (``N = Σs``); ``L1 = inf`` excludes."""
        L1 = N * alpha * self.l1_ratio * self.l1_factor
        L2 = N * alpha * (1 - self.l1_ratio) * self.l2_factor
        L1 = np.where(self.excluded, np.inf, L1)
        L2 = np.where(self.excluded, 0.0, L2)
        return L1, L2

    def null_weights(self):
        """Penalties of the "null" model: penalised features at zero, unpenalised ones free."""
        L1 = np.where(self.unpenalized, 0.0, np.inf)
        return L1, np.zeros_like(L1)

    def alpha_max(self, grad):
        """Smallest alpha at which every penalised coefficient is zero.

        ``grad = x_jᵀ S r / Σs`` at the null model (residual after fitting the unpenalised
        features). ``inf`` when ``l1_ratio = 0`` (pure ridge has no such alpha).
        """
        pen = (self.l1_factor > 0) & ~self.excluded
        if not pen.any():
            return 0.0
        if self.l1_ratio == 0:
            return np.inf
        g = np.asarray(grad, dtype=np.float64)[pen]
        g = np.maximum(g, 0) if self.positive else np.abs(g)
        return float(np.max(g / (self.l1_ratio * self.l1_factor[pen])))

    def kkt_distance(self, w, grad, alpha):
        """``max_j dist(grad_j, ∂pen_j(w_j))`` with ``grad = Xcᵀ S r / Σs`` (0 at optimum)."""
        w = np.asarray(w, dtype=np.float64)
        g = np.asarray(grad, dtype=np.float64)
        l1 = alpha * self.l1_ratio * self.l1_factor
        l2 = alpha * (1 - self.l1_ratio) * self.l2_factor
        nz = w != 0
        d = np.where(nz, np.abs(g - l1 * np.sign(w) - l2 * w),
                     np.maximum((g if self.positive else np.abs(g)) - l1, 0))
        d[self.excluded] = 0
        return float(d.max()) if d.size else 0.0



# ---------------------------------------------------------------------------------------
# (Sparse-)group lasso (owner: the GroupLasso work)
# ---------------------------------------------------------------------------------------
