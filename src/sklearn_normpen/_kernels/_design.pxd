# Column access to the design X, shared by the dense and the CSC kernels.
#
# A kernel is written once over the fused type ``design``; the design value says how the
# column values ``vals`` are laid out:
#   Dense  Fortran-ordered X: column j is vals[j * n .. (j + 1) * n)
#   Csc    CSC X (int32 indices): column j is vals[indptr[j] .. indptr[j + 1]) at rows
#          indices[indptr[j] ..]
# ``if design is Dense`` is resolved when Cython specialises, so each specialisation compiles
# to the code a kernel written for that layout alone would have (BLAS for dense columns, an
# index loop for CSC ones): no run-time dispatch in the inner loops.
from cython cimport floating
from libc.math cimport isfinite

from sklearn_normpen._kernels._blas cimport _dot, _axpy


cdef struct Dense:
    int n                  # rows (the leading dimension)


cdef struct Csc:
    const int* indices
    const int* indptr


ctypedef fused design:
    Dense
    Csc


cdef inline const floating* _ptr(const floating[::1] a) noexcept nogil:
    """&a[0], or NULL when a is empty (CSC data without stored entries): no out-of-bounds
    index in debug builds (SKLEARN_NORMPEN_DEBUG=1)."""
    return &a[0] if a.shape[0] > 0 else NULL


cdef inline Csc _csc(const int[::1] indices, const int[::1] indptr) noexcept nogil:
    """The column access of a CSC matrix (indices may be empty)."""
    cdef Csc X
    X.indices = &indices[0] if indices.shape[0] > 0 else NULL
    X.indptr = &indptr[0]
    return X


cdef inline const floating* _col(Dense X, const floating* vals, int j) noexcept nogil:
    """Start of dense column j."""
    return vals + <Py_ssize_t>j * X.n


cdef inline floating _col_dot(design X, const floating* vals, int j, const floating* r,
                              const floating* s, bint weighted) noexcept nogil:
    """x_j' S r, S = diag(s) when ``weighted`` else the identity (BLAS dot for dense)."""
    cdef floating acc = 0, a1 = 0, a2 = 0, a3 = 0
    cdef const floating* x
    cdef int i, k, m
    if design is Dense:
        x = _col(X, vals, j)
        if not weighted:
            return _dot(X.n, x, 1, r, 1)
        # four partial sums: no add chain through one accumulator (the GLM inner solves
        # are weighted, and this dot is most of their epoch)
        m = X.n - X.n % 4
        for i in range(0, m, 4):
            acc += x[i] * s[i] * r[i]
            a1 += x[i + 1] * s[i + 1] * r[i + 1]
            a2 += x[i + 2] * s[i + 2] * r[i + 2]
            a3 += x[i + 3] * s[i + 3] * r[i + 3]
        for i in range(m, X.n):
            acc += x[i] * s[i] * r[i]
        acc = (acc + a1) + (a2 + a3)
    else:
        if weighted:
            for k in range(X.indptr[j], X.indptr[j + 1]):
                acc += vals[k] * s[X.indices[k]] * r[X.indices[k]]
        else:
            for k in range(X.indptr[j], X.indptr[j + 1]):
                acc += vals[k] * r[X.indices[k]]
    return acc


cdef inline void _col_axpy(design X, const floating* vals, int j, floating a,
                           floating* r) noexcept nogil:
    """r += a x_j (BLAS axpy for dense)."""
    cdef int k
    if design is Dense:
        _axpy(X.n, a, _col(X, vals, j), 1, r, 1)
    else:
        for k in range(X.indptr[j], X.indptr[j + 1]):
            r[X.indices[k]] += a * vals[k]


cdef inline double _predicted_start(design X, const floating* vals, int n, int K, int m,
                                   const int* idx, floating* w, floating* R,
                                   const floating* X_mean,
                                   const floating* pred) noexcept nogil:
    """Move the features ``idx[:m]`` by ``pred`` (a path's linear prediction of the
    point's change), each step kept only where the coefficient is non-zero and keeps its
    sign; ``R`` (kept with X uncentred) follows, as a coordinate step's. K responses:
    ``w`` and ``pred`` C-ordered (p, K), ``R`` Fortran (n, K) (K = 1: vectors). Returns
    the change of the centring offset ``Σ Δw_j X_mean_j`` (K = 1 and ``X_mean`` given:
    kernels that track it add it; else 0). The caller's stored gradient is then stale."""
    cdef int a, j, k
    cdef Py_ssize_t e
    cdef floating w_old, w_new, d
    cdef double dc = 0
    for a in range(m):
        j = idx[a]
        for k in range(K):
            e = <Py_ssize_t>j * K + k
            d = pred[e]
            w_old = w[e]
            if d == 0 or w_old == 0:
                continue
            w_new = w_old + d
            if (w_new > 0) != (w_old > 0) or w_new == 0 or not isfinite(w_new):
                continue
            w[e] = w_new
            d = w_new - w_old
            _col_axpy(X, vals, j, -d, R + <Py_ssize_t>k * n)
            if K == 1 and X_mean != NULL:
                dc += <double>d * X_mean[j]
    return dc


ctypedef fused accum:
    float
    double


cdef inline void _sum_sr(int n, const floating* r, const floating* s, bint weighted,
                         accum* out) noexcept nogil:
    """out <- sum_i s_i r_i (s = 1 unless ``weighted``), accumulated in the type of out."""
    cdef accum acc = 0
    cdef int i
    if weighted:
        for i in range(n):
            acc += s[i] * r[i]
    else:
        for i in range(n):
            acc += r[i]
    out[0] = acc


cdef inline void _response_sums(int n, int K, const floating* R, const floating* s,
                                bint weighted, accum* out) noexcept nogil:
    """out[k] <- sum_i s_i R[i, k] for the K columns of the Fortran (n, K) residual R,
    accumulated in double whatever the type of out."""
    cdef double acc
    cdef int k
    for k in range(K):
        _sum_sr(n, R + <Py_ssize_t>k * n, s, weighted, &acc)
        out[k] = <accum>acc


cdef inline void _row_offsets(int K, const floating* W, const accum* xmean, const int* rows,
                              int m, double* off) noexcept nogil:
    """off[k] += sum_j xmean_j W[j, k] over the ``m`` rows ``rows`` of the C-ordered (p, K)
    ``W``: the centring offset of a multi-response residual kept with X uncentred."""
    cdef int a, j, k
    for a in range(m):
        j = rows[a]
        for k in range(K):
            if W[<Py_ssize_t>j * K + k] != 0:
                off[k] += xmean[j] * W[<Py_ssize_t>j * K + k]


cdef inline double _centred_sq(int n, int K, const floating* R, const floating* s,
                               bint weighted, const accum* srsum, const double* off,
                               double N) noexcept nogil:
    """sum_k ||R[:, k] + off_k||²_S of the Fortran (n, K) ``R`` (``srsum = Sᵀ R``,
    ``N = Σ s``), accumulated in double: the centred residual's squared norm."""
    cdef double acc, rr = 0
    cdef const floating* r
    cdef int i, k
    for k in range(K):
        r = R + <Py_ssize_t>k * n
        acc = 0
        for i in range(n):
            acc += ((<double>s[i] * r[i]) if weighted else <double>r[i]) * r[i]
        rr += acc + 2 * off[k] * srsum[k] + off[k] * off[k] * N
    return rr
