"""(Sparse-)group lasso penalised Poisson regression (log link), certified.

Objective (counts ``y >= 0``, sample weights ``s``, ``c_g`` group weights, default
``sqrt(|g|)``)::

    1/Σs · Σ_i s_i [e^{η_i} - y_i η_i]
        + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) Σ_g c_g ||w_g||_2),   η = Xw + b.

Built as the group classifiers (:mod:`sklearn_normpen.group_classification`): proximal
Newton whose weighted least-squares models are solved by the group lasso's block
coordinate descent, the Poisson duality gap as certificate, glmnet's early path stop, the
Poisson CV measures of :mod:`sklearn_normpen.poisson`.
"""
from ._compat import StrOptions, _fit_context
from ._cv import PathCVMixin
from ._validation import validate_array_params
from .classification import _check_tol
from .datafits import Poisson
from .group_classification import (_fit_group_glm, _fit_group_glm_path_cv,
                                   _GroupGLMParams, _GroupGLMPathCVParams)
from .poisson import MEASURES, _PoissonBase, _validate_counts, count_folds


class GroupLassoPoissonRegressor(_GroupGLMParams, _PoissonBase):
    """Poisson regression (log link) with a (sparse-)group lasso penalty, fitted to a
    certified duality gap.

    Minimises ``1/Σs·Σ s_i [e^{η_i} - y_i η_i] + alpha·(l1_ratio·||w||_1
    + (1 - l1_ratio)·Σ_g c_g ||w_g||_2)``, ``η = Xw + b``. With every feature its own
    group of weight 1 it is the Poisson lasso for any ``l1_ratio``:
    :class:`~sklearn_normpen.ElasticNetPoissonRegressor` with ``l1_ratio=1`` (and the same
    ``standardize``).

    Parameters
    ----------
    groups, alpha, l1_ratio, group_weights, fit_intercept, standardize, max_iter, \
exclude, lower_limits, upper_limits
        As in :class:`~sklearn_normpen.GroupLassoClassifier` (defaults: ``alpha=0.01``,
        ``l1_ratio=0.0`` the group lasso, group weights ``sqrt(|g|)``). Groups of weight 0
        and features in no group are unpenalised.
    tol : float, default=1e-4
        Accepted when the duality gap is at most ``tol`` times half the null deviance
        (the intercept-only loss minus the saturated one).

    Attributes
    ----------
    coef_ (n_features,), intercept_ (float), dual_gap_, kkt_violation_, n_iter_, \
n_features_in_, feature_names_in_
        As :class:`~sklearn_normpen.ElasticNetPoissonRegressor`.

    Notes
    -----
    ``predict`` returns the mean ``e^η``; ``score`` is D² (deviance explained).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model on non-negative counts ``y`` (or rates, with exposures as
        ``sample_weight``); X dense or sparse. Returns ``self``."""
        validate_array_params(self)
        X, y, sw = _validate_counts(self, X, y, sample_weight)
        _check_tol(self.tol, self.max_iter)
        _fit_group_glm(self, X, y, sw, Poisson)
        return self


class GroupLassoPoissonRegressorPathCV(_GroupGLMPathCVParams, PathCVMixin, _PoissonBase):
    """Poisson regression with a (sparse-)group lasso penalty whose whole path is
    cross-validated (glmnet's Poisson measures, λ_min / λ_1se).

    Fits the certified path on the full data (it may stop early, as glmnet's does: the
    deviance ratio above 0.999, e.g. counts with huge means, or its relative change
    below 1e-5; ``path_stop_reason_`` says why), then on every training fold over that
    grid, and picks ``alpha_min_`` or ``alpha_1se_``.

    Parameters and attributes as :class:`~sklearn_normpen.GroupLassoClassifierPathCV`
    (``tol`` as in :class:`GroupLassoPoissonRegressor`), except: ``cv`` as an int gives
    ``KFold`` (shuffled with ``random_state`` when set), and ``measure`` is one of
    ``"deviance"`` (Poisson deviance, default), ``"mse"``, ``"mae"`` (of the mean
    ``e^η``), as :class:`~sklearn_normpen.ElasticNetPoissonRegressorPathCV`; ``coef_`` of
    shape (n_features,) and a float ``intercept_``, as scikit-learn's ``PoissonRegressor``.
    """

    _parameter_constraints = {**_GroupGLMPathCVParams._parameter_constraints,
                              "measure": [StrOptions(set(MEASURES))]}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the path on non-negative counts ``y``, cross-validate it (``groups``: sample
        groups for a group-aware ``cv`` splitter; the feature groups are the ``groups``
        parameter), choose alpha (and l1_ratio). Returns ``self``."""
        validate_array_params(self)
        X, y, sw = _validate_counts(self, X, y, sample_weight)
        _check_tol(self.tol, self.max_iter)
        _fit_group_glm_path_cv(self, X, y, sw, groups, Poisson, MEASURES[self.measure],
                               count_folds(self, X))
        return self
