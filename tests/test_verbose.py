"""``verbose`` (issue 12 item 6) on every path-CV, information-criterion and stability
estimator: 0 (default) silent, 1 one line per finished fold / full-data path / resample,
2 also path segments; through the "sklearn_normpen" logger, on stderr when the application
configured no logging, and nothing left behind after ``fit``."""
import logging
import subprocess
import sys

import numpy as np
import pytest
from joblib import parallel_config

from sklearn_normpen import (ElasticNetClassifierPathCV, ElasticNetIC, ElasticNetPathCV,
                             ElasticNetPoissonRegressorPathCV, GroupLassoClassifierPathCV,
                             GroupLassoIC, GroupLassoPathCV, MultiTaskElasticNetPathCV,
                             StabilitySelection)

from _subprocess import package_env

LOGGER = logging.getLogger("sklearn_normpen")
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 6))
Y = X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=60)
TARGETS = {"reg": Y, "bin": (Y > 0).astype(float), "count": rng.poisson(np.exp(0.3 * X[:, 0])),
           "multi": np.column_stack([Y, X[:, 2] + rng.normal(size=60)])}

# (estimator, target, expected INFO lines with verbose=1)
CASES = [
    (ElasticNetPathCV(alphas=10, cv=3), "reg", ["CV fold 1/3", "CV fold 3/3",
                                                "full-data path 1/1"]),
    (ElasticNetPathCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3), "reg",
     ["CV fold 3/3", "full-data path 1/2", "full-data path 2/2"]),
    (GroupLassoPathCV(groups=[[0, 1], [2, 3], [4, 5]], alphas=10, cv=3), "reg",
     ["CV fold 3/3", "full-data path 1/1"]),
    (ElasticNetClassifierPathCV(alphas=10, cv=3), "bin", ["full-data path 1/1",
                                                          "CV fold 3/3"]),
    (ElasticNetPoissonRegressorPathCV(alphas=10, cv=3), "count", ["full-data path 1/1",
                                                                  "CV fold 3/3"]),
    (GroupLassoClassifierPathCV(standardize=False,
                                groups=[[0, 1], [2, 3], [4, 5]], alphas=10, cv=3), "bin",
     ["full-data path 1/1", "CV fold 3/3"]),
    (ElasticNetIC(alphas=10), "reg", ["full-data path: 10 alphas"]),
    (GroupLassoIC(groups=[[0, 1], [2, 3], [4, 5]], alphas=10), "reg",
     ["full-data path: 10 alphas"]),
    (MultiTaskElasticNetPathCV(alphas=10, cv=3), "multi", ["CV fold 1/3", "CV fold 3/3",
                                                           "full-data path 1/1"]),
    (StabilitySelection(alphas=5, n_resamples=4, random_state=0), "reg",
     ["resample 1/4", "resample 4/4"]),
]
IDS = [type(e).__name__ for e, _, _ in CASES]


def _messages(caplog, level=logging.INFO):
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("sklearn_normpen") and r.levelno >= level]


@pytest.mark.parametrize("est, target, expected", CASES, ids=IDS)
def test_verbose_one_reports_progress_zero_is_silent(est, target, expected, caplog):
    level_before = LOGGER.level
    est.set_params(verbose=0).fit(X, TARGETS[target])
    assert _messages(caplog, logging.DEBUG) == []
    est.set_params(verbose=1).fit(X, TARGETS[target])
    msgs = _messages(caplog)
    for e in expected:
        assert any(m.startswith(e) for m in msgs), (e, msgs)
    assert not any("path point" in m for m in msgs)  # DEBUG only with verbose=2
    # nothing left behind: the logger's level and handlers are as before the fit
    assert LOGGER.level == level_before
    assert all(isinstance(h, logging.NullHandler) for h in LOGGER.handlers)


def test_verbose_two_adds_path_segments(caplog):
    ElasticNetIC(alphas=25, verbose=2).fit(X, Y)
    segs = [m.split(":")[0] for m in _messages(caplog, logging.DEBUG) if "path point" in m]
    assert segs == ["path point 10/25", "path point 20/25", "path point 25/25"]


def test_progress_per_finished_fold_with_parallel_folds(caplog):
    with parallel_config(backend="threading"):
        ElasticNetPathCV(alphas=10, cv=4, n_jobs=2, verbose=1).fit(X, Y)
    folds = [m.split(" done")[0] for m in _messages(caplog) if m.startswith("CV fold")]
    assert folds == [f"CV fold {k}/4" for k in range(1, 5)]


def test_an_application_handler_is_used_not_duplicated(caplog):
    # caplog's handler sits on the root logger: no temporary stderr handler is added
    seen = []
    orig = LOGGER.addHandler
    try:
        LOGGER.addHandler = lambda h: seen.append(h)  # noqa: E731
        ElasticNetPathCV(alphas=5, cv=3, verbose=1).fit(X, Y)
    finally:
        LOGGER.addHandler = orig
    assert seen == []
    assert _messages(caplog)


_SCRIPT = """
import numpy as np
from sklearn_normpen import ElasticNetPathCV
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4)); y = X[:, 0] + rng.normal(size=40)
ElasticNetPathCV(alphas=5, cv=3, verbose={v}).fit(X, y)
"""


@pytest.mark.parametrize("verbose", [0, 1])
def test_stderr_without_logging_configuration(verbose, tmp_path):
    # a fresh interpreter, no logging configured: verbose=1 prints to stderr, 0 nothing
    out = subprocess.run([sys.executable, "-c", _SCRIPT.format(v=verbose)],
                         capture_output=True, text=True, env=package_env(), cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    if verbose:
        lines = out.stderr.splitlines()
        assert [ln.split(" done")[0] for ln in lines if "CV fold" in ln] == \
            [f"[sklearn_normpen] CV fold {k}/3" for k in (1, 2, 3)]
        assert any("full-data path 1/1: 5 alphas solved" in ln for ln in lines)
    else:
        assert out.stderr == ""


@pytest.mark.parametrize("Est", [ElasticNetPathCV, GroupLassoPathCV, ElasticNetIC,
                                 StabilitySelection, ElasticNetClassifierPathCV,
                                 MultiTaskElasticNetPathCV])
def test_bad_verbose_names_the_parameter(Est):
    with pytest.raises(ValueError, match="verbose"):
        Est(verbose="loud").fit(X, TARGETS["bin" if "Classifier" in Est.__name__ else
                                           "multi" if "MultiTask" in Est.__name__ else "reg"])
