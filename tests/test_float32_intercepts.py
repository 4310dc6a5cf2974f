"""float32 data beside an offset column (mean 1e4, unit spread): the returned model — float32
coefficients and the float64 intercept — is the certified one.

Two defects lived here: the intercepts were rounded to float32 after the certificate
(``x̄ᵀw ~ 6e4`` rounds by ~2e-3: the returned logistic model sat 1.7e-7 of the null
deviance above the optimum with a reported gap of 9.5e-8 at ``tol=1e-7``), and the GLM,
multi-task-group and group-multinomial solvers formed the intercept from the coefficients
*before* their rounding to float32, so the rounding's shift ``x̄ᵀδ`` along the offset
column stayed in every linear predictor. Checks: the intercept's own optimality condition
at the returned model, and its objective against a float64 reference (NumPy formulas of the
user guide), within the reported gap.
"""
import numpy as np
import pytest
from scipy.special import logsumexp

import sklearn_normpen as S


def _data(seed, n=150, p=6, offset=1e4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, :2] += offset  # offset columns: |x̄| / σ = offset
    X = X.astype(np.float32)
    Xe = X.astype(np.float64)
    Z = (Xe - Xe.mean(0)) / Xe.std(0)
    eta = Z @ np.array([1.5, -1.0, 0.8, 0.0, 0.0, 0.5])
    return rng, X, Xe, Z, eta


def _fit(Est, X, y, **kw):
    m = Est(tol=1e-7, max_iter=5000, **kw).fit(X, y)
    r = Est(tol=1e-13, max_iter=200000, **kw).fit(X.astype(np.float64), y)
    return m, r


def _penalty(Xe, w, kw, groups=None):
    v = Xe.std(0) * w
    rho = kw["l1_ratio"]
    if groups is None:
        return rho * np.abs(v).sum() + 0.5 * (1 - rho) * np.sum(v * v)
    return rho * np.abs(v).sum() + (1 - rho) * sum(
        np.sqrt(len(g)) * np.linalg.norm(v[g]) for g in groups)


@pytest.mark.parametrize("seed,offset", [(0, 1e4), (1, 1e4), (2, 1e5)])
@pytest.mark.parametrize("kind", ["enet_binomial", "group_binomial", "group_poisson"])
def test_binary_and_poisson(kind, seed, offset):
    rng, X, Xe, Z, eta = _data(seed, offset=offset)
    kw = dict(alpha=2e-3, l1_ratio=0.5)
    groups = None
    if kind == "enet_binomial":
        Est, family = S.ElasticNetClassifier, "binomial"
    else:
        groups = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]
        kw["groups"] = np.arange(6) // 2
        Est, family = ((S.GroupLassoClassifier, "binomial") if kind == "group_binomial"
                       else (S.GroupLassoPoissonRegressor, "poisson"))
    if family == "binomial":
        y = (rng.random(Xe.shape[0]) < 1 / (1 + np.exp(-eta))).astype(int)
    else:
        y = rng.poisson(np.exp(eta / 2 + 1)).astype(float)
    m, r = _fit(Est, X, y, **kw)
    assert m.coef_.dtype == np.float32 and np.asarray(m.intercept_).dtype == np.float64

    def parts(est):
        e = Xe @ np.asarray(est.coef_, np.float64).ravel() + float(np.ravel(est.intercept_)[0])
        if family == "binomial":
            loss, mu = np.logaddexp(0, e) - y * e, 1 / (1 + np.exp(-e))
        else:
            loss, mu = np.exp(e) - y * e, np.exp(e)
        pen = _penalty(Xe, np.asarray(est.coef_, np.float64).ravel(), kw, groups)
        return loss.mean() + kw["alpha"] * pen, np.mean(mu - y)

    P, slope = parts(m)
    P_ref, _ = parts(r)
    # the intercept of the *returned* coefficients: its derivative vanishes (before: the
    # coefficients' rounding left x̄ᵀδ ~ 1e-4..1e-3 in every η, a slope of ~1e-4)
    assert abs(slope) < 2e-6 * max(np.mean(np.abs(y)), 1)
    assert P - P_ref <= m.dual_gap_ + r.dual_gap_ + 1e-12 * abs(P_ref)


@pytest.mark.parametrize("offset", [1e4, 1e5])
@pytest.mark.parametrize("multinomial", ["grouped", "ungrouped"])
def test_multinomial(multinomial, offset):
    rng, X, Xe, Z, eta = _data(3, offset=offset)
    K = 4
    B = rng.standard_normal((6, K)) * 1.5
    y = (Z @ B + rng.gumbel(size=(Xe.shape[0], K))).argmax(1)
    kw = dict(alpha=1e-3, l1_ratio=0.3, multinomial=multinomial)
    m, r = _fit(S.ElasticNetClassifier, X, y, **kw)
    assert m.coef_.dtype == np.float32 and m.intercept_.dtype == np.float64
    onehot = np.eye(K)[y]
    sd = Xe.std(0)[:, None]

    def P(est):
        Wc = np.asarray(est.coef_, np.float64).T
        e = Xe @ Wc + est.intercept_
        V = sd * Wc
        rows = np.linalg.norm(V, axis=1)
        pen = (0.3 * rows.sum() + 0.35 * np.sum(rows ** 2) if multinomial == "grouped"
               else 0.3 * np.abs(V).sum() + 0.35 * np.sum(V * V))
        return np.mean(logsumexp(e, axis=1) - np.sum(onehot * e, axis=1)) + 1e-3 * pen

    assert P(m) - P(r) <= m.dual_gap_ + r.dual_gap_ + 1e-12 * abs(P(r))


@pytest.mark.parametrize("offset", [1e4, 1e5])
def test_multitask_group_regressor(offset):
    rng, X, Xe, Z, eta = _data(4, offset=offset)
    Y = np.column_stack([eta, -eta + Z[:, 3]]) + 0.3 * rng.standard_normal((Xe.shape[0], 2))
    kw = dict(alpha=1e-2, l1_ratio=0.3, groups=np.arange(6) // 2)
    m, r = _fit(S.MultiTaskGroupLassoRegressor, X, Y, **kw)
    assert m.coef_.dtype == np.float32 and m.intercept_.dtype == np.float64
    # the intercepts are optimal for the returned coefficients (before: the scaled offset
    # columns' rounding left a mean residual of 4e-4 at offset 1e4)
    for est, rel in ((m, 1e-7), (r, 1e-10)):
        R = Y - Xe @ np.asarray(est.coef_, np.float64).T - est.intercept_
        assert np.all(np.abs(R.mean(axis=0)) < rel * np.abs(Y).max())
    groups = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]

    def P(est):
        W = np.asarray(est.coef_, np.float64).T
        R = Y - Xe @ W - est.intercept_
        V = Xe.std(0)[:, None] * W
        rows = np.linalg.norm(V, axis=1)
        pen = 0.3 * rows.sum() + 0.7 * sum(np.sqrt(2) * np.linalg.norm(V[g]) for g in groups)
        return np.sum(R * R) / (2 * len(Y)) + 1e-2 * pen

    assert P(m) - P(r) <= m.dual_gap_ + r.dual_gap_ + 1e-12 * abs(P(r))


@pytest.mark.parametrize("sparse", [False, True])
def test_glm_linear_predictor_reads_the_user_columns(sparse):
    """The GLM solver's η (which the certificate's primal reads) is that of the user's
    float32 columns: its layout stores an offset column centred and rounded to float32
    (6e-8 of the spread), so η read off the layout was another data set's (errors ~1e-7
    here; now the rounding of float64 sums, ~1e-11)."""
    import scipy.sparse as sps

    from sklearn_normpen._design import Design
    from sklearn_normpen._solvers.prox_newton import GLMProblem
    from sklearn_normpen.datafits import Logistic
    rng, X, Xe, Z, eta = _data(5, offset=1e5)
    y = (eta > 0).astype(np.float32)
    Xin = sps.csc_matrix(X) if sparse else X
    pb = GLMProblem(Design(Xin, y, None, True), "sparse" if sparse else "dense", Logistic)
    assert pb.design.Xk is not pb.design.X  # the layout holds centred copies
    w = pb.start((rng.standard_normal(6) * 2).astype(np.float32))
    coef, b = pb.to_original(w)
    exact = Xe @ np.asarray(coef, np.float64) + b
    assert np.max(np.abs(pb.eta - exact)) < 1e-9


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_certificate_reads_the_users_float32_columns(sparse, weighted):
    # The Gaussian group solver fits float32 data on a prepared copy (centred, sqrt(s)-
    # weighted; here beside an offset column: centred, then rounded) and its certificate
    # used to read that copy and the rounded target: another data set. Its certificate
    # at given coefficients must be that of the float64 data holding the same numbers.
    import scipy.sparse as sps
    from sklearn_normpen._certificate import certificate
    from sklearn_normpen._design import Design
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    from sklearn_normpen._solvers.block_cd import GroupProblem
    rng, X, Xe, Z, eta = _data(3)
    X[:, 2:4] = X[:, 2:4] * 3 + 30  # more offset columns
    Xe = X.astype(np.float64)
    y = eta + 0.3 * rng.standard_normal(X.shape[0]) + 50
    sw = rng.uniform(0.2, 3, X.shape[0]) if weighted else None
    st = parse_groups([[0, 1], [2, 3], [4], [5]], 6)
    gw = resolve_group_weights(None, st)
    w = np.array([0.7, -0.4, 1.3, 0.0, -0.25, 0.5]).astype(np.float32).astype(np.float64)
    gaps = []
    for data in (X, Xe):
        data = sps.csc_matrix(data) if sparse else data
        prob = GroupProblem(Design(data, y, sw, True), st, gw)
        pen = prob.penalty(0.5)
        wp = prob.start(w)
        gaps.append(certificate(prob.cert_stats(wp, pen), pen, 0.01, wp).gap)
    assert gaps[1] > 0
    assert gaps[0] == pytest.approx(gaps[1], rel=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("layout", ["dense", "sparse", "wide"])
def test_float32_held_out_errors_exact_beside_an_offset_column(layout):
    # float32 data with a column of mean 1e6: each fold's held-out MSE (mse_path_) equals
    # the float64 error of the fold's own float32 coefficients and intercept on the
    # float32 rows, in every mode. Float32 predictions X_te @ w (cancelled by the
    # intercept) had put 0.4-0.9% into the residual mode's errors (covariance mode:
    # float64 moments, exact), enough to select another alpha than covariance mode did.
    # (float32 stops short of tol=1e-8 on the wide case: the errors are those of the
    # coefficients returned, certified or not)
    import scipy.sparse as sp
    from numpy.testing import assert_allclose
    from sklearn.model_selection import PredefinedSplit

    from sklearn_normpen import ElasticNetPathCV, enet_path
    rng = np.random.default_rng(0)
    n, p = (40, 60) if layout == "wide" else (40, 6)
    X = rng.standard_normal((n, p))
    y = X[:, 0] + 0.1 * rng.standard_normal(n)
    X[:, 2] += 1e6
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    Xin = sp.csc_matrix(X32) if layout == "sparse" else X32
    cv = PredefinedSplit(np.repeat(np.arange(4), 10))
    kw = dict(l1_ratio=1.0, fit_intercept=True, standardize=True, tol=1e-8)
    est = ElasticNetPathCV(cv=cv, precompute=False, **kw).fit(Xin, y32)
    alphas = est.alphas_.ravel()
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    for k, (tr, te) in enumerate(cv.split(X32)):
        Xtr = Xin[tr]
        _, W, _ = enet_path(Xtr, y32[tr], alphas=alphas, precompute=False, **kw)
        W = W.astype(np.float64)
        b = y64[tr].mean() - X64[tr].mean(0) @ W  # (the intercept the fit returns)
        mse = ((y64[te, None] - X64[te] @ W - b) ** 2).mean(0)
        assert_allclose(np.ravel(est.mse_path_[:, k]), mse, rtol=1e-7)
