"""The certificate's projection off the unpenalised features' span, against an independent
NumPy oracle (SVD least squares on the user's weighted, centred columns), in every
quadratic problem that carries one: the elastic net in its three modes (and a covariance-mode
CV fold), the group lasso on the data and in covariance mode (standardised), and the
multi-response elastic net. The data are adversarial for the normal equations: the
unpenalised columns are 1e6 apart in scale, two of them nearly collinear, one an offset
column, and a few rows weigh 0."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fuzz_certificates import _unpenalised_fit_loss
from sklearn_normpen import enet_path
from sklearn_normpen._certificate import project
from sklearn_normpen._design import Design
from sklearn_normpen._groups import parse_groups, resolve_group_weights
from sklearn_normpen._solvers.block_cd import GroupProblem
from sklearn_normpen._solvers.block_cd_gram import GramGroupProblem
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen._solvers.multitask import MultiTaskProblem

U = np.array([0, 1, 2, 3])


def _data(seed=0, n=120, p=10, K=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 0] *= 1e3
    # column 1: column 0 (scaled 1e-6) plus noise 1e-6 of its spread: nearly collinear
    X[:, 1] = 1e-6 * (X[:, 0] + 1e-6 * 1e3 * rng.standard_normal(n))
    X[:, 2] += 1e4  # an offset column
    sw = rng.uniform(0.2, 3.0, n)
    sw[:3] = 0.0
    y = X[:, 4] - 0.5 * X[:, 0] / 1e3 + 30 * X[:, 1] / 1e-3 * 1e-3 + rng.standard_normal(n)
    if K is not None:
        y = np.column_stack([y + rng.standard_normal(n) for _ in range(K)])
    w = rng.standard_normal(p if K is None else (p, K))
    w[:4] *= np.array([1e-3, 1e3, 1.0, 1.0])[:, None] if K else np.array([1e-3, 1e3, 1.0, 1.0])
    return X, y, sw, w


def _oracle(X, y, sw, w, fit_intercept=True):
    """``(||P r||²_S / N, Xcᵀ S P r / N)``: ``P`` the S-orthogonal projection off the
    intercept and the columns ``U``, by SVD least squares of the weighted columns."""
    N = sw.sum()
    xm = sw @ X / N if fit_intercept else np.zeros(X.shape[1])
    ym = sw @ y / N if fit_intercept else 0.0
    Xc, yc = X - xm, y - ym
    r = yc - Xc @ w
    root = np.sqrt(sw)
    B = root[:, None] * Xc[:, U]
    B = B / np.linalg.norm(B, axis=0)
    rr = (root * r.T).T
    coef = np.linalg.lstsq(B, rr, rcond=None)[0]
    rp = rr - B @ coef
    return float(np.sum(rp * rp)) / N, Xc.T @ (root * rp.T).T / N


def _naive_norm2(X, y, sw, w):
    """The normal equations the certificate used to solve (for the data's adversity)."""
    N = sw.sum()
    xm, ym = sw @ X / N, sw @ y / N
    Xc, r = X - xm, (y - ym) - (X - xm) @ w
    Q = (Xc[:, U] * sw[:, None]).T @ Xc[:, U] / N
    g = (Xc[:, U] * sw[:, None]).T @ r / N
    beta = np.linalg.lstsq(Q, g, rcond=None)[0]
    return float(sw @ (r * r)) / N - float(beta @ g)


def _mask(p):
    m = np.zeros(p, dtype=bool)
    m[U] = True
    return SimpleNamespace(unpenalized=m)


def _check(stats, w, want_norm2, want_g, scale):
    out = project(stats, w)
    mean2 = stats.r_mean ** 2
    assert abs(out.r_norm2 - want_norm2) <= 1e-9 * (stats.r_norm2 + mean2)
    gp = np.asarray(out.g)
    keep = np.ones(gp.shape[0], dtype=bool)
    keep[U] = False
    err = np.abs(gp - np.asarray(want_g)) / (scale * np.sqrt(stats.r_norm2 + mean2))
    assert err[keep].max() <= 1e-8
    assert not np.any(gp[U])


def test_the_data_defeat_the_normal_equations():
    X, y, sw, w = _data()
    want, _ = _oracle(X, y, sw, w)
    assert abs(_naive_norm2(X, y, sw, w) - want) > 1e-3 * want


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["dense", "sparse", "gram", "gram-fold"])
def test_elastic_net_projection(mode, dtype):
    X, y, sw, w = _data()
    X = X.astype(dtype).astype(np.float64)  # (the oracle reads the same numbers)
    Xin = X.astype(dtype)
    if mode == "sparse":
        Xin = sp.csc_matrix(Xin)
    if mode == "gram-fold":
        rows = np.arange(20, 120)
        d = Design(Xin, y.astype(dtype), sw, True)
        pb = EnetProblem(d, "gram", stats=d.gram_stats(rows=rows), x_shift=d.x_mean,
                         y_mean=d.y_mean, stats_rows=rows)
        X, y, sw = X[rows], y[rows], sw[rows]
    else:
        pb = EnetProblem(Design(Xin, y.astype(dtype), sw, True), mode)
    y = y.astype(dtype).astype(np.float64)
    w = pb.start(w)  # (the kernel's state; float32 coefficients for float32 data)
    want_norm2, want_g = _oracle(X, y, sw, w.astype(np.float64))
    _check(pb.cert_stats(w, _mask(X.shape[1])), w, want_norm2, want_g,
           np.abs(X - X.mean(0)).max(axis=0))


@pytest.mark.parametrize("gram", [False, True])
def test_group_lasso_projection_standardised(gram):
    X, y, sw, w = _data()
    structure = parse_groups(np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]), X.shape[1])
    weights = resolve_group_weights(np.array([0.0, 0.0, 1.0, 1.0, 2.0]), structure)
    d = Design(X, y, sw, True)
    if gram:
        pb = GramGroupProblem(d.gram_stats(), structure, weights, dtype=np.float64,
                              fit_intercept=True, x_shift=d.x_mean, y_mean=d.y_mean,
                              standardize=True, design=d, stats_rows=None)
    else:
        pb = GroupProblem(d, structure, weights, standardize=True)
        w = pb.start(w)
    inv = np.asarray(pb.inv_scale, np.float64)
    want_norm2, want_g = _oracle(X, y, sw, inv * w)
    _check(pb.cert_stats(w, _mask(X.shape[1])), w, want_norm2, inv * want_g,
           inv * np.abs(X - X.mean(0)).max(axis=0))


def test_multi_response_projection():
    X, Y, sw, W = _data(K=3)
    pb = MultiTaskProblem(X, Y, sw, True)
    W = pb.start(W)
    want_norm2, want_G = _oracle(X, Y, sw, W)
    _check(pb.cert_stats(W, _mask(X.shape[1])), W, want_norm2, want_G,
           np.abs(X - X.mean(0)).max(axis=0)[:, None])


@pytest.mark.parametrize("precompute", [True, False])
def test_null_fit_point_is_not_falsely_certified(precompute):
    """At ``alpha_max`` the optimum is the weighted least-squares fit on the unpenalised
    columns alone (closed form by SVD): the reported gap must bound the returned point's
    excess over it (the normal equations certified a point 2.4e-2 of the null deviance
    above it, fuzzer "collinear" seed 3100)."""
    X, y, sw, _ = _data(seed=1)
    pf = np.ones(X.shape[1])
    pf[U] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # (a true gap may miss tol)
        _, coefs, gaps = enet_path(X, y, sample_weight=sw, penalty_factor=pf, l1_ratio=0.5,
                                   n_alphas=3, tol=1e-10, precompute=precompute,
                                   fit_intercept=True)
    N = sw.sum()
    xm, ym = sw @ X / N, sw @ y / N
    r = (y - ym) - (X - xm) @ coefs[:, 0]
    # the loss alone: a lower bound on the objective, so on its excess over the optimum
    excess = 0.5 * float(sw @ (r * r)) / N - 0.5 * _oracle(X, y, sw, np.zeros(X.shape[1]))[0]
    # (the rounding of r itself: w's unpenalised entries reach 6e7 on columns of 1e-3)
    noise = 8 * np.finfo(float).eps * float(sw @ (np.abs(r) * (np.abs(X - xm) @ np.abs(
        coefs[:, 0]) + np.abs(y - ym)))) / N
    assert excess <= gaps[0] * (1 + 1e-9) + noise


def test_gram_only_span_without_the_rows():
    """Covariance mode without the rows (dask): the span from the Gram statistics alone
    (:func:`gram_span`), on columns of a moderate condition number (it squares it)."""
    from sklearn_normpen._certificate import CertStats, gram_span
    rng = np.random.default_rng(3)
    n, p = 80, 7
    X = rng.standard_normal((n, p)) * np.array([1e2, 1e-2, 1, 1, 1, 1, 1])
    X[:, 2] += 50.0
    y = rng.standard_normal(n) + X[:, 3]
    sw = rng.uniform(0.5, 2.0, n)
    w = rng.standard_normal(p)
    N = sw.sum()
    Xc, yc = X - sw @ X / N, y - sw @ y / N
    C = (Xc * sw[:, None]).T @ Xc[:, U] / N
    q = (Xc[:, U] * sw[:, None]).T @ yc / N
    r = yc - Xc @ w
    stats = CertStats(float(sw @ (r * r)) / N, float(sw @ (r * yc)) / N, 0.0,
                      (Xc * sw[:, None]).T @ r / N, gram_span(U, C, C[U], q))
    want_norm2, want_g = _oracle(X, y, sw, w)
    _check(stats, w, want_norm2, want_g, np.abs(Xc).max(axis=0))


def _best_intercept_loss(e0, y, sw, family):
    """``min_b loss(e0 + b)``: Newton's method with halving on the convex 1-D loss, from
    the intercept that matches the weighted mean of ``y`` on the offsets' weighted mean."""
    ybar = float(sw @ y) / sw.sum()
    link = np.log(ybar / (1 - ybar)) if family == "binomial" else np.log(ybar)
    b = link - float(sw @ e0) / sw.sum()
    f = _glm_loss(e0 + b, y, sw, family)
    for _ in range(200):
        eta = e0 + b
        mu = 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)
        d = mu * (1 - mu) if family == "binomial" else mu
        step = float(sw @ (mu - y)) / max(float(sw @ d), 1e-300)
        t = 1.0
        while t > 1e-12:
            new = _glm_loss(e0 + b - t * step, y, sw, family)
            if new <= f:
                break
            t /= 2
        if t <= 1e-12 or abs(t * step) <= 1e-15 * (1 + abs(b)):
            break
        b, f = b - t * step, new
    return f


def _glm_loss(eta, y, sw, family):
    if family == "binomial":
        return float(sw @ (np.logaddexp(0, eta) - y * eta)) / sw.sum()
    return float(sw @ (np.exp(eta) - y * eta)) / sw.sum()


@pytest.mark.parametrize("family", ["binomial", "poisson"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_glm_null_fit_point_is_not_falsely_certified(family, seed):
    """The GLM dual point's projection off ``[1, X_U]`` (variance-weighted): with the
    normal equations a binomial point 3e-3 above the unpenalised fit was certified at a
    gap of 1e-15 on these data."""
    rng = np.random.default_rng(seed)
    n, p = 150, 10
    X = rng.standard_normal((n, p))
    X[:, 0] *= 1e3
    X[:, 1] = 1e-6 * (X[:, 0] + 1e-3 * rng.standard_normal(n))
    X[:, 2] += 1e4
    sw = rng.uniform(0.2, 3.0, n)
    eta = 0.8 * X[:, 4] - 0.5e-3 * X[:, 0] + 0.9e3 * (X[:, 1] / 1e-6 - X[:, 0])
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = rng.poisson(np.exp(np.clip(0.3 * eta, -5, 3))).astype(float)
    pf = np.ones(p)
    pf[U] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, coefs, gaps = enet_path(X, y, family=family, sample_weight=sw, penalty_factor=pf,
                                   n_alphas=3, tol=1e-10, fit_intercept=True)[:3]
    e0 = X @ coefs[:, 0]
    # the loss at the best intercept for the returned coefficients: at most the objective
    best = _best_intercept_loss(e0, y, sw, family)
    null = _unpenalised_fit_loss(X, y, sw, U, family, True)
    # (rounding of η itself: coefficients up to 1e8 on columns of 1e-3)
    noise = 64 * np.finfo(float).eps * float(sw @ (np.abs(X) @ np.abs(coefs[:, 0]))) / sw.sum()
    assert best - null <= gaps[0] + noise


def test_gram_only_span_refuses_what_it_cannot_resolve():
    """Without the rows, columns whose Gram is too ill-conditioned to project on (the
    adversarial data) give the dual point 0: the certificate is the primal itself, never
    a bound that rounding made false."""
    from sklearn_normpen._certificate import CertStats, certificate, gram_span
    from sklearn_normpen.penalties import ElasticNetPenalty
    X, y, sw, w = _data()
    N = sw.sum()
    Xc, yc = X - sw @ X / N, y - sw @ y / N
    C = (Xc * sw[:, None]).T @ Xc[:, U] / N
    span = gram_span(U, C, C[U], (Xc[:, U] * sw[:, None]).T @ yc / N)
    assert span[1] is None
    r = yc - Xc @ w
    stats = CertStats(float(sw @ (r * r)) / N, float(sw @ (r * yc)) / N, 0.0,
                      (Xc * sw[:, None]).T @ r / N, span)
    pf = np.ones(X.shape[1])
    pf[U] = 0.0
    pen = ElasticNetPenalty(0.5, pf)
    cert = certificate(stats, pen, 0.1, w)
    assert cert.gap == pytest.approx(cert.primal, rel=1e-12)
