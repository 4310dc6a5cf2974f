"""Newton steps on the active set of the (sparse-)group lasso (``_solvers/group_newton.py``).

Block coordinate descent crawls when columns in different groups are nearly collinear, e.g.
offset columns (mean ≫ spread) without an intercept: ``GroupLassoClassifier`` with
singleton groups stopped at a gap of 0.3-0.6 of the null deviance after max_iter, the
regressor at 0.97 (offset 1e5). The step is checked against closed-form optima, and the
estimators against the independent NumPy gaps of ``_oracle`` / ``_glm_oracle``."""
import warnings

import numpy as np
import pytest

from sklearn_normpen import (GroupLassoClassifier, GroupLassoPoissonRegressor,
                             GroupLassoRegressor, MultiTaskElasticNetRegressor)
from sklearn_normpen._solvers.group_newton import active_set_newton, objective_change

from _glm_oracle import glm_gap, glm_null_deviance, glm_primal
from _oracle import (mt_gap, mt_null_deviance, null_deviance,
                     reference_optimum_sgl_cvxpy, sgl_gap, sgl_primal)


def _problem(rho, seed=0, leave=False):
    """An ill-conditioned quadratic (two nearly collinear columns) whose optimum ``u*`` is
    known: ``g`` is chosen so that φ's gradient vanishes at ``u*`` (``leave``: one
    coefficient of ``u*`` is 0, its gradient strictly inside the l1 subdifferential)."""
    rng = np.random.default_rng(seed)
    n, k = 200, 7
    B = rng.standard_normal((n, k))
    B[:, 1] = B[:, 0] + 1e-4 * rng.standard_normal(n)  # condition number ~1e8 in G
    G = B.T @ B / n
    grp = np.array([0, 1, 1, 2, 2, 2, 3])
    c = np.array([1.0, np.sqrt(2), np.sqrt(3), 0.0])  # the last group unpenalised
    alpha = 0.05
    u_star = rng.standard_normal(k) + np.sign(rng.standard_normal(k)) * 0.5
    if leave:
        u_star[4] = 0.0
    u0 = u_star + 0.05 * rng.standard_normal(k)
    u0 = np.where(np.sign(u0) == 0, 0.1, u0)
    if leave:
        u0[4] = 0.03
    s = np.sign(u_star)
    sub = np.zeros(k)  # a subgradient of the penalty at u*
    for q in range(4):
        idx = np.flatnonzero(grp == q)
        if c[q] == 0:
            continue
        nrm = np.linalg.norm(u_star[idx])
        sub[idx] = alpha * (1 - rho) * c[q] * u_star[idx] / nrm + alpha * rho * s[idx]
    if leave:
        sub[4] = 0.5 * alpha * rho  # inside [-alpha rho, alpha rho]
    g = G @ (u_star - u0) + sub  # ∇φ(u*) = G (u* - u0) - g + sub = 0
    return G, g, u0, u_star, grp, c, alpha


@pytest.mark.parametrize("rho,leave", [(0.0, False), (0.5, False), (0.5, True),
                                       (0.9, True)])
def test_newton_reaches_the_closed_form_optimum(rho, leave):
    G, g, u0, u_star, grp, c, alpha = _problem(rho, leave=leave)
    out = active_set_newton(G, g, u0, grp, c, alpha, rho)
    assert out is not None
    u, decrease = out
    np.testing.assert_allclose(u, u_star, rtol=0, atol=1e-7)
    if leave:
        assert u[4] == 0.0
    # the reported decrease is the objective's, and nothing lower exists (u* is optimal)
    assert decrease == pytest.approx(-objective_change(G, g, u0, u, grp, c, alpha, rho),
                                     rel=1e-9)
    assert objective_change(G, g, u0, u_star, grp, c, alpha, rho) >= -decrease - 1e-12


@pytest.mark.parametrize("row", [False, True])
def test_a_wide_group_or_row_at_zero_leaves_exactly(row):
    """φ(u) = ½||u - u0||² - gᵀ(u - u0) + λ||u_A|| + (rest): the group (or, with rho > 0,
    the multi-response row) A's optimum is the block soft-threshold of ``u0_A + g_A``,
    0 when its norm is below λ. The steps used to bounce about the kink at 0 (each halving
    the norm, 30 iterations, never 0); now the group leaves where its radial part
    vanishes, and the other group reaches its own closed form."""
    u0 = np.array([0.3, -0.2, 0.1, 1.0, 2.0, -1.5])
    g = np.array([-0.25, 0.15, -0.05, 0.2, 0.1, 0.3])
    grp = np.array([0, 0, 0, 1, 1, 1])
    c = np.array([1.0, 1.0])
    alpha = 0.5
    if row:  # rho = 1: each group one row of three coefficients (the row norm's weight)
        rho, rows = 1.0, np.array([0, 0, 0, 1, 1, 1])
    else:
        rho, rows = 0.0, None
    out = active_set_newton(np.eye(6), g, u0, grp, c, alpha, rho, rows)
    assert out is not None
    u = out[0]
    v = u0 + g
    assert np.linalg.norm(v[:3]) < alpha  # the first block's optimum is exactly 0
    assert np.all(u[:3] == 0.0)
    want = (1 - alpha / np.linalg.norm(v[3:])) * v[3:]
    np.testing.assert_allclose(u[3:], want, rtol=1e-12, atol=1e-14)


def test_newton_declines_at_the_optimum():
    G, g, u0, u_star, grp, c, alpha = _problem(0.5)
    # from u* itself: the gradient vanishes, nothing to gain
    g_star = g - G @ (u_star - u0)
    assert active_set_newton(G, g_star, u_star, grp, c, alpha, 0.5) is None


def test_newton_on_a_singular_active_set():
    # Two identical columns (G singular) and a third: with the signs held the objective
    # is flat along (1, -1, 0) but for the penalty; the optimum's value is unique
    # (t = u1 + u2 moves to t0 + g_t - lam with the third at its own optimum).
    lam = 0.1
    G = np.array([[1.0, 1.0, 0.2], [1.0, 1.0, 0.2], [0.2, 0.2, 1.0]])
    u0 = np.array([0.3, 0.2, -0.5])
    g = np.array([0.45, 0.45, -0.3])
    grp = np.arange(3)
    c = np.ones(3)
    out = active_set_newton(G, g, u0, grp, c, lam, 1.0)
    assert out is not None
    u, decrease = out
    assert u[0] >= 0 and u[1] >= 0 and u[2] < 0
    # optimality on the reduced pair (t, u3): [[1, .2], [.2, 1]] d = g - lam * sign
    d = np.linalg.solve([[1.0, 0.2], [0.2, 1.0]], [0.45 - lam, -0.3 + lam])
    np.testing.assert_allclose([u[0] + u[1] - 0.5, u[2] + 0.5], d, atol=1e-10)
    best = -objective_change(G, g, u0, np.array([0.5 + d[0], 0.0, -0.5 + d[1]]), grp, c,
                             lam, 1.0)
    assert decrease == pytest.approx(best, rel=1e-9)


def _offset_data(offset, seed=0, classify=False):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((300, 6))
    X = Z.copy()
    X[:, 0] += offset
    X[:, 1] += 1.3 * offset
    signal = Z @ [1.0, -1.0, 0.5, 0.0, 0.0, 0.3]
    if classify:
        return X, (signal + 0.3 * rng.standard_normal(300) > 0).astype(int)
    return X, signal + 0.3 * rng.standard_normal(300)


def _quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        return est.fit(X, y)


@pytest.mark.parametrize("offset", [1e3, 1e4])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_group_classifier_without_intercept_beside_offset_columns(offset, rho):
    X, y = _offset_data(offset, classify=True)
    groups = [[j] for j in range(6)]  # the two offset columns in different groups
    alpha, tol = 2e-3, 1e-5
    est = _quiet(GroupLassoClassifier(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                      fit_intercept=False, standardize=False), X, y)
    gap = glm_gap("binomial", X, y, est.coef_.ravel(), 0.0, alpha, rho, groups=groups,
                  fit_intercept=False)
    null = glm_null_deviance("binomial", y)
    assert 0 <= gap <= 2 * tol * null


@pytest.mark.parametrize("offset", [1e4, 1e5])
@pytest.mark.parametrize("groups", [[[j] for j in range(6)], [[0, 2], [1, 3], [4, 5]]])
@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("standardize", [False, True])
def test_group_regressor_without_intercept_beside_offset_columns(offset, groups, rho,
                                                                 standardize):
    X, y = _offset_data(offset)
    alpha, tol = 2e-3, 1e-6
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                     fit_intercept=False, standardize=standardize), X, y)
    scale = X.std(axis=0) if standardize else None
    gap = sgl_gap(X, y, est.coef_, 0.0, alpha, rho, groups, fit_intercept=False,
                  col_scale=scale)
    null = null_deviance(X, y, fit_intercept=False)
    # beside columns at 1e5 the oracle's dual point (the scaled residual) is loose: two
    # points whose objectives agree to 1e-13 of the null deviance (they differ along the
    # offset columns' flat direction, which moves the residual's mean) got bounds of
    # 2.9e-6 and 7.5e-8. The fit is judged by its objective against the cvxpy + Clarabel
    # optimum, and the package's certificate must bound that distance.
    pstar = reference_optimum_sgl_cvxpy(X, y, alpha, rho, groups, fit_intercept=False,
                                        col_scale=scale)
    primal = sgl_primal(X, y, est.coef_, 0.0, alpha, rho, groups, fit_intercept=False,
                        col_scale=scale)
    assert primal - pstar <= 2 * tol * null
    assert primal - pstar <= est.dual_gap_ + 1e-12 * null
    assert gap >= -1e-12 * null


def _collinear(seed=0):
    """Centred-scale data where two pairs of columns in different (singleton) groups are
    nearly collinear (correlation 1 - 1e-8): block CD crawls along each pair."""
    rng = np.random.default_rng(seed)
    n, p = 400, 40
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 1e-4 * rng.standard_normal(n)
    X[:, 7] = X[:, 5] - 2e-4 * rng.standard_normal(n)
    y = 2 * X[:, 0] - X[:, 1] + X[:, 5] + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("sparse", [False, True])  # dense float64 n >= p: covariance mode
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_path_on_nearly_collinear_groups_is_certified(sparse, rho):
    import scipy.sparse as sps
    from sklearn_normpen import group_lasso_path
    X, y = _collinear()
    groups = [[j] for j in range(X.shape[1])]
    tol = 1e-8
    Xf = sps.csc_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alphas, coefs, _ = group_lasso_path(Xf, y, groups=groups, l1_ratio=rho, tol=tol,
                                            n_alphas=30, fit_intercept=False,
                                            standardize=False)
    null = null_deviance(X, y, fit_intercept=False)
    gaps = [sgl_gap(X, y, coefs[:, k], 0.0, a, rho, groups, fit_intercept=False)
            for k, a in enumerate(alphas)]
    assert min(gaps) >= -1e-12 * null
    assert max(gaps) <= 2 * tol * null


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_covariance_certificate_after_newton_steps_is_the_exact_gap(rho):
    # covariance mode certifies from the gradient its kernel returns afresh; Newton steps
    # move w after that, so the gradient must be formed again: each solve's certificate
    # is the independent gap at the returned w (a stale gradient was off by 2e-10-5e-10
    # of the null deviance here, against 3e-13 rounding)
    from sklearn_normpen._design import Design
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    from sklearn_normpen._solvers.block_cd_gram import GramGroupProblem
    X, y = _collinear()
    p = X.shape[1]
    groups = [[j] for j in range(p)]
    st = parse_groups(groups, p)
    d = Design(np.asfortranarray(X), y, None, False)
    pb = GramGroupProblem(d.gram_stats(shift=np.zeros(p)), st,
                          resolve_group_weights(None, st), dtype=X.dtype,
                          fit_intercept=False, x_shift=np.zeros(p), y_mean=d.y_mean)
    pen = pb.penalty(rho)
    alpha_max = pen.alpha_max(pb.null_fit(pen, 1e-14, 1000)[1])
    newton = []
    original = pb._newton
    pb._newton = lambda *a: newton.append(original(*a)) or newton[-1]
    w = pb.start(np.zeros(p))
    for alpha in np.geomspace(alpha_max, 1e-3 * alpha_max, 30):
        cert, _ = pb.solve(w, pen, alpha, 1e-8 * pb.null_deviance)
        ref = sgl_gap(X, y, w, 0.0, alpha, rho, groups, fit_intercept=False)
        assert abs(cert.gap - ref) <= 1e-11 * pb.null_deviance
    assert any(newton)  # the steps ran and moved w


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_with_intercept_on_nearly_collinear_groups(sparse):
    import scipy.sparse as sps
    X, y = _collinear(1)
    groups = [[j] for j in range(X.shape[1])]
    alpha, tol = 1e-3, 1e-8
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=0.5, tol=tol,
                                     standardize=False),
                 sps.csc_matrix(X) if sparse else X, y)
    gap = sgl_gap(X, y, est.coef_, est.intercept_, alpha, 0.5, groups)
    assert -1e-12 <= gap <= 2 * tol * null_deviance(X, y)


def _wide_repeated(seed):
    """p > n counts with repeated rows (as in scikit-learn's weight-equivalence checks):
    the active sets outgrow the rank of X, the problem on them is singular."""
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(8, 20)), int(rng.integers(20, 40))
    X = rng.integers(0, 3, (n, p)).astype(float) * (rng.random((n, p)) < 0.4)
    reps = rng.integers(1, 4, n)
    y = rng.poisson(np.exp(0.3 * X[:, :3].sum(1)))
    return np.repeat(X, reps, axis=0), np.repeat(y, reps)


@pytest.mark.parametrize("seed", [0, 14, 23, 35, 36, 38])
@pytest.mark.parametrize("standardize", [True, False])
def test_poisson_group_lasso_on_singular_active_sets(seed, standardize):
    # Sweeps crawled along the flat directions of the active set (0.3-3e-3 of the null
    # deviance left at max_iter with the default tol): the step there descends within the
    # null space until a coefficient reaches 0, then Newton steps finish the smaller set.
    # With standardize=True the constant (all-zero) columns are held at zero, which used
    # to switch the steps off (taken for box limits).
    import scipy.sparse as sps
    X, y = _wide_repeated(seed)
    groups = [[j] for j in range(X.shape[1])]
    est = _quiet(GroupLassoPoissonRegressor(groups=groups, standardize=standardize),
                 sps.csc_matrix(X), y)
    coef = est.coef_.ravel()  # (shape (1, p): the package's GLM convention)
    sd = X.std(axis=0) if standardize else np.ones(X.shape[1])
    keep = sd > 0
    assert np.all(coef[~keep] == 0)
    # the standardised problem on the non-constant columns (singleton groups), against a
    # reference optimum whose own optimality the independent dual point shows (at the
    # tol=1e-4 fit that oracle's dual point can be 10x looser than the package's: seed 35
    # with the lead-in, 2.9e-4 for a true excess of 3.1e-6)
    Xs, kept = X[:, keep] / sd[keep], [[j] for j in range(int(keep.sum()))]
    ref = _quiet(GroupLassoPoissonRegressor(groups=groups, standardize=standardize,
                                            tol=1e-12, max_iter=100000),
                 sps.csc_matrix(X), y)
    null = glm_null_deviance("poisson", y)
    prim = {}
    for name, m in [("est", est), ("ref", ref)]:
        w, b = m.coef_.ravel()[keep] * sd[keep], float(np.ravel(m.intercept_)[0])
        gap = glm_gap("poisson", Xs, y, w, b, est.alpha, est.l1_ratio, groups=kept)
        assert gap >= -1e-12 * null  # (a bound at any point, to the oracle's rounding)
        if name == "ref":
            assert gap <= 1e-9 * null  # the reference is the optimum, by the oracle
        prim[name] = glm_primal("poisson", Xs, y, w, b, est.alpha, est.l1_ratio, groups=kept)
    assert prim["est"] - prim["ref"] <= est.tol * null
    assert prim["est"] - prim["ref"] <= est.dual_gap_ + 1e-12 * null  # a valid bound


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_multitask_enet_on_nearly_collinear_columns(sparse, l1_ratio, weighted):
    # The multi-response block CD shares the steps (each row's K coefficients a group,
    # the Gram kron(G_A, I_K)): it stopped at a gap of 0.95 of the null deviance here.
    import scipy.sparse as sps
    X, y = _collinear(2)
    rng = np.random.default_rng(3)
    Y = np.column_stack([y, X[:, 0] - 0.5 * X[:, 1] + rng.standard_normal(X.shape[0])])
    sw = rng.uniform(0.3, 3, X.shape[0]) if weighted else None
    alpha, tol = 1e-3, 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MultiTaskElasticNetRegressor(alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                                           standardize=False).fit(
            sps.csc_matrix(X) if sparse else X, Y, sample_weight=sw)
    gap = mt_gap(X, Y, est.coef_, est.intercept_, alpha, l1_ratio, sw)
    assert -1e-12 <= gap <= 2 * tol * mt_null_deviance(X, Y, sw)


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_multitask_group_lasso_on_nearly_collinear_columns(rho, sparse):
    # The nested norms (each feature's K coefficients a row of the l1 part inside its
    # group's block) in the multi-response sparse-group solver's Newton steps.
    import scipy.sparse as sps
    from sklearn_normpen import MultiTaskGroupLassoRegressor
    from test_multitask_group_kernel import mtsgl_gap  # (relative to the null deviance)
    X, y = _collinear(4)
    rng = np.random.default_rng(5)
    Y = np.column_stack([y, X[:, 0] - 0.5 * X[:, 1] + rng.standard_normal(X.shape[0]),
                         X[:, 5] + rng.standard_normal(X.shape[0])])
    groups = [[1, 2], [0, 3]] + [[j] for j in range(4, X.shape[1])]  # the pair split
    sw = rng.uniform(0.3, 3, X.shape[0])
    alpha, tol = 1e-3, 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = MultiTaskGroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                           standardize=False).fit(
            sps.csc_matrix(X) if sparse else X, Y, sample_weight=sw)
    gap = mtsgl_gap(X, Y, est.coef_.T, alpha, rho, groups, sw=sw)  # (coef_: (K, p))
    assert -1e-12 <= gap <= 2 * tol


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_group_multinomial_on_nearly_collinear_columns(rho):
    # Its Newton models are the multi-response sparse-group solver's, one fresh problem
    # per step (the last model's pause handed on): at the default tol it stopped at 0.05
    # of the null deviance after max_iter.
    from test_group_glm_breadth import _mn_cvxpy, _mn_primal
    rng = np.random.default_rng(6)
    n, p = 300, 10
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 1e-4 * rng.standard_normal(n)
    eta = 2 * X[:, 0] - X[:, 1] + X[:, 5]
    codes = np.digitize(eta + rng.standard_normal(n), [-1.0, 1.0])
    groups = [[j, j + 1] for j in range(0, p, 2)]
    alpha = 1e-3
    est = _quiet(GroupLassoClassifier(groups=groups, alpha=alpha, l1_ratio=rho,
                                      standardize=False), X, codes)
    gw = np.sqrt([2.0] * len(groups))
    W, b = est.coef_.T, est.intercept_
    Wr, br = _mn_cvxpy(X, codes, alpha, rho, groups, gw)
    P = _mn_primal(X, codes, W, b, alpha, rho, groups, gw)
    Pr = _mn_primal(X, codes, Wr, br, alpha, rho, groups, gw)
    assert P - Pr <= est.dual_gap_ + 1e-8
    share = np.bincount(codes) / n  # the unit of tol: the class shares' entropy
    assert est.dual_gap_ <= est.tol * float(-share @ np.log(share)) * (1 + 1e-9)


@pytest.mark.parametrize("alpha, rho", [(1e-3, 0.0), (1e-2, 0.5), (1e-3, 0.5)])
def test_cold_fit_on_cubic_features_certifies_within_default_max_iter(alpha, rho):
    # diabetes' cubic polynomial features (285 nearly collinear columns, groups of 3): a
    # cold fit far below alpha_max grows its working set 5 times and the sweeps crawl on
    # every set until a Newton step; with 200 sweeps before each step the default
    # max_iter ran out at a gap of 22% of the null deviance (Pause: kept steps now call
    # the next one sooner)
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures
    X, y = load_diabetes(return_X_y=True)
    X = PolynomialFeatures(3, include_bias=False).fit_transform(X)
    groups = [list(range(j, j + 3)) for j in range(0, X.shape[1], 3)]
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho), X, y)
    scale = X.std(axis=0)
    null = null_deviance(X, y)
    pstar = reference_optimum_sgl_cvxpy(X, y, alpha, rho, groups, col_scale=scale)
    primal = sgl_primal(X, y, est.coef_, est.intercept_, alpha, rho, groups,
                        col_scale=scale)
    assert est.n_iter_ < 1000
    assert primal - pstar <= 1e-4 * null
    assert primal - pstar <= est.dual_gap_ + 1e-12 * null


@pytest.mark.parametrize("alpha, rho", [(1e-3, 0.0), (1e-3, 0.5)])
def test_float32_cubic_features_certified_by_float64_refinement(alpha, rho):
    # the same features divided by their standard deviations, float32: the Gram's large
    # eigenvalues make the float32 grid too coarse for a certificate (a gap of 8.4 of a
    # 0.30 target at a point that float64 Newton steps on its active set certify to
    # 1e-8); the bound is now gap(w64) + P(w32) - P(w64) for the rounded coefficients
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures
    X, y = load_diabetes(return_X_y=True)
    X = PolynomialFeatures(3, include_bias=False).fit_transform(X)
    X32, y32 = (X / X.std(axis=0)).astype(np.float32), y.astype(np.float32)
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    groups = [list(range(j, j + 3)) for j in range(0, X.shape[1], 3)]
    tol = 1e-4
    est = _quiet(GroupLassoRegressor(groups=groups, alpha=alpha, l1_ratio=rho, tol=tol,
                                     standardize=False), X32, y32)
    assert est.coef_.dtype == np.float32
    null = null_deviance(X64, y64)
    pstar = reference_optimum_sgl_cvxpy(X64, y64, alpha, rho, groups)
    primal = sgl_primal(X64, y64, est.coef_, est.intercept_, alpha, rho, groups)
    assert primal - pstar <= tol * null
    assert primal - pstar <= est.dual_gap_ + 1e-12 * null
