"""Selection beyond CV (issue 11): the cost of information criteria, stability selection and
relaxed CV relative to what they are built on."""
import json
import os
import subprocess
import sys

import numpy as np

import harness

# NORMPEN_BEFORE=<src dir of another checkout, kernels built>: one more StabilitySelection
# row timed on that code in a subprocess (same data, same seed; NORMPEN_BEFORE_REPEAT timed
# calls, default 2, no warm-up), for a before/after in one run
BEFORE = os.environ.get("NORMPEN_BEFORE")

TITLE = "Selection beyond CV: criteria, stability selection, relaxed CV (cost ratios)"
DESCRIPTION = """
Each case's bold runner is the **baseline** the issue states its target against, so
`time / ours` is the cost multiple of the other rows: `ElasticNetIC` (AIC, the
least-squares noise variance when n > p, the profile likelihood when p > n) against one
full-data `enet_path` with an intercept on the same default 100-alpha grid (target <= 1.2),
`GroupLassoIC` likewise against `group_lasso_path` (groups of 5 consecutive features;
both `standardize=False`, the same path);
`StabilitySelection` (100 complementary-pair halves, its default 50-alpha grid
[alpha_max, 0.05·alpha_max]) against one full-data path on that grid and against one
default full-data path (100 alphas down to 1e-3·alpha_max) (target < 30);
`ElasticNetPathCV(relax=True)` (relax_gamma grid 0, .25, .5, .75, 1) against the same CV without
relaxation (target <= 2). Gaussian design, 10 true features, SNR about 3, tol=1e-4,
n_jobs=1 (the headline), plus one StabilitySelection row with n_jobs=2 (loky, 2 cores)
and, with `NORMPEN_BEFORE=<src dir of another built checkout>`, one row timing that
checkout's StabilitySelection in a subprocess on the same data (a before/after in one run).
"""


def _make(n, p, seed=0):
    def make():
        rng = np.random.default_rng(seed)
        X = np.asfortranarray(rng.standard_normal((n, p)))
        beta = np.zeros(p)
        beta[:10] = rng.choice([-1.0, 1.0], 10) * rng.uniform(0.5, 1.5, 10)
        y = X @ beta + np.std(X @ beta) / 3 * rng.standard_normal(n)
        return dict(X=X, y=y)
    return make


def _path(l1_ratio, n_alphas=100, eps=1e-3):
    def run(d):
        from sklearn_normpen import enet_path
        return enet_path(d["X"], d["y"], l1_ratio=l1_ratio, n_alphas=n_alphas, eps=eps,
                         fit_intercept=True, standardize=False)
    return run


def _ic(l1_ratio):
    def run(d):
        from sklearn_normpen import ElasticNetIC
        n, p = d["X"].shape
        nv = None if n > p + 1 else "profile"
        return ElasticNetIC(l1_ratio=l1_ratio, noise_variance=nv, standardize=False).fit(d["X"], d["y"])
    return run


def _groups(p):
    return [list(range(i, i + 5)) for i in range(0, p, 5)]


def _gpath(d):
    from sklearn_normpen import group_lasso_path
    return group_lasso_path(d["X"], d["y"], groups=_groups(d["X"].shape[1]),
                            fit_intercept=True, standardize=False)


def _gic(d):
    from sklearn_normpen import GroupLassoIC
    n, p = d["X"].shape
    nv = None if n > p + 1 else "profile"
    return GroupLassoIC(groups=_groups(p), noise_variance=nv, standardize=False).fit(d["X"],
                                                                                  d["y"])


def _stability(n_jobs=1):
    def run(d):
        from sklearn_normpen import StabilitySelection
        return StabilitySelection(random_state=0, n_jobs=n_jobs).fit(d["X"], d["y"])
    return run


_BEFORE_SCRIPT = """
import json, sys, time
sys.path.insert(0, {bench!r})
import suite_selection as S
from sklearn_normpen import StabilitySelection
d = S._make({n}, {p})()
times = []
for _ in range({repeat}):
    t = time.perf_counter()
    StabilitySelection(random_state=0, n_jobs={n_jobs}).fit(d["X"], d["y"])
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def _stability_before(n, p, n_jobs=1):
    def run(d):
        code = _BEFORE_SCRIPT.format(bench=os.path.dirname(os.path.abspath(__file__)), n=n,
                                     p=p, n_jobs=n_jobs,
                                     repeat=int(os.environ.get("NORMPEN_BEFORE_REPEAT", 2)))
        env = dict(os.environ, PYTHONPATH=BEFORE)
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True).stdout
        return harness.Timed(None, json.loads(out.strip().splitlines()[-1]))
    return run


def _cv(relax):
    def run(d):
        from sklearn_normpen import ElasticNetPathCV
        return ElasticNetPathCV(l1_ratio=1.0, relax=relax, random_state=0, standardize=False).fit(d["X"],
                                                                              d["y"])
    return run


def cases(quick=False):
    s = 10 if quick else 1
    out = []
    for n, p in [(2000 // s, 200 // s), (500 // s, 2000 // s)]:
        for rho in (1.0, 0.5):
            out.append(harness.Case(
                name=f"IC n={n} p={p} l1_ratio={rho}", make_data=_make(n, p),
                runners=[harness.Runner("baseline: enet_path", _path(rho), ours=True),
                         harness.Runner("ElasticNetIC (aic)", _ic(rho))]))
    for n, p in [(2000 // s, 200 // s), (500 // s, 2000 // s)]:
        out.append(harness.Case(
            name=f"group IC n={n} p={p} groups of 5", make_data=_make(n, p),
            runners=[harness.Runner("baseline: group_lasso_path", _gpath, ours=True),
                     harness.Runner("GroupLassoIC (aic)", _gic)]))
    n, p = 1000 // s, 5000 // s
    out.append(harness.Case(
        name=f"stability n={n} p={p} B=100", make_data=_make(n, p),
        runners=[harness.Runner("baseline: one path (50 alphas, eps=0.05)",
                                _path(1.0, 50, 0.05), ours=True),
                 harness.Runner("StabilitySelection", _stability()),
                 harness.Runner("StabilitySelection n_jobs=2", _stability(2))]
        + ([harness.Runner(f"StabilitySelection before ({BEFORE})", _stability_before(n, p))]
           if BEFORE else [])))
    out.append(harness.Case(
        name=f"stability n={n} p={p} B=100 vs default path", make_data=_make(n, p),
        runners=[harness.Runner("baseline: one default path (100 alphas, eps=1e-3)",
                                _path(1.0), ours=True),
                 harness.Runner("StabilitySelection", _stability())]))
    for n, p in [(2000 // s, 200 // s), (500 // s, 2000 // s)]:
        out.append(harness.Case(
            name=f"relaxed CV n={n} p={p}", make_data=_make(n, p),
            runners=[harness.Runner("baseline: ElasticNetPathCV", _cv(False), ours=True),
                     harness.Runner("ElasticNetPathCV(relax=True)", _cv(True))]))
    return out
