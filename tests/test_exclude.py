"""exclude (glmnet's ``exclude``, issue 12 item 4): excluded features are held at zero, and
the fit equals one on the remaining columns (scikit-learn's Lasso / the package without
those columns as references)."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import Lasso
from sklearn.model_selection import KFold

from sklearn_normpen import ElasticNetPathCV, ElasticNetRegressor, enet_path


def _data(n=90, p=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.0
    y = X[:, :5] @ [2.0, -1.0, 1.5, 3.0, -2.0] + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("exclude", [[0, 3], np.arange(10) % 4 == 1])
@pytest.mark.parametrize("sparse", [False, True])
def test_regressor_and_path_equal_fit_without_the_columns(exclude, sparse):
    X, y = _data()
    mask = np.zeros(10, bool)
    mask[exclude] = True
    keep = ~mask
    Xin = sp.csc_matrix(X) if sparse else X
    est = ElasticNetRegressor(alpha=0.1, l1_ratio=1.0, standardize=False, exclude=exclude,
                              tol=1e-12, max_iter=100000).fit(Xin, y)
    ref = Lasso(alpha=0.1, tol=1e-14, max_iter=200000).fit(X[:, keep], y)
    assert np.all(est.coef_[mask] == 0)
    assert_allclose(est.coef_[keep], ref.coef_, rtol=1e-6, atol=1e-9)
    alphas, coefs, _ = enet_path(Xin, y, l1_ratio=1.0, exclude=exclude, fit_intercept=True,
                                 n_alphas=10, tol=1e-10)
    a_ref, c_ref, _ = enet_path(X[:, keep], y, l1_ratio=1.0, fit_intercept=True,
                                n_alphas=10, tol=1e-10)
    assert_allclose(alphas, a_ref, rtol=1e-10)  # alpha_max ignores excluded features
    assert np.all(coefs[mask] == 0)
    assert_allclose(coefs[keep], c_ref, rtol=1e-5, atol=1e-8)


def test_path_cv_with_exclude_equals_cv_without_the_columns():
    X, y = _data(seed=1)
    cv = KFold(4, shuffle=True, random_state=0)
    a = ElasticNetPathCV(alphas=10, cv=cv, exclude=[2, 7], tol=1e-10).fit(X, y)
    b = ElasticNetPathCV(alphas=10, cv=cv, tol=1e-10).fit(np.delete(X, [2, 7], axis=1), y)
    assert np.all(a.coef_path_[[2, 7]] == 0)
    assert_allclose(a.alphas_, b.alphas_, rtol=1e-10)
    assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-7)
    assert_allclose(np.delete(a.coef_, [2, 7]), b.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("bad", [[10], [0.5], [[0, 1]], np.ones(3, bool), ["a"]])
def test_bad_exclude_names_the_parameter(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="exclude"):
        ElasticNetRegressor(exclude=bad).fit(X, y)
    with pytest.raises(ValueError, match="exclude"):
        enet_path(X, y, exclude=bad)
