"""
=========================================================================
Cross-validated logistic elastic net: deviance, AUC and the 1-SE rule
=========================================================================

:class:`sklearn_normpen.ElasticNetClassifierPathCV` is ``cv.glmnet(family="binomial")``
in scikit-learn form: it fits the certified logistic elastic-net path on the full data
and on every (stratified) fold, scores each alpha on the held-out rows with the chosen
``measure`` and picks ``alpha_min_`` or ``alpha_1se_``. Every path point carries its
duality gap (``dual_gap_path_``).

We use the breast-cancer data bundled with scikit-learn, standardised inside the fit
(``standardize=True``, the default and glmnet's convention), and compare two CV measures.
"""

# %%
# Fit with the binomial deviance (default) and with the AUC
# ---------------------------------------------------------
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from sklearn_normpen import (CVErrorDisplay, ElasticNetClassifierPathCV,
                             RegularizationPathDisplay)

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
dev = ElasticNetClassifierPathCV(l1_ratio=0.9, standardize=True, rule="1se",
                                 random_state=0).fit(X_train, y_train)
auc = ElasticNetClassifierPathCV(l1_ratio=0.9, standardize=True, rule="1se",
                                 measure="auc", random_state=0).fit(X_train, y_train)
for name, est in [("deviance", dev), ("auc", auc)]:
    print(f"{name:>8}: alpha_1se_ = {est.alpha_1se_:.4g}, "
          f"{int((est.coef_ != 0).sum())} features, test accuracy "
          f"{est.score(X_test, y_test):.3f}, largest path gap "
          f"{est.dual_gap_path_.max():.1e}")
print("path stopped early:", dev.path_stop_reason_)

# %%
# The CV curves and the path
# --------------------------
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
CVErrorDisplay.from_estimator(dev, ax=axes[0])
CVErrorDisplay.from_estimator(auc, ax=axes[1])
RegularizationPathDisplay.from_estimator(dev, ax=axes[2])
fig.tight_layout()
plt.show()
