"""Coordinate descent for the elastic net: data preparation, mode choice and one solve.

A :class:`EnetProblem` holds what the compiled kernels need for one data set (centring
statistics, column norms, the residual or the Gram matrix) so a path can call
:meth:`EnetProblem.solve` once per alpha with warm starts. Three modes:

``"gram"``    covariance updates on ``Q = Xc' S Xc`` (dense ``X`` with n >= p by default);
``"dense"``   residual updates on Fortran-ordered ``X``, centring implicit (no copy of ``X``);
``"sparse"``  residual updates on CSC ``X``, centring implicit (never densified).

The kernels work on the n-scale objective (``N = Σs`` times the package objective, see
``_kernels/_cd_enet.pyx``); this module converts gaps and KKT values back to the package
scale ``1/(2Σs)·Σ s_i r_i² + penalty``.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._kernels import _cd_enet

MODES = ("gram", "dense", "sparse")


@dataclass
class CDResult:
    """Outcome of one coordinate-descent solve (package scale).

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
    intercept : float
    gap : float
        Duality gap of ``1/(2Σs)·Σ s_i r_i² + penalty`` at ``coef``.
    kkt : float
        Largest violation of the optimality conditions, ``max_j dist(x_jᵀ S r / Σs, ∂pen_j)``.
    n_iter : int
        Coordinate-descent epochs (over the working set).
    converged : bool
        ``gap <= tol`` was reached.
    """

    coef: np.ndarray
    intercept: float
    gap: float
    kkt: float
    n_iter: int
    converged: bool


def choose_mode(X, precompute="auto"):
    """``"gram"`` if forced (``precompute=True``) or dense with n_samples >= n_features;
    otherwise ``"sparse"`` for sparse input and ``"dense"`` for dense."""
    if precompute is True:
        return "gram"
    if sp.issparse(X):
        return "sparse"
    if precompute == "auto" and X.shape[0] >= X.shape[1]:
        return "gram"
    return "dense"


# ---------------------------------------------------------------------------------------
# Sufficient statistics for covariance mode (additive over row blocks, so CV folds can be
# subtracted from the full-data statistics)
# ---------------------------------------------------------------------------------------

def gram_stats(X, y, sample_weight, rows=None, x_shift=None, y_shift=0.0):
    """Weighted second moments of the rows ``rows`` about a fixed shift.

    Returns a dict with ``G = Σ s (x - m)(x - m)ᵀ``, ``sx = Σ s (x - m)``,
    ``xy = Σ s (x - m)(y - y0)``, ``sy = Σ s (y - y0)``, ``yy = Σ s (y - y0)²``, ``S = Σ s``.
    Shifting by the full-data means keeps float32 cancellation small. Only a copy of the
    selected rows is made (never of all of ``X`` unless ``rows`` is all of it).
    """
    dtype = X.dtype
    p = X.shape[1]
    m = np.zeros(p, dtype=dtype) if x_shift is None else np.asarray(x_shift, dtype=dtype)
    Xr = X if rows is None else X[rows]
    yr = (y if rows is None else y[rows]) - dtype.type(y_shift)
    s = None if sample_weight is None else (
        sample_weight if rows is None else sample_weight[rows])
    if sp.issparse(Xr):
        Xr = Xr.tocsc()
        if s is None:
            G = (Xr.T @ Xr).toarray()
            sx_raw = np.asarray(Xr.sum(axis=0)).ravel()
            S = dtype.type(Xr.shape[0])
            sy0 = yr.sum()
            xy_raw = Xr.T @ yr
        else:
            G = (Xr.T @ Xr.multiply(s[:, None]).tocsc()).toarray()
            sx_raw = Xr.T @ s
            S = s.sum()
            sy0 = s @ yr
            xy_raw = Xr.T @ (s * yr)
        G = G.astype(dtype, copy=False)
        if np.any(m):
            G -= np.outer(m, sx_raw) + np.outer(sx_raw, m) - S * np.outer(m, m)
        sx = sx_raw - S * m
        xy = xy_raw - m * sy0
    else:
        shift = bool(np.any(m))
        G = _dense_gram(Xr, m if shift else None, s)
        if s is None:
            sx = Xr.sum(axis=0) - Xr.shape[0] * m
            S = dtype.type(Xr.shape[0])
            sy0 = yr.sum()
            xy = Xr.T @ yr - m * sy0
        else:
            sx = s @ Xr - s.sum() * m
            S = s.sum()
            sy0 = s @ yr
            xy = Xr.T @ (s * yr) - m * sy0
    yy = (yr * yr).sum() if s is None else s @ (yr * yr)
    return dict(G=np.asfortranarray(G, dtype=dtype), sx=np.asarray(sx, dtype=dtype),
                xy=np.asarray(xy, dtype=dtype), sy=float(sy0), yy=float(yy), S=float(S))


_BLOCK_BYTES = 32 * 2**20


def _dense_gram(X, shift=None, sw=None):
    """``Σ_i s_i (x_i - m)(x_i - m)ᵀ`` by symmetric rank-k updates (BLAS syrk, half the
    flops of a general product) over row blocks, so the centred copy is one block at a
    time, never all of ``X``."""
    from scipy.linalg import blas
    n, p = X.shape
    syrk = blas.ssyrk if X.dtype == np.float32 else blas.dsyrk
    G = np.zeros((p, p), dtype=X.dtype, order="F")
    if shift is None and sw is None and X.flags.f_contiguous:
        G = syrk(1.0, X, trans=1, lower=0)
    else:
        step = max(1, _BLOCK_BYTES // max(p * X.itemsize, 1))
        for a in range(0, n, step):
            B = X[a:a + step]
            B = B - shift if shift is not None else np.array(B)
            if sw is not None:
                B *= np.sqrt(sw[a:a + step]).astype(X.dtype)[:, None]
            G = syrk(1.0, np.asfortranarray(B), beta=1.0, c=G, trans=1, lower=0,
                     overwrite_c=True)
    # syrk fills the upper triangle; mirror it
    il = np.tril_indices(p, -1)
    G[il] = G.T[il]
    return G


def subtract_stats(a, b):
    """Statistics of the rows in ``a`` but not in ``b`` (``b``'s rows are a subset)."""
    return {k: a[k] - b[k] for k in a}


def add_stats(parts):
    out = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in parts[0].items()}
    for st in parts[1:]:
        for k in out:
            out[k] = out[k] + st[k]
    return out


class EnetProblem:
    """One data set prepared for repeated elastic-net solves (a path or a CV fold).

    Parameters
    ----------
    X : ndarray (Fortran) or CSC matrix of shape (n_samples, n_features), or None
        None only in Gram mode built from ``stats``.
    y : ndarray of shape (n_samples,) or None
    sample_weight : ndarray or None
    fit_intercept : bool
    mode : {"gram", "dense", "sparse"}
    stats : dict, default=None
        Gram-mode sufficient statistics (see :func:`gram_stats`) with their shift
        ``x_shift``/``y_shift``; computed from ``X`` when None.
    """

    def __init__(self, X, y, sample_weight, fit_intercept, mode, stats=None,
                 x_shift=None, y_shift=0.0, dtype=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        self.mode = mode
        self.fit_intercept = fit_intercept
        self.dtype = np.dtype(dtype if dtype is not None else X.dtype)
        dt = self.dtype
        if mode == "gram":
            if stats is None:
                if fit_intercept:
                    from ..datafits import weighted_means
                    x_shift, y_shift = weighted_means(X, y, sample_weight, True)
                else:
                    x_shift, y_shift = None, 0.0
                stats = gram_stats(X, y, sample_weight, x_shift=x_shift, y_shift=y_shift)
            self._init_gram(stats, x_shift, y_shift)
        else:
            self._init_residual(X, y, sample_weight)
        self.n_features = self.X_mean.shape[0]
        self.g = np.zeros(self.n_features, dtype=dt)
        self._g_valid = False  # g == Xc' S r for the current residual

    # -- setup ----------------------------------------------------------------------
    def _init_gram(self, st, x_shift, y_shift):
        dt = self.dtype
        p = st["G"].shape[0]
        S = st["S"]
        m = np.zeros(p, dtype=np.float64) if x_shift is None else np.asarray(x_shift, np.float64)
        if self.fit_intercept:
            dx = st["sx"].astype(np.float64) / S
            dy = st["sy"] / S
            Q = st["G"] - (S * np.outer(dx, dx)).astype(dt)
            q = st["xy"] - (dx * st["sy"]).astype(dt)
            self.y_norm2 = max(st["yy"] - S * dy * dy, 0.0)
            self.X_mean = (m + dx).astype(dt)
            self.y_mean = float(y_shift) + dy
        else:
            Q = st["G"]
            q = st["xy"]
            self.y_norm2 = st["yy"]
            self.X_mean = np.zeros(p, dtype=dt)
            self.y_mean = 0.0
        self.Q = np.asfortranarray(Q, dtype=dt)
        self.q = np.ascontiguousarray(q, dtype=dt)
        self.H = np.zeros(p, dtype=dt)
        self.N = float(S)
        self.norm2 = np.ascontiguousarray(np.diag(self.Q))

    def _init_residual(self, X, y, sw):
        dt = self.dtype
        n, p = X.shape
        self.X = X
        self.sw = np.zeros(0, dtype=dt) if sw is None else np.ascontiguousarray(sw, dtype=dt)
        self.N = float(n) if sw is None else float(sw.sum())
        if self.fit_intercept:
            if sw is None:
                X_mean = np.asarray(X.mean(axis=0)).ravel()
                y_mean = float(y.mean())
            else:
                X_mean = np.asarray(X.T @ sw).ravel() / self.N
                y_mean = float(sw @ y) / self.N
        else:
            X_mean, y_mean = np.zeros(p), 0.0
        self.X_mean = np.ascontiguousarray(X_mean, dtype=dt)
        self.y_mean = y_mean
        self.yc = np.ascontiguousarray(y - dt.type(y_mean), dtype=dt)
        s = None if sw is None else np.asarray(sw, dtype=np.float64)
        self.y_norm2 = float(self.yc @ self.yc) if s is None else float(s @ (self.yc * self.yc))
        self.norm2 = _centred_col_norms(X, self.X_mean, s, self.N).astype(dt)
        self.R = self.yc.copy()
        if sp.issparse(X):
            self.X_data = np.ascontiguousarray(X.data, dtype=dt)
            self.X_indices = np.ascontiguousarray(X.indices, dtype=np.intc)
            self.X_indptr = np.ascontiguousarray(X.indptr, dtype=np.intc)

    # -- state ----------------------------------------------------------------------
    def set_coef(self, w):
        """Make the kernel state (residual or ``Q w``) consistent with coefficients ``w``."""
        w = np.ascontiguousarray(w, dtype=self.dtype)
        self._g_valid = False
        if not w.any():
            if self.mode == "gram":
                self.H = np.zeros(self.n_features, dtype=self.dtype)
            else:
                self.R = self.yc.copy()
            return w
        if self.mode == "gram":
            self.H = np.ascontiguousarray(self.Q @ w, dtype=self.dtype)
        else:
            pred = np.asarray(self.X @ w).ravel() - self.dtype.type(self.X_mean @ w)
            self.R = np.ascontiguousarray(self.yc - pred, dtype=self.dtype)
        return w

    def tol_scale(self):
        """``||yc||²_S / (2 Σs)``: the unit of ``tol`` on the package scale."""
        return self.y_norm2 / (2 * self.N)

    def intercept(self, w):
        if not self.fit_intercept:
            return 0.0
        return float(self.y_mean - np.dot(self.X_mean.astype(np.float64), w))

    # -- one solve ------------------------------------------------------------------
    def solve(self, w, L1, L2, tol_abs, *, max_iter=1000, positive=False, strong_factor=1.0):
        """Minimise from ``w`` (modified in place) with per-feature n-scale penalties.

        ``L1 = Σs·alpha·l1_ratio·f``, ``L2 = Σs·alpha·(1 - l1_ratio)·f`` (``inf`` in ``L1``
        keeps a feature at zero). ``tol_abs`` is the gap target on the package scale.
        """
        dt = self.dtype
        L1 = np.ascontiguousarray(L1, dtype=dt)
        L2 = np.ascontiguousarray(L2, dtype=dt)
        tol_n = tol_abs * self.N
        if self.mode == "gram":
            gap, kkt, n_iter, conv = _cd_enet.enet_cd_gram(
                w, self.Q, self.q, self.norm2, self.H, self.g, L1, L2, self.y_norm2, tol_n,
                strong_factor, int(max_iter), bool(positive))
        elif self.mode == "dense":
            gap, kkt, n_iter, conv = _cd_enet.enet_cd_dense(
                w, self.X, self.yc, self.sw, self.X_mean, self.norm2, self.R, self.g, L1, L2,
                self.N, tol_n, strong_factor, int(max_iter), bool(positive), self._g_valid)
        else:
            gap, kkt, n_iter, conv = _cd_enet.enet_cd_sparse(
                w, self.X_data, self.X_indices, self.X_indptr, self.X.shape[0], self.yc,
                self.sw, self.X_mean, self.norm2, self.R, self.g, L1, L2, self.N, tol_n,
                strong_factor, int(max_iter), bool(positive), self._g_valid)
        # the kernels leave g = Xc' S r for the residual they return
        self._g_valid = self.mode != "gram"
        return CDResult(coef=w, intercept=self.intercept(w), gap=gap / self.N,
                        kkt=kkt / self.N, n_iter=int(n_iter), converged=bool(conv))


def _centred_col_norms(X, X_mean, sw, N):
    """``Σ s_i (x_ij - x̄_j)²`` per column, float64, without copying all of ``X``."""
    p = X.shape[1]
    if sp.issparse(X):
        Xsq = X.multiply(X)
        sumsq = np.asarray(Xsq.sum(axis=0) if sw is None else Xsq.T @ sw).ravel()
        out = sumsq.astype(np.float64) - N * X_mean.astype(np.float64) ** 2
        return np.maximum(out, 0)
    out = np.empty(p, dtype=np.float64)
    # one small reusable float64 block (~1 MiB), centred and squared in place: the
    # temporary memory stays O(n) instead of a multiple of X
    n = X.shape[0]
    step = max(1, 2**17 // max(n, 1))
    buf = np.empty((n, min(step, p)), dtype=np.float64,
                   order="C" if X.flags.c_contiguous and not X.flags.f_contiguous else "F")
    mean = np.asarray(X_mean, dtype=np.float64)
    for a in range(0, p, step):
        b = min(a + step, p)
        B = buf[:, :b - a]
        B[...] = X[:, a:b]
        B -= mean[a:b]
        out[a:b] = np.einsum("ij,ij->j", B, B) if sw is None else sw @ np.square(B, out=B)
    return out
