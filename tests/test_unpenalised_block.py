"""The elastic net beside unpenalised features that coordinate descent cannot resolve:
columns 1e6 apart in scale and nearly collinear, an offset column and its near copy
(``penalty_factor`` 0). Coordinate descent visits them one at a time and its Newton steps
factorised their Gram, which squares their condition number (~1e10): the fits stopped at
gaps up to 1e5 times their targets ("illposed" fuzzer seeds 66, 77, 101), honestly
reported. The solver now takes an exact least-squares step on the unpenalised block
(QR of its columns) after each kernel run and eliminates the block from its Newton
steps. The reference is computed here in NumPy: the intercept and the unpenalised columns
projected out by an SVD, then FISTA on the penalised coefficients. (The binomial and
Poisson elastic nets on the same columns: ``test_group_scales``, against the group
lasso's fit of the same objective.) The multi-task elastic net likewise: its row sweeps
crawled there (fits stopped uncertified at 1e-3 of the null deviance above the optimum)
and, without intercept, a Newton step in the Gram of those columns (condition number
~1e18) took the fit to coefficients of 1e153, returned with a NaN gap and no warning. The
multinomial classifier too: its sweeps crawled on those columns (3% of the null deviance
above the optimum) and its certificate's dual point, solved on the columns' own normal
equations, missed its constraints and fell back to the trivial bound (gaps of 0.9 of the
null deviance); reference there: cvxpy + Clarabel in an orthonormal basis of the block."""
import os
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import sklearn_normpen as S

sys.path.insert(0, os.path.dirname(__file__))
from test_group_scales import P, _data, reduced_optimum  # noqa: E402

PF = np.r_[0.0, 0.0, 0.0, 0.0, 1.0, 2.0]


def _penalty_weights(X, s, alpha, rho, standardize, fit_intercept):
    """Per-feature ``(l1, l2)`` of the package's objective (DESIGN.md): ``standardize``
    scales both parts by the weighted standard deviations, ``σ_j`` and ``σ_j²``."""
    W = s.sum()
    if standardize:
        m = s @ X / W
        sig = np.sqrt(s @ (X - m) ** 2 / W)
    else:
        sig = np.ones(X.shape[1])
    return alpha * rho * PF * sig, alpha * (1 - rho) * PF * sig ** 2


def _objective(coef, b, X, y, s, l1, l2):
    r = y - b - X @ coef
    return 0.5 * float(s @ (r * r)) / s.sum() + l1 @ np.abs(coef) + 0.5 * l2 @ (coef * coef)


def _reference(X, y, s, l1, l2, fit_intercept):
    """The optimal value (:func:`test_group_scales.reduced_optimum`, the elastic net's
    l1 part as the prox, its l2 part in the smooth term)."""
    def prox(v, h):
        return np.sign(v) * np.maximum(np.abs(v) - h * l1[P], 0.0)

    return reduced_optimum(X, y, s, fit_intercept, prox, lambda v: float(l1[P] @ np.abs(v)),
                           l2=l2[P], iters=30000)


def _certified_fit(est, X, y, sw=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rho", [0.5, 1.0])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["covariance", "dense", "sparse", "weighted"])
def test_elastic_net_beside_ill_conditioned_unpenalised_block(seed, rho, standardize,
                                                              fit_intercept, layout):
    X, eta, rng = _data(seed)
    y = eta + 0.5 * rng.standard_normal(len(eta))
    s = rng.uniform(0.2, 3.0, len(y)) if layout == "weighted" else np.ones(len(y))
    alpha, tol = 2e-3, 1e-10
    est = S.ElasticNetRegressor(alpha=alpha, l1_ratio=rho, standardize=standardize,
                                fit_intercept=fit_intercept, penalty_factor=PF, tol=tol,
                                precompute=layout == "covariance")
    m = _certified_fit(est, sp.csc_matrix(X) if layout == "sparse" else X, y,
                       s if layout == "weighted" else None)
    l1, l2 = _penalty_weights(X, s, alpha, rho, standardize, fit_intercept)
    yc = y - (s @ y) / s.sum() if fit_intercept else y
    nd = 0.5 * float(s @ (yc * yc)) / s.sum()
    excess = (_objective(np.asarray(m.coef_, np.float64), m.intercept_, X, y, s, l1, l2)
              - _reference(X, y, s, l1, l2, fit_intercept))
    assert m.dual_gap_ <= tol * nd
    assert -1e-9 * nd <= excess <= tol * nd + 1e-12 * nd


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rho", [0.5, 1.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "sparse", "weighted"])
def test_multitask_elastic_net_beside_ill_conditioned_unpenalised_block(seed, rho,
                                                                        fit_intercept,
                                                                        layout):
    X, eta, rng = _data(seed)
    Y = np.c_[eta, -0.5 * eta] + 0.5 * rng.standard_normal((len(eta), 2))
    s = rng.uniform(0.2, 3.0, len(Y)) if layout == "weighted" else np.ones(len(Y))
    alpha, tol = 2e-3, 1e-10
    est = S.MultiTaskElasticNetRegressor(alpha=alpha, l1_ratio=rho, standardize=False,
                                         fit_intercept=fit_intercept, penalty_factor=PF,
                                         tol=tol)
    m = _certified_fit(est, sp.csc_matrix(X) if layout == "sparse" else X, Y,
                       s if layout == "weighted" else None)
    l1, l2 = _penalty_weights(X, s, alpha, rho, False, fit_intercept)

    def prox(V, h):  # each row's K coefficients shrunk together
        norms = np.linalg.norm(V, axis=1, keepdims=True)
        return V * np.maximum(0.0, 1 - h * l1[P, None] / np.maximum(norms, 1e-300))

    best = reduced_optimum(X, Y, s, fit_intercept, prox,
                           lambda V: float(l1[P] @ np.linalg.norm(V, axis=1)), l2=l2[P],
                           iters=30000)
    C = np.asarray(m.coef_, np.float64).T  # (n_features, K)
    R = Y - m.intercept_ - X @ C
    rows = np.linalg.norm(C, axis=1)
    value = 0.5 * float(s @ np.sum(R * R, axis=1)) / s.sum() + l1 @ rows + 0.5 * l2 @ rows ** 2
    Yc = Y - (s @ Y) / s.sum() if fit_intercept else Y
    nd = 0.5 * float(s @ np.sum(Yc * Yc, axis=1)) / s.sum()
    assert m.dual_gap_ <= tol * nd
    assert -1e-9 * nd <= value - best <= tol * nd + 1e-12 * nd


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("mode", ["ungrouped", "grouped"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multinomial_beside_ill_conditioned_unpenalised_block(seed, mode, fit_intercept):
    import cvxpy as cp
    from scipy.special import logsumexp
    X, eta, rng = _data(seed)
    n = len(eta)
    y = (np.c_[eta, -eta, 0 * eta] + rng.gumbel(size=(n, 3))).argmax(axis=1)
    alpha, rho, tol = 5e-3, 0.5, 1e-8
    m = _certified_fit(S.ElasticNetClassifier(alpha=alpha, l1_ratio=rho, multinomial=mode,
                                              fit_intercept=fit_intercept,
                                              standardize=False, penalty_factor=PF,
                                              tol=tol), X, y)
    Y = np.eye(3)[y]
    f = PF[P][:, None]

    # the reference: the unpenalised columns (and 1) through an orthonormal basis of
    # their span, on which the conic solver is well conditioned
    A = np.column_stack([np.ones(n), X[:, :4]]) if fit_intercept else X[:, :4]
    Q = np.linalg.qr(A / np.linalg.norm(A, axis=0))[0]
    C, WP = cp.Variable((Q.shape[1], 3)), cp.Variable((P.size, 3))
    E = Q @ C + X[:, P] @ WP
    l1 = (cp.sum(cp.multiply(PF[P], cp.norm(WP, 2, axis=1))) if mode == "grouped"
          else cp.sum(cp.multiply(f, cp.abs(WP))))
    ridge = cp.sum(cp.multiply(f, cp.square(WP)))
    problem = cp.Problem(cp.Minimize(
        cp.sum(cp.log_sum_exp(E, axis=1) - cp.sum(cp.multiply(Y, E), axis=1)) / n
        + alpha * (rho * l1 + 0.5 * (1 - rho) * ridge)))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    assert problem.status == "optimal"
    B = np.asarray(m.coef_, np.float64).T
    Em = X @ B + m.intercept_
    rows = np.linalg.norm(B, axis=1) if mode == "grouped" else np.abs(B).sum(axis=1)
    value = (np.mean(logsumexp(Em, axis=1) - np.sum(Y * Em, axis=1))
             + alpha * (rho * PF @ rows + 0.5 * (1 - rho) * PF @ np.sum(B * B, axis=1)))
    shares = np.bincount(y) / n
    nd = -np.sum(shares * np.log(shares)) if fit_intercept else np.log(3)
    assert m.dual_gap_ <= tol * nd
    # (Clarabel's own accuracy, ~1e-10 here, on either side)
    assert -1e-9 * nd <= value - problem.value <= tol * nd + 1e-9 * nd
