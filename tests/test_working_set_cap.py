"""Residual-mode coordinate descent admits at most max(100, |support|/2) strong-rule candidates
beyond the support into a working set (the largest |g_j|/L1_j first), and the block solvers
(group, multi-response, multi-response group) on wide dense data at most max(p0,
|support| // 3), the nearest their ball first. Wide paths whose late strong sets hold many
more must still be certified at every point, by an independent NumPy gap, and agree with
scikit-learn or with the uncapped solve of the same data in CSC form."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import enet_path as sk_enet_path

from _oracle import (enet_gap, enet_primal, mt_gap, mt_null_deviance, mt_primal, null_deviance,
                     sgl_gap, sgl_primal)
from sklearn_normpen import (enet_path, group_lasso_path, multitask_enet_path,
                             multitask_group_lasso_path)
from sklearn_normpen._solvers import block_cd, coordinate_descent, multitask, multitask_group


def _wide(n, p, sparse, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.05, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
    else:
        X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[rng.choice(p, 30, replace=False)] = rng.standard_normal(30)
    y = np.asarray(X @ w).ravel() + 0.5 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_wide_path_certified_with_capped_working_sets(sparse, l1_ratio, fit_intercept):
    X, y = _wide(80, 3000, sparse)
    tol = 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # every point certified
        alphas, coefs, gaps = enet_path(X, y, l1_ratio=l1_ratio, n_alphas=60, eps=1e-3,
                                        tol=tol, standardize=False,
                                        fit_intercept=fit_intercept, precompute=False,
                                        max_iter=10000)[:3]
    Xd = X.toarray() if sparse else X
    unit = null_deviance(Xd, y, fit_intercept=fit_intercept)
    # late points: the strong set exceeds the cap (many more than 100 candidates)
    g_last = np.abs(Xd.T @ (y - Xd @ coefs[:, -2] - (y.mean() - Xd.mean(0) @ coefs[:, -2]
                                                      if fit_intercept else 0))) / len(y)
    cand = np.sum((g_last > l1_ratio * (2 * alphas[-1] - alphas[-2])) & (coefs[:, -2] == 0))
    assert cand > max(100, np.count_nonzero(coefs[:, -2]))
    for k, a in enumerate(alphas):
        w = coefs[:, k]
        b = (y.mean() - Xd.mean(0) @ w) if fit_intercept else 0.0
        gap = enet_gap(Xd, y, w, b, a, l1_ratio, fit_intercept=fit_intercept)
        assert gap <= tol * unit * (1 + 1e-6) + 1e-14, (k, gap / unit)
    # and objectives no worse than scikit-learn's at a tight tolerance (first 40 points:
    # the last ones are near-interpolating and scikit-learn needs far more epochs there;
    # coefficients of these ill-conditioned problems may differ more than objectives do)
    if not fit_intercept:
        _, sk, _ = sk_enet_path(Xd, y, l1_ratio=l1_ratio, alphas=alphas[:40], tol=1e-12,
                                max_iter=100000)
        for k in range(40):
            ours = enet_primal(Xd, y, coefs[:, k], 0.0, alphas[k], l1_ratio,
                               fit_intercept=False)
            ref = enet_primal(Xd, y, sk[:, k], 0.0, alphas[k], l1_ratio, fit_intercept=False)
            assert ours <= ref + tol * unit * (1 + 1e-6), k


def test_strong_candidates_keeps_the_nearest_within_the_cap():
    rng = np.random.default_rng(0)
    m = 200
    soft, ball = rng.uniform(0, 2, m), rng.uniform(0.5, 1.5, m)
    ball[:5] = 0  # lasso-like blocks: ranked by soft alone
    active = np.zeros(m, bool)
    active[rng.choice(m, 60, replace=False)] = True
    strong = (soft > 0.9 * ball) & ~active
    out = coordinate_descent.strong_candidates(strong, active, soft, ball, 10, True)
    assert out.sum() == 20 and not np.any(out & ~strong)  # max(10, 60 // 3)
    ratio = soft / np.where(ball > 0, ball, 1)
    assert ratio[out].min() >= ratio[strong & ~out].max()
    # a small support: p0 of them; not wide dense: the strong rule as it is
    few = np.zeros(m, bool)
    few[:3] = True
    assert coordinate_descent.strong_candidates(strong & ~few, few, soft, ball, 10,
                                                True).sum() == 10
    assert coordinate_descent.strong_candidates(strong, active, soft, ball, 10,
                                                False) is strong
    under = strong & (np.cumsum(strong) <= 7)
    np.testing.assert_array_equal(
        coordinate_descent.strong_candidates(under, active, soft, ball, 10, True), under)


def _record_cuts(monkeypatch, module):
    """Count the solves at which the cap dropped strong candidates."""
    cuts = []

    def wrapped(strong, active, soft, ball, p0, wide_dense):
        out = coordinate_descent.strong_candidates(strong, active, soft, ball, p0, wide_dense)
        cuts.append(int((strong & ~active).sum() - out.sum()))
        return out
    monkeypatch.setattr(module, "strong_candidates", wrapped)
    return cuts


def _wide_block(n, p, K=None, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    W = np.zeros((p,) if K is None else (p, K))
    W[rng.choice(p, 40, replace=False)] = rng.standard_normal(W[:40].shape)
    return X, X @ W + 0.5 * rng.standard_normal(n if K is None else (n, K))


def _capped_and_uncapped(monkeypatch, module, path, X, Y, **kw):
    """``path`` on wide dense X (certified at every point, the cap dropping candidates in
    ``module``) and on the same X in CSC form (no cap) over the same alphas."""
    cuts = _record_cuts(monkeypatch, module)
    kw = dict(kw, fit_intercept=True, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, _ = path(X, Y, eps=1e-2, **kw)
        kw.pop("n_alphas")
        _, ref, _ = path(sp.csc_matrix(X), Y, alphas=alphas, **kw)
    assert max(cuts) > 20  # the cap did drop candidates
    return alphas, coefs, ref


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_wide_group_path_certified_with_capped_candidates(monkeypatch, l1_ratio):
    X, y = _wide_block(60, 1200)
    groups = [list(range(g, g + 4)) for g in range(0, 1200, 4)]
    tol = 1e-6
    alphas, coefs, ref = _capped_and_uncapped(monkeypatch, block_cd, group_lasso_path, X, y,
                                              groups=groups, l1_ratio=l1_ratio, n_alphas=40,
                                              tol=tol)
    unit = null_deviance(X, y)
    for k, a in enumerate(alphas):
        w, b = coefs[:, k], y.mean() - X.mean(0) @ coefs[:, k]
        assert sgl_gap(X, y, w, b, a, l1_ratio, groups) <= tol * unit * (1 + 1e-6), k
        b_ref = y.mean() - X.mean(0) @ ref[:, k]
        assert abs(sgl_primal(X, y, w, b, a, l1_ratio, groups)
                   - sgl_primal(X, y, ref[:, k], b_ref, a, l1_ratio, groups)) \
            <= 2 * tol * unit * (1 + 1e-6), k


def test_wide_multitask_path_certified_with_capped_candidates(monkeypatch):
    X, Y = _wide_block(60, 1200, K=3)
    tol = 1e-6
    alphas, coefs, ref = _capped_and_uncapped(monkeypatch, multitask, multitask_enet_path,
                                              X, Y, l1_ratio=0.9, n_alphas=40, tol=tol)
    unit = mt_null_deviance(X, Y)
    for k, a in enumerate(alphas):
        C = coefs[:, :, k]  # (K, p)
        assert mt_gap(X, Y, C, None, a, 0.9) <= tol * unit * (1 + 1e-6), k
        assert abs(mt_primal(X, Y, C, None, a, 0.9)
                   - mt_primal(X, Y, ref[:, :, k], None, a, 0.9)) \
            <= 2 * tol * unit * (1 + 1e-6), k


def test_wide_multitask_group_path_capped_candidates_same_objectives(monkeypatch):
    X, Y = _wide_block(60, 1200, K=3)
    groups = np.arange(1200) // 4
    tol, rho = 1e-6, 0.3
    alphas, coefs, ref = _capped_and_uncapped(monkeypatch, multitask_group,
                                              multitask_group_lasso_path, X, Y,
                                              groups=groups, l1_ratio=rho, n_alphas=30,
                                              tol=tol)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    unit = 0.5 * np.sum(Yc ** 2) / len(X)

    def primal(W, a):  # W (p, K); the intercepts are the optimal ones (centred data)
        rows = np.linalg.norm(W, axis=1)
        blocks = np.sqrt(np.bincount(groups, weights=rows ** 2))
        return (0.5 * np.sum((Yc - Xc @ W) ** 2) / len(X)
                + a * (rho * rows.sum() + (1 - rho) * 2.0 * blocks.sum()))  # c_g = sqrt(4)
    for k, a in enumerate(alphas):
        assert abs(primal(coefs[:, :, k].T, a) - primal(ref[:, :, k].T, a)) \
            <= 2 * tol * unit * (1 + 1e-6), k
