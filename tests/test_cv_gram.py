"""Covariance-mode CV: each fold's Gram is the full data's minus its held-out rows'; with
K-fold splits the full statistics are the sum of the held-out ones (one pass over X)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import KFold

from sklearn_normpen import ElasticNetPathCV
from sklearn_normpen._design import Design, is_partition
from sklearn_normpen.elastic_net import _full_problem


def _data(n=120, p=8, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + offset
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("weighted", [False, True])
def test_full_statistics_are_the_sum_of_the_held_out_ones(weighted):
    X, y = _data(offset=50.0)
    sw = np.random.default_rng(1).uniform(0.5, 2, len(y)) if weighted else None
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    _, mode, stats, _, held = _full_problem(X, y, sw, True, True, splits)
    assert mode == "gram" and len(held) == 4
    direct = Design(X, y, sw, True).gram_stats()
    scale = np.max(np.abs(direct["G"]))  # sums about the mean are ~0: absolute rounding
    for k in direct:
        assert_allclose(stats[k], direct[k], rtol=1e-12, atol=1e-12 * scale)


def test_partition_detects_overlap_and_gaps():
    n = 10
    assert is_partition([np.arange(5), np.arange(5, 10)], n)
    assert not is_partition([np.arange(6), np.arange(5, 10)], n)  # overlap
    assert not is_partition([np.arange(4), np.arange(5, 10)], n)  # gap


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cv", ["kfold", "overlapping"])
def test_gram_cv_equals_residual_mode_cv(dtype, cv):
    X, y = _data(offset=0.0)
    X, y = X.astype(dtype), y.astype(dtype)
    n = len(y)
    if cv == "kfold":
        splits = list(KFold(5).split(X))
    else:  # held-out sets overlap: each fold's statistics from its own rows
        idx = np.arange(n)
        splits = [(np.setdiff1d(idx, te), te) for te in
                  (idx[:50], idx[30:80], idx[70:])]
    kw = dict(l1_ratio=[0.5, 1.0], alphas=20, cv=splits, tol=1e-10 if dtype == np.float64
              else 1e-6, max_iter=100000)
    gram = ElasticNetPathCV(precompute=True, **kw).fit(X, y)
    resid = ElasticNetPathCV(precompute=False, **kw).fit(X, y)
    assert_allclose(gram.alphas_, resid.alphas_, rtol=1e-10 if dtype == np.float64 else 1e-5)
    rtol = 1e-6 if dtype == np.float64 else 2e-3
    assert_allclose(gram.mse_path_, resid.mse_path_, rtol=rtol)
    assert gram.alpha_ == pytest.approx(resid.alpha_, rel=rtol)


@pytest.mark.parametrize("weighted", [False, True])
def test_threaded_held_out_statistics_equal_the_serial_ones(weighted):
    # n_jobs > 1 forms the folds' statistics in threads: the same numbers, bit for bit
    X, y = _data(n=203, p=11, offset=30.0)
    sw = np.random.default_rng(2).uniform(0.5, 2, len(y)) if weighted else None
    splits = list(KFold(5, shuffle=True, random_state=3).split(X))
    *_, stats1, _, held1 = _full_problem(X, y, sw, True, True, splits)
    *_, stats2, _, held2 = _full_problem(X, y, sw, True, True, splits, n_jobs=2)
    assert held1.keys() == held2.keys()
    for key in held1:
        for k in held1[key]:
            np.testing.assert_array_equal(held1[key][k], held2[key][k])
    for k in stats1:
        np.testing.assert_array_equal(stats1[k], stats2[k])


@pytest.mark.parametrize("precompute", [True, False])
def test_cv_errors_equal_held_out_errors_of_the_fold_paths(precompute):
    # the held-out predictions read only the columns a fold's path uses: the errors must
    # be those of X_test @ coef + intercept over every column, the fold fits here from
    # scikit-learn's enet_path on the centred training rows (the same objective)
    from sklearn.linear_model import enet_path
    X, y = _data(n=150, p=100, offset=5.0)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    cv = ElasticNetPathCV(l1_ratio=0.8, alphas=15, eps=0.1, cv=splits, tol=1e-12,
                          standardize=False,
                          precompute=precompute, max_iter=100000).fit(X, y)
    for f, (tr, te) in enumerate(splits):
        xm, ym = X[tr].mean(axis=0), y[tr].mean()
        _, coefs, _ = enet_path(X[tr] - xm, y[tr] - ym, l1_ratio=0.8, alphas=cv.alphas_,
                                tol=1e-14, max_iter=100000)
        # (few columns used: the predictions take the gathered-columns branch)
        assert 4 * np.count_nonzero(np.any(coefs != 0, axis=1)) < X.shape[1]
        pred = X[te] @ coefs + (ym - xm @ coefs)
        mse = np.mean((y[te][:, None] - pred) ** 2, axis=0)
        assert_allclose(cv.mse_path_[:, f], mse, rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_fold_statistics_equal_each_folds_own(sparse, dtype, weighted, n_jobs):
    # one read of X for every fold (the compiled scatter) against one gathered Gram per fold,
    # with an offset column (mean >> spread), float32 input and uneven folds
    import scipy.sparse as sps
    X, y = _data(n=301, p=9, seed=4)
    X[:, 2] += 1e4
    X = X.astype(dtype)
    if sparse:
        X[np.abs(X) < 0.8] = 0
        X = sps.csc_matrix(X)
    sw = np.random.default_rng(5).uniform(0.2, 3, len(y)) if weighted else None
    d = Design(X, y, sw, True)
    tests = [np.sort(te) for _, te in KFold(4, shuffle=True, random_state=1).split(y)]
    tests[0] = tests[0][:-7]  # rows in no set are left out
    X0 = X.copy()
    parts = d.fold_gram_stats(tests, n_jobs=n_jobs)
    assert (X != X0).nnz == 0 if sparse else np.array_equal(X, X0)
    for te, part in zip(tests, parts):
        own = d.gram_stats(rows=te)
        scale = np.max(np.abs(own["G"]))
        assert part.keys() == own.keys()
        for k in own:
            assert_allclose(part[k], own[k], rtol=1e-11, atol=1e-11 * scale, err_msg=k)
        if not sparse:  # (a layout that pickles as it is: the same BLAS sums in a worker)
            assert part["G"].flags.f_contiguous


def test_fold_statistics_threads_equal_serial_bit_for_bit():
    X, y = _data(n=1000, p=12, seed=6, offset=3.0)
    d = Design(np.asfortranarray(X), y, None, True)
    tests = [te for _, te in KFold(5, shuffle=True, random_state=2).split(y)]
    one, two = d.fold_gram_stats(tests), d.fold_gram_stats(tests, n_jobs=2)
    for a, b in zip(one, two):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_group_cv_reads_the_folds_statistics_of_one_pass(monkeypatch, n_jobs):
    # GroupLassoPathCV in covariance mode: the held-out statistics come from one read of X
    # (no per-fold gram_stats call) and give the CV of the per-fold statistics
    from sklearn_normpen import GroupLassoPathCV
    X, y = _data(n=400, p=12, seed=8, offset=20.0)
    groups = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    kw = dict(groups=groups, alphas=15, cv=KFold(5, shuffle=True, random_state=0),
              tol=1e-10, n_jobs=n_jobs)
    calls = []
    real = Design.gram_stats

    def counting(self, rows=None, shift=None):
        calls.append(rows is not None)
        return real(self, rows=rows, shift=shift)

    monkeypatch.setattr(Design, "gram_stats", counting)
    one_pass = GroupLassoPathCV(**kw).fit(X, y)
    assert not any(calls)
    monkeypatch.setattr(Design, "cv_gram_stats",
                        lambda self, splits, n_jobs=None: (real(self), {}))
    per_fold = GroupLassoPathCV(**kw).fit(X, y)
    assert sum(calls) == 5
    assert_allclose(one_pass.mse_path_, per_fold.mse_path_, rtol=1e-8)
    assert_allclose(one_pass.coef_, per_fold.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("support", ["dense", "sparse", "empty"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_moment_mse_equals_the_rows_error(weighted, fit_intercept, support):
    from sklearn_normpen._design import moment_mse
    X, y = _data(n=200, p=6, seed=9, offset=40.0)
    X[:, 1] = 1e5 + 1e-2 * X[:, 1]  # an offset column: mean >> spread
    sw = np.random.default_rng(3).uniform(0.1, 4, len(y)) if weighted else None
    d = Design(np.asfortranarray(X), y, sw, fit_intercept)
    te = np.arange(0, 200, 3)
    st = d.fold_gram_stats([te])[0]
    rng = np.random.default_rng(4)
    W = rng.standard_normal((6, 5))
    W[1] *= 100
    if support == "sparse":  # a path's: rows zero at every point, a null-model column
        W[[0, 2, 3, 4, 5]] = 0
        W[:, 2] = 0
    elif support == "empty":
        W[:] = 0
    b = rng.standard_normal(5) + (y.mean() if fit_intercept else 0)
    mse, exact = moment_mse(st, W, b, d.x_mean, d.y_mean)
    r = y[te, None] - X[te] @ W - b
    s = np.ones(len(te)) if sw is None else sw[te]
    assert exact.all()
    assert_allclose(mse, (s[:, None] * r * r).sum(0) / s.sum(), rtol=1e-9)


@pytest.mark.parametrize("case", ["noisy", "weighted", "interpolating", "standardized"])
def test_cv_errors_from_moments_equal_the_predicted_ones(monkeypatch, case):
    # covariance-mode K-fold CV scores each path point from the held-out statistics; the
    # same errors as predicting the held-out rows, also where the fit nearly interpolates
    # (there the moments are not trusted and the rows are predicted)
    from sklearn_normpen import _design
    from sklearn_normpen.elastic_net import _EnetSpec
    X, y = _data(n=240, p=10, seed=11, offset=25.0)
    sw = None
    if case == "interpolating":
        y = X[:, :3] @ [1.0, -2.0, 0.5] + 3.0  # no noise: the errors reach ~0
    if case == "weighted":
        sw = np.random.default_rng(6).uniform(0.2, 3, len(y))
    kw = dict(l1_ratio=0.6, alphas=25, eps=1e-4, cv=KFold(4, shuffle=True, random_state=5),
              precompute=True, tol=1e-10, max_iter=100000,
              standardize=(case == "standardized"))
    used = []
    real = _design.moment_mse

    def spy(*args):
        mse, exact = real(*args)
        used.append(bool(exact.all()))
        return mse, exact

    monkeypatch.setattr(_design, "moment_mse", spy)
    fast = ElasticNetPathCV(**kw).fit(X, y, sample_weight=sw)
    assert len(used) == 4
    assert all(used) == (case != "interpolating")
    monkeypatch.setattr(_EnetSpec, "held_out_mse", lambda self, test, res: None)
    rows = ElasticNetPathCV(**kw).fit(X, y, sample_weight=sw)
    assert_allclose(fast.mse_path_, rows.mse_path_, rtol=1e-9, atol=1e-300)
    assert fast.alpha_ == rows.alpha_


@pytest.mark.parametrize("case", ["offset column", "huge scale", "tiny scale", "float32"])
def test_moment_scored_cv_adversarial(monkeypatch, case):
    # the moment-scored CV errors against predicting the rows, where digits are scarce: a
    # column whose mean is 1e9 times its spread, data near the ends of the float range
    from sklearn_normpen.elastic_net import _EnetSpec
    X, y = _data(n=300, p=8, seed=12, offset=3.0)
    scale, rtol = 1.0, 1e-7
    if case == "offset column":
        X[:, 0] = 1e6 + 1e-3 * X[:, 0]
    elif case == "huge scale":
        scale = 1e60  # (at 1e80 both |X| and |y|: the certificate overflows, and warns)
    elif case == "tiny scale":
        scale = 1e-80
    X, y = X * scale, y * scale
    if case == "float32":
        X, y, rtol = X.astype(np.float32), y.astype(np.float32), 1e-4
    kw = dict(l1_ratio=0.9, alphas=15, cv=KFold(5, shuffle=True, random_state=2),
              precompute=True, tol=1e-8, max_iter=100000)
    fast = ElasticNetPathCV(**kw).fit(X, y)
    monkeypatch.setattr(_EnetSpec, "held_out_mse", lambda self, test, res: None)
    rows = ElasticNetPathCV(**kw).fit(X, y)
    assert np.all(np.isfinite(fast.mse_path_)) and np.all(fast.mse_path_ > 0)
    if case == "offset column":
        # the reference itself: each row's prediction carries a few ulps of x_0·w_0
        # (1e6 · ~1e3), ~2e-7 relative to these errors per ulp (1.5e-7 seen against
        # 7e-8 before with means off by an ulp in two folds; now exactly rounded)
        rtol = (8 * np.finfo(float).eps * 1e6 * np.abs(fast.coef_).max()
                / np.sqrt(fast.mse_path_.min()))
    assert_allclose(fast.mse_path_, rows.mse_path_, rtol=rtol)
    assert fast.alpha_ == rows.alpha_
