"""
==========================================================
Elastic net with λ_1se on a dask array larger than memory
==========================================================

:class:`sklearn_normpen.ElasticNetPathCV` accepts a dask array (or dask DataFrame) and
fits from sufficient statistics computed where the chunks live: one chunk-local pass
gathers, for every cross-validation fold, the float64 moments ``XᵀSX``, ``XᵀSy``,
``Xᵀs``, ``yᵀSy`` and ``Σs`` of its rows; each training fold is "all rows minus the
fold", and the whole path and the CV then run on p × p arrays on the client. Nothing of
``X`` is ever gathered on one machine, and the result equals the in-memory fit on the same
rows and fold labels (to rounding).

Here a :class:`distributed.LocalCluster` with two worker processes stands in for a real
cluster, and the data are generated chunk by chunk on the workers (a real job would read
them, e.g. with ``dask.array.from_zarr`` or ``dask.dataframe.read_parquet``).
"""

# %%
# A cluster and a dask array built chunk by chunk
# -----------------------------------------------
import logging
import time

import numpy as np

N_ROWS, N_FEATURES, CHUNK = 400_000, 60, 50_000
TRUE_COEF = np.zeros(N_FEATURES)
TRUE_COEF[:8] = [3.0, -2.0, 1.5, 1.0, -1.0, 0.5, 0.25, -0.25]


def make_chunk(i):
    """Rows ``i·CHUNK …`` of the data set: generated on a worker, never all at once."""
    rng = np.random.default_rng([2024, i])
    X = rng.standard_normal((CHUNK, N_FEATURES))
    X[:, 1] += 0.8 * X[:, 0]          # some correlated features
    y = X @ TRUE_COEF + 2.0 * rng.standard_normal(CHUNK)
    return X, y


def main():
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from sklearn_normpen import ElasticNetPathCV

    # silence_logs=CRITICAL: at shutdown a worker's heartbeat can race the scheduler's close
    # and distributed logs that harmless race as an ERROR with a traceback; failures of the
    # computation itself still raise in this process.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit="1GiB", dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster):
        parts = [dask.delayed(make_chunk)(i) for i in range(N_ROWS // CHUNK)]
        X = da.concatenate([da.from_delayed(p[0], (CHUNK, N_FEATURES), dtype=float)
                            for p in parts])
        y = da.concatenate([da.from_delayed(p[1], (CHUNK,), dtype=float) for p in parts])
        X, y = X.persist(), y.persist()  # kept on the workers, in chunks
        print(f"X: {X.shape}, {X.nbytes / 2**20:.0f} MiB in {X.numblocks[0]} row chunks")

        # %%
        # The reference cost: one pass computing XᵀX with dask.array
        t0 = time.perf_counter()
        (X.T @ X).compute()
        t_gram = time.perf_counter() - t0
        print(f"one pass XᵀX with dask.array: {t_gram:.2f} s")

        # %%
        # The cross-validated path, λ_1se
        # --------------------------------
        t0 = time.perf_counter()
        est = ElasticNetPathCV(l1_ratio=1.0, cv=5, random_state=0, alphas=100,
                               rule="1se").fit(X, y)
        t_fit = time.perf_counter() - t0
        print(f"ElasticNetPathCV (5 folds, 100 alphas): {t_fit:.2f} s "
              f"({t_fit / t_gram:.2f} × the XᵀX pass)")
        print(f"alpha_min_ = {est.alpha_min_:.4g}, alpha_1se_ = {est.alpha_1se_:.4g}")
        print(f"non-zero coefficients at alpha_1se_: {np.count_nonzero(est.coef_)}")
        print(f"largest certified relative duality gap on the path: "
              f"{est.dual_gap_path_.max() / (0.5 * np.var(y).compute()):.1e}")
        print("estimated coefficients of the 8 true features:",
              np.round(est.coef_[:8], 2))

        # %%
        # Predictions are lazy dask arrays, chunked as X's rows.
        pred = est.predict(X)
        print(f"held-in R²: {1 - ((y - pred) ** 2).mean().compute() / y.var().compute():.3f}")


if __name__ == "__main__":  # worker processes re-import this file: run only once
    main()
