"""Bounded gradient passes of the residual kernel (``_kernels/_cd_enet.pyx``,
``_bounded_pass``): after a full pass, a later pass computes only the features whose
Cauchy-Schwarz bound ``|g_ref_j| + ||x_j|| ||r - r_ref||`` could leave their dual
constraint, and writes the bound for the others.

What must hold, checked against NumPy outside the package: every skipped entry bounds the
true gradient and lies within its constraint (so the certificate is the one the exact
gradient gives), every path point the package accepts has a NumPy duality gap within the
target, and the paths reach the same objective values as with every pass in full
(``BOUNDED_PASSES = False``). Each test also checks that passes were skipped, so that it
cannot pass without exercising them.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from _oracle import enet_gap, enet_primal, null_deviance
from sklearn_normpen._certificate import CertStats, certificate
from sklearn_normpen._design import Design
from sklearn_normpen._path import compute_path
from sklearn_normpen._solvers import coordinate_descent as cd
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen.penalties import ElasticNetPenalty


def _data(seed, n=60, p=400, offset=False, constant=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 10:20] += 0.8 * X[:, :10]  # correlated with the signal: they enter late
    if offset:
        X[:, 3] = 1e4 + X[:, 3]  # mean >> spread (the kernel layout centres it)
        X[:, 50] = 300 + 0.01 * X[:, 50]
    if constant:
        X[:, 7] = 2.5
    coef = np.zeros(p)
    coef[:8] = rng.uniform(1, 3, 8) * rng.choice([-1, 1], 8)
    y = X @ coef + rng.standard_normal(n)
    return np.asfortranarray(X), y


def _true_gradient(X, y, w, sw):
    """``Xcᵀ S r`` (n-scale) at ``w`` with its optimal intercept, in float64 NumPy."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(len(y)) if sw is None else np.asarray(sw, dtype=np.float64)
    xm = s @ X / s.sum()
    Xc = X - xm
    yc = y - s @ y / s.sum()
    r = yc - Xc @ np.asarray(w, dtype=np.float64)
    return Xc.T @ (s * r)


def _spy(pb):
    """Record, after each kernel run, whether it left an exact gradient (and in
    ``exact.refined`` how many runs started from the last one's bounds)."""
    exact = _Record()
    run = pb._kernel

    def kernel(*a, **k):
        exact.refined += bool(pb._g_valid and pb._g_partial)
        out = run(*a, **k)
        exact.append(not pb._g_partial)
        return out

    pb._kernel = kernel
    return exact


class _Record(list):
    refined = 0


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_skipped_entries_bound_the_gradient_and_keep_the_certificate(sparse, weighted):
    X, y = _data(0, offset=True)
    n, p = X.shape
    sw = np.random.default_rng(1).uniform(0.3, 2.0, n) if weighted else None
    Xin = sp.csc_matrix(X) if sparse else X
    pb = EnetProblem(Design(Xin, y, sw, True), "sparse" if sparse else "dense")
    exact = _spy(pb)
    pen = ElasticNetPenalty(0.8, np.ones(p))
    w = pb.start(np.zeros(p))
    tol_abs = 1e-10 * pb.null_deviance
    zmax = np.max(np.abs(_true_gradient(X, y, w, sw))) / pb.N
    a1 = 0.5 * zmax / 0.8
    pb.solve(w, pen, a1, tol_abs, 10000)
    cert, _ = pb.solve(w, pen, 0.97 * a1, tol_abs, 10000, alpha_prev=a1)
    assert not exact[-1], "the last pass was a full one: nothing was skipped"
    g_true = _true_gradient(X, y, w, sw)
    g = np.asarray(pb.g, dtype=np.float64)
    L1, _ = pen.scaled_weights(0.97 * a1, pb.N)
    scale = np.sqrt(np.sum(g_true ** 2))
    same = np.abs(g - g_true) <= 1e-9 * scale
    skipped = ~same
    assert skipped.sum() > p // 2
    assert np.all(np.abs(g[skipped]) >= np.abs(g_true[skipped]))
    assert np.all(np.abs(g[skipped]) <= L1[skipped])
    assert np.all(w[skipped] == 0)
    # the certificate from the kernel's g is the one the exact gradient gives
    st = pb.cert_stats(w, pen)
    exact_st = CertStats(st.r_norm2, st.r_y, st.r_mean, g_true / pb.N, st.unpen)
    ref = certificate(exact_st, pen, 0.97 * a1, w)
    assert cert.gap == pytest.approx(ref.gap, rel=1e-9, abs=1e-15 * pb.null_deviance)
    assert cert.kkt == pytest.approx(ref.kkt, rel=1e-9, abs=1e-12)
    assert cert.gap <= tol_abs


CASES = {
    "lasso dense": dict(),
    "lasso sparse": dict(sparse=True),
    "enet weighted offset": dict(l1_ratio=0.5, weighted=True, offset=True),
    "enet sparse weighted offset": dict(l1_ratio=0.5, weighted=True, offset=True,
                                        sparse=True),
    "positive": dict(positive=True),
    "limits": dict(lower=np.full(400, -0.5), upper=np.full(400, 1.0)),
    "penalty factors and a constant column": dict(factors=True, constant=True),
    "float32": dict(dtype=np.float32, tol=1e-6),
    "no intercept": dict(fit_intercept=False),
}


def _run_path(case, bounded, monkeypatch):
    monkeypatch.setattr(cd, "BOUNDED_PASSES", bounded)
    c = dict(l1_ratio=1.0, weighted=False, offset=False, sparse=False, positive=False,
             lower=None, upper=None, factors=False, constant=False, dtype=np.float64,
             tol=1e-9, fit_intercept=True) | case
    X, y = _data(3, offset=c["offset"], constant=c["constant"])
    n, p = X.shape
    X = X.astype(c["dtype"])
    sw = np.random.default_rng(4).uniform(0.3, 2.0, n) if c["weighted"] else None
    pf = np.random.default_rng(5).uniform(0.5, 2.0, p) if c["factors"] else np.ones(p)
    excluded = np.zeros(p, bool)
    if c["constant"]:
        excluded[7] = True
    Xin = sp.csc_matrix(X) if c["sparse"] else X
    pb = EnetProblem(Design(Xin, y.astype(c["dtype"]), sw, c["fit_intercept"]),
                     "sparse" if c["sparse"] else "dense")
    exact = _spy(pb)
    pen = ElasticNetPenalty(c["l1_ratio"], pf, pf, excluded=excluded,
                            positive=c["positive"], lower=c["lower"], upper=c["upper"])
    w0, z = pb.null_fit(pen, 1e-12, 1000)
    amax = pen.alpha_max(z)
    alphas = np.geomspace(amax, 1e-3 * amax, 40)
    res = compute_path(pb, pen, alphas, tol=c["tol"], max_iter=100000)
    return c, X, y, sw, pf, excluded, res, exact


@pytest.mark.parametrize("name", list(CASES))
def test_paths_are_certified_and_match_full_passes(name, monkeypatch):
    c, X, y, sw, pf, excluded, res, exact = _run_path(CASES[name], True, monkeypatch)
    assert exact.count(False) >= 5, "too few bounded passes to test them"
    assert exact.refined >= 3, "no point started from the last one's bounds"
    assert res.converged.all()
    null = null_deviance(X.astype(np.float64), y, sw, c["fit_intercept"])
    kw = dict(sw=sw, pf_l1=pf, pf_l2=pf, positive=c["positive"], excluded=excluded,
              lower=c["lower"], upper=c["upper"], fit_intercept=c["fit_intercept"])
    X64 = X.astype(np.float64)
    full = _run_path(CASES[name], False, monkeypatch)[-2]
    for k, a in enumerate(res.alphas):
        w, b = res.coefs[:, k].astype(np.float64), res.intercepts[k]
        gap = enet_gap(X64, y, w, b, a, c["l1_ratio"], **kw)
        assert gap <= res.tol_abs * (1 + 1e-6) + 1e-13 * null, (k, gap, res.tol_abs)
        # the same optimum as with every pass in full, to both targets
        wf, bf = full.coefs[:, k].astype(np.float64), full.intercepts[k]
        p_b = enet_primal(X64, y, w, b, a, c["l1_ratio"], sw, pf, pf)
        p_f = enet_primal(X64, y, wf, bf, a, c["l1_ratio"], sw, pf, pf)
        assert abs(p_b - p_f) <= 2 * res.tol_abs * (1 + 1e-6) + 1e-13 * null


def _wide_enet_path(n_refs, monkeypatch, weighted=False, sparse=False):
    """An l1_ratio = 0.5 path on n = 100, p = 2000 down to 1e-3 alpha_max (supports near
    n: the regime where one reference leaves loose bounds) with the kernel keeping
    ``n_refs`` full passes."""
    monkeypatch.setattr(cd, "N_REFERENCES", n_refs)
    rng = np.random.default_rng(0)
    n, p = 100, 2000
    X = rng.standard_normal((n, p))
    X[:, 300] += 50.0  # an offset column (the kernel layout centres it)
    coef = np.zeros(p)
    coef[rng.choice(p, 10, replace=False)] = rng.standard_normal(10) * 2
    y = X @ coef + rng.standard_normal(n)
    sw = rng.uniform(0.3, 2.0, n) if weighted else None
    Xin = sp.csc_matrix(X) if sparse else np.asfortranarray(X)
    pb = EnetProblem(Design(Xin, y, sw, True), "sparse" if sparse else "dense")
    exact = _spy(pb)
    pen = ElasticNetPenalty(0.5, np.ones(p))
    _, z = pb.null_fit(pen, 1e-12, 1000)
    amax = pen.alpha_max(z)
    res = compute_path(pb, pen, np.geomspace(amax, 1e-3 * amax, 100), tol=1e-4,
                       max_iter=100000)
    return X, y, sw, pb, pen, res, exact


@pytest.mark.parametrize("weighted, sparse", [(False, False), (True, False), (True, True)])
def test_several_references_bound_the_gradient_with_fewer_full_passes(weighted, sparse,
                                                                      monkeypatch):
    """The bounded passes combine the last full passes (the residual fitted by their
    span, the rest bounded by Cauchy-Schwarz): the skipped entries still bound the true
    gradient within their dual constraint at every point, every point is certified by the
    NumPy gap, and the path needs fewer full passes than with one reference."""
    X, y, sw, pb, pen, res, exact = _wide_enet_path(4, monkeypatch, weighted, sparse)
    one = _wide_enet_path(1, monkeypatch, weighted, sparse)
    assert res.converged.all()
    full_passes, full_one = exact.count(True), one[-1].count(True)
    assert full_passes <= 0.7 * full_one, (full_passes, full_one)
    assert exact.count(False) >= 20
    for k, a in enumerate(res.alphas):
        w, b = res.coefs[:, k], res.intercepts[k]
        assert enet_gap(X, y, w, b, a, 0.5, sw=sw) <= res.tol_abs * (1 + 1e-6)
        # the same optimum as with one reference
        pw = enet_primal(X, y, one[5].coefs[:, k], one[5].intercepts[k], a, 0.5, sw)
        assert abs(enet_primal(X, y, w, b, a, 0.5, sw) - pw) <= 2 * res.tol_abs
    # the last point's skipped entries: bounds of the true gradient, within L1
    w = res.coefs[:, -1]
    g_true = _true_gradient(X, y, w, sw)
    g = np.asarray(pb.g, dtype=np.float64)
    skipped = pb.g_bound.astype(bool)
    assert skipped.sum() > 0 and pb._n_ref >= 2
    L1, _ = pen.scaled_weights(res.alphas[-1], pb.N)
    assert np.all(np.abs(g[skipped]) >= np.abs(g_true[skipped]) * (1 - 1e-12))
    assert np.all(np.abs(g[skipped]) <= L1[skipped])
    assert np.all(w[skipped] == 0)


def test_references_are_kept_where_combining_them_pays():
    """Several references on dense data and on sparse data with many stored entries per
    row; one on very sparse data, whose full passes cost less than combining them."""
    rng = np.random.default_rng(2)
    dense = Design(np.asfortranarray(rng.standard_normal((50, 400))), rng.standard_normal(50),
                   None, True)
    very_sparse = Design(sp.random(2000, 5000, density=1e-3, format="csc", random_state=0),
                         rng.standard_normal(2000), None, True)
    assert cd._n_references(dense) == cd.N_REFERENCES > 1
    assert cd._n_references(very_sparse) == 1
    pb = EnetProblem(very_sparse, "sparse")
    assert pb.g_ref.shape == (1, 5000) and pb.R_ref.shape == (1, 2000)
