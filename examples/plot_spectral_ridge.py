"""
====================================================================
Spectral ridge: exact leave-one-out, GCV and degrees of freedom
====================================================================

:class:`~sklearn_normpen.SpectralRidgeCV` decomposes the centred design once,
``X = U diag(σ) Vᵀ``, and then every alpha is a rescaling of the singular directions:
``w(alpha) = V diag(σ / (σ² + alpha)) Uᵀ y``. From that single decomposition it gets, for
a hundred alphas at once,

* the exact leave-one-out error (equal to refitting ``n`` times),
* the generalised cross-validation criterion of Golub, Heath & Wahba (a different
  criterion, which replaces each sample's leverage by the average leverage),
* the effective degrees of freedom ``df(alpha) = Σ σ² / (σ² + alpha)``.

We use the diabetes data bundled with scikit-learn, with polynomial features so that
the penalty matters.
"""

# %%
# Data and fits
# -------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_normpen import SpectralRidgeCV

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(PolynomialFeatures(2, include_bias=False).fit_transform(X))
print(f"{X.shape[0]} samples, {X.shape[1]} features")

alphas = np.logspace(4, -3, 100)
loo = SpectralRidgeCV(alphas=alphas, rule="1se").fit(X, y)        # exact leave-one-out
gcv = SpectralRidgeCV(alphas=alphas, cv="gcv").fit(X, y)          # generalised CV
kfold = SpectralRidgeCV(alphas=alphas, cv=10, rule="1se").fit(X, y)
print(f"LOO:  alpha_min={loo.alpha_min_:.3g}  alpha_1se={loo.alpha_1se_:.3g}")
print(f"GCV:  alpha_min={gcv.alpha_min_:.3g}")
print(f"10-fold: alpha_min={kfold.alpha_min_:.3g}  alpha_1se={kfold.alpha_1se_:.3g}")

# %%
# Error curves
# ------------
# The leave-one-out standard error is that of a mean over samples; the 1-SE rule moves
# toward larger alpha (fewer degrees of freedom). GCV has no standard error.
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(loo.alphas_, loo.cv_mean_, label="leave-one-out (exact)")
ax.fill_between(loo.alphas_, loo.cv_mean_ - loo.cv_se_, loo.cv_mean_ + loo.cv_se_,
                alpha=0.2)
ax.plot(gcv.alphas_, gcv.cv_mean_, "--", label="GCV")
ax.errorbar(kfold.alphas_[::6], kfold.cv_mean_[::6], kfold.cv_se_[::6], fmt=".",
            label="10-fold CV ± 1 SE")
ax.axvline(loo.alpha_min_, color="k", lw=0.8, label="LOO alpha_min")
ax.axvline(loo.alpha_1se_, color="k", ls=":", lw=0.8, label="LOO alpha_1se")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("mean squared error")
ax.set_ylim(top=1.3 * np.max(loo.cv_mean_[loo.alphas_ < 1e3]))
ax.legend()
fig.tight_layout()

# %%
# Degrees of freedom and coefficients
# -----------------------------------
# ``df_path_`` is the trace of the hat matrix of the penalised part (the intercept adds
# one). Plotting the coefficients against df puts every alpha on a natural scale.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.plot(loo.alphas_, loo.df_path_)
ax1.axhline(loo.rank_, color="gray", ls=":", label=f"rank = {loo.rank_}")
ax1.set_xscale("log")
ax1.set_xlabel("alpha")
ax1.set_ylabel("effective degrees of freedom")
ax1.legend()
ax2.plot(loo.df_path_, loo.coef_path_.T, lw=0.7)
ax2.axvline(np.interp(np.log(loo.alpha_1se_), np.log(loo.alphas_[::-1]),
                      loo.df_path_[::-1]), color="k", ls=":")
ax2.set_xlabel("effective degrees of freedom")
ax2.set_ylabel("coefficient")
fig.tight_layout()
plt.show()
