"""The proximal-Newton model reused across Newton steps (``ReweightedDesign``,
``EnetProblem.reweighted``) and solved on a working set of columns: the reweighted
statistics against NumPy computed here, and certified paths against the independent
NumPy gap oracle and cvxpy + Clarabel, on wide data where the working set is a strict
subset of the features."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from _oracle import logistic_gap, logistic_primal
from sklearn_normpen._design import Design, ReweightedDesign
from sklearn_normpen._path import compute_path
from sklearn_normpen._solvers import prox_newton
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen._solvers.prox_newton import GLMProblem, glm_mode
from sklearn_normpen.datafits import Poisson
from sklearn_normpen.penalties import ElasticNetPenalty


def _wide(n=40, p=120, seed=0, sparse=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.7] = 0.0
    X[:, 5] = 3.0  # a constant column (zero under any weights)
    w = np.zeros(p)
    w[:4] = [2.0, -1.5, 1.0, 0.8]
    y = (rng.random(n) < expit(X @ w - 0.3 * X[:, 5])).astype(float)
    X = X.astype(dtype)
    return (sp.csc_matrix(X) if sparse else np.asfortranarray(X)), y


def _dense(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_reweight_matches_numpy(sparse, dtype, fit_intercept):
    X, y = _wide(n=50, p=30, sparse=sparse, dtype=dtype)
    rng = np.random.default_rng(1)
    base = Design(X, y, rng.uniform(0.5, 2, 50), fit_intercept)
    assert ReweightedDesign.usable(base)
    rw = ReweightedDesign(base)
    A = _dense(X)
    for seed in range(3):  # reweighted again and again: nothing stale
        r = np.random.default_rng(seed)
        s = r.uniform(1e-5, 0.25, 50)
        z = r.standard_normal(50) * 3
        assert rw.reweight(z.copy(), s.copy())
        N = s.sum()
        m = s @ A / N if fit_intercept else np.zeros(30)
        zm = s @ z / N if fit_intercept else 0.0
        about = s @ A / N
        std = np.sqrt(s @ (A - about) ** 2 / N)
        std[5] = 0.0
        np.testing.assert_allclose(rw.N, N, rtol=1e-13)
        np.testing.assert_allclose(rw.x_mean, m, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(rw.y_mean, zm, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rw.x_std, std, rtol=1e-9, atol=1e-12)
        assert rw.constant[5] and rw.constant.sum() == 1
        np.testing.assert_allclose(rw.null_deviance, s @ (z - zm) ** 2 / (2 * N),
                                   rtol=1e-12)
        # the reused problem's column norms and residual equal a fresh problem's
        pb_new = EnetProblem(rw, glm_mode(X))
        w = np.zeros(30, dtype=dtype)
        w[[0, 3]] = [0.5, -0.25]
        Rc = (z - zm) - (A - m) @ w.astype(np.float64)
        pb_new.reweighted(w, Rc)
        norm2 = s @ (A - m) ** 2 if fit_intercept else s @ A ** 2
        norm2[5] = 0.0 if fit_intercept else norm2[5]
        np.testing.assert_allclose(pb_new.norm2, norm2, rtol=1e-5 if dtype == np.float32
                                   else 1e-10, atol=1e-8)


def test_offset_column_is_not_reweighted():
    # a calendar-year-like column: the base Design centres it explicitly, so the
    # one-pass moments are refused and every Newton step builds a fresh Design
    X, y = _wide(n=60, p=20)
    X = np.array(X)
    X[:, 1] += 2020.0 * 1e3
    base = Design(np.asfortranarray(X), y, None, True)
    assert not ReweightedDesign.usable(base)
    pb = GLMProblem(base, "dense")
    pen = ElasticNetPenalty(1.0, np.ones(20))
    _, z = pb.null_fit(pen, 1e-12, 1000)
    grid = pen.alpha_max(z) * np.geomspace(1, 0.05, 6)
    res = compute_path(pb, pen, grid, tol=1e-6, max_iter=100000)
    null = pb.null_deviance
    assert res.converged.all()
    for k in range(6):
        assert logistic_gap(X, y, res.coefs[:, k], res.intercepts[k], grid[k], 1.0) <= (
            10 * 1e-6 * null)


def _spy_working_sets(monkeypatch):
    sizes = []
    orig = GLMProblem._working_set

    def spy(self, *a):
        cols = orig(self, *a)
        sizes.append(None if cols is None else cols.size)
        return cols
    monkeypatch.setattr(GLMProblem, "_working_set", spy)
    return sizes


@pytest.mark.parametrize("case", ["plain", "weights", "unpenalised", "sparse", "float32",
                                  "l1_ratio", "no_intercept"])
def test_working_set_paths_certified_by_independent_oracle(case, monkeypatch):
    sizes = _spy_working_sets(monkeypatch)
    X, y = _wide(sparse=case == "sparse",
                 dtype=np.float32 if case == "float32" else np.float64)
    n, p = X.shape
    sw = np.random.default_rng(2).uniform(0.2, 3, n) if case == "weights" else None
    pf = np.ones(p)
    if case == "unpenalised":
        pf[7] = 0.0
    rho = 0.6 if case == "l1_ratio" else 1.0
    fi = case != "no_intercept"
    pb = GLMProblem(Design(X, y, sw, fi), glm_mode(X))
    pen = ElasticNetPenalty(rho, pf, excluded=np.arange(p) == 5)
    _, z = pb.null_fit(pen, 1e-12, 1000)
    grid = pen.alpha_max(z) * np.geomspace(1, 0.05, 12)
    # float32 kernels reach 1e-5 of the null deviance here, not 1e-6 (before this
    # model's reuse too); float64 is held to 1e-6
    tol = 1e-5 if case == "float32" else 1e-6
    res = compute_path(pb, pen, grid, tol=tol, max_iter=100000)
    # the working set was a strict subset of the columns at some Newton step
    assert any(s is not None and s < p for s in sizes)
    null = pb.null_deviance
    assert np.all(res.gaps >= -1e-15) and np.all(res.gaps <= tol * null)
    assert res.coefs.dtype == (np.float32 if case == "float32" else np.float64)
    for k in range(res.coefs.shape[1]):
        w, b = res.coefs[:, k].astype(np.float64), float(res.intercepts[k])
        assert w[5] == 0.0
        # an excluded feature is held at 0: the problem without its column
        keep = np.arange(p) != 5
        g = logistic_gap(_dense(X)[:, keep], y, w[keep], b, grid[k], rho, sw=sw,
                         pf_l1=pf[keep], pf_l2=pf[keep], fit_intercept=fi)
        assert -1e-12 <= g <= 20 * tol * null


def test_working_set_positive_and_box_match_cvxpy(monkeypatch):
    cp = pytest.importorskip("cvxpy")
    sizes = _spy_working_sets(monkeypatch)
    X, y = _wide(n=40, p=60, seed=3)
    X = np.delete(np.asarray(X), 5, axis=1)  # no constant column: cvxpy sees all features
    p = X.shape[1]
    upper = np.full(p, np.inf)
    upper[0] = 0.3  # a binding upper limit on the strongest feature
    pen = ElasticNetPenalty(1.0, np.ones(p), positive=True, upper=upper)
    pb = GLMProblem(Design(np.asfortranarray(X), y, None, True), "dense")
    _, z = pb.null_fit(pen, 1e-12, 1000)
    grid = pen.alpha_max(z) * np.geomspace(1, 0.1, 6)
    res = compute_path(pb, pen, grid, tol=1e-8, max_iter=100000)
    assert any(s is not None and s < p for s in sizes)
    assert res.converged.all()
    alpha = grid[-1]
    w = cp.Variable(p)
    b = cp.Variable()
    eta = X @ w + b
    obj = cp.sum(cp.logistic(eta) - cp.multiply(y, eta)) / len(y) + alpha * cp.norm1(w)
    prob = cp.Problem(cp.Minimize(obj), [w >= 0, w <= upper[0] * (np.arange(p) == 0)
                                         + 1e6 * (np.arange(p) != 0)])
    prob.solve(solver="CLARABEL")
    P_ours = logistic_primal(X, y, res.coefs[:, -1], res.intercepts[-1], alpha, 1.0)
    P_ref = logistic_primal(X, y, np.clip(w.value, 0, upper), float(b.value), alpha, 1.0)
    assert res.coefs[:, -1].min() >= 0 and res.coefs[0, -1] <= 0.3
    assert P_ours <= P_ref + 1e-7
    assert P_ours - res.gaps[-1] <= P_ref + 1e-7  # the certificate's dual bound holds


def test_poisson_working_set_matches_full_model(monkeypatch):
    # the Poisson family through the same working set: its path certified at every point
    sizes = _spy_working_sets(monkeypatch)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 100))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.4 * X[:, 1] + 0.2)).astype(float)
    pb = GLMProblem(Design(np.asfortranarray(X), y, None, True), "dense", Poisson)
    pen = ElasticNetPenalty(1.0, np.ones(100))
    _, z = pb.null_fit(pen, 1e-12, 1000)
    grid = pen.alpha_max(z) * np.geomspace(1, 0.05, 10)
    res = compute_path(pb, pen, grid, tol=1e-7, max_iter=100000)
    assert any(s is not None and s < 100 for s in sizes)
    assert res.converged.all()
    # independent Poisson primal and a KKT check in NumPy at every point
    for k in range(10):
        w, b = res.coefs[:, k], res.intercepts[k]
        mu = np.exp(X @ w + b)
        grad = X.T @ (y - mu) / 50
        assert abs(np.mean(y - mu)) < 1e-3
        assert np.all(np.abs(grad) <= grid[k] * (1 + 1e-2) + 1e-6)
        on = w != 0
        np.testing.assert_allclose(grad[on], grid[k] * np.sign(w[on]), rtol=2e-2,
                                   atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_eta_is_exact_after_every_point(dtype, monkeypatch):
    """A full Newton step sets η to the product computed for the line search from the
    (cast) coefficients, so no pass is spent recomputing it: at every accepted point η
    equals X w + b from scratch, to rounding."""
    X, y = _wide(n=200, p=60, seed=3, dtype=dtype)
    pb = GLMProblem(Design(X, y, None, True), glm_mode(X))
    pen = ElasticNetPenalty(1.0, np.ones(X.shape[1]))
    _, z = pb.null_fit(pen, 1e-12, 1000)
    grid = pen.alpha_max(z) * np.geomspace(1, 0.02, 15)
    seen = []
    orig = GLMProblem.solve

    def spy(self, w, *a, **k):
        out = orig(self, w, *a, **k)
        ref = _dense(X) @ np.asarray(w, np.float64) + self.b
        seen.append(float(np.max(np.abs(self.eta - ref))))
        return out
    monkeypatch.setattr(GLMProblem, "solve", spy)
    compute_path(pb, pen, grid, tol=1e-8, max_iter=100000)
    assert len(seen) == grid.size
    assert max(seen) <= 1e-11
