"""A single elastic-net fit on dense data with n >= p: residual sweeps first, covariance
mode once they have cost a share of forming the Gram.

Forming ``XᵀX`` (``n p² / 2`` products at BLAS-3 speed) is the whole cost of a covariance
fit; a fit at one alpha in residual mode often costs far less. Measured on this package's
single fits (``ElasticNetRegressor``, lasso): 10000 x 1000 at ``alpha_max / 10`` took
0.23 s in covariance mode against 0.026 s on the residual (scikit-learn's ``ElasticNet``,
residual too: 0.05 s); but correlated columns at small alpha turn it around (100000 x 100,
pairwise correlation 0.9, ``alpha_max / 1000``: 0.055 s against 1.9 s).

So a cold start far below ``alpha_max``, which walks down to it through several solves
(:func:`~sklearn_normpen._path.lead_in`), takes the Gram at once unless the budget is
large against the walk (:meth:`GramOnDemand.before_walk`): those solves cost ``p``
products an epoch there. Otherwise the fit starts on the residual with a work budget and
moves to covariance mode, warm, when the budget is spent.

The work is counted in column passes of length n, deterministic whatever the machine's
speed: the residual problem's own count (``EnetProblem.column_passes``: every coordinate
update, gradient entry and residual rebuild, as the kernel made them; the Newton steps'
Gram products at BLAS-3 speed), and the budget is ``SWITCH_SHARE`` of the Gram's
``p² / 2`` products divided by ``BLAS3_SPEEDUP``, BLAS-3's speed over the residual
kernel's per product. Only the length of the next run is predicted (a support that
grows within a run is seen after it).
"""
import numpy as np

#: products of a symmetric rank-k update per product of the residual kernel's column
#: passes, in the same time (syrk ~40 GFlop/s against ~4 for the kernel's dot/axpy passes
#: on the development machine)
BLAS3_SPEEDUP = 8.0
#: a walk down from alpha_max stays on the residual only if the budget affords this many
#: passes over every feature per solve (see GramOnDemand.before_walk). 2 since the
#: residual kernel no longer makes a full gradient pass at the start of each walk solve
#: (about two passes a solve remain: 5000 x 500 at alpha_max/100, 7 solves in ~10 ms);
#: over bench_fit_modes.py's 48 fits, auto's time over the better fixed mode went from
#: 1.17 to 1.08 (geometric mean), its worst from 2.7 to 1.9x, and the total from 3.79 to
#: 3.45 s; equicorrelated 10000 x 1000 at alpha_max/1000 now walks on the residual and
#: switches late (0.25 -> 0.41 s)
WALK_PASSES = 2
#: the share of the Gram's cost the residual sweeps may spend before the fit moves to it
SWITCH_SHARE = 0.5
#: the lead-in walk's solves per decade on the residual (the path's default, 3, in
#: covariance mode; ``EnetProblem.lead_in_per_decade``, which a GramOnDemand reads off its
#: current problem): each residual solve's screening and certificate cost a full pass
#: over X, so fewer, longer steps pay (10000 x 1000 at alpha_max/100: 79 -> 53 ms). The
#: choice of mode (before_walk) still counts the walk at the default density: counted at
#: this one, the budget let equicorrelated columns at alpha_max/1000 crawl on the
#: residual (0.23 -> 0.41 s)
RESIDUAL_WALK_PER_DECADE = 2


def residual_budget(p, share=None, dtype=np.float64):
    """The column passes (length n) the residual solves may spend on ``p`` features
    (float32: twice as many, the residual passes reading half the bytes while the Gram is
    formed in float64)."""
    speedup = BLAS3_SPEEDUP / (2 if np.dtype(dtype) == np.float32 else 1)
    return (SWITCH_SHARE if share is None else share) * p * p / (2 * speedup)


def worth_trying(p):
    """Whether the budget affords two passes over every feature (a residual solve's
    screening pass and one epoch): from ``p = 4·BLAS3_SPEEDUP/SWITCH_SHARE`` (64 at the
    defaults) on; below, the Gram is cheap and formed at once."""
    return residual_budget(p) >= 2 * p


class GramOnDemand:
    """A problem (the solver protocol of :func:`~sklearn_normpen._path.compute_path`) that
    solves on ``residual`` (an ``EnetProblem`` in a residual mode) until its work passes
    the budget, then on the covariance-mode problem ``make_gram()`` (same design, same
    parametrisation), warm from the current coefficients. Every other attribute is the
    current problem's."""

    def __init__(self, residual, make_gram, share=None):
        self._residual, self._make_gram = residual, make_gram
        self._current = residual
        # a float32 run cut short by the budget is not finished in float64 on the
        # residual (Newton steps on float64 copies of the columns): the Gram finishes it
        # (a 50000 x 400 float32 fit, correlated columns at alpha_max/1000, took 0.60 s
        # with those steps, 0.23 s in covariance mode alone)
        residual.refine64 = False
        #: column passes of length n the residual solves may spend (see the module)
        self.budget = residual_budget(residual.n_features, share, residual.dtype)
        self._speedup = BLAS3_SPEEDUP / (2 if residual.dtype == np.float32 else 1)
        # (counted from the first walk or solve: the null fit's gradient pass, which
        # finds alpha_max, is not; WALK_PASSES was calibrated without it)
        self._spent0 = None

    def _spent(self):
        r = self._residual
        return r.column_passes + r.gram_products / self._speedup

    def _start_count(self):
        if self._spent0 is None:
            self._spent0 = self._spent()

    @property
    def work(self):
        """Column passes of length n the residual solves have spent (see the module)."""
        return 0.0 if self._spent0 is None else self._spent() - self._spent0

    def __getattr__(self, name):
        try:
            current = self.__dict__["_current"]
        except KeyError:  # (not yet initialised: copy, unpickling)
            raise AttributeError(name) from None
        return getattr(current, name)

    def predict_next(self, d, penalty):
        # (explicit: the path looks it up once, and the current problem may change)
        return self._current.predict_next(d, penalty)

    def before_walk(self, w, solves):
        """A cold start far below ``alpha_max`` walks down to it through ``solves`` solves
        (:func:`~sklearn_normpen._path.lead_in`): on the Gram at once unless the budget
        affords ``WALK_PASSES`` passes over every feature per solve (float64 only). Each
        solve's screening, certificates and restarts cost more than the budget's model
        counts: walking 10 solves on the residual, a 50000 x 400 float32 fit
        (correlated columns, alpha_max/1000) took 0.61 s against 0.23 s in covariance
        mode; with p = 1000 or 2000 features (budgets of 31 and 62 passes over every
        feature) a 6- or 9-solve walk on the residual took 0.07 and 0.25 s against 0.23
        and 0.3."""
        if self._current is not self._residual:
            return
        self._start_count()
        p = self._residual.n_features
        if (self._residual.dtype != np.float64
                or WALK_PASSES * solves * p > self.budget - self.work):
            self._switch(w)

    def solve(self, w, penalty, alpha, tol_abs, max_iter=1000, alpha_prev=None):
        """As ``EnetProblem.solve``; a residual solve that would pass the budget is cut
        into runs of at most the epochs the budget has left at one pass over every
        feature each (the support can grow from a few features to hundreds within one
        run: equicorrelated columns just below ``alpha_max``, 352 of 400), then at twice
        the support reached, the work recounted after each run; once the budget is spent
        the point is finished in covariance mode from where the residual runs stopped."""
        if self._current is not self._residual:
            return self._current.solve(w, penalty, alpha, tol_abs, max_iter, alpha_prev)
        p = self._residual.n_features
        self._start_count()
        done, prev, width = 0, alpha_prev, p
        while True:
            runs = int(self.budget - self.work - p) // width
            if runs < 1:
                break
            cert, epochs = self._residual.solve(w, penalty, alpha, tol_abs,
                                                min(max_iter - done, runs), prev)
            done += int(epochs)
            if cert.gap <= tol_abs or done >= max_iter:
                return cert, done
            prev = alpha  # (a continuation: the strong rule at this alpha)
            # continuing at this alpha, the support is known: runs as long as the budget
            # affords at twice its size (a growth past that is counted after the run)
            width = max(2 * int(np.count_nonzero(w)), 1)
        self._switch(w)
        cert, more = self._current.solve(w, penalty, alpha, tol_abs, max(max_iter - done, 1),
                                         alpha_prev if done == 0 else alpha)
        return cert, done + int(more)

    def _switch(self, w):
        """Covariance mode from now on, its state at ``w`` (the array the path updates)."""
        gram = self._make_gram()
        gram._reset(w)
        self._current = gram
