"""A/B timing of *our* runners between two builds of the package, in one command.

    python benchmarks/ab.py --base-path /tmp/normpen_base [--suite enet group] [--repeat 3]

``--base-path`` (and ``--new-path``, default: the package this interpreter imports) are
folders that put a built ``sklearn_normpen`` on ``sys.path`` (a checkout's ``src/`` or, for
old flat checkouts, its root, built in place with ``python setup.py build_ext --inplace``).
Every runner marked ``ours`` in the suites runs in a fresh subprocess per build, the builds
alternating case by case on the same data (same seeds), with one warm-up and ``--repeat``
timed runs (median; with ``--cpu``, CPU time and the minimum). Peers are not run.
Prints ``new / base`` per case: below 1 is faster.

On a VM the same build moves by +-25 % *between processes* (where its arrays land), more
than the repeats inside one process move: ``--procs N`` runs N process pairs per case, in
the order base-new, new-base, ... (no build always second), and reports the median over
the processes of each build, with the range of the pairs' ratios.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _worker(suite, case_idx, runner_idx, repeat, clock=time.perf_counter):
    import importlib
    sys.path.insert(0, str(HERE))
    mod = importlib.import_module(f"suite_{suite}")
    case = mod.cases(quick=False)[case_idx]
    runner = [r for r in case.runners if r.ours][runner_idx]
    data = case.make_data()
    runner.fn(data)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = clock()
        runner.fn(data)
        times.append(clock() - t0)
    import sklearn_normpen
    print(json.dumps(dict(median=statistics.median(times), min=min(times),
                          where=sklearn_normpen.__file__)))


def _run(path, suite, case_idx, runner_idx, repeat, cpu=False):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), str(HERE)]))
    out = subprocess.run([sys.executable, __file__, "--worker", suite, str(case_idx),
                          str(runner_idx), str(repeat)] + (["--cpu"] if cpu else []),
                         env=env, capture_output=True, text=True, cwd="/")
    if out.returncode:
        return None, out.stderr.strip().splitlines()[-1:]
    return json.loads(out.stdout.strip().splitlines()[-1]), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-path", required=False)
    ap.add_argument("--new-path", default=None)
    ap.add_argument("--suite", nargs="*", default=["enet", "group"])
    ap.add_argument("--case", default="")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cpu", action="store_true",
                    help="CPU time (time.process_time) and the minimum over the repeats: "
                         "steadier than wall-clock medians for short fits on a shared VM")
    ap.add_argument("--procs", type=int, default=1,
                    help="process pairs per case (median over processes; see above)")
    ap.add_argument("--worker", nargs=4, metavar=("SUITE", "CASE", "RUNNER", "REPEAT"))
    a = ap.parse_args()
    if a.worker:
        s, c, r, k = a.worker
        return _worker(s, int(c), int(r), int(k),
                       time.process_time if a.cpu else time.perf_counter)
    import importlib
    sys.path.insert(0, str(HERE))
    new_path = a.new_path or str(Path(__import__("sklearn_normpen").__file__).parents[1])
    stat = "min" if a.cpu else "median"
    print(f"base: {a.base_path}\nnew:  {new_path}\nrepeat: {a.repeat} ({stat}"
          f"{' CPU time' if a.cpu else ''})\n")
    print(f"| case | runner | base (s) | new (s) | new / base |\n|---|---|---|---|---|")
    for suite in a.suite:
        mod = importlib.import_module(f"suite_{suite}")
        for ci, case in enumerate(mod.cases(quick=False)):
            if a.case not in case.name:
                continue
            for ri, runner in enumerate([r for r in case.runners if r.ours]):
                bs, ns, err = [], [], None
                for k in range(a.procs):
                    order = [(a.base_path, bs), (new_path, ns)]
                    for path, into in (order if k % 2 == 0 else order[::-1]):
                        res, e = _run(path, suite, ci, ri, a.repeat, a.cpu)
                        if res is None:
                            err = e
                        else:
                            into.append(res[stat])
                if err or not bs or not ns:
                    print(f"| {case.name} | {runner.name} | failed {err} | | - |", flush=True)
                    continue
                b, n = statistics.median(bs), statistics.median(ns)
                ratio = f"{n / b:.2f}"
                if a.procs > 1:
                    pairs = [x / y for x, y in zip(ns, bs)]
                    ratio += f" ({min(pairs):.2f}-{max(pairs):.2f})"
                print(f"| {case.name} | {runner.name} | {b:.4f} | {n:.4f} | {ratio} |",
                      flush=True)


if __name__ == "__main__":
    main()
