# Block coordinate descent for the multi-response (multi-task) elastic net, dense and CSC,
# float32/float64 (glmnet's mgaussian, scikit-learn's MultiTaskElasticNet objective).
#
# Problem solved (package scale, N = sum(s); see sklearn_normpen/_solvers/multitask.py):
#   min_W 1/(2N) ||Yc - Xc W||_S^2 + sum_j [l1_j ||W_j||_2 + l2_j / 2 ||W_j||_2^2]
# W (p, K) C-ordered: row j holds the K response coefficients of feature j (one block).
# The residual R (n, K) is Fortran-ordered (one contiguous column per response) and stored
# with X *uncentred*, R = Yc - X W; centring is implicit, per response k:
#   x_jc^T S r_c = x_j^T S r - xmean_j * sum_i(s_i r_i)
# (the offset xmean^T W cancels because sum_i s_i x_ij = N xmean_j), and srsum = S^T R is
# kept up to date with the same identity, so no dense column is ever formed.
# The block Hessian of the loss is L_j I_K (L_j = ||x_jc||_S^2 / N, the same for every
# response), so each block step is the exact block minimiser:
#   z = L_j W_j + g_j,   W_j <- z (1 - l1_j / ||z||)_+ / (L_j + l2_j).
# The kernel stops when an epoch's largest block change L_j ||dW_j||^2 is at most tol (the
# package's certificate, computed in float64 by the caller, decides acceptance).
from cython cimport floating
from libc.math cimport sqrt

from sklearn_normpen._kernels._blas cimport _dot
from sklearn_normpen._kernels._helpers cimport _norm2
from sklearn_normpen._kernels._design cimport (
    Dense, Csc, design, _col_dot, _col_axpy, _response_sums, _ptr, _csc)

import numpy as np


cdef floating _bcd_mt(design X, const floating* vals, int n, const floating* sw,
                      bint weighted, const floating[::1] xmean, floating N,
                      floating[:, ::1] W, floating[::1, :] R, const floating[::1] L,
                      const floating[::1] l1, const floating[::1] l2, const int[::1] ws,
                      int max_epochs, floating tol, floating[::1] buf,
                      int* n_epochs) noexcept nogil:
    cdef int K = W.shape[1]
    cdef int nws = ws.shape[0]
    cdef floating* z = &buf[0]
    cdef floating* srsum = &buf[K]
    cdef int epoch = 0, jj, j, k
    cdef floating nz, scale, d, change, delta = 0, denom, m
    _response_sums(n, K, &R[0, 0], sw, weighted, srsum)
    while epoch < max_epochs:
        epoch += 1
        delta = 0
        for jj in range(nws):
            j = ws[jj]
            denom = L[j] + l2[j]
            if denom <= 0:  # a zero column without ridge: nothing to fit
                continue
            m = xmean[j]
            for k in range(K):
                z[k] = L[j] * W[j, k] + (
                    _col_dot(X, vals, j, &R[0, k], sw, weighted) - m * srsum[k]) / N
            nz = _norm2(z, K)
            scale = 0
            if nz > l1[j]:
                scale = (1 - l1[j] / nz) / denom
            change = 0
            for k in range(K):
                d = z[k] * scale - W[j, k]
                if d != 0:
                    W[j, k] += d
                    _col_axpy(X, vals, j, -d, &R[0, k])
                    srsum[k] -= d * N * m
                    change += d * d
            change *= L[j]
            if change > delta:
                delta = change
        if delta <= tol:
            break
    n_epochs[0] = epoch
    return delta


def bcd_mt_dense(const floating[::1, :] X, const floating[::1] sw,
                 const floating[::1] xmean, floating[:, ::1] W, floating[::1, :] R,
                 const floating[::1] L, const floating[::1] l1, const floating[::1] l2,
                 const int[::1] ws, floating N, int max_epochs, floating tol,
                 floating[::1] buf):
    """Block CD epochs over the features ``ws`` (dense Fortran ``X``; ``sw`` the sample
    weights, empty for unit weights); ``W`` and ``R`` updated in place. ``buf`` holds 2K
    scratch values. Returns ``(epochs, last epoch's largest L_j ||dW_j||²)``."""
    cdef Dense D
    cdef int epochs = 0
    cdef floating delta
    cdef bint weighted = sw.shape[0] > 0
    D.n = <int>X.shape[0]
    with nogil:
        delta = _bcd_mt(D, &X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL, D.n,
                        &sw[0] if weighted else NULL, weighted, xmean, N, W, R, L, l1, l2,
                        ws, max_epochs, tol, buf, &epochs)
    return epochs, float(delta)


def bcd_mt_sparse(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                  int n_samples, const floating[::1] sw, const floating[::1] xmean,
                  floating[:, ::1] W, floating[::1, :] R, const floating[::1] L,
                  const floating[::1] l1, const floating[::1] l2, const int[::1] ws,
                  floating N, int max_epochs, floating tol, floating[::1] buf):
    """CSC version of :func:`bcd_mt_dense`."""
    cdef int epochs = 0
    cdef floating delta
    cdef bint weighted = sw.shape[0] > 0
    cdef Csc C = _csc(indices, indptr)
    with nogil:
        delta = _bcd_mt(C, _ptr(data), n_samples, &sw[0] if weighted else NULL, weighted,
                        xmean, N, W, R, L, l1, l2, ws, max_epochs, tol, buf, &epochs)
    return epochs, float(delta)


def gradient_mt_dense(const floating[::1, :] X, const double[::1] sw,
                      const double[::1] xmean, const double[::1, :] R, double[:, ::1] G):
    """``G[j, k] = x_jᵀ S R[:, k] - xmean_j Σ_i s_i R[i, k]`` in float64 for a float64
    residual ``R`` (the certificate's gradient, times N): single-threaded level-1 BLAS for
    float64 columns, double accumulation for float32 ones (a threaded (p, n) x (n, K)
    product with small K stalls on a busy machine). Column by column, all K products of a
    column while it is in cache: X is read from memory once, whatever K."""
    cdef int n = <int>X.shape[0], p = <int>X.shape[1], K = <int>R.shape[1]
    cdef int i, j, k
    cdef double acc, a1, tot
    cdef bint weighted = sw.shape[0] > 0
    cdef const floating* x
    cdef const double* r
    cdef double[::1] tots = np.empty(max(K, 1))
    with nogil:
        for k in range(K):
            r = &R[0, k]
            tot = 0
            for i in range(n):
                tot += (sw[i] * r[i]) if weighted else r[i]
            tots[k] = tot
        for j in range(p):
            x = &X[0, j]
            for k in range(K):
                r = &R[0, k]
                acc = 0
                a1 = 0
                if floating is double and not weighted:
                    acc = _dot(n, x, 1, r, 1)
                elif weighted:
                    for i in range(0, n - 1, 2):  # two sums: no single add chain
                        acc += <double>x[i] * sw[i] * r[i]
                        a1 += <double>x[i + 1] * sw[i + 1] * r[i + 1]
                    if n % 2:
                        acc += <double>x[n - 1] * sw[n - 1] * r[n - 1]
                else:
                    for i in range(0, n - 1, 2):
                        acc += <double>x[i] * r[i]
                        a1 += <double>x[i + 1] * r[i + 1]
                    if n % 2:
                        acc += <double>x[n - 1] * r[n - 1]
                G[j, k] = (acc + a1) - xmean[j] * tots[k]
