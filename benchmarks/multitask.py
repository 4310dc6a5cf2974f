"""Multi-response elastic-net path: sklearn_normpen vs scikit-learn's MultiTaskElasticNet
(warm-started over the same grid), same tol (each its own stopping rule; the accuracy of
both end points is reported by our independent gap).

    PYTHONPATH=src python benchmarks/multitask.py

Multi-response sparse-group lasso (``--group``): the compiled block-CD kernel against the
first NumPy block proximal-gradient solver (kept as tests/_mtgroup_numpy.py), in one run on
the same data; the 100×10×3 CV also against the multi-task elastic net's.

    PYTHONPATH=src python benchmarks/multitask.py --group
"""
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.linear_model import MultiTaskElasticNet

from sklearn_normpen import multitask_enet_path


def case(n, p, K, seed=0, n_alphas=50, tol=1e-4, repeat=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, K))
    B[:20] = rng.standard_normal((20, K))
    Y = X @ B + rng.standard_normal((n, K))
    ours, theirs = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        alphas, *_ = multitask_enet_path(X, Y, l1_ratio=0.9, n_alphas=n_alphas, tol=tol,
                                         fit_intercept=True, standardize=False)
        ours.append(time.perf_counter() - t)
        m = MultiTaskElasticNet(l1_ratio=0.9, warm_start=True, tol=tol, max_iter=10000)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for a in alphas:
                m.set_params(alpha=a).fit(X, Y)
        theirs.append(time.perf_counter() - t)
    o, s = np.median(ours), np.median(theirs)
    print(f"n={n:6d} p={p:6d} K={K:3d}: ours {o:7.3f}s  scikit-learn {s:7.3f}s  "
          f"speed-up {s / o:5.1f}x")


@contextmanager
def _numpy_solver():
    """The multi-task group estimators on the first NumPy solver (the "before")."""
    import sklearn_normpen.multitask_group as mod
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _mtgroup_numpy import NumpyMultiTaskGroupProblem
    old = mod.MultiTaskGroupProblem
    mod.MultiTaskGroupProblem = NumpyMultiTaskGroupProblem
    try:
        yield
    finally:
        mod.MultiTaskGroupProblem = old


def _timed(fn, repeat):
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def group_cv_case(l1_ratio, repeat=5):
    """MultiTaskGroupLassoPathCV (100 alphas, 5 folds, tol 1e-4) on 100×10×3, groups
    [0-2], [3-4], [5-7], [8-9]; MultiTaskElasticNetPathCV (same l1_ratio, floored at 0.01
    as its grid needs) on the same data."""
    from sklearn_normpen import MultiTaskElasticNetPathCV, MultiTaskGroupLassoPathCV
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 10))
    B = np.zeros((10, 3))
    B[[0, 1, 5]] = rng.standard_normal((3, 3))
    Y = X @ B + 0.4 * rng.standard_normal((100, 3))
    groups = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]]
    kw = dict(groups=groups, l1_ratio=l1_ratio)
    fit = lambda: MultiTaskGroupLassoPathCV(**kw).fit(X, Y)  # noqa: E731
    new, m_new = _timed(fit, repeat)
    with _numpy_solver():
        old, m_old = _timed(fit, repeat)
    enet, _ = _timed(lambda: MultiTaskElasticNetPathCV(l1_ratio=max(l1_ratio, 0.01))
                     .fit(X, Y), repeat)
    same = m_new.alpha_ == m_old.alpha_
    print(f"CV 100x10x3 l1_ratio={l1_ratio} (5 folds x 100 alphas): kernel {new:6.3f}s  "
          f"NumPy {old:6.3f}s ({old / new:4.1f}x)  multi-task enet CV {enet:6.3f}s  "
          f"same alpha_: {same}")


def group_path_case(n=2000, p=1000, size=5, K=4, n_alphas=100, tol=1e-4, repeat=1):
    """multitask_group_lasso_path on dense n×p in p/size groups, K responses, 10 active
    groups; one path (defaults: standardize, l1_ratio 0.5)."""
    from sklearn_normpen import multitask_group_lasso_path
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p))
    groups = [list(range(j, j + size)) for j in range(0, p, size)]
    B = np.zeros((p, K))
    B[: 10 * size] = rng.standard_normal((10 * size, K))
    Y = X @ B + rng.standard_normal((n, K))
    kw = dict(groups=groups, l1_ratio=0.5, n_alphas=n_alphas, tol=tol, fit_intercept=True,
              return_n_iter=True)
    new, (a, C, g, it) = _timed(lambda: multitask_group_lasso_path(X, Y, **kw), repeat)
    with _numpy_solver():
        old, (_, C0, g0, it0) = _timed(lambda: multitask_group_lasso_path(X, Y, **kw),
                                       repeat)
    null = 0.5 * np.sum((Y - Y.mean(0)) ** 2) / n
    print(f"path n={n} p={p} ({p // size} groups) K={K}, {n_alphas} alphas: kernel "
          f"{new:7.2f}s ({it.sum()} epochs, max gap/null {g.max() / null:.1e})  NumPy "
          f"{old:7.2f}s ({it0.sum()} epochs, max gap/null {g0.max() / null:.1e})  "
          f"({old / new:4.1f}x)  max|coef diff| {np.abs(C - C0).max():.1e}")


if __name__ == "__main__":
    if "--group" in sys.argv:
        for r in (0.0, 0.5):
            group_cv_case(r)
        group_path_case()
    else:
        case(1000, 500, 5)
        case(200, 2000, 10)
        case(5000, 200, 3)
