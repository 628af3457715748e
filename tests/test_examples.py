"""Each example runs under ``python -m ember run`` and under real PyTorch; the printed numbers agree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def _run(args: list[str]) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _close(a: float, b: float, line: str) -> bool:
    # tensor reprs are rounded to 4 decimals, so a last-digit difference there is allowed
    atol = 2e-4 if "tensor(" in line or line.startswith(" ") else 1e-6
    return abs(a - b) <= 1e-4 * max(abs(a), abs(b)) + atol


def compare_outputs(ours: str, theirs: str) -> None:
    """Same lines with the same words; every number equal to 1e-4 relative."""
    a_lines, b_lines = ours.splitlines(), theirs.splitlines()
    assert len(a_lines) == len(b_lines), f"{len(a_lines)} lines vs torch's {len(b_lines)}"
    for la, lb in zip(a_lines, b_lines, strict=True):
        assert NUMBER.sub("#", la) == NUMBER.sub("#", lb), f"ember: {la!r}\ntorch: {lb!r}"
        for x, y in zip(NUMBER.findall(la), NUMBER.findall(lb), strict=True):
            assert _close(float(x), float(y), la), f"ember: {la!r}\ntorch: {lb!r}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_matches_torch(path: Path) -> None:
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
