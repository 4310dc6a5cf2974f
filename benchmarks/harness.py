"""Side-by-side benchmark harness: our estimators and the peers, one process, same data.

A *suite* is a module ``benchmarks/suite_<name>.py`` with a function ``cases(quick)``
returning a list of :class:`Case`. Each case builds seeded data once; every runner gets the
same data. Each runner is timed ``repeat`` times after one warm-up call (numba-based peers
compile on their first call; that cost is excluded for everyone) and the median is kept.
Peak memory is measured in a separate, untimed call with ``tracemalloc`` (it sees NumPy
allocations, not ``malloc`` inside compiled code).

Matched tolerance: a case's ``quality`` function scores every runner's result the same way
(e.g. the relative duality gap or the relative objective excess over a high-accuracy
reference solution); the table prints it so a reader can see the runs solved the same problem
to the same accuracy.
"""
import gc
import os
import platform
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass
class Runner:
    """One timed callable. With ``tols`` (loosest first), ``fn(data, tol)`` is a peer whose
    tolerance is tightened along the ladder until its quality is at most ours (see
    :func:`calibrate`); ``calib(data, tol)``, if given, scores it instead of
    ``case.quality(data, fn(data, tol))`` (e.g. a CV runner scored on its full-data path)."""
    name: str
    fn: Callable[..., Any]
    ours: bool = False
    available: bool = True
    why_unavailable: str = ""
    tols: Optional[list] = None
    calib: Optional[Callable[[dict, float], float]] = None
    tol_name: str = "tol"


@dataclass
class Timed:
    """A runner's result timed by the runner itself (e.g. inside R with ``system.time``):
    the harness keeps ``times`` instead of its own wall clock around the call."""
    value: Any
    times: list


@dataclass
class Case:
    name: str
    make_data: Callable[[], dict]
    runners: list
    quality: Optional[Callable[[dict, Any], float]] = None
    quality_label: str = "quality"
    note: str = ""
    extra: dict = field(default_factory=dict)
    # our reference accuracy for tolerance matching; default: the worst quality of our rows
    target: Optional[Callable[[dict], float]] = None


def matched(q, target):
    """A peer's accuracy is matched when its quality (a gap: smaller is better) is finite
    and at most ours. NaN or a missing value never matches."""
    return q is not None and target is not None and bool(np.isfinite(q)) and q <= target


def calibrate(score, tols, target):
    """Walk the tolerance ladder ``tols`` (loosest first) until ``score(tol) <= target``.

    Returns ``(tol, quality, ok)``: the first matching tolerance, or the last one tried with
    ``ok=False`` (the row then says that the peer did not reach our accuracy).
    """
    tol, q = None, None
    for tol in tols:
        q = score(tol)
        if matched(q, target):
            return tol, q, True
    return tol, q, False


def _time_once(fn, data):
    gc.collect()
    t0 = time.perf_counter()
    out = fn(data)
    return time.perf_counter() - t0, out


def _peak_memory(fn, data):
    gc.collect()
    tracemalloc.start()
    try:
        fn(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def _timed_runs(fn, data, repeat):
    """Warm-up then ``repeat`` timed calls; a :class:`Timed` result supplies its own times."""
    _, out = _time_once(fn, data)  # warm-up (JIT compilation, caches)
    if isinstance(out, Timed):
        return out.times, out.value, True
    times = []
    for _ in range(repeat):
        t, out = _time_once(fn, data)
        times.append(t)
    return times, out, False


def run_case(case, repeat=5, memory=True, log=print):
    """Run every available runner of ``case``; returns a list of row dicts.

    Our runners come first in a case: their worst quality (or ``case.target``) is the
    accuracy every tunable peer (``Runner.tols``) must reach before it is timed.
    """
    data = case.make_data()
    data.setdefault("_repeat", repeat)
    rows = []
    target = case.target(data) if case.target is not None else None
    for r in case.runners:
        if not r.available:
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours, time=None,
                             quality=None, peak_mb=None, note=r.why_unavailable))
            log(f"  {r.name:<28s} skipped: {r.why_unavailable}")
            continue
        try:
            fn, note, q_cal = r.fn, "", None
            if r.tols:
                def score(tol, r=r):
                    quiet = dict(data, _repeat=0)  # self-timed runners: no timed repeats
                    if r.calib is not None:
                        return r.calib(quiet, tol)
                    out = r.fn(quiet, tol)
                    return case.quality(data, out.value if isinstance(out, Timed) else out)
                tol, q_cal, ok = calibrate(score, r.tols, target)
                fn = (lambda d, r=r, tol=tol: r.fn(d, tol))
                note = f"{r.tol_name}={tol:g}" + ("" if ok else (
                    f"; did NOT reach our accuracy ({q_cal:.1e} > {target:.1e}) even at "
                    f"the tightest {r.tol_name}" if target is not None and q_cal is not None
                    else "; accuracy not compared"))
            times, out, self_timed = _timed_runs(fn, data, repeat)
            q = case.quality(data, out) if case.quality is not None else None
            if r.calib is not None:
                q = q_cal if q is None else q
            if r.ours and q is not None and case.target is None:
                target = q if target is None else max(target, q)
            peak = (_peak_memory(fn, data) / 2**20
                    if memory and not self_timed else None)  # tracemalloc can't see R
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours,
                             time=statistics.median(times), quality=q, peak_mb=peak,
                             note=note, calib_quality=q_cal))
            qs = f"{q:.1e}" if q is not None else "-"
            log(f"  {r.name:<28s} {statistics.median(times):9.4f} s  "
                f"{case.quality_label}={qs} {note}")
        except Exception as exc:  # a peer failing must not hide the other results
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours, time=None,
                             quality=None, peak_mb=None, note=f"failed: {exc!r}"[:120]))
            log(f"  {r.name:<28s} FAILED: {exc!r}")
    # the base is our first row (single-threaded where a case also has an n_jobs=2 row)
    ours = [row["time"] for row in rows if row["ours"] and row["time"] is not None]
    base = ours[0] if ours else None
    for row in rows:
        row["ratio"] = (row["time"] / base) if (base and row["time"] is not None) else None
    return rows


def machine_description():
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import numpy as np
    import scipy
    import sklearn
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.machine()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}")


def peer_versions():
    """Installed peer versions, e.g. ``adelie 1.1.52, R glmnet 4.1.6`` (missing ones left out)."""
    from importlib.metadata import PackageNotFoundError, version
    out = []
    for dist in ("adelie", "skglm", "celer", "group-lasso", "glum"):
        try:
            out.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            pass
    try:
        import peers
        ok, _, v = peers.glmnet_status()
        if ok:
            out.append(f"R glmnet {v}")
    except Exception:  # noqa: BLE001
        pass
    return ", ".join(out) or "none"


def format_table(rows, quality_labels):
    """Markdown table; ``ratio`` = runner time / our time (peers > 1 means we are faster)."""
    out = ["| case | runner | median time (s) | time / ours | quality | peak MiB | note |",
           "|---|---|---:|---:|---|---:|---|"]
    for row in rows:
        t = f"{row['time']:.4f}" if row["time"] is not None else "-"
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "-"
        q = (f"{quality_labels.get(row['case'], 'q')}={row['quality']:.1e}"
             if row["quality"] is not None else "-")
        m = f"{row['peak_mb']:.1f}" if row["peak_mb"] is not None else "-"
        name = f"**{row['runner']}**" if row["ours"] else row["runner"]
        out.append(f"| {row['case']} | {name} | {t} | {ratio} | {q} | {m} | {row['note']} |")
    return "\n".join(out)


def write_section(suite, body, path=RESULTS):
    """Replace the block between ``<!-- suite:NAME -->`` and ``<!-- /suite:NAME -->``."""
    start, end = f"<!-- suite:{suite} -->", f"<!-- /suite:{suite} -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        pre, rest = text.split(start, 1)
        _, post = rest.split(end, 1)
        text = pre + block + post
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def peer(name, import_name):
    """(available, why) for a peer package."""
    try:
        __import__(import_name)
        return True, ""
    except Exception as exc:  # noqa: BLE001
        return False, f"{name} not installed ({type(exc).__name__}); pip install '.[bench]'"
