"""SpectralRidgeCV (exact leave-one-out, GCV) against scikit-learn's RidgeCV and Ridge."""
import numpy as np
import scipy.linalg as la
from scipy.linalg.blas import dsyrk

import harness

TITLE = "Spectral ridge: leave-one-out / GCV over 100 alphas"
DESCRIPTION = """
Dense latent-factor data (decaying spectrum), 100 alphas log-spaced over 1e-2..1e6, the same
grid for every runner. `SpectralRidgeCV` (cv=None: exact leave-one-out) against
`sklearn.linear_model.RidgeCV` (its efficient LOO, `gcv_mode` auto), both with
`alpha_per_target=True` for 10 targets; `SpectralRidgeCV(cv="gcv")` is the true GCV criterion
(shown for its cost). `floor` is the decomposition work no method can avoid: forming `XᵀX`
(or `XXᵀ` when p > n) with `dsyrk`, its `eigh`, and one product rotating X into that basis;
`floor`'s `time / ours` below 1 is the fraction of our time it takes (≥ 0.5 means the whole
CV is within 2x of it). Both methods are direct (no tolerance): quality is the relative
coefficient error `||w - w_ref|| / ||w_ref||` against a Cholesky `Ridge` fit at the alpha(s)
the runner chose, so equal alphas and a small error mean the same answer.
Recorded with `OPENBLAS_NUM_THREADS=1` (every runner single-threaded): the 2-core machine was
shared with other jobs, and multi-threaded BLAS under that contention gave run-to-run
variations above 10x.
"""

N_ALPHAS = 100
ALPHAS = np.logspace(6, -2, N_ALPHAS)


def _make(n, p, n_targets, seed=0):
    def make():
        rng = np.random.default_rng(seed)
        r = min(n, p) // 4
        F = rng.standard_normal((n, r))
        B = rng.standard_normal((r, p)) * np.logspace(0, -2, r)[:, None]
        X = np.asfortranarray(F @ B + 0.05 * rng.standard_normal((n, p)))
        W = rng.standard_normal((p, n_targets)) / np.sqrt(p)
        Y = X @ W + 0.5 * rng.standard_normal((n, n_targets))
        return dict(X=X, y=Y[:, 0] if n_targets == 1 else Y)
    return make


def _ours(cv=None):
    def run(d):
        from sklearn_normpen import SpectralRidgeCV
        return SpectralRidgeCV(alphas=ALPHAS, cv=cv,
                               alpha_per_target=d["y"].ndim > 1).fit(d["X"], d["y"])
    return run


def _sklearn_ridgecv(d):
    from sklearn.linear_model import RidgeCV
    return RidgeCV(alphas=ALPHAS, alpha_per_target=d["y"].ndim > 1).fit(d["X"], d["y"])


def _floor(d):
    X = d["X"]
    n, p = X.shape
    if n >= p:
        _, V = la.eigh(dsyrk(1.0, X, trans=1), lower=False, driver="evd", overwrite_a=True)
        X @ V
    else:
        _, U = la.eigh(dsyrk(1.0, X, trans=0), lower=False, driver="evd", overwrite_a=True)
        X.T @ U
    return None


def _quality(d, est):
    if est is None:
        return None
    from sklearn.linear_model import Ridge
    ref = Ridge(alpha=est.alpha_, solver="cholesky").fit(d["X"], d["y"])
    return float(np.linalg.norm(est.coef_ - ref.coef_) / np.linalg.norm(ref.coef_))


def cases(quick=False):
    shapes = [(2000, 50), (50, 500)] if quick else [(20000, 500), (500, 5000)]
    out = []
    for n, p in shapes:
        for T in (1, 10):
            out.append(harness.Case(
                name=f"n={n} p={p} targets={T}",
                make_data=_make(n, p, T),
                runners=[
                    harness.Runner("SpectralRidgeCV (LOO)", _ours(None), ours=True),
                    harness.Runner("SpectralRidgeCV (GCV)", _ours("gcv"), ours=False),
                    harness.Runner("sklearn RidgeCV (LOO)", _sklearn_ridgecv),
                    harness.Runner("floor: Gram+eigh+rotate", _floor),
                ],
                quality=_quality, quality_label="coef rel.err",
            ))
    return out
