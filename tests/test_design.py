"""The Design: one place for weights, centring, standardisation and Gram statistics,
checked against direct float64 NumPy computations."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_normpen._design import Design, centred_gram, constant_columns


def _data(n=60, p=7, seed=0, offset=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.6)
    if offset is not None:
        X[:, 1] += offset
    y = X[:, 0] - 2 * X[:, 2] + rng.standard_normal(n)
    sw = rng.random(n) + 0.2
    return np.asfortranarray(X.astype(dtype)), y.astype(dtype), sw.astype(dtype)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_residual_gradient_and_gram_match_numpy(sparse, weighted, fit_intercept):
    X, y, sw = _data()
    sw = sw if weighted else None
    d = Design(sp.csc_matrix(X) if sparse else X, y, sw, fit_intercept)
    s = np.ones(len(y)) if sw is None else sw
    m = (s @ X / s.sum()) if fit_intercept else np.zeros(X.shape[1])
    ym = (s @ y / s.sum()) if fit_intercept else 0.0
    Xc, yc = X - m, y - ym
    w = np.array([1.5, 0, -0.3, 0, 0, 2.0, 0])
    r = d.residual64(w)
    assert_allclose(r, yc - Xc @ w, atol=1e-12)
    assert_allclose(d.gradient64(r), Xc.T @ (s * r), atol=1e-10)
    assert d.N == pytest.approx(s.sum())
    assert d.null_deviance == pytest.approx((s * yc) @ yc / (2 * s.sum()))
    Q, q, yy, N, _ = centred_gram(d.gram_stats(), fit_intercept)
    assert_allclose(Q, Xc.T @ (s[:, None] * Xc), atol=1e-10)
    assert_allclose(q, Xc.T @ (s * yc), atol=1e-10)
    assert yy == pytest.approx((s * yc) @ yc)
    R = np.column_stack([r, yc, np.arange(len(y), dtype=float)])  # a residual matrix
    assert_allclose(d.gradient64(R), Xc.T @ (s[:, None] * R), atol=1e-9)
    # the unpenalised span: a = Ŵᵀyc and M = XcᵀŴ with ŴᵀS⁻¹Ŵ·N = I on span(Xc[:, U])
    U = np.array([0, 4])
    M, a = d.unpenalised_span64(U)
    B = np.sqrt(s)[:, None] * Xc[:, U]
    P = B @ np.linalg.pinv(B)  # the projection onto span(S^½ Xc_U)
    z = a - M.T @ w  # the residual's coordinates
    assert z @ z == pytest.approx((np.sqrt(s) * r) @ P @ (np.sqrt(s) * r) / s.sum(),
                                  rel=1e-10)
    assert_allclose(M @ z, Xc.T @ (np.sqrt(s) * (P @ (np.sqrt(s) * r))) / s.sum(),
                    atol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_fold_statistics_are_total_minus_held_out(sparse):
    """A training fold's centred Gram = (full - held-out) statistics with the rank-one
    correction, equal to the Gram of the training rows centred about their own means."""
    X, y, sw = _data(n=50)
    d = Design(sp.csc_matrix(X) if sparse else X, y, sw, True)
    test = np.arange(10, 25)
    train = np.setdiff1d(np.arange(50), test)
    full, held = d.gram_stats(), d.gram_stats(rows=test)
    Q, q, yy, N, dx = centred_gram({k: full[k] - held[k] for k in full}, True)
    s, Xt, yt = sw[train], X[train], y[train]
    m, ym = s @ Xt / s.sum(), s @ yt / s.sum()
    assert_allclose(Q, (Xt - m).T @ (s[:, None] * (Xt - m)), atol=1e-9)
    assert_allclose(q, (Xt - m).T @ (s * (yt - ym)), atol=1e-9)
    assert yy == pytest.approx(s @ (yt - ym) ** 2)
    assert_allclose(d.x_mean + dx, m, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_dense_gram_stats_over_several_row_blocks(monkeypatch, dtype, order, weighted,
                                                  fit_intercept):
    """The dense moments come from one syrk per row block of ``sqrt(s)[X - m, y, 1]``:
    every statistic, for all rows and for a row subset gathered block by block, equals a
    direct float64 product, with blocks small enough that there are several."""
    import sklearn_normpen._design as design_module
    monkeypatch.setattr(design_module, "_BLOCK_BYTES", 9 * 8 * 13)  # 13 rows per block
    X, y, sw = _data(n=80, p=7, offset=30.0, dtype=dtype)
    X = np.asarray(X, order=order)
    d = Design(X, y, sw if weighted else None, fit_intercept)
    for rows in (None, np.array([3, 4, 9, 17, 30, 31, 32, 50, 51, 52, 53, 60, 61, 62, 79])):
        st = d.gram_stats(rows=rows)
        sel = slice(None) if rows is None else rows
        Xr = X[sel].astype(np.float64) - d.x_mean
        yr = d.yc64[sel]
        s = d.sw64[sel] if weighted else np.ones(Xr.shape[0])
        assert_allclose(st["G"], Xr.T @ (s[:, None] * Xr), rtol=1e-12, atol=1e-9)
        assert_array_equal(st["G"], st["G"].T)
        assert_allclose(st["xy"], Xr.T @ (s * yr), rtol=1e-12, atol=1e-9)
        assert_allclose(st["sx"], s @ Xr, rtol=1e-12, atol=1e-9)
        assert st["yy"] == pytest.approx(s @ yr ** 2, rel=1e-12)
        assert st["sy"] == pytest.approx(s @ yr, rel=1e-12, abs=1e-9)
        assert st["S"] == pytest.approx(s.sum(), rel=1e-14)


def test_constant_rule_and_offset_columns():
    X, y, _ = _data(offset=1e6, dtype=np.float32)
    X[:, 3] = 7.0  # exactly constant
    d = Design(X, y, None, True)
    # a float32 column at 1e6 ± 1 is not constant (it varies by many float32 ulps) ...
    assert not d.constant[1] and d.constant[3]
    # ... but its mean is far above its spread: the dense design centres a copy
    assert d.Xk is not X and not d.xk_mean.any()
    Xc64 = X.astype(np.float64) - X.astype(np.float64).mean(0)
    assert_allclose(d.Xk, Xc64, atol=1e-6 * np.abs(Xc64).max())
    # float64 data with a modest offset keeps the user's array (implicit centring)
    X64, y64, _ = _data(offset=50.0)
    assert Design(X64, y64, None, True).Xk is X64
    assert_allclose(constant_columns([0.0, 1e-20, 1.0], [0.0, 1.0, 1.0]), [True, True, False])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_offset_columns_are_centred_in_the_layout(dtype):
    """A sparse column with |mean| >> spread is stored centred (float64, then cast) in the
    kernels' layout, the others stay as given; the float64 residual and gradient read that
    layout for float64 data and the user's own columns for float32 data (the cast centred
    copy is another data set at 6e-8 of the spread); the user's matrix is untouched."""
    X, y, _ = _data(offset=1e5, dtype=dtype)
    X[:, 2][np.abs(X[:, 2]) < 0.7] = 0.0
    Xs = sp.csc_matrix(X)
    data0 = Xs.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = Design(Xs, y, None, True)
        Xk = d.Xk
    assert_array_equal(Xs.data, data0)
    X64 = X.astype(np.float64)
    Xc = X64 - X64.mean(0)
    assert sp.issparse(Xk) and Xk.dtype == dtype and Xk.has_sorted_indices
    assert_array_equal(Xk[:, 1].toarray().ravel(), (X64[:, 1] - d.x_mean[1]).astype(dtype))
    rest = [0, 2, 3, 4, 5, 6]
    assert_array_equal(Xk[:, rest].toarray(), X[:, rest])
    assert Xk[:, rest].nnz == Xs[:, rest].nnz  # no densified or dropped entries
    assert d.xk_mean[1] == 0
    assert_allclose(d.xk_mean[rest], X64.mean(0)[rest], rtol=1e-12)
    w = np.array([0.0, 0.7, 0.2, 0, 0, 0, 0])
    Xkc = Xk.toarray().astype(np.float64) - d.xk_mean  # the problem the kernels solve
    exact = Xkc if dtype == np.float64 else Xc
    r = d.residual64(w)
    assert_allclose(r, (y - y.astype(np.float64).mean()) - exact @ w, rtol=1e-12, atol=1e-9)
    assert_allclose(d.gradient64(r), exact.T @ r, rtol=1e-9, atol=1e-8)
    if dtype == np.float32:  # (the layout's rounding is visible at this precision)
        assert np.abs(Xkc[:, 1] - Xc[:, 1]).max() > 1e-9
    # the layout is a cast of the centred column: the certificate's problem is the user's
    # up to one rounding of the centred values (and of the 1e5 mean: ~1e-11)
    assert_allclose(Xkc[:, 1], Xc[:, 1], rtol=0, atol=4 * np.finfo(dtype).eps * 5 + 1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_gram_stats_of_offset_and_constant_columns(weighted):
    """Sparse Gram statistics shift a column whose mean is far above its spread explicitly
    (the shift applied afterwards would cancel ~(mean/std)² of the digits: a Gram-mode
    certificate then certified another problem), also for a CV fold's rows."""
    X, y, sw = _data(n=80, offset=1e8)
    X[:, 4] = 3e7  # constant
    sw = sw if weighted else None
    d = Design(sp.csc_matrix(X), y, sw, True)
    rows = np.arange(0, 80, 3)
    for r in (None, rows):
        st = d.gram_stats(rows=r)
        Xr = X if r is None else X[r]
        s = np.ones(len(Xr)) if sw is None else sw[r] if r is not None else sw
        B = Xr - d.x_mean  # float64 explicit shift: the reference
        yr = d.yc64 if r is None else d.yc64[r]
        scale = np.abs(B.T @ (s[:, None] * B)).max()
        assert_allclose(st["G"], B.T @ (s[:, None] * B), rtol=0, atol=1e-12 * scale)
        assert_allclose(st["sx"], s @ B, rtol=0, atol=1e-12 * np.abs(B).sum(0).max())
        assert_allclose(st["xy"], B.T @ (s * yr), rtol=0,
                        atol=1e-12 * np.abs(B).max() * np.abs(s * yr).sum())
    Q = centred_gram(d.gram_stats(), True)[0]
    assert_allclose(Q[4], 0.0, atol=1e-14 * np.abs(Q).max())  # (rank-one rounding)


def test_weighted_sparse_std_of_a_fully_stored_near_constant_column():
    """A column stored in full with values 5 and 5 + 1e-9: the implicit zeros' weight is 0
    exactly, not Σs minus the stored weights' sum in another order (~eps·Σs, times
    mean² gave a std of 7e-8 instead of 4e-10: a GLM's Newton Design then called it
    constant and the fit stalled at zero)."""
    rng = np.random.default_rng(0)
    n = 60
    X = rng.standard_normal((n, 3))
    X[:, 1] = 5.0
    X[:10, 1] = 5.0 + 1e-9
    for _ in range(10):  # (whether Σs rounds differently in the two orders is luck)
        sw = rng.uniform(0.5, 2.0, n)
        m = sw @ X / sw.sum()
        ref = np.sqrt(sw @ (X - m) ** 2 / sw.sum())  # two-pass float64
        d = Design(sp.csc_matrix(X), X[:, 0], sw, True)
        assert_allclose(d.x_std, ref, rtol=1e-6)
        assert not d.constant[1]


@pytest.mark.parametrize("scale", [1e-160, 1e155])
def test_extreme_scales_give_a_clear_error(scale):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"X has entries of magnitude .* rescale X"):
        Design(X * scale, y, None, True)
    with pytest.raises(ValueError, match=r"y \(centred\) has entries of magnitude"):
        Design(X, y * scale, None, True)
    X32, y32, _ = _data(dtype=np.float32)
    with pytest.raises(ValueError, match="float32"):
        Design(X32 * np.float32(1e14), y32, None, True)


@pytest.mark.parametrize("scale", [1e-160, 1e200])
def test_every_estimator_refuses_unrepresentable_scales(scale):
    from sklearn_normpen import (ElasticNetPathCV, GroupLassoRegressor, SpectralRidge,
                                 SpectralRidgeCV)
    X, y, _ = _data()
    for est in (ElasticNetPathCV(cv=3), GroupLassoRegressor(), SpectralRidge(solver="svd"),
                SpectralRidgeCV()):
        with pytest.raises(ValueError, match="rescale X"):
            est.fit(X * scale, y)


def test_take_rows_is_a_fortran_copy_of_the_rows():
    # the CV folds' row copy (blocked gather): the values of X[rows], Fortran-ordered,
    # for either layout, float32, index arrays or a mask, and a width not a multiple of
    # the block
    from sklearn_normpen._design import take_rows

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3001))
    rows = np.sort(rng.choice(300, 240, replace=False))
    mask = np.zeros(300, bool)
    mask[rows] = True
    for Xi in (np.asfortranarray(X), np.ascontiguousarray(X), X.astype(np.float32)):
        for r in (rows, mask, rows[::-1]):
            out = take_rows(Xi, r)
            assert out.flags.f_contiguous and out.dtype == Xi.dtype
            np.testing.assert_array_equal(out, Xi[r])
    before = X.copy()
    take_rows(X, rows)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("order", ["F", "C"])
def test_centred_gram_values_layout_and_inputs_untouched(order):
    """``Q = G - S·dx dxᵀ`` exactly (bit for bit the plain expression), in ``G``'s layout
    (Fortran from the moments: no later copy), the statistics left as they were."""
    rng = np.random.default_rng(4)
    p = 9
    A = rng.standard_normal((p, p)) * 1e3
    G = np.asarray(A @ A.T, order=order)
    stats = dict(G=G, sx=rng.standard_normal(p) * 50, xy=rng.standard_normal(p),
                 sy=3.0, yy=40.0, S=17.0)
    before = {k: np.copy(v) for k, v in stats.items()}
    Q, q, yy, N, dx = centred_gram(stats, True)
    S = stats["S"]
    np.testing.assert_array_equal(Q, G - S * np.outer(stats["sx"] / S, stats["sx"] / S))
    assert Q.flags.f_contiguous == (order == "F") and Q.flags.c_contiguous == (order == "C")
    assert Q is not G
    for k, v in before.items():
        np.testing.assert_array_equal(stats[k], v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["F", "C"])
def test_take_rows_equals_fancy_indexing(dtype, order):
    from sklearn_normpen._design import take_rows
    rng = np.random.default_rng(0)
    X = np.array(rng.standard_normal((37, 11)), dtype=dtype, order=order)
    X0 = X.copy()
    for rows in (np.array([5, 0, 36, 5, 12]), np.arange(37)[::-3], np.array([-1, -37, 2]),
                 rng.random(37) < 0.5, np.array([], dtype=np.intp), np.array([3], np.int32)):
        got = take_rows(X, rows)
        assert got.flags.f_contiguous and got.dtype == X.dtype
        np.testing.assert_array_equal(got, X[rows])
    np.testing.assert_array_equal(X, X0)
    for bad in (np.array([37]), np.array([0, -38])):
        with pytest.raises(IndexError):
            take_rows(X, bad)


@pytest.mark.parametrize("case", ["centred", "few offset", "many offset", "constant",
                                  "scaled", "no intercept"])
def test_dense_gram_stats_from_blas_on_x_match_explicit_shift(case):
    """Dense float64 Fortran X without weights: ``XᵀX`` by BLAS on X itself, shifted by a
    rank-2 update, columns far off their shift from explicit copies; the statistics agree
    with the explicitly shifted float64 products to rounding of the centred values, and G
    is exactly symmetric, whichever route the data take."""
    rng = np.random.default_rng(3)
    n, p = 300, 40
    X = rng.standard_normal((n, p)) * 10.0 ** rng.uniform(-2, 2, p)
    if case == "few offset":  # (under an eighth of the columns: explicit rows and columns)
        X[:, [3, 17]] += [1e7, -3e4]
    elif case == "many offset":  # (the copying route)
        X += 10.0 ** rng.uniform(1, 8, p)
    elif case == "constant":
        X[:, 5] = 2.5e6
        X[:, 6] = 0.0
    elif case == "scaled":
        X *= 1e-80
    X = np.asfortranarray(X)
    y = rng.standard_normal(n) * 3 + 1
    d = Design(X, y, None, case != "no intercept")
    st = d.gram_stats()
    B = X - d.x_mean
    yc = d.yc64
    G = B.T @ B
    unit = np.sqrt(np.outer(np.diag(G), np.diag(G))) + np.abs(G).max() * 1e-300
    assert np.all(np.abs(st["G"] - G) <= 1e-13 * unit + 1e-300)
    assert_array_equal(st["G"], st["G"].T)
    scale = np.sqrt(np.diag(G) * n)
    assert np.all(np.abs(st["sx"] - B.sum(0)) <= 1e-12 * scale + 1e-300)
    assert np.all(np.abs(st["xy"] - B.T @ yc) <= 1e-12 * scale * np.linalg.norm(yc)
                  + 1e-300)
    assert st["S"] == n and st["yy"] == pytest.approx(yc @ yc, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 301])
def test_dense_column_statistics_from_one_read_match_exact_sums(dtype, weighted, n):
    """A dense design's means, spreads, plain and centred norms and max |x| come from one
    compiled read of X (two passes per column): they match exactly rounded sums
    (``math.fsum``) of the float64 values, offset columns (mean 1e8 beside a spread of 1),
    constant, zero and tiny columns included; the input is not written to."""
    import math
    rng = np.random.default_rng(n)
    p = 7
    X = rng.standard_normal((n, p)) * [1, 1, 1e-3, 1e3, 1, 1, 1e-150 if dtype == np.float64
                                        else 1e-10]
    X[:, 1] += 1e8 if dtype == np.float64 else 1e4  # offset column (mean >> spread)
    X[:, 4] = 0.1  # constant, not exactly representable
    X[:, 5] = 0.0
    X = np.asfortranarray(X.astype(dtype))
    before = X.copy()
    y = rng.standard_normal(n).astype(dtype)
    sw = (rng.random(n) + 0.2) if weighted else None
    s = np.ones(n) if sw is None else sw
    for fit_intercept in (True, False):
        d = Design(X, y, sw, fit_intercept)
        Xd = X.astype(np.float64)
        tot = math.fsum(s)
        mean = np.array([math.fsum(s * Xd[:, j]) / tot for j in range(p)])
        css = np.array([math.fsum(s * (Xd[:, j] - mean[j]) ** 2) for j in range(p)])
        ss = np.array([math.fsum(s * Xd[:, j] ** 2) for j in range(p)])
        spread = np.sqrt(css / tot)
        # the mean to a few ulps of the column's magnitude, the spread relatively (plus
        # the reference's own rounding of a weighted mean); the textbook one-pass
        # E[x²] - m² misses the offset column's spread by O(1)
        ulp = np.finfo(float).eps * np.abs(mean)
        assert np.all(np.abs(d.x_std - spread) <= 1e-12 * spread + 4 * ulp + 1e-300)
        assert_array_equal(d.constant, constant_columns(spread, mean) if n > 1 else
                           [True] * p)
        if fit_intercept:
            assert np.all(np.abs(d.x_mean - mean) <= 8 * np.finfo(float).eps
                          * (np.abs(mean) + spread) + 1e-300)
            assert np.all(np.abs(np.sqrt(d.col_sumsq() / tot) - spread)
                          <= 1e-12 * spread + 4 * ulp + 1e-300)
        else:
            assert not d.x_mean.any()
            assert_allclose(d.col_sumsq(), ss, rtol=1e-13, atol=1e-300)
        # (known when the statistics are read eagerly: with an intercept or n < p)
        assert (d.x_top == np.abs(Xd).max() if fit_intercept or n < p else d.x_top is None)
    assert_array_equal(X, before)


def test_dense_column_statistics_keep_the_scale_check():
    """The scale check reads max |X| from the column statistics: still a clear error."""
    X, y, _ = _data()
    with pytest.raises(ValueError, match="X has entries of magnitude"):
        Design(np.asfortranarray(X * 1e150), y, None, True)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_scaled_columns64_and_layout_gradient64_match_numpy(sparse, fit_intercept):
    """The standardised fits' exact counterparts of their scaled float32 copy: the columns
    ``(X - 1 cᵀ) diag(v)`` (``c`` the layout's centring of offset columns) and the
    layout's gradient ``(X - 1 cᵀ)ᵀ S M``, on float32 data with an offset column (mean
    1e4), against float64 NumPy on the same float32 values."""
    from sklearn_normpen._design import scaled_columns64
    from sklearn_normpen._solvers.prox_newton import layout_gradient64
    X, y, sw = _data(offset=1e4, dtype=np.float32)
    X = np.asfortranarray(X)
    if sparse:  # (the offset column stored in full)
        X = sp.csc_matrix(X)
    d = Design(X, y, sw, fit_intercept)
    Xe = (X.toarray() if sparse else X).astype(np.float64)
    s = sw.astype(np.float64)
    m = s @ Xe / s.sum()
    # the layout's centring: the offset column at least (dense: every column), else none
    c = np.asarray(d.x_mean, np.float64) - np.asarray(d.xk_mean, np.float64)
    assert np.all((c == 0) | np.isclose(c, m, rtol=1e-12))
    assert (c[1] != 0) == fit_intercept
    v = np.random.default_rng(1).uniform(0.5, 2, Xe.shape[1])
    cols = np.array([4, 1, 2])
    B = scaled_columns64(d, cols, v)
    assert B.dtype == np.float64 and sp.issparse(B) == sparse
    B = B.toarray() if sparse else B
    assert_allclose(B, (Xe[:, cols] - c[cols]) * v[cols], rtol=1e-15, atol=1e-12)
    M = np.random.default_rng(2).standard_normal((Xe.shape[0], 3))
    G = layout_gradient64(d, M)
    ref = (Xe - c).T @ (s[:, None] * M)
    assert_allclose(G, ref, rtol=1e-12, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("top", [1e120, 0.9e100, 1e50, 1e-50, 1.1e-100, 0.9e-100, 1e-160])
def test_the_scale_check_on_the_gram_diagonal_decides_as_max_abs(top):
    """A covariance-mode path without intercept checks X's scale on the Gram's diagonal
    (scale_from_gram) instead of a max |X| pass: the same decision as max |X| against the
    safe range [1e-100, 1e100], near both ends too (max |X| = 0.9e100 or 1.1e-100: the
    diagonal alone cannot tell, max |X| decides), and on one entry far above the rest."""
    from sklearn_normpen import enet_path
    X, y, _ = _data()
    Xs = np.asfortranarray(X * (top / np.max(np.abs(X))))
    ok = 1e-100 <= np.max(np.abs(Xs)) <= 1e100  # (the reference decision)
    d = Design(Xs, y, None, False, scale_from_gram=True)  # (y's check only so far)
    if ok:
        d.gram_stats()
        assert np.all(np.isfinite(enet_path(Xs, y, l1_ratio=1.0, n_alphas=3)[1]))
    else:
        with pytest.raises(ValueError, match=r"X has entries of magnitude .* rescale X"):
            d.gram_stats()
        with pytest.raises(ValueError, match=r"X has entries of magnitude .* rescale X"):
            enet_path(Xs, y, l1_ratio=1.0, n_alphas=3)
    X1 = np.asfortranarray(X.copy())
    X1[3, 1] = 1e101
    with pytest.raises(ValueError, match=r"magnitude 1e\+101"):
        enet_path(X1, y, l1_ratio=1.0, n_alphas=3)
