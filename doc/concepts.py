"""The figures of doc/concepts.rst, drawn by the package on scikit-learn's diabetes data
(writes doc/images/concepts_*.png, or into the folder given as the first argument).

    PYTHONPATH=src python doc/concepts.py [output_folder]

Each figure is computed by the package's estimators; the few lines of NumPy below are the
references the text compares them with (a prior density, an optimiser loop).
"""
import sys
from pathlib import Path

import matplotlib
import numpy as np
from sklearn.datasets import load_diabetes

from sklearn_normpen import ElasticNetRegressor, SpectralRidge, enet_path
from sklearn_normpen.plotting import RegularizationPathDisplay

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("images")
OUT.mkdir(parents=True, exist_ok=True)
DPI = 90
TOL = 1e-10
# scaled=True (scikit-learn's default): centred columns of unit Euclidean norm
X, y = load_diabetes(return_X_y=True)
NAMES = list(load_diabetes().feature_names)
n, p = X.shape


def save(fig, name):
    fig.savefig(OUT / f"concepts_{name}.png", dpi=DPI)
    plt.close(fig)
    print("wrote", OUT / f"concepts_{name}.png")


# ------------------------------------------------------------------ 1. constrained form
def enet_norm(coefs, rho):
    """The elastic-net penalty Ω(w) = ρ‖w‖₁ + (1 − ρ)/2 ‖w‖₂² of each column."""
    return rho * np.abs(coefs).sum(0) + (1 - rho) / 2 * (coefs ** 2).sum(0)


fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), constrained_layout=True)
alphas, coefs, _ = enet_path(X, y, l1_ratio=1.0, fit_intercept=True, standardize=False,
                             tol=TOL, max_iter=100_000)
disp = RegularizationPathDisplay.from_path(alphas, coefs, feature_names=NAMES,
                                           x="l1_norm", ax=axes[0])
axes[0].set_title("Lasso path against its budget t = ‖w‖₁")
for rho, style in ((1.0, "-"), (0.5, "--")):
    a, c, _ = enet_path(X, y, l1_ratio=rho, fit_intercept=True, standardize=False,
                        tol=TOL, max_iter=100_000)
    axes[1].plot(a, enet_norm(c, rho), style, color="k",
                 label=f"l1_ratio = {rho:g}: t = Ω(ŵ_α)")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].invert_xaxis()
axes[1].set_xlabel("alpha (log scale)")
axes[1].set_ylabel("budget t = Ω(ŵ_α) (log scale)")
axes[1].legend(fontsize="small")
axes[1].set_title("One budget per alpha, non-increasing in alpha")
save(fig, "constrained")

# ----------------------------------------------------------------- 2. Bayesian reading
# Orthogonal design X = sqrt(m)·I (m rows, m features, no intercept): the likelihood of w_j
# is N(z_j, σ²/m) with z_j = x_jᵀy/m, so each coefficient is a one-dimensional problem and
# one fit draws the whole shrinkage map z ↦ ŵ(z).
m = 241
z = np.linspace(-4.0, 4.0, m)
Xo = np.sqrt(m) * np.eye(m)
yo = Xo @ z  # then Xoᵀ yo / m = z
sigma2 = m  # noise variance: σ²/m = 1, the variance of z_j around w_j
b = 1.0  # Laplace scale; its variance 2b² is the Gaussian prior's τ²
tau2 = 2 * b ** 2
lasso = ElasticNetRegressor(alpha=sigma2 / (m * b), l1_ratio=1.0, fit_intercept=False,
                            standardize=False, tol=TOL, max_iter=100_000).fit(Xo, yo)
ridge = SpectralRidge(alpha=sigma2 / tau2, fit_intercept=False).fit(Xo, yo)
# the posterior mean under the Laplace prior (quadrature on a grid), for contrast
grid = np.linspace(-12, 12, 4801)
log_post = -0.5 * (grid[None, :] - z[:, None]) ** 2 * m / sigma2 - np.abs(grid) / b
post = np.exp(log_post - log_post.max(1, keepdims=True))
post_mean = (post * grid).sum(1) / post.sum(1)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
t = np.linspace(-4, 4, 801)
axes[0].plot(t, np.exp(-np.abs(t) / b) / (2 * b), label=f"Laplace, b = {b:g} (lasso)")
axes[0].plot(t, np.exp(-t ** 2 / (2 * tau2)) / np.sqrt(2 * np.pi * tau2),
             label=f"Gaussian, τ² = {tau2:g} (ridge)")
axes[0].set_xlabel("w_j")
axes[0].set_ylabel("prior density")
axes[0].set_title("Two priors with the same variance")
axes[0].legend(fontsize="small")
axes[1].plot(z, z, color="0.7", lw=0.8, label="least squares ŵ = z")
axes[1].plot(z, lasso.coef_, label=f"ElasticNetRegressor(l1_ratio=1, alpha={lasso.alpha:g})")
axes[1].plot(z, ridge.coef_, label=f"SpectralRidge(alpha={ridge.alpha:g})")
axes[1].plot(z, post_mean, ":", color="C0", label="posterior mean, Laplace prior")
axes[1].set_xlabel("z_j = x_jᵀy / n  (least-squares estimate)")
axes[1].set_ylabel("fitted ŵ_j")
axes[1].set_title("MAP estimates on an orthogonal design")
axes[1].legend(fontsize="small", loc="upper left")
save(fig, "bayes")

# ---------------------------------------------------------------- 3. scale (in)variance
Xraw, yraw = load_diabetes(return_X_y=True, scaled=False)
j = NAMES.index("bmi")
a_j = 1000.0
Xs = Xraw.copy()
Xs[:, j] *= a_j  # bmi in thousandths of its unit
scale_back = np.ones(p)
scale_back[j] = a_j  # coefficient of the rescaled column × a_j = coefficient on bmi
sd = Xraw.std(0)  # drawn: coefficient × standard deviation, all features on one scale
fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True, sharey=True)
for ax, std in zip(axes, (False, True)):
    kw = dict(l1_ratio=1.0, fit_intercept=True, standardize=std, tol=1e-9,
              max_iter=100_000)
    al, c0, _ = enet_path(Xraw, yraw, **kw)
    _, c1, _ = enet_path(Xs, yraw, alphas=al, **kw)
    d0 = RegularizationPathDisplay.from_path(al, c0 * sd[:, None], feature_names=NAMES,
                                             ax=ax, top_axis=False,
                                             labels="legend" if std else None)
    d1 = RegularizationPathDisplay.from_path(al, c1 * (scale_back * sd)[:, None], ax=ax,
                                             top_axis=False, labels=None,
                                             line_kw={"linestyle": "--", "linewidth": 1.6})
    for l0, l1 in zip(d0.lines_, d1.lines_):
        l1.set_color(l0.get_color())
    if not std:  # penalty_factor 1/a_j on the original bmi: the same fits as rescaling
        pf = np.ones(p)
        pf[j] = 1 / a_j
        _, c2, _ = enet_path(Xraw, yraw, alphas=al, penalty_factor=pf, **kw)
        ax.plot(al[::6], c2[j, ::6] * sd[j], "o", mfc="none",
                color=d0.lines_[j].get_color(), label="bmi as given, penalty_factor 1/1000")
        ax.legend(fontsize="small", loc="lower right")
    ax.set_title(f"standardize={std}: solid bmi as given, dashed bmi × 1000")
    ax.set_ylabel("coefficient × standard deviation of its feature")
save(fig, "scale")

# ------------------------------------------------------- 4. ridge as spectral shrinkage
rs = SpectralRidge(alpha=1.0).fit(X, y)
d = rs.singular_values_
# measured: the coefficients of the fitted path in the right singular basis of the
# centred design, relative to least squares (alpha = 0)
_, _, Vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
ridge_alphas = [0.01, 0.1, 1.0, 10.0]
W, _ = rs.path([0.0] + ridge_alphas)
proj = Vt @ W
fig, ax = plt.subplots(figsize=(6.4, 4.2), constrained_layout=True)
dd = np.geomspace(d.min() / 1.5, d.max() * 1.5, 200)
for k, al in enumerate(ridge_alphas):
    ax.plot(dd, dd ** 2 / (dd ** 2 + al), color=f"C{k}", lw=1,
            label=f"d²/(d² + alpha), alpha = {al:g}")
    ax.plot(d, proj[:, k + 1] / proj[:, 0], "o", color=f"C{k}", ms=5)
ax.set_xscale("log")
ax.set_xlabel("singular value d_i of the centred design (SpectralRidge.singular_values_)")
ax.set_ylabel("filter factor: (v_iᵀŵ_alpha) / (v_iᵀŵ_LS)")
ax.set_title("Ridge shrinks each singular direction by d²/(d² + alpha)")
ax.legend(fontsize="small", loc="upper left")
save(fig, "spectral")

# -------------------------------------------------------- 5. weight decay vs the penalty
# Loss L(w) = 1/(2n)‖y − Xw − b‖² on centred data (b = ȳ), penalty λ/2 ‖w‖²: the ridge
# solution is SpectralRidge(alpha = nλ). Three optimisers, full batch.
lam = 0.05
Xc, yc = X - X.mean(0), y - y.mean()
w_ridge = SpectralRidge(alpha=n * lam).fit(X, y).coef_


def grad_loss(w):
    return -Xc.T @ (yc - Xc @ w) / n


def adam(coupled, steps=10000, lr0=2.0, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam with the L2 term in the gradient (coupled) or decoupled (AdamW, as PyTorch:
    w ← w − lr·λ·w, then the Adam step on the loss gradient); lr decays as lr0/√t."""
    w, mom, vel, dist = np.zeros(p), np.zeros(p), np.zeros(p), []
    for t_ in range(1, steps + 1):
        lr = lr0 / np.sqrt(t_)
        g = grad_loss(w) + (lam * w if coupled else 0.0)
        mom = beta1 * mom + (1 - beta1) * g
        vel = beta2 * vel + (1 - beta2) * g ** 2
        if not coupled:
            w = w - lr * lam * w
        w = w - lr * (mom / (1 - beta1 ** t_)) / (np.sqrt(vel / (1 - beta2 ** t_)) + eps)
        dist.append(np.linalg.norm(w - w_ridge))
    return w, np.array(dist)


L = np.linalg.eigvalsh(Xc.T @ Xc / n).max() + lam  # Lipschitz constant of the gradient
w_gd, dist_gd = np.zeros(p), []
for _ in range(10000):
    w_gd = w_gd - (1 / L) * (grad_loss(w_gd) + lam * w_gd)  # = (1 − λ/L) w − ∇L(w)/L
    dist_gd.append(np.linalg.norm(w_gd - w_ridge))
w_adam, dist_adam = adam(coupled=True)
w_adamw, dist_adamw = adam(coupled=False)
g = grad_loss(w_adamw)
print("AdamW fixed point: max |λw + g/(|g| + 1e-8)| =",
      float(np.max(np.abs(lam * w_adamw + g / (np.abs(g) + 1e-8)))),
      " 1/λ =", 1 / lam, " max|w| =", float(np.abs(w_adamw).max()))

fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), constrained_layout=True)
axes[0].semilogy(dist_gd, label="gradient descent, weight decay λ")
axes[0].semilogy(dist_adam, label="Adam, λw added to the gradient")
axes[0].semilogy(dist_adamw, label="AdamW, decoupled decay λ")
axes[0].set_xlabel("iteration (full batch)")
axes[0].set_ylabel("‖w_t − ŵ_ridge‖₂")
axes[0].set_title("Distance to SpectralRidge(alpha = nλ)")
axes[0].legend(fontsize="small")
pos = np.arange(p)
axes[1].bar(pos - 0.2, w_ridge, 0.4, label="SpectralRidge = GD limit")
axes[1].bar(pos + 0.2, w_adamw, 0.4, label="AdamW limit")
for s in (-1, 1):
    axes[1].axhline(s / lam, color="k", ls=":", lw=1)
axes[1].set_xticks(pos, NAMES)
axes[1].set_ylabel("coefficient")
axes[1].set_title(f"λ = {lam:g}: AdamW stops elsewhere (dotted: ±1/λ)")
axes[1].legend(fontsize="small")
save(fig, "weight_decay")
