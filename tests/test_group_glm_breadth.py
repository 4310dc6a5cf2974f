"""Group-lasso binomial/Poisson: the reweighted block-CD model of each Newton step (one
``GroupProblem`` per working set of groups), ``standardize``, and unpenalised groups.

References are independent: a freshly built ``GroupProblem`` for the reweighted one,
cvxpy + Clarabel optima, NumPy objectives and KKT conditions written here, and the
NumPy gaps of ``_glm_oracle``."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.model_selection import KFold

from sklearn_normpen import (GroupLassoClassifier, GroupLassoClassifierPathCV,
                             GroupLassoPoissonRegressor, GroupLassoPoissonRegressorPathCV,
                             group_lasso_path)
from sklearn_normpen._design import Design, ReweightedDesign
from sklearn_normpen._groups import parse_groups
from sklearn_normpen._solvers.block_cd import GroupProblem
from _glm_oracle import glm_gap, glm_null_deviance

GROUPS = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def _binomial(n=120, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:3] = [1.0, -1.0, 0.5]
    w[6] = 0.4
    return X, (rng.random(n) < expit(X @ w + 0.2)).astype(float)


def _counts(n=120, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:3] = [0.4, -0.3, 0.2]
    w[6] = 0.3
    return X, rng.poisson(np.exp(X @ w + 0.5)).astype(float)


# -- objectives written here (unpenalised groups: no l1 term either) -----------------------
def _loss(family, y, eta):
    return (np.logaddexp(0, eta) - y * eta) if family == "binomial" else np.exp(eta) - y * eta


def _mean(family, eta):
    return expit(eta) if family == "binomial" else np.exp(eta)


def _primal(family, X, y, w, b, alpha, rho, groups, gw, sw=None):
    s = np.ones(len(y)) if sw is None else sw
    pen = sum(c * (rho * np.abs(w[g]).sum() + (1 - rho) * np.linalg.norm(w[g]))
              if c > 0 else 0.0 for g, c in zip(groups, gw))
    # the package's c_g multiplies the group norm only; the l1 term is unweighted
    pen = sum((rho * np.abs(w[g]).sum() + (1 - rho) * c * np.linalg.norm(w[g]))
              for g, c in zip(groups, gw) if c > 0)
    return float(s @ _loss(family, y, X @ w + b) / s.sum() + alpha * pen)


def _cvxpy(family, X, y, alpha, rho, groups, gw, sw=None):
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    s = np.ones(n) if sw is None else sw
    w, b = cp.Variable(p), cp.Variable()
    eta = X @ w + b
    f = cp.logistic(eta) if family == "binomial" else cp.exp(eta)
    pen = sum(rho * cp.norm1(w[g]) + (1 - rho) * c * cp.norm2(w[g])
              for g, c in zip(groups, gw) if c > 0)
    obj = cp.sum(cp.multiply(s, f - cp.multiply(y, eta))) / s.sum() + alpha * pen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(w.value), float(b.value)


def _kkt(family, X, y, w, b, alpha, rho, groups, gw, sw=None):
    """Largest violation of the optimality conditions (NumPy): the intercept's and the
    unpenalised groups' gradients vanish, penalised groups as the sparse-group lasso's."""
    s = np.ones(len(y)) if sw is None else sw
    r = s * (y - _mean(family, X @ w + b))
    z = X.T @ r / s.sum()
    worst = abs(float(r.sum() / s.sum()))
    for g, c in zip(groups, gw):
        zg, wg = z[g], w[g]
        if c == 0:
            worst = max(worst, np.linalg.norm(zg))
        elif np.linalg.norm(wg) == 0:
            soft = np.maximum(np.abs(zg) - alpha * rho, 0)
            worst = max(worst, np.linalg.norm(soft) - alpha * (1 - rho) * c)
        else:
            sub = np.where(wg != 0, alpha * rho * np.sign(wg),
                           np.clip(zg, -alpha * rho, alpha * rho))
            worst = max(worst, np.linalg.norm(
                zg - sub - alpha * (1 - rho) * c * wg / np.linalg.norm(wg)))
    return worst


# -- the reweighted GroupProblem ------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reweighted_group_problem_equals_a_fresh_one(sparse, dtype):
    """After ``reweight`` + ``reweighted`` the problem holds exactly what a GroupProblem
    built from scratch on the new weights and target holds, and solves to the same point."""
    rng = np.random.default_rng(0)
    n, p = 80, 9
    X = rng.standard_normal((n, p)) + 3.0  # non-zero means: centring matters
    if sparse:
        X[rng.random((n, p)) < 0.5] = 0.0
        X = sp.csc_matrix(X)
    X = X.astype(dtype) if sparse else np.asfortranarray(X, dtype=dtype)
    structure = parse_groups([[0, 1, 2], [3, 4], [5, 6, 7, 8]], p)
    gw = np.array([1.0, 2.0, 0.5])
    base = Design(X, np.zeros(n, dtype=dtype), None, True)
    rw = ReweightedDesign(base)
    assert rw.reweight(rng.standard_normal(n), rng.uniform(0.1, 1, n))
    pb = GroupProblem(rw, structure, gw)
    z, s = rng.standard_normal(n), rng.uniform(0.05, 0.25, n)  # a second Newton step
    w = np.zeros(p)
    w[[0, 2, 5]] = [0.3, -0.2, 0.1]
    assert rw.reweight(z, s)
    Xd = X.toarray() if sparse else X
    xm = s @ Xd.astype(np.float64) / s.sum()
    R = (z - s @ z / s.sum()) - (Xd.astype(np.float64) - xm) @ w  # NumPy yc - Xc w
    w1 = pb.reweighted(w, R)
    fresh = GroupProblem(Design(X, z.astype(dtype), s, True), structure, gw)
    w2 = fresh.start(w)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(pb.L, fresh.L, rtol=rtol)
    np.testing.assert_allclose(pb.Q, fresh.Q, rtol=rtol, atol=rtol * np.abs(fresh.Q).max())
    np.testing.assert_allclose(pb.r, fresh.r, rtol=rtol, atol=rtol * np.abs(fresh.r).max())
    assert pb.null_deviance == pytest.approx(fresh.null_deviance, rel=rtol)
    pen = fresh.penalty(0.3)
    tol = 1e-10 * fresh.null_deviance if dtype == np.float64 else 1e-5 * fresh.null_deviance
    c1, _ = pb.solve(w1, pen, 0.02, tol, 10000)
    c2, _ = fresh.solve(w2, pen, 0.02, tol, 10000)
    assert c1.gap <= tol and c2.gap <= tol
    atol = 1e-7 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(w1, w2, atol=atol)
    assert pb.to_original(w1)[1] == pytest.approx(fresh.to_original(w2)[1], abs=atol)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_working_sets_of_groups_give_the_certified_path(family):
    """Many groups (the Newton models run on a few of them): every path point matches
    cvxpy, its reported gap bounds the true error and the NumPy gap is tiny."""
    rng = np.random.default_rng(3)
    n, G = 150, 30
    groups = [list(range(3 * g, 3 * g + 3)) for g in range(G)]
    X = rng.standard_normal((n, 3 * G))
    w = np.zeros(3 * G)
    w[:6] = [0.6, -0.5, 0.3, 0.4, 0.2, -0.3]
    eta = X @ w + 0.1
    y = ((rng.random(n) < expit(eta)).astype(float) if family == "binomial"
         else rng.poisson(np.exp(0.5 * eta)).astype(float))
    gw = np.sqrt(3) * np.ones(G)
    alphas, coefs, gaps = group_lasso_path(X, y, groups=groups, l1_ratio=0.2,
                                           family=family, n_alphas=12, eps=0.05,
                                           fit_intercept=True, standardize=False,
                                           tol=1e-10, max_iter=100000)
    unit = glm_null_deviance(family, y)
    for k in [2, 6, 11]:
        a = alphas[k]
        wr, br = _cvxpy(family, X, y, a, 0.2, groups, gw)
        np.testing.assert_allclose(coefs[:, k], wr, atol=5e-6)
        assert 0 < np.count_nonzero(coefs[:, k]) < 3 * G
    for k, a in enumerate(alphas):
        assert 0 <= gaps[k] <= 1e-10 * unit * (1 + 1e-9)
        b = _intercept(family, X, y, coefs[:, k])
        g = glm_gap(family, X, y, coefs[:, k], b, a, 0.2, groups=groups)
        assert -1e-12 <= g <= 1e-6 * unit


def _intercept(family, X, y, w):
    """The intercept minimising the loss for fixed ``w`` (1-D Newton, NumPy)."""
    b, off = 0.0, X @ w
    for _ in range(100):
        mu = _mean(family, off + b)
        v = mu * (1 - mu) if family == "binomial" else mu
        step = np.sum(y - mu) / np.sum(v)
        b += step
        if abs(step) < 1e-15:
            break
    return b


# -- standardize --------------------------------------------------------------------------
@pytest.mark.parametrize("est_cls,data", [(GroupLassoClassifier, _binomial),
                                          (GroupLassoPoissonRegressor, _counts)])
@pytest.mark.parametrize("sparse", [False, True])
def test_standardize_equals_a_fit_on_prestandardised_columns(est_cls, data, sparse):
    X, y = data(seed=4)
    rng = np.random.default_rng(4)
    X = X * rng.uniform(0.1, 20, X.shape[1]) + 2.0  # units: the penalty now depends on them
    X[:, 5] = 3.0  # constant column: coefficient 0
    sw = rng.uniform(0.3, 2, len(y))
    m = sw @ X / sw.sum()
    sd = np.sqrt(sw @ (X - m) ** 2 / sw.sum())
    keep = sd > 1e-12
    Xs = np.where(keep, X / np.where(keep, sd, 1), 0.0)
    kw = dict(groups=GROUPS, alpha=0.03, l1_ratio=0.3, tol=1e-11, max_iter=100000)
    ref = est_cls(standardize=False, **kw).fit(Xs, y, sw)
    Xin = sp.csc_matrix(X) if sparse else X
    est = est_cls(standardize=True, **kw).fit(Xin, y, sw)
    want = np.where(keep, ref.coef_.ravel() / np.where(keep, sd, 1), 0.0)
    np.testing.assert_allclose(est.coef_.ravel(), want, rtol=1e-5, atol=1e-8)
    assert est.coef_.ravel()[5] == 0
    b_want = np.ravel(ref.intercept_)[0] - float(
        np.where(keep, m, 0) @ (np.where(keep, ref.coef_.ravel() / np.where(keep, sd, 1), 0)))
    # the intercept is the same model's: the shift of the (unpenalised) centring
    eta_ref = Xs @ ref.coef_.ravel() + np.ravel(ref.intercept_)[0]
    eta = X @ est.coef_.ravel() + np.ravel(est.intercept_)[0]
    np.testing.assert_allclose(eta, eta_ref, atol=1e-6)
    assert np.isfinite(b_want)
    # standardize=False fits the objective on the user's columns: a different model
    raw = est_cls(standardize=False, **kw).fit(X, y, sw)
    # the default is standardize=True (glmnet's, the package's)
    np.testing.assert_allclose(est_cls(**kw).fit(Xin, y, sw).coef_, est.coef_, rtol=1e-12)
    assert not np.allclose(raw.coef_, est.coef_, atol=1e-4)


@pytest.mark.parametrize("cv_cls,one_cls,data", [
    (GroupLassoClassifierPathCV, GroupLassoClassifier, _binomial),
    (GroupLassoPoissonRegressorPathCV, GroupLassoPoissonRegressor, _counts)])
def test_path_cv_standardize_returns_user_scale_coefficients(cv_cls, one_cls, data):
    X, y = data(seed=5)
    X = X * np.linspace(0.2, 9, X.shape[1])
    cv = cv_cls(groups=GROUPS, alphas=8, cv=3, standardize=True, tol=1e-10,
                max_iter=100000).fit(X, y)
    for k in [1, 5]:
        one = one_cls(groups=GROUPS, alpha=cv.alphas_[k], standardize=True, tol=1e-10,
                      max_iter=100000).fit(X, y)
        np.testing.assert_allclose(cv.coef_path_[:, k], one.coef_.ravel(), atol=1e-6)
    np.testing.assert_allclose(
        cv.coef_.ravel(), cv.coef_path_[:, list(cv.alphas_).index(cv.alpha_)])
    assert np.all(cv.fold_dual_gap_ >= 0)


# -- unpenalised groups -------------------------------------------------------------------
@pytest.mark.parametrize("family,est_cls,data", [
    ("binomial", GroupLassoClassifier, _binomial),
    ("poisson", GroupLassoPoissonRegressor, _counts)])
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_unpenalised_groups_match_cvxpy(family, est_cls, data, rho):
    """A group of weight 0 and two features in no group are fitted without penalty; the
    certificate bounds the true error, and the KKT conditions hold (NumPy)."""
    X, y = data(seed=6)
    sw = np.random.default_rng(6).uniform(0.3, 2, len(y))
    groups = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]  # 10, 11: in no group
    gw = np.array([0.0, 1.5, 1.0, 1.0])
    ref_groups, ref_gw = groups + [[10], [11]], np.r_[gw, 0.0, 0.0]
    unit = glm_null_deviance(family, y, sw)
    for alpha in [0.3, 0.05, 0.01]:
        est = est_cls(standardize=False, groups=groups, group_weights=gw, alpha=alpha,
                      l1_ratio=rho,
                      tol=1e-11, max_iter=100000).fit(X, y, sw)
        w, b = est.coef_.ravel(), np.ravel(est.intercept_)[0]
        wr, br = _cvxpy(family, X, y, alpha, rho, ref_groups, ref_gw, sw)
        np.testing.assert_allclose(w, wr, atol=2e-6)
        np.testing.assert_allclose(b, br, atol=2e-6)
        assert np.all(w[[0, 1, 2, 10, 11]] != 0)  # unpenalised: never held at zero
        P = _primal(family, X, y, w, b, alpha, rho, ref_groups, ref_gw, sw)
        Ps = _primal(family, X, y, wr, br, alpha, rho, ref_groups, ref_gw, sw)
        assert 0 <= est.dual_gap_ <= 1e-11 * unit * (1 + 1e-9)
        assert P - Ps <= est.dual_gap_ + 1e-10
        assert _kkt(family, X, y, w, b, alpha, rho, ref_groups, ref_gw, sw) < 1e-6
    # at alpha_max every penalised group is zero, the unpenalised features fitted
    cv_cls = (GroupLassoClassifierPathCV if family == "binomial"
              else GroupLassoPoissonRegressorPathCV)
    cv = cv_cls(groups=groups, group_weights=gw, l1_ratio=rho, alphas=6, cv=3,
                tol=1e-10, max_iter=100000).fit(X, y, sw)
    first = cv.coef_path_[:, 0]
    assert np.all(first[3:10] == 0) and np.all(first[[0, 1, 2, 10, 11]] != 0)
    assert _kkt(family, X, y, first, cv.intercept_path_[0], cv.alphas_[0], rho,
                ref_groups, ref_gw, sw) < 1e-6
    assert np.any(cv.coef_path_[3:10, -1] != 0)  # and they enter below it
    assert np.all(cv.dual_gap_path_ <= 1e-10 * glm_null_deviance(family, y, sw) * 1.001)
    assert np.all(cv.dual_gap_path_ >= 0)


def test_unpenalised_groups_with_a_bad_fit_get_an_honest_gap():
    """A far-from-optimal point (few epochs): the reported gap still bounds the error."""
    X, y = _binomial(seed=7)
    groups, gw = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]], np.array([0, 1, 1, 1.0])
    wr, br = _cvxpy("binomial", X, y, 0.02, 0.0, groups, gw)
    Ps = _primal("binomial", X, y, wr, br, 0.02, 0.0, groups, gw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GroupLassoClassifier(standardize=False,
                                   groups=groups, group_weights=gw, alpha=0.02, tol=1e-14,
                                   max_iter=1).fit(X, y)
    P = _primal("binomial", X, y, est.coef_.ravel(), np.ravel(est.intercept_)[0], 0.02, 0.0, groups,
                gw)
    assert est.dual_gap_ >= P - Ps - 1e-12
    assert est.dual_gap_ > 0


# -- three or more classes: the multinomial family with feature groups --------------------
MGROUPS = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def _multiclass(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 9))
    W = np.zeros((9, 3))
    W[:3] = rng.standard_normal((3, 3))
    W[6] = [0.4, -0.2, 0.0]
    eta = X @ W + [0.3, 0.0, -0.2]
    P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    return X, np.array([rng.choice(3, p=p) for p in P])


def _mn_primal(X, codes, W, b, alpha, rho, groups, gw, sw=None):
    s = np.ones(len(codes)) if sw is None else sw
    eta = X @ W + b
    m = eta.max(axis=1)
    loss = np.log(np.exp(eta - m[:, None]).sum(axis=1)) + m - eta[np.arange(len(codes)),
                                                                   codes]
    rows = np.linalg.norm(W, axis=1)
    pen = rho * rows.sum() + (1 - rho) * sum(c * np.linalg.norm(rows[g])
                                             for g, c in zip(groups, gw))
    return float(s @ loss / s.sum() + alpha * pen)


def _mn_cvxpy(X, codes, alpha, rho, groups, gw, sw=None):
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    s = np.ones(n) if sw is None else sw
    Y = np.eye(3)[codes]
    W, b = cp.Variable((p, 3)), cp.Variable(3)
    eta = X @ W + np.ones((n, 1)) @ cp.reshape(b, (1, 3), order="C")
    loss = cp.sum(cp.multiply(s, cp.log_sum_exp(eta, axis=1)
                              - cp.sum(cp.multiply(Y, eta), axis=1))) / s.sum()
    pen = (rho * sum(cp.norm2(W[j, :]) for j in range(p))
           + (1 - rho) * sum(c * cp.norm(W[g, :], "fro") for g, c in zip(groups, gw)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(loss + alpha * pen)).solve(
            solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(W.value), np.asarray(b.value)


@pytest.mark.parametrize("rho", [0.0, 0.4])
def test_three_classes_match_cvxpy(rho):
    X, codes = _multiclass()
    labels = np.array(["setosa", "versicolor", "virginica"])[codes]  # any label type
    sw = np.random.default_rng(8).uniform(0.5, 2, len(codes))
    gw = np.array([1.0, 2.0, 1.5])
    for alpha in [0.08, 0.02]:
        est = GroupLassoClassifier(standardize=False,
                                   groups=MGROUPS, group_weights=gw, alpha=alpha,
                                   l1_ratio=rho, tol=1e-8, max_iter=100000).fit(X, labels, sw)
        assert est.coef_.shape == (3, 9) and est.intercept_.shape == (3,)
        W, b = est.coef_.T, est.intercept_
        Wr, br = _mn_cvxpy(X, codes, alpha, rho, MGROUPS, gw, sw)
        P = _mn_primal(X, codes, W, b, alpha, rho, MGROUPS, gw, sw)
        Ps = _mn_primal(X, codes, Wr, br, alpha, rho, MGROUPS, gw, sw)
        # the certificate bounds the error (P below Clarabel's optimum by rounding only)
        assert -1e-13 <= P - Ps <= est.dual_gap_ + 1e-10
        unit = -np.sum(np.bincount(codes, sw) / sw.sum()
                       * np.log(np.bincount(codes, sw) / sw.sum()))
        assert est.dual_gap_ <= 1e-8 * unit * (1 + 1e-9)
        np.testing.assert_allclose(W, Wr, atol=2e-3)
        np.testing.assert_allclose(b - b.mean(), br - br.mean(), atol=2e-3)
        proba = est.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert set(est.predict(X)) <= set(labels)
        if alpha == 0.08 and rho == 0.0:
            assert np.all(est.coef_[:, 3:6] == 0)  # a whole |g| x K block is zero


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("alpha", [1e-2, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_three_classes_converge_on_iris_with_defaults(rho, alpha, dtype):
    """Iris in pairs of columns, default tol and max_iter. The Newton models' one
    curvature per row made the outer iteration linear and slow here (over 100 steps
    per fit, max_iter spent and a warning at alpha=1e-3); the exact Newton steps on
    the active rows finish it. The objective is checked against cvxpy + Clarabel."""
    from sklearn.datasets import load_iris
    from sklearn.exceptions import ConvergenceWarning
    X, codes = load_iris(return_X_y=True)
    X = X.astype(dtype)
    groups = [[0, 1], [2, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GroupLassoClassifier(groups=groups, alpha=alpha, l1_ratio=rho,
                                   standardize=False).fit(X, codes)
    gw = np.sqrt([2.0, 2.0])
    X64 = X.astype(np.float64)
    Wr, br = _mn_cvxpy(X64, codes, alpha, rho, groups, gw)
    P = _mn_primal(X64, codes, est.coef_.T.astype(np.float64), est.intercept_, alpha, rho,
                   groups, gw)
    Ps = _mn_primal(X64, codes, Wr, br, alpha, rho, groups, gw)
    unit = np.log(3.0)  # balanced classes: the intercept-only loss
    assert est.dual_gap_ <= 1e-4 * unit * (1 + 1e-9)
    assert -1e-10 <= P - Ps <= est.dual_gap_ + 1e-9


def test_three_classes_path_cv_folds_converge_with_defaults():
    """A 40-row, 3-class design in pairs: every training fold's path used to run out of
    max_iter from mid-path on (gaps up to 2e2 times the target); now every fit of the
    CV is certified, and the chosen fit matches cvxpy."""
    from sklearn.exceptions import ConvergenceWarning
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    codes = np.digitize(X[:, 0] + rng.standard_normal(40), [-0.5, 0.5])
    groups = [[0, 1], [2, 3], [4, 5]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cv = GroupLassoClassifierPathCV(groups=groups, cv=KFold(4),
                                        standardize=False).fit(X, codes)
    gw = np.sqrt([2.0, 2.0, 2.0])
    Wr, br = _mn_cvxpy(X, codes, cv.alpha_, 0.0, groups, gw)
    P = _mn_primal(X, codes, cv.coef_.T, cv.intercept_, cv.alpha_, 0.0, groups, gw)
    Ps = _mn_primal(X, codes, Wr, br, cv.alpha_, 0.0, groups, gw)
    assert -1e-10 <= P - Ps <= cv.dual_gap_ + 1e-9


def test_three_classes_singleton_groups_are_the_grouped_multinomial_lasso():
    from sklearn_normpen import ElasticNetClassifier
    X, codes = _multiclass(seed=2)
    a = GroupLassoClassifier(standardize=False, alpha=0.02, group_weights=np.ones(9), tol=1e-8,
                             max_iter=100000).fit(X, codes)
    b = ElasticNetClassifier(alpha=0.02, l1_ratio=1.0, multinomial="grouped",
                             standardize=False, tol=1e-8, max_iter=100000).fit(X, codes)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=2e-3)
    # the same objective: each point's value is within the other's certified gap
    Pa = _mn_primal(X, codes, a.coef_.T, a.intercept_, 0.02, 0.0, [[j] for j in range(9)],
                    np.ones(9))
    Pb = _mn_primal(X, codes, b.coef_.T, b.intercept_, 0.02, 0.0, [[j] for j in range(9)],
                    np.ones(9))
    assert Pa - Pb <= a.dual_gap_ + 1e-10 and Pb - Pa <= b.dual_gap_ + 1e-10


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_three_classes_path_cv_matches_a_direct_computation(rho):
    """GroupLassoClassifierPathCV with K = 3: each fold's held-out multinomial deviance
    at every alpha equals that of GroupLassoClassifier fitted on the training rows alone
    (-2 log p_y, probabilities clipped to [1e-5, 1 - 1e-5] as glmnet), the fold mean is
    weighted by the held-out counts, alpha_ minimises it and the final model is the
    full-data fit at alpha_. Every fit must certify (a fold's point once stalled at
    MAX_NEWTON steps with its gap above tol)."""
    X, codes = _multiclass(n=120, seed=4)
    labels = np.array(["a", "b", "c"])[codes]
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    cv = GroupLassoClassifierPathCV(standardize=False, groups=MGROUPS, l1_ratio=rho,
                                    alphas=6, eps=1e-2, cv=folds, tol=1e-6,
                                    max_iter=100000).fit(X, labels)
    m = cv.alphas_.size
    assert cv.coef_.shape == (3, 9) and cv.intercept_.shape == (3,)
    assert cv.coef_path_.shape == (3, 9, m) and cv.cv_path_.shape == (m, 3)
    direct = np.empty((m, 3))
    for f, (tr, te) in enumerate(folds):
        for k, a in enumerate(cv.alphas_):
            one = GroupLassoClassifier(standardize=False, groups=MGROUPS, l1_ratio=rho,
                                       alpha=a, tol=1e-6, max_iter=100000).fit(
                                           X[tr], labels[tr])
            P = np.clip(softmax(X[te] @ one.coef_.T + one.intercept_, axis=1),
                        1e-5, 1 - 1e-5)
            direct[k, f] = np.mean(-2 * np.log(P[np.arange(te.size), codes[te]]))
    np.testing.assert_allclose(cv.cv_path_, direct, rtol=1e-4)
    sizes = np.array([te.size for _, te in folds])
    np.testing.assert_allclose(cv.cv_mean_, direct @ sizes / sizes.sum(), rtol=1e-4)
    assert cv.alpha_ == cv.alphas_[np.argmin(cv.cv_mean_)]
    ref = GroupLassoClassifier(standardize=False, groups=MGROUPS, l1_ratio=rho,
                               alpha=cv.alpha_, tol=1e-6, max_iter=100000).fit(X, labels)
    np.testing.assert_allclose(cv.coef_, ref.coef_, atol=1e-3)
    np.testing.assert_allclose(cv.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert set(cv.predict(X)) <= set(labels)


def test_three_classes_standardize():
    X, codes = _multiclass(n=120, seed=3)
    X = X * np.linspace(0.5, 4, 9)
    # standardize: the same model as a fit on the standardised columns, mapped back
    sd = X.std(axis=0)
    one = GroupLassoClassifier(groups=MGROUPS, alpha=0.02, standardize=True, tol=1e-8,
                               max_iter=100000).fit(X, codes)
    ref = GroupLassoClassifier(standardize=False, groups=MGROUPS, alpha=0.02, tol=1e-8,
                               max_iter=100000).fit(X / sd, codes)
    np.testing.assert_allclose(one.coef_, ref.coef_ / sd, atol=2e-3)


def test_three_classes_limitations_are_clear_errors():
    X, codes = _multiclass(n=60)
    with pytest.raises(ValueError, match="two classes"):
        GroupLassoClassifier(standardize=False,
                             groups=MGROUPS, group_weights=[0, 1, 1]).fit(X, codes)
    with pytest.raises(ValueError, match="two classes"):
        GroupLassoClassifier(standardize=False, groups=MGROUPS, exclude=[0]).fit(X, codes)
    with pytest.raises(ValueError, match="measure='auc' is defined for two classes"):
        GroupLassoClassifierPathCV(standardize=False, groups=MGROUPS,
                                   measure="auc").fit(X, codes)
    with pytest.raises(ValueError, match="two classes"):
        GroupLassoClassifierPathCV(standardize=False, groups=MGROUPS,
                                   group_weights=[0, 1, 1], alphas=5, cv=3).fit(X, codes)
