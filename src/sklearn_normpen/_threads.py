"""BLAS threading for the small dense linear algebra of the selection tools.

The active-set factorisations behind the degrees of freedom and the relaxed refits are
``k×k`` with ``k`` at most a few hundred: a second BLAS thread cannot speed them up, but
its start-up and spinning cost can multiply their time (tens of times on a loaded
machine, or under joblib workers that already use every core). They run on one thread.
"""
_CONTROLLER = []


def single_blas_thread():
    """A context manager limiting BLAS to one thread (threadpoolctl; the controller, which
    inspects the loaded libraries, is built once)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
