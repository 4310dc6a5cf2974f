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
  (glmnet's early stop for GLMs); the result then covers the grid's first points only;
* with ``lead_in = True``: ``snapshot(w)`` and ``restore(snapshot) -> w`` (the state, for
  :func:`cold_retry` and :func:`start_retry`).
"""
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._threads import single_blas_thread

logger = logging.getLogger("sklearn_normpen")  # progress; silent unless configured

#: a cold start far below ``alpha_max`` first solves at this many log-spaced alphas per
#: decade between them (not reported): the support then grows as along a path instead of
#: all at once (see :func:`lead_in`)
LEAD_IN_PER_DECADE = 3
#: the lead-in's alphas are solved to this many times the target's gap: they are only the
#: last point's warm start, never reported (at the full target the walk spent 2-3x the
#: epochs of the point itself: 832 against 261 epochs for a 300 x 2000 lasso at 1e-4
#: alpha_max; breast cancer's quadratic features, 5% slower there)
LEAD_IN_TOL_FACTOR = 10


@dataclass
class PathResult:
    """Coefficients and certificates along a decreasing alpha grid (user scale)."""

    alphas: np.ndarray       # (n_alphas,)
    coefs: np.ndarray        # (n_features, n_alphas); csc_array with sparse_output
    intercepts: np.ndarray   # (n_alphas,)
    gaps: np.ndarray         # (n_alphas,) duality gaps (objective scale)
    kkts: np.ndarray         # (n_alphas,) largest KKT violations
    n_iters: np.ndarray      # (n_alphas,) epochs
    converged: np.ndarray    # (n_alphas,) bool: gap <= tol_abs
    tol_abs: float           # the gap target: tol · null deviance
    stop_reason: str = None  # why the path ended before the grid did ("dfmax", "pmax",
    #                          or a GLM problem's early stop, as glmnet), or None
    dev_ratios: np.ndarray = None  # 1 - loss / null deviance at each point (glmnet's)


@single_blas_thread()
def compute_path(problem, penalty, alphas, *, tol=1e-4, max_iter=1000, coef_init=None,
                 dfmax=None, pmax=None, active=None, sparse_output=False):
    """Solve at every alpha of the decreasing grid ``alphas``, warm-starting each point.

    ``tol`` is relative to the null deviance ``||yc||²_S / (2Σs)``: a point is accepted when
    its certified duality gap is at most ``tol`` times it. ``coef_init`` is on the solver's
    parametrisation (default: the unpenalised fit). Unaccepted points are flagged in
    ``converged`` (see :func:`warn_unconverged`). A problem with ``start_usable`` (the
    GLMs) may refuse ``coef_init`` (a ``UserWarning``; the path then starts as without it).

    ``dfmax`` / ``pmax`` stop the path as glmnet does: from the ``min(5, n_alphas)``-th
    point on, the path ends after the first point with more than ``dfmax`` non-zero
    variables (that point is kept); a point at which more than ``pmax`` variables have
    ever been non-zero is dropped and the path ends before it. ``active(coef)`` gives the
    boolean mask of non-zero variables (default: features; the group lasso passes groups).
    The returned arrays then cover the solved points only and ``stop_reason`` says which
    rule stopped it. ``sparse_output``: ``coefs`` is a ``scipy.sparse.csc_array`` of the
    same shape holding each point's non-zeros only (single-response problems): no dense
    ``(n_features, n_alphas)`` array is ever formed. The loop runs with the BLAS at one
    thread (:func:`~sklearn_normpen._threads.single_blas_thread`).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    K = alphas.shape[0]
    tol_abs = tol * problem.null_deviance
    lead = (0, None, None)
    if coef_init is not None:
        w = problem.start(coef_init)
        usable = getattr(problem, "start_usable", None)  # (GLMs: see start_usable)
        if usable is not None and not usable():
            warnings.warn("coef_init puts the linear predictor where the model's curvature "
                          "or working response leaves the representable range (|X "
                          "coef_init| too large): the path starts from the intercept-only "
                          "model instead, as without coef_init.", UserWarning, stacklevel=3)
            coef_init = None
    if coef_init is None:
        w, z = problem.null_fit(penalty, 1e-3 * tol_abs, max_iter)  # state set for w
        if K:
            lead = lead_in(problem, penalty, w, z, alphas[0], tol_abs, max_iter)
    # a multi-response problem stores (n_features, n_responses, K) and (n_responses, K)
    tail = tuple(getattr(problem, "coef_tail", ()))
    if sparse_output and tail:
        raise ValueError("sparse_output is available for single-response paths only.")
    # Fortran order: each point's coefficients are one contiguous block (a C-ordered
    # (p, K) array took ~8% of a wide path in strided writes to fresh pages)
    coefs = (None if sparse_output else
             np.empty((problem.n_features,) + tail + (K,), dtype=problem.dtype, order="F"))
    columns = []  # sparse_output: each point's (indices, values) of its non-zeros
    intercepts = np.empty(tail + (K,))
    gaps, kkts, losses = np.empty(K), np.empty(K), np.empty(K)
    n_iters = np.empty(K, dtype=np.intp)
    alpha_prev = lead[1]
    path_stop = getattr(problem, "path_stop", None)
    limited = dfmax is not None or pmax is not None
    active = (lambda c: c != 0) if active is None else active
    ever, stop, end = None, None, K
    # the last two solved points at which the coefficients moved (coefficients, alpha),
    # newest first, for problems that take a predicted start (``predict_next``)
    predict = getattr(problem, "predict_next", None)
    last = (None, None)
    for k, alpha in enumerate(alphas):
        if k == 0 and coef_init is not None:
            # (a start far from the optimum overflows the GLMs' exp on the way; the
            # certificate judges the outcome, and start_retry mends a failed one)
            with np.errstate(over="ignore", invalid="ignore"):
                cert, n_iters[k] = problem.solve(w, penalty, alpha, tol_abs, max_iter)
            w, cert, extra = start_retry(problem, penalty, w, alpha, tol_abs, max_iter,
                                         cert)
            n_iters[k] += extra
        else:
            if predict is not None and last[1] is not None:
                d = linear_prediction(last, alpha)
                if d is not None and not predict(d, penalty):
                    predict = None  # (none taken on this path: see predict_next)
            cert, n_iters[k] = problem.solve(w, penalty, alpha, tol_abs, max_iter,
                                             alpha_prev=alpha_prev)
        if k == 0 and coef_init is None:
            w, cert, extra = cold_retry(problem, penalty, w, lead, alpha, tol_abs,
                                        max_iter, cert)
            n_iters[k] += extra
        coef, intercepts[..., k] = problem.to_original(w)
        if sparse_output:
            coef = np.asarray(coef, dtype=problem.dtype)
            nz = np.flatnonzero(coef)
            columns.append((nz, coef[nz]))
        else:
            coefs[..., k] = coef
            coef = coefs[..., k]  # (as returned: in the problem's dtype)
        gaps[k], kkts[k], losses[k] = cert.gap, cert.kkt, cert.loss
        alpha_prev = alpha
        if predict is not None and (last[0] is None or not np.array_equal(w, last[0][0])):
            last = ((w.copy(), float(alpha)), last[0])  # (a point that did not move: none)
        if ((k + 1) % 10 == 0 or k + 1 == K) and logger.isEnabledFor(logging.DEBUG):
            logger.debug("path point %d/%d: alpha=%.4g, %d non-zero, gap %.2e "
                         "(target %.2e)", k + 1, K, alpha,
                         int(np.count_nonzero(coef)), gaps[k], tol_abs)
        if limited:
            now = np.asarray(active(coef), dtype=bool)
            ever = now if ever is None else ever | now
            if pmax is not None and ever.sum() > pmax:
                stop, end = "pmax", k  # glmnet drops the point that exceeds pmax
                break
            if dfmax is not None and k + 1 >= min(5, K) and now.sum() > dfmax:
                stop, end = "dfmax", k + 1  # glmnet keeps the point that exceeds dfmax
                break
        if path_stop is not None and k + 1 < K:
            stop = path_stop(w)  # a GLM problem's early stop (deviance ratio / change)
            if stop:
                end = k + 1
                break
    if stop is not None:
        alphas, intercepts = alphas[:end], intercepts[..., :end]
        coefs, columns = (None, columns[:end]) if sparse_output else (coefs[..., :end], None)
        gaps, kkts, n_iters, losses = gaps[:end], kkts[:end], n_iters[:end], losses[:end]
    if sparse_output:
        coefs = sparse_columns(columns, problem.n_features, problem.dtype)
    # deviance ratio: loss above the saturated model's (0 for the squared loss), per null
    null, sat = problem.null_deviance, getattr(problem, "saturated_loss", 0.0)
    dev = 1.0 - (losses - sat) / null if null > 0 else np.zeros_like(losses)
    return PathResult(alphas, coefs, intercepts, gaps, kkts, n_iters, gaps <= tol_abs,
                      tol_abs, stop, dev)


def sparse_columns(columns, n_rows, dtype):
    """The ``(n_rows, len(columns))`` ``csc_array`` whose column ``k`` holds
    ``columns[k] = (indices, values)`` (indices increasing, values non-zero)."""
    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum([idx.size for idx, _ in columns], out=indptr[1:])
    index_type = np.int32 if max(n_rows, indptr[-1]) < 2**31 else np.int64
    indices = np.concatenate([idx for idx, _ in columns] + [np.zeros(0, np.intp)])
    data = np.concatenate([v for _, v in columns] + [np.zeros(0, dtype)]).astype(dtype)
    return sp.csc_array((data, indices.astype(index_type), indptr.astype(index_type)),
                        shape=(n_rows, len(columns)))


def linear_prediction(last, alpha):
    """The change from the newest of ``last`` (``((w1, a1), (w2, a2))``: the last two
    points at which the coefficients moved, newest first) to ``alpha``, on the line
    through the two, on ``w1``'s support only. A lasso solution is linear in alpha while
    its support and signs hold (glmnet's and LARS' path); the solver takes a predicted
    step only where it keeps the sign. Points whose warm start passed unchanged are
    skipped, so the line spans the grid points they cover (near saturation the stale
    start passes the target for many points, and the first that does not then started
    from a solution far behind: the 5-fold lasso CV on 500 x 20000 ran 25% fewer epochs
    with this prediction). None when the two alphas are equal."""
    (w1, a1), (w2, a2) = last
    if not a1 != a2:  # (a grid that repeats an alpha: no line)
        return None
    d = (alpha - a1) / (a1 - a2) * (w1 - w2)
    d[(w1 == 0) | ~np.isfinite(d)] = 0
    return d


def lead_in(problem, penalty, w, z, alpha, tol_abs, max_iter):
    """Walk a cold start down to ``alpha``: from the null fit ``w`` (updated in place; ``z``
    its projected gradient), solve warm at ``LEAD_IN_PER_DECADE`` (or the problem's own
    ``lead_in_per_decade``, when set) log-spaced alphas per
    decade strictly between ``alpha_max`` and ``alpha`` when ``alpha < alpha_max / 10``
    (glmnet fits a whole path for the same reason), each to ``LEAD_IN_TOL_FACTOR`` times
    ``tol_abs`` (warm starts only: the caller solves ``alpha`` itself to ``tol_abs``),
    for problems whose ``lead_in`` is True (the elastic net's and the GLMs') and whose
    ``lead_in_pays`` is not False (small covariance-mode problems solve directly); a
    problem's ``before_walk(w, m)``, if any, is told first (``m`` solves to come). Returns
    ``(epochs, alpha_prev, cold)``: the epochs spent, the last alpha solved and the null
    fit's state (``problem.snapshot``) for :func:`cold_retry` (``(0, None, None)``:
    nothing to do).

    (A cold solve far below ``alpha_max`` lets hundreds of features in at once and
    crawls: breast cancer's 495 quadratic features at ``1e-4 alpha_max`` were not
    certified in 1000 epochs, nor a 300 × 2000 Gaussian design at the same ratio; with
    the lead-in both certify, in 0.3 and 0.04 s.)"""
    if not getattr(problem, "lead_in", False) or not getattr(problem, "lead_in_pays", True):
        return 0, None, None
    amax = penalty.alpha_max(z)
    if not (np.isfinite(amax) and 0 < 10 * alpha < amax):
        return 0, None, None
    decades = np.log10(amax / alpha)
    m = int(np.ceil(LEAD_IN_PER_DECADE * decades))
    before_walk = getattr(problem, "before_walk", None)
    if before_walk is not None:  # (a problem that picks its mode for many solves)
        before_walk(w, m)  # (m solves at the default density: the walk's m - 1, the target)
    per_decade = getattr(problem, "lead_in_per_decade", None)  # (in the mode picked)
    if per_decade:
        m = int(np.ceil(per_decade * decades))
    cold = problem.snapshot(w)
    epochs, prev = 0, None
    for a in np.geomspace(amax, alpha, m + 1)[1:-1]:
        epochs += int(problem.solve(w, penalty, a, LEAD_IN_TOL_FACTOR * tol_abs, max_iter,
                                    alpha_prev=prev)[1])
        prev = float(a)
    return epochs, prev, cold


def start_retry(problem, penalty, w, alpha, tol_abs, max_iter, cert):
    """The first point of a path from the caller's ``coef_init`` (``cert`` its solve):
    when that solve was not certified, one solve from the null fit as without
    ``coef_init`` (its lead-in and :func:`cold_retry` included), keeping the better
    certificate. For problems with ``lead_in`` (the others' sweeps converge from any
    start). Returns ``(w, cert, epochs)`` as :func:`cold_retry`.

    (A convex problem has no bad start in theory, but a proximal-Newton start far from
    the optimum can stall: a Poisson path from its coefficients plus 5 overflowed ``exp``,
    every line search refused the Newton step and the point was returned uncertified at a
    gap of 1e9; the later points warm-started from it failed too.)"""
    if cert.gap <= tol_abs or not getattr(problem, "lead_in", False):
        return w, cert, 0
    warm = problem.snapshot(w)
    w0, z = problem.null_fit(penalty, 1e-3 * tol_abs, max_iter)
    lead = lead_in(problem, penalty, w0, z, alpha, tol_abs, max_iter)
    cert0, epochs = problem.solve(w0, penalty, alpha, tol_abs, max_iter,
                                  alpha_prev=lead[1])
    w0, cert0, extra = cold_retry(problem, penalty, w0, lead, alpha, tol_abs, max_iter,
                                  cert0)
    epochs = int(epochs) + extra
    if cert0.gap < cert.gap:
        return w0, cert0, epochs
    return problem.restore(warm), cert, epochs


def cold_retry(problem, penalty, w, lead, alpha, tol_abs, max_iter, cert):
    """The end of a lead-in (``lead`` from :func:`lead_in`, ``cert`` the solve at ``alpha``
    after it): its epochs, and when that solve was not certified, one solve from the null
    fit as without the lead-in, keeping the better certificate (the warm walk can end
    where an ill-conditioned model's rounding floor is higher: a logistic fit without
    intercept beside columns of mean 1e4 stopped at 45x its target). Returns
    ``(w, cert, epochs)``, ``w`` the state's array, ``epochs`` those of the lead-in and
    the retry."""
    epochs, _, cold = lead
    if cold is None or cert.gap <= tol_abs:
        return w, cert, int(epochs)
    warm = problem.snapshot(w)
    w = problem.restore(cold)
    cert2, more = problem.solve(w, penalty, alpha, tol_abs, max_iter)
    epochs += int(more)
    if cert2.gap < cert.gap:
        return w, cert2, epochs
    return problem.restore(warm), cert, epochs


def warn_stopped(result, n_grid, what="The path"):
    """One ``UserWarning`` saying where and why a path stopped early (dfmax/pmax)."""
    if result.stop_reason is None:
        return
    last = (f"after alpha={result.alphas[-1]:.6g}" if len(result.alphas)
            else "before its first alpha")
    warnings.warn(f"{what} stopped {last} ({len(result.alphas)} of {n_grid} grid points): "
                  f"{result.stop_reason} reached, as glmnet does.", UserWarning, stacklevel=4)


def warn_unconverged(results, what="Coordinate descent"):
    """One ``ConvergenceWarning`` listing every path point (alpha, gap) that missed ``tol``.

    ``results`` are path results with ``alphas``, ``gaps``, ``converged`` and ``tol_abs``
    (one target per result: CV folds have their own null deviances, so their own targets).
    """
    alphas, gaps, targets = [], [], []
    for res in results:
        idx = np.flatnonzero(~np.asarray(res.converged))
        alphas += [res.alphas[i] for i in idx]
        gaps += [res.gaps[i] for i in idx]
        targets += [res.tol_abs] * len(idx)
    warn_points(alphas, gaps, targets, what)


def warn_points(alphas, gaps, tol_abs, what):
    """The warning itself: ``alphas``/``gaps`` of the points whose gap exceeds ``tol_abs``
    (one target, or one per point)."""
    if not len(alphas):
        return
    t = np.broadcast_to(np.asarray(tol_abs, dtype=np.float64), (len(alphas),))
    one = bool(np.all(t == t[0]))
    shown = ", ".join(f"alpha={a:.3g} (gap {g:.2e}" + ("" if one else f" > {ti:.2e}") + ")"
                      for a, g, ti in list(zip(alphas, gaps, t))[:8])
    more = f" and {len(alphas) - 8} more" if len(alphas) > 8 else ""
    target = (f"the duality gap target {t[0]:.2e}" if one else
              "their duality gap targets (tol times each fit's null deviance)")
    warnings.warn(
        f"{what} did not reach {target} at {len(alphas)} "
        f"path point(s): {shown}{more}. Increase max_iter, loosen tol, or scale the "
        "features.", ConvergenceWarning, stacklevel=3)
