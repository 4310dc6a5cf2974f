"""The CV curve of ``ElasticNetPathCV`` against ``cv.glmnet``'s on the wide CV5 lasso case
(500x20000, the suite's data, folds and grid), at several tolerances of each.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/cv_curve_vs_glmnet.py

Prints each curve's minimiser and its largest relative difference from cv.glmnet's at
thresh=1e-16 (needs Rscript with glmnet; see benchmarks/README.md).
"""
import warnings

import numpy as np
from sklearn.model_selection import PredefinedSplit

import peers
import suite_enet as se
from sklearn_normpen import ElasticNetPathCV


def main():
    X, y = se._dense(500, 20000, 50)
    d = se._make_cv_lasso(lambda: (X, y))()
    curves = {}
    for tol in (1e-4, 1e-8, 1e-12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ElasticNetPathCV(l1_ratio=1.0, alphas=d["alphas"], tol=tol,
                                   cv=PredefinedSplit(d["fold"]), standardize=False).fit(X, y)
        curves[f"ours tol={tol:g}"] = est.mse_path_.mean(axis=-1).ravel()
    for thresh in (1e-11, 1e-16):
        res = peers.glmnet_run(X, y, d["alphas"], 1.0, thresh, repeat=0, intercept=True,
                               foldid=d["fold"] + 1)
        curves[f"cv.glmnet thresh={thresh:g}"] = res["cvm"]
    ref = curves["cv.glmnet thresh=1e-16"]
    print("| runner | argmin | alpha_min | min CV MSE | max rel. diff. from cv.glmnet 1e-16 |")
    print("|---|---:|---:|---:|---:|")
    for name, m in curves.items():
        i = int(np.argmin(m))
        rel = np.abs(m - ref) / ref
        print(f"| {name} | {i} | {d['alphas'][i]:.3g} | {m[i]:.6g} | {rel.max():.2g} "
              f"(at point {int(np.argmax(rel))}) |")


if __name__ == "__main__":
    main()
