"""adelie and R glmnet as benchmark peers, with their objectives matched to ours.

Ours (scikit-learn's elastic net, no intercept)::

    1/(2n) ||y - Xw||² + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||²)

adelie ``grpnet`` with the Gaussian GLM (default weights 1/n) minimises
``Σ_i w_i (-y_i η_i + η_i²/2) + λ Σ_g ω_g (α ||β_g|| + (1-α)/2 ||β_g||²)``, which is ours plus
the constant ``-||y||²/(2n)`` with ``λ = alpha``, ``α = l1_ratio``, singleton groups and
``ω = 1``; for the group lasso (``l1_ratio = 0`` in our group objective) groups of 5 with
adelie's default ``ω_g = sqrt(|g|)`` and ``α = 1`` are ours exactly. Its covariance method
(``gaussian_cov``) minimises ``½βᵀAβ - vᵀβ + penalty`` with ``A = XᵀX/n``, ``v = Xᵀy/n``:
ours again up to a constant. adelie has no ℓ1 + group-ℓ2 (sparse-group) penalty.

R glmnet (``family="gaussian"``, ``standardize=FALSE``) divides y by ``s_y`` (its standard
deviation with 1/n when ``intercept=TRUE``; its root mean square when ``intercept=FALSE``) and
the supplied lambda by ``s_y`` before solving, then scales the coefficients back. Its
``(λ, α)`` therefore solve ``1/(2n)||y - Xβ||² + λα||β||_1 + λ(1-α)/(2 s_y)||β||²``: ours
with ``λ = alpha (l1_ratio + (1 - l1_ratio) s_y)`` and
``α = l1_ratio / (l1_ratio + (1 - l1_ratio) s_y)`` (the lasso needs no conversion). With all
penalty factors 1 glmnet's rescaling of ``penalty.factor`` to sum to ``nvars`` is the
identity. The match is not assumed: every runner's coefficients are scored by the same gap
function (``suite_enet._relgap``).
"""
import functools
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).parent
R_SCRIPT = HERE / "glmnet_runner.R"


# -- R glmnet ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def glmnet_status():
    """(available, why, version) of R + glmnet on this machine."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False, "Rscript not found (apt-get install r-base-core r-cran-glmnet)", None
    try:
        out = subprocess.run(
            [rscript, "-e", "suppressMessages(library(glmnet));"
             "cat(as.character(packageVersion('glmnet')))"],
            capture_output=True, text=True, timeout=120)
    except Exception as exc:  # noqa: BLE001
        return False, f"Rscript failed ({exc!r})", None
    if out.returncode != 0:
        return False, "R package glmnet not installed (apt-get install r-cran-glmnet)", None
    return True, "", out.stdout.strip()


def glmnet_scale(y, intercept):
    """glmnet's Gaussian response scale ``s_y`` (1/n standard deviation, or RMS without
    an intercept)."""
    y = np.asarray(y, dtype=np.float64)
    if intercept:
        y = y - y.mean()
    return float(np.sqrt(np.mean(y * y)))


def glmnet_params(alphas, l1_ratio, y, intercept=False):
    """glmnet's ``(lambda, alpha)`` solving our elastic net at ``alphas`` and ``l1_ratio``."""
    alphas = np.asarray(alphas, dtype=np.float64)
    rho = float(l1_ratio)
    if rho == 1.0:
        return alphas.copy(), 1.0
    s = glmnet_scale(y, intercept)
    denom = rho + (1.0 - rho) * s
    return alphas * denom, rho / denom


def glmnet_run(X, y, lambdas, alpha, thresh, *, repeat=1, intercept=False, foldid=None,
               type_gaussian="naive"):
    """Run glmnet (or cv.glmnet when ``foldid`` is given) in R on data passed as binary files.

    Returns a dict: ``times`` (seconds of each timed call, measured inside R),
    ``beta`` (p x L path coefficients; for CV, of the full-data fit) and for CV ``cvm``.
    """
    ok, why, _ = glmnet_status()
    if not ok:
        raise RuntimeError(why)
    n, p = X.shape
    lambdas = np.asarray(lambdas, dtype="<f8")
    with tempfile.TemporaryDirectory(prefix="glmnet_bench_") as tmp:
        d = Path(tmp)
        spec = dict(n=n, p=p, nlambda=lambdas.size, alpha=repr(float(alpha)),
                    thresh=repr(float(thresh)), intercept=int(bool(intercept)),
                    mode="cv" if foldid is not None else "path", type=type_gaussian,
                    sparse=int(sp.issparse(X)))
        spec["repeat"] = int(repeat)
        if sp.issparse(X):
            Xc = sp.csc_matrix(X)
            Xc.sort_indices()
            Xc.indices.astype("<i4").tofile(d / "X_i.bin")
            Xc.indptr.astype("<i4").tofile(d / "X_p.bin")
            Xc.data.astype("<f8").tofile(d / "X_x.bin")
            spec["nnz"] = Xc.nnz
        else:
            # column-major, as R stores a matrix
            np.asarray(X, dtype="<f8").T.tofile(d / "X.bin")
        np.asarray(y, dtype="<f8").tofile(d / "y.bin")
        lambdas.tofile(d / "lambda.bin")
        if foldid is not None:
            np.asarray(foldid, dtype="<i4").tofile(d / "foldid.bin")
        (d / "spec.txt").write_text("".join(f"{k} {v}\n" for k, v in spec.items()))
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        out = subprocess.run(["Rscript", str(R_SCRIPT), str(d)], capture_output=True,
                             text=True, env=env)
        if out.returncode != 0:
            raise RuntimeError(f"glmnet_runner.R failed: {out.stderr.strip()[-300:]}")
        times = [float(t) for t in (d / "times.txt").read_text().split()]
        ncol = int((d / "ncol.txt").read_text())
        beta = np.fromfile(d / "beta.bin", dtype="<f8").reshape(ncol, p).T
        hwm = [float(v) if v != "NA" else np.nan for v in (d / "hwm.txt").read_text().split()]
        # R's peak RSS above its level with the data loaded (MiB; NaN without /proc)
        res = dict(times=times, beta=beta, extra_mb=(hwm[1] - hwm[0]) / 1024)
        if foldid is not None:
            res["cvm"] = np.fromfile(d / "cvm.bin", dtype="<f8")
    if ncol != lambdas.size:
        raise RuntimeError(f"glmnet returned {ncol} of {lambdas.size} path points")
    return res


# -- adelie ---------------------------------------------------------------------------------
def adelie_status():
    # adelie's import sets OMP_PROC_BIND=TRUE and its OpenMP runtime then binds the calling
    # thread, i.e. the whole process, to one core: every multi-threaded runner timed after
    # it (our n_jobs=2, scikit-learn's) would share that core. The affinity is restored,
    # and so is the environment: a child process (ab.py's timed workers, bench_scaling's)
    # that inherited OMP_PROC_BIND=TRUE was bound to one core as soon as its first OpenMP
    # library loaded (scikit-learn's), so its n_jobs=2 ran on one core.
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    env = dict(os.environ)
    try:
        import adelie
        return True, "", adelie.__version__
    except Exception as exc:  # noqa: BLE001
        return False, f"adelie not installed ({type(exc).__name__}); pip install adelie", None
    finally:
        if cores is not None and os.sched_getaffinity(0) != cores:
            os.sched_setaffinity(0, cores)
        for key in set(os.environ) - set(env):  # (read by its OpenMP runtime at load only)
            del os.environ[key]


def _adelie_matrix(X, n_threads=1):
    import adelie as ad
    if sp.issparse(X):
        return ad.matrix.sparse(sp.csc_matrix(X), method="naive", n_threads=n_threads)
    return ad.matrix.dense(np.asfortranarray(X), method="naive", n_threads=n_threads)


def _betas(state, n_points):
    B = state.betas
    if B.shape[0] != n_points:
        raise RuntimeError(f"adelie returned {B.shape[0]} of {n_points} path points")
    return np.asarray(B.toarray()).T


def adelie_path(X, y, alphas, l1_ratio=1.0, tol=1e-7, groups=None, n_threads=1):
    """adelie ``grpnet`` path at our ``alphas`` (no intercept): p x L coefficients.

    ``groups=None``: singleton groups with penalty factor 1 (our elastic net, ``λ = alpha``,
    ``α = l1_ratio``). ``groups`` = group start indices: group lasso with adelie's default
    ``sqrt(|g|)`` weights (our group objective at ``l1_ratio = 0``; ``l1_ratio`` ignored).
    """
    import adelie as ad
    p = X.shape[1]
    kw = dict(alpha=float(l1_ratio), penalty=np.ones(p)) if groups is None else \
        dict(groups=np.asarray(groups, dtype=int), alpha=1.0)
    state = ad.grpnet(_adelie_matrix(X, n_threads), ad.glm.gaussian(np.asarray(y, float)),
                      lmda_path=np.asarray(alphas, float), tol=tol, early_exit=False,
                      intercept=False, progress_bar=False, n_threads=n_threads, **kw)
    return _betas(state, len(alphas))


def adelie_cov_path(X, y, alphas, l1_ratio=1.0, tol=1e-7):
    """adelie's covariance method (dense X): forms ``XᵀX/n`` and ``Xᵀy/n`` inside the call."""
    import adelie as ad
    n, p = X.shape
    A = np.asarray(X.T @ X) / n
    v = np.asarray(X.T @ y) / n
    with warnings.catch_warnings():  # A is symmetric: its memory order is irrelevant
        warnings.simplefilter("ignore")
        state = ad.solver.gaussian_cov(A, v, alpha=float(l1_ratio), penalty=np.ones(p),
                                       lmda_path=np.asarray(alphas, float), tol=tol,
                                       early_exit=False, progress_bar=False)
    return _betas(state, len(alphas))


def adelie_folds(n, n_folds=5, seed=0):
    """The 0-based fold of every row as ``adelie.cv_grpnet(..., seed=seed)`` assigns them
    (its seeded permutation cut into contiguous blocks), so every runner can use its folds."""
    rs = np.random.get_state()
    try:
        np.random.seed(seed)
        order = np.random.choice(n, n, replace=False)
    finally:
        np.random.set_state(rs)
    fold = np.empty(n, dtype=np.int64)
    size, rem = divmod(n, n_folds)
    for k in range(n_folds):
        begin = (size + 1) * min(k, rem) + max(k - rem, 0) * size
        fold[order[begin:begin + size + (k < rem)]] = k
    return fold


def adelie_cv(X, y, tol=1e-7, n_folds=5, seed=0, min_ratio=1e-3, n_alphas=100,
              n_threads=1, groups=None, intercept=True):
    """adelie ``cv_grpnet``: the lasso with intercept (``groups=None``), or the group lasso
    (``groups`` = group start indices, adelie's default ``sqrt(|g|)`` weights); returns
    (lambda grid, mean CV loss). adelie builds its own grid from the full data's
    ``lmda_max`` (computed by its ``grpnet`` defaults: singleton groups, intercept)."""
    import adelie as ad
    p = X.shape[1]
    kw = (dict(penalty=np.ones(p)) if groups is None
          else dict(groups=np.asarray(groups, dtype=int)))
    res = ad.cv_grpnet(_adelie_matrix(X, n_threads), ad.glm.gaussian(np.asarray(y, float)),
                       n_threads=n_threads, min_ratio=min_ratio, lmda_path_size=n_alphas,
                       n_folds=n_folds, seed=seed, alpha=1.0, tol=tol, intercept=intercept,
                       progress_bar=False, **kw)
    return np.asarray(res.lmdas), np.asarray(res.avg_losses)
