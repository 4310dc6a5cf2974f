"""Compiled kernels. Shared ``.pxd`` helpers live here beside the ``.pyx`` kernels.

``_blas.pxd``     fused float32/float64 wrappers over ``scipy.linalg.cython_blas``.
``_helpers.pxd``  ``noexcept nogil`` inline helpers (thresholds, norms, proxes).
``_design.pxd``   column access to dense (Fortran) or CSC X as a fused type, so each
                  dense/CSC pair of kernels is one implementation specialised at compile time.
Kernels take memoryviews and scalars only and validate nothing, except the few arguments
whose absence they allow (:func:`prediction_arg`).
"""
import numpy as np

from .._threads import blas_threads

#: :func:`dot_columns`: columns shorter than this many bytes, matrices of at least
#: ``DOT_COLUMNS_MIN_BYTES``
DOT_COLUMNS_MAX_COLUMN = 12288
DOT_COLUMNS_MIN_BYTES = 1 << 24


def prediction_arg(pred, like, kernel):
    """A kernel's optional ``pred`` (a path's predicted change of the coefficients
    ``like``): an empty array of ``like``'s dtype and rank for None (or an empty one), else
    ``pred``, which must have ``like``'s shape (ValueError naming ``kernel``)."""
    like = np.asarray(like)
    if pred is None or np.size(pred) == 0:
        return np.empty((0,) * like.ndim, dtype=like.dtype)
    if np.shape(pred) != like.shape:
        raise ValueError(f"{kernel}: pred has shape {np.shape(pred)}, expected "
                         f"{like.shape} (or none).")
    return pred


def dot_columns(n, p, itemsize):
    """Whether ``Xᵀr`` over a dense column-major ``n x p`` X (``_blas._gemv_t``) runs one
    BLAS dot per column instead of one gemv: when every BLAS runs one thread (as in the
    path loop: :func:`sklearn_normpen._threads.single_blas_thread`), the columns
    are short (under ``DOT_COLUMNS_MAX_COLUMN`` bytes) and X is out of cache (at least
    ``DOT_COLUMNS_MIN_BYTES``). There OpenBLAS's gemv streams at half the speed of its dot
    (a full gradient pass over 400 x 20000 float64: 3.8 against 1.8 ms; 1500 x 5000: 2.7
    against 2.4; float32 400 x 20000: 2.3 against 1.0; 2 cores of an AMD EPYC, scipy's
    OpenBLAS 0.3); from 2000 float64 rows (16 KB columns) on, or with X in cache, the gemv
    is as fast or faster, and with two threads it was level with the single-threaded
    dots."""
    return (n * itemsize < DOT_COLUMNS_MAX_COLUMN and n * p * itemsize >= DOT_COLUMNS_MIN_BYTES
            and blas_threads() == 1)
