"""SpectralRidge on large sparse input: the LSQR route, the dense-matrix budget, and clear
errors instead of raw LAPACK failures."""
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import Ridge

from sklearn_normpen import SpectralRidge, SpectralRidgeCV
from sklearn_normpen._solvers import spectral


def _sparse_problem(n=400, p=80, density=0.08, seed=0, targets=1):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    w = rng.standard_normal((p, targets))
    Y = np.asarray(X @ w) + 0.1 * rng.standard_normal((n, targets)) + 3.0
    sw = rng.uniform(0.2, 3.0, n)
    return X, (Y[:, 0] if targets == 1 else Y), sw


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [1e-3, 1.0, 50.0])
def test_lsqr_equals_sklearn_ridge(alpha, fit_intercept):
    X, y, sw = _sparse_problem()
    est = SpectralRidge(alpha=alpha, solver="lsqr", fit_intercept=fit_intercept)
    est.fit(X, y, sample_weight=sw)
    ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky")
    ref.fit(X.toarray(), y, sample_weight=sw)
    assert est.solver_ == "lsqr" and est.n_iter_ > 0
    assert est.singular_values_ is None and est.rank_ is None and est.df_ is None
    assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-9, atol=1e-11)


def test_lsqr_equals_decomposition_with_penalty_factor_and_targets():
    X, Y, sw = _sparse_problem(targets=2)
    pf = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[1])
    kw = dict(alpha=[0.3, 3.0], penalty_factor=pf)
    a = SpectralRidge(solver="lsqr", **kw).fit(X, Y, sample_weight=sw)
    b = SpectralRidge(solver="gram", **kw).fit(X, Y, sample_weight=sw)
    assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-9)
    # the path, warm-started from alpha to alpha, equals the decomposition's path
    alphas = [100.0, 10.0, 1.0, 0.1, 0.0]
    Wa, ba = a.path(alphas)
    Wb, bb = b.path(alphas)
    assert_allclose(Wa, Wb, rtol=1e-7, atol=1e-9)
    assert_allclose(ba, bb, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="df needs the singular values"):
        a.df([1.0])


def test_lsqr_dense_input_too():
    X, y, _ = _sparse_problem()
    a = SpectralRidge(alpha=2.0, solver="lsqr").fit(X.toarray(), y)
    assert_allclose(a.coef_, Ridge(alpha=2.0).fit(X.toarray(), y).coef_, rtol=1e-9)


def test_auto_switches_to_lsqr_above_the_budget(monkeypatch):
    X, y, sw = _sparse_problem()
    below = SpectralRidge(alpha=1.0).fit(X, y, sample_weight=sw)
    assert below.solver_ == "gram"
    # a Gram of 80 x 80 float64 is 51,200 bytes: just below / above the budget
    monkeypatch.setattr(spectral, "DENSE_BUDGET_BYTES", 8 * 80 * 80 - 1)
    above = SpectralRidge(alpha=1.0).fit(X, y, sample_weight=sw)
    assert above.solver_ == "lsqr"
    assert_allclose(above.coef_, below.coef_, rtol=1e-9, atol=1e-11)
    # explicit decompositions and every CV mode refuse before allocating
    for solver in ("gram", "kernel"):
        with pytest.raises(ValueError, match=r"above the budget"):
            SpectralRidge(solver=solver).fit(X, y)
    for cv in (None, "gcv", 3):
        with pytest.raises(ValueError, match=r"SpectralRidgeCV: sparse X of shape \(400, "
                                             r"80\) would need a dense 80 x 80 matrix"):
            SpectralRidgeCV(cv=cv).fit(X, y)
    # dense X is not limited by the budget (its Gram is never larger than X itself)
    assert SpectralRidge().fit(X.toarray(), y).solver_ == "gram"


def _huge_sparse(n, nnz, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, n, nnz), rng.integers(0, n, nnz)
    return sp.csr_matrix((rng.standard_normal(nnz), (rows, cols)), shape=(n, n))


def test_issue_size_sparse_ridge_stays_small():
    # The issue's case: 100,000 x 100,000 with 1e6 non-zeros needed a 74.5 GiB Gram.
    n = 100_000
    X = _huge_sparse(n, 1_000_000)
    y = np.random.default_rng(1).standard_normal(n)
    tracemalloc.start()
    try:
        est = SpectralRidge(alpha=1.0).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert est.solver_ == "lsqr"
    assert peak < 200 * 2**20, peak  # X itself is 12 MB; a dense Gram would be 80 GB
    # optimality of the damped least-squares solution: Xcᵀ(Xc w - yc) + alpha w = 0
    Xc_w = np.asarray(X @ est.coef_) - (np.asarray(X.mean(axis=0)).ravel() @ est.coef_)
    r = Xc_w - (y - y.mean())
    grad = np.asarray(X.T @ r).ravel() - np.asarray(X.mean(axis=0)).ravel() * r.sum()
    grad += 1.0 * est.coef_
    assert np.linalg.norm(grad) < 1e-8 * np.linalg.norm(np.asarray(X.T @ y))
    with pytest.raises(ValueError, match=r"74\.5 GiB.*above the budget of 1 GiB"):
        SpectralRidgeCV().fit(X, y)


def test_overflowing_gram_is_explained():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)) * 1e200, rng.standard_normal(30)
    # the Design's scale check names the problem before any Gram is formed
    for est in (SpectralRidge(), SpectralRidge(solver="gram"), SpectralRidgeCV(),
                SpectralRidge(solver="kernel")):
        with pytest.raises(ValueError, match=r"X has entries of magnitude 2.3\d*e\+200.*"
                                             r"rescale X"):
            est.fit(X, y)



def test_lapack_failure_names_the_cause(monkeypatch):
    def fail(*args, **kwargs):
        raise la.LinAlgError("3 off-diagonal elements did not converge")

    monkeypatch.setattr(spectral.la, "eigh", fail)
    monkeypatch.setattr(spectral.la, "svd", fail)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    with pytest.raises(la.LinAlgError, match=r"eigendecomposition of the 4 x 4 Gram matrix "
                                             r"of X did not converge.*rescale X"):
        SpectralRidge(solver="gram").fit(X, y)
    with pytest.raises(la.LinAlgError, match=r"SVD of the 30 x 4 centred, weighted design "
                                             r"did not converge.*rescale X"):
        SpectralRidge(solver="svd").fit(X, y)


def test_lsqr_warns_when_out_of_iterations():
    X, y, _ = _sparse_problem()
    it = spectral.IterativeRidge(X, y[:, None], max_iter=2)
    with pytest.warns(Warning, match="LSQR reached max_iter=2"):
        it.coef_at([1e-6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectral.IterativeRidge(X, y[:, None]).coef_at([1.0])
