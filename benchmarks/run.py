"""Time each workload on ember and, when installed, on torch, alternating; print medians and ratios.

    python benchmarks/run.py [--repeats 7] [--min-time 0.2] [--json] [names...]
    python benchmarks/run.py --memory [--json] [names...]      (default: digits_epoch)

Both libraries run with one thread, in one process, interleaved, so machine drift hits both alike.
Ratios (ember / torch; below 1 means ember is faster) are what carry over between machines.

``--memory`` measures peak memory instead: each library runs the workload's setup and one step (for
digits_epoch, one training epoch) in a fresh process of its own, which reports its peak resident set
size (see ``_peak_mb``), both in all and over the peak right after importing the library.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
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


def _peak_mb() -> float:
    """This process's peak resident set size so far, in MB.

    Linux's ``ru_maxrss`` carries the parent's peak over ``fork`` and ``exec`` (a child started from a
    process that imported torch would report torch's peak), so on Linux this reads the high-water mark
    of the process's own memory, ``VmHWM`` in /proc/self/status; elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB elsewhere


def _memory_child(lib: str, name: str) -> None:
    """Run in a fresh process: import ``lib``, set up ``name``, run one step; print peak MB as JSON."""
    if lib == "torch":
        import torch as mod  # noqa: PLC0415 - the library under test, imported on demand

        mod.set_num_threads(1)
    else:
        import ember as mod  # noqa: PLC0415

    imported = _peak_mb()
    WORKLOADS[name](mod)()
    print(json.dumps({"peak_mb": _peak_mb(), "import_mb": imported}))


def _libs() -> list[str]:
    try:
        import torch  # noqa: F401, PLC0415 - only whether it is installed
    except ImportError:
        return ["ember"]
    return ["ember", "torch"]


def memory(names) -> list[dict]:
    """Peak memory of one step of each workload, each library in a fresh process of its own."""
    rows = []
    for name in names:
        row = {"workload": name}
        for lib in _libs():
            cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", lib, name]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode:
                raise RuntimeError(f"{lib} {name} failed:\n{proc.stderr}")
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            row[f"{lib}_mb"] = got["peak_mb"]
            row[f"{lib}_over_import_mb"] = got["peak_mb"] - got["import_mb"]
        if "torch_mb" in row:
            row["ratio"] = row["ember_mb"] / row["torch_mb"]
        rows.append(row)
    return rows


def import_time(repeats: int = 7) -> dict:
    """Wall time of a whole ``python -c "import LIB"`` process, median over alternating runs."""
    samples = {lib: [] for lib in _libs()}
    for _ in range(repeats):
        for lib, got in samples.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {lib}"], check=True)
            got.append(time.perf_counter() - start)
    row = {"workload": "import (whole process)", **{lib: statistics.median(s) for lib, s in samples.items()}}
    if "torch" in row:
        row["ratio"] = row["ember"] / row["torch"]
    return row


def _print_memory(rows) -> None:
    print(f"{'workload (peak RSS)':22} {'ember':>11} {'torch':>11} {'ember/torch':>12}")
    for r in rows:
        torch_mb = f"{r['torch_mb']:8.1f} MB" if "torch_mb" in r else "        n/a"
        ratio = f"{r['ratio']:12.2f}" if "ratio" in r else "         n/a"
        print(f"{r['workload']:22} {r['ember_mb']:8.1f} MB {torch_mb} {ratio}")
        over = f"{r['torch_over_import_mb']:8.1f} MB" if "torch_mb" in r else "        n/a"
        print(f"{'  over import':22} {r['ember_over_import_mb']:8.1f} MB {over}")


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
    p.add_argument(
        "--memory",
        action="store_true",
        help="peak memory (max RSS) of one step, each library in a fresh process (default: digits_epoch)",
    )
    p.add_argument(
        "--import-time", action="store_true", help="time a whole `python -c 'import LIB'` process instead"
    )
    p.add_argument("--memory-child", nargs=2, metavar=("LIB", "NAME"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        _memory_child(*args.memory_child)
        return 0
    everything = not (args.names or args.memory or args.import_time)  # the whole report
    names = args.names or (["digits_epoch"] if args.memory else list(WORKLOADS))
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s): {', '.join(unknown)}")
    if args.import_time:
        rows = [import_time(args.repeats)]
    elif args.memory:
        rows = memory(names)
    else:
        rows = run(names, args.repeats, args.min_time)
    if everything:
        rows.append(import_time(args.repeats))
        mem = memory(["digits_epoch"])
    if args.json:
        print(json.dumps(rows + mem if everything else rows, indent=2))
        return 0
    if args.memory:
        _print_memory(rows)
        return 0
    _print_times(rows)
    if everything:
        print()
        _print_memory(mem)
    return 0


def _print_times(rows) -> None:
    print(f"{'workload':22} {'ember':>11} {'torch':>11} {'ember/torch':>12}")
    for r in rows:
        torch_t = _fmt(r["torch"]) if "torch" in r else "        n/a"
        ratio = f"{r['ratio']:12.2f}" if "ratio" in r else "         n/a"
        print(f"{r['workload']:22} {_fmt(r['ember'])} {torch_t} {ratio}")


if __name__ == "__main__":
    sys.exit(main())
