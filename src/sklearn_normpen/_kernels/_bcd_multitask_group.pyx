# Block coordinate descent for the multi-response sparse-group lasso, dense and CSC,
# float32/float64 (see sklearn_normpen/_solvers/multitask_group.py).
#
# Problem solved (package scale, N = sum(s)):
#   min_W 1/(2N) ||Yc - Xc W||_S^2 + sum_j l1 ||W_j||_2 + sum_g l2_g ||W_g||_F
# W (p, K) C-ordered (row j: feature j's K coefficients); a group g is the |g| x K block of
# the rows gidx[gptr[g]:gptr[g+1]]. The residual R (n, K) is Fortran-ordered and kept with
# X *uncentred*, R = Yc - X W; centring is implicit, per response k (as _bcd_multitask.pyx):
#   x_jc^T S r_c = x_j^T S r - xmean_j * sum_i(s_i r_i),   srsum = S^T R kept up to date.
# X, W and R keep X's dtype; the block work (gradient block, Gram, prox, FISTA) is float64
# with float64 means and srsum, float32 dots accumulating in double: an active group's
# gradient sits on the boundary of its dual ball, so the certificate's dual scaling reads a
# gradient or update error first-order (float32 block arithmetic stalled near 1e-6 of the
# null deviance; float32 coefficients themselves allow about 1e-7).
# A visit of group g reads its gradient block Z = Xc_g^T S R / N once (O(n |g| K)), then
# minimises the block's quadratic model
#   q(U) = 1/2 <U - W_g, Q_g (U - W_g)> - <Z, U - W_g> + pen_g(U)
# (Q_g the weighted centred group Gram / N, exact for the squared loss; packed float64 in
# ``gram`` at ``goff[g]``, -1 for a group without one): first the proximal-gradient step
# U = prox(W_g + Z / L_g) (L_g the largest eigenvalue of Q_g), then FISTA with gradient
# restart in Gram space, O(|g|^2 K) per step, so a collinear group costs inner steps, not
# passes over the data. Inner work is capped near four data passes; a singleton, a group
# wider than the pass or without a stored Gram takes the single step. The prox of the
# nested norms is every row shrunk by l1 / L_g in norm, then the block by l2_g / L_g in
# Frobenius norm. The residual is then updated once with the block's total change.
# The kernel stops after an epoch whose largest L_g ||dW_g||_F^2 is at most tol once the
# working set's duality gap (_mtg_gap) is at most gap_tol (gap_tol < 0: on the change
# alone); the package's certificate, computed in float64 by the caller, decides acceptance.
from cython cimport floating
from libc.math cimport INFINITY, fabs, sqrt
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from sklearn_normpen._kernels._helpers cimport (
    ANDERSON_K, GAP_SKIP, _anderson, _anderson_backoff, _anderson_due, _fista_grad_step,
    _fista_next, _fista_start, _next_gap_check)
from sklearn_normpen._kernels import prediction_arg
from sklearn_normpen._kernels._design cimport (
    Dense, Csc, design, _col_dot, _col_axpy, _predicted_start, _response_sums, _ptr, _csc,
    _row_offsets, _centred_sq)

# scratch slots of |g| x K values per group visit (see _bcd_mtg)
cdef enum:
    NBUF = 7
#: the Python side sizes buf as SCRATCH_SLOTS * K * (largest group)
SCRATCH_SLOTS = NBUF
cdef int MAX_INNER = 100       # FISTA iterations per visit at most
cdef double INNER_EPS = 1e-3   # relative last change that ends them


cdef inline double _nested_prox(double* V, int m, int K, double t1,
                                double t2) noexcept nogil:
    """V (m x K, row-major) <- prox of t1 sum_j ||V_j|| + t2 ||V||_F, in place: rows shrunk
    by t1 in norm, then the block by t2 in Frobenius norm. Returns ||V||_F after."""
    cdef int a, k
    cdef double nr, s, fro2 = 0, fro
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


cdef double _model(const double* Q, int m, int K, const double* W0, const double* Z,
                   const double* U, double l1, double l2) noexcept nogil:
    """The block model q(U) = 1/2 <D, Q D> - <Z, D> + pen(U), D = U - W0."""
    cdef int b, j, k
    cdef double val = 0, qd, nr, fro2 = 0, rows = 0
    for b in range(m):
        for k in range(K):
            qd = 0
            for j in range(m):
                qd += Q[b * m + j] * (U[j * K + k] - W0[j * K + k])
            val += (U[b * K + k] - W0[b * K + k]) * (0.5 * qd - Z[b * K + k])
        nr = 0
        for k in range(K):
            nr += U[b * K + k] * U[b * K + k]
        fro2 += nr
        rows += sqrt(nr)
    return val + l1 * rows + l2 * sqrt(fro2)


cdef int _block_solve(const double* Q, int m, int K, double L, const double* W0,
                      const double* Z, double* U, double* V, double* Uold, double* U1,
                      double* G, double l1, double l2, int max_inner,
                      double eps) noexcept nogil:
    """U <- (approximate) argmin of the block model from W0: the proximal-gradient step
    U = prox(W0 + Z / L), then (``max_inner`` > 1, ``Q`` the group Gram) FISTA with
    gradient restart in Gram space, stopping when the last change is at most ``eps`` times
    the total change from W0 (as _bcd_group.pyx's). FISTA is not monotone: a result that
    models worse than the first step is replaced by it. Returns the iteration count."""
    cdef int b, j, k, it, mk = m * K, n_it = max_inner
    cdef double tk = 1, tnext, beta, dmax, tot, restart, q
    for b in range(mk):
        U[b] = W0[b] + Z[b] / L
    _nested_prox(U, m, K, l1 / L, l2 / L)
    if max_inner <= 1:
        return 1
    _fista_start(mk, U, V, U1)
    for it in range(1, max_inner):
        # G = Q (V - W0) - Z, the model's smooth gradient at V (rows of K contiguous)
        for b in range(mk):
            Uold[b] = V[b] - W0[b]
            G[b] = -Z[b]
        for b in range(m):
            for j in range(m):
                q = Q[b * m + j]
                if q != 0:
                    for k in range(K):
                        G[b * K + k] += q * Uold[j * K + k]
        _fista_grad_step(mk, U, Uold, V, G, 1 / L)
        _nested_prox(U, m, K, l1 / L, l2 / L)
        if _fista_next(mk, U, Uold, V, W0, eps, &tk):
            n_it = it + 1
            break
    if _model(Q, m, K, W0, Z, U, l1, l2) > _model(Q, m, K, W0, Z, U1, l1, l2):
        for b in range(mk):
            U[b] = U1[b]
    return n_it


cdef double _mtg_gap(design X, const floating* vals, int n, const floating* sw,
                     bint weighted, const double[::1] xmean, floating N,
                     const floating[:, ::1] W, const floating[::1, :] R,
                     const int[::1] gptr, const int[::1] gidx, const double[::1] Lg,
                     double l1, const double[::1] l2, const int[::1] ws, double* Z,
                     double* off, double[::1] srsum) noexcept nogil:
    """The duality gap of the problem restricted to the groups ``ws`` (the others are 0),
    as ``_mt_gap`` of _bcd_multitask.pyx: centred residual ``R_c = R + 1 offᵀ``,
    ``Z = Xcᵀ S R_c / N``, ``<R_c, Yc>_S = ||R_c||²_S + N <W, Z>``, and the dual scaled
    by the largest ``t`` this formula makes feasible without bisection: a group's
    constraint ``||S_rows(t Z_g, l1)||_F <= l2_g`` (rows shrunk by ``l1`` in norm) holds at
    ``t = l2_g / ||S_rows(Z_g, l1)||_F`` since ``(t a - l1)_+ <= t (a - l1)_+`` for
    ``t <= 1``; with ``l2_g = 0`` every row needs ``||Z_j|| <= l1``. A group with
    ``l1 = l2_g = 0`` adds its exact block step's gain bound ``||Z_g||²_F / (2 L_g)`` (an
    estimate; the caller certifies). ``Z`` holds |g|·K values, ``off`` K."""
    cdef int K = W.shape[1], nws = ws.shape[0], gg, g, a, m, b, j, k
    cdef double rr, wz = 0, pen = 0, uq = 0, t = 1, tg, zr, wr, wf, sq, zmax, zf, m_j
    _response_sums(n, K, &R[0, 0], sw, weighted, &srsum[0])
    for k in range(K):
        off[k] = 0
    for gg in range(nws):
        g = ws[gg]
        if gptr[g + 1] > gptr[g]:
            _row_offsets(K, &W[0, 0], &xmean[0], &gidx[gptr[g]], gptr[g + 1] - gptr[g], off)
    for gg in range(nws):
        g = ws[gg]
        a = gptr[g]
        m = gptr[g + 1] - a
        sq = 0
        zmax = 0
        zf = 0
        wf = 0
        for b in range(m):
            j = gidx[a + b]
            m_j = xmean[j]
            zr = 0
            wr = 0
            for k in range(K):
                Z[k] = (_grad_dot(X, vals, j, &R[0, k], sw, weighted) - m_j * srsum[k]) / N
                zr += Z[k] * Z[k]
                wr += <double>W[j, k] * W[j, k]
                wz += <double>W[j, k] * Z[k]
            zf += zr
            wf += wr
            zr = sqrt(zr)
            pen += l1 * sqrt(wr)
            zmax = zr if zr > zmax else zmax
            if zr > l1:
                sq += (zr - l1) * (zr - l1)
        pen += l2[g] * sqrt(wf)
        if l2[g] > 0:
            sq = sqrt(sq)
            tg = l2[g] / sq if sq > l2[g] else 1
        elif l1 > 0:
            tg = l1 / zmax if zmax > l1 else 1
        else:
            tg = 1
            if Lg[g] > 0:
                uq += zf / (2 * Lg[g])
        t = tg if tg < t else t
    rr = _centred_sq(n, K, &R[0, 0], sw, weighted, &srsum[0], off, N) / N
    return rr / 2 + pen - t * (rr + wz) + t * t * rr / 2 + uq


cdef double _mtg_primal(int n, int K, const floating* R, const floating* sw, bint weighted,
                        const double* xmean, double N, const floating* W, const int* gptr,
                        const int* gidx, double l1, const double* l2, const int* ws,
                        int nws, double* sums, double* off) noexcept nogil:
    """The objective of the problem restricted to the groups ``ws`` (the others are 0):
    ``||R_c||²_S / (2N) + pen(W)``, ``R_c = R + 1 offᵀ``. ``sums``, ``off``: K scratch
    values each."""
    cdef int gg, g, a, m, b, j, k
    cdef double pen = 0, wr, wf
    _response_sums(n, K, R, sw, weighted, sums)
    for k in range(K):
        off[k] = 0
    for gg in range(nws):
        g = ws[gg]
        a = gptr[g]
        m = gptr[g + 1] - a
        _row_offsets(K, W, xmean, &gidx[a], m, off)
        wf = 0
        for b in range(m):
            j = gidx[a + b]
            wr = 0
            for k in range(K):
                wr += <double>W[<Py_ssize_t>j * K + k] * W[<Py_ssize_t>j * K + k]
            wf += wr
            pen += l1 * sqrt(wr)
        pen += l2[g] * sqrt(wf)
    return _centred_sq(n, K, R, sw, weighted, sums, off, N) / (2 * N) + pen


cdef floating _bcd_mtg(design X, const floating* vals, int n, const floating* sw,
                       bint weighted, const double[::1] xmean, floating N,
                       floating[:, ::1] W, floating[::1, :] R, const int[::1] gptr,
                       const int[::1] gidx, const double[::1] Lg, double l1,
                       const double[::1] l2, const double[::1] gram,
                       const Py_ssize_t[::1] goff, const int[::1] ws, int max_epochs,
                       floating tol, double gap_tol, double[::1] buf, double[::1] srsum,
                       int aa_k, const floating* pred, int* n_epochs,
                       double* gap) noexcept nogil:
    """The sweeps behind :func:`bcd_mtg_dense`; every ``aa_k + 1`` epochs (0: never), an
    Anderson extrapolation of the working set's coefficients, kept when it lowers the
    restricted objective (as _bcd_group.pyx's: a rejection costs about an epoch's axpys
    and backs off)."""
    cdef int K = W.shape[1]
    cdef int nws = ws.shape[0]
    cdef Py_ssize_t s = buf.shape[0] // NBUF  # one m x K slot
    cdef double* Z = &buf[0]                 # gradient block at W_g
    cdef double* W0 = Z + s                  # W_g
    cdef double* U = W0 + s                  # the block's new value
    cdef double* V = U + s                   # FISTA scratch (V, Uold, U1, G)
    cdef double* Uold = V + s
    cdef double* U1 = Uold + s
    cdef double* G = U1 + s
    cdef int epoch = 0, gg, g, a, b, m, k, j, npass, inner, not_before = 0, e_prev = 0
    cdef double g_prev = 0
    cdef floating d, wnew, delta = 0
    cdef double L, m_j, change, obj_cur
    # Anderson state: the working set's flat indices into W, K + 1 snapshots, the
    # extrapolated point, the residual and response sums to restore on a rejection
    cdef int mk = 0, n_snap = 0, aa_fail = 0, aa_wait = 0, idx
    cdef int* widx = NULL
    cdef floating* snaps = NULL
    cdef floating* wacc = NULL
    cdef floating* rbak = NULL
    cdef floating* Wf = &W[0, 0] if W.shape[0] * K > 0 else NULL
    cdef bint ok
    if aa_k > 0:
        for gg in range(nws):
            mk += (gptr[ws[gg] + 1] - gptr[ws[gg]]) * K
        widx = <int*>malloc(max(mk, 1) * sizeof(int))
        snaps = <floating*>malloc(max(mk, 1) * (aa_k + 1) * sizeof(floating))
        wacc = <floating*>malloc(max(mk, 1) * sizeof(floating))
        rbak = <floating*>malloc(max(n * K, 1) * sizeof(floating))
        if widx == NULL or snaps == NULL or wacc == NULL or rbak == NULL or mk == 0:
            aa_k = 0  # (no memory, or nothing to extrapolate: plain sweeps)
        else:
            mk = 0
            for gg in range(nws):
                for a in range(gptr[ws[gg]], gptr[ws[gg] + 1]):
                    for k in range(K):
                        widx[mk] = gidx[a] * K + k
                        mk += 1
    if pred != NULL:  # (the offsets: implicit, from R's sums below)
        for gg in range(nws):
            a = gptr[ws[gg]]
            _predicted_start(X, vals, n, K, gptr[ws[gg] + 1] - a, &gidx[a], Wf, &R[0, 0],
                             <const floating*>NULL, pred)
    _response_sums(n, K, &R[0, 0], sw, weighted, &srsum[0])
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
            npass = 0
            for b in range(m):
                j = gidx[a + b]
                m_j = xmean[j]
                if design is Dense:
                    npass = n
                else:
                    npass += X.indptr[j + 1] - X.indptr[j]
                for k in range(K):
                    W0[b * K + k] = W[j, k]
                    Z[b * K + k] = (_grad_dot(X, vals, j, &R[0, k], sw, weighted)
                                    - m_j * srsum[k]) / N
            # Gram-space work is O(m^2 K) per inner iteration against the visit's O(npass K)
            # data pass: at most ~4 passes' worth, the single step for groups wider than
            # the pass or without a stored Gram
            inner = 1 if (goff[g] < 0 or m == 1 or m > npass) else min(
                MAX_INNER, max(2, 4 * npass // m))
            _block_solve(&gram[goff[g]] if inner > 1 else NULL, m, K, L, W0, Z, U, V, Uold,
                         U1, G, l1, l2[g], inner, INNER_EPS)
            change = 0
            for b in range(m):
                j = gidx[a + b]
                m_j = xmean[j]
                for k in range(K):
                    wnew = <floating>U[b * K + k]
                    d = wnew - W[j, k]  # the stored change (R follows W exactly)
                    if d != 0:
                        W[j, k] = wnew
                        _col_axpy(X, vals, j, -d, &R[0, k])
                        srsum[k] -= d * N * m_j
                        change += d * d
            change *= L
            if change > delta:
                delta = <floating>change
        if aa_k > 0 and _anderson_due(mk, widx, Wf, snaps, aa_k, &n_snap, &aa_wait):
            ok = False
            if _anderson(aa_k, mk, snaps, wacc):
                obj_cur = _mtg_primal(n, K, &R[0, 0], sw, weighted, &xmean[0], N, Wf,
                                      &gptr[0], &gidx[0], l1, &l2[0], &ws[0], nws, Uold, G)
                memcpy(rbak, &R[0, 0], n * K * sizeof(floating))
                for a in range(mk):
                    idx = widx[a]
                    d = wacc[a] - Wf[idx]
                    if d != 0:
                        j = idx // K
                        Wf[idx] = wacc[a]
                        _col_axpy(X, vals, j, -d, &R[0, idx % K])
                ok = _mtg_primal(n, K, &R[0, 0], sw, weighted, &xmean[0], N, Wf, &gptr[0],
                                 &gidx[0], l1, &l2[0], &ws[0], nws, Uold, G) < obj_cur
                if not ok:  # back to the last sweep's point (the newest snapshot)
                    for a in range(mk):
                        Wf[widx[a]] = snaps[aa_k * mk + a]
                    memcpy(&R[0, 0], rbak, n * K * sizeof(floating))
                _response_sums(n, K, &R[0, 0], sw, weighted, &srsum[0])
            _anderson_backoff(ok, &aa_fail, &aa_wait)
        if delta <= tol:
            if gap_tol < 0:
                break
            if epoch < not_before and epoch < max_epochs:
                continue  # (the last two checks' rate: the target is not near yet)
            # (srsum is recomputed there: the sweeps go on with it)
            gap[0] = _mtg_gap(X, vals, n, sw, weighted, xmean, N, W, R, gptr, gidx, Lg, l1,
                              l2, ws, Z, G, srsum)
            if gap[0] <= gap_tol:
                break
            not_before = _next_gap_check(gap[0], g_prev, epoch, e_prev, gap_tol, GAP_SKIP)
            g_prev = gap[0]
            e_prev = epoch
    free(widx)
    free(snaps)
    free(wacc)
    free(rbak)
    n_epochs[0] = epoch
    return delta


cdef _check_scratch(const int[::1] gptr, const int[::1] ws, Py_ssize_t nbuf, int K,
                    int anderson_k):
    """buf must hold NBUF slots of K m values, m the largest group in ``ws`` (an O(|ws|)
    check: the one thing the signature cannot state); ``anderson_k`` in [0, ANDERSON_K]."""
    cdef int gg, m = 0
    if not 0 <= anderson_k <= ANDERSON_K:
        raise ValueError(f"bcd_mtg: anderson_k must be in [0, {ANDERSON_K}]; got "
                         f"{anderson_k}.")
    for gg in range(ws.shape[0]):
        m = max(m, gptr[ws[gg] + 1] - gptr[ws[gg]])
    if nbuf // NBUF < K * m:
        raise ValueError(f"argument buf is too short ({nbuf}) for a group of {m} features "
                         f"and {K} responses (needs {NBUF * K * m}).")


def bcd_mtg_dense(const floating[::1, :] X, const floating[::1] sw,
                  const double[::1] xmean, floating[:, ::1] W, floating[::1, :] R,
                  const int[::1] gptr, const int[::1] gidx, const double[::1] Lg,
                  double l1, const double[::1] l2, const double[::1] gram,
                  const Py_ssize_t[::1] goff, const int[::1] ws, floating N, int max_epochs,
                  floating tol, double gap_tol, double[::1] buf, double[::1] srsum,
                  int anderson_k=ANDERSON_K, pred=None):
    """Block CD epochs over the groups ``ws`` (dense Fortran ``X``; ``sw`` the sample
    weights, empty for unit weights); ``W`` and ``R`` updated in place. Stops after
    ``max_epochs`` epochs, or after an epoch whose largest ``L_g ||dW_g||_F²`` is at most
    ``tol`` once the working set's gap (:func:`_mtg_gap`) is at most ``gap_tol`` (at once
    when ``gap_tol < 0``). ``buf`` holds ``SCRATCH_SLOTS·K·(largest group)`` scratch
    values, ``srsum`` K. ``anderson_k`` (0 to 5): the depth of the Anderson extrapolation
    (every ``anderson_k + 1`` epochs; 0: none). ``pred`` ((p, K), or None / empty): a
    path's predicted change of ``W``; each non-zero coefficient of the groups ``ws`` first
    moves by it where that keeps its sign (``R`` follows). Returns ``(epochs, gap)``, the
    last gap evaluated (inf: none)."""
    cdef Dense D
    cdef int epochs = 0
    cdef double gap = INFINITY
    cdef bint weighted = sw.shape[0] > 0
    cdef const floating[:, ::1] pr = prediction_arg(pred, W, "bcd_mtg_dense")
    cdef const floating* pp = &pr[0, 0] if pr.shape[0] > 0 else NULL
    D.n = <int>X.shape[0]
    _check_scratch(gptr, ws, buf.shape[0], <int>W.shape[1], anderson_k)
    with nogil:
        _bcd_mtg(D, &X[0, 0] if X.shape[0] * X.shape[1] > 0 else NULL, D.n,
                 &sw[0] if weighted else NULL, weighted, xmean, N, W, R, gptr, gidx, Lg, l1,
                 l2, gram, goff, ws, max_epochs, tol, gap_tol, buf, srsum, anderson_k, pp,
                 &epochs, &gap)
    return epochs, gap


def bcd_mtg_sparse(const floating[::1] data, const int[::1] indices, const int[::1] indptr,
                   int n_samples, const floating[::1] sw, const double[::1] xmean,
                   floating[:, ::1] W, floating[::1, :] R, const int[::1] gptr,
                   const int[::1] gidx, const double[::1] Lg, double l1,
                   const double[::1] l2, const double[::1] gram, const Py_ssize_t[::1] goff,
                   const int[::1] ws, floating N, int max_epochs, floating tol,
                   double gap_tol, double[::1] buf, double[::1] srsum,
                   int anderson_k=ANDERSON_K, pred=None):
    """CSC version of :func:`bcd_mtg_dense`."""
    cdef int epochs = 0
    cdef double gap = INFINITY
    cdef bint weighted = sw.shape[0] > 0
    cdef Csc C = _csc(indices, indptr)
    cdef const floating[:, ::1] pr = prediction_arg(pred, W, "bcd_mtg_sparse")
    cdef const floating* pp = &pr[0, 0] if pr.shape[0] > 0 else NULL
    _check_scratch(gptr, ws, buf.shape[0], <int>W.shape[1], anderson_k)
    with nogil:
        _bcd_mtg(C, _ptr(data), n_samples, &sw[0] if weighted else NULL, weighted, xmean,
                 N, W, R, gptr, gidx, Lg, l1, l2, gram, goff, ws, max_epochs, tol, gap_tol,
                 buf, srsum, anderson_k, pp, &epochs, &gap)
    return epochs, gap
