"""dfmax / pmax (issue 12 item 4): the path stops where R glmnet stops on the same data and
lambda sequence (fixtures written by tests/fixtures/make_glmnet_limits_fixtures.R), the group lasso
counts groups, and bad values are refused naming the parameter.
"""
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_normpen import enet_path, group_lasso_path

FIX = Path(__file__).parent / "fixtures"


def _fixture():
    D = np.genfromtxt(FIX / "glmnet_limits_data.csv", delimiter=",", names=True)
    X = np.column_stack([D[n] for n in D.dtype.names[:-1]])
    P = np.genfromtxt(FIX / "glmnet_limits_paths.csv", delimiter=",", names=True)
    return X, D["y"], P


X_R, Y_R, PATHS = _fixture()
CASES = [int(c) for c in np.unique(PATHS["case"])]


@pytest.mark.parametrize("case", CASES)
def test_stops_where_glmnet_stops(case):
    r = PATHS[PATHS["case"] == case]
    kw = {k: int(r[k][0]) for k in ("dfmax", "pmax") if np.isfinite(r[k][0])}
    common = dict(l1_ratio=float(r["l1_ratio"][0]), alphas=r["lambda"], fit_intercept=True,
                  standardize=True, tol=1e-12, max_iter=100000)
    _, full, _ = enet_path(X_R, Y_R, **common)
    # the same path as glmnet's (its df at every lambda, no limits)
    assert_array_equal((full != 0).sum(axis=0), r["df"].astype(int))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        alphas, coefs, gaps = enet_path(X_R, Y_R, **common, **kw)
    n_kept = int(r["n_kept"][0])
    assert len(alphas) == coefs.shape[1] == len(gaps) == n_kept
    assert_array_equal(coefs, full[:, :n_kept])  # the kept points are untouched
    msgs = [str(w.message) for w in rec if issubclass(w.category, UserWarning)]
    reason = "dfmax" if "dfmax" in kw else "pmax"
    assert any(f"{reason} reached" in m and f"{n_kept} of {len(r)}" in m for m in msgs)


def test_group_lasso_counts_groups():
    X, y = X_R, Y_R
    groups = [[0, 1, 2], [3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 13, 14]]
    common = dict(groups=groups, alphas=None, n_alphas=60, fit_intercept=True, tol=1e-10)
    alphas_full, full, _ = group_lasso_path(X, y, **common)
    nz_groups = np.array([[np.any(full[g, k] != 0) for g in groups]
                          for k in range(full.shape[1])])
    df = nz_groups.sum(axis=1)
    # dfmax=2 (groups): glmnet's rule written out here, from the 5th point on
    expect = next(k + 1 for k in range(4, len(df)) if df[k] > 2)
    with pytest.warns(UserWarning, match="dfmax reached"):
        a, c, _ = group_lasso_path(X, y, dfmax=2, **common)
    assert len(a) == expect
    # pmax=3: stop before the first point where more than 3 groups have ever been in
    ever_in = np.maximum.accumulate(nz_groups, axis=0).sum(axis=1)
    expect = int(np.flatnonzero(ever_in > 3)[0])
    with pytest.warns(UserWarning, match="pmax reached"):
        a, c, _ = group_lasso_path(X, y, pmax=3, **common)
    assert len(a) == expect
    assert_array_equal(a, alphas_full[:expect])


@pytest.mark.parametrize("fn", [enet_path, group_lasso_path])
@pytest.mark.parametrize("name", ["dfmax", "pmax"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_bad_limits_name_the_parameter(fn, name, bad):
    with pytest.raises(ValueError, match=name):
        fn(X_R, Y_R, **{name: bad})
