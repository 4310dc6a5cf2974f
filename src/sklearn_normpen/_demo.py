"""The demonstration behind ``python -m sklearn_normpen``.

It uses the diabetes data shipped with scikit-learn (442 patients, 10 measurements; no
download), holds out a quarter of the rows, fits each cross-validated estimator of the
package on the rest, and reports, for the λ_min and the λ_1se choice, the number of
non-zero coefficients and the R² on the held-out rows. Path and CV-curve plots are written
as PNG files when matplotlib is installed.

The logic lives here (not in ``__main__``) so that tests can call :func:`run` directly.
"""
import os
import time

import numpy as np

# One fixed split and fold assignment: the demo prints the same numbers on every run.
RANDOM_STATE = 0
TEST_SIZE = 0.25
N_FOLDS = 5
POLY_DEGREE = 3


def load_data(random_state=RANDOM_STATE):
    """Diabetes data, split into train and test parts.

    Returns
    -------
    data : dict
        ``X_train, X_test, y_train, y_test`` (float64 arrays) and ``feature_names``.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    bunch = load_diabetes()
    X_train, X_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=TEST_SIZE, random_state=random_state)
    return dict(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                feature_names=list(bunch.feature_names))


def grouped_design(X_train, X_test, feature_names, degree=POLY_DEGREE):
    """Polynomial terms of each measurement, one group per measurement.

    Each measurement ``x`` is standardised with the training mean and standard deviation and
    expanded into ``z, z², …, z^degree``; every term is then standardised on the training
    rows. Measurements with only two distinct values (``sex``) keep the single term ``z``,
    since their powers would repeat it.

    Returns
    -------
    Z_train, Z_test : ndarray
        The expanded designs.
    groups : list of ndarray of int
        Column indices of each measurement's terms, in the order of ``feature_names``.
    names : list of str
        One name per column, e.g. ``"bmi^2"``.
    """
    cols_train, cols_test, groups, names = [], [], [], []
    start = 0
    for j, name in enumerate(feature_names):
        mu, sd = X_train[:, j].mean(), X_train[:, j].std()
        z_tr, z_te = (X_train[:, j] - mu) / sd, (X_test[:, j] - mu) / sd
        d = 1 if np.unique(X_train[:, j]).size <= 2 else degree
        for p in range(1, d + 1):
            t_tr, t_te = z_tr ** p, z_te ** p
            m, s = t_tr.mean(), t_tr.std()
            cols_train.append((t_tr - m) / s)
            cols_test.append((t_te - m) / s)
            names.append(name if p == 1 else f"{name}^{p}")
        groups.append(np.arange(start, start + d))
        start += d
    return np.column_stack(cols_train), np.column_stack(cols_test), groups, names


def _standardise(X_train, X_test):
    mu, sd = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mu) / sd, (X_test - mu) / sd


def _path_index(alphas, alpha):
    """Index of ``alpha`` in the grid ``alphas`` (nearest on the log scale)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    return int(np.argmin(np.abs(np.log(alphas) - np.log(alpha))))


def chosen_grid(est):
    """The alpha grid of ``coef_path_``: ``alphas_``, or its row for ``l1_ratio_`` when
    several ``l1_ratio`` values were cross-validated (one grid per value)."""
    alphas = np.asarray(est.alphas_, dtype=np.float64)
    if alphas.ndim == 2:
        ratios = np.atleast_1d(np.asarray(est.l1_ratio, dtype=np.float64))
        alphas = alphas[int(np.flatnonzero(np.isclose(ratios, est.l1_ratio_))[0])]
    return alphas


def _predict_at(est, X_train, y_train, X_test, alpha):
    """Test predictions of the full-data fit at ``alpha`` on the estimator's path.

    The coefficients are a column of ``coef_path_``; the intercept is the matching entry
    of ``intercept_path_`` or, without it, the unpenalised intercept of the squared loss
    with unit weights, ``mean(y) - mean(X) @ w``.
    """
    i = _path_index(chosen_grid(est), alpha)
    cp, ip = np.asarray(est.coef_path_), getattr(est, "intercept_path_", None)
    if cp.ndim == 3:  # one full-data path per l1_ratio: the chosen one's
        row = int(np.flatnonzero(np.isclose(np.atleast_1d(est.l1_ratio), est.l1_ratio_))[0])
        cp, ip = cp[row], None if ip is None else np.asarray(ip)[row]
    w = cp[:, i]
    if ip is not None:
        intercept = np.asarray(ip)[i]
    else:
        intercept = y_train.mean() - X_train.mean(axis=0) @ w
    return X_test @ w + intercept, w


def _specs(data):
    """The estimators to demonstrate, those that exist in the installed package."""
    import sklearn_normpen as snp

    X_tr, X_te = _standardise(data["X_train"], data["X_test"])
    names = data["feature_names"]
    specs = []
    if hasattr(snp, "ElasticNetPathCV"):
        specs.append(dict(
            name="ElasticNetPathCV",
            estimator=snp.ElasticNetPathCV(l1_ratio=[0.5, 0.9, 1.0], cv=N_FOLDS),
            X_train=X_tr, X_test=X_te, feature_names=names,
            design=f"{len(names)} standardised measurements, {N_FOLDS}-fold CV"))
    if hasattr(snp, "GroupLassoPathCV"):
        Z_tr, Z_te, groups, z_names = grouped_design(data["X_train"], data["X_test"], names)
        specs.append(dict(
            name="GroupLassoPathCV",
            # named groups: the plots can label each measurement's group
            estimator=snp.GroupLassoPathCV(
                groups={n: g.tolist() for n, g in zip(names, groups)}, cv=N_FOLDS),
            X_train=Z_tr, X_test=Z_te, feature_names=z_names,
            design=f"{Z_tr.shape[1]} polynomial terms in {len(groups)} groups, "
                   f"{N_FOLDS}-fold CV"))
    if hasattr(snp, "SpectralRidgeCV"):
        specs.append(dict(
            name="SpectralRidgeCV",
            estimator=snp.SpectralRidgeCV(alphas=np.logspace(5, -1, 61)),
            X_train=X_tr, X_test=X_te, feature_names=names,
            design=f"{len(names)} standardised measurements, leave-one-out CV"))
    return specs


def fit_models(data=None):
    """Fit every available CV estimator and score its λ_min and λ_1se choices.

    Returns
    -------
    results : list of dict
        One per estimator: ``name``, ``design``, the fitted ``estimator``, ``seconds`` and
        ``rows``: for each rule (``"min"``, ``"1se"``) a dict with ``alpha``, ``nnz``,
        ``n_features`` and ``r2`` (held-out R² of the full-data fit at that alpha).
    """
    from sklearn.metrics import r2_score

    data = load_data() if data is None else data
    results = []
    for spec in _specs(data):
        est = spec["estimator"]
        t0 = time.perf_counter()
        est.fit(spec["X_train"], data["y_train"])
        seconds = time.perf_counter() - t0
        rows = {}
        for rule, alpha in (("min", est.alpha_min_), ("1se", est.alpha_1se_)):
            pred, w = _predict_at(est, spec["X_train"], data["y_train"], spec["X_test"], alpha)
            rows[rule] = dict(alpha=float(alpha), nnz=int(np.count_nonzero(w)),
                              n_features=spec["X_train"].shape[1],
                              r2=float(r2_score(data["y_test"], pred)))
        results.append(dict(name=spec["name"], design=spec["design"], estimator=est,
                            feature_names=spec["feature_names"], seconds=seconds, rows=rows))
    return results


def format_table(results):
    """The table printed by the demo: one line per estimator and rule."""
    header = f"{'estimator':<18} {'rule':<6} {'alpha':>11} {'non-zeros':>10} {'test R2':>8}"
    lines = [header, "-" * len(header)]
    for res in results:
        for rule in ("min", "1se"):
            r = res["rows"][rule]
            nnz = f"{r['nnz']}/{r['n_features']}"
            lines.append(f"{res['name']:<18} {rule:<6} {r['alpha']:>11.4e} {nnz:>10} "
                         f"{r['r2']:>8.3f}")
    return "\n".join(lines)


def write_plots(results, output):
    """Path and CV-curve PNGs for each fitted estimator; returns the paths written.

    Figures are built with the object-oriented API (no pyplot), so the demo neither needs
    a display nor changes matplotlib's global backend.
    """
    from matplotlib.figure import Figure

    from .plotting import CVErrorDisplay, RegularizationPathDisplay

    os.makedirs(output, exist_ok=True)
    written = []
    for res in results:
        stem = res["name"].lower()
        for kind in ("path", "cv"):
            fig = Figure(figsize=(8, 5), layout="constrained")
            ax = fig.subplots()
            if kind == "path":
                RegularizationPathDisplay.from_estimator(
                    res["estimator"], feature_names=res["feature_names"], ax=ax)
            else:
                CVErrorDisplay.from_estimator(res["estimator"], ax=ax)
            title = f"{res['name']}: {res['design']}"
            if getattr(res["estimator"], "l1_ratio_", None) is not None:
                title += f", l1_ratio_={res['estimator'].l1_ratio_:g}"
            ax.set_title(title, fontsize="medium")
            path = os.path.join(output, f"{stem}_{kind}.png")
            fig.savefig(path, dpi=100)
            written.append(path)
    return written


def run(output="normpen_demo", plots=True, stream=None):
    """Run the demonstration: fit, print the table, write the plots.

    Parameters
    ----------
    output : str, default="normpen_demo"
        Folder for the PNG files (created if needed).
    plots : bool, default=True
        Write the plots (skipped with a message when matplotlib is missing).
    stream : file-like, default=None
        Where to print (``sys.stdout`` when None).

    Returns
    -------
    summary : dict
        ``results`` (as returned by :func:`fit_models`) and ``files`` (the PNG paths
        written; empty when plots were skipped).
    """
    import sys

    import sklearn_normpen

    out = sys.stdout if stream is None else stream

    def say(*lines):
        print(*lines, sep="\n", file=out)

    data = load_data()
    say(f"sklearn_normpen {sklearn_normpen.__version__}: diabetes data bundled with "
        f"scikit-learn ({len(data['y_train'])} training rows, {len(data['y_test'])} "
        f"held-out rows).", "")
    results = fit_models(data)
    if not results:
        say("No cross-validated estimator is available in this build; nothing to show.")
        return dict(results=results, files=[])
    say(format_table(results), "",
        "min: the alpha with the lowest mean CV error; 1se: the largest alpha whose mean CV "
        "error is within one standard error of that minimum (glmnet's lambda.1se).",
        "test R2: R^2 on the held-out rows of the full training fit at that alpha.")
    for res in results:
        say(f"  {res['name']}: {res['design']}, fitted in {res['seconds']:.2f} s")
    files = []
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            say("", "matplotlib is not installed: plots skipped. Install the plot extra "
                "(pip install \"sklearn_normpen[plot]\", or pip install \".[plot]\" "
                "from a clone) to get them.")
        else:
            files = write_plots(results, output)
            say("", f"Plots written to {os.path.abspath(output)}:",
                *(f"  {os.path.basename(f)}" for f in files))
    return dict(results=results, files=files)
