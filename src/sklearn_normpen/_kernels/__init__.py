"""Compiled kernels. Shared ``.pxd`` helpers live here beside the ``.pyx`` kernels.

``_blas.pxd``     fused float32/float64 wrappers over ``scipy.linalg.cython_blas``.
``_helpers.pxd``  ``noexcept nogil`` inline helpers (thresholds, norms, proxes).
``_design.pxd``   column access to dense (Fortran) or CSC X as a fused type, so each
                  dense/CSC pair of kernels is one implementation specialised at compile time.
Kernels take memoryviews and scalars only and validate nothing.
"""
