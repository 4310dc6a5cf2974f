"""The package's in-process thread pool (``_threads.thread_map``): results in order, every
task run once, a cap of ``n_threads`` at a time on a larger pool, nested calls run inline
(no deadlock on the pool's own threads), errors raised to the caller."""
import threading
import time

import pytest

from sklearn_normpen._threads import thread_map


def test_results_in_order_on_the_pool_threads():
    names = set()

    def f(x):
        names.add(threading.current_thread().name)
        time.sleep(0.01 * (x % 3))
        return x * x

    assert list(thread_map(f, range(12), 2)) == [x * x for x in range(12)]
    assert names and all(n.startswith("normpen") for n in names)
    assert list(thread_map(f, [5], 2)) == [25]  # one item: inline


def test_at_most_n_threads_at_a_time_and_nested_calls_inline():
    list(thread_map(lambda x: x, range(4), 3))  # a pool of 3 now exists
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def f(x):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.02)
        inner = list(thread_map(lambda v: v + 1, range(3), 2))  # from a pool thread
        with lock:
            state["now"] -= 1
        return x + sum(inner)

    assert list(thread_map(f, range(6), 2)) == [x + 6 for x in range(6)]
    assert state["peak"] == 2


def test_errors_reach_the_caller():
    def f(x):
        if x == 3:
            raise ValueError("task 3 failed")
        return x

    with pytest.raises(ValueError, match="task 3 failed"):
        list(thread_map(f, range(5), 2))


def test_concurrent_callers_while_the_pool_grows():
    # callers on their own threads asking for different sizes: a pool replaced by a larger
    # one must not be handed new tasks ("cannot schedule new futures after shutdown")
    from sklearn_normpen import _threads
    _threads._POOLS.clear()
    errors, results = [], []

    def caller(n):
        try:
            for _ in range(20):
                results.append(list(thread_map(lambda x: x + n, range(n + 1), n)))
        except Exception as e:  # pragma: no cover - the failure this test looks for
            errors.append(e)

    threads = [threading.Thread(target=caller, args=(n,)) for n in (2, 3, 4, 2, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 100 and all(r == [x + len(r) - 1 for x in range(len(r))]
                                       for r in results)
