"""The Newton steps on the active set that pause a slow coordinate-descent tail
(``EnetProblem._polish``): they only ever lower the objective, bring in only KKT violators,
change a sign only through 0 (a primal active-set method), read their Gram matrix from a
cache that matches NumPy, and let near-saturated lasso paths (|A| close to n) reach tight
tolerances that the coordinate-descent tail alone ran out of ``max_iter`` on."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import _oracle as oracle
from _oracle import enet_gap, enet_primal, null_deviance
from sklearn_normpen import enet_path
from sklearn_normpen._certificate import certificate
from sklearn_normpen._design import Design
from sklearn_normpen._solvers.coordinate_descent import EnetProblem, choose_mode
from sklearn_normpen.penalties import ElasticNetPenalty


def _wide(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[:k] = rng.standard_normal(k) * 2
    return X, X @ w + rng.standard_normal(n)


def _optimum(X, y, alpha, l1_ratio):
    return enet_path(X, y, l1_ratio=l1_ratio, alphas=[alpha], tol=1e-13, fit_intercept=True,
                     standardize=False)[1][:, 0]


@pytest.mark.parametrize("layout", ["dense", "sparse", "gram"])
def test_step_lowers_the_objective_and_respects_signs(layout):
    rng = np.random.default_rng(0)
    n, p = 80, 40 if layout == "gram" else 300
    X = rng.standard_normal((n, p))
    X[:, 3] += 50.0  # an offset column
    y = X[:, :5] @ np.array([1.0, -2, 0.5, 1, -1]) + rng.standard_normal(n)
    Xin = sp.csc_matrix(X) if layout == "sparse" else np.asfortranarray(X)
    mode = "gram" if layout == "gram" else choose_mode(Xin)
    pb = EnetProblem(Design(Xin, y, None, True), mode)
    pen = ElasticNetPenalty(0.9, np.ones(p))
    alpha = 0.3
    L1, L2 = pen.scaled_weights(alpha, pb.N)
    L1, L2 = np.ascontiguousarray(L1), np.ascontiguousarray(L2)
    # a rough iterate: a few epochs from 0
    w = pb.start(np.zeros(p))
    pb._kernel(w, L1, L2, 0.0, 3, pb._limits(pen), 1.0)
    before = w.copy()
    assert 5 <= np.count_nonzero(before) < n // 2
    obj = lambda v: enet_primal(X, y, v, pb.intercept(v), alpha, 0.9)  # noqa: E731
    g0 = pb.g.copy()  # the kernel's gradient at the rough iterate (n-scale)
    changed = pb._polish(w, L1, L2)
    assert changed
    assert obj(w) < obj(before)
    # a feature comes in only if it violated its KKT condition there, with its gradient's
    # sign (the direction that lowers the objective)
    entered = np.flatnonzero((before == 0) & (w != 0))
    assert np.all(np.abs(g0[entered]) > L1[entered])
    assert np.all(np.sign(w[entered]) == np.sign(g0[entered]))
    # the kernel state was reset to the new point: the certificate's primal (read off that
    # state) is NumPy's
    stats = pb.cert_stats(w, pen)
    cert = certificate(stats, pen, alpha, w)
    assert cert.primal == pytest.approx(obj(w), rel=1e-10)
    assert cert.gap >= 0
    # ... and its gradient is the one at the new point (NumPy's), not the one the kernel
    # left at the old point: a stale gradient gives a dual point that is not feasible, and
    # a "gap" that can pass below the true one
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    np.testing.assert_allclose(stats.g, Xc.T @ (yc - Xc @ w) / n, rtol=0,
                               atol=1e-10 * np.abs(Xc.T @ yc / n).max())
    assert cert.gap >= obj(w) - obj(_optimum(X, y, alpha, 0.9)) - 1e-12


@pytest.mark.parametrize("n, p, k, seed", [(80, 1000, 15, 2), (60, 600, 10, 0)])
def test_near_saturated_lasso_path_certifies_a_tight_tol(n, p, k, seed):
    # (80, 1000): the coordinate-descent tail alone spent max_iter=1000 epochs at a point
    # near |A| = n - 1 and warned; the Newton step on the active set finishes it
    X, y = _wide(n, p, k, seed)
    tol = 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, gaps = enet_path(X, y, l1_ratio=1.0, tol=tol, fit_intercept=True,
                                        standardize=False)
    target = tol * null_deviance(X, y)
    for j in range(0, alphas.size, 9):  # NumPy's gap, outside the package
        w = coefs[:, j]
        b = float(np.mean(y) - np.mean(X, axis=0) @ w)
        assert enet_gap(X, y, w, b, alphas[j], 1.0) <= max(gaps[j], target) * (1 + 1e-6)
    assert np.all(gaps <= target)
    assert (coefs[:, -1] != 0).sum() >= n - 10  # near saturation indeed


def test_a_sign_crossing_stops_at_zero():
    # A spurious coefficient whose Newton target has the other sign: the step stops where
    # it reaches 0 (the objective equals the quadratic only inside the orthant).
    rng = np.random.default_rng(3)
    n, p = 60, 20
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X[:, :3] @ np.array([2.0, -1.0, 1.5]) + 0.5 * rng.standard_normal(n)
    pb = EnetProblem(Design(X, y, None, True), "dense")
    pen = ElasticNetPenalty(1.0, np.ones(p))
    alpha = 0.05
    L1, L2 = (np.ascontiguousarray(v) for v in pen.scaled_weights(alpha, pb.N))
    w_opt = enet_path(X, y, l1_ratio=1.0, alphas=[alpha], tol=1e-12, fit_intercept=True,
                      standardize=False)[1][:, 0]
    j = int(np.flatnonzero(w_opt == 0)[0])
    A = np.union1d(np.flatnonzero(w_opt), [j])
    Xc, yc = X[:, A] - X[:, A].mean(0), y - y.mean()
    for sj in (1.0, -1.0):  # the sign whose Newton target for w_j is the opposite one
        s = np.sign(w_opt[A])
        s[A == j] = sj
        u = np.linalg.solve(Xc.T @ Xc, Xc.T @ yc - L1[A] * s)
        if np.sign(u[A == j]) != sj:
            break
    else:  # (deterministic data: a failure here means the draw changed, not the code)
        pytest.fail("this draw has no sign crossing to test; choose another seed")
    w = pb.start(w_opt)
    w[j] = 0.05 * sj
    pb._reset(w)
    before = w.copy()
    obj = lambda v: enet_primal(X, y, v, pb.intercept(v), alpha, 1.0)  # noqa: E731
    assert pb._polish(w, L1, L2)
    assert w[j] == 0.0
    assert obj(w) < obj(before)
    assert np.all(np.sign(w[w != 0]) == np.sign(before[w != 0]))
    # the pause goes on with a step on the set without j, which lands on the optimum (the
    # quadratic with w_opt's signs is the objective there); one step alone stops short
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-9 * np.abs(w_opt).max())


def test_one_step_alone_stops_short_of_the_optimum(monkeypatch):
    # the reference for the test above: with POLISH_STEPS = 1 the truncated step is where
    # the pause ends (so that test's last assertion exercises the further steps)
    from sklearn_normpen._solvers import coordinate_descent as cd
    monkeypatch.setattr(cd, "POLISH_STEPS", 1)
    with pytest.raises(AssertionError):
        test_a_sign_crossing_stops_at_zero()


def _problem(layout, X, y, sw=None):
    Xin = sp.csc_matrix(X) if layout == "sparse" else np.asfortranarray(X)
    return EnetProblem(Design(Xin, y, sw, True), layout)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gram_cache_matches_numpy_as_the_active_set_changes(layout, weighted, dtype):
    # the Newton steps read X_Aᵀ S X_A from a cache that grows by new columns, drops stale
    # ones when it outgrows 2|A|, and keeps the rest: every set must read NumPy's matrix
    rng = np.random.default_rng(4)
    n, p = 50, 120
    X = rng.standard_normal((n, p))
    X[:, 7] = 1e3 + 1e-2 * rng.standard_normal(n)  # an offset column
    y = rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    pb = _problem(layout, X.astype(dtype), y.astype(dtype), sw)
    Xd = X.astype(dtype).astype(np.float64)
    s = np.ones(n) if sw is None else sw
    m = s @ Xd / s.sum()
    Xc, yc = Xd - m, y.astype(dtype) - s @ y.astype(dtype) / s.sum()
    sets = [np.arange(10), np.r_[np.arange(10), 20, 21], np.r_[0, 1, 2, 4, 7, 20, 21, 40],
            np.arange(30, 90), np.r_[35, 7, 3], np.r_[3, 7, 35, 100, 101, 102, 119]]
    for A in sets:
        G, c = pb._active_system(A)
        XA = Xc[:, A]
        np.testing.assert_allclose(G, XA.T @ (s[:, None] * XA), rtol=1e-9, atol=1e-9 * n)
        np.testing.assert_allclose(c, XA.T @ (s * yc), rtol=1e-9, atol=1e-9 * n)


def _lasso_point(X, y, alpha):
    return enet_path(X, y, l1_ratio=1.0, alphas=[alpha], tol=1e-14, fit_intercept=True,
                     standardize=False)[1][:, 0]


@pytest.mark.parametrize("layout", ["dense", "sparse", "gram"])
def test_a_coefficient_of_the_wrong_sign_comes_back_with_the_right_one(layout):
    # through 0 (where the quadratic model with the old sign stops being the objective),
    # then back in with its gradient's sign: the active-set steps land on the optimum
    # (a support of ~50 features, so that the whole of it is factorised in every mode)
    rng = np.random.default_rng(5)
    n, p = 300, 60
    X = rng.standard_normal((n, p))
    y = X[:, :6] @ np.array([2.0, -1.5, 1.0, 1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(n)
    alpha = 0.002
    w_opt = _lasso_point(X, y, alpha)
    assert np.count_nonzero(w_opt) > 40
    pb = _problem(layout, X, y)
    L1, L2 = (np.ascontiguousarray(v) for v in
              ElasticNetPenalty(1.0, np.ones(p)).scaled_weights(alpha, pb.N))
    j = int(np.argmax(np.abs(w_opt)))
    w = pb.start(w_opt)
    w[j] = -0.5 * w_opt[j]
    pb._reset(w)
    assert pb._polish(w, L1, L2)
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-8 * np.abs(w_opt).max())


@pytest.mark.parametrize("layout", ["dense", "sparse", "gram"])
def test_kkt_violators_enter_with_the_step(layout):
    # from the optimum with two of its features zeroed, the kernel's gradient (a pass with
    # no epochs) shows them as KKT violators: one step brings them back to the optimum
    rng = np.random.default_rng(6)
    n, p = 80, 200
    X = rng.standard_normal((n, p))
    y = X[:, :8] @ rng.uniform(1, 2, 8) + 0.3 * rng.standard_normal(n)
    alpha = 0.1
    w_opt = _lasso_point(X, y, alpha)
    pen = ElasticNetPenalty(1.0, np.ones(p))
    pb = _problem(layout, X, y)
    L1, L2 = (np.ascontiguousarray(v) for v in pen.scaled_weights(alpha, pb.N))
    out = np.flatnonzero(w_opt)[:2]
    w = pb.start(w_opt)
    w[out] = 0.0
    pb._reset(w)
    pb._kernel(w, L1, L2, 0.0, 0, pb._limits(pen), 1.0)  # the gradient, no epochs
    assert np.all(np.abs(pb.g[out]) > L1[out])
    assert pb._polish(w, L1, L2)
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-8 * np.abs(w_opt).max())


def test_a_step_past_saturation_leaves_the_smallest_coefficients_at_zero():
    # |A| above n - 1 (the rank of the centred X_A): the step factorises the n - 1 largest
    # coefficients (in |w_j|·||x_j||) and the others start at 0. From the optimum (37
    # features, n = 40) with tiny spurious ones up to |A| = 41 it lands back on the optimum
    # (before, no step was taken at all)
    n, p = 40, 300
    X, y = _wide(n, p, 10, 1)
    pen = ElasticNetPenalty(1.0, np.ones(p))
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alpha = 0.02 * np.max(np.abs(Xc.T @ yc)) / n
    w_opt = _lasso_point(X, y, alpha)
    assert 30 < np.count_nonzero(w_opt) < n - 1
    pb = _problem("dense", X, y)
    L1, L2 = (np.ascontiguousarray(v) for v in pen.scaled_weights(alpha, pb.N))
    w = pb.start(w_opt)
    extra = np.flatnonzero(w_opt == 0)[:n + 1 - np.count_nonzero(w_opt)]
    w[extra] = 1e-4 * np.sign(Xc[:, extra].T @ (yc - Xc @ w_opt))
    pb._reset(w)
    before = w.copy()
    assert np.count_nonzero(before) > n - 1
    obj = lambda v: enet_primal(X, y, v, pb.intercept(v), alpha, 1.0)  # noqa: E731
    assert pb._polish(w, L1, L2)
    assert obj(w) < obj(before)
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-7 * np.abs(w_opt).max())


def test_a_cold_start_past_saturation_certifies():
    # one small alpha from 0 on wide data: coordinate descent holds more non-zeros than
    # the centred X_A has rank (n - 1), so the step factorises the n - 1 largest; features
    # left out that violate KKT at its result then come in with a new factorisation.
    # Without that second part this fit stopped at max_iter with a gap ~1e4 times the
    # target (ConvergenceWarning)
    n, p = 40, 300
    X, y = _wide(n, p, 10, 1)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alpha = 0.003 * np.max(np.abs(Xc.T @ yc)) / n
    tol = 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, coefs, gaps = enet_path(X, y, l1_ratio=1.0, alphas=[alpha], tol=tol,
                                   fit_intercept=True, standardize=False)
    w = coefs[:, 0]
    target = tol * null_deviance(X, y)
    assert gaps[0] <= target
    b = float(np.mean(y) - np.mean(X, axis=0) @ w)
    assert enet_gap(X, y, w, b, alpha, 1.0) <= target * (1 + 1e-6)
    assert np.count_nonzero(w) <= n - 1


def _diabetes_cubic():
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures
    X, y = load_diabetes(return_X_y=True)
    # (sex takes two values: its square and cube are exactly affine in it, as are their
    # products with each other feature: X_A's Gram is singular, not just ill-conditioned)
    return PolynomialFeatures(3, include_bias=False).fit_transform(X), y


def _check_against_cvxpy(X, y, est, alpha, tol):
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    pf_l1, pf_l2, excluded = oracle.enet_factors(X64, standardize=True)
    kw = dict(pf_l1=pf_l1, pf_l2=pf_l2, excluded=excluded)
    null = null_deviance(X64, y64)
    pstar = oracle.reference_optimum_cvxpy(X64, y64, alpha, est.l1_ratio, **kw)
    primal = enet_primal(X64, y64, est.coef_, est.intercept_, alpha, est.l1_ratio, **kw)
    assert est.dual_gap_ <= tol * null
    assert primal - pstar <= tol * null
    assert primal - pstar <= est.dual_gap_ + 1e-12 * null


@pytest.mark.parametrize("alpha", [0.0983, 0.00215])
def test_exactly_dependent_columns_get_newton_steps(alpha):
    # the Cholesky factor of G + diag(L2) did not exist on these columns, every step was
    # declined and coordinate descent ran out of the default max_iter at gaps 42 and 128
    # against a 0.30 target; the steps now factorise G + δ diag(G) and descend along its
    # null space until a coefficient leaves
    from sklearn_normpen import ElasticNetRegressor
    X, y = _diabetes_cubic()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = ElasticNetRegressor(alpha=alpha, l1_ratio=1.0).fit(X, y)
    _check_against_cvxpy(X, y, est, alpha, est.tol)


@pytest.mark.parametrize("degree, alpha", [(3, 0.00215), (3, 0.000215), (2, 0.000215)])
def test_float32_lasso_certified_by_float64_refinement(degree, alpha):
    # float32 data whose columns differ in scale by 1e3 (diabetes' polynomial features,
    # standardised through the penalty): no float32 point met the target (gaps 2.0, 294
    # and 3.4 against 0.30); an uncertified float32 point is now finished by float64 Newton
    # steps and certified by gap(w64) + P(w32) - P(w64) for its rounding
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures
    from sklearn_normpen import ElasticNetRegressor
    X, y = load_diabetes(return_X_y=True)
    X = PolynomialFeatures(degree, include_bias=False).fit_transform(X)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = ElasticNetRegressor(alpha=alpha, l1_ratio=1.0).fit(X32, y32)
    assert est.coef_.dtype == np.float32
    _check_against_cvxpy(X32, y32, est, alpha, est.tol)
