"""Progress output (issue 12 item 6): through the "sklearn_normpen" logger, silent by
default, one INFO line per finished CV fold and DEBUG lines per path segment."""
import logging

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import load_diabetes

from sklearn_normpen import ElasticNetPathCV, GroupLassoPathCV, enet_path


@pytest.fixture(scope="module")
def data():
    return load_diabetes(return_X_y=True)


def test_silent_by_default(data, capsys):
    X, y = data
    ElasticNetPathCV(alphas=10, cv=3).fit(X, y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert any(isinstance(h, logging.NullHandler)
               for h in logging.getLogger("sklearn_normpen").handlers)


@pytest.mark.parametrize("Est, kw", [(ElasticNetPathCV, {}),
                                     (GroupLassoPathCV, {"groups": [[0, 1], [2, 3, 4]]})])
@pytest.mark.parametrize("backend", ["sequential", "threading"])
def test_one_line_per_fold(data, caplog, Est, kw, backend):
    X, y = data
    with caplog.at_level(logging.INFO, logger="sklearn_normpen"), \
            parallel_config(backend=backend):
        Est(alphas=10, cv=4, n_jobs=2, **kw).fit(X, y)
    folds = [r.getMessage() for r in caplog.records if "CV fold" in r.getMessage()]
    assert [m.split(" done")[0] for m in folds] == [f"CV fold {k}/4" for k in range(1, 5)]


def test_path_segments_at_debug(data, caplog):
    X, y = data
    with caplog.at_level(logging.DEBUG, logger="sklearn_normpen"):
        alphas, coefs, _ = enet_path(X, y, n_alphas=25)
    msgs = [r.getMessage() for r in caplog.records if "path point" in r.getMessage()]
    assert [m.split(":")[0] for m in msgs] == ["path point 10/25", "path point 20/25",
                                               "path point 25/25"]
    assert f"{np.count_nonzero(coefs[:, 9])} non-zero" in msgs[0]
