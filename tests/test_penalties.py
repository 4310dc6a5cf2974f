"""Penalty objects: the dual scaling the certificate relies on is feasible and tight."""
import numpy as np
import pytest

from _oracle import random_partition
from sklearn_normpen.penalties import ElasticNetPenalty, SparseGroupLasso


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_sparse_group_dual_scale_is_feasible_and_tight(rho):
    """t·z must be dual feasible (||S(t z_g, αρ)|| <= α(1-ρ)c_g for every penalised group)
    and t the largest such scaling, checked against an 80-step bisection per draw."""
    rng = np.random.default_rng(int(10 * rho))
    sizes = rng.integers(1, 8, 200)
    gptr = np.r_[0, np.cumsum(sizes)].astype(np.int32)
    gidx = rng.permutation(gptr[-1]).astype(np.int32)
    weights = np.sqrt(sizes).astype(float)
    weights[:5] = 0  # unpenalised groups impose nothing here
    pen = SparseGroupLasso(gptr, gidx, weights, rho)
    for _ in range(20):
        z = rng.standard_normal(gptr[-1]) * rng.uniform(0.1, 5)
        alpha = rng.uniform(0.2, 2)
        lim = alpha * (1 - rho) * weights

        def feasible(t):
            ok = pen._soft_norm(t * z, alpha * rho) <= lim * (1 + 1e-12) + 1e-300
            return np.all(ok[pen.penalised])

        t = pen.dual_scale(z, alpha)
        assert 0 <= t <= 1 and feasible(t)
        lo, hi = 0.0, 1.0
        if not feasible(1.0):
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
        else:
            lo = 1.0
        assert t == pytest.approx(lo, rel=1e-10)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7, 0.0])
@pytest.mark.parametrize("positive", [False, True])
def test_elastic_net_terms_match_the_separate_methods(l1_ratio, positive):
    """The fused per-point ``terms`` equals value / dual_scale / conjugate / kkt_violation
    (unpenalised, excluded, ridge-only and pure-l1 features, with and without positive;
    positive refuses unpenalised features, so there they are nearly unpenalised)."""
    rng = np.random.default_rng(3)
    f = rng.uniform(0, 2, 30)
    f[:3] = 1e-3 if positive else 0
    excluded = np.zeros(30, bool)
    excluded[5:7] = True
    pen = ElasticNetPenalty(l1_ratio, f, f * 1.5, excluded=excluded, positive=positive)
    w = rng.standard_normal(30) * (rng.random(30) < 0.4)
    w[excluded] = 0
    if positive:
        w = np.abs(w)
    z, zp = rng.standard_normal(30), rng.standard_normal(30)
    zp[:3] = 0
    value, t, conj, kkt = pen.terms(w, z, zp, 0.4)
    assert value == pytest.approx(pen.value(w, 0.4))
    assert kkt == pytest.approx(pen.kkt_violation(z, w, 0.4))
    if l1_ratio in (0, 1):  # no ridge part, or no l1 ball to scale into: one scaling
        assert t == pytest.approx(pen.dual_scale(zp, 0.4))
        assert conj == pytest.approx(pen.conjugate(t * zp, 0.4))
        return
    # two valid dual scalings: the pure-l1 features' t, and t2 < t keeping every ridge
    # feature inside its l1 ball too (conjugate 0 up to rounding)
    (t, t2), (conj, conj2) = t, conj
    assert t == pytest.approx(pen.dual_scale(zp, 0.4))
    assert conj == pytest.approx(pen.conjugate(t * zp, 0.4))
    l1 = 0.4 * l1_ratio * f
    ridge = (f * 1.5 * (1 - l1_ratio) > 0) & ~excluded & (l1 > 0)
    a = np.maximum(zp, 0) if positive else np.abs(zp)
    assert 0 < t2 < t
    assert t2 == pytest.approx(min(t, np.min(l1[ridge] / a[ridge])), rel=1e-12)
    assert conj2 == pytest.approx(pen.conjugate(t2 * zp, 0.4), abs=1e-15)
    assert conj2 < 1e-12


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_compiled_sgl_terms_equal_the_numpy_formulas(seed, rho):
    # SparseGroupLasso.terms (no limits) runs the compiled sgl_terms; value, dual_scale
    # and kkt_violation stay its NumPy twins: equal on random points with zero groups,
    # an unpenalised group, violating and feasible gradients
    rng = np.random.default_rng(seed)
    sizes, gptr, gidx = random_partition(rng, 15)
    p = int(gptr[-1])
    weights = np.sqrt(sizes).astype(float)
    weights[2] = 0.0  # unpenalised group
    pen = SparseGroupLasso(gptr, gidx, weights, rho)
    assert not pen.has_box
    for scale in (0.05, 0.3, 3.0):
        w = rng.standard_normal(p)
        w[rng.random(p) < 0.3] = 0.0
        w[gidx[gptr[4]:gptr[6]]] = 0.0  # zero groups
        z = scale * rng.standard_normal(p)
        zp = z.copy()
        zp[gidx[gptr[2]:gptr[3]]] = 0.0  # the unpenalised group's gradient projected out
        alpha = 0.2
        value, t, conj, kkt = pen.terms(w, z, zp, alpha)
        assert conj == 0.0
        assert value == pytest.approx(pen.value(w, alpha), rel=1e-13)
        assert t == pytest.approx(pen.dual_scale(zp, alpha), rel=1e-10)
        assert kkt == pytest.approx(pen.kkt_violation(z, w, alpha), rel=1e-12, abs=1e-15)
        # t·zp is dual feasible: ||S(t zp_g, a rho)|| <= a (1 - rho) c_g on penalised groups
        l1, l2 = alpha * rho, alpha * (1 - rho) * weights
        for g in range(len(sizes)):
            if weights[g] > 0:
                a = np.abs(t * zp[gidx[gptr[g]:gptr[g + 1]]])
                assert np.linalg.norm(np.maximum(a - l1, 0)) <= l2[g] * (1 + 1e-12) + 1e-300
        if scale == 3.0:
            assert t < 1  # the violating case was exercised
        # the compiled soft-thresholded group norms equal a direct computation
        direct = [np.linalg.norm(np.maximum(np.abs(z[gidx[gptr[g]:gptr[g + 1]]]) - l1, 0))
                  for g in range(len(sizes))]
        np.testing.assert_allclose(pen._soft_norm(z, l1), direct, rtol=1e-13, atol=1e-300)
