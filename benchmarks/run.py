"""Time each workload on ember and, when installed, on torch, alternating; print medians and ratios.

    python benchmarks/run.py [--repeats 7] [--min-time 0.2] [--json] [names...]

Both libraries run with one thread, in one process, interleaved, so machine drift hits both alike.
Ratios (ember / torch; below 1 means ember is faster) are what carry over between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.workloads import WORKLOADS  # noqa: E402


def _time(step, min_time: float) -> float:
    """Seconds per call: calls in a loop until ``min_time`` has passed."""
    step()  # warm-up
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / n


def run(names, repeats: int = 7, min_time: float = 0.2) -> list[dict]:
    import ember

    libs = {"ember": ember}
    try:
        import torch

        torch.set_num_threads(1)
        libs["torch"] = torch
    except ImportError:
        pass
    rows = []
    for name in names:
        steps = {lib: WORKLOADS[name](mod) for lib, mod in libs.items()}
        samples = {lib: [] for lib in libs}
        for _ in range(repeats):
            for lib, step in steps.items():
                samples[lib].append(_time(step, min_time))
        row = {"workload": name, **{lib: statistics.median(s) for lib, s in samples.items()}}
        if "torch" in row:
            row["ratio"] = row["ember"] / row["torch"]
        rows.append(row)
    return rows


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds * 1e9:8.1f} ns"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help=f"workloads (default: all): {', '.join(WORKLOADS)}")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per timing sample")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    names = args.names or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s): {', '.join(unknown)}")
    rows = run(names, args.repeats, args.min_time)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'workload':22} {'ember':>11} {'torch':>11} {'ember/torch':>12}")
    for r in rows:
        torch_t = _fmt(r["torch"]) if "torch" in r else "        n/a"
        ratio = f"{r['ratio']:12.2f}" if "ratio" in r else "         n/a"
        print(f"{r['workload']:22} {_fmt(r['ember'])} {torch_t} {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
