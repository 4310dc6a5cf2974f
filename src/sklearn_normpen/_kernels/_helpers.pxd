# ``noexcept nogil`` inline helpers shared by every solver kernel.
#
# The mathematics (see doc/user_guide and DESIGN):
#   soft-threshold        S(x, t) = sign(x) * max(|x| - t, 0)
#   block soft-threshold  B(v, t) = max(1 - t / ||v||, 0) * v
#   sparse-group prox     B(S(v, t1), t2)  (soft-threshold first, then group shrinkage)
from cython cimport floating
from libc.math cimport fabs, sqrt


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


cdef inline floating _block_shrink_factor(floating norm, floating t) noexcept nogil:
    """The factor max(1 - t / norm, 0) of the block soft-threshold B(v, t)."""
    if norm <= t:
        return 0
    return 1 - t / norm


cdef inline floating _block_soft_threshold(floating* v, int n, floating t) noexcept nogil:
    """In place v <- B(v, t); returns ||B(v, t)||_2."""
    cdef floating nrm = 0
    cdef int i
    for i in range(n):
        nrm += v[i] * v[i]
    nrm = sqrt(nrm)
    cdef floating scale = _block_shrink_factor(nrm, t)
    for i in range(n):
        v[i] *= scale
    return scale * nrm


cdef inline floating _soft_threshold_norm(const floating* v, int n, floating t) noexcept nogil:
    """||S(v, t)||_2, the quantity the sparse-group KKT check compares to alpha (1-rho) c_g."""
    cdef floating acc = 0, a
    cdef int i
    for i in range(n):
        a = fabs(v[i]) - t
        if a > 0:
            acc += a * a
    return sqrt(acc)


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
