"""The shared CV statistics and λ_min/λ_1se rule against direct computations."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_normpen._cv import fold_weights, resolve_splits
from sklearn_normpen.datafits import Quadratic
from sklearn_normpen.selection import cv_statistics, select_min_1se, select_on_paths


def test_cv_statistics_matches_glmnet_formula():
    rng = np.random.default_rng(1)
    e = rng.random((6, 5))
    w = np.array([20.0, 20, 19, 19, 22])
    mean, se = cv_statistics(e, w)
    for a in range(6):
        m = np.sum(w * e[a]) / w.sum()
        s = np.sqrt(np.sum(w * (e[a] - m) ** 2) / w.sum() / (len(w) - 1))
        assert_allclose(mean[a], m)
        assert_allclose(se[a], s)
    # equal weights: the glmnet SE is the population std / sqrt(K-1)
    mean_eq, se_eq = cv_statistics(e)
    assert_allclose(se_eq, e.std(axis=1) / np.sqrt(4))
    _, sd = cv_statistics(e, se="std")
    assert_allclose(sd, e.std(axis=1))


def test_cv_statistics_skips_nan_folds():
    e = np.array([[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]])
    mean, se = cv_statistics(e)
    assert_allclose(mean[0], 1.5)
    assert_allclose(se[0], 0.5)  # std 0.5 / sqrt(2 - 1)
    assert np.isnan(mean[1]) and np.isnan(se[1])


def test_select_min_1se_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(200):
        n = 12
        alphas = np.sort(rng.random(n))[::-1]
        mean = np.round(rng.random(n), 1)  # rounding makes ties common
        se = rng.random(n) * 0.2
        i_min, i_1se = select_min_1se(mean, se, alphas)
        best = mean.min()
        assert alphas[i_min] == max(alphas[j] for j in range(n) if mean[j] == best)
        thr = best + se[i_min]
        assert alphas[i_1se] == max(alphas[j] for j in range(n) if mean[j] <= thr)
        assert alphas[i_1se] >= alphas[i_min]


def test_select_ignores_nan_and_rejects_all_nan():
    mean = np.array([np.nan, 0.5, 0.4, 0.45])
    se = np.array([0.0, 0.1, 0.06, 0.0])
    assert select_min_1se(mean, se, [4, 3, 2, 1]) == (2, 2)  # 0.5 > 0.4 + 0.06
    se[2] = 0.1
    assert select_min_1se(mean, se, [4, 3, 2, 1]) == (2, 1)  # 0.5 <= 0.4 + 0.1
    with pytest.raises(ValueError, match="NaN"):
        select_min_1se([np.nan, np.nan], [0, 0], [2, 1])


def test_fold_helpers():
    X = np.zeros((10, 2))
    splits = resolve_splits(5, X, np.zeros(10))
    assert_allclose(fold_weights(splits), [2] * 5)
    sw = np.arange(10.0)
    assert_allclose(fold_weights(splits, sw), [sw[te].sum() for _, te in splits])
    with pytest.raises(ValueError, match="at least 11 samples"):
        resolve_splits(11, X, np.zeros(10))
    y = np.array([1.0, 2.0, 3.0])
    P = np.array([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    assert_allclose(Quadratic.deviance(y, P), [1 / 3, 14 / 3])
    assert_allclose(Quadratic.deviance(y, P, np.array([1.0, 1.0, 2.0])), [2 / 4, (1 + 4 + 18) / 4])


def test_select_on_paths_picks_best_path_then_rule():
    rng = np.random.default_rng(3)
    e = rng.random((3, 8, 4))
    e[1] -= 0.5  # path 1 is clearly best
    alphas = np.geomspace(1, 1e-2, 8)
    w = np.array([3.0, 3, 2, 2])
    res = select_on_paths(e, w, alphas)
    mean, se = cv_statistics(e, w)
    assert res["best_path"] == 1
    i_min, i_1se = select_min_1se(mean[1], se[1], alphas)
    assert (res["i_min"], res["i_1se"]) == (i_min, i_1se)
    assert res["alpha_1se"] >= res["alpha_min"] == alphas[i_min]


@pytest.mark.parametrize("est_name, measure", [
    ("ElasticNetPathCV", None), ("ElasticNetClassifierPathCV", None),
    # (these measures had their own weighted mean, which divided 0 by 0)
    ("ElasticNetClassifierPathCV", "mse"), ("ElasticNetClassifierPathCV", "misclassification"),
    ("ElasticNetPoissonRegressorPathCV", "mae"), ("MultiTaskElasticNetPathCV", None)])
def test_fold_with_zero_held_out_weight_is_named_and_left_out(est_name, measure):
    """A fold whose held-out rows all have weight 0: a warning names it, its error is NaN
    (no RuntimeWarning from 0/0) and the selection is that of the other folds."""
    import warnings

    import sklearn_normpen as snp
    from sklearn.model_selection import KFold
    rng = np.random.default_rng(2)
    n, p = 45, 6
    X = rng.standard_normal((n, p))
    y = X[:, 0] + 0.3 * rng.standard_normal(n)
    if est_name == "ElasticNetClassifierPathCV":
        y = (y > 0).astype(int)
    elif est_name == "ElasticNetPoissonRegressorPathCV":
        y = rng.poisson(np.exp(0.5 * X[:, 0])).astype(float)
    elif est_name == "MultiTaskElasticNetPathCV":
        y = np.c_[y, X[:, 1] + 0.3 * rng.standard_normal(n)]
    sw = rng.uniform(0.5, 2.0, n)
    sw[:15] = 0.0  # KFold(3): the held-out rows of fold 0
    cv = KFold(3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        extra = {} if measure is None else {"measure": measure}
        est = getattr(snp, est_name)(cv=cv, alphas=20, **extra).fit(X, y, sample_weight=sw)
    msgs = [str(r.message) for r in rec]
    assert any("cv fold(s) [0] have zero total sample_weight" in m for m in msgs), msgs
    assert not [r for r in rec if issubclass(r.category, RuntimeWarning)]
    errors = np.asarray(est.mse_path_ if hasattr(est, "mse_path_") else est.cv_path_)
    errors = errors.reshape(-1, 3)
    assert np.all(np.isnan(errors[:, 0])) and np.all(np.isfinite(errors[:, 1:]))
    # the mean over the other folds, weighted by their held-out weight (cv.glmnet's)
    W = np.array([sw[te].sum() for _, te in cv.split(X)])[1:]
    mean = errors[:, 1:] @ W / W.sum()
    if hasattr(est, "cv_mean_"):
        assert_allclose(np.ravel(est.cv_mean_), mean, rtol=1e-12)
    assert est.alpha_min_ == np.ravel(est.alphas_)[int(np.argmin(mean))]
