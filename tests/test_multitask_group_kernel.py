"""The compiled multi-response sparse-group kernel (_bcd_multitask_group.pyx) and its
working sets: against the first NumPy solver (tests/_mtgroup_numpy.py, kept as a twin),
dense against CSC, float32 certified by an independent NumPy gap, adversarial layouts."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_normpen.multitask_group as mtg_module
import sklearn_normpen._solvers.multitask_group as solver_module
from sklearn_normpen import MultiTaskGroupLassoRegressor, multitask_group_lasso_path
from sklearn_normpen.penalties import MultiTaskSparseGroupLasso
from _mtgroup_numpy import NumpyMultiTaskGroupProblem


def _partition(rng, p, max_size):
    perm = rng.permutation(p)
    cuts, i = [], 0
    while i < p:
        k = int(rng.integers(1, max_size + 1))
        cuts.append(np.sort(perm[i:i + k]))
        i += k
    return [c.tolist() for c in cuts]


def _problem(seed, n=60, p=24, K=3, max_size=5, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0
    groups = _partition(rng, p, max_size)
    B = np.zeros((p, K))
    for g in groups[:2]:
        B[g] = rng.standard_normal((len(g), K))
    Y = X @ B + 0.5 * rng.standard_normal((n, K))
    return X, Y, groups


def mtsgl_gap(X, Y, W, alpha, rho, groups, gw=None, sw=None, fit_intercept=True):
    """Independent duality gap of the multi-response sparse-group lasso (float64): dual
    point c·R (R the residual matrix at W, the intercept fitted by centring), c the best
    scaling keeping every group of Z = Xcᵀ S cR / Σs in its dual ball
    ``‖S_row(Z_g, αρ)‖_F <= α(1 - ρ)c_g`` (bisection on c)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    X, Y, W = (np.asarray(a, dtype=np.float64) for a in (X, Y, W))
    s = np.ones(len(X)) if sw is None else np.asarray(sw, dtype=np.float64)
    N = s.sum()
    if fit_intercept:
        X, Y = X - s @ X / N, Y - s @ Y / N
    gw = np.sqrt([len(g) for g in groups]) if gw is None else np.asarray(gw, float)
    R = Y - X @ W
    Z = X.T @ (s[:, None] * R) / N

    def ok(c, g, cg):
        soft = np.maximum(c * np.linalg.norm(Z[g], axis=1) - alpha * rho, 0)
        return np.linalg.norm(soft) <= alpha * (1 - rho) * cg * (1 + 1e-12)

    c = 1.0
    for g, cg in zip(groups, gw):
        if not ok(c, g, cg):
            lo, hi = 0.0, c
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if ok(mid, g, cg) else (lo, mid)
            c = lo
    rr = np.sum(s[:, None] * R * R) / N
    ry = np.sum(s[:, None] * R * Y) / N
    c = min(c, ry / rr) if rr > 0 else c
    pen = alpha * (rho * np.linalg.norm(W, axis=1).sum()
                   + (1 - rho) * sum(cg * np.linalg.norm(W[g])
                                     for g, cg in zip(groups, gw)))
    null = 0.5 * np.sum(s[:, None] * Y * Y) / N
    return (0.5 * rr + pen - (c * ry - 0.5 * c * c * rr)) / null


def _numpy_path(monkeypatch, *args, **kw):
    """The same path solved by the NumPy twin."""
    with monkeypatch.context() as m:
        m.setattr(mtg_module, "MultiTaskGroupProblem", NumpyMultiTaskGroupProblem)
        return multitask_group_lasso_path(*args, **kw)


@pytest.mark.parametrize("seed,rho,weighted,intercept,gram_max", [
    (0, 0.0, False, True, 128), (1, 0.5, True, True, 128), (2, 0.9, True, False, 128),
    (3, 0.3, False, True, 0), (4, 0.0, True, True, 0)])
def test_kernel_matches_numpy_twin(monkeypatch, seed, rho, weighted, intercept, gram_max):
    """Random problems (random partitions, weights, with and without the group Grams'
    inner steps): the kernel's path is the NumPy twin's, and every point is certified."""
    monkeypatch.setattr(solver_module, "GRAM_MAX", gram_max)
    X, Y, groups = _problem(seed)
    rng = np.random.default_rng(seed + 100)
    sw = rng.uniform(0.3, 2.5, len(X)) if weighted else None
    gw = rng.uniform(0.5, 2.0, len(groups))
    kw = dict(groups=groups, group_weights=gw, l1_ratio=rho, n_alphas=15, sample_weight=sw,
              fit_intercept=intercept, standardize=False, tol=1e-11, max_iter=100000)
    a, C, gaps = multitask_group_lasso_path(X, Y, **kw)
    a0, C0, _ = _numpy_path(monkeypatch, X, Y, **kw)
    np.testing.assert_allclose(a, a0, rtol=1e-10)
    scale = np.abs(C0).max()
    np.testing.assert_allclose(C, C0, atol=1e-6 * scale)
    for k in range(len(a)):
        g = mtsgl_gap(X, Y, C[:, :, k].T, a[k], rho, groups, gw, sw, intercept)
        assert -1e-12 <= g <= 1e-11 * 1.01
        assert gaps[k] >= 0


def test_dense_and_sparse_agree_and_inputs_untouched():
    X, Y, groups = _problem(5, n=80, p=30, sparse=True)
    sw = np.random.default_rng(6).uniform(0.5, 2, len(X))
    Xs = sp.csc_matrix(X)
    X0, Y0, data0 = X.copy(), Y.copy(), Xs.data.copy()
    kw = dict(groups=groups, l1_ratio=0.4, n_alphas=12, sample_weight=sw,
              fit_intercept=True, tol=1e-10)
    a, C, _ = multitask_group_lasso_path(X, Y, **kw)
    a2, C2, _ = multitask_group_lasso_path(Xs, Y, **kw)
    np.testing.assert_allclose(a2, a, rtol=1e-10)
    np.testing.assert_allclose(C2, C, atol=1e-7 * np.abs(C).max())
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(Xs.data, data0)
    from _oracle import weighted_std
    sigma = weighted_std(X, sw)[0]
    for k in range(len(a)):  # standardize: the gap on X/σ at W·σ
        assert mtsgl_gap(X / sigma, Y, C[:, :, k].T * sigma[:, None], a[k], 0.4, groups,
                         sw=sw) <= 1e-10 * 1.01


def test_offset_column_dense_certified_sparse_close():
    """A column with |mean| > 1e3·std: dense X and CSC both store it centred (the Design's
    layout), so both are certified to 1e-10 by the independent gap, without a warning, and
    the two paths agree."""
    X, Y, groups = _problem(5, n=80, p=30, sparse=True)
    X[:, 3] += 5e3
    sw = np.random.default_rng(6).uniform(0.5, 2, len(X))
    kw = dict(groups=groups, l1_ratio=0.4, n_alphas=12, sample_weight=sw,
              fit_intercept=True, standardize=False, tol=1e-10)
    a, C, _ = multitask_group_lasso_path(X, Y, **kw)
    for k in range(len(a)):
        assert mtsgl_gap(X, Y, C[:, :, k].T, a[k], 0.4, groups, sw=sw) <= 1e-10 * 1.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a2, C2, _ = multitask_group_lasso_path(sp.csc_matrix(X), Y, **kw)
    np.testing.assert_allclose(a2, a, rtol=1e-9)
    for k in range(len(a)):
        assert mtsgl_gap(X, Y, C2[:, :, k].T, a[k], 0.4, groups, sw=sw) <= 1e-10 * 1.01
    np.testing.assert_allclose(C2, C, atol=1e-5 * np.abs(C).max())


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_certified_at_1e_6(sparse):
    """float32 in, float32 out; every point's certificate (1e-6 of the null deviance) holds
    under an independent float64 gap at the float32 coefficients."""
    X, Y, groups = _problem(7, n=120, p=40, K=4, sparse=sparse)
    X[:, 0] *= 10.0  # unequal column scales
    X[:, 1] *= 0.1
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    Xin = sp.csc_matrix(X32) if sparse else X32
    # standardize=False: the objective is on X32's values exactly (a standardised float32
    # copy is rounded), which the float64 oracle reads
    a, C, gaps = multitask_group_lasso_path(Xin, Y32, groups=groups, l1_ratio=0.3,
                                            n_alphas=20, fit_intercept=True, tol=1e-6,
                                            standardize=False)
    assert C.dtype == np.float32
    assert np.any(C[:, :, -1] != 0)
    for k in range(len(a)):
        g = mtsgl_gap(X32, Y32, C[:, :, k].T, a[k], 0.3, groups)
        assert -1e-12 <= g <= 1e-6 * 1.01
    # extreme scales (1e3, 1e-3) under standardize: certified, the float64 fit's
    X[:, 0] *= 100.0
    X[:, 1] *= 0.01
    X32 = X.astype(np.float32)
    Xin = sp.csc_matrix(X32) if sparse else X32
    a, C, gaps = multitask_group_lasso_path(Xin, Y32, groups=groups, l1_ratio=0.3,
                                            n_alphas=20, fit_intercept=True, tol=1e-6)
    assert C.dtype == np.float32
    _, C64, _ = multitask_group_lasso_path(X32.astype(np.float64), Y32.astype(np.float64),
                                           groups=groups, l1_ratio=0.3, alphas=a,
                                           fit_intercept=True, tol=1e-10)
    scale = np.abs(C64).max(axis=(0, 2))[None, :, None] + 1e-30
    assert np.max(np.abs(C - C64) / scale) < 2e-2
    reg = MultiTaskGroupLassoRegressor(groups=groups, alpha=a[10], l1_ratio=0.3,
                                       tol=1e-6).fit(Xin, Y32)
    assert reg.coef_.dtype == np.float32 and reg.intercept_.dtype == np.float64
    np.testing.assert_allclose(reg.coef_, C[:, :, 10], atol=1e-3 * np.abs(C).max())


def test_constant_columns_large_groups_and_working_set(monkeypatch):
    """A constant column inside a group (kept at 0), one group wider than GRAM_MAX (single
    steps), many small groups with few active (working sets): certified at every point and
    the same as the NumPy twin."""
    monkeypatch.setattr(solver_module, "GRAM_MAX", 16)
    rng = np.random.default_rng(8)
    n, K = 70, 2
    X = rng.standard_normal((n, 150))
    X[:, 5] = 3.0
    groups = [list(range(0, 30))] + [[j, j + 1] for j in range(30, 150, 2)]
    Y = X[:, [31, 60]] @ rng.standard_normal((2, K)) + rng.standard_normal((n, K))
    Y += X[:, :3] @ rng.standard_normal((3, K)) * 0.3
    kw = dict(groups=groups, l1_ratio=0.5, n_alphas=10, eps=0.02, fit_intercept=True,
              standardize=False, tol=1e-10, max_iter=100000)
    a, C, _ = multitask_group_lasso_path(X, Y, **kw)
    assert np.all(C[:, 5, :] == 0) and np.any(C[:, :30, -1] != 0)
    for k in range(len(a)):
        assert mtsgl_gap(X, Y, C[:, :, k].T, a[k], 0.5, groups) <= 1e-10 * 1.01
    kw.pop("n_alphas"), kw.pop("eps")
    _, C0, _ = _numpy_path(monkeypatch, X, Y, alphas=a, **kw)
    np.testing.assert_allclose(C, C0, atol=1e-5 * np.abs(C0).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_calls_pass_their_signature(monkeypatch, dtype):
    """Every real kernel call satisfies KERNEL_SIGNATURES; a short scratch buffer is refused
    by the kernel (not written past)."""
    from sklearn_normpen._kernels import _bcd_multitask_group as K
    from sklearn_normpen._validation import check_kernel_call
    seen = {}
    for name in ("bcd_mtg_dense", "bcd_mtg_sparse"):
        def wrapped(*args, _fn=getattr(K, name), _name=name):
            check_kernel_call(_name, args)
            seen[_name] = args
            return _fn(*args)
        wrapped.__name__ = name
        monkeypatch.setattr(K, name, wrapped)
    X, Y, groups = _problem(9, sparse=True)
    X, Y = X.astype(dtype), Y.astype(dtype)
    sw = np.random.default_rng(0).uniform(0.5, 2, len(X))
    for data in (X, sp.csc_matrix(X)):
        multitask_group_lasso_path(data, Y, groups=groups, n_alphas=4, sample_weight=sw,
                                   tol=1e-5)
    assert set(seen) == {"bcd_mtg_dense", "bcd_mtg_sparse"}
    args = list(seen["bcd_mtg_dense"])
    bad = list(args)
    bad[-2] = 6  # anderson_k
    with pytest.raises(ValueError, match="anderson_k must be in"):
        K.bcd_mtg_dense(*bad)
    bad = list(args)
    bad[-1] = np.zeros((3, 2), dtype=dtype)  # pred: (p, K) or none
    with pytest.raises(ValueError, match=r"pred has shape \(3, 2\)"):
        K.bcd_mtg_dense(*bad)
    args[-4] = np.zeros(3)  # buf (float64 whatever X)
    with pytest.raises(ValueError, match="buf is too short"):
        K.bcd_mtg_dense(*args)


def _correlated(seed, n, p, K, size, n_true, rho_x=0.8, shift=0.0):
    """Dense groups of ``size`` with columns correlated ``rho_x`` (slow sweeps) and
    ``n_true`` non-zero groups."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    X = np.sqrt(rho_x) * common + np.sqrt(1 - rho_x) * rng.standard_normal((n, p)) + shift
    groups = [list(range(i, i + size)) for i in range(0, p, size)]
    B = np.zeros((p, K))
    for g in groups[:n_true]:
        B[g] = rng.standard_normal((size, K))
    return X, X @ B + rng.standard_normal((n, K)), groups


@pytest.mark.parametrize("weighted", [False, True])
def test_anderson_extrapolation_keeps_the_residual_and_converges_sooner(weighted):
    """The kernel's Anderson steps (kept only when the restricted objective falls) change
    the coefficients and the residual together: after the sweeps the residual equals
    ``Yc - Xc W`` from scratch, the solution is the plain sweeps' and certified by the
    independent gap, and on correlated groups it needs fewer epochs than plain sweeps."""
    X, Y, groups = _correlated(3, 80, 60, 3, 4, 4)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if weighted else None
    alpha, rho = 0.05, 0.3
    out = {}
    for k in (0, 5):
        pb = solver_module.MultiTaskGroupProblem(np.asfortranarray(X), Y, sw, True, groups)
        pb.anderson_k = k
        pen = MultiTaskSparseGroupLasso(np.array(pb._gptr), np.array(pb._gidx),
                                        np.sqrt([len(g) for g in groups]), rho)
        w = pb.start(np.zeros((X.shape[1], 3)))
        ws = np.arange(len(groups), dtype=np.intc)
        l2 = np.ascontiguousarray(alpha * (1 - rho) * pen.weights)
        epochs, gap = pb._group_sweep(w, ws, alpha * rho, l2, 20000, 1e-11)
        R = np.asarray(pb.R) + np.asarray(pb.xk_mean) @ w  # centred, as stored
        np.testing.assert_allclose(R, pb._residual64(w), atol=1e-10 * np.abs(R).max())
        assert mtsgl_gap(X, Y, w, alpha, rho, groups, sw=sw) <= 1e-10
        out[k] = epochs, w.copy()
    np.testing.assert_allclose(out[5][1], out[0][1], atol=1e-6 * np.abs(out[0][1]).max())
    assert out[5][0] < out[0][0]


@pytest.mark.parametrize("rho,fit_intercept,weighted,shift", [
    (0.0, True, False, 3.0), (0.5, False, False, 0.0), (0.3, True, True, 3.0),
    (0.0, True, True, 1e4)])
def test_bounded_certificates_report_the_full_gradients_gap(monkeypatch, rho, fit_intercept,
                                                            weighted, shift):
    """A wide dense float64 path (groups of 5, K = 3; ``shift``: every column's mean, 1e4
    its spread makes them offset columns the Design stores centred): certificates that
    leave out the zero groups their bound (from the combined earlier full gradients) keeps
    inside their balls report exactly the penalty value, dual scaling and KKT violation of
    the full gradient, leave out most groups at most points, and the path's objectives
    equal those of a path with full certificates within the gap target."""
    from _bounded_spy import assert_bounded_like_full, spy_bounded_gradients
    X, Y, groups = _correlated(11, 60, 1500, 3, 5, 6, rho_x=0.2, shift=shift)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(X)) if weighted else None
    seen = spy_bounded_gradients(monkeypatch, solver_module.MultiTaskGroupProblem,
                                 "_cert_gradient",
                                 lambda G: np.count_nonzero(np.any(G != 0, axis=1)) / len(G))
    kw = dict(groups=groups, l1_ratio=rho, n_alphas=30, eps=1e-2, tol=1e-8,
              sample_weight=sw, fit_intercept=fit_intercept, standardize=False)
    alphas, coefs, _ = multitask_group_lasso_path(X, Y, **kw)
    assert_bounded_like_full(seen, 1 / 3)
    monkeypatch.setattr(solver_module.MultiTaskGroupProblem, "_cert_gradient",
                        lambda self, R, w, pen, alpha: self._gradient64(R))
    alphas_f, coefs_f, _ = multitask_group_lasso_path(X, Y, **kw)
    np.testing.assert_allclose(alphas, alphas_f)
    s = np.ones(len(X)) if sw is None else sw
    N = s.sum()
    Xc, Yc = ((X - s @ X / N, Y - s @ Y / N) if fit_intercept else (X, Y))
    target = 1e-8 * np.sum(s[:, None] * Yc * Yc) / (2 * N)
    cw = np.sqrt(5.0)

    def objective(W, a):
        R = Yc - Xc @ W
        return (np.sum(s[:, None] * R * R) / (2 * N)
                + a * (rho * np.linalg.norm(W, axis=1).sum()
                       + (1 - rho) * cw * sum(np.linalg.norm(W[g]) for g in groups)))

    for k, a in enumerate(alphas):
        f = [objective(C[:, :, k].T, a) for C in (coefs, coefs_f)]
        assert abs(f[0] - f[1]) <= 2 * target


def test_kkt_violation_is_the_distance_to_the_subdifferential():
    """``MultiTaskSparseGroupLasso.kkt_violation`` against a group-by-group loop: the
    distance of ``Z_g`` to ``∂(l1 Σ_j ‖W_j‖ + l2_g ‖W_g‖_F)`` (at a zero group the
    Minkowski sum of the row balls and the Frobenius ball), with random partitions, zero
    rows inside non-zero groups, all-zero ``W``, and ``terms`` sharing its row norms."""
    rng = np.random.default_rng(5)
    for _ in range(60):
        p, K = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        groups = [np.array(g) for g in _partition(rng, p, 5)]
        gptr = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.intc)
        gidx = np.concatenate(groups).astype(np.intc)
        c = rng.uniform(0.5, 2.0, len(groups))
        rho, alpha = float(rng.choice([0.0, 0.4, 1.0])), float(rng.uniform(0.05, 2.0))
        Z = rng.standard_normal((p, K)) * 10 ** rng.uniform(-2, 2)
        W = rng.standard_normal((p, K)) * (rng.random((p, 1)) < 0.5)
        if rng.random() < 0.2:
            W[:] = 0
        l1 = alpha * rho
        worst = 0.0
        for g, cg in zip(groups, c):
            l2 = alpha * (1 - rho) * cg
            fro = np.linalg.norm(W[g])
            if fro == 0:
                soft = [max(np.linalg.norm(Z[j]) - l1, 0.0) for j in g]
                dist = max(np.linalg.norm(soft) - l2, 0.0)
            else:
                parts = []
                for j in g:
                    nj = np.linalg.norm(W[j])
                    if nj > 0:
                        parts.append(np.linalg.norm(Z[j] - l1 * W[j] / nj - l2 * W[j] / fro))
                    else:
                        parts.append(max(np.linalg.norm(Z[j]) - l1, 0.0))
                dist = np.linalg.norm(parts)
            worst = max(worst, dist)
        pen = MultiTaskSparseGroupLasso(gptr, gidx, c, rho)
        assert pen.kkt_violation(Z, W, alpha) == pytest.approx(worst, rel=1e-12, abs=1e-300)
        value, t, conj, kkt = pen.terms(W, Z, Z, alpha)
        assert kkt == pen.kkt_violation(Z, W, alpha)
        assert value == pytest.approx(alpha * (
            rho * np.linalg.norm(W, axis=1).sum()
            + (1 - rho) * sum(cg * np.linalg.norm(W[g]) for g, cg in zip(groups, c))),
            rel=1e-12, abs=1e-300)
        assert t == pen.dual_scale(Z, alpha) and conj == 0.0
