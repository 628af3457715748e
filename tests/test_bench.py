"""The benchmark tool runs end to end on a tiny setting (a smoke test, not a timing assertion)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_and_reports_json() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    names = ["poly_autograd", "op_add", "chain_backward"]
    cmd = [sys.executable, "-m", "ember", "bench", "--repeats", "1", "--min-time", "0.001", "--json", *names]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["workload"] for r in rows] == names
    for r in rows:
        assert r["ember"] > 0
        if "torch" in r:
            assert abs(r["ratio"] - r["ember"] / r["torch"]) < 1e-12


def test_bench_rejects_unknown_workload() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "no_such_workload"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "unknown workload" in proc.stderr


def test_bench_memory_reports_peak_rss() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "ember", "bench", "--memory", "--json", "poly_autograd"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["workload"] == "poly_autograd"
    assert 0 < row["ember_mb"] < 1e5
    assert 0 <= row["ember_over_import_mb"] <= row["ember_mb"]
    if "torch_mb" in row:
        assert row["torch_mb"] > 0
        assert abs(row["ratio"] - row["ember_mb"] / row["torch_mb"]) < 1e-12


def test_bench_import_time_runs() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "ember", "bench", "--import-time", "--repeats", "1", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["workload"] == "import (whole process)"
    assert row["ember"] > 0
    if "torch" in row:
        assert abs(row["ratio"] - row["ember"] / row["torch"]) < 1e-12
