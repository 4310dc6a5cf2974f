"""The shared input validation: dtype policy, layout, no mutation, clear errors."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from sklearn_normpen._validation import (
    check_scalar_alpha, validate_alphas, validate_penalty_factor, validate_sample_weight,
    validate_Xy)


class _Dummy(BaseEstimator):
    pass


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_fortran_order(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3)).astype(dtype)
    y = rng.standard_normal(10)
    Xv, yv = validate_Xy(_Dummy(), X, y)
    assert Xv.dtype == dtype and yv.dtype == dtype
    assert Xv.flags.f_contiguous


def test_int_input_becomes_float64():
    Xv, yv = validate_Xy(_Dummy(), np.arange(12).reshape(6, 2), np.arange(6))
    assert Xv.dtype == np.float64 and yv.dtype == np.float64


def test_unsorted_csc_is_not_mutated():
    X = sp.csc_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 1]), np.array([0, 2, 3])),
                      shape=(3, 2))
    X.has_sorted_indices = False
    before = X.indices.copy()
    Xv, _ = validate_Xy(_Dummy(), X, np.ones(3))
    np.testing.assert_array_equal(X.indices, before)
    assert Xv.has_sorted_indices
    np.testing.assert_array_equal(Xv.toarray(), X.toarray())


def test_errors_name_the_problem():
    X = np.ones((4, 2))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        validate_Xy(_Dummy(), X_nan, np.ones(4))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        validate_Xy(_Dummy(), X, np.ones(3))
    with pytest.raises(ValueError, match="alphas must be positive"):
        validate_alphas([1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        validate_alphas([1.0, np.inf])
    with pytest.raises(ValueError, match="penalty_factor must be 1-D with one entry per feature"):
        validate_penalty_factor([1.0], 2)
    with pytest.raises(ValueError, match="non-negative"):
        validate_penalty_factor([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="alpha must be a finite non-negative"):
        check_scalar_alpha(-1.0)
    with pytest.raises(ValueError, match="positive sum"):
        validate_sample_weight(np.zeros(4), X)
    with pytest.raises(ValueError, match="[Nn]egative"):
        validate_sample_weight(np.array([1.0, -1, 1, 1]), X)


def test_alphas_sorted_decreasing_copy():
    a = np.array([0.1, 1.0, 0.5])
    out = validate_alphas(a)
    np.testing.assert_array_equal(out, [1.0, 0.5, 0.1])
    np.testing.assert_array_equal(a, [0.1, 1.0, 0.5])


@pytest.mark.parametrize("path_fn", ["enet_path", "group_lasso_path"])
def test_path_functions_leave_unsorted_csc_untouched(path_fn):
    import sklearn_normpen

    rng = np.random.default_rng(0)
    X = sp.random(30, 6, density=0.5, format="csc", random_state=0)
    perm_data, perm_idx = X.data.copy(), X.indices.copy()
    for j in range(6):  # reverse each column's stored order: valid CSC, unsorted indices
        a, b = X.indptr[j], X.indptr[j + 1]
        perm_data[a:b], perm_idx[a:b] = X.data[a:b][::-1], X.indices[a:b][::-1]
    Xu = sp.csc_matrix((perm_data, perm_idx, X.indptr.copy()), shape=X.shape)
    Xu.has_sorted_indices = False
    before = Xu.indices.copy()
    y = rng.standard_normal(30)
    alphas, coefs, _ = getattr(sklearn_normpen, path_fn)(Xu, y, n_alphas=5)
    np.testing.assert_array_equal(Xu.indices, before)
    # and the fit is the one of the same matrix with sorted indices
    _, coefs_sorted, _ = getattr(sklearn_normpen, path_fn)(X, y, n_alphas=5)
    np.testing.assert_allclose(coefs, coefs_sorted, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------
# Validators of array-valued parameters, path-function decorator, kernel arguments
# ---------------------------------------------------------------------------------------

def test_validate_coef_init():
    from sklearn_normpen._validation import validate_coef_init

    w = np.array([1, 2, 3])
    out = validate_coef_init(w, 3, np.float32)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out is not w
    assert_equal = np.testing.assert_array_equal
    assert_equal(out, [1, 2, 3])
    assert validate_coef_init(None, 3) is None
    for bad, match in [(np.ones(4), r"coef_init must have shape \(3,\).*got shape \(4,\)"),
                       (np.ones(2), r"got shape \(2,\)"), (np.ones((3, 1)), r"\(3, 1\)"),
                       ([1.0, np.nan, 1.0], "coef_init must be finite"),
                       (["a", 1, 2], "coef_init must contain only real numbers.*'a'")]:
        with pytest.raises(ValueError, match=match):
            validate_coef_init(bad, 3)


def test_validate_l1_ratio_and_group_weights():
    from sklearn_normpen._validation import validate_group_weights, validate_l1_ratio

    np.testing.assert_array_equal(validate_l1_ratio(0.5), [0.5])
    np.testing.assert_array_equal(validate_l1_ratio([0, 1]), [0.0, 1.0])
    for bad, match in [([0.5, "a"], "l1_ratio must contain only real numbers.*'a'"),
                       (1.5, r"l1_ratio must be in \[0, 1\]; got \[1.5\]"),
                       ([], "non-empty"), ([[0.5]], "1-D"), ([np.nan], r"\[0, 1\]")]:
        with pytest.raises(ValueError, match=match):
            validate_l1_ratio(bad)
    validate_group_weights({"a": 1.0, "b": 0})
    validate_group_weights([1.0, 2.0])
    for bad, match in [({"a": -1.0}, r"group_weights\['a'\] must be a finite non-negative"),
                       ({"a": "x"}, r"group_weights\['a'\] must contain only real numbers"),
                       ({"a": [1, 2]}, r"group_weights\['a'\]"),
                       ([1.0, -2.0], r"group_weights must be finite and non-negative"),
                       ([[1.0]], "group_weights must be 1-D"),
                       (["x"], "group_weights must contain only real numbers.*'x'")]:
        with pytest.raises(ValueError, match=match):
            validate_group_weights(bad)


def test_validate_array_params_from_estimator_and_dict():
    from sklearn_normpen import ElasticNetPathCV
    from sklearn_normpen._validation import validate_array_params

    validate_array_params(ElasticNetPathCV(l1_ratio=[0.2, 1.0], alphas=[1.0, 0.1]))
    validate_array_params(ElasticNetPathCV(alphas=7))  # an int grid size: not an array
    with pytest.raises(ValueError, match="l1_ratio must contain only real numbers"):
        validate_array_params(ElasticNetPathCV(l1_ratio=[0.2, "a"]))
    with pytest.raises(ValueError, match="alphas must be positive"):
        validate_array_params(ElasticNetPathCV(alphas=[1.0, 0.0]))
    with pytest.raises(ValueError, match=r"penalty_factor must be 1-D with one entry per "
                                         r"feature \(3\); got shape \(2,\)"):
        validate_array_params({"penalty_factor": [1, 1]}, n_features=3)
    with pytest.raises(ValueError, match=r"coef_init must have shape \(3,\)"):
        validate_array_params({"coef_init": [1, 1]}, n_features=3)
    with pytest.raises(ValueError, match="sample_weight must contain only real numbers"):
        validate_array_params({"sample_weight": ["a", "b"]})


def test_path_params_are_validated_even_when_sklearn_skips_validation():
    import sklearn

    from sklearn_normpen import enet_path

    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10.0)
    with pytest.raises(ValueError, match="'n_alphas' parameter of enet_path must be an int"):
        enet_path(X, y, n_alphas=2.5)
    with sklearn.config_context(skip_parameter_validation=True):
        # types are not checked then, but array lengths still are (memory safety)
        with pytest.raises(ValueError, match=r"coef_init must have shape \(3,\)"):
            enet_path(X, y, coef_init=np.ones(5))
        with pytest.raises(ValueError, match=r"penalty_factor must be 1-D with one entry"):
            enet_path(X, y, penalty_factor=np.ones(2))
    assert enet_path.__name__ == "enet_path" and "coef_init" in enet_path.__doc__


def test_sample_weight_rescaling_is_exact_and_optional():
    X = np.ones((4, 2))
    sw = np.array([3.0, 1e-3, 7.0, 0.0])
    out = validate_sample_weight(sw, X)
    assert 0.5 <= out.max() < 1.0
    ratio = sw[sw > 0] / out[sw > 0]
    assert out[3] == 0.0 and np.all(ratio == ratio[0])  # one power of two, exactly
    assert np.log2(ratio[0]) == int(np.log2(ratio[0]))
    np.testing.assert_array_equal(validate_sample_weight(sw, X, rescale=False), sw)
    huge = validate_sample_weight(np.full(4, 1e308), X)
    assert np.isfinite(huge.sum()) and np.all(huge == huge[0])
    tiny = validate_sample_weight(np.full(4, 1e-310), X)  # subnormal
    assert np.all(tiny == tiny[0]) and 0.5 <= tiny[0] < 1
    with pytest.raises(ValueError, match="sample_weight must be numeric; got 'a'"):
        validate_sample_weight("a", X)
    np.testing.assert_array_equal(validate_sample_weight(2.0, X), np.full(4, 0.5))


def test_validate_path_input_names_caller_and_culprit():
    from sklearn_normpen._validation import validate_path_input

    def my_path(X, y):
        return validate_path_input(X, y)

    with pytest.raises(ValueError, match="required by my_path"):
        my_path(np.ones((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="X has 3 rows but y has 2 entries"):
        my_path(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="y must be numeric.*'b'"):
        my_path(np.ones((2, 2)), [1.0, "b"])
    with pytest.raises(ValueError, match="X must be numeric.*'z'"):
        my_path([[1.0, "z"], [1.0, 2.0]], [1.0, 2.0])


def test_check_kernel_args():
    from sklearn_normpen._validation import check_kernel_args

    dims = {"n": 4, "k": 2}
    U, q = np.zeros((4, 2)), np.zeros(4)
    check_kernel_args("kern", dims, np.float64, U=(U, ("n", "k")), q=(q, ("n",), "out"))
    cases = [
        (dict(U=(np.zeros((5, 2)), ("n", "k"))), r"kern: argument U has shape \(5, 2\), "
                                                  r"expected \(4, 2\)"),
        (dict(U=(np.zeros(4), ("n", "k"))), r"argument U has shape \(4,\)"),
        (dict(U=(U.astype(np.float32), ("n", "k"))), "dtype float32, expected float64"),
        (dict(U=(np.asfortranarray(np.zeros((4, 2))), ("n", "k"))), "C-contiguous"),
        (dict(U=(U.tolist(), ("n", "k"))), "must be an ndarray"),
    ]
    ro = np.zeros(4)
    ro.setflags(write=False)
    cases.append((dict(q=(ro, ("n",), "out")), "written by the kernel but is read-only"))
    for arrays, match in cases:
        with pytest.raises(ValueError, match=match):
            check_kernel_args("kern", dims, np.float64, **arrays)


def test_huge_weights_survive_a_float32_X():
    X = np.ones((3, 2), dtype=np.float32)
    out = validate_sample_weight(np.array([1e300, 2e300, 0.0]), X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out / out[1], [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(validate_sample_weight(1e300, X), np.full(3, 0.5))


# ---------------------------------------------------------------------------------------
# Signatures of the compiled solver kernels
# ---------------------------------------------------------------------------------------

@pytest.fixture
def kernel_calls(monkeypatch):
    """Route every solver kernel through check_kernel_call; record the last arguments."""
    from sklearn_normpen._kernels import _bcd_group, _bcd_multitask, _cd_enet, _moments
    from sklearn_normpen._kernels import _bcd_multitask_group, _cd_multinomial
    from sklearn_normpen._validation import KERNEL_SIGNATURES, check_kernel_call

    seen = {}
    for mod in (_cd_enet, _bcd_group, _bcd_multitask, _moments, _bcd_multitask_group,
                _cd_multinomial):
        for name in KERNEL_SIGNATURES:
            if hasattr(mod, name):
                def wrapped(*args, _fn=getattr(mod, name), _name=name):
                    check_kernel_call(_name, args)
                    seen[_name] = args
                    return _fn(*args)
                wrapped.__name__ = name  # the solvers' call_kernel checks by this name
                monkeypatch.setattr(mod, name, wrapped)
    return seen


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_signatures_accept_every_real_call(kernel_calls, dtype, monkeypatch):
    import warnings

    from sklearn_normpen import (_design, enet_path, group_lasso_path, multitask_enet_path,
                                 multitask_group_lasso_path)
    from sklearn_normpen._validation import KERNEL_SIGNATURES

    # the certificates' compiled Xᵀr (xt_dot) at these sizes too (else from 16 MB, one thread)
    monkeypatch.setattr(_design, "dot_columns", lambda n, p, size: True)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6)).astype(dtype)
    X[np.abs(X) < 0.5] = 0
    y = (X @ np.arange(6.0) + rng.standard_normal(40)).astype(dtype)
    sw = rng.uniform(0.5, 2, 40)
    Xs = sp.csc_matrix(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data, pre in [(X, True), (X, False), (Xs, "auto")]:
            for w in (None, sw):
                enet_path(data, y, precompute=pre, sample_weight=w, n_alphas=4,
                          fit_intercept=True, coef_init=np.full(6, 0.1))
            # box limits: the compiled box terms of the certificate
            enet_path(data, y, precompute=pre, n_alphas=4, lower_limits=-1.0,
                      upper_limits=[0.5] * 5 + [np.inf])
        for data in (X, Xs):
            for rho in (0.0, 0.5):
                for w in (None, sw):
                    group_lasso_path(data, y, groups=[[0, 1, 2], [3, 4]], l1_ratio=rho,
                                     sample_weight=w, n_alphas=4, fit_intercept=True)
                # box limits: the kernels' limit arguments and the compiled conjugate
                group_lasso_path(data, y, groups=[[0, 1, 2], [3, 4]], l1_ratio=rho,
                                 n_alphas=4, fit_intercept=True,
                                 upper_limits=[0.5] * 5 + [np.inf])
        # covariance mode (a dense float64 path with n >= p): the compiled Gram sweeps
        group_lasso_path(X.astype(np.float64), y.astype(np.float64),
                         groups=[[0, 1, 2], [3, 4]], n_alphas=4)
        # a wide float64 path: certificates that bound most zero groups (their gradient
        # only on the other groups' columns)
        Xw = rng.standard_normal((30, 300))
        group_lasso_path(Xw, Xw[:, :5].sum(1) + rng.standard_normal(30), n_alphas=20,
                         groups=[list(range(i, i + 5)) for i in range(0, 300, 5)])
        # and its multi-response twin (the rows of the gradient on a column list)
        Yw = Xw[:, :10] @ rng.standard_normal((10, 2)) + rng.standard_normal((30, 2))
        multitask_group_lasso_path(Xw, Yw, n_alphas=20,
                                   groups=[list(range(i, i + 5)) for i in range(0, 300, 5)])
        Y = np.column_stack([y, y[::-1]])
        for data in (X, Xs):
            for w in (None, sw):
                multitask_enet_path(data, Y, sample_weight=w, n_alphas=4)
                multitask_group_lasso_path(data, Y, groups=[[0, 1, 2], [3, 4, 5]],
                                           l1_ratio=0.5, sample_weight=w, n_alphas=4)
        # the multinomial sweeps (ungrouped and grouped, dense and CSC)
        from sklearn_normpen import ElasticNetClassifier
        codes = np.arange(40) % 3
        for data in (X, Xs):
            for mult in ("ungrouped", "grouped"):
                ElasticNetClassifier(alpha=0.05, multinomial=mult).fit(data, codes,
                                                                        sample_weight=sw)
        # the binomial Newton model's column moments (dense Fortran X)
        ElasticNetClassifier(alpha=0.05).fit(np.asfortranarray(X), np.arange(40) % 2,
                                             sample_weight=sw)
        # covariance-mode K-fold CV: every fold's held-out moments from one read of X
        from sklearn_normpen import ElasticNetPathCV
        for w in (None, sw):
            ElasticNetPathCV(alphas=3, cv=4, precompute=True).fit(X, y, sample_weight=w)
        # data mode: each fold's compiled row copy of the Fortran X
        ElasticNetPathCV(alphas=3, cv=3, precompute=False).fit(np.asfortranarray(X), y)
        # the dask route's per-chunk moments task (no dask needed to call it)
        from sklearn_normpen._dask import _block_moments
        for w in (None, sw):
            _block_moments(X, y, w, np.arange(40) % 3, X[:5].mean(axis=0), 0.5,
                           np.arange(3))
    assert set(kernel_calls) == set(KERNEL_SIGNATURES)


def test_kernel_signature_violations_are_named(kernel_calls, monkeypatch):
    from sklearn_normpen import enet_path, group_lasso_path
    from sklearn_normpen import group_lasso as group_lasso_module
    from sklearn_normpen._validation import check_kernel_call

    monkeypatch.setattr(group_lasso_module, "GRAM_MAX_FEATURES", 0)  # the data kernels

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = X @ np.arange(5.0)
    enet_path(X, y, precompute=True, n_alphas=2)
    enet_path(sp.csc_matrix(X), y, n_alphas=2)
    group_lasso_path(X, y, groups=[[0, 1], [2, 3]], n_alphas=2)

    def broken(kernel, index, value, match):
        args = list(kernel_calls[kernel])
        args[index] = value(args[index])
        with pytest.raises(ValueError, match=match):
            check_kernel_call(kernel, args)

    def readonly(a):
        a = a.copy()
        a.setflags(write=False)
        return a

    broken("enet_cd_gram", 0, lambda w: np.zeros(6), r"enet_cd_gram: argument Q has shape "
           r"\(5, 5\): axis 0 should be 6 \(p, as set by argument w\)")
    broken("enet_cd_gram", 2, lambda q: np.zeros(7), r"argument q has shape \(7,\): axis 0 "
           r"should be 5")
    broken("enet_cd_gram", 1, np.ascontiguousarray, "argument Q must be Fortran-contiguous")
    broken("enet_cd_gram", 6, lambda a: a.astype(np.float32), "argument L1 has dtype "
           "float32, but the other floating arguments are float64")
    broken("enet_cd_gram", 4, readonly, "argument H is written by the kernel but is read-only")
    broken("enet_cd_residual", 2, lambda a: a.astype(np.int64), "argument X_indices has dtype "
           "int64, expected int32")
    broken("enet_cd_residual", 4, lambda n: n + 1, "argument y has shape")
    broken("enet_cd_residual", 3, lambda a: np.r_[a[:-1], a[-1] + 1].astype(np.intc),
           "argument X_indptr must run from 0")
    broken("bcd", 9, lambda a: np.r_[a[:-1], 99].astype(np.intc),
           r"argument gidx has a feature index outside \[0, 5\)")
    broken("bcd", 17, lambda a: np.r_[a, 50].astype(np.intc),
           "argument ws has a group index outside")
    broken("bcd", 8, lambda a: a.astype(np.int64), "argument gptr has dtype int64")
    broken("bcd", 8, lambda a: a[::-1].copy(), "argument gptr is not a partition")
    broken("bcd", 25, lambda a: a[:1].copy(), "scratch arguments buf/wold are too short")
    broken("group_grams_dense", 4, lambda a: np.zeros(a.shape[0] + 1), "argument out has "
           "length")
    broken("enet_cd_gram", 8, lambda a: a[:-1].copy(), r"argument lower has shape")
    broken("enet_cd_residual", 14, lambda a: a.astype(np.float32), "argument upper has dtype")
    with pytest.raises(ValueError, match="expected 10 arguments, got 3"):
        check_kernel_call("enet_cd_gram", kernel_calls["enet_cd_gram"][:3])


def test_call_kernel_checks_then_calls():
    from sklearn_normpen._validation import call_kernel

    def group_grams_dense(X, xmean, gptr, gidx, out):
        out[:] = 1.0

    out = np.zeros(9)
    X = np.asfortranarray(np.ones((4, 3)))
    gptr, gidx = np.array([0, 3], dtype=np.intc), np.arange(3, dtype=np.intc)
    call_kernel(group_grams_dense, X, np.zeros(3), gptr, gidx, out)
    np.testing.assert_array_equal(out, 1.0)
    with pytest.raises(ValueError, match=r"argument xmean has shape \(5,\)"):
        call_kernel(group_grams_dense, X, np.zeros(5), gptr, gidx, out)


def test_kernel_checks_stop_an_oversized_warm_start_below_the_public_api(kernel_calls):
    # compute_path is internal (the public functions validate coef_init first); handed a
    # too-long warm start it used to write past the end of the kernel's arrays.
    from sklearn_normpen._design import Design
    from sklearn_normpen._path import compute_path
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    from sklearn_normpen.penalties import ElasticNetPenalty

    rng = np.random.default_rng(0)
    X, y = np.asfortranarray(rng.standard_normal((20, 5))), rng.standard_normal(20)
    pb = EnetProblem(Design(X, y, None, False), "dense")
    pen = ElasticNetPenalty(0.5, np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match=r"enet_cd_residual: argument X_mean has shape \(5,\): "
                                         r"axis 0 should be 50 \(p, as set by argument w\)"):
        compute_path(pb, pen, [0.1], coef_init=np.zeros(50))


def test_residual_kernels_check_the_dense_layout():
    # one residual kernel per solver takes CSC X or, with empty index arrays, the dense X
    # flattened in Fortran order: a flattened X of the wrong length, or index arrays left
    # with a dense X, are named before the kernel reads past an array
    from sklearn_normpen._kernels import _bcd_group, _cd_enet
    from sklearn_normpen._validation import call_kernel, check_kernel_call

    rng = np.random.default_rng(0)
    n, p = 6, 4
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = rng.standard_normal(n)
    none, z = np.zeros(0, dtype=np.intc), np.zeros(p)

    def enet_args(data, indices=none):
        return [np.zeros(p), data, indices, none, n, y, np.zeros(0), z, np.ones(p),
                y.copy(), np.zeros(p), np.ones(p), np.zeros(p), np.full(p, -np.inf),
                np.full(p, np.inf), float(n), 1e-8, 1.0, 100]

    with pytest.raises(ValueError, match=r"enet_cd_residual: dense argument X_data has 23 "
                                         r"values, expected n \* p = 6 \* 4"):
        check_kernel_call("enet_cd_residual", enet_args(X.ravel(order="F")[:-1]))
    with pytest.raises(ValueError, match="X_indices empty"):
        check_kernel_call("enet_cd_residual", enet_args(X.ravel(order="F"),
                                                        np.zeros(n * p, dtype=np.intc)))
    # the kernel itself refuses a short dense X too (it is not only the Python check)
    with pytest.raises(ValueError, match="dense X_data has 23 values"):
        _cd_enet.enet_cd_residual(*enet_args(X.ravel(order="F")[:-1]))
    # and a well-formed dense call solves: the residual matches y - X w
    args = enet_args(X.ravel(order="F"))
    call_kernel(_cd_enet.enet_cd_residual, *args)
    np.testing.assert_allclose(args[9], y - X @ args[0], atol=1e-12)
    with pytest.raises(ValueError, match="dense data has 23 values"):
        _bcd_group.bcd(X.ravel(order="F")[:-1], none, none, np.zeros(0), z, y, np.zeros(p),
                       y.copy(), np.array([0, p], dtype=np.intc),
                       np.arange(p, dtype=np.intc), np.ones(1), np.ones(1), np.eye(p).ravel(),
                       np.zeros(1, dtype=np.intp), np.zeros(1), np.zeros(1), 0,
                       np.zeros(1, dtype=np.intc), 0.1, 0.5, 10, 1e-8, 1, 10, 1e-6,
                       np.zeros(9 * p), np.zeros(p), 0, np.zeros(1), np.zeros(1),
                       np.zeros(1, dtype=np.intc))


def test_call_kernel_rechecks_every_changed_argument():
    # call_kernel skips the checks of arguments that are the very arrays of the last
    # checked call; every other argument (and any shape change) is checked again.
    import threading

    from sklearn_normpen._validation import call_kernel

    calls = []

    def group_grams_dense(X, xmean, gptr, gidx, out):
        calls.append(X.shape)

    X = np.asfortranarray(np.ones((4, 3)))
    xmean, out = np.zeros(3), np.zeros(9)
    gptr, gidx = np.array([0, 3], dtype=np.intc), np.arange(3, dtype=np.intc)
    for _ in range(3):  # the same arrays: accepted
        call_kernel(group_grams_dense, X, xmean, gptr, gidx, out)
    with pytest.raises(ValueError, match=r"argument xmean has shape \(4,\)"):
        call_kernel(group_grams_dense, X, np.zeros(4), gptr, gidx, out)
    with pytest.raises(ValueError, match="float32, but the other floating arguments"):
        call_kernel(group_grams_dense, X, xmean.astype(np.float32), gptr, gidx, out)
    with pytest.raises(ValueError, match="must be Fortran-contiguous"):
        call_kernel(group_grams_dense, np.ones((4, 3)), xmean, gptr, gidx, out)
    xmean.shape = (1, 3)  # reshaped in place: the same object, no longer valid
    with pytest.raises(ValueError, match="argument xmean must be 1-D"):
        call_kernel(group_grams_dense, X, xmean, gptr, gidx, out)
    xmean.shape = (3,)
    # the argument that bound a size changes it: the unchanged ones no longer fit
    with pytest.raises(ValueError, match="should be 4"):
        call_kernel(group_grams_dense, np.asfortranarray(np.ones((4, 4))), xmean, gptr,
                    gidx, out)
    with pytest.raises(ValueError, match="argument gidx has a feature index outside"):
        call_kernel(group_grams_dense, X, xmean, gptr, np.array([0, 1, 7], np.intc), out)
    n_ok = len(calls)
    # threads keep their own record: a fold of another length in another thread is
    # checked against its own arguments, never against another thread's sizes
    errors = []

    def fold(n):
        Xn = np.asfortranarray(np.ones((n, 3)))
        try:
            for _ in range(50):
                call_kernel(group_grams_dense, Xn, xmean, gptr, gidx, out)
        except Exception as e:  # pragma: no cover - the failure this test guards
            errors.append(e)

    threads = [threading.Thread(target=fold, args=(n,)) for n in (5, 6, 7, 8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and len(calls) == n_ok + 200


def test_call_kernel_accepts_look_alike_arrays_but_not_wrong_ones():
    # a path point passes new arrays shaped like the last call's (penalty weights, the
    # gradient): accepted without a full check; a look-alike that differs in dtype,
    # layout or writability is still refused
    from sklearn_normpen._validation import call_kernel

    calls = []

    def group_grams_dense(X, xmean, gptr, gidx, out):
        calls.append(out)

    X = np.asfortranarray(np.ones((4, 3)))
    gptr, gidx = np.array([0, 3], dtype=np.intc), np.arange(3, dtype=np.intc)
    out = np.zeros(9)
    call_kernel(group_grams_dense, X, np.zeros(3), gptr, gidx, out)
    for _ in range(3):  # fresh arrays like the checked ones: accepted
        call_kernel(group_grams_dense, np.asfortranarray(np.ones((4, 3))), np.zeros(3), gptr,
                    gidx, out)
    assert len(calls) == 4
    ro = np.zeros(9)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="argument out is written by the kernel"):
        call_kernel(group_grams_dense, X, np.zeros(3), gptr, gidx, ro)
    with pytest.raises(ValueError, match="must be Fortran-contiguous"):
        call_kernel(group_grams_dense, np.ones((4, 3)), np.zeros(3), gptr, gidx, out)
    with pytest.raises(ValueError, match="has dtype float32"):
        call_kernel(group_grams_dense, X, np.zeros(3, np.float32), gptr, gidx, out)
    with pytest.raises(ValueError, match="must be 1-D"):
        call_kernel(group_grams_dense, X, np.zeros((3, 1))[:, 0:1].T.copy(), gptr, gidx, out)
    assert len(calls) == 4


def test_call_kernel_light_path_rechecks_a_group_working_set(kernel_calls, monkeypatch):
    # the BCD kernels get a new working set (of any size) at every round: re-checked alone,
    # its range included, without repeating the group-array checks
    from sklearn_normpen import group_lasso_path
    from sklearn_normpen import group_lasso as group_lasso_module
    monkeypatch.setattr(group_lasso_module, "GRAM_MAX_FEATURES", 0)  # the data kernel
    from sklearn_normpen._kernels import _bcd_group
    from sklearn_normpen._validation import KERNEL_SIGNATURES, call_kernel

    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((30, 6)))
    y = X @ np.arange(6.0)
    group_lasso_path(X, y, groups=[[0, 1, 2], [3, 4], [5]], n_alphas=3)
    real = _bcd_group.bcd.__kwdefaults__["_fn"]  # the fixture wraps the kernel
    args = list(kernel_calls["bcd"])
    i = [e.split(":")[0] for e in KERNEL_SIGNATURES["bcd"]].index("ws")
    args[i] = np.array([0, 1, 2], dtype=np.intc)
    call_kernel(real, *args)  # checked in full, remembered
    args[i] = np.array([2], dtype=np.intc)  # another size: accepted on the light path
    call_kernel(real, *args)
    args[i] = np.array([0, 7], dtype=np.intc)  # out of range: the full check names it
    with pytest.raises(ValueError, match="argument ws has a group index outside"):
        call_kernel(real, *args)
