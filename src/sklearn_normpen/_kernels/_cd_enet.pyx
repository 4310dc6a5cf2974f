# Coordinate descent for the elastic net, certified by a duality gap.
#
# Every kernel solves, on centred data (the intercept is handled by centring),
#
#     min_w  1/2 ||yc - Xc w||_S^2 + sum_j ( L1_j |w_j| + L2_j / 2 w_j^2 )      [n-scale]
#
# with S = diag(sample weights). This is N = sum(s) times the package objective, with
# L1_j = N alpha rho f_j and L2_j = N alpha (1 - rho) f_j. Gaps are returned on this n-scale;
# the Python layer divides by N. L1_j = inf excludes feature j (its coefficient stays 0).
# Box limits lower_j <= w_j <= upper_j (lower_j <= 0 <= upper_j; +-inf: none) constrain every
# update (non-negativity is lower = 0, upper = inf); the gap uses the conjugate of
# penalty + box, in which a finite limit removes that side's dual constraint.
#
# Two kernels share the inline helpers below:
#   enet_cd_gram    covariance mode: Q = Xc' S Xc and q = Xc' S yc; keeps H = Q w
#   enet_cd_residual  residual mode, dense Fortran X or CSC X (never densified), centring
#                     implicit: one solver (_enet_cd_residual) over the fused column access
#                     of _design.pxd, specialised at compile time for each layout.
#
# Implicit centring: the stored residual R differs from the true one by a constant c
# (true r = R + c), because subtracting delta * (x_j - xbar_j) from r is R -= delta x_j and
# c += delta xbar_j. With an intercept sum_i s_i r_i = 0, so x_jc' S r = x_j' S R + c N xbar_j.
#
# Working sets: each outer round computes the full gradient g = Xc' S r and the gap; if the
# gap is not small enough, coordinate descent runs on the working set {w_j != 0} U
# {|g_j| > factor L1_j} (the strong rule on the first round, factor = 2 - alpha_prev/alpha;
# the KKT violators afterwards) until the gap of the restricted problem falls below
# 0.3 x the full gap (residual modes; Gram mode re-checks the O(p) full gap every epoch).
# Residual modes also cycle on the support alone between two working-set epochs while it
# is under half the working set (glmnet's active cycling; an epoch there counts as the
# fraction of a working-set epoch it costs). Nothing is ever dropped for good: the full
# gap over all features decides convergence.
from cython cimport floating
from libc.math cimport fabs, isfinite, sqrt, INFINITY

import numpy as np

from sklearn_normpen._kernels import dot_columns, prediction_arg

from sklearn_normpen._kernels._blas cimport _axpy, _gemv_t, _copy
from sklearn_normpen._kernels._design cimport (
    Dense, design, _col_dot, _col_axpy, _predicted_start, _ptr, _csc)
from sklearn_normpen._kernels._helpers cimport (
    _soft_threshold, _pos, _anderson, _anderson_due, _anderson_backoff, ANDERSON_K)


#: the residual kernel's default extrapolation depth, for Python callers
ANDERSON_DEFAULT = ANDERSON_K


cdef inline floating _cd_update(floating z, floating norm2, floating l1, floating l2,
                                floating lo, floating up) noexcept nogil:
    """argmin over lo <= w <= up of 1/2 (norm2 + l2) w^2 - z w + l1 |w| (lo <= 0 <= up):
    a convex problem in one variable, so clipping the unconstrained minimiser is exact."""
    cdef floating d = norm2 + l2
    cdef floating v
    if d <= 0:
        return 0
    v = _soft_threshold(z, l1) / d
    if v > up:
        return up
    if v < lo:
        return lo
    return v


cdef inline floating _cd_step(floating z, floating norm2, floating l1, floating l2,
                              const floating* lo, const floating* up, int j,
                              bint boxed) noexcept nogil:
    """:func:`_cd_update` of coordinate ``j``; without limits (``boxed`` false, the usual
    case) the limit arrays are not read: on CSC columns of a few entries the coordinate's
    fixed work is most of the cost."""
    cdef floating d
    if boxed:
        return _cd_update(z, norm2, l1, l2, lo[j], up[j])
    d = norm2 + l2
    if d <= 0:
        return 0
    return _soft_threshold(z, l1) / d


cdef inline bint _has_limits(int p, const floating* lo, const floating* up) noexcept nogil:
    """Whether any coordinate has a finite limit (then every update clips)."""
    cdef int j
    for j in range(p):
        if lo[j] > -INFINITY or up[j] < INFINITY:
            return True
    return False


cdef inline double _side_conj(double a, double l2, double u) noexcept nogil:
    """sup_{0 <= v <= u} a v - l2 / 2 v^2: one side of the conjugate of l1|w| + l2/2 w^2
    + box at z (a = z - l1 on the upper side, -z - l1 on the lower one, u its limit)."""
    if a <= 0 or u <= 0:
        return 0
    if u == INFINITY:  # no limit: the dual scaling keeps pure-l1 sides at a <= 0
        return a * (a / (2 * l2)) if l2 > 0 else 0
    if l2 > 0 and a <= l2 * u:
        return a * (a / (2 * l2))  # (not a*a: its square overflows first)
    return a * u - 0.5 * l2 * u * u


cdef inline double _enet_pen(double wj, double l1, double l2) noexcept nogil:
    """Feature j's penalty l1 |w_j| + l2 / 2 w_j^2 (n-scale), in double."""
    return l1 * fabs(wj) + 0.5 * l2 * wj * wj


# The gap loop runs over every feature at every outer round; with limits it reads two more
# arrays and keeps a second dual candidate, which doubled its cost. Written once, it is
# specialised at compile time for problems without limits (Free) and with them (Boxed).
cdef struct Free:
    char unused


cdef struct Boxed:
    char unused


ctypedef fused limits:
    Free
    Boxed


cdef inline double _gap_and_kkt(int m, const int* idx, const floating* w, const floating* g,
                                const floating* L1, const floating* L2, const floating* norm2,
                                const floating* lo, const floating* up, bint boxed,
                                double r_norm2, double r_y, double* kkt) noexcept nogil:
    """:func:`_gap_and_kkt_of` for the problem's limits (``boxed``: any finite limit)."""
    cdef Free free
    cdef Boxed box
    if boxed:
        return _gap_and_kkt_of(box, m, idx, w, g, L1, L2, norm2, lo, up, r_norm2, r_y, kkt)
    return _gap_and_kkt_of(free, m, idx, w, g, L1, L2, norm2, lo, up, r_norm2, r_y, kkt)


cdef inline double _gap_and_kkt_of(limits mode, int m, const int* idx, const floating* w,
                                   const floating* g, const floating* L1,
                                   const floating* L2, const floating* norm2,
                                   const floating* lo, const floating* up,
                                   double r_norm2, double r_y, double* kkt) noexcept nogil:
    """Duality gap (n-scale) at w with residual r: r_norm2 = ||r||_S^2, r_y = yc' S r,
    g = Xc' S r, over the features idx[0..m) (all of them for the certificate; the
    working set for the restricted problem, w being 0 elsewhere). Also writes the largest
    KKT violation to kkt[0]. ``lo``/``up`` are read only when ``mode`` is ``Boxed``.

    Dual point theta = r / t, t >= 1 the smallest scaling making x_j' theta <= L1_j for the
    features without ridge part (L2_j = 0) on their sides without a limit; for the others
    the conjugate of the elastic-net penalty + box enters the dual (a limited side costs
    limit x excess instead of a constraint). Unpenalised features (L1_j = L2_j = 0) would
    need x_j' theta = 0 exactly; instead their one-coordinate improvement
    g_j^2 / (2 ||x_j||^2) is added, so the gap cannot vanish before they are optimal (their
    KKT value is reported too).
    """
    # accumulated in double: float32 data still get a float64-accurate certificate
    cdef double pen = 0, conj = 0, conj2 = 0, conj1 = 0, t = 1, t2 = 1, a, wj, gj, gt, v
    cdef double viol = 0, d1, d2
    cdef int j, k
    cdef bint ridged = False
    for k in range(m):
        j = idx[k]
        wj = w[j]
        gj = g[j]
        if limits is Free and L2[j] > 0 and L1[j] < INFINITY:
            # the conjugate at t = 1 in this pass, in the second loop's own arithmetic
            # (|g| / 1 == |g|): kept when no lasso feature raised t, e.g. with a ridge part
            # on every feature (the elastic net), so that loop's pass over m is saved
            ridged = True
            a = fabs(gj) - L1[j]
            if a > 0:
                conj1 += a * (a / (2 * L2[j]))
        if wj != 0:
            pen += _enet_pen(wj, L1[j], L2[j])
            if limits is Boxed and wj >= up[j]:  # the normal cone allows g above
                v = _pos(L1[j] + L2[j] * wj - gj)
            elif limits is Boxed and wj <= lo[j]:
                v = _pos(gj + L1[j] - L2[j] * wj)
            else:  # |g_j - L1_j sign(w_j) - L2_j w_j|
                v = fabs(gj - (L1[j] if wj > 0 else -L1[j]) - L2[j] * wj)
        elif limits is Boxed:  # a side closed by a 0 limit cannot be violated
            v = _pos(gj - L1[j]) if up[j] > 0 else 0
            if lo[j] < 0 and _pos(-gj - L1[j]) > v:
                v = _pos(-gj - L1[j])
        else:
            v = _pos(fabs(gj) - L1[j])
        if v > viol:
            viol = v
        if L2[j] == 0 and L1[j] > 0:
            if limits is Free:
                if fabs(gj) > t * L1[j]:
                    t = fabs(gj) / L1[j]
            else:
                # only the sides without a limit constrain t; a second candidate t2 also
                # scales the limited open sides back to conj = 0, the better dual when a
                # limit is far away
                a = 0
                if up[j] == INFINITY and gj > a:
                    a = gj
                if lo[j] == -INFINITY and -gj > a:
                    a = -gj
                if a > t * L1[j]:
                    t = a / L1[j]
                a = 0
                if up[j] > 0 and gj > a:
                    a = gj
                if lo[j] < 0 and -gj > a:
                    a = -gj
                if a > t2 * L1[j]:
                    t2 = a / L1[j]
        elif L2[j] == 0 and L1[j] == 0 and norm2[j] > 0:
            pen += gj * gj / (2 * norm2[j])
    if limits is Free and (t == 1 or not ridged):
        conj = conj1  # (the loop below would add the same terms)
    else:
        for k in range(m):
            j = idx[k]
            if limits is Free:
                if L2[j] > 0 and L1[j] < INFINITY:
                    a = fabs(<double>g[j]) / t - L1[j]
                    if a > 0:
                        conj += a * (a / (2 * L2[j]))
            elif L1[j] < INFINITY:
                gt = <double>g[j] / t
                conj += _side_conj(gt - L1[j], L2[j], up[j]) + _side_conj(
                    -gt - L1[j], L2[j], -lo[j])
                if t2 != t:
                    gt = <double>g[j] / t2
                    conj2 += _side_conj(gt - L1[j], L2[j], up[j]) + _side_conj(
                        -gt - L1[j], L2[j], -lo[j])
    kkt[0] = viol
    d1 = r_y / t - 0.5 * r_norm2 / (t * t) - conj
    if limits is Boxed and t2 != t:  # both are valid dual points: keep the better bound
        d2 = r_y / t2 - 0.5 * r_norm2 / (t2 * t2) - conj2
        if d2 > d1:
            d1 = d2
    return (0.5 * r_norm2 + pen) - d1


cdef inline double _kth_largest(double* a, int m, int k) noexcept nogil:
    """The ``k``-th largest of ``a[:m]`` (1 <= k <= m; ``a`` is reordered): Hoare's
    selection."""
    cdef int lo = 0, hi = m - 1, i, j, target = k - 1
    cdef double pivot, tmp
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] > pivot:
                i += 1
            while a[j] < pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    return a[target]


cdef inline int _working_set(int p, const floating* w, const floating* g,
                             const floating* L1, floating factor, int* ws, double* score,
                             int cap) noexcept nogil:
    """ws <- {j : w_j != 0} plus the zero features with ``|g_j| > factor * L1_j``, in
    increasing order; returns its size. With ``cap > 0`` and more such candidates than
    ``max(cap, |support| / 2)``, only that many with the largest ``|g_j| / L1_j`` (skglm's
    working-set growth): the strong set of a wide path's late points holds thousands of
    features whose epochs cost as much as the full gradient passes, while the features
    that enter are among the largest scores (the next full pass adds any missed). Half the
    support rather than all of it: the 5-fold lasso CV on 500x20000 took 0.88x the time,
    its paths 0.97-1.04x (the block solvers keep a third, coordinate_descent.
    strong_candidates). One pass over the features; the cut, when there is one, passes
    over the candidates only."""
    cdef int j, k = 0, i, n_nz = 0, n_c = 0, allowed
    cdef double thr
    for j in range(p):
        if w[j] != 0:
            ws[k] = j
            k += 1
            n_nz += 1
        elif L1[j] < INFINITY and fabs(g[j]) > factor * L1[j]:
            ws[k] = j
            k += 1
            if cap > 0:
                score[n_c] = fabs(g[j]) / L1[j] if L1[j] > 0 else INFINITY
                n_c += 1
    if cap <= 0:
        return k
    allowed = cap if cap > n_nz // 2 else n_nz // 2
    if n_c <= allowed:
        return k
    # keep the support and the candidates scoring at least the allowed-th largest
    thr = _kth_largest(score, n_c, allowed)
    i = 0
    for j in range(k):
        if w[ws[j]] != 0 or (fabs(g[ws[j]]) / L1[ws[j]] if L1[ws[j]] > 0 else INFINITY) >= thr:
            ws[i] = ws[j]
            i += 1
    return i


cdef inline int _outer_round(int p, const int* all_idx, const floating* w, const floating* g,
                             const floating* L1, const floating* L2, const floating* norm2,
                             const floating* lo, const floating* up, bint boxed,
                             double r_norm2, double r_y, double tol,
                             int n_iter, int max_iter, floating factor, int* rnd, int* ws,
                             double* gap, double* kkt, bint* converged, double* score,
                             int cap) noexcept nogil:
    """One outer round's decision, shared by every mode: the certificate over all features
    (gap and kkt written out); stop (returns -1) when gap <= tol (``converged`` set) or the
    epoch budget is spent; else the next working set into ws (strong-rule ``factor`` on the
    first round, the KKT violators afterwards), returning its size."""
    gap[0] = _gap_and_kkt(p, all_idx, w, g, L1, L2, norm2, lo, up, boxed, r_norm2, r_y, kkt)
    if gap[0] <= tol:
        converged[0] = True
        return -1
    if n_iter >= max_iter:
        return -1
    rnd[0] += 1
    return _working_set(p, w, g, L1, factor if rnd[0] == 1 else 1, ws, score, cap)


# ---------------------------------------------------------------------------------------
# Covariance (Gram) mode
# ---------------------------------------------------------------------------------------

def enet_cd_gram(floating[::1] w, const floating[::1, :] Q, const floating[::1] q,
                 const floating[::1] norm2, floating[::1] H, floating[::1] g,
                 const floating[::1] L1, const floating[::1] L2,
                 const floating[::1] lower, const floating[::1] upper,
                 double y_norm2, double tol, double strong_factor, int max_iter):
    """Coordinate descent with Gram updates. ``H`` must equal ``Q @ w`` on entry (it is kept
    up to date); ``g`` receives ``q - Q w`` at exit. Stops when gap <= ``tol`` (n-scale).

    Returns (gap, kkt, n_epochs, converged), gap and kkt on the n-scale.
    """
    cdef int p = <int>w.shape[0]
    cdef int[::1] ws = np.empty(max(p, 1), dtype=np.intc)
    cdef int[::1] all_idx = np.arange(max(p, 1), dtype=np.intc)
    cdef int j, k, n_ws, n_iter = 0, rnd = 0
    cdef double gap = INFINITY, kkt = 0, wq, wH
    cdef floating z, w_old, w_new, d
    cdef bint converged = False
    cdef floating factor = <floating>strong_factor
    cdef bint boxed
    if p == 0:
        return 0.0, 0.0, 0, True
    with nogil:
        boxed = _has_limits(p, &lower[0], &upper[0])
        while True:
            wq = 0
            wH = 0
            for j in range(p):
                g[j] = q[j] - H[j]
                wq += <double>w[j] * q[j]
                wH += <double>w[j] * H[j]
            # ||r||^2 = ||y||^2 - 2 w'q + w'Qw ;  y'r = ||y||^2 - w'q
            n_ws = _outer_round(p, &all_idx[0], &w[0], &g[0], &L1[0], &L2[0], &norm2[0],
                                &lower[0], &upper[0], boxed, y_norm2 - 2 * wq + wH,
                                y_norm2 - wq, tol, n_iter, max_iter, factor, &rnd, &ws[0],
                                &gap, &kkt, &converged, NULL, 0)
            if n_ws < 0:
                break
            # one epoch on the working set, then the (O(p)) certificate again
            for k in range(n_ws):
                j = ws[k]
                w_old = w[j]
                z = q[j] - H[j] + Q[j, j] * w_old
                w_new = _cd_step(z, Q[j, j], L1[j], L2[j], &lower[0], &upper[0], j,
                                 boxed)
                if w_new != w_old:
                    w[j] = w_new
                    d = w_new - w_old
                    _axpy(p, d, &Q[0, j], 1, &H[0], 1)
            n_iter += 1
    return float(gap), float(kkt), n_iter, converged


# ---------------------------------------------------------------------------------------
# Residual modes (dense Fortran X or CSC X, see _design.pxd)
# ---------------------------------------------------------------------------------------

cdef inline void _fold_offset(int n, floating* R, floating* c) noexcept nogil:
    """R <- R + c, c <- 0 (make the stored residual the true one)."""
    cdef int i
    if c[0] != 0:
        for i in range(n):
            R[i] += c[0]
        c[0] = 0


cdef inline void _residual_stats(int n, const floating* R, const floating* y,
                                 const floating* s, bint weighted, floating* sR,
                                 double* r_norm2, double* r_y, double* r_sum) noexcept nogil:
    """sR <- S R (when weighted), and ||R||_S^2, y' S R, sum S R (double sums)."""
    cdef int i
    cdef double a = 0, b = 0, c = 0
    if weighted:
        for i in range(n):
            sR[i] = s[i] * R[i]
            a += <double>sR[i] * R[i]
            b += <double>sR[i] * y[i]
            c += sR[i]
    else:
        for i in range(n):
            a += <double>R[i] * R[i]
            b += <double>R[i] * y[i]
            c += R[i]
    r_norm2[0] = a
    r_y[0] = b
    r_sum[0] = c



# ---------------------------------------------------------------------------------------
# Anderson extrapolation of coordinate-descent iterates (residual modes)
# ---------------------------------------------------------------------------------------
# Every K + 1 epochs on a working set (K = anderson_k <= ANDERSON_K, 5 by default; the
# proximal-Newton models of GLM paths use 4: their first extrapolation, one epoch sooner,
# typically lands within the model's target), the last iterates w^0..w^K give the
# extrapolated point sum_k c_k w^(k+1), c = M^-1 1 / (1' M^-1 1), M = U U', U_k = w^(k+1) - w^k.
# It is kept only if it lowers the objective, so convergence guarantees are untouched.
cdef enum:
    ACTIVE_MAX = 50       # active-set epochs between two working-set epochs, at most
    WS_MIN = 100          # candidates a residual-mode working set admits beyond its support


cdef inline double _primal_ws(int m, const int* idx, const floating* w, const floating* L1,
                              const floating* L2, double r_norm2) noexcept nogil:
    """n-scale primal value, the penalty summed over idx (w = 0 elsewhere)."""
    cdef double pen = 0, wj
    cdef int k, j
    for k in range(m):
        j = idx[k]
        wj = w[j]
        if wj != 0:
            pen += _enet_pen(wj, L1[j], L2[j])
    return 0.5 * r_norm2 + pen


cdef inline double _weighted_sq(int n, const floating* R, floating c, const floating* s,
                                bint weighted) noexcept nogil:
    """sum_i s_i (R_i + c)^2 in double."""
    cdef double acc = 0, v
    cdef int i
    for i in range(n):
        v = <double>R[i] + c
        acc += v * v * (s[i] if weighted else 1)
    return acc


cdef inline bint _check_inner(int e) noexcept nogil:
    """Epochs after which the working-set gap is evaluated: 1, 2, 3, then every 5th."""
    return e < 3 or (e < 30 and e % 5 == 4) or e % 10 == 9



cdef inline const floating* _true_residual(int n, floating* R, floating* c, const floating* y,
                                           const floating* s, bint weighted, floating* sR,
                                           double* r_norm2, double* r_y,
                                           double* r_sum) noexcept nogil:
    """Fold the offset into R, compute its statistics (:func:`_residual_stats`); returns
    S R (the vector the gradient is taken against)."""
    _fold_offset(n, R, c)
    _residual_stats(n, R, y, s, weighted, sR, r_norm2, r_y, r_sum)
    return sR if weighted else R


cdef inline bint _anderson_try(design X, const floating* vals, int n, int n_ws, const int* ws,
                               floating* w, const floating* y, const floating* s,
                               bint weighted, const floating* X_mean, const floating* L1,
                               const floating* L2, const floating* lo, const floating* up,
                               const floating* snaps, int K,
                               floating* w_acc, floating* R, floating* R_bak,
                               floating* c) noexcept nogil:
    """Extrapolate the snapshots of w on the working set and keep the result only if it
    lowers the primal objective (and stays within the limits). On acceptance w, R and
    the offset c hold the extrapolated point; otherwise w is the last snapshot and R, c are
    unchanged. Returns whether the point was accepted."""
    cdef double obj_cur, obj_acc
    cdef floating c_bak
    cdef int j, k
    if not _anderson(K, n_ws, snaps, w_acc):
        return False
    for k in range(n_ws):
        if w_acc[k] < lo[ws[k]] or w_acc[k] > up[ws[k]]:
            return False
    obj_cur = _primal_ws(n_ws, ws, w, L1, L2, _weighted_sq(n, R, c[0], s, weighted))
    _copy(n, R, 1, R_bak, 1)
    c_bak = c[0]
    # residual of the extrapolated point, from scratch
    _copy(n, y, 1, R, 1)
    c[0] = 0
    for k in range(n_ws):
        j = ws[k]
        w[j] = w_acc[k]
        if w_acc[k] != 0:
            _col_axpy(X, vals, j, -w_acc[k], R)
            c[0] = c[0] + w_acc[k] * X_mean[j]
    obj_acc = _primal_ws(n_ws, ws, w, L1, L2, _weighted_sq(n, R, c[0], s, weighted))
    if obj_acc < obj_cur:
        return True
    for k in range(n_ws):
        w[ws[k]] = snaps[K * n_ws + k]
    _copy(n, R_bak, 1, R, 1)
    c[0] = c_bak
    return False


cdef inline double _epoch(design X, const floating* vals, int m, const int* idx,
                          floating* w, floating* R, floating* c, const floating* s,
                          bint weighted, floating nf, const floating* X_mean,
                          const floating* norm2, const floating* L1, const floating* L2,
                          const floating* lo, const floating* up, bint boxed, int* act,
                          int* n_act) noexcept nogil:
    """One coordinate-descent epoch over ``idx[:m]`` on the stored residual ``R`` (true
    residual ``R + c``, see the module comment). With ``act``, the features left non-zero
    are written there (``n_act`` of them). Returns the largest ``(norm2_j + L2_j)·Δ²``:
    twice the largest objective decrease of one step."""
    cdef int k, j, na = 0
    cdef floating w_old, w_new, z, d, cc = c[0]  # locals: R's stores cannot alias them
    cdef double dmax = 0, dec
    for k in range(m):
        j = idx[k]
        w_old = w[j]
        z = _col_dot(X, vals, j, R, s, weighted) + cc * nf * X_mean[j] + norm2[j] * w_old
        w_new = _cd_step(z, norm2[j], L1[j], L2[j], lo, up, j, boxed)
        if w_new != w_old:
            w[j] = w_new
            d = w_new - w_old
            _col_axpy(X, vals, j, -d, R)
            cc = cc + d * X_mean[j]
            dec = (norm2[j] + L2[j]) * d * d
            if dec > dmax:
                dmax = dec
        if act != NULL and w_new != 0:
            act[na] = j
            na += 1
    c[0] = cc
    if act != NULL:
        n_act[0] = na
    return dmax


# Bounded gradient passes (residual modes). The kernel keeps the last K full passes, newest
# first: residuals r_k and their gradients g_k = Xc' S r_k (exact, up to rounding). Any r is
# split as r = r_0 + Σ_k c_k (r_k - r_0) + e, the c_k fitted by least squares in the S inner
# product and e computed explicitly; the gradient is linear in r, so (Cauchy-Schwarz in the
# S inner product) |g_j(r)| <= |g_0j + Σ_k c_k (g_kj - g_0j)| + ||x_jc||_S ||e||_S. Along a
# path the residual moves in few directions, and the recent passes span most of them: the
# fit leaves a far smaller ||e|| than ||r - r_0|| (the 500 x 20000 elastic net at l1_ratio
# 0.5 computed a median of 13000 features a pass against one reference, 1000 with three).
# Any c gives a valid bound (e is exact); rounding is covered by relative slack of 1e-7 and
# an absolute 1e-12 of the norms the residual split combines. A feature whose bound is
# within its dual constraint (at most L1_j, and the strong-rule threshold on a point's first
# round) contributes nothing to the gap, the dual scaling, the KKT violation or the working
# set, exactly as its true value would: only the others are computed. The bound is written
# in place of its gradient (with the sign of the combination: any value of modulus <= L1_j
# gives the same certificate); the caller must not then read g as exact (the kernel says so).
cdef enum:
    PARTIAL_DIV = 4       # a bounded pass computing more than p / PARTIAL_DIV columns
    #                       runs as a full one instead (which also adds a reference)
    REF_MAX = 8           # references a kernel call can combine, at most


cdef inline void _push_ref(int K, int n, int p, const floating* g, const floating* R,
                           floating* g_ref, floating* R_ref, int* n_ref) noexcept nogil:
    """Make ``(g, R)`` the newest of the ``K`` references (rows of ``g_ref``/``R_ref``,
    newest first; the oldest drops out)."""
    cdef int k
    for k in range(min(n_ref[0], K - 1), 0, -1):
        _copy(p, &g_ref[(k - 1) * p], 1, &g_ref[k * p], 1)
        _copy(n, &R_ref[(k - 1) * n], 1, &R_ref[k * n], 1)
    _copy(p, g, 1, g_ref, 1)
    _copy(n, R, 1, R_ref, 1)
    n_ref[0] = min(n_ref[0] + 1, K)


cdef inline int _bounded_pass(design X, const floating* vals, int n, int p,
                              const floating* R, const floating* R_ref,
                              const floating* g_ref, int n_ref, const double* xnorm,
                              const floating* s, bint weighted, const floating* w,
                              const floating* L1, double f, const floating* X_mean,
                              const floating* Rv, double r_sum, floating* g,
                              int* g_bnd, int* cand, const int* fresh,
                              int stamp) noexcept nogil:
    """The gradient at ``R`` of every feature whose bound (above, from the ``n_ref``
    references) exceeds ``f·L1_j`` (and of the support, the excluded and the unpenalised
    features), the bound for the others (flagged in ``g_bnd``); returns how many were
    computed, or -1 (nothing done to the computed ones) when more than ``p / PARTIAL_DIV``
    would be: the caller then runs a full pass. ``f`` is in (0, 1]. The features with
    ``fresh[j] == stamp`` already hold their gradient at ``R`` (the working set's, taken
    by the inner check that ended the last round): kept exact, not recomputed."""
    cdef double M[REF_MAX * REF_MAX]
    cdef double rhs[REF_MAX]
    cdef double c[REF_MAX]
    cdef double nrm[REF_MAX]
    cdef double d2 = 0, v, e, si, delta, b, thr, gc, gabs, dk, acc, piv, r2 = 0, r02 = 0
    cdef int i, j, k, l, m = 0, limit = p // PARTIAL_DIV
    cdef int K = n_ref - 1 if n_ref - 1 < REF_MAX else REF_MAX  # differences r_k - r_0
    cdef bint ok = True
    # least squares for c: normal equations of the differences (K <= REF_MAX - 1 unknowns)
    for k in range(K):
        rhs[k] = 0
        nrm[k] = 0
        for l in range(K):
            M[k * REF_MAX + l] = 0
    for i in range(n):
        si = s[i] if weighted else 1
        v = <double>R[i] - R_ref[i]
        r2 += si * (<double>R[i]) * R[i]
        r02 += si * (<double>R_ref[i]) * R_ref[i]
        for k in range(K):
            dk = <double>R_ref[(k + 1) * n + i] - R_ref[i]
            rhs[k] += si * dk * v
            nrm[k] += si * (<double>R_ref[(k + 1) * n + i]) * R_ref[(k + 1) * n + i]
            for l in range(k + 1):
                M[k * REF_MAX + l] += si * dk * (<double>R_ref[(l + 1) * n + i] - R_ref[i])
    # Cholesky with a relative floor (a nearly dependent difference ends the fit there)
    for k in range(K):
        for l in range(k + 1):
            acc = M[k * REF_MAX + l]
            for i in range(l):
                acc -= M[k * REF_MAX + i] * M[l * REF_MAX + i]
            if l < k:
                M[k * REF_MAX + l] = acc / M[l * REF_MAX + l]
            else:  # (the diagonal entry still holds ||r_k - r_0||²_S here)
                piv = M[k * REF_MAX + k]
                ok = piv > 0 and acc > 1e-12 * piv
                if ok:
                    M[k * REF_MAX + k] = sqrt(acc)
        if not ok:
            K = k  # keep the differences before the dependent one
            break
    for k in range(K):  # forward, then backward substitution
        acc = rhs[k]
        for l in range(k):
            acc -= M[k * REF_MAX + l] * c[l]
        c[k] = acc / M[k * REF_MAX + k]
    for k in range(K - 1, -1, -1):
        acc = c[k]
        for l in range(k + 1, K):
            acc -= M[l * REF_MAX + k] * c[l]
        c[k] = acc / M[k * REF_MAX + k]
    # the part the references leave, e = r - r_0 - Σ c_k (r_k - r_0), explicitly
    for i in range(n):
        e = <double>R[i] - R_ref[i]
        for k in range(K):
            e -= c[k] * (<double>R_ref[(k + 1) * n + i] - R_ref[i])
        d2 += e * e * (s[i] if weighted else 1)
    acc = sqrt(r2) + sqrt(r02)
    for k in range(K):
        acc += fabs(c[k]) * (sqrt(nrm[k]) + sqrt(r02))
    # (1 + 1e-7) and 1e-12: the rounding of d2, of e and of the stored references
    delta = sqrt(d2) * (1 + 1e-7) + 1e-12 * acc
    for j in range(p):
        thr = f * L1[j] * (1 - 1e-7)
        gc = g_ref[j]
        gabs = fabs(gc)
        for k in range(K):
            v = <double>g_ref[(k + 1) * p + j] - g_ref[j]
            gc += c[k] * v
            gabs += fabs(c[k]) * (fabs(<double>g_ref[(k + 1) * p + j]) + fabs(g_ref[j]))
        b = fabs(gc) + 1e-7 * gabs + xnorm[j] * delta
        if fresh[j] == stamp:
            g_bnd[j] = 0
        elif w[j] != 0 or L1[j] == INFINITY or not L1[j] > 0 or b > thr:
            if m >= limit:
                return -1
            cand[m] = j
            m += 1
        else:
            g[j] = <floating>(b if gc >= 0 else -b)
            g_bnd[j] = 1
    _gradient_of(X, vals, m, cand, Rv, s, r_sum, X_mean, g, g_bnd)
    return m


cdef inline void _gradient_of(design X, const floating* vals, int m, const int* cand,
                              const floating* Rv, const floating* s, double r_sum,
                              const floating* X_mean, floating* g,
                              int* g_bnd) noexcept nogil:
    """``g_j = Xc_j' S r`` for ``j`` in ``cand[:m]``, their bound flags cleared."""
    cdef int j, k
    for k in range(m):
        j = cand[k]
        g[j] = _col_dot(X, vals, j, Rv, s, False) - <floating>(X_mean[j] * r_sum)
        g_bnd[j] = 0


cdef inline int _refine(design X, const floating* vals, int p, const floating* s,
                        const floating* L1, double f, const floating* X_mean,
                        const floating* Rv, double r_sum, floating* g, int* g_bnd,
                        int* cand, int* left) noexcept nogil:
    """On entry with the last call's bounded gradient (the residual unchanged since): the
    gradient of the flagged features whose bound exceeds ``f·L1_j`` (a new point's
    strong-rule threshold), the others keep their bound (``left`` of them). Returns how
    many were computed, or -1 (nothing done) when more than ``p / PARTIAL_DIV`` would
    be."""
    cdef int j, m = 0, n_flag = 0, limit = p // PARTIAL_DIV
    for j in range(p):
        if g_bnd[j]:
            n_flag += 1
            if fabs(<double>g[j]) > f * L1[j] * (1 - 1e-7):
                if m >= limit:
                    return -1
                cand[m] = j
                m += 1
    left[0] = n_flag - m
    _gradient_of(X, vals, m, cand, Rv, s, r_sum, X_mean, g, g_bnd)
    return m


cdef object _enet_cd_residual(design X, const floating* vals, int n, int p, floating[::1] w,
                              const floating[::1] y, const floating[::1] sw,
                              const floating[::1] X_mean, const floating[::1] norm2,
                              floating[::1] R, floating[::1] g, const floating[::1] L1,
                              const floating[::1] L2, const floating[::1] lower,
                              const floating[::1] upper, double n_eff, double tol,
                              double strong_factor, int max_iter, bint g_valid,
                              int aa_k, floating[:, ::1] g_ref, floating[:, ::1] R_ref,
                              int n_ref, int[::1] g_bnd, const floating[::1] pred,
                              bint by_cols=False):
    """The residual-mode solver behind :func:`enet_cd_residual`, for one layout
    (``by_cols``: dense full passes by one dot per column, ``_blas._gemv_t``)."""
    cdef bint weighted = sw.shape[0] > 0
    cdef bint bounded = g_ref.shape[0] > 0 and g_ref.shape[1] > 0
    cdef bint has_pred = pred.shape[0] > 0
    cdef int K_ref = <int>g_ref.shape[0] if bounded else 0
    cdef bint force = False
    cdef bint g_exact = True
    cdef int n_c
    cdef double f
    cdef double[::1] xnorm = np.sqrt(np.maximum(np.asarray(norm2, dtype=np.float64), 0.0)) \
        if bounded else np.empty(1)
    cdef int[::1] cand = np.empty(max(p, 1) if bounded else 1, dtype=np.intc)
    cdef double[::1] score = np.empty(max(p, 1))
    # dense only: a dense full gradient pass costs n·p and the working-set epochs the cap
    # saves are of the same order; a sparse pass costs nnz, and the sparse 20000x50000
    # d=1e-3 paths read 1.2-1.3x the earlier engine with the cap (one A/B run)
    cdef int ws_cap = WS_MIN if design is Dense else 0
    cdef int[::1] ws = np.empty(max(p, 1), dtype=np.intc)
    cdef int[::1] all_idx = np.arange(max(p, 1), dtype=np.intc)
    dt = np.asarray(R).dtype
    cdef floating[::1] sR = np.empty(n if weighted else 1, dtype=dt)
    cdef floating[::1] R_bak = np.empty(max(n, 1), dtype=dt)
    cdef floating[::1] snaps = np.empty((ANDERSON_K + 1) * max(p, 1), dtype=dt)
    cdef floating[::1] w_acc = np.empty(max(p, 1), dtype=dt)
    cdef int[::1] act = np.empty(max(p, 1), dtype=np.intc)
    # fresh[j] == stamp: g_j is exact at the current residual (taken by the last inner
    # check, no epoch since), which the next bounded pass then need not recompute
    cdef int[::1] fresh = np.zeros(max(p, 1) if bounded else 1, dtype=np.intc)
    cdef int stamp = 0
    cdef bint ws_fresh = False
    cdef int j, k, e, e2, n_ws, n_act, n_iter = 0, rnd = 0, n_snap, aa_fail = 0, aa_wait = 0
    cdef double gap = INFINITY, kkt = 0, kkt_ws = 0, r_norm2, r_y, r_sum, inner_tol, gap_ws
    cdef double work = 0, dmax, act_tol
    # columns of length n read or written (epochs, gradient entries, residual rebuilds):
    # the work a caller weighs against forming the Gram (mode_switch.GramOnDemand)
    cdef double passes = 0
    cdef floating c = 0, nf = <floating>n_eff
    cdef bint ok
    cdef const floating* s = &sw[0] if weighted else NULL
    cdef const floating* Rv
    cdef bint converged = False
    cdef floating factor = <floating>strong_factor
    # the first round's threshold for computing gradient entries: the strong rule's
    # factor, or 1 when that is <= 0 (an alpha below half the last one: a lead-in walk, a
    # coarse grid), where it keeps every feature a candidate; then only the entries that
    # could violate at the new L1 are computed (the others can violate nothing, and the
    # working set ranks them by their bound) instead of a full pass
    cdef double f_first = factor if 0 < factor < 1 else 1
    cdef bint boxed
    if p == 0 or n == 0:
        return 0.0, 0.0, 0, True, True, n_ref, 0.0
    with nogil:
        boxed = _has_limits(p, &lower[0], &upper[0])
        while True:
            # certificate over every feature
            Rv = _true_residual(n, &R[0], &c, &y[0], s, weighted, &sR[0], &r_norm2, &r_y,
                                &r_sum)
            if g_valid and bounded:
                # entries the last call bounded: computed where a new point's strong rule
                # needs them (f_first)
                k = _refine(X, vals, p, s, &L1[0], f_first, &X_mean[0], Rv, r_sum, &g[0],
                            &g_bnd[0], &cand[0], &n_c)
                if k >= 0:
                    passes += k
                    g_exact = n_c == 0
                else:
                    g_valid = False
                    force = True  # (the bounds are this residual's already: a full pass)
            if not g_valid:
                n_c = -1
                if bounded and n_ref > 0 and not force:
                    # the first round's working set needs the strong-rule threshold
                    f = f_first if rnd == 0 else 1
                    n_c = _bounded_pass(X, vals, n, p, &R[0], &R_ref[0, 0], &g_ref[0, 0],
                                        n_ref, &xnorm[0], s, weighted, &w[0], &L1[0], f,
                                        &X_mean[0], Rv, r_sum, &g[0], &g_bnd[0], &cand[0],
                                        &fresh[0], stamp if ws_fresh else -1)
                force = False
                g_exact = n_c < 0
                if n_c >= 0:  # (the entries, and the references' least squares)
                    passes += n_c + n_ref + 1
                else:
                    passes += p
                    if design is Dense:
                        _gemv_t(n, p, vals, n, Rv, &g[0], by_cols)
                        for j in range(p):
                            g[j] -= <floating>(X_mean[j] * r_sum)
                    else:
                        for j in range(p):
                            g[j] = _col_dot(X, vals, j, Rv, s, False) - <floating>(
                                X_mean[j] * r_sum)
                    if bounded:
                        _push_ref(K_ref, n, p, &g[0], &R[0], &g_ref[0, 0], &R_ref[0, 0],
                                  &n_ref)
                        for j in range(p):
                            g_bnd[j] = 0
            elif bounded and n_ref == 0 and g_exact:  # an exact g on entry: a reference
                _push_ref(K_ref, n, p, &g[0], &R[0], &g_ref[0, 0], &R_ref[0, 0], &n_ref)
            g_valid = False
            n_ws = _outer_round(p, &all_idx[0], &w[0], &g[0], &L1[0], &L2[0], &norm2[0],
                                &lower[0], &upper[0], boxed, r_norm2, r_y, tol, n_iter,
                                max_iter, factor, &rnd, &ws[0], &gap, &kkt, &converged,
                                &score[0], ws_cap)
            if n_ws < 0:
                break
            inner_tol = 0.3 * gap
            if rnd == 1 and has_pred and not boxed:
                c += <floating>_predicted_start(X, vals, n, 1, n_ws, &ws[0], &w[0], &R[0],
                                                &X_mean[0], &pred[0])
                passes += n_ws
            e = 0
            n_snap = 0
            while n_iter < max_iter:
                ws_fresh = False
                _epoch(X, vals, n_ws, &ws[0], &w[0], &R[0], &c, s, weighted, nf,
                       &X_mean[0], &norm2[0], &L1[0], &L2[0], &lower[0], &upper[0], boxed,
                       &act[0], &n_act)
                n_iter += 1
                passes += n_ws
                # glmnet's active cycling: while the support is under half the working set,
                # epochs on the support alone until no coordinate step would lower the
                # objective by more than inner_tol / |support|; each such epoch counts as
                # |support| / |working set| of an epoch (the epoch budget is in passes)
                if 2 * n_act < n_ws:
                    act_tol = inner_tol / (n_act if n_act > 0 else 1)
                    for e2 in range(ACTIVE_MAX):
                        dmax = _epoch(X, vals, n_act, &act[0], &w[0], &R[0], &c, s, weighted,
                                      nf, &X_mean[0], &norm2[0], &L1[0], &L2[0], &lower[0],
                                      &upper[0], boxed, NULL, NULL)
                        work += <double>n_act / n_ws
                        passes += n_act
                        if work >= 1:
                            work -= 1
                            n_iter += 1
                        if 0.5 * dmax <= act_tol or n_iter >= max_iter:
                            break
                # Anderson extrapolation over the last aa_k + 1 epochs
                if _anderson_due(n_ws, &ws[0], &w[0], &snaps[0], aa_k, &n_snap, &aa_wait):
                    ok = _anderson_try(X, vals, n, n_ws, &ws[0], &w[0], &y[0], s, weighted,
                                       &X_mean[0], &L1[0], &L2[0], &lower[0], &upper[0],
                                       &snaps[0], aa_k, &w_acc[0], &R[0], &R_bak[0], &c)
                    _anderson_backoff(ok, &aa_fail, &aa_wait)
                    passes += n_ws  # (its residual: counted whenever tried)
                if _check_inner(e):
                    # gap of the problem restricted to the working set
                    Rv = _true_residual(n, &R[0], &c, &y[0], s, weighted, &sR[0], &r_norm2,
                                        &r_y, &r_sum)
                    passes += n_ws
                    for k in range(n_ws):
                        j = ws[k]
                        g[j] = _col_dot(X, vals, j, Rv, s, False) - <floating>(
                            X_mean[j] * r_sum)
                    if bounded:
                        stamp += 1
                        for k in range(n_ws):
                            fresh[ws[k]] = stamp
                        ws_fresh = True
                    gap_ws = _gap_and_kkt(n_ws, &ws[0], &w[0], &g[0], &L1[0], &L2[0],
                                          &norm2[0], &lower[0], &upper[0], boxed, r_norm2,
                                          r_y, &kkt_ws)
                    if gap_ws <= inner_tol:
                        break
                e += 1
    return float(gap), float(kkt), n_iter, converged, g_exact, n_ref, passes


def enet_cd_residual(floating[::1] w, const floating[::1] X_data, const int[::1] X_indices,
                     const int[::1] X_indptr, int n_samples, const floating[::1] y,
                     const floating[::1] sw, const floating[::1] X_mean,
                     const floating[::1] norm2, floating[::1] R, floating[::1] g,
                     const floating[::1] L1, const floating[::1] L2,
                     const floating[::1] lower, const floating[::1] upper,
                     double n_eff, double tol, double strong_factor, int max_iter,
                     bint g_valid=False, int anderson_k=ANDERSON_K, g_ref=None, R_ref=None,
                     int n_ref=0, g_bound=None, pred=None):
    """Residual-mode coordinate descent, centring by ``X_mean`` implicit.

    ``X`` is CSC (``X_data``, int32 ``X_indices``, ``X_indptr``; never densified) or, with
    ``X_indices`` and ``X_indptr`` empty, dense: ``X_data`` is then the Fortran-ordered X
    flattened (``X.ravel(order="F")``, a view), ``n_samples * p`` values.
    ``y`` is the centred target, ``R`` the true residual ``yc - Xc w`` (in/out), ``sw`` the
    sample weights (length 0: unit weights), ``norm2`` the weighted squared norms of the
    centred columns, ``n_eff`` = sum of weights. ``g`` receives ``Xc' S r`` at exit;
    ``g_valid`` says it already holds it on entry (the previous path point ended at this
    residual), which saves the first full gradient pass. ``anderson_k`` (1 to 5): the
    extrapolation's depth (every ``anderson_k + 1`` epochs).

    ``g_ref`` (K x p) and ``R_ref`` (K x n), C-ordered, both given or both None (or empty),
    enable bounded gradient passes (see :func:`_bounded_pass`; the certificate's projection
    off unpenalised features needs exact gradients, so callers pass None when any feature
    is unpenalised): their first ``n_ref`` rows hold ``Xc' S r_k`` and ``r_k`` of the last
    full passes, newest first, and the kernel adds each full pass it makes (K at most
    ``REF_MAX``). ``g_bound`` (p, int32; required with them) flags the entries of ``g``
    that hold a bound; with ``g_valid`` on entry, ``g`` is the last call's (exact or
    flagged) at the unchanged residual.

    Outer rounds: full gradient and gap; stop at ``tol``; else working set and an inner
    solve of the restricted problem until its own gap is below min(0.3 tol, 0.1 gap).

    ``pred`` (p, or None / empty): a predicted change of the coefficients (a path's
    linear extrapolation from its last two points). After the first round's working set
    is chosen, and only without box limits, each working-set feature that is non-zero
    moves by its prediction where that keeps its sign (the residual follows); the epochs
    start there. The certificate is unaffected: every gap is formed at the state reached.

    Returns (gap, kkt, n_epochs, converged, g_exact, n_ref, passes), gap and kkt on the
    n-scale; ``g_exact`` false: ``g`` holds, for the features a bounded pass skipped, their
    bound (modulus within their dual constraint) instead of their gradient; ``passes``:
    the columns of length ``n_samples`` the call read or wrote (one per coordinate
    update, gradient entry or residual rebuild; a bounded pass's least squares counts
    ``n_ref + 1``), the work a caller weighs against forming the Gram.
    """
    cdef Dense D
    cdef int p = <int>X_mean.shape[0]
    cdef floating[:, ::1] gr, rr
    cdef int[::1] gb
    cdef const floating[::1] pr = prediction_arg(pred, w, "enet_cd_residual")
    cdef bint by_cols
    if (g_ref is None) != (R_ref is None):
        raise ValueError("enet_cd_residual: g_ref and R_ref are given together or not at "
                         "all.")
    if g_ref is None or np.size(g_ref) == 0 or np.size(R_ref) == 0:
        # (empty arrays: the validated call's way of saying None; with p = 0 or n = 0
        # there is nothing to bound)
        gr = np.empty((0, 0), dtype=np.asarray(R).dtype)
        rr = gr
        gb = np.zeros(1, dtype=np.intc)
        n_ref = 0
    else:
        gr = g_ref
        rr = R_ref
        if g_bound is None:
            raise ValueError("enet_cd_residual: g_bound is required with g_ref and R_ref.")
        gb = g_bound
        if (gr.shape[1] != p or rr.shape[1] != n_samples or gb.shape[0] != p
                or rr.shape[0] != gr.shape[0] or not 1 <= gr.shape[0] <= REF_MAX):
            raise ValueError(f"enet_cd_residual: g_ref (K, p={p}), R_ref (K, "
                             f"n_samples={n_samples}) with 1 <= K <= {REF_MAX}, and g_bound "
                             f"(p); got {np.shape(g_ref)}, {np.shape(R_ref)} and "
                             f"{gb.shape[0]}.")
        if not 0 <= n_ref <= gr.shape[0]:
            raise ValueError(f"enet_cd_residual: n_ref must be in [0, {gr.shape[0]}]; got "
                             f"{n_ref}.")
    if not 1 <= anderson_k <= ANDERSON_K:
        raise ValueError(f"enet_cd_residual: anderson_k must be in [1, {ANDERSON_K}]; "
                         f"got {anderson_k}.")
    if X_indptr.shape[0] == 0:
        if X_data.shape[0] != <Py_ssize_t>n_samples * p:
            raise ValueError(f"enet_cd_residual: dense X_data has {X_data.shape[0]} values, "
                             f"expected n_samples * p = {n_samples} * {p}.")
        D.n = n_samples
        by_cols = dot_columns(n_samples, p, sizeof(floating))
        return _enet_cd_residual(D, _ptr(X_data), n_samples, p, w, y, sw, X_mean, norm2, R,
                                 g, L1, L2, lower, upper, n_eff, tol, strong_factor,
                                 max_iter, g_valid, anderson_k, gr, rr, n_ref, gb, pr,
                                 by_cols)
    return _enet_cd_residual(_csc(X_indices, X_indptr), _ptr(X_data), n_samples, p, w, y, sw,
                             X_mean, norm2, R, g, L1, L2, lower, upper, n_eff, tol,
                             strong_factor, max_iter, g_valid, anderson_k, gr, rr, n_ref,
                             gb, pr)


# ---------------------------------------------------------------------------------------
# The elastic-net penalty's share of the package certificate (not a stopping rule)
# ---------------------------------------------------------------------------------------

def enet_terms(const double[::1] w, const double[::1] z, const double[::1] zp,
               const double[::1] L1, const double[::1] L2, const double[::1] inv_box,
               const int[::1] ridge, double alpha, bint positive, double inside):
    """``(value, t, conjugate, kkt)`` of ``penalties.ElasticNetPenalty.terms`` (no box
    limits) in one pass over the features, in double: ``l1 = alpha L1``, ``l2 = alpha L2``
    (``L1 = inf``: an excluded feature), ``value = Σ l1|w| + l2 w²/2``, ``t`` the largest
    scaling (times ``inside``) keeping ``t·|zp_j| <= l1_j`` on the pure-l1 features
    (``inv_box = 1/L1`` there, 0 elsewhere), the conjugate ``Σ (t|zp| - l1)_+²/(2 l2)`` over
    the ``ridge`` features, and the largest KKT violation of ``z`` at ``w`` (one-sided
    ``|·|`` when ``positive``). Also a second dual scaling ``t2 <= t`` that keeps every
    ridge feature inside its l1 ball too, with its conjugate ``conj2`` (0 up to rounding):
    the valid bound that stays tight when the ridge part is tiny against the data. The
    Python layer owns the certificate; this is its inner loop."""
    cdef Py_ssize_t j, k, p = w.shape[0]
    cdef double value = 0, m = 0, a, wj, l1, l2, t, conj = 0, e, kkt = 0, d
    cdef double m2 = 0, t2, conj2 = 0
    # every feature with a ridge part (the elastic net without exclusions): no pure-l1
    # constraint, t = 1, and the conjugate is summed in the same pass
    cdef bint all_ridge = ridge.shape[0] == p
    with nogil:
        for j in range(p):
            a = zp[j]
            a = (a if a > 0 else 0) if positive else fabs(a)
            if all_ridge:  # (the ridge loop below, folded in: no second pass)
                e = a - alpha * L1[j]
                if e > 0:
                    conj += e * (e / (2 * alpha * L2[j]))
                if L1[j] > 0 and a > m2 * L1[j]:
                    m2 = a / L1[j]
            else:
                a = a * inv_box[j]
                if a > m:
                    m = a
            wj = w[j]
            if wj != 0:
                l1 = alpha * L1[j]
                l2 = alpha * L2[j]
                value += l1 * fabs(wj) + 0.5 * l2 * wj * wj
                d = fabs(z[j] - (l1 if wj > 0 else -l1) - l2 * wj)
            else:
                a = z[j]
                a = a if positive else fabs(a)
                d = a - alpha * L1[j]
            if d > kkt:
                kkt = d
        m = m / alpha if m > 0 else 0.0  # (alpha = 0 with every feature unpenalised: t = 1)
        t = 1.0 if m <= 1 else inside / m
        for k in range(0 if all_ridge else ridge.shape[0]):
            j = ridge[k]
            a = zp[j]
            a = (a if a > 0 else 0) if positive else fabs(a)
            e = t * a - alpha * L1[j]
            if e > 0:
                conj += e * (e / (2 * alpha * L2[j]))
            if L1[j] > 0 and a > m2 * L1[j]:
                m2 = a / L1[j]
        m2 = m2 / alpha if m2 > 0 else 0.0
        t2 = t if m2 * t <= 1 else inside / m2
        if t2 < t:
            for k in range(ridge.shape[0]):
                j = ridge[k]
                a = zp[j]
                a = (a if a > 0 else 0) if positive else fabs(a)
                e = t2 * a - alpha * L1[j]
                if e > 0:
                    conj2 += e * (e / (2 * alpha * L2[j]))
    return value, t, conj, kkt, t2, conj2


cdef inline double _box_side(double a, double u, double q) noexcept nogil:
    """One side of the conjugate of l1|w| + q/2 w² + box at its excess ``a = (±z - l1)_+``
    (``u`` the side's limit, > 0): a²/(2q) while the maximiser a/q is inside, else linear."""
    if a <= 0:
        return 0.0
    if q > 0 and a <= q * u:
        return a * (a / (2 * q))
    return a * u - 0.5 * q * (0.0 if u == INFINITY else u * u)


cdef inline double _box_conj(double v, double l1, double l2, double lo,
                             double up) noexcept nogil:
    """The conjugate of l1|w| + l2/2 w² + box [lo, up] at v: its two sides (a side closed by
    a 0 limit contributes nothing)."""
    return ((_box_side(v - l1, up, l2) if up > 0 else 0.0)
            + (_box_side(-v - l1, -lo, l2) if lo < 0 else 0.0))


def enet_box_terms(const double[::1] w, const double[::1] z, const double[::1] zp,
                   const double[::1] a1, const double[::1] a2, const double[::1] lower,
                   const double[::1] upper, const int[::1] kind, double alpha,
                   double inside):
    """``(value, t1, t2, conj1, conj2, kkt)`` of ``penalties.ElasticNetPenalty.terms`` with
    box limits, in two passes over the features, in double (the Python layer documents
    the formulas; this is their inner loop). ``l1 = alpha a1``, ``l2 = alpha a2`` per
    feature, ``kind`` 1 for an excluded feature (held at 0: nothing), 2 for an
    unpenalised one (projected out: no conjugate term). ``t1`` keeps the unbounded sides
    of the pure-l1 features feasible, ``t2`` every open side (times ``inside``); ``conj``
    is the sum of the coordinate conjugates at ``t·zp``; ``value`` is inf outside the box;
    ``kkt`` the largest distance of ``z`` to the subdifferential of penalty + box at ``w``
    (within 5e-7 relative of a limit counts as on it: float32 kernels round limits
    towards 0)."""
    cdef Py_ssize_t j, p = w.shape[0]
    cdef double value = 0, m1 = 0, m2 = 0, kkt = 0, conj1 = 0, conj2 = 0, t1, t2
    cdef double l1, l2, wj, zj, a, lo, up, d, e
    cdef bint outside = False, at_up, at_lo
    with nogil:
        for j in range(p):
            if kind[j] == 1:
                continue
            l1 = alpha * a1[j]
            l2 = alpha * a2[j]
            wj = w[j]
            zj = z[j]
            lo = lower[j]
            up = upper[j]
            value += l1 * fabs(wj) + 0.5 * l2 * wj * wj
            if wj > up or wj < lo:
                outside = True
            if l2 == 0 and l1 > 0:  # pure l1: the sides constrain the dual scaling
                a = zp[j]
                e = 0.0
                if up == INFINITY and a > e:
                    e = a
                if lo == -INFINITY and -a > e:
                    e = -a
                if e > l1 and e / l1 > m1:
                    m1 = e / l1
                e = 0.0
                if up > 0 and a > e:
                    e = a
                if lo < 0 and -a > e:
                    e = -a
                if e > l1 and e / l1 > m2:
                    m2 = e / l1
            # KKT of penalty + box
            at_up = wj > 0 and wj >= (up if up == INFINITY else up * (1 - 5e-7))
            at_lo = wj < 0 and wj <= (lo if lo == -INFINITY else lo * (1 - 5e-7))
            if at_up:
                d = l1 + l2 * wj - zj
            elif at_lo:
                d = zj - (-l1 + l2 * wj)
            elif wj != 0:
                d = fabs(zj - (l1 if wj > 0 else -l1) - l2 * wj)
            else:
                d = 0.0
                if up > 0 and zj - l1 > d:
                    d = zj - l1
                if lo < 0 and -zj - l1 > d:
                    d = -zj - l1
            if d > kkt:
                kkt = d
        t1 = inside / m1 if m1 > 1 else 1.0
        t2 = inside / m2 if m2 > 1 else 1.0
        for j in range(p):
            if kind[j] == 0:
                conj1 += _box_conj(t1 * zp[j], alpha * a1[j], alpha * a2[j], lower[j],
                                   upper[j])
                conj2 += _box_conj(t2 * zp[j], alpha * a1[j], alpha * a2[j], lower[j],
                                   upper[j])
    return (INFINITY if outside else value), t1, t2, conj1, conj2, kkt
