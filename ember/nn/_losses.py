# ruff: noqa: A001, A002, PLR0917 - PyTorch's argument names, and its positional signatures
"""The loss functions of ``torch.nn.functional`` (re-exported there)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from .. import dtypes as D
from ..ops import elementwise as E
from ..ops import nn_ops as N
from ..tensor import Tensor
from ._reduction import resolve

_TYPE = {
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
}  # fmt: skip


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
            "same size.",
            stacklevel=3,
        )


def _broadcast(input: Tensor, target: Tensor):
    if input.shape == target.shape:
        return input, target
    from .functional import _broadcast_pair  # noqa: PLC0415

    return _broadcast_pair(input, target)


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str) -> Tensor:
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# -- regression ----------------------------------------------------------------------------------
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error: mean((x - y)^2) (or the sum, or per element)."""
    _warn_size(input, target)
    reduction = resolve(size_average, reduce, reduction)
    input, target = _broadcast(input, target)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction)
    return N.MseLoss.apply(input, target, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error: mean(|x - y|)."""
    _warn_size(input, target)
    reduction = resolve(size_average, reduce, reduction)
    input, target = _broadcast(input, target)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = x - y)."""
    _warn_size(input, target)
    reduction = resolve(size_average, reduce, reduction)
    input, target = _broadcast(input, target)
    if beta == 0.0:
        return _reduce((input - target).abs(), reduction)
    return N.SmoothL1Loss.apply(input, target, reduction, beta)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    _warn_size(input, target)
    reduction = resolve(None, None, reduction)
    input, target = _broadcast(input, target)
    if weight is not None:
        return _weighted(N.HuberLoss.apply(input, target, "none", delta), weight, input, reduction)
    return N.HuberLoss.apply(input, target, reduction, delta)


# -- classification ------------------------------------------------------------------------------
def _check_weight(weight: Tensor | None, n_classes: int) -> None:
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but got "
            "weight "
            f"tensor of shape: {list(weight.shape)}"
        )


def _check_target(input: Tensor, target: Tensor) -> None:
    if target.dtype not in (D.int64, D.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_TYPE.get(target.dtype.name)}"
        )
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim != 1 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
        )
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif tuple(target.shape[1:]) != tuple(input.shape[2:]):
        expected = [input.shape[0], *input.shape[2:]]
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood: -input[n, target[n]] (weighted), for log-probabilities ``input``.

    Shape:
        input ``(C)``, ``(N, C)`` or ``(N, C, d1, ...)``; target ``()``, ``(N)`` or ``(N, d1, ...)``.
    """
    reduction = resolve(size_average, reduce, reduction)
    _check_target(input, target)
    _check_weight(weight, input.shape[0 if input.ndim == 1 else 1])
    return _nll(input, target, weight, reduction, ignore_index)


def _nll(input: Tensor, target: Tensor, weight, reduction: str, ignore_index: int) -> Tensor:
    """The NllLoss node, named as PyTorch names it: inputs of 3+ dims go through the 2-d (spatial) kernel."""
    if input.ndim < 3:
        return N.NllLoss.apply(input, target, weight, reduction, ignore_index)
    if input.ndim == 4 or reduction != "none":
        return N.NllLoss2d.apply(input, target, weight, reduction, ignore_index)
    # other ranks are viewed as (N, C, 1, -1) and the per-element losses viewed back (a ViewBackward0)
    n, c = input.shape[0], input.shape[1]
    flat = N.NllLoss2d.apply(
        input.reshape(n, c, 1, -1), target.reshape(n, 1, -1), weight, reduction, ignore_index
    )
    return flat.view(target.shape)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of unnormalised logits ``input`` against class indices or class probabilities.

    ``target`` holds class indices (shape of ``input`` without the class dim) or, with the same shape as
    ``input``, probabilities. ``label_smoothing`` mixes the target with the uniform distribution.
    """
    reduction = resolve(size_average, reduce, reduction)
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = N.log_softmax(input, class_dim)
    wshape = [1] * input.ndim
    wshape[class_dim] = n_classes
    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{_TYPE.get(target.dtype.name)}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        _check_weight(weight, n_classes)
        if label_smoothing > 0.0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target if weight is None else logp * target * weight.view(wshape)
        if reduction == "mean":
            return -prod.sum() / (input.numel() // n_classes) if input.numel() else -prod.sum() * float("nan")
        if reduction == "sum":
            return -prod.sum()
        return -prod.sum(class_dim)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_target(input, target)
    _check_weight(weight, n_classes)
    nll = _nll(logp, target, weight, reduction, ignore_index)
    if label_smoothing <= 0.0:
        return nll
    # smoothing term: -sum_c logp[c] (weighted), zero at ignored targets
    ignore = target == ignore_index
    smooth = -(logp * weight.view(wshape)).sum(class_dim) if weight is not None else -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            smooth = smooth.sum() / weight[target[~ignore]].sum()
        else:
            smooth = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-w (y log(x) + (1 - y) log(1 - x)) for probabilities ``x`` (logs clamped at -100)."""
    reduction = resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    return N.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y), computed stably from logits; ``pos_weight`` weighs positives."""
    reduction = resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return N.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence y (log y - x) for log-probabilities ``x`` (``log_target``: y is a log)."""
    if size_average is not None or reduce is not None:
        reduction = resolve(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' "
            "divides only by the batch size, and aligns with the KL div math definition.'mean' will be "
            "changed "
            "to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    elif reduction != "batchmean":
        resolve(None, None, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(y, y): 0 where y == 0, with a zero (not NaN) gradient there
        safe = E.where(target == 0, 1.0, target)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log likelihood: exp(x) - y x (``log_input``) or x - y log(x + eps)."""
    reduction = resolve(size_average, reduce, reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        t = E.where(target <= 1, 1.0, target)  # Stirling's term only where y > 1
        stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log likelihood: 0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps))."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.new_ones(input.shape) * var
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            input.ndim == var.ndim
            and sum(v for i, v in zip(input.shape, var.shape, strict=True) if i != v) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var + (var.clamp(min=eps) - var).detach()  # clamped in value, identity gradient (as PyTorch)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- embeddings and ranking ----------------------------------------------------------------------
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    reduction = resolve(size_average, reduce, reduction)
    tdim = target.ndim
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise RuntimeError(
            "1D target tensor expects 2D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    if tdim == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise RuntimeError(
            "0D target tensor expects 1D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12
    prod = (input1 * input2).sum(tdim)
    mag = (((input1 * input1).sum(tdim) + eps) * ((input2 * input2).sum(tdim) + eps)).sqrt()
    cos = prod / mag
    zeros = cos.new_zeros(cos.shape)
    pos = E.where(target == 1, 1 - cos, zeros)
    neg = E.where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin)."""
    reduction = resolve(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """x where y == 1, max(0, margin - x) where y == -1."""
    reduction = resolve(size_average, reduce, reduction)
    zeros = input.new_zeros(input.shape)
    out = E.where(target != 1, (margin - input).clamp(min=0), zeros) + E.where(target != -1, input, zeros)
    return _reduce(out, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm pairwise distance."""
    from .functional import pairwise_distance  # noqa: PLC0415

    reduction = resolve(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(
        anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps), margin, swap, reduction
    )


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (pairwise distance by default)."""
    from .functional import pairwise_distance  # noqa: PLC0415

    reduction = resolve(None, None, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return _triplet(
        anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction
    )


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            "dimensions, but "
            f"got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-mean_c (y log sigmoid(x) + (1 - y) log sigmoid(-x)), per sample."""
    reduction = resolve(size_average, reduce, reduction)
    loss = -(target * N.LogSigmoid.apply(input) + (1 - target) * N.LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-y x))."""
    reduction = resolve(size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)
