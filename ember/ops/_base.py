"""What every op module shares: the ``Op`` base class and operand preparation with PyTorch promotion."""

from __future__ import annotations

import warnings

from .. import dtypes as D
from .._backend import np
from ..autograd.function import Function
from ..tensor import Tensor, _wrap

__all__ = ["Op", "Tensor", "_wrap", "np", "D", "arr", "operands", "fdata", "as_tensor_like"]

# NOTE [ floating-point warnings ]
# PyTorch computes 1/0, log(0) and exp(1000) silently (inf, nan); NumPy warns. A per-op np.errstate
# would cost a microsecond on every op, so instead NumPy's RuntimeWarnings are ignored when they are
# raised from ember's own frames only: the user's direct NumPy code keeps its warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.")


class Op(Function):
    """A built-in primitive: forward computes on arrays and returns an array; backward uses ember ops."""

    _builtin = True
    _backward_suffix = "0"


def arr(v):
    """The array (or Python scalar) behind an operand."""
    return v._data if isinstance(v, Tensor) else v


def fdata(x: Tensor):
    """x's data as floating point: integer inputs of float-only ops compute in the default dtype."""
    if x.dtype.is_floating_point:
        return x._data
    return x._data.astype(D.get_default_dtype().np)


def _cast(t: Tensor, dt: D.dtype) -> Tensor:
    if t.dtype is dt:
        return t
    if t._rg:
        return t.to(dt)  # differentiable, so the gradient flows back in t's own dtype
    return _wrap(t._data.astype(dt.np), dt, t.device)


def _scalar(v, dt: D.dtype):
    """A Python scalar as a NumPy scalar of ``dt`` (integers wrap as PyTorch's do)."""
    return np.array(v).astype(dt.np)[()]


def operands(a, b, float_only: bool = False):
    """Promote a binary op's operands once, up front: returns ``(a, b, result dtype)``.

    Tensors are cast to the result dtype; Python scalars stay Python scalars when NumPy will
    already compute in the tensor's dtype (the fast path of ``2.0 * x``).
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a.device is not b.device and a._data.ndim and b._data.ndim:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{a.device} and {b.device}!"
            )
        dt = a.dtype if a.dtype is b.dtype else D.result_type(a, b)
    else:
        t, s = (a, b) if ta else (b, a)
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}")
        st = type(s)
        if t.dtype.is_floating_point and st in (float, int, bool):
            dt = t.dtype
        elif t.dtype is D.int64 and st is int:
            dt = t.dtype
        else:
            dt = D.result_type(t, s)
            if float_only and not dt.is_floating_point:  # ``int_tensor / 3``: 3 takes part as a float
                dt = D.get_default_dtype()
            s = _scalar(s, dt)
            a, b = (t, s) if ta else (s, t)
    if float_only and not dt.is_floating_point:
        dt = D.get_default_dtype()
    if ta:
        a = _cast(a, dt)
    if tb:
        b = _cast(b, dt)
    return a, b, dt


def as_tensor_like(v, like: Tensor) -> Tensor:
    if isinstance(v, Tensor):
        return v
    return _wrap(np.asarray(v, dtype=like.dtype.np), like.dtype, like.device)
