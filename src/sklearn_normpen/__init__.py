"""sklearn_normpen: certified, fast parameter-norm-penalty estimators for scikit-learn.

Elastic net / lasso paths with K-fold CV and the 1-SE rule, (sparse-)group lasso, and ridge
in the spectral basis, with Cython solvers that stop on a duality gap.
"""
__version__ = "0.1.0.dev0"

import logging as _logging  # noqa: E402

# progress messages (CV folds, path segments) go to the "sklearn_normpen" logger: silent
# unless the application configures logging (library convention: a NullHandler only)
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

from ._dask import dask_fold_labels  # noqa: E402
from .classification import ElasticNetClassifier, ElasticNetClassifierPathCV  # noqa: E402
from .criteria import ElasticNetIC, GroupLassoIC  # noqa: E402
from .elastic_net import ElasticNetPathCV, enet_path  # noqa: E402
from .group_classification import GroupLassoClassifier, GroupLassoClassifierPathCV  # noqa: E402
from .elastic_net_regressor import ElasticNetRegressor  # noqa: E402
from .group_lasso import GroupLassoPathCV, GroupLassoRegressor, group_lasso_path  # noqa: E402
from .group_poisson import (GroupLassoPoissonRegressor,  # noqa: E402
                            GroupLassoPoissonRegressorPathCV)
from .multitask import (MultiTaskElasticNetPathCV,  # noqa: E402
                        MultiTaskElasticNetRegressor, multitask_enet_path)
from .multitask_group import (MultiTaskGroupLassoPathCV,  # noqa: E402
                              MultiTaskGroupLassoRegressor, multitask_group_lasso_path)
from .poisson import ElasticNetPoissonRegressor, ElasticNetPoissonRegressorPathCV  # noqa: E402
from .plotting import (CVErrorDisplay, RegularizationPathDisplay,  # noqa: E402
                       StabilityPathDisplay)
from .stability import StabilitySelection  # noqa: E402
from .spectral_ridge import SpectralRidge, SpectralRidgeCV  # noqa: E402

__all__ = [
    "__version__",
    "CVErrorDisplay",
    "dask_fold_labels",
    "ElasticNetClassifier",
    "ElasticNetClassifierPathCV",
    "ElasticNetIC",
    "ElasticNetPathCV",
    "ElasticNetPoissonRegressor",
    "ElasticNetPoissonRegressorPathCV",
    "ElasticNetRegressor",
    "enet_path",
    "GroupLassoClassifier",
    "GroupLassoClassifierPathCV",
    "GroupLassoIC",
    "GroupLassoPathCV",
    "GroupLassoPoissonRegressor",
    "GroupLassoPoissonRegressorPathCV",
    "GroupLassoRegressor",
    "group_lasso_path",
    "MultiTaskElasticNetPathCV",
    "MultiTaskElasticNetRegressor",
    "MultiTaskGroupLassoPathCV",
    "MultiTaskGroupLassoRegressor",
    "multitask_enet_path",
    "multitask_group_lasso_path",
    "RegularizationPathDisplay",
    "SpectralRidge",
    "SpectralRidgeCV",
    "StabilityPathDisplay",
    "StabilitySelection",
]
