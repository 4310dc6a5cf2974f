"""Reading a fitted path: coefficients, intercepts and predictions at any alpha, and the
path summary table — one implementation for every ``*PathCV`` estimator (mixed into
:class:`sklearn_normpen._cv.PathCVMixin`).

Names (one per concept, used by every path-CV estimator):

* ``coef_at(alpha, l1_ratio=None)``, ``intercept_at(...)``, ``predict_at(X, alpha, ...)``:
  ``alpha`` is ``"min"`` (λ_min), ``"1se"`` (λ_1se), a float, or a 1-D array of floats.
  ``predict(X)`` stays scikit-learn's (the model at ``alpha_``).
* ``path_summary(l1_ratio=None)``: glmnet's ``print(fit)`` as a table.

Between grid points the coefficients are interpolated as glmnet's ``coef(fit, s=)`` /
``predict(fit, s=)`` do by default (``exact=FALSE``, its ``lambda.interp``): linearly in
alpha between the two neighbouring grid points. At a grid point the stored solution is
returned unchanged. Nothing is refitted, so each call costs microseconds.
"""
import numpy as np
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._validation import validate_X_predict
from .selection import select_min_1se

#: relative tolerance under which an alpha is taken to be a grid point
_GRID_RTOL = 1e-10


class PathAccessMixin:
    """Accessors of a fitted full-data path (``alphas_``, ``coef_path_``,
    ``intercept_path_``, ``cv_mean_``, ``cv_se_``; one row per ``l1_ratio`` when several
    were cross-validated)."""

    # -- which path ------------------------------------------------------------------------
    def _l1_ratios(self):
        return np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))

    def _multi_path(self):
        return np.ndim(self.alphas_) == 2

    def _path_row(self, l1_ratio):
        """Index of ``l1_ratio`` (default ``l1_ratio_``) among the cross-validated ones."""
        ratios = self._l1_ratios()
        target = self.l1_ratio_ if l1_ratio is None else l1_ratio
        try:
            target = float(target)
        except (TypeError, ValueError):
            raise ValueError(f"l1_ratio must be one of the fitted values {ratios.tolist()} "
                             f"or None; got {l1_ratio!r}.") from None
        idx = np.flatnonzero(np.isclose(ratios, target, rtol=0, atol=1e-12))
        if idx.size == 0:
            raise ValueError(f"l1_ratio={l1_ratio!r} was not cross-validated; the fitted "
                             f"values are {ratios.tolist()}.")
        return int(idx[0])

    def _path_arrays(self, row):
        """``(alphas, coefs (n_features, n_alphas), intercepts, cv_mean, cv_se)`` of a row."""
        if self._multi_path():
            cp = np.asarray(self.coef_path_)
            ip = np.asarray(self.intercept_path_)
            mean, se = self.cv_mean_[row], self.cv_se_[row]
            return self.alphas_[row], cp[row], ip[row], mean, se
        return (self.alphas_, np.asarray(self.coef_path_), np.asarray(self.intercept_path_),
                self.cv_mean_, self.cv_se_)

    # -- which alpha -----------------------------------------------------------------------
    def _weights(self, alpha, row):
        """``(left, right, frac)`` arrays such that the model at each requested alpha is
        ``frac·path[left] + (1 - frac)·path[right]``; ``scalar`` says whether one alpha was
        asked for."""
        alphas, _, _, mean, se = self._path_arrays(row)
        if isinstance(alpha, str):
            if alpha not in ("min", "1se"):
                raise ValueError(f"alpha must be 'min', '1se', a float or an array of floats; "
                                 f"got {alpha!r}.")
            i_min, i_1se = select_min_1se(mean, se, alphas)
            i = np.array([i_min if alpha == "min" else i_1se])
            return i, i, np.ones(1), True
        scalar = np.ndim(alpha) == 0
        try:
            a = np.atleast_1d(np.asarray(alpha, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"alpha must be 'min', '1se', a float or an array of floats; "
                             f"got {alpha!r}.") from None
        if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"alpha must be 'min', '1se', a finite float or a non-empty 1-D "
                             f"array of finite floats; got {alpha!r}.")
        hi, lo = float(alphas[0]), float(alphas[-1])
        outside = (a > hi * (1 + _GRID_RTOL)) | (a < lo * (1 - _GRID_RTOL))
        if outside.any():
            raise ValueError(
                f"alpha={a[outside][0]!r} is outside the fitted path [{lo:.6g}, {hi:.6g}]; "
                "coefficients are only defined on the fitted range (refit with a grid that "
                "covers it).")
        # decreasing grid: position of each alpha, then the two neighbours
        k = alphas.shape[0]
        left = np.empty(a.size, dtype=np.intp)
        right = np.empty(a.size, dtype=np.intp)
        frac = np.ones(a.size)
        for m, v in enumerate(a):
            near = np.flatnonzero(np.abs(alphas - v) <= _GRID_RTOL * np.abs(alphas))
            if near.size:
                left[m] = right[m] = near[0]
                continue
            j = int(np.searchsorted(-alphas, -v))  # alphas[j-1] > v > alphas[j]
            j = min(max(j, 1), k - 1)
            left[m], right[m] = j - 1, j
            frac[m] = (v - alphas[j]) / (alphas[j - 1] - alphas[j])
        return left, right, frac, scalar

    # -- the accessors -----------------------------------------------------------------------
    def coef_at(self, alpha="min", l1_ratio=None):
        """Coefficients of the full-data path at ``alpha``, without refitting.

        Parameters
        ----------
        alpha : {"min", "1se"}, float or array-like of float, default="min"
            ``"min"``/``"1se"``: the path's λ_min / λ_1se (for ``l1_ratio_`` these are
            ``alpha_min_`` / ``alpha_1se_``; for another ``l1_ratio`` that path's own
            choices by the same rule). A float must lie within the fitted grid: at a grid
            point the stored solution is returned, between two grid points the solution
            is interpolated linearly in alpha between them (glmnet's ``coef(fit, s=)``
            with ``exact=FALSE``). Outside the grid a ``ValueError`` is raised.
        l1_ratio : float, default=None
            Which cross-validated ``l1_ratio``; default ``l1_ratio_``.

        Returns
        -------
        coef : ndarray of shape (n_features,) or (n_features, n_requested)
            One column per requested alpha when ``alpha`` is an array.
        """
        check_is_fitted(self, "coef_path_")
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        cp = self._path_arrays(row)[1]
        out = self._mix(cp[:, left], cp[:, right], frac)
        return out[:, 0] if scalar else out

    def intercept_at(self, alpha="min", l1_ratio=None):
        """Intercept of the full-data path at ``alpha`` (0 without an intercept); same
        ``alpha`` / ``l1_ratio`` and interpolation as :meth:`coef_at`.

        Returns
        -------
        intercept : float or ndarray of shape (n_requested,)
        """
        check_is_fitted(self, "coef_path_")
        row = self._path_row(l1_ratio)
        left, right, frac, scalar = self._weights(alpha, row)
        ip = np.asarray(self._path_arrays(row)[2], dtype=np.float64)
        out = frac * ip[left] + (1 - frac) * ip[right]
        return float(out[0]) if scalar else out

    def predict_at(self, X, alpha="min", l1_ratio=None):
        """Predictions of the full-data path at ``alpha`` (``predict(X)`` is the model at
        ``alpha_``); same ``alpha`` / ``l1_ratio`` and interpolation as :meth:`coef_at`
        (the interpolated model is linear in its coefficients, so interpolating the
        predictions is the same).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        alpha : {"min", "1se"}, float or array-like of float, default="min"
        l1_ratio : float, default=None

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_requested)
        """
        check_is_fitted(self, "coef_path_")
        X = validate_X_predict(self, X)
        coef = self.coef_at(alpha, l1_ratio)
        intercept = self.intercept_at(alpha, l1_ratio)
        coef = np.asarray(coef, dtype=X.dtype)
        return safe_sparse_dot(X, coef, dense_output=True) + np.asarray(intercept,
                                                                         dtype=X.dtype)

    @staticmethod
    def _mix(a, b, frac):
        if np.all(frac == 1):
            return np.array(a)  # grid points: the stored values, bit for bit
        return (frac * a + (1 - frac) * b).astype(a.dtype, copy=False)

    # -- the summary -------------------------------------------------------------------------
    def path_summary(self, l1_ratio=None):
        """The fitted path as a table, glmnet's ``print(fit)`` plus the CV statistics.

        Columns: ``alpha``; ``n_nonzero`` (non-zero coefficients; glmnet's ``Df``);
        ``n_nonzero_groups`` for group estimators; ``dev_ratio`` (fraction of the null
        deviance explained on the training data, glmnet's ``%Dev`` / 100); ``cv_mean`` and
        ``cv_se`` (the CV mean error and its standard error); ``dual_gap`` (the certified
        duality gap of the point).

        Parameters
        ----------
        l1_ratio : float, default=None
            Which cross-validated ``l1_ratio``; default ``l1_ratio_``.

        Returns
        -------
        table : pandas.DataFrame, or a NumPy structured array when pandas is not installed
        """
        check_is_fitted(self, "coef_path_")
        row = self._path_row(l1_ratio)
        alphas, cp, _, mean, se = self._path_arrays(row)
        # a multi-response path (n_responses, n_features, n_alphas) counts features (Df)
        nz = cp if cp.ndim == 2 else np.any(cp != 0, axis=0)
        cols = {"alpha": np.asarray(alphas, dtype=np.float64),
                "n_nonzero": np.count_nonzero(nz, axis=0).astype(np.int64)}
        groups = getattr(self, "groups_", None)
        if groups is not None:
            cols["n_nonzero_groups"] = np.array(
                [sum(bool(np.any(cp[np.asarray(g, dtype=np.intp), k] != 0)) for g in groups)
                 for k in range(cp.shape[1])], dtype=np.int64)
        dev = getattr(self, "dev_ratio_path_", None)
        if dev is not None:
            cols["dev_ratio"] = np.asarray(dev[row] if self._multi_path() else dev,
                                           dtype=np.float64)
        cols["cv_mean"] = np.asarray(mean, dtype=np.float64)
        cols["cv_se"] = np.asarray(se, dtype=np.float64)
        gaps = np.asarray(self.dual_gap_path_)
        cols["dual_gap"] = np.asarray(gaps[row] if gaps.ndim == 2 else gaps, np.float64)
        try:
            import pandas as pd
        except ImportError:
            out = np.empty(cols["alpha"].shape[0],
                           dtype=[(k, v.dtype) for k, v in cols.items()])
            for k, v in cols.items():
                out[k] = v
            return out
        return pd.DataFrame(cols)

    def print_path(self, l1_ratio=None, file=None):
        """Print :meth:`path_summary` with the chosen alphas marked (glmnet's
        ``print(cv.glmnet)``); the estimator's ``repr`` stays scikit-learn's.

        Parameters
        ----------
        l1_ratio : float, default=None
        file : file-like, default=None
            Where to write (default ``sys.stdout``).
        """
        import sys
        file = sys.stdout if file is None else file
        row = self._path_row(l1_ratio)
        tab = self.path_summary(l1_ratio)
        names = list(tab.columns) if hasattr(tab, "columns") else list(tab.dtype.names)
        alphas, _, _, mean, se = self._path_arrays(row)
        i_min, i_1se = select_min_1se(mean, se, alphas)
        ratio = self._l1_ratios()[row]
        print(f"{type(self).__name__}  l1_ratio={ratio:g}  rule={self.rule!r}  "
              f"alpha_min={alphas[i_min]:.6g}  alpha_1se={alphas[i_1se]:.6g}", file=file)
        print("      " + "".join(f"{n:>17}" for n in names), file=file)
        for k in range(len(alphas)):
            mark = "min" if k == i_min else "1se" if k == i_1se else ""
            vals = "".join(f"{_fmt(tab[n][k]):>17}" for n in names)
            print(f"{mark:>3} {k:>2}" + vals, file=file)


def _fmt(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{float(v):.6g}"
