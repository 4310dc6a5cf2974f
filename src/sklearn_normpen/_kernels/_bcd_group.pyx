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
# The sparse-group prox is soft-threshold then group shrinkage. Groups holding a finite box
# limit (lower_j <= w_j <= upper_j, 0 inside; exclusions are [0, 0]) take the prox of
# penalty + box instead (_box_prox) and skip the exact rho = 0 solve; the others run as before.
#
# Each dense/CSC pair of entry points is one implementation over the fused column access of
# _design.pxd, specialised at compile time for each layout.
# Dense kernels work on an explicitly centred, sqrt(s)-scaled copy (unit weights inside).
# Sparse kernels centre implicitly: they keep r_raw = y - X w (X uncentred) and use
#   x_jc^T (s * r) = x_j^T (s * r_raw) - xmean_j * sum(s * r_raw)
# (the offset xmean^T w cancels because sum(s) = n), so no dense column is ever formed.
import numpy as np

from sklearn_normpen._kernels import prediction_arg

from cython cimport floating
from libc.math cimport INFINITY, fabs, isinf, sqrt
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_lapack cimport dsyev

from sklearn_normpen._kernels._blas cimport _dot, _axpy, _nrm2, _copy
from sklearn_normpen._kernels._design cimport (
    Dense, Csc, design, _col, _col_dot, _col_axpy, _predicted_start, _sum_sr, _ptr, _csc)
from sklearn_normpen._kernels._helpers cimport (
    _soft_threshold, _block_soft_threshold, _soft_threshold_norm, _fmax, _fmin,
    _fista_grad_step, _fista_next, _fista_start, _anderson, _anderson_due,
    _anderson_backoff, _next_gap_check, ANDERSON_K)


cdef inline floating _sgl_dual_scale(const floating* z, int k, floating l1, floating l2,
                                     floating rho) noexcept nogil:
    """Largest t in [0, 1] with ||S(t z, l1)||_2 <= l2 (the group's dual constraint)."""
    cdef floating nrm, zmax = 0, lo, hi, mid
    cdef double acc, e  # squares in double: float32 gradients ~1e20 square beyond its range
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
    cdef floating l1 = 0
    cdef double l2 = 0
    cdef int a
    if c <= 0:
        return 0
    for a in range(k):
        l1 += fabs(w[idx[a]])
        l2 += <double>w[idx[a]] * w[idx[a]]
    return alpha * (rho * l1 + (1 - rho) * c * <floating>sqrt(l2))


cdef inline double _side(double x, double lo, double up) noexcept nogil:
    """The limit on x's side, as a magnitude (inf: none; 0: the side is closed)."""
    return up if x >= 0 else -lo


cdef floating _box_prox(floating* v, int k, double l1, double l2, const floating* lo,
                        const floating* up) noexcept nogil:
    """v <- prox of l1||x||_1 + l2||x||_2 + box (lo <= 0 <= up) at v, in place; returns ||v||.

    Coordinate-wise KKT with t = ||x|| > 0 gives x = clip(s S(v, l1), lo, up), s = 1/(1 + mu),
    mu = l2/t; with tau = mu/(1 + mu) = 1 - s, t = l2/mu reads
        h(tau) = ||m(tau)|| = l2,   m_j = min(tau |S_j|, tau/(1 - tau) b_j)
    (b_j the limit on S_j's side), and h increases from 0 to ||e|| (e = S on the open
    sides) as tau goes from 0 to 1: a root iff ||e|| > l2, else x = 0 (0 is in v's
    subdifferential set: S on the open sides fits in the l2-ball, closed sides absorb the
    rest). Unclipped, h(tau) = tau ||e||: the root is then l2/||e|| (the plain prox), and
    clipping only lowers h, so the search starts there and moves right: Newton on h,
    kept inside a bracket, bisection when a step leaves it."""
    cdef int a, it
    cdef double S, b, e2 = 0, s2 = 0, nrm, tau, lo_t, hi_t = 1, h, dh, m, om, tnew, x
    cdef double out = 0
    cdef bint inside = True
    for a in range(k):
        S = v[a]
        S = S - l1 if S > l1 else (S + l1 if S < -l1 else 0)
        v[a] = S
        s2 += S * S
        if S != 0 and _side(S, lo[a], up[a]) > 0:
            e2 += S * S
    if l2 > 0 and s2 > l2 * l2:
        # the box-free prox; when it is inside the box it is the prox with the box too
        # (the common case: limits that do not bind cost one pass more)
        om = 1 - l2 / sqrt(s2)
        for a in range(k):
            x = om * v[a]
            if x > up[a] or x < lo[a]:
                inside = False
                break
        if inside:
            for a in range(k):
                v[a] = om * v[a]
            return sqrt(s2) - l2
    if l2 <= 0 or e2 <= l2 * l2:
        for a in range(k):
            if l2 > 0:
                v[a] = 0
            else:  # no group term: the separable clip
                x = v[a]
                v[a] = up[a] if x > up[a] else (lo[a] if x < lo[a] else x)
                out += v[a] * v[a]
        return sqrt(out)
    nrm = sqrt(e2)
    tau = l2 / nrm
    lo_t = tau
    for it in range(100):
        om = 1 - tau
        h = 0
        dh = 0
        for a in range(k):
            S = fabs(v[a])
            b = _side(v[a], lo[a], up[a])
            if S == 0 or b == 0:
                continue
            if isinf(b) or tau * S <= tau / om * b:
                m = tau * S
                dh += m * S
            else:
                m = tau / om * b
                dh += m * b / (om * om)
            h += m * m
        h = sqrt(h)
        if h <= l2:
            lo_t = tau
        else:
            hi_t = tau
        if fabs(h - l2) <= 1e-15 * l2 or hi_t - lo_t <= 1e-16:
            break
        tnew = tau - (h - l2) * h / dh if dh > 0 else 0.5 * (lo_t + hi_t)
        if not (lo_t < tnew < hi_t):
            tnew = 0.5 * (lo_t + hi_t)
        tau = tnew
    om = 1 - tau
    for a in range(k):
        x = om * v[a]
        x = up[a] if x > up[a] else (lo[a] if x < lo[a] else x)
        v[a] = x
        out += x * x
    return sqrt(out)


cdef double _box_conj(const floating* z, const int* idx, int k, double t, double l1,
                      double l2, const floating* lower, const floating* upper) noexcept nogil:
    """Upper bound on h_g*(t z) for h_g = l1||.||_1 + l2||.||_2 + box (see
    SparseGroupLasso in penalties.py): sum_j b_j (a_j - b_j s)_+ for an s on the feasible
    side of psi(s) = sum_j min(a_j, b_j s)^2 <= l2^2; a_j = (t|z_j| - l1)_+. s by the
    saturation fixed point: with the coordinates saturated at the last s (a_j <= b_j s)
    counted as a_j^2, solve the rest's b^2 s^2 for the new s; every iterate is feasible
    (psi(s) <= that model) and they increase to the root in at most k steps. The caller
    scaled t so that the unlimited sides alone fit (1e300 flags the contrary)."""
    cdef int a, it
    cdef double ai, b, inf2 = 0, all2 = 0, s = 0, snew, A, B, out = 0
    for a in range(k):
        ai = fabs(t * z[a]) - l1
        b = _side(z[a], lower[idx[a]], upper[idx[a]])
        if ai <= 0 or b == 0:
            continue
        all2 += ai * ai
        if isinf(b):
            inf2 += ai * ai
    if all2 <= l2 * l2:
        return 0
    if inf2 > l2 * l2:
        return 1e300
    for it in range(k + 1):
        A = inf2
        B = 0
        for a in range(k):
            ai = fabs(t * z[a]) - l1
            b = _side(z[a], lower[idx[a]], upper[idx[a]])
            if ai <= 0 or b == 0 or isinf(b):
                continue
            if ai <= b * s:
                A += ai * ai
            else:
                B += b * b
        if B <= 0:
            break
        snew = sqrt(_fmax(l2 * l2 - A, 0) / B) * (1 - 1e-12)
        if snew <= s:
            break
        s = snew
    for a in range(k):
        ai = fabs(t * z[a]) - l1
        b = _side(z[a], lower[idx[a]], upper[idx[a]])
        if ai > 0 and b > 0 and not isinf(b) and ai > b * s:
            out += b * (ai - b * s)
    return out


cdef inline floating _prox_step(floating* v, int k, floating c, floating L,
                                floating alpha, floating rho, const floating* lo,
                                const floating* up) noexcept nogil:
    """v <- prox of the group penalty (plus the box [lo, up] when lo is not NULL) with step
    1/L (in place); returns ||v||."""
    cdef int a
    cdef floating t1
    if lo != NULL:
        if c <= 0:
            return _box_prox(v, k, 0, 0, lo, up)
        return _box_prox(v, k, alpha * rho / L, alpha * (1 - rho) * c / L, lo, up)
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
    cdef floating val = 0, l1 = 0
    cdef double l2 = 0
    for a in range(k):
        dv[a] = u[a] - w0[a]
    for a in range(k):
        val += dv[a] * (0.5 * _dot(k, &Q[a * k], 1, dv, 1) - z[a])
    if c > 0:
        for a in range(k):
            l1 += fabs(u[a])
            l2 += <double>u[a] * u[a]
        val += alpha * (rho * l1 + (1 - rho) * c * <floating>sqrt(l2))
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
    cdef floating emax = 0, eps_e, rel
    # the secular equation in double: b ~ the gradient, whose float32 squares can overflow
    cdef double bnorm = 0, mu, mu_new, nrm, s3, d
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
        bnorm += <double>bt[i] * bt[i]
    bnorm = sqrt(bnorm)
    if bnorm <= lam:
        for a in range(k):
            u[a] = 0
        return
    # phi(mu) <= 0 here (||u(mu)|| >= ||b|| / (emax + mu)); the product in double (in float32
    # lam * emax ~ |z|·|X|² overflows for data ~1e10)
    mu = <double>lam * emax / (bnorm - lam)
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
                      floating rho, int max_inner, floating eps, const floating* lo,
                      const floating* up) noexcept nogil:
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
        if c > 0 or lo != NULL:
            _prox_step(u, 1, c, q0, alpha, rho, lo, up)
        return 1
    for a in range(k):
        u[a] = w0[a] + z[a] / Lg  # first step from v = w0: gradient is -z
    if c > 0 or lo != NULL:
        _prox_step(u, k, c, Lg, alpha, rho, lo, up)
    _fista_start(k, u, v, u1)
    for it in range(1, max_inner):
        for a in range(k):
            dv[a] = v[a] - w0[a]
        for a in range(k):
            grad[a] = _dot(k, &Q[a * k], 1, dv, 1) - z[a]
        _fista_grad_step(k, u, uold, v, grad, 1 / Lg)
        if c > 0 or lo != NULL:
            _prox_step(u, k, c, Lg, alpha, rho, lo, up)
        if _fista_next(k, u, uold, v, w0, eps, &tk):
            n_it = it + 1
            break
    if n_it > 1 and (_model_value(Q, k, w0, z, u, dv, c, alpha, rho)
                     > _model_value(Q, k, w0, z, u1, dv, c, alpha, rho)):
        for a in range(k):
            u[a] = u1[a]
    return n_it


cdef inline floating _centred_col_gram(Dense X, const floating* vals, int n,
                                       const floating* xmean, int ja,
                                       int jb) noexcept nogil:
    """Entry (ja, jb) of the centred group Gram of dense X: x_ja' x_jb / n - xbar_ja xbar_jb
    (unit weights: dense kernels work on a sqrt(s)-scaled copy)."""
    return (_dot(n, _col(X, vals, ja), 1, _col(X, vals, jb), 1) / n
            - xmean[ja] * xmean[jb])


cdef void _group_grams(Dense X, const floating* vals, int n,
                       const floating* xmean, int n_groups, const int* gptr, const int* gidx,
                       floating* out) noexcept nogil:
    """Concatenated centred group Grams of dense X, row-major k x k blocks one after the
    other (CSC: :func:`_group_grams_scatter`)."""
    cdef int g, a, b, k, start, pos = 0
    for g in range(n_groups):
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            for b in range(a, k):
                out[pos + a * k + b] = _centred_col_gram(X, vals, n, xmean,
                                                         gidx[start + a], gidx[start + b])
                out[pos + b * k + a] = out[pos + a * k + b]
        pos += k * k


cdef void _group_grams_scatter(Csc X, const floating* vals, int n, const floating* sw,
                               const floating* xmean, int n_groups, const int* gptr,
                               const int* gidx, floating* work,
                               floating* out) noexcept nogil:
    """:func:`_group_grams` on CSC: column ``a`` of a group is scattered (times the weights)
    into ``work`` (length ``n``, zeros; left zero) once, then read at the stored rows of
    columns ``b >= a`` (the merge of two sorted index lists branches at every entry; this
    does not). The same products are summed in the same (row) order: the same values."""
    cdef int g, a, b, k, start, ja, jb, pos = 0
    cdef Py_ssize_t q
    cdef floating acc
    for g in range(n_groups):
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            ja = gidx[start + a]
            for q in range(X.indptr[ja], X.indptr[ja + 1]):
                work[X.indices[q]] = sw[X.indices[q]] * vals[q]
            for b in range(a, k):
                jb = gidx[start + b]
                acc = 0
                for q in range(X.indptr[jb], X.indptr[jb + 1]):
                    acc += work[X.indices[q]] * vals[q]
                out[pos + a * k + b] = (acc - n * xmean[ja] * xmean[jb]) / n
                out[pos + b * k + a] = out[pos + a * k + b]
            for q in range(X.indptr[ja], X.indptr[ja + 1]):
                work[X.indices[q]] = 0
        pos += k * k


def group_grams_dense(const floating[::1, :] X, const floating[::1] xmean,
                      const int[::1] gptr, const int[::1] gidx, floating[::1] out):
    """Concatenated centred group Grams (X_g^T X_g / n - xbar xbar^T), row-major blocks."""
    cdef Dense D
    D.n = <int>X.shape[0]
    with nogil:
        _group_grams(D, &X[0, 0], D.n, &xmean[0],
                     <int>gptr.shape[0] - 1, &gptr[0], &gidx[0], &out[0])


def group_grams_sparse(const floating[::1] data, const int[::1] indices,
                       const int[::1] indptr, int n, const floating[::1] sw,
                       const floating[::1] xmean, const int[::1] gptr, const int[::1] gidx,
                       floating[::1] out):
    """Concatenated centred weighted group Grams (X_g^T S X_g - n xbar xbar^T) / n (CSC X,
    sorted indices, sum(sw) = n)."""
    cdef floating[::1] work = np.zeros(max(n, 1), dtype=np.asarray(out).dtype)
    with nogil:
        _group_grams_scatter(_csc(indices, indptr), _ptr(data), n, &sw[0], &xmean[0],
                             <int>gptr.shape[0] - 1, &gptr[0], &gidx[0], &work[0], &out[0])


cdef inline floating _centred_corr(design X, const floating* vals, int j, const floating* r,
                                   const floating* sw, bint weighted, const floating* xmean,
                                   floating srsum) noexcept nogil:
    """n times z_j: x_jc^T S r = x_j^T S r_raw - xmean_j sum(S r_raw) (implicit centring)."""
    return _col_dot(X, vals, j, r, sw, weighted) - xmean[j] * srsum


cdef enum:
    ACTIVE_MAX = 50       # epochs on the active groups between two working-set epochs


#: a group step constant's relative slack: ``1/L_g`` stays a valid step despite rounding
cdef double L_SLACK = 1e-6


cdef void _spectrum(const floating* Q, int k, floating* Vg, floating* Eg, floating* Lg,
                    int* ready, bint vectors) noexcept nogil:
    """A group Gram's spectrum, in float64 (LAPACK ``dsyev``): ``Lg`` its largest
    eigenvalue with the slack ``L_SLACK`` (0 when not positive: the kernels skip the
    group), and with ``vectors`` ``Q_g = V_gᵀ diag(E_g) V_g`` (eigenvectors as the rows of
    ``Vg``, laid out as ``Q``; eigenvalues clipped at 0). ``ready`` becomes 2 (``Vg``,
    ``Eg`` and ``Lg`` set) or 1 (``Lg`` only). Should ``dsyev`` fail, ``Lg`` is the
    Gershgorin bound (a valid step constant) and ``ready`` 3 (no vectors, not tried
    again): the exact solves then leave the group to FISTA."""
    cdef int a, b, info = 0, n = k, lwork = 3 * k
    cdef char jobz = 86 if vectors else 78  # 'V' / 'N'
    cdef char uplo = 85  # 'U' (Q is symmetric: either triangle)
    cdef double top = 0, row
    cdef double* m = NULL
    ready[0] = 2 if vectors else 1
    if k <= 0:  # (an empty group: nothing to step)
        Lg[0] = 0
        ready[0] = 2
        return
    if k == 1:
        top = Q[0]
        if vectors:
            Vg[0] = 1
            Eg[0] = _fmax(Q[0], 0)
    else:
        m = <double*>malloc((k * k + k + lwork) * sizeof(double))
        info = 1
        if m != NULL:
            for a in range(k * k):
                m[a] = Q[a]
            dsyev(&jobz, &uplo, &n, m, &n, &m[k * k], &m[k * k + k], &lwork, &info)
        if info == 0:
            top = m[k * k + k - 1]
            if vectors:  # column i of the column-major result, eigenvector i: V's row i
                for a in range(k * k):
                    Vg[a] = <floating>m[a]
                for a in range(k):
                    Eg[a] = <floating>(m[k * k + a] if m[k * k + a] > 0 else 0)
        else:
            top = 0
            for a in range(k):
                row = 0
                for b in range(k):
                    row += fabs(Q[a * k + b])
                top = row if row > top else top
            ready[0] = 3
        free(m)
    Lg[0] = <floating>(top * (1 + L_SLACK)) if top > 0 else 0


def group_spectra(const int[::1] gptr, const int[::1] gidx, const floating[::1] Q,
                  const Py_ssize_t[::1] qoff, floating[::1] V, floating[::1] E, int exact,
                  floating[::1] L, int[::1] ready):
    """Every group's :func:`_spectrum` not yet at the level asked (``exact``: vectors,
    level 2; else level 1): the eager form of what :func:`bcd` computes for the groups it
    visits. ``ready`` per group (0: nothing yet); set a group to 2 beforehand (with
    ``L_g = 0``) to keep it out (a dead group). Returns the groups computed."""
    cdef int g, k, G = <int>gptr.shape[0] - 1, need = 2 if exact else 1, done = 0
    with nogil:
        for g in range(G):
            if ready[g] >= need:
                continue
            k = gptr[g + 1] - gptr[g]
            _spectrum(&Q[qoff[g]], k, &V[qoff[g]] if exact else NULL,
                      &E[gptr[g]] if exact else NULL, &L[g], &ready[g], exact)
            done += 1
    return done


cdef inline void _block_step(const floating* Q, const floating* V, const floating* E,
                             Py_ssize_t qo, int start, int k, floating Lg,
                             const floating* wold, const floating* zg, floating* buf,
                             int kmax, floating c, floating alpha, floating rho, int exact,
                             int m, floating inner_eps, const floating* lp,
                             const floating* up) noexcept nogil:
    """The block model's minimiser into ``buf[:k]`` (scratch: the rest of ``buf``): exact
    in the group Gram's eigenbasis (rho = 0, ``exact``, ``m >= 2``) when that lands inside
    the box ``[lp, up]`` (NULL: none), else at most ``m`` FISTA iterations."""
    cdef int a
    cdef bint solved = False
    if exact and k > 1 and c > 0 and m >= 2:
        _block_solve_l2(&V[qo], &E[start], k, alpha * c, wold, zg, &buf[0], &buf[2 * kmax],
                        &buf[3 * kmax])
        solved = True
        if lp != NULL:  # the box-free minimiser stands if it is in the box
            for a in range(k):
                if buf[a] > up[a] or buf[a] < lp[a]:
                    solved = False
                    break
    if not solved:
        _block_solve(&Q[qo], k, Lg, wold, zg, &buf[0], &buf[2 * kmax], &buf[3 * kmax],
                     &buf[4 * kmax], &buf[5 * kmax], &buf[6 * kmax], c, alpha, rho, m,
                     inner_eps, lp, up)


cdef inline double _visit(design X, const floating* vals, int n, const floating* sw,
                          bint weighted, const floating* xmean, floating* w, floating* r,
                          floating* srsum, int g, const int* gptr, const int* gidx,
                          const floating* c, floating* L, const floating* Q,
                          const Py_ssize_t* qoff, floating* V, floating* E,
                          int exact, int* ready, floating alpha, floating rho, int max_inner,
                          floating inner_eps, floating* buf, floating* wold, int kmax,
                          int has_lim, const floating* lower, const floating* upper,
                          const int* glim, floating* dmax, floating* wmax,
                          bint* nonzero) noexcept nogil:
    """One block update of group ``g`` (w, r and the weighted residual sum ``srsum`` kept
    in step). Returns ``L_g ||Δ_g||² / 2``: the step's size in objective units (at least
    ``ΔᵀQ_gΔ / 2``, what an exact block minimisation gains at least), the active cycling's
    stopping measure;
    ``dmax``/``wmax`` take the largest |Δ_j| and |w_j|; ``nonzero``: w_g != 0 after.
    ``ready`` (NULL: every group's spectrum given): a group's spectrum is computed on its
    first visit (:func:`_spectrum`)."""
    cdef floating Lg, d
    cdef int a, k, start, j, m, npass = 0
    cdef floating* zg = &buf[kmax]
    cdef floating* lgb = &buf[7 * kmax]
    cdef floating* ugb = &buf[8 * kmax]
    cdef const floating* lp = NULL
    cdef double dsq = 0
    nonzero[0] = False
    start = gptr[g]
    k = gptr[g + 1] - start
    if ready != NULL and ready[g] < 1 + exact:
        _spectrum(&Q[qoff[g]], k, &V[qoff[g]] if exact else NULL,
                  &E[start] if exact else NULL, &L[g], &ready[g], exact)
    Lg = L[g]
    if Lg <= 0:
        return 0
    for a in range(k):
        j = gidx[start + a]
        wold[a] = w[j]
        zg[a] = _centred_corr(X, vals, j, r, sw, weighted, xmean, srsum[0]) / n
        if design is Csc:
            npass += X.indptr[j + 1] - X.indptr[j]
    if design is Dense:
        npass = n
    if has_lim and glim[g]:
        lp = lgb
        for a in range(k):
            j = gidx[start + a]
            lgb[a] = lower[j]
            ugb[a] = upper[j]
    # Gram-space work is O(k^2) per inner iteration against the visit's data pass (O(n k)
    # dense: npass = n; O(nnz_g) CSC: npass = nnz_g): at most ~4 passes' worth of inner
    # iterations, and the single step when k > npass (wide groups, few samples: the Gram
    # work would dominate).
    m = 1 if k > npass else min(max_inner, max(2, 4 * npass // k))
    if ready != NULL and ready[g] != 2:  # (no eigenvectors: L only, or dsyev failed)
        exact = 0
    _block_step(Q, V, E, qoff[g], start, k, Lg, wold, zg, buf, kmax, c[g], alpha, rho,
                exact, m, inner_eps, lp, ugb)
    for a in range(k):
        d = buf[a] - wold[a]
        if d != 0:
            j = gidx[start + a]
            w[j] = buf[a]
            _col_axpy(X, vals, j, -d, r)
            srsum[0] -= d * n * xmean[j]
            dmax[0] = _fmax(dmax[0], fabs(d))
            dsq += <double>d * d
        if buf[a] != 0:
            nonzero[0] = True
        wmax[0] = _fmax(wmax[0], fabs(buf[a]))
    return 0.5 * Lg * dsq


cdef inline double _primal_bcd(int n, const floating* r, const floating* sw, bint weighted,
                               const floating* xmean, const floating* w, const int* gptr,
                               const int* gidx, const floating* c, const int* ws, int n_ws,
                               floating alpha, floating rho) noexcept nogil:
    """1/(2n) ||r_c||_s^2 + penalty over the groups ``ws`` (w = 0 elsewhere), in double;
    the centred residual is r + xmean^T w."""
    cdef double off = 0, pen = 0, rr = 0, t
    cdef int i, g, a, start, k
    for i in range(n_ws):
        g = ws[i]
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            off += <double>xmean[gidx[start + a]] * w[gidx[start + a]]
        pen += _group_penalty(w, &gidx[start], k, c[g], alpha, rho)
    for i in range(n):
        t = <double>r[i] + off
        rr += t * t * (sw[i] if weighted else 1)
    return rr / (2 * n) + pen


cdef object _bcd(design X, const floating* vals, int n, const floating* sw, bint weighted,
                 const floating[::1] xmean, const floating[::1] y, floating[::1] w,
                 floating[::1] r, const int[::1] gptr, const int[::1] gidx,
                 const floating[::1] c, floating[::1] L, const floating[::1] Q,
                 const Py_ssize_t[::1] qoff, floating[::1] V, floating[::1] E,
                 int exact, const int[::1] ws, floating alpha, floating rho, int max_epochs,
                 floating tol, int gap_freq, int max_inner, floating inner_eps,
                 floating[::1] buf, floating[::1] wold, int has_lim,
                 const floating[::1] lower, const floating[::1] upper,
                 const int[::1] glim, int aa_k, const floating[::1] pred,
                 int[::1] ready):
    """The block CD behind :func:`bcd`, for one layout. Each round: one epoch over the
    working set, then (glmnet's active cycling, while the active groups are under half of
    it) epochs over the active groups until no block step would lower the objective by
    more than ``0.1 tol / |active|``; every ``aa_k + 1`` rounds, Anderson extrapolation of
    the working set's coefficients, kept if it lowers the objective. The gap (a pass over
    the working set's columns, as costly as an epoch's dots) is evaluated when the round's
    working-set epoch moved little (after the third round: every other round), and every
    ``gap_freq`` rounds, but not before the rate of the last two gaps predicts the target
    near (``_next_gap_check``)."""
    cdef int n_ws = ws.shape[0]
    cdef int epoch = 0, i, e2, a, g, j, n_act, m_ws = 0, n_snap = 0, aa_fail = 0
    cdef int aa_wait = 0, rounds = 0, r_prev = 0, not_before = 0
    cdef floating dmax, wmax, dmax2 = 0, wmax2 = 0, gap = 1e300, srsum, srsum_bak
    cdef double g_prev = 0
    cdef double dec, d2, work = 0, act_tol, obj_cur, obj_acc
    cdef int kmax = wold.shape[0]
    cdef bint nz, ok, inbox
    cdef int* rd = &ready[0] if ready.shape[0] > 0 else NULL
    for i in range(n_ws):
        m_ws += gptr[ws[i] + 1] - gptr[ws[i]]
    dt = np.asarray(r).dtype
    cdef int[::1] act = np.empty(max(n_ws, 1), dtype=np.intc)
    cdef int[::1] widx = np.empty(max(m_ws, 1), dtype=np.intc)
    cdef floating[::1] snaps = np.empty((aa_k + 1) * max(m_ws, 1) if aa_k > 0 else 1,
                                        dtype=dt)
    cdef floating[::1] w_acc = np.empty(max(m_ws, 1), dtype=dt)
    cdef floating[::1] r_bak = np.empty(max(n, 1), dtype=dt)
    m_ws = 0
    for i in range(n_ws):
        for a in range(gptr[ws[i]], gptr[ws[i] + 1]):
            widx[m_ws] = gidx[a]
            m_ws += 1
    with nogil:
        if pred.shape[0] > 0 and not has_lim:  # (the offset: implicit, from r's sum)
            _predicted_start(X, vals, n, 1, m_ws, &widx[0], &w[0], &r[0], &xmean[0],
                             &pred[0])
        _sum_sr(n, &r[0], sw, weighted, &srsum)
        while epoch < max_epochs:
            dmax = 0
            wmax = 0
            n_act = 0
            for i in range(n_ws):
                g = ws[i]
                _visit(X, vals, n, sw, weighted, &xmean[0], &w[0], &r[0], &srsum, g,
                       &gptr[0], &gidx[0], &c[0], &L[0], &Q[0], &qoff[0], &V[0], &E[0],
                       exact, rd, alpha, rho, max_inner, inner_eps, &buf[0], &wold[0], kmax,
                       has_lim, &lower[0], &upper[0], &glim[0], &dmax, &wmax, &nz)
                if nz:
                    act[n_act] = g
                    n_act += 1
            epoch += 1
            rounds += 1
            if 2 * n_act < n_ws and epoch < max_epochs:
                act_tol = 0.1 * tol / (n_act if n_act > 0 else 1)
                for e2 in range(ACTIVE_MAX):
                    dec = 0
                    for i in range(n_act):
                        d2 = _visit(X, vals, n, sw, weighted, &xmean[0], &w[0], &r[0],
                                    &srsum, act[i], &gptr[0], &gidx[0], &c[0], &L[0], &Q[0],
                                    &qoff[0], &V[0], &E[0], exact, rd, alpha, rho,
                                    max_inner,
                                    inner_eps, &buf[0], &wold[0], kmax, has_lim, &lower[0],
                                    &upper[0], &glim[0], &dmax2, &wmax2, &nz)
                        if d2 > dec:
                            dec = d2
                    work += <double>n_act / n_ws  # the epoch budget is in passes
                    if work >= 1:
                        work -= 1
                        epoch += 1
                    if dec <= act_tol or epoch >= max_epochs:
                        break
            if aa_k > 0 and _anderson_due(m_ws, &widx[0], &w[0], &snaps[0], aa_k, &n_snap,
                                          &aa_wait):
                ok = False
                if _anderson(aa_k, m_ws, &snaps[0], &w_acc[0]):
                    inbox = True
                    if has_lim:
                        for a in range(m_ws):
                            j = widx[a]
                            if w_acc[a] < lower[j] or w_acc[a] > upper[j]:
                                inbox = False
                                break
                    if inbox:
                        obj_cur = _primal_bcd(n, &r[0], sw, weighted, &xmean[0], &w[0],
                                              &gptr[0], &gidx[0], &c[0], &ws[0], n_ws,
                                              alpha, rho)
                        _copy(n, &r[0], 1, &r_bak[0], 1)
                        srsum_bak = srsum
                        _copy(n, &y[0], 1, &r[0], 1)
                        for a in range(m_ws):
                            j = widx[a]
                            w[j] = w_acc[a]
                            if w_acc[a] != 0:
                                _col_axpy(X, vals, j, -w_acc[a], &r[0])
                        _sum_sr(n, &r[0], sw, weighted, &srsum)
                        obj_acc = _primal_bcd(n, &r[0], sw, weighted, &xmean[0], &w[0],
                                              &gptr[0], &gidx[0], &c[0], &ws[0], n_ws,
                                              alpha, rho)
                        ok = obj_acc < obj_cur
                        if not ok:
                            for a in range(m_ws):
                                w[widx[a]] = snaps[aa_k * m_ws + a]
                            _copy(n, &r_bak[0], 1, &r[0], 1)
                            srsum = srsum_bak
                _anderson_backoff(ok, &aa_fail, &aa_wait)
            if epoch >= max_epochs or (rounds >= not_before and (
                    rounds % gap_freq == 0
                    or (dmax <= 1e-3 * wmax and (rounds < 4 or rounds % 2 == 0)))):
                _sum_sr(n, &r[0], sw, weighted, &srsum)  # resynchronise (rounding drift)
                gap = _bcd_gap(X, vals, n, sw, weighted, &xmean[0], &y[0], &w[0], &r[0],
                               srsum, &gptr[0], &gidx[0], &c[0],
                               &ws[0] if n_ws > 0 else NULL, n_ws, alpha, rho, &buf[0],
                               has_lim, &lower[0], &upper[0], &glim[0], tol)
                if gap <= tol:
                    break
                not_before = _next_gap_check(gap, g_prev, rounds, r_prev, tol, gap_freq)
                g_prev = gap
                r_prev = rounds
    return min(epoch, max_epochs), gap


cdef floating _bcd_gap(design X, const floating* vals, int n, const floating* sw,
                       bint weighted, const floating* xmean, const floating* y,
                       const floating* w, const floating* r, floating srsum, const int* gptr,
                       const int* gidx, const floating* c, const int* ws, int n_ws,
                       floating alpha, floating rho, floating* buf, int has_lim,
                       const floating* lower, const floating* upper,
                       const int* glim, floating tol) noexcept nogil:
    """Duality gap (1/(2n) scaling) of the problem restricted to the groups ``ws``, the
    better of two dual candidates when groups with limits are in ``ws``: every open side in
    the dual ball (conjugate 0), or only the sides without a finite limit (t_inf), plus
    the conjugate of penalty + box, bounded by t_inf·h*(z) (h* convex, h*(0) = 0)."""
    cdef int i, g, a, k, start, j, any_lim = 0
    cdef floating pen = 0, t = 1, t_inf = 1, tg, rr = 0, ry = 0, off = 0, rt, wz_unpen = 0
    cdef double conj = 0, gap1, gain
    cdef bint conj_inf = False
    for i in range(n_ws):
        g = ws[i]
        start = gptr[g]
        k = gptr[g + 1] - start
        for a in range(k):
            j = gidx[start + a]
            off += xmean[j] * w[j]
        if c[g] <= 0:
            for a in range(k):
                j = gidx[start + a]
                wz_unpen += w[j] * _centred_corr(X, vals, j, r, sw, weighted, xmean,
                                                 srsum) / n
            continue
        pen += _group_penalty(w, &gidx[start], k, c[g], alpha, rho)
        for a in range(k):
            j = gidx[start + a]
            buf[a] = _centred_corr(X, vals, j, r, sw, weighted, xmean, srsum) / n
        if has_lim and glim[g]:
            any_lim = 1
            if not conj_inf:
                conj += _box_conj(buf, &gidx[start], k, 1.0, alpha * rho,
                                  alpha * (1 - rho) * c[g], lower, upper)
                conj_inf = conj >= 1e300
            for a in range(k):
                j = gidx[start + a]
                if _side(buf[a], lower[j], upper[j]) == 0:
                    buf[a] = 0  # a side closed by a 0 limit is free
            t = _fmin(t, _sgl_dual_scale(buf, k, alpha * rho, alpha * (1 - rho) * c[g], rho))
            for a in range(k):
                j = gidx[start + a]
                if not isinf(_side(buf[a], lower[j], upper[j])):
                    buf[a] = 0
            t_inf = _fmin(t_inf, _sgl_dual_scale(buf, k, alpha * rho,
                                                 alpha * (1 - rho) * c[g], rho))
        else:
            # this group's own scale bounds both candidates (not the running t: after a
            # limited group's smaller t it would pull t_inf below t, and the tighter
            # candidate would never be taken)
            tg = _sgl_dual_scale(buf, k, alpha * rho, alpha * (1 - rho) * c[g], rho)
            t = _fmin(t, tg)
            t_inf = _fmin(t_inf, tg)
    # The centred residual is r + off (off = xmean^T w): ||r + off||_S^2 and <r + off, y>_S.
    if design is Dense:
        # unit weights and sum(y) = 0: from BLAS dots and sum(r)
        rr = _dot(n, r, 1, r, 1) + 2 * off * srsum + n * off * off
        ry = _dot(n, r, 1, y, 1)
    else:
        for i in range(n):
            rt = r[i] + off
            rr += sw[i] * rt * rt
            ry += sw[i] * rt * y[i]
    gap1 = (rr - 2 * t * ry + t * t * rr) / (2 * n) + pen + t * wz_unpen
    if not any_lim or gap1 <= tol or t_inf <= t:
        return <floating>gap1
    if conj_inf:
        # h*(z) is infinite, h*(t_inf z) is not: a second pass at t_inf, stopped once the
        # conjugate terms exceed what the larger scaling can gain
        conj = 0
        gain = ((2 * t_inf * ry - t_inf * t_inf * rr) - (2 * t * ry - t * t * rr)) / (2 * n)
        for i in range(n_ws):
            g = ws[i]
            if c[g] <= 0 or not glim[g]:
                continue
            start = gptr[g]
            k = gptr[g + 1] - start
            for a in range(k):
                buf[a] = _centred_corr(X, vals, gidx[start + a], r, sw, weighted, xmean,
                                       srsum) / n
            conj += _box_conj(buf, &gidx[start], k, t_inf, alpha * rho,
                              alpha * (1 - rho) * c[g], lower, upper)
            if conj >= gain:
                return <floating>gap1
    else:
        conj *= t_inf
    t = t_inf
    # P = rr/(2n) + pen;  D = (2 t ry - t^2 rr)/(2n)  with theta = t r / n. theta misses
    # X_U^T theta = 0 for unpenalised features: adding t w_U^T z_U keeps the stopping
    # quantity >= 0 (a sum of two Fenchel-Young gaps); the Python layer certifies exactly.
    conj += (rr - 2 * t * ry + t * t * rr) / (2 * n) + pen + t * wz_unpen
    return <floating>(conj if conj < gap1 else gap1)


def bcd(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
        const floating[::1] sw, const floating[::1] xmean,
        const floating[::1] y, floating[::1] w, floating[::1] r,
        const int[::1] gptr, const int[::1] gidx, const floating[::1] c,
        floating[::1] L, const floating[::1] Q, const Py_ssize_t[::1] qoff,
        floating[::1] V, floating[::1] E, int exact, const int[::1] ws,
        floating alpha, floating rho,
        int max_epochs, floating tol, int gap_freq, int max_inner, floating inner_eps,
        floating[::1] buf, floating[::1] wold, int has_lim, const floating[::1] lower,
        const floating[::1] upper, const int[::1] glim, int anderson_k=ANDERSON_K,
        pred=None, ready=None):
    """Block CD over the groups listed in ``ws`` (every group with w_g != 0 must be there).

    ``X`` is CSC (``data``, int32 ``indices``, ``indptr``) with sample weights ``sw`` (sum
    n), or, with ``indices``, ``indptr`` and ``sw`` empty, dense with unit weights (weighted
    problems arrive sqrt(s)-scaled and centred, with ``xmean = 0``): ``data`` is then the
    Fortran-ordered X flattened (``X.ravel(order="F")``, a view), ``n * p`` values.
    Centring is implicit: ``r = y - X w`` with ``X`` uncentred, ``y`` (weighted-)centred.
    ``r`` is kept up to date. Stops when the duality gap of the problem restricted to
    ``ws`` is <= ``tol`` (absolute, 1/(2n) scaling).
    ``Q``: the concatenated row-major group Grams (:func:`group_grams_dense`), group ``g``'s
    block starting at ``qoff[g]``; each block visit solves the block model with at most
    ``max_inner`` FISTA iterations (relative change ``inner_eps``, see ``_block_solve``).
    With ``exact`` (``rho = 0`` only), penalised groups of size > 1 are solved exactly
    instead from ``Q_g = V_g^T diag(E_g) V_g`` (``V``: eigenvectors as rows, laid out as
    ``Q``; ``E`` laid out as ``gidx``).
    ``buf`` is scratch of length >= 9 * the largest group size, ``wold`` >= that size.
    With ``has_lim``, groups ``g`` with ``glim[g]`` keep ``lower <= w <= upper`` (per
    feature; 0 inside): their block updates take the prox of penalty + box. Otherwise
    ``lower``, ``upper``, ``glim`` are not read (length 1 is enough).
    ``anderson_k`` (0 to 5): the depth of the Anderson extrapolation (every
    ``anderson_k + 1`` rounds; 0: none). ``pred`` (p, or None / empty): a predicted
    change of the coefficients (a path's linear extrapolation from its last two points);
    without limits, each non-zero coefficient of ``ws`` first moves by its prediction where
    that keeps its sign (``r`` follows), and the epochs start there. The gap is formed at
    the state reached. ``ready`` (G, int32; None or empty: ``L``, ``V``, ``E`` given for
    every group): each group's spectrum level (:func:`group_spectra`); a visited group
    below the level its solve needs (2 with ``exact``, else 1) has it computed into ``L``,
    ``V``, ``E`` first. Returns ``(n_epochs, gap)``.
    """
    cdef Dense D
    cdef int n = <int>y.shape[0]
    cdef const floating[::1] pr = prediction_arg(pred, w, "bcd")
    cdef int[::1] rd = np.zeros(0, dtype=np.intc) if ready is None else ready
    if rd.shape[0] not in (0, gptr.shape[0] - 1):
        raise ValueError(f"bcd: ready has {rd.shape[0]} entries, expected one a group "
                         f"({gptr.shape[0] - 1}) or none.")
    if not 0 <= anderson_k <= ANDERSON_K:
        raise ValueError(f"bcd: anderson_k must be in [0, {ANDERSON_K}]; got {anderson_k}.")
    if indptr.shape[0] == 0:
        if data.shape[0] != <Py_ssize_t>n * xmean.shape[0] or sw.shape[0] != 0:
            raise ValueError(f"bcd: dense data has {data.shape[0]} values (expected n * p = "
                             f"{n} * {xmean.shape[0]}) and no sample weights.")
        D.n = n
        return _bcd(D, _ptr(data), n, <const floating*>NULL, False, xmean, y, w, r, gptr,
                    gidx, c, L, Q, qoff, V, E, exact, ws, alpha, rho, max_epochs, tol,
                    gap_freq, max_inner, inner_eps, buf, wold, has_lim, lower, upper, glim,
                    anderson_k, pr, rd)
    if sw.shape[0] != n:
        raise ValueError(f"bcd: CSC X needs the sample weights (n = {n}); got "
                         f"{sw.shape[0]}.")
    return _bcd(_csc(indices, indptr), _ptr(data), n, &sw[0], True, xmean, y, w, r, gptr,
                gidx, c, L, Q, qoff, V, E, exact, ws, alpha, rho, max_epochs, tol, gap_freq,
                max_inner, inner_eps, buf, wold, has_lim, lower, upper, glim, anderson_k, pr,
                rd)


cdef void _gradient(design X, const floating* vals, int n, int p, const floating* sw,
                    bint weighted, const floating* xmean, const floating* r,
                    double* z) noexcept nogil:
    """z_j = x_jc^T S r_c / n for every feature (level-1 BLAS for dense columns)."""
    cdef int j
    cdef double srsum
    _sum_sr(n, r, sw, weighted, &srsum)
    for j in range(p):
        z[j] = (_col_dot(X, vals, j, r, sw, weighted) - xmean[j] * srsum) / n


def gradient_dense(const floating[::1, :] X, const floating[::1] xmean,
                   const floating[::1] r, double[::1] z):
    """z_j = x_jc^T r_c / n for every feature (level-1 BLAS: no threading surprises)."""
    cdef Dense D
    D.n = <int>X.shape[0]
    with nogil:
        _gradient(D, &X[0, 0], D.n, <int>X.shape[1], <const floating*>NULL, False, &xmean[0],
                  &r[0], &z[0])


def gradient_dense_cols(const floating[::1, :] X, const floating[::1] xmean,
                        const floating[::1] r, const int[::1] cols, double[::1] z):
    """``z_j = x_jc^T r_c / n`` (as :func:`gradient_dense`) for the features ``cols`` only,
    the other entries of ``z`` untouched (a certificate whose other groups are bounded
    inside their dual ball). Returns 0, or -1 when an index is outside ``[0, p)`` (nothing
    written)."""
    cdef Dense D
    cdef int n = <int>X.shape[0], p = <int>X.shape[1], m = <int>cols.shape[0], k, j
    cdef double srsum = 0
    for k in range(m):
        if cols[k] < 0 or cols[k] >= p:
            return -1
    if m == 0 or n == 0:
        for k in range(m):
            z[cols[k]] = 0.0
        return 0
    D.n = n
    with nogil:
        _sum_sr(n, &r[0], <const floating*>NULL, False, &srsum)
        for k in range(m):
            j = cols[k]
            z[j] = (_col_dot(D, &X[0, 0], j, &r[0], <const floating*>NULL, False)
                    - xmean[j] * srsum) / n
    return 0


def gradient_sparse(const floating[::1] data, const int[::1] indices,
                    const int[::1] indptr, const floating[::1] sw,
                    const floating[::1] xmean, const floating[::1] r, double[::1] z):
    """CSC version of :func:`gradient_dense` with sample weights ``sw`` (sum n)."""
    with nogil:
        _gradient(_csc(indices, indptr), _ptr(data), <int>r.shape[0],
                  <int>indptr.shape[0] - 1, &sw[0], True, &xmean[0], &r[0], &z[0])


def sgl_box_conj(const double[::1] z, const int[::1] gptr, const int[::1] gidx,
                 const double[::1] l2, const double[::1] lower, const double[::1] upper,
                 double t, double l1, double[::1] buf):
    """``Σ_g h_g*(t z_g)`` over the groups with ``l2[g] > 0`` or ``l1 > 0`` (penalised;
    ``l2[g] < 0`` marks an unpenalised group, skipped): the certificate's conjugate of
    penalty + box (see ``SparseGroupLasso``), an upper bound; ``inf`` outside the domain.
    ``buf``: scratch of the largest group size."""
    cdef int g, a, k, start, G = <int>gptr.shape[0] - 1
    cdef double out = 0, v
    with nogil:
        for g in range(G):
            if l2[g] < 0:
                continue
            start = gptr[g]
            k = gptr[g + 1] - start
            for a in range(k):
                buf[a] = z[gidx[start + a]]
            v = _box_conj(&buf[0], &gidx[start], k, t, l1, l2[g], &lower[0], &upper[0])
            if v >= 1e300:
                out = v
                break
            out += v
    return float("inf") if out >= 1e300 else out


def sgl_box_kkt(const double[::1] z, const double[::1] w, const int[::1] gptr,
                const int[::1] gidx, const double[::1] l2, const double[::1] lower,
                const double[::1] upper, double l1):
    """``max_g dist(z_g, ∂(pen_g + box_g)(w_g))`` of ``SparseGroupLasso._box_kkt`` (its
    NumPy twin, for the tests) in one pass over the groups: the normal cone of the box
    adds ``u_j >= 0`` at an upper limit, ``u_j <= 0`` at a lower one (within 5e-7
    relative: float32 kernels round limits towards 0), anything on a side closed by a
    limit of 0. ``l2[g] < 0`` marks an unpenalised group (its gradient must vanish on the
    open sides); otherwise ``l2[g]`` is the group term's weight times alpha."""
    cdef int g, k, j, G = <int>gptr.shape[0] - 1
    cdef double out = 0, nrm, acc, zj, wj, lo, up, e, c, soft, b
    cdef bint pen, at_up, at_lo, closed
    with nogil:
        for g in range(G):
            pen = l2[g] >= 0
            c = l2[g] if pen else 0.0
            nrm = 0
            for k in range(gptr[g], gptr[g + 1]):
                nrm += w[gidx[k]] * w[gidx[k]]
            nrm = sqrt(nrm)
            acc = 0
            soft = 0
            for k in range(gptr[g], gptr[g + 1]):
                j = gidx[k]
                zj = z[j]
                wj = w[j]
                lo = lower[j]
                up = upper[j]
                b = up if zj >= 0 else -lo
                closed = b == 0
                if not closed and fabs(zj) > l1:
                    soft += (fabs(zj) - l1) * (fabs(zj) - l1)
                if not pen:
                    e = 0.0 if closed else zj
                elif nrm == 0:
                    e = 0.0
                elif wj != 0:
                    at_up = wj > 0 and wj >= (up if isinf(up) else up * (1 - 5e-7))
                    at_lo = wj < 0 and wj <= (lo if isinf(lo) else lo * (1 - 5e-7))
                    e = zj - (l1 if wj > 0 else -l1) - c * wj / nrm
                    if at_up and e > 0:
                        e = 0.0
                    elif at_lo and e < 0:
                        e = 0.0
                else:
                    e = 0.0 if (closed or fabs(zj) <= l1) else fabs(zj) - l1
                acc += e * e
            if pen and nrm == 0:
                e = sqrt(soft) - c
                acc = e * e if e > 0 else 0.0
            if acc > out:
                out = acc
    return sqrt(out)


# ---------------------------------------------------------------------------------------
# The sparse-group lasso's share of the package certificate without box limits
# ---------------------------------------------------------------------------------------

cdef double _soft_sq(const double[::1] z, const int[::1] gidx, int a, int b, double t,
                     double l1) noexcept nogil:
    """``||S(t z_g, l1)||²`` over the features ``gidx[a:b]``."""
    cdef double acc = 0, e
    cdef int k
    for k in range(a, b):
        e = t * fabs(z[gidx[k]]) - l1
        if e > 0:
            acc += e * e
    return acc


def sgl_soft_norms(const double[::1] z, const int[::1] gptr, const int[::1] gidx,
                   double l1, double[::1] out):
    """``out[g] = ||S(z_g, l1)||_2`` for every group (``S`` the soft-threshold)."""
    cdef int g, G = <int>gptr.shape[0] - 1
    with nogil:
        for g in range(G):
            out[g] = sqrt(_soft_sq(z, gidx, gptr[g], gptr[g + 1], 1.0, l1))


cdef void _sgl_terms(const double[::1] w, const double[::1] z, const double[::1] zp,
                     const int[::1] gptr, const int[::1] gidx, const double[::1] l2,
                     double l1, double inside, int G, int p, double* out) noexcept nogil:
    """The body of :func:`sgl_terms`: ``out`` = ``(value, t, kkt, zmax, wmax)``."""
    cdef int g, k, j, it, a, b
    cdef double value = 0, t = 1, kkt = 0, nrm, l1n, amax, c, acc, e, zj, wj
    cdef double tg, f, fp, step, target, lo, hi, mid, zmax = 0, wmax = 0
    for j in range(p):
        if fabs(w[j]) > wmax:
            wmax = fabs(w[j])
        if fabs(z[j]) > zmax:
            zmax = fabs(z[j])
        if fabs(zp[j]) > zmax:
            zmax = fabs(zp[j])
    for g in range(G):
        a = gptr[g]
        b = gptr[g + 1]
        c = l2[g]
        nrm = 0
        l1n = 0
        for k in range(a, b):
            wj = w[gidx[k]]
            nrm += wj * wj
            l1n += fabs(wj)
        nrm = sqrt(nrm)
        # KKT
        acc = 0
        if c < 0:
            for k in range(a, b):
                acc += z[gidx[k]] * z[gidx[k]]
        elif nrm == 0:
            e = sqrt(_soft_sq(z, gidx, a, b, 1.0, l1)) - c
            acc = e * e if e > 0 else 0.0
        else:
            for k in range(a, b):
                j = gidx[k]
                zj = z[j]
                wj = w[j]
                if wj != 0:
                    e = zj - (l1 if wj > 0 else -l1) - c * wj / nrm
                else:
                    e = fabs(zj) - l1 if fabs(zj) > l1 else 0.0
                acc += e * e
        if acc > kkt:
            kkt = acc
        if c < 0:
            continue
        value += l1 * l1n + c * nrm
        # dual scaling of this group
        target = c * c
        if _soft_sq(zp, gidx, a, b, 1.0, l1) <= target:
            continue
        if l1 == 0:
            tg = c / sqrt(_soft_sq(zp, gidx, a, b, 1.0, 0.0)) * inside
        elif c == 0:
            amax = 0
            for k in range(a, b):
                if fabs(zp[gidx[k]]) > amax:
                    amax = fabs(zp[gidx[k]])
            tg = l1 / amax * inside
        else:
            tg = 1.0
            for it in range(50):
                f = 0
                fp = 0
                for k in range(a, b):
                    e = tg * fabs(zp[gidx[k]]) - l1
                    if e > 0:
                        f += e * e
                        fp += 2 * fabs(zp[gidx[k]]) * e
                if fp <= 0:
                    break
                step = (f - target) / fp
                tg = tg - step
                if fabs(step) <= 1e-15 * tg:
                    break
            tg *= 1 - 1e-12
            if not (_soft_sq(zp, gidx, a, b, tg, l1) <= target):
                lo = 0.0
                hi = 1.0
                for it in range(60):
                    mid = 0.5 * (lo + hi)
                    if _soft_sq(zp, gidx, a, b, mid, l1) <= target:
                        lo = mid
                    else:
                        hi = mid
                tg = lo
        if tg < t:
            t = tg
    out[0] = value
    out[1] = t
    out[2] = sqrt(kkt)
    out[3] = zmax
    out[4] = wmax


def sgl_terms(const double[::1] w, const double[::1] z, const double[::1] zp,
              const int[::1] gptr, const int[::1] gidx, const double[::1] l2, double l1,
              double inside):
    """``(value, t, kkt, zmax, wmax)``: ``penalties.SparseGroupLasso.terms`` without box
    limits, in one pass over the groups: ``l1 = alpha rho``, ``l2[g] = alpha (1 - rho)
    c_g`` (< 0: an unpenalised group); ``value = Σ_pen l1||w_g||_1 + l2_g||w_g||_2``;
    ``t`` the largest scaling ``<= 1`` with ``||S(t zp_g, l1)|| <= l2_g`` on every
    penalised group (closed form when ``l1 = 0`` or ``l2_g = 0``, times ``inside``;
    otherwise Newton from 1, which decreases monotonically to the root of the convex
    ``||S(t zp_g, l1)||² - l2_g²``, a step just inside it checked feasible, bisection if
    rounding left it outside); ``kkt`` the largest group-wise distance of ``z_g`` to the
    subdifferential at ``w_g``. Also
    returns ``zmax = max(|z|, |zp|)`` and ``wmax = max |w|`` (the caller's scale check,
    ``penalties._pow2_scale``: at extreme scales it discards this call's numbers)."""
    cdef int G = <int>gptr.shape[0] - 1, p = <int>w.shape[0]
    cdef double out[5]
    # the GIL is kept below 2^16 features: a call of a few microseconds that released it
    # would then wait for another thread's Python (parallel CV folds) to take it back
    if p >= 65536:
        with nogil:
            _sgl_terms(w, z, zp, gptr, gidx, l2, l1, inside, G, p, out)
    else:
        _sgl_terms(w, z, zp, gptr, gidx, l2, l1, inside, G, p, out)
    return out[0], out[1], out[2], out[3], out[4]


cdef inline double _visit_gram(const floating* A, int p, floating* w, floating* g, int grp,
                               const int* gptr, const int* gidx, const floating* c,
                               const floating* L, const floating* Q, const Py_ssize_t* qoff,
                               const floating* V, const floating* E, int exact,
                               floating alpha, floating rho, int max_inner,
                               floating inner_eps, floating* buf, floating* wold, int kmax,
                               bint* nonzero) noexcept nogil:
    """:func:`_visit` in covariance mode: the block's gradient is read off ``g = b - A w``
    (no data pass) and a change ``Δ`` costs ``g -= A[:, g] Δ`` (O(p k)). A zero block whose
    zero stays optimal under ``g`` (up to rounding of its weights) returns at once. Returns
    ``L_g ||Δ_g||² / 2``."""
    cdef floating Lg = L[grp], d
    cdef int a, k, start, j
    cdef floating* zg = &buf[kmax]
    cdef double dsq = 0, e, esq = 0
    cdef bint zero = True
    nonzero[0] = False
    if Lg <= 0:
        return 0
    start = gptr[grp]
    k = gptr[grp + 1] - start
    for a in range(k):
        j = gidx[start + a]
        wold[a] = w[j]
        zg[a] = g[j]
        if w[j] != 0:
            zero = False
    if zero and c[grp] > 0:  # ||S(z_g, alpha rho)|| <= alpha (1 - rho) c_g: 0 is optimal
        for a in range(k):
            e = fabs(zg[a]) - alpha * rho
            if e > 0:
                esq += e * e
        # (slack: a violation at rounding level of the group's own weights, e.g. exactly
        # at alpha_max, is none; as SparseGroupLasso.violation_slack)
        if sqrt(esq) <= (alpha * (1 - rho) * c[grp]
                         + 1e-12 * alpha * ((1 - rho) * c[grp] + rho)):
            return 0
    _block_step(Q, V, E, qoff[grp], start, k, Lg, wold, zg, buf, kmax, c[grp], alpha, rho,
                exact, max_inner, inner_eps, NULL, NULL)
    for a in range(k):
        d = buf[a] - wold[a]
        if d != 0:
            j = gidx[start + a]
            w[j] = buf[a]
            _axpy(p, -d, &A[<Py_ssize_t>j * p], 1, g, 1)
            dsq += <double>d * d
        if buf[a] != 0:
            nonzero[0] = True
    return 0.5 * Lg * dsq


cdef double _gram_gap(int p, const floating* w, const floating* g, const floating* b,
                      double yy, int n_groups, const int* gptr, const int* gidx,
                      const floating* c, floating alpha, floating rho,
                      floating* buf) noexcept nogil:
    """The duality gap of :func:`_bcd_gap` from the covariance statistics (``A``'s scale:
    ``||r||²/n = yy - bᵀw - wᵀg``, ``<r, y>/n = yy - bᵀw``), over every group: the sweeps'
    own stopping quantity. Every group penalised, it bounds the gap above up to rounding
    (the dual scale is feasible, not the largest); with unpenalised groups it is an
    estimate (no projection). The package certificate decides."""
    cdef int grp, a, k, start, j
    cdef double bw = 0, wg = 0, rr, ry, pen = 0, wz_unpen = 0
    cdef floating t = 1, tg, l2, s
    for j in range(p):
        if w[j] != 0:
            bw += <double>b[j] * w[j]
            wg += <double>w[j] * g[j]
    for grp in range(n_groups):
        start = gptr[grp]
        k = gptr[grp + 1] - start
        if c[grp] <= 0:  # unpenalised: the Fenchel-Young term of _bcd_gap
            for a in range(k):
                j = gidx[start + a]
                wz_unpen += <double>w[j] * g[j]
            continue
        pen += _group_penalty(w, &gidx[start], k, c[grp], alpha, rho)
        for a in range(k):
            buf[a] = g[gidx[start + a]]
        l2 = alpha * (1 - rho) * c[grp]
        if rho == 0 or rho == 1:
            tg = _sgl_dual_scale(buf, k, alpha * rho, l2, rho)
        else:  # ||S(t z, l1)|| <= t ||S(z, l1)|| for t <= 1: a feasible scale, no bisection
            s = _soft_threshold_norm(buf, k, alpha * rho)
            tg = l2 / s if s > l2 else 1
        t = _fmin(t, tg)
    rr = yy - bw - wg
    if rr < 0:
        rr = 0
    ry = yy - bw
    return (rr - 2 * t * ry + t * t * rr) / 2 + pen + t * wz_unpen


def bcd_gram(const floating[::1, :] A, floating[::1] w, floating[::1] g,
             const int[::1] gptr, const int[::1] gidx, const floating[::1] c,
             const floating[::1] L, const floating[::1] Q, const Py_ssize_t[::1] qoff,
             const floating[::1] V, const floating[::1] E, int exact, const int[::1] ws,
             floating alpha, floating rho, int max_epochs, floating stop, int max_inner,
             floating inner_eps, floating[::1] buf, floating[::1] wold,
             const floating[::1] b, double yy, double tol):
    """Block CD epochs in covariance mode (the problem of :func:`bcd` read from
    ``A = Xcᵀ S Xc / n``, Fortran order, and ``g = b - A w``, both updated in place;
    ``yy = ||yc||²_S / n``).

    Each epoch visits the groups of ``ws`` (a zero group whose zero is optimal under the
    current ``g`` costs O(k)), then, while the non-zero groups are under half of them,
    cycles on those until no block step lowers the objective by more than ``stop / a``
    (``a`` the epoch's non-zero groups, at least 1). Stops after ``max_epochs`` epochs, or
    after an epoch whose largest step (``L_g ||Δ_g||² / 2``, an upper bound of what its
    block gained) is at most ``stop / a``: at once when ``tol < 0``, else when the duality
    gap there (:func:`_gram_gap`, O(p) from ``g``) is at most ``tol``. The caller
    certifies. The group arrays are those of :func:`bcd`. On return ``g`` is ``b - A w``
    recomputed from ``w``'s non-zero columns. Returns ``(epochs, gap)`` (the last gap
    evaluated, from the kept ``g``; inf when none was).

    (On the step rule alone, a 5-fold CV at the default tolerance needed 169 certificates
    for its 120 points, and 1,101 for 360 with l1_ratio > 0: each refusal is one more
    certificate and kernel call.)"""
    cdef int p = <int>A.shape[0], n_ws = <int>ws.shape[0], kmax = <int>wold.shape[0]
    cdef int n_groups = <int>gptr.shape[0] - 1
    cdef int epoch = 0, i, e2, n_act
    cdef double dec, d2, gap = INFINITY, stop_a
    cdef bint nz
    cdef int[::1] act = np.empty(max(n_ws, 1), dtype=np.intc)
    if p == 0:
        return 0, gap
    with nogil:
        while n_ws > 0 and epoch < max_epochs:
            dec = 0
            n_act = 0
            for i in range(n_ws):
                d2 = _visit_gram(&A[0, 0], p, &w[0], &g[0], ws[i], &gptr[0], &gidx[0],
                                 &c[0], &L[0], &Q[0], &qoff[0], &V[0], &E[0], exact, alpha,
                                 rho, max_inner, inner_eps, &buf[0], &wold[0], kmax, &nz)
                if d2 > dec:
                    dec = d2
                if nz:
                    act[n_act] = ws[i]
                    n_act += 1
            epoch += 1
            stop_a = stop / (n_act if n_act > 0 else 1)
            if tol >= 0 and dec <= stop_a:
                gap = _gram_gap(p, &w[0], &g[0], &b[0], yy, n_groups, &gptr[0], &gidx[0],
                                &c[0], alpha, rho, &buf[0])
                if gap <= tol:
                    break
            elif tol < 0 and dec <= stop_a:
                break
            if 2 * n_act < n_ws:
                for e2 in range(ACTIVE_MAX):
                    dec = 0
                    for i in range(n_act):
                        d2 = _visit_gram(&A[0, 0], p, &w[0], &g[0], act[i], &gptr[0],
                                         &gidx[0], &c[0], &L[0], &Q[0], &qoff[0], &V[0],
                                         &E[0], exact, alpha, rho, max_inner, inner_eps,
                                         &buf[0], &wold[0], kmax, &nz)
                        if d2 > dec:
                            dec = d2
                    if dec <= stop_a:
                        break
        # g afresh from w's non-zero columns: the kept one drifts by rounding over the
        # epochs, and the caller's certificate reads this one (no O(p·|nz|) product of
        # its own)
        _copy(p, &b[0], 1, &g[0], 1)
        for i in range(p):
            if w[i] != 0:
                _axpy(p, -w[i], &A[0, i], 1, &g[0], 1)
    return epoch, gap
