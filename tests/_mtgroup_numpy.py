"""Test twin: the package's first multi-response sparse-group lasso solver (NumPy block
proximal gradient on a dense float64 copy, before the compiled kernel), kept verbatim as
an independent implementation to compare the kernel against. Original docstring:

Block proximal gradient for the sparse-group multi-response Gaussian family (groups of
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
residual-matrix statistics), computed after epochs 1, 2, 4, 8, 16 and then every 10.
"""
import numpy as np

from sklearn_normpen._certificate import certificate
from sklearn_normpen._solvers.multitask import MultiTaskProblem

CHECK_EVERY = 10  # most epochs between certificates


class NumpyMultiTaskGroupProblem(MultiTaskProblem):
    """:class:`MultiTaskProblem` with feature groups (``groups``: list of index arrays,
    a partition of the features; ``penalty``: a
    :class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso` on them). Coefficients
    are float64 whatever X's dtype. ``inv_scale``: X's columns were divided by their
    standard deviations (``standardize``); :meth:`to_original` multiplies the solver's
    coefficients by it, so that paths hold the user's scale."""

    def __init__(self, X, Y, sample_weight, fit_intercept, groups, inv_scale=None,
                 rows=None, x_shift=None, exact=None):
        # (exact: the compiled problem's float32 certificate data; the twin computes in
        # float64 on the copy it is given)
        super().__init__(X, Y, sample_weight, fit_intercept, rows=rows)
        self.inv_scale = None if inv_scale is None else np.asarray(inv_scale, np.float64)
        self.x_shift = x_shift  # subtracted from the scaled columns (offset columns)
        d = self.design
        self.dtype = np.dtype(np.float64)
        self._fresh = True  # certificates from a float64 residual recomputed from scratch
        Xd = d.X.toarray() if d.sparse else d.X
        A = np.asarray(Xd, dtype=np.float64) - np.asarray(d.x_mean, dtype=np.float64)
        root = None if d.sw64 is None else np.sqrt(d.sw64)[:, None]
        self._A = np.asfortranarray(A if root is None else A * root)
        self._B = self.Yc64 if root is None else self.Yc64 * root
        self.groups = [np.asarray(g, dtype=np.intp) for g in groups]
        # each group's columns as one contiguous block (no fancy-index copy per visit)
        self._blocks = [np.asfortranarray(self._A[:, g]) for g in self.groups]
        self._Lg = np.array([np.linalg.norm(B, 2) ** 2 / d.N if B.size else 0.0
                             for B in self._blocks])

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
            # one epoch before the first certificate (as every solver), then doubling runs
            # up to CHECK_EVERY epochs between certificates
            for _ in range(min(max(min(epochs, CHECK_EVERY), 1), max_iter - epochs)):
                for g, idx in enumerate(self.groups):
                    L = self._Lg[g]
                    if L == 0:
                        continue  # constant columns: coefficients stay 0
                    Ag, Wg = self._blocks[g], w[idx]
                    V = Wg + (Ag.T @ R) / (N * L)
                    rows = np.sqrt(np.einsum("jk,jk->j", V, V))
                    shrink = np.maximum(1 - l1 / (L * np.where(rows > 0, rows, 1.0)), 0.0)
                    V *= shrink[:, None]
                    fro = float(np.sqrt(np.dot(rows * shrink, rows * shrink)))
                    V *= max(1 - l2[g] / (L * fro), 0.0) if fro > 0 else 0.0
                    D = V - Wg
                    if D.any():
                        R -= Ag @ D
                        w[idx] = V
                epochs += 1
            cert = certificate(self.cert_stats(w, penalty), penalty, alpha, w)
            if cert.gap <= tol_abs or epochs >= max_iter:
                return cert, epochs

    def to_original(self, w):
        """``(coef (n_features, n_responses), intercept (n_responses,))`` on the user's
        scale (the intercept is ``ȳ - x̄ᵀw`` on the scaled columns, the same number)."""
        coef, b = super().to_original(w)
        if self.inv_scale is not None:
            coef = np.asarray(coef, dtype=np.float64) * self.inv_scale[:, None]
        if self.fit_intercept and self.x_shift is not None:
            b = b - np.asarray(self.x_shift, np.float64) @ np.asarray(w, np.float64)
        return coef, b
