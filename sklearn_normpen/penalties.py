"""Penalty objects: value, proximal operator (Python reference), dual norm, ``alpha_max`` and
KKT distance. The compiled proxes live in ``_kernels/_helpers.pxd``; these objects are what the
path driver and the certificates use, and what the tests check the kernels against.

A new penalty is one class here plus its prox in a ``.pxd``.
"""
import numpy as np


# ---------------------------------------------------------------------------------------
# Elastic net (owner: the ElasticNetPathCV work)
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# (Sparse-)group lasso (owner: the GroupLasso work)
# ---------------------------------------------------------------------------------------
