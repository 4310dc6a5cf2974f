"""The covariance-mode (sparse-)group lasso solver against the residual-mode one on the same
in-memory data, and against the independent NumPy certificate of tests/_oracle.py."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_normpen._design import Design
from sklearn_normpen._groups import parse_groups, resolve_group_weights
from sklearn_normpen._path import compute_path
from sklearn_normpen._solvers.block_cd import GroupProblem
from sklearn_normpen._solvers.block_cd_gram import GramGroupProblem

from _oracle import sgl_gap
from _sweeps import check_sweeps_gap

GROUPS = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, None, None, 4]  # 2 unpenalised


def _data(seed=0, n=400, p=18):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 5] += 300.0                          # offset column
    X[:, 6] = X[:, 7] + 0.05 * X[:, 6]         # collinear pair inside a group
    X[:, 12] *= 1e3                            # badly scaled feature
    w = np.zeros(p)
    w[:8] = rng.standard_normal(8)
    w[12] = 1e-3
    y = X @ w + rng.standard_normal(n) + 4.0
    return X, y, rng.uniform(0.2, 2.0, n)


def _problems(X, y, sw, fit_intercept, standardize):
    st = parse_groups(GROUPS, X.shape[1])
    gw = resolve_group_weights(None, st)
    d = Design(np.asfortranarray(X), y, sw, fit_intercept)
    shift = d.x_mean if fit_intercept else np.zeros(X.shape[1])
    gram = GramGroupProblem(d.gram_stats(shift=shift), st, gw, dtype=X.dtype,
                            fit_intercept=fit_intercept, x_shift=shift, y_mean=d.y_mean,
                            standardize=standardize)
    return GroupProblem(d, st, gw, standardize=standardize), gram


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_path_equals_residual_path(rho, standardize, weighted):
    X, y, sw = _data(seed=int(10 * rho) + 2 * standardize + weighted)
    sw = sw if weighted else None
    res_pb, gram_pb = _problems(X, y, sw, True, standardize)
    pa, pb = res_pb.penalty(rho), gram_pb.penalty(rho)
    amax_a = pa.alpha_max(res_pb.null_fit(pa, 1e-14, 1000)[1])
    amax_b = pb.alpha_max(gram_pb.null_fit(pb, 1e-14, 1000)[1])
    assert amax_b == pytest.approx(amax_a, rel=1e-10)
    grid = np.geomspace(amax_a, 1e-3 * amax_a, 15)
    ra = compute_path(res_pb, pa, grid, tol=1e-10, max_iter=20000)
    rb = compute_path(gram_pb, pb, grid, tol=1e-10, max_iter=20000)
    assert ra.converged.all() and rb.converged.all()
    # a certificate is never negative beyond float64 rounding of the Gram-scale sums
    assert np.all(rb.gaps >= -1e-14 * gram_pb.yy)
    scale = np.abs(ra.coefs).max()
    assert np.abs(ra.coefs - rb.coefs).max() <= 1e-5 * scale
    assert np.abs(ra.intercepts - rb.intercepts).max() <= 1e-5 * max(scale, 1) * 300
    assert np.all(rb.coefs[:, 0][np.array([g is not None for g in GROUPS])] == 0)
    if not standardize:
        # the independent NumPy certificate of the Gram solution (every 4th point)
        for k in range(0, len(grid), 4):
            gap = sgl_gap(X, y, rb.coefs[:, k], rb.intercepts[k], grid[k], rho,
                          [np.flatnonzero(np.array([g == j for g in GROUPS]))
                           for j in range(5)], sw=sw)
            assert gap <= 1e-9 * gram_pb.null_deviance


def test_gram_no_intercept_and_float32():
    X, y, sw = _data(seed=5)
    for fit_intercept, dtype in ((False, np.float64), (True, np.float32)):
        Xd, yd = X.astype(dtype), y.astype(dtype)
        res_pb, gram_pb = _problems(Xd, yd, sw.astype(dtype), fit_intercept, False)
        pa, pb = res_pb.penalty(0.3), gram_pb.penalty(0.3)
        amax = pb.alpha_max(gram_pb.null_fit(pb, 1e-14, 1000)[1])
        grid = np.geomspace(amax, 1e-2 * amax, 10)
        tol = 1e-9 if dtype == np.float64 else 1e-6
        rb = compute_path(gram_pb, pb, grid, tol=tol, max_iter=20000)
        ra = compute_path(res_pb, pa, grid, tol=tol, max_iter=20000)
        assert rb.coefs.dtype == dtype
        assert rb.converged.all()  # float64 statistics: float32 input still reaches 1e-6
        scale = np.abs(rb.coefs).max()
        assert np.abs(ra.coefs - rb.coefs).max() <= (1e-4 if dtype == np.float64
                                                     else 3e-2) * scale


def _count_gram_problems(monkeypatch):
    """A list that grows by one for every GramGroupProblem built (the route taken)."""
    built = []
    real_init = GramGroupProblem.__init__

    def init(self, *args, **kwargs):
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(GramGroupProblem, "__init__", init)
    return built


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_lasso_path_takes_the_gram_route_and_agrees(monkeypatch, weighted,
                                                          fit_intercept):
    """A dense float64 path with n >= p runs in covariance mode; it returns the residual
    mode's path (unpenalised features, offset and collinear columns, weights) with NumPy
    duality gaps within target."""
    from sklearn_normpen import group_lasso as G
    from sklearn_normpen import group_lasso_path

    X, y, sw = _data(seed=3)
    sw = sw if weighted else None
    built = _count_gram_problems(monkeypatch)
    kw = dict(groups=GROUPS, l1_ratio=0.3, n_alphas=20, tol=1e-10, sample_weight=sw,
              fit_intercept=fit_intercept, standardize=False)
    alphas, coefs, gaps = group_lasso_path(X, y, **kw)
    assert built, "the Gram route was not taken"
    monkeypatch.setattr(G, "GRAM_MAX_FEATURES", 0)
    alphas_r, coefs_r, _ = group_lasso_path(X, y, **kw)
    assert len(built) == 1
    assert_allclose(alphas, alphas_r, rtol=1e-10)
    assert np.abs(coefs - coefs_r).max() <= 1e-5 * np.abs(coefs_r).max()
    s = np.ones(len(y)) if sw is None else sw
    yc = y - s @ y / s.sum() if fit_intercept else y
    null = s @ yc ** 2 / (2 * s.sum())
    gl = [np.flatnonzero(np.array([g == j for g in GROUPS])) for j in range(5)]
    for k in range(0, len(alphas), 3):
        # the optimal intercept given coef
        b = float(s @ (y - X @ coefs[:, k]) / s.sum()) if fit_intercept else 0.0
        assert sgl_gap(X, y, coefs[:, k], b, alphas[k], 0.3, gl, sw=sw,
                       fit_intercept=fit_intercept) <= 1e-9 * null



@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_bcd_gram_kernel_keeps_its_gradient_and_descends(rho):
    """The compiled covariance sweeps on their own: after every call the kept gradient is
    ``b - A w`` to rounding, the objective never rises, and the epochs alone reach the
    residual mode's optimum."""
    from sklearn_normpen._kernels import _bcd_group as K

    X, y, sw = _data(seed=4)
    res_pb, pb = _problems(X, y, sw, True, False)
    pen = pb.penalty(rho)
    alpha = 0.05 * pen.alpha_max(pb.null_fit(pen, 1e-14, 1000)[1])
    V, E = pb._eigen() if rho == 0 else (np.zeros(1), np.zeros(1))
    w = pb.start(np.zeros(pb.p))
    g = pb.b - pb.A @ w

    def objective(w):
        return 0.5 * (pb.yy - 2 * w @ pb.b + w @ pb.A @ w) + pen.value(w, alpha)

    last = objective(w)
    for _ in range(30):
        K.bcd_gram(pb.A, w, g, pb.gptr, pb.gidx, pb.c, pb.L, pb.Qp, pb.qoff, V, E,
                   int(rho == 0), pb._all, alpha, rho, 1, -1.0, pb.max_inner,
                   pb.inner_eps, pb._buf, pb._wold, pb.b, float(pb.yy), -1.0)
        assert_allclose(g, pb.b - pb.A @ w, rtol=0, atol=1e-10 * np.abs(pb.b).max())
        now = objective(w)
        assert now <= last + 1e-12 * abs(last)
        last = now
    pa = res_pb.penalty(rho)
    wr = res_pb.null_fit(pa, 1e-14, 1000)[0]
    res_pb.solve(wr, pa, alpha, 1e-13 * res_pb.null_deviance, 100000)
    assert last - objective(np.asarray(wr, np.float64)) <= 1e-9 * pb.yy


@pytest.mark.parametrize("epochs", [0, 3])
def test_bcd_gram_kernel_returns_its_gradient_afresh(epochs):
    """On exit the kernel's ``g`` is ``b - A w`` recomputed from ``w`` (the certificate reads
    it without a product of its own), whatever drift the kept one had: a kept gradient
    off by 1e-3 comes back exact to rounding, with or without epochs."""
    from sklearn_normpen._kernels import _bcd_group as K

    X, y, sw = _data(seed=5)
    _, pb = _problems(X, y, sw, True, False)
    pen = pb.penalty(0.5)
    alpha = 0.1 * pen.alpha_max(pb.null_fit(pen, 1e-14, 1000)[1])
    w = pb.start(np.zeros(pb.p))
    solve = pb.solve(w, pen, alpha, 1e-6 * pb.null_deviance)
    assert np.count_nonzero(w) > 0 and solve[0].gap <= 1e-6 * pb.null_deviance
    rng = np.random.default_rng(0)
    g = pb.b - pb.A @ w + 1e-3 * np.abs(pb.b).max() * rng.standard_normal(pb.p)
    K.bcd_gram(pb.A, w, g, pb.gptr, pb.gidx, pb.c, pb.L, pb.Qp, pb.qoff, np.zeros(1),
               np.zeros(1), 0, pb._all, alpha, 0.5, epochs, -1.0, pb.max_inner,
               pb.inner_eps, pb._buf, pb._wold, pb.b, float(pb.yy), -1.0)
    assert_allclose(g, pb.b - pb.A @ w, rtol=0, atol=1e-13 * np.abs(pb.b).max())


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("unpenalised", [False, True])
def test_bcd_gram_kernel_gap_bounds_the_exact_gap_and_stops_at_its_target(rho, unpenalised):
    """The sweeps' own gap (what they stop on) is at least the independent NumPy gap at
    every epoch, and a run stopped on it at ``tol`` is within ``tol`` by that gap too. With
    unpenalised groups the kernel's quantity is an estimate (the certificate projects):
    only the stop is checked there."""
    from sklearn_normpen._kernels import _bcd_group as K

    X, y, sw = _data(seed=9)
    groups = GROUPS if unpenalised else [0 if g is None else g for g in GROUPS]
    st = parse_groups(groups, X.shape[1])
    d = Design(np.asfortranarray(X), y, sw, True)
    pb = GramGroupProblem(d.gram_stats(), st, resolve_group_weights(None, st), dtype=X.dtype,
                          fit_intercept=True, x_shift=d.x_mean, y_mean=d.y_mean,
                          standardize=False)
    pen = pb.penalty(rho)
    alpha = 0.002 * pen.alpha_max(pb.null_fit(pen, 1e-14, 1000)[1])  # 7-13 features
    V, E = pb._eigen() if rho == 0 else (np.zeros(1), np.zeros(1))
    null = pb.null_deviance
    # the oracle's groups: index lists of the penalised groups (the rest unpenalised)
    index_lists = [np.flatnonzero(np.array([g == j for g in groups])) for j in range(5)]

    def exact(w):
        coef, b = pb.to_original(w)
        return sgl_gap(X, y, coef, b, alpha, rho, index_lists, sw=sw)

    state = {}

    def start():
        w = pb.start(np.zeros(pb.p))
        state["g"] = pb.b - pb.A @ w
        return w

    def sweep(w, epochs, stop, tol):
        return K.bcd_gram(pb.A, w, state["g"], pb.gptr, pb.gidx, pb.c, pb.L, pb.Qp, pb.qoff,
                          V, E, int(rho == 0), pb._all, alpha, rho, epochs, stop,
                          pb.max_inner, pb.inner_eps, pb._buf, pb._wold, pb.b, float(pb.yy),
                          tol)

    w = check_sweeps_gap(sweep, start, exact, null, epochs=15, tol=1e-7,
                         bound=not unpenalised)
    assert_allclose(state["g"], pb.b - pb.A @ w, rtol=0, atol=1e-10 * np.abs(pb.b).max())


@pytest.mark.parametrize("weighted", [False, True])
def test_group_lasso_path_cv_gram_folds_equal_residual_folds(monkeypatch, weighted):
    """GroupLassoPathCV in covariance mode (each training fold's statistics: the full
    data's minus the held-out rows') gives the residual route's CV curves, choice and
    coefficients, with offset and collinear columns, an unpenalised feature and weights."""
    from sklearn_normpen import GroupLassoPathCV
    from sklearn_normpen import group_lasso as G

    X, y, sw = _data(seed=6)
    sw = sw if weighted else None
    built = _count_gram_problems(monkeypatch)
    kw = dict(groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=15, cv=4, tol=1e-11)
    gram = GroupLassoPathCV(**kw).fit(X, y, sample_weight=sw)
    assert len(built) == 5  # the full data and 4 folds
    monkeypatch.setattr(G, "GRAM_MAX_FEATURES", 0)
    res = GroupLassoPathCV(**kw).fit(X, y, sample_weight=sw)
    assert len(built) == 5
    assert_allclose(gram.alphas_, res.alphas_, rtol=1e-10)
    # two certified solutions (gap <= 1e-11 of the null deviance) on a collinear pair:
    # held-out errors within ~1e-6; a wrong fold Gram moves them by percents
    assert_allclose(gram.mse_path_, res.mse_path_, rtol=1e-5)
    # the same grid point (the grids' alpha_max agree to rounding)
    assert gram.alpha_ == pytest.approx(res.alpha_, rel=1e-12)
    assert gram.l1_ratio_ == res.l1_ratio_
    assert_allclose(gram.coef_, res.coef_, rtol=1e-5, atol=1e-7 * np.abs(res.coef_).max())
    assert gram.intercept_ == pytest.approx(res.intercept_, rel=1e-6, abs=1e-6)
