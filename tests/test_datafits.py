"""The Design's weighted statistics and the Quadratic datafit against direct NumPy."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from sklearn_normpen._certificate import CertStats
from sklearn_normpen._design import weighted_column_std, weighted_means
from sklearn_normpen.datafits import Quadratic


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_means_and_std(sparse, weighted):
    rng = np.random.default_rng(0)
    Xd = rng.standard_normal((40, 5)) * (rng.random((40, 5)) < 0.4)
    Xd[:, 2] = 3.0  # a constant column: its std must be (numerically) zero
    y = rng.standard_normal(40)
    sw = rng.random(40) + 0.1 if weighted else None
    X = sp.csc_matrix(Xd) if sparse else Xd
    X_off, y_off = weighted_means(X, y, sw, True)
    w = np.ones(40) if sw is None else sw
    ref_m = w @ Xd / w.sum()
    assert_allclose(X_off, ref_m)
    assert_allclose(y_off, w @ y / w.sum())
    std = weighted_column_std(X, X_off, sw)
    ref = np.sqrt(w @ (Xd - ref_m) ** 2 / w.sum())
    assert_allclose(std, ref, atol=1e-12)
    assert std[2] < 1e-12


def test_sparse_std_has_no_cancellation():
    # Large mean, tiny spread: E[x²] - m² would lose every digit.
    col = 1e6 + np.array([0.0, 1e-3, 2e-3, 3e-3])
    X = sp.csc_matrix(col[:, None])
    X_off, _ = weighted_means(X, np.zeros(4), None, True)
    assert_allclose(weighted_column_std(X, X_off, None), [np.std(col)], rtol=1e-6)


def test_quadratic_value_dual_and_deviance():
    rng = np.random.default_rng(1)
    y, pred, w = rng.standard_normal(10), rng.standard_normal((10, 3)), rng.random(10)
    r = y[:, None] - pred
    assert_allclose(Quadratic.deviance(y, pred, w), w @ (r * r) / w.sum())
    assert_allclose(Quadratic.deviance(y, pred[:, 0]), np.mean(r[:, 0] ** 2))
    st = CertStats(r_norm2=2.0, r_y=3.0, r_mean=0.0, g=np.zeros(1))
    assert Quadratic.value(st) == 1.0
    # -F*(-θ) at θ = t r: t r_y - t² r_norm2 / 2, maximal (= P at the optimum) for t = r_y/r_norm2
    assert Quadratic.dual(st, 0.5) == 0.5 * 3.0 - 0.125 * 2.0
