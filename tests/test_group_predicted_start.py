"""The path's linear prediction of each point's start for the group lasso
(``compute_path`` -> ``GroupProblem.predict_next`` -> ``bcd``'s ``pred``).

A prediction only moves where the epochs start: the kernel's residual must stay that of
its coefficients, only non-zero working-set coefficients move and only where they keep
their sign, and a path solved with predictions certifies the same optima as one without.
References: the residual and the moves recomputed here in NumPy from the user's data, and
the independent NumPy oracle (``tests/_oracle.py``: the sparse-group duality gap from its
definition)."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from _oracle import null_deviance, sgl_gap
from test_predicted_start import _wide as _wide_design
from sklearn_normpen import group_lasso_path
from sklearn_normpen._design import Design
from sklearn_normpen._groups import parse_groups, resolve_group_weights
from sklearn_normpen._kernels import _bcd_group as K
from sklearn_normpen._solvers.block_cd import GroupProblem
from sklearn_normpen._validation import call_kernel

SIZE = 3


def _wide(sparse, dtype, seed=0):
    """The lasso tests' wide design (an offset column, 12 true features) in groups of
    ``SIZE`` consecutive features."""
    X, y = _wide_design(sparse, dtype, seed)
    groups = [list(range(g, g + SIZE)) for g in range(0, X.shape[1], SIZE)]
    return X, y, groups


def _problem(X, y, groups):
    st = parse_groups(groups, X.shape[1])
    return GroupProblem(Design(X, y, None, True), st, resolve_group_weights(None, st))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_kernel_moves_nonzero_working_set_coefficients_keeping_their_signs(sparse,
                                                                               dtype):
    """``bcd`` with no epoch (``max_epochs = 0``) and a prediction that flips signs, moves
    zero coefficients and coefficients outside the working set: exactly the non-zero
    working-set coefficients whose sign holds move, and the residual is ``yc - Xc w`` at
    the coefficients returned (recomputed from the user's X)."""
    X, y, groups = _wide(sparse, dtype)
    n, p = X.shape
    pb = _problem(X, y, groups)
    rng = np.random.default_rng(1)
    w0 = np.zeros(p)
    w0[:21] = rng.standard_normal(21)
    w0[[2, 7, 13]] = 0  # zeros inside non-zero groups
    w = pb.start(w0)
    pred = (rng.standard_normal(p) * 0.3).astype(dtype)
    pred[::4] = -3 * w[::4]  # sign changes: not taken
    ws = np.arange(0, 6, dtype=np.int32)  # groups 0-5 (features 0-17): 18-20 stay out
    pen = pb.penalty(0.0)
    V, E = pb._spec.vectors()
    L, ready = pb._kernel_L(pen, 1)
    args = (pb.gptr, pb.gidx, pb.c, L, pb.Q, pb.qoff, V, E, 1, ws,
            dtype(0.1), dtype(0.0), 0, dtype(0.0), 10, pb.max_inner, dtype(pb.inner_eps),
            pb._buf, pb._wold, *pb._kernel_box(pen), 0, pred, ready)
    call_kernel(K.bcd, *pb._kernel_x(), pb.xmean, pb.y, w, pb.r, *args)
    w_old = w0.astype(dtype)
    moved = np.zeros(p, bool)
    moved[:18] = (w_old[:18] != 0) & (np.sign(w_old[:18] + pred[:18]) == np.sign(w_old[:18]))
    assert moved.sum() >= 8 and (~moved[:18] & (w_old[:18] != 0)).sum() >= 3
    assert_array_equal(w[~moved], w_old[~moved])
    assert_allclose(w[moved], (w_old + pred)[moved], rtol=1e-6 if dtype == np.float32 else 0)
    Xd = (X.toarray() if sparse else np.asarray(X)).astype(np.float64)
    Xc = Xd - Xd.mean(axis=0)
    yc = y.astype(np.float64) - y.astype(np.float64).mean()
    expect = yc - Xc @ w.astype(np.float64)
    tol = 1e-10 if dtype == np.float64 else 2e-4
    assert_allclose(pb.centred_residual(pb.r, w), expect, atol=tol * np.abs(yc).max())


@pytest.mark.parametrize("rho", [0.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_paths_with_and_without_predictions_certify_the_same_optima(rho, sparse,
                                                                          dtype,
                                                                          monkeypatch):
    """A wide (sparse-)group-lasso path (residual mode, intercept, offset column, down to
    1e-3 alpha_max): every point certified with and without the predicted starts, each
    within the target of the NumPy oracle's gap."""
    X, y, groups = _wide(sparse, dtype, seed=2)
    tol = 1e-6
    alphas, with_pred, gaps = group_lasso_path(
        X, y, groups=groups, l1_ratio=rho, n_alphas=30, tol=tol, fit_intercept=True,
        standardize=False)[:3]
    monkeypatch.setattr(GroupProblem, "predict_next", lambda self, d, penalty: False)
    _, without, gaps0 = group_lasso_path(X, y, groups=groups, l1_ratio=rho, alphas=alphas,
                                         tol=tol, fit_intercept=True, standardize=False)[:3]
    Xd = X.toarray() if sparse else X
    Xd64, y64 = Xd.astype(np.float64), y.astype(np.float64)
    target = tol * null_deviance(Xd64, y64)
    slack = 1.0 if dtype == np.float64 else 2.0  # float32: the coefficients' rounding
    for k, a in enumerate(alphas):
        for coef, g in ((with_pred[:, k], gaps[k]), (without[:, k], gaps0[k])):
            c = coef.astype(np.float64)
            b = y64.mean() - Xd64.mean(axis=0) @ c  # the intercept of the centred fit
            assert g <= target
            assert sgl_gap(Xd64, y64, c, b, a, rho, groups) <= slack * target + 1e-12
    # the predictions did take effect (else the test compares a path with itself)
    assert np.any(with_pred != without)


def test_box_limits_refuse_the_prediction():
    """With box limits the kernel would keep no predicted step: ``predict_next`` says so,
    so the path stops forming predictions."""
    X, y, groups = _wide(False, np.float64)
    pb = _problem(X, y, groups)
    p = X.shape[1]
    boxed = pb.penalty(0.0, limits=(np.full(p, -1.0), np.full(p, 1.0)))
    assert pb.predict_next(np.ones(p), boxed) is False
    assert pb.predict_next(np.ones(p), pb.penalty(0.0)) is True


def test_a_prediction_of_the_wrong_length_is_refused():
    X, y, groups = _wide(False, np.float64)
    pb = _problem(X, y, groups)
    pen = pb.penalty(0.0)
    V, E = pb._spec.vectors()
    ws = np.arange(3, dtype=np.int32)
    args = (pb.gptr, pb.gidx, pb.c, pb.L, pb.Q, pb.qoff, V, E, 1, ws, 0.1, 0.0,
            0, 0.0, 10, pb.max_inner, pb.inner_eps, pb._buf, pb._wold, *pb._kernel_box(pen),
            0)
    w = pb.start(np.zeros(X.shape[1]))
    with pytest.raises(ValueError, match=r"pred has shape \(5,\)"):
        K.bcd(*pb._kernel_x(), pb.xmean, pb.y, w, pb.r, *args, np.zeros(5))
