"""Group-lasso binomial family: GroupLassoClassifier / GroupLassoClassifierPathCV against
cvxpy + Clarabel, a NumPy group-KKT check, and the usual equivalences."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from sklearn_normpen import GroupLassoClassifier, GroupLassoClassifierPathCV
from _sklearn_refs import logistic_regression

GROUPS = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 12))
    w = np.zeros(12)
    w[:3] = [1.0, -1.0, 0.5]
    w[6] = 0.4
    return X, (rng.random(n) < expit(X @ w + 0.2)).astype(int)


def _cvxpy(X, y, alpha, rho, sw=None):
    cp = pytest.importorskip("cvxpy")
    n, p = X.shape
    s = np.ones(n) if sw is None else sw
    w, b = cp.Variable(p), cp.Variable()
    eta = X @ w + b
    obj = (cp.sum(cp.multiply(s, cp.logistic(eta) - cp.multiply(y, eta))) / s.sum()
           + alpha * (rho * cp.norm1(w)
                      + (1 - rho) * sum(np.sqrt(len(g)) * cp.norm2(w[g]) for g in GROUPS)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL, tol_gap_abs=1e-12,
                                           tol_gap_rel=1e-12, tol_feas=1e-12)
    return w.value, float(b.value)


def _group_kkt(X, y, w, b, alpha, rho):
    """Largest violation of the group-wise optimality conditions (NumPy, float64)."""
    z = X.T @ (y - expit(X @ w + b)) / len(y)
    worst = abs(float(np.mean(y - expit(X @ w + b))))  # intercept
    for g in GROUPS:
        c = np.sqrt(len(g))
        zg, wg = z[g], w[g]
        if np.linalg.norm(wg) == 0:
            soft = np.sign(zg) * np.maximum(np.abs(zg) - alpha * rho, 0)
            worst = max(worst, np.linalg.norm(soft) - alpha * (1 - rho) * c)
        else:
            sub = np.where(wg != 0, alpha * rho * np.sign(wg), np.clip(zg, -alpha * rho,
                                                                        alpha * rho))
            r = zg - sub - alpha * (1 - rho) * c * wg / np.linalg.norm(wg)
            worst = max(worst, np.linalg.norm(r))
    return worst


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_matches_cvxpy_and_group_kkt(rho):
    X, y = _data()
    for alpha in [0.05, 0.01]:
        clf = GroupLassoClassifier(standardize=False,
                                   groups=GROUPS, alpha=alpha, l1_ratio=rho, tol=1e-11,
                                   max_iter=100000).fit(X, y)
        w, b = _cvxpy(X, y, alpha, rho)
        np.testing.assert_allclose(clf.coef_.ravel(), w, atol=1e-6)
        np.testing.assert_allclose(clf.intercept_[0], b, atol=1e-6)
        assert _group_kkt(X, y, clf.coef_.ravel(), clf.intercept_[0], alpha, rho) < 1e-6
        if rho == 0.0 and alpha == 0.05:  # whole groups are zero
            assert np.any([np.all(clf.coef_.ravel()[g] == 0) for g in GROUPS])


def test_singleton_groups_are_the_lasso():
    X, y = _data(seed=1)
    n, alpha = X.shape[0], 0.02
    clf = GroupLassoClassifier(standardize=False,
                               alpha=alpha, l1_ratio=0.0, group_weights=np.ones(12),
                               tol=1e-12, max_iter=100000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = logistic_regression(solver="saga", l1_ratio=1.0, C=1 / (n * alpha), tol=1e-12,
                                 max_iter=200000).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=5e-5)


def test_weights_sparse_and_cv():
    X, y = _data(n=60, seed=2)
    sw = np.random.default_rng(0).integers(0, 3, 60)
    sw[0] = 1
    kw = dict(groups=GROUPS, alpha=0.02, tol=1e-12, max_iter=100000)
    a = GroupLassoClassifier(standardize=False, **kw).fit(X, y, sw)
    b = GroupLassoClassifier(standardize=False,
                             **kw).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.6] = 0
    d = GroupLassoClassifier(standardize=False, **kw).fit(Xs, y)
    s = GroupLassoClassifier(standardize=False, **kw).fit(sp.csc_matrix(Xs), y)
    np.testing.assert_allclose(d.coef_, s.coef_, atol=1e-7)
    cv = GroupLassoClassifierPathCV(standardize=False,
                                    groups=GROUPS, l1_ratio=[0.0, 0.5], alphas=10, cv=3,
                                    measure="auc").fit(X, y)
    assert cv.cv_path_.shape == (2, 10, 3) and cv.l1_ratio_ in (0.0, 0.5)
    assert np.all(cv.dual_gap_path_ <= 1e-4 * 0.7)
    assert cv.measure_name_ == "AUC"


def test_unpenalised_groups_are_fitted():
    # (were rejected before; cvxpy and KKT checks in test_group_glm_breadth.py)
    X, y = _data()
    clf = GroupLassoClassifier(standardize=False,
                               groups=GROUPS, group_weights=[0, 1, 1, 1], alpha=10.0,
                               tol=1e-10).fit(X, y)
    w = clf.coef_.ravel()
    assert np.all(w[:3] != 0) and np.all(w[3:] == 0)
    assert 0 <= clf.dual_gap_ <= 1e-10 * 0.7


def test_float32_in_float32_out():
    X, y = _data(seed=3)
    a = GroupLassoClassifier(standardize=False,
                             groups=GROUPS, alpha=0.02, tol=1e-6).fit(X.astype(np.float32), y)
    b = GroupLassoClassifier(standardize=False,
                             groups=GROUPS, alpha=0.02, tol=1e-11, max_iter=100000).fit(X, y)
    assert a.coef_.dtype == np.float32
    assert a.predict_proba(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-4)
    assert a.dual_gap_ <= 1e-6 * np.log(2)


def _collinear_float32(seed, n_classes, sparse=False):
    """Offset and badly scaled float32 columns, a nearly collinear pair (0, 1)."""
    rng = np.random.default_rng(seed)
    n, p = 200, 9
    X = rng.standard_normal((n, p)) * rng.uniform(0.3, 3, p) + rng.uniform(-2, 2, p)
    X[:, 1] = X[:, 0] + 1e-3 * rng.standard_normal(n)
    Z = X - X.mean(axis=0)
    if n_classes == 2:
        y = (Z[:, :4] @ rng.standard_normal(4) + rng.standard_normal(n) > 0).astype(int)
    else:
        y = np.argmax(Z[:, :4] @ rng.standard_normal((4, 3))
                      + rng.standard_normal((n, 3)), axis=1)
    if sparse:
        X[rng.random(X.shape) < 0.3] = 0.0
    X32 = X.astype(np.float32)
    return (sp.csc_matrix(X32) if sparse else X32), X32.astype(np.float64), y


def _user_objective(est, Xe, y, alpha, rho, groups):
    """The user's objective at ``est``'s coefficients and intercepts (standardised
    penalty: ``σ_j`` weighs feature j), and the null deviance (the unit of ``tol``)."""
    sigma = Xe.std(axis=0)
    W = np.asarray(est.coef_, np.float64).T  # (p, 1) or (p, K)
    E = Xe @ W + np.asarray(est.intercept_, np.float64)
    if W.shape[1] == 1:
        e = E[:, 0]
        loss = np.mean(np.logaddexp(0, e) - y * e)
        rows = np.abs(W[:, 0] * sigma)
        q = y.mean()
        null = -(q * np.log(q) + (1 - q) * np.log(1 - q))
    else:
        m = E.max(axis=1)
        loss = np.mean(m + np.log(np.exp(E - m[:, None]).sum(axis=1))
                       - E[np.arange(len(y)), y])
        rows = np.linalg.norm(W * sigma[:, None], axis=1)
        share = np.bincount(y) / len(y)
        null = -np.sum(share * np.log(share))
    pen = rho * rows.sum() + (1 - rho) * sum(np.sqrt(len(g)) * np.linalg.norm(rows[g])
                                             for g in groups)
    return loss + alpha * pen, null


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_standardize_certificate_is_formed_on_the_users_objective(
        n_classes, sparse, monkeypatch):
    """float32 data under ``standardize``: every fit's last certificate has as primal the
    user's objective at the returned coefficients and intercepts (user's columns, exact
    ``σ_j``), to rounding. Formed on the scaled float32 copy at the solver's own point it
    was 4e-10 to 4e-9 of the null deviance off (binary and 3 classes), beside gaps of
    2e-9."""
    from _bounded_spy import spy_certificate_primals
    from sklearn_normpen._solvers import multinomial, prox_newton
    seen = spy_certificate_primals(monkeypatch, prox_newton, multinomial)
    groups = [list(range(i, i + 3)) for i in range(0, 9, 3)]
    for seed in range(3):
        X, Xe, y = _collinear_float32(seed, n_classes, sparse)
        seen.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (tol at float32's reach: may warn)
            est = GroupLassoClassifier(groups=groups, alpha=0.01, l1_ratio=0.3,
                                       tol=1e-8).fit(X, y)
        assert est.coef_.dtype == np.float32
        objective, null = _user_objective(est, Xe, y, 0.01, 0.3, groups)
        assert abs(seen[-1][1] - objective) <= 1e-13 * null, (
            seed, (seen[-1][1] - objective) / null)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_standardize_gap_bounds_the_users_objective(n_classes, sparse):
    """The reported gap bounds the user's objective above its optimum (a float64 fit at
    tol 1e-13, less its own gap): nearly collinear, offset float32 columns under
    ``standardize`` at a tolerance near float32's reach, and every fit is certified there:
    a float32 solve at its grid's floor hands over to a float64 refinement on the user's
    columns (binary: a Newton step that leaves the coefficients and the gap as they were;
    3 classes: the models get half the epochs left, as the binary ones). With the
    certificate moved to the user's columns but without those, 4 of 6 dense binary and 3
    of 6 dense 3-class fits stopped uncertified (gaps 1.0-6.5e-8 of the null deviance)."""
    groups = [list(range(i, i + 3)) for i in range(0, 9, 3)]
    for seed in range(6):
        X, Xe, y = _collinear_float32(seed, n_classes, sparse)
        kw = dict(groups=groups, alpha=0.01, l1_ratio=0.3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = GroupLassoClassifier(tol=1e-8, **kw).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (its own gap is what counts)
            ref = GroupLassoClassifier(tol=1e-13, max_iter=100000, **kw).fit(Xe, y)
        P, null = _user_objective(est, Xe, y, 0.01, 0.3, groups)
        P_ref, _ = _user_objective(ref, Xe, y, 0.01, 0.3, groups)
        excess = P - (P_ref - ref.dual_gap_)
        assert excess <= est.dual_gap_ + 1e-13 * null, (seed, excess / null,
                                                        est.dual_gap_ / null)
        assert not [w for w in caught if "duality gap" in str(w.message)], seed
        assert est.dual_gap_ <= 1e-8 * null


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_singleton_groups_offset_column_without_intercept_certified(sparse):
    """3 classes, singleton groups (the compiled row sweeps), float32 under
    ``standardize`` without intercept, an offset column (mean 100, unit spread): its
    scaled float32 copy is uncentred, rounded to ~1e-5 of its spread, another data set.
    Certified on the user's columns, the sweeps' optimum on the copy sat at a gap of
    1.5e-6 against a target of 1.1e-7 (fuzzer "groupmultinomial" seed 197); the float64
    refinement on the user's columns certifies it, and the gap bounds the excess over a
    float64 fit."""
    rng = np.random.default_rng(0)
    n = 60
    X = rng.standard_normal((n, 3))
    X[:, 0] += 100.0
    Z = X - X.mean(axis=0)
    y = np.argmax(Z @ rng.standard_normal((3, 3)) + rng.gumbel(size=(n, 3)), axis=1)
    X32 = X.astype(np.float32)
    Xe = X32.astype(np.float64)
    kw = dict(groups=[0, 1, 2], alpha=7e-4, l1_ratio=0.0, fit_intercept=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = GroupLassoClassifier(tol=1e-7, max_iter=3000, **kw).fit(
            sp.csc_matrix(X32) if sparse else X32, y)
    assert not [w for w in caught if "duality gap" in str(w.message)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = GroupLassoClassifier(tol=1e-13, max_iter=100000, **kw).fit(Xe, y)
    sigma = Xe.std(axis=0)

    def objective(m):
        W = np.asarray(m.coef_, np.float64).T
        E = Xe @ W
        mx = E.max(axis=1)
        loss = np.mean(mx + np.log(np.exp(E - mx[:, None]).sum(axis=1)) - E[np.arange(n), y])
        return loss + 7e-4 * np.linalg.norm(W * sigma[:, None], axis=1).sum()

    null = np.log(3)
    assert est.dual_gap_ <= 1e-7 * null
    assert objective(est) - (objective(ref) - ref.dual_gap_) <= est.dual_gap_ + 1e-13
