"""The four selection rules of the user guide on one data set (writes the table printed in
doc/user_guide.rst and doc/images/selection_rules.png).

    PYTHONPATH=src python doc/selection_rules.py
"""
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_normpen import (ElasticNetIC, ElasticNetPathCV, StabilityPathDisplay,
                             StabilitySelection)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# diabetes (10 clinical features) plus 30 pure-noise columns
X0, y = load_diabetes(return_X_y=True)
names0 = list(load_diabetes().feature_names)
rng = np.random.default_rng(0)
X = np.hstack([X0, rng.standard_normal((X0.shape[0], 30)) * X0.std(0).mean()])
names = names0 + [f"noise{k}" for k in range(30)]
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
X_tr, X_te = StandardScaler().fit(X_tr).transform(X_tr), StandardScaler().fit(X_tr).transform(X_te)

rules = {}
cv = ElasticNetPathCV(l1_ratio=1.0, cv=10, random_state=0).fit(X_tr, y_tr)
cv1 = ElasticNetPathCV(l1_ratio=1.0, cv=10, rule="1se", random_state=0).fit(X_tr, y_tr)
rules["CV lambda_min"] = cv
rules["CV lambda_1se"] = cv1
rules["AIC"] = ElasticNetIC(l1_ratio=1.0, criterion="aic").fit(X_tr, y_tr)
rules["BIC"] = ElasticNetIC(l1_ratio=1.0, criterion="bic").fit(X_tr, y_tr)
rules["EBIC (gamma=0.5)"] = ElasticNetIC(l1_ratio=1.0, criterion="ebic").fit(X_tr, y_tr)
rules["relaxed CV lambda_min"] = ElasticNetPathCV(l1_ratio=1.0, cv=10, relax=True,
                                                  random_state=0).fit(X_tr, y_tr)
stab = StabilitySelection(alphas=30, eps=0.3, threshold=0.8, random_state=0)
rules["stability + OLS"] = make_pipeline(stab, LinearRegression()).fit(
    pd.DataFrame(X_tr, columns=names), y_tr)

rows = []
for name, est in rules.items():
    if name.startswith("stability"):
        kept = np.flatnonzero(est[0].get_support())
    else:
        kept = np.flatnonzero(est.coef_)
    Xt = pd.DataFrame(X_te, columns=names) if name.startswith("stability") else X_te
    mse = float(np.mean((y_te - est.predict(Xt)) ** 2))
    n_noise = int(np.sum(kept >= 10))
    kept_names = ", ".join(names[j] for j in kept if j < 10)
    rows.append((name, len(kept), n_noise, mse, kept_names))
    print(f"{name:24s} kept={len(kept):2d} noise={n_noise:2d} test MSE={mse:8.1f}  {kept_names}")
print(f"stability bound E[V] <= {stab.false_selection_bound_:.2f} (q={stab.mean_selected_:.1f})")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
StabilityPathDisplay.from_estimator(stab, ax=axes[0])
ic = rules["BIC"]
for key, est in (("AIC", rules["AIC"]), ("BIC", ic), ("EBIC", rules["EBIC (gamma=0.5)"])):
    c = est.criterion_path_
    axes[1].plot(est.alphas_, c - np.nanmin(c), label=f"{key} (alpha={est.alpha_:.3g})")
axes[1].axvline(cv.alpha_min_, color="k", ls="--", lw=1, label="CV lambda_min")
axes[1].axvline(cv.alpha_1se_, color="k", ls=":", lw=1, label="CV lambda_1se")
axes[1].set_xscale("log")
axes[1].invert_xaxis()
axes[1].set_ylim(0, 60)
axes[1].set_xlabel("alpha (log scale)")
axes[1].set_ylabel("criterion - its minimum")
axes[1].legend(fontsize="small")
axes[1].set_title("Information criteria along the lasso path")
fig.savefig(Path(__file__).with_name("images") / "selection_rules.png", dpi=90)
