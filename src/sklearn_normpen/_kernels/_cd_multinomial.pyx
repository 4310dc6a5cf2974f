# Class-by-class proximal Newton sweeps for the ungrouped multinomial elastic net.
#
# Objective (package scale, N = sum(s)); W (p, K), b (K,), eta = X W + 1 b':
#
#     1/N sum_i s_i [log sum_k exp(eta_ik) - eta_{i,y_i}] + sum_jk (l1_j |W_jk| + l2_j/2 W_jk^2)
#
# One sweep visits the classes in turn (glmnet's scheme). Class k, the others fixed: the loss
# in eta_k has the exact diagonal curvature v_i = s_i p_ik (1 - p_ik) (floored); the model
#
#     q(D, B) = sum_i [-rho_i deta_i + v_i/2 deta_i^2] + N pen(W_k + D),
#     deta = X D + B,  rho_i = s_i (y_ik - p_ik)                                  [n-scale]
#
# is minimised by coordinate descent on the working set ``ws``, then an Armijo line search on
# the true objective along (D, B) accepts a step (every accepted step is a descent).
#
# Centring (with an intercept): the columns enter as x' = x - mu_j (dense; mu = 0 for CSC),
# and each coordinate move w_j += d comes with the intercept move -m_j d, m_j the v-weighted
# mean of x'_j: the model's residual r = rho - v deta then keeps sum_i r_i = 0 (the
# intercept optimal for every D) and the curvature is the centred H_j = sum v (x' - m)^2.
# r is stored as R with r = R - v c (c a scalar), so a CSC column update touches its
# stored entries only; x_jc' r = x'_j' R - c S1_j (S1_j = sum_i v_i x'_ij).
#
# Everything but X (its own dtype) is float64: the state, the sums and the line search.
# The certificate is not computed here: the Python layer (``_solvers/multinomial.py``)
# certifies after each call, from eta recomputed from the returned W and b.
from cython cimport floating
from libc.math cimport exp, log, log1p, expm1, fabs, sqrt, INFINITY
import numpy as np

from sklearn_normpen._kernels._design cimport Dense, Csc, design, _ptr, _csc


cdef inline double _soft(double z, double t) noexcept nogil:
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


cdef inline void _col_stats(design X, const floating* vals, int j, double mu,
                            const double* v, const double* R, double* S1, double* S2,
                            double* G) noexcept nogil:
    """S1 = sum v x', S2 = sum v x'^2, G = x'' R over column j (x' = x - mu)."""
    cdef double s1 = 0, s2 = 0, g = 0, t, a1 = 0, a2 = 0, a3 = 0, u
    cdef const floating* x
    cdef int i, k, m
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        m = X.n - X.n % 2
        for i in range(0, m, 2):  # two sets of sums: no single add chain
            t = x[i] - mu
            u = x[i + 1] - mu
            s1 += v[i] * t
            a1 += v[i + 1] * u
            s2 += v[i] * t * t
            a2 += v[i + 1] * u * u
            g += t * R[i]
            a3 += u * R[i + 1]
        for i in range(m, X.n):
            t = x[i] - mu
            s1 += v[i] * t
            s2 += v[i] * t * t
            g += t * R[i]
        s1 += a1
        s2 += a2
        g += a3
    else:
        for k in range(X.indptr[j], X.indptr[j + 1]):
            i = X.indices[k]
            t = vals[k]
            s1 += v[i] * t
            s2 += v[i] * t * t
            g += t * R[i]
    S1[0], S2[0], G[0] = s1, s2, g


cdef inline double _col_dot(design X, const floating* vals, int j, double mu,
                            const double* R) noexcept nogil:
    """x'_j' R."""
    cdef double g = 0, g1 = 0
    cdef const floating* x
    cdef int i, k, m
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        m = X.n - X.n % 2
        for i in range(0, m, 2):
            g += (x[i] - mu) * R[i]
            g1 += (x[i + 1] - mu) * R[i + 1]
        for i in range(m, X.n):
            g += (x[i] - mu) * R[i]
        g += g1
    else:
        for k in range(X.indptr[j], X.indptr[j + 1]):
            g += vals[k] * R[X.indices[k]]
    return g


cdef inline void _col_update(design X, const floating* vals, int j, double mu, double d,
                             const double* v, double* R) noexcept nogil:
    """R -= d v x'_j."""
    cdef const floating* x
    cdef int i, k
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            R[i] -= d * v[i] * (x[i] - mu)
    else:
        for k in range(X.indptr[j], X.indptr[j + 1]):
            i = X.indices[k]
            R[i] -= d * v[i] * vals[k]


cdef inline void _col_axpy(design X, const floating* vals, int j, double d,
                           double* out) noexcept nogil:
    """out += d x_j (the raw column)."""
    cdef const floating* x
    cdef int i, k
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            out[i] += d * x[i]
    else:
        for k in range(X.indptr[j], X.indptr[j + 1]):
            out[X.indices[k]] += d * vals[k]


cdef inline double _pen(double l1, double l2, double w) noexcept nogil:
    return l1 * fabs(w) + 0.5 * l2 * w * w


cdef inline double _dlse(double p, double d) noexcept nogil:
    """log(1 + p (e^d - 1)): the change of a row's log-sum-exp when its class-k logit, of
    probability p, moves by d (stable for both signs of d)."""
    if d <= 0:
        return log1p(p * expm1(d))
    return d + log1p((1.0 - p) * expm1(-d))


cdef double _row_shift(double* w, int K, double l1, double l2, double* srt,
                       double* gain) noexcept nogil:
    """The ``c`` minimising ``phi(c) = l1 sum_k |w_k - c| + l2/2 sum_k (w_k - c)^2``
    (glmnet's ``elc``), among the breakpoints ``w_k`` and the stationary point of each
    interval between them; 0 unless it lowers phi (by ``gain``, added to)."""
    cdef int a, m, k
    cdef double x, mean = 0, best = 0, c, lo, hi, val, best_val
    for k in range(K):  # insertion sort of the row into srt
        x = w[k]
        mean += x
        a = k
        while a > 0 and srt[a - 1] > x:
            srt[a] = srt[a - 1]
            a -= 1
        srt[a] = x
    mean /= K
    best_val = 0.0
    for k in range(K):
        best_val += _pen(l1, l2, w[k])
    x = best_val
    for m in range(2 * K + 1):
        if m < K:
            c = srt[m]
        elif l2 > 0:
            a = m - K  # a values below c
            lo = srt[a - 1] if a > 0 else -INFINITY
            hi = srt[a] if a < K else INFINITY
            c = mean + l1 * (K - 2 * a) / (K * l2)
            c = lo if c < lo else (hi if c > hi else c)
        else:
            continue
        val = 0.0
        for k in range(K):
            val += _pen(l1, l2, w[k] - c)
        if val < best_val:
            best_val, best = val, c
    gain[0] += x - best_val
    return best


cdef int _sweeps(design X, const floating* vals, int n, int p, int K, const int* codes,
                 const double* s, double N, double* W, double* b, double* eta, double* lse,
                 const int* ws, int nws, const double* l1, const double* l2,
                 const double* mu, bint fit_intercept, int n_sweeps, double tol_n,
                 int max_inner, double floor, double rounding,
                 double* pk, double* v, double* rho, double* R, double* deta, double* S1,
                 double* H, double* D, int* act, double* out) noexcept nogil:
    """``n_sweeps`` sweeps over the K classes; ``out`` receives (class steps accepted,
    class steps that moved nothing, column passes, total decrease). Returns 0."""
    cdef int sweep, k, i, jj, j, nact, ep, it, full, moved
    cdef double V, beta0, c, g, s2, h, wold, wnew, d, dmax, Db, slope, dpen, dl, t
    cdef double delta, trial, z, passes = 0, decrease = 0
    cdef int n_acc = 0, n_still = 0
    for sweep in range(n_sweeps):
        for k in range(K):
            # class k's probabilities, curvature and gradient residual
            V = 0.0
            for i in range(n):
                pk[i] = exp(eta[<Py_ssize_t>i * K + k] - lse[i])
                z = pk[i] * (1.0 - pk[i])
                if z < floor:
                    z = floor
                v[i] = s[i] * z
                V += v[i]
                rho[i] = s[i] * ((1.0 if codes[i] == k else 0.0) - pk[i])
                R[i] = rho[i]
            beta0 = 0.0
            c = 0.0
            if fit_intercept and V > 0:
                z = 0.0
                for i in range(n):
                    z += R[i]
                beta0 = z / V
                for i in range(n):
                    R[i] -= v[i] * beta0
            for jj in range(nws):
                D[jj] = 0.0
            # coordinate descent: a working-set epoch (whose first one also forms the
            # curvatures), then epochs over the class's support until they settle, then a
            # working-set epoch again; done when a working-set epoch moves nothing
            full = 1
            ep = 0
            while ep < max_inner:
                dmax = 0.0
                nact = 0
                for jj in range(nws):
                    if not full and not act[jj]:
                        continue
                    j = ws[jj]
                    if ep == 0:
                        _col_stats(X, vals, j, mu[j], v, R, &S1[jj], &s2, &g)
                        h = s2 - S1[jj] * S1[jj] / V if fit_intercept and V > 0 else s2
                        H[jj] = h if h > 0 else 0.0
                    else:
                        g = _col_dot(X, vals, j, mu[j], R)
                    if fit_intercept:
                        g -= c * S1[jj]
                    wold = W[<Py_ssize_t>j * K + k]
                    h = H[jj]
                    if h + N * l2[j] <= 0:
                        continue
                    wnew = _soft(h * wold + g, N * l1[j]) / (h + N * l2[j])
                    d = wnew - wold
                    if d != 0.0:
                        W[<Py_ssize_t>j * K + k] = wnew
                        D[jj] += d
                        _col_update(X, vals, j, mu[j], d, v, R)
                        if fit_intercept:
                            c -= d * S1[jj] / V
                        if h * d * d > dmax:
                            dmax = h * d * d
                    if wnew != 0.0:
                        act[jj] = 1
                        nact += 1
                    elif full:
                        act[jj] = 0
                passes += (nws if full else nact) / (<double>p * K)
                ep += 1
                if full:
                    if dmax <= tol_n:
                        break
                    full = 0
                elif dmax <= tol_n:
                    full = 1
            # the step: deta = X D + Db (raw columns), Db the intercept's move
            Db = 0.0
            moved = 0
            if fit_intercept:
                Db = beta0
                for jj in range(nws):
                    Db -= D[jj] * (S1[jj] / V + mu[ws[jj]])
            for jj in range(nws):
                if D[jj] != 0.0:
                    moved = 1
            if not moved and Db == 0.0:
                n_still += 1
                continue
            for i in range(n):
                deta[i] = Db
            dpen = 0.0
            for jj in range(nws):
                if D[jj] != 0.0:
                    j = ws[jj]
                    _col_axpy(X, vals, j, D[jj], deta)
                    wnew = W[<Py_ssize_t>j * K + k]
                    dpen += _pen(l1[j], l2[j], wnew) - _pen(l1[j], l2[j], wnew - D[jj])
            slope = 0.0
            for i in range(n):
                slope -= rho[i] * deta[i]
            slope /= N
            delta = slope + dpen
            # Armijo backtracking on the true objective (W already holds the full step)
            t = 1.0
            it = 0
            while True:
                dl = 0.0
                if t == 1.0:  # the full step's lse changes are kept for the update
                    for i in range(n):
                        rho[i] = _dlse(pk[i], deta[i])
                        dl += s[i] * (rho[i] - (deta[i] if codes[i] == k else 0.0))
                else:
                    for i in range(n):
                        z = t * deta[i]
                        dl += s[i] * (_dlse(pk[i], z) - (z if codes[i] == k else 0.0))
                dl /= N
                if t != 1.0:
                    dpen = 0.0
                    for jj in range(nws):
                        if D[jj] != 0.0:
                            j = ws[jj]
                            wold = W[<Py_ssize_t>j * K + k] - D[jj]
                            dpen += (_pen(l1[j], l2[j], wold + t * D[jj])
                                     - _pen(l1[j], l2[j], wold))
                trial = dl + dpen
                if delta >= -rounding:
                    # a decrease at rounding level: the full step unless it visibly
                    # increases the objective
                    if trial <= rounding:
                        break
                    t = 0.0
                    break
                if trial <= 1e-4 * t * delta:
                    break
                it += 1
                if it >= 40:
                    t = 0.0
                    break
                t *= 0.5
            if t == 0.0:
                # no step: restore class k
                for jj in range(nws):
                    if D[jj] != 0.0:
                        W[<Py_ssize_t>ws[jj] * K + k] -= D[jj]
                n_still += 1
                continue
            if t != 1.0:
                for jj in range(nws):
                    if D[jj] != 0.0:
                        W[<Py_ssize_t>ws[jj] * K + k] -= (1.0 - t) * D[jj]
            b[k] += t * Db
            if t == 1.0:
                for i in range(n):
                    lse[i] += rho[i]
                    eta[<Py_ssize_t>i * K + k] += deta[i]
            else:
                for i in range(n):
                    z = t * deta[i]
                    lse[i] += _dlse(pk[i], z)
                    eta[<Py_ssize_t>i * K + k] += z
            decrease -= trial
            n_acc += 1
        # every feature's K coefficients take their penalty-minimising common shift (the
        # loss is invariant: each row of eta moves by -x_ij c, and so does its lse)
        for i in range(n):
            deta[i] = 0.0
        nact = 0
        for jj in range(nws):
            j = ws[jj]
            if l1[j] == 0.0 and l2[j] == 0.0:
                continue  # unpenalised: centred once, by the Python layer
            z = _row_shift(W + <Py_ssize_t>j * K, K, l1[j], l2[j], S1 + nws, &decrease)
            if z != 0.0:
                for k in range(K):
                    W[<Py_ssize_t>j * K + k] -= z
                _col_axpy(X, vals, j, z, deta)
                nact += 1
        if nact:
            for i in range(n):
                lse[i] -= deta[i]
                for k in range(K):
                    eta[<Py_ssize_t>i * K + k] -= deta[i]
            passes += nact / (<double>p * K)
    out[0] = n_acc
    out[1] = n_still
    out[2] = passes
    out[3] = decrease
    return 0


def multinomial_sweeps(const floating[::1] X_data, const int[::1] X_indices,
                       const int[::1] X_indptr, int n_samples, const int[::1] codes,
                       const double[::1] sw, double N, double[:, ::1] W, double[::1] b,
                       double[:, ::1] eta, const int[::1] ws, const double[::1] l1,
                       const double[::1] l2, const double[::1] mu, bint fit_intercept,
                       int n_sweeps, double tol_n, int max_inner, double floor,
                       double rounding):
    """``n_sweeps`` class-by-class proximal Newton sweeps (module comment), in place on
    ``W`` (p, K, C order), ``b`` (K,) and ``eta`` (n, K, C order; must equal X W + 1 b'
    on entry).

    ``X`` is CSC (``X_data``, int32 ``X_indices``, ``X_indptr``) or, with both index arrays
    empty, dense: ``X_data`` is the Fortran-ordered X flattened. ``codes`` the class of
    each row, ``sw`` the sample weights (length n), ``N`` their sum. ``ws`` the working
    set (features whose coefficients may move; the others are not touched), ``l1``/``l2``
    the per-feature penalty weights (package scale), ``mu`` the column shifts of the
    centring (zeros for CSC or without intercept). Coordinate descent stops when a
    working-set epoch's largest ``H_j d_j^2`` is at most ``tol_n`` (n-scale) or after
    ``max_inner`` epochs. ``floor`` floors ``p(1 - p)``; ``rounding`` is the objective
    change below which a step is taken without a decrease test.

    Returns ``(accepted, still, passes, decrease)``: class steps accepted, class steps
    without a move, column passes in units of one pass over all p·K coefficients, and the
    total decrease of the objective.
    """
    cdef Dense Dn
    cdef int n = n_samples
    cdef int p = <int>W.shape[0]
    cdef int K = <int>W.shape[1]
    cdef int nws = <int>ws.shape[0]
    cdef int i, k
    cdef double m, z
    if X_indptr.shape[0] == 0:
        if X_data.shape[0] != <Py_ssize_t>n * p:
            raise ValueError(f"multinomial_sweeps: dense X_data has {X_data.shape[0]} "
                             f"values, expected n_samples * p = {n} * {p}.")
    elif X_indptr.shape[0] != p + 1:
        raise ValueError("multinomial_sweeps: X_indptr must have p + 1 entries.")
    if eta.shape[0] != n or eta.shape[1] != K or codes.shape[0] != n or sw.shape[0] != n:
        raise ValueError("multinomial_sweeps: eta, codes and sw must have n rows.")
    if b.shape[0] != K or l1.shape[0] != p or l2.shape[0] != p or mu.shape[0] != p:
        raise ValueError("multinomial_sweeps: b has K entries, l1/l2/mu p entries.")
    for i in range(nws):
        if ws[i] < 0 or ws[i] >= p:
            raise ValueError(f"multinomial_sweeps: ws holds {ws[i]}, outside [0, {p}).")
    for i in range(n):
        if codes[i] < 0 or codes[i] >= K:
            raise ValueError(f"multinomial_sweeps: class code {codes[i]} outside [0, {K}).")
    if X_indptr.shape[0] != 0 or not fit_intercept:
        mu = np.zeros(p)  # the shift needs dense columns and an intercept to absorb it
    work = np.empty((6, max(n, 1)))
    cdef double[:, ::1] wk = work
    cdef double[::1] S1 = np.empty(nws + K)  # + the shift's sort buffer
    cdef double[::1] H = np.empty(max(nws, 1))
    cdef double[::1] D = np.empty(max(nws, 1))
    cdef int[::1] act = np.zeros(max(nws, 1), dtype=np.intc)
    cdef double[::1] out = np.zeros(4)
    cdef double[::1] lse = np.empty(max(n, 1))
    with nogil:
        for i in range(n):  # log-sum-exp of every row, from scratch at each call
            m = eta[i, 0]
            for k in range(1, K):
                if eta[i, k] > m:
                    m = eta[i, k]
            z = 0.0
            for k in range(K):
                z += exp(eta[i, k] - m)
            lse[i] = m + log(z)
        if X_indptr.shape[0] == 0:
            Dn.n = n
            _sweeps(Dn, _ptr(X_data), n, p, K, &codes[0], &sw[0], N, &W[0, 0], &b[0],
                    &eta[0, 0], &lse[0], &ws[0] if nws else NULL, nws, &l1[0], &l2[0],
                    &mu[0], fit_intercept, n_sweeps, tol_n, max_inner, floor, rounding,
                    &wk[0, 0], &wk[1, 0], &wk[2, 0], &wk[3, 0], &wk[4, 0], &S1[0], &H[0],
                    &D[0], &act[0], &out[0])
        else:
            _sweeps(_csc(X_indices, X_indptr), _ptr(X_data), n, p, K, &codes[0], &sw[0],
                    N, &W[0, 0], &b[0], &eta[0, 0], &lse[0], &ws[0] if nws else NULL, nws,
                    &l1[0], &l2[0], &mu[0], fit_intercept, n_sweeps, tol_n, max_inner,
                    floor, rounding, &wk[0, 0], &wk[1, 0], &wk[2, 0], &wk[3, 0], &wk[4, 0],
                    &S1[0], &H[0], &D[0], &act[0], &out[0])
    return int(out[0]), int(out[1]), float(out[2]), float(out[3])
