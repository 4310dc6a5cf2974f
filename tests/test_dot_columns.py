"""Full gradient passes ``Xᵀr`` over a dense Fortran X by one BLAS dot per column
(``_blas._gemv_t``) where :func:`sklearn_normpen._kernels.dot_columns` chooses it (one BLAS
thread, short columns, X out of cache), else one gemv: the residual kernel's full passes
and the certificates' gradients (``_design.xt_dot64``). Checked against NumPy in float64
and, through the paths, against the oracle's duality gap."""
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose
from threadpoolctl import threadpool_limits

import sklearn_normpen._kernels as kernels
from _oracle import enet_gap, null_deviance
from sklearn_normpen import enet_path, group_lasso_path
from sklearn_normpen._design import xt_dot64
from sklearn_normpen._kernels import _cd_enet, _moments
from sklearn_normpen._threads import blas_threads
from sklearn_normpen._validation import call_kernel
from test_predicted_start import _wide


@pytest.mark.parametrize("by_columns", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7, 5), (300, 41), (1, 3), (0, 4), (5, 0)])
def test_xt_dot_is_the_transposed_product(monkeypatch, by_columns, dtype, shape):
    monkeypatch.setattr(_moments, "dot_columns", lambda n, p, size: by_columns)
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape[1]),
                          dtype=dtype)
    r = rng.standard_normal(shape[0]).astype(dtype)
    out = np.full(shape[1], np.nan, dtype=dtype)
    call_kernel(_moments.xt_dot, X, r, out)
    X64, r64 = X.astype(np.float64), r.astype(np.float64)
    # (the rounding of a float32 / float64 sum of n products, relative to Σ|x_ij r_i|)
    eps = np.finfo(dtype).eps
    assert_allclose(out, X64.T @ r64, rtol=0,
                    atol=0 if shape[1] == 0 else 4 * (shape[0] + 1) * eps * float(
                        np.max(np.abs(X64).T @ np.abs(r64), initial=0.0)) + 1e-300)


def test_xt_dot64_takes_the_compiled_route_for_large_fortran_vectors_only(monkeypatch):
    from sklearn_normpen import _design
    asked = []
    monkeypatch.setattr(_moments, "dot_columns",
                        lambda n, p, size: asked.append((n, p)) or True)
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((50, 30)))
    r, R = rng.standard_normal(50), rng.standard_normal((50, 3))
    assert_allclose(xt_dot64(X, r), X.T @ r, rtol=1e-13)  # (small: NumPy)
    assert asked == []
    monkeypatch.setattr(_design, "dot_columns", lambda n, p, size: True)
    assert_allclose(xt_dot64(X, r), X.T @ r, rtol=1e-13)
    assert asked == [(50, 30)]
    assert_allclose(xt_dot64(X, R), X.T @ R, rtol=1e-13)  # (a matrix: NumPy's product)
    C = np.ascontiguousarray(X)
    assert_allclose(xt_dot64(C, r), X.T @ r, rtol=1e-13)  # (C order: NumPy's)
    assert asked == [(50, 30)]


def test_dot_columns_only_with_one_blas_thread_short_columns_and_a_large_x(monkeypatch):
    monkeypatch.setattr(kernels, "blas_threads", lambda: 1)
    assert kernels.dot_columns(400, 20000, 8)       # 64 MB, columns of 3.2 KB
    assert kernels.dot_columns(400, 20000, 4)       # float32: 32 MB
    assert not kernels.dot_columns(5000, 4000, 8)   # columns of 40 KB: gemv
    assert not kernels.dot_columns(400, 2000, 8)    # 6.4 MB: in cache, gemv
    monkeypatch.setattr(kernels, "blas_threads", lambda: 2)
    assert not kernels.dot_columns(400, 20000, 8)   # a threaded gemv
    monkeypatch.setattr(kernels, "blas_threads", lambda: 0)
    assert not kernels.dot_columns(400, 20000, 8)   # unknown: gemv, as before


def test_blas_threads_reads_the_limit_in_force():
    with threadpool_limits(1):
        assert blas_threads() == 1
        assert kernels.dot_columns(400, 20000, 8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_paths_through_column_dots_certify_by_the_oracle(monkeypatch, dtype):
    """A wide lasso path (residual mode, intercept, near saturation) whose full passes
    all run by column dots: every point within the target by the NumPy oracle's gap, and
    within both certificates of the same path through gemv."""
    X, y = _wide(False, dtype, seed=3)
    tol = 1e-6
    asked = []

    def choose(flag):
        def dot_columns(n, p, size):
            asked.append((n, p, size))
            return flag
        return dot_columns

    monkeypatch.setattr(_cd_enet, "dot_columns", choose(True))
    alphas, by_cols, gaps = enet_path(X, y, l1_ratio=1.0, n_alphas=30, tol=tol,
                                      fit_intercept=True, standardize=False)[:3]
    assert asked and asked[0][:2] == X.shape and asked[0][2] == np.dtype(dtype).itemsize
    monkeypatch.setattr(_cd_enet, "dot_columns", choose(False))
    _, by_gemv, gaps0 = enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=tol,
                                  fit_intercept=True, standardize=False)[:3]
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    target = tol * null_deviance(X64, y64)
    slack = 1.0 if dtype == np.float64 else 2.0  # (float32: the coefficients' rounding)
    for k, a in enumerate(alphas):
        assert gaps[k] <= target
        g1 = enet_gap(X64, y64, by_cols[:, k].astype(np.float64), None, a, 1.0)
        g0 = enet_gap(X64, y64, by_gemv[:, k].astype(np.float64), None, a, 1.0)
        assert g1 <= slack * target + 1e-12
        assert g0 <= slack * target + 1e-12


def test_group_certificates_through_xt_dot(monkeypatch):
    """The group path's certificate gradients (``GroupProblem._gradient64``) by column
    dots: the reported gaps are those through NumPy's product to rounding."""
    rng = np.random.default_rng(4)
    X = np.asfortranarray(rng.standard_normal((80, 200)))
    y = X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(80)
    groups = np.arange(200) // 5
    kw = dict(groups=groups, tol=1e-8, standardize=False)
    asked = []

    def dot_columns(n, p, size):
        asked.append((n, p))
        return True

    monkeypatch.setattr(_moments, "dot_columns", dot_columns)
    from sklearn_normpen import _design
    monkeypatch.setattr(_design, "dot_columns", lambda n, p, size: True)  # (128 KB)
    alphas, c1, g1 = group_lasso_path(X, y, n_alphas=15, **kw)[:3]
    assert (80, 200) in asked  # (the certificates did take the compiled route)
    monkeypatch.setattr(_moments, "dot_columns", lambda n, p, size: False)
    _, c0, g0 = group_lasso_path(X, y, alphas=alphas, **kw)[:3]
    assert_allclose(c1, c0, rtol=0, atol=1e-12 * np.abs(c0).max())
    assert_allclose(g1, g0, rtol=1e-6, atol=1e-15 * null_deviance(X, y))


def _run_together(*targets):
    """Start a thread for each of ``targets``, then wait for them all (20 s each)."""
    threads = [threading.Thread(target=f) for f in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)


def test_single_blas_thread_is_reentrant_across_threads():
    """Callers inside callers, in any order of exit across threads (the CV's folds run
    paths side by side): one thread throughout, the counts back when the last leaves."""
    from sklearn_normpen._threads import single_blas_thread
    with threadpool_limits(2, user_api="blas"):
        assert blas_threads() == 2
        inside, a_in, b_out = [], threading.Event(), threading.Event()

        def a():
            with single_blas_thread():
                a_in.set()
                b_out.wait(10)
                inside.append(blas_threads())  # (b has left: still one thread)

        def b():
            a_in.wait(10)
            with single_blas_thread():
                inside.append(blas_threads())
            b_out.set()

        with single_blas_thread():  # (the thread that set the limit: the CV's caller)
            assert blas_threads() == 1
            _run_together(a, b)
            with single_blas_thread():
                assert blas_threads() == 1
            assert blas_threads() == 1
        assert inside == [1, 1]
        assert blas_threads() == 2


def test_single_blas_thread_restores_when_another_thread_leaves_last():
    """The thread that set one thread (threadpoolctl's controlling thread) leaves first:
    the thread leaving last puts the counts back all the same."""
    from threadpoolctl import OpenBLASController
    from sklearn_normpen._threads import single_blas_thread
    # (threadpoolctl < 3.6 has no controlling thread: nothing to clear)
    clear = getattr(OpenBLASController, "clear_controlling_thread", lambda force: None)
    a_in, a_out, b_in, b_out = (threading.Event() for _ in range(4))
    inside = []

    def a():
        with single_blas_thread():  # (first in: takes control, sets one thread)
            a_in.set()
            b_in.wait(10)
            inside.append(blas_threads())
        a_out.set()
        b_out.wait(10)  # (alive, so still threadpoolctl's controlling thread)

    def b():
        a_in.wait(10)
        with single_blas_thread():
            b_in.set()
            a_out.wait(10)  # (a has left; b leaves last)
            inside.append(blas_threads())
        b_out.set()

    with threadpool_limits(2, user_api="blas"):  # (two threads whatever the machine)
        clear(force=True)  # (a takes control)
        assert blas_threads() == 2
        _run_together(a, b)
        clear(force=True)
        assert inside == [1, 1]
        assert blas_threads() == 2


@pytest.mark.parametrize("fit", ["path", "group", "cv"])
def test_the_path_loop_runs_on_one_blas_thread_and_restores_it(monkeypatch, fit):
    from sklearn_normpen import ElasticNetPathCV, GroupLassoRegressor
    from sklearn_normpen._solvers.block_cd import GroupProblem
    from sklearn_normpen._solvers.coordinate_descent import EnetProblem
    seen = []
    Problem = GroupProblem if fit == "group" else EnetProblem
    solve = Problem.solve

    def spy(self, *args, **kwargs):
        seen.append(blas_threads())
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(Problem, "solve", spy)
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((60, 30)), rng.standard_normal(60)
    with threadpool_limits(2, user_api="blas"):
        if fit == "path":
            enet_path(X, y, n_alphas=5)
        elif fit == "group":
            GroupLassoRegressor(alpha=0.05, groups=np.arange(30) // 3).fit(X, y)
        else:
            ElasticNetPathCV(eps=1e-2, cv=3, n_jobs=2).fit(X, y)
        assert blas_threads() == 2
    assert seen and set(seen) == {1}
