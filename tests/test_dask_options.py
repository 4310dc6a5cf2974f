"""ElasticNetPathCV options on dask input that run on the sufficient statistics alone:
relaxed fits (refits from the training folds' Grams), exclude, box limits, dfmax / pmax;
and the clear error for keep=True. Each compared with the in-memory fit on the same rows
and fold labels (a real two-process LocalCluster)."""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import PredefinedSplit

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn_normpen import ElasticNetPathCV, dask_fold_labels  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="512MiB", dashboard_address=":0",
                                  silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _data(n=1000, p=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 2] += 500.0  # an offset column
    w = np.zeros(p)
    w[:5] = [1.5, -2.0, 0.8, 1.0, -0.5]
    y = X @ w + 2.0 * rng.standard_normal(n) - 3.0
    sw = rng.uniform(0.3, 2.0, n)
    return X, y, sw


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def _pair(kw, weighted=True, seed=0):
    X, y, sw = _data(seed=seed)
    sw = sw if weighted else None
    Xd = da.from_array(X, chunks=(130, 15))
    yd = da.from_array(y, chunks=130)
    swd = None if sw is None else da.from_array(sw, chunks=130)
    a = ElasticNetPathCV(cv=4, random_state=3, **kw).fit(Xd, yd, sample_weight=swd)
    labels = dask_fold_labels(Xd, 4, random_state=3).compute()
    b = ElasticNetPathCV(cv=PredefinedSplit(labels), **kw).fit(X, y, sw)
    return a, b


@pytest.mark.parametrize("kw", [dict(l1_ratio=1.0, rule="1se"),
                                dict(l1_ratio=[0.3, 1.0], rule="min",
                                     relax_gamma=[0.0, 0.5, 1.0])])
def test_relaxed_cv_equals_in_memory(client, kw):
    a, b = _pair(dict(relax=True, alphas=25, **kw))
    assert a.relax_gamma_ == b.relax_gamma_
    assert a.l1_ratio_ == b.l1_ratio_
    assert_allclose(a.alpha_, b.alpha_, rtol=1e-10)
    assert_allclose(a.relax_gammas_, b.relax_gammas_)
    assert _rel(a.relaxed_mse_path_, b.relaxed_mse_path_) < 1e-10
    assert _rel(a.relaxed_cv_mean_, b.relaxed_cv_mean_) < 1e-10
    assert _rel(a.relaxed_coef_path_, b.relaxed_coef_path_) < 1e-10
    assert _rel(a.mse_path_, b.mse_path_) < 1e-10
    assert _rel(a.coef_, b.coef_) < 1e-10
    assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-10)
    # the gamma = 0 refit at the chosen point is the least-squares fit on its support
    X, y, sw = _data()
    gi = int(np.flatnonzero(a.relax_gammas_ == 0.0)[0])
    i = int(np.flatnonzero(a.alphas_ == a.alpha_)[0]) if np.ndim(a.alphas_) == 1 else None
    if i is not None:
        w0 = a.relaxed_coef_path_[gi, :, i]
        A = np.flatnonzero(w0)
        Z = np.hstack([X[:, A], np.ones((len(y), 1))]) * np.sqrt(sw)[:, None]
        ls = np.linalg.lstsq(Z, y * np.sqrt(sw), rcond=None)[0]
        assert_allclose(w0[A], ls[:-1], rtol=1e-8)


def test_exclude_and_limits_equal_in_memory(client):
    kw = dict(alphas=20, exclude=[0, 7], lower_limits=-0.6, upper_limits=np.full(15, 1.2),
              standardize=True)
    a, b = _pair(kw, weighted=False, seed=1)
    assert_array_equal(a.coef_path_[[0, 7]], 0.0)
    assert a.coef_path_.min() >= -0.6 and a.coef_path_.max() <= 1.2
    assert (a.coef_path_ == -0.6).any() or (a.coef_path_ == 1.2).any()  # a bound is hit
    assert _rel(a.coef_path_, b.coef_path_) < 1e-10
    assert _rel(a.mse_path_, b.mse_path_) < 1e-10
    assert_allclose(a.alpha_, b.alpha_, rtol=1e-10)


@pytest.mark.parametrize("limit", [dict(dfmax=3), dict(pmax=4)])
def test_dfmax_pmax_equal_in_memory(client, limit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the "path stopped early" notice
        a, b = _pair(dict(alphas=40, **limit), seed=2)
    assert a.path_stop_reason_ == b.path_stop_reason_ == next(iter(limit))
    assert len(a.alphas_) == len(b.alphas_) < 40
    assert_allclose(a.alphas_, b.alphas_, rtol=1e-12)
    assert _rel(a.mse_path_, b.mse_path_) < 1e-10
    assert _rel(a.coef_path_, b.coef_path_) < 1e-10
    assert np.count_nonzero(a.coef_path_[:, -1]) <= 4


def test_keep_is_refused(client):
    X, y, _ = _data(n=200)
    with pytest.raises(ValueError, match="keep=True .* not supported on dask input"):
        ElasticNetPathCV(keep=True, cv=3).fit(da.from_array(X, chunks=(50, 15)),
                                              da.from_array(y, chunks=50))


def test_group_lasso_path_cv_refuses_what_it_would_ignore(client):
    from sklearn_normpen import GroupLassoPathCV
    X, y, _ = _data(n=200)
    Xd, yd = da.from_array(X, chunks=(50, 15)), da.from_array(y, chunks=50)
    for kw in (dict(relax=True), dict(keep=True)):
        with pytest.raises(ValueError, match="relax=True and keep=True are not supported"):
            GroupLassoPathCV(groups=np.arange(15) // 5, cv=3, **kw).fit(Xd, yd)
    with pytest.raises(ValueError, match="exclude, lower_limits and upper_limits"):
        GroupLassoPathCV(groups=np.arange(15) // 5, cv=3, exclude=[1]).fit(Xd, yd)
    with pytest.raises(ValueError, match="dfmax and pmax are not supported"):
        GroupLassoPathCV(groups=np.arange(15) // 5, cv=3, dfmax=2).fit(Xd, yd)
