"""The alpha grid: one implementation for every path and CV estimator.

Default grid: ``n_alphas`` values log-spaced from ``alpha_max`` down to ``eps * alpha_max``
(the first point is exactly ``alpha_max``, where every penalised coefficient is zero).
``alpha_max`` itself is penalty-specific and computed by the penalty objects.
"""
import warnings

import numpy as np

from ._validation import validate_alphas


def alpha_grid(alpha_max, n_alphas=100, eps=1e-3):
    """Decreasing log-spaced grid from ``alpha_max`` to ``eps * alpha_max`` (float64)."""
    if not (0 < eps < 1):
        raise ValueError(f"eps must be in (0, 1); got {eps!r}.")
    if n_alphas < 1:
        raise ValueError(f"n_alphas must be a positive integer; got {n_alphas!r}.")
    if not np.isfinite(alpha_max):
        # (l1_ratio=0, pure ridge, has no alpha_max: the callers reject it before)
        raise ValueError(f"alpha_max is not finite ({alpha_max!r}): X, y or sample_weight "
                         "overflow float64 here; rescale them or pass an explicit alpha "
                         "grid.")
    if alpha_max <= np.finfo(np.float64).tiny:
        # glmnet refuses ("y is constant"); scikit-learn silently returns a tiny grid.
        # Fitting stays possible (the null model is the answer), but say so.
        warnings.warn(
            f"alpha_max is {alpha_max!r}: y is constant (about its mean when there is an "
            "intercept), or every penalised feature is zero or constant, so every alpha "
            "gives the same null model and the alpha grid is degenerate (every value "
            f"{np.finfo(np.float64).tiny * 10:.3g}); alpha_ chosen from it means nothing.",
            UserWarning, stacklevel=3)
        return np.full(n_alphas, np.finfo(np.float64).tiny * 10) if n_alphas else None
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def grid_size(alphas):
    """The number of points of an ``alphas`` parameter (an int, or the grid itself)."""
    if isinstance(alphas, (int, np.integer)):
        return int(alphas)
    return len(np.atleast_1d(alphas))


def make_grid(alphas, alpha_max_fn, eps=1e-3):
    """Resolve an estimator's ``alphas`` parameter.

    ``alphas`` is an int (number of grid points; ``alpha_max_fn()`` is called) or an array
    (validated and sorted decreasing; ``alpha_max_fn`` is not called).
    """
    if isinstance(alphas, (int, np.integer)):
        return alpha_grid(alpha_max_fn(), int(alphas), eps)
    return validate_alphas(alphas)
