"""Regularization-path and CV-curve plots, in the style of scikit-learn's Displays.

``RegularizationPathDisplay`` draws the coefficients along the alpha path (R's
``plot(fit)``); ``CVErrorDisplay`` draws the mean cross-validation error with its standard
error bars and the two candidate alphas (R's ``plot(cvfit)``). Both are built with
``from_estimator`` (a fitted ``*PathCV`` / ``*CV`` estimator of this package, a
``Pipeline`` ending in one, scikit-learn's ``LassoCV`` / ``ElasticNetCV`` for the CV curve,
or a fitted ``GridSearchCV``) or from raw arrays, and drawn with ``plot``.

matplotlib is optional: it is imported when a display is drawn, never when the package
is imported. Install it with ``pip install "sklearn_normpen[plot]"``.
"""
import numpy as np

from .selection import cv_statistics, select_min_1se

__all__ = ["RegularizationPathDisplay", "CVErrorDisplay", "StabilityPathDisplay"]

_N_TOP_TICKS = 8


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(
            'plotting needs matplotlib; install it with: pip install "sklearn_normpen[plot]"'
        ) from exc
    return plt


def _get_ax(ax):
    plt = _pyplot()
    if ax is None:
        # constrained layout keeps the outside legend, top axis and title in the figure
        _, ax = plt.subplots(constrained_layout=True)
    return ax


# --------------------------------------------------------------------------- estimators
def _unwrap(estimator):
    """(final estimator, preprocessing pipeline or None) of a possibly-Pipeline estimator."""
    if hasattr(estimator, "steps") and hasattr(estimator, "__getitem__"):
        return estimator[-1], estimator[:-1]
    return estimator, None


def _feature_names(estimator, pre, n_features):
    names = None
    if pre is not None and len(pre.steps) > 0:
        try:
            names = pre.get_feature_names_out()
        except Exception:  # a transformer without feature names: fall back below
            names = None
    if names is None:
        names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) != n_features:
        names = None
    return None if names is None else [str(n) for n in names]


def _l1_row(est):
    """Index of ``l1_ratio_`` in the estimator's ``l1_ratio`` list, or None."""
    grid, chosen = getattr(est, "l1_ratio", None), getattr(est, "l1_ratio_", None)
    if grid is None or chosen is None or np.ndim(grid) == 0:
        return None
    idx = np.flatnonzero(np.isclose(np.asarray(grid, dtype=float), float(chosen)))
    return int(idx[0]) if idx.size else None


def _n_targets(est):
    cp = getattr(est, "coef_path_", None)
    if cp is not None and np.ndim(cp) == 3:
        if _l1_row(est) is not None and np.ndim(getattr(est, "alpha_min_", 0.0)) == 0:
            return None  # one path per l1_ratio, not per target
        return np.shape(cp)[0]
    if np.ndim(getattr(est, "alpha_min_", 0.0)) == 1:
        return np.size(est.alpha_min_)
    return None


def _row_index(est, target):
    """The row of multi-path attributes to draw: a target (ridge) or the chosen l1_ratio."""
    n_targets = _n_targets(est)
    if n_targets is not None:
        if target is None:
            raise ValueError(f"{type(est).__name__} was fitted on {n_targets} targets; "
                             f"pass target=<index in 0..{n_targets - 1}>.")
        if not (isinstance(target, (int, np.integer)) and 0 <= target < n_targets):
            raise ValueError(f"target must be an int in [0, {n_targets}); got {target!r}.")
        return int(target)
    if target is not None:
        raise ValueError(f"target={target!r} given but {type(est).__name__} has one target.")
    return _l1_row(est)


def _scalar(value, row):
    """``alpha_min_``-like attribute: a float, or one per target / path."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 1 and row is not None:
        return float(a[row])
    raise ValueError(f"cannot tell which value of an attribute of shape {a.shape} to mark.")


def _pick(value, row, n_alphas=None, what="attribute"):
    """Reduce a per-path attribute to the 1-D array (or scalar) of the drawn path."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return float(a)
    if a.ndim == 1 and (n_alphas is None or a.shape[0] == n_alphas):
        return a
    if a.ndim == 2 and row is not None:
        if n_alphas is None or a.shape[1] == n_alphas:
            return a[row]
        if a.shape[0] == n_alphas:
            return a[:, row]
    raise ValueError(f"cannot tell which path of {what} (shape {a.shape}) to draw.")


def _cv_row_index(est, target):
    """Row of the CV attributes: a target when they are per target, else the l1_ratio."""
    mean = getattr(est, "cv_mean_", None)
    l1row = _l1_row(est)
    per_target = np.ndim(getattr(est, "alpha_min_", 0.0)) == 1 or (
        mean is not None and np.ndim(mean) == 2 and l1row is None)
    if not per_target:
        return l1row
    n_targets = np.size(est.alpha_min_) if np.ndim(getattr(est, "alpha_min_", 0.0)) == 1 \
        else np.shape(mean)[0]
    if target is None:
        raise ValueError(f"{type(est).__name__} chose one alpha per target ({n_targets} "
                         f"targets); pass target=<index in 0..{n_targets - 1}>.")
    if not (isinstance(target, (int, np.integer)) and 0 <= target < n_targets):
        raise ValueError(f"target must be an int in [0, {n_targets}); got {target!r}.")
    return int(target)


def _top_values(est, row, n_alphas):
    """Top-axis values: effective degrees of freedom (ridge) or non-zero counts."""
    df = getattr(est, "df_path_", None)
    if df is not None and np.ndim(df) == 1 and np.size(df) == n_alphas:
        return np.asarray(df, dtype=float), "Effective degrees of freedom"
    cp = getattr(est, "coef_path_", None)
    if cp is None:
        return None, None
    cp = _dense(cp)
    if cp.ndim == 3:
        if row is None:
            return None, None
        cp = cp[row]
    if cp.ndim != 2 or cp.shape[1] != n_alphas:
        return None, None
    groups = _groups(est)
    return (_nonzero_counts(cp, groups),
            "Non-zero groups" if groups is not None else "Non-zero coefficients")


def _coef_path(est, row):
    cp = getattr(est, "coef_path_", None)
    if cp is None:
        return None
    cp = _dense(cp)
    if cp.ndim == 3:
        if row is None:
            raise ValueError(f"coef_path_ has shape {cp.shape}; pass target=.")
        cp = cp[row]
    return cp


def _dense(a):
    return np.asarray(a.toarray() if hasattr(a, "toarray") else a, dtype=float)


def _groups(est):
    groups = getattr(est, "groups_", None)
    return None if groups is None else [np.asarray(g, dtype=np.intp).ravel() for g in groups]


def _nonzero_counts(coefs, groups=None):
    nz = coefs != 0
    if groups is None:
        return nz.sum(axis=0)
    return np.array([sum(bool(nz[g, j].any()) for g in groups) for j in range(nz.shape[1])])


def _group_names(est, groups):
    names = getattr(est, "group_labels_", None)
    if names is None:
        names = getattr(est, "group_names_", None)
    if names is not None and len(names) == len(groups):
        return [f"group {n}" if isinstance(n, (int, np.integer)) else str(n) for n in names]
    return [f"group {g}" for g in range(len(groups))]


def _top_axis(ax, positions, counts, label):
    """A secondary top x-axis with ``counts`` written at ``positions`` (glmnet's df axis)."""
    from matplotlib.ticker import NullLocator

    top = ax.secondary_xaxis("top")
    top.set_xticks(list(positions))
    counts = np.asarray(counts, dtype=float)
    integral = np.all(counts == np.round(counts))
    top.set_xticklabels([str(int(c)) if integral else f"{c:.1f}" for c in counts])
    top.xaxis.set_minor_locator(NullLocator())
    top.set_xlabel(label)
    return top


def _top_positions(x, counts, log=False):
    """Top-axis ticks: path points nearest to evenly spaced positions along the x axis."""
    x = np.asarray(x, dtype=float)
    t = np.log(x) if log else x
    targets = np.linspace(t.min(), t.max(), min(_N_TOP_TICKS, x.size))
    idx = np.unique([int(np.argmin(np.abs(t - v))) for v in targets])
    _, first = np.unique(x[idx], return_index=True)  # one tick per position
    idx = idx[np.sort(first)]
    return x[idx], np.asarray(counts)[idx]


def _nearest(alphas, alpha):
    return int(np.argmin(np.abs(np.log(alphas) - np.log(alpha))))


def _fmt(v):
    return f"{v:.3g}"


# --------------------------------------------------------------------------- path display
class RegularizationPathDisplay:
    """Coefficient paths against log alpha, the L1 norm or the deviance explained.

    Build it with :meth:`from_estimator` or :meth:`from_path` and draw it with
    :meth:`plot` — the analogue of R's ``plot(fit)`` for glmnet. The top axis shows the
    number of non-zero coefficients along the path (non-zero groups when group norms are
    drawn; the effective degrees of freedom for ridge, where nothing is zero).

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
        The alpha grid, decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        The coefficients at each alpha (original feature scale).
    feature_names : list of str, default=None
        One name per feature, for the legend or the line-end labels.
    groups : list of int arrays, default=None
        Penalised groups (index arrays into the features): one colour per group, and
        ``group_norms=True`` draws one line per group.
    group_names : list of str, default=None
        One name per group; ``"group <k>"`` when None.
    dev_ratio : ndarray of shape (n_alphas,), default=None
        Fraction of (training) deviance explained at each alpha, ``1 − RSS/RSS_null``;
        needed for ``x="deviance"``.
    alpha_min, alpha_1se : float, default=None
        Marked by dashed vertical lines when given.
    df : ndarray of shape (n_alphas,), default=None
        Effective degrees of freedom at each alpha (ridge), shown on the top axis instead
        of the non-zero counts.
    estimator_name : str, default=None
        Used in the title.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One per feature (or per group with ``group_norms=True``), in that order.
    vlines_ : dict
        ``{"alpha_min": Line2D, "alpha_1se": Line2D}`` for the marked alphas.
    ax_, figure_, top_ax_ :
        The axes, its figure and the secondary (top) axis (None without it).
    x_ : ndarray of shape (n_alphas,)
        The plotted x values.
    """

    def __init__(self, *, alphas, coefs, feature_names=None, groups=None, group_names=None,
                 dev_ratio=None, alpha_min=None, alpha_1se=None, df=None,
                 estimator_name=None):
        self.alphas = alphas
        self.df = df
        self.coefs = coefs
        self.feature_names = feature_names
        self.groups = groups
        self.group_names = group_names
        self.dev_ratio = dev_ratio
        self.alpha_min = alpha_min
        self.alpha_1se = alpha_1se
        self.estimator_name = estimator_name

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_path(cls, alphas, coefs, *, feature_names=None, groups=None, group_names=None,
                  dev_ratio=None, alpha_min=None, alpha_1se=None, df=None, ax=None,
                  **plot_kw):
        """Draw a path given as arrays (e.g. from ``sklearn.linear_model.lasso_path``).

        Parameters are those of the class, then ``ax`` and the keywords of :meth:`plot`.
        """
        alphas = np.asarray(alphas, dtype=float).ravel()
        coefs = np.asarray(coefs, dtype=float)
        if coefs.ndim == 1:
            coefs = coefs[None, :]
        if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
            raise ValueError(f"coefs must have shape (n_features, n_alphas={alphas.size}); "
                             f"got {coefs.shape}.")
        if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas <= 0):
            raise ValueError("alphas must be positive and finite.")
        if feature_names is not None and len(feature_names) != coefs.shape[0]:
            raise ValueError(f"feature_names has {len(feature_names)} names for "
                             f"{coefs.shape[0]} features.")
        if groups is not None:
            groups = [np.asarray(g, dtype=np.intp).ravel() for g in groups]
        if dev_ratio is not None:
            dev_ratio = np.asarray(dev_ratio, dtype=float).ravel()
            if dev_ratio.shape != alphas.shape:
                raise ValueError("dev_ratio must have one value per alpha.")
        disp = cls(alphas=alphas, coefs=coefs, feature_names=feature_names, groups=groups,
                   group_names=group_names, dev_ratio=dev_ratio, alpha_min=alpha_min,
                   alpha_1se=alpha_1se, df=df)
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_estimator(cls, estimator, X=None, y=None, *, sample_weight=None, target=None,
                       feature_names=None, ax=None, **plot_kw):
        """Draw the full-data path ``coef_path_`` of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator or Pipeline
            Exposes ``alphas_`` and ``coef_path_`` (every ``*PathCV``/``*CV`` estimator of
            the package); a ``Pipeline`` ending in one is accepted and its feature names
            (``get_feature_names_out`` of the preprocessing steps) label the lines. A
            fitted search is replaced by its ``best_estimator_``.
        X, y : array-like, default=None
            The training data, needed only for ``x="deviance"``: the fraction of deviance
            explained, ``1 − Σ s (y − Xw − b)² / Σ s (y − ȳ)²`` at each alpha, with the
            estimator's ``intercept_path_`` if it stores one, else the optimal
            unpenalised intercept ``b = ȳ − x̄ᵀw`` (weighted means; ``b = 0`` and a null
            deviance ``Σ s y²`` when ``fit_intercept=False``). ``X`` goes through the
            pipeline's preprocessing.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights for the deviance.
        target : int, default=None
            Which target to draw for a multi-target model (e.g. ``SpectralRidgeCV``).
        feature_names : list of str, default=None
            Overrides the names found on the estimator.
        ax : matplotlib Axes, default=None
        **plot_kw
            Keywords of :meth:`plot` (``x``, ``group_norms``, ``labels``, ...).

        Returns
        -------
        display : RegularizationPathDisplay
        """
        if hasattr(estimator, "best_estimator_") and not hasattr(estimator, "coef_path_"):
            estimator = estimator.best_estimator_  # a search over a path estimator
        est, pre = _unwrap(estimator)
        if not hasattr(est, "alphas_") or not hasattr(est, "coef_path_"):
            raise TypeError(
                f"{type(est).__name__} has no fitted alphas_ and coef_path_; fit it first, or "
                f"draw arrays with RegularizationPathDisplay.from_path(alphas, coefs).")
        row = _row_index(est, target)
        coefs = _coef_path(est, row)
        alphas = _pick(est.alphas_, row, coefs.shape[1], "alphas_")
        if feature_names is None:
            feature_names = _feature_names(est, pre, coefs.shape[0])
        dev_ratio = None
        if X is not None:
            if y is None:
                raise ValueError("x='deviance' needs both X and y.")
            Xt = pre.transform(X) if pre is not None and len(pre.steps) else X
            yt = np.asarray(y, dtype=float)
            if yt.ndim == 2:
                yt = yt[:, row if row is not None else 0]
            ipath = getattr(est, "intercept_path_", None)
            if ipath is not None:
                ipath = np.asarray(ipath, dtype=float)
                ipath = ipath[row] if ipath.ndim == 2 else ipath
            dev_ratio = _deviance_ratio(Xt, yt, coefs, sample_weight,
                                        getattr(est, "fit_intercept", True), ipath)
        amin = getattr(est, "alpha_min_", None)
        a1se = getattr(est, "alpha_1se_", None)
        disp = cls(alphas=alphas, coefs=coefs, feature_names=feature_names,
                   groups=_groups(est), dev_ratio=dev_ratio,
                   alpha_min=None if amin is None else _scalar(amin, row),
                   alpha_1se=None if a1se is None else _scalar(a1se, row),
                   df=_pick(est.df_path_, row, coefs.shape[1], "df_path_")
                   if getattr(est, "df_path_", None) is not None else None,
                   estimator_name=type(est).__name__)
        if disp.groups is not None:
            disp.group_names = _group_names(est, disp.groups)
        return disp.plot(ax=ax, **plot_kw)

    # ----------------------------------------------------------------------- plot
    def plot(self, ax=None, *, x="log_alpha", group_norms=False, labels="auto",
             show_selected=True, top_axis=True, line_kw=None):
        """Draw the path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure when None.
        x : {"log_alpha", "l1_norm", "deviance"}, default="log_alpha"
            The x axis: alpha on a log scale (glmnet's ``xvar="lambda"``; the most
            penalised, all-zero end on the right), the L1 norm of the coefficients
            (``xvar="norm"``), or the fraction of deviance explained (``xvar="dev"``;
            needs ``dev_ratio``, i.e. ``X, y`` in :meth:`from_estimator`).
        group_norms : bool, default=False
            For a group model, one line per group: its Euclidean norm ``‖w_g‖₂``.
        labels : {"auto", "legend", "end", None}, default="auto"
            Name the lines in a legend, or write each name at the least-penalised end of
            its line (glmnet's ``label=TRUE``). ``"auto"``: a legend when names are known
            and there are at most 12 lines.
        show_selected : bool, default=True
            Dashed vertical lines at ``alpha_min`` and ``alpha_1se`` when known.
        top_axis : bool, default=True
            The number of non-zero coefficients (or groups) on a top axis.
        line_kw : dict, default=None
            Keywords for every path line (``linewidth``, ...).

        Returns
        -------
        self
        """
        if x not in ("log_alpha", "l1_norm", "deviance"):
            raise ValueError(f"x must be 'log_alpha', 'l1_norm' or 'deviance'; got {x!r}.")
        if labels not in ("auto", "legend", "end", None, False):
            raise ValueError(f"labels must be 'auto', 'legend', 'end' or None; got {labels!r}.")
        alphas = np.asarray(self.alphas, dtype=float)
        coefs = np.asarray(self.coefs, dtype=float)
        groups = self.groups
        if group_norms and groups is None:
            raise ValueError("group_norms=True needs groups (a group model's groups_).")
        if x == "deviance" and self.dev_ratio is None:
            raise ValueError("x='deviance' needs the deviance ratio: pass X and y to "
                             "from_estimator, or dev_ratio to from_path.")
        ax = _get_ax(ax)
        line_kw = {"linewidth": 1.2, **(line_kw or {})}

        if x == "log_alpha":
            xs = alphas
            ax.set_xscale("log")
            ax.set_xlabel("alpha (log scale)")
        elif x == "l1_norm":
            xs = np.abs(coefs).sum(axis=0)
            ax.set_xlabel("L1 norm of the coefficients")
        else:
            xs = np.asarray(self.dev_ratio, dtype=float)
            ax.set_xlabel("Fraction of deviance explained (training R²)")
        self.x_ = xs

        if group_norms:
            ys = np.array([np.sqrt((coefs[g] ** 2).sum(axis=0)) for g in groups])
            names = self.group_names or [f"group {k}" for k in range(len(groups))]
            colors = [f"C{k % 10}" for k in range(len(groups))]
            ax.set_ylabel("Group norm ‖w_g‖₂")
        else:
            ys = coefs
            names = self.feature_names
            colors = [None] * coefs.shape[0]
            if groups is not None:
                colors = ["0.6"] * coefs.shape[0]  # unpenalised / ungrouped features: grey
                for k, g in enumerate(groups):
                    for j in g:
                        colors[j] = f"C{k % 10}"
            ax.set_ylabel("Coefficient")

        self.lines_ = []
        for k in range(ys.shape[0]):
            kw = dict(line_kw)
            if colors[k] is not None:
                kw.setdefault("color", colors[k])
            (line,) = ax.plot(xs, ys[k], **kw)
            self.lines_.append(line)
        ax.axhline(0.0, color="0.4", linewidth=0.6, zorder=0)

        # names: legend (one entry per group for a grouped coefficient plot) or line ends
        if labels == "auto":
            n_entries = len(groups) if (groups is not None and not group_norms) else ys.shape[0]
            known = names is not None or groups is not None
            labels = "legend" if known and n_entries <= 12 else None
        self.labels_ = []
        handles = []
        if labels == "legend":
            if groups is not None and not group_norms:
                gnames = self.group_names or [f"group {k}" for k in range(len(groups))]
                for k, g in enumerate(groups):
                    if len(g):
                        self.lines_[g[0]].set_label(gnames[k])
                        handles.append(self.lines_[g[0]])
            else:
                names = names or [f"x{k}" for k in range(ys.shape[0])]
                for line, name in zip(self.lines_, names):
                    line.set_label(name)
                    handles.append(line)
        elif labels == "end":
            names = names or [f"x{k}" for k in range(ys.shape[0])]
            end = int(np.argmin(alphas))  # least penalised point: left on a log-alpha axis
            left = x == "log_alpha"
            for k, name in enumerate(names):
                if ys[k, end] != 0:
                    self.labels_.append(ax.annotate(
                        name, (xs[end], ys[k, end]), xytext=(-3 if left else 3, 0),
                        textcoords="offset points", fontsize="small", va="center",
                        ha="right" if left else "left", color=self.lines_[k].get_color()))

        # the selected alphas
        self.vlines_ = {}
        if show_selected:
            for key, val, style, text in (
                    ("alpha_min", self.alpha_min, "--", "alpha_min"),
                    ("alpha_1se", self.alpha_1se, ":", "alpha_1se")):
                if val is None or not np.isfinite(val):
                    continue
                pos = val if x == "log_alpha" else xs[_nearest(alphas, val)]
                self.vlines_[key] = ax.axvline(pos, color="k", linestyle=style,
                                               linewidth=1.0,
                                               label=f"{text} = {_fmt(val)}")
        if handles:  # many entries: outside, right of the axes
            ax.legend(handles=handles + list(self.vlines_.values()), fontsize="small",
                      loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        elif self.vlines_:
            ax.legend(handles=list(self.vlines_.values()), fontsize="small", loc="best")

        self.top_ax_ = None
        if top_axis:
            if self.df is not None and not group_norms:
                counts, what = np.asarray(self.df, dtype=float), "Effective degrees of freedom"
            else:
                counts = _nonzero_counts(coefs, groups if group_norms else None)
                what = "Non-zero groups" if group_norms else "Non-zero coefficients"
            pos, cnt = _top_positions(xs, counts, log=x == "log_alpha")
            self.top_ax_ = _top_axis(ax, pos, cnt, what)
            self.top_counts_ = cnt
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: regularization path")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _deviance_ratio(X, y, coefs, sample_weight, fit_intercept, intercept_path=None):
    """1 − RSS(alpha) / RSS_null for each column of ``coefs``; see ``from_estimator``."""
    n = y.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if s.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},); got {s.shape}.")
    pred = np.asarray(X @ coefs)
    if intercept_path is not None:
        b = np.asarray(intercept_path, dtype=float)
        y_null = np.average(y, weights=s) if fit_intercept else 0.0
    elif fit_intercept:
        x_mean = np.asarray(X.T @ s).ravel() / s.sum()
        y_null = np.average(y, weights=s)
        b = y_null - x_mean @ coefs
    else:
        b, y_null = 0.0, 0.0
    rss = s @ (y[:, None] - pred - b) ** 2
    null = s @ (y - y_null) ** 2
    return 1.0 - rss / null


# --------------------------------------------------------------------------- CV display
class CVErrorDisplay:
    """Mean cross-validation error with standard-error bars along the alpha grid.

    The analogue of R's ``plot(cvfit)``: red dots at the mean CV error, grey bars of one
    standard error, dashed vertical lines at ``alpha_min`` (lowest mean error) and
    ``alpha_1se`` (the most penalised alpha within one standard error of it), and the
    number of non-zero coefficients on a top axis. Build it with :meth:`from_estimator`
    (a ``*PathCV``/``*CV`` estimator, a ``Pipeline`` ending in one, scikit-learn's
    ``LassoCV``/``ElasticNetCV``, or a fitted ``GridSearchCV``), :meth:`from_path` (fold
    errors as arrays) or :meth:`from_cv_results`.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
        Parameter values (x axis).
    mean : ndarray of shape (n_alphas,)
        Mean CV error (lower is better).
    se : ndarray of shape (n_alphas,), default=None
        Its standard error; no bars when None.
    alpha_min, alpha_1se : float, default=None
        The two candidates, marked by vertical lines.
    n_nonzero : ndarray of shape (n_alphas,), default=None
        Non-zero coefficients (or groups) at each alpha, for the top axis.
    nonzero_label : str, default="Non-zero coefficients"
    ylabel : str, default="Mean squared error (CV)"
    xlabel : str, default="alpha (log scale)"
    param_name : str, default="alpha"
        The parameter's name in the legend of the vertical lines.
    estimator_name : str, default=None
        Used in the title.

    Attributes
    ----------
    errorbar_ : matplotlib ErrorbarContainer or None
    line_ : matplotlib Line2D
        The mean-error markers.
    vlines_ : dict
        ``{"alpha_min": Line2D, "alpha_1se": Line2D}``.
    ax_, figure_, top_ax_ :
        The axes, its figure and the top axis (None without non-zero counts).
    """

    def __init__(self, *, alphas, mean, se=None, alpha_min=None, alpha_1se=None,
                 n_nonzero=None, nonzero_label="Non-zero coefficients",
                 ylabel="Mean squared error (CV)", xlabel="alpha (log scale)",
                 param_name="alpha", estimator_name=None):
        self.alphas = alphas
        self.mean = mean
        self.se = se
        self.alpha_min = alpha_min
        self.alpha_1se = alpha_1se
        self.n_nonzero = n_nonzero
        self.nonzero_label = nonzero_label
        self.ylabel = ylabel
        self.xlabel = xlabel
        self.param_name = param_name
        self.estimator_name = estimator_name

    @classmethod
    def from_path(cls, alphas, mse_path, *, fold_weights=None, se="glmnet", coef_path=None,
                  groups=None, ax=None, **plot_kw):
        """Draw the CV curve from held-out errors on each fold.

        Mean, standard error and the two alphas come from the package's shared rule
        (:func:`~sklearn_normpen.selection.cv_statistics`,
        :func:`~sklearn_normpen.selection.select_min_1se`).

        Parameters
        ----------
        alphas : array-like of shape (n_alphas,)
        mse_path : array-like of shape (n_alphas, n_folds)
            Held-out error of each alpha on each fold (scikit-learn's ``mse_path_``).
        fold_weights : array-like of shape (n_folds,), default=None
            Fold weights (e.g. held-out sizes); equal when None.
        se : {"glmnet", "std"}, default="glmnet"
        coef_path : array-like of shape (n_features, n_alphas), default=None
            Full-data coefficients, for the non-zero counts of the top axis.
        groups : list of int arrays, default=None
            Count non-zero groups instead of coefficients.
        ax : matplotlib Axes, default=None
        **plot_kw
            Keywords of :meth:`plot`.
        """
        alphas = np.asarray(alphas, dtype=float).ravel()
        e = np.asarray(mse_path, dtype=float)
        if e.ndim != 2 or e.shape[0] != alphas.size:
            raise ValueError(f"mse_path must have shape (n_alphas={alphas.size}, n_folds); "
                             f"got {e.shape}.")
        mean, std_error = cv_statistics(e, fold_weights, se=se)
        i_min, i_1se = select_min_1se(mean, std_error, alphas)
        nnz = None
        if coef_path is not None:
            nnz = _nonzero_counts(np.asarray(coef_path, dtype=float), groups)
        disp = cls(alphas=alphas, mean=mean, se=std_error, alpha_min=alphas[i_min],
                   alpha_1se=alphas[i_1se], n_nonzero=nnz,
                   nonzero_label="Non-zero groups" if groups is not None
                   else "Non-zero coefficients")
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_cv_results(cls, cv_results, param_name, *, score_name="score", simpler="larger",
                        se="glmnet", fold_weights=None, fixed_params=None, ylabel=None,
                        ax=None, **plot_kw):
        """Draw the CV curve of a ``GridSearchCV``/``RandomizedSearchCV`` over one parameter.

        The error is the negated score; its mean, standard error and the two candidates
        come from :func:`sklearn_normpen.model_selection.cv_results_statistics`, the
        computation of :func:`~sklearn_normpen.model_selection.one_se_refit`.

        Parameters
        ----------
        cv_results : dict
            ``cv_results_`` of the search.
        param_name : str
            The parameter on the x axis (e.g. ``"model__alpha"``); numeric.
        score_name, simpler, se, fold_weights :
            As in :func:`~sklearn_normpen.model_selection.one_se_refit`.
        fixed_params : dict, default=None
            When other parameters were searched too, the curve is drawn for the candidates
            with these values of them (default: those of the λ_min candidate). The
            vertical lines mark the λ_min and λ_1se candidates of the whole search.
        ylabel : str, default=None
            The y label; ``"−<score_name> (CV loss)"`` when None.
        ax : matplotlib Axes, default=None
        **plot_kw
            Keywords of :meth:`plot`.
        """
        from .model_selection import cv_results_statistics

        st = cv_results_statistics(cv_results, param_name, score_name=score_name,
                                   simpler=simpler, se=se, fold_weights=fold_weights)
        params = list(cv_results["params"])
        ref = dict(params[st["i_min"]]) if fixed_params is None else dict(fixed_params)
        ref.pop(param_name, None)
        keep = np.array([all(p.get(k, None) == v for k, v in ref.items()) for p in params])
        if not keep.any():
            raise ValueError(f"no candidate has the parameters {ref}.")
        x = st["param"][keep]
        order = np.argsort(-x)  # decreasing, as an alpha path
        xlabel = f"{param_name} (log scale)" if np.all(x > 0) else param_name
        disp = cls(alphas=x[order], mean=st["mean"][keep][order], se=st["se"][keep][order],
                   alpha_min=st["param"][st["i_min"]], alpha_1se=st["param"][st["i_1se"]],
                   ylabel=ylabel or f"−{score_name} (CV loss)", xlabel=xlabel,
                   param_name=param_name)
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_estimator(cls, estimator, *, param_name=None, target=None, score_name=None,
                       simpler=None, se=None, fold_weights=None, ax=None, **plot_kw):
        """Draw the CV curve of a fitted CV estimator or search.

        Parameters
        ----------
        estimator : fitted estimator, Pipeline or GridSearchCV
            * a ``*PathCV``/``*CV`` estimator of the package (or a ``Pipeline`` ending in
              one): its ``alphas_``, ``cv_mean_``, ``cv_se_``, ``alpha_min_``,
              ``alpha_1se_`` and ``coef_path_``, for the chosen ``l1_ratio_``;
            * scikit-learn's ``LassoCV``/``ElasticNetCV``: statistics computed from
              ``mse_path_`` with equal fold weights by the package's rule;
            * a fitted ``GridSearchCV``/``RandomizedSearchCV``: see
              :meth:`from_cv_results`. When its ``refit`` is a
              :func:`~sklearn_normpen.model_selection.one_se_refit` callable, that
              callable's settings are the defaults of the four keywords below, so the
              marked λ_1se is the refitted candidate.
        param_name : str, default=None
            For a search: the parameter on the x axis; required when several parameters
            were searched and ``refit`` does not name one.
        target : int, default=None
            Which target to draw for a multi-target model.
        score_name, simpler, se, fold_weights : default=None
            As in :func:`~sklearn_normpen.model_selection.one_se_refit` (defaults
            ``"score"``, ``"larger"``, ``"glmnet"``, equal weights). ``se`` also applies to
            scikit-learn's ``LassoCV``/``ElasticNetCV``.
        ax : matplotlib Axes, default=None
        **plot_kw
            Keywords of :meth:`plot`.
        """
        from .model_selection import _OneSERefit

        refit = getattr(estimator, "refit", None)
        if isinstance(refit, _OneSERefit):
            param_name = refit.param_name if param_name is None else param_name
            score_name = refit.score_name if score_name is None else score_name
            simpler = refit.simpler if simpler is None else simpler
            se = refit.se if se is None else se
            fold_weights = refit.fold_weights if fold_weights is None else fold_weights
        score_name = "score" if score_name is None else score_name
        simpler = "larger" if simpler is None else simpler
        se = "glmnet" if se is None else se

        if hasattr(estimator, "cv_results_"):
            if param_name is None:
                names = [k[len("param_"):] for k in estimator.cv_results_
                         if k.startswith("param_")]
                if len(names) != 1:
                    raise ValueError(f"pass param_name= (one of {names}).")
                param_name = names[0]
            scoring = getattr(estimator, "scoring", None)
            ylabel = None
            key = scoring if isinstance(scoring, str) else None
            if isinstance(scoring, dict) and isinstance(scoring.get(score_name), str):
                key = scoring[score_name]
            if isinstance(key, str) and key.startswith("neg_"):
                ylabel = key[4:].replace("_", " ").capitalize() + " (CV)"
            elif scoring is None:
                ylabel = "−score (CV loss)"
            return cls.from_cv_results(
                estimator.cv_results_, param_name, score_name=score_name, simpler=simpler,
                se=se, fold_weights=fold_weights, ylabel=ylabel, ax=ax, **plot_kw)

        est, _ = _unwrap(estimator)
        if not hasattr(est, "alphas_"):
            raise TypeError(f"{type(est).__name__} is not a fitted CV estimator (no alphas_).")
        row = _cv_row_index(est, target)
        if hasattr(est, "cv_mean_"):
            alphas = _pick(est.alphas_, row, None, "alphas_")
            if np.ndim(alphas) != 1:
                raise ValueError("cannot tell which alpha path to draw.")
            mean = _pick(est.cv_mean_, row, alphas.size, "cv_mean_")
            se_attr = getattr(est, "cv_se_", None)
            std_error = None if se_attr is None else _pick(se_attr, row, alphas.size, "cv_se_")
            amin = getattr(est, "alpha_min_", None)
            a1se = getattr(est, "alpha_1se_", None)
            amin = None if amin is None else _scalar(amin, row)
            a1se = None if a1se is None else _scalar(a1se, row)
        elif hasattr(est, "mse_path_"):  # scikit-learn's LassoCV / ElasticNetCV
            alphas = _pick(est.alphas_, row, None, "alphas_")
            e = np.asarray(est.mse_path_, dtype=float)
            e = e[row] if e.ndim == 3 else e
            mean, std_error = cv_statistics(e, se=se)
            i_min, i_1se = select_min_1se(mean, std_error, alphas)
            amin, a1se = alphas[i_min], alphas[i_1se]
        else:
            raise TypeError(f"{type(est).__name__} has neither cv_mean_ nor mse_path_.")
        if std_error is not None and not np.isfinite(std_error).any():
            std_error = None  # e.g. GCV: no standard error is defined
        top, top_label = _top_values(est, row if row is not None else target, alphas.size)
        name = type(est).__name__
        if hasattr(est, "l1_ratio_") and np.ndim(getattr(est, "l1_ratio", 0)) > 0:
            name += f" (l1_ratio = {_fmt(float(est.l1_ratio_))})"
        if target is not None and row is not None:
            name += f", target {target}"
        ylabel = {"loo": "Mean squared error (leave-one-out)",
                  "gcv": "GCV criterion"}.get(getattr(est, "criterion_", None),
                                              "Mean squared error (CV)")
        if getattr(est, "measure_name_", None):  # a GLM's CV measure, e.g. deviance
            ylabel = f"{est.measure_name_} (CV)"
        disp = cls(alphas=alphas, mean=mean, se=std_error, alpha_min=amin, alpha_1se=a1se,
                   n_nonzero=top, nonzero_label=top_label, ylabel=ylabel,
                   estimator_name=name)
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax=None, *, show_selected=True, top_axis=True, legend=True,
             errorbar_kw=None):
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure when None.
        show_selected : bool, default=True
            Vertical lines at ``alpha_min`` (dashed) and ``alpha_1se`` (dotted).
        top_axis : bool, default=True
            Non-zero counts on a top axis, when known.
        legend : bool, default=True
        errorbar_kw : dict, default=None
            Keywords for :meth:`matplotlib.axes.Axes.errorbar`.

        Returns
        -------
        self
        """
        alphas = np.asarray(self.alphas, dtype=float)
        mean = np.asarray(self.mean, dtype=float)
        ax = _get_ax(ax)
        kw = {"fmt": "o", "color": "tab:red", "ecolor": "0.55", "markersize": 4,
              "capsize": 2, "elinewidth": 1, "label": "mean CV error ± 1 SE"}
        if self.se is None:
            kw["label"] = "mean CV error"
        kw.update(errorbar_kw or {})
        self.errorbar_ = ax.errorbar(alphas, mean, yerr=self.se, **kw)
        self.line_ = self.errorbar_.lines[0]
        if np.all(alphas > 0):
            ax.set_xscale("log")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)

        self.vlines_ = {}
        if show_selected:
            name = self.param_name
            for key, val, style, what in (
                    ("alpha_min", self.alpha_min, "--", "min: lowest mean error"),
                    ("alpha_1se", self.alpha_1se, ":", "1se: simplest within 1 SE")):
                if val is None or not np.isfinite(val):
                    continue
                self.vlines_[key] = ax.axvline(
                    val, color="k", linestyle=style, linewidth=1.0,
                    label=f"{what} ({name} = {_fmt(val)})")
        if legend:
            ax.legend(fontsize="small", loc="best")

        self.top_ax_ = None
        if top_axis and self.n_nonzero is not None:
            pos, cnt = _top_positions(alphas, np.asarray(self.n_nonzero),
                                      log=bool(np.all(alphas > 0)))
            self.top_ax_ = _top_axis(ax, pos, cnt, self.nonzero_label)
            self.top_counts_ = cnt
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


# --------------------------------------------------------------------- stability display
class StabilityPathDisplay:
    """Stability paths: the selection probability of each feature (or group) against
    alpha, the stable ones highlighted, the threshold as a horizontal line.

    Build it with :meth:`from_estimator` (a fitted
    :class:`~sklearn_normpen.StabilitySelection`, or a ``Pipeline`` containing one) and
    draw it with :meth:`plot`.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
    probabilities : ndarray of shape (n_units, n_alphas)
        ``Π̂_j(alpha)``.
    threshold : float, default=None
    stable : array-like of int, default=None
        Indices of the stable units (drawn in colour; the others in grey).
    unit_names : list of str, default=None
        Legend labels of the stable units.
    bound : float, default=None
        The bound on the expected number of false selections, shown in the title.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One per unit, in order.
    threshold_line_ : matplotlib Line2D or None
    ax_, figure_ :
    """

    def __init__(self, *, alphas, probabilities, threshold=None, stable=None,
                 unit_names=None, bound=None):
        self.alphas = alphas
        self.probabilities = probabilities
        self.threshold = threshold
        self.stable = stable
        self.unit_names = unit_names
        self.bound = bound

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **plot_kw):
        """Draw the stability paths of a fitted ``StabilitySelection`` (or a Pipeline
        containing one; its first ``StabilitySelection`` step is drawn).

        Returns
        -------
        display : StabilityPathDisplay
        """
        est = estimator
        if hasattr(estimator, "steps"):
            found = [s for _, s in estimator.steps if hasattr(s, "selection_probabilities_")]
            if not found:
                raise ValueError("the Pipeline has no fitted StabilitySelection step.")
            est = found[0]
        if not hasattr(est, "selection_probabilities_"):
            raise ValueError(f"{type(est).__name__} is not a fitted StabilitySelection "
                             "(no selection_probabilities_).")
        names = getattr(est, "feature_names_in_", None)
        groups = est.groups_
        if names is not None:
            unit_names = [str(names[g[0]]) if len(g) == 1 else
                          "{" + ", ".join(str(names[j]) for j in g) + "}" for g in groups]
        else:
            unit_names = [f"x{g[0]}" if len(g) == 1 else f"group {k}"
                          for k, g in enumerate(groups)]
        disp = cls(alphas=est.alphas_, probabilities=est.selection_probabilities_,
                   threshold=est.threshold_, stable=est.stable_units_, unit_names=unit_names,
                   bound=est.false_selection_bound_)
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax=None, *, legend=True):
        """Draw the paths (x: alpha on a log scale, decreasing to the right as glmnet).

        Returns
        -------
        self
        """
        alphas = np.asarray(self.alphas, dtype=float)
        P = np.asarray(self.probabilities, dtype=float)
        if P.ndim != 2 or P.shape[1] != alphas.size:
            raise ValueError(f"probabilities must have shape (n_units, {alphas.size}); got "
                             f"{P.shape}.")
        ax = _get_ax(ax)
        stable = set() if self.stable is None else {int(i) for i in self.stable}
        names = self.unit_names
        self.lines_ = []
        for j in range(P.shape[0]):
            if j in stable:
                label = names[j] if names is not None else f"unit {j}"
                (ln,) = ax.plot(alphas, P[j], linewidth=1.8, label=label)
            else:
                (ln,) = ax.plot(alphas, P[j], color="0.7", linewidth=0.8)
            self.lines_.append(ln)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("alpha (log scale)")
        ax.set_ylabel("selection probability")
        self.threshold_line_ = None
        if self.threshold is not None:
            self.threshold_line_ = ax.axhline(self.threshold, color="k", linestyle="--",
                                              linewidth=1.0,
                                              label=f"threshold {_fmt(self.threshold)}")
        if self.bound is not None:
            ax.set_title(f"Stability paths (E[false selections] <= {_fmt(self.bound)})")
        if legend and (stable or self.threshold is not None):
            ax.legend(fontsize="small", loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
