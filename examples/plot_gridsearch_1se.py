"""
=====================================================
The one-standard-error rule in ``GridSearchCV``
=====================================================

``GridSearchCV`` refits the candidate with the best mean cross-validation score. glmnet
users know a second candidate: the *simplest* model whose mean error is within one
standard error of the best (``lambda.1se``). Its score is statistically indistinguishable
from the best one, and it is sparser and more stable.

:func:`sklearn_normpen.model_selection.one_se_refit` brings that rule to any search, over
any estimator, inside a ``Pipeline``: pass it as ``refit=``. Here we search the ``alpha``
of scikit-learn's :class:`~sklearn.linear_model.Lasso` on the diabetes data and compare
the two rules on a held-out test set.
"""

# %%
# Data and a pipeline
# -------------------
# The penalty is not invariant to the units of the features, so they are standardised
# inside the pipeline (fitted on each training fold only).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_normpen import CVErrorDisplay
from sklearn_normpen.model_selection import min_refit, one_se_refit

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

pipe = Pipeline([("scale", StandardScaler()), ("model", Lasso(max_iter=10_000))])
param_grid = {"model__alpha": np.logspace(-2, 1.3, 25)}
cv = KFold(n_splits=10, shuffle=True, random_state=0)

# %%
# Two searches, two refit rules
# -----------------------------
# ``min_refit`` is scikit-learn's usual choice (the best mean score). ``one_se_refit``
# takes the name of the parameter that measures simplicity — here a larger ``alpha`` is
# simpler — and returns the largest ``alpha`` whose mean error is within one standard
# error of the best. The standard error is computed from the ten split scores,
# ``sqrt(Σ (e_k − m)² / K / (K − 1))``, as ``cv.glmnet`` does; ``se="std"`` gives the wider
# band of scikit-learn's own gallery example.
scoring = "neg_mean_squared_error"
search_min = GridSearchCV(pipe, param_grid, cv=cv, scoring=scoring, refit=min_refit)
search_1se = GridSearchCV(pipe, param_grid, cv=cv, scoring=scoring,
                          refit=one_se_refit("model__alpha"))
search_min.fit(X_train, y_train)
search_1se.fit(X_train, y_train)

# %%
# The CV curve
# ------------
# :class:`~sklearn_normpen.CVErrorDisplay` draws the mean CV error with one-SE bars and
# marks both candidates, as R's ``plot(cv.glmnet(...))`` does.
disp = CVErrorDisplay.from_estimator(search_1se)
disp.ax_.set_title("Lasso on diabetes: 10-fold CV error")
plt.show()

# %%
# Held-out comparison
# -------------------
# The 1-SE model keeps fewer features, at a small cost in test error (within the noise
# of a 133-row test set).
print(f"{'rule':>5} {'alpha':>8} {'non-zeros':>10} {'test MSE':>10}")
for name, search in (("min", search_min), ("1se", search_1se)):
    alpha = search.best_params_["model__alpha"]
    nnz = int(np.count_nonzero(search.best_estimator_[-1].coef_))
    mse = mean_squared_error(y_test, search.predict(X_test))
    print(f"{name:>5} {alpha:8.3f} {nnz:10d} {mse:10.1f}")

# %%
# The same rule with another estimator
# ------------------------------------
# Any numeric parameter works. For a parameter where *smaller* is simpler (a tree's
# ``max_depth``, ``C`` of a linear SVM), pass ``simpler="smaller"``.
from sklearn.linear_model import Ridge  # noqa: E402

ridge = Pipeline([("scale", StandardScaler()), ("model", Ridge())])
search_ridge = GridSearchCV(ridge, {"model__alpha": np.logspace(-2, 3, 20)}, cv=cv,
                            scoring=scoring, refit=one_se_refit("model__alpha"))
search_ridge.fit(X_train, y_train)
print("Ridge, 1-SE alpha:", round(search_ridge.best_params_["model__alpha"], 3))
