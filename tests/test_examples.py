"""Each example runs under ``python -m ember run`` and under real PyTorch; the printed numbers agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _compare import compare_outputs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _run(args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_matches_torch(path: Path) -> None:
    if path.stem == "digits":
        pytest.importorskip("sklearn", reason="the digits demo needs scikit-learn (pip install '.[demo]')")
    ours = _run(["-m", "ember", "run", str(path)])
    assert ours.strip(), "the example printed nothing"
    pytest.importorskip("torch")
    compare_outputs(ours, _run([str(path)]))


def test_compare_outputs_detects_a_difference() -> None:
    compare_outputs("99 1039.5152\n", "99 1039.5153\n")
    with pytest.raises(AssertionError):
        compare_outputs("99 1039.5\n", "99 1040.5\n")
    with pytest.raises(AssertionError):
        compare_outputs("Result: y = 1.0\n", "Result: z = 1.0\n")
    # near zero, a loss may differ by 1e-6 of the run's largest loss, and no more
    compare_outputs("0 1000000.0\n9 0.1\n", "0 1000000.0\n9 0.15\n")
    with pytest.raises(AssertionError):
        compare_outputs("0 1000000.0\n9 1.0\n", "0 1000000.0\n9 2.5\n")
