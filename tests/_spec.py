"""Helpers for the op-spec table: input makers, running a spec in ember or torch, comparisons.

A spec names an op, a function ``fn(T, *inputs)`` written once against a torch-shaped module
(``T`` is ``ember`` or ``torch``), the inputs to make, and a NumPy reference. ``tests/test_ops.py``
drives every check (forward vs NumPy, gradcheck, gradgradcheck, parity with torch) from it.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence

import numpy as np

import ember

try:  # torch is the oracle only: every test that needs it skips cleanly without it
    import torch
except ImportError:  # pragma: no cover - exercised only where torch is absent
    torch = None

needs_torch = __import__("pytest").mark.skipif(torch is None, reason="reference torch not installed")


# -- inputs --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Arg:
    """One input of a spec: ``make(rng)`` gives its NumPy value; float ``grad`` args are differentiated."""

    make: Callable[[np.random.Generator], np.ndarray]
    grad: bool = True


def away(shape, lo=0.25, hi=2.0) -> Arg:
    """Floats with |x| in [lo, hi] and random sign: clear of the kinks at 0 (abs, relu, sign)."""

    def make(rng):
        mag = rng.uniform(lo, hi, size=shape)
        return np.where(rng.random(size=shape) < 0.5, -mag, mag)

    return Arg(make)


def uniform(shape, lo, hi) -> Arg:
    return Arg(lambda rng: rng.uniform(lo, hi, size=shape))


def pos(shape, lo=0.5, hi=2.0) -> Arg:
    return uniform(shape, lo, hi)


def unit(shape) -> Arg:
    """Inside (-0.9, 0.9): the domain of asin/acos with room to spare."""
    return uniform(shape, -0.9, 0.9)


def distinct(shape, gap=0.1) -> Arg:
    """Floats that are pairwise at least ``gap`` apart: max/min/sort have no ties to break."""

    def make(rng):
        n = int(np.prod(shape, dtype=np.int64))
        vals = (np.arange(n) - n / 2) * (4.0 / max(n, 1)) + gap * 0.5
        vals = vals + rng.uniform(0, gap * 0.3, size=n)
        return rng.permutation(vals).reshape(shape)

    return Arg(make)


def const(value, dtype=None) -> Arg:
    """A fixed, non-differentiated input (indices, masks, integer tensors)."""
    arr = np.asarray(value, dtype=dtype)
    return Arg(lambda rng: arr.copy(), grad=False)


def ints(shape, lo, hi, dtype=np.int64) -> Arg:
    return Arg(lambda rng: rng.integers(lo, hi, size=shape).astype(dtype), grad=False)


def mask(shape, p=0.5) -> Arg:
    return Arg(lambda rng: rng.random(size=shape) < p, grad=False)


def nograd(arg: Arg) -> Arg:
    return dataclasses.replace(arg, grad=False)


# -- specs ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class Spec:
    """One row of the table.

    Attributes:
        name: a unique test id.
        fn: ``fn(T, *inputs)`` with ``T`` the ember or torch module.
        args: the inputs: shapes (floats clear of kinks) or ``Arg`` objects.
        ref: the NumPy reference ``ref(*arrays)`` (float64 arrays), or None.
        grad: whether the op is differentiable (gradcheck, gradgradcheck, gradient parity).
        gradcheck: whether to run gradcheck/gradgradcheck (False where float64 finite differences
            cannot see the op, e.g. a round trip through float32).
        gradgrad: whether to run gradgradcheck.
        grad_fn: the expected grad_fn name of the first output (also compared with torch's own).
        same_grad_fn: whether torch's grad_fn names are compared (False where they name torch's own
            internal decomposition, e.g. einsum's contraction path).
        atol32: tolerance for float32 parity.
    """

    name: str
    fn: Callable
    args: Sequence
    ref: Callable | None = None
    grad: bool = True
    gradcheck: bool = True
    gradgrad: bool = True
    grad_fn: str | None = None
    same_grad_fn: bool = True
    atol32: float = 1e-5

    def __post_init__(self):
        self.args = [a if isinstance(a, Arg) else away(a) for a in self.args]

    def arrays(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [a.make(rng) for a in self.args]

    def tensors(self, T, dtype: str, requires_grad: bool):
        """The inputs as ``T`` tensors: float inputs in ``dtype``; the grad flags as the spec says."""
        out = []
        for a, arr in zip(self.args, self.arrays(), strict=True):
            if arr.dtype.kind == "f":
                t = T.tensor(
                    arr, dtype=getattr(T, dtype), requires_grad=requires_grad and a.grad and self.grad
                )
            else:
                t = T.tensor(arr)
            out.append(t)
        return out


def outputs(out) -> list:
    """An op's result as a flat list (tuples of tensors, namedtuples, single tensors)."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def to_np(t) -> np.ndarray:
    if isinstance(t, ember.Tensor):
        return t.detach().numpy()
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def dtype_name(dt) -> str:
    return str(dt).removeprefix("torch.")


def grad_fn_name(t):
    fn = t.grad_fn
    if fn is None:
        return None
    return fn.name() if isinstance(t, ember.Tensor) else type(fn).__name__


def assert_close(actual, expected, rtol=1e-10, atol=1e-12, what="", rtol32=1e-5, atol32=1e-6) -> None:
    """Exact for bool and integer results; float32/float16 results get the looser tolerances."""
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    if a.dtype == bool or e.dtype == bool or a.dtype.kind in "iu" and e.dtype.kind in "iu":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    if a.dtype.kind == "f" and a.dtype.itemsize < 8 or e.dtype.kind == "f" and e.dtype.itemsize < 8:
        rtol, atol = max(rtol, rtol32), max(atol, atol32)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
