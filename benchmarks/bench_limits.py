"""Cost of box limits where they are inactive (issue 12: "limits add at most 10% to a path
where they are inactive"), and of the accessors.

    PYTHONPATH=src python benchmarks/bench_limits.py            # this checkout
    PYTHONPATH=/path/to/other/src python benchmarks/bench_limits.py --no-limits   # baseline

Prints the best-of-5 wall time of a 100-point lasso / elastic-net path in each solver mode,
without limits and with limits far outside the path (±1e6: never active); then the same for
the (sparse-)group lasso path (``--group`` runs only those; groups of 5 features).
"""
import argparse
import time

import numpy as np
import scipy.sparse as sp

from sklearn_normpen import enet_path, group_lasso_path


def _data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:20] = rng.standard_normal(20) * 3
    return X, X @ w + rng.standard_normal(n)


def best(fn, reps=5):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-limits", action="store_true", help="only the plain path")
    ap.add_argument("--group", action="store_true", help="only the group-lasso paths")
    args = ap.parse_args()
    X, y = _data(2000, 300)
    Xs = sp.random(2000, 1000, density=0.02, format="csc", random_state=0)
    ys = np.asarray(Xs[:, :20] @ np.ones(20)).ravel() + np.random.default_rng(1).standard_normal(2000)
    cases = [("gram", X, y, True), ("dense", X, y, False), ("sparse", Xs, ys, "auto")]
    if args.group:
        return group(args, X, y, Xs, ys)
    for rho in (1.0, 0.5):
        for name, A, b, pre in cases:
            kw = dict(l1_ratio=rho, fit_intercept=True, tol=1e-6, precompute=pre)
            t0 = best(lambda: enet_path(A, b, **kw))
            line = f"l1_ratio={rho} {name:6s} no limits {t0 * 1e3:8.1f} ms"
            if not args.no_limits:
                t1 = best(lambda: enet_path(A, b, lower_limits=-1e6, upper_limits=1e6, **kw))
                line += f"   inactive limits {t1 * 1e3:8.1f} ms ({100 * (t1 / t0 - 1):+.1f}%)"
            print(line, flush=True)

    group(args, X, y, Xs, ys)


def group(args, X, y, Xs, ys):
    """The group-lasso path: no limits against limits that never bind (every group then
    takes the box prox and the box conjugate: the worst case of the overhead)."""
    for rho in (0.0, 0.5):
        for name, A, b in (("dense", X, y), ("sparse", Xs, ys)):
            groups = [list(range(j, j + 5)) for j in range(0, A.shape[1], 5)]
            kw = dict(groups=groups, l1_ratio=rho, fit_intercept=True, tol=1e-6)
            t0 = best(lambda: group_lasso_path(A, b, **kw))
            line = f"group l1_ratio={rho} {name:6s} no limits {t0 * 1e3:8.1f} ms"
            if not args.no_limits:
                t1 = best(lambda: group_lasso_path(A, b, lower_limits=-1e6, upper_limits=1e6,
                                                   **kw))
                line += f"   inactive limits {t1 * 1e3:8.1f} ms ({100 * (t1 / t0 - 1):+.1f}%)"
            print(line, flush=True)


if __name__ == "__main__":
    main()
