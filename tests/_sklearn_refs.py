"""scikit-learn reference estimators spelled for every supported scikit-learn version."""
from sklearn.linear_model import LogisticRegression


def logistic_regression(*, l1_ratio, **kw):
    """``LogisticRegression`` with the elastic-net mix ``l1_ratio``: scikit-learn >= 1.8
    infers the penalty from ``l1_ratio`` (``penalty`` is deprecated there); older versions
    need ``penalty="elasticnet"`` (``"l2"`` for ``l1_ratio=0`` with non-saga solvers)."""
    if LogisticRegression().get_params()["penalty"] == "deprecated":
        return LogisticRegression(l1_ratio=l1_ratio, **kw)
    if l1_ratio == 0 and kw.get("solver", "lbfgs") != "saga":
        return LogisticRegression(penalty="l2", **kw)
    return LogisticRegression(penalty="elasticnet", l1_ratio=l1_ratio, **kw)
