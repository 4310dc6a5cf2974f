# Thin Python entry points over the shared inline helpers, so the test suite can check
# them against NumPy references (float32 and float64, read-only input).
from cython cimport floating

from sklearn_normpen._kernels._blas cimport _dot, _nrm2, _axpy, _gemv
from sklearn_normpen._kernels._helpers cimport (
    _soft_threshold, _block_soft_threshold, _soft_threshold_norm, _next_gap_check)


def soft_threshold(const floating[::1] x, floating t, floating[::1] out):
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            out[i] = _soft_threshold(x[i], t)


def block_soft_threshold(const floating[::1] v, floating t, floating[::1] out):
    """out <- B(v, t); returns its norm."""
    cdef Py_ssize_t i
    cdef floating nrm
    with nogil:
        for i in range(v.shape[0]):
            out[i] = v[i]
        nrm = _block_soft_threshold(&out[0], <int>out.shape[0], t)
    return nrm


def soft_threshold_norm(const floating[::1] v, floating t):
    return _soft_threshold_norm(&v[0], <int>v.shape[0], t)


def next_gap_check(double gap, double gap_prev, int at, int at_prev, double target,
                   int cap):
    return _next_gap_check(gap, gap_prev, at, at_prev, target, cap)


def dot(const floating[::1] x, const floating[::1] y):
    return _dot(<int>x.shape[0], &x[0], 1, &y[0], 1)


def nrm2(const floating[::1] x):
    return _nrm2(<int>x.shape[0], &x[0], 1)


def axpy(const floating[::1] x, floating[::1] y, floating a):
    """y += a * x"""
    _axpy(<int>x.shape[0], a, &x[0], 1, &y[0], 1)


def gemv_t(const floating[::1, :] A, const floating[::1] x, floating[::1] out):
    """out <- A.T @ x for Fortran-ordered A."""
    _gemv(c'T', <int>A.shape[0], <int>A.shape[1], 1, &A[0, 0], <int>A.shape[0],
          &x[0], 1, 0, &out[0], 1)
