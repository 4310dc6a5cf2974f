"""Block coordinate descent for the sparse-group multi-response Gaussian family (groups of
features, each group's |g| × K block of coefficients one block; grpreg-style, glmnet has
none).

Objective (``N = Σs``, ``W`` of shape (n_features, n_responses), ``b`` unpenalised)::

    1/(2N) Σ_i s_i ‖y_i - Wᵀx_i - b‖² + alpha (l1_ratio Σ_j ‖W_j‖₂
                                               + (1 - l1_ratio) Σ_g c_g ‖W_g‖_F)

The kernel (``_kernels/_bcd_multitask_group.pyx``, dense and CSC, float32/float64) visits
the groups of a working set; a visit reads the group's gradient block once and minimises the
block's quadratic model by proximal-gradient steps of length ``1/L_g`` (``L_g`` the largest
eigenvalue of the group's weighted centred Gram over N, computed once in float64),
accelerated (FISTA) in the group's Gram for groups of at most ``GRAM_MAX`` features: every
row shrunk by ``alpha·l1_ratio/L_g`` in norm, then the block by
``alpha(1 - l1_ratio)c_g/L_g`` in Frobenius norm (the prox of these nested norms is that
composition). The residual matrix is updated in place, X is never densified nor copied
(the :class:`~sklearn_normpen._design.Design`'s layout, as the multi-task elastic net's);
float32 X keeps float32 coefficients and residual, the block arithmetic is float64. Every
``anderson_k + 1`` epochs the kernel extrapolates the working set's coefficients (Anderson),
kept when the restricted objective falls.

Working set of groups: the non-zero ones plus the sequential strong rule
``‖S_row(Z_g, ρ(2α - α_prev))‖ > (1 - ρ)c_g(2α - α_prev)`` (with n < p dense, at most a
third of the support of those, the nearest their ball; cold start: the worst
violators); every certificate's full gradient adds the groups that violate their KKT
condition, so a point is accepted only after a KKT pass over all groups. Acceptance is the
package's certificate (:class:`MultiTaskProblem`'s float64 residual-matrix statistics); on
dense float64 data its gradient leaves out the zero groups that the last full gradients
bound inside their balls (:mod:`.gradient_bound`: the same gap and KKT violation).
"""
import numpy as np

from .._certificate import certificate
from .._design import inverse_std, rounded_coefficients
from .._kernels import _bcd_multitask as KM
from .._kernels import _bcd_multitask_group as K
from .._validation import call_kernel
from .coordinate_descent import (POLISH_EPOCHS, POLISH_MIN_EPOCHS, stop_on_certificate,
                                 strong_candidates)
from .gradient_bound import GradientReferences
from .group_newton import Pause, active_rows, kept_step
from .multitask import MultiTaskProblem

#: groups up to this many features keep their packed Gram (inner steps in Gram space);
#: wider ones take one proximal-gradient step per visit
GRAM_MAX = 128


#: columns gathered at once when forming the groups' Grams (a float64 n x this block)
_GRAM_BLOCK = 2048


def _group_grams(design, kept, sizes):
    """``(L, gram, goff)``: each group's largest eigenvalue ``L_g`` (0 for an empty group)
    of its weighted centred Gram ``Q_g = B_gᵀ S B_g / N`` (``B_g`` its float64 centred
    columns, :meth:`Design.explicit_columns`), and the Grams of the groups of 2 to
    ``GRAM_MAX`` features packed row-major in group order, group ``g``'s at ``goff[g]``
    (-1: none kept). Groups of one size are done together, a few thousand columns per
    gather (one gather per group took 58 ms of setup on 2000 groups of 5; 48 ms now)."""
    d = design
    L = np.zeros(len(kept))
    packed = (sizes > 1) & (sizes <= GRAM_MAX)
    goff = np.full(len(kept), -1, dtype=np.intp)
    sq = sizes[packed] ** 2
    goff[packed] = np.cumsum(sq) - sq
    gram = np.empty(int(sq.sum()))
    root = None if d.sw64 is None else np.sqrt(d.sw64)[:, None]
    for k in np.unique(sizes[sizes > 0]):
        k = int(k)
        sel = np.flatnonzero(sizes == k)
        step = max(_GRAM_BLOCK // k, 1)
        for a in range(0, sel.size, step):
            part = sel[a:a + step]
            B = d.explicit_columns(np.concatenate([kept[g] for g in part]))
            if root is not None:
                B *= root
            B3 = np.ascontiguousarray(B.T).reshape(part.size, k, B.shape[0])
            grams = (B3 @ B3.transpose(0, 2, 1)) / d.N
            L[part] = np.linalg.eigvalsh(grams)[:, -1] if k > 1 else grams[:, 0, 0]
            if 1 < k <= GRAM_MAX:
                gram[goff[part][:, None] + np.arange(k * k)] = grams.reshape(part.size, -1)
    return L, gram, goff


class MultiTaskGroupProblem(MultiTaskProblem):
    """:class:`MultiTaskProblem` with feature groups (``groups``: list of index arrays,
    a partition of the features; ``penalty``: a
    :class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso` on them). Coefficients
    have X's dtype. ``inv_scale``: X's columns were divided by their standard deviations
    (``standardize``); :meth:`to_original` multiplies the solver's coefficients by it, so
    that paths hold the user's scale. ``x_shift``: what was subtracted from each scaled
    column (offset columns, see ``sklearn_normpen._families._standardized``).
    ``exact``: the :class:`~sklearn_normpen._design.Design` of the user's unscaled X
    (float32 data with ``inv_scale``): the certificate's float64 sums then read its
    columns times ``inv_scale`` (exact in float64) rather than the scaled float32 copy,
    whose entries are rounded to 6e-8 of themselves, another data set. (Its gap sat
    4.7e-9 of the null deviance below the objective's true excess beside a nearly
    collinear pair, fuzzer seed 7158; the group lasso's ``_exact_stats`` is the same
    rule.)"""

    #: float32 sweeps' block-change stop (largest L_g ||dW_g||_F² of an epoch) at this
    #: fraction of the gap target (the proxy is optimistic: 100 CV paths on 100×10×3 went
    #: from 897 to 659 certificates)
    float32_step_factor = 0.01

    #: depth of the kernel's Anderson extrapolation (every ``anderson_k + 1`` epochs; 0:
    #: none)
    anderson_k = 5

    def __init__(self, X, Y, sample_weight, fit_intercept, groups, inv_scale=None,
                 rows=None, x_shift=None, exact=None):
        super().__init__(X, Y, sample_weight, fit_intercept, rows=rows)
        self.inv_scale = None if inv_scale is None else np.asarray(inv_scale, np.float64)
        self.x_shift = x_shift
        self._exact = exact if self._fresh and self.inv_scale is not None else None
        if self._exact is not None:
            # (the copy's columns were multiplied by the float32 rounding of 1/σ)
            self.inv_scale = inverse_std(exact.x_std, exact.constant)
        d = self.design
        self.groups = [np.asarray(g, dtype=np.intp) for g in groups]
        G = len(self.groups)
        # the kernel's groups leave out constant columns under an intercept: centred they
        # are zero (up to rounding, which a 1/L_g step would blow up), their rows stay 0
        drop = d.constant if self.fit_intercept else np.zeros(self.p, dtype=bool)
        kept = [g[~drop[g]] for g in self.groups]
        sizes = np.array([k.size for k in kept], dtype=np.intp)
        self._gptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intc)
        self._gidx = (np.concatenate(kept) if G else np.zeros(0)).astype(np.intc)
        # block arithmetic in float64 whatever X's dtype (see the kernel)
        Lg, self._gram, self._goff = _group_grams(d, kept, sizes)
        self._Lg = np.maximum(Lg, 0)
        kmax = int(sizes.max()) if G else 0
        self._gbuf = np.zeros(K.SCRATCH_SLOTS * self.n_responses * kmax)
        self._srsum = np.zeros(self.n_responses)
        self._xmean64 = np.ascontiguousarray(d.xk_mean, dtype=np.float64)
        self._fgroup = np.full(self.p, -1, dtype=np.intp)  # each kept feature's group
        for g, idx in enumerate(kept):
            self._fgroup[idx] = g
        # the last full certificate gradients, bounding later ones (_cert_gradient)
        self._zrefs, self._lip = GradientReferences(), None

    def _residual64(self, w):
        if self._exact is None:
            R = super()._residual64(w)
        else:
            R = self.Yc64 - self._exact.centred_product64(
                self.inv_scale[:, None] * np.asarray(w, np.float64))
        self._last_R64 = R
        return R

    def _returned(self, w):
        """The point a certificate is formed at: ``w``, or (float32 under standardize)
        the solver-scale coefficients that the returned float32 ones stand for
        (:func:`~sklearn_normpen._design.rounded_coefficients`), so that the gap bounds
        what the user gets: away from the optimum the cast moves the objective at first
        order (9e-9 of the null deviance at a gap of 1e-6, fuzzer seed 7182)."""
        if self._exact is None:
            return w
        return rounded_coefficients(w, self.inv_scale[:, None], self.dtype)[1]

    def _gradient64(self, R, design=None):
        if self._exact is None or design is not None:
            return super()._gradient64(R, design)
        return self.inv_scale[:, None] * super()._gradient64(R, self._exact)

    def _unpen(self, mask):
        """:meth:`MultiTaskProblem._unpen`; float32 under standardize: from the user's
        columns, ``M`` scaled by the exact ``1/σ`` (as the gradients)."""
        if self._exact is None or not mask.any():
            return super()._unpen(mask)
        U = np.flatnonzero(mask)
        key = U.tobytes()
        if key not in self._unpen_cache:
            M, a, W = self._exact.unpenalised_span64(U, self.Yc64, basis=True)
            self._unpen_cache[key] = ((U, M * self.inv_scale[:, None], a), W)
        return self._unpen_cache[key]

    def cert_stats(self, w, penalty, alpha=None):
        """:meth:`MultiTaskProblem.cert_stats`; a float32 problem's running residual (which
        drifts over many block updates) restarts from the float64 one formed there."""
        stats = super().cert_stats(w, penalty, alpha)
        if self.dtype != np.float64:
            self.R[:] = self._last_R64 - (
                np.asarray(self.xk_mean, np.float64) @ np.asarray(w, np.float64))
        return stats

    def _cert_gradient(self, R, w, pen, alpha):
        """The full gradient, or (dense float64 data, every feature in a kept group, a
        group part: ``l1_ratio < 1``, and ``alpha`` given) one with the zero groups whose
        bound is inside their ball ``alpha (1 - l1_ratio) c_g`` left at 0
        (:mod:`.gradient_bound`); a full product, which becomes the newest reference,
        when more than half the features would be computed."""
        if (alpha is None or self.design.sparse or self._fresh or pen.rho >= 1
                or self._gidx.size != self.p):
            return self._gradient64(R)
        sgl = pen._sgl
        if self._lip is None:  # (the kernel's L_g, with a relative slack for rounding)
            self._lip = np.sqrt(self._Lg * (1 + 1e-6) / self.N)
        zero = np.ones(pen.weights.size, dtype=bool)
        zero[sgl.group_of[np.flatnonzero(w) // self.n_responses]] = False
        skip = self._zrefs.skipped(
            R, lambda zc: sgl._soft_norm(pen._rows(zc), alpha * pen.rho), self._lip,
            alpha * (1 - pen.rho) * pen.weights, zero,
            norm=lambda E: np.sqrt(self._wsum(E * E)))
        if skip is not None:
            cols = np.ascontiguousarray(pen.gidx[np.repeat(~skip, sgl._sizes)],
                                        dtype=np.intc)
            if 2 * cols.size <= self.p:
                X, xm = self.design.exact_layout()
                G = np.zeros((self.p, self.n_responses))
                status = call_kernel(KM.gradient_mt_dense_cols, X, self._sw64,
                                     np.ascontiguousarray(xm, dtype=np.float64),
                                     np.asfortranarray(R), cols, G)
                if status != 0:  # pragma: no cover - gidx is checked by the structure
                    raise RuntimeError(
                        f"gradient_mt_dense_cols failed with status {status}.")
                return G / self.N
        G = self._gradient64(R)
        self._zrefs.push(R, G, sgl.group_of, pen.weights.size)
        return G

    def _group_sweep(self, w, ws, l1, l2, max_epochs, tol, pred=None):
        """Sweeps until their working set's gap is at most ``tol`` (:meth:`_stops`);
        returns ``(epochs, gap)`` (gap inf: not evaluated). ``pred``: the path's
        prediction (:meth:`predict_next`), applied before the first epoch."""
        if ws.size == 0 or max_epochs <= 0:
            return 0, 0.0
        step, gap_tol = self._stops(tol)
        args = (self._xmean64, w, self.R, self._gptr, self._gidx, self._Lg, float(l1), l2,
                self._gram, self._goff, ws, self.dtype.type(self.N), int(max_epochs),
                self.dtype.type(step), gap_tol, self._gbuf, self._srsum, self.anderson_k,
                self._no_pred if pred is None else pred)
        if self.design.sparse:
            return call_kernel(K.bcd_mtg_sparse, *self._csc, self.n, self.sw, *args)
        return call_kernel(K.bcd_mtg_dense, self.design.Xk, self.sw, *args)

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None, p0=10):
        """Block CD at ``alpha`` from ``w`` (updated in place) on a working set of groups
        (module docstring) until the certificate is at most ``tol_abs`` or ``max_iter``
        epochs are spent; returns ``(Certificate, epochs)``."""
        pen, sgl, rho = penalty, penalty._sgl, penalty.rho
        pred, self._pred = self._pred, None  # (predict_next: the first sweep applies it)
        l1 = alpha * rho
        l2 = np.ascontiguousarray(alpha * (1 - rho) * pen.weights, dtype=np.float64)
        z = self._z if self._z is not None else self._gradient64(self._residual64(w))
        active = sgl.group_norms(pen._rows(w)) > 0
        slack = sgl.violation_slack(alpha)  # a rounding-level violation is none
        if alpha_prev is None:  # cold start: the p0 worst violators
            score = sgl.violation(pen._rows(z), alpha)
            strong = self._top(score, ~active & (score > slack),
                               max(p0, int(active.sum())))
        else:  # sequential strong rule on the row norms
            a2 = 2 * alpha - alpha_prev
            soft, ball = sgl._soft_norm(pen._rows(z), rho * a2), (1 - rho) * pen.weights
            strong = strong_candidates(soft > ball * a2, active, soft, ball, p0,
                                       not self.design.sparse and self.n < self.p)
        ws = active | strong

        pause = Pause(self._pause, POLISH_MIN_EPOCHS, POLISH_EPOCHS)

        def run(inner, left, first):
            grown = False
            if not first:  # the KKT pass over every group, on the certificate's gradient
                v = sgl.violation(pen._rows(self._z), alpha)
                viol = (v > slack) & ~ws
                if viol.any():
                    ws[:] |= self._top(v, viol, max(p0, int(ws.sum())))
                    grown = True
            chunk = pause.chunk(left)
            epochs, gap = self._group_sweep(w, np.flatnonzero(ws).astype(np.intc), l1, l2,
                                            chunk, tol_abs if grown else inner,
                                            pred=pred if first else None)
            if pause.due(epochs, chunk, left):
                # a slow tail (nearly collinear columns): Newton steps on the active rows
                pause.record(self._newton(w, pen, alpha))
                return epochs, None  # resume on the same target
            return epochs, (None if grown else gap)

        def cert_of():
            wc = self._returned(w)
            return certificate(self.cert_stats(wc, pen, alpha), pen, alpha, wc)

        cert, epochs = stop_on_certificate(
            run, cert_of,
            tol_abs, max_iter)
        self._pause = pause.next(self._pause, cert.gap <= tol_abs)
        return cert, epochs

    def _newton(self, w, pen, alpha):
        """Newton steps on the active rows (:mod:`.group_newton`, each feature's K
        coefficients a row of the l1 part inside its group's block; Hessian
        ``kron(G_A, I_K)`` plus the norms'), kept when they lower the objective; the
        residual is then recomputed. Returns whether ``w`` changed."""
        A, grp, row, c = active_rows(pen._rows(w), self._fgroup, pen.weights, pen.rho,
                                     self.n_responses)
        system = self._newton_system(w, A)
        if system is None:
            return False
        G, g, u0 = system
        u = kept_step(G, g, u0, grp, c, float(alpha), pen.rho, self.dtype, row=row)
        return self._newton_store(w, A, u, pen, alpha)

    def to_original(self, w):
        """``(coef (n_features, n_responses), intercept (n_responses,))`` on the user's
        scale (the intercept is ``ȳ - x̄ᵀw`` on the scaled columns, the same number)."""
        if self.inv_scale is None:
            return super().to_original(w)
        # the intercept of the rounded coefficients (see rounded_coefficients)
        coef, w_eff = rounded_coefficients(w, self.inv_scale[:, None], self.dtype)
        if self._exact is not None:  # (on the user's own column means)
            b = (self.y_mean - self._exact.x_mean @ coef.astype(np.float64)
                 if self.fit_intercept else np.zeros(self.n_responses))
            return coef, b
        b = super().to_original(w_eff)[1]
        if self.fit_intercept and self.x_shift is not None:
            b = b - self.x_shift @ w_eff
        return coef, b
