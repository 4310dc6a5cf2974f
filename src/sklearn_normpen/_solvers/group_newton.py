"""Newton steps on the active set of a (sparse-)group lasso: the finish of block coordinate
descent on an ill-conditioned ``X_A`` (nearly collinear columns in different groups, e.g.
offset columns without an intercept), where sweeps crawl for thousands of epochs.

On the active set ``A`` (the non-zero coefficients; with ``rho = 0`` every feature of a
non-zero group) and with the signs there held, the objective restricted to ``A`` is smooth:

    φ(u) = ½ (u - u0)ᵀ G (u - u0) - gᵀ (u - u0)
           + alpha Σ_g [rho sᵀ u_g + (1 - rho) c_g ||u_g||₂]     (penalised groups)

with ``G = X_Aᵀ S X_A / n`` and ``g = X_Aᵀ S r / n`` the gradient at ``u0`` (from the exact
residual: no ``c - G u`` cancellation). Its Hessian adds ``alpha (1 - rho) c_g (I - ûûᵀ) /
||u_g||`` per group. Damped Newton: a step stops at the first sign change of a held
coefficient (which leaves at 0), and backtracks on φ otherwise. Where the Hessian is
singular (more active features than independent rows: φ is flat along its null space but
for the penalty, which falls linearly there) the step descends within the null space until
a coefficient reaches 0, and Newton steps resume on the smaller set. The caller keeps the
result only if φ decreased; the certificate then judges the point as any other, and block
coordinate descent resumes from it (bringing in what the set misses).
"""
import numpy as np
from scipy.linalg import lapack

#: Newton iterations of one call
MAX_STEPS = 30
_NONE = np.zeros(0, dtype=np.intp)  # no coefficient leaves
#: the reciprocal condition number (LAPACK's estimate) above which a step is solved with
#: the Cholesky factor itself (one factorisation instead of two)
_RCOND_FACTOR = 1e-8


def _penalty(u, grp, n_groups, pen_w, l1, l2, row=None):
    """``Σ_g l1 Σ_{r in g} ||u_r||₂ + l2_g ||u_g||₂`` over the penalised groups (``pen_w``;
    ``l2 = alpha (1 - rho) c_g``); the rows ``r`` are the single coefficients (``row``
    None: ``||u_g||₁``) or a partition of each group (a multi-response feature's K
    coefficients)."""
    sq = np.bincount(grp, weights=u * u, minlength=n_groups)
    if row is None:
        ab = np.bincount(grp, weights=np.abs(u), minlength=n_groups)
    else:
        rn = np.sqrt(np.bincount(row, weights=u * u))
        first = np.zeros(rn.size, dtype=np.intp)
        first[row] = grp  # each row's group
        ab = np.bincount(first, weights=rn, minlength=n_groups)
    return float(np.sum((l1 * ab + l2 * np.sqrt(sq))[pen_w]))


def _direction(H, grad):
    """``(d, null)``: the Newton direction ``-H⁻¹ grad`` (``null`` False); for a singular
    ``H`` (more active features than independent rows: the problem on them is flat along
    ``H``'s null space, where only the held signs' penalty moves), the descent
    ``-N Nᵀ grad`` within that null space when ``grad`` has a part there (``null`` True:
    the objective falls linearly along it until a coefficient reaches 0), else the
    pseudo-inverse step."""
    k = H.shape[0]
    thr = 1e3 * k * np.finfo(float).eps * max(float(np.max(np.diag(H))), 1e-300)
    # the Cholesky pivots judge singularity; a well-conditioned step is solved with the
    # factor, an ill-conditioned one by LU, which landed closer on the offset-column tests
    # (cond(H) ~ 3e10 there: the Cholesky solve left gaps of 1e-5 where LU certified 1e-6)
    L, info = lapack.dpotrf(H, lower=True)
    if info == 0 and np.min(np.diag(L)) ** 2 > thr:
        rcond, info = lapack.dpocon(L, float(np.max(np.abs(H).sum(axis=0))), uplo="L")
        if info == 0 and rcond > _RCOND_FACTOR:
            return -lapack.dpotrs(L, grad, lower=True)[0], False
        return -np.linalg.solve(H, grad), False
    ev, V = np.linalg.eigh(H)
    null = ev <= thr
    q = V[:, null] @ (V[:, null].T @ grad)
    if q @ q > 1e-12 * (grad @ grad):
        return -q, True
    keep = ~null
    return -(V[:, keep] @ ((V[:, keep].T @ grad) / ev[keep])), False


def _add_norm_terms(H, grad, u, key, sel, norms, coef):
    """Add the gradient ``coef_q u_q / ||u_q||`` and Hessian ``coef_q (I - û_q û_qᵀ) /
    ||u_q||`` of ``Σ_q coef_q ||u_q||₂`` to ``grad`` and ``H`` (in place), the units ``q =
    key[i]`` over the entries ``sel`` of ``u`` (none of them at 0): every unit's block at
    once (a loop over the units cost more than the factorisation at a few hundred)."""
    f = np.flatnonzero(sel)
    if f.size == 0:
        return
    f = f[np.argsort(key[f], kind="stable")]  # each unit's entries side by side
    q = key[f]
    wt = coef[q] / norms[q]
    uh = u[f] / norms[q]
    grad[f] += wt * u[f]
    _, first, count = np.unique(q, return_index=True, return_counts=True)
    size = np.repeat(count, count)  # each entry's unit size: its row of the block
    ii = np.repeat(np.arange(f.size), size)
    jj = (np.repeat(np.repeat(first, count), size)
          + np.arange(ii.size) - np.repeat(np.cumsum(size) - size, size))
    H[f[ii], f[jj]] -= wt[ii] * uh[ii] * uh[jj]  # (pairs distinct: no lost updates)
    H[f, f] += wt


def objective_change(G, g, u0, u, grp, c, alpha, rho, row=None):
    """``φ(u) - φ(u0)`` (module docstring): the objective's change from ``u0`` to ``u``."""
    m = int(grp.max()) + 1 if grp.size else 0
    pen_w = c > 0
    l1, l2 = alpha * rho, alpha * (1 - rho) * c
    du = u - u0
    return float(0.5 * du @ (G @ du) - g @ du + _penalty(u, grp, m, pen_w, l1, l2, row)
                 - _penalty(u0, grp, m, pen_w, l1, l2, row))


def active_set_newton(G, g, u0, grp, c, alpha, rho, row=None):
    """Minimise φ (module docstring) from ``u0`` over the active features.

    Parameters
    ----------
    G : ndarray (k, k), float64
        ``X_Aᵀ S X_A / n`` (centred).
    g : ndarray (k,)
        ``X_Aᵀ S r / n`` at ``u0``.
    u0 : ndarray (k,)
        The active coefficients (none zero, except with ``rho = 0``).
    grp : ndarray of int (k,)
        Local group index ``0..m-1`` of each feature.
    c : ndarray (m,)
        Group weights (0: unpenalised group).
    row : ndarray of int (k,), optional
        The l1 part's rows ``0..R-1``, each inside one group: ``rho Σ_r ||u_r||₂``
        (a multi-response feature's K coefficients). None: every coefficient its own
        row, ``rho ||u||₁``.

    Returns
    -------
    (u, decrease) : the new coefficients (zeros where a coefficient left) and
    ``φ(u0) - φ(u)`` (> 0), or None when no step lowers φ.
    """
    k = u0.size
    m = int(grp.max()) + 1 if k else 0
    pen_w = c > 0
    l1 = alpha * rho
    l2 = alpha * (1 - rho) * c
    rw, row = row, (np.arange(k) if row is None else row)  # (rw None: the plain l1)
    n_rows = int(row.max()) + 1 if k else 0
    row_size = np.bincount(row, minlength=n_rows)
    # signs held (a crossing stops the step): single-coefficient rows under an l1 part,
    # and single-coefficient groups; a wider row or group at zero is a kink the sweeps
    # handle (the steps stop there)
    single = np.bincount(grp, minlength=m) == 1
    held = pen_w[grp] & (((rho > 0) & (row_size[row] == 1)) | single[grp])
    s = np.sign(u0)
    base = _penalty(u0, grp, m, pen_w, l1, l2, rw)

    def phi(u):
        du = u - u0
        return 0.5 * du @ (G @ du) - g @ du + _penalty(u, grp, m, pen_w, l1, l2, rw) - base

    u = u0.copy()
    free = np.ones(k, dtype=bool)
    f = 0.0
    for _ in range(MAX_STEPS):
        nrm = np.sqrt(np.bincount(grp, weights=u * u, minlength=m))
        rnrm = np.sqrt(np.bincount(row, weights=u * u, minlength=n_rows))
        F = np.flatnonzero(free)
        if F.size == 0:
            break
        gF, rF = grp[F], row[F]
        penF = pen_w[gF]
        if np.any(penF & (nrm[gF] == 0)) or (
                rho > 0 and np.any(penF & (row_size[rF] > 1) & (rnrm[rF] == 0))):
            break  # a wide group or row at zero: not smooth there (the sweeps decide)
        grad = G[F] @ (u - u0) - g[F]
        H = G[np.ix_(F, F)]  # (a copy: advanced indexing)
        uF = u[F]
        _add_norm_terms(H, grad, uF, gF, penF, nrm, l2)
        if rho > 0:
            one = penF & (row_size[rF] == 1)
            grad[one] += l1 * s[F[one]]
            _add_norm_terms(H, grad, uF, rF, penF & (row_size[rF] > 1), rnrm,
                            np.full(n_rows, l1))
        d, null = _direction(H, grad)
        dec = -float(grad @ d)
        if not np.all(np.isfinite(d)) or not dec > 0:
            break
        # the first sign change of a held coefficient ends the step there (along a null
        # direction, where φ falls linearly, the step goes that far)
        t_max, leave = (np.inf, _NONE) if null else (1.0, _NONE)
        cross = np.flatnonzero(held[F] & ((s[F] * d < 0) if null
                                           else (np.sign(u[F] + d) != s[F])))
        if cross.size:
            ts = u[F[cross]] / -d[cross]
            j = int(np.argmin(ts))
            if ts[j] < t_max:
                t_max, leave = float(ts[j]), F[cross[j:j + 1]]
        # likewise a wide group (rho = 0) or row (rho > 0) whose step turns its radial
        # part around: it heads through its kink at 0, where the Newton model of its norm
        # fails (steps then bounce about the origin, each halving the norm); it leaves
        # where that part vanishes
        wide = penF & (~single[gF] if rho == 0 else (row_size[rF] > 1))
        if wide.any():
            key, n_units = (gF, m) if rho == 0 else (rF, n_rows)
            a = np.bincount(key[wide], weights=u[F[wide]] * d[wide], minlength=n_units)
            b = np.bincount(key[wide], weights=u[F[wide]] ** 2, minlength=n_units)
            tq = np.full(n_units, np.inf)
            np.divide(b, -a, out=tq, where=a < 0)
            j = int(np.argmin(tq))
            if tq[j] < t_max:
                t_max, leave = float(tq[j]), F[wide & (key == j)]
        if not np.isfinite(t_max):  # no coefficient reaches 0: as far as the size of u
            t_max = max(float(np.linalg.norm(u[F])), 1.0) / float(np.linalg.norm(d))
        t, accepted = t_max, False
        for _ in range(40):  # backtracking (Armijo) on φ
            v = u.copy()
            v[F] += t * d
            if leave.size and t == t_max:
                v[leave] = 0.0
            fv = phi(v)
            if fv <= f - 1e-4 * t * dec:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        small = f - fv <= 1e-15 * (abs(f) + abs(base) + 1e-300)
        u, f = v, fv
        if leave.size and t == t_max:
            free[leave] = False
            continue  # (coefficients left: the next step is on the smaller set)
        if small or (dec < 1e-30 and not leave.size):
            break
    if not f < 0:
        return None
    return u, -f


def supported(pen):
    """Whether the steps apply to ``pen``: no box limits but exclusions (features held at
    zero, e.g. constant columns under ``standardize``), which the steps never move."""
    if not pen.has_box:
        return True
    lo, up = pen.lower, pen.upper
    return bool(np.all((np.isinf(lo) & np.isinf(up)) | ((lo == 0) & (up == 0))))


def active_features(w, pen):
    """The features the step moves: the non-zero coefficients (``rho = 0``: every feature
    of a non-zero group, which has no l1 kink inside) and the unpenalised groups', less
    those held at zero."""
    w = np.asarray(w, dtype=np.float64)
    fgroup = pen.group_of
    free = ~pen.penalised[fgroup]
    if pen.rho == 0:
        nz = np.bincount(fgroup, weights=np.abs(w), minlength=pen.weights.size) > 0
        keep = nz[fgroup] | free
    else:
        keep = (w != 0) | free
    if pen.has_box:
        keep &= ~pen.excluded
    return np.flatnonzero(keep)


def active_rows(rows, fgroup, weights, rho, K):
    """The rows a step moves in a row-wise sparse-group lasso (each feature's ``K``
    coefficients one row of the l1 part inside its group's block), with
    :func:`kept_step`'s layout over their ``K`` entries each: ``(A, grp, row, c)``.
    ``rows``: each feature's row norm; ``fgroup``: each feature's group (-1: in none,
    held at 0). The non-zero rows (``rho = 0``: every row of a non-zero group, which has no
    row kink)."""
    inside = fgroup >= 0
    if rho == 0:
        nz = np.bincount(fgroup[inside], weights=rows[inside], minlength=len(weights)) > 0
        A = np.flatnonzero(inside & nz[np.maximum(fgroup, 0)])
    else:
        A = np.flatnonzero(inside & (rows > 0))
    ids, loc = np.unique(fgroup[A], return_inverse=True)
    return (A, np.repeat(loc, K), np.repeat(np.arange(A.size), K),
            np.asarray(weights, np.float64)[ids])


def kept_step(G, g, u0, grp, c, alpha, rho, dtype, row=None):
    """:func:`active_set_newton`'s result cast to ``dtype`` as it will be stored; None
    unless that still lowers the objective (the one acceptance rule of every caller)."""
    out = active_set_newton(G, g, u0, grp, c, alpha, rho, row)
    if out is None:
        return None
    u = out[0].astype(dtype).astype(np.float64)
    if not objective_change(G, g, u0, u, grp, c, alpha, rho, row) < 0:
        return None
    return u


def newton_step(G, g, A, w, pen, alpha, dtype):
    """:func:`kept_step` on the features ``A`` of a :class:`SparseGroupLasso` (``G``, ``g``
    over them)."""
    ids, loc = np.unique(pen.group_of[A], return_inverse=True)
    return kept_step(G, g, np.asarray(w, dtype=np.float64)[A], loc,
                     np.asarray(pen.weights, np.float64)[ids], float(alpha), pen.rho, dtype)


class Pause:
    """When a solve's sweeps stop for a Newton step: after ``epochs`` sweeps without the
    target, halving (down to ``shortest``) after a step that was kept and doubling (up to
    ``longest``) after one that was declined; the next solve's pause halves after a solve
    that one step finished, and doubles after one whose steps did not help (the rule of
    ``EnetProblem.solve``).

    (Within a solve: a cold fit far below ``alpha_max`` grows its working set a few times,
    and on ill-conditioned data the sweeps crawl on every set until its step. The
    diabetes cubic features, 285 columns in groups of 3 at ``alpha = 1e-3``, took 6 steps
    200 sweeps apart, past the default ``max_iter``, when every step doubled the pause.)"""

    def __init__(self, epochs, shortest, longest):
        self.epochs, self.shortest, self.longest = epochs, shortest, longest
        self.tried = self.taken = 0
        #: set at a pause: the next sweeps continue those it stopped
        self.resuming = False

    def chunk(self, left):
        return min(left, self.epochs)

    def due(self, epochs, chunk, left):
        """Whether a sweep run of ``chunk`` epochs (of ``left``) used them all."""
        return epochs >= chunk and chunk < left

    def record(self, taken):
        self.tried += 1
        self.taken += int(taken)
        self.epochs = (max(self.shortest, self.epochs // 2) if taken
                       else min(2 * self.epochs, self.longest))

    def next(self, start, certified):
        """The pause the next solve starts with, from this one's ``start``."""
        if self.tried == 1 == self.taken and certified:
            return max(self.shortest, start // 2)
        if self.tried > 2 or self.tried > self.taken:
            return min(self.longest, 2 * start)
        return start
