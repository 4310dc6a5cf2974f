"""
===========================================================
Group lasso on one-hot encoded categories, in a Pipeline
===========================================================

A categorical variable enters a linear model as several dummy columns. The lasso selects
single dummies, which is hard to read ("colour is red" in, "colour is blue" out). The group
lasso keeps or drops all the dummies of a variable together.

Here the groups are not written by hand: the ``ColumnTransformer`` names its output columns
``cat__colour_red``, ``cat__colour_blue``, ... and
:func:`~sklearn_normpen.group_lasso.groups_from_feature_names` turns those names into one
group per original variable, inside the pipeline, at fit time. The regularisation strength
is chosen by 5-fold cross-validation with :class:`~sklearn_normpen.GroupLassoPathCV`, and
the path shows the order in which the variables enter the model.
"""

# %%
# Data: four categorical variables (two of them irrelevant) and two numeric ones.
import functools

import matplotlib

matplotlib.use("Agg")  # headless; sphinx-gallery captures the figures
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_normpen import GroupLassoPathCV
from sklearn_normpen.group_lasso import groups_from_feature_names

rng = np.random.default_rng(0)
n = 600
df = pd.DataFrame({
    "colour": rng.choice(["red", "green", "blue", "light_grey"], n),
    "region": rng.choice(["north", "south", "east", "west", "centre"], n),
    "day_type": rng.choice(["work_day", "week_end", "holiday"], n),
    "batch": rng.choice([f"b{i}" for i in range(8)], n),
    "temperature": rng.normal(20, 5, n),
    "humidity": rng.uniform(30, 90, n),
})
y = (df["colour"].map({"red": 2.0, "green": -1.0, "blue": 0.5, "light_grey": -1.5})
     + df["region"].map({"north": 1.0, "south": -1.0, "east": 0.0, "west": 0.5,
                         "centre": -0.5})
     + 0.15 * (df["temperature"] - 20)
     + rng.normal(0, 1.0, n)).to_numpy()

categorical = ["colour", "region", "day_type", "batch"]
numeric = ["temperature", "humidity"]

# %%
# The pipeline. ``set_output(transform="pandas")`` passes column names to the regressor;
# the callable ``groups`` maps each name to its variable (the explicit prefixes make
# ``day_type`` and ``light_grey``, which contain the separator ``_``, unambiguous).
# Numeric columns match no prefix and stay singleton groups.
pre = ColumnTransformer([
    ("cat", OneHotEncoder(sparse_output=False), categorical),
    ("num", StandardScaler(), numeric),
]).set_output(transform="pandas")
groups = functools.partial(groups_from_feature_names, prefixes=categorical)
model = make_pipeline(pre, GroupLassoPathCV(groups=groups, alphas=30, cv=5, rule="1se"))
model.fit(df, y)
cv_est = model[-1]

print(f"alpha_min = {cv_est.alpha_min_:.4f}, alpha_1se = {cv_est.alpha_1se_:.4f}")
for g in cv_est.active_groups_:
    print(f"kept: {cv_est.group_labels_[g]:<16s} ({len(cv_est.groups_[g])} columns)")

# %%
# Which variables enter first: the norm of each group's coefficients along the path.
norms = np.array([np.linalg.norm(cv_est.coef_path_[idx], axis=0)
                  for idx in cv_est.groups_])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for label, path in zip(cv_est.group_labels_, norms):
    ax1.plot(cv_est.alphas_, path, label=str(label))
ax1.set_xscale("log")
ax1.invert_xaxis()
ax1.axvline(cv_est.alpha_, color="k", ls=":", label="chosen (1-SE)")
ax1.set_xlabel("alpha")
ax1.set_ylabel("||coef_g||")
ax1.set_title("Group norms along the path")
ax1.legend(fontsize=8)

# %%
# The cross-validation curve with one standard error, and the two rules.
ax2.errorbar(cv_est.alphas_, cv_est.cv_mean_, yerr=cv_est.cv_se_, fmt="o-", ms=3)
ax2.axvline(cv_est.alpha_min_, color="tab:red", ls="--", label="alpha_min")
ax2.axvline(cv_est.alpha_1se_, color="tab:green", ls="--", label="alpha_1se")
ax2.set_xscale("log")
ax2.invert_xaxis()
ax2.set_xlabel("alpha")
ax2.set_ylabel("CV mean squared error")
ax2.set_title("5-fold cross-validation")
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# Each fit carries a certificate: the duality gap of the selected model, relative to
# the null model's loss, is below the requested ``tol``.
yc = y - y.mean()
print(f"relative duality gap: {cv_est.dual_gap_ / (yc @ yc / (2 * n)):.1e}")
