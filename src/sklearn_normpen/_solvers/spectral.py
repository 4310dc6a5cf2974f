"""Ridge in the spectral basis: one decomposition, every alpha.

Objective (scikit-learn's ``Ridge``), per target::

    Σ_i s_i (y_i - x_iᵀw - b)² + α ||w||²

The intercept is removed by weighted centring (``x̄ = Σ s_i x_i / Σ s``, ``ȳ`` likewise) and
the sample weights by scaling the centred rows by ``sqrt(s_i)``. With the scaled design
``Xs = U diag(σ) Vᵀ`` (thin, rank ``k``) and the scaled centred targets ``ys``::

    w(α) = V diag(σ / (σ² + α)) Z,        Z = Uᵀ ys,        b(α) = ȳ - x̄ᵀ w(α)

so once ``σ, V, Z`` are known each alpha costs ``O(p·k)`` per target.

Decompositions (``method``)
---------------------------
``"svd"``
    Thin SVD of ``Xs`` (LAPACK gesdd). The most accurate; dense ``X`` only.
``"gram"``
    Eigendecomposition of ``XsᵀXs`` (p x p), for ``n ≫ p``; ``U = Xs V / σ`` by one product
    when the leave-one-out errors need it.
``"kernel"``
    Eigendecomposition of ``Xs Xsᵀ`` (n x n), for ``p ≫ n``; ``V = Xsᵀ U / σ``.
``"auto"``
    ``"gram"`` when ``n >= p`` else ``"kernel"``. Sparse ``X`` is never densified: its
    centred Gram is formed from sparse products with a rank-one centring correction. For
    dense ``X`` the Gram route squares the condition number, so when the Gram spectrum has
    eigenvalues below ``1e-8·λ_max`` (singular values below ``1e-4·σ_max``: collinear or
    rank-deficient ``X``), ``"auto"`` recomputes by SVD; alpha -> 0 then gives the
    minimum-norm least-squares solution to full accuracy.

Rank: singular values at or below ``max(n, p)·eps·σ_max`` (SVD; ``np.linalg.lstsq``'s
default cut-off) or eigenvalues at or below ``max(n, p)·eps·λ_max`` (Gram routes) are treated
as exact zeros, so the alpha -> 0 limit is the minimum-norm least-squares solution.

Memory budget (sparse ``X``): the one dense matrix a decomposition forms is the p x p
(``"gram"``) or n x n (``"kernel"``) Gram matrix. For sparse ``X`` it is formed only when it
fits in :data:`DENSE_BUDGET_BYTES` (1 GiB, a 11585 x 11585 float64 matrix);
:func:`check_dense_budget` raises before allocating otherwise. :class:`IterativeRidge` is
the route without any such matrix: LSQR on the implicitly centred, weighted design, one
solve per alpha and target, warm-started along the alphas (memory O(n + p) besides ``X``).

Precision: the decomposition is always computed in float64, also for float32 input: a
float32 Gram would lose every singular value below about ``3e-4·σ_max`` (its eigenvalues
carry an absolute error near ``1e-7·λ_max``). Estimators cast the results back to the input
dtype.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg.blas import dsyrk

from .._design import KAPPA, centre_sparse_columns, weighted_column_std, weighted_means
from .._validation import check_kernel_args

METHODS = ("auto", "svd", "gram", "kernel")
#: Largest dense n x n or p x p matrix (bytes) a decomposition may form for sparse X.
DENSE_BUDGET_BYTES = 2 ** 30
# Eigenvalues of a Gram matrix below this fraction of the largest keep under half their
# digits in float64; "auto" then recomputes by SVD (dense X).
_GRAM_RELIABLE = 1e-8
_EPS = np.finfo(np.float64).eps


@dataclass
class SpectralDecomposition:
    """The spectral form of a (centred, sqrt(s)-scaled) ridge problem.

    Attributes
    ----------
    method : str
        The decomposition actually used ("svd", "gram" or "kernel").
    singular_values : ndarray of shape (k,)
        Non-zero singular values of the scaled centred design, decreasing.
    V : ndarray of shape (n_features, k)
        Right singular vectors.
    Z : ndarray of shape (k, n_targets)
        ``Uᵀ ys``: the targets in the left singular basis.
    U : ndarray of shape (n_samples, k) or None
        Left singular vectors, C order (only when requested).
    ys : ndarray of shape (n_samples, n_targets) or None
        Scaled centred targets (only with ``U``).
    ys_sq : ndarray of shape (n_targets,)
        ``||ys||²`` per target.
    X_offset, y_offset : ndarrays of shape (n_features,), (n_targets,)
        Weighted means (zeros without intercept).
    sample_weight : ndarray of shape (n_samples,) or None
    sw_sum : float
        ``Σ s`` (``n`` without weights).
    n_samples : int
    fit_intercept : bool
    """
    method: str
    singular_values: np.ndarray
    V: np.ndarray
    Z: np.ndarray
    U: Optional[np.ndarray]
    ys: Optional[np.ndarray]
    ys_sq: np.ndarray
    X_offset: np.ndarray
    y_offset: np.ndarray
    sample_weight: Optional[np.ndarray]
    sw_sum: float
    n_samples: int
    fit_intercept: bool
    # Without V (kernel route, few path columns): the design itself, dense ``Xs`` (our
    # centred scaled copy) or sparse ``X`` (centred implicitly about ``xs_offset``: its
    # offset columns are stored centred), so that V @ M = Xsᵀ U M / σ.
    xs_src: object = None
    xs_offset: Optional[np.ndarray] = None

    @property
    def rank(self):
        return int(self.singular_values.shape[0])

    def shrinkage(self, alphas):
        """``σ / (σ² + α)`` for every alpha: shape (k, n_alphas)."""
        s = self.singular_values[:, None]
        a = np.asarray(alphas, dtype=np.float64)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return s / (s * s + a)

    def coef_path(self, alphas):
        """Coefficients and intercepts for every alpha and target.

        Returns
        -------
        coef : ndarray of shape (n_targets, n_features, n_alphas)
        intercept : ndarray of shape (n_targets, n_alphas)
        """
        F = self.shrinkage(alphas)                       # (k, A)
        k, T = self.Z.shape
        A = F.shape[1]
        # One GEMM: V (p, k) @ [f_a ∘ z_t] (k, T·A).
        M = (self.Z[:, :, None] * F[:, None, :]).reshape(k, T * A)
        W = self._V_dot(M).reshape(-1, T, A).transpose(1, 0, 2)
        intercept = self.y_offset[:, None] - np.einsum("p,tpa->ta", self.X_offset, W)
        return W, intercept

    def coef_at(self, alpha_per_target):
        """Coefficients (n_targets, n_features) and intercepts with one alpha per target."""
        a = np.asarray(alpha_per_target, dtype=np.float64)
        s = self.singular_values[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            F = s / (s * s + a[None, :])                   # (k, T)
        W = self._V_dot(F * self.Z).T
        return W, self.y_offset - W @ self.X_offset

    def _V_dot(self, M):
        """``V @ M``; without ``V`` (kernel route, not formed) as ``Xsᵀ (U (M / σ))``."""
        if self.V is not None:
            return self.V @ M
        if self.rank == 0:
            return np.zeros((self.X_offset.shape[0], M.shape[1]))
        UM = self.U @ (M / self.singular_values[:, None])
        if sp.issparse(self.xs_src):
            sqrt_sw = None if self.sample_weight is None else np.sqrt(self.sample_weight)
            return _sparse_scaled_T_dot(self.xs_src, self.xs_offset, sqrt_sw, UM)
        return self.xs_src.T @ UM

    def df(self, alphas):
        """Effective degrees of freedom ``Σ σ² / (σ² + α)`` (intercept not counted)."""
        lam = self.singular_values[:, None] ** 2
        a = np.asarray(alphas, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.where(lam > 0, lam / (lam + a[None, :]), 0.0), axis=0) \
                if lam.size else np.zeros(a.shape)


def _scaled_centred_dense(X, X_offset, sqrt_sw, fit_intercept, col_scale=None):
    """``sqrt(s)·(X - x̄)·diag(col_scale)`` as a new float64 Fortran array (X itself is
    never written; it is returned as is when there is nothing to do)."""
    if (not fit_intercept and sqrt_sw is None and col_scale is None
            and X.dtype == np.float64):
        return np.asfortranarray(X)
    Xs = np.array(X, dtype=np.float64, order="F", copy=True)
    if fit_intercept:
        Xs -= X_offset
    if sqrt_sw is not None:
        Xs *= sqrt_sw[:, None]
    if col_scale is not None:
        Xs *= col_scale[None, :]
    return Xs


def _centre_offset_columns(X, X_offset, sw):
    """``(X', offset')``: sparse ``X`` (float64 when changed) with the columns whose
    ``|x̄_j|`` exceeds ``KAPPA·σ_j`` (or are constant) stored centred and their offsets set
    to 0; ``X`` and ``X_offset`` are not written. Implicit centring (a product with ``X`` minus the offset
    term) cancels ``x̄/σ`` of the digits of such a column, a Gram ``(x̄/σ)²``; they are
    nearly dense anyway."""
    std = weighted_column_std(X, X_offset, sw)
    off = np.flatnonzero(np.abs(X_offset) > KAPPA[np.dtype(np.float64)] * std)
    if not off.size:
        return X, X_offset
    Xc = centre_sparse_columns(X.astype(np.float64, copy=False), off, X_offset)
    X_offset = X_offset.copy()
    X_offset[off] = 0.0
    return Xc, X_offset


def _sparse_scaled_T_dot(X, X_offset, sqrt_sw, M):
    """``Xsᵀ M`` for sparse ``X`` without forming ``Xs = diag(sqrt s)(X - 1 x̄ᵀ)``."""
    DM = M if sqrt_sw is None else sqrt_sw[:, None] * M
    out = np.asarray(X.T @ DM)
    return out - np.outer(X_offset, DM.sum(axis=0))


def _sparse_scaled_dot(X, X_offset, sqrt_sw, M):
    """``Xs M`` for sparse ``X``."""
    out = np.asarray(X @ M) - (X_offset @ M)[None, :]
    return out if sqrt_sw is None else sqrt_sw[:, None] * out


def _check_finite_matrix(S, what):
    """A Gram matrix or design with inf/NaN entries overflowed float64: name the cause
    (LAPACK would fail with an opaque convergence error, or return garbage)."""
    if not np.all(np.isfinite(S)):
        raise ValueError(
            f"the {what} overflows float64: entries of X (times the square roots of the "
            "sample weights) are too large to square (|x| above about 1e154); rescale X "
            "(e.g. with StandardScaler) or the sample weights.")


def _eigh_desc(S, what="Gram matrix of X"):
    """Eigenpairs of a symmetric matrix (upper triangle used), decreasing eigenvalues.

    ``S`` is kept intact for the fallback driver (a failed divide-and-conquer call would
    have destroyed it with ``overwrite_a``)."""
    _check_finite_matrix(S, what)
    try:
        lam, Q = la.eigh(S, lower=False, overwrite_a=False, check_finite=False, driver="evd")
    except la.LinAlgError:  # rare divide-and-conquer failure: the robust driver
        try:
            lam, Q = la.eigh(S, lower=False, check_finite=False, driver="ev")
        except la.LinAlgError as err:
            raise la.LinAlgError(
                f"the eigendecomposition of the {S.shape[0]} x {S.shape[0]} {what} did not "
                f"converge (LAPACK: {err}); X is probably badly scaled (max |entry| = "
                f"{np.abs(S).max():.3g}): rescale X, or use solver='svd' (dense X).") from err
    return lam[::-1], Q[:, ::-1]


def _svd(Xs):
    _check_finite_matrix(Xs, "centred, weighted design")
    try:
        return la.svd(Xs, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    except la.LinAlgError:
        try:
            return la.svd(Xs, full_matrices=False, check_finite=False,
                          lapack_driver="gesvd")
        except la.LinAlgError as err:
            raise la.LinAlgError(
                f"the SVD of the {Xs.shape[0]} x {Xs.shape[1]} centred, weighted design did "
                f"not converge (LAPACK: {err}); X is probably badly scaled (max |entry| = "
                f"{np.abs(Xs).max():.3g}): rescale X.") from err


def dense_matrix_bytes(shape, method):
    """``(route, bytes)``: the decomposition ``method`` resolves to for a design of
    ``shape`` and the size of the dense matrix it forms (``"svd"``: the n x p copy)."""
    n, p = shape
    route = ("gram" if n >= p else "kernel") if method == "auto" else method
    m = {"gram": p * p, "kernel": n * n}.get(route, n * p)
    return route, 8 * m


def check_dense_budget(X, method, caller, hint=None):
    """Raise before allocating when sparse ``X`` would need a dense Gram matrix larger than
    :data:`DENSE_BUDGET_BYTES`; dense ``X`` is not limited (its Gram is never larger than
    ``X`` itself with ``method="auto"``)."""
    if not sp.issparse(X):
        return
    route, nbytes = dense_matrix_bytes(X.shape, method)
    if nbytes > DENSE_BUDGET_BYTES:
        m = X.shape[1] if route == "gram" else X.shape[0]
        raise ValueError(
            f"{caller}: sparse X of shape {X.shape} would need a dense {m} x {m} matrix "
            f"({nbytes / 2**30:.1f} GiB) for solver={route!r}, above the budget of "
            f"{DENSE_BUDGET_BYTES / 2**30:.3g} GiB "
            "(sklearn_normpen._solvers.spectral.DENSE_BUDGET_BYTES). "
            + (hint or "Use SpectralRidge with solver='auto' or 'lsqr' (iterative, no dense "
               "matrix), or reduce the data."))


def spectral_decompose(X, Y, sample_weight=None, fit_intercept=True, method="auto",
                       compute_u=False, path_columns=None, penalty_factor=None):
    """Decompose the centred, weighted design once for the whole ridge path.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated, finite. Never written to.
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    method : {"auto", "svd", "gram", "kernel"}
    compute_u : bool
        Also return the left singular vectors ``U`` (needed for leave-one-out errors).
    path_columns : int or None
        Kernel route only: when the caller will form fewer than ``k`` coefficient columns
        (alphas x targets), skip ``V = Xsᵀ U / σ`` (p·n·k work) and keep ``U`` and the
        design (``xs_src``) instead: coefficients are then ``Xsᵀ U diag(1/σ) M``.
    penalty_factor : ndarray of shape (n_features,) or None
        Positive ``f_j`` of the generalised ridge penalty ``alpha·Σ f_j w_j²``: the design's
        columns are scaled by ``f_j^(-1/2)``, and ``V`` is returned already scaled back
        (``V_j ← V_j f_j^(-1/2)``) so every coefficient formula stays ``V diag(·) Z``.

    Returns
    -------
    SpectralDecomposition
    """
    if method not in METHODS:
        raise ValueError(f"solver must be one of {METHODS}; got {method!r}.")
    n, p = X.shape
    sparse = sp.issparse(X)
    if sparse and method == "svd":
        raise ValueError("solver='svd' needs dense X; sparse X uses solver='auto', 'gram' "
                         "or 'kernel' (a Gram matrix formed without densifying X).")
    check_dense_budget(X, method, "spectral decomposition")
    Y = np.asarray(Y, dtype=np.float64)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    with np.errstate(over="ignore"):
        sw_sum = float(n) if sw is None else float(sw.sum())
    if not np.isfinite(sw_sum):
        raise ValueError("the sum of sample_weight overflows float64: divide the weights "
                         "by a constant c and alpha by the same c (ridge is not invariant "
                         "to the weights' scale, so they are not rescaled silently).")
    sqrt_sw = None if sw is None else np.sqrt(sw)
    X64 = X.astype(np.float64) if sparse and X.dtype != np.float64 else X
    if not fit_intercept:
        X_offset, y_offset = np.zeros(p), np.zeros(Y.shape[1])
    elif sparse:
        X_offset, y_offset = weighted_means(X64, Y, sw, True)
    else:
        w = np.full(n, 1.0 / n) if sw is None else sw / sw_sum
        X_offset = w @ X if X.dtype == np.float64 else w @ X.astype(np.float64)
        y_offset = w @ Y
    X_offset = np.asarray(X_offset, dtype=np.float64).reshape(p)
    X_offset_orig = X_offset
    if sparse and fit_intercept:  # (X_offset: the offsets left to the implicit centring)
        X64, X_offset = _centre_offset_columns(X64, X_offset, sw)
    cs = None if penalty_factor is None else 1.0 / np.sqrt(
        np.asarray(penalty_factor, dtype=np.float64))
    if cs is not None:
        # Generalised ridge = plain ridge on X diag(f^-1/2); offsets scale the same way.
        X_offset = X_offset * cs
        if sparse:
            X64 = (X64 @ sp.diags(cs)).tocsc()
    y_offset = np.asarray(y_offset, dtype=np.float64).reshape(Y.shape[1])
    ys = Y - y_offset
    if sqrt_sw is not None:
        ys *= sqrt_sw[:, None]
    ys_sq = np.einsum("it,it->t", ys, ys)

    chosen = ("gram" if n >= p else "kernel") if method == "auto" else method
    n_forced_null = 0  # exact zero eigenvalues of the kernel matrix, known in advance
    if chosen == "kernel":
        n_forced_null = int(fit_intercept) + (0 if sw is None else int(np.sum(sw == 0)))
    dim = max(n, p)
    U = V = xs_src = None

    if sparse:
        Xs = None
        if chosen == "gram":
            Xw = X64 if sw is None else sp.diags(sw) @ X64
            G = np.asarray((X64.T @ Xw).toarray()) - sw_sum * np.outer(X_offset, X_offset)
            lam, V = _eigh_desc(G)
        else:
            K = np.asarray((X64 @ X64.T).toarray())
            m = np.asarray(X64 @ X_offset).ravel()
            K -= m[:, None]
            K -= m[None, :]
            K += X_offset @ X_offset
            if sqrt_sw is not None:
                K *= sqrt_sw[:, None]
                K *= sqrt_sw[None, :]
            lam, U = _eigh_desc(K, "kernel matrix X Xᵀ")
    else:
        Xs = _scaled_centred_dense(X, X_offset_orig, sqrt_sw, fit_intercept, cs)
        if chosen == "gram":
            lam, V = _eigh_desc(dsyrk(1.0, Xs, trans=1))
        elif chosen == "kernel":
            lam, U = _eigh_desc(dsyrk(1.0, Xs, trans=0), "kernel matrix X Xᵀ")
        if chosen != "svd" and method == "auto" and lam.size:
            n_small = int(np.sum(lam < _GRAM_RELIABLE * lam[0]))
            if n_small > n_forced_null:
                chosen, U, V = "svd", None, None  # ill-conditioned: the accurate route

    # Centring subtracts sqrt(Σs)·||x̄|| worth of magnitude: below dim·eps times that, a
    # singular value is cancellation noise (e.g. a constant column becomes ~1e-16, not 0).
    c = np.sqrt(sw_sum) * np.linalg.norm(X_offset)
    if chosen == "svd":
        U, sigma, Vt = _svd(Xs)
        keep = sigma > dim * _EPS * max(sigma[0], c) if sigma.size else sigma > 0
        k = int(np.sum(keep))
        sigma, U, V = sigma[:k], U[:, :k], Vt[:k].T
        Z = U.T @ ys
    else:
        lam_ref = max(lam[0], np.sqrt(max(lam[0], 0.0)) * c) if lam.size else 0.0
        keep = lam > dim * _EPS * lam_ref if lam_ref > 0 else np.zeros(lam.shape, dtype=bool)
        k = int(np.sum(keep))
        lam = lam[:k]
        sigma = np.sqrt(lam)
        if chosen == "gram":
            V = np.ascontiguousarray(V[:, :k])
            XtY = _sparse_scaled_T_dot(X64, X_offset, sqrt_sw, ys) if sparse else Xs.T @ ys
            Z = (V.T @ XtY) / sigma[:, None]
            if compute_u:
                Vs = V / sigma[None, :]  # scale the small factor, not the n x k product
                U = _sparse_scaled_dot(X64, X_offset, sqrt_sw, Vs) if sparse else Xs @ Vs
        else:
            U = U[:, :k]
            if path_columns is not None and path_columns < k and cs is None:
                # Keep the design instead of V (same size when k ~ n); never the user's
                # own array, which they may modify after fit.
                V = None
                src = X64 if sparse else Xs
                xs_src = src.copy() if src is X else src
            else:
                XtU = _sparse_scaled_T_dot(X64, X_offset, sqrt_sw, U) if sparse else Xs.T @ U
                V = XtU / sigma[None, :]
            Z = U.T @ ys
    if cs is not None:
        V = cs[:, None] * V  # back to the original feature scale
    if compute_u or V is None:
        U = np.ascontiguousarray(U)
    else:
        U = None
    return SpectralDecomposition(
        method=chosen, singular_values=np.ascontiguousarray(sigma),
        V=None if V is None else np.ascontiguousarray(V), Z=np.ascontiguousarray(Z), U=U,
        ys=np.ascontiguousarray(ys) if compute_u else None, ys_sq=ys_sq,
        X_offset=X_offset_orig, y_offset=y_offset, sample_weight=sw, sw_sum=sw_sum,
        n_samples=n, fit_intercept=bool(fit_intercept),
        xs_src=xs_src if V is None else None,
        xs_offset=X_offset if V is None and sparse else None)


@dataclass
class LOOResult:
    """Leave-one-out statistics for every alpha and target.

    ``mean[a, t] = Σ s_i e_iat / Σ s``, ``se[a, t] = sqrt(Σ s_i (e_iat - mean)² / Σ s / (n - 1))``
    with ``e_iat`` the squared LOO error of sample ``i`` (original scale): the shared CV
    statistics with each sample as a fold of weight ``s_i``. ``mean_avg``, ``se_avg``: the same
    for the errors averaged over targets. ``values``: per-sample errors (n, T, A) or None.
    """
    mean: np.ndarray
    se: np.ndarray
    mean_avg: np.ndarray
    se_avg: np.ndarray
    values: Optional[np.ndarray]


def _lowrank_shrinkage(G, n_targets, force=False):
    """``G ≈ P Q`` truncated where its singular values reach rounding level, or None when
    that does not save at least a third of the residual GEMM work."""
    k, A = G.shape
    if k == 0 or A < 2:
        return None
    Ug, sg, Vtg = la.svd(G, full_matrices=False, check_finite=False)
    r = int(np.sum(sg > 50 * _EPS * sg[0])) if sg[0] > 0 else 0
    if not force and r * (k + A) > (2 * k * A) // 3:
        return None
    r = max(r, 1)
    return (np.ascontiguousarray(Ug[:, :r] * sg[:r]), np.ascontiguousarray(Vtg[:r]))


def loo_errors(dec, alphas, store=False, block=None, lowrank=None):
    """Exact leave-one-out errors for every alpha from one decomposition (``U`` required).

    The refit without sample ``i`` (also re-estimating the intercept and the centring) has
    the scaled residual ``r_i / (1 - H_ii)``, ``H`` the hat matrix of the weighted fit
    including the intercept; see :mod:`sklearn_normpen._kernels._spectral`.
    ``lowrank``: None chooses the rank-r residual kernel when ``n >= 4k`` and it saves work
    (the shrinkage matrix has a low numerical rank), True forces it, False forces the
    direct kernel.
    """
    from .._kernels._spectral import loo_sums, loo_sums_lowrank

    n = dec.n_samples
    if n < 2:
        raise ValueError("leave-one-out needs at least 2 samples; got n_samples=1.")
    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    sw = np.ones(n) if dec.sample_weight is None else dec.sample_weight
    U, Z, lam = dec.U, dec.Z, dec.singular_values ** 2
    k, T = Z.shape
    A = alphas.shape[0]
    G = np.ascontiguousarray(alphas[None, :] / (lam[:, None] + alphas[None, :]))
    r_perp = dec.ys - U @ Z
    # LOO residuals are linear in (Z, r_perp): the kernels accumulate e² and e⁴ of the
    # residuals divided by a power of two near their scale (exact), which keeps e⁴ finite
    # for data between ~1e-75 and ~1e75 times the residuals' scale; undone below
    top = max(float(np.max(np.abs(Z), initial=0.0)), float(np.max(np.abs(r_perp), initial=0.0)))
    c = 2.0 ** np.round(np.log2(top)) if np.isfinite(top) and top > 0 else 1.0
    Z, r_perp = Z / c, np.ascontiguousarray(r_perp / c)
    h0 = sw / dec.sw_sum if dec.fit_intercept else np.zeros(n)
    q = 1.0 - h0 - np.einsum("ij,ij->i", U, U)
    # Leverage 1 at alpha = 0 (the row is fitted exactly): q is rounding noise; make it 0.
    q[q < 10 * max(k, 1) * _EPS] = 0.0
    sum_e = np.zeros((A, T))
    sum_e2 = np.zeros((A, T))
    sum_m2 = np.zeros(A)
    values = np.zeros((n, T, A)) if store else np.zeros((0, 0, 0))
    if block is None:  # rows per GEMM block: ~2 MiB of residuals, few BLAS calls
        block = int(np.clip((1 << 18) // max(A * T, 1), 64, 4096))
    args = (np.ascontiguousarray(Z), r_perp, np.ascontiguousarray(q),
            np.ascontiguousarray(sw, dtype=np.float64), sum_e, sum_e2, sum_m2, values, block)
    # Auto: only for n >= 4k, where the residual GEMM dominates and no sample can be
    # fitted exactly (there the direct kernel's accuracy is kept for tiny residuals).
    PQ = _lowrank_shrinkage(G, T) if (lowrank is None and n >= 4 * k) else None
    if lowrank is True and PQ is None:
        PQ = _lowrank_shrinkage(G, T, force=True)
    U = np.ascontiguousarray(U)
    dims = {"n": n, "k": k, "A": A, "T": T, "r": 1 if PQ is None else PQ[0].shape[1]}
    check_kernel_args(
        "loo_sums", dims, np.float64, U=(U, ("n", "k")), G=(G, ("k", "A")),
        Z=(args[0], ("k", "T")), r_perp=(args[1], ("n", "T")), q=(args[2], ("n",)),
        sw=(args[3], ("n",)), sum_e=(sum_e, ("A", "T"), "out"),
        sum_e2=(sum_e2, ("A", "T"), "out"), sum_m2=(sum_m2, ("A",), "out"),
        values=(values, (n, T, A) if store else (0, 0, 0), "out"),
        **({} if PQ is None else {"P": (PQ[0], ("k", "r")), "Q": (PQ[1], ("r", "A"))}))
    if PQ is not None:
        # Leverages through the factorisation too when no 1 - h_ii can get near 0.
        loo_sums_lowrank(np.ascontiguousarray(U), G, PQ[0], PQ[1], *args,
                         lowrank_leverage=bool(q.min() >= 0.1))
    else:
        loo_sums(np.ascontiguousarray(U), G, *args)
    S, c2 = dec.sw_sum, c * c
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum_e / S
        var = np.maximum(sum_e2 / S - mean ** 2, 0.0)
        se = np.sqrt(var / (n - 1)) * c2
        mean_avg = mean.mean(axis=1)
        var_avg = np.maximum(sum_m2 / S - mean_avg ** 2, 0.0)
        se_avg = np.sqrt(var_avg / (n - 1)) * c2
        mean, mean_avg = mean * c2, mean_avg * c2
        if store:
            values *= c2
    return LOOResult(mean=mean, se=se, mean_avg=mean_avg, se_avg=se_avg,
                     values=values if store else None)


def gcv_errors(dec, alphas):
    """Generalised cross-validation ``(RSS/Σs) / (1 - tr H / n)²`` for every alpha and target.

    ``tr H = df(α) + 1`` with an intercept. Returns ``(gcv (A, T), df (A,))``.
    """
    from .._kernels._spectral import gcv_values

    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    lam = np.ascontiguousarray(dec.singular_values ** 2)
    Z = np.ascontiguousarray(dec.Z)
    # Residual energy outside the span of U (the part no alpha can fit).
    rss_perp = np.maximum(dec.ys_sq - np.einsum("jt,jt->t", Z, Z), 0.0)
    n_fit = dec.n_samples - (0 if dec.sample_weight is None else
                             int(np.sum(dec.sample_weight == 0)))
    if dec.rank + int(dec.fit_intercept) >= n_fit:
        rss_perp[:] = 0.0  # the row space is spanned: exactly zero, not rounding noise
    A, T = alphas.shape[0], Z.shape[1]
    gcv = np.empty((A, T))
    df = np.empty(A)
    rss_perp = np.ascontiguousarray(rss_perp)
    check_kernel_args("gcv_values", {"k": lam.shape[0], "A": A, "T": T}, np.float64,
                      lam=(lam, ("k",)), alphas=(alphas, ("A",)), Z=(Z, ("k", "T")),
                      rss_perp=(rss_perp, ("T",)), gcv=(gcv, ("A", "T"), "out"),
                      df=(df, ("A",), "out"))
    gcv_values(lam, alphas, Z, rss_perp, float(dec.fit_intercept),
               dec.sw_sum, float(dec.n_samples), gcv, df)
    return gcv, df


def kfold_fold_errors(train, test, X, Y, sample_weight, fit_intercept, alphas, method,
                      penalty_factor=None):
    """Held-out weighted MSE of every alpha and target for one split: shape (A, T).

    Module-level so any joblib backend can run it.
    """
    sw_tr = None if sample_weight is None else sample_weight[train]
    dec = spectral_decompose(X[train], Y[train], sw_tr, fit_intercept, method,
                             penalty_factor=penalty_factor)
    Xte = X[test]
    # Rotate the held-out rows into the singular basis once: P = (X_te - x̄) V.
    P = np.asarray(Xte @ dec.V) - (dec.X_offset @ dec.V)[None, :]
    F = dec.shrinkage(alphas)                                  # (k, A)
    k, T = dec.Z.shape
    M = (dec.Z[:, :, None] * F[:, None, :]).reshape(k, T * F.shape[1])
    pred = (P @ M).reshape(len(test), T, -1) + dec.y_offset[None, :, None]
    r2 = (np.asarray(Y[test], dtype=np.float64)[:, :, None] - pred) ** 2
    if sample_weight is None:
        return r2.mean(axis=0).T
    swt = np.asarray(sample_weight[test], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.einsum("i,ita->at", swt, r2) / swt.sum())


class IterativeRidge:
    """Ridge without any dense n x n or p x p matrix: LSQR per alpha and target.

    Solves ``min_w Σ_i s_i (y_i - x_iᵀw - b)² + alpha·Σ_j f_j w_j²`` as the damped least
    squares problem ``min_u ||A u - ys||² + alpha ||u||²`` with
    ``A = diag(sqrt s) (X - 1 x̄ᵀ) diag(f^(-1/2))`` applied implicitly (``X`` is only
    multiplied, never copied or centred) and ``w = f^(-1/2) u``. Each solve is warm-started
    from the previous one (along a path), except at ``alpha = 0``, which starts from zero
    so that LSQR returns the minimum-norm least-squares solution.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    penalty_factor : ndarray of shape (n_features,) or None
    tol : float, default=1e-12
        LSQR's ``atol`` and ``btol`` (relative optimality and residual tolerances).
    max_iter : int, default=None
        Iterations per solve; default ``max(1000, 2·min(n, p))``.
    """

    def __init__(self, X, Y, sample_weight=None, fit_intercept=True, penalty_factor=None,
                 tol=1e-12, max_iter=None):
        n, p = X.shape
        # a private copy: a later path() must not see the user's edits to X
        self.X = X.tocsr() if sp.issparse(X) and X.format not in ("csr", "csc") else X.copy()
        Y = np.asarray(Y, dtype=np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if fit_intercept:
            X_offset, y_offset = weighted_means(self.X, Y, sw, True)
        else:
            X_offset, y_offset = np.zeros(p), np.zeros(Y.shape[1])
        self.X_offset = np.asarray(X_offset, dtype=np.float64).reshape(p)
        # the operator's offsets (offset columns of sparse X stored centred instead)
        self._Xk, self._xk_offset = self.X, self.X_offset
        if fit_intercept and sp.issparse(self.X):
            self._Xk, self._xk_offset = _centre_offset_columns(self.X, self.X_offset, sw)
        self.y_offset = np.asarray(y_offset, dtype=np.float64).reshape(Y.shape[1])
        self.sqrt_sw = None if sw is None else np.sqrt(sw)
        self.cs = (None if penalty_factor is None
                   else 1.0 / np.sqrt(np.asarray(penalty_factor, dtype=np.float64)))
        ys = Y - self.y_offset
        self.ys = ys if self.sqrt_sw is None else ys * self.sqrt_sw[:, None]
        self.fit_intercept = bool(fit_intercept)
        self.tol = tol
        self.max_iter = max_iter if max_iter is not None else max(1000, 2 * min(n, p))
        self.n_iter_ = 0
        self._u = np.zeros((Y.shape[1], p))  # last solution per target (warm start)

    @property
    def operator(self):
        """``A`` as a LinearOperator (built on demand: the object stays picklable)."""
        return spla.LinearOperator(self.X.shape, matvec=self._matvec,
                                   rmatvec=self._rmatvec, dtype=np.float64)

    def _stacked(self, root_alpha):
        n, p = self.X.shape
        return spla.LinearOperator(
            (n + p, p), dtype=np.float64,
            matvec=lambda u: np.r_[self._matvec(u), root_alpha * np.ravel(u)],
            rmatvec=lambda r: self._rmatvec(np.ravel(r)[:n]) + root_alpha * np.ravel(r)[n:])

    def _matvec(self, u):
        v = np.ravel(u) if self.cs is None else self.cs * np.ravel(u)
        out = np.asarray(self._Xk @ v).ravel() - float(self._xk_offset @ v)
        return out if self.sqrt_sw is None else out * self.sqrt_sw

    def _rmatvec(self, r):
        r = np.ravel(r)
        rr = r if self.sqrt_sw is None else r * self.sqrt_sw
        out = np.asarray(self._Xk.T @ rr).ravel() - self._xk_offset * rr.sum()
        return out if self.cs is None else out * self.cs

    def solve(self, alpha, target):
        """Coefficients (original feature scale) of one target at one alpha."""
        x0 = None if alpha == 0 or not self._u[target].any() else self._u[target]
        b = self.ys[:, target]
        if x0 is None:
            A = self.operator
            rhs, damp = b, float(np.sqrt(alpha))
        else:
            # LSQR's ``damp`` would penalise the correction x - x0, not x: with a warm
            # start, solve the stacked system [A; sqrt(alpha) I] x = [b; 0] instead.
            A, rhs, damp = self._stacked(float(np.sqrt(alpha))), np.r_[b, np.zeros(
                self.X.shape[1])], 0.0
        res = spla.lsqr(A, rhs, damp=damp, atol=self.tol, btol=self.tol, conlim=1e16,
                        iter_lim=self.max_iter, x0=x0)
        u, istop, itn = res[0], res[1], res[2]
        self.n_iter_ += int(itn)
        if istop == 7:
            import warnings
            from sklearn.exceptions import ConvergenceWarning
            warnings.warn(f"LSQR reached max_iter={self.max_iter} at alpha={alpha:.3g} "
                          "before its tolerance.", ConvergenceWarning, stacklevel=3)
        self._u[target] = u
        return u if self.cs is None else self.cs * u

    def coef_at(self, alpha_per_target):
        """``(W (n_targets, n_features), b (n_targets,))`` with one alpha per target."""
        a = np.asarray(alpha_per_target, dtype=np.float64)
        W = np.stack([self.solve(a[t], t) for t in range(a.shape[0])])
        return W, self.y_offset - W @ self.X_offset

    def coef_path(self, alphas):
        """Every alpha (in the order given, each warm-started from the previous) and target:
        ``(W (n_targets, n_features, n_alphas), b (n_targets, n_alphas))``."""
        alphas = np.asarray(alphas, dtype=np.float64)
        T, p = self._u.shape
        W = np.empty((T, p, alphas.shape[0]))
        for t in range(T):
            for k, a in enumerate(alphas):
                W[t, :, k] = self.solve(a, t)
        b = self.y_offset[:, None] - np.einsum("p,tpa->ta", self.X_offset, W)
        return W, b
