"""Group and sparse-group lasso: our block CD against skglm, celer and group-lasso.

Every runner solves the same objective on the same data,
``1/(2n)||y - Xw||² + alpha (rho ||w||_1 + (1 - rho) Σ_g sqrt(|g|) ||w_g||_2)``
(no intercept, y centred; dense X centred): skglm's and celer's ``weights`` are set to
``sqrt(|g|)``, group-lasso gets ``group_reg = alpha (1 - rho)``, ``l1_reg = alpha rho``,
``scale_reg="group_size"``. Paths are warm-started loops for the peers.
"""
import warnings

import numpy as np
import scipy.sparse as sp

import harness
import peers
from harness import Case, Runner

TITLE = "(Sparse-)group lasso: GroupLassoRegressor / group_lasso_path / GroupLassoPathCV"
DESCRIPTION = """
Objective `1/(2n)||y - Xw||² + alpha (rho ||w||_1 + (1 - rho) Σ_g sqrt(|g|) ||w_g||_2)`, no
intercept (y centred, dense X centred); peers' group weights set to `sqrt(|g|)`. Tolerances:
ours `tol=1e-6` (duality gap relative to `||y||²/(2n)`; tighter than our default 1e-4 so
that our quality column is at least as good as the peers'), celer and skglm at their
default `tol=1e-4` (celer: gap relative to `||y||²/n`; skglm: KKT violation),
group-lasso FISTA `tol=1e-5` capped at 200 iterations. **quality** = the largest relative duality gap
(gap / (||y||²/(2n))) over the returned coefficients, computed by the same certificate
code for every runner: a peer with a larger value solved the problem less accurately.
Cases A and C: dense n=5000, p=1000 in 200 groups of 5, 20 active groups, 50-alpha grid
from alpha_max to 1e-2 alpha_max. Case B: sparse CSC n=20000, p=20000 in 4000 groups of 5,
density 0.002, 50-alpha grid to 5e-2 alpha_max (ours only: the peers do not finish in
reasonable time at this size); B': the same design at n=p=5000 with a 20-alpha grid to
1e-1 alpha_max, all runners. CV: 5 folds, 20-alpha grid, n=2000, p=500, dense; the
one-ratio CV case runs every runner on adelie `cv_grpnet(seed=0)`'s folds, its
quality column is the selected alpha, and adelie's `tol` is matched by the relgap of its
full-data path against ours at `tol=1e-6`.
Wide: dense n=500, p=10000 in 2000 groups of 5, 20 active groups, 50-alpha grid to 1e-2.
adelie (`grpnet`, groups of 5, its default weights `sqrt(|g|)`, `λ = alpha`, no intercept:
its Gaussian loss is ours minus `||y||²/(2n)`) runs at the loosest `tol` of a ladder whose
max rel gap is at most ours (`note` column); adelie has no sparse-group (ℓ1 + group ℓ2)
penalty, so case C has no adelie row.
MT / MTG (multi-response, dense 500x10000, intercept, K = 5 / 3, 50 alphas to 1e-2): the
multi-task lasso and the multi-response group lasso (groups of 5, l1_ratio 0); quality is
the package's multi-task certificate for every runner. adelie's multigaussian loss is ours
divided by K (`λ = alpha / K`, penalty factors 1 or `sqrt(5)`, K intercepts);
scikit-learn's multi-task CD (`enet_path` with a 2-D target) runs on centred data.
"""


TOL_OURS = 1e-6    # duality gap / (||y||²/(2n))
TOL_SKGLM = 1e-4   # skglm default (KKT violation)
TOL_CELER = 1e-4   # celer default (gap relative to ||y||²/n)


def _groups(p, size=5):
    return [list(range(g, g + size)) for g in range(0, p, size)]


def _dense(n, p, n_active, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    G = p // 5
    w = np.zeros(p)
    for g in rng.choice(G, n_active, replace=False):
        w[5 * g:5 * g + 5] = rng.standard_normal(5)
    y = X @ w + rng.standard_normal(n)
    X = np.asfortranarray(X - X.mean(0))
    return X, y - y.mean()


def _sparse(n, p, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=seed,
                  data_rvs=rng.standard_normal)
    w = np.zeros(p)
    for g in rng.choice(p // 5, 40, replace=False):
        w[5 * g:5 * g + 5] = rng.standard_normal(5) * 3
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X, y - y.mean()


def _make(kind, rho, n_alphas, eps, **kw):
    def make():
        from sklearn_normpen import group_lasso_path
        X, y = _dense(**kw) if kind == "dense" else _sparse(**kw)
        groups = _groups(X.shape[1])
        # standardize=False throughout: the peers' objective (ours defaults to True)
        alphas = group_lasso_path(X, y, groups=groups, l1_ratio=rho, n_alphas=1,
                                  standardize=False)[0]
        grid = np.geomspace(alphas[0], alphas[0] * eps, n_alphas)
        return dict(X=X, y=y, groups=groups, rho=rho, alphas=grid, mid=grid[n_alphas // 2])
    return make


def _gap_quality(data, coefs, alphas=None):
    """Largest relative duality gap of the columns of ``coefs`` at ``alphas``: the package's
    own certificate (gap / null deviance ||y||²/(2n), y centred) for every runner."""
    from sklearn_normpen._certificate import certificate
    from sklearn_normpen._design import Design
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    from sklearn_normpen._solvers.block_cd import GroupProblem
    X, y = data["X"], data["y"]
    st = parse_groups(data["groups"], X.shape[1])
    prob = GroupProblem(Design(X, y, None, False), st, resolve_group_weights(None, st))
    pen = prob.penalty(data["rho"])
    coefs = np.asarray(coefs).reshape(X.shape[1], -1)
    alphas = data["alphas"] if alphas is None else np.atleast_1d(alphas)
    worst = 0.0
    for k in range(coefs.shape[1]):
        w = prob.start(coefs[:, k].astype(X.dtype))
        cert = certificate(prob.cert_stats(w, pen), pen, float(alphas[k]), w)
        worst = max(worst, cert.gap / prob.null_deviance)
    return worst


# -- runners ----------------------------------------------------------------------------
def ours_path(d):
    from sklearn_normpen import group_lasso_path
    return group_lasso_path(d["X"], d["y"], groups=d["groups"], l1_ratio=d["rho"],
                            alphas=d["alphas"], tol=TOL_OURS, standardize=False)[1]


def _make_multi(n, p, K, n_active, grouped, seed=0):
    """Wide dense multi-response data: ``n_active`` non-zero rows (grouped: whole groups of
    5), K responses, unit noise; the 50-alpha grid to 1e-2 alpha_max every runner uses."""
    def make():
        from sklearn_normpen import multitask_enet_path, multitask_group_lasso_path
        rng = np.random.default_rng(seed)
        X = np.asfortranarray(rng.standard_normal((n, p)))
        B = np.zeros((p, K))
        rows = (np.concatenate([np.arange(5 * g, 5 * g + 5) for g in
                                rng.choice(p // 5, n_active // 5, replace=False)])
                if grouped else rng.choice(p, n_active, replace=False))
        B[rows] = rng.standard_normal((rows.size, K))
        Y = X @ B + rng.standard_normal((n, K))
        groups = np.arange(p) // 5 if grouped else None
        amax = (multitask_group_lasso_path(X, Y, groups=groups, l1_ratio=0.0, n_alphas=1,
                                           standardize=False) if grouped
                else multitask_enet_path(X, Y, l1_ratio=1.0, n_alphas=1))[0][0]
        return dict(X=X, Y=Y, groups=groups, alphas=np.geomspace(amax, 1e-2 * amax, 50))
    return make


def _ours_multi(grouped):
    """Our multi-response path on the case's grid (intercept, tol 1e-6): the multi-task
    lasso, or the multi-response group lasso (groups of 5, l1_ratio 0); (K, p, L)."""
    def run(d):
        from sklearn_normpen import multitask_enet_path, multitask_group_lasso_path
        kw = dict(alphas=d["alphas"], tol=TOL_OURS, fit_intercept=True, standardize=False)
        out = (multitask_group_lasso_path(d["X"], d["Y"], groups=d["groups"], l1_ratio=0.0,
                                          **kw) if grouped
               else multitask_enet_path(d["X"], d["Y"], l1_ratio=1.0, **kw))
        return out[1]
    return run


def _multi_quality(d, coefs):
    """The largest relative duality gap over the path of ``coefs`` (K, p, L), by the
    package's own certificate for every runner (intercepts optimal: centred data)."""
    from sklearn_normpen._certificate import certificate
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    from sklearn_normpen._solvers.multitask import MultiTaskProblem
    from sklearn_normpen._solvers.multitask_group import MultiTaskGroupProblem
    from sklearn_normpen.group_classification import check_glm_groups
    from sklearn_normpen.multitask import _make_penalty
    from sklearn_normpen.penalties import MultiTaskSparseGroupLasso
    X, Y, groups = d["X"], d["Y"], d["groups"]
    if groups is None:
        pb = MultiTaskProblem(X, Y, None, True)
        pen = _make_penalty(1.0, np.ones(X.shape[1]), False, pb, None)
    else:  # (as multitask_group_lasso_path builds them)
        st = parse_groups(groups, X.shape[1])
        pb = MultiTaskGroupProblem(X, Y, None, True, st.groups)
        pen = MultiTaskSparseGroupLasso(
            *check_glm_groups(st, resolve_group_weights(None, st), X.shape[1]), 0.0)
    worst = 0.0
    for k, a in enumerate(d["alphas"]):
        w = pb.start(np.asarray(coefs[:, :, k], dtype=np.float64).T)
        cert = certificate(pb.cert_stats(w, pen), pen, float(a), w)
        worst = max(worst, cert.gap / pb.null_deviance)
    return worst


def _adelie_multi(grouped):
    """adelie ``grpnet`` with its multigaussian GLM (each feature's K coefficients one
    group, or groups of 5 features), K intercepts: its loss is ours divided by K, so
    ``λ = alpha / K``; penalty factors 1 (rows) or ``sqrt(5)`` (our group weights)."""
    def run(d, tol):
        import adelie as ad
        X, Y = d["X"], d["Y"]
        n, p = X.shape
        K = Y.shape[1]
        starts = np.arange(0, p, 5) if grouped else np.arange(p)
        pen = np.full(starts.size, np.sqrt(5.0) if grouped else 1.0)
        state = ad.grpnet(peers._adelie_matrix(X), ad.glm.multigaussian(np.asarray(Y, float)),
                          groups=starts, penalty=pen, alpha=1.0,
                          lmda_path=np.asarray(d["alphas"], float) / K, tol=tol,
                          early_exit=False, intercept=True, progress_bar=False, n_threads=1)
        B = np.asarray(state.betas.toarray())  # (L, p K), feature-major
        return B.reshape(B.shape[0], p, K).transpose(2, 1, 0)
    return run


def _sklearn_multi(d, tol):
    """scikit-learn's multi-task coordinate descent (``enet_path`` with a 2-D target:
    MultiTaskLasso's objective, ours on centred data) on the case's grid."""
    from sklearn.linear_model import enet_path
    X = np.asfortranarray(d["X"] - d["X"].mean(0))
    Y = d["Y"] - d["Y"].mean(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return enet_path(X, Y, l1_ratio=1.0, alphas=d["alphas"], tol=tol,
                         max_iter=100000)[1]


def ours_mid(d):
    from sklearn_normpen import GroupLassoRegressor
    return GroupLassoRegressor(groups=d["groups"], alpha=d["mid"], l1_ratio=d["rho"],
                               fit_intercept=False, tol=TOL_OURS,
                               standardize=False).fit(d["X"], d["y"]).coef_


def _skglm_est(d, alpha):
    G = len(d["groups"])
    if d["rho"] == 0:
        from skglm import GroupLasso
        return GroupLasso(groups=5, alpha=alpha, weights=np.full(G, np.sqrt(5)),
                          fit_intercept=False, tol=TOL_SKGLM, warm_start=True)
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedL1GroupL2
    from skglm.solvers import GroupBCD
    from skglm.utils.data import grp_converter
    idx, ptr = grp_converter(5, d["X"].shape[1])  # (indices, pointers)
    pen = WeightedL1GroupL2(alpha, np.full(G, (1 - d["rho"]) * np.sqrt(5)),
                            np.full(d["X"].shape[1], d["rho"]), ptr, idx)
    solver = GroupBCD(tol=TOL_SKGLM, warm_start=True, ws_strategy="fixpoint")
    return GeneralizedLinearEstimator(QuadraticGroup(ptr, idx), pen, solver)


def skglm_path(d):
    est = _skglm_est(d, d["alphas"][0])
    out = []
    for a in d["alphas"]:
        if d["rho"] == 0:
            est.alpha = a
        else:
            est.penalty.alpha = a
        est.fit(d["X"], d["y"])
        out.append(np.array(est.coef_).ravel())
    return np.array(out).T


TOLS_ADELIE = [1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-14]


def adelie_path(d, tol):
    starts = [g[0] for g in d["groups"]]
    return peers.adelie_path(d["X"], d["y"], d["alphas"], tol=tol, groups=starts)


def skglm_mid(d):
    return np.array(_skglm_est(d, d["mid"]).fit(d["X"], d["y"]).coef_).ravel()


def _celer(d, alpha):
    from celer import GroupLasso
    return GroupLasso(groups=5, alpha=alpha, weights=np.full(len(d["groups"]), np.sqrt(5)),
                      fit_intercept=False, tol=TOL_CELER, warm_start=True)


def celer_path(d):
    est = _celer(d, d["alphas"][0])
    out = []
    for a in d["alphas"]:
        est.alpha = a
        est.fit(d["X"], d["y"])
        out.append(est.coef_.copy())
    return np.array(out).T


def celer_mid(d):
    return _celer(d, d["mid"]).fit(d["X"], d["y"]).coef_


def grouplasso_mid(d, n_iter=200):
    from group_lasso import GroupLasso
    labels = np.repeat(np.arange(len(d["groups"])), 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GroupLasso(groups=labels, group_reg=d["mid"] * (1 - d["rho"]),
                         l1_reg=d["mid"] * d["rho"], scale_reg="group_size",
                         fit_intercept=False, n_iter=n_iter, tol=1e-5, supress_warning=True,
                         random_state=0)
        return np.ravel(est.fit(d["X"], d["y"]).coef_)


# -- cross-validation ---------------------------------------------------------------------
def _make_cv():
    d = _make("dense", 0.0, 20, 1e-2, n=2000, p=500, n_active=10, seed=1)()
    d["fold"] = peers.adelie_folds(d["X"].shape[0], 5, 0)  # adelie cv_grpnet's folds
    return d


def _ours_cv(n_jobs):
    def run(d):
        from sklearn.model_selection import PredefinedSplit
        from sklearn_normpen import GroupLassoPathCV
        est = GroupLassoPathCV(groups=d["groups"], alphas=d["alphas"],
                               cv=PredefinedSplit(d["fold"]), fit_intercept=False,
                               tol=TOL_OURS, standardize=False, n_jobs=n_jobs).fit(d["X"],
                                                                                   d["y"])
        return est.alpha_
    run.__name__ = f"ours_cv_{n_jobs}"
    return run


ours_cv = _ours_cv(1)


def _adelie_cv(n_threads):
    def run(d, tol):
        starts = [g[0] for g in d["groups"]]
        lm, loss = peers.adelie_cv(d["X"], d["y"], tol=tol, seed=0, n_threads=n_threads,
                                   min_ratio=1e-2, n_alphas=len(d["alphas"]),
                                   groups=starts, intercept=False)
        return float(lm[np.argmin(loss)])
    return run


def _adelie_path_calib(d, tol):
    """The relgap of adelie's full-data path at ``tol``: what its CV is matched on."""
    return _gap_quality(d, adelie_path(d, tol))


def _cv_target(d):
    """Our full-data path's worst relgap at the CV tol: the accuracy the CV peers match."""
    return _gap_quality(d, ours_path(d))


def ours_cv_ratios(d):
    """Several l1_ratio values: the fold problems (centred copies, group Grams) are shared
    by the ratios (issue 9); each ratio has its own 20-alpha grid."""
    from sklearn_normpen import GroupLassoPathCV
    est = GroupLassoPathCV(groups=d["groups"], l1_ratio=[0.0, 0.5, 0.9], alphas=20, cv=5,
                           fit_intercept=False, tol=TOL_OURS,
                           standardize=False).fit(d["X"], d["y"])
    return est.coef_, est.alpha_, est.l1_ratio_


def _cv_ratios_quality(d, out):
    coef, alpha, rho = out
    return _gap_quality(dict(d, rho=rho), coef, alpha)


def skglm_gridsearch(d):
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from skglm import GroupLasso
    est = GroupLasso(groups=5, weights=np.full(len(d["groups"]), np.sqrt(5)),
                     fit_intercept=False, tol=TOL_SKGLM)
    gs = GridSearchCV(est, {"alpha": list(d["alphas"])}, cv=PredefinedSplit(d["fold"]),
                      scoring="neg_mean_squared_error").fit(d["X"], d["y"])
    return gs.best_estimator_.coef_, gs.best_params_["alpha"]


def _cv_quality(d, out):
    """The selected alpha (every CV runner returns it)."""
    return float(out if np.ndim(out) == 0 else out[1])


B_PEER_NOTE_SK = ("not run at full size: one mid-path skglm fit had not finished after "
                  "10 min (measured once, 2026-11-22); see B'")
B_PEER_NOTE_CE = "not run at full size (not attempted: time budget); see B'"


def cases(quick=False):
    ok_sk, why_sk = harness.peer("skglm", "skglm")
    ok_ce, why_ce = harness.peer("celer", "celer")
    ok_gl, why_gl = harness.peer("group-lasso", "group_lasso")
    if quick:
        A = dict(n=500, p=100, n_active=4)
        B = dict(n=2000, p=2000, density=0.005)
        Bs = dict(n=1000, p=1000, density=0.005)
    else:
        A = dict(n=5000, p=1000, n_active=20)
        B = dict(n=20000, p=20000, density=0.002)
        Bs = dict(n=5000, p=5000, density=0.002)
    ok_ad, why_ad, _ = peers.adelie_status()
    ad_path = Runner("adelie grpnet", adelie_path, available=ok_ad, why_unavailable=why_ad,
                     tols=TOLS_ADELIE)
    W = (dict(n=200, p=2000, n_active=5) if quick else dict(n=500, p=10000, n_active=20))
    gl_path = Runner("group-lasso (path)", lambda d: None, available=False,
                     why_unavailable="not run: one mid-path fit takes ~10-40 s (see mid-path "
                     "rows); 50 warm-started fits exceed the benchmark budget")
    q_path = lambda d, out: _gap_quality(d, out)  # noqa: E731
    q_mid = lambda d, out: _gap_quality(d, out, d["mid"])  # noqa: E731
    return [
        Case("A path (group lasso, dense)", _make("dense", 0.0, 50, 1e-2, **A),
             [Runner("ours group_lasso_path", ours_path, ours=True),
              Runner("skglm GroupLasso", skglm_path, available=ok_sk, why_unavailable=why_sk),
              Runner("celer GroupLasso", celer_path, available=ok_ce, why_unavailable=why_ce),
              ad_path, gl_path],
             quality=q_path, quality_label="max rel gap"),
        Case("A mid-path fit", _make("dense", 0.0, 50, 1e-2, **A),
             [Runner("ours GroupLassoRegressor", ours_mid, ours=True),
              Runner("skglm GroupLasso", skglm_mid, available=ok_sk, why_unavailable=why_sk),
              Runner("celer GroupLasso", celer_mid, available=ok_ce, why_unavailable=why_ce),
              Runner("group-lasso (FISTA, 200 it)", grouplasso_mid, available=ok_gl,
                     why_unavailable=why_gl)],
             quality=q_mid, quality_label="rel gap"),
        Case("B path (group lasso, sparse, full size)", _make("sparse", 0.0, 50, 5e-2, **B),
             [Runner("ours group_lasso_path", ours_path, ours=True),
              Runner("skglm GroupLasso", skglm_path, available=False,
                     why_unavailable=B_PEER_NOTE_SK),
              Runner("celer GroupLasso", celer_path, available=False,
                     why_unavailable=B_PEER_NOTE_CE)],
             quality=q_path, quality_label="max rel gap"),
        Case("B' path (sparse, n=p=5000, 20 alphas)", _make("sparse", 0.0, 20, 1e-1, **Bs),
             [Runner("ours group_lasso_path", ours_path, ours=True),
              Runner("skglm GroupLasso", skglm_path, available=ok_sk, why_unavailable=why_sk),
              Runner("celer GroupLasso", celer_path, available=ok_ce, why_unavailable=why_ce),
              ad_path],
             quality=q_path, quality_label="max rel gap",
             note="B at a size the peers finish: same density (0.002) and group size (5)."),
        Case("B' mid-path fit", _make("sparse", 0.0, 20, 1e-1, **Bs),
             [Runner("ours GroupLassoRegressor", ours_mid, ours=True),
              Runner("skglm GroupLasso", skglm_mid, available=ok_sk, why_unavailable=why_sk),
              Runner("celer GroupLasso", celer_mid, available=ok_ce, why_unavailable=why_ce)],
             quality=q_mid, quality_label="rel gap"),
        Case("C path (sparse-group, rho=0.5)", _make("dense", 0.5, 50, 1e-2, **A),
             [Runner("ours group_lasso_path", ours_path, ours=True),
              Runner("skglm WeightedL1GroupL2", skglm_path, available=ok_sk,
                     why_unavailable=why_sk)],
             quality=q_path, quality_label="max rel gap",
             note="celer and adelie have no sparse-group lasso; group-lasso not run on "
                  "paths (see A)."),
        Case("W path (group lasso, wide dense, 2000 groups of 5)",
             _make("dense", 0.0, 50, 1e-2, **W),
             [Runner("ours group_lasso_path", ours_path, ours=True),
              Runner("skglm GroupLasso", skglm_path, available=ok_sk, why_unavailable=why_sk),
              Runner("celer GroupLasso", celer_path, available=ok_ce, why_unavailable=why_ce),
              ad_path],
             quality=q_path, quality_label="max rel gap"),
        Case("MT wide path (multi-task lasso, dense 500x10000, K=5)",
             _make_multi(*((200, 2000) if quick else (500, 10000)), 5, 20, False),
             [Runner("ours multitask_enet_path", _ours_multi(False), ours=True),
              Runner("adelie grpnet multigaussian", _adelie_multi(False), available=ok_ad,
                     why_unavailable=why_ad, tols=TOLS_ADELIE),
              Runner("sklearn enet_path (multi-task)", _sklearn_multi,
                     tols=[1e-4, 1e-5, 1e-6, 5e-7, 2e-7, 1e-7, 1e-8])],
             quality=_multi_quality, quality_label="max rel gap",
             note="intercept, 50 alphas to 1e-2 alpha_max, 20 non-zero rows; quality = the "
                  "package's multi-task certificate for every runner."),
        Case("MTG wide path (multi-response group lasso, dense 500x10000, K=3)",
             _make_multi(*((200, 2000) if quick else (500, 10000)), 3, 50, True),
             [Runner("ours multitask_group_lasso_path", _ours_multi(True), ours=True),
              Runner("adelie grpnet multigaussian", _adelie_multi(True), available=ok_ad,
                     why_unavailable=why_ad, tols=TOLS_ADELIE)],
             quality=_multi_quality, quality_label="max rel gap",
             note="groups of 5, l1_ratio 0, 10 non-zero groups, otherwise as MT "
                  "(scikit-learn has no multi-response group lasso)."),
        Case("C mid-path fit", _make("dense", 0.5, 50, 1e-2, **A),
             [Runner("ours GroupLassoRegressor", ours_mid, ours=True),
              Runner("skglm WeightedL1GroupL2", skglm_mid, available=ok_sk,
                     why_unavailable=why_sk),
              Runner("group-lasso (FISTA, 200 it)", grouplasso_mid, available=ok_gl,
                     why_unavailable=why_gl)],
             quality=q_mid, quality_label="rel gap"),
        Case("CV 5 folds, 20 alphas (n=2000, p=500)", _make_cv,
             [Runner("ours GroupLassoPathCV", ours_cv, ours=True),
              Runner("ours GroupLassoPathCV n_jobs=2", _ours_cv(2), ours=True),
              Runner("adelie cv_grpnet", _adelie_cv(1), available=ok_ad,
                     why_unavailable=why_ad, tols=TOLS_ADELIE, calib=_adelie_path_calib),
              Runner("adelie cv_grpnet n_threads=2", _adelie_cv(2), available=ok_ad,
                     why_unavailable=why_ad, tols=TOLS_ADELIE, calib=_adelie_path_calib),
              Runner("GridSearchCV(skglm GroupLasso)", skglm_gridsearch, available=ok_sk,
                     why_unavailable=why_sk)],
             quality=_cv_quality, quality_label="alpha_min", target=_cv_target,
             note="adelie cv_grpnet builds its own 20-point grid (ratio 1e-2) from the lasso's "
                  "lmda_max (its grid call ignores groups) on its seeded folds, which our rows "
                  "use too (PredefinedSplit); adelie's tol is matched on its full-data path."),
        Case("CV 5 folds, 3 l1_ratios x 20 alphas (n=2000, p=500)", _make_cv,
             [Runner("ours GroupLassoPathCV", ours_cv_ratios, ours=True)],
             quality=_cv_ratios_quality, quality_label="rel gap of final fit"),
    ]
