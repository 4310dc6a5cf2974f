"""Independent certificate oracle for the elastic net and the sparse-group lasso.

Pure NumPy, float64 throughout; it never imports ``sklearn_normpen``. Everything here is on
the package scale (``n`` rows, sample weights ``s`` (default 1), ``W = Σ s``, unpenalised
intercept ``b``)::

    enet:  P(w, b) = 1/(2W) Σ s_i (y_i - x_iᵀw - b)²
                     + Σ_j alpha (rho f1_j |w_j| + (1 - rho)/2 f2_j w_j²)    [+ w >= 0]
    sgl:   P(w, b) = 1/(2W) Σ s_i (y_i - x_iᵀw - b)²
                     + alpha Σ_g (rho ||σ_g w_g||_1 + (1 - rho) c_g ||σ_g w_g||_2)

``f1``/``f2`` are per-feature l1/l2 factors (``standardize`` is ``f1 = f σ``, ``f2 = f σ²``,
see :func:`enet_factors`); features flagged ``excluded`` (e.g. constant columns under
``standardize``) are fixed at 0 (a non-zero coefficient makes the point infeasible: P = inf).
In the sparse-group lasso, features in no group and groups of weight 0 are unpenalised and
``σ`` (``col_scale``) is the standardisation scale (1 by default).

Duality gap (what the package must certify): for any ``r̂`` with ``Σ s r̂ = 0`` (if there is
an intercept),

    P* >= D(r̂) = <y, r̂>_S / W - ||r̂||²_S / (2W) - Σ_j g_j*(x_jᵀ S r̂ / W)

where ``g_j`` is feature j's penalty (``g*`` its convex conjugate). The oracle takes
``r̂ = c·Π r`` with ``r`` the residual at the point, ``Π`` the S-orthogonal projection off
span{1 (intercept), unpenalised columns} (so the equality constraints of the dual hold
exactly rather than being "corrected"), and ``c >= 0`` the best scaling that keeps every
pure-l1 feature (or group) dual feasible. ``P(w, b) - D(c Π r)`` is then a valid upper bound
on ``P(w, b) - P*`` for every ``c`` in the feasible range, whatever the point.

:func:`reference_optimum_cvxpy` / :func:`reference_optimum_sgl_cvxpy` solve the same
problems with cvxpy + Clarabel at tight tolerances (on centred, column-scaled data) and
return ``P*`` as the objective at the (feasibility-clipped) solution — an upper bound on the
true optimum that is within ~1e-10·D0 of it (checked by the oracle's own gap, see
``info["gap"]``).
"""
import hashlib

import numpy as np
import scipy.sparse as sp

__all__ = ["null_deviance", "enet_factors", "enet_primal", "enet_gap", "enet_kkt",
           "enet_alpha_max", "sgl_primal", "sgl_gap", "sgl_kkt", "sgl_alpha_max",
           "reference_optimum_cvxpy", "reference_optimum_sgl_cvxpy"]


# ---------------------------------------------------------------------------------------
# data preparation (float64, exact weighted centring)
# ---------------------------------------------------------------------------------------

def _dense64(X):
    if sp.issparse(X):
        return np.asarray(X.toarray(), dtype=np.float64)
    return np.array(X, dtype=np.float64)


class _Data:
    """float64 copy of the problem data, weighted-centred when there is an intercept.

    Centring is exact up to rounding of ``X - x̄`` (Sterbenz: exact for columns whose spread
    is small relative to their mean) and refined once so that ``Σ s (x - x̄) ≈ 0`` to
    rounding of the centred values, not of the raw ones.
    """

    def __init__(self, X, y, sw, fit_intercept):
        X = _dense64(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        n, p = X.shape
        s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64).ravel()
        if s.shape != (n,) or np.any(s < 0) or not np.all(np.isfinite(s)):
            raise ValueError("bad sample weights")
        W = float(s.sum())
        xm = np.zeros(p)
        ym = 0.0
        Xc, yc = X, y
        if fit_intercept:
            xm = s @ X / W
            ym = float(s @ y) / W
            Xc = X - xm
            yc = y - ym
            d = s @ Xc / W          # refinement: the rounding of the first mean
            Xc = Xc - d
            xm = xm + d
            dy = float(s @ yc) / W
            yc = yc - dy
            ym = ym + dy
        self.X, self.y, self.s, self.W = X, y, s, W
        self.Xc, self.yc, self.xm, self.ym = Xc, yc, xm, ym
        self.fit_intercept = bool(fit_intercept)
        self.n, self.p = n, p

    def D0(self):
        """The unit of ``tol``: ``||y - ȳ||²_S/(2W)`` (intercept) or ``||y||²_S/(2W)``."""
        return float(self.s @ (self.yc * self.yc)) / (2 * self.W)

    def residual(self, w, b=None):
        """``y - X w - b`` in float64, computed on the centred data. ``b=None``: the optimal
        (closed-form) intercept ``ȳ - x̄ᵀw`` (0 without an intercept)."""
        w = np.asarray(w, dtype=np.float64).ravel()
        r = self.yc - self.Xc @ w
        if self.fit_intercept:
            if b is not None:
                # r_i = y_i - x_iᵀw - b = (y_i - ȳ) - (x_i - x̄)ᵀw - (b - ȳ + x̄ᵀw)
                r = r - (float(b) - self.ym + float(self.xm @ w))
        elif b is not None and float(b) != 0.0:
            r = r - float(b)
        return r

    def loss(self, r):
        with np.errstate(over="ignore", invalid="ignore"):   # huge coefficients: P = inf
            return float(self.s @ (r * r)) / (2 * self.W)

    def grad(self, r):
        """``z = Xcᵀ S r / W`` (centred columns)."""
        return self.Xc.T @ (self.s * r) / self.W

    def project(self, r, cols):
        """S-orthogonal projection of ``r`` off span{1 (intercept), Xc[:, cols]}."""
        root = np.sqrt(self.s)
        blocks = []
        if self.fit_intercept:
            blocks.append(np.ones((self.n, 1)))
        if np.any(cols):
            blocks.append(self.Xc[:, cols])
        if not blocks:
            return r.copy()
        A = np.hstack(blocks) * root[:, None]
        out = root * r
        for _ in range(3):  # iterative refinement: orthogonality to rounding level
            beta = np.linalg.lstsq(A, out, rcond=None)[0]
            out = out - A @ beta
        with np.errstate(divide="ignore", invalid="ignore"):
            res = np.where(root > 0, out / np.where(root > 0, root, 1), 0.0)
        return res


def null_deviance(X, y, sample_weight=None, fit_intercept=True):
    """``D0``: ``||y - ȳ||²_S/(2W)`` with an intercept, ``||y||²_S/(2W)`` without."""
    return _Data(X, y, sample_weight, fit_intercept).D0()


def _vec(v, p, default):
    if v is None:
        return np.full(p, float(default))
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.shape != (p,):
        raise ValueError(f"expected shape ({p},), got {v.shape}")
    return v


def weighted_std(X, sample_weight=None):
    """Weighted std (1/W, about the weighted mean) of every column, float64, and the mask of
    exactly constant columns (max == min)."""
    d = _Data(X, np.zeros(X.shape[0]), sample_weight, True)
    var = d.s @ (d.Xc * d.Xc) / d.W
    sigma = np.sqrt(np.maximum(var, 0))
    const = (d.X.max(axis=0) == d.X.min(axis=0)) | (sigma == 0)
    return np.where(const, 0.0, sigma), const


def enet_factors(X, sample_weight=None, penalty_factor=None, standardize=False):
    """``(pf_l1, pf_l2, excluded)`` on the original scale for the package's options.

    ``standardize``: penalise as if each column were divided by its weighted std σ_j, i.e.
    l1 factor ``f_j σ_j`` and l2 factor ``f_j σ_j²``; constant columns are excluded (their
    coefficient must be 0)."""
    p = X.shape[1]
    f = _vec(penalty_factor, p, 1.0)
    if not standardize:
        return f.copy(), f.copy(), np.zeros(p, dtype=bool)
    sigma, const = weighted_std(X, sample_weight)
    return f * sigma, f * sigma ** 2, const


# ---------------------------------------------------------------------------------------
# elastic net
# ---------------------------------------------------------------------------------------

class _Enet:
    """Box limits ``lo <= w <= up`` (``lo <= 0 <= up``): the per-feature penalty becomes
    ``g_j = lam1|w| + lam2 w²/2 + ι_[lo, up]``, whose conjugate is
    ``g_j*(z) = max_{lo <= w <= up} z w - g_j(w)``, evaluated here by its maximiser
    ``w*(z) = clip(S(z, lam1)/lam2, lo, up)`` (``lam2 = 0``: the bound on the side of z's
    sign, or 0 when |z| <= lam1)."""

    def __init__(self, X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept,
                 excluded, lower=None, upper=None):
        self.d = _Data(X, y, sw, fit_intercept)
        p = self.d.p
        self.alpha, self.rho = float(alpha), float(l1_ratio)
        self.lam1 = self.alpha * self.rho * _vec(pf_l1, p, 1.0)
        self.lam2 = self.alpha * (1 - self.rho) * _vec(pf_l2, p, 1.0)
        if np.any(self.lam1 < 0) or np.any(self.lam2 < 0):
            raise ValueError("negative penalty")
        self.lo = _vec(lower, p, -np.inf)
        self.up = _vec(upper, p, np.inf)
        if positive:
            self.lo = np.maximum(self.lo, 0.0)
        self.box = lower is not None or upper is not None
        if self.box and positive:
            raise ValueError("pass lower=0 instead of positive with limits")
        self.positive = bool(positive)
        self.excluded = (np.zeros(p, dtype=bool) if excluded is None
                         else np.asarray(excluded, dtype=bool).ravel().copy())
        self.unpen = (self.lam1 == 0) & (self.lam2 == 0) & ~self.excluded
        self.pure_l1 = (self.lam1 > 0) & (self.lam2 == 0) & ~self.excluded
        self.l2feat = (self.lam2 > 0) & ~self.excluded

    def feasible(self, w):
        if not np.all(np.isfinite(w)):
            return False
        if self.positive and np.any(w < 0):
            return False
        if np.any(w < self.lo) or np.any(w > self.up):
            return False
        return not np.any(w[self.excluded] != 0)

    def penalty(self, w):
        return float(self.lam1 @ np.abs(w) + 0.5 * self.lam2 @ (w * w))

    def primal(self, w, b=None):
        w = np.asarray(w, dtype=np.float64).ravel()
        if not self.feasible(w):
            return np.inf
        return self.d.loss(self.d.residual(w, b)) + self.penalty(w)

    def _box_argmax(self, z):
        """``w*(z)`` (class docstring), for the penalised features; 0 elsewhere."""
        m = ~self.excluded & ~self.unpen
        w = np.zeros_like(z)
        zz, l1, l2 = z[m], self.lam1[m], self.lam2[m]
        soft = np.sign(zz) * np.maximum(np.abs(zz) - l1, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(l2 > 0, soft / np.where(l2 > 0, l2, 1.0),
                         np.where(soft > 0, self.up[m], np.where(soft < 0, self.lo[m], 0.0)))
        w[m] = np.clip(v, self.lo[m], self.up[m])
        return w

    def conj(self, z):
        """Σ_j g_j*(z_j) over the features with an l2 term (the others are constraints)."""
        if self.box:
            w = self._box_argmax(z)
            ok = w != 0  # w* = 0 contributes 0 (and avoids inf·0 on unbounded sides)
            return float(np.sum(z[ok] * w[ok] - self.lam1[ok] * np.abs(w[ok])
                                - 0.5 * self.lam2[ok] * w[ok] ** 2))
        m = self.l2feat
        u = z[m]
        if self.positive:
            e = np.maximum(u - self.lam1[m], 0)
        else:
            e = np.maximum(np.abs(u) - self.lam1[m], 0)
        return float(np.sum(e * e / (2 * self.lam2[m])))

    def conj_deriv(self, z):
        """Σ_j z_j g_j*'(z_j) (directional derivative of Σ g*(c z) in c, at c = 1)."""
        if self.box:  # Danskin: g*'(z) = w*(z)
            return float(z @ self._box_argmax(z))
        m = self.l2feat
        u = z[m]
        if self.positive:
            e = np.maximum(u - self.lam1[m], 0)
            return float(np.sum(u * e / self.lam2[m]))
        e = np.maximum(np.abs(u) - self.lam1[m], 0)
        return float(np.sum(np.abs(u) * e / self.lam2[m]))

    def dual_point(self, r, w):
        """``(r̂, z)``: the residual projected off the equality-constrained directions."""
        d = self.d
        cols = self.unpen & ((not self.positive) | (w > 0))
        for _ in range(self.d.p + 1):
            rh = d.project(r, cols)
            z = d.grad(rh)
            if not self.positive:
                break
            # positive & unpenalised at 0: need z_j <= 0 (one-sided); else constrain it too
            bad = self.unpen & ~cols & (z > 0)
            if not bad.any():
                break
            cols = cols | bad
        return rh, z

    def c_max(self, z):
        """Largest c with c·z dual feasible for every pure-l1 feature."""
        m = self.pure_l1
        if not m.any():
            return np.inf
        if self.box:  # only unbounded sides constrain the dual point
            zz = np.maximum(np.where(np.isinf(self.up[m]), z[m], 0.0),
                            np.where(np.isinf(self.lo[m]), -z[m], 0.0))
        else:
            zz = z[m] if self.positive else np.abs(z[m])
        lam = self.lam1[m]
        with np.errstate(divide="ignore"):
            ratio = np.where(zz > 0, lam / np.where(zz > 0, zz, 1), np.inf)
        cm = float(np.min(ratio))
        return cm * (1 - 8 * np.finfo(float).eps) if np.isfinite(cm) else np.inf

    def dual_value(self, c, a, q, z):
        return c * a - c * c * q - self.conj(c * z)

    def gap(self, w, b=None, return_parts=False):
        w = np.asarray(w, dtype=np.float64).ravel()
        d = self.d
        P = self.primal(w, b)
        if not np.isfinite(P):
            return (np.inf, dict(P=P, D=-np.inf, c=0.0)) if return_parts else np.inf
        r = d.residual(w, b)
        rh, z = self.dual_point(r, w)
        a = float(d.s @ (d.yc * rh)) / d.W
        q = float(d.s @ (rh * rh)) / (2 * d.W)
        cm = self.c_max(z)
        cands = [0.0]
        if q > 0 and a > 0:
            hi = min(cm, a / (2 * q))
            lo = 0.0
            # D is concave in c: bisect on its derivative a - 2cq - Σ z g*'(cz)
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                if mid in (lo, hi):
                    break
                der = a - 2 * mid * q - self.conj_deriv(mid * z) / mid if mid > 0 else a
                if der > 0:
                    lo = mid
                else:
                    hi = mid
            cands += [lo, min(1.0, cm)]
        cands = [c for c in cands if 0 <= c <= cm]
        vals = [self.dual_value(c, a, q, z) for c in cands]
        k = int(np.argmax(vals))
        G = P - vals[k]
        if return_parts:
            return G, dict(P=P, D=vals[k], c=cands[k], z=z, D0=d.D0())
        return G

    def kkt(self, w, b=None, per_feature=False):
        w = np.asarray(w, dtype=np.float64).ravel()
        z = self.d.grad(self.d.residual(w, b))
        lam1, lam2 = self.lam1, self.lam2
        v = np.zeros_like(z)
        nz = w != 0
        # w_j != 0: z_j must equal lam1 sign(w_j) + lam2 w_j
        v[nz] = np.abs(z[nz] - lam1[nz] * np.sign(w[nz]) - lam2[nz] * w[nz])
        zero = ~nz
        if self.box:
            # at 0: only the open sides may be violated; at a bound, the normal cone opens
            up_open, lo_open = self.up > 0, self.lo < 0
            v[zero] = np.maximum(np.where(up_open, z - lam1, 0),
                                 np.where(lo_open, -z - lam1, 0))[zero]
            at_up = nz & (w == self.up)
            at_lo = nz & (w == self.lo)
            v[at_up] = np.maximum(lam1 + lam2 * w - z, 0)[at_up]
            v[at_lo] = np.maximum(z + lam1 - lam2 * w, 0)[at_lo]
            v[(w > self.up) | (w < self.lo)] = np.inf
        elif self.positive:
            v[zero] = np.maximum(z[zero] - lam1[zero], 0)
            v[w < 0] = np.inf
        else:
            v[zero] = np.maximum(np.abs(z[zero]) - lam1[zero], 0)
        v[self.excluded] = np.where(w[self.excluded] != 0, np.inf, 0.0)
        return v if per_feature else float(v.max(initial=0.0))


def enet_primal(X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
                positive=False, fit_intercept=True, excluded=None, lower=None, upper=None):
    """``P(w, b)`` (package scale); ``b=None`` uses the optimal intercept ``ȳ - x̄ᵀw`` (0
    without intercept). ``inf`` if ``w`` is infeasible (negative with ``positive``, or
    non-zero on an ``excluded`` feature)."""
    return _Enet(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept,
                 excluded, lower, upper).primal(w, b)


def enet_gap(X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None, positive=False,
             fit_intercept=True, excluded=None, lower=None, upper=None, return_parts=False):
    """A valid upper bound on ``P(w, b) - P*`` (see the module docstring)."""
    return _Enet(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept,
                 excluded, lower, upper).gap(w, b, return_parts)


def enet_kkt(X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None, positive=False,
             fit_intercept=True, excluded=None, lower=None, upper=None, per_feature=False):
    """Largest ``dist(x_jᵀ S r / W, ∂g_j(w_j))`` (package scale), ``r`` the residual at
    ``(w, b)`` (``b=None``: optimal intercept). ``inf`` for an infeasible coefficient."""
    return _Enet(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept,
                 excluded, lower, upper).kkt(w, b, per_feature)


def enet_alpha_max(X, y, l1_ratio, sw=None, pf_l1=None, fit_intercept=True, excluded=None):
    """Smallest alpha at which every penalised coefficient is 0 (unpenalised features and
    the intercept fitted; two-sided, i.e. ignoring ``positive``). 1.0 if nothing is
    penalised."""
    d = _Data(X, y, sw, fit_intercept)
    f1 = _vec(pf_l1, d.p, 1.0)
    exc = np.zeros(d.p, bool) if excluded is None else np.asarray(excluded, bool)
    unpen = (f1 == 0) & ~exc
    r = d.project(d.yc, unpen)
    z = d.grad(r)
    m = (f1 > 0) & ~exc
    if not m.any():
        return 1.0
    return float(np.max(np.abs(z[m]) / (l1_ratio * f1[m])))


# ---------------------------------------------------------------------------------------
# sparse-group lasso
# ---------------------------------------------------------------------------------------

class _SGL:
    def __init__(self, X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept,
                 col_scale):
        self.d = _Data(X, y, sw, fit_intercept)
        p = self.d.p
        self.alpha, self.rho = float(alpha), float(l1_ratio)
        self.groups = [np.asarray(g, dtype=np.intp).ravel() for g in groups]
        cw = (np.sqrt([len(g) for g in self.groups]) if group_weights is None
              else np.asarray(group_weights, dtype=np.float64).ravel())
        if cw.shape != (len(self.groups),):
            raise ValueError("one group weight per group")
        self.cw = cw
        self.sigma = _vec(col_scale, p, 1.0)
        self.excluded = self.sigma == 0
        owner = np.full(p, -1)
        for k, g in enumerate(self.groups):
            if np.any(owner[g] >= 0):
                raise ValueError("overlapping groups")
            owner[g] = k
        self.owner = owner
        pen_group = cw > 0
        self.pen_groups = [k for k in range(len(self.groups)) if pen_group[k]]
        penalised = np.zeros(p, dtype=bool)
        for k in self.pen_groups:
            penalised[self.groups[k]] = True
        self.unpen = ~penalised & ~self.excluded
        self.lam1 = self.alpha * self.rho
        self.lam2 = self.alpha * (1 - self.rho) * cw

    def penalty(self, w):
        u = self.sigma * w
        tot = 0.0
        for k in self.pen_groups:
            ug = u[self.groups[k]]
            tot += self.lam1 * np.abs(ug).sum() + self.lam2[k] * np.sqrt(ug @ ug)
        return float(tot)

    def primal(self, w, b=None):
        w = np.asarray(w, dtype=np.float64).ravel()
        if not np.all(np.isfinite(w)) or np.any(w[self.excluded] != 0):
            return np.inf
        with np.errstate(over="ignore", invalid="ignore"):   # huge coefficients: P = inf
            return self.d.loss(self.d.residual(w, b)) + self.penalty(w)

    def _tmax(self, zg, k):
        """Largest t with ||S(t z_g, lam1)||_2 <= lam2_g (bisection; feasible end)."""
        lam1, lam2 = self.lam1, self.lam2[k]
        m = float(np.max(np.abs(zg), initial=0.0))
        if m == 0:
            return np.inf
        if lam1 == 0:
            return lam2 / float(np.sqrt(zg @ zg))
        lo = lam1 / m                 # soft-threshold is 0 there: feasible
        hi = (lam1 + lam2) / m        # the largest entry alone exceeds lam2 beyond this
        if lam2 == 0:
            return lo * (1 - 8 * np.finfo(float).eps)
        a = np.abs(zg)

        def f(t):
            e = np.maximum(t * a - lam1, 0)
            return float(np.sqrt(e @ e))
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            if f(mid) <= lam2:
                lo = mid
            else:
                hi = mid
        while f(lo) > lam2:           # rounding guard: stay on the feasible side
            lo *= 1 - 8 * np.finfo(float).eps
        return lo

    def gap(self, w, b=None, return_parts=False):
        w = np.asarray(w, dtype=np.float64).ravel()
        d = self.d
        P = self.primal(w, b)
        if not np.isfinite(P):
            return (np.inf, dict(P=P, D=-np.inf, c=0.0)) if return_parts else np.inf
        r = d.residual(w, b)
        rh = d.project(r, self.unpen)
        # conjugate variable of the standardised coefficients u = σ w: z/σ
        z = d.grad(rh)
        zs = np.where(self.excluded, 0.0, z / np.where(self.excluded, 1.0, self.sigma))
        cm = np.inf
        for k in self.pen_groups:
            g = self.groups[k]
            g = g[~self.excluded[g]]
            if g.size:
                cm = min(cm, self._tmax(zs[g], k))
        a = float(d.s @ (d.yc * rh)) / d.W
        q = float(d.s @ (rh * rh)) / (2 * d.W)
        c = 0.0
        if q > 0 and a > 0:
            c = min(a / (2 * q), cm)
        D = c * a - c * c * q
        if return_parts:
            return P - D, dict(P=P, D=D, c=c, D0=d.D0())
        return P - D

    def kkt(self, w, b=None, per_group=False):
        w = np.asarray(w, dtype=np.float64).ravel()
        z = self.d.grad(self.d.residual(w, b))
        u = self.sigma * w
        zs = np.where(self.excluded, 0.0, z / np.where(self.excluded, 1.0, self.sigma))
        out = []
        if np.any(w[self.excluded] != 0):
            out.append(np.inf)
        un = self.unpen
        out.append(float(np.max(np.abs(z[un]), initial=0.0)))
        for k in self.pen_groups:
            g = self.groups[k]
            g = g[~self.excluded[g]]
            ug, zg = u[g], zs[g]
            nrm = float(np.sqrt(ug @ ug))
            if nrm == 0:
                e = np.maximum(np.abs(zg) - self.lam1, 0)
                out.append(max(float(np.sqrt(e @ e)) - self.lam2[k], 0.0))
            else:
                v = np.where(ug != 0,
                             zg - self.lam1 * np.sign(ug) - self.lam2[k] * ug / nrm,
                             np.maximum(np.abs(zg) - self.lam1, 0))
                out.append(float(np.sqrt(v @ v)))
        return np.array(out) if per_group else float(max(out))


def sgl_primal(X, y, w, b, alpha, l1_ratio, groups, group_weights=None, sw=None,
               fit_intercept=True, col_scale=None):
    """Sparse-group lasso objective (package scale); ``col_scale`` σ: the penalty applies to
    ``σ ⊙ w`` (standardize), ``σ_j = 0`` forces ``w_j = 0``."""
    return _SGL(X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept,
                col_scale).primal(w, b)


def sgl_gap(X, y, w, b, alpha, l1_ratio, groups, group_weights=None, sw=None,
            fit_intercept=True, col_scale=None, return_parts=False):
    """A valid upper bound on ``P(w, b) - P*`` for the sparse-group lasso: residual projected
    off span{1, unpenalised columns}, scaled by the largest ``c`` with
    ``||S(c z_g, alpha rho)||_2 <= alpha (1 - rho) c_g`` for every penalised group (found
    by bisection), then the best ``c`` in that range (closed form: D is quadratic)."""
    return _SGL(X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept,
                col_scale).gap(w, b, return_parts)


def sgl_kkt(X, y, w, b, alpha, l1_ratio, groups, group_weights=None, sw=None,
            fit_intercept=True, col_scale=None):
    """Largest group-wise KKT violation (2-norm of the distance to the subdifferential)."""
    return _SGL(X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept,
                col_scale).kkt(w, b)


def sgl_alpha_max(X, y, l1_ratio, groups, group_weights=None, sw=None, fit_intercept=True,
                  col_scale=None):
    """Smallest alpha at which every penalised group is 0 (by bisection on alpha)."""
    pb = _SGL(X, y, 1.0, l1_ratio, groups, group_weights, sw, fit_intercept, col_scale)
    d = pb.d
    z = d.grad(d.project(d.yc, pb.unpen))
    zs = np.where(pb.excluded, 0.0, z / np.where(pb.excluded, 1.0, pb.sigma))
    rho = float(l1_ratio)
    amax = 0.0
    for k in pb.pen_groups:
        g = pb.groups[k]
        a = np.abs(zs[g])
        c = pb.cw[k]
        if rho == 0:
            amax = max(amax, float(np.sqrt(a @ a)) / c)
            continue

        def feasible(al):
            e = np.maximum(a - al * rho, 0)
            return float(np.sqrt(e @ e)) <= al * (1 - rho) * c
        lo, hi = 0.0, float(a.max(initial=0.0)) / rho
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (lo, mid) if feasible(mid) else (mid, hi)
        amax = max(amax, hi)
    return amax


# ---------------------------------------------------------------------------------------
# cvxpy + Clarabel references
# ---------------------------------------------------------------------------------------

_CACHE = {}


def _key(*parts):
    h = hashlib.sha1()
    for p in parts:
        if p is None:
            h.update(b"None")
        elif isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode() + str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        elif isinstance(p, (list, tuple)):
            h.update(b"[" + _key(*p).encode() + b"]")
        else:
            h.update(repr(p).encode())
    return h.hexdigest()


def _scaled_design(d):
    """``A = sqrt(s/W) Xc / colnorm``, ``rhs = sqrt(s/W) yc``, ``colnorm``: the loss is
    ``0.5 ||rhs - A u||²`` with ``w = u / colnorm``; objectives divided by ``scale``."""
    root = np.sqrt(d.s / d.W)
    A = d.Xc * root[:, None]
    nrm = np.sqrt((A * A).sum(axis=0))
    nrm = np.where(nrm > 0, nrm, 1.0)
    A = A / nrm
    rhs = d.yc * root
    scale = max(float(rhs @ rhs) / 2, 1e-300)
    return A, rhs, nrm, scale


def _clarabel_solve(prob):
    import warnings

    import cvxpy as cp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Solution may be inaccurate": checked by the gap
        return _clarabel_try(prob, cp)


def _clarabel_try(prob, cp):
    for opts in (dict(tol_gap_abs=1e-13, tol_gap_rel=1e-13, tol_feas=1e-13,
                      tol_ktratio=1e-10, max_iter=400),
                 dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, max_iter=400),
                 dict()):
        try:
            prob.solve(solver=cp.CLARABEL, **opts)
        except cp.error.SolverError:
            continue
        if prob.status in ("optimal", "optimal_inaccurate"):
            return True
    return False


def reference_optimum_cvxpy(X, y, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
                            positive=False, fit_intercept=True, excluded=None,
                            return_info=False, lower=None, upper=None):
    """``P*`` of the elastic net by cvxpy + Clarabel (tight tolerances).

    Solved on the weighted-centred data (the intercept is then exactly eliminated), with
    unit-norm columns for conditioning; the solution is clipped to the feasible set and
    ``P*`` is the oracle's primal at it (a feasible value: ``P* <= returned``; the oracle gap
    at it, ``info["gap"]``, bounds the difference). ``return_info=True`` also returns
    ``dict(w=, b=, gap=, D=)``.
    """
    key = _key("enet", _dense64(X), np.asarray(y, np.float64), alpha, l1_ratio,
               None if sw is None else np.asarray(sw, np.float64),
               None if pf_l1 is None else np.asarray(pf_l1, np.float64),
               None if pf_l2 is None else np.asarray(pf_l2, np.float64), positive,
               fit_intercept, None if excluded is None else np.asarray(excluded, bool),
               None if lower is None else np.asarray(lower, np.float64),
               None if upper is None else np.asarray(upper, np.float64))
    if key not in _CACHE:
        _CACHE[key] = _enet_reference(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive,
                                      fit_intercept, excluded, lower, upper)
    Pstar, info = _CACHE[key]
    return (Pstar, dict(info)) if return_info else Pstar


def _enet_reference(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept,
                    excluded, lower=None, upper=None):
    import cvxpy as cp
    pb = _Enet(X, y, alpha, l1_ratio, sw, pf_l1, pf_l2, positive, fit_intercept, excluded,
               lower, upper)
    d = pb.d
    A, rhs, nrm, scale = _scaled_design(d)
    keep = ~pb.excluded
    A = A[:, keep]
    l1 = pb.lam1[keep] / nrm[keep] / scale
    l2 = pb.lam2[keep] / nrm[keep] ** 2 / scale
    w = np.zeros(d.p)
    if keep.any():
        u = cp.Variable(int(keep.sum()), nonneg=bool(positive))
        obj = (cp.sum_squares(A @ u - rhs) / (2 * scale) + l1 @ cp.abs(u)
               + 0.5 * cp.sum(cp.multiply(l2, cp.square(u))))
        cons = []
        if pb.box:  # in the scaled variable u = w·nrm
            lo, up = pb.lo[keep] * nrm[keep], pb.up[keep] * nrm[keep]
            fl, fu = np.isfinite(lo), np.isfinite(up)
            cons = ([u[np.flatnonzero(fl)] >= lo[fl]] if fl.any() else []) + \
                   ([u[np.flatnonzero(fu)] <= up[fu]] if fu.any() else [])
        prob = cp.Problem(cp.Minimize(obj), cons)
        if not _clarabel_solve(prob) or u.value is None:
            raise RuntimeError("cvxpy/Clarabel failed on the reference problem")
        w[keep] = np.asarray(u.value).ravel() / nrm[keep]
        if positive:
            w = np.maximum(w, 0)
        w = np.clip(w, pb.lo, pb.up)
    w = _enet_polish(pb, w)
    b = (d.ym - float(d.xm @ w)) if fit_intercept else 0.0
    P = pb.primal(w)
    G, parts = pb.gap(w, return_parts=True)
    return P, dict(w=w, b=b, gap=G, D=parts["D"], D0=d.D0())


def _enet_polish(pb, w, max_epochs=3000):
    """Cyclic coordinate descent from the Clarabel solution (float64, explicit residual),
    kept only if it lowers the oracle gap: Clarabel leaves ~1e-12 entries where the
    solution is 0 and sometimes stops at ~1e-7 relative accuracy."""
    d = pb.d
    target = 1e-14 * max(d.D0(), 1e-300)
    best_w, best_G = w.copy(), pb.gap(w)
    if best_G <= target:
        return best_w
    w = w.copy()
    h = d.s @ (d.Xc * d.Xc) / d.W
    r = d.residual(w)
    Xs = d.Xc * (d.s / d.W)[:, None]
    active = ~pb.excluded & (h > 0)
    idx = np.flatnonzero(active)
    for ep in range(max_epochs):
        for j in idx:
            old = w[j]
            u = old + float(Xs[:, j] @ r) / h[j]
            t = pb.lam1[j] / h[j]
            v = np.sign(u) * max(abs(u) - t, 0.0) / (1 + pb.lam2[j] / h[j])
            if pb.positive:
                v = max(v, 0.0)
            v = min(max(v, pb.lo[j]), pb.up[j])
            if v != old:
                r -= (v - old) * d.Xc[:, j]
                w[j] = v
        if ep % 20 == 19:
            r = d.residual(w)
            G = pb.gap(w)
            if G < best_G:
                best_w, best_G = w.copy(), G
            if G <= target:
                break
    return best_w


def reference_optimum_sgl_cvxpy(X, y, alpha, l1_ratio, groups, group_weights=None, sw=None,
                                fit_intercept=True, col_scale=None, return_info=False):
    """``P*`` of the sparse-group lasso by cvxpy + Clarabel (as
    :func:`reference_optimum_cvxpy`)."""
    key = _key("sgl", _dense64(X), np.asarray(y, np.float64), alpha, l1_ratio,
               [np.asarray(g, np.intp) for g in groups],
               None if group_weights is None else np.asarray(group_weights, np.float64),
               None if sw is None else np.asarray(sw, np.float64), fit_intercept,
               None if col_scale is None else np.asarray(col_scale, np.float64))
    if key not in _CACHE:
        _CACHE[key] = _sgl_reference(X, y, alpha, l1_ratio, groups, group_weights, sw,
                                     fit_intercept, col_scale)
    Pstar, info = _CACHE[key]
    return (Pstar, dict(info)) if return_info else Pstar


def _sgl_reference(X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept,
                   col_scale):
    import cvxpy as cp
    pb = _SGL(X, y, alpha, l1_ratio, groups, group_weights, sw, fit_intercept, col_scale)
    d = pb.d
    A, rhs, nrm, scale = _scaled_design(d)
    p = d.p
    keep = ~pb.excluded
    u = cp.Variable(p)  # w = u / nrm; excluded columns pinned at 0
    cons = [u[np.flatnonzero(~keep)] == 0] if (~keep).any() else []
    # penalty on σ w = (σ / nrm) u
    m = pb.sigma / nrm
    terms = [cp.sum_squares(A @ u - rhs) / (2 * scale)]
    for k in pb.pen_groups:
        g = pb.groups[k]
        v = cp.multiply(m[g], u[g])
        terms.append((pb.lam1 / scale) * cp.norm1(v) + (pb.lam2[k] / scale) * cp.norm2(v))
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms)) if len(terms) > 1 else terms[0]),
                      cons)
    if not _clarabel_solve(prob) or u.value is None:
        raise RuntimeError("cvxpy/Clarabel failed on the reference problem")
    w = np.asarray(u.value).ravel() / nrm
    w[pb.excluded] = 0.0
    w = _sgl_polish(pb, w)
    b = (d.ym - float(d.xm @ w)) if fit_intercept else 0.0
    P = pb.primal(w)
    G, parts = pb.gap(w, return_parts=True)
    return P, dict(w=w, b=b, gap=G, D=parts["D"], D0=d.D0())


def _sgl_polish(pb, w, max_epochs=3000):
    """Block proximal-gradient descent (one exact-step block per group, step 1/L_g) from the
    Clarabel solution, kept only if it lowers the oracle gap (as :func:`_enet_polish`)."""
    d = pb.d
    target = 1e-14 * max(d.D0(), 1e-300)
    best_w, best_G = w.copy(), pb.gap(w)
    if best_G <= target:
        return best_w
    keep = ~pb.excluded
    sig = np.where(keep, pb.sigma, 1.0)
    Xs = d.Xc / sig                      # standardised columns; u = σ w
    u = np.where(keep, w * sig, 0.0)
    blocks = [(pb.groups[k][keep[pb.groups[k]]], k) for k in pb.pen_groups]
    un = np.flatnonzero(pb.unpen)
    if un.size:
        blocks.append((un, None))
    blocks = [(g, k) for g, k in blocks if g.size]
    Ls = []
    for g, _ in blocks:
        Xg = Xs[:, g] * np.sqrt(d.s / d.W)[:, None]
        Ls.append(float(np.linalg.eigvalsh(Xg.T @ Xg)[-1]) if g.size else 0.0)
    r = d.yc - Xs @ u
    for ep in range(max_epochs):
        for (g, k), L in zip(blocks, Ls):
            if L <= 0:
                continue
            old = u[g].copy()
            v = old + (Xs[:, g].T @ (d.s * r)) / d.W / L
            if k is not None:
                v = np.sign(v) * np.maximum(np.abs(v) - pb.lam1 / L, 0)
                nv = float(np.sqrt(v @ v))
                v = v * max(0.0, 1 - pb.lam2[k] / L / nv) if nv > 0 else v
            if np.any(v != old):
                r -= Xs[:, g] @ (v - old)
                u[g] = v
        if ep % 20 == 19:
            r = d.yc - Xs @ u
            wc = np.where(keep, u / sig, 0.0)
            G = pb.gap(wc)
            if G < best_G:
                best_w, best_G = wc, G
            if G <= target:
                break
    return best_w


# ---------------------------------------------------------------------------------------
# binomial (logistic) elastic net
# ---------------------------------------------------------------------------------------
#   P(w, b) = 1/W Σ s_i [log(1 + e^{η_i}) - y_i η_i] + Σ_j alpha (rho f1_j |w_j|
#             + (1 - rho)/2 f2_j w_j²),  η = Xw + b,  y ∈ {0, 1}
#   D(θ) = -1/W Σ s_i H(y_i - θ_i) - Σ_j g_j*(x_jᵀ S θ / W),  H(q) = q log q + (1-q) log(1-q)
# for θ with Σ s θ = 0 (intercept), x_jᵀ S θ = 0 (unpenalised j) and y - θ ∈ [0, 1].

def logistic_primal(X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None):
    X = _dense64(X)
    y = np.asarray(y, np.float64)
    w = np.asarray(w, np.float64).ravel()
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    f1, f2 = _vec(pf_l1, p, 1.0), _vec(pf_l2, p, 1.0)
    eta = X @ w + b
    loss = s @ (np.logaddexp(0, eta) - y * eta) / s.sum()
    return float(loss + alpha * (l1_ratio * f1 @ np.abs(w)
                                 + 0.5 * (1 - l1_ratio) * f2 @ (w * w)))


def logistic_gap(X, y, w, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
                 fit_intercept=True):
    """An independent duality-gap bound: θ = (y - μ) minus its weighted mean (additive
    centring, NOT the package's construction), unpenalised features projected off in
    the S inner product, scaled by the largest c <= 1 keeping every pure-l1 feature dual
    feasible and y - cθ in [0, 1]. Valid for any (w, b)."""
    from scipy.special import expit, xlogy
    X = _dense64(X)
    y = np.asarray(y, np.float64)
    w = np.asarray(w, np.float64).ravel()
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    W = s.sum()
    f1, f2 = _vec(pf_l1, p, 1.0), _vec(pf_l2, p, 1.0)
    l1, l2 = alpha * l1_ratio * f1, alpha * (1 - l1_ratio) * f2
    eta = X @ w + b
    r = y - expit(eta)
    U = np.flatnonzero((l1 == 0) & (l2 == 0))
    A = [np.ones((n, 1))] if fit_intercept else []
    if U.size:
        A.append(X[:, U])
    if A:
        A = np.hstack(A)
        sq = np.sqrt(s)
        beta = np.linalg.lstsq(sq[:, None] * A, sq * r, rcond=None)[0]
        r = r - A @ beta
    z = X.T @ (s * r) / W
    box = (l2 == 0) & (l1 > 0)
    c = 1.0
    if box.any() and np.abs(z[box]).max() > 0:
        c = min(c, float(np.min(np.where(np.abs(z[box]) > 0, l1[box] / np.abs(z[box]),
                                         np.inf))))
    with np.errstate(divide="ignore", invalid="ignore"):
        lim = np.where(r > 0, y / r, np.where(r < 0, (1 - y) / -r, np.inf))
    c = min(c, float(lim.min()))
    q = np.clip(y - c * r, 0, 1)
    ridge = l2 > 0
    e = np.maximum(np.abs(c * z[ridge]) - l1[ridge], 0)
    D = -s @ (xlogy(q, q) + xlogy(1 - q, 1 - q)) / W - np.sum(e * e / (2 * l2[ridge]))
    return logistic_primal(X, y, w, b, alpha, l1_ratio, sw, pf_l1, pf_l2) - float(D)


def reference_optimum_logistic_cvxpy(X, y, alpha, l1_ratio, sw=None, pf_l1=None,
                                     pf_l2=None, fit_intercept=True):
    """``(P*, w, b)`` of the binomial elastic net by cvxpy + Clarabel (exponential cones);
    ``P*`` is the oracle's primal at the solution (an upper bound on the optimum)."""
    import cvxpy as cp
    X = _dense64(X)
    y = np.asarray(y, np.float64)
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    f1, f2 = _vec(pf_l1, p, 1.0), _vec(pf_l2, p, 1.0)
    w = cp.Variable(p)
    b = cp.Variable() if fit_intercept else 0.0
    eta = X @ w + b
    loss = cp.sum(cp.multiply(s, cp.logistic(eta) - cp.multiply(y, eta))) / s.sum()
    pen = alpha * (l1_ratio * cp.sum(cp.multiply(f1, cp.abs(w)))
                   + 0.5 * (1 - l1_ratio) * cp.sum(cp.multiply(f2, cp.square(w))))
    prob = cp.Problem(cp.Minimize(loss + pen))
    assert _clarabel_solve(prob)
    wv = np.asarray(w.value).ravel()
    bv = float(b.value) if fit_intercept else 0.0
    return logistic_primal(X, y, wv, bv, alpha, l1_ratio, sw, pf_l1, pf_l2), wv, bv


# ---------------------------------------------------------------------------------------
# Multi-response Gaussian elastic net (glmnet's mgaussian; scikit-learn's
# MultiTaskElasticNet): coefficients ``coef`` of shape (K, p) as scikit-learn's, row j of
# ``coef.T`` one group
#
#   P(coef, b) = 1/(2W) Σ_i s_i ||y_i - coef x_i - b||²
#                + alpha Σ_j (rho f1_j ||coef[:, j]|| + (1 - rho)/2 f2_j ||coef[:, j]||²)
#
# Dual (any R̂ with Σ s R̂ = 0 and x_uᵀ S R̂ = 0 for unpenalised u):
#   D(R̂) = <Yc, R̂>_S/W - ||R̂||²_S/(2W) - Σ_j h_j*(Xcᵀ S R̂ / W)_j,
#   h_j*(v) = (||v|| - l1_j)_+² / (2 l2_j)  (l2_j > 0),  indicator(||v|| <= l1_j) (l2_j = 0).
# The oracle takes R̂ = c Π R and maximises D over the feasible c (a concave function).
# ---------------------------------------------------------------------------------------

class _MultiTask:
    def __init__(self, X, Y, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
                 fit_intercept=True):
        Y = np.asarray(Y, dtype=np.float64)
        self.cols = [_Data(X, Y[:, k], sw, fit_intercept) for k in range(Y.shape[1])]
        d = self.d = self.cols[0]
        self.Yc = np.column_stack([c.yc for c in self.cols])
        self.ym = np.array([c.ym for c in self.cols])
        p = d.p
        f1 = np.ones(p) if pf_l1 is None else np.asarray(pf_l1, dtype=np.float64)
        f2 = f1 if pf_l2 is None else np.asarray(pf_l2, dtype=np.float64)
        self.lam1 = alpha * l1_ratio * f1
        self.lam2 = alpha * (1 - l1_ratio) * f2
        self.unpen = (self.lam1 == 0) & (self.lam2 == 0)

    def D0(self):
        return float(np.sum(self.d.s @ (self.Yc * self.Yc))) / (2 * self.d.W)

    def residual(self, coef, b=None):
        d = self.d
        Wt = np.asarray(coef, dtype=np.float64).T          # (p, K)
        R = self.Yc - d.Xc @ Wt
        if b is not None and d.fit_intercept:
            R = R - (np.asarray(b, np.float64) - self.ym + d.xm @ Wt)
        elif b is not None:
            R = R - np.asarray(b, np.float64)
        return R

    def primal(self, coef, b=None):
        d = self.d
        R = self.residual(coef, b)
        nrm = np.sqrt(np.sum(np.asarray(coef, np.float64) ** 2, axis=0))
        return (float(np.sum(d.s @ (R * R))) / (2 * d.W)
                + float(self.lam1 @ nrm + 0.5 * self.lam2 @ (nrm * nrm)))

    def gap(self, coef, b=None):
        from scipy.optimize import minimize_scalar
        d = self.d
        R = self.residual(coef, b)
        Rp = np.column_stack([d.project(R[:, k], self.unpen) for k in range(R.shape[1])])
        Z = d.Xc.T @ (d.s[:, None] * Rp) / d.W
        zn = np.sqrt(np.sum(Z * Z, axis=1))
        box = (self.lam2 == 0) & (self.lam1 > 0)
        with np.errstate(divide="ignore"):
            cmax = float(np.min(np.where(box & (zn > 0), self.lam1 / zn, np.inf)))
        yr = float(np.sum(d.s @ (self.Yc * Rp))) / d.W
        rr = float(np.sum(d.s @ (Rp * Rp))) / d.W
        ridge = self.lam2 > 0

        def dual(c):
            a = np.maximum(c * zn[ridge] - self.lam1[ridge], 0)
            return c * yr - 0.5 * c * c * rr - float(np.sum(a * a / (2 * self.lam2[ridge])))

        hi = min(cmax, 10.0)
        res = minimize_scalar(lambda c: -dual(c), bounds=(0.0, hi), method="bounded",
                              options=dict(xatol=1e-14))
        D = max(dual(res.x), dual(min(1.0, hi)), dual(hi), dual(0.0))
        return self.primal(coef, b) - D

    def kkt(self, coef, b=None):
        d = self.d
        Wt = np.asarray(coef, dtype=np.float64).T
        R = self.residual(coef, b)
        Z = d.Xc.T @ (d.s[:, None] * R) / d.W
        nrm = np.sqrt(np.sum(Wt * Wt, axis=1))
        out = np.maximum(np.sqrt(np.sum(Z * Z, axis=1)) - self.lam1, 0)
        nz = nrm > 0
        V = (Z[nz] - self.lam1[nz, None] * Wt[nz] / nrm[nz, None]
             - self.lam2[nz, None] * Wt[nz])
        out[nz] = np.sqrt(np.sum(V * V, axis=1))
        return float(out.max())


def mt_primal(X, Y, coef, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
              fit_intercept=True):
    return _MultiTask(X, Y, alpha, l1_ratio, sw, pf_l1, pf_l2, fit_intercept).primal(coef, b)


def mt_gap(X, Y, coef, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
           fit_intercept=True):
    """Duality gap of ``(coef (K, p), b (K,))`` (``b=None``: the optimal intercepts)."""
    return _MultiTask(X, Y, alpha, l1_ratio, sw, pf_l1, pf_l2, fit_intercept).gap(coef, b)


def mt_kkt(X, Y, coef, b, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
           fit_intercept=True):
    return _MultiTask(X, Y, alpha, l1_ratio, sw, pf_l1, pf_l2, fit_intercept).kkt(coef, b)


def mt_null_deviance(X, Y, sw=None, fit_intercept=True):
    return _MultiTask(X, Y, 1.0, 1.0, sw, None, None, fit_intercept).D0()


def mt_alpha_max(X, Y, l1_ratio, sw=None, pf_l1=None, fit_intercept=True):
    """``max_j ||x_jᵀ S Π Yc|| / (W rho f1_j)`` over penalised j (Π: off the intercept and
    the unpenalised columns)."""
    pb = _MultiTask(X, Y, 1.0, l1_ratio, sw, pf_l1, None, fit_intercept)
    d = pb.d
    Rp = np.column_stack([d.project(pb.Yc[:, k], pb.unpen) for k in range(pb.Yc.shape[1])])
    Z = d.Xc.T @ (d.s[:, None] * Rp) / d.W
    pen = pb.lam1 > 0
    return float(np.max(np.sqrt(np.sum(Z[pen] ** 2, axis=1)) / pb.lam1[pen]))


def reference_optimum_mt_cvxpy(X, Y, alpha, l1_ratio, sw=None, pf_l1=None, pf_l2=None,
                               fit_intercept=True):
    """``(P*, coef (K, p), b (K,))`` of the multi-response elastic net by cvxpy + Clarabel
    on the weighted-centred data (intercepts eliminated exactly)."""
    import cvxpy as cp
    pb = _MultiTask(X, Y, alpha, l1_ratio, sw, pf_l1, pf_l2, fit_intercept)
    d = pb.d
    root = np.sqrt(d.s / d.W)
    A = d.Xc * root[:, None]
    B = pb.Yc * root[:, None]
    scale = max(float(np.sum(B * B)) / 2, 1e-300)
    V = cp.Variable((d.p, pb.Yc.shape[1]))
    nrm = cp.norm(V, 2, axis=1)
    obj = (cp.sum_squares(A @ V - B) / 2 + pb.lam1 @ nrm
           + 0.5 * cp.sum(cp.multiply(pb.lam2[:, None], cp.square(V)))) / scale
    prob = cp.Problem(cp.Minimize(obj))
    if not _clarabel_solve(prob) or V.value is None:
        raise RuntimeError("cvxpy/Clarabel failed on the multi-task reference problem")
    coef = np.asarray(V.value).T
    b = (pb.ym - coef @ d.xm) if fit_intercept else np.zeros(len(pb.ym))
    return pb.primal(coef, b), coef, b


def random_partition(rng, n_groups, max_size=5):
    """A random group partition in the kernels' layout: ``(sizes, gptr, gidx)`` with sizes in
    [1, max_size], ``gptr`` the offsets (intc) and ``gidx`` a random permutation of the
    features (intc), so groups are not contiguous."""
    sizes = rng.integers(1, max_size + 1, n_groups)
    gptr = np.r_[0, np.cumsum(sizes)].astype(np.intc)
    gidx = rng.permutation(int(gptr[-1])).astype(np.intc)
    return sizes, gptr, gidx
