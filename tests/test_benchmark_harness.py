"""The benchmark harness's matched-accuracy logic and the peers' objective conversions.

A peer can only be timed beside us at "matched accuracy" if (1) the common gap column is a
valid bound computed the same way for every runner, (2) the tolerance ladder never accepts a
runner whose gap exceeds ours, and (3) the conversion of our (alpha, l1_ratio) into the
peer's parameters solves *our* problem. (1) is checked against the independent NumPy oracle
(tests/_oracle.py) and a tight scikit-learn solve, (2) on synthetic runners, (3) by running
glmnet's documented response scaling through scikit-learn (no R needed) and, when installed,
the real R glmnet and adelie (those parts skip cleanly otherwise).
"""
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import enet_path as sk_enet_path

import _oracle

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402
import peers  # noqa: E402
import suite_enet  # noqa: E402
import suite_group  # noqa: E402


def _data(n=60, p=12, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:4] = [2.0, -1.5, 1.0, 0.5]
    y = scale * (X @ w + 0.5 * rng.standard_normal(n) + 1.0)  # offset: RMS != sd
    return X, y


def _grid(X, y, rho, k=8, eps=1e-2):
    amax = np.max(np.abs(X.T @ y)) / (X.shape[0] * rho)
    return np.geomspace(amax, amax * eps, k)


def _tight_path(X, y, rho, alphas):
    return sk_enet_path(X, y, l1_ratio=rho, alphas=alphas, tol=1e-14, max_iter=100000)[1]


def _primal(X, y, w, a, rho):
    r = y - X @ w
    return (r @ r / (2 * len(y)) + a * rho * np.abs(w).sum()
            + 0.5 * a * (1 - rho) * w @ w)


# -- (2) the tolerance ladder -------------------------------------------------------------
def test_matched_rejects_larger_nan_and_missing():
    assert harness.matched(1e-5, 1e-5)
    assert harness.matched(0.0, 1e-9)
    assert not harness.matched(1.0000001e-5, 1e-5)
    assert not harness.matched(np.nan, 1.0)
    assert not harness.matched(np.inf, np.inf)
    assert not harness.matched(None, 1.0)
    assert not harness.matched(1e-9, None)


def test_calibrate_returns_first_tolerance_at_or_below_target():
    gaps = {1e-4: 3e-4, 1e-5: 2e-5, 1e-6: 4e-6, 1e-7: 1e-7}
    seen = []

    def score(t):
        seen.append(t)
        return gaps[t]

    tol, q, ok = harness.calibrate(score, list(gaps), 5e-6)
    assert (tol, q, ok) == (1e-6, 4e-6, True)
    assert seen == [1e-4, 1e-5, 1e-6]  # stops at the first match, loosest first


def test_calibrate_never_passes_a_runner_above_target():
    rng = np.random.default_rng(0)
    for _ in range(200):
        target = 10 ** rng.uniform(-9, -3)
        qs = 10 ** rng.uniform(-10, -2, size=5)
        qs[rng.random(5) < 0.1] = np.nan
        tol, q, ok = harness.calibrate(lambda t: qs[t], range(5), target)
        if ok:
            assert q <= target
            assert all(not (qs[i] <= target) for i in range(tol))  # it was the first
        else:
            assert not np.any(qs <= target) and tol == 4


def _fake_case(peer_gaps, our_gap=1e-5, timed=False):
    """A case whose 'gap' is the runner output itself: ours returns our_gap, the peer
    returns peer_gaps[tol]."""
    def peer(d, tol):
        out = peer_gaps[tol]
        return harness.Timed(out, [0.5, 0.25, 0.75]) if timed else out
    return harness.Case(
        "fake", lambda: {},
        [harness.Runner("ours", lambda d: our_gap, ours=True),
         harness.Runner("peer", peer, tols=list(peer_gaps))],
        quality=lambda d, out: out, quality_label="gap")


def test_run_case_marks_a_peer_that_never_reaches_our_gap():
    rows = harness.run_case(_fake_case({1e-4: 1e-3, 1e-6: 5e-5}), repeat=1, memory=False,
                            log=lambda *a: None)
    peer = rows[1]
    assert peer["quality"] == 5e-5 and peer["quality"] > rows[0]["quality"]
    assert "did NOT reach our accuracy" in peer["note"] and "tol=1e-06" in peer["note"]
    assert "did NOT" in harness.format_table(rows, {"fake": "gap"})


def test_run_case_times_a_matched_peer_at_its_matching_tolerance():
    rows = harness.run_case(_fake_case({1e-4: 1e-3, 1e-6: 8e-6, 1e-8: 1e-9}, timed=True),
                            repeat=3, memory=False, log=lambda *a: None)
    peer = rows[1]
    assert peer["note"] == "tol=1e-06" and peer["quality"] == 8e-6 <= rows[0]["quality"]
    # a self-timed runner's own times are used, not the harness's clock
    assert peer["time"] == 0.5 and peer["peak_mb"] is None


# -- (1) the common gap functions ----------------------------------------------------------
@pytest.mark.parametrize("rho", [1.0, 0.5])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_enet_relgap_is_a_valid_bound_and_vanishes_at_the_solution(rho, scale):
    X, y = _data(scale=scale)
    alphas = _grid(X, y, rho)
    exact = _tight_path(X, y, rho, alphas)
    D0 = y @ y / (2 * len(y))
    d = dict(X=X, y=y, alphas=alphas, l1_ratio=rho)
    assert suite_enet._relgap(d, exact) < 1e-10
    rng = np.random.default_rng(1)
    pert = exact + 1e-2 * np.abs(exact).max() * rng.standard_normal(exact.shape)
    rel = suite_enet._relgap(d, pert)
    sub = max(_primal(X, y, pert[:, k], a, rho) - _primal(X, y, exact[:, k], a, rho)
              for k, a in enumerate(alphas)) / D0
    oracle = max(_oracle.enet_gap(X, y, pert[:, k], 0.0, a, rho, fit_intercept=False)
                 for k, a in enumerate(alphas)) / D0
    assert sub > 1e-8  # the perturbation is visible
    # a valid bound on the suboptimality, and no tighter than the oracle's best dual scaling
    assert rel >= sub * (1 - 1e-9)
    assert rel >= oracle * (1 - 1e-9)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_group_gap_quality_agrees_with_the_oracle(rho):
    X, y = _data(n=80, p=15, seed=3)
    X = np.asfortranarray(X - X.mean(0))
    y = y - y.mean()
    groups = [list(range(g, g + 5)) for g in range(0, 15, 5)]
    from sklearn_normpen import group_lasso_path
    a_max = group_lasso_path(X, y, groups=groups, l1_ratio=rho, n_alphas=1, standardize=False)[0][0]
    alphas = a_max * np.array([0.5, 0.1])
    coefs = group_lasso_path(X, y, groups=groups, l1_ratio=rho, alphas=alphas,
                             tol=1e-12, standardize=False)[1]
    d = dict(X=X, y=y, groups=groups, rho=rho, alphas=alphas)
    D0 = y @ y / (2 * len(y))
    assert suite_group._gap_quality(d, coefs) < 1e-10
    pert = coefs + 0.05 * np.random.default_rng(0).standard_normal(coefs.shape)
    q = suite_group._gap_quality(d, pert)
    oracle = max(_oracle.sgl_gap(X, y, pert[:, k], 0.0, a, rho, groups,
                                 fit_intercept=False) for k, a in enumerate(alphas)) / D0
    exact_p = max(_oracle.sgl_primal(X, y, pert[:, k], 0.0, a, rho, groups,
                                     fit_intercept=False)
                  - _oracle.sgl_primal(X, y, coefs[:, k], 0.0, a, rho, groups,
                                       fit_intercept=False)
                  for k, a in enumerate(alphas)) / D0
    assert exact_p > 1e-6
    assert q >= exact_p * (1 - 1e-9) and q >= oracle * (1 - 1e-6)


# -- (3) the peers' objective conversions -------------------------------------------------
@pytest.mark.parametrize("intercept", [False, True])
def test_glmnet_scale_is_rms_without_intercept_and_sd_with(intercept):
    y = np.array([1.0, 2.0, 4.0, 7.0])
    expect = np.sqrt(np.mean((y - y.mean()) ** 2)) if intercept else np.sqrt(np.mean(y ** 2))
    assert peers.glmnet_scale(y, intercept) == pytest.approx(expect, rel=1e-15)


@pytest.mark.parametrize("rho", [1.0, 0.7, 0.3])
def test_glmnet_conversion_solves_our_problem(rho):
    """glmnet's Gaussian procedure, as its documentation and source state it, run with
    scikit-learn as the inner solver: scale y by s_y and lambda by 1/s_y, solve the elastic
    net at (lambda/s_y, alpha), scale the coefficients back by s_y. With the converted
    (lambda, alpha) this must be our solution: gap ~ 0 by the common gap function."""
    X, y = _data(seed=5)
    alphas = _grid(X, y, rho)
    lam, a_g = peers.glmnet_params(alphas, rho, y, intercept=False)
    s = peers.glmnet_scale(y, intercept=False)
    coefs = s * _tight_path(X, y / s, a_g, lam / s)
    d = dict(X=X, y=y, alphas=alphas, l1_ratio=rho)
    assert suite_enet._relgap(d, coefs) < 1e-10
    assert_allclose(coefs, _tight_path(X, y, rho, alphas), atol=1e-8)
    if rho < 1:  # the naive (unconverted) parameters do not solve our problem
        naive = s * _tight_path(X, y / s, rho, alphas / s)
        assert suite_enet._relgap(d, naive) > 1e-6


def test_adelie_folds_partition_rows_evenly():
    fold = peers.adelie_folds(103, 5, seed=0)
    counts = np.bincount(fold, minlength=5)
    assert counts.sum() == 103 and counts.max() - counts.min() <= 1
    assert np.array_equal(fold, peers.adelie_folds(103, 5, seed=0))
    assert not np.array_equal(fold, peers.adelie_folds(103, 5, seed=1))
    state = np.random.get_state()[1].copy()
    peers.adelie_folds(50, 5, seed=0)
    assert np.array_equal(state, np.random.get_state()[1])  # global RNG left alone


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_r_glmnet_peer_matches_our_gap(rho):
    ok, why, _ = peers.glmnet_status()
    if not ok:
        pytest.skip(why)
    X, y = _data(seed=7)
    alphas = _grid(X, y, rho)
    lam, a_g = peers.glmnet_params(alphas, rho, y, intercept=False)
    res = peers.glmnet_run(X, y, lam, a_g, 1e-14, repeat=1)
    d = dict(X=X, y=y, alphas=alphas, l1_ratio=rho)
    assert len(res["times"]) == 1 and res["beta"].shape == (X.shape[1], alphas.size)
    # glmnet's lasso stalls near 1e-8 even at thresh=1e-14 (its stopping rule is on
    # coefficient changes); a wrong conversion of lambda would show at ~1e-3
    assert suite_enet._relgap(d, res["beta"]) < 1e-7
    assert_allclose(res["beta"], _tight_path(X, y, rho, alphas), atol=1e-6)


def test_r_cv_glmnet_peer_uses_our_folds():
    ok, why, _ = peers.glmnet_status()
    if not ok:
        pytest.skip(why)
    from sklearn.model_selection import PredefinedSplit
    from sklearn_normpen import ElasticNetPathCV
    X, y = _data(n=90, seed=8)
    Xc = X - X.mean(0)
    amax = np.max(np.abs(Xc.T @ (y - y.mean()))) / len(y)
    alphas = np.geomspace(amax, amax * 1e-2, 20)
    fold = peers.adelie_folds(len(y), 5, seed=0)
    res = peers.glmnet_run(X, y, alphas, 1.0, 1e-14, intercept=True, foldid=fold + 1)
    est = ElasticNetPathCV(l1_ratio=1.0, alphas=alphas, cv=PredefinedSplit(fold),
                           tol=1e-10, standardize=False).fit(X, y)
    assert_allclose(res["cvm"], np.ravel(est.cv_mean_), rtol=1e-5)


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_adelie_peer_matches_our_gap(rho):
    pytest.importorskip("adelie")
    X, y = _data(seed=9)
    alphas = _grid(X, y, rho)
    coefs = peers.adelie_path(np.asfortranarray(X), y, alphas, rho, tol=1e-14)
    d = dict(X=X, y=y, alphas=alphas, l1_ratio=rho)
    # the lasso gap (dual scaled into the constraint) is first order in the coefficient
    # error: ~1e-8 at adelie's tightest tol; a wrong objective would show at ~1e-3
    exact = _tight_path(X, y, rho, alphas)
    assert suite_enet._relgap(d, coefs) < 1e-7
    assert_allclose(coefs, exact, atol=1e-6)
    cov = peers.adelie_cov_path(X, y, alphas, rho, tol=1e-14)
    assert suite_enet._relgap(d, cov) < 1e-7
    assert_allclose(cov, exact, atol=1e-6)


def test_adelie_group_peer_matches_our_gap():
    pytest.importorskip("adelie")
    X, y = _data(n=80, p=15, seed=3)
    X = np.asfortranarray(X - X.mean(0))
    y = y - y.mean()
    groups = [list(range(g, g + 5)) for g in range(0, 15, 5)]
    from sklearn_normpen import group_lasso_path
    a_max = group_lasso_path(X, y, groups=groups, l1_ratio=0.0, n_alphas=1, standardize=False)[0][0]
    alphas = a_max * np.array([0.9, 0.5, 0.1])
    coefs = peers.adelie_path(X, y, alphas, tol=1e-14, groups=[0, 5, 10])
    d = dict(X=X, y=y, groups=groups, rho=0.0, alphas=alphas)
    assert suite_group._gap_quality(d, coefs) < 1e-8
