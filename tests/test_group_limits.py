"""Box limits and exclusions for the (sparse-)group lasso (issue 12 item 4).

References are independent of the package: cvxpy + Clarabel optima of the bound-constrained
problem (and of the conjugate of penalty + box), and a NumPy duality gap / KKT oracle
written here that certifies with a *different* dual construction (the multipliers of the
active limits estimated from ``w``, then a scaling into the dual ball) than the package
(the exact group-wise conjugate, see ``SparseGroupLasso``).
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sklearn.exceptions import ConvergenceWarning

from sklearn_normpen import (GroupLassoClassifier, GroupLassoClassifierPathCV,
                             GroupLassoPathCV, GroupLassoRegressor, group_lasso_path)
from sklearn_normpen.penalties import SparseGroupLasso

from _oracle import random_partition

cp = pytest.importorskip("cvxpy")

GROUPS = [[0, 1, 2], [3, 4], [5, 6, 7], [8]]
P = 9
# binding limits: a cap, a floor, a non-negativity, a two-sided box; the rest free
LOWER = np.array([-np.inf, -1.0, 0.0, -np.inf, -0.3, -np.inf, -0.5, -np.inf, -np.inf])
UPPER = np.array([1.0, np.inf, np.inf, np.inf, 0.4, np.inf, 0.5, np.inf, np.inf])


def _data(n=50, seed=0, offset=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, P)) * rng.uniform(0.5, 2, P) + offset
    w = np.array([3.0, -2.5, 1.0, 0.0, -0.7, 0.8, 2.0, 0.4, -1.0])
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.0
    sw = rng.uniform(0.5, 2.0, n)
    return X, y, sw


def _weights(groups=GROUPS):
    return np.sqrt([len(g) for g in groups])


# ---------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------

def _objective(X, y, w, b, alpha, rho, sw=None, lower=None, upper=None, groups=GROUPS):
    """The package's objective (DESIGN.md), written out; inf outside the box."""
    s = np.ones(len(y)) if sw is None else np.asarray(sw, float)
    if lower is not None and (np.any(w < lower) or np.any(w > upper)):
        return np.inf
    r = y - X @ w - b
    pen = sum(alpha * (rho * np.abs(w[g]).sum() + (1 - rho) * c * np.linalg.norm(w[g]))
              for g, c in zip(groups, _weights(groups)))
    return float(s @ (r * r) / (2 * s.sum()) + pen)


def _cvx(X, y, alpha, rho, sw=None, lower=None, upper=None, exclude=None,
         fit_intercept=True, groups=GROUPS):
    """``(w, b, P*)`` by cvxpy + Clarabel on the weighted problem with the box."""
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, float)
    W = s.sum()
    w, b = cp.Variable(p), cp.Variable()
    root = np.sqrt(s / W)
    res = cp.multiply(root, y - X @ w - (b if fit_intercept else 0))
    pen = sum(alpha * (rho * cp.norm1(w[g]) + (1 - rho) * c * cp.norm2(w[g]))
              for g, c in zip(groups, _weights(groups)))
    cons = []
    if lower is not None:
        fl, fu = np.isfinite(lower), np.isfinite(upper)
        if fl.any():
            cons.append(w[np.flatnonzero(fl)] >= lower[fl])
        if fu.any():
            cons.append(w[np.flatnonzero(fu)] <= upper[fu])
    if exclude is not None:
        cons.append(w[np.flatnonzero(exclude)] == 0)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(res) + pen), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
                   max_iter=500)
    wv = np.asarray(w.value, float)
    if lower is not None:
        wv = np.clip(wv, lower, upper)
    if exclude is not None:
        wv[exclude] = 0
    bv = float(b.value) if fit_intercept else 0.0
    return wv, bv, _objective(X, y, wv, bv, alpha, rho, sw, lower, upper, groups)


def _oracle_gap_kkt(X, y, w, alpha, rho, sw=None, lower=None, upper=None,
                    fit_intercept=True, groups=GROUPS):
    """An independent valid gap and KKT violation at ``w`` (intercept optimal).

    Dual: θ = c·r/W with r the weighted-centred residual; z = Xcᵀ S r / W splits as
    ``z = v + u`` with ``u`` the multipliers of the limits estimated from ``w``
    (``z_j - ∂pen_j`` where ``w_j`` sits on a limit, all of ``z_j`` on a side closed by
    a 0 limit) and ``v`` the rest; ``(pen + box)*(c z) <= c σ_box(u)`` whenever ``c v`` is in
    every group's dual ball, so ``D(c) = c <yc, r>_S/W - c² ||r||²_S/(2W) - c σ_box(u)``.
    """
    n, p = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, float)
    W = s.sum()
    lo = np.full(p, -np.inf) if lower is None else lower
    up = np.full(p, np.inf) if upper is None else upper
    xm = s @ X / W if fit_intercept else np.zeros(p)
    ym = s @ y / W if fit_intercept else 0.0
    Xc, yc = X - xm, y - ym
    r = yc - Xc @ w
    z = Xc.T @ (s * r) / W
    l1 = alpha * rho
    u = np.zeros(p)
    kkt = 0.0
    for g, cg in zip(groups, _weights(groups)):
        g = np.asarray(g)
        l2 = alpha * (1 - rho) * cg
        wg, zg = w[g], z[g]
        nrm = np.linalg.norm(wg)
        y_sub = np.where(wg != 0, l1 * np.sign(wg) + (l2 * wg / nrm if nrm > 0 else 0), 0.0)
        e = zg - y_sub
        fin_u, fin_l = np.isfinite(up[g]), np.isfinite(lo[g])
        at_up = (wg > 0) & fin_u & (wg >= np.where(fin_u, up[g] * (1 - 1e-12), 0))
        at_lo = (wg < 0) & fin_l & (wg <= np.where(fin_l, lo[g] * (1 - 1e-12), 0))
        closed = np.where(zg >= 0, up[g], -lo[g]) == 0
        ug = np.where(at_up, np.maximum(e, 0), np.where(at_lo, np.minimum(e, 0), 0.0))
        ug = np.where(closed & (wg == 0), zg, ug)
        u[g] = ug
        # KKT: what is left of z_g - u_g must be a subgradient of the penalty at w_g
        v = zg - ug
        if nrm == 0:
            kkt = max(kkt, np.linalg.norm(np.maximum(np.abs(v) - l1, 0)) - l2)
        else:
            res = np.where(wg != 0, v - y_sub, np.maximum(np.abs(v) - l1, 0))
            kkt = max(kkt, np.linalg.norm(res))
    v = z - u
    sigma = float(np.sum(np.where(u > 0, u * np.where(u > 0, up, 0),
                                  np.where(u < 0, u * np.where(u < 0, lo, 0), 0))))
    # largest c with ||S(c v_g, l1)|| <= l2_g for every group (bisection, feasible end)
    def feasible(c):
        return all(np.linalg.norm(np.maximum(np.abs(c * v[g]) - l1, 0))
                   <= alpha * (1 - rho) * cg for g, cg in zip(groups, _weights(groups)))
    lo_c, hi_c = 0.0, 1.0
    if not feasible(1.0):
        for _ in range(200):
            mid = 0.5 * (lo_c + hi_c)
            lo_c, hi_c = (mid, hi_c) if feasible(mid) else (lo_c, mid)
    else:
        lo_c = 1.0
    a = float(s @ (yc * r)) / W - sigma
    q = float(s @ (r * r)) / (2 * W)
    c = min(max(a / (2 * q), 0.0), lo_c) if q > 0 else lo_c
    D = c * a - c * c * q
    b = ym - xm @ w
    Pw = _objective(X, y, w, b, alpha, rho, sw, lower, upper, groups)
    return Pw - D, max(kkt, 0.0), Pw


def _null_dev(y, sw=None):
    s = np.ones(len(y)) if sw is None else sw
    ym = s @ y / s.sum()
    return float(s @ (y - ym) ** 2 / (2 * s.sum()))


# ---------------------------------------------------------------------------------------
# the conjugate of penalty + box (the certificate's new term)
# ---------------------------------------------------------------------------------------

def _cvx_conjugate(z, l1, l2, lo, up):
    """sup_x <z, x> - l1||x||_1 - l2||x||_2 over lo <= x <= up (one group)."""
    x = cp.Variable(z.size)
    cons = []
    fl, fu = np.isfinite(lo), np.isfinite(up)
    if fl.any():
        cons.append(x[np.flatnonzero(fl)] >= lo[fl])
    if fu.any():
        cons.append(x[np.flatnonzero(fu)] <= up[fu])
    prob = cp.Problem(cp.Maximize(z @ x - l1 * cp.norm1(x) - l2 * cp.norm2(x)), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return prob.value


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("seed", range(4))
def test_box_conjugate_matches_cvxpy(rho, seed):
    rng = np.random.default_rng(seed)
    k = 5
    lo = np.array([-0.5, -np.inf, 0.0, -1.0, -0.2])
    up = np.array([0.3, 2.0, np.inf, 0.0, 0.7])
    pen = SparseGroupLasso(np.array([0, k]), np.arange(k, dtype=np.int32), np.array([1.3]),
                           rho, lower=lo, upper=up)
    alpha = 0.4
    z = 2 * rng.standard_normal(k)
    # keep the unlimited sides strictly inside the ball (else the conjugate is +inf, see
    # below; on the boundary the supremum is only approached at infinity)
    z = 0.95 * pen.dual_scale(z, alpha) * z
    ours = pen.conjugate(z, alpha)
    ref = _cvx_conjugate(z, alpha * rho, alpha * (1 - rho) * 1.3, lo, up)
    assert ours >= ref - 1e-9 * max(1, abs(ref))  # an upper bound, as a certificate needs
    assert_allclose(ours, ref, rtol=1e-7, atol=1e-10)
    # the compiled conjugate and its NumPy twin agree
    assert_allclose(pen._box_conj_numpy(z, alpha), ours, rtol=1e-12, atol=1e-15)


def test_box_conjugate_infinite_outside_domain():
    pen = SparseGroupLasso(np.array([0, 2]), np.arange(2, dtype=np.int32), np.array([1.0]),
                           0.0, lower=[-np.inf, -1.0], upper=[np.inf, 1.0])
    # the unlimited feature alone exceeds the ball: sup is +inf
    assert pen.conjugate(np.array([5.0, 0.0]), 1.0) == np.inf
    # the limited one may exceed it: a finite value, |z| - l2 per unit of limit
    assert_allclose(pen.conjugate(np.array([0.0, 5.0]), 1.0), 4.0)


# ---------------------------------------------------------------------------------------
# fits against cvxpy, the oracle gap and KKT
# ---------------------------------------------------------------------------------------

CASES = [
    # (rho, alpha, sparse, dtype, intercept, weights)
    (0.0, 0.05, False, np.float64, True, False),
    (0.5, 0.05, False, np.float64, True, True),
    (0.0, 0.02, True, np.float64, True, True),
    (0.5, 0.1, True, np.float64, False, False),
    (0.0, 0.05, False, np.float32, True, False),
    (0.5, 0.05, True, np.float32, True, True),
]


@pytest.mark.parametrize("rho, alpha, sparse, dtype, intercept, weighted", CASES)
def test_bounded_fit_matches_cvxpy(rho, alpha, sparse, dtype, intercept, weighted):
    X, y, sw = _data()
    sw = sw if weighted else None
    w_ref, b_ref, Pstar = _cvx(X, y, alpha, rho, sw, LOWER, UPPER, fit_intercept=intercept)
    # limits bind at the optimum: they are really exercised
    assert np.isclose(w_ref[0], 1.0) and np.isclose(w_ref[4], -0.3)
    Xf = X.astype(dtype)
    Xf = sp.csc_matrix(Xf) if sparse else Xf
    reg = GroupLassoRegressor(groups=GROUPS, alpha=alpha, l1_ratio=rho,
                              fit_intercept=intercept, lower_limits=LOWER,
                              upper_limits=UPPER, tol=1e-10 if dtype == np.float64 else 1e-6,
                              max_iter=5000, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(Xf, y.astype(dtype), sample_weight=sw)
    assert reg.coef_.dtype == dtype
    assert np.all(reg.coef_ >= LOWER) and np.all(reg.coef_ <= UPPER)
    D0 = _null_dev(y, sw)
    atol = 1e-5 if dtype == np.float64 else 2e-3
    assert_allclose(reg.coef_, w_ref, atol=atol * max(1, np.abs(w_ref).max()))
    w = reg.coef_.astype(np.float64)
    if intercept:
        gap, kkt, Pw = _oracle_gap_kkt(X, y, w, alpha, rho, sw, LOWER, UPPER)
        assert Pw - Pstar <= max(gap, 0) + 1e-10 * D0  # cvxpy's optimum is no better
        # the package's certificate is a valid bound on the true suboptimality
        assert Pw - Pstar <= reg.dual_gap_ + 1e-9 * D0
        if dtype == np.float64:
            # the oracle's dual (a scaling of the whole point) loses O(KKT): looser than
            # the package's exact conjugate, still small
            assert gap <= 1e-6 * D0 and kkt <= 1e-4
            assert reg.dual_gap_ <= 1e-10 * D0


def test_certificate_is_valid_and_tight_at_feasible_points():
    """The package's gap bounds P(w) - P* at arbitrary feasible w (from the path problem's
    own certificate), and is near 0 at the optimum."""
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.block_cd import GroupProblem
    from sklearn_normpen._groups import parse_groups
    from sklearn_normpen._certificate import certificate
    X, y, sw = _data(seed=3)
    D0 = _null_dev(y, sw)
    for rho in (0.0, 0.5):
        alpha = 0.05
        w_ref, b_ref, Pstar = _cvx(X, y, alpha, rho, sw, LOWER, UPPER)
        st = parse_groups(GROUPS, P)
        pb = GroupProblem(Design(X, y, sw, True), st, _weights())
        pen = pb.penalty(rho, (LOWER, UPPER))
        rng = np.random.default_rng(1)
        for k in range(8):
            w = np.clip(w_ref + (0 if k == 0 else 0.3 / k) * rng.standard_normal(P),
                        LOWER, UPPER)
            pb.start(w)
            cert = certificate(pb.cert_stats(w, pen), pen, alpha, w)
            b = (sw @ (y - X @ w)) / sw.sum()
            Pw = _objective(X, y, w, b, alpha, rho, sw, LOWER, UPPER)
            assert_allclose(cert.primal, Pw, rtol=1e-10)
            assert Pw - Pstar <= cert.gap + 1e-10 * D0
            if k == 0:
                assert cert.gap <= 1e-7 * D0


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_certified_gap_reaches_tight_tol(rho):
    X, y, sw = _data(n=80, seed=5)
    reg = GroupLassoRegressor(groups=GROUPS, alpha=0.01, l1_ratio=rho, lower_limits=LOWER,
                              upper_limits=UPPER, tol=1e-12, max_iter=10000, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y, sample_weight=sw)
    assert reg.dual_gap_ <= 1e-12 * _null_dev(y, sw)


def test_nonnegative_limits_and_standardize():
    X, y, _ = _data(seed=2)
    X = X * np.array([1, 10, 0.1, 1, 5, 1, 1, 100, 1])  # units differ
    for rho in (0.0, 0.5):
        reg = GroupLassoRegressor(groups=GROUPS, alpha=0.05, l1_ratio=rho, lower_limits=0,
                                  standardize=True, tol=1e-10, max_iter=5000).fit(X, y)
        assert np.all(reg.coef_ >= 0)
        assert reg.coef_[1] == 0 and reg.coef_[8] == 0  # negative in the truth
        # standardize is the penalty on σ ⊙ w: the unscaled fit of X/σ, coef / σ
        sig = X.std(axis=0)
        ref = GroupLassoRegressor(groups=GROUPS, alpha=0.05, l1_ratio=rho, lower_limits=0,
                                  tol=1e-10, max_iter=5000, standardize=False).fit(X / sig, y)
        assert_allclose(reg.coef_, ref.coef_ / sig, rtol=1e-5, atol=1e-8)


def test_infinite_limits_change_nothing_and_inactive_limits_agree():
    X, y, sw = _data(seed=4)
    for rho in (0.0, 0.5):
        kw = dict(groups=GROUPS, alpha=0.05, l1_ratio=rho, tol=1e-10, max_iter=5000,
                  standardize=False)
        plain = GroupLassoRegressor(**kw).fit(X, y, sample_weight=sw)
        inf = GroupLassoRegressor(lower_limits=-np.inf, upper_limits=np.inf, **kw).fit(
            X, y, sample_weight=sw)
        assert_array_equal(plain.coef_, inf.coef_)
        # finite but inactive limits: the box prox and conjugate, the same optimum
        far = GroupLassoRegressor(lower_limits=-1e3, upper_limits=1e3, **kw).fit(
            X, y, sample_weight=sw)
        assert_allclose(far.coef_, plain.coef_, atol=1e-6)
        assert far.dual_gap_ <= 1e-10 * _null_dev(y, sw)


# ---------------------------------------------------------------------------------------
# exclude
# ---------------------------------------------------------------------------------------

def test_exclude_equals_dropping_the_columns_with_the_given_weights():
    X, y, sw = _data(seed=6)
    ex = [1, 3, 4]  # part of group 0, all of group 1
    keep = np.setdiff1d(np.arange(P), ex)
    # the remaining features, their groups and the group weights as the user gave them
    pos = {j: i for i, j in enumerate(keep)}
    groups_kept = [[pos[j] for j in g if j in pos] for g in GROUPS]
    cw = _weights()
    kept = [i for i, g in enumerate(groups_kept) if g]
    for rho in (0.0, 0.5):
        a = GroupLassoRegressor(groups=GROUPS, alpha=0.05, l1_ratio=rho, exclude=ex,
                                tol=1e-10, standardize=False).fit(X, y, sample_weight=sw)
        mask = np.zeros(P, bool)
        mask[ex] = True
        a2 = GroupLassoRegressor(groups=GROUPS, alpha=0.05, l1_ratio=rho, exclude=mask,
                                 tol=1e-10, standardize=False).fit(X, y, sample_weight=sw)
        b = GroupLassoRegressor(groups=[groups_kept[i] for i in kept],
                                group_weights=cw[kept], alpha=0.05, l1_ratio=rho,
                                tol=1e-10, standardize=False).fit(X[:, keep], y, sample_weight=sw)
        assert_array_equal(a.coef_[ex], 0)
        assert_array_equal(a.coef_, a2.coef_)
        assert_allclose(a.coef_[keep], b.coef_, atol=1e-7)
        assert_allclose(a.intercept_, b.intercept_, atol=1e-7)
        assert 1 not in a.active_groups_  # the fully excluded group is inactive


def test_exclude_with_limits_against_cvxpy_sparse_float32():
    X, y, sw = _data(seed=7)
    ex = np.zeros(P, bool)
    ex[[5, 8]] = True
    w_ref, _, _ = _cvx(X, y, 0.03, 0.5, sw, LOWER, UPPER, exclude=ex)
    reg = GroupLassoRegressor(groups=GROUPS, alpha=0.03, l1_ratio=0.5, exclude=ex,
                              lower_limits=LOWER, upper_limits=UPPER, tol=1e-7,
                              max_iter=5000, standardize=False)
    reg.fit(sp.csc_matrix(X.astype(np.float32)), y.astype(np.float32), sample_weight=sw)
    assert reg.coef_.dtype == np.float32
    assert_array_equal(reg.coef_[ex], 0)
    assert_allclose(reg.coef_, w_ref, atol=2e-3 * np.abs(w_ref).max())


# ---------------------------------------------------------------------------------------
# paths, CV, classifiers
# ---------------------------------------------------------------------------------------

def test_path_with_limits_is_certified_and_inside_the_box():
    X, y, sw = _data(seed=8)
    alphas, coefs, gaps = group_lasso_path(X, y, groups=GROUPS, l1_ratio=0.5,
                                           lower_limits=LOWER, upper_limits=UPPER,
                                           exclude=[7], sample_weight=sw,
                                           fit_intercept=True, n_alphas=20, tol=1e-8,
                                           standardize=False)
    assert np.all(coefs >= LOWER[:, None]) and np.all(coefs <= UPPER[:, None])
    assert_array_equal(coefs[7], 0)
    assert np.all(gaps <= 1e-8 * _null_dev(y, sw))
    # every point is the single-alpha fit (the last point checked against cvxpy)
    ex = np.zeros(P, bool)
    ex[7] = True
    w_ref, _, _ = _cvx(X, y, alphas[-1], 0.5, sw, LOWER, UPPER, exclude=ex)
    assert_allclose(coefs[:, -1], w_ref, atol=1e-4 * np.abs(w_ref).max())
    # alpha_max knows that the closed sides (lower 0 of feature 2, exclusion of 7) let
    # nothing in: the first point is the null model, the second is not
    assert not coefs[:, 0].any() and coefs[:, 1].any()


def test_group_lasso_path_cv_with_limits_and_exclude():
    X, y, sw = _data(n=90, seed=9)
    cv = GroupLassoPathCV(groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=15, cv=3,
                          lower_limits=LOWER, upper_limits=UPPER, exclude=[8],
                          tol=1e-8, standardize=False).fit(X, y, sample_weight=sw)
    assert np.all(cv.coef_path_ >= LOWER[:, None] - 0) and np.all(
        cv.coef_path_ <= UPPER[:, None])
    assert_array_equal(cv.coef_path_[:, 8], 0)
    ref = GroupLassoRegressor(groups=GROUPS, alpha=cv.alpha_, l1_ratio=cv.l1_ratio_,
                              lower_limits=LOWER, upper_limits=UPPER, exclude=[8],
                              tol=1e-10, standardize=False).fit(X, y, sample_weight=sw)
    assert_allclose(cv.coef_, ref.coef_, atol=1e-4)


def _cvx_logistic(X, y, alpha, rho, lower, upper, groups):
    n, p = X.shape
    w, b = cp.Variable(p), cp.Variable()
    eta = X @ w + b
    loss = cp.sum(cp.logistic(eta) - cp.multiply(y, eta)) / n
    pen = sum(alpha * (rho * cp.norm1(w[g]) + (1 - rho) * np.sqrt(len(g)) * cp.norm2(w[g]))
              for g in groups)
    fl, fu = np.isfinite(lower), np.isfinite(upper)
    cons = [w[np.flatnonzero(fl)] >= lower[fl], w[np.flatnonzero(fu)] <= upper[fu]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(loss + pen), cons).solve(solver=cp.CLARABEL)
    return np.clip(w.value, lower, upper)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_group_classifier_with_limits_matches_cvxpy(rho):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((120, 6))
    y = (X @ [2.0, -2.0, 1.0, 0.0, 1.5, 0.0] + 0.5 * rng.standard_normal(120) > 0).astype(
        float)
    groups = [[0, 1, 2], [3, 4, 5]]
    lo = np.array([-np.inf, -0.5, -np.inf, 0.0, -np.inf, -np.inf])
    up = np.array([0.8, np.inf, np.inf, np.inf, 0.6, np.inf])
    clf = GroupLassoClassifier(standardize=False,
                               groups=groups, alpha=0.01, l1_ratio=rho, lower_limits=lo,
                               upper_limits=up, tol=1e-10).fit(X, y)
    ref = _cvx_logistic(X, y, 0.01, rho, lo, up, groups)
    assert np.isclose(ref[0], 0.8) and np.isclose(ref[1], -0.5)  # binding
    assert_allclose(clf.coef_[0], ref, atol=1e-4)
    cvc = GroupLassoClassifierPathCV(standardize=False,
                                     groups=groups, l1_ratio=rho, alphas=10, cv=3,
                                     lower_limits=lo, upper_limits=up, exclude=[5]).fit(X, y)
    assert np.all(cvc.coef_path_ >= lo[:, None]) and np.all(cvc.coef_path_ <= up[:, None])
    assert np.all(cvc.coef_path_[5] == 0)


# ---------------------------------------------------------------------------------------
# bad input: clear errors naming the parameter
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, match", [
    (dict(lower_limits=0.5), "lower_limits"),
    (dict(upper_limits=-0.1), "upper_limits"),
    (dict(lower_limits=np.zeros(3)), "lower_limits"),
    (dict(upper_limits=np.ones(P + 1)), "upper_limits"),
    (dict(lower_limits=[np.nan] * P), "lower_limits"),
    (dict(exclude=[P]), "exclude"),
    (dict(exclude=np.ones(3, bool)), "exclude"),
    (dict(lower_limits=-1.0, groups=[[0, 1, 2], [3, 4]]), "unpenalised"),
])
@pytest.mark.parametrize("Est", [GroupLassoRegressor, GroupLassoPathCV])
def test_bad_limits_name_the_parameter(kw, match, Est):
    X, y, _ = _data(seed=11)
    kw = {"groups": GROUPS, **kw}
    with pytest.raises(ValueError, match=match):
        Est(**kw).fit(X, y)


def test_lower_above_upper_is_an_error_everywhere():
    X, y, _ = _data(seed=12)
    lo = np.full(P, -1.0)
    up = np.full(P, 1.0)
    lo[2], up[2] = 0.0, 0.0
    up[3] = -0.5
    lo[3] = -0.2  # lower > upper on feature 3 (and upper < 0)
    for call in (lambda: GroupLassoRegressor(groups=GROUPS, lower_limits=lo,
                                             upper_limits=up, standardize=False).fit(X, y),
                 lambda: group_lasso_path(X, y, groups=GROUPS, lower_limits=lo,
                                          upper_limits=up, standardize=False),
                 lambda: GroupLassoClassifier(standardize=False, groups=GROUPS, lower_limits=lo,
                                              upper_limits=up).fit(X, y > y.mean())):
        with pytest.raises(ValueError, match="limits"):
            call()


def test_dask_input_with_limits_is_a_clear_error():
    da = pytest.importorskip("dask.array")
    X, y, _ = _data(seed=13)
    Xd, yd = da.from_array(X, chunks=25), da.from_array(y, chunks=25)
    for est in (GroupLassoRegressor(groups=GROUPS, lower_limits=-1.0, standardize=False),
                GroupLassoPathCV(groups=GROUPS, exclude=[0], cv=3, standardize=False)):
        with pytest.raises(ValueError, match="not supported with dask"):
            est.fit(Xd, yd)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_box_kkt_equals_the_numpy_twin(seed):
    # SparseGroupLasso.kkt_violation with limits runs the compiled sgl_box_kkt; _box_kkt is
    # its NumPy twin: equal on random points with coefficients at, inside and off the
    # limits, closed sides, zero groups and an unpenalised group
    from sklearn_normpen.penalties import SparseGroupLasso
    rng = np.random.default_rng(seed)
    sizes, gptr, gidx = random_partition(rng, 12)
    p = int(gptr[-1])
    weights = np.sqrt(sizes).astype(float)
    weights[3] = 0.0  # unpenalised group
    lo = np.where(rng.random(p) < 0.5, -rng.uniform(0, 1, p), -np.inf)
    up = np.where(rng.random(p) < 0.5, rng.uniform(0, 1, p), np.inf)
    lo[rng.random(p) < 0.2] = 0.0
    up[rng.random(p) < 0.1] = 0.0
    unpen = gidx[gptr[3]:gptr[4]]
    lo[unpen], up[unpen] = -np.inf, np.inf
    for rho in (0.0, 0.5):
        pen = SparseGroupLasso(gptr, gidx, weights, rho, lower=lo, upper=up)
        assert pen.has_box
        for _ in range(5):
            w = np.clip(rng.standard_normal(p), lo, up)
            w[rng.random(p) < 0.3] = 0.0
            w[gidx[gptr[5]:gptr[6]]] = 0.0  # a zero group
            at = rng.random(p) < 0.2  # exactly at a finite limit
            w[at & np.isfinite(up)] = up[at & np.isfinite(up)]
            z = 0.3 * rng.standard_normal(p)
            alpha = 0.2
            l1, l2 = alpha * rho, alpha * (1 - rho) * pen.weights
            assert pen.kkt_violation(z, w, alpha) == pytest.approx(
                pen._box_kkt(z, w, l1, l2), rel=1e-12, abs=1e-15)


def test_one_sided_limits_beside_a_constant_column_raise_no_warning():
    """A one-sided box (``upper`` infinite) under ``standardize`` beside a constant
    column: the column's scaled limits were ``inf·0`` (NaN, a RuntimeWarning to the user;
    the column is held at 0 anyway). Now no warning, the column at 0 and the box kept."""
    import warnings

    from sklearn_normpen import group_lasso_path
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6))
    X[:, 5] = 1.0
    y = (X[:, 0] + rng.logistic(size=200) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, C, _ = group_lasso_path(X, y, family="binomial", groups=[0, 0, 1, 1, 2, 2],
                                   fit_intercept=True, lower_limits=-0.1, n_alphas=5)
    assert np.all(C[5] == 0) and np.any(C[0] > 0)
