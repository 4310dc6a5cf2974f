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
# The kernel stops after an epoch whose largest block change L_j ||dW_j||^2 is at most tol
# once the working set's duality gap (_mt_gap) is at most gap_tol (gap_tol < 0: on the
# change alone); the package's certificate, computed in float64 by the caller, decides
# acceptance. (On the change alone, a wide path's certificates refused 4 in 5 stops.)
from cython cimport floating
from libc.math cimport INFINITY, sqrt
from libc.stdlib cimport calloc, free

from sklearn_normpen._kernels._blas cimport _dot
from sklearn_normpen._kernels._helpers cimport GAP_SKIP, _next_gap_check, _norm2
from sklearn_normpen._kernels._design cimport (
    Dense, Csc, design, _col_dot, _col_axpy, _predicted_start, _response_sums, _ptr, _csc,
    _row_offsets, _centred_sq)

import numpy as np

from sklearn_normpen._kernels import prediction_arg


cdef double _mt_gap(design X, const floating* vals, int n, const floating* sw,
                    bint weighted, const floating[::1] xmean, floating N,
                    const floating[:, ::1] W, const floating[::1, :] R,
                    const floating[::1] L, const floating[::1] l1, const floating[::1] l2,
                    const int[::1] ws, floating[::1] buf) noexcept nogil:
    """The duality gap of the problem restricted to the rows ``ws`` (the rows outside are
    0), with the centred residual ``R_c = R + 1 offᵀ`` (``off = Wᵀ xmean``) and
    ``Z_j = X_jcᵀ S R_c / N``: ``P - D(t)`` with ``D(t) = t <R_c, Yc>_S/N -
    t² ||R_c||²_S/(2N) - Σ_j h_j*(t Z_j)``, ``h_j = l1_j ||.|| + l2_j/2 ||.||²``, ``t``
    the largest scaling that keeps the rows without ridge in their ball, and
    ``<R_c, Yc>_S = ||R_c||²_S + N Σ_j <W_j, Z_j>`` (``Yc = R_c + Xc W``). An unpenalised
    row (``l1 = l2 = 0``) needs ``Z_j = 0``, which no scaling gives: it adds what its
    exact block step would gain, ``||Z_j||²/(2 L_j)`` (an estimate: the sweeps' stopping
    quantity; the caller certifies). ``buf`` holds 2K values (z, srsum: recomputed).
    Returns inf when scratch memory cannot be allocated."""
    cdef int K = W.shape[1], nws = ws.shape[0], jj, j, k
    cdef floating* z = &buf[0]
    cdef floating* srsum = &buf[K]
    cdef double rr, wz = 0, pen = 0, conj = 0, uq = 0, t = 1, zn, wn, a, m
    # the row norms ||Z_j||, then the K offsets
    cdef double* norms = <double*>calloc(nws + K, sizeof(double))
    cdef double* off
    if norms == NULL:
        return INFINITY
    off = norms + nws
    _response_sums(n, K, &R[0, 0], sw, weighted, srsum)
    if nws:
        _row_offsets(K, &W[0, 0], &xmean[0], &ws[0], nws, off)
    for jj in range(nws):
        j = ws[jj]
        m = xmean[j]
        zn = 0
        wn = 0
        for k in range(K):
            z[k] = <floating>((_col_dot(X, vals, j, &R[0, k], sw, weighted) - m * srsum[k]) / N)
            zn += <double>z[k] * z[k]
            wn += <double>W[j, k] * W[j, k]
            wz += <double>W[j, k] * z[k]
        zn = sqrt(zn)
        norms[jj] = zn
        pen += l1[j] * sqrt(wn) + 0.5 * l2[j] * wn
        if l1[j] <= 0 and l2[j] <= 0:
            if L[j] > 0:
                uq += zn * zn / (2 * L[j])
        elif l2[j] <= 0 and zn > l1[j]:
            t = min(t, l1[j] / zn)
    for jj in range(nws):
        j = ws[jj]
        if l2[j] > 0:
            a = t * norms[jj] - l1[j]
            if a > 0:
                conj += a * (a / (2 * l2[j]))
    rr = _centred_sq(n, K, &R[0, 0], sw, weighted, srsum, off, N) / N
    free(norms)
    return rr / 2 + pen - t * (rr + wz) + t * t * rr / 2 + conj + uq


cdef floating _bcd_mt(design X, const floating* vals, int n, const floating* sw,
                      bint weighted, const floating[::1] xmean, floating N,
                      floating[:, ::1] W, floating[::1, :] R, const floating[::1] L,
                      const floating[::1] l1, const floating[::1] l2, const int[::1] ws,
                      int max_epochs, floating tol, floating gap_tol, floating[::1] buf,
                      const floating* pred, int* n_epochs, double* gap) noexcept nogil:
    cdef int K = W.shape[1]
    cdef int nws = ws.shape[0]
    cdef floating* z = &buf[0]
    cdef floating* srsum = &buf[K]
    cdef int epoch = 0, jj, j, k, not_before = 0, e_prev = 0
    cdef double g_prev = 0
    cdef floating nz, scale, d, change, delta = 0, denom, m
    if pred != NULL and nws > 0:  # (the offsets: implicit, from R's sums below)
        _predicted_start(X, vals, n, K, nws, &ws[0], &W[0, 0], &R[0, 0],
                         <const floating*>NULL, pred)
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
            if gap_tol < 0:
                break
            if epoch < not_before and epoch < max_epochs:
                continue  # (the last two checks' rate: the target is not near yet)
            gap[0] = _mt_gap(X, vals, n, sw, weighted, xmean, N, W, R, L, l1, l2, ws, buf)
            if gap[0] <= gap_tol:
                break  # (_mt_gap recomputed srsum in buf: the sweeps go on with it)
            not_before = _next_gap_check(gap[0], g_prev, epoch, e_prev, gap_tol, GAP_SKIP)
            g_prev = gap[0]
            e_prev = epoch
    n_epochs[0] = epoch
    return delta


def bcd_mt_dense(const floating[::1, :] X, const floating[::1] sw,
                 const floating[::1] xmean, floating[:, ::1] W, floating[::1, :] R,
                 const floating[::1] L, const floating[::1] l1, const floating[::1] l2,
                 const int[::1] ws, floating N, int max_epochs, floating tol,
                 floating gap_tol, floating[::1] buf, pred=None):
    """Block CD epochs over the features ``ws`` (dense Fortran ``X``; ``sw`` the sample
    weights, empty for unit weights); ``W`` and ``R`` updated in place. Stops after
    ``max_epochs`` epochs, or after an epoch whose largest ``L_j ||dW_j||²`` is at most
    ``tol`` once the working set's gap (:func:`_mt_gap`) is at most ``gap_tol`` (at once
    when ``gap_tol < 0``). ``buf`` holds 2K scratch values. ``pred`` ((p, K), or None /
    empty): a path's predicted change of ``W``; each non-zero coefficient of ``ws``
    first moves by it where that keeps its sign (``R`` follows). Returns
    ``(epochs, gap)``, the last gap evaluated (inf: none)."""
    cdef Dense D
    cdef int epochs = 0
    cdef double gap = INFINITY
    cdef bint weighted = sw.shape[0] > 0
    cdef const floating[:, ::1] pr = prediction_arg(pred, W, "bcd_mt_dense")
    cdef const floating* pp = &pr[0, 0] if pr.shape[0] > 0 else NULL
    D.n = <int>X.shape[0]
    with nogil:
        _bcd_mt(D, &X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL, D.n,
                &sw[0] if weighted else NULL, weighted, xmean, N, W, R, L, l1, l2, ws,
                max_epochs, tol, gap_tol, buf, pp, &epochs, &gap)
    return epochs, gap


def bcd_mt_sparse(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                  int n_samples, const floating[::1] sw, const floating[::1] xmean,
                  floating[:, ::1] W, floating[::1, :] R, const floating[::1] L,
                  const floating[::1] l1, const floating[::1] l2, const int[::1] ws,
                  floating N, int max_epochs, floating tol, floating gap_tol,
                  floating[::1] buf, pred=None):
    """CSC version of :func:`bcd_mt_dense`."""
    cdef int epochs = 0
    cdef double gap = INFINITY
    cdef bint weighted = sw.shape[0] > 0
    cdef Csc C = _csc(indices, indptr)
    cdef const floating[:, ::1] pr = prediction_arg(pred, W, "bcd_mt_sparse")
    cdef const floating* pp = &pr[0, 0] if pr.shape[0] > 0 else NULL
    with nogil:
        _bcd_mt(C, _ptr(data), n_samples, &sw[0] if weighted else NULL, weighted, xmean, N,
                W, R, L, l1, l2, ws, max_epochs, tol, gap_tol, buf, pp, &epochs, &gap)
    return epochs, gap


cdef void _gradient_mt(const floating[::1, :] X, const double[::1] sw,
                       const double[::1] xmean, const double[::1, :] R, double[:, ::1] G,
                       const int* cols, int m, double* tots) noexcept nogil:
    """The rows ``cols[:m]`` of ``G`` (all ``p`` rows when ``cols`` is NULL): see
    :func:`gradient_mt_dense`. ``tots``: K doubles of scratch."""
    cdef int n = <int>X.shape[0], K = <int>R.shape[1]
    cdef int i, j, k, c
    cdef double acc, a1, tot
    cdef bint weighted = sw.shape[0] > 0
    cdef const floating* x
    cdef const double* r
    for k in range(K):
        r = &R[0, k]
        tot = 0
        for i in range(n):
            tot += (sw[i] * r[i]) if weighted else r[i]
        tots[k] = tot
    for c in range(m):
        j = c if cols == NULL else cols[c]
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


def gradient_mt_dense(const floating[::1, :] X, const double[::1] sw,
                      const double[::1] xmean, const double[::1, :] R, double[:, ::1] G):
    """``G[j, k] = x_jᵀ S R[:, k] - xmean_j Σ_i s_i R[i, k]`` in float64 for a float64
    residual ``R`` (the certificate's gradient, times N): single-threaded level-1 BLAS for
    float64 columns, double accumulation for float32 ones (a threaded (p, n) x (n, K)
    product with small K stalls on a busy machine). Column by column, all K products of a
    column while it is in cache: X is read from memory once, whatever K."""
    cdef double[::1] tots = np.empty(max(R.shape[1], 1))
    with nogil:
        _gradient_mt(X, sw, xmean, R, G, NULL, <int>X.shape[1], &tots[0])


def gradient_mt_dense_cols(const floating[::1, :] X, const double[::1] sw,
                           const double[::1] xmean, const double[::1, :] R,
                           const int[::1] cols, double[:, ::1] G):
    """The rows ``cols`` of :func:`gradient_mt_dense`'s ``G``, the other rows untouched (a
    certificate whose other groups are bounded inside their dual ball). Returns 0, or -1
    when an index is outside ``[0, p)`` (nothing written)."""
    cdef int m = <int>cols.shape[0], p = <int>X.shape[1], k
    for k in range(m):
        if cols[k] < 0 or cols[k] >= p:
            return -1
    cdef double[::1] tots = np.empty(max(R.shape[1], 1))
    if m:
        with nogil:
            _gradient_mt(X, sw, xmean, R, G, &cols[0], m, &tots[0])
    return 0
