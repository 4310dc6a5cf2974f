"""Bad and unusual input for every public estimator and path function.

For each entry point (ElasticNetPathCV, enet_path, GroupLassoRegressor, GroupLassoPathCV,
group_lasso_path, SpectralRidge, SpectralRidgeCV): non-finite values, wrong shapes, empty
and degenerate data, every invalid parameter value (the error must name the culprit), every
accepted container type (the result must equal the float64 ndarray fit) and no mutation of
the user's arrays. Wrong-length array arguments are fuzzed in a subprocess, so that a crash
in a compiled kernel fails a test instead of killing the run.
"""
import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.linear_model import enet_path as sk_enet_path

from sklearn_normpen import (ElasticNetPathCV, GroupLassoPathCV, GroupLassoRegressor,
                             SpectralRidge, SpectralRidgeCV, enet_path, group_lasso_path)

from _subprocess import package_env

N, P = 30, 4


def _data(n=N, p=P, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ np.linspace(1.0, -1.0, p) + 0.3 * rng.standard_normal(n)
    return X, y


# ---------------------------------------------------------------------------------------
# The entry points: one uniform call each, returning the fitted coefficients (estimators:
# ``coef_``; path functions: the (n_features, n_alphas) path) and the fitted object.
# ---------------------------------------------------------------------------------------

def _fit_encv(X, y, sample_weight=None, **params):
    params = {"alphas": 5, "cv": 3, "tol": 1e-10, **params}
    est = ElasticNetPathCV(**params).fit(X, y, sample_weight=sample_weight)
    return est.coef_, est


def _fit_enet_path(X, y, sample_weight=None, **params):
    params = {"n_alphas": 5, "tol": 1e-10, "fit_intercept": True, **params}
    out = enet_path(X, y, sample_weight=sample_weight, **params)
    return out[1], out


def _fit_glr(X, y, sample_weight=None, **params):
    params = {"alpha": 0.05, "tol": 1e-10, **params}
    est = GroupLassoRegressor(**params).fit(X, y, sample_weight=sample_weight)
    return est.coef_, est


def _fit_glcv(X, y, sample_weight=None, **params):
    params = {"alphas": 5, "cv": 3, "tol": 1e-10, **params}
    est = GroupLassoPathCV(**params).fit(X, y, sample_weight=sample_weight)
    return est.coef_, est


def _fit_gl_path(X, y, sample_weight=None, **params):
    params = {"n_alphas": 5, "tol": 1e-10, "fit_intercept": True, **params}
    out = group_lasso_path(X, y, sample_weight=sample_weight, **params)
    return out[1], out


def _fit_sr(X, y, sample_weight=None, **params):
    est = SpectralRidge(**params).fit(X, y, sample_weight=sample_weight)
    return est.coef_, est


def _fit_srcv(X, y, sample_weight=None, **params):
    est = SpectralRidgeCV(**params).fit(X, y, sample_weight=sample_weight)
    return est.coef_, est


ENTRIES = {
    "ElasticNetPathCV": _fit_encv,
    "enet_path": _fit_enet_path,
    "GroupLassoRegressor": _fit_glr,
    "GroupLassoPathCV": _fit_glcv,
    "group_lasso_path": _fit_gl_path,
    "SpectralRidge": _fit_sr,
    "SpectralRidgeCV": _fit_srcv,
}
NAMES = list(ENTRIES)
SINGLE_OUTPUT = [n for n in NAMES if not n.startswith("Spectral")]
CV_ENTRIES = ["ElasticNetPathCV", "GroupLassoPathCV"]


def _fit(name, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ENTRIES[name](X, y, **kw)


# ---------------------------------------------------------------------------------------
# Non-finite values, shapes, empty data
# ---------------------------------------------------------------------------------------

def _with(a, idx, value):
    a = np.array(a, dtype=np.float64)
    a[idx] = value
    return a


X0, Y0 = _data()
SHAPE_CASES = {
    "X has NaN": (_with(X0, (0, 0), np.nan), Y0, "Input X contains NaN"),
    "X has inf": (_with(X0, (3, 1), np.inf), Y0, "Input X contains infinity"),
    "X has -inf": (_with(X0, (3, 1), -np.inf), Y0, "Input X contains infinity"),
    "y has NaN": (X0, _with(Y0, 2, np.nan), "Input y contains NaN"),
    "y has inf": (X0, _with(Y0, 2, np.inf), "Input y contains infinity"),
    "X is 1-D": (X0[:, 0], Y0, "Expected 2D array, got 1D array"),
    "X is 3-D": (X0[:, :, None], Y0, "Found array with dim 3"),
    "X is a scalar": (1.0, Y0, "Expected 2D array, got scalar array|'X' parameter of"),
    "y is a scalar": (X0, 1.0, "y must be an array-like|'y' parameter of"),
    "y shorter": (X0, Y0[:-1], r"X has 30 rows but y has 29 entries"),
    "y longer": (X0, np.r_[Y0, 1.0], r"X has 30 rows but y has 31 entries"),
    "no samples": (X0[:0], Y0[:0], r"0 sample\(s\) \(shape=\(0, 4\)\)"),
    "no features": (X0[:, :0], Y0, r"0 feature\(s\) \(shape=\(30, 0\)\)"),
    "X strings": (np.full((N, P), "a"), Y0, "X must be numeric.*'a'"),
    "y strings": (X0, ["a"] * N, "y must be numeric.*'a'"),
    "X complex": (X0 + 1j, Y0, "[Cc]omplex"),
}


@pytest.mark.parametrize("case", list(SHAPE_CASES))
@pytest.mark.parametrize("name", NAMES)
def test_bad_data_error_names_the_culprit(name, case):
    X, y, match = SHAPE_CASES[case]
    with pytest.raises(ValueError, match=match):
        _fit(name, X, y)


def test_errors_name_the_public_function_not_an_internal_class():
    for fn in (enet_path, group_lasso_path):
        with pytest.raises(ValueError, match=f"required by {fn.__name__}") as info:
            fn(X0[:0], Y0[:0])
        assert "_FunctionInput" not in str(info.value)


def test_dataframe_with_a_string_column_names_the_column():
    df = pd.DataFrame(X0, columns=list("abcd"))
    df["colour"] = ["red", "blue"] * (N // 2)
    for name in NAMES:
        with pytest.raises(ValueError, match=r"X must be numeric; column\(s\) \['colour'\]"):
            _fit(name, df, Y0)


@pytest.mark.parametrize("name", SINGLE_OUTPUT)
def test_two_column_y_rejected_by_single_output(name):
    with pytest.raises(ValueError, match=r"y should be a 1d array.*\(30, 2\)"):
        _fit(name, X0, np.c_[Y0, Y0])


@pytest.mark.parametrize("name", ["SpectralRidge", "SpectralRidgeCV"])
def test_two_column_y_is_two_targets(name):
    coef2, _ = _fit(name, X0, np.c_[Y0, 2 * Y0])
    coef1, _ = _fit(name, X0, Y0)
    assert coef2.shape == (2, P)
    assert_allclose(coef2[0], coef1, rtol=1e-10)


# ---------------------------------------------------------------------------------------
# Degenerate data: n=1, p=1, constant y, constant and duplicated columns
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CV_ENTRIES)
def test_cv_needs_as_many_samples_as_folds(name):
    with pytest.raises(ValueError, match=r"cv=3 folds need at least 3 samples; got "
                                         r"n_samples=1"):
        _fit(name, X0[:1], Y0[:1])


def test_loo_needs_two_samples():
    with pytest.raises(ValueError, match="leave-one-out needs at least 2 samples"):
        _fit("SpectralRidgeCV", X0[:1], Y0[:1])


@pytest.mark.parametrize("name", ["enet_path", "GroupLassoRegressor", "group_lasso_path",
                                  "SpectralRidge"])
def test_one_sample_gives_the_null_model(name):
    # With an intercept one sample is fitted exactly by the intercept alone.
    coef, fitted = _fit(name, X0[:1], Y0[:1])
    assert_array_equal(coef, 0.0)
    if hasattr(fitted, "predict"):
        assert_allclose(fitted.predict(X0[:3]), Y0[0], rtol=1e-12)


def test_one_feature_matches_scikit_learn():
    X, y = X0[:, :1], Y0
    off = {"standardize": False}  # scikit-learn's objectives
    coef, est = _fit("ElasticNetPathCV", X, y, **off)
    ref = ElasticNet(alpha=est.alpha_, l1_ratio=0.5, tol=1e-12).fit(X, y)
    assert_allclose(coef, ref.coef_, rtol=1e-6)
    coef, _ = _fit("GroupLassoRegressor", X, y, **off)
    assert_allclose(coef, Lasso(alpha=0.05, tol=1e-12).fit(X, y).coef_, rtol=1e-6)
    coef, est = _fit("GroupLassoPathCV", X, y, **off)
    assert_allclose(coef, Lasso(alpha=est.alpha_, tol=1e-12).fit(X, y).coef_, rtol=1e-6)
    coef, _ = _fit("SpectralRidge", X, y)
    assert_allclose(coef, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-10)
    coef, est = _fit("SpectralRidgeCV", X, y)
    assert_allclose(coef, Ridge(alpha=est.alpha_).fit(X, y).coef_, rtol=1e-10)
    Xc, yc = X - X.mean(0), y - y.mean()
    for name in ("enet_path", "group_lasso_path"):
        (alphas, coefs, _), rho = _fit(name, X, y, **off)[1], 0.5 if name == "enet_path" else 1
        _, ref, _ = sk_enet_path(Xc, yc, l1_ratio=rho, alphas=alphas, tol=1e-12)
        assert_allclose(coefs, ref, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_constant_y_gives_zero_coef(name):
    # The grid-building names say that their grid is degenerate (alpha_max = 0; glmnet
    # refuses, scikit-learn is silent); a fixed alpha has nothing to say.
    y = np.full(N, 3.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        coef, fitted = _fit(name, X0, y)
    said = [w for w in caught if "alpha_max is 0.0: y is constant" in str(w.message)]
    assert len(said) == (1 if name in ("ElasticNetPathCV", "enet_path", "GroupLassoPathCV",
                                       "group_lasso_path") else 0), name
    assert_allclose(coef, 0.0, atol=1e-12)
    if hasattr(fitted, "predict"):
        assert_allclose(fitted.predict(X0), 3.5, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_constant_column_gets_zero_coef(name):
    X = X0.copy()
    X[:, 2] = 7.0
    coef, _ = _fit(name, X, Y0)
    assert np.all(np.abs(coef[2]) < 1e-10), coef[2]
    assert np.any(coef != 0)


@pytest.mark.parametrize("name", ["ElasticNetPathCV", "enet_path", "GroupLassoRegressor",
                                  "SpectralRidge", "SpectralRidgeCV"])
def test_duplicated_column_splits_evenly(name):
    # Strictly convex in the two copies (ridge part, or a group holding both): the optimum
    # gives them equal coefficients. Coordinate descent only balances the copies up to its
    # duality-gap tolerance (the imbalance costs ~alpha·(a - b)²), hence the looser rtol.
    X = np.column_stack([X0, X0[:, 0]])
    params = {"groups": [[0, 4], [1], [2], [3]]} if name == "GroupLassoRegressor" else {}
    coef, _ = _fit(name, X, Y0, **params)
    if coef.ndim == 2:
        coef = coef[:, -1]  # a path: its least penalised point
    assert abs(coef[0]) > 1e-2
    rtol = 1e-8 if name.startswith("Spectral") else 1e-2
    assert_allclose(coef[0], coef[4], rtol=rtol)


# ---------------------------------------------------------------------------------------
# Every invalid parameter value: the error names the parameter
# ---------------------------------------------------------------------------------------

_COMMON_BAD = [
    ("fit_intercept", "yes"), ("tol", -1.0), ("tol", "a"), ("max_iter", 0),
    ("max_iter", 1.5), ("max_iter", -3),
]
_PATH_BAD = [
    ("l1_ratio", 1.5), ("l1_ratio", -0.1), ("l1_ratio", "a"), ("l1_ratio", [0.5]),
    ("eps", 0.0), ("eps", 1.0), ("eps", -1.0), ("n_alphas", 0), ("n_alphas", 10.5),
    ("n_alphas", "5"), ("alphas", [1.0, -1.0]), ("alphas", [1.0, np.nan]),
    ("alphas", [[1.0, 0.5]]), ("alphas", []), ("alphas", ["a", 1.0]), ("alphas", "a"),
    ("standardize", "no"), ("return_n_iter", "no"), ("sample_weight", "a"),
    ("coef_init", np.ones(P - 1)), ("coef_init", np.ones(P + 1)),
    ("coef_init", np.ones((P, 1))), ("coef_init", [np.nan] * P), ("coef_init", ["a"] * P),
] + _COMMON_BAD
BAD_PARAMS = {
    "ElasticNetPathCV": [
        ("l1_ratio", 1.5), ("l1_ratio", -0.1), ("l1_ratio", [0.5, 2.0]),
        ("l1_ratio", [0.5, "a"]), ("l1_ratio", []), ("l1_ratio", [[0.5]]),
        ("l1_ratio", [0.0, 0.5]), ("eps", 0.0), ("eps", 1.0), ("alphas", 0),
        ("alphas", 2.5), ("alphas", [1.0, -1.0]), ("alphas", [np.inf]), ("alphas", ["a"]),
        ("alphas", [[1.0]]), ("cv", 1), ("cv", "a"), ("rule", "max"),
        ("standardize", "no"), ("penalty_factor", [1.0, -1.0, 1.0, 1.0]),
        ("penalty_factor", [1.0, 1.0]), ("penalty_factor", [1.0] * (P + 1)),
        ("penalty_factor", ["a"] * P), ("penalty_factor", [np.inf] * P),
        ("positive", "no"), ("precompute", "sometimes"), ("n_jobs", "a"),
        ("random_state", "a"),
    ] + _COMMON_BAD,
    "enet_path": _PATH_BAD + [
        ("l1_ratio", 0.0),  # pure ridge has no alpha_max: an explicit grid is needed
        ("penalty_factor", [1.0, -1.0, 1.0, 1.0]), ("penalty_factor", [1.0, 1.0]),
        ("penalty_factor", ["a"] * P), ("positive", "no"), ("precompute", "sometimes"),
    ],
    "GroupLassoRegressor": [
        ("groups", "suffix"), ("groups", 3), ("groups", [0, 1]), ("groups", [[0, 1], [1, 2]]),
        ("groups", [[0, 7]]), ("groups", [[0, 0]]), ("groups", [[]]), ("groups", {"g": [9]}),
        ("groups", "prefix"),  # needs feature names
        ("alpha", 0.0), ("alpha", -1.0), ("alpha", "a"), ("l1_ratio", 2.0),
        ("l1_ratio", -1.0), ("group_weights", [1.0, -1.0, 1.0, 1.0]),
        ("group_weights", [1.0, 1.0]), ("group_weights", ["a"] * P),
        ("group_weights", {"zz": 1.0}), ("group_weights", {0: -1.0}),
        ("group_weights", {0: "a"}), ("group_weights", [np.nan] * P),
        ("standardize", "no"), ("warm_start", "no"),
    ] + _COMMON_BAD,
    "GroupLassoPathCV": [
        ("groups", "suffix"), ("groups", [0, 1]), ("l1_ratio", [0.5, 2.0]),
        ("l1_ratio", ["a"]), ("l1_ratio", 1.5), ("group_weights", [1.0, 1.0]),
        ("group_weights", [-1.0] * P), ("group_weights", ["a"] * P), ("alphas", 0),
        ("alphas", [1.0, -1.0]), ("alphas", ["a"]), ("eps", 2.0), ("cv", 1), ("cv", "a"),
        ("rule", "max"), ("standardize", "no"), ("n_jobs", "a"),
    ] + _COMMON_BAD,
    "group_lasso_path": [p for p in _PATH_BAD if p[0] != "l1_ratio" or p[1] != [0.5]] + [
        ("groups", "suffix"), ("groups", [0, 1]), ("groups", [[0, 7]]),
        ("group_weights", [1.0, 1.0]), ("group_weights", [-1.0] * P),
        ("group_weights", ["a"] * P), ("group_weights", {"zz": 1.0}),
    ],
    "SpectralRidge": [
        ("alpha", -1.0), ("alpha", "a"), ("alpha", [1.0, 2.0]), ("alpha", [np.nan]),
        ("alpha", [[1.0]]), ("fit_intercept", "yes"), ("solver", "cholesky"),
        ("penalty_factor", [0.0] * P), ("penalty_factor", [1.0, 1.0]),
        ("penalty_factor", [-1.0] * P), ("penalty_factor", ["a"] * P),
    ],
    "SpectralRidgeCV": [
        ("alphas", 0), ("alphas", [-1.0]), ("alphas", [np.nan]), ("alphas", ["a"]),
        ("alphas", [0.0, 1.0]), ("cv", 1), ("cv", "loo"), ("rule", "max"),
        ("alpha_per_target", "a"), ("fit_intercept", "yes"), ("solver", "lsqr"),
        ("store_cv_values", "a"), ("penalty_factor", [1.0, 1.0]),
        ("penalty_factor", [0.0] * P), ("penalty_factor", ["a"] * P), ("n_jobs", "a"),
    ],
}
# parameter combinations that are invalid together; the error names the parameter
BAD_COMBINATIONS = [
    ("SpectralRidgeCV", {"cv": 3, "store_cv_values": True}, "store_cv_values"),
    ("SpectralRidgeCV", {"cv": "gcv", "rule": "1se"}, "rule='1se'"),
    ("ElasticNetPathCV", {"l1_ratio": 0.0}, "l1_ratio=0"),
]


def _bad_param_cases():
    for name, cases in BAD_PARAMS.items():
        for param, value in cases:
            yield pytest.param(name, param, value, id=f"{name}-{param}={value!r}"[:80])


@pytest.mark.parametrize("name, param, value", list(_bad_param_cases()))
def test_invalid_parameter_value_is_named(name, param, value):
    with pytest.raises(ValueError, match=re.escape(param)):
        _fit(name, X0, Y0, **{param: value})


@pytest.mark.parametrize("name, params, match", BAD_COMBINATIONS)
def test_invalid_parameter_combination_is_named(name, params, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        _fit(name, X0, Y0, **params)


def test_path_functions_reject_silent_misuse():
    # The three silent failures of the issue: a float grid size, tol < 0, max_iter = 0.
    for fn in (enet_path, group_lasso_path):
        nm = fn.__name__
        with pytest.raises(ValueError, match=f"'n_alphas' parameter of {nm} must be an int"):
            fn(X0, Y0, n_alphas=10.5)
        with pytest.raises(ValueError, match=f"'tol' parameter of {nm} must be a float"):
            fn(X0, Y0, tol=-1e-4)
        with pytest.raises(ValueError, match=f"'max_iter' parameter of {nm} must be an int"):
            fn(X0, Y0, max_iter=0)


SW_BAD = [
    (-np.ones(N), "sample_weight"), (np.ones(N - 1), "sample_weight has 29 entries"),
    (np.ones(N + 1), "sample_weight has 31 entries"),
    (np.ones((N, 2)), "sample_weight must be 1-D"),
    (_with(np.ones(N), 0, np.nan), "sample_weight contains NaN"),
    (_with(np.ones(N), 0, np.inf), "sample_weight contains NaN or infinity"),
    (np.zeros(N), "sample_weight must have a positive sum"),
    (["a"] * N, "sample_weight must contain only real numbers.*'a'"),
    (sp.csr_matrix(np.ones((N, 1))), "sample_weight"),
]


@pytest.mark.parametrize("sw, match", SW_BAD, ids=[f"{i}-{m[:25]}" for i, (_, m) in
                                                   enumerate(SW_BAD)])
@pytest.mark.parametrize("name", NAMES)
def test_invalid_sample_weight_is_named(name, sw, match):
    with pytest.raises(ValueError, match=match):
        _fit(name, X0, Y0, sample_weight=sw)


# ---------------------------------------------------------------------------------------
# Extreme sample weights: scale-invariant objectives are rescaled, ridge says why not
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ElasticNetPathCV", "enet_path", "GroupLassoRegressor",
                                  "GroupLassoPathCV", "group_lasso_path"])
@pytest.mark.parametrize("scale", [1e308, 1e-300])
def test_extreme_sample_weights_equal_unit_weights(name, scale):
    sw = np.random.default_rng(3).uniform(0.5, 1.0, N)
    coef_ref, _ = _fit(name, X0, Y0, sample_weight=sw)
    coef, _ = _fit(name, X0, Y0, sample_weight=sw * scale)
    assert_allclose(coef, coef_ref, rtol=1e-9, atol=1e-12)


def test_overflowing_weights_do_not_blame_l1_ratio():
    # formerly "alpha_max is infinite (pure ridge, l1_ratio=0)" with l1_ratio=0.5
    alphas, coefs, _ = enet_path(X0, Y0, sample_weight=np.full(N, 1e308), n_alphas=3)
    assert np.all(np.isfinite(alphas)) and np.all(np.isfinite(coefs))


@pytest.mark.parametrize("name", ["SpectralRidge", "SpectralRidgeCV"])
def test_ridge_overflowing_weight_sum_is_explained(name):
    with pytest.raises(ValueError, match="sum of sample_weight overflows float64"):
        _fit(name, X0, Y0, sample_weight=np.full(N, 1e308))


# ---------------------------------------------------------------------------------------
# Accepted containers and dtypes: same result as the float64 ndarray fit
# ---------------------------------------------------------------------------------------

def _memmap(a, tmp_path, name):
    mm = np.lib.format.open_memmap(tmp_path / f"{name}.npy", mode="w+", dtype=a.dtype,
                                   shape=a.shape)
    mm[...] = a
    mm.flush()
    return np.load(tmp_path / f"{name}.npy", mmap_mode="r")


def _readonly(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


CONTAINERS = {
    "list": lambda X, y, tmp: (X.tolist(), y.tolist()),
    "tuple": lambda X, y, tmp: (tuple(map(tuple, X)), tuple(y)),
    "pandas": lambda X, y, tmp: (pd.DataFrame(X, columns=[f"f{j}" for j in range(P)]),
                                 pd.Series(y)),
    "csr": lambda X, y, tmp: (sp.csr_matrix(X), y),
    "csc": lambda X, y, tmp: (sp.csc_matrix(X), y),
    "coo": lambda X, y, tmp: (sp.coo_matrix(X), y),
    "lil": lambda X, y, tmp: (sp.lil_matrix(X), y),
    "csr_array": lambda X, y, tmp: (sp.csr_array(X), y),
    "readonly": lambda X, y, tmp: (_readonly(X), _readonly(y)),
    "readonly_fortran": lambda X, y, tmp: (_readonly(np.asfortranarray(X)), _readonly(y)),
    "memmap": lambda X, y, tmp: (_memmap(X, tmp, "X"), _memmap(y, tmp, "y")),
    "memmap_fortran": lambda X, y, tmp: (_memmap(np.asfortranarray(X), tmp, "XF"), y),
    "strided": lambda X, y, tmp: (np.repeat(np.repeat(X, 2, axis=0), 3, axis=1)[::2, ::3],
                                  np.repeat(y, 2)[::2]),
    "C_order": lambda X, y, tmp: (np.ascontiguousarray(X), y),
}


@pytest.mark.parametrize("container", list(CONTAINERS))
@pytest.mark.parametrize("name", NAMES)
def test_containers_give_the_ndarray_result(name, container, tmp_path):
    X, y = _data()
    X[np.abs(X) < 0.3] = 0.0  # some exact zeros, so sparse input is really sparse
    ref, _ = _fit(name, np.asfortranarray(X), y)
    Xc, yc = CONTAINERS[container](X, y, tmp_path)
    got, _ = _fit(name, Xc, yc)
    assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


DTYPES = {
    "int64": lambda X: np.round(3 * X).astype(np.int64),
    "int32": lambda X: np.round(3 * X).astype(np.int32),
    "uint8": lambda X: np.round(np.abs(3 * X)).astype(np.uint8),
    "bool": lambda X: X > 0,
    "float16": lambda X: X.astype(np.float16),
}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", NAMES)
def test_non_float_dtypes_become_float64(name, dtype):
    X, _ = _data()
    Xt = DTYPES[dtype](X)
    y = np.round(X @ [1.0, 0.5, -1.0, 0.0] * 2).astype(np.int64)  # integer targets too
    ref, _ = _fit(name, Xt.astype(np.float64), y.astype(np.float64))
    got, fitted = _fit(name, Xt, y)
    assert got.dtype == np.float64
    assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_float32_is_kept_and_close(name):
    ref, _ = _fit(name, X0, Y0)
    got, _ = _fit(name, X0.astype(np.float32), Y0.astype(np.float32))
    assert got.dtype == np.float32
    assert_allclose(got, ref, rtol=2e-3, atol=2e-4)


def test_sparse_float32_and_int_sample_weight():
    sw = np.arange(1, N + 1)
    for name in NAMES:
        ref, _ = _fit(name, X0, Y0, sample_weight=sw.astype(np.float64))
        got, _ = _fit(name, sp.csr_matrix(X0), Y0, sample_weight=list(sw))
        assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------------------
# The user's arrays are never modified
# ---------------------------------------------------------------------------------------

def _snapshot(obj):
    if sp.issparse(obj):
        return ("sparse", obj.data.copy(), obj.indices.copy(), obj.indptr.copy(),
                bool(obj.has_sorted_indices))
    return ("dense", np.array(obj, copy=True))


def _assert_same(obj, snap):
    if snap[0] == "sparse":
        assert_array_equal(obj.data, snap[1])
        assert_array_equal(obj.indices, snap[2])
        assert_array_equal(obj.indptr, snap[3])
    else:
        assert_array_equal(np.asarray(obj), snap[1])


def _unsorted_csc(X):
    Xs = sp.csc_matrix(X)
    data, idx = Xs.data.copy(), Xs.indices.copy()
    for j in range(Xs.shape[1]):
        a, b = Xs.indptr[j], Xs.indptr[j + 1]
        data[a:b], idx[a:b] = data[a:b][::-1].copy(), idx[a:b][::-1].copy()
    out = sp.csc_matrix((data, idx, Xs.indptr.copy()), shape=Xs.shape)
    out.has_sorted_indices = False
    return out


def _entry_arrays(name):
    """The array-valued arguments each entry takes, with valid values."""
    pf = np.linspace(0.5, 2.0, P)
    gw = np.linspace(1.0, 2.0, P)
    return {
        "ElasticNetPathCV": {"penalty_factor": pf},
        "enet_path": {"penalty_factor": pf, "coef_init": np.full(P, 0.1),
                      "alphas": np.array([0.5, 0.05])},
        "GroupLassoRegressor": {"group_weights": gw},
        "GroupLassoPathCV": {"group_weights": gw, "alphas": np.array([0.5, 0.05])},
        "group_lasso_path": {"group_weights": gw, "coef_init": np.full(P, 0.1),
                             "alphas": np.array([0.5, 0.05])},
        "SpectralRidge": {"penalty_factor": pf},
        "SpectralRidgeCV": {"penalty_factor": pf, "alphas": np.array([10.0, 1.0, 0.1])},
    }[name]


@pytest.mark.parametrize("layout", ["fortran", "C", "csc", "csc_unsorted", "csr"])
@pytest.mark.parametrize("name", NAMES)
def test_user_arrays_unchanged(name, layout):
    X, y = _data()
    X[np.abs(X) < 0.3] = 0.0
    X = {"fortran": np.asfortranarray, "C": np.ascontiguousarray, "csc": sp.csc_matrix,
         "csc_unsorted": _unsorted_csc, "csr": sp.csr_matrix}[layout](X)
    sw = np.random.default_rng(5).uniform(0.5, 2.0, N)
    arrays = _entry_arrays(name)
    snaps = {k: _snapshot(v) for k, v in [("X", X), ("y", y), ("sw", sw)] + list(arrays.items())}
    _fit(name, X, y, sample_weight=sw, **arrays)
    for k, v in [("X", X), ("y", y), ("sw", sw)] + list(arrays.items()):
        _assert_same(v, snaps[k])
    if layout == "csc_unsorted":
        assert not X.has_sorted_indices


def test_spectral_ridge_lsqr_leaves_user_arrays_unchanged_and_ignores_later_edits():
    X = sp.csr_matrix(_with(X0, (0, 0), 0.0))
    snap = _snapshot(X)
    est = SpectralRidge(solver="lsqr").fit(X, Y0)
    _assert_same(X, snap)
    W_before, _ = est.path([1.0, 0.1])
    X.data[:] = 0.0  # the user reuses their matrix
    W_after, _ = est.path([1.0, 0.1])
    assert_allclose(W_after, W_before, rtol=1e-8)


# ---------------------------------------------------------------------------------------
# Wrong-length array arguments, fuzzed in a subprocess (a kernel crash fails the test)
# ---------------------------------------------------------------------------------------

FUZZ_SCRIPT = textwrap.dedent(r'''
    import json, sys, warnings
    import numpy as np
    import scipy.sparse as sp
    import sklearn_normpen as snp

    warnings.simplefilter("ignore")
    n, p = 20, 5
    rng = np.random.default_rng(0)
    Xd = rng.standard_normal((n, p))
    y = Xd @ np.arange(1.0, p + 1) + rng.standard_normal(n)
    designs = {"gram": Xd, "dense": Xd[:, :p], "sparse": sp.csc_matrix(Xd * (Xd > 0))}

    def call(fn, X, arg, value):
        kw = {arg: value}
        if fn == "enet_path":
            pre = {"gram": True, "dense": False, "sparse": "auto"}[X]
            if arg == "y":
                return snp.enet_path(designs[X], value, precompute=pre, n_alphas=3)
            return snp.enet_path(designs[X], y, precompute=pre, n_alphas=3, **kw)
        if fn == "group_lasso_path":
            if arg == "y":
                return snp.group_lasso_path(designs[X], value, n_alphas=3)
            return snp.group_lasso_path(designs[X], y, n_alphas=3, **kw)
        fit_kw = {}
        if arg in ("sample_weight",):
            fit_kw, kw = kw, {}
        yy = value if arg == "y" else y
        if arg == "y":
            kw = {}
        cls = getattr(snp, fn)
        extra = {"cv": 3} if fn.endswith("CV") else {}
        if fn in ("ElasticNetPathCV", "GroupLassoPathCV"):
            extra["alphas"] = kw.pop("alphas", 3)
        return cls(**extra, **kw).fit(designs[X], yy, **fit_kw)

    bad = lambda m: [np.ones(m) for m in (0, 1, m - 1, m + 1, 2 * m)] + [np.ones((m, 2))]
    cases = []
    for X in designs:
        for fn, args in {
            "enet_path": ["coef_init", "penalty_factor", "sample_weight", "y", "alphas"],
            "group_lasso_path": ["coef_init", "group_weights", "sample_weight", "y",
                                 "alphas"],
            "ElasticNetPathCV": ["penalty_factor", "sample_weight", "y", "alphas"],
            "GroupLassoRegressor": ["group_weights", "sample_weight", "y", "groups"],
            "GroupLassoPathCV": ["group_weights", "sample_weight", "y", "alphas"],
            "SpectralRidge": ["alpha", "penalty_factor", "sample_weight", "y"],
            "SpectralRidgeCV": ["penalty_factor", "sample_weight", "y", "alphas"],
        }.items():
            for arg in args:
                m = n if arg in ("sample_weight", "y") else p
                values = bad(m)
                if arg == "alpha":  # one per target: y has one target
                    values = [np.ones(k) for k in (0, 2, 3)]
                if arg == "alphas":  # no fixed length: empty, 2-D, or non-finite
                    values = [np.ones(0), np.ones((2, 2)), np.array([1.0, np.nan])]
                if arg == "y" and fn.startswith("Spectral"):
                    values = values[:-1]  # a 2-D y is two targets there
                if arg == "groups":
                    values = [np.zeros(k) for k in (1, p - 1, p + 1, 2 * p)]
                for v in values:
                    cases.append((fn, X, arg, v))
    import sklearn
    for skip in (False, True):  # also with scikit-learn's parameter validation switched off
        with sklearn.config_context(skip_parameter_validation=skip):
            for fn, X, arg, v in cases:
                # announce the case first: if the process dies, the parent knows which one
                print(json.dumps({"case": [fn, X, arg, list(np.shape(v)), skip]}), flush=True)
                try:
                    call(fn, X, arg, v)
                    out = {"raised": None}
                except Exception as e:
                    out = {"raised": type(e).__name__, "msg": str(e)}
                print(json.dumps(out), flush=True)
    print("DONE", flush=True)
''')


def _run_isolated(script, cwd):
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=package_env(),
                          capture_output=True, text=True, timeout=600)


def test_isolation_detects_a_crash(tmp_path):
    # what the fuzz test relies on: an abort in the child is a failed return code here
    proc = _run_isolated("import os, sklearn_normpen; print('x', flush=True); os.abort()",
                         tmp_path)
    assert proc.returncode != 0 and proc.stdout == "x\n"


def test_wrong_length_arrays_never_crash_and_are_named(tmp_path):
    proc = _run_isolated(FUZZ_SCRIPT, tmp_path)
    lines = proc.stdout.splitlines()
    last_case = next((ln for ln in reversed(lines) if '"case"' in ln), None)
    assert proc.returncode == 0, (
        f"the interpreter died (return code {proc.returncode}) during {last_case}:\n"
        f"{proc.stderr[-2000:]}")
    assert lines and lines[-1] == "DONE", proc.stderr[-2000:]
    records = [json.loads(ln) for ln in lines[:-1]]
    pairs = list(zip(records[::2], records[1::2]))
    assert len(pairs) > 500
    for case, out in pairs:
        fn, X, arg, shape, skip = case["case"]
        assert out["raised"] in ("ValueError", "InvalidParameterError"), (case, out)
        assert re.search(rf"(^|\W){arg}\W", out["msg"]), (case, out["msg"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e200])
@pytest.mark.parametrize("intercept", [False, True])
def test_enet_path_finiteness_deferred_to_the_gram(bad, intercept):
    # enet_path leaves X's finiteness to the Design, which reads it from the Gram's
    # diagonal on the covariance route (no intercept, dense, unweighted, n >> p) and
    # checks at once elsewhere: the same errors as scikit-learn's check either way; a
    # finite 1e200 overflows the diagonal and goes to the full check, then the scale check
    from sklearn_normpen import enet_path
    from sklearn_normpen._design import Design
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((300, 6)))
    y = rng.standard_normal(300)
    X[17, 4] = bad
    if not intercept:  # the deferred route: pending until the Gram is formed
        d = Design(X, y, None, False, scale_from_gram=True, finite_pending="enet_path")
        assert d._finite_pending == "enet_path"
    match = ("Input X contains NaN" if np.isnan(bad) else "Input X contains infinity"
             if np.isinf(bad) else "magnitude 1e\\+200")
    with pytest.raises(ValueError, match=match):
        enet_path(X, y, fit_intercept=intercept, standardize=False, n_alphas=3)
    with pytest.raises(ValueError, match=match):
        d = Design(X, y, None, intercept, scale_from_gram=True, finite_pending="enet_path")
        d.gram_stats()
