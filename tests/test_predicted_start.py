"""The path's linear prediction of each point's start (``compute_path`` ->
``EnetProblem.predict_next`` -> ``enet_cd_residual``'s ``pred``).

A prediction only moves where the epochs start: the kernel state must stay the state of the
coefficients (residual ``yc - Xc w``), the certificate is formed at the point reached, and a
path solved with predictions certifies the same optima as one without. References: the
independent NumPy oracle (``tests/_oracle.py``: duality gap from the definition) and the
residual recomputed here."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from _oracle import enet_gap, null_deviance
from sklearn_normpen import enet_path
from sklearn_normpen._kernels._cd_enet import enet_cd_residual
from sklearn_normpen._path import linear_prediction
from sklearn_normpen._solvers.coordinate_descent import EnetProblem
from sklearn_normpen._validation import call_kernel


def _wide(sparse, dtype, seed=0, n=60, p=150):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3 * rng.standard_normal(n)[:, None]
    if sparse:
        X *= rng.uniform(size=(n, p)) < 0.3
    X[:, 3] += 50.0  # an offset column: implicit centring carries its mean
    beta = np.zeros(p)
    beta[:12] = rng.standard_normal(12) * 3
    y = X @ beta + rng.standard_normal(n)
    X = X.astype(dtype)
    return (sp.csc_matrix(X) if sparse else np.asfortranarray(X)), y.astype(dtype)


def test_linear_prediction_is_the_line_through_the_last_two_points_on_the_support():
    w1, w2 = np.array([2.0, 0.0, -1.0, 0.5]), np.array([1.0, 0.3, -0.5, 0.0])
    d = linear_prediction(((w1, 0.5), (w2, 1.0)), 0.25)
    # t = (0.25 - 0.5) / (0.5 - 1.0) = 0.5; the second feature (0 now) is not moved
    assert_allclose(d, [0.5, 0.0, -0.25, 0.25])


def _kernel_args(X, y, w, alpha, pred, limits=None):
    """enet_cd_residual's arguments for the lasso at ``alpha`` from ``w`` (intercept
    implicit: centred y, the columns' means)."""
    n, p = X.shape
    dt = X.dtype
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    mean = Xd.astype(np.float64).mean(axis=0)
    Xc = Xd.astype(np.float64) - mean
    yc = y.astype(np.float64) - y.astype(np.float64).mean()
    R = (yc - Xc @ w.astype(np.float64)).astype(dt)
    if sp.issparse(X):
        data, ind, ptr = X.data, X.indices, X.indptr
    else:
        e = np.zeros(0, np.intc)
        data, ind, ptr = X.ravel(order="F"), e, e
    lo, up = (np.full(p, -np.inf), np.full(p, np.inf)) if limits is None else limits
    return [w.astype(dt).copy(), data, ind, ptr, n, yc.astype(dt), np.zeros(0, dt),
            mean.astype(dt), (Xc ** 2).sum(0).astype(dt), R, np.zeros(p, dt),
            np.full(p, n * alpha, dt), np.zeros(p, dt), lo.astype(dt), up.astype(dt),
            float(n), 0.0, 1.0, 3, False, 5, np.zeros((0, 0), dt), np.zeros((0, 0), dt), 0,
            np.zeros(0, np.intc), pred.astype(dt)]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_predicted_start_keeps_the_residual_of_the_coefficients(sparse, dtype):
    """Three epochs from a start moved by a prediction that flips signs, moves zero
    coefficients and leaves others alone: the residual returned is ``yc - Xc w`` at the
    coefficients returned (recomputed here), whatever the prediction."""
    X, y = _wide(sparse, dtype)
    n, p = X.shape
    rng = np.random.default_rng(1)
    w = np.zeros(p)
    w[:20] = rng.standard_normal(20)
    pred = rng.standard_normal(p) * 0.5
    pred[::3] = -3 * w[::3]  # a sign change: dropped by the kernel
    args = _kernel_args(X, y, w, 0.05, pred)
    call_kernel(enet_cd_residual, *args)
    Xd = X.toarray() if sparse else X
    Xc = Xd.astype(np.float64) - Xd.astype(np.float64).mean(axis=0)
    yc = y.astype(np.float64) - y.astype(np.float64).mean()
    expect = yc - Xc @ args[0].astype(np.float64)
    scale = np.abs(yc).max()
    tol = 1e-10 if dtype == np.float64 else 2e-4
    assert_allclose(args[9], expect, atol=tol * scale)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_paths_with_and_without_predictions_certify_the_same_optima(sparse, dtype,
                                                                    monkeypatch):
    """A wide lasso path (residual mode, intercept, down to 1e-3 alpha_max, near
    saturation): every point certified with and without the predicted starts, each within
    the target of the NumPy oracle's gap, and the two paths' objectives within their gaps."""
    X, y = _wide(sparse, dtype, seed=2)
    tol = 1e-6
    alphas, with_pred, gaps = enet_path(X, y, l1_ratio=1.0, n_alphas=40, tol=tol,
                                        fit_intercept=True, standardize=False)[:3]
    monkeypatch.setattr(EnetProblem, "predict_next", lambda self, d, penalty: False)
    _, without, gaps0 = enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=tol,
                                  fit_intercept=True, standardize=False)[:3]
    Xd = X.toarray() if sparse else X
    Xd64, y64 = Xd.astype(np.float64), y.astype(np.float64)
    target = tol * null_deviance(Xd64, y64)
    # float32: the coefficients' rounding to float32 on top (measured: the oracle's gap
    # of the float32 paths is at most 0.92 of the target, dense and sparse)
    slack = 1.0 if dtype == np.float64 else 2.0
    for k, a in enumerate(alphas):
        for coef, g in ((with_pred[:, k], gaps[k]), (without[:, k], gaps0[k])):
            assert g <= target
            assert enet_gap(Xd64, y64, coef.astype(np.float64), None, a, 1.0) <= (
                slack * target + 1e-12)
    # the predictions did take effect on this path (else the test compares a path with
    # itself): some point's coefficients differ
    assert np.any(with_pred != without)


def test_a_grid_that_repeats_alphas_predicts_nothing_and_stays_finite():
    """A user grid with repeated alphas: no line through two equal alphas (the prediction
    would divide by zero), and the path is certified and finite throughout."""
    assert linear_prediction(((np.ones(3), 0.5), (np.zeros(3), 0.5)), 0.25) is None
    X, y = _wide(False, np.float64, seed=4)
    a = enet_path(X, y, l1_ratio=1.0, n_alphas=1, standardize=False)[0][0]
    grid = np.array([a, a / 2, a / 2, a / 4, a / 4, a / 8, a / 8, a / 16])
    _, coefs, gaps = enet_path(X, y, l1_ratio=1.0, alphas=grid, tol=1e-8,
                               standardize=False)[:3]
    assert np.all(np.isfinite(coefs))
    target = 1e-8 * null_deviance(X, y, fit_intercept=False)
    assert np.all(gaps <= target)
    for k, alpha in enumerate(grid):
        assert enet_gap(X, y, coefs[:, k], None, alpha, 1.0, fit_intercept=False) <= (
            target + 1e-12)
