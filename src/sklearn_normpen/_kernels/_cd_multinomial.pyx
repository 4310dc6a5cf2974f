# Proximal Newton sweeps for the multinomial elastic net: class by class for the ungrouped
# penalty (below), all classes at once on the exact Newton model for the grouped one
# (_sweeps_grouped).
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
from sklearn_normpen._kernels._helpers cimport _soft_threshold


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


cdef inline double _gpen(double l1, double l2, const double* w, int K) noexcept nogil:
    cdef double q = 0
    cdef int k
    for k in range(K):
        q += w[k] * w[k]
    return l1 * sqrt(q) + 0.5 * l2 * q


cdef int _shift_features(design X, const floating* vals, int n, int K, double* W,
                         const int* ws, int nws, const double* l1, const double* l2,
                         bint grouped, double* buf, double* u, double* gain) noexcept nogil:
    """Every penalised working-set feature's K coefficients take their penalty-minimising
    common shift c_j (the row mean for the grouped penalty, :func:`_row_shift` otherwise;
    unpenalised rows are centred once, by the Python layer). ``u`` receives sum_j c_j x_j
    (rows of eta move by -u_i: the loss is invariant); ``gain`` the penalty's decrease.
    Returns the number of shifted features."""
    cdef int i, jj, j, k, nshift = 0
    cdef double c, z
    cdef double* w
    for i in range(n):
        u[i] = 0.0
    for jj in range(nws):
        j = ws[jj]
        if l1[j] == 0.0 and l2[j] == 0.0:
            continue
        w = W + <Py_ssize_t>j * K
        if grouped:
            c = 0.0
            for k in range(K):
                c += w[k]
            c /= K
            if c == 0.0:
                continue
            for k in range(K):
                buf[k] = w[k] - c
            z = _gpen(l1[j], l2[j], w, K) - _gpen(l1[j], l2[j], buf, K)
            if z <= 0:  # (rounding could undo a zero shift)
                continue
            gain[0] += z
        else:
            c = _row_shift(w, K, l1[j], l2[j], buf, gain)
            if c == 0.0:
                continue
        for k in range(K):
            w[k] -= c
        _col_axpy(X, vals, j, c, u)
        nshift += 1
    return nshift


cdef inline double _shift_rows(int n, int K, const double* u, double* eta, double* lse,
                               int nshift, double unit) noexcept nogil:
    """Each row of eta (and its lse) moves by -u_i: the rows' shifts x_j c_j summed in u.
    Returns the column passes they took (``nshift`` columns, in units of ``unit``)."""
    cdef int i, k
    if nshift == 0:
        return 0.0
    for i in range(n):
        lse[i] -= u[i]
        for k in range(K):
            eta[<Py_ssize_t>i * K + k] -= u[i]
    return nshift / unit


cdef inline bint _armijo_done(double trial, double delta, double rounding, double* t,
                              int* it) noexcept nogil:
    """One test of the Armijo search along a model step (``trial`` the objective change at
    step ``t``, ``delta`` the model's predicted change): True when the search ends (t = 0:
    no step), else ``t`` halved. A decrease at rounding level takes the full step unless it
    visibly increases the objective."""
    if delta >= -rounding:
        if trial > rounding:
            t[0] = 0.0
        return True
    if trial <= 1e-4 * t[0] * delta:
        return True
    it[0] += 1
    if it[0] >= 40:
        t[0] = 0.0
        return True
    t[0] *= 0.5
    return False


cdef inline bint _epoch_done(int* full, double dmax, double tol) noexcept nogil:
    """Active cycling (glmnet's): after a working-set epoch, epochs over the support until
    they settle, then a working-set epoch again; done when a working-set epoch moves
    less than ``tol``."""
    if full[0]:
        if dmax <= tol:
            return True
        full[0] = 0
    elif dmax <= tol:
        full[0] = 1
    return False


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
            # coordinate descent with active cycling (_epoch_done); the first working-set
            # epoch also forms the curvatures
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
                    wnew = _soft_threshold(h * wold + g, N * l1[j]) / (h + N * l2[j])
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
                if _epoch_done(&full, dmax, tol_n):
                    break
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
                if _armijo_done(trial, delta, rounding, &t, &it):
                    break
            if t == 0.0:
                # no step: restore class k (a refused step, not a "still" one)
                for jj in range(nws):
                    if D[jj] != 0.0:
                        W[<Py_ssize_t>ws[jj] * K + k] -= D[jj]
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
        # the rows' penalty-minimising shifts (glmnet's elc)
        nact = _shift_features(X, vals, n, K, W, ws, nws, l1, l2, False, S1 + nws, deta,
                               &decrease)
        passes += _shift_rows(n, K, deta, eta, lse, nact, <double>p * K)
    out[0] = n_acc
    out[1] = n_still
    out[2] = passes
    out[3] = decrease
    return 0


cdef inline void _row_majoriser(const double* p, int K, double* d) noexcept nogil:
    """A diagonal ``d`` with ``diag(d) >= H = diag(p) - p p'`` (p a probability vector).

    ``diag(p)`` is one, but it overstates the curvature of a dominant class m by
    ``1/(1 - p_m)``: near-certain rows (small alpha) then make the block steps tiny. For
    ``p_m > 1/2``: ``d_k = p_k (1 + p_m)`` (k != m), ``d_m = p_m (1 - p_m)(1 + p_m)``, each
    within ``1 + p_m`` of ``H``'s own diagonal (or of p_k). It majorises H:
    ``diag(d) - H = diag(e) + p p'`` with ``e_k = p_k p_m``, ``e_m = -p_m^3``, and a diagonal
    plus a rank-one term with one negative entry is PSD iff
    ``p_m^2 / p_m^3 >= 1 + sum_{k != m} p_k^2 / e_k``, here ``1/p_m = 1 + (1 - p_m)/p_m``."""
    cdef int k, m = 0
    cdef double pm = p[0], om = 0.0
    for k in range(1, K):
        if p[k] > pm:
            pm = p[k]
            m = k
    for k in range(K):
        d[k] = p[k]
    if pm > 0.5:
        for k in range(K):
            if k != m:
                om += p[k]  # 1 - p_m without the cancellation
                d[k] = p[k] * (1.0 + pm)
        d[m] = pm * om * (1.0 + pm)


cdef inline void _col_stats_k(design X, const floating* vals, int j, double mu,
                              const double* s, const double* P, const double* R, int K,
                              double* h, double* G) noexcept nogil:
    """h_k = sum_i s_i P_ik x'_ij^2 (the block's diagonal majoriser, P the rows'
    :func:`_row_majoriser`) and G_k = x'_j' R[:, k] (P, R row-major n x K)."""
    cdef double t, u
    cdef const floating* x
    cdef const double* r
    cdef const double* pr
    cdef int i, k, q
    for k in range(K):
        G[k] = 0.0
        h[k] = 0.0
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            t = x[i] - mu
            u = s[i] * t * t
            r = R + <Py_ssize_t>i * K
            pr = P + <Py_ssize_t>i * K
            for k in range(K):
                G[k] += t * r[k]
                h[k] += u * pr[k]
    else:
        for q in range(X.indptr[j], X.indptr[j + 1]):
            i = X.indices[q]
            t = vals[q]
            u = s[i] * t * t
            r = R + <Py_ssize_t>i * K
            pr = P + <Py_ssize_t>i * K
            for k in range(K):
                G[k] += t * r[k]
                h[k] += u * pr[k]


cdef inline void _col_dot_k(design X, const floating* vals, int j, double mu,
                            const double* R, int K, double* G) noexcept nogil:
    """G_k = x'_j' R[:, k]."""
    cdef double t
    cdef const floating* x
    cdef const double* r
    cdef int i, k, q
    for k in range(K):
        G[k] = 0.0
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            t = x[i] - mu
            r = R + <Py_ssize_t>i * K
            for k in range(K):
                G[k] += t * r[k]
    else:
        for q in range(X.indptr[j], X.indptr[j + 1]):
            t = vals[q]
            r = R + <Py_ssize_t>X.indices[q] * K
            for k in range(K):
                G[k] += t * r[k]


cdef inline void _hess_update(int i, double a, const double* d, const double* P, double* R,
                              int K) noexcept nogil:
    """R_i -= a H_i d with H_i = diag(p_i) - p_i p_i' (the row's exact Hessian)."""
    cdef const double* pr = P + <Py_ssize_t>i * K
    cdef double* r = R + <Py_ssize_t>i * K
    cdef double q = 0
    cdef int k
    for k in range(K):
        q += pr[k] * d[k]
    for k in range(K):
        r[k] -= a * pr[k] * (d[k] - q)


cdef inline void _col_update_k(design X, const floating* vals, int j, double mu,
                               const double* d, const double* s, const double* P,
                               double* R, int K) noexcept nogil:
    """R_i -= s_i x'_ij H_i d for every row (the exact Newton model's residual)."""
    cdef const floating* x
    cdef int i, q
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            _hess_update(i, s[i] * (x[i] - mu), d, P, R, K)
    else:
        for q in range(X.indptr[j], X.indptr[j + 1]):
            i = X.indices[q]
            _hess_update(i, s[i] * vals[q], d, P, R, K)


cdef inline void _col_axpy_k(design X, const floating* vals, int j, const double* d,
                             double* out, int K) noexcept nogil:
    """out[:, k] += d_k x_j (raw column) for every k."""
    cdef double t
    cdef const floating* x
    cdef double* o
    cdef int i, k, q
    if design is Dense:
        x = vals + <Py_ssize_t>j * X.n
        for i in range(X.n):
            t = x[i]
            o = out + <Py_ssize_t>i * K
            for k in range(K):
                o[k] += d[k] * t
    else:
        for q in range(X.indptr[j], X.indptr[j + 1]):
            t = vals[q]
            o = out + <Py_ssize_t>X.indices[q] * K
            for k in range(K):
                o[k] += d[k] * t


cdef inline void _group_prox(const double* z, const double* a, double l1, int K,
                             double* u) noexcept nogil:
    """argmin_u sum_k (a_k/2 u_k^2 - z_k u_k) + l1 ||u|| (a_k > 0): u = 0 when ||z|| <= l1,
    else u_k = z_k / (a_k + tau) with tau > 0 the root of ||tau z / (a + tau)|| = l1
    (increasing in tau; bracketed Newton)."""
    cdef double nz = 0, amin = INFINITY, amax = 0, lo, hi, tau, f, df, q, r
    cdef int k, it
    for k in range(K):
        nz += z[k] * z[k]
        if a[k] < amin:
            amin = a[k]
        if a[k] > amax:
            amax = a[k]
    nz = sqrt(nz)
    if nz <= l1:
        for k in range(K):
            u[k] = 0.0
        return
    if l1 == 0:
        for k in range(K):
            u[k] = z[k] / a[k]
        return
    lo = l1 * amin / (nz - l1)
    hi = l1 * amax / (nz - l1)
    tau = 0.5 * (lo + hi)
    for it in range(60):
        if hi - lo <= 1e-15 * hi:
            break
        f = 0.0
        df = 0.0
        for k in range(K):
            q = tau / (a[k] + tau)
            r = z[k] * q
            f += r * r
            df += z[k] * z[k] * q * a[k] / ((a[k] + tau) * (a[k] + tau))
        f = sqrt(f)
        if f > l1:
            hi = tau
        else:
            lo = tau
        if f == l1:
            break
        df /= f if f > 0 else 1.0
        tau = tau - (f - l1) / df if df > 0 else 0.5 * (lo + hi)
        if not (lo < tau < hi):
            tau = 0.5 * (lo + hi)
    for k in range(K):
        u[k] = z[k] / (a[k] + tau)


cdef int _sweeps_grouped(design X, const floating* vals, int n, int p, int K,
                         const int* codes, const double* s, double N, double* W, double* b,
                         double* eta, double* lse, const int* ws, int nws, const double* l1,
                         const double* l2, const double* mu, bint fit_intercept,
                         int n_sweeps, double tol_n, int max_inner, double floor,
                         double rounding, double* v, double* lse_t, double* P, double* rho,
                         double* R, double* deta, double* HK, double* D, int* act,
                         double* kbuf, double* out) noexcept nogil:
    """:func:`_sweeps` for the grouped penalty (each feature's K coefficients one group):
    each step is a proximal Newton step over all classes at once, on the exact Newton
    model of the loss (the rows' Hessians ``s_i H_i``, ``H_i = diag(p_i) - p_i p_i'``), solved
    by block coordinate descent over the working set and the intercepts, each block with
    its diagonal majoriser ``diag(sum_i s_i x_ij^2 d_ik)`` (``H_i <= diag(d_i)``,
    :func:`_row_majoriser`); then an
    Armijo line search on the true objective and the rows' mean shift. ``HK`` and ``D`` are
    (nws, K); ``kbuf`` 6 K doubles; ``floor`` is unused (the majoriser needs none)."""
    cdef int sweep, k, i, jj, j, nact, ep, it, full, moved, nz_row
    cdef double d2, dmax, slope, dpen, dl, t, delta, trial, z, m
    cdef double passes = 0, decrease = 0
    cdef double* G = kbuf
    cdef double* dd = kbuf + K
    cdef double* Db = kbuf + 2 * K
    cdef double* hb = kbuf + 3 * K
    cdef double* zz = kbuf + 4 * K
    cdef double* aa = kbuf + 5 * K
    cdef double* w
    cdef double* e
    cdef double* h
    cdef int n_acc = 0, n_still = 0
    for sweep in range(n_sweeps):
        for k in range(K):
            hb[k] = 0.0
            Db[k] = 0.0
        for i in range(n):
            e = eta + <Py_ssize_t>i * K
            for k in range(K):
                z = exp(e[k] - lse[i])
                P[<Py_ssize_t>i * K + k] = z
                rho[<Py_ssize_t>i * K + k] = s[i] * ((1.0 if codes[i] == k else 0.0) - z)
                R[<Py_ssize_t>i * K + k] = rho[<Py_ssize_t>i * K + k]
            # the row's majoriser, in deta until the step is formed
            _row_majoriser(P + <Py_ssize_t>i * K, K, deta + <Py_ssize_t>i * K)
            for k in range(K):
                hb[k] += s[i] * deta[<Py_ssize_t>i * K + k]
        for jj in range(nws * K):
            D[jj] = 0.0
        full = 1
        ep = 0
        while ep < max_inner:
            dmax = 0.0
            nact = 0
            if fit_intercept:  # the intercepts' block: G = sum_i R_i, majoriser diag(hb)
                for k in range(K):
                    G[k] = 0.0
                for i in range(n):
                    for k in range(K):
                        G[k] += R[<Py_ssize_t>i * K + k]
                d2 = 0.0
                for k in range(K):
                    dd[k] = G[k] / hb[k] if hb[k] > 0 else 0.0
                    Db[k] += dd[k]
                    d2 += hb[k] * dd[k] * dd[k]
                for i in range(n):
                    _hess_update(i, s[i], dd, P, R, K)
                dmax = d2
            for jj in range(nws):
                if not full and not act[jj]:
                    continue
                j = ws[jj]
                h = HK + <Py_ssize_t>jj * K
                if ep == 0:
                    _col_stats_k(X, vals, j, mu[j], s, deta, R, K, h, G)
                else:
                    _col_dot_k(X, vals, j, mu[j], R, K, G)
                w = W + <Py_ssize_t>j * K
                moved = 1
                for k in range(K):
                    zz[k] = h[k] * w[k] + G[k]
                    aa[k] = h[k] + N * l2[j]
                    if aa[k] <= 0:
                        moved = 0
                if not moved:
                    continue
                _group_prox(zz, aa, N * l1[j], K, dd)
                d2 = 0.0
                moved = 0
                for k in range(K):
                    dd[k] -= w[k]
                    if dd[k] != 0.0:
                        moved = 1
                    d2 += h[k] * dd[k] * dd[k]
                if moved:
                    for k in range(K):
                        w[k] += dd[k]
                        D[<Py_ssize_t>jj * K + k] += dd[k]
                    _col_update_k(X, vals, j, mu[j], dd, s, P, R, K)
                    if d2 > dmax:
                        dmax = d2
                nz_row = 0
                for k in range(K):
                    if w[k] != 0.0:
                        nz_row = 1
                if nz_row:
                    act[jj] = 1
                    nact += 1
                elif full:
                    act[jj] = 0
            passes += (nws if full else nact) / (<double>p)
            ep += 1
            if _epoch_done(&full, dmax, tol_n):
                break
        # the step: deta = X D + 1 Db' (raw columns: the shifts mu move to the intercepts)
        moved = 0
        for jj in range(nws):
            for k in range(K):
                Db[k] -= D[<Py_ssize_t>jj * K + k] * mu[ws[jj]]
        for k in range(K):
            if Db[k] != 0.0:
                moved = 1
        for i in range(n):
            for k in range(K):
                deta[<Py_ssize_t>i * K + k] = Db[k]
        dpen = 0.0
        for jj in range(nws):
            m = 0.0
            for k in range(K):
                m += fabs(D[<Py_ssize_t>jj * K + k])
            if m != 0.0:
                moved = 1
                j = ws[jj]
                _col_axpy_k(X, vals, j, D + <Py_ssize_t>jj * K, deta, K)
                w = W + <Py_ssize_t>j * K
                for k in range(K):
                    dd[k] = w[k] - D[<Py_ssize_t>jj * K + k]
                dpen += _gpen(l1[j], l2[j], w, K) - _gpen(l1[j], l2[j], dd, K)
        if not moved:
            n_still += 1
            continue
        slope = 0.0
        for i in range(n * K):
            slope -= rho[i] * deta[i]
        slope /= N
        delta = slope + dpen
        t = 1.0
        it = 0
        while True:
            dl = 0.0
            for i in range(n):
                e = eta + <Py_ssize_t>i * K
                m = e[0] + t * deta[<Py_ssize_t>i * K]
                for k in range(1, K):
                    z = e[k] + t * deta[<Py_ssize_t>i * K + k]
                    if z > m:
                        m = z
                z = 0.0
                for k in range(K):
                    z += exp(e[k] + t * deta[<Py_ssize_t>i * K + k] - m)
                lse_t[i] = m + log(z)
                dl += s[i] * (lse_t[i] - lse[i] - t * deta[<Py_ssize_t>i * K + codes[i]])
            dl /= N
            if t != 1.0:
                dpen = 0.0
                for jj in range(nws):
                    j = ws[jj]
                    w = W + <Py_ssize_t>j * K
                    m = 0.0
                    for k in range(K):
                        m += fabs(D[<Py_ssize_t>jj * K + k])
                    if m == 0.0:
                        continue
                    for k in range(K):  # w - D (the start) and w - D + tD
                        dd[k] = w[k] - D[<Py_ssize_t>jj * K + k]
                    dpen -= _gpen(l1[j], l2[j], dd, K)
                    for k in range(K):
                        dd[k] += t * D[<Py_ssize_t>jj * K + k]
                    dpen += _gpen(l1[j], l2[j], dd, K)
            trial = dl + dpen
            if _armijo_done(trial, delta, rounding, &t, &it):
                break
        if t != 1.0:  # W holds the full step: move it back to t (t = 0: no step)
            for jj in range(nws):
                w = W + <Py_ssize_t>ws[jj] * K
                for k in range(K):
                    w[k] -= (1.0 - t) * D[<Py_ssize_t>jj * K + k]
        if t == 0.0:
            continue
        for k in range(K):
            b[k] += t * Db[k]
        for i in range(n):
            lse[i] = lse_t[i]
            for k in range(K):
                eta[<Py_ssize_t>i * K + k] += t * deta[<Py_ssize_t>i * K + k]
        decrease -= trial
        n_acc += 1
        # the rows' mean shifts
        nact = _shift_features(X, vals, n, K, W, ws, nws, l1, l2, True, dd, v, &decrease)
        passes += _shift_rows(n, K, v, eta, lse, nact, <double>p)
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
                       double rounding, bint grouped=False):
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

    ``grouped``: the penalty is on the rows ``W_j`` (``l1 ||W_j|| + l2/2 ||W_j||^2``), and a
    step moves every class at once (:func:`_sweeps_grouped`).

    Returns ``(accepted, still, passes, decrease)``: steps accepted, steps without a move,
    column passes in units of one pass over all p·K coefficients, and the total decrease
    of the objective.
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
    if grouped:
        return _grouped_call(X_data, X_indices, X_indptr, n, p, K, codes, sw, N, W, b, eta,
                             lse, ws, l1, l2, mu, fit_intercept, n_sweeps, tol_n, max_inner,
                             floor, rounding)
    work = np.empty((6, max(n, 1)))
    cdef double[:, ::1] wk = work
    cdef double[::1] S1 = np.empty(nws + K)  # + the shift's sort buffer
    cdef double[::1] H = np.empty(max(nws, 1))
    cdef double[::1] D = np.empty(max(nws, 1))
    cdef int[::1] act = np.zeros(max(nws, 1), dtype=np.intc)
    cdef double[::1] out = np.zeros(4)
    with nogil:
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


cdef _grouped_call(const floating[::1] X_data, const int[::1] X_indices,
                   const int[::1] X_indptr, int n, int p, int K, const int[::1] codes,
                   const double[::1] sw, double N, double[:, ::1] W, double[::1] b,
                   double[:, ::1] eta, double[::1] lse, const int[::1] ws,
                   const double[::1] l1, const double[::1] l2, const double[::1] mu,
                   bint fit_intercept, int n_sweeps, double tol_n, int max_inner,
                   double floor, double rounding):
    cdef Dense Dn
    cdef int nws = <int>ws.shape[0]
    cdef double[:, ::1] nk = np.empty((4, max(n * K, 1)))
    cdef double[:, ::1] wk = np.empty((2, max(n, 1)))
    cdef double[::1] HK = np.empty(max(nws * K, 1))
    cdef double[::1] D = np.empty(max(nws * K, 1))
    cdef int[::1] act = np.zeros(max(nws, 1), dtype=np.intc)
    cdef double[::1] kbuf = np.empty(6 * K)
    cdef double[::1] out = np.zeros(4)
    with nogil:
        if X_indptr.shape[0] == 0:
            Dn.n = n
            _sweeps_grouped(Dn, _ptr(X_data), n, p, K, &codes[0], &sw[0], N, &W[0, 0],
                            &b[0], &eta[0, 0], &lse[0], &ws[0] if nws else NULL, nws, &l1[0],
                            &l2[0], &mu[0], fit_intercept, n_sweeps, tol_n, max_inner,
                            floor, rounding, &wk[0, 0], &wk[1, 0], &nk[0, 0], &nk[1, 0],
                            &nk[2, 0], &nk[3, 0], &HK[0], &D[0], &act[0], &kbuf[0], &out[0])
        else:
            _sweeps_grouped(_csc(X_indices, X_indptr), _ptr(X_data), n, p, K, &codes[0],
                            &sw[0], N, &W[0, 0], &b[0], &eta[0, 0], &lse[0],
                            &ws[0] if nws else NULL, nws, &l1[0], &l2[0], &mu[0],
                            fit_intercept, n_sweeps, tol_n, max_inner, floor, rounding,
                            &wk[0, 0], &wk[1, 0], &nk[0, 0], &nk[1, 0], &nk[2, 0],
                            &nk[3, 0], &HK[0], &D[0], &act[0], &kbuf[0], &out[0])
    return int(out[0]), int(out[1]), float(out[2]), float(out[3])
