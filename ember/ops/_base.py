"""What every op module shares: the ``Op`` base class and operand preparation with PyTorch promotion."""

from __future__ import annotations

import warnings

from .. import dtypes as D
from .._backend import np
from ..autograd.function import Function
from ..tensor import Tensor, _wrap

__all__ = [
    "Op",
    "Tensor",
    "_wrap",
    "np",
    "D",
    "arr",
    "operands",
    "fdata",
    "as_tensor_like",
    "opmath",
    "bf16_round",
]

# NOTE [ floating-point warnings ]
# PyTorch computes 1/0, log(0) and exp(1000) silently (inf, nan); NumPy warns. A per-op np.errstate
# would cost a microsecond on every op, so instead NumPy's RuntimeWarnings are ignored when they are
# raised from ember's own frames only: the user's direct NumPy code keeps its warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.")


class Op(Function):
    """A built-in primitive: forward computes on arrays and returns an array; backward uses ember ops."""

    _builtin = True
    _backward_suffix = "0"


# NOTE [ bfloat16 op math ]
# torch computes most bfloat16 ops in float32 (its "opmath" type) and rounds to bfloat16 once, at the end.
# ml_dtypes' NumPy ufuncs round after every ufunc, so a forward of several steps (sigmoid, softmax, a
# matmul, a sum's running total) drifts from torch's bits. ``@opmath`` on such a forward runs it with its
# bfloat16 inputs' data widened to float32 (when the first argument is a bfloat16 tensor) and rounds a
# float32 result back once. It is not for forwards that return views, write into their inputs, take an
# explicit dtype, or keep input arrays for backward. One-ufunc ops need none of it (ml_dtypes computes
# each ufunc in float32); where torch itself rounds an intermediate to bfloat16 (log_softmax's sum,
# logsumexp's steps) the op says so with ``bf16_round``. In elementwise.py, add/sub round alpha to
# bfloat16 and fuse the multiply-add (``_axpy``); mul/div take a Python number in float32 (``_by_scalar``).


def opmath(forward):
    """Mark a forward to run in float32 on bfloat16 inputs (``Function.apply`` checks the mark per
    class, so other dtypes pay no extra call)."""
    forward._opmath = True
    return forward


def _widened(forward, ctx, args, kwargs):
    """``forward`` with its bfloat16 tensors' data as float32, and a float32 result rounded once."""
    if any(isinstance(a, D.dtype) for a in args):  # an explicit dtype (sum(dtype=...)) decides for itself
        return forward(ctx, *args, **kwargs)
    wide = {id(a): a for a in args if isinstance(a, Tensor) and a.dtype is D.bfloat16}
    narrow = {k: a._data for k, a in wide.items()}
    try:
        for a in wide.values():
            a._data = a._data.astype(np.float32)
        out = forward(ctx, *args, **kwargs)
    finally:
        for k, a in wide.items():
            a._data = narrow[k]
    if isinstance(out, tuple):
        return tuple(o.astype(D.bfloat16.np) if getattr(o, "dtype", None) == np.float32 else o for o in out)
    return out.astype(D.bfloat16.np) if out.dtype == np.float32 else out


def bf16_round(a):
    """float32 values rounded to bfloat16 and back: an intermediate torch keeps in bfloat16."""
    return a.astype(D.bfloat16.np).astype(np.float32)


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
