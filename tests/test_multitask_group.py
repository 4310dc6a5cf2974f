"""Sparse-group lasso for several responses (multitask_group_lasso_path): cvxpy + Clarabel,
an independent NumPy duality gap at every path point, and its special cases."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn.model_selection import KFold

from sklearn_normpen import (MultiTaskGroupLassoPathCV, MultiTaskGroupLassoRegressor,
                             multitask_enet_path, multitask_group_lasso_path)
from _oracle import weighted_std
from _sweeps import check_sweeps_gap

GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]]


def _data(n=70, seed=0, K=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 10))
    B = np.zeros((10, K))
    B[[0, 1, 5]] = rng.standard_normal((3, K))
    return X, X @ B + 0.4 * rng.standard_normal((n, K))


def _centred(X, Y, sw):
    s = np.ones(len(X)) if sw is None else sw
    xm, ym = s @ X / s.sum(), s @ Y / s.sum()
    return X - xm, Y - ym, s


def _penalty(W, alpha, rho, gw):
    rows = np.linalg.norm(W, axis=1)
    return alpha * (rho * rows.sum()
                    + (1 - rho) * sum(c * np.linalg.norm(W[g]) for g, c in zip(GROUPS, gw)))


def _gap(X, Y, W, alpha, rho, sw=None, gw=None):
    """Independent duality gap (centred data, intercept fitted): dual point c·R, R the
    residual matrix, c the best value keeping every group of Xᵀ S cR / Σs in the dual ball
    ``‖S_row(·, αρ)‖_F <= α(1 - ρ)c_g`` (bisection)."""
    Xc, Yc, s = _centred(X, Y, sw)
    gw = np.sqrt([len(g) for g in GROUPS]) if gw is None else gw
    Wt = s.sum()
    R = Yc - Xc @ W
    Z = Xc.T @ (s[:, None] * R) / Wt

    def ok(c, g, cg):
        soft = np.maximum(c * np.linalg.norm(Z[g], axis=1) - alpha * rho, 0)
        return np.linalg.norm(soft) <= alpha * (1 - rho) * cg * (1 + 1e-12)

    c = 1.0
    for g, cg in zip(GROUPS, gw):
        if not ok(c, g, cg):
            lo, hi = 0.0, c
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if ok(mid, g, cg) else (lo, mid)
            c = lo
    rr = np.sum(s[:, None] * R * R) / Wt
    ry = np.sum(s[:, None] * R * Yc) / Wt
    c = min(c, ry / rr) if rr > 0 else c  # the best feasible scaling (D is concave in c)
    primal = 0.5 * rr + _penalty(W, alpha, rho, gw)
    dual = c * ry - 0.5 * c * c * rr
    return primal - dual


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_matches_cvxpy_with_weights_and_group_weights(rho):
    cp = pytest.importorskip("cvxpy")
    X, Y = _data()
    sw = np.random.default_rng(1).uniform(0.3, 2, len(X))
    gw = np.array([1.0, 2.0, 0.8, 1.5])
    alphas = np.array([0.3, 0.08])
    a, C, gaps = multitask_group_lasso_path(X, Y, groups=GROUPS, group_weights=gw,
                                            l1_ratio=rho, alphas=alphas, sample_weight=sw,
                                            fit_intercept=True, standardize=False,
                                            tol=1e-12, max_iter=200000)
    Xc, Yc, s = _centred(X, Y, sw)
    W = cp.Variable((10, 3))
    obj = (cp.sum(cp.multiply(s[:, None], cp.square(Yc - Xc @ W))) / (2 * s.sum())
           + 0.08 * (rho * cp.sum(cp.norm(W, 2, axis=1))
                     + (1 - rho) * sum(c * cp.norm(W[g], "fro") for g, c in zip(GROUPS, gw))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    np.testing.assert_allclose(C[:, :, 1].T, W.value, atol=1e-5)
    P = lambda V: (0.5 * np.sum(s[:, None] * (Yc - Xc @ V) ** 2) / s.sum()  # noqa: E731
                   + _penalty(V, 0.08, rho, gw))
    assert P(C[:, :, 1].T) - P(W.value) <= gaps[1] + 1e-12  # the certificate bounds it
    for k in range(2):
        g = _gap(X, Y, C[:, :, k].T, a[k], rho, sw, gw)
        assert -1e-12 <= g <= 1e-9
    if rho == 0.0:  # at alpha=0.3 whole groups are out, for every response
        assert np.all(C[:, GROUPS[3], 0] == 0)


def test_independent_gap_at_every_point_and_special_cases():
    X, Y = _data(seed=2)
    a, C, gaps = multitask_group_lasso_path(X, Y, groups=GROUPS, l1_ratio=0.3, n_alphas=12,
                                            fit_intercept=True, standardize=False, tol=1e-8)
    null = 0.5 * np.sum(_centred(X, Y, None)[1] ** 2) / len(X)
    assert np.all(C[..., 0] == 0)  # alpha_max
    assert np.any(C[..., 1] != 0)  # just below it something enters
    for k in range(len(a)):
        g = _gap(X, Y, C[:, :, k].T, a[k], 0.3)
        assert -1e-12 <= g <= 1e-8 * null * 1.01
    # l1_ratio=1: the multi-task lasso; singleton groups of weight 1: the same for any ratio
    a1, C1, _ = multitask_group_lasso_path(X, Y, l1_ratio=1.0, n_alphas=8, tol=1e-11,
                                           fit_intercept=True, standardize=False)
    a2, C2, _ = multitask_enet_path(X, Y, l1_ratio=1.0, alphas=a1, tol=1e-11,
                                    fit_intercept=True, standardize=False)
    np.testing.assert_allclose(C1, C2, atol=1e-7)
    _, C3, _ = multitask_group_lasso_path(X, Y, l1_ratio=0.2, group_weights=np.ones(10),
                                          alphas=a1, tol=1e-11, fit_intercept=True,
                                          standardize=False)
    np.testing.assert_allclose(C3, C2, atol=1e-7)


def test_standardize_sparse_float32():
    X, Y = _data(seed=3)
    X[np.abs(X) < 0.5] = 0
    X[:, 4] *= 100.0
    sigma = weighted_std(X)[0]
    a, C, _ = multitask_group_lasso_path(X, Y, groups=GROUPS, l1_ratio=0.4, n_alphas=6,
                                         fit_intercept=True, tol=1e-10)
    _, Cs, _ = multitask_group_lasso_path(X / sigma, Y, groups=GROUPS, l1_ratio=0.4,
                                          alphas=a, fit_intercept=True, standardize=False,
                                          tol=1e-10)
    np.testing.assert_allclose(C, Cs / sigma[None, :, None], atol=1e-8)
    _, Csp, _ = multitask_group_lasso_path(sp.csc_matrix(X), Y, groups=GROUPS, l1_ratio=0.4,
                                           alphas=a, fit_intercept=True, tol=1e-10)
    np.testing.assert_allclose(Csp, C, atol=1e-8)
    # (float32 X: the kernel computes in float32, whose certified floor is near 1e-7)
    _, C32, _ = multitask_group_lasso_path(X.astype(np.float32), Y.astype(np.float32),
                                           groups=GROUPS, l1_ratio=0.4, alphas=a,
                                           fit_intercept=True, tol=1e-6)
    assert C32.dtype == np.float32
    np.testing.assert_allclose(C32, C, atol=1e-3)


def test_estimators_are_the_path_function():
    X, Y = _data(seed=4)
    sw = np.random.default_rng(5).uniform(0.5, 2, len(X))
    a, C, _ = multitask_group_lasso_path(X, Y, groups=GROUPS, l1_ratio=0.5, n_alphas=8,
                                         sample_weight=sw, fit_intercept=True, tol=1e-10)
    reg = MultiTaskGroupLassoRegressor(groups=GROUPS, alpha=a[4], l1_ratio=0.5,
                                       tol=1e-10).fit(X, Y, sw)
    np.testing.assert_allclose(reg.coef_, C[:, :, 4], atol=1e-7)
    Xc, Yc, s = _centred(X, Y, sw)
    xm, ym = s @ X / s.sum(), s @ Y / s.sum()
    np.testing.assert_allclose(reg.intercept_, ym - xm @ reg.coef_.T, atol=1e-10)
    cv = MultiTaskGroupLassoPathCV(groups=GROUPS, l1_ratio=0.5, alphas=a, cv=KFold(3),
                                   tol=1e-10).fit(X, Y, sw)
    np.testing.assert_allclose(cv.coef_path_, C, atol=1e-7)
    assert cv.mse_path_.shape == (8, 3) and cv.alpha_ in a
    # the held-out error of one fold at one alpha, recomputed from a fit on its rows
    tr, te = next(iter(KFold(3).split(X)))
    fold = MultiTaskGroupLassoRegressor(groups=GROUPS, alpha=a[5], l1_ratio=0.5,
                                        tol=1e-10).fit(X[tr], Y[tr], sw[tr])
    err = np.sum((Y[te] - fold.predict(X[te])) ** 2, axis=1)
    assert cv.mse_path_[5, 0] == pytest.approx(sw[te] @ err / sw[te].sum(), rel=1e-6)


def test_errors():
    X, Y = _data(n=20)
    with pytest.raises(ValueError, match="unpenalised"):
        multitask_group_lasso_path(X, Y, groups=GROUPS[:2])
    with pytest.raises(ValueError, match="2-D"):
        multitask_group_lasso_path(X, Y[:, 0])
    with pytest.raises(ValueError, match="l1_ratio"):
        multitask_group_lasso_path(X, Y, l1_ratio=1.5)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_sweeps_gap_bounds_the_independent_gap_and_stops_at_its_target(layout, rho,
                                                                      weighted):
    """The compiled sweeps' own gap (what they stop on, over the working set: here every
    group) is at least the independent gap above at every epoch, with an offset column,
    and a run stopped on it at ``tol`` is within ``tol`` by that gap."""
    from sklearn_normpen._kernels import _bcd_multitask_group as K
    from sklearn_normpen._solvers.multitask_group import MultiTaskGroupProblem

    X, Y = _data(seed=5)
    rng = np.random.default_rng(6)
    if layout == "sparse":
        X = np.where(rng.random(X.shape) < 0.4, 0.0, X)
    X[:, 3] += 1e4  # an offset column (mean >> spread), kept dense
    sw = rng.uniform(0.3, 2, len(X)) if weighted else None
    gw = np.array([1.0, 2.0, 0.8, 1.5])
    pb = MultiTaskGroupProblem(sp.csc_matrix(X) if layout == "sparse" else X, Y, sw, True,
                               GROUPS)
    Xc, Yc, s = _centred(X, Y, sw)
    Z0 = Xc.T @ (s[:, None] * Yc) / s.sum()
    # alpha_max of the weighted groups, then a tenth of it (rho = 1: the row norms)
    amax = max(np.linalg.norm(Z0[g], axis=1).max() if rho == 1 else
               np.linalg.norm(Z0[g]) / c for g, c in zip(GROUPS, gw))
    alpha = 0.1 * amax
    l2 = np.ascontiguousarray(alpha * (1 - rho) * gw)
    ws = np.arange(len(GROUPS), dtype=np.intc)
    null = 0.5 * np.sum(s[:, None] * Yc ** 2) / s.sum()

    def sweep(w, epochs, tol, gap_tol):
        args = (pb._xmean64, w, pb.R, pb._gptr, pb._gidx, pb._Lg, alpha * rho, l2, pb._gram,
                pb._goff, ws, pb.dtype.type(pb.N), epochs, pb.dtype.type(tol), gap_tol,
                pb._gbuf, pb._srsum)
        if layout == "sparse":
            return K.bcd_mtg_sparse(*pb._csc, pb.n, pb.sw, *args)
        return K.bcd_mtg_dense(pb.design.Xk, pb.sw, *args)

    check_sweeps_gap(sweep, lambda: pb.start(np.zeros((pb.p, pb.n_responses))),
                     lambda w: _gap(X, Y, np.asarray(w, np.float64), alpha, rho, sw, gw),
                     null, epochs=10)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_grams_and_lipschitz_constants_equal_numpy(sparse, weighted, monkeypatch):
    # the problem forms its groups' Grams size by size, a block of columns at a time:
    # each equals the NumPy Gram of the group's weighted centred columns, its L the
    # largest eigenvalue; groups of one size split over several gathers, a group wider
    # than GRAM_MAX keeps no Gram, singletons none either
    from sklearn_normpen._solvers import multitask_group as M
    rng = np.random.default_rng(3)
    n, p = 60, 160
    X = rng.standard_normal((n, p))
    X[:, 4] += 1e4  # offset column (mean >> spread) inside a group of 3
    Y = rng.standard_normal((n, 2))
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    groups = ([[0], [1, 2, 3], [4, 5, 6]] + [list(range(7 + 3 * i, 10 + 3 * i))
                                            for i in range(5)]
              + [[22, 23]] + [list(range(24, 24 + M.GRAM_MAX + 2))] + [[154, 159]])
    monkeypatch.setattr(M, "_GRAM_BLOCK", 7)  # groups of 3: two per gather
    pb = M.MultiTaskGroupProblem(sp.csc_matrix(X) if sparse else X, Y, sw, True, groups)
    s = np.ones(n) if sw is None else sw
    Xc = X - s @ X / s.sum()
    for g, idx in enumerate(groups):
        Q = (Xc[:, idx] * s[:, None]).T @ Xc[:, idx] / s.sum()
        assert pb._Lg[g] == pytest.approx(np.linalg.eigvalsh(Q)[-1], rel=1e-10)
        if 1 < len(idx) <= M.GRAM_MAX:
            k = len(idx)
            packed = pb._gram[pb._goff[g]:pb._goff[g] + k * k].reshape(k, k)
            np.testing.assert_allclose(packed, Q, rtol=1e-10, atol=1e-12 * np.abs(Q).max())
        else:
            assert pb._goff[g] == -1


@pytest.mark.parametrize("sparse", [False, True])
def test_standardize_float32_gap_bounds_the_users_objective(sparse):
    """float32 under standardize: the reported gap bounds the user's objective at the
    returned coefficients (penalty weighted by the exact σ_j, the user's own columns), and
    the intercept is ``ȳ - x̄ᵀcoef`` of those coefficients to 1e-12 (it read the scaled
    float32 copy's means before: 2e-8 off here). The solver's copy is rounded (another
    data set) and its σ is ``1/fl32(1/σ)``; a gap formed there, or at the solver's
    coefficients before their cast, sat up to 1e-8 of the null deviance below the true
    excess (fuzzer seeds 7158 and 7182, run by test_certificate_fuzz.py; on this data
    the old gap happened to hold)."""
    rng = np.random.default_rng(11)
    n, p, K = 120, 10, 3
    X = rng.standard_normal((n, p))
    X[:, 3] = 2.5 * X[:, 0] + 1e-4 * rng.standard_normal(n)  # a nearly collinear pair
    if sparse:
        X[rng.random((n, p)) < 0.5] = 0
    else:
        X[:, 6:] += 1e4  # offset columns: the intercept reads them
    Y = X[:, :4] @ rng.standard_normal((4, K)) + rng.standard_normal((n, K))
    sw = rng.uniform(0.2, 3.0, n).astype(np.float32).astype(np.float64)  # (as fitted)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    Xe, Ye = X32.astype(np.float64), Y32.astype(np.float64)
    groups = [[0, 1, 2, 3], [4, 5], [6, 7], [8, 9]]
    kw = dict(groups=groups, l1_ratio=0.3, sample_weight=sw, standardize=True,
              fit_intercept=True)
    a, C, gaps = multitask_group_lasso_path(sp.csc_matrix(X32) if sparse else X32, Y32,
                                            n_alphas=8, eps=1e-2, tol=1e-4, **kw)
    assert C.dtype == np.float32
    _, Cr, gr = multitask_group_lasso_path(Xe, Ye, alphas=a, tol=1e-13, max_iter=100000,
                                           **kw)
    Xc, Yc, s = _centred(Xe, Ye, sw)
    sigma = np.sqrt(s @ Xc ** 2 / s.sum())
    nd = 0.5 * np.sum(s[:, None] * Yc ** 2) / s.sum()

    def objective(W, alpha):
        R = Yc - Xc @ W
        rows = np.linalg.norm(W, axis=1) * sigma
        pen = 0.3 * rows.sum() + 0.7 * sum(np.sqrt(len(g)) * np.linalg.norm(rows[g])
                                           for g in groups)
        return 0.5 * np.sum(s[:, None] * R * R) / s.sum() + alpha * pen

    for k, alpha in enumerate(a):
        excess = objective(C[:, :, k].T.astype(np.float64), alpha) - objective(
            Cr[:, :, k].T, alpha)
        assert excess <= gaps[k] + gr[k] + 1e-12 * nd, (k, excess / nd, gaps[k] / nd)
    m = MultiTaskGroupLassoRegressor(groups=groups, alpha=a[4], l1_ratio=0.3, tol=1e-4,
                                     standardize=True).fit(
        sp.csc_matrix(X32) if sparse else X32, Y32, sample_weight=sw)
    xm, ym = s @ Xe / s.sum(), s @ Ye / s.sum()
    expected = ym - xm @ m.coef_.T.astype(np.float64)
    scale = np.abs(ym) + np.abs(xm) @ np.abs(m.coef_.T.astype(np.float64))
    assert np.all(np.abs(m.intercept_ - expected) <= 1e-12 * scale), (
        (m.intercept_ - expected) / scale)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_certificate_is_formed_on_the_users_objective(sparse, monkeypatch):
    """float32 under standardize: each point's last certificate has as primal value the
    user's objective at the returned coefficients (exact σ_j, the user's own columns), to
    rounding; the scaled float32 copy and ``1/fl32(1/σ_j)`` had put it ~1e-8 of the null
    deviance off."""
    from _bounded_spy import spy_certificate_primals
    from sklearn_normpen._solvers import multitask_group as mtg
    seen = spy_certificate_primals(monkeypatch, mtg)
    X, Y = _data(seed=5)
    X = X * np.random.default_rng(6).uniform(0.3, 3, X.shape[1])
    if sparse:
        X[np.abs(X) < 0.4] = 0
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    a, C, _ = multitask_group_lasso_path(sp.csc_matrix(X32) if sparse else X32, Y32,
                                         groups=GROUPS, l1_ratio=0.4, n_alphas=6,
                                         tol=1e-5, fit_intercept=True, standardize=True)
    Xc, Yc, s = _centred(X32.astype(np.float64), Y32.astype(np.float64), None)
    sigma = np.sqrt(np.mean(Xc ** 2, axis=0))
    nd = 0.5 * np.mean(np.sum(Yc ** 2, axis=1))
    gw = np.sqrt([len(g) for g in GROUPS])
    for k, alpha in enumerate(a):
        W = C[:, :, k].T.astype(np.float64)
        objective = 0.5 * np.mean(np.sum((Yc - Xc @ W) ** 2, axis=1)) + _penalty(
            W * sigma[:, None], alpha, 0.4, gw)
        primal = [pr for al, pr in seen if al == alpha][-1]
        assert abs(primal - objective) <= 1e-13 * nd, (k, (primal - objective) / nd)


@pytest.mark.parametrize("kw", [dict(group_weights=[1.0, 1.0, 0.0]),
                                dict(groups=[[0, 1], [2, 3]])])
def test_unpenalised_rows_are_refused_by_every_entry_point(kw):
    """A group of weight 0, or features in no group, are refused by the estimators as by
    ``multitask_group_lasso_path`` (the documented rule, "every feature in a group of
    positive weight"). The estimators used to fit them with a certificate that left those
    free rows' dual constraint out: reported gaps of 1e-16 of the null deviance at
    points whose objective sat up to 1.9e-3 of it above a tighter fit's (random draws
    with a free group correlated with penalised ones, l1_ratio 0.3)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    Y = X[:, :2] @ rng.standard_normal((2, 2)) + rng.standard_normal((40, 2))
    args = {"groups": [[0, 1], [2, 3], [4, 5]], "l1_ratio": 0.3, **kw}
    for make in (lambda: MultiTaskGroupLassoRegressor(alpha=0.1, **args),
                 lambda: MultiTaskGroupLassoPathCV(cv=3, **args)):
        with pytest.raises(ValueError, match="group_weights"):
            make().fit(X, Y)
    with pytest.raises(ValueError, match="group_weights"):
        multitask_group_lasso_path(X, Y, **args)
