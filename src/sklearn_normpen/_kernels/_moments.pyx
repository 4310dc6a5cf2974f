# Moments of a row chunk for every CV fold at once (the one pass of the dask route).
#
# For the chunk's rows z_i = √s_i [x_i - m, y_i - c, 1] (float64 whatever X's dtype; the
# common shift (m, c) keeps offset columns' digits) this accumulates, for each fold k,
# out[k] += Σ_{i in fold k} z_i z_iᵀ, i.e. ZₖᵀZₖ with XᵀSX, XᵀSy, Xᵀs, yᵀSy and Σs in its
# blocks. Rows are appended to a small per-fold float64 buffer (BLOCK rows, a row of z is
# a column of the column-major buffer) and each full buffer goes to dsyrk: BLAS-3 speed
# with one streaming read of the chunk, no sorted copy of it.
from cython cimport floating
from libc.math cimport fabs, sqrt
from libc.stdlib cimport calloc, free, malloc

from ._blas cimport _dgemm_nt_add, _dsyrk_upper, _gemv_t
from sklearn_normpen._kernels import dot_columns

# rows per dsyrk call: large enough for BLAS-3 efficiency, small enough that the K + 1
# buffers (BLOCK · d · 8 bytes each) stay in cache
cdef int BLOCK = 256


def fold_moments_dense(const floating[:, ::1] X, const floating[:, ::1] Y,
                       const double[::1] sw, const int[::1] fold,
                       const double[::1] shift, const double[::1] yshift,
                       double[:, :, ::1] out):
    """Add each fold's augmented moments of the chunk to ``out``.

    Parameters
    ----------
    X : (m, p) C-contiguous float32/float64, the chunk's rows
    Y : (m, T) C-contiguous, X's dtype, the targets
    sw : (m,) float64 non-negative weights, or length 0 (all ones)
    fold : (m,) int, each row's fold index in [0, nk)
    shift, yshift : (p,), (T,) float64, the common shift
    out : (nk, d, d) float64, d = p + T + 1, added to; on return each ``out[k]`` is
        symmetric (its C-order lower triangle is what dsyrk accumulated)

    Returns
    -------
    status : int
        0, or -1 when a fold index is outside [0, nk) (``out`` is then partial),
        -2 on inconsistent sizes, -3 when scratch memory cannot be allocated.
    """
    cdef Py_ssize_t m = X.shape[0], p = X.shape[1], T = Y.shape[1]
    cdef Py_ssize_t d = p + T + 1, nk = out.shape[0]
    cdef bint weighted = sw.shape[0] > 0
    cdef Py_ssize_t i, j, k, r
    cdef double rs
    cdef double* z
    cdef double* buf
    cdef double* C
    cdef int* cnt
    cdef int status = 0
    if (out.shape[1] != d or out.shape[2] != d or Y.shape[0] != m or fold.shape[0] != m
            or (weighted and sw.shape[0] != m) or shift.shape[0] != p
            or yshift.shape[0] != T):
        return -2
    if nk == 0 or m == 0:
        return 0
    with nogil:
        buf = <double*>malloc(nk * BLOCK * d * sizeof(double))
        cnt = <int*>calloc(nk, sizeof(int))
        if buf == NULL or cnt == NULL:
            status = -3
        else:
            for i in range(m):
                k = fold[i]
                if k < 0 or k >= nk:
                    status = -1
                    break
                z = buf + (k * BLOCK + cnt[k]) * d
                rs = sqrt(sw[i]) if weighted else 1.0
                for j in range(p):
                    z[j] = (<double>X[i, j] - shift[j]) * rs
                for j in range(T):
                    z[p + j] = (<double>Y[i, j] - yshift[j]) * rs
                z[d - 1] = rs
                cnt[k] += 1
                if cnt[k] == BLOCK:
                    _dsyrk_upper(<int>d, BLOCK, buf + k * BLOCK * d, <int>d, &out[k, 0, 0],
                                 <int>d)
                    cnt[k] = 0
            if status == 0:
                for k in range(nk):
                    if cnt[k] > 0:
                        _dsyrk_upper(<int>d, cnt[k], buf + k * BLOCK * d, <int>d,
                                     &out[k, 0, 0], <int>d)
                    # column-major upper = C-order lower: mirror it
                    C = &out[k, 0, 0]
                    for i in range(d):
                        for r in range(i + 1, d):
                            C[i * d + r] = C[r * d + i]
        free(buf)
        free(cnt)
    return status


def col_moments_dense(const floating[::1, :] X, const double[::1] sw,
                      const double[::1] shift, double[::1] sums, double[::1] sq):
    """``sums[j] = Σ_i s_i x_ij`` and ``sq[j] = Σ_i s_i (x_ij - shift_j)²`` in float64,
    from one read of each column (a proximal-Newton step's weighted means and spreads;
    the shift, near the columns' means, keeps the squares' digits)."""
    cdef int n = <int>X.shape[0], p = <int>X.shape[1]
    cdef int i, j
    cdef double a0, a1, b0, b1, v0, v1, m, tot = 0
    cdef const floating* x
    with nogil:
        for i in range(n):
            tot += sw[i]
        for j in range(p):
            x = &X[0, j]
            m = shift[j]
            a0 = a1 = b0 = b1 = 0
            for i in range(0, n - 1, 2):  # two chains of sums
                v0 = <double>x[i] - m
                v1 = <double>x[i + 1] - m
                a0 += sw[i] * v0
                a1 += sw[i + 1] * v1
                b0 += sw[i] * v0 * v0
                b1 += sw[i + 1] * v1 * v1
            if n % 2:
                v0 = <double>x[n - 1] - m
                a0 += sw[n - 1] * v0
                b0 += sw[n - 1] * v0 * v0
            sq[j] = b0 + b1
            sums[j] = (a0 + a1) + m * tot  # Σ s x = Σ s (x - m) + m Σ s


cdef inline double _weight_total(const double[::1] sw, Py_ssize_t n) noexcept nogil:
    """``Σ s`` of the weights ``sw`` (length 0: ``n`` unit weights)."""
    cdef double tot = 0
    cdef Py_ssize_t i
    if sw.shape[0] == 0:
        return <double>n
    for i in range(n):
        tot += sw[i]
    return tot


def column_stats_dense(const floating[::1, :] X, const double[::1] sw, double[::1] mean,
                       double[::1] css, double[::1] ss, double[::1] maxabs):
    """Per column of a dense Fortran ``X``, in float64 (weights ``sw``, length 0: ones):
    ``mean[j] = Σ s x_ij / Σ s``, ``css[j] = Σ s (x_ij - mean_j)²``, ``ss[j] = Σ s x_ij²``
    and ``maxabs[j] = max |x_ij|`` (over every row, weighted or not): the statistics a
    design needs (means, spreads, plain norms, the scale check) from one read of ``X``.

    The mean is the corrected two-pass one: a first mean ``m``, then ``d = Σ s (x - m)``
    and ``c = Σ s (x - m)²`` from the column again (in cache for columns of moderate
    length), ``mean = m + d / Σs``, ``css = c - d² / Σs``: an offset column (mean ≫
    spread) keeps its spread's digits, which ``Σ s x² - (Σ s x)² / Σ s`` would cancel.
    ``ss = c + 2 m d + m² Σs``: a sum of non-negative terms (``d`` is rounding-small).
    """
    cdef Py_ssize_t n = X.shape[0], p = X.shape[1], i, j, n4 = X.shape[0] - X.shape[0] % 4
    cdef bint weighted = sw.shape[0] > 0
    cdef double tot = 0, a0, a1, a2, a3, b0, b1, b2, b3, t0, t1, t2, t3
    cdef double v0, v1, v2, v3, m, d, c
    cdef const floating* x
    with nogil:
        tot = _weight_total(sw, n)
        for j in range(p):
            x = &X[0, j]
            # first pass: the sum and max |x| (four independent chains each)
            a0 = a1 = a2 = a3 = 0
            t0 = t1 = t2 = t3 = 0
            if weighted:
                for i in range(n):
                    v0 = x[i]
                    a0 += sw[i] * v0
                    v0 = fabs(v0)
                    t0 = v0 if v0 > t0 else t0
            else:
                for i in range(0, n4, 4):
                    v0 = x[i]
                    v1 = x[i + 1]
                    v2 = x[i + 2]
                    v3 = x[i + 3]
                    a0 += v0
                    a1 += v1
                    a2 += v2
                    a3 += v3
                    v0 = fabs(v0)
                    v1 = fabs(v1)
                    v2 = fabs(v2)
                    v3 = fabs(v3)
                    t0 = v0 if v0 > t0 else t0
                    t1 = v1 if v1 > t1 else t1
                    t2 = v2 if v2 > t2 else t2
                    t3 = v3 if v3 > t3 else t3
                for i in range(n4, n):
                    v0 = x[i]
                    a0 += v0
                    v0 = fabs(v0)
                    t0 = v0 if v0 > t0 else t0
            t0 = t1 if t1 > t0 else t0
            t2 = t3 if t3 > t2 else t2
            maxabs[j] = t2 if t2 > t0 else t0
            m = ((a0 + a1) + (a2 + a3)) / tot if tot > 0 else 0.0
            # second pass: deviations from m
            a0 = a1 = a2 = a3 = 0
            b0 = b1 = b2 = b3 = 0
            if weighted:
                for i in range(n):
                    v0 = <double>x[i] - m
                    a0 += sw[i] * v0
                    b0 += sw[i] * v0 * v0
            else:
                for i in range(0, n4, 4):
                    v0 = <double>x[i] - m
                    v1 = <double>x[i + 1] - m
                    v2 = <double>x[i + 2] - m
                    v3 = <double>x[i + 3] - m
                    a0 += v0
                    a1 += v1
                    a2 += v2
                    a3 += v3
                    b0 += v0 * v0
                    b1 += v1 * v1
                    b2 += v2 * v2
                    b3 += v3 * v3
                for i in range(n4, n):
                    v0 = <double>x[i] - m
                    a0 += v0
                    b0 += v0 * v0
            d = (a0 + a1) + (a2 + a3)
            c = (b0 + b1) + (b2 + b3)
            ss[j] = c + 2 * m * d + m * m * tot
            if tot > 0:
                c -= d * d / tot
                m += d / tot
            mean[j] = m
            css[j] = c if c > 0 else 0.0


def column_stats_sparse(const floating[::1] data, const int[::1] indices,
                        const int[::1] indptr, int n, const double[::1] sw,
                        double[::1] mean, double[::1] css, double[::1] ss,
                        double[::1] maxabs):
    """:func:`column_stats_dense` for a CSC ``X`` with ``n`` rows (``indices`` sorted or
    not; weights ``sw``, length 0: ones), from its stored entries: ``ss`` and ``maxabs``
    over them (the implicit zeros add nothing), the two-pass mean and ``css`` with the
    implicit zeros' deviations ``-m`` counted at their total weight ``Σs`` less the stored
    rows' (exactly 0 for a column stored in full, where that difference would be rounding
    that ``m²`` magnifies: a near-constant column's spread off by orders of magnitude)."""
    cdef Py_ssize_t p = indptr.shape[0] - 1, j, k
    cdef bint weighted = sw.shape[0] > 0
    cdef double tot = 0, a, b, t, v, s, m, d, c, zw
    with nogil:
        tot = _weight_total(sw, n)
        for j in range(p):
            a = b = t = zw = 0  # Σ s x, Σ s x², max |x|, the stored rows' weight
            for k in range(indptr[j], indptr[j + 1]):
                v = data[k]
                s = sw[indices[k]] if weighted else 1.0
                a += s * v
                b += s * v * v
                zw += s
                v = fabs(v)
                t = v if v > t else t
            ss[j] = b
            maxabs[j] = t
            zw = 0.0 if indptr[j + 1] - indptr[j] == n else tot - zw
            m = a / tot if tot > 0 else 0.0
            d = -zw * m  # the deviations of the implicit zeros, then the stored ones
            c = zw * m * m
            for k in range(indptr[j], indptr[j + 1]):
                v = data[k] - m
                s = sw[indices[k]] if weighted else 1.0
                d += s * v
                c += s * v * v
            if tot > 0:
                c -= d * d / tot
                m += d / tot
            mean[j] = m
            css[j] = c if c > 0 else 0.0


# rows read together from each column of a Fortran X (one contiguous run per column);
# smaller than BLOCK so a fold's buffer always has room for a whole tile after a flush
cdef int TILE = 8


def fold_moments_dense_f(const floating[::1, :] X, const double[::1, :] Y,
                         const double[::1] sw, const int[::1] fold,
                         const double[::1] shift, const double[::1] yshift,
                         double[:, :, ::1] outG, double[:, :, ::1] outB):
    """The moments of :func:`fold_moments_dense` for a Fortran-ordered ``X`` (the
    in-memory CV route), with each fold's Gram in an array of its own.

    Rows are taken ``TILE`` at a time: each column's run of them is contiguous, so ``X``
    is read once, column by column, and scattered into the per-fold buffers. ``Y`` is
    float64 and Fortran-ordered whatever ``X``'s dtype. A row with ``fold[i] < 0`` is
    skipped (a thread that accumulates only some folds).

    Parameters
    ----------
    outG : (nk, p, p) float64, added to: ``Σ s (x - m)(x - m)ᵀ`` of each fold, exactly
        symmetric on return (so C- and Fortran-ordered alike)
    outB : (nk, T + 1, d) float64, added to: the rows ``[y - c, 1]`` of the augmented
        moment matrix (``d = p + T + 1``), i.e. ``Σ s (y - c) zᵀ`` and ``Σ s zᵀ``

    Returns
    -------
    status : int
        0, or -1 when a fold index is ``>= nk``, -2 on inconsistent sizes, -3 when
        scratch memory cannot be allocated.
    """
    cdef Py_ssize_t m = X.shape[0], p = X.shape[1], T = Y.shape[1]
    cdef Py_ssize_t d = p + T + 1, nk = outG.shape[0]
    cdef bint weighted = sw.shape[0] > 0
    cdef Py_ssize_t i, i0, nt, j, k, r, t
    cdef double mj
    cdef const floating* xj
    cdef const double* yj
    cdef double* buf
    cdef double* C
    cdef double** zp
    cdef double* rs
    cdef int* cnt
    cdef int status = 0
    if (outG.shape[1] != p or outG.shape[2] != p or outB.shape[0] != nk
            or outB.shape[1] != T + 1 or outB.shape[2] != d or Y.shape[0] != m
            or fold.shape[0] != m or (weighted and sw.shape[0] != m)
            or shift.shape[0] != p or yshift.shape[0] != T):
        return -2
    if nk == 0 or m == 0:
        return 0
    with nogil:
        buf = <double*>malloc(nk * BLOCK * d * sizeof(double))
        cnt = <int*>calloc(nk, sizeof(int))
        zp = <double**>malloc(TILE * sizeof(double*))
        rs = <double*>malloc(TILE * sizeof(double))
        if buf == NULL or cnt == NULL or zp == NULL or rs == NULL:
            status = -3
        else:
            i0 = 0
            while i0 < m and status == 0:
                nt = min(TILE, m - i0)
                for k in range(nk):  # room for a whole tile in every fold's buffer
                    if cnt[k] > BLOCK - TILE:
                        _flush(buf + k * BLOCK * d, cnt[k], p, d, &outG[k, 0, 0],
                               &outB[k, 0, 0])
                        cnt[k] = 0
                for t in range(nt):
                    k = fold[i0 + t]
                    if k >= nk:
                        status = -1
                        break
                    if k < 0:
                        zp[t] = NULL
                        continue
                    zp[t] = buf + (k * BLOCK + cnt[k]) * d
                    cnt[k] += 1
                    rs[t] = sqrt(sw[i0 + t]) if weighted else 1.0
                if status != 0:
                    break
                for j in range(p):
                    xj = &X[i0, j]
                    mj = shift[j]
                    for t in range(nt):
                        if zp[t] != NULL:
                            zp[t][j] = (<double>xj[t] - mj) * rs[t]
                for j in range(T):
                    yj = &Y[i0, j]
                    mj = yshift[j]
                    for t in range(nt):
                        if zp[t] != NULL:
                            zp[t][p + j] = (yj[t] - mj) * rs[t]
                for t in range(nt):
                    if zp[t] != NULL:
                        zp[t][d - 1] = rs[t]
                i0 += nt
            if status == 0:
                for k in range(nk):
                    if cnt[k] > 0:
                        _flush(buf + k * BLOCK * d, cnt[k], p, d, &outG[k, 0, 0],
                               &outB[k, 0, 0])
                    # column-major upper = C-order lower: mirror it
                    C = &outG[k, 0, 0]
                    for i in range(p):
                        for r in range(i + 1, p):
                            C[i * p + r] = C[r * p + i]
        free(buf)
        free(cnt)
        free(zp)
        free(rs)
    return status


cdef inline void _flush(const double* Z, Py_ssize_t rows, Py_ssize_t p, Py_ssize_t d,
                        double* G, double* B) noexcept nogil:
    """Add the ``rows`` buffered rows ``Z`` (each a column of ``d``) to a fold's Gram
    ``G`` (upper triangle, column-major, ``p × p``) and border ``B`` (column-major
    ``d × (d - p)``: every entry against ``[y, 1]``)."""
    _dsyrk_upper(<int>p, <int>rows, Z, <int>d, G, <int>p)
    _dgemm_nt_add(<int>d, <int>(d - p), <int>rows, Z, <int>d, Z + p, <int>d, B, <int>d)


def take_rows_f(const floating[::1, :] X, const Py_ssize_t[::1] rows,
                floating[::1, :] out):
    """``out[:, j] = X[rows, j]`` for every column: a CV fold's (or a resample's) copy of a
    Fortran-ordered ``X``, one contiguous read and one contiguous write per column.

    Returns
    -------
    status : int
        0, -1 when a row index is outside ``[0, n)`` (nothing written), -2 on
        inconsistent sizes.
    """
    cdef Py_ssize_t n = X.shape[0], p = X.shape[1], k = rows.shape[0], i, j
    cdef const floating* xj
    cdef floating* oj
    if out.shape[0] != k or out.shape[1] != p:
        return -2
    for i in range(k):
        if rows[i] < 0 or rows[i] >= n:
            return -1
    if k == 0 or p == 0:
        return 0
    with nogil:
        for j in range(p):
            xj = &X[0, j]
            oj = &out[0, j]
            for i in range(k):
                oj[i] = xj[rows[i]]
    return 0


def xt_dot(const floating[::1, :] X, const floating[::1] r, floating[::1] out):
    """``out = Xᵀ r`` for a Fortran-ordered ``X`` (a certificate's full gradient), by one
    dot per column or one gemv as :func:`sklearn_normpen._kernels.dot_columns` chooses."""
    cdef int n = <int>X.shape[0], p = <int>X.shape[1]
    cdef bint by_cols = dot_columns(n, p, sizeof(floating))
    if p == 0:
        return
    if n == 0:
        out[:] = 0
        return
    with nogil:
        _gemv_t(n, p, &X[0, 0], n, &r[0], &out[0], by_cols)
