"""Warm-started regularisation path with a certificate at every point.

The driver is penalty-agnostic: it needs a *problem* (data prepared for repeated solves, with
``solve(w, L1, L2, tol_abs, ...)``, ``tol_scale()``, ``g`` and ``N``) and a *penalty* (with
``scaled_weights(alpha, N)``, ``null_weights()`` and ``alpha_max(grad)``). Screening lives in
the solver: at each alpha the working set starts from the strong rule
``|g_j| > (2 - alpha_prev/alpha)·L1_j`` evaluated at the warm start, and the full duality gap
over every feature (never the working set alone) decides when a point is accepted, so a
feature the strong rule missed is added back before the point is returned.
"""
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning


@dataclass
class PathResult:
    """Coefficients and certificates along a decreasing alpha grid (package scale)."""

    alphas: np.ndarray       # (n_alphas,)
    coefs: np.ndarray        # (n_features, n_alphas)
    intercepts: np.ndarray   # (n_alphas,)
    gaps: np.ndarray         # (n_alphas,) duality gaps
    kkts: np.ndarray         # (n_alphas,) largest KKT violations
    n_iters: np.ndarray      # (n_alphas,) epochs
    converged: np.ndarray    # (n_alphas,) bool
    tol_abs: float           # the gap target used (tol · ||yc||²_S / (2Σs))


def null_model(problem, penalty, tol, max_iter):
    """Fit the unpenalised features alone (penalised ones at zero).

    Returns ``(w, grad)`` where ``grad = Xcᵀ S r / Σs`` at that model: ``alpha_max`` follows
    from it and the path starts from ``w``.
    """
    w = problem.set_coef(np.zeros(problem.n_features, dtype=problem.dtype))
    L1, L2 = penalty.null_weights()
    # a tighter target than the path's: alpha_max is read off this gradient
    problem.solve(w, L1, L2, 1e-3 * tol * problem.tol_scale(), max_iter=max(max_iter, 1000),
                  positive=False)
    return w, problem.g.astype(np.float64) / problem.N


def compute_path(problem, penalty, alphas, *, tol=1e-4, max_iter=1000, coef_init=None):
    """Solve at every alpha of the decreasing grid ``alphas``, warm-starting each point.

    ``tol`` has scikit-learn's meaning: a point is accepted when its duality gap is at most
    ``tol · ||y - ȳ||²_S / (2Σs)``. Points that do not get there are flagged in
    ``converged`` (see :func:`warn_unconverged`).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    n_alphas = alphas.shape[0]
    p = problem.n_features
    tol_abs = tol * problem.tol_scale()
    if coef_init is None:
        w, _ = null_model(problem, penalty, tol, max_iter)
    else:
        w = problem.set_coef(np.array(coef_init, dtype=problem.dtype))
    coefs = np.empty((p, n_alphas), dtype=problem.dtype)
    intercepts = np.empty(n_alphas)
    gaps = np.empty(n_alphas)
    kkts = np.empty(n_alphas)
    n_iters = np.empty(n_alphas, dtype=np.intp)
    converged = np.empty(n_alphas, dtype=bool)
    alpha_prev = None
    for k, alpha in enumerate(alphas):
        L1, L2 = penalty.scaled_weights(alpha, problem.N)
        # strong rule threshold factor; 1 (plain KKT check) at the first point
        factor = 1.0 if alpha_prev is None or alpha <= 0 else 2.0 - alpha_prev / alpha
        res = problem.solve(w, L1, L2, tol_abs, max_iter=max_iter,
                            positive=penalty.positive, strong_factor=factor)
        coefs[:, k] = w
        intercepts[k] = res.intercept
        gaps[k], kkts[k], n_iters[k], converged[k] = res.gap, res.kkt, res.n_iter, res.converged
        alpha_prev = alpha
    return PathResult(alphas, coefs, intercepts, gaps, kkts, n_iters, converged, tol_abs)


def warn_unconverged(results, what="Coordinate descent"):
    """One ``ConvergenceWarning`` listing every path point (alpha, gap) that missed ``tol``.

    ``results`` are path results with ``alphas``, ``gaps``, ``converged`` and ``tol_abs``.
    """
    alphas, gaps, target = [], [], 0.0
    for res in results:
        idx = np.flatnonzero(~np.asarray(res.converged))
        alphas += [res.alphas[i] for i in idx]
        gaps += [res.gaps[i] for i in idx]
        target = max(target, res.tol_abs)
    warn_points(alphas, gaps, target, what)


def warn_points(alphas, gaps, tol_abs, what):
    """The warning itself: ``alphas``/``gaps`` of the points whose gap exceeds ``tol_abs``."""
    if not len(alphas):
        return
    shown = ", ".join(f"alpha={a:.3g} (gap {g:.2e})" for a, g in list(zip(alphas, gaps))[:8])
    more = f" and {len(alphas) - 8} more" if len(alphas) > 8 else ""
    warnings.warn(
        f"{what} did not reach the duality gap target {tol_abs:.2e} at {len(alphas)} "
        f"path point(s): {shown}{more}. Increase max_iter, loosen tol, or scale the "
        "features.", ConvergenceWarning, stacklevel=3)
