"""The shared compiled helpers against NumPy references: float32 and float64, read-only input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklearn_normpen._kernels import _testing as K

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def _ro(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def _np_soft(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [0.0, 0.3, 1.7, 100.0])
def test_soft_threshold(rng, dtype, t):
    x = _ro(rng.standard_normal(50).astype(dtype))
    out = np.empty_like(x)
    K.soft_threshold(x, dtype(t), out)
    assert out.dtype == dtype
    assert_allclose(out, _np_soft(x.astype(np.float64), t), rtol=RTOL[dtype], atol=1e-6)
    # exact zeros where |x| <= t: sparsity must be exact, not approximate
    assert np.all(out[np.abs(x) <= t] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [0.0, 0.5, 2.0, 50.0])
def test_block_soft_threshold(rng, dtype, t):
    v = _ro(rng.standard_normal(7).astype(dtype))
    out = np.empty_like(v)
    nrm = K.block_soft_threshold(v, dtype(t), out)
    v64 = v.astype(np.float64)
    ref = max(1 - t / np.linalg.norm(v64), 0) * v64
    assert_allclose(out, ref, rtol=RTOL[dtype], atol=1e-6)
    assert_allclose(nrm, np.linalg.norm(ref), rtol=RTOL[dtype], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_threshold_norm(rng, dtype):
    v = _ro(rng.standard_normal(40).astype(dtype))
    v64 = v.astype(np.float64)
    assert_allclose(K.soft_threshold_norm(v, dtype(0.4)),
                    np.linalg.norm(_np_soft(v64, 0.4)), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_blas_wrappers(rng, dtype):
    x = _ro(rng.standard_normal(101).astype(dtype))
    y = _ro(rng.standard_normal(101).astype(dtype))
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    assert_allclose(K.dot(x, y), x64 @ y64, rtol=RTOL[dtype] * 10, atol=1e-5)
    assert_allclose(K.nrm2(x), np.linalg.norm(x64), rtol=RTOL[dtype])
    z = y.copy()
    K.axpy(x, z, 0.5)
    assert_allclose(z, y64 + 0.5 * x64, rtol=RTOL[dtype], atol=1e-6)
    A = _ro(np.asfortranarray(rng.standard_normal((30, 8)).astype(dtype)))
    r = _ro(rng.standard_normal(30).astype(dtype))
    out = np.empty(8, dtype=dtype)
    K.gemv_t(A, r, out)
    assert_allclose(out, A.astype(np.float64).T @ r.astype(np.float64),
                    rtol=RTOL[dtype] * 10, atol=1e-5)


def test_kernels_reject_wrong_dtype_mix():
    # Fused types: float32 and float64 may not be mixed in one call.
    with pytest.raises((TypeError, ValueError)):
        K.dot(np.ones(3, np.float32), np.ones(3, np.float64))
