# Block coordinate descent for the (sparse-)group lasso, dense and CSC, float32/float64.
#
# Problem solved (centred data, see sklearn_normpen/_solvers/block_cd.py):
#   min_w  1/(2n) ||r||_s^2 + alpha * sum_g [rho ||w_g||_1 + (1 - rho) c_g ||w_g||_2],
#   r = y - X w, groups with c_g = 0 are unpenalised (no l1 term either).
# Each block visit computes z_g = X_g^T S r / n once (O(n k)), then minimises the block model
#   q(u) = 1/2 (u - w_g)^T Q_g (u - w_g) - z_g^T (u - w_g) + pen_g(u)
# (Q_g = centred weighted group Gram / n, exact for the squared loss) in the k x k Gram space
# with FISTA + gradient restart, step 1 / L_g (L_g = largest eigenvalue of Q_g), O(k^2) per
# inner iteration; the residual is then updated once with the total change (O(n k)).
# Collinear groups (ill-conditioned Q_g) thus cost inner iterations, not epochs over the data.
# Singletons take the exact scalar step; with rho = 0 a group's minimiser is exact (secular
# equation in Q_g's eigenbasis). Inner work is capped relative to the data pass, and groups
# wider than n (nnz for CSC) keep the single step, where Gram work would dominate.
# The sparse-group prox is soft-threshold then group shrinkage.
#
# Dense kernels work on an explicitly centred, sqrt(s)-scaled copy (unit weights inside).
# Sparse kernels centre implicitly: they keep r_raw = y - X w (X uncentred) and use
#   x_jc^T (s * r) = x_j^T (s * r_raw) - xmean_j * sum(s * r_raw)
# (the offset xmean^T w cancels because sum(s) = n), so no dense column is ever formed.
from cython cimport floating
from libc.math cimport fabs, sqrt

from sklearn_normpen._kernels._blas cimport _dot, _axpy, _nrm2
from sklearn_normpen._kernels._helpers cimport (
    _soft_threshold, _block_soft_threshold, _soft_threshold_norm, _fmax, _fmin)


cdef inline floating _sgl_dual_scale(const floating* z, int k, floating l1, floating l2,
                                     floating rho) noexcept nogil:
    """Largest t in [0, 1] with ||S(t z, l1)||_2 <= l2 (the group's dual constraint)."""
    cdef floating nrm, zmax = 0, lo, hi, mid, acc, e
    cdef int a, it
    if rho == 0:
        nrm = _nrm2(k, z, 1)
        return l2 / nrm if nrm > l2 else 1
    if rho == 1:
        for a in range(k):
            zmax = _fmax(zmax, fabs(z[a]))
        return l1 / zmax if zmax > l1 else 1
    if _soft_threshold_norm(z, k, l1) <= l2:
        return 1
    # ||S(t z, l1)|| increases with t: bisection, keeping the feasible end.
    lo = 0
    hi = 1
    for it in range(60):
        mid = 0.5 * (lo + hi)
        acc = 0
        for a in range(k):
            e = mid * fabs(z[a]) - l1
            if e > 0:
                acc += e * e
        if sqrt(acc) <= l2:
            lo = mid
        else:
            hi = mid
    return lo


cdef inline floating _group_penalty(const floating* w, const int* idx, int k, floating c,
                                    floating alpha, floating rho) noexcept nogil:
    cdef floating l1 = 0, l2 = 0
    cdef int a
    if c <= 0:
        return 0
    for a in range(k):
        l1 += fabs(w[idx[a]])
        l2 += w[idx[a]] * w[idx[a]]
    return alpha * (rho * l1 + (1 - rho) * c * sqrt(l2))


cdef inline floating _prox_step(floating* v, int k, floating c, floating L,
                                floating alpha, floating rho) noexcept nogil:
    """v <- prox of the group penalty with step 1/L (in place); returns ||v||."""
    cdef int a
    cdef floating t1
    if c <= 0:
        return 0
    t1 = alpha * rho / L
    if t1 > 0:
        for a in range(k):
            v[a] = _soft_threshold(v[a], t1)
    return _block_soft_threshold(v, k, alpha * (1 - rho) * c / L)


cdef inline floating _model_value(const floating* Q, int k, const floating* w0,
                                  const floating* z, const floating* u, floating* dv,
                                  floating c, floating alpha, floating rho) noexcept nogil:
    """q(u) - pen(w0): 1/2 d^T Q d - z^T d + pen(u), d = u - w0."""
    cdef int a
    cdef floating val = 0, l1 = 0, l2 = 0
    for a in range(k):
        dv[a] = u[a] - w0[a]
    for a in range(k):
        val += dv[a] * (0.5 * _dot(k, &Q[a * k], 1, dv, 1) - z[a])
    if c > 0:
        for a in range(k):
            l1 += fabs(u[a])
            l2 += u[a] * u[a]
        val += alpha * (rho * l1 + (1 - rho) * c * sqrt(l2))
    return val


cdef void _block_solve_l2(const floating* Vt, const floating* e, int k, floating lam,
                          const floating* w0, const floating* z, floating* u, floating* bt,
                          floating* tmp) noexcept nogil:
    """Exact block minimiser for the pure group penalty lam ||u||_2 (rho = 0) from the
    eigendecomposition Q = Vt^T diag(e) Vt (Vt row-major, one eigenvector per row: both
    products below run over contiguous rows).

    Optimality: (Q + mu I) u = b with b = Q w0 + z and mu = lam / ||u||, so u = 0 iff
    ||b|| <= lam; otherwise, with bt = V^T b, mu solves the secular equation
    phi(mu) = 1 / ||bt / (e + mu)|| - mu / lam = 0. phi is concave, so Newton started right
    of the root (phi <= 0) decreases monotonically onto it. Null directions of Q (e ~ 0)
    carry no b component in exact arithmetic (b lies in range(Q)); they are dropped."""
    cdef int a, i, it
    cdef floating emax = 0, bnorm = 0, mu, mu_new, nrm, s3, d, eps_e, rel
    if floating is float:
        rel = 1e-6
    else:
        rel = 1e-13
    for i in range(k):
        emax = _fmax(emax, e[i])
    eps_e = emax * 10 * rel
    for i in range(k):
        tmp[i] = e[i] * _dot(k, &Vt[i * k], 1, w0, 1) + _dot(k, &Vt[i * k], 1, z, 1)
    for i in range(k):
        bt[i] = tmp[i] if e[i] > eps_e else 0
        bnorm += bt[i] * bt[i]
    bnorm = sqrt(bnorm)
    if bnorm <= lam:
        for a in range(k):
            u[a] = 0
        return
    mu = lam * emax / (bnorm - lam)  # phi(mu) <= 0 here (||u(mu)|| >= ||b|| / (emax + mu))
    if mu <= 0:
        mu = lam  # emax = 0 cannot happen with bnorm > 0; keep mu positive anyway
    for it in range(100):
        nrm = 0
        s3 = 0
        for i in range(k):
            if bt[i] != 0:
                d = bt[i] / (e[i] + mu)
                nrm += d * d
                s3 += d * d / (e[i] + mu)
        nrm = sqrt(nrm)
        # phi = 1/nrm - mu/lam ; phi' = s3 / nrm^3 - 1/lam
        mu_new = mu - (1 / nrm - mu / lam) / (s3 / (nrm * nrm * nrm) - 1 / lam)
        if not (mu_new > 0):  # rounding guard: keep the last valid mu
            break
        if fabs(mu_new - mu) <= rel * mu:
            mu = mu_new
            break
        mu = mu_new
    for a in range(k):
        u[a] = 0
    for i in range(k):
        if bt[i] != 0:
            _axpy(k, bt[i] / (e[i] + mu), &Vt[i * k], 1, u, 1)


cdef int _block_solve(const floating* Q, int k, floating Lg, const floating* w0,
                      const floating* z, floating* u, floating* uold, floating* v,
                      floating* dv, floating* grad, floating* u1, floating c, floating alpha,
                      floating rho, int max_inner, floating eps) noexcept nogil:
    """u <- (approximate) argmin of the block model q (see the header) by FISTA started at
    w0, with gradient-based restart, at most ``max_inner`` iterations; stops when the last
    change is <= eps times the total change from w0. FISTA is not monotone: if the result
    models worse than the first (plain proximal-gradient) iterate u1, u1 is returned, so a
    visit never does worse than the former one-step update. Returns the iteration count."""
    cdef int a, it, n_it = max_inner
    cdef floating tk = 1, tnext, beta, dmax, tot, restart, q0
    if k == 1:
        # exact: minimiser of 1/2 Q d^2 - z d + pen(w0 + d)
        q0 = Q[0] if Q[0] > 0 else Lg
        u[0] = w0[0] + z[0] / q0
        if c > 0:
            _prox_step(u, 1, c, q0, alpha, rho)
        return 1
    for a in range(k):
        u[a] = w0[a] + z[a] / Lg  # first step from v = w0: gradient is -z
    if c > 0:
        _prox_step(u, k, c, Lg, alpha, rho)
    for a in range(k):
        v[a] = u[a]
        u1[a] = u[a]
    for it in range(1, max_inner):
        for a in range(k):
            dv[a] = v[a] - w0[a]
        for a in range(k):
            grad[a] = _dot(k, &Q[a * k], 1, dv, 1) - z[a]
        for a in range(k):
            uold[a] = u[a]
            u[a] = v[a] - grad[a] / Lg
        if c > 0:
            _prox_step(u, k, c, Lg, alpha, rho)
        dmax = 0
        tot = 0
        restart = 0
        for a in range(k):
            dmax = _fmax(dmax, fabs(u[a] - uold[a]))
            tot = _fmax(tot, fabs(u[a] - w0[a]))
            restart += (v[a] - u[a]) * (u[a] - uold[a])
        if dmax <= eps * tot:
            n_it = it + 1
            break
        if restart > 0:  # momentum points uphill: restart from u
            tk = 1
            for a in range(k):
                v[a] = u[a]
        else:
            tnext = 0.5 * (1 + sqrt(1 + 4 * tk * tk))
            beta = (tk - 1) / tnext
            tk = tnext
            for a in range(k):
                v[a] = u[a] + beta * (u[a] - uold[a])
    if n_it > 1 and (_model_value(Q, k, w0, z, u, dv, c, alpha, rho)
                     > _model_value(Q, k, w0, z, u1, dv, c, alpha, rho)):
        for a in range(k):
            u[a] = u1[a]
    return n_it


def group_grams_dense(const floating[::1, :] X, const floating[::1] xmean,
                      const int[::1] gptr, const int[::1] gidx, floating[::1] out):
    """Concatenated centred group Grams (X_g^T X_g / n - xbar xbar^T), row-major blocks."""
    cdef int n = X.shape[0], g, a, b, k, start, pos = 0, ja, jb
    with nogil:
        for g in range(gptr.shape[0] - 1):
            start = gptr[g]
            k = gptr[g + 1] - start
            for a in range(k):
                ja = gidx[start + a]
                for b in range(a, k):
                    jb = gidx[start + b]
                    out[pos + a * k + b] = (_dot(n, &X[0, ja], 1, &X[0, jb], 1) / n
                                            - xmean[ja] * xmean[jb])
                    out[pos + b * k + a] = out[pos + a * k + b]
            pos += k * k


def group_grams_sparse(const floating[::1] data, const int[::1] indices,
                       const int[::1] indptr, int n, const floating[::1] sw,
                       const floating[::1] xmean, const int[::1] gptr, const int[::1] gidx,
                       floating[::1] out):
    """Concatenated centred weighted group Grams (X_g^T S X_g - n xbar xbar^T) / n (CSC X,
    sorted indices, sum(sw) = n)."""
    cdef int g, a, b, k, start, pos = 0, ja, jb, pa, pb, ea, eb
    cdef floating acc
    with nogil:
        for g in range(gptr.shape[0] - 1):
            start = gptr[g]
            k = gptr[g + 1] - start
            for a in range(k):
                ja = gidx[start + a]
                for b in range(a, k):
                    jb = gidx[start + b]
                    acc = 0
                    pa = indptr[ja]
                    ea = indptr[ja + 1]
                    pb = indptr[jb]
                    eb = indptr[jb + 1]
                    while pa < ea and pb < eb:  # merge of two sorted index lists
                        if indices[pa] == indices[pb]:
                            acc += sw[indices[pa]] * data[pa] * data[pb]
                            pa += 1
                            pb += 1
                        elif indices[pa] < indices[pb]:
                            pa += 1
                        else:
                            pb += 1
                    out[pos + a * k + b] = (acc - n * xmean[ja] * xmean[jb]) / n
                    out[pos + b * k + a] = out[pos + a * k + b]
            pos += k * k


def bcd_dense(const floating[::1, :] X, const floating[::1] xmean,
              const floating[::1] y, floating[::1] w, floating[::1] r,
              const int[::1] gptr, const int[::1] gidx, const floating[::1] c,
              const floating[::1] L, const floating[::1] Q, const Py_ssize_t[::1] qoff,
              const floating[::1] V, const floating[::1] E, int exact, const int[::1] ws,
              floating alpha, floating rho,
              int max_epochs, floating tol, int gap_freq, int max_inner, floating inner_eps,
              floating[::1] buf, floating[::1] wold):
    """Block CD over the groups listed in ``ws`` (every group with w_g != 0 must be there).

    Unit sample weights (weighted problems arrive sqrt(s)-scaled and centred, with
    ``xmean = 0``). Centring is implicit as in :func:`bcd_sparse`: ``r = y - X w`` with
    ``X`` uncentred, ``y`` centred. ``r`` is kept up to date. Stops when the duality gap of
    the problem restricted to ``ws`` is <= ``tol`` (absolute, 1/(2n) scaling).
    ``Q``: the concatenated row-major group Grams (:func:`group_grams_dense`), group ``g``'s
    block starting at ``qoff[g]``; each block visit solves the block model with at most
    ``max_inner`` FISTA iterations (relative change ``inner_eps``, see ``_block_solve``).
    With ``exact`` (``rho = 0`` only), penalised groups of size > 1 are solved exactly
    instead from ``Q_g = V_g^T diag(E_g) V_g`` (``V``: eigenvectors as rows, laid out as
    ``Q``; ``E`` laid out as ``gidx``).
    ``buf`` is scratch of length >= 7 * the largest group size, ``wold`` >= that size.
    Returns ``(n_epochs, gap)``.
    """
    cdef int n = X.shape[0], n_ws = ws.shape[0]
    cdef int epoch = 0, i, g, a, k, start, j, m
    cdef floating Lg, d, dmax, wmax, gap = 1e300, rsum = 0
    cdef int kmax = wold.shape[0]
    cdef floating* zg = &buf[kmax]
    cdef floating* uold = &buf[2 * kmax]
    cdef floating* v = &buf[3 * kmax]
    cdef floating* dv = &buf[4 * kmax]
    cdef floating* grad = &buf[5 * kmax]
    cdef floating* u1 = &buf[6 * kmax]
    with nogil:
        for i in range(n):
            rsum += r[i]
        for epoch in range(max_epochs):
            dmax = 0
            wmax = 0
            for i in range(n_ws):
                g = ws[i]
                Lg = L[g]
                if Lg <= 0:
                    continue
                start = gptr[g]
                k = gptr[g + 1] - start
                for a in range(k):
                    j = gidx[start + a]
                    wold[a] = w[j]
                    zg[a] = (_dot(n, &X[0, j], 1, &r[0], 1) - xmean[j] * rsum) / n
                # Gram-space work is O(k^2) per inner iteration against the visit's
                # O(n k) data pass: at most ~4 passes' worth of inner iterations, and
                # the single step when k > n (wide groups, few samples: the Gram
                # work would dominate).
                m = 1 if k > n else min(max_inner, max(2, 4 * n // k))
                if exact and k > 1 and c[g] > 0 and m >= 2:
                    _block_solve_l2(&V[qoff[g]], &E[start], k, alpha * c[g], &wold[0], zg,
                                    &buf[0], uold, v)
                else:
                    _block_solve(&Q[qoff[g]], k, Lg, &wold[0], zg, &buf[0], uold, v, dv,
                                 grad, u1, c[g], alpha, rho, m, inner_eps)
                for a in range(k):
                    d = buf[a] - wold[a]
                    if d != 0:
                        j = gidx[start + a]
                        w[j] = buf[a]
                        _axpy(n, -d, &X[0, j], 1, &r[0], 1)
                        rsum -= d * n * xmean[j]
                        dmax = _fmax(dmax, fabs(d))
                    wmax = _fmax(wmax, fabs(buf[a]))
            if (epoch + 1) % gap_freq == 0 or dmax <= 1e-3 * wmax or epoch == max_epochs - 1:
                rsum = 0  # resynchronise (rounding drift)
                for i in range(n):
                    rsum += r[i]
                gap = _gap_dense(X, xmean, y, w, r, rsum, gptr, gidx, c, ws, alpha, rho,
                                 buf)
                if gap <= tol:
                    break
    return min(epoch + 1, max_epochs), gap


cdef floating _gap_dense(const floating[::1, :] X, const floating[::1] xmean,
                         const floating[::1] y, const floating[::1] w,
                         const floating[::1] r, floating rsum, const int[::1] gptr,
                         const int[::1] gidx, const floating[::1] c, const int[::1] ws,
                         floating alpha, floating rho, floating[::1] buf) noexcept nogil:
    cdef int n = X.shape[0], i, g, a, k, start, j
    cdef floating pen = 0, t = 1, rr, ry, wz_unpen = 0, off = 0
    for i in range(ws.shape[0]):
        g = ws[i]
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            j = gidx[start + a]
            off += xmean[j] * w[j]
        if c[g] <= 0:
            for a in range(k):
                j = gidx[start + a]
                wz_unpen += w[j] * (_dot(n, &X[0, j], 1, &r[0], 1) - xmean[j] * rsum) / n
            continue
        pen += _group_penalty(&w[0], &gidx[start], k, c[g], alpha, rho)
        for a in range(k):
            j = gidx[start + a]
            buf[a] = (_dot(n, &X[0, j], 1, &r[0], 1) - xmean[j] * rsum) / n
        t = _fmin(t, _sgl_dual_scale(&buf[0], k, alpha * rho, alpha * (1 - rho) * c[g], rho))
    # The centred residual is r + off: ||r + off||^2 and <r + off, y> (sum(y) = 0).
    rr = _dot(n, &r[0], 1, &r[0], 1) + 2 * off * rsum + n * off * off
    ry = _dot(n, &r[0], 1, &y[0], 1)
    # P = rr/(2n) + pen;  D = (2 t ry - t^2 rr)/(2n)  with theta = t r / n. theta misses
    # X_U^T theta = 0 for unpenalised features: adding t w_U^T z_U keeps the stopping
    # quantity >= 0 (a sum of two Fenchel-Young gaps); the Python layer certifies exactly.
    return (rr - 2 * t * ry + t * t * rr) / (2 * n) + pen + t * wz_unpen


cdef inline floating _sparse_corr(const floating[::1] data, const int[::1] indices,
                                  const int[::1] indptr, const floating[::1] sw,
                                  const floating[::1] r, int j) noexcept nogil:
    cdef floating acc = 0
    cdef int p
    for p in range(indptr[j], indptr[j + 1]):
        acc += data[p] * sw[indices[p]] * r[indices[p]]
    return acc


def bcd_sparse(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
               const floating[::1] sw, const floating[::1] xmean,
               const floating[::1] y, floating[::1] w, floating[::1] r,
               const int[::1] gptr, const int[::1] gidx, const floating[::1] c,
               const floating[::1] L, const floating[::1] Q, const Py_ssize_t[::1] qoff,
               const floating[::1] V, const floating[::1] E, int exact, const int[::1] ws,
               floating alpha, floating rho,
               int max_epochs, floating tol, int gap_freq, int max_inner, floating inner_eps,
               floating[::1] buf, floating[::1] wold):
    """CSC version of :func:`bcd_dense`; ``r`` is ``y - X w`` with X *uncentred* (the
    centring is implicit), ``sw`` the sample weights (sum n), ``y`` weighted-centred."""
    cdef int n = y.shape[0], n_ws = ws.shape[0]
    cdef int epoch = 0, i, g, a, k, start, j, p, nnz_g, m
    cdef floating Lg, d, dmax, wmax, gap = 1e300, srsum = 0
    cdef int kmax = wold.shape[0]
    cdef floating* zg = &buf[kmax]
    cdef floating* uold = &buf[2 * kmax]
    cdef floating* v = &buf[3 * kmax]
    cdef floating* dv = &buf[4 * kmax]
    cdef floating* grad = &buf[5 * kmax]
    cdef floating* u1 = &buf[6 * kmax]
    with nogil:
        for i in range(n):
            srsum += sw[i] * r[i]
        for epoch in range(max_epochs):
            dmax = 0
            wmax = 0
            for i in range(n_ws):
                g = ws[i]
                Lg = L[g]
                if Lg <= 0:
                    continue
                start = gptr[g]
                k = gptr[g + 1] - start
                nnz_g = 0
                for a in range(k):
                    j = gidx[start + a]
                    wold[a] = w[j]
                    zg[a] = (_sparse_corr(data, indices, indptr, sw, r, j)
                             - xmean[j] * srsum) / n
                    nnz_g += indptr[j + 1] - indptr[j]
                # Gram-space work is O(k^2) per inner iteration against the visit's
                # O(nnz_g) data pass: at most ~4 passes' worth of inner iterations, and
                # the single step when k > nnz_g (wide groups, few samples: the Gram
                # work would dominate).
                m = 1 if k > nnz_g else min(max_inner, max(2, 4 * nnz_g // k))
                if exact and k > 1 and c[g] > 0 and m >= 2:
                    _block_solve_l2(&V[qoff[g]], &E[start], k, alpha * c[g], &wold[0], zg,
                                    &buf[0], uold, v)
                else:
                    _block_solve(&Q[qoff[g]], k, Lg, &wold[0], zg, &buf[0], uold, v, dv,
                                 grad, u1, c[g], alpha, rho, m, inner_eps)
                for a in range(k):
                    d = buf[a] - wold[a]
                    if d != 0:
                        j = gidx[start + a]
                        w[j] = buf[a]
                        for p in range(indptr[j], indptr[j + 1]):
                            r[indices[p]] -= d * data[p]
                        srsum -= d * n * xmean[j]
                        dmax = _fmax(dmax, fabs(d))
                    wmax = _fmax(wmax, fabs(buf[a]))
            if (epoch + 1) % gap_freq == 0 or dmax <= 1e-3 * wmax or epoch == max_epochs - 1:
                srsum = 0  # resynchronise (rounding drift)
                for i in range(n):
                    srsum += sw[i] * r[i]
                gap = _gap_sparse(data, indices, indptr, sw, xmean, y, w, r, srsum, gptr,
                                  gidx, c, ws, alpha, rho, buf)
                if gap <= tol:
                    break
    return min(epoch + 1, max_epochs), gap


cdef floating _gap_sparse(const floating[::1] data, const int[::1] indices,
                          const int[::1] indptr, const floating[::1] sw,
                          const floating[::1] xmean, const floating[::1] y,
                          const floating[::1] w, const floating[::1] r, floating srsum,
                          const int[::1] gptr, const int[::1] gidx, const floating[::1] c,
                          const int[::1] ws, floating alpha, floating rho,
                          floating[::1] buf) noexcept nogil:
    cdef int n = y.shape[0], i, g, a, k, start, j
    cdef floating pen = 0, t = 1, rr = 0, ry = 0, off = 0, rt, wz_unpen = 0
    for i in range(ws.shape[0]):
        g = ws[i]
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            j = gidx[start + a]
            off += xmean[j] * w[j]
        if c[g] <= 0:
            for a in range(k):
                j = gidx[start + a]
                wz_unpen += w[j] * (_sparse_corr(data, indices, indptr, sw, r, j)
                                    - xmean[j] * srsum) / n
            continue
        pen += _group_penalty(&w[0], &gidx[start], k, c[g], alpha, rho)
        for a in range(k):
            j = gidx[start + a]
            buf[a] = (_sparse_corr(data, indices, indptr, sw, r, j) - xmean[j] * srsum) / n
        t = _fmin(t, _sgl_dual_scale(&buf[0], k, alpha * rho, alpha * (1 - rho) * c[g], rho))
    # The centred residual is r + off (off = xmean^T w).
    for i in range(n):
        rt = r[i] + off
        rr += sw[i] * rt * rt
        ry += sw[i] * rt * y[i]
    return (rr - 2 * t * ry + t * t * rr) / (2 * n) + pen + t * wz_unpen


def gradient_dense(const floating[::1, :] X, const floating[::1] xmean,
                   const floating[::1] r, double[::1] z):
    """z_j = x_jc^T r_c / n for every feature (level-1 BLAS: no threading surprises)."""
    cdef int n = X.shape[0], j, i
    cdef double rsum = 0
    with nogil:
        for i in range(n):
            rsum += r[i]
        for j in range(X.shape[1]):
            z[j] = (_dot(n, &X[0, j], 1, &r[0], 1) - xmean[j] * rsum) / n


def gradient_sparse(const floating[::1] data, const int[::1] indices,
                    const int[::1] indptr, const floating[::1] sw,
                    const floating[::1] xmean, const floating[::1] r, double[::1] z):
    """CSC version of :func:`gradient_dense` with sample weights ``sw`` (sum n)."""
    cdef int n = r.shape[0], j, i
    cdef double srsum = 0
    with nogil:
        for i in range(n):
            srsum += sw[i] * r[i]
        for j in range(indptr.shape[0] - 1):
            z[j] = (_sparse_corr(data, indices, indptr, sw, r, j) - xmean[j] * srsum) / n
