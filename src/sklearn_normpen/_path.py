"""THE regularisation-path loop: warm starts, screening in the solver, a certificate at
every point.

The loop is penalty- and solver-agnostic. A *problem* (a solver prepared on a Design:
:class:`~sklearn_normpen._solvers.coordinate_descent.EnetProblem` or
:class:`~sklearn_normpen._solvers.block_cd.GroupProblem`) offers

* ``start(w) -> w``: make the solver state consistent with ``w`` (updated in place later);
* ``solve(w, penalty, alpha, tol_abs, max_iter, alpha_prev) -> (Certificate, epochs)``:
  screen from the previous point (strong rule at ``alpha_prev``, then KKT passes over every
  feature), minimise, and stop on :func:`sklearn_normpen._certificate.certificate`;
* ``null_fit(penalty, tol_abs, max_iter) -> (w, z)``: the unpenalised fit and its projected
  gradient, from which ``penalty.alpha_max(z)`` is read;
* ``to_original(w) -> (coef, intercept)`` and ``null_deviance`` (the unit of ``tol``);
* optionally ``path_stop(w) -> str or None``: a reason to end the path after this point
  (glmnet's early stop for GLMs); the result then covers the grid's first points only.
"""
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning


@dataclass
class PathResult:
    """Coefficients and certificates along a decreasing alpha grid (user scale)."""

    alphas: np.ndarray       # (n_alphas,)
    coefs: np.ndarray        # (n_features, n_alphas)
    intercepts: np.ndarray   # (n_alphas,)
    gaps: np.ndarray         # (n_alphas,) duality gaps (objective scale)
    kkts: np.ndarray         # (n_alphas,) largest KKT violations
    n_iters: np.ndarray      # (n_alphas,) epochs
    converged: np.ndarray    # (n_alphas,) bool: gap <= tol_abs
    tol_abs: float           # the gap target: tol · null deviance
    stop_reason: str = None  # why the path stopped before the grid's end (GLMs), or None


def compute_path(problem, penalty, alphas, *, tol=1e-4, max_iter=1000, coef_init=None):
    """Solve at every alpha of the decreasing grid ``alphas``, warm-starting each point.

    ``tol`` is relative to the null deviance ``||yc||²_S / (2Σs)``: a point is accepted when
    its certified duality gap is at most ``tol`` times it. ``coef_init`` is on the solver's
    parametrisation (default: the unpenalised fit). Unaccepted points are flagged in
    ``converged`` (see :func:`warn_unconverged`).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    K = alphas.shape[0]
    tol_abs = tol * problem.null_deviance
    if coef_init is None:
        w, _ = problem.null_fit(penalty, 1e-3 * tol_abs, max_iter)  # state set for w
    else:
        w = problem.start(coef_init)
    coefs = np.empty((problem.n_features, K), dtype=problem.dtype)
    intercepts = np.empty(K)
    gaps, kkts = np.empty(K), np.empty(K)
    n_iters = np.empty(K, dtype=np.intp)
    alpha_prev = None
    path_stop, reason = getattr(problem, "path_stop", None), None
    for k, alpha in enumerate(alphas):
        cert, n_iters[k] = problem.solve(w, penalty, alpha, tol_abs, max_iter,
                                         alpha_prev=alpha_prev)
        coefs[:, k], intercepts[k] = problem.to_original(w)
        gaps[k], kkts[k] = cert.gap, cert.kkt
        alpha_prev = alpha
        reason = path_stop(w) if path_stop is not None and k + 1 < K else None
        if reason:
            K = k + 1
            alphas, coefs, intercepts = alphas[:K], coefs[:, :K], intercepts[:K]
            gaps, kkts, n_iters = gaps[:K], kkts[:K], n_iters[:K]
            break
    return PathResult(alphas, coefs, intercepts, gaps, kkts, n_iters, gaps <= tol_abs,
                      tol_abs, reason)


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
