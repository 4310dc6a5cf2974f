# ``noexcept nogil`` inline helpers shared by every solver kernel.
#
# The mathematics (see doc/user_guide and DESIGN):
#   soft-threshold        S(x, t) = sign(x) * max(|x| - t, 0)
#   block soft-threshold  B(v, t) = max(1 - t / ||v||, 0) * v
#   sparse-group prox     B(S(v, t1), t2)  (soft-threshold first, then group shrinkage)
from cython cimport floating
from libc.math cimport fabs, log, sqrt


cdef inline floating _fmax(floating a, floating b) noexcept nogil:
    return a if a > b else b


cdef inline floating _fmin(floating a, floating b) noexcept nogil:
    return a if a < b else b


cdef inline floating _soft_threshold(floating x, floating t) noexcept nogil:
    """S(x, t) = sign(x) * max(|x| - t, 0) for t >= 0."""
    if x > t:
        return x - t
    elif x < -t:
        return x + t
    return 0


cdef inline floating _pos(floating x) noexcept nogil:
    """max(x, 0)"""
    return x if x > 0 else 0


cdef inline floating _norm2(const floating* v, int n) noexcept nogil:
    """||v||_2 without overflowing or underflowing the squares: the plain sum of squares
    when it is a normal number well inside the range, else the sum rescaled by the largest
    entry (data near the ends of the float range, gradients ~ |X|·|y|)."""
    cdef floating acc = 0, m = 0, a
    cdef int i
    for i in range(n):
        acc += v[i] * v[i]
    if floating is float:
        if 1e-30 < acc < 1e37:
            return sqrt(acc)
    else:
        if 1e-290 < acc < 1e300:
            return sqrt(acc)
    for i in range(n):
        a = fabs(v[i])
        if a > m:
            m = a
    if not m > 0 or m - m != 0:  # all zero, NaN or inf: the plain result
        return sqrt(acc)
    acc = 0
    for i in range(n):
        a = v[i] / m
        acc += a * a
    return m * sqrt(acc)


cdef inline floating _block_shrink_factor(floating norm, floating t) noexcept nogil:
    """The factor max(1 - t / norm, 0) of the block soft-threshold B(v, t)."""
    if norm <= t:
        return 0
    return 1 - t / norm


cdef inline floating _block_soft_threshold(floating* v, int n, floating t) noexcept nogil:
    """In place v <- B(v, t); returns ||B(v, t)||_2 (squares summed in double: float32
    gradients of data ~1e10 have squares beyond float32's range)."""
    cdef double nrm = 0
    cdef int i
    for i in range(n):
        nrm += <double>v[i] * v[i]
    nrm = sqrt(nrm)
    cdef floating scale = _block_shrink_factor(<floating>nrm, t)
    for i in range(n):
        v[i] *= scale
    return scale * nrm


cdef inline floating _soft_threshold_norm(const floating* v, int n, floating t) noexcept nogil:
    """||S(v, t)||_2, the quantity the sparse-group KKT check compares to alpha (1-rho) c_g
    (squares summed in double, as above)."""
    cdef double acc = 0, a
    cdef int i
    for i in range(n):
        a = fabs(v[i]) - t
        if a > 0:
            acc += a * a
    return <floating>sqrt(acc)


cdef inline void _fista_start(int m, const floating* u, floating* v,
                              floating* u1) noexcept nogil:
    """After the first proximal-gradient step (to ``u``): the extrapolation point ``v``
    starts there, and ``u1`` keeps it (FISTA is not monotone: a final iterate that models
    worse than this first step is replaced by it)."""
    cdef int a
    for a in range(m):
        v[a] = u[a]
        u1[a] = u[a]


cdef inline void _fista_grad_step(int m, floating* u, floating* uold, const floating* v,
                                  const floating* grad, floating step) noexcept nogil:
    """``uold <- u``, ``u <- v - step·grad``: the gradient step before the prox."""
    cdef int a
    for a in range(m):
        uold[a] = u[a]
        u[a] = v[a] - step * grad[a]


cdef inline bint _fista_next(int m, const floating* u, const floating* uold, floating* v,
                             const floating* w0, floating eps, floating* tk) noexcept nogil:
    """One accelerated proximal-gradient step's bookkeeping, after the prox step took ``v``
    to ``u`` (``uold`` the previous ``u``, ``w0`` the block's value on entry): True when the
    step moved no coordinate by more than ``eps·max|u - w0|`` (converged); otherwise ``v``
    becomes the next extrapolation point, FISTA's momentum ``tk`` restarted when it points
    uphill ((v - u)·(u - uold) > 0, O'Donoghue & Candès)."""
    cdef floating dmax = 0, tot = 0, restart = 0, tnext, beta
    cdef int a
    for a in range(m):
        dmax = _fmax(dmax, <floating>fabs(u[a] - uold[a]))
        tot = _fmax(tot, <floating>fabs(u[a] - w0[a]))
        restart += (v[a] - u[a]) * (u[a] - uold[a])
    if dmax <= eps * tot:
        return True
    if restart > 0:
        tk[0] = 1
        for a in range(m):
            v[a] = u[a]
    else:
        tnext = 0.5 * (1 + sqrt(1 + 4 * tk[0] * tk[0]))
        beta = (tk[0] - 1) / tnext
        tk[0] = tnext
        for a in range(m):
            v[a] = u[a] + beta * (u[a] - uold[a])
    return False


# Anderson extrapolation of solver iterates (the residual-mode CD and the group BCD kernels):
# from the last K + 1 iterates w^0..w^K, the point sum_k c_k w^(k+1) with
# c = M^-1 1 / (1' M^-1 1), M = U U', U_k = w^(k+1) - w^k. Callers keep it only if it
# lowers the objective, so convergence guarantees are untouched.
cdef enum:
    ANDERSON_K = 5        # the deepest extrapolation (K) the kernels support


cdef inline bint _anderson(int K, int m, const floating* snaps,
                           floating* out) noexcept nogil:
    """out <- Anderson extrapolation of the K+1 snapshots (each of length m, stored one
    after the other; 1 <= K <= ANDERSON_K); False when the small system is degenerate."""
    cdef double M[ANDERSON_K][ANDERSON_K]
    cdef double z[ANDERSON_K]
    cdef double u, v, piv, f, tr = 0, total = 0
    cdef int a, b, i, r, kk
    for a in range(K):
        for b in range(a, K):
            u = 0
            for i in range(m):
                u += (<double>snaps[(a + 1) * m + i] - snaps[a * m + i]) * (
                    <double>snaps[(b + 1) * m + i] - snaps[b * m + i])
            M[a][b] = u
            M[b][a] = u
        tr += M[a][a]
        z[a] = 1
    if tr <= 0:
        return False
    for a in range(K):
        M[a][a] += 1e-10 * tr
    # Gaussian elimination with partial pivoting on M z = 1
    for a in range(K):
        r = a
        for b in range(a + 1, K):
            if fabs(M[b][a]) > fabs(M[r][a]):
                r = b
        if M[r][a] == 0:
            return False
        if r != a:
            for b in range(K):
                v = M[a][b]
                M[a][b] = M[r][b]
                M[r][b] = v
            v = z[a]
            z[a] = z[r]
            z[r] = v
        piv = M[a][a]
        for b in range(a + 1, K):
            f = M[b][a] / piv
            for kk in range(a, K):
                M[b][kk] -= f * M[a][kk]
            z[b] -= f * z[a]
    for a in range(K - 1, -1, -1):
        v = z[a]
        for b in range(a + 1, K):
            v -= M[a][b] * z[b]
        z[a] = v / M[a][a]
        total += z[a]
    if fabs(total) < 1e-300:
        return False
    for i in range(m):
        v = 0
        for a in range(K):
            v += z[a] * snaps[(a + 1) * m + i]
        out[i] = <floating>(v / total)
    return True


cdef inline bint _anderson_due(int m, const int* idx, const floating* w, floating* snaps,
                               int K, int* n_snap, int* wait) noexcept nogil:
    """Store ``w[idx[:m]]`` as the next snapshot; True when ``K + 1`` snapshots are complete
    and no back-off wait is pending: the caller then tries the extrapolation and reports
    the outcome to :func:`_anderson_backoff`."""
    cdef int a
    for a in range(m):
        snaps[n_snap[0] * m + a] = w[idx[a]]
    n_snap[0] += 1
    if n_snap[0] < K + 1:
        return False
    n_snap[0] = 0
    if wait[0] > 0:
        wait[0] -= 1
        return False
    return True


cdef inline void _anderson_backoff(bint ok, int* fails, int* wait) noexcept nogil:
    """A rejected extrapolation costs about an epoch: back off exponentially (the support is
    still changing); retry at once after a success."""
    if ok:
        fails[0] = 0
    else:
        fails[0] = fails[0] + 1 if fails[0] < 4 else 4
        wait[0] = (1 << fails[0]) - 1


cdef enum:
    GAP_SKIP = 10         # the most sweeps a predicted rate skips gap checks for


cdef inline int _next_gap_check(double gap, double gap_prev, int at, int at_prev,
                                double target, int cap) noexcept nogil:
    """The sweep (counted as ``at`` is) before which a sweep kernel skips its next gap
    check (a pass over its working set's columns, as costly as a sweep's dots): the gap
    fell from ``gap_prev`` (at sweep ``at_prev``) to ``gap`` (at ``at``) at a linear rate
    that reaches ``target`` after ``m`` more sweeps; returns ``at + min(0.8 m, cap)``, or
    0 (no skipping) when the gap did not fall or there was no earlier check. (On the
    group suite's wide paths the checks were a third (W) and half (MTG) of the column
    visits: one after every sweep near the end.)"""
    cdef double m
    if not (0 < gap < gap_prev and at > at_prev and 0 < target < gap):
        return 0
    m = 0.8 * log(target / gap) / (log(gap / gap_prev) / (at - at_prev))
    return at + <int>(m if m < cap else cap)
