# ruff: noqa: A001, A002, PLR0917 - PyTorch's argument names, and its positional signatures
"""``torch.nn.functional``: stateless layers, activations, losses, normalisation, attention.

Each function is a thin alias of one op in ``ember.ops`` (see ``nn_ops.py``) or a short composite of
ember ops that needs no backward of its own.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

from .. import creation as C
from .. import dtypes as D
from .._backend import np
from ..ops import elementwise as E
from ..ops import nn_ops as N
from ..ops.indexing import index_select
from ..ops.inplace import unary_
from ..ops.linalg import Addmm, _tn
from ..ops.shape import stack
from ..tensor import Tensor, _wrap
from . import _reduction  # noqa: F401 - reachable as F._reduction, as in PyTorch
from ._losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)  # fmt: skip

__all__ = [
    "linear", "bilinear", "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_",
    "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_", "hardsigmoid",
    "hardswish", "softplus", "softsign", "tanhshrink", "threshold", "threshold_", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu", "hardshrink", "softshrink", "dropout", "alpha_dropout",
    "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "embedding", "embedding_bag",
    "layer_norm", "rms_norm", "group_norm", "batch_norm", "normalize", "cosine_similarity",
    "pairwise_distance", "one_hot", "pad", "scaled_dot_product_attention", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss", "gaussian_nll_loss",
    "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
]  # fmt: skip


# -- linear layers -------------------------------------------------------------------------------
def _matmul_check(input: Tensor, weight: Tensor) -> None:
    if input.dtype is not weight.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_tn(input.dtype)} != {_tn(weight.dtype)}"
        )
    if input.shape[-1] != weight.shape[-1]:
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} and "
            f"{weight.shape[1]}x{weight.shape[0]})"
        )


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.

    Shape:
        input ``(*, in_features)``, weight ``(out_features, in_features)``, bias ``(out_features)``,
        output ``(*, out_features)``.
    """
    _matmul_check(input, weight)
    wt = weight.t()
    if bias is None:
        return input.mm(wt) if input.ndim == 2 else input.matmul(wt)
    if input.ndim == 2:
        return Addmm.apply(bias, input, wt, 1, 1)
    # any other rank: one matrix product over the flattened leading dims, then a view back (as PyTorch)
    out = Addmm.apply(bias, input.reshape(-1, input.shape[-1]), wt, 1, 1)
    return out.view(*input.shape[:-1], weight.shape[0])


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x1^T A x2 + b, with ``weight`` of shape ``(out, in1, in2)``."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(
            f"bilinear(): input size does not match weight size: got {input1.shape[-1]}, "
            f"{input2.shape[-1]} but "
            f"weight has {in1}, {in2}"
        )
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    t = x1.mm(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).view(-1, out_f, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.view(*input1.shape[:-1], out_f)


# -- activations ---------------------------------------------------------------------------------
def _maybe_inplace(input: Tensor, inplace: bool, fn: Callable, *args) -> Tensor:
    """``fn(input, *args)``, written back into ``input`` when ``inplace`` (as PyTorch's ``relu_``)."""
    if inplace:
        return unary_(input, fn, *args)
    return fn(input, *args)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise (relu'(0) = 0)."""
    return _maybe_inplace(input, inplace, E.relu)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val); the gradient is 1 strictly inside the range."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, N.Hardtanh.apply, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere."""
    return _maybe_inplace(input, inplace, N.LeakyRelu.apply, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, weight * x elsewhere; weight has 1 or C (channel dim 1) entries."""
    channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else 1)
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}."
        )
    return N.PreluKernel.apply(input, weight.reshape(-1))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, alpha (exp(x) - 1) elsewhere."""
    return _maybe_inplace(input, inplace, N.Elu.apply, alpha, 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _maybe_inplace(input, inplace, N.Elu.apply, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_inplace(input, inplace, N.Celu.apply, alpha, 1.0, 1.0 / alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")  # noqa: F541
    return N.Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _maybe_inplace(input, inplace, N.Silu.apply)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, N.Mish.apply)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(x)."""
    return E.tanh(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, N.Hardsigmoid.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, N.Hardswish.apply)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return N.Softplus.apply(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, value elsewhere."""
    return _maybe_inplace(input, inplace, N.Threshold.apply, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return unary_(input, N.Threshold.apply, threshold, value)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow."""
    return N.LogSigmoid.apply(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, 0 elsewhere."""
    return input * (input.abs() > lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd where x > lambd, x + lambd where x < -lambd, 0 elsewhere."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return input - input.clamp(-lambd, lambd)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
        "argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (computed in ``dtype`` when given)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return N.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return N.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return N.softmax(-input, dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of the input along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.ndim if dim < 0 else dim
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    return N.Glu.apply(input, d)


# -- dropout -------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input: Tensor, p: float, feature: bool) -> np.ndarray:
    """PyTorch's ``noise.bernoulli_(1 - p)``: 1 keeps, 0 drops; one draw per channel for feature dropout."""
    shape = input.shape if not feature else (input.shape[0], input.shape[1]) + (1,) * (input.ndim - 2)
    return C._gen(None)._bernoulli(1 - p, shape, input.dtype.np)


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool, alpha: bool) -> Tensor:
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = _wrap(np.zeros((), input.dtype.np), input.dtype, input.device)
        return _maybe_inplace(input, inplace, E.mul, zero)
    noise = _keep_mask(input, p, feature)
    dt = input.dtype.np
    if alpha:
        # SELU-preserving dropout: dropped units go to the negative saturation, then an affine fix
        sat = 1.7580993408473766
        a = 1.0 / math.sqrt((sat * sat * p + 1) * (1 - p))
        b = _wrap(
            ((noise - 1) * dt.type(sat * a) + dt.type(sat * a * p)).astype(dt), input.dtype, input.device
        )
        scale = _wrap((noise * dt.type(a)).astype(dt), input.dtype, input.device)
        return _maybe_inplace(input, inplace, lambda x: x * scale + b)
    scale = _wrap((noise / dt.type(1 - p)).astype(dt), input.dtype, input.device)
    return _maybe_inplace(input, inplace, E.mul, scale)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (training only).

    The mask is drawn from the default generator exactly as PyTorch draws it, so seeded runs match.
    """
    return _dropout(input, p, training, inplace, feature=False, alpha=False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps the mean and variance of SELU activations."""
    return _dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched_ndim: int, name: str):
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(
            f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a {input.ndim}D "
            "input. "
        )
    if input.ndim == batched_ndim - 1:  # no batch dim: treat the input as a batch of one
        return _dropout(input.unsqueeze(0), p, training, False, True, False).squeeze(0)
    return _dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, L)`` input with probability ``p``."""
    _check_p(p)
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, H, W)`` input with probability ``p``."""
    _check_p(p)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
            "will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
            "instead.",
            stacklevel=2,
        )
        return _dropout(input, p, training, inplace, feature=True, alpha=False)
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an ``(N, C, D, H, W)`` input with probability ``p``."""
    _check_p(p)
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


# -- embeddings ----------------------------------------------------------------------------------
def _check_indices(input: Tensor, name: str) -> None:
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
            "Int; "
            f"but got {input.type()} instead (while checking arguments for {name})"
        )


def _embedding_renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and outside autograd, the looked-up rows whose norm exceeds ``max_norm``."""
    rows = np.unique(input._data.reshape(-1))
    w = weight._data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        weight._bump()


def _padding_index(padding_idx: int | None, num: int) -> int | None:
    if padding_idx is None:
        return None
    if padding_idx >= num or padding_idx < -num:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + num if padding_idx < 0 else padding_idx


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight`` by index; the ``padding_idx`` row gets no gradient.

    Shape:
        input ``(*)`` integer indices, weight ``(num_embeddings, dim)``, output ``(*, dim)``.
    """
    _check_indices(input, "embedding")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return N.Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sum, mean or max of embedding rows over "bags" of indices, without the intermediate embeddings.

    ``input`` is 2-D ``(B, L)`` (each row a bag) or 1-D with ``offsets`` giving where each bag starts.
    """
    _check_indices(input, "embedding_bag")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max")  # noqa: F541
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on the Pytorch GitHub."
        )
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed "
                f"length sequences. However, found offsets of type {type(offsets)}"
            )
        b, length = input.shape
        starts = np.arange(0, b * length, length, dtype=np.int64)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = offsets._data.astype(np.int64)
        if include_last_offset:
            starts = starts[:-1]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    n = input.shape[0]
    pad = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    ends = np.append(starts[1:], n) if not include_last_offset or offsets is None else offsets._data[1:]
    emb = N.Embedding.apply(weight, input, pad, scale_grad_by_freq)  # (n, D)
    idx = input._data
    keep = np.ones(n, dtype=bool) if pad is None else idx != pad
    if mode == "max":
        rows = []
        for s, e in zip(starts, ends, strict=True):
            sel = np.nonzero(keep[s:e])[0] + s
            if sel.size:
                rows.append(emb[_wrap(sel.astype(np.int64))].amax(0))
            else:
                rows.append(emb.new_zeros(weight.shape[1]))
        return stack(rows) if rows else emb.new_zeros(0, weight.shape[1])
    # sum / mean: one (bags x n) averaging matrix times the looked-up rows
    m = np.zeros((len(starts), n), dtype=weight.dtype.np)
    for b, (s, e) in enumerate(zip(starts, ends, strict=True)):
        k = keep[s:e]
        if mode == "mean" and k.any():
            m[b, s:e] = k / k.sum()
        else:
            m[b, s:e] = k
    mat = _wrap(m, weight.dtype, weight.device)
    if per_sample_weights is not None:
        mat = mat * per_sample_weights.unsqueeze(0)
    return mat.mm(emb)


# -- normalisation -------------------------------------------------------------------------------
def _shape_tuple(s) -> tuple:
    return (s,) if isinstance(s, int) else tuple(s)


def _check_normalized_shape(input: Tensor, normalized_shape: tuple) -> None:
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, then scale by ``weight``, shift by ``bias``."""
    shape = _shape_tuple(normalized_shape)
    _check_normalized_shape(input, shape)
    return N.NativeLayerNorm.apply(input, len(shape), weight, bias, eps)


def rms_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the last dims, times ``weight`` (eps defaults to the dtype's eps)."""
    shape = _shape_tuple(normalized_shape)
    _check_normalized_shape(input, shape)
    if eps is None:
        eps = float(np.finfo(input.dtype.np).eps)
    dims = list(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each group of channels of an ``(N, C, *)`` input, then apply per-channel weight and bias."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    if input.shape[1] % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    return N.NativeGroupNorm.apply(input, num_groups, weight, bias, eps)


def _verify_batch_size(size) -> None:
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Per-channel normalisation of ``(N, C, *)``: batch statistics in training (updating the running
    statistics in place), the running statistics otherwise."""
    if training:
        _verify_batch_size(input.shape)
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    return N.NativeBatchNorm.apply(input, weight, bias, running_mean, running_var, training, momentum, eps)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


def _broadcast_pair(a: Tensor, b: Tensor):
    shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    return (a if a.shape == shape else a.expand(shape)), (b if b.shape == shape else b.expand(shape))


def _clamped_min(t: Tensor, eps: float) -> Tensor:
    """max(t, eps) in value, with t's own gradient (PyTorch clamps the norms in place under no_grad)."""
    return t + (t.clamp(min=eps) - t).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim``."""
    if not x1.dtype.is_floating_point:
        x1 = x1.float()
    if not x2.dtype.is_floating_point:
        x2 = x2.float()
    x1, x2 = _broadcast_pair(x1, x2)
    n1 = _clamped_min(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamped_min(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    last = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, last, keepdim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with ``num_classes`` classes (default: max + 1) in a new last dim."""
    if tensor.dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    d = tensor._data
    if d.size and d.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(d.max()) + 1 if d.size else 0
    elif d.size and d.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _wrap(np.eye(num_classes, dtype=np.int64)[d], D.int64, tensor.device)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) pairs from the last dim backwards.

    Modes: ``'constant'`` (negative pads crop), ``'reflect'``, ``'replicate'``, ``'circular'``.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {input.ndim}"
        )
    if mode == "constant":
        return N.ConstantPadNd.apply(input, pad, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    # gather along each padded dim with the index pattern NumPy's pad produces for an arange
    out = input
    for i in range(len(pad) // 2):
        ax = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = input.shape[ax]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {ax} of input {list(input.shape)}"
            )
        idx = np.pad(np.arange(size), (max(lo, 0), max(hi, 0)), mode=_PAD_MODES[mode])
        idx = idx[max(-lo, 0) : len(idx) - max(-hi, 0)]
        out = index_select(out, ax, _wrap(idx.astype(np.int64), D.int64, input.device))
    return out


# -- attention -----------------------------------------------------------------------------------
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q k^T * scale + mask) v, with an optional causal mask and attention dropout.

    Shape:
        query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)``, output ``(..., L, Ev)``.
    """
    length, src = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        heads = _wrap(np.repeat(np.arange(key.shape[-3]), rep).astype(np.int64))
        key = index_select(key, -3, heads)
        value = index_select(value, -3, heads)
    scores = query.matmul(key.transpose(-2, -1)) * scale_factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        causal = _wrap(np.tril(np.ones((length, src), dtype=bool)), D.bool_, query.device)
        scores = scores.masked_fill(~causal, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype is D.bool_:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    attn = N.softmax(scores, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, training=True)
    return attn.matmul(value)


# -- convolution, pooling, resampling (ember/ops/conv.py) and image-layer composites ---------------
from ..ops.conv import (  # noqa: E402, I001 - the conv/pool family lives in ops/conv.py
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool2d,
    adaptive_max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d, conv1d, conv2d, conv3d, conv_transpose1d,
    conv_transpose2d, conv_transpose3d, fold, interpolate, max_pool1d, max_pool2d, max_pool3d, pixel_shuffle,
    pixel_unshuffle, unfold, upsample, upsample_bilinear, upsample_nearest,
)  # fmt: skip
from ._functional_image import (  # noqa: E402
    instance_norm, local_response_norm, lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d,
)  # fmt: skip

__all__ += [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
    "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "unfold", "fold", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "instance_norm", "local_response_norm",
    "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d",
]  # fmt: skip
