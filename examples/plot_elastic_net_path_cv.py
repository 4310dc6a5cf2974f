"""
=================================================================
Cross-validated elastic-net path with the one-standard-error rule
=================================================================

:class:`sklearn_normpen.ElasticNetPathCV` fits the whole elastic-net path on every
cross-validation fold, then chooses either ``alpha_min_`` (lowest mean CV error) or
``alpha_1se_`` (the most regularised model whose error is within one standard error of
that minimum), as ``cv.glmnet`` does in R.

We use the diabetes data bundled with scikit-learn, standardise the columns inside the fit
(``standardize=True``, the default and glmnet's convention) and let the estimator choose
between three ``l1_ratio`` values.
"""

# %%
# Fit
# ---
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold

from sklearn_normpen import ElasticNetPathCV

X, y = load_diabetes(return_X_y=True, as_frame=True)
est = ElasticNetPathCV(l1_ratio=[0.5, 0.9, 1.0], alphas=100, cv=KFold(10, shuffle=True,
                       random_state=0), standardize=True, rule="1se").fit(X, y)
print(f"chosen l1_ratio: {est.l1_ratio_}")
print(f"alpha_min_ = {est.alpha_min_:.4g}, alpha_1se_ = {est.alpha_1se_:.4g}")
print(f"non-zero coefficients at alpha_1se_: {np.count_nonzero(est.coef_)} of {X.shape[1]}")

# %%
# Cross-validation curve
# ----------------------
# ``cv_mean_`` and ``cv_se_`` have one row per ``l1_ratio``; we plot the chosen one.
k = list(est.l1_ratio).index(est.l1_ratio_)
alphas, mean, se = est.alphas_[k], est.cv_mean_[k], est.cv_se_[k]
fig, ax = plt.subplots(figsize=(6, 4))
ax.errorbar(alphas, mean, yerr=se, fmt="o", ms=3, capsize=2, color="tab:red",
            ecolor="lightgray", label="mean ± 1 SE")
ax.axvline(est.alpha_min_, ls="--", color="k", label="alpha_min_")
ax.axvline(est.alpha_1se_, ls=":", color="k", label="alpha_1se_")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("held-out mean squared error")
ax.set_title(f"10-fold CV, l1_ratio={est.l1_ratio_}")
ax.legend()

# %%
# Regularisation path
# -------------------
# ``coef_path_`` holds the full-data path of every ``l1_ratio`` (one row each, on the
# original scale of the features); we draw the chosen one. ``est.coef_at("1se")`` reads
# the model at any alpha of it without refitting.
fig, ax = plt.subplots(figsize=(6, 4))
for j, name in enumerate(X.columns):
    ax.plot(alphas, est.coef_path_[k][j], label=name)
ax.axvline(est.alpha_min_, ls="--", color="k")
ax.axvline(est.alpha_1se_, ls=":", color="k")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("coefficient")
ax.legend(ncol=2, fontsize="small")
plt.show()
