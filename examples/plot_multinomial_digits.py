"""
=======================================================================
Multinomial elastic net on the digits: path CV, the 1-SE rule, accuracy
=======================================================================

With three or more classes :class:`sklearn_normpen.ElasticNetClassifierPathCV` fits
glmnet's multinomial family: one coefficient row per class (``coef_`` of shape
(n_classes, n_features)), the softmax loss, and the elastic-net penalty on every
coefficient (``multinomial="ungrouped"``, glmnet's default) or on each feature's row of
class coefficients (``multinomial="grouped"``: a pixel is used for every digit or for
none). Every path point carries its certified duality gap.

We cross-validate the ungrouped path on the 8×8 digits, pick ``alpha_1se_`` (the largest
alpha within one standard error of the best CV deviance) and look at held-out accuracy
and at the pixels the model uses.
"""

# %%
# Fit the cross-validated path
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_normpen import CVErrorDisplay, ElasticNetClassifierPathCV

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
est = ElasticNetClassifierPathCV(l1_ratio=0.5, alphas=20, cv=3, rule="1se",
                                 random_state=0).fit(X_train, y_train)
print(f"alpha_min_ = {est.alpha_min_:.4g}, alpha_1se_ = {est.alpha_1se_:.4g}")
print(f"coef_ shape {est.coef_.shape}; pixels used by some class: "
      f"{int(np.any(est.coef_ != 0, axis=0).sum())} of {X.shape[1]}")
print(f"test accuracy at alpha_1se_: {est.score(X_test, y_test):.3f}")
print(f"largest certified duality gap on the path: {est.dual_gap_path_.max():.1e}")

# %%
# The CV curve and the coefficients of each digit
# -----------------------------------------------
fig = plt.figure(figsize=(14, 4))
ax = fig.add_subplot(1, 3, 1)
CVErrorDisplay.from_estimator(est, ax=ax)
grid = fig.add_gridspec(2, 5, left=0.4, right=0.98, wspace=0.1, hspace=0.25)
lim = np.abs(est.coef_).max()
for k in range(10):
    a = fig.add_subplot(grid[k // 5, k % 5])
    a.imshow(est.coef_[k].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
    a.set_title(f"digit {est.classes_[k]}", fontsize=9)
    a.axis("off")
plt.show()
