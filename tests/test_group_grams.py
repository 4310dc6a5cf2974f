"""The group Grams, Lipschitz constants and eigendecompositions the block CD kernels use,
against NumPy on the same data (dense and CSC, weights, scaling, offset columns)."""
import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_normpen._design import Design
from sklearn_normpen._groups import parse_groups, resolve_group_weights
from sklearn_normpen._solvers.block_cd import GroupProblem


def _data(sparse, dtype, seed=0):
    rng = np.random.default_rng(seed)
    n, p = 60, 17
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.4)
    X[:, 3] = 1e3 + 1e-2 * rng.standard_normal(n)   # an offset column: mean >> spread
    X[:, 7] *= 1e4                                  # extreme scale
    X[:, 11] = 0.0                                  # an empty column
    X[:5, 12] = X[:5, 13] = 1.0                     # two columns that share few rows
    y = rng.standard_normal(n)
    X = X.astype(dtype)
    return (sp.csc_matrix(X) if sparse else X), y, rng.uniform(0.2, 3.0, n)


# non-contiguous groups of sizes 1-5 and two unpenalised features (in no group)
GROUPS = [[0, 5, 9], [1], [2, 3, 4, 6, 8], [7, 10, 11, 12, 13], [15, 14]]


def _reference(X, sw, inv, groups):
    """(X_g Diag(inv_g))ᵀ S (X_g Diag(inv_g)) / n about the weighted means, S = s n / Σs."""
    Xd = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64) * inv
    n = Xd.shape[0]
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    Xc = Xd - (s @ Xd) / n
    return [(Xc[:, g].T * s) @ Xc[:, g] / n for g in groups]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("standardize", [False, True])
def test_group_grams_match_numpy(sparse, dtype, weighted, standardize):
    X, y, sw = _data(sparse, dtype)
    sw = sw if weighted else None
    st = parse_groups(GROUPS, X.shape[1])
    pb = GroupProblem(Design(X, y, sw, True), st, resolve_group_weights(None, st),
                      standardize=standardize)
    refs = _reference(X, sw, np.asarray(pb.inv_scale, np.float64), pb.structure.groups)
    blocks = [np.asarray(pb.Q[o:o + k * k], np.float64).reshape(k, k)
              for o, k in zip(pb._offsets[:-1], pb.sizes)]
    # unpenalised features come after the groups, one block each
    unpen = [[j] for j in st.unpenalised]
    refs += _reference(X, sw, np.asarray(pb.inv_scale, np.float64), unpen)
    assert len(blocks) == len(refs)
    rtol = 1e-10 if dtype == np.float64 else 2e-6
    scale = max(np.abs(r).max() for r in refs)
    for B, R in zip(blocks, refs):
        np.testing.assert_allclose(B, R, rtol=rtol, atol=rtol * scale)
    # Lipschitz constants: the largest eigenvalue, a hair above (a valid step 1/L)
    top = np.array([np.linalg.eigvalsh(R)[-1] for R in refs])
    L = np.asarray(pb.L, np.float64)
    live = top > 1e-10 * top.max()
    assert np.all(L[live] >= top[live] * (1 - rtol)), (L, top)
    np.testing.assert_allclose(L[live], top[live], rtol=max(rtol, 2e-6))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spectra_filled_on_demand_match_numpy(sparse, dtype):
    # the kernels' group spectra (GroupSpectra, LAPACK dsyev in the kernel) against
    # NumPy's eigh of the same packed Grams: L the top eigenvalue with its slack (1e-6,
    # a valid step), 0 for the empty column's dead group; V, E rebuild the Grams; groups
    # filled to L only first, then to V and E, give the same L
    X, y, _ = _data(sparse, dtype, seed=1)
    st = parse_groups(GROUPS, X.shape[1])
    pb = GroupProblem(Design(X, y, None, True), st, resolve_group_weights(None, st))
    spec = pb._spec
    assert not spec.ready[~pb._dead()].any()  # nothing computed before it is asked
    L1 = np.array(pb.L, np.float64)           # every group, L only
    assert (spec.ready >= 1).all()
    spec.fill(vectors=True)
    V, E = spec.vectors()
    assert (spec.ready == 2).all()
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for g, (o, start, k) in enumerate(zip(pb._offsets[:-1], pb.gptr[:-1], pb.sizes)):
        Q = np.asarray(pb.Q[o:o + k * k], np.float64).reshape(k, k)
        top = np.linalg.eigvalsh(Q)[-1]
        if pb._dead()[g] or top <= 0:
            assert spec.L[g] == 0 and L1[g] == 0
            continue
        np.testing.assert_allclose(L1[g], top * (1 + 1e-6), rtol=rtol)
        np.testing.assert_allclose(spec.L[g], L1[g], rtol=rtol)
        assert spec.L[g] >= top * (1 + 1e-6) * (1 - rtol)
        Vg = np.asarray(V[o:o + k * k], np.float64).reshape(k, k)  # eigenvectors as rows
        Eg = np.asarray(E[start:start + k], np.float64)
        assert (Eg >= 0).all()
        np.testing.assert_allclose(Vg.T @ np.diag(Eg) @ Vg, Q,
                                   atol=10 * rtol * max(1.0, np.abs(Q).max()))


@pytest.mark.parametrize("sparse", [False, True])
def test_a_fit_decomposes_only_the_groups_it_visits(sparse):
    # a group lasso fit high on the path visits a few groups: only those are decomposed
    # (level 2), the others are not (sparse: nothing computed); the solution equals the one from a problem whose
    # every group was decomposed first (same arithmetic: the same dsyev per group)
    from sklearn_normpen._certificate import certificate
    rng = np.random.default_rng(3)
    n, p = 80, 200
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.3)
    y = X[:, :5] @ np.ones(5) + 0.1 * rng.standard_normal(n)
    X = sp.csc_matrix(X) if sparse else X
    groups = np.arange(p) // 5
    st = parse_groups(groups, p)
    gw = resolve_group_weights(None, st)
    lazy, eager = (GroupProblem(Design(X, y, None, True), st, gw) for _ in range(2))
    eager._spec.fill(vectors=True)
    out = []
    for pb in (lazy, eager):
        pen = pb.penalty(0.0)
        w0, z = pb.null_fit(pen, 1e-12)
        alpha = 0.5 * pen.alpha_max(z)
        w = pb.start(w0)
        cert, _ = pb.solve(w, pen, alpha, 1e-10 * pb.null_deviance)
        assert cert.gap <= 1e-10 * pb.null_deviance
        out.append(w.copy())
    # (dense: the certificate's gradient bound reads every group's L, level 1)
    visited = lazy._spec.ready == 2
    assert 1 <= visited.sum() < 0.5 * visited.size, lazy._spec.ready
    assert (lazy._spec.ready[~visited] == (0 if sparse else 1)).all()
    assert (out[0] != 0).any()
    np.testing.assert_array_equal(out[0], out[1])


def test_a_group_without_vectors_is_solved_by_fista_and_not_decomposed_again():
    # level 3 (LAPACK failed: a Gershgorin L, no vectors): the exact rho = 0 solves leave
    # the group to FISTA (its V, E, here garbage, are never read) and the kernel does not
    # decompose it again; the fit still reaches the same optimum
    X, y, _ = _data(False, np.float64, seed=2)
    st = parse_groups(GROUPS, X.shape[1])
    gw = resolve_group_weights(None, st)

    def fit(spoil=None):
        pb = GroupProblem(Design(X, y, None, True), st, gw)
        pen = pb.penalty(0.0)
        if spoil is not None:
            spec, g = pb._spec, spoil
            V, E = spec.vectors()
            o, k = pb.qoff[g], pb.sizes[g]
            spec.L[g] = np.abs(pb.Q[o:o + k * k].reshape(k, k)).sum(axis=1).max()
            spec.ready[g] = 3
            V[o:o + k * k] = 1e300
            E[pb.gptr[g]:pb.gptr[g] + k] = -1e300
        w0, z = pb.null_fit(pen, 1e-14)
        w = pb.start(w0)
        cert, _ = pb.solve(w, pen, 0.05 * pen.alpha_max(z), 1e-12 * pb.null_deviance,
                           max_iter=20000)
        assert cert.gap <= 1e-12 * pb.null_deviance
        return pb, w

    pb, w_ref = fit()
    norms = pb.penalty(0.0).group_norms(w_ref)
    g = int(np.flatnonzero((norms > 0) & (pb.sizes > 1))[0])  # a non-zero group of several
    pb2, w = fit(spoil=g)
    o, k = pb2.qoff[g], pb2.sizes[g]
    assert pb2._spec.ready[g] == 3 and np.all(pb2._spec.V[o:o + k * k] == 1e300)
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-8 * np.abs(w_ref).max())
