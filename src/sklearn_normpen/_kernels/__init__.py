"""Compiled kernels. Shared ``.pxd`` helpers live here beside the ``.pyx`` kernels.

``_blas.pxd``     fused float32/float64 wrappers over ``scipy.linalg.cython_blas``.
``_helpers.pxd``  ``noexcept nogil`` inline helpers (thresholds, norms, gap pieces).
Kernels take memoryviews and scalars only and validate nothing.
"""
