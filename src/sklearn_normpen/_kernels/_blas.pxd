# Fused float32/float64 BLAS wrappers over scipy.linalg.cython_blas.
#
# Pointers are taken as ``const`` so read-only memoryviews (joblib memmaps) can be passed;
# BLAS never writes through an input argument, so casting const away for the call is safe.
# Every wrapper is ``noexcept nogil``: call them inside ``with nogil`` loops.
from cython cimport floating
from scipy.linalg cimport cython_blas as blas


cdef inline floating _dot(int n, const floating* x, int incx,
                          const floating* y, int incy) noexcept nogil:
    if floating is float:
        return blas.sdot(&n, <float*>x, &incx, <float*>y, &incy)
    else:
        return blas.ddot(&n, <double*>x, &incx, <double*>y, &incy)


cdef inline floating _nrm2(int n, const floating* x, int incx) noexcept nogil:
    if floating is float:
        return blas.snrm2(&n, <float*>x, &incx)
    else:
        return blas.dnrm2(&n, <double*>x, &incx)


cdef inline void _axpy(int n, floating alpha, const floating* x, int incx,
                       floating* y, int incy) noexcept nogil:
    """y += alpha * x"""
    if floating is float:
        blas.saxpy(&n, &alpha, <float*>x, &incx, y, &incy)
    else:
        blas.daxpy(&n, &alpha, <double*>x, &incx, y, &incy)


cdef inline void _copy(int n, const floating* x, int incx,
                       floating* y, int incy) noexcept nogil:
    """y = x"""
    if floating is float:
        blas.scopy(&n, <float*>x, &incx, y, &incy)
    else:
        blas.dcopy(&n, <double*>x, &incx, y, &incy)


cdef inline void _gemv(char trans, int m, int n, floating alpha,
                       const floating* A, int lda, const floating* x, int incx,
                       floating beta, floating* y, int incy) noexcept nogil:
    """y = alpha * op(A) @ x + beta * y, A column-major (Fortran) m-by-n.

    trans = c'N' for A @ x, c'T' for A.T @ x.
    """
    if floating is float:
        blas.sgemv(&trans, &m, &n, &alpha, <float*>A, &lda, <float*>x, &incx,
                   &beta, y, &incy)
    else:
        blas.dgemv(&trans, &m, &n, &alpha, <double*>A, &lda, <double*>x, &incx,
                   &beta, y, &incy)


cdef inline void _gemv_t(int m, int n, const floating* A, int lda, const floating* x,
                         floating* y, bint by_columns) noexcept nogil:
    """y = A.T @ x, A column-major m-by-n: one dot per column when ``by_columns`` (the
    caller's choice, :func:`sklearn_normpen._kernels.dot_columns`), else one gemv."""
    cdef Py_ssize_t j
    if by_columns:
        for j in range(n):
            y[j] = _dot(m, A + j * lda, 1, x, 1)
    else:
        _gemv(c'T', m, n, 1, A, lda, x, 1, 0, y, 1)


cdef inline void _dsyrk_upper(int n, int k, const double* A, int lda,
                              double* C, int ldc) noexcept nogil:
    """C += A @ A.T on C's upper triangle (column-major; A n-by-k)."""
    cdef char uplo = b'U'
    cdef char trans = b'N'
    cdef double one = 1.0
    blas.dsyrk(&uplo, &trans, &n, &k, &one, <double*>A, &lda, &one, C, &ldc)


cdef inline void _dgemm_nt_add(int m, int n, int k, const double* A, int lda,
                               const double* B, int ldb, double* C,
                               int ldc) noexcept nogil:
    """C += A @ B.T (column-major; A m-by-k, B n-by-k, C m-by-n)."""
    cdef char ta = b'N'
    cdef char tb = b'T'
    cdef double one = 1.0
    blas.dgemm(&ta, &tb, &m, &n, &k, &one, <double*>A, &lda, <double*>B, &ldb, &one, C,
               &ldc)
