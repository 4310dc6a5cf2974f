"""Certificates beside unpenalised columns of large mean and small spread, without
intercept (cases found by a targeted search for false certificates, 2026-12-07): the
residual's coordinates in the unpenalised span are formed from the residual
(``CertStats.unpen_z``), not as ``a - Mᵀw``, which cancels there; and a float32
refinement's rounded gap is never negative.

Group lasso, residual mode: 40 x 16, float64, groups 1, 2 and 4 unpenalised (weight 0)
holding columns of mean 7.3e4 (and a near copy at -2.5x) and 1.45e5 with spread 0.04, a
penalised column of mean 2.6e5. Before the fix the path certified a point at alpha =
0.1325 with a gap of 2.3e-14 that was 4.7e-4 above a point the same solver found at a
tighter tolerance (2.8e-6 of the null deviance). The referee is the objective itself, its
loss summed in exact rational arithmetic: any point with a lower objective bounds the
excess of the returned one from below. Covariance mode and the multi-task elastic net:
below."""
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_normpen import group_lasso_path


def _data(seed=2):
    rng = np.random.default_rng(seed)
    n, p = 40, 16
    X = rng.standard_normal((n, p))
    X[:, 7] = 7.3e4 + 0.04 * rng.standard_normal(n)
    X[:, 5] = -2.5 * X[:, 7] + 4e-5 * rng.standard_normal(n)
    X[:, 14] = 1.45e5 + 0.04 * rng.standard_normal(n)
    X[:, 3] += 2.56e5
    labels = np.array([0, 0, 0, 0, 0, 1, 0, 2, 3, 3, 3, 3, 3, 3, 4, 5])
    c = np.array([4.0758, 0.0, 0.0, 5.9683, 0.0, 2.5407])
    beta = np.zeros(p)
    beta[[0, 8, 15]] = rng.standard_normal(3) * 10
    y = (X - X.mean(0)) @ beta + rng.standard_normal(n) + 7.0
    return X, y, labels, c


def _objective(X, y, w, labels, c, rho, alpha):
    """1/(2n) ||y - Xw||² (exact, rationals of the float64 inputs) + alpha · penalty."""
    X, y, w = (np.asarray(a, np.float64) for a in (X, y, w))
    nz = np.flatnonzero(w)
    loss = sum((Fraction(float(y[i])) - sum(Fraction(float(X[i, j])) * Fraction(float(w[j]))
                                            for j in nz)) ** 2 for i in range(len(y)))
    pen = 0.0
    for g, cg in enumerate(c):
        if cg > 0:
            wg = w[labels == g]
            pen += (1 - rho) * cg * np.linalg.norm(wg) + rho * np.abs(wg).sum()
    return float(loss / (2 * len(y))) + alpha * pen


@pytest.mark.parametrize("layout", ["dense", "sparse", "float32"])
def test_no_false_certificate_beside_offset_unpenalised_groups(layout):
    X, y, labels, c = _data()
    Xin = (sp.csc_matrix(X) if layout == "sparse" else
           X.astype(np.float32) if layout == "float32" else X)
    yin = y.astype(np.float32) if layout == "float32" else y
    rho, tol = 0.05, 1e-10
    kw = dict(groups=labels, group_weights=c, l1_ratio=rho, fit_intercept=False,
              standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alphas, coefs, gaps = group_lasso_path(Xin, yin, n_alphas=6, eps=3.4e-3, tol=tol,
                                               max_iter=5000, **kw)
        # the witnesses: the same path at the tightest tolerance, on the input's values
        # in float64 (the objective the returned point is judged by)
        Xf = np.asarray(Xin.toarray() if sp.issparse(Xin) else Xin, np.float64)
        yf = np.asarray(yin, np.float64)
        _, ref, _ = group_lasso_path(Xf, yf, alphas=alphas, tol=1e-13, max_iter=200000,
                                     **kw)
    null = float(yf @ yf) / (2 * len(yf))
    for k, a in enumerate(alphas):  # (a gap bounds the excess, certified or not)
        excess = (_objective(Xf, yf, coefs[:, k], labels, c, rho, a)
                  - _objective(Xf, yf, ref[:, k], labels, c, rho, a))
        # the penalty is summed in float64: a rounding allowance of 1e-12 of the deviance
        assert excess <= gaps[k] + 1e-12 * null, (k, a, gaps[k], excess)
    if layout != "float32":  # (float32: the data's rounding leaves gaps of ~1e-2)
        assert np.sum(gaps <= tol * null) >= 4


def test_float32_rounded_gaps_are_never_negative():
    # float32 data, weights, intercept, offset columns (mean ~1e5, spread 1): a point's
    # float64 refinement gives the bound gap(w64) + P(w32) - P(w64), which came out
    # -4.3e-13 at alpha = 0.104 (the rounding of the two objectives, differenced); the
    # change is now formed from the step (rounding_change)
    rng = np.random.default_rng(8)
    n, p = 74, 24
    X = rng.standard_normal((n, p))
    X[:, :6] += 1e5 * rng.uniform(0.5, 2, 6)
    beta = np.zeros(p)
    beta[rng.choice(p, 6, replace=False)] = rng.standard_normal(6)
    y = X @ beta + 0.1 * rng.standard_normal(n)
    s = rng.uniform(0.1, 10, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, gaps = group_lasso_path(X.astype(np.float32), y.astype(np.float32),
                                      groups=np.arange(p) // 4, l1_ratio=0.5, tol=1e-10,
                                      n_alphas=12, eps=1e-3, sample_weight=s,
                                      fit_intercept=True, standardize=True, max_iter=3000)
    assert np.all(gaps > 0), gaps


def test_covariance_mode_no_false_certificate_beside_an_offset_unpenalised_column():
    # covariance mode (dense float64, n = p = 20): no intercept, standardize, weights
    # 1e-3..6e2, an unpenalised group holding a column of mean 5.8e4 and spread 0.017.
    # Before the fix the tol=1e-13 path certified alpha = 0.0017 at a gap of 8.9e-19
    # while the tol=1e-7 path's point there was 3.4e-11 lower (1.3e-9 of the deviance):
    # the residual's coordinates in the unpenalised span now come from the rows when
    # a - Mᵀw may cancel (_span_cancels)
    import os

    from sklearn_normpen import group_lasso as gl
    here = os.path.join(os.path.dirname(__file__), "fixtures", "certificate_gram_offset")
    R = np.loadtxt(os.path.join(here, "rows.csv"), delimiter=",")
    X, y, s, labels = R[:, :20], R[:, 20], R[:, 21], R[:, 22].astype(int)
    c = np.loadtxt(os.path.join(here, "group_weights.csv"))
    rho = 0.5
    assert gl._use_gram(np.asfortranarray(X), 6)  # (the route under test)
    kw = dict(groups=labels, group_weights=c, l1_ratio=rho, sample_weight=s,
              fit_intercept=False, standardize=True)
    W = s.sum()
    sig = np.sqrt(s @ (X - s @ X / W) ** 2 / W)

    def objective(w, a):
        r = [Fraction(float(y[i])) - sum(Fraction(float(X[i, j])) * Fraction(float(w[j]))
                                         for j in np.flatnonzero(w)) for i in range(len(y))]
        loss = sum(Fraction(float(s[i])) * r[i] * r[i] for i in range(len(y)))
        v, pen = sig * w, 0.0
        for g, cg in enumerate(c):
            if cg > 0:
                pen += (1 - rho) * cg * np.linalg.norm(v[labels == g]) + rho * np.abs(
                    v[labels == g]).sum()
        return float(loss / (2 * Fraction(float(W)))) + a * pen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        amax = group_lasso_path(X, y, n_alphas=1, **kw)[0][0]
        alphas = amax * np.logspace(0, np.log10(0.01153723525849838), 6)
        _, loose, loose_gaps = group_lasso_path(X, y, alphas=alphas, tol=1e-7,
                                                max_iter=1000, **kw)
        _, tight, tight_gaps = group_lasso_path(X, y, alphas=alphas, tol=1e-13,
                                                max_iter=1000, **kw)
    null = 0.5 * float(s @ (y * y)) / W
    # (max_iter 1000: several points stay honestly uncertified, near 1e-7, and spin to
    # the limit; at 300 the old code's false point was not reached)
    for k, a in enumerate(alphas):  # each point's gap bounds its excess over the other
        d = objective(tight[:, k], a) - objective(loose[:, k], a)
        assert d <= tight_gaps[k] + 1e-12 * null, (k, a, tight_gaps[k], d)
        assert -d <= loose_gaps[k] + 1e-12 * null, (k, a, loose_gaps[k], -d)


def test_multitask_no_false_certificate_beside_offset_unpenalised_columns():
    # the multi-task elastic net, float32, no intercept, standardize, three unpenalised
    # columns of mean -6.06e5 (spread 0.3, one a near copy of another) and penalised ones
    # offset by ~1e6: a path point was certified at a gap of 6.4e-16 while 1.98e-7 above
    # a point the float64 path found (3.4e-7 of the deviance)
    from sklearn_normpen import multitask_enet_path
    rng = np.random.default_rng(30)
    n, p = 74, 16
    X = rng.standard_normal((n, p))
    X[:, 1] = -6.05825e5 + 0.3 * rng.standard_normal(n)
    X[:, 15] = X[:, 1] + 3e-4 * rng.standard_normal(n)
    X[:, 9] = -6.05825e5 + 0.26 * rng.standard_normal(n)
    X[:, [5, 6, 7, 10]] += [1.09e6, 1.13e6, 1.18e6, 6.45e5]
    f = np.array([1, 0, 1, 1, .5, 3, 3, 1, 1, 0, 3, 0, 1, 3, 0, 0], dtype=float)
    beta = np.zeros(p)
    beta[[0, 3, 12, 13]] = rng.standard_normal(4) * 0.3
    y = (X - X.mean(0)) @ beta + 0.1 * rng.standard_normal(n)
    Y = np.column_stack([y, -2 * y + 0.5 * rng.standard_normal(n)])
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    rho, sig = 0.5, X64.std(axis=0)
    kw = dict(l1_ratio=rho, penalty_factor=f, fit_intercept=False, standardize=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alphas, coefs, gaps = multitask_enet_path(X32, Y32, n_alphas=6, eps=0.105, tol=1e-9,
                                                  max_iter=5000, **kw)
        _, ref, _ = multitask_enet_path(X64, Y64, alphas=alphas, tol=1e-13, max_iter=20000,
                                        **kw)

    def objective(W, a):  # (W: n_features x n_responses)
        nz = np.flatnonzero(np.any(W != 0, axis=1))
        loss = sum((Fraction(float(Y64[i, k])) - sum(Fraction(float(X64[i, j]))
                                                      * Fraction(float(W[j, k])) for j in nz))
                   ** 2 for i in range(n) for k in range(2))
        rows = np.linalg.norm(W, axis=1) * sig
        return float(loss / (2 * n)) + a * float(np.sum(f * (rho * rows
                                                               + 0.5 * (1 - rho) * rows ** 2)))

    null = 0.5 * float(np.sum(Y64 ** 2)) / n
    for k, a in enumerate(alphas):
        W = coefs[:, :, k].T.astype(np.float64)
        excess = objective(W, a) - objective(ref[:, :, k].T, a)
        assert excess <= gaps[k] + 1e-12 * null, (k, a, gaps[k], excess)


def _differenced(p64, p32):
    """The form the refinements used before: the objectives differenced, with 4 ulps of
    each as the allowance for their rounding."""
    return p32 - p64, 4 * np.finfo(float).eps * (abs(p32) + abs(p64))


def test_rounding_change_is_within_its_bound_beside_offset_columns():
    # P(w32) - P(w64) against the same difference in exact rational arithmetic, on columns
    # of mean ~1e5 and spread 1: the trapezoid form stays within its stated rounding
    # bound; the two objectives differenced (the earlier form) miss theirs by 30-10,000x
    from sklearn_normpen._certificate import CertStats, rounding_change
    from sklearn_normpen.penalties import ElasticNetPenalty

    n, p, alpha = 60, 12, 0.01
    pen = ElasticNetPenalty(0.5, np.ones(p))
    naive_misses = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, p))
        X[:, :4] += 1e5 * rng.uniform(0.5, 2, 4)
        w64 = rng.standard_normal(p)
        y = X @ w64 + 0.1 * rng.standard_normal(n)
        w32 = w64.astype(np.float32).astype(np.float64)

        def stats(w):
            r = y - X @ w
            return (CertStats(r @ r / n, r @ y / n, r.mean(), X.T @ r / n),
                    0.5 * (r @ r) / n + pen.value(w, alpha))

        def exact(w):
            F = [Fraction(float(v)) for v in w]
            loss = sum((Fraction(float(y[i])) - sum(Fraction(float(X[i, j])) * F[j]
                                                    for j in range(p))) ** 2
                       for i in range(n)) / (2 * n)
            return loss + Fraction(alpha) * sum(abs(v) / 2 + v * v / 4 for v in F)

        (s64, p64), (s32, p32) = stats(w64), stats(w32)
        truth = exact(w32) - exact(w64)
        change, error = rounding_change(s64, s32, w64, w32, pen, alpha,
                                        np.sqrt((X ** 2).mean(0)), n)
        assert abs(Fraction(change) - truth) <= Fraction(error), seed
        assert error < 1e-4 * abs(float(truth))  # (a bound that still certifies)
        naive, allowance = _differenced(p64, p32)
        naive_misses += abs(Fraction(naive) - truth) > Fraction(allowance)
    assert naive_misses >= 5  # (the case is one where differencing fails)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_glm_rounding_change_is_within_its_bound_beside_offset_columns(family):
    # the GLM refinement's P(w32) - P(w64) (glm_rounding_change: rows' losses differenced
    # at η64 and η64 + X d) against the same difference at 60 digits (exact rational η,
    # Decimal ln/exp), on columns of mean ~1e5: within its stated bound; the two
    # objectives differenced miss their ulps allowance on every seed
    from decimal import Decimal, localcontext

    from sklearn_normpen._certificate import glm_rounding_change
    from sklearn_normpen.datafits import GLMStats, Logistic, Poisson
    from sklearn_normpen.penalties import ElasticNetPenalty

    fam = Logistic if family == "binomial" else Poisson
    n, p, alpha = 60, 10, 0.01
    pen = ElasticNetPenalty(0.5, np.ones(p))

    def dec(fr):
        return Decimal(fr.numerator) / Decimal(fr.denominator)

    naive_misses = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, p))
        X[:, :3] += 1e5 * rng.uniform(0.5, 2, 3)
        w64 = 0.3 * rng.standard_normal(p)
        b = 0.2 - float(np.mean(X @ w64))  # (η of order 1: the offset through b)
        eta64 = X @ w64 + b
        y = ((rng.uniform(size=n) < 1 / (1 + np.exp(-eta64))) if fam is Logistic else
             rng.poisson(np.exp(np.clip(eta64, -5, 3)))).astype(float)
        w32 = w64.astype(np.float32).astype(np.float64)
        glm = GLMStats(y, eta64, None, None, float(n))
        change, error = glm_rounding_change(fam, glm, X @ (w32 - w64), w64, w32, b, pen,
                                            alpha, np.sqrt((X ** 2).mean(0)))

        def exact(w):
            F = [Fraction(float(v)) for v in w]
            total = Decimal(0)
            for i in range(n):
                e = dec(Fraction(b) + sum(Fraction(float(X[i, j])) * F[j]
                                          for j in range(p)))
                fi = (Decimal(1) + e.exp()).ln() if fam is Logistic else e.exp()
                total += fi - Decimal(float(y[i])) * e
            return total / n + Decimal(alpha) * dec(sum(abs(v) / 2 + v * v / 4 for v in F))

        def objective(w):
            return glm.mean(fam.loss(y, X @ w + b)) + pen.value(w, alpha)

        with localcontext() as ctx:
            ctx.prec = 60
            truth = exact(w32) - exact(w64)
            assert abs(Decimal(change) - truth) <= Decimal(error), seed
            assert Decimal(error) < Decimal(1e-5) * abs(truth)  # (still certifies)
            naive, allowance = _differenced(objective(w64), objective(w32))
            naive_misses += abs(Decimal(naive) - truth) > Decimal(allowance)
    assert naive_misses == 4


def test_multinomial_rounding_change_is_within_its_bound_beside_offset_columns():
    # the multi-response form of glm_rounding_change (K = 3 classes, the intercepts
    # moved with the step as under exact), against 60 digits
    from decimal import Decimal, localcontext

    from sklearn_normpen._certificate import glm_rounding_change
    from sklearn_normpen.datafits import GLMStats, Multinomial
    from sklearn_normpen.penalties import MultiTaskSparseGroupLasso

    n, p, K, alpha = 40, 6, 3, 0.01
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, p))
    X[:, :2] += 1e5 * rng.uniform(0.5, 2, 2)
    W64 = 0.3 * rng.standard_normal((p, K))
    b64 = -(X @ W64).mean(0)
    Y = np.eye(K)[rng.integers(0, K, n)]
    W32 = W64.astype(np.float32).astype(np.float64)
    b32 = b64 + 1e-9 * rng.standard_normal(K)
    pen = MultiTaskSparseGroupLasso(np.arange(p + 1), np.arange(p), np.ones(p), 0.5)
    glm = GLMStats(Y, X @ W64 + b64, None, None, float(n))
    change, error = glm_rounding_change(Multinomial, glm, X @ (W32 - W64) + (b32 - b64),
                                        W64, W32, b64, pen, alpha, np.sqrt((X ** 2).mean(0)))

    def dec(fr):
        return Decimal(fr.numerator) / Decimal(fr.denominator)

    def exact(W, b):
        total = Decimal(0)
        for i in range(n):
            eta = [dec(Fraction(float(b[k])) + sum(Fraction(float(X[i, j]))
                                                    * Fraction(float(W[j, k]))
                                                    for j in range(p))) for k in range(K)]
            total += sum(e.exp() for e in eta).ln() - eta[int(np.argmax(Y[i]))]
        return total / n + Decimal(pen.value(W, alpha))  # (the penalty: float64 here)

    with localcontext() as ctx:
        ctx.prec = 60
        truth = exact(W32, b32) - exact(W64, b64)
        slack = Decimal(8 * np.finfo(float).eps) * (abs(Decimal(pen.value(W32, alpha)))
                                                   + abs(Decimal(pen.value(W64, alpha))))
        assert abs(Decimal(change) - truth) <= Decimal(error) + slack
        assert Decimal(error) < Decimal(1e-5) * abs(truth)
