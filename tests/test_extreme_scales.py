"""Multi-task and group paths with data near the ends of the accepted range (``check_scale``:
float64 1e-100..1e100, float32 1e-12..1e12): gradients ~ |X|·|Y| then have squares that
overflow or underflow, and row norms taken naively turned real KKT violations into inf or 0
(no convergence, or alpha_max = 0 "y is constant"). ``(X s, Y s)`` is the same problem as
``(X, Y)`` for the pure-l1 penalties (alphas scaled by s² without standardization, by s with
it), so the coefficients must agree and every point must certify."""
import warnings

import numpy as np
import pytest

from sklearn_normpen.multitask import multitask_enet_path


def _data(n=300, p=8, seed=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(n)
    return X, np.column_stack([y, -0.5 * y])


@pytest.mark.parametrize("dtype, s", [(np.float64, 1e-90), (np.float64, 1e-80),
                                      (np.float64, 1e80), (np.float64, 1e90),
                                      (np.float32, 1e-11), (np.float32, 1e11)])
@pytest.mark.parametrize("standardize", [True, False])
def test_multitask_lasso_path_is_scale_equivariant(dtype, s, standardize):
    X, Y = _data()
    X, Y = X.astype(dtype), Y.astype(dtype)
    kw = dict(l1_ratio=1.0, n_alphas=10, fit_intercept=True, standardize=standardize,
              tol=1e-4 if dtype == np.float32 else 1e-8)
    a_ref, c_ref, _ = multitask_enet_path(X, Y, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, no alpha_max = 0 warning
        a, c, gaps = multitask_enet_path((X * s).astype(dtype), (Y * s).astype(dtype), **kw)
    power = 1 if standardize else 2
    np.testing.assert_allclose(a / s ** power, a_ref, rtol=1e-5 if dtype == np.float32
                               else 1e-10)
    rtol = 2e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(c, c_ref, rtol=rtol, atol=rtol * np.max(np.abs(c_ref)))
    assert np.all(np.isfinite(gaps)) and np.all(gaps >= 0)


@pytest.mark.parametrize("s", [1e-11, 1e10, 1e11])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_group_lasso_path_is_scale_equivariant(s, standardize, l1_ratio, sparse):
    # float32 kernels: the block solve's lam·emax (~ |z|·|X|², 1e39 at s = 1e10) overflowed
    # to inf and the squares of float32 gradients left the range: no group ever entered
    # (coefficients 0 and a ConvergenceWarning at every point below alpha_max)
    import scipy.sparse as sp

    from sklearn_normpen.group_lasso import group_lasso_path
    X, Y = _data()
    X, y = X.astype(np.float32), Y[:, 0].astype(np.float32)
    groups = np.repeat(np.arange(4), 2)
    kw = dict(groups=groups, l1_ratio=l1_ratio, n_alphas=10, fit_intercept=True,
              standardize=standardize)
    conv = sp.csc_matrix if sparse else np.asarray
    a_ref, c_ref, _ = group_lasso_path(conv(X), y, **kw)
    assert np.count_nonzero(c_ref[:, 3]) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, c, gaps = group_lasso_path(conv((X * s).astype(np.float32)),
                                      (y * s).astype(np.float32), **kw)
    power = 1 if standardize else 2
    np.testing.assert_allclose(a / s ** power, a_ref, rtol=1e-5)
    np.testing.assert_allclose(c, c_ref, rtol=5e-3, atol=5e-3 * np.max(np.abs(c_ref)))
    assert np.all(np.isfinite(gaps)) and np.all(gaps >= 0)


def _group_runners():
    from sklearn_normpen.group_lasso import group_lasso_path
    from sklearn_normpen.multitask_group import multitask_group_lasso_path
    groups = np.repeat(np.arange(4), 2)
    kw = dict(groups=groups, fit_intercept=True, standardize=False)
    return {
        "group": lambda X, Y, a: group_lasso_path(X, Y[:, 0], l1_ratio=0.0, alphas=a, **kw),
        "sparse-group": lambda X, Y, a: group_lasso_path(X, Y[:, 0], l1_ratio=0.5, alphas=a,
                                                         **kw),
        "multi-task group": lambda X, Y, a: multitask_group_lasso_path(X, Y, alphas=a, **kw),
    }


@pytest.mark.parametrize("name", ["group", "sparse-group", "multi-task group"])
@pytest.mark.parametrize("sx, sy", [(1e-90, 1e-90), (1e90, 1e-90), (1e-90, 1e90),
                                    (1e90, 1e90)])
@pytest.mark.parametrize("sparse", [False, True])
def test_group_certificates_are_never_false_at_extreme_scales(name, sx, sy, sparse):
    # (X sx, Y sy) at alphas·sx·sy is the unscaled problem with coefficients ·sy/sx. With
    # |z| ~ 1e-180 the group norms' squares underflowed to 0, the dual point passed as
    # feasible and w = 0 was certified at every point (gap below target, no warning). Now
    # the group quantities are computed on power-of-two-scaled data: a point either meets
    # its gap target with the right coefficients or is reported unconverged.
    import scipy.sparse as sp
    run = _group_runners()[name]
    X, Y = _data()
    a_max = run(X, Y, None)[0][0]
    alphas = np.geomspace(a_max, 1e-2 * a_max, 10)
    _, c_ref, _ = run(X, Y, alphas)
    Xs = X * sx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unconverged points are allowed here, false ones not
        _, c, gaps = run(sp.csc_matrix(Xs) if sparse else Xs, Y * sy, alphas * sx * sy)
    null = np.sum((Y * sy - (Y * sy).mean(axis=0)) ** 2) / (2 * X.shape[0])
    if name != "multi-task group":
        null = np.sum((Y[:, 0] * sy - (Y[:, 0] * sy).mean()) ** 2) / (2 * X.shape[0])
    certified = gaps <= 1e-4 * null
    err = np.abs(c * (sx / sy) - c_ref).reshape(-1, c.shape[-1]).max(axis=0)
    assert np.all(err[certified] <= 1e-2 * np.max(np.abs(c_ref)))
    assert np.all(np.isfinite(gaps[certified]))
