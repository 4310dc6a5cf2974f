"""The API reference lists every public name (the Sphinx build itself runs in CI)."""
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import sklearn_normpen

API = Path(__file__).resolve().parent.parent / "doc" / "api.rst"


def _documented():
    """``module.name`` for every autosummary entry of ``doc/api.rst``."""
    names, module = set(), None
    for line in API.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        elif re.match(r"^   [A-Za-z_]\w*$", line):
            names.add(f"{module}.{line.strip()}")
    return names


def _public():
    """``{qualname: object}`` of the public API: the package's ``__all__`` and that of its
    public submodules."""
    public = {f"sklearn_normpen.{n}": getattr(sklearn_normpen, n)
              for n in sklearn_normpen.__all__ if n != "__version__"}
    for sub in ("model_selection", "plotting", "selection"):
        try:
            mod = importlib.import_module(f"sklearn_normpen.{sub}")
        except ModuleNotFoundError:
            continue
        public.update({f"sklearn_normpen.{sub}.{n}": getattr(mod, n)
                       for n in getattr(mod, "__all__", [])})
    return public


def _resolve(qualname):
    module, _, name = qualname.rpartition(".")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        pytest.fail(f"doc/api.rst documents {qualname} but {module} does not exist")
    assert hasattr(mod, name), f"doc/api.rst documents {qualname}, which does not exist"
    return getattr(mod, name)


def test_api_reference_lists_every_public_name():
    # an object re-exported at the top level counts as documented under its home module
    documented = [_resolve(q) for q in _documented()]
    missing = [q for q, obj in _public().items() if not any(obj is d for d in documented)]
    assert not missing, f"add to doc/api.rst: {sorted(missing)}"


def test_api_reference_names_exist():
    for qualname in sorted(_documented()):
        _resolve(qualname)


# ---------------------------------------------------------------------------------------
# The conversions the user guide states hold numerically.
# ---------------------------------------------------------------------------------------

def _data(n=60, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * [1.0, 3.0, 0.5, 2.0, 1.0]
    y = X @ [1.5, -0.5, 2.0, 0.0, 0.3] + 3.0 + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("a", [0.3, 0.7])
def test_glmnet_y_scaling_recipes_agree(a):
    """User guide, "Reproducing glmnet" point 2: both recipes solve glmnet's problem
    ``1/(2N)||r||² + λa||β||₁ + λ(1-a)/(2σ_y)||β||²``, here checked with scikit-learn."""
    from sklearn.linear_model import ElasticNet

    X, y = _data()
    lam, sigma = 0.2, y.std()
    kw = dict(tol=1e-12, max_iter=100_000)
    scaled = ElasticNet(alpha=lam / sigma, l1_ratio=a, **kw).fit(X, y / sigma)
    k = a + (1 - a) / sigma
    direct = ElasticNet(alpha=lam * k, l1_ratio=a / k, **kw).fit(X, y)
    np.testing.assert_allclose(scaled.coef_ * sigma, direct.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(scaled.intercept_ * sigma, direct.intercept_, rtol=1e-7)
    # and the direct fit satisfies the stationarity conditions of glmnet's problem
    r = y - X @ direct.coef_ - direct.intercept_
    grad = -X.T @ r / len(y) + lam * (1 - a) / sigma * direct.coef_
    nz = direct.coef_ != 0
    np.testing.assert_allclose(grad[nz], -lam * a * np.sign(direct.coef_[nz]), atol=1e-8)
    assert np.all(np.abs(grad[~nz]) <= lam * a + 1e-8)


def test_rescaling_a_feature_is_a_penalty_factor():
    """User guide, "When to standardise": multiplying column j by a_j is the lasso with
    penalty factor 1/a_j on the original column."""
    from sklearn_normpen import enet_path

    X, y = _data()
    a = np.array([1.0, 10.0, 0.1, 2.0, 1.0])
    alphas = np.array([0.5, 0.1])
    kw = dict(l1_ratio=1.0, alphas=alphas, fit_intercept=True, tol=1e-12, max_iter=100_000)
    _, coef_scaled, _ = enet_path(X * a, y, **kw, standardize=False)
    _, coef_factor, _ = enet_path(X, y, penalty_factor=1 / a, **kw, standardize=False)
    np.testing.assert_allclose(coef_scaled * a[:, None], coef_factor, rtol=1e-6, atol=1e-9)


def test_rescaling_a_feature_is_a_ridge_penalty_factor():
    """Same statement for ridge: penalty factor 1/a_j² (scikit-learn's Ridge as reference)."""
    from sklearn.linear_model import Ridge

    from sklearn_normpen import SpectralRidge

    X, y = _data()
    a = np.array([1.0, 10.0, 0.1, 2.0, 1.0])
    ref = Ridge(alpha=3.0).fit(X * a, y)
    ours = SpectralRidge(alpha=3.0, penalty_factor=1 / a ** 2).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_ * a, rtol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)


def test_ridge_alpha_is_n_times_enet_alpha():
    """User guide, "The objectives": ridge ``alpha`` = n × elastic-net ``alpha`` at ρ = 0."""
    from sklearn_normpen import SpectralRidge, enet_path

    X, y = _data()
    alpha = 0.3
    _, coef, _ = enet_path(X, y, l1_ratio=0.0, alphas=[alpha], fit_intercept=True,
                           tol=1e-14, max_iter=100_000, standardize=False)
    ridge = SpectralRidge(alpha=len(y) * alpha).fit(X, y)
    # a wrong scaling would be off by a factor n in alpha, far beyond the CD tolerance
    np.testing.assert_allclose(coef[:, 0], ridge.coef_, rtol=1e-6)
