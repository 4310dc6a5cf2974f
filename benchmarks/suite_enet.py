"""Elastic-net / lasso paths and 5-fold CV: sklearn_normpen against scikit-learn, skglm, celer,
adelie and R glmnet (``peers.py``)."""
import time
import warnings

import numpy as np
import scipy.sparse as sp

import harness
import peers

TITLE = "Elastic net: full paths and 5-fold CV"
DESCRIPTION = """
Paths: 100 alphas, eps=1e-3, no intercept (scikit-learn's `enet_path` convention), the same
alpha grid handed to every runner, each at `tol=1e-4` in its own meaning (ours: duality
gap <= tol·||y||²/(2n); scikit-learn: gap <= tol·||y||²/n, twice looser; skglm and celer:
their own criteria). Matched tolerance is shown, not assumed: `relgap` is the largest duality gap over
the 100 path points, computed afterwards by one NumPy function for every runner (elastic-net
conjugate dual at r/n, lasso dual scaled into the constraint), divided by ||y||²/(2n).
CV: 5 folds (the same `KFold`), l1_ratio in [.1, .5, .9, 1], 100 alphas, n_jobs=1 both;
`minmse` is the minimum mean CV error (the same statistic on both, should agree).
Peers with a tolerance ladder (adelie, R glmnet, and scikit-learn/skglm/celer) are run at the
loosest tolerance of the ladder whose `relgap` is at most ours (the `note` column gives it;
a row that never reaches ours says so). R glmnet is timed inside R (`system.time` around
`glmnet()` only; data passed as binary files); its `(lambda, alpha)` are converted from ours
(see `benchmarks/peers.py`). "CV5 lasso" cases: intercept, lasso, one 100-alpha grid
(eps=1e-3), the 5 folds of adelie's `cv_grpnet(seed=0)` for every runner (`foldid` for
cv.glmnet, `PredefinedSplit` for ours and scikit-learn); `alpha_min` is the selected alpha
(the CV rows' `quality`); peers' tolerances are matched on the full-data path (relgap on
centred data at our `tol=1e-4`). `n_jobs=2` rows use both cores (adelie: `n_threads=2`);
`time / ours` is always against our first (single-threaded) row.
Every runner runs with BLAS limited to one thread (threadpoolctl; shared 2-core machine).
On the n >> p case the row "(reference: X.T @ X alone)" times forming the Gram matrix once:
the target is a whole path within 1.5x of it. `peak MiB` is tracemalloc's view (NumPy
allocations only).
"""


def _dense(n, p, k, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k) * 2
    y = X @ w + rng.standard_normal(n)
    return X, y


def _sparse(n, p, density, k, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=seed, dtype=np.float64)
    X.data = rng.standard_normal(X.data.size)
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k) * 5
    y = X @ w + rng.standard_normal(n)
    return X, y


def _grid(X, y, l1_ratio, n_alphas=100, eps=1e-3):
    amax = np.max(np.abs(X.T @ y)) / (X.shape[0] * l1_ratio)
    return np.geomspace(amax, amax * eps, n_alphas)


def _relgap(data, coefs):
    """Largest duality gap over the path / (||y||²/(2n)), one NumPy formula for everyone."""
    X, y, alphas, rho = data["X"], data["y"], data["alphas"], data["l1_ratio"]
    n = X.shape[0]
    C = coefs.toarray() if sp.issparse(coefs) else np.asarray(coefs, dtype=np.float64)
    R = y[:, None] - np.asarray(X @ C)
    G = np.asarray(X.T @ R) / n
    worst = 0.0
    for k, a in enumerate(alphas):
        w, r, g = C[:, k], R[:, k], G[:, k]
        l1, l2 = a * rho, a * (1 - rho)
        primal = 0.5 * r @ r / n + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w
        if rho == 1:
            t = max(1.0, np.abs(g).max() / l1)
            conj = 0.0
        else:
            t, conj = 1.0, np.sum(np.maximum(np.abs(g) - l1, 0) ** 2) / (2 * l2)
        dual = (y @ y - (y - r / t) @ (y - r / t)) / (2 * n) - conj
        worst = max(worst, primal - dual)
    return worst / (y @ y / (2 * n))


# -- runners ---------------------------------------------------------------------------
# Every runner runs with BLAS limited to one thread: the benchmark machine is shared, and an
# oversubscribed multi-threaded BLAS makes small level-2 calls erratic for every library.

def _one_thread(fn):
    def run(d, *args):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(d, *args)
    run.__name__ = fn.__name__
    return run


def _ours_path(d, sparse_output=False):
    from sklearn_normpen import enet_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # standardize=False: the peers' objective (ours defaults to glmnet's True)
        # (sparse_output only when asked: ab.py runs this against packages without it)
        extra = dict(sparse_output=True) if sparse_output else {}
        return enet_path(d["X"], d["y"], l1_ratio=d["l1_ratio"], alphas=d["alphas"],
                         tol=1e-4, standardize=False, **extra)[1]


def _ours_path_sparse_output(d):
    """Our path returning a csc_array of the non-zeros (as glmnet's ``beta`` and adelie's
    ``betas``): the memory of the path without the dense (p, 100) output."""
    return _ours_path(d, sparse_output=True)


def _all_blas_threads(fn):
    """``fn`` with the BLAS at every core (the one-thread rows' harness limit lifted): what
    a user's process runs with by default."""
    def run(d, *args):
        import os
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
            return fn(d, *args)
    run.__name__ = fn.__name__
    return run


# ladders of tolerances, loosest (the peer's default) first
TOLS_SK = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10]
TOLS_ADELIE = [1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-14]
TOLS_GLMNET = [1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12]


def _sk_path_tol(d, tol):
    from sklearn.linear_model import enet_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return enet_path(d["X"], d["y"], l1_ratio=d["l1_ratio"], alphas=d["alphas"],
                         tol=tol, precompute="auto")[1]


def _skglm_path_tol(d, tol):
    from skglm import ElasticNet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ElasticNet(l1_ratio=d["l1_ratio"], fit_intercept=False, tol=tol).path(
            d["X"], d["y"], d["alphas"])[1]


def _celer_path_tol(d, tol):
    import celer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return celer.celer_path(d["X"], d["y"], "lasso", alphas=d["alphas"],
                                l1_ratio=d["l1_ratio"], tol=tol)[1]


def _adelie_path(d, tol):
    return peers.adelie_path(d["X"], d["y"], d["alphas"], d["l1_ratio"], tol=tol)


def _adelie_cov_path(d, tol):
    return peers.adelie_cov_path(d["X"], d["y"], d["alphas"], d["l1_ratio"], tol=tol)


def _glmnet_path(type_gaussian):
    def run(d, tol):
        lam, a = peers.glmnet_params(d["alphas"], d["l1_ratio"], d["y"], intercept=False)
        res = peers.glmnet_run(d["X"], d["y"], lam, a, tol, repeat=d["_repeat"],
                               type_gaussian=type_gaussian)
        return harness.Timed(res["beta"], res["times"])
    return run


def _peer_rows(dense):
    """The tunable peers of a path case (adelie's and glmnet's covariance modes: dense)."""
    ok_ad, why_ad, _ = peers.adelie_status()
    ok_r, why_r, _ = peers.glmnet_status()
    skglm_ok = harness.peer("skglm", "skglm")
    celer_ok = harness.peer("celer", "celer")
    rows = [
        harness.Runner("sklearn enet_path", _one_thread(_sk_path_tol), tols=TOLS_SK),
        harness.Runner("skglm ElasticNet.path", _one_thread(_skglm_path_tol),
                       available=skglm_ok[0], why_unavailable=skglm_ok[1], tols=TOLS_SK),
        harness.Runner("celer celer_path", _one_thread(_celer_path_tol),
                       available=celer_ok[0], why_unavailable=celer_ok[1], tols=TOLS_SK),
        harness.Runner("adelie grpnet", _one_thread(_adelie_path), available=ok_ad,
                       why_unavailable=why_ad, tols=TOLS_ADELIE),
    ]
    if dense:
        rows.append(harness.Runner("adelie gaussian_cov", _one_thread(_adelie_cov_path),
                                   available=ok_ad, why_unavailable=why_ad, tols=TOLS_ADELIE))
    rows.append(harness.Runner("R glmnet (naive)", _glmnet_path("naive"), available=ok_r,
                               why_unavailable=why_r, tols=TOLS_GLMNET, tol_name="thresh"))
    if dense:
        rows.append(harness.Runner("R glmnet (covariance)", _glmnet_path("covariance"),
                                   available=ok_r, why_unavailable=why_r, tols=TOLS_GLMNET,
                                   tol_name="thresh"))
    return rows


# -- one fit at one alpha (GridSearchCV's unit of work), no intercept -----------------------
def _ours_fit(precompute):
    def run(d):
        from sklearn_normpen import ElasticNetRegressor
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ElasticNetRegressor(alpha=d["alphas"][0], l1_ratio=d["l1_ratio"],
                                      fit_intercept=False, standardize=False, tol=1e-4,
                                      precompute=precompute).fit(d["X"], d["y"])
        return est.coef_[:, None]
    run.__name__ = f"ours_fit_{precompute}"
    return run


def _peer_fit(estimator):
    """A peer's one fit at the case's alpha, no intercept: ``estimator(alpha, l1_ratio,
    tol)`` makes the unfitted estimator."""
    def run(d, tol):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = estimator(d["alphas"][0], d["l1_ratio"], tol).fit(d["X"], d["y"])
        return est.coef_[:, None]
    return run


def _sk_fit(alpha, l1_ratio, tol):
    from sklearn.linear_model import ElasticNet
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=tol)


def _skglm_fit(alpha, l1_ratio, tol):
    from skglm import ElasticNet
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=tol)


def _celer_fit(alpha, l1_ratio, tol):
    import celer
    return celer.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=tol)


def _self_timed(fn):
    """``fn`` timed inside one BLAS-thread limit (entering threadpoolctl's limit costs
    milliseconds, as much as a small fit): a warm-up call, then ``d["_repeat"]`` timed
    calls, returned as :class:`harness.Timed`."""
    def run(d, *args):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1, user_api="blas"):
            out, times = fn(d, *args), []
            for _ in range(d.get("_repeat", 1)):
                t0 = time.perf_counter()
                out = fn(d, *args)
                times.append(time.perf_counter() - t0)
        return harness.Timed(out, times)
    run.__name__ = fn.__name__
    return run


def _fit_case(name, make, rho, frac):
    """One fit at ``frac`` alpha_max (the path's grid's alpha_max, no intercept)."""
    def make_data():
        X, y = make()
        return dict(X=X, y=y, l1_ratio=rho, alphas=_grid(X, y, rho)[:1] * frac)
    skglm_ok = harness.peer("skglm", "skglm")
    celer_ok = harness.peer("celer", "celer")
    runners = [harness.Runner("sklearn_normpen ElasticNetRegressor", _self_timed(_ours_fit(
        "auto")), ours=True)]
    if not name.startswith("sparse"):
        runners.append(harness.Runner("sklearn_normpen ElasticNetRegressor precompute=True",
                                      _self_timed(_ours_fit(True)), ours=True))
    runners += [
        harness.Runner("sklearn ElasticNet", _self_timed(_peer_fit(_sk_fit)), tols=TOLS_SK),
        harness.Runner("skglm ElasticNet", _self_timed(_peer_fit(_skglm_fit)),
                       available=skglm_ok[0], why_unavailable=skglm_ok[1], tols=TOLS_SK),
        harness.Runner("celer ElasticNet", _self_timed(_peer_fit(_celer_fit)),
                       available=celer_ok[0], why_unavailable=celer_ok[1], tols=TOLS_SK),
    ]
    return harness.Case(name=f"fit {name} l1_ratio={rho} alpha_max/{round(1 / frac)}",
                        make_data=make_data, runners=runners,
                        quality=lambda d, c: _relgap(d, c), quality_label="relgap")


def _gram_only(d):
    """Reference for the n >> p target: the cost of forming XᵀX once (not a solver)."""
    X = d["X"]
    return {"gram": X.T @ X}


L1_RATIOS_CV = [0.1, 0.5, 0.9, 1.0]
GRAM_REFERENCE = {"dense 10000x1000", "dense 1000x100"}  # the n >> p cases


def _ours_cv(d):
    from sklearn.model_selection import KFold
    from sklearn_normpen import ElasticNetPathCV
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ElasticNetPathCV(l1_ratio=L1_RATIOS_CV, alphas=100, cv=KFold(5), tol=1e-4,
                               n_jobs=1, standardize=False).fit(d["X"], d["y"])
    return est.cv_mean_


def _sk_cv(d):
    from sklearn.linear_model import ElasticNetCV
    from sklearn.model_selection import KFold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ElasticNetCV(l1_ratio=L1_RATIOS_CV, cv=KFold(5), tol=1e-4, n_jobs=1).fit(
            d["X"], d["y"])
    return est.mse_path_.mean(axis=-1)


def _minmse(d, mean):
    return float(np.nanmin(mean))


# -- 5-fold lasso CV with intercept, every runner on adelie's folds ----------------------
def _make_cv_lasso(make):
    def make_data():
        X, y = make()
        n = X.shape[0]
        Xm = np.asarray(X.mean(axis=0)).ravel()
        yc = y - y.mean()
        amax = np.max(np.abs(X.T @ yc - Xm * yc.sum())) / n
        alphas = np.geomspace(amax, amax * 1e-3, 100)
        return dict(X=X, y=y, alphas=alphas, l1_ratio=1.0, fold=peers.adelie_folds(n, 5, 0))
    return make_data


def _centred(d):
    """(Xc, yc) on which the no-intercept gap certifies an intercept fit."""
    X = d["X"]
    X = X.toarray() if sp.issparse(X) else X
    return dict(d, X=X - X.mean(axis=0), y=d["y"] - d["y"].mean())


def _cv_target(d):
    """Our full-data path's worst relgap at the CV tol: the accuracy the CV peers match."""
    from sklearn_normpen import enet_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coefs = enet_path(d["X"], d["y"], l1_ratio=1.0, alphas=d["alphas"], tol=1e-4,
                          fit_intercept=True, standardize=False)[1]
    return _relgap(_centred(d), coefs)


def _ours_cv_lasso(n_jobs, tol=1e-4):
    def run(d):
        from sklearn.model_selection import PredefinedSplit
        from sklearn_normpen import ElasticNetPathCV
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ElasticNetPathCV(l1_ratio=1.0, alphas=d["alphas"],
                                   cv=PredefinedSplit(d["fold"]), tol=tol,
                                   n_jobs=n_jobs, standardize=False).fit(d["X"], d["y"])
        return est.alpha_
    return run


def _sk_cv_lasso(n_jobs):
    def run(d, tol):
        from sklearn.linear_model import ElasticNetCV
        from sklearn.model_selection import PredefinedSplit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ElasticNetCV(l1_ratio=1.0, alphas=d["alphas"], cv=PredefinedSplit(d["fold"]),
                               tol=tol, n_jobs=n_jobs).fit(d["X"], d["y"])
        return est.alpha_
    return run


def _sk_calib(d, tol):
    c = _centred(d)
    return _relgap(c, _sk_path_tol(c, tol))


def _glmnet_cv(d, thresh):
    res = peers.glmnet_run(d["X"], d["y"], d["alphas"], 1.0, thresh, repeat=d["_repeat"],
                           intercept=True, foldid=d["fold"] + 1)
    return harness.Timed(float(d["alphas"][np.argmin(res["cvm"])]), res["times"])


def _glmnet_calib(d, thresh):
    res = peers.glmnet_run(d["X"], d["y"], d["alphas"], 1.0, thresh, repeat=0,
                           intercept=True)
    return _relgap(_centred(d), res["beta"])


def _adelie_cv(n_threads):
    def run(d, tol):
        lm, loss = peers.adelie_cv(d["X"], d["y"], tol=tol, seed=0, n_threads=n_threads)
        return float(lm[np.argmin(loss)])
    return run


def _adelie_calib(d, tol):
    import adelie as ad
    st = ad.grpnet(peers._adelie_matrix(d["X"]), ad.glm.gaussian(d["y"]), alpha=1.0,
                   penalty=np.ones(d["X"].shape[1]), lmda_path=d["alphas"], tol=tol,
                   early_exit=False, intercept=True, progress_bar=False)
    return _relgap(_centred(d), peers._betas(st, len(d["alphas"])))


def _cv_lasso_case(name, make):
    ok_ad, why_ad, _ = peers.adelie_status()
    ok_r, why_r, _ = peers.glmnet_status()
    runners = [
        harness.Runner("ElasticNetPathCV", _one_thread(_ours_cv_lasso(1)), ours=True),
        harness.Runner("ElasticNetPathCV n_jobs=2", _ours_cv_lasso(2), ours=True),
        # at tol=1e-4 the fold fits move the flat CV curve in its 3rd-4th digit (and
        # alpha_min by a grid point or more); 1e-8 gives cv.glmnet's converged curve
        # (thresh=1e-16) and its minimiser (benchmarks/cv_curve_vs_glmnet.py)
        harness.Runner("ElasticNetPathCV tol=1e-8", _one_thread(_ours_cv_lasso(1, 1e-8)),
                       ours=True),
        harness.Runner("sklearn ElasticNetCV", _one_thread(_sk_cv_lasso(1)), tols=TOLS_SK,
                       calib=_one_thread(_sk_calib)),
        harness.Runner("sklearn ElasticNetCV n_jobs=2", _sk_cv_lasso(2), tols=TOLS_SK,
                       calib=_one_thread(_sk_calib)),
        harness.Runner("adelie cv_grpnet", _one_thread(_adelie_cv(1)), available=ok_ad,
                       why_unavailable=why_ad, tols=TOLS_ADELIE,
                       calib=_one_thread(_adelie_calib)),
        harness.Runner("adelie cv_grpnet n_threads=2", _adelie_cv(2), available=ok_ad,
                       why_unavailable=why_ad, tols=TOLS_ADELIE,
                       calib=_one_thread(_adelie_calib)),
        harness.Runner("R cv.glmnet", _glmnet_cv, available=ok_r, why_unavailable=why_r,
                       tols=TOLS_GLMNET, calib=_glmnet_calib, tol_name="thresh"),
        harness.Runner("R cv.glmnet parallel", None, available=False,
                       why_unavailable="not run: R package doParallel is not installed"),
    ]
    return harness.Case(name=f"CV5 lasso {name}", make_data=_make_cv_lasso(make),
                        runners=runners, quality=lambda d, a: float(a),
                        quality_label="alpha_min", target=_cv_target)


def cases(quick=False):
    if quick:
        shapes = [("dense 1000x100", lambda: _dense(1000, 100, 10)),
                  ("dense 100x2000", lambda: _dense(100, 2000, 10)),
                  ("sparse 2000x5000 d=.005", lambda: _sparse(2000, 5000, 0.005, 10))]
        cv_shapes = shapes
    else:
        shapes = [("dense 10000x1000", lambda: _dense(10000, 1000, 50)),
                  ("dense 500x20000", lambda: _dense(500, 20000, 50)),
                  ("sparse 20000x50000 d=.001", lambda: _sparse(20000, 50000, 0.001, 50))]
        # scikit-learn's ElasticNetCV on the two large-p cases needs tens of minutes per
        # run; they are run at reduced size (stated in the case name).
        cv_shapes = [shapes[0],
                     ("dense 250x5000", lambda: _dense(250, 5000, 25)),
                     ("sparse 2000x5000 d=.002", lambda: _sparse(2000, 5000, 0.002, 25))]
    out = []
    if quick:
        cv_lasso = [("dense 1000x100", lambda: _dense(1000, 100, 10)),
                    ("dense 100x2000", lambda: _dense(100, 2000, 10))]
    else:
        cv_lasso = [("dense 10000x1000", lambda: _dense(10000, 1000, 50)),
                    ("dense 500x20000", lambda: _dense(500, 20000, 50))]
    for name, make in shapes:
        for rho in (1.0, 0.5):
            def make_data(make=make, rho=rho):
                X, y = make()
                return dict(X=X, y=y, l1_ratio=rho, alphas=_grid(X, y, rho))
            out.append(harness.Case(
                name=f"path {name} l1_ratio={rho}", make_data=make_data,
                runners=[
                    harness.Runner("sklearn_normpen enet_path", _one_thread(_ours_path),
                                   ours=True),
                    harness.Runner("sklearn_normpen enet_path, BLAS at all cores",
                                   _all_blas_threads(_ours_path), ours=True),
                ] + ([] if name in GRAM_REFERENCE else [harness.Runner(
                    "sklearn_normpen enet_path sparse_output=True",
                    _one_thread(_ours_path_sparse_output), ours=True)]) + _peer_rows(dense=name.startswith("dense")) + ([harness.Runner("(reference: X.T @ X alone)", _one_thread(_gram_only))]
                     if name in GRAM_REFERENCE else []),
                quality=lambda d, c: None if isinstance(c, dict) else _relgap(d, c),
                quality_label="relgap"))
    for name, make in cv_shapes:
        def make_cv(make=make):
            X, y = make()
            return dict(X=X, y=y)
        out.append(harness.Case(
            name=f"CV5 {name} l1_ratio=[.1,.5,.9,1]", make_data=make_cv,
            runners=[harness.Runner("ElasticNetPathCV", _one_thread(_ours_cv), ours=True),
                     harness.Runner("sklearn ElasticNetCV", _one_thread(_sk_cv))],
            quality=_minmse, quality_label="minmse"))
    out += [_cv_lasso_case(name, make) for name, make in cv_lasso]
    fits = ([("dense 1000x100", lambda: _dense(1000, 100, 10))] if quick else
            [("dense 10000x1000", lambda: _dense(10000, 1000, 50)),
             ("dense 2000x200", lambda: _dense(2000, 200, 20))])
    out += [_fit_case(name, make, rho, frac) for name, make in fits for rho in (1.0, 0.5)
            for frac in (1e-1, 1e-2)]
    return out
