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


cdef inline floating _fsign(floating x) noexcept nogil:
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0


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


cdef inline floating _enet_conjugate_excess(floating corr, floating l1, floating l2) noexcept nogil:
    """(|corr| - l1)_+^2 / (2 l2): the elastic-net dual's per-feature penalty term.

    With l1 = alpha*rho*f_j and l2 = alpha*(1-rho)*f_j it is what the dual objective
    subtracts for feature j (Fenchel conjugate of the elastic-net penalty at x_j^T theta).
    """
    cdef floating e = fabs(corr) - l1
    if e <= 0:
        return 0
    return e * e / (2 * l2)
