"""The base class every estimator of the package derives from."""
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._dask import is_dask
from ._dask import predict as dask_predict
from ._validation import validate_X_predict


class NormPenRegressor(RegressorMixin, BaseEstimator):
    """Linear regressor base: ``predict(X) = X @ coef_.T + intercept_``.

    Subclasses set ``coef_`` (shape (n_features,) or (n_targets, n_features)) and
    ``intercept_`` in ``fit``; predictions keep ``X``'s float dtype.
    """

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self, "coef_")
        if is_dask(X):  # a lazy dask array, chunked as X's rows
            return dask_predict(self, X)
        X = validate_X_predict(self, X)
        coef = np.asarray(self.coef_, dtype=X.dtype)
        return safe_sparse_dot(X, coef.T, dense_output=True) + np.asarray(
            self.intercept_, dtype=X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
