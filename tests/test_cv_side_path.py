"""With parallel folds the full-data path of a single penalty is solved beside them
(``cross_validate_paths(full=...)``): the fit must be the very one of ``n_jobs=1``, under
a thread and a process backend, for every estimator that takes that route."""
import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from numpy.testing import assert_array_equal

from sklearn_normpen import (ElasticNetPathCV, GroupLassoPathCV,
                             MultiTaskElasticNetPathCV, MultiTaskGroupLassoPathCV)


def _data(n=90, p=24, seed=0, responses=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0
    W = rng.standard_normal((p,) if responses is None else (p, responses))
    W[6:] = 0
    y = X @ W + rng.standard_normal(W.shape[1:] and (n, responses) or n)
    return X, y


CASES = {
    "enet gram": lambda: (ElasticNetPathCV(l1_ratio=0.7, alphas=12, cv=4,
                                           precompute=True), _data()),
    "enet residual": lambda: (ElasticNetPathCV(alphas=12, cv=4, precompute=False),
                              _data()),
    "enet sparse": lambda: (ElasticNetPathCV(alphas=12, cv=4),
                            (sp.csc_matrix(np.where(_data()[0] > 3.5, _data()[0], 0)),
                             _data()[1])),
    "group": lambda: (GroupLassoPathCV(groups=[list(range(k, k + 3)) for k in
                                               range(0, 24, 3)], alphas=12, cv=4), _data()),
    "multitask": lambda: (MultiTaskElasticNetPathCV(alphas=12, cv=4),
                          _data(responses=2)),
    "multitask group": lambda: (MultiTaskGroupLassoPathCV(
        groups=[list(range(k, k + 4)) for k in range(0, 24, 4)], alphas=12, cv=4),
        _data(responses=2)),
}


@pytest.mark.parametrize("backend", [None, "threading", "loky"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_parallel_folds_with_the_side_path_give_the_sequential_fit(case, backend):
    # (None: no backend configured, the package's own thread pool)
    est, (X, y) = CASES[case]()
    ref = est.set_params(n_jobs=1).fit(X, y)
    ref_path, ref_mse = ref.coef_path_.copy(), ref.mse_path_.copy()
    ref_coef, ref_icpt = np.copy(ref.coef_), np.copy(ref.intercept_)
    with parallel_config(**({} if backend is None else dict(backend=backend))):
        par = est.set_params(n_jobs=2).fit(X, y)
    assert_array_equal(par.coef_path_, ref_path)
    assert_array_equal(par.mse_path_, ref_mse)
    assert_array_equal(par.coef_, ref_coef)
    assert_array_equal(par.intercept_, ref_icpt)
    assert np.count_nonzero(ref_path) > 0  # (a path that moved off zero)


def test_side_path_is_returned_only_with_parallel_folds():
    from sklearn.model_selection import KFold
    from sklearn_normpen._cv import cross_validate_paths
    from sklearn_normpen.elastic_net import _EnetSpec, _full_problem
    X, y = _data()
    splits = list(KFold(3).split(X))
    design, mode, stats, pb, held = _full_problem(X, y, None, True, True, splits)
    spec = _EnetSpec(design, mode, [1.0], np.ones(X.shape[1]), True, False,
                     full_stats=stats, held_stats=held)
    pen = spec.penalties(pb)[0]
    grids = np.geomspace(1.0, 0.01, 8)[None, :]
    e1, _, side1 = cross_validate_paths(spec, X, y, None, grids, splits, tol=1e-8,
                                        max_iter=1000, n_jobs=1, full=(pb, pen))
    with parallel_config(backend="threading"):
        e2, _, side2 = cross_validate_paths(spec, X, y, None, grids, splits, tol=1e-8,
                                            max_iter=1000, n_jobs=2, full=(pb, pen))
    assert side1 is None and len(side2) == 1
    assert_array_equal(e1, e2)
    assert side2[0].coefs.shape == (X.shape[1], 8)


def test_folds_run_on_the_package_pool_only_without_a_configured_backend(monkeypatch):
    # joblib's threading backend (none configured, or chosen) -> the package's pool, with
    # the caller's scikit-learn config in each fold; any other backend -> joblib
    import threading

    from sklearn import config_context

    from sklearn_normpen import _cv
    seen = []
    fold_paths = _cv._fold_paths

    def spy(*args, **kwargs):
        from sklearn import get_config
        seen.append((threading.current_thread().name, get_config()["assume_finite"]))
        return fold_paths(*args, **kwargs)

    monkeypatch.setattr(_cv, "_fold_paths", spy)
    est, (X, y) = CASES["group"]()
    for config, pool in [({}, True), (dict(backend="threading"), True),
                         (dict(backend="sequential"), False)]:
        seen.clear()
        with parallel_config(**config), config_context(assume_finite=True):
            est.set_params(n_jobs=2).fit(X, y)
        assert len(seen) == 4
        assert all(name.startswith("normpen") == pool for name, _ in seen), config
        assert all(finite for _, finite in seen)
