"""Multi-task and group paths with data near the ends of the accepted range (``check_scale``:
float64 1e-100..1e100, float32 1e-12..1e12): gradients ~ |X|·|Y| then have squares that
overflow or underflow, and row norms taken naively turned real KKT violations into inf or 0
(no convergence, or alpha_max = 0 "y is constant"). ``(X s, Y s)`` is the same problem as
``(X, Y)`` for the pure-l1 penalties (alphas scaled by s² without standardization, by s with
it), so the coefficients must agree and every point must certify."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

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
