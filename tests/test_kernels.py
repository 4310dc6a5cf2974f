"""The shared compiled helpers against NumPy references: float32 and float64, read-only input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_normpen._kernels import _testing as K

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def _ro(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def _np_soft(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [0.0, 0.3, 1.7, 100.0])
def test_soft_threshold(rng, dtype, t):
    x = _ro(rng.standard_normal(50).astype(dtype))
    out = np.empty_like(x)
    K.soft_threshold(x, dtype(t), out)
    assert out.dtype == dtype
    assert_allclose(out, _np_soft(x.astype(np.float64), t), rtol=RTOL[dtype], atol=1e-6)
    # exact zeros where |x| <= t: sparsity must be exact, not approximate
    assert np.all(out[np.abs(x) <= t] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [0.0, 0.5, 2.0, 50.0])
def test_block_soft_threshold(rng, dtype, t):
    v = _ro(rng.standard_normal(7).astype(dtype))
    out = np.empty_like(v)
    nrm = K.block_soft_threshold(v, dtype(t), out)
    v64 = v.astype(np.float64)
    ref = max(1 - t / np.linalg.norm(v64), 0) * v64
    assert_allclose(out, ref, rtol=RTOL[dtype], atol=1e-6)
    assert_allclose(nrm, np.linalg.norm(ref), rtol=RTOL[dtype], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_threshold_norm(rng, dtype):
    v = _ro(rng.standard_normal(40).astype(dtype))
    v64 = v.astype(np.float64)
    assert_allclose(K.soft_threshold_norm(v, dtype(0.4)),
                    np.linalg.norm(_np_soft(v64, 0.4)), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_blas_wrappers(rng, dtype):
    x = _ro(rng.standard_normal(101).astype(dtype))
    y = _ro(rng.standard_normal(101).astype(dtype))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    assert_allclose(K.dot(x, y), x64 @ y64, rtol=RTOL[dtype] * 10, atol=1e-5)
    assert_allclose(K.nrm2(x), np.linalg.norm(x64), rtol=RTOL[dtype])
    z = y.copy()
    K.axpy(x, z, 0.5)
    assert_allclose(z, y64 + 0.5 * x64, rtol=RTOL[dtype], atol=1e-6)
    A = _ro(np.asfortranarray(rng.standard_normal((30, 8)).astype(dtype)))
    r = _ro(rng.standard_normal(30).astype(dtype))
    out = np.empty(8, dtype=dtype)
    K.gemv_t(A, r, out)
    assert_allclose(out, A.astype(np.float64).T @ r.astype(np.float64),
                    rtol=RTOL[dtype] * 10, atol=1e-5)


@pytest.mark.parametrize("gap_prev, gap, at_prev, at, target, cap, expected", [
    # 1e-2 -> 1e-3 in 2 sweeps: 10^(-1/2) a sweep, 4 more to 1e-5; 0.8 of them, floored
    (1e-2, 1e-3, 3, 5, 1e-5, 10, 5 + 3),
    (1e-2, 1e-3, 3, 5, 1e-12, 10, 5 + 10),  # far: capped
    (1e-2, 1e-3, 3, 5, 1e-12, 4, 5 + 4),
    (1e-3, 1e-3, 3, 5, 1e-5, 10, 0),        # no progress: no prediction
    (1e-3, 2e-3, 3, 5, 1e-5, 10, 0),        # the gap rose
    (0.0, 1e-3, 0, 5, 1e-5, 10, 0),         # no earlier check
    (1e-2, 1e-3, 5, 5, 1e-5, 10, 0),        # the same sweep
    (1e-2, 1e-3, 3, 5, -1.0, 10, 0),        # epochs only (no target)
    (1e-2, 1e-3, 3, 5, 2e-3, 10, 0),        # target above the gap (the caller stopped)
])
def test_next_gap_check(gap_prev, gap, at_prev, at, target, cap, expected):
    # when the sweep kernels check their own gap next (a pass as costly as an epoch's dots)
    expect = expected
    if expected and expected - at < cap:  # the closed form of the linear rate
        rate = np.log(gap / gap_prev) / (at - at_prev)
        expect = at + int(0.8 * np.log(target / gap) / rate)
        assert expect == expected
    assert K.next_gap_check(gap, gap_prev, at, at_prev, target, cap) == expect


def test_kernels_reject_wrong_dtype_mix():
    # Fused types: float32 and float64 may not be mixed in one call.
    with pytest.raises((TypeError, ValueError)):
        K.dot(np.ones(3, np.float32), np.ones(3, np.float64))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_anderson_depth_keeps_the_optimum(k, weighted):
    """Every extrapolation depth of the residual kernel reaches the same certified optimum
    (a weighted lasso: scikit-learn's Lasso with the same sample weights), and a depth
    outside [1, 5] is a clear error."""
    from sklearn.linear_model import Lasso
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    from sklearn_normpen.penalties import ElasticNetPenalty
    rng = np.random.default_rng(k)
    n, p = 300, 40
    X = np.asfortranarray(rng.standard_normal((n, p)) + 0.5 * rng.standard_normal(n)[:, None])
    y = X[:, :5] @ np.array([2.0, -1.0, 1.0, 0.5, -0.5]) + rng.standard_normal(n)
    sw = rng.uniform(0.2, 2.0, n) if weighted else None
    pb = EnetProblem(Design(X, y, sw, True), "dense")
    pb.anderson_k = k
    alpha = 0.02
    w = pb.start(np.zeros(p))
    cert, _ = pb.solve(w, ElasticNetPenalty(1.0, np.ones(p)), alpha, 1e-12, 100000)
    assert 0 <= cert.gap <= 1e-12
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(
        X, y, sample_weight=None if sw is None else sw * n / sw.sum())
    assert_allclose(w, ref.coef_, atol=1e-5)
    if k == 5:
        from sklearn_normpen._kernels._cd_enet import enet_cd_residual
        e = np.zeros(0, np.intc)
        args = (np.zeros(p), X.ravel(order="F"), e, e, n, y - y.mean(), np.zeros(0),
                X.mean(0), ((X - X.mean(0)) ** 2).sum(0), y - y.mean(), np.zeros(p),
                np.ones(p), np.zeros(p), np.full(p, -np.inf), np.full(p, np.inf), float(n),
                0.0, 1.0, 10, False)
        for bad in (0, 6):
            with pytest.raises(ValueError, match="anderson_k must be in"):
                enet_cd_residual(*args, bad)


def _np_enet_gap(X, y, w, L1, L2):
    """The elastic-net kernels' duality gap (n-scale) in NumPy, from its definition:
    ``P = ||r||²/2 + Σ l1|w| + l2 w²/2``; dual point ``r / t`` with ``t >= 1`` the smallest
    scaling keeping ``|x_jᵀr| / t <= l1_j`` on the lasso features (``l2_j = 0``), and the
    conjugate ``Σ (|x_jᵀr| / t - l1_j)_+² / (2 l2_j)`` of the ridge ones; unpenalised
    features (``l1 = l2 = 0``) add their one-coordinate gain ``g_j² / (2 ||x_j||²)``."""
    r = y - X @ w
    g = X.T @ r
    lasso, ridge = (L2 == 0) & (L1 > 0), L2 > 0
    free = (L1 == 0) & (L2 == 0)
    t = max(1.0, np.max(np.abs(g[lasso]) / L1[lasso], initial=0.0))
    excess = np.maximum(np.abs(g[ridge]) / t - L1[ridge], 0)
    conj = np.sum(excess ** 2 / (2 * L2[ridge]))
    primal = (r @ r / 2 + np.sum(L1 * np.abs(w) + L2 * w ** 2 / 2)
              + np.sum(g[free] ** 2 / (2 * np.sum(X[:, free] ** 2, axis=0))))
    dual = y @ r / t - (r @ r) / (2 * t * t) - conj
    return primal - dual


@pytest.mark.parametrize("case", ["ridge everywhere", "lasso", "lasso features raise t",
                                  "unpenalised feature"])
def test_enet_kernel_gap_is_the_numpy_gap(case):
    """The enet kernels' certificate at a given point (the covariance kernel with no epoch
    to run returns it) against the gap formed in NumPy. Every elastic-net and lasso
    certificate sums the conjugate in the gap's first pass; a mix of lasso and ridge
    features that raises the dual scaling above 1 takes the second pass: both checked."""
    from sklearn_normpen._kernels._cd_enet import enet_cd_gram
    rng = np.random.default_rng(3)
    n, p = 30, 8
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([2.0, -1.5, 1.0]) + 0.5 * rng.standard_normal(n)
    w = np.zeros(p)
    w[[0, 2, 5]] = [1.2, 0.4, -0.3]
    L1, L2 = np.full(p, 3.0), np.full(p, 2.0)
    if case == "lasso":
        L2[:] = 0
    elif case == "lasso features raise t":
        L2[:4] = 0
        L1[1] = 0.5  # |x_1ᵀr| is far above it at w_1 = 0: t > 1
    elif case == "unpenalised feature":
        L1[4] = L2[4] = 0
    Q = np.asfortranarray(X.T @ X)
    q = X.T @ y
    H = Q @ w
    g = np.empty(p)
    inf = np.full(p, np.inf)
    gap, kkt, n_iter, _ = enet_cd_gram(w.copy(), Q, q, np.diag(Q).copy(), H.copy(), g, L1,
                                       L2, -inf, inf, float(y @ y), 0.0, 1.0, 0)
    expected = _np_enet_gap(X, y, w, L1, L2)
    if case == "lasso features raise t":
        r = y - X @ w
        assert np.max(np.abs(X[:, :4].T @ r) / L1[:4]) > 1.5  # the second pass ran
    assert n_iter == 0
    assert expected > 1.0  # a point far from the optimum: the terms matter
    assert gap == pytest.approx(expected, rel=1e-10)
