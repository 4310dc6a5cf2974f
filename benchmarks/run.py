"""Run benchmark suites and (optionally) record them in RESULTS.md.

    python benchmarks/run.py                       # every suite, print only
    python benchmarks/run.py --suite enet --write  # one suite, update its RESULTS.md block
    python benchmarks/run.py --quick               # small sizes: a smoke test of the harness

Ratios are runner time / our time: a peer's ratio above 1 means we are that many times faster.
"""
import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def available_suites():
    return sorted(p.stem[len("suite_"):] for p in HERE.glob("suite_*.py"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", nargs="*", default=None,
                    help=f"suites to run (default: all of {available_suites()})")
    ap.add_argument("--case", default=None, help="only cases whose name contains this")
    ap.add_argument("--repeat", type=int, default=5, help="timed repeats (median kept)")
    ap.add_argument("--quick", action="store_true", help="small sizes (harness smoke test)")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    ap.add_argument("--skip", nargs="*", default=[],
                    help="skip runners whose name contains any of these strings")
    ap.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--block", default=None,
                    help="RESULTS.md block to write (default: the suite's name)")
    args = ap.parse_args(argv)

    suites = args.suite or available_suites()
    command = "python benchmarks/run.py " + " ".join(a for a in (argv or sys.argv[1:]))
    for suite in suites:
        mod = importlib.import_module(f"suite_{suite}")
        cases = [c for c in mod.cases(quick=args.quick)
                 if args.case is None or args.case in c.name]
        for c in cases:
            c.runners = [r for r in c.runners if not any(k in r.name for k in args.skip)]
        rows, labels, notes = [], {}, []
        t0 = time.perf_counter()
        for case in cases:
            print(f"[{suite}] {case.name}", flush=True)
            rows += harness.run_case(case, repeat=args.repeat, memory=not args.no_memory)
            labels[case.name] = case.quality_label
            if case.note:
                notes.append(f"- {case.name}: {case.note}")
        table = harness.format_table(rows, labels)
        print(table)
        if args.write:
            body = "\n".join([
                f"## {getattr(mod, 'TITLE', suite)}",
                "",
                f"Command: `{command.strip()}` ({time.strftime('%Y-%m-%d')}, "
                f"{time.perf_counter() - t0:.0f} s)",
                f"Machine: {harness.machine_description()}",
                f"Peers: {harness.peer_versions()}",
                "",
                getattr(mod, "DESCRIPTION", "").strip(),
                "",
                table,
                "",
                *notes,
            ])
            harness.write_section(args.block or suite, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
