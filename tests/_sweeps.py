"""A compiled solver's own stopping gap checked against an independent one."""
import numpy as np


def check_sweeps_gap(sweep, start, exact, unit, *, epochs=12, tol=1e-9, bound=True):
    """Check the sweeps' own duality gap, what they stop on.

    ``sweep(w, max_epochs, step, gap_tol) -> (epochs, gap)`` runs the compiled sweeps from
    ``w`` (updated in place; the gap is evaluated after an epoch whose step measure is at
    most ``step``); ``start()`` returns a fresh zero state; ``exact(w)`` is an independent
    duality gap at ``w``; ``unit`` the null deviance.

    With ``bound``, one epoch per call with the gap evaluated after each: the sweeps' gap
    is at least the exact one (up to rounding) and falls by 100 (or to 1e-10 of ``unit``).
    Then a run stopped at ``tol·unit`` reports a gap within it, and so is the exact gap.
    Returns that run's ``w``."""
    if bound:
        w = start()
        seen = []
        for _ in range(epochs):
            n, gap = sweep(w, 1, 1e300, 0.0)
            assert n == 1 and np.isfinite(gap)
            assert gap >= exact(w) - 1e-12 * unit
            seen.append(gap)
        assert seen[-1] <= max(1e-2 * seen[0], 1e-10 * unit)
    target = tol * unit
    w = start()
    n, gap = sweep(w, 100000, target, target)
    assert gap <= target and n < 100000
    assert exact(w) <= target * (1 + 1e-6) + 1e-13 * unit
    return w
