"""Penalty objects, one protocol for every penalty: ``value(w, alpha)``, ``alpha_max(z)``,
``dual_scale(z, alpha)`` (the ``t`` that makes ``t·z`` dual feasible), ``conjugate(z, alpha)``,
``kkt_violation(z, w, alpha)``, the four at once as ``terms(w, z, zp, alpha)`` (what the
certificate calls), and the boolean mask ``unpenalized`` (features the certificate projects
out). The compiled proxes live in ``_kernels/_helpers.pxd``; these objects are what the
path driver and the certificates use, and what the tests check the kernels against.

A new penalty is one class here plus its prox in a ``.pxd``.
"""
import math

import numpy as np

from ._kernels import _bcd_group, _cd_enet
from ._validation import call_kernel

# A computed scaling t = bound / |z| can land one rounding unit outside the dual domain;
# stepping a relative 1e-15 inside keeps the dual point feasible (the bound valid) at a
# cost far below any tolerance.
_INSIDE = 1 - 1e-15


# ---------------------------------------------------------------------------------------
# Elastic net (owner: the ElasticNetPathCV work)
# ---------------------------------------------------------------------------------------

class ElasticNetPenalty:
    """``alpha·(l1_ratio·Σ_j a_j|w_j| + (1 - l1_ratio)/2·Σ_j b_j w_j²)``.

    ``a`` and ``b`` are the per-feature factors of the l1 and l2 parts: both equal the user's
    ``penalty_factor`` f, except under ``standardize=True`` where fitting on columns scaled by
    ``1/σ_j`` is the same as ``a_j = f_j σ_j`` and ``b_j = f_j σ_j²`` on the original scale.
    ``excluded`` features (constant columns under standardisation) are held at zero.
    The intercept is never penalised.

    Box limits ``lower_j <= w_j <= upper_j`` (``lower <= 0 <= upper``; ``positive`` is
    ``lower = 0``) add the indicator of the box to the penalty. Its conjugate is
    coordinate-wise (DESIGN.md "Box limits"): with ``a = (z - l1)_+`` (if ``upper > 0``)
    and ``b = (-z - l1)_+`` (if ``lower < 0``), ``g_j*(z) = h(a, upper) + h(b, -lower)``,
    ``h(a, u) = a²/(2·l2)`` when ``a <= l2·u``, else ``a·u - l2·u²/2``. A side with a
    finite bound therefore never constrains the dual point; only pure-l1 features with an
    infinite bound do (``dual_scale``).
    """

    def __init__(self, l1_ratio, l1_factor, l2_factor=None, excluded=None, positive=False,
                 lower=None, upper=None):
        self.l1_ratio = float(l1_ratio)
        self.l1_factor = np.asarray(l1_factor, dtype=np.float64)
        self.l2_factor = self.l1_factor if l2_factor is None else np.asarray(
            l2_factor, dtype=np.float64)
        p = self.l1_factor.shape[0]
        self.excluded = np.zeros(p, bool) if excluded is None else np.asarray(excluded, bool)
        self.positive = bool(positive)
        lo = np.full(p, -np.inf) if lower is None else np.broadcast_to(
            np.asarray(lower, dtype=np.float64), (p,)).copy()
        up = np.full(p, np.inf) if upper is None else np.broadcast_to(
            np.asarray(upper, dtype=np.float64), (p,)).copy()
        if np.any(lo > 0) or np.any(up < 0):
            raise ValueError("box limits must contain 0: lower_limits <= 0 <= upper_limits.")
        free = (self.l1_factor == 0) & (self.l2_factor == 0) & ~self.excluded
        if np.any(free & (np.isfinite(lo) | np.isfinite(up))):
            # the certificate projects unpenalised features out of the dual point, which
            # is only tight when they are free; a binding limit would never certify
            raise ValueError("lower_limits/upper_limits on an unpenalised feature "
                             "(penalty_factor 0) are not supported; give it a small "
                             "positive penalty_factor.")
        if self.positive and np.any(free):
            # the same reason: positive is the limit lower = 0 on every feature
            raise ValueError(
                "positive=True with an unpenalised feature (penalty_factor 0 at feature(s) "
                f"{np.flatnonzero(free)[:5].tolist()}) is not supported: its 0 lower limit "
                "could never be certified when it binds; give those features a small "
                "positive penalty_factor.")
        if self.positive:
            lo = np.maximum(lo, 0.0)
        self.lower, self.upper = lo, up
        #: finite limits other than positive's 0: the general (box) formulas are needed
        self.has_box = bool(np.any(np.isfinite(up)) or np.any(np.isfinite(lo) & (lo < 0))
                            or (np.any(lo == 0) and not self.positive))
        #: features with no penalty at all (fitted by least squares at every alpha)
        self.unpenalized = (self.l1_factor == 0) & (self.l2_factor == 0) & ~self.excluded
        # the dual constraints: pure-l1 features (a box) and features with a ridge part
        self._ridge = (self.l2_factor * (1 - self.l1_ratio) > 0) & ~self.excluded
        #: any ridge part at all (else the lasso, whose path is linear between kinks)
        self.has_ridge = bool(self._ridge.any())
        self._box = ~self._ridge & (self.l1_factor * self.l1_ratio > 0) & ~self.excluded
        # kernel weights per unit of N·alpha (computed once: a path asks at every alpha)
        self._L1 = np.where(self.excluded, np.inf, self.l1_ratio * self.l1_factor)
        self._L2 = np.where(self.excluded, 0.0, (1 - self.l1_ratio) * self.l2_factor)
        # per unit of alpha, for the certificate's terms (see terms)
        with np.errstate(divide="ignore"):
            self._inv_box = np.where(self._box, 1.0 / (self.l1_ratio * self.l1_factor), 0.0)
        self._ridge_idx = np.flatnonzero(self._ridge).astype(np.intc)
        # box limits: the compiled terms' per-unit-alpha weights and feature kinds
        self._a1 = self.l1_ratio * self.l1_factor
        self._a2 = (1 - self.l1_ratio) * self.l2_factor
        self._kind = np.where(self.excluded, 1, np.where(self.unpenalized, 2, 0)).astype(
            np.intc)

    # -- box limits: the general coordinate-wise formulas ---------------------------------
    def _box_t(self, zp, l1, l2):
        """Largest ``t <= 1`` keeping every pure-l1 feature's unbounded sides feasible."""
        pure = (l2 == 0) & (l1 > 0) & ~self.excluded
        z = zp[pure]
        a = np.maximum(np.where(np.isinf(self.upper[pure]), z, 0.0),
                       np.where(np.isinf(self.lower[pure]), -z, 0.0))
        lb = l1[pure]
        over = a > lb
        return float(np.min(lb[over] / a[over])) * _INSIDE if over.any() else 1.0

    def _box_t_open(self, zp, l1, l2):
        """Largest ``t <= 1`` making every open side of every pure-l1 feature feasible
        (limits or not): the dual point at which no pure-l1 side costs anything."""
        pure = (l2 == 0) & (l1 > 0) & ~self.excluded
        z = zp[pure]
        a = np.maximum(np.where(self.upper[pure] > 0, z, 0.0),
                       np.where(self.lower[pure] < 0, -z, 0.0))
        lb = l1[pure]
        over = a > lb
        return float(np.min(lb[over] / a[over])) * _INSIDE if over.any() else 1.0

    def _box_conj(self, z, l1, l2):
        """``Σ_j g_j*(z_j)`` of penalty + box (class docstring) on its finite domain."""
        keep = ~self.excluded & ~self.unpenalized
        z, l1, l2 = z[keep], l1[keep], l2[keep]
        total = 0.0
        for a, u in (((z - l1), self.upper[keep]), ((-z - l1), -self.lower[keep])):
            a = np.where(u > 0, np.maximum(a, 0.0), 0.0)
            act = a > 0
            a, u, q = a[act], u[act], l2[act]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                quad = (q > 0) & (a <= q * u)
                val = np.where(quad, a * (a / np.where(q > 0, 2 * q, 1.0)),
                               a * u - 0.5 * q * np.where(np.isinf(u), 0.0, u * u))
            total += float(np.sum(val))
        return total

    def _box_kkt(self, z, w, l1, l2):
        """``max_j dist(z_j, ∂(pen_j + box_j)(w_j))``."""
        lo, up = self.lower, self.upper
        # float32 kernels clip to the limit rounded towards 0: within 4 float32 ulps is "on"
        at_up = (w >= np.where(np.isinf(up), up, up * (1 - 5e-7))) & (w > 0)
        at_lo = (w <= np.where(np.isinf(lo), lo, lo * (1 - 5e-7))) & (w < 0)
        inner = (w != 0) & ~at_up & ~at_lo
        zero = np.maximum(np.where(up > 0, z - l1, 0.0), np.where(lo < 0, -z - l1, 0.0))
        d = np.where(inner, np.abs(z - l1 * np.sign(w) - l2 * w), np.maximum(zero, 0.0))
        d = np.where(at_up, np.maximum(l1 + l2 * w - z, 0.0), d)
        d = np.where(at_lo, np.maximum(z - (-l1 + l2 * w), 0.0), d)
        d[self.excluded] = 0
        return float(d.max()) if d.size else 0.0

    def terms(self, w, z, zp, alpha):
        """``(value(w), t, conjugate(t·zp), kkt_violation(z, w))`` in one pass: what the
        certificate needs at one point (``zp``: the gradient after projection). With box
        limits ``t`` and the conjugate are pairs: two dual candidates."""
        if self.has_box:
            # two valid dual scalings (a far limit makes the first one's conjugate large):
            # the certificate keeps the better bound. The value is inf outside the box (no
            # finite bound is honest there). Compiled: _box_t, _box_t_open, _box_conj and
            # _box_kkt below in two passes (the tests hold the two to each other).
            value, t1, t2, c1, c2, kkt = call_kernel(
                _cd_enet.enet_box_terms, np.ascontiguousarray(w, dtype=np.float64),
                np.ascontiguousarray(z, dtype=np.float64),
                np.ascontiguousarray(zp, dtype=np.float64), self._a1, self._a2, self.lower,
                self.upper, self._kind, float(alpha), _INSIDE)
            return value, (t1, t2), (c1, c2), kkt
        # the inner loop is compiled: a path calls this at every point, over every feature.
        # Two valid dual scalings: t (only the pure-l1 features need it) and t2 <= t, which
        # keeps every ridge feature inside its l1 ball too, where the conjugate
        # (|z| - l1)_+²/(2 l2) vanishes. When the ridge part is tiny against the data
        # (y ~ 1e-40), that quotient turns rounding-size excesses into a gap far above any
        # target at t; the certificate keeps the better bound
        value, t, conj, kkt, t2, conj2 = call_kernel(
            _cd_enet.enet_terms, np.ascontiguousarray(w, dtype=np.float64),
            np.ascontiguousarray(z, dtype=np.float64),
            np.ascontiguousarray(zp, dtype=np.float64), self._L1, self._L2,
            self._inv_box, self._ridge_idx, float(alpha), self.positive, _INSIDE)
        if conj > 0 and t2 < t:
            return value, (t, t2), (conj, conj2), kkt
        return value, t, conj, kkt

    def value(self, w, alpha):
        w = np.asarray(w, dtype=np.float64)
        keep = ~self.excluded
        return alpha * (self.l1_ratio * np.sum(self.l1_factor[keep] * np.abs(w[keep]))
                        + 0.5 * (1 - self.l1_ratio) * np.sum(self.l2_factor[keep] * w[keep] ** 2))


    def scaled_weights(self, alpha, N):
        """Kernel penalties ``(L1, L2)`` on the n-scale (``N = Σs``); ``L1 = inf`` excludes."""
        return N * alpha * self._L1, N * alpha * self._L2

    def null_weights(self):
        """Penalties of the "null" model: penalised features at zero, unpenalised ones free."""
        L1 = np.where(self.unpenalized, 0.0, np.inf)
        return L1, np.zeros_like(L1)

    def alpha_max(self, grad):
        """Smallest alpha at which every penalised coefficient is zero.

        ``grad = x_jᵀ S r / Σs`` at the null model (residual after fitting the unpenalised
        features). ``inf`` when ``l1_ratio = 0`` (pure ridge has no such alpha).
        """
        pen = (self.l1_factor > 0) & ~self.excluded
        if not pen.any():
            return 0.0
        if self.l1_ratio == 0:
            return np.inf
        g = np.asarray(grad, dtype=np.float64)[pen]
        if self.has_box:  # a side closed by a 0 limit never lets the feature in
            g = np.maximum(np.where(self.upper[pen] > 0, g, 0.0),
                           np.where(self.lower[pen] < 0, -g, 0.0))
            return float(np.max(g / (self.l1_ratio * self.l1_factor[pen])))
        g = np.maximum(g, 0) if self.positive else np.abs(g)
        return float(np.max(g / (self.l1_ratio * self.l1_factor[pen])))

    def _l1_l2(self, alpha):
        return alpha * self.l1_ratio * self.l1_factor, alpha * (1 - self.l1_ratio) * self.l2_factor

    def dual_scale(self, z, alpha):
        """Largest ``t <= 1`` with ``|t z_j| <= alpha·l1_ratio·a_j`` for every feature without
        a ridge part (one-sided when ``positive``); unpenalised and excluded features impose
        nothing here (the certificate projects the former, the latter are fixed at 0)."""
        z = np.asarray(z, dtype=np.float64)
        l1, l2 = self._l1_l2(alpha)
        if self.has_box:
            return self._box_t(z, l1, l2)
        box = (l2 == 0) & (l1 > 0) & ~self.excluded
        a = np.maximum(z[box], 0) if self.positive else np.abs(z[box])
        over = a > l1[box]
        if not over.any():
            return 1.0
        return float(np.min(l1[box][over] / a[over])) * _INSIDE

    def conjugate(self, z, alpha):
        """``Σ_j (|z_j| - l1_j)_+² / (2 l2_j)`` over features with a ridge part (``z_j`` in
        place of ``|z_j|`` when ``positive``): the penalty's Fenchel conjugate on the domain
        that :meth:`dual_scale` enforces."""
        z = np.asarray(z, dtype=np.float64)
        l1, l2 = self._l1_l2(alpha)
        if self.has_box:
            return self._box_conj(z, l1, l2)
        ridge = (l2 > 0) & ~self.excluded
        a = (np.maximum(z[ridge], 0) if self.positive else np.abs(z[ridge])) - l1[ridge]
        a = np.maximum(a, 0)
        return float(np.sum(a * (a / (2 * l2[ridge]))))  # (a*a alone can overflow)

    def kkt_violation(self, z, w, alpha):
        """``max_j dist(z_j, ∂pen_j(w_j))`` with ``z = Xcᵀ S r / Σs`` (0 at the optimum)."""
        w = np.asarray(w, dtype=np.float64)
        l1, l2 = self._l1_l2(alpha)
        return self._kkt(np.asarray(z, dtype=np.float64), w, l1, l2)

    def _kkt(self, g, w, l1, l2):
        if self.has_box:
            return self._box_kkt(g, w, l1, l2)
        nz = w != 0
        d = np.where(nz, np.abs(g - l1 * np.sign(w) - l2 * w),
                     np.maximum((g if self.positive else np.abs(g)) - l1, 0))
        d[self.excluded] = 0
        return float(d.max()) if d.size else 0.0


# ---------------------------------------------------------------------------------------
# (Sparse-)group lasso (owner: the GroupLasso work)
# ---------------------------------------------------------------------------------------


def _pow2_scale(*arrays):
    """1.0 when the largest ``|entry|`` lies in [1e-100, 1e100] (squares and their sums stay
    normal numbers), else the power of two that brings it near 1. The group penalties'
    quantities are homogeneous (``t(κz, κα) = t(z, α)``, ``violation(κz, κα) = κ·...``), so
    they are computed on scaled data: gradients of data at 1e-90 (|z| ~ 1e-180) had squares
    that underflowed to 0, and a group norm of 0 passed the dual-feasibility test — a false
    certificate of w = 0."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a)
        if a.size:
            m = max(m, float(np.max(np.abs(a))))
    return _pow2_of(m)


def _pow2_of(m):
    """:func:`_pow2_scale` from the largest ``|entry|`` ``m`` (a kernel may return it)."""
    if 1e-100 <= m <= 1e100 or m == 0 or not math.isfinite(m):
        return 1.0
    return float(2.0 ** -np.round(np.log2(m)))


class SparseGroupLasso:
    """``alpha * (rho * ||w||_1 + (1 - rho) * sum_g c_g ||w_g||_2)`` over the groups
    ``gidx[gptr[g]:gptr[g + 1]]``; groups with ``c_g = 0`` are unpenalised (no l1 term).

    ``rho = 0`` is the group lasso, ``rho = 1`` the lasso. ``z`` below is the gradient of
    the datafit's negative, ``X_cᵀ S r / n`` (centred ``X``), at the current point.

    Parameters
    ----------
    gptr, gidx : ndarray of int32
        Group ``g`` holds the features ``gidx[gptr[g]:gptr[g + 1]]`` (non-empty, disjoint).
    weights : ndarray of shape (n_groups,)
        The group weights ``c_g >= 0``.
    rho : float in [0, 1]
        The l1 share (``l1_ratio``).
    """

    def __init__(self, gptr, gidx, weights, rho, lower=None, upper=None, excluded=None):
        self.gptr = np.asarray(gptr)
        self.gidx = np.asarray(gidx)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.rho = float(rho)
        self.penalised = self.weights > 0
        self._unpen_groups = np.flatnonzero(~self.penalised)
        self._starts = self.gptr[:-1]
        self._sizes = np.diff(self.gptr)
        p = int(self.gidx.max()) + 1 if self.gidx.size else 0
        #: each feature's group (the features of ``gidx``; the groups partition them)
        self.group_of = np.zeros(p, dtype=np.intp)
        self.group_of[self.gidx] = np.repeat(np.arange(self._sizes.size), self._sizes)
        for a in (lower, upper, excluded):
            p = max(p, np.size(a) if a is not None and np.ndim(a) else 0)
        unpen = np.zeros(p, dtype=bool)
        unpen[self.gidx[np.repeat(~self.penalised, self._sizes)]] = True
        lo = np.full(p, -np.inf) if lower is None else np.broadcast_to(
            np.asarray(lower, dtype=np.float64), (p,)).copy()
        up = np.full(p, np.inf) if upper is None else np.broadcast_to(
            np.asarray(upper, dtype=np.float64), (p,)).copy()
        if np.any(lo > 0) or np.any(up < 0):
            raise ValueError("box limits must contain 0: lower_limits <= 0 <= upper_limits.")
        if np.any(unpen & (np.isfinite(lo) | np.isfinite(up))):
            # as the elastic net: the certificate projects unpenalised features out of the
            # dual point, which is only tight when they are free
            raise ValueError("lower_limits/upper_limits on an unpenalised feature (group "
                             "weight 0, or in no group) are not supported.")
        if excluded is not None:  # held at zero: the box [0, 0]
            ex = np.asarray(excluded, dtype=bool)
            lo[ex], up[ex] = 0.0, 0.0
        self.lower, self.upper = lo, up
        #: any finite limit (exclusions included): the box formulas below are needed
        self.has_box = bool(np.isfinite(lo).any() or np.isfinite(up).any())
        self.excluded = (lo == 0) & (up == 0)
        #: features with no penalty at all (the certificate projects them out)
        self.unpenalized = unpen & ~self.excluded
        #: per group: does it hold a finite limit (the kernels' box prox runs only there)
        self._kbuf = None
        self._gptr32 = np.ascontiguousarray(self.gptr, dtype=np.intc)
        self._gidx32 = np.ascontiguousarray(self.gidx, dtype=np.intc)
        self.limited = (np.add.reduceat(
            (np.isfinite(lo) | np.isfinite(up))[self.gidx].astype(np.int64), self._starts) > 0
            if self.gidx.size else np.zeros(0, bool))

    # -- box limits -------------------------------------------------------------------------
    # With h_g = g_g + ι_box, g_g = l1||·||_1 + l2||·||_2 (l1 = alpha·rho,
    # l2 = alpha(1 - rho)c_g), the conjugate is exact and group-wise: the supremum of
    # <z, x> - h_g(x) takes sign(x_j) = sign(z_j), so with a_j = (|z_j| - l1)_+ and b_j the
    # limit on z_j's side (upper_j if z_j >= 0, else -lower_j)
    #     h_g*(z) = sup_{0 <= x <= b} <a, x> - l2||x||
    #             = min_{u >= 0, ||a - u|| <= l2} <b, u>              (Lagrange)
    #             = Σ_j b_j (a_j - b_j s)_+ ,  s the largest with Σ_j min(a_j, b_j s)² <= l2²
    # (u_j = (a_j - b_j s)_+ are the multipliers of the active limits; coordinates with
    # b_j = inf need u_j = 0, so they are in the ball on their own or h_g* = inf). Any s on
    # the feasible side gives an upper bound on h_g*: a valid gap; the search for s only
    # visits that side (see _box_conj).
    # The dual point t·z is scaled only as far as the coordinates with an *infinite* limit
    # on their side need (a finite limit never makes the conjugate infinite).
    def _side(self, z):
        """``b``: the limit on each feature's side of ``z`` (``|limit|``; inf: none)."""
        return np.where(z >= 0, self.upper, -self.lower)

    def _masked(self, z, keep_finite):
        """``z`` with the closed sides (limit 0) zeroed and, unless ``keep_finite``, also
        the sides with a finite limit: what the plain (box-free) formulas then see."""
        b = self._side(z)
        drop = (b == 0) if keep_finite else np.isfinite(b)
        return np.where(drop, 0.0, z)

    def _box_conj(self, z, alpha):
        """``Σ_g h_g*(z_g)`` over the penalised groups (block comment above), an upper bound
        (exact up to rounding); inf outside the domain. Compiled: a path asks at every
        point (:meth:`_box_conj_numpy` is its NumPy twin, for the tests)."""
        if self._kbuf is None:
            self._kbuf = np.zeros(max(int(self._sizes.max(initial=1)), 1))
            self._l2unit = np.where(self.penalised, (1 - self.rho) * self.weights, -1.0)
        l2 = np.where(self.penalised, alpha * self._l2unit, -1.0)
        return call_kernel(_bcd_group.sgl_box_conj, np.ascontiguousarray(z, dtype=np.float64),
                           self._gptr32, self._gidx32, l2, self.lower, self.upper, 1.0,
                           float(alpha * self.rho), self._kbuf)

    def _box_conj_numpy(self, z, alpha):
        """NumPy twin of :meth:`_box_conj`."""
        z = np.asarray(z, dtype=np.float64)
        l1 = alpha * self.rho
        l2 = alpha * (1 - self.rho) * self.weights
        pen_f = np.repeat(self.penalised, self._sizes)
        zg = z[self.gidx]
        b = self._side(z)[self.gidx]
        a = np.where(pen_f & (b > 0), np.maximum(np.abs(zg) - l1, 0.0), 0.0)
        fin = np.isfinite(b)
        a_inf2 = self._reduce_g(np.where(fin, 0.0, a * a))
        a_all2 = self._reduce_g(a * a)
        need = self.penalised & (a_all2 > l2 * l2)
        if np.any(need & (a_inf2 > l2 * l2)):
            return np.inf
        if not need.any():
            return 0.0
        # only the groups that need it: their features, in group order
        sizes = self._sizes[need]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        sel = np.repeat(need, self._sizes)
        fin, b, a = fin[sel], b[sel], a[sel]
        bf = np.where(fin, b, 0.0)
        af = np.where(fin, a, 0.0)
        target = (l2 * l2 - a_inf2)[need]
        # s by the saturation fixed point: the coordinates saturated at the last s
        # (a_j <= b_j s) count a_j², the others b_j² s²; solving that model for s gives
        # an s with psi(s) <= the model = l2²: every iterate is feasible, and they increase
        # to the root in at most max|g| + 1 steps
        s_g = np.zeros(sizes.size)
        for _ in range(int(sizes.max()) + 1):
            sat = af <= bf * np.repeat(s_g, sizes)
            A = np.add.reduceat(np.where(sat, af * af, 0.0), starts)
            B = np.add.reduceat(np.where(sat, 0.0, bf * bf), starts)
            with np.errstate(divide="ignore", invalid="ignore"):
                new = np.where(B > 0, np.sqrt(np.maximum(target - A, 0) / np.where(
                    B > 0, B, 1.0)), s_g) * (1 - 1e-12)
            if not np.any(new > s_g):
                break
            s_g = np.maximum(new, s_g)
        m = np.minimum(af, bf * np.repeat(s_g, sizes))
        bad = np.add.reduceat(m * m, starts) > target
        if bad.any():  # rounding: back to a feasible s by bisection from 0
            lo, hi = np.zeros(bad.sum()), s_g[bad]
            rows = np.repeat(bad, sizes)
            sz, st = sizes[bad], np.concatenate([[0], np.cumsum(sizes[bad])[:-1]])
            for _ in range(64):
                mid = 0.5 * (lo + hi)
                mm = np.minimum(af[rows], bf[rows] * np.repeat(mid, sz))
                ok = np.add.reduceat(mm * mm, st) <= target[bad]
                lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
            s_g[bad] = lo
        u = np.maximum(af - bf * np.repeat(s_g, sizes), 0.0)
        return float(np.sum(bf * u))

    def _reduce_g(self, v, op=np.add):
        """Per-group reduction of a vector laid out as ``gidx`` (group order)."""
        return op.reduceat(v, self._starts) if v.size else np.zeros(len(self._sizes))

    def conjugate(self, z, alpha):
        """The Fenchel conjugate of the penalty (plus box) at ``z``: 0 on the domain
        :meth:`dual_scale` enforces without limits; with limits the group-wise formula of
        the block comment above."""
        if self.has_box:
            return self._box_conj(z, alpha)
        return 0.0

    def terms(self, w, z, zp, alpha):
        """``(value(w), t, conjugate(t·zp), kkt_violation(z, w))`` (see the elastic net).
        With box limits ``t`` and the conjugate are pairs: the scaling that only the
        unlimited sides need, and the one that keeps every open side in the ball (its
        conjugate is 0); the certificate keeps the better bound."""
        if not self.has_box:
            # the compiled pass returns the scale check's maxima: its numbers stand unless
            # the data are at an extreme scale (then they are recomputed scaled, below)
            value, t, kkt, zmax, wmax = call_kernel(
                _bcd_group.sgl_terms, np.ascontiguousarray(w, dtype=np.float64),
                np.ascontiguousarray(z, dtype=np.float64),
                np.ascontiguousarray(zp, dtype=np.float64), self._gptr32, self._gidx32,
                self._l2(alpha), float(alpha * self.rho), _INSIDE)
            k, lam = _pow2_of(zmax), _pow2_of(wmax)
            if k == 1.0 and lam == 1.0:
                return value, t, 0.0, kkt
        else:
            k, lam = _pow2_scale(z, zp), 1.0  # (limits are on w's own scale)
        if k != 1.0 or lam != 1.0:  # homogeneous: computed on scaled data (_pow2_scale)
            value, t, conj, kkt = self.terms(np.asarray(w, dtype=np.float64) * lam,
                                             np.asarray(z, dtype=np.float64) * k,
                                             np.asarray(zp, dtype=np.float64) * k, alpha * k)
            conj = tuple(c / k for c in conj) if isinstance(conj, tuple) else conj / k
            return value / (k * lam), t, conj, kkt / k
        zp = np.asarray(zp, dtype=np.float64)
        b = self._side(zp)
        fin = np.isfinite(b)
        t1 = self._plain_dual_scale(np.where(fin, 0.0, zp), alpha) if not fin.all() else 1.0
        closed = b == 0
        t2 = self._plain_dual_scale(np.where(closed, 0.0, zp) if closed.any() else zp, alpha)
        # at t2 every open side is in the ball: the conjugate is 0 there
        c1 = self._box_conj(t1 * zp, alpha) if t1 > t2 else np.inf
        return (self.value(w, alpha), (t1, t2), (c1, 0.0),
                self.kkt_violation(z, w, alpha))

    def _l2(self, alpha):
        """``alpha (1 - rho) c_g``, -1 on the unpenalised groups (the kernels' flag)."""
        l2 = alpha * (1 - self.rho) * self.weights
        if self._unpen_groups.size:
            l2[self._unpen_groups] = -1.0
        return l2

    def _reduce(self, values, op=np.add):
        return op.reduceat(values[self.gidx], self._starts)

    def value(self, w, alpha):
        """The penalty at ``w`` (inf outside the box limits)."""
        w = np.asarray(w, dtype=np.float64)
        if self.has_box and (np.any(w > self.upper) or np.any(w < self.lower)):
            return np.inf  # outside the box: no finite bound is honest
        l1 = self._reduce(np.abs(w))
        l2 = self.group_norms(w)
        per = self.rho * l1 + (1 - self.rho) * self.weights * l2
        return float(alpha * per[self.penalised].sum())

    def group_norms(self, w):
        """``||w_g||_2`` for every group (compiled; scale-safe, see :func:`_pow2_scale`)."""
        return self._soft_norm(w, 0.0)

    def _soft_norm(self, z, t):
        """``||S(z_g, t)||_2`` for every group (``t`` a scalar or per-group array)."""
        k = _pow2_scale(z)
        if k != 1.0:  # homogeneous: ||S(kz, kt)|| = k ||S(z, t)||
            return self._soft_norm(np.asarray(z, dtype=np.float64) * k,
                                   np.asarray(t, dtype=np.float64) * k) / k
        if np.ndim(t) == 0:  # compiled: the working-set rules ask at every path point
            out = np.empty(len(self._sizes))
            call_kernel(_bcd_group.sgl_soft_norms, np.ascontiguousarray(z, dtype=np.float64),
                        self._gptr32, self._gidx32, float(t), out)
            return out
        t_feat = np.repeat(np.broadcast_to(t, self._sizes.shape), self._sizes)
        e = np.maximum(np.abs(z[self.gidx]) - t_feat, 0)
        return np.sqrt(np.add.reduceat(e * e, self._starts))

    def dual_scale(self, z, alpha):
        """Largest ``t <= 1`` with ``t z`` dual feasible: ``||S(t z_g, a rho)|| <= a(1-rho)c_g``
        for every penalised group. (Unpenalised groups impose ``z_g = 0``, which no scaling
        gives; they are left out, so the gap is exact only once their gradient vanishes.)
        With box limits only the sides without a finite limit count."""
        z = np.asarray(z, dtype=np.float64)
        if self.has_box:
            z = self._masked(z, False)
        k = _pow2_scale(z)  # t(kz, k alpha) = t(z, alpha)
        return self._plain_dual_scale(z * k, alpha * k)

    def _plain_dual_scale(self, z, alpha):
        l1, l2 = alpha * self.rho, alpha * (1 - self.rho) * self.weights
        pen = self.penalised
        if not pen.any():
            return 1.0
        if self.rho == 0:
            nrm = np.sqrt(self._reduce(z * z))[pen]
            with np.errstate(divide="ignore"):
                t = float(np.min(np.where(nrm > l2[pen], l2[pen] / nrm, 1.0)))
            return 1.0 if t >= 1 else t * _INSIDE
        if self.rho == 1:
            zmax = self._reduce(np.abs(z), np.maximum)[pen]
            m = zmax.max()
            return 1.0 if m <= l1 else float(l1 / m) * _INSIDE
        viol = pen & (self._soft_norm(z, l1) > l2)
        if not viol.any():
            return 1.0
        # Only the violating groups: f_g(t) = ||S(t z_g, l1)||² is convex and increasing
        # where positive, so Newton from t = 1 (f_g(1) > (l2 c_g)²) decreases monotonically
        # to the root; a step just inside it is checked feasible (bisection otherwise).
        sizes = self._sizes[viol]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        a = np.abs(z[np.concatenate([self.gidx[self.gptr[g]:self.gptr[g + 1]]
                                     for g in np.flatnonzero(viol)])])
        target = l2[viol] ** 2

        def f_and_slope(t):
            e = np.maximum(np.repeat(t, sizes) * a - l1, 0)
            return np.add.reduceat(e * e, starts), 2 * np.add.reduceat(a * e, starts)

        t = np.ones(sizes.shape[0])
        for _ in range(50):
            f, fp = f_and_slope(t)
            step = np.where(fp > 0, (f - target) / np.where(fp > 0, fp, 1), 0)
            t = t - step
            if np.all(np.abs(step) <= 1e-15 * t):
                break
        t *= 1 - 1e-12
        bad = f_and_slope(t)[0] > target
        if bad.any():  # rounding left a group outside: bisection for those, feasible end
            lo, hi = np.zeros(bad.sum()), np.ones(bad.sum())
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                full = np.ones(sizes.shape[0])
                full[bad] = mid
                ok = f_and_slope(full)[0][bad] <= target[bad]
                lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
            t[bad] = lo
        return float(t.min())

    def violation(self, z, alpha):
        """Per group: ``||S(z_g, a rho)|| - a (1 - rho) c_g`` (> 0: ``w_g = 0`` is not optimal).
        Unpenalised groups get ``+inf`` (always in the working set). A side closed by a
        limit of 0 lets nothing in."""
        z = np.asarray(z, dtype=np.float64)
        if self.has_box:
            z = self._masked(z, True)
        v = self._soft_norm(z, alpha * self.rho) \
            - alpha * (1 - self.rho) * self.weights
        return np.where(self.penalised, v, np.inf)

    def violation_slack(self, alpha):
        """Per group: the :meth:`violation` at rounding level of the group's own weights
        (``1e-12 alpha ((1 - rho) c_g + rho)``), counted as none by the working sets
        (e.g. exactly at alpha_max). Relative to the weights, not to alpha: their units
        differ by the weights (``c_g = 1e-15`` made every real violation look like
        rounding)."""
        return 1e-12 * alpha * ((1 - self.rho) * self.weights + self.rho)

    def kkt_violation(self, z, w, alpha):
        """Largest group-wise distance of ``z_g`` to the subdifferential of the penalty at
        ``w_g`` (0 at the optimum), in the units of ``z``."""
        z = np.asarray(z, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        k = _pow2_scale(z)
        lam = 1.0 if self.has_box else _pow2_scale(w)  # only w's direction matters
        if k != 1.0 or lam != 1.0:
            return self.kkt_violation(z * k, w * lam, alpha * k) / k
        l1 = alpha * self.rho
        l2 = alpha * (1 - self.rho) * self.weights
        if self.has_box:  # compiled (a path asks at every point); _box_kkt: NumPy twin
            if self._kbuf is None:
                self._box_conj(np.zeros(len(z)), alpha)  # sets the per-group unit weights
            l2g = np.where(self.penalised, alpha * self._l2unit, -1.0)
            return call_kernel(_bcd_group.sgl_box_kkt, np.ascontiguousarray(z),
                               np.ascontiguousarray(w), self._gptr32, self._gidx32,
                               l2g, self.lower, self.upper, float(l1))
        norms = self.group_norms(w)
        nz_g = np.repeat(norms > 0, self._sizes)
        pen_f = np.repeat(self.penalised, self._sizes)
        zg, wg = z[self.gidx], w[self.gidx]
        c_f = np.repeat(l2, self._sizes)
        n_f = np.repeat(np.where(norms > 0, norms, 1.0), self._sizes)
        # Active group: z_j = l1 sign(w_j) + l2 w_j/||w_g|| where w_j != 0, and |z_j| <= l1
        # where w_j = 0 (the group term contributes 0 there).
        res_active = np.where(wg != 0, zg - l1 * np.sign(wg) - c_f * wg / n_f,
                              np.maximum(np.abs(zg) - l1, 0))
        per_feat = np.where(nz_g, res_active, 0.0)
        per_feat = np.where(pen_f, per_feat, zg)  # unpenalised: gradient must vanish
        d = np.sqrt(np.add.reduceat(per_feat ** 2, self._starts))
        zero_viol = np.maximum(self._soft_norm(z, l1) - l2, 0)
        d = np.where((norms == 0) & self.penalised, zero_viol, d)
        return float(d.max()) if d.size else 0.0

    def _box_kkt(self, z, w, l1, l2):
        """``max_g dist(z_g, ∂(pen_g + box_g)(w_g))``: the normal cone of the box adds
        ``u_j >= 0`` at an upper limit, ``u_j <= 0`` at a lower one, anything on a side
        closed by a limit of 0."""
        lo, up = self.lower, self.upper
        norms = self.group_norms(w)
        zg, wg = z[self.gidx], w[self.gidx]
        log, upg = lo[self.gidx], up[self.gidx]
        nz_g = np.repeat(norms > 0, self._sizes)
        pen_f = np.repeat(self.penalised, self._sizes)
        c_f = np.repeat(l2, self._sizes)
        n_f = np.repeat(np.where(norms > 0, norms, 1.0), self._sizes)
        # float32 kernels clip to the limit rounded towards 0: within 4 float32 ulps is "on"
        at_up = (wg > 0) & (wg >= np.where(np.isinf(upg), upg, upg * (1 - 5e-7)))
        at_lo = (wg < 0) & (wg <= np.where(np.isinf(log), log, log * (1 - 5e-7)))
        e = zg - l1 * np.sign(wg) - c_f * wg / n_f
        e = np.where(at_up, np.minimum(e, 0.0), np.where(at_lo, np.maximum(e, 0.0), e))
        closed = np.where(zg >= 0, upg, -log) == 0
        zero = np.where(closed, 0.0, np.maximum(np.abs(zg) - l1, 0))
        per = np.where(wg != 0, e, zero)
        per = np.where(nz_g, per, 0.0)
        per = np.where(pen_f, per, np.where(closed, 0.0, zg))  # unpenalised: gradient 0
        d = np.sqrt(self._reduce_g(per ** 2))
        zero_viol = np.maximum(self._soft_norm(self._masked(z, True), l1) - l2, 0)
        d = np.where((norms == 0) & self.penalised, zero_viol, d)
        return float(d.max()) if d.size else 0.0

    def alpha_max(self, z):
        """Smallest ``alpha`` at which ``w = 0`` satisfies every penalised group's KKT
        condition, for the gradient ``z`` at zero (after fitting any unpenalised features).
        A side closed by a limit of 0 never lets a feature in."""
        z = np.asarray(z, dtype=np.float64)
        if self.has_box:
            z = self._masked(z, True)
        pen = self.penalised
        if not pen.any():
            return 0.0
        if self.rho == 0:  # (group_norms and _soft_norm below are scale-safe)
            return float(np.max(self.group_norms(z)[pen] / self.weights[pen]))
        zmax = self._reduce(np.abs(z), np.maximum)
        if self.rho == 1:
            return float(zmax[pen].max())
        # ||S(z_g, a rho)|| - a (1 - rho) c_g decreases in a; it is <= 0 at a = zmax/rho.
        lo, hi = np.zeros(len(self._sizes)), zmax / self.rho
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            ok = self._soft_norm(z, mid * self.rho) <= mid * (1 - self.rho) * self.weights
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return float(hi[pen].max())


# ---------------------------------------------------------------------------------------
# Multi-response elastic net (owner: the multi-task work)
# ---------------------------------------------------------------------------------------

def row_norms_safe(z):
    """Euclidean norms of the rows of ``z`` (float64), rescaled by a power of two when the
    squares would overflow or underflow (gradients of data near the ends of the float
    range: ``|X| ~ |Y| ~ 1e80`` makes ``z ~ 1e160``)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        r = np.sqrt(np.einsum("ij,ij->i", z, z))
    if r.size == 0 or 1e-140 < r.max() < 1e140:
        return r
    lam = _pow2_scale(z)  # (1.0 for all-zero or non-finite z: the plain result)
    zc = z * lam
    with np.errstate(under="ignore"):
        return np.sqrt(np.einsum("ij,ij->i", zc, zc)) / lam


class MultiTaskElasticNetPenalty:
    """``alpha·(l1_ratio·Σ_j a_j‖W_j‖₂ + (1 - l1_ratio)/2·Σ_j b_j‖W_j‖₂²)`` on ``W`` of
    shape (n_features, n_responses): each feature's row of response coefficients is one
    group (glmnet's ``mgaussian``, scikit-learn's ``MultiTaskElasticNet``).

    ``a``/``b`` are the per-feature factors of the two parts (both the user's
    ``penalty_factor`` f, or ``f σ`` and ``f σ²`` under ``standardize``, as
    :class:`ElasticNetPenalty`); ``excluded`` rows are held at zero. Per row the penalty is
    ``h(v) = l1‖v‖ + l2/2‖v‖²`` with conjugate ``h*(u) = (‖u‖ - l1)_+² / (2 l2)`` (the
    indicator of ``‖u‖ <= l1`` when ``l2 = 0``, which :meth:`dual_scale` enforces): the
    scalar elastic net's formulas with ``|·|`` replaced by the row norm. Gradients ``z``
    have the shape of ``W``.
    """

    def __init__(self, l1_ratio, l1_factor, l2_factor=None, excluded=None):
        self.l1_ratio = float(l1_ratio)
        self.l1_factor = np.asarray(l1_factor, dtype=np.float64)
        self.l2_factor = self.l1_factor if l2_factor is None else np.asarray(
            l2_factor, dtype=np.float64)
        p = self.l1_factor.shape[0]
        self.excluded = np.zeros(p, bool) if excluded is None else np.asarray(excluded, bool)
        #: rows with no penalty at all (the certificate projects them out of the dual point)
        self.unpenalized = (self.l1_factor == 0) & (self.l2_factor == 0) & ~self.excluded
        #: rows whose penalty depends on alpha (screened along the path)
        self.penalised = ~self.unpenalized & ~self.excluded

    def _l1_l2(self, alpha):
        """Per-row weights ``(l1, l2)`` at ``alpha`` (``l1 = inf`` holds excluded rows at 0)."""
        l1 = np.where(self.excluded, np.inf, alpha * self.l1_ratio * self.l1_factor)
        l2 = np.where(self.excluded, 0.0, alpha * (1 - self.l1_ratio) * self.l2_factor)
        return l1, l2

    @staticmethod
    def _rows(z):
        return row_norms_safe(z)

    def value(self, w, alpha):
        nrm = self._rows(w)
        keep = ~self.excluded
        return float(alpha * (self.l1_ratio * np.sum(self.l1_factor[keep] * nrm[keep])
                              + 0.5 * (1 - self.l1_ratio)
                              * np.sum(self.l2_factor[keep] * nrm[keep] ** 2)))

    def alpha_max(self, z):
        """Smallest alpha at which every penalised row is zero: ``max_j ‖z_j‖ / (ρ a_j)``
        (``z`` the projected gradient of the null fit); ``inf`` for ``l1_ratio = 0``."""
        pen = (self.l1_factor > 0) & ~self.excluded
        if not pen.any():
            return 0.0
        if self.l1_ratio == 0:
            return np.inf
        return float(np.max(self._rows(z)[pen] / (self.l1_ratio * self.l1_factor[pen])))

    def dual_scale(self, z, alpha):
        """Largest ``t <= 1`` with ``t‖z_j‖ <= l1_j`` on every row without a ridge part."""
        l1, l2 = self._l1_l2(alpha)
        box = (l2 == 0) & (l1 > 0) & ~self.excluded
        a = self._rows(z)[box]
        over = a > l1[box]
        if not over.any():
            return 1.0
        return float(np.min(l1[box][over] / a[over])) * _INSIDE

    def conjugate(self, z, alpha):
        """``Σ_j (‖z_j‖ - l1_j)_+² / (2 l2_j)`` over the rows with a ridge part."""
        l1, l2 = self._l1_l2(alpha)
        ridge = (l2 > 0) & ~self.excluded
        a = np.maximum(self._rows(z)[ridge] - l1[ridge], 0.0)
        return float(np.sum(a * (a / (2 * l2[ridge]))))  # (a*a alone can overflow)

    def violation(self, z, alpha):
        """``(‖z_j‖ - l1_j)_+`` per row: by how much a zero row violates its KKT condition
        (0 for excluded rows; unpenalised rows: ``‖z_j‖``)."""
        l1, _ = self._l1_l2(alpha)
        return np.where(self.excluded, 0.0, np.maximum(self._rows(z) - l1, 0.0))

    def kkt_violation(self, z, w, alpha):
        """``max_j dist(z_j, ∂h_j(W_j))``: ``‖z_j - l1 W_j/‖W_j‖ - l2 W_j‖`` on non-zero
        rows, ``(‖z_j‖ - l1_j)_+`` on zero rows."""
        z = np.asarray(z, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        l1, l2 = self._l1_l2(alpha)
        nrm = self._rows(w)
        nz = nrm > 0
        d = self.violation(z, alpha)
        if nz.any():
            u = w[nz] / nrm[nz, None]
            d[nz] = self._rows(z[nz] - l1[nz, None] * u - l2[nz, None] * w[nz])
        d[self.excluded] = 0
        return float(d.max()) if d.size else 0.0

    def terms(self, w, z, zp, alpha):
        """``(value(w), t, conjugate(t·zp), kkt_violation(z, w))`` (the certificate's);
        as :meth:`ElasticNetPenalty.terms`, a second valid scaling ``t2 < t`` that keeps
        every row with a ridge part inside its l1 ball too (conjugate 0 up to rounding)
        makes ``t`` and the conjugate pairs: the bound that stays tight when the ridge
        part is tiny against the data."""
        zp = np.asarray(zp, np.float64)
        t = self.dual_scale(zp, alpha)
        value, conj = self.value(w, alpha), self.conjugate(t * zp, alpha)
        kkt = self.kkt_violation(z, w, alpha)
        if conj > 0 and self.l1_ratio > 0:
            l1, l2 = self._l1_l2(alpha)
            ridge = (l2 > 0) & (l1 > 0) & ~self.excluded
            m = float(np.max(self._rows(zp)[ridge] / l1[ridge], initial=0.0))
            t2 = _INSIDE / m if m * t > 1 else t
            if 0 < t2 < t:
                return value, (t, t2), (conj, self.conjugate(t2 * zp, alpha)), kkt
        return value, t, conj, kkt


# ---------------------------------------------------------------------------------------
# Multinomial, ungrouped (owner: the multinomial work)
# ---------------------------------------------------------------------------------------

class ClasswiseElasticNetPenalty:
    """The elastic net on every entry of ``W`` of shape (n_features, n_classes)::

        alpha·(l1_ratio·Σ_jk a_j|W_jk| + (1 - l1_ratio)/2·Σ_jk b_j W_jk²)

    (glmnet's multinomial ``type.multinomial="ungrouped"``). The certificate's terms are
    those of :class:`ElasticNetPenalty` on the flattened matrix (``flat``: factors repeated
    per class); ``feature`` is the per-feature penalty each class's least-squares model is
    solved with. ``unpenalized``/``excluded`` are feature masks (shape (n_features,))."""

    def __init__(self, l1_ratio, l1_factor, l2_factor=None, excluded=None, *, n_classes):
        self.feature = ElasticNetPenalty(l1_ratio, l1_factor, l2_factor, excluded=excluded)
        f = self.feature
        self.n_classes = int(n_classes)
        rep = (lambda v: np.repeat(v, self.n_classes))
        self.flat = ElasticNetPenalty(l1_ratio, rep(f.l1_factor), rep(f.l2_factor),
                                      excluded=rep(f.excluded))
        self.l1_ratio, self.l1_factor, self.l2_factor = f.l1_ratio, f.l1_factor, f.l2_factor
        self.excluded, self.unpenalized = f.excluded, f.unpenalized
        self.positive, self.has_box = False, False

    @staticmethod
    def _flat(a):
        return np.ascontiguousarray(a, dtype=np.float64).ravel()

    def value(self, w, alpha):
        return self.flat.value(self._flat(w), alpha)

    def alpha_max(self, z):
        return self.flat.alpha_max(self._flat(z))

    def dual_scale(self, z, alpha):
        return self.flat.dual_scale(self._flat(z), alpha)

    def conjugate(self, z, alpha):
        return self.flat.conjugate(self._flat(z), alpha)

    def kkt_violation(self, z, w, alpha):
        return self.flat.kkt_violation(self._flat(z), self._flat(w), alpha)

    def terms(self, w, z, zp, alpha):
        return self.flat.terms(self._flat(w), self._flat(z), self._flat(zp), alpha)


class MultiTaskSparseGroupLasso:
    """``alpha·(l1_ratio·Σ_j ‖W_j‖₂ + (1 - l1_ratio)·Σ_g c_g ‖W_g‖_F)`` on ``W`` of shape
    (n_features, n_responses): rows ``W_j`` (a feature across the responses) inside
    feature groups ``W_g`` (the ``|g| × K`` block).

    Every quantity depends on ``W`` (or a gradient ``Z``) only through its row norms
    ``v_j = ‖W_j‖`` (``‖W_g‖_F = ‖v_g‖₂``): value, ``alpha_max``, the dual scaling and the
    zero-group KKT condition are :class:`SparseGroupLasso`'s on ``v``. Only a non-zero
    group's KKT condition needs the row directions. Every feature must be in a group of
    positive weight (no unpenalised rows).
    """

    def __init__(self, gptr, gidx, weights, rho):
        self._sgl = SparseGroupLasso(gptr, gidx, weights, rho)
        self.rho, self.weights = float(rho), self._sgl.weights
        self.gptr, self.gidx = self._sgl.gptr, self._sgl.gidx
        p = self.gidx.size
        self.unpenalized = np.zeros(p, dtype=bool)
        self.excluded = np.zeros(p, dtype=bool)
        self.penalised = np.ones(p, dtype=bool)

    @staticmethod
    def _rows(z):
        return row_norms_safe(z)

    def value(self, w, alpha):
        return self._sgl.value(self._rows(w), alpha)

    def alpha_max(self, z):
        return self._sgl.alpha_max(self._rows(z))

    def dual_scale(self, z, alpha):
        return self._sgl.dual_scale(self._rows(z), alpha)

    def conjugate(self, z, alpha):
        return 0.0  # the indicator of the dual ball, which dual_scale enforces

    def kkt_violation(self, z, w, alpha, rows=None):
        """``max_g dist(Z_g, ∂pen_g(W_g))``: zero groups ``(‖S_row(Z_g, αρ)‖_F - α(1-ρ)c_g)_+``;
        non-zero groups row by row, ``Z_j - αρ W_j/‖W_j‖ - α(1-ρ)c_g W_j/‖W_g‖`` on non-zero
        rows and ``(‖Z_j‖ - αρ)_+`` on zero rows. ``rows``: ``(‖Z_j‖, ‖W_j‖)`` when known
        (:meth:`terms`). The row-wise work reads the non-zero groups' rows only."""
        z = np.asarray(z, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        sgl = self._sgl
        zr, wr = (self._rows(z), self._rows(w)) if rows is None else rows
        l1 = alpha * self.rho
        l2 = alpha * (1 - self.rho) * self.weights
        d = sgl._soft_norm(zr, l1) - l2  # the zero groups' (replaced below for the others)
        fro = sgl.group_norms(wr)
        active = fro > 0
        if active.any():
            feats = self.gidx[np.repeat(active, sgl._sizes)]  # their rows, in group order
            g = sgl.group_of[feats]
            r = wr[feats]
            e = np.maximum(zr[feats] - l1, 0.0)
            nz = r > 0
            f, gn = feats[nz], g[nz]
            e[nz] = self._rows(z[f] - (l1 / r[nz] + l2[gn] / fro[gn])[:, None] * w[f])
            d[active] = np.sqrt(np.bincount(g, weights=e * e, minlength=d.size))[active]
        return max(float(d.max()), 0.0) if d.size else 0.0

    def terms(self, w, z, zp, alpha):
        """``(value(w), t, 0, kkt_violation(z, w))`` (the certificate's), the row norms of
        ``w`` and ``z`` formed once."""
        wr, zr = self._rows(w), self._rows(z)
        zpr = zr if zp is z else self._rows(zp)
        return (self._sgl.value(wr, alpha), self._sgl.dual_scale(zpr, alpha), 0.0,
                self.kkt_violation(z, w, alpha, rows=(zr, wr)))
