"""``python -m sklearn_normpen``: the demonstration runs, prints a correct table and writes
readable plots."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sklearn_normpen
from _subprocess import package_env
from sklearn_normpen import _demo

# The demo must cover all three CV estimators (no conditional: a missing one is a failure).
CV_ESTIMATORS = ["ElasticNetPathCV", "GroupLassoPathCV", "SpectralRidgeCV"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROW = re.compile(r"^(\w+)\s+(min|1se)\s+(\S+)\s+(\d+)/(\d+)\s+(\S+)\s*$")


def _env():
    return package_env()


def _run(args, cwd, code=None):
    cmd = [sys.executable] + (["-c", code] if code else ["-m", "sklearn_normpen"]) + args
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=300)


def _rows(stdout):
    rows = {}
    for line in stdout.splitlines():
        m = ROW.match(line)
        if m:
            name, rule, alpha, nnz, p, r2 = m.groups()
            rows[name, rule] = dict(alpha=float(alpha), nnz=int(nnz), p=int(p), r2=float(r2))
    return rows


def test_help(tmp_path):
    proc = _run(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--output" in proc.stdout and "diabetes" in proc.stdout
    assert not list(tmp_path.iterdir())  # --help writes nothing


def test_bad_option_is_rejected(tmp_path):
    proc = _run(["--outptu", "x"], tmp_path)
    assert proc.returncode == 2
    assert "--outptu" in proc.stderr


def test_demo_prints_table_and_writes_plots(tmp_path):
    out = tmp_path / "demo out"
    proc = _run(["--output", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = _rows(proc.stdout)
    assert sorted({name for name, _ in rows}) == sorted(CV_ESTIMATORS)
    for name in CV_ESTIMATORS:
        r_min, r_1se = rows[name, "min"], rows[name, "1se"]
        assert r_1se["alpha"] >= r_min["alpha"] > 0
        assert 0 <= r_1se["nnz"] <= r_1se["p"] and 0 < r_min["nnz"] <= r_min["p"]
        # diabetes is predictable: both rules explain a good part of the held-out variance
        assert 0.3 < r_min["r2"] < 1 and 0.2 < r_1se["r2"] < 1
    # the demo names the files it wrote, and they are the PNGs found in the folder
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 2 * len(CV_ESTIMATORS)
    for png in pngs:
        assert png.name in proc.stdout
        assert png.read_bytes()[:8] == PNG_MAGIC
    mpimg = pytest.importorskip("matplotlib.image")
    for png in pngs:
        img = mpimg.imread(png)
        assert img.shape[0] >= 300 and img.shape[1] >= 500
        # something was drawn: many distinct colours, not a blank canvas
        assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 20


def test_demo_without_matplotlib(tmp_path):
    # ``sys.modules["matplotlib"] = None`` makes every import of matplotlib fail.
    code = ("import sys; sys.modules['matplotlib'] = None; "
            "from sklearn_normpen.__main__ import main; sys.exit(main(sys.argv[1:]))")
    proc = _run(["--output", str(tmp_path / "out")], tmp_path, code=code)
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib is not installed" in proc.stdout
    assert "[plot]" in proc.stdout
    assert set(_rows(proc.stdout)) == {(n, r) for n in CV_ESTIMATORS for r in ("min", "1se")}
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def fitted():
    data = _demo.load_data()
    return data, {res["name"]: res for res in _demo.fit_models(data)}


def test_grouped_design_groups_are_measurements():
    data = _demo.load_data()
    Z_tr, Z_te, groups, names = _demo.grouped_design(
        data["X_train"], data["X_test"], data["feature_names"])
    sizes = [len(g) for g in groups]
    # "sex" has two values: one term; the nine other measurements: three terms each
    assert sizes == [1 if f == "sex" else _demo.POLY_DEGREE for f in data["feature_names"]]
    assert np.array_equal(np.concatenate(groups), np.arange(Z_tr.shape[1]))
    assert Z_te.shape == (len(data["y_test"]), Z_tr.shape[1]) == (len(data["y_test"]), len(names))
    np.testing.assert_allclose(Z_tr.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z_tr.std(axis=0), 1)
    # column "bmi^2" is the square of the standardised bmi, standardised again
    j = data["feature_names"].index("bmi")
    z = data["X_train"][:, j] - data["X_train"][:, j].mean()
    z2 = (z / z.std()) ** 2
    np.testing.assert_allclose(Z_tr[:, names.index("bmi^2")], (z2 - z2.mean()) / z2.std())


@pytest.mark.parametrize("name", CV_ESTIMATORS)
def test_table_matches_estimator_predict(fitted, name):
    """The row of the estimator's own rule is its ``predict`` on the held-out rows."""
    from sklearn.metrics import r2_score

    data, results = fitted
    res = results[name]
    est = res["estimator"]
    rule = "1se" if np.isclose(est.alpha_, est.alpha_1se_) else "min"
    assert np.isclose(est.alpha_, res["rows"][rule]["alpha"])
    X_tr, X_te = _demo._standardise(data["X_train"], data["X_test"])
    if name == "GroupLassoPathCV":
        X_tr, X_te, _, _ = _demo.grouped_design(
            data["X_train"], data["X_test"], data["feature_names"])
    r2 = r2_score(data["y_test"], est.predict(X_te))
    assert res["rows"][rule]["r2"] == pytest.approx(r2, abs=1e-6)
    assert res["rows"][rule]["nnz"] == np.count_nonzero(est.coef_)


@pytest.mark.parametrize("name", [n for n in CV_ESTIMATORS if n != "GroupLassoPathCV"])
def test_table_matches_scikit_learn(fitted, name):
    """Both rows against scikit-learn fits at the reported alphas (same objectives)."""
    from sklearn.linear_model import ElasticNet, Ridge
    from sklearn.metrics import r2_score

    data, results = fitted
    res = results[name]
    est = res["estimator"]
    X_tr, X_te = _demo._standardise(data["X_train"], data["X_test"])
    for rule in ("min", "1se"):
        row = res["rows"][rule]
        if name == "ElasticNetPathCV":
            ref = ElasticNet(alpha=row["alpha"], l1_ratio=float(est.l1_ratio_), tol=1e-12,
                             max_iter=100_000)
        else:
            ref = Ridge(alpha=row["alpha"])
        ref.fit(X_tr, data["y_train"])
        assert row["r2"] == pytest.approx(r2_score(data["y_test"], ref.predict(X_te)),
                                          abs=2e-4)
        assert row["nnz"] == np.count_nonzero(ref.coef_)


def test_group_rows_select_whole_groups(fitted):
    data, results = fitted
    res = results["GroupLassoPathCV"]
    est = res["estimator"]
    for rule in ("min", "1se"):
        i = _demo._path_index(_demo.chosen_grid(est), res["rows"][rule]["alpha"])
        w = np.asarray(est.coef_path_)[:, i]
        # the group penalty keeps or drops a measurement's terms together
        for g in est.groups_:
            assert np.all(w[g] != 0) or np.all(w[g] == 0)
        assert res["rows"][rule]["nnz"] == np.count_nonzero(w)
    assert res["rows"]["1se"]["nnz"] <= res["rows"]["min"]["nnz"]
