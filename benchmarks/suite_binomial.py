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
`glmnet(family="binomial", lambda=grid, standardize=FALSE)` call timed inside R
(`thresh=1e-7`, its default). quality = largest relative gap over the path by our
certificate (the same function for every runner).
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
    X = sp.random(n, p, density=density, format="csc", random_state=seed,
                  data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[rng.choice(p, 50, replace=False)] = 3 * rng.standard_normal(50)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y


def _problem(X, y):
    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.prox_newton import GLMProblem, glm_mode
    return GLMProblem(Design(X, y, None, True), glm_mode(X))


def _make(kind, n_alphas=100, eps=1e-3, **kw):
    def make():
        from sklearn_normpen.penalties import ElasticNetPenalty
        X, y = _dense(**kw) if kind == "dense" else _sparse(**kw)
        pb = _problem(X, y)
        pen = ElasticNetPenalty(RHO, np.ones(X.shape[1]))
        _, z = pb.null_fit(pen, 1e-10, 1000)
        grid = pen.alpha_max(z) * np.geomspace(1, eps, n_alphas)
        return dict(X=X, y=y, alphas=grid)
    return make


def ours(data):
    from sklearn_normpen._path import compute_path
    from sklearn_normpen.penalties import ElasticNetPenalty
    X, y = data["X"], data["y"]
    pb = _problem(X, y)
    res = compute_path(pb, ElasticNetPenalty(RHO, np.ones(X.shape[1])), data["alphas"],
                       tol=1e-4, max_iter=1000)
    return res.coefs, res.intercepts


def sklearn_saga(data):
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
            coefs.append(clf.coef_.ravel().copy())
            b.append(float(clf.intercept_[0]))
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
fit <- glmnet(X, y, family = "binomial", alpha = 1, lambda = lam, standardize = FALSE)
t <- system.time(fit <- glmnet(X, y, family = "binomial", alpha = 1, lambda = lam,
                               standardize = FALSE))[["elapsed"]]
cf <- as.matrix(coef(fit))
writeBin(as.double(t), file.path(d, "time"))
writeBin(as.double(cf), file.path(d, "coef"))
"""


def _glmnet_available():
    if shutil.which("Rscript") is None:
        return False, "R not installed"
    ok = subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True)
    return ok.returncode == 0, "R glmnet not installed"


def glmnet_r(data):
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
        script = os.path.join(d, "run.R")
        with open(script, "w") as f:
            f.write(_R)
        subprocess.run(["Rscript", script, d], check=True, capture_output=True)
        t = float(np.fromfile(os.path.join(d, "time"))[0])
        cf = np.fromfile(os.path.join(d, "coef")).reshape(p + 1, -1, order="F")
    data["_glmnet_time"] = t
    return cf[1:], cf[0]


def _quality(data, out):
    from sklearn_normpen.penalties import ElasticNetPenalty
    coefs, b = out
    X, y = data["X"], data["y"]
    pb = _problem(X, y)
    pen = ElasticNetPenalty(RHO, np.ones(X.shape[1]))
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
t <- system.time(fit <- glmnet(X, y, family = "multinomial", alpha = 1, lambda = lam,
                               standardize = FALSE))[["elapsed"]]
cf <- do.call(rbind, lapply(coef(fit), as.matrix))
writeBin(as.double(t), file.path(d, "time"))
writeBin(as.double(length(fit$lambda)), file.path(d, "m"))
writeBin(as.double(cf), file.path(d, "coef"))
"""


def glmnet_r_multinomial(data):
    """glmnet's multinomial path timed inside R; returns (p, K, m) and (K, m)."""
    X, y, lam = data["X"], data["y"], data["alphas"]
    n, p = X.shape
    with tempfile.TemporaryDirectory() as d:
        np.savetxt(os.path.join(d, "dims"), [n, p], fmt="%d")
        np.asfortranarray(X, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, "X"))
        y.astype(np.float64).tofile(os.path.join(d, "y"))
        np.savetxt(os.path.join(d, "lambda"), lam)
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


def cases(quick=False):
    ok_r, why_r = _glmnet_available()
    n, p = (2000, 200) if quick else (10000, 1000)
    dense = Case(f"path binomial dense {n}x{p}", _make("dense", n=n, p=p),
                 [Runner("sklearn_normpen (prox Newton)", ours, ours=True),
                  Runner("sklearn saga (warm start)", sklearn_saga),
                  Runner("R glmnet (time inside R)", glmnet_r, available=ok_r,
                         why_unavailable=why_r)],
                 quality=_quality, quality_label="relgap")
    ns, ps = (4000, 10000) if quick else (20000, 50000)
    sparse = Case(f"path binomial sparse {ns}x{ps} density 1e-3",
                  _make("sparse", n=ns, p=ps, density=1e-3),
                  [Runner("sklearn_normpen (prox Newton)", ours, ours=True),
                   Runner("R glmnet (time inside R)", glmnet_r, available=ok_r,
                          why_unavailable=why_r)],
                  quality=_quality, quality_label="relgap",
                  note="saga not run: far beyond the time budget at this size")
    nm, pm = (1000, 100) if quick else (5000, 500)
    multi = Case(f"path multinomial K={K_CLASSES} dense {nm}x{pm}", _make_multi(nm, pm),
                 [Runner("sklearn_normpen (prox Newton)", ours_multinomial, ours=True),
                  Runner("sklearn saga (warm start)", sklearn_saga_multinomial),
                  Runner("R glmnet (time inside R)", glmnet_r_multinomial,
                         available=ok_r, why_unavailable=why_r)],
                 quality=_quality_multi, quality_label="relgap")
    return [dense, sparse, multi]


if __name__ == "__main__":
    import sys
    quick = "--quick" in sys.argv
    from threadpoolctl import threadpool_limits
    for case in cases(quick):
        data = case.make_data()
        print(case.name)
        for r in case.runners:
            if not r.available:
                print(f"  {r.name}: skipped ({r.why_unavailable})")
                continue
            with threadpool_limits(1):
                t0 = time.perf_counter()
                out = r.fn(data)
                t = time.perf_counter() - t0
            if "_glmnet_time" in data and r.fn in (glmnet_r, glmnet_r_multinomial):
                t = data.pop("_glmnet_time")
            print(f"  {r.name:<32s} {t:9.3f} s  relgap={case.quality(data, out):.1e}",
                  flush=True)
