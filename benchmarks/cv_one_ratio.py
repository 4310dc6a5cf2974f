"""Like-for-like CV timing for the issue-9 table: ``ElasticNetPathCV`` with ONE ``l1_ratio``
(5 fold paths + 1 full-data path in every version of the package), median of 3 after one
warm-up, one BLAS thread. Run it once per build, alternating:

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=/tmp/normpen_base python benchmarks/cv_one_ratio.py sparse
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/cv_one_ratio.py sparse

Cases: ``dense10000`` (10000×1000), ``dense250`` (250×5000), ``sparse`` (2000×5000,
density .002) — the data of the suite's CV5 rows.
"""
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import suite_enet as S  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_normpen import ElasticNetPathCV  # noqa: E402

CASES = {"dense10000": lambda: S._dense(10000, 1000, 50),
         "dense250": lambda: S._dense(250, 5000, 25),
         "sparse": lambda: S._sparse(2000, 5000, 0.002, 25)}


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "sparse"
    rho = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    threadpool_limits(1)
    X, y = CASES[which]()

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ElasticNetPathCV(l1_ratio=rho, alphas=100, cv=KFold(5), tol=1e-4, n_jobs=1,
                             standardize=False).fit(X, y)

    run()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    print(f"{which} l1_ratio={rho}: median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
