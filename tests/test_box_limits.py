"""Box limits in the penalty protocol (issue 12 item 4): the certificate of
``ElasticNetPenalty(lower=, upper=)`` against the independent NumPy oracle (tests/_oracle.py,
extended with limits) and cvxpy + Clarabel optima with the bounds active.

The package's certificate is evaluated on points given here (the cvxpy optimum and feasible
perturbations of it) through a covariance-mode problem, so these tests do not depend on the
solver reaching them.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import _oracle as O
from sklearn_normpen._certificate import certificate
from sklearn_normpen._design import Design
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen.penalties import ElasticNetPenalty


def _data(n=40, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2, p) + 0.5
    w = np.array([3.0, -2.5, 1.0, 0.0, -0.7, 0.0, 2.0, 0.4])[:p]
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


# limits that bind: feature 0 capped at 1, feature 1 floored at -1, 2 non-negative,
# 6 in [-0.5, 0.5], the rest free (one side finite on 4)
LOWER = np.array([-np.inf, -1.0, 0.0, -np.inf, -0.2, -np.inf, -0.5, -np.inf])
UPPER = np.array([1.0, np.inf, np.inf, np.inf, np.inf, np.inf, 0.5, np.inf])
CASES = [(1.0, 0.05), (0.5, 0.05), (0.2, 0.02), (1.0, 0.3)]


def _package_certificate(X, y, w, alpha, rho, sw=None, pf=None):
    d = Design(np.asfortranarray(X), y, sw, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(X.shape[1]) if pf is None else pf
    pen = ElasticNetPenalty(rho, f, f, lower=LOWER, upper=UPPER)
    pb.start(np.asarray(w, dtype=np.float64))
    return certificate(pb.cert_stats(w, pen), pen, alpha, w), pen, pb


@pytest.mark.parametrize("rho, alpha", CASES)
def test_certificate_at_the_cvxpy_optimum_is_tight(rho, alpha):
    X, y = _data()
    Pstar, info = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER,
                                            return_info=True)
    D0 = O.null_deviance(X, y)
    assert info["gap"] <= 1e-9 * D0  # the reference is an optimum (oracle's own bound)
    # Clarabel stops ~1e-9 inside a binding bound: put those coordinates on it
    w = info["w"].copy()
    for b in (LOWER, UPPER):
        on = np.isfinite(b) & np.isclose(w, b, rtol=1e-6, atol=1e-8)
        w[on] = b[on]
    w[np.abs(w) < 1e-9] = 0.0  # and its ~1e-13 entries where the solution is 0
    # the bounds bind at the optimum: the limits are really exercised
    assert np.isclose(w[0], 1.0) or np.isclose(w[6], 0.5) or np.isclose(w[1], -1.0)
    cert, pen, _ = _package_certificate(X, y, w, alpha, rho)
    assert -1e-12 * D0 <= cert.gap <= 1e-8 * D0
    assert cert.kkt <= 1e-6 * np.sqrt(D0)
    assert_allclose(cert.kkt, O.enet_kkt(X, y, w, None, alpha, rho, lower=LOWER,
                                         upper=UPPER), atol=1e-9)


@pytest.mark.parametrize("rho, alpha", CASES)
def test_certificate_is_a_valid_bound_at_feasible_points(rho, alpha):
    X, y = _data(seed=1)
    Pstar = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER)
    _, info = O.reference_optimum_cvxpy(X, y, alpha, rho, lower=LOWER, upper=UPPER,
                                        return_info=True)
    D0 = O.null_deviance(X, y)
    rng = np.random.default_rng(2)
    for scale in (1e-4, 1e-2, 0.3, 2.0):
        for _ in range(5):
            w = np.clip(info["w"] + scale * rng.standard_normal(X.shape[1]), LOWER, UPPER)
            w[rng.random(X.shape[1]) < 0.3] = 0.0
            cert, pen, _ = _package_certificate(X, y, w, alpha, rho)
            P = O.enet_primal(X, y, w, None, alpha, rho, lower=LOWER, upper=UPPER)
            # weak duality: no reported gap below the true suboptimality
            assert cert.gap >= P - Pstar - 1e-12 * D0
            assert cert.primal == pytest.approx(P, rel=1e-10, abs=1e-13 * D0)
            # the oracle picks the best scaling of the same dual direction: never worse
            assert O.enet_gap(X, y, w, None, alpha, rho, lower=LOWER,
                              upper=UPPER) <= cert.gap + 1e-10 * D0
            assert_allclose(cert.kkt, O.enet_kkt(X, y, w, None, alpha, rho, lower=LOWER,
                                                 upper=UPPER), rtol=1e-9, atol=1e-12)


def test_infeasible_point_has_no_finite_certificate():
    X, y = _data()
    w = np.zeros(X.shape[1])
    w[0] = 1.5  # above its upper limit 1
    cert, _, _ = _package_certificate(X, y, w, 0.05, 1.0)
    assert cert.gap == np.inf


def test_without_finite_limits_the_formulas_are_the_old_ones():
    X, y = _data(seed=3)
    d = Design(np.asfortranarray(X), y, None, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(X.shape[1])
    rng = np.random.default_rng(0)
    for positive in (False, True):
        plain = ElasticNetPenalty(0.5, f, f, positive=positive)
        same = ElasticNetPenalty(0.5, f, f, positive=positive,
                                 lower=np.full(8, -np.inf) if not positive else None,
                                 upper=np.full(8, np.inf))
        assert not plain.has_box and not same.has_box
        # generic formulas on an explicitly boxed but equivalent penalty
        boxed = ElasticNetPenalty(0.5, f, f, lower=0.0 if positive else -1e300,
                                  upper=1e300)
        assert boxed.has_box
        for _ in range(5):
            w = rng.standard_normal(8)
            if positive:
                w = np.abs(w)
            pb.start(w)
            st = pb.cert_stats(w, plain)
            a = certificate(st, plain, 0.1, w)
            b = certificate(st, boxed, 0.1, w)
            assert_allclose([a.gap, a.kkt], [b.gap, b.kkt], rtol=1e-9, atol=1e-12)


def test_alpha_max_with_limits_is_the_zero_threshold():
    X, y = _data(seed=4)
    lower = np.array([0.0, -1.0, 0.0, -np.inf, 0.0, 0.0, -0.5, 0.0])
    upper = np.array([0.0, 0.0, np.inf, np.inf, 1.0, 0.0, 0.5, 2.0])
    d = Design(np.asfortranarray(X), y, None, True)
    pb = EnetProblem(d, "gram")
    f = np.ones(8)
    pen = ElasticNetPenalty(1.0, f, f, lower=lower, upper=upper)
    _, z = pb.null_fit(pen, 1e-14, 1000)
    a_max = pen.alpha_max(z)
    for alpha, zero in ((a_max * (1 + 1e-9), True), (a_max * 0.97, False)):
        _, info = O.reference_optimum_cvxpy(X, y, alpha, 1.0, lower=lower, upper=upper,
                                            return_info=True)
        assert np.all(np.abs(info["w"]) <= 1e-9) == zero


def test_limits_must_contain_zero():
    f = np.ones(3)
    with pytest.raises(ValueError, match="contain 0"):
        ElasticNetPenalty(1.0, f, lower=[0.1, -1, -1])
    with pytest.raises(ValueError, match="contain 0"):
        ElasticNetPenalty(1.0, f, upper=[-0.1, 1, 1])
