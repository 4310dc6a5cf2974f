"""The compiled multinomial sweeps (``_kernels/_cd_multinomial.pyx``): argument checks, the
state they return (η consistent with ``W``, ``b``; untouched outside the working set; a
descent), and fits through them on the layouts where their arithmetic differs (CSC without
centring, offset columns, no intercept, weights), each checked against the independent
NumPy primal and gap of ``test_multinomial.py``."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from sklearn_normpen import ElasticNetClassifier
from sklearn_normpen._kernels._cd_multinomial import multinomial_sweeps
from sklearn_normpen._validation import call_kernel

from test_multinomial import _data, _oracle_gap, _primal


def _objective(X, codes, sw, W, b, l1, l2):
    eta = X @ W + b
    n = X.shape[0]
    loss = sw @ (logsumexp(eta, axis=1) - eta[np.arange(n), codes]) / sw.sum()
    return loss + l1 @ np.abs(W).sum(1) + 0.5 * l2 @ (W ** 2).sum(1)


def _args(X, codes, K, ws, alpha=0.02, fit_intercept=True, sparse=False, sw=None):
    n, p = X.shape
    sw = np.ones(n) if sw is None else sw
    if sparse:
        Xs = sp.csc_matrix(X)
        xk = (Xs.data, Xs.indices.astype(np.intc), Xs.indptr.astype(np.intc))
        mu = np.zeros(p)
    else:
        empty = np.zeros(0, dtype=np.intc)
        xk = (np.asfortranarray(X).ravel(order="F"), empty, empty)
        mu = (sw @ X) / sw.sum() if fit_intercept else np.zeros(p)
    W, b = np.zeros((p, K)), np.zeros(K)
    eta = np.zeros((n, K))
    l1, l2 = np.full(p, 0.7 * alpha), np.full(p, 0.3 * alpha)
    return [*xk, n, codes.astype(np.intc), sw, float(sw.sum()), W, b, eta,
            np.asarray(ws, dtype=np.intc), l1, l2, mu, fit_intercept, 3, 1e-10, 100,
            1e-5, 1e-12]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sweeps_descend_and_return_a_consistent_state(sparse, fit_intercept):
    X, y = _data(n=60, p=8, seed=3)
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # stored zeros for the CSC layout
    K = 3
    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    ws = [0, 2, 3, 5, 7]
    args = _args(X, y, K, ws, fit_intercept=fit_intercept, sparse=sparse, sw=sw)
    W, b, eta, l1, l2 = args[7], args[8], args[9], args[11], args[12]
    before = _objective(X, y, sw, W, b, l1, l2)
    acc, still, passes, dec = call_kernel(multinomial_sweeps, *args)
    after = _objective(X, y, sw, W, b, l1, l2)
    assert acc > 0 and passes > 0
    assert after < before
    np.testing.assert_allclose(before - after, dec, rtol=1e-8)  # the reported decrease
    np.testing.assert_allclose(eta, X @ W + b, atol=1e-10)
    out = np.setdiff1d(np.arange(X.shape[1]), ws)
    assert not W[out].any()
    if not fit_intercept:
        assert not b.any()


def test_sweeps_reach_the_optimum_of_the_restricted_problem():
    """Many sweeps on all features: the independent gap of the returned state vanishes."""
    X, y = _data(n=80, p=5, seed=7)
    K = 3
    args = _args(X, y, K, np.arange(5), alpha=0.01)
    args[15] = 400  # sweeps
    call_kernel(multinomial_sweeps, *args)
    W, b = args[7], args[8]
    gap = _oracle_gap(X, y, W, b, 0.01, 0.7)
    # the oracle's own rounding (objective ~1): a few ulps either side of 0
    assert -1e-14 <= gap <= 1e-9


@pytest.mark.parametrize("which, value, match", [
    ("codes", 3, "class code 3"), ("ws", 99, "ws holds 99"), ("dense", None, "dense X_data")])
def test_bad_arguments_are_refused(which, value, match):
    X, y = _data(n=30, p=4, seed=1)
    args = _args(X, y, 3, [0, 1])
    if which == "codes":
        args[4] = args[4].copy()
        args[4][0] = value
    elif which == "ws":
        args[10] = np.array([0, value], dtype=np.intc)
    else:
        args[0] = args[0][:-1].copy()
    with pytest.raises(ValueError, match=match):
        multinomial_sweeps(*args)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csc_offset_column_matches_dense(dtype):
    """CSC columns are not centred by the kernel: a column with mean/sd ~ 1e3 still
    certifies and gives the dense fit's coefficients (the intercepts absorb the offset)."""
    X, y = _data(n=90, p=5, seed=11)
    X[:, 2] = 1000.0 + X[:, 2]
    kw = dict(alpha=0.01, l1_ratio=0.5, tol=1e-10 if dtype == np.float64 else 1e-6,
              max_iter=100000, standardize=False)
    a = ElasticNetClassifier(**kw).fit(X, y)
    Xs = sp.csc_matrix(X.astype(dtype))
    b = ElasticNetClassifier(**kw).fit(Xs, y)
    atol = 1e-6 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(b.coef_, a.coef_, atol=atol)
    gap = _oracle_gap(X.astype(dtype), y, b.coef_.T, b.intercept_, 0.01, 0.5)
    null = np.log(3)  # balanced-ish classes: the scale of tol
    assert gap <= 10 * kw["tol"] * null
    assert _primal(Xs, y, b.coef_.T, b.intercept_, 0.01, 0.5) >= \
        _primal(X, y, a.coef_.T, a.intercept_, 0.01, 0.5) - 1e-9
