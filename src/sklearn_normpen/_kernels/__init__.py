"""Compiled kernels. Shared ``.pxd`` helpers live here beside the ``.pyx`` kernels.

``_blas.pxd``     fused float32/float64 wrappers over ``scipy.linalg.cython_blas``.
``_helpers.pxd``  ``noexcept nogil`` inline helpers (thresholds, norms, proxes).
``_design.pxd``   column access to dense (Fortran) or CSC X as a fused type, so each
                  dense/CSC pair of kernels is one implementation specialised at compile time.
Kernels take memoryviews and scalars only and validate nothing, except the few arguments
whose absence they allow (:func:`prediction_arg`).
"""
import numpy as np


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
