"""The Displays, rendered with Agg: what was drawn, where, and with which labels."""
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes, make_regression
from sklearn.linear_model import ElasticNetCV, Lasso, LassoCV, Ridge, lasso_path
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_normpen.model_selection import one_se_refit  # noqa: E402
from sklearn_normpen.plotting import CVErrorDisplay, RegularizationPathDisplay  # noqa: E402
from sklearn_normpen.selection import cv_statistics, select_min_1se  # noqa: E402
from _subprocess import package_env  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def _grid(X, y, n):
    Xc, yc = X - X.mean(0), y - y.mean()
    amax = np.abs(Xc.T @ yc).max() / len(y)
    return np.geomspace(1.01 * amax, amax * 1e-3, n)  # starts just above alpha_max


def _top_labels(disp):
    return [t.get_text() for t in disp.top_ax_.get_xticklabels()]


class _PathCVStub:
    """A fitted estimator following the package's CV attribute contract, from sklearn."""

    def __init__(self, X, y, l1_ratio=None, groups=None, n_targets=None):
        self.fit_intercept = True
        Xc = X - X.mean(0)
        yc = y - y.mean()
        self.alphas_, coefs, _ = lasso_path(Xc, yc, alphas=_grid(Xc, yc, 30))
        self.coef_path_ = coefs
        cv = LassoCV(alphas=self.alphas_, cv=4).fit(X, y)
        mean, se = cv_statistics(cv.mse_path_)
        i_min, i_1se = select_min_1se(mean, se, self.alphas_)
        self.mse_path_, self.cv_mean_, self.cv_se_ = cv.mse_path_, mean, se
        self.alpha_min_, self.alpha_1se_ = self.alphas_[i_min], self.alphas_[i_1se]
        if l1_ratio is not None:  # several l1_ratios: rows per l1_ratio, the chosen one = 1
            self.l1_ratio, self.l1_ratio_ = l1_ratio, l1_ratio[1]
            k = len(l1_ratio)
            self.alphas_ = np.vstack([self.alphas_ * (r + 1) for r in range(k)])
            self.alphas_[1] = self.alphas_[0] / 1  # the chosen row holds the real grid
            self.alphas_[0] *= 7
            self.cv_mean_ = np.vstack([mean + 100 * (r != 1) for r in range(k)])
            self.cv_se_ = np.vstack([se] * k)
        if groups is not None:
            self.groups_ = groups
        if n_targets is not None:  # ridge-like per-target layout
            self.coef_path_ = np.stack([coefs * (t + 1) for t in range(n_targets)])
            self.cv_mean_ = np.vstack([mean * (t + 1) for t in range(n_targets)])
            self.cv_se_ = np.vstack([se] * n_targets)
            self.alpha_min_ = np.array([self.alpha_min_] * n_targets)
            self.alpha_1se_ = np.array([self.alpha_1se_] * n_targets)
            self.alpha_1se_[1] = self.alphas_[3]
        self.coef_ = coefs[:, 0]
        self.intercept_ = y.mean()


# ----------------------------------------------------------------------------- import
def test_import_never_imports_matplotlib_and_missing_matplotlib_says_how_to_install(tmp_path):
    # one subprocess (a fresh interpreter) for both checks
    code = ("import sys, sklearn_normpen, sklearn_normpen.plotting, "
            "sklearn_normpen.model_selection\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
            "from sklearn_normpen import RegularizationPathDisplay as D\n"
            "sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
            "try:\n"
            "    D.from_path([2.0, 1.0], [[0.0, 1.0]])\n"
            "except ImportError as e:\n"
            "    assert 'pip install \"sklearn_normpen[plot]\"' in str(e), str(e)\n"
            "else:\n"
            "    raise SystemExit('no ImportError')\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=package_env())


# ------------------------------------------------------------------------- path display
def test_path_display_from_path_draws_one_line_per_feature(diabetes):
    X, y = diabetes
    Xs = StandardScaler().fit_transform(X)
    alphas, coefs, _ = lasso_path(Xs, y, alphas=_grid(Xs, y, 40))
    disp = RegularizationPathDisplay.from_path(
        alphas, coefs, feature_names=list(X.columns), alpha_min=alphas[20],
        alpha_1se=alphas[10])
    ax = disp.ax_
    assert disp.figure_ is ax.figure
    assert len(disp.lines_) == X.shape[1]
    for line, c in zip(disp.lines_, coefs):
        assert_allclose(line.get_xdata(), alphas)
        assert_allclose(line.get_ydata(), c)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "alpha (log scale)"
    assert ax.get_ylabel() == "Coefficient"
    assert_allclose(disp.vlines_["alpha_min"].get_xdata(), [alphas[20]] * 2)
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata(), [alphas[10]] * 2)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:10] == list(X.columns)
    assert legend[10].startswith("alpha_min = ") and legend[11].startswith("alpha_1se = ")
    # top axis: non-zero counts at the tick positions
    nnz = (coefs != 0).sum(0)
    ticks = disp.top_ax_.get_xticks()
    idx = [int(np.argmin(np.abs(alphas - t))) for t in ticks]
    assert_allclose(ticks, alphas[idx])
    assert _top_labels(disp) == [str(nnz[i]) for i in idx]
    assert _top_labels(disp)[0] == "0"  # alpha_max: all zero
    assert disp.top_ax_.get_xlabel() == "Non-zero coefficients"


def test_path_display_l1_norm_and_end_labels():
    X, y = make_regression(50, 5, n_informative=3, random_state=0)
    alphas, coefs, _ = lasso_path(X, y, alphas=_grid(X, y, 20))
    disp = RegularizationPathDisplay.from_path(alphas, coefs, x="l1_norm", labels="end",
                                               feature_names=list("abcde"))
    assert_allclose(disp.x_, np.abs(coefs).sum(0))
    assert_allclose(disp.lines_[0].get_xdata(), np.abs(coefs).sum(0))
    assert disp.ax_.get_xscale() == "linear"
    assert disp.ax_.get_xlabel() == "L1 norm of the coefficients"
    assert disp.ax_.get_legend() is None
    end = [f for f in "abcde" if coefs["abcde".index(f), -1] != 0]
    assert [a.get_text() for a in disp.labels_] == end
    assert disp.vlines_ == {}
    with pytest.raises(ValueError, match="x must be"):
        disp.plot(x="lambda")
    with pytest.raises(ValueError, match="deviance"):
        disp.plot(x="deviance")
    with pytest.raises(ValueError, match="group_norms=True needs groups"):
        disp.plot(group_norms=True)
    with pytest.raises(ValueError, match="shape"):
        RegularizationPathDisplay.from_path(alphas, coefs[:, :-1])
    with pytest.raises(ValueError, match="positive"):
        RegularizationPathDisplay.from_path(-alphas, coefs)


def test_path_display_groups_colours_and_group_norms():
    X, y = make_regression(60, 7, random_state=1)
    alphas, coefs, _ = lasso_path(X, y, alphas=_grid(X, y, 15))
    groups = [np.array([0, 1]), np.array([2, 3, 4])]  # features 5, 6 ungrouped
    disp = RegularizationPathDisplay.from_path(alphas, coefs, groups=groups,
                                               group_names=["g_a", "g_b"])
    colors = [mpl.colors.to_hex(line.get_color()) for line in disp.lines_]
    assert colors[0] == colors[1] != colors[2] == colors[3] == colors[4]
    assert colors[5] == colors[6] == mpl.colors.to_hex("0.6")
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == ["g_a", "g_b"]
    fig, ax = plt.subplots()
    disp.plot(ax=ax, group_norms=True)
    assert disp.ax_ is ax and len(disp.lines_) == 2
    assert_allclose(disp.lines_[1].get_ydata(), np.linalg.norm(coefs[2:5], axis=0))
    assert ax.get_ylabel() == "Group norm ‖w_g‖₂"
    assert disp.top_ax_.get_xlabel() == "Non-zero groups"
    n_groups_nz = [(np.linalg.norm(coefs[g], axis=0) > 0) for g in groups]
    counts = np.sum(n_groups_nz, axis=0)
    idx = [int(np.argmin(np.abs(alphas - t))) for t in disp.top_ax_.get_xticks()]
    assert _top_labels(disp) == [str(counts[i]) for i in idx]


def test_path_display_from_estimator_pipeline_and_deviance(diabetes):
    X, y = diabetes
    scaler = StandardScaler().fit(X)
    est = _PathCVStub(scaler.transform(X), y)
    est.intercept_ = y.mean()
    pipe = Pipeline([("scale", scaler), ("model", est)])
    disp = RegularizationPathDisplay.from_estimator(pipe, X, y, x="deviance")
    assert len(disp.lines_) == X.shape[1]
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()][:10] == list(X.columns)
    # deviance ratio = training R² of the lasso refitted at each alpha
    for j in (0, 10, 29):
        lasso = Lasso(alpha=est.alphas_[j], tol=1e-10, max_iter=100000)
        r2 = lasso.fit(scaler.transform(X), y).score(scaler.transform(X), y)
        assert_allclose(disp.x_[j], r2, atol=1e-5)
    assert disp.ax_.get_xlabel().startswith("Fraction of deviance explained")
    # alpha_min_ / alpha_1se_ marked at the x of their path point
    assert_allclose(disp.vlines_["alpha_min"].get_xdata()[0],
                    disp.x_[list(est.alphas_).index(est.alpha_min_)])
    assert disp.ax_.get_title() == "_PathCVStub: regularization path"
    with pytest.raises(TypeError, match="no fitted alphas_ and coef_path_"):
        RegularizationPathDisplay.from_estimator(Ridge().fit(X, y))


def test_path_display_multi_target_needs_target(diabetes):
    X, y = diabetes
    est = _PathCVStub(StandardScaler().fit_transform(X), y, n_targets=3)
    with pytest.raises(ValueError, match="target="):
        RegularizationPathDisplay.from_estimator(est)
    disp = RegularizationPathDisplay.from_estimator(est, target=2)
    assert_allclose(disp.lines_[3].get_ydata(), est.coef_path_[2][3])


# --------------------------------------------------------------------------- CV display
def test_cv_display_from_path_marks_both_alphas(diabetes):
    X, y = diabetes
    Xs = StandardScaler().fit_transform(X)
    cv = LassoCV(cv=5, alphas=_grid(Xs, y, 40)).fit(Xs, y)
    coefs = lasso_path(Xs, y, alphas=cv.alphas_)[1]
    disp = CVErrorDisplay.from_path(cv.alphas_, cv.mse_path_, coef_path=coefs)
    mean = cv.mse_path_.mean(1)
    se = cv.mse_path_.std(1) / np.sqrt(4)
    i_min = int(np.argmin(mean))
    i_1se = int(np.flatnonzero(mean <= mean[i_min] + se[i_min])[0])  # largest alpha
    assert_allclose(disp.line_.get_xdata(), cv.alphas_)
    assert_allclose(disp.line_.get_ydata(), mean)
    # the error bars: one segment per alpha, from mean - se to mean + se
    segs = disp.errorbar_.lines[2][0].get_segments()
    assert len(segs) == 40
    assert_allclose([s[1, 1] - s[0, 1] for s in segs], 2 * se)
    assert_allclose(disp.vlines_["alpha_min"].get_xdata(), [cv.alphas_[i_min]] * 2)
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata(), [cv.alphas_[i_1se]] * 2)
    assert cv.alphas_[i_1se] > cv.alphas_[i_min]
    assert_allclose(cv.alphas_[i_min], cv.alpha_)  # agrees with scikit-learn's choice
    ax = disp.ax_
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "alpha (log scale)"
    assert ax.get_ylabel() == "Mean squared error (CV)"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("min: lowest mean error (alpha = ")
    assert texts[1].startswith("1se: simplest within 1 SE (alpha = ")
    assert texts[2] == "mean CV error ± 1 SE"
    nnz = (coefs != 0).sum(0)
    idx = [int(np.argmin(np.abs(cv.alphas_ - t))) for t in disp.top_ax_.get_xticks()]
    assert _top_labels(disp) == [str(nnz[i]) for i in idx]
    assert disp.top_ax_.get_xlabel() == "Non-zero coefficients"


def test_cv_display_from_sklearn_estimators_and_contract(diabetes):
    X, y = diabetes
    Xs = StandardScaler().fit_transform(X)
    cv = ElasticNetCV(l1_ratio=[0.5, 1.0], cv=3).fit(Xs, y)
    disp = CVErrorDisplay.from_estimator(cv)
    row = [0.5, 1.0].index(cv.l1_ratio_)
    assert_allclose(disp.line_.get_xdata(), cv.alphas_[row])
    assert_allclose(disp.line_.get_ydata(), cv.mse_path_[row].mean(1))
    assert_allclose(disp.vlines_["alpha_min"].get_xdata()[0], cv.alpha_)
    assert disp.top_ax_ is None  # no coef_path_ on scikit-learn's estimators
    # the package's contract, several l1_ratios: the row of l1_ratio_
    est = _PathCVStub(Xs, y, l1_ratio=[0.2, 0.7, 1.0])
    disp = CVErrorDisplay.from_estimator(Pipeline([("m", est)]), ax=plt.subplots()[1])
    assert_allclose(disp.line_.get_xdata(), est.alphas_[1])
    assert_allclose(disp.line_.get_ydata(), est.cv_mean_[1])
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata()[0], est.alpha_1se_)
    assert disp.ax_.get_title() == "_PathCVStub (l1_ratio = 0.7)"
    assert len(_top_labels(disp)) == 8
    # per-target layout
    est = _PathCVStub(Xs, y, n_targets=2)
    with pytest.raises(ValueError, match="target="):
        CVErrorDisplay.from_estimator(est)
    disp = CVErrorDisplay.from_estimator(est, target=1)
    assert_allclose(disp.line_.get_ydata(), est.cv_mean_[1])
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata()[0], est.alphas_[3])
    with pytest.raises(ValueError, match="target must be"):
        CVErrorDisplay.from_estimator(est, target=5)
    # GCV-like: no standard error -> no bars, markers only
    est.cv_se_ = None
    disp = CVErrorDisplay.from_estimator(est, target=0)
    assert disp.errorbar_.has_yerr is False
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()][-1] == "mean CV error"


def test_cv_display_from_gridsearch_matches_one_se_refit(diabetes):
    X, y = diabetes
    grid = np.logspace(-2, 1.5, 10)
    pipe = Pipeline([("scale", StandardScaler()), ("model", Lasso())])
    search = GridSearchCV(pipe, {"model__alpha": grid}, cv=KFold(5, shuffle=True,
                                                                 random_state=0),
                          scoring="neg_mean_squared_error",
                          refit=one_se_refit("model__alpha")).fit(X, y)
    disp = CVErrorDisplay.from_estimator(search)
    mse = -np.column_stack([search.cv_results_[f"split{k}_test_score"] for k in range(5)])
    order = np.argsort(-grid)
    assert_allclose(disp.line_.get_xdata(), grid[order])
    assert_allclose(disp.line_.get_ydata(), mse.mean(1)[order])
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata()[0],
                    search.best_params_["model__alpha"])
    assert_allclose(disp.vlines_["alpha_min"].get_xdata()[0],
                    grid[np.argmax(search.cv_results_["mean_test_score"])])
    assert disp.ax_.get_ylabel() == "Mean squared error (CV)"
    assert disp.ax_.get_xlabel() == "model__alpha (log scale)"
    assert "model__alpha = " in disp.ax_.get_legend().get_texts()[0].get_text()
    assert disp.top_ax_ is None


def test_cv_display_gridsearch_two_params_draws_the_best_slice():
    X, y = make_regression(80, 6, noise=20.0, random_state=3)
    from sklearn.linear_model import ElasticNet
    search = GridSearchCV(ElasticNet(), {"alpha": [0.01, 0.1, 1.0, 10.0],
                                         "l1_ratio": [0.2, 0.9]}, cv=3).fit(X, y)
    with pytest.raises(ValueError, match="param_name"):
        CVErrorDisplay.from_estimator(search)
    disp = CVErrorDisplay.from_estimator(search, param_name="alpha")
    best_l1 = search.best_params_["l1_ratio"]
    keep = [p["l1_ratio"] == best_l1 for p in search.cv_results_["params"]]
    assert len(disp.line_.get_xdata()) == 4
    assert_allclose(np.sort(disp.line_.get_ydata()),
                    np.sort(-search.cv_results_["mean_test_score"][keep]))
    assert disp.ax_.get_ylabel() == "−score (CV loss)"


# ------------------------------------------------------- the package's own CV estimators
def _package_class(name):
    import sklearn_normpen

    cls = getattr(sklearn_normpen, name)
    return cls


def test_spectral_ridge_cv_path_and_curve(diabetes):
    SpectralRidgeCV = _package_class("SpectralRidgeCV")
    X, y = diabetes
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", SpectralRidgeCV(alphas=25, rule="1se"))]).fit(X, y)
    est = pipe[-1]
    disp = RegularizationPathDisplay.from_estimator(pipe, X, y, x="deviance")
    assert len(disp.lines_) == X.shape[1]
    assert_allclose(disp.lines_[2].get_ydata(), est.coef_path_[2])
    # the deviance ratio is the training R² of scikit-learn's Ridge at that alpha
    Xs = pipe[0].transform(X)
    for j in (0, 12, 24):
        assert_allclose(disp.x_[j], Ridge(alpha=est.alphas_[j]).fit(Xs, y).score(Xs, y),
                        rtol=1e-6, atol=1e-8)
    # ridge has no zeros: the top axis shows the effective degrees of freedom
    assert disp.top_ax_.get_xlabel() == "Effective degrees of freedom"
    disp = RegularizationPathDisplay.from_estimator(pipe)
    idx = [int(np.argmin(np.abs(est.alphas_ - t))) for t in disp.top_ax_.get_xticks()]
    assert _top_labels(disp) == [f"{est.df_path_[i]:.1f}" for i in idx]
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata()[0], est.alpha_1se_)

    cv = CVErrorDisplay.from_estimator(pipe)
    assert_allclose(cv.line_.get_xdata(), est.alphas_)
    assert_allclose(cv.line_.get_ydata(), est.cv_mean_)
    assert_allclose(cv.vlines_["alpha_min"].get_xdata()[0], est.alpha_min_)
    assert_allclose(cv.vlines_["alpha_1se"].get_xdata()[0], est.alpha_1se_)
    assert cv.ax_.get_ylabel() == "Mean squared error (leave-one-out)"
    assert cv.top_ax_.get_xlabel() == "Effective degrees of freedom"


def test_spectral_ridge_cv_targets_and_gcv(diabetes):
    SpectralRidgeCV = _package_class("SpectralRidgeCV")
    X, y = diabetes
    Xs = StandardScaler().fit_transform(X)
    Y = np.column_stack([y, np.sqrt(y)])
    est = SpectralRidgeCV(alphas=20, alpha_per_target=True).fit(Xs, Y)
    with pytest.raises(ValueError, match="target="):
        CVErrorDisplay.from_estimator(est)
    with pytest.raises(ValueError, match="target="):
        RegularizationPathDisplay.from_estimator(est)
    cv = CVErrorDisplay.from_estimator(est, target=1)
    assert_allclose(cv.line_.get_ydata(), est.cv_mean_[1])
    assert_allclose(cv.vlines_["alpha_min"].get_xdata()[0], est.alpha_min_[1])
    path = RegularizationPathDisplay.from_estimator(est, target=1)
    assert_allclose(path.lines_[0].get_ydata(), est.coef_path_[1][0])
    # one alpha for all targets: the curve needs no target, the path does
    est = SpectralRidgeCV(alphas=20).fit(Xs, Y)
    assert_allclose(CVErrorDisplay.from_estimator(est).line_.get_ydata(), est.cv_mean_)
    with pytest.raises(ValueError, match="target="):
        RegularizationPathDisplay.from_estimator(est)
    # GCV: a criterion without standard error -> markers only, named as such
    est = SpectralRidgeCV(alphas=20, cv="gcv").fit(Xs, y)
    cv = CVErrorDisplay.from_estimator(est)
    assert cv.errorbar_.has_yerr is False
    assert cv.ax_.get_ylabel() == "GCV criterion"


def test_elastic_net_path_cv_displays(diabetes):
    ElasticNetPathCV = _package_class("ElasticNetPathCV")
    X, y = diabetes
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", ElasticNetPathCV(l1_ratio=[0.3, 1.0], alphas=30, cv=4))])
    pipe.fit(X, y)
    est = pipe[-1]
    row = [0.3, 1.0].index(est.l1_ratio_)
    cv = CVErrorDisplay.from_estimator(pipe)
    assert_allclose(cv.line_.get_xdata(), est.alphas_[row])
    assert_allclose(cv.line_.get_ydata(), est.cv_mean_[row])
    # the drawn mean is the fold mean of mse_path_ by the shared rule
    w = [len(test) for _, test in KFold(4).split(X)]  # cv=4: unshuffled KFold
    mean, se = cv_statistics(est.mse_path_[row], w)
    assert_allclose(cv.line_.get_ydata(), mean)
    assert_allclose(cv.errorbar_.lines[2][0].get_segments()[7][:, 1], mean[7] + [-se[7], se[7]])
    assert_allclose(cv.vlines_["alpha_min"].get_xdata()[0], est.alpha_min_)
    assert_allclose(cv.vlines_["alpha_1se"].get_xdata()[0], est.alpha_1se_)
    assert cv.ax_.get_title() == f"ElasticNetPathCV (l1_ratio = {est.l1_ratio_:.3g})"
    nnz = (est.coef_path_[row] != 0).sum(0)  # one full-data path per l1_ratio
    idx = [int(np.argmin(np.abs(est.alphas_[row] - t))) for t in cv.top_ax_.get_xticks()]
    assert _top_labels(cv) == [str(nnz[i]) for i in idx]

    path = RegularizationPathDisplay.from_estimator(pipe, X, y, x="deviance")
    assert len(path.lines_) == X.shape[1]
    assert [t.get_text() for t in path.ax_.get_legend().get_texts()][:10] == list(X.columns)
    # the deviance ratio is the training R² of the full-data fit at each alpha
    Xs = pipe[0].transform(X)
    for j in (5, 29):
        pred = Xs @ est.coef_path_[row][:, j] + est.intercept_path_[row][j]
        r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
        assert_allclose(path.x_[j], r2, rtol=1e-10)
    path = RegularizationPathDisplay.from_estimator(pipe, x="l1_norm")
    assert_allclose(path.x_, np.abs(est.coef_path_[row]).sum(0))
    # sparse X: the same deviance ratio (no densifying needed)
    import scipy.sparse as sp

    dense = RegularizationPathDisplay.from_estimator(est, Xs, y, x="deviance").x_
    sparse = RegularizationPathDisplay.from_estimator(est, sp.csr_matrix(Xs), y,
                                                      x="deviance").x_
    assert_allclose(sparse, dense, rtol=1e-12)
    sw = np.linspace(0.5, 2.0, len(y))
    weighted = RegularizationPathDisplay.from_estimator(est, Xs, y, sample_weight=sw,
                                                        x="deviance").x_
    pred = Xs @ est.coef_path_[row][:, 20] + est.intercept_path_[row][20]
    ybar = np.average(y, weights=sw)
    assert_allclose(weighted[20], 1 - sw @ (y - pred) ** 2 / (sw @ (y - ybar) ** 2))


def test_group_lasso_path_cv_displays(diabetes):
    GroupLassoPathCV = _package_class("GroupLassoPathCV")
    X, y = diabetes
    Xs = StandardScaler().fit_transform(X)
    groups = [[0, 1], [2, 3], [4, 5, 6, 7, 8, 9]]
    est = GroupLassoPathCV(groups=groups, alphas=25, cv=4, max_iter=5000).fit(Xs, y)
    path = RegularizationPathDisplay.from_estimator(est)
    colors = [mpl.colors.to_hex(line.get_color()) for line in path.lines_]
    for g in est.groups_:  # one colour per group, different across groups
        assert len({colors[j] for j in g}) == 1
    assert len({colors[g[0]] for g in est.groups_}) == len(est.groups_)
    assert len(path.ax_.get_legend().get_texts()) == 3 + 2  # groups + two alphas
    norms = RegularizationPathDisplay.from_estimator(est, group_norms=True)
    assert len(norms.lines_) == 3
    for line, g in zip(norms.lines_, est.groups_):
        assert_allclose(line.get_ydata(), np.linalg.norm(est.coef_path_[g], axis=0))
    assert norms.top_ax_.get_xlabel() == "Non-zero groups"
    cv = CVErrorDisplay.from_estimator(est)
    assert_allclose(cv.line_.get_ydata(), est.cv_mean_)
    assert_allclose(cv.vlines_["alpha_1se"].get_xdata()[0], est.alpha_1se_)
    assert cv.top_ax_.get_xlabel() == "Non-zero groups"


def test_cv_display_reads_the_search_refit_settings():
    X, y = make_regression(60, 6, noise=15.0, random_state=4)
    grid = np.logspace(-2, 3, 12)
    w = [30.0, 10.0, 10.0, 10.0]  # deliberately uneven split weights
    search = GridSearchCV(
        Pipeline([("model", Ridge())]), {"model__alpha": grid,
                                         "model__fit_intercept": [True, False]},
        cv=4, refit=one_se_refit("model__alpha", se="std", fold_weights=w)).fit(X, y)
    disp = CVErrorDisplay.from_estimator(search)  # param_name taken from the refit
    best = search.best_params_
    assert_allclose(disp.vlines_["alpha_1se"].get_xdata()[0], best["model__alpha"])
    res = search.cv_results_
    keep = [p["model__fit_intercept"] == search.cv_results_["params"][
        int(np.nanargmax(res["mean_test_score"]))]["model__fit_intercept"]
        for p in res["params"]]
    mse = -np.column_stack([res[f"split{k}_test_score"] for k in range(4)])[keep]
    mean, sd = cv_statistics(mse, w, se="std")
    order = np.argsort(-np.asarray(res["param_model__alpha"], float)[keep])
    assert_allclose(disp.line_.get_ydata(), mean[order])
    segs = disp.errorbar_.lines[2][0].get_segments()
    assert_allclose([s[1, 1] - s[0, 1] for s in segs], 2 * sd[order])
    # overriding the refit's settings
    disp = CVErrorDisplay.from_estimator(search, se="glmnet")
    segs = disp.errorbar_.lines[2][0].get_segments()
    assert not np.allclose([s[1, 1] - s[0, 1] for s in segs], 2 * sd[order])
    with pytest.raises(TypeError, match="real numbers"):
        CVErrorDisplay.from_estimator(search, param_name="model__fit_intercept")


def test_cv_display_fixed_params_and_path_display_from_search():
    X, y = make_regression(80, 6, noise=20.0, random_state=3)
    from sklearn.linear_model import ElasticNet
    search = GridSearchCV(ElasticNet(), {"alpha": [0.01, 0.1, 1.0, 10.0],
                                         "l1_ratio": [0.2, 0.9]}, cv=3).fit(X, y)
    disp = CVErrorDisplay.from_cv_results(search.cv_results_, "alpha",
                                          fixed_params={"l1_ratio": 0.2})
    keep = [p["l1_ratio"] == 0.2 for p in search.cv_results_["params"]]
    assert_allclose(disp.line_.get_xdata(), [10.0, 1.0, 0.1, 0.01])
    assert_allclose(disp.line_.get_ydata(),
                    -search.cv_results_["mean_test_score"][keep][::-1])
    with pytest.raises(ValueError, match="no candidate"):
        CVErrorDisplay.from_cv_results(search.cv_results_, "alpha",
                                       fixed_params={"l1_ratio": 0.5})
    # a search over a path estimator: the path of its best_estimator_
    SpectralRidgeCV = _package_class("SpectralRidgeCV")
    search = GridSearchCV(SpectralRidgeCV(alphas=10), {"fit_intercept": [True, False]},
                          cv=2).fit(X, y)
    path = RegularizationPathDisplay.from_estimator(search)
    assert_allclose(path.lines_[0].get_ydata(), search.best_estimator_.coef_path_[0])
