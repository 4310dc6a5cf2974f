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
