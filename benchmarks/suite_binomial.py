"""Binomial family: our proximal-Newton path against scikit-learn's saga (warm-started over
the same grid) and R glmnet (when ``Rscript`` with glmnet is installed).

Objective ``1/n Σ [log(1 + e^{η}) - y η] + alpha (rho ||w||_1 + (1 - rho)/2 ||w||²)`` with
an intercept; scikit-learn gets ``C = 1/(n alpha)``, glmnet ``lambda = alpha``,
``alpha = rho``, ``standardize = FALSE``. **quality** = the largest duality gap over the
returned path, relative to the intercept-only loss, computed for every runner by the same
certificate (the package's binomial certificate, valid for any coefficients).

The multinomial case (K = 10 classes, ungrouped lasso, glmnet's ``family="multinomial"``)
is scored the same way by the package's multinomial certificate.
"""
import os
import shutil
import subprocess
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

from harness import Case, Runner

TITLE = "Binomial family: ElasticNetClassifier path (proximal Newton)"
DESCRIPTION = """
Path of 100 alphas from alpha_max to 1e-3 alpha_max (the same grid for every runner),
l1_ratio = 1 (lasso), intercept fitted. Ours: `tol=1e-4` (duality gap relative to the
intercept-only loss), through the engine (`GLMProblem` + `compute_path`; the public
estimators add only validation). scikit-learn: `LogisticRegression(solver="saga",
l1_ratio=1, C=1/(n alpha), warm_start=True, tol=1e-4)` looped over the grid. glmnet: one
`glmnet(family="binomial", lambda=grid, standardize=FALSE)` call timed inside R at its
default `thresh=1e-7`, and again with `thresh` tightened by 10x steps until its relgap is
at most ours (the matching run's time alone). skglm (`ProxNewton`, warm-started over the
grid) and celer (`LogisticRegression`, no intercept: its own case) run in
/work/venv-bench in a subprocess, timed inside after a JIT warm-up. Group case: groups of 5,
`c_g = sqrt(5)`, 100 alphas to 1e-2 alpha_max, skglm's `GroupProxNewton`. CV case:
`ElasticNetClassifierPathCV` against `LogisticRegressionCV(solver="saga")` on the same 5
folds, l1_ratios and grid (`Cs = 1/(n_train alpha)`). quality = largest relative gap over
the path by our certificate (the same function for every runner).

    cd benchmarks && python suite_binomial.py [--quick] [--case NAME] [--skip WORDS]
"""

RHO = 1.0


def _dense(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[:20] = 0.5 * rng.standard_normal(20)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y


def _sparse(n, p, density, seed=0):
    rng = np.random.default_rng(seed)
    X = _sparse_random(n, p, density, rng)
    w = np.zeros(p)
    w[rng.choice(p, 50, replace=False)] = 3 * rng.standard_normal(50)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y


def _sparse_random(n, p, density, rng):
    """CSC with ``round(density·n·p)`` standard-normal entries at uniformly random
    positions (duplicates merged), built column by column: ``sp.random`` allocates
    O(n·p) at 20000x50000 (~8 GB), this O(nnz)."""
    nnz = int(round(density * n * p))
    cols = np.sort(rng.integers(0, p, nnz))
    rows = rng.integers(0, n, nnz)
    X = sp.csc_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(n, p))
    X.sum_duplicates()
    X.sort_indices()
    return X


def _problem(X, y, fit_intercept=True):
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.prox_newton import GLMProblem, glm_mode
    return GLMProblem(Design(X, y, None, fit_intercept), glm_mode(X))


def _make(kind, n_alphas=100, eps=1e-3, intercept=True, **kw):
    def make():
        from sklearn_normpen.penalties import ElasticNetPenalty
        X, y = _dense(**kw) if kind == "dense" else _sparse(**kw)
        pb = _problem(X, y, intercept)
        pen = ElasticNetPenalty(RHO, np.ones(X.shape[1]))
        _, z = pb.null_fit(pen, 1e-10, 1000)
        grid = pen.alpha_max(z) * np.geomspace(1, eps, n_alphas)
        return dict(X=X, y=y, alphas=grid, intercept=intercept)
    return make


def ours(data):
    from sklearn_normpen._path import compute_path
    from sklearn_normpen.penalties import ElasticNetPenalty
    X, y = data["X"], data["y"]
    pb = _problem(X, y, data.get("intercept", True))
    res = compute_path(pb, ElasticNetPenalty(RHO, np.ones(X.shape[1])), data["alphas"],
                       tol=1e-4, max_iter=1000)
    return res.coefs, res.intercepts


# wall-clock budget of one saga path (seconds; NORMPEN_SAGA_BUDGET): past it the path
# stops after the current alpha, its quality is that of the points solved, the row says so
SAGA_BUDGET = float(os.environ.get("NORMPEN_SAGA_BUDGET", "inf"))


def _saga_kw():
    import sklearn
    kw = dict(solver="saga", l1_ratio=RHO, warm_start=True, tol=1e-4, max_iter=1000)
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8):
        kw["penalty"] = "elasticnet"
    return kw


def sklearn_saga(data):
    from sklearn.linear_model import LogisticRegression
    X, y = data["X"], data["y"]
    n = X.shape[0]
    clf = LogisticRegression(**_saga_kw())
    coefs, b = [], []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a in data["alphas"]:
            clf.set_params(C=1.0 / (n * a)).fit(X, y)
            coefs.append(clf.coef_.ravel().copy())
            b.append(float(clf.intercept_[0]))
            if time.perf_counter() - t0 > SAGA_BUDGET and len(coefs) < len(data["alphas"]):
                data["_note"] = (f"stopped by the {SAGA_BUDGET:g} s budget after "
                                 f"{len(coefs)} of {len(data['alphas'])} alphas (time and "
                                 "relgap of those points)")
                break
    return np.array(coefs).T, np.array(b)


_R = r"""
suppressMessages(library(glmnet)); suppressMessages(library(Matrix))
a <- commandArgs(TRUE); d <- a[1]
dims <- scan(file.path(d, "dims"), quiet = TRUE); n <- dims[1]; p <- dims[2]
y <- readBin(file.path(d, "y"), "double", n)
lam <- scan(file.path(d, "lambda"), quiet = TRUE)
if (file.exists(file.path(d, "X"))) {
  X <- matrix(readBin(file.path(d, "X"), "double", n * p), n, p)
} else {
  nz <- dims[3]
  X <- sparseMatrix(i = readBin(file.path(d, "i"), "integer", nz) + 1L,
                    p = readBin(file.path(d, "pp"), "integer", p + 1),
                    x = readBin(file.path(d, "x"), "double", nz), dims = c(n, p))
}
th <- scan(file.path(d, "thresh"), quiet = TRUE)
icpt <- scan(file.path(d, "intercept"), quiet = TRUE) > 0
fit <- glmnet(X, y, family = "binomial", alpha = 1, lambda = lam, standardize = FALSE,
              thresh = th, intercept = icpt, maxit = 1e7)
t <- system.time(fit <- glmnet(X, y, family = "binomial", alpha = 1, lambda = lam,
                               standardize = FALSE, thresh = th, intercept = icpt,
                               maxit = 1e7))[["elapsed"]]
cf <- as.matrix(coef(fit))
writeBin(as.double(t), file.path(d, "time"))
writeBin(as.double(cf), file.path(d, "coef"))
"""


def _glmnet_available():
    if shutil.which("Rscript") is None:
        return False, "R not installed"
    ok = subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True)
    return ok.returncode == 0, "R glmnet not installed"


def glmnet_r(data, thresh=1e-7):
    """Times glmnet inside R (data transfer excluded); returns the coefficients and puts
    R's own elapsed time in ``data["_glmnet_time"]``."""
    X, y, lam = data["X"], data["y"], data["alphas"]
    n, p = X.shape
    with tempfile.TemporaryDirectory() as d:
        if sp.issparse(X):
            Xc = sp.csc_matrix(X)
            np.savetxt(os.path.join(d, "dims"), [n, p, Xc.nnz], fmt="%d")
            Xc.indices.astype(np.int32).tofile(os.path.join(d, "i"))
            Xc.indptr.astype(np.int32).tofile(os.path.join(d, "pp"))
            Xc.data.astype(np.float64).tofile(os.path.join(d, "x"))
        else:
            np.savetxt(os.path.join(d, "dims"), [n, p], fmt="%d")
            np.asfortranarray(X, dtype=np.float64).ravel(order="F").tofile(
                os.path.join(d, "X"))
        y.astype(np.float64).tofile(os.path.join(d, "y"))
        np.savetxt(os.path.join(d, "lambda"), lam)
        np.savetxt(os.path.join(d, "thresh"), [thresh])
        np.savetxt(os.path.join(d, "intercept"), [int(data.get("intercept", True))])
        script = os.path.join(d, "run.R")
        with open(script, "w") as f:
            f.write(_R)
        subprocess.run(["Rscript", script, d], check=True, capture_output=True)
        t = float(np.fromfile(os.path.join(d, "time"))[0])
        cf = np.fromfile(os.path.join(d, "coef")).reshape(p + 1, -1, order="F")
    data["_glmnet_time"] = t
    return cf[1:], cf[0]



def glmnet_matched(data, threshes=(1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13)):
    """glmnet with ``thresh`` tightened (x0.1 from its default 1e-7) until its relgap, by
    our certificate, is at most ours (``data["_target"]``, set by the ``ours`` run): its
    time is the matching run's alone; the thresholds tried and their relgaps go in
    ``data["_note"]``."""
    return _tightened(glmnet_r, _quality, data, threshes)


def _tightened(run, quality, data, threshes):
    """``run(data, thresh)`` at each threshold in turn until ``quality`` (our relgap) is at
    most ours; the tries go in ``data["_note"]``; returns the matching run's output."""
    tried = []
    for th in threshes:
        out = run(data, th)
        q = quality(data, out)
        tried.append(f"{th:g}:{q:.1e}")
        if q <= data.get("_target", 1e-4):
            break
    data["_note"] = "thresh " + ", ".join(tried)
    return out


# -- peers in /work/venv-bench (their own numpy): one subprocess, timed inside -------------
BENCH_PY = os.environ.get("NORMPEN_BENCH_PY", "/work/venv-bench/bin/python")

_PEER = r"""
import sys, time, warnings
import numpy as np, scipy.sparse as sp
d = np.load(sys.argv[1], allow_pickle=False)
kind, tol = str(d["kind"]), float(d["tol"])
X = (sp.csc_matrix((d["data"], d["indices"], d["indptr"]), shape=tuple(d["shape"]))
     if "data" in d else np.asfortranarray(d["X"]))
y01, alphas, icpt = d["y"], d["alphas"], bool(d["intercept"])
ypm = 2 * y01 - 1
n, p = X.shape
coefs, b = [], []
warnings.simplefilter("ignore")
if kind == "celer":
    import celer
    clf = celer.LogisticRegression(C=1.0, tol=tol)
    clf.fit(X, y01)  # warm-up (numba-free, but first-call overheads)
    t0 = time.perf_counter()
    for a in alphas:
        clf.set_params(C=1.0 / (n * a)).fit(X, y01)
        coefs.append(clf.coef_.ravel().copy()); b.append(0.0)
else:
    from skglm import GeneralizedLinearEstimator
    if kind == "skglm":
        from skglm.datafits import Logistic
        from skglm.penalties import L1
        from skglm.solvers import ProxNewton
        make = lambda a: (Logistic(), L1(a))
        solver = ProxNewton(fit_intercept=icpt, tol=tol, warm_start=True, max_iter=1000)
    else:
        from skglm.datafits import LogisticGroup
        from skglm.penalties import WeightedGroupL2
        from skglm.solvers import GroupProxNewton
        gp, gi = d["grp_ptr"].astype(np.int32), d["grp_idx"].astype(np.int32)
        gw = d["grp_w"]
        make = lambda a: (LogisticGroup(gp, gi), WeightedGroupL2(a, gw, gp, gi))
        solver = GroupProxNewton(fit_intercept=icpt, tol=tol, warm_start=True,
                                 max_iter=1000)
    df, pen = make(alphas[0])
    GeneralizedLinearEstimator(df, pen, solver).fit(X[:50], ypm[:50])  # numba compile
    solver.warm_start = True
    df, pen = make(alphas[0])
    est = GeneralizedLinearEstimator(df, pen, solver)
    t0 = time.perf_counter()
    for a in alphas:
        est.penalty = make(a)[1]
        est.fit(X, ypm)
        coefs.append(np.ravel(est.coef_).copy())
        b.append(float(np.ravel(est.intercept_)[0]) if icpt else 0.0)
t = time.perf_counter() - t0
np.savez(sys.argv[2], coefs=np.array(coefs).T, b=np.array(b), t=t)
"""


def _peer(kind, tol, extra=None):
    def run(data):
        X = data["X"]
        with tempfile.TemporaryDirectory() as d:
            arrs = dict(kind=kind, tol=tol, y=data["y"], alphas=data["alphas"],
                        intercept=int(data.get("intercept", True)), **(extra or {}))
            for k in ("grp_ptr", "grp_idx", "grp_w"):
                if k in data:
                    arrs[k] = data[k]
            if sp.issparse(X):
                Xc = sp.csc_matrix(X)
                arrs.update(data=Xc.data, indices=Xc.indices, indptr=Xc.indptr,
                            shape=np.array(Xc.shape))
            else:
                arrs["X"] = np.asarray(X)
            np.savez(os.path.join(d, "in.npz"), **arrs)
            script = os.path.join(d, "peer.py")
            with open(script, "w") as f:
                f.write(_PEER)
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
            env.pop("PYTHONPATH", None)
            subprocess.run([BENCH_PY, script, os.path.join(d, "in.npz"),
                            os.path.join(d, "out.npz")], check=True, capture_output=True,
                           env=env)
            out = np.load(os.path.join(d, "out.npz"))
            data["_peer_time"] = float(out["t"])
            return out["coefs"], out["b"]
    run.__name__ = f"{kind}_{tol:g}"
    return run


def skglm_matched(kind, tols=(1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)):
    """skglm (``kind``: "skglm" or "skglm_group") with ``tol`` tightened x0.1 until its
    relgap, by our certificate, is at most ours: the matched-accuracy row (its time is
    the matching run's alone; the tries go in ``data["_note"]``)."""
    def run(data):
        out = _tightened(lambda d, tol: _peer(kind, tol)(d), _quality, data, tols)
        data["_note"] = data["_note"].replace("thresh", "tol")
        return out
    run.__name__ = f"{kind}_matched"
    return run


def _peers_available():
    if not os.path.exists(BENCH_PY):
        return False, f"{BENCH_PY} not found"
    ok = subprocess.run([BENCH_PY, "-c", "import skglm, celer"], capture_output=True)
    return ok.returncode == 0, "skglm/celer not importable in the bench env"


def _quality(data, out):
    from sklearn_normpen.penalties import ElasticNetPenalty
    coefs, b = out
    X, y = data["X"], data["y"]
    if "grp_ptr" in data:
        return _group_quality(data, out)
    pb = _problem(X, y, data.get("intercept", True))
    pen = ElasticNetPenalty(RHO, np.ones(X.shape[1]))
    worst = 0.0
    for k, a in enumerate(data["alphas"][: coefs.shape[1]]):
        w = pb.start(coefs[:, k])
        pb.b = float(b[k])
        pb.eta = pb._Xw(w) + pb.b
        worst = max(worst, pb.certificate(w, pen, a).gap / pb.null_deviance)
    return worst


# -- group binomial: groups of 5 consecutive features, c_g = sqrt(5), l1_ratio = 0 ------------
GROUP = 5


def _group_problem(X, y):
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.prox_newton import GLMProblem, GroupInner, glm_mode
    from sklearn_normpen.datafits import Logistic
    from sklearn_normpen.group_classification import _structure
    from sklearn_normpen import GroupLassoClassifier
    est = GroupLassoClassifier(groups=np.arange(X.shape[1]) // GROUP, l1_ratio=0.0)
    structure, weights, arrays = _structure(est, X)
    pb = GLMProblem(Design(X, y, None, True), glm_mode(X), Logistic,
                    GroupInner(structure, weights))
    from sklearn_normpen.penalties import SparseGroupLasso
    return pb, SparseGroupLasso(*arrays, 0.0)


def _make_group(n, p, n_alphas=100, eps=1e-2):
    def make():
        rng = np.random.default_rng(0)
        X = np.asfortranarray(rng.standard_normal((n, p)))
        w = np.zeros(p)
        w[:4 * GROUP] = 0.4 * rng.standard_normal(4 * GROUP)
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
        pb, pen = _group_problem(X, y)
        _, z = pb.null_fit(pen, 1e-10, 1000)
        grid = pen.alpha_max(z) * np.geomspace(1, eps, n_alphas)
        G = p // GROUP
        return dict(X=X, y=y, alphas=grid, grp_ptr=np.arange(0, p + 1, GROUP),
                    grp_idx=np.arange(p), grp_w=np.full(G, np.sqrt(GROUP)))
    return make


def ours_group(data):
    from sklearn_normpen._path import compute_path
    pb, pen = _group_problem(data["X"], data["y"])
    res = compute_path(pb, pen, data["alphas"], tol=1e-4, max_iter=1000)
    return res.coefs, res.intercepts


def _group_quality(data, out):
    coefs, b = out
    pb, pen = _group_problem(data["X"], data["y"])
    worst = 0.0
    for k, a in enumerate(data["alphas"][: coefs.shape[1]]):
        w = pb.start(coefs[:, k])
        pb.b = float(b[k])
        pb.eta = pb._Xw(w) + pb.b
        worst = max(worst, pb.certificate(w, pen, a).gap / pb.null_deviance)
    return worst


# ---------------------------------------------------------------------------------------
# Multinomial family (K = 10, ungrouped, l1_ratio = 1): ours, saga, R glmnet
# ---------------------------------------------------------------------------------------

K_CLASSES = 10


def _multi_dense(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    B = np.zeros((p, K_CLASSES))
    B[:20] = 0.5 * rng.standard_normal((20, K_CLASSES))
    eta = X @ B
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return X, np.minimum(y, K_CLASSES - 1)


def _multi_problem(X, y):
    from sklearn_normpen._solvers.multinomial import MultinomialProblem
    return MultinomialProblem(X, y, K_CLASSES, None, True, False)


def _multi_penalty(p):
    from sklearn_normpen.penalties import ClasswiseElasticNetPenalty
    return ClasswiseElasticNetPenalty(RHO, np.ones(p), n_classes=K_CLASSES)


def _make_multi(n, p, n_alphas=100, eps=1e-3):
    def make():
        X, y = _multi_dense(n, p)
        pb = _multi_problem(X, y)
        pen = _multi_penalty(p)
        _, z = pb.null_fit(pen, 1e-10, 1000)
        grid = pen.alpha_max(z) * np.geomspace(1, eps, n_alphas)
        return dict(X=X, y=y, alphas=grid)
    return make


def ours_multinomial(data):
    from sklearn_normpen._path import compute_path
    X, y = data["X"], data["y"]
    res = compute_path(_multi_problem(X, y), _multi_penalty(X.shape[1]), data["alphas"],
                       tol=1e-4, max_iter=1000)
    return res.coefs, res.intercepts  # (p, K, m), (K, m)


def sklearn_saga_multinomial(data):
    from sklearn.linear_model import LogisticRegression
    X, y = data["X"], data["y"]
    n = X.shape[0]
    clf = LogisticRegression(solver="saga", l1_ratio=RHO, warm_start=True, tol=1e-4,
                             max_iter=1000)
    coefs, b = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a in data["alphas"]:
            clf.set_params(C=1.0 / (n * a)).fit(X, y)
            coefs.append(clf.coef_.T.copy())
            b.append(clf.intercept_.copy())
    return np.stack(coefs, axis=-1), np.stack(b, axis=-1)


_R_MULTI = r"""
suppressMessages(library(glmnet))
a <- commandArgs(TRUE); d <- a[1]
dims <- scan(file.path(d, "dims"), quiet = TRUE); n <- dims[1]; p <- dims[2]
y <- factor(readBin(file.path(d, "y"), "double", n))
lam <- scan(file.path(d, "lambda"), quiet = TRUE)
X <- matrix(readBin(file.path(d, "X"), "double", n * p), n, p)
thresh <- scan(file.path(d, "thresh"), quiet = TRUE)
t <- system.time(fit <- glmnet(X, y, family = "multinomial", alpha = 1, lambda = lam,
                               standardize = FALSE, thresh = thresh,
                               maxit = 1e7))[["elapsed"]]
cf <- do.call(rbind, lapply(coef(fit), as.matrix))
writeBin(as.double(t), file.path(d, "time"))
writeBin(as.double(length(fit$lambda)), file.path(d, "m"))
writeBin(as.double(cf), file.path(d, "coef"))
"""


def glmnet_r_multinomial(data, thresh=1e-7):
    """glmnet's multinomial path timed inside R (its ``thresh``, default 1e-7; ``maxit``
    raised so that a tight thresh is not cut short); returns (p, K, m) and (K, m)."""
    X, y, lam = data["X"], data["y"], data["alphas"]
    n, p = X.shape
    with tempfile.TemporaryDirectory() as d:
        np.savetxt(os.path.join(d, "dims"), [n, p], fmt="%d")
        np.asfortranarray(X, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, "X"))
        y.astype(np.float64).tofile(os.path.join(d, "y"))
        np.savetxt(os.path.join(d, "lambda"), lam)
        np.savetxt(os.path.join(d, "thresh"), [thresh])
        script = os.path.join(d, "run.R")
        with open(script, "w") as f:
            f.write(_R_MULTI)
        subprocess.run(["Rscript", script, d], check=True, capture_output=True)
        t = float(np.fromfile(os.path.join(d, "time"))[0])
        m = int(np.fromfile(os.path.join(d, "m"))[0])
        cf = np.fromfile(os.path.join(d, "coef")).reshape(K_CLASSES * (p + 1), m,
                                                          order="F")
    data["_glmnet_time"] = t
    cf = cf.reshape(K_CLASSES, p + 1, m)
    return np.moveaxis(cf[:, 1:], 0, 1), cf[:, 0]


def glmnet_matched_multinomial(data, threshes=(1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12)):
    """As :func:`glmnet_matched`: glmnet's multinomial path with ``thresh`` tightened
    (x0.1) until its relgap by our certificate is at most ours; the matching run's time."""
    return _tightened(glmnet_r_multinomial, _quality_multi, data, threshes)


def _quality_multi(data, out):
    """Largest gap over the returned path by our multinomial certificate, relative to the
    intercept-only loss."""
    coefs, b = out
    X, y = data["X"], data["y"]
    pb = _multi_problem(X, y)
    pen = _multi_penalty(X.shape[1])
    worst = 0.0
    for k, a in enumerate(data["alphas"][: coefs.shape[-1]]):
        w = pb.start(coefs[..., k])
        pb.b = np.asarray(b[:, k], dtype=np.float64)
        pb.eta = pb._XW(w) + pb.b
        worst = max(worst, pb.certificate(w, pen, a).gap / pb.null_deviance)
    return worst


# -- 5-fold CV: ElasticNetClassifierPathCV against LogisticRegressionCV(saga) -------------
CV_RATIOS = [0.5, 1.0]


def _make_cv(n, p, n_alphas=30, eps=1e-2):
    def make():
        from sklearn.model_selection import StratifiedKFold
        data = _make("dense", n_alphas=n_alphas, eps=eps, n=n, p=p)()
        data["folds"] = list(StratifiedKFold(5, shuffle=True, random_state=0).split(
            data["X"], data["y"]))
        return data
    return make


def ours_cv(data):
    from sklearn_normpen import ElasticNetClassifierPathCV
    est = ElasticNetClassifierPathCV(l1_ratio=CV_RATIOS, alphas=data["alphas"],
                                     cv=data["folds"], standardize=False, tol=1e-4)
    est.fit(data["X"], data["y"])
    return est.coef_.ravel()[:, None], np.atleast_1d(est.intercept_)


def _saga_cv(data, l1_ratios):
    """``LogisticRegressionCV(saga)`` fitted on our folds and alpha grid (``C = 1/(n_train
    alpha)``), elastic net with ``l1_ratios``, scored by log loss."""
    from sklearn.linear_model import LogisticRegressionCV
    n_train = len(data["folds"][0][0])
    Cs = 1.0 / (n_train * data["alphas"])
    kw = dict(l1_ratios=l1_ratios, Cs=Cs, cv=data["folds"], solver="saga", tol=1e-4,
              max_iter=1000, scoring="neg_log_loss")
    import sklearn
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8):
        kw["penalty"] = "elasticnet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegressionCV(**kw).fit(data["X"], data["y"])


def sklearn_cv(data):
    clf = _saga_cv(data, CV_RATIOS)
    return clf.coef_.ravel()[:, None], np.atleast_1d(clf.intercept_)


def _make_cv_multi(n, p, n_alphas=30, eps=1e-2):
    def make():
        from sklearn.model_selection import StratifiedKFold
        data = _make_multi(n, p, n_alphas=n_alphas, eps=eps)()
        data["folds"] = list(StratifiedKFold(5, shuffle=True, random_state=0).split(
            data["X"], data["y"]))
        return data
    return make


def ours_cv_multi(data):
    from sklearn_normpen import ElasticNetClassifierPathCV
    est = ElasticNetClassifierPathCV(l1_ratio=RHO, alphas=data["alphas"], cv=data["folds"],
                                     standardize=False, tol=1e-4)
    est.fit(data["X"], data["y"])
    return est.coef_, est.intercept_


def sklearn_cv_multi(data):
    """LogisticRegressionCV(saga) on the same folds and grid (multinomial: its default
    for K >= 3 classes with saga), one l1_ratio as ours."""
    clf = _saga_cv(data, [RHO])
    return clf.coef_, clf.intercept_


MULTI_GROUP = 5  # the grouped multinomial cases: consecutive features in groups of 5


def _make_group_multi(n, p):
    def make():
        X, y = _multi_dense(n, p, seed=1)
        groups = [list(range(j, min(j + MULTI_GROUP, p))) for j in range(0, p, MULTI_GROUP)]
        return dict(X=X, y=y, groups=groups)
    return make


def ours_group_multinomial_cv(data):
    """GroupLassoClassifierPathCV on K classes, groups of 5, 3 folds, 30 alphas (no peer
    fits a multinomial with feature groups wider than one: glmnet's "grouped" is per
    feature, group-lasso/grpreg/skglm/adelie have no multinomial group lasso)."""
    from sklearn_normpen import GroupLassoClassifierPathCV
    est = GroupLassoClassifierPathCV(groups=data["groups"], alphas=30, cv=3).fit(
        data["X"], data["y"])
    return est.coef_, est.intercept_


def ours_group_multinomial_fit(data):
    """GroupLassoClassifier at alpha = 1e-3 (near the end of the default grid)."""
    from sklearn_normpen import GroupLassoClassifier
    est = GroupLassoClassifier(groups=data["groups"], alpha=1e-3).fit(data["X"], data["y"])
    return est.coef_, est.intercept_


def cases(quick=False):
    ok_r, why_r = _glmnet_available()
    ok_p, why_p = _peers_available()
    glmnet = lambda: Runner("R glmnet (time inside R)", glmnet_r, available=ok_r,
                            why_unavailable=why_r)
    matched = lambda: Runner("R glmnet, thresh tightened to our relgap", glmnet_matched,
                             available=ok_r, why_unavailable=why_r)
    skglm = lambda tol: Runner(f"skglm ProxNewton (tol={tol:g})", _peer("skglm", tol),
                               available=ok_p, why_unavailable=why_p)
    n, p = (2000, 200) if quick else (10000, 1000)
    dense = Case(f"path binomial dense {n}x{p}", _make("dense", n=n, p=p),
                 [Runner("sklearn_normpen (prox Newton)", ours, ours=True),
                  Runner("sklearn saga (warm start)", sklearn_saga),
                  glmnet(), matched(), skglm(1e-4), skglm(1e-6),
                  Runner("skglm ProxNewton, tol tightened to our relgap",
                         skglm_matched("skglm"), available=ok_p, why_unavailable=why_p)],
                 quality=_quality, quality_label="relgap")
    ns, ps = (4000, 10000) if quick else (20000, 50000)
    sparse = Case(f"path binomial sparse {ns}x{ps} density 1e-3",
                  _make("sparse", n=ns, p=ps, density=1e-3),
                  [Runner("sklearn_normpen (prox Newton)", ours, ours=True),
                   Runner("sklearn saga (warm start)", sklearn_saga),
                   glmnet(), matched(), skglm(1e-4), skglm(1e-6)],
                  quality=_quality, quality_label="relgap",
                  note="celer fits no intercept: not a peer for this case")
    ni, pi = (2000, 200) if quick else (5000, 1000)
    noint = Case(f"path binomial dense {ni}x{pi} no intercept",
                 _make("dense", intercept=False, n=ni, p=pi),
                 [Runner("sklearn_normpen (prox Newton)", ours, ours=True),
                  Runner("celer (tol=1e-4)", _peer("celer", 1e-4), available=ok_p,
                         why_unavailable=why_p),
                  Runner("celer (tol=1e-6)", _peer("celer", 1e-6), available=ok_p,
                         why_unavailable=why_p),
                  skglm(1e-4), glmnet(), matched()],
                 quality=_quality, quality_label="relgap",
                 note="celer fits no intercept: every runner without one")
    ng, pg = (1000, 200) if quick else (5000, 1000)
    group = Case(f"path group binomial {ng}x{pg} groups of {GROUP}",
                 _make_group(ng, pg),
                 [Runner("sklearn_normpen (prox Newton, block CD)", ours_group, ours=True),
                  Runner("skglm GroupProxNewton (tol=1e-4)", _peer("skglm_group", 1e-4),
                         available=ok_p, why_unavailable=why_p),
                  Runner("skglm GroupProxNewton (tol=1e-6)", _peer("skglm_group", 1e-6),
                         available=ok_p, why_unavailable=why_p),
                  Runner("skglm GroupProxNewton, tol tightened to our relgap",
                         skglm_matched("skglm_group"), available=ok_p,
                         why_unavailable=why_p)],
                 quality=_quality, quality_label="relgap",
                 note="glmnet has no group binomial; 100 alphas to 1e-2 alpha_max")
    nc, pc = (1000, 100) if quick else (2000, 200)
    cv = Case(f"CV5 binomial dense {nc}x{pc} l1_ratio 0.5, 1 (30 alphas)",
              _make_cv(nc, pc),
              [Runner("ElasticNetClassifierPathCV", ours_cv, ours=True),
               Runner("LogisticRegressionCV saga", sklearn_cv)],
              note="same folds and grid (Cs = 1/(n_train alpha)); quality not scored")
    nm, pm = (1000, 100) if quick else (5000, 500)
    multi = Case(f"path multinomial K={K_CLASSES} dense {nm}x{pm}", _make_multi(nm, pm),
                 [Runner("sklearn_normpen (prox Newton)", ours_multinomial, ours=True),
                  Runner("sklearn saga (warm start)", sklearn_saga_multinomial),
                  Runner("R glmnet (time inside R)", glmnet_r_multinomial,
                         available=ok_r, why_unavailable=why_r),
                  Runner("R glmnet, thresh tightened to our relgap",
                         glmnet_matched_multinomial, available=ok_r,
                         why_unavailable=why_r)],
                 quality=_quality_multi, quality_label="relgap",
                 note="skglm has no multinomial datafit (not a peer here)")
    ncm, pcm = (500, 50) if quick else (2000, 200)
    cv_multi = Case(f"CV5 multinomial K={K_CLASSES} dense {ncm}x{pcm} (30 alphas)",
                    _make_cv_multi(ncm, pcm),
                    [Runner("ElasticNetClassifierPathCV", ours_cv_multi, ours=True),
                     Runner("LogisticRegressionCV saga", sklearn_cv_multi)],
                    note="same folds and grid (Cs = 1/(n_train alpha)), l1_ratio 1; "
                         "quality not scored")
    ngm, pgm = (500, 50) if quick else (5000, 100)
    group_multi = Case(f"group multinomial K={K_CLASSES} dense {ngm}x{pgm} groups of "
                       f"{MULTI_GROUP}", _make_group_multi(ngm, pgm),
                       [Runner("GroupLassoClassifierPathCV (3 folds, 30 alphas)",
                               ours_group_multinomial_cv, ours=True),
                        Runner("GroupLassoClassifier alpha=1e-3",
                               ours_group_multinomial_fit, ours=True)],
                       note="ours only (no peer fits it); compare across commits (ab.py)")
    return [dense, sparse, noint, group, cv, multi, cv_multi, group_multi]


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", default="")
    ap.add_argument("--skip", nargs="*", default=[])
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits
    for case in cases(a.quick):
        if a.case not in case.name:
            continue
        data = case.make_data()
        print(case.name, flush=True)
        base = None
        for r in case.runners:
            if any(k in r.name for k in a.skip):
                continue
            if not r.available:
                print(f"  {r.name}: skipped ({r.why_unavailable})")
                continue
            with threadpool_limits(1):
                t0 = time.perf_counter()
                try:
                    out = r.fn(data)
                except Exception as exc:  # noqa: BLE001  (a peer failing is a row)
                    print(f"  {r.name:<44s} failed: {exc!r}"[:300], flush=True)
                    continue
                t = time.perf_counter() - t0
            for key in ("_glmnet_time", "_peer_time"):
                if key in data:
                    t = data.pop(key)
            q = case.quality(data, out) if case.quality else float("nan")
            if r.ours:
                base, data["_target"] = t, q if q == q else 1e-4
            note = data.pop("_note", "")
            ratio = t / base if base else float("nan")
            print(f"  {r.name:<44s} {t:9.3f} s  x{ratio:6.2f}  relgap={q:.1e}  {note}",
                  flush=True)
