"""The lockstep subset paths behind StabilitySelection in residual mode (p > n, dense
float64): every point certified against the independent NumPy oracle, supports equal to
the public path function on each subsample, the per-subsample fallbacks, and results that
do not depend on the joblib backend."""
import numpy as np
import pytest
from joblib import parallel_backend

from sklearn_normpen import ElasticNetIC, ElasticNetPathCV, StabilitySelection, enet_path
from sklearn_normpen._solvers import subset_paths
from sklearn_normpen._solvers.subset_paths import SubsetPaths, chunk_size
from sklearn_normpen.elastic_net import _make_penalty
from sklearn_normpen.stability import _subsamples

from _oracle import enet_alpha_max, enet_factors, enet_gap, null_deviance


def _wide(n=60, p=150, seed=0, offset=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if offset:
        X[:, 3] = 1e6 + X[:, 3]           # an offset column (a calendar-year-like mean)
        X[:, 5] *= 1e-4                   # and a tiny scale
    y = X[:, :4] @ [2.0, -1.5, 1.0, 1.2] + 0.7 * rng.standard_normal(n)
    return X, y


def _routed(monkeypatch):
    """Count the subsets served by the lockstep route (taken here whatever the size)."""
    monkeypatch.setattr(subset_paths, "MIN_CELLS", 0)
    seen = []
    orig = subset_paths._Subset.__init__

    def init(self, *a, **k):
        seen.append(1)
        orig(self, *a, **k)
    monkeypatch.setattr(subset_paths._Subset, "__init__", init)
    return seen


@pytest.mark.parametrize("rho, standardize, fit_intercept, weighted, positive", [
    (1.0, True, True, False, False),
    (0.6, False, True, False, False),
    (1.0, True, False, False, False),
    (0.8, True, True, True, False),
    (1.0, False, True, False, True),
])
def test_every_point_certified_by_the_oracle(rho, standardize, fit_intercept, weighted,
                                             positive):
    X, y = _wide(seed=1)
    rng = np.random.default_rng(2)
    sw = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    Xf = np.asfortranarray(X)
    x_mean = (np.average(X, axis=0, weights=sw) if fit_intercept else np.zeros(X.shape[1]))
    pf = np.ones(X.shape[1])
    make = lambda prob: _make_penalty(rho, pf, standardize, positive, prob)  # noqa: E731
    shared = SubsetPaths(Xf, y, sw, fit_intercept, x_mean, make)
    subsets = _subsamples(X.shape[0], 6, 0.5, True, 0)
    tol = 1e-6
    # a grid from above the full data's alpha_max to well inside the path
    f1, _, exc = enet_factors(X, sw, pf, standardize)
    amax = enet_alpha_max(X, y, rho, sw, f1, fit_intercept, exc)
    alphas = np.geomspace(1.5 * amax, 0.02 * amax, 15)
    out = shared.run(subsets, alphas, tol, 10000, keep_coefs=True)
    assert all(o is not None for o in out)
    for rows, (nz, gaps, kkts, n_iters, tol_abs, coefs) in zip(subsets, out):
        Xs, ys = X[rows], y[rows]
        s = None if sw is None else sw[rows]
        f1, f2, exc = enet_factors(Xs, s, pf, standardize)
        d0 = null_deviance(Xs, ys, s, fit_intercept)
        assert tol_abs == pytest.approx(tol * d0, rel=1e-10)
        np.testing.assert_array_equal(nz, coefs != 0)
        assert 0 < nz.sum() and nz[:, -1].sum() < X.shape[1]  # a path, not all or nothing
        for k, a in enumerate(alphas):
            g = enet_gap(Xs, ys, coefs[:, k], None, a, rho, s, f1, f2, positive=positive,
                         fit_intercept=fit_intercept, excluded=exc)
            # the reported certificate is a bound the oracle agrees with, within tol
            assert gaps[k] <= tol_abs
            assert g <= tol_abs * (1 + 1e-6) + 1e-12 * d0
        if positive:
            assert (coefs >= 0).all()


@pytest.mark.parametrize("pairs", [True, False])
def test_supports_equal_enet_path_on_every_subsample(monkeypatch, pairs):
    seen = _routed(monkeypatch)
    X, y = _wide(n=70, p=120, seed=3)
    est = ElasticNetPathCV(l1_ratio=0.7, tol=1e-10)
    kw = {} if pairs else dict(complementary_pairs=False, sample_fraction=0.6)
    s = StabilitySelection(est, alphas=12, n_resamples=10, random_state=3, **kw).fit(X, y)
    assert len(seen) == 10
    assert all(r.size == (35 if pairs else 42) for r in s.subsamples_)
    counts = np.zeros((120, 12))
    for rows in s.subsamples_:
        _, coefs, _ = enet_path(X[rows], y[rows], l1_ratio=0.7, alphas=s.alphas_,
                                tol=1e-10, fit_intercept=True, standardize=True)
        counts += coefs != 0
    np.testing.assert_array_equal(s.selection_probabilities_, counts / 10)
    assert s.max_dual_gap_ > 0


def test_column_constant_on_one_half_and_offset_fallback(monkeypatch):
    seen = _routed(monkeypatch)
    X, y = _wide(n=60, p=100, seed=4, offset=False)
    subs = _subsamples(60, 4, 0.5, True, 5)
    # column 7: constant on one half of the first pair (0 there), spread on the other
    X[subs[0], 7] = 0.0
    X[subs[1], 7] = np.random.default_rng(0).standard_normal(30)
    # column 9: mean 1e6 times its spread on the first half of the second pair: that
    # subset needs the Design's explicit centring, so it takes its own path
    X[:, 9] = 0.0
    X[subs[2], 9] = 1.0 + 1e-6 * np.random.default_rng(1).standard_normal(30)
    s = StabilitySelection(ElasticNetPathCV(l1_ratio=1.0, tol=1e-10), alphas=10,
                           n_resamples=4, random_state=5).fit(X, y)
    for a, b in zip(s.subsamples_, subs):
        np.testing.assert_array_equal(a, b)
    assert len(seen) == 3  # the offset subset fell back
    counts = np.zeros((100, 10))
    for rows in s.subsamples_:
        _, coefs, _ = enet_path(X[rows], y[rows], l1_ratio=1.0, alphas=s.alphas_,
                                tol=1e-10, fit_intercept=True, standardize=True)
        counts += coefs != 0
    np.testing.assert_array_equal(s.selection_probabilities_, counts / 4)
    # column 7 is constant on subset 0: excluded there, never selected
    assert s.selection_probabilities_[7].max() <= 0.75


@pytest.mark.parametrize("case", ["float32", "unpenalised", "gram"])
def test_other_cases_keep_one_path_per_subsample(monkeypatch, case):
    seen = _routed(monkeypatch)
    X, y = _wide(n=60, p=80, seed=6, offset=False)
    est = ElasticNetPathCV(l1_ratio=1.0)
    if case == "float32":
        X = X.astype(np.float32)
    elif case == "unpenalised":
        pf = np.ones(80)
        pf[10] = 0
        est = ElasticNetIC(l1_ratio=1.0, penalty_factor=pf)
    else:
        X = X[:, :20]
    s = StabilitySelection(est, alphas=6, n_resamples=4, random_state=0).fit(X, y)
    assert seen == []
    assert s.selection_probabilities_.shape == (X.shape[1], 6)


def test_reproducible_and_backend_independent_in_residual_mode(monkeypatch):
    # several chunks (the chunk size follows from the data's shape only)
    seen = _routed(monkeypatch)
    monkeypatch.setattr(subset_paths, "CHUNK_BYTES", 8 * 50 * 200 * 4)
    assert chunk_size(50, 200) == 4
    X, y = _wide(n=100, p=200, seed=7)
    kw = dict(alphas=10, n_resamples=12, random_state=7)
    a = StabilitySelection(**kw).fit(X, y)
    b = StabilitySelection(**kw).fit(X, y)
    with parallel_backend("threading", n_jobs=2):
        c = StabilitySelection(**kw, n_jobs=2).fit(X, y)
    with parallel_backend("loky", n_jobs=2):
        d = StabilitySelection(**kw, n_jobs=3).fit(X, y)
    assert len(seen) == 12 * 3  # a, b, c in this process (d in loky workers)
    for other in (b, c, d):
        np.testing.assert_array_equal(a.selection_probabilities_,
                                      other.selection_probabilities_)
        assert a.max_dual_gap_ == other.max_dual_gap_


def test_small_subsets_keep_one_path_per_subsample(monkeypatch):
    seen = []
    orig = subset_paths._Subset.__init__
    monkeypatch.setattr(subset_paths._Subset, "__init__",
                        lambda self, *a, **k: (seen.append(1), orig(self, *a, **k)))
    X, y = _wide(n=60, p=150, seed=9)      # 30 x 150 subsets: below MIN_CELLS
    StabilitySelection(alphas=5, n_resamples=4, random_state=0).fit(X, y)
    assert seen == []


def test_chunk_size_bounds_memory():
    assert chunk_size(500, 5000) == 50
    assert chunk_size(50_000, 20_000) == 2
    k = chunk_size(5000, 5000)
    assert k % 2 == 0 and 8 * 5000 * 5000 * k <= subset_paths.CHUNK_BYTES


def test_user_arrays_not_written(monkeypatch):
    seen = _routed(monkeypatch)
    X, y = _wide(n=50, p=90, seed=8)
    Xc, yc = X.copy(), y.copy()
    StabilitySelection(alphas=5, n_resamples=4, random_state=0).fit(X, y)
    assert len(seen) == 4
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
