"""Threads: the BLAS's threads around the package's own compute, and one in-process thread
pool for short parallel work (:func:`thread_map`).

The path loop (:func:`~sklearn_normpen._path.compute_path`) calls BLAS level 1 on vectors
of up to ``n_samples`` or ``n_features`` entries thousands of times a path; a threaded
OpenBLAS wakes its threads for each one past ~10000 entries (on the benchmark VM ~1.6 ms a
call: a logistic fit on 20000 x 200 took 1.31 s against 0.33 s, the wide 5-fold lasso CV
3.1 s against 1.4 s). The active-set factorisations behind the degrees of freedom and the
relaxed refits are ``k×k`` with ``k`` at most a few hundred: a second BLAS thread cannot
speed them up, but its start-up and spinning cost can multiply their time (tens of times
on a loaded machine, or under joblib workers that already use every core). All of them
run on one thread (:func:`single_blas_thread`); the Gram matrices and the CV's held-out
predictions keep the BLAS's own threads.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_BLAS = []  # (threadpoolctl's controllers of the loaded BLAS libraries: _blas_libs)
_ONE_THREAD = threading.Lock()
_ONE_DEPTH = [0, None]  # (callers inside single_blas_thread, the thread counts it saved)


def _blas_libs():
    """threadpoolctl's controllers of the loaded BLAS libraries (inspected once; empty
    when threadpoolctl cannot answer)."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except Exception:  # pragma: no cover - threadpoolctl cannot inspect this process
            libs = []
        _BLAS.append(libs)
    return _BLAS[0]


def blas_threads():
    """The largest thread count of the loaded BLAS libraries (0: unknown)."""
    counts = [c.get_num_threads() for c in _blas_libs()]
    return max((int(k) for k in counts if k is not None), default=0)


@contextmanager
def single_blas_thread():
    """Run the block with every BLAS library at one thread, then restore their counts.
    Reentrant, also across threads (the CV's folds): the first caller in sets the
    counts, the last one out restores them; meanwhile the BLAS calls of the process's
    other threads run on one thread too. threadpoolctl lets one Python thread at a time
    set an OpenBLAS whose threads are a shared pool (its "controlling thread"; another
    thread's setting is not applied): the CV driver enters this in its calling thread
    around the folds' threads (:func:`~sklearn_normpen._cv.cross_validate_paths`)."""
    libs = _blas_libs()
    if not libs:
        yield
        return
    with _ONE_THREAD:
        if _ONE_DEPTH[0] == 0:
            saved = []
            for c in libs:
                k = c.get_num_threads()  # (None: a library that cannot tell)
                if k is not None and k > 1:
                    c.set_num_threads(1)
                    saved.append((c, k))
            _ONE_DEPTH[1] = saved
        _ONE_DEPTH[0] += 1
    try:
        yield
    finally:
        with _ONE_THREAD:
            _ONE_DEPTH[0] -= 1
            if _ONE_DEPTH[0] == 0:
                for c, k in _ONE_DEPTH[1]:
                    # (threadpoolctl applies a setting from its controlling thread
                    # only, and the last caller out may be another thread: what was
                    # taken is put back whichever thread leaves last)
                    getattr(c, "_real_set_num_threads", c.set_num_threads)(k)
                _ONE_DEPTH[1] = None


# ---------------------------------------------------------------------------------------
# in-process threads for short parallel work
# ---------------------------------------------------------------------------------------
#: pid -> (executor, its size): one pool per process (a forked child starts its own)
_POOLS = {}
_POOL_LOCK = threading.Lock()
_IN_POOL = threading.local()


def _mark_worker():
    _IN_POOL.active = True


def thread_map(fn, items, n_threads):
    """``fn(item)`` for each of ``items``, in order, on ``n_threads`` threads of a pool that
    lives as long as the process; an iterator (results as they are ready, in order).

    joblib's threading backend starts a thread pool per call and polls its results every
    10 ms: about 12 ms per call, a quarter of a 5-fold group-lasso CV at n = 2000, p = 500
    (with ``n_jobs=2`` it ran slower than on one thread). For work whose kernels release
    the GIL. Run inline from one of the pool's own threads (no nested waiting on it)."""
    items = list(items)
    n_threads = min(n_threads, len(items))  # (no idle threads kept for a large n_jobs)
    if n_threads <= 1 or getattr(_IN_POOL, "active", False):
        return map(fn, items)
    with _POOL_LOCK:  # (a pool replaced by a larger one takes no new tasks)
        pid = os.getpid()
        pool = _POOLS.get(pid)
        if pool is None or pool[1] < n_threads:
            if pool is not None:
                pool[0].shutdown(wait=False)  # (its running tasks finish)
            pool = _POOLS[pid] = (ThreadPoolExecutor(
                n_threads, thread_name_prefix="normpen", initializer=_mark_worker),
                n_threads)
        if pool[1] == n_threads:
            return pool[0].map(fn, items)  # (submits every task before returning)
        gate = threading.BoundedSemaphore(n_threads)  # a larger pool: n_threads at a time

        def gated(item):
            with gate:
                return fn(item)
        return pool[0].map(gated, items)


def default_threads():
    """Whether joblib would run tasks that prefer threads on its own threading
    backend (no backend configured by the user): the tasks may then run on
    :func:`thread_map` instead. A configured backend (loky, dask, ...) is left to joblib."""
    try:
        from joblib.parallel import ThreadingBackend, get_active_backend
        backend, _ = get_active_backend(prefer="threads")
    except Exception:  # pragma: no cover - joblib's internals moved: joblib decides
        return False
    return type(backend) is ThreadingBackend
