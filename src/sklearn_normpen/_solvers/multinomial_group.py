"""Proximal Newton for the multinomial family with groups of features (K >= 3 classes).

Objective (``N = Σs``; ``W`` of shape (n_features, n_classes), ``W_j`` feature j's K class
coefficients, ``W_g`` a feature group's ``|g| × K`` block; intercepts unpenalised)::

    1/N Σ_i s_i [log Σ_k e^{η_ik} - η_{i,y_i}]
        + alpha (l1_ratio Σ_j ‖W_j‖₂ + (1 - l1_ratio) Σ_g c_g ‖W_g‖_F)

(:class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso`; with singleton groups it
is glmnet's ``type.multinomial="grouped"``). It is
:class:`~sklearn_normpen._solvers.multinomial.MultinomialProblem`'s grouped scheme — one
curvature per row ``t_i = max_k p_ik(1 - p_ik)`` (floored at 1e-5), working response
``Z = η + (Y - P)/t``, an Armijo line search on the true objective, the package's
multinomial certificate — with each Newton model solved by the multi-response
sparse-group solver (:class:`~sklearn_normpen._solvers.multitask_group.
MultiTaskGroupProblem`) instead of the row-wise one. After each step every feature's K
coefficients are shifted by their mean (the loss is invariant to a common shift, and the
row mean minimises every row norm, hence both terms of the penalty).

A row penalty (:class:`~sklearn_normpen.penalties.MultiTaskElasticNetPenalty`, e.g. every
group a singleton, or the null fit's) is solved by the compiled sweeps of
:class:`~sklearn_normpen._solvers.multinomial.MultinomialProblem` instead.
"""
import numpy as np

from .._design import rounded_coefficients
from ..datafits import Multinomial
from .multinomial import CURVATURE_FLOOR, MultinomialProblem
from .multitask_group import MultiTaskGroupProblem


class GroupMultinomialProblem(MultinomialProblem):
    """:class:`MultinomialProblem` (``grouped``) for a
    :class:`~sklearn_normpen.penalties.MultiTaskSparseGroupLasso` on the feature
    ``groups`` (a partition of the features, list of index arrays). ``inv_scale``: X's
    columns were divided by their standard deviations; :meth:`to_original` returns the
    coefficients on the user's scale. ``x_shift``: what was subtracted from each scaled
    column (offset columns, see ``sklearn_normpen._families._standardized``)."""

    def __init__(self, X, codes, n_classes, sample_weight, fit_intercept, groups,
                 inv_scale=None, rows=None, x_shift=None):
        super().__init__(X, codes, n_classes, sample_weight, fit_intercept, True, rows=rows)
        self.groups = [np.asarray(g, dtype=np.intp) for g in groups]
        self.inv_scale = None if inv_scale is None else np.asarray(inv_scale, np.float64)
        self.x_shift = x_shift
        self._inner_pause = None  # the last Newton model's sweeps before its Newton step

    def _model_step(self, w, penalty, alpha, tol_model, max_iter, alpha_prev, k=None):
        d = self.design
        P = Multinomial.mean(self.eta)
        t = np.maximum(P * (1 - P), CURVATURE_FLOOR).max(axis=1)
        Z = self.eta + (self.Y - P) / t[:, None]
        sv = t if d.sw64 is None else d.sw64 * t
        scale = self.N / float(np.sum(sv))  # model objective · scale = inner objective
        inner = MultiTaskGroupProblem(d.X, Z, sv, self.fit_intercept, self.groups)
        # an ill-conditioned model is one every step: the last model's sweeps before its
        # Newton step, not a fresh 200 (see GLMProblem._model)
        if self._inner_pause is not None:
            inner._pause = self._inner_pause
        wq = inner.start(np.asarray(w, dtype=np.float64))
        _, ep = inner.solve(wq, penalty, alpha * scale, tol_model * scale, max_iter)
        self._inner_pause = inner._pause
        return wq, np.asarray(inner.to_original(wq)[1], dtype=np.float64), int(ep)

    def _best_shift(self, W, penalty, alpha):
        out = np.array(W, dtype=np.float64)
        rows = np.any(out != 0, axis=1)
        if not rows.any():
            return out
        shifted = out.copy()
        shifted[rows] -= shifted[rows].mean(axis=1, keepdims=True)
        # kept only where it lowers the penalty (rounding could undo a zero shift)
        return shifted if penalty.value(shifted, alpha) <= penalty.value(out, alpha) else out

    def to_original(self, w):
        coef, b = super().to_original(w)
        if self.inv_scale is not None:
            # the intercepts of the rounded coefficients (see rounded_coefficients;
            # η = X W + b on the uncentred scaled columns, so b absorbs x̄ᵀ(W_eff - W))
            W = np.asarray(coef, np.float64)
            coef, w_eff = rounded_coefficients(W, self.inv_scale[:, None], self.dtype)
            if self.fit_intercept:
                b = b - np.asarray(self.design.x_mean, np.float64) @ (w_eff - W)
                if self.x_shift is not None:
                    b = b - self.x_shift @ w_eff
                b = b - b.mean()
        return coef, b
