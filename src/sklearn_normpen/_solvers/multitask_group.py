"""Block proximal gradient for the sparse-group multi-response Gaussian family (groups of
features, each group's |g| × K block of coefficients one block; grpreg-style, glmnet has
none).

Objective (``N = Σs``, ``W`` of shape (n_features, n_responses), ``b`` unpenalised)::

    1/(2N) Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha (l1_ratio Σ_j ‖W_j‖₂
                                               + (1 - l1_ratio) Σ_g c_g ‖W_g‖_F)

Each visit of group ``g`` takes one proximal-gradient step with step ``1/L_g`` (``L_g`` the
largest eigenvalue of the group's weighted centred Gram over N): ``V = W_g + Gr_g/L_g``,
then every row shrunk by ``alpha·l1_ratio/L_g`` in norm, then the block by
``alpha(1 - l1_ratio)c_g/L_g`` in Frobenius norm (the prox of these nested norms is that
composition). Dense float64 linear algebra on one centred, ``sqrt(s)``-weighted copy of X
(sparse X is densified): a first, NumPy-only solver without working sets or a compiled
kernel. It stops on the package's certificate (:class:`MultiTaskProblem`'s float64
residual-matrix statistics), computed every 10 epochs.
"""
import numpy as np

from .._certificate import certificate
from .multitask import MultiTaskProblem

CHECK_EVERY = 10  # epochs between certificates


class MultiTaskGroupProblem(MultiTaskProblem):
    """:class:`MultiTaskProblem` with feature groups (``groups``: list of index arrays,
    a partition of the features; ``penalty``: a
    :class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso` on them). Coefficients
    are float64 whatever X's dtype."""

    def __init__(self, X, Y, sample_weight, fit_intercept, groups, rows=None):
        super().__init__(X, Y, sample_weight, fit_intercept, rows=rows)
        d = self.design
        self.dtype = np.dtype(np.float64)
        self._fresh = True  # certificates from a float64 residual recomputed from scratch
        Xd = d.X.toarray() if d.sparse else d.X
        A = np.asarray(Xd, dtype=np.float64) - np.asarray(d.x_mean, dtype=np.float64)
        root = None if d.sw64 is None else np.sqrt(d.sw64)[:, None]
        self._A = np.asfortranarray(A if root is None else A * root)
        self._B = self.Yc64 if root is None else self.Yc64 * root
        self.groups = [np.asarray(g, dtype=np.intp) for g in groups]
        self._Lg = np.array([np.linalg.norm(self._A[:, g], 2) ** 2 / d.N if len(g) else 0.0
                             for g in self.groups])

    def start(self, w):
        w = np.array(np.broadcast_to(w, (self.p, self.n_responses)) if np.ndim(w) < 2
                     else w, dtype=np.float64, order="C")
        self._z = None
        return w

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """Block proximal gradient at ``alpha`` from ``w`` (updated in place) until the
        certificate is at most ``tol_abs`` or ``max_iter`` epochs are spent; returns
        ``(Certificate, epochs)``."""
        A, N = self._A, self.N
        R = self._B - A @ w
        l1 = alpha * penalty.rho
        l2 = alpha * (1 - penalty.rho) * penalty.weights
        epochs = 0
        while True:
            cert = certificate(self.cert_stats(w, penalty), penalty, alpha, w)
            if cert.gap <= tol_abs or epochs >= max_iter:
                return cert, epochs
            for _ in range(min(CHECK_EVERY, max_iter - epochs)):
                for g, idx in enumerate(self.groups):
                    L = self._Lg[g]
                    if L == 0:
                        continue  # constant columns: coefficients stay 0
                    Ag, Wg = A[:, idx], w[idx]
                    V = Wg + (Ag.T @ R) / (N * L)
                    rows = np.sqrt(np.sum(V * V, axis=1))
                    V *= np.maximum(1 - l1 / (L * np.where(rows > 0, rows, 1.0)), 0.0)[:, None]
                    fro = float(np.sqrt(np.sum(V * V)))
                    V *= max(1 - l2[g] / (L * fro), 0.0) if fro > 0 else 0.0
                    D = V - Wg
                    if D.any():
                        R -= Ag @ D
                        w[idx] = V
                epochs += 1
