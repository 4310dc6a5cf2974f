"""The only module that imports scikit-learn's private helpers.

Everything private we rely on is imported here, once, so that a scikit-learn release
that moves one of them breaks one file. Supported: scikit-learn >= 1.6.1.
"""
from sklearn.base import _fit_context  # noqa: F401  (fit context: param validation)
from sklearn.utils._param_validation import (  # noqa: F401
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight  # noqa: F401
