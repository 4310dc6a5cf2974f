"""dfmax / pmax on the path-CV estimators (issue 12 item 4), as ``cv.glmnet`` applies them:
the full-data path stops where glmnet stops, its alphas are every fold's grid, and a fold
whose own path stops earlier keeps its last fit for the remaining alphas (glmnet's
``buildPredmat``: ``predict(s=lambda)`` clamps to the fold's last lambda).

References: R glmnet 4.1-6 (``tests/fixtures/make_glmnet_limits_fixtures.R`` writes
``glmnet_cv_limits*.csv``), and the CV curve rebuilt here from per-fold ``enet_path`` /
``group_lasso_path`` calls and NumPy.
"""
import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import KFold, PredefinedSplit

from sklearn_normpen import (ElasticNetClassifierPathCV, ElasticNetPathCV,
                             ElasticNetPoissonRegressorPathCV, GroupLassoClassifierPathCV,
                             GroupLassoPathCV, enet_path, group_lasso_path)

FIX = Path(__file__).parent / "fixtures"
D = np.genfromtxt(FIX / "glmnet_limits_data.csv", delimiter=",", names=True)
X_R = np.column_stack([D[n] for n in D.dtype.names[:-1]])
Y_R = D["y"]
FOLDS = PredefinedSplit(np.arange(len(Y_R)) % 5)  # R: foldid <- rep(1:5, length.out = n)
with open(FIX / "glmnet_cv_limits.csv") as fh:
    ROWS = list(csv.DictReader(fh))
with open(FIX / "glmnet_cv_limits_grids.csv") as fh:
    GRIDS = list(csv.DictReader(fh))


def _case(k):
    rows = [r for r in ROWS if int(r["case"]) == k]
    head = rows[0]
    limits = {n: int(head[n]) for n in ("dfmax", "pmax") if head[n] != "NA"}
    cols = {n: np.array([float(r[n]) for r in rows]) for n in ("lambda", "cvm", "cvsd")}
    grid = np.array([float(r["lambda"]) for r in GRIDS if int(r["case"]) == k])
    return head, limits, cols, grid


def _fit_like_r(k):
    head, limits, cols, grid = _case(k)
    common = dict(l1_ratio=1.0, alphas=grid, cv=FOLDS, tol=1e-13, max_iter=100000, **limits)
    if head["family"] == "gaussian":
        return head, limits, cols, grid, ElasticNetPathCV(**common).fit(X_R, Y_R)
    yb = (Y_R > np.median(Y_R)).astype(float)
    return head, limits, cols, grid, ElasticNetClassifierPathCV(**common).fit(X_R, yb)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_pmax_cv_equals_cv_glmnet(k):
    # pmax with lambda = glmnet's full-data sequence: cv.glmnet's folds run on that very
    # sequence, so everything must agree (in several cases some folds stop before the
    # full-data path does: their last fit is carried on)
    head, limits, cols, grid, est = _fit_like_r(k)
    n_kept = len(cols["lambda"])
    assert n_kept < len(grid)  # the fixture's path was cut by pmax
    assert est.path_stop_reason_ == "pmax"
    assert_allclose(est.alphas_, cols["lambda"], rtol=1e-12)
    assert_allclose(est.cv_mean_, cols["cvm"], rtol=1e-6)
    assert_allclose(est.cv_se_, cols["cvsd"], rtol=1e-5)
    assert est.alpha_min_ == pytest.approx(float(head["lambda_min"]), rel=1e-12)
    assert est.alpha_1se_ == pytest.approx(float(head["lambda_1se"]), rel=1e-12)


def test_dfmax_cv_stops_where_cv_glmnet_stops():
    # glmnet 4.1-6 applies dfmax only to its own lambda sequence, so this case is
    # cv.glmnet's default: its folds run on their own sequences, interpolated at the
    # full-data lambdas, ours on the full-data grid. The full-data stop and the two choices
    # agree exactly; the CV curve to the interpolation (measured: 1.2 % on cvm, 3 % on cvsd)
    head, limits, cols, grid, est = _fit_like_r(4)
    assert limits == {"dfmax": 3}
    assert est.path_stop_reason_ == "dfmax"
    assert_allclose(est.alphas_, cols["lambda"], rtol=1e-12)
    assert est.alpha_min_ == pytest.approx(float(head["lambda_min"]), rel=1e-12)
    assert est.alpha_1se_ == pytest.approx(float(head["lambda_1se"]), rel=1e-12)
    assert_allclose(est.cv_mean_, cols["cvm"], rtol=0.02)
    assert_allclose(est.cv_se_, cols["cvsd"], rtol=0.05)


def _rebuilt_cv_mean(path_fn, X, y, splits, grid, **kw):
    """The CV mean written out: each fold's path with the limit (it may stop early), its
    last fit carried to the end of ``grid``, squared errors averaged by fold size."""
    errs, sizes = [], []
    for tr, te in splits:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            a, coefs, _ = path_fn(X[tr], y[tr], alphas=grid, fit_intercept=False, **kw)
        coefs = np.column_stack([coefs] + [coefs[:, -1:]] * (len(grid) - coefs.shape[1]))
        # the package centres internally: the intercept of each point, written out
        b = y[tr].mean() - X[tr].mean(axis=0) @ coefs
        pred = X[te] @ coefs + b
        errs.append(((y[te][:, None] - pred) ** 2).mean(axis=0))
        sizes.append(len(te))
    errs, sizes = np.array(errs), np.array(sizes, dtype=float)
    return sizes @ errs / sizes.sum(), errs


def test_dfmax_folds_stop_on_their_own_and_keep_their_last_fit():
    rng = np.random.default_rng(3)
    n, p = 60, 20
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2, p)
    y = X[:, :6] @ np.array([2, -1.5, 1, 1, -0.5, 0.5]) + rng.normal(size=n)
    splits = list(KFold(4, shuffle=True, random_state=0).split(X))
    est = ElasticNetPathCV(l1_ratio=1.0, alphas=40, cv=splits, dfmax=3, tol=1e-12,
                           max_iter=100000, standardize=False).fit(X, y)
    assert est.path_stop_reason_ == "dfmax"
    assert 5 <= len(est.alphas_) < 40
    # the full-data path stopped after the first point with more than 3 non-zeros
    nnz = (est.coef_path_ != 0).sum(axis=0)
    assert nnz[-1] > 3 and np.all(nnz[4:-1] <= 3)
    # centre the data as the fit does, so the reference's path (no intercept) is the same
    ref, errs = _rebuilt_cv_mean(
        lambda Xt, yt, **kw: enet_path(Xt - Xt.mean(0), yt - yt.mean(), **kw), X, y,
        splits, est.alphas_, l1_ratio=1.0, dfmax=3, tol=1e-12, max_iter=100000,
        standardize=False)
    assert_allclose(est.mse_path_, errs.T, rtol=1e-7)
    assert_allclose(est.cv_mean_, ref, rtol=1e-7)


def test_group_lasso_cv_counts_groups():
    rng = np.random.default_rng(5)
    n = 80
    groups = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 13, 14]]
    X = rng.normal(size=(n, 15))
    y = X[:, [0, 3, 5, 8]] @ np.array([1.5, -1.0, 1.0, 0.5]) + rng.normal(size=n)
    splits = list(KFold(4, shuffle=True, random_state=1).split(X))
    est = GroupLassoPathCV(groups=groups, alphas=50, cv=splits, dfmax=2, tol=1e-12,
                           max_iter=100000, standardize=False).fit(X, y)
    assert est.path_stop_reason_ == "dfmax"
    active = np.array([[np.any(est.coef_path_[g, k] != 0) for g in groups]
                       for k in range(len(est.alphas_))]).sum(axis=1)
    assert active[-1] > 2 and np.all(active[4:-1] <= 2)
    ref, errs = _rebuilt_cv_mean(
        lambda Xt, yt, **kw: group_lasso_path(Xt - Xt.mean(0), yt - yt.mean(),
                                              groups=groups, **kw),
        X, y, splits, est.alphas_, dfmax=2, tol=1e-12, max_iter=100000, standardize=False)
    assert_allclose(est.mse_path_, errs.T, rtol=1e-6)
    assert_allclose(est.cv_mean_, ref, rtol=1e-6)


def test_group_classifier_cv_counts_groups():
    rng = np.random.default_rng(4)
    groups = [[0, 1], [2, 3], [4, 5], [6, 7]]
    X = rng.normal(size=(150, 8))
    y = (X[:, 0] - X[:, 2] + 0.8 * X[:, 4] + 0.5 * rng.normal(size=150) > 0).astype(int)
    full = GroupLassoClassifierPathCV(standardize=False, groups=groups, alphas=30, cv=3).fit(X, y)
    est = GroupLassoClassifierPathCV(standardize=False,
                                     groups=groups, alphas=30, cv=3, pmax=2).fit(X, y)
    assert est.path_stop_reason_ == "pmax"
    K = len(est.alphas_)
    # the kept points are the unlimited path's, and the next one has a third group
    assert_allclose(est.alphas_, full.alphas_[:K], rtol=1e-12)
    assert_allclose(est.coef_path_, full.coef_path_[:, :K], rtol=1e-8, atol=1e-10)
    ever = np.array([[np.any(full.coef_path_[g, :k + 1] != 0) for g in groups]
                     for k in range(len(full.alphas_))]).sum(axis=1)
    assert ever[K - 1] <= 2 < ever[K]


def test_without_limits_nothing_changes():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 8)), rng.normal(size=50)
    a = ElasticNetPathCV(alphas=20, cv=3).fit(X, y)
    b = ElasticNetPathCV(alphas=20, cv=3, dfmax=8, pmax=8).fit(X, y)  # never reached
    assert a.path_stop_reason_ is None and b.path_stop_reason_ is None
    assert_array_equal(a.alphas_, b.alphas_)
    assert_allclose(a.cv_mean_, b.cv_mean_, rtol=1e-12)


def test_poisson_and_multi_l1_ratio_cut_to_the_shortest():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 12))
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * X[:, 2]))
    est = ElasticNetPoissonRegressorPathCV(l1_ratio=[0.5, 1.0], alphas=30, cv=3, pmax=2,
                                           tol=1e-8).fit(X, y)
    assert est.path_stop_reason_ == "pmax"
    assert est.alphas_.shape[1] < 30
    ever = np.cumsum(est.coef_path_ != 0, axis=1) > 0
    assert ever.sum(axis=0).max() <= 2
    e = ElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=30, cv=3, pmax=3).fit(X, y)
    assert e.path_stop_reason_ == "pmax"
    assert e.alphas_.shape == (2, e.cv_mean_.shape[1]) and e.alphas_.shape[1] < 30
    # each kept point of every l1_ratio has at most pmax variables ever non-zero
    for c in e.coef_path_:
        assert (np.cumsum(c != 0, axis=1) > 0).sum(axis=0).max() <= 3


@pytest.mark.parametrize("Est", [ElasticNetPathCV, GroupLassoPathCV,
                                 ElasticNetClassifierPathCV, GroupLassoClassifierPathCV,
                                 ElasticNetPoissonRegressorPathCV])
@pytest.mark.parametrize("name, value", [("dfmax", 0), ("dfmax", -2), ("pmax", 0),
                                         ("pmax", 2.5), ("dfmax", "3")])
def test_bad_limits_name_the_parameter(Est, name, value):
    X = np.random.default_rng(0).normal(size=(30, 4))
    y = (X[:, 0] > 0).astype(float)
    with pytest.raises(ValueError, match=name):
        Est(**{name: value}).fit(X, y)


def test_pmax_below_the_unpenalised_count_is_a_clear_error():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), rng.normal(size=40)
    with pytest.raises(ValueError, match="pmax=1 stops the path before its first alpha"):
        ElasticNetPathCV(penalty_factor=[0, 0, 1, 1, 1], pmax=1, cv=3).fit(X, y)


# ElasticNetPathCV runs dfmax/pmax on dask input (tests/test_dask_options.py compares it
# with the in-memory fit); the group lasso still refuses them
@pytest.mark.parametrize("Est, kw", [(GroupLassoPathCV, {"groups": [[0, 1], [2, 3]]})])
def test_dask_input_with_limits_is_refused(Est, kw):
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.random.default_rng(0).normal(size=(40, 4)), chunks=20)
    y = da.from_array(np.random.default_rng(1).normal(size=40), chunks=20)
    with pytest.raises(ValueError, match="dfmax and pmax are not supported with dask"):
        Est(dfmax=2, **kw).fit(X, y)
