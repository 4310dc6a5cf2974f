# Block coordinate descent for the multi-response sparse-group lasso, dense and CSC,
# float32/float64 (see sklearn_normpen/_solvers/multitask_group.py).
#
# Problem solved (package scale, N = sum(s)):
#   min_W 1/(2N) ||Yc - Xc W||_S^2 + sum_j l1 ||W_j||_2 + sum_g l2_g ||W_g||_F
# W (p, K) C-ordered (row j: feature j's K coefficients); a group g is the |g| x K block of
# the rows gidx[gptr[g]:gptr[g+1]]. The residual R (n, K) is Fortran-ordered and kept with
# X *uncentred*, R = Yc - X W; centring is implicit, per response k (as _bcd_multitask.pyx):
#   x_jc^T S r_c = x_j^T S r - xmean_j * sum_i(s_i r_i),   srsum = S^T R kept up to date.
# The means and srsum are float64 and float32 dots accumulate in double: an active group's
# gradient sits on the boundary of its dual ball, so the certificate's dual scaling reads a
# gradient error first-order (float32 means alone put a floor near 1e-7 under the gap).
# A visit of group g reads its gradient block Z = Xc_g^T S R / N once (O(n |g| K)), then
# minimises the block's quadratic model
#   q(U) = 1/2 <U - W_g, Q_g (U - W_g)> - <Z, U - W_g> + pen_g(U)
# (Q_g the weighted centred group Gram / N, exact for the squared loss; packed float copies
# in ``gram`` at ``goff[g]``, -1 for a group without one) by proximal gradient steps of
# length 1/L_g (L_g the largest eigenvalue of Q_g): O(|g|^2 K) per step, so a collinear
# group costs inner steps, not passes over the data. Inner work is capped near one data pass;
# a group without a Gram takes the single step (U = prox(W_g + Z / L_g)). The prox of the
# nested norms is every row shrunk by l1 / L_g in norm, then the block by l2_g / L_g in
# Frobenius norm. The residual is then updated once with the block's total change.
# The kernel stops when an epoch's largest L_g ||dW_g||_F^2 is at most tol (the package's
# certificate, computed in float64 by the caller, decides acceptance).
from cython cimport floating
from libc.math cimport sqrt

from sklearn_normpen._kernels._design cimport (
    Dense, Csc, design, _col_dot, _col_axpy, _sum_sr, _ptr, _csc)


cdef inline floating _nested_prox(floating* V, int m, int K, floating t1,
                                  floating t2) noexcept nogil:
    """V (m x K, row-major) <- prox of t1 sum_j ||V_j|| + t2 ||V||_F, in place: rows shrunk
    by t1 in norm, then the block by t2 in Frobenius norm. Returns ||V||_F after."""
    cdef int a, k
    cdef floating nr, s, fro2 = 0, fro
    for a in range(m):
        nr = 0
        for k in range(K):
            nr += V[a * K + k] * V[a * K + k]
        nr = sqrt(nr)
        s = (1 - t1 / nr) if nr > t1 else 0
        for k in range(K):
            V[a * K + k] *= s
        fro2 += (s * nr) * (s * nr)
    fro = sqrt(fro2)
    s = (1 - t2 / fro) if fro > t2 else 0
    if s != 1:
        for a in range(m * K):
            V[a] *= s
    return s * fro


cdef inline double _grad_dot(design X, const floating* vals, int j, const floating* r,
                             const floating* s, bint weighted) noexcept nogil:
    """x_j' S r: BLAS for float64; float32 accumulates in double."""
    cdef double acc = 0
    cdef int i, k
    if floating is double:
        return _col_dot(X, vals, j, r, s, weighted)
    if design is Dense:
        vals = vals + <Py_ssize_t>j * X.n
        if weighted:
            for i in range(X.n):
                acc += <double>vals[i] * s[i] * r[i]
        else:
            for i in range(X.n):
                acc += <double>vals[i] * r[i]
    else:
        if weighted:
            for k in range(X.indptr[j], X.indptr[j + 1]):
                acc += <double>vals[k] * s[X.indices[k]] * r[X.indices[k]]
        else:
            for k in range(X.indptr[j], X.indptr[j + 1]):
                acc += <double>vals[k] * r[X.indices[k]]
    return acc


cdef floating _bcd_mtg(design X, const floating* vals, int n, const floating* sw,
                       bint weighted, const double[::1] xmean, floating N,
                       floating[:, ::1] W, floating[::1, :] R, const int[::1] gptr,
                       const int[::1] gidx, const floating[::1] Lg, floating l1,
                       const floating[::1] l2, const floating[::1] gram,
                       const Py_ssize_t[::1] goff, const int[::1] ws, int max_epochs,
                       floating tol, floating[::1] buf, double[::1] srsum,
                       int* n_epochs) noexcept nogil:
    cdef int K = W.shape[1]
    cdef int nws = ws.shape[0]
    cdef int kmax = buf.shape[0] // (4 * K) if K > 0 else 0
    cdef floating* Z = &buf[0]              # gradient block at W_g (m x K)
    cdef floating* U = Z + kmax * K         # inner iterate
    cdef floating* V = U + kmax * K         # prox argument
    cdef floating* G = V + kmax * K         # model gradient Z - Q_g (U - W_g)
    cdef const floating* Q
    cdef int epoch, gg, g, a, b, m, k, j, it, max_inner
    cdef floating L, d, change, delta, step, first, acc
    cdef double m_j
    for k in range(K):
        _sum_sr(n, &R[0, k], sw, weighted, &srsum[k])
    delta = 0
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        delta = 0
        for gg in range(nws):
            g = ws[gg]
            L = Lg[g]
            a = gptr[g]
            m = gptr[g + 1] - a
            if L <= 0 or m == 0:  # zero (constant) columns: nothing to fit
                continue
            for b in range(m):
                j = gidx[a + b]
                m_j = xmean[j]
                for k in range(K):
                    Z[b * K + k] = <floating>((_grad_dot(X, vals, j, &R[0, k], sw, weighted)
                                               - m_j * srsum[k]) / N)
                    V[b * K + k] = W[j, k] + Z[b * K + k] / L
            _nested_prox(V, m, K, l1 / L, l2[g] / L)
            for b in range(m * K):
                U[b] = V[b]
            if goff[g] >= 0 and m > 1:
                Q = &gram[goff[g]]
                # inner steps on the model: each O(m^2 K), at most about one data pass
                max_inner = min(1 + n // m, 200)
                first = -1
                for it in range(1, max_inner):
                    for b in range(m):
                        for k in range(K):
                            acc = Z[b * K + k]
                            for j in range(m):
                                acc = acc - Q[b * m + j] * (U[j * K + k] - W[gidx[a + j], k])
                            G[b * K + k] = acc
                    for b in range(m * K):
                        V[b] = U[b] + G[b] / L
                    _nested_prox(V, m, K, l1 / L, l2[g] / L)
                    step = 0
                    for b in range(m * K):
                        d = V[b] - U[b]
                        step += d * d
                        U[b] = V[b]
                    if first < 0:
                        first = step
                    if step <= 1e-8 * first or step == 0:
                        break
            change = 0
            for b in range(m):
                j = gidx[a + b]
                m_j = xmean[j]
                for k in range(K):
                    d = U[b * K + k] - W[j, k]
                    if d != 0:
                        W[j, k] += d
                        _col_axpy(X, vals, j, -d, &R[0, k])
                        srsum[k] -= d * N * m_j
                        change += d * d
            change *= L
            if change > delta:
                delta = change
        if delta <= tol:
            break
    n_epochs[0] = epoch
    return delta


cdef _check_scratch(const int[::1] gptr, const int[::1] ws, Py_ssize_t nbuf, int K):
    """buf must hold 4 K m values for the largest group m in ``ws`` (an O(|ws|) check:
    the one thing the signature cannot state)."""
    cdef int gg, m = 0
    for gg in range(ws.shape[0]):
        m = max(m, gptr[ws[gg] + 1] - gptr[ws[gg]])
    if nbuf < 4 * K * m:
        raise ValueError(f"argument buf is too short ({nbuf}) for a group of {m} features "
                         f"and {K} responses (needs {4 * K * m}).")


def bcd_mtg_dense(const floating[::1, :] X, const floating[::1] sw,
                  const double[::1] xmean, floating[:, ::1] W, floating[::1, :] R,
                  const int[::1] gptr, const int[::1] gidx, const floating[::1] Lg,
                  floating l1, const floating[::1] l2, const floating[::1] gram,
                  const Py_ssize_t[::1] goff, const int[::1] ws, floating N, int max_epochs,
                  floating tol, floating[::1] buf, double[::1] srsum):
    """Block CD epochs over the groups ``ws`` (dense Fortran ``X``; ``sw`` the sample
    weights, empty for unit weights); ``W`` and ``R`` updated in place. ``buf`` holds
    K + 4 K·(largest group) scratch values. Returns ``(epochs, last epoch's largest
    L_g ||dW_g||_F²)``."""
    cdef Dense D
    cdef int epochs = 0
    cdef floating delta
    cdef bint weighted = sw.shape[0] > 0
    D.n = <int>X.shape[0]
    _check_scratch(gptr, ws, buf.shape[0], <int>W.shape[1])
    with nogil:
        delta = _bcd_mtg(D, &X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL, D.n,
                         &sw[0] if weighted else NULL, weighted, xmean, N, W, R, gptr,
                         gidx, Lg, l1, l2, gram, goff, ws, max_epochs, tol, buf, srsum,
                         &epochs)
    return epochs, float(delta)


def bcd_mtg_sparse(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                   int n_samples, const floating[::1] sw, const double[::1] xmean,
                   floating[:, ::1] W, floating[::1, :] R, const int[::1] gptr,
                   const int[::1] gidx, const floating[::1] Lg, floating l1,
                   const floating[::1] l2, const floating[::1] gram, const Py_ssize_t[::1] goff,
                   const int[::1] ws, floating N, int max_epochs, floating tol,
                   floating[::1] buf, double[::1] srsum):
    """CSC version of :func:`bcd_mtg_dense`."""
    cdef int epochs = 0
    cdef floating delta
    cdef bint weighted = sw.shape[0] > 0
    cdef Csc C = _csc(indices, indptr)
    _check_scratch(gptr, ws, buf.shape[0], <int>W.shape[1])
    with nogil:
        delta = _bcd_mtg(C, _ptr(data), n_samples, &sw[0] if weighted else NULL, weighted,
                         xmean, N, W, R, gptr, gidx, Lg, l1, l2, gram, goff, ws,
                         max_epochs, tol, buf, srsum, &epochs)
    return epochs, float(delta)
