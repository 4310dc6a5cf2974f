"""StabilitySelection: probabilities against a direct NumPy recount, the Meinshausen-Bühlmann
bound on pure noise, support recovery, complementary pairs, reproducibility across joblib
backends, Pipeline use and bad input."""
import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_backend
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.pipeline import make_pipeline

from sklearn_normpen import (ElasticNetIC, ElasticNetPathCV, GroupLassoPathCV,
                             StabilitySelection, enet_path, group_lasso_path)
from sklearn_normpen.stability import false_selection_bound


def _sparse_signal(n=200, p=40, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, :4] @ [2.0, -1.5, 1.0, 1.2] + noise * rng.standard_normal(n)
    return X, y


def test_complementary_pairs_are_disjoint_halves():
    X, y = _sparse_signal(n=101)
    s = StabilitySelection(n_resamples=20, alphas=5, random_state=0).fit(X, y)
    assert len(s.subsamples_) == 20
    for a, b in zip(s.subsamples_[::2], s.subsamples_[1::2]):
        assert a.size == b.size == 50
        assert np.intersect1d(a, b).size == 0
    # the pairs differ from one another
    assert not np.array_equal(s.subsamples_[0], s.subsamples_[2])
    s2 = StabilitySelection(n_resamples=6, complementary_pairs=False, sample_fraction=0.3,
                            alphas=5, random_state=0).fit(X, y)
    assert all(r.size == 30 and np.unique(r).size == 30 for r in s2.subsamples_)


def test_probabilities_equal_direct_recount_with_enet_path():
    X, y = _sparse_signal(n=80, p=15, seed=1)
    s = StabilitySelection(ElasticNetPathCV(l1_ratio=0.7, tol=1e-10), alphas=12,
                           n_resamples=10, random_state=3).fit(X, y)
    counts = np.zeros((15, 12))
    for rows in s.subsamples_:
        Xs, ys = X[rows], y[rows]
        # the public path function on the subsample (centred here: fit_intercept=True)
        _, coefs, _ = enet_path(Xs - Xs.mean(0), ys - ys.mean(), l1_ratio=0.7,
                                alphas=s.alphas_, tol=1e-10)
        counts += coefs != 0
    np.testing.assert_array_equal(s.selection_probabilities_, counts / 10)
    # the grid starts at the full data's alpha_max (nothing selected by it on all the data)
    _, c_full, _ = enet_path(X - X.mean(0), y - y.mean(), l1_ratio=0.7, alphas=s.alphas_[:1])
    assert not c_full.any()


def test_group_probabilities_equal_direct_recount():
    X, y = _sparse_signal(n=90, p=12, seed=2)
    groups = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    s = StabilitySelection(GroupLassoPathCV(groups=groups, tol=1e-10), alphas=10,
                           n_resamples=8, random_state=1).fit(X, y)
    counts = np.zeros((4, 10))
    for rows in s.subsamples_:
        Xs, ys = X[rows], y[rows]
        _, coefs, _ = group_lasso_path(Xs - Xs.mean(0), ys - ys.mean(), groups=groups,
                                       alphas=s.alphas_, tol=1e-10)
        counts += np.array([(coefs[g] != 0).any(axis=0) for g in groups])
    np.testing.assert_array_equal(s.selection_probabilities_, counts / 8)
    np.testing.assert_array_equal(s.stable_units_, [0, 1])
    np.testing.assert_array_equal(np.flatnonzero(s.get_support()), np.arange(6))


def test_strong_sparse_signal_recovers_support():
    X, y = _sparse_signal(n=300, p=60, seed=3, noise=0.3)
    s = StabilitySelection(threshold=0.9, random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(s.get_support()), [0, 1, 2, 3])
    assert s.max_probabilities_[:4].min() == 1.0
    Xs = sp.csr_matrix(X)
    ss = StabilitySelection(threshold=0.9, random_state=0).fit(Xs, y)
    np.testing.assert_array_equal(ss.get_support(), s.get_support())
    assert sp.issparse(ss.transform(Xs)) and ss.transform(Xs).shape == (300, 4)


def test_pure_noise_respects_the_bound():
    # E[V] <= q²/((2π - 1)p): averaged over independent pure-noise data sets, the number
    # of (necessarily false) stable features stays below the average bound
    n_false, bounds = [], []
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        X = rng.standard_normal((100, 100))
        y = rng.standard_normal(100)
        # a short alpha range (q ≈ sqrt(p)), where the bound is informative
        s = StabilitySelection(alphas=10, eps=0.8, n_resamples=40, threshold=0.6,
                               random_state=seed).fit(X, y)
        n_false.append(s.stable_units_.size)
        bounds.append(s.false_selection_bound_)
    assert np.mean(n_false) <= np.mean(bounds)
    assert np.mean(bounds) < 4  # a bound that says something on this alpha range


def test_bound_and_threshold_from_target():
    X, y = _sparse_signal(n=120, p=50, seed=4)
    s = StabilitySelection(alphas=15, eps=0.5, n_resamples=20, random_state=0).fit(X, y)
    q, p = s.mean_selected_, s.n_units_
    assert p == 50
    assert s.false_selection_bound_ == pytest.approx(q * q / ((2 * 0.75 - 1) * 50))
    # q recomputed from the definition: mean over resamples of |∪_alpha selected|
    ev = 2.0
    t = StabilitySelection(alphas=15, eps=0.5, n_resamples=20, random_state=0,
                           expected_false_selections=ev).fit(X, y)
    assert t.false_selection_bound_ <= ev
    assert t.threshold_ == pytest.approx(0.5 * (1 + q * q / (p * ev)))
    assert false_selection_bound(q, p, t.threshold_) <= ev
    with pytest.raises(ValueError, match="expected_false_selections"):
        StabilitySelection(alphas=15, eps=0.01, n_resamples=20, random_state=0,
                           expected_false_selections=1e-3).fit(X, y)


def test_reproducible_and_backend_independent():
    X, y = _sparse_signal(n=100, p=20, seed=5)
    kw = dict(alphas=10, n_resamples=12, random_state=7)
    a = StabilitySelection(**kw).fit(X, y)
    b = StabilitySelection(**kw).fit(X, y)
    with parallel_backend("threading", n_jobs=2):
        c = StabilitySelection(**kw, n_jobs=2).fit(X, y)
    with parallel_backend("loky", n_jobs=2):
        d = StabilitySelection(**kw, n_jobs=2).fit(X, y)
    for other in (b, c, d):
        np.testing.assert_array_equal(a.selection_probabilities_,
                                      other.selection_probabilities_)
    e = StabilitySelection(alphas=10, n_resamples=12, random_state=8).fit(X, y)
    assert not all(np.array_equal(u, v) for u, v in zip(a.subsamples_, e.subsamples_))


def test_unpenalised_features_always_kept_and_not_counted():
    X, y = _sparse_signal(n=100, p=20, seed=6)
    pf = np.ones(20)
    pf[[10, 11]] = 0
    s = StabilitySelection(ElasticNetIC(l1_ratio=1.0, penalty_factor=pf), alphas=10,
                           n_resamples=10, random_state=0).fit(X, y)
    assert s.n_units_ == 18
    assert s.get_support()[[10, 11]].all()
    assert (s.selection_probabilities_[[10, 11]] == 1).all()


def test_in_pipeline_before_any_model():
    X, y = _sparse_signal(n=150, p=30, seed=7)
    pipe = make_pipeline(StabilitySelection(alphas=10, n_resamples=20, random_state=0),
                         LinearRegression()).fit(X, y)
    assert pipe[-1].coef_.shape == (pipe[0].get_support().sum(),)
    assert pipe.score(X, y) > 0.9
    names = [f"f{i}" for i in range(30)]
    import pandas as pd
    sel = StabilitySelection(alphas=10, n_resamples=20, random_state=0).fit(
        pd.DataFrame(X, columns=names), y)
    assert list(sel.get_feature_names_out()) == [names[i] for i in
                                                 np.flatnonzero(sel.get_support())]


def test_float32_and_user_arrays():
    X, y = _sparse_signal(n=100, p=10, seed=8)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    Xc = X32.copy()
    s = StabilitySelection(alphas=8, n_resamples=10, random_state=0).fit(X32, y32)
    assert s.transform(X32).dtype == np.float32
    np.testing.assert_array_equal(X32, Xc)


@pytest.mark.parametrize("params, match", [
    ({"threshold": 0.5}, "threshold"),
    ({"threshold": 1.2}, "threshold"),
    ({"sample_fraction": 0.0, "complementary_pairs": False}, "sample_fraction"),
    ({"sample_fraction": 1.0, "complementary_pairs": False}, "sample_fraction"),
    ({"sample_fraction": 0.3}, "sample_fraction"),
    ({"n_resamples": 7}, "n_resamples"),
    ({"n_resamples": 0}, "n_resamples"),
    ({"expected_false_selections": -1.0}, "expected_false_selections"),
    ({"estimator": Lasso()}, "estimator"),
    ({"estimator": ElasticNetPathCV(l1_ratio=[0.5, 1.0])}, "l1_ratio"),
])
def test_bad_input(params, match):
    X, y = _sparse_signal(n=40, p=5)
    with pytest.raises(ValueError, match=match):
        StabilitySelection(**params, alphas=5).fit(X, y)
    with pytest.raises(ValueError, match="at least 4 samples"):
        StabilitySelection(alphas=5, n_resamples=2).fit(X[:3], y[:3])


def test_stability_path_display():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from sklearn_normpen import StabilityPathDisplay
    X, y = _sparse_signal(n=150, p=12, seed=9)
    names = [f"f{i}" for i in range(12)]
    s = StabilitySelection(alphas=10, n_resamples=20, threshold=0.8, random_state=0).fit(
        pd.DataFrame(X, columns=names), y)
    d = StabilityPathDisplay.from_estimator(make_pipeline(s, LinearRegression()).fit(
        pd.DataFrame(X, columns=names), y))
    assert len(d.lines_) == 12
    for j, ln in enumerate(d.lines_):
        np.testing.assert_array_equal(ln.get_ydata(), s.selection_probabilities_[j])
    labels = [t.get_text() for t in d.ax_.get_legend().get_texts()]
    assert labels[:len(s.stable_units_)] == [names[j] for j in s.stable_units_]
    assert d.threshold_line_.get_ydata()[0] == 0.8
    with pytest.raises(ValueError, match="StabilitySelection"):
        StabilityPathDisplay.from_estimator(LinearRegression().fit(X, y))
    plt.close("all")
