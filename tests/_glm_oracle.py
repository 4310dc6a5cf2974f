"""Independent NumPy duality gaps of the binomial and Poisson families with the elastic-net
or the sparse-group-lasso penalty (float64, no package code).

    P(w, b) = 1/W Σ s_i f(y_i, η_i) + alpha Ω(w),   η = Xw + b
    binomial f = log(1 + e^η) - yη;  Poisson f = e^η - yη
    enet  Ω = Σ_j (rho f1_j |w_j| + (1 - rho)/2 f2_j w_j²)
    sgl   Ω = rho ||w||_1 + (1 - rho) Σ_g c_g ||w_g||_2

    D(θ) = -1/W Σ s_i h(y_i - θ_i) - (alpha Ω)*(Xᵀ S θ / W)
    binomial h(q) = q log q + (1 - q) log(1 - q) (q in [0, 1]);  Poisson h(q) = q log q - q

θ = c·(r - mean_s(r)), r = y - μ (additive centring for the intercept, NOT the package's
shrinking), c the largest value <= 1 keeping y - cθ in h's domain and Xᵀ S cθ / W in the
penalty's dual domain (bisection for a group); with an intercept also θ = c·(y - μ(η + Δ)),
Δ the intercept's own optimum, and the better of the two. Valid for any (w, b):
P(w, b) - P* <= gap.
"""
import numpy as np
from scipy.special import expit, xlogy


def _loss(family, y, eta):
    if family == "binomial":
        return np.logaddexp(0, eta) - y * eta
    return np.exp(eta) - y * eta


def _h(family, q):
    if family == "binomial":
        return xlogy(q, q) + xlogy(1 - q, 1 - q)
    return xlogy(q, q) - q


def _mean(family, eta):
    return expit(eta) if family == "binomial" else np.exp(eta)


def _penalty(w, alpha, l1_ratio, f1, f2, groups, gw):
    if groups is None:
        return alpha * (l1_ratio * f1 @ np.abs(w) + 0.5 * (1 - l1_ratio) * f2 @ (w * w))
    return alpha * (l1_ratio * np.abs(w).sum()
                    + (1 - l1_ratio) * sum(c * np.linalg.norm(w[g]) for g, c in zip(groups, gw)))


def _setup(X, w, sw, groups, group_weights):
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    w = np.asarray(w, np.float64).ravel()
    s = np.ones(X.shape[0]) if sw is None else np.asarray(sw, np.float64)
    gw = None
    if groups is not None:
        groups = [np.asarray(g) for g in groups]
        gw = (np.sqrt([len(g) for g in groups]) if group_weights is None
              else np.asarray(group_weights, np.float64))
    return X, w, s, groups, gw


def glm_primal(family, X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
               groups=None, group_weights=None):
    X, w, s, groups, gw = _setup(X, w, sw, groups, group_weights)
    y = np.asarray(y, np.float64)
    p = X.shape[1]
    f1 = np.ones(p) if pf_l1 is None else np.asarray(pf_l1, np.float64)
    f2 = np.ones(p) if pf_l2 is None else np.asarray(pf_l2, np.float64)
    eta = X @ w + b
    return float(s @ _loss(family, y, eta) / s.sum()
                 + _penalty(w, alpha, l1_ratio, f1, f2, groups, gw))


def _group_ok(c, z, alpha, rho, cg):
    soft = np.maximum(np.abs(c * z) - alpha * rho, 0)
    return np.linalg.norm(soft) <= alpha * (1 - rho) * cg * (1 + 1e-12)


def glm_gap(family, X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
            groups=None, group_weights=None, fit_intercept=True):
    """The independent duality gap at ``(w, b)`` (see the module docstring); penalty
    factors of the elastic net must be positive (no unpenalised features). With an
    intercept the better of two dual points: the additive centring of ``r`` and the
    residual of the intercept shifted to its own optimum (``Σ s (y - μ(η + Δ)) = 0``,
    whose ``y - cθ`` stays in the domain for every ``c <= 1``: nearly separable labels
    leave the additive one at ``c = 0``)."""
    X, w, s, groups, gw = _setup(X, w, sw, groups, group_weights)
    y = np.asarray(y, np.float64)
    eta = X @ w + b
    r = y - _mean(family, eta)
    cands = [r - s @ r / s.sum()] if fit_intercept else [r]
    if fit_intercept:
        cands.append(y - _mean(family, eta + _intercept_shift(family, y, eta, s)))
    D = max(_dual(family, X, y, s, c, alpha, l1_ratio, pf_l1, pf_l2, groups, gw)
            for c in cands)
    P = glm_primal(family, X, y, w, b, alpha, l1_ratio, sw, pf_l1, pf_l2, groups,
                   group_weights)
    return P - float(D)


def _intercept_shift(family, y, eta, s):
    """``Δ`` with ``Σ s (y - μ(η + Δ)) = 0`` (the intercept's own optimum given ``Xw``)."""
    from scipy.optimize import brentq
    if family == "poisson":
        return float(np.log(s @ y / (s @ np.exp(eta))))
    f = lambda d: float(s @ (y - expit(eta + d)))  # noqa: E731  (decreasing in d)
    lo, hi = -1.0, 1.0
    while f(lo) < 0:
        lo *= 2
    while f(hi) > 0:
        hi *= 2
    return brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)


def _dual(family, X, y, s, r, alpha, l1_ratio, pf_l1, pf_l2, groups, gw):
    """``D(c r)`` for ``θ = r`` scaled by the largest feasible ``c <= 1``."""
    p = X.shape[1]
    W = s.sum()
    f1 = np.ones(p) if pf_l1 is None else np.asarray(pf_l1, np.float64)
    f2 = np.ones(p) if pf_l2 is None else np.asarray(pf_l2, np.float64)
    z = X.T @ (s * r) / W
    c = 1.0
    # the conjugate's domain: y - cθ in [0, 1] (binomial) or >= 0 (Poisson)
    with np.errstate(divide="ignore", invalid="ignore"):
        if family == "binomial":
            lim = np.where(r > 0, y / r, np.where(r < 0, (1 - y) / -r, np.inf))
        else:
            lim = np.where(r > 0, y / r, np.inf)
    c = min(c, float(lim.min()))
    ridge_conj = 0.0
    if groups is None:
        l1, l2 = alpha * l1_ratio * f1, alpha * (1 - l1_ratio) * f2
        box = (l2 == 0) & (np.abs(z) > 0)
        if box.any():
            c = min(c, float(np.min(l1[box] / np.abs(z[box]))))
        ridge = l2 > 0
        e = np.maximum(np.abs(c * z[ridge]) - l1[ridge], 0)
        ridge_conj = float(np.sum(e * e / (2 * l2[ridge])))
    else:
        for g, cg in zip(groups, gw):
            if _group_ok(c, z[g], alpha, l1_ratio, cg):
                continue
            lo, hi = 0.0, c
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if _group_ok(mid, z[g], alpha, l1_ratio, cg) else (lo, mid)
            c = lo
        in_group = np.zeros(p, bool)
        for g in groups:
            in_group[g] = True
        assert in_group.all(), "the oracle needs every feature in a group"
    q = y - c * r
    q = np.clip(q, 0, 1) if family == "binomial" else np.maximum(q, 0)
    return float(-s @ _h(family, q) / W - ridge_conj)


def glm_null_deviance(family, y, sw=None):
    """Half the intercept-only deviance (the unit of ``tol``)."""
    y = np.asarray(y, np.float64)
    s = np.ones_like(y) if sw is None else np.asarray(sw, np.float64)
    m = s @ y / s.sum()
    b = np.log(m / (1 - m)) if family == "binomial" else np.log(m)
    sat = 0.0 if family == "binomial" else s @ (y - xlogy(y, y)) / s.sum()
    return float(s @ _loss(family, y, np.full_like(y, b)) / s.sum() - sat)
