"""The path's linear prediction of each point's start for the multi-response solvers
(``compute_path`` -> ``MultiTaskProblem.predict_next`` -> ``bcd_mt_*`` / ``bcd_mtg_*``'s
``pred``).

A prediction only moves where the epochs start: the kernels' residual matrix must stay that
of their coefficients, only non-zero coefficients of the working set move and only where
they keep their sign, and a path solved with predictions certifies the same optima as one
without. References: the residual recomputed here in NumPy from the user's data, the
independent NumPy duality gaps (``_oracle.mt_gap``; the multi-response group lasso's of
``test_multitask_group``)."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from _oracle import mt_gap, mt_null_deviance
from test_multitask_group import GROUPS, _gap as mtg_gap
from sklearn_normpen import multitask_enet_path, multitask_group_lasso_path
from sklearn_normpen._kernels import _bcd_multitask as KM
from sklearn_normpen._kernels import _bcd_multitask_group as KG
from sklearn_normpen._solvers.multitask import MultiTaskProblem
from sklearn_normpen._solvers.multitask_group import MultiTaskGroupProblem
from sklearn_normpen._validation import call_kernel


def _data(sparse, dtype, seed=0, n=40, p=10, K=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3 * rng.standard_normal(n)[:, None]
    if sparse:
        X *= rng.uniform(size=(n, p)) < 0.5
    X[:, 2] += 30.0  # an offset column: implicit centring carries its mean
    B = np.zeros((p, K))
    B[[0, 1, 5, 8]] = rng.standard_normal((4, K)) * 2
    Y = X @ B + 0.5 * rng.standard_normal((n, K))
    X = X.astype(dtype)
    return (sp.csc_matrix(X) if sparse else np.asfortranarray(X)), Y.astype(dtype)


def _moved(W0, pred, rows):
    """The entries the prediction may move: the rows ``rows``, non-zero, sign kept."""
    m = np.zeros(W0.shape, bool)
    m[rows] = ((W0[rows] != 0) & (np.sign(W0[rows] + pred[rows]) == np.sign(W0[rows])))
    return m


def _check_state(pb, X, Y, W, W0, pred, rows, dtype):
    moved = _moved(W0, pred, rows)
    assert moved.sum() >= 5 and (~moved & (W0 != 0)).sum() >= 3
    assert_array_equal(W[~moved], W0[~moved])
    assert_allclose(W[moved], (W0 + pred)[moved], rtol=1e-6 if dtype == np.float32 else 0)
    Xd = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)
    Xc = Xd - Xd.mean(axis=0)
    Yc = Y.astype(np.float64) - Y.astype(np.float64).mean(axis=0)
    expect = Yc - Xc @ W.astype(np.float64)
    # the kernels keep R = Yc - X W with X uncentred: Rc = R + 1 (x̄ᵀW)
    Rc = np.asarray(pb.R, np.float64) + np.asarray(pb.xk_mean, np.float64) @ W.astype(
        np.float64)
    tol = 1e-10 if dtype == np.float64 else 2e-4
    assert_allclose(Rc, expect, atol=tol * np.abs(Yc).max())


def _start(pb, p, K, dtype, seed=1):
    rng = np.random.default_rng(seed)
    W0 = np.zeros((p, K))
    W0[:8] = rng.standard_normal((8, K))
    W0[3] = 0  # a zero row
    W0[1, 0] = W0[6, 2] = 0  # zeros in non-zero rows
    pred = (rng.standard_normal((p, K)) * 0.3).astype(dtype)
    pred[::3] = -3 * W0[::3]  # sign changes: not taken
    return pb.start(W0), W0.astype(dtype), pred


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_multitask_kernel_moves_nonzero_working_set_entries_keeping_their_signs(sparse,
                                                                                    dtype):
    """``bcd_mt_*`` with no epoch and a prediction that flips signs, moves zero entries and
    rows outside the working set: exactly the non-zero working-set entries whose sign holds
    move, and the residual is ``Yc - Xc W`` at the coefficients returned."""
    X, Y = _data(sparse, dtype)
    p, K = X.shape[1], Y.shape[1]
    pb = MultiTaskProblem(X, Y, None, True)
    W, W0, pred = _start(pb, p, K, dtype)
    ws = np.arange(6, dtype=np.intc)  # rows 6-7 stay out
    z = np.zeros(p, dtype=dtype)
    args = (pb.xk_mean, W, pb.R, pb.L, z, z, ws, dtype(pb.N), 0, dtype(0), dtype(-1),
            pb._buf, pred)
    if sparse:
        call_kernel(KM.bcd_mt_sparse, *pb._csc, pb.n, pb.sw, *args)
    else:
        call_kernel(KM.bcd_mt_dense, pb.design.Xk, pb.sw, *args)
    _check_state(pb, X, Y, W, W0, pred, np.arange(6), dtype)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_multitask_group_kernel_moves_the_working_set_groups_only(sparse, dtype):
    """``bcd_mtg_*`` likewise, its working set in groups (non-contiguous: GROUPS)."""
    X, Y = _data(sparse, dtype)
    p, K = X.shape[1], Y.shape[1]
    pb = MultiTaskGroupProblem(X, Y, None, True, GROUPS)
    W, W0, pred = _start(pb, p, K, dtype)
    ws = np.array([0, 2], dtype=np.intc)  # features 0-2 and 5-7
    rows = np.array([0, 1, 2, 5, 6, 7])
    l2 = np.zeros(len(GROUPS))
    args = (pb._xmean64, W, pb.R, pb._gptr, pb._gidx, pb._Lg, 0.0, l2, pb._gram, pb._goff,
            ws, dtype(pb.N), 0, dtype(0), -1.0, pb._gbuf, pb._srsum, 0, pred)
    if sparse:
        call_kernel(KG.bcd_mtg_sparse, *pb._csc, pb.n, pb.sw, *args)
    else:
        call_kernel(KG.bcd_mtg_dense, pb.design.Xk, pb.sw, *args)
    _check_state(pb, X, Y, W, W0, pred, rows, dtype)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multitask_paths_with_and_without_predictions_certify(l1_ratio, sparse, dtype,
                                                              monkeypatch):
    """Multi-task elastic-net and lasso paths (intercept, offset column, to 1e-3 alpha_max):
    every point certified with and without the predicted starts, each within the target of
    the NumPy oracle's gap; the predictions did take effect."""
    X, Y = _data(sparse, dtype, seed=2)
    tol = 1e-7 if dtype == np.float64 else 1e-5  # (float32 beside the offset column: 1e-7
    # is below its floor, honestly warned uncertified with and without predictions)
    alphas, with_pred, gaps = multitask_enet_path(
        X, Y, l1_ratio=l1_ratio, n_alphas=30, tol=tol, fit_intercept=True,
        standardize=False)[:3]
    monkeypatch.setattr(MultiTaskProblem, "predict_next", lambda self, d, penalty: False)
    _, without, gaps0 = multitask_enet_path(X, Y, l1_ratio=l1_ratio, alphas=alphas, tol=tol,
                                            fit_intercept=True, standardize=False)[:3]
    Xd = (X.toarray() if sparse else X).astype(np.float64)
    Y64 = Y.astype(np.float64)
    target = tol * mt_null_deviance(Xd, Y64)
    slack = 1.0 if dtype == np.float64 else 2.0  # float32: the coefficients' rounding
    for k, a in enumerate(alphas):
        for C, g in ((with_pred[..., k], gaps[k]), (without[..., k], gaps0[k])):
            assert g <= target
            assert mt_gap(Xd, Y64, C.astype(np.float64), None, a, l1_ratio) <= (
                slack * target + 1e-12)
    assert np.any(with_pred != without)


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multitask_group_paths_with_and_without_predictions_certify(rho, sparse, dtype,
                                                                    monkeypatch):
    """The multi-response (sparse-)group lasso likewise, against the independent gap of
    ``test_multitask_group``."""
    X, Y = _data(sparse, dtype, seed=3)
    tol = 1e-7
    alphas, with_pred, gaps = multitask_group_lasso_path(
        X, Y, groups=GROUPS, l1_ratio=rho, n_alphas=30, tol=tol, fit_intercept=True,
        standardize=False)[:3]
    monkeypatch.setattr(MultiTaskProblem, "predict_next", lambda self, d, penalty: False)
    _, without, gaps0 = multitask_group_lasso_path(
        X, Y, groups=GROUPS, l1_ratio=rho, alphas=alphas, tol=tol, fit_intercept=True,
        standardize=False)[:3]
    Xd = (X.toarray() if sparse else X).astype(np.float64)
    Y64 = Y.astype(np.float64)
    target = tol * mt_null_deviance(Xd, Y64)
    slack = 1.0 if dtype == np.float64 else 2.0
    for k, a in enumerate(alphas):
        for C, g in ((with_pred[..., k], gaps[k]), (without[..., k], gaps0[k])):
            assert g <= target
            assert mtg_gap(Xd, Y64, C.T.astype(np.float64), a, rho) <= slack * target + 1e-12
    assert np.any(with_pred != without)
