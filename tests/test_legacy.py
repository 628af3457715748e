"""Legacy mode: the 2017 programs run as written; each idiom errors by default and warns once in legacy "
"mode."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from _compare import compare_outputs

import ember
from ember import compat

ROOT = Path(__file__).resolve().parents[1]
LEGACY = sorted((ROOT / "examples" / "legacy").glob("*.py"))
SEEDED = ROOT / "tests" / "legacy_modern" / "_seeded.py"


def _run(args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture
def legacy_mode():
    compat.legacy()
    compat._State.warned.clear()
    yield
    compat.legacy(False)
    compat._State.warned.clear()


@pytest.mark.parametrize("path", LEGACY, ids=[p.stem for p in LEGACY])
def test_legacy_program_prints_torch_numbers(path: Path) -> None:
    """Seeded identically, the legacy program under ember prints the losses its modern form prints "
    "under torch."""
    ours = _run(["-m", "ember", "run", "--legacy", str(SEEDED), str(path)])
    pytest.importorskip("torch")
    theirs = _run([str(SEEDED), str(ROOT / "tests" / "legacy_modern" / path.name)])
    compare_outputs(ours.stdout, theirs.stdout)


@pytest.mark.parametrize("name", ["variables", "my_relu", "nn_module"])
def test_legacy_program_fails_by_default_with_hint(name: str) -> None:
    proc = _run(["-m", "ember", "run", str(ROOT / "examples" / "legacy" / f"{name}.py")], check=False)
    assert proc.returncode == 1
    assert "--legacy" in proc.stderr
    expected = "Legacy autograd function" if name == "my_relu" else "invalid index of a 0-dim tensor"
    assert expected in proc.stderr


def test_legacy_warnings_name_the_line() -> None:
    proc = _run(["-m", "ember", "run", "--legacy", str(ROOT / "examples" / "legacy" / "my_relu.py")])
    lines = [ln for ln in proc.stderr.splitlines() if "LegacyWarning" in ln]
    assert len(lines) == 2, proc.stderr  # one per idiom, not one per iteration
    assert all("my_relu.py:" in ln for ln in lines)
    assert any("MyReLU.apply" in ln for ln in lines) and any("loss.item()" in ln for ln in lines)


# -- each idiom, in both modes ----------------------------------------------------------------------
def test_data_index_default_raises_torch_error_plus_hint() -> None:
    loss = (ember.ones(3, requires_grad=True) * 2).sum()
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor") as e:
        loss.data[0]
    assert "--legacy" in str(e.value)
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        loss[0]


def test_data_index_legacy_returns_number_and_warns_once(legacy_mode) -> None:
    loss = (ember.ones(3, requires_grad=True) * 2).sum()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert loss.data[0] == 6.0 and isinstance(loss.data[0], float)
        assert loss.data[0] == 6.0
    assert len([x for x in w if issubclass(x.category, compat.LegacyWarning)]) == 1
    assert issubclass(compat.LegacyWarning, DeprecationWarning)


def test_loss_index_legacy_keeps_the_graph(legacy_mode) -> None:
    x = ember.ones(3, requires_grad=True)
    loss = (x * 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = loss[0]
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


class _MyReLU(ember.autograd.Function):
    def forward(self, input):
        self.save_for_backward(input)
        return input.clamp(min=0)

    def backward(self, grad_output):
        (input,) = self.saved_tensors
        g = grad_output.clone()
        g[input < 0] = 0
        return g


def test_non_static_function_default_raises() -> None:
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method") as e:
        _MyReLU()(ember.ones(2, requires_grad=True))
    assert "--legacy" in str(e.value)


def test_non_static_function_legacy_matches_modern(legacy_mode) -> None:
    x = ember.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = _MyReLU()(x * 3)
    assert y.grad_fn.name() == "_MyReLUBackward"
    (y * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 6.0, 9.0]


def test_volatile_legacy_records_no_graph(legacy_mode) -> None:
    w = ember.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = ember.autograd.Variable(ember.ones(2), volatile=True)
    out = (v * w).sum()
    assert not out.requires_grad and out.grad_fn is None
    assert (w * 2).requires_grad  # only what a volatile input produces is affected


def test_volatile_default_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="volatile was removed"):
        v = ember.autograd.Variable(ember.ones(2), volatile=True)
    assert (v * ember.ones(2, requires_grad=True)).requires_grad


def test_variable_data_arithmetic_and_zero() -> None:
    w = ember.autograd.Variable(ember.ones(2), requires_grad=True)
    (w * 3).sum().backward()
    w.data -= 0.5 * w.grad.data
    w.grad.data.zero_()
    assert w.tolist() == [-0.5, -0.5] and w.grad.tolist() == [0.0, 0.0]
    assert w.data.numpy().tolist() == [-0.5, -0.5]


def test_legacy_constructors_and_cuda_types() -> None:
    t = ember.FloatTensor(2, 3)
    assert t.shape == (2, 3) and t.dtype is ember.float32
    assert ember.LongTensor([1, 2]).dtype is ember.int64
    with pytest.raises(RuntimeError, match="torch.FloatTensor"):
        ember.randn(2).type(ember.cuda.FloatTensor)
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        ember.autograd.Variable(ember.ones(2)).cuda()


def test_legacy_mode_can_be_switched_off() -> None:
    compat.legacy()
    compat.legacy(False)
    assert ember.autograd.Function.apply.__func__ is not compat._volatile_aware_apply
    with pytest.raises(IndexError):
        ember.tensor(1.0)[0]
