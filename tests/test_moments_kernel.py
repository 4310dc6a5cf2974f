"""The fused per-fold moments kernel of the dask route (``_kernels/_moments.pyx``) against
moments computed here in NumPy (float64, row by row selection), without dask."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_normpen import _dask
from sklearn_normpen._kernels._moments import fold_moments_dense, fold_moments_dense_f
from sklearn_normpen._validation import call_kernel


def _reference(X, Y, s, fold, nk, shift, yshift):
    """Σ_{i in fold k} s_i z_i z_iᵀ, z_i = [x_i - m, y_i - c, 1], in float64 NumPy."""
    X = X.astype(np.float64)
    Y = Y.astype(np.float64).reshape(X.shape[0], -1)
    Z = np.hstack([X - shift, Y - yshift, np.ones((X.shape[0], 1))])
    s = np.ones(X.shape[0]) if s is None else s
    return np.stack([(Z[fold == k] * s[fold == k, None]).T @ Z[fold == k]
                     for k in range(nk)])


def _data(m, p, T, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, p))
    X[:, 1] += 2000.0  # an offset column: the shift keeps its digits
    Y = X[:, :3] @ np.array([1.0, -0.5, 2.0])[:, None] + rng.standard_normal((m, T)) + 5.0
    return X.astype(dtype), Y.astype(dtype), rng


@pytest.mark.parametrize("m", [1, 255, 256, 257, 3001])   # around the kernel's row buffer
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("T", [1, 3])
def test_kernel_equals_numpy_per_fold(m, weighted, T):
    X, Y, rng = _data(m, 7, T, seed=m + T)
    nk = 5
    fold = rng.integers(0, nk, m).astype(np.intc)
    s = rng.uniform(0.0, 3.0, m) if weighted else None
    shift, yshift = X[:10].mean(axis=0), Y[:10].mean(axis=0)
    out = np.zeros((nk, 7 + T + 1, 7 + T + 1))
    status = call_kernel(fold_moments_dense, X, Y, np.empty(0) if s is None else s, fold,
                         shift, yshift, out)
    assert status == 0
    ref = _reference(X, Y, s, fold, nk, shift, yshift)
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert_array_equal(out, np.swapaxes(out, 1, 2))  # exactly symmetric


def test_float32_input_is_accumulated_in_float64():
    X, Y, rng = _data(20000, 4, 1, seed=3, dtype=np.float32)
    fold = rng.integers(0, 3, X.shape[0]).astype(np.intc)
    shift, yshift = np.zeros(4), np.zeros(1)  # no shift: the 2000 offset dominates the sums
    out = np.zeros((3, 6, 6))
    assert call_kernel(fold_moments_dense, X, Y, np.empty(0), fold, shift, yshift, out) == 0
    ref = _reference(X, Y, None, fold, 3, shift, yshift)
    # float32 sums of ~7000 terms of 4e6 would be off by ~1e-4 relative
    assert_allclose(out, ref, rtol=1e-12)
    f32 = np.stack([(X[fold == k].T @ X[fold == k]) for k in range(3)])  # float32 BLAS
    assert np.max(np.abs(f32 - ref[:, :4, :4]) / np.abs(ref[:, :4, :4])) > 1e-8


def test_empty_fold_in_a_chunk_and_accumulation():
    X, Y, rng = _data(600, 5, 1, seed=5)
    fold = rng.choice([0, 1, 3], X.shape[0]).astype(np.intc)  # fold 2 absent from the chunk
    shift, yshift = X.mean(axis=0), Y.mean(axis=0)
    out = np.zeros((4, 7, 7))
    call_kernel(fold_moments_dense, X, Y, np.empty(0), fold, shift, yshift, out)
    assert_array_equal(out[2], 0.0)
    # a second chunk adds to out (the tree reduction of the dask route adds the same way)
    X2, Y2, _ = _data(300, 5, 1, seed=6)
    fold2 = np.full(300, 2, dtype=np.intc)
    call_kernel(fold_moments_dense, X2, Y2, np.empty(0), fold2, shift, yshift, out)
    ref = (_reference(X, Y, None, fold, 4, shift, yshift)
           + _reference(X2, Y2, None, fold2, 4, shift, yshift))
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_kernel_refuses_bad_folds_and_sizes():
    X, Y, _ = _data(50, 3, 1, seed=7)
    out = np.zeros((2, 5, 5))
    bad = np.zeros(50, dtype=np.intc)
    bad[30] = 2
    assert fold_moments_dense(X, Y, np.empty(0), bad, np.zeros(3), np.zeros(1), out) == -1
    bad[30] = -1
    assert fold_moments_dense(X, Y, np.empty(0), bad, np.zeros(3), np.zeros(1), out) == -1
    assert fold_moments_dense(X, Y, np.empty(0), np.zeros(50, np.intc), np.zeros(3),
                              np.zeros(1), np.zeros((2, 6, 6))) == -2
    with pytest.raises(ValueError, match="fold_moments_dense: argument fold has dtype"):
        call_kernel(fold_moments_dense, X, Y, np.empty(0), np.zeros(50, np.int64),
                    np.zeros(3), np.zeros(1), out)
    with pytest.raises(ValueError, match="argument Y has dtype float32"):
        call_kernel(fold_moments_dense, X, Y.astype(np.float32), np.empty(0),
                    np.zeros(50, np.intc), np.zeros(3), np.zeros(1), out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_moments_labels_weights_and_layout(dtype):
    """The dask task: arbitrary fold values, rows labelled -1 (and only those) in the last
    slot, weights in X's dtype, a Fortran-ordered chunk."""
    X, Y, rng = _data(700, 6, 1, seed=11, dtype=dtype)
    values = np.array([3, 7, 9])
    lab = rng.choice([3, 7, 9, -1], X.shape[0])
    s = rng.uniform(0.1, 2.0, X.shape[0])
    shift, c = X[:50].astype(np.float64).mean(axis=0), float(Y[:50].mean())
    out = _dask._block_moments(np.asfortranarray(X), Y[:, 0], s, lab, shift, c, values)
    idx = np.searchsorted(values, lab)
    idx[lab == -1] = 3
    ref = _reference(X, Y, s.astype(dtype).astype(np.float64), idx, 4, shift, c)
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # no labels: everything in the one slot
    out = _dask._block_moments(X, Y[:, 0], None, None, shift, c, np.array([]))
    assert_allclose(out[0], _reference(X, Y, None, np.zeros(700, int), 1, shift, c)[0],
                    rtol=1e-12)
    with pytest.raises(ValueError, match="fold label"):
        _dask._block_moments(X, Y[:, 0], None, np.full(700, 5), shift, c, values)


@pytest.mark.parametrize("where", ["X", "y", "zero-weight X"])
def test_block_moments_non_finite(where):
    X, Y, _ = _data(300, 4, 1, seed=13)
    s = np.ones(300)
    if where == "y":
        Y[17, 0] = np.nan
    else:
        X[299, 2] = np.inf
        if where == "zero-weight X":
            s[299] = 0.0
    with pytest.raises(ValueError, match="NaN or infinity"):
        _dask._block_moments(X, Y[:, 0], s, np.arange(300) % 3, np.zeros(4), 0.0,
                             np.arange(3))


# -- the proximal-Newton step's column moments and the K-column gradient ----------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 2, 7, 1000])  # odd and even: the two chains of sums
def test_col_moments_equal_numpy(dtype, n):
    from sklearn_normpen._kernels._moments import col_moments_dense
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 6))
    X[:, 2] += 1e4  # an offset column: the shift keeps the squares' digits
    X = np.asfortranarray(X.astype(dtype))
    s = rng.uniform(0.01, 0.25, n)
    shift = X.astype(np.float64).mean(axis=0) + 0.1
    sums, sq = np.empty(6), np.empty(6)
    call_kernel(col_moments_dense, X, s, shift, sums, sq)
    X64 = X.astype(np.float64)
    assert_allclose(sums, s @ X64, rtol=1e-12, atol=1e-12 * (np.abs(X64).T @ s).max())
    assert_allclose(sq, s @ (X64 - shift) ** 2, rtol=1e-11)


def test_col_moments_refuse_a_c_ordered_x():
    from sklearn_normpen._kernels._moments import col_moments_dense
    X = np.ones((5, 3))
    with pytest.raises(ValueError, match="Fortran"):
        call_kernel(col_moments_dense, X, np.ones(5), np.zeros(3), np.empty(3), np.empty(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("K", [1, 2, 3])
def test_gradient_columns_equal_numpy(dtype, weighted, K):
    from sklearn_normpen._kernels._bcd_multitask import gradient_mt_dense
    rng = np.random.default_rng(K)
    n, p = 301, 9
    X = np.asfortranarray(rng.standard_normal((n, p)).astype(dtype))
    R = np.asfortranarray(rng.standard_normal((n, K)))
    s = rng.uniform(0.1, 3.0, n) if weighted else np.empty(0)
    xm = rng.standard_normal(p)
    G = np.empty((p, K))
    call_kernel(gradient_mt_dense, X, s, xm, R, G)
    S = s if weighted else np.ones(n)
    ref = X.astype(np.float64).T @ (S[:, None] * R) - np.outer(xm, S @ R)
    assert_allclose(G, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # the rows of a column list only (a bounded certificate's), the others untouched
    from sklearn_normpen._kernels._bcd_multitask import gradient_mt_dense_cols
    cols = np.array([7, 0, 3], dtype=np.intc)
    Gc = np.full((p, K), -5.0)
    assert call_kernel(gradient_mt_dense_cols, X, s, xm, R, cols, Gc) == 0
    assert_allclose(Gc[cols], ref[cols], rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    rest = np.setdiff1d(np.arange(p), cols)
    assert np.all(Gc[rest] == -5.0)
    bad = np.array([1, p], dtype=np.intc)
    assert gradient_mt_dense_cols(X, s, xm, R, bad, Gc) == -1
    assert np.all(Gc[1] == -5.0)  # nothing written


# --- the Fortran-ordered variant of the in-memory CV route --------------------------------

@pytest.mark.parametrize("m", [1, 31, 32, 33, 224, 257, 3001])  # around the tile and buffer
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fortran_kernel_equals_numpy_per_fold(m, weighted, dtype):
    X, Y, rng = _data(m, 7, 2, seed=m, dtype=dtype)
    X = np.asfortranarray(X)
    Y = np.asfortranarray(Y.astype(np.float64))
    nk = 4
    fold = rng.integers(-1, nk, m).astype(np.intc)  # -1: a row no fold takes
    s = rng.uniform(0.0, 3.0, m) if weighted else None
    shift, yshift = X[:10].astype(np.float64).mean(axis=0), Y[:10].mean(axis=0)
    outG, outB = np.zeros((nk, 7, 7)), np.zeros((nk, 3, 10))
    status = call_kernel(fold_moments_dense_f, X, Y, np.empty(0) if s is None else s, fold,
                         shift, yshift, outG, outB)
    assert status == 0
    ref = _reference(X, Y, s, fold, nk, shift, yshift)
    atol = 1e-12 * np.abs(ref).max()
    assert_allclose(outG, ref[:, :7, :7], rtol=1e-12, atol=atol)
    assert_allclose(outB, ref[:, 7:, :], rtol=1e-12, atol=atol)
    assert_array_equal(outG, np.swapaxes(outG, 1, 2))  # exactly symmetric
    # the C-ordered kernel (the dask route) gives the same sums for the rows it is given
    keep = fold >= 0
    out_c = np.zeros((nk, 10, 10))
    call_kernel(fold_moments_dense, np.ascontiguousarray(X[keep]),
                np.ascontiguousarray(Y[keep].astype(dtype)), np.empty(0) if s is None
                else s[keep], fold[keep], shift, yshift, out_c)
    if dtype == np.float64:
        assert_allclose(outG, out_c[:, :7, :7], rtol=1e-12, atol=atol)
        assert_allclose(outB, out_c[:, 7:, :], rtol=1e-12, atol=atol)


def test_fortran_kernel_refuses_bad_folds_sizes_and_layouts():
    X, Y, _ = _data(50, 3, 1, seed=7)
    X, Y = np.asfortranarray(X), np.asfortranarray(Y)
    G, B = np.zeros((2, 3, 3)), np.zeros((2, 2, 5))
    bad = np.zeros(50, dtype=np.intc)
    bad[30] = 2
    assert fold_moments_dense_f(X, Y, np.empty(0), bad, np.zeros(3), np.zeros(1), G, B) == -1
    zeros = np.zeros(50, np.intc)
    assert fold_moments_dense_f(X, Y, np.empty(0), zeros, np.zeros(3), np.zeros(1), G,
                                np.zeros((2, 2, 6))) == -2
    assert fold_moments_dense_f(X, Y, np.empty(0), zeros, np.zeros(3), np.zeros(1),
                                np.zeros((2, 4, 4)), B) == -2
    with pytest.raises(ValueError, match="fold_moments_dense_f: argument X must be Fortran"):
        call_kernel(fold_moments_dense_f, np.ascontiguousarray(X), Y, np.empty(0),
                    zeros, np.zeros(3), np.zeros(1), G, B)
    with pytest.raises(ValueError, match="argument Y has dtype float32"):
        call_kernel(fold_moments_dense_f, X, Y.astype(np.float32), np.empty(0),
                    zeros, np.zeros(3), np.zeros(1), G, B)


# -- a design's column statistics: dense and CSC kernels -------------------------------------

def _stats_data(dtype, weighted, seed=0):
    """Columns: plain sparse, offset (1e4 + noise, partly stored), constant non-zero (every
    row stored), all zero (nothing stored), one entry; weights with zeros."""
    rng = np.random.default_rng(seed)
    n = 57
    X = rng.standard_normal((n, 5)) * (rng.uniform(size=(n, 5)) < 0.4)
    X[:, 1] = np.where(rng.uniform(size=n) < 0.7, 1e4 + 1e-2 * rng.standard_normal(n), 0.0)
    X[:, 2] = 3.25
    X[:, 3] = 0.0
    X[:, 4] = 0.0
    X[7, 4] = -2.5
    X = X.astype(dtype)
    s = rng.uniform(0, 2, n) * (rng.uniform(size=n) > 0.2) if weighted else None
    return X, s


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_column_stats_equal_numpy(sparse, dtype, weighted):
    import scipy.sparse as sp
    from sklearn_normpen._design import _column_stats_of
    X, s = _stats_data(dtype, weighted)
    Xin = sp.csc_matrix(X) if sparse else np.asfortranarray(X)
    mean, css, ss, top = _column_stats_of(Xin, s)
    X64 = X.astype(np.float64)
    w = np.ones(X.shape[0]) if s is None else s
    m = w @ X64 / w.sum()
    assert_allclose(mean, m, rtol=1e-13, atol=0)
    assert_allclose(css, w @ (X64 - m) ** 2, rtol=1e-9, atol=1e-12)
    assert_allclose(ss, w @ X64 ** 2, rtol=1e-13)
    assert_array_equal(top, np.abs(X64).max(axis=0))
    # a constant column has no spread at all (not the rounding of m² times a weight
    # difference), and an empty one neither
    assert css[2] == 0 and css[3] == 0 and mean[3] == 0


def test_sparse_column_stats_offset_column_to_the_last_digits():
    """The offset column's spread (1e-2 against a mean near 7e3, implicit zeros among its
    rows) against exact rational arithmetic: the two-pass sums keep its digits."""
    from fractions import Fraction
    import scipy.sparse as sp
    from sklearn_normpen._design import _column_stats_of
    X, s = _stats_data(np.float64, True, seed=3)
    mean, css, _, _ = _column_stats_of(sp.csc_matrix(X), s)
    for j in (0, 1, 4):
        S = sum(Fraction(v) for v in s)
        M = sum(Fraction(v) * Fraction(x) for v, x in zip(s, X[:, j])) / S
        C = sum(Fraction(v) * (Fraction(x) - M) ** 2 for v, x in zip(s, X[:, j]))
        assert abs(mean[j] - float(M)) <= 1e-15 * abs(float(M))
        assert abs(css[j] - float(C)) <= 1e-13 * float(C)


def test_sparse_design_statistics_equal_the_dense_design():
    import scipy.sparse as sp
    from sklearn_normpen._design import Design
    X, s = _stats_data(np.float64, True, seed=5)
    y = np.arange(X.shape[0], dtype=np.float64)
    for fit_intercept in (False, True):
        dense = Design(np.asfortranarray(X), y, s, fit_intercept)
        sparse = Design(sp.csc_matrix(X), y, s, fit_intercept)
        assert_allclose(sparse.x_std, dense.x_std, rtol=1e-12)
        assert_array_equal(sparse.constant, dense.constant)
        assert_allclose(sparse.col_sumsq(), dense.col_sumsq(), rtol=1e-12)
        assert_allclose(sparse.x_mean, dense.x_mean, rtol=1e-14)
        assert sparse.x_top == dense.x_top


def test_column_stats_sparse_refuses_bad_arguments():
    import scipy.sparse as sp
    from sklearn_normpen._kernels._moments import column_stats_sparse
    X = sp.csc_matrix(np.eye(4))
    out = [np.empty(4) for _ in range(4)]
    with pytest.raises(ValueError, match="sw"):
        call_kernel(column_stats_sparse, X.data, X.indices, X.indptr, 4, np.ones(3), *out)
    with pytest.raises(ValueError, match="indptr"):
        call_kernel(column_stats_sparse, X.data, X.indices, X.indptr[:-1], 4, np.zeros(0),
                    *out)
