"""The digits demo end to end on a tiny setting: training output, PNGs, checkpoint, --eval, fallbacks.

Each part skips when its optional dependency is missing; everything skips without scikit-learn.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

import ember  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "examples" / "digits.py")
TINY = ["--epochs", "1", "--limit", "200"]
HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=300, cwd=cwd)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = _python(args, cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _accuracy(stdout: str) -> str:
    m = re.search(r"^test accuracy .*$", stdout, re.M)
    assert m, stdout
    return m.group(0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny ember training run, shared: (its folder, its stdout)."""
    out = tmp_path_factory.mktemp("digits")
    proc = _run(["-m", "ember", "run", DEMO, *TINY, "--out", str(out)], cwd=out)
    return out, proc.stdout


def test_demo_trains_and_writes_its_outputs(trained):
    out, stdout = trained
    lines = stdout.splitlines()
    assert lines[0] == "digits: 160 train / 40 test images of 8x8"
    assert re.fullmatch(r"epoch  1  loss \d+\.\d{6}", lines[-2])
    assert 0 <= float(re.search(r"([\d.]+)%", _accuracy(stdout)).group(1)) <= 100
    if HAS_MPL:
        for name in ("loss_curve.png", "predictions.png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if hasattr(ember, "save"):
        assert (out / "digits_cnn.pt").stat().st_size > 0


def test_eval_reloads_the_checkpoint(trained):
    out, stdout = trained
    ckpt = out / "digits_cnn.pt"
    if not ckpt.exists():
        pytest.skip("ember.save is not available, so no checkpoint was written")
    args = ["--limit", "200", "--eval", str(ckpt), "--out", str(out / "ev")]
    proc = _run(["-m", "ember", "run", DEMO, *args], out)
    assert _accuracy(proc.stdout) == _accuracy(stdout)
    assert "epoch" not in proc.stdout  # no training
    if HAS_TORCH:  # PyTorch reads ember's checkpoint and gets the same predictions
        proc = _run([DEMO, *args], out)
        assert _accuracy(proc.stdout) == _accuracy(stdout)


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch as the oracle")
def test_demo_matches_torch_number_for_number(trained, tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from _compare import compare_outputs

    _, ours = trained
    theirs = _run([DEMO, *TINY, "--out", str(tmp_path)], tmp_path).stdout
    compare_outputs(ours, theirs)


def _run_without(modules: list[str], args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the demo on ember with ``modules`` made unimportable."""
    code = (
        "import runpy, sys\n"
        f"for m in {modules!r}: sys.modules[m] = None\n"
        "from ember import _alias\n"
        "_alias.install()\n"
        f"sys.argv = [{DEMO!r}, *{args!r}]\n"
        f"runpy.run_path({DEMO!r}, run_name='__main__')\n"
    )
    return _python(["-c", code], cwd)


def test_plain_progress_and_no_plots_without_tqdm_and_matplotlib(tmp_path):
    proc = _run_without(
        ["tqdm", "matplotlib"], ["--epochs", "1", "--limit", "100", "--out", str(tmp_path)], tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "epoch 1/1: 2/2" in proc.stderr
    assert "matplotlib is not installed" in proc.stderr
    assert not list(tmp_path.glob("*.png"))
    assert "test accuracy" in proc.stdout


def test_missing_scikit_learn_names_the_pip_command(tmp_path):
    proc = _run_without(["sklearn", "sklearn.datasets"], [], tmp_path)
    assert proc.returncode != 0
    assert "pip install scikit-learn" in proc.stderr
