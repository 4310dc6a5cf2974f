"""The group lasso's solvers on groups of very different scales (``standardize=False``):
a penalised group of unit scale beside an unpenalised group of scale 1e6, and an
unpenalised group that is ill-conditioned (columns 1e6 apart in scale, nearly collinear,
an offset column and its near copy).

Two defects met here, both fixed: the kernels skipped every group whose Lipschitz constant
was below 1e-12 of the largest group's (the unit-scale group beside the 1e6 one was never
visited: a gap of 0.2 of the null deviance, reported honestly, after 2300 epochs), and the
kernels' FISTA visits of an ill-conditioned unpenalised group crawled (a Poisson fit's
Newton models never reached their targets: 50000 epochs, 37 s). References here are
computed outside the package: NumPy (the unpenalised span projected out by an SVD, then
proximal gradient on the two penalised coefficients), scikit-learn's ``Lasso``, and the
elastic net's own solver (coordinate descent, another code path) on the same objective."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

import sklearn_normpen as S

U = np.arange(4)
P = np.array([4, 5])


def _data(seed, n=120):
    """Columns 0-3 (unpenalised): scale 40; a nearly collinear partner 1.5e5 times it
    (relative noise 1e-5); an offset column (mean 100) and a near copy of its negative.
    Columns 4-5 (penalised): unit scale."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    X[:, 0] *= 40.0
    X[:, 1] = 1.5e5 * (X[:, 0] + 4e-4 * rng.standard_normal(n))
    X[:, 2] += 100.0
    X[:, 3] = -X[:, 2] + 1e-4 * rng.standard_normal(n)
    eta = 0.01 * X[:, 0] + 0.6 * X[:, 4] - 0.3 * X[:, 5]
    return X, eta, rng


def _groups_and_weights():
    return np.array([0, 0, 0, 0, 1, 1]), np.array([0.0, np.sqrt(2.0)])


def reduced_optimum(X, y, s, fit_intercept, prox, penalty, l2=0.0, iters=20000):
    """The optimal value of ``1/(2W) Σ s ||y - b - Xw||² + penalty(w_P) + ½ Σ l2 ||w_P||²``
    over the intercept, the unpenalised columns ``U`` and the penalised ``P``: the first
    two projected out (SVD of their equilibrated, weighted columns, rank by rounding),
    then FISTA on ``w_P`` with ``prox(v, step)`` of ``penalty``. ``y`` of shape (n, K)
    (K responses; ``w_P`` then has K columns and ``prox`` acts on those rows)."""
    W = s.sum()
    root = np.sqrt(s)
    A = X[:, U]
    if fit_intercept:
        A = np.column_stack([np.ones(len(y)), A])
    A = root[:, None] * A
    A = A / np.linalg.norm(A, axis=0)
    Uh, sv, _ = np.linalg.svd(A, full_matrices=False)
    Uh = Uh[:, sv > len(y) * np.finfo(float).eps * sv[0]]

    def perp(v):
        return v - Uh @ (Uh.T @ v)

    B = perp(root[:, None] * X[:, P])
    t = perp(root.reshape((-1,) + (1,) * (np.ndim(y) - 1)) * y)
    l2 = np.broadcast_to(np.asarray(l2, dtype=float), (P.size,))
    l2c = l2.reshape((-1,) + (1,) * (np.ndim(y) - 1))
    L = np.linalg.eigvalsh(B.T @ B / W)[-1] + l2.max()
    v = wp = np.zeros((P.size,) + np.shape(y)[1:])
    step = 1.0
    for _ in range(iters):
        u = prox(v - (l2c * v - B.T @ (t - B @ v) / W) / L, 1 / L)
        step_new = (1 + np.sqrt(1 + 4 * step * step)) / 2
        v = u + (step - 1) / step_new * (u - wp)
        wp, step = u, step_new
    r = t - B @ wp
    return 0.5 * float(np.vdot(r, r)) / W + penalty(wp) + 0.5 * float(np.sum(l2c * wp * wp))


def _numpy_reference(X, y, s, alpha, rho, c, fit_intercept=True):
    """The optimal value with the sparse-group penalty of the one penalised group ``P``
    (:func:`reduced_optimum`)."""
    def prox(v, h):
        v = np.sign(v) * np.maximum(np.abs(v) - h * alpha * rho, 0.0)
        nv = np.linalg.norm(v)
        return v * max(0.0, 1 - h * alpha * (1 - rho) * c / nv) if nv > 0 else v

    def penalty(v):
        return alpha * (rho * np.abs(v).sum() + (1 - rho) * c * np.linalg.norm(v))

    return reduced_optimum(X, y, s, fit_intercept, prox, penalty)


def _gaussian_objective(m, X, y, s, alpha, rho, c):
    r = y - m.intercept_ - X @ np.asarray(m.coef_, np.float64)
    w = np.asarray(m.coef_, np.float64)[P]
    return (0.5 * float(s @ (r * r)) / s.sum()
            + alpha * (rho * np.abs(w).sum() + (1 - rho) * c * np.linalg.norm(w)))


def _fit_quietly(est, X, y, sw=None):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("layout", ["dense", "sparse", "weighted"])
def test_gaussian_group_beside_large_unpenalised_group(seed, rho, layout):
    X, eta, rng = _data(seed)
    y = eta + 0.5 * rng.standard_normal(len(eta))
    s = rng.uniform(0.2, 3.0, len(y)) if layout == "weighted" else np.ones(len(y))
    labels, c = _groups_and_weights()
    alpha, tol = 3e-3, 1e-8
    m = _fit_quietly(S.GroupLassoRegressor(groups=labels, group_weights=c, alpha=alpha,
                                           l1_ratio=rho, standardize=False, tol=tol),
                     sp.csc_matrix(X) if layout == "sparse" else X, y,
                     s if layout == "weighted" else None)
    yc = y - (s @ y) / s.sum()
    nd = 0.5 * float(s @ (yc * yc)) / s.sum()
    best = _numpy_reference(X, y, s, alpha, rho, c[1])
    excess = _gaussian_objective(m, X, y, s, alpha, rho, c[1]) - best
    assert m.dual_gap_ <= tol * nd
    assert excess <= tol * nd + 1e-12 * nd
    assert excess >= -1e-9 * nd  # (the reference is an optimum: nothing lands below it)
    assert np.any(m.coef_[P] != 0)  # the penalised group is in the model here


@pytest.mark.parametrize("family", ["poisson", "binomial"])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_glm_group_with_ill_conditioned_unpenalised_group(family, layout):
    """At l1_ratio 1 the group fit's objective is the elastic net's with penalty_factor 0
    on the unpenalised group: the two solvers (block CD models against coordinate descent
    models) agree within their two gaps, each certified (the elastic net at tol 1e-9:
    before, a gap of 3e-8 at 1e-8; at 1e-10 its Poisson fit still stops at 2e-10, where
    the group lasso's reaches 2e-13); at l1_ratio 0 the group fit is certified within its
    default max_iter (before: 50000 epochs and a gap of 1.1)."""
    X, eta, rng = _data(7)
    if family == "poisson":
        y = rng.poisson(np.exp(np.clip(eta - eta.mean(), -4, 3))).astype(float)
        G, E = S.GroupLassoPoissonRegressor, S.ElasticNetPoissonRegressor
    else:
        y = (rng.random(len(eta)) < 1 / (1 + np.exp(-(eta - eta.mean())))).astype(int)
        G, E = S.GroupLassoClassifier, S.ElasticNetClassifier
    Xin = sp.csc_matrix(X) if layout == "sparse" else X
    labels, c = _groups_and_weights()
    alpha, tol = 2e-3, 1e-10
    mg = _fit_quietly(G(groups=labels, group_weights=c, alpha=alpha, l1_ratio=1.0,
                        standardize=False, tol=tol), Xin, y)
    me = _fit_quietly(E(alpha=alpha, l1_ratio=1.0, standardize=False, tol=1e-9,
                        penalty_factor=np.r_[0, 0, 0, 0, 1, 1.0]), Xin, y)

    def objective(m):
        e = X @ np.asarray(m.coef_, np.float64).ravel() + float(np.ravel(m.intercept_)[0])
        if family == "poisson":
            loss = np.mean(np.exp(e) - y * e)
        else:
            loss = np.mean(np.logaddexp(0, e) - y * e)
        return loss + alpha * np.abs(np.ravel(m.coef_)[P]).sum()

    # each objective lies between the optimum and the optimum plus its gap
    slack = 1e-12 * max(abs(objective(me)), 1.0)
    assert -me.dual_gap_ - slack <= objective(mg) - objective(me) <= mg.dual_gap_ + slack
    assert np.all(np.ravel(mg.coef_)[P] != 0)
    m0 = _fit_quietly(G(groups=labels, group_weights=c, alpha=alpha, l1_ratio=0.0,
                        standardize=False, tol=tol), Xin, y)
    assert np.any(np.ravel(m0.coef_)[P] != 0)


@pytest.mark.parametrize("sizes", [(1, 1), (2, 2)])
def test_small_penalised_group_beside_large_one(sizes):
    """Every group penalised, two of them 1e7 apart in scale (Lipschitz constants 1e14
    apart): the small group is visited and the fit is scikit-learn's Lasso (singleton
    groups, l1_ratio 1: the same objective)."""
    rng = np.random.default_rng(11)
    n = 200
    k0, k1 = sizes
    X = rng.standard_normal((n, k0 + k1))
    X[:, :k0] *= 1e4
    X[:, k0:] *= 1e-3
    y = X[:, :k0].sum(axis=1) * 1e-4 + X[:, k0:].sum(axis=1) * 1e3 + 0.3 * rng.standard_normal(n)
    alpha, tol = 1e-4, 1e-10
    labels = np.repeat([0, 1], [k0, k1])  # two groups (l1_ratio 1: the groups' l1 = Lasso's)
    m = _fit_quietly(S.GroupLassoRegressor(groups=labels, alpha=alpha, l1_ratio=1.0,
                                           standardize=False, tol=tol), X, y)
    with warnings.catch_warnings():  # (its own stop: a gap of ~1e-8 on these scales)
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)

    def objective(coef, b):
        r = y - b - X @ coef
        return 0.5 * np.mean(r * r) + alpha * np.abs(coef).sum()

    nd = 0.5 * np.var(y)
    assert objective(m.coef_, m.intercept_) - objective(ref.coef_, ref.intercept_) <= tol * nd
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-4, atol=1e-8 * np.abs(ref.coef_).max())
    assert np.all(m.coef_[k0:] != 0)


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_path_with_ill_conditioned_unpenalised_group(rho):
    """Dense float64 n > p, where a path would run in covariance mode: the Gram of these
    unpenalised columns (condition number ~1e10 squared) cannot resolve them, so the path
    runs on the data (before: all 30 points uncertified at gaps of 3e-4). Every point is
    certified and sits within its tolerance of the NumPy optimum; the CV estimator on the
    same data is certified too."""
    from sklearn_normpen.group_lasso import _unpenalised_resolved, _use_gram
    from sklearn_normpen._design import Design
    from sklearn_normpen._groups import parse_groups, resolve_group_weights
    X, eta, rng = _data(0)
    y = eta + 0.5 * rng.standard_normal(len(eta))
    labels, c = _groups_and_weights()
    st = parse_groups(labels, X.shape[1])
    assert _use_gram(X, 30)  # (the size alone would choose covariance mode)
    assert not _unpenalised_resolved(Design(X, y, None, True), st,
                                     resolve_group_weights(c, st))
    tol = 1e-8
    alphas, coefs, _ = _fit_quietly_path(X, y, labels, c, rho, tol)
    s = np.ones(len(y))
    nd = 0.5 * np.var(y)
    for k in [5, 15, 29]:
        coef = coefs[:, k]

        class M:
            coef_ = coef
            intercept_ = y.mean() - X.mean(axis=0) @ coef
        excess = _gaussian_objective(M, X, y, s, alphas[k], rho, c[1]) - _numpy_reference(
            X, y, s, alphas[k], rho, c[1])
        assert -1e-9 * nd <= excess <= tol * nd * (1 + 1e-6) + 1e-12 * nd
    _fit_quietly(S.GroupLassoPathCV(groups=labels, group_weights=c, l1_ratio=rho,
                                    standardize=False, tol=tol, cv=3), X, y)


def _fit_quietly_path(X, y, labels, c, rho, tol):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return S.group_lasso_path(X, y, groups=labels, group_weights=c, l1_ratio=rho,
                                  standardize=False, tol=tol, n_alphas=30, fit_intercept=True)
