"""The Newton step on the active set that pauses a slow coordinate-descent tail
(``EnetProblem._polish``): it only ever lowers the objective, keeps or zeroes signs as
documented, and lets near-saturated lasso paths (|A| close to n) reach tight tolerances
that the coordinate-descent tail alone ran out of ``max_iter`` on."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from _oracle import enet_gap, enet_primal, null_deviance
from sklearn_normpen import enet_path
from sklearn_normpen._certificate import certificate
from sklearn_normpen._design import Design
from sklearn_normpen._solvers.coordinate_descent import EnetProblem, choose_mode
from sklearn_normpen.penalties import ElasticNetPenalty


def _wide(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[:k] = rng.standard_normal(k) * 2
    return X, X @ w + rng.standard_normal(n)


@pytest.mark.parametrize("layout", ["dense", "sparse", "gram"])
def test_step_lowers_the_objective_and_respects_signs(layout):
    rng = np.random.default_rng(0)
    n, p = 80, 40 if layout == "gram" else 300
    X = rng.standard_normal((n, p))
    X[:, 3] += 50.0  # an offset column
    y = X[:, :5] @ np.array([1.0, -2, 0.5, 1, -1]) + rng.standard_normal(n)
    Xin = sp.csc_matrix(X) if layout == "sparse" else np.asfortranarray(X)
    mode = "gram" if layout == "gram" else choose_mode(Xin)
    pb = EnetProblem(Design(Xin, y, None, True), mode)
    pen = ElasticNetPenalty(0.9, np.ones(p))
    alpha = 0.3
    L1, L2 = pen.scaled_weights(alpha, pb.N)
    L1, L2 = np.ascontiguousarray(L1), np.ascontiguousarray(L2)
    # a rough iterate: a few epochs from 0
    w = pb.start(np.zeros(p))
    pb._kernel(w, L1, L2, 0.0, 3, pb._limits(pen), 1.0)
    before = w.copy()
    assert 5 <= np.count_nonzero(before) < n // 2
    obj = lambda v: enet_primal(X, y, v, pb.intercept(v), alpha, 0.9)  # noqa: E731
    changed = pb._polish(w, L1, L2)
    assert changed
    assert obj(w) < obj(before)
    # support within the old one, no sign flipped (a crossing stops at 0)
    assert not np.any(w[before == 0])
    assert np.all(np.sign(w[w != 0]) == np.sign(before[w != 0]))
    # the kernel state was reset to the new point: the certificate's primal (read off that
    # state) is NumPy's
    cert = certificate(pb.cert_stats(w, pen), pen, alpha, w)
    assert cert.primal == pytest.approx(obj(w), rel=1e-10)
    assert cert.gap >= 0


@pytest.mark.parametrize("n, p, k, seed", [(80, 1000, 15, 2), (60, 600, 10, 0)])
def test_near_saturated_lasso_path_certifies_a_tight_tol(n, p, k, seed):
    # (80, 1000): the coordinate-descent tail alone spent max_iter=1000 epochs at a point
    # near |A| = n - 1 and warned; the Newton step on the active set finishes it
    X, y = _wide(n, p, k, seed)
    tol = 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, gaps = enet_path(X, y, l1_ratio=1.0, tol=tol, fit_intercept=True,
                                        standardize=False)
    target = tol * null_deviance(X, y)
    for j in range(0, alphas.size, 9):  # NumPy's gap, outside the package
        w = coefs[:, j]
        b = float(np.mean(y) - np.mean(X, axis=0) @ w)
        assert enet_gap(X, y, w, b, alphas[j], 1.0) <= max(gaps[j], target) * (1 + 1e-6)
    assert np.all(gaps <= target)
    assert (coefs[:, -1] != 0).sum() >= n - 10  # near saturation indeed


def test_a_sign_crossing_stops_at_zero():
    # A spurious coefficient whose Newton target has the other sign: the step stops where
    # it reaches 0 (the objective equals the quadratic only inside the orthant).
    rng = np.random.default_rng(3)
    n, p = 60, 20
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = X[:, :3] @ np.array([2.0, -1.0, 1.5]) + 0.5 * rng.standard_normal(n)
    pb = EnetProblem(Design(X, y, None, True), "dense")
    pen = ElasticNetPenalty(1.0, np.ones(p))
    alpha = 0.05
    L1, L2 = (np.ascontiguousarray(v) for v in pen.scaled_weights(alpha, pb.N))
    w_opt = enet_path(X, y, l1_ratio=1.0, alphas=[alpha], tol=1e-12, fit_intercept=True,
                      standardize=False)[1][:, 0]
    j = int(np.flatnonzero(w_opt == 0)[0])
    A = np.union1d(np.flatnonzero(w_opt), [j])
    Xc, yc = X[:, A] - X[:, A].mean(0), y - y.mean()
    for sj in (1.0, -1.0):  # the sign whose Newton target for w_j is the opposite one
        s = np.sign(w_opt[A])
        s[A == j] = sj
        u = np.linalg.solve(Xc.T @ Xc, Xc.T @ yc - L1[A] * s)
        if np.sign(u[A == j]) != sj:
            break
    else:  # (deterministic data: a failure here means the draw changed, not the code)
        pytest.fail("this draw has no sign crossing to test; choose another seed")
    w = pb.start(w_opt)
    w[j] = 0.05 * sj
    pb._reset(w)
    before = w.copy()
    obj = lambda v: enet_primal(X, y, v, pb.intercept(v), alpha, 1.0)  # noqa: E731
    assert pb._polish(w, L1, L2)
    assert w[j] == 0.0
    assert obj(w) < obj(before)
    assert np.all(np.sign(w[w != 0]) == np.sign(before[w != 0]))
    # the pause goes on with a step on the set without j, which lands on the optimum (the
    # quadratic with w_opt's signs is the objective there); one step alone stops short
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-9 * np.abs(w_opt).max())


def test_one_step_alone_stops_short_of_the_optimum(monkeypatch):
    # the reference for the test above: with POLISH_STEPS = 1 the truncated step is where
    # the pause ends (so that test's last assertion exercises the further steps)
    from sklearn_normpen._solvers import coordinate_descent as cd
    monkeypatch.setattr(cd, "POLISH_STEPS", 1)
    with pytest.raises(AssertionError):
        test_a_sign_crossing_stops_at_zero()
