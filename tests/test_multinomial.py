"""The multinomial family (K >= 3 classes) of ElasticNetClassifier(PathCV): against R
glmnet 4.1 fixtures, scikit-learn's multinomial LogisticRegression (saga), cvxpy +
Clarabel, and an independent NumPy duality gap written here."""
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp, softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, PredefinedSplit

from sklearn_normpen import ElasticNetClassifier, ElasticNetClassifierPathCV
from sklearn_normpen._path import compute_path
from sklearn_normpen._solvers.multinomial import MultinomialProblem, make_penalty
from sklearn_normpen._solvers.prox_newton import GLMProblem
from sklearn_normpen._design import Design
from sklearn_normpen.elastic_net import _make_penalty

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "glmnet_multinomial")


def _load(name):
    return np.loadtxt(os.path.join(FIX, name), delimiter=",")


def _data(n=90, p=5, K=3, seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, K))
    B[0] = np.linspace(-1, 1, K)
    B[1] = np.cos(np.arange(K))
    B[2, 0] = 0.8
    P = softmax(scale * X @ B, axis=1)
    y = np.array([rng.choice(K, p=q) for q in P])
    return X.astype(dtype), y


# ---------------------------------------------------------------------------------------
# Independent references written here
# ---------------------------------------------------------------------------------------

def _penalty(W, alpha, rho, f, grouped):
    W = np.asarray(W, dtype=np.float64)
    if grouped:
        nrm = np.linalg.norm(W, axis=1)
        return alpha * (rho * f @ nrm + 0.5 * (1 - rho) * f @ nrm ** 2)
    return alpha * (rho * f @ np.abs(W).sum(1) + 0.5 * (1 - rho) * f @ (W ** 2).sum(1))


def _primal(X, y, W, b, alpha, rho, sw=None, f=None, grouped=False):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n, p = X.shape
    sw = np.ones(n) if sw is None else np.asarray(sw, float)
    f = np.ones(p) if f is None else np.asarray(f, float)
    eta = X @ np.asarray(W, np.float64) + b
    loss = sw @ (logsumexp(eta, axis=1) - eta[np.arange(n), y]) / sw.sum()
    return loss + _penalty(W, alpha, rho, f, grouped)


def _oracle_gap(X, y, W, b, alpha, rho, sw=None, f=None, grouped=False, intercept=True):
    """An independent duality gap: Θ = Y - P corrected by H_i Cᵀ a_i (explicit Kronecker
    system) to meet the intercept and unpenalised-feature constraints, scaled into the
    simplex and the penalty's dual domain (DESIGN.md "Certificates")."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n, p = X.shape
    K = int(np.max(y)) + 1
    sw = np.ones(n) if sw is None else np.asarray(sw, float)
    f = np.ones(p) if f is None else np.asarray(f, float)
    N = sw.sum()
    W = np.asarray(W, np.float64)
    eta = X @ W + b
    P = softmax(eta, axis=1)
    Y = np.eye(K)[y]
    R = Y - P
    U = f == 0
    A = np.hstack(([np.ones((n, 1))] if intercept else []) + [X[:, U]])
    if A.shape[1]:
        m = A.shape[1]
        M = np.zeros((m * K, m * K))
        for i in range(n):
            H = np.diag(P[i]) - np.outer(P[i], P[i])
            M += sw[i] * np.kron(np.outer(A[i], A[i]), H)
        rhs = (A.T @ (sw[:, None] * R)).ravel()
        C = np.linalg.lstsq(M, rhs, rcond=None)[0].reshape(m, K)
        for i in range(n):
            H = np.diag(P[i]) - np.outer(P[i], P[i])
            R[i] -= H @ (C.T @ A[i])
        assert np.abs(A.T @ (sw[:, None] * R)).max() < 1e-8
    G = X.T @ (sw[:, None] * R) / N
    G[U] = 0
    l1, l2 = alpha * rho * f, alpha * (1 - rho) * f
    with np.errstate(divide="ignore"):
        t = min(1.0, np.min(np.where(R > 0, Y / R, np.inf)))
    if rho == 1:  # pure l1: |t G| <= l1 (entries or row norms)
        mag = np.linalg.norm(G, axis=1) if grouped else np.abs(G).max(axis=1)
        pen = ~U
        if np.any(mag[pen] > 0):
            t = min(t, np.min(l1[pen] / np.maximum(mag[pen], 1e-300)))
    scalings = [t]
    if 0 < rho < 1:  # also every row inside its l1 ball (conjugate 0): the better bound
        mag = np.linalg.norm(G, axis=1) if grouped else np.abs(G).max(axis=1)
        pen = ~U & (mag > 0)
        if pen.any():
            scalings.append(min(t, np.min(l1[pen] / mag[pen])))

    def dual(t):
        conj = 0.0
        if rho < 1:
            tG = t * G
            if grouped:
                a = np.maximum(np.linalg.norm(tG, axis=1) - l1, 0)[~U]
                conj = np.sum(a * a / (2 * l2[~U]))
            else:
                a = np.maximum(np.abs(tG) - l1[:, None], 0)[~U]
                conj = np.sum(a * a / (2 * l2[~U, None]))
        q = np.clip(Y - t * R, 0, 1)
        ent = np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0), axis=1)
        return -sw @ ent / N - conj

    return _primal(X, y, W, b, alpha, rho, sw, f, grouped) - max(dual(t) for t in scalings)


def _cvxpy_optimum(X, y, alpha, rho, sw=None, f=None, grouped=False):
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    K = int(np.max(y)) + 1
    sw = np.ones(n) if sw is None else np.asarray(sw, float)
    f = np.ones(p) if f is None else np.asarray(f, float)
    Y = np.eye(K)[y]
    W, b = cp.Variable((p, K)), cp.Variable(K)
    eta = X @ W + np.ones((n, 1)) @ cp.reshape(b, (1, K), order="C")
    loss = sw @ (cp.log_sum_exp(eta, axis=1) - cp.sum(cp.multiply(Y, eta), axis=1))
    if grouped:
        nrm = cp.norm(W, 2, axis=1)
        pen = rho * f @ nrm + 0.5 * (1 - rho) * f @ cp.sum(cp.square(W), axis=1)
    else:
        pen = (rho * cp.sum(cp.multiply(f[:, None] * np.ones((1, K)), cp.abs(W)))
               + 0.5 * (1 - rho) * cp.sum(cp.multiply(f[:, None] * np.ones((1, K)),
                                                      cp.square(W))))
    prob = cp.Problem(cp.Minimize(loss / sw.sum() + alpha * pen))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
               max_iter=500)
    return W.value, b.value


# ---------------------------------------------------------------------------------------
# R glmnet 4.1 (tests/fixtures/make_glmnet_multinomial_fixtures.R)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["U", "G"])
def test_glmnet_paths(case):
    """glmnet's multinomial coefficient paths: ungrouped (standardize=FALSE) and grouped
    (standardize, weights, an unpenalised feature); lambda = alpha, intercepts up to
    their common shift (ours sum to 0)."""
    X, y = _load("X.csv"), _load("y.csv").astype(int)
    w, pf = _load("w.csv"), _load("pf.csv")
    lam = _load(f"lambda_{case}.csv")
    n, p = X.shape
    K = 3
    C = _load(f"coef_{case}.csv").reshape(K, p + 1, -1)
    kw = (dict(l1_ratio=0.5, standardize=False, multinomial="ungrouped") if case == "U"
          else dict(l1_ratio=0.8, standardize=True, penalty_factor=pf,
                    multinomial="grouped"))
    sw = None if case == "U" else w
    for k, a in enumerate(lam):
        clf = ElasticNetClassifier(alpha=a, tol=1e-12, max_iter=100000, **kw)
        clf.fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(clf.coef_, C[:, 1:, k], atol=5e-6)
        b_ref = C[:, 0, k] - C[:, 0, k].mean()
        np.testing.assert_allclose(clf.intercept_, b_ref, atol=5e-6)
        assert abs(clf.intercept_.sum()) < 1e-10
        if case == "G":  # grouped: a feature is in for every class or for none
            nz = clf.coef_ != 0
            assert np.all(nz.all(axis=0) | ~nz.any(axis=0))


@pytest.mark.parametrize("measure,name", [("deviance", "deviance"),
                                          ("misclassification", "class"),
                                          ("mse", "mse"), ("mae", "mae")])
def test_cv_glmnet_measures(measure, name):
    X, y = _load("X.csv"), _load("y.csv").astype(int)
    lam, foldid = _load("lambda_U.csv"), _load("foldid.csv").astype(int)
    ref = _load(f"cv_U_{name}.csv")
    sel = _load(f"cv_U_{name}_selected.csv")
    cv = ElasticNetClassifierPathCV(l1_ratio=0.5, alphas=lam, standardize=False,
                                    cv=PredefinedSplit(foldid - 1), measure=measure,
                                    tol=1e-12, max_iter=100000).fit(X, y)
    assert cv.path_stop_reason_ is None
    np.testing.assert_allclose(cv.cv_mean_, ref[:, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(cv.cv_se_, ref[:, 1], rtol=1e-5, atol=1e-7)
    if measure != "misclassification":  # ties among equal error rates aside
        assert cv.alpha_min_ == pytest.approx(sel[0])
        assert cv.alpha_1se_ == pytest.approx(sel[1])


# ---------------------------------------------------------------------------------------
# scikit-learn and cvxpy
# ---------------------------------------------------------------------------------------

def test_matches_sklearn_saga():
    """Ungrouped with standardize=False is LogisticRegression's multinomial elastic net
    with C = 1/(n·alpha) (its intercepts are also unpenalised; compared up to a shift)."""
    X, y = _data(n=80, p=4, seed=3)
    X = X / np.abs(X).max()  # saga converges on well-scaled data
    alpha, rho = 0.004, 0.6
    ours = ElasticNetClassifier(alpha=alpha, l1_ratio=rho, standardize=False, tol=1e-12,
                                max_iter=100000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(penalty="elasticnet") if "penalty" in LogisticRegression().get_params() \
            else {}
        lr = LogisticRegression(l1_ratio=rho, C=1 / (len(y) * alpha), solver="saga",
                                tol=1e-12, max_iter=200000, **kw).fit(X, y)
    p_ours = _primal(X, y, ours.coef_.T, ours.intercept_, alpha, rho)
    p_lr = _primal(X, y, lr.coef_.T, lr.intercept_, alpha, rho)
    assert p_ours <= p_lr + 1e-10  # ours is at least as good (certified)
    np.testing.assert_allclose(ours.coef_, lr.coef_, atol=2e-4)
    np.testing.assert_allclose(ours.intercept_, lr.intercept_ - lr.intercept_.mean(),
                               atol=2e-4)
    np.testing.assert_allclose(ours.predict_proba(X), lr.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("rho", [0.5, 1.0])
def test_matches_cvxpy_and_certificate_is_a_bound(grouped, rho):
    """cvxpy + Clarabel optimum with weights and an unpenalised feature; at every path
    point P(W) - P* <= reported gap <= target, the reported gap agrees with the
    independent NumPy gap, and the certificate bounds P(W) - P* at random points too."""
    X, y = _data(n=45, p=4, seed=1)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    f = np.array([0.0, 1.0, 1.5, 1.0])
    K = 3
    pb = MultinomialProblem(np.asfortranarray(X), y, K, sw, True, grouped)
    pen = make_penalty(rho, f, False, pb, grouped)
    _, z = pb.null_fit(pen, 1e-14, 1000)
    amax = pen.alpha_max(z)
    alphas = amax * np.array([1.0, 0.5, 0.2, 0.05])
    res = compute_path(pb, pen, alphas, tol=1e-9, max_iter=100000)
    assert res.converged.all()
    # alpha_max: every penalised row is zero there, and not just below it
    assert not np.any(res.coefs[1:, :, 0])
    for k, a in enumerate(alphas[1:], start=1):
        Wr, br = _cvxpy_optimum(X, y, a, rho, sw, f, grouped)
        p_star = min(_primal(X, y, Wr, br, a, rho, sw, f, grouped),
                     _primal(X, y, res.coefs[..., k], res.intercepts[:, k], a, rho, sw, f,
                             grouped))
        W, b = res.coefs[..., k], res.intercepts[:, k]
        sub = _primal(X, y, W, b, a, rho, sw, f, grouped) - p_star
        assert -1e-12 <= sub <= res.gaps[k] + 1e-12
        assert res.gaps[k] <= res.tol_abs
        og = _oracle_gap(X, y, W, b, a, rho, sw, f, grouped)
        assert og == pytest.approx(res.gaps[k], rel=1e-6, abs=1e-12)
        # an unpenalised row is unique only up to a common shift: ours is centred
        free = f == 0
        np.testing.assert_allclose(W[free].sum(axis=1), 0, atol=1e-10)
        if rho < 1:  # W unique otherwise
            Wrc = Wr.copy()
            Wrc[free] -= Wrc[free].mean(axis=1, keepdims=True)
            np.testing.assert_allclose(W, Wrc, atol=2e-4)
        # a valid bound at arbitrary points, not only near the optimum
        rng = np.random.default_rng(k)
        for _ in range(3):
            Wt = W + rng.normal(scale=0.3, size=W.shape)
            bt = rng.normal(size=K)
            w_state = pb.start(Wt)
            pb.b = bt.copy()
            pb.eta = pb._XW(w_state) + pb.b
            cert = pb.certificate(w_state, pen, a)
            sub_t = _primal(X, y, Wt, bt, a, rho, sw, f, grouped) - p_star
            assert cert.gap >= sub_t - 1e-10
            og = _oracle_gap(X, y, Wt, bt, a, rho, sw, f, grouped)
            assert og >= sub_t - 1e-10
            assert cert.gap == pytest.approx(og, rel=1e-6)


# ---------------------------------------------------------------------------------------
# Invariances: weights, dtypes, layouts, K = 2
# ---------------------------------------------------------------------------------------

def test_grouped_near_certain_rows_certify_at_tight_tol():
    """Grouped, small alpha, most rows near-certain (largest probability up to 1 - 1e-4):
    every point of a 20-point path reaches tol=1e-8 within the default max_iter, the
    independent gap agreeing. (The block majoriser diag(p) overstates a dominant class's
    curvature by 1/(1 - p_m); with it 8 of these 20 points missed the target.)"""
    X, y = _data(n=200, p=12, K=6, seed=1, scale=4.0)
    pb = MultinomialProblem(np.asfortranarray(X), y, 6, None, True, True)
    pen = make_penalty(1.0, np.ones(12), False, pb, True)
    _, z = pb.null_fit(pen, 1e-14, 1000)
    alphas = pen.alpha_max(z) * np.geomspace(1, 1e-3, 20)
    res = compute_path(pb, pen, alphas, tol=1e-8, max_iter=1000)
    assert res.converged.all(), res.gaps / res.tol_abs
    assert res.dev_ratios[-1] > 0.65  # the regime meant: well past the null model
    for k in (10, 19):
        og = _oracle_gap(X, y, res.coefs[..., k], res.intercepts[:, k], alphas[k], 1.0,
                         grouped=True)
        assert og <= res.tol_abs * (1 + 1e-6)
        assert og == pytest.approx(res.gaps[k], rel=1e-5, abs=1e-14)


@pytest.mark.parametrize("multinomial", ["ungrouped", "grouped"])
def test_weights_equal_repeated_rows(multinomial):
    X, y = _data(n=60, seed=4)
    reps = np.random.default_rng(0).integers(1, 4, len(y))
    kw = dict(alpha=0.01, l1_ratio=0.7, tol=1e-12, max_iter=100000,
              multinomial=multinomial)
    a = ElasticNetClassifier(**kw).fit(X, y, sample_weight=reps.astype(float))
    b = ElasticNetClassifier(**kw).fit(np.repeat(X, reps, axis=0), np.repeat(y, reps))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-7)


@pytest.mark.parametrize("multinomial", ["ungrouped", "grouped"])
def test_float32_dense_and_csc(multinomial):
    X, y = _data(n=80, p=6, seed=5)
    X[:, 3] = 0.0
    X[::3, 4] = 0.0
    # a gap of 1e-8 still allows coefficient differences ~sqrt(2 gap / ridge) ~ 1e-4
    # between two certified fits: float64 is compared at 1e-12, float32 at its 1e-8
    kw = dict(alpha=0.005, l1_ratio=0.5, max_iter=100000, multinomial=multinomial)
    ref = ElasticNetClassifier(tol=1e-12, **kw).fit(X, y)
    assert ref.dual_gap_ <= 1e-12 * np.log(3)
    for Xt in (sp.csc_matrix(X), X.astype(np.float32), sp.csc_matrix(X.astype(np.float32))):
        X_before = Xt.copy()
        tol = 1e-12 if Xt.dtype == np.float64 else 1e-8
        clf = ElasticNetClassifier(tol=tol, **kw).fit(Xt, y)
        assert clf.coef_.dtype == Xt.dtype and clf.intercept_.dtype == np.float64
        atol = 1e-6 if Xt.dtype == np.float64 else 2e-3
        np.testing.assert_allclose(clf.coef_, ref.coef_, atol=atol)
        np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=atol)
        # the certificate is float64 even on float32 data: a real gap, at the target
        assert 0 <= clf.dual_gap_ <= tol * 1.1
        assert clf.decision_function(Xt).dtype == Xt.dtype
        diff = (Xt != X_before) if sp.issparse(Xt) else (Xt != X_before)
        assert not (diff.nnz if sp.issparse(diff) else diff.any())


def test_two_classes_through_the_multinomial_solver():
    """K = 2 through MultinomialProblem equals the binomial fit: the logit is
    w = W[:, 1] - W[:, 0], and at the optimum W = [-w/2, w/2] (the optimal common shift),
    so the ungrouped penalty is α(ρ|w| + (1-ρ)/4·w²) and the grouped one
    α(ρ|w|/√2 + (1-ρ)/4·w²): binomial alpha' = αρc + α(1-ρ)/2, l1_ratio' = αρc/alpha',
    c = 1 (ungrouped) or 1/√2 (grouped)."""
    X, y = _data(n=70, p=4, K=2, seed=6)
    X = np.asfortranarray(X)
    alpha, rho = 0.02, 0.6
    for grouped, c in ((False, 1.0), (True, 1 / np.sqrt(2))):
        pb = MultinomialProblem(X, y, 2, None, True, grouped)
        pen = make_penalty(rho, np.ones(4), False, pb, grouped)
        res = compute_path(pb, pen, [alpha], tol=1e-12, max_iter=100000)
        W, b = res.coefs[..., 0], res.intercepts[:, 0]
        a2 = alpha * rho * c + alpha * (1 - rho) / 2
        r2 = alpha * rho * c / a2
        gp = GLMProblem(Design(X, y.astype(float), None, True), "dense")
        pen2 = _make_penalty(r2, np.ones(4), False, False, gp)
        res2 = compute_path(gp, pen2, [a2], tol=1e-12, max_iter=100000)
        w = res2.coefs[:, 0]
        np.testing.assert_allclose(W[:, 1] - W[:, 0], w, atol=1e-5)
        np.testing.assert_allclose(W[:, 0], -W[:, 1], atol=1e-5)
        np.testing.assert_allclose(b[1] - b[0], res2.intercepts[0], atol=1e-5)
        assert np.abs(w).max() > 0.3  # a real fit, not the null model


# ---------------------------------------------------------------------------------------
# Estimator behaviour
# ---------------------------------------------------------------------------------------

def test_labels_proba_and_shapes():
    X, y = _data(n=90, K=4, seed=7)
    labels = np.array(["d", "a", "c", "b"])[y]
    for est in (ElasticNetClassifier(alpha=0.01),
                ElasticNetClassifierPathCV(alphas=10, cv=3, multinomial="grouped")):
        est.fit(X, labels)
        np.testing.assert_array_equal(est.classes_, ["a", "b", "c", "d"])
        assert est.coef_.shape == (4, 5) and est.intercept_.shape == (4,)
        P = est.predict_proba(X)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        D = est.decision_function(X)
        assert D.shape == (90, 4)
        np.testing.assert_allclose(D, X @ est.coef_.T + est.intercept_, atol=1e-12)
        np.testing.assert_allclose(np.log(P), est.predict_log_proba(X), atol=1e-10)
        np.testing.assert_array_equal(est.predict(X), est.classes_[np.argmax(P, axis=1)])
        assert est.score(X, labels) > 0.5
        assert est.__sklearn_tags__().classifier_tags.multi_class
    assert est.coef_path_.shape == (4, 5, len(est.alphas_))
    assert est.intercept_path_.shape == (4, len(est.alphas_))
    assert np.all(est.dual_gap_path_ <= 1e-4 * np.log(4))


def test_auc_is_an_error_for_three_classes():
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="two classes"):
        ElasticNetClassifierPathCV(measure="auc", alphas=5, cv=3).fit(X, y)


def test_class_absent_from_a_training_fold():
    X, y = _data(n=60)
    y[:5] = 3  # class 3 only in the first rows: an unshuffled KFold holds it all out
    with pytest.raises(ValueError, match=r"class\(es\) at index \[3\]"):
        ElasticNetClassifierPathCV(alphas=5, cv=KFold(3)).fit(X, y)
    # the default stratified folds keep it in every training fold
    ElasticNetClassifierPathCV(alphas=5, cv=3).fit(X, y)


def test_zero_weight_class_is_an_error():
    X, y = _data(n=60)
    sw = np.where(y == 2, 0.0, 1.0)
    with pytest.raises(ValueError, match="zero total sample_weight"):
        ElasticNetClassifier().fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("multinomial", ["ungrouped", "grouped"])
def test_separable_classes_stop_early(multinomial):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 3))
    y = np.digitize(X[:, 0], [-0.5, 0.5])  # separable along feature 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cv = ElasticNetClassifierPathCV(l1_ratio=1.0, eps=1e-6, cv=3,
                                        multinomial=multinomial).fit(X, y)
    assert cv.path_stop_reason_ is not None and "deviance ratio" in cv.path_stop_reason_
    assert len(cv.alphas_) < 100
    assert np.all(np.isfinite(cv.coef_path_)) and np.all(np.isfinite(cv.cv_mean_))
    assert cv.score(X, y) == 1.0


def test_binary_unchanged_and_clone():
    """Two classes keep the binomial family (coef_ of shape (1, p))."""
    X, y = _data(n=80, K=2, seed=9)
    a = ElasticNetClassifier(alpha=0.01).fit(X, y)
    b = clone(ElasticNetClassifier(alpha=0.01, multinomial="grouped")).fit(X, y)
    assert a.coef_.shape == (1, 5)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.decision_function(X).shape == (80,)


def test_dfmax_counts_features():
    X, y = _data(n=90, p=8, seed=10)
    cv = ElasticNetClassifierPathCV(alphas=30, cv=3, dfmax=2).fit(X, y)
    assert cv.path_stop_reason_ == "dfmax"
    act = np.any(cv.coef_path_ != 0, axis=0).sum(axis=0)
    assert act[-1] > 2 and np.all(act[:-1] <= 2)


def test_certificate_falls_back_to_a_valid_bound():
    """When the constraint system cannot be met (a class's probabilities underflow to 0
    in every row), the dual point falls back to Θ = 0, always feasible: gap = primal."""
    X, y = _data(n=30, p=3, seed=11)
    pb = MultinomialProblem(np.asfortranarray(X), y, 3, None, True, False)
    pen = make_penalty(0.5, np.ones(3), False, pb, False)
    w = pb.start(np.zeros((3, 3)))
    pb.b = np.array([0.0, 0.0, -1e4])  # class 2 has probability 0 (underflow) everywhere
    pb.eta = pb._XW(w) + pb.b
    cert = pb.certificate(w, pen, 0.01)
    # P* >= 0 (loss and penalty are), so gap = primal bounds the suboptimality
    assert np.isfinite(cert.gap) and cert.gap == pytest.approx(cert.primal)
    assert cert.primal == pytest.approx(_primal(X, y, w, pb.b, 0.01, 0.5))


def test_path_accessors():
    X, y = _data(n=90, K=3, seed=12)
    cv = ElasticNetClassifierPathCV(alphas=10, cv=3, rule="1se").fit(X, y)
    np.testing.assert_allclose(cv.coef_at("1se"), cv.coef_)
    np.testing.assert_allclose(cv.intercept_at("1se"), cv.intercept_)
    np.testing.assert_allclose(cv.predict_at(X, "1se"), cv.decision_function(X))
    a = cv.alphas_[[2, 5]]
    C = cv.coef_at(a)
    assert C.shape == (3, 5, 2)
    np.testing.assert_allclose(C[..., 1], cv.coef_path_[..., 5])
    P = cv.predict_at(X, a)
    assert P.shape == (90, 3, 2)
    np.testing.assert_allclose(P[..., 0], X @ cv.coef_path_[..., 2].T
                               + cv.intercept_path_[:, 2], atol=1e-10)


@pytest.mark.parametrize("multinomial", ["ungrouped", "grouped"])
def test_offset_column_and_unpenalised_feature(multinomial):
    """A calendar-year-like offset column changes only the intercepts; an unpenalised
    feature's K coefficients come back centred (the loss fixes them up to a shift)."""
    X, y = _data(n=80, p=4, seed=13)
    Xo = X.copy()
    Xo[:, 1] += 2000.0
    pf = np.array([0.0, 1.0, 1.0, 1.0])
    kw = dict(alpha=0.01, l1_ratio=0.7, tol=1e-12, max_iter=100000, standardize=True,
              penalty_factor=pf, multinomial=multinomial)
    a = ElasticNetClassifier(**kw).fit(X, y)
    b = ElasticNetClassifier(**kw).fit(Xo, y)
    np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-6)
    np.testing.assert_allclose(b.decision_function(Xo) - b.intercept_,
                               a.decision_function(X) - a.intercept_ + 2000 * a.coef_[:, 1],
                               atol=1e-4)
    np.testing.assert_allclose(a.coef_[:, 0].sum(), 0, atol=1e-12)
    assert np.all(a.coef_[:, 0] != 0)
    assert a.dual_gap_ <= 1e-12 * np.log(3) * 1.5 and b.dual_gap_ <= 1e-12 * np.log(3) * 1.5


def test_n_jobs_pickle_and_grid_search():
    import pickle
    from sklearn.model_selection import GridSearchCV
    X, y = _data(n=90, seed=14)
    a = ElasticNetClassifierPathCV(alphas=6, cv=3, n_jobs=2).fit(X, y)
    b = ElasticNetClassifierPathCV(alphas=6, cv=3).fit(X, y)
    np.testing.assert_array_equal(a.cv_path_, b.cv_path_)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X), a.predict_proba(X))
    g = GridSearchCV(ElasticNetClassifier(alpha=0.01),
                     {"multinomial": ["ungrouped", "grouped"]}, cv=3).fit(X, y)
    assert g.best_estimator_.coef_.shape == (3, 5)
