"""The Design: a data set prepared once per fit (weights, centring, standardisation, layout,
Gram statistics and their fold downdates).

Every solver and the certificate read the data through a :class:`Design`, so there is one
rule for each of:

* sample weights: kept as given (the objectives divide by ``N = Σs``);
* centring: with an intercept, columns are centred about their weighted means. Dense columns
  are centred implicitly (the kernels subtract ``x̄_j Σ s r``) unless some column's mean is
  large relative to its spread (``|x̄_j| > KAPPA·σ_j``, e.g. a calendar year): implicit
  centring would then cancel catastrophically, so the Design makes one centred copy (centred
  in float64, then cast). Sparse columns stay implicit (centring would densify them), except
  such offset columns (``|x̄_j| > KAPPA·σ_j`` needs nearly every entry non-zero: they are
  dense anyway), which the sparse layout stores centred, in float64 then cast;
* standardisation: ``σ_j`` is the weighted standard deviation about the weighted mean (also
  without an intercept), computed in float64, and a column is *constant* when
  ``σ_j <= 16·eps64·|x̄_j|`` (:func:`constant_columns`, one rule for every estimator: a
  few float64 rounding errors of the mean; float32 columns of equal values give exactly 0);
  constant columns get a zero coefficient under ``standardize``;
* certificates: :meth:`residual64` and :meth:`gradient64` recompute ``r = yc - Xc w`` and
  ``Xcᵀ S r`` from scratch in float64, never from a solver's running state.
"""

from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from sklearn.utils import assert_all_finite

from ._kernels import _moments, dot_columns
from ._threads import single_blas_thread
from ._validation import call_kernel

# magnitudes of X and y whose squares, products and sums stay normal numbers in the solvers
SAFE_RANGE = {np.dtype(np.float32): (1e-12, 1e12), np.dtype(np.float64): (1e-100, 1e100)}
# |mean| / std above which implicit centring of a dense column is not trusted
KAPPA = {np.dtype(np.float32): 8.0, np.dtype(np.float64): 1e3}
_BLOCK_BYTES = 32 * 2**20


def weighted_means(X, y, sample_weight, fit_intercept):
    """Weighted column means of ``X`` and mean of ``y`` (float64; zeros without intercept)."""
    p = X.shape[1]
    if not fit_intercept:
        y_off = np.zeros(y.shape[1:]) if y.ndim > 1 else 0.0
        return np.zeros(p), y_off
    # float64 accumulation without a float64 copy of X (offset columns need every digit)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = float(X.shape[0] if sw is None else sw.sum())
    if sp.issparse(X):
        Xc = sp.csc_matrix(X)
        data = Xc.data.astype(np.float64)
        if sw is not None:
            data = data * sw[Xc.indices]
        col = np.repeat(np.arange(p), np.diff(Xc.indptr))
        x_off = np.bincount(col, weights=data, minlength=p) / total
    elif X.dtype == np.float64:
        x_off = (X.sum(axis=0) if sw is None else sw @ X) / total
    else:
        x_off = np.empty(p)
        for a, b, B in _f64_blocks(X):
            x_off[a:b] = (B.sum(axis=0) if sw is None else sw @ B) / total
    return x_off, target_mean(y, sw)


def target_mean(y, sw):
    """Weighted mean of ``y`` (per column for a 2-D ``y``; ``sw`` float64 or None)."""
    y64 = np.asarray(y, dtype=np.float64)
    y_off = y64.mean(axis=0) if sw is None else sw @ y64 / sw.sum()
    return float(y_off) if np.ndim(y_off) == 0 else y_off


def inverse_std(x_std, constant):
    """``1/σ_j`` in float64, 0 for a constant column (the Design's rule: its coefficient
    stays 0): the scale of the solvers' standardised columns. Exact whatever X's dtype:
    the certificate weighs the penalty by the σ_j of the user's objective, which
    ``1/fl32(1/σ_j)`` misses at first order (a float32 gap 1.4e-8 of the null deviance
    below the true excess beside a nearly collinear pair)."""
    return np.where(constant, 0.0, 1 / np.where(constant, 1, x_std))


def column_scale(inv_scale, held=0.0):
    """``σ_j = 1 / inv_scale_j`` in float64, ``held`` for a constant column (``inv_scale``
    0): what turns a user-scale coefficient or limit into the solvers' scaled one."""
    inv = np.asarray(inv_scale, np.float64)
    return np.where(inv > 0, 1 / np.where(inv > 0, inv, 1.0), held)


def rows_design(design, rows, fit_intercept):
    """The :class:`Design` of ``design``'s ``rows`` (None: all) with ``fit_intercept``
    (``design`` itself when that is it), or None when the rows are not at hand (``rows``
    False, or statistics without data): what a covariance-mode problem's certificate reads
    when its Gram cannot give a sum to the precision needed."""
    if rows is False or design is None or not hasattr(design, "explicit_columns"):
        return None
    if rows is None and design.fit_intercept == fit_intercept:
        return design
    return Design(design.X, design.y, design.sw, fit_intercept, rows=rows)


def pivoted_basis(P):
    """``(Q̂, R̂, cols, norms)``: a rank-revealing (pivoted) QR of the columns of ``P``
    scaled to unit norm, zero or non-finite columns left out: ``P[:, cols] / norms = Q̂ R̂``
    with ``Q̂`` (n × k) and ``R̂`` (k × k) on the ``k`` directions above rounding, ``cols``
    in pivot order."""
    from scipy.linalg import qr
    norms = np.linalg.norm(P, axis=0)
    keep = np.flatnonzero(np.isfinite(norms) & (norms > 0))
    if keep.size == 0:
        return np.zeros((P.shape[0], 0)), np.zeros((0, 0)), keep, norms[keep]
    Qh, R, piv = qr(P[:, keep] / norms[keep], mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    # unit columns: directions below the rounding of their entries are not in the span
    k = int(np.count_nonzero(d > 16 * max(P.shape) * np.finfo(float).eps * d[0]))
    cols = keep[piv[:k]]
    return Qh[:, :k], R[:k, :k], cols, norms[cols]


class UnpenalisedStep:
    """Least squares over the unpenalised features jointly, the others held: the exact
    block step of coordinate descent on that block, through a rank-revealing QR of its
    weighted columns (:func:`pivoted_basis`), formed once per data and weights. Coordinate
    and group sweeps visit such columns one at a time or by gradient steps in their Gram
    space, which crawl when they are nearly collinear or far apart in scale.

    ``B``: the block's centred columns as the solver holds them (n × u, float64); ``root``:
    ``sqrt`` of the sample weights the objective applies to residuals in that layout (None:
    none, or already in ``B``)."""

    #: the most features the step takes
    MAX_FEATURES = 200
    #: the condition number (of the equilibrated weighted columns, estimated by the
    #: pivoted QR's diagonal) above which the solvers take the step. Below it the sweeps
    #: resolve the block themselves and the step only costs (a random well-scaled block:
    #: paths 37-60% slower with it); at 1.2e3 a tight fit needed it ("illposed" seed 101)
    ILL_CONDITIONED = 1e2

    @classmethod
    def affordable(cls, u, n, nnz):
        """Whether the QR of ``u`` columns of ``n`` rows (``n·u²``, redone whenever the
        weights change: a GLM's every Newton step) costs at most 16 passes over the data's
        ``nnz`` entries."""
        return 0 < u <= min(cls.MAX_FEATURES, n) and n * u * u <= 16 * nnz

    def __init__(self, B, root=None):
        self.B, self.root = B, root
        P = B if root is None else B * root[:, None]
        self.Qh, self.R, self.cols, self.norms = pivoted_basis(P)
        norms = np.linalg.norm(P, axis=0)
        live = int(np.count_nonzero(np.isfinite(norms) & (norms > 0)))
        d = np.abs(np.diag(self.R))
        #: the condition number of the non-zero columns (equilibrated), estimated by the
        #: pivoted QR's diagonal; inf when one of them was dropped as dependent
        self.cond = (np.inf if self.cols.size < live else
                     float(d[0] / d[-1]) if d.size else 1.0)
        #: whether the solvers need the step (:data:`ILL_CONDITIONED`; any column left
        #: out of the basis, a zero one too, counts as ill-conditioned)
        self.ill = bool(self.cols.size < B.shape[1] or self.cond > self.ILL_CONDITIONED)

    def step(self, r, w_block, dtype):
        """The block's coefficients after the step, cast to ``dtype``, when they lower
        ``½||S^½ r||²`` (``r``: the float64 residual in ``B``'s layout, a vector, or a
        matrix of one column per response with ``w_block`` of shape (u, n_responses));
        else None."""
        if self.cols.size == 0:
            return None
        sr = self.weighted(r)
        sol = solve_triangular(self.R, self.Qh.T @ sr)
        delta = np.zeros((self.B.shape[1],) + sol.shape[1:])
        delta[self.cols] = sol / self.norms.reshape((-1,) + (1,) * (sol.ndim - 1))
        w0 = np.asarray(w_block, np.float64)
        new = (w0 + delta).astype(dtype)
        move = new.astype(np.float64) - w0
        if not np.all(np.isfinite(move)) or not move.any():
            return None
        s1 = sr - self.weighted(self.B @ move)
        return new if float(np.vdot(s1, s1)) < float(np.vdot(sr, sr)) else None

    def weighted(self, v):
        """``S^½ v`` (rows of a vector or matrix)."""
        if self.root is None:
            return v
        return v * (self.root if v.ndim == 1 else self.root[:, None])

    def projected(self, B, t, target=False):
        """``(ZᵀZ, Zᵀt)``: the columns ``B`` (n × k) weighted by ``S^½`` and projected off
        the block's span (``Z``), and ``t`` (a residual: a vector, or a matrix of one
        column per response) weighted: the Newton system of other features with this
        block minimised out (its Schur complement, through the QR rather than the block's
        Gram, which squares its condition number); n-scale, float64. ``target``: ``t`` is
        the response itself, far from orthogonal to the span: projected off it too, so
        that its large part there does not meet ``Z``'s rounding. ``B`` (float64, the
        caller's fresh copy) is overwritten by ``Z``."""
        Z = B
        if self.root is not None:
            Z *= self.root[:, None]
        Z -= self.Qh @ (self.Qh.T @ Z)
        t = self.weighted(t)
        if target:
            t = t - self.Qh @ (self.Qh.T @ t)
        return Z.T @ Z, Z.T @ t


class UnpenalisedBlocks:
    """A problem's :class:`UnpenalisedStep` per set of unpenalised features, and whether
    that set needs the step (:attr:`UnpenalisedStep.ill`). The judgement is made once and
    kept when the weights change (a GLM's Newton steps: :meth:`clear`); the steps, whose
    QR the weights enter, are formed again."""

    def __init__(self):
        self._steps, self._ill = {}, {}

    def clear(self):
        """New weights: the steps go, the judgements stay."""
        self._steps.clear()

    def get(self, U, n, nnz, columns):
        """The step of the features ``U`` (``columns()``: its ``(B, root)``, called when
        the step must be formed), or None: not affordable
        (:meth:`UnpenalisedStep.affordable`) or not needed."""
        if not UnpenalisedStep.affordable(U.size, n, nnz):
            return None
        key = U.tobytes()
        if self._ill.get(key) is False:
            return None
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = UnpenalisedStep(*columns())
        return step if self._ill.setdefault(key, step.ill) else None


def rounded_coefficients(w, inv_scale, dtype, effective=True):
    """``(coef, w_eff)``: the user-scale coefficients ``w·inv_scale`` cast to ``dtype``, and
    the solver-scale coefficients they stand for (float64; ``inv_scale`` broadcasts
    against ``w``, 0 for a constant column). An intercept formed from ``w_eff`` absorbs
    the cast's shift along an offset column: with ``|x̄_j| ≫ σ_j`` one float32 rounding of
    ``coef_j`` moves every linear predictor by ``x̄_j·ulp(coef_j)`` otherwise (1e4 · 6e-8
    per unit coefficient), far above a tight tolerance. ``effective=False``: ``w_eff`` is
    not formed (None; a path point's returned coefficients)."""
    w64 = np.asarray(w, dtype=np.float64)
    coef = (w64 * inv_scale).astype(dtype)
    if not effective:
        return coef, None
    ok = inv_scale > 0
    w_eff = np.where(ok, coef.astype(np.float64) / np.where(ok, inv_scale, 1), w64)
    return coef, w_eff


def exact_scaling(design):
    """``(1/σ, c/σ)`` in float64 for a Design of the user's X: the exact scale of each
    column (0: constant) and what its standardised copy had subtracted, the layout's
    centring ``c`` of offset columns, scaled (``sklearn_normpen._families._standardized``
    rounds both to X's dtype)."""
    inv = inverse_std(design.x_std, design.constant)
    return inv, design.layout_shift * inv


def scaled_columns64(design, cols, inv_scale):
    """``(X - 1 cᵀ)[:, cols] diag(inv_scale[cols])`` in float64 from ``design``'s own X
    (``c``: the centring its layout gives offset columns; sparse kept sparse): the exact
    counterpart of ``sklearn_normpen._families._standardized``'s scaled copy, which is
    rounded to X's dtype."""
    cols = np.asarray(cols)
    c = design.layout_shift[cols]
    if not design.sparse:
        B = np.asfortranarray(design.X[:, cols], dtype=np.float64)
        if c.any():
            B -= c
        return np.asfortranarray(B * inv_scale[cols])
    B = sp.csc_matrix(design.X[:, cols], dtype=np.float64)
    if c.any():  # (offset columns stored centred, as the layout does)
        B = centre_sparse_columns(B, np.flatnonzero(c), c)
    return sp.csc_matrix(B @ sp.diags(inv_scale[cols])).sorted_indices()


def weighted_column_std(X, X_off, sample_weight):
    """Weighted standard deviation (1/Σs, about ``X_off``) of each column, float64.

    For sparse ``X`` the variance is summed as deviations of the stored entries plus the
    implicit zeros' ``m²`` term (never ``E[x²] - m²``, which cancels for near-constant
    columns); ``X`` is never densified.
    """
    n = X.shape[0]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    denom = float(n if sw is None else sw.sum())
    m = np.asarray(X_off, dtype=np.float64)
    if sp.issparse(X):
        Xc = sp.csc_matrix(X)
        col = np.repeat(np.arange(X.shape[1]), np.diff(Xc.indptr))
        rw = np.ones(Xc.nnz) if sw is None else sw[Xc.indices]
        dev = Xc.data.astype(np.float64) - m[col]
        var = np.bincount(col, weights=rw * dev * dev, minlength=X.shape[1])
        stored_w = np.bincount(col, weights=rw, minlength=X.shape[1])
        # the implicit zeros' weight; exactly 0 for a column stored in full (Σs minus the
        # same sum in another order is ~eps·Σs, which m² would turn into a spread of
        # ~sqrt(eps)·|m|: a near-constant column's std off by orders of magnitude)
        zero_w = np.where(np.diff(Xc.indptr) == n, 0.0, denom - stored_w)
        var = (var + zero_w * m * m) / denom
        return np.sqrt(np.maximum(var, 0))
    out = np.empty(X.shape[1])
    for a, b, B in _f64_blocks(X, m):
        out[a:b] = (np.einsum("ij,ij->j", B, B) if sw is None else sw @ (B * B)) / denom
    return np.sqrt(out)


def _max_abs(v):
    """``max |v|`` in one pass without a copy (BLAS i?amax over the contiguous buffer, in
    chunks its 32-bit length takes; two reductions otherwise)."""
    from scipy.linalg import blas
    if v.dtype in (np.float32, np.float64) and (v.flags.c_contiguous or v.flags.f_contiguous):
        flat = v.ravel(order="K")  # a view
        amax = blas.idamax if v.dtype == np.float64 else blas.isamax
        step = 1 << 30
        return max(abs(float(flat[a + amax(flat[a:a + step])]))
                   for a in range(0, flat.size, step))
    return max(abs(float(v.max())), abs(float(v.min())))  # reductions: no copy of X


def check_scale(X, yc, dtype, x_top=None):
    """A clear error when the data's magnitude leaves the range in which the objective's
    squares and the alpha grid (``~ |X|·|y|``) are representable: rescale the data instead
    (the coefficients of the rescaled problem are the same up to the ratio of scales).
    ``x_top``: ``max |X|`` when already known (a design's column statistics); ``X``
    None: ``y`` alone."""
    lo, hi = SAFE_RANGE[np.dtype(dtype)]
    data = np.zeros(0) if X is None else X.data if sp.issparse(X) else X
    for name, v in (("X", data), ("y (centred)", yc)):
        if v.size == 0:
            continue
        top = x_top if name == "X" and x_top is not None else _max_abs(v)
        if top > 0 and not lo <= top <= hi:
            raise ValueError(
                f"{name} has entries of magnitude {top:.3g}, outside [{lo:g}, {hi:g}] where "
                f"{np.dtype(dtype).name} squares and the alpha grid stay representable; "
                f"rescale {name.split()[0]} (e.g. divide it by {top:.3g}) and map the "
                "coefficients back.")


def constant_columns(std, mean):
    """The one constant-column rule: ``std <= 16·eps64·|mean|`` (or exactly 0)."""
    std = np.asarray(std, dtype=np.float64)
    return (std <= 16 * np.finfo(np.float64).eps * np.abs(mean)) | (std == 0)


def take_rows(X, rows):
    """``X[rows]`` of a dense ``X`` as a Fortran array (a CV fold's or a resample's copy).

    A Fortran ``X`` is gathered column by column by the compiled ``take_rows_f`` (one
    contiguous read and write per column): ``X[rows]`` is C-ordered and its Fortran copy a
    cache-hostile transpose. Otherwise in column blocks of about 1 MiB.
    """
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    k = rows.size
    out = np.empty((k, X.shape[1]), dtype=X.dtype, order="F")
    if X.flags.f_contiguous and X.dtype in (np.float32, np.float64):
        idx = np.ascontiguousarray(rows, dtype=np.intp)
        if idx.size and (idx.min() < -X.shape[0] or idx.max() >= X.shape[0]):
            raise IndexError(f"row index out of range for {X.shape[0]} rows.")
        idx = np.where(idx < 0, idx + X.shape[0], idx)  # NumPy's negative indices
        status = call_kernel(_moments.take_rows_f, X, idx, out)
        if status != 0:  # pragma: no cover - the indices are checked above
            raise RuntimeError(f"take_rows_f failed with status {status}.")
        return out
    step = max(1, 2**20 // max(k * X.itemsize, 1))
    for a in range(0, X.shape[1], step):
        out[:, a:a + step] = X[rows, a:a + step]
    return out


def xt_dot64(X, r):
    """``Xᵀ r`` in float64 for a float64 ``X`` and ``r`` (n,) or (n, K): a Fortran X and a
    vector by one dot per column where :func:`~sklearn_normpen._kernels.dot_columns` says
    so (the compiled ``_moments.xt_dot``), else NumPy's product (the same gemv, without
    the checked kernel call's cost on small data)."""
    if (r.ndim == 1 and X.flags.f_contiguous and X.dtype == np.float64
            and r.dtype == np.float64 and dot_columns(*X.shape, 8)):
        out = np.empty(X.shape[1])
        call_kernel(_moments.xt_dot, X, np.ascontiguousarray(r), out)
        return out
    return X.T @ r


def _column_stats_of(X, sw64):
    """``(mean, css, ss, maxabs)`` of a float32/float64 ``X``, dense Fortran or CSC with
    int32 indices (see :func:`_moments.column_stats_dense` and
    :func:`_moments.column_stats_sparse`), or None for another layout or dtype."""
    if X.dtype not in (np.float32, np.float64):
        return None
    sparse = sp.issparse(X)
    if sparse and not (X.format == "csc" and X.indices.dtype == np.intc
                       and X.indptr.dtype == np.intc):
        return None
    if not sparse and not X.flags.f_contiguous:
        return None
    p = X.shape[1]
    mean, css, ss, top = (np.empty(p) for _ in range(4))
    sw = np.zeros(0) if sw64 is None else sw64
    if sparse:
        call_kernel(_moments.column_stats_sparse, X.data, X.indices, X.indptr, X.shape[0],
                    sw, mean, css, ss, top)
    else:
        call_kernel(_moments.column_stats_dense, X, sw, mean, css, ss, top)
    return mean, css, ss, top


def linear_predictor64(X, coefs, intercepts):
    """``X coefs + intercepts`` in float64 whatever X's dtype (float32 columns converted
    exactly, block by block: :func:`_f64_blocks`): held-out predictions for CV errors.
    A float32 product rounds by ``eps32 |x||w|``, and beside an offset column (mean ≫
    spread) ``x w`` is cancelled by the intercept: the held-out MSE of a float32
    residual-mode CV was 0.4-0.9% off its exact value on a column of mean 1e6 (the
    covariance mode's, from float64 moments, 1e-11), enough to select another alpha."""
    coefs = np.asarray(coefs, dtype=np.float64)
    b = np.asarray(intercepts, dtype=np.float64)
    if X.dtype == np.float64:
        return np.asarray(X @ coefs) + b
    if sp.issparse(X):
        return np.asarray(X.astype(np.float64) @ coefs) + b
    out = np.zeros((X.shape[0],) + coefs.shape[1:])
    for a, c, B in _f64_blocks(X):
        out += B @ coefs[a:c]
    return out + b


def _f64_blocks(X, shift=None, cols=None):
    """Yield ``(a, b, B)``: float64 copies of column blocks ``X[:, a:b] - shift[a:b]`` of
    about 1 MiB (``cols`` restricts to those columns, ``a:b`` then indexes ``cols``)."""
    n = X.shape[0]
    idx = np.arange(X.shape[1]) if cols is None else np.asarray(cols)
    step = max(1, 2**17 // max(n, 1))
    for a in range(0, idx.size, step):
        b = min(a + step, idx.size)
        sel = idx[a:b]
        B = np.array(X[:, sel] if cols is not None else X[:, a:b], dtype=np.float64)
        if shift is not None:
            B -= np.asarray(shift, dtype=np.float64)[sel]
        yield a, b, B


def centre_sparse_columns(Xs, cols, means):
    """CSC ``Xs`` with the columns ``cols`` replaced by their values minus ``means[cols]``
    (centred in float64, stored in ``Xs``'s dtype, every row kept; the other columns
    untouched, indices sorted)."""
    n, p = Xs.shape
    Xs = sp.csc_matrix(Xs)
    keep = np.ones(p, dtype=bool)
    keep[cols] = False
    counts = np.where(keep, np.diff(Xs.indptr), n)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    data = np.empty(indptr[-1], dtype=Xs.dtype)
    indices = np.empty(indptr[-1], dtype=Xs.indices.dtype)
    kept = np.repeat(keep, np.diff(Xs.indptr))  # stored entries of the kept columns
    at = np.repeat(keep, counts)  # their slots in the new layout
    data[at], indices[at] = Xs.data[kept], Xs.indices[kept]
    dense = Xs[:, cols].toarray().astype(np.float64) - np.asarray(means, np.float64)[cols]
    data[~at] = dense.ravel(order="F").astype(Xs.dtype)
    indices[~at] = np.tile(np.arange(n, dtype=indices.dtype), len(cols))
    out = sp.csc_matrix((data, indices, indptr), shape=(n, p))
    out.has_sorted_indices = Xs.has_sorted_indices
    return out if out.has_sorted_indices else out.sorted_indices()


class Design:
    """The data of one fit (or one CV training fold), prepared once.

    Parameters
    ----------
    X : ndarray (Fortran-ordered) or CSC matrix of shape (n_samples, n_features)
        Validated input, float32 or float64 (kept).
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray or None
    fit_intercept : bool
    rows : ndarray of int, default=None
        Use only these rows (a CV training fold).
    column_stats : bool, default=False
        Compute the column statistics now even without an intercept (a caller that will
        solve in a residual mode, which reads them at once: the lazy default's separate
        ``max |X|`` pass for the scale check would be one more read of X).
    scale_from_gram : bool, default=False
        A caller that forms the Gram of all rows at once (:meth:`gram_stats`; dense,
        unweighted, without intercept): X's scale is checked on its diagonal
        (:meth:`settle_scale`) rather than by a ``max |X|`` pass.
    finite_pending : str or None, default=None
        Validation left X's finiteness unchecked (one pass over X saved): checked here,
        with scikit-learn's message naming this caller. On the ``scale_from_gram`` route
        a finite Gram diagonal ``Σ x²`` settles it (NaN and inf reach it; a square that
        overflows sends it to the full check); at once otherwise.

    Attributes
    ----------
    N : float
        ``Σ s`` (the number of rows with unit weights).
    x_mean, y_mean : float64
        Weighted means (zeros without intercept).
    x_std : ndarray of float64
        Weighted standard deviation of each column about its weighted mean.
    constant : ndarray of bool
        The one constant-column rule (:func:`constant_columns`).
    Xk, xk_mean
        What the residual-mode kernels get: ``X`` with its means (implicit centring) or a
        centred copy with zero means (see the module docstring).
    null_deviance : float
        ``||yc||²_S / (2N)``: the unit of ``tol``.
    """

    #: X's scale check deferred to the Gram (``scale_from_gram``; :meth:`settle_scale`)
    _scale_pending = False

    #: the caller whose finiteness check of X waits for the Gram (``finite_pending``)
    _finite_pending = None

    def __init__(self, X, y, sample_weight, fit_intercept, rows=None, column_stats=False,
                 scale_from_gram=False, finite_pending=None):
        if rows is not None:
            X = X[rows].tocsc() if sp.issparse(X) else take_rows(X, rows)
            if sp.issparse(X) and not X.has_sorted_indices:
                X = X.sorted_indices()
            y = y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        if not sp.issparse(X) and not X.flags.f_contiguous:
            X = np.asfortranarray(X)  # validated input already is; a copy otherwise
        self.X, self.y, self.sw = X, y, sample_weight
        self.dtype = X.dtype
        self.n, self.p = X.shape
        self.sparse = sp.issparse(X)
        self.fit_intercept = bool(fit_intercept)
        self.sw64 = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.N = float(self.n if self.sw64 is None else self.sw64.sum())
        # means, spreads, norms and max |x| of every column from one compiled read (dense
        # X: separate NumPy passes were ~15% of a wide path, five reads of X before the
        # solve; sparse X: the NumPy sums over its entries took 26 ms on 20000 x 50000 at
        # density 1e-3, the compiled pass 2.4 ms)
        # (eager with an intercept, whose means they are, or when a dense X has n < p, the
        # residual modes' shape; otherwise on first use, so that a covariance-mode fit
        # without intercept keeps its single max |X| pass: the tall paths read 1.02-1.03x
        # eagerly)
        eager = column_stats or fit_intercept or (not self.sparse and self.n < self.p)
        # scale_from_gram (a covariance-mode fit without intercept or weights, whose
        # column statistics are lazy): X's scale is checked on the Gram's diagonal
        # (settle_scale) instead of by a max |X| pass over X (~8% of a 300000 x 200 path);
        # so is its finiteness when validation left it (finite_pending)
        self._scale_pending = bool(scale_from_gram and not eager and not self.sparse
                                   and self.sw64 is None)
        if finite_pending is not None:
            if self._scale_pending:
                self._finite_pending = finite_pending
            else:
                assert_all_finite(X, input_name="X", estimator_name=finite_pending)
        self._cols = _column_stats_of(X, self.sw64) if eager else None
        self._cols_lazy = self._cols is None
        if self._cols is not None:
            self.x_mean = self._cols[0].copy() if fit_intercept else np.zeros(self.p)
            self.y_mean = (target_mean(y, self.sw64) if fit_intercept else
                           np.zeros(y.shape[1:]) if y.ndim > 1 else 0.0)
            #: max |X| (None: not known)
            self.x_top = float(self._cols[3].max()) if self.p and self.n else None
        else:
            self.x_mean, self.y_mean = weighted_means(X, y, sample_weight, fit_intercept)
            self.x_top = None
        yc = np.asarray(y, dtype=np.float64) - self.y_mean
        check_scale(None if self._scale_pending else X, yc, self.dtype, self.x_top)
        self.yc64 = yc
        self.yc = np.ascontiguousarray(yc, dtype=self.dtype)
        self.null_deviance = float(self._wdot(yc, yc)) / (2 * self.N)
        self._Xs64 = self._Xk64 = self._std = self._layout = None

    def settle_scale(self, G=None):
        """The scale check of ``X`` that ``scale_from_gram`` deferred (a no-op otherwise):
        from ``G = XᵀX`` (unweighted, unshifted, all rows) when given, whose largest
        diagonal entry ``t`` puts ``max |X|`` in ``[sqrt(t / n), sqrt(t)]`` (the largest
        column norm); from ``max |X|`` itself when that interval leaves the safe range,
        or without ``G``. First X's finiteness when validation deferred it
        (``finite_pending``): ``G``'s diagonal, or the full check."""
        if self._finite_pending is not None:
            caller, self._finite_pending = self._finite_pending, None
            if G is None or not np.isfinite(np.diagonal(G)).all():
                assert_all_finite(self.X, input_name="X", estimator_name=caller)
        if not self._scale_pending:
            return
        self._scale_pending = False
        if G is not None and self.n and self.p:
            lo, hi = SAFE_RANGE[np.dtype(self.dtype)]
            t = float(np.max(np.diagonal(G)))
            if t == 0 or lo * lo * self.n <= t <= hi * hi:  # (False for NaN)
                return
        check_scale(self.X, np.zeros(0), self.dtype)

    # -- lazily computed: covariance-mode fits never need them --------------------------
    @property
    def x_std(self):
        """Weighted standard deviation of each column about its weighted mean (float64)."""
        if self._std is None:
            cols = self._column_stats()
            if cols is not None:
                about, std = cols[0], np.sqrt(cols[1] / self.N)
            else:
                about = self.x_mean if self.fit_intercept else weighted_means(
                    self.X, self.y, self.sw, True)[0]
                std = weighted_column_std(self.X, about, self.sw)
            self._std = (std, constant_columns(std, about))
        return self._std[0]

    def _column_stats(self):
        """``(mean, css, ss, maxabs)`` of X (:func:`_column_stats_of`; computed on first use
        without an intercept, and for sparse X), or None."""
        if self._cols is None and self._cols_lazy:
            self._cols = _column_stats_of(self.X, self.sw64)
            self._cols_lazy = False
        return self._cols

    def raw_norms64(self, scale=None):
        """``(Σ s x_j² / N)^½`` per column, uncentred, in float64 (times ``|scale|``: the
        norms of ``X diag(scale)``): the size of the rounding in products with ``X``
        (:func:`~sklearn_normpen._certificate.rounding_change`)."""
        ss = self.col_sumsq()
        if self.fit_intercept:  # (Σ s x² = Σ s (x - x̄)² + N x̄²)
            ss = ss + self.N * np.asarray(self.x_mean, np.float64) ** 2
        norms = np.sqrt(ss / self.N)
        return norms if scale is None else norms * np.abs(np.asarray(scale, np.float64))

    def col_sumsq(self):
        """``Σ s (x_j - x̄_j)²`` per column in float64 (the intercept-centred norms; the
        plain ``Σ s x_j²`` without intercept)."""
        cols = self._column_stats()
        if cols is not None:
            return (cols[1] if self.fit_intercept else cols[2]).copy()
        if self.fit_intercept:
            return self.x_std ** 2 * self.N
        if self.sparse:
            Xsq = self.X.multiply(self.X)
            out = Xsq.sum(axis=0) if self.sw64 is None else Xsq.T @ self.sw64
            return np.asarray(out, dtype=np.float64).ravel()
        out = np.empty(self.p)
        for a, b, B in _f64_blocks(self.X):
            out[a:b] = np.einsum("ij,ij->j", B, B) if self.sw64 is None else self.sw64 @ (B * B)
        return out

    @property
    def constant(self):
        """The constant-column mask (:func:`constant_columns`)."""
        self.x_std  # noqa: B018  (computes both)
        return self._std[1]

    def _kernel_layout(self):
        """``(Xk, xk_mean)``: see the module docstring."""
        if self._layout is None:
            X = self.X
            if not self.fit_intercept:
                self._layout = (X, self.x_mean)
                return self._layout
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.abs(self.x_mean) / self.x_std
            offset = np.flatnonzero((ratio > KAPPA[self.dtype]) & ~self.constant)
            if not offset.size:
                self._layout = (X, self.x_mean)
            elif self.sparse:
                mean = self.x_mean.copy()
                mean[offset] = 0.0
                self._layout = (centre_sparse_columns(X, offset, self.x_mean), mean)
            else:
                Xc = np.empty_like(X, order="F")
                for a, b, B in _f64_blocks(X, self.x_mean):
                    Xc[:, a:b] = B
                self._layout = (Xc, np.zeros(self.p))
        return self._layout

    @property
    def Xk(self):
        return self._kernel_layout()[0]

    @property
    def xk_mean(self):
        return self._kernel_layout()[1]

    @property
    def layout_shift(self):
        """``x_mean - xk_mean`` in float64: what the layout subtracted from its offset
        columns (zero elsewhere), ``X = Xk + 1 layout_shiftᵀ``."""
        return np.asarray(self.x_mean, np.float64) - np.asarray(self.xk_mean, np.float64)

    # -- float64 linear algebra for certificates ------------------------------------------
    def _wdot(self, a, b):
        return float(a @ b) if self.sw64 is None else float((self.sw64 * a) @ b)

    def _sparse64(self):
        """Sparse ``X`` in float64."""
        if self._Xs64 is None:
            self._Xs64 = self.X if self.dtype == np.float64 else self.X.astype(np.float64)
        return self._Xs64

    def _k64(self):
        """Sparse ``Xk`` (the kernels' layout) in float64."""
        Xk = self.Xk
        if Xk is self.X:
            return self._sparse64()
        if self._Xk64 is None:
            self._Xk64 = Xk if self.dtype == np.float64 else Xk.astype(np.float64)
        return self._Xk64

    def residual64(self, w):
        """``yc - Xc w`` in float64, from scratch (only the non-zero coefficients are read)."""
        return self.yc64 - self.centred_product64(w)

    def centred_product64(self, W):
        """``Xc W`` in float64 for coefficients ``W`` of shape (p,) or (p, K), reading the
        :meth:`exact_layout` and only the non-zero rows of ``W`` (a column subset when
        they are few, the full product otherwise)."""
        W = np.asarray(W, dtype=np.float64)
        nz = np.flatnonzero(W if W.ndim == 1 else np.any(W != 0, axis=1))
        out = np.zeros((self.n,) + W.shape[1:])
        if nz.size == 0:
            return out
        X, mean = self.exact_layout()
        if self.sparse or self.dtype == np.float64:
            few = 2 * nz.size < self.p  # a column subset beats the full product
            out = np.asarray(X[:, nz] @ W[nz] if few else X @ W, dtype=np.float64)
        else:
            for a, b, B in _f64_blocks(X, None, nz):
                out += B @ W[nz[a:b]]
        return out - np.asarray(mean, np.float64)[nz] @ W[nz]

    def exact_layout(self):
        """``(X, means)`` that the float64 certificate sums read: the kernels' layout for
        float64 data (sparse: in float64); for float32 data the user's own columns, exact
        in float64 — the layout's float32 copy of a centred offset column is rounded to
        6e-8 of the spread, another data set (a multinomial gap came out 8e-9 below the
        objective's true excess beside a column of mean 1e5)."""
        if self.dtype == np.float64:
            return (self._k64() if self.sparse else self.Xk), self.xk_mean
        return (self._sparse64() if self.sparse else self.X), self.x_mean

    def explicit_columns(self, cols):
        """Float64 centred dense copy of the columns ``cols`` (n × len(cols))."""
        cols = np.asarray(cols)
        if self.sparse:
            B = self._sparse64()[:, cols].toarray()
        else:  # (advanced indexing: a new array; subtracting in place keeps its layout,
            #    ~10x faster than a copy through np.array on a Fortran X)
            B = self.X[:, cols]
            if B.dtype != np.float64:
                B = B.astype(np.float64)
        B -= self.x_mean[cols]
        return B

    def gradient64(self, r):
        """``Xcᵀ S r`` in float64 for a float64 residual ``r`` (n,) or residual matrix
        (n, K)."""
        sr = r if self.sw64 is None else (self.sw64 * r.T).T
        total = sr.sum(axis=0)
        X, mean = self.exact_layout()
        shift = np.multiply.outer(np.asarray(mean, np.float64), total)
        if self.sparse:
            return np.asarray(X.T @ sr).reshape(shift.shape) - shift
        if self.dtype == np.float64:
            return xt_dot64(X, sr) - shift
        g = np.empty(shift.shape)
        for a, b, B in _f64_blocks(X):
            g[a:b] = B.T @ sr
        return g - shift

    def unpenalised_span64(self, cols, yc=None, basis=False):
        """``(M, a)``: the span of the centred columns ``cols`` (the unpenalised features)
        in an S-orthonormal basis, for the certificate's projection
        (:func:`~sklearn_normpen._certificate.project`). With ``Ŵ = S^½ Q̂ / √N`` and
        ``S^½ Xc[:, cols] = Q̂ R̂`` (pivoted QR of the equilibrated columns, rank-revealing):
        ``M = Xcᵀ Ŵ`` (p × k) and ``a = Ŵᵀ yc`` (k,) or (k, K) (``yc``: the centred target,
        default the Design's). The residual's coordinates ``Ŵᵀ r = a - Mᵀ w`` then give its
        projection exactly to rounding however ill-conditioned the columns (the normal
        equations of ``X_Uᵀ S X_U`` square its condition number: 2e19 for columns 1e6 apart
        in scale and nearly collinear, whose projection they left 50% off). ``basis``: also
        ``Ŵ`` (n × k), from which a caller holding the residual forms its coordinates
        ``Ŵᵀ r`` directly: ``a - Mᵀ w`` cancels when ``Mᵀ w`` is far larger than the
        residual's part in the span (offset columns without intercept)."""
        B = self.explicit_columns(cols)
        root = None if self.sw64 is None else np.sqrt(self.sw64)
        if root is not None:
            B *= root[:, None]
        Qh = pivoted_basis(B)[0]
        if Qh.shape[1] == 0:
            out = np.zeros((self.p, 0)), np.zeros((0,) + np.shape(self.yc64)[1:])
            return out + (np.zeros((self.n, 0)),) if basis else out
        Qh = Qh / np.sqrt(self.N)
        W = Qh if root is None else root[:, None] * Qh
        # Xcᵀ Ŵ through the weighted product: V with S V = Ŵ (rows of weight 0 are 0 in Ŵ)
        if root is None:
            V = Qh
        else:
            pos = root > 0
            V = np.zeros_like(Qh)
            V[pos] = Qh[pos] / root[pos, None]
        M = self.gradient64(V)
        a = W.T @ (self.yc64 if yc is None else np.asarray(yc, np.float64))
        return (M, a, W) if basis else (M, a)

    # -- covariance-mode statistics ---------------------------------------------------------
    def gram_stats(self, rows=None, shift=None):
        """Float64 weighted second moments of ``rows`` (all rows by default) about ``shift``
        (default: the weighted means; zeros without intercept).

        Returns a dict with ``G = Σ s (x - m)(x - m)ᵀ``, ``sx = Σ s (x - m)``,
        ``xy = Σ s (x - m)(y - ȳ)``, ``sy``, ``yy``, ``S = Σ s``. Additive over rows, so a CV
        training fold is ``total - held_out``. Accumulated in float64 whatever ``X``'s dtype,
        so the certificate never differences large float32 norms.
        """
        m = self.x_mean if shift is None else np.asarray(shift, dtype=np.float64)
        if not sp.issparse(self.X):
            G, xy, sx, yy, sy, S = _dense_moments(self.X, m, self.sw64, self.yc64, rows)
            plain = rows is None and not m.any()  # (G = XᵀX: its diagonal bounds |X|)
            self.settle_scale(G if plain else None)
            return dict(G=G, sx=sx, xy=xy, sy=sy, yy=yy, S=S)
        X = self.X if rows is None else self.X[rows]
        y = self.yc64 if rows is None else self.yc64[rows]
        s = self.sw64 if rows is None or self.sw64 is None else self.sw64[rows]
        X = sp.csc_matrix(X, dtype=np.float64)
        SX = X if s is None else sp.csc_matrix(X.multiply(s[:, None]))
        G = (X.T @ SX).toarray()
        sx_raw = np.asarray(SX.sum(axis=0)).ravel()
        S = float(X.shape[0] if s is None else s.sum())
        G -= np.outer(m, sx_raw) + np.outer(sx_raw, m) - S * np.outer(m, m)
        sx = sx_raw - S * m
        xy = np.asarray(SX.T @ y).ravel() - m * float(y.sum() if s is None else s @ y)
        # the shift applied afterwards cancels ~(|m| / std)² of the 16 digits on a
        # column whose mean is far above its spread (or a constant one): those rows
        # and columns from the explicitly shifted (nearly dense anyway) columns
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.flatnonzero(np.abs(m) > KAPPA[np.dtype(np.float64)] * self.x_std)
        if off.size:
            B = X[:, off].toarray() - m[off]
            SB = B if s is None else s[:, None] * B
            C = np.asarray(X.T @ SB) - np.outer(m, SB.sum(axis=0))
            C[off] = B.T @ SB
            G[:, off] = C
            G[off, :] = C.T
            sx[off] = SB.sum(axis=0)
            xy[off] = SB.T @ y
        sy = float(y.sum() if s is None else s @ y)
        yy = float(y @ y if s is None else s @ (y * y))
        return dict(G=G, sx=sx, xy=xy, sy=sy, yy=yy, S=S)

    def cv_gram_stats(self, splits, n_jobs=None):
        """``(stats, held)``: the full data's :meth:`gram_stats` and, keyed by the bytes of
        each fold's held-out rows, their statistics. When the held-out sets partition the
        rows (K-fold's do), the full statistics are the sum of the folds'
        (:meth:`fold_gram_stats`: ``X`` read once for all of them); otherwise ``held`` is
        empty and each fold forms its own."""
        tests = [np.asarray(te) for _, te in splits]
        if not is_partition(tests, self.n):
            return self.gram_stats(), {}
        parts = self.fold_gram_stats(tests, n_jobs)
        stats = {k: sum(h[k] for h in parts) for k in parts[0]}
        return stats, {te.tobytes(): h for te, h in zip(tests, parts)}

    def fold_gram_stats(self, tests, n_jobs=None):
        """:meth:`gram_stats` of each of the disjoint row sets ``tests`` (CV folds' held-out
        rows), about the weighted means.

        Dense ``X`` is read once for all sets (the compiled ``fold_moments_dense_f``
        scatters each row into its set's buffer; BLAS syrk per 256 rows) instead of one
        gathered copy per set, whose strided reads cost about as much as the product; with
        ``n_jobs`` threads each thread reads ``X`` for its share of the sets. Sparse ``X``:
        one :meth:`gram_stats` per set (in threads likewise).
        """
        from joblib import cpu_count

        from ._threads import thread_map
        tests = [np.asarray(te) for te in tests]
        n_threads = 1 if n_jobs is None else (
            n_jobs if n_jobs > 0 else max(cpu_count() + 1 + n_jobs, 1))
        n_threads = max(min(n_threads, len(tests)), 1)
        if sp.issparse(self.X):
            if n_threads <= 1:
                return [self.gram_stats(rows=te) for te in tests]
            # BLAS-bound (GIL released): local threads whatever joblib backend is active
            with single_blas_thread():
                return list(thread_map(lambda te: self.gram_stats(rows=te), tests,
                                       n_threads))
        X = self.X if self.X.flags.f_contiguous else np.asfortranarray(self.X)
        Y = np.asfortranarray(self.yc64.reshape(-1, 1))
        sw = np.empty(0) if self.sw64 is None else self.sw64
        shift = np.ascontiguousarray(self.x_mean, dtype=np.float64)
        share = [list(range(t, len(tests), n_threads)) for t in range(n_threads)]
        p = self.p

        def run(ks):
            fold = np.full(self.n, -1, dtype=np.intc)
            for local, k in enumerate(ks):
                fold[tests[k]] = local
            outG = np.zeros((len(ks), p, p))
            outB = np.zeros((len(ks), 2, p + 2))
            status = call_kernel(_moments.fold_moments_dense_f, X, Y, sw, fold, shift,
                                 np.zeros(1), outG, outB)
            if status != 0:  # pragma: no cover - fold indices and sizes are set above
                raise RuntimeError(f"fold_moments_dense_f failed with status {status}.")
            return outG, outB

        if n_threads <= 1:
            outs = [run(share[0])]
        else:
            with single_blas_thread():
                outs = list(thread_map(run, share, n_threads))
        parts = [None] * len(tests)
        for ks, (outG, outB) in zip(share, outs):
            for local, k in enumerate(ks):
                B = outB[local]  # rows [y - ȳ, 1] of the augmented moments
                # the Gram is exactly symmetric: its transpose is a Fortran-ordered view
                parts[k] = dict(G=outG[local].T, xy=B[0, :p].copy(), sx=B[1, :p].copy(),
                                sy=float(B[0, p + 1]), yy=float(B[0, p]), S=float(B[1, p + 1]))
        return parts


#: below this fraction of the terms' magnitudes, a sum of squared errors formed from
#: moments may have lost more digits than the CV errors can spare (about 1e4 · n · eps64
#: relative at most): the caller then predicts row by row instead
_MOMENT_SSE_FLOOR = 1e-4


def moment_mse(stats, W, b, shift, yshift):
    """Weighted mean squared error ``Σ s (y - xᵀw - b)² / Σ s`` of the rows whose
    :meth:`Design.gram_stats` are ``stats`` (about ``shift``, ``yshift``), for each column
    ``w`` of ``W`` (p, A) with intercept ``b`` (A,), in float64 without the rows:
    ``y - xᵀw - b = (y - c) - (x - m)ᵀw - d`` with ``d = b + mᵀw - c``.

    Returns ``(mse, exact)``: ``exact`` is False for a column whose error is small against
    the terms it is the difference of (a near-interpolating fit), where the row-by-row
    error should be used instead."""
    W = np.asarray(W, dtype=np.float64)
    d = np.asarray(b, dtype=np.float64) + np.asarray(shift, dtype=np.float64) @ W - yshift
    G, xy, sx = stats["G"], stats["xy"], stats["sx"]
    # on the rows of W that are non-zero somewhere (a sparse path's support): the
    # quadratic term from G[nz, nz], not the O(p² A) product with all of G (a gather of
    # more than a third of G costs more than that product)
    nz = np.flatnonzero(np.any(W != 0, axis=1))
    if 3 * nz.size <= W.shape[0]:
        G, xy, sx, W = G[np.ix_(nz, nz)], xy[nz], sx[nz], W[nz]
    # (one BLAS thread below ~1e8 flops: waking a threaded BLAS's threads cost ~10 ms a
    # call in the 5-fold group CV at p = 500, twice the CV's time on one thread)
    with single_blas_thread() if W.shape[0] ** 2 * W.shape[1] <= 1e8 else nullcontext():
        terms = (np.full(W.shape[1], stats["yy"]), 2 * (xy @ W),
                 np.einsum("ia,ia->a", W, G @ W), 2 * d * (stats["sy"] - sx @ W),
                 d * d * stats["S"])
    sse = terms[0] - terms[1] + terms[2] - terms[3] + terms[4]
    exact = sse >= _MOMENT_SSE_FLOOR * sum(np.abs(t) for t in terms)
    return np.maximum(sse, 0.0) / stats["S"], exact


def held_out_mse(held_stats, design, test, res):
    """A CV fold's held-out errors (weighted MSE per path point of ``res``) from its
    held-out statistics in ``held_stats`` (keyed by the bytes of ``test``, about
    ``design``'s means: :meth:`Design.cv_gram_stats`), or None when they are not there,
    the fold's held-out weight is 0, or some point's error is not :func:`moment_mse`-exact
    (the caller then predicts the rows)."""
    held = held_stats.get(np.asarray(test).tobytes())
    if held is None or held["S"] <= 0 or res.coefs.ndim != 2:
        return None
    mse, exact = moment_mse(held, res.coefs, res.intercepts, design.x_mean, design.y_mean)
    return mse if exact.all() else None


def is_partition(tests, n):
    """Whether the index sets ``tests`` partition ``range(n)`` (K-fold's held-out sets)."""
    flat = np.concatenate([np.asarray(te, dtype=np.intp).ravel() for te in tests]
                          or [np.zeros(0, np.intp)])
    if flat.size != n or (n and (flat.min() < 0 or flat.max() >= n)):
        return False
    return bool(np.all(np.bincount(flat, minlength=n) == 1))


def _dense_moments(X, shift, sw, y, rows=None):
    """``(G, xy, sx, yy, sy, S)``: the weighted moments of :meth:`Design.gram_stats` for
    dense ``X`` (``rows`` of it, gathered block by block), in float64.

    One symmetric rank-k update (BLAS syrk, half the flops of a general product) per row
    block of ``sqrt(s)·[X - m, y, 1]`` gives them all: the Gram, then ``Σ s (x - m) y``,
    ``Σ s (x - m)``, ``Σ s y²``, ``Σ s y`` and ``Σ s`` in its last two rows, so ``X`` is
    read once (the block copy it needs anyway) instead of once more for each vector."""
    from scipy.linalg import blas
    n = X.shape[0] if rows is None else len(rows)
    p = X.shape[1]
    shift = np.asarray(shift, dtype=np.float64)
    if rows is None and X.dtype == np.float64 and sw is None and X.flags.f_contiguous:
        out = _plain_moments(X, shift, y)  # no copy: BLAS on X itself
        if out is not None:
            return out
    step = max(1, _BLOCK_BYTES // max((p + 2) * 8, 1))
    B = np.empty((min(step, n), p + 2), order="F")
    Ga = np.zeros((p + 2, p + 2), order="F")
    for a in range(0, n, step):
        b = min(a + step, n)
        Bk = B[:b - a]
        if rows is None:
            Bk[:, :p] = X[a:b]
            Bk[:, p] = y[a:b]
        else:
            Bk[:, :p] = X[rows[a:b]]
            Bk[:, p] = y[rows[a:b]]
        Bk[:, :p] -= shift
        Bk[:, p + 1] = 1.0
        if sw is not None:
            Bk *= np.sqrt(sw[a:b] if rows is None else sw[rows[a:b]])[:, None]
        Ga = blas.dsyrk(1.0, Bk, beta=1.0, c=Ga, trans=1, lower=0, overwrite_c=True)
    G = np.asfortranarray(Ga[:p, :p])
    _symmetrise(G)
    return (G, Ga[:p, p].copy(), Ga[:p, p + 1].copy(), float(Ga[p, p]), float(Ga[p, p + 1]),
            float(Ga[p + 1, p + 1]))


#: rows of X sampled to route :func:`_plain_moments` (offset data go the copying route)
_ROUTE_ROWS = 256


def _plain_moments(X, shift, y):
    """:func:`_dense_moments` of a float64 Fortran ``X`` without weights or row selection
    from BLAS on ``X`` itself: ``XᵀX`` (syrk), then the shift as the symmetric rank-2
    update ``- m sxᵀ - sx mᵀ + n m mᵀ`` (``sx = Xᵀ1``). The block copy of the shifted data
    that route saves costs about a seventh of the product.

    Each sum then carries rounding ``~eps·n·(|m_i| + σ_i)(|m_j| + σ_j)`` instead of
    ``~eps·n·σ_i σ_j``: at most a few times more where ``|m_j| <= σ_j``. Columns further
    off (the diagonal says which) get their row and column of ``G``, ``sx`` and ``xy`` from
    explicitly shifted copies, as the sparse moments do. None when more than an eighth of
    the columns are that far off (judged first on a sample of rows, then exactly): the
    copying route is cheaper then."""
    from scipy.linalg import blas
    n, p = X.shape
    if shift.any():
        S = X[:min(n, _ROUTE_ROWS)]
        guess = np.abs(shift) > S.std(axis=0)
        if 8 * int(guess.sum()) > p:
            return None
    G = blas.dsyrk(1.0, X, trans=1, lower=0)
    # (two more reads of X: NumPy's column sums and one gemv take about half the time of
    # the single product with the (n, 2) matrix [1, y], which BLAS runs as a slow gemm)
    sx, xy = X.sum(axis=0), X.T @ y
    off = np.zeros(0, dtype=np.intp)
    if shift.any():
        G = blas.dsyr2(-1.0, shift, sx - 0.5 * n * shift, a=G, lower=0, overwrite_a=True)
        sx -= n * shift
        xy -= shift * float(y.sum())
        off = np.flatnonzero(np.diagonal(G) < n * shift * shift)  # |m_j| > σ_j
        if 8 * off.size > p:
            return None
    _symmetrise(G)
    if off.size:
        B = X[:, off] - shift[off]
        C = X.T @ B - np.outer(shift, B.sum(axis=0))
        C[off] = B.T @ B
        G[:, off] = C
        G[off, :] = C.T
        sx[off] = B.sum(axis=0)
        xy[off] = B.T @ y
    return G, xy, sx, float(y @ y), float(y.sum()), float(n)


def _symmetrise(G, bs=256):
    """Copy the upper triangle of square ``G`` onto its lower one, in place (blocks)."""
    p = G.shape[0]
    for j in range(0, p, bs):
        k = min(j + bs, p)
        D = G[j:k, j:k]
        D[...] = np.triu(D) + np.triu(D, 1).T
        if k < p:
            G[k:, j:k] = G[j:k, k:].T


def stats_variance(stats, design=None, rows=False):
    """Weighted variance of each column over the rows ``stats`` (:meth:`Design.gram_stats`,
    about any shift ``m``) describe: ``diag(G)/S - (sx/S)²``.

    That difference cancels about ``log10(mean²/var)`` digits when the shift is far from a
    column's mean — always the case for an offset column without intercept, whose
    statistics are about 0 (a column of mean 1e6 and spread 1 kept 4 digits: the
    standardised penalty then belonged to another problem than the one stated). Columns
    losing more than 6 digits are summed again about their own mean from ``design``'s
    ``rows`` (None: all its rows; False, the default: the rows are unknown, no recompute).
    """
    S = stats["S"]
    d = stats["sx"] / S
    raw = np.diag(stats["G"]) / S
    var = raw - d * d
    if design is None or rows is False:
        return np.maximum(var, 0)
    bad = np.flatnonzero(var <= 1e-6 * raw)
    if bad.size:
        X = design.X[:, bad]
        s = design.sw64
        if rows is not None:
            X = X[rows]
            s = None if s is None else s[rows]
        mean = weighted_means(X, np.zeros(X.shape[0]), s, True)[0]
        var[bad] = weighted_column_std(X, mean, s) ** 2
    return np.maximum(var, 0)


def centred_gram(stats, fit_intercept):
    """``(Q, q, yy, N, dx)`` of the centred problem from :meth:`Design.gram_stats` output:
    ``Q = Xcᵀ S Xc``, ``q = Xcᵀ S yc`` and ``yy = ||yc||²_S`` (float64), with the rank-one
    correction when the stats' shift is not the rows' own weighted mean (a CV fold)."""
    S = stats["S"]
    if not fit_intercept:
        return stats["G"], stats["xy"], stats["yy"], S, np.zeros_like(stats["sx"])
    dx = stats["sx"] / S
    dy = stats["sy"] / S
    # Q = G - S·dx dxᵀ formed in one work array of G's layout (Fortran from the moments:
    # the solvers then keep it without another p x p copy); the same values as the plain
    # expression (each entry rounded in the same order), which allocated three
    G = stats["G"]
    Q = np.empty_like(G, dtype=np.float64)
    np.multiply(dx[:, None], dx[None, :], out=Q)
    Q *= S
    np.subtract(G, Q, out=Q)
    q = stats["xy"] - dx * stats["sy"]
    yy = max(stats["yy"] - S * dy * dy, 0.0)
    return Q, q, yy, S, dx


class ReweightedDesign(Design):
    """A :class:`Design` on the data of ``base`` whose weights and target change in place
    (:meth:`reweight`): the weighted least-squares model of each proximal-Newton step reuses
    one Design (and one solver) instead of rebuilding the means, standard deviations and
    layout from scratch.

    The weighted second moments are one-pass sums about a fixed shift (``base``'s dense
    means, 0 for sparse X): for dense X one compiled read of each column gives them with
    the column sums (``col_moments_dense``), for sparse X one product with the cached
    squared entries. Not a two-pass sum, so :meth:`reweight` refuses (returns
    False) whenever that could lose precision: some column's weighted mean is far from its
    spread (an offset column the kernels would need explicitly centred) or far from the
    cache's shift. The caller then builds a fresh :class:`Design` for that step. ``base``
    must have no offset columns (:meth:`usable`).
    """

    #: largest ``|x̄_v - m0|² / var_v`` trusted from the one-pass moments (6 digits lost)
    _SHIFT_MAX = 1e6

    def __init__(self, base):
        self.base = base
        self.X, self.dtype = base.X, base.dtype
        self.n, self.p, self.sparse = base.n, base.p, base.sparse
        self.fit_intercept = base.fit_intercept
        self._Xs64 = self._Xk64 = None
        self._shift = base.x_mean if (base.fit_intercept and not base.sparse) else np.zeros(
            base.p)
        self._sq = None
        self._const = base.constant  # constant under the user's weights: under any others
        # (the column statistics change with the weights: none here)
        self._cols, self._cols_lazy, self.x_top = None, False, base.x_top

    @staticmethod
    def usable(base):
        """Whether ``base`` keeps ``X`` as the kernels' layout (no offset columns)."""
        return base.Xk is base.X

    def _sparse_moments(self, s):
        """``(Σ_i s_i x_ij, Σ_i s_i x_ij²)`` in float64 for sparse X (shift 0), the squares
        of the stored entries cached."""
        X64 = self._sparse64()
        if self._sq is None:
            self._sq = X64.multiply(X64).tocsc()
        return np.asarray(X64.T @ s).ravel(), np.asarray(self._sq.T @ s).ravel()

    def reweight(self, y, sw):
        """Set the target ``y`` and the (positive) weights ``sw`` (float64 arrays, owned by
        the Design afterwards). Returns False, leaving the Design unusable, when the
        one-pass moments cannot be trusted (see the class docstring)."""
        self.sw64, self.sw = sw, (sw if self.dtype == np.float64 else sw.astype(self.dtype))
        self.N = N = float(sw.sum())
        self.y = y
        if self.sparse:
            sums, sq = self._sparse_moments(sw)
        else:  # compiled: both from one read of each (Fortran) column
            sums, sq = np.empty(self.p), np.empty(self.p)
            call_kernel(_moments.col_moments_dense, self.X, sw, self._shift, sums, sq)
        if self.fit_intercept:
            self.x_mean = sums / N
            self.y_mean = float(sw @ y) / N
        else:
            self.x_mean, self.y_mean = np.zeros(self.p), 0.0
        # the standard deviation about the weighted mean (also without intercept)
        mean = sums / N
        d = mean - self._shift
        var = sq / N - d * d
        var[self._const] = 0.0
        std = np.sqrt(np.maximum(var, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            far = (d * d > self._SHIFT_MAX * var) & ~self._const
            off = (np.abs(mean) > KAPPA[self.dtype] * std) & ~self._const
        if far.any() or (self.fit_intercept and off.any()):
            return False
        self._std = (std, self._const.copy())
        yc = y - self.y_mean
        self.yc64 = yc
        self.yc = yc if self.dtype == np.float64 else yc.astype(self.dtype)
        self.null_deviance = float(self._wdot(yc, yc)) / (2 * N)
        self._layout = (self.X, self.x_mean)
        return True
