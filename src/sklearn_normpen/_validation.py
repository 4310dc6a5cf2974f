"""Input validation shared by every estimator and public function.

Policy
------
* dtype: float64 and float32 are kept as they are; anything else becomes float64.
  ``y`` and ``sample_weight`` follow ``X``'s dtype.
* layout: dense ``X`` is Fortran-ordered (coordinate descent walks columns); sparse ``X``
  is CSC. Arrays already in that form are not copied, so user memory is never written to:
  kernels take ``const`` memoryviews and the Python layer copies before any in-place step.
* finiteness: NaN/inf in ``X``, ``y`` or ``sample_weight`` is an error naming the argument.
* messages: every error names the parameter (or the offending value), never an internal
  class.
* memory safety: every user array that reaches a compiled kernel (``coef_init``,
  ``penalty_factor``, ``sample_weight``, ``group_weights``, ``alphas``) is checked for
  dtype, dimension, length and finiteness here, in Python, before any kernel call: the
  kernels themselves do no bounds checking.
"""
import functools
import inspect
import numbers
import sys
import threading
import weakref
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_X_y, validate_data

from ._compat import (Interval, StrOptions, _check_sample_weight, validate_params)

FLOAT_DTYPES = (np.float64, np.float32)


def validate_Xy(estimator, X, y, *, reset=True, accept_sparse="csc", order="F",
                multi_output=False, copy_X=False):
    """Validate ``X, y`` for fitting; returns ``(X, y)`` with ``y`` in ``X``'s dtype.

    Goes through scikit-learn's public ``validate_data`` so ``n_features_in_`` and
    ``feature_names_in_`` are set (``reset=True``) or checked (``reset=False``).
    """
    _check_y_not_scalar(y)
    X0, y0 = X, y
    try:
        X, y = validate_data(
            estimator, X, y, reset=reset, accept_sparse=accept_sparse,
            dtype=list(FLOAT_DTYPES), order=order, copy=copy_X, multi_output=multi_output,
            y_numeric=True,
        )
        return _finish_Xy(X, y)
    except (ValueError, TypeError) as err:
        _raise_non_numeric(X0, y0, err)
        raise


def _check_y_not_scalar(y):
    if np.isscalar(y) or getattr(y, "ndim", 1) == 0:
        raise ValueError(f"y must be an array-like with one target per sample; got the "
                         f"scalar {y!r}.")


def _finish_Xy(X, y):
    if sp.issparse(X) and not X.has_sorted_indices:
        # Kernels assume sorted indices; sort a copy, never the user's matrix.
        X = X.sorted_indices()
    if not (type(y) is np.ndarray and y.ndim == 1 and y.dtype == X.dtype
            and y.flags.c_contiguous):
        # (validate_data has checked y, finite and numeric: only a cast or a copy into
        # Fortran order is left, and a 1-D array of X's dtype needs neither; the call
        # costs ~50 us, ~3% of a small fit)
        y = check_array(y, ensure_2d=False, dtype=X.dtype, order="F", copy=False,
                        input_name="y")
    return X, y


def _non_numeric(values):
    """The first entry of ``values`` that is not a real number, or None."""
    if sp.issparse(values) or getattr(getattr(values, "dtype", None), "kind", "O") in "biuf":
        return None  # numeric storage (a DataFrame's dtype attribute is absent: scanned)
    try:
        flat = np.asarray(values, dtype=object).ravel()
    except Exception:  # ragged nesting: not an array of numbers at all
        return values
    for v in flat:
        if isinstance(v, (bool, np.bool_)) or isinstance(v, (numbers.Real, np.number)):
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return v
    return None


def _num_rows(a):
    """Rows of an array-like, or None when it has none (a scalar, an object without
    length)."""
    shape = getattr(a, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) else None
    try:
        return len(a)
    except TypeError:
        return None


def _raise_non_numeric(X, y, err):
    """Re-raise a failed float conversion of ``X`` or ``y`` naming the argument (and the
    DataFrame columns) that hold non-numeric values; return if that is not the cause."""
    msg = str(err)
    if "inconsistent numbers of samples" in msg or (
            "0 sample(s)" in msg and _num_rows(y) == 0 and _num_rows(X) != 0):
        raise ValueError(f"X and y have inconsistent numbers of samples: X has "
                         f"{_num_rows(X)} rows but y has {_num_rows(y)} entries.") from err
    if "convert" not in msg and "numeric" not in msg:
        return
    if y is not None and not sp.issparse(y) and _non_numeric(y) is not None:
        raise ValueError(f"y must be numeric; it contains the non-numeric value "
                         f"{_non_numeric(y)!r}.") from err
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # pandas DataFrame
        bad = [c for c, d in zip(X.columns, X.dtypes)
               if not (np.issubdtype(np.dtype(d), np.number) if isinstance(d, np.dtype)
                       else _non_numeric(X[c]) is None)]
        if bad:
            raise ValueError(f"X must be numeric; column(s) {bad} are not (encode "
                             "categorical columns first, e.g. with OneHotEncoder).") from err
    if not sp.issparse(X) and _non_numeric(X) is not None:
        raise ValueError(f"X must be numeric; it contains the non-numeric value "
                         f"{_non_numeric(X)!r} (encode categorical columns first, e.g. "
                         "with OneHotEncoder).") from err


def validate_path_input(X, y, caller=None, finite_X=True):
    """``validate_Xy`` for the public path functions (no estimator to record features on).

    ``caller`` (default: the calling function's name) is the name used in the messages.
    ``finite_X=False`` leaves X's finiteness to the caller's :class:`~sklearn_normpen.
    _design.Design` (``finite_pending``), which reads it from a sum it forms anyway.
    """
    caller = caller or sys._getframe(1).f_code.co_name
    _check_y_not_scalar(y)
    X0, y0 = X, y
    try:
        X, y = check_X_y(X, y, accept_sparse="csc", dtype=list(FLOAT_DTYPES), order="F",
                         y_numeric=True, estimator=caller, ensure_all_finite=finite_X)
        return _finish_Xy(X, y)
    except (ValueError, TypeError) as err:
        _raise_non_numeric(X0, y0, err)
        raise


def validate_X_predict(estimator, X, accept_sparse=("csr", "csc", "coo")):
    """Validate ``X`` at predict time (feature count and names checked, no reset)."""
    return validate_data(estimator, X, reset=False, accept_sparse=list(accept_sparse),
                         dtype=list(FLOAT_DTYPES))


def validate_sample_weight(sample_weight, X, *, only_non_negative=True, rescale=True):
    """Return sample weights as an array of ``X``'s dtype, or ``None`` for unit weights.

    Raises when weights are non-numeric, negative, non-finite, of the wrong length, or sum
    to zero. With ``rescale`` (for objectives that divide the loss by ``Σs``, which are
    invariant to the weights' scale) the weights are divided by the power of two that
    brings their maximum into [0.5, 1): an exact scaling, after which neither their sum
    overflows (weights of 1e308) nor do products underflow (weights of 1e-300).
    """
    if sample_weight is None:
        return None
    if not np.isscalar(sample_weight):
        w64 = _as_float_array(sample_weight, "sample_weight")
        if w64.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D (one weight per sample); got "
                             f"shape {w64.shape}.")
        if w64.shape[0] != X.shape[0]:
            raise ValueError(f"sample_weight has {w64.shape[0]} entries but X has "
                             f"{X.shape[0]} samples.")
        if not np.all(np.isfinite(w64)):
            raise ValueError("sample_weight contains NaN or infinity.")
        with np.errstate(over="ignore"):
            total = np.sum(w64)
        if np.isfinite(total) and total <= 0 and not np.any(w64 < 0):
            raise ValueError("sample_weight must have a positive sum; got "
                             f"{total!r} (all weights zero?).")
        top = w64.max() if w64.size else 0.0
        if rescale and top > 0:
            # A power of two, in float64 before any cast to X's dtype: exact, so every
            # later sum and product rounds as with the user's weights (only their
            # overflow/underflow is removed, e.g. 1e300 in float32).
            sample_weight = np.ldexp(w64, -int(np.frexp(top)[1]))
    elif not isinstance(sample_weight, (numbers.Real, np.number)) or isinstance(
            sample_weight, (bool, np.bool_)):
        raise ValueError(f"sample_weight must be numeric; got {sample_weight!r}.")
    elif rescale and sample_weight > 0:
        sample_weight = 0.5  # one weight for all: any positive constant is equivalent
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                              ensure_non_negative=only_non_negative, copy=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity (in X's dtype "
                         f"{X.dtype}).")
    return sw


def _as_float_array(value, name, dtype=np.float64):
    """``np.asarray(value, dtype)`` whose failure names ``name`` and the offending entry."""
    if sp.issparse(value):
        raise ValueError(f"{name} must be a dense array-like of numbers, not a sparse "
                         "matrix.")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        bad = _non_numeric(value)
        what = f"the non-numeric value {bad!r}" if bad is not None else f"{value!r:.80}"
        raise ValueError(f"{name} must contain only real numbers; got {what}.") from err
    if np.iscomplexobj(value if isinstance(value, np.ndarray) else arr):
        raise ValueError(f"{name} must be real, not complex.")
    return arr


def validate_alphas(alphas, *, name="alphas", allow_zero=False):
    """A user alpha grid: finite, non-negative (positive unless ``allow_zero``), 1-D,
    returned sorted in decreasing order as float64."""
    arr = _as_float_array(alphas, name)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of floats; got shape "
                         f"{np.shape(alphas)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr[~np.isfinite(arr)][:5]}.")
    bad = arr < 0 if allow_zero else arr <= 0
    if np.any(bad):
        word = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {word}; got {arr[bad][:5]}.")
    return np.sort(arr)[::-1].copy()


def validate_penalty_factor(penalty_factor, n_features, dtype=np.float64,
                            name="penalty_factor"):
    """Per-feature penalty factors: finite, non-negative, length ``n_features`` (any
    length when None)."""
    if penalty_factor is None:
        return np.ones(n_features, dtype=dtype)
    f = _as_float_array(penalty_factor, name, dtype)
    if f.ndim != 1 or (n_features is not None and f.shape[0] != n_features):
        count = "" if n_features is None else f" ({n_features})"
        raise ValueError(f"{name} must be 1-D with one entry per feature{count}; got "
                         f"shape {f.shape}.")
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(f"{name} must be finite and non-negative; got "
                         f"{f[~(np.isfinite(f) & (f >= 0))][:5]}.")
    return f


def check_scalar_alpha(alpha, name="alpha"):
    """A single regularisation strength: a finite non-negative real."""
    if not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{name} must be a finite non-negative float; got {alpha!r}.")
    return float(alpha)


def validate_coef_init(coef_init, n_features, dtype=np.float64, name="coef_init",
                       n_outputs=None):
    """A warm start: 1-D, finite, exactly ``n_features`` reals (``n_outputs`` given: of
    shape ``(n_outputs, n_features)``, a row per response); returned as a new
    contiguous array of ``dtype`` (the kernels write into it; the user's array is never
    touched), or None."""
    if coef_init is None:
        return None
    w = _as_float_array(coef_init, name)
    if n_outputs is not None:
        if w.shape != (n_outputs, n_features):
            raise ValueError(f"{name} must have shape ({n_outputs}, {n_features}) (a row "
                             f"per response, one coefficient per feature of X); got shape "
                             f"{w.shape}.")
    elif w.ndim != 1 or (n_features is not None and w.shape[0] != n_features):
        raise ValueError(f"{name} must have shape ({n_features},) (one coefficient per "
                         f"feature of X); got shape {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite; got {w[~np.isfinite(w)][:5]}.")
    return np.array(w, dtype=dtype, order="C", copy=True)


def validate_l1_ratio(l1_ratio, name="l1_ratio"):
    """A float in [0, 1] or a non-empty 1-D list of them; returned as a 1-D float64 array."""
    r = _as_float_array(l1_ratio, name)
    if r.ndim > 1 or r.size == 0:
        raise ValueError(f"{name} must be a float or a non-empty 1-D list of floats; got "
                         f"shape {r.shape}.")
    bad = ~(np.isfinite(r) & (r >= 0) & (r <= 1))
    if np.any(bad):
        shown = np.atleast_1d(r)[np.atleast_1d(bad)][:5]
        raise ValueError(f"{name} must be in [0, 1]; got {shown}.")
    return np.atleast_1d(r)


def validate_group_weights(group_weights, name="group_weights"):
    """Content of ``group_weights`` (array or ``{label: weight}``): finite non-negative
    reals. The length (one per group) is checked once the groups are parsed."""
    if group_weights is None:
        return
    if isinstance(group_weights, dict):
        for lab, val in group_weights.items():
            v = _as_float_array(val, f"{name}[{lab!r}]")
            if v.ndim != 0 or not np.isfinite(v) or v < 0:
                raise ValueError(f"{name}[{lab!r}] must be a finite non-negative float; "
                                 f"got {val!r}.")
        return
    w = _as_float_array(group_weights, name)
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one weight per group); got shape {w.shape}.")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise ValueError(f"{name} must be finite and non-negative; got "
                         f"{w[~(np.isfinite(w) & (w >= 0))][:5]}.")


def _is_int(value):
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def validate_array_params(params, n_features=None):
    """Check the *content* of the array-valued parameters in ``params`` (an estimator, whose
    ``get_params(deep=False)`` is used, or a dict of a function's arguments).

    scikit-learn's ``_parameter_constraints`` only check that these are array-like; here
    every entry must be a real number in range, and each error names the parameter and
    the offending value. Known names: ``l1_ratio``, ``alphas`` (unless an int),
    ``penalty_factor``, ``group_weights``, ``coef_init`` and ``sample_weight``; lengths
    are checked when ``n_features`` is given (``penalty_factor``, ``coef_init``).
    """
    if hasattr(params, "get_params"):
        params = params.get_params(deep=False)
    if params.get("l1_ratio") is not None:
        validate_l1_ratio(params["l1_ratio"])
    alphas = params.get("alphas")
    if alphas is not None and not _is_int(alphas):
        validate_alphas(alphas)
    if params.get("penalty_factor") is not None:
        validate_penalty_factor(params["penalty_factor"], n_features)
    validate_group_weights(params.get("group_weights"))
    if params.get("coef_init") is not None:
        ci = params["coef_init"]  # (a row per response: their count is checked with y's)
        rows = (np.shape(ci)[0] if params.get("family") == "mgaussian" and np.ndim(ci) == 2
                else None)
        validate_coef_init(ci, n_features, n_outputs=rows)
    sw = params.get("sample_weight")
    if sw is not None and not np.isscalar(sw):
        _as_float_array(sw, "sample_weight")


def _n_features_of(X):
    """``X``'s column count without converting it, or None when it has no 2-D shape (the
    later validation of ``X`` then raises)."""
    shape = getattr(X, "shape", None)
    if shape is None:
        try:
            shape = np.shape(X)
        except Exception:
            return None
    return int(shape[1]) if len(shape) == 2 else None


# Parameter constraints of the public path functions (as the estimators' own).
_ARRAY_OR_SPARSE = ["array-like", "sparse matrix"]
_POS_INT = Interval(Integral, 1, None, closed="left")
_NONNEG_REAL = Interval(Real, 0, None, closed="left")
_UNIT_OPEN = Interval(Real, 0, 1, closed="neither")
_UNIT_CLOSED = Interval(Real, 0, 1, closed="both")
_SAMPLE_WEIGHT = ["array-like", Interval(Real, 0, None, closed="neither"), None]

ENET_PATH_CONSTRAINTS = {
    "X": _ARRAY_OR_SPARSE,
    "y": ["array-like"],
    "l1_ratio": [_UNIT_CLOSED],
    "eps": [_UNIT_OPEN],
    "n_alphas": [_POS_INT],
    "alphas": ["array-like", None],
    "fit_intercept": ["boolean"],
    "sample_weight": _SAMPLE_WEIGHT,
    "penalty_factor": ["array-like", None],
    "standardize": ["boolean"],
    "positive": ["boolean"],
    "precompute": [StrOptions({"auto"}), "boolean"],
    "tol": [_NONNEG_REAL],
    "max_iter": [_POS_INT],
    "coef_init": ["array-like", None],
    "dfmax": [_POS_INT, None],
    "pmax": [_POS_INT, None],
    "exclude": ["array-like", None],
    "lower_limits": [Real, "array-like", None],
    "upper_limits": [Real, "array-like", None],
    "return_n_iter": ["boolean"],
    "family": [str],
    "sparse_output": ["boolean"],
}

GROUP_LASSO_PATH_CONSTRAINTS = {
    "X": _ARRAY_OR_SPARSE,
    "y": ["array-like"],
    "groups": [None, "array-like", dict, StrOptions({"prefix"}), callable],
    "l1_ratio": [_UNIT_CLOSED],
    "group_weights": ["array-like", dict, None],
    "alphas": ["array-like", None],
    "n_alphas": [_POS_INT],
    "eps": [_UNIT_OPEN],
    "sample_weight": _SAMPLE_WEIGHT,
    "fit_intercept": ["boolean"],
    "standardize": ["boolean"],
    "tol": [_NONNEG_REAL],
    "max_iter": [_POS_INT],
    "coef_init": ["array-like", None],
    "dfmax": [_POS_INT, None],
    "pmax": [_POS_INT, None],
    "return_n_iter": ["boolean"],
    "exclude": ["array-like", None],
    "lower_limits": [Real, "array-like", None],
    "upper_limits": [Real, "array-like", None],
    "family": [str],
    "sparse_output": ["boolean"],
}


def validate_path_params(constraints):
    """Decorator for a public path function: every parameter is validated before the body
    runs, with errors naming the parameter.

    Types and ranges go through scikit-learn's ``validate_params`` (the same machinery as
    the estimators' ``_parameter_constraints``); then the content of the array arguments
    (:func:`validate_array_params`, lengths against ``X``'s column count) is checked
    always, even under ``sklearn.set_config(skip_parameter_validation=True)``, because a
    wrong length would reach a compiled kernel.
    """
    def decorator(func):
        sig = inspect.signature(func)

        @functools.wraps(func)
        def checked(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            params = bound.arguments
            validate_array_params(params, n_features=_n_features_of(params.get("X")))
            return func(*args, **kwargs)

        return validate_params(constraints, prefer_skip_nested_validation=True)(checked)

    return decorator


def check_kernel_args(kernel, dims, dtype, **arrays):
    """Check the arrays handed to a compiled kernel, which does no bounds checking.

    Parameters
    ----------
    kernel : str
        The kernel's name (for the message).
    dims : dict
        Symbolic dimension sizes, e.g. ``{"n": 100, "k": 5}``.
    dtype : numpy dtype
        The floating dtype every floating array must have.
    **arrays : tuple
        ``name=(array, shape)`` or ``name=(array, shape, "out")``: ``shape`` a tuple of
        ints or names in ``dims`` (or None: any size); ``"out"`` marks an array the kernel
        writes (it must be writeable). Every array must be a C-contiguous ndarray.

    Raises
    ------
    ValueError
        Naming the kernel, the argument and the expected and actual shape, dtype or layout.
    """
    dtype = np.dtype(dtype)
    for name, spec in arrays.items():
        arr, shape = spec[0], spec[1]
        out = len(spec) > 2 and spec[2] == "out"
        where = f"{kernel}: argument {name}"
        if not isinstance(arr, np.ndarray):
            raise ValueError(f"{where} must be an ndarray; got {type(arr).__name__}.")
        if arr.dtype.kind == "f" and arr.dtype != dtype:
            raise ValueError(f"{where} has dtype {arr.dtype}, expected {dtype}.")
        want = tuple(dims[d] if isinstance(d, str) else d for d in shape)
        if arr.ndim != len(want) or any(w is not None and w != a
                                        for w, a in zip(want, arr.shape)):
            raise ValueError(f"{where} has shape {arr.shape}, expected "
                             f"{tuple('any' if w is None else w for w in want)}.")
        if arr.size and not arr.flags.c_contiguous:
            raise ValueError(f"{where} must be C-contiguous.")
        if out and not arr.flags.writeable:
            raise ValueError(f"{where} is written by the kernel but is read-only.")


# ---------------------------------------------------------------------------------------
# Signatures of the compiled solver kernels, for checking a call before it is made
# ---------------------------------------------------------------------------------------
# One entry per positional argument: "name:shape:flags". shape: comma-separated sizes,
# symbolic (bound at first use, then enforced) or "sym+1"; "-" marks a scalar, "=sym" a
# scalar that binds the size ``sym``. flags: out (written), F (Fortran), int (C int),
# intp, f64 (float64 whatever the problem dtype), opt (length 0 allowed: "no weights";
# trailing opt entries, scalars included, may be left out: the kernel has defaults).
_ENET_TAIL = ["L1:p", "L2:p", "lower:p", "upper:p"]
_BCD_GROUPS = ["gptr:G+1:int", "gidx:m:int", "c:G", "L:G:out", "Q:q", "qoff:G:intp",
               "V:v:out", "E:e:out", "exact:-", "ws:nws:int", "alpha:-", "rho:-", "max_epochs:-", "tol:-",
               "gap_freq:-", "max_inner:-", "inner_eps:-", "buf:b:out", "wold:k:out",
               "has_lim:-", "lower:lim", "upper:lim", "glim:gl:int"]
_CSC = ["data:nnz", "indices:nnz:int", "indptr:p+1:int"]
# multi-response block CD (_bcd_multitask.pyx): W (p, K) C-ordered, R (n, K) Fortran
_BCD_MT = ["W:p,K:out", "R:n,K:out,F", "L:p", "l1:p", "l2:p", "ws:nws:int", "N:-",
           "max_epochs:-", "tol:-", "gap_tol:-", "buf:b:out", "pred:p,K:opt"]
# multi-response sparse-group block CD (_bcd_multitask_group.pyx): groups gptr/gidx, packed
# group Grams in gram at goff (-1: none); buf's length is checked by the kernel; the block
# arithmetic (means, Lg, l2, gram, buf, srsum) is float64 whatever X's dtype
_BCD_MTG = ["W:p,K:out", "R:n,K:out,F", "gptr:G+1:int", "gidx:m:int", "Lg:G:f64",
            "l1:-", "l2:G:f64", "gram:q:opt,f64", "goff:G:intp", "ws:nws:int", "N:-",
            "max_epochs:-", "tol:-", "gap_tol:-", "buf:b:out,f64", "srsum:K:out,f64",
            "anderson_k:-:opt", "pred:p,K:opt"]
KERNEL_SIGNATURES = {
    "sgl_box_kkt": ["z:p:f64", "w:p:f64", "gptr:G+1:int", "gidx:m:int", "l2:G:f64",
                    "lower:p:f64", "upper:p:f64"],
    "sgl_terms": ["w:p:f64", "z:p:f64", "zp:p:f64", "gptr:G+1:int", "gidx:m:int",
                  "l2:G:f64", "l1:-", "inside:-"],
    "sgl_soft_norms": ["z:p:f64", "gptr:G+1:int", "gidx:m:int", "l1:-", "norms:G:f64,out"],
    # a certificate's gradient on the groups its bound cannot keep inside their ball
    "gradient_dense_cols": ["X:n,p:F", "xmean:p", "r:n", "cols:m:int", "z:p:out,f64"],
    "enet_box_terms": ["w:p:f64", "z:p:f64", "zp:p:f64", "a1:p:f64", "a2:p:f64",
                       "lower:p:f64", "upper:p:f64", "kind:p:int"],
    "enet_terms": ["w:p:f64", "z:p:f64", "zp:p:f64", "L1:p:f64", "L2:p:f64",
                   "inv_box:p:f64", "ridge:r:int", "alpha:-", "positive:-", "inside:-"],
    "enet_cd_gram": ["w:p:out", "Q:p,p:F", "q:p", "norm2:p", "H:p:out", "g:p:out"]
    + _ENET_TAIL,
    # X CSC, or dense with X_indices/X_indptr empty and X_data = X.ravel(order="F")
    "enet_cd_residual": ["w:p:out", "X_data:nnz", "X_indices:nnz:int,opt",
                         "X_indptr:p+1:int,opt", "n_samples:=n", "y:n", "sw:n:opt",
                         "X_mean:p", "norm2:p", "R:n:out", "g:p:out"] + _ENET_TAIL
    + ["n_eff:-", "tol:-", "strong_factor:-", "max_iter:-", "g_valid:-:opt",
       "anderson_k:-:opt", "g_ref:k,p:out,opt", "R_ref:k,n:out,opt", "n_ref:-:opt",
       "g_bound:p:int,out,opt", "pred:p:opt"],
    "group_grams_dense": ["X:n,p:F", "xmean:p", "gptr:G+1:int", "gidx:m:int", "out:q:out"],
    "group_grams_sparse": _CSC + ["n:=n", "sw:n", "xmean:p", "gptr:G+1:int", "gidx:m:int",
                                  "out:q:out"],
    "sgl_box_conj": ["z:p:f64", "gptr:G+1:int", "gidx:m:int", "l2:G:f64", "lower:p:f64",
                     "upper:p:f64", "t:-", "l1:-", "buf:k:f64,out"],
    # X CSC with weights, or dense (unit weights): indices/indptr/sw empty, data = X.ravel("F")
    "bcd": ["data:nnz", "indices:nnz:int,opt", "indptr:p+1:int,opt", "sw:n:opt", "xmean:p",
            "y:n", "w:p:out", "r:n:out"] + _BCD_GROUPS + ["anderson_k:-", "pred:p:opt",
                                                          "ready:G:int,out,opt"],
    # the group Grams' spectra (L; with exact, V and E too), for the groups not yet ready
    "group_spectra": ["gptr:G+1:int", "gidx:m:int", "Q:q", "qoff:G:intp", "V:v:out",
                      "E:e:out", "exact:-", "L:G:out", "ready:G:int,out"],
    "bcd_gram": ["A:p,p:F", "w:p:out", "g:p:out"] + _BCD_GROUPS[:10] + [
        "alpha:-", "rho:-", "max_epochs:-", "stop:-", "max_inner:-", "inner_eps:-",
        "buf:b:out", "wold:k:out", "b:p", "yy:-", "tol:-"],
    "bcd_mt_dense": ["X:n,p:F", "sw:n:opt", "xmean:p"] + _BCD_MT,
    "bcd_mt_sparse": _CSC + ["n_samples:=n", "sw:n:opt", "xmean:p"] + _BCD_MT,
    "bcd_mtg_dense": ["X:n,p:F", "sw:n:opt", "xmean:p:f64"] + _BCD_MTG,
    "bcd_mtg_sparse": _CSC + ["n_samples:=n", "sw:n:opt", "xmean:p:f64"] + _BCD_MTG,
    # ungrouped multinomial sweeps (_cd_multinomial.pyx): dense X as for enet_cd_residual
    "multinomial_sweeps": ["X_data:nnz", "X_indices:nnz:int,opt", "X_indptr:p+1:int,opt",
                           "n_samples:=n", "codes:n:int", "sw:n:f64", "N:-", "W:p,K:out,f64",
                           "b:K:out,f64", "eta:n,K:out,f64", "ws:nws:int", "l1:p:f64",
                           "l2:p:f64", "mu:p:f64", "fit_intercept:-", "n_sweeps:-",
                           "tol_n:-", "max_inner:-", "floor:-", "rounding:-"],
    "gradient_mt_dense": ["X:n,p:F", "sw:n:opt,f64", "xmean:p:f64", "R:n,K:F,f64",
                          "G:p,K:out,f64"],
    "gradient_mt_dense_cols": ["X:n,p:F", "sw:n:opt,f64", "xmean:p:f64", "R:n,K:F,f64",
                               "cols:m:int", "G:p,K:out,f64"],
    # dask route (_moments.pyx): d = p + T + 1 and fold < k are checked by the kernel
    "fold_moments_dense": ["X:n,p", "Y:n,T", "sw:n:opt,f64", "fold:n:int", "shift:p:f64",
                           "yshift:T:f64", "out:k,d,d:out,f64"],
    # the in-memory CV route: Fortran X, float64 Y, fold < 0 skips a row
    "fold_moments_dense_f": ["X:n,p:F", "Y:n,T:F,f64", "sw:n:opt,f64", "fold:n:int",
                             "shift:p:f64", "yshift:T:f64", "outG:k,p,p:out,f64",
                             "outB:k,e,d:out,f64"],
    # a CV fold's / resample's row copy of a Fortran X
    "take_rows_f": ["X:n,p:F", "rows:k:intp", "out:k,p:out,F"],
    # a proximal-Newton step's weighted column sums and squares about a shift
    "col_moments_dense": ["X:n,p:F", "sw:n:f64", "shift:p:f64", "sums:p:out,f64",
                          "sq:p:out,f64"],
    # a certificate's full gradient Xᵀr over a Fortran X
    "xt_dot": ["X:n,p:F", "r:n", "out:p:out"],
    # a dense design's column statistics (means, spreads, norms, scale) in one read
    "column_stats_dense": ["X:n,p:F", "sw:n:f64,opt", "mean:p:out,f64", "css:p:out,f64",
                           "ss:p:out,f64", "maxabs:p:out,f64"],
    # a sparse design's column statistics (its stored entries, zeros counted implicitly)
    "column_stats_sparse": _CSC + ["n:=n", "sw:n:f64,opt", "mean:p:out,f64",
                                   "css:p:out,f64", "ss:p:out,f64", "maxabs:p:out,f64"],
}


def _parse_signature(entries):
    """Pre-parsed entries ``(name, kind, bind, axes, flags, want)``: ``kind`` is "scalar",
    "bind" (a scalar that binds the size ``bind``) or "array"; ``axes`` the ``(symbol,
    offset)`` of each axis; ``want`` the required dtype ("float": float32/64 shared by the
    floating arguments). Parsed once: the checks run before every kernel call."""
    out = []
    for e in entries:
        name, shape, *flags = e.split(":")
        flags = frozenset(flags[0].split(",")) if flags else frozenset()
        if shape == "-":
            out.append((name, "scalar", None, (), flags, None))
            continue
        if shape.startswith("="):
            out.append((name, "bind", shape[1:], (), flags, None))
            continue
        axes = []
        for sym in shape.split(","):
            base, _, off = sym.partition("+")
            axes.append((base, int(off or 0), sym))
        want = (np.dtype(np.intc) if "int" in flags else np.dtype(np.intp) if "intp" in flags
                else np.dtype(np.float64) if "f64" in flags else "float")
        out.append((name, "array", None, tuple(axes), flags, want))
    return out


_PARSED_SIGNATURES = {k: _parse_signature(v) for k, v in KERNEL_SIGNATURES.items()}
#: the positional arguments a call must give: up to the last entry without "opt" (the
#: trailing optional ones have defaults in the kernel)
_REQUIRED = {k: max((i + 1 for i, e in enumerate(v) if "opt" not in e[4]), default=0)
             for k, v in _PARSED_SIGNATURES.items()}


def _group_sizes(kernel, dims, arrays):
    """Content checks of the group arrays (O(p), negligible next to a solve): ``gptr``
    a valid partition of ``gidx``, ``gidx`` and ``ws`` in range, the packed group-Gram
    arrays (``Q``, ``qoff``, ``V``, ``E``) and the scratch buffers large enough."""
    gptr, gidx = arrays["gptr"], arrays["gidx"]
    sizes = np.diff(gptr.astype(np.int64))
    if gptr[0] != 0 or np.any(sizes < 0) or gptr[-1] != gidx.shape[0]:
        raise ValueError(f"{kernel}: argument gptr is not a partition of gidx (must start "
                         f"at 0, not decrease and end at len(gidx)={gidx.shape[0]}).")
    p = dims.get("p")
    if gidx.size and (gidx.min() < 0 or (p is not None and gidx.max() >= p)):
        raise ValueError(f"{kernel}: argument gidx has a feature index outside [0, {p}).")
    q_needed = int((sizes ** 2).sum())
    if "out" in arrays and arrays["out"].shape[0] != q_needed:
        raise ValueError(f"{kernel}: argument out has length {arrays['out'].shape[0]}, "
                         f"expected {q_needed} (the packed group Grams).")
    if "Q" not in arrays:
        return
    Q, qoff = arrays["Q"], arrays["qoff"]
    if Q.shape[0] != q_needed or np.any(qoff + sizes ** 2 > Q.shape[0]) or np.any(qoff < 0):
        raise ValueError(f"{kernel}: arguments Q/qoff do not hold the packed group Grams "
                         f"({q_needed} entries).")
    if arrays["exact"]:
        if arrays["V"].shape[0] != q_needed or arrays["E"].shape[0] != gidx.shape[0]:
            raise ValueError(f"{kernel}: arguments V/E must hold every group's "
                             "eigenvectors/eigenvalues when exact=1.")
    ws = arrays.get("ws", np.zeros(0, dtype=np.intc))
    if ws.size and (ws.min() < 0 or ws.max() >= sizes.shape[0]):
        raise ValueError(f"{kernel}: argument ws has a group index outside "
                         f"[0, {sizes.shape[0]}).")
    if "buf" not in arrays:  # (group_spectra: no scratch)
        return
    kmax = int(sizes.max()) if sizes.size else 1
    if arrays["buf"].shape[0] < 7 * kmax or arrays["wold"].shape[0] < kmax:
        raise ValueError(f"{kernel}: scratch arguments buf/wold are too short for the "
                         f"largest group ({kmax} features).")


def _check_arg(kernel, entry, arr, dims, source, fdtype):
    """Check one array argument against its signature entry; binds unseen sizes in
    ``dims`` (``source`` names the binding argument). Returns the floating dtype."""
    name, kind, bind, axes, flags, want = entry
    where = f"{kernel}: argument {name}"
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{where} must be an ndarray; got {type(arr).__name__}.")
    if isinstance(want, str):  # "float" (np.dtype(float64) == "float" is True)
        if arr.dtype != np.float32 and arr.dtype != np.float64:
            raise ValueError(f"{where} has dtype {arr.dtype}, expected float32/64.")
        fdtype = arr.dtype if fdtype is None else fdtype
        if arr.dtype != fdtype:
            raise ValueError(f"{where} has dtype {arr.dtype}, but the other floating "
                             f"arguments are {fdtype}.")
    elif arr.dtype != want:
        raise ValueError(f"{where} has dtype {arr.dtype}, expected {want}.")
    if arr.ndim != len(axes):
        raise ValueError(f"{where} must be {len(axes)}-D; got shape {arr.shape}.")
    for axis, (base, off, sym) in enumerate(axes):
        size = arr.shape[axis]
        if size == 0 and "opt" in flags:
            continue
        if base not in dims:
            dims[base] = size - off
            source[base] = name
        elif dims[base] + off != size:
            raise ValueError(f"{where} has shape {arr.shape}: axis {axis} should be "
                             f"{dims[base] + off} ({sym}, as set by argument "
                             f"{source.get(base, base)}).")
    layout_ok = arr.flags.f_contiguous if "F" in flags else arr.flags.c_contiguous
    if arr.size and not layout_ok:
        raise ValueError(f"{where} must be {'Fortran' if 'F' in flags else 'C'}-"
                         "contiguous.")
    if "out" in flags and not arr.flags.writeable:
        raise ValueError(f"{where} is written by the kernel but is read-only.")
    return fdtype


def check_kernel_call(kernel, args, _state=None):
    """Check positional ``args`` against the signature of compiled kernel ``kernel`` (see
    :data:`KERNEL_SIGNATURES`): every array an ndarray of the right dtype (the float
    arrays share one dtype), layout and length, consistent across arguments; written
    arrays writeable; group arrays valid. Raises ValueError naming kernel and argument."""
    sig = _PARSED_SIGNATURES[kernel]
    if len(args) < _REQUIRED[kernel]:
        raise ValueError(f"{kernel}: expected {_REQUIRED[kernel]} arguments, got "
                         f"{len(args)}.")
    dims, source, arrays, fdtype = {}, {}, {}, None
    for entry, arr in zip(sig, args):
        name, kind, bind = entry[:3]
        arrays[name] = arr
        if kind == "scalar":
            continue
        if kind == "bind":
            dims[bind] = int(arr)
            continue
        fdtype = _check_arg(kernel, entry, arr, dims, source, fdtype)
    for csc in (("data", "indices", "indptr"), ("X_data", "X_indices", "X_indptr")):
        if csc[2] not in arrays:
            continue
        ptr, nvals = arrays[csc[2]], arrays[csc[0]].shape[0]
        if ptr.shape[0] == 0:  # a dense X, flattened in Fortran order (see the signature)
            n, p = dims.get("n"), dims.get("p")
            if arrays[csc[1]].shape[0] or (n is not None and p is not None and nvals != n * p):
                raise ValueError(f"{kernel}: dense argument {csc[0]} has {nvals} values, "
                                 f"expected n * p = {n} * {p} (and {csc[1]} empty).")
        elif ptr[0] != 0 or ptr[-1] != nvals:
            raise ValueError(f"{kernel}: argument {csc[2]} must run from 0 to the "
                             f"number of stored entries ({nvals}).")
    if "gptr" in arrays:
        _group_sizes(kernel, dims, arrays)
    if _state is not None:
        _state.update(dims=dims, source=source, fdtype=fdtype)


#: per thread (parallel CV folds run side by side in threads): kernel name -> what the
#: last checked call of that kernel bound: weak references to its arrays with their shapes
#: and dtypes, the size-binding scalars, the sizes (see :func:`call_kernel`)
_LOCAL = threading.local()
#: arguments whose *content* the checks read (partitions, packed Grams, scratch sizes): a
#: new object there means a full check; ``ws`` (a group working set) is re-checked alone
_CONTENT = frozenset(["gptr", "gidx", "Q", "qoff", "V", "E", "buf", "wold", "indptr",
                      "X_indptr", "data", "X_data", "out", "exact"])


def call_kernel(fn, *args, cache_key=None):
    """``fn(*args)`` after :func:`check_kernel_call`: how the solvers call a kernel.

    A solver calls its kernel at every path point with mostly the same internal arrays:
    an array argument that is the very object of the last checked call of this kernel
    (alive: weak references), with the same shape and dtype, is not checked again; the
    others are checked against the sizes that call bound, and any change to an argument
    whose content the checks read (group partitions, packed Grams, CSC pointers) or to a
    size-binding scalar repeats the full check. A caller that interleaves several
    problems (lockstep paths) passes a small ``cache_key`` per problem: each key keeps
    its own last call."""
    name = fn.__name__
    sig = _PARSED_SIGNATURES[name]
    checked = getattr(_LOCAL, "checked", None)
    if checked is None:
        checked = _LOCAL.checked = {}
    slot = name if cache_key is None else (name, cache_key)
    last = checked.get(slot)
    if last is None or len(args) < len(sig) or not _recheck_changed(name, sig, last, args):
        state = {}
        check_kernel_call(name, args, state)
        state["snap"] = [(weakref.ref(a), a.shape, a.dtype) if kind == "array" else a
                         for (_, kind, *_), a in zip(sig, args)]
        checked[slot] = state
    return fn(*args)


def _fast_view(sig):
    """Where a repeated call is compared with the last one's snapshot: the positions of the
    array arguments (``snap[i]`` kept up to date by :func:`_recheck_slow`) and of the
    size-binding scalars."""
    arrays = tuple(i for i, (_, kind, *_) in enumerate(sig) if kind == "array")
    binds = tuple(i for i, (name, kind, *_) in enumerate(sig)
                  if kind == "bind" or name == "exact")
    return arrays, binds


#: per kernel, what a repeated call is compared on (:func:`_fast_view`)
_FAST = {k: _fast_view(v) for k, v in _PARSED_SIGNATURES.items()}


def _recheck_changed(kernel, sig, last, args):
    """Check the arguments that differ from the last checked call; False when a full check
    is needed instead."""
    arrays, binds = _FAST[kernel]
    snap = last["snap"]
    if not all(args[i] == snap[i] for i in binds):  # (size-binding scalars, exact)
        return False
    for i in arrays:  # (a solver's call at its next path point: the same arrays)
        ref, shape, dtype = snap[i]
        a = args[i]
        if ref() is not a or a.shape != shape or a.dtype is not dtype:
            return _recheck_slow(kernel, sig, last, args)
    return True


def _recheck_slow(kernel, sig, last, args):
    """:func:`_recheck_changed` once some array argument is not the last call's (the
    size-binding scalars agree)."""
    snap, fdtype = last["snap"], last["fdtype"]
    dims = None
    for i in _FAST[kernel][0]:
        s, a = snap[i], args[i]
        if s[0]() is a and a.shape == s[1] and a.dtype is s[2]:
            continue
        entry = sig[i]
        name = entry[0]
        if name in _CONTENT:
            return False
        if (name != "ws" and type(a) is np.ndarray and a.shape == s[1]
                and a.dtype is s[2] and _layout_ok(a, entry[4])):
            # a new array like the one checked last time (a path point's penalty
            # weights, gradient, ...): same shape, dtype and layout bind the same
            # sizes and agree with the other arguments as that one did
            snap[i] = (weakref.ref(a), a.shape, a.dtype)
            continue
        if dims is None:
            dims, source = dict(last["dims"]), dict(last["source"])
        # sizes this argument bound last time: it must bind the same ones now
        # (once each: a square argument, "A:p,p", binds p on both axes)
        rebound = list(dict.fromkeys(base for base, _, _ in entry[3]
                                     if source.get(base) == name))
        for base in rebound:
            del dims[base]
        try:  # any doubt: the full check decides (and words the error)
            fdtype = _check_arg(kernel, entry, a, dims, source, fdtype)
        except ValueError:
            return False
        # a size another argument shares must not move (a working set's own may)
        if any(dims.get(b) != last["dims"][b] for b in rebound if b in _SHARED[kernel]):
            return False
        if name == "ws" and _position(kernel, "gptr") is not None:
            gptr = args[_position(kernel, "gptr")]
            if a.size and (a.min() < 0 or a.max() >= gptr.shape[0] - 1):
                return False
        snap[i] = (weakref.ref(a), a.shape, a.dtype)
    return True


def _layout_ok(a, flags):
    """``a`` has the layout and writability a signature entry's ``flags`` ask for."""
    if a.size and not (a.flags.f_contiguous if "F" in flags else a.flags.c_contiguous):
        return False
    return "out" not in flags or a.flags.writeable


def _shared_symbols(entries):
    """Size symbols used by more than one argument of a kernel (binds count as uses)."""
    uses = {}
    for name, kind, bind, axes, *_ in entries:
        for sym in ([bind] if kind == "bind" else [base for base, _, _ in axes]):
            uses.setdefault(sym, set()).add(name)
    return frozenset(sym for sym, names in uses.items() if len(names) > 1)


_SHARED = {k: _shared_symbols(v) for k, v in _PARSED_SIGNATURES.items()}


@functools.lru_cache(maxsize=None)
def _position(kernel, name):
    names = [e[0] for e in _PARSED_SIGNATURES[kernel]]
    return names.index(name) if name in names else None


# -- glmnet's exclude and box limits (every estimator that takes them) --------------------

def _check_exclude(exclude, n_features):
    """glmnet's ``exclude``: feature indices (or a boolean mask) held at zero → a mask."""
    if exclude is None:
        return None
    e = np.asarray(exclude)
    if e.dtype == bool:
        if e.shape != (n_features,):
            raise ValueError(f"exclude as a boolean mask must have shape ({n_features},); "
                             f"got {e.shape}.")
        return e.copy()
    if e.ndim != 1 or (e.size and not np.issubdtype(e.dtype, np.integer)):
        raise ValueError("exclude must be a 1-D array of feature indices or a boolean mask; "
                         f"got {exclude!r}.")
    if e.size and (e.min() < -n_features or e.max() >= n_features):
        raise ValueError(f"exclude has an index outside [0, {n_features}); got {exclude!r}.")
    mask = np.zeros(n_features, dtype=bool)
    mask[e] = True
    return mask


def _check_limits(lower_limits, upper_limits, n_features):
    """glmnet's ``lower.limits`` / ``upper.limits`` (scalars or one per feature) as float64
    arrays ``(lower, upper)``, or ``(None, None)`` when both are absent. They must
    contain 0 (``lower <= 0 <= upper``): the path starts at w = 0 and the certificate's dual
    point is the residual's."""
    if lower_limits is None and upper_limits is None:
        return None, None
    out = []
    for name, v, default, sign in (("lower_limits", lower_limits, -np.inf, -1.0),
                                   ("upper_limits", upper_limits, np.inf, 1.0)):
        if v is None:
            out.append(np.full(n_features, default))
            continue
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or an array of numbers; got "
                             f"{v!r}.") from None
        if a.ndim == 0:
            a = np.full(n_features, float(a))
        if a.shape != (n_features,):
            raise ValueError(f"{name} must be a scalar or have shape ({n_features},); got "
                             f"shape {a.shape}.")
        if np.isnan(a).any():
            raise ValueError(f"{name} contains NaN.")
        bad = sign * a < 0
        if bad.any():
            need = "<= 0" if sign < 0 else ">= 0"
            raise ValueError(f"{name} must be {need} (the limits must contain 0, as in "
                             f"glmnet); got {a[bad][0]!r}.")
        out.append(a)
    lo, up = out
    if np.any(lo > up):
        raise ValueError("lower_limits must not exceed upper_limits.")
    return lo, up
