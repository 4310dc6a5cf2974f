"""Dask input (issue 13): fits from sufficient statistics computed where the chunks live.

Every test runs on a real ``distributed.LocalCluster`` of two worker *processes* started
here, and compares with the in-memory fit on the same rows and fold labels, or with
statistics the test accumulates itself in NumPy chunk by chunk.
"""
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import PredefinedSplit

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

from sklearn_normpen import (ElasticNetPathCV, GroupLassoPathCV,  # noqa: E402
                             GroupLassoRegressor, SpectralRidge, SpectralRidgeCV,
                             dask_fold_labels)
from sklearn_normpen import _dask  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="512MiB", dashboard_address=":0",
                                  silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _data(n=1200, p=25, seed=0, offset=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if offset:
        X[:, 3] += 2000.0  # a calendar-year-like column: centring must keep its digits
    w = np.zeros(p)
    w[:min(p, 6)] = [1.0, -2.0, 0.5, 3.0, 1.0, -0.7][:p]
    y = X @ w + rng.standard_normal(n) + 7.0
    sw = rng.uniform(0.2, 2.0, n)
    return X, y, sw


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def _dask_xyw(X, y, sw, dtype, rows=173, cols=9):
    Xd = da.from_array(X.astype(dtype), chunks=(rows, cols))
    yd = da.from_array(y.astype(dtype), chunks=(rows,) + y.shape[1:])
    swd = None if sw is None else da.from_array(sw, chunks=rows)
    return Xd, yd, swd


# ---------------------------------------------------------------------------------------
# ElasticNetPathCV: equal to the in-memory fit on the same fold labels
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_enet_equals_numpy_fit_on_same_folds(client, dtype, weighted):
    X, y, sw = _data()
    sw = sw if weighted else None
    Xd, yd, swd = _dask_xyw(X, y, sw, dtype)
    # standardize=False: under standardize the float32 deviations from dask moments and
    # from the array differ by rounding, enough to move alpha_min on a flat CV curve
    # (standardize=True is compared in test_enet_user_fold_labels_standardize_...)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=30, rule="1se", standardize=False)
    a = ElasticNetPathCV(cv=5, random_state=7, **kw).fit(Xd, yd, sample_weight=swd)
    labels = dask_fold_labels(Xd, 5, random_state=7).compute()
    assert np.bincount(labels).min() >= len(y) // 5 - 10  # balanced per chunk
    b = ElasticNetPathCV(cv=PredefinedSplit(labels), **kw).fit(X.astype(dtype),
                                                                y.astype(dtype), sw)
    assert a.coef_.dtype == b.coef_.dtype == dtype
    assert a.l1_ratio_ == b.l1_ratio_
    assert_allclose(a.alphas_, b.alphas_, rtol=1e-10)
    assert_allclose(a.alpha_1se_, b.alpha_1se_, rtol=1e-10)
    assert_allclose(a.alpha_min_, b.alpha_min_, rtol=1e-10)
    if dtype == np.float64:
        assert _rel(a.coef_path_, b.coef_path_) < 1e-10
        assert _rel(a.mse_path_, b.mse_path_) < 1e-10
        assert _rel(a.intercept_path_, b.intercept_path_) < 1e-10
    else:
        # float32 solvers on the same float32-rounded Gram: the same iterates
        assert _rel(a.coef_path_, b.coef_path_) < 1e-6
        # held-out errors: the dask fit forms them in float64 from moments, the in-memory
        # fit from float64 predictions of the float32 rows (linear_predictor64): what
        # differs is the coefficients' rounding
        assert _rel(a.mse_path_, b.mse_path_) < 1e-4
    assert_array_equal(a.n_iter_path_, b.n_iter_path_)
    pred = a.predict(Xd)
    assert isinstance(pred, da.Array)
    assert _rel(pred.compute(), b.predict(X.astype(dtype))) < (1e-10 if dtype == np.float64
                                                              else 1e-5)


def test_enet_unshuffled_kfold_is_identical_to_numpy_cv_int(client):
    X, y, _ = _data(n=1001, seed=1)
    Xd, yd, _ = _dask_xyw(X, y, None, np.float64, rows=150)
    a = ElasticNetPathCV(cv=4, alphas=25).fit(Xd, yd)
    b = ElasticNetPathCV(cv=4, alphas=25).fit(X, y)  # sklearn's contiguous KFold
    assert _rel(a.mse_path_, b.mse_path_) < 1e-10
    assert _rel(a.coef_, b.coef_) < 1e-10
    assert a.alpha_ == pytest.approx(b.alpha_, rel=1e-10)
    assert_array_equal(a.fold_dual_gap_ <= 1e-4 * 10, b.fold_dual_gap_ <= 1e-4 * 10)


def test_enet_user_fold_labels_standardize_unpenalised_no_intercept(client):
    X, y, sw = _data(n=900, p=12, seed=2)
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, len(y))
    labels[:40] = -1  # never held out (PredefinedSplit's convention)
    pf = np.ones(12)
    pf[1] = 0.0
    Xd, yd, swd = _dask_xyw(X, y, sw, np.float64, rows=100)
    lab_d = da.from_array(labels, chunks=100)
    for kw in (dict(standardize=True, penalty_factor=pf),
               dict(fit_intercept=False, positive=True, l1_ratio=0.8, standardize=False)):
        a = ElasticNetPathCV(cv=lab_d, alphas=20, **kw).fit(Xd, yd, sample_weight=swd)
        b = ElasticNetPathCV(cv=PredefinedSplit(labels), alphas=20, **kw).fit(X, y, sw)
        assert a.mse_path_.shape == (20, 3)
        assert _rel(a.mse_path_, b.mse_path_) < 1e-10
        assert _rel(a.coef_path_, b.coef_path_) < 1e-10
        assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-10, abs=1e-12)


def test_enet_dask_dataframe_keeps_feature_names(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = _data(n=800, p=6, seed=4, offset=False)
    cols = [f"f{j}" for j in range(6)]
    df = pd.DataFrame(X, columns=cols)
    ddf = dd.from_pandas(df, npartitions=4)
    ys = dd.from_pandas(pd.Series(y, name="y"), npartitions=4)
    a = ElasticNetPathCV(cv=4, alphas=15).fit(ddf, ys)
    assert list(a.feature_names_in_) == cols
    # the same rows in memory, folds as sklearn's KFold(4)
    b = ElasticNetPathCV(cv=4, alphas=15).fit(df, y)
    assert _rel(a.coef_path_, b.coef_path_) < 1e-10
    assert _rel(a.mse_path_, b.mse_path_) < 1e-10
    assert _rel(a.predict(ddf).compute(), b.predict(df)) < 1e-10


def test_client_never_receives_anything_n_sized(client, monkeypatch):
    """Every object the fit brings back to the client is O(K·p²) (no row of X or y)."""
    X, y, sw = _data(n=6000, p=8, seed=5)
    Xd, yd, swd = _dask_xyw(X, y, sw, np.float64, rows=500)
    sizes = []
    real = dask.base.compute

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        sizes.extend(np.asarray(o).nbytes for o in out)
        return out

    monkeypatch.setattr(dask.base, "compute", spy)
    monkeypatch.setattr(dask, "compute", spy)
    ElasticNetPathCV(cv=5, random_state=0, alphas=10).fit(Xd, yd, sample_weight=swd)
    SpectralRidgeCV(cv=5, alphas=10).fit(Xd, yd, sample_weight=swd)
    GroupLassoPathCV(groups=[0, 0, 1, 1, 2, 2, 3, 3], cv=5, alphas=5).fit(
        Xd, yd, sample_weight=swd)
    assert sizes  # the spy saw the passes
    assert max(sizes) <= 8 * 6 * (8 + 2) ** 2 < 8 * len(y)


# ---------------------------------------------------------------------------------------
# Spectral ridge
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("multi", [False, True])
def test_spectral_ridge_equals_numpy_gram_route(client, dtype, multi):
    X, y, sw = _data(n=1000, p=15, seed=6)
    Y = np.column_stack([y, X[:, 2] - 0.5 * y]) if multi else y
    Xd, Yd, swd = _dask_xyw(X, Y, sw, dtype, rows=120)
    pf = np.linspace(0.5, 2.0, 15)
    tight = 1e-10 if dtype == np.float64 else 1e-6
    a = SpectralRidge(alpha=3.0, penalty_factor=pf).fit(Xd, Yd, sample_weight=swd)
    b = SpectralRidge(alpha=3.0, penalty_factor=pf, solver="gram").fit(
        X.astype(dtype), Y.astype(dtype), sw)
    assert a.coef_.dtype == dtype
    assert _rel(a.coef_, b.coef_) < tight
    assert _rel(a.intercept_, b.intercept_) < tight
    assert _rel(a.singular_values_, b.singular_values_) < tight
    assert _rel(a.path([10.0, 0.1])[0], b.path([10.0, 0.1])[0]) < tight
    for cv in ("gcv", 4):
        a = SpectralRidgeCV(alphas=25, cv=cv, alpha_per_target=True).fit(
            Xd, Yd, sample_weight=swd)
        b = SpectralRidgeCV(alphas=25, cv=cv, alpha_per_target=True, solver="gram").fit(
            X.astype(dtype), Y.astype(dtype), sw)
        assert _rel(a.cv_mean_, b.cv_mean_) < 1e-10
        assert_allclose(a.alpha_, b.alpha_, rtol=1e-10)
        assert _rel(a.coef_path_, b.coef_path_) < tight
        if cv == 4:
            assert _rel(a.mse_path_, b.mse_path_) < 1e-10
            assert _rel(a.cv_se_, b.cv_se_) < 1e-8


def test_spectral_ridge_matches_closed_form(client):
    """Independent reference: the weighted ridge normal equations solved in NumPy."""
    X, y, sw = _data(n=700, p=10, seed=8)
    Xd, yd, swd = _dask_xyw(X, y, sw, np.float64, rows=90)
    a = SpectralRidge(alpha=5.0).fit(Xd, yd, sample_weight=swd)
    xm, ym = sw @ X / sw.sum(), sw @ y / sw.sum()
    Xc, yc = X - xm, y - ym
    w = np.linalg.solve(Xc.T @ (sw[:, None] * Xc) + 5.0 * np.eye(10), Xc.T @ (sw * yc))
    assert_allclose(a.coef_, w, rtol=1e-10)
    assert a.intercept_ == pytest.approx(ym - xm @ w, rel=1e-10)


# ---------------------------------------------------------------------------------------
# Group lasso: the covariance-mode block solver on cluster moments
# ---------------------------------------------------------------------------------------

GROUPS = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, None, None]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_lasso_path_cv_equals_numpy_fit_on_same_folds(client, dtype):
    """Different solvers (Gram-mode vs residual-mode block CD), so equal to the
    certificate's accuracy: both stop at tol=1e-9 relative gaps."""
    X, y, sw = _data(n=900, p=16, seed=10)
    Xd, yd, swd = _dask_xyw(X, y, sw, dtype, rows=130)
    kw = dict(groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=15, rule="1se",
              tol=1e-9 if dtype == np.float64 else 1e-6)
    a = GroupLassoPathCV(cv=4, random_state=2, **kw).fit(Xd, yd, sample_weight=swd)
    labels = dask_fold_labels(Xd, 4, random_state=2).compute()
    b = GroupLassoPathCV(cv=PredefinedSplit(labels), **kw).fit(X.astype(dtype),
                                                               y.astype(dtype), sw)
    assert a.coef_.dtype == dtype
    assert_allclose(a.alphas_, b.alphas_, rtol=1e-10 if dtype == np.float64 else 1e-5)
    assert a.l1_ratio_ == b.l1_ratio_
    assert a.alpha_1se_ == pytest.approx(b.alpha_1se_, rel=1e-10 if dtype == np.float64
                                         else 1e-5)
    assert _rel(a.mse_path_, b.mse_path_) < (1e-4 if dtype == np.float64 else 1e-3)
    assert _rel(a.coef_path_, b.coef_path_) < (1e-3 if dtype == np.float64 else 1e-2)
    assert_array_equal(a.active_groups_, b.active_groups_)
    # every l1_ratio's full-data path is certified against the weighted null deviance
    ym = np.average(y, weights=sw)
    null = np.sum(sw * (y - ym) ** 2) / (2 * np.sum(sw))
    assert np.all(a.dual_gap_path_ <= kw["tol"] * null * 1.01)


def test_group_lasso_regressor_dask_equals_numpy(client):
    X, y, sw = _data(n=700, p=16, seed=11)
    Xd, yd, swd = _dask_xyw(X, y, sw, np.float64, rows=100)
    kw = dict(groups=GROUPS, alpha=0.05, l1_ratio=0.3, tol=1e-10, standardize=True)
    a = GroupLassoRegressor(**kw).fit(Xd, yd, sample_weight=swd)
    b = GroupLassoRegressor(**kw).fit(X, y, sample_weight=sw)
    assert _rel(a.coef_, b.coef_) < 1e-6
    assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-7)
    assert_array_equal(a.active_groups_, b.active_groups_)
    assert 0 <= a.dual_gap_ <= 1e-10 * 0.5 * np.average((y - np.average(y, weights=sw)) ** 2,
                                                         weights=sw)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

def test_clear_errors(client, monkeypatch):
    sp = pytest.importorskip("scipy.sparse")
    X, y, _ = _data(n=400, p=5, seed=9, offset=False)
    Xd, yd, _ = _dask_xyw(X, y, None, np.float64, rows=100)
    est = ElasticNetPathCV(cv=3, alphas=5)
    with pytest.raises(TypeError, match="sparse chunks"):
        est.fit(Xd.map_blocks(sp.csr_matrix), yd)
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        est.fit(Xd[Xd[:, 0] > 0], yd)
    with pytest.raises(ValueError, match="chunked differently"):
        est.fit(Xd, yd.rechunk(130))
    with pytest.raises(ValueError, match="X has 400 samples"):
        est.fit(Xd, yd[:300])
    monkeypatch.setattr(_dask, "MAX_STATS_BYTES", 1000)
    with pytest.raises(ValueError, match=r"p=5 features with 3 folds need 4 float64 moment "
                                         r"matrices of 7×7: 0\.00 GiB"):
        est.fit(Xd, yd)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="leave-one-out"):
        SpectralRidgeCV().fit(Xd, yd)
    with pytest.raises(ValueError, match="solver='svd' needs X in memory"):
        SpectralRidge(solver="svd").fit(Xd, yd)
    with pytest.raises(ValueError, match="cv must be an int"):
        ElasticNetPathCV(cv=PredefinedSplit(np.arange(400) % 3)).fit(Xd, yd)
    with pytest.raises(ValueError, match="groups are not supported"):
        est.fit(Xd, yd, groups=np.arange(400) % 2)
    with pytest.raises(ValueError, match="precompute=False"):
        ElasticNetPathCV(precompute=False).fit(Xd, yd)
    bad = X.copy()
    bad[250, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.fit(da.from_array(bad, chunks=(100, 5)), yd)
    with pytest.raises(ValueError, match="non-negative"):
        est.fit(Xd, yd, sample_weight=da.from_array(-np.ones(400), chunks=100))


def test_package_imports_and_fits_without_dask():
    """No module of the package imports dask unless the input is a dask collection."""
    import subprocess
    import sys
    code = ("import sys, numpy as np\n"
            "sys.modules['dask'] = None\n"  # any 'import dask' now fails
            "import sklearn_normpen as s\n"
            "X = np.random.default_rng(0).standard_normal((60, 4)); y = X[:, 0]\n"
            "s.ElasticNetPathCV(cv=3, alphas=5).fit(X, y); s.SpectralRidgeCV().fit(X, y)\n"
            "s.SpectralRidge().fit(X, y).predict(X)\n"
            "print('ok')\n")
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------------------------------
# Larger than a worker's memory (kept modest for a 2-core test machine)
# ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_larger_than_worker_memory_equals_chunkwise_numpy_statistics():
    """X of 480 MB generated chunk-wise on two process workers limited to 400 MiB each
    (about 200 MiB of which an idle worker with NumPy, SciPy and scikit-learn loaded
    uses; the issue's 1.5 GB / 1 GB workers scaled down to this 2-core machine): the fit
    completes, no worker is restarted, and the moments equal those the test accumulates
    chunk by chunk."""
    n, p, rows = 600_000, 100, 10_000
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="400MiB", dashboard_address=":0",
                                  silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        rng = da.random.default_rng(42)
        X = rng.standard_normal((n, p), chunks=(rows, p))
        X = X + da.arange(p, chunks=p) * 0.01
        beta = np.zeros(p)
        beta[:10] = np.linspace(1, 2, 10)
        y = X @ beta + rng.standard_normal(n, chunks=rows)
        assert X.nbytes > 400 * 2**20
        est = ElasticNetPathCV(l1_ratio=1.0, cv=3, random_state=1, alphas=20).fit(X, y)
        assert c.run(os.getpid) == pids  # no worker restarted (memory or otherwise)
        labels = dask_fold_labels(X, 3, random_state=1)
        M, shift, yshift = _dask.fold_moments(X, y, None, labels, np.arange(3), True)
        # the test's own chunk-by-chunk NumPy accumulation of every fold's moments
        ref = np.zeros((4, p + 2, p + 2))
        for i in range(X.numblocks[0]):
            xb, yb, lb = dask.compute(X.blocks[i], y.blocks[i], labels.blocks[i])
            Z = np.column_stack([xb - shift, yb - yshift, np.ones(len(yb))])
            for k in range(3):
                ref[k] += Z[lb == k].T @ Z[lb == k]
        assert_allclose(M, ref, rtol=1e-10, atol=1e-8 * np.abs(ref).max())
        # the selected lasso fit certified against the test's own total statistics
        T = ref.sum(axis=0)
        N = T[-1, -1]
        dx, dy = T[:p, -1] / N, T[p, -1] / N
        Q = T[:p, :p] - N * np.outer(dx, dx)
        q = T[:p, p] - dx * T[p, -1]
        yy = T[p, p] - N * dy * dy
        w, a = est.coef_, est.alpha_
        r2 = yy - 2 * q @ w + w @ Q @ w
        g = (q - Q @ w) / N
        t = min(1.0, a / np.abs(g).max())
        primal = r2 / (2 * N) + a * np.abs(w).sum()
        dual = t * (yy - q @ w) / N - 0.5 * t * t * r2 / N
        assert primal - dual <= 2 * est.tol * yy / (2 * N)
        assert est.intercept_ == pytest.approx(T[p, -1] / N + yshift - (dx + shift) @ w,
                                               rel=1e-9)
