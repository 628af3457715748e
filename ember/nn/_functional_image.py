# ruff: noqa: A002, PLR0913, PLR0917 - PyTorch's argument names, and its positional signatures
"""Image-layer composites of ``nn.functional``: instance_norm, local_response_norm, lp_pool, max_unpool.

Each is a few ember ops (PyTorch composes them the same way), so none needs a backward of its own.
They import from ``ember.ops`` only: ``functional.py`` re-exports them from its last lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .. import creation as C
from ..autograd.grad_mode import no_grad
from ..ops import conv as K
from ..ops import elementwise as E
from ..ops.nn_ops import NativeBatchNorm
from ..tensor import Tensor

__all__ = ["instance_norm", "local_response_norm", "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d"]


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample of ``(N, C, *)`` over its spatial dims.

    As PyTorch computes it: batch norm of the ``(1, N * C, *)`` view with weight, bias and running stats
    repeated N times; the running stats then take the mean of the N updated copies.
    """
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError(
            "Expected running_mean and running_var to be defined when use_input_stats is false"
        )
    n, c = input.shape[:2]

    def rep(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.repeat(n)

    rm, rv = rep(running_mean), rep(running_var)
    x = input.reshape(1, n * c, *input.shape[2:])
    out = NativeBatchNorm.apply(x, rep(weight), rep(bias), rm, rv, use_input_stats, momentum, eps)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.view(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.view(n, c).mean(0))
    return out.view(input.shape)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels) ** beta."""
    dim = input.ndim
    if dim < 3:
        # PyTorch's message, its run of spaces included
        raise ValueError(f"Expected 3D or higher dimensionality{' ' * 26}input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    if dim == 3:
        div = K.pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = K.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = K.pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = K.avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def _lp_finish(out: Tensor, window: int, norm_type: float) -> Tensor:
    # sign * relu(abs): keeps the gradient at 0 defined, as PyTorch writes it
    return (out.sign() * E.relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: int, stride=None, ceil_mode: bool = False
) -> Tensor:
    """(sum over each window of x^p)^(1/p) along the last dim."""
    if norm_type == math.inf:
        return K.max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -K.max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = K.avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, kernel_size, norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) over the last two dims."""
    kw, kh = K._ntuple(kernel_size, 2, "kernel_size")
    if norm_type == math.inf:
        return K.max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -K.max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = K.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, kw * kh, norm_type)


def _unpool_output_size(input: Tensor, kernel_size, stride, padding, output_size) -> list[int]:
    d = len(kernel_size)
    default = [(input.shape[-d + i] - 1) * stride[i] + kernel_size[i] - 2 * padding[i] for i in range(d)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == d + 2:
        output_size = output_size[2:]
    if len(output_size) != d:
        raise ValueError(
            f"output_size should be a sequence containing {d} or {d + 2} elements, but it has a length of "
            f"'{len(output_size)}'"
        )
    for i in range(d):
        lo, hi = default[i] - stride[i], default[i] + stride[i]
        if not lo < output_size[i] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between {lo} and {hi})')
    return output_size


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Undo max_pool2d: each value goes back to the flat spatial position its index names, zeros elsewhere."""
    k = K._ntuple(kernel_size, 2, "kernel_size")
    s = k if stride is None else K._ntuple(stride, 2, "stride")
    return _unpool(
        input, indices, _unpool_output_size(input, k, s, K._ntuple(padding, 2, "padding"), output_size)
    )


def _unpool(input: Tensor, indices: Tensor, size: Sequence[int]) -> Tensor:
    lead = input.shape[:-2]
    flat = C.zeros(*lead, size[0] * size[1], dtype=input.dtype, device=input.device)
    return flat.scatter(-1, indices.flatten(-2), input.flatten(-2)).view(*lead, *size)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """Undo max_pool1d (run, as PyTorch runs it, as max_unpool2d of a width-1 image)."""
    k = K._ntuple(kernel_size, 1, "kernel_size")
    s = k if stride is None else K._ntuple(stride, 1, "stride")
    size = _unpool_output_size(input, k, s, K._ntuple(padding, 1, "padding"), output_size)
    return _unpool(input.unsqueeze(-1), indices.unsqueeze(-1), [*size, 1]).squeeze(-1)
