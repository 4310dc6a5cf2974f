"""The GridSearchCV refit callables against direct computations of the 1-SE rule."""
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_regression
from sklearn.linear_model import Lasso, Ridge
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_normpen.model_selection import cv_results_statistics, min_refit, one_se_refit


def _direct_1se(split_scores, values, simpler="larger", weights=None, sd=False):
    """Textbook computation, independent of the package: returns the chosen index."""
    e = -np.asarray(split_scores, float)
    K = e.shape[1]
    w = np.ones(K) if weights is None else np.asarray(weights, float)
    m = e @ w / w.sum()
    var = ((e - m[:, None]) ** 2) @ w / w.sum()
    s = np.sqrt(var) if sd else np.sqrt(var / (K - 1))
    sign = 1 if simpler == "larger" else -1
    best = m.min()
    i_min = max((i for i in range(len(m)) if m[i] == best), key=lambda i: sign * values[i])
    within = [i for i in range(len(m)) if m[i] <= best + s[i_min]]
    top = max(sign * values[i] for i in within)
    cands = [i for i in within if sign * values[i] == top]
    return min(cands, key=lambda i: (m[i], i))


def _fake_results(split_scores, values, name="model__alpha"):
    split_scores = np.asarray(split_scores, float)
    res = {f"split{k}_test_score": split_scores[:, k] for k in range(split_scores.shape[1])}
    res["mean_test_score"] = split_scores.mean(axis=1)
    res[f"param_{name}"] = np.ma.MaskedArray(np.asarray(values, dtype=object),
                                            mask=np.zeros(len(values), bool))
    res["params"] = [{name: v} for v in values]
    return res


@pytest.mark.parametrize("model, grid", [
    (Ridge(), np.logspace(-2, 4, 13)),
    (Lasso(max_iter=5000), np.logspace(-2, 1.5, 12)),
])
def test_gridsearch_pipeline_picks_largest_alpha_within_one_se(model, grid):
    X, y = load_diabetes(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
    cv = KFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, {"model__alpha": grid}, cv=cv,
                          scoring="neg_mean_squared_error",
                          refit=one_se_refit("model__alpha"))
    search.fit(X, y)
    res = search.cv_results_
    scores = np.column_stack([res[f"split{k}_test_score"] for k in range(5)])
    alphas = np.asarray(res["param_model__alpha"], float)
    # direct: mean MSE, SE = std/sqrt(K-1), largest alpha with mean <= min + se(min)
    mse = -scores
    m, s = mse.mean(1), mse.std(1) / np.sqrt(4)
    i_min = int(np.argmin(m))
    expected = alphas[m <= m[i_min] + s[i_min]].max()
    assert search.best_params_["model__alpha"] == expected
    assert search.best_index_ == _direct_1se(scores, alphas)
    # the rule is not vacuous here: 1-SE picks a strictly larger alpha than the best
    assert expected > alphas[i_min]
    assert search.best_estimator_[-1].alpha == expected
    # min_refit reproduces scikit-learn's own choice
    search_min = GridSearchCV(pipe, {"model__alpha": grid}, cv=cv,
                              scoring="neg_mean_squared_error", refit=min_refit).fit(X, y)
    assert search_min.best_index_ == int(np.argmax(res["mean_test_score"]))
    assert search_min.best_params_["model__alpha"] == alphas[i_min]


def test_random_search_smaller_is_simpler_and_std_variant():
    X, y = make_regression(60, 8, noise=5.0, random_state=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = -rng.random((9, 4))
        values = rng.permutation(9) + 1.0
        res = _fake_results(scores, values)
        for simpler in ("larger", "smaller"):
            for sd in (False, True):
                f = one_se_refit("model__alpha", simpler=simpler, se="std" if sd else "glmnet")
                assert f(res) == _direct_1se(scores, values, simpler, sd=sd)
    # RandomizedSearchCV accepts the callable too
    search = RandomizedSearchCV(Ridge(), {"alpha": np.logspace(-3, 3, 30)}, n_iter=6,
                                random_state=0, cv=3, refit=one_se_refit("alpha"))
    search.fit(X, y)
    scores = np.column_stack([search.cv_results_[f"split{k}_test_score"] for k in range(3)])
    assert search.best_index_ == _direct_1se(scores, np.asarray(
        search.cv_results_["param_alpha"], float))


def test_std_variant_is_wider_than_glmnet_se():
    # K = 5: the std band is sqrt(4) = 2 times the SE band; build a case where it matters
    scores = -np.array([[1.0, 1.0, 1.0, 1.0, 1.0],    # alpha=0.1 best, mean 1.0
                        [0.8, 1.2, 1.4, 1.0, 1.2],    # alpha=1: mean 1.12
                        [1.5, 1.5, 1.5, 1.5, 1.5]])   # alpha=10
    scores[0] += np.array([-0.2, 0.2, -0.2, 0.2, 0.0])  # std 0.179, se 0.089
    res = _fake_results(scores, [0.1, 1.0, 10.0])
    assert one_se_refit("model__alpha")(res) == 0
    assert one_se_refit("model__alpha", se="std")(res) == 1


def test_fold_weights_change_the_choice():
    scores = -np.array([[1.0, 3.0], [2.1, 2.1]])
    res = _fake_results(scores, [0.1, 1.0])
    # equal weights: means 2.0 vs 2.1, se(0)=1/sqrt(1)=1 -> alpha=1 within
    assert one_se_refit("model__alpha")(res) == 1
    # weight fold 0 heavily: mean(0) = 1.18, se = sqrt(.9*.1*4)=0.6 -> 2.1 > 1.78
    f = one_se_refit("model__alpha", fold_weights=[9, 1])
    assert f(res) == _direct_1se(scores, [0.1, 1.0], weights=[9, 1]) == 0
    with pytest.raises(ValueError, match="one weight per split"):
        one_se_refit("model__alpha", fold_weights=[1, 1, 1])(res)
    with pytest.raises(ValueError, match="non-negative"):
        one_se_refit("model__alpha", fold_weights=[1, -1])


def test_ties_choose_the_simpler_candidate():
    # identical scores everywhere: both rules favour simplicity for 1-SE; min_refit keeps
    # scikit-learn's meaning (first of the tied best)
    scores = -np.ones((4, 3))
    values = [1.0, 100.0, 10.0, 0.1]
    res = _fake_results(scores, values)
    assert one_se_refit("model__alpha")(res) == 1
    assert one_se_refit("model__alpha", simpler="smaller")(res) == 3
    assert min_refit(res) == 0
    st = cv_results_statistics(res, "model__alpha")
    assert st["i_min"] == 1 and st["i_1se"] == 1
    # two candidates share each alpha (another parameter varies): the lower mean wins
    scores = -np.array([[0.8, 1.0], [1.0, 1.0], [0.98, 0.98], [0.95, 0.95]])
    values = [1.0, 1.0, 10.0, 10.0]
    res = _fake_results(scores, values)
    # min: candidate 0 (0.9, se 0.1); alpha 10 candidates both within 1.0: the lower mean
    assert one_se_refit("model__alpha")(res) == 3 == _direct_1se(scores, values)
    assert min_refit(res) == 0


def test_nan_scores_are_failed_candidates():
    scores = -np.array([[0.5, 0.5, 0.5],
                        [np.nan, 0.1, 0.1],   # failed on one split: never selected
                        [0.6, 0.6, 0.7],
                        [0.55, 0.55, 0.5]])
    values = [0.1, 1.0, 10.0, 100.0]
    res = _fake_results(scores, values)
    res["mean_test_score"] = np.array([-0.5, np.nan, -0.6333, -0.5333])
    assert min_refit(res) == 0
    st = cv_results_statistics(res, "model__alpha")
    assert np.isnan(st["mean"][1])
    assert st["i_min"] == 0
    # se(0) = 0 -> only candidates with mean <= 0.5: candidate 0
    assert one_se_refit("model__alpha")(res) == 0
    scores[0] = -np.array([0.4, 0.5, 0.6])  # se = 0.0816/1 * ... -> band up to 0.5+0.0816
    res = _fake_results(scores, values)
    assert one_se_refit("model__alpha")(res) == 3  # 0.5333 within, alpha=100
    all_nan = _fake_results(np.full((2, 3), np.nan), [1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        one_se_refit("model__alpha")(all_nan)
    with pytest.raises(ValueError, match="NaN"):
        min_refit(all_nan)


def test_failed_fits_in_a_real_search():
    X, y = make_regression(40, 5, noise=1.0, random_state=1)

    class Fragile(Ridge):
        def fit(self, X, y, sample_weight=None):
            if self.alpha > 50:
                raise ValueError("boom")
            return super().fit(X, y, sample_weight)

    with pytest.warns(Warning):
        search = GridSearchCV(Fragile(), {"alpha": [0.01, 1.0, 100.0, 1000.0]}, cv=3,
                              error_score=np.nan, refit=one_se_refit("alpha")).fit(X, y)
    assert search.best_params_["alpha"] in (0.01, 1.0)


def test_bad_parameters_give_clear_errors():
    res = _fake_results(-np.ones((2, 3)), ["a", "b"])
    with pytest.raises(TypeError, match="real numbers.*'a'"):
        one_se_refit("model__alpha")(res)
    res = _fake_results(-np.ones((2, 3)), [True, False])
    with pytest.raises(TypeError, match="real numbers"):
        one_se_refit("model__alpha")(res)
    res = _fake_results(-np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(ValueError, match="not a searched parameter.*model__alpha"):
        one_se_refit("alpha")(res)
    with pytest.raises(ValueError, match="score names: \\['score'\\]"):
        one_se_refit("model__alpha", score_name="r2")(res)
    res["param_model__alpha"].mask[1] = True
    with pytest.raises(ValueError, match="not set for every candidate"):
        one_se_refit("model__alpha")(res)
    with pytest.raises(ValueError, match="simpler"):
        one_se_refit("alpha", simpler="bigger")
    with pytest.raises(ValueError, match="se must be"):
        one_se_refit("alpha", se="sem")
    with pytest.raises(TypeError, match="param_name"):
        one_se_refit(["alpha"])
    with pytest.raises(ValueError, match="single-metric"):
        min_refit({"mean_test_r2": np.zeros(2)})


def test_multimetric_search_and_clone_pickle():
    X, y = make_regression(50, 6, noise=10.0, random_state=2)
    f = one_se_refit("alpha", score_name="mse")
    search = GridSearchCV(Ridge(), {"alpha": np.logspace(-2, 3, 8)}, cv=4,
                          scoring={"mse": "neg_mean_squared_error", "r2": "r2"}, refit=f)
    search.fit(X, y)
    scores = np.column_stack([search.cv_results_[f"split{k}_test_mse"] for k in range(4)])
    assert search.best_index_ == _direct_1se(scores, np.asarray(
        search.cv_results_["param_alpha"], float))
    g = pickle.loads(pickle.dumps(f))
    assert g(search.cv_results_) == search.best_index_
    assert repr(f) == "one_se_refit('alpha', simpler='larger', se='glmnet', score_name='mse')"
    cloned = clone(search)
    assert cloned.refit(search.cv_results_) == search.best_index_
    st = cv_results_statistics(search.cv_results_, "alpha", score_name="mse")
    assert_allclose(st["mean"], -search.cv_results_["mean_test_mse"])
