"""Scaling of one lasso path with p and with n, and peak memory, per runner (issue 14 item 4).

    python benchmarks/bench_scaling.py                 # n=500, p in {2000, 8000, 32000};
                                                       # p=200, n in {1e4, 1e5, 1e6}
    python benchmarks/bench_scaling.py --quick         # small sizes (smoke test)
    python benchmarks/bench_scaling.py --write         # RESULTS.md block "peers-scaling"

Every (runner, size) runs in its own fresh subprocess that builds the seeded data, then
times one path (100 alphas, eps=1e-3, no intercept, lasso; after a warm-up fit on a tiny
problem so imports and first-call set-up are excluded) and reports ``extra MiB``: the process's peak resident memory
(``VmHWM``) after the fit minus its resident size with the data built (the mark is reset
through ``/proc/self/clear_refs`` once the data exist, so the data generation's temporaries do
not hide the runner's peak) — the runner's own working memory. R glmnet reports the same two readings from inside R (its data
are read from binary files; time from ``system.time`` around ``glmnet()``). Tolerances are
fixed (ours 1e-4; adelie 1e-10, glmnet thresh 1e-10, scikit-learn 1e-5: the levels at which
the enet suite's ladders matched our gap) and each row prints the common ``relgap`` so a
reader can check that the accuracy was matched. ``ours_sparse`` is our path with
``sparse_output=True`` (the coefficients as a ``csc_array``, as adelie's and glmnet's come
back; ``ours`` returns scikit-learn's dense (p, 100) array, 25 MB at p = 32000); p series
only. ``syrk`` (n series only, not a peer) times scipy's ``dsyrk`` forming ``XᵀX`` once on
the same data: the issue's "dense n >> p path within 1.2x of forming XᵀX once" is our
time over that row's (``--runners ours syrk``). Slopes: least-squares fit of log time on
log size over the sizes each runner completed.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

RUNNERS = ["ours", "ours_sparse", "sklearn", "adelie", "adelie_cov", "glmnet", "syrk"]


def _reset_hwm():
    """Reset the peak-RSS mark to the current RSS (Linux >= 4.0), so that the temporaries of
    the data generation do not hide the runner's own peak; False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _hwm_mib():
    """Peak resident set size of this process (MiB) since the last reset: ``VmHWM``, else
    ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fit(runner, X, y, alphas):
    import peers
    if runner in ("ours", "ours_sparse"):
        # ours_sparse: the coefficients as a csc_array (sparse_output=True), as adelie's
        # and glmnet's come back; ours: scikit-learn's dense (p, 100) array
        from sklearn_normpen import enet_path
        return enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=1e-4, standardize=False,
                         sparse_output=runner == "ours_sparse")[1], None
    if runner == "syrk":  # the reference: XᵀX once (no coefficients)
        from scipy.linalg import blas
        blas.dsyrk(1.0, X, trans=1)
        return None, None
    if runner == "sklearn":
        from sklearn.linear_model import enet_path
        return enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=1e-5)[1], None  # (no scaling)
    if runner == "adelie":
        return peers.adelie_path(X, y, alphas, 1.0, tol=1e-10), None
    if runner == "adelie_cov":
        return peers.adelie_cov_path(X, y, alphas, 1.0, tol=1e-10), None
    res = peers.glmnet_run(X, y, alphas, 1.0, 1e-10, repeat=1)
    return res["beta"], res


def worker(runner, n, p):
    from threadpoolctl import threadpool_limits
    from suite_enet import _dense, _grid, _relgap
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xs, ys = _dense(60, 20, 3, seed=1)  # warm-up: imports and first-call set-up
        if runner != "glmnet":
            _fit(runner, Xs, ys, _grid(Xs, ys, 1.0, 10))
        X, y = _dense(n, p, min(50, p // 10))
        alphas = _grid(X, y, 1.0)
        _reset_hwm()
        base = _hwm_mib()
        t0 = time.perf_counter()
        coefs, res = _fit(runner, X, y, alphas)
        elapsed = time.perf_counter() - t0
        extra = _hwm_mib() - base
    if res is not None:  # R: its own clock and its own memory readings
        elapsed, extra = res["times"][0], res["extra_mb"]
    return dict(runner=runner, n=n, p=p, time=elapsed, extra_mb=extra,
                relgap=(float("nan") if coefs is None else
                        _relgap(dict(X=X, y=y, alphas=alphas, l1_ratio=1.0), coefs)))


def run_one(runner, n, p, timeout):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", runner, str(n), str(p)],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return dict(runner=runner, n=n, p=p, note=f"timeout {timeout} s")
    if out.returncode != 0:
        return dict(runner=runner, n=n, p=p, note="failed: " + out.stderr.strip()[-100:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def slope(rows, key):
    ok = [r for r in rows if r.get("time")]
    if len(ok) < 2:
        return None
    x = np.log([r[key] for r in ok])
    return float(np.polyfit(x, np.log([r["time"] for r in ok]), 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runners", nargs="*", default=RUNNERS)
    ap.add_argument("--max-n", type=int, default=10**6)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    if args.worker:
        r, n, p = args.worker
        print(json.dumps(worker(r, int(n), int(p))))
        return 0
    import peers
    ok_r, why_r, _ = peers.glmnet_status()
    ok_a, why_a, _ = peers.adelie_status()
    if args.quick:
        wide = [(200, p) for p in (500, 1000, 2000)]
        tall = [(n, 50) for n in (1000, 4000, 16000)]
    else:
        wide = [(500, p) for p in (2000, 8000, 32000)]
        tall = [(n, 200) for n in (10**4, 10**5, 10**6) if n <= args.max_n]
    lines = ["| series | runner | " + " | ".join(f"{s}" for s in ("sizes", "times (s)",
             "relgap", "extra MiB")) + " | log-log slope |", "|---|---|---|---|---|---|---|"]
    t_start = time.perf_counter()
    for label, sizes, key in (("n=500, p grows", wide, "p"), ("p=200, n grows", tall, "n")):
        for runner in args.runners:
            if runner.startswith("adelie") and not ok_a:
                lines.append(f"| {label} | {runner} | skipped: {why_a} | | | | |")
                continue
            if runner == "glmnet" and not ok_r:
                lines.append(f"| {label} | {runner} | skipped: {why_r} | | | | |")
                continue
            if runner == "adelie_cov" and key == "p":
                continue  # a p x p covariance at p = 32000 is 8 GB: n >> p only
            if runner == "syrk" and key == "p":
                continue  # (the reference of the n series)
            if runner == "ours_sparse" and key == "n":
                continue  # (p = 200: the dense output is 160 KB)
            rows = []
            for n, p in sizes:
                row = run_one(runner, n, p, args.timeout)
                rows.append(row)
                print(f"  {label:16s} {runner:10s} n={n:<8d} p={p:<6d} "
                      f"{row.get('time', float('nan')):9.3f} s relgap="
                      f"{row.get('relgap', float('nan')):.1e} extra="
                      f"{row.get('extra_mb') or float('nan'):.0f} MiB {row.get('note', '')}",
                      flush=True)
            fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
            sl = slope(rows, key)
            lines.append(
                f"| {label} | {runner} | {', '.join(str(r[key]) for r in rows)} | "
                f"{', '.join(fmt(r.get('time'), '.3f') for r in rows)} | "
                f"{', '.join(fmt(r.get('relgap'), '.1e') for r in rows)} | "
                f"{', '.join(fmt(r.get('extra_mb'), '.0f') for r in rows)} | "
                f"{fmt(sl, '.2f')} |"
                + ("" if all("note" not in r for r in rows) else
                   " " + "; ".join(r["note"] for r in rows if "note" in r)))
    table = "\n".join(lines)
    print(table)
    if args.write:
        import harness
        cmd = "python benchmarks/bench_scaling.py " + " ".join(argv or sys.argv[1:])
        body = "\n".join([
            "## Scaling and peak memory: one lasso path per subprocess (issue 14 item 4)", "",
            f"Command: `OPENBLAS_NUM_THREADS=1 {cmd.strip()}` ({time.strftime('%Y-%m-%d')}, "
            f"{time.perf_counter() - t_start:.0f} s)",
            f"Machine: {harness.machine_description()}",
            f"Peers: {harness.peer_versions()}", "",
            __doc__.split("\n\n", 2)[2].strip(), "", table])
        harness.write_section("peers-scaling", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
