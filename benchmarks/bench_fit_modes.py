"""One ``ElasticNetRegressor`` fit (lasso, intercept, standardize=True) with
``precompute="auto"`` (residual first, the Gram on demand: ``_solvers/mode_switch.py``)
against ``precompute=True`` (covariance mode) and ``precompute=False`` (residual only),
on Gaussian designs with and without equicorrelated columns, at three alphas.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_fit_modes.py

Prints, per design and alpha, the median wall time of each (3 runs after a warm-up) and
``auto`` over the best of the other two and over covariance mode.
"""
import time
import warnings

import numpy as np

SHAPES = [(2000, 50), (2000, 200), (10000, 100), (10000, 300), (10000, 1000),
          (100000, 100), (50000, 400), (3000, 2000)]


def _median_time(f, k=3):
    f()
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    from sklearn_normpen import ElasticNetRegressor, enet_path
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    for n, p in SHAPES:
        for corr in (0.0, 0.9):
            Z = rng.standard_normal((n, p))
            X = (np.sqrt(1 - corr) * Z + np.sqrt(corr) * rng.standard_normal((n, 1))
                 if corr else Z)
            X = np.asfortranarray(X)
            k = max(p // 20, 3)
            w = np.zeros(p)
            w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
            y = X @ w + rng.standard_normal(n)
            amax = enet_path(X, y, l1_ratio=1.0, n_alphas=1, standardize=False,
                             fit_intercept=True)[0][0]
            row = []
            for frac in (1e-1, 1e-2, 1e-3):
                t = {pre: _median_time(lambda: ElasticNetRegressor(
                    alpha=amax * frac, l1_ratio=1.0, precompute=pre).fit(X, y))
                    for pre in (True, False, "auto")}
                row.append(f"{frac:g}: g {t[True]:.4f} r {t[False]:.4f} auto {t['auto']:.4f} "
                           f"(a/best {t['auto'] / min(t[True], t[False]):.2f}, "
                           f"a/g {t['auto'] / t[True]:.2f})")
            print(f"{n:6d} x {p:5d} corr {corr:.1f} | " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
