"""Every statement of doc/concepts.rst, checked against independent NumPy references, and
the script that draws its figures."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes

from sklearn_normpen import ElasticNetRegressor, SpectralRidge, enet_path
from _subprocess import package_env

SCRIPT = Path(__file__).resolve().parent.parent / "doc" / "concepts.py"
FIGURES = ["constrained", "bayes", "scale", "spectral", "weight_decay"]
TIGHT = dict(tol=1e-12, max_iter=100_000)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def _project_l1_ball(v, t):
    """Euclidean projection onto {‖w‖₁ ≤ t} (Duchi et al., 2008)."""
    if np.abs(v).sum() <= t:
        return v
    u = np.sort(np.abs(v))[::-1]
    css = np.cumsum(u)
    k = np.nonzero(u * np.arange(1, v.size + 1) > css - t)[0][-1]
    theta = (css[k] - t) / (k + 1)
    return np.sign(v) * np.maximum(np.abs(v) - theta, 0.0)


# --------------------------------------------------------------------- constrained form
def test_lasso_point_solves_the_constrained_problem_with_its_budget(diabetes):
    X, y = diabetes
    alphas, coefs, _ = enet_path(X, y, l1_ratio=1.0, n_alphas=30, fit_intercept=True,
                                 **TIGHT, standardize=False)
    Xc, yc = X - X.mean(0), y - y.mean()
    n = len(y)
    step = n / np.linalg.eigvalsh(Xc.T @ Xc).max()
    for k in (5, 12, 20):
        t = np.abs(coefs[:, k]).sum()
        w = np.zeros(X.shape[1])  # projected gradient on min L s.t. ‖w‖₁ ≤ t, no alpha
        for _ in range(50_000):
            w = _project_l1_ball(w + step * Xc.T @ (yc - Xc @ w) / n, t)
        assert_allclose(w, coefs[:, k], atol=1e-6 * np.abs(coefs[:, k]).max())
        assert np.count_nonzero(w) < X.shape[1] or k == 20


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_budget_never_increases_with_alpha(diabetes, rho):
    X, y = diabetes
    _, coefs, _ = enet_path(X, y, l1_ratio=rho, fit_intercept=True, **TIGHT, standardize=False)
    omega = rho * np.abs(coefs).sum(0) + (1 - rho) / 2 * (coefs ** 2).sum(0)
    assert omega[0] == 0
    assert np.all(np.diff(omega) > 0)  # alphas decrease along the path: strictly


# ------------------------------------------------------------------ Bayesian reading
def _orthogonal(m=41, k=20, seed=0):
    """Centred orthogonal columns with Σ x_ij x_ik = m δ_jk (QR of centred columns keeps
    them centred), y with an offset, and the least-squares estimates z = Xᵀy/m."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, k))
    Q, _ = np.linalg.qr(A - A.mean(0))
    X = np.sqrt(m) * Q
    y = X @ np.linspace(-3, 3, k) + 2.5 + 0.1 * rng.standard_normal(m)
    return X, y, X.T @ (y - y.mean()) / m


def _neg_log_posterior(X, y, w, b, sigma2, log_prior):
    r = y - X @ w - b
    return r @ r / (2 * sigma2) - log_prior(w)


def test_lasso_is_the_laplace_map_with_alpha_sigma2_over_n_beta():
    X, y, z = _orthogonal()
    m = len(y)
    sigma2, beta = 3.0, 0.05
    fit = ElasticNetRegressor(alpha=sigma2 / (m * beta), l1_ratio=1.0, standardize=False,
                              **TIGHT).fit(X, y)
    alpha = sigma2 / (m * beta)
    assert_allclose(fit.coef_, np.sign(z) * np.maximum(np.abs(z) - alpha, 0), atol=1e-9)
    assert np.any(fit.coef_ == 0) and np.any(fit.coef_ != 0)
    # the MAP: no perturbation lowers minus the log posterior (b at its optimum)
    lp = lambda w: -np.abs(w).sum() / beta  # noqa: E731
    best = _neg_log_posterior(X, y, fit.coef_, fit.intercept_, sigma2, lp)
    rng = np.random.default_rng(1)
    for _ in range(200):
        w = fit.coef_ + 1e-3 * rng.standard_normal(X.shape[1])
        assert _neg_log_posterior(X, y, w, fit.intercept_, sigma2, lp) >= best - 1e-10


def test_ridge_is_the_gaussian_map_in_both_scalings():
    X, y, z = _orthogonal()
    m = len(y)
    sigma2, tau2 = 2.0, 0.4
    ridge = SpectralRidge(alpha=sigma2 / tau2).fit(X, y)
    _, enet, _ = enet_path(X, y, l1_ratio=0.0, alphas=[sigma2 / (m * tau2)],
                           fit_intercept=True, **TIGHT, standardize=False)
    assert_allclose(ridge.coef_, z / (1 + sigma2 / (m * tau2)), rtol=1e-10)
    assert_allclose(enet[:, 0], ridge.coef_, rtol=1e-8)
    # the posterior mode on a general design: (XᵀX + σ²/τ² I) w = Xᵀy, centred
    Xg, yg = load_diabetes(return_X_y=True)
    Xc, yc = Xg - Xg.mean(0), yg - yg.mean()
    w_map = np.linalg.solve(Xc.T @ Xc + sigma2 / tau2 * np.eye(Xg.shape[1]), Xc.T @ yc)
    assert_allclose(SpectralRidge(alpha=sigma2 / tau2).fit(Xg, yg).coef_, w_map,
                    rtol=1e-9)


# ----------------------------------------------------------------- scale (in)variance
def test_standardize_makes_the_lasso_invariant_to_units_and_without_it_is_not():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    a = np.ones(X.shape[1])
    a[2] = 1000.0  # bmi
    a[0] = 0.01
    kw = dict(l1_ratio=1.0, fit_intercept=True, **TIGHT)
    al, c0, _ = enet_path(X, y, standardize=True, n_alphas=20, **kw)
    _, c1, _ = enet_path(X * a + 7.0, y, standardize=True, alphas=al, **kw)
    assert_allclose(c1 * a[:, None], c0, rtol=1e-6, atol=1e-9 * np.abs(c0).max())
    al, c0, _ = enet_path(X, y, standardize=False, n_alphas=20, **kw)
    _, c1, _ = enet_path(X * a, y, standardize=False, alphas=al, **kw)
    assert np.abs(c1 * a[:, None] - c0).max() > 0.1 * np.abs(c0).max()


def test_penalty_factors_act_through_their_ratios_only(diabetes):
    """Multiplying every factor by c is multiplying alpha by c (glmnet's rescaling of
    penalty.factor changes the alpha values, not the fits); 0 leaves a feature free."""
    X, y = diabetes
    f = np.array([0.0, 1, 2, 1, 0.5, 1, 1, 3, 1, 1])
    c = f.size / f.sum()
    alphas = np.array([5.0, 1.0, 0.2])
    kw = dict(l1_ratio=0.7, fit_intercept=True, **TIGHT)
    _, given, _ = enet_path(X, y, penalty_factor=f, alphas=alphas * c, **kw, standardize=False)
    _, rescaled, _ = enet_path(X, y, penalty_factor=f * c, alphas=alphas, **kw, standardize=False)
    assert_allclose(rescaled, given, rtol=1e-7, atol=1e-9)
    _, at_max, _ = enet_path(X, y, penalty_factor=f, alphas=[1e6], **kw, standardize=False)
    assert at_max[0, 0] != 0 and np.all(at_max[1:, 0] == 0)
    # the free feature's coefficient is its least-squares value given the others at 0
    x0 = X[:, 0] - X[:, 0].mean()
    assert_allclose(at_max[0, 0], x0 @ (y - y.mean()) / (x0 @ x0), rtol=1e-8)


# ------------------------------------------------------------ spectral filter factors
def test_filter_factors_of_spectral_ridge(diabetes):
    X, y = diabetes
    fit = SpectralRidge(alpha=1.0).fit(X, y)
    _, d_ref, Vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
    assert_allclose(fit.singular_values_, d_ref, rtol=1e-10)
    alphas = np.array([0.01, 0.1, 1.0, 10.0])
    W, _ = fit.path(np.r_[0.0, alphas])
    proj = Vt @ W
    phi = d_ref[:, None] ** 2 / (d_ref[:, None] ** 2 + alphas)
    assert_allclose(proj[:, 1:] / proj[:, :1], phi, rtol=1e-8)
    assert_allclose(fit.df([1.0]), phi[:, 2].sum(), rtol=1e-12)
    # elastic-net scaling (l1_ratio=0): factors d²/(d² + n·alpha)
    n = len(y)
    _, enet, _ = enet_path(X, y, l1_ratio=0.0, alphas=[1.0 / n], fit_intercept=True,
                           **TIGHT, standardize=False)
    # (coordinate descent is certified by its gap, ~1e-5 here on small directions; a
    # wrong scaling would be off by a factor n in alpha)
    assert_allclose((Vt @ enet[:, 0]) / proj[:, 0], phi[:, 2], rtol=1e-4)


# ------------------------------------------------------------------ weight decay
def _adam(grad, p, lam, coupled, steps=10_000, lr0=2.0, b1=0.9, b2=0.999, eps=1e-8):
    w, m, v = np.zeros(p), np.zeros(p), np.zeros(p)
    for t in range(1, steps + 1):
        lr = lr0 / np.sqrt(t)
        g = grad(w) + (lam * w if coupled else 0.0)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        if not coupled:
            w = w - lr * lam * w
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w


def test_weight_decay_reaches_ridge_only_without_adaptive_preconditioning(diabetes):
    X, y = diabetes
    n, p = X.shape
    Xc, yc = X - X.mean(0), y - y.mean()
    lam = 0.05
    ridge = SpectralRidge(alpha=n * lam).fit(X, y).coef_

    def grad(w):
        return -Xc.T @ (yc - Xc @ w) / n

    lip = np.linalg.eigvalsh(Xc.T @ Xc / n).max() + lam
    w = np.zeros(p)
    for _ in range(10_000):
        w = (1 - lam / lip) * w - grad(w) / lip  # gradient descent with weight decay
    assert_allclose(w, ridge, rtol=1e-8)
    # PyTorch's SGD(weight_decay=wd) on MSELoss (mean r², no 1/2): alpha = wd/2
    wd, w = 0.1, np.zeros(p)
    for _ in range(10_000):
        w = w - (2 * grad(w) + wd * w) / (2 * lip + wd)
    assert_allclose(w, SpectralRidge(alpha=n * wd / 2).fit(X, y).coef_, rtol=1e-8)

    assert_allclose(_adam(grad, p, lam, coupled=True), ridge, rtol=1e-8)
    w_adamw = _adam(grad, p, lam, coupled=False)
    assert np.linalg.norm(w_adamw - ridge) > 0.3 * np.linalg.norm(ridge)
    g = grad(w_adamw)  # its fixed point: λw = −g/(|g| + ε), here every |w_j| ≈ 1/λ
    assert_allclose(lam * w_adamw, -g / (np.abs(g) + 1e-8), atol=2e-2)
    assert_allclose(np.abs(w_adamw), 1 / lam, rtol=1e-2)
    assert np.all(np.sign(w_adamw) == -np.sign(g))  # KKT of the ℓ∞ box


# ------------------------------------------------------------------ the figure script
def test_concepts_figure_script_writes_every_figure(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], cwd=tmp_path,
                          env=package_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for name in FIGURES:
        png = tmp_path / f"concepts_{name}.png"
        assert png.is_file() and png.stat().st_size > 10_000, name
    committed = SCRIPT.parent / "images"
    for name in FIGURES:  # the page shows these
        assert (committed / f"concepts_{name}.png").is_file(), name
