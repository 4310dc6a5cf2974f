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
def test_lipschitz_from_the_eigendecomposition(sparse):
    # rho = 0 solves decompose every group Gram first: L is read off that decomposition
    # and equals the one computed on its own; V, E rebuild the Grams
    X, y, _ = _data(sparse, np.float64, seed=1)
    st = parse_groups(GROUPS, X.shape[1])
    w = resolve_group_weights(None, st)
    alone = GroupProblem(Design(X, y, None, True), st, w)
    via_eig = GroupProblem(Design(X, y, None, True), st, w)
    V, E = via_eig._eigen()
    assert via_eig._L is not None
    np.testing.assert_allclose(via_eig.L, alone.L, rtol=1e-12)
    for o, start, k in zip(via_eig._offsets[:-1], via_eig.gptr[:-1], via_eig.sizes):
        Vg = V[o:o + k * k].reshape(k, k)  # eigenvectors as rows
        Q = via_eig.Q[o:o + k * k].reshape(k, k)
        np.testing.assert_allclose(Vg.T @ np.diag(E[start:start + k]) @ Vg, Q,
                                   atol=1e-12 * max(1.0, np.abs(Q).max()))

