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

RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass
class Runner:
    name: str
    fn: Callable[[dict], Any]
    ours: bool = False
    available: bool = True
    why_unavailable: str = ""


@dataclass
class Case:
    name: str
    make_data: Callable[[], dict]
    runners: list
    quality: Optional[Callable[[dict, Any], float]] = None
    quality_label: str = "quality"
    note: str = ""
    extra: dict = field(default_factory=dict)


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


def run_case(case, repeat=5, memory=True, log=print):
    """Run every available runner of ``case``; returns a list of row dicts."""
    data = case.make_data()
    rows = []
    for r in case.runners:
        if not r.available:
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours, time=None,
                             quality=None, peak_mb=None, note=r.why_unavailable))
            log(f"  {r.name:<28s} skipped: {r.why_unavailable}")
            continue
        try:
            _time_once(r.fn, data)  # warm-up (JIT compilation, caches)
            times, out = [], None
            for _ in range(repeat):
                t, out = _time_once(r.fn, data)
                times.append(t)
            q = case.quality(data, out) if case.quality is not None else None
            peak = _peak_memory(r.fn, data) / 2**20 if memory else None
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours,
                             time=statistics.median(times), quality=q, peak_mb=peak, note=""))
            qs = f"{q:.1e}" if q is not None else "-"
            log(f"  {r.name:<28s} {statistics.median(times):9.4f} s  {case.quality_label}={qs}")
        except Exception as exc:  # a peer failing must not hide the other results
            rows.append(dict(case=case.name, runner=r.name, ours=r.ours, time=None,
                             quality=None, peak_mb=None, note=f"failed: {exc!r}"[:120]))
            log(f"  {r.name:<28s} FAILED: {exc!r}")
    ours = [row["time"] for row in rows if row["ours"] and row["time"] is not None]
    base = min(ours) if ours else None
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
